// The reference example's end-to-end client scenario (its `client.ts`), run
// against the demo server: two clients, REST and socket events, in order.
// Usage: DEMO_SERVER_BIN=... node e2e-scenario.mjs   (or `cargo xtask e2e`)
// Set SERVER_URL to drive an already running server instead (token `test-token`).
import assert from 'node:assert/strict';
import { startServer, connect, connected, waitFor, eventually } from './harness.mjs';

const TOKEN = 'test-token';
let server;
if (process.env.SERVER_URL) {
  server = { url: process.env.SERVER_URL, stop: async () => {} };
} else {
  server = await startServer({ args: ['--port', '0', '--auth-token', TOKEN] });
}

let step = 0;
async function check(name, fn) {
  step += 1;
  const started = Date.now();
  await fn();
  console.log(`✓ ${step}. ${name} (${Date.now() - started} ms)`);
}

async function rest(method, path, body) {
  const res = await fetch(`${server.url}/api/socket${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${method} ${path}`);
  return res.json();
}

async function client(name, transport) {
  const socket = connect(server, { transport, credentials: 'header', token: TOKEN });
  await connected(socket);
  const auth = waitFor(socket, 'authenticated', 5000);
  socket.emit('authenticate');
  const { id } = await auth;
  assert.equal(id, socket.id, name);
  return socket;
}

let a;
let b;
try {
  await check('connect and authenticate two clients', async () => {
    a = await client('A', 'websocket');
    b = await client('B', 'polling');
  });
  await check('REST health, info, clients', async () => {
    assert.equal((await rest('GET', '/health')).healthy, true);
    const info = await rest('GET', '/info');
    assert.equal(info.status, 'running');
    assert.ok(info.clientIds.includes(a.id) && info.clientIds.includes(b.id));
    assert.ok((await rest('GET', '/clients')).count >= 2);
  });
  await check('echo', async () => {
    const reply = waitFor(a, 'echo:response', 5000);
    a.emit('echo', { message: 'hello echo', ts: Date.now() });
    assert.equal((await reply).original.message, 'hello echo');
  });
  await check('get-clients', async () => {
    const list = waitFor(a, 'clients:list', 5000);
    a.emit('get-clients');
    assert.ok((await list).count >= 2);
  });
  await check('join a room from both clients', async () => {
    for (const s of [a, b]) {
      const ack = await s.timeout(5000).emitWithAck('join', { rooms: ['test-room-socket'] });
      assert.deepEqual(ack.joined, ['test-room-socket']);
    }
  });
  await check('chat broadcast', async () => {
    const got = waitFor(b, 'chat:broadcast', 5000);
    a.emit('chat:message', { message: 'hello everyone via socket' });
    const payload = await got;
    assert.equal(payload.message, 'hello everyone via socket');
    assert.equal(payload.from, a.id);
  });
  await check('chat to a room', async () => {
    const got = waitFor(b, 'chat:message', 5000);
    a.emit('chat:message', { room: 'test-room-socket', message: 'hello room via socket' });
    assert.equal((await got).message, 'hello room via socket');
  });
  await check('leave the room', async () => {
    const ack = await b.timeout(5000).emitWithAck('leave', { rooms: ['test-room-socket'] });
    assert.deepEqual(ack.left, ['test-room-socket']);
  });
  await check('REST join and leave', async () => {
    assert.equal((await rest('POST', `/client/${a.id}/join`, { rooms: ['rest-room-a', 'rest-room-b'] })).success, true);
    let rooms = (await rest('GET', `/client/${a.id}/rooms`)).rooms;
    assert.ok(rooms.includes('rest-room-a') && rooms.includes('rest-room-b'));
    assert.equal((await rest('POST', `/client/${a.id}/leave`, { rooms: ['rest-room-b'] })).success, true);
    rooms = (await rest('GET', `/client/${a.id}/rooms`)).rooms;
    assert.ok(rooms.includes('rest-room-a') && !rooms.includes('rest-room-b'));
  });
  await check('REST send to one client', async () => {
    const got = waitFor(b, 'direct:message', 5000);
    await rest('POST', `/client/${b.id}/send`, { topic: 'direct:message', data: { text: 'hello specific client' } });
    assert.equal((await got).text, 'hello specific client');
  });
  await check('REST send to a room', async () => {
    await rest('POST', `/client/${b.id}/join`, { rooms: ['notify-room'] });
    const got = waitFor(b, 'room:update', 5000);
    await rest('POST', '/room/notify-room/send', { topic: 'room:update', data: { v: 1 } });
    assert.equal((await got).v, 1);
  });
  await check('REST broadcast', async () => {
    const both = [waitFor(a, 'system:announcement', 5000), waitFor(b, 'system:announcement', 5000)];
    await rest('POST', '/broadcast', { topic: 'system:announcement', data: { text: 'hi' } });
    for (const p of await Promise.all(both)) assert.equal(p.text, 'hi');
  });
  await check('disconnect', async () => {
    a.disconnect();
    b.disconnect();
    await eventually(async () => {
      const info = await rest('GET', '/info');
      return !info.clientIds.includes(a.id) && !info.clientIds.includes(b.id);
    }, 'both clients leave the registry');
  });
  console.log(`e2e scenario passed: ${step} steps`);
} catch (e) {
  console.error(`✗ step ${step + 1} failed: ${e.stack ?? e}`);
  if (server.stderr) console.error(`server stderr (tail):\n${server.stderr.slice(-3000)}`);
  process.exitCode = 1;
} finally {
  a?.disconnect();
  b?.disconnect();
  const exit = await server.stop();
  if (exit && exit.code !== 0 && !process.env.SERVER_URL) {
    console.error(`demo-server exited with ${JSON.stringify(exit)}`);
    process.exitCode = 1;
  }
}

// Two demo servers sharing one Redis (`--redis`): sends, chat and broadcasts
// reach clients of the other node; unauthenticated clients still get nothing.
// Needs Redis at REDIS_URL (default redis://127.0.0.1:6379): fails, never skips.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import {
  STANDARD_ARGS, Peers, startServer, waitFor, expectNoEvent, emitWithAck, api, eventually,
  TOKEN,
} from './harness.mjs';

const require = createRequire(import.meta.url);

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// A private channel prefix: other suites share this Redis.
const KEY = `conformance-${randomBytes(6).toString('hex')}`;
// Pinned: these servers must share one Redis and key whatever
// DEMO_SERVER_EXTRA_ARGS says (it may give each server a key of its own).
const cluster = { args: STANDARD_ARGS, pinnedArgs: ['--redis', REDIS_URL, '--redis-key', KEY] };

let first;
let second;
const peers = new Peers();
before(async () => {
  try {
    [first, second] = await Promise.all([
      startServer(cluster),
      startServer(cluster),
    ]);
  } catch (e) {
    throw new Error(`the demo server could not start with Redis at ${REDIS_URL} (is Redis ` +
      `running? set REDIS_URL): ${e.message}`);
  }
});
after(async () => {
  peers.closeAll();
  await Promise.all([first?.stop(), second?.stop()]);
});
afterEach(() => peers.closeAll());

describe('two demo servers on one Redis', () => {
  test('rest_broadcast_reaches_authenticated_clients_of_every_node_only', async () => {
    const a = await peers.authenticated(first, { transport: 'websocket' });
    const b = await peers.authenticated(second, { transport: 'polling' });
    const stranger = await peers.connectedOnly(second, { transport: 'websocket' });
    const atA = waitFor(a, 'cluster:announcement');
    const atB = waitFor(b, 'cluster:announcement');
    const res = await api(first, 'POST', '/api/socket/broadcast',
      { topic: 'cluster:announcement', data: { n: 1 } });
    assert.equal(res.status, 200);
    assert.deepEqual(await atA, { n: 1 });
    assert.deepEqual(await atB, { n: 1 });
    await expectNoEvent(stranger, 'cluster:announcement');
  });

  test('rest_client_send_reaches_a_client_of_the_other_node', async () => {
    const b = await peers.authenticated(second, { transport: 'websocket' });
    const atB = waitFor(b, 'direct:message');
    const res = await api(first, 'POST', `/api/socket/client/${b.id}/send`,
      { topic: 'direct:message', data: 'across nodes' });
    assert.equal(res.status, 200);
    assert.equal(await atB, 'across nodes');
  });

  test('chat_to_a_room_reaches_members_on_the_other_node', async () => {
    const a = await peers.authenticated(first, { transport: 'websocket' });
    const b = await peers.authenticated(second, { transport: 'websocket' });
    const outsider = await peers.authenticated(second, { transport: 'polling' });
    // The sender must be in the room too: chat to a room it did not join is refused.
    await emitWithAck(a, 'join', { rooms: ['public-cluster'] });
    await emitWithAck(b, 'join', { rooms: ['public-cluster'] });
    const atB = waitFor(b, 'chat:message');
    a.emit('chat:message', { room: 'public-cluster', message: 'hello other node' });
    const payload = await atB;
    assert.equal(payload.from, a.id);
    assert.equal(payload.message, 'hello other node');
    await expectNoEvent(outsider, 'chat:message');
  });

  test('chat_broadcast_reaches_both_nodes', async () => {
    const a = await peers.authenticated(first, { transport: 'polling' });
    const b = await peers.authenticated(second, { transport: 'websocket' });
    const atA = waitFor(a, 'chat:broadcast');
    const atB = waitFor(b, 'chat:broadcast');
    a.emit('chat:message', { message: 'everyone, everywhere' });
    assert.equal((await atB).message, 'everyone, everywhere');
    assert.equal((await atA).from, a.id);
  });

  test('falsy_data_crosses_nodes_unchanged', async () => {
    const b = await peers.authenticated(second, { transport: 'websocket' });
    for (const value of [0, false, '', null]) {
      const got = waitFor(b, 'falsy:cluster');
      const res = await api(first, 'POST', '/api/socket/room/io-default/send',
        { topic: 'falsy:cluster', data: value });
      assert.equal(res.status, 200);
      assert.deepEqual(await got, value);
    }
  });

  test('health_reports_healthy_with_redis', async () => {
    for (const server of [first, second]) {
      const res = await api(server, 'GET', '/api/socket/health');
      assert.equal(res.body.healthy, true);
    }
  });

  test('sigterm_with_redis_exits_0', async () => {
    const extra = await startServer(cluster);
    const socket = await peers.authenticated(extra, { transport: 'websocket' });
    const gone = waitFor(socket, 'disconnect');
    const exit = await extra.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, extra.stderr.slice(-2000));
    await gone;
    // The remaining nodes keep serving.
    const b = await peers.authenticated(second, { transport: 'websocket' });
    await eventually(async () => (await api(second, 'GET', '/api/socket/health')).body.healthy,
      'second node healthy');
    assert.equal(b.connected, true);
  });
});

describe('a Node socket.io server with @socket.io/redis-adapter on the same key', () => {
  test('fetch_sockets_shows_a_demo_server_socket_with_its_handshake_and_identity', async () => {
    const { Server } = require('socket.io');
    const { createAdapter } = require('@socket.io/redis-adapter');
    const { Redis } = require('ioredis');
    const pub = new Redis(REDIS_URL);
    const sub = pub.duplicate();
    const http = createServer();
    const io = new Server(http, { adapter: createAdapter(pub, sub, { key: KEY, requestsTimeout: 5000 }) });
    try {
      await new Promise((r) => http.listen(0, '127.0.0.1', r));
      // Until Node's subscriptions are in place (both demo servers and Node).
      await eventually(async () => (await pub.pubsub('NUMSUB', `${KEY}-request#/#`))[1] >= 3,
        'the Node server subscribed');
      const socket = await peers.authenticated(first, { transport: 'websocket' });
      let remote;
      // The component publishes the identity once the client authenticated.
      await eventually(async () => {
        [remote] = await io.in(socket.id).fetchSockets();
        return remote?.data?.identity !== undefined;
      }, 'Node sees the socket with its identity');
      assert.equal(remote.id, socket.id);
      assert.equal(remote.handshake.auth?.token, TOKEN);
      assert.equal(remote.handshake.query?.EIO, '4');
      assert.equal(remote.handshake.query?.transport, 'websocket');
      assert.equal(remote.handshake.address, '127.0.0.1');
      assert.equal(remote.data.identity.id, 'demo-user');
    } finally {
      io.close();
      await Promise.allSettled([pub.quit(), sub.quit()]);
    }
  });
});

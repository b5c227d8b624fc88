// emitter-worker against a real demo-server on the shared Redis: the worker
// runs no Socket.IO server, only publishes through RedisEmitter, and the demo
// server's clients receive what it publishes, to a room or to everyone
// authenticated. Each run uses its own random Redis key prefix.
//
// Run: node --test testing/node/worker/   (needs `cargo build -p ignis-socketio-examples
// --bin demo-server --bin emitter-worker`, `npm ci --prefix testing/node`, and Redis at
// REDIS_URL, default redis://127.0.0.1:6379).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { binaryPath, startReady } from '../browser/spawn-ready.mjs';

let ioClient;
try {
  ({ io: ioClient } = await import('socket.io-client'));
} catch (error) {
  throw new Error(`socket.io-client is missing: run \`npm ci --prefix testing/node\` (${error.message})`);
}

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const KEY = `ignis-worker-test-${randomBytes(6).toString('hex')}`;
const WAIT_MS = 10_000;

let server;
let workerBin;
const sockets = [];

before(async () => {
  workerBin = binaryPath('emitter-worker', 'EMITTER_WORKER_BIN');
  server = await startReady(binaryPath('demo-server', 'DEMO_SERVER_BIN'),
    ['--port', '0', '--redis', REDIS_URL, '--redis-key', KEY, '--auth-timeout-ms', '60000']);
});

after(async () => {
  for (const socket of sockets) socket.disconnect();
  const result = await server?.stop();
  if (result) assert.equal(result.code, 0, `demo-server did not exit 0: ${server.stderr()}`);
});

/** Runs the worker on the test's Redis key; resolves {code, stdout, stderr}. */
function runWorker(args, { redis = REDIS_URL, key = KEY } = {}) {
  return new Promise((resolve) => {
    execFile(workerBin, ['--redis', redis, '--key', key, ...args], { timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

async function runWorkerOk(args) {
  const result = await runWorker(args);
  assert.equal(result.code, 0, `emitter-worker failed: ${result.stderr}`);
  return result;
}

/** A socket.io-client socket that records every event it receives. */
function connect() {
  const socket = ioClient(server.url, { path: '/io', transports: ['websocket'], auth: {}, reconnection: false });
  sockets.push(socket);
  socket.received = [];
  socket.onAny((event, ...args) => socket.received.push({ event, args }));
  return socket;
}

function once(socket, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${WAIT_MS} ms`)), WAIT_MS);
    socket.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

/** Waits until `socket` has received `count` events named `event`; returns their first arguments. */
async function received(socket, event, count = 1) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const hits = socket.received.filter((r) => r.event === event).map((r) => r.args[0]);
    if (hits.length >= count) return hits;
    if (Date.now() > deadline) throw new Error(`${hits.length} of ${count} ${event} events within ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function connectAuthenticated() {
  const socket = connect();
  await once(socket, 'connect');
  const authenticated = once(socket, 'authenticated');
  socket.emit('authenticate');
  await authenticated;
  return socket;
}

async function connectUnauthenticated() {
  const socket = connect();
  await once(socket, 'connect');
  return socket;
}

const names = (socket, event) => socket.received.filter((r) => r.event === event);

test('the worker reaches the clients of a room, and only them', async () => {
  const member = await connectAuthenticated();
  const outsider = await connectAuthenticated();
  const ack = await member.timeout(WAIT_MS).emitWithAck('join', { rooms: ['worker-room'] });
  assert.ok(ack.joined.includes('worker-room'), `join refused: ${JSON.stringify(ack)}`);

  const { stdout } = await runWorkerOk(['--room', 'worker-room', '--topic', 'worker:alert',
    '--data', '{"level":"info","n":[1,2]}', '--count', '2', '--interval-ms', '50']);
  assert.match(stdout, /published "worker:alert" 2 time\(s\) to room\(s\) worker-room/);
  assert.deepEqual(await received(member, 'worker:alert', 2),
    [{ level: 'info', n: [1, 2] }, { level: 'info', n: [1, 2] }]);

  // A later publication reaches the outsider, so the room's events had their
  // chance to reach it before: they must not have.
  await runWorkerOk(['--room', outsider.id, '--topic', 'worker:marker']);
  await received(outsider, 'worker:marker');
  assert.equal(names(outsider, 'worker:alert').length, 0);
});

test('a room or data starting with a dash is a value, not a flag (socket ids may start with one)', async () => {
  const member = await connectAuthenticated();
  const ack = await member.timeout(WAIT_MS).emitWithAck('join', { rooms: ['-dash-room'] });
  assert.ok(ack.joined.includes('-dash-room'), `join refused: ${JSON.stringify(ack)}`);
  await runWorkerOk(['--room', '-dash-room', '--topic', 'worker:dash', '--data', '-5']);
  assert.deepEqual(await received(member, 'worker:dash'), [-5]);
});

test('without a room the worker reaches every authenticated client, not the unauthenticated ones', async () => {
  const first = await connectAuthenticated();
  const second = await connectAuthenticated();
  const waiting = await connectUnauthenticated();

  await runWorkerOk(['--topic', 'worker:everyone', '--data', '"hello"']);
  assert.deepEqual(await received(first, 'worker:everyone'), ['hello']);
  assert.deepEqual(await received(second, 'worker:everyone'), ['hello']);

  // The unauthenticated socket is in its own id room; a later publication
  // there reaches it, and the broadcast before it must not have.
  await runWorkerOk(['--room', waiting.id, '--topic', 'worker:marker']);
  await received(waiting, 'worker:marker');
  assert.equal(names(waiting, 'worker:everyone').length, 0);
});

test('a worker on another key prefix reaches nobody here', async () => {
  const socket = await connectAuthenticated();
  const other = await runWorker(['--topic', 'worker:elsewhere'], { key: `${KEY}-other` });
  assert.equal(other.code, 0, other.stderr);
  await runWorkerOk(['--room', socket.id, '--topic', 'worker:marker']);
  await received(socket, 'worker:marker');
  assert.equal(names(socket, 'worker:elsewhere').length, 0);
});

test('an unreachable Redis makes the worker exit 1 with the reason', async () => {
  // A port nothing listens on: bound, then released.
  const port = await new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const result = await runWorker(['--topic', 'x', '--connect-timeout-ms', '500'],
    { redis: `redis://127.0.0.1:${port}` });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /emitter-worker: Redis at redis:\/\/127\.0\.0\.1:\d+ not reachable/);
  assert.equal(result.stdout, '');
});

test('a reserved topic or invalid JSON data is refused without publishing', async () => {
  const reserved = await runWorker(['--topic', 'disconnect']);
  assert.equal(reserved.code, 1);
  assert.match(reserved.stderr, /"disconnect" is a reserved event name/);
  const badJson = await runWorker(['--topic', 'x', '--data', '{oops']);
  assert.notEqual(badJson.code, 0);
  assert.match(badJson.stderr, /not valid JSON/);
});

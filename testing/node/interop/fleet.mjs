// The mixed fleet of the interop suite: a private Redis, the Rust
// demo server and the Node reference server on it, real socket.io-client
// peers, the REST control plane, a Node emitter and a plain Node socket.io
// server with @socket.io/redis-adapter, all on 127.0.0.1.
//
// Nothing here builds anything:
// - DEMO_SERVER_BIN: path of the demo-server binary. Default: the first that
//   exists of $CARGO_TARGET_DIR/{release,debug}/demo-server and
//   <repo>/target/{release,debug}/demo-server. Build it with
//   `cargo build -p ignis-socketio-examples --bin demo-server`.
// - REDIS_SERVER_BIN: the redis-server used for the private Redis (default
//   `redis-server` on PATH). The shared Redis at 6379 is never touched.
// - INTEROP_LOG_DIR: when set, the servers' stderr/stdout go to files there.
// - PER_MESSAGE_DEFLATE=true: every server compresses (permessage-deflate):
//   the Rust demo server with --per-message-deflate, the Node servers with
//   the reference's perMessageDeflate settings. The Node clients offer it
//   either way (socket.io-client's default).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { REFERENCE_PER_MESSAGE_DEFLATE, perMessageDeflateFromEnv } from '../reference-deflate.mjs';

const require = createRequire(import.meta.url);
function need(name) {
  try {
    return require(name);
  } catch (e) {
    throw new Error(`${name} is missing: run \`npm ci --prefix testing/node\` first (${e.message})`);
  }
}
const { io: ioClient } = need('socket.io-client');
const { Server: NodeIoServer } = need('socket.io');
const { createAdapter } = need('@socket.io/redis-adapter');
const { Emitter } = need('@socket.io/redis-emitter');
const { Redis } = need('ioredis');

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const REFERENCE_SERVER = join(REPO_ROOT, 'testing', 'node', 'bench', 'reference-server.mjs');
export const TOKEN = 'secret';
export const ROOM_PREFIX = 'public-';
export const IO_PATH = '/io';
/** Both demo servers run with these flags (plus --port 0 and --redis). */
export const COMMON_ARGS = [
  '--auth-token', TOKEN,
  '--room-prefix', ROOM_PREFIX,
  '--auth-timeout-ms', '20000',
  '--ping-interval-ms', '30000',
];
/** Whether every server of the fleet compresses (PER_MESSAGE_DEFLATE=true). */
export const DEFLATE = perMessageDeflateFromEnv();
const DEFLATE_ARGS = DEFLATE ? ['--per-message-deflate'] : [];

/** How long to wait for something that must happen. Generous: the machine is shared. */
export const EVENT_TIMEOUT_MS = 8000;
/** How long to watch for something that must not happen. */
export const QUIET_MS = 700;

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** The demo-server binary (see the header). Fails loudly when there is none. */
export function demoServerBin() {
  const explicit = process.env.DEMO_SERVER_BIN;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`DEMO_SERVER_BIN=${explicit} does not exist`);
    return explicit;
  }
  const candidates = [];
  if (process.env.CARGO_TARGET_DIR) {
    candidates.push(join(process.env.CARGO_TARGET_DIR, 'release', 'demo-server'));
    candidates.push(join(process.env.CARGO_TARGET_DIR, 'debug', 'demo-server'));
  }
  candidates.push(join(REPO_ROOT, 'target', 'release', 'demo-server'));
  candidates.push(join(REPO_ROOT, 'target', 'debug', 'demo-server'));
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new Error(
      'no demo-server binary: build it with `cargo build -p ignis-socketio-examples --bin ' +
        `demo-server\` and/or set DEMO_SERVER_BIN (looked at ${candidates.join(', ')})`,
    );
  }
  return found;
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const s = createNetServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}

function logSink(name, child) {
  const dir = process.env.INTEROP_LOG_DIR;
  return dir ? createWriteStream(join(dir, `${name}-${process.pid}-${child.pid}.log`)) : undefined;
}

/**
 * Spawns a process and resolves once `readyPattern` matches its stdout.
 * Returns {child, port (first capture group, if any), output(), stop()}.
 */
async function spawnUntilReady(name, cmd, args, { cwd, env, readyPattern, timeoutMs = 30_000 }) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { name, child, stdout: '', stderr: '' };
  const exit = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const sink = logSink(name, child);
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  const keep = (key, d) => {
    sink?.write(d);
    proc[key] += d;
    if (proc[key].length > 200_000) proc[key] = proc[key].slice(-100_000);
  };
  child.stderr.on('data', (d) => keep('stderr', d));
  const match = await new Promise((resolveMatch, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name}: not ready within ${timeoutMs} ms\n${proc.output()}`)),
      timeoutMs,
    );
    proc.output = () => `--- ${name} stdout ---\n${proc.stdout.slice(-4000)}\n--- ${name} stderr ---\n` +
      proc.stderr.slice(-4000);
    child.on('error', (e) => { clearTimeout(timer); reject(new Error(`${name}: ${e.message}`)); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited early (${code ?? signal})\n${proc.output()}`));
    });
    child.stdout.on('data', (d) => {
      keep('stdout', d);
      const m = readyPattern.exec(proc.stdout);
      if (m) { clearTimeout(timer); resolveMatch(m); }
    });
  });
  proc.port = match[1] === undefined ? undefined : Number(match[1]);
  proc.exited = () => child.exitCode !== null || child.signalCode !== null;
  proc.stop = async () => {
    if (!proc.exited()) child.kill('SIGTERM');
    const killer = setTimeout(() => { if (!proc.exited()) child.kill('SIGKILL'); }, 10_000);
    const result = await exit;
    clearTimeout(killer);
    return result;
  };
  // Never leave a child behind if the test process dies.
  process.once('exit', () => { if (!proc.exited()) child.kill('SIGKILL'); });
  return proc;
}

/** A private redis-server on `port` (no persistence). */
export async function startRedisOnPort(port) {
  const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const proc = await spawnUntilReady('redis', bin, [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
  ], { readyPattern: /Ready to accept connections/, timeoutMs: 15_000 });
  proc.port = port;
  proc.url = `redis://127.0.0.1:${port}`;
  return proc;
}

/** A private redis-server on a free port (no persistence). */
export async function startPrivateRedis() {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await startRedisOnPort(await freePort());
    } catch (e) {
      lastError = e;
    }
  }
  throw new Error(`could not start a private redis-server (is it installed? set REDIS_SERVER_BIN): ${lastError.message}`);
}

/** The Rust demo server (docs/demo-server.md) on `redisUrl`. */
export async function startRustServer(redisUrl, extraArgs = []) {
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' };
  for (const k of ['PORT', 'IO_PATH', 'REDIS_URL', 'REDIS_KEY', 'AUTH_TOKEN', 'AUTH_TIMEOUT_MS',
    'PING_INTERVAL_MS', 'ROOM_PREFIX', 'PER_MESSAGE_DEFLATE']) delete env[k];
  const proc = await spawnUntilReady('rust-demo-server', demoServerBin(),
    ['--port', '0', '--redis', redisUrl, ...COMMON_ARGS, ...DEFLATE_ARGS, ...extraArgs],
    { env, readyPattern: /^READY (\d+)$/m });
  proc.url = `http://127.0.0.1:${proc.port}`;
  proc.label = 'rust';
  return proc;
}

/** The Node reference server (testing/node/bench/reference-server.mjs) on `redisUrl`. */
export async function startReferenceServer(redisUrl) {
  if (!existsSync(REFERENCE_SERVER)) throw new Error(`${REFERENCE_SERVER} is missing`);
  // Its logger writes files into the working directory: give it a temp one.
  const cwd = mkdtempSync(join(tmpdir(), 'interop-reference-'));
  const env = { ...process.env };
  for (const k of ['PORT', 'IO_PATH', 'REDIS_URL', 'AUTH_TOKEN', 'AUTH_TIMEOUT_MS',
    'PING_INTERVAL_MS', 'ROOM_PREFIX']) delete env[k];
  const proc = await spawnUntilReady('node-reference-server', process.execPath,
    [REFERENCE_SERVER, '--port', '0', '--redis', redisUrl, ...COMMON_ARGS, ...DEFLATE_ARGS],
    { cwd, env, readyPattern: /^READY (\d+)$/m });
  proc.url = `http://127.0.0.1:${proc.port}`;
  proc.label = 'node';
  const stop = proc.stop;
  proc.stop = async () => {
    const r = await stop();
    rmSync(cwd, { recursive: true, force: true });
    return r;
  };
  return proc;
}

/**
 * A plain Node socket.io 4.8 server with @socket.io/redis-adapter 8.3, in this
 * process, on `redisUrl` (default key "socket.io", like both demo servers).
 */
export async function startPlainNodeServer(redisUrl) {
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  const http = createHttpServer();
  const io = new NodeIoServer(http, {
    path: IO_PATH,
    adapter: createAdapter(pub, sub, { requestsTimeout: 5000 }),
    perMessageDeflate: DEFLATE ? { ...REFERENCE_PER_MESSAGE_DEFLATE } : false,
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  // Wait until its subscriptions are in place (it counts itself in NUMSUB).
  const deadline = Date.now() + EVENT_TIMEOUT_MS;
  for (;;) {
    const [, n] = await pub.pubsub('NUMSUB', 'socket.io-request#/#');
    if (n >= 1 && sub.status === 'ready') break;
    if (Date.now() > deadline) throw new Error('the plain Node server never subscribed');
    await sleep(50);
  }
  return {
    io,
    pub,
    url: `http://127.0.0.1:${http.address().port}`,
    label: 'plain-node',
    async stop() {
      io.close();
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}

/** A Node @socket.io/redis-emitter 5.1 on its own ioredis connection. */
export function startEmitter(redisUrl) {
  const redis = new Redis(redisUrl);
  const emitter = new Emitter(redis);
  return { emitter, redis, stop: () => redis.quit().catch(() => {}) };
}

/** A socket.io-client 4.8 socket to `server`, not yet authenticated. */
export function connect(server, { transport = 'websocket', token = TOKEN } = {}) {
  const opts = {
    path: IO_PATH,
    transports: [transport],
    reconnection: false,
    forceNew: true,
    timeout: EVENT_TIMEOUT_MS,
  };
  if (token !== undefined) opts.auth = { token };
  const socket = ioClient(server.url, opts);
  socket.server = server;
  socket.received = [];
  socket.onAny((event, ...args) => socket.received.push({ event, args }));
  return socket;
}

/** The extensions a websocket client's connection agreed on ('' for none). */
export function wsExtensions(socket) {
  return socket.io?.engine?.transport?.ws?.extensions ?? '';
}

/** Resolves on `connect`, rejects on `connect_error` or a timeout. */
export function connected(socket, timeoutMs = EVENT_TIMEOUT_MS) {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolveConnect, reject) => {
    const timer = setTimeout(() => done(new Error(`no connect within ${timeoutMs} ms`)), timeoutMs);
    const onConnect = () => done();
    const onError = (e) => done(new Error(`connect_error: ${e.message}`));
    function done(err) {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('connect_error', onError);
      if (err) reject(err); else resolveConnect();
    }
    socket.on('connect', onConnect);
    socket.on('connect_error', onError);
  });
}

/** What a socket saw, for failure messages. */
export function describeSocket(socket) {
  const seen = (socket.received ?? []).map((e) => e.event);
  return `(${socket.server?.label ?? '?'} socket ${socket.id ?? '?'}: connected=${socket.connected}, ` +
    `transport=${socket.io?.engine?.transport?.name ?? '-'}, saw [${seen.join(', ')}])`;
}

/** Resolves with the first payload of the next `event` whose payload satisfies `pred`. */
export function waitFor(socket, event, pred = () => true, timeoutMs = EVENT_TIMEOUT_MS) {
  return new Promise((resolveEvent, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}" ${describeSocket(socket)}`));
    }, timeoutMs);
    function handler(...args) {
      if (!pred(args[0])) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolveEvent(args[0]);
    }
    socket.on(event, handler);
  });
}

/** Fails if `event` (matching `pred`) arrives on `socket` within `ms`. */
export async function expectNoEvent(socket, event, pred = () => true, ms = QUIET_MS) {
  const seen = [];
  const handler = (payload) => { if (pred(payload)) seen.push(payload); };
  socket.on(event, handler);
  await sleep(ms);
  socket.off(event, handler);
  assert.deepEqual(seen, [], `"${event}" must not arrive at ${describeSocket(socket)}, got ${JSON.stringify(seen)}`);
}

/** Resolves with the `disconnect` reason of `socket`. */
export function disconnectReason(socket, timeoutMs = EVENT_TIMEOUT_MS) {
  return new Promise((resolveReason, reject) => {
    if (!socket.connected) { resolveReason('already disconnected'); return; }
    const timer = setTimeout(
      () => reject(new Error(`no disconnect within ${timeoutMs} ms ${describeSocket(socket)}`)), timeoutMs);
    socket.once('disconnect', (reason) => { clearTimeout(timer); resolveReason(reason); });
  });
}

/** Calls the REST control plane; resolves with {status, body, text}. */
export async function api(server, method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(server.url + path, init);
  const text = await res.text();
  let parsed;
  try { parsed = text.length ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  return { status: res.status, body: parsed, text };
}

/** A REST send that must answer 200 {success:true}. */
export async function apiOk(server, method, path, body) {
  const res = await api(server, method, path, body);
  assert.equal(res.status, 200, `${server.label} ${method} ${path}: ${res.status} ${res.text}`);
  assert.equal(res.body?.success, true, `${server.label} ${method} ${path}: ${res.text}`);
  return res.body;
}

/** The rooms of client `id` as the server that holds it reports them (sorted). */
export async function roomsOf(server, id) {
  const res = await api(server, 'GET', `/api/socket/client/${encodeURIComponent(id)}/rooms`);
  assert.equal(res.status, 200, `${server.label} rooms of ${id}: ${res.text}`);
  assert.equal(res.body.success, true, `${server.label} rooms of ${id}: ${res.text}`);
  return [...res.body.rooms].sort();
}

/** Polls `check` until it returns true; `what` (a string or a function) explains a failure. */
export async function eventually(check, what, timeoutMs = EVENT_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const said = typeof what === 'function' ? what() : what;
      throw new Error(`never became true within ${timeoutMs} ms: ${said}${last ? ` (last error: ${last.message})` : ''}`);
    }
    await sleep(50);
  }
}

/** Polls the holder's REST rooms of `id` until `pred(rooms)` holds; returns them. */
export async function roomsEventually(server, id, pred, what) {
  let rooms;
  await eventually(async () => {
    rooms = await roomsOf(server, id);
    return pred(rooms);
  }, () => `${what}; last rooms on ${server.label}: ${JSON.stringify(rooms)}`);
  return rooms;
}

/** Connects, authenticates (auth.token + `authenticate`) and waits for `authenticated`. */
export async function authenticated(server, options = {}) {
  const socket = connect(server, options);
  await connected(socket);
  const auth = waitFor(socket, 'authenticated');
  socket.emit('authenticate');
  const payload = await auth;
  assert.equal(payload.id, socket.id, `authenticated id on ${server.label}`);
  return socket;
}

/** Tracks the sockets of a test so that they are always closed afterwards. */
export class Peers {
  constructor() { this.sockets = []; }
  track(socket) { this.sockets.push(socket); return socket; }
  async authenticated(server, options) {
    const socket = connect(server, options);
    this.track(socket);
    await connected(socket);
    const auth = waitFor(socket, 'authenticated');
    socket.emit('authenticate');
    const payload = await auth;
    assert.equal(payload.id, socket.id, `authenticated id on ${server.label}`);
    return socket;
  }
  async connectedOnly(server, options) {
    const socket = this.track(connect(server, options));
    await connected(socket);
    return socket;
  }
  closeAll() {
    for (const s of this.sockets) s.disconnect();
    this.sockets = [];
  }
}

/** Asks a client's server to put it into `rooms` (client `join` event) and waits until it did. */
export async function joinRooms(socket, rooms) {
  socket.emit('join', { rooms });
  return roomsEventually(socket.server, socket.id, (rs) => rooms.every((r) => rs.includes(r)),
    `${socket.server.label} client ${socket.id} joins ${rooms.join(',')}`);
}

/** A room name unique to this run (keeps tests apart on one Redis). */
let roomCounter = 0;
export function uniqueRoom(tag) {
  roomCounter += 1;
  return `${ROOM_PREFIX}${tag}-${process.pid}-${roomCounter}`;
}

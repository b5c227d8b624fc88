// Shared pieces of the demo-server conformance suite: start the binary, connect
// real socket.io-client peers, wait for events, call the REST control plane.
//
// The binary comes from DEMO_SERVER_BIN (set by `cargo xtask interop`).
// DEMO_SERVER_EXTRA_ARGS (whitespace-separated) is appended to the arguments
// of every server the suite starts (the demo server lets a repeated flag's last
// value win), e.g. to run the whole suite on Redis:
//   DEMO_SERVER_EXTRA_ARGS="--redis redis://127.0.0.1:6379 --redis-key conf-123"
// `{server}` in it is replaced by a token unique to each server started, e.g.
// `--redis-key conf-{server}` keeps every server a single node even when test
// files run in parallel.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
let ioClient;
try {
  ioClient = require('socket.io-client').io;
} catch (e) {
  throw new Error(
    'socket.io-client is missing: run `npm ci --prefix testing/node` first (' + e.message + ')',
  );
}

export const TRANSPORTS = ['polling', 'websocket'];
export const TOKEN = 'secret';
export const AUTH_TIMEOUT_MS = 1500;
export const PING_INTERVAL_MS = 1000;
export const ROOM_PREFIX = 'public-';
/** The flags every suite starts the server with (docs/demo-server.md "Process"). */
export const STANDARD_ARGS = [
  '--port', '0',
  '--auth-token', TOKEN,
  '--auth-timeout-ms', String(AUTH_TIMEOUT_MS),
  '--ping-interval-ms', String(PING_INTERVAL_MS),
  '--room-prefix', ROOM_PREFIX,
];
/** ISO-8601 UTC with milliseconds, like 2026-11-25T08:00:00.000Z. */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** How long to wait for something that must happen. Generous: the machine is shared. */
export const EVENT_TIMEOUT_MS = 8000;
/** How long to watch for something that must not happen. */
export const QUIET_MS = 600;

export function demoServerBin() {
  const bin = process.env.DEMO_SERVER_BIN;
  if (!bin) {
    throw new Error(
      'DEMO_SERVER_BIN is not set: run the suite with `cargo xtask interop`, or build the ' +
        'demo server and set DEMO_SERVER_BIN to its path',
    );
  }
  if (!existsSync(bin)) throw new Error(`DEMO_SERVER_BIN=${bin} does not exist`);
  return bin;
}

/**
 * The client-cli binary: CLIENT_CLI_BIN (set by `cargo xtask interop`), else
 * `client-cli` next to DEMO_SERVER_BIN (cargo builds both into one directory).
 */
export function clientCliBin() {
  const explicit = process.env.CLIENT_CLI_BIN;
  const bin = explicit || join(dirname(demoServerBin()), 'client-cli');
  if (!existsSync(bin)) {
    throw new Error(
      `${explicit ? 'CLIENT_CLI_BIN=' : ''}${bin} does not exist: run the suite with ` +
        '`cargo xtask interop`, or build it (`cargo build -p ignis-socketio-examples --bin ' +
        'client-cli`) and set CLIENT_CLI_BIN to its path',
    );
  }
  return bin;
}

let serversStarted = 0;

/**
 * DEMO_SERVER_EXTRA_ARGS split on whitespace (no quoting: values cannot contain
 * spaces), `{server}` replaced by `serverToken`.
 */
export function extraServerArgs(serverToken = `${process.pid}-${serversStarted}`) {
  return (process.env.DEMO_SERVER_EXTRA_ARGS ?? '')
    .split(/\s+/)
    .filter((a) => a.length > 0)
    .map((a) => a.replaceAll('{server}', serverToken));
}

/**
 * Starts the demo server and resolves once it printed `READY <port>`.
 * Options: args (default STANDARD_ARGS), env (added to a clean environment),
 * pinnedArgs (appended last, after DEMO_SERVER_EXTRA_ARGS: flags a test needs
 * whatever the extra arguments say, e.g. two servers sharing one Redis key).
 * DEMO_SERVER_EXTRA_ARGS goes between the two, so it wins over `args`.
 * Its stderr is kept (tail) and, when DEMO_SERVER_LOG_DIR is set, written there;
 * RUST_LOG (default `warn`) sets its log level.
 */
export async function startServer({ args = STANDARD_ARGS, env = {}, pinnedArgs = [] } = {}) {
  const bin = demoServerBin();
  const cleanEnv = { ...process.env };
  for (const key of ['PORT', 'IO_PATH', 'REDIS_URL', 'REDIS_KEY', 'AUTH_TOKEN', 'AUTH_TIMEOUT_MS',
    'PING_INTERVAL_MS', 'ROOM_PREFIX', 'CORS_ORIGIN', 'METRICS']) delete cleanEnv[key];
  serversStarted += 1;
  const child = spawn(bin, [...args, ...extraServerArgs(), ...pinnedArgs], {
    env: { RUST_LOG: 'warn', ...cleanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = {
    child,
    stdout: '',
    stderr: '',
    port: undefined,
    exit: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  const logDir = process.env.DEMO_SERVER_LOG_DIR;
  const logFile = logDir
    ? createWriteStream(join(logDir, `demo-server-${process.pid}-${child.pid}.log`))
    : undefined;
  child.stderr.on('data', (d) => {
    logFile?.write(d);
    server.stderr += d;
    if (server.stderr.length > 200_000) server.stderr = server.stderr.slice(-100_000);
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no READY line within 30 s; stderr:\n${server.stderr}`)),
      30_000,
    );
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`demo-server exited early (${code ?? signal}); stderr:\n${server.stderr}`));
    });
    child.stdout.on('data', (d) => {
      server.stdout += d;
      const m = /^READY (\d+)$/m.exec(server.stdout);
      if (m && server.port === undefined) {
        server.port = Number(m[1]);
        clearTimeout(timer);
        resolve();
      }
    });
  });
  server.url = `http://127.0.0.1:${server.port}`;
  server.stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const result = await server.exit;
    clearTimeout(killer);
    return result;
  };
  return server;
}

/**
 * A socket.io-client socket to the server, not yet authenticated.
 * credentials: 'auth' (handshake auth.token), 'header' (authorization: Bearer), or 'none'.
 * headers: further HTTP headers sent with the handshake (e.g. a second credential).
 */
export function connect(server, { transport = 'websocket', credentials = 'auth', token = TOKEN,
  path = '/io', headers = {} } = {}) {
  const opts = {
    path,
    transports: [transport],
    reconnection: false,
    forceNew: true,
    timeout: EVENT_TIMEOUT_MS,
  };
  if (credentials === 'auth') opts.auth = { token };
  opts.extraHeaders = { ...headers };
  if (credentials === 'header') opts.extraHeaders.authorization = `Bearer ${token}`;
  const socket = ioClient(server.url, opts);
  socket.received = [];
  socket.onAny((event, ...args) => socket.received.push({ event, args }));
  return socket;
}

/** Resolves with the first payload of the next `event` on `socket`, or rejects after a timeout. */
export function waitFor(socket, event, timeoutMs = EVENT_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}" ${describeSocket(socket)}`));
    }, timeoutMs);
    function handler(...args) {
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(args[0]);
    }
    socket.on(event, handler);
  });
}

/** What a socket saw, for failure messages. */
export function describeSocket(socket) {
  const seen = (socket.received ?? []).map((e) => e.event);
  return `(socket ${socket.id ?? '?'}: connected=${socket.connected}, ` +
    `transport=${socket.io?.engine?.transport?.name ?? '-'}, saw [${seen.join(', ')}])`;
}

/** Resolves with the payload of the first `event` whose payload satisfies `pred`. */
export function waitForMatching(socket, event, pred, timeoutMs = EVENT_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a matching "${event}"`));
    }, timeoutMs);
    function handler(payload) {
      if (!pred(payload)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(payload);
    }
    socket.on(event, handler);
  });
}

/** Fails if `event` arrives on `socket` within `ms`. */
export async function expectNoEvent(socket, event, ms = QUIET_MS) {
  const seen = [];
  const handler = (payload) => seen.push(payload);
  socket.on(event, handler);
  await sleep(ms);
  socket.off(event, handler);
  assert.deepEqual(seen, [], `"${event}" must not arrive, got ${JSON.stringify(seen)}`);
}

/** Emits and resolves with the acknowledgement (rejects after a timeout). */
export function emitWithAck(socket, event, ...args) {
  return socket.timeout(EVENT_TIMEOUT_MS).emitWithAck(event, ...args);
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Connects, emits `authenticate` and resolves once `authenticated` arrived. */
export async function authenticated(server, options = {}) {
  const socket = connect(server, options);
  await connected(socket);
  const auth = waitFor(socket, 'authenticated');
  socket.emit('authenticate');
  const payload = await auth;
  assert.equal(payload.id, socket.id);
  return socket;
}

/** Connected but never authenticated (it must be told apart from authenticated peers). */
export async function connectedOnly(server, options = {}) {
  const socket = connect(server, options);
  await connected(socket);
  return socket;
}

/** Resolves on `connect`, rejects on `connect_error` or a timeout. */
export function connected(socket, timeoutMs = EVENT_TIMEOUT_MS) {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no connect within ${timeoutMs} ms`)), timeoutMs);
    const onConnect = () => done();
    const onError = (e) => done(new Error(`connect_error: ${e.message}`));
    function done(err) {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('connect_error', onError);
      if (err) reject(err); else resolve();
    }
    socket.on('connect', onConnect);
    socket.on('connect_error', onError);
  });
}

/** Calls the REST control plane; resolves with {status, body, text, headers}. */
export async function api(server, method, path, body, { raw = false, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = raw ? body : JSON.stringify(body);
    if (!('content-type' in init.headers)) init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(server.url + path, init);
  const text = await res.text();
  let parsed;
  try { parsed = text.length ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** The rooms of client `id` as the server reports them (GET /api/socket/client/:id/rooms). */
export async function roomsOf(server, id) {
  const res = await api(server, 'GET', `/api/socket/client/${encodeURIComponent(id)}/rooms`);
  assert.equal(res.status, 200);
  assert.equal(res.body.success, true, `rooms of ${id}: ${res.text}`);
  return [...res.body.rooms].sort();
}

/** Polls `check` until it returns true (for state that settles asynchronously, e.g. after a disconnect). */
export async function eventually(check, what, timeoutMs = EVENT_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`never became true: ${what}`);
    await sleep(50);
  }
}

/** Tracks sockets of a test so that they are always closed afterwards. */
export class Peers {
  constructor() { this.sockets = []; }
  track(socket) { this.sockets.push(socket); return socket; }
  async authenticated(server, options) {
    return this.track(await authenticated(server, options));
  }
  async connectedOnly(server, options) {
    return this.track(await connectedOnly(server, options));
  }
  connect(server, options) { return this.track(connect(server, options)); }
  closeAll() {
    for (const s of this.sockets) s.disconnect();
    this.sockets = [];
  }
}

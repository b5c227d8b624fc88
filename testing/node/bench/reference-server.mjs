// The Node reference of the demo server contract (docs/demo-server.md),
// built on the published @venizia/ignis-helpers SocketIOServerHelper with
// the Redis adapter and emitter it always uses. Baseline for ignis-bench.
//
// Usage: node reference-server.mjs [--port N] [--path P] [--redis URL]
//          [--auth-token T] [--auth-timeout-ms N] [--ping-interval-ms N] [--room-prefix P]
//          [--per-message-deflate]  (the reference component's perMessageDeflate settings)
// Run it with the working directory in a temp dir: the helper's logger
// writes log files there.
import http from 'node:http';
import { Redis } from 'ioredis';
import { SocketIOServerHelper } from '@venizia/ignis-helpers/socket-io';
import { REFERENCE_PER_MESSAGE_DEFLATE } from '../reference-deflate.mjs';

function option(flag, env, fallback) {
  const i = process.argv.indexOf(flag);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  return process.env[env] ?? fallback;
}

const port = Number(option('--port', 'PORT', '3000'));
const ioPath = option('--path', 'IO_PATH', '/io');
// The helper cannot run without Redis; a comma-separated list names cluster
// nodes in the contract, the reference example uses one Redis: take the first.
const redisUrl = option('--redis', 'REDIS_URL', 'redis://127.0.0.1:6379').split(',')[0];
const authToken = option('--auth-token', 'AUTH_TOKEN', undefined);
const authTimeout = Number(option('--auth-timeout-ms', 'AUTH_TIMEOUT_MS', '10000'));
const pingInterval = Number(option('--ping-interval-ms', 'PING_INTERVAL_MS', '30000'));
const roomPrefix = option('--room-prefix', 'ROOM_PREFIX', '');
// The reference component's default perMessageDeflate, for comparing
// compression with the Rust servers.
const perMessageDeflate = process.argv.includes('--per-message-deflate')
  ? { ...REFERENCE_PER_MESSAGE_DEFLATE }
  : false;

const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);
const BODY_LIMIT = 10 * 1024 * 1024;

const server = http.createServer((req, res) => route(req, res));

// The helper only calls getClient() and duplicates it three times.
const redisConnection = { getClient: () => new Redis(redisUrl, { lazyConnect: true }) };

const helper = new SocketIOServerHelper({
  identifier: 'SOCKET_IO_SERVER',
  runtime: 'node',
  server,
  serverOptions: { path: ioPath, cors: { origin: '*', credentials: true }, perMessageDeflate },
  redisConnection,
  authenticateTimeout: authTimeout,
  pingInterval,
  authenticateFn: (handshake) => {
    if (!authToken) return true;
    const header = handshake.headers?.authorization;
    return header === `Bearer ${authToken}` || handshake.auth?.token === authToken;
  },
  validateRoomFn: ({ rooms }) => rooms.filter((r) => typeof r === 'string' && r.startsWith(roomPrefix)),
  clientConnectedFn: async ({ socket }) => registerClientHandlers(socket),
});

// As the reference example's SocketEventService.registerClientHandlers.
function registerClientHandlers(socket) {
  socket.on('chat:message', (data) => {
    const room = data?.room;
    helper.send({
      destination: room,
      payload: {
        topic: room ? 'chat:message' : 'chat:broadcast',
        data: { from: socket.id, message: data?.message, timestamp: new Date().toISOString() },
      },
    });
  });
  socket.on('echo', (data) => {
    helper.send({
      destination: socket.id,
      payload: { topic: 'echo:response', data: { original: data, timestamp: new Date().toISOString() } },
    });
  });
  socket.on('get-clients', () => {
    const clients = [...helper.getClients().keys()];
    helper.send({
      destination: socket.id,
      payload: { topic: 'clients:list', data: { count: clients.length, clients } },
    });
  });
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > BODY_LIMIT) {
        reject(new Error('Payload too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
      } catch (e) {
        reject(new Error(`Invalid JSON body: ${e.message}`));
      }
    });
    req.on('error', reject);
  });
}

function sendTopic(res, body, destination, message) {
  const topic = body?.topic;
  if (!topic) return reply(res, 400, { error: 'Topic is required' });
  if (RESERVED.has(topic)) return reply(res, 400, { error: `"${topic}" is a reserved event name` });
  try {
    helper.send({ destination, payload: { topic, data: body.data } });
  } catch (e) {
    return reply(res, 400, { error: String(e?.message ?? e) });
  }
  return reply(res, 200, { success: true, message });
}

function roomsChange(res, body, id, verb) {
  const rooms = body?.rooms;
  if (!Array.isArray(rooms) || rooms.length === 0) return reply(res, 400, { error: 'Rooms array is required' });
  const client = helper.getClients({ id });
  if (!client) return reply(res, 200, { success: false, message: `Client not found: ${id}` });
  if (verb === 'join') client.socket.join(rooms);
  else for (const r of rooms) client.socket.leave(r);
  return reply(res, 200, {
    success: true,
    message: `Client ${id} ${verb === 'join' ? 'joined' : 'left'} rooms: ${rooms.join(', ')}`,
  });
}

async function route(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const m = req.method;
  if (parts[0] !== 'api' || parts[1] !== 'socket') return reply(res, 404, { error: 'Not Found' });
  const p = parts.slice(2);
  let body;
  if (m === 'POST') {
    try {
      body = await readJson(req);
    } catch (e) {
      return reply(res, 400, { error: e.message });
    }
  }
  const clients = () => [...helper.getClients().keys()];
  if (m === 'GET' && p.length === 1 && p[0] === 'info') {
    const ids = clients();
    return reply(res, 200, { status: 'running', connectedClients: ids.length, clientIds: ids });
  }
  if (m === 'GET' && p.length === 1 && p[0] === 'clients') {
    const ids = clients();
    return reply(res, 200, { count: ids.length, clients: ids });
  }
  if (m === 'GET' && p.length === 1 && p[0] === 'health') {
    return reply(res, 200, { healthy: true, timestamp: new Date().toISOString() });
  }
  if (m === 'POST' && p.length === 1 && p[0] === 'broadcast') {
    return sendTopic(res, body, undefined, `Broadcast sent to ${clients().length} clients`);
  }
  if (m === 'POST' && p.length === 3 && p[0] === 'room' && p[2] === 'send') {
    return sendTopic(res, body, p[1], `Message sent to room: ${p[1]}`);
  }
  if (p.length === 3 && p[0] === 'client') {
    const id = p[1];
    if (m === 'POST' && p[2] === 'send') return sendTopic(res, body, id, `Message sent to client: ${id}`);
    if (m === 'POST' && (p[2] === 'join' || p[2] === 'leave')) return roomsChange(res, body, id, p[2]);
    if (m === 'GET' && p[2] === 'rooms') {
      const client = helper.getClients({ id });
      if (!client) return reply(res, 200, { success: false, message: `Client not found: ${id}` });
      return reply(res, 200, { success: true, rooms: [...client.socket.rooms] });
    }
  }
  return reply(res, 404, { error: 'Not Found' });
}

async function main() {
  await helper.configure();
  server.listen({ port, host: '127.0.0.1', backlog: 511 }, () => {
    process.stdout.write(`READY ${server.address().port}\n`);
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await helper.shutdown(); // also closes the HTTP server
      process.exit(0);
    } catch (e) {
      console.error(e);
      process.exit(1);
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error('reference-server failed to start:', e);
  process.exit(1);
});

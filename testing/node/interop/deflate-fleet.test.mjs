// permessage-deflate across the fleet: with PER_MESSAGE_DEFLATE=true every
// server (Rust demo, Node reference, plain Node) agrees on it with
// socket.io-client (which always offers it), without it none does; either
// way 16 KiB messages (over every server's threshold) cross the fleet through
// Redis and arrive whole.
//
// Run: [PER_MESSAGE_DEFLATE=true] node --test testing/node/interop/
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFLATE, Peers, startPrivateRedis, startRustServer, startReferenceServer, startPlainNodeServer,
  connected, connect, joinRooms, uniqueRoom, waitFor, wsExtensions,
} from './fleet.mjs';

let redis;
let rust;
let node;
let plain;
const started = [];
const peers = new Peers();

before(async () => {
  redis = await startPrivateRedis();
  started.push(redis);
  [rust, node] = await Promise.all([startRustServer(redis.url), startReferenceServer(redis.url)]);
  started.push(rust, node);
  plain = await startPlainNodeServer(redis.url);
  started.push(plain);
});

after(async () => {
  peers.closeAll();
  const [redisProc, ...rest] = started;
  await Promise.allSettled(rest.reverse().map((p) => p.stop()));
  await redisProc?.stop();
});

afterEach(() => peers.closeAll());

/** About `len` bytes of repetitive JSON text, like real telemetry. */
function telemetry(len) {
  const rows = [];
  for (let i = 0; JSON.stringify(rows).length < len; i += 1) {
    rows.push({ id: i, sensor: `sensor-${i % 40}`, value: (i * 7) % 100, status: 'ok' });
  }
  return rows;
}

test('each_server_agrees_on_permessage_deflate_exactly_when_the_suite_asks', async () => {
  const plainClient = peers.track(connect(plain));
  const [rustWs, nodeWs] = await Promise.all([
    peers.authenticated(rust, { transport: 'websocket' }),
    peers.authenticated(node, { transport: 'websocket' }),
    connected(plainClient),
  ]);
  const expected = DEFLATE ? 'permessage-deflate' : '';
  for (const socket of [rustWs, nodeWs, plainClient]) {
    assert.equal(wsExtensions(socket), expected, `extensions agreed with ${socket.server.label}`);
  }
});

test('16_kib_messages_cross_the_fleet_whole_both_ways', async () => {
  const [rustWs, nodeWs] = await Promise.all([
    peers.authenticated(rust, { transport: 'websocket' }),
    peers.authenticated(node, { transport: 'websocket' }),
  ]);
  const room = uniqueRoom('deflate');
  await Promise.all([joinRooms(rustWs, [room]), joinRooms(nodeWs, [room])]);
  for (const sender of [rustWs, nodeWs]) {
    const message = JSON.stringify(telemetry(16 * 1024)) + sender.id;
    const arrivals = Promise.all([rustWs, nodeWs].map((s) =>
      waitFor(s, 'chat:message', (p) => p?.message === message)));
    sender.emit('chat:message', { room, message });
    for (const got of await arrivals) assert.equal(got.from, sender.id);
  }
  // The plain Node server's broadcast reaches the demo servers' clients through Redis.
  const blob = { rows: telemetry(16 * 1024), bytes: Buffer.alloc(16 * 1024, 7) };
  const got = Promise.all([rustWs, nodeWs].map((s) => waitFor(s, 'interop:big')));
  plain.io.emit('interop:big', blob);
  for (const payload of await got) {
    assert.deepEqual(payload.rows, blob.rows);
    assert.deepEqual(Buffer.from(payload.bytes), blob.bytes);
  }
});

// The Admin UI across a mixed fleet: a plain Node socket.io server
// instrumented with @socket.io/admin-ui 0.5.1 (development mode) and the Rust
// demo server with `--admin-ui` share one private Redis. A page on the Node
// server's /admin lists the Rust server's sockets through fetchSockets; their
// client id and transport come from the `_admin` field of the socket data the
// Rust server answers with, and the transport is the current one (a socket
// that upgraded to WebSocket says so).
//
// Run: node --test testing/node/interop/admin-ui-fleet.test.mjs
// Needs: what the rest of the suite needs (see README.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { io as ioClient } from 'socket.io-client';
import {
  IO_PATH, TOKEN, EVENT_TIMEOUT_MS, startPrivateRedis, startRustServer, startPlainNodeServer,
  connected, waitFor, sleep,
} from './fleet.mjs';

const require = createRequire(import.meta.url);
const { instrument } = require('@socket.io/admin-ui');

let redis;
let rust;
let plain;
const started = [];
const sockets = [];

before(async () => {
  redis = await startPrivateRedis();
  started.push(redis);
  rust = await startRustServer(redis.url, ['--admin-ui']);
  started.push(rust);
  plain = await startPlainNodeServer(redis.url);
  started.push(plain);
  instrument(plain.io, { auth: false, mode: 'development' });
});

after(async () => {
  for (const socket of sockets) socket.close();
  // The package publishes its news of the departures (some on the next tick)
  // through Redis: let that happen before the Redis connections go.
  await sleep(300);
  plain?.io.close();
  await sleep(100);
  const [redisProc, ...rest] = started;
  await Promise.allSettled(rest.reverse().map((p) => p.stop()));
  await redisProc?.stop();
});

/** A socket.io-client on `url` (namespace in the url) with `transports`. */
function client(url, transports, auth) {
  const socket = ioClient(url, {
    path: IO_PATH, transports, auth, reconnection: false, forceNew: true, timeout: EVENT_TIMEOUT_MS,
  });
  sockets.push(socket);
  return socket;
}

test("the Node server's admin page shows the Rust sockets' client id and transport", async () => {
  const polling = client(rust.url, ['polling'], { token: TOKEN });
  const upgrading = client(rust.url, ['polling', 'websocket'], { token: TOKEN });
  await Promise.all([connected(polling), connected(upgrading)]);
  if (upgrading.io.engine.transport.name !== 'websocket') {
    await new Promise((resolve) => upgrading.io.engine.once('upgrade', resolve));
  }

  const page = client(`${plain.url}/admin`, ['websocket']);
  const listed = waitFor(page, 'all_sockets');
  await connected(page);
  const all = await listed;
  const find = (socket) => {
    const found = all.find((s) => s.id === socket.id && s.nsp === '/');
    assert.ok(found, `${socket.id} not in all_sockets: ${JSON.stringify(all)}`);
    return found;
  };

  const seenPolling = find(polling);
  assert.equal(seenPolling.transport, 'polling');
  assert.equal(seenPolling.clientId, polling.io.engine.id.slice(0, 12));
  assert.equal(seenPolling.data._admin, undefined, 'the package strips _admin from data');

  const seenUpgraded = find(upgrading);
  assert.equal(seenUpgraded.transport, 'websocket');
  assert.equal(seenUpgraded.clientId, upgrading.io.engine.id.slice(0, 12));
});

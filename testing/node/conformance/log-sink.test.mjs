// A slow log sink never stalls serving: when nobody reads the server's stderr
// (a full pipe, a stuck log shipper), log lines are dropped and counted, and
// clients are still served. Every connection writes INFO lines (connected,
// authenticated, disconnected); the test stops reading the server's stderr
// once it is ready, fills the pipe with connection churn, and then expects
// echoes, new connections and the health route to work.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Peers, startServer, waitFor, api } from './harness.mjs';

const CYCLES = 400;
const ROUND_TRIPS = 50;

let server;
const peers = new Peers();
after(async () => {
  peers.closeAll();
  server?.child.stderr.resume();
  await server?.stop();
});

test('echo_and_health_keep_working_while_nobody_reads_the_log', { timeout: 60_000 }, async () => {
  server = await startServer({ env: { RUST_LOG: 'info' } });
  // Stop reading: the pipe (64 KiB) fills after a few hundred lines.
  server.child.stderr.removeAllListeners('data');
  server.child.stderr.pause();
  const socket = await peers.authenticated(server, { transport: 'websocket' });
  for (let i = 0; i < CYCLES; i += 1) {
    const churn = await peers.authenticated(server, { transport: 'websocket' });
    churn.disconnect();
  }
  for (let i = 0; i < ROUND_TRIPS; i += 1) {
    const reply = waitFor(socket, 'echo:response', 5000);
    socket.emit('echo', { i, filler: 'x'.repeat(200) });
    const payload = await reply;
    assert.equal(payload.original.i, i);
  }
  const health = await api(server, 'GET', '/api/socket/health');
  assert.equal(health.status, 200);
});

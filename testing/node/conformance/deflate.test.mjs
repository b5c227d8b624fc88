// WebSocket per-message compression (RFC 7692 permessage-deflate) with the
// demo server's --per-message-deflate: Node's socket.io-client (which offers
// the extension by default) negotiates it and exchanges large and small, text
// and binary messages; a plain `ws` client checks the server's answer and sends
// a fragmented compressed message. Bytes read off the socket show the server's
// large messages cross the wire compressed and the small ones as they are.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { STANDARD_ARGS, TOKEN, authenticated, startServer, waitFor } from './harness.mjs';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');

let server;

before(async () => {
  server = await startServer({ args: STANDARD_ARGS, pinnedArgs: ['--per-message-deflate'] });
});

after(async () => {
  await server?.stop();
});

/** A realistic dashboard payload of about `bytes` bytes of JSON. */
function dashboard(bytes) {
  const rows = [];
  for (let i = 0; JSON.stringify(rows).length < bytes; i += 1) {
    rows.push({
      id: i,
      host: `web-${i % 17}`,
      cpu: (i * 13) % 100 + (i % 10) / 10,
      mem: 1000 + ((i * 37) % 4000),
      status: i % 9 === 0 ? 'warn' : 'ok',
    });
  }
  return { updatedAt: '2026-12-07T12:00:00.000Z', rows };
}

/** The raw `ws` socket under a socket.io-client socket. */
const rawOf = (socket) => socket.io.engine.transport.ws;

/** Emits `echo` and resolves with the response and the bytes read meanwhile. */
async function echo(socket, value) {
  const raw = rawOf(socket);
  const before = raw._socket.bytesRead;
  const response = waitFor(socket, 'echo:response');
  socket.emit('echo', value);
  const payload = await response;
  return { payload, read: raw._socket.bytesRead - before };
}

test('socket.io-client negotiates permessage-deflate with the reference settings', async () => {
  const socket = await authenticated(server, { transport: 'websocket' });
  try {
    const raw = rawOf(socket);
    assert.equal(raw.extensions, 'permessage-deflate');
    const params = raw._extensions['permessage-deflate'].params;
    assert.equal(params.server_no_context_takeover, true);
    assert.equal(params.client_no_context_takeover, true);
    assert.equal(params.server_max_window_bits, 10);
  } finally {
    socket.disconnect();
  }
});

test('large and small, text and binary messages round-trip; large ones cross compressed', async () => {
  const socket = await authenticated(server, { transport: 'websocket' });
  try {
    const board = dashboard(16 * 1024);
    const large = await echo(socket, board);
    assert.deepEqual(large.payload.original, board);
    const size = JSON.stringify(board).length;
    assert.ok(large.read * 4 <= size, `${large.read} bytes read for a ${size}-byte message`);

    const small = await echo(socket, { hello: 'world' });
    assert.deepEqual(small.payload.original, { hello: 'world' });
    // Under the 4096-byte threshold: as before, the JSON itself is on the wire.
    assert.ok(small.read > JSON.stringify({ hello: 'world' }).length, `${small.read} bytes`);

    const bigBinary = Buffer.from(JSON.stringify(dashboard(20_000)));
    const bin = await echo(socket, bigBinary);
    assert.ok(Buffer.isBuffer(bin.payload.original));
    assert.ok(bin.payload.original.equals(bigBinary));
    assert.ok(bin.read * 4 <= bigBinary.length, `${bin.read} bytes read for ${bigBinary.length}`);

    const smallBinary = Buffer.from([1, 2, 3, 4, 5]);
    const sb = await echo(socket, smallBinary);
    assert.ok(sb.payload.original.equals(smallBinary));
  } finally {
    socket.disconnect();
  }
});

test('a plain RFC 7692 client: the answer header, fragmented compressed input', async () => {
  const url = `ws://127.0.0.1:${server.port}/io/?EIO=4&transport=websocket`;
  const ws = new WebSocket(url, { perMessageDeflate: { threshold: 0 } });
  const answer = new Promise((resolve) => ws.on('upgrade', (res) => resolve(res.headers['sec-websocket-extensions'])));
  const texts = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    if (text === '2') { ws.send('3'); return; }
    texts.push(text);
    waiters.splice(0).forEach((w) => w());
  });
  const next = async (pred) => {
    for (;;) {
      const i = texts.findIndex(pred);
      if (i >= 0) return texts.splice(i, 1)[0];
      await new Promise((resolve) => waiters.push(resolve));
    }
  };
  try {
    assert.equal(
      await answer,
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; '
        + 'server_max_window_bits=10; client_max_window_bits=12',
    );
    await next((t) => t.startsWith('0{'));
    ws.send(`40${JSON.stringify({ token: TOKEN })}`);
    await next((t) => t.startsWith('40{'));
    ws.send('42["authenticate"]');
    await next((t) => t.startsWith('42["authenticated"'));
    // One event in three fragments, compressed (RSV1 on the first only).
    const board = dashboard(30_000);
    const text = `42${JSON.stringify(['echo', board])}`;
    const third = Math.floor(text.length / 3);
    ws.send(text.slice(0, third), { fin: false, compress: true });
    ws.send(text.slice(third, 2 * third), { fin: false, compress: true });
    ws.send(text.slice(2 * third), { fin: true, compress: true });
    const echoed = await next((t) => t.startsWith('42["echo:response"'));
    assert.deepEqual(JSON.parse(echoed.slice(2))[1].original, board);
  } finally {
    ws.terminate();
  }
});

test('without the flag the extension is not negotiated', async () => {
  const plain = await startServer({ args: STANDARD_ARGS, pinnedArgs: ['--per-message-deflate=false'] });
  const socket = await authenticated(plain, { transport: 'websocket' });
  try {
    assert.equal(rawOf(socket).extensions, '');
    const board = dashboard(16 * 1024);
    const large = await echo(socket, board);
    assert.deepEqual(large.payload.original, board);
    assert.ok(large.read > JSON.stringify(board).length, `${large.read} bytes`);
  } finally {
    socket.disconnect();
    await plain.stop();
  }
});

// WebSocket per-message compression in a real browser: Debian's Chromium
// (driven by playwright-core) opens a WebSocket to the demo server started
// with --per-message-deflate. Chromium offers permessage-deflate on every
// WebSocket and compresses what it sends; the test reads the negotiated
// extension from the socket, authenticates over raw Engine.IO / Socket.IO
// packets and echoes large and small, text and binary events.
//
// Run: node --test testing/node/browser/   (needs `cargo build -p ignis-socketio-examples
// --bin demo-server`, `npm ci --prefix testing/node` and Chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binaryPath, startReady } from './spawn-ready.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TOKEN = 'browser-secret';

let chromium;
let server;
let context;
let userDataDir;

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with `
      + '`apt-get update && apt-get install -y chromium` (or set CHROMIUM_PATH)');
  }
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (error) {
    throw new Error(`playwright-core is missing: run \`npm ci --prefix testing/node\` (${error.message})`);
  }
  server = await startReady(binaryPath('demo-server', 'DEMO_SERVER_BIN'),
    ['--port', '0', '--auth-token', TOKEN, '--per-message-deflate']);
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'ignis-deflate-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(15_000);
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  const result = await server?.stop();
  if (result) assert.equal(result.code, 0, `demo-server did not exit 0 on SIGTERM: ${server.stderr()}`);
});

test('Chromium negotiates permessage-deflate and echoes large and small, text and binary', async () => {
  const page = await context.newPage();
  // A page of the server's own origin.
  await page.goto(`${server.url}/api/socket/health`);
  const result = await page.evaluate(async ({ token }) => {
    const ws = new WebSocket(`ws://${location.host}/io/?EIO=4&transport=websocket`);
    ws.binaryType = 'arraybuffer';
    const queue = [];
    let wake = () => {};
    ws.onmessage = (m) => {
      if (m.data === '2') { ws.send('3'); return; }
      queue.push(m.data);
      wake();
    };
    const next = async (pred) => {
      for (;;) {
        const i = queue.findIndex(pred);
        if (i >= 0) return queue.splice(i, 1)[0];
        await new Promise((resolve) => { wake = resolve; setTimeout(resolve, 100); });
      }
    };
    const isText = (prefix) => (d) => typeof d === 'string' && d.startsWith(prefix);
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    await next(isText('0{'));
    ws.send(`40${JSON.stringify({ token })}`);
    await next(isText('40{'));
    ws.send('42["authenticate"]');
    await next(isText('42["authenticated"'));

    const rows = [];
    for (let i = 0; JSON.stringify(rows).length < 16 * 1024; i += 1) {
      // Keys in alphabetical order: the server re-encodes objects with sorted keys.
      rows.push({ cpu: (i * 13) % 100, host: `web-${i % 17}`, id: i, status: i % 9 ? 'ok' : 'warn' });
    }
    const echoText = async (value) => {
      ws.send(`42${JSON.stringify(['echo', value])}`);
      const text = await next(isText('42["echo:response"'));
      return JSON.parse(text.slice(2))[1].original;
    };
    const echoBinary = async (bytes) => {
      ws.send('451-["echo",{"_placeholder":true,"num":0}]');
      ws.send(bytes);
      await next(isText('451-["echo:response"'));
      const back = new Uint8Array(await next((d) => d instanceof ArrayBuffer));
      return back.length === bytes.length && back.every((b, i) => b === bytes[i]);
    };
    const bigBytes = new TextEncoder().encode(JSON.stringify(rows).repeat(2));
    const out = {
      extensions: ws.extensions,
      large: JSON.stringify(await echoText(rows)) === JSON.stringify(rows),
      small: (await echoText('hi')) === 'hi',
      largeBinary: await echoBinary(bigBytes),
      smallBinary: await echoBinary(new Uint8Array([1, 2, 3])),
    };
    ws.close();
    return out;
  }, { token: TOKEN });
  assert.equal(
    result.extensions,
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; '
      + 'server_max_window_bits=10; client_max_window_bits=12',
  );
  assert.deepEqual(
    { large: result.large, small: result.small, largeBinary: result.largeBinary, smallBinary: result.smallBinary },
    { large: true, small: true, largeBinary: true, smallBinary: true },
  );
  await page.close();
});

// The official Socket.IO Admin UI (the npm package's ui/dist, served here
// from a local static server) against two demo servers on one Redis, the
// first with `--admin-ui-auth`: the page logs in to the first server, lists
// the sockets of both and the second one's room, disconnects the socket held
// by the second server (the request crosses Redis), sees it gone, and shows
// both servers. Screenshots of the sockets and servers pages are saved to a
// fresh temp folder, printed by the test.
//
// Needs Redis at REDIS_URL (default redis://127.0.0.1:6379); each run uses its
// own --redis-key. Run: node --test testing/node/browser/admin-ui.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { REPO_ROOT, binaryPath, startReady } from './spawn-ready.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const REDIS_KEY = `ignis-admin-test-${process.pid}-${Date.now()}`;
const UI_DIR = path.join(REPO_ROOT, 'testing/node/node_modules/@socket.io/admin-ui/ui/dist');
const STEP_TIMEOUT = 15_000;
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.map': 'application/json' };

let chromium;
let nodes = [];
let ui;
let uiUrl;
let context;
let userDataDir;
const clients = [];

/** Serves the UI's static files (the only thing the page loads from its own origin). */
function serveUi() {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      const file = path.join(UI_DIR, rel === '/' ? 'index.html' : rel);
      if (!file.startsWith(UI_DIR) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** A socket.io-client on `node`'s namespace `/`, authenticated with the demo. */
function connectClient(node) {
  return new Promise((resolve, reject) => {
    const socket = io(node.url, { path: '/io', transports: ['websocket'], reconnection: false, forceNew: true });
    clients.push(socket);
    socket.on('connect_error', reject);
    socket.on('authenticated', () => resolve(socket));
    socket.on('connect', () => socket.emit('authenticate'));
  });
}

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it or set CHROMIUM_PATH`);
  }
  if (!existsSync(path.join(UI_DIR, 'index.html'))) {
    throw new Error(`Admin UI not found at ${UI_DIR}: run \`npm ci --prefix testing/node\``);
  }
  ({ chromium } = await import('playwright-core'));
  const bin = binaryPath('demo-server', 'DEMO_SERVER_BIN');
  ui = await serveUi();
  uiUrl = `http://127.0.0.1:${ui.address().port}/`;
  // The page's polling requests carry credentials (withCredentials): the
  // servers must name its origin (the default `*` is refused by browsers).
  const common = ['--port', '0', '--redis', REDIS_URL, '--redis-key', REDIS_KEY,
    '--cors-origin', uiUrl.slice(0, -1)];
  nodes.push(await startReady(bin, [...common, '--admin-ui-auth', 'admin:s3cret']));
  nodes.push(await startReady(bin, [...common, '--admin-ui']));
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'ignis-admin-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(STEP_TIMEOUT);
});

after(async () => {
  for (const socket of clients) socket.close();
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  ui?.close();
  for (const node of nodes) {
    const result = await node.stop();
    assert.equal(result.code, 0, `demo-server did not exit 0 on SIGTERM: ${node.stderr()}`);
  }
});

test('the Admin UI logs in, lists and disconnects sockets across two servers', async () => {
  const [a, b] = nodes;
  const onA = await connectClient(a);
  const onB = await connectClient(b);
  const goneFromB = new Promise((resolve) => onB.on('disconnect', resolve));
  // A room of B's client, to be seen from a page connected to A.
  const joined = await onB.timeout(5000).emitWithAck('join', { rooms: ['ops-room'] });
  assert.deepEqual(joined.joined, ['ops-room']);

  const page = await context.newPage();
  // The connection form's fields, as the UI keeps them between visits.
  await page.addInitScript((url) => {
    localStorage.setItem('server_url', url);
    localStorage.setItem('path', '/io');
    localStorage.setItem('namespace', '/admin');
    localStorage.setItem('ws_only', 'false');
  }, a.url);
  await page.goto(uiUrl);

  // A wrong password is refused, the right one lets the page in.
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('wrong');
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByText('Invalid credentials').waitFor();
  await page.getByLabel('Password').fill('s3cret');
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByLabel('Password').waitFor({ state: 'hidden' });

  // Both servers' sockets are listed (B's through Redis).
  await page.goto(`${uiUrl}#/sockets/`);
  await page.locator('tr', { hasText: onA.id }).first().waitFor();
  const rowB = page.locator('tr', { hasText: onB.id });
  await rowB.waitFor();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ignis-admin-ui-'));
  await page.waitForTimeout(500); // the page's fade-in
  const socketsShot = path.join(dir, 'admin-ui-sockets-of-two-servers.png');
  await page.screenshot({ path: socketsShot, fullPage: true });
  console.log(`screenshot of the Admin UI listing the sockets of two servers: ${socketsShot}`);

  // The rooms page lists B's room, with B's socket in it.
  await page.getByRole('link', { name: 'Rooms' }).click();
  await page.locator('tr', { hasText: 'ops-room' }).first().waitFor();
  await page.goto(`${uiUrl}#/sockets/`);
  await rowB.waitFor();

  // Disconnecting B's socket from a page connected to A.
  await rowB.locator('button:has(.mdi-logout)').click();
  assert.equal(await goneFromB, 'io server disconnect');
  // (The click also opens the socket's details: back to the list.)
  await page.goto(`${uiUrl}#/sockets/`);
  await page.locator('tr', { hasText: onA.id }).first().waitFor();
  await page.waitForFunction((id) => !document.querySelector('tbody').innerText.includes(id), onB.id);
  assert.ok(onA.connected, 'the other socket stays connected');

  // Both servers report their stats to the page (reached through the menu,
  // as a user would: the socket's details may still be open).
  await page.getByRole('link', { name: 'Servers' }).click();
  await page.getByRole('columnheader', { name: 'Hostname' }).waitFor();
  // Server ids are `host#pid`: two such rows, whatever else the page shows.
  const serverRows = () => [...document.querySelectorAll('tbody tr')]
    .filter((row) => row.innerText.includes('#')).length >= 2;
  await page.waitForFunction(serverRows).catch(() => {});
  const rows = await page.locator('tbody tr').allInnerTexts();
  assert.equal(rows.filter((r) => r.includes('#')).length, 2, `servers: ${rows.join(' | ')}`);

  await page.waitForTimeout(500); // the page's fade-in
  const shot = path.join(dir, 'admin-ui-two-servers.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot of the Admin UI with two servers: ${shot}`);
});

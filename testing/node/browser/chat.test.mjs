// The chat page in a real browser: Debian's Chromium driven by playwright-core
// against a real chat-server. Two pages authenticate, join a room and chat; a
// wrong token shows the server's `unauthenticated` message; a room outside the
// server's prefix is shown as rejected. A screenshot lands in target/browser/chat.png.
//
// Run: node --test testing/node/browser/   (needs `cargo build -p ignis-socketio-examples
// --bin chat-server`, `npm ci --prefix testing/node` and `apt-get install -y chromium`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, binaryPath, startReady } from './spawn-ready.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TOKEN = 'browser-secret';
const SCREENSHOT = path.join(REPO_ROOT, 'target', 'browser', 'chat.png');
const STEP_TIMEOUT = 10_000;

let chromium;
let server;
let context;
let userDataDir;

before(async () => {
  // Fail, never skip: a missing browser or package is a broken environment.
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with `
      + '`apt-get update && apt-get install -y chromium` (or set CHROMIUM_PATH)');
  }
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (error) {
    throw new Error(`playwright-core is missing: run \`npm ci --prefix testing/node\` (${error.message})`);
  }
  server = await startReady(binaryPath('chat-server', 'CHAT_SERVER_BIN'),
    ['--port', '0', '--token', TOKEN, '--room-prefix', 'public-']);
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'ignis-chat-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 900, height: 760 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(STEP_TIMEOUT);
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  const result = await server?.stop();
  if (result) assert.equal(result.code, 0, `chat-server did not exit 0 on SIGTERM: ${server.stderr()}`);
});

/** Opens the page, connects with `token`, and waits until the status leaves "connecting". */
async function openAndConnect(token) {
  const page = await context.newPage();
  await page.goto(server.url);
  await page.fill('#token', token);
  await page.click('#connect');
  await page.waitForFunction(() => !['disconnected', 'connecting', 'unauthorized']
    .includes(document.getElementById('status').dataset.state));
  return page;
}

const statusOf = async (page) => ({
  state: await page.getAttribute('#status', 'data-state'),
  text: await page.textContent('#status'),
});

/** Socket id shown in the status line once authenticated. */
async function socketIdOf(page) {
  const { text } = await statusOf(page);
  const m = /^authenticated as (\S+)$/.exec(text);
  assert.ok(m, `status line "${text}" does not name the socket id`);
  return m[1];
}

async function join(page, rooms) {
  await page.fill('#room', rooms);
  await page.click('#join');
  await page.waitForFunction(() => document.getElementById('rooms-result').textContent !== '');
  return page.textContent('#rooms-result');
}

async function send(page, room, message) {
  await page.fill('#message-room', room);
  await page.fill('#message', message);
  await page.click('#send');
}

/** Waits until the page lists a message with this text; returns {kind, meta}. */
async function waitForMessage(page, text) {
  const item = page.locator('#messages li', { has: page.locator('.text', { hasText: text }) });
  await item.first().waitFor();
  return {
    kind: await item.first().getAttribute('class'),
    meta: await item.first().locator('.meta').textContent(),
  };
}

test('two pages authenticate, join a room and see each other\'s room and broadcast messages', async () => {
  const alice = await openAndConnect(TOKEN);
  const bob = await openAndConnect(TOKEN);
  assert.equal((await statusOf(alice)).state, 'authenticated');
  assert.equal((await statusOf(bob)).state, 'authenticated');
  const aliceId = await socketIdOf(alice);

  // The server keeps only rooms starting with "public-": the page shows both outcomes.
  assert.match(await join(alice, 'public-lobby, secret'), /^joined: .*public-lobby.*; rejected: secret \(/);
  assert.match(await join(bob, 'public-lobby'), /^joined: .*public-lobby.*; rejected: none$/);
  // One node, no names chosen: both members are "guest", this page marked.
  await bob.waitForFunction(() => document
    .querySelectorAll('#room-list li[data-room="public-lobby"] .member').length === 2);
  const members = await bob.locator('#room-list li[data-room="public-lobby"] .member').allTextContents();
  assert.deepEqual([...members].sort(), ['guest', 'guest (you)']);

  await send(alice, 'public-lobby', 'hello lobby from alice');
  const roomLine = await waitForMessage(bob, 'hello lobby from alice');
  assert.equal(roomLine.kind, 'room');
  assert.ok(roomLine.meta.includes(aliceId), `sender id ${aliceId} missing from "${roomLine.meta}"`);
  // The sender is in the room too, so it sees its own line.
  await waitForMessage(alice, 'hello lobby from alice');

  await send(alice, '', 'hello everyone');
  const broadcastLine = await waitForMessage(bob, 'hello everyone');
  assert.equal(broadcastLine.kind, 'broadcast');
  assert.ok(broadcastLine.meta.includes(aliceId));

  // A message a page sends to a room it is not in does not reach it.
  await send(bob, 'public-other', 'only for public-other');
  await send(bob, 'public-lobby', 'marker after the other room');
  await waitForMessage(alice, 'marker after the other room');
  assert.equal(await alice.locator('#messages li', { hasText: 'only for public-other' }).count(), 0);

  mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await bob.screenshot({ path: SCREENSHOT, fullPage: true });
});

test('a wrong token shows the server\'s unauthenticated message and keeps sending disabled', async () => {
  const page = await openAndConnect('not-the-token');
  const { state, text } = await statusOf(page);
  assert.equal(state, 'unauthenticated');
  assert.match(text, /Invalid token to authenticate! Please login again!/);
  assert.equal(await page.isDisabled('#send'), true);
  assert.equal(await page.isDisabled('#join'), true);
});

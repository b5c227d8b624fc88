// Two chat-server processes on one Redis are one chat: pages on different
// nodes see each other's names, messages (both ways) and the rooms' member
// lists, which follow joins, leaves and closed pages across the nodes. A
// hostile display name is shown as text. Screenshots of both pages land in a
// fresh folder under the system temp directory, printed by the test.
//
// Needs Redis at REDIS_URL (default redis://127.0.0.1:6379); each run uses its
// own --redis-key. Run: node --test testing/node/browser/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binaryPath, startReady } from './spawn-ready.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const REDIS_KEY = `ignis-chat-test-${process.pid}-${Date.now()}`;
const TOKEN = 'two-nodes-secret';
const ROOM = 'public-lobby';
// At most 32 characters, the server's limit: it must come back whole.
const HOSTILE = '<img src=x onerror=__pwned=1>Bob';
const STEP_TIMEOUT = 10_000;

let chromium;
let nodes = [];
let context;
let userDataDir;

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it or set CHROMIUM_PATH`);
  }
  ({ chromium } = await import('playwright-core'));
  const bin = binaryPath('chat-server', 'CHAT_SERVER_BIN');
  const args = ['--port', '0', '--token', TOKEN, '--room-prefix', 'public-',
    '--redis', REDIS_URL, '--redis-key', REDIS_KEY];
  // Started one after the other: a failure names the node that failed.
  nodes.push(await startReady(bin, args));
  nodes.push(await startReady(bin, args));
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'ignis-chat2-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 900, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(STEP_TIMEOUT);
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  for (const node of nodes) {
    const result = await node.stop();
    assert.equal(result.code, 0, `chat-server did not exit 0 on SIGTERM: ${node.stderr()}`);
  }
});

/** Opens `node`'s page, connects as `name`, waits for the server's welcome. */
async function connectAs(node, name) {
  const page = await context.newPage();
  await page.goto(node.url);
  await page.fill('#name', name);
  await page.fill('#token', TOKEN);
  await page.click('#connect');
  await page.waitForFunction(() => document.getElementById('status').dataset.state === 'authenticated');
  await page.waitForFunction(() => document.getElementById('me').textContent !== '');
  const status = await page.textContent('#status');
  const id = /^authenticated as (\S+)$/.exec(status)?.[1];
  assert.ok(id, `status "${status}" names no socket id`);
  return { page, id };
}

async function join(page, room) {
  await page.fill('#room', room);
  await page.click('#join');
  await page.waitForFunction((r) => document.getElementById('rooms-result').textContent.includes(r), room);
}

async function send(page, room, message) {
  await page.fill('#message-room', room);
  await page.fill('#message', message);
  await page.click('#send');
}

/** The member chips of `room` on the page, once there are `count` of them. */
async function membersOf(page, room, count) {
  await page.waitForFunction(([r, n]) => {
    const item = document.querySelector(`#room-list li[data-room="${r}"]`);
    return n === 0 ? item === null : item?.querySelectorAll('.member').length === n;
  }, [room, count]);
  return page.locator(`#room-list li[data-room="${room}"] .member`).allTextContents();
}

/** The line with this text: {kind, name, meta}. */
async function lineWith(page, text) {
  const item = page.locator('#messages li', { has: page.locator('.text', { hasText: text }) }).first();
  await item.waitFor();
  return {
    kind: await item.getAttribute('class'),
    name: await item.locator('.name').textContent(),
    meta: await item.locator('.meta').textContent(),
  };
}

test('two pages on two chat-server nodes sharing Redis chat in a room with names and member lists', async () => {
  const alice = await connectAs(nodes[0], '  Alice  ');
  const bob = await connectAs(nodes[1], HOSTILE);
  assert.notEqual(nodes[0].port, nodes[1].port);
  // The server trims the name; the hostile one comes back unchanged, as text.
  assert.equal(await alice.page.textContent('#me'), ' · you are Alice');
  assert.equal(await bob.page.textContent('#me'), ` · you are ${HOSTILE}`);

  await join(alice.page, ROOM);
  await join(bob.page, ROOM);
  // Both nodes list both members, sorted by name ("<" sorts before "A").
  assert.deepEqual(await membersOf(alice.page, ROOM, 2), [HOSTILE, 'Alice (you)']);
  assert.deepEqual(await membersOf(bob.page, ROOM, 2), [`${HOSTILE} (you)`, 'Alice']);

  await send(alice.page, ROOM, 'hello from node A');
  const atBob = await lineWith(bob.page, 'hello from node A');
  assert.equal(atBob.kind, 'room');
  assert.equal(atBob.name, 'Alice');
  assert.ok(atBob.meta.includes(alice.id), `sender id ${alice.id} missing from "${atBob.meta}"`);

  await send(bob.page, ROOM, 'hello from node B');
  const atAlice = await lineWith(alice.page, 'hello from node B');
  assert.equal(atAlice.kind, 'room');
  assert.equal(atAlice.name, HOSTILE);
  assert.ok(atAlice.meta.includes(bob.id));

  await send(bob.page, '', 'broadcast from node B');
  assert.equal((await lineWith(alice.page, 'broadcast from node B')).kind, 'broadcast');

  // The hostile name never became markup.
  for (const { page } of [alice, bob]) {
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('#messages img, #room-list img, #me img').count(), 0);
  }

  const shots = mkdtempSync(path.join(os.tmpdir(), 'ignis-chat-two-nodes-'));
  await alice.page.screenshot({ path: path.join(shots, 'node-a-alice.png'), fullPage: true });
  await bob.page.screenshot({ path: path.join(shots, 'node-b-bob.png'), fullPage: true });
  console.log(`two-node screenshots: ${shots}`);

  // Leaving on node B updates the list on node A, and drops the room on B.
  await bob.page.fill('#room', ROOM);
  await bob.page.click('#leave');
  assert.deepEqual(await membersOf(alice.page, ROOM, 1), ['Alice (you)']);
  await membersOf(bob.page, ROOM, 0);

  // A closed page on node B is gone from node A's list too.
  await join(bob.page, ROOM);
  assert.deepEqual(await membersOf(alice.page, ROOM, 2), [HOSTILE, 'Alice (you)']);
  await bob.page.close();
  assert.deepEqual(await membersOf(alice.page, ROOM, 1), ['Alice (you)']);
});

test('an empty display name falls back to "guest", a long one is cut to 32 characters', async () => {
  const long = await connectAs(nodes[0], 'L'.repeat(40));
  assert.equal(await long.page.textContent('#me'), ` · you are ${'L'.repeat(32)}`);

  const { page, id } = await connectAs(nodes[1], '   ');
  assert.equal(await page.textContent('#me'), ' · you are guest');
  await join(page, 'public-guests');
  assert.deepEqual(await membersOf(page, 'public-guests', 1), ['guest (you)']);
  await send(page, 'public-guests', 'hi as guest');
  const line = await lineWith(page, 'hi as guest');
  assert.equal(line.name, 'guest');
  assert.ok(line.meta.includes(id));
});

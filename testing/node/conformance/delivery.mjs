// Delivery scenarios shared by delivery.test.mjs (one server) and
// redis-delivery.test.mjs (two servers on one Redis): one client's
// `chat:message` lines reach a room member all and in order, and a member that
// stops reading is disconnected as a slow consumer without holding the others
// back (docs/demo-server.md "Socket events": the events of one client are
// handled in the order it sent them).
import assert from 'node:assert/strict';
import { emitWithAck, api, sleep } from './harness.mjs';

/** Pairs (i < j) with seq[i] > seq[j]: 0 for an ordered list. */
export function inversions(seq) {
  let count = 0;
  for (let i = 0; i < seq.length; i += 1) {
    for (let j = i + 1; j < seq.length; j += 1) if (seq[i] > seq[j]) count += 1;
  }
  return count;
}

/** Numbers of the lines `<tag>#<n>` that `socket` receives as `chat:message` from `from`. */
export function collect(socket, tag, from) {
  const seq = [];
  const prefix = `${tag}#`;
  const handler = (payload) => {
    if (payload?.from !== from() || typeof payload.message !== 'string') return;
    if (!payload.message.startsWith(prefix)) return;
    seq.push(Number.parseInt(payload.message.slice(prefix.length), 10));
  };
  socket.on('chat:message', handler);
  return { seq, stop: () => socket.off('chat:message', handler) };
}

/**
 * Resolves once `seq` holds `count` numbers, or nothing new arrived for
 * `idleMs`, or `timeoutMs` passed (a loss shows as a short count, fast).
 */
export async function settle(seq, count, { idleMs = 2000, timeoutMs = 20_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = seq.length;
  let lastChange = Date.now();
  while (seq.length < count && Date.now() < deadline) {
    await sleep(20);
    if (seq.length !== last) {
      last = seq.length;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > idleMs) {
      break;
    }
  }
}

/** Joins every socket to `room` (acknowledged, so the membership is in place). */
export async function joinAll(room, ...sockets) {
  for (const s of sockets) {
    const ack = await emitWithAck(s, 'join', { rooms: [room] });
    assert.deepEqual(ack?.joined, [room], `join ${room}: ${JSON.stringify(ack)}`);
  }
}

/** A short summary of what differs from 0..count-1. */
export function describeSeq(seq, count) {
  const seen = new Set(seq);
  const missing = [];
  for (let i = 0; i < count && missing.length < 10; i += 1) if (!seen.has(i)) missing.push(i);
  const firstInversion = seq.findIndex((n, i) => i > 0 && n < seq[i - 1]);
  return `delivered ${seq.length}/${count} (${seen.size} distinct), ` +
    `inversions ${inversions(seq)}, first missing ${JSON.stringify(missing)}, ` +
    (firstInversion > 0
      ? `first out of order at position ${firstInversion}: ` +
        `${JSON.stringify(seq.slice(Math.max(0, firstInversion - 3), firstInversion + 3))}`
      : 'no line out of order');
}

/**
 * `sender` (already in `room`) emits `count` lines `<tag>#<n>` back to back,
 * without waiting; `member` (in `room`) must receive all of them in order.
 * Returns {delivered, inversions, ms}.
 */
export async function sendInOrder(t, { sender, member, room, count, tag }) {
  const atMember = collect(member, tag, () => sender.id);
  const started = Date.now();
  for (let i = 0; i < count; i += 1) sender.emit('chat:message', { room, message: `${tag}#${i}` });
  await settle(atMember.seq, count);
  const ms = Date.now() - started;
  atMember.stop();
  const seq = atMember.seq;
  const inv = inversions(seq);
  t.diagnostic(`${count} lines sent; member: ${describeSeq(seq, count)}; ${ms} ms`);
  assert.equal(inv, 0, `the member got lines out of order: ${describeSeq(seq, count)}`);
  assert.equal(seq.length, count, `the member lost lines: ${describeSeq(seq, count)}`);
  assert.deepEqual(seq, Array.from({ length: count }, (_, i) => i));
  return { delivered: seq.length, inversions: inv, ms };
}

/** Whether `id` is among the clients of `server` (GET /api/socket/clients). */
export async function isClientOf(server, id) {
  const res = await api(server, 'GET', '/api/socket/clients');
  assert.equal(res.status, 200, res.text);
  // Ids per the contract (rest.test.mjs checks the shape); older servers listed
  // {id, ...} objects here, accepted so that this test measures delivery only.
  return res.body.clients.some((c) => (typeof c === 'string' ? c : c?.id) === id);
}

/**
 * Stops reading on a socket.io-client socket over WebSocket: its TCP socket is
 * paused, so what the server writes piles up in the kernel, then in the
 * server's queue for it. Writing still works.
 */
export function stopReading(socket) {
  const tcp = socket.io?.engine?.transport?.ws?._socket;
  assert.ok(tcp && typeof tcp.pause === 'function',
    `no TCP socket under ${socket.io?.engine?.transport?.name} (a WebSocket client is needed)`);
  tcp.pause();
}

export const LINE_BYTES = 1024;
export const RATE_PER_S = 1000;
/** Sending stops after this, whatever happens. */
export const MAX_SEND_MS = 12_000;
/** The slow client must be gone within this. */
export const DISCONNECT_WITHIN_MS = 10_000;
/** Sending goes on this long after the slow client is gone (the room still works). */
const AFTER_DISCONNECT_MS = 1000;

/**
 * `slow` (in `room`, a client of `slowServer`) stops reading while `sender`
 * sends 1 KB lines at RATE_PER_S to the room; `reader` (in `room`) reads.
 * The server must drop `slow` within DISCONNECT_WITHIN_MS and `reader` must
 * get every line, in order. Returns {disconnectMs, sent, delivered}.
 */
export async function slowConsumer(t, { sender, reader, slow, slowServer, room, tag }) {
  const atReader = collect(reader, tag, () => sender.id);
  const filler = 'x'.repeat(LINE_BYTES - tag.length - 8);
  assert.ok(await isClientOf(slowServer, slow.id), `${slow.id} is listed before it stops reading`);
  stopReading(slow);

  const started = Date.now();
  let sent = 0;
  let goneAt;
  let stopSending = false;
  // Watch the server's client list while sending.
  const watcher = (async () => {
    while (!stopSending) {
      if (goneAt === undefined && !(await isClientOf(slowServer, slow.id))) goneAt = Date.now();
      await sleep(100);
    }
  })();
  // Paced: each tick catches up to RATE_PER_S lines per second since the start.
  while (true) {
    const elapsed = Date.now() - started;
    if (elapsed >= MAX_SEND_MS) break;
    if (goneAt !== undefined && Date.now() - goneAt >= AFTER_DISCONNECT_MS) break;
    const due = Math.floor((elapsed * RATE_PER_S) / 1000);
    while (sent < due) {
      sender.emit('chat:message', { room, message: `${tag}#${sent}${' '}${filler}` });
      sent += 1;
    }
    await sleep(10);
  }
  const sendMs = Date.now() - started;
  stopSending = true;
  await watcher;
  if (goneAt === undefined && !(await isClientOf(slowServer, slow.id))) goneAt = Date.now();
  const disconnectMs = goneAt === undefined ? undefined : goneAt - started;

  await settle(atReader.seq, sent, { idleMs: 3000, timeoutMs: 30_000 });
  atReader.stop();
  const seq = atReader.seq;
  t.diagnostic(`slow client ${goneAt === undefined ? `still connected after ${sendMs} ms`
    : `gone from /api/socket/clients after ${disconnectMs} ms`}; ${sent} lines of ` +
    `${LINE_BYTES} B sent in ${sendMs} ms; reader: ${describeSeq(seq, sent)}`);
  assert.ok(disconnectMs !== undefined && disconnectMs <= DISCONNECT_WITHIN_MS,
    `the server must disconnect the client that stopped reading within ` +
    `${DISCONNECT_WITHIN_MS} ms: ${disconnectMs === undefined
      ? `still connected after ${sendMs} ms of sending (${sent} lines)`
      : `it took ${disconnectMs} ms`}`);
  assert.equal(inversions(seq), 0, `the reader got lines out of order: ${describeSeq(seq, sent)}`);
  assert.equal(seq.length, sent, `the reader lost lines: ${describeSeq(seq, sent)}`);
  assert.ok(reader.connected, 'the reading member stays connected');
  assert.ok(sender.connected, 'the sender stays connected');
  return { disconnectMs, sent, delivered: seq.length };
}

// delivery.test.mjs across two demo servers on one Redis (`--redis`): the
// sender is a client of one node, the members are clients of the other, so
// every line crosses the Redis adapter. Needs Redis at REDIS_URL (default
// redis://127.0.0.1:6379): fails, never skips.
import { describe, test, before, after, afterEach } from 'node:test';
import { randomBytes } from 'node:crypto';
import { STANDARD_ARGS, Peers, startServer } from './harness.mjs';
import { joinAll, sendInOrder, slowConsumer } from './delivery.mjs';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// A private channel prefix: other suites share this Redis. Pinned: these two
// servers must share it whatever DEMO_SERVER_EXTRA_ARGS says.
const KEY = `delivery-${randomBytes(6).toString('hex')}`;
const cluster = { args: STANDARD_ARGS, pinnedArgs: ['--redis', REDIS_URL, '--redis-key', KEY] };

let first;
let second;
const peers = new Peers();
before(async () => {
  try {
    [first, second] = await Promise.all([startServer(cluster), startServer(cluster)]);
  } catch (e) {
    throw new Error(`the demo server could not start with Redis at ${REDIS_URL} (is Redis ` +
      `running? set REDIS_URL): ${e.message}`);
  }
});
after(async () => {
  peers.closeAll();
  await Promise.all([first?.stop(), second?.stop()]);
});
afterEach(() => peers.closeAll());

const ws = { transport: 'websocket' };

describe('chat:message delivery from one node to another over Redis', () => {
  test('a_member_on_the_other_node_receives_200_lines_in_order', { timeout: 60_000}, async (t) => {
    const sender = await peers.authenticated(first, ws);
    const member = await peers.authenticated(second, ws);
    const room = 'public-cluster-order-200';
    await joinAll(room, sender, member);
    await sendInOrder(t, { sender, member, room, count: 200, tag: 'order' });
  });

  test('a_burst_of_2000_lines_reaches_a_member_on_the_other_node_complete_and_in_order', { timeout: 60_000}, async (t) => {
    const sender = await peers.authenticated(first, ws);
    const member = await peers.authenticated(second, ws);
    const room = 'public-cluster-burst-2000';
    await joinAll(room, sender, member);
    await sendInOrder(t, { sender, member, room, count: 2000, tag: 'burst' });
  });

  // The slow member is a client of the other node, so what fills its queue
  // comes through Redis. The reading member is on the sender's node: its
  // order is the sender's (across nodes it is not yet, see above).
  test('a_member_on_the_other_node_that_stops_reading_is_disconnected_and_the_reader_gets_every_line', { timeout: 90_000 }, async (t) => {
    const sender = await peers.authenticated(first, ws);
    const reader = await peers.authenticated(first, ws);
    const slow = await peers.authenticated(second, ws);
    const room = 'public-cluster-slow-consumer';
    await joinAll(room, sender, reader, slow);
    await slowConsumer(t, { sender, reader, slow, slowServer: second, room, tag: 'flood' });
  });
});

// Delivery of one client's `chat:message` lines to a room (docs/demo-server.md
// "Socket events": the events of one client are handled in the order it sent
// them): a member gets every line in order, also in a burst, and a member that
// stops reading is disconnected as a slow consumer while the others keep
// getting everything. All over WebSocket. With DEMO_SERVER_EXTRA_ARGS on Redis
// (interop/conformance-on-redis.test.mjs) the lines go through the Redis adapter.
import { describe, test, before, after, afterEach } from 'node:test';
import { Peers, startServer } from './harness.mjs';
import { joinAll, sendInOrder, slowConsumer } from './delivery.mjs';

let server;
const peers = new Peers();
before(async () => { server = await startServer(); });
after(async () => { peers.closeAll(); await server?.stop(); });
afterEach(() => peers.closeAll());

const ws = { transport: 'websocket' };

describe('chat:message delivery over websocket', () => {
  test('a_member_receives_200_lines_of_one_sender_in_order', { timeout: 60_000 }, async (t) => {
    const sender = await peers.authenticated(server, ws);
    const member = await peers.authenticated(server, ws);
    const room = 'public-order-200';
    await joinAll(room, sender, member);
    await sendInOrder(t, { sender, member, room, count: 200, tag: 'order' });
  });

  test('a_burst_of_2000_lines_reaches_a_member_complete_and_in_order', { timeout: 60_000 }, async (t) => {
    const sender = await peers.authenticated(server, ws);
    const member = await peers.authenticated(server, ws);
    const room = 'public-burst-2000';
    await joinAll(room, sender, member);
    await sendInOrder(t, { sender, member, room, count: 2000, tag: 'burst' });
  });

  test('a_member_that_stops_reading_is_disconnected_and_the_others_get_every_line', { timeout: 90_000 }, async (t) => {
    const sender = await peers.authenticated(server, ws);
    const reader = await peers.authenticated(server, ws);
    const slow = await peers.authenticated(server, ws);
    const room = 'public-slow-consumer';
    await joinAll(room, sender, reader, slow);
    await slowConsumer(t, { sender, reader, slow, slowServer: server, room, tag: 'flood' });
  });
});

// The demo's application events (DEMO-SERVER.md "Socket events"): echo, chat:message
// to a room and to everyone, get-clients. The sender uses one transport and its
// peers the other, so delivery across transports is covered too.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  TRANSPORTS, ISO_MS, Peers, startServer, waitFor, waitForMatching, expectNoEvent, emitWithAck,
} from './harness.mjs';

let server;
const peers = new Peers();
before(async () => { server = await startServer(); });
after(async () => { peers.closeAll(); await server?.stop(); });
afterEach(() => peers.closeAll());

const ECHO_VALUES = [
  ['an object', { message: 'hello echo', ts: 1732521600000 }],
  ['a string', 'plain text'],
  ['a number', 42.5],
  ['zero', 0],
  ['false', false],
  ['the empty string', ''],
  ['null', null],
  ['an array', [1, 'a', { b: null }, [true]]],
  ['unicode', 'héllo wörld ✓ 🚀'],
  ['a nested object', { a: { b: { c: { d: [1, 2, { e: 'f' }] } } } }],
];

for (const transport of TRANSPORTS) {
  const other = transport === 'polling' ? 'websocket' : 'polling';

  describe(`application events over ${transport}`, () => {
    for (const [name, value] of ECHO_VALUES) {
      test(`echo_returns_the_original_unchanged: ${name}`, async () => {
        const socket = await peers.authenticated(server, { transport });
        const reply = waitFor(socket, 'echo:response');
        socket.emit('echo', value);
        const payload = await reply;
        assert.deepEqual(Object.keys(payload).sort(), ['original', 'timestamp']);
        assert.deepEqual(payload.original, value);
        assert.match(payload.timestamp, ISO_MS);
      });
    }

    test('echo_answers_only_the_sender', async () => {
      const a = await peers.authenticated(server, { transport });
      const b = await peers.authenticated(server, { transport: other });
      const reply = waitFor(a, 'echo:response');
      a.emit('echo', 'mine');
      await reply;
      await expectNoEvent(b, 'echo:response');
    });

    test('chat_message_with_room_reaches_the_room_members_only', async () => {
      const a = await peers.authenticated(server, { transport });
      const b = await peers.authenticated(server, { transport: other });
      const outsider = await peers.authenticated(server, { transport: other });
      const room = `public-chat-${transport}`;
      await emitWithAck(a, 'join', { rooms: [room] });
      await emitWithAck(b, 'join', { rooms: [room] });
      const atB = waitFor(b, 'chat:message');
      const atA = waitFor(a, 'chat:message');
      a.emit('chat:message', { room, message: 'hello room via socket' });
      for (const payload of [await atB, await atA]) {
        assert.deepEqual(Object.keys(payload).sort(), ['from', 'message', 'timestamp']);
        assert.equal(payload.from, a.id);
        assert.equal(payload.message, 'hello room via socket');
        assert.match(payload.timestamp, ISO_MS);
      }
      await expectNoEvent(outsider, 'chat:message');
      assert.ok(!outsider.received.some((e) => e.event === 'chat:broadcast'));
    });

    test('chat_message_without_room_is_broadcast_to_every_authenticated_client', async () => {
      const a = await peers.authenticated(server, { transport });
      const b = await peers.authenticated(server, { transport: other });
      const atA = waitFor(a, 'chat:broadcast');
      const atB = waitFor(b, 'chat:broadcast');
      a.emit('chat:message', { message: 'hello everyone via socket' });
      for (const payload of [await atA, await atB]) {
        assert.deepEqual(Object.keys(payload).sort(), ['from', 'message', 'timestamp']);
        assert.equal(payload.from, a.id);
        assert.equal(payload.message, 'hello everyone via socket');
        assert.match(payload.timestamp, ISO_MS);
      }
    });

    test('chat_broadcast_never_reaches_an_unauthenticated_client', async () => {
      const a = await peers.authenticated(server, { transport });
      const waiting = await peers.connectedOnly(server, { transport: other });
      const waitingSame = await peers.connectedOnly(server, { transport });
      const atA = waitFor(a, 'chat:broadcast');
      a.emit('chat:message', { message: 'not for strangers' });
      await atA;
      await expectNoEvent(waiting, 'chat:broadcast');
      assert.ok(!waitingSame.received.some((e) => e.event === 'chat:broadcast'));
    });

    test('get_clients_lists_the_connected_ids_with_their_count', async () => {
      const a = await peers.authenticated(server, { transport });
      const b = await peers.authenticated(server, { transport: other });
      const list = waitFor(a, 'clients:list');
      a.emit('get-clients');
      const payload = await list;
      assert.deepEqual(Object.keys(payload).sort(), ['clients', 'count']);
      assert.equal(payload.count, payload.clients.length);
      assert.ok(payload.clients.includes(a.id));
      assert.ok(payload.clients.includes(b.id));
      await expectNoEvent(b, 'clients:list');
    });

    test('malformed_application_payloads_do_not_crash_or_stall_the_server', async () => {
      const a = await peers.authenticated(server, { transport });
      for (const bad of [null, 'x', 5, [], {}, { room: 5, message: 'x' }, { room: null },
        { message: { nested: true } }, { room: ['a'], message: 1 }]) {
        a.emit('chat:message', bad);
      }
      a.emit('chat:message');
      a.emit('echo');
      a.emit('echo', 1, 2, 3);
      a.emit('get-clients', { unexpected: true });
      a.emit('unknown:event', { x: 1 });
      a.emit('authenticate', 'not an object');
      const reply = waitForMatching(a, 'echo:response', (p) => p?.original === 'after the storm');
      a.emit('echo', 'after the storm');
      await reply;
      const fresh = await peers.authenticated(server, { transport: other });
      const freshReply = waitFor(fresh, 'echo:response');
      fresh.emit('echo', false);
      assert.equal((await freshReply).original, false);
    });
  });
}

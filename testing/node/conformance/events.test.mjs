// The demo's application events (docs/demo-server.md "Socket events"): echo, chat:message
// to a room and to everyone, get-clients. The sender uses one transport and its
// peers the other, so delivery across transports is covered too.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  TRANSPORTS, ISO_MS, Peers, startServer, waitFor, waitForMatching, expectNoEvent, emitWithAck,
  api,
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

    test('echo_returns_binary_as_binary_wherever_it_sits', async () => {
      const socket = await peers.authenticated(server, { transport });
      const reply = waitFor(socket, 'echo:response');
      const bin = Buffer.from([0, 1, 2, 250, 255]);
      socket.emit('echo', { bin, tag: 't', nested: [{ more: Buffer.from([7]) }] });
      const { original } = await reply;
      assert.ok(Buffer.isBuffer(original.bin), `bin came back as ${JSON.stringify(original.bin)}`);
      assert.deepEqual([...original.bin], [0, 1, 2, 250, 255]);
      assert.equal(original.tag, 't');
      assert.ok(Buffer.isBuffer(original.nested[0].more));
      assert.deepEqual([...original.nested[0].more], [7]);
    });

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

    test('chat_message_to_a_room_the_sender_did_not_join_is_refused_with_chat_error', async () => {
      const a = await peers.authenticated(server, { transport });
      const b = await peers.authenticated(server, { transport: other });
      const room = `public-closed-${transport}`;
      await emitWithAck(b, 'join', { rooms: [room] });
      const refused = waitFor(a, 'chat:error');
      a.emit('chat:message', { room, message: 'not a member' });
      const error = await refused;
      assert.equal(error.code, 'not_in_room', JSON.stringify(error));
      assert.equal(error.room, room);
      assert.equal(typeof error.message, 'string');
      await expectNoEvent(b, 'chat:message');
      assert.ok(!a.received.some((e) => e.event === 'chat:message'));
    });

    test('chat_message_to_an_unjoined_room_with_an_ack_gets_an_ack_error_only', async () => {
      const a = await peers.authenticated(server, { transport });
      const b = await peers.authenticated(server, { transport: other });
      const room = `public-closed-ack-${transport}`;
      await emitWithAck(b, 'join', { rooms: [room] });
      const ack = await emitWithAck(a, 'chat:message', { room, message: 'not a member' });
      assert.equal(ack.error?.code, 'not_in_room', JSON.stringify(ack));
      assert.equal(typeof ack.error.message, 'string');
      await expectNoEvent(b, 'chat:message');
      assert.ok(!a.received.some((e) => e.event === 'chat:error'), 'the ack carries the error');
    });

    test('chat_message_to_its_own_id_room_or_a_default_room_is_refused', async () => {
      const a = await peers.authenticated(server, { transport });
      const b = await peers.authenticated(server, { transport: other });
      for (const room of [a.id, 'io-default', 'io-notification', b.id]) {
        const ack = await emitWithAck(a, 'chat:message', { room, message: 'sneaky' });
        assert.equal(ack.error?.code, 'not_in_room', `${room}: ${JSON.stringify(ack)}`);
      }
      await expectNoEvent(b, 'chat:message');
      assert.ok(!a.received.some((e) => e.event === 'chat:message'));
    });

    test('chat_message_after_leaving_the_room_is_refused', async () => {
      const a = await peers.authenticated(server, { transport });
      const b = await peers.authenticated(server, { transport: other });
      const room = `public-left-${transport}`;
      await emitWithAck(a, 'join', { rooms: [room] });
      await emitWithAck(b, 'join', { rooms: [room] });
      const first = waitFor(b, 'chat:message');
      assert.deepEqual(await emitWithAck(a, 'chat:message', { room, message: 'member' }), { ok: true });
      assert.equal((await first).message, 'member');
      await emitWithAck(a, 'leave', { rooms: [room] });
      const ack = await emitWithAck(a, 'chat:message', { room, message: 'former member' });
      assert.equal(ack.error?.code, 'not_in_room', JSON.stringify(ack));
      await expectNoEvent(b, 'chat:message');
    });

    test('chat_message_to_a_room_joined_through_rest_is_delivered', async () => {
      const a = await peers.authenticated(server, { transport });
      const b = await peers.authenticated(server, { transport: other });
      const room = `server-side-${transport}`;
      for (const s of [a, b]) {
        const res = await api(server, 'POST', `/api/socket/client/${s.id}/join`, { rooms: [room] });
        assert.equal(res.body.success, true, res.text);
      }
      const atB = waitFor(b, 'chat:message');
      a.emit('chat:message', { room, message: 'joined by the server' });
      assert.equal((await atB).message, 'joined by the server');
    });

    test('malformed_chat_message_is_answered_with_chat_error', async () => {
      const a = await peers.authenticated(server, { transport });
      const refused = waitFor(a, 'chat:error');
      a.emit('chat:message', { room: 5, message: 'x' });
      assert.equal((await refused).code, 'invalid_payload');
      const ack = await emitWithAck(a, 'chat:message', 'not an object');
      assert.equal(ack.error?.code, 'invalid_payload', JSON.stringify(ack));
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

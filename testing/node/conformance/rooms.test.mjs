// Rooms (docs/protocol.md "Rooms"): default rooms, the prefix validator, join/leave acks, protected
// rooms, and malformed payloads that must never hurt the server. Both transports.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  TRANSPORTS, QUIET_MS, Peers, startServer, waitFor, emitWithAck, sleep, api, roomsOf,
  eventually,
} from './harness.mjs';

let server;
const peers = new Peers();
before(async () => { server = await startServer(); });
after(async () => { peers.closeAll(); await server?.stop(); });
afterEach(() => peers.closeAll());

/** The socket still gets answers, and so does a fresh client: nothing crashed or stalled. */
async function assertServerStillServes(socket, transport) {
  const reply = waitFor(socket, 'echo:response');
  socket.emit('echo', 'still alive?');
  assert.equal((await reply).original, 'still alive?');
  const other = await peers.authenticated(server, { transport });
  const otherReply = waitFor(other, 'echo:response');
  other.emit('echo', 1);
  assert.equal((await otherReply).original, 1);
}

const reasonsOf = (ack) => Object.fromEntries(ack.rejected.map((r) => [String(r.room), r.reason]));

const MALFORMED = [
  ['null', null],
  ['a string', 'public-x'],
  ['a number', 42],
  ['an array', ['public-x']],
  ['an object without rooms', {}],
  ['rooms as a string', { rooms: 'public-x' }],
  ['rooms as null', { rooms: null }],
  ['rooms as an object', { rooms: { a: 1 } }],
  ['numbers in the list', { rooms: [1, 2] }],
  ['an empty name', { rooms: [''] }],
  ['an overlong name', { rooms: ['public-' + 'x'.repeat(10_000)] }],
  ['thousands of rooms', { rooms: Array.from({ length: 5000 }, (_, i) => `public-${i}`) }],
  ['nested lists', { rooms: [['public-a']] }],
];

for (const transport of TRANSPORTS) {
  describe(`rooms over ${transport}`, () => {
    test('authenticated_client_is_in_its_id_room_and_the_default_rooms', async () => {
      const socket = await peers.authenticated(server, { transport });
      assert.deepEqual(await roomsOf(server, socket.id),
        [socket.id, 'io-default', 'io-notification'].sort());
    });

    test('join_keeps_only_rooms_with_the_prefix_and_acks_joined_and_rejected', async () => {
      const socket = await peers.authenticated(server, { transport });
      const ack = await emitWithAck(socket, 'join', { rooms: ['public-a', 'private-b', 'public-c'] });
      assert.deepEqual(ack.joined, ['public-a', 'public-c']);
      assert.deepEqual(reasonsOf(ack), { 'private-b': 'not_allowed' });
      const rooms = await roomsOf(server, socket.id);
      assert.ok(rooms.includes('public-a') && rooms.includes('public-c'));
      assert.ok(!rooms.includes('private-b'));
    });

    test('join_without_ack_joins_the_allowed_rooms', async () => {
      const socket = await peers.authenticated(server, { transport });
      socket.emit('join', { rooms: ['public-noack', 'other-noack'] });
      await eventually(async () => (await roomsOf(server, socket.id)).includes('public-noack'),
        'public-noack joined');
      assert.ok(!(await roomsOf(server, socket.id)).includes('other-noack'));
    });

    test('join_names_each_room_once', async () => {
      const socket = await peers.authenticated(server, { transport });
      const ack = await emitWithAck(socket, 'join', { rooms: ['public-d', 'public-d'] });
      assert.deepEqual(ack.joined, ['public-d']);
    });

    test('leave_leaves_ordinary_rooms_and_acks', async () => {
      const socket = await peers.authenticated(server, { transport });
      await emitWithAck(socket, 'join', { rooms: ['public-l1', 'public-l2'] });
      const ack = await emitWithAck(socket, 'leave', { rooms: ['public-l1'] });
      assert.deepEqual(ack.left, ['public-l1']);
      assert.deepEqual(ack.rejected, []);
      const rooms = await roomsOf(server, socket.id);
      assert.ok(!rooms.includes('public-l1'));
      assert.ok(rooms.includes('public-l2'));
    });

    test('leave_cannot_remove_own_id_room_or_default_rooms', async () => {
      const socket = await peers.authenticated(server, { transport });
      const ack = await emitWithAck(socket, 'leave',
        { rooms: [socket.id, 'io-default', 'io-notification'] });
      assert.deepEqual(ack.left, []);
      assert.deepEqual(reasonsOf(ack), {
        [socket.id]: 'protected', 'io-default': 'protected', 'io-notification': 'protected',
      });
      assert.deepEqual(await roomsOf(server, socket.id),
        [socket.id, 'io-default', 'io-notification'].sort());
    });

    test('client_that_tried_to_leave_protected_rooms_stays_reachable', async () => {
      const socket = await peers.authenticated(server, { transport });
      socket.emit('leave', { rooms: [socket.id, 'io-default', 'io-notification'] });
      await sleep(QUIET_MS / 2);
      const direct = waitFor(socket, 'direct:check');
      const res = await api(server, 'POST', `/api/socket/client/${socket.id}/send`,
        { topic: 'direct:check', data: { n: 1 } });
      assert.equal(res.status, 200);
      assert.deepEqual(await direct, { n: 1 });
      const broadcast = waitFor(socket, 'all:check');
      await api(server, 'POST', '/api/socket/broadcast', { topic: 'all:check', data: 2 });
      assert.equal(await broadcast, 2);
    });

    for (const [name, payload] of MALFORMED) {
      for (const event of ['join', 'leave']) {
        test(`malformed_${event}_payload_is_refused_in_the_ack: ${name}`, async () => {
          const socket = await peers.authenticated(server, { transport });
          const before = await roomsOf(server, socket.id);
          const ack = await emitWithAck(socket, event, payload);
          assert.equal(typeof ack, 'object', JSON.stringify(ack));
          const done = event === 'join' ? ack.joined : ack.left;
          assert.deepEqual(done ?? [], [], JSON.stringify(ack).slice(0, 300));
          assert.ok(ack.error || (ack.rejected && ack.rejected.length > 0),
            `a clear error is expected: ${JSON.stringify(ack).slice(0, 300)}`);
          if (ack.error) {
            assert.equal(typeof ack.error.code, 'string');
            assert.equal(typeof ack.error.message, 'string');
          }
          assert.ok(JSON.stringify(ack).length < 20_000, 'the ack does not echo megabytes back');
          assert.deepEqual(await roomsOf(server, socket.id), before);
          await assertServerStillServes(socket, transport);
        });
      }
    }

    test('malformed_payloads_without_ack_do_not_crash_or_stall_the_server', async () => {
      const socket = await peers.authenticated(server, { transport });
      for (const [, payload] of MALFORMED) {
        socket.emit('join', payload);
        socket.emit('leave', payload);
      }
      socket.emit('join');
      socket.emit('leave');
      await assertServerStillServes(socket, transport);
    });

    test('join_and_leave_without_payload_but_with_ack_are_refused', async () => {
      const socket = await peers.authenticated(server, { transport });
      for (const event of ['join', 'leave']) {
        const ack = await emitWithAck(socket, event);
        assert.ok(ack && ack.error, `${event}: ${JSON.stringify(ack)}`);
      }
      await assertServerStillServes(socket, transport);
    });

    test('wrong_types_for_names_are_rejected_per_entry', async () => {
      const socket = await peers.authenticated(server, { transport });
      const ack = await emitWithAck(socket, 'join', { rooms: ['public-ok', 7, '', null] });
      assert.deepEqual(ack.joined, ['public-ok']);
      const reasons = ack.rejected.map((r) => r.reason).sort();
      assert.deepEqual(reasons, ['empty', 'not_a_string', 'not_a_string']);
    });
  });
}

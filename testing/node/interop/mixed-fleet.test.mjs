// Issue 4 "Done when": a Rust demo server and the Node reference server on one
// Redis, with real socket.io-client peers on both, a Node redis-emitter and a
// plain Node socket.io server with @socket.io/redis-adapter on the same Redis.
//
// Run: node --test testing/node/interop/
// Needs: redis-server on PATH (a private one is started on a free port), the
// demo-server binary (DEMO_SERVER_BIN, see fleet.mjs), `npm ci --prefix testing/node`.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  Peers, startPrivateRedis, startRedisOnPort, startRustServer, startReferenceServer, startPlainNodeServer,
  startEmitter, waitFor, expectNoEvent, disconnectReason, api, apiOk, roomsOf, roomsEventually,
  eventually, joinRooms, uniqueRoom, sleep, QUIET_MS,
} from './fleet.mjs';

let redis;
let rust;
let node;
let plain;
let emitter;
const started = [];
const peers = new Peers();

before(async () => {
  redis = await startPrivateRedis();
  started.push(redis);
  [rust, node] = await Promise.all([startRustServer(redis.url), startReferenceServer(redis.url)]);
  started.push(rust, node);
  plain = await startPlainNodeServer(redis.url);
  started.push(plain);
  const e = startEmitter(redis.url);
  emitter = e.emitter;
  started.push(e);
});

after(async () => {
  peers.closeAll();
  // Servers first (they hold Redis connections), the private Redis last.
  const [redisProc, ...rest] = started;
  await Promise.allSettled(rest.reverse().map((p) => p.stop()));
  await redisProc?.stop();
});

afterEach(() => peers.closeAll());

/** Authenticated clients on both servers, over both transports. */
async function fourClients() {
  const [rustWs, rustPoll, nodeWs, nodePoll] = await Promise.all([
    peers.authenticated(rust, { transport: 'websocket' }),
    peers.authenticated(rust, { transport: 'polling' }),
    peers.authenticated(node, { transport: 'websocket' }),
    peers.authenticated(node, { transport: 'polling' }),
  ]);
  return { rustWs, rustPoll, nodeWs, nodePoll, all: [rustWs, rustPoll, nodeWs, nodePoll] };
}

/** Asserts every socket gets `event` with exactly `data`. */
async function allReceive(sockets, event, data) {
  const got = await Promise.all(sockets.map((s) => waitFor(s, event)));
  for (const [i, payload] of got.entries()) {
    assert.deepEqual(payload, data, `payload at ${sockets[i].server.label} ${sockets[i].id}`);
  }
}

async function noneReceive(sockets, event) {
  await Promise.all(sockets.map((s) => expectNoEvent(s, event)));
}

describe('the fleet', () => {
  test('every_server_subscribes_once_to_the_request_channel', async () => {
    // Node counts servers with PUBSUB NUMSUB on the request channel: Rust,
    // reference and the plain Node server must count as exactly three.
    assert.equal(await plain.io.of('/').adapter.serverCount(), 3);
  });
});

describe('REST on either server reaches clients on both', () => {
  test('rust_rest_broadcast_reaches_authenticated_clients_on_both_but_not_unauthenticated_rust_clients', async (t) => {
    const c = await fourClients();
    const stranger = await peers.connectedOnly(rust, { transport: 'websocket' });
    const nodeStranger = await peers.connectedOnly(node, { transport: 'websocket' });
    const nodeStrangerGot = [];
    nodeStranger.on('interop:rust-broadcast', (p) => nodeStrangerGot.push(p));
    const arrivals = allReceive(c.all, 'interop:rust-broadcast', { n: 1, from: 'rust' });
    const res = await apiOk(rust, 'POST', '/api/socket/broadcast',
      { topic: 'interop:rust-broadcast', data: { n: 1, from: 'rust' } });
    assert.match(res.message, /Broadcast sent/);
    await arrivals;
    await expectNoEvent(stranger, 'interop:rust-broadcast');
    // The Rust helper excludes its own internal room of unauthenticated
    // sockets; a Node server has no such room, so it cannot exclude its own.
    t.diagnostic(`unauthenticated Node-reference client got the Rust broadcast: ${nodeStrangerGot.length > 0}`);
  });

  test('node_rest_broadcast_reaches_authenticated_clients_on_both', async (t) => {
    const c = await fourClients();
    const stranger = await peers.connectedOnly(rust, { transport: 'polling' });
    const strangerGot = [];
    stranger.on('interop:node-broadcast', (p) => strangerGot.push(p));
    const arrivals = allReceive(c.all, 'interop:node-broadcast', { n: 2, from: 'node' });
    await apiOk(node, 'POST', '/api/socket/broadcast',
      { topic: 'interop:node-broadcast', data: { n: 2, from: 'node' } });
    await arrivals;
    await sleep(QUIET_MS);
    // The reference's emitter publishes "everyone" (rooms [] except []): a
    // receiver cannot tell authenticated sockets apart, so this is reference
    // behaviour (this project keeps unauthenticated sockets out of its own
    // broadcasts only).
    t.diagnostic(`unauthenticated Rust client got the Node broadcast: ${strangerGot.length > 0}`);
  });

  test('rust_rest_room_send_reaches_room_members_on_both_only', async () => {
    const c = await fourClients();
    const room = uniqueRoom('rust-room-send');
    await Promise.all([joinRooms(c.rustWs, [room]), joinRooms(c.nodePoll, [room])]);
    const arrivals = allReceive([c.rustWs, c.nodePoll], 'interop:room', { room, via: 'rust' });
    const res = await apiOk(rust, 'POST', `/api/socket/room/${encodeURIComponent(room)}/send`,
      { topic: 'interop:room', data: { room, via: 'rust' } });
    assert.equal(res.message, `Message sent to room: ${room}`);
    await arrivals;
    await noneReceive([c.rustPoll, c.nodeWs], 'interop:room');
  });

  test('node_rest_room_send_reaches_room_members_on_both_only', async () => {
    const c = await fourClients();
    const room = uniqueRoom('node-room-send');
    await Promise.all([joinRooms(c.rustPoll, [room]), joinRooms(c.nodeWs, [room])]);
    const arrivals = allReceive([c.rustPoll, c.nodeWs], 'interop:room', { room, via: 'node' });
    await apiOk(node, 'POST', `/api/socket/room/${encodeURIComponent(room)}/send`,
      { topic: 'interop:room', data: { room, via: 'node' } });
    await arrivals;
    await noneReceive([c.rustWs, c.nodePoll], 'interop:room');
  });

  test('rest_join_on_one_server_makes_room_sends_from_the_other_arrive', async () => {
    const c = await fourClients();
    const room = uniqueRoom('rest-join');
    await apiOk(rust, 'POST', `/api/socket/client/${c.rustWs.id}/join`, { rooms: [room] });
    await apiOk(node, 'POST', `/api/socket/client/${c.nodeWs.id}/join`, { rooms: [room] });
    assert.ok((await roomsOf(rust, c.rustWs.id)).includes(room));
    assert.ok((await roomsOf(node, c.nodeWs.id)).includes(room));
    let arrivals = allReceive([c.rustWs, c.nodeWs], 'interop:joined', { step: 1 });
    await apiOk(node, 'POST', `/api/socket/room/${encodeURIComponent(room)}/send`,
      { topic: 'interop:joined', data: { step: 1 } });
    await arrivals;
    await apiOk(rust, 'POST', `/api/socket/client/${c.rustWs.id}/leave`, { rooms: [room] });
    assert.ok(!(await roomsOf(rust, c.rustWs.id)).includes(room));
    arrivals = allReceive([c.nodeWs], 'interop:joined', { step: 2 });
    await apiOk(node, 'POST', `/api/socket/room/${encodeURIComponent(room)}/send`,
      { topic: 'interop:joined', data: { step: 2 } });
    await arrivals;
    await expectNoEvent(c.rustWs, 'interop:joined');
  });

  test('rust_rest_sends_falsy_data_unchanged_to_clients_on_both', async () => {
    const c = await fourClients();
    const room = uniqueRoom('falsy');
    await Promise.all([joinRooms(c.rustWs, [room]), joinRooms(c.nodePoll, [room])]);
    for (const data of [0, false, '', null, [], { nested: { list: [1.5, -2, 'x'] } }]) {
      const arrivals = [c.rustWs, c.nodePoll].map((s) => waitFor(s, 'interop:falsy'));
      await apiOk(rust, 'POST', `/api/socket/room/${encodeURIComponent(room)}/send`,
        { topic: 'interop:falsy', data });
      for (const got of await Promise.all(arrivals)) assert.deepEqual(got, data);
    }
  });

  test('room_names_with_hash_spaces_and_unicode_work_across_servers', async () => {
    const c = await fourClients();
    for (const room of ['public-a#b#', 'public-with space', 'public-ümlaut-日本-🎉', 'public-#']) {
      await Promise.all([joinRooms(c.rustWs, [room]), joinRooms(c.nodeWs, [room])]);
      for (const origin of [rust, node]) {
        const arrivals = allReceive([c.rustWs, c.nodeWs], 'interop:odd-room', { room, via: origin.label });
        await apiOk(origin, 'POST', `/api/socket/room/${encodeURIComponent(room)}/send`,
          { topic: 'interop:odd-room', data: { room, via: origin.label } });
        await arrivals;
      }
      const viaEmitter = allReceive([c.rustWs, c.nodeWs], 'interop:odd-room', { room, via: 'emitter' });
      emitter.to(room).emit('interop:odd-room', { room, via: 'emitter' });
      await viaEmitter;
      await noneReceive([c.rustPoll, c.nodePoll], 'interop:odd-room');
    }
  });

  test('large_payloads_cross_between_servers', async () => {
    const c = await fourClients();
    const big = { text: 'x'.repeat(512 * 1024), list: Array.from({ length: 2000 }, (_, i) => i) };
    for (const origin of [rust, node]) {
      const arrivals = c.all.map((s) => waitFor(s, 'interop:big'));
      await apiOk(origin, 'POST', '/api/socket/broadcast', { topic: 'interop:big', data: big });
      for (const got of await Promise.all(arrivals)) assert.deepEqual(got, big);
    }
  });

  test('rust_rest_client_send_reaches_a_client_of_the_node_server', async () => {
    const c = await fourClients();
    const arrival = waitFor(c.nodePoll, 'interop:direct');
    const res = await apiOk(rust, 'POST', `/api/socket/client/${c.nodePoll.id}/send`,
      { topic: 'interop:direct', data: { to: c.nodePoll.id } });
    assert.equal(res.message, `Message sent to client: ${c.nodePoll.id}`);
    assert.deepEqual(await arrival, { to: c.nodePoll.id });
    await noneReceive([c.rustWs, c.rustPoll, c.nodeWs], 'interop:direct');
  });

  test('node_rest_client_send_reaches_a_client_of_the_rust_server', async () => {
    const c = await fourClients();
    const arrival = waitFor(c.rustWs, 'interop:direct');
    await apiOk(node, 'POST', `/api/socket/client/${c.rustWs.id}/send`,
      { topic: 'interop:direct', data: { to: c.rustWs.id } });
    assert.deepEqual(await arrival, { to: c.rustWs.id });
    await noneReceive([c.rustPoll, c.nodeWs, c.nodePoll], 'interop:direct');
  });
});

describe('chat between servers', () => {
  for (const origin of ['rust', 'node']) {
    test(`chat_message_with_a_room_from_a_${origin}_client_reaches_members_on_both`, async () => {
      const c = await fourClients();
      const room = uniqueRoom(`chat-${origin}`);
      const sender = origin === 'rust' ? c.rustPoll : c.nodeWs;
      const members = [c.rustWs, c.nodePoll];
      await Promise.all([sender, ...members].map((s) => joinRooms(s, [room])));
      const arrivals = Promise.all([sender, ...members].map((s) => waitFor(s, 'chat:message')));
      sender.emit('chat:message', { room, message: `hello from ${origin}` });
      for (const got of await arrivals) {
        assert.equal(got.from, sender.id);
        assert.equal(got.message, `hello from ${origin}`);
        assert.match(got.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      }
      const outsider = origin === 'rust' ? c.nodeWs : c.rustPoll;
      await expectNoEvent(outsider, 'chat:message');
    });

    test(`chat_message_without_a_room_from_a_${origin}_client_is_a_chat_broadcast_on_both`, async () => {
      const c = await fourClients();
      const sender = origin === 'rust' ? c.rustWs : c.nodePoll;
      const text = `to everyone from ${origin} ${Date.now()}`;
      const arrivals = Promise.all(c.all.map((s) => waitFor(s, 'chat:broadcast', (p) => p?.message === text)));
      sender.emit('chat:message', { message: text });
      for (const got of await arrivals) assert.equal(got.from, sender.id);
    });
  }
});

describe('a Node @socket.io/redis-emitter reaches both servers', () => {
  test('emitter_emit_reaches_clients_on_both', async () => {
    const c = await fourClients();
    const arrivals = allReceive(c.all, 'interop:emitter-all', { via: 'emitter' });
    emitter.emit('interop:emitter-all', { via: 'emitter' });
    await arrivals;
  });

  test('emitter_to_room_reaches_room_members_on_both_only', async () => {
    const c = await fourClients();
    const room = uniqueRoom('emitter-to');
    await Promise.all([joinRooms(c.rustWs, [room]), joinRooms(c.nodeWs, [room])]);
    const arrivals = allReceive([c.rustWs, c.nodeWs], 'interop:emitter-room', [1, 'two', { three: 3 }]);
    emitter.to(room).emit('interop:emitter-room', [1, 'two', { three: 3 }]);
    await arrivals;
    await noneReceive([c.rustPoll, c.nodePoll], 'interop:emitter-room');
  });

  test('emitter_to_room_with_several_arguments_keeps_them_all', async () => {
    const c = await fourClients();
    const room = uniqueRoom('emitter-args');
    await Promise.all([joinRooms(c.rustPoll, [room]), joinRooms(c.nodePoll, [room])]);
    const arrivals = [c.rustPoll, c.nodePoll].map((s) => new Promise((resolve) => {
      s.once('interop:args', (...args) => resolve(args));
    }));
    emitter.to(room).emit('interop:args', 'a', 2, null, { d: [true] });
    for (const args of await Promise.all(arrivals)) {
      assert.deepEqual(args, ['a', 2, null, { d: [true] }]);
    }
  });

  test('emitter_binary_payload_reaches_clients_on_both_as_bytes', async () => {
    const c = await fourClients();
    const room = uniqueRoom('emitter-bin');
    await Promise.all([joinRooms(c.rustWs, [room]), joinRooms(c.nodeWs, [room])]);
    const arrivals = [c.rustWs, c.nodeWs].map((s) => waitFor(s, 'interop:bin'));
    emitter.to(room).emit('interop:bin', { name: 'blob', bytes: Buffer.from([1, 2, 3, 255]) });
    for (const got of await Promise.all(arrivals)) {
      assert.equal(got.name, 'blob');
      assert.deepEqual([...new Uint8Array(got.bytes)], [1, 2, 3, 255]);
    }
  });

  test('emitter_except_skips_the_excluded_room_and_socket_id_on_both', async () => {
    const c = await fourClients();
    const room = uniqueRoom('emitter-in');
    const muted = uniqueRoom('emitter-muted');
    await Promise.all(c.all.map((s) => joinRooms(s, [room])));
    await Promise.all([joinRooms(c.rustWs, [muted]), joinRooms(c.nodeWs, [muted])]);
    // Excluding rooms, and excluding one socket by its id (own-id room), on each server.
    const arrivals = allReceive([c.rustPoll], 'interop:except', { ok: true });
    emitter.to(room).except([muted, c.nodePoll.id]).emit('interop:except', { ok: true });
    await arrivals;
    await noneReceive([c.rustWs, c.nodeWs, c.nodePoll], 'interop:except');
    // Except without a room: every socket but the excluded Rust one.
    const all = allReceive([c.rustWs, c.nodeWs, c.nodePoll], 'interop:except-all', { ok: 2 });
    emitter.except(c.rustPoll.id).emit('interop:except-all', { ok: 2 });
    await all;
    await expectNoEvent(c.rustPoll, 'interop:except-all');
  });

  test('emitter_sockets_join_and_leave_change_rooms_on_both', async () => {
    const c = await fourClients();
    const group = uniqueRoom('emitter-group');
    const extra = uniqueRoom('emitter-extra');
    await Promise.all([joinRooms(c.rustWs, [group]), joinRooms(c.nodePoll, [group])]);
    emitter.in(group).socketsJoin(extra);
    await roomsEventually(rust, c.rustWs.id, (r) => r.includes(extra), 'rust client joins via the emitter');
    await roomsEventually(node, c.nodePoll.id, (r) => r.includes(extra), 'node client joins via the emitter');
    assert.ok(!(await roomsOf(rust, c.rustPoll.id)).includes(extra), 'non-member on rust must not join');
    assert.ok(!(await roomsOf(node, c.nodeWs.id)).includes(extra), 'non-member on node must not join');
    // The joined room is live for sends from either server.
    let arrivals = allReceive([c.rustWs, c.nodePoll], 'interop:extra', { n: 1 });
    await apiOk(rust, 'POST', `/api/socket/room/${encodeURIComponent(extra)}/send`,
      { topic: 'interop:extra', data: { n: 1 } });
    await arrivals;

    emitter.in(extra).socketsLeave(extra);
    await roomsEventually(rust, c.rustWs.id, (r) => !r.includes(extra), 'rust client leaves via the emitter');
    await roomsEventually(node, c.nodePoll.id, (r) => !r.includes(extra), 'node client leaves via the emitter');
    assert.ok((await roomsOf(rust, c.rustWs.id)).includes(group), 'other rooms stay');
    arrivals = allReceive([c.rustWs, c.nodePoll], 'interop:group', { n: 2 });
    await apiOk(node, 'POST', `/api/socket/room/${encodeURIComponent(extra)}/send`,
      { topic: 'interop:extra', data: { n: 2 } });
    await noneReceive([c.rustWs, c.nodePoll], 'interop:extra');
    await apiOk(node, 'POST', `/api/socket/room/${encodeURIComponent(group)}/send`,
      { topic: 'interop:group', data: { n: 2 } });
    await arrivals;
  });

  test('emitter_disconnect_sockets_disconnects_room_members_on_both', async () => {
    const c = await fourClients();
    const doomed = uniqueRoom('emitter-doomed');
    await Promise.all([joinRooms(c.rustPoll, [doomed]), joinRooms(c.nodeWs, [doomed])]);
    const reasons = Promise.all([disconnectReason(c.rustPoll), disconnectReason(c.nodeWs)]);
    emitter.in(doomed).disconnectSockets();
    assert.deepEqual(await reasons, ['io server disconnect', 'io server disconnect']);
    await eventually(async () => {
      const info = (await api(rust, 'GET', '/api/socket/info')).body;
      return !info.clientIds.includes(c.rustPoll.id);
    }, 'the Rust server forgets the disconnected client');
    // Everyone else is still there and reachable.
    assert.ok(c.rustWs.connected && c.nodePoll.connected);
    const arrivals = allReceive([c.rustWs, c.nodePoll], 'interop:survivors', { ok: true });
    emitter.emit('interop:survivors', { ok: true });
    await arrivals;
  });
});

describe('a plain Node socket.io server with @socket.io/redis-adapter', () => {
  test('fetch_sockets_sees_the_rust_servers_sockets_with_ids_and_rooms', async (t) => {
    const c = await fourClients();
    const room = uniqueRoom('fetch');
    await Promise.all([joinRooms(c.rustWs, [room]), joinRooms(c.nodePoll, [room])]);

    const everyone = await plain.io.fetchSockets();
    const ids = everyone.map((s) => s.id);
    for (const s of c.all) assert.ok(ids.includes(s.id), `fetchSockets() lists ${s.server.label} ${s.id}`);

    const inRoom = await plain.io.in(room).fetchSockets();
    assert.deepEqual(inRoom.map((s) => s.id).sort(), [c.rustWs.id, c.nodePoll.id].sort());
    const butRust = await plain.io.in(room).except(c.rustWs.id).fetchSockets();
    assert.deepEqual(butRust.map((s) => s.id), [c.nodePoll.id]);

    const [remote] = await plain.io.in(c.rustWs.id).fetchSockets();
    assert.ok(remote, 'the Rust client is found by its id');
    assert.equal(remote.id, c.rustWs.id);
    assert.deepEqual([...remote.rooms].sort(),
      [c.rustWs.id, 'io-default', 'io-notification', room].sort());
    // The Rust server is the same for REST: the rooms agree.
    assert.deepEqual([...remote.rooms].sort(), await roomsOf(rust, c.rustWs.id));
    // Node's socket.handshake and socket.data of a Rust socket come from
    // RedisAdapterState::register_socket; the demo server publishes them only
    // if it wires a SocketObserver doing so (not yet: known gap).
    t.diagnostic(`Rust socket handshake as Node sees it: ${JSON.stringify(remote.handshake)}; data: ${JSON.stringify(remote.data)}`);
    if (Object.keys(remote.handshake?.headers ?? {}).length > 0) {
      assert.equal(remote.handshake.auth?.token, 'secret');
      assert.equal(remote.handshake.query?.EIO, '4');
      assert.equal(remote.handshake.query?.transport, 'websocket');
      assert.equal(remote.handshake.address, '127.0.0.1');
    }

    // A RemoteSocket of the Rust server can be emitted to directly.
    const arrival = waitFor(c.rustWs, 'interop:remote-socket');
    remote.emit('interop:remote-socket', { direct: true });
    assert.deepEqual(await arrival, { direct: true });
  });

  test('broadcast_with_acks_from_node_collects_the_acks_of_clients_on_both', async () => {
    const c = await fourClients();
    const room = uniqueRoom('acks');
    await Promise.all([joinRooms(c.rustWs, [room]), joinRooms(c.rustPoll, [room]), joinRooms(c.nodeWs, [room])]);
    for (const s of c.all) s.on('interop:ask', (n, cb) => cb({ id: s.id, n: n + 1 }));
    // Node completes only when every server (Rust included) sent its client
    // count and every counted client acked; a missing count times it out.
    const acks = await plain.io.to(room).timeout(6000).emitWithAck('interop:ask', 41);
    assert.deepEqual(acks.map((a) => a.id).sort(), [c.rustWs.id, c.rustPoll.id, c.nodeWs.id].sort());
    for (const a of acks) assert.equal(a.n, 42);
    // No member anywhere: every server answers a count of 0, so it completes empty.
    assert.deepEqual(await plain.io.to(uniqueRoom('nobody')).timeout(6000).emitWithAck('interop:ask', 0), []);
  });

  test('all_rooms_includes_rooms_of_rust_clients', async (t) => {
    const c = await fourClients();
    await peers.connectedOnly(rust, { transport: 'websocket' });
    const room = uniqueRoom('all-rooms');
    await joinRooms(c.rustPoll, [room]);
    const rooms = await plain.io.of('/').adapter.allRooms();
    assert.ok(rooms.has(room), `allRooms() has ${room}`);
    assert.ok(rooms.has(c.rustPoll.id), 'allRooms() has the Rust client own-id room');
    // The helper's internal room of not-yet-authenticated sockets is hidden by
    // its REST but visible to Node peers.
    t.diagnostic(`allRooms() shows the Rust helper's internal room: ${rooms.has('ignis-socketio:unauthenticated')}`);
  });

  test('sockets_join_and_leave_by_rust_client_id_change_its_rooms', async () => {
    const c = await fourClients();
    const room = uniqueRoom('plain-join');
    plain.io.in(c.rustWs.id).socketsJoin([room]);
    await roomsEventually(rust, c.rustWs.id, (r) => r.includes(room), 'socketsJoin by id on the Rust client');
    assert.ok(!(await roomsOf(rust, c.rustPoll.id)).includes(room), 'only the targeted Rust client');
    const arrival = waitFor(c.rustWs, 'interop:plain-room');
    plain.io.to(room).emit('interop:plain-room', { from: 'plain' });
    assert.deepEqual(await arrival, { from: 'plain' });
    plain.io.in(c.rustWs.id).socketsLeave(room);
    await roomsEventually(rust, c.rustWs.id, (r) => !r.includes(room), 'socketsLeave by id on the Rust client');
    assert.deepEqual(await roomsOf(rust, c.rustWs.id),
      [c.rustWs.id, 'io-default', 'io-notification'].sort());
  });

  test('disconnect_sockets_by_rust_client_id_disconnects_only_that_client', async () => {
    const c = await fourClients();
    // socket.io-client forgets its id on disconnect: keep it.
    const id = c.rustWs.id;
    const reason = disconnectReason(c.rustWs);
    plain.io.in(id).disconnectSockets(true);
    assert.equal(await reason, 'io server disconnect');
    await eventually(async () => {
      const info = (await api(rust, 'GET', '/api/socket/info')).body;
      return !info.clientIds.includes(id) && info.clientIds.includes(c.rustPoll.id);
    }, 'the Rust server drops exactly the disconnected client');
    let left;
    await eventually(async () => {
      left = (await plain.io.in(id).fetchSockets()).map((s) => ({ id: s.id, rooms: [...s.rooms] }));
      return left.length === 0;
    }, () => `the disconnected Rust socket disappears from fetchSockets() cluster-wide (still: ${JSON.stringify(left)})`);
    assert.ok(c.rustPoll.connected && c.nodeWs.connected && c.nodePoll.connected);
  });

  test('targets_naming_no_room_reach_nobody_on_either_server', async () => {
    // Node's io.in(undefined) publishes `rooms: [null]` and matches no socket;
    // the Rust server once read it as "everyone" and disconnected them all.
    const c = await fourClients();
    const room = uniqueRoom('never-joined');
    plain.io.in(undefined).socketsJoin(room);
    plain.io.in(undefined).disconnectSockets(true);
    assert.deepEqual(await plain.io.in(undefined).fetchSockets(), []);
    await sleep(QUIET_MS);
    for (const s of c.all) assert.ok(s.connected, `${s.server.label} ${s.id} stays connected`);
    assert.ok(!(await roomsOf(rust, c.rustWs.id)).includes(room));
    assert.ok(!(await roomsOf(node, c.nodeWs.id)).includes(room));
  });

  test('broadcast_from_the_plain_node_server_reaches_rust_and_reference_clients', async () => {
    const c = await fourClients();
    const arrivals = allReceive(c.all, 'interop:plain-all', { from: 'plain' });
    plain.io.emit('interop:plain-all', { from: 'plain' });
    await arrivals;
  });

  test('server_side_emit_is_ignored_by_servers_without_listeners_and_they_keep_serving', async () => {
    const c = await fourClients();
    plain.io.serverSideEmit('interop:sse', { n: 1 });
    // With an ack wanted, Node waits for the other 2 servers; neither demo
    // server registers a listener, so none may answer (a bogus answer would
    // count as one).
    await assert.rejects(
      plain.io.serverSideEmitWithAck('interop:sse-ack', { n: 2 }),
      (e) => {
        assert.match(String(e?.message ?? e), /only 0 responses received out of 2|timed out/);
        return true;
      },
    );
    const arrivals = allReceive(c.all, 'interop:after-sse', { ok: true });
    await apiOk(rust, 'POST', '/api/socket/broadcast', { topic: 'interop:after-sse', data: { ok: true } });
    await arrivals;
    assert.equal((await api(rust, 'GET', '/api/socket/health')).body.healthy, true);
    assert.equal(await plain.io.of('/').adapter.serverCount(), 3);
  });
});

describe('servers joining and leaving the fleet', () => {
  test('a_second_rust_server_joins_serves_and_leaves_cleanly', async () => {
    const c = await fourClients();
    const extra = await startRustServer(redis.url);
    let stopped = false;
    try {
      await eventually(async () => (await plain.io.of('/').adapter.serverCount()) === 4,
        'the second Rust server counts as a fourth server');
      const mine = await peers.authenticated(extra, { transport: 'websocket' });
      const arrivals = allReceive([...c.all, mine], 'interop:five', { n: 5 });
      await apiOk(extra, 'POST', '/api/socket/broadcast', { topic: 'interop:five', data: { n: 5 } });
      await arrivals;
      // Rust to Rust through Redis: a client send between the two Rust servers.
      const direct = waitFor(mine, 'interop:r2r');
      await apiOk(rust, 'POST', `/api/socket/client/${mine.id}/send`, { topic: 'interop:r2r', data: { ok: 1 } });
      assert.deepEqual(await direct, { ok: 1 });
      const gone = disconnectReason(mine);
      const exit = await extra.stop();
      stopped = true;
      assert.deepEqual(exit, { code: 0, signal: null }, extra.output());
      assert.equal(typeof (await gone), 'string');
      await eventually(async () => (await plain.io.of('/').adapter.serverCount()) === 3,
        'the stopped Rust server closed its Redis subscription');
      // The rest of the fleet is unaffected.
      const after = allReceive(c.all, 'interop:four', { n: 4 });
      await apiOk(rust, 'POST', '/api/socket/broadcast', { topic: 'interop:four', data: { n: 4 } });
      await after;
    } finally {
      if (!stopped) await extra.stop();
    }
  });
});

describe('the Rust server REST stays correct in the fleet', () => {
  test('info_and_clients_list_only_the_rust_servers_own_clients', async () => {
    const c = await fourClients();
    const stranger = await peers.connectedOnly(rust, { transport: 'websocket' });
    const mine = [c.rustWs.id, c.rustPoll.id, stranger.id].sort();
    const theirs = [c.nodeWs.id, c.nodePoll.id];
    await eventually(async () => {
      const info = (await api(rust, 'GET', '/api/socket/info')).body;
      return info.connectedClients === mine.length;
    }, 'Rust /info counts only its own clients (earlier tests\' clients gone)');
    const info = await api(rust, 'GET', '/api/socket/info');
    assert.equal(info.status, 200);
    assert.equal(info.body.status, 'running');
    assert.deepEqual([...info.body.clientIds].sort(), mine);
    for (const id of theirs) assert.ok(!info.body.clientIds.includes(id));
    const clients = await api(rust, 'GET', '/api/socket/clients');
    assert.equal(clients.body.count, mine.length);
    const health = await api(rust, 'GET', '/api/socket/health');
    assert.equal(health.body.healthy, true);
  });

  test('rest_calls_for_a_client_of_the_other_server_answer_client_not_found', async () => {
    const c = await fourClients();
    const id = c.nodeWs.id;
    for (const [method, path, body] of [
      ['GET', `/api/socket/client/${id}/rooms`, undefined],
      ['POST', `/api/socket/client/${id}/join`, { rooms: ['public-x'] }],
      ['POST', `/api/socket/client/${id}/leave`, { rooms: ['public-x'] }],
    ]) {
      const res = await api(rust, method, path, body);
      assert.equal(res.status, 200, `${method} ${path}`);
      assert.deepEqual(res.body, { success: false, message: `Client not found: ${id}` });
    }
    // Joining through the Rust REST did not touch the Node client.
    assert.ok(!(await roomsOf(node, id)).includes('public-x'));
  });
});

// Last: it restarts the shared private Redis under the whole fleet.
describe('a Redis restart under the fleet', () => {
  test('every_server_resubscribes_and_messages_cross_again', async () => {
    const c = await fourClients();
    const port = redis.port;
    await redis.stop();
    redis = await startRedisOnPort(port);
    started[0] = redis;
    // Node's ioredis and the Rust adapter both reconnect and subscribe again.
    await eventually(async () => (await plain.io.of('/').adapter.serverCount()) === 3,
      'Rust, reference and plain Node servers all subscribed again', 30_000);
    await eventually(async () => (await api(rust, 'GET', '/api/socket/health')).body.healthy === true,
      'the Rust server reports healthy again', 30_000);
    for (const origin of [rust, node]) {
      const arrivals = allReceive(c.all, 'interop:after-restart', { via: origin.label });
      await apiOk(origin, 'POST', '/api/socket/broadcast',
        { topic: 'interop:after-restart', data: { via: origin.label } });
      await arrivals;
    }
    const viaEmitter = allReceive(c.all, 'interop:after-restart', { via: 'emitter' });
    emitter.emit('interop:after-restart', { via: 'emitter' });
    await viaEmitter;
    const fetched = (await plain.io.fetchSockets()).map((s) => s.id);
    for (const s of c.all) assert.ok(fetched.includes(s.id), `fetchSockets() after the restart lists ${s.id}`);
  });
});

// Authentication handshake, ping and the client registry (docs/protocol.md "Events" and
// "States", docs/demo-server.md "Process"), over both transports.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  TRANSPORTS, TOKEN, AUTH_TIMEOUT_MS, PING_INTERVAL_MS, ISO_MS, QUIET_MS, EVENT_TIMEOUT_MS,
  Peers, startServer, connect, connected, waitFor, expectNoEvent, emitWithAck, sleep, api,
  roomsOf, eventually, describeSocket,
} from './harness.mjs';

const INVALID_TOKEN = 'Invalid token to authenticate! Please login again!';
const FAILED = 'Failed to authenticate connection! Please login again!';

let server;
const peers = new Peers();
before(async () => { server = await startServer(); });
after(async () => { peers.closeAll(); await server?.stop(); });
afterEach(() => peers.closeAll());

/**
 * Records the order of the control events a socket sees until it is
 * disconnected, or (ending the list with `timeout`) until EVENT_TIMEOUT_MS passed.
 */
function recordUntilDisconnect(socket) {
  const events = [];
  for (const name of ['ping', 'authenticated', 'unauthenticated']) {
    socket.on(name, (payload) => events.push({ name, payload }));
  }
  const done = new Promise((resolve) => {
    const timer = setTimeout(() => {
      events.push({ name: 'timeout' });
      resolve(events);
    }, EVENT_TIMEOUT_MS);
    socket.on('disconnect', (reason) => {
      clearTimeout(timer);
      events.push({ name: 'disconnect', payload: reason });
      resolve(events);
    });
  });
  return done;
}

function assertUnauthenticatedPayload(payload, message, code) {
  assert.equal(typeof payload, 'object');
  assert.equal(payload.message, message);
  assert.match(payload.time, ISO_MS);
  assert.equal(payload.code, code);
}

async function clientIds() {
  const res = await api(server, 'GET', '/api/socket/info');
  assert.equal(res.status, 200);
  return res.body.clientIds;
}

for (const transport of TRANSPORTS) {
  describe(`authentication over ${transport}`, () => {
    test('token_in_handshake_auth_is_accepted_with_ping_then_authenticated', async () => {
      const socket = peers.track(connect(server, { transport, credentials: 'auth' }));
      await connected(socket);
      const ping = waitFor(socket, 'ping');
      const auth = waitFor(socket, 'authenticated');
      socket.emit('authenticate');
      const payload = await auth;
      assert.deepEqual(Object.keys(payload).sort(), ['id', 'time']);
      assert.equal(payload.id, socket.id);
      assert.match(payload.time, ISO_MS);
      const pingPayload = await ping;
      assert.match(pingPayload.time, ISO_MS);
      assert.equal(socket.connected, true);
    });

    test('bearer_token_in_authorization_header_is_accepted', async () => {
      const socket = await peers.authenticated(server, { transport, credentials: 'header' });
      assert.equal(socket.connected, true);
      assert.ok((await clientIds()).includes(socket.id));
    });

    test('wrong_token_in_auth_gets_unauthenticated_with_code_before_disconnect', async () => {
      const socket = peers.track(connect(server, { transport, credentials: 'auth', token: 'nope' }));
      await connected(socket);
      const events = recordUntilDisconnect(socket);
      socket.emit('authenticate');
      const seen = await events;
      const names = seen.map((e) => e.name);
      assert.deepEqual(names, ['unauthenticated', 'disconnect'], JSON.stringify(seen));
      assertUnauthenticatedPayload(seen[0].payload, INVALID_TOKEN, 'invalid_token');
      assert.equal(seen[1].payload, 'io server disconnect');
    });

    test('wrong_token_in_header_gets_unauthenticated_before_disconnect', async () => {
      const socket = peers.track(
        connect(server, { transport, credentials: 'header', token: 'secret-but-not-quite' }),
      );
      await connected(socket);
      const events = recordUntilDisconnect(socket);
      socket.emit('authenticate');
      const seen = await events;
      assert.deepEqual(seen.map((e) => e.name), ['unauthenticated', 'disconnect']);
      assertUnauthenticatedPayload(seen[0].payload, INVALID_TOKEN, 'invalid_token');
    });

    test('missing_credentials_are_refused_with_unauthenticated', async () => {
      const socket = peers.track(connect(server, { transport, credentials: 'none' }));
      await connected(socket);
      const events = recordUntilDisconnect(socket);
      socket.emit('authenticate');
      const seen = await events;
      assert.deepEqual(seen.map((e) => e.name), ['unauthenticated', 'disconnect']);
      const payload = seen[0].payload;
      assert.ok([INVALID_TOKEN, FAILED].includes(payload.message), payload.message);
      assert.match(payload.time, ISO_MS);
      assert.equal(typeof payload.code, 'string');
    });

    // Credentials come from the handshake only: the `authenticate` event's payload is not read.
    test('token_only_in_the_authenticate_payload_is_refused', async () => {
      const socket = peers.track(connect(server, { transport, credentials: 'none' }));
      await connected(socket);
      const events = recordUntilDisconnect(socket);
      socket.emit('authenticate', { token: TOKEN });
      const seen = await events;
      assert.deepEqual(seen.map((e) => e.name), ['unauthenticated', 'disconnect'],
        JSON.stringify(seen));
    });

    test('authenticate_payload_token_does_not_override_a_wrong_handshake_token', async () => {
      const socket = peers.track(connect(server, { transport, credentials: 'auth', token: 'nope' }));
      await connected(socket);
      const events = recordUntilDisconnect(socket);
      socket.emit('authenticate', { token: TOKEN });
      const seen = await events;
      assert.deepEqual(seen.map((e) => e.name), ['unauthenticated', 'disconnect'],
        JSON.stringify(seen));
      assertUnauthenticatedPayload(seen[0].payload, INVALID_TOKEN, 'invalid_token');
    });

    test('right_header_token_is_accepted_whatever_auth_token_says', async () => {
      const socket = await peers.authenticated(server, {
        transport, credentials: 'auth', token: 'nope', headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(socket.connected, true);
    });

    test('right_auth_token_is_accepted_whatever_the_header_says', async () => {
      const socket = await peers.authenticated(server, {
        transport, credentials: 'auth', headers: { authorization: 'Bearer nope' },
      });
      assert.equal(socket.connected, true);
    });

    test('refused_client_is_removed_from_the_registry', async () => {
      const socket = peers.track(connect(server, { transport, credentials: 'auth', token: 'bad' }));
      await connected(socket);
      const id = socket.id;
      const gone = waitFor(socket, 'disconnect');
      socket.emit('authenticate');
      await gone;
      await eventually(async () => !(await clientIds()).includes(id), `${id} leaves the registry`);
    });

    test('client_that_never_authenticates_is_disconnected_after_the_auth_timeout', async () => {
      const socket = peers.track(connect(server, { transport }));
      await connected(socket);
      const started = Date.now();
      const reason = await waitFor(socket, 'disconnect', AUTH_TIMEOUT_MS + EVENT_TIMEOUT_MS);
      const elapsed = Date.now() - started;
      assert.equal(reason, 'io server disconnect');
      // Not earlier than the configured window (small allowance for the handshake round trip).
      assert.ok(elapsed >= AUTH_TIMEOUT_MS - 300, `disconnected after ${elapsed} ms`);
      assert.ok(!socket.received.some((e) => e.event === 'authenticated'));
      // This implementation says why before it disconnects (BEYOND the reference).
      const notice = socket.received.find((e) => e.event === 'unauthenticated');
      assert.ok(notice, 'unauthenticated is sent before the timeout disconnect');
      assert.equal(notice.args[0].code, 'authentication_timeout');
      assert.match(notice.args[0].time, ISO_MS);
    });

    test('authenticated_client_outlives_the_auth_timeout', async () => {
      const socket = await peers.authenticated(server, { transport });
      let disconnected = false;
      socket.on('disconnect', () => { disconnected = true; });
      await sleep(AUTH_TIMEOUT_MS + 700);
      assert.equal(disconnected, false);
      assert.equal(socket.connected, true);
    });

    test('authenticate_sent_the_moment_the_client_connects_is_always_answered', async () => {
      // A client that emits `authenticate` from its `connect` handler races the
      // server's own bookkeeping of the new socket: every one must still be answered.
      const rounds = 150;
      const unanswered = [];
      for (let i = 0; i < rounds; i += 1) {
        const socket = connect(server, { transport });
        const answered = new Promise((resolve) => {
          socket.on('connect', () => socket.emit('authenticate'));
          socket.on('authenticated', () => resolve(true));
          socket.on('unauthenticated', () => resolve(false));
          socket.on('disconnect', () => resolve(false));
          setTimeout(() => resolve(false), 3000);
        });
        if (!(await answered)) unanswered.push(describeSocket(socket));
        socket.disconnect();
      }
      assert.deepEqual(unanswered, [], `${unanswered.length} of ${rounds} never got "authenticated"`);
    });

    test('authenticate_is_answered_only_once', async () => {
      const socket = peers.track(connect(server, { transport }));
      await connected(socket);
      let count = 0;
      socket.on('authenticated', () => { count += 1; });
      socket.emit('authenticate');
      socket.emit('authenticate');
      await waitFor(socket, 'authenticated').catch(() => {});
      socket.emit('authenticate');
      await sleep(QUIET_MS);
      assert.equal(count, 1);
    });

    test('authenticate_ack_reports_the_authenticated_state', async () => {
      const socket = peers.track(connect(server, { transport }));
      await connected(socket);
      const ack = await emitWithAck(socket, 'authenticate');
      assert.equal(ack.state, 'authenticated');
      assert.equal(ack.id, socket.id);
      assert.match(ack.time, ISO_MS);
    });

    test('events_before_authentication_never_reach_the_application', async () => {
      const socket = await peers.connectedOnly(server, { transport });
      socket.emit('echo', { hello: 1 });
      socket.emit('get-clients');
      socket.emit('chat:message', { message: 'too early' });
      socket.emit('join', { rooms: ['public-early'] });
      await expectNoEvent(socket, 'echo:response');
      assert.ok(!socket.received.some((e) => ['clients:list', 'chat:broadcast'].includes(e.event)));
      const auth = waitFor(socket, 'authenticated');
      socket.emit('authenticate');
      await auth;
      assert.ok(!(await roomsOf(server, socket.id)).includes('public-early'));
    });

    test('join_before_authentication_joins_nothing', async () => {
      const socket = await peers.connectedOnly(server, { transport });
      // The reference never answers; an implementation may ack with an error. Either way: no room.
      const ack = await socket.timeout(QUIET_MS).emitWithAck('join', { rooms: ['public-pre'] })
        .catch(() => undefined);
      if (ack !== undefined) assert.ok(!(ack.joined ?? []).includes('public-pre'), JSON.stringify(ack));
      const auth = waitFor(socket, 'authenticated');
      socket.emit('authenticate');
      await auth;
      assert.ok(!(await roomsOf(server, socket.id)).includes('public-pre'));
    });

    test('no_application_ping_before_authentication', async () => {
      const socket = await peers.connectedOnly(server, { transport });
      await expectNoEvent(socket, 'ping', AUTH_TIMEOUT_MS - 500);
    });

    test('application_ping_repeats_every_interval', async () => {
      const socket = peers.track(connect(server, { transport }));
      await connected(socket);
      const pings = [];
      socket.on('ping', (p) => pings.push(p));
      socket.emit('authenticate');
      await waitFor(socket, 'authenticated');
      await sleep(PING_INTERVAL_MS * 3 + 500);
      // The first ping comes with `authenticated`, then one per interval.
      assert.ok(pings.length >= 3, `only ${pings.length} pings in ${PING_INTERVAL_MS * 3 + 500} ms`);
      for (const p of pings) assert.match(p.time, ISO_MS);
      const times = pings.map((p) => Date.parse(p.time));
      for (let i = 1; i < times.length; i += 1) assert.ok(times[i] >= times[i - 1]);
    });

    test('disconnected_client_leaves_the_registry', async () => {
      const socket = await peers.authenticated(server, { transport });
      const id = socket.id;
      assert.ok((await clientIds()).includes(id));
      socket.disconnect();
      await eventually(async () => !(await clientIds()).includes(id), `${id} leaves the registry`);
      const rooms = await api(server, 'GET', `/api/socket/client/${id}/rooms`);
      assert.deepEqual(rooms.body, { success: false, message: `Client not found: ${id}` });
    });
  });
}

// The REST control plane under /api (docs/demo-server.md "REST control plane"),
// including every error answer, falsy data passed through unchanged, and CORS.
// Receivers use both transports.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  TRANSPORTS, ISO_MS, Peers, startServer, waitFor, expectNoEvent, emitWithAck, api, roomsOf,
} from './harness.mjs';

let server;
const peers = new Peers();
before(async () => { server = await startServer(); });
after(async () => { peers.closeAll(); await server?.stop(); });
afterEach(() => peers.closeAll());

const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener',
  'removeListener'];
const FALSY = [['0', 0], ['false', false], ['""', ''], ['null', null], ['[]', []], ['{}', {}]];

/** Every route that sends `{topic, data}`, for a given authenticated client. */
function sendRoutes(clientId) {
  return [
    ['broadcast', '/api/socket/broadcast'],
    ['room send', '/api/socket/room/io-default/send'],
    ['client send', `/api/socket/client/${clientId}/send`],
  ];
}

/** Every key of `value`, at any depth (objects inside arrays included). */
function allKeys(value) {
  if (Array.isArray(value)) return value.flatMap(allKeys);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...allKeys(v)]);
}

describe('read-only routes', () => {
  test('info_reports_running_with_the_connected_client_ids', async () => {
    const a = await peers.authenticated(server, { transport: 'websocket' });
    const b = await peers.authenticated(server, { transport: 'polling' });
    const res = await api(server, 'GET', '/api/socket/info');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'running');
    assert.ok(Array.isArray(res.body.clientIds));
    assert.equal(res.body.connectedClients, res.body.clientIds.length);
    assert.ok(res.body.clientIds.includes(a.id) && res.body.clientIds.includes(b.id));
  });

  test('clients_reports_count_and_the_socket_ids', async () => {
    const a = await peers.authenticated(server, { transport: 'websocket' });
    const stranger = await peers.connectedOnly(server, { transport: 'polling' });
    const res = await api(server, 'GET', '/api/socket/clients');
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), ['clients', 'count'], res.text);
    assert.ok(Array.isArray(res.body.clients));
    assert.equal(res.body.count, res.body.clients.length);
    for (const entry of res.body.clients) assert.equal(typeof entry, 'string', res.text);
    assert.ok(res.body.clients.includes(a.id), res.text);
    // The same ids as /info's clientIds: every client of this node, authenticated or not.
    assert.ok(res.body.clients.includes(stranger.id), res.text);
    const info = await api(server, 'GET', '/api/socket/info');
    assert.deepEqual([...res.body.clients].sort(), [...info.body.clientIds].sort());
  });

  test('clients_details_describes_each_client_with_camel_case_keys', async () => {
    const a = await peers.authenticated(server, { transport: 'websocket' });
    const stranger = await peers.connectedOnly(server, { transport: 'polling' });
    const res = await api(server, 'GET', '/api/socket/clients/details');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['clients', 'count'], res.text);
    assert.equal(res.body.count, res.body.clients.length);
    for (const key of allKeys(res.body)) {
      assert.ok(!key.includes('_'), `key "${key}" is not camelCase: ${res.text}`);
    }
    const mine = res.body.clients.find((c) => c.id === a.id);
    assert.ok(mine, res.text);
    assert.deepEqual(Object.keys(mine).sort(),
      ['authenticatedAt', 'connectedAt', 'id', 'identity', 'rooms', 'state', 'transport']);
    assert.equal(mine.state, 'authenticated');
    assert.equal(mine.transport, 'websocket');
    assert.match(mine.connectedAt, ISO_MS);
    assert.match(mine.authenticatedAt, ISO_MS);
    assert.deepEqual([...mine.rooms].sort(), [a.id, 'io-default', 'io-notification'].sort());
    assert.equal(typeof mine.identity?.id, 'string');
    const waiting = res.body.clients.find((c) => c.id === stranger.id);
    assert.ok(waiting, res.text);
    assert.notEqual(waiting.state, 'authenticated');
    assert.equal(waiting.transport, 'polling');
    assert.equal(waiting.authenticatedAt, null);
    assert.equal(waiting.identity, null);
  });

  test('health_is_healthy_with_a_timestamp', async () => {
    const res = await api(server, 'GET', '/api/socket/health');
    assert.equal(res.status, 200);
    assert.equal(res.body.healthy, true);
    assert.match(res.body.timestamp, ISO_MS);
  });

  test('rooms_of_a_client_lists_its_rooms', async () => {
    const a = await peers.authenticated(server, { transport: 'polling' });
    const res = await api(server, 'GET', `/api/socket/client/${a.id}/rooms`);
    assert.equal(res.status, 200);
    assert.equal(res.body.success, true);
    assert.deepEqual([...res.body.rooms].sort(), [a.id, 'io-default', 'io-notification'].sort());
  });

  for (const path of ['/api/socket/nope', '/api/nothing', '/nothing', '/api/socket/client/x/unknown',
    '/api/socket/room/r/unknown', '/api/socket/clients/unknown']) {
    test(`unknown_route_answers_404: GET ${path}`, async () => {
      assert.equal((await api(server, 'GET', path)).status, 404);
    });
  }

  test('unknown_route_answers_404: POST', async () => {
    const res = await api(server, 'POST', '/api/socket/client/x/unknown', { topic: 't' });
    assert.equal(res.status, 404);
  });
});

for (const transport of TRANSPORTS) {
  const other = transport === 'polling' ? 'websocket' : 'polling';

  describe(`sending through REST to ${transport} clients`, () => {
    test('broadcast_reaches_every_authenticated_client_and_no_unauthenticated_one', async () => {
      const a = await peers.authenticated(server, { transport });
      const b = await peers.authenticated(server, { transport: other });
      const stranger = await peers.connectedOnly(server, { transport });
      const atA = waitFor(a, 'system:announcement');
      const atB = waitFor(b, 'system:announcement');
      const res = await api(server, 'POST', '/api/socket/broadcast',
        { topic: 'system:announcement', data: { text: 'hello all', n: 1 } });
      assert.equal(res.status, 200);
      assert.equal(res.body.success, true);
      assert.equal(typeof res.body.message, 'string');
      assert.deepEqual(await atA, { text: 'hello all', n: 1 });
      assert.deepEqual(await atB, { text: 'hello all', n: 1 });
      await expectNoEvent(stranger, 'system:announcement');
    });

    test('room_send_reaches_the_room_only', async () => {
      const a = await peers.authenticated(server, { transport });
      const b = await peers.authenticated(server, { transport: other });
      const room = `public-notify-${transport}`;
      await emitWithAck(a, 'join', { rooms: [room] });
      const atA = waitFor(a, 'room:update');
      const res = await api(server, 'POST', `/api/socket/room/${room}/send`,
        { topic: 'room:update', data: { v: 2 } });
      assert.equal(res.status, 200);
      assert.equal(res.body.success, true);
      assert.equal(typeof res.body.message, 'string');
      assert.deepEqual(await atA, { v: 2 });
      await expectNoEvent(b, 'room:update');
    });

    test('client_send_reaches_that_client_only', async () => {
      const a = await peers.authenticated(server, { transport });
      const b = await peers.authenticated(server, { transport: other });
      const atB = waitFor(b, 'direct:message');
      const res = await api(server, 'POST', `/api/socket/client/${b.id}/send`,
        { topic: 'direct:message', data: { text: 'hello specific client' } });
      assert.equal(res.status, 200);
      assert.equal(res.body.success, true);
      assert.equal(typeof res.body.message, 'string');
      assert.deepEqual(await atB, { text: 'hello specific client' });
      await expectNoEvent(a, 'direct:message');
    });

    test('rest_join_bypasses_the_validator_and_leave_removes', async () => {
      const a = await peers.authenticated(server, { transport });
      const join = await api(server, 'POST', `/api/socket/client/${a.id}/join`,
        { rooms: ['rest-room-a', 'rest-room-b'] });
      assert.equal(join.status, 200);
      assert.equal(join.body.success, true);
      assert.equal(typeof join.body.message, 'string');
      let rooms = await roomsOf(server, a.id);
      assert.ok(rooms.includes('rest-room-a') && rooms.includes('rest-room-b'), rooms.join());
      const atA = waitFor(a, 'rest:room');
      await api(server, 'POST', '/api/socket/room/rest-room-a/send', { topic: 'rest:room', data: 'r' });
      assert.equal(await atA, 'r');
      const leave = await api(server, 'POST', `/api/socket/client/${a.id}/leave`,
        { rooms: ['rest-room-b'] });
      assert.equal(leave.status, 200);
      assert.equal(leave.body.success, true);
      assert.equal(typeof leave.body.message, 'string');
      rooms = await roomsOf(server, a.id);
      assert.ok(rooms.includes('rest-room-a') && !rooms.includes('rest-room-b'), rooms.join());
    });

    for (const [name, value] of FALSY) {
      test(`falsy_data_is_delivered_unchanged_on_every_send_route: ${name}`, async () => {
        const a = await peers.authenticated(server, { transport });
        for (const [route, path] of sendRoutes(a.id)) {
          const topic = `falsy:${route.replace(' ', '-')}`;
          const got = waitFor(a, topic);
          const res = await api(server, 'POST', path, { topic, data: value });
          assert.equal(res.status, 200, `${route}: ${res.text}`);
          assert.equal(res.body.success, true, `${route}: ${res.text}`);
          assert.deepEqual(await got, value, route);
        }
      });
    }
  });
}

describe('error answers', () => {
  test('send_routes_without_topic_answer_400_topic_is_required', async () => {
    const a = await peers.authenticated(server, { transport: 'websocket' });
    for (const [route, path] of sendRoutes(a.id)) {
      for (const body of [{ data: 1 }, { topic: '', data: 1 }, {}]) {
        const res = await api(server, 'POST', path, body);
        assert.equal(res.status, 400, `${route} ${JSON.stringify(body)}`);
        assert.deepEqual(res.body, { error: 'Topic is required' }, route);
      }
    }
  });

  test('send_routes_with_a_reserved_topic_answer_400_with_error', async () => {
    const a = await peers.authenticated(server, { transport: 'websocket' });
    for (const [route, path] of sendRoutes(a.id)) {
      for (const topic of RESERVED) {
        const res = await api(server, 'POST', path, { topic, data: 1 });
        assert.equal(res.status, 400, `${route} ${topic}`);
        assert.equal(typeof res.body?.error, 'string', `${route} ${topic}: ${res.text}`);
      }
    }
    assert.ok(!a.received.some((e) => RESERVED.includes(e.event)));
    assert.equal(a.connected, true);
  });

  test('bodies_that_are_not_json_answer_400_with_error', async () => {
    const a = await peers.authenticated(server, { transport: 'websocket' });
    const paths = [...sendRoutes(a.id).map(([, p]) => p),
      `/api/socket/client/${a.id}/join`, `/api/socket/client/${a.id}/leave`];
    for (const path of paths) {
      for (const raw of ['not json', '{"topic": "x", ', '']) {
        const res = await api(server, 'POST', path, raw, { raw: true });
        assert.equal(res.status, 400, `${path} ${JSON.stringify(raw)}: ${res.text}`);
        assert.equal(typeof res.body?.error, 'string', `${path}: ${res.text}`);
      }
    }
  });

  test('join_and_leave_without_a_rooms_array_answer_400_rooms_array_is_required', async () => {
    const a = await peers.authenticated(server, { transport: 'polling' });
    for (const action of ['join', 'leave']) {
      for (const body of [{}, { rooms: [] }, { rooms: 'rest-room' }, { rooms: null }]) {
        const res = await api(server, 'POST', `/api/socket/client/${a.id}/${action}`, body);
        assert.equal(res.status, 400, `${action} ${JSON.stringify(body)}`);
        assert.deepEqual(res.body, { error: 'Rooms array is required' });
      }
    }
  });

  test('unknown_client_id_answers_success_false_client_not_found', async () => {
    const id = 'no-such-client-id';
    const expected = { success: false, message: `Client not found: ${id}` };
    const rooms = await api(server, 'GET', `/api/socket/client/${id}/rooms`);
    assert.equal(rooms.status, 200);
    assert.deepEqual(rooms.body, expected);
    for (const action of ['join', 'leave']) {
      const res = await api(server, 'POST', `/api/socket/client/${id}/${action}`, { rooms: ['r'] });
      assert.equal(res.status, 200, action);
      assert.deepEqual(res.body, expected, action);
    }
  });
});

describe('CORS', () => {
  test('preflight_is_answered_204_without_any_origin_with_credentials', async () => {
    const res = await fetch(`${server.url}/api/socket/broadcast`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.example.test',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(res.status, 204);
    const methods = (res.headers.get('access-control-allow-methods') ?? '').toUpperCase();
    assert.ok(methods.includes('GET') && methods.includes('POST'), methods);
    const origin = res.headers.get('access-control-allow-origin');
    const credentials = res.headers.get('access-control-allow-credentials');
    assert.ok(origin, 'the preflight allows the page');
    assert.ok(!(origin === '*' && credentials === 'true'), 'never any origin with credentials');
    assert.ok(!(origin === 'http://app.example.test' && credentials === 'true'),
      'an arbitrary origin is not granted credentials by default');
  });

  test('simple_request_carries_cors_headers', async () => {
    const res = await fetch(`${server.url}/api/socket/health`, {
      headers: { origin: 'http://app.example.test' },
    });
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('access-control-allow-origin'));
  });
});

// Operations routes of the demo server (docs/operations.md, docs/demo-server.md
// "Process"): /metrics with --metrics or METRICS=1, scraped during a run, its
// counters moving as the traffic says; /health and /ready; the REST health
// route unchanged.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  STANDARD_ARGS, Peers, startServer, connect, waitFor, emitWithAck, api, eventually,
} from './harness.mjs';

/** GET /metrics as a Map of `name{labels}` -> number. */
async function scrape(server) {
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200, 'GET /metrics');
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const series = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

function get(series, name) {
  assert.ok(series.has(name), `no series ${name} in ${[...series.keys()].join(', ')}`);
  return series.get(name);
}

/** How much each of `names` moved between two scrapes. */
function moved(before, after, names) {
  return Object.fromEntries(names.map((n) => [n, get(after, n) - get(before, n)]));
}

describe('metrics on', () => {
  let server;
  const peers = new Peers();
  before(async () => { server = await startServer({ args: [...STANDARD_ARGS, '--metrics'] }); });
  after(async () => { peers.closeAll(); await server?.stop(); });

  test('counters_move_as_the_traffic_says', async () => {
    const names = [
      'socketio_authentications_total{outcome="ok"}',
      'socketio_authentications_total{outcome="rejected"}',
      'socketio_authentication_duration_seconds_count',
      'socketio_room_requests_total{request="join",outcome="partial"}',
      'socketio_room_requests_total{request="join",outcome="granted"}',
      'socketio_room_requests_total{request="leave",outcome="granted"}',
      'socketio_events_received_total',
      'socketio_sends_total{target="all",outcome="ok"}',
      'socketio_sends_total{target="rooms",outcome="ok"}',
      'socketio_send_duration_seconds_count{target="all"}',
      'socketio_engine_sessions_opened_total',
    ];
    const before = await scrape(server);

    const ws = await peers.authenticated(server, { transport: 'websocket' });
    const polling = await peers.authenticated(server, { transport: 'polling' });
    const refused = peers.connect(server, { token: 'wrong' });
    const told = waitFor(refused, 'unauthenticated');
    refused.emit('authenticate');
    await told;

    const partial = await emitWithAck(ws, 'join', { rooms: ['public-a', 'other'] });
    assert.deepEqual(partial.joined, ['public-a']);
    await emitWithAck(polling, 'join', { rooms: ['public-a'] });
    await emitWithAck(polling, 'leave', { rooms: ['public-a'] });
    for (let i = 0; i < 3; i += 1) {
      const echoed = waitFor(ws, 'echo:response');
      ws.emit('echo', { i });
      await echoed;
    }
    const news = waitFor(polling, 'news');
    assert.equal((await api(server, 'POST', '/api/socket/broadcast', { topic: 'news', data: 1 })).status, 200);
    await news;
    const roomNews = waitFor(ws, 'room-news');
    assert.equal((await api(server, 'POST', '/api/socket/room/public-a/send', { topic: 'room-news', data: 2 })).status, 200);
    await roomNews;

    const during = await scrape(server);
    assert.deepEqual(moved(before, during, names), {
      'socketio_authentications_total{outcome="ok"}': 2,
      'socketio_authentications_total{outcome="rejected"}': 1,
      'socketio_authentication_duration_seconds_count': 3,
      'socketio_room_requests_total{request="join",outcome="partial"}': 1,
      'socketio_room_requests_total{request="join",outcome="granted"}': 1,
      'socketio_room_requests_total{request="leave",outcome="granted"}': 1,
      'socketio_events_received_total': 3,
      'socketio_sends_total{target="all",outcome="ok"}': 1,
      'socketio_sends_total{target="rooms",outcome="ok"}': 1,
      'socketio_send_duration_seconds_count{target="all"}': 1,
      'socketio_engine_sessions_opened_total': 3,
    });
    assert.equal(get(during, 'socketio_sockets{state="authenticated"}'), 2);
    assert.ok(get(during, 'socketio_events_emitted_total') > get(before, 'socketio_events_emitted_total'));

    peers.closeAll();
    await eventually(
      async () => get(await scrape(server), 'socketio_sockets{state="authenticated"}') === 0,
      'the authenticated gauge falls back to 0 once the clients left',
    );
  });

  test('health_and_ready_answer_and_the_rest_health_route_is_unchanged', async () => {
    const health = await api(server, 'GET', '/health');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const ready = await api(server, 'GET', '/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { ready: true });
    const rest = await api(server, 'GET', '/api/socket/health');
    assert.equal(rest.status, 200);
    assert.equal(rest.body.healthy, true);
  });
});

describe('metrics switch', () => {
  test('metrics_are_off_by_default_and_on_with_METRICS_1', async () => {
    const off = await startServer();
    try {
      assert.equal((await fetch(`${off.url}/metrics`)).status, 404);
      assert.equal((await fetch(`${off.url}/ready`)).status, 200);
    } finally {
      await off.stop();
    }
    const on = await startServer({ env: { METRICS: '1' } });
    try {
      const socket = connect(on);
      try {
        const auth = waitFor(socket, 'authenticated');
        socket.emit('authenticate');
        await auth;
        const series = await scrape(on);
        assert.equal(get(series, 'socketio_authentications_total{outcome="ok"}'), 1);
      } finally {
        socket.disconnect();
      }
    } finally {
      await on.stop();
    }
  });
});

// The REST control plane against foreign pages and strangers: bodies a page
// can send cross-site without a CORS preflight are refused, the helper's own
// events cannot be sent as topics, and `--api-token` closes the plane to
// requests without the bearer token (health stays open for probes).
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  STANDARD_ARGS, Peers, startServer, expectNoEvent, waitFor, api,
} from './harness.mjs';

const API_TOKEN = 'rest-plane-secret';
const HELPER_EVENTS = ['authenticated', 'unauthenticated', 'ping', 'authenticate', 'join',
  'leave', 'connection'];

let open;
let closed;
const peers = new Peers();
before(async () => {
  [open, closed] = await Promise.all([
    startServer(),
    startServer({ args: [...STANDARD_ARGS, '--api-token', API_TOKEN] }),
  ]);
});
after(async () => {
  peers.closeAll();
  await Promise.all([open?.stop(), closed?.stop()]);
});
afterEach(() => peers.closeAll());

const bearer = (token) => ({ authorization: `Bearer ${token}` });

describe('REST plane hardening', () => {
  test('json_sent_as_text_plain_or_form_data_answers_400_and_sends_nothing', async () => {
    const a = await peers.authenticated(open, { transport: 'websocket' });
    const quiet = expectNoEvent(a, 'cross:site');
    const body = JSON.stringify({ topic: 'cross:site', data: 1 });
    for (const type of ['text/plain', 'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await api(open, 'POST', '/api/socket/broadcast', body,
        { raw: true, headers: { 'content-type': type } });
      assert.equal(res.status, 400, `${type}: ${res.text}`);
      assert.match(res.body?.error ?? '', /application\/json/, type);
    }
    await quiet;
    const ok = await api(open, 'POST', '/api/socket/broadcast', { topic: 'cross:site', data: 2 });
    assert.equal(ok.status, 200, ok.text);
  });

  test('the_helper_s_own_events_cannot_be_sent_as_topics', async () => {
    const a = await peers.authenticated(open, { transport: 'websocket' });
    for (const topic of HELPER_EVENTS) {
      for (const path of ['/api/socket/broadcast', `/api/socket/client/${a.id}/send`]) {
        const res = await api(open, 'POST', path, { topic, data: { forged: true } });
        assert.equal(res.status, 400, `${path} ${topic}: ${res.text}`);
        assert.equal(typeof res.body?.error, 'string');
      }
    }
    assert.ok(!a.received.some((e) => e.args?.[0]?.forged), JSON.stringify(a.received));
  });

  test('with_an_api_token_the_plane_answers_401_without_it_and_serves_with_it', async () => {
    const a = await peers.authenticated(closed, { transport: 'websocket' });
    const routes = [
      ['GET', '/api/socket/info'],
      ['GET', '/api/socket/clients'],
      ['GET', `/api/socket/client/${a.id}/rooms`],
      ['POST', '/api/socket/broadcast', { topic: 'guarded', data: 1 }],
      ['POST', `/api/socket/client/${a.id}/join`, { rooms: ['r1'] }],
    ];
    const quiet = expectNoEvent(a, 'guarded');
    for (const [method, path, body] of routes) {
      for (const headers of [{}, bearer('wrong'), { authorization: API_TOKEN }]) {
        const res = await api(closed, method, path, body, { headers });
        assert.equal(res.status, 401, `${method} ${path} ${JSON.stringify(headers)}: ${res.text}`);
        assert.equal(typeof res.body?.error, 'string');
      }
    }
    await quiet;
    const health = await api(closed, 'GET', '/api/socket/health');
    assert.equal(health.status, 200, 'probes need no token');
    const info = await api(closed, 'GET', '/api/socket/info', undefined, { headers: bearer(API_TOKEN) });
    assert.equal(info.status, 200);
    assert.ok(info.body.clientIds.includes(a.id));
    const guarded = waitFor(a, 'guarded');
    const sent = await api(closed, 'POST', '/api/socket/broadcast', { topic: 'guarded', data: 3 },
      { headers: bearer(API_TOKEN) });
    assert.equal(sent.status, 200, sent.text);
    assert.equal(await guarded, 3);
  });
});

// A socket's own id room is private: with a room validator that keeps every
// requested room (`--room-prefix ''`), a spy's `join` of another socket's id
// is refused as `protected`, and what is sent to that socket reaches it alone;
// in memory and across two servers on one Redis.
// Needs Redis at REDIS_URL (default redis://127.0.0.1:6379): fails, never skips.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  STANDARD_ARGS, Peers, startServer, waitFor, expectNoEvent, emitWithAck, api,
} from './harness.mjs';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEY = `room-privacy-${randomBytes(6).toString('hex')}`;
// The permissive validator many applications start with: every room is kept.
const KEEP_ALL = [...STANDARD_ARGS.slice(0, STANDARD_ARGS.indexOf('--room-prefix')), '--room-prefix', ''];

let single;
let first;
let second;
const peers = new Peers();
before(async () => {
  const cluster = { args: KEEP_ALL, pinnedArgs: ['--redis', REDIS_URL, '--redis-key', KEY] };
  [single, first, second] = await Promise.all([
    startServer({ args: KEEP_ALL }),
    startServer(cluster),
    startServer(cluster),
  ]);
});
after(async () => {
  peers.closeAll();
  await Promise.all([single?.stop(), first?.stop(), second?.stop()]);
});
afterEach(() => peers.closeAll());

async function spyIsRefused(victimServer, spyServer) {
  const victim = await peers.authenticated(victimServer, { transport: 'websocket' });
  const spy = await peers.authenticated(spyServer, { transport: 'websocket' });
  const ack = await emitWithAck(spy, 'join', { rooms: [victim.id, 'lobby'] });
  assert.deepEqual(ack.joined, ['lobby'], JSON.stringify(ack));
  assert.deepEqual(ack.rejected, [{ room: victim.id, reason: 'protected' }]);

  const atVictim = waitFor(victim, 'direct:message');
  const quietSpy = expectNoEvent(spy, 'direct:message');
  const res = await api(spyServer, 'POST', `/api/socket/client/${victim.id}/send`,
    { topic: 'direct:message', data: 'for the victim only' });
  assert.equal(res.status, 200);
  assert.equal(await atVictim, 'for the victim only');
  await quietSpy;
}

describe('a socket id room is private', () => {
  test('a_spy_cannot_join_another_socket_s_id_room_in_memory', async () => {
    await spyIsRefused(single, single);
  });

  test('a_spy_cannot_join_the_id_room_of_a_socket_on_the_other_node', async () => {
    await spyIsRefused(first, second);
  });

  test('a_room_name_shaped_like_an_id_that_is_no_socket_can_be_joined', async () => {
    const member = await peers.authenticated(second, { transport: 'websocket' });
    const name = 'abcdefghij0123456789';
    const ack = await emitWithAck(member, 'join', { rooms: [name] });
    assert.deepEqual(ack.joined, [name], JSON.stringify(ack));
  });
});

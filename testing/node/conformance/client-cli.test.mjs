// client-cli (examples/src/bin/client-cli.rs) against real servers: it
// authenticates against our demo server and against the Node reference server
// (testing/node/bench/reference-server.mjs, on a private Redis), receives
// room messages, prints `unauthenticated` and exits 3 with a wrong token (the
// reference never delivers that notice: exit 3 only), and exits 2 when it
// cannot connect.
//
// Binaries: CLIENT_CLI_BIN (default: client-cli next to DEMO_SERVER_BIN) and
// DEMO_SERVER_BIN. The Node reference server needs redis-server on PATH
// (REDIS_SERVER_BIN) for its private Redis: fails, never skips.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { clientCliBin, startServer, TOKEN, ROOM_PREFIX } from './harness.mjs';
import { startPrivateRedis, startReferenceServer, freePort } from '../interop/fleet.mjs';

/** How long one client-cli run may take before the test gives up on it. */
const RUN_TIMEOUT_MS = 30_000;

/**
 * Runs client-cli with `args`; resolves with {code, events, stdout, stderr},
 * `events` being the parsed stdout lines ({event, data}).
 */
function runCli(args) {
  const child = spawn(clientCliBin(), args, {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`client-cli ${args.join(' ')} still running after ${RUN_TIMEOUT_MS} ms\n` +
        `stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter((l) => l.length > 0);
      let events;
      try {
        events = lines.map((l) => JSON.parse(l));
      } catch (e) {
        reject(new Error(`client-cli printed a line that is not JSON (${e.message}):\n${stdout}`));
        return;
      }
      resolve({ code: code ?? signal, events, stdout, stderr });
    });
  });
}

function describeRun(run) {
  return `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

/**
 * The checks every server of the contract must pass, `target()` giving {url}.
 * `deliversUnauthenticated`: whether the server's `unauthenticated` notice
 * reaches the client. The Node reference loses it (it sends it through its
 * Redis emitter and disconnects on setImmediate, before the pub/sub echo
 * arrives, a defect of the reference), so against it only the
 * refusal (exit 3) is checked.
 */
function clientCliChecks(target, { deliversUnauthenticated }) {
  test('authenticates_joins_a_room_and_receives_a_room_message', async () => {
    const room = `${ROOM_PREFIX}cli-${process.pid}-${Date.now()}`;
    const run = await runCli([
      '--url', target().url, '--token', TOKEN, '--join', room,
      '--emit', `chat:message=${JSON.stringify({ room, message: 'hello room' })}`,
      '--wait-ms', '1500',
    ]);
    assert.equal(run.code, 0, describeRun(run));
    const names = run.events.map((e) => e.event);
    assert.ok(names.includes('authenticated'), `authenticated printed: ${describeRun(run)}`);
    const chat = run.events.find((e) => e.event === 'chat:message');
    assert.ok(chat, `the room message arrived: ${describeRun(run)}`);
    assert.equal(chat.data.message, 'hello room');
    assert.equal(typeof chat.data.from, 'string');
    assert.ok(names.indexOf('authenticated') < names.indexOf('chat:message'),
      `authenticated comes first: ${names.join(', ')}`);
  });

  test('token_in_the_authorization_header_authenticates_too', async () => {
    const run = await runCli([
      '--url', target().url, '--token', TOKEN, '--token-via', 'header',
      '--emit', 'echo="via header"', '--wait-ms', '1000',
    ]);
    assert.equal(run.code, 0, describeRun(run));
    const echo = run.events.find((e) => e.event === 'echo:response');
    assert.ok(echo, `echo answered: ${describeRun(run)}`);
    assert.equal(echo.data.original, 'via header');
  });

  const wrongToken = deliversUnauthenticated
    ? 'wrong_token_prints_unauthenticated_and_exits_3'
    : 'wrong_token_is_refused_with_exit_3';
  test(wrongToken, async (t) => {
    const run = await runCli(['--url', target().url, '--token', 'not-the-token', '--wait-ms', '0']);
    assert.equal(run.code, 3, describeRun(run));
    assert.ok(!run.events.some((e) => e.event === 'authenticated'), describeRun(run));
    const notice = run.events.find((e) => e.event === 'unauthenticated');
    if (deliversUnauthenticated) {
      assert.ok(notice, `unauthenticated printed: ${describeRun(run)}`);
      assert.equal(typeof notice.data.message, 'string');
    } else {
      t.diagnostic(`unauthenticated ${notice ? 'arrived' : 'lost (a defect of the reference)'}`);
    }
  });
}

describe('client-cli against the Rust demo server', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server?.stop(); });
  clientCliChecks(() => server, { deliversUnauthenticated: true });
});

describe('client-cli against the Node reference server', () => {
  let redis;
  let server;
  before(async () => {
    redis = await startPrivateRedis();
    server = await startReferenceServer(redis.url);
  });
  after(async () => {
    await server?.stop();
    await redis?.stop();
  });
  clientCliChecks(() => server, { deliversUnauthenticated: false });
});

describe('client-cli without a server', () => {
  test('cannot_connect_exits_2', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await freePort();
    const run = await runCli([
      '--url', `http://127.0.0.1:${port}`, '--token', TOKEN, '--connect-timeout-ms', '2000',
    ]);
    assert.equal(run.code, 2, describeRun(run));
    assert.ok(!run.events.some((e) => e.event === 'authenticated'), describeRun(run));
  });
});

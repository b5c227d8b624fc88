// Issue 4 "Done when": "The Rust server on Redis still passes the single-node
// conformance suite." Runs testing/node/conformance/ (owned by demo) unchanged
// in a child `node --test`, with every demo server it starts put on a private
// Redis through the harness's DEMO_SERVER_EXTRA_ARGS: `--redis <private>
// --redis-key interop-conformance-{server}`, `{server}` being a token unique
// to each server, so each server is a single node, as the suite expects. Its
// own two-node test (redis.test.mjs) pins its servers to REDIS_URL of the
// test process and one key, REDIS_URL being set here to the private Redis too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { REPO_ROOT, demoServerBin, startPrivateRedis } from './fleet.mjs';

const { Redis } = createRequire(import.meta.url)('ioredis');
const CONFORMANCE_DIR = join(REPO_ROOT, 'testing', 'node', 'conformance');

let redis;
before(async () => {
  redis = await startPrivateRedis();
});
after(async () => {
  await redis?.stop();
});

/** `INFO commandstats` calls of `command` on the private Redis. */
async function callsOf(command) {
  const client = new Redis(redis.url);
  try {
    const info = await client.info('commandstats');
    const m = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
    return m ? Number(m[1]) : 0;
  } finally {
    client.disconnect();
  }
}

test('the_single_node_conformance_suite_passes_with_the_demo_server_on_redis', { timeout: 15 * 60_000 }, async (t) => {
  const bin = demoServerBin();
  const subscribesBefore = await callsOf('psubscribe');

  // This file runs as a child of a test runner: the nested runner must not
  // think it is one too (it would report in the parent's private format).
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', CONFORMANCE_DIR], {
    cwd: REPO_ROOT,
    env: {
      ...env,
      DEMO_SERVER_BIN: bin,
      DEMO_SERVER_EXTRA_ARGS: `--redis ${redis.url} --redis-key interop-conformance-{server}`,
      REDIS_URL: redis.url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const code = await new Promise((r) => child.on('exit', (c, s) => r(c ?? s)));

  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(out)?.[1] ?? NaN);
  const summary = { tests: count('tests'), pass: count('pass'), fail: count('fail'), cancelled: count('cancelled') };
  t.diagnostic(`conformance on Redis: ${JSON.stringify(summary)}`);
  // The failing tests (leaves only), each with its TAP error block.
  const lines = out.split('\n');
  const failures = [];
  for (let i = 0; i < lines.length; i += 1) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!m) continue;
    const block = [];
    for (let j = i + 1; j < lines.length && lines[j] !== `${m[1]}  ...`; j += 1) block.push(lines[j]);
    const text = block.join('\n');
    if (/failureType: 'subtestsFailed'/.test(text)) continue;
    failures.push(`${m[2]}\n${text}`);
  }
  for (const f of failures) t.diagnostic(f.split('\n').slice(0, 12).join(' | '));

  // Every server of the suite really ran on this Redis (one PSUBSCRIBE each).
  const subscribes = (await callsOf('psubscribe')) - subscribesBefore;
  assert.ok(subscribes >= 5, `the demo servers subscribed on the private Redis ${subscribes} times`);
  assert.ok(summary.tests > 0, `the conformance suite ran no test:\n${out.slice(-3000)}`);
  assert.equal(summary.fail, 0, `conformance failures on Redis:\n${failures.join('\n')}`);
  assert.equal(code, 0, out.slice(-3000));
});

import * as f from '/work/main/testing/node/interop/fleet.mjs';
import { spawn } from 'node:child_process';
const redis = await f.startPrivateRedis();
const mon = spawn('redis-cli', ['-p', String(redis.port), 'MONITOR'], { stdio: ['ignore', 'pipe', 'inherit'] });
let monOut = ''; mon.stdout.on('data', d => monOut += d);
const rust = await f.startRustServer(redis.url);
const plain = await f.startPlainNodeServer(redis.url);
const show = async (tag, id) => console.log(tag, JSON.stringify((await plain.io.in(id).fetchSockets()).map(s => [s.id, [...s.rooms]])));
try {
  const a = await f.authenticated(rust, {transport:'websocket'});
  const b = await f.authenticated(rust, {transport:'polling'});
  const r = f.disconnectReason(a);
  plain.io.in(a.id).disconnectSockets(true); console.log(await r); await f.sleep(1000);
  monOut = '';
  await show('after remote disconnect a', a.id);
  await show('nonexistent', 'nonexistent-room');
  await f.sleep(300);
  console.log(monOut.split('\n').filter(l => /PUBLISH|NUMSUB/i.test(l)).join('\n'));
} finally { mon.kill(); await plain.stop(); await rust.stop(); await redis.stop(); }
process.exit(0);

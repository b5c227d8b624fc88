// Runs @socket.io/redis-emitter 5.1 commands given as JSON lines on stdin.
// usage: node emitter.mjs <redisUrl> <key>
import { Emitter } from "@socket.io/redis-emitter";
import { Redis } from "ioredis";
import readline from "node:readline";

const [redisUrl, key] = process.argv.slice(2);
const redis = new Redis(redisUrl);
const emitter = new Emitter(redis, { key });
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
redis.on("ready", () => out({ type: "ready" }));

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const c = JSON.parse(line);
  let op = emitter;
  if (c.rooms && c.rooms.length) op = op.to(c.rooms);
  if (c.except && c.except.length) op = op.except(c.except);
  const args = (c.args || []).map((a) => (a && a.bin ? Buffer.from(a.bin) : a));
  switch (c.cmd) {
    case "emit": op.emit(c.event, ...args); break;
    case "join": op.socketsJoin(c.room); break;
    case "leave": op.socketsLeave(c.room); break;
    case "disconnect": op.disconnectSockets(false); break;
    case "sse": emitter.serverSideEmit(c.event, ...args); break;
    case "exit": redis.quit().then(() => process.exit(0)); return;
  }
  out({ type: "reply", id: c.id });
});

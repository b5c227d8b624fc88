// A Node socket.io 4.8 server on @socket.io/redis-adapter 8.3 (ioredis), driven by
// JSON lines on stdin. usage: node node-server.mjs <redisUrl> <key>
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import readline from "node:readline";

const [redisUrl, key] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const httpServer = createServer();
const io = new Server(httpServer, { adapter: createAdapter(pub, sub, { key, requestsTimeout: 3000 }) });

io.on("connection", (socket) => {
  socket.data = { user: `node-${socket.id}` };
  socket.on("join", (room, cb) => { socket.join(room); cb("joined"); });
  socket.on("broadcast", (event, arg, cb) => { socket.broadcast.emit(event, arg); cb("ok"); });
});
io.on("sse", (...args) => {
  const last = args[args.length - 1];
  if (typeof last === "function") { args.pop(); last({ fromNode: true, got: args }); }
  out({ type: "sse", args });
});

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const c = JSON.parse(line);
  const target = () => {
    let op = io;
    if (c.rooms && c.rooms.length) op = op.to(c.rooms);
    if (c.except && c.except.length) op = op.except(c.except);
    return op;
  };
  try {
    let reply = null;
    switch (c.cmd) {
      case "emit": target().emit(c.event, ...c.args.map((a) => (a && a.bin ? Buffer.from(a.bin) : a))); break;
      case "emitWithAck": reply = await target().timeout(c.timeout).emitWithAck(c.event, ...c.args); break;
      case "fetchSockets": reply = (await target().fetchSockets()).map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data, hasHandshake: typeof s.handshake === "object" })); break;
      case "allRooms": reply = [...(await io.of("/").adapter.allRooms())].sort(); break;
      case "join": target().socketsJoin(c.room); break;
      case "leave": target().socketsLeave(c.room); break;
      case "disconnect": target().disconnectSockets(false); break;
      case "sse": io.serverSideEmit(c.event, ...c.args); break;
      case "sseWithAck": reply = await io.serverSideEmitWithAck(c.event, ...c.args); break;
      case "serverCount": reply = await io.of("/").adapter.serverCount(); break;
      case "exit": process.exit(0);
    }
    out({ type: "reply", id: c.id, reply });
  } catch (e) {
    out({ type: "reply", id: c.id, error: String(e && e.message || e) });
  }
});

httpServer.listen(0, "127.0.0.1", () => out({ type: "ready", port: httpServer.address().port }));

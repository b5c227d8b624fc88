// A Node socket.io 4.8 server on @socket.io/redis-adapter 8.3 that reports what
// fetchSockets() returns in full (handshake and data included), plus a
// socket.io-client to connect to another server with auth, query and headers.
// JSON lines on stdin, each with an "id"; answers {"type":"reply","id","reply"|"error"}.
// usage: node redis-fetch.mjs <redisUrl> <key>
//   {"cmd":"fetchSockets","rooms":[...]} -> [{id, handshake, rooms (sorted), data}]
//   {"cmd":"connect","url","path","auth","query","headers","authenticate":bool}
//       -> {id} once connected (and, with authenticate, once `authenticated` arrived)
//   {"cmd":"disconnect"} | {"cmd":"exit"}
import { createServer } from "node:http";
import readline from "node:readline";
import { Server } from "socket.io";
import { io as connectClient } from "socket.io-client";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";

const [redisUrl, key] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const httpServer = createServer();
const io = new Server(httpServer, { adapter: createAdapter(pub, sub, { key, requestsTimeout: 3000 }) });
let client = null;

function connect(c) {
  return new Promise((resolve, reject) => {
    client = connectClient(c.url, {
      path: c.path ?? "/io",
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      auth: c.auth,
      query: c.query,
      extraHeaders: c.headers,
    });
    client.on("connect_error", (e) => reject(e));
    client.on("unauthenticated", (m) => reject(new Error(`unauthenticated: ${JSON.stringify(m)}`)));
    client.on("connect", () => {
      if (!c.authenticate) return resolve({ id: client.id });
      client.on("authenticated", () => resolve({ id: client.id }));
      client.emit("authenticate");
    });
  });
}

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const c = JSON.parse(line);
  try {
    let reply = null;
    switch (c.cmd) {
      case "fetchSockets": {
        const op = c.rooms && c.rooms.length ? io.in(c.rooms) : io;
        reply = (await op.fetchSockets()).map((s) => ({
          id: s.id,
          handshake: s.handshake,
          rooms: [...s.rooms].sort(),
          data: s.data ?? null,
        }));
        break;
      }
      case "connect": reply = await connect(c); break;
      case "disconnect": client?.disconnect(); break;
      case "exit": process.exit(0);
    }
    out({ type: "reply", id: c.id, reply });
  } catch (e) {
    out({ type: "reply", id: c.id, error: String(e && e.message || e) });
  }
});

httpServer.listen(0, "127.0.0.1", () => out({ type: "ready", port: httpServer.address().port }));

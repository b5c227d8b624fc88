// A socket.io-client driven by JSON lines on stdin; prints JSON lines on stdout.
// usage: node client.mjs <url> <name> [path] [authJSON]
import { io } from "socket.io-client";
import readline from "node:readline";

const [url, name, path, auth] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify({ client: name, ...o }) + "\n");
const plain = (v) => Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)
  ? { bin: [...new Uint8Array(v.buffer ? v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) : v)] }
  : Array.isArray(v) ? v.map(plain)
  : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
  : v;

const socket = io(url, {
  transports: ["websocket"],
  reconnection: true,
  path: path || "/socket.io",
  auth: auth ? JSON.parse(auth) : undefined,
});
socket.on("connect", () => out({ type: "connected", id: socket.id }));
socket.on("disconnect", (reason) => out({ type: "disconnected", reason }));
socket.onAny((event, ...args) => {
  const last = args[args.length - 1];
  if (typeof last === "function") {
    args.pop();
    last(`ack-from-${name}`);
  }
  out({ type: "event", event, args: plain(args) });
});

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const cmd = JSON.parse(line);
  if (cmd.cmd === "emit") {
    const reply = await socket.timeout(5000).emitWithAck(cmd.event, ...cmd.args).catch((e) => ({ error: String(e) }));
    out({ type: "reply", id: cmd.id, reply });
  } else if (cmd.cmd === "burst") {
    // `count` events `event` with arguments 0, 1, 2, ... as fast as the client can.
    for (let i = 0; i < cmd.count; i++) socket.emit(cmd.event, i);
    out({ type: "reply", id: cmd.id });
  } else if (cmd.cmd === "send") {
    socket.emit(cmd.event, ...cmd.args);
    out({ type: "reply", id: cmd.id });
  } else if (cmd.cmd === "exit") {
    socket.close();
    process.exit(0);
  }
});

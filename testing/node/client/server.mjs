// Interop oracle for crates/ignis-socketio-client: a real Node socket.io 4.8.4
// server on 127.0.0.1:<free port>, path /io. Prints {"port":N} on its first
// stdout line, then one JSON line per notable event it observes. With
// TLS_CERT and TLS_KEY set it serves HTTPS (wss://) instead. With
// PER_MESSAGE_DEFLATE=true it compresses with the reference's perMessageDeflate.
import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { Server } from "socket.io";
import { REFERENCE_PER_MESSAGE_DEFLATE, perMessageDeflateFromEnv } from "../reference-deflate.mjs";

const log = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

// TLS_CERT / TLS_KEY (PEM paths) switch the server to HTTPS, for wss:// tests.
const http = process.env.TLS_CERT
  ? createHttpsServer({ cert: readFileSync(process.env.TLS_CERT), key: readFileSync(process.env.TLS_KEY) })
  : createHttpServer();
const perMessageDeflate = perMessageDeflateFromEnv() ? { ...REFERENCE_PER_MESSAGE_DEFLATE } : false;
const io = new Server(http, { path: "/io", pingInterval: 500, pingTimeout: 500, perMessageDeflate });

io.on("connection", (socket) => {
  log({ event: "connection", id: socket.id, auth: socket.handshake.auth,
        authorization: socket.handshake.headers.authorization ?? null,
        query: socket.handshake.query.room ?? null,
        // What the WebSocket agreed on ('' for no extension).
        extensions: socket.conn.transport?.socket?.extensions ?? null });

  // The Ignis auth protocol, accepting any client that sent auth.token.
  socket.on("authenticate", () => {
    const time = new Date().toISOString();
    if (socket.handshake.auth?.token) socket.emit("authenticated", { id: socket.id, time });
    else socket.emit("unauthenticated", { message: "Invalid token to authenticate! Please login again!", time });
  });

  socket.on("echo", (data, ack) => { if (typeof ack === "function") ack(data); });

  // Binary both ways: (meta, buffer) -> "bin-back" (meta, reversed buffer), plus an ack with a buffer.
  socket.on("bin-echo", (meta, buf, ack) => {
    const reversed = Buffer.from(buf).reverse();
    socket.emit("bin-back", meta, reversed);
    if (typeof ack === "function") ack({ size: buf.length, first: Buffer.from([buf[0]]) });
  });

  // Server emit-with-ack answered by the Rust client.
  socket.on("ready", async () => {
    try {
      const answer = await socket.timeout(2000).emitWithAck("question", { q: 41 });
      log({ event: "answer", data: answer });
      socket.emit("answer-received", answer);
    } catch (e) {
      log({ event: "answer-timeout", error: String(e) });
    }
  });

  socket.on("join", (payload, ack) => {
    socket.join(payload.rooms);
    if (typeof ack === "function") ack({ joined: payload.rooms, rejected: [] });
  });

  socket.on("disconnect", (reason) => log({ event: "disconnect", id: socket.id, reason }));
});

http.listen(0, "127.0.0.1", () => log({ port: http.address().port }));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

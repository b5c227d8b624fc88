// Scriptable Socket.IO client driver for the server helper's integration tests.
//
// Reads one JSON command per line on stdin and prints one JSON object per line
// on stdout for everything the clients observe, in the order observed:
//   {"name","type":"connect","id"} | {"name","type":"connect_error","message"}
//   {"name","type":"event","event","data","args"} | {"name","type":"disconnect","reason"}
//   {"name","type":"ack","tag","err","data"} | {"type":"bulk",...} | {"type":"error","message"}
//
// Commands:
//   {"cmd":"connect","name","url","path","transport","auth","headers","query",
//    "authenticate": false | true | {"data":..., "ackTag":...}, "ackReplies": {"event": value}}
//   {"cmd":"emit","name","event","args":[...],"ackTag":"t","timeoutMs":2000}
//   {"cmd":"disconnect","name"} | {"cmd":"kill","name"} (closes the transport only)
//   {"cmd":"bulk","prefix","count","url","path","transport","auth","tag","timeoutMs"}
//       connects `count` clients at once, each emitting `authenticate` as soon as it
//       is connected; prints {"type":"bulk","tag","connected","authenticated","errors"}
//       once every client is authenticated or refused, or at the timeout.
//   {"cmd":"bulk_count","prefix","event","tag"} -> {"type":"bulk_count","tag","count"}
//   {"cmd":"bulk_disconnect","prefix"}
//   {"cmd":"raw_open","name","url","path"} opens a bare Engine.IO v4 WebSocket (no
//       Socket.IO client on top); prints {"name","type":"raw","data"} for every text
//       frame except Engine.IO pings (answered with pongs) and {"name","type":"raw_close"}
//   {"cmd":"raw_send","name","data"} sends one text frame as is (e.g. "40")
//   {"cmd":"raw_burst","prefix","count","url","path","frames":[...],"afterConnect":bool,
//    "expect":["event",...],"tag","timeoutMs"} opens `count` bare Engine.IO WebSockets at
//       once; each sends "40" on open and `frames` right after it (in the same burst), or,
//       with afterConnect, the moment the CONNECT reply arrives. Prints
//       {"type":"raw_burst","tag","opened","complete","incomplete":[...first 10]} once every
//       socket received every `expect`ed event (or closed), or at the timeout.
//       An event read after the namespace DISCONNECT ("41") does not count.
//   {"cmd":"flood","name","event","args":[...],"count","ack":bool,"tag","timeoutMs"}
//       emits `event` `count` times in one go (one line out, not one per packet); with
//       ack, prints {"name","type":"flood","tag","ok","errors":{code: n},"timeouts","last"}
//       once every acknowledgement came or timed out (an ack carrying `error.code` counts
//       under that code; `last` is the last error ack), else {"name","type":"flood","tag","sent"}
//   {"cmd":"exit"}
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import WebSocket from "ws";

const sockets = new Map();
const raws = new Map();
const bulks = new Map();

function print(obj) {
  process.stdout.write(JSON.stringify(obj, replacer) + "\n");
}

// Binary data (Buffer / ArrayBuffer) is printed as {"$binary": base64}.
function replacer(_key, value) {
  if (value && value.type === "Buffer" && Array.isArray(value.data)) {
    return { $binary: Buffer.from(value.data).toString("base64") };
  }
  if (value instanceof ArrayBuffer) {
    return { $binary: Buffer.from(value).toString("base64") };
  }
  return value === undefined ? null : value;
}

function options(cmd) {
  return {
    path: cmd.path ?? "/io",
    // "upgrade": socket.io-client's default, polling first then an upgrade to websocket.
    transports: cmd.transport === "upgrade" ? ["polling", "websocket"] : [cmd.transport ?? "websocket"],
    auth: cmd.auth ?? undefined,
    extraHeaders: cmd.headers ?? undefined,
    query: cmd.query ?? undefined,
    reconnection: false,
    forceNew: true,
    timeout: cmd.timeoutMs ?? 10000,
  };
}

function connect(cmd) {
  const name = cmd.name;
  const socket = io(cmd.url, options(cmd));
  sockets.set(name, socket);
  const ackReplies = cmd.ackReplies ?? {};
  socket.on("connect", () => {
    print({ name, type: "connect", id: socket.id });
    const auth = cmd.authenticate;
    if (auth === true) {
      socket.emit("authenticate");
    } else if (auth && typeof auth === "object") {
      const args = "data" in auth ? [auth.data] : [];
      if (auth.ackTag) {
        socket.timeout(auth.timeoutMs ?? 5000).emit("authenticate", ...args, (err, data) =>
          print({ name, type: "ack", tag: auth.ackTag, err: err ? String(err.message ?? err) : null, data }),
        );
      } else {
        socket.emit("authenticate", ...args);
      }
    }
  });
  socket.on("connect_error", (err) => print({ name, type: "connect_error", message: String(err.message ?? err) }));
  socket.on("disconnect", (reason) => print({ name, type: "disconnect", reason }));
  socket.onAny((event, ...args) => {
    let ack = null;
    if (args.length > 0 && typeof args[args.length - 1] === "function") {
      ack = args.pop();
    }
    print({ name, type: "event", event, data: args.length > 0 ? args[0] : null, args });
    if (ack) {
      ack(event in ackReplies ? ackReplies[event] : { received: event });
    }
  });
}

// {"$binary": base64} in a command becomes a Buffer (a Socket.IO binary attachment).
function reviver(value) {
  if (Array.isArray(value)) return value.map(reviver);
  if (value && typeof value === "object") {
    if (typeof value.$binary === "string" && Object.keys(value).length === 1) {
      return Buffer.from(value.$binary, "base64");
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviver(v)]));
  }
  return value;
}

function emit(cmd) {
  const socket = sockets.get(cmd.name);
  if (!socket) return print({ type: "error", message: `no client ${cmd.name}` });
  const args = reviver(cmd.args ?? []);
  if (cmd.ackTag) {
    socket.timeout(cmd.timeoutMs ?? 5000).emit(cmd.event, ...args, (err, data) =>
      print({ name: cmd.name, type: "ack", tag: cmd.ackTag, err: err ? String(err.message ?? err) : null, data }),
    );
  } else {
    socket.emit(cmd.event, ...args);
  }
}

function flood(cmd) {
  const name = cmd.name;
  const socket = sockets.get(name);
  if (!socket) return print({ type: "error", message: `no client ${name}` });
  const args = reviver(cmd.args ?? []);
  const tag = cmd.tag ?? name;
  if (!cmd.ack) {
    for (let i = 0; i < cmd.count; i++) socket.emit(cmd.event, ...args);
    return print({ name, type: "flood", tag, sent: cmd.count });
  }
  const result = { name, type: "flood", tag, ok: 0, errors: {}, timeouts: 0, last: null };
  let pending = cmd.count;
  const settle = () => {
    pending -= 1;
    if (pending === 0) print(result);
  };
  for (let i = 0; i < cmd.count; i++) {
    socket.timeout(cmd.timeoutMs ?? 10000).emit(cmd.event, ...args, (err, data) => {
      const code = data?.error?.code;
      if (err) {
        result.timeouts += 1;
      } else if (code) {
        result.errors[code] = (result.errors[code] ?? 0) + 1;
        result.last = data;
      } else {
        result.ok += 1;
      }
      settle();
    });
  }
}

function bulk(cmd) {
  const state = { sockets: [], counts: new Map(), connected: 0, authenticated: 0, refused: 0, errors: [], done: false };
  bulks.set(cmd.prefix, state);
  const finish = () => {
    if (state.done) return;
    state.done = true;
    clearTimeout(timer);
    print({
      type: "bulk",
      tag: cmd.tag ?? cmd.prefix,
      connected: state.connected,
      authenticated: state.authenticated,
      refused: state.refused,
      errors: state.errors.slice(0, 10),
    });
  };
  const settle = () => {
    if (state.authenticated + state.refused + state.errors.length >= cmd.count) finish();
  };
  const timer = setTimeout(finish, cmd.timeoutMs ?? 30000);
  for (let i = 0; i < cmd.count; i++) {
    const socket = io(cmd.url, options(cmd));
    state.sockets.push(socket);
    socket.on("connect", () => {
      state.connected++;
      socket.emit("authenticate");
    });
    socket.on("connect_error", (err) => {
      state.errors.push(String(err.message ?? err));
      settle();
    });
    socket.on("authenticated", () => {
      state.authenticated++;
      settle();
    });
    socket.on("unauthenticated", () => {
      state.refused++;
      settle();
    });
    socket.onAny((event) => state.counts.set(event, (state.counts.get(event) ?? 0) + 1));
  }
}

function rawOpen(cmd) {
  const url = `${cmd.url.replace(/^http/, "ws")}${cmd.path ?? "/io"}/?EIO=4&transport=websocket`;
  const ws = new WebSocket(url);
  raws.set(cmd.name, ws);
  ws.on("message", (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    if (text === "2") return ws.send("3");
    print({ name: cmd.name, type: "raw", data: text });
  });
  ws.on("close", () => print({ name: cmd.name, type: "raw_close" }));
  ws.on("error", (err) => print({ name: cmd.name, type: "raw_error", message: String(err.message ?? err) }));
}

function rawBurst(cmd) {
  const url = `${cmd.url.replace(/^http/, "ws")}${cmd.path ?? "/io"}/?EIO=4&transport=websocket`;
  const expect = cmd.expect ?? [];
  const peers = [];
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    const incomplete = peers.filter((p) => !p.complete());
    print({
      type: "raw_burst",
      tag: cmd.tag ?? cmd.prefix,
      opened: peers.filter((p) => p.opened).length,
      complete: peers.length - incomplete.length,
      incomplete: incomplete.slice(0, 10).map((p) => ({ frames: p.frames, closed: p.closed })),
    });
    for (const p of peers) p.ws.close();
  };
  const settle = () => {
    if (peers.length === cmd.count && peers.every((p) => p.complete() || p.closed)) finish();
  };
  const timer = setTimeout(finish, cmd.timeoutMs ?? 30000);
  const sendFrames = (ws) => (cmd.frames ?? []).forEach((f) => ws.send(f));
  for (let i = 0; i < cmd.count; i++) {
    const ws = new WebSocket(url);
    const peer = { ws, opened: false, closed: false, nsDisconnected: false, frames: [], events: new Set() };
    peer.complete = () => expect.every((e) => peer.events.has(e));
    peers.push(peer);
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      if (text === "2") return ws.send("3");
      peer.frames.push(text);
      if (text.startsWith("0{")) {
        peer.opened = true;
        ws.send("40");
        if (!cmd.afterConnect) sendFrames(ws);
      } else if (text.startsWith("40") && cmd.afterConnect) {
        sendFrames(ws);
      } else if (text.startsWith("41")) {
        peer.nsDisconnected = true;
      } else if (text.startsWith("42[") && !peer.nsDisconnected) {
        const match = /^42\["([^"]*)"/.exec(text);
        if (match) peer.events.add(match[1]);
      }
      settle();
    });
    ws.on("close", () => {
      peer.closed = true;
      settle();
    });
    ws.on("error", (err) => peer.frames.push(`error: ${err.message ?? err}`));
  }
}

function handle(cmd) {
  switch (cmd.cmd) {
    case "connect":
      return connect(cmd);
    case "emit":
      return emit(cmd);
    case "disconnect":
      return sockets.get(cmd.name)?.disconnect();
    case "kill":
      // Drop the transport without a Socket.IO DISCONNECT packet, like a lost network.
      return sockets.get(cmd.name)?.io.engine.close();
    case "flood":
      return flood(cmd);
    case "bulk":
      return bulk(cmd);
    case "bulk_count": {
      const state = bulks.get(cmd.prefix);
      return print({ type: "bulk_count", tag: cmd.tag ?? cmd.prefix, count: state?.counts.get(cmd.event) ?? 0 });
    }
    case "bulk_disconnect":
      return bulks.get(cmd.prefix)?.sockets.forEach((s) => s.disconnect());
    case "raw_open":
      return rawOpen(cmd);
    case "raw_send":
      return raws.get(cmd.name)?.send(cmd.data);
    case "raw_burst":
      return rawBurst(cmd);
    case "exit":
      for (const w of raws.values()) w.close();
      for (const s of sockets.values()) s.disconnect();
      for (const b of bulks.values()) b.sockets.forEach((s) => s.disconnect());
      return setTimeout(() => process.exit(0), 50);
    default:
      return print({ type: "error", message: `unknown command ${cmd.cmd}` });
  }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (!line.trim()) return;
  try {
    handle(JSON.parse(line));
  } catch (err) {
    print({ type: "error", message: String(err?.stack ?? err) });
  }
});
// The test process went away: leave too.
lines.on("close", () => process.exit(0));
print({ type: "ready" });

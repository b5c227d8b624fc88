// A plain Node socket.io 4.8 server on 127.0.0.1 that prints {port} and then,
// for the first socket that connects, its socket.handshake as one JSON line
// and exits. Used to compare the Rust crates' Node handshake with Node's own.
// usage: node report-handshake.mjs <path>
import { createServer } from "node:http";
import { Server } from "socket.io";

const path = process.argv[2] ?? "/io";
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const httpServer = createServer();
const io = new Server(httpServer, { path });
io.on("connection", (socket) => {
  out({ handshake: socket.handshake });
  setTimeout(() => process.exit(0), 50);
});
httpServer.listen(0, "127.0.0.1", () => out({ port: httpServer.address().port }));

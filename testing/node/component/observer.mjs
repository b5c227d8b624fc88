// A socket.io-client that connects to a component-served server, authenticates,
// optionally joins rooms and emits events, and reports everything it sees as
// one JSON object per line on stdout, for the Rust tests of
// crates/ignis-socketio-component to assert on.
//
// Usage: node observer.mjs <url> with env:
//   IO_PATH   Socket.IO path (default /io)
//   TOKEN     sent as `auth.token` and as `authorization: Bearer` header (default none)
//   JOIN      comma-separated rooms to join after authentication (with ack)
//   EMIT      JSON array of [event, data] pairs to emit after joining
//   LISTEN    comma-separated application events to report
//   TRANSPORT websocket (default) or polling
//   ORIGIN    sent as the Origin header (as a browser page of that origin would)
// Lines: {"event":"connect"}, {"event":"authenticated","data":...},
//        {"event":"join-ack","data":...}, {"event":"<listened>","data":...},
//        {"event":"disconnect","reason":...}, {"event":"connect_error","message":...}
// Exits 0 after `disconnect`; reconnection is off.
import { io } from 'socket.io-client';

const url = process.argv[2];
if (!url) {
  console.error('usage: node observer.mjs <url>');
  process.exit(2);
}
const token = process.env.TOKEN;
const rooms = (process.env.JOIN ?? '').split(',').filter(Boolean);
const emits = JSON.parse(process.env.EMIT ?? '[]');
const listen = (process.env.LISTEN ?? '').split(',').filter(Boolean);
const transport = process.env.TRANSPORT ?? 'websocket';

const report = (event, extra = {}) => process.stdout.write(JSON.stringify({ event, ...extra }) + '\n');

const socket = io(url, {
  path: process.env.IO_PATH ?? '/io',
  transports: [transport],
  reconnection: false,
  auth: token ? { token } : {},
  extraHeaders: {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(process.env.ORIGIN ? { origin: process.env.ORIGIN } : {}),
  },
});

socket.on('connect', () => {
  report('connect', { id: socket.id });
  socket.emit('authenticate');
});
socket.on('connect_error', err => {
  report('connect_error', { message: err.message });
  process.exit(1);
});
socket.on('unauthenticated', data => report('unauthenticated', { data }));
socket.on('authenticated', async data => {
  report('authenticated', { data });
  if (rooms.length > 0) {
    const ack = await socket.timeout(5000).emitWithAck('join', { rooms });
    report('join-ack', { data: ack });
  }
  for (const [event, payload] of emits) {
    socket.emit(event, payload);
  }
  report('ready');
});
for (const event of listen) {
  socket.on(event, data => report(event, { data }));
}
socket.on('disconnect', reason => {
  report('disconnect', { reason });
  // Give the client a moment to close its transport, as a long-lived client would.
  setTimeout(() => process.exit(0), 300);
});
// Never hang a test run: give up after 60 s.
setTimeout(() => {
  report('timeout');
  process.exit(3);
}, 60_000).unref();

// The demo server as a process (docs/demo-server.md "Process"): READY line, flags and
// their environment variables, the Socket.IO path, clean exit on SIGTERM and SIGINT.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TRANSPORTS, Peers, startServer, connected, waitFor, emitWithAck, api, roomsOf,
} from './harness.mjs';

describe('process', () => {
  test('ready_line_is_the_only_stdout_and_the_server_answers_at_once', async () => {
    const server = await startServer();
    try {
      // No 404 window: Socket.IO and the REST routes answer right after READY.
      const handshake = await fetch(`${server.url}/io/?EIO=4&transport=polling`);
      assert.equal(handshake.status, 200);
      assert.match(await handshake.text(), /^0\{"sid":/);
      const health = await api(server, 'GET', '/api/socket/health');
      assert.equal(health.status, 200);
      const peers = new Peers();
      const socket = await peers.authenticated(server, { transport: 'websocket' });
      const reply = waitFor(socket, 'echo:response');
      socket.emit('echo', 'x');
      await reply;
      peers.closeAll();
    } finally {
      await server.stop();
    }
    assert.equal(server.stdout, `READY ${server.port}\n`);
  });

  for (const signal of ['SIGTERM', 'SIGINT']) {
    test(`${signal.toLowerCase()}_disconnects_clients_and_exits_0`, async () => {
      const server = await startServer();
      const peers = new Peers();
      const sockets = [];
      for (const transport of TRANSPORTS) {
        sockets.push(await peers.authenticated(server, { transport }));
      }
      const waiting = await peers.connectedOnly(server, { transport: 'websocket' });
      const disconnects = [...sockets, waiting].map((s) => waitFor(s, 'disconnect'));
      server.child.kill(signal);
      const exit = await server.exit;
      assert.deepEqual(exit, { code: 0, signal: null }, server.stderr.slice(-2000));
      const reasons = await Promise.all(disconnects);
      for (const reason of reasons) assert.ok(typeof reason === 'string');
      peers.closeAll();
    });
  }

  test('sigterm_without_clients_exits_0', async () => {
    const server = await startServer();
    const exit = await server.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
  });
});

describe('configuration', () => {
  test('environment_variables_configure_token_prefix_and_timers', async () => {
    const server = await startServer({
      args: [],
      env: {
        PORT: '0', AUTH_TOKEN: 'from-env', AUTH_TIMEOUT_MS: '1500', PING_INTERVAL_MS: '1000',
        ROOM_PREFIX: 'env-',
      },
    });
    const peers = new Peers();
    try {
      const socket = await peers.authenticated(server, { transport: 'websocket', token: 'from-env' });
      const ack = await emitWithAck(socket, 'join', { rooms: ['env-room', 'public-room'] });
      assert.deepEqual(ack.joined, ['env-room']);
      const refused = peers.connect(server, { transport: 'websocket', token: 'secret' });
      await connected(refused);
      const notice = waitFor(refused, 'unauthenticated');
      refused.emit('authenticate');
      assert.equal((await notice).code, 'invalid_token');
    } finally {
      peers.closeAll();
      await server.stop();
    }
  });

  test('flags_win_over_environment_variables', async () => {
    const server = await startServer({
      args: ['--port', '0', '--auth-token', 'flag-token'],
      env: { AUTH_TOKEN: 'env-token' },
    });
    const peers = new Peers();
    try {
      await peers.authenticated(server, { transport: 'polling', token: 'flag-token' });
    } finally {
      peers.closeAll();
      await server.stop();
    }
  });

  test('without_auth_token_every_handshake_is_accepted_and_empty_prefix_keeps_all_rooms', async () => {
    const server = await startServer({ args: ['--port', '0'] });
    const peers = new Peers();
    try {
      for (const transport of TRANSPORTS) {
        const socket = await peers.authenticated(server, { transport, credentials: 'none' });
        const ack = await emitWithAck(socket, 'join', { rooms: ['anything', 'public-x'] });
        assert.deepEqual(ack.joined, ['anything', 'public-x']);
        assert.ok((await roomsOf(server, socket.id)).includes('anything'));
      }
    } finally {
      peers.closeAll();
      await server.stop();
    }
  });

  test('path_flag_moves_socket_io', async () => {
    const server = await startServer({ args: ['--port', '0', '--path', '/custom-io'] });
    const peers = new Peers();
    try {
      for (const transport of TRANSPORTS) {
        await peers.authenticated(server, { transport, path: '/custom-io', credentials: 'none' });
      }
      const old = await fetch(`${server.url}/io/?EIO=4&transport=polling`);
      assert.equal(old.status, 404);
    } finally {
      peers.closeAll();
      await server.stop();
    }
  });

  test('io_path_environment_variable_moves_socket_io', async () => {
    const server = await startServer({ args: ['--port', '0'], env: { IO_PATH: '/env-io' } });
    const peers = new Peers();
    try {
      await peers.authenticated(server, { transport: 'websocket', path: '/env-io', credentials: 'none' });
    } finally {
      peers.closeAll();
      await server.stop();
    }
  });
});

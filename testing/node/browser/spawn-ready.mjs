// Starts a project binary that prints `READY <port>` on stdout (chat-server,
// demo-server) and stops it with SIGTERM. Shared by the browser and worker tests.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (testing/node/browser/ is three levels down). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The path of a workspace binary: env `envName`, else
 * `$CARGO_TARGET_DIR/debug/<name>`, else `<repo>/target/debug/<name>`.
 * Throws, saying how to build it, when the file does not exist.
 */
export function binaryPath(name, envName) {
  const targetDir = process.env.CARGO_TARGET_DIR
    ? path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR)
    : path.join(REPO_ROOT, 'target');
  const bin = process.env[envName] || path.join(targetDir, 'debug', name);
  if (!existsSync(bin)) {
    throw new Error(`${name} binary not found at ${bin}: build it with `
      + `\`cargo build -p ignis-socketio-examples --bin ${name}\` or set ${envName}`);
  }
  return bin;
}

/** Spawns `bin args`, resolves once it printed `READY <port>`: {port, url, stop(), stderr()}. */
export async function startReady(bin, args, { env = {} } = {}) {
  const child = spawn(bin, args, {
    env: { RUST_LOG: 'warn', ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-50_000); });
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bin}: no READY line within 30 s; stderr:\n${stderr}`)), 30_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited early (${code ?? signal}); stderr:\n${stderr}`));
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /^READY (\d+)$/m.exec(stdout);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await exit;
      clearTimeout(killer);
      return result;
    },
  };
}

#!/usr/bin/env python3
"""Chat flood against the demo server on Redis: peak RSS and warning lines.

One raw WebSocket client (stdlib only, no dependencies) connects to
`demo-server --redis URL`, authenticates, and sends `chat:message {message}`
broadcasts as fast as TCP lets it for SECONDS, reading (and discarding) what
the server sends back. The server's RSS is read from /proc/<pid>/status every
100 ms; its stderr is counted for WARN lines. Repeated RUNS times, each on a
fresh server and a fresh Redis key prefix.

    cargo build --release -p ignis-socketio-examples --bin demo-server
    python3 scripts/chat_flood_rss.py [--runs 5] [--seconds 15] \
        [--redis redis://127.0.0.1:6379] [--bin target/release/demo-server] \
        [--server-arg=--event-rate-limit --server-arg=off]

Prints one line per run: peak RSS (MB), RSS at the end, events sent, whether
and when the server cut the flooder (the default rate limit does after 5 s;
`--server-arg` switches it off to load the Redis path for the whole run),
warning lines; exits 1 if a run's peak is at or over --limit-mb (default 100).
"""

import argparse
import base64
import os
import socket
import struct
import subprocess
import threading
import time
import uuid


def ws_connect(port, path):
    sock = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0], head
    return sock


def frame(text):
    payload = text.encode()
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


def read_frames(sock, on_text):
    buf = b""
    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            return
        if not data:
            return
        buf += data
        while len(buf) >= 2:
            n = buf[1] & 0x7F
            at = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n = struct.unpack("!H", buf[2:4])[0]
                at = 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n = struct.unpack("!Q", buf[2:10])[0]
                at = 10
            if len(buf) < at + n:
                break
            opcode = buf[0] & 0x0F
            payload = buf[at : at + n]
            buf = buf[at + n :]
            if opcode == 1:
                on_text(payload.decode(errors="replace"))


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(args):
    key = f"flood-{uuid.uuid4().hex[:8]}"
    server = subprocess.Popen(
        [args.bin, "--port", "0", "--redis", args.redis, "--redis-key", key,
         *args.server_arg],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    port = int(server.stdout.readline().split()[1])
    warnings = [0]

    def count_warnings():
        for line in server.stderr:
            if "WARN" in line:
                warnings[0] += 1

    threading.Thread(target=count_warnings, daemon=True).start()

    sock = ws_connect(port, "/io/?EIO=4&transport=websocket")
    send_lock = threading.Lock()

    def on_text(text):
        if text == "2":
            with send_lock:
                sock.sendall(frame("3"))

    threading.Thread(target=read_frames, args=(sock, on_text), daemon=True).start()
    with send_lock:
        sock.sendall(frame("40"))
        sock.sendall(frame('42["authenticate"]'))
    time.sleep(0.5)

    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kb(server.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    batch = b"".join(frame('42["chat:message",{"message":"flood line"}]') for _ in range(100))
    sent = 0
    started = time.monotonic()
    end = started + args.seconds
    cut_after = None
    while time.monotonic() < end:
        try:
            with send_lock:
                sock.sendall(batch)
        except OSError:
            # The server closed the flooder (rate limit held for too long).
            cut_after = time.monotonic() - started
            break
        sent += 100
    # Memory is watched for the whole length either way.
    time.sleep(max(0.0, end - time.monotonic()) + 1.0)
    stop.set()
    sampler.join()
    final = rss_kb(server.pid)
    sock.close()
    server.terminate()
    server.wait(timeout=10)
    return peak[0] / 1024, final / 1024, sent, warnings[0], cut_after


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--bin", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "release", "demo-server"))
    parser.add_argument("--limit-mb", type=float, default=100)
    parser.add_argument("--server-arg", action="append", default=[],
                        help="extra demo-server argument (repeat), e.g. "
                             "--server-arg=--event-rate-limit --server-arg=off")
    args = parser.parse_args()
    failed = False
    for i in range(args.runs):
        peak, final, sent, warnings, cut_after = run(args)
        cut = "not cut" if cut_after is None else f"cut by the server after {cut_after:.1f} s"
        print(f"run {i + 1}: peak RSS {peak:.1f} MB, end RSS {final:.1f} MB, "
              f"{sent} events sent, {cut}, {warnings} warning lines", flush=True)
        failed |= peak >= args.limit_mb
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()

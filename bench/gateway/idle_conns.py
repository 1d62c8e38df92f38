#!/usr/bin/env python3
"""idle_conns.py — hold N idle HTTP/1.1 keep-alive connections open.

    idle_conns.py N HOST PORT [PATH]

Opens N connections to HOST:PORT, sends one GET on each and reads its whole
response (so the server has seen a complete request and the connection is
idle in keep-alive, not half-way through a request), then prints
"ready N" on stdout and waits until stdin is closed, or SIGTERM/SIGINT,
before closing them all. Used by bench/gateway.sh to measure the server's
memory per idle keep-alive connection. Standard library only.

Exit status: 0 after a clean run; 1 when a connection could not be opened or
a response was not a complete 2xx (the message says which one and why).
"""
import resource
import signal
import socket
import sys


def read_response(sock, buf=b""):
    """Reads one HTTP/1.1 response (Content-Length or chunked) from sock.
    Returns the status code; raises on EOF or a malformed response."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before the response head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ValueError("bad status line %r" % lines[0][:80])
    status = int(parts[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection" and value == b"close":
            raise ConnectionError("server answered Connection: close")
    if chunked:
        while not body.endswith(b"0\r\n\r\n"):  # good enough for small bodies
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed inside a chunked body")
            body += chunk
    elif length is not None:
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed inside the body")
            body += chunk
    else:
        raise ValueError("response without Content-Length or chunked encoding")
    return status


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    n = int(sys.argv[1])
    host = sys.argv[2]
    port = int(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) > 4 else "/"

    # N sockets need N descriptors: raise the soft limit as far as allowed.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))

    # A signal ends the wait (SystemExit unwinds through the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))

    req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: idle_conns\r\n\r\n"
           % (path, host, port)).encode()
    socks = []
    try:
        for i in range(n):
            try:
                s = socket.create_connection((host, port), timeout=10)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                socks.append(s)
                s.sendall(req)
                status = read_response(s)
            except (OSError, ValueError) as e:
                sys.stderr.write("idle_conns: connection %d of %d: %s\n" % (i + 1, n, e))
                return 1
            if not 200 <= status < 300:
                sys.stderr.write("idle_conns: connection %d of %d: status %d\n"
                                 % (i + 1, n, status))
                return 1
        print("ready %d" % len(socks), flush=True)
        # Hold them until EOF on stdin (or a signal).
        while sys.stdin.buffer.read1(4096):
            pass
    finally:
        for s in socks:
            s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

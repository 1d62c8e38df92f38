#!/usr/bin/env python3
"""upstream.py -- the gateway suite's test upstream (python3 stdlib only).

An asyncio HTTP/1.1 server with keep-alive, pipelining, Content-Length and
chunked request bodies, and streaming responses. Every response carries
`X-Upstream: NAME` so tests can tell which endpoint answered.

    upstream.py --port N --name X     N = 0 picks a free port; prints
                                      "listening PORT" on stdout when ready
    upstream.py --sha N               prints the sha256 of /bytes/N's body
    upstream.py --gen N               writes /bytes/N's body to stdout
    upstream.py --blackhole           a port whose accept queue is full, so that
                                      connecting to it hangs (connect timeouts);
                                      prints "listening PORT"

Paths (the query is ignored unless noted):
    /echo[...], /t/...  JSON: method, target (path+query), version, headers
                      (list of [name, value] as received), body_len,
                      body_sha256, conn (this upstream's connection number),
                      conn_req (request number on that connection), upstream
    /sink             consumes the body streaming; JSON {size, sha256}
    /slowsink         the same, reading at most 64 KiB per 20 ms (~3 MB/s)
    /status/NNN       answers NNN (body "status NNN\\n" unless 1xx/204/304)
    /slow/MS          sleeps MS before sending the head
    /bytes/N          N deterministic bytes (byte i = i % 251) with
                      Content-Length; ?chunked=1 chunked; &chunk=K write size
    /close/N          N bytes delimited by closing the connection (no CL/TE)
    /drip/N/MS        Content-Length N, one byte every MS milliseconds
    /flaky/K          503 for the first K requests to this exact path, then 200
                      "flaky ok after K len=BODYLEN"
    /hop              200 with hop-by-hop response headers that a proxy must drop
    /ok               200 "ok"
    /raw/NAME         a canned broken or truncated response, then close (see RAW)
    /early/NNN        answers NNN at once without reading the request body, then
                      closes with a lingering close
    /healthz          200 "ok", or 503 after /admin/unhealthy (/admin/healthy undoes)
    /count            JSON: requests (all but /count, /admin/*, /healthz),
                      paths {path: n} (every path, query stripped), healthz,
                      connections (accepted), open, bad (unparseable heads),
                      log (last 200 request lines, /healthz and /count excluded)
    /admin/reset      zeroes every counter and the log (and /flaky state)
    /admin/unhealthy, /admin/healthy
    anything else     404
HEAD is answered with the GET head and no body.
"""
import argparse
import asyncio
import hashlib
import json
import os
import signal
import sys

NAME = "upstream"
HEALTHY = True
STATS = {}
LOG = []
CONN_SEQ = 0
OPEN = 0
MAX_HEAD = 1 << 20


def reset_stats():
    global LOG
    STATS.clear()
    STATS.update(requests=0, paths={}, healthz=0, connections=0, bad=0)
    LOG = []


reset_stats()

PATTERN_UNIT = bytes(range(251))


def pattern_block(size):
    reps = size // 251 + 2
    return PATTERN_UNIT * reps


def pattern_iter(n, chunk):
    """Yields the deterministic body of /bytes/n in pieces of at most chunk."""
    block = pattern_block(chunk)
    off = 0
    while off < n:
        ln = min(chunk, n - off)
        s = off % 251
        yield block[s:s + ln]
        off += ln


REASONS = {100: "Continue", 200: "OK", 201: "Created", 204: "No Content",
           301: "Moved Permanently", 302: "Found", 304: "Not Modified",
           400: "Bad Request", 404: "Not Found", 413: "Payload Too Large",
           500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}


class BadRequest(Exception):
    pass


async def read_body(reader, req, on_data, delay=0.0):
    """Reads the request body (CL or chunked), calling on_data per piece;
    with delay, sleeps that long after every piece (a slow reader)."""
    te = req["te"]
    if te is not None:
        if not te.lower().replace(" ", "").endswith("chunked"):
            raise BadRequest("unsupported transfer-encoding")
        while True:
            line = await reader.readuntil(b"\r\n")
            size_s = line[:-2].split(b";", 1)[0].strip()
            try:
                size = int(size_s, 16)
            except ValueError:
                raise BadRequest("bad chunk size")
            if size == 0:
                while True:  # trailers
                    t = await reader.readuntil(b"\r\n")
                    if t == b"\r\n":
                        return
            while size > 0:
                data = await reader.read(min(size, 65536 if delay else 262144))
                if not data:
                    raise asyncio.IncompleteReadError(b"", size)
                on_data(data)
                size -= len(data)
                if delay:
                    await asyncio.sleep(delay)
            if await reader.readexactly(2) != b"\r\n":
                raise BadRequest("chunk not followed by CRLF")
    else:
        n = req["cl"]
        while n > 0:
            data = await reader.read(min(n, 65536 if delay else 262144))
            if not data:
                raise asyncio.IncompleteReadError(b"", n)
            on_data(data)
            n -= len(data)
            if delay:
                await asyncio.sleep(delay)


def head_bytes(status, headers, req):
    lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status"))]
    lines.append("X-Upstream: " + NAME)
    for k, v in headers:
        lines.append("%s: %s" % (k, v))
    if not req["keep"]:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def simple(writer, req, status, body, ctype="text/plain", extra=()):
    if isinstance(body, str):
        body = body.encode()
    hdrs = [("Content-Type", ctype)]
    if status not in (204, 304) and status >= 200:
        hdrs.append(("Content-Length", str(len(body))))
    hdrs.extend(extra)
    head = head_bytes(status, hdrs, req)
    if req["method"] == "HEAD" or status in (204, 304) or 100 <= status < 200:
        writer.write(head)
    else:
        writer.write(head + body)


async def handle_request(reader, writer, req, conn_id, conn_req):
    global HEALTHY
    method, target = req["method"], req["target"]
    path = target.split("?", 1)[0]
    query = target.split("?", 1)[1] if "?" in target else ""
    parts = path.split("/")

    body_len = 0
    sha = hashlib.sha256()

    def consume(data):
        nonlocal body_len
        body_len += len(data)
        sha.update(data)

    if len(parts) == 3 and parts[1] == "early" and parts[2].isdigit():
        # answers at once without reading the request body, then closes the
        # way a careful server does: FIN, then drain what still comes (a
        # lingering close, so that no RST destroys the response in flight)
        st = int(parts[2])
        req["keep"] = False
        await simple(writer, req, st, "early %d\n" % st)
        await writer.drain()
        writer.write_eof()
        try:
            while await asyncio.wait_for(reader.read(1 << 20), 3.0):
                pass
        except (asyncio.TimeoutError, ConnectionError):
            pass
        return
    if req["has_body"]:
        if req["expect"]:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        # /slowsink reads at most 64 KiB per 20 ms (about 3 MB/s)
        await read_body(reader, req, consume, 0.02 if path == "/slowsink" else 0.0)

    if path.startswith("/echo") or path.startswith("/t/"):
        doc = {"method": method, "target": target, "version": req["version"],
               "headers": req["headers"], "body_len": body_len,
               "body_sha256": sha.hexdigest(), "conn": conn_id,
               "conn_req": conn_req, "upstream": NAME}
        await simple(writer, req, 200, json.dumps(doc) + "\n", "application/json")
    elif path in ("/sink", "/slowsink"):
        doc = {"size": body_len, "sha256": sha.hexdigest(), "upstream": NAME}
        await simple(writer, req, 200, json.dumps(doc) + "\n", "application/json")
    elif path == "/ok":
        await simple(writer, req, 200, "ok\n")
    elif path == "/healthz":
        if HEALTHY:
            await simple(writer, req, 200, "ok\n")
        else:
            await simple(writer, req, 503, "unhealthy\n")
    elif path == "/count":
        doc = dict(STATS)
        doc["open"] = OPEN
        doc["log"] = LOG
        doc["upstream"] = NAME
        await simple(writer, req, 200, json.dumps(doc) + "\n", "application/json")
    elif path == "/admin/reset":
        reset_stats()
        FLAKY.clear()
        await simple(writer, req, 200, "reset\n")
    elif path == "/admin/unhealthy":
        HEALTHY = False
        await simple(writer, req, 200, "now unhealthy\n")
    elif path == "/admin/healthy":
        HEALTHY = True
        await simple(writer, req, 200, "now healthy\n")
    elif len(parts) == 3 and parts[1] == "status" and parts[2].isdigit():
        st = int(parts[2])
        await simple(writer, req, st, "status %d\n" % st)
    elif len(parts) == 3 and parts[1] == "slow" and parts[2].isdigit():
        await asyncio.sleep(int(parts[2]) / 1000.0)
        await simple(writer, req, 200, "slow %s\n" % parts[2])
    elif len(parts) == 3 and parts[1] == "flaky" and parts[2].isdigit():
        seen = FLAKY.get(path, 0)
        FLAKY[path] = seen + 1
        if seen < int(parts[2]):
            await simple(writer, req, 503, "flaky failure %d\n" % (seen + 1))
        else:
            await simple(writer, req, 200, "flaky ok after %d len=%d\n" % (seen, body_len))
    elif len(parts) == 3 and parts[1] == "raw" and parts[2] in RAW:
        writer.write(RAW[parts[2]])
        await writer.drain()
        req["keep"] = False
    elif path == "/hop":
        await simple(writer, req, 200, "hop\n", extra=[
            ("Connection", "X-Up-Hop"), ("X-Up-Hop", "secret"),
            ("Keep-Alive", "timeout=9"), ("Proxy-Authenticate", "Basic realm=up"),
            ("Proxy-Connection", "keep-alive"), ("Trailer", "X-Up-Trailer"),
            ("Upgrade", "up-proto"), ("X-Up-Keep", "kept"),
            ("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")])
    elif len(parts) == 3 and parts[1] == "bytes" and parts[2].isdigit():
        n = int(parts[2])
        q = dict(kv.split("=", 1) for kv in query.split("&") if "=" in kv)
        chunked = q.get("chunked") == "1"
        chunk = max(1, int(q.get("chunk", "65536")))
        hdrs = [("Content-Type", "application/octet-stream")]
        hdrs.append(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(n)))
        writer.write(head_bytes(200, hdrs, req))
        if method != "HEAD":
            for piece in pattern_iter(n, chunk):
                if chunked:
                    writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                else:
                    writer.write(piece)
                await writer.drain()
            if chunked:
                writer.write(b"0\r\n\r\n")
    elif len(parts) == 3 and parts[1] == "close" and parts[2].isdigit():
        n = int(parts[2])
        writer.write(b"HTTP/1.1 200 OK\r\nX-Upstream: " + NAME.encode() +
                     b"\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n")
        if method != "HEAD":
            for piece in pattern_iter(n, 65536):
                writer.write(piece)
                await writer.drain()
        req["keep"] = False
    elif len(parts) == 4 and parts[1] == "drip" and parts[2].isdigit() and parts[3].isdigit():
        n, ms = int(parts[2]), int(parts[3])
        writer.write(head_bytes(200, [("Content-Type", "application/octet-stream"),
                                      ("Content-Length", str(n))], req))
        await writer.drain()
        if method != "HEAD":
            for piece in pattern_iter(n, 1):
                await asyncio.sleep(ms / 1000.0)
                writer.write(piece)
                await writer.drain()
    else:
        await simple(writer, req, 404, "no such upstream path %s\n" % path)


FLAKY = {}

# Broken upstream responses; the connection is closed after each.
RAW = {
    "garbage": b"THIS IS NOT HTTP\r\n\r\n",
    "empty": b"",
    "cl-conflict": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "cl-te": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bare-lf": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "obs-fold": b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
    "bad-status": b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok",
    "early-hints": b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                   b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nafter hints",
    "http10-close": b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nbody-of-http10",
    "chunked-trailers": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"5;ext=x\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n",
    "truncated": b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"t" * 1000,
    "truncated-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" + b"t" * 1000 + b"\r\n",
}


def parse_head(raw):
    try:
        text = raw.decode("latin-1")
    except Exception:
        raise BadRequest("undecodable")
    lines = text.split("\r\n")
    rl = lines[0].split(" ")
    if len(rl) != 3 or not rl[2].startswith("HTTP/1."):
        raise BadRequest("bad request line %r" % lines[0])
    method, target, version = rl
    headers = []
    cl = None
    te = None
    conn = ""
    expect = False
    for ln in lines[1:]:
        if ln == "":
            continue
        if ":" not in ln:
            raise BadRequest("bad header line %r" % ln)
        k, v = ln.split(":", 1)
        v = v.strip(" \t")
        headers.append([k, v])
        lk = k.lower()
        if lk == "content-length":
            if cl is not None and cl != v:
                raise BadRequest("conflicting content-length")
            cl = v
        elif lk == "transfer-encoding":
            te = v if te is None else te + ", " + v
        elif lk == "connection":
            conn += "," + v.lower()
        elif lk == "expect" and v.lower() == "100-continue":
            expect = True
    if cl is not None:
        if not cl.isdigit():
            raise BadRequest("bad content-length")
        cl = int(cl)
    if cl is not None and te is not None:
        raise BadRequest("content-length and transfer-encoding")
    tokens = [t.strip() for t in conn.split(",")]
    if version == "HTTP/1.1":
        keep = "close" not in tokens
    else:
        keep = "keep-alive" in tokens
    return {"method": method, "target": target, "version": version,
            "headers": headers, "cl": cl or 0, "te": te, "keep": keep,
            "expect": expect, "has_body": te is not None or (cl or 0) > 0}


async def handle_conn(reader, writer):
    global CONN_SEQ, OPEN
    CONN_SEQ += 1
    conn_id = CONN_SEQ
    STATS["connections"] += 1
    OPEN += 1
    conn_req = 0
    try:
        while True:
            try:
                raw = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            except asyncio.LimitOverrunError:
                STATS["bad"] += 1
                writer.write(b"HTTP/1.1 431 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                break
            try:
                req = parse_head(raw[:-4])
            except BadRequest as e:
                STATS["bad"] += 1
                msg = ("bad request: %s\n" % e).encode()
                writer.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(msg), msg))
                break
            conn_req += 1
            path = req["target"].split("?", 1)[0]
            STATS["paths"][path] = STATS["paths"].get(path, 0) + 1
            if path == "/healthz":
                STATS["healthz"] += 1
            elif path != "/count" and not path.startswith("/admin/"):
                STATS["requests"] += 1
                LOG.append("%s %s" % (req["method"], req["target"]))
                if len(LOG) > 200:
                    del LOG[0]
            try:
                await handle_request(reader, writer, req, conn_id, conn_req)
            except BadRequest as e:
                STATS["bad"] += 1
                msg = ("bad body: %s\n" % e).encode()
                writer.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(msg), msg))
                break
            if not req["keep"]:
                break
            # let the buffer drain now and then; cheap when it is empty
            if writer.transport.get_write_buffer_size() > 65536:
                await writer.drain()
        try:
            await writer.drain()
        except ConnectionError:
            pass
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        OPEN -= 1
        try:
            writer.close()
        except Exception:
            pass


async def main(port, host):
    server = await asyncio.start_server(handle_conn, host, port, limit=MAX_HEAD,
                                        backlog=1024, reuse_address=True)
    actual = server.sockets[0].getsockname()[1]
    sys.stdout.write("listening %d\n" % actual)
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # nothing to flush: leave at once, whatever connections are open
        loop.add_signal_handler(sig, os._exit, 0)
    async with server:
        await asyncio.Event().wait()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--name", default="upstream")
    ap.add_argument("--sha", type=int, help="print sha256 of /bytes/N and exit")
    ap.add_argument("--gen", type=int, help="write /bytes/N's body to stdout and exit")
    ap.add_argument("--blackhole", action="store_true", help="listen, never accept")
    a = ap.parse_args()
    if a.blackhole:
        import socket
        import time
        ls = socket.socket()
        ls.bind((a.host, a.port))
        ls.listen(0)
        port = ls.getsockname()[1]
        fill = []  # fill the accept queue: further SYNs are dropped
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex((a.host, port))
            fill.append(c)
        time.sleep(0.2)
        print("listening %d" % port, flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(3600)
    if a.sha is not None:
        h = hashlib.sha256()
        for p in pattern_iter(a.sha, 1 << 20):
            h.update(p)
        print(h.hexdigest())
        sys.exit(0)
    if a.gen is not None:
        out = sys.stdout.buffer
        for p in pattern_iter(a.gen, 1 << 20):
            out.write(p)
        out.flush()
        sys.exit(0)
    NAME = a.name
    try:
        asyncio.run(main(a.port, a.host))
    except KeyboardInterrupt:
        pass

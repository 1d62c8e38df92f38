#!/usr/bin/env python3
"""rawclient.py -- sends exact bytes over one TCP connection and reports what
came back, for malformed-input, smuggling and pipelining tests.

    rawclient.py --port P [-d DATA]... [-f FILE] [--stdin] [options]

Each -d is a Python literal (b'...' or '...', escapes allowed: '\\r\\n') or, if
it is not a valid literal, the text itself with backslash escapes decoded.
-f FILE and --stdin add the bytes of a file / of stdin as a piece. Pieces are
sent in order over one connection.

Options:
    --gap MS          pause between pieces (default 0)
    --split N         send every piece in N-byte writes with --gap between them
    --await-interim   before sending each piece after the first, wait for a
                      1xx response (prints "NO-INTERIM" if none in --timeout)
    --await-responses before sending each piece after the first, wait until
                      one more final response than before has been read
    --timeout S       idle read timeout in seconds (default 3)
    --head            every response is to HEAD (no body)
    --show-body       print each response body (latin-1, escaped) after its status line
    --show-headers    print each response's header lines (indented)
    --json            print one JSON document instead of lines
    --dump FILE       write every byte received to FILE

Output: one line per response status line ("HTTP/1.1 200 OK"; 1xx included),
then "CLOSED" (peer closed or reset the connection) or "TIMEOUT" (idle for
--timeout with the connection still open). Unparseable response bytes are
reported as "GARBAGE <repr>" and end the parse. Exit status 0.
"""
import argparse
import ast
import codecs
import json
import socket
import sys
import time


def parse_literal(s):
    try:
        v = ast.literal_eval(s)
        if isinstance(v, bytes):
            return v
        if isinstance(v, str):
            return v.encode("latin-1")
    except (ValueError, SyntaxError):
        pass
    return codecs.escape_decode(s.encode("latin-1"))[0]


class ResponseParser:
    """Incremental HTTP/1.x response parser."""

    def __init__(self, head_only):
        self.buf = b""
        self.head_only = head_only
        self.responses = []  # dicts: status_line, status, headers, body
        self.cur = None
        self.state = "head"
        self.remaining = 0
        self.garbage = None
        self.until_close = False

    def feed(self, data):
        self.buf += data
        while self.buf and self.garbage is None:
            if not self.step():
                break

    def step(self):
        if self.state == "head":
            i = self.buf.find(b"\r\n\r\n")
            if i < 0:
                if len(self.buf) > 1 << 20 or (len(self.buf) >= 5 and not self.buf.startswith(b"HTTP/")):
                    self.garbage = self.buf[:80]
                return False
            head = self.buf[:i].decode("latin-1")
            self.buf = self.buf[i + 4:]
            lines = head.split("\r\n")
            sl = lines[0]
            parts = sl.split(" ", 2)
            if not sl.startswith("HTTP/") or len(parts) < 2 or not parts[1].isdigit():
                self.garbage = (head + "\r\n\r\n").encode("latin-1")[:80]
                return False
            status = int(parts[1])
            headers = []
            for ln in lines[1:]:
                k, _, v = ln.partition(":")
                headers.append((k, v.strip()))
            self.cur = {"status_line": sl, "status": status, "headers": headers, "body": b""}
            self.responses.append(self.cur)
            h = {k.lower(): v for k, v in headers}
            if 100 <= status < 200 or status in (204, 304) or self.head_only:
                self.state = "head"
                return True
            if "chunked" in h.get("transfer-encoding", "").lower():
                self.state = "chunk-size"
            elif "content-length" in h:
                self.remaining = int(h["content-length"])
                self.state = "body" if self.remaining else "head"
            else:
                self.state = "close"
            return True
        if self.state == "body":
            take = self.buf[:self.remaining]
            self.cur["body"] += take
            self.buf = self.buf[len(take):]
            self.remaining -= len(take)
            if self.remaining == 0:
                self.state = "head"
            return True
        if self.state == "close":
            self.cur["body"] += self.buf
            self.buf = b""
            return False
        if self.state == "chunk-size":
            i = self.buf.find(b"\r\n")
            if i < 0:
                return False
            line = self.buf[:i].split(b";")[0].strip()
            self.buf = self.buf[i + 2:]
            try:
                size = int(line, 16)
            except ValueError:
                self.garbage = line[:80]
                return False
            if size == 0:
                self.state = "trailers"
            else:
                self.remaining = size
                self.state = "chunk-data"
            return True
        if self.state == "chunk-data":
            if len(self.buf) < self.remaining + 2:
                if len(self.buf) > self.remaining:
                    return False
                take = self.buf
                self.cur["body"] += take
                self.buf = b""
                self.remaining -= len(take)
                return False
            self.cur["body"] += self.buf[:self.remaining]
            if self.buf[self.remaining:self.remaining + 2] != b"\r\n":
                self.garbage = b"chunk data not followed by CRLF"
                return False
            self.buf = self.buf[self.remaining + 2:]
            self.state = "chunk-size"
            return True
        if self.state == "trailers":
            i = self.buf.find(b"\r\n")
            if i < 0:
                return False
            line = self.buf[:i]
            self.buf = self.buf[i + 2:]
            if line == b"":
                self.state = "head"
            return True
        return False

    def finals(self):
        return sum(1 for r in self.responses if r["status"] >= 200)

    def interims(self):
        return sum(1 for r in self.responses if r["status"] < 200)


def main():
    ap = argparse.ArgumentParser(description="send raw bytes, print response status lines")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("-d", "--data", action="append", default=[])
    ap.add_argument("-f", "--file", action="append", default=[])
    ap.add_argument("--stdin", action="store_true")
    ap.add_argument("--gap", type=float, default=0)
    ap.add_argument("--split", type=int, default=0)
    ap.add_argument("--await-interim", action="store_true")
    ap.add_argument("--await-responses", action="store_true")
    ap.add_argument("--timeout", type=float, default=3.0)
    ap.add_argument("--head", action="store_true")
    ap.add_argument("--show-body", action="store_true")
    ap.add_argument("--show-headers", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--dump")
    a = ap.parse_args()

    pieces = [parse_literal(d) for d in a.data]
    for f in a.file:
        with open(f, "rb") as fh:
            pieces.append(fh.read())
    if a.stdin:
        pieces.append(sys.stdin.buffer.read())
    if a.split > 0:
        split = []
        for p in pieces:
            split.extend(p[i:i + a.split] for i in range(0, len(p), a.split))
        pieces = split

    parser = ResponseParser(a.head)
    dump = open(a.dump, "wb") if a.dump else None
    notes = []
    end = None  # "CLOSED" or "TIMEOUT"

    try:
        s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    except OSError as e:
        print("CONNECT-FAILED %s" % e)
        return 0
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def read_some(deadline_s):
        """Reads what arrives within deadline_s; returns False at EOF/reset."""
        nonlocal end
        s.settimeout(deadline_s)
        try:
            data = s.recv(1 << 20)
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError) as e:
            notes.append("reset")
            end = "CLOSED"
            return False
        if not data:
            end = "CLOSED"
            return False
        if dump:
            dump.write(data)
        parser.feed(data)
        return True

    def wait_for(pred):
        deadline = time.monotonic() + a.timeout
        while not pred():
            left = deadline - time.monotonic()
            if left <= 0 or end:
                return False
            if read_some(left) is False:
                return pred()
        return True

    for idx, piece in enumerate(pieces):
        if idx > 0:
            if a.await_interim:
                have = parser.interims()
                if not wait_for(lambda: parser.interims() > have):
                    notes.append("NO-INTERIM")
                    print("NO-INTERIM")
                    if end:
                        break
            elif a.await_responses:
                have = parser.finals()
                if not wait_for(lambda: parser.finals() > have) and end:
                    break
            if a.gap:
                # keep reading while we pause, so nothing is lost
                t_end = time.monotonic() + a.gap / 1000.0
                while not end:
                    left = t_end - time.monotonic()
                    if left <= 0:
                        break
                    read_some(left)
            if end:
                break
        try:
            s.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            notes.append("send-failed")
            break

    while not end:
        r = read_some(a.timeout)
        if r is None:
            end = "TIMEOUT"
    s.close()
    if dump:
        dump.close()

    if a.json:
        out = {"responses": [{"status_line": r["status_line"], "status": r["status"],
                              "headers": r["headers"], "body": r["body"].decode("latin-1")}
                             for r in parser.responses],
               "end": end, "notes": notes,
               "garbage": parser.garbage.decode("latin-1") if parser.garbage else None}
        print(json.dumps(out))
        return 0
    for r in parser.responses:
        print(r["status_line"])
        if a.show_headers:
            for k, v in r["headers"]:
                print("  %s: %s" % (k, v))
        if a.show_body and r["status"] >= 200:
            print("  body: %s" % repr(r["body"][:2000])[2:-1])
    if parser.garbage is not None:
        print("GARBAGE %r" % parser.garbage)
    print(end)
    return 0


if __name__ == "__main__":
    sys.exit(main())

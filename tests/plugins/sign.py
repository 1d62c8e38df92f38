#!/usr/bin/env python3
"""sign.py -- signatures for tests/plugins/plugins.sh (python3 stdlib only).

    sign.py jwt SECRET PAYLOAD_JSON [HEADER_JSON]   HS256 JWT (base64url, no padding)
    sign.py hmac SECRET TEXT                        base64(HMAC-SHA256(SECRET, TEXT)),
                                                    TEXT with \\n escapes expanded
    sign.py now [+-SECONDS]                         Unix time (shifted)
    sign.py httpdate [+-SECONDS]                    IMF-fixdate of now (shifted)
    sign.py b64 TEXT                                standard base64
    sign.py window W [ROOM]                         sleeps until the current W-second
                                                    window (aligned to multiples of W)
                                                    has at least ROOM s left (default: W,
                                                    i.e. until just after the next start)
"""
import base64, hashlib, hmac, json, sys, time
from email.utils import formatdate


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main(a):
    if a[0] == "jwt":
        header = a[3] if len(a) > 3 else '{"alg":"HS256","typ":"JWT"}'
        payload = json.dumps(json.loads(a[2]), separators=(",", ":"))
        signing = b64u(header.encode()) + "." + b64u(payload.encode())
        mac = hmac.new(a[1].encode(), signing.encode(), hashlib.sha256).digest()
        print(signing + "." + b64u(mac))
    elif a[0] == "hmac":
        text = a[2].encode().decode("unicode_escape").encode()
        print(base64.b64encode(hmac.new(a[1].encode(), text, hashlib.sha256).digest()).decode())
    elif a[0] == "now":
        print(int(time.time()) + (int(a[1]) if len(a) > 1 else 0))
    elif a[0] == "httpdate":
        print(formatdate(time.time() + (int(a[1]) if len(a) > 1 else 0), usegmt=True))
    elif a[0] == "window":
        w = int(a[1])
        room = float(a[2]) if len(a) > 2 else w
        now = time.time()
        left = w - now % w
        if left < room:
            time.sleep(left + 0.02)
    elif a[0] == "b64":
        print(base64.b64encode(a[1].encode()).decode())
    else:
        sys.exit("unknown command " + a[0])


main(sys.argv[1:])

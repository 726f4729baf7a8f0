#!/usr/bin/env python3
"""An HTTP/1.1 peer for edgewise's HTTP transport tests, on the Python standard library only.

It answers POSTs with `--fail-status` for the first `--fail-first` requests and 200 after,
and records every request it got in `--record`: one tab-separated line per request with the
status it answered, the path, the Content-Type, the Authorization header, the client's port
(the same port for two requests means the connection was kept alive) and the body in hex. With `--cert`/`--key` it speaks HTTPS.
`--delay-first N --delay S` makes the first N answers wait S seconds (a stalled server);
`--idle-timeout S` closes a kept-alive connection after S idle seconds without telling the
client, as servers do. It prints "listening" once the socket accepts connections.
"""

import argparse
import http.server
import ssl
import sys
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-status", type=int, default=500)
    parser.add_argument("--delay-first", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--idle-timeout", type=float)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()

    lock = threading.Lock()
    state = {"count": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a production server would
        timeout = args.idle_timeout  # socket timeout: an idle connection is closed
        # The headers and the body go out in two writes; with Nagle on, the body waits for the
        # client's delayed ACK of the headers (40 ms) on every kept-alive request.
        disable_nagle_algorithm = True

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                state["count"] += 1
                delaying = state["count"] <= args.delay_first
                failing = state["count"] <= args.fail_first
                status = args.fail_status if failing else 200
                record = [
                    str(status),
                    self.path,
                    self.headers.get("Content-Type", ""),
                    self.headers.get("Authorization", ""),
                    str(self.client_address[1]),
                    body.hex(),
                ]
                with open(args.record, "a", encoding="utf-8") as out:
                    out.write("\t".join(record) + "\n")
            if delaying:
                time.sleep(args.delay)
            answer = (b"peer says no: status %d" % status) if failing else b"ok"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("listening", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

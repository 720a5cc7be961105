#!/usr/bin/env python3
"""HTTPS test servers for tests/integration/test_client.c (stdlib only).

Usage: client_server.py DIR

DIR holds the PEM files the test generated. Three HTTP/1.1 keep-alive
servers listen on 127.0.0.1, port 0, each in its own thread:

  good      server.pem (trusted CA, SAN IP:127.0.0.1, DNS:localhost);
            requires a client certificate from the trusted CA
  wrongname wrongname.pem (trusted CA, SAN DNS:node9.test only)
  untrusted untrusted.pem (an unknown CA, SAN IP:127.0.0.1)

When all listen, one line goes to stdout: "ports GOOD WRONGNAME UNTRUSTED".
The process exits when its stdin reaches EOF, so it never outlives the test
program, however that ends.

Paths:
  /echo            200; body = request body; X-Method, X-Test (the X-Test
                   request header), X-Content-Type, X-Expect ("-" when
                   absent), X-Peer (client certificate CN or "-")
  /big?n=N         200 with N bytes and a Content-Length
  /chunked?n=N     200 with N bytes, chunked, no Content-Length
  /status/NNN      that status, small body
  /redirect        302 to /echo
  /hang            reads the request, never answers
  /sleep?ms=N      answers /echo-style after N ms

Every response carries X-Conn (the number of the connection it came on,
counted from 1 per server) and X-Accepts (connections accepted so far).
"""

import http.server
import os
import ssl
import sys
import threading
import time
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        with self.server.lock:
            self.server.accepts += 1
            self.conn_id = self.server.accepts
        self.request.settimeout(30)
        self.request.do_handshake()
        super().setup()

    def log_message(self, *args):
        pass

    def reply(self, code, body, extra=(), chunked=False):
        self.send_response(code)
        self.send_header("X-Conn", str(self.conn_id))
        with self.server.lock:
            self.send_header("X-Accepts", str(self.server.accepts))
        for name, value in extra:
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if chunked:
            step = 1000
            for i in range(0, len(body), step):
                part = body[i:i + step]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    def peer(self):
        cert = self.request.getpeercert()
        if not cert:
            return "-"
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    return value
        return "?"

    def echo(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n > 0 else b""
        extra = [
            ("X-Method", self.command),
            ("X-Test", self.headers.get("X-Test", "-")),
            ("X-Content-Type", self.headers.get("Content-Type", "-")),
            ("X-Expect", self.headers.get("Expect", "-")),
            ("X-Peer", self.peer()),
            ("Content-Type", "application/octet-stream"),
        ]
        self.reply(200, body, extra)

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/echo":
            self.echo()
        elif url.path == "/big":
            self.reply(200, b"b" * int(query["n"][0]))
        elif url.path == "/chunked":
            self.reply(200, b"c" * int(query["n"][0]), chunked=True)
        elif url.path.startswith("/status/"):
            self.reply(int(url.path[8:]), b"status\n")
        elif url.path == "/redirect":
            self.reply(302, b"", [("Location", "/echo")])
        elif url.path == "/hang":
            time.sleep(3600)
        elif url.path == "/sleep":
            time.sleep(int(query["ms"][0]) / 1000.0)
            self.echo()
        else:
            self.reply(404, b"no such path\n")

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = route


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, ctx):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.accepts = 0
        # The handshake runs in the connection's thread (Handler.setup),
        # not in accept(), so one stuck client cannot block the others.
        self.socket = ctx.wrap_socket(self.socket, server_side=True,
                                      do_handshake_on_connect=False)

    def handle_error(self, request, client_address):
        pass  # failed handshakes are what some tests are about


def context(d, name, client_ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, name + ".pem"),
                        os.path.join(d, name + ".key"))
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(os.path.join(d, client_ca))
    return ctx


def main():
    d = sys.argv[1]
    servers = [
        Server(context(d, "server", client_ca="ca.pem")),
        Server(context(d, "wrongname")),
        Server(context(d, "untrusted")),
    ]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ports " + " ".join(str(s.server_address[1]) for s in servers),
          flush=True)
    sys.stdin.buffer.read()  # EOF: the test program is gone
    os._exit(0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A test double of certstore's REST API and etcd's JSON gateway, for
tests/integration/test_loadgen.sh (stdlib only).

Usage: loadgen_double.py [options] KIND[,KIND...]

KIND is http or https; one HTTP/1.1 keep-alive server per KIND listens on
127.0.0.1, port 0, each in its own thread. https servers use DIR/server.pem
and DIR/server.key (--tls DIR) and require a client certificate from
DIR/ca.pem. When all listen, one line goes to stdout: "ports P1 P2 ...".
The process exits on SIGTERM, when its parent process is gone, or after
--lifetime seconds, so it never outlives the test.

Routes (anything else is 404, counted):
  POST /v3/kv/put             etcd: JSON {"key": b64, "value": b64}; 200
  POST /v1/certs              application/pkix-cert: one DER body;
                              application/x-pem-file: a PEM bundle; 201
  POST /v1/certs/FP/revoke    JSON {"reason": ...}; 200
  GET  /v1/certs/FP           200
  GET  /_stats                the counters as JSON (not counted)

On SIGTERM the counters are written to --stats FILE (JSON) before exiting.

Every counted request waits --delay-ms before its answer. Faults, by the
arrival number n (1, 2, ...) of the requests whose path matches
--fault-path (a regular expression; default: all):
  --fail-every N    n % N == 0: 500
  --fail4-every N   n % N == 0 (and not a 500): 409
  --hang-every N    n % N == 0 (and neither): no answer; the connection is
                    closed after --hang-ms

The in-flight counter goes up when a request has been read and down just
before its answer is written, so max_inflight never counts a client's next
request before its previous one was answered.
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
import http.server

RID = re.compile(r"^[0-9a-f]{32}$")
PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n(.*?)-----END CERTIFICATE-----",
                 re.S)


class Stats:
    def __init__(self, nlisteners):
        self.lock = threading.RLock()  # stop() may interrupt a holder
        self.requests = 0
        self.by_status = {}
        self.hangs = 0
        self.inflight = 0
        self.max_inflight = 0
        self.accepts = [0] * nlisteners
        self.per_listener = [0] * nlisteners
        self.ids = set()
        self.id_missing = 0
        self.id_bad = 0
        self.id_dup = 0
        self.fault_n = 0
        self.bad_content_type = 0
        self.bad_body = 0
        # certstore-import
        self.der_hashes = set()
        self.der_dup = 0
        self.der_bodies = 0
        # certstore-revoke
        self.imported = set()
        self.import_batches = []
        self.revoked = set()
        self.revoke_dup = 0
        self.revoke_unknown = 0
        self.revoke_bad_reason = 0
        # etcd-put
        self.keys = set()
        self.key_dup = 0
        self.value_sizes = set()

    def json(self):
        with self.lock:
            return {
                "requests": self.requests,
                "by_status": {str(k): v for k, v in self.by_status.items()},
                "hangs": self.hangs,
                "max_inflight": self.max_inflight,
                "accepts": self.accepts,
                "per_listener": self.per_listener,
                "ids": len(self.ids),
                "id_missing": self.id_missing,
                "id_bad": self.id_bad,
                "id_dup": self.id_dup,
                "bad_content_type": self.bad_content_type,
                "bad_body": self.bad_body,
                "der_bodies": self.der_bodies,
                "der_distinct": len(self.der_hashes),
                "der_dup": self.der_dup,
                "imported": len(self.imported),
                "import_batches": sorted(self.import_batches),
                "revoked": len(self.revoked),
                "revoke_dup": self.revoke_dup,
                "revoke_unknown": self.revoke_unknown,
                "revoke_bad_reason": self.revoke_bad_reason,
                "keys": len(self.keys),
                "key_dup": self.key_dup,
                "value_sizes": sorted(self.value_sizes),
            }


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        srv = self.server
        with srv.stats.lock:
            srv.stats.accepts[srv.index] += 1
        self.request.settimeout(30)
        # headers and body go out as two writes: without this, Nagle holds
        # the body back for the client's delayed ACK (40 ms)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def log_message(self, *args):
        pass

    def answer(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n > 0 else b""

    def route(self):
        srv = self.server
        st = srv.stats
        opt = srv.opt
        if self.path == "/_stats":
            self.read_body()
            self.answer(200, json.dumps(st.json()).encode())
            return
        body = self.read_body()
        rid = self.headers.get("X-Request-Id")
        fault = None
        with st.lock:
            st.requests += 1
            st.per_listener[srv.index] += 1
            if rid is None:
                st.id_missing += 1
            elif not RID.match(rid):
                st.id_bad += 1
            elif rid in st.ids:
                st.id_dup += 1
            else:
                st.ids.add(rid)
            if opt.fault_re.search(self.path):
                st.fault_n += 1
                n = st.fault_n
                if opt.fail_every and n % opt.fail_every == 0:
                    fault = 500
                elif opt.fail4_every and n % opt.fail4_every == 0:
                    fault = 409
                elif opt.hang_every and n % opt.hang_every == 0:
                    fault = "hang"
            st.inflight += 1
            st.max_inflight = max(st.max_inflight, st.inflight)
        code, reply = self.handle_one(body, fault)
        time.sleep(opt.delay_ms / 1000.0)
        with st.lock:
            st.inflight -= 1
            if fault == "hang":
                st.hangs += 1
            else:
                st.by_status[code] = st.by_status.get(code, 0) + 1
        if fault == "hang":
            time.sleep(opt.hang_ms / 1000.0)
            self.close_connection = True
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.answer(code, reply)

    def handle_one(self, body, fault):
        """Checks and records the request; returns (status, body)."""
        st = self.server.stats
        ctype = self.headers.get("Content-Type", "")
        path = self.path
        m_revoke = re.match(r"^/v1/certs/([0-9a-f]{64})/revoke$", path)
        m_get = re.match(r"^/v1/certs/([0-9a-f]{64})$", path)
        if self.command == "POST" and path == "/v3/kv/put":
            code = self.etcd_put(body, ctype)
        elif self.command == "POST" and path == "/v1/certs":
            code = self.cert_import(body, ctype, fault is None)
        elif self.command == "POST" and m_revoke:
            code = self.revoke(m_revoke.group(1), body, ctype,
                               fault is None)
        elif self.command == "GET" and m_get:
            code = 200
        else:
            code = 404
        if isinstance(fault, int):
            code = fault
        return code, json.dumps({"status": code, "path": path}).encode()

    def etcd_put(self, body, ctype):
        st = self.server.stats
        try:
            doc = json.loads(body)
            key = base64.b64decode(doc["key"], validate=True)
            value = base64.b64decode(doc["value"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error):
            with st.lock:
                st.bad_body += 1
            return 400
        with st.lock:
            if ctype != "application/json":
                st.bad_content_type += 1
            if key in st.keys:
                st.key_dup += 1
            st.keys.add(key)
            st.value_sizes.add(len(value))
        return 200

    def cert_import(self, body, ctype, record):
        st = self.server.stats
        if ctype == "application/pkix-cert":
            h = hashlib.sha256(body).hexdigest()
            with st.lock:
                st.der_bodies += 1
                if h in st.der_hashes:
                    st.der_dup += 1
                st.der_hashes.add(h)
            if self.server.opt.store:
                pem = ssl.DER_cert_to_PEM_cert(body)
                with st.lock:
                    self.server.store.write(pem)
            return 201
        if ctype == "application/x-pem-file":
            fps = []
            for m in PEM.finditer(body):
                try:
                    der = base64.b64decode(m.group(1), validate=False)
                except binascii.Error:
                    with st.lock:
                        st.bad_body += 1
                    return 400
                fps.append(hashlib.sha256(der).hexdigest())
            if not fps:
                with st.lock:
                    st.bad_body += 1
                return 400
            if record:
                with st.lock:
                    st.imported.update(fps)
                    st.import_batches.append(len(fps))
            return 201
        with st.lock:
            st.bad_content_type += 1
        return 415

    def revoke(self, fp, body, ctype, record):
        st = self.server.stats
        try:
            reason = json.loads(body)["reason"]
        except (ValueError, KeyError, TypeError):
            reason = None
        with st.lock:
            if ctype != "application/json":
                st.bad_content_type += 1
            if reason != "superseded":
                st.revoke_bad_reason += 1
            if fp not in st.imported:
                st.revoke_unknown += 1
                return 404
            if fp in st.revoked:
                st.revoke_dup += 1
                return 409
            if record:
                st.revoked.add(fp)
        return 200

    do_GET = do_POST = route


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, index, ctx, stats, opt, store):
        super().__init__(("127.0.0.1", 0), Handler)
        self.index = index
        self.stats = stats
        self.opt = opt
        self.store = store
        if ctx is not None:
            # the handshake runs in the connection's thread (setup)
            self.socket = ctx.wrap_socket(self.socket, server_side=True,
                                          do_handshake_on_connect=False)

    def handle_error(self, request, client_address):
        pass  # clients that time out and hang up are part of the tests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kinds")
    ap.add_argument("--tls", metavar="DIR")
    ap.add_argument("--delay-ms", type=float, default=0)
    ap.add_argument("--fail-every", type=int, default=0)
    ap.add_argument("--fail4-every", type=int, default=0)
    ap.add_argument("--hang-every", type=int, default=0)
    ap.add_argument("--hang-ms", type=float, default=1000)
    ap.add_argument("--fault-path", default="")
    ap.add_argument("--store", metavar="FILE",
                    help="append each DER body as PEM")
    ap.add_argument("--stats", metavar="FILE",
                    help="write the counters here on SIGTERM")
    ap.add_argument("--lifetime", type=float, default=300)
    opt = ap.parse_args()
    opt.fault_re = re.compile(opt.fault_path)
    kinds = opt.kinds.split(",")
    stats = Stats(len(kinds))
    store = open(opt.store, "w") if opt.store else None
    servers = []
    for i, kind in enumerate(kinds):
        ctx = None
        if kind == "https":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(opt.tls, "server.pem"),
                                os.path.join(opt.tls, "server.key"))
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(os.path.join(opt.tls, "ca.pem"))
        elif kind != "http":
            sys.exit("kinds are http and https")
        servers.append(Server(i, ctx, stats, opt, store))
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()

    def stop(*_):
        if store:
            store.flush()
        if opt.stats:
            with open(opt.stats, "w") as f:
                json.dump(stats.json(), f)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ports " + " ".join(str(s.server_address[1]) for s in servers),
          flush=True)
    parent = os.getppid()
    deadline = time.monotonic() + opt.lifetime
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.2)
        if store:
            with stats.lock:
                store.flush()
    stop()


if __name__ == "__main__":
    main()

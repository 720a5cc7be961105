#!/usr/bin/env python3
"""test_api.py - the REST API of docs/api.md against real certstored
processes (python3 stdlib only; cluster.py starts and stops them).

    CERTSTORED=build/certstored GENCERTS=build/tests/tools/gencerts \\
        python3 tests/integration/test_api.py [SCENARIO ...]

Scenarios are functions; each group of them shares one 3-node cluster,
started once for the group and stopped (by PID) when the group is done,
also when a scenario fails:

  api     default settings: every endpoint on the leader and through a
          follower, the role x endpoint matrix, malformed input, client
          certificates on the TLS listener, pipelining, a client that
          leaves while its write is pending, membership and transfer
  limits  max-body-bytes 65536, header-timeout-ms 1000, max-connections 8:
          oversized bodies, slow clients, the connection cap

A scenario records every failed check and goes on where it can, so one
run reports every broken cell; it fails when any check failed. The exit
status is 0 only if every selected scenario passed. CS_KEEP=1 keeps the
clusters' directories (logs) for a post-mortem.
"""

import base64
import calendar
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, fingerprint, gencerts  # noqa: E402

HEX32 = re.compile(r"[0-9a-f]{32}")
ZERO64 = "0" * 64


class Abort(Exception):
    """A scenario cannot go on (its setup failed)."""


class Check:
    """Collects failed checks of one scenario instead of stopping at the
    first one."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.checks = 0

    def __call__(self, cond, what):
        self.checks += 1
        if not cond:
            self.failures.append(what)
            print("    FAIL: %s" % what, flush=True)
        return bool(cond)

    def need(self, cond, what):
        if not self(cond, what):
            raise Abort(what)


class R:
    """One answer: status, headers (lower-case names), body (parsed JSON
    for JSON types, else text)."""

    def __init__(self, st, h, b):
        self.st, self.h, self.b = st, h, b

    def __repr__(self):
        if isinstance(self.b, (str, bytes)):
            b = repr(self.b[:300])
        else:
            b = json.dumps(self.b)
        return "%s %s" % (self.st, b[:300])


def new_rid():
    return os.urandom(16).hex()


def is_problem(r, status=None, http_layer=False):
    """An RFC 7807 answer of the documented shape: type
    urn:certstore:problem:<slug>, also for the HTTP layer's own refusals
    (413 body too large, 503 too many connections, 408, framing errors:
    check_http_layer_type). http_layer is kept for the callers."""
    b = r.b
    typ = str(b.get("type", "")) if isinstance(b, dict) else ""
    return ((status is None or r.st == status) and
            r.h.get("content-type", "").startswith(
                "application/problem+json") and
            isinstance(b, dict) and b.get("status") == r.st and
            typ.startswith("urn:certstore:problem:") and
            isinstance(b.get("title"), str) and
            isinstance(b.get("detail"), str))


def check_http_layer_type(t, r, what):
    """docs/api.md: every error is urn:certstore:problem:<slug>."""
    typ = r.b.get("type") if isinstance(r.b, dict) else None
    t(str(typ).startswith("urn:certstore:problem:"),
      "%s: problem type %r; docs/api.md says every error is "
      "urn:certstore:problem:<slug>" % (what, typ))


def unix(t):
    """RFC 3339 UTC -> seconds; None when t is not such a time."""
    try:
        return calendar.timegm(time.strptime(str(t), "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None


def asn1_time(t):
    return time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t))


def pct(s):
    return urllib.parse.quote(s, safe="")


# ---- certificates made with openssl: chosen validity, issuer, SANs ----


class Mint:
    """A CA that signs leaves with `openssl ca` (any start and end date,
    any SANs). With ca_cert/ca_key it signs with an existing CA (the
    cluster's client CA, for an expired client certificate)."""

    def __init__(self, d, name, ca_cert=None, ca_key=None):
        self.d = d
        os.makedirs(os.path.join(d, "new"), exist_ok=True)
        open(os.path.join(d, "index.txt"), "w").close()
        open(os.path.join(d, "serial"), "w").write(
            os.urandom(8).hex() + "\n")
        self.cfg = os.path.join(d, "ca.cnf")
        open(self.cfg, "w").write(
            "[ca]\ndefault_ca = d\n[d]\ndir = %s\ndatabase = $dir/index.txt\n"
            "new_certs_dir = $dir/new\nserial = $dir/serial\n"
            "default_md = sha256\npolicy = p\nunique_subject = no\n"
            "[p]\ncommonName = supplied\n" % d)
        if ca_cert is None:
            ca_cert = os.path.join(d, "ca.pem")
            ca_key = os.path.join(d, "ca.key")
            run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key,
                 "-out", ca_cert, "-days", "3650", "-subj",
                 "/O=certstore tests/CN=" + name, "-addext",
                 "basicConstraints=critical,CA:TRUE", "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign"])
        self.ca_cert, self.ca_key = ca_cert, ca_key
        self.issuer = None
        self.n = 0

    def key(self):
        self.n += 1
        k = os.path.join(self.d, "k%d.key" % self.n)
        run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-out", k])
        return k

    def leaf(self, cn, start, end, sans=("DNS:leaf.test",), key=None,
             eku="serverAuth,clientAuth"):
        """(pem text, key path) for cn, valid from start to end (unix)."""
        self.n += 1
        key = key or self.key()
        base = os.path.join(self.d, "l%d" % self.n)
        run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=" + cn,
             "-out", base + ".csr"])
        ext = ["basicConstraints=CA:FALSE", "extendedKeyUsage=" + eku]
        if sans:
            ext.append("subjectAltName=" + ",".join(sans))
        open(base + ".ext", "w").write("\n".join(ext) + "\n")
        run(["openssl", "ca", "-batch", "-config", self.cfg, "-cert",
             self.ca_cert, "-keyfile", self.ca_key, "-in", base + ".csr",
             "-out", base + ".pem", "-notext", "-startdate",
             asn1_time(start), "-enddate", asn1_time(end), "-extfile",
             base + ".ext"])
        return open(base + ".pem").read(), key

    def path_of_last(self):
        return os.path.join(self.d, "l%d.pem" % self.n)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr))
    return r.stdout


def pem_to_der(pem):
    body = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
    return base64.b64decode(body)


# ---- the API over keep-alive connections ----


class Api:
    """Calls on one cluster, one keep-alive connection per (node,
    identity); identities are names of client certificates."""

    def __init__(self, c):
        self.c = c
        self.conns = {}
        self.ids = {"admin": (c.env["ADMIN_CERT"], c.env["ADMIN_KEY"])}

    def add_identity(self, name, cert, key):
        self.ids[name] = (cert, key)

    def close(self):
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()

    def call(self, node, method, path, body=None, ctype=None, headers=None,
             who="admin", timeout=30):
        cert, key = self.ids[who]
        k = (node, who)
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            ctype = ctype or "application/json"
        if ctype:
            h["Content-Type"] = ctype
        for attempt in (0, 1):
            conn = self.conns.get(k)
            fresh = conn is None
            if fresh:
                conn = self.c.conn(node, timeout=timeout, cert=cert, key=key)
                self.conns[k] = conn
            try:
                conn.timeout = timeout
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                conn.request(method, path, body=body, headers=h)
                resp = conn.getresponse()
                data = resp.read()
                hd = {n.lower(): v for n, v in resp.getheaders()}
                if resp.will_close:
                    conn.close()
                    self.conns.pop(k, None)
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as e:
                # a kept-alive connection the server closed since (after
                # an error answer): the request never got there
                conn.close()
                self.conns.pop(k, None)
                if fresh or attempt:
                    raise
                continue
            except Exception:
                conn.close()
                self.conns.pop(k, None)
                raise
            ct = hd.get("content-type", "")
            if "json" in ct and data:
                try:
                    return R(resp.status, hd, json.loads(data))
                except ValueError:
                    return R(resp.status, hd, data.decode(errors="replace"))
            if ct.startswith("application/octet-stream"):
                return R(resp.status, hd, data)
            return R(resp.status, hd, data.decode(errors="replace"))

    def get(self, node, path, **kw):
        return self.call(node, "GET", path, **kw)

    def post(self, node, path, body=None, **kw):
        return self.call(node, "POST", path, body if body is not None
                         else {}, **kw)

    def import_pem(self, node, pem, query="", **kw):
        return self.call(node, "POST", "/v1/certs" + query, pem,
                         ctype="application/x-pem-file", **kw)

    def state_hash(self, node):
        r = self.get(node, "/v1/cluster/state-hash")
        if r.st != 200:
            raise Abort("state-hash on node %d: %r" % (node, r))
        return r.b["hash"], r.b["certificates"]

    def hashes(self):
        """{node: (hash, certificates)} once every node caught up and
        nothing is in flight (a delta CRL follows a revocation)."""
        self.c.settle()
        return {i: self.state_hash(i) for i in range(1, self.c.n + 1)}

    def search_all(self, node, query, limit=1000):
        """Every item of a search, following the cursor."""
        items, cursor, pages = [], None, 0
        while True:
            q = query + ("&" if query else "") + "limit=%d" % limit
            if cursor:
                q += "&cursor=" + pct(cursor)
            r = self.get(node, "/v1/certs?" + q)
            if r.st != 200:
                raise Abort("search %s: %r" % (q, r))
            items += r.b["items"]
            pages += 1
            cursor = r.b["next_cursor"]
            if cursor is None or pages > 100:
                return items


def roles_of(c):
    """(leader, [followers])."""
    l = c.leader()
    return l, [i for i in range(1, c.n + 1) if i != l]


def check_common(t, r, node, what, rid=None):
    """The headers every answer carries."""
    t(re.fullmatch(r"\d+", r.h.get("x-certstore-index", "")),
      "%s: X-Certstore-Index %r" % (what, r.h.get("x-certstore-index")))
    t(r.h.get("x-certstore-node") == str(node),
      "%s: X-Certstore-Node %r, expected %s" % (
          what, r.h.get("x-certstore-node"), node))
    t(HEX32.fullmatch(r.h.get("x-request-id", "")),
      "%s: X-Request-Id %r" % (what, r.h.get("x-request-id")))
    if rid is not None:
        t(r.h.get("x-request-id") == rid,
          "%s: X-Request-Id %r, sent %s" % (what, r.h.get("x-request-id"),
                                            rid))


CERT_KEYS = {"fingerprint", "serial", "issuer", "subject", "sans",
             "not_before", "not_after", "key_id", "key_type", "key_bits",
             "ca", "status", "revocation", "source", "profile", "owner",
             "tags", "created_index", "updated_index"}


def check_cert_shape(t, o, what):
    if not t(isinstance(o, dict), "%s: not an object: %r" % (what, o)):
        return
    missing = CERT_KEYS - set(o)
    t(not missing, "%s: certificate lacks %s" % (what, sorted(missing)))
    t(re.fullmatch(r"[0-9a-f]{64}", str(o.get("fingerprint"))),
      "%s: fingerprint %r" % (what, o.get("fingerprint")))
    t(re.fullmatch(r"[0-9a-f]{64}", str(o.get("key_id"))),
      "%s: key_id %r" % (what, o.get("key_id")))
    t(isinstance(o.get("sans"), dict) and
      set(o["sans"]) == {"dns", "ip", "uri", "email"},
      "%s: sans %r" % (what, o.get("sans")))
    t(o.get("status") in ("valid", "revoked", "expired"),
      "%s: status %r" % (what, o.get("status")))
    for k in ("not_before", "not_after"):
        t(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(o.get(k))),
          "%s: %s %r" % (what, k, o.get(k)))
    t(isinstance(o.get("tags"), list), "%s: tags %r" % (what, o.get("tags")))
    t(isinstance(o.get("created_index"), int) and
      isinstance(o.get("updated_index"), int),
      "%s: indexes %r %r" % (what, o.get("created_index"),
                             o.get("updated_index")))


def check_list_shape(t, r, what):
    ok = t(r.st == 200 and isinstance(r.b, dict) and
           isinstance(r.b.get("items"), list) and "next_cursor" in r.b and
           (r.b["next_cursor"] is None or
            isinstance(r.b["next_cursor"], str)),
           "%s: not a list answer: %r" % (what, r))
    return ok


def plain_call(conn, method, path, body=None, headers=None):
    """One call on an http.client connection of another listener."""
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    hd = {n.lower(): v for n, v in resp.getheaders()}
    if "json" in hd.get("content-type", "") and data:
        return R(resp.status, hd, json.loads(data))
    return R(resp.status, hd, data.decode(errors="replace"))


def listener_port(c, i, which):
    return int(c.env["NODE%d_%s" % (i, which)].rsplit(":", 1)[1])


def public_ctx(c):
    return ssl.create_default_context(cafile=c.env["CLUSTER_CACERT"])


# ======================================================================
# group "api": every endpoint, on the leader and through a follower
# ======================================================================


def s_health_listeners(c, api, t, ctx):
    """/healthz and /readyz answer on the API, public and plain listeners
    of every node, with the documented bodies and headers; the public and
    plain listeners serve nothing else; HEAD answers without a body."""
    leader, _ = roles_of(c)
    c.wait_caught_up()
    for i in range(1, c.n + 1):
        conns = {
            "api": None,
            "public": http.client.HTTPSConnection(
                "127.0.0.1", listener_port(c, i, "PUBLIC"), timeout=10,
                context=public_ctx(c)),
            "http": http.client.HTTPConnection(
                "127.0.0.1", listener_port(c, i, "HTTP"), timeout=10),
        }
        for lname, conn in conns.items():
            def call(method, path, conn=conn):
                if conn is None:
                    return api.call(i, method, path)
                return plain_call(conn, method, path)
            where = "node %d %s listener" % (i, lname)
            r = call("GET", "/healthz")
            t(r.st == 200 and r.b == {"status": "ok", "node_id": i},
              "%s: GET /healthz: %r" % (where, r))
            check_common(t, r, i, where + " /healthz")
            r = call("GET", "/readyz")
            t(r.st == 200 and isinstance(r.b, dict) and
              r.b.get("status") == "ready" and
              r.b.get("leader_id") == leader and
              isinstance(r.b.get("applied_index"), int),
              "%s: GET /readyz: %r" % (where, r))
            check_common(t, r, i, where + " /readyz")
            g = call("GET", "/healthz")
            r = call("HEAD", "/healthz")
            t(r.st == 200 and r.b == "" and
              r.h.get("content-length") == g.h.get("content-length"),
              "%s: HEAD /healthz: %r, Content-Length %r (GET: %r)" % (
                  where, r, r.h.get("content-length"),
                  g.h.get("content-length")))
            if lname == "api":
                continue
            for path in ("/metrics", "/v1/cluster", "/v1/certs",
                         "/v1/snapshot", "/v1/roles"):
                r = call("GET", path)
                t(r.st == 404 and is_problem(r, 404),
                  "%s: GET %s must not be served there: %r" % (
                      where, path, r))
            conn.close()


def parse_metrics(text):
    """({family: type}, [(name, {labels}, value)], bad lines)."""
    types, samples, bad = {}, [], []
    # label values may hold any character but an unescaped '"' (route
    # patterns such as /v1/issuers/{} among them)
    line_re = re.compile(
        r'([a-zA-Z_:][a-zA-Z0-9_:]*)'
        r'(\{((?:[a-zA-Z_]+="(?:[^"\\]|\\.)*",?)*)\})? '
        r'(-?[0-9.eE+-]+|\+Inf|NaN)$')
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if line.startswith("#"):
            continue
        m = line_re.match(line)
        if not m:
            bad.append(line)
            continue
        labels = dict(re.findall(r'([a-zA-Z_]+)="([^"]*)"', m.group(3) or ""))
        samples.append((m.group(1), labels, float(m.group(4))))
    return types, samples, bad


METRIC_FAMILIES = {
    "certstore_raft_state": "gauge", "certstore_raft_ready": "gauge",
    "certstore_raft_term": "gauge", "certstore_raft_leader_id": "gauge",
    "certstore_raft_applied_index": "gauge",
    "certstore_raft_commit_index": "gauge",
    "certstore_fsm_snapshots_total": "counter",
    "certstore_fsm_restores_total": "counter",
    "certstore_fsm_snapshot_take_max_seconds": "gauge",
    "certstore_certificates": "gauge",
    "certstore_certificates_expiring": "gauge",
    "certstore_keys": "gauge", "certstore_audit_entries": "gauge",
    "certstore_http_connections_open": "gauge",
    "certstore_http_connections_rejected_total": "counter",
    "certstore_http_requests_total": "counter",
    "certstore_http_request_duration_seconds": "histogram",
}


def s_cluster_and_metrics(c, api, t, ctx):
    """GET /v1/cluster (every field, every member) on each node and with
    ?consistency=leader through a follower; the state hash agrees on all
    nodes; /metrics is valid Prometheus text with every family and values
    that agree with the cluster view and the store."""
    leader, fol = roles_of(c)
    c.wait_caught_up()
    keys = {"node_id", "site", "leader_id", "term", "state", "ready",
            "applied_index", "commit_index", "members", "fsm"}
    mkeys = {"id", "raft_address", "role", "leader", "reachable", "site",
             "api_url", "http_url"}
    for i in range(1, c.n + 1):
        r = api.get(i, "/v1/cluster")
        check_common(t, r, i, "GET /v1/cluster on %d" % i)
        b = r.b
        if not t(r.st == 200 and isinstance(b, dict) and keys <= set(b),
                 "GET /v1/cluster on %d: %r" % (i, r)):
            continue
        t(b["node_id"] == i and b["leader_id"] == leader and
          b["state"] == ("leader" if i == leader else "follower") and
          b["ready"] == (i == leader) and
          b["site"] == ("site-1" if i % 2 else "site-2") and
          b["applied_index"] <= b["commit_index"],
          "cluster view of %d: %r" % (i, b))
        t(isinstance(b["term"], int) and b["term"] >= 1,
          "term %r" % b["term"])
        t(set(b["fsm"]) >= {"snapshots", "restores",
                             "snapshot_take_max_us", "certificates"},
          "fsm of %d: %r" % (i, b["fsm"]))
        ms = {m.get("id"): m for m in b["members"]}
        t(set(ms) == {1, 2, 3}, "members of %d: %r" % (i, b["members"]))
        for j, m in ms.items():
            t(mkeys <= set(m), "member %d seen by %d lacks %s" % (
                j, i, sorted(mkeys - set(m))))
            t(m.get("role") == "voter" and m.get("leader") == (j == leader)
              and m.get("raft_address") == c.env.get("NODE%d_RAFT" % j)
              and m.get("api_url") == c.env.get("NODE%d_API" % j)
              and m.get("http_url") == c.env.get("NODE%d_HTTP" % j)
              and m.get("site") == ("site-1" if j % 2 else "site-2"),
              "member %d seen by %d: %r" % (j, i, m))
    r = api.get(fol[0], "/v1/cluster?consistency=leader")
    t(r.st == 200 and r.b.get("node_id") == leader,
      "consistency=leader through follower %d: %r" % (fol[0], r))
    check_common(t, r, leader, "consistency=leader via follower")
    r = api.get(fol[0], "/v1/cluster?consistency=eventual")
    t(is_problem(r, 400), "consistency=eventual: %r" % r)
    hashes = api.hashes()
    t(len(set(hashes.values())) == 1, "state hashes differ: %r" % hashes)
    r = api.get(leader, "/v1/cluster/state-hash")
    t(r.st == 200 and set(r.b) == {"applied_index", "hash", "certificates"}
      and re.fullmatch(r"[0-9a-f]{64}", r.b["hash"]),
      "state-hash shape: %r" % r)
    for i in (leader, fol[0]):
        api.get(i, "/metrics")  # one scrape counted before the next
        r = api.get(i, "/metrics")
        t(r.st == 200 and r.h.get("content-type", "").startswith(
            "text/plain; version=0.0.4"), "/metrics on %d: %r %r" % (
                i, r.st, r.h.get("content-type")))
        check_common(t, r, i, "/metrics on %d" % i)
        types, samples, bad = parse_metrics(r.b)
        t(not bad, "/metrics on %d: lines not in the text format: %r" % (
            i, bad[:5]))
        for fam, typ in METRIC_FAMILIES.items():
            t(types.get(fam) == typ, "/metrics on %d: family %s: TYPE %r" % (
                i, fam, types.get(fam)))
        for name, _, _ in samples:
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            t(name in types or base in types,
              "/metrics on %d: sample %s has no TYPE" % (i, name))

        def val(name, **labels):
            for n, l, v in samples:
                if n == name and all(l.get(k) == x for k, x in
                                     labels.items()):
                    return v
            return None
        t(val("certstore_raft_state", state="leader") == (i == leader) and
          val("certstore_raft_state", state="follower") == (i != leader),
          "/metrics on %d: raft_state" % i)
        t(val("certstore_raft_leader_id") == leader,
          "/metrics on %d: leader_id %r" % (i, val(
              "certstore_raft_leader_id")))
        t(val("certstore_raft_ready") == (i == leader),
          "/metrics on %d: raft_ready" % i)
        total = sum(val("certstore_certificates", status=s) or 0
                    for s in ("valid", "revoked", "expired"))
        t(total == hashes[i][1], "/metrics on %d: certificates %r, store "
          "has %r" % (i, total, hashes[i][1]))
        for w in ("7d", "30d", "90d"):
            t(val("certstore_certificates_expiring", within=w) is not None,
              "/metrics on %d: expiring within %s" % (i, w))
        for lst in ("api", "public", "http"):
            t(val("certstore_http_connections_open", listener=lst)
              is not None, "/metrics on %d: connections of %s" % (i, lst))
        n = val("certstore_http_requests_total", route="/metrics",
                method="GET", status="200")
        t(n is not None and n >= 1, "/metrics on %d: requests_total of "
          "/metrics: %r" % (i, n))
        # a histogram series: cumulative buckets, +Inf == count
        bk = [(float(l["le"]) if l["le"] != "+Inf" else float("inf"), v)
              for nm, l, v in samples
              if nm == "certstore_http_request_duration_seconds_bucket" and
              l.get("route") == "/metrics" and l.get("status") == "200"]
        cnt = val("certstore_http_request_duration_seconds_count",
                  route="/metrics", status="200")
        bk.sort()
        t(bk and all(bk[k][1] <= bk[k + 1][1] for k in range(len(bk) - 1))
          and bk[-1][0] == float("inf") and bk[-1][1] == cnt,
          "/metrics on %d: histogram of /metrics: %r count %r" % (
              i, bk, cnt))
        audit = api.get(i, "/v1/audit?limit=1000")
        if audit.st == 200 and audit.b["next_cursor"] is None:
            t(val("certstore_audit_entries") == len(audit.b["items"]),
              "/metrics on %d: audit_entries %r, audit lists %d" % (
                  i, val("certstore_audit_entries"), len(audit.b["items"])))


def s_import_and_read(c, api, t, ctx):
    """POST /v1/certs with each body type on the leader and through a
    follower (201 new / 200 existing, the answer's shape, forwarded writes
    answered by the leader), read-your-write with ?consistency=leader on
    the follower, retries under the same X-Request-Id, GET with ?pem=1,
    404/400/415/405."""
    leader, fol = roles_of(c)
    f, f2 = fol
    pems = gencerts(7, "imp")
    fps = [fingerprint(p) for p in pems]
    rid = new_rid()
    r = api.import_pem(leader, pems[0] + pems[1],
                       "?owner=imp-owner&tags=t1,t2",
                       headers={"X-Request-Id": rid})
    check_common(t, r, leader, "PEM import on the leader", rid)
    ok = t(r.st == 201 and r.b.get("imported") == 2 and
           r.b.get("existing") == 0 and isinstance(r.b.get("index"), int) and
           len(r.b.get("certificates", [])) == 2,
           "PEM import on the leader: %r" % r)
    if ok:
        t(int(r.h["x-certstore-index"]) >= r.b["index"],
          "X-Certstore-Index %s below the write's index %s" % (
              r.h["x-certstore-index"], r.b["index"]))
        for o, fp in zip(r.b["certificates"], fps[:2]):
            check_cert_shape(t, o, "imported certificate")
            t(o["fingerprint"] == fp and o["result"] == "imported" and
              o["owner"] == "imp-owner" and o["tags"] == ["t1", "t2"] and
              o["source"] == "imported" and o["status"] == "valid" and
              o["profile"] is None and o["created_index"] == r.b["index"],
              "imported certificate: %r" % o)
    r = api.import_pem(f, pems[0])
    check_common(t, r, leader, "PEM import through follower %d" % f)
    t(r.st == 200 and r.b.get("imported") == 0 and
      r.b.get("existing") == 1 and
      r.b["certificates"][0]["result"] == "existing",
      "existing certificate through a follower: %r" % r)
    r = api.call(f, "POST", "/v1/certs?owner=der-owner", pem_to_der(pems[2]),
                 ctype="application/pkix-cert")
    check_common(t, r, leader, "DER import through follower %d" % f)
    t(r.st == 201 and r.b["certificates"][0]["fingerprint"] == fps[2] and
      r.b["certificates"][0]["owner"] == "der-owner",
      "DER import through a follower: %r" % r)
    r = api.post(f2, "/v1/certs", {"pem": pems[3], "owner": "json-owner",
                                   "tags": ["j1", "j2"]})
    check_common(t, r, leader, "JSON import through follower %d" % f2)
    t(r.st == 201 and r.b["certificates"][0]["owner"] == "json-owner" and
      r.b["certificates"][0]["tags"] == ["j1", "j2"],
      "JSON import through a follower: %r" % r)
    # read-your-write on the follower that took the write
    r = api.get(f2, "/v1/certs/%s?consistency=leader" % fps[3])
    t(r.st == 200 and r.b.get("owner") == "json-owner",
      "consistency=leader read of a write through follower %d: %r" % (
          f2, r))
    r = api.get(f, "/v1/certs?consistency=leader&owner=der-owner")
    t(r.st == 200 and [o["fingerprint"] for o in r.b["items"]] == [fps[2]],
      "consistency=leader search after a follower's write: %r" % r)
    # mixed bundle: one new, one existing
    r = api.import_pem(f, pems[3] + pems[4])
    t(r.st == 201 and r.b.get("imported") == 1 and
      r.b.get("existing") == 1 and
      sorted(o["result"] for o in r.b["certificates"]) ==
      ["existing", "imported"], "mixed bundle: %r" % r)
    # a retry under the same request id gets the first outcome, on any
    # node; without one, the same certificate is "existing"
    rid = new_rid()
    r1 = api.import_pem(f, pems[5], headers={"X-Request-Id": rid})
    r2 = api.import_pem(f2, pems[5], headers={"X-Request-Id": rid})
    r3 = api.import_pem(leader, pems[5], headers={"X-Request-Id": rid})
    t(r1.st == 201 and r2.st == 201 and r3.st == 201 and
      r1.b["index"] == r2.b["index"] == r3.b["index"] and
      r2.b["imported"] == 1,
      "retries under one request id: %r / %r / %r" % (r1, r2, r3))
    check_common(t, r2, leader, "retry through follower", rid)
    r = api.import_pem(leader, pems[5])
    t(r.st == 200 and r.b["existing"] == 1, "the same again without an "
      "id: %r" % r)
    c.wait_caught_up()
    for i in (leader, f, f2):
        r = api.get(i, "/v1/certs/" + fps[4])
        check_common(t, r, i, "GET /v1/certs/{fp} on %d" % i)
        t(r.st == 200 and "pem" not in r.b, "GET on %d: %r" % (i, r))
        check_cert_shape(t, r.b, "GET /v1/certs/{fp}")
        r = api.get(i, "/v1/certs/%s?pem=1" % fps[4])
        t(r.st == 200 and pem_to_der(r.b.get("pem", "")) ==
          pem_to_der(pems[4]), "GET ?pem=1 on %d: %r" % (i, r))
        r = api.get(i, "/v1/certs/" + ZERO64)
        t(is_problem(r, 404), "unknown fingerprint on %d: %r" % (i, r))
        check_common(t, r, i, "404 on %d" % i)
        r = api.get(i, "/v1/certs/xyz")
        t(is_problem(r, 400), "bad fingerprint on %d: %r" % (i, r))
    for i in (leader, f):
        r = api.call(i, "POST", "/v1/certs", pems[6], ctype="text/html")
        t(is_problem(r, 415), "text/html import on %d: %r" % (i, r))
        r = api.call(i, "DELETE", "/v1/certs")
        t(is_problem(r, 405), "DELETE /v1/certs on %d: %r" % (i, r))
        r = api.get(i, "/v1/nothing-here")
        t(is_problem(r, 404), "unknown path on %d: %r" % (i, r))
    r = api.get(leader, "/v1/certs/" + fps[6])
    t(r.st == 404, "the 415 body was not imported: %r" % r)


def mint(ctx, name):
    """A Mint per name, made once per group."""
    ms = ctx.setdefault("mints", {})
    if name not in ms:
        ms[name] = Mint(os.path.join(ctx["dir"], "mint-" + name.replace(
            " ", "_")), name)
    return ms[name]


def fps_of(items):
    return [o["fingerprint"] for o in items]


def s_search_and_pagination(c, api, t, ctx):
    """GET /v1/certs with every filter (alone and combined, exact sets),
    on the leader and a follower; bad filter values get 400; limit and
    cursor over several pages give every match exactly once, with the
    last page's next_cursor null."""
    leader, fol = roles_of(c)
    m = mint(ctx, "API Search Issuer")
    now = int(time.time())
    d = 86400
    specs = {
        "a": ("search-a.example", now - d, now + 20 * d,
              ("DNS:Search-A.example", "IP:192.0.2.10",
               "URI:spiffe://example.org/a", "email:a@example.org"),
              "sa-owner", ["blue", "red"]),
        "b": ("search-b.example", now - d, now + 60 * d,
              ("DNS:search-b.example",), "sa-owner", ["blue"]),
        "c": ("search-c.example", now - d, now + 200 * d,
              ("DNS:search-c.example",), "sb-owner", ["green"]),
        "d": ("search-d.example", now - 30 * d, now - d,
              ("DNS:search-d.example",), "sb-owner", []),
        "e": ("search-e.example", now - d, now + 100 * d,
              ("DNS:search-e.example",), "sc-owner", ["green"]),
    }
    cert = {}
    for k, (cn, nb, na, sans, owner, tags) in specs.items():
        pem, _ = m.leaf(cn, nb, na, sans)
        r = api.post(leader, "/v1/certs", {"pem": pem, "owner": owner,
                                           "tags": tags})
        t.need(r.st == 201, "import %s: %r" % (k, r))
        cert[k] = r.b["certificates"][0]
    issuer = cert["a"]["issuer"]
    t(issuer == "CN=API Search Issuer,O=certstore tests",
      "issuer in RFC 4514 form: %r" % issuer)
    t(cert["a"]["sans"] == {"dns": ["Search-A.example"],
                            "ip": ["192.0.2.10"],
                            "uri": ["spiffe://example.org/a"],
                            "email": ["a@example.org"]},
      "sans of a: %r" % cert["a"]["sans"])
    t(cert["d"]["status"] == "expired", "d is expired: %r" % cert["d"])
    r = api.post(leader, "/v1/certs/%s/revoke" % cert["e"]["fingerprint"],
                 {"reason": "superseded"})
    t.need(r.st == 200, "revoke e: %r" % r)
    # pages: 250 certificates under one owner and tag
    page = gencerts(250, "page")
    r = api.import_pem(leader, "".join(page), "?owner=page-owner&tags=pg")
    t.need(r.st == 201 and r.b["imported"] == 250, "import 250: %r" % r)
    page_fps = set(fingerprint(p) for p in page)
    c.wait_caught_up()
    iss = "issuer=" + pct(issuer)
    fp = {k: v["fingerprint"] for k, v in cert.items()}
    cases = [
        ("subject=" + pct("CN=search-a.example"), "a"),
        ("san=SEARCH-A.EXAMPLE", "a"),
        ("san=192.0.2.10", "a"),
        ("san=" + pct("spiffe://example.org/a"), "a"),
        ("san=" + pct("A@Example.org"), "a"),
        (iss, "abcde"),
        ("owner=sa-owner", "ab"),
        ("tag=blue", "ab"),
        ("tag=green", "ce"),
        ("tag=blue&owner=sa-owner&san=search-b.example", "b"),
        ("tag=red&owner=sb-owner", ""),
        ("status=valid&" + iss, "abc"),
        ("status=expired&" + iss, "d"),
        ("status=revoked&" + iss, "e"),
        ("status=revoked&tag=green", "e"),
        ("profile=web&" + iss, ""),
        ("source=imported&" + iss, "abcde"),
        ("source=issued&" + iss, ""),
        ("key_id=" + cert["a"]["key_id"], "a"),
        ("serial=" + cert["a"]["serial"], "a"),
        ("serial=" + cert["a"]["serial"].upper() + "&" + iss, "a"),
        ("expires_before=" + pct(iso(now + 30 * d)) + "&" + iss, "ad"),
        ("expires_after=" + pct(iso(now + 30 * d)) + "&" + iss, "bce"),
        ("expires_after=" + pct(iso(now + 30 * d)) + "&expires_before=" +
         pct(iso(now + 90 * d)) + "&" + iss, "b"),
        ("expires_before=" + pct(iso(now)) + "&owner=sb-owner", "d"),
    ]
    for node in (fol[0], leader):
        for q, want in cases:
            r = api.get(node, "/v1/certs?limit=1000&" + q)
            if not check_list_shape(t, r, "search %s" % q):
                continue
            got = sorted(fps_of(r.b["items"]))
            t(got == sorted(fp[k] for k in want),
              "node %d search %s: got %s, expected %s" % (
                  node, q, [k for k in fp if fp[k] in got] or got, want))
            t(r.b["next_cursor"] is None, "search %s: cursor" % q)
            for o in r.b["items"]:
                check_cert_shape(t, o, "search item")
        check_common(t, r, node, "search on %d" % node)
        for q in ("status=bogus", "source=bogus", "key_id=zz",
                  "serial=xyz", "expires_before=tomorrow",
                  "expires_after=2026-13-01T00:00:00Z", "limit=0",
                  "limit=1001", "limit=ten", "cursor=abc", "cursor=-1",
                  "owner=%zz", "subject=%E"):
            r = api.get(node, "/v1/certs?" + q)
            t(is_problem(r, 400), "node %d search ?%s must be 400: %r" % (
                node, q, r))
        # pages: 100 + 100 + 50, every one exactly once
        for q, want in (("owner=page-owner", page_fps),
                        ("tag=pg", page_fps)):
            seen, cursor, sizes = [], None, []
            for _ in range(10):
                r = api.get(node, "/v1/certs?limit=100&%s%s" % (
                    q, "&cursor=" + pct(cursor) if cursor else ""))
                if not check_list_shape(t, r, "page of %s" % q):
                    break
                seen += fps_of(r.b["items"])
                sizes.append(len(r.b["items"]))
                cursor = r.b["next_cursor"]
                if cursor is None:
                    break
            t(sizes == [100, 100, 50] and len(seen) == len(set(seen)) and
              set(seen) == want, "node %d pages of %s: sizes %r, %d "
              "distinct of %d" % (node, q, sizes, len(set(seen)), len(seen)))
        r = api.get(node, "/v1/certs?owner=page-owner&limit=250")
        t(r.st == 200 and len(r.b["items"]) == 250 and
          r.b["next_cursor"] is None,
          "limit == matches: next_cursor must be null: %r" % (
              r.b.get("next_cursor") if r.st == 200 else r))
        r = api.get(node, "/v1/certs?owner=page-owner&limit=249")
        r2 = api.get(node, "/v1/certs?owner=page-owner&limit=249&cursor=" +
                     pct(r.b["next_cursor"] or "0"))
        t(len(r.b["items"]) == 249 and r.b["next_cursor"] and
          len(r2.b["items"]) == 1 and r2.b["next_cursor"] is None and
          set(fps_of(r.b["items"] + r2.b["items"])) == page_fps,
          "limit 249 then the last one: %r / %r" % (
              r.b.get("next_cursor"), r2))
        # everything, unfiltered and through a time window, page by page
        allc = api.search_all(node, "", limit=100)
        t(len(allc) == len(set(fps_of(allc))) == api.state_hash(node)[1],
          "node %d: unfiltered pages give %d items (%d distinct), the "
          "store has %d" % (node, len(allc), len(set(fps_of(allc))),
                            api.state_hash(node)[1]))
        win = "expires_after=" + pct(iso(now + 30 * d))
        paged = api.search_all(node, win, limit=60)
        want = set(o["fingerprint"] for o in allc
                   if unix(o["not_after"]) >= now + 30 * d)
        t(len(paged) == len(want) and set(fps_of(paged)) == want,
          "node %d: pages of %s: %d, expected %d" % (
              node, win, len(paged), len(want)))


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def s_expiring_and_rotation(c, api, t, ctx):
    """GET /v1/expiring: exactly the valid certificates inside the window,
    soonest first, with expires_in_s, paged without loss across equal
    expiry times; bad windows 400. GET /v1/rotation-due: shape and
    parameters only (imported certificates carry no profile: see the
    report)."""
    leader, fol = roles_of(c)
    m = mint(ctx, "API Expiry Issuer")
    now = int(time.time())
    d = 86400
    mk = {}
    for k, (nb, na) in {"h1": (now - d, now + 3600),
                        "d5": (now - d, now + 5 * d),
                        "d20": (now - d, now + 20 * d),
                        "gone": (now - 9 * d, now - 2 * d),
                        "rev": (now - d, now + 2 * d)}.items():
        pem, _ = m.leaf("exp-%s.example" % k, nb, na, ("DNS:x.example",))
        r = api.import_pem(leader, pem, "?owner=exp-owner")
        t.need(r.st == 201, "import %s: %r" % (k, r))
        mk[k] = r.b["certificates"][0]["fingerprint"]
    r = api.post(leader, "/v1/certs/%s/revoke" % mk["rev"], {})
    t.need(r.st == 200, "revoke: %r" % r)
    batch = gencerts(120, "exp")      # equal not_after values, 90 days
    r = api.import_pem(leader, "".join(batch), "?owner=exp-batch")
    t.need(r.st == 201, "import batch: %r" % r)
    batch_fps = set(fingerprint(p) for p in batch)
    c.wait_caught_up()
    for node in (fol[0], leader):
        for within, secs in (("30d", 30 * d), ("12h", 43200),
                             ("90m", 5400), ("45s", 45), (None, 30 * d),
                             ("91d", 91 * d)):
            q = "/v1/expiring?limit=1000" + (
                "&within=" + within if within else "")
            t0 = int(time.time())
            r = api.get(node, q)
            if not check_list_shape(t, r, q):
                continue
            items = r.b["items"]
            ins = [o["expires_in_s"] for o in items]
            t(ins == sorted(ins), "%s: not soonest first" % q)
            t(all(o["status"] == "valid" and 0 <= o["expires_in_s"] <= secs
                  and abs(unix(o["not_after"]) - t0 - o["expires_in_s"]) <= 3
                  for o in items), "%s: an item outside the window: %r" % (
                      q, [(o["subject"], o["status"], o["expires_in_s"])
                          for o in items][:5]))
            # exactly the valid certificates expiring in the window
            want = api.search_all(node, "status=valid&expires_before=" +
                                  pct(iso(t0 + secs)))
            want = set(o["fingerprint"] for o in want
                       if unix(o["not_after"]) >= t0)
            t(set(fps_of(items)) == want, "%s on %d: %d items, expected %d"
              % (q, node, len(items), len(want)))
            mine = {k for k, v in mk.items() if v in fps_of(items)}
            exp = {k for k, lim in (("h1", 3600), ("d5", 5 * d),
                                    ("d20", 20 * d)) if lim <= secs}
            t(mine == exp, "%s on %d: of mine %s, expected %s" % (
                q, node, sorted(mine), sorted(exp)))
        # pages of 50 across 120 equal expiry times
        seen, cursor, n = [], None, 0
        while n < 20:
            r = api.get(node, "/v1/expiring?within=91d&limit=50" + (
                "&cursor=" + pct(cursor) if cursor else ""))
            if not check_list_shape(t, r, "expiring page"):
                break
            seen += r.b["items"]
            cursor, n = r.b["next_cursor"], n + 1
            if cursor is None:
                break
        full = api.get(node, "/v1/expiring?within=91d&limit=1000").b["items"]
        t(fps_of(seen) == fps_of(full) and
          batch_fps <= set(fps_of(seen)),
          "node %d: expiring pages (%d items in %d pages) differ from one "
          "page (%d items)" % (node, len(seen), n, len(full)))
        for q in ("within=30x", "within=0d", "within=-1d", "within=",
                  "limit=0", "cursor=abc"):
            r = api.get(node, "/v1/expiring?" + q)
            t(is_problem(r, 400), "expiring ?%s must be 400: %r" % (q, r))
    # rotation-due: a profile whose rotate_after passed long ago for every
    # certificate; imports carry no profile, so nothing is due
    prof = {"issuer": "CN=API Expiry Issuer,O=certstore tests",
            "key_types": ["p256"], "max_validity": "365d",
            "rotate_after": "45s", "allow": {"dns": ["*.example.org"]}}
    r = api.call(fol[0], "PUT", "/v1/profiles/rot", prof)
    t.need(r.st == 200 and r.b.get("rotate_after") == "45s",
           "PUT profile rot: %r" % r)
    # the only way to name a profile on import would be a JSON field
    r = api.post(leader, "/v1/certs", {"pem": gencerts(1, "rot")[0],
                                       "profile": "rot"})
    t.need(r.st == 201, "import: %r" % r)
    cert = r.b["certificates"][0]
    due = []
    if cert["profile"] == "rot":
        due = [cert["fingerprint"]]
    else:
        print("    note: an import cannot name a profile; rotation-due is "
              "checked empty (shape and parameters only)")
    c.wait_caught_up()
    for node in (fol[0], leader):
        for q in ("", "?profile=rot", "?profile=none-such", "?limit=5"):
            r = api.get(node, "/v1/rotation-due" + q)
            check_list_shape(t, r, "rotation-due" + q)
            want = [] if "none-such" in q else due
            t(r.st == 200 and fps_of(r.b["items"]) == want and
              r.b["next_cursor"] is None, "rotation-due%s: %r" % (q, r))
            for o in r.b.get("items", []):
                t(unix(o.get("rotation_due_since")) ==
                  unix(cert["not_before"]) + 45,
                  "rotation_due_since %r (an RFC 3339 time, not_before "
                  "+ 45 s)" % o.get("rotation_due_since"))
        for q in ("limit=0", "limit=1001", "cursor=zz", "cursor=nodot"):
            r = api.get(node, "/v1/rotation-due?" + q)
            t(is_problem(r, 400), "rotation-due ?%s must be 400: %r" % (
                q, r))
    r = api.call(leader, "DELETE", "/v1/profiles/rot")
    t(r.st == 204, "DELETE profile rot: %r" % r)


REASONS = ["unspecified", "keyCompromise", "cACompromise",
           "affiliationChanged", "superseded", "cessationOfOperation",
           "certificateHold", "privilegeWithdrawn", "aACompromise"]


def s_patch_and_revoke(c, api, t, ctx):
    """PATCH owner/tags (absent fields unchanged, null/"" clear), revoke
    with every reason and an invalidity date, 409 when already revoked,
    certificateHold lifted by removeFromCRL, bulk revocation by owner, tag
    and issuer (only valid certificates counted, in one entry); writes
    through a follower, read back with ?consistency=leader there."""
    leader, fol = roles_of(c)
    f = fol[0]
    pems = gencerts(4, "pt")
    r = api.import_pem(leader, "".join(pems), "?owner=pt-owner&tags=pt")
    t.need(r.st == 201, "import: %r" % r)
    fp = [fingerprint(p) for p in pems]
    created = r.b["index"]
    steps = [({"owner": "new-owner"}, "new-owner", ["pt"]),
             ({"tags": ["x", "y"]}, "new-owner", ["x", "y"]),
             ({"owner": None}, None, ["x", "y"]),
             ({"owner": "o2", "tags": []}, "o2", []),
             ({"owner": ""}, None, [])]
    for body, owner, tags in steps:
        r = api.call(f, "PATCH", "/v1/certs/" + fp[0], body)
        check_common(t, r, leader, "PATCH through follower")
        t(r.st == 200 and r.b.get("owner") == owner and
          r.b.get("tags") == tags and r.b.get("updated_index", 0) > created,
          "PATCH %r: %r" % (body, r))
        r = api.get(f, "/v1/certs/%s?consistency=leader" % fp[0])
        t(r.st == 200 and r.b.get("owner") == owner and
          r.b.get("tags") == tags, "read back after PATCH %r: %r" % (
              body, r))
    r = api.call(f, "PATCH", "/v1/certs/" + ZERO64, {"owner": "x"})
    t(is_problem(r, 404), "PATCH unknown: %r" % r)
    r = api.call(leader, "PATCH", "/v1/certs/nothex", {"owner": "x"})
    t(is_problem(r, 400), "PATCH bad fingerprint: %r" % r)
    # revoke through a follower, with a date; again: 409
    r = api.post(f, "/v1/certs/%s/revoke" % fp[1], {
        "reason": "superseded", "invalidity_date": "2026-01-02T03:04:05Z"})
    check_common(t, r, leader, "revoke through follower")
    t(r.st == 200 and r.b.get("status") == "revoked" and
      isinstance(r.b.get("revocation"), dict) and
      r.b["revocation"].get("reason") == "superseded" and
      r.b["revocation"].get("invalidity_date") == "2026-01-02T03:04:05Z" and
      abs(unix(r.b["revocation"]["time"]) - time.time()) < 60,
      "revoke: %r" % r)
    r = api.get(f, "/v1/certs/%s?consistency=leader" % fp[1])
    t(r.st == 200 and r.b["status"] == "revoked", "read back: %r" % r)
    r = api.post(f, "/v1/certs/%s/revoke" % fp[1], {"reason": "superseded"})
    t(is_problem(r, 409), "revoke twice: %r" % r)
    r = api.post(leader, "/v1/certs/%s/revoke" % ZERO64, {})
    t(is_problem(r, 404), "revoke unknown: %r" % r)
    r = api.post(leader, "/v1/certs/%s/revoke" % fp[2], {})
    t(r.st == 200 and r.b["revocation"]["reason"] == "unspecified" and
      "invalidity_date" not in r.b["revocation"],
      "default reason: %r" % r)
    # hold, lift, lift again
    r = api.post(f, "/v1/certs/%s/revoke" % fp[3],
                 {"reason": "certificateHold"})
    t(r.st == 200 and r.b["revocation"]["reason"] == "certificateHold",
      "hold: %r" % r)
    r = api.post(f, "/v1/certs/%s/revoke" % fp[3],
                 {"reason": "removeFromCRL"})
    t(r.st == 200 and r.b["status"] == "valid" and
      r.b["revocation"] is None, "removeFromCRL: %r" % r)
    r = api.post(f, "/v1/certs/%s/revoke" % fp[3],
                 {"reason": "removeFromCRL"})
    t(is_problem(r, 409), "removeFromCRL when not on hold: %r" % r)
    r = api.post(f, "/v1/certs/%s/revoke" % fp[0],
                 {"reason": "removeFromCRL"})
    t(is_problem(r, 409), "removeFromCRL on a valid certificate: %r" % r)
    # every reason
    rs = gencerts(len(REASONS), "reason")
    r = api.import_pem(leader, "".join(rs))
    t.need(r.st == 201, "import: %r" % r)
    for reason, pem in zip(REASONS, rs):
        r = api.post(fol[1], "/v1/certs/%s/revoke" % fingerprint(pem),
                     {"reason": reason})
        t(r.st == 200 and r.b["revocation"]["reason"] == reason,
          "reason %s: %r" % (reason, r))
    # bulk: by owner, by tag, by issuer; only valid ones are counted
    bo = gencerts(5, "bulk-owner")
    bt = gencerts(4, "bulk-tag")
    m = mint(ctx, "API Bulk Issuer")
    now = int(time.time())
    bi = [m.leaf("bulk-issuer-%d.example" % k, now - 3600, now + 86400 * 30)[0]
          for k in range(3)]
    for pems_, q in ((bo, "?owner=bulk-owner"), (bt, "?tags=bulk-tag,z"),
                     (bi, "")):
        r = api.import_pem(leader, "".join(pems_), q)
        t.need(r.st == 201, "import bulk set: %r" % r)
    issuer = r.b["certificates"][0]["issuer"]
    r = api.post(leader, "/v1/certs/%s/revoke" % fingerprint(bo[0]), {})
    t.need(r.st == 200, "pre-revoke: %r" % r)
    bulk_idx = []
    for sel, pems_, n, reason in (
            ({"owner": "bulk-owner"}, bo, 4, "unspecified"),
            ({"tag": "bulk-tag", "reason": "cessationOfOperation"}, bt, 4,
             "cessationOfOperation"),
            ({"issuer": issuer, "reason": "cACompromise"}, bi, 3,
             "cACompromise")):
        r = api.post(f, "/v1/revocations", sel)
        check_common(t, r, leader, "bulk through follower")
        t(r.st == 200 and r.b == {"revoked": n, "index": r.b.get("index")}
          and isinstance(r.b.get("index"), int),
          "bulk %r: %r (expected %d)" % (sel, r, n))
        if r.st == 200:
            bulk_idx.append(r.b["index"])
        for p in pems_[1:] if "owner" in sel else pems_:
            g = api.get(f, "/v1/certs/%s?consistency=leader" %
                        fingerprint(p))
            t(g.st == 200 and g.b["status"] == "revoked" and
              g.b["revocation"]["reason"] == reason and
              g.b["updated_index"] == bulk_idx[-1],
              "after bulk %r: %r" % (sel, g))
        r = api.post(f, "/v1/revocations", sel)
        t(r.st == 200 and r.b.get("revoked") == 0,
          "bulk %r again: %r" % (sel, r))
    g = api.get(leader, "/v1/audit?limit=1000&from=%d" % min(bulk_idx))
    at = {a["index"]: a["command"] for a in g.b["items"]}
    t(all(at.get(i) == "revoke_bulk" for i in bulk_idx),
      "each bulk revocation is one revoke_bulk entry: %r" % (
          [(i, at.get(i)) for i in bulk_idx]))


def s_keys(c, api, t, ctx):
    """GET /v1/keys/{key_id} (fields, the certificates using the key),
    compromise (every certificate revoked in one entry, a later import
    with the key revoked on arrival, the reason), destroy (location, 409
    the second time), 404/400."""
    leader, fol = roles_of(c)
    f = fol[0]
    ka = gencerts(4, "keya")        # one key for the four
    kb = gencerts(2, "keyb")
    kc = gencerts(2, "keyc")
    r = api.import_pem(leader, "".join(ka[:3]))
    t.need(r.st == 201, "import: %r" % r)
    kid = r.b["certificates"][0]["key_id"]
    t(all(o["key_id"] == kid for o in r.b["certificates"]),
      "gencerts shares one key: %r" % r.b["certificates"])
    r = api.import_pem(leader, "".join(kb + kc))
    t.need(r.st == 201, "import: %r" % r)
    kid_b = r.b["certificates"][0]["key_id"]
    kid_c = r.b["certificates"][2]["key_id"]
    c.wait_caught_up()
    kkeys = {"key_id", "key_type", "key_bits", "curve", "state",
             "state_time", "state_actor", "location", "certificates"}
    for node in (f, leader):
        r = api.get(node, "/v1/keys/" + kid)
        check_common(t, r, node, "GET key on %d" % node)
        t(r.st == 200 and kkeys <= set(r.b) and r.b["key_id"] == kid and
          r.b["state"] == "active" and r.b["key_type"] == "ec" and
          r.b["key_bits"] == 256 and
          sorted(x["fingerprint"] for x in r.b["certificates"]) ==
          sorted(fingerprint(p) for p in ka[:3]) and
          all(set(x) == {"fingerprint", "subject", "status"}
              for x in r.b["certificates"]),
          "GET key on %d: %r" % (node, r))
        r = api.get(node, "/v1/keys/" + ZERO64)
        t(is_problem(r, 404), "unknown key: %r" % r)
        r = api.get(node, "/v1/keys/zz")
        t(is_problem(r, 400), "bad key id: %r" % r)
    r = api.post(f, "/v1/keys/%s/compromise" % kid, {})
    check_common(t, r, leader, "compromise through follower")
    t(r.st == 200 and r.b.get("revoked") == 3 and
      isinstance(r.b.get("index"), int), "compromise: %r" % r)
    r = api.get(f, "/v1/keys/%s?consistency=leader" % kid)
    t(r.st == 200 and r.b["state"] == "compromised" and
      r.b["state_actor"] == "CN=certstore-admin" and
      abs(unix(r.b["state_time"]) - time.time()) < 60 and
      all(x["status"] == "revoked" for x in r.b["certificates"]),
      "compromised key: %r" % r)
    for p in ka[:3]:
        g = api.get(f, "/v1/certs/%s?consistency=leader" % fingerprint(p))
        t(g.b["status"] == "revoked" and
          g.b["revocation"]["reason"] == "keyCompromise",
          "after compromise: %r" % g)
    r = api.import_pem(f, ka[3])
    t(r.st == 201 and r.b["certificates"][0]["status"] == "revoked" and
      r.b["certificates"][0]["revocation"]["reason"] == "keyCompromise",
      "an import with a compromised key is revoked on arrival: %r" % r)
    r = api.post(leader, "/v1/keys/%s/compromise" % kid_b,
                 {"reason": "superseded"})
    t(r.st == 200 and r.b.get("revoked") == 2, "compromise b: %r" % r)
    g = api.get(leader, "/v1/certs/" + fingerprint(kb[0]))
    t(g.b["revocation"]["reason"] == "superseded", "reason given: %r" % g)
    for body in ({"reason": "bogus"}, {"reason": "removeFromCRL"},
                 {"reason": 3}):
        r = api.post(leader, "/v1/keys/%s/compromise" % kid_c, body)
        t(is_problem(r, 400), "compromise %r: %r" % (body, r))
    r = api.post(leader, "/v1/keys/zz/compromise", {})
    t(is_problem(r, 400), "compromise bad id: %r" % r)
    # destroy
    r = api.post(f, "/v1/keys/%s/destroy" % kid_c, {"location": "hsm"})
    check_common(t, r, leader, "destroy through follower")
    t(r.st == 200 and r.b.get("state") == "destroyed" and
      r.b.get("location") == "hsm", "destroy: %r" % r)
    r = api.post(f, "/v1/keys/%s/destroy" % kid_c, {})
    t(is_problem(r, 409), "destroy twice: %r" % r)
    g = api.get(leader, "/v1/certs/" + fingerprint(kc[0]))
    t(g.b["status"] == "valid", "destroying a key revokes nothing: %r" % g)
    for body in ({"location": "moon"}, {"location": 1}):
        r = api.post(leader, "/v1/keys/%s/destroy" % kid, body)
        t(is_problem(r, 400), "destroy %r: %r" % (body, r))
    r = api.post(leader, "/v1/keys/zz/destroy", {})
    t(is_problem(r, 400), "destroy bad id: %r" % r)


PROFILE = {
    "issuer": "CN=certstore local client CA", "key_types": ["p256", "rsa3072"],
    "max_validity": "90d", "rotate_after": "30d",
    "allow": {"dns": ["*.example.org", "www.example.org"],
              "ip": ["10.0.0.0/8"], "uri": ["spiffe://example.org/*"],
              "email": ["*@example.org"], "cn": []},
    "allow_no_san": False, "key_usage": ["digitalSignature"],
    "eku": ["serverAuth"], "crl_urls": ["http://crl.example.org/a.crl"],
    "ocsp_urls": ["http://ocsp.example.org"], "description": "web servers"}


def norm_profile(p):
    if not isinstance(p, dict):
        return p
    p = dict(p)
    p["key_types"] = sorted(p.get("key_types") or [])
    return p


def s_profiles_and_roles(c, api, t, ctx):
    """Profiles and role bindings: PUT (create, update), GET one and all,
    DELETE (204, then 404) through a follower and on the leader;
    percent-encoded names; the configured admin listed with from_config; a
    binding by fp: and by san: takes effect and its deletion too."""
    leader, fol = roles_of(c)
    f = fol[0]
    for name, path in (("web", "web"), ("web tls", "web%20tls")):
        r = api.call(f, "PUT", "/v1/profiles/" + path, PROFILE)
        check_common(t, r, leader, "PUT profile through follower")
        want = norm_profile(dict(PROFILE, name=name))
        t(r.st == 200 and norm_profile(r.b) == want,
          "PUT profile %r: %r" % (name, r))
        r = api.get(f, "/v1/profiles/%s?consistency=leader" % path)
        t(r.st == 200 and norm_profile(r.b) == want,
          "GET profile %r: %r" % (name, r))
    upd = dict(PROFILE, description="changed", rotate_after=None)
    r = api.call(leader, "PUT", "/v1/profiles/web", upd)
    t(r.st == 200 and r.b.get("description") == "changed" and
      r.b.get("rotate_after") is None, "update profile: %r" % r)
    c.wait_caught_up()
    for node in (f, leader):
        r = api.get(node, "/v1/profiles")
        check_list_shape(t, r, "GET /v1/profiles")
        names = [p.get("name") for p in r.b.get("items", [])]
        t("web" in names and "web tls" in names,
          "GET /v1/profiles on %d: %r" % (node, names))
    for path in ("web", "web%20tls"):
        r = api.call(f, "DELETE", "/v1/profiles/" + path)
        t(r.st == 204 and r.b == "", "DELETE profile %s: %r" % (path, r))
        r = api.get(f, "/v1/profiles/%s?consistency=leader" % path)
        t(is_problem(r, 404), "deleted profile: %r" % r)
        r = api.call(leader, "DELETE", "/v1/profiles/" + path)
        t(is_problem(r, 404), "DELETE again: %r" % r)
    # role bindings
    ident = "CN=api-op-x,O=Hospital"
    r = api.call(f, "PUT", "/v1/roles/" + pct(ident), {"role": "operator"})
    check_common(t, r, leader, "PUT role through follower")
    t(r.st == 200 and r.b == {"identity": ident, "role": "operator",
                              "profiles": []}, "PUT role: %r" % r)
    r = api.call(leader, "PUT", "/v1/roles/" + pct("CN=api-enr-x"),
                 {"role": "enroller", "profiles": ["web", "vpn"]})
    t(r.st == 200 and r.b.get("profiles") == ["web", "vpn"],
      "PUT enroller: %r" % r)
    r = api.get(f, "/v1/roles/%s?consistency=leader" % pct(ident))
    t(r.st == 200 and r.b.get("role") == "operator", "GET role: %r" % r)
    c.wait_caught_up()
    for node in (f, leader):
        r = api.get(node, "/v1/roles")
        check_list_shape(t, r, "GET /v1/roles")
        items = {o.get("identity"): o for o in r.b.get("items", [])}
        t(ident in items and "CN=api-enr-x" in items and
          items.get("CN=certstore-admin", {}).get("from_config") is True and
          items["CN=certstore-admin"].get("role") == "admin",
          "GET /v1/roles on %d: %r" % (node, r.b))
    for path in (pct(ident), pct("CN=api-enr-x")):
        r = api.call(f, "DELETE", "/v1/roles/" + path)
        t(r.st == 204, "DELETE role: %r" % r)
        r = api.get(f, "/v1/roles/%s?consistency=leader" % path)
        t(is_problem(r, 404), "deleted role: %r" % r)
        r = api.call(leader, "DELETE", "/v1/roles/" + path)
        t(is_problem(r, 404), "DELETE role again: %r" % r)
    # a binding by fingerprint, and one by SAN, take effect on every node
    cert, key = c.make_client_cert("api-fp-user")
    api.add_identity("fp-user", cert, key)
    fpu = fingerprint(open(cert).read())
    r = api.get(f, "/v1/audit?limit=1", who="fp-user")
    t(is_problem(r, 403) and "CN=api-fp-user" in r.b.get("detail", ""),
      "no binding yet: %r" % r)
    r = api.call(leader, "PUT", "/v1/roles/" + pct("fp:" + fpu),
                 {"role": "auditor"})
    t(r.st == 200, "PUT fp binding: %r" % r)
    c.wait_caught_up()
    for node in (f, leader):
        r = api.get(node, "/v1/audit?limit=1", who="fp-user")
        t(r.st == 200, "fp binding on %d: %r" % (node, r))
        r = api.import_pem(node, gencerts(1, "fpu")[0], who="fp-user")
        t(is_problem(r, 403), "auditor by fp may not import: %r" % r)
    r = api.call(leader, "DELETE", "/v1/roles/" + pct("fp:" + fpu))
    t(r.st == 204, "DELETE fp binding: %r" % r)
    r = api.call(leader, "PUT", "/v1/roles/" + pct("san:127.0.0.1"),
                 {"role": "auditor"})
    t(r.st == 200, "PUT san binding: %r" % r)
    c.wait_caught_up()
    r = api.get(f, "/v1/audit?limit=1", who="fp-user")
    t(r.st == 200, "san binding: %r" % r)
    r = api.call(leader, "DELETE", "/v1/roles/" + pct("san:127.0.0.1"))
    t(r.st == 204, "DELETE san binding: %r" % r)
    c.wait_caught_up()
    for node in (f, leader):
        r = api.get(node, "/v1/audit?limit=1", who="fp-user")
        t(is_problem(r, 403), "after the bindings went, on %d: %r" % (
            node, r))


CMD_TYPES = {"import": 1, "revoke": 2, "unrevoke": 3, "revoke_key": 4,
             "revoke_bulk": 5, "key_state": 6, "set_meta": 7, "doc_put": 8,
             "doc_del": 9, "crl_publish": 10}
ERR_CODES = {"CS_ENOMEM": -1, "CS_EINVAL": -2, "CS_ENOTFOUND": -3,
             "CS_EEXIST": -4, "CS_ENOTLEADER": -5, "CS_EIO": -6,
             "CS_ECRYPTO": -7, "CS_EBUSY": -8, "CS_ECANCELED": -9,
             "CS_ETOOBIG": -10, "CS_EPROTO": -11, "CS_EPERM": -12,
             "CS_ETIMEDOUT": -13, "CS_ECONFLICT": -14,
             "CS_ELEADERLOST": -15}


def chain_step(prev, a):
    """cert/audit.c cs_audit__hash, recomputed from a listed entry."""
    rc = 0 if a["result"] == "ok" else ERR_CODES[a["result"]]
    return hashlib.sha256(
        prev + struct.pack(">QQ", a["index"], unix(a["time"])) +
        a["actor"].encode() + b"\0" +
        struct.pack(">HH", CMD_TYPES[a["command"]], rc & 0xffff) +
        bytes.fromhex(a["entry_sha256"])).digest()


def s_audit_and_snapshot(c, api, t, ctx):
    """GET /v1/audit: every entry, its fields, pages by from/limit/cursor,
    and a hash chain that recomputes from zero to the head that
    /v1/audit/verify reports (equal on every node); GET /v1/snapshot on
    the leader and a follower: CSSNAP bytes with the snapshot index."""
    leader, fol = roles_of(c)
    r = api.import_pem(fol[0], gencerts(1, "audit")[0])
    t.need(r.st == 201, "import: %r" % r)
    c.wait_caught_up()
    heads = {}
    for node in (leader, fol[0], fol[1]):
        items, cursor, pages = [], None, 0
        while pages < 50:
            r = api.get(node, "/v1/audit?limit=7" + (
                "&cursor=" + cursor if cursor else ""))
            if not check_list_shape(t, r, "audit page"):
                break
            items += r.b["items"]
            cursor, pages = r.b["next_cursor"], pages + 1
            if cursor is None:
                break
        full = api.get(node, "/v1/audit?limit=1000").b["items"]
        t(items == full and len(full) > 10,
          "audit pages on %d: %d items in %d pages, one page: %d" % (
              node, len(items), pages, len(full)))
        keys = {"index", "time", "actor", "command", "result",
                "entry_sha256", "chain_hash"}
        t(all(set(a) == keys for a in full), "audit fields: %r" % full[:2])
        idx = [a["index"] for a in full]
        t(idx == sorted(set(idx)), "audit indexes not increasing")
        t(all(a["command"] in CMD_TYPES for a in full),
          "unknown commands: %r" % {a["command"] for a in full})
        t(any(a["actor"] == "CN=certstore-admin" and
              a["command"] == "import" for a in full),
          "the admin's imports are attributed to it")
        prev, broken = bytes(32), None
        for a in full:
            try:
                prev = chain_step(prev, a)
            except KeyError:
                broken = a
                break
            if prev.hex() != a["chain_hash"]:
                broken = a
                break
        t(broken is None, "the audit chain does not recompute at %r" %
          broken)
        r = api.get(node, "/v1/audit/verify")
        check_common(t, r, node, "audit verify on %d" % node)
        t(r.st == 200 and r.b.get("intact") is True and
          r.b.get("entries") == len(full) and
          r.b.get("head") == full[-1]["chain_hash"],
          "audit verify on %d: %r (listed %d, last %s)" % (
              node, r, len(full), full[-1]["chain_hash"]))
        heads[node] = r.b.get("head")
        mid = full[len(full) // 2]["index"]
        r = api.get(node, "/v1/audit?from=%d&limit=3" % mid)
        t(r.st == 200 and [a["index"] for a in r.b["items"]] ==
          [a["index"] for a in full if a["index"] >= mid][:3] and
          r.b["next_cursor"] == str([a["index"] for a in full
                                     if a["index"] >= mid][3]),
          "audit from=%d: %r" % (mid, r))
        for q in ("limit=0", "limit=1001"):
            r = api.get(node, "/v1/audit?" + q)
            t(is_problem(r, 400), "audit ?%s: %r" % (q, r))
    t(len(set(heads.values())) == 1, "audit heads differ: %r" % heads)
    for node in (leader, fol[0]):
        r = api.get(node, "/v1/snapshot")
        check_common(t, r, node, "snapshot on %d" % node)
        applied = int(r.h.get("x-certstore-index", "0"))
        t(r.st == 200 and isinstance(r.b, bytes) and
          r.b[:6] == b"CSSNAP" and
          r.h.get("content-type") == "application/octet-stream" and
          re.fullmatch(r"\d+", r.h.get("x-certstore-snapshot-index", "")) and
          0 < int(r.h["x-certstore-snapshot-index"]) <= applied and
          int(r.h.get("content-length", -1)) == len(r.b),
          "snapshot on %d: %r %r" % (node, r.st, {
              k: v for k, v in r.h.items() if k.startswith(("x-", "c"))}))


# ---- the role x endpoint matrix ----

ROLE_NAMES = ["admin", "operator", "auditor", "enroller", "nobody"]
A, O, U = "admin", "operator", "auditor"
PUBLIC = set(ROLE_NAMES)


def matrix_rows(x):
    """(method, path, body, content type, roles allowed by docs/api.md).
    Allowed calls are harmless: they read, touch objects made for the
    matrix, or carry a body the handler refuses after authorization."""
    return [
        ("GET", "/healthz", None, None, PUBLIC),
        ("GET", "/readyz", None, None, PUBLIC),
        ("GET", "/metrics", None, None, {A, O, U}),
        ("GET", "/v1/cluster", None, None, {A, O, U}),
        ("GET", "/v1/cluster/state-hash", None, None, {A, U}),
        ("POST", "/v1/cluster/members", {"id": "not a number"}, None, {A}),
        ("DELETE", "/v1/cluster/members/0", None, None, {A}),
        ("POST", "/v1/cluster/transfer", {"to": "nobody"}, None, {A}),
        ("GET", "/v1/snapshot", None, None, {A}),
        ("POST", "/v1/certs", x["pem"], "application/x-pem-file", {A, O}),
        ("GET", "/v1/certs?limit=2", None, None, {A, O, U}),
        ("GET", "/v1/certs/" + x["fp"], None, None, {A, O, U}),
        ("PATCH", "/v1/certs/" + x["fp"], {"tags": ["matrix"]}, None,
         {A, O}),
        ("POST", "/v1/certs/%s/revoke" % ZERO64, {}, None, {A, O}),
        ("POST", "/v1/revocations", {"owner": "matrix-nobody"}, None,
         {A, O}),
        ("GET", "/v1/expiring?within=1d", None, None, {A, O, U}),
        ("GET", "/v1/rotation-due", None, None, {A, O, U}),
        ("GET", "/v1/keys/" + x["key"], None, None, {A, O, U}),
        ("POST", "/v1/keys/%s/compromise" % x["key"], {"reason": "bogus"},
         None, {A, O}),
        ("POST", "/v1/keys/%s/destroy" % x["key"], {"location": "moon"},
         None, {A, O}),
        ("GET", "/v1/profiles", None, None, {A, O, U}),
        ("GET", "/v1/profiles/matrix", None, None, {A, O, U}),
        ("PUT", "/v1/profiles/matrix", PROFILE, None, {A}),
        ("DELETE", "/v1/profiles/matrix-none", None, None, {A}),
        ("GET", "/v1/roles", None, None, {A, U}),
        ("GET", "/v1/roles/" + pct("CN=api-operator"), None, None, {A, U}),
        ("PUT", "/v1/roles/" + pct("CN=matrix-dummy"), {"role": "auditor"},
         None, {A}),
        ("DELETE", "/v1/roles/" + pct("CN=matrix-none"), None, None, {A}),
        ("GET", "/v1/audit?limit=1", None, None, {A, U}),
        ("GET", "/v1/audit/verify", None, None, {A, U}),
    ]


def role_identities(c, api, t, leader):
    """Client certificates for operator, auditor, enroller and one with no
    binding, bound by the admin (once per cluster)."""
    if "api-operator" in str(api.ids.get("operator")):
        return
    for role in ROLE_NAMES[1:]:
        cert, key = c.make_client_cert("api-" + role)
        api.add_identity(role, cert, key)
        if role == "nobody":
            continue
        body = {"role": role}
        if role == "enroller":
            body["profiles"] = ["matrix"]
        r = api.call(leader, "PUT", "/v1/roles/" + pct("CN=api-" + role),
                     body)
        t.need(r.st == 200, "bind %s: %r" % (role, r))
    c.wait_caught_up()


def s_role_matrix(c, api, t, ctx):
    """Every documented endpoint x every role (admin, operator, auditor,
    enroller, no binding), on the leader and through a follower: allowed
    means neither 401 nor 403; denied means exactly 403 with a problem
    body that names the identity (no-role for the unbound one)."""
    leader, fol = roles_of(c)
    role_identities(c, api, t, leader)
    pem = gencerts(1, "matrix")[0]
    r = api.import_pem(leader, pem)
    t.need(r.st == 201, "import: %r" % r)
    x = {"pem": pem, "fp": fingerprint(pem),
         "key": r.b["certificates"][0]["key_id"]}
    r = api.call(leader, "PUT", "/v1/profiles/matrix", PROFILE)
    t.need(r.st == 200, "profile: %r" % r)
    c.wait_caught_up()
    cells = bad = 0
    for node in (leader, fol[0]):
        for method, path, body, ctype, allowed in matrix_rows(x):
            for role in ROLE_NAMES:
                cells += 1
                rid = new_rid()
                r = api.call(node, method, path, body, ctype=ctype, who=role,
                             headers={"X-Request-Id": rid})
                what = "node %d %s %s as %s" % (node, method, path, role)
                # every answer: the index, the answering node (the leader
                # for a forwarded write; a refusal comes from the node
                # asked) and the request id sent
                check_common(t, r, leader if method != "GET" and
                             role in allowed else node, what, rid)
                if role in allowed:
                    ok = t(r.st not in (401, 403) and r.st < 500,
                           "%s must be allowed: %r" % (what, r))
                else:
                    ok = t(is_problem(r, 403) and
                           ("CN=api-" + role) in r.b.get("detail", "") and
                           r.b.get("type") == (
                               "urn:certstore:problem:no-role"
                               if role == "nobody" else
                               "urn:certstore:problem:forbidden"),
                           "%s must be 403 naming the identity: %r" % (
                               what, r))
                bad += not ok
    print("    %d cells, %d wrong" % (cells, bad))
    # a client is not a node: X-Certstore-Client-Cert (how nodes forward
    # for a client) naming the admin changes nothing for it
    admin_b64 = base64.b64encode(pem_to_der(open(
        c.env["ADMIN_CERT"]).read())).decode()
    for node in (leader, fol[0]):
        for role in ("auditor", "nobody"):
            r = api.import_pem(node, gencerts(1, "spoof")[0], who=role,
                               headers={"X-Certstore-Client-Cert":
                                        admin_b64})
            t(is_problem(r, 403) and "CN=api-" + role in r.b["detail"],
              "node %d: %s claiming the admin's certificate in "
              "X-Certstore-Client-Cert: %r" % (node, role, r))
    c.wait_caught_up()
    api.call(leader, "DELETE", "/v1/profiles/matrix")


# ---- malformed input ----


def deep(n):
    return "[" * n + "]" * n


def malformed_cases(c, x):
    """(label, method, path, body, content type, headers, statuses)."""
    good, good2, many = x["good"], x["good2"], x["many"]
    der = pem_to_der(good)
    fp = x["fp"]
    P, J, D = "application/x-pem-file", "application/json", \
        "application/pkix-cert"
    broken = ("-----BEGIN CERTIFICATE-----\nMIIB!!notbase64!!\n"
              "-----END CERTIFICATE-----\n")
    cases = [
        # PEM bundles
        ("PEM: no PEM at all", "POST", "/v1/certs", "hello", P, {}, {400}),
        ("PEM: bad base64", "POST", "/v1/certs", broken, P, {}, {400}),
        ("PEM: good then bad", "POST", "/v1/certs", good + broken, P, {},
         {400}),
        ("PEM: base64 of junk", "POST", "/v1/certs",
         "-----BEGIN CERTIFICATE-----\n" +
         base64.encodebytes(os.urandom(200)).decode() +
         "-----END CERTIFICATE-----\n", P, {}, {400}),
        ("PEM: a private key only", "POST", "/v1/certs", x["keypem"], P, {},
         {400}),
        ("PEM: empty body", "POST", "/v1/certs", "", P, {}, {400}),
        ("PEM: no END line", "POST", "/v1/certs",
         good.replace("-----END CERTIFICATE-----\n", ""), P, {}, {400}),
        ("PEM: 1001 certificates", "POST", "/v1/certs", "".join(many), P,
         {}, {413}),
        ("PEM: 33 tags", "POST", "/v1/certs?tags=" + ",".join(
            "t%d" % k for k in range(33)), good, P, {}, {400}),
        ("PEM: owner of 1025 bytes", "POST", "/v1/certs?owner=" + "o" * 1025,
         good, P, {}, {400}),
        ("PEM: bad percent-encoding in owner", "POST",
         "/v1/certs?owner=%zz", good, P, {}, {400}),
        # DER
        ("DER: random bytes", "POST", "/v1/certs", os.urandom(300), D, {},
         {400}),
        ("DER: truncated", "POST", "/v1/certs", der[:-10], D, {}, {400}),
        ("DER: trailing garbage", "POST", "/v1/certs", der + b"\0junk", D,
         {}, {400}),
        ("DER: empty", "POST", "/v1/certs", b"", D, {}, {400}),
        # JSON import
        ("JSON import: not JSON", "POST", "/v1/certs", '{pem: "x"', J, {},
         {400}),
        ("JSON import: an array", "POST", "/v1/certs", "[]", J, {}, {400}),
        ("JSON import: pem a number", "POST", "/v1/certs", {"pem": 5}, J,
         {}, {400}),
        ("JSON import: pem not PEM", "POST", "/v1/certs", {"pem": "xyz"}, J,
         {}, {400}),
        ("JSON import: owner a number", "POST", "/v1/certs",
         {"pem": good, "owner": 5}, J, {}, {400}),
        ("JSON import: tags a string", "POST", "/v1/certs",
         {"pem": good, "tags": "a,b"}, J, {}, {400}),
        ("JSON import: tags of numbers", "POST", "/v1/certs",
         {"pem": good, "tags": [1]}, J, {}, {400}),
        ("JSON import: 33 tags", "POST", "/v1/certs",
         {"pem": good, "tags": ["t%d" % k for k in range(33)]}, J, {},
         {400}),
        ("JSON import: duplicate keys", "POST", "/v1/certs",
         '{"pem": %s, "pem": %s}' % (json.dumps(good), json.dumps(good2)),
         J, {}, {400}),
        ("JSON import: deep nesting", "POST", "/v1/certs",
         '{"pem": %s, "x": %s}' % (json.dumps(good), deep(3000)), J, {},
         {400}),
        ("JSON import: 1001 certificates", "POST", "/v1/certs",
         {"pem": "".join(many)}, J, {}, {413}),
        ("import: text/html", "POST", "/v1/certs", good, "text/html", {},
         {415}),
        # request ids
        ("X-Request-Id: xyz", "POST", "/v1/certs", good, P,
         {"X-Request-Id": "xyz"}, {400}),
        ("X-Request-Id: 31 hex", "POST", "/v1/certs", good, P,
         {"X-Request-Id": "a" * 31}, {400}),
        ("X-Request-Id: 33 hex", "POST", "/v1/certs", good, P,
         {"X-Request-Id": "a" * 33}, {400}),
        ("X-Request-Id: 32 non-hex", "POST", "/v1/certs", good, P,
         {"X-Request-Id": "g" * 32}, {400}),
        ("X-Request-Id: empty", "PATCH", "/v1/certs/" + fp,
         {"owner": "rid"}, J, {"X-Request-Id": ""}, {400}),
    ]
    # the JSON bodies of the other writes
    jpaths = [
        ("PATCH", "/v1/certs/" + fp, [
            ("{}", {}), ("owner a number", {"owner": 5}),
            ("tags a string", {"tags": "a"}), ("an empty tag", {"tags": [""]}),
            ("a tag a number", {"tags": [7]}),
            ("33 tags", {"tags": ["t%d" % k for k in range(33)]}),
            ("owner of 1025 bytes", {"owner": "o" * 1025}),
            ("a tag of 1025 bytes", {"tags": ["t" * 1025]})]),
        ("POST", "/v1/certs/%s/revoke" % fp, [
            ("bogus reason", {"reason": "bogus"}),
            ("reason a number", {"reason": 1}),
            ("invalidity_date not a time", {"invalidity_date": "yesterday"}),
            ("invalidity_date a number", {"invalidity_date": 5})]),
        ("POST", "/v1/revocations", [
            ("{}", {}), ("two selectors", {"owner": "a", "tag": "b"}),
            ("owner a number", {"owner": 5}), ("owner empty", {"owner": ""}),
            ("removeFromCRL", {"owner": "x", "reason": "removeFromCRL"}),
            ("bogus reason", {"owner": "x", "reason": "bogus"})]),
        ("PUT", "/v1/profiles/mal", [
            ("{}", {}),
            ("an unknown field", dict(PROFILE, colour="red")),
            ("an unknown field in allow", dict(PROFILE, allow={
                "dns": ["a.example"], "emial": ["*@example.org"]})),
            ("key_types rsa1024", dict(PROFILE, key_types=["rsa1024"])),
            ("key_types a string", dict(PROFILE, key_types="p256")),
            ("max_validity forever", dict(PROFILE, max_validity="forever")),
            ("max_validity negative", dict(PROFILE, max_validity=-5)),
            ("rotate_after > max_validity", dict(PROFILE, rotate_after="91d")),
            ("allow a list", dict(PROFILE, allow=["a.example"])),
            ("allow.dns *.*.x", dict(PROFILE, allow={"dns": ["*.*.x"]})),
            ("allow.ip /33", dict(PROFILE, allow={"ip": ["10.0.0.0/33"]})),
            ("allow.email no @", dict(PROFILE, allow={"email": ["nobody"]})),
            ("key_usage unknown", dict(PROFILE, key_usage=["sign"])),
            ("eku a string", dict(PROFILE, eku="serverAuth")),
            ("eku a number", dict(PROFILE, eku=[5])),
            ("allow_no_san a string", dict(PROFILE, allow_no_san="yes")),
            ("description a number", dict(PROFILE, description=5)),
            ("crl_urls a string", dict(PROFILE, crl_urls="http://x"))]),
        ("PUT", "/v1/roles/" + pct("CN=mal"), [
            ("{}", {}), ("role superuser", {"role": "superuser"}),
            ("role a number", {"role": 5}),
            ("profiles a string", {"role": "enroller", "profiles": "web"}),
            ("profiles of numbers", {"role": "enroller", "profiles": [5]})]),
        ("POST", "/v1/cluster/members", [
            ("{}", {}),
            ("id a string", {"id": "9", "raft_address": "127.0.0.1:1",
                             "api_url": "https://127.0.0.1:1"}),
            ("id 0", {"id": 0, "raft_address": "127.0.0.1:1",
                      "api_url": "https://127.0.0.1:1"}),
            ("raft_address a name", {"id": 9, "raft_address": "localhost:1",
                                     "api_url": "https://127.0.0.1:1"}),
            ("raft_address port 70000", {
                "id": 9, "raft_address": "127.0.0.1:70000",
                "api_url": "https://127.0.0.1:1"}),
            ("api_url ftp", {"id": 9, "raft_address": "127.0.0.1:1",
                             "api_url": "ftp://127.0.0.1:1"}),
            ("http_url gopher", {"id": 9, "raft_address": "127.0.0.1:1",
                                 "api_url": "https://127.0.0.1:1",
                                 "http_url": "gopher://x"})]),
        ("POST", "/v1/cluster/transfer", [
            ("to a string", {"to": "2"}), ("to a float", {"to": 1.5}),
            ("to not a member", {"to": 99})]),
    ]
    for method, path, bodies in jpaths:
        short = path.split("/")[2] if path.count("/") > 1 else path
        for label, body in bodies:
            cases.append(("%s %s: %s" % (method, short, label), method, path,
                          body, J, {}, {400}))
        for label, body in (("not JSON", '{"a": '), ("an array", "[]"),
                            ("a string", '"x"'),
                            ("duplicate keys", '{"reason": "superseded", '
                             '"reason": "keyCompromise", "owner": "a", '
                             '"owner": "b", "role": "auditor", '
                             '"role": "admin"}'),
                            ("deep nesting", '{"x": %s}' % deep(3000)),
                            ("very deep nesting", '{"x": %s}' %
                             deep(100000)),
                            ("invalid UTF-8", b'{"owner": "\xff\xfe"}')):
            cases.append(("%s %s: %s" % (method, short, label), method, path,
                          body, J, {}, {400}))
    # names in the path: bad percent-encoding
    for method, body in (("PUT", {"role": "auditor"}), ("GET", None),
                         ("DELETE", None)):
        for name in ("CN%3Dx%zz", "CN%3Dx%2", "CN%3Dx%00y", "%"):
            cases.append(("%s role %s" % (method, name), method,
                          "/v1/roles/" + name, body, J if body else None, {},
                          {400}))
    cases.append(("PUT role without '='", "PUT", "/v1/roles/justaname",
                  {"role": "auditor"}, J, {}, {400}))
    for method, body in (("PUT", PROFILE), ("GET", None), ("DELETE", None)):
        cases.append(("%s profile we%%zz" % method, method,
                      "/v1/profiles/we%zz", body, J if body else None, {},
                      {400}))
    cases.append(("DELETE member abc", "DELETE", "/v1/cluster/members/abc",
                  None, None, {}, {400}))
    # refused membership changes must not write the member document
    cases.append(("POST members: raft address in use", "POST",
                  "/v1/cluster/members",
                  {"id": 9, "raft_address": c.env["NODE2_RAFT"],
                   "api_url": "https://127.0.0.1:1"}, J, {}, {409}))
    return cases


def s_malformed_input(c, api, t, ctx):
    """Every body type and JSON route with malformed, wrongly typed,
    duplicated, deeply nested and oversized (1001 certificates) input and
    bad names or request ids: a 4xx problem+json answer with the expected
    status, on the leader and through a follower, and no state change
    (the state hash of every node before and after)."""
    leader, fol = roles_of(c)
    many = gencerts(1001, "many")
    pair = gencerts(3, "mal")
    r = api.import_pem(leader, pair[0])
    t.need(r.st == 201, "import: %r" % r)
    keypem = open(c.env["ADMIN_KEY"]).read()
    x = {"good": pair[1], "good2": pair[2], "many": many, "keypem": keypem,
         "fp": fingerprint(pair[0])}
    before = api.hashes()
    t.need(len(set(before.values())) == 1, "hashes differ: %r" % before)
    base = before[leader]
    for label, method, path, body, ctype, headers, want in \
            malformed_cases(c, x):
        for node in (leader, fol[0]):
            r = api.call(node, method, path, body, ctype=ctype,
                         headers=headers)
            what = "%s on %d" % (label, node)
            t(r.st in want and is_problem(r),
              "%s: expected %s problem+json, got %r %r" % (
                  what, sorted(want), r, r.h.get("content-type")))
            now = api.state_hash(leader)
            if not t(now == base, "%s: the state changed (%s -> %s)" % (
                    what, base[0][:12], now[0][:12])):
                base = now
    after = api.hashes()
    t(after == before, "state hashes before %r, after %r" % (before, after))
    # the limit itself is fine: 1000 certificates in one request
    r = api.import_pem(fol[0], "".join(many[:1000]))
    t(r.st == 201 and r.b.get("imported") == 1000,
      "1000 certificates: %r" % (r.st, ))


# ---- raw sockets: TLS client certificates, pipelining, disconnects ----


def tls_sock(c, port, cert=None, key=None, maxver=None, timeout=10):
    ctx = ssl.create_default_context(cafile=c.env["CLUSTER_CACERT"])
    if cert:
        ctx.load_cert_chain(cert, key)
    if maxver:
        ctx.maximum_version = maxver
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return ctx.wrap_socket(s, server_hostname="127.0.0.1")
    except Exception:
        s.close()
        raise


class Reader:
    """HTTP/1.1 answers read off a socket, in order."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""

    def _more(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self._more()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln.decode("latin-1")

    def exact(self, n):
        while len(self.buf) < n:
            self._more()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def response(self, head=False):
        """(status, headers, body); interim 1xx answers are skipped."""
        while True:
            status = int(self.line().split()[1])
            h = {}
            while True:
                ln = self.line()
                if not ln:
                    break
                k, v = ln.split(":", 1)
                h[k.strip().lower()] = v.strip()
            if status >= 200:
                break
        if head:
            body = b""
        elif "content-length" in h:
            body = self.exact(int(h["content-length"]))
        elif h.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                n = int(self.line().split(";")[0], 16)
                if n == 0:
                    self.line()
                    break
                body += self.exact(n)
                self.line()
        else:
            body = b""
        return status, h, body

    def at_eof(self, wait=3.0):
        """True when the peer closes (EOF or reset) within wait seconds."""
        self.s.settimeout(wait)
        try:
            while True:
                d = self.s.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True
        except socket.timeout:
            return False


def req_bytes(method, path, body=b"", headers=None):
    if isinstance(body, str):
        body = body.encode()
    h = {"Host": "127.0.0.1"}
    h.update(headers or {})
    if (body or method in ("POST", "PUT", "PATCH")) and \
            "Transfer-Encoding" not in h:
        h.setdefault("Content-Length", str(len(body)))
    head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join(
        "%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    return head.encode() + body


def try_tls_request(c, port, cert, key, maxver=None):
    """('ok', status) when a request got an answer, else ('refused',
    reason): the handshake failed or the connection ended before any
    answer. Local trouble (a certificate file that does not load) is
    raised, never taken for a refusal."""
    ctx = ssl.create_default_context(cafile=c.env["CLUSTER_CACERT"])
    if cert:
        ctx.load_cert_chain(cert, key)
    if maxver:
        ctx.maximum_version = maxver
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as e:
        raw.close()
        return "refused", "in the handshake: %s" % e
    try:
        s.sendall(req_bytes("GET", "/v1/cluster"))
        st, _, _ = Reader(s).response()
        return "ok", st
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError,
            EOFError) as e:
        return "refused", "after the handshake: %s" % e
    finally:
        s.close()


def s_tls_client_certs(c, api, t, ctx):
    """The mTLS API listener, TLS 1.3 and 1.2: no client certificate, one
    from a foreign CA (even with the admin's subject), an expired one and
    one not yet valid from the client CA are refused with a TLS alert
    (TLS 1.3: right after the client's handshake, before any answer);
    the admin's, and another current one from the client CA, are
    accepted; the public listener needs none; TLS 1.1 is refused on both
    TLS listeners."""
    leader, fol = roles_of(c)
    pki = os.path.join(c.var, "pki")
    foreign = c.make_client_cert("certstore-admin", ca="foreign")
    other = c.make_client_cert("api-foreign-user", ca="foreign")
    cm = ctx.get("client-mint")
    if cm is None:
        cm = ctx["client-mint"] = Mint(
            os.path.join(ctx["dir"], "client-mint"), None,
            ca_cert=os.path.join(pki, "client-ca.pem"),
            ca_key=os.path.join(pki, "client-ca.key"))
    now = int(time.time())
    out = {}
    for name, start, end in (("expired", now - 400 * 86400,
                              now - 30 * 86400),
                             ("future", now + 86400, now + 400 * 86400),
                             ("current", now - 3600, now + 86400)):
        pem, key = cm.leaf("certstore-admin", start, end, ("IP:127.0.0.1",),
                           eku="clientAuth")
        out[name] = (cm.path_of_last(), key)
    cases = [("no certificate", (None, None), "refused"),
             ("foreign CA, admin subject", foreign, "refused"),
             ("foreign CA", other, "refused"),
             ("client CA, expired", out["expired"], "refused"),
             ("client CA, not yet valid", out["future"], "refused"),
             ("client CA, current (admin subject)", out["current"], "ok"),
             ("the admin's", (c.env["ADMIN_CERT"], c.env["ADMIN_KEY"]),
              "ok")]
    for node in (leader, fol[0]):
        port = c.port(node)
        for maxver in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            for label, (cert, key), want in cases:
                got, why = try_tls_request(c, port, cert, key, maxver)
                # a refusal is a TLS alert (sent before the close)
                t(got == want and (why == 200 if got == "ok" else
                                   "alert" in str(why)),
                  "node %d %s %s: %s (%s), expected %s" % (
                      node, maxver.name, label, got, why, want))
        # the public listener takes clients without certificates
        s = tls_sock(c, listener_port(c, node, "PUBLIC"))
        s.sendall(req_bytes("GET", "/healthz"))
        st, _, _ = Reader(s).response()
        s.close()
        t(st == 200, "public listener without a certificate: %s" % st)
        # TLS 1.1 is refused on both TLS listeners
        for lport in (port, listener_port(c, node, "PUBLIC")):
            cx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            cx.check_hostname = False
            cx.verify_mode = ssl.CERT_NONE
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    cx.set_ciphers("DEFAULT@SECLEVEL=0")
                    cx.minimum_version = ssl.TLSVersion.TLSv1
                    cx.maximum_version = ssl.TLSVersion.TLSv1_1
            except (ValueError, ssl.SSLError) as e:
                t(False, "this client cannot offer TLS 1.1: %s" % e)
                continue
            s = socket.create_connection(("127.0.0.1", lport), timeout=5)
            try:
                cx.wrap_socket(s)
                t(False, "node %d port %d accepted TLS 1.1" % (node, lport))
            except ssl.SSLError as e:
                t("alert" in str(e) or "PROTOCOL" in str(e).upper(),
                  "TLS 1.1 on port %d: %s" % (lport, e))
            finally:
                s.close()
    # the node keeps serving
    for i in range(1, c.n + 1):
        t(api.get(i, "/healthz").st == 200, "node %d answers" % i)


def s_pipelining(c, api, t, ctx):
    """Several requests in one TLS write (reads, a write, a linearizable
    read of that write, an unknown path, HEAD, a final Connection: close)
    are answered in order on the leader and on a follower: each answer
    carries its request's X-Request-Id; the connection closes after the
    last one."""
    leader, fol = roles_of(c)
    for node in (leader, fol[0]):
        pem = gencerts(1, "pipe%d" % node)[0]
        fp = fingerprint(pem)
        reqs = [("GET", "/healthz", b"", {}, 200),
                ("POST", "/v1/certs?owner=pipe", pem,
                 {"Content-Type": "application/x-pem-file"}, 201),
                ("GET", "/v1/certs/%s?consistency=leader" % fp, b"", {}, 200),
                ("GET", "/v1/no-such-thing", b"", {}, 404),
                ("HEAD", "/v1/cluster", b"", {}, 200),
                ("PATCH", "/v1/certs/" + fp, '{"owner": "piped"}',
                 {"Content-Type": "application/json"}, 200),
                ("GET", "/v1/certs/%s?consistency=leader" % fp, b"", {}, 200),
                ("GET", "/v1/cluster", b"", {"Connection": "close"}, 200)]
        rids = [new_rid() for _ in reqs]
        data = b"".join(req_bytes(m, p, b, dict(h, **{"X-Request-Id": rid}))
                        for (m, p, b, h, _), rid in zip(reqs, rids))
        s = tls_sock(c, c.port(node), c.env["ADMIN_CERT"],
                     c.env["ADMIN_KEY"], timeout=20)
        s.sendall(data)   # one write: the TLS records carry them all
        rd = Reader(s)
        got = []
        try:
            for (m, p, b, h, want), rid in zip(reqs, rids):
                st, hd, body = rd.response(head=(m == "HEAD"))
                got.append((st, hd.get("x-request-id"), body))
        except (EOFError, OSError, ssl.SSLError) as e:
            t(False, "node %d: the connection ended after %d answers: %s" % (
                node, len(got), e))
        sts = [g[0] for g in got]
        t(sts == [w for *_, w in reqs], "node %d: statuses %r, expected "
          "%r" % (node, sts, [w for *_, w in reqs]))
        t([g[1] for g in got] == rids[:len(got)],
          "node %d: answers out of order (request ids %r)" % (
              node, [rids.index(g[1]) if g[1] in rids else g[1]
                     for g in got]))
        if len(got) == len(reqs):
            b2 = json.loads(got[2][2])
            b6 = json.loads(got[6][2])
            t(b2.get("owner") == "pipe" and b6.get("owner") == "piped",
              "node %d: pipelined reads saw %r then %r" % (
                  node, b2.get("owner"), b6.get("owner")))
            t(got[4][2] == b"", "HEAD carried a body")
            t(rd.at_eof(), "node %d: open after Connection: close" % node)
        s.close()
    # a burst of 200 tiny pipelined requests, on one connection
    s = tls_sock(c, c.port(fol[0]), c.env["ADMIN_CERT"], c.env["ADMIN_KEY"],
                 timeout=20)
    rids = [new_rid() for _ in range(200)]
    s.sendall(b"".join(req_bytes("GET", "/healthz", b"",
                                 {"X-Request-Id": rid}) for rid in rids))
    rd = Reader(s)
    seen = []
    try:
        for _ in rids:
            st, hd, _ = rd.response()
            seen.append(hd.get("x-request-id") if st == 200 else st)
    except (EOFError, OSError, ssl.SSLError) as e:
        seen.append(str(e))
    s.close()
    t(seen == rids, "200 pipelined requests: %d answered in order of %d" % (
        sum(1 for a, b in zip(seen, rids) if a == b), len(rids)))


def delivered(s):
    """Waits until everything sent on s reached the peer's kernel (no
    unacknowledged bytes), and reads what already arrived (TLS 1.3
    tickets): closing a socket with unread input makes the kernel send a
    reset and drop what it has not sent yet, and the request would never
    arrive whole. False when an answer had arrived already."""
    import fcntl
    import termios
    end = time.time() + 2
    while time.time() < end:
        n = struct.unpack("i", fcntl.ioctl(s.fileno(), termios.TIOCOUTQ,
                                           b"\0\0\0\0"))[0]
        if n == 0:
            break
        time.sleep(0.0005)
    s.setblocking(False)
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except (ssl.SSLWantReadError, BlockingIOError):
        pass
    except (ssl.SSLError, OSError):
        pass
    s.setblocking(True)
    return got == b""


def s_disconnect_pending_write(c, api, t, ctx):
    """A client that sends a POST /v1/certs (a bundle of 40, through a
    follower, and on the leader) and closes at once (FIN, half-close, RST)
    while the write is pending: the bundle is stored exactly once (each
    certificate once in the search, one audit import entry at its
    created_index, no other import entry), and every node keeps
    answering."""
    leader, fol = roles_of(c)
    c.wait_caught_up()
    start = api.get(leader, "/v1/cluster").b["commit_index"]
    modes = ["fin", "rst", "fin", "rst", "fin-half", "rst", "fin", "rst"]
    allpems = gencerts(40 * len(modes), "gone")
    sent = []
    early = 0
    for k, mode in enumerate(modes):
        pems = allpems[40 * k:40 * (k + 1)]
        node = fol[k % 2] if k < 6 else leader
        s = tls_sock(c, c.port(node), c.env["ADMIN_CERT"],
                     c.env["ADMIN_KEY"])
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(req_bytes("POST", "/v1/certs?owner=gone", "".join(pems),
                            {"Content-Type": "application/x-pem-file"}))
        early += not delivered(s)
        if mode == "rst":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
        elif mode == "fin-half":
            s.shutdown(socket.SHUT_WR)
        s.close()
        sent.append((node, mode, [fingerprint(p) for p in pems]))
    t(early <= len(modes) // 2, "the server answered %d of %d writes before "
      "their clients left: the scenario did not test pending writes" % (
          early, len(modes)))
    want = sorted(fp for _, _, fps in sent for fp in fps)
    deadline = time.time() + 20
    while time.time() < deadline:
        r = api.get(leader, "/v1/certs?owner=gone&limit=1000")
        if r.st == 200 and len(r.b["items"]) >= len(want):
            break
        time.sleep(0.2)
    time.sleep(1.0)  # a late duplicate would show up by now
    c.wait_caught_up()
    for node in range(1, c.n + 1):
        r = api.get(node, "/v1/certs?owner=gone&limit=1000")
        got = sorted(fps_of(r.b["items"])) if r.st == 200 else []
        t(got == want, "node %d: %d of %d certificates of abandoned writes "
          "stored, %d distinct" % (node, len(got), len(want), len(set(got))))
    created = {}
    for node, mode, fps in sent:
        idx = set()
        for fp in fps:
            r = api.get(leader, "/v1/certs/" + fp)
            if r.st == 200:
                idx.add(r.b["created_index"])
        if t(len(idx) == 1, "write through %d closed by %s: created at %r" %
             (node, mode, sorted(idx))):
            created[idx.pop()] = (node, mode)
    audit = api.get(leader, "/v1/audit?limit=1000&from=%d" % (start + 1))
    imports = [a for a in audit.b["items"] if a["command"] == "import"]
    t(sorted(a["index"] for a in imports) == sorted(created) and
      len(created) == len(sent) and
      all(a["result"] == "ok" for a in imports),
      "audit imports since %d: %r, expected one at each of %r" % (
          start, [(a["index"], a["result"]) for a in imports],
          sorted(created)))
    for i in range(1, c.n + 1):
        t(c.alive(i) and api.get(i, "/healthz").st == 200,
          "node %d still answers" % i)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_for(pred, secs, step=0.1):
    end = time.time() + secs
    while time.time() < end:
        try:
            v = pred()
            if v:
                return v
        except Exception:
            pass
        time.sleep(step)
    return None


def s_membership_and_transfer(c, api, t, ctx):
    """POST /v1/cluster/members through a follower adds a fourth node
    (started here, not in the member lines) that catches up, becomes a
    voter and serves; 409 for it again; DELETE /v1/cluster/members/4
    removes it; POST /v1/cluster/transfer moves leadership (to a named
    member, then to any); a refused join (409) must leave the member
    documents alone, so forwarding keeps working."""
    leader, fol = roles_of(c)
    f, f2 = fol
    cert, key = c.make_client_cert("certstore node 4", ca="cluster")
    ports = {k: free_port() for k in ("api", "raft", "http", "public")}
    conf = open(c.env["NODE1_CONF"]).read()
    d4 = os.path.join(c.var, "node4")
    os.makedirs(os.path.join(d4, "data"), exist_ok=True)
    repl = {"node-id": "4", "raft-address": "127.0.0.1:%d" % ports["raft"],
            "data-dir": os.path.join(d4, "data"),
            "api-listen": "127.0.0.1:%d" % ports["api"],
            "public-listen": "127.0.0.1:%d" % ports["public"],
            "http-listen": "127.0.0.1:%d" % ports["http"],
            "tls-cert": cert, "tls-key": key}
    lines = []
    for ln in conf.splitlines():
        k = ln.split(" ", 1)[0]
        lines.append("%s %s" % (k, repl[k]) if k in repl else ln)
    path = os.path.join(d4, "certstored.conf")
    open(path, "w").write("\n".join(lines) + "\n")
    c.env["NODE4_API"] = "https://127.0.0.1:%d" % ports["api"]
    c.env["NODE4_LOG"] = os.path.join(d4, "certstored.log")
    c.start(4, path)
    t.need(wait_for(lambda: api.get(4, "/healthz").st == 200, 15),
           "node 4 does not answer")
    r = api.get(4, "/readyz")
    t(r.st == 503 and isinstance(r.b, dict) and
      r.b.get("status") == "not ready",
      "node 4 is not ready before it joins: %r" % r)
    body = {"id": 4, "raft_address": "127.0.0.1:%d" % ports["raft"],
            "api_url": c.env["NODE4_API"], "site": "site-3",
            "http_url": "http://127.0.0.1:%d" % ports["http"],
            "public_url": "https://127.0.0.1:%d" % ports["public"]}
    r = api.post(f, "/v1/cluster/members", body, timeout=60)
    check_common(t, r, leader, "join through a follower")
    ms = {m["id"]: m for m in r.b.get("members", [])} if r.st == 200 else {}
    t(r.st == 200 and set(ms) == {1, 2, 3, 4} and
      ms[4].get("role") == "voter" and ms[4].get("site") == "site-3" and
      ms[4].get("api_url") == c.env["NODE4_API"],
      "join: %r" % r)
    t(wait_for(lambda: api.get(4, "/readyz").st == 200, 20),
      "node 4 never became ready")
    c.settle(nodes=[1, 2, 3, 4])
    hs = {i: api.state_hash(i) for i in (1, 2, 3, 4)}
    t(len(set(hs.values())) == 1, "node 4's state differs: %r" % hs)
    r = api.import_pem(4, gencerts(1, "node4")[0])
    t(r.st == 201 and r.h.get("x-certstore-node") == str(leader),
      "a write through node 4: %r" % r)
    r = api.post(f, "/v1/cluster/members", body, timeout=60)
    t(is_problem(r, 409), "join it again: %r" % r)
    r = api.call(leader, "DELETE", "/v1/cluster/members/4", timeout=30)
    t(r.st == 200 and {m["id"] for m in r.b.get("members", [])} ==
      {1, 2, 3}, "remove node 4: %r" % r)
    c.stop(4)
    r = api.call(f, "DELETE", "/v1/cluster/members/4", timeout=30)
    t(400 <= r.st < 500 and is_problem(r),
      "remove node 4 again: %r" % r)
    api.conns.pop((4, "admin"), None)
    # leadership transfer: to a named member through a follower, then any
    r = api.post(f, "/v1/cluster/transfer", {"to": f2}, timeout=30)
    t(r.st == 200 and r.b.get("status") == "transferred",
      "transfer to %d: %r" % (f2, r))
    t(wait_for(lambda: c.leader(timeout=2) == f2, 10),
      "leader is not %d after the transfer" % f2)
    r = api.post(f2, "/v1/cluster/transfer", {}, timeout=30)
    t(r.st == 200 and r.b.get("status") == "transferred",
      "transfer to any: %r" % r)
    t(wait_for(lambda: c.leader(timeout=2) != f2, 10),
      "leadership did not move from %d" % f2)
    new, nf = roles_of(c)
    r = api.import_pem(nf[0], gencerts(1, "after-transfer")[0])
    t(r.st == 201 and r.h.get("x-certstore-node") == str(new),
      "a write through a follower after the transfers: %r" % r)
    # a join refused with 409 (the leader's id) must not touch the
    # leader's member document (the followers forward writes by it)
    c.wait_caught_up()
    r = api.get(new, "/v1/cluster")
    before = {m["id"]: m for m in r.b["members"]}
    r = api.post(nf[0], "/v1/cluster/members", {
        "id": new, "raft_address": "127.0.0.1:1",
        "api_url": "https://127.0.0.1:1"}, timeout=30)
    t(is_problem(r, 409), "join with the leader's id: %r" % r)
    c.wait_caught_up()
    r = api.get(nf[0], "/v1/cluster")
    after = {m["id"]: m for m in r.b["members"]}
    t(after[new].get("api_url") == before[new].get("api_url") and
      after[new].get("site") == before[new].get("site") and
      after[new].get("http_url") == before[new].get("http_url"),
      "a refused join rewrote member %d: %r -> %r" % (
          new, before[new], after[new]))
    t0 = time.time()
    r = api.import_pem(nf[0], gencerts(1, "after-409")[0], timeout=20)
    t(r.st == 201, "a write through follower %d after the refused join: %r "
      "(%.1f s)" % (nf[0], r, time.time() - t0))


# ======================================================================
# group "limits": max-body-bytes 65536, header-timeout-ms 1000,
# max-connections 8
# ======================================================================

LIMITS_CONF = ("max-body-bytes 65536\nheader-timeout-ms 1000\n"
               "max-connections 8\n")
MAX_BODY = 65536


def s_oversized_bodies(c, api, t, ctx):
    """Bodies over max-body-bytes for every body type and JSON route, on
    the leader and through a follower: 413 problem+json (also chunked,
    and with Expect: 100-continue before any body is sent); exactly at
    the limit is not 413; no state change on any node."""
    leader, fol = roles_of(c)
    pems = gencerts(130, "big")
    bundle = "".join(pems)
    t.need(len(bundle) > MAX_BODY, "bundle of %d bytes" % len(bundle))
    r = api.import_pem(leader, pems[0])
    t.need(r.st == 201, "import: %r" % r)
    fp = fingerprint(pems[0])
    pad = "x" * (MAX_BODY + 10)
    P, J, D = "application/x-pem-file", "application/json", \
        "application/pkix-cert"
    cases = [
        ("PEM bundle", "POST", "/v1/certs", bundle, P),
        ("DER", "POST", "/v1/certs", pem_to_der(pems[1]) + os.urandom(
            MAX_BODY), D),
        ("JSON import", "POST", "/v1/certs", {"pem": bundle}, J),
        ("PATCH", "PATCH", "/v1/certs/" + fp, {"owner": pad}, J),
        ("revoke", "POST", "/v1/certs/%s/revoke" % fp, {"pad": pad}, J),
        ("revocations", "POST", "/v1/revocations", {"owner": pad}, J),
        ("profiles", "PUT", "/v1/profiles/big", dict(PROFILE,
                                                      description=pad), J),
        ("roles", "PUT", "/v1/roles/" + pct("CN=big"),
         {"role": "auditor", "profiles": [pad]}, J),
        ("members", "POST", "/v1/cluster/members",
         {"id": 9, "raft_address": "127.0.0.1:1", "api_url": "https://" +
          pad}, J),
        ("transfer", "POST", "/v1/cluster/transfer", {"pad": pad}, J),
        ("keys compromise", "POST", "/v1/keys/%s/compromise" % ZERO64,
         {"pad": pad}, J),
    ]
    # within the limit, Expect: 100-continue gets 100 first (a write)
    for node in (leader, fol[0]):
        s = tls_sock(c, c.port(node), c.env["ADMIN_CERT"],
                     c.env["ADMIN_KEY"], timeout=10)
        s.sendall(req_bytes("POST", "/v1/certs", b"", {
            "Content-Type": P, "Content-Length": str(len(pems[0])),
            "Expect": "100-continue"}))
        rd = Reader(s)
        try:
            first = int(rd.line().split()[1])
            while rd.line():
                pass
            s.sendall(pems[0].encode())
            st, _, _ = rd.response()
        except (EOFError, OSError, ssl.SSLError) as e:
            first, st = str(e), None
        s.close()
        t(first == 100 and st == 200,
          "Expect: 100-continue within the limit on %d: %s then %s" % (
              node, first, st))
    before = api.hashes()
    for label, method, path, body, ctype in cases:
        for node in (leader, fol[0]):
            r = api.call(node, method, path, body, ctype=ctype)
            t(is_problem(r, 413, http_layer=True),
              "%s on %d over the limit: %r" % (label, node, r))
    check_http_layer_type(t, r, "413 of the HTTP layer")
    # chunked, and Expect: 100-continue (413 instead of 100)
    for node in (leader, fol[0]):
        s = tls_sock(c, c.port(node), c.env["ADMIN_CERT"],
                     c.env["ADMIN_KEY"], timeout=10)
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p.encode())
                          for p in pems) + b"0\r\n\r\n"
        head = req_bytes("POST", "/v1/certs", b"", {
            "Content-Type": P, "Transfer-Encoding": "chunked"})
        try:
            s.sendall(head + chunks)
        except OSError:
            pass
        try:
            st, h, b = Reader(s).response()
        except (EOFError, OSError, ssl.SSLError) as e:
            st, h, b = str(e), {}, b""
        s.close()
        t(st == 413 and h.get("content-type", "").startswith(
            "application/problem+json"),
          "chunked body over the limit on %d: %s %r" % (node, st, b[:200]))
        s = tls_sock(c, c.port(node), c.env["ADMIN_CERT"],
                     c.env["ADMIN_KEY"], timeout=10)
        s.sendall(req_bytes("POST", "/v1/certs", b"", {
            "Content-Type": P, "Content-Length": str(len(bundle)),
            "Expect": "100-continue"}))
        try:
            rd = Reader(s)
            st = int(rd.line().split()[1])
        except (EOFError, OSError, ssl.SSLError) as e:
            st = str(e)
        s.close()
        t(st == 413, "Expect: 100-continue over the limit on %d: first "
          "answer %s" % (node, st))
    # the limit itself: MAX_BODY bytes pass the size check, one more not
    for n, want in ((MAX_BODY, 400), (MAX_BODY + 1, 413)):
        body = json.dumps({"owner": "o" * (n - 13)})
        t.need(len(body) == n, "body of %d bytes" % len(body))
        for node in (leader, fol[0]):
            r = api.call(node, "PATCH", "/v1/certs/" + fp, body, ctype=J)
            t(is_problem(r, want, http_layer=True),
              "PATCH of %d bytes on %d: %r, expected %d" % (
                  n, node, r, want))
    after = api.hashes()
    t(after == before, "state changed: %r -> %r" % (before, after))
    for i in range(1, c.n + 1):
        t(api.get(i, "/healthz").st == 200, "node %d answers" % i)


HEADER_TIMEOUT = 1.0


def slow_client(c, port, use_tls, mode, result):
    """One slow client; result gets (seconds until the server ended it,
    what it answered)."""
    t0 = time.time()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if use_tls and mode != "silent-tcp":
            ctx = ssl.create_default_context(cafile=c.env["CLUSTER_CACERT"])
            ctx.load_cert_chain(c.env["ADMIN_CERT"], c.env["ADMIN_KEY"])
            s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
        t0 = time.time()
        answer = b""
        if mode == "trickle":
            # a request that never completes: one header line at a time,
            # each well within any idle timeout
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            s.settimeout(0.2)
            k = 0
            while time.time() - t0 < 8:
                try:
                    s.sendall(b"X-Slow-%d: %s\r\n" % (k, b"a" * 10))
                    k += 1
                except OSError:
                    break
                try:
                    d = s.recv(4096)
                    if not d:
                        break
                    answer += d
                except socket.timeout:
                    continue
                except (ssl.SSLError, OSError):
                    break
        else:
            # silent: a TLS session (or bare TCP) that never sends a byte
            s.settimeout(8)
            try:
                while True:
                    d = s.recv(4096)
                    if not d:
                        break
                    answer += d
            except (socket.timeout, ssl.SSLError, OSError):
                pass
        result[(port, mode)] = (time.time() - t0, answer[:200])
        s.close()
    except Exception as e:
        result[(port, mode)] = (time.time() - t0, "error: %r" % e)


def s_slow_clients(c, api, t, ctx):
    """Slowloris on a follower's API (TLS) and plain listeners: a client
    trickling header lines, one that completes TLS and sends nothing, and
    a bare TCP connection that sends nothing are cut off after about
    header-timeout-ms (1 s here; a trickler may get 408) and get no 200,
    while another client keeps being served promptly throughout."""
    leader, fol = roles_of(c)
    node = fol[0]
    result = {}
    clients = [(c.port(node), True, "trickle"), (c.port(node), True, "silent"),
               (c.port(node), True, "silent-tcp"),
               (listener_port(c, node, "HTTP"), False, "trickle"),
               (listener_port(c, node, "HTTP"), False, "silent")]
    ths = [threading.Thread(target=slow_client, args=(c, p, tl, m, result),
                            daemon=True) for p, tl, m in clients]
    for th in ths:
        th.start()
    lat = []
    t0 = time.time()
    while any(th.is_alive() for th in ths) and time.time() - t0 < 12:
        a = time.time()
        r = api.get(node, "/healthz")
        lat.append((time.time() - a, r.st))
        time.sleep(0.1)
    for th in ths:
        th.join(2)
    print("    cut off after: %s" % ", ".join(
        "%s/%s %.2f s" % ("tls" if tl else "plain", m,
                          result.get((p, m), (0,))[0] or 0)
        for p, tl, m in clients))
    for p, tl, m in clients:
        secs, ans = result.get((p, m), (None, "no result"))
        where = "%s client on port %d (%s)" % (m, p, "TLS" if tl else
                                                "plain")
        if not t(isinstance(secs, float), "%s: %r" % (where, ans)):
            continue
        t(HEADER_TIMEOUT * 0.8 <= secs <= HEADER_TIMEOUT + 2.0,
          "%s: cut off after %.2f s, header timeout %.1f s" % (
              where, secs, HEADER_TIMEOUT))
        t(isinstance(ans, bytes) and (ans == b"" or
                                      ans.startswith(b"HTTP/1.1 408")),
          "%s: answered %r (expected nothing or 408)" % (where, ans))
    t(len(lat) >= 10 and all(st == 200 for _, st in lat) and
      max(x for x, _ in lat) < 0.5,
      "others were not served promptly meanwhile: %d calls, slowest "
      "%.3f s, statuses %r" % (len(lat), max((x for x, _ in lat),
                                             default=0),
                               sorted(set(st for _, st in lat))))


def open_count(api, node, listener):
    r = api.get(node, "/metrics")
    m = re.search(r'certstore_http_connections_open\{listener="%s"\} (\d+)'
                  % listener, r.b if isinstance(r.b, str) else "")
    return int(m.group(1)) if m else None


def s_abandoned_requests(c, api, t, ctx):
    """Clients that send part of a request (headers, or headers and part
    of the body) and then close their end: the connection can never
    complete, so the server must free it at the EOF, not hold the slot
    until header-timeout-ms / body-timeout-ms (30 s here) run out; on
    the unauthenticated plain listener that would let anyone fill
    max-connections without keeping a single socket open."""
    leader, fol = roles_of(c)
    node = fol[0]
    hport = listener_port(c, node, "HTTP")
    base = open_count(api, node, "http")
    for k in range(5):
        s = socket.create_connection(("127.0.0.1", hport), timeout=5)
        s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 1000\r\n\r\n0123456789")
        s.close()
    for k in range(5):
        s = tls_sock(c, listener_port(c, node, "PUBLIC"))
        s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 1000\r\n\r\n0123456789")
        delivered(s)
        s.close()
    time.sleep(1.5)
    n_http = open_count(api, node, "http")
    n_pub = open_count(api, node, "public")
    t(n_http == base and n_pub == 0,
      "1.5 s after 5+5 clients closed mid-body, the plain listener still "
      "holds %r connections (before: %r), the public one %r" % (
          n_http, base, n_pub))


def s_connection_cap(c, api, t, ctx):
    """max-connections 8 on a follower's API listener: connections beyond
    the cap get 503 problem+json and are closed, the held ones keep
    working, and a new connection is served again once one closes;
    certstore_http_connections_rejected_total counts the refusals."""
    leader, fol = roles_of(c)
    node = fol[0]
    api.close()
    time.sleep(0.3)
    rej0 = None
    r = api.get(node, "/metrics")
    m = re.search(r'certstore_http_connections_rejected_total\{listener='
                  r'"api"\} (\d+)', r.b)
    rej0 = int(m.group(1)) if m else None
    api.close()
    held, statuses = [], []
    try:
        for _ in range(12):
            s = tls_sock(c, c.port(node), c.env["ADMIN_CERT"],
                         c.env["ADMIN_KEY"])
            s.sendall(req_bytes("GET", "/healthz"))
            rd = Reader(s)
            st, h, b = rd.response()
            statuses.append(st)
            if st != 200:
                rr = R(st, h, json.loads(b) if b else None)
                t(is_problem(rr, 503, http_layer=True),
                  "refused connection: %s %r %r" % (st, h, b[:200]))
                check_http_layer_type(t, rr, "503 too many connections")
                t(rd.at_eof(3), "a refused connection stays open")
                s.close()
                break
            held.append((s, rd))
        n_ok = statuses.count(200)
        t(6 <= n_ok <= 8 and statuses[-1] == 503,
          "connections up to the cap of 8: %r" % statuses)
        for k, (s, rd) in enumerate(held):
            s.sendall(req_bytes("GET", "/healthz"))
            st, _, _ = rd.response()
            t(st == 200, "held connection %d after the refusal: %s" % (k, st))
        # one goes: a new one is served again
        s, rd = held.pop()
        s.close()

        def one():
            s2 = tls_sock(c, c.port(node), c.env["ADMIN_CERT"],
                          c.env["ADMIN_KEY"])
            s2.sendall(req_bytes("GET", "/healthz", b"",
                                 {"Connection": "close"}))
            st, _, _ = Reader(s2).response()
            s2.close()
            return st == 200
        t(wait_for(one, 5, 0.2), "no recovery after a connection closed")
    finally:
        for s, _ in held:
            s.close()
    t(wait_for(lambda: api.get(node, "/healthz").st == 200, 5),
      "no recovery after all closed")
    r = api.get(node, "/metrics")
    m = re.search(r'certstore_http_connections_rejected_total\{listener='
                  r'"api"\} (\d+)', r.b)
    t(m and rej0 is not None and int(m.group(1)) >= rej0 + 1,
      "rejected_total did not count: %r -> %r" % (
          rej0, m and m.group(1)))


# ======================================================================

GROUPS = [
    ("api", "", [s_health_listeners, s_cluster_and_metrics,
                 s_import_and_read, s_search_and_pagination,
                 s_expiring_and_rotation, s_patch_and_revoke, s_keys,
                 s_profiles_and_roles, s_audit_and_snapshot, s_role_matrix,
                 s_malformed_input, s_tls_client_certs, s_pipelining,
                 s_disconnect_pending_write, s_membership_and_transfer]),
    ("limits", LIMITS_CONF, [s_oversized_bodies, s_slow_clients,
                             s_abandoned_requests, s_connection_cap]),
]


def stop_all(c):
    """Stops every node this cluster object knows, by PID, all at once
    (each takes about 2 s to shut down), then lets the Cluster clean up."""
    import signal
    try:
        for i, pid in list(c.pids.items()):
            if pid and c.alive(i):
                os.kill(pid, signal.SIGTERM)
        for i, pid in list(c.pids.items()):
            if pid:
                c._wait_gone(i, 15)
    finally:
        c.close()


def main(names):
    known = {g: [s.__name__[2:] for s in ss] for g, _, ss in GROUPS}
    allnames = set(known) | {n for ns in known.values() for n in ns}
    bad = [n for n in names if n not in allnames]
    if bad:
        print("unknown scenario(s) %s; known: %s" % (
            ", ".join(bad), "; ".join("%s: %s" % (g, " ".join(ns))
                                      for g, ns in known.items())))
        return 2
    results = []
    t_all = time.time()
    for gname, conf, scenarios in GROUPS:
        todo = [s for s in scenarios
                if not names or gname in names or s.__name__[2:] in names]
        if not todo:
            continue
        t0 = time.time()
        print("=== group %s: starting a 3-node cluster" % gname, flush=True)
        c = None
        for attempt in range(3):
            # deploy/cluster.sh picks ports in 20000-40000, which overlaps
            # the kernel's ephemeral range: a node can fail to bind
            try:
                c = Cluster(3, extra_conf=conf)
                break
            except Exception as e:
                err = e
                print("    cluster start failed (%s), again" % str(e)[:200],
                      flush=True)
        if c is None:
            for s in todo:
                t = Check(s.__name__[2:])
                t.failures.append("cluster did not start: %s" % err)
                results.append((t, 0.0))
            continue
        api = Api(c)
        ctx = {"dir": tempfile.mkdtemp(prefix="test-api-", dir=c.var)}
        print("    up in %.1f s" % (time.time() - t0), flush=True)
        try:
            for s in todo:
                t = Check(s.__name__[2:])
                print("--- %s" % t.name, flush=True)
                t1 = time.time()
                try:
                    s(c, api, t, ctx)
                except Abort:
                    pass
                except Exception:
                    t.failures.append("exception: " +
                                      traceback.format_exc())
                    print("    ERROR:", traceback.format_exc(), flush=True)
                api.close()
                for i in range(1, c.n + 1):
                    t(c.alive(i), "node %d exited (status %r)" % (
                        i, c.exit_status(c.pids.get(i))))
                dt = time.time() - t1
                print("    %s: %d checks, %d failed, %.1f s" % (
                    "ok" if not t.failures else "FAILED", t.checks,
                    len(t.failures), dt), flush=True)
                results.append((t, dt))
        finally:
            api.close()
            stop_all(c)
        print("=== group %s: %.1f s" % (gname, time.time() - t0), flush=True)
    failed = [t for t, _ in results if t.failures]
    print("\nscenario                          checks  failed  seconds")
    for t, dt in results:
        print("%-32s %7d %7d %8.1f  %s" % (t.name, t.checks, len(t.failures),
                                          dt, "FAIL" if t.failures else "ok"))
    print("total %.1f s" % (time.time() - t_all))
    print("%d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

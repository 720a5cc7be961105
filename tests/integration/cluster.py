"""cluster.py - real certstored processes on 127.0.0.1, for the
integration tests and for drills (python3 stdlib only).

A Cluster is started with deploy/cluster.sh (throwaway PKI, free ports,
data in a temporary directory) and then driven directly: every process
it starts is recorded by PID and stopped by PID, also when a test fails
(close() in a finally, and an atexit hook). Nothing is ever stopped by
name.
"""

import atexit
import base64
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time

TOP = os.environ.get("CS_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("CS_BUILDDIR") or os.path.join(TOP, "build")

_live = []  # every Cluster not closed yet, for the atexit hook


def _cleanup():
    for c in list(_live):
        c.close()


atexit.register(_cleanup)
for _sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(_sig, lambda s, f: (_cleanup(), os._exit(128 + s)))


def gencerts(n, prefix="device"):
    """n distinct PEM certificates (tests/tools/gencerts)."""
    tool = os.environ.get("GENCERTS") or os.path.join(
        BUILD, "tests", "tools", "gencerts")
    out = subprocess.run([tool, str(n), prefix], check=True,
                         capture_output=True).stdout.decode()
    parts = out.split("-----END CERTIFICATE-----\n")
    return [p + "-----END CERTIFICATE-----\n" for p in parts if p.strip()]


def fingerprint(pem):
    import hashlib
    body = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
    return hashlib.sha256(base64.b64decode(body)).hexdigest()


class HTTPError(Exception):
    pass


class Cluster:
    def __init__(self, n=3, extra_conf="", wait=60, env=None):
        """n nodes; extra_conf: lines added to every node's config; env:
        extra environment for the nodes (e.g. LD_PRELOAD of libfaketime,
        SOFTHSM2_CONF), given to deploy/cluster.sh, which passes it on,
        and to every node start() starts."""
        self.n = n
        self.var = tempfile.mkdtemp(prefix="cs-cluster-")
        self.pids = {}
        self.children = {}  # pid -> Popen, for nodes this object started
        self.env = {}
        self.node_env = dict(env or {})
        _live.append(self)
        env = dict(os.environ, CS_VAR=self.var, CS_EXTRA_CONF=extra_conf,
                   CS_WAIT=str(wait), **self.node_env)
        certstored = os.environ.get("CERTSTORED")
        if certstored:
            env["CERTSTORED"] = certstored
        r = subprocess.run([os.path.join(TOP, "deploy", "cluster.sh"), "up",
                            str(n)], env=env, capture_output=True, text=True)
        self._read_env()
        if r.returncode != 0:
            logs = ""
            for i in range(1, n + 1):
                path = os.path.join(self.var, "node%d" % i,
                                    "certstored.log")
                if os.path.exists(path):
                    logs += "\n--- node %d log (end):\n%s" % (
                        i, open(path, errors="replace").read()[-2000:])
            self.close()
            raise RuntimeError("cluster up failed: " + r.stderr + r.stdout +
                               logs)
        self._tls = {}

    def _read_env(self):
        path = os.path.join(self.var, "cluster.env")
        if not os.path.exists(path):
            return
        for line in open(path):
            line = line.strip()
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                self.env[k] = v
        for i in range(1, self.n + 1):
            pid = self.env.get("NODE%d_PID" % i)
            if pid:
                self.pids[i] = int(pid)

    # ---- processes ----

    def exit_status(self, pid):
        """The exit status of a node this object started and that ended
        (None otherwise)."""
        p = self.children.get(pid)
        return p.poll() if p else None

    def alive(self, i):
        pid = self.pids.get(i)
        if not pid:
            return False
        if pid in self.children:
            return self.children[pid].poll() is None
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                self.pids[i] = None
                return False
        except ChildProcessError:
            pass  # started by cluster.sh: not our child
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self, i, sig=signal.SIGKILL):
        pid = self.pids.get(i)
        if pid and self.alive(i):
            os.kill(pid, sig)
        self._wait_gone(i, 15 if sig == signal.SIGTERM else 5)

    def _wait_gone(self, i, secs):
        pid = self.pids.get(i)
        end = time.time() + secs
        while pid and self.alive(i) and time.time() < end:
            time.sleep(0.05)
        if pid and self.alive(i):
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        self.pids[i] = None

    def stop(self, i):
        self.kill(i, signal.SIGTERM)

    def start(self, i, conf=None):
        conf = conf or self.env["NODE%d_CONF" % i]
        log = open(self.env.get("NODE%d_LOG" % i,
                                os.path.join(self.var, "node%d.log" % i)), "a")
        p = subprocess.Popen([self.env["CERTSTORED"], "-f", conf],
                             stdout=log, stderr=log,
                             env=dict(os.environ, **self.node_env))
        self.pids[i] = p.pid
        self.children[p.pid] = p
        return p.pid

    def close(self):
        # SIGTERM to every node first, then wait for each: they stop in
        # parallel (a node takes about 2 s to stop; one after the other,
        # a 3-node cluster took 6)
        for i in list(self.pids):
            if self.pids[i] and self.alive(i):
                try:
                    os.kill(self.pids[i], signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for i in list(self.pids):
            if self.pids[i]:
                try:
                    self._wait_gone(i, 15)
                except Exception:
                    pass
        if self in _live:
            _live.remove(self)
        if os.environ.get("CS_KEEP") is None:
            shutil.rmtree(self.var, ignore_errors=True)

    # ---- HTTPS ----

    def url(self, i):
        return self.env["NODE%d_API" % i]

    def port(self, i):
        return int(self.url(i).rsplit(":", 1)[1])

    def tls(self, cert=None, key=None):
        cert = cert or self.env["ADMIN_CERT"]
        key = key or self.env["ADMIN_KEY"]
        k = (cert, key)
        if k not in self._tls:
            ctx = ssl.create_default_context(cafile=self.env["CLUSTER_CACERT"])
            if cert != "-":
                ctx.load_cert_chain(cert, key)
            self._tls[k] = ctx
        return self._tls[k]

    def conn(self, i, timeout=15, cert=None, key=None):
        return http.client.HTTPSConnection(
            "127.0.0.1", self.port(i), timeout=timeout,
            context=self.tls(cert, key))

    def request(self, i, method, path, body=None, headers=None, conn=None,
                timeout=15, cert=None, key=None):
        """(status, headers dict, parsed JSON or raw text)."""
        own = conn is None
        c = conn or self.conn(i, timeout, cert, key)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
                headers = dict(headers or {},
                               **{"Content-Type": "application/json"})
            c.request(method, path, body=body, headers=headers or {})
            resp = c.getresponse()
            data = resp.read()
            h = {k.lower(): v for k, v in resp.getheaders()}
            ctype = h.get("content-type", "")
            if "json" in ctype and data:
                return resp.status, h, json.loads(data)
            return resp.status, h, data.decode(errors="replace")
        finally:
            if own:
                c.close()

    def get(self, i, path, **kw):
        return self.request(i, "GET", path, **kw)

    def import_pem(self, i, pem, conn=None, timeout=15, headers=None):
        h = {"Content-Type": "application/x-pem-file"}
        h.update(headers or {})
        return self.request(i, "POST", "/v1/certs", body=pem, headers=h,
                            conn=conn, timeout=timeout)

    # ---- cluster state ----

    def cluster(self, i):
        st, _, body = self.get(i, "/v1/cluster", timeout=5)
        if st != 200:
            raise HTTPError("GET /v1/cluster on %d: %s %s" % (i, st, body))
        return body

    def live(self):
        return [i for i in range(1, self.n + 1) if self.alive(i)]

    def leader(self, timeout=20, among=None):
        """The id of a ready leader that the live nodes agree on."""
        end = time.time() + timeout
        while time.time() < end:
            for i in among or self.live():
                try:
                    c = self.cluster(i)
                except Exception:
                    continue
                if c["state"] == "leader" and c["ready"]:
                    return c["node_id"]
            time.sleep(0.1)
        raise TimeoutError("no ready leader")

    def wait_caught_up(self, nodes=None, timeout=30):
        """Waits until the nodes report the same applied index as the
        leader's commit index; returns that index."""
        end = time.time() + timeout
        nodes = nodes or self.live()
        last = None
        while time.time() < end:
            try:
                l = self.leader(timeout=5, among=nodes)
                commit = self.cluster(l)["commit_index"]
                applied = [self.cluster(i)["applied_index"] for i in nodes]
                last = (commit, applied)
                if all(a >= commit for a in applied):
                    return commit
            except Exception:
                pass
            time.sleep(0.2)
        raise TimeoutError("nodes %s did not catch up: %s" % (nodes, last))

    def settle(self, quiet=3.5, timeout=60, nodes=None):
        """Waits until the leader's commit index has not moved for
        quiet seconds (the CRL job proposes a delta crl-delay, 2 s, after
        a revocation) and every node has applied it; returns the index."""
        end = time.time() + timeout
        last, since = None, time.time()
        while time.time() < end:
            try:
                idx = self.cluster(self.leader(timeout=5, among=nodes))[
                    "commit_index"]
            except Exception:
                idx = None
            if idx != last:
                last, since = idx, time.time()
            elif idx is not None and time.time() - since >= quiet:
                return self.wait_caught_up(nodes)
            time.sleep(0.25)
        raise TimeoutError("the commit index kept moving: %s" % last)

    def hashes_at_one_index(self, nodes, timeout=30):
        """{node: (applied index, state hash)}, read until every node
        answers at the same index (each answer is one atomic pair), so
        that a write in flight, such as a scheduled CRL, cannot make equal
        replicas look different; after timeout, what was read last."""
        end = time.time() + timeout
        while True:
            h = {i: self.state_hash(i) for i in nodes}
            if len(set(idx for idx, _ in h.values())) == 1 or \
                    time.time() > end:
                return h
            time.sleep(0.1)

    def state_hash(self, i):
        st, _, body = self.get(i, "/v1/cluster/state-hash", timeout=30)
        if st != 200:
            raise HTTPError("state-hash on %d: %s %s" % (i, st, body))
        return body["applied_index"], body["hash"]

    def make_client_cert(self, cn, ca="client"):
        """A client certificate for cn from the cluster's client CA (or
        "cluster" for a node-style one, or "foreign" for a CA of its
        own); returns (cert, key) paths."""
        pki = os.path.join(self.var, "pki")
        base = os.path.join(pki, cn.replace(" ", "_"))
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                        base + ".key", "-out", base + ".csr", "-subj",
                        "/CN=" + cn], check=True, capture_output=True)
        if ca == "foreign":
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                            "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                            "-keyout", base + "-ca.key", "-out",
                            base + "-ca.pem", "-subj", "/CN=foreign CA",
                            "-days", "30"], check=True, capture_output=True)
            ca_cert, ca_key = base + "-ca.pem", base + "-ca.key"
        else:
            ca_cert = os.path.join(pki, ca + "-ca.pem")
            ca_key = os.path.join(pki, ca + "-ca.key")
        ext = base + ".ext"
        open(ext, "w").write("extendedKeyUsage=clientAuth,serverAuth\n"
                             "subjectAltName=IP:127.0.0.1\n")
        subprocess.run(["openssl", "x509", "-req", "-in", base + ".csr",
                        "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
                        "-days", "30", "-out", base + ".pem", "-extfile",
                        ext], check=True, capture_output=True)
        return base + ".pem", base + ".key"


class Writers:
    """k threads importing fresh certificates as fast as they can, each
    on its own keep-alive connection, moving to another node when its
    node fails. Records every acknowledged import (201) with its time."""

    def __init__(self, cluster, k, certs):
        self.c = cluster
        self.certs = certs
        self.next = 0
        self.lock = threading.Lock()
        self.acked = []      # (time, fingerprint)
        self.failed = 0
        self.stop_flag = False
        self.threads = [threading.Thread(target=self._run, args=(w,),
                                         daemon=True) for w in range(k)]

    def _take(self):
        with self.lock:
            if self.next >= len(self.certs):
                return None
            pem = self.certs[self.next]
            self.next += 1
            return pem

    def _run(self, w):
        node = 1 + w % self.c.n
        conn = None
        while not self.stop_flag:
            pem = self._take()
            if pem is None:
                return
            while not self.stop_flag:
                try:
                    if conn is None:
                        conn = self.c.conn(node, timeout=15)
                    st, _, _ = self.c.import_pem(node, pem, conn=conn)
                except Exception:
                    st = None
                if st in (200, 201):
                    with self.lock:
                        self.acked.append((time.time(), fingerprint(pem)))
                    break
                # a failed write is not acknowledged: try this certificate
                # again elsewhere (the same request would also be fine)
                with self.lock:
                    self.failed += 1
                if conn is not None:
                    conn.close()
                    conn = None
                node = 1 + node % self.c.n
                time.sleep(0.05)

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_flag = True
        for t in self.threads:
            t.join(timeout=60)

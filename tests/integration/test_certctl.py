#!/usr/bin/env python3
"""test_certctl.py - the real certctl binary against a real cluster
(python3 stdlib only): every command, its table and its --json, the exit
statuses (0 done, 1 the server said no, 2 usage, 3 no answer), imports of
more than 1000 certificates in batches, settings from flags, environment
and config files, writes retried across a lost quorum, and the CA: roots
and intermediates made by certctl (a key file, or a key in SoftHSM2 when
it is installed), issuance and renewal checked with openssl verify, and
revocation seen by certctl ocsp on every node and in the delta CRL.

    tests/integration/test_certctl.py              # every scenario
    tests/integration/test_certctl.py settings     # one of them

Exit status 0 when every scenario passed. Processes are stopped by PID,
also on failure (cluster.py).
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import BUILD, Cluster, fingerprint, gencerts  # noqa: E402

CERTCTL = os.environ.get("CERTCTL") or os.path.join(BUILD, "certctl")

# settings certctl reads; the tests give each run exactly the ones meant
SETTING_NAMES = ("CERTCTL_URL", "CERTCTL_CACERT", "CERTCTL_CERT",
                 "CERTCTL_KEY", "CERTCTL_CONFIG", "CLUSTER_CACERT",
                 "ADMIN_CERT", "ADMIN_KEY")

# a directory with no var/cluster.env and a HOME with no config file, so
# that nothing but what a test gives reaches certctl
SANDBOX = tempfile.mkdtemp(prefix="certctl-test-")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Result:
    def __init__(self, args, p):
        self.args = args
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError:
            raise AssertionError("certctl %s: stdout is not one JSON "
                                 "document: %r" % (" ".join(self.args),
                                                   self.out[:400]))

    def __repr__(self):
        return "certctl %s -> %d\nstdout: %s\nstderr: %s" % (
            " ".join(self.args), self.rc, self.out[:2000], self.err[:2000])


def run(args, env=None, cwd=None, timeout=120, stdin=None):
    """certctl with a clean environment plus env."""
    e = {k: v for k, v in os.environ.items()
         if k not in SETTING_NAMES and not k.startswith("NODE")}
    e["HOME"] = SANDBOX
    e.update(env or {})
    p = subprocess.run([CERTCTL] + list(args), env=e, cwd=cwd or SANDBOX,
                       capture_output=True, text=True, timeout=timeout,
                       input=stdin)
    return Result(list(args), p)


def ctl(c, *args, **kw):
    """certctl with the cluster's cluster.env as its config file (and
    c.ctl_env, when a scenario sets one)."""
    env = dict(getattr(c, "ctl_env", {}))
    env.update(kw.pop("env", {}))
    env.setdefault("CERTCTL_CONFIG", os.path.join(c.var, "cluster.env"))
    return run(args, env=env, **kw)


def ok(r, what=""):
    check(r.rc == 0, "expected success %s: %r" % (what, r))
    return r


def fails(r, rc, text=None):
    check(r.rc == rc, "expected exit %d: %r" % (rc, r))
    if text is not None:
        check(text in r.err, "expected %r on stderr: %r" % (text, r))
    return r


def rows(out):
    """The data rows of a table (the header line dropped)."""
    lines = [l for l in out.splitlines() if l.strip()]
    return lines[1:]


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def closed_port():
    """A port on 127.0.0.1 where nothing listens."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def new_cluster(n=3, extra_conf="", env=None):
    """A Cluster; a start that failed is tried again, twice: cluster.sh
    picks free ports before the nodes bind them, and on a busy machine
    another process can take one in between."""
    for attempt in range(3):
        try:
            return Cluster(n, extra_conf, env=env)
        except RuntimeError as e:
            if attempt == 2:
                raise
            print("  cluster start failed, again: %s" % str(e)[:200])


def bundle(c, n, prefix):
    """A PEM bundle file of n new certificates; (path, pems)."""
    pems = gencerts(n, prefix)
    path = os.path.join(c.var, "%s.pem" % prefix)
    write(path, "".join(pems))
    return path, pems


# ---- scenarios ----------------------------------------------------------

def scenario_usage():
    """Help and usage errors need no server: exit 0 for help, 2 for a bad
    command line, and a bad value is found before any request (an
    unreachable URL would otherwise make it exit 3)."""
    r = ok(run(["-h"]))
    check("cluster join" in r.out and "audit verify" in r.out, r)
    r = ok(run(["help", "search"]))
    check(r.out.startswith("usage: certctl search"), r)
    r = ok(run(["search", "-h"]))
    check("--expires-before" in r.out and "--json" in r.out, r)
    ok(run(["key", "--help"]))
    fails(run([]), 2)
    fails(run(["frobnicate"]), 2, 'unknown command "frobnicate"')
    fails(run(["key"]), 2, "key what?")
    dead = ["--url", "https://127.0.0.1:%d" % closed_port()]
    fails(run(dead + ["search", "--bogus"]), 2, "unknown option --bogus")
    fails(run(dead + ["show", "abc"]), 2, "64 hexadecimal digits")
    fails(run(dead + ["search", "--expires-before", "tomorrow"]), 2,
          "RFC 3339")
    fails(run(dead + ["expiring", "--within", "3 days"]), 2, "duration")
    fails(run(dead + ["search", "--limit", "0"]), 2, "from 1 to 1000")
    fails(run(dead + ["search", "--status", "dead"]), 2, "valid, revoked")
    fails(run(dead + ["search", "--owner", "a", "--owner", "b"]), 2,
          "more than once")
    fails(run(dead + ["revoke", "0" * 64, "--reason", "oops"]), 2,
          "keyCompromise")
    fails(run(dead + ["revoke", "0" * 64, "--reason", "removeFromCRL"]), 2,
          "unhold")
    fails(run(dead + ["revoke-bulk"]), 2, "give --owner, --tag or --issuer")
    fails(run(dead + ["revoke-bulk", "--tag", "a", "--owner", "b"]), 2)
    fails(run(dead + ["set", "0" * 64]), 2, "nothing to change")
    fails(run(dead + ["key", "destroy", "0" * 64, "--location", "moon"]), 2)
    fails(run(dead + ["role", "put", "nobody", "admin"]), 2, "a subject")
    fails(run(dead + ["role", "put", "CN=x", "king"]), 2, "operator")
    fails(run(dead + ["cluster", "join", "4", "nowhere", "https://x"]), 2,
          "RAFT_ADDR")
    fails(run(dead + ["cluster", "remove", "zero"]), 2)
    fails(run(dead + ["cluster", "extra"]), 2, "too many arguments")
    fails(run(dead + ["show"]), 2, "missing arguments")
    fails(run(dead + ["--request-id", "xyz", "health"]), 2, "32 hexadecimal")
    fails(run(dead + ["--timeout", "soon", "health"]), 2, "--timeout")
    fails(run(dead + ["import", "/nonexistent.pem"]), 2, "/nonexistent.pem")
    garbage = write(os.path.join(SANDBOX, "garbage.pem"),
                    "-----BEGIN CERTIFICATE-----\nnot base64!\n"
                    "-----END CERTIFICATE-----\n")
    fails(run(dead + ["import", garbage]), 2, "garbage.pem")
    fails(run(dead + ["profile", "put", "p", garbage]), 2, "garbage.pem")
    # the CA commands (tests/unit/test_ctl.c has the full table)
    r = ok(run(["issuer", "create", "-h"]))
    check("must resolve on every node" in r.out.replace("\n", " "), r)
    key = os.path.join(SANDBOX, "never.key")
    fails(run(dead + ["issuer", "create", "my ca", "--subject", "CN=x",
                      "--key-file", key]), 2, 'NAME "my ca"')
    fails(run(dead + ["issuer", "create", "r", "--subject", "CN=x",
                      "--key-file", key, "--curve", "p521"]), 2,
          "p256 or p384")
    fails(run(dead + ["issue", "--profile", "default", "--key-out", key,
                      "--ip", "10.0.0.256"]), 2, "--ip")
    fails(run(dead + ["issue", "--profile", "default", "--csr", garbage]), 2,
          "garbage.pem")
    fails(run(dead + ["renew", "0" * 64, "--curve", "p384"]), 2,
          "--curve goes with --key-out")
    fails(run(dead + ["crl", "local-ca", "--http-url", "ftp://x"]), 2,
          "http://host:port")
    fails(run(dead + ["ocsp", "/nonexistent.pem"]), 2, "/nonexistent.pem")
    check(not os.path.exists(key), "no key made for a bad command line")
    # and with a good command line, that URL is exit 3
    fails(run(dead + ["health"]), 3, "no answer from")
    fails(run(["--node", "2", "health"]), 2, "NODE2_API is not set")
    fails(run(["health"]), 2, "no server")
    print("  help, usage errors (before any request), unreachable URL")


def scenario_commands():
    """Every call of docs/api.md through certctl, tables and --json.
    Reads are local, so a read right after a write goes to the leader
    (CERTCTL_URL) or says --consistent; --node N asks a follower."""
    c = new_cluster(3)
    try:
        c.ctl_env = {"CERTCTL_URL": c.url(c.leader())}
        commands_read(c)
        certs = commands_certs(c)
        commands_keys(c, certs)
        commands_profiles_roles(c)
        commands_audit(c)
        commands_cluster(c)
        commands_errors(c)
    finally:
        c.close()


def commands_read(c):
    r = ok(ctl(c, "--node", "1", "health"))
    check(r.out.startswith("node 1: ok"), r)
    check(ctl(c, "health", "--json").json()["status"] == "ok", "health")
    r = ok(ctl(c, "--node", "3", "ready"))
    check(": ready (leader " in r.out, r)
    check(ctl(c, "ready", "--json").json()["status"] == "ready", "ready")
    r = ok(ctl(c, "cluster"))
    check("leader" in r.out.splitlines()[0], r)
    table = rows(r.out.split("\n\n", 1)[1])
    check(len(table) == 3 and sum("*" in l.split()[2] for l in table) == 1,
          "one leader among 3 members: %r" % r)
    view = ctl(c, "--node", "2", "cluster", "--json").json()
    check(view["node_id"] == 2 and len(view["members"]) == 3, view)
    r = ok(ctl(c, "cluster", "hash"))
    check("state hash" in r.out, r)
    h = ctl(c, "cluster", "hash", "--json").json()
    check(len(h["hash"]) == 64, h)
    r = ok(ctl(c, "metrics"))
    check("certstore_raft_state" in r.out, r)
    ok(ctl(c, "--consistent", "--node", "2", "search", "--json"))
    print("  health, ready, cluster, cluster hash, metrics")


def commands_certs(c):
    path, pems = bundle(c, 5, "cmd")
    fps = [fingerprint(p) for p in pems]
    r = ok(ctl(c, "import", path, "--owner", "alice", "--tag", "ward-7",
               "--tag", "a,b"))
    check("imported 5, existing 0: 5 certificates in 1 request" in r.out, r)
    check(len(rows(r.out.split("imported 5")[0])) == 5, r)
    check(fps[0][:16] + "\u2026" in r.out and fps[0] not in r.out,
          "tables show short fingerprints: %r" % r)
    doc = ok(ctl(c, "import", path, "--json")).json()
    check(doc["imported"] == 0 and doc["existing"] == 5
          and len(doc["certificates"]) == 5, doc)
    check({x["result"] for x in doc["certificates"]} == {"existing"}, doc)
    # one DER file and PEM from standard input
    der = os.path.join(c.var, "one.der")
    body = "".join(l for l in pems[0].splitlines() if "-----" not in l)
    with open(der, "wb") as f:
        f.write(base64.b64decode(body))
    r = ok(ctl(c, "import", der, "-", stdin=pems[1]))
    check("imported 0, existing 2: 2 certificates" in r.out, r)

    # search: filters, paging, --all
    r = ok(ctl(c, "search", "--owner", "alice"))
    check(len(rows(r.out)) == 5 and "ward-7" in r.out, r)
    r = ok(ctl(c, "search", "--tag", "a,b", "--limit", "2"))
    check(len(rows(r.out)) == 2 and "more: --cursor" in r.err, r)
    d = ok(ctl(c, "search", "--tag", "ward-7", "--limit", "2",
               "--all", "--json")).json()
    check(sorted(x["fingerprint"] for x in d["items"]) == sorted(fps)
          and d["next_cursor"] is None, d)
    page = ctl(c, "search", "--owner", "alice", "--limit", "3",
               "--json").json()
    rest = ctl(c, "search", "--owner", "alice", "--cursor",
               page["next_cursor"], "--json").json()
    check(len(page["items"]) == 3 and len(rest["items"]) == 2, rest)
    d = ok(ctl(c, "search", "--san", "CMD-2.TEST", "--json")).json()
    check([x["fingerprint"] for x in d["items"]] == [fps[2]], d)
    first = d["items"][0]
    d = ok(ctl(c, "search", "--serial", first["serial"].upper(),
               "--key-id", first["key_id"], "--issuer", first["issuer"],
               "--subject", first["subject"], "--status", "valid",
               "--source", "imported", "--expires-after",
               "2000-01-01T00:00:00Z", "--expires-before",
               "2999-01-01T01:00:00+01:00", "--json")).json()
    check([x["fingerprint"] for x in d["items"]] == [fps[2]], d)
    d = ok(ctl(c, "search", "--profile", "none-such", "--json")).json()
    check(d["items"] == [], d)

    # show: full fingerprint, --pem, upper case with colons accepted
    r = ok(ctl(c, "show", fps[0]))
    check(fps[0] in r.out and "CN=cmd-0.test" in r.out, r)
    r = ok(ctl(c, "show", fps[0], "--pem"))
    check("-----BEGIN CERTIFICATE-----" in r.out, r)
    colons = ":".join(fps[0][i:i + 2] for i in range(0, 64, 2)).upper()
    d = ok(ctl(c, "show", colons, "--json")).json()
    check(d["fingerprint"] == fps[0] and "pem" not in d, d)
    check("pem" in ctl(c, "show", fps[0], "--pem", "--json").json(), "pem")

    # set
    d = ok(ctl(c, "set", fps[0], "--owner", "bob", "--tag", "x",
               "--tag", "y,z", "--json")).json()
    check(d["owner"] == "bob" and d["tags"] == ["x", "y,z"], d)
    r = ok(ctl(c, "set", fps[0], "--no-owner", "--no-tags"))
    check("owner         -" in r.out, r)
    d = ctl(c, "--node", "2", "--consistent", "show", fps[0],
            "--json").json()
    check(d["owner"] is None and d["tags"] == [], d)

    # revoke, hold and unhold, reasons and dates
    r = ok(ctl(c, "revoke", fps[1], "--reason", "certificateHold"))
    check("revoked (certificateHold)" in r.out, r)
    r = ok(ctl(c, "unhold", fps[1]))
    check("hold lifted, status valid" in r.out, r)
    d = ok(ctl(c, "revoke", fps[1], "--reason", "keyCompromise",
               "--invalidity-date", "2026-01-02T03:04:05+01:00",
               "--json")).json()
    check(d["status"] == "revoked"
          and d["revocation"]["reason"] == "keyCompromise"
          and d["revocation"]["invalidity_date"] == "2026-01-02T02:04:05Z",
          d)
    fails(ctl(c, "revoke", fps[1]), 1, "certctl: 409 Conflict: ")
    fails(ctl(c, "unhold", fps[2]), 1, "409 Conflict")

    # expiring, rotation-due
    r = ok(ctl(c, "expiring", "--within", "400d"))
    check(len(rows(r.out)) >= 4 and "EXPIRES IN" in r.out, r)
    d = ok(ctl(c, "expiring", "--within", "1h", "--json")).json()
    check(d["items"] == [], d)
    d = ok(ctl(c, "expiring", "--within", "2w", "--json")).json()
    check(d["items"] == [], d)
    d = ok(ctl(c, "expiring", "--limit", "1", "--within", "400d",
               "--all", "--json")).json()
    check(len(d["items"]) >= 4 and all(
        d["items"][i]["not_after"] <= d["items"][i + 1]["not_after"]
        for i in range(len(d["items"]) - 1)), "soonest first: %s" % d)
    ok(ctl(c, "rotation-due"))
    d = ok(ctl(c, "rotation-due", "--profile", "web", "--json")).json()
    check(d["items"] == [], d)

    # bulk revocation
    r = ok(ctl(c, "revoke-bulk", "--tag", "ward-7", "--reason",
               "superseded"))
    check("revoked 3 certificates" in r.out, r)  # 0 was retagged, 1 revoked
    d = ok(ctl(c, "revoke-bulk", "--owner", "alice", "--json")).json()
    check(d["revoked"] == 0, d)
    print("  import (PEM, DER, stdin), search, show, set, revoke, unhold, "
          "revoke-bulk, expiring, rotation-due")
    return fps


def commands_keys(c, fps):
    key_id = ctl(c, "show", fps[0], "--json").json()["key_id"]
    r = ok(ctl(c, "key", "show", key_id))
    check(key_id in r.out and "active" in r.out and "CN=cmd-0.test" in r.out,
          r)
    d = ok(ctl(c, "key", "show", key_id, "--json")).json()
    check(d["state"] == "active" and len(d["certificates"]) >= 5, d)
    r = ok(ctl(c, "key", "compromise", key_id, "--reason", "keyCompromise"))
    check("compromised: revoked" in r.out, r)
    d = ok(ctl(c, "key", "destroy", key_id, "--location", "hsm",
               "--json")).json()
    check(d["state"] == "destroyed" and d["location"] == "hsm", d)
    fails(ctl(c, "key", "destroy", key_id), 1, "409 Conflict")
    fails(ctl(c, "key", "show", "ab" * 32), 1, "404 Not Found")
    print("  key show, key compromise, key destroy")


def commands_profiles_roles(c):
    prof = write(os.path.join(c.var, "web.json"), json.dumps({
        "issuer": "CN=gencerts CA", "key_types": ["p256"],
        "max_validity": "90d", "rotate_after": "30d",
        "allow": {"dns": ["*.hospital.test"]},
        "key_usage": ["digitalSignature"], "eku": ["serverAuth"],
        "description": "web servers"}))
    r = ok(ctl(c, "profile", "put", "web", prof))
    check("*.hospital.test" in r.out, r)
    # cluster.sh made "default"; "web" joins it
    r = ok(ctl(c, "profile", "list"))
    check(len(rows(r.out)) == 2 and "web servers" in r.out, r)
    d = ok(ctl(c, "profile", "list", "--json")).json()
    check(sorted(p["name"] for p in d["items"]) == ["default", "web"], d)
    d = ok(ctl(c, "profile", "show", "web", "--json")).json()
    check(d["rotate_after"] == "30d", d)
    bad = write(os.path.join(c.var, "bad.json"), '{"issuer": 7}')
    fails(ctl(c, "profile", "put", "web", bad), 1, "400 Bad Request: issuer")
    r = ok(ctl(c, "profile", "delete", "web"))
    check("deleted profile web" in r.out, r)
    fails(ctl(c, "profile", "show", "web"), 1, "404 Not Found")
    fails(ctl(c, "profile", "delete", "web"), 1, "404 Not Found")

    # an identity whose "/", ",", "+" and " " must survive the URL
    ident = "CN=pump/admin+x,O=St. Mary's, Inc."
    r = ok(ctl(c, "role", "put", ident, "operator"))
    check(ident in r.out and "operator" in r.out, r)
    d = ok(ctl(c, "role", "put", "san:enroll.test", "enroller",
               "--profile", "web", "--profile", "vpn", "--json")).json()
    check(d["profiles"] == ["web", "vpn"], d)
    r = ok(ctl(c, "role", "list"))
    check(ident in r.out and "configuration" in r.out, r)
    d = ok(ctl(c, "role", "show", ident, "--json")).json()
    check(d["identity"] == ident and d["role"] == "operator", d)
    r = ok(ctl(c, "role", "delete", ident, "--json"))
    check(r.out == "", "a 204 has no JSON to print: %r" % r)
    fails(ctl(c, "role", "show", ident), 1, "404 Not Found")
    ok(ctl(c, "role", "delete", "san:enroll.test"))
    print("  profile put/list/show/delete, role put/list/show/delete")


def commands_audit(c):
    r = ok(ctl(c, "audit", "--limit", "3"))
    check(len(rows(r.out)) == 3 and "more: --from" in r.err, r)
    d = ok(ctl(c, "audit", "--all", "--limit", "7", "--json")).json()
    idx = [a["index"] for a in d["items"]]
    check(idx == sorted(idx) and len(idx) > 10 and d["next_cursor"] is None,
          "the whole log: %s" % idx)
    d2 = ok(ctl(c, "audit", "--from", str(idx[5]), "--json")).json()
    check(d2["items"][0]["index"] == idx[5], d2)
    d3 = ok(ctl(c, "audit", "--from", str(idx[-3]), "--all",
                "--json")).json()
    check([a["index"] for a in d3["items"]] == idx[-3:], d3)
    r = ok(ctl(c, "audit", "verify"))
    check(r.out.startswith("audit chain intact: "), r)
    check(ctl(c, "audit", "verify", "--json").json()["intact"] is True, "v")
    print("  audit (pages, --from, --all), audit verify")


def commands_cluster(c):
    snap = os.path.join(c.var, "backup.snapshot")
    r = ok(ctl(c, "snapshot", snap))
    size = os.path.getsize(snap)
    check(size > 0 and ("%d bytes in %s" % (size, snap)) in r.out, r)
    d = ok(ctl(c, "snapshot", snap + "2", "--json")).json()
    check(d["bytes"] == os.path.getsize(snap + "2") and d["index"] > 0, d)
    check(not [f for f in os.listdir(c.var) if ".snapshot." in f],
          "no temporary file left")
    old = c.leader()
    target = 1 + old % 3
    r = ok(ctl(c, "--node", str(target), "cluster", "transfer",
               str(target)))
    check("leadership transferred from node %d" % old in r.out, r)
    check(c.leader() == target, "node %d leads" % target)
    r = ok(ctl(c, "cluster", "transfer", "--timeout", "20"))
    check("leadership transferred" in r.out, r)
    fails(ctl(c, "cluster", "transfer", "9"), 1, "400 Bad Request")
    print("  snapshot, cluster transfer (to a node and to any)")


def commands_errors(c):
    unknown = "0" * 64
    r = fails(ctl(c, "show", unknown), 1,
              "certctl: 404 Not Found: no certificate with fingerprint "
              + unknown)
    check(r.out == "", r)
    r = fails(ctl(c, "show", unknown, "--json"), 1, "404 Not Found")
    check(r.json()["status"] == 404, "the problem on stdout with --json")
    fails(ctl(c, "show", unknown, "--badflag"), 2, "--badflag")
    fails(ctl(c, "--url", "https://127.0.0.1:%d" % closed_port(), "search"),
          3, "no answer from")
    # TLS: a CA that did not sign the node's certificate
    fails(ctl(c, "--cacert", c.env["CLIENT_CA"], "health"), 3, "TLS")
    # a client certificate without a role, then without any certificate:
    # the API listener wants one in the TLS handshake (no 401 comes)
    cert, key = c.make_client_cert("nobody")
    fails(ctl(c, "--cert", cert, "--key", key, "search"), 1,
          "403 Forbidden: no role is bound to identity \"CN=nobody\"")
    fails(ctl(c, "search", env={"CERTCTL_CONFIG": "/dev/null",
                                "NODE1_API": c.url(1),
                                "CLUSTER_CACERT": c.env["CLUSTER_CACERT"]}),
          3, "certificate required")
    # ...which the public listener does not
    ok(run(["--url", c.env["NODE1_PUBLIC"], "--cacert",
            c.env["CLUSTER_CACERT"], "health"]))
    print("  errors: 404 (text and --json), bad flag, unreachable, TLS, "
          "403, no client certificate")


def scenario_bulk_import():
    """More than 1000 certificates: batches of at most 1000, the summary
    right, a progress bar, one --json document; a retried command with
    --request-id replays each batch's first outcome."""
    c = new_cluster(3)
    try:
        c.ctl_env = {"CERTCTL_URL": c.url(c.leader())}  # reads at once
        n = 2345
        path, pems = bundle(c, n, "bulk")
        t = time.time()
        r = ok(ctl(c, "import", path, "--owner", "bulk", "--progress",
                   timeout=300))
        check("imported %d, existing 0: %d certificates in 3 requests"
              % (n, n) in r.out, r)
        check("%d/%d 100%%" % (n, n) in r.err and "1000/2345" in r.err,
              "progress on stderr: %r" % r.err[-300:])
        print("  %d certificates in 3 batches in %.1f s"
              % (n, time.time() - t))
        d = ok(ctl(c, "search", "--owner", "bulk", "--all",
                   "--json")).json()
        check(len(d["items"]) == n, "search --all: %d" % len(d["items"]))
        check({x["fingerprint"] for x in d["items"]}
              == {fingerprint(p) for p in pems}, "the same certificates")
        check(c.state_hash(1)[0] > 0, "hash")
        # again, in smaller batches, split over two files: all existing
        half = os.path.join(c.var, "half.pem")
        write(half, "".join(pems[:1200]))
        rest = os.path.join(c.var, "rest.pem")
        write(rest, "".join(pems[1200:]))
        doc = ok(ctl(c, "import", half, rest, "--batch", "500", "--json",
                     timeout=300)).json()
        check(doc["imported"] == 0 and doc["existing"] == n
              and len(doc["certificates"]) == n, "one document for 5 "
              "batches: %s" % {k: doc[k] for k in ("imported", "existing")})
        # no bar without --progress when stderr is not a terminal
        r = ok(ctl(c, "import", half))
        check("importing" not in r.err, r)
        # a broken certificate in the middle: nothing is sent
        broken = os.path.join(c.var, "broken.pem")
        more = gencerts(3, "late")
        write(broken, more[0] + more[1].replace("MII", "MIX", 1) + more[2])
        before = c.cluster(1)["fsm"]["certificates"]
        fails(ctl(c, "import", broken), 2, "broken.pem: block 2")
        check(c.cluster(1)["fsm"]["certificates"] == before, "none sent")
        # --request-id: batch i goes as id + i; a rerun replays outcomes
        rid = "00112233445566778899aabbccddeeff"
        path2, pems2 = bundle(c, 1500, "replay")
        r = ok(ctl(c, "import", path2, "--request-id", rid, timeout=300))
        check("imported 1500, existing 0" in r.out, r)
        r = ok(ctl(c, "import", path2, "--request-id", rid, timeout=300))
        check("imported 1500, existing 0" in r.out,
              "the first outcome, replayed: %r" % r)
        r = ok(ctl(c, "import", path2, timeout=300))
        check("imported 0, existing 1500" in r.out, r)
        print("  batches of 500 over two files, --json, no bar off a "
              "terminal, a broken bundle, --request-id replay")
    finally:
        c.close()


def scenario_settings():
    """Flags > environment > config file; the config file from --config,
    $CERTCTL_CONFIG, ./var/cluster.env or ~/.config/certctl/config."""
    c = new_cluster(3)
    try:
        e = c.env
        env_file = os.path.join(c.var, "cluster.env")
        dead = "https://127.0.0.1:%d" % closed_port()
        certctl_env = {"CERTCTL_URL": e["NODE2_API"],
                       "CERTCTL_CACERT": e["CLUSTER_CACERT"],
                       "CERTCTL_CERT": e["ADMIN_CERT"],
                       "CERTCTL_KEY": e["ADMIN_KEY"]}
        r = ok(run(["health"], env=certctl_env))
        check(r.out.startswith("node 2:"), r)
        cluster_env = {"NODE1_API": e["NODE1_API"],
                       "NODE3_API": e["NODE3_API"],
                       "CLUSTER_CACERT": e["CLUSTER_CACERT"],
                       "ADMIN_CERT": e["ADMIN_CERT"],
                       "ADMIN_KEY": e["ADMIN_KEY"]}
        check(ok(run(["health"], env=cluster_env)).out.startswith("node 1"),
              "NODE1_API")
        r = ok(run(["--node", "3", "health"], env=cluster_env))
        check(r.out.startswith("node 3"), r)
        # the config file, four ways
        r = ok(run(["--config", env_file, "--node", "2", "health"]))
        check(r.out.startswith("node 2"), r)
        ok(run(["cluster"], env={"CERTCTL_CONFIG": env_file}))
        work = tempfile.mkdtemp(dir=SANDBOX)
        os.makedirs(os.path.join(work, "var"))
        shutil.copy(env_file, os.path.join(work, "var", "cluster.env"))
        r = ok(run(["--node", "3", "health"], cwd=work))
        check(r.out.startswith("node 3"), r)
        home = tempfile.mkdtemp(dir=SANDBOX)
        os.makedirs(os.path.join(home, ".config", "certctl"))
        write(os.path.join(home, ".config", "certctl", "config"),
              "# certctl settings\nexport CERTCTL_URL=\"%s\"\n"
              "CERTCTL_CACERT=%s\nCERTCTL_CERT='%s'\nCERTCTL_KEY=%s\n"
              % (e["NODE3_API"], e["CLUSTER_CACERT"], e["ADMIN_CERT"],
                 e["ADMIN_KEY"]))
        r = ok(run(["health"], env={"HOME": home}))
        check(r.out.startswith("node 3"), r)
        # ./var/cluster.env comes before ~/.config
        r = ok(run(["health"], env={"HOME": home}, cwd=work))
        check(r.out.startswith("node 1"), r)
        # paths relative to the file's directory
        rel = write(os.path.join(c.var, "relative.env"),
                    "NODE1_API=%s\nCLUSTER_CACERT=pki/cluster-ca.pem\n"
                    "ADMIN_CERT=pki/admin.pem\nADMIN_KEY=pki/admin.key\n"
                    % e["NODE2_API"])
        r = ok(run(["--config", rel, "health"]))
        check(r.out.startswith("node 2"), r)
        # precedence: the environment over the file, flags over both
        fails(run(["health"], env={"CERTCTL_CONFIG": env_file,
                                   "CERTCTL_URL": dead}), 3, dead)
        r = ok(run(["--url", e["NODE2_API"], "health"],
                   env={"CERTCTL_CONFIG": env_file, "CERTCTL_URL": dead}))
        check(r.out.startswith("node 2"), r)
        r = ok(run(["--node", "3", "health"],
                   env={"CERTCTL_CONFIG": env_file, "CERTCTL_URL": dead}))
        check(r.out.startswith("node 3"), r)
        fails(run(["health"], env={"CERTCTL_CONFIG": env_file,
                                   "CERTCTL_CACERT": e["CLIENT_CA"]}), 3,
              "TLS")
        ok(run(["--cacert", e["CLUSTER_CACERT"], "health"],
               env={"CERTCTL_CONFIG": env_file,
                    "CERTCTL_CACERT": e["CLIENT_CA"]}))
        # bad settings are usage errors
        fails(run(["--config", "/nonexistent.env", "health"]), 2,
              "/nonexistent.env")
        bad = write(os.path.join(c.var, "bad.env"), "NODE1_API=x\nnonsense\n")
        fails(run(["--config", bad, "health"]), 2, "line 2")
        fails(run(["--config", env_file, "--node", "9", "health"]), 2,
              "NODE9_API")
        fails(run(["--config", env_file, "--url", "ftp://x", "health"]), 2,
              "https://")
        fails(run(["--config", env_file, "--cert", "/nonexistent", "health"]),
              2, "/nonexistent")
        print("  environment (certctl and cluster.env names), --config, "
              "$CERTCTL_CONFIG, ./var/cluster.env, ~/.config, relative "
              "paths, precedence")
    finally:
        c.close()


def scenario_failover():
    """The tour: kill -9 the leader by its PID, watch `certctl cluster`
    show a new leader, write through it. Then lose the quorum: a write
    gets 503 + Retry-After and certctl retries it, with the same request
    id, until the quorum is back."""
    c = new_cluster(3, "write-timeout-ms 1500\n")
    try:
        old = c.leader()
        other = 1 + old % 3
        c.kill(old, signal.SIGKILL)  # kill -9 $NODE<old>_PID
        deadline = time.time() + 20
        new = None
        while time.time() < deadline:
            r = ctl(c, "--node", str(other), "cluster", "--json")
            if r.rc == 0:
                v = r.json()
                if v["leader_id"] not in (None, old):
                    new = v["leader_id"]
                    break
            time.sleep(0.2)
        check(new is not None, "no new leader after killing %d" % old)
        r = ok(ctl(c, "--node", str(other), "cluster"))
        check("leader %d" % new in r.out.splitlines()[0], r)
        path, _ = bundle(c, 3, "after")
        r = ok(ctl(c, "--node", str(other), "import", path))
        check("imported 3" in r.out, r)
        print("  killed leader %d; node %d leads; imports go on" % (old, new))
        c.start(old)
        c.wait_caught_up()

        # lose the quorum: only `keep` runs
        keep = c.leader()
        down = [i for i in (1, 2, 3) if i != keep]
        for i in down:
            c.kill(i)
        path, pems = bundle(c, 1, "retry")
        rid = "feedfacefeedfacefeedfacefeedface"
        args = [CERTCTL, "--config", os.path.join(c.var, "cluster.env"),
                "--node", str(keep), "--timeout", "60", "--request-id", rid,
                "import", path]
        e = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
        p = subprocess.Popen(args, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=e,
                             cwd=SANDBOX)
        try:
            time.sleep(4)  # two 503s at least (1.5 s each, then 1 s)
            if p.poll() is not None:
                raise AssertionError("certctl gave up: %s"
                                     % (p.communicate(),))
            c.start(down[0])
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == 0 and "imported 1, existing 0" in out,
              "retried until the quorum was back: %d %r %r"
              % (p.returncode, out, err))
        # the id was the one given: the same command replays it
        r = ok(ctl(c, "--node", str(keep), "--request-id", rid, "import",
                   path))
        check("imported 1, existing 0" in r.out, r)
        # without a quorum and with a short --timeout: the 503 itself
        c.kill(down[0])
        r = fails(ctl(c, "--node", str(keep), "--timeout", "4", "set",
                      fingerprint(pems[0]), "--owner", "x"), 1,
                  "503 Service Unavailable")
        print("  a write retried over a lost quorum with its request id; "
              "503 reported after --timeout")
    finally:
        c.close()


def scenario_join():
    """cluster join adds a node started with an empty data dir (a spare,
    then a voter); cluster remove takes it out."""
    c = new_cluster(3)
    try:
        cert, key = c.make_client_cert("certstore node 4", ca="cluster")
        conf = open(c.env["NODE1_CONF"]).read()
        raft, api, http = closed_port(), closed_port(), closed_port()
        pub = closed_port()
        d = os.path.join(c.var, "node4")
        os.makedirs(os.path.join(d, "data"))
        repl = {"node-id": "node-id 4",
                "raft-address": "raft-address 127.0.0.1:%d" % raft,
                "data-dir": "data-dir " + os.path.join(d, "data"),
                "api-listen": "api-listen 127.0.0.1:%d" % api,
                "public-listen": "public-listen 127.0.0.1:%d" % pub,
                "http-listen": "http-listen 127.0.0.1:%d" % http,
                "tls-cert": "tls-cert " + cert, "tls-key": "tls-key " + key}
        lines = [repl.get(l.split(" ", 1)[0], l) for l in conf.splitlines()]
        write(os.path.join(d, "certstored.conf"), "\n".join(lines) + "\n")
        c.env["NODE4_LOG"] = os.path.join(d, "certstored.log")
        c.n = 4
        c.start(4, os.path.join(d, "certstored.conf"))
        time.sleep(0.5)
        r = ok(ctl(c, "cluster", "join", "4", "127.0.0.1:%d" % raft,
                   "https://127.0.0.1:%d" % api, "--site", "site-3",
                   "--http-url", "http://127.0.0.1:%d" % http,
                   "--timeout", "60"))
        line = [l for l in rows(r.out.split("\n\n", 1)[1])
                if l.split()[0] == "4"]
        check(line and "voter" in line[0] and "site-3" in line[0], r)
        fails(ctl(c, "cluster", "join", "4", "127.0.0.1:%d" % raft,
                  "https://127.0.0.1:%d" % api), 1, "409 Conflict")
        d = ok(ctl(c, "--url", "https://127.0.0.1:%d" % api, "cluster",
                   "--json")).json()
        check(d["node_id"] == 4, d)
        d = ok(ctl(c, "--node", "2", "cluster", "remove", "4",
                   "--json")).json()
        check(4 not in [m["id"] for m in d["members"]], d)
        print("  node 4 joined as a voter and was removed")
    finally:
        c.close()


SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


def softhsm_token(d):
    """A SoftHSM2 token holding a P-256 key: (the nodes' environment, the
    pkcs11: URI with its PIN), or None when SoftHSM2 or opensc is not
    installed."""
    if not (shutil.which("softhsm2-util") and shutil.which("pkcs11-tool")
            and os.path.exists(SOFTHSM_MODULE)):
        return None
    tokens = os.path.join(d, "tokens")
    os.makedirs(tokens)
    conf = write(os.path.join(d, "softhsm2.conf"),
                 "directories.tokendir = %s\nobjectstore.backend = file\n"
                 "log.level = ERROR\n" % tokens)
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    pin = "4711"
    for args in (["softhsm2-util", "--init-token", "--free", "--label",
                  "cs-ctl", "--so-pin", "12345678", "--pin", pin],
                 ["pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label",
                  "cs-ctl", "--login", "--pin", pin, "--keypairgen",
                  "--key-type", "EC:prime256v1", "--label", "root-key",
                  "--id", "01"]):
        subprocess.run(args, env=env, check=True, capture_output=True)
    # the PIN in a file of its own (mode 0600), never in the key_ref that
    # is replicated; a second file with a wrong PIN
    for name, p in (("hsm.pin", pin), ("wrong.pin", "0000")):
        path = os.path.join(d, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(p + "\n")
    return ({"SOFTHSM2_CONF": conf},
            "pkcs11:token=cs-ctl;object=root-key;type=private?pin-source=file:"
            + os.path.join(d, "hsm.pin"))


def openssl_verify(ca, cert, untrusted=None):
    args = ["openssl", "verify", "-x509_strict", "-CAfile", ca]
    if untrusted:
        args += ["-untrusted", untrusted]
    p = subprocess.run(args + [cert], capture_output=True, text=True)
    check(p.returncode == 0 and p.stdout.strip() == cert + ": OK",
          "openssl verify %s: %s%s" % (cert, p.stdout, p.stderr))


def wait_for(what, fn, timeout=15, every=0.2):
    end = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(every)


def scenario_ca():
    """The CA through certctl: a root with a key file and an intermediate
    under it, a profile on the intermediate, certificates issued with
    --key-out and --csr, renewed, verified with openssl verify, revoked
    and seen revoked by certctl ocsp on every node and in the delta CRL;
    profile violations listed; key files 0600 and never overwritten; a
    root whose key is in SoftHSM2; and the README's tour of the CA."""
    d = tempfile.mkdtemp(dir=SANDBOX)
    hsm = softhsm_token(d)
    c = new_cluster(3, "crl-delay 1s\n", env=hsm[0] if hsm else None)
    try:
        c.ctl_env = {"CERTCTL_URL": c.url(c.leader())}
        ca_issuers(c, d)
        ca_issue(c, d)
        ca_revoke(c, d)
        ca_tour(c, d)
        ca_forged(c, d)
        if hsm:
            ca_hsm(c, d, hsm[1], hsm[0])
        else:
            print("  SoftHSM2 or pkcs11-tool not installed: no HSM root")
    finally:
        c.close()


def mode(path):
    return os.stat(path).st_mode & 0o777


def ca_issuers(c, d):
    root_key = os.path.join(d, "root.key")
    r = ok(ctl(c, "issuer", "create", "root-t", "--subject",
               "CN=certctl test root,O=Hospital", "--key-file", root_key,
               "--days", "3650", "--description", "test root"))
    check("key file      " + root_key in r.out, r)
    check(mode(root_key) == 0o600, "root key mode %o" % mode(root_key))
    root = ok(ctl(c, "issuer", "show", "root-t", "--json")).json()
    check(root["key"] == "ok" and root["key_ref"] == "file:" + root_key
          and root["subject"] == "CN=certctl test root,O=Hospital"
          and root["path_len"] is None, root)
    write(os.path.join(d, "root.pem"), root["certificate"])
    # the same name again, the same key file again: refused, nothing made
    fails(ctl(c, "issuer", "create", "root-t", "--subject", "CN=again",
              "--key-file", os.path.join(d, "again.key")), 1,
          "issuer root-t exists")
    check(not os.path.exists(os.path.join(d, "again.key")), "again.key")
    before = open(root_key).read()
    fails(ctl(c, "issuer", "create", "other", "--subject", "CN=other",
              "--key-file", root_key), 2, "never overwrites")
    check(open(root_key).read() == before, "the root key untouched")
    # the intermediate: a CSR made here, signed by the cluster
    sub_key = os.path.join(d, "sub.key")
    d_sub = ok(ctl(c, "issuer", "create", "sub-t", "--subject",
                   "CN=certctl test devices,O=Hospital", "--key-file",
                   sub_key, "--parent", "root-t", "--path-len", "0",
                   "--days", "1000", "--curve", "p384", "--json")).json()
    check(d_sub["path_len"] == 0 and d_sub["key"] == "ok"
          and mode(sub_key) == 0o600, d_sub)
    sub = ok(ctl(c, "issuer", "show", "sub-t", "--json")).json()
    write(os.path.join(d, "sub.pem"), sub["certificate"])
    openssl_verify(os.path.join(d, "root.pem"), os.path.join(d, "sub.pem"))
    # a key file the nodes refuse: the server says why, the key goes
    fails(ctl(c, "issuer", "create", "sub-x", "--subject", "CN=x",
              "--key-file", os.path.join(d, "x.key"), "--parent", "nosuch"),
          1, 'no issuer "nosuch"')
    check(not os.path.exists(os.path.join(d, "x.key")), "x.key removed")
    # every node resolves both keys
    c.wait_caught_up()
    for i in (1, 2, 3):
        r = ok(ctl(c, "--node", str(i), "issuer", "list"))
        lines = {l.split()[0]: l for l in rows(r.out)}
        check(set(lines) >= {"local-ca", "root-t", "sub-t"}, r)
        r = ok(ctl(c, "--node", str(i), "issuer", "show", "sub-t"))
        check("key           ok (on node %d)" % i in r.out, r)
    # a profile on the intermediate (certctl profile put)
    prof = write(os.path.join(d, "wards.json"), json.dumps({
        "issuer": "sub-t", "key_types": ["p256", "p384", "ed25519"],
        "max_validity": "30d", "allow": {"dns": ["*.wards.test"],
                                         "ip": ["10.7.0.0/16"]},
        "key_usage": ["digitalSignature"], "eku": ["clientAuth"],
        "description": "ward devices"}))
    ok(ctl(c, "profile", "put", "wards", prof))
    print("  root (key file 0600) and intermediate (CSR, path_len 0) made "
          "by certctl, both keys ok on 3 nodes; exists / overwrite / bad "
          "parent refused")


def ca_issue(c, d):
    chain = os.path.join(d, "chain.pem")
    root = os.path.join(d, "root.pem")
    dev1, dev1_key = os.path.join(d, "dev1.pem"), os.path.join(d, "dev1.key")
    r = ok(ctl(c, "issue", "--profile", "wards", "--key-out", dev1_key,
               "--dns", "pump-1.wards.test", "--ip", "10.7.0.1",
               "--out", dev1, "--chain-out", chain, "--owner", "ward-7",
               "--tag", "pumps"))
    check("names         dns:pump-1.wards.test, ip:10.7.0.1" in r.out
          and "subject       CN=pump-1.wards.test" in r.out, r)
    check(mode(dev1_key) == 0o600 and mode(dev1) & 0o044, "modes")
    openssl_verify(root, dev1, untrusted=chain)
    c.fp1 = fingerprint(open(dev1).read())
    check(c.fp1 in r.out, r)
    d1 = ok(ctl(c, "show", c.fp1, "--json")).json()
    check(d1["owner"] == "ward-7" and d1["tags"] == ["pumps"]
          and d1["profile"] == "wards" and d1["source"] == "issued", d1)
    # a request made with openssl: P-384, 7 days, the PEM on stdout
    csr = os.path.join(d, "dev2.csr")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-384", "-nodes", "-keyout",
                    os.path.join(d, "dev2.key"), "-subj",
                    "/CN=pump-2.wards.test", "-addext",
                    "subjectAltName=DNS:pump-2.wards.test", "-out", csr],
                   check=True, capture_output=True)
    doc = ok(ctl(c, "issue", "--profile", "wards", "--csr", csr,
                 "--validity", "7d", "--json")).json()
    dev2 = write(os.path.join(d, "dev2.pem"), doc["certificate"])
    openssl_verify(root, dev2, untrusted=chain)
    days = (time.mktime(time.strptime(doc["cert"]["not_after"],
                                      "%Y-%m-%dT%H:%M:%SZ"))
            - time.mktime(time.strptime(doc["cert"]["not_before"],
                                        "%Y-%m-%dT%H:%M:%SZ"))) / 86400
    check(days == 7 and doc["cert"]["key_type"] == "ec"
          and doc["cert"]["key_bits"] == 384, doc["cert"])
    c.dev2 = dev2
    r = ok(ctl(c, "issue", "--profile", "wards", "--csr", csr))
    check("-----BEGIN CERTIFICATE-----" in r.out, "no --out: the PEM: %r" % r)
    # every rule broken is listed; the key made for it goes again
    bad_key = os.path.join(d, "bad.key")
    r = fails(ctl(c, "issue", "--profile", "wards", "--key-out", bad_key,
                  "--dns", "evil.example.com", "--ip", "192.168.1.1",
                  "--validity", "90d"), 1, "400 Bad Request")
    lines = [l for l in r.err.splitlines() if l.startswith("  - ")]
    check(len(lines) == 3 and "evil.example.com" in lines[0]
          and "192.168.1.1" in lines[1] and "90d" in lines[2], r)
    check(not os.path.exists(bad_key), "the refused key was removed")
    # with --json the problem document is on stdout, violations and all
    r = fails(ctl(c, "issue", "--profile", "wards", "--key-out", bad_key,
                  "--dns", "x.other.test", "--json"), 1)
    p = r.json()
    check(p["status"] == 400 and p["profile"] == "wards"
          and len(p["violations"]) == 1 and "x.other.test" in r.err, r)
    check(not os.path.exists(bad_key), "the refused key was removed")
    fails(ctl(c, "issue", "--profile", "nosuch", "--csr", csr), 1,
          '404 Not Found: no profile "nosuch"')
    # renewal: a new key made here (ed25519), then the same key
    dev1b, dev1b_key = (os.path.join(d, "dev1b.pem"),
                        os.path.join(d, "dev1b.key"))
    r = ok(ctl(c, "renew", c.fp1, "--key-out", dev1b_key, "--curve",
               "ed25519", "--out", dev1b, "--validity", "10d"))
    openssl_verify(root, dev1b, untrusted=chain)
    d1b = ok(ctl(c, "show", fingerprint(open(dev1b).read()),
                 "--json")).json()
    check(d1b["sans"] == d1["sans"] and d1b["key_type"] == "ed25519"
          and d1b["owner"] == "ward-7" and d1b["key_id"] != d1["key_id"]
          and mode(dev1b_key) == 0o600, d1b)
    d1c = ok(ctl(c, "renew", c.fp1, "--json")).json()
    check(d1c["cert"]["key_id"] == d1["key_id"]
          and d1c["fingerprint"] not in (c.fp1, d1b["fingerprint"]), d1c)
    fails(ctl(c, "renew", "ab" * 32), 1, "404 Not Found")
    print("  issued with --key-out (0600) and --csr, chains verified by "
          "openssl; violations listed (3) and the key removed; renewed "
          "with a new ed25519 key and with the same key")


def ca_revoke(c, d):
    dev1 = os.path.join(d, "dev1.pem")
    serial = ok(ctl(c, "show", c.fp1, "--json")).json()["serial"]
    r = ok(ctl(c, "ocsp", dev1))
    check("status        good" in r.out, r)
    ok(ctl(c, "revoke", c.fp1, "--reason", "keyCompromise"))
    c.wait_caught_up()
    for i in (1, 2, 3):
        a = ok(ctl(c, "--node", str(i), "ocsp", dev1, "--json")).json()
        check(a["status"] == "revoked" and a["reason"] == "keyCompromise"
              and a["serial"] == serial
              and a["responder"] == "urn:certstore:node:%d" % i, a)
        g = ok(ctl(c, "--node", str(i), "ocsp", c.dev2, "--issuer",
                   os.path.join(d, "sub.pem"), "--json")).json()
        check(g["status"] == "good", g)
    r = ok(ctl(c, "--node", "2", "ocsp", dev1))
    check("status        revoked at " in r.out
          and "(keyCompromise)" in r.out, r)
    # the issuer given must be the one
    fails(ctl(c, "ocsp", dev1, "--issuer", os.path.join(d, "root.pem")), 2,
          "did not issue")

    def delta_lists(i):
        r = ctl(c, "--node", str(i), "crl", "sub-t", "--delta", "--json")
        if r.rc == 0 and serial in [e["serial"] for e in r.json()["entries"]]:
            return r.json()
    for i in (1, 2, 3):
        doc = wait_for("node %d: the delta CRL lists %s" % (i, serial),
                       lambda: delta_lists(i))
        check(doc["delta"] and doc["signature"] == "verified"
              and [e["reason"] for e in doc["entries"]
                   if e["serial"] == serial] == ["keyCompromise"], doc)
    out = os.path.join(d, "delta.crl")
    r = ok(ctl(c, "crl", "sub-t", "--delta", "--out", out))
    check("kind          delta CRL on full CRL " in r.out
          and serial in r.out, r)
    p = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", out,
                        "-noout", "-text"], capture_output=True, text=True)
    check("Delta CRL Indicator" in p.stdout
          and serial.upper().lstrip("0") in p.stdout.replace(" ", ""), p)
    r = ok(ctl(c, "crl", "sub-t"))
    check("kind          full CRL" in r.out, r)
    # which URL: NODE<N>_HTTP with --node, CERTCTL_HTTP_URL with
    # CERTCTL_URL, --http-url over both
    dead = "http://127.0.0.1:%d" % closed_port()
    fails(ctl(c, "--node", "2", "crl", "sub-t", "--http-url", dead), 3,
          "no answer from " + dead)
    fails(ctl(c, "ocsp", dev1, env={"CERTCTL_HTTP_URL": dead}), 3,
          "no answer from " + dead)
    # an issuer a profile names stays; then it goes
    fails(ctl(c, "issuer", "delete", "sub-t"), 1, "409 Conflict")
    ok(ctl(c, "profile", "delete", "wards"))
    r = ok(ctl(c, "issuer", "delete", "sub-t"))
    check("deleted issuer sub-t" in r.out, r)
    fails(ctl(c, "issuer", "show", "sub-t"), 1, "404 Not Found")
    fails(ctl(c, "crl", "sub-t"), 1, "404 Not Found")
    print("  revoked: certctl ocsp says revoked (keyCompromise) on nodes "
          "1-3, each its own responder; every node's delta CRL lists it; "
          "issuer delete after its profile")


def ca_tour(c, d):
    """README.md's tour of the CA, word for word but for the paths: with
    the settings of var/cluster.env alone (node 1, NODE1_HTTP)."""
    env = {"CERTCTL_URL": ""}  # not the leader the other steps ask
    key, pem = os.path.join(d, "pump-7.key"), os.path.join(d, "pump-7.pem")
    ok(ctl(c, "issue", "--profile", "default", "--key-out", key, "--dns",
           "pump-7.site-1.hospital.test", "--out", pem, env=env))
    ca = os.path.join(d, "local-ca.pem")
    subprocess.run(["curl", "-sf", "-o", ca, c.env["NODE1_HTTP"]
                    + "/ca/local-ca.pem"], check=True)
    openssl_verify(ca, pem)
    fp = subprocess.run(["openssl", "x509", "-in", pem, "-noout",
                         "-fingerprint", "-sha256"], capture_output=True,
                        text=True, check=True).stdout.strip().split("=")[1]
    ok(ctl(c, "revoke", fp, "--reason", "keyCompromise", env=env))
    # node 1 may be a follower that applies the revocation a moment after
    # the leader answered (the README says so)
    wait_for("node 1: OCSP revoked", lambda: "revoked at" in ok(
        ctl(c, "ocsp", pem, env=env)).out, timeout=5, every=0.05)
    serial = ok(ctl(c, "show", fp, "--json")).json()["serial"]
    wait_for("the delta CRL of local-ca", lambda: serial in ctl(
        c, "crl", "local-ca", "--delta", env=env).out)
    print("  the README tour: issue under default, openssl verify against "
          "/ca/local-ca.pem, revoke, certctl ocsp, certctl crl --delta")


def ca_forged(c, d):
    """Answers a relying party must not believe: certctl says why and exits
    1. A stand-in for a node's plain-HTTP listener serves local-ca's real
    certificate with a CRL of the same name signed by another key, an
    unsigned OCSP tryLater, and garbage."""
    import http.server
    import threading
    ca_der = subprocess.run(["curl", "-sf", c.env["NODE1_HTTP"]
                             + "/ca/local-ca.crt"], check=True,
                            capture_output=True).stdout
    fk = os.path.join(d, "forged")
    os.makedirs(fk)
    subj = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout",
                           "-subject", "-nameopt", "compat"],
                          input=ca_der, capture_output=True,
                          check=True).stdout.decode().split("=", 1)[1].strip()
    write(os.path.join(fk, "index.txt"), "")
    write(os.path.join(fk, "crlnumber"), "01\n")
    cnf = write(os.path.join(fk, "ca.cnf"),
                "[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\n"
                "crlnumber = %s/crlnumber\ndefault_md = sha256\n"
                "default_crl_days = 1\n" % (fk, fk))
    for args in (["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                  fk + "/k.pem", "-out", fk + "/c.pem", "-days", "1",
                  "-subj", subj],
                 ["openssl", "ca", "-config", cnf, "-gencrl", "-keyfile",
                  fk + "/k.pem", "-cert", fk + "/c.pem", "-out",
                  fk + "/crl.pem"],
                 ["openssl", "crl", "-in", fk + "/crl.pem", "-outform",
                  "DER", "-out", fk + "/crl.der"]):
        subprocess.run(args, check=True, capture_output=True)
    crl = open(fk + "/crl.der", "rb").read()
    ocsp = {"body": b""}

    class Forger(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def answer(self, body):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.answer(ca_der if self.path.startswith("/ca/") else crl)

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.answer(ocsp["body"])

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forger)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = "http://127.0.0.1:%d" % srv.server_address[1]
        fails(ctl(c, "crl", "local-ca", "--http-url", url), 1,
              "its signature does not verify")
        pem = os.path.join(d, "pump-7.pem")
        ca = os.path.join(d, "local-ca.pem")
        ocsp["body"] = bytes.fromhex("30030a0103")  # tryLater, unsigned
        fails(ctl(c, "ocsp", pem, "--issuer", ca, "--http-url", url), 1,
              "the responder answered trylater")
        ocsp["body"] = b"<html>not OCSP</html>"
        fails(ctl(c, "ocsp", pem, "--issuer", ca, "--http-url", url), 1,
              "not an OCSP response")
    finally:
        srv.shutdown()
        srv.server_close()
    print("  a forged CRL, an unsigned tryLater and garbage: exit 1")


def ca_hsm(c, d, uri, env):
    # certctl signs the root with the token too: it needs SOFTHSM2_CONF
    # a PIN inside the reference is refused before anything is made
    fails(ctl(c, "issuer", "create", "hsm-p", "--subject", "CN=p",
              "--pkcs11", uri.split("?")[0] + "?pin-value=4711", env=env),
          2, "pin-source")
    r = ok(ctl(c, "issuer", "create", "hsm-t", "--subject",
               "CN=certctl HSM root,O=Hospital", "--pkcs11", uri, env=env))
    check("key           ok" in r.out and "4711" not in r.out, r)
    c.wait_caught_up()
    for i in (1, 2, 3):
        doc = ok(ctl(c, "--node", str(i), "issuer", "show", "hsm-t",
                     "--json")).json()
        check(doc["key"] == "ok" and "4711" not in doc["key_ref"]
              and doc["key_ref"].startswith("pkcs11:token=cs-ctl"), doc)
    ca = write(os.path.join(d, "hsm.pem"), doc["certificate"])
    prof = write(os.path.join(d, "hsm.json"), json.dumps({
        "issuer": "hsm-t", "key_types": ["p256"], "max_validity": "30d",
        "allow": {"dns": ["*.hsm.test"]}, "key_usage": ["digitalSignature"],
        "eku": ["clientAuth"]}))
    ok(ctl(c, "profile", "put", "hsm", prof))
    pem = os.path.join(d, "hsm-dev.pem")
    ok(ctl(c, "issue", "--profile", "hsm", "--key-out",
           os.path.join(d, "hsm-dev.key"), "--dns", "a.hsm.test", "--out",
           pem))
    openssl_verify(ca, pem)
    c.wait_caught_up()  # a node that has not applied it yet says unknown
    for i in (1, 2, 3):
        a = ok(ctl(c, "--node", str(i), "ocsp", pem, "--json")).json()
        check(a["status"] == "good", a)
    # a PIN file others can read is refused, naming the file
    loose = uri.split("=file:")[1].replace("hsm.pin", "loose.pin")
    shutil.copy(uri.split("=file:")[1], loose)
    os.chmod(loose, 0o644)
    fails(ctl(c, "issuer", "create", "hsm-y", "--subject", "CN=y",
              "--pkcs11", uri.replace("hsm.pin", "loose.pin"), env=env), 2,
          "loose.pin: mode 644")
    # a wrong PIN is the user's mistake, found before any request
    fails(ctl(c, "issuer", "create", "hsm-x", "--subject", "CN=x",
              "--pkcs11", uri.replace("hsm.pin", "wrong.pin"), env=env), 2,
          "--pkcs11")
    print("  a root whose key is in SoftHSM2 (PIN never shown), key ok on "
          "3 nodes; issued under it, openssl verify, OCSP good on 3 nodes")


SCENARIOS = {
    "usage": scenario_usage,
    "commands": scenario_commands,
    "bulk_import": scenario_bulk_import,
    "settings": scenario_settings,
    "failover": scenario_failover,
    "join": scenario_join,
    "ca": scenario_ca,
}


def main(names):
    failed = 0
    if not os.access(CERTCTL, os.X_OK):
        print("certctl not built: %s" % CERTCTL)
        return 1
    try:
        for name in names or SCENARIOS:
            t = time.time()
            print("scenario %s" % name, flush=True)
            try:
                SCENARIOS[name]()
                print("ok %s (%.1f s)" % (name, time.time() - t), flush=True)
            except Exception:
                failed += 1
                traceback.print_exc()
                print("FAIL %s (%.1f s)" % (name, time.time() - t),
                      flush=True)
    finally:
        shutil.rmtree(SANDBOX, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

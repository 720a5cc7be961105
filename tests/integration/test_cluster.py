#!/usr/bin/env python3
"""test_cluster.py - replication with real certstored processes on
loopback: failover under load, restart from disk, catch-up by snapshot
install, quorum loss, joining a node, and the node-to-node trust rules.

    tests/integration/test_cluster.py            # every scenario
    tests/integration/test_cluster.py failover   # one of them

Exit status 0 when every scenario passed. Processes are stopped by PID,
also on failure (cluster.py).
"""

import base64
import json
import os
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster as _Cluster  # noqa: E402
from cluster import Writers, fingerprint, gencerts  # noqa: E402


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def all_hashes_equal(c, nodes, timeout=30):
    """Every node's (applied index, state hash) once they are all at the
    same index: equal hashes there, or the replicas diverged."""
    hashes = c.hashes_at_one_index(nodes, timeout)
    check(len(set(hashes.values())) == 1,
          "state hashes differ: %s" % hashes)
    return next(iter(hashes.values()))


def Cluster(n=3, extra_conf="", **kw):
    """These scenarios are about replication, not the CA: no issuer, so
    no CRL is published behind their backs between two state hashes."""
    env = dict(kw.pop("env", None) or {}, CS_NO_CA="1")
    return _Cluster(n, extra_conf, env=env, **kw)


def on_every_node(c, nodes, fps):
    """Every fingerprint is readable on every node (local reads)."""
    for i in nodes:
        conn = c.conn(i)
        missing = []
        for fp in fps:
            st, _, _ = c.get(i, "/v1/certs/" + fp, conn=conn)
            if st != 200:
                missing.append(fp)
        conn.close()
        check(not missing, "node %d lacks %d acknowledged certificates, "
              "e.g. %s" % (i, len(missing), missing[:3]))


# ---- msgpack, just what the batch endpoint speaks ----

def mp_pack(v):
    """msgpack of None, bool, int >= 0, str, bytes and lists."""
    if v is None:
        return b"\xc0"
    if isinstance(v, bool):
        return b"\xc3" if v else b"\xc2"
    if isinstance(v, int):
        return b"\xcf" + v.to_bytes(8, "big")
    if isinstance(v, str):
        b = v.encode()
        return b"\xdb" + len(b).to_bytes(4, "big") + b
    if isinstance(v, bytes):
        return b"\xc6" + len(v).to_bytes(4, "big") + v
    if isinstance(v, list):
        return (b"\xdd" + len(v).to_bytes(4, "big") +
                b"".join(mp_pack(x) for x in v))
    raise TypeError(type(v))


def mp_unpack(b, i=0):
    """(value, next offset) for what certstore writes back."""
    t = b[i]
    if t <= 0x7f:
        return t, i + 1
    if 0x90 <= t <= 0x9f or t in (0xdc, 0xdd):
        if t <= 0x9f:
            n, i = t & 0x0f, i + 1
        else:
            w = 2 if t == 0xdc else 4
            n, i = int.from_bytes(b[i + 1:i + 1 + w], "big"), i + 1 + w
        out = []
        for _ in range(n):
            v, i = mp_unpack(b, i)
            out.append(v)
        return out, i
    if 0xa0 <= t <= 0xbf or t in (0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6):
        if t <= 0xbf:
            n, i = t & 0x1f, i + 1
        else:
            w = {0xd9: 1, 0xda: 2, 0xdb: 4, 0xc4: 1, 0xc5: 2, 0xc6: 4}[t]
            n, i = int.from_bytes(b[i + 1:i + 1 + w], "big"), i + 1 + w
        raw = bytes(b[i:i + n])
        return (raw if t in (0xc4, 0xc5, 0xc6) else raw.decode()), i + n
    if t in (0xcc, 0xcd, 0xce, 0xcf):
        w = {0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8}[t]
        return int.from_bytes(b[i + 1:i + 1 + w], "big"), i + 1 + w
    if t == 0xc0:
        return None, i + 1
    raise ValueError("msgpack type 0x%02x" % t)


FWD_TYPE = "application/vnd.certstore.forward+msgpack"


def post_batch(c, i, body, cert, key, ctype=FWD_TYPE):
    """POST /v1/internal/forward on node i: (status, headers, body bytes)."""
    conn = c.conn(i, 30, cert, key)
    try:
        conn.request("POST", "/v1/internal/forward", body=body,
                     headers={"Content-Type": ctype})
        resp = conn.getresponse()
        h = {k.lower(): v for k, v in resp.getheaders()}
        return resp.status, h, resp.read()
    finally:
        conn.close()


def scenario_failover():
    """3 nodes, 5 writers for 20 s; kill -9 of the leader at 5 s, the old
    leader restarted at 12 s. Writes resume within 3 s of the kill; every
    acknowledged write is on all 3 nodes; the state hashes are equal."""
    c = Cluster(3)
    try:
        certs = gencerts(30000, "failover")
        w = Writers(c, 5, certs)
        t0 = time.time()
        w.start()
        time.sleep(5)
        old = c.leader()
        c.kill(old, signal.SIGKILL)
        t_kill = time.time()
        print("  killed leader %d at %.1f s" % (old, t_kill - t0))
        time.sleep(12 - (time.time() - t0))
        c.start(old)
        print("  restarted node %d at %.1f s" % (old, time.time() - t0))
        time.sleep(max(0, 20 - (time.time() - t0)))
        w.stop()
        after = sorted(t for t, _ in w.acked if t > t_kill)
        check(after, "no write was acknowledged after the kill")
        resume = after[0] - t_kill
        before = len([1 for t, _ in w.acked if t <= t_kill])
        print("  acknowledged %d writes (%d before the kill), %d failed "
              "attempts; writes resumed %.2f s after the kill"
              % (len(w.acked), before, w.failed, resume))
        check(resume <= 3.0, "writes resumed only %.2f s after the kill"
              % resume)
        c.wait_caught_up([1, 2, 3])
        # every acknowledged write on one node, and equal state hashes:
        # then every node holds exactly the same, all of them included
        on_every_node(c, [1 + old % 3], [fp for _, fp in w.acked])
        idx, h = all_hashes_equal(c, [1, 2, 3])
        print("  all 3 nodes at index %d, state hash %s..." % (idx, h[:16]))
    finally:
        c.close()


def scenario_restart():
    """A node restarted from disk (its snapshot + log replay) reaches the
    same state hash; so does the whole cluster restarted from disk."""
    c = Cluster(3, "snapshot-threshold 64\nsnapshot-trailing 16\n")
    try:
        certs = gencerts(300, "restart")
        conn = c.conn(1)
        for pem in certs:
            st, _, body = c.import_pem(1, pem, conn=conn)
            check(st == 201, "import: %s %s" % (st, body))
        conn.close()
        c.wait_caught_up()
        before = all_hashes_equal(c, [1, 2, 3])
        snaps = [c.cluster(i)["fsm"]["snapshots"] for i in (1, 2, 3)]
        check(all(s >= 3 for s in snaps), "snapshots taken: %s" % snaps)
        # one node from its own disk
        c.stop(2)
        pid = c.start(2)
        c.wait_caught_up()
        check(c.state_hash(2) == before, "node 2 after restart: %s != %s"
              % (c.state_hash(2), before))
        fsm2 = c.cluster(2)["fsm"]
        check(fsm2["restores"] >= 1,
              "node 2 did not load its snapshot: %s" % fsm2)
        # a stop by SIGTERM is orderly: exit status 0 (which also says
        # the loop closed with no handle left) and the log says so
        c.stop(2)
        check(c.exit_status(pid) == 0, "node 2 exit status %s after "
              "SIGTERM" % c.exit_status(pid))
        check("node stopped id=2" in open(c.env["NODE2_LOG"]).read(),
              "node 2 did not log its stop")
        c.start(2)
        # the whole cluster from disk
        for i in (1, 2, 3):
            c.stop(i)
        for i in (1, 2, 3):
            c.start(i)
        c.leader(timeout=30)
        c.wait_caught_up()
        after = all_hashes_equal(c, [1, 2, 3])
        check(after == before, "after a full restart: %s != %s"
              % (after, before))
        print("  index %d, hash %s... before and after" %
              (before[0], before[1][:16]))
    finally:
        c.close()


def scenario_snapshot_install():
    """A node down while 3 snapshots are taken catches up by snapshot
    install (the log it missed was compacted away)."""
    c = Cluster(3, "snapshot-threshold 32\nsnapshot-trailing 8\n")
    try:
        lead = c.leader()
        down = 1 + lead % 3
        c.stop(down)
        up = [i for i in (1, 2, 3) if i != down]
        certs = gencerts(200, "install")
        conn = c.conn(lead)
        for pem in certs:
            st, _, body = c.import_pem(lead, pem, conn=conn)
            check(st == 201, "import: %s %s" % (st, body))
        conn.close()
        snaps = c.cluster(lead)["fsm"]["snapshots"]
        check(snaps >= 3, "the leader took %d snapshots" % snaps)
        c.start(down)
        c.wait_caught_up([1, 2, 3])
        fsm = c.cluster(down)["fsm"]
        check(fsm["restores"] >= 1, "node %d caught up without a "
              "snapshot install: %s" % (down, fsm))
        on_every_node(c, [down], [fingerprint(p) for p in certs])
        h = all_hashes_equal(c, [1, 2, 3])
        print("  node %d installed a snapshot after %d were taken; "
              "hash %s..." % (down, snaps, h[1][:16]))
    finally:
        c.close()


def scenario_quorum():
    """5 nodes: with 2 killed (the leader among them) writes go on; with
    3 killed they are refused with 503 and nothing acknowledged is lost."""
    c = Cluster(5, "write-timeout-ms 3000\n")
    try:
        certs = gencerts(400, "quorum")
        acked = []
        lead = c.leader()
        other = 1 + lead % 5
        c.kill(lead)
        c.kill(other)
        rest = c.live()
        for k, pem in enumerate(certs[:100]):
            st, _, body = c.import_pem(rest[k % len(rest)], pem, timeout=20)
            check(st == 201, "with 3 of 5 alive: %s %s" % (st, body))
            acked.append(fingerprint(pem))
        third = rest[0]
        c.kill(third)
        rest = c.live()
        t = time.time()
        st, h, body = c.import_pem(rest[0], certs[100], timeout=20)
        took = time.time() - t
        check(st == 503, "with 2 of 5 alive: %s %s" % (st, body))
        check(h.get("retry-after"), "503 without Retry-After")
        print("  2 of 5 alive: 503 after %.1f s (%s)" %
              (took, body.get("detail") if isinstance(body, dict) else body))
        for i in (lead, other, third):
            c.start(i)
        c.leader(timeout=30)
        c.wait_caught_up(list(range(1, 6)))
        on_every_node(c, [third], acked)
        all_hashes_equal(c, list(range(1, 6)))
    finally:
        c.close()


def scenario_join():
    """A node that is not an initial member joins through the API (added
    as spare, promoted to voter once caught up), then is removed."""
    c = Cluster(3)
    try:
        conn = c.conn(1)
        for pem in gencerts(50, "join"):
            st, _, _ = c.import_pem(1, pem, conn=conn)
            check(st == 201, "import")
        conn.close()
        # node 4: its own certificate, config and empty data dir
        pki = os.path.join(c.var, "pki")
        cert, key = c.make_client_cert("certstore node 4", ca="cluster")
        conf = open(c.env["NODE1_CONF"]).read()
        import socket

        def free():
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
            s.close()
            return p
        raft, api, http, pub = free(), free(), free(), free()
        d = os.path.join(c.var, "node4")
        os.makedirs(os.path.join(d, "data"))
        lines = []
        for line in conf.splitlines():
            k = line.split(" ", 1)[0]
            if k == "node-id":
                line = "node-id 4"
            elif k == "raft-address":
                line = "raft-address 127.0.0.1:%d" % raft
            elif k == "data-dir":
                line = "data-dir " + os.path.join(d, "data")
            elif k == "api-listen":
                line = "api-listen 127.0.0.1:%d" % api
            elif k == "public-listen":
                line = "public-listen 127.0.0.1:%d" % pub
            elif k == "http-listen":
                line = "http-listen 127.0.0.1:%d" % http
            elif k == "tls-cert":
                line = "tls-cert " + cert
            elif k == "tls-key":
                line = "tls-key " + key
            lines.append(line)
        open(os.path.join(d, "certstored.conf"), "w").write(
            "\n".join(lines) + "\n")
        c.env["NODE4_LOG"] = os.path.join(d, "certstored.log")
        c.env["NODE4_API"] = "https://127.0.0.1:%d" % api
        c.n = 4
        c.start(4, os.path.join(d, "certstored.conf"))
        time.sleep(0.5)
        st, _, body = c.request(1, "POST", "/v1/cluster/members", body={
            "id": 4, "raft_address": "127.0.0.1:%d" % raft,
            "api_url": "https://127.0.0.1:%d" % api, "site": "site-3"},
            timeout=60)
        check(st == 200, "join: %s %s" % (st, body))
        roles = {m["id"]: m["role"] for m in body["members"]}
        check(roles.get(4) == "voter", "node 4 is %s" % roles.get(4))
        c.wait_caught_up([1, 2, 3, 4])
        all_hashes_equal(c, [1, 2, 3, 4])
        # a member id twice, and an invalid body
        st, _, body = c.request(2, "POST", "/v1/cluster/members", body={
            "id": 4, "raft_address": "127.0.0.1:%d" % raft,
            "api_url": "https://127.0.0.1:%d" % api}, timeout=30)
        check(st == 409, "second join: %s %s" % (st, body))
        st, _, body = c.request(2, "POST", "/v1/cluster/members",
                                body={"id": 9, "raft_address": "nowhere"})
        check(st == 400, "bad join: %s %s" % (st, body))
        st, _, body = c.request(3, "DELETE", "/v1/cluster/members/4",
                                timeout=30)
        check(st == 200, "remove: %s %s" % (st, body))
        check(4 not in [m["id"] for m in body["members"]], "still there")
        print("  node 4 joined as voter, caught up, and was removed")
    finally:
        c.close()


def scenario_node_trust():
    """The node-to-node path: a forwarded identity counts only from a node
    certificate; a client that sends one is judged as itself; foreign
    certificates and no certificate are refused."""
    c = Cluster(3)
    try:
        pem = gencerts(1, "trust")[0]
        admin_b64 = "".join(l for l in open(c.env["ADMIN_CERT"]).read()
                            .splitlines() if not l.startswith("-----"))
        h = {"Content-Type": "application/x-pem-file",
             "X-Certstore-Client-Cert": admin_b64}
        # a client with no role claims to act for the admin: ignored
        cert, key = c.make_client_cert("intruder")
        st, _, body = c.request(2, "POST", "/v1/certs", body=pem, headers=h,
                                cert=cert, key=key)
        check(st == 403, "intruder with an identity header: %s %s"
              % (st, body))
        check("intruder" in body["detail"], body["detail"])
        # a node acting for a client without a role: judged as the client
        ncert, nkey = c.make_client_cert("certstore node 9", ca="cluster")
        h2 = dict(h, **{"X-Certstore-Client-Cert": "".join(
            l for l in open(cert).read().splitlines()
            if not l.startswith("-----"))})
        # (a node's request is never forwarded again: send to the leader)
        lead = c.leader()
        st, _, body = c.request(lead, "POST", "/v1/certs", body=pem,
                                headers=h2, cert=ncert, key=nkey)
        check(st == 403 and "intruder" in body["detail"],
              "node for intruder: %s %s" % (st, body))
        # a node acting for the admin: accepted
        st, _, body = c.request(lead, "POST", "/v1/certs", body=pem,
                                headers=h, cert=ncert, key=nkey)
        check(st == 201, "node for admin: %s %s" % (st, body))
        # garbage in the identity header from a node
        st, _, body = c.request(
            lead, "POST", "/v1/certs", body=pem, cert=ncert, key=nkey,
            headers=dict(h, **{"X-Certstore-Client-Cert": "!!!"}))
        check(st == 400, "node with garbage identity: %s %s" % (st, body))
        # a certificate from another CA, and none at all: TLS refuses
        fcert, fkey = c.make_client_cert("foreigner", ca="foreign")
        for args in ({"cert": fcert, "key": fkey}, {"cert": "-"}):
            try:
                st, _, _ = c.request(1, "POST", "/v1/certs", body=pem,
                                     headers=h, **args)
                refused = False
            except Exception:
                refused = True
            check(refused, "%s was not refused (%s)" % (args, st))
        print("  identity headers trusted only from nodes; foreign and "
              "missing certificates refused")
        scenario_batches(c, lead, pem, admin_b64, cert, key, ncert, nkey)
    finally:
        c.close()


def scenario_batches(c, lead, pem, admin_b64, cert, key, ncert, nkey):
    """POST /v1/internal/forward, how followers send writes in batches:
    nodes only, bad batches refused whole, each part judged as its own
    request (client identity, role, leader)."""
    intruder_b64 = "".join(l for l in open(cert).read().splitlines()
                           if not l.startswith("-----"))
    fresh = gencerts(2, "batch")

    def part(pem_, who, rid=None):
        return ["POST", "/v1/certs", rid or os.urandom(16).hex(),
                "application/x-pem-file", who, pem_.encode()]

    good = mp_pack([part(fresh[0], admin_b64), part(fresh[1], intruder_b64)])
    # a client, even the admin, is not a node
    st, _, body = post_batch(c, lead, good, c.env["ADMIN_CERT"],
                             c.env["ADMIN_KEY"])
    check(st == 403 and b"nodes-only" in body,
          "batch from the admin: %s %s" % (st, body[:200]))
    # bad batches from a node: refused whole, nothing written
    before = c.cluster(lead)["applied_index"]
    bad = [(good, "application/json", 415),
           (b"\x93\x01", FWD_TYPE, 400),            # truncated
           (mp_pack([]), FWD_TYPE, 400),              # empty
           (mp_pack([["POST"]]), FWD_TYPE, 400),      # short part
           (mp_pack([part(fresh[0], admin_b64)[:5] + ["x"]]), FWD_TYPE,
            400),                                     # body not bin
           (mp_pack([["TRACE"] + part(fresh[0], admin_b64)[1:]]),
            FWD_TYPE, 400),                           # method
           (mp_pack([["POST", "v1/certs"] + part(fresh[0],
                                                 admin_b64)[2:]]),
            FWD_TYPE, 400),                           # not origin-form
           (mp_pack([part(fresh[0], admin_b64)] * 65), FWD_TYPE, 400),
           (good + b"\x00", FWD_TYPE, 400)]           # trailing bytes
    for raw, ctype, want in bad:
        st, h, body = post_batch(c, lead, raw, ncert, nkey, ctype)
        check(st == want and "problem+json" in h.get("content-type", ""),
              "bad batch %r: %s %s" % (raw[:24], st, body[:200]))
    check(c.cluster(lead)["applied_index"] == before,
          "a refused batch changed the store")
    # a node's batch on the leader: each part as its own request
    st, h, body = post_batch(c, lead, good, ncert, nkey)
    check(st == 200 and h.get("content-type") == FWD_TYPE,
          "batch: %s %s" % (st, body[:200]))
    answers, end = mp_unpack(body)
    check(end == len(body) and len(answers) == 2, "answers: %r" % answers)
    (s1, h1, b1), (s2, h2, b2) = answers
    hd1 = dict(zip(h1[0::2], h1[1::2]))
    check(s1 == 201 and "X-Certstore-Index" in hd1, "part 1: %s %r %s"
          % (s1, hd1, b1[:200]))
    check(json.loads(b1)["certificates"][0]["fingerprint"] ==
          fingerprint(fresh[0]),
          "part 1 body: %s" % b1[:200])
    check(s2 == 403 and b"intruder" in b2, "part 2: %s %s" % (s2, b2[:200]))
    # the same request id again: the same certificate, written once
    rid = os.urandom(16).hex()
    again = mp_pack([part(fresh[1], admin_b64, rid)])
    firsts = []
    for _ in range(2):
        st, _, body = post_batch(c, lead, again, ncert, nkey)
        (s3, _, b3), = mp_unpack(body)[0]
        firsts.append((st, s3))
    check(firsts[0] == (200, 201) and firsts[1][0] == 200 and
          firsts[1][1] in (200, 201), "repeated id: %r" % firsts)
    # a batch that reaches a follower is not forwarded again: 503
    # not-leader per part, which the sending node retries
    follower = [i for i in c.live() if i != lead][0]
    st, _, body = post_batch(c, follower, mp_pack([part(
        gencerts(1, "batch-f")[0], admin_b64)]), ncert, nkey)
    (s4, h4, _), = mp_unpack(body)[0]
    check(st == 200 and s4 == 503 and "X-Certstore-Not-Leader" in h4,
          "batch on a follower: %s %s %r" % (st, s4, h4))
    print("  batches: nodes only, bad ones refused whole, parts judged "
          "one by one, not forwarded twice")


def scenario_config_check():
    """certstored -n checks a configuration: errors name the line, a good
    one passes, the files it names must load."""
    import tempfile
    certstored = os.environ.get("CERTSTORED") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build",
        "certstored")
    d = tempfile.mkdtemp(prefix="cs-conf-")
    try:
        bad = os.path.join(d, "bad.conf")
        open(bad, "w").write("node-id 1\nraft-address 127.0.0.1:1\n"
                             "data-dir %s/data\napi-listen nowhere:80\n" % d)
        r = subprocess.run([certstored, "-n", "-f", bad],
                           capture_output=True, text=True)
        check(r.returncode == 1, "bad config exit %d" % r.returncode)
        check("line 4: api-listen: \"nowhere:80\" is not an IPv4 "
              "address:port" in r.stderr, r.stderr)
        good = open(os.path.join(os.path.dirname(os.path.abspath(
            __file__)), "..", "..", "deploy", "certstored.conf")).read()
        ok = os.path.join(d, "example.conf")
        open(ok, "w").write(good.replace("/var/lib/certstore", d + "/data"))
        r = subprocess.run([certstored, "-n", "-f", ok],
                           capture_output=True, text=True)
        check(r.returncode == 1 and "/etc/certstore/node.pem" in r.stderr,
              "the example config names files that do not exist here: "
              "%d %s" % (r.returncode, r.stderr))
        r = subprocess.run([certstored, "-x"], capture_output=True,
                           text=True)
        check(r.returncode == 2 and "usage" in r.stderr, r.stderr)
        print("  bad lines named, missing files reported, usage on bad "
              "flags")
    finally:
        import shutil
        shutil.rmtree(d, ignore_errors=True)


def scenario_backup_restore():
    """A backup (GET /v1/snapshot) restored offline with certstore-restore
    into fresh data directories gives back the same state; the restored
    cluster takes writes again."""
    c = Cluster(3)
    try:
        certs = gencerts(60, "backup")
        conn = c.conn(1)
        for pem in certs[:50]:
            st, _, _ = c.import_pem(1, pem, conn=conn)
            check(st == 201, "import")
        conn.close()
        fp = fingerprint(certs[0])
        st, _, _ = c.request(2, "POST", "/v1/certs/%s/revoke" % fp,
                             body={"reason": "superseded"})
        check(st == 200, "revoke")
        c.wait_caught_up()
        before = all_hashes_equal(c, [1, 2, 3])
        conn = c.conn(3)
        conn.request("GET", "/v1/snapshot")
        resp = conn.getresponse()
        backup = resp.read()
        conn.close()
        check(resp.status == 200 and backup[:6] == b"CSSNAP",
              "snapshot download: %s" % resp.status)
        path = os.path.join(c.var, "backup.snapshot")
        open(path, "wb").write(backup)
        for i in (1, 2, 3):
            c.stop(i)
        tool = os.environ.get("CERTSTORE_RESTORE") or os.path.join(
            os.path.dirname(c.env["CERTSTORED"]), "certstore-restore")
        # a damaged backup is refused and leaves the directory empty
        bad = path + ".bad"
        open(bad, "wb").write(backup[:len(backup) // 2])
        import shutil
        for i in (1, 2, 3):
            shutil.rmtree(c.env["NODE%d_DATA" % i])
        r = subprocess.run([tool, "-f", c.env["NODE1_CONF"], bad],
                           capture_output=True, text=True)
        check(r.returncode == 1 and "backup" in r.stderr, r.stderr)
        for i in (1, 2, 3):
            r = subprocess.run([tool, "-f", c.env["NODE%d_CONF" % i], path],
                               capture_output=True, text=True)
            check(r.returncode == 0, "restore node %d: %s" % (i, r.stderr))
        # twice is refused: the directory holds raft state now
        r = subprocess.run([tool, "-f", c.env["NODE1_CONF"], path],
                           capture_output=True, text=True)
        check(r.returncode == 1 and "already holds raft state" in r.stderr,
              r.stderr)
        for i in (1, 2, 3):
            c.start(i)
        c.leader(timeout=30)
        c.wait_caught_up()
        after = all_hashes_equal(c, [1, 2, 3])
        check(after == before, "restored %s != backed up %s"
              % (after, before))
        st, _, body = c.get(2, "/v1/certs/" + fp)
        check(st == 200 and body["status"] == "revoked", "revocation kept")
        for pem in certs[50:]:
            st, _, _ = c.import_pem(3, pem)
            check(st == 201, "write after restore: %s" % st)
        print("  restored %d bytes at index %d into 3 fresh nodes; writes "
              "go on" % (len(backup), before[0]))
    finally:
        c.close()


SCENARIOS = {
    "backup_restore": scenario_backup_restore,
    "config_check": scenario_config_check,
    "failover": scenario_failover,
    "restart": scenario_restart,
    "snapshot_install": scenario_snapshot_install,
    "quorum": scenario_quorum,
    "join": scenario_join,
    "node_trust": scenario_node_trust,
}


def main(names):
    failed = 0
    for name in names or SCENARIOS:
        t = time.time()
        print("scenario %s" % name, flush=True)
        try:
            SCENARIOS[name]()
            print("ok %s (%.1f s)" % (name, time.time() - t), flush=True)
        except Exception:
            failed += 1
            traceback.print_exc()
            print("FAIL %s (%.1f s)" % (name, time.time() - t), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

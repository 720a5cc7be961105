#!/usr/bin/env python3
"""test_ca.py - the CA of a real certstore cluster, checked with real
clients: the openssl command line (req, verify, ocsp, crl, x509), curl-
style HTTP by hand, pkcs11-tool and softhsm2-util, libfaketime.

    tests/integration/test_ca.py             # every scenario
    tests/integration/test_ca.py ocsp crl    # some of them

Scenarios (each on a cluster of its own, removed afterwards):
  issue       issuance through the leader and every follower, the chain,
              the fields, renewal with the same and with a new key
  violations  every kind of refusal: a 4xx problem naming it, no change
  ocsp        every node answers OCSP (POST, GET, nonces, SHA-1/SHA-256
              CertIDs, several at once), revocation seen within 1 s
  crl         every node's full and delta CRLs with openssl verify, every
              reason name, CRL numbers agreed through the log
  failover    kill -9 of the leader: status keeps answering, issuance
              resumes, nothing acknowledged is lost
  staleness   a node cut off answers tryLater once ocsp-staleness passed
  crl100k     100,000 revoked certificates in one CRL
  faketime    expiry and rotation tracking with the nodes' clocks moved
  hsm         a CA key in SoftHSM2 through PKCS#11, end to end

Exit status 0 when every scenario passed. Nodes are stopped by PID, also
on failure (cluster.py). Assertions are about behaviour; the timings
printed are for people.
"""

import base64
import calendar
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, fingerprint, gencerts  # noqa: E402

PROBLEM = "urn:certstore:problem:"
DAY = 86400
# RFC 5280 reasons a revocation may give, and how `openssl crl -text`
# names them (unspecified: no reason code extension at all)
REASONS = {
    "unspecified": None,
    "keyCompromise": "Key Compromise",
    "cACompromise": "CA Compromise",
    "affiliationChanged": "Affiliation Changed",
    "superseded": "Superseded",
    "cessationOfOperation": "Cessation Of Operation",
    "certificateHold": "Certificate Hold",
    "privilegeWithdrawn": "Privilege Withdrawn",
    "aACompromise": "AA Compromise",
}


def check(cond, what):
    if not cond:
        raise AssertionError(what)


# ---- processes and files ----

def run(args, check_rc=True, env=None, timeout=120, input=None):
    """Runs a command; (rc, stdout + stderr as text)."""
    r = subprocess.run(args, capture_output=True, env=env, timeout=timeout,
                       input=input)
    out = (r.stdout + r.stderr).decode(errors="replace")
    if check_rc and r.returncode != 0:
        raise AssertionError("%s: exit %d: %s" % (" ".join(args),
                                                  r.returncode, out))
    return r.returncode, out


def write(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return path


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


class Work:
    """A directory of files for one scenario (inside the cluster's
    directory, which close() removes)."""

    def __init__(self, base):
        self.dir = os.path.join(base, "catest")
        os.makedirs(self.dir, exist_ok=True)
        self.n = 0

    def path(self, name):
        return os.path.join(self.dir, name)

    def new(self, stem, ext):
        self.n += 1
        return self.path("%s-%d.%s" % (stem, self.n, ext))


def new_key(w, kind="p256"):
    """A private key file: p256, p384, rsa2048, ed25519."""
    path = w.new("key-" + kind, "pem")
    if kind.startswith("p"):
        curve = {"p256": "P-256", "p384": "P-384"}[kind]
        run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
             "ec_paramgen_curve:" + curve, "-out", path])
    elif kind.startswith("rsa"):
        run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
             "rsa_keygen_bits:" + kind[3:], "-out", path])
    else:
        run(["openssl", "genpkey", "-algorithm", kind.upper(), "-out",
             path])
    return path


def new_csr(w, key, cn=None, sans=(), subj=None):
    """A PKCS#10 request made by openssl req; sans like "DNS:a"."""
    path = w.new("req", "csr")
    args = ["openssl", "req", "-new", "-key", key, "-out", path, "-subj",
            subj or ("/CN=" + cn if cn else "/O=Hospital")]
    if sans:
        args += ["-addext", "subjectAltName=" + ",".join(sans)]
    run(args)
    return read(path)


def pubkey(path, is_key=False):
    """The SubjectPublicKeyInfo of a key or certificate file, PEM."""
    if is_key:
        return run(["openssl", "pkey", "-in", path, "-pubout"])[1]
    return run(["openssl", "x509", "-in", path, "-noout", "-pubkey"])[1]


def openssl_time(s):
    return calendar.timegm(time.strptime(s.strip(), "%b %d %H:%M:%S %Y GMT"))


def cert_info(path):
    """What openssl x509 says about a certificate file."""
    _, text = run(["openssl", "x509", "-in", path, "-noout", "-text"])
    _, subj = run(["openssl", "x509", "-in", path, "-noout", "-subject",
                   "-nameopt", "RFC2253"])
    _, dates = run(["openssl", "x509", "-in", path, "-noout", "-startdate",
                    "-enddate", "-serial"])
    d = dict(l.split("=", 1) for l in dates.splitlines() if "=" in l)
    sans = set()
    m = re.search(r"X509v3 Subject Alternative Name:.*?\n\s+(.*)\n", text)
    if m:
        for s in m.group(1).split(", "):
            s = s.replace("IP Address:", "IP:")
            sans.add(s.strip())
    return {
        "text": text,
        "subject": subj.strip()[len("subject="):],
        "serial": int(d["serial"], 16),
        "not_before": openssl_time(d["notBefore"]),
        "not_after": openssl_time(d["notAfter"]),
        "sans": sans,
        "ocsp": set(re.findall(r"OCSP - URI:(\S+)", text)),
        "ca_issuers": set(re.findall(r"CA Issuers - URI:(\S+)", text)),
        "crl": set(re.findall(r"URI:(\S+/crl/\S+)", text)),
    }


def der_fp(path):
    """SHA-256 fingerprint of a PEM certificate file."""
    return fingerprint(read(path))


# ---- HTTP by hand (the public listeners) ----

def http_url(c, i):
    return c.env["NODE%d_HTTP" % i]


def plain_get(url, timeout=10):
    """GET over plain http: (status, headers, body bytes)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("GET", u.path)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def plain_post(url, body, ctype, timeout=10):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("POST", u.path, body=body,
                     headers={"Content-Type": ctype})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


# ---- the CA's API ----

def issue(c, i, csr, profile="default", expect=201, **extra):
    body = dict(extra, csr=csr, profile=profile)
    st, h, b = c.request(i, "POST", "/v1/issue", body=body, timeout=30)
    check(st == expect, "issue on node %d: %s %s" % (i, st, b))
    return b


def save_issued(w, b, stem="cert"):
    path = w.new(stem, "pem")
    write(path, b["certificate"])
    return path


def revoke(c, i, fp, reason, expect=200):
    st, _, b = c.request(i, "POST", "/v1/certs/%s/revoke" % fp,
                         body={"reason": reason}, timeout=30)
    check(st == expect, "revoke %s (%s) on node %d: %s %s"
          % (fp[:12], reason, i, st, b))
    return b


PROBLEMS_SEEN = [0]


def check_problem(st, h, b, status, slug, *words):
    """A problem+json answer with this status and type whose detail names
    every word."""
    PROBLEMS_SEEN[0] += 1
    check(st == status, "expected %d %s, got %s %s" % (status, slug, st, b))
    check(h.get("content-type", "").startswith("application/problem+json"),
          "content type %s" % h.get("content-type"))
    check(isinstance(b, dict) and b.get("type") == PROBLEM + slug and
          b.get("status") == status and b.get("title"),
          "problem body %s, expected type %s" % (b, slug))
    for word in words:
        check(word in b.get("detail", ""),
              "%r not in the detail %r" % (word, b.get("detail")))


def wait_for(what, fn, timeout=15, every=0.1):
    """Calls fn until it returns something true; returns that."""
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = fn()
        except Exception as e:  # not there yet
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(every)
    raise AssertionError("%s: not within %d s (last: %r)" %
                         (what, timeout, last))


def hashes(c, nodes):
    return {i: c.state_hash(i) for i in nodes}


# ---- OCSP with openssl ----

def parse_ocsp_summary(out):
    """openssl ocsp's summary: {name: (status, reason or None)}."""
    res = {}
    cur = None
    for line in out.splitlines():
        m = re.match(r"^(\S.*): (good|revoked|unknown)$", line)
        if m:
            cur = m.group(1)
            res[cur] = [m.group(2), None]
            continue
        m = re.match(r"^\s+Reason: (\S+)", line)
        if m and cur:
            res[cur][1] = m.group(1)
    return {k: tuple(v) for k, v in res.items()}


def ocsp_query(ca, url, certs=(), serials=(), sha256=False, nonce=True,
               issuer=None):
    """openssl ocsp (POST) against url; the response must verify against
    ca. Returns {cert path or serial: (status, reason)}."""
    args = ["openssl", "ocsp", "-issuer", issuer or ca, "-url", url,
            "-CAfile", ca, "-timeout", "10"]
    if sha256:
        args.append("-sha256")  # before the -cert options
    for p in certs:
        args += ["-cert", p]
    for s in serials:
        args += ["-serial", s]
    args.append("-nonce" if nonce else "-no_nonce")
    rc, out = run(args, check_rc=False)
    check(rc == 0 and "Response verify OK" in out,
          "openssl ocsp against %s: exit %d: %s" % (url, rc, out))
    check("Nonce Verify error" not in out and "WARNING" not in out,
          "nonce not echoed by %s: %s" % (url, out))
    return parse_ocsp_summary(out)


def ocsp_request(w, ca, certs, nonce=True, want=""):
    """An OCSP request DER file made by openssl; with want, remade (fresh
    nonce) until its base64 holds every character of want."""
    path = w.new("ocsp", "req")
    for _ in range(200):
        args = ["openssl", "ocsp", "-issuer", ca, "-reqout", path,
                "-nonce" if nonce else "-no_nonce"]
        for p in certs:
            args += ["-cert", p]
        run(args)
        b64 = base64.b64encode(read(path, "rb")).decode()
        if all(ch in b64 for ch in want):
            return path, b64
    raise AssertionError("no request whose base64 holds %r" % want)


def ocsp_check_response(ca, req, resp):
    """openssl ocsp -reqin/-respin (no -cert: that would make a new
    nonce): the signature verifies against ca and the nonce matches.
    Returns the response as text."""
    rc, out = run(["openssl", "ocsp", "-reqin", req, "-respin", resp,
                   "-CAfile", ca, "-resp_text"], check_rc=False)
    check(rc == 0 and "Response verify OK" in out,
          "response %s: exit %d: %s" % (resp, rc, out))
    check("Nonce Verify error" not in out and "WARNING" not in out,
          "nonce: %s" % out)
    return out


def ocsp_error(resp_bytes):
    """The responseStatus name of an unsigned error response."""
    m = re.search(r"Responder Error: (\w+)", ocsp_text(resp_bytes))
    return m.group(1) if m else None


def ocsp_text(resp_bytes):
    fd, path = tempfile.mkstemp(suffix=".der")
    try:
        os.write(fd, resp_bytes)
        os.close(fd)
        return run(["openssl", "ocsp", "-respin", path, "-resp_text",
                    "-noverify"], check_rc=False)[1]
    finally:
        os.unlink(path)


# ---- CRLs with openssl ----

def fetch_crl(c, i, issuer="local-ca", delta=False, w=None, pem=False):
    """(DER file path, CRL number, text) of node i's CRL, or None when it
    has none (404)."""
    kind = ("-delta" if delta else "") + (".pem" if pem else ".crl")
    st, _, body = plain_get("%s/crl/%s%s" % (http_url(c, i), issuer, kind))
    if st == 404:
        return None
    check(st == 200, "GET crl %s%s on node %d: %s %s" %
          (issuer, kind, i, st, body[:200]))
    path = w.new("crl-n%d%s" % (i, "-delta" if delta else ""),
                 "pem" if pem else "der")
    write(path, body)
    _, text = run(["openssl", "crl", "-inform", "PEM" if pem else "DER",
                   "-in", path, "-noout", "-text"])
    m = re.search(r"X509v3 CRL Number: *\n\s+(\d+)", text)
    return path, int(m.group(1)), text


def crl_entries(text):
    """{serial int: reason text or None} of a CRL's text."""
    res = {}
    for block in text.split("Serial Number: ")[1:]:
        serial = int(block.split("\n", 1)[0].strip(), 16)
        m = re.search(r"X509v3 CRL Reason Code: *\n\s+(.+)", block)
        res[serial] = m.group(1).strip() if m else None
    return res


def crl_content(text):
    """A CRL's text without the signature (ECDSA signatures differ from
    node to node; everything signed must not)."""
    return text.split("Signature Value:")[0]


def to_pem_crl(w, der_path):
    path = der_path + ".pem"
    run(["openssl", "crl", "-inform", "DER", "-in", der_path, "-out", path])
    return path


def verify_with_crl(ca, crls, cert, deltas=False):
    """openssl verify -crl_check (-use_deltas): (rc, output)."""
    args = ["openssl", "verify", "-crl_check", "-CAfile", ca]
    if deltas:
        args.append("-use_deltas")
    for p in crls:
        args += ["-CRLfile", p]
    return run(args + [cert], check_rc=False)


# ---- scenarios ----

def scenario_issue():
    """Issuance through the leader and through each follower; the chain
    verifies with openssl; the certificate carries the request's CN and
    SANs, a random serial of at least 128 bits, the profile's maximum
    validity and AIA/CDP URLs of every node's plain-HTTP listener, which
    serve what they name; renewal keeps the names, with the same key or
    the key of a new request."""
    c = Cluster(3)
    try:
        w = Work(c.var)
        lead = c.leader()
        order = [lead] + [i for i in (1, 2, 3) if i != lead]
        ca = w.path("ca.pem")
        # the CA certificate, public on every listener of every node
        ca_text = read(c.env["LOCAL_CA_CERT"])
        for i in (1, 2, 3):
            st, h, der = plain_get(http_url(c, i) + "/ca/local-ca.crt")
            check(st == 200 and h["content-type"] == "application/pkix-cert",
                  "CA certificate on node %d: %s" % (i, st))
            check(base64.b64encode(der).decode() ==
                  "".join(l for l in ca_text.splitlines()
                          if not l.startswith("-----")),
                  "node %d serves another CA certificate" % i)
            for base, cert in ((c.env["NODE%d_PUBLIC" % i], "-"),
                               (c.env["NODE%d_API" % i], None)):
                conn = http.client.HTTPSConnection(
                    "127.0.0.1", int(base.rsplit(":", 1)[1]),
                    context=c.tls(cert), timeout=10)
                st, _, pem = c.request(i, "GET", "/ca/local-ca.pem",
                                       conn=conn)
                conn.close()
                check(st == 200 and pem.startswith(ca_text),
                      "CA PEM on %s: %s" % (base, st))
        write(ca, pem)
        node_http = {http_url(c, i) for i in (1, 2, 3)}
        issued = []
        for k, i in enumerate(order):
            key = new_key(w, ["p256", "p384", "rsa2048"][k])
            cn = "pump-%d.site-1.hospital.test" % i
            sans = ["DNS:" + cn, "IP:10.1.0.%d" % i,
                    "URI:urn:device:pump-%d" % i, "email:biomed@hospital.test"]
            csr = new_csr(w, key, cn, sans)
            st, h, b = c.request(i, "POST", "/v1/issue", body={
                "csr": csr, "profile": "default", "owner": "biomed",
                "tags": ["pump"]}, timeout=30)
            check(st == 201, "issue on node %d: %s %s" % (i, st, b))
            check(h.get("x-certstore-node") == str(lead),
                  "issued by node %s, the leader is %d"
                  % (h.get("x-certstore-node"), lead))
            path = save_issued(w, b)
            chain = write(w.new("chain", "pem"), b["chain"])
            rc, out = run(["openssl", "verify", "-CAfile", chain, "-purpose",
                           "sslclient", path], check_rc=False)
            check(rc == 0 and ": OK" in out, "verify: %s" % out)
            rc, out = run(["openssl", "verify", "-CAfile", ca, "-purpose",
                           "sslserver", path], check_rc=False)
            check(rc == 0, "verify with the CA of /ca/: %s" % out)
            info = cert_info(path)
            check(info["subject"] == "CN=" + cn,
                  "subject %s" % info["subject"])
            want = set(sans)
            check(info["sans"] == want, "SANs %s, asked %s"
                  % (info["sans"], want))
            check(info["serial"].bit_length() >= 128,
                  "serial of %d bits" % info["serial"].bit_length())
            check(b["serial"] == "%x" % info["serial"],
                  "answer serial %s, certificate %x" %
                  (b["serial"], info["serial"]))
            check(b["fingerprint"] == der_fp(path), "fingerprint")
            check(b["profile"] == "default" and b["issuer"] == "local-ca",
                  "profile/issuer %s %s" % (b["profile"], b["issuer"]))
            check(info["not_after"] - info["not_before"] == 90 * DAY,
                  "validity %d s, the profile's maximum is 90d"
                  % (info["not_after"] - info["not_before"]))
            check(info["ocsp"] == {u + "/ocsp" for u in node_http},
                  "AIA OCSP %s" % info["ocsp"])
            check(info["crl"] == {u + "/crl/local-ca.crl" for u in node_http},
                  "CRL DPs %s" % info["crl"])
            check(len(info["ca_issuers"]) == 1 and
                  next(iter(info["ca_issuers"])).rsplit("/ca/", 1)[0]
                  in node_http, "caIssuers %s" % info["ca_issuers"])
            check(pubkey(path) == pubkey(key, True), "not the CSR's key")
            check("TLS Web Client Authentication, TLS Web Server "
                  "Authentication" in info["text"], "EKU")
            issued.append((i, path, key, b, info))
        # what the URLs in the certificate name, fetched as a relying
        # party would: the CA certificate, OCSP, a CRL
        path, info = issued[0][1], issued[0][4]
        st, _, der = plain_get(next(iter(info["ca_issuers"])))
        check(st == 200 and der == base64.b64decode("".join(
            l for l in ca_text.splitlines() if not l.startswith("-----"))),
            "caIssuers URL: %s" % st)
        for url in info["ocsp"]:
            res = ocsp_query(ca, url, certs=[path])
            check(res[path] == ("good", None), "%s: %s" % (url, res))
        for url in info["crl"]:
            crl = w.new("cdp", "der")
            st, _, der = wait_for("a CRL at " + url, lambda: (
                lambda r: r if r[0] == 200 else None)(plain_get(url)))
            write(crl, der)
            rc, out = run(["openssl", "crl", "-inform", "DER", "-in", crl,
                           "-noout", "-verify", "-CAfile", ca],
                          check_rc=False)
            check(rc == 0 and "verify OK" in out, "%s: %s" % (url, out))
        # the record on every node: issued, under its profile
        c.wait_caught_up()
        for i in (1, 2, 3):
            for _, _, _, b, _ in issued:
                st, _, rec = c.get(i, "/v1/certs/" + b["fingerprint"])
                check(st == 200 and rec["source"] == "issued" and
                      rec["profile"] == "default" and
                      rec["status"] == "valid" and rec["owner"] == "biomed"
                      and rec["tags"] == ["pump"],
                      "node %d record: %s %s" % (i, st, rec))
        # a shorter validity on request
        key = new_key(w)
        b = issue(c, order[1], new_csr(w, key, "short.hospital.test",
                                       ["DNS:short.hospital.test"]),
                  validity="30d")
        info = cert_info(save_issued(w, b))
        check(info["not_after"] - info["not_before"] == 30 * DAY,
              "validity 30d asked, got %d s"
              % (info["not_after"] - info["not_before"]))
        # renewal without a CSR: same key, same names, new serial
        i0, old_path, old_key, old_b, old_info = issued[1]
        st, h, b = c.request(order[2], "POST", "/v1/certs/%s/renew" %
                             old_b["fingerprint"], body={}, timeout=30)
        check(st == 201, "renew: %s %s" % (st, b))
        p1 = save_issued(w, b, "renewed")
        i1 = cert_info(p1)
        check(i1["serial"] != old_info["serial"], "same serial")
        check(i1["subject"] == old_info["subject"] and
              i1["sans"] == old_info["sans"], "renewal changed the names")
        check(pubkey(p1) == pubkey(old_path), "renewal changed the key")
        check(b["profile"] == "default", "renewal profile %s" % b["profile"])
        rc, out = run(["openssl", "verify", "-CAfile", ca, p1],
                      check_rc=False)
        check(rc == 0, "renewed: %s" % out)
        # renewal with a new key: a CSR's own names are not taken
        new = new_key(w, "p256")
        csr = new_csr(w, new, "other.hospital.test",
                      ["DNS:other.hospital.test"])
        st, h, b = c.request(order[0], "POST", "/v1/certs/%s/renew" %
                             old_b["fingerprint"], body={"csr": csr},
                             timeout=30)
        check(st == 201, "renew with a CSR: %s %s" % (st, b))
        p2 = save_issued(w, b, "rekeyed")
        i2 = cert_info(p2)
        check(i2["serial"] not in (old_info["serial"], i1["serial"]),
              "same serial")
        check(i2["subject"] == old_info["subject"] and
              i2["sans"] == old_info["sans"], "re-key changed the names: "
              "%s %s" % (i2["subject"], i2["sans"]))
        check(pubkey(p2) == pubkey(new, True), "not the new key")
        check(i2["not_after"] - i2["not_before"] == 90 * DAY, "validity")
        st, _, rec = c.get(order[1], "/v1/certs/" + b["fingerprint"] +
                           "?consistency=leader")
        check(st == 200 and rec["source"] == "issued", "renewed record")
        print("  issued through leader %d and followers %s; renewed with "
              "the same and a new key" % (lead, order[1:]))
    finally:
        c.close()


def scenario_violations():
    """A strict profile; each kind of refusal gives its 4xx problem
    naming what is wrong, and the replicated state does not change."""
    c = Cluster(3)
    try:
        w = Work(c.var)
        lead = c.leader()
        strict = {
            "issuer": "local-ca", "key_types": ["p384", "rsa3072"],
            "max_validity": "10d", "rotate_after": "5d",
            "allow": {"dns": ["*.icu.hospital.test"],
                      "ip": ["10.20.0.0/16"],
                      "uri": ["urn:device:icu:*"],
                      "email": ["*@icu.hospital.test"],
                      "cn": ["icu-*"]},
            "key_usage": ["digitalSignature"], "eku": ["clientAuth"],
            "description": "ICU monitors, strict"}
        st, _, b = c.request(lead, "PUT", "/v1/profiles/strict", body=strict)
        check(st == 200, "strict profile: %s %s" % (st, b))
        auditor = c.make_client_cert("ca-auditor")
        enroller = c.make_client_cert("ca-enroller")
        stranger = c.make_client_cert("ca-stranger")
        for cn, role, profiles in (("ca-auditor", "auditor", []),
                                   ("ca-enroller", "enroller", ["default"])):
            st, _, b = c.request(lead, "PUT", "/v1/roles/" +
                                 urllib.parse.quote("CN=" + cn, safe=""),
                                 body={"role": role, "profiles": profiles})
            check(st == 200, "role %s: %s %s" % (cn, st, b))
        p384 = new_key(w, "p384")
        good_sans = ["DNS:icu-1.icu.hospital.test", "IP:10.20.1.1",
                     "URI:urn:device:icu:1", "email:icu@icu.hospital.test"]
        good = new_csr(w, p384, "icu-1", good_sans)
        # what is allowed is issued (the checks below refuse for the
        # reason they name, not for any)
        b = issue(c, lead, good, "strict")
        info = cert_info(save_issued(w, b))
        check(info["not_after"] - info["not_before"] == 10 * DAY,
              "strict validity")
        st, _, b = c.request(1, "POST", "/v1/issue", body={
            "csr": new_csr(w, new_key(w), "x.hospital.test",
                           ["DNS:x.hospital.test"]), "profile": "default"},
            cert=enroller[0], key=enroller[1], timeout=30)
        check(st == 201, "enroller within its profile: %s %s" % (st, b))
        # a certificate revoked for keyCompromise, and a key recorded as
        # compromised
        k1, k2 = new_key(w), new_key(w)
        b1 = issue(c, lead, new_csr(w, k1, "k1.hospital.test",
                                    ["DNS:k1.hospital.test"]))
        revoke(c, lead, b1["fingerprint"], "keyCompromise")
        csr2 = new_csr(w, k2, "k2.hospital.test", ["DNS:k2.hospital.test"])
        b2 = issue(c, lead, csr2)
        st, _, b = c.request(lead, "POST", "/v1/keys/%s/compromise"
                             % b2["cert"]["key_id"], body={})
        check(st == 200 and b["revoked"] == 1, "compromise: %s %s" % (st, b))
        # a quiet state: the first full CRL is out, every node caught up
        # and the delta that follows the revocations
        wait_for("the first CRL", lambda: fetch_crl(c, lead, w=w))
        c.settle()
        before = hashes(c, (1, 2, 3))
        check(len(set(before.values())) == 1, "hashes differ: %s" % before)
        seen = PROBLEMS_SEEN[0]

        def violation(csr, want, validity=None, node=None, n=1):
            body = {"csr": csr, "profile": "strict"}
            if validity:
                body["validity"] = validity
            st, h, b = c.request(node or 1 + len(want) % 3, "POST",
                                 "/v1/issue", body=body, timeout=30)
            check_problem(st, h, b, 400, "profile-violation")
            v = b.get("violations", [])
            check(len(v) == n and all(any(x.startswith(p) for x in v)
                                      for p in want),
                  "violations %s, expected %s" % (v, want))
            check(b.get("profile") == "strict", "profile %s" % b)
            return v

        # one request per kind of rule broken
        violation(new_csr(w, new_key(w, "p256"), "icu-2", good_sans),
                  ["key: ec 256 P-256 is not allowed"])
        violation(new_csr(w, new_key(w, "ed25519"), "icu-2", good_sans),
                  ["key: "])
        violation(new_csr(w, new_key(w, "rsa2048"), "icu-2", good_sans),
                  ["key: rsa 2048"])
        violation(new_csr(w, p384, "icu-2", good_sans[1:] +
                          ["DNS:icu-2.ward.hospital.test"]),
                  ['dns: "icu-2.ward.hospital.test" matches none'])
        violation(new_csr(w, p384, "icu-2", good_sans + ["IP:10.21.0.1"]),
                  ['ip: "10.21.0.1" matches none'])
        violation(new_csr(w, p384, "icu-2", good_sans +
                          ["URI:urn:device:ward:2"]),
                  ['uri: "urn:device:ward:2" matches none'])
        violation(new_csr(w, p384, "icu-2", good_sans +
                          ["email:someone@example.test"]),
                  ['email: "someone@example.test" matches none'])
        violation(new_csr(w, p384, "ward-2", good_sans),
                  ['subject: CN "ward-2" is not allowed'])
        violation(new_csr(w, p384, "icu-2"),
                  ["names: the request has no subjectAltName"])
        violation(good, ["validity: 11d is more than the profile's maximum "
                         "10d"], validity="11d")
        # several at once: every one listed
        violation(new_csr(w, new_key(w, "p256"), "ward-3",
                          ["DNS:a.example.test", "IP:192.168.1.1"]),
                  ["key: ", "dns: ", "ip: ", "subject: ", "validity: "],
                  validity="20d", n=5)
        # requests that are not a usable CSR
        der = w.new("good", "der")
        run(["openssl", "req", "-in", write(w.new("good", "csr"), good),
             "-outform", "DER", "-out", der])
        raw = bytearray(read(der, "rb"))
        raw[-3] ^= 0x55  # inside the signature value
        bad_sig = ("-----BEGIN CERTIFICATE REQUEST-----\n" +
                   base64.encodebytes(bytes(raw)).decode() +
                   "-----END CERTIFICATE REQUEST-----\n")
        for csr, words in (
                (bad_sig, ["signature"]),
                ("-----BEGIN CERTIFICATE REQUEST-----\nnot base64 at all!\n"
                 "-----END CERTIFICATE REQUEST-----\n", []),
                ("just some text", ["DER"]),
                (good.replace("-----END CERTIFICATE REQUEST-----", ""), [])):
            st, h, b = c.request(2, "POST", "/v1/issue", body={
                "csr": csr, "profile": "strict"}, timeout=30)
            check_problem(st, h, b, 400, "bad-csr", *words)
        # an oversized (but well-formed) request: 2000 SANs
        cnf = w.path("big.cnf")
        write(cnf, "[req]\ndistinguished_name=dn\nreq_extensions=ext\n"
              "prompt=no\n[dn]\nCN=icu-big\n[ext]\n"
              "subjectAltName=@alt\n[alt]\n" +
              "".join("DNS.%d=monitor-%04d.icu.hospital.test\n" % (k, k)
                      for k in range(1, 2001)))
        big = w.path("big.csr")
        run(["openssl", "req", "-new", "-key", p384, "-config", cnf,
             "-out", big])
        st, h, b = c.request(3, "POST", "/v1/issue", body={
            "csr": read(big), "profile": "strict"}, timeout=30)
        check_problem(st, h, b, 413, "bad-csr")
        # the request itself
        st, h, b = c.request(1, "POST", "/v1/issue", body={
            "csr": good, "profile": "no-such"}, timeout=30)
        check_problem(st, h, b, 404, "no-such-profile", "no-such")
        st, h, b = c.request(2, "POST", "/v1/issue", body={
            "csr": good, "profile": "strict", "colour": "blue"}, timeout=30)
        check_problem(st, h, b, 400, "invalid", "colour")
        st, h, b = c.request(3, "POST", "/v1/issue", body={
            "csr": good, "profile": "strict", "validity": "soon"})
        check_problem(st, h, b, 400, "invalid", "validity")
        st, h, b = c.request(1, "POST", "/v1/issue", body="{not json",
                             headers={"Content-Type": "application/json"})
        check(st == 400, "not JSON: %s %s" % (st, b))
        st, h, b = c.request(1, "POST", "/v1/certs/%s/renew" % ("ab" * 32),
                             body={})
        check_problem(st, h, b, 404, "not-found")
        # who asks
        st, h, b = c.request(2, "POST", "/v1/issue", body={
            "csr": good, "profile": "strict"}, cert=auditor[0],
            key=auditor[1], timeout=30)
        check_problem(st, h, b, 403, "forbidden", "ca-auditor")
        st, h, b = c.request(3, "POST", "/v1/issue", body={
            "csr": good, "profile": "default"}, cert=stranger[0],
            key=stranger[1], timeout=30)
        check_problem(st, h, b, 403, "no-role", "CN=ca-stranger")
        for node in (1, 2, 3):
            st, h, b = c.request(node, "POST", "/v1/issue", body={
                "csr": good, "profile": "strict"}, cert=enroller[0],
                key=enroller[1], timeout=30)
            check_problem(st, h, b, 403, "forbidden", "ca-enroller",
                          '"strict"')
        # no new certificate for a compromised key
        st, h, b = c.request(2, "POST", "/v1/certs/%s/renew"
                             % b1["fingerprint"], body={}, timeout=30)
        check_problem(st, h, b, 409, "key-compromised", "keyCompromise")
        st, h, b = c.request(3, "POST", "/v1/certs/%s/renew"
                             % b2["fingerprint"], body={}, timeout=30)
        check_problem(st, h, b, 409, "key-compromised")
        st, h, b = c.request(1, "POST", "/v1/issue", body={
            "csr": csr2, "profile": "default"}, timeout=30)
        check_problem(st, h, b, 409, "key-compromised",
                      b2["cert"]["key_id"])
        # nothing changed anywhere
        c.wait_caught_up()
        after = hashes(c, (1, 2, 3))
        check(after == before, "the state changed: %s -> %s"
              % (before, after))
        # the way out: renewal with a new key
        st, _, b = c.request(2, "POST", "/v1/certs/%s/renew"
                             % b1["fingerprint"], body={"csr": new_csr(
                                 w, new_key(w), "k1.hospital.test",
                                 ["DNS:k1.hospital.test"])}, timeout=30)
        check(st == 201 and b["cert"]["status"] == "valid",
              "renew with a new key: %s %s" % (st, b))
        print("  %d refusals, state hash %s... unchanged on 3 nodes"
              % (PROBLEMS_SEEN[0] - seen, before[1][1][:16]))
    finally:
        c.close()


def scenario_ocsp():
    """OCSP on every node with the openssl client: revoked within 1 s of
    the acknowledgement (with its reason), good for the others, unknown
    for serials never issued; POST with nonces, SHA-256 CertIDs, several
    at once; GET by hand, base64 with '/' and '+' raw and %-encoded;
    responses signed by each node's delegated responder and verified
    against the CA; malformed requests; a hold and its release."""
    c = Cluster(3)
    try:
        w = Work(c.var)
        lead = c.leader()
        follower = 1 + lead % 3
        ca = write(w.path("ca.pem"), read(c.env["LOCAL_CA_CERT"]))
        certs = {}
        for name in ("revoked", "good", "held"):
            key = new_key(w)
            b = issue(c, lead, new_csr(w, key, name + ".hospital.test",
                                       ["DNS:%s.hospital.test" % name]))
            certs[name] = (save_issued(w, b, name), b["fingerprint"])
        rev, good, held = (certs[k][0] for k in ("revoked", "good", "held"))
        unknown = "0x" + secrets.token_hex(16)
        c.wait_caught_up()
        for i in (1, 2, 3):
            res = ocsp_query(ca, http_url(c, i) + "/ocsp", [rev, good])
            check(res[rev] == ("good", None) and res[good] == ("good", None),
                  "before: node %d %s" % (i, res))

        def seen_by_all(path, want):
            """Polls every node (openssl ocsp, no nonce: a cacheable
            request) until each answers want; the seconds each took."""
            t0 = time.time()
            took = {}

            def poll(i):
                while time.time() - t0 < 5:
                    r = ocsp_query(ca, http_url(c, i) + "/ocsp", [path],
                                   nonce=False)
                    if r[path] == want:
                        took[i] = time.time() - t0
                        return
                    time.sleep(0.02)
            ts = [threading.Thread(target=poll, args=(i,)) for i in (1, 2, 3)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            check(len(took) == 3, "%s: only nodes %s answered %s"
                  % (path, sorted(took), want))
            return took

        # the cached "good" answers must not outlive the revocation
        revoke(c, follower, certs["revoked"][1], "keyCompromise")
        took = seen_by_all(rev, ("revoked", "keyCompromise"))
        check(max(took.values()) <= 1.0,
              "revocation seen only after %s s" % took)
        print("  revoked through node %d; seen revoked by every node "
              "within %.2f s" % (follower, max(took.values())))
        tokens = {}
        other = c.make_client_cert("stranger", ca="foreign")
        for i in (1, 2, 3):
            url = http_url(c, i) + "/ocsp"
            # POST, nonce, SHA-1 CertIDs, three at once (one never issued)
            res = ocsp_query(ca, url, [rev, good], serials=[unknown])
            check(res == {rev: ("revoked", "keyCompromise"),
                          good: ("good", None),
                          unknown: ("unknown", None)},
                  "node %d: %s" % (i, res))
            # SHA-256 CertIDs
            res = ocsp_query(ca, url, [good, rev], sha256=True)
            check(res == {rev: ("revoked", "keyCompromise"),
                          good: ("good", None)},
                  "node %d sha256: %s" % (i, res))
            # the TLS public listener answers the same
            res = ocsp_query(ca, c.env["NODE%d_PUBLIC" % i] + "/ocsp",
                             [rev], sha256=True)
            check(res[rev][0] == "revoked", "public listener %d" % i)
            # GET (RFC 6960 A.1), base64 with '/' and '+': raw, then
            # %-encoded
            req, b64 = ocsp_request(w, ca, [rev], want="/+")
            for path in ("/ocsp/" + b64,
                         "/ocsp/" + urllib.parse.quote(b64, safe="")):
                st, h, body = plain_get(http_url(c, i) + path)
                check(st == 200 and
                      h["content-type"] == "application/ocsp-response",
                      "GET %s on node %d: %s" % (path, i, st))
                resp = write(w.new("ocsp", "resp"), body)
                out = ocsp_check_response(ca, req, resp)
                check("Cert Status: revoked" in out and
                      "Revocation Reason: keyCompromise (0x1)" in out,
                      "GET node %d: %s" % (i, out))
                # the signer: this node's delegated responder
                check("OCSP Signing" in out and "OCSP No Check" in out,
                      "responder certificate: %s" % out)
                tokens[i] = re.search(r"Responder Id: (\S+)", out).group(1)
            # malformed requests: unsigned errors
            st, h, body = plain_post(url, b"\x30\x03\x02\x01\x01",
                                     "application/ocsp-request")
            check(st == 200 and ocsp_error(body) == "malformedrequest",
                  "malformed POST on node %d: %s" % (i, ocsp_text(body)))
            st, h, body = plain_get(url + "/not%20base64!")
            check(ocsp_error(body) == "malformedrequest",
                  "malformed GET on node %d: %s" % (i, ocsp_text(body)))
            # an issuer this cluster does not have
            st, h, body = plain_post(url, read(ocsp_request(
                w, other[0].replace(".pem", "-ca.pem"), [other[0]],
                nonce=False)[0], "rb"), "application/ocsp-request")
            check(ocsp_error(body) == "unauthorized",
                  "foreign issuer on node %d: %s" % (i, ocsp_text(body)))
        check(len(set(tokens.values())) == 3,
              "the nodes share a responder: %s" % tokens)
        # a hold, then its release
        revoke(c, lead, certs["held"][1], "certificateHold")
        seen_by_all(held, ("revoked", "certificateHold"))
        b = revoke(c, follower, certs["held"][1], "removeFromCRL")
        check(b["status"] == "valid", "after removeFromCRL: %s" % b)
        took = seen_by_all(held, ("good", None))
        check(max(took.values()) <= 1.0, "release seen after %s" % took)
        revoke(c, lead, certs["held"][1], "removeFromCRL", expect=409)
        for i in (1, 2, 3):
            res = ocsp_query(ca, http_url(c, i) + "/ocsp", [held, rev, good],
                             sha256=True)
            check(res == {held: ("good", None), good: ("good", None),
                          rev: ("revoked", "keyCompromise")},
                  "after the release, node %d: %s" % (i, res))
        print("  POST/GET/SHA-256/multi/unknown/malformed/unauthorized on 3 "
              "nodes, 3 responder certificates; hold released")
    finally:
        c.close()


def scenario_crl():
    """Every node's CRLs with openssl: a revoked certificate fails
    `verify -crl_check` with "certificate revoked", the others pass; every
    reason appears by its name; a delta CRL (Delta CRL Indicator) carries
    the newer revocations and a released hold as removeFromCRL; CRL
    numbers and contents are the same on every node."""
    c = Cluster(3, "crl-interval 8s\ncrl-delay 1s\n")
    try:
        w = Work(c.var)
        lead = c.leader()
        ca = write(w.path("ca.pem"), read(c.env["LOCAL_CA_CERT"]))
        key = new_key(w)
        csr = new_csr(w, key, "crl.hospital.test", ["DNS:crl.hospital.test"])
        certs = {}
        for name in list(REASONS) + ["good", "released", "later"]:
            b = issue(c, 1 + len(certs) % 3, csr)
            certs[name] = (save_issued(w, b, name), b["fingerprint"],
                           int(b["serial"], 16))
        for k, reason in enumerate(REASONS):
            b = revoke(c, 1 + k % 3, certs[reason][1], reason)
            check(b["status"] == "revoked" and
                  b["revocation"]["reason"] == reason,
                  "revocation record: %s" % b)
        revoke(c, 2, certs["released"][1], "certificateHold")
        # the API's refusals about reasons
        st, h, b = c.request(1, "POST", "/v1/certs/%s/revoke" %
                             certs["good"][1], body={"reason": "stolen"})
        check_problem(st, h, b, 400, "bad-reason")
        revoke(c, 3, certs["good"][1], "removeFromCRL", expect=409)
        revoke(c, 3, certs["keyCompromise"][1], "superseded", expect=409)
        st, h, b = c.request(1, "POST", "/v1/revocations", body={
            "tag": "x", "reason": "removeFromCRL"})
        check_problem(st, h, b, 400, "bad-reason")
        revoked = {certs[r][2] for r in REASONS} | {certs["released"][2]}

        # a full CRL with all of them, on the leader
        def full_with_all():
            got = fetch_crl(c, lead, w=w)
            if got and revoked <= set(crl_entries(got[2])):
                return got
        full = wait_for("a full CRL with the revocations", full_with_all,
                        timeout=30, every=0.3)
        number = full[1]
        # at once, before the next full CRL: release the hold and revoke
        # one more, which the next delta carries
        revoke(c, 3, certs["released"][1], "removeFromCRL")
        revoke(c, 1, certs["later"][1], "keyCompromise")

        # the same full CRL on every node
        def full_on(i):
            got = fetch_crl(c, i, w=w)
            return got if got and got[1] >= number else None
        fulls = {i: wait_for("node %d's CRL %d" % (i, number),
                             lambda: full_on(i)) for i in (1, 2, 3)}
        deltas = {}
        for i in (1, 2, 3):
            def delta_on(i=i):
                got = fetch_crl(c, i, w=w, delta=True)
                if got and certs["later"][2] in crl_entries(got[2]):
                    return got
            deltas[i] = wait_for("node %d's delta CRL" % i, delta_on,
                                 timeout=12, every=0.2)
        check(len({f[1] for f in fulls.values()}) == 1,
              "full CRL numbers differ: %s" %
              {i: f[1] for i, f in fulls.items()})
        check(len({crl_content(f[2]) for f in fulls.values()}) == 1,
              "full CRL contents differ between nodes")
        check(len({d[1] for d in deltas.values()}) == 1 and
              len({crl_content(d[2]) for d in deltas.values()}) == 1,
              "delta CRLs differ: %s" % {i: d[1] for i, d in deltas.items()})
        full_number = fulls[1][1]
        delta_number = deltas[1][1]
        for i in (1, 2, 3):
            der, _, text = fulls[i]
            rc, out = run(["openssl", "crl", "-inform", "DER", "-in", der,
                           "-noout", "-verify", "-CAfile", ca],
                          check_rc=False)
            check(rc == 0 and "verify OK" in out, "CRL signature: %s" % out)
            entries = crl_entries(text)
            for reason, name in REASONS.items():
                check(entries.get(certs[reason][2], "missing") == name,
                      "node %d: %s listed as %r" %
                      (i, reason, entries.get(certs[reason][2], "missing")))
            check(entries.get(certs["released"][2]) == "Certificate Hold",
                  "the hold in the full CRL")
            check(certs["good"][2] not in entries, "good one listed")
            pem = to_pem_crl(w, der)
            for name, (path, _, _) in certs.items():
                if name == "later":
                    continue
                rc, out = verify_with_crl(ca, [pem], path)
                if name == "good":
                    check(rc == 0 and ": OK" in out,
                          "node %d: good certificate: %s" % (i, out))
                else:
                    check(rc != 0 and "certificate revoked" in out,
                          "node %d: %s passed: %s" % (i, name, out))
            # the PEM form is the same CRL
            st, _, body = plain_get(http_url(c, i) + "/crl/local-ca.pem")
            pem2 = write(w.new("crl", "pem"), body)
            _, t2 = run(["openssl", "crl", "-in", pem2, "-noout", "-text"])
            check(st == 200 and crl_content(t2).count("Serial Number") ==
                  crl_content(text).count("Serial Number"), "PEM CRL")
            # the delta: on this full CRL, with the later revocation and
            # the released hold
            dder, dnum, dtext = deltas[i]
            rc, out = run(["openssl", "crl", "-inform", "DER", "-in", dder,
                           "-noout", "-verify", "-CAfile", ca],
                          check_rc=False)
            check(rc == 0 and "verify OK" in out, "delta signature: %s" % out)
            m = re.search(r"X509v3 Delta CRL Indicator: critical\s*\n\s+(\d+)",
                          dtext)
            check(m is not None, "no critical Delta CRL Indicator: %s" % dtext)
            check(int(m.group(1)) == full_number and dnum > full_number,
                  "delta %d on base %s, full CRL %d" %
                  (dnum, m.group(1), full_number))
            dent = crl_entries(dtext)
            check(dent.get(certs["later"][2]) == "Key Compromise",
                  "delta lacks the later revocation: %s" % dent)
            check(dent.get(certs["released"][2]) == "Remove From CRL",
                  "delta lacks the released hold: %s" % dent)
            # the full CRL names its delta (FreshestCRL), so relying
            # parties find it; openssl combines the two with -use_deltas
            check(re.search(r"Freshest CRL:.*?URI:http://[^\s]+/crl/"
                            r"local-ca-delta\.crl", text, re.S) is not None,
                  "node %d: no FreshestCRL in the full CRL: %s" % (i, text))
            dpem = to_pem_crl(w, dder)
            rc, out = verify_with_crl(ca, [pem, dpem], certs["later"][0],
                                      deltas=True)
            check(rc != 0 and "certificate revoked" in out,
                  "node %d: full + delta let the later revocation pass: %s"
                  % (i, out))
            rc, out = verify_with_crl(ca, [pem, dpem], certs["good"][0],
                                      deltas=True)
            check(rc == 0, "node %d: full + delta refuse the good "
                  "certificate: %s" % (i, out))
        print("  full CRL %d and delta CRL %d identical on 3 nodes; %d "
              "reasons by name; a released hold as removeFromCRL"
              % (full_number, delta_number, len(REASONS)))
    finally:
        c.close()


def scenario_failover():
    """kill -9 of the leader while certificates are being issued: OCSP and
    CRLs keep answering on the survivors at once, issuance resumes on the
    new leader, every acknowledged issuance is on both survivors."""
    c = Cluster(3, "crl-interval 5s\ncrl-delay 1s\n")
    try:
        w = Work(c.var)
        lead = c.leader()
        ca = write(w.path("ca.pem"), read(c.env["LOCAL_CA_CERT"]))
        key = new_key(w)
        csr = new_csr(w, key, "fo.hospital.test", ["DNS:fo.hospital.test"])
        rb = issue(c, lead, csr)
        rev = save_issued(w, rb, "revoked")
        revoke(c, lead, rb["fingerprint"], "superseded")
        gb = issue(c, lead, csr)
        good = save_issued(w, gb, "good")
        wait_for("a CRL with the revocation", lambda: all(
            int(rb["serial"], 16) in crl_entries((fetch_crl(c, i, w=w) or
                                                  (0, 0, ""))[2])
            for i in (1, 2, 3)), timeout=20, every=0.3)
        acked = []  # (time, fingerprint)
        stop = threading.Event()

        def writer(k):
            node = 1 + k % 3
            while not stop.is_set():
                try:
                    st, _, b = c.request(node, "POST", "/v1/issue", body={
                        "csr": csr, "profile": "default"}, timeout=10)
                except Exception:
                    st = None
                if st == 201:
                    acked.append((time.time(), b["fingerprint"]))
                else:
                    node = 1 + node % 3
                    time.sleep(0.05)
        ts = [threading.Thread(target=writer, args=(k,), daemon=True)
              for k in range(3)]
        for t in ts:
            t.start()
        time.sleep(2)
        c.kill(lead, signal.SIGKILL)
        t_kill = time.time()
        survivors = [i for i in (1, 2, 3) if i != lead]
        # status on the survivors, before any new leader
        for i in survivors:
            res = ocsp_query(ca, http_url(c, i) + "/ocsp", [rev, good])
            check(res == {rev: ("revoked", "superseded"),
                          good: ("good", None)},
                  "node %d after the kill: %s" % (i, res))
            der, _, text = fetch_crl(c, i, w=w)
            rc, out = verify_with_crl(ca, [to_pem_crl(w, der)], rev)
            check(rc != 0 and "certificate revoked" in out,
                  "node %d CRL after the kill: %s" % (i, out))
        t_status = time.time() - t_kill
        # issuance resumes (the writers retry; wait for one)
        wait_for("an issuance after the kill", lambda: any(
            t > t_kill for t, _ in acked), timeout=30, every=0.1)
        t_resume = min(t for t, _ in acked if t > t_kill) - t_kill
        time.sleep(0.5)
        stop.set()
        for t in ts:
            t.join(timeout=30)
        new = c.leader(among=survivors)
        check(new != lead, "the leader is still %d" % new)
        c.wait_caught_up(survivors)
        before = [fp for t, fp in acked if t <= t_kill]
        check(before, "nothing was acknowledged before the kill")
        for i in survivors:
            missing = [fp for _, fp in acked
                       if c.get(i, "/v1/certs/" + fp)[0] != 200]
            check(not missing, "node %d lacks %d acknowledged issuances"
                  % (i, len(missing)))
        # (the new leader publishes CRLs on its own schedule meanwhile)
        h = c.hashes_at_one_index(survivors)
        check(len(set(h.values())) == 1, "survivors differ: %s" % h)
        # and the new leader keeps publishing CRLs
        n0 = fetch_crl(c, new, w=w)[1]
        wait_for("a new CRL from leader %d" % new,
                 lambda: fetch_crl(c, survivors[0], w=w)[1] > n0,
                 timeout=20, every=0.5)
        print("  killed leader %d: status answered by %s (%.2f s), "
              "issuance resumed after %.2f s on leader %d; %d issued "
              "(%d before the kill), all on the survivors"
              % (lead, survivors, t_status, t_resume, new, len(acked),
                 len(before)))
    finally:
        c.close()


def scenario_staleness():
    """ocsp-staleness 3s: a node left alone keeps answering good/revoked
    until it has known no leader for 3 s, then tryLater (never before);
    with its peers back it answers again. A node restarted alone (its
    snapshot older than a revocation in its log) answers tryLater, never
    a stale good; with a leader back it answers revoked."""
    c = Cluster(3, "ocsp-staleness 3s\nsnapshot-threshold 16\n"
                "snapshot-trailing 8\n")
    try:
        w = Work(c.var)
        lead = c.leader()
        ca = write(w.path("ca.pem"), read(c.env["LOCAL_CA_CERT"]))
        key = new_key(w)
        csr = new_csr(w, key, "st.hospital.test", ["DNS:st.hospital.test"])
        rb = issue(c, lead, csr)
        rev = save_issued(w, rb, "revoked")
        good = save_issued(w, issue(c, lead, csr), "good")
        # a snapshot holds the certificate valid; the revocation comes
        # after it, in the log only
        for pem in gencerts(20, "staleness"):
            st, _, _ = c.import_pem(lead, pem)
            check(st == 201, "import")
        revoke(c, lead, rb["fingerprint"], "cessationOfOperation")
        c.wait_caught_up()
        snaps = [c.cluster(i)["fsm"]["snapshots"] for i in (1, 2, 3)]
        check(min(snaps) >= 1, "snapshots: %s" % snaps)
        alone = 1 + lead % 3
        others = [i for i in (1, 2, 3) if i != alone]
        req = ocsp_request(w, ca, [rev, good], nonce=False)[0]
        url = http_url(c, alone) + "/ocsp"

        def ask():
            """None for tryLater, else the signed answer as text."""
            st, _, body = plain_post(url, read(req, "rb"),
                                     "application/ocsp-request")
            err = ocsp_error(body)
            if err is not None:
                check(err == "trylater", "node %d: %s" % (alone, err))
                return None
            resp = write(w.new("ocsp", "resp"), body)
            return ocsp_check_response(ca, req, resp)

        # both peers stop at once (SIGTERM, an orderly stop); the node
        # left alone is asked all along
        for i in others:
            os.kill(c.pids[i], signal.SIGTERM)
        t_stop = time.time()
        answers = []  # (seconds since the peers were told to stop, text)
        while time.time() - t_stop < 25:
            out = ask()
            answers.append((time.time() - t_stop, out))
            if out is None:
                break
            check(out.count("Cert Status: good") == 1 and
                  out.count("Cert Status: revoked") == 1,
                  "node %d alone: %s" % (alone, out))
            time.sleep(0.2)
        for i in others:
            c.stop(i)  # gone by now; reaps them
        first_try_later = [t for t, out in answers if out is None]
        check(first_try_later, "node %d never answered tryLater"
              % alone)
        check(first_try_later[0] >= 3.0, "tryLater %.2f s after the peers "
              "stopped, before the 3 s bound" % first_try_later[0])
        check(answers[0][1] is not None, "tryLater at once")
        # the openssl client sees it too
        rc, out = run(["openssl", "ocsp", "-issuer", ca, "-cert", good,
                       "-url", url, "-CAfile", ca], check_rc=False)
        check("trylater" in out.lower(), "openssl ocsp: %s" % out)
        # CRLs are still served: a signed object with its own nextUpdate
        check(fetch_crl(c, alone, w=w) is not None, "no CRL while alone")
        for i in others:
            c.start(i)
        c.leader(timeout=30)
        wait_for("node %d answering again" % alone, ask, timeout=30,
                 every=0.2)
        res = ocsp_query(ca, url, [rev, good])
        check(res == {rev: ("revoked", "cessationOfOperation"),
                      good: ("good", None)}, "after: %s" % res)
        # every node down; one restarted alone: its state is of unknown
        # age (the revocation is in its log, not in its snapshot)
        for i in (1, 2, 3):
            c.stop(i)
        c.start(alone)
        wait_for("node %d listening" % alone, lambda: plain_get(
            http_url(c, alone) + "/healthz")[0] == 200)
        t = time.time()
        n_alone = 0
        while time.time() - t < 2.5:
            out = ask()
            check(out is None, "node %d restarted alone answered: %s"
                  % (alone, out))
            n_alone += 1
            time.sleep(0.1)
        for i in others:
            c.start(i)
        c.leader(timeout=30)
        wait_for("node %d answering after the restart" % alone, ask,
                 timeout=30, every=0.2)
        res = ocsp_query(ca, url, [rev, good])
        check(res == {rev: ("revoked", "cessationOfOperation"),
                      good: ("good", None)}, "after the restart: %s" % res)
        print("  node %d alone: %d good/revoked answers, tryLater from "
              "%.1f s; restarted alone: tryLater (%d asks); answers again "
              "with its peers back"
              % (alone, len(answers) - 1, first_try_later[0], n_alone))
    finally:
        c.close()


def scenario_crl100k():
    """100,000 certificates of local-ca (tests/tools/gencerts with its
    key) imported in batches of 1000 with a tag, revoked in one bulk
    revocation: the next full CRL lists exactly them, every node serves
    it and `openssl crl -verify` accepts it. Prints the build time from
    the node logs and /healthz latency during the build."""
    n = 100000
    c = Cluster(3, "crl-interval 5s\ncrl-delay 1s\n")
    try:
        w = Work(c.var)
        lead = c.leader()
        ca = write(w.path("ca.pem"), read(c.env["LOCAL_CA_CERT"]))
        tool = os.environ.get("GENCERTS") or os.path.join(
            os.environ.get("CS_BUILDDIR") or os.path.join(
                os.path.dirname(os.path.abspath(__file__)), "..", "..",
                "build"), "tests", "tools", "gencerts")
        t = time.time()
        out = subprocess.run([tool, "--issuer-cert", c.env["LOCAL_CA_CERT"],
                              "--issuer-key", c.env["LOCAL_CA_KEY"], str(n),
                              "crl"], check=True, capture_output=True
                             ).stdout.decode()
        pems = [p + "-----END CERTIFICATE-----\n"
                for p in out.split("-----END CERTIFICATE-----\n")
                if p.strip()]
        del out
        check(len(pems) == n, "gencerts made %d" % len(pems))
        t_gen = time.time() - t
        t = time.time()
        serials = set()
        lock = threading.Lock()
        failures = []

        def importer(first):
            # two connections to the leader, alternate batches: one
            # batch is parsed while the other is replicated
            conn = c.conn(lead, timeout=60)
            try:
                for k in range(first, n, 2000):
                    st, _, b = c.request(lead, "POST", "/v1/certs", body={
                        "pem": "".join(pems[k:k + 1000]),
                        "tags": ["batch-100k"]}, conn=conn, timeout=60)
                    if st != 201 or b["imported"] != 1000:
                        failures.append("batch %d: %s %s"
                                        % (k // 1000, st, str(b)[:300]))
                        return
                    with lock:
                        serials.update(int(x["serial"], 16)
                                       for x in b["certificates"])
            finally:
                conn.close()
        ts = [threading.Thread(target=importer, args=(first,))
              for first in (0, 1000)]
        for th in ts:
            th.start()
        for th in ts:
            th.join()
        check(not failures, "import: %s" % failures)
        del pems
        t_import = time.time() - t
        check(len(serials) == n, "%d distinct serials" % len(serials))
        # a few of them through OCSP: known, good
        # healthz latency on every node while the CRL is made
        lat = {i: [] for i in (1, 2, 3)}
        stop = threading.Event()

        def probe(i):
            u = urllib.parse.urlsplit(http_url(c, i))
            while not stop.is_set():
                t0 = time.time()
                conn = http.client.HTTPConnection(u.hostname, u.port,
                                                  timeout=10)
                try:
                    conn.request("GET", "/healthz")
                    ok = conn.getresponse().status == 200
                except Exception:
                    ok = False
                finally:
                    conn.close()
                lat[i].append((t0, (time.time() - t0) * 1000 if ok
                               else None))
                time.sleep(0.02)
        probes = [threading.Thread(target=probe, args=(i,), daemon=True)
                  for i in (1, 2, 3)]
        for p in probes:
            p.start()
        t = time.time()
        st, _, b = c.request(2, "POST", "/v1/revocations", body={
            "tag": "batch-100k", "reason": "superseded"}, timeout=60)
        check(st == 200 and b["revoked"] == n, "bulk revoke: %s %s"
              % (st, b))
        t_acked = time.time()
        t_revoke = t_acked - t

        def big_crl(i):
            got = fetch_crl(c, i, w=w)
            if got and "Serial Number" in got[2]:
                return got
        crls = {i: wait_for("node %d's big CRL" % i, lambda i=i: big_crl(i),
                            timeout=60, every=0.5) for i in (1, 2, 3)}
        stop.set()
        for p in probes:
            p.join(timeout=15)
        for i, (der, number, text) in crls.items():
            entries = crl_entries(text)
            check(set(entries) == serials,
                  "node %d: CRL %d has %d entries, %d of them ours"
                  % (i, number, len(entries), len(serials & set(entries))))
            check(set(entries.values()) == {"Superseded"}, "reasons")
            rc, out = run(["openssl", "crl", "-inform", "DER", "-in", der,
                           "-noout", "-verify", "-CAfile", ca],
                          check_rc=False)
            check(rc == 0 and "verify OK" in out, "node %d: %s" % (i, out))
        builds = []
        for i in (1, 2, 3):
            for line in read(c.env["NODE%d_LOG" % i]).splitlines():
                m = re.search(r"crl built issuer=local-ca number=(\d+) "
                              r"delta=(\d) entries=(\d+) bytes=(\d+) "
                              r"seconds=([\d.]+)", line)
                if m and int(m.group(3)) >= n:
                    builds.append((i, int(m.group(1)), int(m.group(2)),
                                   int(m.group(4)), float(m.group(5))))
        check(builds, "no 'crl built' line for %d entries" % n)
        print("  generated %d in %.1f s, imported in %.1f s, bulk revoke "
              "%.2f s" % (n, t_gen, t_import, t_revoke))
        for i in (1, 2, 3):
            mine = [x for x in builds if x[0] == i]
            print("  node %d built %s" % (i, ", ".join(
                "%s CRL %d (%d bytes) in %.3f s"
                % ("delta" if delta else "full", number, size, secs)
                for _, number, delta, size, secs in mine[:3])))
        for i in (1, 2, 3):
            ok = sorted((ms, t0) for t0, ms in lat[i] if ms is not None)
            if ok:
                print("  node %d /healthz from the bulk revocation to the "
                      "CRL: %d probes, median %.1f ms, max %.1f ms (%+.1f s "
                      "from the revocation's acknowledgement), %d failed"
                      % (i, len(lat[i]), ok[len(ok) // 2][0], ok[-1][0],
                         ok[-1][1] - t_acked, len(lat[i]) - len(ok)))
    finally:
        c.close()


FAKETIME_LIBS = ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/faketime/libfaketime.so.1")


def scenario_faketime():
    """Nodes under libfaketime (wall clock only; monotonic time real, so
    raft and libuv timers keep their pace): a certificate issued at +0 is
    neither expiring within 30 days nor due for rotation; at +61 days it
    is both, on every node; at +91 days it is expired."""
    lib = os.environ.get("FAKETIME_LIB") or next(
        (p for p in FAKETIME_LIBS if os.path.exists(p)), None)
    check(lib, "libfaketime.so.1 not found (Debian package faketime)")
    d = tempfile.mkdtemp(prefix="cs-faketime-")
    ts = write(os.path.join(d, "faketime"), "+0\n")
    c = None
    try:
        c = Cluster(3, env={"LD_PRELOAD": lib,
                            "FAKETIME_TIMESTAMP_FILE": ts,
                            "FAKETIME_NO_CACHE": "1",
                            "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
        w = Work(c.var)
        lead = c.leader()
        key = new_key(w)
        b = issue(c, lead, new_csr(w, key, "pump.hospital.test",
                                   ["DNS:pump.hospital.test"]))
        fp = b["fingerprint"]
        c.wait_caught_up()

        def listed(i, path):
            st, _, body = c.get(i, path)
            check(st == 200, "%s on node %d: %s %s" % (path, i, st, body))
            return {x["fingerprint"]: x for x in body["items"]}

        for i in (1, 2, 3):
            check(fp not in listed(i, "/v1/expiring?within=30d"),
                  "expiring at +0 on node %d" % i)
            check(fp not in listed(i, "/v1/rotation-due"),
                  "rotation due at +0 on node %d" % i)
        write(ts, "+61d\n")
        for i in (1, 2, 3):
            # the nodes' clocks moved: a fresh read answers from +61d
            exp = wait_for("node %d expiring at +61d" % i, lambda i=i:
                           listed(i, "/v1/expiring?within=30d").get(fp))
            check(28 * DAY < exp["expires_in_s"] <= 29 * DAY + 600,
                  "expires_in_s %s at +61d" % exp["expires_in_s"])
            due = listed(i, "/v1/rotation-due").get(fp)
            check(due is not None, "not rotation-due at +61d on node %d" % i)
            st, _, rec = c.get(i, "/v1/certs/" + fp)
            check(rec["status"] == "valid", "status at +61d: %s" % rec)
        # writes still work at +61d (the leader's clock decides times)
        b2 = issue(c, lead, new_csr(w, key, "pump2.hospital.test",
                                    ["DNS:pump2.hospital.test"]))
        i2 = cert_info(save_issued(w, b2))
        check(i2["not_before"] > time.time() + 60 * DAY,
              "issued at +61d with notBefore %d" % i2["not_before"])
        write(ts, "+91d\n")
        for i in (1, 2, 3):
            wait_for("node %d: expired at +91d" % i, lambda i=i:
                     c.get(i, "/v1/certs/" + fp)[2]["status"] == "expired")
            check(fp not in listed(i, "/v1/expiring?within=30d"),
                  "an expired certificate listed as expiring")
        write(ts, "+0\n")
        print("  at +61d: expiring within 30d and rotation-due on 3 nodes; "
              "expired at +91d")
    finally:
        if c is not None:
            c.close()
        shutil.rmtree(d, ignore_errors=True)


SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


def scenario_hsm():
    """A CA whose key lives in SoftHSM2 (PKCS#11): registered by a
    pkcs11: URI with a PIN that the API never shows; certificates issued
    under a profile that uses it verify with openssl; every node signs
    OCSP responses (its responder certified by the HSM key) and CRLs with
    it."""
    d = tempfile.mkdtemp(prefix="cs-hsm-")
    c = None
    try:
        tokens = os.path.join(d, "tokens")
        os.makedirs(tokens)
        conf = write(os.path.join(d, "softhsm2.conf"),
                     "directories.tokendir = %s\nobjectstore.backend = file\n"
                     "log.level = ERROR\n" % tokens)
        env = dict(os.environ, SOFTHSM2_CONF=conf,
                   PKCS11_MODULE_PATH=SOFTHSM_MODULE)
        pin = "71" + secrets.token_hex(3)
        run(["softhsm2-util", "--init-token", "--free", "--label", "cs-ca",
             "--so-pin", "5" + pin, "--pin", pin], env=env)
        run(["pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label",
             "cs-ca", "--login", "--pin", pin, "--keypairgen", "--key-type",
             "EC:prime256v1", "--label", "ca-key", "--id", "01"], env=env)
        uri = "pkcs11:token=cs-ca;object=ca-key;type=private"
        ca = os.path.join(d, "hsm-ca.pem")
        run(["openssl", "req", "-new", "-x509", "-engine", "pkcs11",
             "-keyform", "engine", "-key", uri + ";pin-value=" + pin,
             "-subj", "/O=Hospital/CN=HSM device CA", "-days", "3650",
             "-sha256", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign,"
             "digitalSignature", "-addext", "subjectKeyIdentifier=hash",
             "-out", ca], env=env)
        c = Cluster(3, "crl-interval 4s\ncrl-delay 1s\n",
                    env={"SOFTHSM2_CONF": conf})
        w = Work(c.var)
        lead = c.leader()
        # a PIN inside the reference would be replicated and backed up:
        # refused; each node reads it from a file of its own instead
        st, h, b = c.request(1, "PUT", "/v1/issuers/hsm-ca", body={
            "certificate": read(ca), "key_ref": uri + "?pin-value=" + pin,
            "description": "pin in the reference"}, timeout=30)
        check_problem(st, h, b, 400, "bad-key-ref")
        check(pin not in json.dumps(b), "the PIN echoed: %s" % b)
        bad_pin = write(os.path.join(d, "wrong.pin"), "0000")
        os.chmod(bad_pin, 0o600)
        st, h, b = c.request(1, "PUT", "/v1/issuers/hsm-ca", body={
            "certificate": read(ca),
            "key_ref": uri + "?pin-source=file:" + bad_pin,
            "description": "wrong pin"}, timeout=30)
        check_problem(st, h, b, 400, "bad-key-ref")
        check("0000" not in json.dumps(b), "the PIN echoed: %s" % b)
        pin_file = write(os.path.join(d, "ca.pin"), pin)
        os.chmod(pin_file, 0o600)
        st, h, b = c.request(2, "PUT", "/v1/issuers/hsm-ca", body={
            "certificate": read(ca),
            "key_ref": uri + "?pin-source=file:" + pin_file,
            "description": "device CA in SoftHSM2"}, timeout=30)
        check(st == 200, "register the HSM issuer: %s %s" % (st, b))
        c.wait_caught_up()
        for i in (1, 2, 3):
            st, _, b = c.get(i, "/v1/issuers/hsm-ca")
            check(st == 200 and b["key"] == "ok",
                  "node %d: the HSM key: %s" % (i, b))
            check(b["key_ref"].startswith("pkcs11:token=cs-ca") and
                  pin not in json.dumps(b), "node %d shows the PIN: %s"
                  % (i, b["key_ref"]))
            st, _, b = c.get(i, "/v1/issuers")
            check(pin not in json.dumps(b), "the issuer list shows the PIN")
        st, _, b = c.request(lead, "PUT", "/v1/profiles/hsm", body={
            "issuer": "hsm-ca", "key_types": ["p256"], "max_validity": "30d",
            "allow": {"dns": ["*.hospital.test"]},
            "key_usage": ["digitalSignature"], "eku": ["clientAuth"]})
        check(st == 200, "profile hsm: %s %s" % (st, b))
        key = new_key(w)
        issued = []
        for i in (1, 2, 3):
            b = issue(c, i, new_csr(w, key, "hsm-%d.hospital.test" % i,
                                    ["DNS:hsm-%d.hospital.test" % i]), "hsm")
            path = save_issued(w, b, "hsm")
            rc, out = run(["openssl", "verify", "-CAfile", ca, path],
                          check_rc=False)
            check(rc == 0, "verify against the HSM CA: %s" % out)
            check(cert_info(path)["not_after"] -
                  cert_info(path)["not_before"] == 30 * DAY, "validity")
            issued.append((path, b))
        rev, good = issued[0][0], issued[1][0]
        revoke(c, 3, issued[0][1]["fingerprint"], "keyCompromise")
        t_ack = time.time()
        for i in (1, 2, 3):
            res = wait_for("node %d: OCSP revoked" % i, lambda i=i: (
                lambda r: r if r[rev][0] == "revoked" else None)(
                    ocsp_query(ca, http_url(c, i) + "/ocsp", [rev, good],
                               sha256=True)), timeout=5, every=0.05)
            check(res == {rev: ("revoked", "keyCompromise"),
                          good: ("good", None)}, "node %d: %s" % (i, res))
        t_ocsp = time.time() - t_ack

        def crl_with(i):
            got = fetch_crl(c, i, "hsm-ca", w=w)
            if got and int(issued[0][1]["serial"], 16) in crl_entries(got[2]):
                return got
        for i in (1, 2, 3):
            der, number, text = wait_for("node %d: a CRL of hsm-ca" % i,
                                         lambda i=i: crl_with(i), timeout=20,
                                         every=0.3)
            pem = to_pem_crl(w, der)
            rc, out = verify_with_crl(ca, [pem], rev)
            check(rc != 0 and "certificate revoked" in out,
                  "node %d: revoked passed: %s" % (i, out))
            rc, out = verify_with_crl(ca, [pem], good)
            check(rc == 0, "node %d: good failed: %s" % (i, out))
        # the PIN is in no answer of the audit trail either
        st, _, b = c.get(lead, "/v1/audit?from=1")
        check(st == 200 and pin not in json.dumps(b),
              "the audit trail shows the PIN")
        print("  HSM CA registered (PIN masked), issued on 3 nodes, OCSP "
              "revoked on 3 nodes after %.2f s, CRLs from every node verify"
              % t_ocsp)
    finally:
        if c is not None:
            c.close()
        shutil.rmtree(d, ignore_errors=True)


SCENARIOS = {
    "issue": scenario_issue,
    "violations": scenario_violations,
    "ocsp": scenario_ocsp,
    "crl": scenario_crl,
    "failover": scenario_failover,
    "staleness": scenario_staleness,
    "crl100k": scenario_crl100k,
    "faketime": scenario_faketime,
    "hsm": scenario_hsm,
}


def main(names):
    failed = 0
    t_all = time.time()
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
    n = len(names or SCENARIOS)
    print("%d passed, %d failed" % (n - failed, failed))
    print("total %.1f s" % (time.time() - t_all))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

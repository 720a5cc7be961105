#!/bin/bash
# tls_audit_one.sh - grades one TLS listener offline: openssl s_client
# (chain and hostname verify, TLS 1.1 refused by the server), testssl.sh
# (every finding's severity read from its JSON), sslscan. The same
# interface and output lines as the shared harness's tls/tls-audit.sh in
# its TLS_TARGET mode, kept in the tree so that CI needs nothing beside
# the checkout (test_tls_audit.sh runs it; TLS_AUDIT= selects another).
#
# Env: H (work directory; results under $H/tls), TLS_TARGET host:port (the
# host is the SNI name and the name verified), TLS_TARGET_IP (127.0.0.1:
# the address connected to; testssl gets --ip and --nodns none, so no DNS
# lookup is made), TLS_CA_FILE (the CA the chain is judged against),
# TLS_FAIL_ON (testssl severities that fail: "HIGH CRITICAL"), TESTSSL=0
# (leave testssl out), TESTSSL_ARGS (more testssl arguments).
# Exit status: 0 when every check passed, 1 otherwise.
set -uo pipefail

: "${H:?H: the work directory}" "${TLS_TARGET:?TLS_TARGET: host:port}"
: "${TLS_CA_FILE:?TLS_CA_FILE: the CA to verify against}"
W=$H/tls
rm -rf "$W"
mkdir -p "$W"
HOST=${TLS_TARGET%:*}
PORT=${TLS_TARGET##*:}
IP=${TLS_TARGET_IP:-127.0.0.1}
FAIL_ON=${TLS_FAIL_ON:-HIGH CRITICAL}
fails=0
now_ms() { date +%s%3N; }
check() {
	local label=$1
	shift
	if "$@"; then
		echo "ok: $label"
	else
		echo "FAIL: $label"
		fails=$((fails + 1))
	fi
}

echo "target $HOST:$PORT at $IP, trust $TLS_CA_FILE"
echo | timeout 10 openssl s_client -connect "$IP:$PORT" -servername "$HOST" \
    -verify_hostname "$HOST" -CAfile "$TLS_CA_FILE" >"$W/s_client.txt" 2>&1
grep -E 'Verify return code|Protocol|Cipher is' "$W/s_client.txt" | sort -u
check "chain + hostname verify (s_client)" \
    grep -q 'Verify return code: 0 (ok)' "$W/s_client.txt"
# SECLEVEL=0 lets the client offer TLS 1.1: a refusal is the server's
echo | timeout 10 openssl s_client -connect "$IP:$PORT" -servername "$HOST" \
    -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' >"$W/tls11.txt" 2>&1
no_session() { ! grep -qE "^New, TLSv" "$1"; }
check "TLS 1.1 refused by the server" no_session "$W/tls11.txt"

if [ "${TESTSSL:-1}" != 0 ]; then
	t0=$(now_ms)
	# no --phone-out: nothing is fetched from the revocation URLs
	# shellcheck disable=SC2086
	timeout 900 testssl --quiet --color 0 --warnings batch --nodns none \
	    --ip "$IP" --add-ca "$TLS_CA_FILE" --connect-timeout 5 \
	    --openssl-timeout 5 --jsonfile-pretty "$W/testssl.json" \
	    --logfile "$W/testssl.log" ${TESTSSL_ARGS:-} \
	    "https://$HOST:$PORT" >"$W/testssl.out" 2>&1
	echo "## testssl rc=$?  $(($(now_ms) - t0)) ms"
	# testssl 3.0 prints no overall grade: judge every finding's severity
	python3 - "$W/testssl.json" "$FAIL_ON" <<'PY'
import collections
import json
import sys

try:
    doc = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print("testssl wrote no readable JSON: %s" % e)
    sys.exit(1)
fail_on = set(sys.argv[2].split())
sev = collections.Counter()
shown = []
for scan in doc.get("scanResult", []):
    for items in scan.values():
        if not isinstance(items, list):
            continue
        for f in items:
            if isinstance(f, dict) and "severity" in f:
                sev[f["severity"]] += 1
                if f["severity"] in ("LOW", "MEDIUM", "HIGH", "CRITICAL",
                                     "WARN"):
                    shown.append((f["severity"], f["id"],
                                  f.get("finding", "")[:90]))
print("testssl severities:", dict(sev))
for s in shown:
    print("  ", *s)
n = sum(v for k, v in sev.items() if k in fail_on)
print("findings with severity in {%s}: %d" % (" ".join(sorted(fail_on)), n))
sys.exit(1 if n or not sev else 0)
PY
	check "testssl: no finding with severity in {$FAIL_ON}" test $? -eq 0
fi

t0=$(now_ms)
timeout 300 sslscan --no-colour --sni-name="$HOST" --show-certificate \
    --xml="$W/sslscan.xml" "$IP:$PORT" >"$W/sslscan.out" 2>&1
rc=$?
echo "## sslscan rc=$rc  $(($(now_ms) - t0)) ms"
grep -E 'enabled|disabled|Accepted|Preferred|renegotiation|Compression|Heartbleed|Fallback' \
    "$W/sslscan.out" | sed 's/  */ /g' | head -40
check "sslscan ran" test $rc -eq 0
[ $fails -eq 0 ]

#!/bin/bash
# test_tls_audit.sh - grades the TLS of a real certstored node, offline,
# with tls_audit_one.sh (testssl.sh, sslscan, openssl s_client; the shared
# harness's tls/tls-audit.sh kept in the tree, TLS_AUDIT=path runs that one
# instead): the public listener (no client certificate) and the mutual-TLS
# API listener.
#
#   CERTSTORED=build/certstored bash tests/integration/test_tls_audit.sh
#
# Exit status: 0 when, for both listeners, testssl rates no finding HIGH or
# CRITICAL (TLS_FAIL_ON) and the audit's own checks pass (chain and
# hostname verify, TLS 1.1 refused, sslscan ran); 1 otherwise; 77 (skipped,
# for automake) when testssl or sslscan is missing (deploy/setup.sh
# installs both).
#
# How it goes:
# - a 1-node cluster from deploy/cluster.sh, in a temporary directory;
#   stopped by PID (cluster.sh down) whatever happens;
# - the node gets a certificate from the cluster CA like a real deployment's:
#   with CRL and OCSP URLs (deploy/cluster.sh's throwaway node certificate
#   has none, which testssl rates HIGH: "cert_revocation"), installed with
#   SIGHUP; TLS_AUDIT_CLUSTER_CERT=1 audits cluster.sh's certificate as it is;
# - the API listener requires a client certificate, and testssl 3.0.8 has no
#   --mtls (3.2 has): without one it cannot even tell that HTTP runs there
#   and skips every HTTP check. So testssl gets --openssl pointing at a
#   wrapper that adds the admin's -cert/-key to every `openssl s_client`;
#   its raw-socket probes (protocols, ciphers, vulnerabilities) need none;
# - both audits run at once (TLS_AUDIT_SERIAL=1: one after the other):
#   most of a testssl run is waiting on timeouts, so the pair took 419 s
#   on this 2-core machine, beside other load; TESTSSL=0
#   leaves only s_client and sslscan: seconds.
#
# Env: CERTSTORED, TESTSSL, TLS_AUDIT (the audit script; default
# tests/integration/tls_audit_one.sh), TLS_FAIL_ON,
# TLS_AUDIT_CLUSTER_CERT, TLS_AUDIT_SERIAL, CS_KEEP=1 (keep the work
# directory: testssl's JSON and logs under h-public/ and h-api/).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
AUDIT=${TLS_AUDIT:-$top/tests/integration/tls_audit_one.sh}
CERTSTORED=${CERTSTORED:-$top/build/certstored}
export CERTSTORED

for tool in testssl sslscan openssl curl; do
	if ! command -v "$tool" >/dev/null; then
		echo "test_tls_audit: $tool is not installed: skipped"
		exit 77
	fi
done
if [ ! -f "$AUDIT" ]; then
	echo "test_tls_audit: no audit script at $AUDIT (TLS_AUDIT)"
	exit 1
fi
[ -x "$CERTSTORED" ] || { echo "test_tls_audit: no $CERTSTORED"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/cs-tls-audit.XXXXXX")
VAR=$W/cluster
declare -a audit_pids=()
cleanup() {
	local p
	for p in "${audit_pids[@]}"; do
		# each audit runs in its own process group (setsid): end it
		kill -0 "$p" 2>/dev/null && kill -TERM -- "-$p" 2>/dev/null
	done
	CS_VAR=$VAR "$top/deploy/cluster.sh" down >/dev/null 2>&1
	if [ -z "${CS_KEEP:-}" ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$SECONDS
if ! CS_VAR=$VAR CS_WAIT=60 "$top/deploy/cluster.sh" up 1 >"$W/up.log" 2>&1
then
	cat "$W/up.log"
	echo "test_tls_audit: the node did not start"
	exit 1
fi
# shellcheck disable=SC1091
. "$VAR/cluster.env"
API_PORT=${NODE1_API##*:}
PUB_PORT=${NODE1_PUBLIC##*:}
pki=$VAR/pki

if [ -z "${TLS_AUDIT_CLUSTER_CERT:-}" ]; then
	# a node certificate with revocation pointers, as the operator's PKI
	# would issue it; the URLs are never fetched (testssl runs offline)
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$pki/audit.key" -out "$pki/audit.csr" \
	    -subj "/O=certstore local/CN=certstore node 1" 2>/dev/null &&
	openssl x509 -req -in "$pki/audit.csr" -CA "$pki/cluster-ca.pem" \
	    -CAkey "$pki/cluster-ca.key" -CAcreateserial -days 825 \
	    -out "$pki/audit.pem" -extfile <(printf '%s\n' \
	    "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	    "extendedKeyUsage=serverAuth,clientAuth" \
	    "keyUsage=critical,digitalSignature" \
	    "crlDistributionPoints=URI:$NODE1_HTTP/crl" \
	    "authorityInfoAccess=OCSP;URI:$NODE1_HTTP/ocsp") 2>/dev/null ||
	    { echo "test_tls_audit: cannot make the node certificate"; exit 1; }
	cp "$pki/audit.pem" "$pki/node1.pem"
	cp "$pki/audit.key" "$pki/node1.key"
	kill -HUP "$NODE1_PID"
	want=$(openssl x509 -in "$pki/audit.pem" -noout -fingerprint -sha256)
	for _ in $(seq 50); do
		got=$(echo | timeout 5 openssl s_client -connect \
		    "127.0.0.1:$PUB_PORT" 2>/dev/null |
		    openssl x509 -noout -fingerprint -sha256 2>/dev/null)
		[ "$got" = "$want" ] && break
		sleep 0.2
	done
	if [ "$got" != "$want" ]; then
		echo "test_tls_audit: SIGHUP did not install the new certificate"
		exit 1
	fi
	echo "node certificate with CRL and OCSP URLs installed (SIGHUP)"
fi

# openssl that presents the admin's client certificate (for testssl)
mkdir -p "$W/bin"
cat >"$W/bin/openssl-mtls" <<EOF
#!/bin/bash
if [ "\${1:-}" = s_client ]; then
	shift
	exec openssl s_client -cert "$ADMIN_CERT" -key "$ADMIN_KEY" "\$@"
fi
exec openssl "\$@"
EOF
chmod +x "$W/bin/openssl-mtls"

# audit NAME PORT [TESTSSL_ARGS]: the audit script against one listener
audit() {
	local name=$1 port=$2 extra=${3:-}
	mkdir -p "$W/h-$name"
	H=$W/h-$name TLS_TARGET=localhost:$port TLS_TARGET_IP=127.0.0.1 \
	    TLS_CA_FILE=$CLUSTER_CACERT TESTSSL_ARGS="$extra" \
	    bash "$AUDIT" >"$W/$name.out" 2>&1
	echo $? >"$W/$name.rc"
}

echo "auditing the public listener (:$PUB_PORT) and the API listener" \
    "(:$API_PORT, with a client certificate)"
if [ -n "${TLS_AUDIT_SERIAL:-}" ]; then
	audit public "$PUB_PORT"
	audit api "$API_PORT" "--openssl $W/bin/openssl-mtls"
else
	setsid bash -c "$(declare -f audit); W=$W AUDIT=$AUDIT \
	    CLUSTER_CACERT=$CLUSTER_CACERT audit public $PUB_PORT" &
	audit_pids+=($!)
	setsid bash -c "$(declare -f audit); W=$W AUDIT=$AUDIT \
	    CLUSTER_CACERT=$CLUSTER_CACERT audit api $API_PORT \
	    '--openssl $W/bin/openssl-mtls'" &
	audit_pids+=($!)
	wait "${audit_pids[@]}"
	audit_pids=()
fi

status=0
for name in public api; do
	rc=$(cat "$W/$name.rc" 2>/dev/null || echo "?")
	echo "=== $name listener: tls-audit.sh rc=$rc"
	grep -E '^(ok|FAIL):|testssl severities|^   (LOW|MEDIUM|HIGH|CRITICAL|WARN) |findings with severity|^## (testssl|sslscan)' \
	    "$W/$name.out"
	# testssl must have seen HTTP (on the API listener that means the
	# client certificate got it through the handshake)
	if [ "${TESTSSL:-1}" = 0 ]; then
		:
	elif grep -q "Service detected: *HTTP" "$W/h-$name/tls/testssl.out" \
	    2>/dev/null; then
		echo "ok: testssl reached HTTP on the $name listener"
	else
		echo "FAIL: testssl did not reach HTTP on the $name listener" \
		    "(no HTTP checks ran)"
		status=1
	fi
	[ "$rc" = 0 ] || status=1
done
echo "test_tls_audit: $((SECONDS - t0)) s, $([ $status = 0 ] && echo passed ||
    echo FAILED)"
exit $status

#!/bin/sh
# test_loadgen.sh - tests/bench/loadgen against a test double.
#
# The double is tests/integration/loadgen_double.py, python3 stdlib HTTP(S)
# servers on 127.0.0.1 port 0 (mutual TLS with a throwaway PKI made here
# with the openssl CLI). It counts what arrives, with which status it
# answered, how many requests were in flight at once, and the request ids,
# bodies, keys and fingerprints it saw. Each case runs loadgen once and
# compares loadgen's key=value output with the double's counts:
#   1. get over http: counts, exactly C in flight on C connections, latency
#      percentiles around the fixed delay, per_s = C / latency
#   2. certstore-import over https to two servers: faults (500, 409, hangs
#      past --timeout) counted by class, round-robin, every body a new
#      certificate that openssl parses and verifies against its issuer
#   3. etcd-put over http without --cacert: unique keys, 1 KiB values
#   4. certstore-revoke over https: the pool imported in PEM batches, each
#      certificate revoked once, the run ends when the pool is used up
#   5. certstore-revoke whose import fails: exit 1, no revocation sent
#   6. nothing listening: transport errors
#   7. bad usage: exit 2
# Everything started here is stopped by PID and the temporary directory
# removed on any exit (trap). Exit 77 (skip) without python3, openssl
# or jq.
set -eu

srcdir=${srcdir:-$(dirname "$0")/../..}
LOADGEN=${LOADGEN:-./tests/bench/loadgen}
PYTHON=${PYTHON:-python3}
DOUBLE="$srcdir/tests/integration/loadgen_double.py"

for tool in "$PYTHON" openssl jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool not found"
		exit 77
	fi
done
if [ ! -x "$LOADGEN" ]; then
	echo "FAIL: $LOADGEN not built (make bench)"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cs-loadgen-test-XXXXXX")
double_pid=""
cleanup() {
	if [ -n "$double_pid" ]; then
		kill "$double_pid" 2>/dev/null || true
		wait "$double_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

passed=0
failed=0
case_name=""

ok() {
	passed=$((passed + 1))
	echo "ok: $case_name: $1"
}

bad() {
	failed=$((failed + 1))
	echo "FAIL: $case_name: $1"
}

# check DESCRIPTION AWK-CONDITION: the condition over numbers (a key that
# loadgen did not print fails it, rather than reading as 0)
check() {
	case "$2" in
	*missing-*)
		bad "$1: no such output line: $2"
		return
		;;
	esac
	if awk "BEGIN { exit !($2) }" </dev/null; then
		ok "$1"
	else
		bad "$1 ($2)"
	fi
}

# kv KEY: the value of KEY= in the last loadgen output
kv() {
	v=$(sed -n "s/^$1=//p" "$tmp/out")
	if [ -z "$v" ]; then
		echo "missing-$1"
	else
		echo "$v"
	fi
}

# st JQ-FILTER: a value of the double's counters (0 when null)
st() {
	jq -r "($1) // 0" "$tmp/stats.json"
}

# start_double KINDS [OPTIONS...]: sets port1, port2 (when there)
start_double() {
	rm -f "$tmp/ports" "$tmp/stats.json"
	"$PYTHON" "$DOUBLE" --stats "$tmp/stats.json" "$@" >"$tmp/ports" &
	double_pid=$!
	i=0
	while ! grep -q '^ports' "$tmp/ports" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$double_pid" 2>/dev/null; then
			echo "FAIL: the test double did not start"
			exit 1
		fi
		sleep 0.1
	done
	port1=$(awk '{ print $2 }' "$tmp/ports")
	port2=$(awk '{ print $3 }' "$tmp/ports")
}

# stop_double: SIGTERM makes it write $tmp/stats.json
stop_double() {
	kill -TERM "$double_pid"
	wait "$double_pid" || true
	double_pid=""
	if [ ! -s "$tmp/stats.json" ]; then
		echo "FAIL: the test double wrote no counters"
		exit 1
	fi
}

# run_loadgen ARGS...: output in $tmp/out, stderr in $tmp/err, rc in $rc
run_loadgen() {
	rc=0
	"$LOADGEN" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
}

# The three numbers must be equal.
same() {
	check "$1: loadgen $2 = double $3" "$2 == $3"
}

# ---- a throwaway PKI: CA, server (127.0.0.1), client ------------------------

pki() {
	cd "$tmp"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca.key -out ca.pem -subj /CN=loadgen-test-ca -days 2 \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	for name in server client; do
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout $name.key -out $name.csr \
		    -subj /CN=loadgen-test-$name 2>/dev/null
		printf '%s\n%s\n' "subjectAltName=IP:127.0.0.1" \
		    "extendedKeyUsage=serverAuth,clientAuth" >$name.ext
		openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key \
		    -CAcreateserial -days 2 -extfile $name.ext \
		    -out $name.pem 2>/dev/null
	done
	cd - >/dev/null
}
pki
tls="--cacert $tmp/ca.pem --cert $tmp/client.pem --key $tmp/client.key"
fp64=$(printf '%064d' 7)

# ---- 1. get over http: counts, in flight, latency ---------------------------

case_name="get"
start_double http --delay-ms 20
run_loadgen --url "http://127.0.0.1:$port1" --mode get \
    --path "/v1/certs/$fp64" --concurrency 4 --duration 2 --warmup 0.5
stop_double
check "exit 0" "$rc == 0"
same "all requests" "$(kv total_requests)" "$(st .requests)"
same "ok" "$(kv total_ok)" "$(st '.by_status["200"]')"
check "measured requests" "$(kv requests) > 0 && $(kv errors) == 0"
check "requests = ok + errors" "$(kv requests) == $(kv ok) + $(kv errors)"
same "exactly C in flight" 4 "$(st .max_inflight)"
same "one keep-alive connection per slot" 4 "$(st '.accepts[0]')"
same "unique request ids" "$(kv total_requests)" "$(st .ids)"
check "request ids well-formed" \
    "$(st .id_bad) + $(st .id_dup) + $(st .id_missing) == 0"
check "seconds" "$(kv seconds) >= 1.99 && $(kv seconds) < 2.5"
p50=$(kv p50_ms)
p90=$(kv p90_ms)
p99=$(kv p99_ms)
max=$(kv max_ms)
check "p50 $p50 ms for a 20 ms delay" "$p50 >= 20 && $p50 < 40"
check "p50 <= p90 <= p99 <= max ($p90 $p99 $max)" \
    "$p50 <= $p90 && $p90 <= $p99 && $p99 <= $max"
check "p99 $p99 ms plausible" "$p99 >= 20 && $p99 < 250"
check "per_s $(kv per_s) <= C / delay" "$(kv per_s) <= 4 * 50 + 4 / 2"
check "client CPU reported" "$(kv client_cpu_s) >= 0 && \
    $(kv client_cpu_pct) >= 0 && $(kv client_cpu_pct) < 200"
check "per_s x mean latency = C (Little's law)" \
    "$(kv per_s) * $(kv mean_ms) / 1000 > 3.4 && \
     $(kv per_s) * $(kv mean_ms) / 1000 < 4.2"

# ---- 2. certstore-import over https, two servers, faults --------------------

case_name="certstore-import"
start_double https,https --tls "$tmp" --delay-ms 5 --fail-every 13 \
    --fail4-every 7 --hang-every 150 --hang-ms 1000 \
    --store "$tmp/bodies.pem"
# shellcheck disable=SC2086
run_loadgen --url "https://127.0.0.1:$port1,https://127.0.0.1:$port2" \
    --mode certstore-import $tls --concurrency 8 --duration 2 \
    --warmup 0.3 --timeout 300 --ca-out "$tmp/issuer.pem" --show-errors 3
stop_double
check "exit 0" "$rc == 0"
same "all requests" "$(kv total_requests)" "$(st .requests)"
same "201" "$(kv total_ok)" "$(st '.by_status["201"]')"
same "5xx" "$(kv total_errors_http_5xx)" "$(st '.by_status["500"]')"
same "4xx" "$(kv total_errors_http_4xx)" "$(st '.by_status["409"]')"
same "transport (hangs past --timeout)" "$(kv total_errors_transport)" \
    "$(st .hangs)"
same "no other errors" "$(kv total_errors_http_other)" 0
check "each class seen in the measurement" \
    "$(kv errors_http_5xx) > 0 && $(kv errors_http_4xx) > 0 && \
     $(kv errors_transport) > 0"
check "errors = sum of the classes" "$(kv errors) == $(kv errors_http_4xx) + \
    $(kv errors_http_5xx) + $(kv errors_http_other) + $(kv errors_transport)"
check "error bodies on stderr" "$(grep -c 'HTTP 500, body: {' "$tmp/err") > 0"
check "at most C in flight" "$(st .max_inflight) <= 8"
check "round-robin: $(st '.per_listener[0]') and $(st '.per_listener[1]')" \
    "$(st '.per_listener[0]') - $(st '.per_listener[1]') <= 1 && \
     $(st '.per_listener[1]') - $(st '.per_listener[0]') <= 1"
check "keep-alive: $(st '.accepts[0] + .accepts[1]') connections" \
    "$(st '.accepts[0] + .accepts[1]') <= 16 + $(st .hangs)"
same "unique request ids" "$(kv total_requests)" "$(st .ids)"
same "one DER body per request" "$(st .der_bodies)" "$(st .requests)"
same "every body distinct" "$(st .der_distinct)" "$(st .der_bodies)"
same "one certificate per request" "$(kv pool_used)" "$(kv total_requests)"
check "pool large enough" "$(kv pool) > $(kv pool_used)"
# every body parses as a certificate; the names are distinct
openssl crl2pkcs7 -nocrl -certfile "$tmp/bodies.pem" |
    openssl pkcs7 -print_certs -noout >"$tmp/subjects" 2>&1 || true
same "bodies openssl parses" "$(grep -c '^subject=' "$tmp/subjects")" \
    "$(st .der_bodies)"
same "distinct subjects" \
    "$(grep '^subject=' "$tmp/subjects" | sort -u | wc -l)" \
    "$(st .der_bodies)"
check "subjects carry the run's prefix" \
    "$(grep -c "CN = $(kv cert_prefix)[0-9]\{7\}\$" "$tmp/subjects") == \
     $(st .der_bodies)"
# a sample verifies against the issuer, with distinct keys and SANs
awk -v dir="$tmp" '/BEGIN CERT/ { n++ } n > 0 && n <= 20 {
    print > (dir "/sample" n ".pem") }' "$tmp/bodies.pem"
if openssl verify -CAfile "$tmp/issuer.pem" -purpose sslclient \
    "$tmp"/sample*.pem >"$tmp/verify" 2>&1; then
	ok "20 certificates verify against the issuer"
else
	bad "verification: $(head -3 "$tmp/verify")"
fi
for f in "$tmp"/sample*.pem; do
	openssl x509 -in "$f" -noout -pubkey | tr -d '\n'
	echo
done | sort -u >"$tmp/keys"
same "distinct public keys in the sample" "$(wc -l <"$tmp/keys")" 20
for f in "$tmp"/sample*.pem; do
	openssl x509 -in "$f" -noout -ext subjectAltName | tail -1
done | sort -u >"$tmp/sans"
same "distinct SANs in the sample" "$(wc -l <"$tmp/sans")" 20

# ---- 3. etcd-put over http, no --cacert -------------------------------------

case_name="etcd-put"
start_double http --delay-ms 2 --fail-every 11
run_loadgen --url "http://127.0.0.1:$port1" --mode etcd-put \
    --concurrency 8 --duration 1.5
stop_double
check "exit 0" "$rc == 0"
same "all requests" "$(kv total_requests)" "$(st .requests)"
same "200" "$(kv total_ok)" "$(st '.by_status["200"]')"
same "5xx" "$(kv total_errors_http_5xx)" "$(st '.by_status["500"]')"
same "unique keys" "$(st .keys)" "$(st .requests)"
check "1 KiB values only" "$(st '.value_sizes | length') == 1 && \
    $(st '.value_sizes[0]') == 1024"
check "valid JSON and base64, Content-Type application/json" \
    "$(st .bad_body) + $(st .bad_content_type) == 0"
same "unique request ids" "$(kv total_requests)" "$(st .ids)"

# ---- 4. certstore-revoke over https -----------------------------------------

case_name="certstore-revoke"
start_double https --tls "$tmp" --delay-ms 1 --fail-every 9 \
    --fault-path '/revoke$'
# shellcheck disable=SC2086
run_loadgen --url "https://127.0.0.1:$port1" --mode certstore-revoke $tls \
    --pool 2500 --batch 1000 --concurrency 4 --duration 60
stop_double
check "exit 0" "$rc == 0"
same "imported (loadgen)" "$(kv imported)" 2500
same "imported (double)" "$(st .imported)" 2500
check "PEM batches of 1000, 1000, 500" \
    "$(st '.import_batches | length') == 3 && \
     $(st '.import_batches[0]') == 500 && $(st '.import_batches[2]') == 1000"
same "201 for the batches only" "$(st '.by_status["201"]')" 3
same "revocations: one per certificate" "$(kv total_requests)" 2500
same "pool used up" "$(kv pool_used)" 2500
check "pool_exhausted ends the measurement early" \
    "\"$(kv pool_exhausted)\" == \"yes\" && $(kv seconds) < 60"
same "all requests" "$(kv total_requests) + 3" "$(st .requests)"
same "200" "$(kv total_ok)" "$(st '.by_status["200"]')"
same "revoked" "$(kv total_ok)" "$(st .revoked)"
same "5xx" "$(kv total_errors_http_5xx)" "$(st '.by_status["500"]')"
check "no fingerprint twice, none unknown, reason superseded" \
    "$(st .revoke_dup) + $(st .revoke_unknown) + \
     $(st .revoke_bad_reason) + $(st .bad_content_type) == 0"
same "unique request ids" "$(kv total_requests) + 3" "$(st .ids)"

# ---- 5. certstore-revoke whose import fails ---------------------------------

case_name="revoke, failed import"
start_double https --tls "$tmp" --fail-every 2 --fault-path '^/v1/certs$'
# shellcheck disable=SC2086
run_loadgen --url "https://127.0.0.1:$port1" --mode certstore-revoke $tls \
    --pool 3000 --batch 1000 --concurrency 1 --duration 5
stop_double
check "exit 1" "$rc == 1"
check "complete=no" "\"$(kv complete)\" == \"no\""
same "stopped after the failed batch" "$(st .requests)" 2
same "no revocation sent" "$(st .revoked) + $(st .revoke_unknown)" 0
check "the failure on stderr" \
    "$(grep -c 'importing the pool failed' "$tmp/err") == 1"

# ---- 6. nothing listening ---------------------------------------------------

case_name="connection refused"
port=$("$PYTHON" -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_loadgen --url "http://127.0.0.1:$port" --mode get --path /x \
    --concurrency 2 --duration 0.5 --show-errors 1
check "exit 0" "$rc == 0"
check "only transport errors" "$(kv requests) > 0 && \
    $(kv errors_transport) == $(kv requests) && $(kv ok) == 0"
check "per_s 0" "$(kv per_s) == 0"

# ---- 7. usage ---------------------------------------------------------------

case_name="usage"
for args in "" "--url http://127.0.0.1:1" \
    "--url https://127.0.0.1:1 --mode get --path /" \
    "--url http://127.0.0.1:1 --mode nosuch" \
    "--url http://127.0.0.1:1 --mode get" \
    "--url ftp://127.0.0.1:1 --mode get --path /" \
    "--url http://127.0.0.1:1 --mode get --path / --concurrency 0"; do
	# shellcheck disable=SC2086
	run_loadgen $args
	check "exit 2 for \"$args\"" "$rc == 2"
done

run_loadgen --help
check "--help: exit 0, usage on stdout" \
    "$rc == 0 && $(grep -c '^usage: loadgen' "$tmp/out") == 1"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

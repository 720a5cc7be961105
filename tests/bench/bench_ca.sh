#!/bin/sh
# shellcheck disable=SC2317 # functions run from the trap look unreachable
# bench_ca.sh - the CA against cfssl, side by side, and a 100,000-entry CRL.
#
# 1. Issuance: a 3-node certstore cluster (deploy/cluster.sh: issuer
#    local-ca, ECDSA P-256; profile default) takes POST /v1/issue over
#    HTTPS with a client certificate, round-robin over the three nodes, at
#    BENCH_CONCURRENCY (64); `cfssl serve` (Debian's golang-cfssl) with an
#    ECDSA P-256 CA takes /api/v1/cfssl/sign over plain HTTP from the same
#    load generator, with the same certificate requests (a pool of
#    BENCH_CSRS P-256 requests, used in turn). certstore commits every
#    certificate to the replicated log before answering; cfssl stores
#    nothing.
# 2. OCSP: one certstore node's plain-HTTP /ocsp against `cfssl ocspserve`
#    with responses pre-signed by `cfssl ocspsign`, for BENCH_OCSP_CERTS
#    certificates of each CA (a tenth revoked), POST requests without a
#    nonce (cacheable), BENCH_CONCURRENCY connections, driven by wrk (one
#    thread; loadgen's libcurl costs as much CPU per request as the
#    servers and capped both near 20k/s) and then by loadgen.
# 3. CRL: 100,000 certificates of local-ca imported in batches of 1000
#    (the load generator makes them with local-ca's key) and revoked in one
#    bulk revocation; the delta CRL that follows lists 100,000 entries.
#    crl100k_build_s is the build and signature time the node logs
#    ("crl built ... seconds="), off the loop; healthz_during_crl_* are
#    the latencies of /healthz on the same node while it collected and
#    built that CRL (the loop keeps serving).
#
# Prints key=value lines: issue_certstore_per_s issue_cfssl_per_s
# issue_ratio issue_certstore_p99_ms issue_cfssl_p99_ms
# issue_certstore_nodes_cpu_us issue_cfssl_cpu_us (server CPU per
# certificate: all three nodes together, or cfssl) issue_*_loadgen_cpu_us
# ocsp_client (wrk, or loadgen without wrk) ocsp_certstore_per_s
# ocsp_cfssl_per_s ocsp_ratio ocsp_certstore_p99_ms ocsp_cfssl_p99_ms
# ocsp_errors ocsp_certstore_cpu_us ocsp_cfssl_cpu_us, the same from
# loadgen as ocsp_loadgen_*, crl100k_entries crl100k_build_s crl100k_bytes
# healthz_during_crl_p99_ms healthz_during_crl_max_ms. Compare ratios of
# one run: the peers share the two cores with the load generator.
#
# Usage, from the build directory after `make bench`:
#   ../tests/bench/bench_ca.sh                 (~2 minutes)
#   BENCH_SECONDS=3 BENCH_CRL=0 ../tests/bench/bench_ca.sh   (a smoke run)
# Environment: BENCH_SECONDS (15), BENCH_WARMUP (1), BENCH_CONCURRENCY
# (64), BENCH_CSRS (64), BENCH_OCSP_CERTS (100), BENCH_CRL (1: run part 3),
# BENCH_CRL_CERTS (100000), BENCH_OUT, BENCH_TMPDIR, LOADGEN, CFSSL
# (cfssl), WRK (wrk), CLUSTER_SH.
set -eu

BENCH_NAME=bench_ca
# shellcheck source=tests/bench/bench_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/bench_lib.sh"
seconds=${BENCH_SECONDS:-15}
warmup=${BENCH_WARMUP:-1}
conc=${BENCH_CONCURRENCY:-64}
ncsr=${BENCH_CSRS:-64}
nocsp=${BENCH_OCSP_CERTS:-100}
crl_certs=${BENCH_CRL_CERTS:-100000}
CFSSL=${CFSSL:-cfssl}
need "$LOADGEN" "$CFSSL" python3 openssl curl jq

results=$tmp/results
: >"$results"
out() {
	echo "$1=$2" >>"$results"
}

# ---- the servers ---------------------------------------------------------------

start_certstore 3 || exit 1
api1=$(kv "$env_file" NODE1_API)
http1=$(kv "$env_file" NODE1_HTTP)
ca_cert=$(kv "$env_file" LOCAL_CA_CERT)
ca_key=$(kv "$env_file" LOCAL_CA_KEY)
log1=$(kv "$env_file" NODE1_LOG)
curl_cs() {
	curl -sS --max-time 60 --cacert "$(kv "$env_file" CLUSTER_CACERT)" \
	    --cert "$(kv "$env_file" ADMIN_CERT)" \
	    --key "$(kv "$env_file" ADMIN_KEY)" "$@"
}

cf=$tmp/cfssl
mkdir -p "$cf"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$cf/ca.key" -out "$cf/ca.pem" -days 30 -subj "/CN=cfssl bench CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    2>/dev/null
cat >"$cf/config.json" <<'EOF'
{"signing": {"default": {"expiry": "2160h", "usages": ["digital signature",
 "key encipherment", "client auth", "server auth"]}}}
EOF
ports=$(free_ports 2)
cf_sign_port=$(echo "$ports" | cut -d' ' -f1)
cf_ocsp_port=$(echo "$ports" | cut -d' ' -f2)
"$CFSSL" serve -ca "$cf/ca.pem" -ca-key "$cf/ca.key" \
    -config "$cf/config.json" -address 127.0.0.1 -port "$cf_sign_port" \
    -loglevel 5 >"$cf/serve.log" 2>&1 &
cf_pid=$!
bg_pids="$bg_pids $cf_pid"
cf_url=http://127.0.0.1:$cf_sign_port

# ---- certificate requests, one JSON body per request and server ---------------

say "making $ncsr certificate requests"
mkdir -p "$tmp/csr" "$tmp/body-cs" "$tmp/body-cf"
i=1
while [ "$i" -le "$ncsr" ]; do
	name=$(printf 'pump-%04d.site-1.hospital.test' "$i")
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout /dev/null -subj "/CN=$name" \
	    -addext "subjectAltName=DNS:$name" -out "$tmp/csr/$i.pem" \
	    2>/dev/null
	jq -n --rawfile csr "$tmp/csr/$i.pem" \
	    '{csr: $csr, profile: "default"}' >"$tmp/body-cs/$i.json"
	jq -n --rawfile csr "$tmp/csr/$i.pem" \
	    '{certificate_request: $csr}' >"$tmp/body-cf/$i.json"
	i=$((i + 1))
done
i=0
until curl -sf -o /dev/null -X POST --data-binary @"$tmp/body-cf/1.json" \
    "$cf_url/api/v1/cfssl/sign"; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		say "cfssl serve does not answer: $(tail -3 "$cf/serve.log")"
		exit 1
	fi
	sleep 0.1
done

# ---- 1. issuance ------------------------------------------------------------------

say "issuance: certstore, c=$conc, $seconds s"
# shellcheck disable=SC2046
cpu0=$(cpu_s $(node_pids))
# shellcheck disable=SC2086
run_loadgen issue_certstore --url "$cs_urls" --mode post --path /v1/issue \
    --bodies "$tmp/body-cs" --content-type application/json --expect 201 \
    $cs_tls_args --concurrency "$conc" --duration "$seconds" \
    --warmup "$warmup" || exit 1
# shellcheck disable=SC2046
cpu1=$(cpu_s $(node_pids))
say "issuance: cfssl, c=$conc, $seconds s"
cf_cpu0=$(cpu_s "$cf_pid")
run_loadgen issue_cfssl --url "$cf_url" --mode post \
    --path /api/v1/cfssl/sign --bodies "$tmp/body-cf" \
    --content-type application/json --expect 200 --concurrency "$conc" \
    --duration "$seconds" --warmup "$warmup" || exit 1
cf_cpu1=$(cpu_s "$cf_pid")
a=$(kv "$tmp/issue_certstore.out" per_s)
b=$(kv "$tmp/issue_cfssl.out" per_s)
out issue_certstore_per_s "$a"
out issue_cfssl_per_s "$b"
out issue_ratio "$(ratio "$a" "$b")"
out issue_certstore_p99_ms "$(kv "$tmp/issue_certstore.out" p99_ms)"
out issue_cfssl_p99_ms "$(kv "$tmp/issue_cfssl.out" p99_ms)"
# CPU per certificate: the servers' over the whole run (warmup included)
# and the load generator's over the measured part
per_op_us() { # CPU_SECONDS OUTFILE
	awk -v c="$1" -v r="$(kv "$2" per_s)" -v s="$((seconds + warmup))" \
	    'BEGIN { if (r > 0) printf "%.0f", c * 1e6 / (r * s); else print "na" }'
}
out issue_certstore_nodes_cpu_us "$(per_op_us "$(awk -v a="$cpu0" \
    -v b="$cpu1" 'BEGIN { print b - a }')" "$tmp/issue_certstore.out")"
out issue_cfssl_cpu_us "$(per_op_us "$(awk -v a="$cf_cpu0" -v b="$cf_cpu1" \
    'BEGIN { print b - a }')" "$tmp/issue_cfssl.out")"
for n in certstore cfssl; do
	out "issue_${n}_loadgen_cpu_us" "$(awk -v c="$(kv \
	    "$tmp/issue_$n.out" client_cpu_s)" -v r="$(kv "$tmp/issue_$n.out" \
	    requests)" 'BEGIN { if (r > 0) printf "%.0f", c * 1e6 / r; else print "na" }')"
done
out issue_certstore_errors "$(kv "$tmp/issue_certstore.out" errors)"

# ---- 2. OCSP ------------------------------------------------------------------------

say "OCSP: $nocsp certificates per CA, requests and pre-signed responses"
mkdir -p "$tmp/ocsp-cs" "$tmp/ocsp-cf" "$tmp/certs"
: >"$cf/responses"
i=1
while [ "$i" -le "$nocsp" ]; do
	k=$(( (i - 1) % ncsr + 1 ))
	# certstore
	curl_cs -X POST -H "Content-Type: application/json" \
	    --data-binary @"$tmp/body-cs/$k.json" "$api1/v1/issue" \
	    >"$tmp/certs/cs$i.json"
	jq -r .certificate "$tmp/certs/cs$i.json" >"$tmp/certs/cs$i.pem"
	if [ $((i % 10)) = 0 ]; then
		curl_cs -o /dev/null -X POST -H "Content-Type: application/json" \
		    -d '{"reason": "superseded"}' \
		    "$api1/v1/certs/$(jq -r .fingerprint "$tmp/certs/cs$i.json")/revoke"
	fi
	openssl ocsp -issuer "$ca_cert" -cert "$tmp/certs/cs$i.pem" -no_nonce \
	    -reqout "$tmp/ocsp-cs/$i.der" >/dev/null 2>&1
	# cfssl
	curl -sS -X POST --data-binary @"$tmp/body-cf/$k.json" \
	    "$cf_url/api/v1/cfssl/sign" | jq -r .result.certificate \
	    >"$tmp/certs/cf$i.pem"
	status=good
	[ $((i % 10)) = 0 ] && status=revoked
	"$CFSSL" ocspsign -ca "$cf/ca.pem" -responder "$cf/ca.pem" \
	    -responder-key "$cf/ca.key" -cert "$tmp/certs/cf$i.pem" \
	    -status "$status" -reason 4 -loglevel 5 |
	    jq -r .ocspResponse >>"$cf/responses"
	openssl ocsp -issuer "$cf/ca.pem" -cert "$tmp/certs/cf$i.pem" -no_nonce \
	    -reqout "$tmp/ocsp-cf/$i.der" >/dev/null 2>&1
	i=$((i + 1))
done
"$CFSSL" ocspserve -address 127.0.0.1 -port "$cf_ocsp_port" \
    -responses "$cf/responses" -loglevel 5 >"$cf/ocspserve.log" 2>&1 &
cf_ocsp_pid=$!
bg_pids="$bg_pids $cf_ocsp_pid"
cf_ocsp=http://127.0.0.1:$cf_ocsp_port
i=0
until curl -sf -o /dev/null -X POST -H "Content-Type: application/ocsp-request" \
    --data-binary @"$tmp/ocsp-cf/1.der" "$cf_ocsp/"; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		say "cfssl ocspserve does not answer: $(tail -3 "$cf/ocspserve.log")"
		exit 1
	fi
	sleep 0.1
done
# both answer what they should before they are timed
openssl ocsp -reqin "$tmp/ocsp-cs/10.der" -url "$http1/ocsp" -CAfile "$ca_cert" \
    -resp_text 2>&1 | grep -q 'Cert Status: revoked' ||
    { say "certstore OCSP does not say revoked"; exit 1; }
openssl ocsp -reqin "$tmp/ocsp-cf/10.der" -url "$cf_ocsp/" -CAfile "$cf/ca.pem" \
    -resp_text 2>&1 | grep -q 'Cert Status: revoked' ||
    { say "cfssl OCSP does not say revoked"; exit 1; }
# The client: wrk (one thread, --latency) when it is installed, with
# tests/bench/ocsp_post.lua cycling through the requests: libcurl in
# loadgen spends ~50 us of CPU per request, as much as the servers, and
# capped both at ~20k/s on this machine. loadgen runs too, as a second
# opinion (ocsp_loadgen_*).
# wrk_run NAME URL LIST: wrk's figures as key=value lines in $tmp/NAME.out
wrk_run() {
	OCSP_LIST=$3 "$WRK" -t1 -c"$conc" -d"$warmup"s -s "$bench_dir/ocsp_post.lua" \
	    "$2" >/dev/null 2>&1 || true
	OCSP_LIST=$3 "$WRK" -t1 -c"$conc" -d"$seconds"s --latency \
	    -s "$bench_dir/ocsp_post.lua" "$2" >"$tmp/$1.wrk" 2>&1 || {
		say "$1: wrk failed: $(tail -3 "$tmp/$1.wrk")"
		return 1
	}
	awk '
	function ms(v) {
		if (v ~ /us$/) return v / 1000
		if (v ~ /ms$/) return v + 0
		if (v ~ /s$/) return v * 1000
		return v
	}
	/Requests\/sec:/ { printf "per_s=%s\n", $2 }
	/^ +99%/ { printf "p99_ms=%.3f\n", ms($2) }
	/Non-2xx or 3xx responses:/ { bad = $5 }
	/Socket errors:/ { bad += 0 }
	END { printf "errors=%d\n", bad + 0 }' "$tmp/$1.wrk" >"$tmp/$1.out"
	if [ -n "${BENCH_OUT:-}" ]; then
		mkdir -p "$BENCH_OUT"
		cp "$tmp/$1.wrk" "$BENCH_OUT/"
	fi
}
WRK=${WRK:-wrk}
bench_dir=$(cd "$(dirname "$0")" && pwd)
ls "$tmp"/ocsp-cs/*.der >"$tmp/ocsp-cs.list"
ls "$tmp"/ocsp-cf/*.der >"$tmp/ocsp-cf.list"
ocsp_client=loadgen
if command -v "$WRK" >/dev/null; then
	ocsp_client=wrk
	say "OCSP (wrk): certstore node 1 over http, c=$conc, $seconds s"
	cpu0=$(cpu_s "$(kv "$env_file" NODE1_PID)")
	wrk_run ocsp_certstore_wrk "$http1/ocsp" "$tmp/ocsp-cs.list" || exit 1
	cpu1=$(cpu_s "$(kv "$env_file" NODE1_PID)")
	say "OCSP (wrk): cfssl ocspserve, c=$conc, $seconds s"
	cf_cpu0=$(cpu_s "$cf_ocsp_pid")
	wrk_run ocsp_cfssl_wrk "$cf_ocsp/" "$tmp/ocsp-cf.list" || exit 1
	cf_cpu1=$(cpu_s "$cf_ocsp_pid")
fi
say "OCSP (loadgen): certstore node 1 over http, c=$conc, $seconds s"
run_loadgen ocsp_certstore --url "$http1" --mode post --path /ocsp \
    --bodies "$tmp/ocsp-cs" --content-type application/ocsp-request \
    --concurrency "$conc" --duration "$seconds" --warmup "$warmup" || exit 1
say "OCSP (loadgen): cfssl ocspserve, c=$conc, $seconds s"
run_loadgen ocsp_cfssl --url "$cf_ocsp" --mode post --path / \
    --bodies "$tmp/ocsp-cf" --content-type application/ocsp-request \
    --concurrency "$conc" --duration "$seconds" --warmup "$warmup" || exit 1
out ocsp_client "$ocsp_client"
for src in wrk loadgen; do
	[ "$src" = loadgen ] || [ "$ocsp_client" = wrk ] || continue
	sfx=""
	[ "$src" = wrk ] && sfx=_wrk
	pfx=ocsp
	[ "$src" = loadgen ] && [ "$ocsp_client" = wrk ] && pfx=ocsp_loadgen
	a=$(kv "$tmp/ocsp_certstore$sfx.out" per_s)
	b=$(kv "$tmp/ocsp_cfssl$sfx.out" per_s)
	out "${pfx}_certstore_per_s" "$a"
	out "${pfx}_cfssl_per_s" "$b"
	out "${pfx}_ratio" "$(ratio "$a" "$b")"
	out "${pfx}_certstore_p99_ms" "$(kv "$tmp/ocsp_certstore$sfx.out" p99_ms)"
	out "${pfx}_cfssl_p99_ms" "$(kv "$tmp/ocsp_cfssl$sfx.out" p99_ms)"
	out "${pfx}_errors" "$(($(kv "$tmp/ocsp_certstore$sfx.out" errors) + \
	    $(kv "$tmp/ocsp_cfssl$sfx.out" errors)))"
done
if [ "$ocsp_client" = wrk ]; then
	# server CPU per response over the wrk runs (warmup included)
	out ocsp_certstore_cpu_us "$(per_op_us "$(awk -v a="$cpu0" -v b="$cpu1" \
	    'BEGIN { print b - a }')" "$tmp/ocsp_certstore_wrk.out")"
	out ocsp_cfssl_cpu_us "$(per_op_us "$(awk -v a="$cf_cpu0" \
	    -v b="$cf_cpu1" 'BEGIN { print b - a }')" "$tmp/ocsp_cfssl_wrk.out")"
fi

# ---- 3. a CRL with 100,000 entries -------------------------------------------------

if [ "${BENCH_CRL:-1}" = 1 ]; then
	say "CRL: importing $crl_certs certificates of local-ca"
	# certstore-revoke imports its pool in batches of 1000 first, then
	# revokes one at a time for a second; the bulk revocation does the
	# rest in one entry
	# shellcheck disable=SC2086
	run_loadgen crl_import --url "$api1" --mode certstore-revoke \
	    $cs_tls_args --pool "$crl_certs" --batch 1000 --concurrency 4 \
	    --duration 1 --issuer-cert "$ca_cert" --issuer-key "$ca_key" ||
	    exit 1
	subject=$(openssl x509 -in "$ca_cert" -noout -subject \
	    -nameopt RFC2253 | sed 's/^subject=//')
	lines_before=$(grep -c 'crl built' "$log1" || true)
	# shellcheck disable=SC2086
	"$LOADGEN" --url "$api1" --mode get --path /healthz $cs_tls_args \
	    --concurrency 1 --duration 20 >"$tmp/healthz.out" 2>/dev/null &
	loadgen_pid=$!
	sleep 1
	jq -n --arg s "$subject" '{issuer: $s, reason: "cessationOfOperation"}' |
	    curl_cs -o "$tmp/bulk.json" -X POST \
		-H "Content-Type: application/json" --data-binary @- \
		"$api1/v1/revocations"
	say "CRL: bulk revocation: $(jq -c . "$tmp/bulk.json")"
	i=0
	while [ "$(grep -c 'crl built' "$log1" || true)" -le "$lines_before" ] ||
	    ! grep 'crl built' "$log1" | tail -1 | grep -q 'delta=1'; do
		i=$((i + 1))
		if [ $i -gt 600 ]; then
			say "no CRL was built within 60 s"
			exit 1
		fi
		sleep 0.1
	done
	wait "$loadgen_pid" || true
	loadgen_pid=""
	line=$(grep 'crl built' "$log1" | tail -1)
	curl -sS -o "$tmp/delta.crl" "$http1/crl/local-ca-delta.crl"
	n=$(openssl crl -inform DER -in "$tmp/delta.crl" -noout -text |
	    grep -c 'Serial Number:' || true)
	openssl crl -inform DER -in "$tmp/delta.crl" -noout \
	    -CAfile "$ca_cert" 2>&1 | grep -q 'verify OK' ||
	    { say "the delta CRL does not verify"; exit 1; }
	out crl100k_entries "$n"
	out crl100k_build_s "$(echo "$line" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')"
	out crl100k_bytes "$(echo "$line" | sed -n 's/.* bytes=\([0-9]*\).*/\1/p')"
	out healthz_during_crl_p99_ms "$(kv "$tmp/healthz.out" p99_ms)"
	out healthz_during_crl_max_ms "$(kv "$tmp/healthz.out" max_ms)"
fi

cat "$results"

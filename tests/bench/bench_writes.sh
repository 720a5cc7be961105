#!/bin/sh
# shellcheck disable=SC2317 # functions run from the trap look unreachable
# bench_writes.sh - replicated writes: certstore against etcd, side by side.
#
# Starts a 3-node etcd cluster (Debian's etcd 3.4; data in a temporary
# directory; client and peer URLs on 127.0.0.1, ports chosen free at run
# time; TLS with client certificates by default, like certstore's API) and
# a 3-node certstore cluster (deploy/cluster.sh up 3, with CS_VAR in a
# temporary directory). Then, at each concurrency (1, 16, 64), it runs
# tests/bench/loadgen against certstore (certstore-import, a new DER
# certificate per request, round-robin over the three nodes' REST APIs)
# and then against etcd (etcd-put, a unique key and 1 KiB value per
# request, round-robin over the three client URLs), BENCH_SECONDS each
# after BENCH_WARMUP seconds of warmup. Both face the same client: same
# keep-alive connections, same TLS with a client certificate.
#
# Prints key=value lines:
#   cN_certstore_per_s cN_etcd_per_s cN_ratio (certstore / etcd)
#   cN_certstore_p99_ms cN_etcd_p99_ms cN_certstore_errors cN_etcd_errors
#   cN_certstore_client_cpu_pct cN_etcd_client_cpu_pct (loadgen's own CPU,
#   % of one core: it shares the two cores with the servers)
#   for N in the concurrencies, and certstore=ok|skipped, etcd_tls=yes|no.
# Without deploy/cluster.sh, certstore's half prints certstore=skipped (its
# figures "na") and etcd's still runs. Compare the ratios of one run, not
# figures of different runs: the peers share the machine's cores with the
# load generator (shared/notes/performance.md).
#
# Usage, from the build directory after `make bench`:
#   ../tests/bench/bench_writes.sh           (15 s per run: ~3 minutes)
#   BENCH_SECONDS=3 ../tests/bench/bench_writes.sh        (a smoke run)
# Environment:
#   BENCH_SECONDS       seconds measured per run (15)
#   BENCH_WARMUP        seconds of warmup before each (1)
#   BENCH_CONCURRENCY   the concurrencies ("1 16 64")
#   BENCH_ETCD_TLS      1: etcd over TLS with client certificates (default);
#                       0: plain http
#   BENCH_CERTSTORE     0: skip certstore even if deploy/cluster.sh exists
#   BENCH_OUT           a directory that keeps every loadgen output
#   BENCH_TMPDIR        where the temporary directories go ($TMPDIR, /tmp)
#   LOADGEN             the loadgen binary (./tests/bench/loadgen, or the
#                       one next to this script)
#   ETCD                the etcd binary (etcd)
#   CLUSTER_SH          another deploy/cluster.sh (for testing this script)
#
# deploy/cluster.sh contract: `CS_VAR=DIR deploy/cluster.sh up 3` starts
# three nodes and writes DIR/cluster.env with NODE1_API..NODE3_API (https
# URLs), CLUSTER_CACERT, ADMIN_CERT and ADMIN_KEY (KEY=value lines, values
# optionally quoted); `CS_VAR=DIR deploy/cluster.sh down` stops them.
#
# Every process started here is stopped by its PID (etcd: SIGTERM, SIGKILL
# after 10 s), the certstore cluster with `cluster.sh down`, and the
# temporary directories are removed, on success, failure and INT/TERM/HUP
# alike (trap). Services of the system are never touched.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
seconds=${BENCH_SECONDS:-15}
warmup=${BENCH_WARMUP:-1}
concurrency=${BENCH_CONCURRENCY:-1 16 64}
etcd_tls=${BENCH_ETCD_TLS:-1}
ETCD=${ETCD:-etcd}
cluster_sh=${CLUSTER_SH:-$top/deploy/cluster.sh}

if [ -z "${LOADGEN:-}" ]; then
	if [ -x ./tests/bench/loadgen ]; then
		LOADGEN=./tests/bench/loadgen
	else
		LOADGEN="$here/loadgen"
	fi
fi
for tool in "$LOADGEN" "$ETCD" python3 openssl curl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "bench_writes: $tool not found (make bench; deploy/setup.sh)" >&2
		exit 1
	fi
done

say() {
	echo "bench_writes: $*" >&2
}

# ---- cleanup: every process by PID, the temporary directories ---------------

tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/cs-bench-writes-XXXXXX")
etcd_pids=""
loadgen_pid=""
cs_var=""
cs_up=0

stop_pid() {
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

cleanup() {
	status=$?
	trap - EXIT INT TERM HUP
	if [ -n "$loadgen_pid" ]; then
		stop_pid "$loadgen_pid"
	fi
	if [ "$cs_up" = 1 ]; then
		say "stopping the certstore cluster"
		cluster down >"$tmp/cluster-down.log" 2>&1 ||
		    say "cluster.sh down failed: $(tail -3 "$tmp/cluster-down.log")"
	fi
	for pid in $etcd_pids; do
		stop_pid "$pid"
	done
	rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- helpers -----------------------------------------------------------------

# cluster ARGS...: deploy/cluster.sh with our CS_VAR
cluster() {
	if [ -x "$cluster_sh" ]; then
		CS_VAR="$cs_var" "$cluster_sh" "$@"
	else
		CS_VAR="$cs_var" sh "$cluster_sh" "$@"
	fi
}

# free_ports N: N distinct free TCP ports on 127.0.0.1 (bound together, then
# released; the window before etcd binds them is short)
free_ports() {
	python3 -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
' "$1"
}

# kv FILE KEY: the value of KEY= in FILE (a loadgen output or cluster.env:
# an optional "export ", surrounding quotes dropped)
kv() {
	sed -n "s/^\(export \)\{0,1\}$2=//p" "$1" | tail -1 |
	    sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# run_loadgen NAME ARGS...: runs loadgen in the background (so that a
# signal reaches the trap at once), output in $tmp/NAME.out
run_loadgen() {
	name=$1
	shift
	"$LOADGEN" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	loadgen_pid=$!
	lrc=0
	wait "$loadgen_pid" || lrc=$?
	loadgen_pid=""
	if [ -n "${BENCH_OUT:-}" ]; then
		mkdir -p "$BENCH_OUT"
		cp "$tmp/$name.out" "$tmp/$name.err" "$BENCH_OUT/"
	fi
	if [ $lrc -ne 0 ] || [ "$(kv "$tmp/$name.out" complete)" != yes ]; then
		say "$name: loadgen failed (rc $lrc): $(tail -3 "$tmp/$name.err")"
		return 1
	fi
	if [ "$(kv "$tmp/$name.out" requests)" = 0 ]; then
		say "$name: no request measured ($(kv "$tmp/$name.out" \
		    warmup_errors) errors in warmup):"
		grep '^loadgen' "$tmp/$name.err" | head -3 >&2 || true
		return 1
	fi
	if [ "$(kv "$tmp/$name.out" errors)" != 0 ]; then
		say "$name: $(kv "$tmp/$name.out" errors) errors, e.g.:"
		grep '^loadgen: error' "$tmp/$name.err" | head -3 >&2 || true
	fi
	if [ "$(kv "$tmp/$name.out" pool_exhausted)" = yes ]; then
		say "$name: the certificate pool ran out: the run is shorter"
	fi
	return 0
}

# ---- a PKI for etcd: CA, a server certificate for all three nodes, a client --
# The server certificate also carries clientAuth: etcd 3.4's JSON gateway
# dials the node's own gRPC port presenting it.

pki() {
	d=$tmp/pki
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/ca.key" -out "$d/ca.pem" -subj /CN=bench-etcd-ca \
	    -days 2 -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	for name in server client; do
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$d/$name.key" -out "$d/$name.csr" \
		    -subj "/CN=bench-etcd-$name" 2>/dev/null
		printf '%s\n%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		    "extendedKeyUsage=serverAuth,clientAuth" >"$d/$name.ext"
		openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.pem" \
		    -CAkey "$d/ca.key" -CAcreateserial -days 2 \
		    -extfile "$d/$name.ext" -out "$d/$name.pem" 2>/dev/null
	done
}

# ---- etcd: three members -----------------------------------------------------

etcd_urls=""
etcd_tls_args=""
curl_tls_args=""

start_etcd() {
	scheme=http
	if [ "$etcd_tls" = 1 ]; then
		scheme=https
		pki
		d=$tmp/pki
		etcd_tls_args="--cacert $d/ca.pem --cert $d/client.pem --key $d/client.key"
		curl_tls_args="--cacert $d/ca.pem --cert $d/client.pem --key $d/client.key"
	fi
	ports=$(free_ports 6) # 3 client ports, then 3 peer ports
	port() {
		echo "$ports" | cut -d' ' -f"$1"
	}
	cluster="e1=$scheme://127.0.0.1:$(port 4)"
	cluster="$cluster,e2=$scheme://127.0.0.1:$(port 5)"
	cluster="$cluster,e3=$scheme://127.0.0.1:$(port 6)"
	token="bench-writes-$$-$(date +%s)"
	for i in 1 2 3; do
		client_url="$scheme://127.0.0.1:$(port "$i")"
		peer_url="$scheme://127.0.0.1:$(port $((i + 3)))"
		set -- --name "e$i" --data-dir "$tmp/etcd/e$i" \
		    --listen-client-urls "$client_url" \
		    --advertise-client-urls "$client_url" \
		    --listen-peer-urls "$peer_url" \
		    --initial-advertise-peer-urls "$peer_url" \
		    --initial-cluster "$cluster" \
		    --initial-cluster-token "$token" \
		    --initial-cluster-state new --logger zap \
		    --log-outputs stderr
		if [ "$etcd_tls" = 1 ]; then
			set -- "$@" --cert-file "$d/server.pem" \
			    --key-file "$d/server.key" --client-cert-auth \
			    --trusted-ca-file "$d/ca.pem" \
			    --peer-cert-file "$d/server.pem" \
			    --peer-key-file "$d/server.key" \
			    --peer-client-cert-auth \
			    --peer-trusted-ca-file "$d/ca.pem"
		fi
		mkdir -p "$tmp/etcd"
		"$ETCD" "$@" >"$tmp/etcd/e$i.log" 2>&1 &
		etcd_pids="$etcd_pids $!"
		etcd_urls="$etcd_urls${etcd_urls:+,}$client_url"
	done
	# healthy: every member answers /health with a leader elected
	i=0
	for url in $(echo "$etcd_urls" | tr ',' ' '); do
		# shellcheck disable=SC2086
		while ! curl -sf --max-time 2 $curl_tls_args "$url/health" 2>/dev/null |
		    grep -q '"health":"true"'; do
			i=$((i + 1))
			for pid in $etcd_pids; do
				if ! kill -0 "$pid" 2>/dev/null; then
					say "an etcd member exited:"
					tail -5 "$tmp"/etcd/e*.log >&2
					exit 1
				fi
			done
			if [ $i -gt 300 ]; then
				say "etcd is not healthy after 30 s:"
				tail -5 "$tmp"/etcd/e*.log >&2
				exit 1
			fi
			sleep 0.1
		done
	done
	say "etcd: 3 members on $etcd_urls"
}

# ---- certstore: deploy/cluster.sh --------------------------------------------

certstore=skipped
cs_urls=""
cs_tls_args=""

start_certstore() {
	if [ "${BENCH_CERTSTORE:-1}" = 0 ]; then
		say "certstore skipped (BENCH_CERTSTORE=0)"
		return 0
	fi
	if [ ! -f "$cluster_sh" ]; then
		say "certstore skipped: $cluster_sh does not exist yet"
		return 0
	fi
	cs_var=$tmp/certstore
	mkdir -p "$cs_var"
	cs_up=1 # from here on, cleanup runs `cluster.sh down`
	if ! cluster up 3 >"$tmp/cluster-up.log" 2>&1; then
		say "cluster.sh up 3 failed:"
		tail -10 "$tmp/cluster-up.log" >&2
		exit 1
	fi
	env_file=$cs_var/cluster.env
	for k in NODE1_API NODE2_API NODE3_API CLUSTER_CACERT ADMIN_CERT \
	    ADMIN_KEY; do
		if [ ! -f "$env_file" ] || [ -z "$(kv "$env_file" $k)" ]; then
			say "$env_file lacks $k"
			exit 1
		fi
	done
	cs_urls="$(kv "$env_file" NODE1_API),$(kv "$env_file" NODE2_API)"
	cs_urls="$cs_urls,$(kv "$env_file" NODE3_API)"
	cs_tls_args="--cacert $(kv "$env_file" CLUSTER_CACERT)"
	cs_tls_args="$cs_tls_args --cert $(kv "$env_file" ADMIN_CERT)"
	cs_tls_args="$cs_tls_args --key $(kv "$env_file" ADMIN_KEY)"
	certstore=ok
	say "certstore: 3 nodes on $cs_urls"
}

# ---- the runs ----------------------------------------------------------------

start_etcd
start_certstore

failed=0
results=$tmp/results
: >"$results"
for c in $concurrency; do
	if [ "$certstore" = ok ]; then
		say "c=$c certstore-import, $seconds s"
		# shellcheck disable=SC2086
		if run_loadgen "c${c}_certstore" --url "$cs_urls" \
		    --mode certstore-import $cs_tls_args --concurrency "$c" \
		    --duration "$seconds" --warmup "$warmup"; then
			cs_per_s=$(kv "$tmp/c${c}_certstore.out" per_s)
			cs_p99=$(kv "$tmp/c${c}_certstore.out" p99_ms)
			cs_err=$(kv "$tmp/c${c}_certstore.out" errors)
			cs_cpu=$(kv "$tmp/c${c}_certstore.out" client_cpu_pct)
		else
			cs_per_s=failed cs_p99=failed cs_err=failed cs_cpu=failed
			failed=1
		fi
	else
		cs_per_s=na cs_p99=na cs_err=na cs_cpu=na
	fi
	say "c=$c etcd-put, $seconds s"
	# shellcheck disable=SC2086
	if run_loadgen "c${c}_etcd" --url "$etcd_urls" --mode etcd-put \
	    $etcd_tls_args --concurrency "$c" --duration "$seconds" \
	    --warmup "$warmup"; then
		etcd_per_s=$(kv "$tmp/c${c}_etcd.out" per_s)
		etcd_p99=$(kv "$tmp/c${c}_etcd.out" p99_ms)
		etcd_err=$(kv "$tmp/c${c}_etcd.out" errors)
		etcd_cpu=$(kv "$tmp/c${c}_etcd.out" client_cpu_pct)
	else
		etcd_per_s=failed etcd_p99=failed etcd_err=failed etcd_cpu=failed
		failed=1
	fi
	ratio=$(awk -v a="$cs_per_s" -v b="$etcd_per_s" 'BEGIN {
	    if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0)
		printf "%.2f", a / b
	    else
		print "na" }')
	{
		echo "c${c}_certstore_per_s=$cs_per_s"
		echo "c${c}_etcd_per_s=$etcd_per_s"
		echo "c${c}_ratio=$ratio"
		echo "c${c}_certstore_p99_ms=$cs_p99"
		echo "c${c}_etcd_p99_ms=$etcd_p99"
		echo "c${c}_certstore_errors=$cs_err"
		echo "c${c}_etcd_errors=$etcd_err"
		echo "c${c}_certstore_client_cpu_pct=$cs_cpu"
		echo "c${c}_etcd_client_cpu_pct=$etcd_cpu"
	} >>"$results"
done

echo "certstore=$certstore"
echo "etcd_tls=$([ "$etcd_tls" = 1 ] && echo yes || echo no)"
echo "seconds=$seconds"
cat "$results"
exit "$failed"

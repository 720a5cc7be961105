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
#   cN_certstore_nodes_cpu_us cN_etcd_nodes_cpu_us (server CPU per write,
#   the three nodes together)
#   cN_certstore_run_etcd_cpu_pct cN_etcd_run_certstore_cpu_pct (what the
#   idle peer's processes used, % of one core, during the other's run,
#   loadgen's setup included: background work competing for the cores)
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

BENCH_NAME=bench_writes
# shellcheck source=tests/bench/bench_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/bench_lib.sh"
seconds=${BENCH_SECONDS:-15}
warmup=${BENCH_WARMUP:-1}
concurrency=${BENCH_CONCURRENCY:-1 16 64}
etcd_tls=${BENCH_ETCD_TLS:-1}
ETCD=${ETCD:-etcd}
need "$LOADGEN" "$ETCD" python3 openssl curl

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
		bg_pids="$bg_pids $!"
		etcd_pids="${etcd_pids:-} $!"
		etcd_urls="$etcd_urls${etcd_urls:+,}$client_url"
	done
	# healthy: every member answers /health with a leader elected
	i=0
	for url in $(echo "$etcd_urls" | tr ',' ' '); do
		# shellcheck disable=SC2086
		while ! curl -sf --max-time 2 $curl_tls_args "$url/health" 2>/dev/null |
		    grep -q '"health":"true"'; do
			i=$((i + 1))
			for pid in $bg_pids; do
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

start_bench_certstore() {
	if [ "${BENCH_CERTSTORE:-1}" = 0 ]; then
		say "certstore skipped (BENCH_CERTSTORE=0)"
		return 0
	fi
	if start_certstore 3; then
		certstore=ok
	fi
}

# ---- the runs ----------------------------------------------------------------

start_etcd
start_bench_certstore

failed=0
# busy_pct CPU0 CPU1 T0: % of one core that CPU1 - CPU0 seconds of CPU
# are over the time since T0 (what the idle peer used during a run)
busy_pct() {
	awk -v a="$1" -v b="$2" -v t0="$3" -v t1="$(date +%s.%N)" \
	    'BEGIN { printf "%.1f", (b - a) * 100 / (t1 - t0) }'
}

# per_write_us CPU0 CPU1 PER_S: the servers' CPU per write, all nodes
# together, over warmup and measure (the load generator's own figure is
# *_client_cpu_pct)
per_write_us() {
	awk -v a="$1" -v b="$2" -v r="$3" -v s="$seconds" -v w="$warmup" \
	    'BEGIN { if (r + 0 > 0) printf "%.0f", (b - a) * 1e6 / (r * (s + w));
	    else print "na" }'
}

results=$tmp/results
: >"$results"
for c in $concurrency; do
	if [ "$certstore" = ok ]; then
		say "c=$c certstore-import, $seconds s"
		# shellcheck disable=SC2046
		cpu0=$(cpu_s $(node_pids))
		# shellcheck disable=SC2086
		peer0=$(cpu_s $etcd_pids) t0=$(date +%s.%N)
		# shellcheck disable=SC2086
		if run_loadgen "c${c}_certstore" --url "$cs_urls" \
		    --mode certstore-import $cs_tls_args --concurrency "$c" \
		    --duration "$seconds" --warmup "$warmup"; then
			cs_per_s=$(kv "$tmp/c${c}_certstore.out" per_s)
			cs_p99=$(kv "$tmp/c${c}_certstore.out" p99_ms)
			cs_err=$(kv "$tmp/c${c}_certstore.out" errors)
			cs_cpu=$(kv "$tmp/c${c}_certstore.out" client_cpu_pct)
			# shellcheck disable=SC2046
			cs_srv=$(per_write_us "$cpu0" "$(cpu_s $(node_pids))" \
			    "$cs_per_s")
			# shellcheck disable=SC2086
			cs_idle=$(busy_pct "$peer0" "$(cpu_s $etcd_pids)" "$t0")
		else
			cs_per_s=failed cs_p99=failed cs_err=failed cs_cpu=failed
			cs_srv=failed cs_idle=failed
			failed=1
		fi
	else
		cs_per_s=na cs_p99=na cs_err=na cs_cpu=na cs_srv=na cs_idle=na
	fi
	say "c=$c etcd-put, $seconds s"
	# shellcheck disable=SC2086
	cpu0=$(cpu_s $etcd_pids)
	peer0=na t0=$(date +%s.%N)
	# shellcheck disable=SC2046
	[ "$certstore" = ok ] && peer0=$(cpu_s $(node_pids))
	# shellcheck disable=SC2086
	if run_loadgen "c${c}_etcd" --url "$etcd_urls" --mode etcd-put \
	    $etcd_tls_args --concurrency "$c" --duration "$seconds" \
	    --warmup "$warmup"; then
		etcd_per_s=$(kv "$tmp/c${c}_etcd.out" per_s)
		etcd_p99=$(kv "$tmp/c${c}_etcd.out" p99_ms)
		etcd_err=$(kv "$tmp/c${c}_etcd.out" errors)
		etcd_cpu=$(kv "$tmp/c${c}_etcd.out" client_cpu_pct)
		# shellcheck disable=SC2086
		etcd_srv=$(per_write_us "$cpu0" "$(cpu_s $etcd_pids)" \
		    "$etcd_per_s")
		etcd_idle=na
		# shellcheck disable=SC2046
		[ "$certstore" = ok ] && etcd_idle=$(busy_pct "$peer0" \
		    "$(cpu_s $(node_pids))" "$t0")
	else
		etcd_per_s=failed etcd_p99=failed etcd_err=failed etcd_cpu=failed
		etcd_srv=failed etcd_idle=failed
		failed=1
	fi
	ratio=$(ratio "$cs_per_s" "$etcd_per_s")
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
		echo "c${c}_certstore_nodes_cpu_us=$cs_srv"
		echo "c${c}_etcd_nodes_cpu_us=$etcd_srv"
		echo "c${c}_certstore_run_etcd_cpu_pct=$cs_idle"
		echo "c${c}_etcd_run_certstore_cpu_pct=$etcd_idle"
	} >>"$results"
done

echo "certstore=$certstore"
echo "etcd_tls=$([ "$etcd_tls" = 1 ] && echo yes || echo no)"
echo "seconds=$seconds"
cat "$results"
exit "$failed"

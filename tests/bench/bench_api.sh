#!/bin/sh
# shellcheck disable=SC2317 # functions run from the trap look unreachable
# bench_api.sh - the REST API over HTTPS with keep-alive and client
# certificates, on a 3-node certstore cluster (deploy/cluster.sh):
#
#   1. reads: GET /v1/certs/{fingerprint} of BENCH_CERTS imported
#      certificates, in turn, against each node alone (every node answers
#      from its own copy), at BENCH_CONCURRENCY (64);
#   2. revocations: POST /v1/certs/{fp}/revoke of fresh certificates,
#      round-robin over the three nodes (followers forward to the leader;
#      each is committed before it is answered), at BENCH_CONCURRENCY.
#
# Replicated imports against etcd are tests/bench/bench_writes.sh.
# Prints key=value lines: reads_node<i>_per_s reads_node<i>_p99_ms
# (i = 1..3), revoke_per_s revoke_p99_ms revoke_errors, and
# client_cpu_pct of each run (the load generator shares the two cores).
#
# Usage, from the build directory after `make bench`:
#   ../tests/bench/bench_api.sh              (~1 minute)
#   BENCH_SECONDS=3 ../tests/bench/bench_api.sh          (a smoke run)
# Environment: BENCH_SECONDS (15), BENCH_WARMUP (1), BENCH_CONCURRENCY
# (64), BENCH_CERTS (10000), BENCH_OUT, BENCH_TMPDIR, LOADGEN, CLUSTER_SH.
set -eu

BENCH_NAME=bench_api
# shellcheck source=tests/bench/bench_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/bench_lib.sh"
seconds=${BENCH_SECONDS:-15}
warmup=${BENCH_WARMUP:-1}
conc=${BENCH_CONCURRENCY:-64}
ncerts=${BENCH_CERTS:-10000}
need "$LOADGEN" python3 openssl curl jq

CS_NO_CA=1
export CS_NO_CA
start_certstore 3 || exit 1
results=$tmp/results
: >"$results"
out() {
	echo "$1=$2" >>"$results"
}

# ---- the certificates to read ------------------------------------------------

say "importing $ncerts certificates"
# certstore-revoke imports its pool in batches of 1000 first; a short
# revocation phase follows (not the measured one)
# shellcheck disable=SC2086
run_loadgen load --url "$(kv "$env_file" NODE1_API)" --mode certstore-revoke \
    $cs_tls_args --pool "$ncerts" --batch 1000 --concurrency 4 \
    --duration 0.2 || exit 1
paths=$tmp/paths
: >"$paths"
cursor=""
while :; do
	# shellcheck disable=SC2086
	curl -sS --max-time 60 --cacert "$(kv "$env_file" CLUSTER_CACERT)" \
	    --cert "$(kv "$env_file" ADMIN_CERT)" \
	    --key "$(kv "$env_file" ADMIN_KEY)" \
	    "$(kv "$env_file" NODE1_API)/v1/certs?limit=1000&consistency=leader${cursor:+&cursor=$cursor}" \
	    >"$tmp/page.json"
	jq -r '.items[] | "/v1/certs/" + .fingerprint' "$tmp/page.json" >>"$paths"
	cursor=$(jq -r '.next_cursor // empty' "$tmp/page.json")
	[ -n "$cursor" ] || break
done
say "$(wc -l <"$paths") fingerprints to read"

# ---- 1. reads, each node alone ---------------------------------------------------

for i in 1 2 3; do
	say "reads on node $i, c=$conc, $seconds s"
	# shellcheck disable=SC2086
	run_loadgen "reads_node$i" --url "$(kv "$env_file" NODE${i}_API)" \
	    --mode get --paths "$paths" $cs_tls_args --concurrency "$conc" \
	    --duration "$seconds" --warmup "$warmup" || exit 1
	out "reads_node${i}_per_s" "$(kv "$tmp/reads_node$i.out" per_s)"
	out "reads_node${i}_p99_ms" "$(kv "$tmp/reads_node$i.out" p99_ms)"
	out "reads_node${i}_client_cpu_pct" \
	    "$(kv "$tmp/reads_node$i.out" client_cpu_pct)"
done

# ---- 2. revocations through every node -------------------------------------------

say "revocations, c=$conc, $seconds s"
# a pool for up to 5000 revocations/s (loadgen's default sizing assumes
# 30,000/s: 120,000 certificates imported for a 3 s run), imported in
# batches of 1000 with time to spare (c=64 batches queue at the leader)
pool=$((5000 * (${seconds%.*} + ${warmup%.*}) + conc))
# shellcheck disable=SC2086
run_loadgen revoke --url "$cs_urls" --mode certstore-revoke $cs_tls_args \
    --batch 1000 --concurrency "$conc" --duration "$seconds" \
    --warmup "$warmup" --first 5000000 --pool "$pool" --timeout 60000 ||
    exit 1
out revoke_per_s "$(kv "$tmp/revoke.out" per_s)"
out revoke_p99_ms "$(kv "$tmp/revoke.out" p99_ms)"
out revoke_errors "$(kv "$tmp/revoke.out" errors)"
out revoke_client_cpu_pct "$(kv "$tmp/revoke.out" client_cpu_pct)"

cat "$results"

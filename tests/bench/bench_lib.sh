# shellcheck shell=sh disable=SC2317 # functions run from the trap look unreachable
# bench_lib.sh - what the benchmark scripts share: temporary directory,
# cleanup by PID on every exit path, loadgen runs, the certstore cluster.
#
# A script sets BENCH_NAME (for messages), sources this file, and appends
# the PIDs of what it starts to bg_pids. Every process it started is
# stopped by its PID (SIGTERM, SIGKILL after 10 s), the certstore cluster
# with `cluster.sh down`, and the temporary directory is removed, on
# success, failure and INT/TERM/HUP alike. Nothing is stopped by name.

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cluster_sh=${CLUSTER_SH:-$top/deploy/cluster.sh}

if [ -z "${LOADGEN:-}" ]; then
	if [ -x ./tests/bench/loadgen ]; then
		LOADGEN=./tests/bench/loadgen
	else
		LOADGEN="$here/loadgen"
	fi
fi

say() {
	echo "$BENCH_NAME: $*" >&2
}

# need TOOL...: exits when one is missing
need() {
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			say "$tool not found (make bench; deploy/setup.sh)"
			exit 1
		fi
	done
}

tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/cs-$BENCH_NAME-XXXXXX")
bg_pids=""
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
	for pid in $bg_pids; do
		stop_pid "$pid"
	done
	rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# cluster ARGS...: deploy/cluster.sh with our CS_VAR
cluster() {
	if [ -x "$cluster_sh" ]; then
		CS_VAR="$cs_var" "$cluster_sh" "$@"
	else
		CS_VAR="$cs_var" sh "$cluster_sh" "$@"
	fi
}

# free_ports N: N distinct free TCP ports on 127.0.0.1 (bound together, then
# released; the window before a server binds them is short)
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

# ratio A B: A / B with two decimals, or "na"
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
	    if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0)
		printf "%.2f", a / b
	    else
		print "na" }'
}

# cpu_s PID...: the CPU seconds (user + system) these processes have used
# so far (a process that is gone counts 0)
cpu_s() {
	for p in "$@"; do
		cat "/proc/$p/stat" 2>/dev/null || true
	done | awk -v hz="$(getconf CLK_TCK)" '{
	    sub(/^.*\) /, ""); t += $12 + $13 } END { printf "%.3f", t / hz }'
}

# node_pids: the PIDs of the certstore nodes (from cluster.env)
node_pids() {
	sed -n 's/^\(export \)\{0,1\}NODE[0-9]*_PID=//p' "$env_file" | tr -d "\"'"
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

# start_certstore [N]: a certstore cluster (deploy/cluster.sh up N, 3 by
# default) under $tmp/certstore; sets env_file, cs_urls (every node's API,
# comma-separated) and cs_tls_args (loadgen's TLS options). Returns 1 when
# deploy/cluster.sh does not exist (certstore's half is then skipped).
start_certstore() {
	n=${1:-3}
	if [ ! -f "$cluster_sh" ]; then
		say "certstore skipped: $cluster_sh does not exist yet"
		return 1
	fi
	cs_var=$tmp/certstore
	mkdir -p "$cs_var"
	cs_up=1 # from here on, cleanup runs `cluster.sh down`
	if ! cluster up "$n" >"$tmp/cluster-up.log" 2>&1; then
		say "cluster.sh up $n failed:"
		tail -10 "$tmp/cluster-up.log" >&2
		exit 1
	fi
	env_file=$cs_var/cluster.env
	for k in NODE1_API CLUSTER_CACERT ADMIN_CERT ADMIN_KEY; do
		if [ ! -f "$env_file" ] || [ -z "$(kv "$env_file" $k)" ]; then
			say "$env_file lacks $k"
			exit 1
		fi
	done
	cs_urls=""
	i=1
	while [ "$i" -le "$n" ]; do
		cs_urls="$cs_urls${cs_urls:+,}$(kv "$env_file" NODE${i}_API)"
		i=$((i + 1))
	done
	cs_tls_args="--cacert $(kv "$env_file" CLUSTER_CACERT)"
	cs_tls_args="$cs_tls_args --cert $(kv "$env_file" ADMIN_CERT)"
	cs_tls_args="$cs_tls_args --key $(kv "$env_file" ADMIN_KEY)"
	say "certstore: $n nodes on $cs_urls"
	return 0
}

#!/bin/bash
# A local certstore cluster on 127.0.0.1, for people and for tests.
#
#   deploy/cluster.sh up [N]     N = 3 (default) or 5 nodes
#   deploy/cluster.sh status     the cluster as each node sees it
#   deploy/cluster.sh down       stop the nodes (by PID), keep the data
#   deploy/cluster.sh clean      down, then remove the cluster's directory
#
# `up` installs what is missing (deploy/setup.sh, as root), builds
# certstored if needed, makes a throwaway PKI (a cluster CA for node
# certificates, a client CA, an admin client certificate), starts the
# nodes with data under $CS_VAR (default ./var), waits until they have a
# ready leader, and writes $CS_VAR/cluster.env:
#   NODE<i>_API NODE<i>_HTTP NODE<i>_PUBLIC NODE<i>_RAFT NODE<i>_PID
#   NODE<i>_DATA NODE<i>_CONF NODE<i>_LOG CLUSTER_SIZE CLUSTER_CACERT
#   CLIENT_CA CLIENT_CA_KEY ADMIN_CERT ADMIN_KEY CERTSTORED
#   LOCAL_CA_CERT LOCAL_CA_KEY
# and registers an issuer "local-ca" and a profile "default", so that the
# cluster can issue at once (CS_NO_CA=1: not). Extra settings for every
# node's config can be given in CS_EXTRA_CONF
# (lines appended to each certstored.conf).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
VAR=${CS_VAR:-$top/var}
ENV_FILE=$VAR/cluster.env
BUILD=${CS_BUILD:-$top/build}

die() { echo "cluster: $*" >&2; exit 1; }

ensure_built() {
	if [ -n "${CERTSTORED:-}" ] && [ -x "$CERTSTORED" ]; then
		return
	fi
	CERTSTORED=$BUILD/certstored
	if [ -x "$CERTSTORED" ] && [ -z "${CS_REBUILD:-}" ]; then
		# rebuild quietly when sources changed
		make -s -C "$BUILD" certstored >/dev/null 2>&1 || true
		return
	fi
	if [ "$(id -u)" -eq 0 ]; then
		"$top/deploy/setup.sh" >/dev/null
	fi
	[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null 2>&1)
	mkdir -p "$BUILD"
	if [ ! -f "$BUILD/Makefile" ]; then
		(cd "$BUILD" && "$top/configure" >/dev/null) ||
		    die "configure failed (run deploy/setup.sh as root)"
	fi
	make -s -C "$BUILD" -j2 certstored >/dev/null ||
	    die "build failed: make -C $BUILD certstored"
}

# A free TCP port on 127.0.0.1 that no other port chosen here uses, in
# $port (not printed: a $(free_port) subshell would forget what it took,
# and two nodes of one cluster could get the same port).
# Below the kernel's ephemeral range when it leaves room: any outgoing
# connection may hold a port of that range, and a port held by one cannot
# be bound for listening (a node then exits at start); and free in every
# state, not only unlistened.
declare -A taken=()
free_port() {
	local p eph_lo span
	read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null ||
	    eph_lo=32768
	span=$((eph_lo - 20000))
	[ "$span" -ge 2000 ] || span=20000
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % span))
		[ -z "${taken[$p]:-}" ] || continue
		if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
			taken[$p]=1
			port=$p
			return
		fi
	done
	die "no free port found"
}

make_pki() {
	local pki=$VAR/pki n=$1
	mkdir -p "$pki"
	chmod 700 "$pki"
	cd "$pki"
	# two CAs: nodes (cluster) and clients; EC P-256, ten years
	for ca in cluster client; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$ca-ca.key" -out "$ca-ca.pem" -days 3650 \
		    -subj "/O=certstore local/CN=certstore local $ca CA" \
		    -addext "basicConstraints=critical,CA:TRUE" \
		    -addext "keyUsage=critical,keyCertSign,cRLSign" \
		    2>/dev/null
	done
	for i in $(seq "$n"); do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -keyout "node$i.key" -out "node$i.csr" \
		    -subj "/O=certstore local/CN=certstore node $i" 2>/dev/null
		openssl x509 -req -in "node$i.csr" -CA cluster-ca.pem \
		    -CAkey cluster-ca.key -CAcreateserial -days 825 \
		    -out "node$i.pem" -extfile <(printf '%s\n' \
		    "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		    "extendedKeyUsage=serverAuth,clientAuth" \
		    "keyUsage=critical,digitalSignature") 2>/dev/null
		rm -f "node$i.csr"
	done
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout admin.key -out admin.csr -subj "/CN=certstore-admin" \
	    2>/dev/null
	openssl x509 -req -in admin.csr -CA client-ca.pem -CAkey client-ca.key \
	    -CAcreateserial -days 825 -out admin.pem -extfile <(printf '%s\n' \
	    "extendedKeyUsage=clientAuth" \
	    "keyUsage=critical,digitalSignature") 2>/dev/null
	rm -f admin.csr
	chmod 600 ./*.key
	cd - >/dev/null
}

wait_ready() {
	local n=$1 deadline=$((SECONDS + ${CS_WAIT:-60})) ready
	while [ $SECONDS -lt $deadline ]; do
		ready=0
		for i in $(seq "$n"); do
			local pid_var="NODE${i}_PID" api_var="NODE${i}_API"
			kill -0 "${!pid_var}" 2>/dev/null ||
			    die "node $i exited: see ${VAR}/node$i/certstored.log"
			if curl -sf --max-time 2 \
			    --cacert "$VAR/pki/cluster-ca.pem" \
			    --cert "$VAR/pki/admin.pem" --key "$VAR/pki/admin.key" \
			    "${!api_var}/readyz" >/dev/null 2>&1; then
				ready=$((ready + 1))
			fi
		done
		[ "$ready" -eq "$n" ] && return 0
		sleep 0.2
	done
	die "the cluster did not become ready in ${CS_WAIT:-60}s"
}

# Leaves the cluster ready to issue: an issuer "local-ca" (ECDSA P-256
# root; its key in $VAR/keys, readable by the service user only: every
# node resolves the same file: reference) and a profile "default"
# (device certificates, 90 days, rotation due at 30 days). CS_NO_CA=1
# skips this.
bootstrap_ca() {
	local keys=$VAR/keys api=$NODE1_API
	local curl_opts=(-sS --max-time 30 --cacert "$VAR/pki/cluster-ca.pem"
	    --cert "$VAR/pki/admin.pem" --key "$VAR/pki/admin.key"
	    -H "Content-Type: application/json")
	mkdir -p "$keys"
	chmod 700 "$keys"
	(
		umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$keys/local-ca.key" -out "$keys/local-ca.pem" \
		    -days 3650 -subj "/O=certstore local cluster/CN=local-ca" \
		    -addext "basicConstraints=critical,CA:TRUE" \
		    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
		    -addext "subjectKeyIdentifier=hash" 2>/dev/null
	) || die "could not make the local-ca key"
	jq -n --rawfile cert "$keys/local-ca.pem" \
	    --arg ref "file:$keys/local-ca.key" \
	    '{certificate: $cert, key_ref: $ref,
	      description: "local cluster root (deploy/cluster.sh)"}' |
	    curl "${curl_opts[@]}" -X PUT --data-binary @- -o /dev/null \
		-w '%{http_code}' "$api/v1/issuers/local-ca" | grep -q '^200$' ||
	    die "could not register issuer local-ca"
	jq -n '{issuer: "local-ca", key_types: ["p256", "p384", "ed25519",
	      "rsa2048", "rsa3072", "rsa4096"], max_validity: "90d",
	      rotate_after: "30d",
	      allow: {dns: ["*.hospital.test", "*.site-1.hospital.test",
	        "*.site-2.hospital.test"], ip: ["10.0.0.0/8", "127.0.0.0/8"],
	        uri: ["urn:device:*"], email: ["*@hospital.test"], cn: ["*"]},
	      key_usage: ["digitalSignature", "keyEncipherment"],
	      eku: ["clientAuth", "serverAuth"],
	      description: "device certificates: 90 days, rotated monthly"}' |
	    curl "${curl_opts[@]}" -X PUT --data-binary @- -o /dev/null \
		-w '%{http_code}' "$api/v1/profiles/default" | grep -q '^200$' ||
	    die "could not create profile default"
}

up() {
	local n=${1:-3}
	[ "$n" = 3 ] || [ "$n" = 5 ] || [ "$n" = 1 ] || die "N must be 3 or 5"
	if [ -f "$ENV_FILE" ]; then
		# shellcheck disable=SC1090
		. "$ENV_FILE"
		if kill -0 "${NODE1_PID:-0}" 2>/dev/null; then
			die "a cluster already runs from $VAR (deploy/cluster.sh down)"
		fi
	fi
	command -v openssl >/dev/null && command -v curl >/dev/null &&
	    command -v jq >/dev/null ||
	    die "openssl, curl and jq are needed (deploy/setup.sh)"
	ensure_built
	rm -rf "$VAR"
	mkdir -p "$VAR"
	make_pki "$n"
	local members="" i
	declare -A api raft http pub
	for i in $(seq "$n"); do
		free_port && api[$i]=$port
		free_port && raft[$i]=$port
		free_port && http[$i]=$port
		free_port && pub[$i]=$port
		members+="member $i 127.0.0.1:${raft[$i]} https://127.0.0.1:${api[$i]} site-$(( (i - 1) % 2 == 0 ? 1 : 2 )) http://127.0.0.1:${http[$i]} https://127.0.0.1:${pub[$i]}"$'\n'
	done
	{
		echo "# written by deploy/cluster.sh up $n"
		echo "CLUSTER_SIZE=$n"
		echo "CS_VAR=$VAR"
		echo "CERTSTORED=$CERTSTORED"
		echo "CLUSTER_CACERT=$VAR/pki/cluster-ca.pem"
		echo "CLIENT_CA=$VAR/pki/client-ca.pem"
		echo "CLIENT_CA_KEY=$VAR/pki/client-ca.key"
		echo "ADMIN_CERT=$VAR/pki/admin.pem"
		echo "ADMIN_KEY=$VAR/pki/admin.key"
		echo "LOCAL_CA_CERT=$VAR/keys/local-ca.pem"
		echo "LOCAL_CA_KEY=$VAR/keys/local-ca.key"
	} >"$ENV_FILE"
	for i in $(seq "$n"); do
		local d=$VAR/node$i
		mkdir -p "$d/data"
		cat >"$d/certstored.conf" <<EOF
# node $i of a local cluster (deploy/cluster.sh)
node-id $i
raft-address 127.0.0.1:${raft[$i]}
data-dir $d/data
api-listen 127.0.0.1:${api[$i]}
public-listen 127.0.0.1:${pub[$i]}
http-listen 127.0.0.1:${http[$i]}
tls-cert $VAR/pki/node$i.pem
tls-key $VAR/pki/node$i.key
client-ca $VAR/pki/client-ca.pem
cluster-ca $VAR/pki/cluster-ca.pem
admin-identity "CN=certstore-admin"
segment-size ${CS_SEGMENT_SIZE:-1048576}
$members${CS_EXTRA_CONF:-}
EOF
		"$CERTSTORED" -n -f "$d/certstored.conf" >/dev/null ||
		    { down >/dev/null; die "node $i: bad configuration"; }
		"$CERTSTORED" -f "$d/certstored.conf" >"$d/certstored.log" 2>&1 &
		{
			echo "NODE${i}_PID=$!"
			echo "NODE${i}_API=https://127.0.0.1:${api[$i]}"
			echo "NODE${i}_HTTP=http://127.0.0.1:${http[$i]}"
			echo "NODE${i}_PUBLIC=https://127.0.0.1:${pub[$i]}"
			echo "NODE${i}_RAFT=127.0.0.1:${raft[$i]}"
			echo "NODE${i}_DATA=$d/data"
			echo "NODE${i}_CONF=$d/certstored.conf"
			echo "NODE${i}_LOG=$d/certstored.log"
		} >>"$ENV_FILE"
	done
	# shellcheck disable=SC1090
	. "$ENV_FILE"
	# a cluster that does not come up is not left running
	if ! (wait_ready "$n"); then
		down >/dev/null
		exit 1
	fi
	if [ "${CS_NO_CA:-0}" != 1 ] && ! (bootstrap_ca); then
		down >/dev/null
		exit 1
	fi
	echo "cluster: $n nodes ready; settings in $ENV_FILE"
	status
}

down() {
	[ -f "$ENV_FILE" ] || { echo "cluster: nothing to stop"; return 0; }
	# shellcheck disable=SC1090
	. "$ENV_FILE"
	local pids=() i
	for i in $(seq "$CLUSTER_SIZE"); do
		local v="NODE${i}_PID"
		if kill -0 "${!v}" 2>/dev/null; then
			kill -TERM "${!v}" 2>/dev/null || true
			pids+=("${!v}")
		fi
	done
	for _ in $(seq 100); do
		local alive=0 p
		for p in "${pids[@]}"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
	done
	echo "cluster: stopped ${#pids[@]} node(s)"
}

status() {
	[ -f "$ENV_FILE" ] || die "no cluster (deploy/cluster.sh up)"
	# shellcheck disable=SC1090
	. "$ENV_FILE"
	local i
	printf '%-5s %-7s %-10s %-7s %-6s %-8s %s\n' NODE PID STATE LEADER TERM APPLIED API
	for i in $(seq "$CLUSTER_SIZE"); do
		local pv="NODE${i}_PID" av="NODE${i}_API" out
		if ! kill -0 "${!pv}" 2>/dev/null; then
			printf '%-5s %-7s %s\n' "$i" "${!pv}" "down"
			continue
		fi
		out=$(curl -s --max-time 3 --cacert "$CLUSTER_CACERT" \
		    --cert "$ADMIN_CERT" --key "$ADMIN_KEY" \
		    "${!av}/v1/cluster" 2>/dev/null || true)
		if [ -z "$out" ]; then
			printf '%-5s %-7s %s\n' "$i" "${!pv}" "no answer"
			continue
		fi
		printf '%-5s %-7s %-10s %-7s %-6s %-8s %s\n' "$i" "${!pv}" \
		    "$(echo "$out" | jq -r .state)" \
		    "$(echo "$out" | jq -r .leader_id)" \
		    "$(echo "$out" | jq -r .term)" \
		    "$(echo "$out" | jq -r .applied_index)" "${!av}"
	done
}

case "${1:-}" in
up) shift; up "$@" ;;
down) down ;;
status) status ;;
clean) down; rm -rf "$VAR" ;;
*) echo "usage: deploy/cluster.sh up [3|5] | status | down | clean" >&2; exit 2 ;;
esac

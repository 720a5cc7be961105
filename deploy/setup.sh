#!/bin/sh
# Installs every Debian 12 package certstore needs to build, run and test.
# Idempotent: does nothing (no apt-get update) when all are present.
# Run as root on a fresh Debian 12 machine:  deploy/setup.sh
set -eu

PACKAGES="
build-essential autoconf automake libtool pkg-config
libssl-dev libraft-dev libuv1-dev libmsgpack-dev check libjansson-dev
libhttp-parser-dev libcurl4-openssl-dev
clang libclang-rt-14-dev clang-format gcovr
openssl curl ca-certificates python3 iproute2 procps util-linux jq
etcd-server etcd-client golang-cfssl wrk
softhsm2 libengine-pkcs11-openssl opensc
faketime testssl.sh sslscan nftables
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "setup: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages:$missing" >&2
	echo "setup: run as root to install them" >&2
	exit 1
fi
echo "setup: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# etcd-server's package starts a system etcd on 2379/2380; the benchmarks
# run their own etcd processes, so keep the system one from taking ports.
if command -v systemctl >/dev/null 2>&1 &&
    systemctl is-active --quiet etcd 2>/dev/null; then
	systemctl stop etcd || true
	systemctl disable etcd >/dev/null 2>&1 || true
fi
echo "setup: done"

#!/bin/sh
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. deploy/setup.sh (packages)
#   2. formatting check (clang-format, the repo's .clang-format)
#   3. gcc build with warnings as errors, `make check` (unit tests and the
#      integration tests that start real certstored processes)
#   4. clang build with ASan + UBSan, unit tests again
#   5. `make distcheck` (the release tarball builds and passes its unit
#      and C integration tests; the real-cluster tests ran in step 3)
#   6. the TLS audit (testssl.sh and sslscan, by
#      tests/integration/tls_audit_one.sh, against a node's public and
#      mTLS listeners: no finding rated HIGH or CRITICAL), run in the
#      background from step 4 on with the gcc build's certstored: it
#      mostly waits on the network, and it takes about 7 minutes.
#      CHECK_TLS_AUDIT=0 leaves it out.
# Exits non-zero on the first failure. Build trees go under ./build-ci/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=${JOBS:-2}
start=$(date +%s)
step() { echo "== $* ($(($(date +%s) - start))s)"; }

step setup
deploy/setup.sh

step format
# shellcheck disable=SC2046
clang-format --dry-run -Werror $(git ls-files '*.c' '*.h')

step autogen
./autogen.sh >/dev/null 2>&1

step "gcc -Werror build and make check"
rm -rf build-ci
mkdir -p build-ci/gcc build-ci/san build-ci/dist
(cd build-ci/gcc && ../../configure --enable-werror >/dev/null &&
    make -j"$jobs" >/dev/null && make -j"$jobs" check) || {
	find build-ci/gcc -name '*.log' -newer configure -path '*tests*' \
	    -exec grep -l -E "^(FAIL|ERROR)" {} \; | while read -r f; do
		echo "---- $f"; tail -50 "$f"; done
	exit 1
}

audit_pid=""
audit_log=$top/build-ci/tls-audit.log
if [ "${CHECK_TLS_AUDIT:-1}" != 0 ]; then
	step "TLS audit started in the background ($audit_log)"
	# in a process group of its own, so that a failure below ends all of
	# it (the audit's own trap stops its node)
	setsid sh -c 'cd build-ci/gcc && exec make check-tls-audit' \
	    >"$audit_log" 2>&1 &
	audit_pid=$!
	trap '[ -z "$audit_pid" ] || kill -TERM -- "-$audit_pid" 2>/dev/null ||
	    true' EXIT
fi

step "clang ASan+UBSan build, unit tests"
(cd build-ci/san && CC=clang ../../configure --enable-werror \
    --enable-sanitizers >/dev/null && make -j"$jobs" >/dev/null &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    make -j"$jobs" check TESTS="$(cd ../gcc && make -s print-unit-tests)") || {
	find build-ci/san -name 'test_*.log' -exec grep -l -E \
	    "FAIL|ERROR|runtime error|AddressSanitizer" {} \; |
	    while read -r f; do echo "---- $f"; tail -60 "$f"; done
	exit 1
}

step distcheck
(cd build-ci/dist && ../../configure >/dev/null &&
    make -j"$jobs" distcheck CLUSTER_TESTS= API_TESTS= >/dev/null) ||
    exit 1

if [ -n "$audit_pid" ]; then
	step "TLS audit: waiting for it"
	arc=0
	wait "$audit_pid" || arc=$?
	audit_pid=""
	if grep -q "^test_tls_audit: .*skipped$" "$audit_log"; then
		echo "---- the TLS audit was skipped: $(tail -1 "$audit_log")"
	elif [ $arc -ne 0 ]; then
		echo "---- the TLS audit failed (exit $arc):"
		tail -60 "$audit_log"
		exit 1
	else
		tail -3 "$audit_log"
	fi
fi

step "all passed"

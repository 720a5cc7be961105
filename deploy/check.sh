#!/bin/sh
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. deploy/setup.sh (packages)
#   2. formatting check (clang-format, the repo's .clang-format)
#   3. gcc build with warnings as errors, `make check` (unit tests and the
#      integration tests that start real certstored processes)
#   4. clang build with ASan + UBSan, unit tests again
#   5. `make distcheck` (the release tarball builds and passes its unit
#      and C integration tests; the real-cluster tests ran in step 3)
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

step "all passed"

#!/usr/bin/env bash
# The README's second command: install what is missing, build with
# warnings as errors and AddressSanitizer + UndefinedBehaviorSanitizer, and
# run every test (unit, integration with a real redis-server, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFL_WERROR=ON -DFL_SANITIZE=ON >/dev/null
cmake --build build-test -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-test --output-on-failure -j"$(nproc)"

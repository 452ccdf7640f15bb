#!/usr/bin/env bash
# tests/bench/live_rate.sh - the highest tcpreplay rate at which the live
# sensor drops nothing and its counters equal the replay's (issue 12).
# Not run by CI (minutes; needs root, ip netns, tcpreplay).
#
#   tests/bench/live_rate.sh          # work files in /tmp/faultline-bench
#
# Builds the Release tree bench.sh uses and runs tests/e2e/live_veth.sh
# with FL_E2E_SWEEP=1: a veth pair between two network namespaces it
# creates, tcpreplay sending a generated 900 s capture at rising rates
# (20 k to 400 k packets/s, then --topspeed) into `faultline capture`, for
# the default 256 MiB ring, an 8 MiB ring, and 8 MiB with snaplen 2048.
# Prints every step and, per ring, the highest rate with 0 drops and equal
# counters.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
W=${BENCH_DIR:-/tmp/faultline-bench}
mkdir -p "$W"
cmake -S "$SRC" -B "$W/build" -DCMAKE_BUILD_TYPE=Release -DFL_TESTS=ON >/dev/null
cmake --build "$W/build" -j2 --target faultline flgen >/dev/null

out=$W/live_rate.txt
FL_BIN=$W/build/faultline FL_SRC=$SRC FL_E2E_SWEEP=1 bash "$SRC/tests/e2e/live_veth.sh" | tee "$out"

echo
echo "highest rate with 0 drops and counters equal to the replay:"
for ring in "default ring" "--set buffer_mb=8 --pps" "--set buffer_mb=8 --set snaplen=2048"; do
    best=$(grep -F "sweep $ring" "$out" | grep "drops 0; counters match" | tail -1 || true)
    label=$ring
    case $ring in
        "--set buffer_mb=8 --pps") label="8 MiB ring" ;;
        "--set buffer_mb=8 --set snaplen=2048") label="8 MiB ring, snaplen 2048" ;;
    esac
    echo "  $label: ${best:-none (drops or differences at every rate)}"
done

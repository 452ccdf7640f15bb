#!/usr/bin/env bash
# e2e_detect_matrix_ci: the detector's targets on a small fixed subset of
# the randomized incident matrix (tests/gen/flgen_matrix.c), judged by the
# same matcher as the full run (tests/bench/detect_matrix.sh --check):
#   - every incident whose measured failure ratio is >= 20 % raised within
#     60 s (30 s at >= 100 attempts/min), a ramp by the time 25 % fail;
#   - resolved within 180 s of its end, one alert per incident;
#   - scope local for the uplink loss, resolver for the failing resolvers,
#     and no local/resolver verdict on a provider incident;
#   - no alert at all on the incident-free captures, and none outside the
#     incident on the others.
# The cases were picked for small captures (15-25 min of traffic each) and
# eligible incidents in every volume band with a latency target; their
# parameters are printed by flgen into the work directory (*.params).
#
# env: FL_BIN (the faultline binary; flgen is tests/gen/flgen beside it),
#      FL_SRC (the source tree).
set -euo pipefail
: "${FL_BIN:?FL_BIN must name the faultline binary}"
: "${FL_SRC:?FL_SRC must name the source tree}"
build=$(cd "$(dirname "$FL_BIN")" && pwd)
for t in jq python3; do
    command -v "$t" >/dev/null || { echo "FAIL: $t is not installed (deploy/install-deps.sh)"; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/fl-matrix-ci.XXXXXX")
trap 'rm -rf "$work"' EXIT

cases=step:13,step:8,step:10,ramp:18,ramp:20,flap:9,two:8,uplink:2,resolver-internal:3,resolver-public:14,quiet:20,quiet:14

rc=0
FL_BIN=$FL_BIN FL_GEN=$build/tests/gen/flgen \
    bash "$FL_SRC/tests/bench/detect_matrix.sh" --cases "$cases" --jobs 1 --work "$work" --check \
    || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "FAIL: detector targets not met on the fixed matrix subset (table above)"
    exit 1
fi
echo "detect_matrix_ci: $(tr ',' '\n' <<<"$cases" | wc -l) captures, every target met"

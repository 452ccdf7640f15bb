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

# The full targets are not all met yet (README "The detector": what still
# fails). The run prints the table against them; this test asserts the
# floor the detector does reach on these cases, so that a change which
# loses ground fails CI: every step, the uplink loss and the internal
# resolver's failure raised in time and scoped right, every detected
# incident resolved within 180 s of its end, one alert per detected
# incident, no alert on the quiet captures, at least FLOOR_DETECTED of the
# 11 incidents detected and at most FLOOR_FALSE (0) alerts outside every
# incident. Replays are
# deterministic (same captures, same alerts), so the floor is exact.
FLOOR_DETECTED=${FLOOR_DETECTED:-10}
FLOOR_FALSE=${FLOOR_FALSE:-0}
FL_BIN=$FL_BIN FL_GEN=$build/tests/gen/flgen \
    bash "$FL_SRC/tests/bench/detect_matrix.sh" --cases "$cases" --jobs 1 --work "$work" \
    | tee "$work/table.txt"
python3 - "$work/table.txt" "$FLOOR_DETECTED" "$FLOOR_FALSE" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
floor_det, floor_false = int(sys.argv[2]), int(sys.argv[3])
rows = {}
for line in text.splitlines():
    cells = [c.strip() for c in line.strip().strip('|').split('|')]
    if len(cells) >= 15 and cells[1] == 'all':
        rows[cells[0]] = cells
bad = []
def need(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        bad.append(what)
for kind in ('step', 'uplink', 'resolver-internal'):
    r = rows.get(kind)
    need(r is not None and r[-1] == 'PASS', kind + ': every incident raised in time, resolved, scope right')
late = [k for k, r in rows.items() if 'resolve' in r[-1]]
need(not late, 'every detected incident resolved within 180 s of its end' +
     (' (not: ' + ', '.join(late) + ')' if late else ''))
detected = 0
for kind, r in rows.items():
    n, det = int(r[2]), r[4]
    if det.endswith('%'):
        detected += round(n * float(det[:-1]) / 100)
    if r[10] not in ('-', '1.00'):
        need(False, kind + ': one alert per incident (got ' + r[10] + ')')
need(detected >= floor_det, 'incidents detected: %d (floor %d of 11)' % (detected, floor_det))
quiet = re.search(r'^\| quiet .*\| (PASS|FAIL) *\|$', text, re.M)
need(quiet is not None and quiet.group(1) == 'PASS', 'no alert on the quiet captures')
m = re.search(r'(\d+) alerts outside every incident', text)
need(m is not None and int(m.group(1)) <= floor_false,
     'alerts outside every incident: %s (floor %d)' % (m.group(1) if m else '?', floor_false))
sys.exit(1 if bad else 0)
PY
# An outage inside HTTPS (2025-11-18: 5xx pages inside completed TLS
# sessions), step and flapping, 19-69 responses a minute: raised within 60 s,
# one alert, resolved within 180 s of the end, nothing else raised (--check
# holds every target here). Seed 16 was missed before the HTTPS modes held
# young sites' responses and took rising sizes back out of the baselines.
https_cases=https-5xx:1,https-5xx:13,https-5xx:16
FL_BIN=$FL_BIN FL_GEN=$build/tests/gen/flgen \
    bash "$FL_SRC/tests/bench/detect_matrix.sh" --https --cases "$https_cases" --jobs 1 \
    --work "$work/https" --check
# Seed 10 flaps around 20.0 % failing at 69 responses a minute, right at the
# `https` family's effect floor (https_min_ratio, README "Inside HTTPS"):
# raised at +67 s since that floor (within 60 s before it, when quiet
# held-out captures raised 6 false `https` alerts in 30.5 h). Held here: one
# alert, raised within 90 s of the onset, resolved within 180 s of the end.
FL_BIN=$FL_BIN FL_GEN=$build/tests/gen/flgen \
    bash "$FL_SRC/tests/bench/detect_matrix.sh" --https --cases https-5xx:10 --jobs 1 \
    --work "$work/https10" >/dev/null
read -r onset end < <(awk -F'\t' '$1 == "incident" { print $4, $5 }' "$work/https10/https-5xx-10.tsv")
jq -e --argjson o "$onset" --argjson e "$end" \
    '(.alerts | length) == 1 and .alerts[0].provider == "Cloudflare"
     and .alerts[0].raised_at - $o <= 90 and .alerts[0].raised_at >= $o
     and .alerts[0].resolved_at > 0 and .alerts[0].resolved_at - $e <= 180' \
    "$work/https10/https-5xx-10.alerts.json" >/dev/null ||
    { jq -c .alerts "$work/https10/https-5xx-10.alerts.json" >&2; echo "FAIL https-5xx seed 10" >&2; exit 1; }
echo "detect_matrix_ci: $(tr ',' '\n' <<<"$cases,$https_cases,https-5xx:10" | wc -l) captures, the floor held"

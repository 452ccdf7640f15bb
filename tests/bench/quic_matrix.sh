#!/usr/bin/env bash
# quic_matrix.sh - the detector on outages inside QUIC (HTTP/3 error pages,
# every handshake fine), many seeds and volumes: the figures of README
# "Inside QUIC". Not a CI test (minutes); CI runs seeds 1-3 of one volume
# (tests/gen/quic_check.sh).
#
#   tests/bench/quic_matrix.sh [--seeds N] [--work DIR]
#
# For each volume (--clients of flgen_quic: 40, 10, 5, 3 browsers) and seed:
# flgen_quic --scenario quic-5xx (from 600 s to 780 s 60 % of Cloudflare's
# HTTP/3 responses are its 6.4 kB error page; the capture runs to 1300 s),
# replayed; then quic-h3 (healthy, 30 minutes) for the false alerts. Prints
# per volume: incidents detected (exactly one Cloudflare `https` alert),
# time to detect and to resolve (min / median / max, seconds after the
# onset and after the end), resolved within 180 s; and alerts on the
# healthy captures.
# Binaries: FL_BIN, FL_GEN_QUIC, else build/faultline and
# build/tests/gen/flgen_quic under the source tree.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
fl=${FL_BIN:-$src/build/faultline}
gen=${FL_GEN_QUIC:-$src/build/tests/gen/flgen_quic}
seeds=20
work=
while [ $# -gt 0 ]; do
    case $1 in
    --seeds) seeds=${2:?}; shift 2 ;;
    --work) work=${2:?}; shift 2 ;;
    *) echo "quic_matrix: unknown option $1 (--seeds N, --work DIR)" >&2; exit 1 ;;
    esac
done
[[ $seeds =~ ^[0-9]+$ && $seeds -ge 1 ]] || { echo "quic_matrix: --seeds wants a number >= 1" >&2; exit 1; }
for b in "$fl" "$gen"; do [ -x "$b" ] || { echo "quic_matrix: $b is not built" >&2; exit 2; }; done
command -v jq >/dev/null || { echo "quic_matrix: jq is required" >&2; exit 2; }
if [ -z "$work" ]; then
    work=$(mktemp -d /tmp/fl-quic-matrix.XXXXXX)
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
start=1700000000 onset=600 end=780

# stats "v1 v2 ...": min / median / max
stats() {
    tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n |
        awk '{v[NR] = $1} END { if (!NR) { print "-"; exit }
             m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
             printf "%d / %g / %d", v[1], m, v[NR] }'
}

printf '| browsers | seeds | detected (one alert) | ttd min / median / max (s) | ttr min / median / max (s) | resolved within 180 s |\n'
printf '|---|---|---|---|---|---|\n'
for clients in 40 10 5 3; do
    ok=0 ttds="" ttrs="" within=0
    for ((seed = 1; seed <= seeds; seed++)); do
        "$gen" --seed "$seed" --scenario quic-5xx --clients "$clients" --duration 1300 \
            --out "$work/c.pcap" --truth "$work/c.tsv"
        "$fl" replay --json --quiet "$work/c.pcap" >"$work/c.json"
        read -r n r e < <(jq -r --argjson s "$start" '
            [.alerts[] | select(.provider == "Cloudflare" and (.signals | index("https")))] as $a
            | [(.alerts | length), ($a[0].raised_at // 0) - $s, ($a[0].resolved_at // 0) - $s]
            | @tsv' "$work/c.json")
        if [ "$n" = 1 ] && [ "${r%.*}" -ge "$onset" ]; then
            ok=$((ok + 1))
            ttds+=" $((${r%.*} - onset))"
            if [ "${e%.*}" -gt "$end" ]; then
                ttrs+=" $((${e%.*} - end))"
                [ $((${e%.*} - end)) -le 180 ] && within=$((within + 1))
            fi
        fi
    done
    printf '| %s | %s | %s | %s | %s | %s |\n' "$clients" "$seeds" "$ok" "$(stats "$ttds")" \
        "$(stats "$ttrs")" "$within"
done
alerts=0
for ((seed = 1; seed <= seeds; seed++)); do
    "$gen" --seed "$seed" --scenario quic-h3 --duration 1800 --out "$work/h.pcap" --truth "$work/h.tsv"
    alerts=$((alerts + $("$fl" replay --json --quiet "$work/h.pcap" | jq '.alerts | length')))
done
rm -f "$work"/*.pcap
echo
echo "healthy HTTP/3 (quic-h3, 40 browsers, $seeds x 30 minutes): $alerts alerts"

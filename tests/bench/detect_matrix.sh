#!/usr/bin/env bash
# detect_matrix.sh - the detector on the randomized incident matrix.
#
#   tests/bench/detect_matrix.sh [--seeds N] [--first S] [--kinds k1,k2,...]
#                                [--cases kind:seed,...] [--jobs J] [--work DIR]
#                                [--keep] [--check] [--https] [-- faultline options]
#
# For every kind and seed (seeds S .. S+N-1; default 20 seeds from 1, all
# kinds, 2 jobs): flgen --matrix KIND --seed SEED writes a capture and its
# truth, `faultline replay --json` replays it, and only its alerts[] are
# kept (the capture is deleted unless --keep). Then detect_matrix.py
# matches alerts to the truth and prints one table with PASS/FAIL against
# the targets. Options after `--` go to every `faultline replay` (e.g.
# `-- --set detector.raise_buckets=1`). --cases runs exactly those
# captures instead of kinds x seeds; --check exits 1 when a target fails;
# --https adds the https-5xx kind and gives every capture realistic HTTPS
# application data (flgen --https).
#
# Binaries: FL_BIN (faultline) and FL_GEN (flgen), else build/faultline and
# build/tests/gen/flgen under the source tree. Not a CI test: the default
# run takes minutes (CI runs a fixed subset: tests/e2e/detect_matrix_ci.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${FL_SRC:-$(cd "$here/../.." && pwd)}
bin=${FL_BIN:-$src/build/faultline}
gen=${FL_GEN:-$src/build/tests/gen/flgen}
seeds=20
first=1
jobs=2
kinds=step,ramp,flap,two,uplink,resolver-internal,resolver-public,quiet,clean-day
work=
keep=0
cases=
check=
https=
extra=()

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 1
}

while [ $# -gt 0 ]; do
    case $1 in
    --seeds) seeds=${2:?}; shift 2 ;;
    --first) first=${2:?}; shift 2 ;;
    --kinds) kinds=${2:?}; shift 2 ;;
    --jobs) jobs=${2:?}; shift 2 ;;
    --work) work=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    --cases) cases=${2:?}; shift 2 ;;
    --check) check=--check; shift ;;
    --https) https=--https; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage ;;
    *) echo "detect_matrix: unknown option $1" >&2; usage ;;
    esac
done
[[ $seeds =~ ^[0-9]+$ && $seeds -ge 1 ]] || { echo "detect_matrix: --seeds wants a number >= 1" >&2; exit 1; }
[[ $first =~ ^[0-9]+$ ]] || { echo "detect_matrix: --first wants a number" >&2; exit 1; }
[[ $jobs =~ ^[0-9]+$ && $jobs -ge 1 ]] || { echo "detect_matrix: --jobs wants a number >= 1" >&2; exit 1; }
for t in jq python3; do
    command -v "$t" >/dev/null || { echo "detect_matrix: $t is not installed (deploy/install-deps.sh)" >&2; exit 2; }
done
for b in "$bin" "$gen"; do
    [ -x "$b" ] || { echo "detect_matrix: $b not built (cmake --build build --target faultline flgen)" >&2; exit 2; }
done

if [ -z "$work" ]; then
    work=$(mktemp -d /tmp/detect-matrix.XXXXXX)
fi
mkdir -p "$work"

# One capture: generate, replay, keep the truth and the alerts.
one() {
    local kind=$1 seed=$2 tag="$1-$2"
    local pcap="$work/$tag.pcap" tsv="$work/$tag.tsv"
    if ! "$gen" --matrix "$kind" --seed "$seed" $https --out "$pcap" --truth "$tsv" 2>"$work/$tag.params"; then
        echo "detect_matrix: flgen failed for $tag (see $work/$tag.params)" >&2
        echo flgen >"$work/$tag.error"
        return 0
    fi
    local rc=0
    "$bin" replay --json "${extra[@]}" "$pcap" >"$work/$tag.json" 2>"$work/$tag.log" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "detect_matrix: faultline exit $rc on $tag (see $work/$tag.log)" >&2
        echo "faultline exit $rc" >"$work/$tag.error"
        return 0
    fi
    jq -c '{alerts: (.alerts // [])}' "$work/$tag.json" >"$work/$tag.alerts.json"
    rm -f "$work/$tag.json"
    [ "$keep" = 1 ] || rm -f "$pcap"
}
export -f one
export work gen bin keep here https
export extra_str="${extra[*]:-}"

start=$(date +%s)
list() {
    if [ -n "$cases" ]; then
        tr ',' '\n' <<<"$cases" | sed 's/:/ /'
        return
    fi
    IFS=, read -r -a kind_list <<<"$kinds"
    for k in "${kind_list[@]}"; do
        for ((s = first; s < first + seeds; s++)); do
            printf '%s %s\n' "$k" "$s"
        done
    done
}
if [ -n "$https" ] && [ -z "$cases" ] && [[ ,$kinds, != *,https-5xx,* ]]; then
    kinds=$kinds,https-5xx
fi
if [ -n "$cases" ]; then
    kinds=$(tr ',' '\n' <<<"$cases" | cut -d: -f1 | awk '!seen[$0]++' | paste -sd,)
fi
list | xargs -P "$jobs" -L 1 bash -c 'extra=($extra_str); one "$0" "$1"'
elapsed=$(( $(date +%s) - start ))

rc=0
python3 "$here/detect_matrix.py" table "$work" --kinds "$kinds" $check || rc=$?
echo "matrix: $(ls "$work"/*.tsv | wc -l) captures, $elapsed s wall clock with $jobs jobs; files in $work"
exit "$rc"

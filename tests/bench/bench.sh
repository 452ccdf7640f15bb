#!/usr/bin/env bash
# tests/bench/bench.sh - throughput and memory of faultline replay, for the
# performance note. Not run by CI (minutes, and timing on shared machines).
#
#   tests/bench/bench.sh            # everything, work files in /tmp/faultline-bench
#   BENCH_DIR=/data/b RUNS=10 tests/bench/bench.sh
#
# Builds its own Release tree, generates the inputs, and measures with
# hyperfine (medians of RUNS runs after a warm-up; the files are in the page
# cache, so this is CPU, not disk) and /usr/bin/time -v (peak RSS):
#   (a) a bare libpcap loop (tests/bench/pcap_loop.c): the floor
#   (b) faultline replay
#   (c) ndpiReader (Debian's libndpi-bin, the same nDPI 4.2) when installable
# on two inputs (issue 12): a large generated capture (flgen mixed: every
# protocol and outcome) and every Ethernet capture of the real corpus
# (REAL_DIR, default ../shared/pcaps/real, else pcaps/real) concatenated 10
# times into one pcap (editcap keeps what a truncated file holds, mergecap -a
# appends); then memory:
#   (d) a SYN flood of 2 million distinct flows (tests/bench/synflood.c) with
#       default settings: peak RSS and source.flows_evicted
#   (e) bytes per tracked flow: peak RSS of 1M-flow minus 100k-flow floods,
#       flow_cap=2000000, divided by 900k.
# Per-stage ns/packet (read, decode, lookup, classify, dissect, count,
# timers) from a second Release tree built with -DFL_STAGE_TIMES=ON (the
# normal binary carries no timing code), median of 3 runs per input.
# Budgets: faultline/bare >= 0.5; faultline >= 2x ndpiReader's packets/s,
# on both inputs; 2M-flow flood peak RSS < 512 MiB.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
W=${BENCH_DIR:-/tmp/faultline-bench}
RUNS=${RUNS:-5}
GEN_DURATION=${GEN_DURATION:-7200}   # seconds of traffic
GEN_SCALE=${GEN_SCALE:-20}           # flgen's maximum: about 510 packets/s
mkdir -p "$W"
say() { printf '== %s\n' "$*" >&2; }

# ---- tools ----------------------------------------------------------------
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
command -v jq >/dev/null || missing+=(jq)
command -v ndpiReader >/dev/null || missing+=(libndpi-bin)
command -v mergecap >/dev/null || missing+=(wireshark-common)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || true
  for p in "${missing[@]}"; do
    $SUDO apt-get install -y -qq --no-install-recommends "$p" >/dev/null \
      || say "could not install $p"
  done
fi
if ! command -v hyperfine >/dev/null || [ ! -x /usr/bin/time ] || ! command -v jq >/dev/null ||
   ! command -v mergecap >/dev/null; then
  echo "bench.sh: hyperfine, time, jq and mergecap/editcap are required" >&2
  exit 2
fi
have_ndpi=0
command -v ndpiReader >/dev/null && have_ndpi=1

# ---- build ----------------------------------------------------------------
say "building Release in $W/build"
cmake -S "$SRC" -B "$W/build" -DCMAKE_BUILD_TYPE=Release -DFL_TESTS=ON >/dev/null
cmake --build "$W/build" -j2 --target faultline flgen >/dev/null
cmake -S "$SRC" -B "$W/build-stages" -DCMAKE_BUILD_TYPE=Release -DFL_TESTS=OFF \
      -DFL_STAGE_TIMES=ON >/dev/null
cmake --build "$W/build-stages" -j2 --target faultline >/dev/null
FL=$W/build/faultline
FL_STAGES=$W/build-stages/faultline
FLGEN=$W/build/tests/gen/flgen
cc -O2 -Wall -Wextra -o "$W/pcap_loop" "$SRC/tests/bench/pcap_loop.c" -lpcap
cc -O2 -Wall -Wextra -o "$W/synflood" "$SRC/tests/bench/synflood.c"

# ---- inputs ---------------------------------------------------------------
big=$W/mixed-${GEN_DURATION}s-x${GEN_SCALE}.pcap
if [ ! -s "$big" ]; then
  say "generating $big"
  "$FLGEN" --seed 1 --scenario mixed --duration "$GEN_DURATION" --scale "$GEN_SCALE" \
           --out "$big" --truth "$big.truth.tsv"
fi
# every Ethernet capture of the real corpus, 10 times over
REAL_DIR=${REAL_DIR:-$SRC/../shared/pcaps/real}
[ -d "$REAL_DIR" ] || REAL_DIR=$SRC/pcaps/real
real=$W/real-ethernet-x10.pcap
if [ ! -s "$real" ]; then
  say "concatenating the Ethernet captures of $REAL_DIR 10 times into $real"
  rm -rf "$W/eth" && mkdir -p "$W/eth"
  n=0
  for f in "$REAL_DIR"/*.pcap "$REAL_DIR"/*.pcapng "$REAL_DIR"/*.pcap.gz; do
    [ -f "$f" ] || continue
    [ "$(capinfos -T -E -r "$f" 2>/dev/null | cut -f2)" = ether ] || continue
    # a truncated capture: editcap writes the packets before the cut and fails
    editcap -F pcap "$f" "$W/eth/$n.pcap" 2>/dev/null || true
    [ -s "$W/eth/$n.pcap" ] && n=$((n + 1))
  done
  parts=()
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    for ((i = 0; i < n; i++)); do parts+=("$W/eth/$i.pcap"); done
  done
  mergecap -a -F pcap -w "$real" "${parts[@]}"
fi
tiny=$W/tiny-syn-1000.pcap   # startup cost: loading ranges, rules, nDPI
[ -s "$tiny" ] || "$W/synflood" 1000 "$tiny"
for n in 100000 1000000 2000000; do
  f=$W/syn-$n.pcap
  [ -s "$f" ] || "$W/synflood" "$n" "$f"
done
# Into the page cache: the runs measure CPU, not the disk.
cat "$big" "$real" "$W"/syn-*.pcap >/dev/null

# ---- helpers --------------------------------------------------------------
# peak RSS in KiB of one run (median of 3)
peak_rss() {
  local v=()
  for _ in 1 2 3; do
    /usr/bin/time -v -o "$W/time.txt" "$@" >/dev/null 2>&1 || true
    v+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$W/time.txt")")
  done
  printf '%s\n' "${v[@]}" | sort -n | sed -n 2p
}
# exit status of one run (faultline: 0 ok, 3 partial input)
status_of() { "$@" >/dev/null 2>&1 && echo 0 || echo $?; }

declare -A PKTS MED MIN MAX RSS RC STAGES
# measure LABEL FILE: hyperfine medians and peak RSS of the three readers
measure() {
  local label=$1 file=$2 cmds=() names=()
  PKTS[$label]=$("$W/pcap_loop" "$file" | cut -d' ' -f1)
  names+=(bare); cmds+=("$W/pcap_loop $file")
  names+=(faultline); cmds+=("$FL replay --quiet $file")
  if [ $have_ndpi = 1 ]; then names+=(ndpiReader); cmds+=("ndpiReader -q -i $file"); fi
  local args=()
  for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
  say "$label: ${PKTS[$label]} packets, $RUNS runs each"
  # -i: faultline exits 3 on a damaged real capture (results still printed);
  # the status is reported below.
  hyperfine -N -i --warmup 1 --runs "$RUNS" --style basic \
            --export-json "$W/hf-$label.json" "${args[@]}" >&2
  for i in "${!cmds[@]}"; do
    local n=${names[$i]}
    MED[$label,$n]=$(jq -r --arg n "$n" '.results[] | select(.command == $n) | .median' "$W/hf-$label.json")
    MIN[$label,$n]=$(jq -r --arg n "$n" '.results[] | select(.command == $n) | .min' "$W/hf-$label.json")
    MAX[$label,$n]=$(jq -r --arg n "$n" '.results[] | select(.command == $n) | .max' "$W/hf-$label.json")
    # shellcheck disable=SC2086 # the command strings are split on purpose
    RSS[$label,$n]=$(peak_rss ${cmds[$i]})
    # shellcheck disable=SC2086
    RC[$label,$n]=$(status_of ${cmds[$i]})
  done
}
# stages LABEL FILE: per-stage ns/packet, the run with the median total of 3
stages() {
  local label=$1 file=$2
  for _ in 1 2 3; do
    "$FL_STAGES" replay --quiet "$file" 2>&1 >/dev/null | grep '^stage ns/packet' || true
  done | sort -t' ' -k22 -n | sed -n 2p >"$W/stages-$label.txt"
  STAGES[$label]=$(sed 's/^stage ns\/packet ([0-9]* packets): //' "$W/stages-$label.txt")
}
pps() { awk -v p="$1" -v t="$2" 'BEGIN { printf "%.0f", p / t }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ---- (a)-(c) throughput -----------------------------------------------------
measure generated "$big"
measure real "$real"
stages generated "$big"
stages real "$real"
measure startup "$tiny"
measure synflood-2M "$W/syn-2000000.pcap"

# ---- (d) 2M-flow SYN flood, default settings ---------------------------------
say "SYN flood 2M flows, default settings"
"$FL" replay --quiet --json "$W/syn-2000000.pcap" >"$W/syn-2M.json"
flood_rss=${RSS[synflood-2M,faultline]}
flood_evicted=$(jq '.source.flows_evicted' "$W/syn-2M.json")
flood_cap=$(jq '.source.flow_capacity' "$W/syn-2M.json")

# ---- (e) bytes per tracked flow -----------------------------------------------
say "bytes per flow: 100k vs 1M flows, flow_cap=2000000"
cap=(--set flow_cap=2000000)
rss_100k=$(peak_rss "$FL" replay --quiet "${cap[@]}" "$W/syn-100000.pcap")
rss_1m=$(peak_rss "$FL" replay --quiet "${cap[@]}" "$W/syn-1000000.pcap")
rss_2m_cap=$(peak_rss "$FL" replay --quiet "${cap[@]}" "$W/syn-2000000.pcap")
ev_1m=$("$FL" replay --quiet --json "${cap[@]}" "$W/syn-1000000.pcap" | jq '.source.flows_evicted')
# The flow table is allocated and linked at start (a free list through every
# slot), so a slot costs its memory whether used or not: measure that too,
# on the 1000-packet capture at flow_cap 1M (default) and 2M.
rss_slots_1m=${RSS[startup,faultline]}
rss_slots_2m=$(peak_rss "$FL" replay --quiet "${cap[@]}" "$tiny")
per_slot=$(awk -v a="$rss_slots_1m" -v b="$rss_slots_2m" 'BEGIN { printf "%.0f", (b - a) * 1024 / 1000000 }')
per_flow=$(awk -v a="$rss_100k" -v b="$rss_1m" 'BEGIN { printf "%.0f", (b - a) * 1024 / 900000 }')

# ---- summary ----------------------------------------------------------------
echo
echo "faultline benchmark - $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
echo "medians of $RUNS runs (hyperfine, 1 warm-up, files in page cache); RSS: median of 3 runs"
echo "generated: $(basename "$big") (flgen --seed 1 --scenario mixed --duration $GEN_DURATION --scale $GEN_SCALE)"
echo "real:      every Ethernet capture of $REAL_DIR, 10 times ($(basename "$real"))"
echo
printf '%-12s %9s | %11s %11s %11s | %8s %8s | %8s %8s %8s\n' \
  workload packets "bare pkt/s" "fl pkt/s" "nDPI pkt/s" "fl/bare" "fl/nDPI" "bare MiB" "fl MiB" "nDPI MiB"
for l in generated real startup synflood-2M; do
  p=${PKTS[$l]}
  b=${MED[$l,bare]} f=${MED[$l,faultline]} n=${MED[$l,ndpiReader]:-}
  printf '%-12s %9s | %11s %11s %11s | %8s %8s | %8s %8s %8s\n' "$l" "$p" \
    "$(pps "$p" "$b")" "$(pps "$p" "$f")" "$([ -n "$n" ] && pps "$p" "$n" || echo n/a)" \
    "$(awk -v b="$b" -v f="$f" 'BEGIN { printf "%.2f", b / f }')" \
    "$([ -n "$n" ] && awk -v n="$n" -v f="$f" 'BEGIN { printf "%.1fx", n / f }' || echo n/a)" \
    "$(mib "${RSS[$l,bare]}")" "$(mib "${RSS[$l,faultline]}")" \
    "$([ -n "$n" ] && mib "${RSS[$l,ndpiReader]}" || echo n/a)"
done
echo
span() { printf '%.3f (%.3f-%.3f)' "${MED[$1,$2]}" "${MIN[$1,$2]}" "${MAX[$1,$2]}"; }
echo "median (min-max) seconds:"
for l in generated real startup synflood-2M; do
  echo "  $l: bare $(span "$l" bare), faultline $(span "$l" faultline) (exit ${RC[$l,faultline]}), ndpiReader $([ $have_ndpi = 1 ] && span "$l" ndpiReader || echo n/a)"
done
echo "per-stage ns/packet (-DFL_STAGE_TIMES=ON build, median of 3 runs):"
for l in generated real; do
  echo "  $l: ${STAGES[$l]}"
done
# Startup (loading 8.6k prefixes, the rules, nDPI) is paid once per run; a
# sensor pays it once per life. Packets/s without it:
for l in generated synflood-2M; do
  echo "  $l without startup: faultline $(awk -v p="${PKTS[$l]}" -v t="${MED[$l,faultline]}" -v s="${MED[startup,faultline]}" 'BEGIN { printf "%.0f", p / (t - s) }') pkt/s" \
       "$([ $have_ndpi = 1 ] && awk -v p="${PKTS[$l]}" -v t="${MED[$l,ndpiReader]}" -v s="${MED[startup,ndpiReader]}" 'BEGIN { printf ", ndpiReader %.0f pkt/s", p / (t - s) }')"
done
echo
echo "SYN flood, 2,000,000 distinct flows, default settings (flow_cap $flood_cap):"
echo "  peak RSS $(mib "$flood_rss") MiB, flows_evicted $flood_evicted"
echo "Bytes per tracked flow (flow_cap=2000000): RSS 100k flows $(mib "$rss_100k") MiB,"
echo "  1M flows $(mib "$rss_1m") MiB (evicted $ev_1m) => $per_flow bytes/flow;"
echo "  2M flows, flow_cap=2000000: $(mib "$rss_2m_cap") MiB"
echo "Preallocated per flow slot: RSS of a 1000-packet capture at flow_cap 1M $(mib "$rss_slots_1m") MiB,"
echo "  at 2M $(mib "$rss_slots_2m") MiB => $per_slot bytes/slot (paid at start, used or not)"
echo
verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi; }
echo "budgets (medians):"
for l in generated real; do
  g_ratio=$(awk -v b="${MED[$l,bare]}" -v f="${MED[$l,faultline]}" 'BEGIN { print b / f }')
  echo "  $l: faultline/bare >= 0.5:        $(printf '%.2f' "$g_ratio")  $(verdict "$g_ratio >= 0.5")"
  if [ $have_ndpi = 1 ]; then
    g_ndpi=$(awk -v n="${MED[$l,ndpiReader]}" -v f="${MED[$l,faultline]}" 'BEGIN { print n / f }')
    echo "  $l: faultline >= 2x ndpiReader:   $(printf '%.1fx' "$g_ndpi")  $(verdict "$g_ndpi >= 2")"
  else
    echo "  $l: faultline >= 2x ndpiReader:   not measured (ndpiReader unavailable)"
  fi
done
echo "  2M-flow flood peak RSS < 512 MiB: $(mib "$flood_rss") MiB  $(verdict "$flood_rss < 512 * 1024")"

#!/usr/bin/env bash
# gen_determinism: flgen is a pure function of its arguments.
#   1. the same seed twice gives byte-identical pcap and truth files;
#   2. another seed gives a different pcap with the same set of truth rows
#      (row type, provider, name), only the values differ;
#   3. every scenario runs and writes a pcap with records and a truth file
#      with non-zero flows;
#   4. a matrix kind is a pure function of its seed too, and every matrix
#      kind but the 24-hour clean-day writes its incident (or no-alert) row.
# usage: determinism.sh FLGEN WORKDIR
set -euo pipefail
gen=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }

run() { # seed scenario tag
    "$gen" --seed "$1" --scenario "$2" --duration 120 --out "$dir/$3.pcap" --truth "$dir/$3.tsv"
}
rows() { grep -v '^#' "$1" | grep -v -P '^meta\t-\tseed\t' | cut -f1-3 | sort; }

run 7 mixed a
run 7 mixed b
cmp "$dir/a.pcap" "$dir/b.pcap" || fail "same seed, different pcap"
cmp "$dir/a.tsv" "$dir/b.tsv" || fail "same seed, different truth"
run 8 mixed c
if cmp -s "$dir/a.pcap" "$dir/c.pcap"; then fail "seeds 7 and 8 gave the same pcap"; fi
if cmp -s "$dir/a.tsv" "$dir/c.tsv"; then fail "seeds 7 and 8 gave the same truth"; fi
diff <(rows "$dir/a.tsv") <(rows "$dir/c.tsv") || fail "truth row sets differ between seeds"
pass=3

for s in mixed cloudflare-5xx aws-dns gradual local-uplink noisy-client low-volume clean; do
    run 1 "$s" "s-$s"
    size=$(stat -c %s "$dir/s-$s.pcap")
    [ "$size" -gt 100000 ] || fail "$s: pcap only $size bytes"
    # pcap magic, little-endian, microsecond timestamps, LINKTYPE_ETHERNET
    [ "$(head -c 4 "$dir/s-$s.pcap" | od -An -tx1 | tr -d ' ')" = d4c3b2a1 ] \
        || fail "$s: bad pcap magic"
    flows=$(awk -F'\t' '$1=="counter" && $3=="flows" {n+=$4} END {print n+0}' "$dir/s-$s.tsv")
    [ "$flows" -gt 100 ] || fail "$s: only $flows flows in truth"
    pass=$((pass + 1))
done
mrun() { # kind seed tag
    "$gen" --matrix "$1" --seed "$2" --out "$dir/$3.pcap" --truth "$dir/$3.tsv" 2>/dev/null
}
mrun flap 5 ma
mrun flap 5 mb
cmp "$dir/ma.pcap" "$dir/mb.pcap" || fail "matrix: same seed, different pcap"
cmp "$dir/ma.tsv" "$dir/mb.tsv" || fail "matrix: same seed, different truth"
pass=$((pass + 1))
for k in step ramp flap two uplink resolver-internal resolver-public quiet https-5xx; do
    mrun "$k" 1 "m-$k"
    case $k in
    quiet) want='^expect	\*	no_alert	' ;;
    uplink) want='^incident	local	local	' ;;
    resolver-*) want='^incident	[0-9.]+	resolver	' ;;
    *) want='^incident	[A-Za-z]+	provider	[0-9]+	[0-9]+	1	'"$k"'	' ;;
    esac
    grep -qP "$want" "$dir/m-$k.tsv" || fail "matrix $k: no row matching $want"
    rm -f "$dir/m-$k.pcap"
    pass=$((pass + 1))
done
echo "$pass passed, 0 failed"

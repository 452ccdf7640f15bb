#!/usr/bin/env bash
# quic_check.sh FLGEN_QUIC FAULTLINE OUTDIR - every flgen_quic scenario
# replayed through faultline: each quic_* (and tls_handshakes, and for the
# HTTP/3 scenarios https_responses) counter per provider equals the
# generator's truth; the Cloudflare UDP/443 blackhole raises exactly one
# alert, on the quic family, within 60 s of its onset; Cloudflare's 5xx page
# inside QUIC (quic-5xx, handshakes all fine, the capture running 520 s past
# the incident) raises exactly one alert, on the https family, within 60 s
# of its onset, resolved before the capture ends, seeds 1-3 (how soon after
# the end: README "Inside HTTPS"), and every https_suspect event of it, held
# ones too, names its QUIC connection (UDP, port 443); the all-day blocked-UDP office and the healthy runs
# (HTTP/3 of six sites a provider, each with sizes of its own) raise none.
# Same seed, same bytes. A capture of the clients' side only counts one-way
# handshakes, not unanswered ones.
set -euo pipefail
gen=$1 fl=$2 out=$3
start=1700000000
mkdir -p "$out"
fail=0
for scen in quic-ok quic-blackhole quic-office quic-oneway quic-h3 quic-5xx; do
  seeds=1
  [ $scen = quic-5xx ] && seeds="1 2 3"
  for seed in $seeds; do
    base=$out/$scen-$seed
    dur=()
    [ $scen = quic-5xx ] && dur=(--duration 1300)
    "$gen" --seed $seed --scenario $scen "${dur[@]}" --out $base.pcap --truth $base.tsv
    "$fl" replay --json --quiet --events $base.events $base.pcap > $base.json
    while IFS=$'\t' read -r kind prov counter value; do
      [ "$kind" = count ] || continue
      got=$(jq -r --arg p "$prov" --arg c "$counter" \
        '[.providers[] | select(.provider == $p) | .counters[$c] // 0] | add // 0' $base.json)
      if [ "$got" != "$value" ]; then
        echo "FAIL $scen seed $seed: $prov $counter truth $value faultline $got"; fail=1
      fi
    done < $base.tsv
    if [ $scen = quic-oneway ]; then
      hs=$(awk -F'\t' '$1 == "count" && $3 == "quic_handshakes" {s += $4} END {print s}' $base.tsv)
      ow=$(jq '.source.quic.one_way' $base.json)
      [ "$hs" = "$ow" ] || { echo "FAIL $scen seed $seed: one_way $ow, handshakes $hs"; fail=1; }
    fi
    nalerts=$(jq '.alerts | length' $base.json)
    if [ $scen = quic-blackhole ]; then
      onset=$(awk -F'\t' '$1 == "incident" {print $4}' $base.tsv)
      ok=$(jq --argjson t $((start + ${onset%.*})) '[.alerts[] | select(.provider == "Cloudflare"
             and (.signals | index("quic")) and .raised_at - $t <= 60 and .raised_at >= $t)] | length' $base.json)
      if [ "$nalerts" != 1 ] || [ "$ok" != 1 ]; then
        echo "FAIL $scen seed $seed: want one Cloudflare quic alert within 60 s of onset, got:"
        jq -c '.alerts' $base.json; fail=1
      fi
    elif [ $scen = quic-5xx ]; then
      onset=$(awk -F'\t' '$1 == "incident" {print $4}' $base.tsv)
      # flgen_quic's default incident: onset 600 s, end 780 s
      ok=$(jq --argjson t $((start + ${onset%.*})) --argjson e $((start + 780)) \
             '[.alerts[] | select(.provider == "Cloudflare" and (.signals | index("https"))
               and .raised_at >= $t and .raised_at - $t <= 60
               and .resolved_at > $e)] | length' $base.json)
      # every suspect response's event names its QUIC connection: UDP, port
      # 443, the client's port (held ones too, booked when their mode formed)
      bad=$(jq -c -s '[.[] | select(.signal == "https_suspect" and (.protocol != "udp"
                   or .server_port != 443 or .client_port == 0))] | .[:2][]' $base.events)
      held=$(jq -s '[.[] | select(.signal == "https_suspect" and (.reason | test("held")))]
                    | length' $base.events)
      if [ -n "$bad" ] || [ "$held" -eq 0 ]; then
        echo "FAIL $scen seed $seed: https_suspect events ($held held): $bad"; fail=1
      fi
      if [ "$nalerts" != 1 ] || [ "$ok" != 1 ]; then
        echo "FAIL $scen seed $seed: want one Cloudflare https alert raised within 60 s of onset"
        echo "  and resolved after the end, before the capture's, got:"
        jq -c '.alerts' $base.json; fail=1
      fi
    elif [ "$nalerts" != 0 ]; then
      echo "FAIL $scen seed $seed: want no alert, got:"; jq -c '.alerts' $base.json; fail=1
    fi
  done
done
"$gen" --seed 7 --scenario quic-blackhole --out $out/a.pcap --truth $out/a.tsv
"$gen" --seed 7 --scenario quic-blackhole --out $out/b.pcap --truth $out/b.tsv
cmp -s $out/a.pcap $out/b.pcap || { echo "FAIL same seed, different bytes"; fail=1; }
cmp -s $out/a.tsv $out/b.tsv || { echo "FAIL same seed, different truth"; fail=1; }
rm -f $out/*.pcap
[ $fail = 0 ] && echo "quic generator: all scenarios match their truth"
exit $fail

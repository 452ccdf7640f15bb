#!/usr/bin/env bash
# e2e_http_repeats: `any` counts a connection's HTTP 5xx once. The counter
# http_5xx_repeats (5xx responses on a connection that had one already) is
# checked against tshark, which nobody here wrote: per TCP stream, the 5xx
# responses tshark dissects, minus one for each stream that has any. On the
# real captures holding 5xx (pcaps/real, MANIFEST.tsv's http_5xx column)
# and the demo capture (keep-alive connections answering 5xx repeatedly).
# Then the point of it: a provider whose only failures are three 5xx on one
# kept-alive connection shows one failure in `any`, while `http` counts
# three.
source "$(dirname "$0")/lib.sh"
command -v tshark >/dev/null || fail "tshark is not installed (deploy/install-deps.sh)"

oracle_repeats() { # PCAP -> "5xx repeats"
    tshark -r "$1" -Y 'http.response.code >= 500 && http.response.code <= 599' \
        -T fields -e tcp.stream 2>/dev/null |
        sort | uniq -c | awk '{ n++; t += $1 } END { print t + 0, t - n }'
}

checked=0
for pcap in "$FL_REAL/1kxun.pcap" "$FL_REAL/http-500-head.pcap" "$FL_REAL/deeply-nested-mime.pcap" \
    "$FL_SRC/pcaps/demo/cloudflare-outage.pcap"; do
    name=$(basename "$pcap")
    read -r want5xx wantrep < <(oracle_repeats "$pcap")
    "$FL_BIN" replay --quiet --json "$pcap" >"$E2E_TMP/$name.json" 2>"$E2E_TMP/$name.err" ||
        { cat "$E2E_TMP/$name.err" >&2; fail "$name: replay exit"; }
    got=$(jq -r '"\(.totals.http_5xx // 0) \(.totals.http_5xx_repeats // 0)"' "$E2E_TMP/$name.json")
    [ "$got" = "$want5xx $wantrep" ] ||
        fail "$name: http_5xx, repeats = $got; tshark: $want5xx 5xx, $wantrep repeats"
    [ "$want5xx" -gt 0 ] || fail "$name: tshark sees no 5xx: the check would be empty"
    pass "$name: $want5xx 5xx, $wantrep repeats, as tshark counts them per TCP stream"
    checked=$((checked + wantrep))
done
[ "$checked" -gt 0 ] || fail "no capture had a repeated 5xx"

# The decision the counter is for: the document's per-provider failures
# (every failure once, the numerator of `any`) count a connection's 5xx
# once. 1kxun.pcap's only failures are its 4 5xx on tshark's 2 streams.
got=$(jq -c '[.providers[] | select((.counters.http_5xx // 0) > 0)
              | [.counters.http_5xx, .counters.http_5xx_repeats, .failures]]' "$E2E_TMP/1kxun.pcap.json")
[ "$got" = "[[4,2,2]]" ] ||
    fail "1kxun.pcap: [5xx, repeats, failures] per provider = $got; want [[4,2,2]] (2 failing connections)"
pass "1kxun.pcap: 4 5xx on 2 connections are 2 failures of its provider"
done_all

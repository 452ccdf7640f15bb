#!/usr/bin/env bash
# e2e_events_log: `faultline replay --events FILE` writes one JSON line per
# counted failure and one per alert event. Per failure signal the lines
# equal the JSON document's counters, on the demo capture and on real ones
# (pcaps/real: ethereum.pcap resets and SYN timeouts, bad-dns-traffic.pcap
# SERVFAIL and DNS timeouts, 1kxun.pcap HTTP 5xx, pcaps/https/incident.pcap
# suspect HTTPS responses). Every line carries time,
# signal, provider, client, server, ports, protocol and a reason; failures
# counted while an alert was open name its id; `--events -` writes to stdout.
source "$(dirname "$0")/lib.sh"

FAILS=(tcp_refused tcp_syn_timeouts tcp_resets tls_failures dns_servfail dns_refused dns_timeouts http_5xx
       https_suspect tls_early_closes tls_stalls)

check_file() { # PCAP NAME
    local pcap=$1 name=$2
    "$FL_BIN" replay --quiet --json --sensor ev-test --events "$E2E_TMP/$name.jsonl" "$pcap" \
        >"$E2E_TMP/$name.json" 2>"$E2E_TMP/$name.err" ||
        { cat "$E2E_TMP/$name.err" >&2; fail "$name: replay exit $?"; }
    jq -e . "$E2E_TMP/$name.jsonl" >/dev/null 2>&1 || fail "$name: a line is not JSON"
    local c want got total=0
    for c in "${FAILS[@]}"; do
        want=$(jq ".totals.$c // 0" "$E2E_TMP/$name.json")
        got=$(jq -r --arg c "$c" 'select(.type == "failure" and .signal == $c) | .signal' \
              "$E2E_TMP/$name.jsonl" | wc -l)
        [ "$want" = "$got" ] || fail "$name: $c: $got event lines, the document counts $want"
        total=$((total + got))
    done
    [ "$total" -gt 0 ] || fail "$name: no failure at all to compare"
    # Every failure line has its fields.
    local bad
    bad=$(jq -c 'select(.type == "failure")
                 | select((.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$") | not)
                          or (.provider | type) != "string" or (.client | length) == 0
                          or (.reason | length) == 0 or (.protocol | IN("tcp", "udp") | not)
                          or (.client_port | type) != "number")' "$E2E_TMP/$name.jsonl" | head -3)
    [ -z "$bad" ] || fail "$name: incomplete lines: $bad"
    local alerts lines
    alerts=$(jq '[.alerts[] | 1, (if .resolved_at then 1 else empty end)] | length' "$E2E_TMP/$name.json")
    lines=$(jq -r 'select(.type == "alert") | .event' "$E2E_TMP/$name.jsonl" | wc -l)
    [ "$alerts" = "$lines" ] || fail "$name: $lines alert lines, the document has $alerts alert events"
    pass "$name: $total failure lines = the document's failure counters, $lines alert lines"
}

check_file "$FL_SRC/pcaps/demo/cloudflare-outage.pcap" demo
for f in ethereum bad-dns-traffic 1kxun; do
    check_file "$FL_REAL/$f.pcap" "$f"
done
check_file "$FL_SRC/pcaps/https/incident.pcap" https

# HTTPS (the bed's capture: nginx answering a template for a share of
# requests): a response held until its size's mode formed is booked for its
# own connection, not the one that completed the mode: its client, server
# and ports, and more than one client among them.
held=$(jq -c 'select(.signal == "https_suspect" and (.reason | endswith("(held until it formed)")))'        "$E2E_TMP/https.jsonl")
[ -n "$held" ] || fail "https: no suspect response counted when its mode formed"
bad=$(jq -c 'select(.server_port != 443 or .client_port == 0 or (.server | length) == 0 or .protocol != "tcp")'       <<<"$held" | head -2)
[ -z "$bad" ] || fail "https: a held response without its connection: $bad"
clients=$(jq -r '.client' <<<"$held" | sort -u | wc -l)
ports=$(jq -r '"\(.client) \(.client_port)"' <<<"$held" | sort -u | wc -l)
[ "$ports" -gt 1 ] || fail "https: held responses all booked on one connection"
pass "https: $(wc -l <<<"$held") held responses booked on $ports connections of $clients clients"

# The demo's reasons: the words an analyst greps for.
for r in 'server RST before SYN-ACK' 'fatal alert 40' 'SERVFAIL' 'status 52' 'server RST during the handshake' 'no response within 5 s'; do
    grep -q "\"reason\":\"$r" "$E2E_TMP/demo.jsonl" || fail "demo: no failure with reason '$r'"
done
pass "demo: reasons name the fact (RST before SYN-ACK, fatal alert 40, SERVFAIL, status 52x, ...)"

# Failures counted while Cloudflare's alert was open name it. The detector
# decides at a bucket's close, one bucket plus the grace after its end, so
# "open" lags packet time by up to 30 s (bucket 10 s, grace 1, + one).
id=$(jq '.alerts[0].id' "$E2E_TMP/demo.json")
raised=$(jq '.alerts[0].raised_at' "$E2E_TMP/demo.json")
resolved=$(jq '.alerts[0].resolved_at' "$E2E_TMP/demo.json")
fed=$(jq --argjson id "$id" 'select(.type == "failure" and .alert_id == $id) | .ts' "$E2E_TMP/demo.jsonl" | wc -l)
[ "$fed" -gt 0 ] || fail "demo: no failure line names alert $id"
outside=$(jq --argjson id "$id" --argjson a "$raised" --argjson b "$resolved" \
    'select(.type == "failure" and .alert_id == $id and (.ts < $a - 30 or .ts > $b + 30)) | .ts' \
    "$E2E_TMP/demo.jsonl" | wc -l)
[ "$outside" = 0 ] || fail "demo: $outside failures name alert $id outside its span"
n=$(jq -r 'select(.type == "alert" and .alert.sensor == "ev-test") | .event' "$E2E_TMP/demo.jsonl" | wc -l)
[ "$n" = 2 ] || fail "demo: $n of 2 alert lines carry the sensor"
pass "demo: $fed failures name alert $id, all within its span; alert lines carry the sensor"

"$FL_BIN" replay --quiet --events - "$FL_REAL/1kxun.pcap" >"$E2E_TMP/stdout.jsonl" ||
    fail "--events -: exit $?"
cmp <(jq -c 'select(.type == "failure")' "$E2E_TMP/stdout.jsonl") \
    <(jq -c 'select(.type == "failure")' "$E2E_TMP/1kxun.jsonl") >/dev/null ||
    fail "--events - differs from --events FILE"
rc=0
"$FL_BIN" replay --json --events - "$FL_REAL/1kxun.pcap" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "--json with --events -: exit $rc, want 1 (both want stdout)"
rc=0
"$FL_BIN" replay --events /nonexistent/dir/ev.jsonl "$FL_REAL/1kxun.pcap" >/dev/null 2>"$E2E_TMP/e" || rc=$?
[ "$rc" != 0 ] && grep -q '/nonexistent/dir/ev.jsonl' "$E2E_TMP/e" || fail "unwritable --events: rc $rc, $(cat "$E2E_TMP/e")"
pass "--events - writes the same lines on stdout; --json with it and an unwritable file are refused"
done_all

#!/usr/bin/env bash
# e2e_alerts_redis: the alert path end to end, and the commands that read
# Redis back (faultline alerts, faultline status).
#
#  1. The cloudflare-5xx scenario (flgen truth: one Cloudflare incident,
#     scope provider) is replayed into a fresh Redis, with a pub/sub
#     subscriber on fl:alerts and a `faultline alerts --follow --json`
#     running beside it. Then:
#     - `faultline alerts --json` prints exactly one raised and one resolved
#       event for Cloudflare, raised after the onset (within 60 s) and
#       resolved after the end (within 180 s) of the truth's incident, and
#       equal to the replay's own alert (raised_at, resolved_at, signals);
#     - the text form prints the same two events, one line each;
#     - the subscriber got the same two events as JSON messages, and the
#       follower printed them as they came;
#     - `faultline status` lists Cloudflare as resolved; `status --json`
#       sums, per provider, exactly the replay's buckets of its last
#       window, and shows the sensor's heartbeat with the replay's packets.
#  2. `status --json` on crafted keys (another prefix): exact sums, window
#     bounds, ratio, state, sensors, keys outside the window left out.
#  3. Errors: no URL (exit 1), Redis unreachable (exit 4), one line each.
source "$(dirname "$0")/lib.sh"

T=$E2E_TMP
CAP=$T/cf.pcap
gen 1 cloudflare-5xx 900 "$CAP"
SENSOR=e2e-alerts
read -r onset end < <(awk -F'\t' '$1 == "incident" && $2 == "Cloudflare" && $3 == "provider" { print $4, $5 }' "$T/cf.tsv")
[ -n "${onset:-}" ] || fail "no Cloudflare incident in the flgen truth"

redis_start

# Subscriber first (line-buffered, so what it got is in the file when read).
timeout 120 stdbuf -oL redis-cli -s "$REDIS_SOCK" subscribe fl:alerts >"$T/sub.txt" 2>&1 &
sub_pid=$!
e2e_track "$sub_pid"
"$FL_BIN" alerts --follow --json --redis "$REDIS_URL" >"$T/follow.txt" 2>"$T/follow.err" &
fol_pid=$!
e2e_track "$fol_pid"
for ((i = 0; i < 100; i++)); do
    [ "$(rcli pubsub numsub fl:alerts | tail -1)" = 1 ] && break
    sleep 0.05
done
[ "$(rcli pubsub numsub fl:alerts | tail -1)" = 1 ] || fail "the subscriber did not subscribe"

rc=0
"$FL_BIN" replay --json --quiet --redis "$REDIS_URL" --sensor "$SENSOR" "$CAP" >"$T/replay.json" 2>"$T/replay.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/replay.err" >&2; fail "replay exit $rc"; }
[ "$(jq '.alerts | length' "$T/replay.json")" = 1 ] || fail "the replay raised $(jq '.alerts | length' "$T/replay.json") alerts, want 1"

# ---- faultline alerts --json
rc=0
"$FL_BIN" alerts --json --redis "$REDIS_URL" >"$T/alerts.json" 2>"$T/alerts.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/alerts.err" >&2; fail "alerts --json: exit $rc"; }
[ ! -s "$T/alerts.err" ] || { cat "$T/alerts.err" >&2; fail "alerts --json wrote to stderr"; }
[ "$(wc -l <"$T/alerts.json")" -eq 2 ] || { cat "$T/alerts.json" >&2; fail "alerts --json: $(wc -l <"$T/alerts.json") events, want 2"; }
got=$(jq -r -s -c 'map([.event, .provider, .scope]) | tostring' "$T/alerts.json")
[ "$got" = '[["raised","Cloudflare","provider"],["resolved","Cloudflare","provider"]]' ] ||
    fail "alerts --json: events $got"
raised_at=$(jq -s '.[0].raised_at' "$T/alerts.json")
resolved_at=$(jq -s '.[1].resolved_at' "$T/alerts.json")
[ "$(jq -s '.[0].resolved_at' "$T/alerts.json")" = null ] || fail "the raised event already has resolved_at"
awk -v r="$raised_at" -v s="$resolved_at" -v o="$onset" -v e="$end" \
    'BEGIN { exit !(r >= o && r - o <= 60 && s >= e && s - e <= 180) }' ||
    fail "raised at $raised_at / resolved at $resolved_at, incident $onset..$end (truth)"
pass "alerts --json: raised (at onset $onset + $(awk -v r="$raised_at" -v o="$onset" 'BEGIN { print r - o }') s) and resolved (end $end + $(awk -v s="$resolved_at" -v e="$end" 'BEGIN { print s - e }') s) for Cloudflare"
want=$(jq -c '.alerts[0] | [.provider, .scope, .signals, .raised_at, .resolved_at, .clients, .id]' "$T/replay.json")
got=$(jq -s -c '.[1] | [.provider, .scope, .signals, .raised_at, .resolved_at, .clients, .id]' "$T/alerts.json")
[ "$want" = "$got" ] || fail "resolved event $got, replay's alert $want"
# stream ids: increasing, of the form ms-seq
jq -r -s '.[].stream_id' "$T/alerts.json" | grep -c -E '^[0-9]+-[0-9]+$' | grep -qx 2 || fail "stream ids"
pass "alerts --json: the resolved event equals the replay's alert ($got)"

# ---- text form: one line per event
rc=0
"$FL_BIN" alerts --redis "$REDIS_URL" >"$T/alerts.txt" 2>"$T/alerts.err" || rc=$?
[ "$rc" -eq 0 ] || fail "alerts: exit $rc"
[ "$(wc -l <"$T/alerts.txt")" -eq 2 ] || { cat "$T/alerts.txt" >&2; fail "alerts: $(wc -l <"$T/alerts.txt") lines, want 2"; }
r_iso=$(date -u -d "@${raised_at%.*}" +%Y-%m-%dT%H:%M:%SZ)
s_iso=$(date -u -d "@${resolved_at%.*}" +%Y-%m-%dT%H:%M:%SZ)
sed -n 1p "$T/alerts.txt" | grep -q -E "^$r_iso +raised +provider +Cloudflare +signals [a-z,]+ +ratio [0-9.]+ +baseline [0-9.]+ +clients [0-9]+$" ||
    fail "alerts line 1: '$(sed -n 1p "$T/alerts.txt")'"
sed -n 2p "$T/alerts.txt" | grep -q -E "^$s_iso +resolved +provider +Cloudflare " ||
    fail "alerts line 2: '$(sed -n 2p "$T/alerts.txt")'"
pass "alerts: two lines: $(sed -n 1p "$T/alerts.txt" | tr -s ' ')"

# ---- pub/sub: the same two events as JSON messages
# Not a terminal: redis-cli prints each reply element on its own line,
# message / channel / payload (the payload is one line of compact JSON).
messages() { awk 'p2 == "message" && p1 == "fl:alerts" { print } { p2 = p1; p1 = $0 }' "$T/sub.txt"; }
for ((i = 0; i < 100; i++)); do
    [ "$(messages | wc -l)" -ge 2 ] && break
    sleep 0.05
done
messages >"$T/sub.json"
[ "$(wc -l <"$T/sub.json")" -eq 2 ] || { cat "$T/sub.txt" >&2; fail "subscriber got $(wc -l <"$T/sub.json") messages, want 2"; }
got=$(jq -s -c 'map([.event, .provider, .raised_at, .resolved_at])' "$T/sub.json")
want=$(jq -s -c 'map([.event, .provider, .raised_at, .resolved_at])' "$T/alerts.json")
[ "$got" = "$want" ] || fail "pub/sub messages $got, stream $want"
pass "pub/sub subscriber got the same 2 events: $got"

# ---- the follower printed them as they came
for ((i = 0; i < 60; i++)); do
    [ "$(wc -l <"$T/follow.txt")" -ge 2 ] && break
    sleep 0.05
done
cmp -s "$T/follow.txt" "$T/alerts.json" || { diff "$T/follow.txt" "$T/alerts.json" >&2; fail "alerts --follow printed something else"; }
kill -TERM "$fol_pid"
rc=0
wait "$fol_pid" || rc=$?
[ "$rc" -eq 0 ] || fail "alerts --follow: exit $rc on SIGTERM, want 0"
pass "alerts --follow --json: printed the 2 events live, exit 0 on SIGTERM"

# ---- faultline status
rc=0
"$FL_BIN" status --redis "$REDIS_URL" >"$T/status.txt" 2>"$T/status.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/status.err" >&2; fail "status: exit $rc"; }
grep -q -E '^Cloudflare +resolved +[0-9]+ +[0-9]+ +[0-9.]+$' "$T/status.txt" || { cat "$T/status.txt" >&2; fail "status does not list Cloudflare as resolved"; }
grep -q -E "^$SENSOR +[^ ]+ +$(jq .source.packets "$T/replay.json") +0 " "$T/status.txt" || { cat "$T/status.txt" >&2; fail "status: no sensor line"; }
pass "status: $(grep '^Cloudflare' "$T/status.txt" | tr -s ' ')"

"$FL_BIN" status --json --redis "$REDIS_URL" >"$T/status.json"
first=$(jq .first_bucket "$T/status.json")
last=$(jq .last_bucket "$T/status.json")
ref=$(jq .ref_time "$T/status.json")
# The window ends at the newest packet of the replay (its heartbeat).
[ "$ref" = "$(jq '.source.last_ts | floor' "$T/replay.json")" ] || fail "status ref_time $ref, replay last_ts $(jq .source.last_ts "$T/replay.json")"
[ "$first" -gt $((ref - 70)) ] && [ "$last" -le "$ref" ] || fail "status window $first..$last for ref $ref"
# Per provider: the sums of the replay's own buckets in that window.
for p in $(jq -r '.providers[].provider' "$T/status.json"); do
    want=$(jq -c --arg p "$p" --argjson a "$first" --argjson b "$last" --argjson names "$(fl_counter_names | jq -R . | jq -s -c .)" '
        [.buckets[] | select(.provider == $p and .start >= $a and .start <= $b)] as $bs
        | [$names[] as $n | ($bs | map(.[$n] // 0) | add // 0)]' "$T/replay.json")
    got=$(jq -c --arg p "$p" --argjson names "$(fl_counter_names | jq -R . | jq -s -c .)" '
        .providers[] | select(.provider == $p) | .counters as $c | [$names[] | $c[.] // 0]' "$T/status.json")
    [ "$want" = "$got" ] || fail "status $p: counters $got, replay buckets $want"
done
n=$(jq '.providers | length' "$T/status.json")
[ "$n" -ge 5 ] || fail "status lists only $n providers"
[ "$(jq -r '.providers[] | select(.provider == "Cloudflare") | .state' "$T/status.json")" = resolved ] || fail "status --json: Cloudflare state"
got=$(jq -c --arg s "$SENSOR" '.sensors[] | select(.name == $s) | [.packets, .drops, .last_seen, .connected]' "$T/status.json")
want=$(jq -c '[.source.packets, 0, (.source.last_ts | floor), true]' "$T/replay.json")
[ "$got" = "$want" ] || fail "status sensor $got, want $want"
pass "status --json: $n providers, counters of buckets $first..$last equal the replay's, sensor $got"

# ---- crafted keys under another prefix: exact values
P=crafted
# b beat a second ago; a an hour ago (stale, though it said "connected").
rcli hset "$P:sensor:b" version 9.9 packets 7 drops 1 last_seen 1000000 held 2 dropped 0 connected 1 wall "$(date +%s)" >/dev/null
rcli hset "$P:sensor:a" version 9.8 packets 3 drops 0 last_seen 999000 held 0 dropped 0 connected 1 wall "$(($(date +%s) - 3600))" >/dev/null
rcli hset "$P:cnt:Pa:999950" flows 10 tcp_attempts 10 tcp_refused 3 >/dev/null
rcli hset "$P:cnt:Pa:999990" flows 5 dns_queries 5 dns_servfail 1 >/dev/null
rcli hset "$P:cnt:Pa:1000000" tls_handshakes 2 tls_failures 2 tcp_resets 1 >/dev/null
rcli hset "$P:cnt:Pa:999930" flows 1000 >/dev/null   # ends at the window's start: out
rcli hset "$P:cnt:Pa:1000010" flows 1000 >/dev/null  # after the newest packet: out
rcli hset "$P:cnt:Qb:999940" flows 4 http_responses 4 http_5xx 4 >/dev/null
rcli hset "$P:scnt:b:Pa:999950" flows 99 >/dev/null  # a sensor's share: not summed
# Per sensor: b holds Pa raised; a resolved it (its own alert): Pa stays raised.
rcli hset "$P:state:b" Pa raised Zc resolved >/dev/null
rcli hset "$P:state:a" Pa resolved >/dev/null
"$FL_BIN" status --json --redis "$REDIS_URL" --set redis_prefix=$P --set window_s=60 --bucket 10 >"$T/crafted.json" ||
    fail "status on crafted keys: exit $?"
got=$(jq -c '[.ref_time, .first_bucket, .last_bucket,
              (.providers[] | [.provider, .state, .flows, .failures, .failure_ratio, .buckets, .counters]),
              (.sensors[] | [.name, .version, .packets, .drops, .last_seen, .held, .connected, .stale, .alerts])]' "$T/crafted.json")
# Pa: flows 15; failures 3 refused + 1 servfail + 1 reset + (2 - 1) TLS
# failures beyond the resets = 6, over flows + DNS queries = 20: 0.3.
# Qb: 4 of 4 (5xx). Zc: state only.
want='[1000000,999940,1000000,["Pa","raised",15,6,0.3,3,{"flows":15,"tcp_attempts":10,"tcp_refused":3,"tcp_resets":1,"tls_handshakes":2,"tls_failures":2,"dns_queries":5,"dns_servfail":1}],["Qb",null,4,4,1,1,{"flows":4,"http_responses":4,"http_5xx":4}],["Zc","resolved",0,0,0,0,{}],["a","9.8",3,0,999000,0,false,true,"Pa resolved"],["b","9.9",7,1,1000000,2,true,false,"Pa raised, Zc resolved"]]'
[ "$got" = "$want" ] || fail "status on crafted keys:
 got  $got
 want $want"
pass "status --json on crafted keys: exact sums, window (999930, 1000000], ratio, per-sensor state (a's resolve leaves b's raise), stale sensor"

# ---- errors
check_err() { # name want_rc substring -- command
    local name=$1 want=$2 sub=$3
    shift 4
    local rc=0
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$T/err" >&2; fail "$name: exit $rc, want $want"; }
    [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -F -- "$sub" "$T/err" || { cat "$T/err" >&2; fail "$name: stderr"; }
    [ ! -s "$T/out" ] || fail "$name: printed something on stdout"
    pass "$name: exit $want, '$(cat "$T/err")'"
}
check_err "status without a URL" 1 "--redis" -- "$FL_BIN" status
check_err "alerts with a bad URL" 1 "Redis URL" -- "$FL_BIN" alerts --redis "http://x"
check_err "status, Redis unreachable" 4 "$T/nothing.sock" -- "$FL_BIN" status --redis "unix://$T/nothing.sock"
check_err "alerts, Redis unreachable" 4 "$T/nothing.sock" -- "$FL_BIN" alerts --redis "unix://$T/nothing.sock"

done_all

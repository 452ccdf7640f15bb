#!/usr/bin/env bash
# e2e_redis_exactly_once: what reaches Redis is what the replay counted,
# exactly once, even when Redis crashes in the middle.
#
#  1. A 10-minute generated capture is replayed at 20x (about 30 s) into a
#     redis-server (AOF, fsync always). Some 10 s in, the server is killed
#     with SIGKILL; 3 s later it is restarted on the same directory. Batches
#     sent meanwhile are held and re-sent; a batch whose reply was lost with
#     the crash goes again with the same id and the server's script answers
#     "duplicate" instead of applying it twice. At the end, the sum of every
#     fl:cnt:* hash equals the replay's JSON totals, counter for counter
#     (every counter of the contract, include/fl_counters.h), and so does
#     the sensor's own share (fl:scnt:<sensor>:*).
#  2. Redis is down for the whole replay and comes up only while faultline
#     waits at exit (it waits up to 30 s to flush): everything still lands.
# In both runs stderr must not report undelivered or dropped batches, and
# the heartbeat fl:sensor:<name> must hold the replay's packet count.
source "$(dirname "$0")/lib.sh"

T=$E2E_TMP
CAP=$T/mixed.pcap
gen 11 mixed 600 "$CAP"
SENSOR=e2e-eo

compare_totals() { # label json
    local label=$1 json=$2
    json_totals "$json" >"$T/want"
    redis_totals 'fl:cnt:*' >"$T/got"
    diff "$T/want" "$T/got" >"$T/diff" ||
        { cat "$T/diff" >&2; fail "$label: fl:cnt:* sums differ from the JSON totals (< json, > redis)"; }
    redis_totals "fl:scnt:$SENSOR:*" >"$T/got_s"
    diff "$T/want" "$T/got_s" >"$T/diff" ||
        { cat "$T/diff" >&2; fail "$label: fl:scnt:$SENSOR:* sums differ from the JSON totals"; }
    # Not vacuous: the capture has every kind of fact (but the HTTPS error
    # signals: the generator has no model of failures inside TLS yet).
    local zero
    # (QUIC counters need a QUIC capture: tests/gen/quic_check.sh checks
    # them against flgen_quic's truth; they travel the same X-macro path.
    # The HTTPS signals need encrypted-session traffic flgen's mixed
    # scenario does not make.)
    zero=$(awk '$2 == 0 && $1 !~ /^(quic_.*|https_suspect|tls_early_closes|tls_stalls|tls_retries)$/' \
        "$T/want" | wc -l)
    [ "$zero" -eq 0 ] || fail "$label: $zero contract counters are 0 in the capture; pick another scenario"
    pass "$label: sums of fl:cnt:* and fl:scnt:$SENSOR:* equal the JSON totals for all $(wc -l <"$T/want") counters ($(grep '^flows ' "$T/want"))"
}

check_outputs() { # label rc stderr json
    local label=$1 rc=$2 err=$3 json=$4
    [ "$rc" -eq 0 ] || { cat "$err" >&2; fail "$label: faultline exit $rc"; }
    if grep -E 'not delivered|dropped' "$err"; then
        fail "$label: faultline reports lost batches"
    fi
    [ "$(rcli exists "fl:sensor:$SENSOR")" = 1 ] || fail "$label: no fl:sensor:$SENSOR"
    local hb
    hb=$(rcli hget "fl:sensor:$SENSOR" packets)
    [ "$hb" = "$(jq .source.packets "$json")" ] ||
        fail "$label: heartbeat packets $hb, replay read $(jq .source.packets "$json")"
    pass "$label: exit 0, nothing dropped, fl:sensor:$SENSOR says $hb packets"
}

# ---- 1. kill -9 mid-run, restart on the same AOF
redis_start
rcli config resetstat >/dev/null
t0=$(date +%s.%N)
"$FL_BIN" replay --json --redis "$REDIS_URL" --sensor "$SENSOR" --speed 20 "$CAP" \
    >"$T/run1.json" 2>"$T/run1.err" &
fl_pid=$!
e2e_track "$fl_pid"
e2e_sleep 10
kill -0 "$fl_pid" 2>/dev/null || fail "run 1: the replay ended before the crash (too fast?)"
buckets_before=$(redis_scan 'fl:cnt:*' | wc -l)
[ "$buckets_before" -gt 0 ] || fail "run 1: nothing written in the first 10 s"
redis_kill
e2e_sleep 3
redis_start
kill -0 "$fl_pid" 2>/dev/null || fail "run 1: the replay ended while Redis was down"
rc=0
wait "$fl_pid" || rc=$?
t1=$(date +%s.%N)
check_outputs "run 1 (kill -9 at 10 s)" "$rc" "$T/run1.err" "$T/run1.json"
compare_totals "run 1 (kill -9 at 10 s)" "$T/run1.json"
echo "   (run 1: $buckets_before bucket hashes before the crash, $(redis_scan 'fl:cnt:*' | wc -l) after, $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)"

# Commands per million packets: a clean full replay, counted by the server
# (INFO commandstats: the commands run inside the scripts count too) and
# by MONITOR (which marks those as "lua", so the client's own are the
# rest). A measurement for the notes, not an assertion.
rcli flushall >/dev/null
stdbuf -oL redis-cli -s "$REDIS_SOCK" monitor >"$T/monitor" 2>/dev/null &
mon_pid=$!
e2e_track "$mon_pid"
sleep 0.2
rcli config resetstat >/dev/null
rc=0
"$FL_BIN" replay --json --redis "$REDIS_URL" --sensor "$SENSOR" "$CAP" >"$T/run0.json" 2>"$T/run0.err" || rc=$?
rcli info commandstats | tr -d '\r' | grep '^cmdstat_' | sed 's/^cmdstat_//; s/:calls=/ /; s/,.*//' |
    grep -v -E '^(config\|resetstat|info) ' >"$T/cmdstats" || true
sleep 0.3 # line-buffered (stdbuf): what was printed is in the file
kill "$mon_pid" 2>/dev/null || true
wait "$mon_pid" 2>/dev/null || true
check_outputs "clean run" "$rc" "$T/run0.err" "$T/run0.json"
compare_totals "clean run" "$T/run0.json"
pk=$(jq .source.packets "$T/run0.json")
all=$(awk '{ n += $2 } END { print n }' "$T/cmdstats")
# the client's: not from a script, not our own CONFIG/INFO
sent=$(grep -v -E '\[[0-9]+ lua\]|"(config|info|CONFIG|INFO)"|^OK' "$T/monitor" | grep -c . || true)
nb=$(jq '[.buckets[].start] | unique | length' "$T/run0.json")
echo "   measured: $pk packets, $nb buckets, $(jq '.buckets | length' "$T/run0.json") bucket x provider entries;" \
     "client commands $sent (one EVALSHA per closed bucket and per alert event, + heartbeat and SCRIPT LOADs);" \
     "server commands $all incl. script bodies ($(tr '\n' ' ' <"$T/cmdstats" | sed 's/ $//'));" \
     "$((sent * 1000000 / pk)) client / $((all * 1000000 / pk)) server commands per million packets"

# ---- 2. Redis down for the whole replay, up while faultline waits at exit
redis_kill
rm -rf "$REDIS_DIR"
"$FL_BIN" replay --json --redis "$REDIS_URL" --sensor "$SENSOR" "$CAP" \
    >"$T/run2.json" 2>"$T/run2.err" &
fl_pid=$!
e2e_track "$fl_pid"
# The replay itself takes well under a second; then faultline waits.
for ((i = 0; i < 100; i++)); do
    [ -s "$T/run2.json" ] && fail "run 2: faultline printed its report before Redis came up"
    sleep 0.05
done
kill -0 "$fl_pid" 2>/dev/null || fail "run 2: faultline did not wait for Redis"
redis_start
rc=0
wait "$fl_pid" || rc=$?
check_outputs "run 2 (Redis up only at exit)" "$rc" "$T/run2.err" "$T/run2.json"
compare_totals "run 2 (Redis up only at exit)" "$T/run2.json"
done_all

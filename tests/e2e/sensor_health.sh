#!/usr/bin/env bash
# e2e_sensor_health: a live sensor tells the operator what happens to it.
#
# `faultline capture` on one end of a veth pair in network namespaces this
# test creates (the way live_veth.sh does), with a Redis URL that cannot
# connect, a 3 s blind limit, a systemd notify socket (socat listening)
# and JOURNAL_STREAM naming its own stderr file, as journald would. Then:
#   - start: READY=1 and WATCHDOG=1 reach the notify socket; "redis lost"
#     is logged at err ("<3>" for journald)
#   - tcpreplay sends a capture, then nothing: "sensor blind" at err after
#     3 s, faultline_sensor_blind 1 on /metrics; packets again: "seeing
#     again" at notice
#   - ip link set down / up: "link down" at err, "link up" at notice
#   - SIGTERM with Redis still unreachable: STOPPING=1, exit 0 within 6 s
#     (2 s flush bound when Redis is down + 2 s command timeout + margin),
#     and "batches not delivered" said once.
# Needs root, ip netns, tcpreplay and socat; skips (exit 0, says so) without.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: sensor_health needs root (network namespaces, packet capture)"
    exit 0
fi
for tool in ip tcpreplay socat curl; do
    command -v "$tool" >/dev/null || { echo "SKIP: sensor_health needs $tool"; exit 0; }
done

T=$E2E_TMP
tag=$$
TX=fl-hs-$tag-tx
RX=fl-hs-$tag-rx
A=flh${tag}a
B=flh${tag}b
if ! ip netns add "$TX" 2>"$T/netns.err"; then
    echo "SKIP: cannot create a network namespace: $(cat "$T/netns.err")"
    exit 0
fi
e2e_on_exit "ip netns del $TX"
ip netns add "$RX" || fail "ip netns add $RX"
e2e_on_exit "ip netns del $RX"
for ns in "$TX" "$RX"; do
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
        fail "cannot turn IPv6 off in $ns"
done
ip -n "$TX" link add "$A" type veth peer name "$B" netns "$RX" || fail "veth pair"
ip -n "$TX" link set "$A" up
ip -n "$RX" link set "$B" up
ip -n "$RX" link set lo up

# The service manager's notify socket.
socat -u "UNIX-RECV:$T/notify" "OPEN:$T/notify.log,creat,append" &
e2e_track $!
for _ in $(seq 50); do [ -S "$T/notify" ] && break; e2e_sleep 0.05; done
[ -S "$T/notify" ] || fail "socat did not bind $T/notify"

: >"$T/err"
journal=$(stat -c '%d:%i' "$T/err")
ip netns exec "$RX" env NOTIFY_SOCKET="$T/notify" WATCHDOG_USEC=1000000 JOURNAL_STREAM="$journal" \
    setpriv --pdeathsig TERM "$FL_BIN" capture -i "$B" --sensor hs \
    --redis "unix://$T/no-redis.sock" --metrics 127.0.0.1:0 --set blind_s=3 \
    >"$T/out" 2>>"$T/err" &
fl_pid=$!
e2e_track "$fl_pid"

# wait_log PATTERN SECONDS: until the log has a line matching PATTERN.
wait_log() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        grep -q -- "$1" "$T/err" && return 0
        kill -0 "$fl_pid" 2>/dev/null || { cat "$T/err" >&2; fail "faultline capture died"; }
        e2e_sleep 0.05
    done
    cat "$T/err" >&2
    fail "no log line matching '$1' within $2 s"
}

wait_log '^<5>capturing on' 10
for _ in $(seq 40); do grep -q 'WATCHDOG=1' "$T/notify.log" && break; e2e_sleep 0.05; done
grep -q 'READY=1' "$T/notify.log" && grep -q 'WATCHDOG=1' "$T/notify.log" ||
    fail "notify socket got: $(tr '\n' ' ' <"$T/notify.log")"
pass "READY=1 and WATCHDOG=1 on the notify socket"
wait_log '^<3>redis lost (' 5
pass "Redis unreachable: '$(grep -m1 'redis lost' "$T/err" | cut -c1-90)...' at err"

port=$(sed -n 's|^<5>metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics|\1|p' "$T/err")
[ -n "$port" ] || fail "no metrics port in the log"
metric() { ip netns exec "$RX" curl -fsS "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

ip netns exec "$TX" tcpreplay -i "$A" --topspeed "$FL_REAL/example.pcap" >"$T/tcpreplay" 2>&1 ||
    { cat "$T/tcpreplay" >&2; fail "tcpreplay"; }
wait_log '^<3>sensor blind: no packet for' 10
for _ in $(seq 40); do [ "$(metric faultline_sensor_blind)" = 1 ] && break; e2e_sleep 0.1; done
[ "$(metric faultline_sensor_blind)" = 1 ] || fail "faultline_sensor_blind is $(metric faultline_sensor_blind)"
pass "no packet for 3 s: 'sensor blind' at err, faultline_sensor_blind 1"
ip netns exec "$TX" tcpreplay -i "$A" --topspeed "$FL_REAL/example.pcap" >"$T/tcpreplay" 2>&1 ||
    fail "tcpreplay"
wait_log '^<5>sensor seeing again' 5
pass "packets again: 'sensor seeing again' at notice"

ip -n "$RX" link set "$B" down
wait_log '^<3>link down' 5
ip -n "$RX" link set "$B" up
wait_log '^<5>link up' 5
pass "ip link set down/up: 'link down' at err, 'link up' at notice"

start=$(date +%s%N)
kill -TERM "$fl_pid"
rc=0
wait "$fl_pid" || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 0 ] || { cat "$T/err" >&2; fail "exit $rc after SIGTERM"; }
[ "$ms" -le 6000 ] || fail "SIGTERM with Redis unreachable took $ms ms (bound 6000)"
grep -q 'STOPPING=1' "$T/notify.log" || fail "no STOPPING=1 on the notify socket"
[ "$(grep -c 'batches not delivered' "$T/err")" = 1 ] || { cat "$T/err" >&2; fail "undelivered batches not said once"; }
pass "SIGTERM with Redis unreachable: STOPPING=1, exit 0 after $ms ms"
done_all

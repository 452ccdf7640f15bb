#!/usr/bin/env bash
# e2e_live_veth: the live sensor sees what the replay sees.
#
# A veth pair joins two fresh network namespaces made for this run: tcpreplay
# sends a capture into one end, `faultline capture -i <other end> --json`
# listens on the other, SIGTERM stops it, and its message counters must
# equal `faultline replay --json` of the same file, with every packet seen
# and source.drops 0. Captures: a generated mixed one (~60 s), a real one
# (pcaps/real/example.pcap: DNS and HTTP) and a real QUIC stack's
# (pcaps/quic-stack/responses.pcap: 24 HTTP/3 connections, their responses
# delimited without keys).
#
# Why two namespaces and no addresses: the traffic must stay on the pair.
# Neither end is in the host's namespace, so no frame reaches the host's
# stack (a replayed ARP request for one of its addresses would be answered
# there); IPv6 is turned off in both before the links come up, so the
# kernel sends nothing of its own (router solicitations, MLD, DAD) that
# the sensor would count. MTU 9000: real captures have a few frames above
# 1514 bytes (offloaded segments).
#
# Only counters that do not depend on timing are compared: tcpreplay sends
# at its own rate, so the gaps between packets (and every timeout) differ
# from the file's.
#
# FL_E2E_SWEEP=1 also tries faster rates (a measurement, printed, not
# asserted): up to which tcpreplay rate drops stay 0 and counters match.
#
# Needs root and `ip netns`; skips (exit 0, says so) without them.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: live_veth needs root (network namespaces, packet capture)"
    exit 0
fi
for tool in ip tcpreplay; do
    command -v "$tool" >/dev/null || { echo "SKIP: live_veth needs $tool"; exit 0; }
done

T=$E2E_TMP
tag=$$
TX=fl-e2e-$tag-tx
RX=fl-e2e-$tag-rx
A=flv${tag}a   # sending end, in $TX (interface names: at most 15 characters)
B=flv${tag}b   # capturing end, in $RX

# Probe first: a container without the rights to make namespaces skips.
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
# Created inside $TX, so it never exists in the host's namespace.
ip -n "$TX" link add "$A" mtu 9000 type veth peer name "$B" netns "$RX" mtu 9000 || fail "veth pair"
ip -n "$TX" link set "$A" up
ip -n "$RX" link set "$B" up
for ((i = 0; i < 50; i++)); do
    ip -n "$RX" link show "$B" | grep -q LOWER_UP && break
    sleep 0.1
done
ip -n "$RX" link show "$B" | grep -q LOWER_UP || fail "$B is not up"

COUNTERS=(dns_queries dns_responses dns_servfail dns_nxdomain dns_refused dns_nodata
          http_requests http_responses http_4xx http_5xx tls_handshakes tls_alerts
          tcp_refused tcp_resets tcp_attempts flows quic_handshakes https_responses)
counters() { # json -> "name value" lines, then packets
    local c
    for c in "${COUNTERS[@]}"; do
        echo "$c $(jq ".totals.$c // 0" "$1")"
    done
    echo "packets $(jq .source.packets "$1")"
}

# live FILE TAG TCPREPLAY-RATE-ARGS...: capture while tcpreplay sends FILE;
# leaves $T/TAG.json, $T/TAG.err, $T/TAG.tcpreplay.
live() {
    local file=$1 name=$2
    shift 2
    rm -f "$T/$name.json" "$T/$name.err" # no stale "capturing on" from an earlier run
    ip netns exec "$RX" setpriv --pdeathsig TERM "$FL_BIN" capture -i "$B" --json ${CAPTURE_ARGS:-} \
        >"$T/$name.json" 2>"$T/$name.err" &
    local pid=$!
    e2e_track "$pid"
    local i
    for ((i = 0; i < 600; i++)); do
        grep -q "capturing on" "$T/$name.err" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || { cat "$T/$name.err" >&2; fail "$name: faultline capture died"; }
        sleep 0.05
    done
    grep -q "capturing on" "$T/$name.err" || { cat "$T/$name.err" >&2; cat /proc/$pid/wchan /proc/$pid/status >&2; fail "$name: faultline capture did not start"; }
    ip netns exec "$TX" tcpreplay -i "$A" "$@" "$file" >"$T/$name.tcpreplay" 2>&1 ||
        { cat "$T/$name.tcpreplay" >&2; fail "$name: tcpreplay failed"; }
    e2e_sleep 1 # the last frames through the kernel's buffer
    kill -TERM "$pid"
    local rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] || { cat "$T/$name.err" >&2; fail "$name: faultline capture exit $rc after SIGTERM"; }
    jq -e .source "$T/$name.json" >/dev/null || fail "$name: no JSON document after SIGTERM"
}

# What tcpreplay says it achieved: "Rated: 1234.5 Bps, 0.01 Mbps, 56.78 pps"
rated() { sed -n 's/.*Rated: \([0-9.]*\) Bps, \([0-9.]*\) Mbps, \([0-9.]*\) pps.*/\2 Mbps, \3 pps/p' "$1" | head -1; }

# compare FILE NAME: live counters vs the replay's; prints a verdict word.
compare() {
    local file=$1 name=$2
    counters "$T/$name.json" >"$T/$name.live"
    diff "$T/$name.want" "$T/$name.live" >"$T/$name.diff" 2>&1
}

GEN=$T/mixed60.pcap
gen 5 mixed 60 "$GEN"
REAL=$FL_REAL/example.pcap
QUIC=$FL_SRC/pcaps/quic-stack/responses.pcap
for f in "$GEN" "$REAL" "$QUIC"; do
    name=$(basename "$f" .pcap)
    "$FL_BIN" replay --json --quiet "$f" >"$T/$name.replay.json" || fail "replay of $f: exit $?"
    counters "$T/$name.replay.json" >"$T/$name.want"
    # Not vacuous: the captures have DNS, HTTP and TCP facts, or QUIC
    # handshakes and the responses inside them.
    need=(dns_queries http_requests tcp_attempts flows)
    [ "$f" = "$QUIC" ] && need=(quic_handshakes https_responses flows)
    for c in "${need[@]}"; do
        [ "$(awk -v c="$c" '$1 == c { print $2 }' "$T/$name.want")" -gt 0 ] || fail "$name: replay has no $c"
    done
done

# ---- the assertion: a moderate rate
for f in "$GEN" "$REAL" "$QUIC"; do
    name=$(basename "$f" .pcap)
    live "$f" "$name" --pps=2000
    compare "$f" "$name" || { cat "$T/$name.diff" >&2; fail "$name at 2000 pps: live counters differ from the replay (< replay, > live)"; }
    [ "$(jq .source.drops "$T/$name.json")" = 0 ] || fail "$name: source.drops $(jq .source.drops "$T/$name.json")"
    pass "$name at $(rated "$T/$name.tcpreplay"): live = replay for ${#COUNTERS[@]} counters and $(jq .source.packets "$T/$name.json") packets, 0 drops"
done

# ---- the measurement: faster and faster
if [ -n "${FL_E2E_SWEEP:-}" ]; then
    BIG=$T/big.pcap
    gen 9 cloudflare-5xx 900 "$BIG"
    name=big
    "$FL_BIN" replay --json --quiet "$BIG" >"$T/big.replay.json"
    counters "$T/big.replay.json" >"$T/big.want"
    # The default 256 MiB ring holds the whole file: that measures how big
    # a burst is absorbed. With an 8 MiB ring the sensor must keep up; with
    # snaplen 65535 the kernel's ring blocks are 128 KiB (one must hold a
    # whole maximum frame), 64 of them, and drops come early; with snaplen
    # 2048 the same 8 MiB holds many more.
    for CAPTURE_ARGS in "" "--set buffer_mb=8" "--set buffer_mb=8 --set snaplen=2048"; do
        for rate in --pps=20000 --pps=50000 --pps=100000 --pps=200000 --mbps=1000 --pps=400000 --topspeed; do
            live "$BIG" big "$rate"
            verdict=match
            compare "$BIG" big || verdict="DIFFER: $(grep -c '^>' "$T/big.diff") counters"
            echo "   sweep ${CAPTURE_ARGS:-default ring} $rate: tcpreplay $(rated "$T/big.tcpreplay"); faultline packets $(jq .source.packets "$T/big.json")/$(jq .source.packets "$T/big.replay.json"), drops $(jq .source.drops "$T/big.json"); counters $verdict"
        done
    done
    CAPTURE_ARGS=
fi

done_all

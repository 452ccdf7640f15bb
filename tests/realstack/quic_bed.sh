#!/usr/bin/env bash
# tests/realstack/quic_bed.sh - real QUIC stacks (Debian's ngtcp2 0.12
# examples: gtlsserver, gtlsclient, GnuTLS) across a veth pair between two
# network namespaces made for the run, working and failing on purpose;
# tcpdump records each case in its own capture.
#
# Usage (root):  tests/realstack/quic_bed.sh OUTDIR [CASE...]
# Cases (all by default):
#   handshakes  completed handshakes: 6 clients, several SNIs, QUIC v1,
#               1-3 requests each
#   v2draft     2 completed handshakes in ngtcp2's "v2draft" version
#               (0x709a50c4, a draft of RFC 9369's QUIC v2, whose final
#               number is 0x6b3343cf); tshark 4.0 does not read it as QUIC
#   refused     the server refuses in its Initial: it allows only AES-256-GCM,
#               the client offers only AES-128-GCM; the server answers the
#               ClientHello with CONNECTION_CLOSE 0x128 (TLS alert 40,
#               handshake_failure; RFC 9001 section 4.8) in an Initial
#   vn          the client proposes a version the server does not speak
#               (0x1a2a3a4a, RFC 9000 section 15); the server answers Version
#               Negotiation, the client gives up (no version in common for it)
#   stopped     no server: the client's Initials get ICMP port unreachable
#   fallback    as blackhole, then each client reaches the same site over TCP
#               (curl, TLS to openssl s_server) within a second: the browsers'
#               fallback that marks a QUIC outage
#   blackhole   the server runs but the UDP/443 it receives is dropped in its
#               namespace (a policy-routing blackhole rule: this kernel has
#               no nftables/iptables/tc filters); the client repeats its
#               Initial until its idle timeout: unanswered Initials
# Not here: a client that refuses the server. gtlsclient 0.12 does not verify
# the certificate (one for another name is accepted) and its ALPN offer is
# fixed (h3), so it cannot be made to refuse; no other QUIC client is in
# Debian 12.
#
# Writes OUTDIR/CASE.pcap and OUTDIR/CASE.clients.tsv: one row per client run
# (case, client ip:port from the client's own log, SNI, version, requests,
# the client's view: completed|closed|vn|unanswered, and its log's reason).
#
# Addresses: servers 104.16.140.10 (Cloudflare's 104.16.0.0/13) and
# 3.1.20.50 (AWS 3.0.0.0/15), port 443; clients 192.168.60.11-16.
# Each client runs with --timeout=2s (idle timeout), so unanswered cases end
# in 2 s; the whole run takes about 30 s.
set -euo pipefail

OUT=${1:?usage: quic_bed.sh OUTDIR [CASE...]}
shift
CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=(handshakes refused vn stopped blackhole fallback v2draft)
[ "$(id -u)" -eq 0 ] || { echo "quic_bed: needs root (network namespaces, packet capture)" >&2; exit 2; }
for tool in ip gtlsserver gtlsclient tcpdump openssl unshare curl; do
    command -v "$tool" >/dev/null || { echo "quic_bed: $tool is not installed" >&2; exit 2; }
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

T=$(mktemp -d /tmp/fl-quicbed.XXXXXX)
TAG=$$
SNS=flqs-$TAG
CNS=flqc-$TAG
VS=fqs$TAG
VC=fqc$TAG
SRV_CF=104.16.140.10
SRV_AWS=3.1.20.50
PIDS=()

cleanup() {
    local rc=$?
    set +e
    local p ns
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for ns in "$CNS" "$SNS"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
log() { echo "quic_bed: $*" >&2; }

ip netns add "$SNS" || { log "cannot create a network namespace"; exit 2; }
ip netns add "$CNS"
for ns in "$SNS" "$CNS"; do
    # No IPv6: the kernel would send router solicitations and MLD of its own.
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done
ip -n "$SNS" link add "$VS" type veth peer name "$VC" netns "$CNS"
ip -n "$SNS" link set "$VS" up
ip -n "$CNS" link set "$VC" up
# ngtcp2 sends a burst of packets as one UDP GSO buffer (UDP_SEGMENT); veth
# passes it on whole, so the capture would hold one "datagram" of several
# QUIC packets that no wire carries. One segment at most: the kernel cuts
# it into datagrams before the capture sees them, as a NIC would.
ip -n "$SNS" link set "$VS" gso_max_segs 1
ip -n "$CNS" link set "$VC" gso_max_segs 1
ip -n "$SNS" addr add "$SRV_CF/32" dev "$VS"
ip -n "$SNS" addr add "$SRV_AWS/32" dev "$VS"
for i in 11 12 13 14 15 16; do ip -n "$CNS" addr add "192.168.60.$i/32" dev "$VC"; done
ip -n "$SNS" route add 192.168.60.0/24 dev "$VS"
ip -n "$CNS" route add "$SRV_CF/32" dev "$VC"
ip -n "$CNS" route add "$SRV_AWS/32" dev "$VC"
# Policy routing consults the local table first (rule 0); move it after a
# slot where the blackhole case can put its rule.
ip -n "$SNS" rule add pref 100 lookup local
ip -n "$SNS" rule del pref 0

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -keyout "$T/key.pem" -out "$T/cert.pem" -subj "/CN=quic.example" \
    -addext "subjectAltName=DNS:quic.example" 2>/dev/null
mkdir -p "$T/htdocs"
for sz in 1200 5000 20000 90000; do head -c "$sz" /dev/urandom >"$T/htdocs/f$sz.bin"; done
# a CDN's 5xx page: 6.4 kB of HTML (served with 200 here: the size is the signal)
{
    printf '<!DOCTYPE html><html><head><title>502 Bad gateway</title></head><body>\n'
    for ((k = 0; k < 100; k++)); do printf '<p class="cf-error-details">Error 502 Ray ID %016d</p>\n' "$k"; done
    printf '</body></html>\n'
} | head -c 6400 >"$T/htdocs/error.html"


SERVERS=()
server_start() { # address [gtlsserver options...]
    local addr=$1
    shift
    ip netns exec "$SNS" gtlsserver -q "$@" -d "$T/htdocs" "$addr" 443 "$T/key.pem" "$T/cert.pem" \
        >"$T/server-$addr.log" 2>&1 &
    SERVERS+=("$!")
    PIDS+=("$!")
}
servers_stop() {
    local p
    for p in "${SERVERS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    SERVERS=()
}

CAP_PID=
capture_start() { # case
    ip netns exec "$SNS" tcpdump -i "$VS" -s 0 -B 32768 -U --immediate-mode -n -w "$OUT/$1.pcap" 'port 443 or icmp' 2>"$T/tcpdump.err" &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q 'listening on' "$T/tcpdump.err" 2>/dev/null && return 0
        sleep 0.05
    done
    cat "$T/tcpdump.err" >&2
    log "tcpdump did not start"
    exit 1
}
capture_stop() {
    # --immediate-mode hands every packet to tcpdump at once (else the
    # kernel's last block, up to 1 s of packets, is lost at SIGINT); its
    # 32 MB ring (-B) lets a loaded machine make tcpdump late, never drop.
    sleep 0.3
    kill -INT "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
    if ! grep -q '^0 packets dropped by kernel' "$T/tcpdump.err"; then
        grep 'dropped' "$T/tcpdump.err" >&2 || true
        log "tcpdump dropped packets: the capture is incomplete"
        exit 3
    fi
}

# One client run: case, client address, server address, SNI, version, URIs.
# Appends its row to CASE.clients.tsv from the client's own log.
client() {
    local cse=$1 ip=$2 srv=$3 sni=$4 ver=$5
    shift 5
    local uris=() u
    for u in "$@"; do uris+=("https://$sni$u"); done
    local lg=$T/client.log
    # gtlsclient 0.12 sends the SNI "localhost" when given an address (its
    # --sni is ignored then), so it gets the site's name, resolved by a hosts
    # file bind-mounted over /etc/hosts in a mount namespace of its own.
    # --no-quic-dump/--no-http-dump: the log keeps packet and handshake lines.
    printf '%s %s\n' "$srv" "$sni" >"$T/hosts"
    # shellcheck disable=SC2016 # the inner shell expands them
    ip netns exec "$CNS" unshare -m bash -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$T/hosts" \
        timeout 10 gtlsclient --no-quic-dump --no-http-dump --timeout=2s \
        --exit-on-all-streams-close -v "$ver" "${CLIENT_OPTS[@]}" \
        "$sni" 443 "${uris[@]}" >"$lg" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait "$pid" || true
    local port view reason
    port=$(sed -n 's/^Sent packet: local=\[[0-9.]*\]:\([0-9]*\) .*/\1/p' "$lg" | head -1)
    if grep -q 'QUIC handshake has completed' "$lg"; then
        view=completed
        reason="$(grep -c 'http: stream 0x[0-9a-f]* \[:status: ' "$lg" || true) responses"
    elif grep -q 'type=VN' "$lg" || grep -qi 'version negotiation' "$lg"; then
        view=vn
        reason=$(grep -i -m1 -o 'version negotiation[^.]*' "$lg" || echo "Version Negotiation received")
    elif grep -q 'CONNECTION_CLOSE' "$lg"; then
        view=closed
        reason=$(grep -m1 -o 'CONNECTION_CLOSE([^)]*) error_code=[^ ]*' "$lg")
    else
        view=unanswered
        reason=$(grep -c '^Sent packet' "$lg")" datagrams sent, none received"
    fi
    printf '%s\t%s:%s\t%s:443\t%s\t%s\t%s\t%s\t%s\n' "$cse" "$ip" "${port:--}" "$srv" "$sni" "$ver" \
        "$#" "$view" "$reason" >>"$OUT/$cse.clients.tsv"
}

# The client's source address: a host route per client address would be
# needed to pin it; instead each run sets the route's preferred source.
via() { ip -n "$CNS" route replace "$2/32" dev "$VC" src "$1"; }

run_case() {
    local cse=$1
    printf 'case\tclient\tserver\tsni\tversion\trequests\tclient_view\treason\n' >"$OUT/$cse.clients.tsv"
    CLIENT_OPTS=()
    case "$cse" in
    handshakes)
        server_start "$SRV_CF"
        server_start "$SRV_AWS"
        sleep 0.5
        capture_start "$cse"
        via 192.168.60.11 "$SRV_CF"; client "$cse" 192.168.60.11 "$SRV_CF" www.acme-shop.example v1 /f20000.bin
        via 192.168.60.12 "$SRV_CF"; client "$cse" 192.168.60.12 "$SRV_CF" news.dailyglobe.example v1 /f5000.bin /f1200.bin /f90000.bin
        via 192.168.60.13 "$SRV_CF"; client "$cse" 192.168.60.13 "$SRV_CF" api.tallyhub.example v1 /f1200.bin /f5000.bin
        via 192.168.60.14 "$SRV_AWS"; client "$cse" 192.168.60.14 "$SRV_AWS" static.assetvault.example v1 /f90000.bin
        via 192.168.60.15 "$SRV_CF"; client "$cse" 192.168.60.15 "$SRV_CF" blog.pixelcraft.example v1 /f1200.bin
        via 192.168.60.16 "$SRV_AWS"; client "$cse" 192.168.60.16 "$SRV_AWS" static.assetvault.example v1 /f5000.bin
        ;;
    v2draft)
        server_start "$SRV_CF"
        sleep 0.5
        capture_start "$cse"
        via 192.168.60.11 "$SRV_CF"; client "$cse" 192.168.60.11 "$SRV_CF" api.tallyhub.example v2draft /f1200.bin /f5000.bin
        via 192.168.60.12 "$SRV_CF"; client "$cse" 192.168.60.12 "$SRV_CF" www.acme-shop.example v2draft /f5000.bin
        ;;
    refused)
        server_start "$SRV_CF" --ciphers=NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM
        sleep 0.5
        capture_start "$cse"
        CLIENT_OPTS=(--ciphers=NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM)
        via 192.168.60.11 "$SRV_CF"; client "$cse" 192.168.60.11 "$SRV_CF" www.acme-shop.example v1 /f5000.bin
        via 192.168.60.12 "$SRV_CF"; client "$cse" 192.168.60.12 "$SRV_CF" api.tallyhub.example v1 /f1200.bin
        via 192.168.60.13 "$SRV_CF"; client "$cse" 192.168.60.13 "$SRV_CF" news.dailyglobe.example v1 /f1200.bin
        ;;
    vn)
        server_start "$SRV_CF"
        sleep 0.5
        capture_start "$cse"
        via 192.168.60.11 "$SRV_CF"; client "$cse" 192.168.60.11 "$SRV_CF" www.acme-shop.example 0x1a2a3a4a /f5000.bin
        via 192.168.60.12 "$SRV_CF"; client "$cse" 192.168.60.12 "$SRV_CF" api.tallyhub.example 0x1a2a3a4a /f1200.bin
        ;;
    stopped)
        capture_start "$cse"
        via 192.168.60.11 "$SRV_CF"; client "$cse" 192.168.60.11 "$SRV_CF" www.acme-shop.example v1 /f5000.bin
        via 192.168.60.12 "$SRV_CF"; client "$cse" 192.168.60.12 "$SRV_CF" api.tallyhub.example v1 /f1200.bin
        ;;
    blackhole)
        server_start "$SRV_CF"
        sleep 0.5
        ip -n "$SNS" rule add pref 10 iif "$VS" ipproto udp dport 443 blackhole
        capture_start "$cse"
        via 192.168.60.11 "$SRV_CF"; client "$cse" 192.168.60.11 "$SRV_CF" www.acme-shop.example v1 /f5000.bin
        via 192.168.60.12 "$SRV_CF"; client "$cse" 192.168.60.12 "$SRV_CF" api.tallyhub.example v1 /f1200.bin
        ;;
    fallback)
        # A browser's answer to a QUIC blackhole: the same site over TCP
        # (TLS to openssl s_server) within a second of giving up on QUIC.
        server_start "$SRV_CF"
        ip netns exec "$SNS" openssl s_server -quiet -www -accept 443 \
            -cert "$T/cert.pem" -key "$T/key.pem" >"$T/s_server.log" 2>&1 &
        SERVERS+=("$!")
        PIDS+=("$!")
        sleep 0.5
        ip -n "$SNS" rule add pref 10 iif "$VS" ipproto udp dport 443 blackhole
        capture_start "$cse"
        local i=11 h
        for h in www.acme-shop.example api.tallyhub.example; do
            via "192.168.60.$i" "$SRV_CF"
            client "$cse" "192.168.60.$i" "$SRV_CF" "$h" v1 /f5000.bin
            ip netns exec "$CNS" curl -sSk --max-time 5 --resolve "$h:443:$SRV_CF" -o /dev/null "https://$h/" 2>>"$T/curl.err" || log "fallback curl to $h: $(tail -1 "$T/curl.err")"
            i=$((i + 1))
        done
        ;;
    responses)
        # HTTP/3 responses of known sizes, one request per connection (no
        # multiplexing), some for a missing path (ngtcp2's 404 page) and
        # some for a 6.4 kB error page: the client's key log lets tshark
        # decrypt the 1-RTT packets and read each response's STREAM bytes.
        server_start "$SRV_CF"
        sleep 0.5
        capture_start "$cse"
        export SSLKEYLOGFILE=$OUT/$cse.keylog
        : >"$SSLKEYLOGFILE"
        local i=11 h u n=0
        for u in /f1200.bin /f5000.bin /error.html /f20000.bin /missing /f90000.bin /error.html \
                 /f5000.bin /missing /error.html /f1200.bin /error.html; do
            for h in www.acme-shop.example api.tallyhub.example; do
                via "192.168.60.$i" "$SRV_CF"
                client "$cse" "192.168.60.$i" "$SRV_CF" "$h" v1 "$u"
                i=$((i == 16 ? 11 : i + 1))
                n=$((n + 1))
            done
        done
        unset SSLKEYLOGFILE
        ;;
    *)
        log "unknown case $cse"
        exit 2
        ;;
    esac
    capture_stop
    servers_stop
    ip -n "$SNS" rule del pref 10 2>/dev/null || true
    log "$cse: $(($(wc -l <"$OUT/$cse.clients.tsv") - 1)) client runs, capture $(stat -c %s "$OUT/$cse.pcap") bytes"
}

for c in "${CASES[@]}"; do run_case "$c"; done

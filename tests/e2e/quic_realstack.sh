#!/usr/bin/env bash
# e2e_quic_realstack: real QUIC stacks make captures live, and tshark's view
# of them is the one designed.
#
# tests/realstack/quic_bed.sh runs Debian's ngtcp2 examples (gtlsserver,
# gtlsclient) in network namespaces of their own, in four cases; each client
# run is logged by the bed from the client's own log (its port, its view).
# tests/realstack/quic_oracle.sh then reads each capture with tshark alone
# (Initial packets decrypted from the client's DCID, RFC 9001 section 5.2):
#   handshakes  every client run is one flow, outcome completed, with the SNI
#               the client was given and ALPN h3
#   refused     every flow closed by CONNECTION_CLOSE 0x128 (TLS alert 40) in
#               a server Initial
#   vn          every flow answered by Version Negotiation only
#   blackhole   every flow unanswered: Initials only, no server datagram, no ICMP
# and the client's own view agrees with tshark's for every run; the capture
# holds no other flow.
#
# About 25 s on an idle machine. Needs root and `ip netns` (skips, and says
# so, without them); the tools are deploy/install-deps.sh's test packages.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: quic_realstack needs root (network namespaces, packet capture)"
    exit 0
fi
command -v ip >/dev/null || { echo "SKIP: quic_realstack needs ip (iproute2)"; exit 0; }
probe=fl-e2e-qp$$
if ! ip netns add "$probe" 2>"$E2E_TMP/netns.err"; then
    echo "SKIP: cannot create a network namespace: $(cat "$E2E_TMP/netns.err")"
    exit 0
fi
ip netns del "$probe"
for tool in gtlsserver gtlsclient tcpdump tshark openssl python3 unshare curl; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (deploy/install-deps.sh)"
done

RS=$FL_SRC/tests/realstack
OUT=$E2E_TMP/bed
"$RS/quic_bed.sh" "$OUT" handshakes refused vn blackhole 2>"$E2E_TMP/bed.err" ||
    { cat "$E2E_TMP/bed.err" >&2; fail "the bed failed"; }

# check CASE OUTCOME CLIENT_VIEW CLOSE: every client run of CASE has exactly
# one flow in tshark's view, with that outcome, the run's SNI and the given
# close code; the client saw CLIENT_VIEW; no other flow is in the capture.
check() {
    local cse=$1 want=$2 view=$3 close=$4
    "$RS/quic_oracle.sh" "$OUT/$cse.pcap" >"$OUT/$cse.oracle.tsv" 2>"$E2E_TMP/oracle.err" ||
        { cat "$E2E_TMP/oracle.err" >&2; fail "$cse: the oracle failed"; }
    local runs flows bad
    runs=$(($(wc -l <"$OUT/$cse.clients.tsv") - 1))
    flows=$(($(wc -l <"$OUT/$cse.oracle.tsv") - 1))
    [ "$runs" -gt 0 ] || fail "$cse: no client run"
    [ "$flows" -eq "$runs" ] || fail "$cse: $flows flows in tshark's view for $runs client runs"
    bad=$(awk -F'\t' -v want="$want" -v view="$view" -v cc="$close" '
        NR == FNR { if (FNR == 1) { for (i = 1; i <= NF; i++) c[$i] = i; next }
                    o[$c["client"]] = $c["outcome"] "|" $c["sni"] "|" $c["close"] "|" $c["alpn"]; next }
        FNR == 1 { next }
        { split(o[$2], f, "|")
          if (!($2 in o)) print "no flow for " $2
          else if (f[1] != want) print $2 " outcome " f[1]
          else if (f[2] != $4) print $2 " sni " f[2] ", client was given " $4
          else if (f[3] != cc) print $2 " close " f[3]
          else if (f[4] != "h3") print $2 " alpn " f[4]
          else if ($7 != view) print $2 " client saw " $7 }' \
        "$OUT/$cse.oracle.tsv" "$OUT/$cse.clients.tsv")
    [ -z "$bad" ] || fail "$cse: $bad"
    pass "$cse: $runs client runs = $flows flows, all $want (client: $view), SNI and ALPN as sent"
}
check handshakes completed completed -
check refused closed closed 0x128
check vn vn vn -
check blackhole unanswered unanswered -
done_all

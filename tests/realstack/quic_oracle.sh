#!/usr/bin/env bash
# tests/realstack/quic_oracle.sh CAPTURE > oracle.tsv
#
# tshark's view of every QUIC flow (UDP port 443) in a capture, one row per
# flow: tshark decrypts client and server Initial packets by itself (the keys
# come from the client's first Destination Connection ID, RFC 9001 section
# 5.2), so the ClientHello's SNI and ALPN, the ServerHello, a CONNECTION_CLOSE
# in a server Initial and Version Negotiation are all visible without a key
# log. Columns and outcomes: tests/realstack/quic_oracle.py. A summary line
# goes to stderr.
set -euo pipefail
CAP=${1:?usage: quic_oracle.sh CAPTURE}
[ -r "$CAP" ] || { echo "quic_oracle: cannot read $CAP" >&2; exit 2; }
command -v tshark >/dev/null || { echo "quic_oracle: tshark is not installed" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# -d: every UDP/443 datagram is offered to the QUIC dissector, ICMP-quoted ones too.
# TCP: only the ClientHellos, for the fallback column.
tshark -n -r "$CAP" -d udp.port==443,quic -Y 'udp.port == 443 || icmp || tls.handshake.type == 1' \
    -T json --no-duplicate-keys -J 'frame ip udp tcp quic icmp tls' >"$T/q.json" 2>"$T/err" ||
    { cat "$T/err" >&2; exit 2; }
python3 "$HERE/quic_oracle.py" "$T/q.json"

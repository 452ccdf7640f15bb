#!/usr/bin/env bash
# tests/realstack/quic_responses_oracle.sh CAPTURE KEYLOG > oracle.tsv
#
# tshark's view of every HTTP/3 response in a capture of QUIC flows (UDP
# port 443), decrypted with the client's key log (SSLKEYLOGFILE): one row
# per client-initiated bidirectional stream (RFC 9000 2.1: stream id % 4 ==
# 0, a request), with the time of the client's first STREAM frame on it, the
# time of the server's first, and the server's bytes on it: the highest
# offset + length of its STREAM frames (retransmissions counted once; the
# HTTP/3 HEADERS and DATA frames, RFC 9114 7, are all in those bytes).
# Columns: client (ip:port), stream, request_s, first_byte_s, bytes.
set -euo pipefail
CAP=${1:?usage: quic_responses_oracle.sh CAPTURE KEYLOG}
KEYS=${2:?usage: quic_responses_oracle.sh CAPTURE KEYLOG}
for f in "$CAP" "$KEYS"; do [ -r "$f" ] || { echo "quic_responses_oracle: cannot read $f" >&2; exit 2; }; done
command -v tshark >/dev/null || { echo "quic_responses_oracle: tshark is not installed" >&2; exit 2; }
# One line per packet: every STREAM frame's id, offset and length, in order
# (tshark leaves the offset out when the frame has none: offset 0).
tshark -n -r "$CAP" -o "tls.keylog_file:$KEYS" -d udp.port==443,quic -Y 'quic.stream.stream_id' \
    -T fields -E occurrence=a -E aggregator='|' \
    -e frame.time_epoch -e ip.src -e udp.srcport -e ip.dst -e udp.dstport \
    -e quic.stream.stream_id -e quic.stream.off -e quic.stream.offset -e quic.stream.length |
python3 -c '
import sys
rows = {}
for line in sys.stdin:
    t, src, sp, dst, dp, ids, offbits, offs, lens = (line.rstrip("\n").split("\t") + [""] * 9)[:9]
    from_client = dp == "443"
    client = f"{src}:{sp}" if from_client else f"{dst}:{dp}"
    ids, lens = ids.split("|"), lens.split("|")
    offbits = offbits.split("|") if offbits else ["0"] * len(ids)
    offs = [o for o in offs.split("|") if o != ""]
    k = 0
    for i, sid in enumerate(ids):
        sid = int(sid)
        off = 0
        if i < len(offbits) and offbits[i] in ("1", "True"):
            off = int(offs[k]); k += 1
        if sid % 4 != 0:
            continue
        r = rows.setdefault((client, sid), {"req": None, "first": None, "bytes": 0})
        t_ = float(t)
        if from_client:
            r["req"] = t_ if r["req"] is None else min(r["req"], t_)
        else:
            r["first"] = t_ if r["first"] is None else min(r["first"], t_)
            r["bytes"] = max(r["bytes"], off + int(lens[i] or 0))
print("client\tstream\trequest_s\tfirst_byte_s\tbytes")
for (client, sid), r in sorted(rows.items(), key=lambda kv: (kv[1]["req"] or 0, kv[0])):
    fmt = lambda v: "-" if v is None else f"{v:.6f}"
    print("\t".join([client, str(sid), fmt(r["req"]), fmt(r["first"]), str(r["bytes"])]))
'

#!/usr/bin/env python3
"""tests/realstack/quic_oracle.py TSHARK.json - one row per QUIC flow (UDP to
port 443) of a capture, from tshark's own QUIC dissector (see quic_oracle.sh).

tshark derives the Initial keys from the client's first Destination
Connection ID (RFC 9001 section 5.2) and decrypts the Initial packets of
both sides without any key log; Handshake and 1-RTT packets stay opaque,
only their header form and type are used.

Columns:
  first, last      epoch seconds of the flow's first and last datagram
  client, server   ip:port (the server is the side on port 443)
  version          version of the client's first long-header packet
  sni, alpn        from the ClientHello in the client's Initial CRYPTO frames
  c_initial        client datagrams holding an Initial packet
  c_short, s_short datagrams holding a short-header (1-RTT) packet, per side
  s_initial        server datagrams holding an Initial packet
  s_handshake      server datagrams holding a Handshake packet
  server_hello     1 if a server Initial carried a ServerHello
  vn               server Version Negotiation packets (version 0, RFC 9000 17.2.1)
  close            error code (hex) of a CONNECTION_CLOSE (0x1c/0x1d) in a
                   server Initial (RFC 9000 10.2.3), else -
  icmp             ICMP destination-unreachable messages quoting the flow
  tcp_fallback     seconds from the flow's last datagram to a TLS ClientHello
                   over TCP/443 from the same client address with the same SNI
                   within 5 s (a browser falling back), else -
  outcome          completed: ServerHello, then short-header packets both ways
                   closed: CONNECTION_CLOSE in a server Initial
                   vn: Version Negotiation and nothing else from the server
                   icmp_unreachable: no server datagram, ICMP unreachable
                   unanswered: no server datagram, no ICMP
                   other: anything else (a datagram tshark does not read as
                   QUIC counts as other: e.g. ngtcp2's v2 draft 0x709a50c4)
"""
import json
import sys

COLUMNS = ["first", "last", "client", "server", "version", "sni", "alpn", "c_initial", "c_short",
           "s_initial", "s_handshake", "s_short", "server_hello", "vn", "close", "icmp", "tcp_fallback",
           "outcome"]


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def find_all(obj, key, out):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                out.extend(as_list(v))
            else:
                find_all(v, key, out)
    elif isinstance(obj, list):
        for v in obj:
            find_all(v, key, out)
    return out


def new_flow(t, client, server):
    f = dict.fromkeys(COLUMNS, 0)
    f.update(first=t, last=t, client=client, server=server, version="-", sni="-", alpn="-",
             close="-", tcp_fallback="-", outcome="other", other=0)
    return f


def packet(flows, hellos, layers):
    t = layers["frame"]["frame.time_epoch"]
    if "tcp" in layers:
        sni = find_all(layers.get("tls"), "tls.handshake.extensions_server_name", [])
        if sni and "ip" in layers:
            hellos.append((float(t), layers["ip"]["ip.src"], sni[0]))
        return
    icmp = layers.get("icmp")
    if isinstance(icmp, dict) and icmp.get("icmp.type") == "3" and "udp" in icmp:
        # The quoted datagram is the client's: its source is the client.
        ip, udp = icmp.get("ip", {}), icmp["udp"]
        key = ("%s:%s" % (ip.get("ip.src"), udp.get("udp.srcport")),
               "%s:%s" % (ip.get("ip.dst"), udp.get("udp.dstport")))
        if key in flows:
            flows[key]["icmp"] += 1
            flows[key]["last"] = t
        return
    udp = layers.get("udp")
    ip = layers.get("ip")
    if not isinstance(udp, dict) or not isinstance(ip, dict):
        return
    src = "%s:%s" % (ip["ip.src"], udp["udp.srcport"])
    dst = "%s:%s" % (ip["ip.dst"], udp["udp.dstport"])
    from_server = udp["udp.srcport"] == "443"
    key = (dst, src) if from_server else (src, dst)
    if key not in flows:
        flows[key] = new_flow(t, *key)
    f = flows[key]
    f["last"] = t
    quic = [q for q in as_list(layers.get("quic")) if isinstance(q, dict)]
    if not quic:
        f["other"] += 1
        return
    seen = set()
    for q in quic:
        form = q.get("quic.header_form")
        if form is None and isinstance(q.get("quic.short"), dict):
            form = q["quic.short"].get("quic.header_form")
        version = q.get("quic.version")
        if version == "0x00000000":
            seen.add("vn")
            continue
        if form == "0":
            seen.add("short")
            continue
        if form != "1":
            continue
        ptype = q.get("quic.long.packet_type")
        if not from_server and f["version"] == "-" and version:
            f["version"] = version
        if ptype == "0":
            seen.add("initial")
            if not from_server:
                for k, col in (("tls.handshake.extensions_server_name", "sni"),
                               ("tls.handshake.extensions_alpn_str", "alpn")):
                    v = find_all(q, k, [])
                    if v and f[col] == "-":
                        f[col] = ",".join(v)
            else:
                if "2" in find_all(q, "tls.handshake.type", []):
                    f["server_hello"] = 1
                for fr in as_list(q.get("quic.frame")):
                    if isinstance(fr, dict) and fr.get("quic.frame_type") in ("28", "29"):
                        f["close"] = "0x%x" % int(fr.get("quic.cc.error_code", "0"))
        elif ptype == "2":
            seen.add("handshake")
    side = "s_" if from_server else "c_"
    if "initial" in seen:
        f[side + "initial"] += 1
    if "short" in seen:
        f[side + "short"] += 1
    if "handshake" in seen and from_server:
        f["s_handshake"] += 1
    if "vn" in seen and from_server:
        f["vn"] += 1


def outcome(f):
    server_any = f["s_initial"] + f["s_handshake"] + f["s_short"] + f["vn"]
    if f["close"] != "-":
        return "closed"
    if f["server_hello"] and f["c_short"] and f["s_short"]:
        return "completed"
    if f["vn"] and not (f["s_initial"] or f["s_handshake"] or f["s_short"]):
        return "vn"
    if f["other"]:
        return "other"
    if server_any == 0:
        return "icmp_unreachable" if f["icmp"] else "unanswered"
    return "other"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: quic_oracle.py TSHARK.json")
    with open(sys.argv[1]) as fh:
        text = fh.read()
    flows = {}
    hellos = []
    for p in (json.loads(text) if text.strip() else []):
        packet(flows, hellos, p["_source"]["layers"])
    for f in flows.values():
        ip = f["client"].rsplit(":", 1)[0]
        for t, src, sni in hellos:
            dt = t - float(f["last"])
            if src == ip and sni == f["sni"] and 0 <= dt <= 5 and f["tcp_fallback"] == "-":
                f["tcp_fallback"] = "%.3f" % dt
    print("\t".join(COLUMNS))
    rows = sorted(flows.values(), key=lambda f: float(f["first"]))
    for f in rows:
        f["outcome"] = outcome(f)
        print("\t".join(str(f[c]) for c in COLUMNS))
    counts = {}
    for f in rows:
        counts[f["outcome"]] = counts.get(f["outcome"], 0) + 1
    print("quic_oracle: %d flows: %s" % (len(rows), ", ".join(
        "%s %d" % kv for kv in sorted(counts.items()))), file=sys.stderr)


if __name__ == "__main__":
    main()

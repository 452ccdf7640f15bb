#!/usr/bin/env python3
"""Cut the seed corpora in tests/fuzz/corpus/ from the captures in pcaps/.

Run from the repository root: python3 tests/fuzz/make_seeds.py
Regenerated only on purpose (the corpora are committed, a few hundred KB).
Each seed is small: a fuzzer mutates small inputs fastest.
"""
import gzip, hashlib, os, struct, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
DLTS = [0, 1, 10, 12, 14, 101, 108, 113, 228, 229, 276, 147]  # as fuzz_decode.c


def read_pcap(path):
    """(linktype, [(ts_sec, ts_frac, caplen, wirelen, data)], header) or None."""
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 24:
        return None
    magic = raw[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None
    lt = struct.unpack(e + "I", raw[20:24])[0] & 0xFFFF
    pkts, off = [], 24
    while off + 16 <= len(raw):
        s, f, cl, wl = struct.unpack(e + "IIII", raw[off:off + 16])
        if off + 16 + cl > len(raw):
            break
        pkts.append((s, f, cl, wl, raw[off + 16:off + 16 + cl]))
        off += 16 + cl
    return lt, pkts, raw[:24], e


def write_pcap(hdr, e, pkts):
    out = bytearray(hdr)
    for s, f, cl, wl, d in pkts:
        out += struct.pack(e + "IIII", s, f, len(d), wl) + d
    return bytes(out)


def l3(lt, d):
    """Offset of the IP header for the common link types, or None."""
    if lt == 1:
        off, et = 14, struct.unpack(">H", d[12:14])[0] if len(d) >= 14 else 0
        while et in (0x8100, 0x88A8) and len(d) >= off + 4:
            et = struct.unpack(">H", d[off + 2:off + 4])[0]
            off += 4
        return off if et in (0x0800, 0x86DD) else None
    if lt in (12, 101, 228, 229):
        return 0
    if lt == 113:
        return 16
    if lt in (0, 108):
        return 4
    return None


def l4(lt, d):
    """(proto, src, dst, sport, dport, payload) or None."""
    o = l3(lt, d)
    if o is None or len(d) < o + 20:
        return None
    v = d[o] >> 4
    if v == 4:
        ihl = (d[o] & 15) * 4
        proto, src, dst = d[o + 9], d[o + 12:o + 16], d[o + 16:o + 20]
        tot = struct.unpack(">H", d[o + 2:o + 4])[0]
        end = min(len(d), o + tot) if tot else len(d)
        p = o + ihl
    elif v == 6 and len(d) >= o + 40:
        proto, src, dst = d[o + 6], d[o + 8:o + 24], d[o + 24:o + 40]
        end, p = len(d), o + 40
    else:
        return None
    if proto == 17 and end >= p + 8:
        sp, dp = struct.unpack(">HH", d[p:p + 4])
        return 17, src, dst, sp, dp, d[p + 8:end]
    if proto == 6 and end >= p + 20:
        sp, dp = struct.unpack(">HH", d[p:p + 4])
        hl = (d[p + 12] >> 4) * 4
        return 6, src, dst, sp, dp, d[p + hl:end]
    return None


def save(target, data, tag):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = tag + "-" + hashlib.sha1(data).hexdigest()[:12]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def segments(conv, limit):
    """conv: [(from_server, payload)] -> segments.h encoding."""
    out = bytearray()
    for srv, p in conv:
        while p and len(out) < limit:
            n = min(len(p), 127)
            out.append((0x80 if srv else 0) | n)
            out += p[:n]
            p = p[n:]
    return bytes(out[:limit])


def streams(lt, pkts, port, limit):
    convs = {}
    for *_, d in pkts:
        r = l4(lt, d)
        if not r or r[0] != 6 or not r[5]:
            continue
        _, src, dst, sp, dp, pay = r
        if dp == port:
            key, srv = (src, sp, dst, dp), False
        elif sp == port:
            key, srv = (dst, dp, src, sp), True
        else:
            continue
        convs.setdefault(key, []).append((srv, pay))
    return [segments(c, limit) for c in convs.values()]


def read_pcapng(path):
    """(linktype, [(ts_sec, ts_usec, caplen, wirelen, data)]) of the first
    interface's link type, microsecond time (the default if_tsresol)."""
    raw = open(path, "rb").read()
    if raw[:4] != b"\x0a\x0d\x0d\x0a" or len(raw) < 12:
        return None
    e = "<" if raw[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    lts, pkts, off = [], [], 0
    while off + 12 <= len(raw):
        bt, bl = struct.unpack(e + "II", raw[off:off + 8])
        if bl < 12 or off + bl > len(raw):
            break
        body = raw[off + 8:off + bl - 4]
        if bt == 1 and len(body) >= 2:
            lts.append(struct.unpack(e + "H", body[:2])[0])
        elif bt == 6 and len(body) >= 20:
            _, hi, lo, cl, wl = struct.unpack(e + "IIIII", body[:20])
            t = hi << 32 | lo
            pkts.append((t // 1000000, t % 1000000, cl, wl, body[20:20 + cl]))
        off += bl
    return (lts[0] if lts else 1), pkts


def read_any(path):
    if path.endswith(".pcapng"):
        return read_pcapng(path)
    r = read_pcap(path)
    return (r[0], r[1]) if r else None


def quic_flows(lt, pkts, port=443):
    """UDP flows to or from port: [[(from_server, datagram)]] in capture order."""
    flows = {}
    for *_, d in pkts:
        r = l4(lt, d)
        if not r or r[0] != 17 or not r[5]:
            continue
        _, src, dst, sp, dp, pay = r
        if dp == port:
            key, srv = (src, sp, dst, dp), False
        elif sp == port:
            key, srv = (dst, dp, src, sp), True
        else:
            continue
        flows.setdefault(key, []).append((srv, pay))
    return list(flows.values())


def quic_input(mode, dgrams, limit=8192):
    """fuzz_quic.c's encoding: mode byte, then [2-byte header, bytes]."""
    out = bytearray([mode])
    for srv, sealed, p in dgrams:
        p = p[:0x3FFF]
        if len(out) + 2 + len(p) > limit:
            break
        out += struct.pack(">H", (0x8000 if srv else 0) | (0x4000 if sealed else 0) | len(p)) + p
    return bytes(out)


def crypto_frame(off, data):
    """RFC 9000 19.6, offset and length as 4-byte varints."""
    return b"\x06" + struct.pack(">II", 0x80000000 | off, 0x80000000 | len(data)) + data


def tcp_flows(lt, pkts, port):
    """In-order payload per TCP connection: [[(from_server, usec, bytes)]]."""
    convs, nxt = {}, {}
    for s, f, _, _, d in pkts:
        r = l4(lt, d)
        if not r or r[0] != 6 or not r[5]:
            continue
        _, src, dst, sp, dp, pay = r
        o = l3(lt, d)
        ihl = (d[o] & 15) * 4 if d[o] >> 4 == 4 else 40
        seq = struct.unpack(">I", d[o + ihl + 4:o + ihl + 8])[0]
        if dp == port:
            key, srv = (src, sp, dst, dp), False
        elif sp == port:
            key, srv = (dst, dp, src, sp), True
        else:
            continue
        k2 = (key, srv)
        if k2 in nxt and seq != nxt[k2]:
            continue  # retransmission or gap: keep the stream in order
        nxt[k2] = (seq + len(pay)) & 0xFFFFFFFF
        convs.setdefault(key, []).append((srv, s * 1000000 + f, pay))
    return list(convs.values())


def records_input(conv, limit=8192):
    """fuzz_tls_records.c's encoding: [dir|len][time step][bytes]."""
    out, last = bytearray(), None
    for srv, us, p in conv:
        dt = 0 if last is None else max(0, us - last)
        last = us
        t = min(63, round((dt / 50) ** (1 / 3)))
        while p and len(out) < limit:
            n = min(len(p), 127)
            out += bytes([(0x80 if srv else 0) | n, t]) + p[:n]
            p, t = p[n:], 0
    return bytes(out[:limit])


def quic_and_records_seeds():
    # QUIC: datagrams as captured (real Initials decrypt), from real stacks
    for sub in ("real-quic", "quic-stack"):
        d = os.path.join(ROOT, "pcaps", sub)
        for fn in sorted(os.listdir(d)):
            if ".pcap" not in fn:
                continue
            r = read_any(os.path.join(d, fn))
            if not r:
                continue
            for i, fl in enumerate(quic_flows(*r)[:2]):
                save("quic", quic_input(i * 4, [(srv, False, p) for srv, p in fl[:6]]),
                     {"real-quic": "rquic", "quic-stack": "qstack"}[sub] + "-" + fn.split(".")[0][:20])
    # sealed Initials around real ClientHellos and ServerHellos (TLS over TCP
    # from pcaps/https carry the same handshake messages, RFC 9001 4)
    r = read_any(os.path.join(ROOT, "pcaps", "https", "incident.pcap"))
    hellos = []
    for conv in tcp_flows(*r, 443)[:40]:
        ch = next((p for srv, _, p in conv if not srv), b"")
        sh = next((p for srv, _, p in conv if srv), b"")
        if ch[:1] == b"\x16" and sh[:1] == b"\x16":
            chm = ch[5:5 + struct.unpack(">H", ch[3:5])[0]]
            shm = sh[5:5 + struct.unpack(">H", sh[3:5])[0]]
            hellos.append((chm, shm))
    ack = b"\x02\x00\x00\x00\x00"
    for i, (chm, shm) in enumerate(hellos[:4]):
        half = len(chm) // 2
        one = [(False, True, crypto_frame(0, chm) + b"\x00" * 40),
               (True, True, ack + crypto_frame(0, shm))]
        two = [(False, True, crypto_frame(half, chm[half:])),  # out of order
               (False, True, crypto_frame(0, chm[:half])),
               (True, True, ack + b"\x1c\x41\x28\x06\x00")]  # CONNECTION_CLOSE 0x128
        save("quic", quic_input(i & 3, one), "sealed-hello")
        save("quic", quic_input(4 | (i & 3), two), "sealed-split-close")
    # TLS record walker: whole connections (handshake, requests, responses)
    for name in ("incident", "deploy-clean"):
        r = read_any(os.path.join(ROOT, "pcaps", "https", name + ".pcap"))
        for conv in tcp_flows(*r, 443)[:6]:
            save("tls_records", records_input(conv), "https-" + name)
    # and a compact TLS 1.3-shaped one: tiny handshake, a request, a
    # two-record response, an encrypted alert
    rec = lambda t, n: bytes([t, 3, 3, n >> 8, n & 255]) + b"\x00" * n
    conv = [(False, 0, rec(22, 4)), (True, 1000, rec(22, 4) + rec(20, 1) + rec(23, 60)),
            (False, 2000, rec(20, 1) + rec(23, 53)), (False, 3000, rec(23, 120)),
            (True, 40000, rec(23, 300)), (True, 41000, rec(23, 90)),
            (True, 3000000, rec(23, 19))]
    save("tls_records", records_input(conv) + b"\x00", "tls13-shape")


def main():
    real = os.path.join(ROOT, "pcaps", "real")
    files = sorted(f for f in os.listdir(real) if ".pcap" in f)
    files.append(os.path.join("..", "demo", "cloudflare-outage.pcap"))
    for fn in files:
        path = os.path.join(real, fn)
        tag = os.path.basename(fn).split(".")[0][:24]
        if fn.endswith(".pcapng"):
            raw = open(path, "rb").read()
            if len(raw) <= 4096:
                save("capture", raw, tag)
                save("engine", raw, tag)
            continue
        r = read_pcap(path)
        if not r:
            continue
        lt, pkts, hdr, e = r
        if not pkts:
            continue
        # decoder: a few frames of each link type and shape, cut at 256 bytes
        seen = set()
        for *_, d in pkts:
            shape = (len(d) > 60, d[12:14] if lt == 1 else b"", d[23:24] if lt == 1 else d[9:10])
            if shape in seen or len(seen) >= 4:
                continue
            seen.add(shape)
            if lt in DLTS:
                save("decode", bytes([DLTS.index(lt)]) + d[:256], tag)
        # capture files and the engine: the first packets, a few KB at most
        cut, size = [], 24
        for p in pkts:
            if size + 16 + min(len(p[4]), 512) > 3000 or len(cut) >= 24:
                break
            cut.append(p[:4] + (p[4][:512],))
            size += 16 + min(len(p[4]), 512)
        small = write_pcap(hdr, e, cut)
        save("engine", small, tag)
        if len(os.listdir(os.path.join(OUT, "capture"))) < 40 if os.path.isdir(os.path.join(OUT, "capture")) else True:
            save("capture", small[:1200], tag)
        # DNS messages (UDP) and DNS-over-TCP streams
        n = 0
        for *_, d in pkts:
            x = l4(lt, d)
            if x and x[0] == 17 and 53 in (x[3], x[4]) and x[5] and n < 6:
                save("dns", b"\x00" + x[5][:512], tag)
                n += 1
        for s in streams(lt, pkts, 53, 1024)[:2]:
            save("dns", b"\x01" + s, tag + "-tcp")
        for s in streams(lt, pkts, 443, 2048)[:3]:
            save("tls", s, tag)
        for s in streams(lt, pkts, 80, 2048)[:3]:
            save("http", s, tag)
    # gzip through the capture path
    demo = read_pcap(os.path.join(ROOT, "pcaps", "demo", "cloudflare-outage.pcap"))
    lt, pkts, hdr, e = demo
    save("capture", gzip.compress(write_pcap(hdr, e, pkts[:8]), mtime=0), "demo-gz")
    # config: the shipped example and small variants
    ex = open(os.path.join(ROOT, "deploy", "faultline.conf.example"), "rb").read()
    save("config", ex, "example")
    save("config", b"[analysis]\nbucket_s = 5\nflow_cap = 100\n[redis]\nredis_url = redis://h:1/2\n", "small")
    save("config", b"[detector]\nratio_floor=0.5\nraise_buckets=3\n[capture]\nbpf=tcp port 443\n", "det")
    for u in [b"redis://127.0.0.1:6379/0", b"redis://:pa%20ss@[::1]:6380/3",
              b"unix:///run/redis/redis.sock?db=2", b"redis://user:pw@host.example",
              b"rediss://h:1", b"redis://[fe80::1%25eth0]:6379"]:
        save("redis_url", u, "url")


if __name__ == "__main__":
    if sys.argv[1:] == ["quic"]:  # only the QUIC and TLS record walker corpora
        sys.exit(quic_and_records_seeds())
    main()
    sys.exit(quic_and_records_seeds())

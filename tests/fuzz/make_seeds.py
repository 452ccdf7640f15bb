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
    sys.exit(main())

#!/usr/bin/env python3
"""check_truth.py PCAP TRUTH [RANGES]: recompute flgen's truth from tshark alone.

A hand-run validation of tests/gen/flgen.c (not part of CI: it needs tshark).
Every counter is recomputed per provider from tshark's dissection of the pcap,
with attribution done independently of flgen: the server address is looked up
(longest prefix) in deploy/provider_ranges.tsv, DNS messages by the queried
name's domain. Application facts are read from non-retransmitted frames only
(retransmissions count once). Prints a diff and exits 1 on any mismatch.
"""
import collections
import ipaddress
import os
import subprocess
import sys

NAME_SUFFIX = {
    "cloudflare.com": "Cloudflare", "cloudflare.net": "Cloudflare",
    "amazonaws.com": "AWS", "google.com": "Google", "googleapis.com": "Google",
    "microsoftonline.com": "Microsoft", "microsoft.com": "Microsoft",
    "azure.com": "Microsoft", "akamai.net": "Akamai", "akamaiedge.net": "Akamai",
    "akamaized.net": "Akamai", "fastly.net": "Fastly", "oraclecloud.com": "Oracle",
}

FIELDS = ["frame.number", "frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.stream", "udp.stream", "tcp.flags", "tcp.dstport", "tcp.len",
          "tcp.analysis.retransmission", "tls.handshake.type", "tls.record.content_type",
          "tls.record.opaque_type", "tcp.seq_raw",
          "tls.alert_message.level", "dns.flags.response", "dns.id", "dns.flags.rcode",
          "dns.qry.name", "dns.qry.type", "dns.resp.type", "dns.a", "dns.aaaa",
          "http.request", "http.response.code", "_ws.expert.severity"]


def load_ranges(path):
    nets = []
    with open(path) as f:
        next(f)
        for line in f:
            cidr, prov = line.split("\t")[:2]
            nets.append((ipaddress.ip_network(cidr), prov))
    return nets


def by_addr(nets, cache, addr):
    if addr not in cache:
        a = ipaddress.ip_address(addr)
        best = None
        for n, p in nets:
            if a.version == n.version and a in n and (best is None or n.prefixlen > best[0]):
                best = (n.prefixlen, p)
        cache[addr] = best[1] if best else "unknown"
    return cache[addr]


def by_name(name):
    z = ".".join(name.split(".")[-2:])
    return NAME_SUFFIX.get(z, "unknown")


def main():
    pcap, truth_path = sys.argv[1], sys.argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    ranges = sys.argv[3] if len(sys.argv) > 3 else os.path.join(here, "../../deploy/provider_ranges.tsv")
    nets, cache = load_ranges(ranges), {}
    cmd = ["tshark", "-r", pcap, "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
           "-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
           "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    rows = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()

    cnt = collections.defaultdict(collections.Counter)
    pkt = collections.Counter()
    tcp = {}            # stream -> state
    udp = {}            # stream -> provider
    dnsq = {}           # (proto, stream, id) -> provider, for timeouts
    errors = 0
    for line in rows:
        v = dict(zip(FIELDS, line.split("\t")))
        # PI_ERROR (0x00800000): malformed packets, bad checksums
        if "8388608" in v["_ws.expert.severity"].split(","):
            errors += 1
        src = v["ip.src"] or v["ipv6.src"]
        dst = v["ip.dst"] or v["ipv6.dst"]
        rtx = v["tcp.analysis.retransmission"] != ""
        pkt["frames"] += 1
        prov = None
        if v["tcp.stream"]:
            fl = int(v["tcp.flags"], 16)
            st = tcp.setdefault(v["tcp.stream"], dict(client=None, synack=False, refused=False,
                                reset=False, ch=False, sh=False, cad=False, done=False,
                                alert=False, dns=False, prov=None))
            if fl & 0x04:
                # tshark does not flag a repeated RST: the same RST = same seq
                pkt["rst"] += 1
                rsts = st.setdefault("rsts", set())
                if (src, v["tcp.seq_raw"]) in rsts:
                    pkt["rst_retransmitted"] += 1
                    rtx = True
                rsts.add((src, v["tcp.seq_raw"]))
            if fl & 0x02 and rtx:
                pkt["syn_retransmitted"] += 1
            if rtx and int(v["tcp.len"] or 0) > 0:
                pkt["data_retransmitted"] += 1
            if fl & 0x12 == 0x02 and st["client"] is None:
                st["client"] = src
                st["dns"] = v["tcp.dstport"] == "53"
                if not st["dns"]:
                    st["prov"] = by_addr(nets, cache, dst)
            from_client = src == st["client"]
            if fl & 0x04 and from_client:
                pkt["client_rst"] += 1
            if fl & 0x12 == 0x12:
                st["synack"] = True
            if fl & 0x04 and not from_client and not rtx:
                if st["synack"]:
                    st["reset"] = True
                else:
                    st["refused"] = True
            if not rtx:
                hs = v["tls.handshake.type"].split(",")
                # TLS 1.3 protected records show as opaque_type, not content_type
                recs = ",".join(x for x in (v["tls.record.content_type"],
                                            v["tls.record.opaque_type"]) if x)
                ct = recs.split(",")
                if from_client and "1" in hs:
                    st["ch"] = True
                if not from_client and "2" in hs:
                    st["sh"] = True
                if from_client and st["sh"] and "23" in ct:
                    st["cad"] = True
                elif not from_client and st["cad"] and recs:
                    st["done"] = True
                levels = [x for x in v["tls.alert_message.level"].split(",") if x]
                nfatal = levels.count("2")
                if nfatal:
                    st["alert"] = True
                    st["fatal"] = st.get("fatal", 0) + nfatal
            prov = st["prov"]
        elif v["udp.stream"]:
            udp.setdefault(v["udp.stream"], None)
        # DNS messages (UDP frames, TCP reassembled)
        if v["dns.id"] and not rtx:
            for i, resp in enumerate(v["dns.flags.response"].split(",")):
                name = v["dns.qry.name"].split(",")[i]
                p = by_name(name)
                key = ("t" + v["tcp.stream"]) if v["tcp.stream"] else ("u" + v["udp.stream"])
                if v["tcp.stream"]:
                    tcp[v["tcp.stream"]]["prov"] = p
                else:
                    udp[v["udp.stream"]] = p
                key = (key, v["dns.id"].split(",")[i])
                if resp in ("0", "False"):
                    cnt[p]["dns_queries"] += 1
                    dnsq[key] = p
                    continue
                dnsq.pop(key, None)
                cnt[p]["dns_responses"] += 1
                rc = int(v["dns.flags.rcode"].split(",")[i])
                cnt[p]["dns_servfail"] += rc == 2
                cnt[p]["dns_nxdomain"] += rc == 3
                cnt[p]["dns_refused"] += rc == 5
                qt = v["dns.qry.type"].split(",")[i]
                if rc == 0 and qt in ("1", "28") and qt not in v["dns.resp.type"].split(","):
                    cnt[p]["dns_nodata"] += 1
                for a in [x for x in (v["dns.a"] + "," + v["dns.aaaa"]).split(",") if x]:
                    if by_addr(nets, cache, a) != p:
                        print(f"answer {a} for {name} is not {p}'s")
                        errors += 1
        if prov and not rtx:
            reqs = [x for x in v["http.request"].split(",") if x]
            codes = [int(x) for x in v["http.response.code"].split(",") if x]
            cnt[prov]["http_requests"] += len(reqs)
            for c in codes:
                if c >= 200:
                    cnt[prov]["http_responses"] += 1
                    cnt[prov]["http_4xx"] += 400 <= c < 500
                    cnt[prov]["http_5xx"] += 500 <= c < 600
    for key, p in dnsq.items():
        cnt[p]["dns_timeouts"] += 1
    for s, st in tcp.items():
        p = st["prov"] or "unknown"
        cnt[p]["flows"] += 1
        if st["client"] is None:
            continue
        cnt[p]["tcp_attempts"] += 1
        cnt[p]["tcp_refused"] += st["refused"]
        cnt[p]["tcp_syn_timeouts"] += not st["synack"] and not st["refused"]
        cnt[p]["tcp_resets"] += st["reset"]
        if st["ch"]:
            cnt[p]["tls_handshakes"] += 1
            cnt[p]["tls_failures"] += not st["done"]
            cnt[p]["tls_alerts"] += st.get("fatal", 0)
    for s, p in udp.items():
        cnt[p or "unknown"]["flows"] += 1

    truth = collections.defaultdict(dict)
    tpkt = {}
    with open(truth_path) as f:
        for line in f:
            t = line.rstrip("\n").split("\t")
            if t[0] == "counter":
                truth[t[1]][t[2]] = int(t[3])
            elif t[0] == "packets":
                tpkt[t[2]] = int(t[3])
    bad = errors
    for p in sorted(set(truth) | set(cnt)):
        for c in sorted(set(truth.get(p, {})) | set(cnt[p])):
            want, got = truth.get(p, {}).get(c, 0), cnt[p][c]
            if want != got:
                print(f"{p}\t{c}\ttruth={want}\ttshark={got}")
                bad += 1
    for k, want in tpkt.items():
        if pkt[k] != want:
            print(f"packets\t{k}\ttruth={want}\ttshark={pkt[k]}")
            bad += 1
    total = sum(sum(v.values()) for v in truth.values())
    print(f"{os.path.basename(pcap)}: {len(rows)} frames, {total} counted facts, "
          f"{errors} errors, {bad} mismatches")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

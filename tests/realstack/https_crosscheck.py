#!/usr/bin/env python3
"""tests/realstack/https_crosscheck.py ORACLE.tsv NGINX-ACCESS.tsv

Two independent views of the same responses must agree: the oracle (tshark
decrypting the capture) and nginx's access log (log_format fl of
https_bed.sh: what the server says it sent). Responses are paired by
client address, client port and path (in time order when a path repeats on
a connection); each pair must agree on status, body bytes, SNI, HTTP
version, TLS version and on "error template or not" (nginx's $fl_status is
the error it chose; the oracle reads the template from the decrypted body).

Prints a per-SNI table and the totals; exits 1 on any disagreement or any
response seen by one view only, 2 on unreadable input.
"""
import sys
from collections import defaultdict

NGINX_COLS = ["msec", "remote_addr", "remote_port", "server_addr", "server_port", "sni",
              "protocol", "ssl_protocol", "method", "uri", "status", "body_bytes",
              "connection", "connection_requests", "request_id", "phase", "fl_status"]


def read_tsv(path, header_given):
    rows = []
    with open(path) as f:
        lines = f.read().splitlines()
    if header_given:
        cols = lines[0].split("\t")
        lines = lines[1:]
    else:
        cols = NGINX_COLS
    for ln in lines:
        if not ln:
            continue
        c = ln.split("\t")
        if len(c) != len(cols):
            sys.exit("https_crosscheck: %s: %d fields, want %d: %s" % (path, len(c), len(cols), ln[:120]))
        rows.append(dict(zip(cols, c)))
    return rows


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: https_crosscheck.py ORACLE.tsv NGINX-ACCESS.tsv")
    try:
        oracle = read_tsv(sys.argv[1], True)
        nginx = read_tsv(sys.argv[2], False)
    except OSError as e:
        print("https_crosscheck: %s" % e, file=sys.stderr)
        sys.exit(2)
    by_key = defaultdict(list)
    for n in sorted(nginx, key=lambda r: float(r["msec"])):
        by_key[(n["remote_addr"] + ":" + n["remote_port"], n["uri"])].append(n)
    per_sni = defaultdict(lambda: [0, 0, 0, 0])  # responses, 5xx, templates, agreeing
    bad = []
    matched = 0
    for o in oracle:
        lst = by_key.get((o["client"], o["path"]))
        if not lst:
            bad.append("oracle only: %s %s %s %s" % (o["client"], o["sni"], o["path"], o["status"]))
            continue
        n = lst.pop(0)
        matched += 1
        want = {
            "status": n["status"],
            "body_bytes": n["body_bytes"],
            "sni": n["sni"],
            "proto": "h2" if n["protocol"] == "HTTP/2.0" else "h1",
            "tls": n["ssl_protocol"].replace("TLSv", ""),
            "template": n["fl_status"] != "0",
        }
        got = {k: o[k] for k in want if k != "template"}
        got["template"] = o["template"] != "-"
        diffs = [k for k in want if want[k] != got[k]]
        s = per_sni[o["sni"]]
        s[0] += 1
        s[1] += int(o["status"]) >= 500
        s[2] += o["template"] != "-"
        if diffs:
            bad.append("differ on %s: %s %s %s oracle %s nginx %s" % (
                ",".join(diffs), o["client"], o["sni"], o["path"],
                {k: got[k] for k in diffs}, {k: want[k] for k in diffs}))
        else:
            s[3] += 1
    for lst in by_key.values():
        for n in lst:
            bad.append("nginx only: %s:%s %s %s %s" % (n["remote_addr"], n["remote_port"],
                                                      n["sni"], n["uri"], n["status"]))
    print("%-28s %9s %6s %9s %9s" % ("sni", "responses", "5xx", "templates", "agree"))
    tot = [0, 0, 0, 0]
    for sni in sorted(per_sni):
        s = per_sni[sni]
        tot = [a + b for a, b in zip(tot, s)]
        print("%-28s %9d %6d %9d %9d" % (sni, *s))
    print("%-28s %9d %6d %9d %9d" % ("total", *tot))
    print("oracle %d responses, nginx %d, paired %d, agreeing on every field %d, disagreements %d"
          % (len(oracle), len(nginx), matched, tot[3], len(bad)))
    for b in bad[:20]:
        print("  " + b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""tests/realstack/https_oracle.py - one row per HTTP response in a TLS capture,
from tshark's decryption with the capture's key log (see https_oracle.sh).

Input: two tshark outputs (files named on the command line):
  HANDSHAKES  -T fields: tcp.stream, ip.src, tcp.srcport, ip.dst, tcp.dstport,
              tls.handshake.type, tls.handshake.extensions_server_name,
              tls.handshake.extensions.supported_version, tls.handshake.version
  HTTP        -T json --no-duplicate-keys of the frames carrying HTTP/2 HEADERS
              or DATA frames, or HTTP/1.x messages, decrypted.
Output (stdout): a TSV, header first, sorted by time of the first byte.

What is a response, and its fields:
  HTTP/2 (RFC 9113): a HEADERS frame from the server carrying :status starts
  it (its frame time is the first byte's); its body is the sum of the
  lengths of the server's DATA frames on that stream, less padding
  (RFC 9113 section 6.1). The path is the :path of the client's HEADERS on
  the same stream.
  HTTP/1.1 (RFC 9112): a status line from the server (tshark run with
  http.desegment_body off, so the response shows in the frame that
  completes the record holding its head, not its last body byte); the
  body length is Content-Length (nginx sends it on every response here);
  stream_id is the response's rank on the connection (1, 2, ...).
  template: "html" if the body holds the Cloudflare-like error page's
  marker (id='cf-error-details'), "json" if it holds the API error's
  ("type":"upstream_error"), "-" otherwise. For HTTP/1.1 only the body
  bytes in the frame of the head are searched: the markers sit in the
  first 700 bytes and nginx writes head and body in one TLS record.
"""
import json
import sys

HTML_MARK = b"id='cf-error-details'"
JSON_MARK = b'"type":"upstream_error"'


def find(obj, key):
    """First value of key anywhere in a tshark JSON subtree."""
    if isinstance(obj, dict):
        if key in obj:
            v = obj[key]
            return v[0] if isinstance(v, list) else v
        for v in obj.values():
            r = find(v, key)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find(v, key)
            if r is not None:
                return r
    return None


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def marker(data):
    if HTML_MARK in data:
        return "html"
    if JSON_MARK in data:
        return "json"
    return "-"


def read_handshakes(path):
    """tcp.stream -> {sni, tls}."""
    streams = {}
    with open(path) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if len(c) < 9 or not c[0]:
                continue
            s = streams.setdefault(c[0], {"sni": "-", "tls": "-"})
            types = c[5].split(",")
            if "1" in types and c[6]:
                s["sni"] = c[6].split(",")[0]
            if "2" in types:
                if "0x0304" in c[7].split(","):
                    s["tls"] = "1.3"
                elif "0x0303" in c[8].split(","):
                    s["tls"] = "1.2"
    return streams


def h2_frames(layers):
    """Every HTTP/2 frame (dict) of a packet, in order."""
    out = []
    for layer in as_list(layers.get("http2")):
        if isinstance(layer, dict):
            out.extend(f for f in as_list(layer.get("http2.stream")) if isinstance(f, dict))
    return out


class Oracle:
    def __init__(self, hs):
        self.hs = hs
        self.rows = []
        self.h2 = {}       # (tcp stream, stream id) -> row
        self.paths = {}    # (tcp stream, stream id) -> :path
        self.h1_rank = {}  # tcp stream -> responses so far

    def row(self, pkt, proto, sid, t, status, path):
        st = self.hs.get(pkt["stream"], {"sni": "-", "tls": "-"})
        r = {"tcp_stream": int(pkt["stream"]), "client": pkt["dst"], "server": pkt["src"],
             "sni": st["sni"], "tls": st["tls"], "proto": proto, "stream_id": sid,
             "time": t, "status": status, "body_bytes": 0, "template": "-", "path": path}
        self.rows.append(r)
        return r

    def packet(self, layers):
        fr = layers["frame"]
        ip = layers["ip"]
        tcp = layers["tcp"]
        pkt = {"time": fr["frame.time_epoch"], "stream": tcp["tcp.stream"],
               "src": "%s:%s" % (ip["ip.src"], tcp["tcp.srcport"]),
               "dst": "%s:%s" % (ip["ip.dst"], tcp["tcp.dstport"])}
        from_server = tcp["tcp.srcport"] == "443"
        for f in h2_frames(layers):
            self.h2_frame(pkt, f, from_server)
        if from_server:
            for h in as_list(layers.get("http")):
                self.h1_message(pkt, h)

    def h2_frame(self, pkt, f, from_server):
        ftype = f.get("http2.type")
        key = (pkt["stream"], f.get("http2.streamid"))
        if ftype == "1" and not from_server:
            p = find(f, "http2.headers.path")
            if p is not None:
                self.paths[key] = p
        elif ftype == "1" and from_server:
            status = find(f, "http2.headers.status")
            if status is not None:
                r = self.row(pkt, "h2", int(key[1]), pkt["time"], int(status),
                             self.paths.get(key, "-"))
                self.h2[key] = r
        elif ftype == "0" and from_server and key in self.h2:
            r = self.h2[key]
            pad = f.get("http2.pad_length")
            # Padded frames: the pad length octet and the padding are not body.
            padded = f.get("http2.flags_tree", {}).get("http2.flags.padded") == "1"
            r["body_bytes"] += int(f["http2.length"]) - ((1 + int(pad)) if padded and pad else 0)
            data = f.get("http2.data.data")
            if data and r["template"] == "-":
                r["template"] = marker(bytes.fromhex(data.replace(":", "")))

    def h1_message(self, pkt, h):
        if not isinstance(h, dict):
            return
        code = find(h, "http.response.code")
        if code is None:
            return
        uri = h.get("http.response_for.uri", "-")
        if uri.startswith("https://"):
            uri = "/" + uri[len("https://"):].partition("/")[2]
        rank = self.h1_rank.get(pkt["stream"], 0) + 1
        self.h1_rank[pkt["stream"]] = rank
        r = self.row(pkt, "h1", rank, pkt["time"], int(code), uri)
        cl = find(h, "http.content_length_header")
        r["body_bytes"] = int(cl) if cl is not None else -1
        body = h.get("http.file_data")
        if body:
            r["template"] = marker(body.encode("utf-8", "surrogateescape"))


COLUMNS = ["time", "tcp_stream", "client", "server", "sni", "tls", "proto", "stream_id",
           "status", "body_bytes", "template", "path"]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: https_oracle.py HANDSHAKES.tsv HTTP.json")
    hs = read_handshakes(sys.argv[1])
    with open(sys.argv[2]) as f:
        text = f.read()
    packets = json.loads(text) if text.strip() else []
    o = Oracle(hs)
    for p in packets:
        o.packet(p["_source"]["layers"])
    o.rows.sort(key=lambda r: (float(r["time"]), r["tcp_stream"], r["stream_id"]))
    print("\t".join(COLUMNS))
    for r in o.rows:
        print("\t".join(str(r[c]) for c in COLUMNS))
    with_resp = {r["tcp_stream"] for r in o.rows}
    silent = [s for s in hs if int(s) not in with_resp]
    n5 = sum(1 for r in o.rows if r["status"] >= 500)
    nt = sum(1 for r in o.rows if r["template"] != "-")
    print("https_oracle: %d responses (%d 5xx, %d templates) on %d TLS connections; "
          "%d connections without a decrypted response" % (len(o.rows), n5, nt, len(hs), len(silent)),
          file=sys.stderr)


if __name__ == "__main__":
    main()

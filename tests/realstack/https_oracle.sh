#!/usr/bin/env bash
# tests/realstack/https_oracle.sh CAPTURE KEYLOG > oracle.tsv
#
# The truth of an HTTPS capture: tshark decrypts it with the key log
# (-o tls.keylog_file) and https_oracle.py writes one row per HTTP response:
#   time        epoch seconds of the frame holding the response's first bytes
#               (HTTP/2: the HEADERS frame with :status; HTTP/1.1: the
#               record with the status line)
#   tcp_stream  tshark's tcp.stream index
#   client      client ip:port;  server  server ip:port
#   sni         the ClientHello's server_name (tls.handshake.extensions_server_name)
#   tls         1.3 or 1.2 (the ServerHello's supported_versions, else its version)
#   proto       h2 or h1;  stream_id  HTTP/2 stream id, or the response's rank
#               on an HTTP/1.1 connection
#   status      http2.headers.status / http.response.code
#   body_bytes  HTTP/2: sum of the server's DATA frame lengths on the stream
#               less padding; HTTP/1.1: Content-Length
#   template    html (Cloudflare-like 5xx page), json (API 5xx body) or -,
#               from the decrypted body bytes
#   path        the request's :path / URI
# A summary line goes to stderr, with the TLS connections that had no
# decrypted response (a key missing from the log shows there).
set -euo pipefail
CAP=${1:?usage: https_oracle.sh CAPTURE KEYLOG}
KEYS=${2:?usage: https_oracle.sh CAPTURE KEYLOG}
[ -r "$CAP" ] || { echo "https_oracle: cannot read $CAP" >&2; exit 2; }
[ -r "$KEYS" ] || { echo "https_oracle: cannot read $KEYS" >&2; exit 2; }
command -v tshark >/dev/null || { echo "https_oracle: tshark is not installed" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

opts=(-n -r "$CAP" -o "tls.keylog_file:$KEYS" -o http.desegment_body:FALSE)
tshark "${opts[@]}" -Y 'tls.handshake.type == 1 || tls.handshake.type == 2' -T fields \
    -E separator=/t -E occurrence=a -E aggregator=, \
    -e tcp.stream -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport -e tls.handshake.type \
    -e tls.handshake.extensions_server_name -e tls.handshake.extensions.supported_version \
    -e tls.handshake.version >"$T/hs.tsv" 2>"$T/err1" || { cat "$T/err1" >&2; exit 2; }
tshark "${opts[@]}" -Y 'http2.type == 0 || http2.type == 1 || http.response' \
    -T json --no-duplicate-keys -J 'frame ip tcp http2 http' >"$T/http.json" 2>"$T/err2" ||
    { cat "$T/err2" >&2; exit 2; }
python3 "$HERE/https_oracle.py" "$T/hs.tsv" "$T/http.json"

#!/usr/bin/env bash
# e2e_https_realstack: the HTTPS test bed makes a capture live, and two
# independent views of it agree.
#
# tests/realstack/https_bed.sh runs Debian's nginx (TLS 1.2 and 1.3, HTTP/2
# and HTTP/1.1, 8 sites) in a network namespace of its own and real clients
# (curl, h2load) in another, with a short induced incident: Cloudflare-like
# 5xx template pages and JSON 5xx bodies inside completed TLS sessions. Then:
#   - the oracle (tshark decrypting the capture with the clients' key log,
#     tests/realstack/https_oracle.sh) and nginx's own access log give the
#     same responses: same count, and pair for pair the same status, body
#     bytes, SNI, HTTP and TLS versions, error template or not
#     (tests/realstack/https_crosscheck.py);
#   - every TLS connection was decrypted; the capture holds HTTP/2 and
#     HTTP/1.1, TLS 1.3 and 1.2, HTML template pages of 6.0-6.8 kB and
#     JSON 5xx bodies;
#   - error templates come only from the incident's seconds (one second of
#     slack: nginx decides on the request's second, the oracle times the
#     response) and never from the AWS control site.
#
# About 30 s on an idle machine. Needs root and `ip netns` (skips, and says so, without them);
# the tools are deploy/install-deps.sh's test packages (missing: fails).
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: https_realstack needs root (network namespaces, packet capture)"
    exit 0
fi
command -v ip >/dev/null || { echo "SKIP: https_realstack needs ip (iproute2)"; exit 0; }
probe=fl-e2e-hp$$
if ! ip netns add "$probe" 2>"$E2E_TMP/netns.err"; then
    echo "SKIP: cannot create a network namespace: $(cat "$E2E_TMP/netns.err")"
    exit 0
fi
ip netns del "$probe"
for tool in nginx curl h2load tcpdump tshark openssl python3; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (deploy/install-deps.sh)"
done

RS=$FL_SRC/tests/realstack
OUT=$E2E_TMP/bed
RS_PRE=4 RS_INC=6 RS_FLAP=3 RS_POST=3 RS_DEPLOY_AT=2 RS_BROWSERS=3 RS_SDKS=2 RS_SCALE=30 \
    "$RS/https_bed.sh" "$OUT" 2>"$E2E_TMP/bed.err" || { cat "$E2E_TMP/bed.err" >&2; fail "the bed failed"; }
pass "bed: $(tail -1 "$E2E_TMP/bed.err" | sed 's/^https_bed: //')"

"$RS/https_oracle.sh" "$OUT/https.pcap" "$OUT/keylog.txt" >"$OUT/oracle.tsv" 2>"$E2E_TMP/oracle.err" ||
    { cat "$E2E_TMP/oracle.err" >&2; fail "the oracle failed"; }
grep -q ' 0 connections without a decrypted response' "$E2E_TMP/oracle.err" ||
    fail "some TLS connections were not decrypted: $(cat "$E2E_TMP/oracle.err")"
pass "$(sed 's/^https_oracle: //' "$E2E_TMP/oracle.err")"

python3 "$RS/https_crosscheck.py" "$OUT/oracle.tsv" "$OUT/nginx-access.tsv" >"$E2E_TMP/cross.txt" ||
    { cat "$E2E_TMP/cross.txt" >&2; fail "oracle and nginx log disagree"; }
pass "oracle = nginx log: $(tail -1 "$E2E_TMP/cross.txt")"

# Column numbers of the oracle (header line).
col() { head -1 "$OUT/oracle.tsv" | tr '\t' '\n' | grep -n -x "$1" | cut -d: -f1; }
cT=$(col time) cS=$(col sni) cV=$(col tls) cP=$(col proto) cC=$(col status) cB=$(col body_bytes) cM=$(col template)
n=$(($(wc -l <"$OUT/oracle.tsv") - 1))
[ "$n" -ge 60 ] || fail "only $n responses"
for want in "$cP h2" "$cP h1" "$cV 1.3" "$cV 1.2" "$cM html" "$cM json"; do
    set -- $want
    k=$(awk -F'\t' -v c="$1" -v v="$2" 'NR > 1 && $c == v' "$OUT/oracle.tsv" | wc -l)
    [ "$k" -gt 0 ] || fail "no response with $(head -1 "$OUT/oracle.tsv" | cut -f"$1")=$2"
done
pass "$n responses: h2 and h1, TLS 1.3 and 1.2, html and json error templates"

bad=$(awk -F'\t' -v m="$cM" -v c="$cC" -v b="$cB" 'NR > 1 && $m == "html" && ($c < 500 || $b < 6000 || $b > 6800)' "$OUT/oracle.tsv" | wc -l)
[ "$bad" -eq 0 ] || fail "$bad html templates outside 5xx or 6.0-6.8 kB"
bad=$(awk -F'\t' -v m="$cM" -v c="$cC" 'NR > 1 && (($m != "-") != ($c >= 500))' "$OUT/oracle.tsv" | wc -l)
[ "$bad" -eq 0 ] || fail "$bad responses where 5xx and template disagree"
# 404 only from the site that deploys: a page loaded just before the switch
# asks for assets of the old version (a real deploy race).
bad=$(awk -F'\t' -v m="$cM" -v c="$cC" -v s="$cS" \
    'NR > 1 && $m == "-" && $c != 200 && !($c == 404 && $s == "www.acme-shop.example")' "$OUT/oracle.tsv" | wc -l)
[ "$bad" -eq 0 ] || fail "$bad responses neither 200 nor an error template"
pass "every 5xx is a template, every other response a 200 (or a deploy-race 404); html templates are 6.0-6.8 kB"

read -r i0 i1 < <(awk -F'\t' '$3 == "incident" { if (!s || $1 < s) s = $1; if ($2 > e) e = $2 } END { print s, e }' "$OUT/timeline.tsv")
outside=$(awk -F'\t' -v m="$cM" -v t="$cT" -v s="$cS" -v a="$i0" -v b="$i1" \
    'NR > 1 && $m != "-" && ($t < a - 1 || $t > b + 1 || $s == "static.assetvault.example")' "$OUT/oracle.tsv" | wc -l)
[ "$outside" -eq 0 ] || fail "$outside error templates outside the incident or from the control site"
inside=$(awk -F'\t' -v m="$cM" 'NR > 1 && $m != "-"' "$OUT/oracle.tsv" | wc -l)
pass "$inside error templates, all within the incident $i0-$i1, none from the control site"
done_all

#!/usr/bin/env bash
# e2e_report_drill: what the report tells the analyst, checked against
# tshark and the capture itself.
#
#  - pcaps/demo: per alert, the failing clients and servers and a sample of
#    failing connections, in the JSON document and the HTML report. Every
#    sampled connection is found in the capture by tshark (same 5-tuple;
#    for a reset the very packet at that time, for a 5xx the response); the top clients'
#    and servers' counts equal the failure lines of --events in the alert's
#    window; under [privacy] client_key_file no client address is left,
#    pseudonyms instead.
#  - pcaps/real/1kxun.pcap (2016 and 2022): the header names both dates,
#    the charts are cut into parts and the page says so, a service with more
#    failures than attempts says why, and the UTF-8 LLMNR name (tshark's
#    oracle) is shown with its bytes escaped, never as '?'.
#
# env: FL_BIN, FL_SRC.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
: "${FL_BIN:?}" "${FL_SRC:?}"
for t in tshark jq python3; do
    command -v "$t" >/dev/null || { echo "SKIP: no $t"; exit 0; }
done
work=$(mktemp -d /tmp/fl-drill-XXXXXX)
trap 'rm -rf "$work"' EXIT
demo=$FL_SRC/pcaps/demo/cloudflare-outage.pcap
kx=$FL_SRC/pcaps/real/1kxun.pcap

# ---- demo: who failed -------------------------------------------------------
"$FL_BIN" replay --quiet --json --report "$work/demo.html" --events "$work/ev.jsonl" "$demo" \
    >"$work/demo.json" || fail "replay demo"
tshark -r "$demo" -T fields -E separator=/t -e frame.time_epoch -e ip.src -e ipv6.src \
    -e ip.dst -e ipv6.dst -e tcp.srcport -e udp.srcport -e tcp.dstport -e udp.dstport \
    -e tcp.flags.reset -e http.response.code >"$work/frames.tsv" 2>/dev/null || fail "tshark"
python3 - "$work/demo.json" "$work/ev.jsonl" "$work/frames.tsv" <<'PY' || fail "demo drill-down"
import json, sys, collections
doc = json.load(open(sys.argv[1]))
events = [json.loads(l) for l in open(sys.argv[2]) if '"type":"failure"' in l]
frames = []
tuples = set()
for line in open(sys.argv[3]):
    f = line.rstrip("\n").split("\t")
    t, s4, s6, d4, d6, tsp, usp, tdp, udp, rst, code = f + [""] * (11 - len(f))
    src, dst = s4 or s6, d4 or d6
    sp, dp = tsp or usp, tdp or udp
    frames.append((float(t), src, sp, dst, dp, rst in ("1", "True"), code))
    tuples.add((src, sp, dst, dp))
alerts = [a for a in doc["alerts"] if a["scope"] == "provider"]
assert alerts, "no provider alert"
checked = 0
for a in alerts:
    w = a["failing"]
    assert not w["partial"] and not w["pseudonyms"], w
    t0, t1 = a["onset_at"], a["resolved_at"] or 1e18
    mine = [e for e in events if e["provider"] == a["provider"] and t0 <= e["ts"] < t1]
    assert w["failures_kept"] == len(mine), (w["failures_kept"], len(mine))
    by_client = collections.Counter(e["client"] for e in mine)
    by_server = collections.Counter(e["server"] for e in mine if e["server"])
    assert w["failing_clients"] == len(by_client), (w["failing_clients"], len(by_client))
    for c in w["top_clients"]:
        assert by_client[c["client"]] == c["failures"], c
    assert [c["failures"] for c in w["top_clients"]] == sorted(by_client.values(), reverse=True)[:5]
    for s in w["top_servers"]:
        assert by_server[s["server"]] == s["failures"], s
    assert len(w["sample"]) == min(10, len(mine))
    for s in w["sample"]:
        key = (s["client"], str(s["client_port"]), s["server"], str(s["server_port"]))
        assert key in tuples, ("not in the capture", s)
        back = (s["server"], str(s["server_port"]), s["client"], str(s["client_port"]))
        at = [fr for fr in frames if abs(fr[0] - s["ts"]) < 1e-5 and fr[1:5] == back]
        if s["signal"] in ("tcp_resets", "tcp_refused"):
            assert any(fr[5] for fr in at), ("no server RST at that time", s)
        if s["signal"] == "http_5xx":
            # counted at the status line's segment; tshark names the code
            # on the segment that completes the response headers
            later = [fr for fr in frames if 0 <= fr[0] - s["ts"] < 1 and fr[1:5] == back]
            assert any(fr[6].startswith("5") for fr in later), ("no 5xx then", s)
        checked += 1
print(f"demo: {len(alerts)} alert(s), {checked} sampled connections found by tshark")
PY
grep -q '<h2>Who failed</h2>' "$work/demo.html" || fail "no 'Who failed' block"
top=$(jq -r '.alerts[0].failing.top_clients[0].client' "$work/demo.json")
grep -q "<td class=\"name\">$top</td>" "$work/demo.html" || fail "top client $top not in the HTML"
[ "$(grep -o '<table class="sample">' "$work/demo.html" | wc -l)" -ge 1 ] || fail "no sample table"

# ---- privacy: pseudonyms, no client address --------------------------------
head -c 32 /dev/urandom >"$work/key"
"$FL_BIN" replay --quiet --json --report "$work/priv.html" \
    --set "client_key_file=$work/key" "$demo" >"$work/priv.json" || fail "replay with a key"
jq -e '.alerts[0].failing.pseudonyms == true and
       ([.alerts[0].failing.top_clients[].client, .alerts[0].failing.sample[].client]
        | all(startswith("c:")))' "$work/priv.json" >/dev/null || fail "clients not pseudonymous"
if grep -oE '10\.1\.0\.[0-9]+' "$work/priv.html" | head -1 | grep -q .; then
    fail "a client address is in the report despite the key"
fi
grep -q 'clients (pseudonyms)' "$work/priv.html" || fail "HTML does not say pseudonyms"

# ---- 1kxun: years apart, odd names ------------------------------------------
"$FL_BIN" replay --quiet --json --report "$work/kx.html" "$kx" >"$work/kx.json" || fail "replay 1kxun"
hdr=$(grep -o '<header class="top">.*</header>' "$work/kx.html")
first=$(tshark -r "$kx" -c 1 -T fields -e frame.time_epoch 2>/dev/null)
last=$(tshark -r "$kx" -T fields -e frame.time_epoch 2>/dev/null | sort -n | tail -1)
for t in "$first" "$last"; do
    d=$(date -u -d "@${t%.*}" +%F)
    grep -q "$d" <<<"$hdr" || fail "header '$hdr' lacks $d"
done
grep -q 'The capture is cut into 2 parts' "$work/kx.html" || fail "no parts sentence"
np=$(jq '[.providers[]] | length' "$work/kx.json")
[ "$(grep -o 'Part 2 of 2' "$work/kx.html" | wc -l)" -eq "$np" ] ||
    fail "not one second-part chart per provider ($np)"
# every services row: failures above attempts (if any) are explained, no ratio > 100 %
python3 - "$work/kx.html" <<'PY' || fail "services rows"
import re, sys
html = open(sys.argv[1]).read()
rows = re.findall(r'<tr><td class="name">([^<]*)</td><td class="n">([\d,]+)</td>'
                  r'<td class="n">([\d,]+)</td><td class="n">([\d,]+)</td><td class="n">([^<]*)</td></tr>', html)
assert rows, "no services rows"
more = 0
for name, att, fails, ff, ratio in rows:
    a, f = int(att.replace(",", "")), int(fails.replace(",", ""))
    if f > a:
        more += 1
        assert ratio.startswith("several per flow"), (name, att, fails, ratio)
    m = re.match(r"([\d.]+)%", ratio)
    assert not m or float(m.group(1)) <= 100, (name, ratio)
assert more == 0 or "more failures than attempts" in html
# 1kxun's failures are 4 HTTP 5xx on 2 kept-alive connections (tshark: 2
# TCP streams, 2 each), one per service: each row 1 failure of 1 attempt,
# as `any` counts a connection's 5xx once (they showed 2 of 1 before)
failing = [(n, a, f, ff) for n, a, f, ff, _ in rows if f != "0"]
assert len(failing) == 2 and all((a, f, ff) == ("1", "1", "1") for _, a, f, ff in failing), failing
print(f"1kxun: {len(rows)} service rows, {more} with more failures than attempts, "
      f"the 5xx services {failing}")
PY
# the LLMNR name tshark reads as UTF-8: its bytes, escaped, never '?'
name=$(tshark -r "$kx" -Y llmnr -T fields -e dns.qry.name 2>/dev/null | grep -P '[^\x00-\x7f]' | head -1)
[ -n "$name" ] || fail "tshark found no non-ASCII LLMNR name"
esc=$(printf '%s' "$name" | od -An -tu1 | tr -s ' \n' ' ' | sed 's/^ //; s/ $//; s/ /\\\\/g; s/^/\\\\/')
grep -qF "$(printf '%s' "$esc" | sed 's/\\\\/\\/g')" "$work/kx.html" || fail "escaped name $esc not in the HTML"
jq -e --arg n "$(printf '%s' "$esc" | sed 's/\\\\/\\/g')" '[.providers[].services[].name] | index($n)' \
    "$work/kx.json" >/dev/null || fail "escaped name not in the JSON"
if grep -q '????' "$work/kx.html" "$work/kx.json"; then fail "a name of '?' is left"; fi
echo "PASS: drill-down matches tshark and --events; 1kxun dated, cut into parts, names escaped"

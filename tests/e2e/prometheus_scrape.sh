#!/usr/bin/env bash
# tests/e2e/prometheus_scrape.sh - Debian's real prometheus scrapes
# `faultline replay --speed 40 --metrics 127.0.0.1:0` of the demo capture;
# through Prometheus's HTTP API (/api/v1/query) every per-provider signal
# counter and the packet count must equal faultline's own JSON document.
# Also: the exposition passes `promtool check metrics`, the example alert
# rules pass `promtool check rules` and their unit tests, and every query of
# the Grafana dashboard is accepted by this Prometheus.
source "$(dirname "$0")/lib.sh"

PROM=$(command -v prometheus || true)
[ -n "$PROM" ] || fail "prometheus is not installed (deploy/install-deps.sh)"
command -v promtool >/dev/null || fail "promtool is not installed (package prometheus)"
command -v curl >/dev/null || fail "curl is not installed (deploy/install-deps.sh)"

free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 40000))
        ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return 0; }
    done
    fail "no free port"
}

# ---- the example rules ------------------------------------------------------
rules=$FL_SRC/deploy/prometheus
promtool check rules "$rules/faultline_rules.yml" >"$E2E_TMP/rules.out" 2>&1 ||
    { cat "$E2E_TMP/rules.out" >&2; fail "promtool check rules"; }
(cd "$rules" && promtool test rules faultline_rules.test.yml) >"$E2E_TMP/rtest.out" 2>&1 ||
    { cat "$E2E_TMP/rtest.out" >&2; fail "promtool test rules"; }
pass "alert rules: promtool check rules and their unit tests"

# ---- faultline serving /metrics while it replays ----------------------------
pcap=$FL_SRC/pcaps/demo/cloudflare-outage.pcap
redis_start
"$FL_BIN" replay --speed 40 --metrics 127.0.0.1:0 --metrics-linger 120 --json \
    --redis "$REDIS_URL" --sensor prom-test "$pcap" \
    >"$E2E_TMP/doc.json" 2>"$E2E_TMP/fl.err" &
fl_pid=$!
e2e_track "$fl_pid"
fl_port=
for _ in $(seq 100); do
    fl_port=$(sed -n 's|.*metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$E2E_TMP/fl.err")
    [ -n "$fl_port" ] && break
    kill -0 "$fl_pid" 2>/dev/null || break
    e2e_sleep 0.05
done
[ -n "$fl_port" ] || { cat "$E2E_TMP/fl.err" >&2; fail "faultline did not say where it serves metrics"; }
pass "faultline serves metrics on 127.0.0.1:$fl_port"

curl -fsS "http://127.0.0.1:$fl_port/metrics" >"$E2E_TMP/scrape.txt" || fail "GET /metrics"
promtool check metrics <"$E2E_TMP/scrape.txt" >"$E2E_TMP/lint.out" 2>&1 ||
    { cat "$E2E_TMP/lint.out" >&2; fail "promtool check metrics"; }
pass "exposition passes promtool check metrics ($(grep -vc '^#' "$E2E_TMP/scrape.txt") samples)"

# ---- Prometheus scraping it -------------------------------------------------
prom_port=$(free_port)
mkdir -p "$E2E_TMP/prom"
cat >"$E2E_TMP/prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: faultline
    static_configs:
      - targets: ['127.0.0.1:$fl_port']
YML
setpriv --pdeathsig TERM "$PROM" --config.file="$E2E_TMP/prom/prometheus.yml" \
    --storage.tsdb.path="$E2E_TMP/prom/data" --web.listen-address="127.0.0.1:$prom_port" \
    --log.level=warn >"$E2E_TMP/prom/log" 2>&1 &
e2e_track $!
API=http://127.0.0.1:$prom_port/api/v1
for _ in $(seq 200); do
    curl -fsS "$API/status/buildinfo" >/dev/null 2>&1 && break
    e2e_sleep 0.1
done
curl -fsS "$API/status/buildinfo" >/dev/null || { cat "$E2E_TMP/prom/log" >&2; fail "prometheus did not start"; }

# An instant query's vector as "labels value" lines.
query() {
    curl -fsS --get --data-urlencode "query=$1" "$API/query" |
        jq -r 'if .status != "success" then error(.error) else .data.result[] |
               "\(.metric.provider // "")/\(.metric.signal // "") \(.value[1])" end'
}

# The replay ends (its JSON document is out); Prometheus must then hold the
# final values.
for _ in $(seq 600); do
    [ -s "$E2E_TMP/doc.json" ] && jq -e . "$E2E_TMP/doc.json" >/dev/null 2>&1 && break
    kill -0 "$fl_pid" 2>/dev/null || break
    e2e_sleep 0.1
done
jq -e . "$E2E_TMP/doc.json" >/dev/null 2>&1 || { cat "$E2E_TMP/fl.err" >&2; fail "no JSON document from the replay"; }
packets=$(jq '.source.packets' "$E2E_TMP/doc.json")
got=
for _ in $(seq 150); do
    got=$(query 'faultline_packets_total{job="faultline"}' | awk '{print $2}')
    [ "$got" = "$packets" ] && break
    e2e_sleep 0.2
done
[ "$got" = "$packets" ] || fail "Prometheus has faultline_packets_total $got, the document $packets"
pass "Prometheus: faultline_packets_total = $packets, as the JSON document"

# Every provider of the document and every counter the metrics carry (the
# document leaves zeros out), against the scraped counters.
query 'faultline_signal_events_total{job="faultline"}' | sort >"$E2E_TMP/got"
jq -r '.providers[].provider' "$E2E_TMP/doc.json" | sort >"$E2E_TMP/prov.doc"
sed 's|/.*||' "$E2E_TMP/got" | sort -u >"$E2E_TMP/prov.prom"
diff "$E2E_TMP/prov.doc" "$E2E_TMP/prov.prom" >&2 || fail "providers differ between the document and Prometheus"
jq -r --rawfile got "$E2E_TMP/got" '
    (.providers | map({key: .provider, value: .counters}) | from_entries) as $doc
    | $got | split("\n")[] | select(length > 0) | split(" ")[0] | split("/") as [$p, $c]
    | "\($p)/\($c) \($doc[$p][$c] // 0)"' "$E2E_TMP/doc.json" | sort >"$E2E_TMP/want"
diff "$E2E_TMP/want" "$E2E_TMP/got" >"$E2E_TMP/diff" ||
    { head -20 "$E2E_TMP/diff" >&2; fail "signal counters differ between Prometheus and the JSON document"; }
n=$(wc -l <"$E2E_TMP/want")
[ "$n" -ge $((19 * $(wc -l <"$E2E_TMP/prov.doc"))) ] || fail "only $n counters compared"
cf5xx=$(grep '^Cloudflare/http_5xx ' "$E2E_TMP/got" | awk '{print $2}')
[ "${cf5xx:-0}" -gt 0 ] || fail "no Cloudflare http_5xx in Prometheus"
pass "Prometheus: all $n per-provider signal counters equal the JSON document (Cloudflare http_5xx $cf5xx)"

alerts=$(jq '[.alerts[]] | length' "$E2E_TMP/doc.json")
got=$(query 'faultline_alerts_raised_total{job="faultline"}' | awk '{print $2}')
[ "$got" = "$alerts" ] || fail "faultline_alerts_raised_total $got, the document has $alerts alerts"
pass "Prometheus: faultline_alerts_raised_total = $alerts"
got=$(query 'faultline_redis_up{job="faultline"}' | awk '{print $2}')
[ "$got" = 1 ] || fail "faultline_redis_up $got with a reachable Redis"
got=$(query 'faultline_build_info{job="faultline",sensor="prom-test"}' | awk '{print $2}')
[ "$got" = 1 ] || fail "no faultline_build_info for sensor prom-test"
pass "Prometheus: faultline_redis_up 1, build_info with the sensor name"

# ---- the dashboard's queries are valid PromQL ---------------------------------
bad=0
while IFS= read -r expr; do
    q=${expr//\$__rate_interval/1m}
    q=${q//\$instance/.*}
    if ! curl -fsS --get --data-urlencode "query=$q" "$API/query" | jq -e '.status == "success"' >/dev/null; then
        echo "dashboard query rejected: $expr" >&2
        bad=$((bad + 1))
    fi
done < <(jq -r '.panels[].targets[].expr' "$FL_SRC/deploy/prometheus/faultline_dashboard.json")
[ "$bad" = 0 ] || fail "$bad dashboard queries rejected"
# And each metric the dashboard names is one faultline serves.
for m in $(jq -r '.panels[].targets[].expr' "$FL_SRC/deploy/prometheus/faultline_dashboard.json" |
           grep -o 'faultline_[a-z_]*' | sort -u); do
    grep -q "^# TYPE $m " "$E2E_TMP/scrape.txt" || fail "the dashboard names $m, faultline serves no such metric"
done
pass "Grafana dashboard: every query accepted by Prometheus, every metric served"

kill -TERM "$fl_pid"
wait "$fl_pid" || fail "faultline exited $? on SIGTERM during --metrics-linger"
pass "faultline stops at SIGTERM while lingering"
done_all

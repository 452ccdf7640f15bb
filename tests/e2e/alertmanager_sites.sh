#!/usr/bin/env bash
# tests/e2e/alertmanager_sites.sh - the Alertmanager forwarder against
# Debian's real prometheus-alertmanager on loopback: raised and resolved
# alerts of two sensors (site-a, site-b) on the same provider, in one Redis
# stream, forwarded by deploy/alertmanager_forwarder.sh; Alertmanager's API
# (/api/v2/alerts) must then hold site-b's alert active after site-a's
# resolve, with sensor/instance labels and human numbers.
source "$(dirname "$0")/lib.sh"

AM=$(command -v prometheus-alertmanager || command -v alertmanager || true)
[ -n "$AM" ] || fail "prometheus-alertmanager is not installed (deploy/install-deps.sh)"
command -v curl >/dev/null || fail "curl is not installed (deploy/install-deps.sh)"

# A loopback port nothing listens on (a race with another process is
# possible; the start below fails loudly then).
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 40000))
        ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return 0; }
    done
    fail "no free port"
}

redis_start
port=$(free_port)
mkdir -p "$E2E_TMP/am"
cat >"$E2E_TMP/am/am.yml" <<YML
route:
  receiver: blackhole
  group_by: [alertname, provider, sensor]
receivers:
  - name: blackhole
YML
# --cluster.listen-address= : no gossip port, loopback only.
setpriv --pdeathsig TERM "$AM" --config.file="$E2E_TMP/am/am.yml" \
    --storage.path="$E2E_TMP/am/data" --web.listen-address="127.0.0.1:$port" \
    --cluster.listen-address= --log.level=warn >"$E2E_TMP/am/log" 2>&1 &
e2e_track $!
AM_API=http://127.0.0.1:$port/api/v2
for _ in $(seq 100); do
    curl -fsS "$AM_API/status" >/dev/null 2>&1 && break
    e2e_sleep 0.1
done
curl -fsS "$AM_API/status" >/dev/null || { cat "$E2E_TMP/am/log" >&2; fail "alertmanager did not start"; }
pass "prometheus-alertmanager $("$AM" --version 2>&1 | awk 'NR==1 {print $3}') on 127.0.0.1:$port"

# Events as faultline writes them to <prefix>:alerts, one per sensor. Times
# are recent (Alertmanager drops alerts resolved long ago from its view
# anyway, but keeps them until resolve_timeout otherwise).
now=$(date +%s)
xadd_event() { # SENSOR EVENT RESOLVED_AT RATIO
    local resolved=$3
    rcli XADD fl:alerts '*' id 1 sensor "$1" provider Cloudflare scope provider \
        signals '["tls","http","any"]' first_signal http onset_at "$((now - 300)).0" \
        raised_at "$((now - 280)).0" resolved_at "$resolved" ratio "$4" \
        peak_ratio 0.65500000000000003 baseline_ratio 0.016 failures 348 attempts 1178 \
        clients 31 client_share 1.0 event "$2" >/dev/null
}
xadd_event site-a raised null 0.32500000000000001
xadd_event site-b raised null 0.32500000000000001

fwd() {
    FL_REDIS_URL=$REDIS_URL FL_START=begin AM_URL="$AM_API/alerts" STATE_DIR=$E2E_TMP/fwd \
        "$FL_SRC/deploy/alertmanager_forwarder.sh" --once 2>>"$E2E_TMP/fwd.log"
}
# Active Cloudflare alerts in Alertmanager as "sensor state" lines, sorted.
am_active() {
    curl -fsS "$AM_API/alerts?active=true&silenced=false&inhibited=false" |
        jq -r '[.[] | select(.labels.provider == "Cloudflare" and .status.state == "active")
                | "\(.labels.sensor) \(.labels.instance) \(.annotations.ratio) \(.annotations.peak_ratio)"]
               | sort | .[]'
}

fwd || { cat "$E2E_TMP/fwd.log" >&2; fail "forwarder failed"; }
got=$(am_active)
want=$'site-a site-a 0.325 0.655\nsite-b site-b 0.325 0.655'
[ "$got" = "$want" ] || fail "after two raises Alertmanager holds: '$got', want '$want'"
pass "two sensors' raises are two Alertmanager alerts (sensor/instance labels, ratio 0.325)"

# site-a resolves; site-b's outage goes on.
xadd_event site-a resolved "$((now - 10)).0" 0.017000000000000001
fwd || { cat "$E2E_TMP/fwd.log" >&2; fail "forwarder failed"; }
got=$(am_active)
[ "$got" = "site-b site-b 0.325 0.655" ] ||
    fail "after site-a's resolve Alertmanager holds: '$got' (site-b's must stay active)"
pass "site-a's resolve leaves site-b's alert active"

# The resolve reached Alertmanager as site-a's own alert, ended.
ends=$(curl -fsS "$AM_API/alerts" | jq -r '[.[] | select(.labels.sensor == "site-a")] | length')
[ "$ends" = 0 ] || fail "site-a's alert still listed ($ends) after its resolve"
pass "site-a's alert is gone from the active view"

xadd_event site-b resolved "$((now - 5)).0" 0.01
fwd || { cat "$E2E_TMP/fwd.log" >&2; fail "forwarder failed"; }
[ -z "$(am_active)" ] || fail "after both resolves: $(am_active)"
[ -z "$(ls "$E2E_TMP/fwd/active")" ] || fail "forwarder still holds $(ls "$E2E_TMP/fwd/active")"
pass "site-b's resolve ends the last alert; the forwarder holds nothing"

# ---- the same with faultline itself: two sensors replay into one Redis ------
# site-a replays the demo (Cloudflare raised, then resolved); site-b a
# generated capture that ends during the outage (raised, never resolved).
rcli DEL fl:alerts >/dev/null
rm -rf "$E2E_TMP/fwd"
"$FL_GEN" --seed 3 --scenario cloudflare-5xx --duration 420 --onset 200 --end 400 \
    --out "$E2E_TMP/b.pcap" --truth "$E2E_TMP/b.tsv" >/dev/null || fail "flgen"
"$FL_BIN" replay --quiet --redis "$REDIS_URL" --sensor site-b --set site=lyon "$E2E_TMP/b.pcap" >/dev/null ||
    fail "site-b replay"
"$FL_BIN" replay --quiet --redis "$REDIS_URL" --sensor site-a --set site=paris \
    "$FL_SRC/pcaps/demo/cloudflare-outage.pcap" >/dev/null || fail "site-a replay"
events=$(rcli --json XRANGE fl:alerts - + 2>/dev/null |
         jq -r '.[] | .[1] | [range(0; length; 2) as $i | {(.[$i]): .[$i + 1]}] | add | "\(.sensor) \(.site) \(.event)"' |
         tr '\n' ',')
[ "$events" = "site-b lyon raised,site-a paris raised,site-a paris resolved," ] ||
    fail "stream events (sensor site event): $events"
# Per-sensor state in Redis.
[ "$(rcli HGET fl:state:site-b Cloudflare)/$(rcli HGET fl:state:site-a Cloudflare)" = raised/resolved ] ||
    fail "fl:state:site-b / fl:state:site-a: $(rcli HGET fl:state:site-b Cloudflare)/$(rcli HGET fl:state:site-a Cloudflare)"
pass "two replays: events carry sensor and site; fl:state:site-b raised, fl:state:site-a resolved"

fwd || { cat "$E2E_TMP/fwd.log" >&2; fail "forwarder failed"; }
got=$(curl -fsS "$AM_API/alerts?active=true" |
      jq -r '[.[] | select(.labels.provider == "Cloudflare") | "\(.labels.sensor) \(.labels.site) \(.status.state)"] | sort | join(",")')
[ "$got" = "site-b lyon active" ] || fail "Alertmanager after both replays: '$got', want site-b's alone active"
st=$("$FL_BIN" status --json --redis "$REDIS_URL" | jq -r '[.providers[] | select(.provider == "Cloudflare") | .state][0]')
[ "$st" = raised ] || fail "faultline status: Cloudflare state '$st', want raised (site-b holds it)"
pass "site-a's real resolve leaves site-b's alert active in Alertmanager; status says raised"
done_all

#!/usr/bin/env bash
# tests/e2e/deploy_files.sh - the deployment files are valid and agree with
# the binary. Quick (seconds); parts whose tool is missing are skipped and
# say so.
#   - every script parses (bash -n); ours pass shellcheck when it is installed
#   - faultline.conf.example names exactly the settings of `faultline config`,
#     in the same sections, and loads to the values it states
#   - the systemd units pass systemd-analyze verify (when installed)
#   - docker-compose.yml parses (python3 + PyYAML) with the sensor on the
#     host network; the Dockerfile's runtime packages are install-deps.sh's
#   - the Alertmanager forwarder, against a redis-server of our own: stream
#     entries in faultline's schema become the documented Alertmanager
#     payloads, the last id is kept, and a restart sends nothing again
# Env: FL_BIN (the faultline binary), FL_SRC (source tree); set by ctest.
#   FL_DEPLOY_INSTALL=1 also runs deploy/install.sh into a scratch prefix
#   (a Release build: slow, off by default).
set -euo pipefail

SRC=${FL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${FL_BIN:-$SRC/build/faultline}
T=$(mktemp -d)
redis_pid=
cleanup() {
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
skip() { echo "skip $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }

ours=(deploy/install.sh deploy/alertmanager_forwarder.sh tests/bench/bench.sh tests/e2e/deploy_files.sh)

# ---- scripts parse ----------------------------------------------------------
for s in "$SRC"/deploy/*.sh "$SRC"/tests/bench/*.sh "$SRC"/tests/e2e/deploy_files.sh; do
  if bash -n "$s"; then ok "bash -n ${s#"$SRC"/}"; else bad "bash -n ${s#"$SRC"/}"; fi
done
if command -v shellcheck >/dev/null; then
  for s in "${ours[@]}"; do
    if (cd "$SRC" && shellcheck "$s"); then ok "shellcheck $s"; else bad "shellcheck $s"; fi
  done
else
  skip "shellcheck: not installed"
fi

# ---- the example config -------------------------------------------------------
ex=$SRC/deploy/faultline.conf.example
# "section.name = value" of every setting line, comments dropped
settings() { awk '/^\[/ { gsub(/[][]/, ""); s = $0; next }
                  /^[ \t]*[#;]/ || !/=/ { next }
                  { n = $0; sub(/[ \t]*=.*/, "", n); v = $0; sub(/^[^=]*=[ \t]*/, "", v)
                    sub(/[ \t]+$/, "", v); print s "." n " = " v }' "$@"; }
"$BIN" config >"$T/defaults.ini"
if ! "$BIN" config --config "$ex" >"$T/loaded.ini" 2>"$T/err"; then
  bad "faultline config --config faultline.conf.example: $(cat "$T/err")"
else
  ok "faultline config --config faultline.conf.example loads"
fi
settings "$ex" >"$T/ex.set"
settings "$T/defaults.ini" >"$T/def.set"
settings "$T/loaded.ini" >"$T/loaded.set"
if diff <(sed 's/ = .*//' "$T/ex.set") <(sed 's/ = .*//' "$T/def.set") >"$T/d"; then
  ok "example names all $(wc -l <"$T/ex.set") settings, same sections and order"
else
  bad "example and 'faultline config' list different settings:"; cat "$T/d"
fi
# Each value the example states is the effective value; an empty data file
# path means "the installed one" and is resolved, so it is only non-empty.
while IFS= read -r line; do
  key=${line%% = *} val=${line#* = }
  got=$(grep -m1 "^$key = " "$T/loaded.set" || true)
  got=${got#* = }
  case "$key" in
    analysis.ranges_file|analysis.rules_file)
      if [ -z "$val" ] && [ -n "$got" ]; then continue; fi ;;
  esac
  [ "$got" = "$val" ] || bad "$key: example says '$val', faultline loads '$got'"
done <"$T/ex.set"
ok "example values load as stated"
# Only interface and redis_url differ from the defaults (the file says so).
changed=$(diff <(grep -v 'ranges_file\|rules_file' "$T/ex.set") \
               <(grep -v 'ranges_file\|rules_file' "$T/def.set") | grep '^<' | sed 's/^< //; s/ = .*//' | tr '\n' ' ' || true)
if [ "$changed" = "capture.interface redis.redis_url " ]; then
  ok "example differs from defaults in interface and redis_url only"
else
  bad "example differs from defaults in: $changed"
fi

# ---- systemd units ---------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
  for u in faultline.service faultline-alertmanager.service; do
    sed -e "s#/usr/local/bin/faultline#$BIN#" \
        -e "s#/usr/local/share/faultline/alertmanager_forwarder.sh#$SRC/deploy/alertmanager_forwarder.sh#" \
        "$SRC/deploy/$u" >"$T/$u"
    # It exits 0 on unknown keys and bad values ("ignoring"): any output fails.
    if systemd-analyze verify "$T/$u" >"$T/verify" 2>&1 && [ ! -s "$T/verify" ]; then
      ok "systemd-analyze verify $u (no warnings)"
    else bad "systemd-analyze verify $u: $(cat "$T/verify")"; fi
  done
  check "faultline.service ExecStart" grep -q \
    '^ExecStart=/usr/local/bin/faultline capture --config /etc/faultline/faultline.conf$' \
    "$SRC/deploy/faultline.service"
else
  skip "systemd-analyze: not installed"
fi

# ---- docker ------------------------------------------------------------------------
if command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null; then
  if python3 - "$SRC/deploy/docker-compose.yml" <<'EOF'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
s = d["services"]
assert set(s) == {"redis", "sensor"}, s.keys()
for name in s:
    assert s[name]["network_mode"] == "host", name
assert {"NET_RAW", "NET_ADMIN"} <= set(s["sensor"]["cap_add"])
assert s["sensor"]["build"]["dockerfile"] == "deploy/Dockerfile"
assert "capture" in s["sensor"]["command"]
EOF
  then ok "docker-compose.yml parses: redis + sensor, host network, NET_RAW/NET_ADMIN"
  else bad "docker-compose.yml"; fi
else
  skip "docker-compose.yml: no python3 with PyYAML to parse it"
fi
runtime=$(sed -n 's/^runtime=(\(.*\))$/\1/p' "$SRC/deploy/install-deps.sh")
img=$(awk '/^FROM debian:12-slim$/ { last = 1 } last && /libpcap0.8/ { sub(/[ \\]+$/, ""); print; exit }' "$SRC/deploy/Dockerfile")
missing=
for p in $img; do
  case " $runtime " in *" $p "*) ;; *) missing+="$p " ;; esac
done
if [ -n "$img" ] && [ -z "$missing" ]; then ok "Dockerfile runtime packages are install-deps.sh --runtime ones"
else bad "Dockerfile runtime packages not in install-deps.sh: '${missing:-none found}'"; fi

# ---- the Alertmanager forwarder --------------------------------------------------------
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null \
   && command -v jq >/dev/null && command -v curl >/dev/null; then
  sock=$T/redis.sock
  redis-server --port 0 --unixsocket "$sock" --dir "$T" --save '' --appendonly no \
               --logfile "$T/redis.log" &
  redis_pid=$!
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  r() { redis-cli -s "$sock" "$@"; }
  # Two events as faultline's Redis output writes them (fl_alert_event_make
  # in analysis/output/report_json.c: the alert's fields plus 'event'), at
  # explicit stream ids.
  r XADD fl:alerts 1000-0 id 1 provider Cloudflare scope provider \
    signals '["tls","http","any"]' first_signal http onset_at 1760951100.0 \
    raised_at 1760951120.0 resolved_at null ratio 0.28 peak_ratio 0.28 \
    baseline_ratio 0.0063 failures 102 attempts 453 clients 25 client_share 1.0 \
    top_services '[{"name":"www.cloudflare.com","flows":234,"failures":5}]' event raised >/dev/null
  r XADD fl:alerts 2000-0 id 1 provider Cloudflare scope provider \
    signals '["tls","http","any"]' first_signal http onset_at 1760951100.0 \
    raised_at 1760951120.0 resolved_at 1760951480.0 duration 360.0 ratio 0.017 \
    peak_ratio 0.69 baseline_ratio 0.0063 failures 1110 attempts 3152 clients 48 \
    client_share 1.0 top_services '[]' event resolved >/dev/null
  fwd() { FL_REDIS_URL="unix://$sock" AM_URL=- STATE_DIR=$T/fwd GENERATOR_URL=http://sensor1/faultline \
          "$SRC/deploy/alertmanager_forwarder.sh" "$@" 2>>"$T/fwd.log"; }
  FL_START=begin fwd --once >"$T/out1"
  # 2025-10-20T09:05:00Z is 1760951100 (onset_at), 09:11:20Z is 1760951480.
  expect1='[{"alertname":"ProviderOutage","provider":"Cloudflare","scope":"provider","severity":"critical"},"2025-10-20T09:05:00Z",null,"http://sensor1/faultline/1000-0","Cloudflare outage: http failures 28% (baseline 0.6%)"]'
  expect2='[{"alertname":"ProviderOutage","provider":"Cloudflare","scope":"provider","severity":"critical"},"2025-10-20T09:05:00Z","2025-10-20T09:11:20Z","http://sensor1/faultline/2000-0","Cloudflare outage: http failures 69% (baseline 0.6%)"]'
  got=$(jq -c '.[0] | [.labels, .startsAt, .endsAt, .generatorURL, .annotations.summary]' "$T/out1" 2>/dev/null || true)
  if [ "$(jq -s length "$T/out1" 2>/dev/null)" = 2 ] && [ "$got" = "$expect1"$'\n'"$expect2" ]; then
    ok "forwarder: raised and resolved events become Alertmanager alerts"
  else
    bad "forwarder payloads:"; cat "$T/out1" "$T/fwd.log"
  fi
  check "forwarder: last id 2000-0 kept, no active alert after the resolve" \
    test "$(cat "$T/fwd/last-id" 2>/dev/null)/$(ls "$T/fwd/active")" = 2000-0/
  fwd --once >"$T/out2"
  check "forwarder: a restart sends nothing again" test ! -s "$T/out2"
  # A raised event stays active and is re-sent at the next start.
  r XADD fl:alerts 3000-0 id 2 provider AWS scope provider signals '["dns"]' first_signal dns \
    onset_at 1760952000.0 raised_at 1760952020.0 resolved_at null ratio 0.5 peak_ratio 0.5 \
    baseline_ratio 0.01 failures 40 attempts 80 clients 9 client_share 0.5 event raised >/dev/null
  fwd --once >"$T/out3"
  fwd --once >"$T/out4"
  if [ "$(jq -c '.[0].labels.provider' "$T/out3")" = '"AWS"' ] && [ -f "$T/fwd/active/AWS_provider.json" ] \
     && [ "$(jq -c '[.[] | .labels.provider, .endsAt]' "$T/out4")" = '["AWS",null]' ]; then
    ok "forwarder: an open alert is kept and re-sent (Alertmanager's resolve_timeout)"
  else
    bad "forwarder active alerts: $(cat "$T/out3" "$T/out4")"
  fi
  # An event with a sensor, a site and float noise, no GENERATOR_URL: labels
  # say who saw it, numbers read as a human writes them, no generatorURL.
  r XADD fl:alerts 4000-0 id 3 sensor site-a site paris provider Fastly scope provider \
    signals '["connect"]' first_signal connect onset_at 1760953000.0 raised_at 1760953020.0 \
    resolved_at null ratio 0.32500000000000001 peak_ratio 0.32500000000000001 \
    baseline_ratio 0.0062999999999999999 failures 13.0 attempts 40 clients 7 \
    client_share 0.33333333333333331 event raised >/dev/null
  FL_REDIS_URL="unix://$sock" AM_URL=- STATE_DIR=$T/fwd \
    "$SRC/deploy/alertmanager_forwarder.sh" --once >"$T/out5" 2>>"$T/fwd.log"
  got=$(jq -c '.[] | select(.labels.provider == "Fastly") | [.labels.sensor, .labels.instance, .labels.site, has("generatorURL"),
               .annotations.ratio, .annotations.baseline_ratio, .annotations.failures,
               .annotations.ratio_definition, .annotations.summary]' "$T/out5" 2>/dev/null || true)
  want='["site-a","site-a","paris",false,"0.325","0.0063","13","connection failures / TCP attempts","Fastly outage: connect failures 32.5% (baseline 0.6%) seen by site-a"]'
  if [ "$got" = "$want" ] && [ -f "$T/fwd/active/site-a_Fastly_provider.json" ]; then
    ok "forwarder: sensor/instance/site labels, human numbers, generatorURL only when configured"
  else
    bad "forwarder labels and numbers: got $got"; cat "$T/out5"
  fi
else
  skip "alertmanager_forwarder.sh: needs redis-server, redis-cli, jq and curl"
fi

# ---- install.sh into a scratch prefix (opt-in: it builds) ---------------------------
if [ "${FL_DEPLOY_INSTALL:-0}" = 1 ]; then
  p=$T/prefix
  if "$SRC/deploy/install.sh" --prefix "$p" --no-deps --no-system >"$T/inst.log" 2>&1 \
     && [ -x "$p/bin/faultline" ] && [ -f "$p/share/faultline/provider_ranges.tsv" ] \
     && [ -f "$p/etc/faultline/faultline.conf" ] \
     && "$p/bin/faultline" config | grep -qx "ranges_file = $p/share/faultline/provider_ranges.tsv"; then
    ok "install.sh --prefix: binary, data files, config; data dir compiled in"
  else
    bad "install.sh: $(tail -5 "$T/inst.log")"
  fi
else
  skip "install.sh (set FL_DEPLOY_INSTALL=1: builds Release)"
fi

echo "deploy_files: $fails failed"
[ $fails = 0 ]

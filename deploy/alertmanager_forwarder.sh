#!/usr/bin/env bash
# alertmanager_forwarder.sh - an example consumer of faultline's alert stream:
# reads the Redis stream fl:alerts (XREAD BLOCK through redis-cli) and POSTs
# every event to Prometheus Alertmanager's API, /api/v2/alerts, with curl and
# jq. No Python, no daemon library: one loop.
#
#   AM_URL=http://alertmanager:9093/api/v2/alerts \
#   FL_REDIS_URL=unix:///run/redis/redis-server.sock \
#   deploy/alertmanager_forwarder.sh
#
# Each event becomes one Alertmanager alert (a JSON array of one object):
#   labels       alertname=ProviderOutage, provider, scope (provider|local),
#                severity, and from the event sensor, instance (= sensor
#                unless the event names one) and site (when configured): two
#                sensors' alerts on one provider are two Alertmanager alerts,
#                and one sensor's resolve never ends the other's
#   annotations  summary, description, signals, first_signal,
#                ratio_definition (what the ratio divides: the first signal's
#                family, the same at raise and resolve), ratio (at this
#                event), peak_ratio, baseline_ratio, failures, attempts, clients;
#                numbers as a human writes them (0.325, not 0.32500000000000001)
#   startsAt     the outage onset (onset_at, packet time), RFC 3339
#   endsAt       resolved_at, on 'resolved' events only
#   generatorURL $GENERATOR_URL/<stream id>, only when GENERATOR_URL is set
#
# Alertmanager forgets an alert without endsAt after its resolve_timeout (5 m
# by default) unless it is sent again, as Prometheus does on every
# evaluation. So raised alerts are kept in $STATE_DIR/active/ and re-sent
# every $RESEND_S seconds until their 'resolved' event arrives.
#
# The last forwarded stream id is kept in $STATE_DIR/last-id, written only
# after Alertmanager accepted the event: a restart resumes after it, nothing
# is sent twice and nothing is skipped (a failed POST is retried, with
# backoff, before the next event). On a first start without that file it
# begins at the end of the stream ($FL_START=end), or at its beginning with
# FL_START=begin.
#
# Settings (environment):
#   FL_REDIS_URL  redis://[:password@]host[:port][/db] or
#                 unix:///path[?db=N][&password=X]   (default redis://127.0.0.1:6379)
#   FL_STREAM     stream key (default fl:alerts; <redis_prefix>:alerts)
#   AM_URL        Alertmanager endpoint (default http://127.0.0.1:9093/api/v2/alerts);
#                 '-' prints each payload on stdout instead of posting it
#   AM_CURL_OPTS  extra curl options, e.g. "--user am:secret" or "--cacert ca.pem"
#   STATE_DIR     default /var/lib/faultline-alertmanager (or $STATE_DIRECTORY
#                 under systemd's StateDirectory=)
#   SEVERITY_PROVIDER / SEVERITY_LOCAL   severity labels (default critical / critical)
#   RESEND_S      re-send interval of active alerts (default 60)
#   BLOCK_MS      XREAD BLOCK timeout (default 5000)
#   GENERATOR_URL base of generatorURL, e.g. https://grafana.example/d/faultline
#                 (the stream id is appended); unset: no generatorURL at all
# Options:
#   --once        forward what is in the stream now and exit (cron, tests)
set -euo pipefail

FL_REDIS_URL=${FL_REDIS_URL:-redis://127.0.0.1:6379}
FL_STREAM=${FL_STREAM:-fl:alerts}
FL_START=${FL_START:-end}
AM_URL=${AM_URL:-http://127.0.0.1:9093/api/v2/alerts}
AM_CURL_OPTS=${AM_CURL_OPTS:-}
STATE_DIR=${STATE_DIR:-${STATE_DIRECTORY:-/var/lib/faultline-alertmanager}}
SEVERITY_PROVIDER=${SEVERITY_PROVIDER:-critical}
SEVERITY_LOCAL=${SEVERITY_LOCAL:-critical}
RESEND_S=${RESEND_S:-60}
BLOCK_MS=${BLOCK_MS:-5000}
GENERATOR_URL=${GENERATOR_URL:-}

once=0
case "${1:-}" in
  --once) once=1 ;;
  "") ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--once]" >&2; exit 1 ;;
esac

for tool in redis-cli jq curl; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is missing (apt-get install redis-tools jq curl)" >&2; exit 2; }
done

log() { echo "faultline-alertmanager: $*" >&2; }

# ---- redis-cli connection arguments from the URL faultline uses ----------
redis_args=()
case "$FL_REDIS_URL" in
  unix://*)
    rest=${FL_REDIS_URL#unix://}
    path=${rest%%\?*}
    redis_args=(-s "$path")
    if [[ $rest == *\?* ]]; then
      IFS='&' read -r -a params <<<"${rest#*\?}"
      for p in "${params[@]}"; do
        case "$p" in
          db=*) redis_args+=(-n "${p#db=}") ;;
          password=*) export REDISCLI_AUTH="${p#password=}" ;;
          *) log "unknown parameter in FL_REDIS_URL: $p"; exit 1 ;;
        esac
      done
    fi
    ;;
  redis://*) redis_args=(-u "$FL_REDIS_URL") ;;
  *) log "FL_REDIS_URL must start with redis:// or unix://"; exit 1 ;;
esac

# RESP2 replies as JSON: stable shapes whatever the server's protocol.
rcli() { redis-cli "${redis_args[@]}" --no-auth-warning --json -2 "$@"; }

mkdir -p "$STATE_DIR/active"
last_file=$STATE_DIR/last-id

# Write a file so that a crash leaves either the old or the new content.
atomic_write() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  printf '%s\n' "$2" >"$tmp"
  mv -f "$tmp" "$1"
}

# ---- where to start ---------------------------------------------------------
if [[ -s $last_file ]]; then
  last_id=$(<"$last_file")
elif [[ $FL_START == begin ]]; then
  last_id=0-0
else
  # The current end of the stream, resolved now: '$' in every XREAD would
  # miss events added between two calls.
  until reply=$(rcli XREVRANGE "$FL_STREAM" + - COUNT 1); do
    log "redis unreachable ($FL_REDIS_URL); retrying"; sleep 5
  done
  last_id=$(jq -r 'if length > 0 then .[0][0] else "0-0" end' <<<"$reply")
  atomic_write "$last_file" "$last_id"
fi
log "forwarding $FL_STREAM after $last_id to $AM_URL"

# ---- one stream entry -> one Alertmanager alert ----------------------------
# Input: [id, [field, value, ...]]; every value is a string (JSON-encoded for
# arrays and numbers). Numbers are re-printed for humans: faultline's JSON
# carries doubles as written by %.17g (0.32500000000000001), shown here as
# 0.325 / 32.5 %.
to_alert() {
  jq -c --arg gen "$GENERATOR_URL" --arg sevp "$SEVERITY_PROVIDER" \
        --arg sevl "$SEVERITY_LOCAL" '
    def num($k): (.[$k] // "0") | if . == "null" or . == "" then 0 else tonumber end;
    # x to at most 4 decimals, trailing zeros dropped: 0.325, 0.0063, 1
    def dec4: (. * 10000 | round) as $m
              | ($m / 10000 | floor | tostring)
                + (($m % 10000) as $f | if $f == 0 then ""
                   else "." + ((10000 + $f) | tostring | .[1:] | sub("0+$"; "")) end);
    # a ratio as a percentage, one decimal: 32.5%, 0.6%, 100%
    def pct: (. * 1000 | round) as $m
             | ($m / 10 | floor | tostring)
               + (if $m % 10 == 0 then "" else ".\($m % 10)" end) + "%";
    def int: tonumber | round | tostring;
    def rfc3339: floor | todate;
    # What the ratio divides (fl_families.h), the same at raise and resolve.
    def per($f): {connect: "connection failures / TCP attempts",
                  tls: "TLS handshake failures / TLS handshakes",
                  dns: "DNS failures / DNS queries",
                  dns_nodata: "empty DNS answers / DNS responses",
                  http: "HTTP 5xx / HTTP responses",
                  any: "failures of any kind / flows and DNS queries"}[$f] // $f;
    def nonempty: with_entries(select(.value != null and .value != ""));
    .[0] as $sid
    | ([.[1] as $f | range(0; $f | length; 2) | {($f[.]): $f[. + 1]}] | add) as $e
    | ($e.top_services // "[]" | fromjson? // []) as $svc
    | ($e.signals // "[]" | fromjson? // []) as $sig
    | (if $e.scope == "local" then $sevl else $sevp end) as $sev
    | ($e.onset_at // $e.raised_at | tonumber) as $start
    | ($e.event // "raised") as $ev
    | ($e | num("peak_ratio")) as $peak
    | {
        labels: ({ alertname: "ProviderOutage", provider: $e.provider,
                   scope: $e.scope, severity: $sev,
                   sensor: $e.sensor, instance: ($e.instance // $e.sensor),
                   site: $e.site } | nonempty),
        annotations: ({
          summary: (if $e.scope == "local"
                    then "Local network problem: \($e.providers_failing // "?") providers failing at once"
                    else "\($e.provider) outage: \($e.first_signal) failures \($peak | pct) (baseline \($e | num("baseline_ratio") | pct))"
                    end
                    + (if $e.sensor then " seen by \($e.sensor)" else "" end)),
          description: ("\($ev) at \($e | num(if $ev == "resolved" then "resolved_at" else "raised_at" end) | rfc3339): "
                        + "peak \($peak | pct) of \(per($e.first_signal // "any"))"
                        + (if $ev == "resolved" then ", \($e | num("ratio") | pct) at the resolve" else "" end)
                        + "; \($e | num("failures") | int) failures in \($e | num("attempts") | int) attempts"
                        + " from \($e | num("clients") | int) clients"
                        + " (\($e | num("client_share") | pct) of active clients); signals \($sig | join(", "))"
                        + (if ($svc | length) > 0
                           then "; top services " + ([$svc[] | "\(.name) \(.failures) of \(.attempts // .flows)"] | join(", "))
                           else "" end)),
          signals: ($sig | join(",")),
          first_signal: ($e.first_signal // ""),
          ratio_definition: per($e.first_signal // "any"),
          ratio: ($e | num("ratio") | dec4), peak_ratio: ($peak | dec4),
          baseline_ratio: ($e | num("baseline_ratio") | dec4),
          failures: ($e | num("failures") | int), attempts: ($e | num("attempts") | int),
          clients: ($e | num("clients") | int),
          faultline_alert_id: ($e.id // ""), stream_id: $sid
        } | nonempty),
        startsAt: ($start | rfc3339)
      }
    | if $gen != "" then .generatorURL = "\($gen)/\($sid)" else . end
    | if $ev == "resolved"
      then .endsAt = ($e.resolved_at | tonumber | rfc3339)
      else . end
    | {event: $ev,
       key: ([$e.sensor // empty, $e.provider, $e.scope] | map(tostring) | join("_")),
       alert: .}'
}

# POST a JSON array; retried with backoff until accepted (or stopped).
post() {
  local body=$1 delay=1
  if [[ $AM_URL == - ]]; then
    printf '%s\n' "$body"
    return 0
  fi
  # shellcheck disable=SC2086 # AM_CURL_OPTS is a list of options on purpose
  until curl -fsS --max-time 10 -X POST -H 'Content-Type: application/json' \
             $AM_CURL_OPTS --data-binary "$body" "$AM_URL" >/dev/null; do
    [[ $stopping == 0 ]] || return 1
    log "POST to $AM_URL failed; retrying in ${delay}s"
    sleep "$delay"
    delay=$((delay < 60 ? delay * 2 : 60))
  done
}

# Re-send every active (raised, not yet resolved) alert as one array.
resend_active() {
  local files=("$STATE_DIR"/active/*.json)
  [[ -e ${files[0]} ]] || return 0
  post "$(jq -cs '.' "${files[@]}")"
}

stopping=0
trap 'stopping=1' TERM INT

resend_active || exit 0
last_resend=$SECONDS
while [[ $stopping == 0 ]]; do
  block=(BLOCK "$BLOCK_MS")
  [[ $once == 0 ]] || block=()
  if ! reply=$(rcli XREAD COUNT 100 "${block[@]}" STREAMS "$FL_STREAM" "$last_id"); then
    [[ $stopping == 0 ]] || break
    log "XREAD failed ($FL_REDIS_URL); retrying in 5s"
    sleep 5
    continue
  fi
  if ! entries=$(jq -c 'if type == "array" then .[0][1][] else empty end' <<<"$reply" 2>/dev/null); then
    log "unexpected reply from redis: ${reply:0:200}"
    sleep 5
    continue
  fi
  while IFS= read -r entry; do
    [[ -n $entry ]] || continue
    out=$(to_alert <<<"$entry")
    event=$(jq -r .event <<<"$out")
    key=$(jq -r '.key | gsub("[^A-Za-z0-9._-]"; "_")' <<<"$out")
    alert=$(jq -c .alert <<<"$out")
    post "[$alert]" || break 2
    if [[ $event == resolved ]]; then
      rm -f "$STATE_DIR/active/$key.json"
    else
      atomic_write "$STATE_DIR/active/$key.json" "$alert"
    fi
    last_id=$(jq -r '.[0]' <<<"$entry")
    atomic_write "$last_file" "$last_id"
  done <<<"$entries"
  if [[ $once == 1 && -z $entries ]]; then
    break
  fi
  if (( SECONDS - last_resend >= RESEND_S )); then
    resend_active || break
    last_resend=$SECONDS
  fi
done
log "stopped at $last_id"

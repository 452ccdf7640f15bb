#!/usr/bin/env bash
# tests/realstack/https_bed.sh - a real TLS stack (Debian's nginx) serving
# Cloudflare-like sites to real clients (curl, h2load) across a veth pair
# between two network namespaces made for the run, with an induced incident:
# for a share of requests the HTML sites answer a Cloudflare-like 5xx
# template page (~6.4 kB of near-constant HTML) and the API sites a small
# JSON 5xx body, inside completed TLS sessions. tcpdump records the veth;
# every client writes its TLS secrets to one key log (SSLKEYLOGFILE), so
# tshark can decrypt every response (tests/realstack/https_oracle.sh).
#
# Usage (root):  tests/realstack/https_bed.sh OUTDIR
# Writes into OUTDIR:
#   https.pcap        the capture (both directions, full packets)
#   keylog.txt        NSS key log of every TLS session (curl and h2load)
#   nginx-access.tsv  nginx's own view, one line per response (log_format fl)
#   timeline.tsv      the phases in epoch seconds: clean, incident shares, and
#                     the second the deploy happened
#   sites.tsv         host, kind (html|api), server address, provider
#
# Knobs (environment; defaults make a ~2 min run):
#   RS_PRE=40 RS_INC=45 RS_POST=35   seconds of clean / incident / clean
#   RS_FLAP=15       incident segment length; shares cycle through RS_SHARES
#   RS_SHARES="90 40 70"  percent of requests failing per segment (multiples of 10)
#   RS_DEPLOY_AT=20  seconds after start when www.acme-shop.example deploys a
#                    new version with other page and asset sizes (no errors);
#                    -1: no deploy
#   RS_BROWSERS=4 RS_SDKS=2   concurrent browser-like and SDK-like clients
#   RS_BURSTS=1      h2load bursts on the API sites (one per phase)
#   RS_SEED=1        seeds the sizes of the sites' files
#   RS_HOT=HOST      an HTML site that gets half of the page views
#   RS_SCALE=100     percent applied to the sizes of the HTML sites' assets
#                    (1-300 kB at 100; smaller keeps committed captures small;
#                    pages stay 8-45 kB)
#   RS_MISS=40       percent of a page's subresources a browser fetches (the
#                    rest are "in its cache")
#
# Addresses: the servers use addresses inside Cloudflare's 104.16.0.0/13 and
# one site sits on an AWS address (3.1.20.40, inside 3.0.0.0/15) as a
# control that never fails; clients are 192.168.50.11-18. Nothing leaves the
# two namespaces: neither veth end is in the host's namespace.
#
# Time to first byte: this kernel has no netem, so round trips on the veth
# are sub-millisecond; nginx's echo module (libnginx-mod-http-echo) delays
# every content response by 10-150 ms (an origin fetch), while the error
# pages come at once (generated at the edge, as Cloudflare's are).
set -euo pipefail

SELF=$(readlink -f "$0")

# ------------------------------------------------------------ sites
# host kind address provider
SITES="www.acme-shop.example html 104.16.132.10 Cloudflare
news.dailyglobe.example html 104.16.132.10 Cloudflare
blog.pixelcraft.example html 104.16.132.11 Cloudflare
docs.fernway.example html 104.16.133.20 Cloudflare
api.tallyhub.example api 104.16.133.20 Cloudflare
api.weatherly.example api 104.16.133.21 Cloudflare
pay.quickpay.example api 104.16.132.11 Cloudflare
static.assetvault.example html 3.1.20.40 AWS"
SRV_ADDRS="104.16.132.10 104.16.132.11 104.16.133.20 104.16.133.21 3.1.20.40"
CLI_ADDRS="192.168.50.11 192.168.50.12 192.168.50.13 192.168.50.14 192.168.50.15 192.168.50.16 192.168.50.17 192.168.50.18"
API_PATHS="/v1/me /v1/items/1 /v1/items/2 /v1/items/3 /v1/orders/recent /v1/config /v1/search/lamp /v1/stats/daily"

# curl --resolve arguments for every site.
RESOLVE=()
while read -r h k a p; do RESOLVE+=(--resolve "$h:443:$a"); done <<<"$SITES"

# ------------------------------------------------------- client side
# Runs inside the client namespace (the bed re-invokes itself).

rand_between() { echo $((RANDOM % ($2 - $1 + 1) + $1)); }
pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }
# Sleep a random time in [lo, hi] milliseconds.
think() { sleep "$(awk -v a="$1" -v b="$2" -v r="$RANDOM" 'BEGIN { printf "%.3f", (a + (b - a) * r / 32767) / 1000 }')"; }

# One curl invocation: status of each URL on stdout, one a line.
# $1 = client address, $2 = protocol flag, rest: curl args and URLs.
fetch() {
    local ip=$1 proto=$2
    shift 2
    local tls=()
    # A quarter of the connections negotiate TLS 1.2 (older clients), and
    # every connection of an "old SDK" client (RS_OLD_TLS=1).
    [ $((RANDOM % 4)) != 0 ] && [ "${RS_OLD_TLS:-0}" = 0 ] || tls=(--tls-max 1.2)
    curl -sk --interface "$ip" "$proto" "${tls[@]}" "${RESOLVE[@]}" --max-time 20 \
        -w '%{http_code}\n' "$@" 2>/dev/null || true
}

# A browser-like user: loads pages of the HTML sites; the page's
# subresources (every src= and href= to a local path) follow on a second
# connection (browser caches: a random share of them only); on a 5xx the
# user reloads after 1-3 s, at most twice (browsers themselves do not retry).
client_browser() {
    local ip=$1 until=$2 seed=$3
    RANDOM=$seed
    local hosts
    hosts=$(awk '$2 == "html" { print $1 }' <<<"$SITES")
    local tmp
    tmp=$(mktemp -d)
    while [ "$(date +%s)" -lt "$until" ]; do
        local host page proto code
        host=$(pick $hosts)
        # RS_HOT: one site that gets half of the page views.
        [ -z "${RS_HOT:-}" ] || [ $((RANDOM % 2)) = 1 ] || host=$RS_HOT
        page=$(pick / /p/1.html /p/2.html)
        proto=$(pick --http2 --http2 --http1.1)
        for _ in 0 1 2; do
            code=$(fetch "$ip" "$proto" -o "$tmp/page" "https://$host$page")
            case "$code" in 5*) think 1000 3000; continue ;; esac
            break
        done
        if [ "${code:-0}" = 200 ]; then
            local urls=() u
            for u in $(grep -o -E '(src|href)="/[^"]+"' "$tmp/page" | cut -d'"' -f2); do
                [ $((RANDOM % 100)) -lt "${RS_MISS:-40}" ] && urls+=("https://$host$u")
            done
            if [ ${#urls[@]} -gt 0 ]; then
                local outs=() i
                for i in "${urls[@]}"; do outs+=(-o /dev/null); done
                if [ "$proto" = --http2 ] && [ $((RANDOM % 2)) = 0 ]; then
                    fetch "$ip" "$proto" --parallel "${outs[@]}" "${urls[@]}" >/dev/null
                else
                    fetch "$ip" "$proto" "${outs[@]}" "${urls[@]}" >/dev/null
                fi
            fi
        fi
        think 300 2500
    done
    rm -rf "$tmp"
}

# An SDK-like API client: a few calls per connection (keep-alive) or one
# call per connection; on a 5xx it retries twice, after 0.5 s then 1 s, on
# a new connection (as the OpenAI and AWS SDKs do).
client_sdk() {
    local ip=$1 until=$2 seed=$3
    RANDOM=$seed
    local hosts
    hosts=$(awk '$2 == "api" { print $1 }' <<<"$SITES")
    while [ "$(date +%s)" -lt "$until" ]; do
        local host proto n urls=() outs=() k codes c
        host=$(pick $hosts)
        proto=$(pick --http2 --http1.1)
        # An old SDK (RS_OLD_TLS=1): HTTP/1.1 only, as Python's requests.
        [ "${RS_OLD_TLS:-0}" = 0 ] || proto=--http1.1
        n=$(pick 1 1 2 3 4)
        for ((k = 0; k < n; k++)); do
            urls+=("https://$host$(pick $API_PATHS)")
            outs+=(-o /dev/null)
        done
        codes=$(fetch "$ip" "$proto" "${outs[@]}" "${urls[@]}")
        k=0
        for c in $codes; do
            if [ "${c:0:1}" = 5 ]; then
                local delay=500
                for _ in 1 2; do
                    think "$delay" "$delay"
                    delay=$((delay * 2))
                    c=$(fetch "$ip" "$proto" -o /dev/null "${urls[$k]}")
                    [ "${c:0:1}" = 5 ] || break
                done
            fi
            k=$((k + 1))
        done
        think 200 1500
    done
}

# h2load on one API site: 3 connections, 5 streams each, 36 requests.
client_burst() {
    local host=$1 addr=$2
    local uris=() p
    for p in $API_PATHS; do uris+=("https://$host$p"); done
    h2load -n 36 -c 3 -m 5 --connect-to="$addr:443" "${uris[@]}" >/dev/null 2>&1 || true
}

case "${1:-}" in
__browser) shift; client_browser "$@"; exit 0 ;;
__sdk) shift; client_sdk "$@"; exit 0 ;;
__burst) shift; client_burst "$@"; exit 0 ;;
esac

# ------------------------------------------------------------ server side

OUT=${1:?usage: https_bed.sh OUTDIR}
[ "$(id -u)" -eq 0 ] || { echo "https_bed: needs root (network namespaces, packet capture)" >&2; exit 2; }
for tool in ip nginx curl h2load tcpdump openssl python3; do
    command -v "$tool" >/dev/null || { echo "https_bed: $tool is not installed" >&2; exit 2; }
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

RS_PRE=${RS_PRE:-40}
RS_INC=${RS_INC:-45}
RS_POST=${RS_POST:-35}
RS_FLAP=${RS_FLAP:-15}
RS_DEPLOY_AT=${RS_DEPLOY_AT:-20}
RS_BROWSERS=${RS_BROWSERS:-4}
RS_SDKS=${RS_SDKS:-2}
RS_BURSTS=${RS_BURSTS:-1}
RS_SEED=${RS_SEED:-1}
RS_SCALE=${RS_SCALE:-100}

T=$(mktemp -d /tmp/fl-httpsbed.XXXXXX)
chmod 755 "$T"
TAG=$$
SNS=flhs-$TAG   # server namespace
CNS=flhc-$TAG   # client namespace
VS=fhs$TAG      # server end of the veth
VC=fhc$TAG      # client end
PIDS=()

cleanup() {
    local rc=$?
    set +e
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    # Anything else still running in the namespaces (a client's curl).
    for ns in "$CNS" "$SNS"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

log() { echo "https_bed: $*" >&2; }

# ------------------------------------------------------------ namespaces
ip netns add "$SNS" || { echo "https_bed: cannot create a network namespace" >&2; exit 2; }
ip netns add "$CNS"
for ns in "$SNS" "$CNS"; do
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done
ip -n "$SNS" link add "$VS" type veth peer name "$VC" netns "$CNS"
# Segments of at most one MTU, as on a real link (no 64 kB GSO frames).
ip -n "$SNS" link set "$VS" gso_max_size 1500 gso_max_segs 1 up
ip -n "$CNS" link set "$VC" gso_max_size 1500 gso_max_segs 1 up
for a in $SRV_ADDRS; do ip -n "$SNS" addr add "$a/32" dev "$VS"; done
for a in $CLI_ADDRS; do ip -n "$CNS" addr add "$a/32" dev "$VC"; done
ip -n "$SNS" route add 192.168.50.0/24 dev "$VS"
for a in $SRV_ADDRS; do ip -n "$CNS" route add "$a/32" dev "$VC"; done

# ------------------------------------------------------------ content
# The sites' files (https_sites.py: sizes seeded by RS_SEED).
SITES_PY=$(dirname "$SELF")/https_sites.py
mkdir -p "$T/www" "$T/tmp" "$T/certs"
while read -r host kind addr prov; do
    if [ "$kind" = html ]; then
        python3 "$SITES_PY" html "$T/www/$host.v1" 100 "$RS_SCALE" "${host%%.*}" "$RS_SEED"
    else
        # shellcheck disable=SC2086
        python3 "$SITES_PY" api "$T/www/$host.v1" "$RS_SEED" $API_PATHS
    fi
    ln -s "$host.v1" "$T/www/$host"
done <<<"$SITES"
# The deploy: a new version of one site, bigger pages and assets.
python3 "$SITES_PY" html "$T/www/www.acme-shop.example.v2" 180 "$((RS_SCALE * 180 / 100))" acme2 "$RS_SEED"

# ------------------------------------------------------------ certificates
# One self-signed certificate per site (its own name as CN and SAN).
while read -r host kind addr prov; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -keyout "$T/certs/$host.key" -out "$T/certs/$host.crt" -subj "/CN=$host" \
        -addext "subjectAltName=DNS:$host" 2>/dev/null &
done <<<"$SITES"
wait

# ------------------------------------------------------------ timeline
# Written once nginx and tcpdump are up (their start can take seconds on a
# loaded machine): T0 is then 2 s away; nginx reloads the map of incident
# seconds ($T/phase-map.conf) and tells its version on 127.0.0.1:8081.
: >"$T/phase-map.conf"
echo 'default v0;' >"$T/map-version.conf"
make_timeline() {
T0=$(($(date +%s) + 2))
INC0=$((T0 + RS_PRE))
INC1=$((INC0 + RS_INC))
TEND=$((INC1 + RS_POST))
{
    printf 'start\tend\tphase\tfail_share\n'
    printf '%s\t%s\tclean\t0\n' "$T0" "$INC0"
    t=$INC0
    k=0
    read -r -a shares <<<"${RS_SHARES:-90 40 70}"
    : >"$T/phase-map.conf"
    while [ "$t" -lt "$INC1" ]; do
        e=$((t + RS_FLAP))
        [ "$e" -le "$INC1" ] || e=$INC1
        printf '%s\t%s\tincident\t%s\n' "$t" "$e" "${shares[k % ${#shares[@]}]}"
        for ((s = t; s < e; s++)); do
            # nginx's $time_iso8601 is local time; the namespaces share the host's TZ.
            printf '"%s" %s;\n' "$(date -d "@$s" +%Y-%m-%dT%H:%M:%S%:z)" "p${shares[k % ${#shares[@]}]}" >>"$T/phase-map.conf"
        done
        t=$e
        k=$((k + 1))
    done
    printf '%s\t%s\tclean\t0\n' "$INC1" "$TEND"
} >"$OUT/timeline.tsv"
echo 'default v1;' >"$T/map-version.conf"
}
{
    printf 'host\tkind\taddress\tprovider\n'
    tr ' ' '\t' <<<"$SITES"
} >"$OUT/sites.tsv"

# ------------------------------------------------------------ nginx
# The Cloudflare-like error page: ~6.4 kB of near-constant HTML; the host,
# a ray id, the data centre and the time vary it by tens of bytes.
cf_template() {
    local code=$1 title=$2
    printf '%s' "<!DOCTYPE html><html lang='en-US'><head><meta charset='UTF-8'><title>\$host | $code: $title</title><meta name='robots' content='noindex, nofollow'><style>\$fl_cf_css1\$fl_cf_css2</style></head><body><div id='cf-wrapper'><div id='cf-error-details' class='cf-error-details-wrapper'><header><h1><span class='cf-error-type'>Error</span> <span class='cf-error-code'>$code</span></h1><span class='cf-footer-item'>Ray ID: \$fl_ray &bull; \$time_iso8601 &bull; \$fl_colo</span><h2 class='cf-subheadline'>$title</h2></header><section><div class='cf-column'><h2>What happened?</h2><p>The web server reported an error while handling the request for \$host. Please try again in a few minutes.</p></div><div class='cf-column'><h2>What can I do?</h2><p>If you are a visitor of this website: please try again in a few minutes. If you are the owner of this website: check your server logs.</p></div></section><footer><span>Cloudflare Ray ID: <strong>\$fl_ray</strong></span> <span>Your IP: \$remote_addr</span> <span>Performance &amp; security by Cloudflare</span></footer></div></div></body></html>"
}
# The page's constant style sheet, in two variables: nginx takes at most
# 4 kB in one configuration word.
# A phase pNN fails the requests whose dice (ten 10% slices) is under NN/10.
fail_map() {
    local sh d
    for sh in $(tr ' ' '\n' <<<"${RS_SHARES:-90 40 70}" | sort -u); do
        for ((d = 0; d < sh / 10; d++)); do printf '        "p%s:%s" 1;\n' "$sh" "$d"; done
    done
}
cf_css_maps() {
    local k i
    for k in 1 2; do
        printf '    map "" $fl_cf_css%s { default "' "$k"
        for ((i = k * 31 - 30; i <= k * 31; i++)); do
            printf '.cf-r%02d{margin:0 auto;padding:0 1rem;max-width:60rem;font-size:1rem;line-height:1.5}' "$i"
        done
        printf '"; }\n'
    done
}
cf_returns() {
    local c t
    while IFS=: read -r c t; do
        printf '        if ($fl_status = %s) { return %s "%s"; }\n' "$c" "$c" "$(cf_template "$c" "$t")"
    done <<'EOF'
502:Bad gateway
503:Service unavailable
520:Web server is returning an unknown error
521:Web server is down
522:Connection timed out
523:Origin is unreachable
524:A timeout occurred
525:SSL handshake failed
526:Invalid SSL certificate
EOF
}
api_returns() {
    local c
    for c in 500 502 503 520 522 524; do
        printf '        if ($fl_status = %s) { return %s '"'"'{"error":{"code":%s,"type":"upstream_error","message":"upstream unavailable","request_id":"$request_id"}}'"'"'; }\n' "$c" "$c" "$c"
    done
}

server_block() {
    local host=$1 kind=$2 fails=$3
    cat <<EOF
    server {
        listen 443 ssl http2;
        server_name $host;
        ssl_certificate $T/certs/$host.crt;
        ssl_certificate_key $T/certs/$host.key;
        root $T/www/$host;
EOF
    if [ "$fails" = 1 ]; then
        if [ "$kind" = html ]; then cf_returns; else api_returns; fi
    fi
    # Content comes "from the origin": a delay of 10-150 ms before it (the
    # echo module), while an error page is generated at once, at the edge.
    if [ "$kind" = api ]; then
        cat <<'EOF'
        default_type application/json;
        location / { echo_sleep $fl_origin; echo_exec @origin; }
        location @origin { try_files $uri.json =404; }
EOF
    else
        cat <<'EOF'
        location / { echo_sleep $fl_origin; echo_exec @origin; }
        location @origin { try_files $uri $uri/index.html =404; }
EOF
    fi
    echo "    }"
}

{
    cat <<EOF
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
user root;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx-error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path $T/tmp/body;
    proxy_temp_path $T/tmp/proxy;
    fastcgi_temp_path $T/tmp/fastcgi;
    uwsgi_temp_path $T/tmp/uwsgi;
    scgi_temp_path $T/tmp/scgi;
    types { text/html html; text/css css; application/javascript js; image/jpeg jpg;
            image/png png; image/webp webp; application/json json; }
    default_type application/octet-stream;
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_timeout 15s;
    server_tokens off;
    # Which second of the run is in which incident segment (pNN: NN% of
    # requests fail); every other second is clean.
    map \$time_iso8601 \$fl_phase { default clean; include $T/phase-map.conf; }
    map "" \$fl_map_version { include $T/map-version.conf; }
    split_clients "\${request_id}" \$fl_dice { 10% 0; 10% 1; 10% 2; 10% 3; 10% 4; 10% 5; 10% 6; 10% 7; 10% 8; * 9; }
    map "\$fl_phase:\$fl_dice" \$fl_fail {
        default 0;
$(fail_map)
    }
    split_clients "\${request_id}s" \$fl_code {
        15% 502; 15% 503; 20% 520; 10% 521; 15% 522; 5% 523; 10% 524; 5% 525; * 526;
    }
    split_clients "\${request_id}a" \$fl_acode { 15% 500; 20% 502; 25% 503; 15% 520; 10% 522; * 524; }
    map "\$fl_fail:\$host" \$fl_status {
        default 0;
        "~^1:static\\.assetvault\\." 0;
        "~^1:(api|pay)\\." \$fl_acode;
        "~^1:" \$fl_code;
    }
    split_clients "\${request_id}o" \$fl_origin { 20% 0.010; 30% 0.030; 30% 0.060; 15% 0.100; * 0.150; }
    map \$request_id \$fl_ray { "~^(?<r>.{16})" \$r; }
    map \$request_id \$fl_colo { "~^[0-3]" FRA; "~^[4-7]" AMS; "~^[89ab]" LHR; default CDG; }
EOF
    cf_css_maps
    cat <<EOF
    log_format fl '\$msec\t\$remote_addr\t\$remote_port\t\$server_addr\t\$server_port\t\$ssl_server_name\t\$server_protocol\t\$ssl_protocol\t\$request_method\t\$request_uri\t\$status\t\$body_bytes_sent\t\$connection\t\$connection_requests\t\$request_id\t\$fl_phase\t\$fl_status';
    access_log $OUT/nginx-access.tsv fl;
EOF
    # Which incident map is loaded (the bed waits for its reload); not logged.
    echo "    server { listen 127.0.0.1:8081; access_log off; location = /v { return 200 \"\$fl_map_version\"; } }"
    while read -r host kind addr prov; do
        fails=1
        [ "$prov" = Cloudflare ] || fails=0
        server_block "$host" "$kind" "$fails"
    done <<<"$SITES"
    echo "}"
} >"$T/nginx.conf"

ip netns exec "$SNS" nginx -t -q -c "$T/nginx.conf" -p "$T" || { log "nginx rejects the generated configuration"; exit 1; }
ip netns exec "$SNS" nginx -c "$T/nginx.conf" -p "$T" -g 'daemon off;' 2>>"$T/nginx-error.log" &
PIDS+=("$!")

# nginx answers before the capture and the clients start (the probe's
# connection stays out of the capture).
for ((i = 0; i < 100; i++)); do
    [ -s "$T/nginx.pid" ] && ip netns exec "$CNS" bash -c "exec 3<>/dev/tcp/104.16.132.10/443" 2>/dev/null && break
    sleep 0.05
done
[ -s "$T/nginx.pid" ] || { cat "$T/nginx-error.log" >&2; log "nginx did not start"; exit 1; }

make_timeline
kill -HUP "$(cat "$T/nginx.pid")"
map_version() {
    ip netns exec "$SNS" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8081 && printf "GET /v HTTP/1.0\r\n\r\n" >&3 && tail -1 <&3' 2>/dev/null
}
for ((i = 0; i < 200; i++)); do
    [ "$(map_version)" = v1 ] && [ "$(map_version)" = v1 ] && break
    sleep 0.05
done
[ "$(map_version)" = v1 ] || { cat "$T/nginx-error.log" >&2; log "nginx did not reload the incident map"; exit 1; }

# ------------------------------------------------------------ capture
# --immediate-mode: every packet reaches tcpdump at once (else the kernel's
# last block, up to 1 s of packets, is lost at SIGINT); -B 32768: a 32 MB
# ring, so a loaded machine makes tcpdump late, never drop.
ip netns exec "$SNS" tcpdump -i "$VS" -s 0 -B 32768 -U --immediate-mode -n -w "$OUT/https.pcap" 'tcp port 443' 2>"$T/tcpdump.err" &
TCPDUMP_PID=$!
PIDS+=("$TCPDUMP_PID")
for ((i = 0; i < 100; i++)); do
    grep -q 'listening on' "$T/tcpdump.err" 2>/dev/null && break
    sleep 0.05
done
grep -q 'listening on' "$T/tcpdump.err" || { cat "$T/tcpdump.err" >&2; log "tcpdump did not start"; exit 1; }
: >"$OUT/nginx-access.tsv"

# ------------------------------------------------------------ traffic
export SSLKEYLOGFILE=$OUT/keylog.txt
: >"$SSLKEYLOGFILE"
while [ "$(date +%s)" -lt "$T0" ]; do sleep 0.1; done
late=$(($(date +%s) - T0))
[ "$late" -le 1 ] || log "clients start ${late} s late: the clean phase before the incident is shorter"
log "clients from $(date -u -d "@$T0" +%T) to $(date -u -d "@$TEND" +%T) UTC; incident $(date -u -d "@$INC0" +%T)-$(date -u -d "@$INC1" +%T)"
CLIENTS=()
read -r -a cli <<<"$CLI_ADDRS"
for ((i = 0; i < RS_BROWSERS; i++)); do
    ip netns exec "$CNS" "$SELF" __browser "${cli[i % ${#cli[@]}]}" "$TEND" "$((RS_SEED * 100 + i))" &
    CLIENTS+=("$!")
done
for ((i = 0; i < RS_SDKS; i++)); do
    # The first SDK client is an old one: TLS 1.2 and HTTP/1.1 only.
    RS_OLD_TLS=$((i == 0)) ip netns exec "$CNS" "$SELF" __sdk "${cli[(RS_BROWSERS + i) % ${#cli[@]}]}" "$TEND" "$((RS_SEED * 100 + 50 + i))" &
    CLIENTS+=("$!")
done
PIDS+=("${CLIENTS[@]}")

# Scheduled events: the deploy, and h2load bursts in the middle of each phase.
events=()
[ "$RS_DEPLOY_AT" -lt 0 ] || events+=("$((T0 + RS_DEPLOY_AT)) deploy")
if [ "$RS_BURSTS" -gt 0 ]; then
    events+=("$((T0 + RS_PRE / 2)) burst api.weatherly.example 104.16.133.21")
    [ "$RS_INC" -le 0 ] || events+=("$((INC0 + RS_INC / 2)) burst api.tallyhub.example 104.16.133.20")
    events+=("$((INC1 + RS_POST / 2)) burst api.weatherly.example 104.16.133.21")
fi
while read -r at what host addr; do
    [ -n "${at:-}" ] || continue
    while [ "$(date +%s)" -lt "$at" ]; do sleep 0.1; done
    case "$what" in
    deploy)
        # An atomic switch of the document root, as a deploy would do.
        ln -s www.acme-shop.example.v2 "$T/www/.acme-next"
        mv -T "$T/www/.acme-next" "$T/www/www.acme-shop.example"
        # The time it happened (a loaded machine runs late).
        d=$(date +%s)
        printf '%s\t%s\tdeploy www.acme-shop.example\t0\n' "$d" "$d" >>"$OUT/timeline.tsv"
        log "deployed www.acme-shop.example v2 at $(date -u +%T)"
        ;;
    burst)
        ip netns exec "$CNS" "$SELF" __burst "$host" "$addr" &
        CLIENTS+=("$!")
        PIDS+=("$!")
        ;;
    esac
done < <(printf '%s\n' "${events[@]}" | sort -n)

for p in "${CLIENTS[@]}"; do wait "$p" || true; done
# Let the last keep-alive connections close (nginx keepalive_timeout 15 s is
# longer: stop nginx gracefully instead, which closes idle connections).
sleep 1
kill -QUIT "$(cat "$T/nginx.pid")" 2>/dev/null || true
sleep 1
kill -INT "$TCPDUMP_PID" 2>/dev/null || true
wait "$TCPDUMP_PID" 2>/dev/null || true
grep -E 'packets (captured|dropped by kernel)' "$T/tcpdump.err" >&2 || true
# A capture with holes would make the oracle miss responses: say so, fail.
if ! grep -q '^0 packets dropped by kernel' "$T/tcpdump.err"; then
    log "tcpdump dropped packets: the capture is incomplete"
    exit 3
fi
grep -v -E '^\s*$' "$T/nginx-error.log" | grep -v -E 'signal|exiting|gracefully|worker process|using the' >&2 || true
log "$(wc -l <"$OUT/nginx-access.tsv") responses in nginx's log; capture $(stat -c %s "$OUT/https.pcap") bytes"

#!/usr/bin/env bash
# The README's first command: install what is missing, build, and replay the
# bundled demo capture (a generated Cloudflare outage like 2025-11-18's: 5xx
# over keep-alive and failing TLS handshakes) into a throwaway local Redis,
# then show what landed there and write the HTML incident report.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target faultline >/dev/null
bin=./build/faultline
demo=pcaps/demo/cloudflare-outage.pcap
report=${FL_DEMO_REPORT:-build/demo-report.html}

redis_url=$($bin config | sed -n 's/^redis_url = //p')
tmp=
if [ -z "$redis_url" ]; then
  # No Redis configured: a throwaway server on a unix socket in a temp dir.
  tmp=$(mktemp -d)
  trap 'redis-cli -s "$tmp/redis.sock" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
  redis-server --port 0 --unixsocket "$tmp/redis.sock" --unixsocketperm 700 \
    --dir "$tmp" --save "" --appendonly no --daemonize yes --logfile "$tmp/redis.log" >/dev/null
  for _ in $(seq 50); do redis-cli -s "$tmp/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis_url="unix://$tmp/redis.sock"
fi

echo "== faultline replay --redis $redis_url --report $report $demo"
$bin replay --redis "$redis_url" --sensor demo --report "$report" "$demo"
echo
echo "== what landed in Redis"
$bin status --redis "$redis_url" 2>/dev/null || true
$bin alerts --redis "$redis_url" 2>/dev/null || true
if [ -n "$tmp" ]; then
  echo "keys: $(redis-cli -s "$tmp/redis.sock" dbsize) (counters per provider and 10 s bucket, HyperLogLogs, the alert stream, the heartbeat)"
fi
echo
echo "HTML incident report: $report"

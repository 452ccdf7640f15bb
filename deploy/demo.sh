#!/usr/bin/env bash
# The README's first command: install what is missing, build, and replay the
# bundled demo capture.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DFL_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
demo=pcaps/demo/cloudflare-outage.pcap
[ -f "$demo" ] || demo=pcaps/real/tls2.pcap
echo "== faultline replay $demo"
./build/faultline replay "$demo"

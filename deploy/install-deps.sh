#!/usr/bin/env bash
# Installs the Debian 12 packages faultline needs to build, run and test,
# only those missing. Run as root (or with sudo).
#   deploy/install-deps.sh          build + run + test dependencies
#   deploy/install-deps.sh --runtime  only what the sensor needs to run
set -euo pipefail

runtime=(libpcap0.8 libndpi4.2 libhiredis0.14 libjansson4 libinih1 zlib1g redis-server)
build=(build-essential cmake pkg-config libpcap-dev libndpi-dev libhiredis-dev
       libjansson-dev libinih-dev zlib1g-dev check)
tests=(redis-server tcpreplay iproute2 procps chromium jq python3)

want=("${runtime[@]}")
[ "${1:-}" = "--runtime" ] || want+=("${build[@]}" "${tests[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packaged redis-server starts a system service; the tests start their own.

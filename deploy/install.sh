#!/usr/bin/env bash
# deploy/install.sh - install faultline as a system service on Debian 12.
#
#   sudo deploy/install.sh                 # build, install, set up the service
#   sudo deploy/install.sh --redis         # also apply deploy/redis.conf.snippet
#   sudo deploy/install.sh --enable        # also enable and start faultline.service
#   deploy/install.sh --prefix /tmp/x --no-deps --no-system   # scratch install, no root
#   DESTDIR=/tmp/stage deploy/install.sh --no-deps            # staged (packaging)
#
# Steps, each skipped when already done (running it again is harmless and
# upgrades the binary; it never overwrites an edited config):
#   1. runtime packages (deploy/install-deps.sh --runtime), and the build
#      packages when a compiler or a -dev package is missing
#   2. a Release build in build-release/ (FL_TESTS=OFF)
#   3. `cmake --install`: PREFIX/bin/faultline, PREFIX/share/faultline/
#      {provider_ranges.tsv,providers.rules}; plus the forwarder script, the
#      examples and the README under PREFIX/share/{faultline,doc/faultline}
#   4. the system user 'faultline' (no login, no home), added to group 'redis'
#      when it exists (the unix socket of redis.conf.snippet is mode 770)
#   5. /etc/faultline/faultline.conf from the example, when absent
#   6. /etc/systemd/system/faultline.service and faultline-alertmanager.service
#      (ExecStart rewritten when PREFIX is not /usr/local), daemon-reload
# Options:
#   --prefix DIR   install prefix (default /usr/local); compiled into the
#                  binary as its data directory (PREFIX/share/faultline)
#   --sysconfdir DIR  config in DIR/faultline/, units in DIR/systemd/system/;
#                  default /etc for the prefixes /usr/local and /usr, else PREFIX/etc
#   --no-deps      do not install Debian packages
#   --no-system    no user, no systemd units, no systemctl (scratch installs)
#   --redis        copy redis.conf.snippet to /etc/redis/faultline.conf and
#                  include it from /etc/redis/redis.conf, restart redis-server
#   --enable       systemctl enable --now faultline
# DESTDIR (environment) stages every file under it, like `make install`;
# the user and systemctl steps are skipped then.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/usr/local
SYSCONFDIR=
deps=1 system=1 redis=0 enable=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --sysconfdir) SYSCONFDIR=${2:?--sysconfdir needs a directory}; shift 2 ;;
    --sysconfdir=*) SYSCONFDIR=${1#*=}; shift ;;
    --no-deps) deps=0; shift ;;
    --no-system) system=0; shift ;;
    --redis) redis=1; shift ;;
    --enable) enable=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 1 ;;
  esac
done
case "$PREFIX" in /*) ;; *) echo "install.sh: --prefix must be absolute" >&2; exit 1 ;; esac
# GNU convention: /etc for the system prefixes, PREFIX/etc for any other.
if [ -z "$SYSCONFDIR" ]; then
  case "$PREFIX" in /usr|/usr/local) SYSCONFDIR=/etc ;; *) SYSCONFDIR=$PREFIX/etc ;; esac
fi
DESTDIR=${DESTDIR:-}
[ -z "$DESTDIR" ] || system=0
if [ $system = 1 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root for a system install (or use --no-system with a --prefix you own)" >&2
  exit 1
fi
say() { printf 'install.sh: %s\n' "$*" >&2; }

# ---- 1. packages ------------------------------------------------------------
if [ $deps = 1 ]; then
  "$SRC/deploy/install-deps.sh" --runtime
  if ! command -v cc >/dev/null || ! command -v cmake >/dev/null \
     || ! pkg-config --exists libpcap libndpi hiredis jansson inih zlib 2>/dev/null; then
    say "installing the build packages"
    "$SRC/deploy/install-deps.sh"
  fi
fi

# ---- 2. build ---------------------------------------------------------------
B=$SRC/build-release
say "building Release in $B"
cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Release -DFL_TESTS=OFF \
      -DCMAKE_INSTALL_PREFIX="$PREFIX" >/dev/null
cmake --build "$B" -j"$(nproc)" >/dev/null

# ---- 3. files -----------------------------------------------------------------
say "installing into ${DESTDIR}${PREFIX}"
DESTDIR=$DESTDIR cmake --install "$B" >/dev/null
share=$DESTDIR$PREFIX/share/faultline
doc=$DESTDIR$PREFIX/share/doc/faultline
install -d -m 755 "$share" "$doc"
install -C -m 755 "$SRC/deploy/alertmanager_forwarder.sh" "$share/"
install -C -m 644 "$SRC/deploy/faultline.conf.example" "$SRC/deploy/redis.conf.snippet" "$share/"
install -C -m 644 "$SRC/README.md" "$doc/"

# ---- 4. user ----------------------------------------------------------------
if [ $system = 1 ]; then
  if ! getent passwd faultline >/dev/null; then
    say "creating system user faultline"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --comment "faultline sensor" faultline
  fi
  if getent group redis >/dev/null && ! id -nG faultline | tr ' ' '\n' | grep -qx redis; then
    say "adding faultline to group redis (unix socket access)"
    usermod -a -G redis faultline
  fi
fi

# ---- 5. config ----------------------------------------------------------------
etc=$DESTDIR$SYSCONFDIR/faultline
install -d -m 755 "$etc"
if [ ! -e "$etc/faultline.conf" ]; then
  say "writing $etc/faultline.conf (edit [capture] interface)"
  install -m 644 "$SRC/deploy/faultline.conf.example" "$etc/faultline.conf"
else
  say "keeping existing $etc/faultline.conf"
fi
# The installed binary must read it (fails here, not at service start, if a
# setting is unknown to this version).
if [ -z "$DESTDIR" ]; then
  "$PREFIX/bin/faultline" config --config "$etc/faultline.conf" >/dev/null
fi

# ---- 6. systemd units --------------------------------------------------------------
units=$DESTDIR$SYSCONFDIR/systemd/system
install -d -m 755 "$units"
for u in faultline.service faultline-alertmanager.service; do
  sed -e "s#/usr/local/bin/faultline#$PREFIX/bin/faultline#g" \
      -e "s#/usr/local/share/#$PREFIX/share/#g" \
      -e "s#/etc/faultline/#$SYSCONFDIR/faultline/#g" \
      "$SRC/deploy/$u" >"$units/$u.tmp"
  if cmp -s "$units/$u.tmp" "$units/$u" 2>/dev/null; then
    rm -f "$units/$u.tmp"
  else
    mv -f "$units/$u.tmp" "$units/$u"
    chmod 644 "$units/$u"
    say "installed $units/$u"
  fi
done

systemd_up=0
[ $system = 1 ] && [ -d /run/systemd/system ] && systemd_up=1

# ---- optional: redis ---------------------------------------------------------------
if [ $redis = 1 ]; then
  rconf=$DESTDIR/etc/redis
  if [ ! -f "$rconf/redis.conf" ]; then
    say "no $rconf/redis.conf (is redis-server installed?); skipping --redis"
  else
    install -m 640 "$SRC/deploy/redis.conf.snippet" "$rconf/faultline.conf"
    getent group redis >/dev/null && chgrp redis "$rconf/faultline.conf"
    if ! grep -qx 'include /etc/redis/faultline.conf' "$rconf/redis.conf"; then
      say "including /etc/redis/faultline.conf from $rconf/redis.conf"
      printf '\n# faultline (deploy/redis.conf.snippet)\ninclude /etc/redis/faultline.conf\n' \
        >>"$rconf/redis.conf"
    fi
    if [ $systemd_up = 1 ]; then
      systemctl restart redis-server
    fi
  fi
fi

if [ $systemd_up = 1 ]; then
  systemctl daemon-reload
  if [ $enable = 1 ]; then
    systemctl enable --now faultline.service
  elif systemctl is-active --quiet faultline.service; then
    say "restarting the running faultline.service (new binary)"
    systemctl restart faultline.service
  fi
elif [ $system = 1 ]; then
  say "systemd is not running here: units installed, not started"
fi

say "done. Next: edit $SYSCONFDIR/faultline/faultline.conf ([capture] interface),"
say "  then: systemctl enable --now faultline; journalctl -u faultline -f"

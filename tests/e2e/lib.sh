# tests/e2e/lib.sh - shared helpers for the end-to-end scripts.
#
# Environment (set by ctest, tests/CMakeLists.txt):
#   FL_BIN  the faultline binary; its directory is the build directory
#   FL_SRC  the source tree
#
# Everything a test creates lives under one temp dir, $E2E_TMP. Whatever
# happens (assertion failure, set -e, Ctrl-C, ctest's timeout SIGTERM), the
# EXIT trap stops every redis-server and background process the test
# started and removes the directory; a redis-server also gets SIGTERM from
# the kernel if this shell dies by SIGKILL (setpriv --pdeathsig).
#
# The tests source it. ctest also runs it on its own (every tests/e2e/*.sh
# is a case, e2e_lib): then it tests its own helpers, at the end of the file.

set -euo pipefail

: "${FL_BIN:?FL_BIN must name the faultline binary}"
: "${FL_SRC:?FL_SRC must name the source tree}"
FL_BUILD=$(cd "$(dirname "$FL_BIN")" && pwd)
FL_GEN=$FL_BUILD/tests/gen/flgen
FL_REAL=$FL_SRC/pcaps/real
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for tool in jq redis-server redis-cli; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (deploy/install-deps.sh)"; exit 1; }
done
[ -x "$FL_GEN" ] || { echo "FAIL: no capture generator at $FL_GEN"; exit 1; }

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fl-e2e.XXXXXX")
E2E_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
_e2e_pids=()       # background processes to stop at exit
_e2e_hooks=()      # extra cleanup commands, run last-registered first
_e2e_passed=0

# Register a cleanup command (a string, eval'ed at exit).
e2e_on_exit() { _e2e_hooks+=("$1"); }
# Register a background pid to kill at exit.
e2e_track() { _e2e_pids+=("$1"); }

_e2e_cleanup() {
    local rc=$?
    set +e
    local i pid
    # Processes first (a capture still running would keep its namespace).
    for pid in "${_e2e_pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    for ((i = ${#_e2e_hooks[@]} - 1; i >= 0; i--)); do
        eval "${_e2e_hooks[$i]}" >/dev/null 2>&1
    done
    redis_kill_all
    if [ "$rc" -ne 0 ] && [ -n "${E2E_KEEP:-}" ]; then
        echo "kept $E2E_TMP for inspection"
    else
        rm -rf "$E2E_TMP"
    fi
    exit "$rc"
}
trap _e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# sleep that a signal interrupts at once (bash runs traps only between
# foreground commands, and a plain sleep is one).
e2e_sleep() {
    sleep "$1" &
    wait $! || true
}

fail() { echo "FAIL ($E2E_NAME): $*" >&2; exit 1; }
pass() { _e2e_passed=$((_e2e_passed + 1)); echo "ok: $*"; }
done_all() { echo "$E2E_NAME: $_e2e_passed passed, 0 failed"; }

# ---------------------------------------------------------------- redis

# One redis-server at a time per test (that is all they need): unix socket
# only (--port 0, nothing on the network), append-only file fsynced on every
# write, so a restart on the same directory gets back everything that was
# acknowledged -- the premise of the exactly-once test.
REDIS_DIR=$E2E_TMP/redis
REDIS_SOCK=$REDIS_DIR/redis.sock
REDIS_URL=unix://$REDIS_SOCK
REDIS_PID=
_redis_all_pids=()

redis_start() {
    mkdir -p "$REDIS_DIR"
    setpriv --pdeathsig TERM redis-server --port 0 --unixsocket "$REDIS_SOCK" \
        --unixsocketperm 700 --save "" --appendonly yes --appendfsync always \
        --dir "$REDIS_DIR" --daemonize no --logfile "$REDIS_DIR/redis.log" \
        --pidfile "$REDIS_DIR/redis.pid" &
    REDIS_PID=$!
    _redis_all_pids+=("$REDIS_PID")
    local i
    for ((i = 0; i < 200; i++)); do
        # LOADING while the AOF is replayed: wait for PONG.
        if [ "$(redis-cli -s "$REDIS_SOCK" ping 2>/dev/null)" = PONG ]; then
            return 0
        fi
        kill -0 "$REDIS_PID" 2>/dev/null || break
        sleep 0.05
    done
    tail -5 "$REDIS_DIR/redis.log" >&2 || true
    fail "redis-server did not start"
}

# A crash: SIGKILL, no shutdown, no final AOF rewrite.
redis_kill() {
    [ -n "$REDIS_PID" ] || return 0
    kill -KILL "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=
    rm -f "$REDIS_SOCK"
}

redis_stop() {
    [ -n "$REDIS_PID" ] || return 0
    kill -TERM "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=
}

redis_kill_all() {
    local p
    for p in "${_redis_all_pids[@]}"; do
        kill -TERM "$p" 2>/dev/null && { wait "$p" 2>/dev/null || true; }
    done
    _redis_all_pids=()
    REDIS_PID=
}

rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }

# Every key matching a pattern, by SCAN (never KEYS).
redis_scan() { rcli --scan --pattern "$1"; }

# Sum of every field over the hashes matching a pattern, as "field value"
# lines sorted by field. The HGETALLs go down one pipe; the replies are flat
# field/value lines.
redis_sum_hashes() {
    redis_scan "$1" | sed 's/^/HGETALL /' | rcli |
        awk 'NR % 2 == 1 { f = $0; next } { s[f] += $0 } END { for (f in s) print f, s[f] }' |
        sort
}

# ------------------------------------------------------------- contract

# The counter names (README "Counters"), from the one X-macro list
# that the JSON report and the Redis hashes are both generated from.
fl_counter_names() {
    sed -n 's/^ *X(\([a-z0-9_]*\), [01]).*/\1/p' "$FL_SRC/include/fl_counters.h"
}

# The JSON "totals" of a replay document as "counter value" lines (every
# contract counter, zeros included since zeros may be omitted), sorted.
json_totals() {
    local names
    names=$(fl_counter_names | jq -R . | jq -s -c .)
    jq -r --argjson names "$names" '.totals as $t | $names[] | "\(.) \($t[.] // 0)"' "$1" | sort
}

# Same shape from the Redis sums (missing counters are 0).
redis_totals() {
    local sums
    sums=$(redis_sum_hashes "$1")
    local n
    for n in $(fl_counter_names); do
        echo "$n $(awk -v n="$n" '$1 == n { v = $2 } END { print v + 0 }' <<<"$sums")"
    done | sort
}

# Generate a scenario capture: gen SEED SCENARIO DURATION OUT.pcap
gen() {
    "$FL_GEN" --seed "$1" --scenario "$2" --duration "$3" --out "$4" --truth "${4%.pcap}.tsv" >/dev/null
}

# ------------------------------------------------------- self-test (e2e_lib)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    redis_start
    [ "$(rcli config get appendfsync | tail -1)" = always ] || fail "appendfsync is not always"
    [ "$(rcli config get port | tail -1)" = 0 ] || fail "redis listens on TCP"
    rcli hincrby fl:cnt:A:10 flows 2 >/dev/null
    rcli hincrby fl:cnt:A:10 dns_queries 5 >/dev/null
    rcli hincrby fl:cnt:B:20 flows 3 >/dev/null
    rcli hincrby fl:other:C:20 flows 100 >/dev/null
    got=$(redis_sum_hashes 'fl:cnt:*' | tr '\n' ' ')
    [ "$got" = "dns_queries 5 flows 5 " ] || fail "redis_sum_hashes gave '$got'"
    pass "sum over fl:cnt:* hashes (SCAN + HGETALL) is 5 flows, 5 dns_queries"
    # A crash right after an acknowledged write loses nothing (AOF, fsync always).
    rcli hincrby fl:cnt:B:20 flows 1 >/dev/null
    redis_kill
    [ ! -S "$REDIS_SOCK" ] || fail "socket still there after the kill"
    redis_start
    [ "$(rcli hget fl:cnt:B:20 flows)" = 4 ] || fail "acknowledged write lost across kill -9"
    pass "kill -9 and restart on the same dir keeps acknowledged writes"
    names=$(fl_counter_names | tr '\n' ' ')
    case "$names" in
    "flows tcp_attempts tcp_refused "*" http_4xx http_5xx http_5xx_repeats "*"quic_failures quic_fallbacks ") ;;
    *) fail "counter names from fl_counters.h: '$names'" ;;
    esac
    [ "$(fl_counter_names | wc -l)" -eq 30 ] || fail "expected 30 contract counters"
    pass "30 contract counter names read from include/fl_counters.h"
    echo '{"totals":{"flows":7,"http_5xx":2,"clients":9}}' >"$E2E_TMP/t.json"
    [ "$(json_totals "$E2E_TMP/t.json" | grep -c ' 0$')" -eq 28 ] || fail "json_totals zero fill"
    [ "$(json_totals "$E2E_TMP/t.json" | grep -E '^(flows|http_5xx) ' | tr '\n' ' ')" = "flows 7 http_5xx 2 " ] \
        || fail "json_totals values"
    pass "json_totals fills omitted counters with 0 and ignores non-counters"
    done_all
fi

#!/usr/bin/env bash
# e2e_ops_cli_unit: issue 14's rows about the CLI and the shipped unit.
#  - `--version` names the nDPI, libpcap and hiredis it runs with (checked
#    against pkg-config, the libraries' own word);
#  - `faultline COMMAND --help` is that command's text, not the global one;
#  - deploy/faultline.service: Type=notify with a watchdog, ExecReload= by
#    SIGHUP, RestartPreventExitStatus= holding the statuses faultline really
#    returns for a usage error and for a wrong interface;
#  - SIGHUP on a live sensor: RELOADING=1 then READY=1 on the notify socket,
#    "reloaded" at notice; a broken config on reload is refused at err and
#    the sensor keeps running; SIGTERM then exits 0.
source "$(dirname "$0")/lib.sh"
T=$E2E_TMP

# ---- --version ----------------------------------------------------------------
"$FL_BIN" --version >"$T/ver" || fail "--version exit status"
grep -q '^faultline [0-9]' "$T/ver" || fail "--version: no faultline version"
for lib in libndpi:nDPI libpcap:libpcap hiredis:hiredis; do
    pc=${lib%%:*} word=${lib#*:}
    v=$(pkg-config --modversion "$pc" 2>/dev/null || true)
    [ -n "$v" ] || { echo "note: no pkg-config version for $pc"; continue; }
    grep -qi "^$word.*${v%%-*}" "$T/ver" || fail "--version '$(tr '\n' '|' <"$T/ver")' lacks $word $v"
done
pass "--version: $(tr '\n' ' ' <"$T/ver")"

# ---- per-command --help ----------------------------------------------------------
"$FL_BIN" --help >"$T/global" 2>&1 || true
cmds=$(sed -n 's/^  faultline \([a-z]*\) .*/\1/p; s/^  faultline \([a-z]*\)$/\1/p' "$T/global" | sort -u)
[ "$(wc -w <<<"$cmds")" -ge 5 ] || fail "global help lists only: $cmds"
for c in $cmds; do
    rc=0
    "$FL_BIN" "$c" --help >"$T/h-$c" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || fail "$c --help: exit $rc"
    head -1 "$T/h-$c" | grep -q "^usage: faultline $c" || fail "$c --help: '$(head -1 "$T/h-$c")'"
    cmp -s "$T/h-$c" "$T/global" && fail "$c --help is the global help"
done
[ "$(cat "$T"/h-* | sort | uniq -d | grep -c '^usage:')" -eq 0 ] || fail "two commands share a usage line"
pass "per-command --help: $(tr '\n' ' ' <<<"$cmds")"

# ---- the unit ------------------------------------------------------------------
unit=$FL_SRC/deploy/faultline.service
grep -qx 'Type=notify' "$unit" || fail "unit: not Type=notify"
grep -q '^WatchdogSec=[1-9]' "$unit" || fail "unit: no WatchdogSec"
grep -q '^ExecReload=.*kill -HUP \$MAINPID' "$unit" || fail "unit: no ExecReload by SIGHUP"
prevent=$(sed -n 's/^RestartPreventExitStatus=//p' "$unit")
rc=0; "$FL_BIN" capture --no-such-option >/dev/null 2>&1 || rc=$?
grep -qw "$rc" <<<"$prevent" || fail "usage error exits $rc, not in RestartPreventExitStatus=$prevent"
rc=0; "$FL_BIN" capture -i fl-no-such-if0 --quiet >/dev/null 2>"$T/if.err" || rc=$?
[ "$rc" -ne 0 ] || fail "a wrong interface exits 0"
grep -qw "$rc" <<<"$prevent" || fail "wrong interface exits $rc, not in RestartPreventExitStatus=$prevent"
pass "unit: notify, watchdog, reload by HUP; usage and wrong interface ($rc) stop the service"

# ---- SIGHUP on a live sensor ---------------------------------------------------------
if ! command -v socat >/dev/null; then
    echo "SKIP: no socat for the notify socket"; done_all; exit 0
fi
socat -u "UNIX-RECV:$T/notify" "OPEN:$T/notify.log,creat,append" &
e2e_track $!
for _ in $(seq 50); do [ -S "$T/notify" ] && break; e2e_sleep 0.05; done
[ -S "$T/notify" ] || fail "socat did not bind $T/notify"
printf '[detector]\nmin_clients = 3\n' >"$T/fl.conf"
: >"$T/err"
journal=$(stat -c '%d:%i' "$T/err")
env NOTIFY_SOCKET="$T/notify" JOURNAL_STREAM="$journal" \
    setpriv --pdeathsig TERM "$FL_BIN" capture -i lo --config "$T/fl.conf" --sensor hup \
    >"$T/out" 2>>"$T/err" &
fl_pid=$!
e2e_track "$fl_pid"
wait_log() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        grep -q -- "$1" "$3" && return 0
        kill -0 "$fl_pid" 2>/dev/null || { cat "$T/err" >&2; fail "faultline capture died"; }
        e2e_sleep 0.05
    done
    cat "$T/err" "$T/notify.log" >&2
    fail "no line matching '$1' in $3 within $2 s"
}
wait_log 'READY=1' 10 "$T/notify.log"
kill -HUP "$fl_pid"
wait_log '^<5>.*reloaded' 10 "$T/err"
wait_log 'RELOADING=1' 5 "$T/notify.log"
wait_log 'RELOADING=1READY=1' 5 "$T/notify.log" # datagrams back to back in the log
pass "SIGHUP: RELOADING=1, READY=1, 'reloaded' at notice"
printf '[detector]\nmin_clients = many\n' >"$T/fl.conf"
kill -HUP "$fl_pid"
wait_log '^<3>.*reload: .*keeping the running config' 10 "$T/err"
kill -0 "$fl_pid" || fail "a bad config on reload stopped the sensor"
pass "SIGHUP with a broken config: refused at err, still running"
kill -TERM "$fl_pid"
rc=0; wait "$fl_pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/err" >&2; fail "SIGTERM: exit $rc"; }
pass "SIGTERM: exit 0"
done_all

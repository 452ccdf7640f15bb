#!/usr/bin/env bash
# Fuzz every target for a bounded time with libFuzzer (clang, ASan+UBSan).
#   tests/fuzz/run_fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Builds the instrumented targets in build-fuzz/ (FL_FUZZ=ON), then runs
# FL_FUZZ_JOBS targets at a time (default 2; niced by FL_FUZZ_NICE, default 0), each on a scratch copy of its seed corpus plus its
# regression inputs, with its dictionary when there is one. Prints one line
# per target: executions, executions per second, coverage (libFuzzer's
# final "cov:"), and exits non-zero if any target found a crash, a leak or
# undefined behaviour (the reproducer is kept in build-fuzz/findings/).
set -euo pipefail
secs=${1:-20}
shift || true
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode dns tls http capture config redis_url engine quic tls_records)
cc=${CC:-}
if [ -z "$cc" ] || ! "$cc" --version 2>/dev/null | grep -q clang; then
  cc=$(command -v clang-14 || command -v clang || true)
fi
if [ -z "$cc" ]; then
  echo "run_fuzz: clang not installed; skipping" >&2
  exit 0
fi
build=${FL_FUZZ_BUILD:-$src/build-fuzz}
if [ -z "${FL_FUZZ_NOBUILD:-}" ]; then # set it when the targets are built already
  cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DFL_SANITIZE=ON -DFL_FUZZ=ON >/dev/null
  bins=()
  for t in "${targets[@]}"; do bins+=(--target "fuzz_$t"); done
  cmake --build "$build" -j2 "${bins[@]}" >/dev/null
fi
mkdir -p "$build/findings" "$build/logs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_one() {
  local t=$1 work="$build/work/$1"
  rm -rf "$work" && mkdir -p "$work"
  cp "$here/corpus/$t"/* "$work/" 2>/dev/null || true
  [ -d "$here/regress/$t" ] && cp "$here/regress/$t"/* "$work/"
  local dict=()
  [ -f "$here/dict/$t.dict" ] && dict=(-dict="$here/dict/$t.dict")
  local rc=0
  # max_len 8 KiB: the seeds are small; rss_limit guards the shared machine
  nice -n "${FL_FUZZ_NICE:-0}" "$build/tests/fuzz/fuzz_$t" "$work" "${dict[@]}" -max_total_time="$secs" -max_len=8192 \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$t-" >"$build/logs/$t.log" 2>&1 || rc=$?
  local last execs rate cov
  last=$(grep -E '^#[0-9]+' "$build/logs/$t.log" | tail -1 || true)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/logs/$t.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$build/logs/$t.log")
  printf '%-10s %4ss execs %-10s exec/s %-7s cov %-6s %s\n' "$t" "$secs" "${execs:-?}" \
    "${rate:-?}" "${cov:-?}" "$([ $rc -eq 0 ] && echo ok || echo "FOUND (log: $build/logs/$t.log)")"
  return $rc
}

fail=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "${FL_FUZZ_JOBS:-2}" ]; then
    wait "${pids[0]}" || fail=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
exit $fail

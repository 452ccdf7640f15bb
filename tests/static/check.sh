#!/usr/bin/env bash
# Static analysis on compile_commands.json, warnings as errors:
#   tests/static/check.sh [BUILD_DIR]     (default: build)
#  - clang-tidy with the curated list in tests/static/clang-tidy.yml, over
#    every project .c file (capture/, analysis/, cli/, tests/);
#  - cppcheck (warning, portability, performance) over the same files;
#  - clang-format --dry-run --Werror against .clang-format over every .c
#    and .h file: enforced (ENFORCE_FORMAT=0 only reports).
# Exits 0 when clean, 1 on any finding, 0 with a note if a tool is missing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src/build}
ENFORCE_FORMAT=${ENFORCE_FORMAT:-1}
jobs=${FL_STATIC_JOBS:-2}
db=$build/compile_commands.json
if [ ! -f "$db" ]; then
  echo "check.sh: $db missing (configure with CMake first)" >&2
  exit 1
fi
tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
cppc=$(command -v cppcheck || true)
fmt=$(command -v clang-format-14 || command -v clang-format || true)
cd "$src"
files=$(git ls-files 'capture/*.c' 'analysis/*.c' 'cli/*.c' 'tests/*.c' 2>/dev/null ||
        find capture analysis cli tests -name '*.c')
# only files the build compiles (compile_commands.json knows their flags)
files=$(for f in $files; do grep -q "\"file\": \"$src/$f\"" "$db" && echo "$f"; done)
fail=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ -n "$tidy" ]; then
  # clang does not know some gcc-only flags of the sanitizer build
  printf '%s\n' $files | xargs -P "$jobs" -n 4 "$tidy" -p "$build" --quiet \
    --config-file="$here/clang-tidy.yml" --extra-arg=-Wno-unknown-warning-option \
    >"$out/tidy" 2>"$out/tidy.err"
  if grep -q "error:" "$out/tidy"; then
    grep -A3 "error:" "$out/tidy"
    echo "clang-tidy: $(grep -c "error:" "$out/tidy") findings"
    fail=1
  else
    echo "clang-tidy: clean ($(echo "$files" | wc -l) files)"
  fi
else
  echo "clang-tidy: not installed, skipped"
fi

if [ -n "$cppc" ]; then
  # --library=posix, inline suppressions; the system headers are not ours;
  # readdir_r (its advice for readdir) is deprecated by glibc itself
  if ! "$cppc" -q -j "$jobs" --enable=warning,portability,performance --std=c11 \
      --library=posix --inline-suppr --error-exitcode=1 --suppress=missingIncludeSystem \
      --suppress=unmatchedSuppression --suppress=readdirCalled -D_GNU_SOURCE -Iinclude -Icapture \
      $files 2>"$out/cppcheck"; then
    cat "$out/cppcheck"
    echo "cppcheck: findings"
    fail=1
  else
    echo "cppcheck: clean"
  fi
else
  echo "cppcheck: not installed, skipped"
fi

if [ -n "$fmt" ]; then
  n=0
  for f in $(git ls-files '*.c' '*.h'); do
    "$fmt" --dry-run --Werror "$f" >/dev/null 2>&1 || n=$((n + 1))
  done
  echo "clang-format: $n files differ from .clang-format"
  [ "$ENFORCE_FORMAT" = 1 ] && [ "$n" -gt 0 ] && fail=1
fi
exit $fail

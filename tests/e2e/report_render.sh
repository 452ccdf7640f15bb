#!/usr/bin/env bash
# e2e_report_render: the HTML report of the cloudflare-5xx scenario renders
# in a real browser (headless Chromium, no network), with no console error,
# and its DOM names the failing provider.
#
# The report comes from `faultline replay --report` when the binary offers
# it, else from the unit test test_report_html, which writes the same
# scenario's report to $FL_REPORT_OUT.
#
# env: FL_BIN (the faultline binary; the build dir is its directory),
#      FL_SRC (source dir), FL_REPORT_KEEP (optional: a directory to copy
#      report.html and report.png into, to look at them).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }

: "${FL_BIN:?FL_BIN must name the faultline binary}"
build=$(cd "$(dirname "$FL_BIN")" && pwd)

browser=
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
if [ -z "$browser" ]; then
    echo "SKIP: no chromium installed (deploy/install-deps.sh installs it)"
    exit 0
fi

work=$(mktemp -d /tmp/fl-report-XXXXXX)
trap 'rm -rf "$work"' EXIT
report=$work/report.html

if "$FL_BIN" replay --help 2>&1 | grep -q -- '--report'; then
    "$build/tests/gen/flgen" --seed 1 --scenario cloudflare-5xx \
        --out "$work/cf.pcap" --truth "$work/cf.tsv"
    "$FL_BIN" replay --quiet --report "$report" "$work/cf.pcap" >/dev/null ||
        fail "faultline replay --report failed"
    echo "report written by faultline replay --report"
else
    t=$build/tests/test_report_html
    [ -x "$t" ] || fail "no $t (build the tests first)"
    FL_REPORT_OUT=$report CK_RUN_CASE=cloudflare "$t" >/dev/null ||
        fail "test_report_html failed"
    echo "report written by test_report_html (faultline has no --report yet)"
fi
[ -s "$report" ] || fail "no report"
grep -q '<svg' "$report" || fail "report has no chart"
echo "report: $(stat -c %s "$report") bytes"

# No network: the page must not need it, and the browser must not try.
chrome() {
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --disable-extensions --user-data-dir="$(mktemp -d "$work/profile-XXXXXX")" \
        --enable-logging=stderr --v=0 "$@"
}

png=$work/report.png
chrome --screenshot="$png" --window-size=1280,2400 "file://$report" \
    >"$work/shot.out" 2>"$work/shot.log" || { cat "$work/shot.log" >&2; fail "screenshot failed"; }
[ -s "$png" ] || fail "no screenshot"
size=$(stat -c %s "$png")
[ "$size" -gt 20480 ] || fail "screenshot is only $size bytes (blank page?)"
# PNG signature, then IHDR width and height (big-endian, bytes 16..23)
[ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "not a PNG"
dims=$(od -An -tu1 -j16 -N8 "$png" | tr -s ' ' | sed 's/^ //')
read -r w1 w2 w3 w4 h1 h2 h3 h4 <<<"$dims"
width=$(( (w1 << 24) | (w2 << 16) | (w3 << 8) | w4 ))
height=$(( (h1 << 24) | (h2 << 16) | (h3 << 8) | h4 ))
[ "$width" -eq 1280 ] && [ "$height" -eq 2400 ] || fail "screenshot is ${width}x${height}"
echo "screenshot: ${width}x${height}, $size bytes"

# Console errors (script errors, CSP refusals of an external resource) are
# logged as CONSOLE lines; the page has no script, so there must be none.
if grep -E 'CONSOLE|Uncaught|Refused to (load|apply|execute)' "$work/shot.log"; then
    fail "browser console reported errors"
fi

dom=$work/dom.html
chrome --dump-dom "file://$report" >"$dom" 2>"$work/dom.log" ||
    { cat "$work/dom.log" >&2; fail "dump-dom failed"; }
grep -q '<h1>Cloudflare failing: HTTP 5xx' "$dom" || fail "DOM has no Cloudflare verdict"
grep -q 'class="alert-row"' "$dom" || fail "DOM has no alert row"
n=$(grep -o '<svg class="chart"' "$dom" | wc -l)
[ "$n" -eq 6 ] || fail "DOM has $n charts, want 6 (one per provider)"
if grep -E 'CONSOLE|Uncaught|Refused to (load|apply|execute)' "$work/dom.log"; then
    fail "browser console reported errors (dump-dom)"
fi

if [ -n "${FL_REPORT_KEEP:-}" ]; then
    mkdir -p "$FL_REPORT_KEEP"
    cp "$report" "$png" "$FL_REPORT_KEEP/"
fi
echo "PASS: report renders (${width}x${height}), DOM has the Cloudflare verdict and $n charts"

#!/usr/bin/env bash
# e2e_cli_errors: every way a user can get the command line or the input
# wrong gives the documented exit status (1 usage, 2 unusable input, 3
# partial input) and one clear stderr line that names what was wrong; the
# usage text may follow a usage error, nothing else. Nothing crashes (the
# sanitizer build aborts on any memory error, which would change the status).
# Also: a file with a valid pcap header and garbage frames is analysed
# (exit 0) with every bad frame counted as a decode error.
source "$(dirname "$0")/lib.sh"

T=$E2E_TMP
"$FL_BIN" --help >"$T/usage.txt"

# check NAME WANT_RC 'substring' ['substring'...] -- COMMAND...
# Runs COMMAND; the status must be WANT_RC, and the stderr lines that are
# not the usage text must be exactly one, containing every substring.
check() {
    local name=$1 want=$2
    shift 2
    local subs=()
    while [ "$1" != -- ]; do subs+=("$1"); shift; done
    shift
    local rc=0
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$T/err" >&2; fail "$name: exit $rc, want $want"; }
    grep -v -x -F -f "$T/usage.txt" "$T/err" | grep -v '^$' >"$T/lines" || true
    local n
    n=$(wc -l <"$T/lines")
    [ "$n" -eq 1 ] || { cat "$T/err" >&2; fail "$name: $n stderr lines besides the usage, want 1"; }
    local s
    for s in "${subs[@]}"; do
        grep -q -F -- "$s" "$T/lines" || fail "$name: stderr '$(cat "$T/lines")' does not say '$s'"
    done
    pass "$name: exit $want, '$(cat "$T/lines")'"
}

TLS2=$FL_REAL/tls2.pcap
mkdir "$T/adir"
: >"$T/empty.pcap"
printf 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n' >"$T/text.pcap"
printf '[analysis]\nbucket_s = 10\nthis line is not an assignment\n' >"$T/badline.ini"
printf '[analysis]\nbucket_s = ten\n' >"$T/badvalue.ini"
printf '[analysis]\nno_such_setting = 1\n' >"$T/badname.ini"
# a CR inside a value takes a byte of the INI reader's line buffer (found
# by fuzzing: such a line was cut and read as "syntax error"); a CR ending
# a line (CRLF) does not, so a 199-byte line in a CRLF file still loads
printf '[capture]\r\nbpf = tcp%s port 443\r\n' "$(printf '\r%.0s' {1..200})" >"$T/crlong.ini"
printf '[analysis]\r\n#%s\r\nbucket_s = 10\r\n' "$(printf 'x%.0s' {1..198})" >"$T/crlf199.ini"

check "missing file" 2 "$T/nope.pcap" "No such file" -- "$FL_BIN" replay --json "$T/nope.pcap"
check "missing second file" 2 "$T/nope.pcap" -- "$FL_BIN" replay --json "$TLS2" "$T/nope.pcap"
check "directory" 2 "$T/adir" "directory" -- "$FL_BIN" replay --json "$T/adir"
check "empty file" 2 "$T/empty.pcap" "empty" -- "$FL_BIN" replay --json "$T/empty.pcap"
check "text file" 2 "$T/text.pcap" "not a pcap" -- "$FL_BIN" replay --json "$T/text.pcap"
check "bad BPF filter" 2 "bad BPF filter" "tcp port" -- "$FL_BIN" replay --json -f "tcp port" "$TLS2"
check "unknown option" 1 "--bogus" -- "$FL_BIN" replay --json --bogus "$TLS2"
check "unknown command" 1 "frobnicate" -- "$FL_BIN" frobnicate
check "no capture file" 1 "no capture file" -- "$FL_BIN" replay --json
check "unknown --set name" 1 "no_such_setting" -- "$FL_BIN" replay --set no_such_setting=1 "$TLS2"
check "--set without =" 1 "NAME=VALUE" -- "$FL_BIN" replay --set bucket_s "$TLS2"
check "bad --set value" 1 "bucket_s" "x9" -- "$FL_BIN" replay --set bucket_s=x9 "$TLS2"
check "zero bucket" 1 "bucket_s" -- "$FL_BIN" replay --bucket 0 "$TLS2"
check "bad --speed" 1 "--speed" "-1" -- "$FL_BIN" replay --speed -1 "$TLS2"
check "config: bad line" 2 "badline.ini:3" -- "$FL_BIN" replay --config "$T/badline.ini" "$TLS2"
check "config: bad value" 2 "badvalue.ini:2" "ten" -- "$FL_BIN" replay --config "$T/badvalue.ini" "$TLS2"
check "config: unknown name" 2 "badname.ini:2" "no_such_setting" -- "$FL_BIN" replay --config "$T/badname.ini" "$TLS2"
check "config: missing file" 2 "$T/none.ini" -- "$FL_BIN" replay --config "$T/none.ini" "$TLS2"
check "config: CRs inside a value" 2 "crlong.ini:2" "the INI reader's limit" -- "$FL_BIN" replay --config "$T/crlong.ini" "$TLS2"
"$FL_BIN" replay --quiet --json --config "$T/crlf199.ini" "$TLS2" >/dev/null ||
    fail "a CRLF config with a 199-byte line does not load"
pass "config: a CRLF file's 199-byte line loads"
check "bad Redis URL" 1 "Redis URL" -- "$FL_BIN" replay --redis "http://x" "$TLS2"
check "capture: no interface" 1 "interface" -- "$FL_BIN" capture --json
check "capture: unknown interface" 2 "nosuchif0" -- "$FL_BIN" capture -i nosuchif0 --json

# Truncated capture: 25 whole packets then a record header cut after 2 of
# its 16 bytes (tshark reads 25: pcaps/real/MANIFEST.tsv). Exit 3, and the
# results of those 25 packets are still printed.
check "truncated capture" 3 "http-fault-post.pcap" "truncated" -- \
    "$FL_BIN" replay --json "$FL_REAL/http-fault-post.pcap"
[ "$(jq .source.packets "$T/out")" = 25 ] || fail "truncated capture: source.packets $(jq .source.packets "$T/out"), want 25"
[ "$(jq -r '.totals.flows' "$T/out")" -ge 1 ] || fail "truncated capture: no flows in the printed JSON"
pass "truncated capture: JSON printed with source.packets 25"

# A valid pcap header (little-endian, v2.4, snaplen 65535, LINKTYPE_ETHERNET)
# and four crafted frames, each malformed in its own way (tshark agrees:
# "Bogus IP header length", "Invalid IPv6 header", "Malformed Packet" x2):
#  1. IPv4 with IHL 2 (8 bytes, less than the minimum 20, RFC 791)
#  2. IPv6 with only 8 of its 40 header bytes (RFC 8200)
#  3. 10 bytes: not even an Ethernet header
#  4. IPv4 header for TCP followed by 2 bytes, not the 20 of a TCP header
frames=(
    '\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00\x42\x00\x00\x30\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad'
    '\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x86\xdd\x60\x00\x00\x00\x00\x28\x06\x40'
    '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff'
    '\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00\x45\x00\x00\x28\x00\x01\x00\x00\x40\x06\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02\xde\xad'
)
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
{
    printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00'
    i=0
    for f in "${frames[@]}"; do
        i=$((i + 1))
        len=$((${#f} / 4))   # each byte is written \xHH: 4 characters
        printf "$(le32 $((1760000000 + i)))$(le32 0)$(le32 $len)$(le32 $len)"
        printf "$f"
    done
} >"$T/garbage.pcap"
[ "$(stat -c %s "$T/garbage.pcap")" -eq $((24 + 4 * 16 + 40 + 22 + 10 + 36)) ] || fail "garbage.pcap size"
rc=0
"$FL_BIN" replay --json "$T/garbage.pcap" >"$T/g.json" 2>"$T/g.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/g.err" >&2; fail "garbage frames: exit $rc, want 0"; }
got=$(jq -c '[.source.packets, .source.decode_errors, .source.decode_error_reasons.bad_ipv4_header,
              .source.decode_error_reasons.truncated_ip, .source.decode_error_reasons.truncated_link,
              .source.decode_error_reasons.truncated_tcp, (.totals.flows // 0)]' "$T/g.json")
[ "$got" = "[4,4,1,1,1,1,0]" ] || fail "garbage frames: [packets, decode_errors, reasons..., flows] = $got"
pass "garbage frames: exit 0, 4 packets, 4 decode errors (one per reason), no flows"

# Many frames of pseudo-random bytes (a fixed LCG, so every run is the same
# file; tshark reads 500 frames from it): exit 0, every packet read, and
# the report is valid JSON.
{
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00'
LC_ALL=C awk 'BEGIN {
    x = 12345
    for (p = 0; p < 500; p++) {
        x = (x * 1103515245 + 12345) % 2147483648
        n = 14 + int(x / 65536) % 300
        t = 1760000000 + p
        printf "%c%c%c%c%c%c%c%c", t % 256, int(t / 256) % 256, int(t / 65536) % 256, int(t / 16777216), 0, 0, 0, 0
        printf "%c%c%c%c%c%c%c%c", n % 256, int(n / 256), 0, 0, n % 256, int(n / 256), 0, 0
        for (i = 0; i < n; i++) {
            x = (x * 1103515245 + 12345) % 2147483648
            b = int(x / 65536) % 256
            # every 4th frame an IPv4 or IPv6 ethertype, so the IP decoder sees garbage too
            if (i == 12 && p % 4 == 0) b = 8
            if (i == 13 && p % 4 == 0) b = 0
            if (i == 12 && p % 4 == 1) b = 134
            if (i == 13 && p % 4 == 1) b = 221
            if (i == 14 && p % 4 == 0) b = 69
            printf "%c", b
        }
    }
}'
} >"$T/random.pcap"
rc=0
"$FL_BIN" replay --json "$T/random.pcap" >"$T/r.json" 2>"$T/r.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/r.err" >&2; fail "random frames: exit $rc, want 0"; }
[ "$(jq .source.packets "$T/r.json")" = 500 ] || fail "random frames: packets $(jq .source.packets "$T/r.json")"
[ "$(jq .source.decode_errors "$T/r.json")" -gt 0 ] || fail "random frames: no decode errors"
pass "500 random frames: exit 0, 500 packets, $(jq .source.decode_errors "$T/r.json") decode errors"

done_all

#!/usr/bin/env bash
# Regenerates tshark_streams.tsv (needs tshark; not run by CI: the TSV is the oracle).
set -euo pipefail
cd "$(dirname "$0")/../../pcaps/real"
echo "# tshark $(tshark --version | head -1 | awk '{print $3}') stream counts per capture: the oracle for faultline's flow counts."
echo "# Produced by tests/oracle/make_streams.sh (tshark -n -r F -T fields -e tcp.stream / -e udp.stream,"
echo "# distinct values, outer and tunneled packets alike; ICMP-quoted headers excluded with !icmp && !icmpv6)."
printf "file\ttcp_streams\tudp_streams\n"
for f in $(ls | grep -v -E '\.(tsv|md)$' | sort); do
  t=$(tshark -n -r "$f" -Y 'tcp && !icmp && !icmpv6' -T fields -e tcp.stream 2>/dev/null | tr ',' '\n' | grep . | sort -u | wc -l)
  u=$(tshark -n -r "$f" -Y 'udp && !icmp && !icmpv6' -T fields -e udp.stream 2>/dev/null | tr ',' '\n' | grep . | sort -u | wc -l)
  printf "%s\t%s\t%s\n" "$f" "$t" "$u"
done

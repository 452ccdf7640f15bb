/* pcap_loop.c - the floor of tests/bench/bench.sh: read every packet of a
 * capture through libpcap (pcap_next_ex) and count them, nothing else.
 * faultline's replay cannot be faster than this on the same file.
 *
 *   cc -O2 -o pcap_loop pcap_loop.c -lpcap && ./pcap_loop FILE
 * prints "<packets> <bytes>" on stdout. */
#include <pcap/pcap.h>
#include <stdio.h>

volatile unsigned fl_sink; /* keeps the per-packet read */

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 1;
    }
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    struct pcap_pkthdr *h;
    const unsigned char *data;
    unsigned long long packets = 0, bytes = 0;
    unsigned sum = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        packets++;
        bytes += h->caplen;
        /* touch the frame as any reader must (the Ethernet type), so the
         * loop is not only a header walk */
        if (h->caplen > 13)
            sum += data[12] ^ data[13];
    }
    if (rc == PCAP_ERROR)
        fprintf(stderr, "%s\n", pcap_geterr(p));
    pcap_close(p);
    fl_sink = sum;
    printf("%llu %llu\n", packets, bytes);
    return rc == PCAP_ERROR ? 3 : 0;
}

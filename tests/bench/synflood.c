/* synflood.c - writes a pcap of a SYN flood for tests/bench/bench.sh: N
 * TCP SYNs, each from its own client address (10.0.0.0/8, then
 * 100.64.0.0/10 when N > 2^24 - 2) and source port, to one server, at a
 * fixed rate, never answered. Every SYN is a distinct flow: the flow table,
 * the nDPI pool and the per-client state of the detector all grow with N.
 *
 *   synflood FLOWS OUT.pcap [RATE_PER_S] [SERVER_IPV4]
 *
 * Defaults: 100000 SYN/s to 104.16.132.229:443 (a Cloudflare address, so
 * flows are attributed by range like real traffic). Deterministic bytes. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* RFC 1071 one's-complement sum, folded */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}
static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s FLOWS OUT.pcap [RATE_PER_S] [SERVER_IPV4]\n", argv[0]);
        return 1;
    }
    unsigned long flows = strtoul(argv[1], NULL, 10);
    double rate = argc > 3 ? strtod(argv[3], NULL) : 100000.0;
    struct in_addr srv;
    if (inet_pton(AF_INET, argc > 4 ? argv[4] : "104.16.132.229", &srv) != 1 || rate <= 0 ||
        flows == 0 || flows > (1ul << 24) - 2 + (1ul << 22) - 2) {
        fprintf(stderr, "%s: bad arguments\n", argv[0]);
        return 1;
    }
    FILE *f = fopen(argv[2], "wb");
    if (!f) {
        perror(argv[2]);
        return 2;
    }
    /* pcap global header (little-endian, microseconds, Ethernet) */
    uint8_t gh[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2,    0,    4, 0, 0, 0, 0, 0,
                       0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0 };
    fwrite(gh, 1, sizeof gh, f);
    const uint64_t t0 = 1760950800ull * 1000000u; /* 2025-10-20 09:00:00 UTC */
    uint32_t dst = ntohl(srv.s_addr);
    static uint8_t buf[1 << 20];
    size_t used = 0;
    for (unsigned long i = 0; i < flows; i++) {
        uint8_t pkt[16 + 58];
        uint8_t *fr = pkt + 16;
        memset(pkt, 0, sizeof pkt);
        uint64_t ts = t0 + (uint64_t)((double)i * 1e6 / rate);
        uint32_t src = i < (1ul << 24) - 2 ? 0x0a000001u + (uint32_t)i
                                           : 0x64400001u + (uint32_t)(i - ((1ul << 24) - 2));
        uint16_t sport = (uint16_t)(32768 + (i * 7919u) % 28232); /* Linux ephemeral range */
        /* record header: ts_sec, ts_usec, caplen, len (little-endian) */
        uint32_t h[4] = { (uint32_t)(ts / 1000000u), (uint32_t)(ts % 1000000u), 58, 58 };
        for (int k = 0; k < 4; k++)
            for (int b = 0; b < 4; b++)
                pkt[k * 4 + b] = (uint8_t)(h[k] >> (8 * b));
        /* Ethernet */
        static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 1 }, smac[6] = { 0x02, 0, 0, 0, 0, 2 };
        memcpy(fr, dmac, 6);
        memcpy(fr + 6, smac, 6);
        put16(fr + 12, 0x0800);
        /* IPv4, RFC 791: 20 bytes, DF, TTL 64, TCP */
        uint8_t *ip = fr + 14;
        ip[0] = 0x45;
        put16(ip + 2, 44);
        put16(ip + 4, (uint16_t)i);
        put16(ip + 6, 0x4000);
        ip[8] = 64;
        ip[9] = 6;
        put32(ip + 12, src);
        put32(ip + 16, dst);
        put16(ip + 10, fold(sum16(ip, 20, 0)));
        /* TCP SYN, RFC 9293: 24 bytes with an MSS option (RFC 6691) */
        uint8_t *tcp = ip + 20;
        put16(tcp, sport);
        put16(tcp + 2, 443);
        put32(tcp + 4, (uint32_t)(i * 2654435761u));
        tcp[12] = 6 << 4;
        tcp[13] = 0x02;
        put16(tcp + 14, 64240);
        tcp[20] = 2;
        tcp[21] = 4;
        put16(tcp + 22, 1460);
        uint8_t pseudo[12];
        memcpy(pseudo, ip + 12, 8);
        pseudo[8] = 0;
        pseudo[9] = 6;
        put16(pseudo + 10, 24);
        put16(tcp + 16, fold(sum16(tcp, 24, sum16(pseudo, 12, 0))));
        if (used + sizeof pkt > sizeof buf) {
            fwrite(buf, 1, used, f);
            used = 0;
        }
        memcpy(buf + used, pkt, sizeof pkt);
        used += sizeof pkt;
    }
    fwrite(buf, 1, used, f);
    if (fclose(f) != 0) {
        perror(argv[2]);
        return 2;
    }
    return 0;
}

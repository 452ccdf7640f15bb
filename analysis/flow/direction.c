/* direction.c - who opened a flow we did not see begin. */
#include <netinet/in.h>

#include "fl_cursor.h"
#include "fl_flow.h"

/* Ports a server listens on: below 1024 (RFC 6335 system ports) and the
 * common alternative HTTP and mDNS ports. */
static bool server_port(uint16_t p)
{
    return p < 1024 || p == FL_PORT_HTTP_ALT || p == FL_PORT_HTTPS_ALT || p == FL_PORT_HTTP_PROXY ||
           p == FL_PORT_MDNS;
}

bool fl_flow_guess_src_is_client(const fl_packet *pkt)
{
    if (pkt->l4_proto == IPPROTO_TCP) {
        uint8_t fl = pkt->tcp_flags;
        if ((fl & (FL_TCP_SYN | FL_TCP_ACK)) == FL_TCP_SYN)
            return true;
        if ((fl & (FL_TCP_SYN | FL_TCP_ACK)) == (FL_TCP_SYN | FL_TCP_ACK))
            return false;
    }
    if (pkt->l4_proto == IPPROTO_UDP && (pkt->sport == FL_PORT_DNS || pkt->dport == FL_PORT_DNS) &&
        pkt->payload_len >= 3) {
        /* a DNS response (QR set, RFC 1035 4.1.1) travels to the client */
        fl_cursor c = fl_cursor_make(pkt->payload, pkt->payload_len);
        fl_cur_skip(&c, 2);
        return (fl_cur_u8(&c) & 0x80) == 0;
    }
    if (server_port(pkt->sport) && !server_port(pkt->dport))
        return false;
    if (server_port(pkt->dport) && !server_port(pkt->sport))
        return true;
    if (pkt->sport && pkt->dport && pkt->sport < pkt->dport)
        return false;
    return true;
}

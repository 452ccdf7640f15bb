/* addr.c - text forms of fl_addr. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "fl_packet.h"

char *fl_addr_str(const fl_addr *a, char *buf, size_t len)
{
    if (!len)
        return buf;
    if (a->family == 4) {
        if (!inet_ntop(AF_INET, a->b, buf, (socklen_t)len))
            buf[0] = '\0';
    } else if (a->family == 6) {
        if (!inet_ntop(AF_INET6, a->b, buf, (socklen_t)len))
            buf[0] = '\0';
    } else {
        snprintf(buf, len, "-");
    }
    return buf;
}

bool fl_addr_parse(const char *text, fl_addr *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, out->b) == 1) {
        out->family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, text, out->b) == 1) {
        out->family = 6;
        return true;
    }
    return false;
}

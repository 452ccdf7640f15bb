/* text_visible.c - traffic names with their odd bytes as \xNN
 * (fl_text.h). */
#include <stdio.h>

#include "fl_text.h"

bool fl_text_visible(const char *s, char *out, size_t outlen)
{
    bool escaped = false;
    size_t n = 0;
    if (!outlen)
        return false;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p >= 0x20 && *p < 0x7f) {
            if (n + 1 >= outlen)
                break;
            out[n++] = (char)*p;
            continue;
        }
        if (n + 4 >= outlen)
            break;
        snprintf(out + n, 5, "\\x%02x", *p);
        n += 4;
        escaped = true;
    }
    out[n] = '\0';
    return escaped;
}

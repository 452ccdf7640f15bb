/* families.c - failures, signal families and ratios (fl_families.h). */
#include <string.h>

#include "fl_families.h"

static const char *const names[FL_FAM_COUNT] = {
#define FL_X(id, name, what, per) #name,
    FL_FAMILIES(FL_X)
#undef FL_X
};
static const char *const whats[FL_FAM_COUNT] = {
#define FL_X(id, name, what, per) what,
    FL_FAMILIES(FL_X)
#undef FL_X
};
static const char *const pers[FL_FAM_COUNT] = {
#define FL_X(id, name, what, per) per,
    FL_FAMILIES(FL_X)
#undef FL_X
};

const char *fl_family_name(fl_family f)
{
    return (unsigned)f < FL_FAM_COUNT ? names[f] : "?";
}

const char *fl_family_what(fl_family f)
{
    return (unsigned)f < FL_FAM_COUNT ? whats[f] : "?";
}

const char *fl_family_per(fl_family f)
{
    return (unsigned)f < FL_FAM_COUNT ? pers[f] : "?";
}

fl_family fl_family_from_name(const char *name)
{
    for (int f = 0; name && f < FL_FAM_COUNT; f++)
        if (!strcmp(names[f], name))
            return (fl_family)f;
    return FL_FAM_COUNT;
}

void fl_family_counts_raw(const fl_counts *c, uint64_t fails[FL_FAM_COUNT],
                          uint64_t total[FL_FAM_COUNT])
{
    const uint64_t *v = c->v;
    fails[FL_FAM_CONNECT] = v[FL_C_tcp_refused] + v[FL_C_tcp_syn_timeouts] + v[FL_C_tcp_resets];
    total[FL_FAM_CONNECT] = v[FL_C_tcp_attempts];
    fails[FL_FAM_TLS] = v[FL_C_tls_failures];
    total[FL_FAM_TLS] = v[FL_C_tls_handshakes];
    fails[FL_FAM_DNS] = v[FL_C_dns_servfail] + v[FL_C_dns_refused] + v[FL_C_dns_timeouts];
    total[FL_FAM_DNS] = v[FL_C_dns_queries];
    fails[FL_FAM_DNS_NODATA] = v[FL_C_dns_nodata];
    total[FL_FAM_DNS_NODATA] = v[FL_C_dns_responses];
    fails[FL_FAM_HTTP] = v[FL_C_http_5xx];
    total[FL_FAM_HTTP] = v[FL_C_http_responses];
    fails[FL_FAM_QUIC] = v[FL_C_quic_failures];
    total[FL_FAM_QUIC] = v[FL_C_quic_handshakes];
    /* Suspect responses are among https_responses; early closes and stalls
     * are requests that got no response, so they join the total. */
    uint64_t https_lost = v[FL_C_tls_early_closes] + v[FL_C_tls_stalls];
    fails[FL_FAM_HTTPS] = v[FL_C_https_suspect] + https_lost;
    total[FL_FAM_HTTPS] = v[FL_C_https_responses] + https_lost;
    /* A TLS handshake ended by a server RST is also a tcp_resets, and so is
     * an HTTPS request the server closed early with a RST: once. */
    uint64_t rst_like = v[FL_C_tls_failures] + v[FL_C_tls_early_closes];
    uint64_t beyond_resets = rst_like > v[FL_C_tcp_resets] ? rst_like - v[FL_C_tcp_resets] : 0;
    /* A kept-alive connection answering 5xx to three requests is one
     * failed attempt of `any` (whose attempts are flows), not three: its
     * later 5xx are repeats. The `http` family still counts each response. */
    uint64_t http_repeats =
        v[FL_C_http_5xx_repeats] < v[FL_C_http_5xx] ? v[FL_C_http_5xx_repeats] : v[FL_C_http_5xx];
    fails[FL_FAM_ANY] = fails[FL_FAM_CONNECT] + fails[FL_FAM_DNS] + fails[FL_FAM_HTTP] -
                        http_repeats + v[FL_C_tls_stalls] + beyond_resets;
    total[FL_FAM_ANY] = v[FL_C_flows] + v[FL_C_dns_queries];
}

void fl_family_counts(const fl_counts *c, uint64_t fails[FL_FAM_COUNT],
                      uint64_t total[FL_FAM_COUNT])
{
    fl_family_counts_raw(c, fails, total);
    for (int i = 0; i < FL_FAM_COUNT; i++)
        if (total[i] < fails[i])
            total[i] = fails[i];
}

void fl_family_count(const fl_counts *c, fl_family f, uint64_t *fails, uint64_t *total)
{
    uint64_t fa[FL_FAM_COUNT], to[FL_FAM_COUNT];
    fl_family_counts(c, fa, to);
    *fails = (unsigned)f < FL_FAM_COUNT ? fa[f] : 0;
    *total = (unsigned)f < FL_FAM_COUNT ? to[f] : 0;
}

/* From the one definition above: which numerators these counts (of one
 * failure) move. */
static uint16_t mask_of(fl_counter c, fl_counter also)
{
    fl_counts one;
    memset(&one, 0, sizeof one);
    one.v[c] = 1;
    if (also != FL_C_COUNT)
        one.v[also] = 1;
    uint64_t fails[FL_FAM_COUNT], total[FL_FAM_COUNT];
    fl_family_counts_raw(&one, fails, total);
    uint16_t m = 0;
    for (int f = 0; f < FL_FAM_COUNT; f++)
        if (fails[f])
            m |= (uint16_t)(1u << f);
    return m;
}

uint16_t fl_family_mask(fl_counter c)
{
    return (unsigned)c < FL_C_COUNT ? mask_of(c, FL_C_COUNT) : 0;
}

uint16_t fl_family_mask_after_reset(fl_counter c)
{
    uint16_t m = fl_family_mask(c);
    /* the RST-like counters of fl_family_counts_raw's `beyond_resets` */
    if (c == FL_C_tls_failures || c == FL_C_tls_early_closes)
        m &= (uint16_t) ~(1u << FL_FAM_ANY);
    return m;
}

uint16_t fl_family_mask_http_repeat(void)
{
    return mask_of(FL_C_http_5xx, FL_C_http_5xx_repeats);
}

uint64_t fl_counts_failures(const fl_counts *c)
{
    uint64_t fails, total;
    fl_family_count(c, FL_FAM_ANY, &fails, &total);
    return fails;
}

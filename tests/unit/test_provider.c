/* test_provider.c - provider attribution: shipped ranges, nDPI's lists,
 * operator rules, name suffixes, DNS learning, public resolvers.
 *
 * Expected owners are the providers' published ranges as listed in
 * deploy/provider_ranges.tsv (e.g. 104.16.0.0/13 Cloudflare, 52.94.0.0/20
 * AWS, 96.6.0.0/15 Akamai, 151.101.0.0/16 Fastly), or the operators' own
 * documentation for resolver addresses. Unknown addresses are from the
 * documentation ranges (RFC 5737, RFC 3849). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "fl_provider.h"
#include "fl_test_util.h"
#include "name_cache.h"

typedef struct fixture {
    fl_classifier *cls;
    fl_providers *p;
} fixture;

static void open_with(fixture *fx, const char *rules_path, uint32_t learned_max)
{
    char err[256] = "";
    char *ranges = fl_test_path("deploy/provider_ranges.tsv");
    fx->cls = fl_classifier_new(rules_path, 1, err, sizeof err);
    ck_assert_msg(fx->cls != NULL, "classifier: %s", err);
    fl_providers_options opt = { .ranges_path = ranges,
                                 .rules_path = rules_path,
                                 .learned_max = learned_max };
    fx->p = fl_providers_new(fx->cls, &opt, err, sizeof err);
    ck_assert_msg(fx->p != NULL, "providers: %s", err);
    free(ranges);
}

static void open_default(fixture *fx)
{
    char *rules = fl_test_path("deploy/providers.rules");
    open_with(fx, rules, 0);
    free(rules);
}

static void close_fx(fixture *fx)
{
    fl_providers_free(fx->p);
    fl_classifier_free(fx->cls);
}

static fl_addr A(const char *text)
{
    fl_addr a;
    ck_assert_msg(fl_addr_parse(text, &a), "bad address %s", text);
    return a;
}

static const char *by_addr(fixture *fx, const char *text)
{
    fl_addr a = A(text);
    return fl_providers_name(fx->p, fl_providers_by_addr(fx->p, &a));
}

static const char *by_name(fixture *fx, const char *name)
{
    return fl_providers_name(fx->p, fl_providers_by_name(fx->p, name));
}

static char tmpdir[64];

static char *write_tmp(const char *name, const char *text)
{
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/fl-test-provider-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    }
    size_t n = strlen(tmpdir) + strlen(name) + 2;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void drop_tmp(char *path)
{
    unlink(path);
    free(path);
    if (rmdir(tmpdir) == 0)
        tmpdir[0] = '\0';
}

/* ---- by address ---- */

START_TEST(real_addresses_of_each_provider)
{
    fixture fx;
    open_default(&fx);
    ck_assert_str_eq(by_addr(&fx, "104.16.1.1"), "Cloudflare");
    ck_assert_str_eq(by_addr(&fx, "2606:4700::1"), "Cloudflare");
    ck_assert_str_eq(by_addr(&fx, "52.94.1.1"), "AWS");
    ck_assert_str_eq(by_addr(&fx, "142.250.1.1"), "Google");
    ck_assert_str_eq(by_addr(&fx, "2a00:1450::1"), "Google");
    ck_assert_str_eq(by_addr(&fx, "96.6.1.1"), "Akamai");
    ck_assert_str_eq(by_addr(&fx, "2a02:26f0::1"), "Akamai");
    ck_assert_str_eq(by_addr(&fx, "151.101.1.1"), "Fastly");
    ck_assert_str_eq(by_addr(&fx, "2a04:4e42::1"), "Fastly");
    ck_assert_str_eq(by_addr(&fx, "20.33.0.1"), "Microsoft"); /* 20.33.0.0/16 Azure */
    ck_assert_str_eq(by_addr(&fx, "17.253.1.1"), "Apple");    /* 17.0.0.0/8 */
    ck_assert_str_eq(by_addr(&fx, "157.240.1.1"), "Meta");
    /* tls2.pcap: images-na.ssl-images-amazon.com, nDPI's "TLS.Amazon", is
     * served from 2a04:4e42:a::272 - Fastly's address, Fastly's outage. */
    ck_assert_str_eq(by_addr(&fx, "2a04:4e42:a::272"), "Fastly");
    /* In no range. */
    ck_assert_str_eq(by_addr(&fx, "192.0.2.1"), "unknown");
    ck_assert_str_eq(by_addr(&fx, "2001:db8::1"), "unknown");
    fl_addr none = { 0 };
    ck_assert_uint_eq(fl_providers_by_addr(fx.p, &none), FL_PROVIDER_UNKNOWN);
    close_fx(&fx);
}
END_TEST

START_TEST(ranges_without_rules_still_cover_cdns)
{
    /* No operator file: Akamai and Fastly come from the shipped ranges. */
    fixture fx;
    open_with(&fx, NULL, 0);
    ck_assert_str_eq(by_addr(&fx, "96.6.1.1"), "Akamai");
    ck_assert_str_eq(by_addr(&fx, "2a04:4e42::1"), "Fastly");
    ck_assert_str_eq(by_addr(&fx, "104.16.1.1"), "Cloudflare");
    close_fx(&fx);
}
END_TEST

START_TEST(ndpi_lists_fill_gaps)
{
    /* Without the ranges file, nDPI 4.2's own IPv4 lists still map through
     * the id table (Google 142.250.0.0/15, Cloudflare 104.16.0.0/13). */
    char err[256] = "";
    fl_classifier *cls = fl_classifier_new(NULL, 1, err, sizeof err);
    ck_assert_ptr_nonnull(cls);
    fl_providers_options opt = { 0 };
    fl_providers *p = fl_providers_new(cls, &opt, err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    fl_addr a = A("142.250.1.1");
    ck_assert_str_eq(fl_providers_name(p, fl_providers_by_addr(p, &a)), "Google");
    a = A("104.16.1.1");
    ck_assert_str_eq(fl_providers_name(p, fl_providers_by_addr(p, &a)), "Cloudflare");
    a = A("2606:4700::1"); /* nDPI 4.2 has no IPv6 lists */
    ck_assert_uint_eq(fl_providers_by_addr(p, &a), FL_PROVIDER_UNKNOWN);
    fl_providers_free(p);
    fl_classifier_free(cls);
}
END_TEST

START_TEST(operator_rules_take_precedence)
{
    /* "Corp" claims a /24 of Cloudflare's 104.16.0.0/13 and a /48 of its
     * 2606:4700::/32: the operator's word wins, the rest stays Cloudflare. */
    char *rules = write_tmp("corp.rules", "# test rules\n"
                                          "ip:104.16.5.0/24@Corp\n"
                                          "ip:2606:4700:10::/48@Corp\n"
                                          "ip:10.0.0.0/8:443,ip:192.0.2.0/24@Corp\n"
                                          "host:\"corp.example\"@Corp\n"
                                          "host:\"cdn.corp.example\"@Fastly\n"
                                          "host:\"special.amazonaws.com\"@Corp\n"
                                          "tcp:8123@CorpApp\n");
    fixture fx;
    open_with(&fx, rules, 0);
    ck_assert_str_eq(by_addr(&fx, "104.16.5.9"), "Corp");
    ck_assert_str_eq(by_addr(&fx, "104.16.6.1"), "Cloudflare");
    ck_assert_str_eq(by_addr(&fx, "2606:4700:10::1"), "Corp");
    ck_assert_str_eq(by_addr(&fx, "2606:4700:11::1"), "Cloudflare");
    ck_assert_str_eq(by_addr(&fx, "10.1.2.3"), "Corp");
    ck_assert_str_eq(by_addr(&fx, "192.0.2.1"), "Corp");
    /* Host rules: the operator's first, longest suffix wins among them. */
    ck_assert_str_eq(by_name(&fx, "www.corp.example"), "Corp");
    ck_assert_str_eq(by_name(&fx, "a.cdn.corp.example"), "Fastly");
    ck_assert_str_eq(by_name(&fx, "x.special.amazonaws.com"), "Corp");
    ck_assert_str_eq(by_name(&fx, "s3.amazonaws.com"), "AWS");
    ck_assert_str_eq(by_name(&fx, "notcorp.example"), "unknown");
    /* nDPI classification: the custom protocol maps to its provider; a
     * port-only rule is an application, not a provider. */
    uint16_t corp = 0, app = 0;
    for (uint16_t id = 0; id < 512; id++) {
        const char *n = fl_classifier_proto_name(fx.cls, id);
        if (fl_classifier_proto_is_custom(fx.cls, id) && strcmp(n, "Corp") == 0)
            corp = id;
        if (fl_classifier_proto_is_custom(fx.cls, id) && strcmp(n, "CorpApp") == 0)
            app = id;
    }
    ck_assert_uint_ne(corp, 0);
    ck_assert_uint_ne(app, 0);
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_by_ndpi(fx.p, corp, 0)), "Corp");
    ck_assert_uint_eq(fl_providers_by_ndpi(fx.p, app, 0), FL_PROVIDER_UNKNOWN);
    ck_assert_uint_eq(fl_providers_find(fx.p, "CorpApp"), FL_PROVIDER_UNKNOWN);
    close_fx(&fx);
    drop_tmp(rules);
}
END_TEST

/* ---- by name ---- */

START_TEST(name_suffixes_on_label_boundaries)
{
    fixture fx;
    open_default(&fx);
    ck_assert_str_eq(by_name(&fx, "fastly.net"), "Fastly");
    ck_assert_str_eq(by_name(&fx, "global.ssl.fastly.net"), "Fastly");
    ck_assert_str_eq(by_name(&fx, "GLOBAL.SSL.FASTLY.NET."), "Fastly");
    ck_assert_str_eq(by_name(&fx, "notfastly.net"), "unknown");
    /* nDPI 4.2's matcher takes "xfastly.net" for host:"fastly.net"; ours
     * does not. */
    ck_assert_str_eq(by_name(&fx, "xfastly.net"), "unknown");
    ck_assert_str_eq(by_name(&fx, "fastly.net.example.org"), "unknown");
    ck_assert_str_eq(by_name(&fx, "www.example.com.cdn.cloudflare.net"), "Cloudflare");
    ck_assert_str_eq(by_name(&fx, "e1234.a.akamaiedge.net"), "Akamai");
    ck_assert_str_eq(by_name(&fx, "my-lb-1.us-east-1.elb.amazonaws.com"), "AWS");
    ck_assert_str_eq(by_name(&fx, "d111111abcdef8.cloudfront.net"), "AWS");
    ck_assert_str_eq(by_name(&fx, "r5---sn-n4v7sney.googlevideo.com"), "Google");
    ck_assert_str_eq(by_name(&fx, "myapp.azurewebsites.net"), "Microsoft");
    ck_assert_str_eq(by_name(&fx, "static.xx.fbcdn.net"), "Meta");
    ck_assert_str_eq(by_name(&fx, "objectstorage.us-ashburn-1.oraclecloud.com"), "Oracle");
    ck_assert_str_eq(by_name(&fx, "g.alicdn.com"), "Alibaba");
    ck_assert_str_eq(by_name(&fx, "is1-ssl.mzstatic.com"), "Apple");
    /* nDPI's host rules through the id table: YouTube -> Google. */
    ck_assert_str_eq(by_name(&fx, "www.youtube.com"), "Google");
    ck_assert_str_eq(by_name(&fx, "www.example.org"), "unknown");
    ck_assert_str_eq(by_name(&fx, ""), "unknown");
    ck_assert_str_eq(by_name(&fx, "."), "unknown");
    ck_assert_uint_eq(fl_providers_by_name(fx.p, NULL), FL_PROVIDER_UNKNOWN);
    char longname[400];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_str_eq(by_name(&fx, longname), "unknown");
    close_fx(&fx);
}
END_TEST

START_TEST(ndpi_ids_map_to_providers)
{
    fixture fx;
    open_default(&fx);
    static const struct {
        const char *ndpi, *provider;
    } want[] = {
        { "YouTube", "Google" },    { "GoogleServices", "Google" },
        { "Amazon", "AWS" },        { "AmazonAWS", "AWS" },
        { "Azure", "Microsoft" },   { "Teams", "Microsoft" },
        { "Hotmail", "Microsoft" }, { "Cloudflare", "Cloudflare" },
        { "AppleiCloud", "Apple" }, { "WhatsApp", "Meta" },
        { "Instagram", "Meta" },    { "Oracle", "Oracle" },
        { "Alibaba", "Alibaba" },   { "iCloudPrivateRelay", "unknown" },
        { "TLS", "unknown" },       { "Spotify", "unknown" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint16_t id = 0;
        for (uint16_t k = 1; k < 512 && !id; k++)
            if (strcmp(fl_classifier_proto_name(fx.cls, k), want[i].ndpi) == 0)
                id = k;
        ck_assert_msg(id != 0, "no nDPI protocol %s", want[i].ndpi);
        /* As app, and as master when the app says nothing. */
        ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_by_ndpi(fx.p, id, 0)),
                         want[i].provider);
        ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_by_ndpi(fx.p, 0, id)),
                         want[i].provider);
    }
    ck_assert_uint_eq(fl_providers_by_ndpi(fx.p, 60000, 60001), FL_PROVIDER_UNKNOWN);
    close_fx(&fx);
}
END_TEST

/* ---- DNS ---- */

static fl_dns_msg dns_msg(bool response, uint8_t rcode, const char *qname)
{
    fl_dns_msg m;
    memset(&m, 0, sizeof m);
    m.response = response;
    m.rcode = rcode;
    m.qdcount = 1;
    m.has_question = true;
    m.qtype = FL_DNS_TYPE_A;
    m.qclass = 1;
    snprintf(m.qname, sizeof m.qname, "%s", qname);
    return m;
}

START_TEST(dns_cname_chain_teaches_address)
{
    fixture fx;
    open_default(&fx);
    /* www.example.com CNAME example.com.cdn.cloudflare.net A 192.0.2.55:
     * the address is in no range, the chain's last name is Cloudflare's. */
    fl_dns_msg m = dns_msg(true, FL_DNS_RCODE_NOERROR, "www.example.com");
    m.ancount = 2;
    m.answered_qtype = m.answers_complete = true;
    m.ncnames = 1;
    strcpy(m.cnames[0], "example.com.cdn.cloudflare.net");
    m.naddrs = 1;
    m.addrs[0] = A("192.0.2.55");
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_for_dns(fx.p, &m, 1000)), "Cloudflare");
    /* A later flow to that address: the address says nothing... */
    fl_addr a = A("192.0.2.55");
    ck_assert_uint_eq(fl_providers_by_addr(fx.p, &a), FL_PROVIDER_UNKNOWN);
    /* ...what DNS said does. */
    char name[64];
    ck_assert_str_eq(
        fl_providers_name(fx.p, fl_providers_by_learned_addr(fx.p, &a, name, sizeof name)),
        "Cloudflare");
    ck_assert_str_eq(name, "www.example.com");
    ck_assert_str_eq(by_name(&fx, "www.example.com"), "Cloudflare");
    /* A later query for the name (no answers) is Cloudflare's too. */
    fl_dns_msg q = dns_msg(false, 0, "www.example.com");
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_for_dns(fx.p, &q, 2000)), "Cloudflare");
    /* A small name_out truncates. */
    char tiny[4];
    fl_providers_by_learned_addr(fx.p, &a, tiny, sizeof tiny);
    ck_assert_str_eq(tiny, "www");
    /* Another name for the same address that says nothing keeps what the
     * first answer said (the name is the newest). */
    fl_dns_msg m3 = dns_msg(true, 0, "other.example.org");
    m3.naddrs = 1;
    m3.addrs[0] = A("192.0.2.55");
    ck_assert_uint_eq(fl_providers_for_dns(fx.p, &m3, 3000), FL_PROVIDER_UNKNOWN);
    ck_assert_str_eq(
        fl_providers_name(fx.p, fl_providers_by_learned_addr(fx.p, &a, name, sizeof name)),
        "Cloudflare");
    ck_assert_str_eq(name, "other.example.org");
    /* Unlearned address. */
    a = A("192.0.2.56");
    ck_assert_uint_eq(fl_providers_by_learned_addr(fx.p, &a, name, sizeof name), 0);
    ck_assert_str_eq(name, "");
    close_fx(&fx);
}
END_TEST

START_TEST(dns_last_cname_first)
{
    fixture fx;
    open_default(&fx);
    /* a.example.net CNAME b.cloudfront.net CNAME c.akamaiedge.net: the last
     * name is where the answer points (contrived chain: order matters). */
    fl_dns_msg m = dns_msg(true, 0, "a.example.net");
    m.ncnames = 2;
    strcpy(m.cnames[0], "b.cloudfront.net");
    strcpy(m.cnames[1], "c.akamaiedge.net");
    m.naddrs = 1;
    m.addrs[0] = A("198.51.100.7");
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_for_dns(fx.p, &m, 1)), "Akamai");
    /* An answer address in a published range wins over names. */
    fl_dns_msg m2 = dns_msg(true, 0, "www.example.org");
    m2.ncnames = 1;
    strcpy(m2.cnames[0], "x.akamaiedge.net");
    m2.naddrs = 2;
    m2.addrs[0] = A("198.51.100.8");
    m2.addrs[1] = A("2a04:4e42::10");
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_for_dns(fx.p, &m2, 2)), "Fastly");
    fl_addr a = A("198.51.100.8");
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_by_learned_addr(fx.p, &a, NULL, 0)),
                     "Fastly");
    close_fx(&fx);
}
END_TEST

START_TEST(dns_servfail_by_name)
{
    fixture fx;
    open_default(&fx);
    /* The 2025-10-20 AWS incident: SERVFAIL, no answers. */
    fl_dns_msg m = dns_msg(true, FL_DNS_RCODE_SERVFAIL, "dynamodb.us-east-1.amazonaws.com");
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_for_dns(fx.p, &m, 1)), "AWS");
    fl_dns_msg q = dns_msg(false, 0, "DynamoDB.us-east-1.amazonaws.com.");
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_for_dns(fx.p, &q, 1)), "AWS");
    fl_dns_msg nx = dns_msg(true, FL_DNS_RCODE_NXDOMAIN, "nothing.example.org");
    ck_assert_uint_eq(fl_providers_for_dns(fx.p, &nx, 1), FL_PROVIDER_UNKNOWN);
    fl_dns_msg noq;
    memset(&noq, 0, sizeof noq);
    noq.response = true;
    ck_assert_uint_eq(fl_providers_for_dns(fx.p, &noq, 1), FL_PROVIDER_UNKNOWN);
    close_fx(&fx);
}
END_TEST

START_TEST(learned_cache_is_bounded)
{
    fixture fx;
    open_with(&fx, NULL, 8);
    char name[64];
    for (unsigned i = 0; i < 1000; i++) {
        fl_dns_msg m = dns_msg(true, 0, "");
        snprintf(m.qname, sizeof m.qname, "h%u.example.com.cdn.cloudflare.net", i);
        m.naddrs = 1;
        m.addrs[0] = A("198.51.100.0");
        m.addrs[0].b[2] = (uint8_t)(i >> 8);
        m.addrs[0].b[3] = (uint8_t)i;
        ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_for_dns(fx.p, &m, i)), "Cloudflare");
    }
    unsigned found = 0;
    for (unsigned i = 0; i < 1000; i++) {
        fl_addr a = A("198.51.100.0");
        a.b[2] = (uint8_t)(i >> 8);
        a.b[3] = (uint8_t)i;
        found += fl_providers_by_learned_addr(fx.p, &a, NULL, 0) != 0;
    }
    ck_assert_uint_le(found, 8);
    /* The newest entry is always kept, with its name. */
    fl_addr last = A("198.51.100.0");
    last.b[2] = 999 >> 8;
    last.b[3] = 999 & 0xff;
    ck_assert_uint_ne(fl_providers_by_learned_addr(fx.p, &last, name, sizeof name), 0);
    ck_assert_str_eq(name, "h999.example.com.cdn.cloudflare.net");
    close_fx(&fx);
}
END_TEST

START_TEST(name_cache_replaces_oldest)
{
    fl_name_cache *c = fl_name_cache_new(16);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(fl_name_cache_capacity(c), 16);
    char name[32];
    for (unsigned i = 0; i < 500; i++) {
        fl_addr a = A("203.0.113.0");
        a.b[2] = (uint8_t)(i >> 8);
        a.b[3] = (uint8_t)i;
        snprintf(name, sizeof name, "n%u.example", i);
        fl_name_cache_learn_addr(c, &a, name, (uint16_t)(i % 7 + 1), i);
        ck_assert_uint_le(fl_name_cache_addr_count(c), 16);
        ck_assert_uint_le(fl_name_cache_name_count(c), 16);
    }
    /* Updating a present key does not take a second entry. */
    fl_addr a = A("203.0.113.0");
    a.b[2] = 499 >> 8;
    a.b[3] = 499 & 0xff;
    size_t before = fl_name_cache_addr_count(c);
    fl_name_cache_learn_addr(c, &a, "n499.example", 3, 1000);
    ck_assert_uint_eq(fl_name_cache_addr_count(c), before);
    uint16_t prov = 0;
    ck_assert(fl_name_cache_addr(c, &a, &prov, name, sizeof name));
    ck_assert_uint_eq(prov, 3);
    ck_assert_str_eq(name, "n499.example");
    ck_assert(fl_name_cache_name(c, "n499.example", &prov));
    /* Names longer than kept are matched in full. */
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    fl_name_cache_learn_name(c, big, 5, 2000);
    ck_assert(fl_name_cache_name(c, big, &prov));
    ck_assert_uint_eq(prov, 5);
    big[200] = 'y';
    ck_assert(!fl_name_cache_name(c, big, &prov));
    ck_assert_ptr_null(fl_name_cache_new(0));
    fl_name_cache *one = fl_name_cache_new(1);
    fl_name_cache_learn_name(one, "a.example", 1, 1);
    fl_name_cache_learn_name(one, "b.example", 2, 2);
    ck_assert_uint_eq(fl_name_cache_name_count(one), 1);
    ck_assert(fl_name_cache_name(one, "b.example", &prov));
    ck_assert(!fl_name_cache_name(one, "a.example", &prov));
    fl_name_cache_free(one);
    fl_name_cache_free(c);
}
END_TEST

/* ---- resolvers, CDN headers, names ---- */

START_TEST(public_resolvers)
{
    fixture fx;
    open_default(&fx);
    static const char *const want[][2] = {
        { "1.1.1.1", "Cloudflare" },
        { "1.0.0.1", "Cloudflare" },
        { "2606:4700:4700::1111", "Cloudflare" },
        { "2606:4700:4700::1001", "Cloudflare" },
        { "8.8.8.8", "Google" },
        { "8.8.4.4", "Google" },
        { "2001:4860:4860::8888", "Google" },
        { "2001:4860:4860::8844", "Google" },
        { "9.9.9.9", "Quad9" },
        { "149.112.112.112", "Quad9" },
        { "2620:fe::fe", "Quad9" },
        { "208.67.222.222", "OpenDNS" },
        { "208.67.220.220", "OpenDNS" },
        { "94.140.14.14", "AdGuard" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        fl_addr a = A(want[i][0]);
        ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_public_resolver(fx.p, &a)),
                         want[i][1]);
    }
    fl_addr a = A("192.168.1.1");
    ck_assert_uint_eq(fl_providers_public_resolver(fx.p, &a), FL_PROVIDER_UNKNOWN);
    a = A("1.1.1.2");
    ck_assert_uint_eq(fl_providers_public_resolver(fx.p, &a), FL_PROVIDER_UNKNOWN);
    ck_assert_uint_ne(fl_providers_find(fx.p, "Quad9"), FL_PROVIDER_UNKNOWN);
    close_fx(&fx);
}
END_TEST

START_TEST(http_cdn_headers)
{
    fixture fx;
    open_default(&fx);
    ck_assert_uint_eq(fl_providers_by_http_cdn(fx.p, FL_CDN_NONE), FL_PROVIDER_UNKNOWN);
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_by_http_cdn(fx.p, FL_CDN_CLOUDFLARE)),
                     "Cloudflare");
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_by_http_cdn(fx.p, FL_CDN_AWS)), "AWS");
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_by_http_cdn(fx.p, FL_CDN_FASTLY)),
                     "Fastly");
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_by_http_cdn(fx.p, FL_CDN_AKAMAI)),
                     "Akamai");
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_by_http_cdn(fx.p, FL_CDN_GOOGLE)),
                     "Google");
    ck_assert_str_eq(fl_providers_name(fx.p, fl_providers_by_http_cdn(fx.p, FL_CDN_MICROSOFT)),
                     "Microsoft");
    ck_assert_uint_eq(fl_providers_by_http_cdn(fx.p, (fl_http_cdn)99), FL_PROVIDER_UNKNOWN);
    close_fx(&fx);
}
END_TEST

START_TEST(names_and_interning)
{
    ck_assert(fl_provider_name_valid("Cloudflare"));
    ck_assert(fl_provider_name_valid("my_corp-2.eu"));
    ck_assert(fl_provider_name_valid("123456789012345678901234567890123456789012345678"));
    ck_assert(!fl_provider_name_valid("1234567890123456789012345678901234567890123456789"));
    ck_assert(!fl_provider_name_valid(""));
    ck_assert(!fl_provider_name_valid(NULL));
    ck_assert(!fl_provider_name_valid("OpenDNS (Cisco)"));
    ck_assert(!fl_provider_name_valid("a:b"));
    ck_assert(!fl_provider_name_valid("a*"));

    fixture fx;
    open_with(&fx, NULL, 0);
    ck_assert_str_eq(fl_providers_name(fx.p, 0), "unknown");
    ck_assert_uint_eq(fl_providers_find(fx.p, "unknown"), 0);
    ck_assert_uint_eq(fl_providers_intern(fx.p, "unknown"), 0);
    fl_provider_id cf = fl_providers_find(fx.p, "Cloudflare");
    ck_assert_uint_ne(cf, 0);
    ck_assert_uint_eq(fl_providers_intern(fx.p, "cloudflare"), cf); /* one provider */
    ck_assert_uint_eq(fl_providers_intern(fx.p, "bad name"), 0);
    size_t n = fl_providers_count(fx.p);
    fl_provider_id x = fl_providers_intern(fx.p, "NewCo");
    ck_assert_uint_eq(x, n);
    ck_assert_uint_eq(fl_providers_count(fx.p), n + 1);
    ck_assert_str_eq(fl_providers_name(fx.p, x), "NewCo");
    ck_assert_str_eq(fl_providers_name(fx.p, 5000), "unknown");
    /* The table fills at FL_PROVIDER_MAX. */
    char nm[16];
    for (unsigned i = 0; fl_providers_count(fx.p) < FL_PROVIDER_MAX; i++) {
        snprintf(nm, sizeof nm, "P%u", i);
        ck_assert_uint_ne(fl_providers_intern(fx.p, nm), 0);
    }
    ck_assert_uint_eq(fl_providers_intern(fx.p, "OneTooMany"), 0);
    ck_assert_uint_eq(fl_providers_intern(fx.p, "NewCo"), x);
    close_fx(&fx);
}
END_TEST

/* ---- files ---- */

START_TEST(malformed_ranges_file)
{
    static const struct {
        const char *text;
        const char *want;
    } bad[] = {
        { "cidr\tprovider\tsource\n1.2.3.0/24\tX\ts\n1.2.3.0/33\tX\ts\n", ":3: prefix length" },
        { "cidr\tprovider\tsource\n1.2.3.0/24\n", ":2: expected" },
        { "# c\n\n1.2.300.0/24\tX\ts\n", ":3: bad address" },
        { "1.2.3.0\tX\ts\n", ":1: missing /prefix" },
        { "1.2.3.1/24\tX\ts\n", ":1: host bits set" },
        { "2001:db8::/32\tBad Name\ts\n", ":1: bad provider name" },
        { "1.2.3.0/2x\tX\ts\n", ":1: bad prefix length" },
        { "1.2.3.0/\tX\ts\n", ":1: bad prefix length" },
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *path = write_tmp("ranges.tsv", bad[i].text);
        fl_classifier *cls = fl_classifier_new(NULL, 1, err, sizeof err);
        fl_providers_options opt = { .ranges_path = path };
        err[0] = '\0';
        ck_assert_ptr_null(fl_providers_new(cls, &opt, err, sizeof err));
        ck_assert_msg(strstr(err, path) && strstr(err, bad[i].want), "case %zu: %s", i, err);
        fl_classifier_free(cls);
        drop_tmp(path);
    }
    /* A good small file: comments, CRLF, a header, IPv6. */
    char *path = write_tmp("ok.tsv", "cidr\tprovider\tsource\r\n# note\r\n"
                                     "198.51.100.0/24\tExampleNet\tdoc\r\n"
                                     "2001:db8::/32\tExampleNet\tdoc\r\n");
    fl_classifier *cls = fl_classifier_new(NULL, 1, err, sizeof err);
    fl_providers_options opt = { .ranges_path = path };
    fl_providers *p = fl_providers_new(cls, &opt, err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    fl_addr a = A("2001:db8::1");
    ck_assert_str_eq(fl_providers_name(p, fl_providers_by_addr(p, &a)), "ExampleNet");
    fl_providers_free(p);
    fl_classifier_free(cls);
    drop_tmp(path);
    /* Missing files. */
    cls = fl_classifier_new(NULL, 1, err, sizeof err);
    opt.ranges_path = "/nonexistent/ranges.tsv";
    ck_assert_ptr_null(fl_providers_new(cls, &opt, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/ranges.tsv"));
    opt.ranges_path = NULL;
    opt.rules_path = "/nonexistent/x.rules";
    ck_assert_ptr_null(fl_providers_new(cls, &opt, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.rules"));
    fl_classifier_free(cls);
}
END_TEST

/* ---- measurements (printed, not asserted) ---- */

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long resident = 0;
    char line[128];
    if (f) {
        /* statm: "size resident shared ..." in pages (proc(5)) */
        if (fgets(line, sizeof line, f)) {
            char *end;
            (void)strtol(line, &end, 10);
            errno = 0;
            resident = strtol(end, &end, 10);
            if (errno || resident < 0)
                resident = 0;
        }
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(measure_memory_and_speed)
{
    long r0 = rss_kib();
    fixture fx;
    open_default(&fx);
    long r1 = rss_kib();
    /* 1M lookups over a spread of IPv4 and IPv6 addresses. */
    unsigned hits = 0;
    double t0 = now_s();
    for (uint32_t i = 0; i < 1000000; i++) {
        fl_addr a = { 0 };
        uint32_t x = i * 2654435761u;
        if (i & 1) {
            a.family = 4;
            memcpy(a.b, &x, 4);
        } else {
            a.family = 6;
            a.b[0] = 0x26;
            a.b[1] = (uint8_t)(x >> 24);
            memcpy(a.b + 2, &x, 4);
        }
        hits += fl_providers_by_addr(fx.p, &a) != 0;
    }
    double t1 = now_s();
    unsigned nh = 0;
    static const char *const names[] = { "www.youtube.com", "e1.a.akamaiedge.net",
                                         "www.example.org", "x.cdn.cloudflare.net" };
    for (uint32_t i = 0; i < 200000; i++)
        nh += fl_providers_by_name(fx.p, names[i & 3]) != 0;
    double t2 = now_s();
    fprintf(stderr,
            "provider tables: RSS +%ld KiB (nDPI module + 8.6k ranges + rules + learned "
            "cache); by_addr %.0f ns/lookup (%u of 1M hit); by_name %.0f ns/lookup\n",
            r1 - r0, (t1 - t0) * 1e9 / 1e6, hits, (t2 - t1) * 1e9 / 2e5);
    ck_assert_uint_gt(hits, 0);
    ck_assert_uint_eq(nh, 150000);
    close_fx(&fx);
}
END_TEST

static Suite *provider_suite(void)
{
    Suite *s = suite_create("provider");
    TCase *tc = tcase_create("attribution");
    tcase_add_test(tc, real_addresses_of_each_provider);
    tcase_add_test(tc, ranges_without_rules_still_cover_cdns);
    tcase_add_test(tc, ndpi_lists_fill_gaps);
    tcase_add_test(tc, operator_rules_take_precedence);
    tcase_add_test(tc, name_suffixes_on_label_boundaries);
    tcase_add_test(tc, ndpi_ids_map_to_providers);
    tcase_add_test(tc, dns_cname_chain_teaches_address);
    tcase_add_test(tc, dns_last_cname_first);
    tcase_add_test(tc, dns_servfail_by_name);
    tcase_add_test(tc, learned_cache_is_bounded);
    tcase_add_test(tc, name_cache_replaces_oldest);
    tcase_add_test(tc, public_resolvers);
    tcase_add_test(tc, http_cdn_headers);
    tcase_add_test(tc, names_and_interning);
    tcase_add_test(tc, malformed_ranges_file);
    tcase_add_test(tc, measure_memory_and_speed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fl_test_run(provider_suite());
}

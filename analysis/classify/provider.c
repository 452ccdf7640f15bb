/* provider.c - who runs the server: provider attribution (README "How a
 * flow is attributed"). Order, first match wins:
 *   1. operator rules: our own table of the file's ip: rules (IPv4 and IPv6;
 *      nDPI 4.2 cannot hold IPv6 ones) and host: rules on label boundaries;
 *   2. published ranges (provider_ranges.tsv, longest prefix), then nDPI
 *      4.2's own IPv4 lists through the one id table below;
 *   3. names, when the address says nothing: nDPI's classification, the
 *      suffix table of infrastructure names, nDPI's host rules, and names
 *      learned from DNS answers;
 *   4. unknown (id 0).
 * Everything is loaded at start-up; lookups never allocate.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fl_hash.h"
#include "fl_provider.h"
#include "name_cache.h"
#include "provider_rules.h"

#define NAME_MAX_LEN 48
/* Every nDPI 4.2 protocol id, custom ones included, is below NDPI_NUM_BITS
 * (512): its protocol bitmasks have that many bits. */
#define NDPI_IDS 512
#define DEFAULT_LEARNED_MAX 65536

/* nDPI 4.2 protocol ids whose servers one provider runs. By id, with nDPI's
 * name checked at start-up (ndpi_protocol_ids.h of 4.2), so a different
 * nDPI fails loudly instead of mapping the wrong protocols. Left out on
 * purpose: iCloudPrivateRelay (egress run by Akamai, Cloudflare and Fastly),
 * SkypeCall (peer to peer). nDPI 4.2 has no Bing protocol; its Outlook is
 * still called Hotmail. */
static const struct {
    uint16_t id;
    const char *ndpi_name;
    const char *provider;
} ndpi_table[] = {
    { 178, "Amazon", "AWS" },
    { 265, "AmazonAWS", "AWS" },
    { 240, "AmazonVideo", "AWS" },
    { 110, "AmazonAlexa", "AWS" },
    { 126, "Google", "Google" },
    { 239, "GoogleServices", "Google" },
    { 123, "GoogleMaps", "Google" },
    { 217, "GoogleDrive", "Google" },
    { 241, "GoogleDocs", "Google" },
    { 72, "GooglePlus", "Google" },
    { 281, "GoogleClassroom", "Google" },
    { 124, "YouTube", "Google" },
    { 136, "YouTubeUpload", "Google" },
    { 122, "GMail", "Google" },
    { 201, "GoogleHangoutDuo", "Google" },
    { 212, "Microsoft", "Microsoft" },
    { 219, "Microsoft365", "Microsoft" },
    { 276, "Azure", "Microsoft" },
    { 250, "Teams", "Microsoft" },
    { 125, "Skype_Teams", "Microsoft" },
    { 21, "Hotmail", "Microsoft" },
    { 221, "MS_OneDrive", "Microsoft" },
    { 47, "Xbox", "Microsoft" },
    { 220, "Cloudflare", "Cloudflare" },
    { 140, "Apple", "Apple" },
    { 143, "AppleiCloud", "Apple" },
    { 145, "AppleiTunes", "Apple" },
    { 238, "ApplePush", "Apple" },
    { 254, "AppleSiri", "Apple" },
    { 224, "AppleStore", "Apple" },
    { 119, "Facebook", "Meta" },
    { 211, "Instagram", "Meta" },
    { 142, "WhatsApp", "Meta" },
    { 45, "WhatsAppCall", "Meta" },
    { 242, "WhatsAppFiles", "Meta" },
    { 157, "Messenger", "Meta" },
    { 268, "FacebookVoip", "Meta" },
    { 167, "Oracle", "Oracle" },
    { 274, "Alibaba", "Alibaba" },
};

/* Infrastructure names: the CDN / cloud names that CNAME chains end in and
 * that SNIs of customer-less endpoints carry. Matched as suffixes on label
 * boundaries, longest first. */
static const struct {
    const char *suffix;
    const char *provider;
} suffix_table[] = {
    { "cdn.cloudflare.net", "Cloudflare" },
    { "cloudflare.net", "Cloudflare" },
    { "cloudflare.com", "Cloudflare" },
    { "akamaiedge.net", "Akamai" },
    { "akamai.net", "Akamai" },
    { "akamaized.net", "Akamai" },
    { "edgekey.net", "Akamai" },
    { "edgesuite.net", "Akamai" },
    { "akamaihd.net", "Akamai" },
    { "akamaitechnologies.com", "Akamai" },
    { "fastly.net", "Fastly" },
    { "fastlylb.net", "Fastly" },
    { "fastly.com", "Fastly" },
    { "amazonaws.com", "AWS" },
    { "cloudfront.net", "AWS" },
    { "awsglobalaccelerator.com", "AWS" },
    { "elb.amazonaws.com", "AWS" },
    { "googleusercontent.com", "Google" },
    { "googleapis.com", "Google" },
    { "gstatic.com", "Google" },
    { "1e100.net", "Google" },
    { "google.com", "Google" },
    { "googlevideo.com", "Google" },
    { "ggpht.com", "Google" },
    { "appspot.com", "Google" },
    { "run.app", "Google" },
    { "azureedge.net", "Microsoft" },
    { "azurefd.net", "Microsoft" },
    { "trafficmanager.net", "Microsoft" },
    { "azurewebsites.net", "Microsoft" },
    { "cloudapp.net", "Microsoft" },
    { "cloudapp.azure.com", "Microsoft" },
    { "msedge.net", "Microsoft" },
    { "windows.net", "Microsoft" },
    { "microsoft.com", "Microsoft" },
    { "office.net", "Microsoft" },
    { "office365.com", "Microsoft" },
    { "icloud.com", "Apple" },
    { "apple.com", "Apple" },
    { "mzstatic.com", "Apple" },
    { "aaplimg.com", "Apple" },
    { "fbcdn.net", "Meta" },
    { "facebook.com", "Meta" },
    { "whatsapp.net", "Meta" },
    { "instagram.com", "Meta" },
    { "oraclecloud.com", "Oracle" },
    { "alicdn.com", "Alibaba" },
    { "aliyuncs.com", "Alibaba" },
};

/* Public resolvers (their operators' documentation). */
static const struct {
    const char *addr;
    const char *provider;
} resolver_table[] = {
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
#define NRESOLVERS (sizeof resolver_table / sizeof resolver_table[0])

static const char *const cdn_names[] = {
    [FL_CDN_NONE] = NULL,
    [FL_CDN_CLOUDFLARE] = "Cloudflare",
    [FL_CDN_AWS] = "AWS",
    [FL_CDN_FASTLY] = "Fastly",
    [FL_CDN_AKAMAI] = "Akamai",
    [FL_CDN_GOOGLE] = "Google",
    [FL_CDN_MICROSOFT] = "Microsoft",
};
#define NCDN (sizeof cdn_names / sizeof cdn_names[0])

/* Open-addressing set of name suffixes -> provider. */
typedef struct suffix_ent {
    const char *s; /* lower case, no leading/trailing dot */
    uint64_t hash;
    uint16_t len;
    fl_provider_id provider;
} suffix_ent;

typedef struct suffix_set {
    suffix_ent *slots;
    uint32_t mask;
    uint32_t n;
} suffix_set;

/* 4096 slots of 20 bytes: 80 KiB, in L2. */
#define MEMO_SLOTS 4096u
struct addr_memo {
    fl_addr addr;
    bool used;
    fl_provider_id id;
};

struct fl_providers {
    fl_classifier *cls;
    char names[FL_PROVIDER_MAX][NAME_MAX_LEN + 1];
    size_t count;
    fl_prefix_table *oper;   /* operator ip: rules */
    fl_prefix_table *ranges; /* provider_ranges.tsv */
    fl_provider_id ndpi_map[NDPI_IDS];
    suffix_set oper_hosts, builtin_hosts;
    char *host_store; /* operator host strings, one block */
    size_t host_store_len, host_store_cap;
    fl_name_cache *learned;
    fl_addr resolver_addr[NRESOLVERS];
    fl_provider_id resolver_prov[NRESOLVERS];
    fl_provider_id cdn_prov[NCDN];
    struct addr_memo *memo; /* by_addr answers, see fl_providers_by_addr */
};

/* ---- names ---- */

bool fl_provider_name_valid(const char *name)
{
    size_t n = 0;
    if (!name)
        return false;
    for (; name[n]; n++) {
        unsigned char ch = (unsigned char)name[n];
        if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-')
            return false;
        if (n >= NAME_MAX_LEN)
            return false;
    }
    return n >= 1;
}

/* Case-insensitive: "cloudflare" in an operator file is our Cloudflare, one
 * provider and one set of Redis keys. */
fl_provider_id fl_providers_find(const fl_providers *p, const char *name)
{
    for (size_t i = 0; i < p->count; i++)
        if (strcasecmp(p->names[i], name) == 0)
            return (fl_provider_id)i;
    return FL_PROVIDER_UNKNOWN;
}

fl_provider_id fl_providers_intern(fl_providers *p, const char *name)
{
    if (!fl_provider_name_valid(name))
        return FL_PROVIDER_UNKNOWN;
    fl_provider_id id = fl_providers_find(p, name);
    if (id != FL_PROVIDER_UNKNOWN || strcasecmp(name, p->names[0]) == 0)
        return id;
    if (p->count >= FL_PROVIDER_MAX)
        return FL_PROVIDER_UNKNOWN;
    /* fl_provider_name_valid() bounded the length; snprintf keeps the
     * bound visible at the copy */
    snprintf(p->names[p->count], sizeof p->names[p->count], "%s", name);
    return (fl_provider_id)p->count++;
}

const char *fl_providers_name(const fl_providers *p, fl_provider_id id)
{
    return id < p->count ? p->names[id] : p->names[0];
}

size_t fl_providers_count(const fl_providers *p)
{
    return p->count;
}

/* ---- suffix sets ---- */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
}

static bool suffix_set_init(suffix_set *t, size_t n)
{
    uint32_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    t->slots = calloc(cap, sizeof *t->slots);
    t->mask = cap - 1;
    t->n = 0;
    return t->slots != NULL;
}

/* s must outlive the set; a second add of a suffix replaces the first. */
static void suffix_set_add(suffix_set *t, const char *s, fl_provider_id prov)
{
    size_t len = strlen(s);
    uint64_t h = hash_bytes(s, len);
    for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
        suffix_ent *e = &t->slots[i];
        if (!e->s) {
            e->s = s;
            e->len = (uint16_t)len;
            e->hash = h;
            e->provider = prov;
            t->n++;
            return;
        }
        if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0) {
            e->provider = prov;
            return;
        }
    }
}

static fl_provider_id suffix_set_get(const suffix_set *t, const char *s, size_t len)
{
    if (!t->slots)
        return FL_PROVIDER_UNKNOWN;
    uint64_t h = hash_bytes(s, len);
    for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
        const suffix_ent *e = &t->slots[i];
        if (!e->s)
            return FL_PROVIDER_UNKNOWN;
        if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0)
            return e->provider;
    }
}

/* The longest suffix of name (lower case, no trailing dot) on a label
 * boundary: "a.b.fastly.net" tries itself, "b.fastly.net", "fastly.net",
 * "net"; "notfastly.net" never tries "fastly.net". */
static fl_provider_id suffix_match(const suffix_set *t, const char *name, size_t len)
{
    size_t i = 0;
    while (i < len) {
        fl_provider_id id = suffix_set_get(t, name + i, len - i);
        if (id)
            return id;
        const char *dot = memchr(name + i, '.', len - i);
        if (!dot)
            break;
        i = (size_t)(dot - name) + 1;
    }
    return FL_PROVIDER_UNKNOWN;
}

/* Lower-cases name into buf without a trailing dot; false if too long. */
static bool norm_name(const char *name, char *buf, size_t buflen, size_t *len)
{
    size_t n = 0;
    for (; name[n]; n++) {
        if (n + 1 >= buflen)
            return false;
        buf[n] = (char)tolower((unsigned char)name[n]);
    }
    while (n && buf[n - 1] == '.')
        n--;
    buf[n] = '\0';
    *len = n;
    return n > 0;
}

/* ---- loading ---- */

static bool load_ndpi_table(fl_providers *p, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof ndpi_table / sizeof ndpi_table[0]; i++) {
        const char *got = fl_classifier_proto_name(p->cls, ndpi_table[i].id);
        if (strcmp(got, ndpi_table[i].ndpi_name) != 0) {
            snprintf(err, errlen,
                     "nDPI protocol %u is \"%s\", expected \"%s\": this build "
                     "expects nDPI 4.2's protocol ids",
                     ndpi_table[i].id, got, ndpi_table[i].ndpi_name);
            return false;
        }
        p->ndpi_map[ndpi_table[i].id] = fl_providers_intern(p, ndpi_table[i].provider);
    }
    return true;
}

static bool parse_cidr(char *s, fl_addr *net, int *bits, const char **why)
{
    char *slash = strchr(s, '/');
    if (!slash) {
        *why = "missing /prefix length";
        return false;
    }
    *slash = '\0';
    if (!fl_addr_parse(s, net)) {
        *why = "bad address";
        return false;
    }
    int maxbits = net->family == 4 ? 32 : 128, v = 0;
    const char *d = slash + 1;
    if (!*d || strlen(d) > 3) {
        *why = "bad prefix length";
        return false;
    }
    for (; *d; d++) {
        if (!isdigit((unsigned char)*d)) {
            *why = "bad prefix length";
            return false;
        }
        v = v * 10 + (*d - '0');
    }
    if (v > maxbits) {
        *why = "prefix length too long";
        return false;
    }
    for (int i = v; i < maxbits; i++) {
        if (net->b[i / 8] & (0x80u >> (i % 8))) {
            *why = "host bits set";
            return false;
        }
    }
    *bits = v;
    return true;
}

/* provider_ranges.tsv: cidr TAB provider TAB source; a header line starting
 * "cidr", '#' comments and empty lines are skipped. */
static bool load_ranges(fl_providers *p, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    char *buf = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    bool ok = true;
    while (ok && getline(&buf, &cap, f) != -1) {
        lineno++;
        size_t n = strlen(buf);
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        if (n == 0 || buf[0] == '#' || (lineno == 1 && strncmp(buf, "cidr\t", 5) == 0))
            continue;
        char *tab1 = strchr(buf, '\t');
        char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        const char *why = NULL;
        fl_addr net;
        int bits = 0;
        if (!tab1) {
            why = "expected cidr<TAB>provider<TAB>source";
        } else {
            *tab1 = '\0';
            if (tab2)
                *tab2 = '\0';
            const char *prov = tab1 + 1;
            fl_provider_id id;
            if (!parse_cidr(buf, &net, &bits, &why)) {
                /* why set */
            } else if (!fl_provider_name_valid(prov)) {
                why = "bad provider name (1-48 letters, digits, '.', '_', '-')";
            } else if ((id = fl_providers_intern(p, prov)) == FL_PROVIDER_UNKNOWN) {
                why = "too many providers";
            } else if (!fl_prefix_table_add(p->ranges, &net, bits, id)) {
                why = "out of memory";
            }
        }
        if (why) {
            snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
            ok = false;
        }
    }
    if (ok && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        ok = false;
    }
    free(buf);
    fclose(f);
    return ok;
}

/* Operator rules: ip: rules into our table, host: rules into our suffix
 * set (the strings into one block, linked up after reading). */
typedef struct rules_ctx {
    fl_providers *p;
    const char *path;
    size_t nhosts;
    bool *is_provider; /* [FL_PROVIDER_MAX]: named by an ip:/host: rule */
} rules_ctx;

static bool store_host(fl_providers *p, const char *host, fl_provider_id id)
{
    /* "*.example.com" and ".example.com" mean the domain and below. */
    while (*host == '*' || *host == '.')
        host++;
    char buf[256];
    size_t len;
    if (!norm_name(host, buf, sizeof buf, &len))
        return true; /* "*" alone: nothing we can match on boundaries */
    size_t need = p->host_store_len + len + 1 + sizeof(fl_provider_id);
    if (need > p->host_store_cap) {
        size_t cap = p->host_store_cap ? p->host_store_cap * 2 : 4096;
        while (cap < need)
            cap *= 2;
        char *s = realloc(p->host_store, cap);
        if (!s)
            return false;
        p->host_store = s;
        p->host_store_cap = cap;
    }
    memcpy(p->host_store + p->host_store_len, &id, sizeof id);
    memcpy(p->host_store + p->host_store_len + sizeof id, buf, len + 1);
    p->host_store_len = need;
    return true;
}

static bool take_rule(void *ctx, const fl_rule *r, char *err, size_t errlen)
{
    rules_ctx *rc = ctx;
    if (r->kind != FL_RULE_IP && r->kind != FL_RULE_HOST)
        return true;
    fl_provider_id id = fl_providers_intern(rc->p, r->name);
    if (id == FL_PROVIDER_UNKNOWN) {
        snprintf(err, errlen, "%s:%u: too many providers", rc->path, r->line);
        return false;
    }
    rc->is_provider[id] = true;
    bool ok;
    if (r->kind == FL_RULE_IP) {
        ok = fl_prefix_table_add(rc->p->oper, &r->net, r->bits, id);
    } else {
        ok = store_host(rc->p, r->value, id);
        rc->nhosts++;
    }
    if (!ok)
        snprintf(err, errlen, "%s:%u: out of memory", rc->path, r->line);
    return ok;
}

static bool load_rules(fl_providers *p, const char *path, char *err, size_t errlen)
{
    bool is_provider[FL_PROVIDER_MAX] = { false };
    rules_ctx rc = { .p = p, .path = path, .nhosts = 0, .is_provider = is_provider };
    if (!fl_rules_read(path, take_rule, &rc, err, errlen))
        return false;
    if (!suffix_set_init(&p->oper_hosts, rc.nhosts)) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    for (size_t off = 0; off < p->host_store_len;) {
        fl_provider_id id;
        memcpy(&id, p->host_store + off, sizeof id);
        const char *s = p->host_store + off + sizeof id;
        suffix_set_add(&p->oper_hosts, s, id);
        off += sizeof id + strlen(s) + 1;
    }
    /* nDPI made each rule name a protocol: custom ones (new names) map to
     * the provider of that name; a name only used by tcp:/udp: rules is an
     * application, not a provider. */
    for (uint16_t id = 0; id < NDPI_IDS; id++) {
        if (!fl_classifier_proto_is_custom(p->cls, id))
            continue;
        fl_provider_id prov = fl_providers_find(p, fl_classifier_proto_name(p->cls, id));
        if (prov != FL_PROVIDER_UNKNOWN && is_provider[prov])
            p->ndpi_map[id] = prov;
    }
    return true;
}

/* A new table set; with `like`, its names keep their ids (a reload must not
 * renumber providers that flows and open buckets already refer to). */
static fl_providers *providers_create(fl_classifier *cls, const fl_providers_options *opt,
                                      const fl_providers *like, char *err, size_t errlen)
{
    fl_providers *p = calloc(1, sizeof *p);
    if (p && !(p->memo = calloc(MEMO_SLOTS, sizeof *p->memo))) {
        free(p);
        p = NULL;
    }
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->cls = cls;
    snprintf(p->names[0], sizeof p->names[0], "%s", "unknown");
    p->count = 1;
    if (like) {
        memcpy(p->names, like->names, sizeof p->names);
        p->count = like->count;
    }
    /* Our names first, so their spelling is the canonical one. */
    static const char *const ours[] = { "Cloudflare", "AWS",   "Google", "Microsoft", "Akamai",
                                        "Fastly",     "Apple", "Meta",   "Oracle",    "Alibaba" };
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
        fl_providers_intern(p, ours[i]);

    uint32_t learned_max = opt->learned_max ? opt->learned_max : DEFAULT_LEARNED_MAX;
    p->oper = fl_prefix_table_new();
    p->ranges = fl_prefix_table_new();
    p->learned = fl_name_cache_new(learned_max);
    if (!p->oper || !p->ranges || !p->learned ||
        !suffix_set_init(&p->builtin_hosts, sizeof suffix_table / sizeof suffix_table[0])) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < sizeof suffix_table / sizeof suffix_table[0]; i++)
        suffix_set_add(&p->builtin_hosts, suffix_table[i].suffix,
                       fl_providers_intern(p, suffix_table[i].provider));
    for (size_t i = 0; i < NRESOLVERS; i++) {
        if (!fl_addr_parse(resolver_table[i].addr, &p->resolver_addr[i]))
            abort(); /* a typo in the table above */
        p->resolver_prov[i] = fl_providers_intern(p, resolver_table[i].provider);
    }
    for (size_t i = 0; i < NCDN; i++)
        p->cdn_prov[i] = cdn_names[i] ? fl_providers_intern(p, cdn_names[i]) : 0;
    if (!load_ndpi_table(p, err, errlen))
        goto fail;
    if (opt->ranges_path && !load_ranges(p, opt->ranges_path, err, errlen))
        goto fail;
    if (opt->rules_path && !load_rules(p, opt->rules_path, err, errlen))
        goto fail;
    return p;
fail:
    fl_providers_free(p);
    return NULL;
}

fl_providers *fl_providers_new(fl_classifier *cls, const fl_providers_options *opt, char *err,
                               size_t errlen)
{
    return providers_create(cls, opt, NULL, err, errlen);
}

bool fl_providers_reload(fl_providers *p, const fl_providers_options *opt, char *err, size_t errlen)
{
    fl_providers *n = providers_create(p->cls, opt, p, err, errlen);
    if (!n)
        return false; /* the old tables stay in force */
    /* keep what DNS taught us: its provider ids are unchanged */
    fl_name_cache *learned = n->learned;
    n->learned = p->learned;
    p->learned = learned;
    fl_providers tmp = *p;
    *p = *n;
    *n = tmp;
    fl_providers_free(n);
    return true;
}

void fl_providers_free(fl_providers *p)
{
    if (!p)
        return;
    fl_prefix_table_free(p->oper);
    fl_prefix_table_free(p->ranges);
    fl_name_cache_free(p->learned);
    free(p->oper_hosts.slots);
    free(p->builtin_hosts.slots);
    free(p->host_store);
    free(p->memo);
    free(p);
}

/* ---- lookups ---- */

static fl_provider_id by_addr_tables(fl_providers *p, const fl_addr *server)
{
    uint32_t v;
    if (fl_prefix_table_size(p->oper) && fl_prefix_table_lookup(p->oper, server, &v))
        return (fl_provider_id)v;
    if (fl_prefix_table_lookup(p->ranges, server, &v))
        return (fl_provider_id)v;
    uint16_t id = fl_classifier_match_ipv4(p->cls, server);
    return id < NDPI_IDS ? p->ndpi_map[id] : FL_PROVIDER_UNKNOWN;
}

/* The answer depends only on the address and the tables, which change only
 * by a reload (a new fl_providers, with an empty memo): so the last answer
 * for each of MEMO_SLOTS address hashes is kept. Servers and DNS answers
 * repeat, and each miss costs up to three patricia walks. */
fl_provider_id fl_providers_by_addr(fl_providers *p, const fl_addr *server)
{
    if (server->family != 4 && server->family != 6)
        return FL_PROVIDER_UNKNOWN;
    uint64_t lo, hi;
    memcpy(&lo, server->b, 8);
    memcpy(&hi, server->b + 8, 8);
    struct addr_memo *m = &p->memo[fl_mix64(lo ^ fl_mix64(hi + server->family)) % MEMO_SLOTS];
    if (m->used && fl_addr_eq(&m->addr, server))
        return m->id;
    m->addr = *server;
    m->id = by_addr_tables(p, server);
    m->used = true;
    return m->id;
}

fl_provider_id fl_providers_by_ndpi(fl_providers *p, uint16_t app, uint16_t master)
{
    if (app < NDPI_IDS && p->ndpi_map[app])
        return p->ndpi_map[app];
    return master < NDPI_IDS ? p->ndpi_map[master] : FL_PROVIDER_UNKNOWN;
}

/* Name rules without what DNS taught: operator host rules, our suffix
 * table, nDPI's host rules (its custom ones are the operator's, already
 * applied on label boundaries above). */
static fl_provider_id by_name_rules(fl_providers *p, const char *buf, size_t len)
{
    fl_provider_id id = suffix_match(&p->oper_hosts, buf, len);
    if (!id)
        id = suffix_match(&p->builtin_hosts, buf, len);
    if (!id) {
        uint16_t proto = fl_classifier_match_host(p->cls, buf);
        if (proto < NDPI_IDS && !fl_classifier_proto_is_custom(p->cls, proto))
            id = p->ndpi_map[proto];
    }
    return id;
}

static fl_provider_id learned_name(fl_providers *p, const char *buf)
{
    uint16_t prov;
    if (fl_name_cache_name(p->learned, buf, &prov))
        return prov;
    return FL_PROVIDER_UNKNOWN;
}

fl_provider_id fl_providers_by_name(fl_providers *p, const char *name)
{
    char buf[FL_DNS_NAME_MAX + 1];
    size_t len;
    if (!name || !norm_name(name, buf, sizeof buf, &len))
        return FL_PROVIDER_UNKNOWN;
    fl_provider_id id = by_name_rules(p, buf, len);
    return id ? id : learned_name(p, buf);
}

fl_provider_id fl_providers_by_learned_addr(fl_providers *p, const fl_addr *server, char *name_out,
                                            size_t name_len)
{
    uint16_t prov;
    if (fl_name_cache_addr(p->learned, server, &prov, name_out, name_len))
        return prov;
    return FL_PROVIDER_UNKNOWN;
}

fl_provider_id fl_providers_by_http_cdn(fl_providers *p, fl_http_cdn cdn)
{
    return (size_t)cdn < NCDN ? p->cdn_prov[cdn] : FL_PROVIDER_UNKNOWN;
}

fl_provider_id fl_providers_public_resolver(fl_providers *p, const fl_addr *a)
{
    for (size_t i = 0; i < NRESOLVERS; i++)
        if (fl_addr_eq(&p->resolver_addr[i], a))
            return p->resolver_prov[i];
    return FL_PROVIDER_UNKNOWN;
}

fl_provider_id fl_providers_for_dns(fl_providers *p, const fl_dns_msg *m, uint64_t now_us)
{
    char qname[FL_DNS_NAME_MAX + 1], buf[FL_DNS_NAME_MAX + 1];
    size_t qlen = 0, len;
    bool have_q = m->has_question && norm_name(m->qname, qname, sizeof qname, &qlen);
    fl_provider_id id = FL_PROVIDER_UNKNOWN;
    uint8_t naddrs = m->response ? m->naddrs : 0;
    uint8_t ncnames = m->response ? m->ncnames : 0;
    if (naddrs > FL_DNS_MAX_ADDRS)
        naddrs = FL_DNS_MAX_ADDRS;
    if (ncnames > FL_DNS_MAX_CNAMES)
        ncnames = FL_DNS_MAX_CNAMES;

    /* Who runs the servers the answer points to. */
    for (uint8_t i = 0; !id && i < naddrs; i++)
        id = fl_providers_by_addr(p, &m->addrs[i]);
    /* The chain's last name is the canonical one: the CDN's
     * ("www.example.com CNAME example.com.cdn.cloudflare.net"). */
    for (int i = (int)ncnames - 1; !id && i >= 0; i--)
        if (norm_name(m->cnames[i], buf, sizeof buf, &len))
            id = by_name_rules(p, buf, len);
    if (!id && have_q)
        id = by_name_rules(p, qname, qlen);
    if (!id && have_q)
        id = learned_name(p, qname);

    if (naddrs && have_q) {
        for (uint8_t i = 0; i < naddrs; i++)
            fl_name_cache_learn_addr(p->learned, &m->addrs[i], qname, id, now_us);
        fl_name_cache_learn_name(p->learned, qname, id, now_us);
    }
    return id;
}

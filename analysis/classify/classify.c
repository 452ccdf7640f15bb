/* classify.c - the nDPI adapter (Debian's nDPI 4.2).
 *
 * The only file that includes <ndpi_api.h>. nDPI 4.2 quirks handled here:
 *  - its protocols-file loader parses every ip: value with
 *    inet_pton(AF_INET) and ignores the failure, so an IPv6 ip: rule inserts
 *    an uninitialised IPv4 /32 into its tree (valgrind shows the read). We
 *    check the operator file ourselves and hand nDPI a copy without IPv6
 *    ip: rules (provider.c reads those);
 *  - it prints "Unknown rule" to stdout and skips the line; our reader
 *    rejects such a file instead, so nDPI never sees a bad line;
 *  - the rules must be loaded before ndpi_finalize_initialization(), which
 *    builds the host automata and address trees;
 *  - on a flow's first packet it may return an address-based "guess"
 *    (custom ip: rules) without having detected anything; only
 *    detected_protocol_stack[0] says the dissectors decided;
 *  - it takes at most 229 new protocol names and prints the rest away; we
 *    refuse such a file;
 *  - ndpi_match_string_subprotocol() matches host rules as name suffixes but
 *    not on label boundaries ("xfastly.net" matches host:"fastly.net"), so
 *    provider.c applies operator host rules itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ndpi_api.h>

#include "fl_classify.h"
#include "provider_rules.h"

struct fl_classifier {
    struct ndpi_detection_module_struct *ndpi;
    uint8_t *pool; /* max_flows slots of slot_size bytes */
    size_t slot_size;
    uint32_t max_flows;
    uint32_t *free_stack; /* indices of free slots */
    uint32_t nfree;
    uint8_t *in_use;  /* catches a double free or a foreign pointer */
    uint32_t nprotos; /* ndpi_get_num_supported_protocols() */
};

/* ---- the operator rules, filtered for nDPI 4.2 ---- */

/* nDPI 4.2 holds NDPI_MAX_NUM_CUSTOM_PROTOCOLS - 1 (229) new protocol
 * names; past that it prints "Too many protocols defined" and skips the
 * rule. We refuse such a file instead. Names of nDPI's own protocols
 * ("@Google", any case) extend those and do not count. */
#define MAX_CUSTOM (NDPI_MAX_NUM_CUSTOM_PROTOCOLS - 1)

typedef struct rules_copy {
    FILE *out;
    struct ndpi_detection_module_struct *ndpi;
    const char *path;
    char names[MAX_CUSTOM][49]; /* the new names seen so far */
    unsigned nnames;
} rules_copy;

static bool count_name(rules_copy *rc, const fl_rule *r, char *err, size_t errlen)
{
    for (unsigned i = 0; i < rc->nnames; i++)
        if (strcasecmp(rc->names[i], r->name) == 0)
            return true;
    for (unsigned id = 0; id < NDPI_MAX_SUPPORTED_PROTOCOLS; id++) {
        const char *n = ndpi_get_proto_name(rc->ndpi, (u_int16_t)id);
        if (n && strcasecmp(n, r->name) == 0)
            return true;
    }
    if (rc->nnames == MAX_CUSTOM) {
        snprintf(err, errlen, "%s:%u: more than %u new rule names (nDPI 4.2's limit)", rc->path,
                 r->line, (unsigned)MAX_CUSTOM);
        return false;
    }
    snprintf(rc->names[rc->nnames++], sizeof rc->names[0], "%s", r->name);
    return true;
}

/* One element a line: nDPI looks a protocol up by name, so
 * "tcp:81,tcp:8181@HTTP" and two lines of one rule each mean the same. */
static bool copy_rule(void *ctx, const fl_rule *r, char *err, size_t errlen)
{
    rules_copy *rc = ctx;
    if (r->kind == FL_RULE_IP && r->net.family == 6)
        return true;
    if (r->kind != FL_RULE_NDPI_LINE && !count_name(rc, r, err, errlen))
        return false;
    if (r->kind == FL_RULE_NDPI_LINE)
        fprintf(rc->out, "%s\n", r->elem);
    else
        fprintf(rc->out, "%s@%s\n", r->elem, r->name);
    return true;
}

/* An anonymous file for nDPI's path-based loader: memfd (no temporary
 * directory needed), else a temporary file that is unlinked at once. */
static FILE *anon_file(char *path, size_t pathlen)
{
    int fd = memfd_create("fl-rules", MFD_CLOEXEC);
    if (fd >= 0) {
        snprintf(path, pathlen, "/proc/self/fd/%d", fd);
        if (access(path, R_OK) == 0)
            return fdopen(fd, "w+");
        close(fd);
    }
    const char *dir = getenv("TMPDIR");
    snprintf(path, pathlen, "%s/fl-rules-XXXXXX", dir && *dir ? dir : "/tmp");
    fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    return fdopen(fd, "w+");
}

static bool load_rules(struct ndpi_detection_module_struct *ndpi, const char *rules_path, char *err,
                       size_t errlen)
{
    char path[4096];
    rules_copy *rc = calloc(1, sizeof *rc);
    if (!rc) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    rc->ndpi = ndpi;
    rc->path = rules_path;
    rc->out = anon_file(path, sizeof path);
    if (!rc->out) {
        free(rc);
        snprintf(err, errlen, "%s: cannot create a scratch copy: %s", rules_path, strerror(errno));
        return false;
    }
    bool is_tmp = strncmp(path, "/proc/", 6) != 0;
    bool ok = fl_rules_read(rules_path, copy_rule, rc, err, errlen);
    if (ok && fflush(rc->out) != 0) {
        snprintf(err, errlen, "%s: cannot write a scratch copy", rules_path);
        ok = false;
    }
    if (ok && ndpi_load_protocols_file(ndpi, path) < 0) {
        snprintf(err, errlen, "%s: nDPI could not load the rules", rules_path);
        ok = false;
    }
    if (is_tmp)
        unlink(path);
    fclose(rc->out);
    free(rc);
    return ok;
}

fl_classifier *fl_classifier_new(const char *rules_path, uint32_t max_flows, char *err,
                                 size_t errlen)
{
    fl_classifier *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
    if (!c->ndpi) {
        snprintf(err, errlen, "nDPI initialisation failed");
        free(c);
        return NULL;
    }
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
    if (rules_path && !load_rules(c->ndpi, rules_path, err, errlen)) {
        ndpi_exit_detection_module(c->ndpi);
        free(c);
        return NULL;
    }
    ndpi_finalize_initialization(c->ndpi);
    c->nprotos = ndpi_get_num_supported_protocols(c->ndpi);

    /* One pool for all nDPI flow state (688 bytes a flow in 4.2); slots
     * rounded to 16 bytes keep the struct's 8-byte members aligned. calloc
     * of a large pool maps zero pages lazily: memory grows with use. */
    c->slot_size = (ndpi_detection_get_sizeof_ndpi_flow_struct() + 15u) & ~(size_t)15u;
    c->max_flows = max_flows;
    if (max_flows) {
        c->pool = calloc(max_flows, c->slot_size);
        c->free_stack = malloc((size_t)max_flows * sizeof *c->free_stack);
        c->in_use = calloc(max_flows, 1);
        if (!c->pool || !c->free_stack || !c->in_use) {
            snprintf(err, errlen, "out of memory for %u nDPI flows", max_flows);
            fl_classifier_free(c);
            return NULL;
        }
        for (uint32_t i = 0; i < max_flows; i++)
            c->free_stack[i] = max_flows - 1 - i; /* slot 0 is handed out first */
        c->nfree = max_flows;
    }
    return c;
}

void fl_classifier_free(fl_classifier *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; c->in_use && i < c->max_flows; i++)
        if (c->in_use[i])
            ndpi_free_flow_data((struct ndpi_flow_struct *)(c->pool + i * c->slot_size));
    free(c->pool);
    free(c->free_stack);
    free(c->in_use);
    if (c->ndpi)
        ndpi_exit_detection_module(c->ndpi);
    free(c);
}

/* ---- per-flow state ---- */

fl_ndpi_flow *fl_classifier_flow_new(fl_classifier *c)
{
    if (c->nfree == 0)
        return NULL;
    uint32_t i = c->free_stack[--c->nfree];
    uint8_t *slot = c->pool + (size_t)i * c->slot_size;
    memset(slot, 0, c->slot_size);
    c->in_use[i] = 1;
    return (fl_ndpi_flow *)slot;
}

/* Slot index of f, or max_flows if f is not a slot of this pool. */
static uint32_t slot_index(const fl_classifier *c, const fl_ndpi_flow *f)
{
    const uint8_t *p = (const uint8_t *)f;
    if (!c->pool || p < c->pool)
        return c->max_flows;
    size_t off = (size_t)(p - c->pool);
    if (off % c->slot_size || off / c->slot_size >= c->max_flows)
        return c->max_flows;
    return (uint32_t)(off / c->slot_size);
}

void fl_classifier_flow_free(fl_classifier *c, fl_ndpi_flow *f)
{
    if (!f)
        return;
    uint32_t i = slot_index(c, f);
    if (i >= c->max_flows || !c->in_use[i])
        return;
    /* Dissectors malloc some fields (HTTP URL, TLS names, ...). */
    ndpi_free_flow_data((struct ndpi_flow_struct *)f);
    c->in_use[i] = 0;
    c->free_stack[c->nfree++] = i;
}

/* A host name into out->host: lower case; bytes outside printable ASCII
 * become "\xNN": host names on the wire are ASCII (RFC 6066 3, RFC 5890),
 * and the analyst must see what the client sent (a UTF-8 name, a broken
 * one), not a row of '?'. Cut at a whole character. An SNI is attacker
 * bytes. */
static void copy_host(const char *src, size_t src_max, fl_classification *out)
{
    size_t n = 0, o = 0;
    while (n < src_max && src[n]) {
        unsigned char ch = (unsigned char)src[n++];
        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch - 'A' + 'a');
        if (ch >= 0x21 && ch <= 0x7e) {
            if (o + 1 >= FL_HOST_MAX)
                break;
            out->host[o++] = (char)ch;
        } else {
            if (o + 4 >= FL_HOST_MAX)
                break;
            snprintf(out->host + o, 5, "\\x%02x", ch);
            o += 4;
        }
    }
    out->host[o] = '\0';
}

/* nDPI's "TLS.YouTube" is master TLS, app YouTube; plain "TLS" comes as
 * master 0, app TLS. We keep app as nDPI says and put the base protocol in
 * master either way, so "is it TLS" is one test of master_proto. The host
 * is copied because the flow state is freed right after. */
static void fill_out(const ndpi_protocol *p, const struct ndpi_flow_struct *flow,
                     fl_classification *out)
{
    out->app_proto = p->app_protocol;
    out->master_proto = p->master_protocol ? p->master_protocol : p->app_protocol;
    copy_host(flow->host_server_name, sizeof flow->host_server_name, out);
}

bool fl_classifier_packet(fl_classifier *c, fl_ndpi_flow *f, const fl_packet *pkt,
                          fl_classification *out)
{
    struct ndpi_flow_struct *flow = (struct ndpi_flow_struct *)f;
    if (!f || !pkt->l3 || pkt->l3_len == 0)
        return false;
    /* An IP packet is at most 65535 bytes; nDPI takes an unsigned short. */
    unsigned short len = pkt->l3_len > 65535u ? 65535u : (unsigned short)pkt->l3_len;
    ndpi_protocol p =
        ndpi_detection_process_packet(c->ndpi, flow, pkt->l3, len, pkt->ts_us / 1000u);
    /* Final once a dissector decided: the SNI / Host / query name is read
     * on the same packet. nDPI could go on (certificates, ...), but we use
     * only the ids and the name. */
    if (flow->detected_protocol_stack[0] == NDPI_PROTOCOL_UNKNOWN)
        return false;
    fill_out(&p, flow, out);
    return true;
}

void fl_classifier_giveup(fl_classifier *c, fl_ndpi_flow *f, fl_classification *out)
{
    struct ndpi_flow_struct *flow = (struct ndpi_flow_struct *)f;
    uint8_t guessed = 0;
    if (!f) {
        memset(out, 0, sizeof *out);
        return;
    }
    ndpi_protocol p = ndpi_detection_giveup(c->ndpi, flow, 1, &guessed);
    fill_out(&p, flow, out);
}

/* ---- names and lists ---- */

const char *fl_classifier_proto_name(const fl_classifier *c, uint16_t proto)
{
    /* 4.2 maps an id out of range to "Unknown" itself. */
    const char *n = ndpi_get_proto_name(c->ndpi, proto);
    return n ? n : "Unknown";
}

bool fl_classifier_proto_is_custom(const fl_classifier *c, uint16_t proto)
{
    return proto >= NDPI_MAX_SUPPORTED_PROTOCOLS && proto < c->nprotos;
}

uint16_t fl_classifier_match_ipv4(fl_classifier *c, const fl_addr *a)
{
    if (a->family != 4)
        return 0;
    struct in_addr pin;
    memcpy(&pin.s_addr, a->b, 4); /* network byte order, as nDPI wants */
    return ndpi_network_ptree_match(c->ndpi, &pin);
}

uint16_t fl_classifier_match_host(fl_classifier *c, const char *name)
{
    /* nDPI takes a mutable string; a DNS name is at most 255 bytes. */
    char buf[256];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof buf)
        return 0;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
    ndpi_protocol_match_result res;
    memset(&res, 0, sizeof res);
    int id = ndpi_match_string_subprotocol(c->ndpi, buf, (u_int)n, &res);
    return id > 0 ? (uint16_t)id : 0;
}

bool fl_classifier_tls_hello(fl_classifier *c, const char *sni, fl_classification *out)
{
    size_t n = strlen(sni);
    if (n == 0 || n >= sizeof out->host)
        return false;
    for (size_t i = 0; i < n; i++)
        if (sni[i] <= 0x20 || sni[i] >= 0x7f || sni[i] == '?')
            return false; /* nDPI's own reading keeps odd bytes visible */
    memset(out, 0, sizeof *out);
    copy_host(sni, n, out);
    uint16_t app = fl_classifier_match_host(c, out->host);
    /* Only a name nDPI's automaton knows decides here; an unknown one
     * goes to nDPI, which reads on into the server's certificate (and
     * remembers it for the server's later flows). Teams is what nDPI 4.2
     * remembers per client from the ClientHello (its msteams cache, which
     * names the client's later calls): fed to nDPI as well. */
    if (!app || app == NDPI_PROTOCOL_MSTEAMS || app == NDPI_PROTOCOL_SKYPE_TEAMS)
        return false;
    out->app_proto = app;
    out->master_proto = NDPI_PROTOCOL_TLS;
    return true;
}

/* ---- prefix table on nDPI's patricia tree ---- */

struct fl_prefix_table {
    ndpi_patricia_tree_t *v4, *v6;
    size_t n;
};

fl_prefix_table *fl_prefix_table_new(void)
{
    fl_prefix_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->v4 = ndpi_patricia_new(32);
    t->v6 = ndpi_patricia_new(128);
    if (!t->v4 || !t->v6) {
        fl_prefix_table_free(t);
        return NULL;
    }
    return t;
}

/* prefix of a with bits, host bits cleared (patricia compares only the
 * first bits, but an exact search must see one form of each prefix). */
static bool fill_prefix(const fl_addr *a, int bits, ndpi_prefix_t *pfx)
{
    uint8_t b[16];
    memset(pfx, 0, sizeof *pfx);
    int maxbits = a->family == 4 ? 32 : a->family == 6 ? 128 : -1;
    if (maxbits < 0 || bits < 0 || bits > maxbits)
        return false;
    memcpy(b, a->b, 16);
    for (int i = bits; i < maxbits; i++)
        b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
    if (a->family == 4) {
        struct in_addr in;
        memcpy(&in.s_addr, b, 4);
        return ndpi_fill_prefix_v4(pfx, &in, bits, 32) == 0;
    }
    struct in6_addr in6;
    memcpy(&in6, b, 16);
    return ndpi_fill_prefix_v6(pfx, &in6, bits, 128) == 0;
}

bool fl_prefix_table_add(fl_prefix_table *t, const fl_addr *net, int bits, uint32_t value)
{
    ndpi_prefix_t pfx;
    if (!fill_prefix(net, bits, &pfx))
        return false;
    ndpi_patricia_tree_t *tree = net->family == 4 ? t->v4 : t->v6;
    ndpi_patricia_node_t *node = ndpi_patricia_search_exact(tree, &pfx);
    if (!node) {
        /* lookup inserts (copying the prefix: its ref_count is 0). */
        node = ndpi_patricia_lookup(tree, &pfx);
        if (!node)
            return false;
        t->n++;
    }
    ndpi_patricia_set_node_u64(node, value);
    return true;
}

bool fl_prefix_table_lookup(fl_prefix_table *t, const fl_addr *a, uint32_t *value)
{
    ndpi_prefix_t pfx;
    if (!fill_prefix(a, a->family == 4 ? 32 : 128, &pfx))
        return false;
    ndpi_patricia_node_t *node = ndpi_patricia_search_best(a->family == 4 ? t->v4 : t->v6, &pfx);
    if (!node)
        return false;
    *value = (uint32_t)ndpi_patricia_get_node_u64(node);
    return true;
}

size_t fl_prefix_table_size(const fl_prefix_table *t)
{
    return t->n;
}

void fl_prefix_table_free(fl_prefix_table *t)
{
    if (!t)
        return;
    if (t->v4)
        ndpi_patricia_destroy(t->v4, NULL);
    if (t->v6)
        ndpi_patricia_destroy(t->v6, NULL);
    free(t);
}

const char *fl_classify_ndpi_version(void)
{
    return ndpi_revision();
}

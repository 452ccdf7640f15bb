/* fl_provider.h - who runs the server: provider attribution.
 *
 * Order (README "How a flow is attributed"), first match wins:
 *   1. operator rules (an nDPI protocols file: ip: rules, IPv4 and IPv6,
 *      and host: rules; loaded by nDPI's loader, IPv6 ip: lines by ours);
 *   2. the server address in the published provider ranges (the shipped
 *      prefix table, IPv4 and IPv6), then nDPI 4.2's own IPv4 lists;
 *   3. names, only when the address says nothing: nDPI's classification of
 *      SNI/Host, the name suffix table, names learned from DNS answers;
 *   4. otherwise unknown (id 0).
 * A provider name is letters, digits, '.', '_' or '-' (it goes into Redis
 * keys).
 */
#ifndef FL_PROVIDER_H
#define FL_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fl_classify.h"
#include "fl_dns.h"
#include "fl_http.h"
#include "fl_packet.h"

typedef uint16_t fl_provider_id;
#define FL_PROVIDER_UNKNOWN 0
#define FL_PROVIDER_MAX 1024

typedef struct fl_providers fl_providers;

typedef struct fl_providers_options {
    const char *ranges_path; /* provider_ranges.tsv (cidr, provider, source) */
    const char *rules_path;  /* operator rules, nDPI protocols-file syntax; NULL none */
    uint32_t learned_max;    /* capacity of the DNS-learned name cache */
} fl_providers_options;

/* cls must have been created with the same rules_path (nDPI loads the file;
 * we read its IPv6 ip: lines and the rule names). */
fl_providers *fl_providers_new(fl_classifier *cls, const fl_providers_options *opt, char *err,
                               size_t errlen);
void fl_providers_free(fl_providers *p);

/* Re-read the ranges and operator rules (SIGHUP). Provider ids stay as they
 * were (new names get new ids) and names learned from DNS are kept. On
 * error the old tables stay in force and err says why. nDPI's own copy of
 * the rules (used for service names) is not reloaded. */
bool fl_providers_reload(fl_providers *p, const fl_providers_options *opt, char *err,
                         size_t errlen);

/* Steps 1-2: by server address. */
fl_provider_id fl_providers_by_addr(fl_providers *p, const fl_addr *server);
/* Step 3a: nDPI's classification of the flow (app, then master). */
fl_provider_id fl_providers_by_ndpi(fl_providers *p, uint16_t app, uint16_t master);
/* Step 3b: a host name (operator host rules, suffix table, nDPI host rules,
 * then what DNS answers said of that name). */
fl_provider_id fl_providers_by_name(fl_providers *p, const char *name);
/* Step 3c: the name DNS answers gave this address (CNAME chain followed).
 * name_out (may be NULL) receives the queried name. */
fl_provider_id fl_providers_by_learned_addr(fl_providers *p, const fl_addr *server, char *name_out,
                                            size_t name_len);
/* A CDN named by HTTP response headers. */
fl_provider_id fl_providers_by_http_cdn(fl_providers *p, fl_http_cdn cdn);

/* A DNS response: attribute it to the provider of the queried name (by its
 * answer addresses, CNAMEs followed, else by the names, else by earlier
 * answers) and learn address -> name for later flows. A query (or a response
 * without answers) is attributed by name only. */
fl_provider_id fl_providers_for_dns(fl_providers *p, const fl_dns_msg *m, uint64_t now_us);

/* Public resolvers (1.1.1.1 Cloudflare, 8.8.8.8 Google, 9.9.9.9 Quad9,
 * 208.67.222.222 OpenDNS, ...): the operator's id, 0 if not one. */
fl_provider_id fl_providers_public_resolver(fl_providers *p, const fl_addr *a);

/* Name <-> id. fl_providers_intern creates the id if needed (0 if the table
 * is full or the name is not a valid provider name). */
fl_provider_id fl_providers_intern(fl_providers *p, const char *name);
fl_provider_id fl_providers_find(const fl_providers *p, const char *name);
const char *fl_providers_name(const fl_providers *p, fl_provider_id id);
size_t fl_providers_count(const fl_providers *p); /* ids are 0..count-1 */

/* True if name is a valid provider name. */
bool fl_provider_name_valid(const char *name);

#endif

/* fl_classify.h - the nDPI adapter.
 *
 * The only module that includes <ndpi_api.h>: application classification of
 * flows, nDPI's IPv4 address lists and host-name rules, the operator rules
 * file loaded with nDPI's own loader, and a prefix table on nDPI's patricia
 * tree for what nDPI 4.2 lacks (IPv6, more providers). nDPI 4.2 quirks stay
 * here.
 */
#ifndef FL_CLASSIFY_H
#define FL_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fl_packet.h"

typedef struct fl_classifier fl_classifier;
typedef struct fl_ndpi_flow fl_ndpi_flow; /* nDPI's per-flow state */

#define FL_HOST_MAX 128

typedef struct fl_classification {
    uint16_t app_proto;     /* nDPI application protocol id (0 unknown) */
    uint16_t master_proto;  /* nDPI master protocol id (TLS, HTTP, DNS, ...) */
    char host[FL_HOST_MAX]; /* SNI / HTTP Host / DNS name nDPI read, lower
                                 case, "" if none */
} fl_classification;

/* rules_path: an nDPI protocols file (ip: and host: rules), or NULL.
 * max_flows: how many flows may be under classification at once (their
 * nDPI state is preallocated: about 1 KiB each in 4.2). */
fl_classifier *fl_classifier_new(const char *rules_path, uint32_t max_flows, char *err,
                                 size_t errlen);
void fl_classifier_free(fl_classifier *c);

/* nDPI state for a new flow, or NULL when max_flows are already being
 * classified (the flow then goes without an application name). */
fl_ndpi_flow *fl_classifier_flow_new(fl_classifier *c);
void fl_classifier_flow_free(fl_classifier *c, fl_ndpi_flow *f);

/* Feed one packet of the flow. Returns true when classification is final
 * (*out filled); the caller then frees the nDPI state. */
bool fl_classifier_packet(fl_classifier *c, fl_ndpi_flow *f, const fl_packet *pkt,
                          fl_classification *out);
/* A TLS flow whose first client segment carries a ClientHello with this
 * server_name (our own parser's, printable ASCII): nDPI's verdict on it
 * without feeding it the packet, when its host automaton knows the name
 * (the protocol over TLS, as nDPI decides it from the message). nDPI 4.2
 * computes a JA3 fingerprint (dozens of snprintf calls) on every
 * ClientHello whatever it is asked. False when the name says nothing, or
 * says Teams (nDPI remembers those clients): the caller feeds nDPI. */
bool fl_classifier_tls_hello(fl_classifier *c, const char *sni, fl_classification *out);
/* Classification stops without a verdict (too many packets, flow ended):
 * nDPI's best guess. */
void fl_classifier_giveup(fl_classifier *c, fl_ndpi_flow *f, fl_classification *out);

/* nDPI's name of a protocol id ("Google", "AmazonAWS", or an operator
 * rule's name). Never NULL. */
const char *fl_classifier_proto_name(const fl_classifier *c, uint16_t proto);
/* True for protocols defined by the operator rules file. */
bool fl_classifier_proto_is_custom(const fl_classifier *c, uint16_t proto);
/* nDPI's IPv4 lists (and operator ip: rules): protocol id, 0 if none. */
uint16_t fl_classifier_match_ipv4(fl_classifier *c, const fl_addr *a);
/* nDPI's host-name rules (and operator host: rules): protocol id, 0 if none. */
uint16_t fl_classifier_match_host(fl_classifier *c, const char *name);

/* Longest-prefix table on nDPI's patricia tree, IPv4 and IPv6. */
typedef struct fl_prefix_table fl_prefix_table;
fl_prefix_table *fl_prefix_table_new(void);
/* Adds net/bits with value; a second add of the same prefix replaces it. */
bool fl_prefix_table_add(fl_prefix_table *t, const fl_addr *net, int bits, uint32_t value);
/* Longest prefix containing a; false if none. */
bool fl_prefix_table_lookup(fl_prefix_table *t, const fl_addr *a, uint32_t *value);
size_t fl_prefix_table_size(const fl_prefix_table *t);
void fl_prefix_table_free(fl_prefix_table *t);

/* The nDPI library's own version string (ndpi_revision()): the one loaded
 * at run time, for --version and the build_info metric. */
const char *fl_classify_ndpi_version(void);

#endif

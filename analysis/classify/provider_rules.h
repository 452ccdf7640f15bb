/* provider_rules.h - private: the operator rules file (nDPI protocols-file
 * syntax), read once at start-up by classify.c and provider.c.
 *
 * The syntax is nDPI 4.2's (see its example protos.txt):
 *   <elem>[,<elem>...]@<Name>       elem: ip:<cidr>[:port], host:"<name>",
 *                                         tcp:<port>[-<port>], udp:...
 *   ip_risk_mask:... / host_risk_mask:... / trusted_issuer_dn:...
 *   # comment
 * We add one thing 4.2 cannot do: ip: rules with IPv6 prefixes.
 */
#ifndef FL_PROVIDER_RULES_H
#define FL_PROVIDER_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "fl_packet.h"

typedef enum fl_rule_kind {
    FL_RULE_IP,        /* ip: rule, IPv4 or IPv6 (net, bits) */
    FL_RULE_HOST,      /* host: rule (value: the name, quotes removed) */
    FL_RULE_PORT,      /* tcp:/udp: rule (value: "tcp:81") */
    FL_RULE_NDPI_LINE, /* a line of nDPI's other kinds, passed on verbatim */
} fl_rule_kind;

typedef struct fl_rule {
    fl_rule_kind kind;
    unsigned line;     /* 1-based line number in the file */
    const char *elem;  /* the element as written ("ip:1.2.3.0/24:443") */
    const char *value; /* FL_RULE_HOST: the host name; else as elem */
    const char *name;  /* the protocol (= provider) name after '@' */
    fl_addr net;       /* FL_RULE_IP: network, host bits cleared */
    int bits;          /* FL_RULE_IP: prefix length */
} fl_rule;

/* Called for each element; return false (with err filled) to stop. */
typedef bool (*fl_rule_fn)(void *ctx, const fl_rule *r, char *err, size_t errlen);

/* Reads and checks the whole file; any line that is not valid syntax is an
 * error "<path>:<line>: <reason>". Allocates only while reading. */
bool fl_rules_read(const char *path, fl_rule_fn fn, void *ctx, char *err, size_t errlen);

#endif

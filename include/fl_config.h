/* fl_config.h - every setting in one table (Redis's config table, nginx's
 * offsetof directives): defaults, the INI config file (inih), command-line
 * overrides by the same names, and the effective config printable. */
#ifndef FL_CONFIG_H
#define FL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FL_PATH_MAX 1024

typedef struct fl_config {
    /* [analysis] */
    uint32_t bucket_s; /* bucket width */
    uint32_t grace_buckets;
    double syn_timeout_s;
    double dns_timeout_s;
    double tls_timeout_s;
    double quic_timeout_s;      /* QUIC Initial without any server packet */
    uint32_t quic_reasm_cap;    /* QUIC ClientHellos reassembled at once */
    uint32_t https_sni_cap;     /* SNIs whose HTTPS response sizes are learned */
    uint32_t quic_fallback_cap; /* QUIC failures remembered for TCP fallback */
    uint32_t flow_cap;          /* flows tracked at once */
    uint32_t classify_cap;      /* flows under nDPI classification at once */
    uint32_t classify_packets;  /* packets given to nDPI before giving up */
    uint32_t dns_pending_cap;   /* outstanding DNS queries tracked */
    double tcp_opening_idle_s;
    double tcp_established_idle_s;
    double tcp_closed_idle_s;
    double udp_idle_s;
    double other_idle_s;
    uint32_t learned_names_cap;
    char ranges_file[FL_PATH_MAX];
    char rules_file[FL_PATH_MAX];
    /* [capture] */
    char interface[256];
    char bpf[1024];
    uint32_t snaplen;
    uint32_t buffer_mb;
    char user[64];      /* drop privileges to this user */
    double blind_s;     /* no packet this long: sensor blind */
    char log_level[16]; /* syslog level name: most verbose logged */
    /* [redis] */
    char redis_url[1024];
    char redis_prefix[64];
    char sensor[128];
    char site[128]; /* optional, carried by alert events */
    uint32_t retention_s;
    uint32_t backlog_mb;
    uint32_t stream_maxlen;
    uint32_t heartbeat_s;
    double flush_s; /* end of run: delivery of held batches, at most */
    double stale_s; /* status: a heartbeat older than this is stale */
    /* [detector] (README "Detector": each one's reason) */
    double window_s;                     /* ratios shown (status, alert ratio and peaks) */
    double evidence_window_s;            /* longest evidence window */
    double false_alerts_per_month;       /* budget per provider on clean traffic */
    uint32_t min_failures;               /* failures in the deciding window */
    double min_rate;                     /* attempts a minute in the deciding window */
    double failures_per_client;          /* beyond this per failing client: overdispersed */
    uint32_t failures_per_client_bucket; /* a client's failures in one bucket: one burst */
    uint32_t min_clients;                /* distinct failing clients */
    double min_client_share;             /* failing clients / active clients */
    double min_effect;                   /* ratio must exceed baseline + this ... */
    double baseline_factor;              /* ... and baseline * this */
    double baseline_prior;               /* failure ratio assumed before learning */
    double baseline_prior_weight;        /* that prior's weight, in attempts */
    double baseline_halflife_s;
    double baseline_doubt;       /* sequential test: baseline this many std errors up */
    double sequential_ratio;     /* the failure ratio the sequential test is tuned to */
    double https_min_ratio;      /* the https family's effect floor */
    uint32_t raise_buckets;      /* consecutive buckets above to raise */
    double resolve_alpha;        /* "still failing" test while an alert is open */
    double resolve_hold_s;       /* back at baseline this long to resolve */
    double flap_hold_s;          /* raised again within this of its resolve: reopened */
    double flap_swing;           /* ratio swing that makes a peak or trough */
    double local_provider_share; /* share of active providers failing => local */
    uint32_t local_min_providers;
    double resolver_fail_ratio; /* a resolver failing this share of queries => resolver */
    double resolver_ok_ratio;   /* its alert: healthy again under this share */
    /* [privacy] */
    char client_key_file[FL_PATH_MAX]; /* key for client pseudonyms; "" = off */
} fl_config;

void fl_config_defaults(fl_config *c);

/* Set one setting by name ("bucket_s" or "analysis.bucket_s"); false with a
 * message naming the setting and the bad value. */
bool fl_config_set(fl_config *c, const char *name, const char *value, char *err, size_t errlen);

/* Load an INI file over the current values; false with "FILE:LINE: ..." */
bool fl_config_load(fl_config *c, const char *path, char *err, size_t errlen);

/* Copy every setting of one section ("detector") from src: what a reload
 * may change while running. */
void fl_config_copy_section(fl_config *dst, const fl_config *src, const char *section);

/* The effective config as an INI file that fl_config_load reads back. */
void fl_config_print(const fl_config *c, FILE *out);

/* Resolve the default data files (ranges, rules): the installed share dir,
 * else the source tree's deploy/. */
void fl_config_resolve_paths(fl_config *c);

#endif

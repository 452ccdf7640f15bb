/* detect_int.h - the detector's state, shared by its files (private). */
#ifndef FL_DETECT_INT_H
#define FL_DETECT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "fl_detector.h"
#include "fl_hll.h"

#define MAX_WINDOW 64
#define RESOLVE_BUCKETS 3    /* the "still failing?" window while open: 30 s */
#define SCOPE_WAIT_BUCKETS 6 /* a provider raise waits for a forming scope: 60 s */

/* The window lengths tested, in buckets: every one up to 4, then about
 * 1.5x apart, and the whole window (each is one more test in the
 * budget's Bonferroni division). */
static inline bool fl_detect_scanned(uint32_t len, uint32_t window)
{
    return len <= 4 || len == window || len == 6 || len == 9 || len == 12 || len == 18 ||
           len == 24 || len == 36 || len == 48;
}

static inline uint32_t fl_detect_nscanned(uint32_t window)
{
    uint32_t n = 0;
    for (uint32_t len = 1; len <= window; len++)
        n += fl_detect_scanned(len, window);
    return n;
}
#define RESOLVERS_MAX 16          /* resolver addresses tracked (a site uses a handful) */
#define RES_RING (MAX_WINDOW + 4) /* buckets of resolver facts: a window and the grace */

/* What one provider x family showed in this bucket. */
typedef struct judgement {
    uint64_t fails, total; /* last window_s, a noisy client set aside */
    double ratio;          /* last window_s */
    double p0;             /* the baseline judged against */
    double p0_n;           /* attempts behind it (learned + prior) */
    double log_p;          /* best (lowest) log tail over the windows */
    uint32_t len;          /* buckets of that window */
    bool usable;           /* a baseline exists (dns_nodata: learned) */
    bool above;            /* significant, large and broad enough */
    bool elevated;         /* a recent window over the floor (loose test) */
    bool still;            /* the recent window still failing (loose test) */
    bool seq;              /* the sequential test decided it */
    double cusum;          /* the sequential statistic after this bucket */
    double short_ratio;    /* ratio of the last RESOLVE_BUCKETS */
    uint64_t short_total;
} judgement;

/* The lifecycle of one open alert: hold, troughs, peaks. */
typedef struct follow {
    int alert;             /* index into alerts, -1 none */
    int last;              /* the last alert (reopened within the hold) */
    double last_resolved;  /* when it resolved */
    double last_hold;      /* the hold it had */
    uint32_t healthy_run;  /* buckets in a row back at baseline */
    uint64_t run_attempts; /* attempts seen during that run */
    bool falling;          /* peak tracker: past a peak, looking for a trough */
    double hi, lo;
} follow;

typedef struct fam_state {
    double learned_f, learned_n; /* decayed sums of failures and attempts */
    double cusum;                /* CUSUM of the log likelihood ratio (evidence.h) */
    uint64_t run_f, run_n;       /* failures and attempts since it last was 0 */
    uint32_t run_len;            /* buckets since then */
    uint32_t above_run;
    double onset;
} fam_state;

typedef struct prov_state {
    char name[FL_ALERT_PROVIDER_MAX];
    uint64_t fails[FL_FAM_COUNT][MAX_WINDOW];
    uint64_t total[FL_FAM_COUNT][MAX_WINDOW];
    fam_state f[FL_FAM_COUNT];
    fl_hll window_clients[MAX_WINDOW];
    bool any_clients[MAX_WINDOW]; /* window_clients[k] holds a client */
    uint64_t active[MAX_WINDOW];
    fl_addr *fc[MAX_WINDOW];         /* failing clients per bucket ... */
    uint32_t *fn[MAX_WINDOW];        /* ... and their failures */
    fl_family_fails *fm[MAX_WINDOW]; /* ... and per family (NULL: fn for every family) */
    uint32_t nfc[MAX_WINDOW];
    bool capped[MAX_WINDOW]; /* the bucket's list stopped at its cap */
    /* per family, failures of the window's two noisiest clients in it */
    uint64_t noisy[FL_FAM_COUNT][MAX_WINDOW];
    fl_addr noisy_who[FL_FAM_COUNT][2]; /* those clients (family 0: none) */
    judgement j[FL_FAM_COUNT];
    uint64_t clients;                     /* distinct failing clients in the window */
    fl_hll window_failing;                /* ... as a sketch, pooled by the scope census */
    uint64_t active_max;                  /* most active clients in a bucket of the window */
    uint64_t clients_len[MAX_WINDOW + 1]; /* ... in the last 1..window buckets */
    /* ... failing in each family (clients_len where a list was capped) */
    uint64_t fam_clients[FL_FAM_COUNT][MAX_WINDOW + 1];
    /* ... and their failures beyond failures_per_client_bucket in a bucket
     * (bursts; 0 where unknown: a capped list, NODATA) */
    uint64_t fam_burst_excess[FL_FAM_COUNT][MAX_WINDOW + 1];
    uint64_t http_repeats[MAX_WINDOW]; /* http_5xx_repeats per bucket */
    /* the last HTTPS size mode that formed: the bucket its members were
     * counted in, and the bucket of its first member's response (0: none) */
    uint64_t mode_formed_bucket, mode_first_bucket;
    double share; /* of the window's active clients */
    follow fw;
    uint32_t deferred;      /* buckets a raise waited for the scope */
    bool conn_over;         /* its connections over their floor (census) */
    uint64_t evidence_from; /* first bucket evidence may use (after a resolve) */
} prov_state;

/* One resolver's DNS outcomes in one bucket. */
typedef struct res_tally {
    uint64_t queries, failures;
    fl_hll clients, failing;
    /* the failing client most of the failures are from, if one is: a
     * majority vote (Boyer and Moore 1981); heavy_votes is a lower bound
     * of its failures */
    fl_addr heavy;
    uint32_t heavy_votes;
} res_tally;

typedef struct resolver_state {
    fl_addr addr;
    res_tally ring[RES_RING];
    uint64_t ring_bucket[RES_RING];
    uint64_t wq, wf;             /* this bucket's window sums */
    uint64_t sq, sf;             /* and of its last RESOLVE_BUCKETS */
    uint64_t short_failing;      /* distinct failing clients then */
    uint64_t clients;            /* distinct clients in the window */
    fl_hll wclients;             /* and who they are */
    uint64_t failing_clients;    /* distinct clients with a failure, window */
    double learned_f, learned_n; /* its own baseline (decayed sums, as a provider's) */
} resolver_state;

struct fl_detector {
    const fl_config *cfg;
    fl_alert_fn fn;
    void *ctx;
    uint32_t window;
    uint64_t last_bucket;
    bool started;
    uint32_t bucket_s;
    prov_state *prov;
    size_t nprov, cap;
    fl_alert *alerts;
    size_t nalerts, alerts_cap;
    uint32_t next_id;
    follow local, resolver;    /* the scope alerts */
    bool scope_now;            /* local or resolver this bucket */
    uint32_t elevated;         /* providers over the effect floor this bucket */
    uint32_t conn_over;        /* ... whose connections are over it (no significance) */
    uint32_t active_providers; /* with attempts in the window shown */
    bool resolver_suspect;     /* a resolver failing resolver_fail_ratio lately */
    resolver_state res[RESOLVERS_MAX];
    uint32_t nres;
    uint32_t res_mask;        /* the resolvers of the open resolver alert */
    uint64_t all_dns_clients; /* distinct clients of every resolver, window */
};

/* detector.c */
fl_alert *fl_detect_new_alert(fl_detector *d);
void fl_detect_emit(fl_detector *d, int idx, bool resolved);
double fl_detect_alpha(const fl_detector *d);
double fl_detect_threshold(const fl_config *cfg, double p0);
/* Follow an open alert one bucket: still failing or not, at `ratio`. */
void fl_detect_follow(fl_detector *d, follow *fw, bool still, double ratio, uint64_t attempts,
                      double end);
/* Raise (or reopen within its hold: *reopened) the alert of fw. */
fl_alert *fl_detect_open(fl_detector *d, follow *fw, double end, bool *reopened);

/* Decay sums by one bucket of the baseline half-life and add a bucket. */
void fl_detect_learn(const fl_detector *d, double *lf, double *ln, double fails, double total);
/* A resolver's baseline failure ratio and the attempts behind it. */
double fl_detect_resolver_p0(const fl_detector *d, const resolver_state *r, double *weight);

/* An alert resolved: its evidence is spent, windows start after it. */
void fl_detect_spent(fl_detector *d, prov_state *p, uint64_t bucket);

/* scope.c: local and resolver verdicts; true if either holds now. */
bool fl_detect_scope(fl_detector *d, uint64_t bucket, double start, double end);

#endif

/* metrics_http.c - /metrics over HTTP with libmicrohttpd: the only file that
 * includes <microhttpd.h>. One internal polling thread serves scrapes; it
 * only copies the snapshot the pipeline published (under a mutex) and
 * renders it (metrics_render.c). */
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fl_metrics.h"

/* Scrapers are few; a stuck client must not hold a thread forever. */
#define METRICS_CONN_LIMIT 16
#define METRICS_CONN_TIMEOUT_S 10

struct fl_metrics {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    fl_metrics_snapshot snap;    /* guarded by mu */
    fl_metrics_snapshot scratch; /* the HTTP thread's copy (one thread) */
    pthread_mutex_t render_mu;   /* guards scratch */
    char version[64], ndpi[64], libpcap[128], hiredis[32], sensor[128];
    fl_metrics_build build;
    unsigned port;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **con_cls)
{
    fl_metrics *m = cls;
    static char not_found[] = "not found: try /metrics\n";
    static char not_allowed[] = "only GET\n";
    (void)version;
    (void)upload;
    (void)con_cls;

    if (*upload_len)
        return MHD_NO; /* a scrape has no body */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
                     sizeof not_allowed - 1, MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/metrics") != 0)
        return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, sizeof not_found - 1,
                     MHD_RESPMEM_PERSISTENT);

    size_t len = 0;
    pthread_mutex_lock(&m->render_mu);
    pthread_mutex_lock(&m->mu);
    m->scratch = m->snap;
    pthread_mutex_unlock(&m->mu);
    char *text = fl_metrics_render(&m->scratch, &m->build, &len);
    pthread_mutex_unlock(&m->render_mu);
    if (!text)
        return MHD_NO;
    return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len,
                 MHD_RESPMEM_MUST_FREE);
}

static bool resolve(const char *host, unsigned port, struct sockaddr_storage *ss, socklen_t *sslen,
                    char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV },
                    *res = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    int rc = getaddrinfo(host, ps, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "metrics address %s: %s", host, gai_strerror(rc));
        return false;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = res->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

static void copy_build(fl_metrics *m, const fl_metrics_build *b)
{
    snprintf(m->version, sizeof m->version, "%s", b && b->version ? b->version : "");
    snprintf(m->ndpi, sizeof m->ndpi, "%s", b && b->ndpi ? b->ndpi : "");
    snprintf(m->libpcap, sizeof m->libpcap, "%s", b && b->libpcap ? b->libpcap : "");
    snprintf(m->hiredis, sizeof m->hiredis, "%s", b && b->hiredis ? b->hiredis : "");
    snprintf(m->sensor, sizeof m->sensor, "%s", b && b->sensor ? b->sensor : "");
    m->build = (fl_metrics_build){ m->version, m->ndpi, m->libpcap, m->hiredis, m->sensor };
}

fl_metrics *fl_metrics_start(const char *addr, const fl_metrics_build *b, char *err, size_t errlen)
{
    char host[256];
    unsigned port;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;

    if (!fl_metrics_parse_addr(addr, host, sizeof host, &port, err, errlen) ||
        !resolve(host, port, &ss, &sslen, err, errlen))
        return NULL;
    fl_metrics *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->render_mu, NULL);
    copy_build(m, b);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    m->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, m, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)METRICS_CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)METRICS_CONN_TIMEOUT_S, MHD_OPTION_END);
    if (!m->d) {
        snprintf(err, errlen,
                 "metrics: cannot listen on %s (in use, or not an address of "
                 "this host)",
                 addr);
        fl_metrics_stop(m);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info ? info->port : port;
    return m;
}

unsigned fl_metrics_port(const fl_metrics *m)
{
    return m ? m->port : 0;
}

void fl_metrics_publish(fl_metrics *m, const fl_metrics_snapshot *s)
{
    if (!m || !s)
        return;
    pthread_mutex_lock(&m->mu);
    m->snap = *s;
    pthread_mutex_unlock(&m->mu);
}

void fl_metrics_stop(fl_metrics *m)
{
    if (!m)
        return;
    if (m->d)
        MHD_stop_daemon(m->d);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->render_mu);
    free(m);
}

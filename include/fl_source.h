/* fl_source.h - where packets come from: capture files or a live interface.
 *
 * One abstraction for both, so the pipeline above it cannot tell a replay
 * from a live run. Files may be pcap or pcapng (whatever the name says) and
 * gzip-compressed; several files are merged into one stream in timestamp
 * order. This module is the only one that includes <pcap.h>.
 */
#ifndef FL_SOURCE_H
#define FL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fl_source fl_source;

typedef struct fl_frame {
    uint64_t ts_us; /* packet time (live idle ticks: wall clock) */
    uint32_t caplen;
    uint32_t wire_len;
    int linktype;        /* DLT_* of the interface that captured it */
    const uint8_t *data; /* valid until the next fl_source_next() */
    uint32_t file_index; /* which of the files (0 for live) */
} fl_frame;

typedef enum fl_source_status {
    FL_SRC_FRAME = 0, /* *frame holds a packet */
    FL_SRC_IDLE,      /* live only: no packet for a while; frame->ts_us is
                          the wall clock so timers can still expire */
    FL_SRC_END,       /* every file read, or live capture interrupted */
    FL_SRC_ERROR,     /* fatal (live interface went away): see last_error */
} fl_source_status;

typedef struct fl_source_stats {
    uint64_t packets;      /* frames handed out */
    uint64_t bytes;        /* sum of wire lengths */
    uint64_t kernel_drops; /* live: pcap_stats ps_drop + ps_ifdrop */
    uint64_t filtered_out; /* files: frames the BPF filter rejected */
} fl_source_stats;

typedef struct fl_source_options {
    const char *bpf; /* NULL or "" for none */
    int snaplen;     /* live: bytes kept per packet (default 65535) */
    int buffer_mb;   /* live: kernel ring size (default 64) */
    int idle_ms;     /* live: FL_SRC_IDLE after this long (default 250) */
} fl_source_options;

/* Open capture files. On failure returns NULL and writes one line naming the
 * file and what is wrong into err (missing, a directory, empty, not a capture,
 * bad BPF). */
fl_source *fl_source_open_files(const char *const *paths, size_t npaths,
                                const fl_source_options *opt, char *err, size_t errlen);

/* Open a live interface (promiscuous, immediate mode, large ring buffer). */
fl_source *fl_source_open_live(const char *iface, const fl_source_options *opt, char *err,
                               size_t errlen);

fl_source_status fl_source_next(fl_source *s, fl_frame *frame);

/* Make fl_source_next return FL_SRC_END soon; async-signal-safe. */
void fl_source_interrupt(fl_source *s);

void fl_source_get_stats(fl_source *s, fl_source_stats *st);

/* Problems that ended a file early but let the run go on (a truncated or
 * damaged file): one line each, naming the file and the packet number. */
size_t fl_source_problem_count(const fl_source *s);
const char *fl_source_problem(const fl_source *s, size_t i);
const char *fl_source_last_error(const fl_source *s);

/* File names in the order given (for the report). */
size_t fl_source_file_count(const fl_source *s);
const char *fl_source_file_name(const fl_source *s, size_t i);

/* For privilege dropping after the interface is open. */
bool fl_source_is_live(const fl_source *s);

void fl_source_close(fl_source *s);

/* libpcap's version string (pcap_lib_version()), for --version. */
const char *fl_source_pcap_version(void);

#endif

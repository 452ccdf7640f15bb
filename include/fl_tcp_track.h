/* fl_tcp_track.h - TCP sequence tracking per flow direction.
 *
 * Retransmitted bytes are cut so no message is seen twice; a hole (bytes
 * lost or not captured) is reported so the dissector resynchronises. The
 * state lives in the flow entry (next_seq, FL_FS_SEQ_*).
 */
#ifndef FL_TCP_TRACK_H
#define FL_TCP_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include "fl_flow.h"

typedef enum fl_tcp_seg {
    FL_SEG_IN_ORDER = 0, /* the next bytes (or the first of a direction) */
    FL_SEG_AFTER_GAP,    /* bytes were lost before this segment */
    FL_SEG_JOINED,       /* first bytes of a direction on a flow joined
                              mid-stream: may start inside a message */
    FL_SEG_SEEN,         /* every byte seen already: a retransmission */
} fl_tcp_seg;

/* Segment of flow f (seq of its first byte; syn: the SYN flag, which takes
 * one sequence number, RFC 9293 3.4). *data / *len are trimmed to the new
 * bytes; the direction's next expected number is advanced unless the
 * result is FL_SEG_SEEN. */
fl_tcp_seg fl_tcp_track_segment(fl_flow *f, bool from_client, uint32_t seq, bool syn,
                                const uint8_t **data, uint32_t *len);

/* The idle-timeout class the flow's TCP state puts it in. */
fl_flow_class fl_tcp_flow_class(const fl_flow *f);

#endif

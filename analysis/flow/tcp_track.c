/* tcp_track.c - TCP sequence tracking and idle class (fl_tcp_track.h). */
#include "fl_tcp_track.h"

fl_tcp_seg fl_tcp_track_segment(fl_flow *f, bool from_client, uint32_t seq, bool syn,
                                const uint8_t **data, uint32_t *len)
{
    int d = from_client ? 0 : 1;
    uint32_t known = from_client ? FL_FS_SEQ_CLIENT : FL_FS_SEQ_SERVER;
    fl_tcp_seg r = FL_SEG_IN_ORDER;
    if (syn)
        seq++;
    if (!(f->state & known)) {
        if (f->state & FL_FS_MIDSTREAM)
            r = FL_SEG_JOINED;
    } else {
        /* serial-number arithmetic: wraps at 2^32 (RFC 9293 3.4) */
        int32_t rel = (int32_t)(seq - f->next_seq[d]);
        if (rel < 0) {
            /* the unsigned difference: -rel overflows at rel == INT32_MIN
             * (a segment exactly 2^31 behind; found by fuzzing) */
            uint32_t behind = f->next_seq[d] - seq;
            if (behind >= *len)
                return FL_SEG_SEEN;
            *data += behind;
            *len -= behind;
            seq += behind;
        } else if (rel > 0) {
            r = FL_SEG_AFTER_GAP;
        }
    }
    f->next_seq[d] = seq + *len;
    f->state |= known;
    return r;
}

fl_flow_class fl_tcp_flow_class(const fl_flow *f)
{
    if (f->state & FL_FS_RST ||
        (f->state & (FL_FS_FIN_CLIENT | FL_FS_FIN_SERVER)) == (FL_FS_FIN_CLIENT | FL_FS_FIN_SERVER))
        return FL_FC_TCP_CLOSED;
    if (f->state & (FL_FS_ESTABLISHED | FL_FS_MIDSTREAM | FL_FS_PAYLOAD))
        return FL_FC_TCP_ESTABLISHED;
    return FL_FC_TCP_OPENING;
}

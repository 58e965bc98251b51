/*
 * The SACK blocks a data receiver sends (RFC 2018 §4) and its D-SACK blocks
 * (RFC 2883 §4).
 *
 * RFC 2018 §4: "The first SACK block (i.e., the one immediately following
 * the kind and length fields in the option) MUST specify the contiguous block
 * of data containing the segment which triggered this ACK, unless that
 * segment advanced the Acknowledgment Number field in the header." and "The
 * SACK option SHOULD be filled out by repeating the most recently reported
 * SACK blocks (based on first SACK blocks in previous SACK options) that are
 * not subsets of a SACK block already included in the SACK option being
 * constructed."
 *
 * So the receiver remembers which blocks were first most recently
 * (sack_recent: one sequence number inside each, newest first). Blocks only
 * grow (a segment next to or between blocks merges them) or disappear (RCV.NXT
 * passes them), so a sequence number keeps naming its block until it is gone.
 * After the recent blocks come the others, in sequence order, for as long as
 * they fit ("as many distinct SACK blocks as possible").
 *
 * RFC 2883 §4: "(1) A D-SACK block is only used to report a duplicate
 * contiguous sequence of data received by the receiver in the most recent
 * packet." "(3) The left edge of the D-SACK block specifies the first
 * sequence number of the duplicate contiguous sequence, and the right edge of
 * the D-SACK block specifies the sequence number immediately following the
 * last sequence in the duplicate contiguous sequence." "(4) If the D-SACK
 * block reports a duplicate contiguous sequence from a (possibly larger)
 * block of data in the receiver's data queue above the cumulative
 * acknowledgement, then the second SACK block in that SACK option should
 * specify that (possibly larger) block of data."
 */
#include "tcp_private.h"

void tcp_sack_note_ooo(tern_stack *st, tcp_pcb *p, uint32_t seq) {
    const tcp_range *r = tcp_ooo_ranges(st, p);
    int first = tcp_ranges_find(r, p->ooo_n, seq);
    uint32_t keep[TERN_TCP_MAX_SACK_BLOCKS];
    uint8_t n = 0;
    keep[n++] = seq;
    for (uint8_t i = 0; i < p->sack_recent_n && n < TERN_TCP_MAX_SACK_BLOCKS; i++) {
        uint32_t s = p->sack_recent[i];
        int idx = seq_geq(s, p->rcv_nxt) ? tcp_ranges_find(r, p->ooo_n, s) : -1;
        /* gone below RCV.NXT, or now part of the new first block (merged) */
        if (idx < 0 || idx == first) {
            continue;
        }
        bool dup = false;
        for (uint8_t k = 1; k < n; k++) {
            dup = dup || tcp_ranges_find(r, p->ooo_n, keep[k]) == idx;
        }
        if (!dup) {
            keep[n++] = s;
        }
    }
    for (uint8_t i = 0; i < n; i++) {
        p->sack_recent[i] = keep[i];
    }
    p->sack_recent_n = n;
}

void tcp_dsack_note(tcp_pcb *p, uint32_t left, uint32_t right) {
    if (!p->dsack_on || !(p->flags & TCPF_SACK_OK) || !seq_lt(left, right) || p->dsack_pending) {
        return; /* the first duplicate sequence of the packet is the one reported */
    }
    p->dsack_left = left;
    p->dsack_right = right;
    p->dsack_pending = 1;
}

void tcp_dsack_note_ooo(tern_stack *st, tcp_pcb *p, uint32_t seq, uint32_t len) {
    /* RFC 2883 §4 (4): a duplicate from a block above the cumulative
     * acknowledgement: the first stretch of the segment already queued. */
    const tcp_range *r = tcp_ooo_ranges(st, p);
    for (uint32_t i = 0; i < p->ooo_n; i++) {
        uint32_t s = seq_max(r[i].start, seq), e = seq_min(r[i].end, seq + len);
        if (seq_lt(s, e)) {
            tcp_dsack_note(p, s, e);
            return;
        }
    }
}

static bool listed(const struct tern_tcp_sack_block *out, uint8_t n, uint32_t left) {
    for (uint8_t i = 0; i < n; i++) {
        if (out[i].left == left) {
            return true;
        }
    }
    return false;
}

uint8_t tcp_sack_blocks_out(const tern_stack *st, const tcp_pcb *p, struct tern_tcp_sack_block *out,
                            uint8_t max) {
    const tcp_range *r = tcp_ooo_ranges(st, p);
    uint8_t n = 0;
    if (max == 0) {
        return 0;
    }
    if (p->dsack_pending) {
        out[n].left = p->dsack_left;
        out[n].right = p->dsack_right;
        n++;
    }
    uint8_t first_data = n; /* SACK blocks proper start here (a D-SACK may equal one) */
    for (uint8_t i = 0; i < p->sack_recent_n && n < max; i++) {
        uint32_t s = p->sack_recent[i];
        int idx = seq_geq(s, p->rcv_nxt) ? tcp_ranges_find(r, p->ooo_n, s) : -1;
        if (idx >= 0 && !listed(out + first_data, (uint8_t)(n - first_data), r[idx].start)) {
            out[n].left = r[idx].start;
            out[n].right = r[idx].end;
            n++;
        }
    }
    for (uint32_t i = 0; i < p->ooo_n && n < max; i++) {
        if (!listed(out + first_data, (uint8_t)(n - first_data), r[i].start)) {
            out[n].left = r[i].start;
            out[n].right = r[i].end;
            n++;
        }
    }
    return n;
}

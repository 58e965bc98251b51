/*
 * D-SACKs received: spurious retransmissions detected (RFC 3708) and the
 * congestion response undone (RFC 4015 in spirit; as Linux does it).
 *
 * RFC 3708 §1: "The second method is a conservative algorithm to
 * disambiguate unnecessary retransmissions from loss events for the purpose
 * of undoing unnecessary congestion control changes." Its §2 counting is
 * spurious_rexmits ("counting all duplicate notifications for retransmitted
 * segments should work well"); its §3 loss-event method is below.
 *
 * A loss episode starts when fast retransmit or an RTO reduces the window:
 * cwnd and ssthresh are saved, and every retransmission of the episode is
 * counted (bytes, and the range [undo_una, undo_high) they lie in). Data
 * retransmitted twice makes the episode undecidable (two copies of a
 * retransmission could explain one D-SACK): no undo then. Each D-SACK block
 * (RFC 2883 §4: a first block below the cumulative ACK, or inside the second
 * block) that reports retransmitted octets counts them. When every
 * retransmitted octet has been reported as a duplicate and the episode is
 * over (SND.UNA reached the recovery point), none of the retransmissions was
 * needed: the reduction was spurious and is undone. cwnd and ssthresh go back
 * to at least their values before it (the full restoration of RFC 4015's
 * Eifel response, without its RTO adaptation; what Linux's D-SACK undo does).
 *
 * A genuine loss leaves no D-SACK for its retransmission, so the reduction
 * stays. State lives in the control block; work is O(1) per ACK.
 */
#include "tcp_private.h"

void tcp_undo_begin(tcp_pcb *p) {
    if (p->undo_state == TCP_UNDO_ARMED && seq_lt(p->snd_una, p->undo_recover)) {
        /* a new reduction inside the episode (an RTO during fast recovery):
         * its data will be retransmitted again, so it cannot be judged */
        p->undo_state = TCP_UNDO_OFF;
        return;
    }
    p->undo_state = TCP_UNDO_ARMED;
    p->undo_cwnd = p->cwnd;
    p->undo_ssthresh = p->ssthresh;
    p->undo_una = p->undo_high = p->snd_una;
    p->undo_recover = p->snd_nxt;
    p->undo_rexmit_bytes = p->undo_dsacked_bytes = 0;
}

void tcp_undo_rexmit(tcp_pcb *p, uint32_t seq, uint32_t len) {
    if (p->undo_state != TCP_UNDO_ARMED || len == 0) {
        return;
    }
    if (seq_lt(seq, p->undo_high) || seq_lt(seq, p->undo_una)) {
        p->undo_state = TCP_UNDO_OFF; /* sent a second time (or out of order): undecidable */
        return;
    }
    p->undo_high = seq + len;
    p->undo_rexmit_bytes += len;
}

/* RFC 2883 §4: the first block reports a duplicate when it lies below the
 * cumulative acknowledgement or inside the second block. */
static bool is_dsack(const struct tern_tcp_options *opt, uint32_t ack) {
    if (opt->sack_count == 0) {
        return false;
    }
    uint32_t l = opt->sack[0].left, r = opt->sack[0].right;
    if (!seq_lt(l, r)) {
        return false;
    }
    if (seq_leq(r, ack)) {
        return true;
    }
    return opt->sack_count > 1 && seq_geq(l, opt->sack[1].left) && seq_leq(r, opt->sack[1].right);
}

void tcp_undo_on_ack(tcp_pcb *p, const struct tern_tcp_options *opt, uint32_t ack) {
    if (!(p->flags & TCPF_SACK_OK)) {
        return;
    }
    /* An episode over (outside recovery SND.UNA is at or past its recovery
     * point) by more than the largest window the peer offered can no longer
     * be told a duplicate: the receiver reports one when the copy arrives,
     * within a window. It is dropped before its markers fall 2^31 behind,
     * where sequence arithmetic (RFC 9293 §3.4) would read them as ahead:
     * tcp_undo_begin() would take a new episode for part of the old one and
     * give it up, and D-SACKs of new data could count for the old one. */
    if (p->undo_state == TCP_UNDO_ARMED && p->ca_state == TCP_CA_OPEN &&
        p->snd_una - p->undo_recover > p->max_snd_wnd) {
        p->undo_state = TCP_UNDO_NONE;
    }
    if (is_dsack(opt, ack)) {
        p->dsack_blocks_in++;
        tcp_rack_dsack(p, opt->sack[0].left, opt->sack[0].right); /* RFC 8985 §6.2 Step 4 */
        uint32_t s = seq_max(opt->sack[0].left, p->undo_una);
        uint32_t e = seq_min(opt->sack[0].right, p->undo_high);
        if (p->undo_state == TCP_UNDO_ARMED && seq_lt(s, e)) {
            p->spurious_rexmits++; /* RFC 3708 §2 */
            uint32_t left = p->undo_rexmit_bytes - p->undo_dsacked_bytes;
            p->undo_dsacked_bytes += (e - s) < left ? (e - s) : left;
        }
    }
    if (p->undo_state != TCP_UNDO_ARMED || p->undo_rexmit_bytes == 0 ||
        p->undo_dsacked_bytes < p->undo_rexmit_bytes || seq_lt(p->snd_una, p->undo_recover) ||
        p->ca_state != TCP_CA_OPEN) {
        return;
    }
    /* RFC 3708 §3: every retransmission of the episode arrived as a
     * duplicate: the loss was spurious. Undo the reduction. */
    if (p->cwnd < p->undo_cwnd) {
        p->cwnd = p->undo_cwnd;
    }
    if (p->ssthresh < p->undo_ssthresh) {
        p->ssthresh = p->undo_ssthresh;
    }
    p->bytes_acked_ca = 0;
    p->ss_after_rto = 0; /* an undone RTO's slow start is no longer one (tcp_cc.c) */
    p->dsack_undos++;
    p->undo_state = TCP_UNDO_NONE;
}

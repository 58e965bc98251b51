/*
 * The sender's SACK scoreboard (RFC 2018 §3, RFC 6675 §3-4): the ranges above
 * SND.UNA the peer has selectively acknowledged, at most tcp_sack_cap of
 * them: every hole a full send buffer of segments of at least 536 octets can
 * have (a block that would need one more, possible only with smaller
 * segments, is ignored; that only delays recovery). RFC 6675's IsLost, SetPipe and NextSeg (rule 1)
 * work on them.
 */
#include "tcp_private.h"

uint32_t tcp_sack_cap(uint32_t tx_cap) {
    /* n segments have at most n/2 + 1 holes between SACKed ranges */
    uint32_t n = tx_cap / (2 * TCP_DEFAULT_MSS) + 1;
    return n < 16 ? 16 : n;
}

uint32_t tcp_sack_update(tern_stack *st, tcp_pcb *p, const struct tern_tcp_options *opt) {
    tcp_range *r = tcp_sack_ranges(st, p);
    uint32_t valid = 0;
    for (uint8_t i = 0; i < opt->sack_count && i < TERN_TCP_MAX_SACK_BLOCKS; i++) {
        uint32_t l = opt->sack[i].left, h = opt->sack[i].right;
        /* RFC 2018 §3 / RFC 6675: only blocks inside [SND.UNA, SND.NXT] count;
         * a D-SACK (RFC 2883) below SND.UNA and nonsense blocks are ignored. */
        if (!seq_lt(l, h) || !seq_gt(h, p->snd_una) || seq_gt(h, p->snd_nxt) ||
            seq_lt(l, p->snd_una) || (uint32_t)(h - l) > p->snd_nxt - p->snd_una) {
            continue;
        }
        tcp_ranges_add(r, &p->sack_n, st->tcp->sack_cap, l, h);
        valid++;
    }
    return valid;
}

uint32_t tcp_sacked_bytes(const tern_stack *st, const tcp_pcb *p) {
    return tcp_ranges_total(tcp_sack_ranges(st, p), p->sack_n);
}

uint32_t tcp_sack_lost_boundary(const tern_stack *st, const tcp_pcb *p) {
    /* RFC 6675 §4 IsLost(SeqNum): DupThresh discontiguous SACKed ranges, or
     * more than (DupThresh - 1) * SMSS SACKed bytes, above SeqNum. Every hole
     * below the first range (from the top) where that becomes true is lost. */
    const tcp_range *r = tcp_sack_ranges(st, p);
    uint32_t bytes = 0;
    for (uint32_t k = p->sack_n; k > 0; k--) {
        const tcp_range *x = &r[k - 1];
        bytes += x->end - x->start;
        uint32_t count = p->sack_n - (k - 1);
        if (count >= TCP_DUPTHRESH || bytes > (uint32_t)(TCP_DUPTHRESH - 1) * p->snd_mss) {
            return x->start;
        }
    }
    return p->snd_una;
}

static uint32_t unsacked(const tern_stack *st, const tcp_pcb *p, uint32_t a, uint32_t b) {
    if (!seq_lt(a, b)) {
        return 0;
    }
    return (b - a) - tcp_ranges_covered(tcp_sack_ranges(st, p), p->sack_n, a, b);
}

uint32_t tcp_pipe(const tern_stack *st, const tcp_pcb *p) {
    /* RFC 6675 §4 SetPipe: each unSACKed octet counts once if not lost, and
     * once more if it was retransmitted (below HighRxt). */
    uint32_t lost = seq_max(p->lost_to, p->snd_una);
    uint32_t pipe = unsacked(st, p, seq_min(lost, p->snd_nxt), p->snd_nxt);
    pipe += unsacked(st, p, p->snd_una, seq_min(seq_max(p->high_rxt, p->snd_una), p->snd_nxt));
    /* a retransmission RACK found lost is no longer in flight */
    uint32_t relost = tcp_rack_relost_bytes(st, p);
    return pipe > relost ? pipe - relost : 0;
}

bool tcp_next_rexmit(const tern_stack *st, const tcp_pcb *p, uint32_t *seq, uint32_t *len) {
    const tcp_range *r = tcp_sack_ranges(st, p);
    /* A retransmission RACK found lost (below HighRxt) goes first: it is the
     * oldest data missing (RFC 8985 §6.2). */
    if (tcp_rack_next_relost(st, p, seq, len)) {
        return true;
    }
    uint32_t s = seq_max(p->high_rxt, p->snd_una);
    for (uint32_t i = 0; i < p->sack_n; i++) {
        if (seq_in(s, r[i].start, r[i].end)) {
            s = r[i].end;
        }
    }
    if (!seq_lt(s, p->lost_to) || !seq_lt(s, p->snd_nxt)) {
        return false;
    }
    uint32_t end = p->snd_nxt;
    for (uint32_t i = 0; i < p->sack_n; i++) {
        if (seq_gt(r[i].start, s)) {
            end = seq_min(end, r[i].start);
            break;
        }
    }
    uint32_t n = end - s;
    if (n > p->snd_mss) {
        n = p->snd_mss;
    }
    *seq = s;
    *len = n;
    return true;
}

bool tcp_next_rexmit_rule3(const tern_stack *st, const tcp_pcb *p, uint32_t *seq, uint32_t *len) {
    /* RFC 6675 §4 NextSeg (3): criteria (1.a) S3 > HighRxt and (1.b) S3 below
     * the highest SACKed octet, without (1.c) IsLost. */
    if (p->sack_n == 0) {
        return false;
    }
    const tcp_range *r = tcp_sack_ranges(st, p);
    uint32_t top = r[p->sack_n - 1].start; /* unSACKed data lies below the top range */
    uint32_t s = seq_max(p->high_rxt, p->snd_una);
    for (uint32_t i = 0; i < p->sack_n; i++) {
        if (seq_in(s, r[i].start, r[i].end)) {
            s = r[i].end;
        }
    }
    if (!seq_lt(s, top)) {
        return false;
    }
    uint32_t end = top;
    for (uint32_t i = 0; i < p->sack_n; i++) {
        if (seq_gt(r[i].start, s)) {
            end = seq_min(end, r[i].start);
            break;
        }
    }
    uint32_t n = end - s;
    *seq = s;
    *len = n > p->snd_mss ? p->snd_mss : n;
    return true;
}

bool tcp_next_rescue(const tern_stack *st, const tcp_pcb *p, uint32_t *seq, uint32_t *len) {
    if ((p->flags & TCPF_RESCUE_SET) && !seq_gt(p->snd_una, p->rescue_rxt)) {
        return false;
    }
    /* the highest outstanding unSACKed octet: below SND.NXT, under any SACKed top */
    const tcp_range *r = tcp_sack_ranges(st, p);
    uint32_t hi = p->snd_nxt;
    for (uint32_t k = p->sack_n; k > 0; k--) {
        if (r[k - 1].end == hi) {
            hi = r[k - 1].start;
        }
    }
    if (!seq_gt(hi, p->snd_una)) {
        return false;
    }
    uint32_t n = hi - p->snd_una;
    if (n > p->snd_mss) {
        n = p->snd_mss;
    }
    *seq = hi - n;
    *len = n;
    return true;
}

bool tcp_sack_rexmit_lost(const tern_stack *st, const tcp_pcb *p) {
    if (!seq_gt(p->high_rxt, p->snd_una) || !seq_lt(p->rxt_mark, p->snd_nxt) ||
        unsacked(st, p, p->snd_una, p->high_rxt) == 0) {
        return false;
    }
    const tcp_range *r = tcp_sack_ranges(st, p);
    uint32_t ranges = 0;
    for (uint32_t i = 0; i < p->sack_n; i++) {
        if (seq_gt(r[i].end, p->rxt_mark)) {
            ranges++;
        }
    }
    uint32_t bytes = tcp_ranges_covered(r, p->sack_n, p->rxt_mark, p->snd_nxt);
    return ranges >= TCP_DUPTHRESH || bytes > (uint32_t)(TCP_DUPTHRESH - 1) * p->snd_mss;
}

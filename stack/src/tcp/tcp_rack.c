/*
 * RACK loss detection (RFC 8985 §6), on SACK connections when p->rack_on.
 *
 * RACK decides by time, not by counting duplicate ACKs: a segment is lost
 * when a segment sent after it has been delivered (cumulatively ACKed or
 * SACKed) and more than RACK.rtt + RACK.reo_wnd has passed since it was
 * sent. That needs the transmission time of every segment in flight, which
 * the byte ring of the send buffer does not keep: the transmission log below
 * does. It is a ring, in send (= time) order, of one record per segment sent
 * with data or FIN: its range, its time, and whether it was a retransmission.
 * A retransmission appends a new record and marks the older ones for that
 * range stale (RACK uses the latest transmission of each segment). Records
 * leave at the head once cumulatively acknowledged. The ring's capacity
 * (tcp_rack_log_cap) covers a full send buffer of full-size segments plus
 * retransmissions; when it is full, further segments are not logged and only
 * the RFC 6675 rules (which stay on beside RACK) and the RTO cover them.
 *
 * The result feeds the RFC 6675 machinery this stack already has: a lost
 * original moves the lost boundary (lost_to) over it, so NextSeg rule 1
 * retransmits it. A lost retransmission (RFC 8985 §6.2: RACK detects lost
 * retransmissions) pulls HighRxt back to it, so that NextSeg sends it, and
 * every unSACKed segment above it, again; on connections where
 * tcp_rack_rxt_alone holds (BBR) it stays marked in the log instead until
 * it goes again: tcp_rack_next_relost hands it to NextSeg, SetPipe no
 * longer counts it in flight, and only that segment goes again, since the
 * retransmissions sent after it are still in flight. (Pulled back, HighRxt
 * made NextSeg send retransmissions sent a few ms earlier again: at 15 %
 * loss, with the reset of HighRxt at each recovery's start, some 1,100 to
 * 1,500 needless copies per 10 MiB, where the kernel sent 41; issue 22.) The
 * reordering timer (RFC 8985 §6.3) re-runs the detection when the earliest
 * candidate's time is up. Work per ACK is O(records in flight), bounded by
 * the ring's capacity.
 *
 * RACK.min_RTT is a windowed minimum (RFC 8985 §6.2 Step 2), so that it
 * follows the connection to a longer path: the minimum over the last 150 to
 * 300 s (two epochs of half TCP_RACK_MIN_RTT_WIN_NS each; the older epoch
 * is forgotten when a sample starts a new one). The reordering window
 * grows with D-SACKs (RFC 8985 §6.2 Step 4): each round trip in which the
 * peer reports a duplicate (a sign that a retransmission was spurious, the
 * original only reordered) adds RACK.min_RTT / 4 to it, and it returns to
 * RACK.min_RTT / 4 after 16 recoveries without one.
 */
#include "tcp_private.h"

#define RACK_RXT 1u       /* the record is a retransmission */
#define RACK_DELIVERED 2u /* cumulatively ACKed or SACKed */
#define RACK_STALE 4u     /* the range was sent again later: a newer record speaks for it */
#define RACK_LOST 8u      /* marked lost (and its range handed to NextSeg) */

uint32_t tcp_rack_log_cap(uint32_t tx_cap) {
    uint32_t n = tx_cap / TCP_DEFAULT_MSS;
    return n + n / 2 + 8;
}

static tcp_xmit *rec_at(const tern_stack *st, const tcp_pcb *p, uint32_t i) {
    /* rack_head and i are below the capacity: one subtraction wraps, where a
     * division per record made the per-ACK scans the bulk path's top cost */
    uint32_t j = p->rack_head + i;
    if (j >= st->tcp->rack_cap) {
        j -= st->tcp->rack_cap;
    }
    return tcp_rack_log(st, p) + j;
}

void tcp_rack_reset(tcp_pcb *p) {
    p->rack_head = p->rack_n = p->rack_rxt_n = 0;
    p->rack_xmit = 0;
    p->rack_end = p->rack_fack = p->snd_una;
    p->rack_rtt = p->rack_min_rtt = 0;
    p->rack_min_cur = p->rack_min_prev = p->rack_epoch = 0;
    p->rack_reord = 0;
    p->rack_relost = 0;
    p->rack_reo_mult = 1;
    p->rack_reo_persist = 0;
    p->rack_dsack_round_on = 0;
    p->rack_in_recovery = 0;
    p->rack_episodes = p->fast_retransmits + p->rto_timeouts;
    p->rack_dsack_seen = p->rack_dsack_n;
    p->rack_trxt_lo = p->rack_trxt_hi = p->snd_una;
    p->t_rack = TERN_NEVER;
}

/* RFC 8985 §6.2 Step 2: RACK.min_RTT over a window. A sample that comes
 * half a window after the current epoch began starts a new epoch; the
 * minimum is that of the current and the previous epoch. */
static void min_rtt_sample(tcp_pcb *p, uint64_t now, uint64_t rtt) {
    if (rtt == 0) {
        rtt = 1;
    }
    if (p->rack_min_cur == 0) {
        p->rack_min_cur = p->rack_min_prev = rtt;
        p->rack_epoch = now;
    } else if (now - p->rack_epoch >= TCP_RACK_MIN_RTT_WIN_NS / 2) {
        /* an epoch with no sample at all (idle for a whole window) leaves
         * nothing of the older one */
        bool gap = now - p->rack_epoch >= TCP_RACK_MIN_RTT_WIN_NS;
        p->rack_min_prev = gap ? rtt : p->rack_min_cur;
        p->rack_min_cur = rtt;
        p->rack_epoch = now;
    } else if (rtt < p->rack_min_cur) {
        p->rack_min_cur = rtt;
    }
    p->rack_min_rtt = p->rack_min_cur < p->rack_min_prev ? p->rack_min_cur : p->rack_min_prev;
}

/* RFC 8985 §6.2 Step 4, the part that runs on every ACK: RACK.dsack_round
 * ends when SND.UNA reaches it; a D-SACK on this ACK outside such a round
 * grows the multiplier and starts one; leaving fast or RTO recovery
 * without one counts down reo_wnd_persist. */
static void reo_wnd_update(tcp_pcb *p) {
    if (p->rack_dsack_round_on && seq_geq(p->snd_una, p->rack_dsack_round)) {
        p->rack_dsack_round_on = 0;
    }
    bool dsack = p->rack_dsack_n != p->rack_dsack_seen;
    p->rack_dsack_seen = p->rack_dsack_n;
    /* recovery may also have begun after the previous ACK's call (RACK or
     * DupThresh start it later in the ACK's processing): the count of
     * episodes tells */
    uint32_t episodes = p->fast_retransmits + p->rto_timeouts;
    bool in_recovery = p->ca_state != TCP_CA_OPEN;
    bool exited = (p->rack_in_recovery || episodes != p->rack_episodes) && !in_recovery;
    p->rack_in_recovery = in_recovery;
    p->rack_episodes = episodes;
    if (!p->rack_dsack_round_on && dsack) {
        p->rack_dsack_round_on = 1;
        p->rack_dsack_round = p->snd_nxt;
        if (p->rack_reo_mult < UINT8_MAX) {
            p->rack_reo_mult++;
        }
        p->rack_reo_persist = TCP_RACK_REO_PERSIST;
    } else if (exited && p->rack_reo_persist > 0 && --p->rack_reo_persist == 0) {
        p->rack_reo_mult = 1;
    }
}

/*
 * Which D-SACKs widen the reordering window. RFC 8985 §6.2 Step 4 grows
 * RACK.reo_wnd_mult when "any DSACK option is present on latest received
 * ACK": the window is RACK's defence against marking reordered segments
 * lost, and a D-SACK is how the sender learns that a retransmission was not
 * needed. A retransmission made by a timer says nothing about RACK's
 * window, though: an RTO or a tail loss probe retransmits because no ACK
 * came, and its D-SACK means that the ACKs were lost (or late), which a
 * wider reordering window does not prevent (F-RTO and the D-SACK undo deal
 * with those, tcp_frto.c, tcp_undo.c). Linux leaves D-SACKs of TLP probes
 * out the same way (FLAG_DSACK_TLP: "TLP is timer-driven, not triggered by
 * RACK"). Counted, they widened the window at 15 % loss both ways, where
 * lost ACKs make several spurious RTOs per transfer and no segment is ever
 * reordered, to 2-4 x RACK.min_RTT / 4 for 16 recoveries at a time, which
 * delays every loss detection of a 2-3 segment window (issue 22:
 * bench_tcp_loss cubic at 15 %, RTO.min 200 ms, 15 seeds: 0.91 -> 0.94 Mbit/s mean,
 * see docs/tcp-loss-vs-linux.md).
 */
void tcp_rack_timer_rxt(tcp_pcb *p, uint32_t seq, uint32_t end) {
    if (!seq_lt(seq, end)) {
        return;
    }
    if (!seq_lt(p->snd_una, p->rack_trxt_hi) || seq_geq(p->rack_trxt_lo, p->rack_trxt_hi)) {
        p->rack_trxt_lo = seq; /* the old range is acknowledged: start afresh */
        p->rack_trxt_hi = end;
        return;
    }
    p->rack_trxt_lo = seq_min(p->rack_trxt_lo, seq);
    p->rack_trxt_hi = seq_max(p->rack_trxt_hi, end);
}

void tcp_rack_dsack(tcp_pcb *p, uint32_t left, uint32_t right) {
    /* The range counts while SND.UNA is within a window of its top (a copy is
     * reported when it arrives, within a window): an old one is forgotten
     * before sequence arithmetic (RFC 9293 §3.4) could read it as current. */
    bool recent =
        seq_lt(p->snd_una, p->rack_trxt_hi) || p->snd_una - p->rack_trxt_hi <= p->max_snd_wnd;
    if (recent && seq_geq(left, p->rack_trxt_lo) && seq_leq(right, p->rack_trxt_hi) &&
        seq_lt(p->rack_trxt_lo, p->rack_trxt_hi)) {
        return; /* a timer's retransmission was a duplicate: an ACK was lost */
    }
    p->rack_dsack_n++;
}

void tcp_rack_sent(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq, uint32_t len) {
    if (!p->rack_on || !(p->flags & TCPF_SACK_OK) || len == 0) {
        return;
    }
    bool rxt = seq_lt(seq, p->snd_nxt);
    if (rxt) {
        /* RFC 8985 §6.1: the latest transmission of a segment counts. */
        for (uint32_t i = 0; i < p->rack_n; i++) {
            tcp_xmit *x = rec_at(st, p, i);
            if (!(x->flags & (RACK_DELIVERED | RACK_STALE)) && seq_lt(x->seq, seq + len) &&
                seq_gt(x->end, seq)) {
                x->flags |= RACK_STALE;
            }
        }
    }
    if (p->rack_n == st->tcp->rack_cap) {
        return; /* full: this segment is left to RFC 6675 and the RTO */
    }
    tcp_xmit *x = rec_at(st, p, p->rack_n++);
    x->seq = seq;
    x->end = seq + len;
    x->xmit = now;
    x->flags = rxt ? RACK_RXT : 0;
    p->rack_rxt_n += rxt;
}

/* RFC 8985 §6.2 Step 2: is (t1, e1) sent after (t2, e2)? Ties in time are
 * broken by the end sequence. */
static bool sent_after(uint64_t t1, uint32_t e1, uint64_t t2, uint32_t e2) {
    return t1 > t2 || (t1 == t2 && seq_gt(e1, e2));
}

/* RFC 8985 §6.2 Step 2: "To avoid spurious inferences, ignore a segment as
 * invalid if any of its sequence range has been retransmitted before and if
 * either of two conditions is true: 1. The Timestamp Echo Reply field
 * (TSecr) of the ACK's timestamp option [RFC7323], if available, indicates
 * the ACK was not acknowledging the last retransmission of the segment. 2.
 * The segment was last retransmitted less than RACK.min_rtt ago."
 * The TSecr tells which copy made the ACK only for a segment the ACK
 * acknowledges cumulatively: the receiver echoes the segment that covered
 * its Last.ACK.sent (RFC 7323 §4.3), the one that filled the hole. An ACK
 * for data above a hole echoes an older in-sequence segment whatever copy
 * arrived, so for SACKed segments only condition 2 can tell. */
static bool ambiguous_rxt(const tcp_pcb *p, const tcp_xmit *x, uint64_t now, bool acked,
                          bool has_tsecr, uint32_t tsecr) {
    if (now - x->xmit < p->rack_min_rtt) {
        return true; /* condition 2 */
    }
    /* condition 1: the echo is older than this copy (1 ms timestamp ticks) */
    return acked && has_tsecr && seq_lt(tsecr, tcp_ts_clock(p, x->xmit));
}

/* The acknowledged head leaves the log. The log's base, its capacity and the counts are read
 * once, not per record (rec_at's address arithmetic per record was most of this loop's cost on
 * the bulk path, issue 19). */
static void pop_acknowledged(const tern_stack *st, tcp_pcb *p) {
    const tcp_xmit *log = tcp_rack_log(st, p);
    uint32_t cap = st->tcp->rack_cap, head = p->rack_head, n = p->rack_n, rxt = 0;
    while (n > 0) {
        const tcp_xmit *x = log + head;
        if (!seq_leq(x->end, p->snd_una) &&
            !((x->flags & RACK_STALE) && seq_leq(x->seq, p->snd_una))) {
            break;
        }
        rxt += (x->flags & RACK_RXT) != 0;
        /* below the capacity: one compare wraps it (a division per record acknowledged was a
         * top cost of the per-ACK path, issue 19) */
        if (++head == cap) {
            head = 0;
        }
        n--;
    }
    p->rack_head = head;
    p->rack_n = n;
    p->rack_rxt_n -= rxt;
}

void tcp_rack_on_ack(tern_stack *st, tcp_pcb *p, uint64_t now, bool has_tsecr, uint32_t tsecr) {
    if (!p->rack_on || !(p->flags & TCPF_SACK_OK)) {
        return;
    }
    reo_wnd_update(p);
    const tcp_range *r = tcp_sack_ranges(st, p);
    /* Without SACKed ranges, only acknowledged records are delivered; without
     * retransmissions in the log, records are in sequence order, so none
     * after the first one still in flight is acknowledged: the scan ends
     * there (the same result, without walking the whole window per ACK). */
    bool in_order = p->sack_n == 0 && p->rack_rxt_n == 0;
    for (uint32_t i = 0; i < p->rack_n; i++) {
        tcp_xmit *x = rec_at(st, p, i);
        if (x->flags & (RACK_DELIVERED | RACK_STALE)) {
            continue;
        }
        bool acked = seq_leq(x->end, p->snd_una);
        if (!acked && in_order) {
            break;
        }
        if (!acked && tcp_ranges_covered(r, p->sack_n, x->seq, x->end) != x->end - x->seq) {
            continue;
        }
        x->flags |= RACK_DELIVERED;
        uint64_t rtt = now - x->xmit;
        if ((x->flags & RACK_RXT) && ambiguous_rxt(p, x, now, acked, has_tsecr, tsecr)) {
            continue;
        }
        min_rtt_sample(p, now, rtt);
        if (sent_after(x->xmit, x->end, p->rack_xmit, p->rack_end)) {
            p->rack_rtt = rtt;
            p->rack_xmit = x->xmit;
            p->rack_end = x->end;
        }
        /* RFC 8985 §6.2 Step 3: an original delivered below the highest
         * delivered sequence was reordered. */
        if (!(x->flags & RACK_RXT) && seq_lt(x->end, p->rack_fack)) {
            p->rack_reord = 1;
        }
        p->rack_fack = seq_max(p->rack_fack, x->end);
    }
    pop_acknowledged(st, p);
}

/* RFC 8985 §6.2 Step 4: the reordering window. §3.3.2: "The reordering
 * window SHOULD be set to zero if no reordering has been observed on the
 * connection so far, and either (a) three segments have been SACKed since
 * the last recovery or (b) the sender is already in fast or RTO recovery."
 * and "The RACK reordering window MUST be bounded, and this bound SHOULD be
 * SRTT." The pseudocode of §6.2:
 *   If RACK.reordering_seen is FALSE:
 *     If in Fast or RTO recovery:
 *       Return 0
 *     Else if RACK.segs_sacked >= DupThresh:
 *       Return 0
 *   Return min(RACK.reo_wnd_mult * RACK.min_RTT / 4, SRTT) */
static uint64_t reo_wnd(const tern_stack *st, const tcp_pcb *p) {
    if (!p->rack_reord) {
        /* No reordering seen so far: in recovery, or with DupThresh or
         * more segments SACKed, the window is 0 (segments SACKed counted
         * in bytes, as RFC 6675's IsLost does). */
        if (p->ca_state != TCP_CA_OPEN ||
            tcp_sacked_bytes(st, p) > (uint32_t)(TCP_DUPTHRESH - 1) * p->snd_mss) {
            return 0;
        }
    }
    /* RACK.reo_wnd = min(RACK.reo_wnd_mult * RACK.min_RTT / 4, SRTT) */
    uint64_t w = (uint64_t)p->rack_reo_mult * (p->rack_min_rtt / 4);
    if (p->rtt.srtt && w > p->rtt.srtt) {
        w = p->rtt.srtt;
    }
    return w;
}

/* RFC 8985 §6.2 Step 5: "When an ACK is received or the RACK reordering
 * timer expires, call RACK_detect_loss_and_arm_timer()." Each segment not
 * yet acknowledged and sent before RACK.segment (RACK_sent_after) is lost
 * once "Segment.xmit_ts + RACK.rtt + RACK.reo_wnd - Now()" has run out; the
 * longest remaining time arms the reordering timer ("For timely loss
 * detection, it is RECOMMENDED that the sender install a reordering
 * timer."). */
bool tcp_rack_detect(tern_stack *st, tcp_pcb *p, uint64_t now) {
    p->t_rack = TERN_NEVER;
    if (!p->rack_on || !(p->flags & TCPF_SACK_OK) || p->rack_xmit == 0) {
        return false;
    }
    uint64_t wnd = reo_wnd(st, p), timeout = 0;
    bool lost = false;
    uint8_t relost = 0;
    for (uint32_t i = 0; i < p->rack_n; i++) {
        tcp_xmit *x = rec_at(st, p, i);
        if ((x->flags & (RACK_DELIVERED | RACK_STALE)) || seq_leq(x->end, p->snd_una)) {
            continue;
        }
        if (x->flags & RACK_LOST) {
            relost |= (x->flags & RACK_RXT) != 0; /* still waiting to go again */
            continue;
        }
        if (!sent_after(p->rack_xmit, p->rack_end, x->xmit, x->end)) {
            /* sent after the latest delivered segment: no evidence yet. With
             * originals only, later records are later in time and in
             * sequence: none of them has any either. */
            if (p->rack_rxt_n == 0) {
                break;
            }
            continue;
        }
        /* RFC 8985 §6.2 Step 5: lost once RACK.rtt + RACK.reo_wnd has
         * passed since the segment was sent */
        uint64_t due = x->xmit + p->rack_rtt + wnd;
        if (due <= now) {
            x->flags |= RACK_LOST;
            p->lost_to = seq_max(p->lost_to, x->end);
            if (x->flags & RACK_RXT) {
                if (tcp_rack_rxt_alone(p)) {
                    relost = 1; /* NextSeg sends it (alone) again */
                } else {
                    /* NextSeg sends it, and all unSACKed above it, again */
                    p->high_rxt = seq_max(p->snd_una, seq_min(p->high_rxt, x->seq));
                }
            }
            lost = true;
        } else if (due - now > timeout) {
            timeout = due - now;
        }
    }
    if (timeout) {
        p->t_rack = now + timeout; /* RFC 8985 §6.3: the reordering timer */
    }
    p->rack_relost = relost;
    return lost;
}

/* A retransmission RACK marked lost and not sent again since (a newer copy
 * marks it stale), not delivered, below HighRxt (above it NextSeg's rule 1
 * finds it anyway). */
static bool relost_pending(const tcp_pcb *p, const tcp_xmit *x) {
    return (x->flags & (RACK_RXT | RACK_LOST | RACK_DELIVERED | RACK_STALE)) ==
               (RACK_RXT | RACK_LOST) &&
           seq_gt(x->end, p->snd_una) && seq_leq(x->end, p->high_rxt);
}

bool tcp_rack_next_relost(const tern_stack *st, const tcp_pcb *p, uint32_t *seq, uint32_t *len) {
    if (!p->rack_relost) {
        return false;
    }
    const tcp_range *r = tcp_sack_ranges(st, p);
    bool found = false;
    for (uint32_t i = 0; i < p->rack_n; i++) {
        const tcp_xmit *x = rec_at(st, p, i);
        if (!relost_pending(p, x)) {
            continue;
        }
        /* its first unSACKed octets */
        uint32_t s = seq_max(x->seq, p->snd_una);
        for (uint32_t k = 0; k < p->sack_n; k++) {
            if (seq_in(s, r[k].start, r[k].end)) {
                s = r[k].end;
            }
        }
        if (!seq_lt(s, x->end) || (found && !seq_lt(s, *seq))) {
            continue;
        }
        uint32_t e = x->end;
        for (uint32_t k = 0; k < p->sack_n; k++) {
            if (seq_gt(r[k].start, s)) {
                e = seq_min(e, r[k].start);
                break;
            }
        }
        *seq = s;
        *len = e - s > p->snd_mss ? p->snd_mss : e - s;
        found = true;
    }
    return found;
}

uint32_t tcp_rack_relost_bytes(const tern_stack *st, const tcp_pcb *p) {
    if (!p->rack_relost) {
        return 0;
    }
    const tcp_range *r = tcp_sack_ranges(st, p);
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->rack_n; i++) {
        const tcp_xmit *x = rec_at(st, p, i);
        if (relost_pending(p, x)) {
            uint32_t s = seq_max(x->seq, p->snd_una);
            n += (x->end - s) - tcp_ranges_covered(r, p->sack_n, s, x->end);
        }
    }
    return n;
}

/*
 * The lean ACK path's part (issue 19; tcp_predict.c, tcp_input.c process_ack_lean): an ACK that
 * moves SND.UNA, carries no SACK blocks, with an empty scoreboard and no retransmission in the
 * log. Records are then delivered in log order, which is the order of their transmission times
 * and sequence numbers (originals only: tcp_rack_sent appends them as SND.NXT moves, and time
 * never goes backwards), so tcp_rack_on_ack's scan stops at the first record not acknowledged
 * (its in_order case) and none of its records is a retransmission to judge (ambiguous_rxt).
 *
 * tcp_rack_detect then finds nothing when the latest delivered segment (RACK.xmit_ts,
 * RACK.end_seq) was not sent after the log's head: every record left after the ACK is the head
 * or after it, and the segments this ACK delivers were sent before them, so the first record
 * that detect's scan does not skip was sent after RACK.segment and the scan ends there with no
 * loss and no timer (RFC 8985 §6.2 Step 5: only a segment sent before RACK.segment can be
 * lost). The latest delivered segment can lie after the head only when it was a retransmission
 * (its record gone, the originals before it still in the log); then the general path runs.
 */
bool tcp_rack_in_order(const tern_stack *st, const tcp_pcb *p) {
    if (p->sack_n != 0 || p->rack_rxt_n != 0) {
        return false;
    }
    if (p->rack_n == 0 || p->rack_xmit == 0) {
        return true; /* nothing left to lose, or RACK.segment only from this ACK's records */
    }
    const tcp_xmit *h = rec_at(st, p, 0);
    return !sent_after(p->rack_xmit, p->rack_end, h->xmit, h->end);
}

void tcp_rack_on_ack_in_order(tern_stack *st, tcp_pcb *p, uint64_t now) {
    /* RFC 8985 §6.2 Steps 1-3 for the acknowledged records (tcp_rack_on_ack, in order) */
    tcp_xmit *log = tcp_rack_log(st, p);
    uint32_t cap = st->tcp->rack_cap, j = p->rack_head;
    for (uint32_t i = 0; i < p->rack_n; i++, j = j + 1 == cap ? 0 : j + 1) {
        tcp_xmit *x = log + j;
        if (x->flags & (RACK_DELIVERED | RACK_STALE)) {
            continue;
        }
        if (!seq_leq(x->end, p->snd_una)) {
            break;
        }
        x->flags |= RACK_DELIVERED;
        uint64_t rtt = now - x->xmit;
        min_rtt_sample(p, now, rtt);
        if (sent_after(x->xmit, x->end, p->rack_xmit, p->rack_end)) {
            p->rack_rtt = rtt;
            p->rack_xmit = x->xmit;
            p->rack_end = x->end;
        }
        if (seq_lt(x->end, p->rack_fack)) {
            p->rack_reord = 1; /* Step 3 */
        }
        p->rack_fack = seq_max(p->rack_fack, x->end);
    }
    pop_acknowledged(st, p);
    p->t_rack = TERN_NEVER; /* tcp_rack_detect: no loss, no reordering timer (above) */
}

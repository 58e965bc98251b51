/*
 * TCP input: RFC 9293 §3.10.7 "SEGMENT ARRIVES", state by state, with
 *   - RFC 5961 (RST and SYN in synchronized states, the ACK range, throttled
 *     challenge ACKs),
 *   - RFC 7323 (window scale, timestamps, PAWS),
 *   - RFC 2018 / RFC 6675 (SACK scoreboard and loss recovery),
 *   - RFC 5681 / RFC 6582 (duplicate ACKs, fast retransmit, NewReno),
 *   - RFC 6298 (RTT samples, Karn's rule),
 *   - RFC 9293 §3.8.5 (the urgent pointer, tcp_urgent.c),
 * and ICMP errors about our segments (RFC 5927, RFC 1191, RFC 1122 §4.2.3.9).
 * Every path does bounded work: no loop depends on values from the segment
 * beyond the (at most 4) SACK blocks and the bounded range lists.
 */
#include <string.h>

#include "ipv6/ipv6.h"
#include "tcp_cc.h"
#include "tcp_private.h"

static void process_syn_options(tcp_pcb *p, const struct tern_tcp_repr *seg, uint64_t now) {
    const struct tern_tcp_options *o = &seg->opt;
    /* RFC 9293 §3.7.1: no MSS option means 536 over IPv4, 1220 over IPv6 (MUST-15). */
    p->peer_mss = o->has_mss ? o->mss : tcp_default_mss(p);
    /* RFC 7323 §2.2: scaling only when both SYNs carry the option; a shift
     * above 14 is used as 14 (§2.3). */
    if ((p->flags & TCPF_WANT_WS) && o->has_wscale) {
        p->flags |= TCPF_WS_OK;
        p->snd_wscale = o->wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->wscale;
    } else {
        p->flags &= ~(uint32_t)TCPF_WS_OK;
        p->snd_wscale = 0;
        p->rcv_wscale = 0;
    }
    if ((p->flags & TCPF_WANT_SACK) && o->sack_permitted) { /* RFC 2018 §2 */
        p->flags |= TCPF_SACK_OK;
    }
    if ((p->flags & TCPF_WANT_TS) && o->has_timestamps) { /* RFC 7323 §3.2 */
        p->flags |= TCPF_TS_OK;
        p->ts_recent = o->ts_val;
        p->ts_recent_time = now;
    }
    tcp_update_snd_mss(p);
}

static void ts_rtt_sample(tcp_pcb *p, uint64_t now, const struct tern_tcp_options *o);

/* The send queue's octets below ack are acknowledged: release them (a FIN
 * or SYN the ACK also covers is not in the queue). Both ACK paths. */
static void release_acked(tern_stack *st, tcp_pcb *p, uint32_t ack) {
    if (seq_gt(ack, p->snd_buf_seq)) {
        uint32_t n = ack - p->snd_buf_seq;
        if (n > p->tx_len) {
            n = p->tx_len;
        }
        tcp_sendq_acked(st, p, n);
        p->snd_buf_seq += n;
    }
}

/*
 * The initial window after a retransmitted SYN (or SYN-ACK). RFC 5681 §3.1
 * (paraphrased; its text is quoted in scenarios/tcp/test_congestion.py) sets
 * the initial window to one segment if the SYN or SYN/ACK is lost. A timer
 * retransmits the SYN without knowing that: the first one may only have
 * been held up, behind address resolution (a lost ARP reply costs 1 s, the
 * SYN's own RTO) or on a slow path. With timestamps the answer tells: its
 * TSecr echoes the TSval of the instance it answers (RFC 7323 §4.3), and an
 * echo of the first SYN's TSval means that SYN arrived and nothing of the
 * handshake was lost; the retransmission was spurious (the reasoning of
 * RFC 3522's detection, applied to the SYN). Then the initial window is the
 * full one. Issue 22: at 15 % loss, a lost ARP exchange in front of the SYN
 * left a BBR connection with one segment, whose loss then cost the 1 s probe
 * and a 3 s RTO (RFC 6298 (5.7)) before any data moved. Kept to BBR
 * connections (tcp_rack_rxt_alone's reasoning): NewReno's and CUBIC's
 * timelines after a held-up SYN stay as they were measured.
 */
static bool syn_was_delivered(const tcp_pcb *p, const struct tern_tcp_options *o) {
    return (p->flags & TCPF_SYN_RETRANSMITTED) && p->cc_id == TERN_TCP_CC_BBR &&
           (p->flags & TCPF_TS_OK) && o->has_timestamps &&
           o->ts_ecr == tcp_ts_clock(p, p->rtt_time); /* rtt_time: the first SYN's send time */
}

/*
 * The connection is established (RFC 9293 §3.10.7.3 / §3.10.7.4 fifth); seg
 * is the SYN-ACK (active open) or the ACK of our SYN-ACK (passive open).
 *
 * The handshake's RTT sample. A SYN that was never retransmitted is timed by
 * its send time. After a retransmitted SYN (or SYN-ACK) Karn's rule forbids
 * that, but RFC 6298 §3 makes the exception: "The only case when TCP can
 * safely take RTT samples from retransmitted segments is when the TCP
 * timestamp option [JBB92] is employed, since the timestamp option removes
 * the ambiguity regarding which instance of the data segment triggered the
 * acknowledgment." The answer's TSecr names the SYN instance it answers, so
 * it is a sample (ts_rtt_sample, with its guard: an echo older than the
 * latest retransmission, e.g. a first SYN held back behind ARP and answered
 * late, gives none). SRTT is then known and the first data segment's probe
 * timeout is RFC 8985 §7.2's 2 SRTT, not the 1 s it is "If SRTT is not
 * available"; without timestamps there is no sample (Karn), as before.
 *
 * RFC 6298 (5.7) still holds: "If the timer expires awaiting the ACK of a SYN
 * segment and the TCP implementation is using an RTO less than 3 seconds,
 * the RTO MUST be re-initialized to 3 seconds when data transmission begins
 * (i.e., after the three-way handshake completes)." So after a SYN timeout
 * the RTO is 3 s even with the sample, until the first ACK of data brings a
 * new measurement (RFC 6298 §5: "once a new RTT measurement is obtained
 * (which can only happen when new data has been sent and acknowledged), the
 * computations outlined in Section 2 are performed").
 */
static void established(tern_stack *st, tcp_pcb *p, uint64_t now, const struct tern_tcp_repr *seg) {
    tcp_set_state(st, p, TERN_TCP_ESTABLISHED);
    if ((p->flags & TCPF_RTT_TIMING) && !(p->flags & TCPF_SYN_RETRANSMITTED)) {
        tcp_rtt_sample(&p->rtt, now - p->rtt_time);
    } else if (p->flags & TCPF_SYN_RETRANSMITTED) {
        ts_rtt_sample(p, now, &seg->opt); /* RFC 7323 §4, RFC 6298 §3 (above) */
    }
    p->flags &= ~(uint32_t)TCPF_RTT_TIMING;
    if (p->flags & TCPF_RTO_SYN_TIMEOUT) {
        tcp_rtt_syn_timed_out_established(&p->rtt); /* RFC 6298 (5.7) */
    }
    if (syn_was_delivered(p, &seg->opt)) {
        p->flags &= ~(uint32_t)TCPF_SYN_RETRANSMITTED; /* the initial window stays (below) */
    }
    p->retries = 0;
    p->t_rexmt = TERN_NEVER;
    p->last_rcv = now;
    tcp_cc_init(p);
    tcp_rack_reset(p);
}

/* RFC 9293 §3.10.7.4 first check: is the segment acceptable? */
static bool acceptable(const tcp_pcb *p, uint32_t seq, uint32_t seglen) {
    uint32_t wnd = seq_gt(p->rcv_adv, p->rcv_nxt) ? p->rcv_adv - p->rcv_nxt : 0;
    if (seglen == 0) {
        return wnd == 0 ? seq == p->rcv_nxt : seq_in(seq, p->rcv_nxt, p->rcv_nxt + wnd);
    }
    if (wnd == 0) {
        return false;
    }
    return seq_in(seq, p->rcv_nxt, p->rcv_nxt + wnd) ||
           seq_in(seq + seglen - 1, p->rcv_nxt, p->rcv_nxt + wnd);
}

static void enter_recovery(tern_stack *st, tcp_pcb *p, uint64_t now) {
    p->fast_retransmits++;
    tcp_cc_on_loss(p, now, false); /* ssthresh without the limited-transmit data */
    p->lt_bytes = 0;
    p->recover = p->snd_nxt; /* RFC 6582 recover, RFC 6675 (4.1) RecoveryPoint */
    p->ca_state = TCP_CA_RECOVERY;
    p->flags &= ~(uint32_t)TCPF_RTT_TIMING;
    /* RFC 6675 (4.3) starts HighRxt at the first retransmission. With RACK
     * a recovery can begin while retransmissions of the last one, above
     * its recovery point, are still in flight: everything unSACKed below
     * HighRxt has been retransmitted once already, and RACK tells which of
     * those copies are lost (tcp_rack_next_relost). Starting over at
     * SND.UNA would send each of them again at once (issue 22: at 15 % loss
     * about 600 needless copies per 10 MiB). Only where tcp_rack_rxt_alone
     * holds (BBR); NewReno and CUBIC start over as RFC 6675 has it. */
    p->high_rxt = tcp_rack_rxt_alone(p) ? seq_max(p->high_rxt, p->snd_una) : p->snd_una;
    p->flags &= ~(uint32_t)TCPF_RESCUE_SET;
    if (p->flags & TCPF_SACK_OK) {
        /* RFC 6675 §5 (4.2)-(4.3): cwnd = ssthresh, retransmit the first
         * segment (HighACK + 1), HighRxt = RescueRxt = its last octet. */
        p->cwnd = p->ssthresh;
        /* RFC 6937 §3: on entering recovery */
        p->prr_delivered = p->prr_out = 0;
        p->prr_recover_fs = p->snd_nxt - p->snd_una;
        uint32_t b = tcp_sack_lost_boundary(st, p);
        p->lost_to = seq_max(p->lost_to, seq_max(b, p->snd_una + 1)); /* and RACK's */
        uint32_t s, l;
        if (tcp_next_rexmit(st, p, &s, &l)) {
            tcp_send_range(st, p, now, s, l, true);
            p->high_rxt = s + l;
            p->rxt_mark = p->snd_nxt;
        }
        p->rescue_rxt = p->high_rxt;
        p->flags |= TCPF_RESCUE_SET;
    } else {
        /* RFC 6582 §3.2 steps 2-3 / RFC 5681 §3.2 steps 2-4. */
        p->lost_to = p->snd_una;
        tcp_retransmit_first(st, p, now);
        p->cwnd = p->ssthresh + 3u * p->snd_mss;
    }
}

/*
 * RFC 7323 §4.1, the RTTM rule: "A TSecr value received in a segment MAY be
 * used to update the averaged RTT measurement only if the segment advances
 * the left edge of the send window, i.e., SND.UNA is increased." The caller
 * calls this only for such ACKs. The echoed TSval is that of the segment
 * that made the receiver acknowledge (RFC 7323 §4.3: the one that filled a
 * hole, or the earliest one of a delayed ACK), so a retransmission is timed
 * without ambiguity: Karn's rule is needed only without timestamps, and the
 * RTO leaves its backoff on the first ACK of a retransmission instead of
 * staying backed off until a fresh segment survives a round trip. A sample
 * of 0 ticks (the data and its ACK in one tick) counts as one tick; an echo
 * from the future or older than RTO.max is ignored (a corrupt or foreign
 * TSecr).
 *
 * The echo names the instance that made the receiver acknowledge only when
 * the receiver took that instance's TSval into TS.Recent. A retransmission of
 * data the receiver already holds (its ACK was lost) is not acceptable there
 * (RFC 9293 §3.10.7.4 first; RFC 7323 §5.3 R2 comes before R3's TS.Recent
 * update) and is answered with an ACK echoing an older TSval: the TSval of a
 * segment sent one or more RTOs ago. Taken as a sample, that ACK makes SRTT
 * an RTO long (seen in bench_tcp_loss at 15 % loss: samples of 200 ms to 3 s
 * on a 0.1 ms path, each right after a backed-off RTO). So an ACK whose TSecr
 * is older than the TSval of the latest retransmission is ambiguous, as
 * RFC 6298 §3 says of retransmissions without timestamps, and gives no
 * sample; the backoff stays until an unambiguous sample (RFC 6298 (5.5)).
 */
static void ts_rtt_sample(tcp_pcb *p, uint64_t now, const struct tern_tcp_options *o) {
    if (!(p->flags & TCPF_TS_OK) || !o->has_timestamps) {
        return;
    }
    if (p->flags & TCPF_RXT_TSVAL) {
        if (seq_lt(o->ts_ecr, p->rxt_tsval)) {
            return; /* which instance made the peer acknowledge is unknown: see above */
        }
        p->flags &= ~(uint32_t)TCPF_RXT_TSVAL; /* the echoes have passed the retransmission */
    }
    uint32_t ticks = tcp_ts_clock(p, now) - o->ts_ecr;
    if (ticks > p->rtt.rto_max / TCP_RTT_CLOCK_G_NS) {
        return;
    }
    tcp_rtt_sample(&p->rtt, (uint64_t)(ticks ? ticks : 1) * TCP_RTT_CLOCK_G_NS);
}

/* RFC 8985 §6.2 Step 5, and fast recovery when it finds a loss while the
 * window is open (RACK starts fast recovery; the congestion response is
 * RFC 6675's here). */
/*
 * PRR (RFC 6937 §3) sets cwnd on each ACK of a RACK connection's fast
 * recovery so that the data sent during recovery follows the data delivered
 * (scaled by ssthresh / RecoverFS) while pipe is above ssthresh, and grows
 * back towards ssthresh no faster than slow start when pipe has fallen below
 * it (the slow-start reduction bound, PRR-SSRB). enter_recovery() started
 * the counters and sent the fast retransmit (counted in prr_out).
 */
static void prr_on_ack(const tern_stack *st, tcp_pcb *p, uint32_t delivered) {
    if (p->ca_state != TCP_CA_RECOVERY || !p->rack_on || !(p->flags & TCPF_SACK_OK) ||
        tcp_cc_controls(p)) {
        return; /* (BBR sets cwnd itself during recovery: packet conservation) */
    }
    p->prr_delivered += delivered;
    uint32_t pipe = tcp_pipe(st, p);
    int64_t sndcnt;
    if (pipe > p->ssthresh) {
        uint64_t fs = p->prr_recover_fs ? p->prr_recover_fs : 1;
        uint64_t want = ((uint64_t)p->prr_delivered * p->ssthresh + fs - 1) / fs; /* CEIL */
        sndcnt = (int64_t)want - (int64_t)p->prr_out;
    } else {
        int64_t gap = (int64_t)p->prr_delivered - (int64_t)p->prr_out;
        int64_t limit = (gap > (int64_t)delivered ? gap : (int64_t)delivered) + p->snd_mss;
        int64_t room = (int64_t)p->ssthresh - (int64_t)pipe;
        sndcnt = room < limit ? room : limit;
    }
    if (sndcnt < 0) {
        sndcnt = 0;
    }
    /* Whole segments, as Linux counts PRR (in packets, rounded up): a
     * fraction of a segment would be held back by sender SWS avoidance
     * (RFC 9293 §3.8.6.2.1) and the ACK's share lost. */
    sndcnt = (sndcnt + p->snd_mss - 1) / p->snd_mss * p->snd_mss;
    p->cwnd = pipe + (uint32_t)sndcnt;
}

static void rack_step(tern_stack *st, tcp_pcb *p, uint64_t now) {
    if (!tcp_rack_detect(st, p, now)) {
        return;
    }
    if (p->ca_state == TCP_CA_OPEN && seq_geq(p->snd_una, p->recover)) {
        enter_recovery(st, p, now);
    }
}

void tcp_rack_timer_fire(tern_stack *st, tcp_pcb *p, uint64_t now) {
    if (!tcp_synchronized(p) || tcp_flight(p) == 0) {
        return;
    }
    rack_step(st, p, now); /* RFC 8985 §6.3: the reordering timer expired */
    prr_on_ack(st, p, 0);
    tcp_output(st, p, now);
}

/* RFC 9293 §3.10.7.4 fifth: "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be
 * updated. If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)), set SND.WND <-
 * SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK." wnd: SEG.WND, scaled. */
static void send_window_update(tcp_pcb *p, const struct tern_tcp_repr *seg, uint32_t wnd) {
    uint32_t ack = seg->ack;
    if (seq_lt(p->snd_wl1, seg->seq) || (p->snd_wl1 == seg->seq && seq_leq(p->snd_wl2, ack))) {
        p->snd_wnd = wnd;
        p->snd_wl1 = seg->seq;
        p->snd_wl2 = ack;
        if (wnd > p->max_snd_wnd) {
            p->max_snd_wnd = wnd;
        }
    }
}

/* RFC 9293 §3.10.7.4 fifth (ESTABLISHED and later): an acceptable ACK. */
static void process_ack(tern_stack *st, tcp_pcb *p, uint64_t now, const struct tern_tcp_repr *seg,
                        uint32_t dlen) {
    uint32_t ack = seg->ack;
    uint32_t wnd = (uint32_t)seg->window << p->snd_wscale;
    bool sack = (p->flags & TCPF_SACK_OK) != 0;
    bool new_sack = false; /* the ACK SACKs octets not SACKed before */
    /* RFC 6937 DeliveredData: the change in SND.UNA plus the change in
     * SACKed octets (above SND.UNA) this ACK makes */
    uint32_t una0 = p->snd_una, sacked0 = sack ? tcp_sacked_bytes(st, p) : 0;
    tcp_cc_ack_ctx cc_cx; /* what the ACK changes, for a rate-based algorithm (BBR) */
    tcp_cc_ack_begin(st, p, &cc_cx);
    if (sack && seg->opt.sack_count) {
        uint32_t before = tcp_sacked_bytes(st, p);
        p->sack_blocks_in += tcp_sack_update(st, p, &seg->opt);
        new_sack = tcp_sacked_bytes(st, p) != before;
    }
    /* RFC 8985 §7.4 episode end; RFC 2883 §4: a D-SACK is a first block
     * at or below the cumulative ACK. */
    bool dsack = sack && seg->opt.sack_count && seq_leq(seg->opt.sack[0].right, ack);
    tcp_tlp_on_ack(p, now, ack, new_sack || seq_gt(ack, p->snd_una), dsack,
                   sack && seg->opt.sack_count);
    /* RFC 5681 §2: a duplicate acknowledgment (answers to zero-window
     * probes are not: the window is zero). */
    bool dup5681 = ack == p->snd_una && dlen == 0 &&
                   !(seg->flags & (TERN_TCP_SYN | TERN_TCP_FIN)) && tcp_flight(p) > 0 &&
                   wnd == p->snd_wnd && wnd != 0 && !(p->flags & TCPF_PERSIST);
    if (seq_gt(ack, p->snd_una)) {
        uint32_t acked = ack - p->snd_una;
        /* RFC 5681 §3.1: "the SYN/ACK and the acknowledgment of the SYN/ACK
         * MUST NOT increase the size of the congestion window". In
         * SYN-RECEIVED (passive or simultaneous open) SND.UNA is still ISS:
         * the octet this ACK covers first is our SYN, not data. */
        uint32_t cc_acked = p->snd_una == p->iss ? acked - 1 : acked;
        release_acked(st, p, ack);
        /* RFC 6298 §3 with Karn's algorithm: the timed segment, if it was
         * never retransmitted (nanosecond precision, preferred); otherwise,
         * with timestamps, the echoed TSval (RFC 7323 §4). */
        /* The ACK of a SYN-ACK that timed out was sampled in established(),
         * before RFC 6298 (5.7) set the RTO to 3 s for the start of data
         * transmission: neither sampled again nor collapsed here. */
        bool syn_timed_out_ack = p->snd_una == p->iss && (p->flags & TCPF_RTO_SYN_TIMEOUT);
        if ((p->flags & TCPF_RTT_TIMING) && seq_gt(ack, p->rtt_seq)) {
            tcp_rtt_sample(&p->rtt, now - p->rtt_time);
            p->flags &= ~(uint32_t)TCPF_RTT_TIMING;
        } else if (!syn_timed_out_ack) {
            ts_rtt_sample(p, now, &seg->opt);
        }
        /* With RACK-TLP (the default; the classic profile keeps RFC 6298
         * (5.5)'s backoff until a sample): an ACK that moves SND.UNA and
         * echoes one of our timestamps shows the peer answering now, even
         * when the echo is too old to be a sample (ts_rtt_sample), so the
         * RTO is computed from SRTT and RTTVAR again, as Linux clears its
         * backoff on such an ACK. Without this, at 15 % loss both ways the
         * backoff outlived the answered retransmission and the next loss
         * waited 2.8 to 24 s (issue 22, the 10 MiB TAP transfer). */
        if (p->rack_on && (p->flags & TCPF_TS_OK) && seg->opt.has_timestamps &&
            !syn_timed_out_ack) {
            tcp_rtt_collapse(&p->rtt);
        }
        p->retries = 0;
        p->soft_err = 0;
        p->snd_una = ack;
        p->bytes_acked += acked;
        tcp_ranges_trim(tcp_sack_ranges(st, p), &p->sack_n, ack);
        if (seq_lt(p->high_rxt, ack))
            p->high_rxt = ack;
        if (seq_lt(p->lost_to, ack))
            p->lost_to = ack;
        p->flags &= ~(uint32_t)TCPF_ZWP_OUT;
        switch (p->ca_state) {
        case TCP_CA_OPEN:
            /* RFC 6582 §3.2 step 2 enters fast retransmit only "if the
             * Cumulative Acknowledgment field covers more than recover".
             * Outside recovery SND.UNA is never below recover (OPEN is
             * re-entered only once an ACK reaches it), so recover follows
             * SND.UNA here: left at its last value (the ISS at first), it
             * would fall 2^31 octets behind after a long loss-free transfer,
             * where sequence arithmetic (RFC 9293 §3.4) reads it as ahead and
             * fast retransmit would stay off until the next RTO. */
            p->recover = ack;
            if (cc_acked > 0) {
                tcp_cc_on_ack(p, cc_acked, now);
            }
            break;
        case TCP_CA_RECOVERY:
            if (seq_geq(ack, p->recover)) {
                /* full ACK: leave fast recovery (RFC 6582 §3.2 step 6, option 1) */
                if (p->flags & TCPF_SACK_OK) {
                    p->cwnd = p->ssthresh;
                } else {
                    uint32_t f = tcp_flight(p), m = p->snd_mss;
                    uint32_t w = (f > m ? f : m) + m;
                    p->cwnd = p->ssthresh < w ? p->ssthresh : w;
                }
                p->ca_state = TCP_CA_OPEN;
                tcp_cc_recovery_done(p, now);
            } else if (p->flags & TCPF_SACK_OK) {
                p->lost_to = seq_max(p->lost_to, tcp_sack_lost_boundary(st, p));
            } else {
                /* partial ACK (RFC 6582 §3.2 step 5): retransmit the next
                 * segment, deflate by the amount acked, add back one SMSS. */
                tcp_retransmit_first(st, p, now);
                p->cwnd = p->cwnd > acked ? p->cwnd - acked : p->snd_mss;
                if (acked >= p->snd_mss) {
                    p->cwnd += p->snd_mss;
                }
            }
            break;
        case TCP_CA_LOSS:
            tcp_cc_on_ack(p, acked, now);
            if (seq_geq(ack, p->recover)) {
                p->ca_state = TCP_CA_OPEN;
            }
            break;
        }
        p->dupacks = 0;
        p->lt_bytes = 0; /* new data acknowledged: a new limited-transmit episode */
        /* RFC 6298 (5.2)/(5.3) */
        if (p->snd_una == p->snd_nxt) {
            if (!(p->flags & TCPF_PERSIST)) {
                p->t_rexmt = TERN_NEVER;
            }
            p->t_user = TERN_NEVER;
        } else {
            if (!(p->flags & TCPF_PERSIST)) {
                p->t_rexmt = now + p->rtt.rto;
            }
            p->t_user = p->user_timeout_ns ? now + p->user_timeout_ns : TERN_NEVER;
        }
    }
    tcp_undo_on_ack(p, &seg->opt, ack); /* RFC 3708: D-SACKs, spurious reductions undone */
    tcp_frto_on_ack(st, p, now, &seg->opt, una0, new_sack); /* RFC 5682, RFC 3522: spurious RTOs */
    if (sack && p->rack_on) {
        bool tsecr = (p->flags & TCPF_TS_OK) && seg->opt.has_timestamps;
        tcp_rack_on_ack(st, p, now, tsecr, seg->opt.ts_ecr); /* RFC 8985 §6.2 Steps 1-3 */
        rack_step(st, p, now);
        uint32_t delivered = (p->snd_una - una0) + tcp_sacked_bytes(st, p) - sacked0;
        prr_on_ack(st, p, delivered);
    }
    /*
     * RFC 6675 §2: with SACK, a duplicate acknowledgment is an ACK whose SACK
     * blocks cover octets not SACKed before, even if it also moves SND.UNA or
     * changes the window (a receiver whose window moves with every ACK, like
     * the Linux one, would otherwise never produce "duplicates"). An ACK
     * without SACK blocks falls back to RFC 5681's definition.
     */
    bool dup = sack ? (new_sack || (seg->opt.sack_count == 0 && dup5681)) : dup5681;
    if (dup && tcp_flight(p) > 0) {
        if (p->dupacks < 255) {
            p->dupacks++;
        }
        p->dup_acks_in++;
        if (p->ca_state == TCP_CA_OPEN) {
            /* RFC 6675 §5 (1)-(2): DupAcks >= DupThresh or IsLost(HighACK + 1);
             * RFC 6582 §3.2 step 2 / RFC 6675 §5.1: not again for data sent
             * before the last recovery or RTO (recover). */
            bool lost = sack && seq_gt(tcp_sack_lost_boundary(st, p), p->snd_una);
            if ((p->dupacks >= TCP_DUPTHRESH || lost) && seq_geq(p->snd_una, p->recover)) {
                enter_recovery(st, p, now);
            }
        } else if (p->ca_state == TCP_CA_RECOVERY && !sack) {
            p->cwnd += p->snd_mss; /* RFC 6582 step 4: inflate */
        }
    }
    if (sack && p->ca_state == TCP_CA_RECOVERY) {
        p->lost_to = seq_max(p->lost_to, tcp_sack_lost_boundary(st, p));
    }
    if (sack && p->ca_state != TCP_CA_OPEN && tcp_sack_rexmit_lost(st, p)) {
        /* A retransmission was lost (data sent after it is SACKed): send the
         * unSACKed data below HighRxt again instead of waiting for the RTO
         * (RFC 6675 §5.1: use all SACK information, also after an RTO). The
         * window was already reduced for this episode. */
        p->high_rxt = p->snd_una;
        p->rxt_mark = p->snd_nxt;
    }
    tcp_cc_ack_end(st, p, now, &cc_cx); /* BBR: rate sample, model, cwnd and pacing rate */
    send_window_update(p, seg, wnd);
    if (p->flags & TCPF_PERSIST) {
        p->retries = 0; /* the peer answers: probing goes on (RFC 9293 §3.8.6.1) */
        if (p->snd_wnd > 0) {
            p->flags &= ~(uint32_t)TCPF_PERSIST;
            p->t_rexmt = TERN_NEVER;
            if ((p->flags & TCPF_ZWP_OUT) && p->snd_nxt != p->snd_una &&
                !(p->flags & TCPF_FIN_SENT)) {
                p->snd_nxt = p->snd_una; /* the probe byte was not taken: send it normally */
            }
            p->flags &= ~(uint32_t)TCPF_ZWP_OUT;
            if (p->snd_una != p->snd_nxt) {
                p->t_rexmt = now + p->rtt.rto;
            }
        }
    }
}

/*
 * The lean ACK path (issue 19): process_ack for a pure ACK that moves SND.UNA
 * when tcp_predict.c's lean_ack() holds. It does, in process_ack's order, only
 * what such an ACK changes: TLP's restart on progress (RFC 8985 §7.2), the
 * send queue's release, the RTT sample (RFC 6298 §3 with Karn's algorithm,
 * RFC 7323 §4.1) and the RTO's collapse, SND.UNA, cwnd (RFC 5681 §3.1, through
 * the connection's algorithm), the RTO and user timers (RFC 6298 (5.2)/(5.3)),
 * RACK's delivered records (RFC 8985 §6.2 Steps 1-3) and the send window
 * (RFC 9293 §3.10.7.4 fifth). What it leaves out does nothing for this ACK,
 * each by the condition lean_ack() checks: the rate sample (not BBR), the
 * scoreboard and DeliveredData (no SACK blocks, an empty scoreboard), the
 * SYN's octet (SND.UNA is past the ISS), TLP's episode end (no probe
 * retransmission out), the D-SACK undo (no episode armed), F-RTO and Eifel
 * (off), RACK's reordering-window bookkeeping and loss detection
 * (tcp_rack_in_order), duplicate-ACK counting (SND.UNA moves), recovery and
 * PRR (CA_OPEN), zero-window probing (no persist, no probe out). Test builds
 * run the general path beside it and trap on a difference (predicted()).
 */
static void process_ack_lean(tern_stack *st, tcp_pcb *p, uint64_t now,
                             const struct tern_tcp_repr *seg) {
    uint32_t ack = seg->ack;
    uint32_t acked = ack - p->snd_una;
    tcp_tlp_on_ack(p, now, ack, true, false, false);
    release_acked(st, p, ack);
    if ((p->flags & TCPF_RTT_TIMING) && seq_gt(ack, p->rtt_seq)) {
        tcp_rtt_sample(&p->rtt, now - p->rtt_time);
        p->flags &= ~(uint32_t)TCPF_RTT_TIMING;
    } else {
        ts_rtt_sample(p, now, &seg->opt);
    }
    if (p->rack_on && (p->flags & TCPF_TS_OK) && seg->opt.has_timestamps) {
        tcp_rtt_collapse(&p->rtt);
    }
    p->retries = 0;
    p->soft_err = 0;
    p->snd_una = ack;
    p->bytes_acked += acked;
    if (seq_lt(p->high_rxt, ack)) {
        p->high_rxt = ack;
    }
    if (seq_lt(p->lost_to, ack)) {
        p->lost_to = ack;
    }
    p->recover = ack; /* CA_OPEN: recover follows SND.UNA (process_ack) */
    tcp_cc_on_ack(p, acked, now);
    p->dupacks = 0;
    p->lt_bytes = 0;
    if (p->snd_una == p->snd_nxt) {
        p->t_rexmt = TERN_NEVER;
        p->t_user = TERN_NEVER;
    } else {
        p->t_rexmt = now + p->rtt.rto;
        p->t_user = p->user_timeout_ns ? now + p->user_timeout_ns : TERN_NEVER;
    }
    if (p->rack_on && (p->flags & TCPF_SACK_OK)) {
        tcp_rack_on_ack_in_order(st, p, now);
    }
    send_window_update(p, seg, (uint32_t)seg->window << p->snd_wscale);
}

static void process_fin(tern_stack *st, tcp_pcb *p, uint64_t now) {
    /* RFC 9293 §3.10.7.4 eighth */
    p->flags &= ~(uint32_t)TCPF_OOO_FIN;
    if (p->flags & TCPF_FIN_RCVD) {
        p->flags |= TCPF_ACK_NOW;
        if (p->state == TERN_TCP_TIME_WAIT) {
            tcp_enter_time_wait(st, p, now); /* restart the 2 MSL timeout */
        }
        return;
    }
    p->rcv_nxt += 1;
    p->flags |= TCPF_FIN_RCVD | TCPF_ACK_NOW;
    /* The stream ends here: text queued out of order beyond the FIN is no part of
     * it (§3.10.7.4 seventh, after a FIN: "Ignore the segment text"), and is
     * neither delivered nor reported in SACK blocks. */
    p->ooo_n = 0;
    switch (p->state) {
    case TERN_TCP_SYN_RECEIVED:
    case TERN_TCP_ESTABLISHED:
        tcp_set_state(st, p, TERN_TCP_CLOSE_WAIT);
        break;
    case TERN_TCP_FIN_WAIT_1:
        if ((p->flags & TCPF_FIN_SENT) && p->snd_una == p->snd_nxt) {
            tcp_enter_time_wait(st, p, now);
        } else {
            tcp_set_state(st, p, TERN_TCP_CLOSING);
        }
        break;
    case TERN_TCP_FIN_WAIT_2:
        tcp_enter_time_wait(st, p, now);
        break;
    default:
        break;
    }
}

/* Seventh and eighth: text and FIN. seq/data/dlen already trimmed to start at or after RCV.NXT. */
static bool process_text(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq,
                         const uint8_t *data, uint32_t dlen, bool fin, uint32_t fin_seq) {
    bool text_state = p->state == TERN_TCP_ESTABLISHED || p->state == TERN_TCP_FIN_WAIT_1 ||
                      p->state == TERN_TCP_FIN_WAIT_2;
    if (dlen > 0 && text_state) {
        if (!(p->flags & TCPF_HANDLE) && (p->flags & TCPF_RCV_SHUT)) {
            /* RFC 1122 §4.2.2.13: data after CLOSE is lost: tell the peer with a RST. */
            tcp_send_rst(st, p, now);
            tcp_close_conn(st, p, TERN_ERR_CONN_RESET);
            return false;
        }
        bool had_ooo = p->ooo_n > 0;
        bool ooo;
        uint32_t adv = tcp_ooo_receive(st, p, seq, data, dlen, &ooo);
        p->bytes_received += adv;
        if (p->flags & TCPF_RCV_SHUT) {
            p->rx_head = (p->rx_head + p->rx_len) % p->rx_cap;
            p->rx_len = 0;
        }
        if (p->post_buf && p->rx_len > 0) {
            tcp_post_fill(st, p); /* text that could not go to the posted buffer directly */
        }
        if (ooo || had_ooo || adv != dlen) {
            /* RFC 5681 §4.2 / RFC 9293 §3.8.6.3: out-of-order data and gap
             * filling are acknowledged at once. */
            p->flags |= TCPF_ACK_NOW;
            p->quick_acks = TCP_QUICK_ACKS;
        } else if (p->quick_acks > 0) {
            /* After a loss the sender's window is small: an ACK for every
             * segment for a while (RFC 5681 §4.2 sets only the minimum), so
             * that one lost ACK does not leave it waiting for its RTO. */
            p->quick_acks--;
            p->flags |= TCPF_ACK_NOW;
        } else if (++p->segs_unacked >= 2 || p->delack_ns == 0) {
            /* RFC 5681 §4.2: an ACK at least every second full-sized segment */
            p->flags |= TCPF_ACK_NOW;
        } else if (p->t_delack == TERN_NEVER) {
            p->t_delack = now + p->delack_ns; /* RFC 9293 §3.8.6.3 (MUST-40: < 0.5 s) */
        }
    } else if (dlen > 0) {
        p->flags |= TCPF_ACK_NOW; /* text after the peer's FIN: ignored, acknowledged */
    }
    if (fin && p->state != TERN_TCP_CLOSED) {
        if (seq_gt(fin_seq, p->rcv_nxt)) {
            if (text_state) {
                p->flags |= TCPF_OOO_FIN | TCPF_ACK_NOW;
                p->rcv_fin_seq = fin_seq;
            }
        } else if (fin_seq == p->rcv_nxt || (p->flags & TCPF_FIN_RCVD)) {
            process_fin(st, p, now);
        }
    }
    if ((p->flags & TCPF_OOO_FIN) && p->rcv_nxt == p->rcv_fin_seq) {
        process_fin(st, p, now);
    }
    return true;
}

/*
 * A SYN's text that cannot be processed yet (LISTEN, RFC 9293 §3.10.7.2, and
 * SYN-SENT entering SYN-RECEIVED, §3.10.7.3) waits at the head of the empty
 * receive ring, outside RCV.NXT (our SYN-ACK acknowledges only the SYN), and
 * is delivered when the connection becomes established (conn_input). A peer
 * that sends it again after the handshake finds it a duplicate.
 */
static void queue_syn_text(tern_stack *st, tcp_pcb *p, const struct tern_tcp_repr *seg) {
    if (seg->payload_len == 0 || p->rx_cap == 0 || p->rx_len != 0) {
        return;
    }
    uint32_t n = (uint32_t)seg->payload_len;
    if (n > p->rx_cap) {
        n = p->rx_cap;
    }
    if (n > UINT16_MAX) {
        n = UINT16_MAX;
    }
    memcpy(tcp_rx_base(st, p), seg->payload, n);
    p->rx_head = 0;
    p->syn_data = (uint16_t)n;
    tcp_urg_syn_text(p, seg);
}

/* SYN-SENT (RFC 9293 §3.10.7.3). */
static void syn_sent_input(tern_stack *st, tcp_pcb *p, uint64_t now, const tern_ip_rx *ip,
                           const struct tern_tcp_repr *seg) {
    uint8_t f = seg->flags;
    bool ack_ok = false;
    if (f & TERN_TCP_ACK) {
        /* first: an ACK outside (ISS, SND.NXT] gets a RST (unless it is one) */
        if (seq_leq(seg->ack, p->iss) || seq_gt(seg->ack, p->snd_nxt)) {
            tcp_send_rst_reply(st, now, ip, seg);
            return;
        }
        ack_ok = true;
    }
    if (f & TERN_TCP_RST) {
        /* second: RST with an acceptable ACK resets; RFC 5961 §3.2 keeps this. */
        if (ack_ok) {
            tcp_close_conn(st, p, TERN_ERR_CONN_REFUSED);
        }
        return;
    }
    if (!(f & TERN_TCP_SYN)) {
        return; /* fifth: neither SYN nor RST: drop */
    }
    /* fourth: SYN */
    p->irs = seg->seq;
    p->rcv_nxt = seg->seq + 1;
    p->rcv_adv = p->rcv_nxt;
    p->last_ack_sent = p->rcv_nxt;
    process_syn_options(p, seg, now);
    p->snd_wnd = seg->window; /* RFC 7323 §2.2: a SYN's window is not scaled */
    p->max_snd_wnd = p->snd_wnd;
    p->snd_wl1 = seg->seq;
    p->snd_wl2 = seg->ack;
    p->last_rcv = now;
    if (ack_ok) {
        p->snd_una = seg->ack;
    }
    if (seq_gt(p->snd_una, p->iss)) {
        established(st, p, now, seg);
        p->flags |= TCPF_ACK_NOW;
        /* RFC 9293 §3.10.7.3: "continue processing at the sixth step under
         * Section 3.10.7.4 where the URG bit is checked" */
        tcp_urg_input(p, seg);
        uint32_t dlen = (uint32_t)seg->payload_len;
        bool fin = (f & TERN_TCP_FIN) != 0;
        process_text(st, p, now, seg->seq + 1, seg->payload, dlen, fin, seg->seq + 1 + dlen);
    } else {
        /* simultaneous open (RFC 9293 §3.5, Figure 8): SYN-RECEIVED, SYN-ACK with our ISS */
        tcp_set_state(st, p, TERN_TCP_SYN_RECEIVED);
        p->flags |= TCPF_ACK_NOW;
        /* RFC 9293 §3.10.7.3: "If there are other controls or text in the
         * segment, queue them for processing after the ESTABLISHED state has
         * been reached". */
        queue_syn_text(st, p, seg);
    }
}

static bool conn_input(tern_stack *st, tcp_pcb *p, uint64_t now, const tern_ip_rx *ip,
                       const struct tern_tcp_repr *seg);

/* LISTEN (RFC 9293 §3.10.7.2). */
static void listen_input(tern_stack *st, tcp_pcb *l, uint64_t now, const tern_ip_rx *ip,
                         const struct tern_tcp_repr *seg) {
    if (seg->flags & TERN_TCP_RST) {
        return; /* first: ignore a RST */
    }
    if (seg->flags & TERN_TCP_ACK) {
        if (!(seg->flags & TERN_TCP_SYN)) {
            /* the third segment of a handshake answered with a SYN cookie */
            tcp_pcb *c = NULL;
            int r = tcp_syncookie_ack(st, l, now, ip, seg, &c);
            if (r > 0) {
                conn_input(st, c, now, ip, seg);
                if (c->kind == TCP_SOCKET && c->state == TERN_TCP_SYN_RECEIVED) {
                    tcp_close_conn(st, c, TERN_OK); /* not completed: no half-open left behind */
                } else if (c->kind == TCP_SOCKET && c->state != TERN_TCP_CLOSED) {
                    tcp_output(st, c, now);
                    tcp_timers_update(st, c);
                }
                return;
            }
            if (r == 0) {
                return; /* a valid cookie the accept queue has no room for: dropped, counted */
            }
        }
        tcp_send_rst_reply(st, now, ip, seg); /* second: <SEQ=SEG.ACK><CTL=RST> */
        return;
    }
    if (!(seg->flags & TERN_TCP_SYN)) {
        return; /* fourth: drop */
    }
    if (l->synq_len >= l->backlog) {
        /* SYN queue full (a flood of spoofed SYNs, or many clients at
         * once): answer with a SYN cookie instead of keeping state
         * (RFC 4987 §3.6, tcp_syncookie.c). */
        tcp_syncookie_send(st, l, now, ip, seg);
        return;
    }
    tcp_pcb *c = tcp_listen_child(st, l, now, ip, seg);
    if (!c) {
        /* No socket free: a RST the peer's user sees at once ("connection
         * refused"), rather than silence until its SYN retries run out; the
         * next SYN after a socket is freed is served (issue 21). */
        st->c.tcp_no_pcb_rst++;
        tcp_send_rst_reply(st, now, ip, seg);
        return;
    }
    tcp_set_state(st, c, TERN_TCP_SYN_RECEIVED);
    l->synq_len++;
    tcp_hash_insert(st, c);
    tcp_output(st, c, now); /* SYN-ACK */
    tcp_timers_update(st, c);
}

/*
 * A passive child for a SYN (or the SYN a valid cookie stands for): its
 * settings from the listener, the SYN's options, ISN and sequence spaces.
 * It is not yet in SYN-RECEIVED, hashed or counted in the SYN queue.
 * Returns NULL when no socket is free.
 */
tcp_pcb *tcp_listen_child(tern_stack *st, tcp_pcb *l, uint64_t now, const tern_ip_rx *ip,
                          const struct tern_tcp_repr *seg) {
    tcp_pcb *c = tcp_pcb_alloc(st);
    if (!c) {
        return NULL;
    }
    c->laddr = ip->dst;
    c->raddr = ip->src;
    c->lport = seg->dst_port;
    c->rport = seg->src_port;
    c->parent = tcp_index(st, l);
    /* the child inherits the listener's settings */
    const uint32_t inherit =
        TCPF_NODELAY | TCPF_KEEPALIVE | TCPF_WANT_SACK | TCPF_WANT_TS | TCPF_WANT_WS | TCPF_TLP;
    c->flags = (c->flags & TCPF_DIRTY) | (l->flags & inherit) | TCPF_PASSIVE;
    c->rx_cap = l->rx_cap;
    c->tx_cap = l->tx_cap;
    c->ttl = l->ttl;
    c->cc_id = l->cc_id;
    if (!tcp_rate_log_attach(st, c)) { /* BBR with every delivery-rate log held: as no socket */
        tcp_pcb_free(st, c);
        return NULL;
    }
    c->syn_retries = l->syn_retries;
    c->data_retries = l->data_retries;
    c->keep_cnt = l->keep_cnt;
    c->iw = l->iw;
    c->mss_clamp = l->mss_clamp;
    c->delack_ns = l->delack_ns;
    c->user_timeout_ns = l->user_timeout_ns;
    c->keep_idle_ns = l->keep_idle_ns;
    c->keep_intvl_ns = l->keep_intvl_ns;
    c->dsack_on = l->dsack_on;
    c->rack_on = l->rack_on;
    c->abc_l2 = l->abc_l2;
    c->rtt = l->rtt;
    tern_route_result rr;
    uint32_t mtu = 1500;
    if (tern_route_lookup(st, &ip->src, &ip->dst, &rr) == TERN_OK) {
        mtu = rr.mtu;
    }
    tcp_setup_local_options(st, c, mtu);
    process_syn_options(c, seg, now);
    c->irs = seg->seq;
    c->rcv_nxt = seg->seq + 1;
    c->rcv_adv = c->rcv_nxt;
    c->last_ack_sent = c->rcv_nxt;
    /* RFC 9293 §3.10.7.2: "any other control or text should be queued for
     * processing later". */
    queue_syn_text(st, c, seg);
    c->iss = tcp_tw_new_iss(st, tern_isn(st, now, &c->laddr, c->lport, &c->raddr, c->rport));
    c->snd_una = c->snd_nxt = c->iss;
    c->snd_buf_seq = c->iss + 1;
    c->recover = c->high_rxt = c->lost_to = c->iss;
    c->snd_wnd = seg->window;
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = c->iss;
    c->ts_offset = (uint32_t)tern_rng_next(&st->rng);
    c->last_rcv = now;
    c->segs_in = 1;
    return c;
}

/* A SYN for a socket in TIME-WAIT that may open a new incarnation (RFC 6191
 * §2, tcp_tw_syn_acceptable): the old one ends and the SYN goes to the
 * listener with an ISN above the old SND.NXT. */
static bool time_wait_reopens(tern_stack *st, tcp_pcb *p, const tern_ip_rx *ip,
                              const struct tern_tcp_repr *seg) {
    if (p->state != TERN_TCP_TIME_WAIT || (seg->flags & (TERN_TCP_ACK | TERN_TCP_RST))) {
        return false;
    }
    tcp_pcb *l = tcp_lookup_listener(st, &ip->dst, seg->dst_port);
    bool ts_new = l && (l->flags & TCPF_WANT_TS) && seg->opt.has_timestamps;
    if (!l || !tcp_tw_syn_acceptable(p->rcv_nxt, (p->flags & TCPF_TS_OK) != 0, p->ts_recent, ts_new,
                                     seg)) {
        return false;
    }
    st->tcp->tw_reopen = true;
    st->tcp->tw_reopen_snd_nxt = p->snd_nxt;
    st->c.tcp_timewait_reused++;
    tcp_close_conn(st, p, TERN_OK);
    return true;
}

/* RFC 9293 §3.10.7.4 in full for a synchronized state or SYN-RECEIVED. Returns true when the
 * segment should go to a listener instead (TIME-WAIT reuse). */
static bool conn_input_general(tern_stack *st, tcp_pcb *p, uint64_t now, const tern_ip_rx *ip,
                               const struct tern_tcp_repr *seg) {
    uint8_t f = seg->flags;
    uint32_t dlen = (uint32_t)seg->payload_len;
    uint32_t seglen = dlen + ((f & TERN_TCP_SYN) ? 1 : 0) + ((f & TERN_TCP_FIN) ? 1 : 0);
    /* RFC 7323 §3.2 and §5.3 (PAWS) */
    if (p->flags & TCPF_TS_OK) {
        if (!seg->opt.has_timestamps) {
            if (!(f & TERN_TCP_RST)) {
                return false; /* a non-RST segment without TSopt is dropped */
            }
        } else if (!(f & TERN_TCP_RST) && seq_lt(seg->opt.ts_val, p->ts_recent)) {
            if (now - p->ts_recent_time > TCP_PAWS_IDLE_NS) {
                p->ts_recent = seg->opt.ts_val; /* §5.5: TS.Recent too old to trust */
            } else {
                tcp_send_oow_ack(st, p, now, seg); /* RFC 7323 §5.3 (PAWS), throttled */
                return false;
            }
        }
    }
    bool ok = acceptable(p, seg->seq, seglen);
    bool zero_wnd_only = false;
    if (!ok && seg->seq == p->rcv_nxt && !seq_gt(p->rcv_adv, p->rcv_nxt)) {
        /* RFC 9293 §3.10.7.4: with a zero window, ACKs and RSTs at RCV.NXT
         * are still processed (the text is dropped). */
        ok = true;
        zero_wnd_only = true;
    }
    if (!ok) {
        if (f & TERN_TCP_RST) {
            return false; /* RFC 5961 §3.2: outside the window: silently dropped */
        }
        if (p->state == TERN_TCP_SYN_RECEIVED && (f & TERN_TCP_SYN) && !(f & TERN_TCP_ACK) &&
            seg->seq == p->irs) {
            tcp_send_syn(st, p, now); /* the peer's SYN again: our SYN-ACK was lost */
            return false;
        }
        if ((f & TERN_TCP_SYN) && time_wait_reopens(st, p, ip, seg)) {
            return true; /* RFC 9293 §3.10.7.4 fourth / RFC 6191 */
        }
        if (f & TERN_TCP_SYN) {
            tcp_send_challenge_ack(st, p, now); /* RFC 5961 §4.2 */
            return false;
        }
        if (p->state == TERN_TCP_TIME_WAIT && (f & TERN_TCP_FIN)) {
            tcp_enter_time_wait(st, p, now); /* a retransmitted FIN restarts 2 MSL */
        }
        if (dlen > 0 && seq_leq(seg->seq + dlen, p->rcv_nxt) && tcp_synchronized(p)) {
            tcp_dsack_note(p, seg->seq, seg->seq + dlen); /* RFC 2883 §4: all of it a duplicate */
        }
        /* first check: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, throttled (RFC 5961 §7) */
        tcp_send_oow_ack(st, p, now, seg);
        return false;
    }
    /* RFC 7323 §4.3: TS.Recent follows the segment that covers Last.ACK.sent. */
    if ((p->flags & TCPF_TS_OK) && seg->opt.has_timestamps &&
        seq_geq(seg->opt.ts_val, p->ts_recent) && seq_leq(seg->seq, p->last_ack_sent)) {
        p->ts_recent = seg->opt.ts_val;
        p->ts_recent_time = now;
    }
    /* second: RST (RFC 5961 §3.2) */
    if (f & TERN_TCP_RST) {
        if (seg->seq != p->rcv_nxt) {
            tcp_send_challenge_ack(st, p, now);
            return false;
        }
        switch (p->state) {
        case TERN_TCP_SYN_RECEIVED:
            tcp_close_conn(st, p, (p->flags & TCPF_PASSIVE) ? TERN_OK : TERN_ERR_CONN_REFUSED);
            break;
        case TERN_TCP_ESTABLISHED:
        case TERN_TCP_FIN_WAIT_1:
        case TERN_TCP_FIN_WAIT_2:
        case TERN_TCP_CLOSE_WAIT:
            tcp_close_conn(st, p, TERN_ERR_CONN_RESET);
            break;
        default:
            tcp_close_conn(st, p, TERN_OK);
            break;
        }
        return false;
    }
    /* fourth: SYN in a synchronized state or SYN-RECEIVED (RFC 5961 §4.2) */
    if (f & TERN_TCP_SYN) {
        if (time_wait_reopens(st, p, ip, seg)) {
            return true;
        }
        tcp_send_challenge_ack(st, p, now);
        return false;
    }
    /* fifth: ACK */
    if (!(f & TERN_TCP_ACK)) {
        return false;
    }
    if (p->state == TERN_TCP_SYN_RECEIVED) {
        if (!(seq_gt(seg->ack, p->snd_una) && seq_leq(seg->ack, p->snd_nxt))) {
            tcp_send_rst_reply(st, now, ip, seg);
            return false;
        }
        if (!tcp_child_established(st, p)) {
            st->c.tcp_listen_overflow++;
            return false; /* accept queue full: dropped (see tcp_listen.c) */
        }
        established(st, p, now, seg);
        if (p->syn_data > 0 && p->rx_len == 0) {
            /* the SYN's queued text (RFC 9293 §3.10.7.2), in order now */
            p->rcv_nxt += p->syn_data;
            p->rx_len = p->syn_data;
            p->bytes_received += p->syn_data;
            p->flags |= TCPF_ACK_NOW;
            tcp_urg_established(p);
            tcp_post_fill(st, p); /* a buffer posted in SYN-RECEIVED takes it */
        }
        p->syn_data = 0;
        p->snd_wnd = (uint32_t)seg->window << p->snd_wscale;
        p->max_snd_wnd = p->snd_wnd;
        p->snd_wl1 = seg->seq;
        p->snd_wl2 = seg->ack;
    }
    /* RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT]. */
    uint32_t maxwnd = p->max_snd_wnd > 65535 ? p->max_snd_wnd : 65535;
    if (seq_gt(seg->ack, p->snd_nxt) || seq_lt(seg->ack, p->snd_una - maxwnd)) {
        tcp_send_challenge_ack(st, p, now);
        return false;
    }
    p->last_rcv = now;
    if (p->ka_probes > 0 && tcp_flight(p) == 0) {
        p->t_user = TERN_NEVER; /* the keep-alive probes were answered (tcp_timer.c) */
    }
    p->ka_probes = 0;
    if (p->state == TERN_TCP_TIME_WAIT) {
        /* only a retransmitted FIN matters here (handled below) */
    } else {
        process_ack(st, p, now, seg, zero_wnd_only ? 0 : dlen);
    }
    bool fin_acked = (p->flags & TCPF_FIN_SENT) && p->snd_una == p->snd_nxt;
    switch (p->state) {
    case TERN_TCP_FIN_WAIT_1:
        if (fin_acked) {
            tcp_set_state(st, p, TERN_TCP_FIN_WAIT_2);
        }
        break;
    case TERN_TCP_CLOSING:
        if (fin_acked) {
            tcp_enter_time_wait(st, p, now);
        }
        break;
    case TERN_TCP_LAST_ACK:
        if (fin_acked) {
            tcp_close_conn(st, p, TERN_OK);
            return false;
        }
        break;
    default:
        break;
    }
    /* sixth: the URG bit (RFC 9293 §3.10.7.4), also when the window is zero:
     * "A TCP receiver MUST process the RST and URG fields of all incoming
     * segments, even when the receive window is zero (MUST-66)." */
    tcp_urg_input(p, seg);
    if (zero_wnd_only) {
        if (dlen > 0 || (f & TERN_TCP_FIN)) {
            p->flags |= TCPF_ACK_NOW;
        }
        return false;
    }
    /* seventh/eighth, after trimming what lies before RCV.NXT */
    uint32_t seq = seg->seq;
    const uint8_t *data = seg->payload;
    uint32_t fin_seq = seg->seq + dlen;
    if (seq_lt(seq, p->rcv_nxt)) {
        uint32_t skip = p->rcv_nxt - seq;
        if (skip > dlen) {
            skip = dlen;
        }
        if (skip > 0) {
            tcp_dsack_note(p, seq, seq + skip); /* RFC 2883 §4: the part received before */
            if (p->dsack_pending) {
                /* At once, not delayed: RFC 2883 §4 (1) lets the D-SACK ride
                 * only on the ACK of this packet, and the sender needs it to
                 * undo a spurious retransmission. */
                p->flags |= TCPF_ACK_NOW;
            }
        }
        data += skip;
        dlen -= skip;
        seq += skip;
        if (dlen == 0) {
            seq = p->rcv_nxt;
        }
    }
    /* the part beyond the window is cut by the ring's free space */
    return process_text(st, p, now, seq, data, dlen, (f & TERN_TCP_FIN) != 0, fin_seq) && false;
}

/*
 * Header prediction's short paths (which segments: tcp_predict.c), doing what
 * conn_input_general does for them, in its order: TS.Recent (RFC 7323 §4.3),
 * the time of the last segment, then for a pure ACK process_ack itself, and
 * for in-order data the only effect process_ack has on it (the send-window
 * update of RFC 9293 §3.10.7.4 fifth: SND.WL1 and SND.WL2 follow the segment)
 * and the text step. The first check's acceptance test, the RST, SYN and
 * ACK-range checks, the state switch and the URG step cannot change anything
 * for these segments and are skipped.
 */
static void predicted_run(tern_stack *st, tcp_pcb *p, uint64_t now, const struct tern_tcp_repr *seg,
                          tcp_hp_kind hp) {
    if ((p->flags & TCPF_TS_OK) && seq_leq(seg->seq, p->last_ack_sent)) {
        p->ts_recent = seg->opt.ts_val; /* tcp_predict: TSval at or after TS.Recent */
        p->ts_recent_time = now;
    }
    p->last_rcv = now;
    if (hp == TCP_HP_ACK_LEAN) {
        process_ack_lean(st, p, now, seg);
        return;
    }
    if (hp == TCP_HP_ACK) {
        process_ack(st, p, now, seg, 0);
        return;
    }
    if (seq_lt(p->snd_wl1, seg->seq) || (p->snd_wl1 == seg->seq && seq_leq(p->snd_wl2, seg->ack))) {
        p->snd_wl1 = seg->seq; /* SND.WND itself is unchanged (tcp_predict) */
        p->snd_wl2 = seg->ack;
        if (p->snd_wnd > p->max_snd_wnd) {
            p->max_snd_wnd = p->snd_wnd;
        }
    }
    uint32_t dlen = (uint32_t)seg->payload_len;
    process_text(st, p, now, seg->seq, seg->payload, dlen, false, seg->seq + dlen);
}

#ifdef TERN_POLL_CACHE_CHECK
/* What an ACK's processing may change outside the control block and the counters: the flags
 * of RACK's transmission log and the lent buffers' table (tcp_sendq_acked). Test builds keep a
 * copy on the stack to run both paths from the same state; a connection with more than this
 * (send buffers beyond about 2.8 MiB) runs the lean path alone. */
enum { CHECK_XMIT_MAX = 8192, CHECK_LENT_MAX = 256 };
typedef struct ack_side_state {
    uint32_t xflags[CHECK_XMIT_MAX];
    tcp_lent lent[CHECK_LENT_MAX];
} ack_side_state;

static bool side_fits(const tern_stack *st) {
    return st->tcp->rack_cap <= CHECK_XMIT_MAX && st->tcp->lend_cap <= CHECK_LENT_MAX;
}

static void side_save(const tern_stack *st, const tcp_pcb *p, ack_side_state *s) {
    const tcp_xmit *log = tcp_rack_log(st, p);
    for (uint32_t i = 0; i < st->tcp->rack_cap; i++) {
        s->xflags[i] = log[i].flags;
    }
    if (st->tcp->lend_cap) {
        memcpy(s->lent, tcp_lend_table(st, p), st->tcp->lend_cap * sizeof(tcp_lent));
    }
}

static void side_restore(const tern_stack *st, const tcp_pcb *p, const ack_side_state *s) {
    tcp_xmit *log = tcp_rack_log(st, p);
    for (uint32_t i = 0; i < st->tcp->rack_cap; i++) {
        log[i].flags = s->xflags[i];
    }
    if (st->tcp->lend_cap) {
        memcpy(tcp_lend_table(st, p), s->lent, st->tcp->lend_cap * sizeof(tcp_lent));
    }
}

static bool side_same(const tern_stack *st, const tcp_pcb *p, const ack_side_state *s) {
    const tcp_xmit *log = tcp_rack_log(st, p);
    for (uint32_t i = 0; i < st->tcp->rack_cap; i++) {
        if (log[i].flags != s->xflags[i]) {
            return false;
        }
    }
    return st->tcp->lend_cap == 0 ||
           memcmp(tcp_lend_table(st, p), s->lent, st->tcp->lend_cap * sizeof(tcp_lent)) == 0;
}

/*
 * The lean ACK path beside the general one: conn_input_general from the same state (control
 * block, counters, RACK's log, lent buffers), then the short path; both must come out byte for
 * byte the same. Under lean_ack()'s conditions neither sends: a general path that sends (a
 * recovery the conditions failed to exclude) counts tcp_out and traps here.
 */
static void predicted_lean_checked(tern_stack *st, tcp_pcb *p, uint64_t now, const tern_ip_rx *ip,
                                   const struct tern_tcp_repr *seg) {
    if (!side_fits(st)) {
        predicted_run(st, p, now, seg, TCP_HP_ACK_LEAN);
        return;
    }
    _Static_assert(sizeof(ack_side_state) <= 40 * 1024, "test builds' stack use");
    ack_side_state s0, s1;
    tcp_pcb before, general;
    tern_counters c0 = st->c, c1;
    tern_counters_hot h0 = st->hc, h1;
    memcpy(&before, p, sizeof before);
    side_save(st, p, &s0);
    if (conn_input_general(st, p, now, ip, seg)) {
        __builtin_trap();
    }
    memcpy(&general, p, sizeof general);
    c1 = st->c;
    h1 = st->hc;
    side_save(st, p, &s1);
    memcpy(p, &before, sizeof before);
    st->c = c0;
    st->hc = h0;
    side_restore(st, p, &s0);
    predicted_run(st, p, now, seg, TCP_HP_ACK_LEAN);
    if (memcmp(p, &general, sizeof general) != 0 || memcmp(&st->c, &c1, sizeof c1) != 0 ||
        memcmp(&st->hc, &h1, sizeof h1) != 0 || !side_same(st, p, &s1)) {
        __builtin_trap();
    }
}

/*
 * Test builds: the general path decides, and the short path must agree. For in-order data
 * (nothing in flight, so neither path sends anything) both run from the same state and the
 * connection's control block and the stack's counters must come out byte for byte the same; so
 * for the lean ACK path (above). Another pure ACK's process_ack may send (RACK can start
 * recovery), so it runs once; the checks the short path skips are made here instead.
 */
static void predicted(tern_stack *st, tcp_pcb *p, uint64_t now, const tern_ip_rx *ip,
                      const struct tern_tcp_repr *seg, tcp_hp_kind hp) {
    if (hp == TCP_HP_ACK_LEAN) {
        predicted_lean_checked(st, p, now, ip, seg);
        return;
    }
    if (hp == TCP_HP_ACK) {
        uint32_t maxwnd = p->max_snd_wnd > 65535 ? p->max_snd_wnd : 65535;
        if (!acceptable(p, seg->seq, 0) || seq_gt(seg->ack, p->snd_nxt) ||
            seq_lt(seg->ack, p->snd_una - maxwnd) || p->state != TERN_TCP_ESTABLISHED) {
            __builtin_trap();
        }
        predicted_run(st, p, now, seg, hp);
        return;
    }
    tcp_pcb before, fast;
    tern_counters c0 = st->c, c1;
    tern_counters_hot h0 = st->hc, h1;
    memcpy(&before, p, sizeof before);
    predicted_run(st, p, now, seg, hp);
    memcpy(&fast, p, sizeof fast);
    c1 = st->c;
    h1 = st->hc;
    memcpy(p, &before, sizeof before);
    st->c = c0;
    st->hc = h0;
    if (conn_input_general(st, p, now, ip, seg) || memcmp(p, &fast, sizeof fast) != 0 ||
        memcmp(&st->c, &c1, sizeof c1) != 0 || memcmp(&st->hc, &h1, sizeof h1) != 0) {
        __builtin_trap();
    }
}
#else
static void predicted(tern_stack *st, tcp_pcb *p, uint64_t now, const tern_ip_rx *ip,
                      const struct tern_tcp_repr *seg, tcp_hp_kind hp) {
    (void)ip;
    predicted_run(st, p, now, seg, hp);
}
#endif

/* Returns true when the segment should go to a listener instead (TIME-WAIT reuse). */
static bool conn_input(tern_stack *st, tcp_pcb *p, uint64_t now, const tern_ip_rx *ip,
                       const struct tern_tcp_repr *seg) {
    p->segs_in++;
    p->dsack_pending = 0; /* RFC 2883 §4 (1): only a duplicate in the most recent packet */
    if (p->state == TERN_TCP_SYN_SENT) {
        syn_sent_input(st, p, now, ip, seg);
        return false;
    }
    tcp_hp_kind hp = tcp_predict(st, p, seg);
    if (hp != TCP_HP_NONE) {
        predicted(st, p, now, ip, seg, hp);
        if (hp == TCP_HP_DATA) {
            st->hc.tcp_predicted_data++;
        } else {
            st->hc.tcp_predicted_ack++;
            st->hc.tcp_predicted_ack_lean += hp == TCP_HP_ACK_LEAN;
        }
        return false;
    }
    return conn_input_general(st, p, now, ip, seg);
}

static void segment_input(tern_stack *st, uint64_t now, const tern_ip_rx *ip) {
    st->hc.tcp_in++;
    struct tern_tcp_repr seg;
    tcp_pcb *found;
    bool looked_up;
    tern_err e = tcp_rx_parse(st, ip, &seg, &found, &looked_up);
    if (e == TERN_ERR_BAD_CHECKSUM) {
        st->c.tcp_bad_checksum++;
        return;
    }
    if (e != TERN_OK || seg.src_port == 0 || seg.dst_port == 0) {
        st->c.tcp_malformed++;
        return;
    }
    /* RFC 9293 §3.9.2.? / RFC 1122 §4.2.3.10: no connections with broadcast or multicast. */
    if (tern_addr_is_multicast(&ip->dst) || tern_addr_is_limited_broadcast(&ip->dst) ||
        tern_addr_is_multicast(&ip->src) || tern_addr_is_limited_broadcast(&ip->src) ||
        tern_addr_is_unspecified(&ip->src)) {
        st->c.tcp_malformed++;
        return;
    }
    tcp_pcb *p = looked_up ? found : tcp_lookup(st, &ip->dst, seg.dst_port, &ip->src, seg.src_port);
    if (p) {
        bool to_listener = conn_input(st, p, now, ip, &seg);
        if (p->kind == TCP_SOCKET && p->state != TERN_TCP_CLOSED && !to_listener) {
            tcp_output(st, p, now);
        }
        tcp_timers_update(st, p);
        tcp_tw_absorb(st, p, now); /* an orphan entered TIME-WAIT: to the compact table */
        if (!to_listener) {
            return;
        }
    } else {
        tcp_tw *tw = tcp_tw_lookup(st, &ip->dst, seg.dst_port, &ip->src, seg.src_port);
        if (tw && !tcp_tw_input(st, tw, now, ip, &seg)) {
            return;
        }
    }
    tcp_pcb *l = tcp_lookup_listener(st, &ip->dst, seg.dst_port);
    if (l) {
        listen_input(st, l, now, ip, &seg);
        st->tcp->tw_reopen = false;
        return;
    }
    /* RFC 9293 §3.10.7.1: CLOSED (no such connection) */
    st->c.tcp_no_socket++;
    tcp_send_rst_reply(st, now, ip, &seg);
}

void tern_tcp_input(tern_stack *st, uint64_t now, const tern_ip_rx *ip, uint32_t iface) {
    (void)iface;
    segment_input(st, now, ip);
    st->tcp->rx_placed = NULL; /* the frame's bytes are not ours beyond this call */
}

void tern_tcp_icmp_error(tern_stack *st, uint64_t now, const tern_sock_error *err,
                         const tern_ip_rx *quoted, const uint8_t *l4, size_t l4_len) {
    if (l4_len < 8) {
        return; /* RFC 792: 8 bytes of the original data: ports and sequence number */
    }
    uint16_t sport = (uint16_t)(l4[0] << 8 | l4[1]);
    uint16_t dport = (uint16_t)(l4[2] << 8 | l4[3]);
    uint32_t seq = (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 | (uint32_t)l4[6] << 8 | l4[7];
    tcp_pcb *p = tcp_lookup(st, &quoted->src, sport, &quoted->dst, dport);
    if (!p || p->state == TERN_TCP_LISTEN || p->state == TERN_TCP_CLOSED) {
        return;
    }
    /* RFC 5927 §4.1: "These implementations check that the TCP sequence
     * number contained in the payload of the ICMP error message is within
     * the range SND.UNA =< SEG.SEQ < SND.NXT." SND.NXT itself is excluded:
     * no octet in flight has it, so in SYN-SENT only the ISN (the SYN)
     * qualifies, and with nothing in flight no error is taken at all. */
    if (!(seq_geq(seq, p->snd_una) && seq_lt(seq, p->snd_nxt))) {
        return;
    }
    bool v6 = err->from.family == TERN_AF_INET6;
    bool too_big = v6 ? err->icmp_type == 2 : err->icmp_type == 3 && err->icmp_code == 4;
    if (too_big) {
        /* RFC 1191 §6: fragmentation needed (ICMPv6 Packet Too Big, RFC 8201 §4): lower the
         * path MTU, resend at once. */
        uint32_t mtu = err->mtu;
        if (v6) {
            /* RFC 8201 §4: "If a node receives a Packet Too Big message reporting a next-hop
             * MTU that is less than the IPv6 minimum link MTU, it MUST discard it." (1280, RFC
             * 8200 §5) */
            if (mtu < 1280) {
                return;
            }
            /* The error quotes a segment in flight (checked above, RFC 5927 §4.1): the path
             * MTU towards the peer is lowered for every socket (RFC 8201 §4, §5.2). */
            tern_ipv6_pmtu_update(st, now, &p->raddr, mtu);
        } else if (mtu == 0 || mtu >= p->pmtu) {
            /* RFC 1191 §5: an old router: guess the next plateau down */
            mtu = p->pmtu > 1492 ? 1492 : p->pmtu > 1006 ? 1006 : p->pmtu > 576 ? 576 : 296;
        }
        if (mtu < 68) {
            mtu = 68;
        }
        if (mtu < p->pmtu) {
            p->pmtu = (uint16_t)mtu;
            tcp_update_snd_mss(p);
            if (tcp_synchronized(p) && tcp_flight(p) > 0) {
                /* the too-big segments are lost; not a congestion signal */
                p->ca_state = TCP_CA_LOSS;
                p->recover = p->snd_nxt;
                p->lost_to = p->snd_nxt;
                p->high_rxt = p->snd_una;
                p->flags &= ~(uint32_t)TCPF_RTT_TIMING;
                tcp_output(st, p, now);
                tcp_timers_update(st, p);
            }
        }
        return;
    }
    /* ICMPv6 (RFC 4443 §3.1): Destination Unreachable codes 1 (administratively prohibited)
     * and 4 (port unreachable) are the hard ones, the counterparts of ICMPv4's protocol and
     * port unreachable (as Linux classes them); no route, beyond scope and address
     * unreachable (codes 0, 2, 3) are soft. */
    bool hard = v6 ? err->icmp_type == 1 && (err->icmp_code == 1 || err->icmp_code == 4)
                   : err->icmp_type == 3 && (err->icmp_code == 2 || err->icmp_code == 3);
    if (p->state == TERN_TCP_SYN_SENT && hard) {
        /* RFC 9293 §3.9.2.2: "Hard Errors: For ICMP these include Destination
         * Unreachable -- codes 2-4. These are hard error conditions, so TCP
         * implementations SHOULD abort the connection (SHLD-26)." Code 4 is
         * path MTU discovery (above); in the synchronized states a hard error
         * is kept like a soft one (RFC 5927 §4, RFC 1122 §4.2.3.9). */
        tcp_close_conn(st, p, TERN_ERR_CONN_REFUSED);
        return;
    }
    /* RFC 9293 §3.9.2.2: soft errors: "a TCP implementation MUST NOT abort
     * the connection (MUST-56), and it SHOULD make the information available
     * to the application (SHLD-25)": kept, and reported as the reason if the
     * connection later times out. */
    if (v6 ? err->icmp_type == 1 || err->icmp_type == 3
           : err->icmp_type == 3 || err->icmp_type == 11) {
        p->soft_err = (int8_t)TERN_ERR_HOST_UNREACHABLE;
    }
}

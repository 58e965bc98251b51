/*
 * Tail loss probe (RFC 8985 §7), on SACK connections, when TCPF_TLP is set.
 *
 * With a small window (after a loss with 5 % loss both ways, ssthresh and
 * cwnd may be two or three segments) RFC 6675 loss detection often lacks the
 * duplicate ACKs or SACKed octets it needs (DupThresh, IsLost), and cwnd -
 * pipe stays below one SMSS: nothing is sent until the RTO. A probe segment
 * after about two round trips of silence draws an ACK whose SACK information
 * lets RFC 6675 repair the loss (RFC 8985 §7: "trigger ACK feedback to avoid
 * retransmission timeout events").
 *
 * RFC 8985 pairs TLP with RACK's time-based loss detection, and §7.2 does not
 * arm the PTO during fast recovery or while segments are SACKed because
 * RACK's reordering timer covers those cases. This stack detects losses with
 * RFC 6675 (DupThresh, IsLost), which has no such timer: here the PTO is also
 * armed in those cases, and a probe is one more ACK-clocked segment's octets
 * (at most one per episode; an episode ends only with ACK progress), sent as
 * two segments when it is a retransmission (send_probe_halves).
 */
#include "tcp_cc.h"
#include "tcp_private.h"

#define TLP_WCDELACKT_NS 200000000ULL /* RFC 8985 §7.2 WCDelAckT: 200 ms */
#define TLP_NO_SRTT_NS 1000000000ULL  /* RFC 8985 §7.2: PTO of 1 s without an SRTT */

/* Is a probe allowed now (RFC 8985 §7.2-§7.3, adapted as above)? */
static bool tlp_allowed(const tcp_pcb *p) {
    if ((p->flags & (TCPF_TLP | TCPF_SACK_OK)) != (TCPF_TLP | TCPF_SACK_OK) ||
        (p->flags & TCPF_PERSIST) || tcp_flight(p) == 0 || (p->tlp & TCP_TLP_OUT)) {
        return false;
    }
    if (p->ca_state == TCP_CA_LOSS) {
        return false; /* RTO recovery: not again (RFC 8985 §7.2) */
    }
    switch (p->state) {
    case TERN_TCP_ESTABLISHED:
    case TERN_TCP_CLOSE_WAIT:
    case TERN_TCP_FIN_WAIT_1:
    case TERN_TCP_CLOSING:
    case TERN_TCP_LAST_ACK:
        return true;
    default:
        return false;
    }
}

void tcp_tlp_schedule(tcp_pcb *p, uint64_t now) {
    if (!tlp_allowed(p)) {
        p->t_tlp = TERN_NEVER;
        p->tlp &= (uint8_t)~TCP_TLP_RESTART;
        return;
    }
    if (!(p->tlp & TCP_TLP_RESTART)) {
        return; /* armed or not, nothing has happened that restarts it */
    }
    p->tlp &= (uint8_t)~TCP_TLP_RESTART;
    /* RFC 8985 §7.2:
     *   TLP_calc_PTO():
     *     If SRTT is available:
     *       PTO = 2 * SRTT
     *       If FlightSize is one segment:
     *         PTO += TLP.max_ack_delay
     *     Else:
     *       PTO = 1 sec
     *
     *     If Now() + PTO > TCP_RTO_expiration():
     *       PTO = TCP_RTO_expiration() - Now()
     * TLP.max_ack_delay is WCDelAckT, 200 ms. The last step makes the probe
     * go at the RTO's time in its place (as Linux: "If RTO is shorter, just
     * schedule TLP in its place"): with one segment out and RTO.min at
     * 200 ms the PTO is always past the RTO, and the probe, unlike the
     * RTO, neither collapses cwnd to one segment nor backs the timer off.
     * tcp_timer_fire runs the probe before the RTO when both are due. */
    uint64_t pto = TLP_NO_SRTT_NS;
    if (p->rtt.srtt) {
        pto = 2 * p->rtt.srtt;
        if (tcp_flight(p) <= p->snd_mss) {
            pto += TLP_WCDELACKT_NS;
        }
    }
    if (p->t_rexmt != TERN_NEVER && now + pto > p->t_rexmt) {
        pto = p->t_rexmt > now ? p->t_rexmt - now : 0;
    }
    p->t_tlp = now + pto;
}

/* The highest outstanding unSACKed octet + 1 (RFC 6675's "highest outstanding
 * unSACKed" of NextSeg rule 4): below SND.NXT, under any SACKed top. */
static uint32_t highest_unsacked(const tern_stack *st, const tcp_pcb *p) {
    const tcp_range *r = tcp_sack_ranges(st, p);
    uint32_t hi = p->snd_nxt;
    for (uint32_t k = p->sack_n; k > 0; k--) {
        if (r[k - 1].end == hi) {
            hi = r[k - 1].start;
        }
    }
    return hi;
}

/* RFC 8985 §7.3 (1): a previously unsent segment, if the peer's window
 * allows; cwnd is not consulted (a probe is one segment beyond it, like an
 * RFC 3042 limited transmit). Returns false if none can go. A probe sends
 * one only when there is nothing unSACKed to resend (tcp_tlp_fire); F-RTO
 * sends its new segments with it (RFC 5682 §3.1 step 2 b), tcp_frto.c). */
bool tcp_tlp_new_segment(tern_stack *st, tcp_pcb *p, uint64_t now) {
    if (p->flags & TCPF_FIN_SENT) {
        return false;
    }
    uint32_t off = p->snd_nxt - p->snd_buf_seq;
    uint32_t avail = p->tx_len > off ? p->tx_len - off : 0;
    uint32_t usable =
        seq_gt(p->snd_una + p->snd_wnd, p->snd_nxt) ? p->snd_una + p->snd_wnd - p->snd_nxt : 0;
    uint32_t len = avail < usable ? avail : usable;
    if (len > p->snd_mss) {
        len = p->snd_mss;
    }
    if (len == 0) {
        return false;
    }
    uint8_t flags = TERN_TCP_ACK | (len == avail ? TERN_TCP_PSH : 0);
    tcp_send_segment(st, p, now, p->snd_nxt, len, flags);
    if (!(p->flags & TCPF_RTT_TIMING)) {
        p->rtt_seq = p->snd_nxt;
        p->rtt_time = now;
        p->flags |= TCPF_RTT_TIMING;
    }
    p->snd_nxt += len;
    return true;
}

/*
 * The probe's retransmission goes as two segments, each with half of its
 * octets. RFC 8985 §7.3's TLP_send_probe() retransmits the segment (its
 * pseudocode: "Segment = send buffer segment ending at SND.NXT", "Transmit
 * Segment"); here the same octets go in two segments, a deviation stated
 * here and in docs/tcp-loss-vs-linux.md (section rto22). The probe exists to
 * draw an ACK; one segment draws none when it or the receiver's one answer
 * is lost (at 15 % loss each way, 28 % of probes), and the RTO then fires
 * 200 ms or more later. Two segments each draw an answer (a receiver ACKs a
 * duplicate at once, RFC 5681 §4.2 / RFC 2883, and a segment that fills a
 * hole or leaves one at once too, RFC 5681 §4.2), so the probe fails only if
 * both round trips fail (8 %). The probe is no larger: the same octets, one
 * SMSS at most, beyond cwnd by at most one segment as RFC 8985 §7.3 allows;
 * what it costs is one header more. QUIC's probe timeout allows two probe
 * datagrams for the same reason (RFC 9002 §6.2.4). A range of one octet (a
 * lone FIN, or one byte of data) goes whole.
 */
static void send_probe_halves(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq, uint32_t n) {
    uint32_t first = n / 2;
    if (first > 0) {
        tcp_send_range(st, p, now, seq, first, true);
    }
    tcp_send_range(st, p, now, seq + first, n - first, true);
}

void tcp_tlp_fire(tern_stack *st, tcp_pcb *p, uint64_t now) {
    if (!tlp_allowed(p)) {
        return;
    }
    p->tlp_probes++;
    /* RFC 8985 §7.3's TLP_send_probe() sends "the lowest-sequence unsent
     * Segment" when the peer's window allows, and only otherwise
     * retransmits "the highest-sequence Segment sent". Here the probe is
     * always that retransmission (new data only if nothing unSACKed is
     * out), a deviation: a receiver that delays its ACKs (Linux: 40 ms or
     * more; RFC 9293 §3.8.6.3 allows up to 0.5 s) holds the ACK of an
     * in-order new segment, while it answers a duplicate (an unacceptable
     * segment, RFC 9293 §3.10.7.4; with RFC 2883's D-SACK) or a filled
     * hole (RFC 5681 §4.2) at once, and Linux then stays out of its
     * delayed-ACK mode for a while. The probe exists to draw an ACK: at
     * 15 % loss with 2-4 segments of window the new segment's delayed ACK
     * cost more than the segment of goodput a needless retransmission does
     * (issue 22, docs/tcp-loss-vs-linux.md, section cubic16). */
    uint32_t hi = highest_unsacked(st, p);
    if (hi == p->snd_una) {
        if (!tcp_tlp_new_segment(st, p, now)) {
            return;
        }
        p->tlp = TCP_TLP_OUT;
    } else {
        /* RFC 8985 §7.3 (2): retransmit the last segment: the one ending
         * with the highest unSACKed octet (a SACKed one would tell nothing),
         * in two halves (above). */
        uint32_t n = hi - p->snd_una;
        if (n > p->snd_mss) {
            n = p->snd_mss;
        }
        send_probe_halves(st, p, now, hi - n, n);
        tcp_rack_timer_rxt(p, hi - n, hi); /* its D-SACK says an ACK was lost */
        p->tlp = TCP_TLP_OUT | TCP_TLP_RXT;
        p->tlp_end = p->snd_nxt; /* TLP.end_seq */
    }
    /* RFC 8985 §7.3: after a probe the RTO timer, not the PTO, is re-armed. */
    p->t_rexmt = now + p->rtt.rto;
    p->t_tlp = TERN_NEVER;
}

void tcp_tlp_on_ack(tcp_pcb *p, uint64_t now, uint32_t ack, bool progress, bool dsack,
                    bool sack_blocks) {
    if (!(p->flags & TCPF_TLP)) {
        return;
    }
    if ((p->tlp & TCP_TLP_RXT) && seq_geq(ack, p->tlp_end)) {
        /* RFC 8985 §7.4.2, TLP_process_ack(): with a D-SACK (RFC 2883) for
         * it, or a duplicate ACK without SACK blocks, the probe was
         * redundant; an ACK above TLP.end_seq without either says the
         * original or the probe was lost: respond as to any loss (RFC 5681
         * §3.2 equation (4), cwnd = ssthresh as on entering RFC 6675
         * recovery), unless recovery or an RTO has already reduced the
         * window. An ACK of exactly TLP.end_seq moving SND.UNA is the
         * original's (a delayed ACK: Linux holds the ACK of the last
         * segment 40 ms, about the PTO) or the probe's: the episode stays
         * open for the D-SACK that tells which. */
        bool dup_plain = ack == p->snd_una && !sack_blocks && !dsack;
        if (dsack || dup_plain) {
            p->tlp &= (uint8_t)~TCP_TLP_RXT;
        } else if (seq_gt(ack, p->tlp_end)) {
            p->tlp &= (uint8_t)~TCP_TLP_RXT;
            if (p->ca_state == TCP_CA_OPEN) {
                tcp_cc_on_loss(p, now, false);
                p->cwnd = p->ssthresh;
                p->lt_bytes = 0;
            }
        }
    }
    if (progress) {
        p->tlp &= (uint8_t)~TCP_TLP_OUT;
        p->tlp |= TCP_TLP_RESTART; /* RFC 8985 §7.2: restart on ACK progress */
    }
}

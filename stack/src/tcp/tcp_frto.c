/*
 * Spurious retransmission timeouts (RTOs): detected with Eifel (RFC 3522,
 * timestamps) or F-RTO (RFC 5682 §3, the SACK-enhanced algorithm, which also
 * works without SACK), and answered by restoring the congestion state the
 * timeout reduced (the response of RFC 4015 as Linux does it: cwnd and
 * ssthresh back to their values before the RTO, transmission goes on with
 * new data instead of the rest of the window again).
 *
 * Both run on connections of the RACK profile (p->rack_on, as Linux with
 * net.ipv4.tcp_recovery 1 and tcp_frto 2); the classic RFC 5681 / 6298
 * profile keeps the plain RTO recovery timeline.
 *
 * RFC 4015 (§1): the response "can avoid the often unnecessary go-back-N
 * retransmits that would otherwise be sent. In addition, the Eifel response
 * algorithm restores the congestion control state in such a way that packet
 * bursts are avoided." Here the restoration is Linux's (cwnd and ssthresh
 * back to at least their values before the RTO; the window may go out as a
 * burst), and the RTO is not adapted beyond the new RTT sample the ACK gives.
 *
 * A timeout is spurious when the segments were only delayed, not lost: the
 * ACKs of the originals arrive after the RTO. Going back to slow start from
 * one segment, and retransmitting the whole window, halves the window and
 * doubles the traffic for nothing.
 *
 * Eifel, RFC 3522 (abstract): "Based on the timestamp of the first
 * acceptable ACK that arrives during loss recovery, it decides whether loss
 * recovery was entered unnecessarily." The retransmission carries the TSval
 * RetransmitTS; the receiver echoes the TSval of the segment that made it
 * advance its cumulative ACK (RFC 7323 §4.3). An echo older than
 * RetransmitTS was caused by the original: the RTO was spurious. The
 * timestamp clock ticks every millisecond and the retransmission leaves at
 * least RTO.min after the original, so the two TSvals always differ.
 *
 * F-RTO, RFC 5682 §3 (the SACK-enhanced algorithm), when the ACKs carry no
 * timestamps. Its steps, quoted, and where they are done here
 * (tcp_frto_on_rto, tcp_frto_on_ack):
 *
 *   "1) When the retransmission timer expires, retransmit the first
 *   unacknowledged segment and set SpuriousRecovery to FALSE. [...] If
 *   "RecoveryPoint" is larger than or equal to SND.UNA, do not enter step 2
 *   of this algorithm." -- the timer retransmits SND.UNA; F-RTO starts only
 *   on the first timeout outside a recovery (tcp_frto_on_rto), "recover"
 *   below is RecoveryPoint.
 *
 *   "2) Wait until the acknowledgment of the data retransmitted due to the
 *   timeout arrives at the sender. [...] When a new acknowledgment arrives,
 *   set variable "RecoveryPoint" to indicate the highest sequence number
 *   transmitted so far.
 *     a) If the Cumulative Acknowledgment field covers "RecoveryPoint" but
 *     not more than "RecoveryPoint", revert to the conventional RTO recovery
 *     [...]. Do not enter step 3 of this algorithm.
 *     b) Else, if the Cumulative Acknowledgment field does not cover
 *     "RecoveryPoint" but is larger than SND.UNA, transmit up to two new
 *     (previously unsent) segments and proceed to step 3. If the TCP sender
 *     is not able to transmit any previously unsent data [...] the
 *     recommended action is to refrain from entering step 3 of this
 *     algorithm." -- FRTO_STEP2 below, which also follows the step's "If
 *     duplicate ACKs arrive before the cumulative acknowledgment for
 *     retransmitted data, adjust the scoreboard according to the incoming
 *     SACK information. Stay in step 2 and wait for the next new
 *     acknowledgment." on SACK connections (without SACK a duplicate ACK
 *     ends F-RTO: it tells nothing of what arrived).
 *
 *   "3) The next acknowledgment arrives at the sender. Either a duplicate
 *   ACK or a new cumulative ACK (advancing the window) applies in this step.
 *     a) If the Cumulative Acknowledgment field or the SACK information
 *     covers more than "RecoveryPoint", set the congestion window to no more
 *     than 3 * MSS and proceed with the conventional RTO recovery,
 *     retransmitting unacknowledged segments. Take this branch also when the
 *     acknowledgment is a duplicate ACK and it does not acknowledge any new,
 *     previously unacknowledged data below "RecoveryPoint" in the SACK
 *     information.
 *     b) If the Cumulative Acknowledgment field or a SACK information in the
 *     ACK does not cover more than "RecoveryPoint" AND it acknowledges data
 *     that was not acknowledged earlier (either with cumulative
 *     acknowledgment or using SACK information), declare the timeout
 *     spurious and set SpuriousRecovery to SPUR_TO." -- FRTO_STEP3 below:
 *     3 b) undoes the RTO (undo_rto), 3 a) goes on retransmitting (genuine:
 *     cwnd becomes at least pipe + 1 SMSS, i.e. the two new segments of step
 *     2 b) and the first retransmission, 3 * MSS when nothing else is in
 *     flight).
 *
 * State is a few words in the control block; work per ACK is O(1) plus one
 * scoreboard walk (bounded by its capacity).
 */
#include "tcp_private.h"

/* tcp_pcb.frto: F-RTO's step */
enum {
    FRTO_OFF = 0,
    FRTO_STEP2 = 1, /* the RTO retransmission is out; awaiting the first ACK */
    FRTO_STEP3 = 2, /* new data sent; awaiting the second ACK */
};

void tcp_frto_on_rto(tcp_pcb *p, uint64_t now) {
    p->frto = FRTO_OFF;
    p->eifel = 0;
    if (!p->rack_on || p->retries != 1 || p->ca_state != TCP_CA_OPEN) {
        /* RFC 5682 §3.1 step 1: not when a loss recovery is already under
         * way; a second timeout keeps the state of the first (its
         * reduction is the one an undo restores). */
        return;
    }
    p->frto_cwnd = p->cwnd;
    p->frto_ssthresh = p->ssthresh;
    p->frto_recover = p->snd_nxt;
    if (p->flags & TCPF_TS_OK) {
        p->eifel = 1;
        p->eifel_ts = tcp_ts_clock(p, now); /* RetransmitTS: the TSval the retransmission carries */
    }
    p->frto = FRTO_STEP2;
}

/* The RTO was spurious: back to the congestion state before it (RFC 4015's
 * response as Linux applies it) and on with new data. */
static void undo_rto(tcp_pcb *p) {
    if (p->cwnd < p->frto_cwnd) {
        p->cwnd = p->frto_cwnd;
    }
    if (p->ssthresh < p->frto_ssthresh) {
        p->ssthresh = p->frto_ssthresh;
    }
    p->bytes_acked_ca = 0;
    p->ss_after_rto = 0; /* the timeout is undone: so is its slow start's L = 1 SMSS (tcp_cc.c) */
    p->ca_state = TCP_CA_OPEN;
    /* nothing outstanding is presumed lost any more: transmission goes on
     * with new data, no go-back-N (RFC 4015 §1, above) */
    p->lost_to = p->snd_una;
    p->high_rxt = p->snd_una;
    p->recover = p->snd_una;
    p->undo_state = TCP_UNDO_NONE; /* this episode is settled; no second undo by D-SACK */
    p->frto = FRTO_OFF;
    p->eifel = 0;
    p->spurious_rtos++;
}

/* Octets SACKed between SND.UNA and "recover": in step 3 only the segment
 * at SND.UNA had been retransmitted, and it is acknowledged, so any of them
 * SACKed by the step-3 ACK were sent only once. */
static uint32_t sacked_below_recover(const tern_stack *st, const tcp_pcb *p) {
    const tcp_range *r = tcp_sack_ranges(st, p);
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->sack_n; i++) {
        uint32_t s = seq_max(r[i].start, p->snd_una), e = seq_min(r[i].end, p->frto_recover);
        if (seq_lt(s, e)) {
            n += e - s;
        }
    }
    return n;
}

/* Step 3 a): the window was lost. The RTO recovery goes on: everything below
 * "recover" not SACKed is lost, retransmitted in slow start. The two new
 * segments of step 2 b) must not hold the first retransmission back. */
static void genuine(const tern_stack *st, tcp_pcb *p) {
    p->frto = FRTO_OFF;
    uint32_t pipe = tcp_pipe(st, p);
    if (p->cwnd < pipe + p->snd_mss) {
        p->cwnd = pipe + p->snd_mss;
    }
}

void tcp_frto_on_ack(tern_stack *st, tcp_pcb *p, uint64_t now, const struct tern_tcp_options *opt,
                     uint32_t una0, bool new_sack) {
    bool advanced = seq_gt(p->snd_una, una0);
    /* a duplicate ACK: no progress, and new SACK information or none at all */
    bool dup = !advanced && (new_sack || opt->sack_count == 0);
    if (p->eifel && advanced) {
        /* RFC 3522 §3.2: the first acceptable ACK decides. */
        p->eifel = 0;
        if (opt->has_timestamps && seq_lt(opt->ts_ecr, p->eifel_ts)) {
            undo_rto(p);
            return;
        }
        if (opt->has_timestamps) {
            p->frto = FRTO_OFF; /* the retransmission was needed: a genuine RTO */
            return;
        }
    }
    switch (p->frto) {
    case FRTO_STEP2:
        if (dup) {
            /* RFC 5682 §3 step 2: "Stay in step 2 and wait for the next new
             * acknowledgment" (the SACK blocks are in the scoreboard
             * already). Without SACK the duplicate ACK says nothing of what
             * arrived: the conventional RTO recovery goes on. */
            if (!(p->flags & TCPF_SACK_OK)) {
                p->frto = FRTO_OFF;
            }
            return;
        }
        if (!advanced) {
            return;
        }
        if (!seq_lt(p->snd_una, p->frto_recover)) {
            p->frto = FRTO_OFF; /* 2 a): all acknowledged up to "recover" */
            return;
        }
        /* 2 b): up to two new segments, within the peer's window */
        if (!tcp_tlp_new_segment(st, p, now)) {
            p->frto = FRTO_OFF;
            return;
        }
        (void)tcp_tlp_new_segment(st, p, now);
        p->frto_sacked = sacked_below_recover(st, p);
        p->frto = FRTO_STEP3;
        return;
    case FRTO_STEP3:
        if (advanced || sacked_below_recover(st, p) > p->frto_sacked) {
            undo_rto(p); /* 3 b): data sent only once was delivered */
        } else if (dup) {
            genuine(st, p); /* 3 a) */
        }
        return;
    default:
        return;
    }
}

/*
 * Header prediction (issue 19): which arriving segments may skip the general
 * steps of RFC 9293 §3.10.7.4 because those steps are known to do nothing for
 * them. RFC 9293 leaves such short paths to the implementation; the two cases
 * are Van Jacobson's (a bulk transfer's receiver sees in-order data that
 * acknowledges nothing new, its sender sees pure ACKs that move SND.UNA).
 *
 * The predicate only answers "may"; tcp_input.c runs the short path, which
 * does exactly what the general one would: for the data case every step of
 * process_ack() is a no-op under the conditions below except the send-window
 * update (SND.WL1/WL2), so the short path does that update and the text step;
 * the ACK case calls process_ack() itself and skips only the checks that
 * cannot fail here. Test builds (TERN_POLL_CACHE_CHECK) run the general path
 * as well and trap on any difference in the connection's state (tcp_input.c).
 */
#include "tcp_cc.h"
#include "tcp_private.h"

/* What the segment asks for beyond a plain ACK, and the connection's state,
 * shared by both cases: ESTABLISHED, only ACK (and PSH) set, exactly at
 * RCV.NXT, timestamps in order, no SACK blocks, and no recovery, window
 * probing (persist) or urgent or out-of-order FIN pending. (The window may
 * change: the data case asks for it unchanged, the ACK case updates it as
 * the general path does.) */
static bool plain(const tcp_pcb *p, const struct tern_tcp_repr *seg) {
    if (p->state != TERN_TCP_ESTABLISHED || p->kind != TCP_SOCKET) {
        return false;
    }
    if ((seg->flags & (TERN_TCP_SYN | TERN_TCP_FIN | TERN_TCP_RST | TERN_TCP_URG | TERN_TCP_ACK)) !=
            TERN_TCP_ACK ||
        seg->seq != p->rcv_nxt || seg->opt.sack_count != 0) {
        return false;
    }
    /* RFC 7323 §5.3 (PAWS) R1: a segment whose TSval is older than TS.Recent
     * takes the general path (it may be dropped); so does one without TSopt
     * on a connection that negotiated it (RFC 7323 §3.2: dropped). */
    if ((p->flags & TCPF_TS_OK) &&
        (!seg->opt.has_timestamps || seq_lt(seg->opt.ts_val, p->ts_recent))) {
        return false;
    }
    return p->ca_state == TCP_CA_OPEN &&
           !(p->flags & (TCPF_PERSIST | TCPF_ZWP_OUT | TCPF_OOO_FIN | TCPF_RCV_SHUT)) &&
           p->ka_probes == 0;
}

/* Whether an ACK that acknowledges nothing new (SND.UNA = SEG.ACK = SND.NXT:
 * nothing in flight), with no SACK blocks, leaves the sender's loss-recovery
 * and congestion state alone: each condition is the one under which the
 * corresponding call of process_ack() returns without a change. */
static bool sender_quiet(const tcp_pcb *p) {
    if (p->snd_una != p->snd_nxt || tcp_cc_controls(p)) {
        return false; /* (BBR takes a rate sample from every ACK) */
    }
    if ((p->tlp & TCP_TLP_RXT) || p->undo_state == TCP_UNDO_ARMED || p->frto != 0 ||
        p->eifel != 0) {
        return false; /* tcp_tlp_on_ack, tcp_undo_on_ack, tcp_frto_on_ack (0: FRTO_OFF) */
    }
    if (p->rack_on && (p->flags & TCPF_SACK_OK)) {
        /* tcp_rack_on_ack's reo_wnd_update and log, tcp_rack_detect's timer */
        if (p->rack_n != 0 || p->t_rack != TERN_NEVER || p->rack_dsack_round_on ||
            p->rack_in_recovery || p->rack_dsack_seen != p->dsack_blocks_in ||
            p->rack_episodes != p->fast_retransmits + p->rto_timeouts) {
            return false;
        }
    }
    return true;
}

/*
 * Whether a pure ACK that moves SND.UNA (outside recovery, no SACK blocks:
 * plain()) may take the lean ACK path (process_ack_lean in tcp_input.c): the
 * condition under which each step of process_ack() that the lean path skips
 * is proven to do nothing, named beside it. What such an ACK does change --
 * the send queue, the RTT sample, cwnd, RACK's latest delivered segment,
 * TLP's and the RTO's re-arming, the send window -- the lean path does.
 */
static bool lean_ack(const tern_stack *st, const tcp_pcb *p) {
    if (tcp_cc_controls(p)) {
        return false; /* tcp_cc_ack_begin/end: BBR takes a rate sample from every ACK */
    }
    if (p->snd_una == p->iss) {
        return false; /* the ACK of a SYN (RFC 5681 §3.1 cc_acked, RFC 6298 (5.7)) */
    }
    if ((p->tlp & TCP_TLP_RXT) || p->undo_state == TCP_UNDO_ARMED || p->frto != 0 ||
        p->eifel != 0) {
        return false; /* tcp_tlp_on_ack's episode end; tcp_undo_on_ack; tcp_frto_on_ack */
    }
    if (!(p->flags & TCPF_SACK_OK)) {
        return true;
    }
    if (p->sack_n != 0) {
        return false; /* a scoreboard to trim, SACKed octets to count (RFC 6675 DeliveredData) */
    }
    if (!p->rack_on) {
        return true;
    }
    /* tcp_rack_on_ack's reo_wnd_update (RFC 8985 §6.2 Step 4) has nothing to do: no D-SACK
     * round to end or start, no recovery to count down from */
    if (p->rack_dsack_round_on || p->rack_dsack_seen != p->rack_dsack_n || p->rack_in_recovery ||
        p->rack_episodes != p->fast_retransmits + p->rto_timeouts) {
        return false;
    }
    /* delivery in sequence order and no loss for tcp_rack_detect to find (tcp_rack.c) */
    return tcp_rack_in_order(st, p);
}

tcp_hp_kind tcp_predict(const tern_stack *st, const tcp_pcb *p, const struct tern_tcp_repr *seg) {
    if (!plain(p, seg)) {
        return TCP_HP_NONE;
    }
    uint32_t dlen = (uint32_t)seg->payload_len;
    if (dlen == 0) {
        /* a pure ACK that moves SND.UNA within what was sent; a window change
         * is the update process_ack makes (RFC 9293 §3.10.7.4 fifth) */
        if (!(seq_gt(seg->ack, p->snd_una) && seq_leq(seg->ack, p->snd_nxt))) {
            return TCP_HP_NONE;
        }
        return lean_ack(st, p) ? TCP_HP_ACK_LEAN : TCP_HP_ACK;
    }
    /* RFC 9293 §3.10.7.4 fifth: a window change is an update the general
     * path makes (and may end persist mode) */
    if (((uint32_t)seg->window << p->snd_wscale) != p->snd_wnd) {
        return TCP_HP_NONE;
    }
    /* In-order data wholly inside the window we announced, already copied into
     * the ring with its checksum verified (tcp_rx_place.c), acknowledging
     * exactly SND.UNA with nothing in flight. */
    if (!seq_gt(p->rcv_adv, p->rcv_nxt) || dlen > p->rcv_adv - p->rcv_nxt) {
        return TCP_HP_NONE; /* a zero window, or text past its right edge */
    }
    if (seg->ack != p->snd_una || !sender_quiet(p) ||
        !tcp_rx_placed(st, p, seg->seq, seg->payload, dlen)) {
        return TCP_HP_NONE;
    }
    return TCP_HP_DATA;
}

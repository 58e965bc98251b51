/*
 * TCP timers, all deadline-driven (DESIGN.md §2): each control block has
 *   t_rexmt  retransmission (RFC 6298 §5), SYN retransmission, or persist
 *            (zero-window probes, RFC 9293 §3.8.6.1) with exponential backoff;
 *   t_delack delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2);
 *   t_keep   keep-alive (RFC 1122 §4.2.3.6), TIME-WAIT 2 x MSL (RFC 9293
 *            §3.10.7.4) while the user holds the socket, and the orphan
 *            FIN-WAIT-2 limit (fin_wait2_timeout);
 *   t_user   the user timeout (RFC 9293 §3.8.3, RFC 5482): unacknowledged
 *            data, and unanswered keep-alive probes (as Linux's TCP_USER_TIMEOUT);
 *   t_tlp    the tail loss probe timeout, PTO (RFC 8985 §7.2, tcp_tlp.c).
 * The earliest is the block's key in a min-heap; poll runs what is due and
 * poll_at reads the top.
 */
#include "tcp_cc.h"
#include "tcp_private.h"

static tern_err timeout_error(const tcp_pcb *p) {
    /* a soft ICMP error seen meanwhile explains the timeout better (RFC 5927 §4) */
    return p->soft_err ? (tern_err)p->soft_err : TERN_ERR_TIMED_OUT;
}

static void persist_fire(tern_stack *st, tcp_pcb *p, uint64_t now) {
    uint32_t off = p->snd_nxt - p->snd_buf_seq;
    if (p->snd_wnd != 0) {
        /* RFC 9293 §3.8.6.2.1: the override timeout: send what the window takes. */
        p->flags &= ~(uint32_t)TCPF_PERSIST;
        uint32_t avail = p->tx_len > off ? p->tx_len - off : 0;
        uint32_t usable =
            seq_gt(p->snd_una + p->snd_wnd, p->snd_nxt) ? p->snd_una + p->snd_wnd - p->snd_nxt : 0;
        uint32_t len = avail < usable ? avail : usable;
        if (len > p->snd_mss) {
            len = p->snd_mss;
        }
        if (len > 0) {
            tcp_send_segment(st, p, now, p->snd_nxt, len, TERN_TCP_ACK | TERN_TCP_PSH);
            p->snd_nxt += len;
            tcp_arm_rexmt(p, now);
        }
        tcp_output(st, p, now);
        return;
    }
    if (++p->retries > p->data_retries) {
        tcp_close_conn(st, p, timeout_error(p));
        return;
    }
    /* RFC 9293 §3.8.6.1 (MUST-36): probe the zero window with one octet of new data. */
    off = p->snd_una - p->snd_buf_seq;
    if (p->tx_len > off) {
        tcp_send_segment(st, p, now, p->snd_una, 1, TERN_TCP_ACK);
        if (p->snd_nxt == p->snd_una) {
            p->snd_nxt = p->snd_una + 1;
        }
        p->flags |= TCPF_ZWP_OUT;
        p->zero_window_probes++;
    }
    tcp_rtt_backoff(&p->rtt); /* exponential backoff, capped at the RTO maximum */
    p->t_rexmt = now + p->rtt.rto;
}

/*
 * The SYN (or SYN-ACK) the timer just sent replaced a held copy in the ARP or
 * ND queue (core/held.c) and no earlier copy was sent as a retransmission:
 * every copy before it waited there for the neighbour and none left the
 * host. What the timer sent is then the first transmission of the SYN, not
 * a retransmission, for each rule that hangs on one:
 *
 * - RFC 6298 §5: "An implementation MUST manage the retransmission timer(s)
 *   in such a way that a segment is never retransmitted too early, i.e.,
 *   less than one RTO after the previous transmission of that segment." No
 *   previous transmission reached the network, and (5.5)'s "back off the
 *   timer" answers a segment the network did not acknowledge: the timer
 *   restarts with the RTO unchanged, as for a first send ((5.1)). Nor is
 *   the expiry counted towards R2 (RFC 9293 §3.8.3, counted in retries):
 *   without the backoff the count would run out in seconds; ARP's own
 *   retries end a resolution that never completes (RFC 1122 §2.3.2.2's
 *   host unreachable), and the SYN then sent starts a new one, as a
 *   retransmission.
 * - RFC 6298 (5.7)'s 3 s RTO after the handshake is for a SYN that timed out
 *   on the path; §7 explains it: "This document reduces the initial RTO from
 *   the previous 3 seconds [PA00] to 1 second, unless the SYN or the ACK of
 *   the SYN is lost". Nothing was lost: not applied.
 * - Karn's rule (RFC 6298 §3) forbids samples from segments "that were
 *   retransmitted (and thus for which it is ambiguous whether the reply was
 *   for the first instance of the packet or a later instance)". One
 *   instance left: the answer times it, from now (it may include the rest
 *   of the wait for the neighbour, an overestimate on the safe side).
 * - RFC 5681 §3.1's one-segment initial window is for a lost SYN or SYN/ACK:
 *   the full initial window stays, for every congestion control.
 *
 * Issue 22: at 15 % loss the first ARP request of a connection was lost,
 * the SYN's retransmission replaced the held SYN, and the connection began
 * with one segment and a 3 s RTO although only ARP had lost a frame.
 */
static void syn_never_left(tcp_pcb *p, uint64_t now) {
    p->retries--; /* not an R2 expiry (above) */
    p->rtt_time = now;
    p->flags |= TCPF_RTT_TIMING;
}

static void rexmt_fire(tern_stack *st, tcp_pcb *p, uint64_t now) {
    if (p->flags & TCPF_PERSIST) {
        persist_fire(st, p, now);
        return;
    }
    if (p->state == TERN_TCP_SYN_SENT || p->state == TERN_TCP_SYN_RECEIVED) {
        /* R2 for the SYN as a count (RFC 9293 §3.8.3 MUST-23: its default,
         * from tcp_socket.c, retransmits the SYN for at least 3 minutes). */
        if (++p->retries > p->syn_retries) {
            bool passive = (p->flags & TCPF_PASSIVE) != 0;
            tcp_close_conn(st, p, passive ? TERN_OK : timeout_error(p));
            return;
        }
        uint64_t replaced = tern_held_replaced(st);
        tcp_send_syn(st, p, now);
        if (tern_held_replaced(st) != replaced && !(p->flags & TCPF_SYN_RETRANSMITTED)) {
            syn_never_left(p, now);
            return;
        }
        /* With timestamps the answer's TSecr still gives a sample, if it
         * echoes this retransmission or a later one (tcp_input.c
         * established(), RFC 6298 §3). */
        p->rxt_tsval = tcp_ts_clock(p, now);
        p->flags |= TCPF_RXT_TSVAL;
        p->flags |= TCPF_SYN_RETRANSMITTED | TCPF_RTO_SYN_TIMEOUT;
        p->flags &= ~(uint32_t)TCPF_RTT_TIMING; /* Karn */
        tcp_rtt_backoff(&p->rtt);               /* RFC 6298 (5.5) */
        p->t_rexmt = now + p->rtt.rto;          /* (5.6) */
        p->total_retransmits++;
        st->c.tcp_retransmits++;
        return;
    }
    if (!tcp_synchronized(p) || tcp_flight(p) == 0 || p->state == TERN_TCP_TIME_WAIT) {
        return;
    }
    /* RFC 6298 §5 (5.4)-(5.6) */
    if (++p->retries > p->data_retries) {
        tcp_close_conn(st, p, timeout_error(p));
        return;
    }
    p->rto_timeouts++;
    tcp_frto_on_rto(p, now); /* RFC 5682 step 1, RFC 3522: the state a spurious RTO restores */
    if (p->retries == 1) {
        /* RFC 5681 §3.1: ssthresh from the first timeout only; cwnd = 1 SMSS. */
        tcp_cc_on_loss(p, now, true);
    } else {
        p->cwnd = p->snd_mss;
    }
    /* everything outstanding and not SACKed is presumed lost. Without
     * RACK the SACK scoreboard is cleared (RFC 2018 §8: the receiver may
     * have reneged); with RACK it is kept on the first timeout (RFC 8985
     * §6.3 marks on an RTO only unSACKed segments lost), so what the peer
     * holds is not sent again, and cleared on the second consecutive one,
     * which a reneging receiver causes. */
    p->ca_state = TCP_CA_LOSS;
    tcp_rack_timer_rxt(p, p->snd_una, p->snd_nxt); /* RTO recovery resends these */
    p->recover = p->snd_nxt;
    p->lost_to = p->snd_nxt;
    p->high_rxt = p->snd_una;
    if (!p->rack_on || p->retries > 1) {
        p->sack_n = 0;
    }
    p->dupacks = 0;
    p->lt_bytes = 0;
    p->tlp = 0; /* RFC 8985 §7.2: no probe during RTO recovery */
    p->t_tlp = TERN_NEVER;
    p->flags &= ~(uint32_t)TCPF_RTT_TIMING;
    tcp_rtt_backoff(&p->rtt);
    p->t_rexmt = now + p->rtt.rto;
    tcp_output(st, p, now);
}

static void keep_fire(tern_stack *st, tcp_pcb *p, uint64_t now) {
    switch (p->state) {
    case TERN_TCP_TIME_WAIT:
        tcp_close_conn(st, p, TERN_OK);
        return;
    case TERN_TCP_FIN_WAIT_2:
        st->c.tcp_fin_wait2_timeouts++;
        tcp_close_conn(st, p, TERN_OK);
        return;
    case TERN_TCP_ESTABLISHED:
    case TERN_TCP_CLOSE_WAIT:
        break;
    default:
        return;
    }
    if (!(p->flags & TCPF_KEEPALIVE)) {
        return;
    }
    if (p->ka_probes == 0 && p->last_rcv + p->keep_idle_ns > now) {
        p->t_keep = p->last_rcv + p->keep_idle_ns; /* traffic since: idle again from then */
        return;
    }
    if (tcp_flight(p) > 0 && p->ka_probes == 0) {
        p->t_keep = now + p->keep_idle_ns; /* the retransmission timer covers it */
        return;
    }
    if (p->ka_probes >= p->keep_cnt) {
        tcp_close_conn(st, p, timeout_error(p)); /* RFC 1122 §4.2.3.6: peer dead */
        return;
    }
    /* RFC 1122 §4.2.3.6: <SEQ=SND.UNA-1><ACK=RCV.NXT>, no data. */
    tcp_send_segment(st, p, now, p->snd_una - 1, 0, TERN_TCP_ACK);
    p->ka_probes++;
    p->keepalives_sent++;
    p->t_keep = now + p->keep_intvl_ns;
    if (p->user_timeout_ns && p->ka_probes == 1) {
        /* RFC 5482 §3 / Linux TCP_USER_TIMEOUT: the user timeout also
         * bounds how long keep-alive probes go unanswered: the connection
         * ends when nothing was received for that long. If that moment is
         * already past, the probe just sent gets one interval. */
        uint64_t end = p->last_rcv + p->user_timeout_ns;
        p->t_user = end > now ? end : now + p->keep_intvl_ns;
    }
}

void tcp_timer_fire(tern_stack *st, tcp_pcb *p, uint64_t now) {
    if (p->t_user <= now) {
        p->t_user = TERN_NEVER;
        if (tcp_flight(p) > 0 || p->state == TERN_TCP_SYN_SENT) {
            tcp_close_conn(st, p, TERN_ERR_USER_TIMEOUT);
            return;
        }
        if (p->ka_probes > 0 &&
            (p->state == TERN_TCP_ESTABLISHED || p->state == TERN_TCP_CLOSE_WAIT)) {
            /* keep-alive probes unanswered for the user timeout: abort,
             * telling the peer with a RST (as Linux does, RFC 9293 §3.10.5),
             * and the user with USER_TIMEOUT */
            tcp_send_rst(st, p, now);
            tcp_close_conn(st, p, TERN_ERR_USER_TIMEOUT);
            return;
        }
    }
    if (p->t_delack <= now) {
        p->t_delack = TERN_NEVER;
        if (tcp_synchronized(p) && p->state != TERN_TCP_CLOSED) {
            tcp_send_ack(st, p, now);
        }
    }
    if (p->kind == TCP_SOCKET && p->t_keep <= now) {
        p->t_keep = TERN_NEVER;
        keep_fire(st, p, now);
    }
    /* The probe first: a PTO clamped to the RTO's time (RFC 8985 §7.2,
     * tcp_tlp.c) is due with it, and goes in its place (tcp_tlp_fire
     * re-arms the RTO). */
    if (p->kind == TCP_SOCKET && p->t_tlp <= now) {
        p->t_tlp = TERN_NEVER;
        tcp_tlp_fire(st, p, now);
    }
    if (p->kind == TCP_SOCKET && p->t_rexmt <= now) {
        p->t_rexmt = TERN_NEVER;
        rexmt_fire(st, p, now);
    }
    if (p->kind == TCP_SOCKET && p->t_rack <= now) {
        p->t_rack = TERN_NEVER;
        tcp_rack_timer_fire(st, p, now);
    }
    if (p->kind == TCP_SOCKET && p->t_pace && p->t_pace <= now) {
        p->t_pace = 0; /* the paced connection's next send time: send what may go */
        tcp_output(st, p, now);
    }
}

void tern_tcp_poll(tern_stack *st, uint64_t now) {
    tern_tcp_module *t = st->tcp;
    /* 1. sockets with something queued by a user call */
    uint32_t budget = t->nsock + 1;
    while (t->dirty_head != TCP_NONE && budget-- > 0) {
        tcp_pcb *p = &t->pcb[t->dirty_head];
        t->dirty_head = p->dirty_next;
        if (t->dirty_head == TCP_NONE) {
            t->dirty_tail = TCP_NONE;
        }
        p->dirty_next = TCP_NONE;
        p->flags &= ~(uint32_t)TCPF_DIRTY;
        if (p->kind != TCP_SOCKET) {
            continue;
        }
        if (p->flags & TCPF_SEND_RST) {
            tcp_send_rst(st, p, now); /* RFC 9293 §3.10.5 ABORT */
            p->flags &= ~(uint32_t)TCPF_SEND_RST;
            tcp_close_conn(st, p, TERN_ERR_CONN_RESET);
            continue;
        }
        tcp_output(st, p, now);
        tcp_timers_update(st, p);
        tcp_tw_absorb(st, p, now); /* closed in TIME-WAIT: no socket needed any more */
    }
    tcp_tw_poll(st, now);
    /* 2. due timers; each firing moves the block's deadline past now or off */
    uint32_t guard = 4 * t->nsock + 16;
    while (t->heap_len > 0 && guard-- > 0) {
        tcp_pcb *p = &t->pcb[t->heap[0]];
        if (p->deadline > now) {
            break;
        }
        tcp_timer_fire(st, p, now);
        if (p->kind == TCP_SOCKET) {
            if (p->t_rexmt <= now)
                p->t_rexmt = now + 1;
            if (p->t_delack <= now)
                p->t_delack = TERN_NEVER;
            if (p->t_keep <= now)
                p->t_keep = now + 1;
            if (p->t_user <= now)
                p->t_user = TERN_NEVER;
            if (p->t_tlp <= now)
                p->t_tlp = TERN_NEVER;
            if (p->t_rack <= now)
                p->t_rack = TERN_NEVER;
            if (p->t_pace && p->t_pace <= now)
                p->t_pace = 0;
            tcp_timers_update(st, p);
        }
    }
}

uint64_t tern_tcp_poll_at(const tern_stack *st) {
    const tern_tcp_module *t = st->tcp;
    if (t->dirty_head != TCP_NONE) {
        return 0;
    }
    uint64_t tw = tcp_tw_poll_at(st);
    if (t->heap_len == 0) {
        return tw;
    }
    uint64_t d = t->pcb[t->heap[0]].deadline;
    return d < tw ? d : tw;
}

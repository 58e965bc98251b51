/*
 * TCP output: building segments (options per RFC 9293 §3.7.1, RFC 7323,
 * RFC 2018), the send loop (windows: RFC 9293 §3.8.6; Nagle: RFC 9293
 * §3.7.4 / RFC 1122 §4.2.3.4; sender SWS avoidance: RFC 9293 §3.8.6.2.1;
 * limited transmit: RFC 3042; loss recovery sends: RFC 6675 §5, RFC 6582),
 * window announcements (receiver SWS avoidance, RFC 9293 §3.8.6.2.2) and the
 * RST/ACK replies.
 *
 * Segments are written zero-copy into the IP layer's transmit scratch: header
 * from the connection's header template in the steady state (tcp_hdr_tmpl.c),
 * by tern_tcp_emit otherwise; payload copied once from the send queue (the
 * ring, or the application's lent buffers: tcp_sendq.c).
 */
#include <string.h>

#include "ipv4/ipv4.h"
#include "ipv6/ipv6.h"
#include "tcp_cc.h"
#include "tcp_private.h"
#include "wire/checksum.h"

uint32_t tcp_ts_clock(const tcp_pcb *p, uint64_t now) {
    /* RFC 7323 §5.4: a 1 ms timestamp clock with a random per-connection offset. */
    return (uint32_t)(now / 1000000ULL) + p->ts_offset;
}

uint32_t tcp_rcv_window(const tcp_pcb *p) {
    uint32_t room = p->rx_cap - p->rx_len;
    if (p->flags & TCPF_RCV_SHUT) {
        room = p->rx_cap; /* data is discarded as it arrives */
    }
    uint32_t cur = seq_gt(p->rcv_adv, p->rcv_nxt) ? p->rcv_adv - p->rcv_nxt : 0;
    /* RFC 9293 §3.8.6.2.2: move the right edge only by min(buffer/2, MSS) steps
     * (receiver SWS avoidance), and never back (RFC 9293 §3.8.6 MUST-? "SHOULD
     * NOT shrink"). */
    uint32_t step = p->rx_cap / 2 < p->rcv_mss ? p->rx_cap / 2 : p->rcv_mss;
    uint32_t w = room >= cur + step ? room : cur;
    uint32_t maxw = (uint32_t)(65535u << p->rcv_wscale);
    if (w > maxw) {
        w = maxw;
    }
    return w;
}

static void add_ts(const tcp_pcb *p, uint64_t now, struct tern_tcp_options *o) {
    o->has_timestamps = true;
    o->ts_val = tcp_ts_clock(p, now);
    o->ts_ecr = p->ts_recent;
}

/* The window field of a segment with flags, and in *wnd the window it announces in bytes. */
static uint16_t window_field(const tcp_pcb *p, uint8_t flags, uint32_t *wnd) {
    if (flags & TERN_TCP_RST) {
        *wnd = 0;
        return 0;
    }
    uint32_t w = tcp_rcv_window(p);
    uint16_t field;
    if (flags & TERN_TCP_SYN) {
        /* RFC 7323 §2.2: the window of a SYN is never scaled. */
        field = (uint16_t)(w > 65535 ? 65535 : w);
        *wnd = field;
    } else {
        field = (uint16_t)(w >> p->rcv_wscale);
        *wnd = (uint32_t)field << p->rcv_wscale;
    }
    return field;
}

/* The segment's header fields and options in full (every shape: SYN, RST, SACK, URG). */
static void build_repr(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq, uint8_t flags,
                       uint16_t window, struct tern_tcp_repr *r) {
    memset(r, 0, sizeof *r);
    r->src_port = p->lport;
    r->dst_port = p->rport;
    r->seq = seq;
    r->flags = flags;
    r->window = window;
    if (flags & TERN_TCP_ACK) {
        r->ack = p->rcv_nxt;
    }
    if (flags & TERN_TCP_SYN) {
        r->opt.has_mss = true;
        r->opt.mss = p->rcv_mss;
        bool synack = (flags & TERN_TCP_ACK) != 0;
        if (synack ? (p->flags & TCPF_WS_OK) : (p->flags & TCPF_WANT_WS)) {
            r->opt.has_wscale = true;
            r->opt.wscale = p->rcv_wscale;
        }
        if (synack ? (p->flags & TCPF_SACK_OK) : (p->flags & TCPF_WANT_SACK)) {
            r->opt.sack_permitted = true;
        }
        if (synack ? (p->flags & TCPF_TS_OK) : (p->flags & TCPF_WANT_TS)) {
            add_ts(p, now, &r->opt);
            if (!synack) {
                r->opt.ts_ecr = 0; /* RFC 7323 §3.2 */
            }
        }
    } else if (!(flags & TERN_TCP_RST) || (p->flags & TCPF_TS_OK)) {
        if (p->flags & TCPF_TS_OK) {
            add_ts(p, now, &r->opt);
        }
        if ((p->flags & TCPF_SACK_OK) && (p->ooo_n > 0 || p->dsack_pending) &&
            (flags & TERN_TCP_ACK) && !(flags & TERN_TCP_RST)) {
            /* RFC 2018 §4: SACK blocks on every ACK while data is out of
             * order; RFC 2883 §4: a D-SACK block first, in one ACK only. */
            r->opt.sack_count = tcp_sack_blocks_out(st, p, r->opt.sack, TERN_TCP_MAX_SACK_BLOCKS);
            r->opt.sack_count = tern_tcp_sack_blocks_fit(&r->opt);
            p->dsack_pending = 0;
        }
    }
    tcp_urg_output(p, r); /* RFC 9293 §3.8.5: URG while SND.UP is ahead */
}

#ifdef TERN_POLL_CACHE_CHECK
/* Test builds: the header the template gave (hlen bytes at buf, the payload behind it summed to
 * payload_sum) is, byte for byte and checksum included, the one tern_tcp_emit writes for the same
 * segment from the pseudo-header's addresses (the slow path); stop at once on a difference. */
static void check_hdr_tmpl(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq, uint8_t flags,
                           uint16_t window, uint8_t *buf, size_t hlen, uint32_t len,
                           uint32_t payload_sum) {
    uint8_t fast[TERN_TCP_MAX_HDR_LEN];
    memcpy(fast, buf, hlen);
    struct tern_tcp_repr r;
    build_repr(st, p, now, seq, flags, window, &r); /* no side effect when the template applies */
    r.payload = NULL;
    r.payload_len = len;
    r.payload_summed = true;
    r.payload_sum = payload_sum;
    size_t w;
    if (tern_tcp_header_len(&r) != hlen ||
        tern_tcp_emit(&r, &p->laddr, &p->raddr, buf, hlen + len, &w) != TERN_OK ||
        w != hlen + len || memcmp(fast, buf, hlen) != 0) {
        __builtin_trap();
    }
    /* and the segment as it stands verifies, payload included (RFC 9293 §3.1): the header was
     * written around the payload, not over it */
    uint32_t s = tern_csum_pseudo(&p->laddr, &p->raddr, TERN_IPPROTO_TCP, (uint32_t)(hlen + len));
    if (tern_csum_finish(tern_csum_add(s, buf, hlen + len)) != 0) {
        __builtin_trap();
    }
}
#endif

tern_err tcp_send_segment(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq, uint32_t len,
                          uint8_t flags) {
    uint32_t wnd;
    uint16_t window = window_field(p, flags, &wnd);
    size_t written;
    tern_err e;
    /* IPv4: the connection's header template when it holds (ipv4/tx_template.c), with the
     * pseudo-header's sum kept in it. */
    const tern_ip4_tmpl *t = NULL;
    if (tcp_hdr_tmpl_applies(p, flags, len)) {
        /* The steady state's header from the connection's TCP header template (tcp_hdr_tmpl.c),
         * built where the frame will travel when the environment lends a buffer (tern/stack.h). */
        const tcp_hdr_tmpl *h = tcp_hdr_tmpl_get(p);
        uint8_t *buf = tern_ip_tx_frame(st, h->hlen + len);
        uint32_t psum = 0;
        if (len > 0) {
            psum = tcp_sendq_copy(st, p, seq - p->snd_buf_seq, buf + h->hlen, len);
        }
        tcp_hdr_vals v = {.seq = seq, .ack = p->rcv_nxt, .flags = flags, .window = window};
        if (h->hlen > TERN_TCP_MIN_HDR_LEN) {
            v.ts_val = tcp_ts_clock(p, now);
            v.ts_ecr = p->ts_recent;
        }
        tcp_hdr_tmpl_emit(h, buf, &v, len, psum);
#ifdef TERN_POLL_CACHE_CHECK
        check_hdr_tmpl(st, p, now, seq, flags, window, buf, h->hlen, len, psum);
#endif
        written = h->hlen + len;
        if (p->raddr.family == TERN_AF_INET) {
            t = tern_ip4_tmpl_get(st, now, &p->tmpl, &p->route, &p->laddr, &p->raddr, p->ttl);
        }
    } else {
        struct tern_tcp_repr r;
        build_repr(st, p, now, seq, flags, window, &r);
        size_t hlen = tern_tcp_header_len(&r);
        uint8_t *buf = tern_ip_tx_frame(st, hlen + len);
        if (len > 0) {
            r.payload_sum = tcp_sendq_copy(st, p, seq - p->snd_buf_seq, buf + hlen, len);
            r.payload_summed = true;
        }
        r.payload = NULL;
        r.payload_len = len;
        if (p->raddr.family == TERN_AF_INET) {
            t = tern_ip4_tmpl_get(st, now, &p->tmpl, &p->route, &p->laddr, &p->raddr, p->ttl);
        }
        e = t != NULL ? tern_tcp_emit_pseudo(&r, t->l4_sum, buf, hlen + len, &written)
                      : tern_tcp_emit(&r, &p->laddr, &p->raddr, buf, hlen + len, &written);
        if (e) {
            return e;
        }
    }
    st->hc.tcp_out++;
    p->segs_out++;
    if (len > 0) {
        p->last_snd = now; /* RFC 5681 §4.1: idle is measured from the last data sent */
    }
    if (len > 0 && p->ca_state == TCP_CA_RECOVERY) {
        p->prr_out += len; /* RFC 6937 §3: data sent during recovery */
    }
    if (len > 0 && p->cc_id == TERN_TCP_CC_BBR && !(flags & (TERN_TCP_SYN | TERN_TCP_RST))) {
        tcp_rate_sent(st, p, now, seq, len); /* delivery-rate state per segment */
        tcp_pace_sent(p, now, len);          /* and its next send time */
    }
    if ((len > 0 || (flags & TERN_TCP_FIN)) && !(flags & (TERN_TCP_SYN | TERN_TCP_RST))) {
        /* RFC 8985 §6.1: every transmission's time, for RACK */
        tcp_rack_sent(st, p, now, seq, len + ((flags & TERN_TCP_FIN) ? 1u : 0u));
    }
    if (flags & TERN_TCP_RST) {
        st->c.tcp_rst_sent++;
    }
    if ((flags & TERN_TCP_ACK) && !(flags & TERN_TCP_RST)) {
        p->last_ack_sent = p->rcv_nxt;
        p->rcv_wnd_ann = wnd;
        if (seq_gt(p->rcv_nxt + wnd, p->rcv_adv)) {
            p->rcv_adv = p->rcv_nxt + wnd;
        }
        if (seq_lt(p->rcv_adv, p->rcv_nxt)) {
            p->rcv_adv = p->rcv_nxt;
        }
        p->flags &= ~(uint32_t)TCPF_ACK_NOW;
        p->segs_unacked = 0;
        p->t_delack = TERN_NEVER;
    }
    if (t != NULL && tern_ip4_tmpl_fits(t, written)) {
        tern_ip4_tmpl_send(st, now, t, written);
        tern_frame_lent_done(st); /* as tern_l4_send: the lent buffer went with the frame */
        return TERN_OK;
    }
    tern_ip_tx tx = {.src = p->laddr,
                     .dst = p->raddr,
                     .protocol = TERN_IPPROTO_TCP,
                     .ttl = p->ttl,
                     .df = true /* RFC 1191 path MTU discovery */};
    if (p->raddr.family == TERN_AF_INET) {
        tx.route = tern_route_cached(st, &p->route, &p->raddr, &p->laddr);
    }
    e = tern_l4_send(st, now, &tx, written);
    if (e == TERN_ERR_MSG_TOO_LONG) {
        /* The interface MTU (over IPv6 the path MTU IPv6 keeps per destination, RFC 8201 §5.2)
         * is below our segment size: follow it (RFC 1191). */
        tern_route_result rr;
        if (tern_route_lookup(st, &p->raddr, &p->laddr, &rr) == TERN_OK) {
            uint32_t mtu = rr.mtu;
            if (p->raddr.family == TERN_AF_INET6) {
                mtu = tern_ipv6_path_mtu(st, now, &p->raddr, mtu);
            }
            if (mtu < p->pmtu) {
                p->pmtu = (uint16_t)mtu;
                tcp_update_snd_mss(p);
            }
        }
    }
    return e;
}

void tcp_send_ack(tern_stack *st, tcp_pcb *p, uint64_t now) {
    tcp_send_segment(st, p, now, p->snd_nxt, 0, TERN_TCP_ACK);
}

void tcp_send_challenge_ack(tern_stack *st, tcp_pcb *p, uint64_t now) {
    /* RFC 5961 §7: at most challenge_ack_limit per second, per connection.
     * (A period starts with its first challenge ACK, at any time, 0 too.) */
    if (p->chal_count == 0 || now - p->chal_start >= 1000000000ULL) {
        p->chal_start = now;
        p->chal_count = 0;
    }
    if (p->chal_count >= st->tcp->cfg.challenge_ack_limit) {
        st->c.tcp_acks_rate_limited++;
        return;
    }
    p->chal_count++;
    p->challenge_acks++;
    st->c.tcp_challenge_acks++;
    tcp_send_ack(st, p, now);
}

void tcp_send_oow_ack(tern_stack *st, tcp_pcb *p, uint64_t now, const struct tern_tcp_repr *seg) {
    /* RFC 9293 §3.10.7.4: "If an incoming segment is not acceptable, an
     * acknowledgment should be sent in reply". Two ends that disagree on the
     * sequence space (a host talking to itself, a desynchronised pair) answer
     * each other's answer for ever, at line rate; RFC 9293 points to "RFC 5961
     * and Errata ID 4772" for "additional ACK throttling notes", and RFC 5961
     * §7 says "an ACK throttling mechanism is suggested". Such a loop is made
     * of segments without data, so only those are throttled, to one answer
     * per invalid_ack_interval_ns per connection (as Linux does); a segment
     * with data or FIN (a retransmission whose ACK was lost) is always
     * answered, or its sender would retransmit until it gives up. */
    bool dataless = seg->payload_len == 0 && !(seg->flags & TERN_TCP_FIN);
    if (dataless || (seg->flags & TERN_TCP_SYN)) {
        if (now < p->oow_ack_next) {
            st->c.tcp_acks_rate_limited++;
            return;
        }
        uint64_t iv = st->tcp->cfg.invalid_ack_interval_ns;
        p->oow_ack_next = now > UINT64_MAX - iv ? UINT64_MAX : now + iv;
    }
    tcp_send_ack(st, p, now);
}

void tcp_send_rst(tern_stack *st, tcp_pcb *p, uint64_t now) {
    tcp_send_segment(st, p, now, p->snd_nxt, 0, TERN_TCP_RST);
}

void tcp_send_rst_reply(tern_stack *st, uint64_t now, const tern_ip_rx *ip,
                        const struct tern_tcp_repr *seg) {
    /* RFC 9293 §3.10.7.1: never a RST in answer to a RST; otherwise
     *   ACK set:   <SEQ=SEG.ACK><CTL=RST>
     *   ACK clear: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
    if (seg->flags & TERN_TCP_RST) {
        return;
    }
    if (tern_addr_is_multicast(&ip->dst) || tern_addr_is_limited_broadcast(&ip->dst) ||
        tern_addr_is_multicast(&ip->src) || tern_addr_is_limited_broadcast(&ip->src) ||
        tern_addr_is_unspecified(&ip->src)) {
        return;
    }
    struct tern_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.src_port = seg->dst_port;
    r.dst_port = seg->src_port;
    if (seg->flags & TERN_TCP_ACK) {
        r.seq = seg->ack;
        r.flags = TERN_TCP_RST;
    } else {
        uint32_t seglen = (uint32_t)seg->payload_len + ((seg->flags & TERN_TCP_SYN) ? 1 : 0) +
                          ((seg->flags & TERN_TCP_FIN) ? 1 : 0);
        r.seq = 0;
        r.ack = seg->seq + seglen;
        r.flags = TERN_TCP_RST | TERN_TCP_ACK;
    }
    uint8_t *buf = tern_ip_tx_payload(st);
    size_t written;
    if (tern_tcp_emit(&r, &ip->dst, &ip->src, buf, TERN_IP_PAYLOAD_MAX, &written) != TERN_OK) {
        return;
    }
    tern_ip_tx tx = {.src = ip->dst, .dst = ip->src, .protocol = TERN_IPPROTO_TCP, .df = true};
    st->hc.tcp_out++;
    st->c.tcp_rst_sent++;
    tern_l4_send(st, now, &tx, written);
}

void tcp_arm_rexmt(tcp_pcb *p, uint64_t now) {
    if (p->t_rexmt == TERN_NEVER && !(p->flags & TCPF_PERSIST)) {
        p->t_rexmt = now + p->rtt.rto; /* RFC 6298 (5.1) */
    }
    if (p->user_timeout_ns && p->t_user == TERN_NEVER) {
        p->t_user = now + p->user_timeout_ns; /* RFC 9293 §3.8.3 */
    }
}

/* Send [seq, seq+n) of the sequence space again; it may end with our FIN. */
void tcp_send_range(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq, uint32_t n,
                    bool rexmit) {
    uint32_t data_end = p->snd_buf_seq + p->tx_len;
    uint32_t dlen = 0;
    if (seq_lt(seq, data_end)) {
        dlen = data_end - seq;
        if (dlen > n) {
            dlen = n;
        }
    }
    uint8_t flags = TERN_TCP_ACK;
    if ((p->flags & TCPF_FIN_SENT) && seq + dlen == data_end && seq_gt(seq + n, data_end)) {
        flags |= TERN_TCP_FIN;
    }
    if (dlen > 0 && seq + dlen == data_end) {
        flags |= TERN_TCP_PSH;
    }
    tcp_send_segment(st, p, now, seq, dlen, flags);
    if (rexmit) {
        if (p->ca_state != TCP_CA_OPEN) {
            tcp_undo_rexmit(p, seq, n); /* RFC 3708 §3 */
        }
        p->total_retransmits++;
        st->c.tcp_retransmits++;
        p->flags &= ~(uint32_t)TCPF_RTT_TIMING; /* Karn's algorithm */
        p->rxt_tsval = tcp_ts_clock(p, now);    /* and its timestamps form (tcp_input.c) */
        p->flags |= TCPF_RXT_TSVAL;
    }
    tcp_arm_rexmt(p, now);
}

void tcp_retransmit_first(tern_stack *st, tcp_pcb *p, uint64_t now) {
    uint32_t n = tcp_flight(p);
    if (n == 0) {
        return;
    }
    if (n > p->snd_mss) {
        n = p->snd_mss;
    }
    tcp_send_range(st, p, now, p->snd_una, n, true);
    p->high_rxt = seq_max(p->high_rxt, p->snd_una + n);
    /* The segment is retransmitted because it is presumed lost (RFC 5681
     * §3.2 step 4, RFC 6582 §3.2 step 5): its original no longer counts in
     * pipe, which then equals FlightSize during NewReno recovery. */
    p->lost_to = seq_max(p->lost_to, p->snd_una + n);
}

/* SYN or SYN-ACK (RFC 9293 §3.5). */
void tcp_send_syn(tern_stack *st, tcp_pcb *p, uint64_t now) {
    uint8_t flags = TERN_TCP_SYN;
    if (p->state == TERN_TCP_SYN_RECEIVED) {
        flags |= TERN_TCP_ACK;
    }
    tcp_send_segment(st, p, now, p->iss, 0, flags);
    if (p->snd_nxt == p->iss) {
        p->snd_nxt = p->iss + 1;
        p->rtt_seq = p->iss;
        p->rtt_time = now;
        p->flags |= TCPF_RTT_TIMING;
    }
    if (p->t_rexmt == TERN_NEVER) {
        p->t_rexmt = now + p->rtt.rto;
    }
}

/* cwnd_room outside the steady state: limited transmit, recovery, after an RTO. */
static uint32_t cwnd_room_repair(const tern_stack *st, const tcp_pcb *p) {
    uint64_t allowed = p->cwnd;
    uint32_t used;
    if (p->ca_state == TCP_CA_OPEN && (p->flags & TCPF_SACK_OK) && p->dupacks > 0) {
        /* RFC 6675 §5 (3): limited transmit governed by cwnd - pipe, with
         * HighRxt = HighACK (SACKed octets have left the network). */
        used = tcp_pipe(st, p);
    } else if (p->ca_state == TCP_CA_OPEN) {
        /* RFC 3042 limited transmit: up to 2 segments beyond cwnd on the first
         * two duplicate ACKs. */
        uint32_t lt = p->dupacks < 2 ? p->dupacks : 2;
        allowed += (uint64_t)lt * p->snd_mss;
        used = tcp_flight(p);
    } else if (p->ca_state == TCP_CA_RECOVERY && !(p->flags & TCPF_SACK_OK)) {
        used = tcp_flight(p); /* RFC 6582: cwnd is inflated instead */
    } else {
        used = tcp_pipe(st, p); /* RFC 6675 §5 / after an RTO */
    }
    return allowed > used ? (uint32_t)(allowed - used) : 0;
}

/* How many bytes congestion control lets us put in flight beyond what is there. The steady state
 * (no loss being repaired, no duplicate ACK: no limited transmit) first and inline, as it is asked
 * before every segment (issue 19): cwnd - FlightSize, what the repair path's CA_OPEN branch
 * computes with no duplicate ACK. */
static inline uint32_t cwnd_room(const tern_stack *st, const tcp_pcb *p) {
    if (p->ca_state == TCP_CA_OPEN && p->dupacks == 0) {
        uint32_t used = tcp_flight(p);
        return p->cwnd > used ? p->cwnd - used : 0;
    }
    return cwnd_room_repair(st, p);
}

static void keepalive_arm(tern_stack *st, tcp_pcb *p, uint64_t now) {
    (void)st;
    bool ka_state = p->state == TERN_TCP_ESTABLISHED || p->state == TERN_TCP_CLOSE_WAIT;
    if ((p->flags & TCPF_KEEPALIVE) && ka_state) {
        if (p->t_keep == TERN_NEVER) {
            p->t_keep = (p->last_rcv ? p->last_rcv : now) + p->keep_idle_ns;
        }
    } else if (ka_state) {
        p->t_keep = TERN_NEVER;
    }
    if (p->state == TERN_TCP_FIN_WAIT_2 && !(p->flags & TCPF_HANDLE) && p->t_keep == TERN_NEVER) {
        /* orphan FIN-WAIT-2 limit (Linux tcp_fin_timeout): a peer that never
         * sends its FIN holds the socket only this long (issue 21) */
        p->t_keep = now + st->tcp->cfg.fin_wait2_timeout_ns;
    }
}

/* A retransmission from the scoreboard; high: HighRxt follows it (RFC 6675 (C.3)). */
static void send_rexmit(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq, uint32_t len,
                        bool high) {
    tcp_send_range(st, p, now, seq, len, true);
    if (high && seq_gt(seq + len, p->high_rxt)) {
        p->high_rxt = seq + len;
    }
    p->rxt_mark = p->snd_nxt;
}

/*
 * RFC 3042 §2: new data sent on the first two duplicate ACKs may take
 * FlightSize up to two segments beyond cwnd. Remember how far, so that
 * ssthresh on entering fast recovery leaves it out (RFC 5681 §3.2 step 2).
 */
static void count_limited_transmit(tcp_pcb *p, uint32_t len) {
    uint32_t before = tcp_flight(p);
    uint64_t after = (uint64_t)before + len;
    uint32_t base = before > p->cwnd ? before : p->cwnd;
    if (after > base) {
        p->lt_bytes += (uint32_t)(after - base);
    }
}

/*
 * One segment of new data (and/or our FIN) if the windows, Nagle and sender
 * SWS avoidance allow. Returns 1 when a segment went out (and more may
 * follow), -1 when nothing more may go this round because of the congestion
 * window or because the FIN went out, 0 when there is nothing to send or the
 * peer's window (or Nagle/SWS) holds it back.
 */
static int send_new_data(tern_stack *st, tcp_pcb *p, uint64_t now) {
    if (p->flags & TCPF_FIN_SENT) {
        return 0;
    }
    uint32_t off = p->snd_nxt - p->snd_buf_seq;
    uint32_t avail = p->tx_len > off ? p->tx_len - off : 0;
    bool fin_wanted = (p->flags & TCPF_FIN_QUEUED) != 0;
    if (avail == 0 && !fin_wanted) {
        /* Nothing queued: the windows below cannot make a segment (len would be 0, and a zero
         * len is never congestion-limited). The receiver of a bulk transfer asks at every
         * segment it takes in; this spares it the congestion window's sum (issue 19). */
        return 0;
    }
    int64_t usable = (int64_t)(uint32_t)(p->snd_una + p->snd_wnd - p->snd_nxt);
    if (seq_lt(p->snd_una + p->snd_wnd, p->snd_nxt)) {
        usable = 0;
    }
    uint32_t room = cwnd_room(st, p);
    uint32_t len = avail;
    if (len > p->snd_mss)
        len = p->snd_mss;
    if ((int64_t)len > usable)
        len = (uint32_t)usable;
    bool cwnd_limited = len > room;
    if (len > room)
        len = room;
    bool fin = fin_wanted && len == avail;
    if (len == 0 && !fin) {
        return cwnd_limited ? -1 : 0;
    }
    if (len == 0 && fin && (avail > 0)) {
        return cwnd_limited ? -1 : 0;
    }
    if (len < p->snd_mss && len < avail) {
        /* RFC 9293 §3.8.6.2.1 sender SWS avoidance: a short segment only when
         * it is at least half the largest window the peer offered. */
        if (!(len >= p->max_snd_wnd / 2 && len > 0)) {
            return cwnd_limited ? -1 : 0;
        }
    } else if (len < p->snd_mss && len == avail && len > 0 && !fin && !(p->flags & TCPF_NODELAY) &&
               !(p->urg & TCP_URG_SND) && tcp_flight(p) > 0) {
        /* RFC 9293 §3.7.4 Nagle: a short segment waits while data is
         * unacknowledged; not urgent data, whose point is to "stimulate the
         * receiving user" at once (RFC 9293 §3.8.5). */
        return 0;
    }
    uint8_t flags = TERN_TCP_ACK;
    if (len > 0 && len == avail) {
        flags |= TERN_TCP_PSH;
    }
    if (fin) {
        flags |= TERN_TCP_FIN;
    }
    if (p->ca_state == TCP_CA_OPEN && p->dupacks > 0) {
        /* Limited transmit: RFC 3042 without SACK, RFC 6675 §5 (3) with it.
         * Either way the data it takes beyond cwnd is left out of FlightSize
         * when ssthresh is computed (RFC 5681 §3.2 step 2, RFC 6675 §5 (4.2)). */
        count_limited_transmit(p, len);
    }
    tcp_send_segment(st, p, now, p->snd_nxt, len, flags);
    p->tlp |= TCP_TLP_RESTART; /* RFC 8985 §7.2: new data restarts the PTO */
    if (!(p->flags & TCPF_RTT_TIMING) && len > 0) {
        p->rtt_seq = p->snd_nxt;
        p->rtt_time = now;
        p->flags |= TCPF_RTT_TIMING;
    }
    p->snd_nxt += len + (fin ? 1 : 0);
    if (fin) {
        p->flags |= TCPF_FIN_SENT;
    }
    if (seq_lt(p->high_rxt, p->snd_una)) {
        p->high_rxt = p->snd_una;
    }
    tcp_arm_rexmt(p, now);
    return fin ? -1 : 1;
}

void tcp_output(tern_stack *st, tcp_pcb *p, uint64_t now) {
    if (p->kind != TCP_SOCKET) {
        return;
    }
    if (p->state == TERN_TCP_SYN_SENT) {
        if (p->flags & TCPF_NEED_ISS) {
            /* RFC 9293 §3.4.1, RFC 6528: ISN = M + F(4-tuple, key). */
            p->flags &= ~(uint32_t)TCPF_NEED_ISS;
            p->iss = tern_isn(st, now, &p->laddr, p->lport, &p->raddr, p->rport);
            p->snd_una = p->snd_nxt = p->iss;
            p->snd_buf_seq = p->iss + 1;
            p->recover = p->high_rxt = p->lost_to = p->iss;
            tcp_urg_iss_chosen(p);
        }
        if (p->snd_nxt == p->iss) {
            tcp_send_syn(st, p, now);
        }
        return;
    }
    if (p->state == TERN_TCP_SYN_RECEIVED) {
        if (p->snd_nxt == p->iss || (p->flags & TCPF_ACK_NOW)) {
            p->flags &= ~(uint32_t)TCPF_ACK_NOW;
            tcp_send_syn(st, p, now);
        }
        return;
    }
    if (!tcp_synchronized(p)) {
        return;
    }
    keepalive_arm(st, p, now);
    if (p->state == TERN_TCP_TIME_WAIT || p->state == TERN_TCP_CLOSED) {
        if (p->flags & TCPF_ACK_NOW) {
            tcp_send_ack(st, p, now);
        }
        return;
    }
    if (p->ca_state == TCP_CA_OPEN && tcp_flight(p) == 0 && now - p->last_snd > p->rtt.rto) {
        /* RFC 5681 §4.1: no data sent for longer than the RTO: cwnd SHOULD
         * be at most the restart window before sending again. */
        tcp_cc_restart_after_idle(p);
    }
    bool sent = false, paced = false;
    bool sack_recovery = (p->flags & TCPF_SACK_OK) && p->ca_state == TCP_CA_RECOVERY;
    for (;;) {
        if (tern_call_budget_spent(st)) {
            tcp_mark_dirty(st, p); /* bounded work per call: the next poll continues */
            break;
        }
        if (tcp_pace_hold(p, now)) {
            paced = true; /* a paced connection waits for its next send time (t_pace) */
            break;
        }
        /* 1. Retransmissions of lost data (RFC 6675 §4 NextSeg rule 1; after an
         *    RTO everything below `recover` is lost). */
        if (p->ca_state != TCP_CA_OPEN &&
            (p->ca_state == TCP_CA_LOSS || (p->flags & TCPF_SACK_OK))) {
            uint32_t rseq, rlen;
            if (tcp_next_rexmit(st, p, &rseq, &rlen)) {
                /* RFC 6675 §5 (C): send while cwnd - pipe >= 1 SMSS */
                uint32_t room = cwnd_room(st, p);
                if (room < rlen && room < p->snd_mss) {
                    break;
                }
                send_rexmit(st, p, now, rseq, rlen, true);
                sent = true;
                continue;
            }
        }
        /* 2. New data (NextSeg rule 2). */
        int r = send_new_data(st, p, now);
        if (r > 0) {
            sent = true;
            continue;
        }
        if (r < 0) {
            break; /* FIN sent, or congestion window full */
        }
        /* 3./4. No new data can go (none queued, or the peer's window is
         *    full): NextSeg rules 3 and 4 (RFC 6675 §4). */
        if (sack_recovery) {
            uint32_t rseq, rlen;
            if (cwnd_room(st, p) < p->snd_mss) {
                break;
            }
            if (tcp_next_rexmit_rule3(st, p, &rseq, &rlen)) {
                send_rexmit(st, p, now, rseq, rlen, true); /* (C.3): HighRxt moves */
                sent = true;
                continue;
            }
            if (tcp_next_rescue(st, p, &rseq, &rlen)) {
                /* RescueRxt = RecoveryPoint; HighRxt MUST NOT be updated */
                send_rexmit(st, p, now, rseq, rlen, false);
                p->rescue_rxt = p->recover;
                p->flags |= TCPF_RESCUE_SET;
                sent = true;
                continue;
            }
        }
        break;
    }
    if (!sent && (p->flags & TCPF_ACK_NOW)) {
        tcp_send_ack(st, p, now);
    }
    /* RFC 9293 §3.8.6.1: data waiting, a zero window, nothing in flight: persist. */
    uint32_t off = p->snd_nxt - p->snd_buf_seq;
    bool waiting =
        (p->tx_len > off) || ((p->flags & TCPF_FIN_QUEUED) && !(p->flags & TCPF_FIN_SENT));
    /* (Not while pacing holds the data back: the pacing timer sends it.)
     * ...and with a window too small to use (sender SWS avoidance holding
     * back): the persist timer is also the "override timeout" of RFC 9293
     * §3.8.6.2.1, so a lost window update never stalls the connection. */
    if (p->cc_id == TERN_TCP_CC_BBR) {
        uint32_t rseq, rlen;
        bool lost = p->ca_state != TCP_CA_OPEN && tcp_next_rexmit(st, p, &rseq, &rlen);
        uint32_t fl = (p->flags & TCPF_SACK_OK) ? tcp_pipe(st, p) : tcp_flight(p);
        tcp_rate_check_app_limited(p, fl, waiting, lost);
    }
    if (waiting && !paced && tcp_flight(p) == 0 && !(p->flags & TCPF_PERSIST) &&
        p->state != TERN_TCP_CLOSED) {
        p->flags |= TCPF_PERSIST;
        p->t_rexmt = now + p->rtt.rto;
    }
    if (p->flags & TCPF_TLP) {
        tcp_tlp_schedule(p, now); /* RFC 8985 §7.2 */
    }
}

/*
 * TIME-WAIT without a control block: see tcp_timewait.h.
 *
 * The table is an array of tcp_tw with a free list, a 4-tuple hash (chained
 * by index) and a list ordered by expiry (oldest first): every entry waits
 * 2 x MSL from its last ACK, so appending keeps the order, and a restart
 * (a retransmitted FIN) moves the entry to the end. Expiry and recycling
 * take the head: O(1).
 */
#include "tcp_timewait.h"

#include <string.h>

#include "tcp_private.h"

#define TW_NONE UINT32_MAX

static size_t align16(size_t n) {
    return (n + 15) & ~(size_t)15;
}

static uint32_t buckets_for(uint32_t n) {
    uint32_t h = 16;
    while (h < n) {
        h <<= 1;
    }
    return h;
}

size_t tcp_tw_memory_size(uint32_t n) {
    return align16((size_t)n * sizeof(tcp_tw)) + align16(buckets_for(n) * sizeof(uint32_t));
}

void tcp_tw_init(tern_stack *st, uint8_t *mem, uint32_t n) {
    tern_tcp_module *t = st->tcp;
    t->tw = (tcp_tw *)(void *)mem;
    t->tw_cap = n;
    uint32_t hs = buckets_for(n);
    t->tw_hash = (uint32_t *)(void *)(mem + align16((size_t)n * sizeof(tcp_tw)));
    t->tw_hash_mask = hs - 1;
    memset(t->tw, 0, (size_t)n * sizeof(tcp_tw));
    memset(t->tw_hash, 0xff, hs * sizeof(uint32_t));
    for (uint32_t i = 0; i < n; i++) {
        t->tw[i].hash_next = i + 1 < n ? i + 1 : TW_NONE;
    }
    t->tw_free = n ? 0 : TW_NONE;
    t->tw_oldest = t->tw_newest = TW_NONE;
    t->tw_count = 0;
}

static uint32_t bucket(const tern_stack *st, const tern_addr *la, uint16_t lp, const tern_addr *ra,
                       uint16_t rp) {
    return tcp_tuple_hash(la, lp, ra, rp) & st->tcp->tw_hash_mask;
}

static uint32_t tw_index(const tern_stack *st, const tcp_tw *tw) {
    return (uint32_t)(tw - st->tcp->tw);
}

static void list_unlink(tern_tcp_module *t, tcp_tw *tw) {
    if (tw->older != TW_NONE) {
        t->tw[tw->older].newer = tw->newer;
    } else {
        t->tw_oldest = tw->newer;
    }
    if (tw->newer != TW_NONE) {
        t->tw[tw->newer].older = tw->older;
    } else {
        t->tw_newest = tw->older;
    }
    tw->older = tw->newer = TW_NONE;
}

/* Insert by expiry, walking back from the newest (usually zero steps). */
static void list_insert(tern_tcp_module *t, tcp_tw *tw, uint32_t idx) {
    uint32_t after = t->tw_newest;
    while (after != TW_NONE && t->tw[after].expires > tw->expires) {
        after = t->tw[after].older;
    }
    tw->older = after;
    if (after == TW_NONE) {
        tw->newer = t->tw_oldest;
        t->tw_oldest = idx;
    } else {
        tw->newer = t->tw[after].newer;
        t->tw[after].newer = idx;
    }
    if (tw->newer == TW_NONE) {
        t->tw_newest = idx;
    } else {
        t->tw[tw->newer].older = idx;
    }
}

static void tw_remove(tern_stack *st, tcp_tw *tw) {
    tern_tcp_module *t = st->tcp;
    uint32_t idx = tw_index(st, tw);
    uint32_t *link = &t->tw_hash[bucket(st, &tw->laddr, tw->lport, &tw->raddr, tw->rport)];
    while (*link != TW_NONE) {
        if (*link == idx) {
            *link = tw->hash_next;
            break;
        }
        link = &t->tw[*link].hash_next;
    }
    list_unlink(t, tw);
    tw->flags = 0;
    tw->hash_next = t->tw_free;
    t->tw_free = idx;
    t->tw_count--;
}

bool tcp_tw_absorb(tern_stack *st, tcp_pcb *p, uint64_t now) {
    tern_tcp_module *t = st->tcp;
    if (p->kind != TCP_SOCKET || p->state != TERN_TCP_TIME_WAIT || (p->flags & TCPF_HANDLE) ||
        t->tw_cap == 0) {
        return false;
    }
    if (t->tw_free == TW_NONE) {
        /* Full: the oldest entry ends early, so that the table never blocks a
         * port (counted; RFC 9293 §3.6.1 lets a SYN reopen TIME-WAIT anyway). */
        tw_remove(st, &t->tw[t->tw_oldest]);
        st->c.tcp_timewait_recycled++;
    }
    uint32_t idx = t->tw_free;
    tcp_tw *tw = &t->tw[idx];
    t->tw_free = tw->hash_next;
    memset(tw, 0, sizeof *tw);
    tw->laddr = p->laddr;
    tw->raddr = p->raddr;
    tw->lport = p->lport;
    tw->rport = p->rport;
    tw->snd_nxt = p->snd_nxt;
    tw->rcv_nxt = p->rcv_nxt;
    tw->rcv_wnd = seq_gt(p->rcv_adv, p->rcv_nxt) ? p->rcv_adv - p->rcv_nxt : 0;
    tw->rcv_wscale = p->rcv_wscale;
    tw->ttl = p->ttl;
    tw->flags = TCP_TW_USED | ((p->flags & TCPF_TS_OK) ? TCP_TW_TS : 0);
    tw->ts_recent = p->ts_recent;
    tw->ts_recent_time = p->ts_recent_time;
    tw->ts_offset = p->ts_offset;
    tw->chal_start = p->chal_start;
    tw->chal_count = p->chal_count;
    tw->expires = p->t_keep != TERN_NEVER ? p->t_keep : now + 2 * t->cfg.msl_ns;
    uint32_t b = bucket(st, &tw->laddr, tw->lport, &tw->raddr, tw->rport);
    tw->hash_next = t->tw_hash[b];
    t->tw_hash[b] = idx;
    list_insert(t, tw, idx);
    t->tw_count++;
    st->c.tcp_timewait_entered++;
    tcp_close_conn(st, p, TERN_OK); /* an orphan: the socket returns to the pool */
    return true;
}

tcp_tw *tcp_tw_lookup(tern_stack *st, const tern_addr *laddr, uint16_t lport,
                      const tern_addr *raddr, uint16_t rport) {
    tern_tcp_module *t = st->tcp;
    if (t->tw_count == 0) {
        return NULL;
    }
    for (uint32_t i = t->tw_hash[bucket(st, laddr, lport, raddr, rport)]; i != TW_NONE;
         i = t->tw[i].hash_next) {
        tcp_tw *tw = &t->tw[i];
        if (tw->lport == lport && tw->rport == rport && tern_addr_eq(&tw->laddr, laddr) &&
            tern_addr_eq(&tw->raddr, raddr)) {
            return tw;
        }
    }
    return NULL;
}

bool tcp_tw_syn_acceptable(uint32_t rcv_nxt, bool ts_used, uint32_t ts_recent, bool ts_new,
                           const struct tern_tcp_repr *seg) {
    /*
     * RFC 6191 §2: "If TCP Timestamps would be enabled for the new
     * incarnation of the connection, and the timestamp contained in the
     * incoming SYN segment is greater than the last timestamp seen on the
     * previous incarnation of the connection (for that direction of the
     * data transfer), honor the connection request"; with an equal
     * timestamp, the sequence number must be greater. Without timestamps
     * on either incarnation, RFC 9293 §3.10.7.4 (TIME-WAIT, MAY-2) and
     * RFC 1122 §4.2.2.13: the SYN's sequence number must be greater than
     * the old connection's.
     */
    if (ts_used && ts_new) {
        if (seq_gt(seg->opt.ts_val, ts_recent)) {
            return true;
        }
        return seg->opt.ts_val == ts_recent && seq_gt(seg->seq, rcv_nxt);
    }
    return seq_gt(seg->seq, rcv_nxt);
}

uint32_t tcp_tw_new_iss(tern_stack *st, uint32_t iss) {
    tern_tcp_module *t = st->tcp;
    if (!t->tw_reopen) {
        return iss;
    }
    t->tw_reopen = false;
    /* Above everything the old incarnation sent and any window of it the
     * peer may still accept (the 65535 + 2 margin of the BSDs and Linux). */
    if (seq_gt(iss, t->tw_reopen_snd_nxt)) {
        return iss;
    }
    return t->tw_reopen_snd_nxt + 65535u + 2u;
}

/* An ACK from the TIME-WAIT entry: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, with
 * the connection's timestamps and window, built on a scratch control block. */
static void tw_send_ack(tern_stack *st, tcp_tw *tw, uint64_t now, bool challenge) {
    if (challenge) {
        /* RFC 5961 §7: challenge ACKs are throttled per connection. */
        if (tw->chal_start == 0 || now - tw->chal_start >= 1000000000ULL) {
            tw->chal_start = now ? now : 1;
            tw->chal_count = 0;
        }
        if (tw->chal_count >= st->tcp->cfg.challenge_ack_limit) {
            return;
        }
        tw->chal_count++;
        st->c.tcp_challenge_acks++;
    }
    tcp_pcb scratch;
    memset(&scratch, 0, sizeof scratch);
    scratch.laddr = tw->laddr;
    scratch.raddr = tw->raddr;
    scratch.lport = tw->lport;
    scratch.rport = tw->rport;
    scratch.kind = TCP_SOCKET;
    scratch.state = TERN_TCP_TIME_WAIT;
    scratch.flags = (tw->flags & TCP_TW_TS) ? TCPF_TS_OK : 0;
    scratch.snd_nxt = scratch.snd_una = tw->snd_nxt;
    scratch.rcv_nxt = tw->rcv_nxt;
    scratch.rcv_adv = tw->rcv_nxt + tw->rcv_wnd;
    scratch.rcv_wscale = tw->rcv_wscale;
    /* tcp_rcv_window: the announced window stays what it was */
    scratch.rx_cap = tw->rcv_wnd;
    scratch.rcv_mss = 1;
    scratch.ts_recent = tw->ts_recent;
    scratch.ts_offset = tw->ts_offset;
    scratch.ttl = tw->ttl;
    scratch.pmtu = 1500;
    tcp_send_segment(st, &scratch, now, tw->snd_nxt, 0, TERN_TCP_ACK);
}

static void tw_restart(tern_stack *st, tcp_tw *tw, uint64_t now) {
    tern_tcp_module *t = st->tcp;
    /* RFC 9293 §3.10.7.4 (TIME-WAIT, FIN): "restart the 2 MSL timeout" */
    list_unlink(t, tw);
    tw->expires = now + 2 * t->cfg.msl_ns;
    list_insert(t, tw, tw_index(st, tw));
}

static bool in_window(const tcp_tw *tw, uint32_t seq, uint32_t seglen) {
    uint32_t wnd = tw->rcv_wnd;
    if (seglen == 0) {
        return wnd == 0 ? seq == tw->rcv_nxt : seq_in(seq, tw->rcv_nxt, tw->rcv_nxt + wnd);
    }
    if (wnd == 0) {
        return false;
    }
    return seq_in(seq, tw->rcv_nxt, tw->rcv_nxt + wnd) ||
           seq_in(seq + seglen - 1, tw->rcv_nxt, tw->rcv_nxt + wnd);
}

bool tcp_tw_input(tern_stack *st, tcp_tw *tw, uint64_t now, const tern_ip_rx *ip,
                  const struct tern_tcp_repr *seg) {
    uint8_t f = seg->flags;
    bool ts = (tw->flags & TCP_TW_TS) != 0;
    /* A new incarnation (RFC 6191 §2, RFC 9293 §3.10.7.4 MAY-2), only when a
     * listener would take it. */
    if ((f & TERN_TCP_SYN) && !(f & (TERN_TCP_ACK | TERN_TCP_RST))) {
        tcp_pcb *l = tcp_lookup_listener(st, &ip->dst, seg->dst_port);
        bool ts_new = l && (l->flags & TCPF_WANT_TS) && seg->opt.has_timestamps;
        if (l && tcp_tw_syn_acceptable(tw->rcv_nxt, ts, tw->ts_recent, ts_new, seg)) {
            st->tcp->tw_reopen = true;
            st->tcp->tw_reopen_snd_nxt = tw->snd_nxt;
            tw_remove(st, tw);
            st->c.tcp_timewait_reused++;
            return true;
        }
    }
    uint32_t dlen = (uint32_t)seg->payload_len;
    uint32_t seglen = dlen + ((f & TERN_TCP_SYN) ? 1 : 0) + ((f & TERN_TCP_FIN) ? 1 : 0);
    /* RFC 7323 §5.3 (PAWS) */
    if (ts && !(f & TERN_TCP_RST)) {
        if (!seg->opt.has_timestamps) {
            return false;
        }
        if (seq_lt(seg->opt.ts_val, tw->ts_recent) &&
            now - tw->ts_recent_time <= TCP_PAWS_IDLE_NS) {
            tw_send_ack(st, tw, now, false);
            return false;
        }
    }
    if (!in_window(tw, seg->seq, seglen)) {
        /* RFC 9293 §3.10.7.4 first check: an ACK unless RST; a FIN restarts 2 MSL */
        if (f & TERN_TCP_RST) {
            return false;
        }
        if (f & TERN_TCP_SYN) {
            tw_send_ack(st, tw, now, true); /* RFC 5961 §4.2 */
            return false;
        }
        if (f & TERN_TCP_FIN) {
            tw_restart(st, tw, now);
        }
        tw_send_ack(st, tw, now, false);
        return false;
    }
    if (ts && seg->opt.has_timestamps && seq_geq(seg->opt.ts_val, tw->ts_recent) &&
        seq_leq(seg->seq, tw->rcv_nxt)) {
        tw->ts_recent = seg->opt.ts_val; /* RFC 7323 §4.3 */
        tw->ts_recent_time = now;
    }
    if (f & TERN_TCP_RST) {
        /* RFC 5961 §3.2: only an exact RST closes; in-window ones are challenged */
        if (seg->seq == tw->rcv_nxt) {
            tw_remove(st, tw);
        } else {
            tw_send_ack(st, tw, now, true);
        }
        return false;
    }
    if (f & TERN_TCP_SYN) {
        tw_send_ack(st, tw, now, true); /* RFC 5961 §4.2 */
        return false;
    }
    if (!(f & TERN_TCP_ACK)) {
        return false;
    }
    if (f & TERN_TCP_FIN) {
        /* the peer's FIN again: our last ACK was lost */
        tw_restart(st, tw, now);
        tw_send_ack(st, tw, now, false);
    } else if (dlen > 0) {
        tw_send_ack(st, tw, now, false); /* text after the FIN: acknowledged, ignored */
    }
    return false;
}

void tcp_tw_poll(tern_stack *st, uint64_t now) {
    tern_tcp_module *t = st->tcp;
    while (t->tw_oldest != TW_NONE && t->tw[t->tw_oldest].expires <= now) {
        tw_remove(st, &t->tw[t->tw_oldest]);
    }
}

uint64_t tcp_tw_poll_at(const tern_stack *st) {
    const tern_tcp_module *t = st->tcp;
    return t->tw_oldest == TW_NONE ? TERN_NEVER : t->tw[t->tw_oldest].expires;
}

uint32_t tcp_tw_count(const tern_stack *st) {
    return st->tcp->tw_count;
}

/*
 * TCP sockets: memory layout, the control-block pool, handles, the output
 * list, a connection's life (states, close, TIME-WAIT, MSS and window
 * scale), and the user calls of RFC 9293 §3.9.1 (OPEN, SEND, RECEIVE,
 * CLOSE, ABORT) in their BSD shape. Elsewhere: the 4-tuple table
 * (tcp_lookup.c), the timer heap (tcp_heap.c), listen/accept and the
 * listener's queues (tcp_listen.c), options and status (tcp_sockopt.c).
 *
 * Handles: (generation << 20) | (index + 1). Closing a socket bumps its
 * generation, so an old handle fails with TERN_ERR_CLOSED rather than reaching
 * whatever reuses the slot (the 12-bit generation wraps after 4096 reuses).
 */
#include <string.h>

#include "tcp_cc.h"
#include "tcp_private.h"

/* ---- configuration and memory ---- */

/*
 * The default R2 for a SYN, as a count of retransmissions: the fewest whose
 * RTO ladder (RFC 6298 (5.5) doubling from the initial RTO, capped at the
 * maximum: the same tcp_rtt code the timer runs) puts the last
 * retransmission at least TCP_SYN_R2_MIN_NS after the first SYN (RFC 9293
 * §3.8.3 MUST-23). With the defaults (1 s, 60 s): 8, SYNs at 0, 1, 3, 7, 15,
 * 31, 63, 123 and 183 s, and the connect fails at 243 s.
 */
static uint32_t syn_retries_for_must23(const tern_tcp_config *c) {
    tcp_rtt r;
    tcp_rtt_init(&r, c->rto_initial_ns, c->rto_min_ns, c->rto_max_ns);
    uint64_t span = 0;
    uint32_t n = 0;
    while (span < TCP_SYN_R2_MIN_NS && n < 255) {
        span = r.rto > UINT64_MAX - span ? UINT64_MAX : span + r.rto;
        n++;
        tcp_rtt_backoff(&r);
    }
    return n;
}

static void fill_defaults(tern_tcp_config *c) {
    if (!c->rx_buffer)
        c->rx_buffer = 65536;
    if (!c->tx_buffer)
        c->tx_buffer = 65536;
    if (!c->lend_extents)
        c->lend_extents = 8;
    if (!c->backlog_max)
        c->backlog_max = 128;
    if (!c->ooo_max_holes)
        c->ooo_max_holes = 32;
    if (!c->rto_min_ns)
        c->rto_min_ns = 1000000000ULL;
    if (!c->rto_max_ns)
        c->rto_max_ns = 60000000000ULL;
    if (!c->rto_initial_ns)
        c->rto_initial_ns = 1000000000ULL;
    if (!c->delack_ns)
        c->delack_ns = 200000000ULL;
    if (!c->msl_ns)
        c->msl_ns = 120000000000ULL; /* RFC 9293 §3.4.2 / §4 "MSL ... 2 minutes" */
    if (!c->fin_wait2_timeout_ns)
        c->fin_wait2_timeout_ns = 60000000000ULL; /* Linux's tcp_fin_timeout */
    if (!c->syn_retries)
        c->syn_retries = syn_retries_for_must23(c); /* after the RTO fields */
    if (!c->data_retries)
        c->data_retries = 15;
    if (!c->initial_window)
        c->initial_window = 10;
    if (!c->keepalive_idle_ns)
        c->keepalive_idle_ns = 7200000000000ULL;
    if (!c->keepalive_interval_ns)
        c->keepalive_interval_ns = 75000000000ULL;
    if (!c->keepalive_count)
        c->keepalive_count = 9;
    if (!c->challenge_ack_limit)
        c->challenge_ack_limit = 10;
    if (!c->invalid_ack_interval_ns)
        c->invalid_ack_interval_ns = 500000000ULL;
}

static size_t align16(size_t n) {
    return (n + 15) & ~(size_t)15;
}

static size_t align64(size_t n) {
    return (n + 63) & ~(size_t)63;
}

static uint32_t hash_size(uint32_t n) {
    uint32_t h = 16;
    while (h < n) {
        h <<= 1;
    }
    return h;
}

static uint32_t nsockets(const tern_stack_config *cfg) {
    uint32_t n = cfg->tcp_sockets ? cfg->tcp_sockets : 16;
    return n > TCP_MAX_SOCKETS ? TCP_MAX_SOCKETS : n;
}

/* Delivery-rate logs in the pool (tern_tcp_config.bbr_sockets). */
static uint32_t nratelogs(const tern_stack_config *cfg) {
    uint32_t n = nsockets(cfg), v = cfg->tcp.bbr_sockets;
    if (v == TERN_POOL_NONE) {
        return 0;
    }
    if (v == 0) {
        v = cfg->tcp.congestion == TERN_TCP_CC_BBR ? n : 4;
    }
    return v < n ? v : n;
}

/* Lent-extent entries per socket (tern_tcp_config.lend_extents, defaults filled in). */
static uint32_t nlend(const tern_tcp_config *c) {
    return c->lend_extents == TERN_POOL_NONE ? 0 : c->lend_extents;
}

static uint32_t ntimewait(const tern_stack_config *cfg) {
    if (cfg->tcp_timewait) {
        return cfg->tcp_timewait > TCP_MAX_SOCKETS ? TCP_MAX_SOCKETS : cfg->tcp_timewait;
    }
    uint32_t n = 4 * nsockets(cfg);
    return n < 64 ? 64 : n > TCP_MAX_SOCKETS ? TCP_MAX_SOCKETS : n;
}

size_t tern_tcp_memory_size(const tern_stack_config *cfg) {
    tern_tcp_config c = cfg->tcp;
    fill_defaults(&c);
    size_t n = nsockets(cfg);
    size_t sz = align64(sizeof(struct tern_tcp_module)); /* the control blocks start a line */
    sz += align16(n * sizeof(tcp_pcb));
    sz += align16(n * (c.ooo_max_holes + tcp_sack_cap(c.tx_buffer)) * sizeof(tcp_range));
    sz += align16(n * tcp_rack_log_cap(c.tx_buffer) * sizeof(tcp_xmit));
    sz += align16(nratelogs(cfg) * tcp_rack_log_cap(c.tx_buffer) * sizeof(tcp_rate_rec));
    sz += align16(n * sizeof(uint32_t));                      /* heap */
    sz += align16(hash_size((uint32_t)n) * sizeof(uint32_t)); /* buckets */
    sz += align16(tcp_ports_memory_size((uint32_t)n));
    sz += align16(n * ((size_t)c.rx_buffer + c.tx_buffer));
    sz += align16(n * (size_t)nlend(&c) * sizeof(tcp_lent));
    sz += tcp_tw_memory_size(ntimewait(cfg));
    return sz;
}

void tern_tcp_init(tern_stack *st, uint8_t *mem) {
    tern_tcp_config c = st->cfg.tcp;
    fill_defaults(&c);
    uint32_t n = nsockets(&st->cfg);
    size_t off = 0;
    tern_tcp_module *t = (tern_tcp_module *)(void *)mem;
    off += align64(sizeof *t); /* the control blocks start a line (tcp_private.h) */
    memset(t, 0, sizeof *t);
    t->cfg = c;
    t->nsock = n;
    t->ooo_cap = c.ooo_max_holes;
    t->rx_cap = c.rx_buffer;
    t->tx_cap = c.tx_buffer;
    t->pcb = (tcp_pcb *)(void *)(mem + off);
    off += align16(n * sizeof(tcp_pcb));
    t->aux = (tcp_range *)(void *)(mem + off);
    t->sack_cap = tcp_sack_cap(c.tx_buffer);
    t->rack_cap = tcp_rack_log_cap(c.tx_buffer);
    off += align16((size_t)n * (c.ooo_max_holes + t->sack_cap) * sizeof(tcp_range));
    t->xlog = (tcp_xmit *)(void *)(mem + off);
    off += align16((size_t)n * t->rack_cap * sizeof(tcp_xmit));
    t->rlog = (tcp_rate_rec *)(void *)(mem + off);
    t->rlog_n = nratelogs(&st->cfg);
    off += align16((size_t)t->rlog_n * t->rack_cap * sizeof(tcp_rate_rec));
    for (uint32_t i = 0; i < t->rlog_n; i++) {
        t->rlog[(size_t)i * t->rack_cap].seq = i + 1 < t->rlog_n ? i + 1 : TCP_NONE;
    }
    t->rlog_free = t->rlog_n ? 0 : TCP_NONE;
    t->heap = (uint32_t *)(void *)(mem + off);
    off += align16(n * sizeof(uint32_t));
    uint32_t hs = hash_size(n);
    t->hash = (uint32_t *)(void *)(mem + off);
    off += align16(hs * sizeof(uint32_t));
    t->hash_mask = hs - 1;
    tcp_ports_init(&t->ports, mem + off, n);
    off += align16(tcp_ports_memory_size(n));
    t->buffers = mem + off;
    off += align16((size_t)n * ((size_t)c.rx_buffer + c.tx_buffer));
    t->lend = (tcp_lent *)(void *)(mem + off);
    t->lend_cap = nlend(&c);
    off += align16((size_t)n * t->lend_cap * sizeof(tcp_lent));
    memset(t->pcb, 0, n * sizeof(tcp_pcb));
    memset(t->hash, 0xff, hs * sizeof(uint32_t));
    for (uint32_t i = 0; i < n; i++) {
        t->pcb[i].hash_next = i + 1 < n ? i + 1 : TCP_NONE;
        t->pcb[i].heap_pos = TCP_NONE;
        t->pcb[i].dirty_next = TCP_NONE;
    }
    t->free_head = n ? 0 : TCP_NONE;
    t->dirty_head = t->dirty_tail = TCP_NONE;
    t->listeners = TCP_NONE;
    t->heap_len = 0;
    st->tcp = t;
    tcp_tw_init(st, mem + off, ntimewait(&st->cfg));
}

bool tern_tcp_port_in_use(const tern_stack *st, uint16_t port) {
    return tcp_ports_owners(&st->tcp->ports, port) != 0;
}

/* ---- the pool ---- */

void tcp_pcb_defaults(tern_stack *st, tcp_pcb *p) {
    const tern_tcp_config *c = &st->tcp->cfg;
    p->rx_cap = st->tcp->rx_cap;
    p->tx_cap = st->tcp->tx_cap;
    p->syn_retries = (uint8_t)(c->syn_retries > 255 ? 255 : c->syn_retries);
    p->data_retries = (uint8_t)(c->data_retries > 255 ? 255 : c->data_retries);
    p->keep_cnt = (uint8_t)(c->keepalive_count > 255 ? 255 : c->keepalive_count);
    p->iw = (uint8_t)(c->initial_window > 255 ? 255 : c->initial_window);
    p->delack_ns = c->delack_ns;
    p->keep_idle_ns = c->keepalive_idle_ns;
    p->keep_intvl_ns = c->keepalive_interval_ns;
    p->user_timeout_ns = 0;
    tcp_rtt_init(&p->rtt, c->rto_initial_ns, c->rto_min_ns, c->rto_max_ns);
    if (c->sack)
        p->flags |= TCPF_WANT_SACK;
    if (c->timestamps)
        p->flags |= TCPF_WANT_TS;
    if (c->window_scaling)
        p->flags |= TCPF_WANT_WS;
    if (c->tail_loss_probe)
        p->flags |= TCPF_TLP;
    p->dsack_on = c->dsack ? 1 : 0; /* RFC 2883 */
    p->rack_on = c->rack ? 1 : 0;   /* RFC 8985 */
    p->abc_l2 = c->abc_l2 ? 1 : 0;  /* RFC 3465 §2.3 */
    p->cc_id = c->congestion;       /* tern_tcp_cc, checked by tern_stack_create */
}

bool tcp_rate_log_attach(tern_stack *st, tcp_pcb *p) {
    tern_tcp_module *t = st->tcp;
    if (p->cc_id != TERN_TCP_CC_BBR) {
        if (p->rlog) { /* back to the pool's head */
            t->rlog[(size_t)(p->rlog - 1) * t->rack_cap].seq = t->rlog_free;
            t->rlog_free = p->rlog - 1;
            p->rlog = 0;
        }
        return true;
    }
    if (p->rlog) {
        return true;
    }
    if (t->rlog_free == TCP_NONE) {
        return false;
    }
    uint32_t i = t->rlog_free;
    t->rlog_free = t->rlog[(size_t)i * t->rack_cap].seq;
    p->rlog = i + 1;
    return true;
}

tcp_pcb *tcp_pcb_alloc(tern_stack *st) {
    tern_tcp_module *t = st->tcp;
    if (t->free_head == TCP_NONE) {
        return NULL;
    }
    tcp_pcb *p = &t->pcb[t->free_head];
    t->free_head = p->hash_next;
    uint16_t gen = p->gen;
    uint32_t dirty = p->flags & TCPF_DIRTY; /* may still sit on the output list */
    uint32_t dnext = p->dirty_next;
    memset(p, 0, sizeof *p);
    p->gen = gen;
    p->flags = dirty;
    p->dirty_next = dnext;
    p->kind = TCP_SOCKET;
    p->state = TERN_TCP_CLOSED;
    p->hash_next = TCP_NONE;
    p->heap_pos = TCP_NONE;
    p->parent = TCP_NONE;
    p->q_next = TCP_NONE;
    p->acceptq_head = p->acceptq_tail = TCP_NONE;
    p->t_rexmt = p->t_delack = p->t_keep = p->t_user = p->t_tlp = p->t_rack = p->deadline =
        TERN_NEVER;
    tcp_pcb_defaults(st, p);
    if (!tcp_rate_log_attach(st, p)) { /* congestion BBR, and every delivery-rate log held */
        tcp_pcb_free(st, p);
        return NULL;
    }
    return p;
}

void tcp_pcb_free(tern_stack *st, tcp_pcb *p) {
    tern_tcp_module *t = st->tcp;
    if (p->kind != TCP_SOCKET) {
        return;
    }
    if (p->flags & TCPF_HASHED) {
        tcp_hash_remove(st, p);
    }
    tcp_heap_remove(st, p);
    if (p->flags & TCPF_BOUND) {
        tcp_ports_disown(&t->ports, p->lport);
    }
    p->cc_id = TERN_TCP_CC_NEWRENO;
    tcp_rate_log_attach(st, p); /* gives its delivery-rate log back */
    p->kind = TCP_FREE;
    p->flags &= TCPF_DIRTY;
    p->gen = (uint16_t)((p->gen + 1) & 0xfff);
    p->hash_next = t->free_head;
    t->free_head = tcp_index(st, p);
}

/* ---- output list ---- */

void tcp_mark_dirty(tern_stack *st, tcp_pcb *p) {
    tern_tcp_module *t = st->tcp;
    if (p->flags & TCPF_DIRTY) {
        return;
    }
    p->flags |= TCPF_DIRTY;
    uint32_t idx = tcp_index(st, p);
    p->dirty_next = TCP_NONE;
    if (t->dirty_tail == TCP_NONE) {
        t->dirty_head = idx;
    } else {
        t->pcb[t->dirty_tail].dirty_next = idx;
    }
    t->dirty_tail = idx;
}

/* ---- connection life ---- */

void tcp_set_state(tern_stack *st, tcp_pcb *p, uint8_t state) {
    (void)st;
    p->state = state;
}

void tcp_close_conn(tern_stack *st, tcp_pcb *p, tern_err err) {
    if (p->err == TERN_OK) {
        p->err = (int8_t)err;
    }
    tcp_detach_child(st, p);
    if (p->flags & TCPF_HASHED) {
        tcp_hash_remove(st, p);
    }
    if (p->flags & TCPF_BOUND) {
        tcp_ports_disown(&st->tcp->ports, p->lport);
        p->flags &= ~(uint32_t)TCPF_BOUND;
    }
    p->t_rexmt = p->t_delack = p->t_keep = p->t_user = p->t_tlp = p->t_rack = TERN_NEVER;
    p->flags &= ~(uint32_t)(TCPF_ACK_NOW | TCPF_PERSIST);
    tcp_sendq_release_lent(p); /* nothing sends them any more: the application has them back */
    tcp_set_state(st, p, TERN_TCP_CLOSED);
    if (!(p->flags & TCPF_HANDLE)) {
        tcp_pcb_free(st, p);
    } else {
        tcp_timers_update(st, p);
    }
}

void tcp_enter_time_wait(tern_stack *st, tcp_pcb *p, uint64_t now) {
    tcp_set_state(st, p, TERN_TCP_TIME_WAIT);
    /* RFC 9293 §3.10.7.4: the 2 MSL timer; nothing else runs in TIME-WAIT. */
    p->t_rexmt = p->t_user = p->t_tlp = p->t_rack = TERN_NEVER;
    p->flags &= ~(uint32_t)TCPF_PERSIST;
    p->t_keep = now + 2 * st->tcp->cfg.msl_ns;
}

static uint8_t wscale_for(uint32_t cap) {
    /* RFC 7323 §2.2: the smallest shift that lets the window cover the buffer. */
    uint8_t s = 0;
    while (s < TCP_MAX_WSCALE && ((uint64_t)65535 << s) < cap) {
        s++;
    }
    return s;
}

void tcp_setup_local_options(tern_stack *st, tcp_pcb *p, uint32_t mtu) {
    (void)st;
    if (mtu < 68 || mtu > TERN_MAX_MTU) {
        mtu = 1500;
    }
    p->pmtu = (uint16_t)mtu;
    /* RFC 9293 §3.7.1 / RFC 6691: MSS = MTU - the fixed IP and TCP headers without options:
     * 40 over IPv4, 60 over IPv6 (RFC 8200 §8.3: "an upper-layer protocol must take into
     * account the larger size of the IPv6 header relative to the IPv4 header"). */
    uint32_t hdrs = tcp_hdrs(p);
    uint32_t mss = mtu > hdrs + TCP_MIN_MSS ? mtu - hdrs : TCP_MIN_MSS;
    if (p->mss_clamp && p->mss_clamp < mss) {
        mss = p->mss_clamp < TCP_MIN_MSS ? TCP_MIN_MSS : p->mss_clamp;
    }
    p->rcv_mss = (uint16_t)mss;
    p->rcv_wscale = (p->flags & TCPF_WANT_WS) ? wscale_for(p->rx_cap) : 0;
    p->peer_mss = tcp_default_mss(p);
    p->snd_mss = p->peer_mss;
}

void tcp_update_snd_mss(tcp_pcb *p) {
    /* RFC 9293 §3.7.1: the effective send MSS is the smaller of the peer's MSS
     * and what the path MTU allows, minus the options we put on every segment
     * (RFC 6691); never below TCP_MIN_MSS so no segment is empty. */
    uint32_t peer = p->peer_mss;
    if (peer < TCP_MIN_MSS) {
        peer = TCP_MIN_MSS;
    }
    uint32_t hdrs = tcp_hdrs(p);
    uint32_t path = p->pmtu > hdrs ? p->pmtu - hdrs : TCP_MIN_MSS;
    uint32_t mss = peer < path ? peer : path;
    if (p->flags & TCPF_TS_OK) {
        mss = mss > 12 + TCP_MIN_MSS ? mss - 12 : TCP_MIN_MSS;
    }
    if (mss < TCP_MIN_MSS) {
        mss = TCP_MIN_MSS;
    }
    p->snd_mss = (uint16_t)mss;
}

/* ---- handles ---- */

tern_sock tcp_handle_make(const tern_stack *st, const tcp_pcb *p) {
    return ((tern_sock)p->gen << TCP_HANDLE_INDEX_BITS) | (tcp_index(st, p) + 1);
}

tern_err tcp_handle_get(const tern_stack *st, tern_sock s, tcp_pcb **out) {
    const tern_tcp_module *t = st->tcp;
    uint32_t idx = (s & TCP_HANDLE_INDEX_MASK);
    if (idx == 0 || idx > t->nsock) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    tcp_pcb *p = &t->pcb[idx - 1];
    if (p->kind != TCP_SOCKET || !(p->flags & TCPF_HANDLE) ||
        p->gen != (uint16_t)(s >> TCP_HANDLE_INDEX_BITS)) {
        return TERN_ERR_CLOSED;
    }
    *out = p;
    return TERN_OK;
}

/* The handle no longer refers to p (close/abort): its generation moves on. */
static void orphan(tcp_pcb *p) {
    p->flags &= ~(uint32_t)TCPF_HANDLE;
    /* The handle that could take a posted buffer back is gone: the stack forgets it and never
     * writes it again (the bytes in it were read on arrival). */
    p->post_buf = NULL;
    p->post_cap = p->post_len = 0;
    p->gen = (uint16_t)((p->gen + 1) & 0xfff);
}

/* ---- user calls ---- */

tern_err tern_tcp_open(tern_stack *st, tern_sock *out) {
    tcp_pcb *p = tcp_pcb_alloc(st);
    if (!p && st->tcp->free_head != TCP_NONE) {
        return tern_fail(st, TERN_ERR_NO_BUFFER,
                         "tcp_open: congestion is BBR and all %u delivery-rate logs are held "
                         "(tcp.bbr_sockets)",
                         st->tcp->rlog_n);
    }
    if (!p) {
        return tern_fail(st, TERN_ERR_NO_BUFFER, "tcp_open: all %u TCP sockets are in use",
                         st->tcp->nsock);
    }
    p->flags |= TCPF_HANDLE;
    *out = tcp_handle_make(st, p);
    return TERN_OK;
}

static bool port_free_for_bind(const tern_stack *st, uint16_t port) {
    return tcp_ports_owners(&st->tcp->ports, port) == 0;
}

static void own_port(tern_stack *st, tcp_pcb *p, uint16_t port) {
    p->lport = port;
    p->flags |= TCPF_BOUND;
    tcp_ports_own(&st->tcp->ports, port);
}

tern_err tern_tcp_bind(tern_stack *st, tern_sock s, const tern_addr *addr, uint16_t port) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    if (p->state != TERN_TCP_CLOSED || (p->flags & TCPF_BOUND) || p->err) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "tcp_bind: socket already bound or used");
    }
    tern_addr a = addr ? tern_addr_unmap(addr) : (tern_addr){0};
    if (!tern_addr_is_unspecified(&a) && !tern_is_local_addr(st, &a, NULL)) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "tcp_bind: addr is not a local address");
    }
    if (port == 0) {
        uint32_t lo = st->cfg.ephemeral_low ? st->cfg.ephemeral_low : 49152;
        uint32_t hi = st->cfg.ephemeral_high ? st->cfg.ephemeral_high : 65535;
        if (hi < lo) {
            hi = lo;
        }
        uint32_t range = hi - lo + 1;
        uint32_t start = (uint32_t)tern_rng_below(&st->rng, range);
        for (uint32_t i = 0; i < range && !port; i++) {
            uint16_t cand = (uint16_t)(lo + (start + i) % range);
            if (port_free_for_bind(st, cand)) {
                port = cand;
            }
        }
        if (!port) {
            return tern_fail(st, TERN_ERR_ADDR_IN_USE, "tcp_bind: no free ephemeral port");
        }
    } else if (!port_free_for_bind(st, port)) {
        return tern_fail(st, TERN_ERR_ADDR_IN_USE, "tcp_bind: port %u is in use", port);
    }
    p->laddr = a;
    own_port(st, p, port);
    return TERN_OK;
}

tern_err tern_tcp_connect(tern_stack *st, tern_sock s, const tern_addr *dst, uint16_t port) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    if (p->state == TERN_TCP_LISTEN) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "tcp_connect: socket is listening");
    }
    if (p->state != TERN_TCP_CLOSED || p->err) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "tcp_connect: socket already connected");
    }
    tern_addr d = dst ? tern_addr_unmap(dst) : (tern_addr){0};
    dst = &d;
    if ((!tern_addr_is_v4(dst) && !tern_addr_is_v6(dst)) || tern_addr_is_unspecified(dst) ||
        tern_addr_is_multicast(dst) || tern_addr_is_limited_broadcast(dst) || port == 0) {
        return tern_fail(
            st, TERN_ERR_INVALID_ARGUMENT,
            "tcp_connect: dst must be a unicast IPv4 or IPv6 address and port non-zero");
    }
    if (!tern_addr_is_unspecified(&p->laddr) && p->laddr.family != dst->family) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "tcp_connect: the socket is bound to an address of the other family");
    }
    if (tern_addr_is_unspecified(&p->laddr)) {
        p->laddr = (tern_addr){0}; /* the route chooses the source, of dst's family */
    }
    tern_route_result rr;
    e = tern_route_lookup(st, dst, &p->laddr, &rr);
    if (e) {
        return tern_fail(st, TERN_ERR_NO_ROUTE, "tcp_connect: no route to the destination");
    }
    if (rr.broadcast) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "tcp_connect: dst is a broadcast address");
    }
    p->laddr = rr.src;
    p->raddr = *dst;
    p->rport = port;
    if (!(p->flags & TCPF_BOUND)) {
        /* An ephemeral port (randomised start, RFC 6056 §3.3.1 style): among
         * the next 1024, the first nobody owns; failing that, the first whose
         * 4-tuple is unused (ports are shared between destinations). */
        uint32_t lo = st->cfg.ephemeral_low ? st->cfg.ephemeral_low : 49152;
        uint32_t hi = st->cfg.ephemeral_high ? st->cfg.ephemeral_high : 65535;
        if (hi < lo) {
            hi = lo;
        }
        uint32_t range = hi - lo + 1;
        uint32_t start = (uint32_t)tern_rng_below(&st->rng, range);
        uint16_t chosen = 0;
        for (uint32_t i = 0; i < range && i < 1024 && !chosen; i++) {
            uint16_t cand = (uint16_t)(lo + (start + i) % range);
            if (tcp_ports_owners(&st->tcp->ports, cand) == 0 &&
                !tcp_tw_lookup(st, &p->laddr, cand, dst, port)) {
                chosen = cand;
            }
        }
        for (uint32_t i = 0; i < range && !chosen; i++) {
            uint16_t cand = (uint16_t)(lo + (start + i) % range);
            if (!tcp_lookup(st, &p->laddr, cand, dst, port) &&
                !tcp_tw_lookup(st, &p->laddr, cand, dst, port) &&
                !tcp_lookup_listener(st, &p->laddr, cand)) {
                chosen = cand;
            }
        }
        if (!chosen) {
            return tern_fail(st, TERN_ERR_ADDR_IN_USE, "tcp_connect: no free ephemeral port");
        }
        own_port(st, p, chosen);
    } else if (tcp_lookup(st, &p->laddr, p->lport, dst, port) ||
               tcp_tw_lookup(st, &p->laddr, p->lport, dst, port)) {
        return tern_fail(st, TERN_ERR_ADDR_IN_USE, "tcp_connect: 4-tuple already in use");
    }
    tcp_setup_local_options(st, p, rr.mtu);
    tcp_update_snd_mss(p);
    /* Nothing is sent yet: the next poll chooses the ISN (RFC 6528 needs the
     * time) and sends the SYN. */
    p->flags |= TCPF_NEED_ISS;
    p->ts_offset = (uint32_t)tern_rng_next(&st->rng);
    tcp_set_state(st, p, TERN_TCP_SYN_SENT);
    tcp_hash_insert(st, p);
    tcp_mark_dirty(st, p);
    return TERN_OK;
}

tern_err tern_tcp_send(tern_stack *st, tern_sock s, const uint8_t *data, size_t len, size_t *sent) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (sent) {
        *sent = 0;
    }
    if (e) {
        return e;
    }
    uint32_t n;
    e = tcp_send_room(st, p, "tcp_send", len, &n);
    if (e || n == 0) {
        return e;
    }
    tcp_sendq_append(st, p, data, n);
    if (sent) {
        *sent = n;
    }
    tcp_mark_dirty(st, p);
    return TERN_OK;
}

/* What a read may return now (tern_tcp_recv, tern_tcp_recv_peek): TERN_OK with *n the bytes
 * readable in one read (0: end of stream), or the error a read returns. */
tern_err tcp_readable_now(const tcp_pcb *p, uint32_t *n) {
    *n = 0;
    if (p->state == TERN_TCP_LISTEN) {
        return TERN_ERR_NOT_CONNECTED;
    }
    if (p->rx_len == 0) {
        if (p->flags & (TCPF_FIN_RCVD | TCPF_RCV_SHUT)) {
            return TERN_OK; /* end of stream */
        }
        if (p->state == TERN_TCP_CLOSED) {
            return p->err ? (tern_err)p->err : TERN_ERR_NOT_CONNECTED;
        }
        return TERN_ERR_WOULD_BLOCK;
    }
    /* urgent and non-urgent octets never share one read (RFC 9293 §3.9.1.3) */
    *n = tcp_urg_read_limit(p, p->rx_len);
    return TERN_OK;
}

/* The application took the first n readable bytes: free them, and open the window. */
void tcp_rx_consumed(tern_stack *st, tcp_pcb *p, uint32_t n) {
    p->rx_head = (p->rx_head + n) % p->rx_cap;
    p->rx_len -= n;
    if (p->rx_len == 0 && p->ooo_n == 0) {
        /* Read empty, nothing held beyond a hole (held bytes lie at rx_head + their offset): the
         * next segment goes to the ring's first byte. An application that reads as data comes
         * then keeps reusing the same few lines of the ring instead of walking all of it; with
         * thousands of hosts every line walked to is a cache miss (issue 19). */
        p->rx_head = 0;
    }
    tcp_urg_consumed(p); /* the end of the urgent data read: "normal mode" */
    /* RFC 9293 §3.8.6.2.2 (receiver SWS avoidance): announce the opened window
     * once it grew by min(buffer / 2, MSS). */
    if (tcp_synchronized(p) && !(p->flags & TCPF_FIN_RCVD)) {
        uint32_t cur = seq_gt(p->rcv_adv, p->rcv_nxt) ? p->rcv_adv - p->rcv_nxt : 0;
        uint32_t room = p->rx_cap - p->rx_len;
        uint32_t step = p->rx_cap / 2 < p->rcv_mss ? p->rx_cap / 2 : p->rcv_mss;
        if (room >= cur + step) {
            p->flags |= TCPF_ACK_NOW;
            tcp_mark_dirty(st, p);
        }
    }
}

tern_err tern_tcp_recv(tern_stack *st, tern_sock s, uint8_t *buf, size_t cap, size_t *got) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (got) {
        *got = 0;
    }
    if (e) {
        return e;
    }
    if (p->post_buf) {
        return tcp_post_refuses(st, "tcp_recv");
    }
    uint32_t n;
    e = tcp_readable_now(p, &n);
    if (e || n == 0) {
        return e;
    }
    if (cap < n) {
        n = (uint32_t)cap;
    }
    const uint8_t *base = tcp_rx_base(st, p);
    uint32_t first = p->rx_cap - p->rx_head < n ? p->rx_cap - p->rx_head : n;
    if (buf) {
        memcpy(buf, base + p->rx_head, first);
        if (n > first) {
            memcpy(buf + first, base, n - first);
        }
    }
    tcp_rx_consumed(st, p, n);
    if (got) {
        *got = n;
    }
    return TERN_OK;
}

tern_err tern_tcp_recv_peek(tern_stack *st, tern_sock s, tern_tcp_span span[2], size_t *avail) {
    tcp_pcb *p;
    if (avail) {
        *avail = 0;
    }
    if (!span) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "tcp_recv_peek: span is NULL");
    }
    span[0] = span[1] = (tern_tcp_span){NULL, 0};
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    if (p->post_buf) {
        return tcp_post_refuses(st, "tcp_recv_peek");
    }
    uint32_t n;
    e = tcp_readable_now(p, &n);
    if (e || n == 0) {
        return e;
    }
    const uint8_t *base = tcp_rx_base(st, p);
    uint32_t first = p->rx_cap - p->rx_head < n ? p->rx_cap - p->rx_head : n;
    span[0] = (tern_tcp_span){base + p->rx_head, first};
    if (n > first) {
        span[1] = (tern_tcp_span){base, n - first}; /* the bytes wrap to the ring's start */
    }
    if (avail) {
        *avail = n;
    }
    return TERN_OK;
}

tern_err tern_tcp_recv_consume(tern_stack *st, tern_sock s, size_t n) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    if (p->state == TERN_TCP_LISTEN) {
        return TERN_ERR_NOT_CONNECTED;
    }
    if (p->post_buf) {
        return tcp_post_refuses(st, "tcp_recv_consume");
    }
    uint32_t have = 0;
    if (tcp_readable_now(p, &have) != TERN_OK) {
        have = 0;
    }
    if (n > have) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "tcp_recv_consume: %zu bytes, but tern_tcp_recv_peek shows %u", n, have);
    }
    if (n > 0) {
        tcp_rx_consumed(st, p, (uint32_t)n);
    }
    return TERN_OK;
}

tern_err tern_tcp_shutdown(tern_stack *st, tern_sock s, int how) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    if (how < 0 || how > 2) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "tcp_shutdown: how must be 0, 1 or 2");
    }
    if (p->state == TERN_TCP_CLOSED || p->state == TERN_TCP_LISTEN) {
        return TERN_ERR_NOT_CONNECTED;
    }
    if (how != 1) {
        p->flags |= TCPF_RCV_SHUT;
        p->rx_head = (p->rx_head + p->rx_len) % p->rx_cap;
        p->rx_len = 0;
        tcp_urg_consumed(p);
    }
    if (how != 0 && !(p->flags & TCPF_FIN_QUEUED)) {
        /* RFC 9293 §3.10.4 CLOSE: the FIN follows the queued data. */
        p->flags |= TCPF_FIN_QUEUED;
        if (p->state == TERN_TCP_ESTABLISHED) {
            tcp_set_state(st, p, TERN_TCP_FIN_WAIT_1);
        } else if (p->state == TERN_TCP_CLOSE_WAIT) {
            tcp_set_state(st, p, TERN_TCP_LAST_ACK);
        }
        tcp_mark_dirty(st, p);
    }
    return TERN_OK;
}

tern_err tern_tcp_close(tern_stack *st, tern_sock s) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    switch (p->state) {
    case TERN_TCP_LISTEN:
        tcp_close_listener(st, p);
        orphan(p);
        tcp_close_conn(st, p, TERN_OK);
        return TERN_OK;
    case TERN_TCP_CLOSED:
    case TERN_TCP_SYN_SENT: /* RFC 9293 §3.10.4: delete the TCB */
        orphan(p);
        tcp_close_conn(st, p, TERN_OK);
        return TERN_OK;
    default:
        break;
    }
    if (p->rx_len > 0 && !(p->flags & TCPF_RCV_SHUT)) {
        /* RFC 1122 §4.2.2.13: closing with unread data sends RST (data lost). */
        return tern_tcp_abort(st, s);
    }
    if (p->tx_lent_len > 0) {
        /* An orphan would go on reading the application's lent buffers after the handle that
         * reports their completion is gone. */
        return tern_fail(st, TERN_ERR_BAD_STATE,
                         "tcp_close: %u lent bytes are not yet acknowledged; shut down sending and "
                         "wait for tern_tcp_lend_done, or abort",
                         p->tx_lent_len);
    }
    orphan(p);
    if (!(p->flags & TCPF_FIN_QUEUED)) {
        p->flags |= TCPF_FIN_QUEUED;
        if (p->state == TERN_TCP_ESTABLISHED || p->state == TERN_TCP_SYN_RECEIVED) {
            tcp_set_state(st, p, TERN_TCP_FIN_WAIT_1);
        } else if (p->state == TERN_TCP_CLOSE_WAIT) {
            tcp_set_state(st, p, TERN_TCP_LAST_ACK);
        }
    }
    p->flags |= TCPF_RCV_SHUT;
    if (p->state == TERN_TCP_FIN_WAIT_2) {
        /* an orphan does not wait for the peer's FIN forever: 2 MSL */
        p->t_keep = TERN_NEVER;
        tcp_timers_update(st, p);
    }
    tcp_mark_dirty(st, p);
    return TERN_OK;
}

tern_err tern_tcp_abort(tern_stack *st, tern_sock s) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    if (p->state == TERN_TCP_LISTEN) {
        return tern_tcp_close(st, s);
    }
    orphan(p);
    tcp_sendq_release_lent(p); /* no more data goes out: the lent buffers are the application's */
    /* RFC 9293 §3.10.5 ABORT: a RST in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2
     * and CLOSE-WAIT; none in the other states. */
    bool rst = p->state == TERN_TCP_SYN_RECEIVED || p->state == TERN_TCP_ESTABLISHED ||
               p->state == TERN_TCP_FIN_WAIT_1 || p->state == TERN_TCP_FIN_WAIT_2 ||
               p->state == TERN_TCP_CLOSE_WAIT;
    if (!rst) {
        tcp_close_conn(st, p, TERN_OK);
        return TERN_OK;
    }
    tcp_detach_child(st, p);
    if (p->flags & TCPF_HASHED) {
        tcp_hash_remove(st, p);
    }
    p->t_rexmt = p->t_delack = p->t_keep = p->t_user = p->t_tlp = p->t_rack = TERN_NEVER;
    tcp_timers_update(st, p);
    p->flags |= TCPF_SEND_RST;
    tcp_mark_dirty(st, p);
    return TERN_OK;
}

size_t tern_tcp_readable(const tern_stack *st, tern_sock s) {
    tcp_pcb *p;
    return tcp_handle_get(st, s, &p) ? 0 : p->rx_len;
}

size_t tern_tcp_writable(const tern_stack *st, tern_sock s) {
    tcp_pcb *p;
    if (tcp_handle_get(st, s, &p)) {
        return 0;
    }
    bool can = p->state == TERN_TCP_ESTABLISHED || p->state == TERN_TCP_CLOSE_WAIT ||
               p->state == TERN_TCP_SYN_SENT || p->state == TERN_TCP_SYN_RECEIVED;
    if (!can || (p->flags & TCPF_FIN_QUEUED)) {
        return 0;
    }
    return p->tx_cap - p->tx_len;
}

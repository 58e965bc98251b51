/*
 * TCP sockets: memory layout, the control-block pool, handles, the 4-tuple
 * table, the timer heap, and the user calls of RFC 9293 §3.9.1 (OPEN, SEND,
 * RECEIVE, CLOSE, ABORT, STATUS) in their BSD shape.
 *
 * Handles: (generation << 20) | (index + 1). Closing a socket bumps its
 * generation, so an old handle fails with TERN_ERR_CLOSED rather than reaching
 * whatever reuses the slot (the 12-bit generation wraps after 4096 reuses).
 *
 * Listen backlog (RFC 9293 §3.10.1 leaves the queue to the implementation):
 * a listener with backlog B keeps at most B half-open children (SYN queue,
 * SYN-RECEIVED) and at most B established children waiting for accept
 * (accept queue). When the SYN queue is full, or no control block is free, a
 * new SYN is dropped silently (the peer retransmits it). When the accept
 * queue is full, the handshake-completing ACK is dropped and the child stays
 * in SYN-RECEIVED (its SYN-ACK is retransmitted, so the peer's next ACK
 * completes it once there is room); this is Linux's default behaviour.
 */
#include <string.h>

#include "tcp_cc.h"
#include "tcp_private.h"

#define TCP_PORTS 65536u

/* ---- configuration and memory ---- */

static void fill_defaults(tern_tcp_config *c) {
    if (!c->rx_buffer)
        c->rx_buffer = 65536;
    if (!c->tx_buffer)
        c->tx_buffer = 65536;
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
        c->msl_ns = 30000000000ULL;
    if (!c->syn_retries)
        c->syn_retries = 6;
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
}

static size_t align16(size_t n) {
    return (n + 15) & ~(size_t)15;
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

size_t tern_tcp_memory_size(const tern_stack_config *cfg) {
    tern_tcp_config c = cfg->tcp;
    fill_defaults(&c);
    size_t n = nsockets(cfg);
    size_t sz = align16(sizeof(struct tern_tcp_module));
    sz += align16(n * sizeof(tcp_pcb));
    sz += align16(n * (c.ooo_max_holes + TCP_SACK_SCOREBOARD) * sizeof(tcp_range));
    sz += align16(n * sizeof(uint32_t));                      /* heap */
    sz += align16(hash_size((uint32_t)n) * sizeof(uint32_t)); /* buckets */
    sz += align16(TCP_PORTS * sizeof(uint32_t));
    sz += n * ((size_t)c.rx_buffer + c.tx_buffer);
    return sz;
}

void tern_tcp_init(tern_stack *st, uint8_t *mem) {
    tern_tcp_config c = st->cfg.tcp;
    fill_defaults(&c);
    uint32_t n = nsockets(&st->cfg);
    size_t off = 0;
    tern_tcp_module *t = (tern_tcp_module *)(void *)mem;
    off += align16(sizeof *t);
    memset(t, 0, sizeof *t);
    t->cfg = c;
    t->nsock = n;
    t->ooo_cap = c.ooo_max_holes;
    t->rx_cap = c.rx_buffer;
    t->tx_cap = c.tx_buffer;
    t->pcb = (tcp_pcb *)(void *)(mem + off);
    off += align16(n * sizeof(tcp_pcb));
    t->aux = (tcp_range *)(void *)(mem + off);
    off += align16((size_t)n * (c.ooo_max_holes + TCP_SACK_SCOREBOARD) * sizeof(tcp_range));
    t->heap = (uint32_t *)(void *)(mem + off);
    off += align16(n * sizeof(uint32_t));
    uint32_t hs = hash_size(n);
    t->hash = (uint32_t *)(void *)(mem + off);
    off += align16(hs * sizeof(uint32_t));
    t->hash_mask = hs - 1;
    t->port_owners = (uint32_t *)(void *)(mem + off);
    off += align16(TCP_PORTS * sizeof(uint32_t));
    t->buffers = mem + off;
    memset(t->pcb, 0, n * sizeof(tcp_pcb));
    memset(t->hash, 0xff, hs * sizeof(uint32_t));
    memset(t->port_owners, 0, TCP_PORTS * sizeof(uint32_t));
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
}

bool tern_tcp_port_in_use(const tern_stack *st, uint16_t port) {
    return st->tcp->port_owners[port] != 0;
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
    p->cc_id = TERN_TCP_CC_NEWRENO;
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
    p->t_rexmt = p->t_delack = p->t_keep = p->t_user = p->deadline = TERN_NEVER;
    tcp_pcb_defaults(st, p);
    return p;
}

static void heap_remove(tern_stack *st, tcp_pcb *p);

void tcp_pcb_free(tern_stack *st, tcp_pcb *p) {
    tern_tcp_module *t = st->tcp;
    if (p->kind != TCP_SOCKET) {
        return;
    }
    if (p->flags & TCPF_HASHED) {
        tcp_hash_remove(st, p);
    }
    heap_remove(st, p);
    if (p->flags & TCPF_BOUND) {
        t->port_owners[p->lport]--;
    }
    p->kind = TCP_FREE;
    p->flags &= TCPF_DIRTY;
    p->gen = (uint16_t)((p->gen + 1) & 0xfff);
    p->hash_next = t->free_head;
    t->free_head = tcp_index(st, p);
}

/* ---- 4-tuple table ---- */

static uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t tuple_hash(const tern_addr *la, uint16_t lp, const tern_addr *ra, uint16_t rp) {
    /* A multiply-xorshift mix of the tuple: deterministic (no per-run key is
     * needed: chains are bounded by the pool), and cheap on the hot path. */
    uint64_t h = ((uint64_t)lp << 16 | rp) * 0x9e3779b97f4a7c15ull;
    h ^= load64(la->bytes) * 0xc2b2ae3d27d4eb4full;
    h ^= load64(la->bytes + 8) * 0x165667b19e3779f9ull;
    h ^= load64(ra->bytes) * 0xd6e8feb86659fd93ull;
    h ^= load64(ra->bytes + 8) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return (uint32_t)(h ^ (h >> 32));
}

static bool addr_same(const tern_addr *a, const tern_addr *b) {
    return a->family == b->family && load64(a->bytes) == load64(b->bytes) &&
           load64(a->bytes + 8) == load64(b->bytes + 8);
}

void tcp_hash_insert(tern_stack *st, tcp_pcb *p) {
    tern_tcp_module *t = st->tcp;
    uint32_t b = tuple_hash(&p->laddr, p->lport, &p->raddr, p->rport) & t->hash_mask;
    p->hash_next = t->hash[b];
    t->hash[b] = tcp_index(st, p);
    p->flags |= TCPF_HASHED;
}

void tcp_hash_remove(tern_stack *st, tcp_pcb *p) {
    tern_tcp_module *t = st->tcp;
    uint32_t b = tuple_hash(&p->laddr, p->lport, &p->raddr, p->rport) & t->hash_mask;
    uint32_t idx = tcp_index(st, p);
    uint32_t *link = &t->hash[b];
    while (*link != TCP_NONE) {
        if (*link == idx) {
            *link = p->hash_next;
            break;
        }
        link = &t->pcb[*link].hash_next;
    }
    p->hash_next = TCP_NONE;
    p->flags &= ~(uint32_t)TCPF_HASHED;
}

tcp_pcb *tcp_lookup(tern_stack *st, const tern_addr *laddr, uint16_t lport, const tern_addr *raddr,
                    uint16_t rport) {
    tern_tcp_module *t = st->tcp;
    uint32_t i = t->hash[tuple_hash(laddr, lport, raddr, rport) & t->hash_mask];
    while (i != TCP_NONE) {
        tcp_pcb *p = &t->pcb[i];
        if (p->lport == lport && p->rport == rport && addr_same(&p->raddr, raddr) &&
            addr_same(&p->laddr, laddr)) {
            return p;
        }
        i = p->hash_next;
    }
    return NULL;
}

tcp_pcb *tcp_lookup_listener(tern_stack *st, const tern_addr *laddr, uint16_t lport) {
    tern_tcp_module *t = st->tcp;
    tcp_pcb *wild = NULL;
    for (uint32_t i = t->listeners; i != TCP_NONE; i = t->pcb[i].q_next) {
        tcp_pcb *p = &t->pcb[i];
        if (p->lport != lport) {
            continue;
        }
        if (tern_addr_eq(&p->laddr, laddr)) {
            return p;
        }
        if (tern_addr_is_unspecified(&p->laddr)) {
            wild = p;
        }
    }
    return wild;
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

/* ---- timer heap (min-heap on pcb.deadline, ties by index for determinism) ---- */

static bool heap_less(const tern_tcp_module *t, uint32_t a, uint32_t b) {
    const tcp_pcb *pa = &t->pcb[a], *pb = &t->pcb[b];
    return pa->deadline < pb->deadline || (pa->deadline == pb->deadline && a < b);
}

static void heap_set(tern_tcp_module *t, uint32_t pos, uint32_t idx) {
    t->heap[pos] = idx;
    t->pcb[idx].heap_pos = pos;
}

static void heap_up(tern_tcp_module *t, uint32_t pos) {
    uint32_t idx = t->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!heap_less(t, idx, t->heap[parent])) {
            break;
        }
        heap_set(t, pos, t->heap[parent]);
        pos = parent;
    }
    heap_set(t, pos, idx);
}

static void heap_down(tern_tcp_module *t, uint32_t pos) {
    uint32_t idx = t->heap[pos];
    for (;;) {
        uint32_t l = 2 * pos + 1, best = pos;
        uint32_t best_idx = idx;
        if (l < t->heap_len && heap_less(t, t->heap[l], best_idx)) {
            best = l;
            best_idx = t->heap[l];
        }
        if (l + 1 < t->heap_len && heap_less(t, t->heap[l + 1], best_idx)) {
            best = l + 1;
            best_idx = t->heap[l + 1];
        }
        if (best == pos) {
            break;
        }
        heap_set(t, pos, best_idx);
        pos = best;
    }
    heap_set(t, pos, idx);
}

static void heap_remove(tern_stack *st, tcp_pcb *p) {
    tern_tcp_module *t = st->tcp;
    uint32_t pos = p->heap_pos;
    if (pos == TCP_NONE) {
        return;
    }
    p->heap_pos = TCP_NONE;
    uint32_t last = t->heap[--t->heap_len];
    if (pos == t->heap_len) {
        return;
    }
    heap_set(t, pos, last);
    heap_up(t, pos);
    heap_down(t, t->pcb[last].heap_pos);
}

void tcp_timers_update(tern_stack *st, tcp_pcb *p) {
    tern_tcp_module *t = st->tcp;
    if (p->kind != TCP_SOCKET) {
        return;
    }
    uint64_t d = p->t_rexmt;
    if (p->t_delack < d)
        d = p->t_delack;
    if (p->t_keep < d)
        d = p->t_keep;
    if (p->t_user < d)
        d = p->t_user;
    if (d == p->deadline && (d == TERN_NEVER) == (p->heap_pos == TCP_NONE)) {
        return;
    }
    p->deadline = d;
    if (d == TERN_NEVER) {
        heap_remove(st, p);
        return;
    }
    if (p->heap_pos == TCP_NONE) {
        uint32_t pos = t->heap_len++;
        heap_set(t, pos, tcp_index(st, p));
        heap_up(t, pos);
    } else {
        heap_up(t, p->heap_pos);
        heap_down(t, p->heap_pos);
    }
}

/* ---- connection life ---- */

void tcp_set_state(tern_stack *st, tcp_pcb *p, uint8_t state) {
    (void)st;
    p->state = state;
}

static void acceptq_remove(tern_stack *st, tcp_pcb *l, tcp_pcb *c) {
    tern_tcp_module *t = st->tcp;
    uint32_t idx = tcp_index(st, c), prev = TCP_NONE;
    for (uint32_t i = l->acceptq_head; i != TCP_NONE; prev = i, i = t->pcb[i].q_next) {
        if (i != idx) {
            continue;
        }
        if (prev == TCP_NONE) {
            l->acceptq_head = c->q_next;
        } else {
            t->pcb[prev].q_next = c->q_next;
        }
        if (l->acceptq_tail == idx) {
            l->acceptq_tail = prev;
        }
        l->acceptq_len--;
        break;
    }
    c->q_next = TCP_NONE;
    c->flags &= ~(uint32_t)TCPF_IN_ACCEPTQ;
}

/* A passive child leaves its listener's queues. */
static void detach_child(tern_stack *st, tcp_pcb *c) {
    if (c->parent == TCP_NONE) {
        return;
    }
    tcp_pcb *l = &st->tcp->pcb[c->parent];
    if (c->flags & TCPF_IN_ACCEPTQ) {
        acceptq_remove(st, l, c);
    } else if (c->state == TERN_TCP_SYN_RECEIVED && l->synq_len > 0) {
        l->synq_len--;
    }
    c->parent = TCP_NONE;
}

void tcp_close_conn(tern_stack *st, tcp_pcb *p, tern_err err) {
    if (p->err == TERN_OK) {
        p->err = (int8_t)err;
    }
    detach_child(st, p);
    if (p->flags & TCPF_HASHED) {
        tcp_hash_remove(st, p);
    }
    if (p->flags & TCPF_BOUND) {
        st->tcp->port_owners[p->lport]--;
        p->flags &= ~(uint32_t)TCPF_BOUND;
    }
    p->t_rexmt = p->t_delack = p->t_keep = p->t_user = TERN_NEVER;
    p->flags &= ~(uint32_t)(TCPF_ACK_NOW | TCPF_PERSIST);
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
    p->t_rexmt = p->t_user = TERN_NEVER;
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
    /* RFC 9293 §3.7.1 / RFC 6691: MSS = MTU - 40 (IPv4 and TCP headers without options). */
    uint32_t mss = mtu > 40 + TCP_MIN_MSS ? mtu - 40 : TCP_MIN_MSS;
    if (p->mss_clamp && p->mss_clamp < mss) {
        mss = p->mss_clamp < TCP_MIN_MSS ? TCP_MIN_MSS : p->mss_clamp;
    }
    p->rcv_mss = (uint16_t)mss;
    p->rcv_wscale = (p->flags & TCPF_WANT_WS) ? wscale_for(p->rx_cap) : 0;
    p->peer_mss = TCP_DEFAULT_MSS;
    p->snd_mss = TCP_DEFAULT_MSS;
}

void tcp_update_snd_mss(tcp_pcb *p) {
    /* RFC 9293 §3.7.1: the effective send MSS is the smaller of the peer's MSS
     * and what the path MTU allows, minus the options we put on every segment
     * (RFC 6691); never below TCP_MIN_MSS so no segment is empty. */
    uint32_t peer = p->peer_mss;
    if (peer < TCP_MIN_MSS) {
        peer = TCP_MIN_MSS;
    }
    uint32_t path = p->pmtu > 40 ? p->pmtu - 40u : TCP_MIN_MSS;
    uint32_t mss = peer < path ? peer : path;
    if (p->flags & TCPF_TS_OK) {
        mss = mss > 12 + TCP_MIN_MSS ? mss - 12 : TCP_MIN_MSS;
    }
    if (mss < TCP_MIN_MSS) {
        mss = TCP_MIN_MSS;
    }
    p->snd_mss = (uint16_t)mss;
}

bool tcp_child_established(tern_stack *st, tcp_pcb *c) {
    tern_tcp_module *t = st->tcp;
    if (c->parent == TCP_NONE) {
        return true;
    }
    tcp_pcb *l = &t->pcb[c->parent];
    if (l->acceptq_len >= l->backlog) {
        return false; /* accept queue full: stay in SYN-RECEIVED (see the header comment) */
    }
    if (l->synq_len > 0) {
        l->synq_len--;
    }
    uint32_t idx = tcp_index(st, c);
    c->q_next = TCP_NONE;
    if (l->acceptq_tail == TCP_NONE) {
        l->acceptq_head = idx;
    } else {
        t->pcb[l->acceptq_tail].q_next = idx;
    }
    l->acceptq_tail = idx;
    l->acceptq_len++;
    c->flags |= TCPF_IN_ACCEPTQ;
    return true;
}

/* ---- handles ---- */

static tern_sock make_handle(const tern_stack *st, const tcp_pcb *p) {
    return ((tern_sock)p->gen << TCP_HANDLE_INDEX_BITS) | (tcp_index(st, p) + 1);
}

static tern_err get(const tern_stack *st, tern_sock s, tcp_pcb **out) {
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
    p->gen = (uint16_t)((p->gen + 1) & 0xfff);
}

/* ---- user calls ---- */

tern_err tern_tcp_open(tern_stack *st, tern_sock *out) {
    tcp_pcb *p = tcp_pcb_alloc(st);
    if (!p) {
        return tern_fail(st, TERN_ERR_NO_BUFFER, "tcp_open: all %u TCP sockets are in use",
                         st->tcp->nsock);
    }
    p->flags |= TCPF_HANDLE;
    *out = make_handle(st, p);
    return TERN_OK;
}

static bool port_free_for_bind(const tern_stack *st, uint16_t port) {
    return st->tcp->port_owners[port] == 0;
}

static void own_port(tern_stack *st, tcp_pcb *p, uint16_t port) {
    p->lport = port;
    p->flags |= TCPF_BOUND;
    st->tcp->port_owners[port]++;
}

tern_err tern_tcp_bind(tern_stack *st, tern_sock s, const tern_addr *addr, uint16_t port) {
    tcp_pcb *p;
    tern_err e = get(st, s, &p);
    if (e) {
        return e;
    }
    if (p->state != TERN_TCP_CLOSED || (p->flags & TCPF_BOUND) || p->err) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "tcp_bind: socket already bound or used");
    }
    if (addr && !tern_addr_is_unspecified(addr) && !tern_is_local_addr(st, addr, NULL)) {
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
    if (addr) {
        p->laddr = *addr;
    }
    own_port(st, p, port);
    return TERN_OK;
}

tern_err tern_tcp_listen(tern_stack *st, tern_sock s, uint32_t backlog) {
    tcp_pcb *p;
    tern_err e = get(st, s, &p);
    if (e) {
        return e;
    }
    if (p->state == TERN_TCP_LISTEN) {
        p->backlog = backlog ? backlog : 1;
        if (p->backlog > st->tcp->cfg.backlog_max)
            p->backlog = st->tcp->cfg.backlog_max;
        return TERN_OK;
    }
    if (p->state != TERN_TCP_CLOSED || p->err) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "tcp_listen: socket is not closed");
    }
    if (!(p->flags & TCPF_BOUND)) {
        e = tern_tcp_bind(st, s, NULL, 0);
        if (e) {
            return e;
        }
    }
    /* backlog 0 means 1 (like BSD); at most backlog_max */
    p->backlog = backlog ? backlog : 1;
    if (p->backlog > st->tcp->cfg.backlog_max) {
        p->backlog = st->tcp->cfg.backlog_max;
    }
    tcp_set_state(st, p, TERN_TCP_LISTEN);
    p->q_next = st->tcp->listeners;
    st->tcp->listeners = tcp_index(st, p);
    return TERN_OK;
}

tern_err tern_tcp_accept(tern_stack *st, tern_sock listener, tern_sock *out) {
    tcp_pcb *l;
    tern_err e = get(st, listener, &l);
    if (e) {
        return e;
    }
    if (l->state != TERN_TCP_LISTEN) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "tcp_accept: socket is not listening");
    }
    if (l->acceptq_head == TCP_NONE) {
        return TERN_ERR_WOULD_BLOCK;
    }
    tcp_pcb *c = &st->tcp->pcb[l->acceptq_head];
    acceptq_remove(st, l, c);
    c->parent = TCP_NONE;
    c->flags |= TCPF_HANDLE;
    *out = make_handle(st, c);
    return TERN_OK;
}

tern_err tern_tcp_connect(tern_stack *st, tern_sock s, const tern_addr *dst, uint16_t port) {
    tcp_pcb *p;
    tern_err e = get(st, s, &p);
    if (e) {
        return e;
    }
    if (p->state == TERN_TCP_LISTEN) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "tcp_connect: socket is listening");
    }
    if (p->state != TERN_TCP_CLOSED || p->err) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "tcp_connect: socket already connected");
    }
    if (!dst || !tern_addr_is_v4(dst) || tern_addr_is_unspecified(dst) ||
        tern_addr_is_multicast(dst) || tern_addr_is_limited_broadcast(dst) || port == 0) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "tcp_connect: dst must be a unicast IPv4 address and port non-zero");
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
         * 4-tuple is free (ports are shared between destinations). */
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
            if (st->tcp->port_owners[cand] == 0) {
                chosen = cand;
            }
        }
        for (uint32_t i = 0; i < range && !chosen; i++) {
            uint16_t cand = (uint16_t)(lo + (start + i) % range);
            if (!tcp_lookup(st, &p->laddr, cand, dst, port) &&
                !tcp_lookup_listener(st, &p->laddr, cand)) {
                chosen = cand;
            }
        }
        if (!chosen) {
            return tern_fail(st, TERN_ERR_ADDR_IN_USE, "tcp_connect: no free ephemeral port");
        }
        own_port(st, p, chosen);
    } else if (tcp_lookup(st, &p->laddr, p->lport, dst, port)) {
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
    tern_err e = get(st, s, &p);
    if (sent) {
        *sent = 0;
    }
    if (e) {
        return e;
    }
    switch (p->state) {
    case TERN_TCP_SYN_SENT:
    case TERN_TCP_SYN_RECEIVED:
    case TERN_TCP_ESTABLISHED:
    case TERN_TCP_CLOSE_WAIT:
        break; /* RFC 9293 §3.10.2: queued until ESTABLISHED in the first two */
    case TERN_TCP_CLOSED:
        if (p->err) {
            return (tern_err)p->err;
        }
        return TERN_ERR_NOT_CONNECTED;
    case TERN_TCP_LISTEN:
        return TERN_ERR_NOT_CONNECTED;
    default:
        return tern_fail(st, TERN_ERR_BAD_STATE, "tcp_send: connection closing");
    }
    if (p->flags & TCPF_FIN_QUEUED) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "tcp_send: sending was shut down");
    }
    uint32_t room = p->tx_cap - p->tx_len;
    if (room == 0) {
        return TERN_ERR_WOULD_BLOCK;
    }
    if (len == 0) {
        return TERN_OK;
    }
    uint32_t n = len < room ? (uint32_t)len : room;
    uint8_t *base = tcp_tx_base(st, p);
    uint32_t pos = (p->tx_head + p->tx_len) % p->tx_cap;
    uint32_t first = p->tx_cap - pos < n ? p->tx_cap - pos : n;
    memcpy(base + pos, data, first);
    if (n > first) {
        memcpy(base, data + first, n - first);
    }
    p->tx_len += n;
    if (sent) {
        *sent = n;
    }
    tcp_mark_dirty(st, p);
    return TERN_OK;
}

tern_err tern_tcp_recv(tern_stack *st, tern_sock s, uint8_t *buf, size_t cap, size_t *got) {
    tcp_pcb *p;
    tern_err e = get(st, s, &p);
    if (got) {
        *got = 0;
    }
    if (e) {
        return e;
    }
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
    uint32_t n = cap < p->rx_len ? (uint32_t)cap : p->rx_len;
    const uint8_t *base = tcp_rx_base(st, p);
    uint32_t first = p->rx_cap - p->rx_head < n ? p->rx_cap - p->rx_head : n;
    if (buf) {
        memcpy(buf, base + p->rx_head, first);
        if (n > first) {
            memcpy(buf + first, base, n - first);
        }
    }
    p->rx_head = (p->rx_head + n) % p->rx_cap;
    p->rx_len -= n;
    if (got) {
        *got = n;
    }
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
    return TERN_OK;
}

tern_err tern_tcp_shutdown(tern_stack *st, tern_sock s, int how) {
    tcp_pcb *p;
    tern_err e = get(st, s, &p);
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

static void close_listener(tern_stack *st, tcp_pcb *l) {
    tern_tcp_module *t = st->tcp;
    /* unlink from the listener list */
    uint32_t idx = tcp_index(st, l);
    for (uint32_t *link = &t->listeners; *link != TCP_NONE; link = &t->pcb[*link].q_next) {
        if (*link == idx) {
            *link = l->q_next;
            break;
        }
    }
    l->q_next = TCP_NONE;
    /* children not yet accepted are reset (RFC 9293 §3.10.4: a listener's
     * CLOSE deletes its pending connections) */
    for (uint32_t i = 0; i < t->nsock; i++) {
        tcp_pcb *c = &t->pcb[i];
        if (c->kind == TCP_SOCKET && c->parent == idx) {
            detach_child(st, c);
            c->flags |= TCPF_SEND_RST;
            if (c->flags & TCPF_HASHED) {
                tcp_hash_remove(st, c);
            }
            c->t_rexmt = c->t_delack = c->t_keep = c->t_user = TERN_NEVER;
            tcp_timers_update(st, c);
            tcp_mark_dirty(st, c);
        }
    }
}

tern_err tern_tcp_close(tern_stack *st, tern_sock s) {
    tcp_pcb *p;
    tern_err e = get(st, s, &p);
    if (e) {
        return e;
    }
    switch (p->state) {
    case TERN_TCP_LISTEN:
        close_listener(st, p);
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
    tern_err e = get(st, s, &p);
    if (e) {
        return e;
    }
    if (p->state == TERN_TCP_LISTEN) {
        return tern_tcp_close(st, s);
    }
    orphan(p);
    /* RFC 9293 §3.10.5 ABORT: a RST in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2
     * and CLOSE-WAIT; none in the other states. */
    bool rst = p->state == TERN_TCP_SYN_RECEIVED || p->state == TERN_TCP_ESTABLISHED ||
               p->state == TERN_TCP_FIN_WAIT_1 || p->state == TERN_TCP_FIN_WAIT_2 ||
               p->state == TERN_TCP_CLOSE_WAIT;
    if (!rst) {
        tcp_close_conn(st, p, TERN_OK);
        return TERN_OK;
    }
    detach_child(st, p);
    if (p->flags & TCPF_HASHED) {
        tcp_hash_remove(st, p);
    }
    p->t_rexmt = p->t_delack = p->t_keep = p->t_user = TERN_NEVER;
    tcp_timers_update(st, p);
    p->flags |= TCPF_SEND_RST;
    tcp_mark_dirty(st, p);
    return TERN_OK;
}

tern_err tern_tcp_set_option(tern_stack *st, tern_sock s, tern_tcp_option opt, int64_t value) {
    tcp_pcb *p;
    tern_err e = get(st, s, &p);
    if (e) {
        return e;
    }
    bool before_open = p->state == TERN_TCP_CLOSED && !(p->flags & TCPF_HASHED);
#define FLAG(f)                                                                                    \
    do {                                                                                           \
        if (value)                                                                                 \
            p->flags |= (f);                                                                       \
        else                                                                                       \
            p->flags &= ~(uint32_t)(f);                                                            \
    } while (0)
    switch (opt) {
    case TERN_TCP_OPT_NODELAY:
        FLAG(TCPF_NODELAY);
        tcp_mark_dirty(st, p);
        return TERN_OK;
    case TERN_TCP_OPT_KEEPALIVE:
        FLAG(TCPF_KEEPALIVE);
        tcp_mark_dirty(st, p); /* output arms or stops the timer */
        return TERN_OK;
    case TERN_TCP_OPT_KEEPIDLE_NS:
        if (value <= 0)
            break;
        p->keep_idle_ns = (uint64_t)value;
        tcp_mark_dirty(st, p);
        return TERN_OK;
    case TERN_TCP_OPT_KEEPINTVL_NS:
        if (value <= 0)
            break;
        p->keep_intvl_ns = (uint64_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_KEEPCNT:
        if (value <= 0 || value > 255)
            break;
        p->keep_cnt = (uint8_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_RX_BUFFER:
        if (!before_open || p->state == TERN_TCP_LISTEN) {
            return tern_fail(st, TERN_ERR_BAD_STATE,
                             "tcp_set_option: buffer sizes are set before connect/listen");
        }
        if (value < 1 || value > st->tcp->rx_cap) {
            return tern_fail(
                st, TERN_ERR_INVALID_ARGUMENT,
                "tcp_set_option: RX_BUFFER %lld outside 1..%u (the configured rx_buffer)",
                (long long)value, st->tcp->rx_cap);
        }
        p->rx_cap = (uint32_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_TX_BUFFER:
        if (!before_open) {
            return tern_fail(st, TERN_ERR_BAD_STATE,
                             "tcp_set_option: buffer sizes are set before connect/listen");
        }
        if (value < 1 || value > st->tcp->tx_cap) {
            return tern_fail(
                st, TERN_ERR_INVALID_ARGUMENT,
                "tcp_set_option: TX_BUFFER %lld outside 1..%u (the configured tx_buffer)",
                (long long)value, st->tcp->tx_cap);
        }
        p->tx_cap = (uint32_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_CONGESTION:
        if (value != TERN_TCP_CC_NEWRENO && value != TERN_TCP_CC_CUBIC)
            break;
        p->cc_id = (uint8_t)value;
        if (p->flags & TCPF_CC_INIT) {
            p->cubic = (tcp_cubic){0};
        }
        return TERN_OK;
    case TERN_TCP_OPT_SYN_RETRIES:
        if (value < 1 || value > 255)
            break;
        p->syn_retries = (uint8_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_DATA_RETRIES:
        if (value < 1 || value > 255)
            break;
        p->data_retries = (uint8_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_USER_TIMEOUT_NS:
        if (value < 0)
            break;
        p->user_timeout_ns = (uint64_t)value;
        if (value == 0) {
            p->t_user = TERN_NEVER;
        } else if (p->t_user != TERN_NEVER) {
            p->t_user = TERN_NEVER; /* re-armed from the next transmission */
        }
        tcp_timers_update(st, p);
        tcp_mark_dirty(st, p);
        return TERN_OK;
    case TERN_TCP_OPT_MSS:
        if (value < TCP_MIN_MSS || value > 65535)
            break;
        p->mss_clamp = (uint16_t)value;
        if (!before_open) {
            return tern_fail(st, TERN_ERR_BAD_STATE,
                             "tcp_set_option: MSS is set before connect/listen");
        }
        return TERN_OK;
    case TERN_TCP_OPT_TTL:
        if (value < 0 || value > 255)
            break;
        p->ttl = (uint8_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_SACK:
    case TERN_TCP_OPT_TIMESTAMPS:
    case TERN_TCP_OPT_WINDOW_SCALING:
        if (!before_open && p->state != TERN_TCP_LISTEN) {
            return tern_fail(st, TERN_ERR_BAD_STATE,
                             "tcp_set_option: options are negotiated before connect");
        }
        FLAG(opt == TERN_TCP_OPT_SACK         ? TCPF_WANT_SACK
             : opt == TERN_TCP_OPT_TIMESTAMPS ? TCPF_WANT_TS
                                              : TCPF_WANT_WS);
        return TERN_OK;
    case TERN_TCP_OPT_DELACK_NS:
        if (value < 0)
            break;
        p->delack_ns = (uint64_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_RTO_MIN_NS:
        if (value <= 0)
            break;
        tcp_rtt_set_min(&p->rtt, (uint64_t)value);
        return TERN_OK;
    case TERN_TCP_OPT_INITIAL_WINDOW:
        if (value < 1 || value > 255)
            break;
        p->iw = (uint8_t)value;
        return TERN_OK;
    default:
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "tcp_set_option: unknown option %d",
                         (int)opt);
    }
#undef FLAG
    return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "tcp_set_option: option %d: bad value %lld",
                     (int)opt, (long long)value);
}

tern_err tern_tcp_get_info(const tern_stack *st, tern_sock s, tern_tcp_info *out) {
    tcp_pcb *p;
    tern_err e = get(st, s, &p);
    if (e) {
        return e;
    }
    memset(out, 0, sizeof *out);
    out->state = (tern_tcp_state)p->state;
    out->local = p->laddr;
    out->remote = p->raddr;
    out->local_port = p->lport;
    out->remote_port = p->rport;
    out->srtt_ns = p->rtt.srtt;
    out->rttvar_ns = p->rtt.rttvar;
    out->rto_ns = p->rtt.rto;
    out->snd_mss = p->snd_mss;
    out->rcv_mss = p->rcv_mss;
    out->cwnd = p->cwnd;
    out->ssthresh = p->ssthresh;
    out->iss = p->iss;
    out->irs = p->irs;
    out->snd_una = p->snd_una;
    out->snd_nxt = p->snd_nxt;
    out->snd_wnd = p->snd_wnd;
    out->rcv_nxt = p->rcv_nxt;
    out->rcv_wnd = seq_gt(p->rcv_adv, p->rcv_nxt) ? p->rcv_adv - p->rcv_nxt : 0;
    out->snd_wscale = p->snd_wscale;
    out->rcv_wscale = p->rcv_wscale;
    out->sack_ok = (p->flags & TCPF_SACK_OK) != 0;
    out->ts_ok = (p->flags & TCPF_TS_OK) != 0;
    out->retransmits = p->retries;
    out->total_retransmits = p->total_retransmits;
    out->segs_in = p->segs_in;
    out->segs_out = p->segs_out;
    out->bytes_acked = p->bytes_acked;
    out->bytes_received = p->bytes_received;
    out->fast_retransmits = p->fast_retransmits;
    out->rto_timeouts = p->rto_timeouts;
    out->dup_acks_in = p->dup_acks_in;
    out->sack_blocks_in = p->sack_blocks_in;
    out->ooo_segments = p->ooo_segments;
    out->zero_window_probes = p->zero_window_probes;
    out->keepalives_sent = p->keepalives_sent;
    out->challenge_acks = p->challenge_acks;
    out->unacked = tcp_flight(p);
    out->sacked = tcp_sacked_bytes(st, p);
    out->lost = 0;
    if (seq_gt(p->lost_to, p->snd_una)) {
        uint32_t lt = seq_min(p->lost_to, p->snd_nxt);
        out->lost = (lt - p->snd_una) -
                    tcp_ranges_covered(tcp_sack_ranges(st, p), p->sack_n, p->snd_una, lt);
    }
    out->in_flight = tcp_synchronized(p) ? tcp_pipe(st, p) : tcp_flight(p);
    out->error = (tern_err)p->err;
    return TERN_OK;
}

size_t tern_tcp_readable(const tern_stack *st, tern_sock s) {
    tcp_pcb *p;
    return get(st, s, &p) ? 0 : p->rx_len;
}

size_t tern_tcp_writable(const tern_stack *st, tern_sock s) {
    tcp_pcb *p;
    if (get(st, s, &p)) {
        return 0;
    }
    bool can = p->state == TERN_TCP_ESTABLISHED || p->state == TERN_TCP_CLOSE_WAIT ||
               p->state == TERN_TCP_SYN_SENT || p->state == TERN_TCP_SYN_RECEIVED;
    if (!can || (p->flags & TCPF_FIN_QUEUED)) {
        return 0;
    }
    return p->tx_cap - p->tx_len;
}

size_t tern_tcp_accept_pending(const tern_stack *st, tern_sock s) {
    tcp_pcb *p;
    if (get(st, s, &p) || p->state != TERN_TCP_LISTEN) {
        return 0;
    }
    return p->acceptq_len;
}

/*
 * Passive open: listen, accept, and a listener's two queues.
 *
 * Listen backlog (RFC 9293 §3.10.1 leaves the queue to the implementation):
 * a listener with backlog B keeps at most B half-open children (SYN queue,
 * SYN-RECEIVED) and at most B established children waiting for accept
 * (accept queue). When the SYN queue is full, a new SYN is answered with a
 * SYN cookie and no state (RFC 4987 §3.6, tcp_syncookie.c), so a flood of
 * spoofed SYNs does not close the port; a half-open child lives only as long
 * as its SYN-ACK retransmissions. When no control block is free, the SYN gets
 * a RST at once (counted in tcp_no_pcb_rst). When the accept queue is full,
 * the handshake-completing ACK is dropped (counted in tcp_listen_overflow)
 * and the child stays in SYN-RECEIVED (its SYN-ACK is retransmitted, so the
 * peer's next ACK completes it once there is room); this is Linux's default
 * behaviour.
 */
#include "tcp_private.h"

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
void tcp_detach_child(tern_stack *st, tcp_pcb *c) {
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

tern_err tern_tcp_listen(tern_stack *st, tern_sock s, uint32_t backlog) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
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
    tern_err e = tcp_handle_get(st, listener, &l);
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
    *out = tcp_handle_make(st, c);
    return TERN_OK;
}

void tcp_close_listener(tern_stack *st, tcp_pcb *l) {
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
            tcp_detach_child(st, c);
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

size_t tern_tcp_accept_pending(const tern_stack *st, tern_sock s) {
    tcp_pcb *p;
    if (tcp_handle_get(st, s, &p) || p->state != TERN_TCP_LISTEN) {
        return 0;
    }
    return p->acceptq_len;
}

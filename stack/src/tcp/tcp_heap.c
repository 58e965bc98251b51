/*
 * The timer heap: a binary min-heap of the control blocks on their earliest
 * deadline (pcb.deadline, ties broken by index for determinism), so that
 * poll and poll_at stay O(log N) with 100,000 connections. The timers
 * themselves fire in tcp_timer.c.
 */
#include "tcp_private.h"

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

void tcp_heap_remove(tern_stack *st, tcp_pcb *p) {
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
    if (p->t_tlp < d)
        d = p->t_tlp;
    if (p->t_rack < d)
        d = p->t_rack;
    if (p->t_pace && p->t_pace < d)
        d = p->t_pace; /* pacing (tcp_pacing.c), 0 when off */
    if (d == p->deadline && (d == TERN_NEVER) == (p->heap_pos == TCP_NONE)) {
        return;
    }
    uint64_t old = p->deadline;
    p->deadline = d;
    if (d == TERN_NEVER) {
        tcp_heap_remove(st, p);
        return;
    }
    if (p->heap_pos == TCP_NONE) {
        uint32_t pos = t->heap_len++;
        heap_set(t, pos, tcp_index(st, p));
        heap_up(t, pos);
    } else if (d < old) {
        /* An earlier deadline can only move the block towards the top, a later one only
         * away from it (each ACK re-arms the RTO and the probe timeout later: issue 19 found
         * the second walk a per-segment cost); the heap ends as it would after both walks. */
        heap_up(t, p->heap_pos);
    } else {
        heap_down(t, p->heap_pos);
    }
}

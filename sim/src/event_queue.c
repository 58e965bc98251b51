/* A 4-ary min-heap of events keyed by (time, seq). See event_queue.h. */
#include "event_queue.h"

#include <stdlib.h>

/* Four children per node halves the depth of a binary heap; the children of
 * one node share a cache line or two, which is what makes pop cheap. */
#define ARITY 4

static inline bool earlier(const sim_event *a, const sim_event *b) {
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

void sim_eq_init(sim_event_queue *q) {
    q->heap = NULL;
    q->len = 0;
    q->cap = 0;
    q->next_seq = 0;
}

void sim_eq_free(sim_event_queue *q) {
    free(q->heap);
    sim_eq_init(q);
}

bool sim_eq_push(sim_event_queue *q, uint64_t time, uint32_t kind, uint32_t target, uint64_t arg,
                 void *ptr) {
    if (q->len == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 256;
        sim_event *nh = realloc(q->heap, ncap * sizeof *nh);
        if (!nh) {
            return false;
        }
        q->heap = nh;
        q->cap = ncap;
    }
    sim_event ev = {time, q->next_seq++, kind, target, arg, ptr};
    size_t i = q->len++;
    while (i > 0) {
        size_t parent = (i - 1) / ARITY;
        if (!earlier(&ev, &q->heap[parent])) {
            break;
        }
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = ev;
    return true;
}

bool sim_eq_pop(sim_event_queue *q, sim_event *out) {
    if (q->len == 0) {
        return false;
    }
    *out = q->heap[0];
    sim_event last = q->heap[--q->len];
    size_t n = q->len;
    size_t i = 0;
    for (;;) {
        size_t first = i * ARITY + 1;
        if (first >= n) {
            break;
        }
        size_t best = first;
        size_t end = first + ARITY < n ? first + ARITY : n;
        for (size_t c = first + 1; c < end; c++) {
            if (earlier(&q->heap[c], &q->heap[best])) {
                best = c;
            }
        }
        if (!earlier(&q->heap[best], &last)) {
            break;
        }
        q->heap[i] = q->heap[best];
        i = best;
    }
    if (n > 0) {
        q->heap[i] = last;
    }
    return true;
}

/*
 * The event queue (internal to libternsim): a 4-ary min-heap ordered by
 * (time, insertion sequence), so events at the same virtual time run in the
 * order they were scheduled, never in pointer or hash order (DESIGN.md §4).
 *
 * Keys are kept apart from payloads so the sift loops touch one dense array
 * of 16-byte keys; the payload moves along with its key.
 */
#ifndef TERN_SIM_EVENT_QUEUE_H
#define TERN_SIM_EVENT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What an event does; `target` and `arg` are interpreted per kind by sim.c. */
typedef struct sim_event {
    uint64_t time;
    uint64_t seq; /* insertion sequence, assigned by the queue */
    uint32_t kind;
    uint32_t target;
    uint64_t arg;
    void *ptr;
} sim_event;

typedef struct sim_event_queue {
    sim_event *heap;
    size_t len;
    size_t cap;
    uint64_t next_seq;
} sim_event_queue;

void sim_eq_init(sim_event_queue *q);
void sim_eq_free(sim_event_queue *q);

/* sim_eq_push: add an event (its seq is assigned here). Returns false when out of memory. */
bool sim_eq_push(sim_event_queue *q, uint64_t time, uint32_t kind, uint32_t target, uint64_t arg,
                 void *ptr);

/* sim_eq_peek_time: time of the earliest event, or UINT64_MAX when empty. */
static inline uint64_t sim_eq_peek_time(const sim_event_queue *q) {
    return q->len ? q->heap[0].time : UINT64_MAX;
}

/* sim_eq_pop: remove the earliest event into *out. Returns false when empty. */
bool sim_eq_pop(sim_event_queue *q, sim_event *out);

static inline size_t sim_eq_len(const sim_event_queue *q) {
    return q->len;
}

#endif /* TERN_SIM_EVENT_QUEUE_H */

/*
 * The event queue (internal to libternsim), ordered by (time, insertion
 * sequence): events at the same virtual time run in the order they were
 * scheduled, never in pointer or hash order (DESIGN.md §4).
 *
 * It is a radix heap, which fits a simulator because time never goes
 * backwards: no event is ever scheduled before the last one taken out.
 * Bucket i holds the events whose time first differs from that last time at
 * bit i-1 (bucket 0: equal to it). Taking out the earliest event empties only
 * the lowest non-empty bucket, spreading it over lower buckets; each event
 * moves down at most 64 times in its life, through sequential arrays, which
 * is far kinder to caches than a comparison heap. Ties: an event scheduled
 * directly into bucket 0 is newer than every pending one, and the events a
 * spread brings into bucket 0 are sorted by sequence, so bucket 0 is always
 * in insertion order.
 *
 * An event entering with a sequence reserved earlier (sim_eq_push_seq) whose time is bucket 0's
 * but whose sequence is older than the newest there would have to be inserted into the middle of
 * bucket 0, moving every newer key of that instant: with thousands of events at one instant (a
 * large simulation whose hosts all wake at the same millisecond) that was thousands of moves per
 * frame, a cost per event that grew with the number of hosts (issue 19). Such events go to a
 * small binary heap by sequence beside bucket 0 (`late`) instead, and an event is taken from
 * whichever of the two holds the older sequence: the same order, O(log k) per event.
 *
 * Keys are 16 bytes: the time, and a tag packing the insertion sequence (high
 * 40 bits) above the index of the event's payload slot (low 24 bits), so
 * comparing tags compares sequences. When the sequence would overflow 40
 * bits (after 10^12 events) the pending events are renumbered in order.
 */
#ifndef TERN_SIM_EVENT_QUEUE_H
#define TERN_SIM_EVENT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many events pending at once (the payload index has 24 bits). */
#define SIM_EQ_MAX_PENDING (1u << 24)

/* What an event does; `target`, `arg` and `ptr` are interpreted per kind by sim.c. */
typedef struct sim_event {
    uint64_t time;
    uint64_t seq; /* insertion sequence, assigned by the queue */
    uint32_t kind;
    uint32_t target;
    uint64_t arg;
    void *ptr;
} sim_event;

typedef struct sim_eq_key {
    uint64_t time;
    uint64_t tag; /* seq << 24 | slot */
} sim_eq_key;

typedef struct sim_eq_payload {
    uint32_t kind;
    uint32_t target; /* on the free list: the next free slot */
    uint64_t arg;
    void *ptr;
} sim_eq_payload;

typedef struct sim_eq_bucket {
    sim_eq_key *v;
    size_t len;
    size_t cap;
} sim_eq_bucket;

#define SIM_EQ_BUCKETS 65

typedef struct sim_event_queue {
    sim_eq_bucket b[SIM_EQ_BUCKETS];
    size_t head0; /* next key to take from bucket 0 */
    /* Events of bucket 0's time entered with a reserved sequence older than the newest in bucket 0
     * (sim_eq_push_seq): a binary min-heap by tag. Empty whenever bucket 0 is refilled. */
    sim_eq_key *late;
    size_t late_len, late_cap;
    /* Keys moved to place events entered with a reserved sequence (heap sifts, or shifts within
     * bucket 0): the cost of keeping the order, which the tests bound. */
    uint64_t moves;
    uint64_t last;     /* time of the last event taken out; nothing pending is earlier */
    uint64_t min_time; /* earliest pending time, valid when min_valid */
    bool min_valid;
    size_t len;
    sim_eq_payload *slots;
    uint32_t nslots;    /* slots allocated */
    uint32_t free_slot; /* head of the free list, UINT32_MAX if empty */
    uint64_t next_seq;
    uint64_t seq_limit; /* renumber when next_seq reaches it (SIM_EQ_SEQ_LIMIT; tests lower it) */
    uint64_t renumbers; /* how many times the pending events were renumbered */
} sim_event_queue;

/* Sequences fit in 40 bits: past this many insertions the pending events are renumbered. */
#define SIM_EQ_SEQ_LIMIT (1ull << 40)

void sim_eq_init(sim_event_queue *q);
void sim_eq_free(sim_event_queue *q);

/*
 * sim_eq_push: add an event (its seq is assigned here). `time` must not be
 * earlier than the last event taken out. Returns false when out of memory or
 * when SIM_EQ_MAX_PENDING events are already pending.
 */
bool sim_eq_push(sim_event_queue *q, uint64_t time, uint32_t kind, uint32_t target, uint64_t arg,
                 void *ptr);

/*
 * sim_eq_reserve_seq: take the next insertion sequence without inserting anything, for an event
 * kept outside the queue (a link direction's delivery FIFO, sim.c) that may enter it later with
 * sim_eq_push_seq. The caller renumbers first (sim_eq_renumber) when sim_eq_seq_exhausted says
 * so, after putting every reserved sequence it still holds into the queue.
 */
static inline uint64_t sim_eq_reserve_seq(sim_event_queue *q) {
    return q->next_seq++;
}

static inline bool sim_eq_seq_exhausted(const sim_event_queue *q) {
    return q->next_seq >= q->seq_limit;
}

/* Renumber the pending events 0..len-1 in their order (the next sequence is then len). */
void sim_eq_renumber(sim_event_queue *q);

/*
 * sim_eq_push_seq: add an event with a sequence reserved earlier (sim_eq_reserve_seq). It takes
 * its place by (time, seq) among the pending events, as if it had been pushed when the sequence
 * was reserved. `time` must not be earlier than the last event taken out. Returns false when out
 * of memory or when SIM_EQ_MAX_PENDING events are already pending.
 */
bool sim_eq_push_seq(sim_event_queue *q, uint64_t time, uint64_t seq, uint32_t kind,
                     uint32_t target, uint64_t arg, void *ptr);

/* sim_eq_before: whether (time, seq) comes before every pending event (false when unsure: equal
 * to the earliest pending time with bucket 0 empty). */
bool sim_eq_before(sim_event_queue *q, uint64_t time, uint64_t seq);

/* sim_eq_peek_time: time of the earliest event, or UINT64_MAX when empty. */
uint64_t sim_eq_peek_time(sim_event_queue *q);

/* sim_eq_pop: remove the earliest event into *out. Returns false when empty. */
bool sim_eq_pop(sim_event_queue *q, sim_event *out);

/* sim_eq_next_hint: the payload of the event most likely taken next (bucket 0's next key; the late
 * heap is not looked at), or NULL. A hint for prefetching what that event will read, never for
 * the order of events. */
static inline const sim_eq_payload *sim_eq_next_hint(const sim_event_queue *q) {
    const sim_eq_bucket *b0 = &q->b[0];
    return q->head0 < b0->len ? &q->slots[b0->v[q->head0].tag & (SIM_EQ_MAX_PENDING - 1)] : NULL;
}

static inline size_t sim_eq_len(const sim_event_queue *q) {
    return q->len;
}

#endif /* TERN_SIM_EVENT_QUEUE_H */

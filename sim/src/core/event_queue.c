/* A radix heap of (time, seq) keys with payloads on the side. See event_queue.h. */
#include "event_queue.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_BITS 24
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define NO_SLOT UINT32_MAX

_Static_assert(SIM_EQ_SEQ_LIMIT == 1ull << (64 - SLOT_BITS), "sequences and slots share the tag");

void sim_eq_init(sim_event_queue *q) {
    memset(q, 0, sizeof *q);
    q->free_slot = NO_SLOT;
    q->seq_limit = SIM_EQ_SEQ_LIMIT;
}

void sim_eq_free(sim_event_queue *q) {
    for (int i = 0; i < SIM_EQ_BUCKETS; i++) {
        free(q->b[i].v);
    }
    free(q->slots);
    free(q->late);
    uint64_t limit = q->seq_limit;
    sim_eq_init(q);
    q->seq_limit = limit;
}

/* The bucket of a time relative to the last time taken out. */
static inline unsigned bucket_of(uint64_t last, uint64_t time) {
    uint64_t x = time ^ last;
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

static bool append(sim_eq_bucket *b, sim_eq_key key) {
    if (b->len == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 16;
        sim_eq_key *nv = realloc(b->v, ncap * sizeof *nv);
        if (!nv) {
            return false;
        }
        b->v = nv;
        b->cap = ncap;
    }
    b->v[b->len++] = key;
    return true;
}

/* The late heap (event_queue.h): a binary min-heap of keys by tag (all of bucket 0's time). */
static bool late_push(sim_event_queue *q, sim_eq_key key) {
    if (q->late_len == q->late_cap) {
        size_t ncap = q->late_cap ? q->late_cap * 2 : 16;
        sim_eq_key *nv = realloc(q->late, ncap * sizeof *nv);
        if (!nv) {
            return false;
        }
        q->late = nv;
        q->late_cap = ncap;
    }
    size_t at = q->late_len++;
    while (at > 0 && q->late[(at - 1) / 2].tag > key.tag) {
        q->late[at] = q->late[(at - 1) / 2];
        at = (at - 1) / 2;
        q->moves++;
    }
    q->late[at] = key;
    return true;
}

static sim_eq_key late_pop(sim_event_queue *q) {
    sim_eq_key top = q->late[0];
    sim_eq_key last = q->late[--q->late_len];
    size_t n = q->late_len, at = 0;
    for (;;) {
        size_t c = 2 * at + 1;
        if (c >= n) {
            break;
        }
        if (c + 1 < n && q->late[c + 1].tag < q->late[c].tag) {
            c++;
        }
        if (q->late[c].tag > last.tag) {
            break;
        }
        q->late[at] = q->late[c];
        at = c;
        q->moves++;
    }
    if (n) {
        q->late[at] = last;
    }
    return top;
}

/* The earliest pending event of bucket 0's time (bucket 0 from head0, or the late heap), or NULL
 * when both are empty. */
static const sim_eq_key *first_key(const sim_event_queue *q) {
    const sim_eq_key *k = q->head0 < q->b[0].len ? &q->b[0].v[q->head0] : NULL;
    if (q->late_len && (!k || q->late[0].tag < k->tag)) {
        return &q->late[0];
    }
    return k;
}

/* Take the earliest event of bucket 0's time out (there is one: refill returned true). */
static sim_eq_key take_first(sim_event_queue *q) {
    const sim_eq_bucket *b0 = &q->b[0];
    if (q->late_len && (q->head0 == b0->len || q->late[0].tag < b0->v[q->head0].tag)) {
        return late_pop(q);
    }
    return b0->v[q->head0++];
}

static int cmp_tag(const void *pa, const void *pb) {
    const sim_eq_key *a = pa, *b = pb;
    return (a->tag > b->tag) - (a->tag < b->tag);
}

/*
 * Make bucket 0 hold the earliest events: when it is used up, take the lowest
 * non-empty bucket, advance `last` to its earliest time and spread it over
 * the lower buckets. Returns false when the queue is empty.
 */
static bool refill(sim_event_queue *q) {
    sim_eq_bucket *b0 = &q->b[0];
    if (q->head0 < b0->len || q->late_len) {
        return true;
    }
    b0->len = 0;
    q->head0 = 0;
    unsigned i = 1;
    while (i < SIM_EQ_BUCKETS && q->b[i].len == 0) {
        i++;
    }
    if (i == SIM_EQ_BUCKETS) {
        return false;
    }
    sim_eq_bucket *bi = &q->b[i];
    uint64_t m = UINT64_MAX;
    if (q->min_valid) {
        m = q->min_time; /* peek already found it */
    } else {
        for (size_t k = 0; k < bi->len; k++) {
            m = bi->v[k].time < m ? bi->v[k].time : m;
        }
    }
    q->last = m;
    for (size_t k = 0; k < bi->len; k++) {
        unsigned j = bucket_of(m, bi->v[k].time);
        assert(j < i);
        /* Lower buckets only ever grow to what bucket i held: cannot fail
         * after the first growth, and the first growth failing is fatal. */
        if (!append(&q->b[j], bi->v[k])) {
            abort();
        }
    }
    bi->len = 0;
    /* Bucket 0 was empty: what it holds now came from bucket i, in no
     * particular order. Put it in insertion order. */
    if (b0->len > 1) {
        qsort(b0->v, b0->len, sizeof *b0->v, cmp_tag);
    }
    return true;
}

uint64_t sim_eq_peek_time(sim_event_queue *q) {
    if (q->head0 < q->b[0].len || q->late_len) {
        return q->last;
    }
    if (!q->min_valid) {
        /* The earliest pending time lies in the lowest non-empty bucket. */
        uint64_t m = UINT64_MAX;
        for (unsigned i = 1; i < SIM_EQ_BUCKETS; i++) {
            sim_eq_bucket *bi = &q->b[i];
            if (bi->len) {
                for (size_t k = 0; k < bi->len; k++) {
                    m = bi->v[k].time < m ? bi->v[k].time : m;
                }
                break;
            }
        }
        q->min_time = m;
        q->min_valid = true;
    }
    return q->min_time;
}

/* Renumber pending events 0..len-1 in their order, after 2^40 insertions. Taking them out in order
 * moves `last` to the latest of them; it is put back, since later events may still be scheduled
 * from the current time on. */
void sim_eq_renumber(sim_event_queue *q) {
    size_t n = q->len, k = 0;
    uint64_t last = q->last;
    sim_eq_key *all = malloc(n * sizeof *all + 1);
    if (!all) {
        abort(); /* cannot keep the order without it; happens once per 10^12 events */
    }
    while (refill(q)) {
        all[k++] = take_first(q);
    }
    q->b[0].len = 0;
    q->head0 = 0;
    q->last = last;
    for (size_t i = 0; i < n; i++) {
        all[i].tag = ((uint64_t)i << SLOT_BITS) | (all[i].tag & SLOT_MASK);
        if (!append(&q->b[bucket_of(last, all[i].time)], all[i])) {
            abort(); /* the buckets held these keys a moment ago */
        }
    }
    q->next_seq = n;
    q->min_valid = false;
    q->renumbers++;
    free(all);
}

/* A payload slot for a new event; NO_SLOT when out of memory or at SIM_EQ_MAX_PENDING. */
static uint32_t take_slot(sim_event_queue *q) {
    if (q->free_slot == NO_SLOT) {
        if (q->nslots >= SIM_EQ_MAX_PENDING) {
            return NO_SLOT;
        }
        uint32_t ncap = q->nslots ? q->nslots * 2 : 256;
        sim_eq_payload *ns = realloc(q->slots, (size_t)ncap * sizeof *ns);
        if (!ns) {
            return NO_SLOT;
        }
        for (uint32_t i = q->nslots; i < ncap; i++) {
            ns[i].target = i + 1 < ncap ? i + 1 : NO_SLOT;
        }
        q->free_slot = q->nslots;
        q->slots = ns;
        q->nslots = ncap;
    }
    return q->free_slot;
}

static void fill_slot(sim_event_queue *q, uint32_t slot, uint64_t time, uint32_t kind,
                      uint32_t target, uint64_t arg, void *ptr) {
    sim_eq_payload *p = &q->slots[slot];
    q->free_slot = p->target;
    p->kind = kind;
    p->target = target;
    p->arg = arg;
    p->ptr = ptr;
    q->len++;
    if (q->min_valid && time < q->min_time) {
        q->min_time = time;
    }
}

bool sim_eq_push_seq(sim_event_queue *q, uint64_t time, uint64_t seq, uint32_t kind,
                     uint32_t target, uint64_t arg, void *ptr) {
    assert(time >= q->last && seq < q->next_seq);
    uint32_t slot = take_slot(q);
    if (slot == NO_SLOT) {
        return false;
    }
    sim_eq_key key = {time, (seq << SLOT_BITS) | slot};
    unsigned bi = bucket_of(q->last, time);
    sim_eq_bucket *b = &q->b[bi];
    bool ok;
    if (bi != 0 || q->head0 == b->len || b->v[b->len - 1].tag < key.tag) {
        /* Another bucket (spread and sorted when its turn comes), or the newest of its instant:
         * bucket 0 stays in sequence order from head0 on. */
        ok = append(b, key);
    } else if (q->head0 > 0 && key.tag < b->v[q->head0].tag) {
        /* Older than every pending key of bucket 0: just before them, where the event taken out
         * last was (the usual case: the next frame of a delivery FIFO whose head just ran). */
        b->v[--q->head0] = key;
        ok = true;
    } else {
        /* Between keys of bucket 0: into the late heap, not moving the newer keys up one by one
         * (event_queue.h). */
        ok = late_push(q, key);
    }
    if (!ok) {
        return false;
    }
    fill_slot(q, slot, time, kind, target, arg, ptr);
    return true;
}

bool sim_eq_before(sim_event_queue *q, uint64_t time, uint64_t seq) {
    const sim_eq_key *k = first_key(q);
    if (k) {
        return time < k->time || (time == k->time && (seq << SLOT_BITS) < k->tag);
    }
    return time < sim_eq_peek_time(q);
}

bool sim_eq_push(sim_event_queue *q, uint64_t time, uint32_t kind, uint32_t target, uint64_t arg,
                 void *ptr) {
    assert(time >= q->last);
    uint32_t slot = take_slot(q);
    if (slot == NO_SLOT) {
        return false;
    }
    if (sim_eq_seq_exhausted(q)) {
        sim_eq_renumber(q);
    }
    sim_eq_key key = {time, (q->next_seq << SLOT_BITS) | slot};
    if (!append(&q->b[bucket_of(q->last, time)], key)) {
        return false;
    }
    q->next_seq++;
    fill_slot(q, slot, time, kind, target, arg, ptr);
    return true;
}

bool sim_eq_pop(sim_event_queue *q, sim_event *out) {
    if (!refill(q)) {
        return false;
    }
    sim_eq_key top = take_first(q);
    q->min_valid = false;
    q->len--;
    uint32_t slot = (uint32_t)(top.tag & SLOT_MASK);
    sim_eq_payload *p = &q->slots[slot];
    out->time = top.time;
    out->seq = top.tag >> SLOT_BITS;
    out->kind = p->kind;
    out->target = p->target;
    out->arg = p->arg;
    out->ptr = p->ptr;
    p->target = q->free_slot;
    q->free_slot = slot;
    return true;
}

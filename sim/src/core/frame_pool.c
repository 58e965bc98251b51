/*
 * Frame buffers for frames in flight. Size classes of powers of two from
 * 128 B to 64 KiB, each with a free list, so a steady flow of frames
 * allocates nothing after warm-up; and between 1 KiB and 2 KiB one class of
 * SIM_FRAME_MTU_CAP bytes for the frames of a 1500-byte MTU: a host's stack
 * asks for 1,554 bytes for a full-sized IPv4 TCP segment (a 1,514-byte frame
 * behind the headroom of the largest IPv4 header), which a 2 KiB buffer
 * would hold with 494 bytes unused, a fifth of the frames' footprint when a
 * window of them is in flight (issue 19).
 *
 * A frame's bytes may be shared (sim_frame_share): a node that forwards the
 * frame it is receiving (a switch) hands the same bytes to every link it
 * sends on instead of copying them. Each link traversal still has its own
 * sim_frame (its queue link, jitter, capture number); only the bytes are
 * shared, and a link that changes them (corruption, a corrupting fault)
 * first takes a private copy (sim_frame_private), so no other receiver ever
 * sees the change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* The smallest class that holds len bytes (len <= SIM_FRAME_DATA_MAX): one bit scan for the
 * power of two, not a loop, then the MTU class in its place among them. */
static unsigned size_class(size_t len) {
    if (len <= 128) {
        return 0;
    }
    unsigned c = 64u - (unsigned)__builtin_clzll((unsigned long long)len - 1) - 7u;
    if (c < SIM_FRAME_MTU_CLASS) {
        return c; /* 128 << c */
    }
    if (c == SIM_FRAME_MTU_CLASS && len <= SIM_FRAME_MTU_CAP) {
        return SIM_FRAME_MTU_CLASS;
    }
    return c + 1; /* 128 << c, one place up */
}

/* The bytes a frame of class c holds. */
static size_t class_cap(unsigned c) {
    if (c < SIM_FRAME_MTU_CLASS) {
        return (size_t)128 << c;
    }
    return c == SIM_FRAME_MTU_CLASS ? SIM_FRAME_MTU_CAP : (size_t)128 << (c - 1);
}

/*
 * A free frame of class c. The free frames are a stack of pointers per class, not a list through
 * the frames: taking one reads the stack's top, which is hot, instead of the next pointer inside
 * the frame, a cache line the frame's last user wrote long ago (with a window of frames in flight
 * it is no longer in the cache). Last in, first out: the frame freed most recently is handed out
 * first.
 */
static sim_frame *take(sim *s, unsigned c) {
    sim_frame_stack *st = &s->pool.free[c];
    sim_frame *f;
    if (st->n) {
        f = st->v[--st->n];
        f->pooled = false;
        s->pool.live++;
    } else {
        size_t cap = class_cap(c);
        f = malloc(sizeof *f + cap);
        if (!f) {
            return NULL;
        }
        f->cap = (uint32_t)cap;
        f->size_class = (uint8_t)c;
        f->pooled = false;
        s->pool.live++;
    }
    f->next = NULL;
    f->extra_delay = 0;
    f->jitter = 0;
    f->time = 0;
    f->port = 0;
    f->cap_no = 0;
    f->reorder = false;
    f->shaper_counted = false;
    f->refs = 1;
    f->owner = NULL;
    f->bytes = f->data;
    return f;
}

sim_frame *sim_frame_alloc_raw(sim *s, size_t len) {
    sim_frame *f = take(s, size_class(len));
    if (f) {
        f->len = (uint32_t)len;
    }
    return f;
}

sim_frame *sim_frame_alloc(sim *s, const uint8_t *data, size_t len) {
    sim_frame *f = sim_frame_alloc_raw(s, len);
    if (f) {
        memcpy(f->data, data, len);
        s->frame_bytes_copied += len;
    }
    return f;
}

sim_frame *sim_frame_share(sim *s, sim_frame *of) {
    sim_frame *root = of->owner ? of->owner : of;
    sim_frame *f = take(s, 0);
    if (!f) {
        return NULL;
    }
    root->refs++;
    f->owner = root;
    f->bytes = root->bytes;
    f->len = of->len;
    return f;
}

sim_frame *sim_frame_private(sim *s, sim_frame *f) {
    if (!f->owner && f->refs == 1) {
        return f; /* its bytes are its own already */
    }
    sim_frame *p = sim_frame_alloc(s, f->bytes, f->len);
    if (!p) {
        return NULL;
    }
    p->extra_delay = f->extra_delay;
    p->jitter = f->jitter;
    p->time = f->time;
    p->port = f->port;
    p->cap_no = f->cap_no;
    p->reorder = f->reorder;
    p->shaper_counted = f->shaper_counted;
    sim_frame_free(s, f);
    return p;
}

static void put(sim *s, sim_frame *f) {
    if (f->pooled) {
        /* Two owners believed they held it: both would write into the next frame taken. */
        fprintf(stderr, "tern sim: a %u-byte frame was freed twice\n", f->cap);
        abort();
    }
    f->pooled = true;
    sim_frame_stack *st = &s->pool.free[f->size_class];
    s->pool.live--;
    if (st->n == st->cap) {
        uint32_t ncap = st->cap ? st->cap * 2 : 64;
        sim_frame **nv = realloc(st->v, ncap * sizeof *nv);
        if (!nv) {
            free(f); /* the pool is a cache: a frame it cannot keep goes back to the heap */
            return;
        }
        st->v = nv;
        st->cap = ncap;
    }
    st->v[st->n++] = f;
}

void sim_frame_free(sim *s, sim_frame *f) {
    if (!f) {
        return;
    }
    sim_frame *root = f->owner;
    if (root) {
        put(s, f); /* a traversal of shared bytes: drop its reference */
        f = root;
    }
    if (--f->refs == 0) {
        put(s, f);
    }
}

void sim_frame_pool_destroy(sim_frame_pool *p) {
    for (unsigned c = 0; c < SIM_FRAME_CLASSES; c++) {
        sim_frame_stack *st = &p->free[c];
        for (uint32_t i = 0; i < st->n; i++) {
            free(st->v[i]);
        }
        free(st->v);
        st->v = NULL;
        st->n = st->cap = 0;
    }
}

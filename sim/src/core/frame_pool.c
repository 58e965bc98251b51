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

/* Under AddressSanitizer every frame is its own allocation, so that an overrun of one is caught
 * instead of landing in the next frame of its slab. */
#if defined(__SANITIZE_ADDRESS__)
#define FRAME_OWN_ALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FRAME_OWN_ALLOC 1
#endif
#endif

#define SLAB_FIRST 4u             /* frames in a class's first slab */
#define SLAB_BYTES_MAX (1u << 20) /* a slab doubles up to this size (or one frame) */

/* The bytes a frame of class c takes in its slab: a multiple of the alignment. */
static size_t frame_stride(unsigned c) {
    return (sizeof(sim_frame) + class_cap(c) + SIM_FRAME_ALIGN - 1) &
           ~(size_t)(SIM_FRAME_ALIGN - 1);
}

/*
 * A new frame of class c, never used: carved from the class's slab, a new slab when it is used
 * up. Slabs, not one malloc per frame: aligned (sim_internal.h) without aligned_alloc's work for
 * every frame, and a window of frames in flight is allocated a slab at a time. They go back to
 * the heap with the pool (sim_frame_pool_destroy). NULL when out of memory.
 */
static sim_frame *carve(sim_frame_pool *p, unsigned c) {
    size_t stride = frame_stride(c);
#ifdef FRAME_OWN_ALLOC
    (void)p;
    return aligned_alloc(SIM_FRAME_ALIGN, stride);
#else
    sim_frame_carve *k = &p->carve[c];
    if (k->next == k->end) {
        if (p->nslabs == p->slabs_cap) {
            uint32_t ncap = p->slabs_cap ? 2 * p->slabs_cap : 16;
            void **nv = realloc(p->slabs, ncap * sizeof *nv);
            if (!nv) {
                return NULL;
            }
            p->slabs = nv;
            p->slabs_cap = ncap;
        }
        uint32_t n = k->slab_frames ? k->slab_frames : SLAB_FIRST;
        if (n > 1 && (size_t)n * stride > SLAB_BYTES_MAX) {
            n = stride >= SLAB_BYTES_MAX ? 1 : (uint32_t)(SLAB_BYTES_MAX / stride);
        }
        uint8_t *slab = aligned_alloc(SIM_FRAME_ALIGN, n * stride);
        if (!slab) {
            return NULL;
        }
        p->slabs[p->nslabs++] = slab;
        k->next = slab;
        k->end = slab + n * stride;
        k->slab_frames = 2 * n;
    }
    sim_frame *f = (sim_frame *)(void *)k->next;
    k->next += stride;
    return f;
#endif
}

/* A traversal's own state, as a frame starts it (take, sim_frame_reuse). */
static void traversal_reset(sim_frame *f) {
    f->next = NULL;
    f->extra_delay = 0;
    f->jitter = 0;
    f->time = 0;
    f->port = 0;
    f->cap_no = 0;
    f->reorder = false;
    f->shaper_counted = false;
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
        f = carve(&s->pool, c);
        if (!f) {
            return NULL;
        }
        f->cap = (uint32_t)class_cap(c);
        f->size_class = (uint8_t)c;
        f->pooled = false;
        s->pool.live++;
    }
    s->pool.taken++;
    traversal_reset(f);
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

sim_frame *sim_frame_reuse(sim_frame *f) {
    traversal_reset(f);
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
            /* The pool is a cache: a frame it cannot keep stays unused in its slab (or goes back
             * to the heap, when it is an allocation of its own). */
#ifdef FRAME_OWN_ALLOC
            free(f);
#endif
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
#ifdef FRAME_OWN_ALLOC
        for (uint32_t i = 0; i < st->n; i++) {
            free(st->v[i]);
        }
#endif
        free(st->v);
        st->v = NULL;
        st->n = st->cap = 0;
        p->carve[c] = (sim_frame_carve){0};
    }
    for (uint32_t i = 0; i < p->nslabs; i++) {
        free(p->slabs[i]);
    }
    free(p->slabs);
    p->slabs = NULL;
    p->nslabs = p->slabs_cap = 0;
}

/*
 * Frame buffers for frames in flight. Size classes of powers of two from
 * 128 B to 64 KiB, each with a free list, so a steady flow of frames
 * allocates nothing after warm-up.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static unsigned size_class(size_t len) {
    unsigned c = 0;
    size_t cap = 128;
    while (cap < len) {
        cap <<= 1;
        c++;
    }
    return c;
}

sim_frame *sim_frame_alloc(sim *s, const uint8_t *data, size_t len) {
    unsigned c = size_class(len);
    sim_frame *f = s->pool.free[c];
    if (f) {
        s->pool.free[c] = f->next;
    } else {
        size_t cap = (size_t)128 << c;
        f = malloc(sizeof *f + cap);
        if (!f) {
            return NULL;
        }
        f->cap = (uint32_t)cap;
        f->size_class = (uint8_t)c;
    }
    f->next = NULL;
    f->extra_delay = 0;
    f->jitter = 0;
    f->time = 0;
    f->port = 0;
    f->cap_no = 0;
    f->reorder = false;
    f->shaper_counted = false;
    f->len = (uint32_t)len;
    memcpy(f->data, data, len);
    return f;
}

void sim_frame_free(sim *s, sim_frame *f) {
    if (!f) {
        return;
    }
    f->next = s->pool.free[f->size_class];
    s->pool.free[f->size_class] = f;
}

void sim_frame_pool_destroy(sim_frame_pool *p) {
    for (unsigned c = 0; c < SIM_FRAME_CLASSES; c++) {
        sim_frame *f = p->free[c];
        while (f) {
            sim_frame *next = f->next;
            free(f);
            f = next;
        }
        p->free[c] = NULL;
    }
}

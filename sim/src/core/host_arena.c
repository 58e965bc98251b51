/*
 * Memory for the hosts' stack instances (host_arena.h): carved one after the
 * other out of large chunks backed by transparent huge pages, instead of one
 * allocation (and one mapping of 4 KiB pages) per host.
 *
 * Why: a stack instance is hundreds of KB (fixed transmit and loopback
 * buffers, the configured pools), of which an event touches a few lines on
 * several pages. With thousands of hosts those pages no longer fit in the
 * TLB, and every event pays page walks: the cost per host grew with the
 * number of hosts (issue 19, bench_scale). 2 MiB pages hold three hosts each,
 * so the hosts of a large simulation stay within the TLB's reach.
 */
#include "host_arena.h"

#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define CHUNK ((size_t)32 << 20) /* 16 huge pages; a larger instance gets its own chunk */

static size_t round_up(size_t v, size_t to) {
    return (v + to - 1) / to * to;
}

/* A new chunk of at least `need` bytes, aligned to a huge page; false when out of memory. */
static bool new_chunk(sim_host_arena *a, size_t need) {
    if (a->nchunks == a->chunks_cap) {
        uint32_t cap = a->chunks_cap ? 2 * a->chunks_cap : 8;
        sim_host_arena_chunk *c = realloc(a->chunks, cap * sizeof *c);
        if (!c) {
            return false;
        }
        a->chunks = c;
        a->chunks_cap = cap;
    }
    size_t size = need > CHUNK ? round_up(need, HUGE_PAGE) : CHUNK;
    /* Map one huge page more than needed and trim, so that the chunk starts on one. */
    uint8_t *raw =
        mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        return false;
    }
    uint8_t *base = (uint8_t *)round_up((size_t)raw, HUGE_PAGE);
    if (base > raw) {
        munmap(raw, (size_t)(base - raw));
    }
    size_t tail = (size_t)(raw + size + HUGE_PAGE - (base + size));
    if (tail) {
        munmap(base + size, tail);
    }
    /* Advice only: where huge pages are off (or none are free) the chunk works with small ones. */
    (void)madvise(base, size, MADV_HUGEPAGE);
    a->chunks[a->nchunks].base = base;
    a->chunks[a->nchunks].size = size;
    a->nchunks++;
    a->next = base;
    a->end = base + size;
    return true;
}

void *sim_host_arena_alloc(sim_host_arena *a, size_t size) {
    size = round_up(size ? size : 1, 64);
    if ((size_t)(a->end - a->next) < size && !new_chunk(a, size)) {
        return NULL;
    }
    void *p = a->next;
    a->next += size;
    return p;
}

void sim_host_arena_destroy(sim_host_arena *a) {
    for (uint32_t i = 0; i < a->nchunks; i++) {
        munmap(a->chunks[i].base, a->chunks[i].size);
    }
    free(a->chunks);
    *a = (sim_host_arena){0};
}

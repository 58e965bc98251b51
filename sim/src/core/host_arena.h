/*
 * An arena for the hosts' stack instances, owned by the simulation and freed
 * with it (host_arena.c says why). Memory is never returned to it one
 * instance at a time: instances live as long as the simulation.
 */
#ifndef TERN_SIM_HOST_ARENA_H
#define TERN_SIM_HOST_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_host_arena_chunk {
    uint8_t *base;
    size_t size;
} sim_host_arena_chunk;

typedef struct sim_host_arena {
    uint8_t *next, *end; /* the free part of the current chunk */
    sim_host_arena_chunk *chunks;
    uint32_t nchunks, chunks_cap;
} sim_host_arena;

/* size bytes, 64-byte aligned, zero-filled (fresh mappings); NULL when out of memory. */
void *sim_host_arena_alloc(sim_host_arena *a, size_t size);

/* Unmap every chunk; the arena is empty again afterwards. */
void sim_host_arena_destroy(sim_host_arena *a);

#endif

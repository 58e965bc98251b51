/*
 * The index of node names (node_names.h): open addressing with linear
 * probing over node ids, the names themselves staying in the nodes.
 */
#include <stdlib.h>
#include <string.h>

#include "node_names.h"

/* FNV-1a over the name's bytes: deterministic, and spreads names that differ in a digit. */
static uint32_t name_hash(const char *name) {
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h = (h ^ *p) * 16777619u;
    }
    return h;
}

bool sim_node_names_find(const sim_node_names *ix, const char *name, sim_node_name_fn name_of,
                         const void *ctx, uint32_t *out) {
    if (ix->nslots == 0) {
        return false;
    }
    uint32_t mask = ix->nslots - 1;
    /* At most half the slots are used: the probe meets an empty slot. */
    for (uint32_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        uint32_t v = ix->slots[i];
        if (v == 0) {
            return false;
        }
        if (strcmp(name_of(ctx, v - 1), name) == 0) {
            *out = v - 1;
            return true;
        }
    }
}

static void put(uint32_t *slots, uint32_t nslots, uint32_t id, const char *name) {
    uint32_t mask = nslots - 1;
    uint32_t i = name_hash(name) & mask;
    while (slots[i] != 0) {
        i = (i + 1) & mask;
    }
    slots[i] = id + 1;
}

bool sim_node_names_reserve(sim_node_names *ix, uint32_t total, sim_node_name_fn name_of,
                            const void *ctx) {
    if (total <= ix->nslots / 2) {
        return true;
    }
    uint32_t n = ix->nslots ? ix->nslots : 32;
    while (total > n / 2) {
        if (n > UINT32_MAX / 2) {
            return false;
        }
        n *= 2;
    }
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots) {
        return false;
    }
    /* Every indexed name again, at its place in the larger table. */
    for (uint32_t i = 0; i < ix->nslots; i++) {
        if (ix->slots[i] != 0) {
            put(slots, n, ix->slots[i] - 1, name_of(ctx, ix->slots[i] - 1));
        }
    }
    free(ix->slots);
    ix->slots = slots;
    ix->nslots = n;
    return true;
}

void sim_node_names_put(sim_node_names *ix, uint32_t id, sim_node_name_fn name_of,
                        const void *ctx) {
    put(ix->slots, ix->nslots, id, name_of(ctx, id));
    ix->count++;
}

void sim_node_names_free(sim_node_names *ix) {
    free(ix->slots);
    ix->slots = NULL;
    ix->nslots = 0;
    ix->count = 0;
}

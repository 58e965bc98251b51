/*
 * The simulation's index of node names: a hash table of node ids, so that
 * sim_node_add's check for a name already used and sim_node_find take one
 * probe sequence instead of a comparison with every node. Without it, adding
 * N nodes compared N^2/2 names: a second of set-up at 10,000 hosts, minutes
 * at 100,000 (issue 19). Nodes are never removed or renamed, so the index
 * only grows.
 */
#ifndef TERN_SIM_NODE_NAMES_H
#define TERN_SIM_NODE_NAMES_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sim_node_names {
    uint32_t *slots; /* node id + 1 per slot, 0 for an empty slot (open addressing) */
    uint32_t nslots; /* a power of two, at least twice the number of names; 0 before the first */
    uint32_t count;  /* names in the index */
} sim_node_names;

/* The name of node `id`, for the index to compare and rehash with. */
typedef const char *(*sim_node_name_fn)(const void *ctx, uint32_t id);

/* The id of the node called `name`: true and *out, or false when no node has that name. */
bool sim_node_names_find(const sim_node_names *ix, const char *name, sim_node_name_fn name_of,
                         const void *ctx, uint32_t *out);

/* Room for `total` names without growing (the index grows here, never in sim_node_names_put).
 * Returns false when out of memory; the index is then as it was. */
bool sim_node_names_reserve(sim_node_names *ix, uint32_t total, sim_node_name_fn name_of,
                            const void *ctx);

/* Index node `id` (its name not in the index yet, room reserved). */
void sim_node_names_put(sim_node_names *ix, uint32_t id, sim_node_name_fn name_of, const void *ctx);

void sim_node_names_free(sim_node_names *ix);

#endif

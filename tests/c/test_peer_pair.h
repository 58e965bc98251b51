/* Two scripted peers, "a" and "b", on one perfect link: the C tests' smallest simulated network. */
#ifndef TERN_TEST_PEER_PAIR_H
#define TERN_TEST_PEER_PAIR_H

#include "check.h"
#include "tern/sim.h"

typedef struct pair {
    sim *s;
    sim_node_id a, b;
    sim_link_id l;
} pair;

/* A new simulation (seed) holding the two peers, each with room for 1 MiB of received frames,
 * and the link between their ports 0 (a to b is SIM_DIR_A_TO_B). */
static inline pair make_pair(uint64_t seed) {
    pair p;
    CHECK(sim_create(seed, &p.s) == TERN_OK);
    CHECK(sim_peer_add(p.s, "a", 1, 1u << 20, &p.a) == TERN_OK);
    CHECK(sim_peer_add(p.s, "b", 1, 1u << 20, &p.b) == TERN_OK);
    CHECK(sim_link_add(p.s, p.a, 0, p.b, 0, &p.l) == TERN_OK);
    return p;
}

#endif

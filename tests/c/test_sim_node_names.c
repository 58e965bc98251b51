/*
 * The index of node names (sim/src/core/node_names.c, issue 19): sim_node_add refuses a name
 * already used, naming the node that has it, and sim_node_find finds every node by its name, as
 * the node array and the index grow; names whose hashes share a slot are told apart by the names
 * themselves. White-box where it says so (the index on its own, with names chosen to collide).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/node_names.h"
#include "tern/sim.h"

#define NODES 3000u

/* Every node n0..n(count-1) is found under its own id; names never added are not. */
static void check_all_found(sim *s, uint32_t count) {
    char name[32];
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < count; i++) {
        snprintf(name, sizeof name, "n%u", i);
        sim_node_id id = UINT32_MAX;
        if (sim_node_find(s, name, &id) != TERN_OK || id != i) {
            wrong++;
        }
    }
    CHECK_EQ_U64(wrong, 0);
    snprintf(name, sizeof name, "n%u", count);
    sim_node_id id;
    CHECK(sim_node_find(s, name, &id) == TERN_ERR_UNKNOWN_NODE);
    CHECK(sim_node_find(s, "N1", &id) == TERN_ERR_UNKNOWN_NODE); /* case matters */
    CHECK(sim_node_find(s, "n01", &id) == TERN_ERR_UNKNOWN_NODE);
    CHECK(sim_node_find(s, "", &id) == TERN_ERR_UNKNOWN_NODE);
}

/* 3,000 peers n0..n2999: each found under its id after every 500 (the index grows from 32 slots
 * to 8,192 on the way); a second "n1234" is refused by name and id and adds nothing; the next
 * name still gets the next id. Control: before any node, nothing is found. */
static void test_names_found_as_the_index_grows(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_node_id id;
    CHECK(sim_node_find(s, "n0", &id) == TERN_ERR_UNKNOWN_NODE);
    char name[32];
    for (uint32_t i = 0; i < NODES; i++) {
        snprintf(name, sizeof name, "n%u", i);
        CHECK(sim_peer_add(s, name, 1, 0, &id) == TERN_OK);
        CHECK_EQ_U64(id, i);
        if ((i + 1) % 500 == 0) {
            check_all_found(s, i + 1);
        }
    }
    CHECK(sim_peer_add(s, "n1234", 1, 0, &id) == TERN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(sim_last_error(s), "node name 'n1234': already used by node 1234") != NULL);
    CHECK(sim_switch_add(s, "n0", 4, 0, 0, &id) == TERN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(sim_last_error(s), "already used by node 0") != NULL);
    check_all_found(s, NODES);
    CHECK(sim_peer_add(s, "last", 1, 0, &id) == TERN_OK);
    CHECK_EQ_U64(id, NODES);
    CHECK(sim_node_find(s, "last", &id) == TERN_OK && id == NODES);
    CHECK(strcmp(sim_node_name(s, NODES), "last") == 0);
    sim_destroy(s);
}

/* The index's own hash (node_names.c), to choose names that collide. */
static uint32_t fnv1a(const char *name) {
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h = (h ^ *p) * 16777619u;
    }
    return h;
}

typedef struct name_list {
    char name[64][16];
} name_list;

static const char *name_in_list(const void *ctx, uint32_t id) {
    return ((const name_list *)ctx)->name[id];
}

/* White-box: six names whose hashes share their low 5 bits (one slot of the first table of 32),
 * so that each probe passes the others; each is found under its id, and a seventh of the same
 * slot, not indexed, is not (the probe stops at the empty slot after the run). Then 40 more
 * names grow the table twice and the six are still found. */
static void test_colliding_names_told_apart(void) {
    name_list names;
    memset(&names, 0, sizeof names);
    uint32_t n = 0, want = 0;
    char probe[16];
    for (uint32_t k = 0; n < 7; k++) {
        snprintf(probe, sizeof probe, "c%u", k);
        if (n == 0) {
            want = fnv1a(probe) & 31u;
        }
        if ((fnv1a(probe) & 31u) == want) {
            memcpy(names.name[n++], probe, sizeof probe);
        }
    }
    sim_node_names ix = {0};
    uint32_t id;
    CHECK(!sim_node_names_find(&ix, names.name[0], name_in_list, &names, &id));
    CHECK(sim_node_names_reserve(&ix, 6, name_in_list, &names));
    CHECK_EQ_U64(ix.nslots, 32);
    for (uint32_t i = 0; i < 6; i++) {
        sim_node_names_put(&ix, i, name_in_list, &names);
    }
    for (uint32_t i = 0; i < 6; i++) {
        CHECK(sim_node_names_find(&ix, names.name[i], name_in_list, &names, &id) && id == i);
    }
    CHECK(!sim_node_names_find(&ix, names.name[6], name_in_list, &names, &id));
    /* Forty more names, "m0".."m39", at ids 7..46 (id 6 is the one never indexed). */
    for (uint32_t i = 7; i < 47; i++) {
        snprintf(names.name[i], sizeof names.name[i], "m%u", i - 7);
        CHECK(sim_node_names_reserve(&ix, ix.count + 1, name_in_list, &names));
        sim_node_names_put(&ix, i, name_in_list, &names);
    }
    CHECK_EQ_U64(ix.nslots, 128);
    CHECK_EQ_U64(ix.count, 46);
    for (uint32_t i = 0; i < 47; i++) {
        bool found = sim_node_names_find(&ix, names.name[i], name_in_list, &names, &id);
        CHECK(found == (i != 6));
        CHECK(!found || id == i);
    }
    sim_node_names_free(&ix);
    CHECK(!sim_node_names_find(&ix, names.name[0], name_in_list, &names, &id));
}

int main(void) {
    RUN(test_names_found_as_the_index_grows);
    RUN(test_colliding_names_told_apart);
    return check_summary();
}

/*
 * A node's ports (sim/src/core/sim.c, issue 19): each names the link direction it sends into, and
 * a node of up to SIM_NODE_PORTS_INLINE ports keeps them inside itself, so they move with it when
 * the node array grows. White-box where it says so: where the ports live is the simulator's own.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/sim_internal.h"
#include "tern/sim.h"

static void send_one(sim *s, sim_node_id from, uint32_t port, uint8_t tag) {
    uint8_t f[60] = {0};
    f[0] = tag;
    CHECK(sim_peer_send(s, from, port, f, sizeof f) == TERN_OK);
}

/* What `at` received since last asked: the tag of each frame (its first byte) and its port. */
static size_t received(sim *s, sim_node_id at, uint8_t *tags, uint32_t *ports, size_t cap) {
    uint8_t buf[SIM_MAX_FRAME];
    size_t len, n = 0;
    uint32_t port;
    while (sim_peer_recv(s, at, buf, sizeof buf, &len, &port, NULL) == TERN_OK) {
        if (n < cap) {
            tags[n] = buf[0];
            ports[n] = port;
        }
        n++;
    }
    return n;
}

/*
 * Two peers of one port each and one of three (its ports in an allocation of their own), linked
 * a-c (c's port 2) and c-b (c's port 0); then 100 more nodes, so the node array moves several
 * times (16, 32, 64, 128); frames both ways on both links, before and after, reach the other end
 * on the right port, and a link between two of the new nodes carries frames too.
 */
static void test_ports_follow_the_nodes_when_the_array_grows(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_node_id a, b, c;
    CHECK(sim_peer_add(s, "a", 1, 64, &a) == TERN_OK);
    CHECK(sim_peer_add(s, "b", 1, 64, &b) == TERN_OK);
    CHECK(sim_peer_add(s, "c", 3, 64, &c) == TERN_OK);
    sim_link_id l1, l2;
    CHECK(sim_link_add(s, a, 0, c, 2, &l1) == TERN_OK);
    CHECK(sim_link_add(s, c, 0, b, 0, &l2) == TERN_OK);
    uint8_t tags[8];
    uint32_t ports[8];
    for (int round = 0; round < 2; round++) {
        uint8_t t = (uint8_t)(round * 10);
        send_one(s, a, 0, t + 1);
        send_one(s, c, 2, t + 2);
        send_one(s, c, 0, t + 3);
        send_one(s, b, 0, t + 4);
        CHECK(sim_run(s, sim_now(s) + 1000, 0, NULL) == TERN_OK);
        CHECK_EQ_U64(received(s, c, tags, ports, 8), 2);
        CHECK_EQ_U64(tags[0], t + 1); /* from a, on c's port 2 */
        CHECK_EQ_U64(ports[0], 2);
        CHECK_EQ_U64(tags[1], t + 4); /* from b, on c's port 0 */
        CHECK_EQ_U64(ports[1], 0);
        CHECK_EQ_U64(received(s, a, tags, ports, 8), 1);
        CHECK_EQ_U64(tags[0], t + 2);
        CHECK_EQ_U64(received(s, b, tags, ports, 8), 1);
        CHECK_EQ_U64(tags[0], t + 3);
        if (round == 0) {
            for (int i = 0; i < 100; i++) {
                char name[16];
                snprintf(name, sizeof name, "n%d", i);
                sim_node_id id;
                CHECK(sim_peer_add(s, name, 1 + (uint32_t)(i % 3), 64, &id) == TERN_OK);
            }
        }
    }
    /* White-box: the ports of a node of one or two live in it, wherever it now is. */
    for (uint32_t i = 0; i < s->nnodes; i++) {
        const sim_node *n = &s->nodes[i];
        CHECK((n->port_dir == n->port_inline) == (n->nports <= SIM_NODE_PORTS_INLINE));
    }
    sim_node_id x, y;
    CHECK(sim_node_find(s, "n98", &x) == TERN_OK); /* 3 ports */
    CHECK(sim_node_find(s, "n99", &y) == TERN_OK); /* 1 port */
    sim_link_id l3;
    CHECK(sim_link_add(s, x, 1, y, 0, &l3) == TERN_OK);
    send_one(s, y, 0, 77);
    send_one(s, x, 1, 78);
    CHECK(sim_run(s, sim_now(s) + 1000, 0, NULL) == TERN_OK);
    CHECK_EQ_U64(received(s, x, tags, ports, 8), 1);
    CHECK_EQ_U64(tags[0], 77);
    CHECK_EQ_U64(ports[0], 1);
    CHECK_EQ_U64(received(s, y, tags, ports, 8), 1);
    CHECK_EQ_U64(tags[0], 78);
    sim_destroy(s);
}

int main(void) {
    RUN(test_ports_follow_the_nodes_when_the_array_grows);
    return check_summary();
}

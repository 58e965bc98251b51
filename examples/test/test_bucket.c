/*
 * The packet token bucket of --tx-rate-limit / --rx-rate-limit (examples/bucket.h)
 * in virtual time, between two scripted peers: "kernel" on port 0, "host" on
 * port 1. Exact counts at exact times: the buckets start full, refill to N when
 * a frame comes SHAPING-INTERVAL or more after the last refill, drop on empty,
 * and the two directions are independent.
 */
#include <stdio.h>
#include <string.h>

#include "bucket.h"

static int fails;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                        \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

static sim *s;
static sim_node_id kernel, host;

static void send_n(sim_node_id from, int n) {
    uint8_t frame[60];
    memset(frame, 0xab, sizeof frame);
    for (int i = 0; i < n; i++) {
        sim_peer_send(s, from, 0, frame, sizeof frame);
    }
}

/* Run to `t`; return how many frames `peer` received since the last call (and drop them). */
static size_t at(uint64_t t, sim_node_id peer) {
    sim_run(s, t, 0, NULL);
    size_t n = sim_peer_pending(s, peer);
    uint8_t buf[SIM_MAX_FRAME];
    size_t len;
    while (sim_peer_recv(s, peer, buf, sizeof buf, &len, NULL, NULL) == TERN_OK) {
    }
    return n;
}

int main(void) {
    static ex_bucket b;
    const uint64_t ms = 1000000ull;
    EXPECT(sim_create(1, &s) == TERN_OK);
    EXPECT(sim_peer_add(s, "kernel", 1, 0, &kernel) == TERN_OK);
    EXPECT(sim_peer_add(s, "host", 1, 0, &host) == TERN_OK);
    EXPECT(ex_bucket_add(s, &b, 2, 3, 100 * ms) == TERN_OK); /* tx 2, rx 3 per 100 ms */
    sim_link_id l0, l1;
    EXPECT(sim_link_add(s, kernel, 0, b.node, 0, &l0) == TERN_OK);
    EXPECT(sim_link_add(s, b.node, 1, host, 0, &l1) == TERN_OK);

    /* t = 0: a full bucket each way; 5 frames to the host, 3 pass; 4 from it, 2 pass. */
    send_n(kernel, 5);
    send_n(host, 4);
    EXPECT(at(0, host) == 3);
    EXPECT(at(0, kernel) == 2);
    /* Just before the interval has passed: still empty. */
    sim_run(s, 100 * ms - 1, 0, NULL);
    send_n(kernel, 1);
    send_n(host, 1);
    EXPECT(at(100 * ms - 1, host) == 0);
    EXPECT(at(100 * ms - 1, kernel) == 0);
    /* At exactly 100 ms after the refill at 0: refilled to N, not N plus what was left. */
    sim_run(s, 100 * ms, 0, NULL);
    send_n(kernel, 4);
    EXPECT(at(100 * ms, host) == 3);
    /* tx was refilled at 0 too; it refills on its own first frame after 100 ms, here at 150 ms. */
    sim_run(s, 150 * ms, 0, NULL);
    send_n(host, 3);
    EXPECT(at(150 * ms, kernel) == 2);
    /* rx refilled at 100 ms: at 199 ms still empty, at 200 ms full again. */
    sim_run(s, 199 * ms, 0, NULL);
    send_n(kernel, 1);
    EXPECT(at(199 * ms, host) == 0);
    sim_run(s, 200 * ms, 0, NULL);
    send_n(kernel, 1);
    EXPECT(at(200 * ms, host) == 1);

    EXPECT(b.passed[EX_BUCKET_RX] == 7 && b.dropped[EX_BUCKET_RX] == 5);
    EXPECT(b.passed[EX_BUCKET_TX] == 4 && b.dropped[EX_BUCKET_TX] == 4);
    sim_destroy(s);
    if (fails == 0) {
        printf("bucket: all checks passed\n");
    }
    return fails != 0;
}

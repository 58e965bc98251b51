/*
 * The packet token bucket of --tx-rate-limit / --rx-rate-limit (bucket.h).
 */
#include "bucket.h"

#include <string.h>

static void bucket_input(void *state, uint64_t now, uint32_t port, const uint8_t *frame,
                         size_t len) {
    ex_bucket *b = state;
    int dir = port == 1 ? EX_BUCKET_TX : EX_BUCKET_RX;
    if (b->limit[dir] != 0) {
        if (now - b->refilled_at[dir] >= b->interval_ns) {
            b->tokens[dir] = b->limit[dir];
            b->refilled_at[dir] = now;
        }
        if (b->tokens[dir] == 0) {
            b->dropped[dir]++;
            return;
        }
        b->tokens[dir]--;
    }
    b->passed[dir]++;
    sim_node_send(b->s, b->node, port == 1 ? 0 : 1, frame, len);
}

tern_err ex_bucket_add(sim *s, ex_bucket *b, uint32_t tx_limit, uint32_t rx_limit,
                       uint64_t interval_ns) {
    memset(b, 0, sizeof *b);
    b->s = s;
    b->interval_ns = interval_ns;
    b->limit[EX_BUCKET_TX] = b->tokens[EX_BUCKET_TX] = tx_limit;
    b->limit[EX_BUCKET_RX] = b->tokens[EX_BUCKET_RX] = rx_limit;
    sim_node_ops ops;
    memset(&ops, 0, sizeof ops);
    ops.input = bucket_input;
    return sim_node_add(s, "rate-limit", "packet-bucket", 2, &ops, b, &b->node);
}

/*
 * smoltcp's packet rate limiter as a simulator node between the TAP link and
 * the Tern host (--tx-rate-limit, --rx-rate-limit, --shaping-interval): each
 * direction has a bucket of N packet tokens, refilled to N when a frame
 * arrives SHAPING-INTERVAL or more after the last refill; a frame finding the
 * bucket empty is dropped. Port 0 faces the TAP link, port 1 the host: "tx"
 * is what the host sends (port 1 to 0), "rx" what it receives (0 to 1).
 * Integer virtual time only: the same frames at the same times meet the same
 * fate.
 */
#ifndef TERN_EXAMPLE_BUCKET_H
#define TERN_EXAMPLE_BUCKET_H

#include <stdint.h>

#include "tern/sim.h"

enum { EX_BUCKET_TX = 0, EX_BUCKET_RX = 1 };

typedef struct ex_bucket {
    sim *s;
    sim_node_id node;
    uint64_t interval_ns;
    uint32_t limit[2]; /* packets per bucket; 0: no limit in that direction */
    uint32_t tokens[2];
    uint64_t refilled_at[2];
    uint64_t passed[2], dropped[2];
} ex_bucket;

/*
 * ex_bucket_add: the limiter node "rate-limit" in simulation s (b must live
 * as long as s). tx_limit/rx_limit: packets per bucket (0: unlimited);
 * interval_ns > 0. Buckets start full. Returns what sim_node_add returns.
 */
tern_err ex_bucket_add(sim *s, ex_bucket *b, uint32_t tx_limit, uint32_t rx_limit,
                       uint64_t interval_ns);

#endif

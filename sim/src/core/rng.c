/*
 * Seeded random streams: the generator of tern/prng.h (xoshiro256** seeded
 * through splitmix64), one state per stream.
 *
 * Each stream is a pure function of (seed, stream id), so a stream's values
 * never depend on which other streams exist or in which order they were made.
 */
#include "rng.h"

#include "tern/prng.h"

void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream) {
    /*
     * For a fixed seed, stream -> x is a bijection (mix64 is one, and XOR
     * with a constant is one), so two stream ids of one seed never share a
     * starting point. A plain seed ^ stream would let (seed, stream) pairs
     * collide across seeds in an obvious pattern; hashing both avoids that.
     */
    uint64_t x =
        tern_mix64(seed + TERN_SPLITMIX_GAMMA) ^ tern_mix64(stream + 2 * TERN_SPLITMIX_GAMMA);
    x = tern_mix64(x);
    /*
     * Four consecutive splitmix64 outputs come from four distinct counters
     * through a bijection, so at most one of them is zero and the xoshiro
     * state is never all zero (its one forbidden state).
     */
    for (int i = 0; i < 4; i++) {
        r->s[i] = tern_splitmix64_next(&x);
    }
}

uint64_t sim_rng_next(sim_rng *r) {
    return tern_xoshiro256ss_next(r->s);
}

uint32_t sim_rng_u32(sim_rng *r) {
    /* The high bits of xoshiro256** are its best ones. */
    return (uint32_t)(sim_rng_next(r) >> 32);
}

uint64_t sim_rng_below(sim_rng *r, uint64_t n) {
    /*
     * Multiply-high maps 64 random bits onto [0, n) with one draw and no
     * loop, so every caller draws a fixed number of values per frame. The
     * bias is at most n / 2^64, far below anything a test can see.
     */
    return tern_scale_below(sim_rng_next(r), n);
}

sim_prob sim_prob_from_double(double p) {
    /* !(p > 0) also catches NaN, which is never a valid probability. */
    if (!(p > 0.0)) {
        return 0;
    }
    if (p >= 1.0) {
        return SIM_PROB_ONE;
    }
    /* p * 2^32 is exact in a double; adding 0.5 and truncating rounds to nearest. */
    double scaled = p * 4294967296.0 + 0.5;
    sim_prob q = (sim_prob)scaled;
    return q > SIM_PROB_ONE ? SIM_PROB_ONE : q;
}

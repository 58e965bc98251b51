/*
 * Seeded random streams: xoshiro256** (Blackman and Vigna), seeded through
 * splitmix64. Written from the published algorithm descriptions.
 *
 * Each stream is a pure function of (seed, stream id), so a stream's values
 * never depend on which other streams exist or in which order they were made.
 */
#include "rng.h"

/* splitmix64's finaliser: a bijection on 64 bits with good avalanche. */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#define SPLITMIX_GAMMA 0x9e3779b97f4a7c15ULL

static uint64_t splitmix64_next(uint64_t *x) {
    *x += SPLITMIX_GAMMA;
    return mix64(*x);
}

void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream) {
    /*
     * For a fixed seed, stream -> x is a bijection (mix64 is one, and XOR
     * with a constant is one), so two stream ids of one seed never share a
     * starting point. A plain seed ^ stream would let (seed, stream) pairs
     * collide across seeds in an obvious pattern; hashing both avoids that.
     */
    uint64_t x = mix64(seed + SPLITMIX_GAMMA) ^ mix64(stream + 2 * SPLITMIX_GAMMA);
    x = mix64(x);
    /*
     * Four consecutive splitmix64 outputs come from four distinct counters
     * through a bijection, so at most one of them is zero and the xoshiro
     * state is never all zero (its one forbidden state).
     */
    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64_next(&x);
    }
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_next(sim_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
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
    uint64_t x = sim_rng_next(r);
    return (uint64_t)(((unsigned __int128)x * n) >> 64);
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

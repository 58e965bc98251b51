/*
 * The one pseudo-random generator of Tern, shared by the stack (its per-host
 * randomness) and the simulator (its per-impairment streams): xoshiro256**
 * (Blackman and Vigna) seeded through splitmix64, written from the published
 * algorithm descriptions. Header-only (static inline), so it adds no symbols
 * and no state to either library: the state is always the caller's.
 */
#ifndef TERN_PRNG_H
#define TERN_PRNG_H

#ifndef TERN_CDEF
#include <stdint.h>
#endif

#define TERN_SPLITMIX_GAMMA 0x9e3779b97f4a7c15ULL

/* splitmix64's finaliser: a bijection on 64 bits with good avalanche. */
static inline uint64_t tern_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The next splitmix64 output of the counter *x. */
static inline uint64_t tern_splitmix64_next(uint64_t *x) {
    *x += TERN_SPLITMIX_GAMMA;
    return tern_mix64(*x);
}

static inline uint64_t tern_rotl64(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

/* The next 64 bits of the xoshiro256** state s (never all zero). */
static inline uint64_t tern_xoshiro256ss_next(uint64_t s[4]) {
    uint64_t result = tern_rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = tern_rotl64(s[3], 45);
    return result;
}

/* A uniform integer in [0, n) from 64 random bits, by multiply-high (one draw, no loop). */
static inline uint64_t tern_scale_below(uint64_t x, uint64_t n) {
    return (uint64_t)(((unsigned __int128)x * n) >> 64);
}

#endif /* TERN_PRNG_H */

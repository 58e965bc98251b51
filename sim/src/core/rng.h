/*
 * Seeded random streams (internal to libternsim).
 *
 * Every impairment of every link direction draws from its own stream, derived
 * from the simulation seed and fixed identifiers, so that enabling one
 * impairment never shifts another's pattern (notes/link-models.md). The
 * generator is xoshiro256** seeded through splitmix64.
 *
 * Probabilities are fixed point (sim_prob): p * 2^32 in [0, 2^32], compared
 * against one 32-bit draw, so no floating point decides a frame's fate.
 */
#ifndef TERN_SIM_RNG_H
#define TERN_SIM_RNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sim_rng {
    uint64_t s[4];
} sim_rng;

/* A probability in fixed point: p * 2^32, 0 (never) .. 2^32 (always). */
typedef uint64_t sim_prob;

#define SIM_PROB_ONE ((sim_prob)1 << 32)

/*
 * sim_rng_seed: derive an independent stream from the simulation seed and a
 * stream identifier (see sim_stream_id). Same (seed, stream) gives the same
 * sequence on every platform.
 */
void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream);

/* sim_rng_next: the next 64 random bits (one draw). */
uint64_t sim_rng_next(sim_rng *r);

/* sim_rng_u32: the next 32 random bits (one draw: the high half of sim_rng_next). */
uint32_t sim_rng_u32(sim_rng *r);

/* sim_rng_below: a uniform integer in [0, n) for n >= 1, from one draw (multiply-high). */
uint64_t sim_rng_below(sim_rng *r, uint64_t n);

/*
 * sim_prob_from_double: fixed point from p in [0, 1] (rounded to nearest).
 * Callers validate the range first; out-of-range values are clamped.
 */
sim_prob sim_prob_from_double(double p);

/* sim_prob_hit: true when the 32-bit draw u falls under probability p. */
static inline bool sim_prob_hit(sim_prob p, uint32_t u) {
    return (uint64_t)u < p;
}

/*
 * sim_stream_id: the identifier of one stream, from the link id, the
 * direction (0/1) and the impairment (enum sim_stream_kind). Fixed
 * identifiers, never pointers or creation order of unrelated objects.
 */
enum sim_stream_kind {
    SIM_STREAM_DUPLICATE = 1,
    SIM_STREAM_LOSS = 2,
    SIM_STREAM_CORRUPT = 3,
    SIM_STREAM_JITTER = 4,
    SIM_STREAM_REORDER = 5,
    SIM_STREAM_FAULT = 6,
    SIM_STREAM_COPY =
        7, /* draws for duplicate copies, so copies never shift the originals' pattern */
};

static inline uint64_t sim_stream_id(uint32_t link, uint32_t dir, enum sim_stream_kind kind) {
    return ((uint64_t)link << 16) | ((uint64_t)(dir & 0xff) << 8) | (uint64_t)kind;
}

#endif /* TERN_SIM_RNG_H */

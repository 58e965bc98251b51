/*
 * Unit tests of the seeded random streams (sim/src/core/rng.c).
 *
 * The pinned values make any change to the generator or to the seeding
 * visible: such a change silently changes every loss pattern and every
 * golden pcap, so it must be deliberate.
 */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "core/rng.h"

/* The xoshiro256** core, checked on the state {1, 2, 3, 4} against the published outputs. */
static void test_xoshiro_core_vectors(void) {
    sim_rng r = {.s = {1, 2, 3, 4}};
    CHECK_EQ_U64(sim_rng_next(&r), 11520u);
    CHECK_EQ_U64(sim_rng_next(&r), 0u);
    CHECK_EQ_U64(sim_rng_next(&r), 1509978240u);
    CHECK_EQ_U64(sim_rng_next(&r), 1215971899390074240u);
}

/* First values of a few (seed, stream) pairs, computed by an independent reimplementation. */
static void test_pinned_first_values(void) {
    sim_rng r;
    sim_rng_seed(&r, 0, 0);
    CHECK_EQ_U64(sim_rng_next(&r), 0xea0249d80a2543d5u);
    CHECK_EQ_U64(sim_rng_next(&r), 0xe3bab27a35d8dd26u);
    CHECK_EQ_U64(sim_rng_next(&r), 0x681cc0c9c98e3bbau);

    sim_rng_seed(&r, 42, 0);
    CHECK_EQ_U64(sim_rng_next(&r), 0xe966a25bba032ebfu);
    CHECK_EQ_U64(sim_rng_next(&r), 0xf8f7fd502b9f3dfdu);

    sim_rng_seed(&r, 42, 1);
    CHECK_EQ_U64(sim_rng_next(&r), 0x49a79db8285d3499u);
    CHECK_EQ_U64(sim_rng_next(&r), 0xa46990a27d4f1bc9u);

    /* The loss stream of link 3, direction B->A. */
    uint64_t id = sim_stream_id(3, 1, SIM_STREAM_LOSS);
    CHECK_EQ_U64(id, (3u << 16) | (1u << 8) | 2u);
    sim_rng_seed(&r, 7, id);
    CHECK_EQ_U64(sim_rng_next(&r), 0x582f529310793ff9u);
    CHECK_EQ_U64(sim_rng_next(&r), 0x4d28a34c71e43790u);
    CHECK_EQ_U64(sim_rng_next(&r), 0x58d3328fb9e4d8adu);
}

static void test_same_seed_same_sequence(void) {
    sim_rng a, b;
    sim_rng_seed(&a, 12345, 99);
    sim_rng_seed(&b, 12345, 99);
    int same = 1;
    for (int i = 0; i < 100000; i++) {
        if (sim_rng_next(&a) != sim_rng_next(&b)) {
            same = 0;
        }
    }
    CHECK(same);
}

/* Count positions where two streams agree: independent streams almost never do. */
static int agreements(uint64_t seed_a, uint64_t stream_a, uint64_t seed_b, uint64_t stream_b) {
    sim_rng a, b;
    sim_rng_seed(&a, seed_a, stream_a);
    sim_rng_seed(&b, seed_b, stream_b);
    int n = 0;
    for (int i = 0; i < 1000; i++) {
        n += sim_rng_next(&a) == sim_rng_next(&b);
    }
    return n;
}

static void test_different_streams_differ(void) {
    CHECK_EQ_U64(agreements(1, 0, 1, 1), 0);
    CHECK_EQ_U64(agreements(1, sim_stream_id(0, 0, SIM_STREAM_LOSS), 1,
                            sim_stream_id(0, 1, SIM_STREAM_LOSS)),
                 0);
    CHECK_EQ_U64(agreements(1, sim_stream_id(5, 0, SIM_STREAM_LOSS), 1,
                            sim_stream_id(5, 0, SIM_STREAM_DUPLICATE)),
                 0);
    /* Different seeds, same stream. */
    CHECK_EQ_U64(agreements(1, 2, 2, 2), 0);
    /* Swapping seed and stream must not give the same stream. */
    CHECK_EQ_U64(agreements(3, 4, 4, 3), 0);

    /* No two of many streams of one seed start the same (their first value). */
    enum { N = 2000 };
    static uint64_t first[N];
    for (int i = 0; i < N; i++) {
        sim_rng r;
        sim_rng_seed(&r, 77, (uint64_t)i);
        first[i] = sim_rng_next(&r);
    }
    int dup = 0;
    for (int i = 0; i < N; i++) {
        for (int j = i + 1; j < N; j++) {
            dup += first[i] == first[j];
        }
    }
    CHECK_EQ_U64(dup, 0);
}

static void test_u32_is_high_half_of_one_draw(void) {
    sim_rng a, b;
    sim_rng_seed(&a, 9, 9);
    sim_rng_seed(&b, 9, 9);
    for (int i = 0; i < 100; i++) {
        CHECK_EQ_U64(sim_rng_u32(&a), sim_rng_next(&b) >> 32);
    }
    CHECK(a.s[0] == b.s[0] && a.s[1] == b.s[1] && a.s[2] == b.s[2] && a.s[3] == b.s[3]);
}

/*
 * Chi-square of `draws` values of sim_rng_below(n) in n bins. For n - 1
 * degrees of freedom the statistic has mean n-1 and sd sqrt(2(n-1)); we
 * accept anything below mean + 6 sd, which a fair generator exceeds with
 * negligible probability and a biased one (even by 1% per bin) does not meet.
 */
static double chi_square_below(uint64_t seed, uint64_t n, int draws) {
    static uint64_t bins[64];
    sim_rng r;
    sim_rng_seed(&r, seed, 1);
    for (uint64_t i = 0; i < n; i++) {
        bins[i] = 0;
    }
    int in_range = 1;
    for (int i = 0; i < draws; i++) {
        uint64_t v = sim_rng_below(&r, n);
        if (v >= n) {
            in_range = 0;
            continue;
        }
        bins[v]++;
    }
    CHECK(in_range);
    double expected = (double)draws / (double)n, chi = 0;
    for (uint64_t i = 0; i < n; i++) {
        double d = (double)bins[i] - expected;
        chi += d * d / expected;
    }
    return chi;
}

static void test_below_range_and_uniformity(void) {
    const uint64_t ns[] = {2, 3, 7, 10, 64};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        double df = (double)(ns[k] - 1);
        double chi = chi_square_below(1000 + k, ns[k], 1000000);
        if (!(chi < df + 6 * sqrt(2 * df))) {
            fprintf(stderr, "n=%" PRIu64 ": chi-square %.2f with %.0f dof\n", ns[k], chi, df);
        }
        CHECK(chi < df + 6 * sqrt(2 * df));
    }

    /* n = 1 is always 0; huge n stays below n; one draw per call. */
    sim_rng r, twin;
    sim_rng_seed(&r, 5, 5);
    sim_rng_seed(&twin, 5, 5);
    int ok = 1;
    for (int i = 0; i < 1000; i++) {
        ok &= sim_rng_below(&r, 1) == 0;
        ok &= sim_rng_below(&r, UINT64_MAX) < UINT64_MAX;
        uint64_t big = (UINT64_C(1) << 63) + 12345;
        ok &= sim_rng_below(&r, big) < big;
    }
    CHECK(ok);
    for (int i = 0; i < 3000; i++) {
        sim_rng_next(&twin);
    }
    CHECK(r.s[0] == twin.s[0] && r.s[1] == twin.s[1] && r.s[2] == twin.s[2] && r.s[3] == twin.s[3]);

    /* Multiply-high: the value is the top of x * n, so it is pinned by the draw. */
    sim_rng a, b;
    sim_rng_seed(&a, 8, 8);
    sim_rng_seed(&b, 8, 8);
    uint64_t x = sim_rng_next(&b);
    CHECK_EQ_U64(sim_rng_below(&a, 1000), (uint64_t)(((unsigned __int128)x * 1000) >> 64));
}

static void test_prob_from_double(void) {
    CHECK_EQ_U64(sim_prob_from_double(0.0), 0);
    CHECK_EQ_U64(sim_prob_from_double(1.0), SIM_PROB_ONE);
    CHECK_EQ_U64(sim_prob_from_double(0.5), UINT64_C(1) << 31);
    CHECK_EQ_U64(sim_prob_from_double(0.25), UINT64_C(1) << 30);
    /* Rounded to nearest: 2^-33 is half a unit, 2^-34 a quarter. */
    CHECK_EQ_U64(sim_prob_from_double(ldexp(1.0, -33)), 1);
    CHECK_EQ_U64(sim_prob_from_double(ldexp(1.0, -34)), 0);
    CHECK_EQ_U64(sim_prob_from_double(ldexp(3.0, -34)), 1);
    CHECK_EQ_U64(sim_prob_from_double(1.0 - ldexp(1.0, -40)), SIM_PROB_ONE);
    CHECK_EQ_U64(sim_prob_from_double(0.1), 429496730); /* 429496729.6 rounded */
    /* Out of range is clamped (callers validate first); NaN is never a hit. */
    CHECK_EQ_U64(sim_prob_from_double(-0.5), 0);
    CHECK_EQ_U64(sim_prob_from_double(1.5), SIM_PROB_ONE);
    CHECK_EQ_U64(sim_prob_from_double(NAN), 0);
    CHECK_EQ_U64(sim_prob_from_double(INFINITY), SIM_PROB_ONE);

    /* 0 never hits, 1 always does, whatever the draw. */
    CHECK(!sim_prob_hit(0, 0));
    CHECK(sim_prob_hit(SIM_PROB_ONE, UINT32_MAX));
    CHECK(sim_prob_hit(1, 0));
    CHECK(!sim_prob_hit(1, 1));
}

int main(void) {
    RUN(test_xoshiro_core_vectors);
    RUN(test_pinned_first_values);
    RUN(test_same_seed_same_sequence);
    RUN(test_different_streams_differ);
    RUN(test_u32_is_high_half_of_one_draw);
    RUN(test_below_range_and_uniformity);
    RUN(test_prob_from_double);
    return check_summary();
}

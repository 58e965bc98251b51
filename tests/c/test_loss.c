/*
 * Unit tests of the loss models (sim/src/link/loss.c) against
 * notes/link-models.md.
 *
 * Two kinds of checks. Exact ones replay the stream on a twin generator and
 * compare every decision with the rule the note states (ranges, draw order,
 * draw counts). Statistical ones run each model for 10^6 frames and compare
 * the loss rate and the mean loss-burst length with values computed from
 * the model's Markov chain, with a tolerance of 5 standard errors derived
 * from the sample: for the loss rate the exact asymptotic variance of the
 * chain (so correlation is accounted for), for burst lengths the exact
 * geometric variance where bursts are i.i.d. and batch means otherwise.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "link/loss.h"

#define MAXS 4
#define Z 5.0 /* standard errors of tolerance */

/* ------------------------------------------------------------------------ */
/* Chain arithmetic (doubles are fine here: this is the test's statistics)   */
/* ------------------------------------------------------------------------ */

/* Solve A x = b (n <= MAXS) by Gaussian elimination with partial pivoting. */
static void solve(int n, double a_in[MAXS][MAXS], const double *b_in, double *x) {
    double a[MAXS][MAXS + 1];
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            a[i][j] = a_in[i][j];
        }
        a[i][n] = b_in[i];
    }
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++) {
            if (fabs(a[r][c]) > fabs(a[piv][c])) {
                piv = r;
            }
        }
        for (int j = 0; j <= n; j++) {
            double tmp = a[c][j];
            a[c][j] = a[piv][j];
            a[piv][j] = tmp;
        }
        for (int r = 0; r < n; r++) {
            if (r != c) {
                double f = a[r][c] / a[c][c];
                for (int j = c; j <= n; j++) {
                    a[r][j] -= f * a[c][j];
                }
            }
        }
    }
    for (int i = 0; i < n; i++) {
        x[i] = a[i][n] / a[i][i];
    }
}

/*
 * What the chain predicts for a loss process where, in stationarity, frame t
 * is lost with probability ell[X_t] independently given the state sequence.
 */
typedef struct prediction {
    double pi[MAXS];
    double rate;       /* long-run loss rate */
    double var;        /* asymptotic variance of the loss indicator's mean, times N */
    double burst_mean; /* mean length of a run of consecutive losses */
} prediction;

static prediction predict(int n, double P[MAXS][MAXS], const double *ell) {
    prediction pr = {{0}, 0, 0, 0};
    /* Stationary distribution: pi (P - I) = 0 with one equation replaced by sum(pi) = 1. */
    double a[MAXS][MAXS], b[MAXS] = {0};
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            a[i][j] = P[j][i] - (i == j ? 1.0 : 0.0);
        }
    }
    for (int j = 0; j < n; j++) {
        a[n - 1][j] = 1.0;
    }
    b[n - 1] = 1.0;
    solve(n, a, b, pr.pi);

    for (int i = 0; i < n; i++) {
        pr.rate += pr.pi[i] * ell[i];
    }
    /*
     * Asymptotic variance: the Bernoulli noise given the state, plus the
     * chain part 2 <fbar, g>_pi - <fbar, fbar>_pi where g = Z fbar and
     * Z = (I - P + 1 pi)^-1 is the fundamental matrix. This is the sum of all
     * autocovariances of ell(X_t), so correlated runs widen the tolerance as
     * they should.
     */
    double fbar[MAXS], g[MAXS], zinv[MAXS][MAXS];
    for (int i = 0; i < n; i++) {
        fbar[i] = ell[i] - pr.rate;
        for (int j = 0; j < n; j++) {
            zinv[i][j] = (i == j ? 1.0 : 0.0) - P[i][j] + pr.pi[j];
        }
    }
    solve(n, zinv, fbar, g);
    for (int i = 0; i < n; i++) {
        pr.var += pr.pi[i] * ell[i] * (1 - ell[i]);
        pr.var += pr.pi[i] * fbar[i] * (2 * g[i] - fbar[i]);
    }
    /* Mean burst = P(lost) / P(a burst starts) = P(L_t) / P(not L_{t-1}, L_t). */
    double starts = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            starts += pr.pi[i] * (1 - ell[i]) * P[i][j] * ell[j];
        }
    }
    pr.burst_mean = pr.rate / starts;
    return pr;
}

/* ------------------------------------------------------------------------ */
/* Measurement                                                               */
/* ------------------------------------------------------------------------ */

#define NBATCH 100

typedef struct measured {
    uint64_t frames, lost, bursts;
    double rate, burst_mean;
    double burst_se_batch; /* standard error of burst_mean from batch means over bursts */
    double bad_run_mean;   /* GE only: mean length of runs in the Bad state */
    uint64_t bad_runs;
} measured;

static uint32_t burst_len[1u << 22];

static measured run_model(sim_loss *l, uint64_t seed, uint64_t frames) {
    measured m = {0};
    sim_rng r;
    sim_rng_seed(&r, seed, sim_stream_id(1, 0, SIM_STREAM_LOSS));
    uint32_t cur = 0, bad = 0;
    uint64_t nb = 0, bad_total = 0, burst_total = 0;
    const size_t cap = sizeof burst_len / sizeof burst_len[0];
    for (uint64_t i = 0; i < frames; i++) {
        int was_bad = l->kind == SIM_LOSS_GILBERT_ELLIOTT && l->state == 1;
        if (sim_loss_decide(l, &r)) {
            m.lost++;
            cur++;
        } else if (cur) {
            if (nb < cap) {
                burst_len[nb] = cur;
            }
            nb++;
            burst_total += cur;
            cur = 0;
        }
        if (was_bad) {
            bad++;
        }
        int now_bad = l->kind == SIM_LOSS_GILBERT_ELLIOTT && l->state == 1;
        if (bad && !now_bad) {
            m.bad_runs++;
            bad_total += bad;
            bad = 0;
        }
    }
    m.frames = frames;
    m.bursts = nb;
    m.rate = (double)m.lost / (double)frames;
    /* Only completed bursts: the one cut by the end of the run is left out. */
    m.burst_mean = nb ? (double)burst_total / (double)nb : 0;
    /* Batch means over the first `cap` bursts (plenty for a standard error). */
    size_t kept = nb < cap ? (size_t)nb : cap;
    if (kept >= 10 * NBATCH) {
        size_t per = kept / NBATCH;
        double means[NBATCH], mm = 0, ss = 0;
        for (int b = 0; b < NBATCH; b++) {
            double s = 0;
            for (size_t i = 0; i < per; i++) {
                s += burst_len[(size_t)b * per + i];
            }
            means[b] = s / (double)per;
            mm += means[b];
        }
        mm /= NBATCH;
        for (int b = 0; b < NBATCH; b++) {
            ss += (means[b] - mm) * (means[b] - mm);
        }
        m.burst_se_batch = sqrt(ss / (NBATCH - 1)) / sqrt((double)NBATCH);
    }
    m.bad_run_mean = m.bad_runs ? (double)bad_total / (double)m.bad_runs : 0;
    return m;
}

/* Compare one figure; print both and the tolerance when it fails, and always in verbose mode. */
static int near(const char *what, double got, double want, double tol) {
    int ok = fabs(got - want) <= tol;
    printf("  %-34s measured %.6f expected %.6f tolerance %.6f%s\n", what, got, want, tol,
           ok ? "" : "  <-- FAIL");
    return ok;
}

/* The loss-rate and burst-length checks every model goes through. */
static void check_against(const char *name, const measured *m, const prediction *pr,
                          double burst_geometric_sd) {
    printf("%s: %" PRIu64 " frames, %" PRIu64 " lost, %" PRIu64 " bursts\n", name, m->frames,
           m->lost, m->bursts);
    double rate_tol = Z * sqrt(pr->var / (double)m->frames);
    CHECK(near("loss rate", m->rate, pr->rate, rate_tol));
    /* Enough bursts that the test means something. */
    CHECK(m->bursts >= 2000);
    double se =
        burst_geometric_sd > 0 ? burst_geometric_sd / sqrt((double)m->bursts) : m->burst_se_batch;
    CHECK(se > 0);
    CHECK(near("mean loss burst", m->burst_mean, pr->burst_mean, Z * se));
    /* And the tolerances are tight enough to catch a real error (within 5%). */
    CHECK(Z * se < 0.05 * pr->burst_mean);
    CHECK(rate_tol < 0.05 * pr->rate);
}

/* ------------------------------------------------------------------------ */
/* Statistical tests per model                                               */
/* ------------------------------------------------------------------------ */

static void bernoulli_case(double p, uint64_t seed, uint64_t frames) {
    sim_loss l;
    sim_loss_init_bernoulli(&l, p);
    measured m = run_model(&l, seed, frames);
    double P[MAXS][MAXS] = {{1}};
    double ell[MAXS] = {p};
    prediction pr = predict(1, P, ell);
    CHECK(fabs(pr.rate - p) < 1e-12);
    CHECK(fabs(pr.burst_mean - 1 / (1 - p)) < 1e-9);
    CHECK(fabs(pr.var - p * (1 - p)) < 1e-12);
    char name[64];
    snprintf(name, sizeof name, "bernoulli p=%g", p);
    /* Burst lengths are i.i.d. geometric with mean 1/(1-p): sd sqrt(p)/(1-p). */
    check_against(name, &m, &pr, sqrt(p) / (1 - p));
}

static void test_bernoulli_statistics(void) {
    bernoulli_case(0.1, 11, 4000000);
    bernoulli_case(0.5, 12, 4000000);
    bernoulli_case(0.01, 13, 10000000);

    /* The extremes are exact. */
    sim_loss l;
    sim_loss_init_bernoulli(&l, 0.0);
    measured m = run_model(&l, 14, 100000);
    CHECK_EQ_U64(m.lost, 0);
    sim_loss_init_bernoulli(&l, 1.0);
    m = run_model(&l, 15, 100000);
    CHECK_EQ_U64(m.lost, 100000);
    sim_loss_init_none(&l);
    m = run_model(&l, 16, 1000);
    CHECK_EQ_U64(m.lost, 0);
}

static void ge_case(double p, double r, double h1, double k1, uint64_t seed, uint64_t frames,
                    double burst_geometric_sd) {
    sim_loss l;
    sim_loss_init_gilbert_elliott(&l, p, r, h1, k1);
    CHECK_EQ_I64(l.state, 0);
    measured m = run_model(&l, seed, frames);
    double P[MAXS][MAXS] = {{1 - p, p}, {r, 1 - r}};
    double ell[MAXS] = {k1, h1};
    prediction pr = predict(2, P, ell);
    /* The closed forms of the note. */
    double pi_bad = p / (p + r);
    CHECK(fabs(pr.pi[1] - pi_bad) < 1e-12);
    CHECK(fabs(pr.rate - ((1 - pi_bad) * k1 + pi_bad * h1)) < 1e-12);
    char name[96];
    snprintf(name, sizeof name, "gilbert-elliott p=%g r=%g 1-h=%g 1-k=%g", p, r, h1, k1);
    check_against(name, &m, &pr, burst_geometric_sd);
    /* Bad runs are geometric with mean 1/r (sd sqrt(1-r)/r), whatever h and k. */
    CHECK(m.bad_runs >= 2000);
    CHECK(near("mean bad-state run", m.bad_run_mean, 1 / r,
               Z * sqrt(1 - r) / r / sqrt((double)m.bad_runs)));
}

static void test_gilbert_elliott_statistics(void) {
    /* Bad loses all, Good nothing: loss bursts are the bad runs, mean 1/r = 4. */
    {
        double p = 0.01, r = 0.25;
        double P[MAXS][MAXS] = {{1 - p, p}, {r, 1 - r}};
        double ell[MAXS] = {0, 1};
        CHECK(fabs(predict(2, P, ell).burst_mean - 1 / r) < 1e-9);
        ge_case(p, r, 1, 0, 21, 10000000, sqrt(1 - r) / r);
    }
    /* General: losses in both states, bursts no longer i.i.d. (batch means). */
    ge_case(0.05, 0.3, 0.8, 0.02, 22, 4000000, 0);
    /* netem's defaults with only p: r = 1-p, 1-h = 1, 1-k = 0 is Bernoulli(p). */
    {
        double p = 0.2;
        double P[MAXS][MAXS] = {{1 - p, p}, {1 - p, p}};
        double ell[MAXS] = {0, 1};
        prediction pr = predict(2, P, ell);
        CHECK(fabs(pr.rate - p) < 1e-12);
        CHECK(fabs(pr.burst_mean - 1 / (1 - p)) < 1e-9);
        ge_case(p, 1 - p, 1, 0, 23, 4000000, sqrt(p) / (1 - p));
    }
}

static void markov_case(double p13, double p31, double p32, double p23, double p14, uint64_t seed,
                        uint64_t frames) {
    sim_loss l;
    sim_loss_init_markov4(&l, p13, p31, p32, p23, p14);
    CHECK_EQ_I64(l.state, 1);
    measured m = run_model(&l, seed, frames);
    /* States 1..4 as indices 0..3; the loss of a frame is "moved to 3 or 4". */
    double P[MAXS][MAXS] = {
        {1 - p13 - p14, 0, p13, p14},
        {0, 1 - p23, p23, 0},
        {p31, p32, 1 - p31 - p32, 0},
        {1, 0, 0, 0},
    };
    double ell[MAXS] = {0, 0, 1, 1};
    prediction pr = predict(4, P, ell);
    /* Loss rate is pi3 + pi4. */
    CHECK(fabs(pr.rate - (pr.pi[2] + pr.pi[3])) < 1e-12);
    /*
     * Cross-check the burst mean by the structure of the chain: a burst entered
     * through state 4 is one frame long; one entered through state 3 stays
     * there for a geometric time of mean 1/(p31+p32).
     */
    double iso = pr.pi[0] * p14, into3 = pr.pi[0] * p13 + pr.pi[1] * p23;
    double structural = (iso + into3 / (p31 + p32)) / (iso + into3);
    CHECK(fabs(pr.burst_mean - structural) < 1e-9);
    char name[128];
    snprintf(name, sizeof name, "markov4 p13=%g p31=%g p32=%g p23=%g p14=%g", p13, p31, p32, p23,
             p14);
    check_against(name, &m, &pr, 0);
    printf("  stationary pi = %.5f %.5f %.5f %.5f\n", pr.pi[0], pr.pi[1], pr.pi[2], pr.pi[3]);
}

static void test_markov4_statistics(void) {
    markov_case(0.02, 0.3, 0.2, 0.1, 0.01, 31, 10000000);
    markov_case(0.05, 0.6, 0.3, 0.4, 0.05, 32, 4000000);
    /* netem's defaults with only p13: p31 = 1-p13, p32 = 0, p23 = 1, p14 = 0 is Bernoulli(p13). */
    markov_case(0.1, 0.9, 0.0, 1.0, 0.0, 33, 4000000);
}

/* ------------------------------------------------------------------------ */
/* Exact checks: the rules, draw by draw                                     */
/* ------------------------------------------------------------------------ */

static int same_position(const sim_rng *a, const sim_rng *b) {
    return memcmp(a->s, b->s, sizeof a->s) == 0;
}

/* decide draws exactly sim_loss_draws values per frame, lost or not. */
static void check_draw_count(sim_loss *l, unsigned want, int frames) {
    CHECK_EQ_U64(sim_loss_draws(l), want);
    sim_rng r, twin;
    sim_rng_seed(&r, 41, 7);
    sim_rng_seed(&twin, 41, 7);
    int aligned = 1;
    for (int i = 0; i < frames; i++) {
        sim_loss_decide(l, &r);
        for (unsigned k = 0; k < want; k++) {
            sim_rng_next(&twin);
        }
        aligned &= same_position(&r, &twin);
    }
    CHECK(aligned);
}

static void test_draws_per_frame(void) {
    sim_loss l;
    sim_loss_init_none(&l);
    check_draw_count(&l, 0, 1000);
    sim_loss_init_bernoulli(&l, 0.3);
    check_draw_count(&l, 1, 10000);
    sim_loss_init_bernoulli(&l, 0.0);
    check_draw_count(&l, 1, 1000);
    sim_loss_init_bernoulli(&l, 1.0);
    check_draw_count(&l, 1, 1000);
    sim_loss_init_gilbert_elliott(&l, 0.2, 0.3, 0.9, 0.1);
    check_draw_count(&l, 2, 10000);
    sim_loss_init_gilbert_elliott(&l, 0, 0, 0, 0);
    check_draw_count(&l, 2, 1000);
    /* All four Markov states visited, state 4 included (which still draws). */
    sim_loss_init_markov4(&l, 0.2, 0.3, 0.3, 0.5, 0.2);
    check_draw_count(&l, 1, 10000);
    sim_loss_init_markov4(&l, 0, 0, 0, 0, 1.0); /* 1 -> 4 -> 1 -> 4 ... */
    check_draw_count(&l, 1, 1000);
}

/* Gilbert-Elliott: u1 moves the state, u2 decides the loss in the state the frame started in. */
static void test_gilbert_elliott_rule(void) {
    const double p = 0.3, r = 0.4, h1 = 0.7, k1 = 0.1;
    sim_loss l;
    sim_loss_init_gilbert_elliott(&l, p, r, h1, k1);
    sim_rng rng, twin;
    sim_rng_seed(&rng, 51, 51);
    sim_rng_seed(&twin, 51, 51);
    int state = 0, ok = 1, visits[2] = {0, 0};
    for (int i = 0; i < 100000; i++) {
        uint32_t u1 = sim_rng_u32(&twin), u2 = sim_rng_u32(&twin);
        bool want_lost, got;
        visits[state]++;
        if (state == 0) {
            want_lost = u2 < sim_prob_from_double(k1);
            if (u1 < sim_prob_from_double(p)) {
                state = 1;
            }
        } else {
            want_lost = u2 < sim_prob_from_double(h1);
            if (u1 < sim_prob_from_double(r)) {
                state = 0;
            }
        }
        got = sim_loss_decide(&l, &rng);
        ok &= got == want_lost && l.state == state;
    }
    CHECK(ok);
    CHECK(visits[0] > 1000 && visits[1] > 1000);
}

/* Markov: one draw, contiguous ranges, exactly as the note lists them. */
static void test_markov4_rule(void) {
    const double p13 = 0.2, p31 = 0.25, p32 = 0.35, p23 = 0.45, p14 = 0.15;
    const sim_prob q13 = sim_prob_from_double(p13), q31 = sim_prob_from_double(p31),
                   q32 = sim_prob_from_double(p32), q23 = sim_prob_from_double(p23),
                   q14 = sim_prob_from_double(p14);
    sim_loss l;
    sim_loss_init_markov4(&l, p13, p31, p32, p23, p14);
    sim_rng rng, twin;
    sim_rng_seed(&rng, 61, 61);
    sim_rng_seed(&twin, 61, 61);
    int state = 1, ok = 1, visits[5] = {0};
    for (int i = 0; i < 100000; i++) {
        uint64_t u = sim_rng_u32(&twin);
        visits[state]++;
        switch (state) {
        case 1:
            state = u < q14 ? 4 : u < q13 + q14 ? 3 : 1;
            break;
        case 2:
            state = u < q23 ? 3 : 2;
            break;
        case 3:
            state = u < q32 ? 2 : u < q31 + q32 ? 1 : 3;
            break;
        default:
            state = 1;
            break;
        }
        bool want_lost = state == 3 || state == 4;
        bool got = sim_loss_decide(&l, &rng);
        ok &= got == want_lost && l.state == state;
    }
    CHECK(ok);
    for (int s = 1; s <= 4; s++) {
        CHECK(visits[s] > 1000);
    }
}

/* judge_copy: one draw against the current state's loss probability; the state never moves. */
static void judge_case(sim_loss *l, int state, sim_prob want_prob) {
    l->state = state;
    sim_loss before = *l;
    sim_rng rng, twin;
    sim_rng_seed(&rng, 71, (uint64_t)state);
    sim_rng_seed(&twin, 71, (uint64_t)state);
    int ok = 1, hits = 0;
    for (int i = 0; i < 20000; i++) {
        uint32_t u = sim_rng_u32(&twin);
        bool got = sim_loss_judge_copy(l, &rng);
        ok &= got == ((uint64_t)u < want_prob);
        ok &= same_position(&rng, &twin);
        hits += got;
    }
    CHECK(ok);
    CHECK(memcmp(&before, l, sizeof before) == 0);
    /* And the frequency is what the probability says (5 standard errors). */
    double pw = (double)want_prob / 4294967296.0;
    CHECK(fabs(hits / 20000.0 - pw) <= Z * sqrt(pw * (1 - pw) / 20000.0) + 1e-12);
}

static void test_judge_copy(void) {
    sim_loss l;
    sim_loss_init_none(&l);
    judge_case(&l, 0, 0);
    sim_loss_init_bernoulli(&l, 0.3);
    judge_case(&l, 0, sim_prob_from_double(0.3));
    sim_loss_init_gilbert_elliott(&l, 0.2, 0.3, 0.9, 0.1);
    judge_case(&l, 0, sim_prob_from_double(0.1)); /* Good: 1-k */
    judge_case(&l, 1, sim_prob_from_double(0.9)); /* Bad: 1-h */
    sim_loss_init_markov4(&l, 0.2, 0.25, 0.35, 0.45, 0.15);
    judge_case(&l, 1, sim_prob_from_double(0.2) + sim_prob_from_double(0.15)); /* p13+p14 */
    judge_case(&l, 2, sim_prob_from_double(0.45));                             /* p23 */
    judge_case(&l, 3, SIM_PROB_ONE - sim_prob_from_double(0.25) - sim_prob_from_double(0.35));
    judge_case(&l, 4, 0);

    /* Interleaving copies with originals does not change the originals' pattern. */
    sim_loss a, b;
    sim_loss_init_markov4(&a, 0.2, 0.25, 0.35, 0.45, 0.15);
    sim_loss_init_markov4(&b, 0.2, 0.25, 0.35, 0.45, 0.15);
    sim_rng ra, rb, copies;
    sim_rng_seed(&ra, 81, 1);
    sim_rng_seed(&rb, 81, 1);
    sim_rng_seed(&copies, 81, 2);
    int same = 1;
    for (int i = 0; i < 10000; i++) {
        bool la = sim_loss_decide(&a, &ra);
        for (int k = 0; k < i % 3; k++) {
            sim_loss_judge_copy(&b, &copies);
        }
        bool lb = sim_loss_decide(&b, &rb);
        same &= la == lb && a.state == b.state;
    }
    CHECK(same);
}

/* ------------------------------------------------------------------------ */
/* Validation                                                                */
/* ------------------------------------------------------------------------ */

static void test_is_probability(void) {
    CHECK(sim_is_probability(0.0));
    CHECK(sim_is_probability(-0.0));
    CHECK(sim_is_probability(0.5));
    CHECK(sim_is_probability(1.0));
    CHECK(!sim_is_probability(-1e-300));
    CHECK(!sim_is_probability(1.0000001));
    CHECK(!sim_is_probability(NAN));
    CHECK(!sim_is_probability(INFINITY));
    CHECK(!sim_is_probability(-INFINITY));
}

#define EXPECT_ERR(call, needle)                                                                   \
    do {                                                                                           \
        char msg_[200];                                                                            \
        memset(msg_, 'x', sizeof msg_);                                                            \
        CHECK_EQ_I64((call), TERN_ERR_INVALID_ARGUMENT);                                           \
        CHECK(memchr(msg_, '\0', sizeof msg_) != NULL);                                            \
        CHECK_CONTAINS(msg_, (needle));                                                            \
    } while (0)

#define MSG msg_, sizeof msg_

static void test_validation(void) {
    char msg[200];
    CHECK_EQ_I64(sim_loss_check_bernoulli(0.0, msg, sizeof msg), TERN_OK);
    CHECK_EQ_I64(sim_loss_check_bernoulli(1.0, msg, sizeof msg), TERN_OK);
    EXPECT_ERR(sim_loss_check_bernoulli(1.5, MSG), "loss p=1.5: probability must be in [0, 1]");
    EXPECT_ERR(sim_loss_check_bernoulli(-0.25, MSG), "loss p=-0.25");
    EXPECT_ERR(sim_loss_check_bernoulli(NAN, MSG), "loss p=nan");
    EXPECT_ERR(sim_loss_check_bernoulli(INFINITY, MSG), "loss p=inf");

    CHECK_EQ_I64(sim_loss_check_gilbert_elliott(0.01, 0.99, 1, 0, msg, sizeof msg), TERN_OK);
    EXPECT_ERR(sim_loss_check_gilbert_elliott(1.01, 0.5, 1, 0, MSG), "loss p=1.01");
    EXPECT_ERR(sim_loss_check_gilbert_elliott(0.1, 2, 1, 0, MSG), "loss r=2: probability");
    EXPECT_ERR(sim_loss_check_gilbert_elliott(0.1, 0.5, -1, 0, MSG), "loss 1-h=-1");
    EXPECT_ERR(sim_loss_check_gilbert_elliott(0.1, 0.5, 1, NAN, MSG), "loss 1-k=nan");
    EXPECT_ERR(sim_loss_check_gilbert_elliott(0.1, NAN, 1, 0, MSG), "loss r=nan");

    CHECK_EQ_I64(sim_loss_check_markov4(0.02, 0.3, 0.2, 0.1, 0.01, msg, sizeof msg), TERN_OK);
    EXPECT_ERR(sim_loss_check_markov4(1.5, 0, 0, 0, 0, MSG),
               "loss p13=1.5: probability must be in [0, 1]");
    EXPECT_ERR(sim_loss_check_markov4(0.1, -0.5, 0, 0, 0, MSG), "loss p31=-0.5");
    EXPECT_ERR(sim_loss_check_markov4(0.1, 0.5, 7, 0, 0, MSG), "loss p32=7");
    EXPECT_ERR(sim_loss_check_markov4(0.1, 0.5, 0, NAN, 0, MSG), "loss p23=nan");
    EXPECT_ERR(sim_loss_check_markov4(0.1, 0.5, 0, 0, NAN, MSG), "loss p14=nan");
    EXPECT_ERR(sim_loss_check_markov4(0.6, 0.5, 0, 0, 0.6, MSG),
               "in state 1, p13+p14=1.2 exceeds 1");
    EXPECT_ERR(sim_loss_check_markov4(0.1, 0.7, 0.5, 0, 0, MSG),
               "in state 3, p31+p32=1.2 exceeds 1");
    /* Rows summing to exactly 1 are fine, whatever the doubles' rounding. */
    CHECK_EQ_I64(sim_loss_check_markov4(0.9, 0.7, 0.3, 1, 0.1, msg, sizeof msg), TERN_OK);
    CHECK_EQ_I64(sim_loss_check_markov4(0.1, 0.2, 0.8, 1, 0.9, msg, sizeof msg), TERN_OK);
    /* NULL message buffers are allowed. */
    CHECK_EQ_I64(sim_loss_check_bernoulli(2, NULL, 0), TERN_ERR_INVALID_ARGUMENT);
}

int main(void) {
    RUN(test_draws_per_frame);
    RUN(test_gilbert_elliott_rule);
    RUN(test_markov4_rule);
    RUN(test_judge_copy);
    RUN(test_is_probability);
    RUN(test_validation);
    RUN(test_bernoulli_statistics);
    RUN(test_gilbert_elliott_statistics);
    RUN(test_markov4_statistics);
    return check_summary();
}

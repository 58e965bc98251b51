/*
 * Unit tests of the token-bucket shaper (sim/src/link/tbf.c) against
 * notes/link-models.md, driven as a link drives it: a FIFO of frames fed by
 * a saturating source, a loop that tries the head frame and, when refused,
 * comes back exactly at the wake-up time it was given, and optionally a line
 * rate that keeps the wire busy after each departure.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "link/tbf.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define MAXF 40000

static uint64_t dep[MAXF], dep2[MAXF];
static uint32_t lens[MAXF];

static sim_tbf_params params(int64_t rate, int64_t burst, int64_t limit) {
    sim_tbf_params p = {.rate = rate, .burst = burst, .limit = limit};
    return p;
}

static void make_tbf(sim_tbf *t, const sim_tbf_params *p) {
    char msg[200];
    tern_err e = sim_tbf_validate(p, msg, sizeof msg);
    if (e != TERN_OK) {
        fprintf(stderr, "unexpected validation failure: %s\n", msg);
    }
    CHECK_EQ_I64(e, TERN_OK);
    sim_tbf_init(t, p, 0);
}

static void fill_lens(uint32_t len) {
    for (size_t i = 0; i < MAXF; i++) {
        lens[i] = len;
    }
}

/* Line serialization in integer ns, as sim.h defines it: ceil(L * 8e9 / bits_per_sec). */
static uint64_t serialization(uint32_t len, uint64_t line_bps) {
    if (line_bps == 0) {
        return 0;
    }
    return (uint64_t)(((unsigned __int128)len * 8 * SEC + line_bps - 1) / line_bps);
}

typedef struct drive_opts {
    uint64_t line_bps; /* 0: no line rate */
    uint64_t until;    /* stop trying after this time */
    int early;         /* also try at several too-early times before each wake-up */
} drive_opts;

/*
 * Run lens[0..n) through the shaper. The source is saturating but respects
 * the limit: a frame refused for LIMIT waits at the source and is offered
 * again. Records departure times in out[]; returns the number that left.
 */
static size_t drive(sim_tbf *t, size_t n, const drive_opts *o, uint64_t *out) {
    size_t head = 0, tail = 0;
    uint64_t now = 0, line_free = 0;
    int early_ok = 1, fifo_ok = 1;
    while (head < n) {
        while (tail < n && sim_tbf_admit(t, lens[tail]) == SIM_TBF_ADMITTED) {
            tail++;
        }
        if (head == tail) {
            fifo_ok = 0; /* the limit refused even the head frame: a test set-up error */
            break;
        }
        if (now < line_free) {
            now = line_free;
        }
        if (now > o->until) {
            break;
        }
        uint64_t w = sim_tbf_try_send(t, now, lens[head]);
        if (w == 0) {
            out[head] = now;
            line_free = now + serialization(lens[head], o->line_bps);
            head++;
            continue;
        }
        if (o->early) {
            /* Too early, repeatedly: each must be refused with the same wake-up time. */
            const uint64_t tries[] = {now, now + 1, now + w / 3, now + w / 2, now + w - 1};
            for (size_t k = 0; k < sizeof tries / sizeof tries[0]; k++) {
                uint64_t te = tries[k];
                if (te >= now + w) {
                    continue;
                }
                uint64_t we = sim_tbf_try_send(t, te, lens[head]);
                early_ok &= we == now + w - te;
            }
        }
        now += w;
    }
    CHECK(early_ok);
    CHECK(fifo_ok);
    return head;
}

static uint64_t bytes_by(size_t n, const uint64_t *times, uint64_t until) {
    uint64_t b = 0;
    for (size_t i = 0; i < n; i++) {
        if (times[i] <= until) {
            b += lens[i];
        }
    }
    return b;
}

/* 1 Mbit/s, 10 kB burst, 1000-byte frames: 10 frames at t=0, then one every 8 ms. */
static void test_burst_leaves_back_to_back(void) {
    sim_tbf t;
    sim_tbf_params p = params(125000, 10000, 1000000);
    make_tbf(&t, &p);
    CHECK_EQ_I64(t.buffer, 80 * MS);
    CHECK_EQ_I64(t.tokens, t.buffer);
    fill_lens(1000);
    drive_opts o = {.until = 1 * SEC};
    size_t n = drive(&t, 200, &o, dep);
    CHECK(n > 20);
    for (size_t i = 0; i < 10; i++) {
        CHECK_EQ_U64(dep[i], 0);
    }
    for (size_t i = 10; i < n; i++) {
        CHECK_EQ_U64(dep[i], (i - 9) * 8 * MS);
    }

    /* Behind a 10 Mbit/s line the burst leaves back to back on the wire (0.8 ms apart). */
    make_tbf(&t, &p);
    o.line_bps = 10000000;
    n = drive(&t, 200, &o, dep);
    for (size_t i = 1; i < 10; i++) {
        CHECK_EQ_U64(dep[i] - dep[i - 1], 800000);
    }
    /* Tokens earned during those 8 ms let a few more through before the 8 ms pace. */
    CHECK_EQ_U64(dep[n - 1] - dep[n - 2], 8 * MS);
}

/* Over 10 s the bytes sent are rate * time + burst, to the byte. */
static void test_long_run_exact(void) {
    sim_tbf t;
    sim_tbf_params p = params(125000, 10000, 1000000);
    make_tbf(&t, &p);
    fill_lens(1000);
    drive_opts o = {.until = 10 * SEC};
    size_t n = drive(&t, MAXF, &o, dep);
    CHECK_EQ_U64(bytes_by(n, dep, 10 * SEC), 125000ULL * 10 + 10000);
    CHECK_EQ_U64(n, 1260);

    /* The same with a peak bucket: the burst is spread out, the total is not. */
    sim_tbf_params pp = p;
    pp.peak_rate = 250000;
    pp.mtu = 1000;
    make_tbf(&t, &pp);
    n = drive(&t, MAXF, &o, dep);
    CHECK_EQ_U64(bytes_by(n, dep, 10 * SEC), 125000ULL * 10 + 10000);
}

/* Numbers that do not divide: the total is within one frame below rate*T + burst, never above. */
static void test_long_run_not_a_multiple(void) {
    const int64_t rate = 100003, burst = 5000;
    const uint32_t len = 1234;
    sim_tbf t;
    sim_tbf_params p = params(rate, burst, 100000);
    make_tbf(&t, &p);
    fill_lens(len);
    drive_opts o = {.until = 10 * SEC};
    size_t n = drive(&t, MAXF, &o, dep);
    uint64_t sent = bytes_by(n, dep, 10 * SEC);
    uint64_t ideal = (uint64_t)rate * 10 + (uint64_t)burst; /* 1005030 */
    CHECK(sent <= ideal);
    CHECK(sent > ideal - len);

    /* At every departure, bytes sent so far never exceed rate * t + burst (floor). */
    uint64_t so_far = 0;
    int bounded = 1;
    for (size_t i = 0; i < n; i++) {
        so_far += lens[i];
        /* Tokens are time: bytes * 1e9 / rate <= bucket + elapsed, so the cap is in ns too. */
        unsigned __int128 cap = ((unsigned __int128)rate * (dep[i] + (uint64_t)t.buffer)) / SEC;
        bounded &= so_far <= cap;
    }
    CHECK(bounded);

    /* Mixed frame sizes, behind a line four times faster than the shaper. */
    srand(1);
    for (size_t i = 0; i < MAXF; i++) {
        lens[i] = 64 + (uint32_t)(rand() % 1437);
    }
    make_tbf(&t, &p);
    o.line_bps = 8 * 4 * (uint64_t)rate;
    n = drive(&t, MAXF, &o, dep);
    sent = bytes_by(n, dep, 10 * SEC);
    CHECK(sent <= ideal);
    CHECK(sent + 1500 > ideal);
}

/* Peak bucket: consecutive frames at least cost(peak, len) apart, exactly that while saturated. */
static void test_peak_spacing(void) {
    sim_tbf t;
    sim_tbf_params p = params(125000, 10000, 1000000);
    p.peak_rate = 250000;
    p.mtu = 1000;
    make_tbf(&t, &p);
    CHECK_EQ_I64(t.pbuffer, 4 * MS);
    fill_lens(1000);
    drive_opts o = {.until = 2 * SEC};
    size_t n = drive(&t, 500, &o, dep);
    CHECK(n > 100);
    CHECK_EQ_U64(dep[0], 0);
    /*
     * The rate bucket (80 ms) loses 8 ms per frame and earns 4 ms per 4 ms
     * gap: 72 - 4k >= 0 gives 18 gaps at the peak pace, then the rate's 8 ms.
     */
    for (size_t i = 1; i < n; i++) {
        uint64_t gap = dep[i] - dep[i - 1];
        CHECK_EQ_U64(gap, i <= 18 ? 4 * MS : 8 * MS);
    }

    /* Numbers that do not divide, frames of the peak bucket's full size (mtu). */
    p = params(100003, 20000, 1000000);
    p.peak_rate = 300007;
    p.mtu = 1500;
    make_tbf(&t, &p);
    fill_lens(1500);
    n = drive(&t, 500, &o, dep);
    const uint64_t pc = (uint64_t)sim_tbf_cost(&t, p.peak_rate, 1500);
    CHECK_EQ_U64(pc, 4999884); /* ceil(1500e9 / 300007) */
    int at_least = 1;
    size_t exactly = 0;
    for (size_t i = 1; i < n; i++) {
        uint64_t gap = dep[i] - dep[i - 1];
        at_least &= gap >= pc;
        exactly += gap == pc;
        /* While the rate bucket still holds the burst, the peak alone paces: gap == cost. */
        if (i <= 5) {
            CHECK_EQ_U64(gap, pc);
        }
    }
    CHECK(at_least);
    CHECK(exactly >= 5);

    /*
     * Mixed sizes below mtu: the peak bucket holds mtu bytes, so small frames
     * may leave closer than their own peak cost (as in Linux). What holds is
     * the bucket invariant: frames i..j together cost at most a full bucket
     * plus the time between their departures, for either bucket.
     */
    p = params(125000, 10000, 1000000);
    p.peak_rate = 250000;
    p.mtu = 1000;
    srand(2);
    for (size_t i = 0; i < MAXF; i++) {
        lens[i] = 64 + (uint32_t)(rand() % 937);
    }
    make_tbf(&t, &p);
    o.until = 5 * SEC;
    n = drive(&t, 3000, &o, dep);
    CHECK(n > 1000);
    int peak_ok = 1, rate_ok = 1, some_closer = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t pcost = 0, rcost = 0;
        for (size_t j = i; j < n && j < i + 64; j++) {
            pcost += sim_tbf_cost(&t, p.peak_rate, lens[j]);
            rcost += sim_tbf_cost(&t, p.rate, lens[j]);
            peak_ok &= pcost <= t.pbuffer + (int64_t)(dep[j] - dep[i]);
            rate_ok &= rcost <= t.buffer + (int64_t)(dep[j] - dep[i]);
        }
        if (i > 0) {
            some_closer |= dep[i] - dep[i - 1] < (uint64_t)sim_tbf_cost(&t, p.peak_rate, lens[i]);
        }
    }
    CHECK(peak_ok);
    CHECK(rate_ok);
    CHECK(some_closer);
}

/* A refused attempt loses no tokens: early tries do not change the schedule. */
static void test_refused_attempt_loses_nothing(void) {
    sim_tbf_params p = params(100003, 7000, 30000);
    p.peak_rate = 300007;
    p.mtu = 1600;
    p.overhead = 24;
    p.mpu = 90;
    srand(3);
    for (size_t i = 0; i < MAXF; i++) {
        lens[i] = 1 + (uint32_t)(rand() % 1500);
    }
    sim_tbf a, b;
    make_tbf(&a, &p);
    make_tbf(&b, &p);
    drive_opts o = {.until = 5 * SEC, .line_bps = 3000000};
    size_t na = drive(&a, MAXF, &o, dep);
    o.early = 1;
    size_t nb = drive(&b, MAXF, &o, dep2);
    CHECK_EQ_U64(na, nb);
    CHECK(na > 100);
    CHECK(memcmp(dep, dep2, na * sizeof dep[0]) == 0);
    CHECK(memcmp(&a, &b, sizeof a) == 0);

    /* And the struct itself is untouched by a refusal. */
    sim_tbf t;
    make_tbf(&t, &p);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1500), SIM_TBF_ADMITTED);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1500), SIM_TBF_ADMITTED);
    CHECK_EQ_U64(sim_tbf_try_send(&t, 0, 1500), 0);
    sim_tbf before = t;
    uint64_t w = sim_tbf_try_send(&t, 10, 1500);
    CHECK(w > 0);
    CHECK(memcmp(&before, &t, sizeof t) == 0);
    CHECK_EQ_U64(sim_tbf_try_send(&t, 10 + w - 1, 1500), 1);
    CHECK(memcmp(&before, &t, sizeof t) == 0);
    CHECK_EQ_U64(sim_tbf_try_send(&t, 10 + w, 1500), 0);
    CHECK_EQ_U64(t.backlog, 0);
}

/* The wake-up time is max(-toks, -ptoks): whichever bucket is further from enough. */
static void test_wakeup_is_max_of_both_buckets(void) {
    sim_tbf t;
    sim_tbf_params p = params(1000, 1000, 100000); /* 1 s bucket, 1 ms per byte */
    p.peak_rate = 2000;
    p.mtu = 500; /* 250 ms peak bucket, 0.5 ms per byte */
    make_tbf(&t, &p);
    CHECK_EQ_U64(sim_tbf_try_send(&t, 0, 400), 0); /* tokens 600 ms, ptokens 50 ms */
    /* Next 400: rate needs 400 ms (has 600), peak needs 200 ms (has 50): wait 150 ms. */
    CHECK_EQ_U64(sim_tbf_try_send(&t, 0, 400), 150 * MS);
    CHECK_EQ_U64(sim_tbf_try_send(&t, 150 * MS, 400), 0); /* tokens 350, ptokens 0 */
    /* Next 400 at 150 ms: rate short by 50 ms, peak short by 200 ms: 200 ms. */
    CHECK_EQ_U64(sim_tbf_try_send(&t, 150 * MS, 400), 200 * MS);
    /* At 350 ms: rate has 550 - 400, peak has 200 - 200: goes. */
    CHECK_EQ_U64(sim_tbf_try_send(&t, 350 * MS, 400), 0);
    CHECK_EQ_I64(t.tokens, 150 * (int64_t)MS);
    CHECK_EQ_I64(t.ptokens, 0);
    /* Rate short by 250 ms, peak by 200 ms: the rate decides, 250 ms. */
    CHECK_EQ_U64(sim_tbf_try_send(&t, 350 * MS, 400), 250 * MS);
    /* A long idle period refills both buckets only up to their size. */
    CHECK_EQ_U64(sim_tbf_try_send(&t, 100 * SEC, 500), 0);
    CHECK_EQ_I64(t.tokens, 500 * (int64_t)MS);
    CHECK_EQ_I64(t.ptokens, 0);
}

/* cost = ceil(max(len + overhead, mpu, 1) * 1e9 / r). */
static void test_cost_overhead_mpu(void) {
    sim_tbf t;
    sim_tbf_params p = params(1000000, 10000, 100000);
    make_tbf(&t, &p);
    CHECK_EQ_I64(sim_tbf_cost(&t, 1000000, 100), 100000);
    CHECK_EQ_I64(sim_tbf_cost(&t, 3, 1), 333333334);  /* rounded up */
    CHECK_EQ_I64(sim_tbf_cost(&t, 1000000, 0), 1000); /* never below one byte */

    p.overhead = 24;
    make_tbf(&t, &p);
    CHECK_EQ_I64(sim_tbf_cost(&t, 1000000, 100), 124000);
    /* The bucket is burst bytes (as Linux): overhead charges frames, not the bucket. */
    CHECK_EQ_I64(t.buffer, 10 * (int64_t)MS);

    p.overhead = 0;
    p.mpu = 64;
    make_tbf(&t, &p);
    CHECK_EQ_I64(sim_tbf_cost(&t, 1000000, 10), 64000);
    CHECK_EQ_I64(sim_tbf_cost(&t, 1000000, 100), 100000);

    p.overhead = -20;
    p.mpu = 0;
    make_tbf(&t, &p);
    CHECK_EQ_I64(sim_tbf_cost(&t, 1000000, 100), 80000);
    CHECK_EQ_I64(sim_tbf_cost(&t, 1000000, 10), 1000); /* charged 1 byte, not -10 */

    /* Driven: with overhead 24, 100-byte frames: 80 fit the 10000-byte burst, then one per 124 us.
     */
    p = params(1000000, 10000, 100000);
    p.overhead = 24;
    make_tbf(&t, &p);
    fill_lens(100);
    drive_opts o = {.until = SEC};
    size_t n = drive(&t, 500, &o, dep);
    size_t at_zero = 0;
    for (size_t i = 0; i < n; i++) {
        at_zero += dep[i] == 0;
    }
    CHECK_EQ_U64(at_zero, 80);
    /* 80 frames leave 80 us of tokens (10000 - 80*124 bytes); the 81st waits 44 us. */
    CHECK_EQ_U64(dep[80], 44000);
    CHECK_EQ_U64(dep[81] - dep[80], 124000);
    CHECK_EQ_U64(dep[400] - dep[399], 124000);

    /* With mpu 200: 50 fit, then one per 200 us. */
    p.overhead = 0;
    p.mpu = 200;
    make_tbf(&t, &p);
    n = drive(&t, 500, &o, dep);
    at_zero = 0;
    for (size_t i = 0; i < n; i++) {
        at_zero += dep[i] == 0;
    }
    CHECK_EQ_U64(at_zero, 50);
    CHECK_EQ_U64(dep[50], 200000);
    CHECK_EQ_U64(dep[300] - dep[299], 200000);
}

static void test_oversize_and_limit(void) {
    sim_tbf t;
    sim_tbf_params p = params(1000, 1500, 3000);
    make_tbf(&t, &p);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1501), SIM_TBF_OVERSIZE);
    CHECK_EQ_U64(t.backlog, 0);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1500), SIM_TBF_ADMITTED);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1500), SIM_TBF_ADMITTED);
    CHECK_EQ_U64(t.backlog, 3000);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1), SIM_TBF_LIMIT);
    CHECK_EQ_U64(t.backlog, 3000);
    sim_tbf_forget(&t, 1500);
    CHECK_EQ_U64(t.backlog, 1500);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1000), SIM_TBF_ADMITTED);
    CHECK_EQ_U64(sim_tbf_admit(&t, 501), SIM_TBF_LIMIT);
    CHECK_EQ_U64(sim_tbf_admit(&t, 500), SIM_TBF_ADMITTED);
    CHECK_EQ_U64(sim_tbf_try_send(&t, 0, 1500), 0);
    CHECK_EQ_U64(t.backlog, 1500);
    /* Oversize is judged before the limit: a full queue still says OVERSIZE for a giant. */
    CHECK_EQ_U64(sim_tbf_admit(&t, 1500), SIM_TBF_ADMITTED);
    CHECK_EQ_U64(t.backlog, 3000);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1600), SIM_TBF_OVERSIZE);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1400), SIM_TBF_LIMIT);

    /* Overhead counts toward oversize: 1476 + 24 fits a 1500-byte bucket, 1477 does not. */
    p.overhead = 24;
    make_tbf(&t, &p);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1477), SIM_TBF_OVERSIZE);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1476), SIM_TBF_ADMITTED);

    /* The peak bucket's mtu bounds the frame size too. */
    p = params(1000, 1500, 3000);
    p.peak_rate = 2000;
    p.mtu = 1000;
    make_tbf(&t, &p);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1001), SIM_TBF_OVERSIZE);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1000), SIM_TBF_ADMITTED);

    /* Limit from latency, as tc: rate * latency + burst = 2500 + 10000. */
    p = (sim_tbf_params){.rate = 125000, .burst = 10000, .latency_ns = 20 * (int64_t)MS};
    make_tbf(&t, &p);
    CHECK_EQ_U64(t.limit, 12500);
    for (int i = 0; i < 12; i++) {
        CHECK_EQ_U64(sim_tbf_admit(&t, 1000), SIM_TBF_ADMITTED);
    }
    CHECK_EQ_U64(sim_tbf_admit(&t, 501), SIM_TBF_LIMIT);
    CHECK_EQ_U64(sim_tbf_admit(&t, 500), SIM_TBF_ADMITTED);
    /* With a peak: min(that, peak * latency + mtu) = min(12500, 5000 + 1000). */
    p.peak_rate = 250000;
    p.mtu = 1000;
    make_tbf(&t, &p);
    CHECK_EQ_U64(t.limit, 6000);
    /* Fractional bytes are dropped as tc truncates: 100003 B/s * 1 ms = 100.003 bytes. */
    p = (sim_tbf_params){.rate = 100003, .burst = 5000, .latency_ns = (int64_t)MS};
    make_tbf(&t, &p);
    CHECK_EQ_U64(t.limit, 5100);
}

/* Each invalid configuration is refused with the parameter and the value in the message. */
static void expect_invalid(sim_tbf_params p, const char *a, const char *b) {
    char msg[256];
    memset(msg, 'x', sizeof msg);
    tern_err e = sim_tbf_validate(&p, msg, sizeof msg);
    CHECK_EQ_I64(e, TERN_ERR_INVALID_ARGUMENT);
    CHECK(memchr(msg, '\0', sizeof msg) != NULL);
    CHECK_CONTAINS(msg, a);
    if (b) {
        CHECK_CONTAINS(msg, b);
    }
}

static void test_validation(void) {
    const sim_tbf_params ok = params(125000, 10000, 100000);
    char msg[256];
    CHECK_EQ_I64(sim_tbf_validate(&ok, msg, sizeof msg), TERN_OK);
    sim_tbf_params p;

    p = ok, p.rate = -5;
    expect_invalid(p, "tbf rate=-5: must be > 0", NULL);
    p = ok, p.rate = 0;
    expect_invalid(p, "rate=0", "> 0");
    p = ok, p.burst = 0;
    expect_invalid(p, "burst=0", "> 0");
    p = ok, p.burst = -1;
    expect_invalid(p, "burst=-1", NULL);
    p = ok, p.limit = 0;
    expect_invalid(p, "limit=0", "latency_ns=0");
    p = ok, p.latency_ns = 1000;
    expect_invalid(p, "limit=100000", "latency_ns=1000");
    p = ok, p.limit = -7;
    expect_invalid(p, "limit=-7", NULL);
    p = ok, p.limit = 0, p.latency_ns = -3;
    expect_invalid(p, "latency_ns=-3", NULL);
    p = ok, p.peak_rate = -1, p.mtu = 1500;
    expect_invalid(p, "peak_rate=-1", NULL);
    p = ok, p.mtu = -2;
    expect_invalid(p, "mtu=-2", NULL);
    p = ok, p.peak_rate = 250000;
    expect_invalid(p, "peak_rate=250000", "mtu");
    p = ok, p.mtu = 1500;
    expect_invalid(p, "mtu=1500", "peak_rate");
    p = ok, p.peak_rate = 125000, p.mtu = 1500;
    expect_invalid(p, "peak_rate=125000", "rate=125000");
    p = ok, p.peak_rate = 1000, p.mtu = 1500;
    expect_invalid(p, "peak_rate=1000", "> rate=125000");
    p = ok, p.mpu = -1;
    expect_invalid(p, "mpu=-1", NULL);
    p = ok, p.overhead = 1000000;
    expect_invalid(p, "overhead=1000000", NULL);
    p = ok, p.overhead = -1000000;
    expect_invalid(p, "overhead=-1000000", NULL);
    /* A burst below the smallest charge can never send anything. */
    p = ok, p.burst = 50, p.mpu = 64;
    expect_invalid(p, "burst=50", "minimum frame");
    p = ok, p.burst = 10, p.overhead = 10;
    expect_invalid(p, "burst=10", "minimum frame");
    p = ok, p.peak_rate = 250000, p.mtu = 40, p.mpu = 64;
    expect_invalid(p, "mtu=40", "minimum frame");
    /* Absurd sizes that would overflow the ns arithmetic. */
    p = ok, p.rate = 1, p.burst = INT64_MAX;
    expect_invalid(p, "burst=9223372036854775807", "rate=1");
    p = ok, p.peak_rate = 125001, p.mtu = INT64_MAX / 2;
    expect_invalid(p, "mtu=4611686018427387903", NULL);
    p = ok, p.limit = 0, p.rate = INT64_MAX / 2, p.burst = INT64_MAX / 4, p.latency_ns = INT64_MAX;
    expect_invalid(p, "latency_ns=9223372036854775807", NULL);

    /* Edge cases that are fine. */
    p = ok, p.burst = 1;
    CHECK_EQ_I64(sim_tbf_validate(&p, msg, sizeof msg), TERN_OK);
    p = ok, p.burst = 64, p.mpu = 64;
    CHECK_EQ_I64(sim_tbf_validate(&p, msg, sizeof msg), TERN_OK);
    p = ok, p.overhead = -100;
    CHECK_EQ_I64(sim_tbf_validate(&p, msg, sizeof msg), TERN_OK);
    p = ok, p.limit = 0, p.latency_ns = 50 * (int64_t)MS, p.peak_rate = 125001, p.mtu = 1;
    CHECK_EQ_I64(sim_tbf_validate(&p, msg, sizeof msg), TERN_OK);
    p = ok, p.rate = INT64_MAX, p.burst = INT64_MAX;
    CHECK_EQ_I64(sim_tbf_validate(&p, msg, sizeof msg), TERN_OK);

    /* A NULL or zero-capacity message buffer is allowed. */
    p = ok, p.rate = 0;
    CHECK_EQ_I64(sim_tbf_validate(&p, NULL, 0), TERN_ERR_INVALID_ARGUMENT);
    /* A small buffer is truncated, still terminated. */
    char small[8];
    CHECK_EQ_I64(sim_tbf_validate(&p, small, sizeof small), TERN_ERR_INVALID_ARGUMENT);
    CHECK(strlen(small) == 7);
}

/* Huge rates and frames must not overflow: a 2^32-1 byte frame at 1 B/s is just oversize. */
static void test_extremes(void) {
    sim_tbf t;
    sim_tbf_params p = params(1, 1, 1);
    make_tbf(&t, &p);
    CHECK_EQ_I64(t.buffer, (int64_t)SEC);
    CHECK_EQ_U64(sim_tbf_admit(&t, UINT32_MAX), SIM_TBF_OVERSIZE);
    CHECK_EQ_U64(sim_tbf_admit(&t, 1), SIM_TBF_ADMITTED);
    CHECK_EQ_U64(sim_tbf_try_send(&t, 0, 1), 0);
    CHECK_EQ_U64(sim_tbf_try_send(&t, 0, 1), SEC);
    /* Time far in the future: elapsed is capped at the bucket. */
    CHECK_EQ_U64(sim_tbf_try_send(&t, UINT64_MAX - 1, 1), 0);

    p = params(INT64_MAX, INT64_MAX, INT64_MAX);
    make_tbf(&t, &p);
    CHECK_EQ_U64(sim_tbf_admit(&t, UINT32_MAX), SIM_TBF_ADMITTED);
    CHECK_EQ_U64(sim_tbf_try_send(&t, 0, UINT32_MAX), 0);
    CHECK_EQ_I64(sim_tbf_cost(&t, 1, UINT32_MAX), (int64_t)UINT32_MAX * (int64_t)SEC);
}

int main(void) {
    RUN(test_burst_leaves_back_to_back);
    RUN(test_long_run_exact);
    RUN(test_long_run_not_a_multiple);
    RUN(test_peak_spacing);
    RUN(test_refused_attempt_loses_nothing);
    RUN(test_wakeup_is_max_of_both_buckets);
    RUN(test_cost_overhead_mpu);
    RUN(test_oversize_and_limit);
    RUN(test_validation);
    RUN(test_extremes);
    return check_summary();
}

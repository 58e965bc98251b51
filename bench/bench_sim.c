/*
 * Simulator benchmarks (make bench). Prints:
 *   BENCH sim_events_per_sec       the bare event queue holding 100,000 pending
 *                                  events: pop the earliest, push one later
 *                                  (the classic "hold" model), one core.
 *   BENCH sim_link_frames_per_sec  frames through one link direction with every
 *                                  impairment enabled, peer to peer.
 *   BENCH sim_node_add_ns          CPU time per node to add 100,000 named
 *                                  nodes (peers "h0".."h99999") to one
 *                                  simulation, each name checked against
 *                                  all earlier ones: flat in the number of
 *                                  nodes (an index of names, not a scan of
 *                                  them: 185 us per node before it).
 * Each figure is the median of 5 runs of CPU time.
 *
 * The link benchmark checks what arrived, and exits non-zero (the run fails,
 * not the figure) when it is wrong: the peer received exactly the frames the
 * link says it delivered, that count balances what went in (in + copies -
 * every kind of drop), and each frame is one that was sent (its number and
 * pattern), unchanged or with exactly one bit flipped by the corrupt
 * impairment, no more of them than the link counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/event_queue.h"
#include "tern/sim.h"

static void bench_fail(const char *fmt, unsigned long long a, unsigned long long b) {
    fprintf(stderr, "bench_sim: sim_link_frames_per_sec: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    exit(1);
}

/* The byte at offset i of frame number n (after its 14-byte Ethernet header and 4-byte number). */
static uint8_t frame_byte(uint32_t n, size_t i) {
    return (uint8_t)((n * 2654435761u + (uint32_t)i * 40503u) >> 13);
}

static void make_frame(uint8_t *f, size_t len, uint32_t n) {
    memset(f, 0xff, 12);
    f[12] = 0x08;
    f[13] = 0x00;
    f[14] = (uint8_t)(n >> 24);
    f[15] = (uint8_t)(n >> 16);
    f[16] = (uint8_t)(n >> 8);
    f[17] = (uint8_t)n;
    for (size_t i = 18; i < len; i++) {
        f[i] = frame_byte(n, i);
    }
}

static unsigned popcount8(uint8_t x) {
    unsigned c = 0;
    for (; x; x &= (uint8_t)(x - 1)) {
        c++;
    }
    return c;
}

/*
 * A received frame: 0 if it is frame n as sent, 1 if it differs from a sent
 * frame in exactly one bit (corrupted); the benchmark fails otherwise. The
 * flipped bit may be in the frame's number, so the number is taken from the
 * payload when the header bytes disagree with it.
 */
static int check_frame(const uint8_t *got, size_t len, size_t want_len, uint32_t frames) {
    if (len != want_len) {
        bench_fail("a frame of %llu bytes arrived, %llu were sent", len, want_len);
    }
    uint8_t want[1000];
    uint32_t n =
        (uint32_t)got[14] << 24 | (uint32_t)got[15] << 16 | (uint32_t)got[16] << 8 | got[17];
    unsigned best = ~0u;
    for (int bit = -1; bit < 32 && best > 1; bit++) {
        uint32_t m = bit < 0 ? n : n ^ (1u << bit); /* the number as sent, or with one bit back */
        if (m >= frames) {
            continue;
        }
        make_frame(want, want_len, m);
        unsigned diff = 0;
        for (size_t i = 0; i < len && diff <= 1; i++) {
            diff += popcount8(got[i] ^ want[i]);
        }
        best = diff < best ? diff : best;
    }
    if (best > 1) {
        bench_fail("frame %llu arrived differing from every frame sent in more than one bit (%llu)",
                   n, best);
    }
    return (int)best;
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static double events_per_sec(void) {
    enum { PENDING = 100000, OPS = 20000000 };
    sim_event_queue q;
    sim_eq_init(&q);
    uint64_t x = 88172645463325252ull; /* xorshift64 for increments: exponential-ish spread */
    for (uint32_t i = 0; i < PENDING; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        sim_eq_push(&q, x % 1000000, 1, i, 0, NULL);
    }
    sim_event ev;
    double t0 = cpu_seconds();
    for (uint32_t i = 0; i < OPS; i++) {
        sim_eq_pop(&q, &ev);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        sim_eq_push(&q, ev.time + 1 + x % 1000000, 1, ev.target, 0, NULL);
    }
    double dt = cpu_seconds() - t0;
    sim_eq_free(&q);
    return OPS / dt;
}

static double link_frames_per_sec(void) {
    enum { FRAMES = 1000000, BATCH = 100 };
    sim *s;
    sim_node_id a, b;
    sim_link_id l;
    sim_create(1, &s);
    sim_peer_add(s, "a", 1, 0, &a);
    sim_peer_add(s, "b", 1, 1 << 20, &b);
    sim_link_add(s, a, 0, b, 0, &l);
    /* Every impairment on, none so strong that the benchmark measures only drops. */
    sim_link_set_rate(s, l, SIM_DIR_A_TO_B, 10000000000ll);
    sim_link_set_delay(s, l, SIM_DIR_A_TO_B, 1000000, 100000, false);
    sim_link_set_loss_gilbert_elliott(s, l, SIM_DIR_A_TO_B, 0.01, 0.5, 0.5, 0.001);
    sim_link_set_duplicate(s, l, SIM_DIR_A_TO_B, 0.01);
    sim_link_set_corrupt(s, l, SIM_DIR_A_TO_B, 0.01);
    sim_link_set_reorder(s, l, SIM_DIR_A_TO_B, 0.01);
    sim_link_set_size_limit(s, l, SIM_DIR_A_TO_B, 9000);
    sim_link_set_queue_limit(s, l, SIM_DIR_A_TO_B, 100000);
    sim_tbf_params t = {.rate = 1000000000, .burst = 1000000, .latency_ns = 50000000};
    sim_link_set_tbf(s, l, SIM_DIR_A_TO_B, &t);
    sim_link_fault_nth(s, l, SIM_DIR_A_TO_B, 1000, SIM_FAULT_DROP, 0, NULL);
    sim_link_fault_filter(s, l, SIM_DIR_A_TO_B, "udp port 53", 10, SIM_FAULT_DROP, 0, NULL);
    /* Each frame carries its number and a pattern of it (made before the clock starts). */
    static uint8_t frames[BATCH][1000];
    uint8_t buf[SIM_MAX_FRAME];
    size_t len;
    uint64_t now = 0, received = 0, corrupted_seen = 0;
    double t0 = cpu_seconds(), spent = 0;
    for (uint32_t i = 0; i < FRAMES; i += BATCH) {
        double p0 = cpu_seconds();
        for (uint32_t j = 0; j < BATCH; j++) {
            make_frame(frames[j], sizeof frames[j], i + j);
        }
        spent += cpu_seconds() - p0; /* building the pattern is not the link's work */
        for (uint32_t j = 0; j < BATCH; j++) {
            sim_peer_send(s, a, 0, frames[j], sizeof frames[j]);
        }
        now += 1000 * BATCH; /* 1 us per frame: 8 Gbit/s offered, under the shaper's 8 */
        sim_run(s, now, 0, NULL);
        while (sim_peer_recv(s, b, buf, sizeof buf, &len, NULL, NULL) == TERN_OK) {
            received++;
            p0 = cpu_seconds();
            corrupted_seen += (uint64_t)check_frame(buf, len, sizeof frames[0], FRAMES);
            spent += cpu_seconds() - p0;
        }
    }
    sim_run(s, SIM_NEVER, 0, NULL);
    while (sim_peer_recv(s, b, buf, sizeof buf, &len, NULL, NULL) == TERN_OK) {
        received++;
        corrupted_seen += (uint64_t)check_frame(buf, len, sizeof frames[0], FRAMES);
    }
    double dt = cpu_seconds() - t0 - spent;
    sim_link_counters c;
    sim_link_get_counters(s, l, SIM_DIR_A_TO_B, &c);
    if (c.dropped_loss == 0 || c.duplicated == 0 || c.corrupted == 0 || c.reordered == 0) {
        fprintf(stderr, "bench_sim: an impairment did nothing; the benchmark is wrong\n");
        exit(1);
    }
    if (c.frames_in != FRAMES) {
        bench_fail("the link took %llu frames, %llu were sent", c.frames_in, FRAMES);
    }
    if (received != c.delivered) {
        bench_fail("the peer received %llu frames, the link says it delivered %llu", received,
                   c.delivered);
    }
    uint64_t dropped = c.dropped_down + c.dropped_fault + c.dropped_loss + c.dropped_size +
                       c.dropped_queue + c.dropped_shaper_limit + c.dropped_shaper_oversize;
    if (c.frames_in + c.duplicated + c.fault_duplicated - dropped != c.delivered) {
        bench_fail("in + copies - drops = %llu frames, but %llu were delivered",
                   c.frames_in + c.duplicated + c.fault_duplicated - dropped, c.delivered);
    }
    /* each copy meets the corrupt stage on its own (duplicate comes first), and a
     * corrupted frame may still be dropped later: at most what the link counted */
    if (corrupted_seen == 0 || corrupted_seen > c.corrupted + c.fault_corrupted) {
        bench_fail("%llu corrupted frames arrived, the link corrupted %llu", corrupted_seen,
                   c.corrupted + c.fault_corrupted);
    }
    sim_destroy(s);
    return FRAMES / dt;
}

/* CPU nanoseconds per node to add NAMED_NODES peers with distinct names; every one must be found
 * by its name afterwards. */
#define NAMED_NODES 100000u
static double node_add_ns(void) {
    sim *s;
    if (sim_create(1, &s) != TERN_OK) {
        bench_fail("sim_create failed%llu%llu", 0, 0);
    }
    char name[32];
    sim_node_id id;
    double t0 = cpu_seconds();
    for (uint32_t i = 0; i < NAMED_NODES; i++) {
        snprintf(name, sizeof name, "h%u", i);
        if (sim_peer_add(s, name, 1, 0, &id) != TERN_OK || id != i) {
            bench_fail("node %llu not added (id %llu)", i, id);
        }
    }
    double ns = (cpu_seconds() - t0) * 1e9 / NAMED_NODES;
    for (uint32_t i = 0; i < NAMED_NODES; i++) {
        snprintf(name, sizeof name, "h%u", i);
        if (sim_node_find(s, name, &id) != TERN_OK || id != i) {
            bench_fail("node %llu not found by name (got %llu)", i, id);
        }
    }
    sim_destroy(s);
    return ns;
}

int main(void) {
    double v[5];
    for (int i = 0; i < 5; i++) {
        v[i] = events_per_sec();
    }
    printf("BENCH sim_events_per_sec %.0f events/s\n", median(v, 5));
    for (int i = 0; i < 5; i++) {
        v[i] = link_frames_per_sec();
    }
    printf("BENCH sim_link_frames_per_sec %.0f frames/s\n", median(v, 5));
    for (int i = 0; i < 5; i++) {
        v[i] = node_add_ns();
    }
    printf("BENCH sim_node_add_ns %.0f ns/node (100,000 named nodes in one simulation)\n",
           median(v, 5));
    return 0;
}

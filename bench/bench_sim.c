/*
 * Simulator benchmarks (make bench). Prints:
 *   BENCH sim_events_per_sec       the bare event queue holding 100,000 pending
 *                                  events: pop the earliest, push one later
 *                                  (the classic "hold" model), one core.
 *   BENCH sim_link_frames_per_sec  frames through one link direction with every
 *                                  impairment enabled, peer to peer.
 * Each figure is the median of 5 runs of CPU time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event_queue.h"
#include "tern/sim.h"

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
    uint8_t frame[1000];
    memset(frame, 0xab, sizeof frame);
    frame[12] = 0x08;
    frame[13] = 0x00;
    frame[14] = 0x45;
    uint8_t buf[SIM_MAX_FRAME];
    size_t len;
    uint64_t now = 0, received = 0;
    double t0 = cpu_seconds();
    for (uint32_t i = 0; i < FRAMES; i += BATCH) {
        for (uint32_t j = 0; j < BATCH; j++) {
            sim_peer_send(s, a, 0, frame, sizeof frame);
        }
        now += 1000 * BATCH; /* 1 us per frame: 8 Gbit/s offered, under the shaper's 8 */
        sim_run(s, now, 0, NULL);
        while (sim_peer_recv(s, b, buf, sizeof buf, &len, NULL, NULL) == TERN_OK) {
            received++;
        }
    }
    sim_run(s, SIM_NEVER, 0, NULL);
    double dt = cpu_seconds() - t0;
    sim_link_counters c;
    sim_link_get_counters(s, l, SIM_DIR_A_TO_B, &c);
    if (c.dropped_loss == 0 || c.duplicated == 0 || c.corrupted == 0 || c.reordered == 0) {
        fprintf(stderr, "bench_sim: an impairment did nothing; the benchmark is wrong\n");
        exit(1);
    }
    sim_destroy(s);
    (void)received;
    return FRAMES / dt;
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
    return 0;
}

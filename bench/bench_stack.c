/*
 * Stack benchmarks (make bench). Prints:
 *   BENCH udp_frames_per_sec  1472-byte UDP datagrams from one Tern host to
 *                             another over an unlimited link, received per
 *                             second of CPU time (median of 5 runs).
 * Every datagram carries its number and a pattern made from it; the receiver
 * checks each one (in order, unchanged) and that all of them arrived (the
 * link is perfect and the queues hold a batch): a mismatch fails the run
 * (exit 1), whatever the figure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/stack.h"

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void host_config(tern_stack_config *cfg, uint8_t last) {
    tern_stack_config_default(cfg, last);
    cfg->niface = 1;
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, last};
    memcpy(cfg->iface[0].mac, mac, 6);
    cfg->iface[0].naddrs = 1;
    cfg->iface[0].addr[0] = tern_addr_v4(10, 0, 0, last);
    cfg->iface[0].prefix_len[0] = 24;
    cfg->udp_queue = 256;
    cfg->packet_buffers = 1024;
}

/* The byte at offset i of datagram n (after its 4-byte number). */
static uint8_t datagram_byte(uint32_t n, size_t i) {
    return (uint8_t)((n * 2654435761u + (uint32_t)i * 40503u) >> 13);
}

static void make_datagram(uint8_t *d, size_t len, uint32_t n) {
    d[0] = (uint8_t)(n >> 24);
    d[1] = (uint8_t)(n >> 16);
    d[2] = (uint8_t)(n >> 8);
    d[3] = (uint8_t)n;
    for (size_t i = 4; i < len; i++) {
        d[i] = datagram_byte(n, i);
    }
}

static void check_datagram(const uint8_t *got, size_t len, size_t want_len, uint32_t n) {
    uint8_t want[1472];
    make_datagram(want, want_len, n);
    if (len != want_len || memcmp(got, want, len) != 0) {
        fprintf(stderr,
                "bench_stack: udp_frames_per_sec: datagram %u arrived wrong (%zu bytes, number "
                "%02x%02x%02x%02x)\n",
                n, len, got[0], got[1], got[2], got[3]);
        exit(1);
    }
}

static double udp_frames_per_sec(void) {
    enum { DATAGRAMS = 500000, BATCH = 200 };
    sim *s;
    sim_create(1, &s);
    tern_stack_config ca, cb;
    host_config(&ca, 1);
    host_config(&cb, 2);
    sim_node_id a, b;
    sim_link_id l;
    sim_host_add(s, "a", &ca, &a);
    sim_host_add(s, "b", &cb, &b);
    sim_link_add(s, a, 0, b, 0, &l);
    tern_stack *sa = sim_host_stack(s, a), *sb = sim_host_stack(s, b);
    tern_sock tx, rx;
    tern_udp_open(sa, &tx);
    tern_udp_open(sb, &rx);
    tern_udp_bind(sb, rx, NULL, 9);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    static uint8_t payload[BATCH][1472];
    uint8_t buf[2048];
    uint64_t received = 0, now = 10000000;
    size_t len;
    /* Resolve ARP first: the datagrams waiting for it are a bounded queue (RFC 1122
     * §2.3.2.2), and the benchmark measures the path, not that queue's overflow. */
    make_datagram(payload[0], sizeof payload[0], UINT32_MAX);
    tern_udp_sendto(sa, tx, &dst, 9, payload[0], sizeof payload[0]);
    sim_node_wake(s, a);
    sim_run(s, now, 0, NULL);
    if (tern_udp_recvfrom(sb, rx, buf, sizeof buf, &len, NULL, NULL, NULL, NULL) != TERN_OK) {
        fprintf(stderr, "bench_stack: udp_frames_per_sec: the first datagram did not arrive\n");
        exit(1);
    }
    check_datagram(buf, len, sizeof payload[0], UINT32_MAX);
    double t0 = cpu_seconds(), spent = 0;
    for (int sent = 0; sent < DATAGRAMS; sent += BATCH) {
        double p0 = cpu_seconds();
        for (int i = 0; i < BATCH; i++) {
            make_datagram(payload[i], sizeof payload[i], (uint32_t)(sent + i));
        }
        spent += cpu_seconds() - p0; /* making and checking the pattern is not the stack's work */
        for (int i = 0; i < BATCH; i++) {
            if (tern_udp_sendto(sa, tx, &dst, 9, payload[i], sizeof payload[i]) != TERN_OK) {
                fprintf(stderr, "bench_stack: sendto failed: %s\n", tern_stack_last_error(sa));
                exit(1);
            }
        }
        sim_node_wake(s, a);
        now += 1000000;
        sim_run(s, now, 0, NULL);
        while (tern_udp_recvfrom(sb, rx, buf, sizeof buf, &len, NULL, NULL, NULL, NULL) ==
               TERN_OK) {
            p0 = cpu_seconds();
            check_datagram(buf, len, sizeof payload[0], (uint32_t)received);
            spent += cpu_seconds() - p0;
            received++;
        }
    }
    double dt = cpu_seconds() - t0 - spent;
    if (received != DATAGRAMS) {
        fprintf(stderr, "bench_stack: udp_frames_per_sec: %llu of %d datagrams arrived\n",
                (unsigned long long)received, DATAGRAMS);
        exit(1);
    }
    sim_destroy(s);
    return (double)received / dt;
}

int main(void) {
    double v[5];
    for (int i = 0; i < 5; i++) {
        v[i] = udp_frames_per_sec();
    }
    qsort(v, 5, sizeof v[0], cmp_double);
    printf("BENCH udp_frames_per_sec %.0f frames/s\n", v[2]);
    return 0;
}

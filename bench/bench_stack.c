/*
 * Stack benchmarks (make bench). Prints:
 *   BENCH udp_frames_per_sec  1472-byte UDP datagrams from one Tern host to
 *                             another over an unlimited link, received per
 *                             second of CPU time (median of 5 runs).
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
    uint8_t payload[1472], buf[2048];
    memset(payload, 0x5a, sizeof payload);
    uint64_t received = 0, now = 0;
    double t0 = cpu_seconds();
    for (int sent = 0; sent < DATAGRAMS; sent += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            if (tern_udp_sendto(sa, tx, &dst, 9, payload, sizeof payload) != TERN_OK) {
                fprintf(stderr, "bench_stack: sendto failed: %s\n", tern_stack_last_error(sa));
                exit(1);
            }
        }
        sim_node_wake(s, a);
        now += 1000000;
        sim_run(s, now, 0, NULL);
        size_t len;
        while (tern_udp_recvfrom(sb, rx, buf, sizeof buf, &len, NULL, NULL, NULL, NULL) ==
               TERN_OK) {
            received++;
        }
    }
    double dt = cpu_seconds() - t0;
    if (received < DATAGRAMS * 99ull / 100) {
        fprintf(stderr, "bench_stack: only %llu of %d datagrams arrived\n",
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

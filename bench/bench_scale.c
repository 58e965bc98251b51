/*
 * How the simulator's cost grows with the number of Tern hosts (issue 19,
 * make bench). Prints, for N = 10, 100, 1,000 and 10,000 hosts:
 *   BENCH sim_scale_cpu_us_<N>      process CPU microseconds per host per
 *                                   simulated second (setup excluded)
 *   BENCH sim_scale_mem_bytes_<N>   memory per host: what the process
 *                                   allocated for the simulation of N hosts
 *                                   and their switches (malloc), plus their
 *                                   stack instances (which the simulator maps
 *                                   in huge-page chunks of its own, outside
 *                                   malloc), over N
 *   BENCH sim_scale_stack_bytes     one host's stack instance
 *                                   (tern_stack_memory_size of its config)
 *   BENCH sim_scale_cpu_ratio       the per-host figure at 10,000 hosts over
 *                                   the one at 10 (flat: within 2x)
 *
 * The network: hosts on learning switches of ISLAND ports, each switch with
 * its own /24 (10.0.k.0/24 for switch k), so that a broadcast (ARP, and the
 * IPv6 start-up multicasts) reaches the hosts of one switch and not all N:
 * every host has the same neighbourhood whatever N is. Hosts pair up on
 * their switch (j even with j + 1). Every host sends one echo request to
 * its partner and must get the reply; every even host opens a TCP connection
 * to its partner and sends XFER bytes of a pattern, which the partner reads
 * and compares. A missing reply, a transfer short by a byte or a wrong byte
 * fails the run (exit 1). The run lasts SIM_SECONDS of virtual time: the
 * exchange, then the hosts' own timers (delayed ACKs, TIME-WAIT, IPv6
 * start-up) until the end.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <time.h>

#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/stack.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define ISLAND 10u       /* hosts per switch: the smallest N is one switch */
#define XFER 16384u      /* bytes per TCP transfer */
#define SIM_SECONDS 2ull /* virtual seconds per run */

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes the process holds from malloc now (glibc mallinfo2: small blocks and mmapped ones):
 * what the simulator and its hosts allocated, whether or not the pages were used before. */
static double heap_bytes(void) {
    struct mallinfo2 mi = mallinfo2();
    return (double)mi.uordblks + (double)mi.hblkhd;
}

static void fail(const char *what, unsigned long long a, unsigned long long b) {
    fprintf(stderr, "bench_scale: ");
    fprintf(stderr, what, a, b);
    fprintf(stderr, "\n");
    exit(1);
}

static uint8_t xfer_byte(uint32_t host, uint32_t i) {
    return (uint8_t)((host * 40503u + i * 2654435761u) >> 11);
}

/* Host h's configuration: small pools, as a large simulation would give its hosts. */
static void host_config(tern_stack_config *c, uint32_t h) {
    uint32_t k = h / ISLAND, j = h % ISLAND;
    tern_stack_config_default(c, (uint8_t)(j + 1));
    c->seed = h + 1;
    c->niface = 1;
    uint8_t mac[6] = {0x02,      0, (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8),
                      (uint8_t)h};
    memcpy(c->iface[0].mac, mac, 6);
    c->iface[0].naddrs = 1;
    c->iface[0].addr[0] = tern_addr_v4(10, (uint8_t)(k >> 8), (uint8_t)k, (uint8_t)(j + 1));
    c->iface[0].prefix_len[0] = 24;
    c->tcp_sockets = 3; /* a listener, a connection, one spare */
    c->tcp.rx_buffer = c->tcp.tx_buffer = XFER;
    c->packet_buffers = 8;
    c->udp_sockets = 2;
    c->udp_queue = 2;
    c->ping_sockets = 1;
    c->arp_entries = 8;
    c->arp_queue = 4;
    c->nd_entries = 8;
    c->nd_queue = 4;
    c->reasm_slots = 1;
    c->reasm_max_bytes = 1500;
}

typedef struct host_app {
    tern_sock ping, lis, conn; /* conn: the client's, or the accepted one */
    uint32_t moved;            /* bytes sent (client) or read and checked (server) */
    bool pong, done_xfer;
} host_app;

/* One run with n hosts: *cpu_us CPU microseconds per host per simulated second, *mem bytes per
 * host. */
static void run(uint32_t n, double *cpu_us, double *mem) {
    double heap0 = heap_bytes();
    sim *s;
    if (sim_create(7, &s))
        fail("sim_create failed%llu%llu", 0, 0);
    uint32_t nsw = (n + ISLAND - 1) / ISLAND;
    sim_node_id *host = calloc(n, sizeof *host);
    host_app *app = calloc(n, sizeof *app);
    tern_stack **st = calloc(n, sizeof *st);
    for (uint32_t k = 0; k < nsw; k++) {
        char name[32];
        snprintf(name, sizeof name, "sw%u", k);
        sim_node_id sw;
        uint32_t ports = n - k * ISLAND < ISLAND ? n - k * ISLAND : ISLAND;
        if (sim_switch_add(s, name, ports, 0, 0, &sw))
            fail("switch %llu: %llu", k, 0);
        for (uint32_t j = 0; j < ports; j++) {
            uint32_t h = k * ISLAND + j;
            tern_stack_config c;
            host_config(&c, h);
            snprintf(name, sizeof name, "h%u", h);
            sim_link_id l;
            if (sim_host_add(s, name, &c, &host[h]) || sim_link_add(s, host[h], 0, sw, j, &l)) {
                fprintf(stderr, "bench_scale: host %u: %s\n", h, sim_last_error(s));
                exit(1);
            }
            st[h] = sim_host_stack(s, host[h]);
        }
    }
    /* The instances are carved out of the simulator's host arena (sim/src/core/host_arena.c),
     * 64-byte aligned, outside malloc: counted from their size. */
    double instances = 0;
    for (uint32_t h = 0; h < n; h++) {
        tern_stack_config c;
        host_config(&c, h);
        instances += (double)((tern_stack_memory_size(&c) + 63) / 64 * 64);
    }
    *mem = (heap_bytes() - heap0 + instances) / n;
    /* Sockets: every host a ping socket and a listener; clients connect. */
    for (uint32_t h = 0; h < n; h++) {
        host_app *a = &app[h];
        uint32_t k = h / ISLAND, j = h % ISLAND, partner = j ^ 1u;
        if (k * ISLAND + partner >= n)
            partner = j; /* an odd host out pings itself */
        tern_addr peer = tern_addr_v4(10, (uint8_t)(k >> 8), (uint8_t)k, (uint8_t)(partner + 1));
        if (tern_ping_open(st[h], 1, &a->ping) ||
            tern_ping_send(st[h], a->ping, &peer, 1, NULL, 56, 0, false) ||
            tern_tcp_open(st[h], &a->lis) || tern_tcp_bind(st[h], a->lis, NULL, 5001) ||
            tern_tcp_listen(st[h], a->lis, 4))
            fail("host %llu: %llu", h, 0);
        a->conn = 0;
        if (j % 2 == 0 && partner != j) {
            if (tern_tcp_open(st[h], &a->conn) || tern_tcp_connect(st[h], a->conn, &peer, 5001))
                fail("host %llu: connect %llu", h, 0);
        } else if (j % 2 == 0) {
            a->done_xfer = true; /* the odd host out has no partner */
        }
        sim_node_wake(s, host[h]);
    }
    double c0 = cpu_seconds();
    uint64_t now = 0;
    uint32_t pending = 2 * n; /* pongs and finished transfers to come */
    for (uint32_t h = 0; h < n; h++)
        if (app[h].done_xfer)
            pending--;
    uint8_t buf[4096];
    /* The applications wake every ms until every exchange is done. */
    while (pending > 0 && now < SIM_SECONDS * SEC) {
        now += 1 * MS;
        if (sim_run(s, now, 0, NULL))
            fail("sim_run failed at %llu ms%llu", now / MS, 0);
        for (uint32_t h = 0; h < n; h++) {
            host_app *a = &app[h];
            bool client = (h % ISLAND) % 2 == 0;
            tern_ping_reply r;
            if (!a->pong && tern_ping_recv(st[h], a->ping, &r, NULL, 0) == TERN_OK) {
                a->pong = true;
                pending--;
            }
            if (a->done_xfer)
                continue;
            if (client) {
                while (a->moved < XFER) {
                    uint32_t want = XFER - a->moved > sizeof buf ? sizeof buf : XFER - a->moved;
                    for (uint32_t i = 0; i < want; i++)
                        buf[i] = xfer_byte(h, a->moved + i);
                    size_t w = 0;
                    if (tern_tcp_send(st[h], a->conn, buf, want, &w) != TERN_OK || w == 0)
                        break;
                    a->moved += (uint32_t)w;
                }
                if (a->moved == XFER) {
                    tern_tcp_close(st[h], a->conn);
                    a->done_xfer = true;
                    pending--;
                }
            } else {
                if (!a->conn && tern_tcp_accept(st[h], a->lis, &a->conn) != TERN_OK)
                    a->conn = 0;
                size_t got;
                while (a->conn && tern_tcp_recv(st[h], a->conn, buf, sizeof buf, &got) == TERN_OK &&
                       got > 0) {
                    for (size_t i = 0; i < got; i++)
                        if (buf[i] != xfer_byte(h - 1, a->moved + (uint32_t)i))
                            fail("host %llu: byte %llu of the transfer is wrong", h, a->moved + i);
                    a->moved += (uint32_t)got;
                }
                if (a->moved == XFER) {
                    tern_tcp_close(st[h], a->conn);
                    a->done_xfer = true;
                    pending--;
                }
            }
            sim_node_wake(s, host[h]);
        }
    }
    if (pending > 0)
        fail("%llu of the exchanges did not finish in %llu s", pending, SIM_SECONDS);
    if (sim_run(s, SIM_SECONDS * SEC, 0, NULL))
        fail("sim_run failed%llu%llu", 0, 0);
    double cpu = cpu_seconds() - c0;
    *cpu_us = cpu * 1e6 / n / (double)SIM_SECONDS;
    sim_destroy(s);
    free(host);
    free(app);
    free(st);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 5; /* medians of 5 runs unless told */
    if (runs < 1 || runs > 9)
        runs = 5;
    static const uint32_t sizes[] = {10, 100, 1000, 10000};
    long only = argc > 2 ? atol(argv[2]) : 0; /* one size (a profile) */
    double first = 0, last = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (only && sizes[i] != (uint32_t)only)
            continue;
        double cpu[9], mem[9];
        int r = sizes[i] >= 10000 && runs > 3 ? 3 : runs; /* the largest takes longest */
        for (int k = 0; k < r; k++)
            run(sizes[i], &cpu[k], &mem[k]);
        qsort(cpu, (size_t)r, sizeof cpu[0], cmp_double);
        qsort(mem, (size_t)r, sizeof mem[0], cmp_double);
        printf("BENCH sim_scale_cpu_us_%u %.1f us/host/sim-s\n", sizes[i], cpu[r / 2]);
        printf("BENCH sim_scale_mem_bytes_%u %.0f bytes/host\n", sizes[i], mem[r / 2]);
        fflush(stdout);
        if (i == 0)
            first = cpu[r / 2];
        last = cpu[r / 2];
    }
    tern_stack_config c;
    host_config(&c, 0);
    printf("BENCH sim_scale_stack_bytes %zu bytes\n", tern_stack_memory_size(&c));
    printf("BENCH sim_scale_cpu_ratio %.2f x\n", last / first);
    return 0;
}

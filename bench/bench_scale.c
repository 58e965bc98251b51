/*
 * How the simulator's cost grows with the number of Tern hosts (issue 19,
 * make bench). Prints, for N = 10, 100, 1,000 and 10,000 hosts:
 *   BENCH sim_scale_cpu_us_<N>      process CPU microseconds per host per
 *                                   simulated second (setup excluded): the
 *                                   median of the runs, with their spread
 *                                   (min-max) after it
 *   BENCH sim_scale_mem_bytes_<N>   memory per host: what the process
 *                                   allocated for the simulation of N hosts
 *                                   and their switches (malloc), plus their
 *                                   stack instances (which the simulator maps
 *                                   in huge-page chunks of its own, outside
 *                                   malloc), over N
 *   BENCH sim_scale_faults_<N>      minor page faults per host in the timed
 *                                   run phases: memory first touched inside
 *                                   the run (frames in flight, switch
 *                                   tables), which the kernel zeroes on the
 *                                   process's CPU time; a count, not a time,
 *                                   so it does not move with the machine's
 *                                   load (about 0 at every N: see below)
 *   BENCH sim_scale_cold_cpu_us_<N> the same figure as sim_scale_cpu_us_<N>
 *                                   for the untimed warm-up simulation: the
 *                                   first of its size, on a heap given back
 *                                   to the kernel before it, with its page
 *                                   faults per host
 *   BENCH sim_scale_setup_us_<N>    CPU microseconds per host to build a
 *                                   simulation (switches, hosts and their
 *                                   stack instances, links, sockets): not
 *                                   part of the flat figure, but what a user
 *                                   waits for before the first event; flat
 *                                   too since node names are indexed
 *   BENCH sim_scale_frames_<N>      frames and bytes each host sent and
 *                                   received (the work per host: the same at
 *                                   every N, checked)
 *   BENCH sim_scale_stack_bytes     one host's stack instance
 *                                   (tern_stack_memory_size of its config)
 *   BENCH sim_scale_cpu_ratio       the per-host figure at 10,000 hosts over
 *                                   the one at 10 (flat: within 2x)
 *   BENCH sim_scale_loadavg         the machine's 1-minute load average
 *                                   before and after the runs: a figure
 *                                   taken beside other work is not a quiet
 *                                   machine's
 *
 * What one run measures: a run simulates N hosts REPS(N) times over, each
 * time a new simulation, so that every size rests on at least MIN_HOST_RUNS
 * host-runs of work (10 hosts: 200 simulations; 10,000 hosts: one): the
 * small sizes then cost tens of ms of CPU per run instead of a fraction of
 * one, and a scheduler tick or a cold cache no longer moves their figure.
 * The figure is CPU over (REPS x N x SIM_SECONDS), the same quantity as a
 * single simulation's.
 *
 * Every size is measured alike: before its timed runs, one untimed warm-up
 * simulation of the same size, and the process keeps its heap between
 * simulations (malloc never maps a block of its own and never gives the top
 * of the heap back, mallopt in main). Each timed simulation then allocates
 * from pages an earlier one of the same size touched, as the 10-host runs'
 * 200 simulations always did: without the warm-up the 10,000-host figure
 * came from one simulation on fresh memory (glibc returned its large blocks
 * to the kernel at every free) and carried 3-5 page faults per host, 4-12
 * us/host/sim-s of the kernel's zeroing, which the small sizes never paid.
 * What a first simulation costs is not hidden: the warm-up's own figure is
 * printed (sim_scale_cold_cpu_us_<N>), measured after malloc_trim has given
 * the earlier sizes' free memory back, so that it is cold at every size.
 *
 * The network: hosts on learning switches of ISLAND ports, each switch with
 * its own /24 (10.0.k.0/24 for switch k), so that a broadcast (ARP, and the
 * IPv6 start-up multicasts) reaches the hosts of one switch and not all N:
 * every host has the same neighbourhood whatever N is. Hosts pair up on
 * their switch (j even with j + 1). Every host sends one echo request to
 * its partner and must get the reply; every even host opens a TCP connection
 * to its partner and sends XFER bytes of a pattern, which the partner reads
 * and compares. A missing reply, a transfer short by a byte or a wrong byte
 * fails the run (exit 1), and so does a host count of frames per host that
 * differs from the 10-host one. The run lasts SIM_SECONDS of virtual time:
 * the exchange, then the hosts' own timers (delayed ACKs, TIME-WAIT, IPv6
 * start-up) until the end.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/resource.h>
#include <time.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
/* Under `valgrind --tool=callgrind --instr-atstart=no` only the run phases are measured (the
 * setup of 10,000 hosts, zeroing their instances, would take most of a cache simulation's time). */
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif
#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/stack.h"

#define SEC 1000000000ull
#define ISLAND 10u          /* hosts per switch: the smallest N is one switch */
#define XFER 16384u         /* bytes per TCP transfer */
#define SIM_SECONDS 2ull    /* virtual seconds per run */
#define MIN_HOST_RUNS 2000u /* each size: at least this many hosts simulated per run */
#define MAX_RUNS 15

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
    /* Features the hosts do not use cost no memory (issue 19: sized by the configuration). */
    c->dns_queries = TERN_POOL_NONE;
    c->dns_cache = TERN_POOL_NONE;
    c->tcp.lend_extents = TERN_POOL_NONE;
    c->tcp.bbr_sockets = TERN_POOL_NONE;
}

/* One host's application: ping its partner, and send (client) or receive and check (server)
 * XFER bytes. It runs inside the simulation (sim_host_set_app), after each of its host's inputs
 * and polls, as an event-driven application would: a simulation of many hosts never visits the
 * others for it, and the bytes it moves are the ones the stack has just handled. */
typedef struct host_app {
    tern_sock ping, lis, conn; /* conn: the client's, or the accepted one */
    uint32_t h;                /* the host's number */
    uint32_t moved;            /* bytes sent (client) or read and checked (server) */
    bool pong, done_xfer;
    uint32_t *pending; /* the simulation's count of pongs and transfers still to come */
} host_app;

static void app_run(void *ctx, tern_stack *st, uint64_t now) {
    (void)now;
    host_app *a = ctx;
    if (a->pong && a->done_xfer) {
        return;
    }
    uint32_t h = a->h;
    tern_ping_reply r;
    if (!a->pong && tern_ping_recv(st, a->ping, &r, NULL, 0) == TERN_OK) {
        a->pong = true;
        (*a->pending)--;
    }
    if (a->done_xfer) {
        return;
    }
    uint8_t buf[4096];
    bool client = (h % ISLAND) % 2 == 0;
    if (client) {
        while (a->moved < XFER) {
            uint32_t want = XFER - a->moved > sizeof buf ? sizeof buf : XFER - a->moved;
            for (uint32_t i = 0; i < want; i++)
                buf[i] = xfer_byte(h, a->moved + i);
            size_t w = 0;
            if (tern_tcp_send(st, a->conn, buf, want, &w) != TERN_OK || w == 0)
                break;
            a->moved += (uint32_t)w;
        }
    } else {
        if (!a->conn && tern_tcp_accept(st, a->lis, &a->conn) != TERN_OK)
            a->conn = 0;
        size_t got;
        while (a->conn && tern_tcp_recv(st, a->conn, buf, sizeof buf, &got) == TERN_OK && got > 0) {
            for (size_t i = 0; i < got; i++)
                if (buf[i] != xfer_byte(h - 1, a->moved + (uint32_t)i))
                    fail("host %llu: byte %llu of the transfer is wrong", h, a->moved + i);
            a->moved += (uint32_t)got;
        }
    }
    if (client && a->moved == XFER) {
        /* Queued in SYN-SENT as well; closed once the connection is up (a close in SYN-SENT
         * would delete it, RFC 9293 section 3.10.4). */
        tern_tcp_info info;
        if (tern_tcp_get_info(st, a->conn, &info) != TERN_OK || info.state == TERN_TCP_SYN_SENT)
            return;
    }
    if (a->moved == XFER) {
        tern_tcp_close(st, a->conn);
        a->done_xfer = true;
        (*a->pending)--;
    }
}

/* What the hosts of a simulation sent and received, summed over them. */
typedef struct traffic {
    uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
    uint64_t faults;  /* minor page faults of the run phases: memory they touched first */
    double setup_cpu; /* CPU seconds of the set-ups (sim_create to the sockets, untimed) */
} traffic;

static uint64_t minor_faults(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t)ru.ru_minflt : 0;
}

/* One simulation of n hosts: returns the CPU seconds of its run phase; *mem bytes per host; adds
 * the hosts' frame counters to *t and its set-up's CPU seconds to t->setup_cpu. */
static double simulate(uint32_t n, double *mem, traffic *t) {
    double heap0 = heap_bytes();
    double setup0 = cpu_seconds();
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
    uint32_t pending = 2 * n; /* pongs and finished transfers to come */
    for (uint32_t h = 0; h < n; h++) {
        host_app *a = &app[h];
        uint32_t k = h / ISLAND, j = h % ISLAND, partner = j ^ 1u;
        if (k * ISLAND + partner >= n)
            partner = j; /* an odd host out pings itself */
        tern_addr peer = tern_addr_v4(10, (uint8_t)(k >> 8), (uint8_t)k, (uint8_t)(partner + 1));
        a->h = h;
        a->pending = &pending;
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
            pending--;
        }
        if (sim_host_set_app(s, host[h], app_run, a))
            fail("host %llu: no application%llu", h, 0);
        sim_node_wake(s, host[h]);
    }
    CALLGRIND_START_INSTRUMENTATION;
    uint64_t f0 = minor_faults();
    double c0 = cpu_seconds();
    t->setup_cpu += c0 - setup0;
    /* The applications run inside the simulation, each at its own host's events. */
    if (sim_run(s, SIM_SECONDS * SEC, 0, NULL))
        fail("sim_run failed%llu%llu", 0, 0);
    double cpu = cpu_seconds() - c0;
    t->faults += minor_faults() - f0;
    CALLGRIND_STOP_INSTRUMENTATION;
    if (pending > 0)
        fail("%llu of the exchanges did not finish in %llu s", pending, SIM_SECONDS);
    for (uint32_t h = 0; h < n; h++) {
        sim_node_counters nc;
        if (sim_node_get_counters(s, host[h], &nc))
            fail("host %llu: no counters%llu", h, 0);
        t->tx_frames += nc.tx_frames;
        t->tx_bytes += nc.tx_bytes;
        t->rx_frames += nc.rx_frames;
        t->rx_bytes += nc.rx_bytes;
    }
    sim_destroy(s);
    free(host);
    free(app);
    free(st);
    return cpu;
}

/* Simulations of n hosts that one run makes: at least MIN_HOST_RUNS hosts in all. */
static uint32_t reps_for(uint32_t n) {
    return (MIN_HOST_RUNS + n - 1) / n;
}

/* One run: reps_for(n) simulations of n hosts. *cpu_us CPU microseconds per host per simulated
 * second over all of them, *mem bytes per host (the last simulation's), *t their traffic summed. */
static void run(uint32_t n, double *cpu_us, double *mem, traffic *t) {
    uint32_t reps = reps_for(n);
    double cpu = 0;
    for (uint32_t r = 0; r < reps; r++)
        cpu += simulate(n, mem, t);
    *cpu_us = cpu * 1e6 / ((double)reps * n * (double)SIM_SECONDS);
}

/* Whether traffic t over sims host-simulations is, per host, the reference's (the work per host
 * must not depend on n: same neighbourhood, same exchange). */
static bool same_work(const traffic *t, uint64_t sims, const traffic *ref, uint64_t ref_sims) {
    return t->tx_frames * ref_sims == ref->tx_frames * sims &&
           t->rx_frames * ref_sims == ref->rx_frames * sims &&
           t->tx_bytes * ref_sims == ref->tx_bytes * sims &&
           t->rx_bytes * ref_sims == ref->rx_bytes * sims;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The 1-minute load average, or -1 where the system does not give it. */
static double load_1min(void) {
    double l[1];
    return getloadavg(l, 1) == 1 ? l[0] : -1.0;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 5; /* medians of 5 runs unless told */
    if (runs < 1 || runs > MAX_RUNS)
        runs = 5;
    /* The heap stays the process's between simulations (see the top of the file): no block of
     * its own mapping, whose free would unmap it, and no trimming of the heap's top at a free. */
    if (!mallopt(M_MMAP_MAX, 0) || !mallopt(M_TRIM_THRESHOLD, -1))
        fail("mallopt failed%llu%llu", 0, 0);
    static const uint32_t sizes[] = {10, 100, 1000, 10000};
    long only = argc > 2 ? atol(argv[2]) : 0; /* one size (a profile) */
    double first = 0, last = 0, load0 = load_1min();
    traffic ref = {0}; /* the traffic at the first size measured, over ref_sims host-simulations */
    uint64_t ref_sims = 0;
    uint32_t ref_n = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t n = sizes[i];
        if (only && n != (uint32_t)only)
            continue;
        double cpu[MAX_RUNS], mem[MAX_RUNS];
        int r = n >= 10000 && runs > 3 ? 3 : runs; /* the largest takes longest */
        /* The warm-up: one simulation of n hosts, not timed with the runs, from a heap whose free
         * memory the earlier sizes' simulations gave back (so its figure is a cold one). */
        malloc_trim(0);
        traffic cold = {0};
        double cold_mem;
        double cold_us = simulate(n, &cold_mem, &cold) * 1e6 / ((double)n * (double)SIM_SECONDS);
        traffic t = {0};
        for (int k = 0; k < r; k++)
            run(n, &cpu[k], &mem[k], &t);
        /* The work per host must not depend on n (same neighbourhood, same exchange): the frames
         * each host sent and received, over every simulation of every run, and the warm-up's. */
        uint64_t sims = (uint64_t)r * reps_for(n) * n; /* host-simulations */
        if (!ref_n) {
            ref = t;
            ref_n = n;
            ref_sims = sims;
        } else if (!same_work(&t, sims, &ref, ref_sims)) {
            fail("%llu hosts: the hosts' traffic per host differs from the one at %llu hosts", n,
                 ref_n);
        }
        if (!same_work(&cold, n, &ref, ref_sims))
            fail("%llu hosts: the warm-up's traffic per host differs from the one at %llu hosts", n,
                 ref_n);
        qsort(cpu, (size_t)r, sizeof cpu[0], cmp_double);
        qsort(mem, (size_t)r, sizeof mem[0], cmp_double);
        printf("BENCH sim_scale_cpu_us_%u %.1f us/host/sim-s (%d runs of %u simulations after "
               "one warm-up, heap kept: %.1f-%.1f, %.0f ms of CPU each)\n",
               n, cpu[r / 2], r, reps_for(n), cpu[0], cpu[r - 1],
               cpu[r / 2] * (double)reps_for(n) * n * (double)SIM_SECONDS / 1e3);
        printf("BENCH sim_scale_cold_cpu_us_%u %.1f us/host/sim-s (the warm-up: the first "
               "simulation of %u hosts on a trimmed heap; %.2f page faults/host)\n",
               n, cold_us, n, (double)cold.faults / (double)n);
        printf("BENCH sim_scale_setup_us_%u %.1f us/host (CPU time to build a simulation: its "
               "switches, hosts, links and sockets; the mean over the timed runs' simulations)\n",
               n, t.setup_cpu * 1e6 / (double)sims);
        printf("BENCH sim_scale_mem_bytes_%u %.0f bytes/host\n", n, mem[r / 2]);
        printf("BENCH sim_scale_faults_%u %.2f page faults/host (timed run phases)\n", n,
               (double)t.faults / (double)sims);
        printf("BENCH sim_scale_frames_%u %.1f/%.1f frames/host sent/received (%.0f/%.0f bytes)\n",
               n, (double)t.tx_frames / (double)sims, (double)t.rx_frames / (double)sims,
               (double)t.tx_bytes / (double)sims, (double)t.rx_bytes / (double)sims);
        fflush(stdout);
        if (!first)
            first = cpu[r / 2];
        last = cpu[r / 2];
    }
    tern_stack_config c;
    host_config(&c, 0);
    printf("BENCH sim_scale_stack_bytes %zu bytes\n", tern_stack_memory_size(&c));
    printf("BENCH sim_scale_cpu_ratio %.2f x\n", last / first);
    printf("BENCH sim_scale_loadavg %.2f %.2f (1-minute load average before and after)\n", load0,
           load_1min());
    return 0;
}

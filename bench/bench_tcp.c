/*
 * TCP benchmarks (make bench). Prints, medians of several runs:
 *   BENCH tcp_bulk_gbps      payload bits per CPU second, one connection
 *                            between two Tern hosts, unlimited link, MTU 1500,
 *                            1 MiB socket buffers (400 MiB, or TERN_BENCH_BYTES)
 *   BENCH tcp_bulk_gbps_64k  the same with 64 KiB socket buffers, its runs
 *                            interleaved with tcp_bulk_gbps's
 *   BENCH tcp_bulk_drop_1m   how much slower 1 MiB buffers are than 64 KiB
 *                            ones (issue 19: at most 10 %)
 *   BENCH tcp_bulk_gbps_zc   tcp_bulk_gbps with the zero-copy calls: the sender
 *                            lends the stream (tern_tcp_lend), the receiver
 *                            checks it where it lies (tern_tcp_recv_peek);
 *                            tcp_bulk_gbps_zc_64k the same with 64 KiB
 *                            buffers, both interleaved with tcp_bulk_gbps's
 *   BENCH tcp_bulk_zc_speedup  tcp_bulk_gbps_zc / tcp_bulk_gbps
 *   BENCH tcp6_bulk_gbps     the same over IPv6 (fd00::1 to fd00::2, MSS
 *                            1440 instead of 1460), its runs interleaved
 *                            with tcp_bulk_gbps's so that both see the same
 *                            machine load
 *   BENCH tcp6_bulk_ratio    tcp6_bulk_gbps / tcp_bulk_gbps (issue 12: IPv6
 *                            within 5 % of IPv4)
 *   BENCH tcp_lossy_speedup  100 MB over 100 Mbit/s, 20 ms RTT, 1% loss:
 *                            virtual seconds per wall second
 *   BENCH tcp_pcb_bytes      TCP state per connection, buffers excluded
 *                            (control block, SACK/OOO ranges, heap and hash
 *                            slots, port table), measured on the server of
 *                            tcp_connections once its connections are open:
 *                            the TCP pools' bytes over the control blocks in use
 *   BENCH tcp_pcb_bytes_formula  the same from tern_stack_memory_size: the
 *                            marginal bytes of one more socket, buffers excluded
 *   BENCH tcp_connections    connections held at once in one simulation with
 *                            4 KB buffers, each of which exchanged data: the
 *                            client sends its number, the server echoes it,
 *                            the client reads it back
 *   BENCH tcp_connections_open_wall_s  wall time to open them all: from the
 *                            first connect to the last one established on
 *                            both sides (the client's handshakes complete and
 *                            the server has accepted every one)
 *   BENCH tcp_connections_open_sim_s   the virtual time that took
 *   BENCH tcp_connections_mem_mb  the two hosts' stack instances
 *                            (tern_stack_memory_size), and
 *   BENCH tcp_connections_rss_mb  the process's peak resident memory
 *
 * The data is checked, and a mismatch fails the run (exit 1), whatever the
 * figure: the bulk transfer carries a pattern of the stream offset that the
 * receiver compares byte for byte, and its byte count; every connection's
 * echo is compared.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tcp/tcp_private.h" /* the TCP pools, for tcp_pcb_bytes (white box) */
#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/stack.h"

#define MS 1000000ull
#define SEC 1000000000ull

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* fd00::last, the host's IPv6 address (a unique local prefix, RFC 4193). */
static tern_addr addr6(uint8_t last) {
    uint8_t b[16] = {0xfd, 0};
    b[15] = last;
    return tern_addr_v6_from_bytes(b);
}

static void host_config(tern_stack_config *cfg, uint8_t last, uint32_t sockets, uint32_t buf) {
    tern_stack_config_default(cfg, last);
    cfg->niface = 1;
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, last};
    memcpy(cfg->iface[0].mac, mac, 6);
    /* dual stack: 10.0.0.last/24 and fd00::last/64 */
    cfg->iface[0].naddrs = 2;
    cfg->iface[0].addr[0] = tern_addr_v4(10, 0, 0, last);
    cfg->iface[0].prefix_len[0] = 24;
    cfg->iface[0].addr[1] = addr6(last);
    cfg->iface[0].prefix_len[1] = 64;
    cfg->tcp_sockets = sockets;
    cfg->tcp.rx_buffer = buf;
    cfg->tcp.tx_buffer = buf;
    cfg->tcp.sack = cfg->tcp.timestamps = cfg->tcp.window_scaling = true;
}

static void die(const char *what, sim *s) {
    fprintf(stderr, "bench_tcp: %s (%s)\n", what, s ? sim_last_error(s) : "");
    exit(1);
}

/* The bulk stream: byte i is stream_byte(i), repeating every STREAM_PERIOD bytes. */
#define STREAM_PERIOD (1u << 20)
static uint8_t stream[STREAM_PERIOD];

static void make_stream(void) {
    for (uint32_t i = 0; i < STREAM_PERIOD; i++) {
        stream[i] = (uint8_t)((i * 2654435761u) >> 13 ^ i >> 8);
    }
}

/* The n bytes received at stream offset off are the stream's; else the run fails. */
static void check_stream(const uint8_t *got, size_t n, uint64_t off) {
    size_t done = 0;
    while (done < n) {
        size_t at = (size_t)((off + done) % STREAM_PERIOD);
        size_t k = n - done < STREAM_PERIOD - at ? n - done : STREAM_PERIOD - at;
        if (memcmp(got + done, stream + at, k) != 0) {
            size_t i = 0;
            while (got[done + i] == stream[at + i])
                i++;
            fprintf(stderr,
                    "bench_tcp: tcp_bulk_gbps: byte %llu of the stream arrived as 0x%02x, sent as "
                    "0x%02x\n",
                    (unsigned long long)(off + done + i), got[done + i], stream[at + i]);
            exit(1);
        }
        done += k;
    }
}

/*
 * One bulk transfer of `bytes` from host a to host b. Returns the virtual
 * seconds it took; *cpu and *wall receive the CPU and wall seconds.
 */
/* The sender's and the receiver's calls: copying (tern_tcp_send / tern_tcp_recv into a sink) or
 * zero-copy (tern_tcp_lend of the stream itself / tern_tcp_recv_peek, checked in place). */
typedef enum {
    API_COPY = 0,                       /* tern_tcp_send / tern_tcp_recv */
    API_LEND = 1,                       /* the sender lends, the receiver copies */
    API_PEEK = 2,                       /* the sender copies, the receiver reads in place */
    API_ZEROCOPY = API_LEND | API_PEEK, /* both */
    API_POST = 4 /* the sender copies, the receiver posts its buffer (tern_tcp_recv_post) */
} bulk_api;
static bulk_api g_api = API_COPY;
/* The receiver's posted read (API_POST): whether its buffer is posted. */
static bool g_posted;

/* Queue up to n bytes of the stream from `data`; how many went (0: none fit now). */
static size_t bulk_send(tern_stack *st, tern_sock s, const uint8_t *data, size_t n) {
    size_t w = 0;
    tern_err e =
        (g_api & API_LEND) ? tern_tcp_lend(st, s, data, n, &w) : tern_tcp_send(st, s, data, n, &w);
    return e == TERN_OK ? w : 0; /* WOULD_BLOCK, or (lend) every extent busy: later */
}

/* Read and check what arrived, from stream offset *got on; false when nothing was readable. */
static bool bulk_recv(tern_stack *st, tern_sock s, uint64_t *got) {
    static uint8_t sink[1 << 20];
    if (g_api & API_PEEK) {
        tern_tcp_span span[2];
        size_t n;
        if (tern_tcp_recv_peek(st, s, span, &n) != TERN_OK || n == 0)
            return false;
        check_stream(span[0].data, span[0].len, *got);
        check_stream(span[1].data, span[1].len, *got + span[0].len);
        if (tern_tcp_recv_consume(st, s, n) != TERN_OK) {
            fprintf(stderr, "bench_tcp: tern_tcp_recv_consume: %s\n", tern_stack_last_error(st));
            exit(1);
        }
        *got += n;
        return true;
    }
    if (g_api & API_POST) {
        /* The application's buffer stays posted between its wake-ups: the stack fills it straight
         * from the frames. At a wake-up the bytes filled are checked where they landed, as
         * tern_tcp_recv's would be, and the buffer is taken and posted again whole (the bytes the
         * receive buffer took meanwhile, if any, move in first) for what arrives until the next
         * one: the calls of tern_tcp_recv(sink, 1 MiB), made before the data arrives. */
        if (!g_posted) {
            if (tern_tcp_recv_post(st, s, sink, sizeof sink) != TERN_OK) {
                fprintf(stderr, "bench_tcp: tern_tcp_recv_post: %s\n", tern_stack_last_error(st));
                exit(1);
            }
            g_posted = true;
        }
        size_t filled, took;
        if (tern_tcp_recv_posted(st, s, &filled, NULL) != TERN_OK) {
            fprintf(stderr, "bench_tcp: tern_tcp_recv_posted failed\n");
            exit(1);
        }
        if (filled == 0)
            return false;
        check_stream(sink, filled, *got);
        *got += filled;
        if (tern_tcp_recv_take(st, s, &took) != TERN_OK || took != filled) {
            fprintf(stderr, "bench_tcp: tern_tcp_recv_take: %s\n", tern_stack_last_error(st));
            exit(1);
        }
        g_posted = false;
        return true;
    }
    size_t n;
    if (tern_tcp_recv(st, s, sink, sizeof sink, &n) != TERN_OK || n == 0)
        return false;
    check_stream(sink, n, *got);
    *got += n;
    return true;
}

static double bulk(uint64_t bytes, int64_t rate, uint64_t delay, double loss, uint32_t buf,
                   uint64_t seed, bool v6, double *cpu, double *wall) {
    sim *s;
    if (sim_create(seed, &s))
        die("sim_create", NULL);
    tern_stack_config ca, cb;
    host_config(&ca, 1, 4, buf);
    host_config(&cb, 2, 4, buf);
    sim_node_id a, b;
    sim_link_id l;
    if (sim_host_add(s, "a", &ca, &a) || sim_host_add(s, "b", &cb, &b) ||
        sim_link_add(s, a, 0, b, 0, &l))
        die("setup", s);
    if (rate)
        sim_link_set_rate(s, l, SIM_DIR_BOTH, rate);
    if (delay)
        sim_link_set_delay(s, l, SIM_DIR_BOTH, (int64_t)delay, 0, false);
    if (loss > 0)
        sim_link_set_loss_bernoulli(s, l, SIM_DIR_BOTH, loss);
    tern_stack *sa = sim_host_stack(s, a), *sb = sim_host_stack(s, b);
    tern_sock lis, cl, sv = 0;
    tern_tcp_open(sb, &lis);
    tern_tcp_bind(sb, lis, NULL, 5001);
    tern_tcp_listen(sb, lis, 8);
    tern_tcp_open(sa, &cl);
    tern_tcp_set_option(sa, cl, TERN_TCP_OPT_CONGESTION, TERN_TCP_CC_CUBIC);
    tern_addr dst = v6 ? addr6(2) : tern_addr_v4(10, 0, 0, 2);
    if (tern_tcp_connect(sa, cl, &dst, 5001))
        die(tern_stack_last_error(sa), s);
    make_stream();
    g_posted = false;
    uint64_t sent = 0, got = 0, now = 0;
    uint64_t step = delay ? 2 * MS : 50000; /* app wake-up period, virtual */
    double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
    while (got < bytes) {
        if (!sv && tern_tcp_accept(sb, lis, &sv) != TERN_OK)
            sv = 0;
        while (sent < bytes) {
            size_t at = (size_t)(sent % STREAM_PERIOD);
            size_t n = STREAM_PERIOD - at;
            if (bytes - sent < n)
                n = (size_t)(bytes - sent);
            /* Lent bytes are the stream itself, which never changes: the sender need not wait
             * for tern_tcp_lend_done before lending the same period again. */
            size_t w = bulk_send(sa, cl, stream + at, n);
            if (w == 0)
                break;
            sent += w;
        }
        if (sv) {
            while (bulk_recv(sb, sv, &got)) {
            }
        }
        sim_node_wake(s, a);
        sim_node_wake(s, b);
        now += step;
        if (sim_run(s, now, 0, NULL))
            die("sim_run", s);
        if (now > 100000 * SEC)
            die("transfer did not finish", s);
    }
    *cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    *wall = clock_s(CLOCK_MONOTONIC) - w0;
    if (got != bytes) {
        fprintf(stderr, "bench_tcp: bulk: %llu bytes arrived, %llu were sent\n",
                (unsigned long long)got, (unsigned long long)bytes);
        exit(1);
    }
    if (g_api & API_LEND) {
        /* Every lent byte is acknowledged once the last has arrived and been acknowledged. */
        uint64_t done = 0;
        for (int i = 0; i < 100 && done < bytes; i++) {
            sim_node_wake(s, b);
            now += 200 * MS;
            if (sim_run(s, now, 0, NULL))
                die("sim_run", s);
            tern_tcp_lend_done(sa, cl, &done);
        }
        if (done != bytes) {
            fprintf(stderr, "bench_tcp: bulk: %llu lent bytes done, %llu were lent\n",
                    (unsigned long long)done, (unsigned long long)bytes);
            exit(1);
        }
    }
    sim_destroy(s);
    return (double)now / 1e9;
}

/* The bulk transfer's size: 400 MiB, or TERN_BENCH_BYTES (a quick run, e.g. under perf). */
static uint64_t bulk_bytes(void) {
    const char *e = getenv("TERN_BENCH_BYTES");
    if (!e)
        return 400ull << 20;
    char *end;
    unsigned long long v = strtoull(e, &end, 10);
    if (*end || v == 0) {
        fprintf(stderr,
                "bench_tcp: TERN_BENCH_BYTES must be a positive number of bytes, not \"%s\"\n", e);
        exit(2);
    }
    return v;
}

/* Payload Gbit per CPU second of one bulk transfer with buf-byte socket buffers. */
static double bulk_gbps_buf(bool v6, uint32_t buf) {
    const uint64_t bytes = bulk_bytes();
    double cpu, wall;
    bulk(bytes, 0, 0, 0, buf, 1, v6, &cpu, &wall);
    return (double)bytes * 8 / cpu / 1e9;
}

static double bulk_gbps(bool v6) {
    return bulk_gbps_buf(v6, 1 << 20);
}

static double lossy_speedup(uint64_t seed) {
    const uint64_t bytes = 100ull << 20;
    double cpu, wall;
    double v = bulk(bytes, 100000000, 10 * MS, 0.01, 4 << 20, seed, false, &cpu, &wall);
    return v / wall;
}

static double pcb_bytes_formula(void) {
    tern_stack_config c1, c2;
    host_config(&c1, 1, 1000, 4096);
    host_config(&c2, 1, 2000, 4096);
    size_t a = tern_stack_memory_size(&c1), b = tern_stack_memory_size(&c2);
    return (double)(b - a) / 1000.0 - 2 * 4096.0;
}

/*
 * The TCP state a host really holds per connection, buffers excluded: the
 * bytes of its TCP pools (module, control blocks, SACK/OOO ranges, timer heap,
 * hash buckets, port table: everything before the buffers) over the control
 * blocks in use (listeners and connections).
 */
static double pcb_bytes_measured(const tern_stack *st, uint32_t *in_use) {
    const tern_tcp_module *t = st->tcp;
    uint32_t used = 0;
    for (uint32_t i = 0; i < t->nsock; i++)
        used += t->pcb[i].kind == TCP_SOCKET;
    *in_use = used;
    size_t state = (size_t)(t->buffers - (const uint8_t *)t);
    return used ? (double)state / used : 0;
}

/* What opening the connections cost (connections()). */
typedef struct conn_cost {
    double open_wall_s; /* first connect to every connection established on both sides */
    double open_sim_s;  /* the same in virtual time */
    double mem_mb;      /* the two stack instances */
} conn_cost;

/* tcp_connections: held and exchanged; *pcb receives tcp_pcb_bytes measured on the server. */
static double connections(uint32_t target, double *pcb, conn_cost *cost) {
    sim *s;
    if (sim_create(3, &s))
        die("sim_create", NULL);
    tern_stack_config ca, cb;
    host_config(&ca, 1, target + 16, 4096);
    host_config(&cb, 2, target + 16, 4096);
    ca.ephemeral_low = 1024;
    cb.tcp.backlog_max = 65535;
    sim_node_id a, b;
    sim_link_id l;
    if (sim_host_add(s, "a", &ca, &a) || sim_host_add(s, "b", &cb, &b) ||
        sim_link_add(s, a, 0, b, 0, &l))
        die("setup", s);
    sim_link_set_delay(s, l, SIM_DIR_BOTH, (int64_t)(1 * MS), 0, false);
    tern_stack *sa = sim_host_stack(s, a), *sb = sim_host_stack(s, b);
    cost->mem_mb = (double)(tern_stack_memory_size(&ca) + tern_stack_memory_size(&cb)) / 1e6;
    double wall0 = clock_s(CLOCK_MONOTONIC);
    enum { PORTS = 4 };
    tern_sock lis[PORTS];
    for (int i = 0; i < PORTS; i++) {
        tern_tcp_open(sb, &lis[i]);
        tern_tcp_bind(sb, lis[i], NULL, (uint16_t)(5001 + i));
        tern_tcp_listen(sb, lis[i], 65535);
    }
    tern_sock *cl = calloc(target, sizeof *cl), *sv = calloc(target + 16, sizeof *sv);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    uint32_t opened = 0, accepted = 0;
    uint64_t now = 0;
    while (opened < target || accepted < target) {
        for (uint32_t k = 0; k < 2000 && opened < target; k++, opened++) {
            if (tern_tcp_open(sa, &cl[opened]) ||
                tern_tcp_connect(sa, cl[opened], &dst, (uint16_t)(5001 + opened % PORTS))) {
                fprintf(stderr, "bench_tcp: connect %u: %s\n", opened, tern_stack_last_error(sa));
                exit(1);
            }
        }
        sim_node_wake(s, a);
        now += 5 * MS;
        if (sim_run(s, now, 0, NULL))
            die("sim_run", s);
        for (int i = 0; i < PORTS; i++) {
            tern_sock c;
            while (tern_tcp_accept(sb, lis[i], &c) == TERN_OK && accepted < target + 16)
                sv[accepted++] = c;
        }
        if (now > 600 * SEC)
            break;
    }
    /* The last accepted handshakes: the client side is established once its ACK went out,
     * which the server's accept shows; one more step lets the last ACKs arrive. */
    now += 10 * MS;
    sim_run(s, now, 0, NULL);
    cost->open_wall_s = clock_s(CLOCK_MONOTONIC) - wall0;
    cost->open_sim_s = (double)now / 1e9;
    for (uint32_t i = 0; i < opened; i++) {
        tern_tcp_info info;
        if (tern_tcp_get_info(sa, cl[i], &info) != TERN_OK || info.state != TERN_TCP_ESTABLISHED)
            die("a connection is not established after the opening", s);
    }
    if (accepted != target) {
        fprintf(stderr, "bench_tcp: tcp_connections: %u of %u accepted\n", accepted, target);
        exit(1);
    }
    uint32_t in_use;
    *pcb = pcb_bytes_measured(sb, &in_use);
    /* Every connection exchanges data: client i sends its number, the server echoes
     * what it reads, the client reads its number back. */
    for (uint32_t i = 0; i < opened; i++) {
        uint8_t m[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        size_t w;
        if (tern_tcp_send(sa, cl[i], m, sizeof m, &w) != TERN_OK || w != sizeof m)
            die("send on an open connection failed", s);
    }
    uint32_t echoed = 0, exchanged = 0;
    uint8_t *done = calloc(opened ? opened : 1, 1);
    for (int round = 0; round < 40 && exchanged < opened; round++) {
        sim_node_wake(s, a);
        now += 5 * MS;
        if (sim_run(s, now, 0, NULL))
            die("sim_run", s);
        for (uint32_t j = 0; j < accepted; j++) {
            uint8_t m[4];
            size_t n, w;
            if (sv[j] && tern_tcp_recv(sb, sv[j], m, sizeof m, &n) == TERN_OK && n == sizeof m) {
                if (tern_tcp_send(sb, sv[j], m, n, &w) != TERN_OK || w != n)
                    die("echo on an open connection failed", s);
                sv[j] = 0; /* a 4-byte message arrives whole here: its segment carried it */
                echoed++;
            }
        }
        sim_node_wake(s, b);
        now += 5 * MS;
        if (sim_run(s, now, 0, NULL))
            die("sim_run", s);
        for (uint32_t i = 0; i < opened; i++) {
            uint8_t m[4];
            size_t n;
            if (done[i] || tern_tcp_recv(sa, cl[i], m, sizeof m, &n) != TERN_OK || n == 0)
                continue;
            uint32_t v = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
            if (n != sizeof m || v != i) {
                fprintf(stderr,
                        "bench_tcp: tcp_connections: connection %u read back %zu bytes (%u)\n", i,
                        n, v);
                exit(1);
            }
            done[i] = 1;
            exchanged++;
        }
    }
    if (exchanged != opened) {
        fprintf(stderr,
                "bench_tcp: tcp_connections: %u of %u connections exchanged data (%u echoed)\n",
                exchanged, opened, echoed);
        exit(1);
    }
    free(done);
    free(cl);
    free(sv);
    sim_destroy(s);
    return exchanged;
}

/* The 100,000 connections (issue 11's figure, issue 19's wall time), every one exchanging data. */
static void print_connections(void) {
    double pcb;
    conn_cost cost;
    printf("BENCH tcp_connections %.0f connections\n", connections(100000, &pcb, &cost));
    printf("BENCH tcp_connections_open_wall_s %.2f s\n", cost.open_wall_s);
    printf("BENCH tcp_connections_open_sim_s %.3f s\n", cost.open_sim_s);
    printf("BENCH tcp_connections_mem_mb %.0f MB\n", cost.mem_mb);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("BENCH tcp_connections_rss_mb %.0f MB\n", (double)ru.ru_maxrss / 1024.0);
    printf("BENCH tcp_pcb_bytes %.0f bytes\n", pcb);
    printf("BENCH tcp_pcb_bytes_formula %.0f bytes\n", pcb_bytes_formula());
    fflush(stdout);
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 5; /* medians of 5 runs unless told */
    /* one figure: bulk, bulkzc, bulk6, lossy, conn; or peer <buffer> [copy|recv|zerocopy|lend|peek]
     */
    const char *only = argc > 2 ? argv[2] : NULL;
    if (runs < 1)
        runs = 1;
    if (runs > 9)
        runs = 9;
    double v[9], v6[9];
    if (only && strcmp(only, "bulk") == 0) {
        printf("BENCH tcp_bulk_gbps %.2f Gbit/s\n", bulk_gbps(false));
        return 0;
    }
    /* bench/peers/bench_peers.py: one run at one buffer size (65536 or 1048576), named as the
     * peers' programs name theirs. */
    if (only && strcmp(only, "bulkzc") == 0) {
        g_api = API_ZEROCOPY;
        printf("BENCH tcp_bulk_gbps_zc %.2f Gbit/s\n", bulk_gbps(false));
        return 0;
    }
    if (only && strcmp(only, "peer") == 0) {
        long buf = argc > 3 ? atol(argv[3]) : 1 << 20;
        /* argv[4]: copy, the copying calls (tern_tcp_send, and the receiver's posted read,
         * tern_tcp_recv_post: the application's buffer filled by the stack); recv, tern_tcp_recv
         * instead of the posted read (what it saves); zerocopy, the zero-copy calls on both sides
         * (bench/peers/README.md: "best APIs"); lend or peek, one side's alone (what each
         * contributes) */
        static const struct {
            const char *name, *tag;
            bulk_api api;
        } apis[] = {{"copy", "tern", API_POST},
                    {"recv", "tern_recv", API_COPY},
                    {"zerocopy", "tern_zc", API_ZEROCOPY},
                    {"lend", "tern_lend", API_LEND},
                    {"peek", "tern_peek", API_PEEK}};
        const char *api = argc > 4 ? argv[4] : "copy";
        const char *tag = NULL;
        for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++) {
            if (strcmp(api, apis[i].name) == 0) {
                g_api = apis[i].api;
                tag = apis[i].tag;
            }
        }
        if (!tag) {
            fprintf(stderr,
                    "bench_tcp: the API must be copy, recv, zerocopy, lend or peek, not %s\n", api);
            return 2;
        }
        if (buf < 4096 || buf > (64l << 20)) {
            fprintf(stderr, "bench_tcp: the buffer size must be 4096 to 64 MiB bytes, not %s\n",
                    argv[3]);
            return 2;
        }
        double g = bulk_gbps_buf(false, (uint32_t)buf);
        if (buf % (1 << 20) == 0)
            printf("BENCH tcp_bulk_gbps_%s_%ldm %.2f Gbit/s\n", tag, buf >> 20, g);
        else
            printf("BENCH tcp_bulk_gbps_%s_%ldk %.2f Gbit/s\n", tag, buf >> 10, g);
        return 0;
    }
    if (only && strcmp(only, "bulk6") == 0) {
        for (int i = 0; i < runs; i++) {
            v[i] = bulk_gbps(false);
            v6[i] = bulk_gbps(true);
        }
        qsort(v, (size_t)runs, sizeof v[0], cmp_double);
        qsort(v6, (size_t)runs, sizeof v6[0], cmp_double);
        printf("BENCH tcp_bulk_gbps %.2f Gbit/s\n", v[runs / 2]);
        printf("BENCH tcp6_bulk_gbps %.2f Gbit/s\n", v6[runs / 2]);
        printf("BENCH tcp6_bulk_ratio %.3f x\n", v6[runs / 2] / v[runs / 2]);
        return 0;
    }
    if (only && strcmp(only, "conn") == 0) {
        print_connections();
        return 0;
    }
    if (only && strcmp(only, "lossy") == 0) {
        printf("BENCH tcp_lossy_speedup %.0f x\n", lossy_speedup(1));
        return 0;
    }
    /* IPv4, IPv6 and the 64 KiB buffers alternate, so that the medians see the same machine load.
     */
    double v64[9], zc[9], zc64[9];
    for (int i = 0; i < runs; i++) {
        v[i] = bulk_gbps(false);
        v6[i] = bulk_gbps(true);
        v64[i] = bulk_gbps_buf(false, 64 << 10);
        g_api = API_ZEROCOPY;
        zc[i] = bulk_gbps(false);
        zc64[i] = bulk_gbps_buf(false, 64 << 10);
        g_api = API_COPY;
    }
    qsort(zc, (size_t)runs, sizeof zc[0], cmp_double);
    qsort(zc64, (size_t)runs, sizeof zc64[0], cmp_double);
    qsort(v, (size_t)runs, sizeof v[0], cmp_double);
    qsort(v6, (size_t)runs, sizeof v6[0], cmp_double);
    qsort(v64, (size_t)runs, sizeof v64[0], cmp_double);
    printf("BENCH tcp_bulk_gbps %.2f Gbit/s\n", v[runs / 2]);
    printf("BENCH tcp_bulk_gbps_64k %.2f Gbit/s\n", v64[runs / 2]);
    printf("BENCH tcp_bulk_drop_1m %.1f %%\n", 100 * (1 - v[runs / 2] / v64[runs / 2]));
    printf("BENCH tcp_bulk_gbps_zc %.2f Gbit/s\n", zc[runs / 2]);
    printf("BENCH tcp_bulk_gbps_zc_64k %.2f Gbit/s\n", zc64[runs / 2]);
    printf("BENCH tcp_bulk_zc_speedup %.3f x\n", zc[runs / 2] / v[runs / 2]);
    printf("BENCH tcp6_bulk_gbps %.2f Gbit/s\n", v6[runs / 2]);
    printf("BENCH tcp6_bulk_ratio %.3f x\n", v6[runs / 2] / v[runs / 2]);
    fflush(stdout);
    for (int i = 0; i < runs; i++)
        v[i] = lossy_speedup((uint64_t)i + 1);
    qsort(v, (size_t)runs, sizeof v[0], cmp_double);
    printf("BENCH tcp_lossy_speedup %.0f x\n", v[runs / 2]);
    fflush(stdout);
    print_connections();
    return 0;
}

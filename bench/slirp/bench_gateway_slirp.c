/*
 * The Tern gateway with its host bridge against libslirp, side by side, with
 * the same guest (a Tern stack) and the same workload:
 *   - a TCP bulk transfer from the guest to a host socket on 127.0.0.1
 *     (BENCH gateway_tcp_gbps, BENCH slirp_tcp_gbps), and
 *   - connection setup rate: connect, ESTABLISHED, close, one after the
 *     other (BENCH gateway_conn_per_sec, BENCH slirp_conn_per_sec).
 * Medians of several rounds, alternating the two. The host side is a sink
 * thread that accepts and reads everything. Everything runs in a network
 * namespace of its own (unshare) whose net.ipv4.ping_group_range allows the
 * bridge's ping sockets; without the privilege to make one, the program
 * says so and prints no figure.
 *
 * libslirp gets the guest's frames with slirp_input and gives its own with
 * send_packet; both are queued and delivered from the main loop, so neither
 * side is re-entered. The gateway runs in the simulator in real time
 * (tern/sim_realtime.h), the guest app stepped between rounds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "tern/sim.h"
#include "tern/sim_gateway.h"
#include "tern/sim_host.h"
#include "tern/sim_hostbridge.h"
#include "tern/sim_realtime.h"
#include "tern/stack.h"

static uint64_t BULK_BYTES = 32u << 20;
static uint32_t CONNS = 300;
#define MAX_ROUNDS 31
static int ROUNDS = 7;
#define RUN_LIMIT_S 60       /* a measurement that takes longer is killed and reported */
#define GUEST_IP 0x0a00020fu /* 10.0.2.15 */
#define GW_IP 0x0a000202u    /* 10.0.2.2: slirp's gateway and host alias; the Tern gateway */
#define BRIDGE_IP 0xc6336401u

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread (the one driving the guest and the gateway or libslirp). */
static uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* TERN_BENCH_STATS: wall and CPU time of a measurement on stderr, per unit of work (the CPU
 * time per connection holds on a busy machine, where wall figures swing). */
static void stats(const char *who, bool bulk, uint64_t wall, uint64_t cpu) {
    if (!getenv("TERN_BENCH_STATS")) {
        return;
    }
    double units = bulk ? (double)BULK_BYTES / (1 << 20) : CONNS;
    fprintf(stderr, "%s %s: wall %.1f ms, cpu %.1f ms, cpu %.2f us per %s\n", who,
            bulk ? "bulk" : "conn", (double)wall / 1e6, (double)cpu / 1e6,
            (double)cpu / 1e3 / units, bulk ? "MiB" : "connection");
}

/* ---- the host side: a sink thread ---------------------------------------------- */

static int sink_fd;
static uint16_t sink_port;
static atomic_ullong sink_bytes, sink_conns;

static void *sink(void *arg) {
    (void)arg;
    static char buf[1 << 16];
    for (;;) {
        int c = accept(sink_fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0) {
            atomic_fetch_add(&sink_bytes, (unsigned long long)n);
        }
        close(c);
        atomic_fetch_add(&sink_conns, 1);
    }
    return NULL;
}

/* ---- the guest's workload (the same for both) ------------------------------------- */

typedef struct app {
    tern_stack *st;
    bool bulk;
    uint32_t dst;
    uint16_t port;
    tern_sock s;
    bool open, closed;
    uint64_t sent;
    uint32_t conns_done;
    unsigned long long sink0, conns0;
    uint8_t chunk[16384];
} app;

static void app_connect(app *a) {
    tern_addr d = tern_addr_v4_from_u32(a->dst);
    if (tern_tcp_open(a->st, &a->s) != TERN_OK) {
        return; /* every socket busy closing: try again next step */
    }
    tern_tcp_connect(a->st, a->s, &d, a->port);
    a->open = true;
}

/* One step; true when the workload is done. */
static bool app_step(app *a) {
    if (a->bulk) {
        if (!a->open) {
            app_connect(a);
        }
        while (!a->closed && a->sent < BULK_BYTES) {
            size_t n =
                BULK_BYTES - a->sent < sizeof a->chunk ? BULK_BYTES - a->sent : sizeof a->chunk;
            size_t sent = 0;
            if (tern_tcp_send(a->st, a->s, a->chunk, n, &sent) != TERN_OK || sent == 0) {
                break;
            }
            a->sent += sent;
        }
        if (a->sent == BULK_BYTES && !a->closed) {
            tern_tcp_close(a->st, a->s);
            a->closed = true;
        }
        return atomic_load(&sink_bytes) - a->sink0 >= BULK_BYTES;
    }
    if (a->conns_done == CONNS) {
        return atomic_load(&sink_conns) - a->conns0 >= CONNS;
    }
    if (!a->open) {
        app_connect(a);
        if (!a->open) {
            return false;
        }
    }
    tern_tcp_info info;
    if (tern_tcp_get_info(a->st, a->s, &info) != TERN_OK) {
        fprintf(stderr, "bench: connection %u: no socket\n", a->conns_done);
        exit(1);
    }
    if (info.state == TERN_TCP_ESTABLISHED) {
        tern_tcp_close(a->st, a->s);
        a->open = false;
        a->conns_done++;
    } else if (info.state == TERN_TCP_CLOSED) {
        fprintf(stderr, "bench: a connection failed (%s)\n", tern_strerror(info.error));
        exit(1);
    }
    return false;
}

static void guest_config(tern_stack_config *c) {
    tern_stack_config_default(c, 7);
    c->niface = 1;
    uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    memcpy(c->iface[0].mac, mac, 6);
    c->iface[0].naddrs = 1;
    c->iface[0].addr[0] = tern_addr_v4_from_u32(GUEST_IP);
    c->iface[0].prefix_len[0] = 24;
    c->tcp_sockets = 128; /* closed connections hold theirs until the host's FIN */
    c->tcp.rx_buffer = 256 << 10;
    c->tcp.tx_buffer = 256 << 10;
}

static void add_default_route(tern_stack *st) {
    tern_addr any = tern_addr_v4(0, 0, 0, 0), via = tern_addr_v4_from_u32(GW_IP);
    tern_route_add(st, &any, 0, &via, 0);
}

/* ---- libslirp ---------------------------------------------------------------------- */

#define QCAP 4096
typedef struct frameq {
    uint32_t head, n;
    uint16_t len[QCAP];
    uint8_t (*buf)[1600];
} frameq;

static void q_push(frameq *q, const void *p, size_t len) {
    if (q->n == QCAP || len > 1600) {
        return; /* dropped: TCP recovers, as on a real NIC */
    }
    uint32_t i = (q->head + q->n++) % QCAP;
    memcpy(q->buf[i], p, len);
    q->len[i] = (uint16_t)len;
}

typedef struct sl {
    Slirp *slirp;
    tern_stack *guest;
    frameq to_slirp, to_guest;
    struct pollfd pfd[512];
    int npfd;
    struct timer {
        SlirpTimerCb cb;
        void *opaque;
        int64_t expire_ms; /* -1: not armed */
        bool used;
    } timers[16];
} sl;

static ssize_t sl_send_packet(const void *buf, size_t len, void *opaque) {
    q_push(&((sl *)opaque)->to_guest, buf, len);
    return (ssize_t)len;
}
static void sl_guest_error(const char *msg, void *opaque) {
    (void)opaque;
    fprintf(stderr, "slirp: %s\n", msg);
}
static int64_t sl_clock(void *opaque) {
    (void)opaque;
    return (int64_t)mono_ns();
}
static void *sl_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque) {
    sl *x = opaque;
    for (int i = 0; i < 16; i++) {
        if (!x->timers[i].used) {
            x->timers[i] = (struct timer){cb, cb_opaque, -1, true};
            return &x->timers[i];
        }
    }
    abort();
}
static void sl_timer_free(void *t, void *opaque) {
    (void)opaque;
    ((struct timer *)t)->used = false;
}
static void sl_timer_mod(void *t, int64_t expire, void *opaque) {
    (void)opaque;
    ((struct timer *)t)->expire_ms = expire;
}
static void sl_noop_fd(int fd, void *opaque) {
    (void)fd;
    (void)opaque;
}
static void sl_notify(void *opaque) {
    (void)opaque;
}
static int sl_add_poll(int fd, int events, void *opaque) {
    sl *x = opaque;
    short ev = 0;
    ev |= (events & SLIRP_POLL_IN) ? POLLIN : 0;
    ev |= (events & SLIRP_POLL_OUT) ? POLLOUT : 0;
    ev |= (events & SLIRP_POLL_PRI) ? POLLPRI : 0;
    x->pfd[x->npfd] = (struct pollfd){fd, ev, 0};
    return x->npfd++;
}
static int sl_get_revents(int idx, void *opaque) {
    short r = ((sl *)opaque)->pfd[idx].revents;
    return ((r & POLLIN) ? SLIRP_POLL_IN : 0) | ((r & POLLOUT) ? SLIRP_POLL_OUT : 0) |
           ((r & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((r & POLLERR) ? SLIRP_POLL_ERR : 0) |
           ((r & POLLHUP) ? SLIRP_POLL_HUP : 0);
}
static void sl_guest_output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    (void)iface;
    q_push(&((sl *)ctx)->to_slirp, frame, len);
}

static double run_slirp(bool bulk) {
    static sl x;
    static uint8_t qa[QCAP][1600], qb[QCAP][1600];
    memset(&x, 0, sizeof x);
    x.to_slirp.buf = qa;
    x.to_guest.buf = qb;
    tern_stack_config c;
    guest_config(&c);
    c.output = sl_guest_output;
    c.output_ctx = &x;
    size_t size = tern_stack_memory_size(&c);
    void *mem = aligned_alloc(64, (size + 63) & ~(size_t)63);
    char msg[256];
    if (tern_stack_init(mem, size, &c, &x.guest, msg, sizeof msg) != TERN_OK) {
        fprintf(stderr, "bench: guest: %s\n", msg);
        exit(1);
    }
    add_default_route(x.guest);
    SlirpConfig cfg = {.version = 1, .in_enabled = true};
    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
    inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
    static const SlirpCb cb = {.send_packet = sl_send_packet,
                               .guest_error = sl_guest_error,
                               .clock_get_ns = sl_clock,
                               .timer_new = sl_timer_new,
                               .timer_free = sl_timer_free,
                               .timer_mod = sl_timer_mod,
                               .register_poll_fd = sl_noop_fd,
                               .unregister_poll_fd = sl_noop_fd,
                               .notify = sl_notify};
    x.slirp = slirp_new(&cfg, &cb, &x);
    static app a;
    memset(&a, 0, sizeof a);
    a.st = x.guest;
    a.bulk = bulk;
    a.dst = GW_IP; /* slirp: the gateway address reaches the host's loopback */
    a.port = sink_port;
    a.sink0 = atomic_load(&sink_bytes);
    a.conns0 = atomic_load(&sink_conns);
    uint64_t t0 = mono_ns(), c0 = cpu_ns();
    for (;;) {
        uint64_t now = mono_ns();
        while (x.to_slirp.n) {
            slirp_input(x.slirp, x.to_slirp.buf[x.to_slirp.head], x.to_slirp.len[x.to_slirp.head]);
            x.to_slirp.head = (x.to_slirp.head + 1) % QCAP;
            x.to_slirp.n--;
        }
        while (x.to_guest.n) {
            tern_stack_input(x.guest, now, 0, x.to_guest.buf[x.to_guest.head],
                             x.to_guest.len[x.to_guest.head]);
            x.to_guest.head = (x.to_guest.head + 1) % QCAP;
            x.to_guest.n--;
        }
        if (app_step(&a)) {
            break;
        }
        tern_stack_poll(x.guest, now);
        int64_t now_ms = (int64_t)(now / 1000000);
        for (int i = 0; i < 16; i++) {
            if (x.timers[i].used && x.timers[i].expire_ms >= 0 && x.timers[i].expire_ms <= now_ms) {
                x.timers[i].expire_ms = -1;
                x.timers[i].cb(x.timers[i].opaque);
            }
        }
        uint32_t timeout = UINT32_MAX;
        x.npfd = 0;
        slirp_pollfds_fill(x.slirp, &timeout, sl_add_poll, &x);
        uint64_t wait = x.to_slirp.n || x.to_guest.n ? 0 : (uint64_t)timeout * 1000000ull;
        uint64_t next = tern_stack_poll_at(x.guest);
        if (next <= now) {
            wait = 0;
        } else if (next - now < wait) {
            wait = next - now;
        }
        if (wait > 1000000) {
            wait = 1000000; /* the sink thread's progress is not on a descriptor here */
        }
        struct timespec ts = {0, (long)wait};
        int r = ppoll(x.pfd, (nfds_t)x.npfd, &ts, NULL);
        slirp_pollfds_poll(x.slirp, r < 0, sl_get_revents, &x);
    }
    uint64_t dt = mono_ns() - t0;
    stats("slirp", bulk, dt, cpu_ns() - c0);
    slirp_cleanup(x.slirp);
    free(mem);
    return bulk ? BULK_BYTES * 8.0 / (double)dt : CONNS * 1e9 / (double)dt;
}

/* ---- the Tern gateway ------------------------------------------------------------------ */

static bool gw_step(void *ctx, sim *s, uint64_t now) {
    (void)now;
    app *a = ctx;
    bool done = app_step(a);
    sim_node_id g;
    sim_node_find(s, "guest", &g);
    sim_node_wake(s, g);
    return done;
}

static double run_gateway(bool bulk) {
    sim *s;
    sim_create(3, &s);
    tern_stack_config c;
    guest_config(&c);
    sim_node_id guest, gw, hb;
    if (sim_host_add(s, "guest", &c, &guest) != TERN_OK) {
        fprintf(stderr, "bench: %s\n", sim_last_error(s));
        exit(1);
    }
    tern_stack *gst = sim_host_stack(s, guest);
    add_default_route(gst);
    sim_gw_config g;
    sim_gateway_config_default(&g, 5);
    g.nports = 2;
    uint8_t m0[6] = {2, 0, 0, 0, 2, 2}, m1[6] = {2, 0, 0, 0, 2, 3};
    memcpy(g.port[0].mac, m0, 6);
    g.port[0].naddrs = 1;
    g.port[0].addr[0] = GW_IP;
    g.port[0].prefix_len = 24;
    memcpy(g.port[1].mac, m1, 6);
    g.port[1].naddrs = 1;
    g.port[1].addr[0] = 0xc6336402u;
    g.port[1].prefix_len = 24;
    g.port[1].outside = true;
    g.default_router = BRIDGE_IP;
    /* Every connection keeps its NAT mapping for the transitory timeout (240 s, RFC 5382) after
     * its close: room for all of them (libslirp has no table to fill). */
    g.nat_max_mappings = CONNS + 64 < 65536 ? CONNS + 64 : 65536;
    if (sim_gateway_add(s, "gw", &g, &gw) != TERN_OK) {
        fprintf(stderr, "bench: %s\n", sim_last_error(s));
        exit(1);
    }
    char path[64];
    snprintf(path, sizeof path, "/tmp/tern-bench-%d.journal", (int)getpid());
    sim_journal *j;
    sim_journal_open(s, path, SIM_JOURNAL_RECORD, &j);
    sim_hostbridge_config hc = {.mac = {2, 0x68, 0x62, 0, 0, 1},
                                .addr = BRIDGE_IP,
                                .prefix_len = 24,
                                .gateway = 0xc6336402u,
                                .seed = 9};
    if (sim_hostbridge_add(s, "host", &hc, j, &hb) != TERN_OK) {
        fprintf(stderr, "bench: %s\n", sim_last_error(s));
        exit(1);
    }
    sim_link_id l;
    sim_link_add(s, guest, 0, gw, 0, &l);
    sim_link_add(s, gw, 1, hb, 0, &l);
    sim_realtime *rt;
    sim_realtime_create(s, &rt);
    sim_realtime_set_journal(rt, j);
    static app a;
    memset(&a, 0, sizeof a);
    a.st = gst;
    a.bulk = bulk;
    a.dst = BRIDGE_IP; /* the bridge's address reaches the host's loopback */
    a.port = sink_port;
    a.sink0 = atomic_load(&sink_bytes);
    a.conns0 = atomic_load(&sink_conns);
    uint64_t t0 = mono_ns(), c0 = cpu_ns();
    sim_realtime_stop why = SIM_RT_STOP_TIME;
    while (why != SIM_RT_STOP_CALLBACK) {
        /* 1 ms slices: the sink thread's progress is not on a descriptor the driver polls */
        if (sim_realtime_run(rt, 1000000, 0, gw_step, &a, &why) != TERN_OK) {
            fprintf(stderr, "bench: %s\n", sim_last_error(s));
            exit(1);
        }
    }
    uint64_t dt = mono_ns() - t0;
    stats("gateway", bulk, dt, cpu_ns() - c0);
    if (getenv("TERN_BENCH_STATS")) { /* the driver's counters, for profiling */
        sim_realtime_stats rs;
        sim_realtime_get_stats(rt, &rs);
        fprintf(stderr, "gateway %s: runs %llu rounds %llu sleeps %llu max_late %llu us\n",
                bulk ? "bulk" : "conn", (unsigned long long)rs.runs, (unsigned long long)rs.rounds,
                (unsigned long long)rs.sleeps, (unsigned long long)(rs.max_late_ns / 1000));
    }
    sim_realtime_destroy(rt);
    sim_destroy(s);
    sim_journal_close(j);
    unlink(path);
    return bulk ? BULK_BYTES * 8.0 / (double)dt : CONNS * 1e9 / (double)dt;
}

/* ---- main --------------------------------------------------------------------------- */

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static bool own_namespace(char *why, size_t cap) {
    if (unshare(CLONE_NEWNET) != 0) {
        snprintf(why, cap, "unshare(CLONE_NEWNET): %s", strerror(errno));
        return false;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) {
        snprintf(why, cap, "bringing lo up: %s", strerror(errno));
        close(fd);
        return false;
    }
    close(fd);
    FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "w");
    if (!f || fprintf(f, "0 2147483647\n") < 0 || fclose(f) != 0) {
        snprintf(why, cap, "net.ipv4.ping_group_range in the namespace: %s", strerror(errno));
        return false;
    }
    return true;
}

/* One measurement in a child process of its own (a fresh sink, no state left from the last),
 * killed after RUN_LIMIT_S; returns the figure, or -1 when it failed or was killed. */
static double measure(double (*fn)(bool), bool bulk) {
    int p[2];
    if (pipe(p) != 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        alarm(RUN_LIMIT_S);
        sink_fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        if (bind(sink_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(sink_fd, 1024) != 0 ||
            getsockname(sink_fd, (struct sockaddr *)&a, &al) != 0) {
            _exit(1);
        }
        sink_port = ntohs(a.sin_port);
        pthread_t t;
        pthread_create(&t, NULL, sink, NULL);
        double v = fn(bulk);
        if (write(p[1], &v, sizeof v) != sizeof v) {
            _exit(1);
        }
        _exit(0);
    }
    close(p[1]);
    double v = -1;
    if (pid < 0 || read(p[0], &v, sizeof v) != sizeof v) {
        v = -1;
    }
    close(p[0]);
    if (pid > 0) {
        waitpid(pid, NULL, 0);
    }
    return v;
}

/* The gateway's figure over libslirp's of the same round (run one after the other): the
 * comparison that holds on a shared machine, where absolute figures swing with the load. */
static void report_ratio(const char *name, const double *g, const double *s) {
    double r[MAX_ROUNDS];
    int ok = 0;
    printf("bench_gateway_slirp: %s per round (gateway/slirp):", name);
    for (int i = 0; i < ROUNDS; i++) {
        if (g[i] > 0 && s[i] > 0) {
            r[ok] = g[i] / s[i];
            printf(" %.2f", r[ok]);
            ok++;
        }
    }
    if (ok) {
        qsort(r, (size_t)ok, sizeof *r, cmp);
        printf("; median %.3f\n", r[ok / 2]);
    } else {
        printf(" none\n");
    }
}

static void report(const char *name, double *v, const char *unit, const char *fmt) {
    int ok = 0;
    for (int i = 0; i < ROUNDS; i++) {
        if (v[i] >= 0) {
            v[ok++] = v[i];
        }
    }
    if (ok == 0) {
        printf("bench_gateway_slirp: %s: every run failed or took over %d s\n", name, RUN_LIMIT_S);
        return;
    }
    qsort(v, (size_t)ok, sizeof *v, cmp);
    printf("BENCH %s ", name);
    printf(fmt, v[ok / 2]);
    printf(" %s\n", unit);
    if (ok < ROUNDS) {
        printf("bench_gateway_slirp: %s: median of %d runs, %d failed\n", name, ok, ROUNDS - ok);
    }
}

int main(void) {
    char why[160];
    /* TERN_BENCH_SHORT=1: a quick run (smaller transfer, fewer connections) */
    if (getenv("TERN_BENCH_SHORT")) {
        BULK_BYTES = 4u << 20;
        CONNS = 50;
    }
    /* TERN_BENCH_ROUNDS=n: rounds (odd, for a true median); TERN_BENCH_ONLY=bulk|conn: one
     * workload (for profiling) */
    const char *e = getenv("TERN_BENCH_ROUNDS");
    if (e) {
        ROUNDS = atoi(e);
        if (ROUNDS < 1 || ROUNDS > MAX_ROUNDS) {
            fprintf(stderr, "bench_gateway_slirp: TERN_BENCH_ROUNDS=%s: want 1..%d\n", e,
                    MAX_ROUNDS);
            return 2;
        }
    }
    /* TERN_BENCH_CONNS=n: connections per measurement (a longer one to profile) */
    if ((e = getenv("TERN_BENCH_CONNS"))) {
        CONNS = (uint32_t)strtoul(e, NULL, 10);
        if (CONNS < 1 || CONNS > 1000000) {
            fprintf(stderr, "bench_gateway_slirp: TERN_BENCH_CONNS=%s: want 1..1000000\n", e);
            return 2;
        }
    }
    const char *only = getenv("TERN_BENCH_ONLY");
    bool do_bulk = true, do_conn = true;
    if (only) {
        do_bulk = strcmp(only, "bulk") == 0;
        do_conn = strcmp(only, "conn") == 0;
        if (!do_bulk && !do_conn) {
            fprintf(stderr, "bench_gateway_slirp: TERN_BENCH_ONLY=%s: want bulk or conn\n", only);
            return 2;
        }
    }
    if (!own_namespace(why, sizeof why)) {
        printf("bench_gateway_slirp: skipped, no namespace of its own (%s)\n", why);
        return 0;
    }
    double gt[MAX_ROUNDS], st[MAX_ROUNDS], gc[MAX_ROUNDS], sc[MAX_ROUNDS];
    for (int r = 0; r < ROUNDS; r++) { /* interleaved, so a busy moment hits both */
        /* who goes first alternates too: neither always runs right after the other */
        bool gw_first = r % 2 == 0;
        if (do_bulk) {
            if (gw_first) {
                gt[r] = measure(run_gateway, true);
                st[r] = measure(run_slirp, true);
            } else {
                st[r] = measure(run_slirp, true);
                gt[r] = measure(run_gateway, true);
            }
        }
        if (do_conn) {
            if (gw_first) {
                gc[r] = measure(run_gateway, false);
                sc[r] = measure(run_slirp, false);
            } else {
                sc[r] = measure(run_slirp, false);
                gc[r] = measure(run_gateway, false);
            }
        }
    }
    if (do_bulk) {
        report_ratio("tcp", gt, st);
    }
    if (do_conn) {
        report_ratio("conn", gc, sc);
    }
    if (do_bulk) {
        report("gateway_tcp_gbps", gt, "Gbit/s", "%.3f");
        report("slirp_tcp_gbps", st, "Gbit/s", "%.3f");
    }
    if (do_conn) {
        report("gateway_conn_per_sec", gc, "conn/s", "%.0f");
        report("slirp_conn_per_sec", sc, "conn/s", "%.0f");
    }
    return 0;
}

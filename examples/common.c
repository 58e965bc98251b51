/*
 * The examples' shared set-up (common.h).
 */
#include "common.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prog = "tern-example";
static volatile sig_atomic_t interrupted;

void ex_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

bool ex_addr(const char *text, tern_addr *out) {
    unsigned a, b, c, d;
    char extra;
    if (sscanf(text, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) != 4 || a > 255 || b > 255 ||
        c > 255 || d > 255) {
        return false;
    }
    *out = tern_addr_v4((uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d);
    return true;
}

static void usage_exit(const char *usage) {
    fprintf(stderr,
            "usage: %s %s\n"
            "common options:\n"
            "  --tap IFNAME            TAP interface (default tap0; created if missing)\n"
            "  --ip A.B.C.D/P          the Tern host's address (default 192.168.69.1/24)\n"
            "  --gateway A.B.C.D       default route\n"
            "  --pcap FILE             capture the link between the TAP and the host\n"
            "  --drop-chance PCT       drop this percentage of frames (both directions)\n"
            "  --corrupt-chance PCT    flip one bit in this percentage of frames\n"
            "  --size-limit BYTES      drop frames longer than this\n"
            "  --rate-limit BITS/S     line rate of the link\n"
            "  --buffer BYTES          TCP socket buffers (default 262144)\n"
            "  --seed N                seed of the impairments and the stack\n",
            prog, usage);
    exit(2);
}

static double parse_pct(const char *v, const char *name) {
    char *end;
    double p = strtod(v, &end);
    if (*end || p < 0 || p > 100) {
        ex_die("%s %s: a percentage 0..100", name, v);
    }
    return p / 100.0;
}

static int64_t parse_int(const char *v, const char *name) {
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end || x < 0) {
        ex_die("%s %s: a non-negative integer", name, v);
    }
    return x;
}

void ex_parse(int *argc, char **argv, ex_options *o, const char *usage) {
    const char *slash = strrchr(argv[0], '/');
    prog = slash ? slash + 1 : argv[0];
    memset(o, 0, sizeof *o);
    o->tap = "tap0";
    o->ip = "192.168.69.1/24";
    o->buffer = 256 * 1024;
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < *argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_exit(usage);
        } else if (!strcmp(a, "--tap") && v) {
            o->tap = v;
        } else if (!strcmp(a, "--ip") && v) {
            o->ip = v;
        } else if (!strcmp(a, "--gateway") && v) {
            o->gateway = v;
        } else if (!strcmp(a, "--pcap") && v) {
            o->pcap = v;
        } else if (!strcmp(a, "--drop-chance") && v) {
            o->drop_chance = parse_pct(v, a);
        } else if (!strcmp(a, "--corrupt-chance") && v) {
            o->corrupt_chance = parse_pct(v, a);
        } else if (!strcmp(a, "--size-limit") && v) {
            o->size_limit = parse_int(v, a);
        } else if (!strcmp(a, "--rate-limit") && v) {
            o->rate_limit = parse_int(v, a);
        } else if (!strcmp(a, "--buffer") && v) {
            o->buffer = (uint32_t)parse_int(v, a);
        } else if (!strcmp(a, "--seed") && v) {
            o->seed = (uint64_t)parse_int(v, a);
        } else {
            takes = false;
        }
        if (takes) {
            i++;
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = NULL;
}

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

static void check(ex_net *n, tern_err err, const char *what) {
    if (err != TERN_OK) {
        ex_die("%s: %s (%s)", what, sim_last_error(n->s), tern_strerror(err));
    }
}

void ex_setup(ex_net *n, const ex_options *o) {
    memset(n, 0, sizeof *n);
    if (sim_create(o->seed, &n->s) != TERN_OK) {
        ex_die("out of memory");
    }
    check(n, sim_tap_add(n->s, "kernel", o->tap, &n->tap), "TAP");

    char ip[32];
    snprintf(ip, sizeof ip, "%s", o->ip);
    char *slash = strchr(ip, '/');
    unsigned prefix = 24;
    if (slash) {
        *slash = '\0';
        prefix = (unsigned)atoi(slash + 1);
    }
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, o->seed);
    cfg.niface = 1;
    uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    memcpy(cfg.iface[0].mac, mac, 6);
    cfg.iface[0].naddrs = 1;
    if (!ex_addr(ip, &cfg.iface[0].addr[0]) || prefix > 32) {
        ex_die("--ip %s: not an IPv4 address with a prefix", o->ip);
    }
    cfg.iface[0].prefix_len[0] = (uint8_t)prefix;
    cfg.arp_queue = 64;
    cfg.packet_buffers = 256;
    cfg.tcp.rx_buffer = o->buffer;
    cfg.tcp.tx_buffer = o->buffer;
    cfg.tcp.sack = true;
    cfg.tcp.timestamps = true;
    cfg.tcp.window_scaling = true;
    cfg.tcp.rto_min_ns = 200000000ull; /* as Linux: the link is a LAN */
    check(n, sim_host_add(n->s, "tern", &cfg, &n->host), "host");
    n->st = sim_host_stack(n->s, n->host);
    if (o->gateway) {
        tern_addr gw, any = tern_addr_v4(0, 0, 0, 0);
        if (!ex_addr(o->gateway, &gw)) {
            ex_die("--gateway %s: not an IPv4 address", o->gateway);
        }
        if (tern_route_add(n->st, &any, 0, &gw, 0) != TERN_OK) {
            ex_die("--gateway %s: cannot add the default route", o->gateway);
        }
    }

    check(n, sim_link_add(n->s, n->tap, 0, n->host, 0, &n->link), "link");
    if (o->drop_chance > 0) {
        check(n, sim_link_set_loss_bernoulli(n->s, n->link, SIM_DIR_BOTH, o->drop_chance),
              "--drop-chance");
    }
    if (o->corrupt_chance > 0) {
        check(n, sim_link_set_corrupt(n->s, n->link, SIM_DIR_BOTH, o->corrupt_chance),
              "--corrupt-chance");
    }
    if (o->size_limit > 0) {
        check(n, sim_link_set_size_limit(n->s, n->link, SIM_DIR_BOTH, o->size_limit),
              "--size-limit");
    }
    if (o->rate_limit > 0) {
        check(n, sim_link_set_rate(n->s, n->link, SIM_DIR_BOTH, o->rate_limit), "--rate-limit");
    }
    if (o->pcap) {
        check(n, sim_link_capture(n->s, n->link, 0, o->pcap), "--pcap");
    }
    if (sim_realtime_create(n->s, &n->rt) != TERN_OK) {
        ex_die("out of memory");
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void ex_teardown(ex_net *n) {
    sim_realtime_destroy(n->rt);
    sim_destroy(n->s);
    memset(n, 0, sizeof *n);
}

void ex_wake(ex_net *n) {
    sim_node_wake(n->s, n->host);
}

typedef struct run_ctx {
    sim_realtime_step_fn step;
    void *ctx;
} run_ctx;

static bool run_step(void *ctx, sim *s, uint64_t now) {
    run_ctx *r = ctx;
    if (interrupted) {
        return true;
    }
    return r->step ? r->step(r->ctx, s, now) : false;
}

bool ex_run(ex_net *n, uint64_t timeout_ns, sim_realtime_step_fn step, void *ctx) {
    run_ctx r = {step, ctx};
    sim_realtime_stop why;
    /* Slices of 10 ms, so that a signal ends the run even when nothing happens. */
    uint64_t left = timeout_ns;
    for (;;) {
        uint64_t slice = left < 10000000ull ? left : 10000000ull;
        tern_err err = sim_realtime_run(n->rt, slice, 0, run_step, &r, &why);
        if (err != TERN_OK) {
            ex_die("%s (%s)", sim_last_error(n->s), tern_strerror(err));
        }
        if (why == SIM_RT_STOP_CALLBACK) {
            return !interrupted;
        }
        if (interrupted) {
            return false;
        }
        if (timeout_ns != SIM_NEVER) {
            left -= slice;
            if (left == 0) {
                return false;
            }
        }
    }
}

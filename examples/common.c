/*
 * The examples' shared set-up (common.h).
 */
#include "common.h"
#include "shell.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

bool ex_addr4(const char *text, tern_addr *out) {
    unsigned a, b, c, d;
    char extra;
    if (sscanf(text, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) != 4 || a > 255 || b > 255 ||
        c > 255 || d > 255) {
        return false;
    }
    *out = tern_addr_v4((uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d);
    return true;
}

bool ex_addr(const char *text, tern_addr *out) {
    if (ex_addr4(text, out)) {
        return true;
    }
    tern_addr a;
    if (strchr(text, ':') == NULL || tern_addr_parse(text, &a) != TERN_OK ||
        a.family != TERN_AF_INET6) {
        return false;
    }
    *out = a;
    return true;
}

void ex_usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help' for the options.\n", prog);
    va_end(ap);
    exit(2);
}

static const char common_help[] =
    "common options:\n"
    "  --tap IFNAME            TAP interface (default tap0; created if missing)\n"
    "  --ip A.B.C.D[/P]        the Tern host's address and prefix (default 192.168.69.1/24)\n"
    "  --gateway A.B.C.D       default route (default none)\n"
    "  --ip6 ADDRESS[/P]       an IPv6 address and prefix beside the link-local one (default\n"
    "                          none; prefix default 64)\n"
    "  --gw6 ADDRESS           IPv6 default route (::/0) through this router (default none)\n"
    "  --pcap FILE             capture the link between the TAP and the host; timestamps are\n"
    "                          the wall clock (from the start of the program)\n"
    "  --drop-chance PCT       drop this percentage (0..100) of frames, both directions\n"
    "  --corrupt-chance PCT    flip one bit in this percentage (0..100) of frames\n"
    "  --size-limit BYTES      drop frames longer than this (0..65535, 0: no limit)\n"
    "  --rate-limit BITS/S     line rate of the link (0: unlimited)\n"
    "  --buffer BYTES          TCP socket buffers (1024..1073741824, default 262144)\n"
    "  --tx-rate-limit N       smoltcp's token bucket: at most N frames from the host per\n"
    "                          shaping interval, the rest dropped (0..1000000, 0: none)\n"
    "  --rx-rate-limit N       the same for frames to the host\n"
    "  --shaping-interval MS   the buckets' refill interval (1..3600000, default 50)\n"
    "  --shell                 network shell on standard input: iface, ipv4, route, arp,\n"
    "                          conn, stats, ping ADDRESS [COUNT], help\n"
    "  --seed N                seed of the impairments and the stack (default 0)\n"
    "  --congestion NAME       TCP congestion control: newreno (default), cubic or bbr\n"
    "  -h, --help              this help, to standard output\n";

static void help_exit(const ex_program *p) {
    printf("usage: %s [options]%s%s\n\n%s\n\n", prog, p->args[0] ? " " : "", p->args, p->summary);
    if (p->nopts) {
        printf("%s options:\n", prog);
        for (size_t i = 0; i < p->nopts; i++) {
            char left[64];
            snprintf(left, sizeof left, "%s %s", p->opts[i].name, p->opts[i].metavar);
            printf("  %-22s  %s\n", left, p->opts[i].help);
        }
    }
    printf("%s", common_help);
    if (p->notes) {
        printf("\n%s\n", p->notes);
    }
    exit(0);
}

/* A decimal integer in [min, max], the whole text (no sign for unsigned ranges). */
static int64_t parse_int(const char *v, const char *name, int64_t min, int64_t max) {
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno == ERANGE || x < min || x > max || isspace((unsigned char)*v)) {
        ex_usage_error("%s '%s': not an integer in %lld..%lld", name, v, (long long)min,
                       (long long)max);
    }
    return x;
}

static double parse_pct(const char *v, const char *name) {
    char *end;
    errno = 0;
    double p = strtod(v, &end);
    if (!*v || *end || end == v || errno == ERANGE || !(p >= 0 && p <= 100) ||
        isspace((unsigned char)*v)) {
        ex_usage_error("%s '%s': not a percentage 0..100", name, v);
    }
    return p / 100.0;
}

uint16_t ex_port(const char *text, const char *what) {
    return (uint16_t)parse_int(text, what, 1, 65535);
}

/* --ip6 ADDRESS[/P] (an IPv6 address; prefix 0..128, default 64) */
static void parse_ip6(const char *v, ex_options *o) {
    char ip[64];
    if (strlen(v) >= sizeof ip) {
        ex_usage_error("--ip6 '%s': not an IPv6 address ADDRESS[/P]", v);
    }
    snprintf(ip, sizeof ip, "%s", v);
    char *slash = strchr(ip, '/');
    unsigned prefix = 64;
    if (slash) {
        *slash = '\0';
        const char *d = slash + 1;
        if (!*d || strlen(d) > 3 || strspn(d, "0123456789") != strlen(d) ||
            (prefix = (unsigned)atoi(d)) > 128) {
            ex_usage_error("--ip6 '%s': the prefix length must be 0..128", v);
        }
    }
    if (!ex_addr(ip, &o->addr6) || o->addr6.family != TERN_AF_INET6) {
        ex_usage_error("--ip6 '%s': not an IPv6 address ADDRESS[/P]", v);
    }
    o->prefix6 = (uint8_t)prefix;
    o->ip6 = v;
}

/* --ip A.B.C.D[/P] */
static void parse_ip(const char *v, ex_options *o) {
    char ip[32];
    if (strlen(v) >= sizeof ip) {
        ex_usage_error("--ip '%s': not an IPv4 address A.B.C.D[/P]", v);
    }
    snprintf(ip, sizeof ip, "%s", v);
    char *slash = strchr(ip, '/');
    unsigned prefix = 24;
    if (slash) {
        *slash = '\0';
        const char *d = slash + 1;
        if (!*d || strlen(d) > 2 || strspn(d, "0123456789") != strlen(d) ||
            (prefix = (unsigned)atoi(d)) > 32) {
            ex_usage_error("--ip '%s': the prefix length must be 0..32", v);
        }
    }
    if (!ex_addr4(ip, &o->addr)) {
        ex_usage_error("--ip '%s': not an IPv4 address A.B.C.D[/P]", v);
    }
    o->prefix = (uint8_t)prefix;
    o->ip = v;
}

static const char *nonempty(const char *v, const char *name) {
    if (!*v) {
        ex_usage_error("%s: the value must not be empty", name);
    }
    return v;
}

void ex_parse(int *argc, char **argv, ex_options *o, const ex_program *p) {
    const char *slash = strrchr(argv[0], '/');
    prog = slash ? slash + 1 : argv[0];
    memset(o, 0, sizeof *o);
    o->tap = "tap0";
    parse_ip("192.168.69.1/24", o);
    o->buffer = 256 * 1024;
    o->shaping_interval_ms = 50;
    int out = 1;
    bool only_args = false;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || !a[1]) {
            argv[out++] = argv[i]; /* positional ("-" alone too) */
            continue;
        }
        if (!strcmp(a, "--")) {
            only_args = true;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help_exit(p);
        }
        if (!strcmp(a, "--shell")) { /* a flag: no value */
            o->shell = true;
            continue;
        }
        const ex_opt *own = NULL;
        for (size_t k = 0; k < p->nopts; k++) {
            if (!strcmp(a, p->opts[k].name)) {
                own = &p->opts[k];
            }
        }
        static const char *const common[] = {"--tap",
                                             "--ip",
                                             "--gateway",
                                             "--ip6",
                                             "--gw6",
                                             "--pcap",
                                             "--drop-chance",
                                             "--corrupt-chance",
                                             "--size-limit",
                                             "--rate-limit",
                                             "--buffer",
                                             "--seed",
                                             "--tx-rate-limit",
                                             "--rx-rate-limit",
                                             "--shaping-interval",
                                             "--congestion"};
        bool is_common = false;
        for (size_t k = 0; k < sizeof common / sizeof common[0]; k++) {
            is_common |= !strcmp(a, common[k]);
        }
        if (!own && !is_common) {
            ex_usage_error("unknown option '%s'", a);
        }
        if (i + 1 >= *argc) {
            ex_usage_error("option %s needs a value", a);
        }
        const char *v = argv[++i];
        if (own) {
            if (own->kind == EX_OPT_STRING) {
                *(const char **)own->out = nonempty(v, a);
            } else {
                *(int64_t *)own->out = parse_int(v, a, own->min, own->max);
            }
        } else if (!strcmp(a, "--tap")) {
            o->tap = nonempty(v, a);
            if (strlen(v) >= 16) {
                ex_usage_error("--tap '%s': an interface name is at most 15 characters", v);
            }
        } else if (!strcmp(a, "--ip")) {
            parse_ip(v, o);
        } else if (!strcmp(a, "--ip6")) {
            parse_ip6(v, o);
        } else if (!strcmp(a, "--gw6")) {
            tern_addr gw;
            if (!ex_addr(v, &gw) || gw.family != TERN_AF_INET6) {
                ex_usage_error("--gw6 '%s': not an IPv6 address", v);
            }
            o->gw6 = v;
        } else if (!strcmp(a, "--gateway")) {
            tern_addr gw;
            if (!ex_addr4(v, &gw)) {
                ex_usage_error("--gateway '%s': not an IPv4 address A.B.C.D", v);
            }
            o->gateway = v;
        } else if (!strcmp(a, "--pcap")) {
            o->pcap = nonempty(v, a);
        } else if (!strcmp(a, "--drop-chance")) {
            o->drop_chance = parse_pct(v, a);
        } else if (!strcmp(a, "--corrupt-chance")) {
            o->corrupt_chance = parse_pct(v, a);
        } else if (!strcmp(a, "--size-limit")) {
            o->size_limit = parse_int(v, a, 0, 65535);
        } else if (!strcmp(a, "--rate-limit")) {
            o->rate_limit = parse_int(v, a, 0, INT64_MAX);
        } else if (!strcmp(a, "--buffer")) {
            o->buffer = (uint32_t)parse_int(v, a, 1024, 1 << 30);
        } else if (!strcmp(a, "--tx-rate-limit")) {
            o->tx_rate_limit = parse_int(v, a, 0, 1000000);
        } else if (!strcmp(a, "--rx-rate-limit")) {
            o->rx_rate_limit = parse_int(v, a, 0, 1000000);
        } else if (!strcmp(a, "--shaping-interval")) {
            o->shaping_interval_ms = parse_int(v, a, 1, 3600000);
        } else if (!strcmp(a, "--congestion")) {
            if (!strcmp(v, "newreno")) {
                o->congestion = TERN_TCP_CC_NEWRENO;
            } else if (!strcmp(v, "cubic")) {
                o->congestion = TERN_TCP_CC_CUBIC;
            } else if (!strcmp(v, "bbr")) {
                o->congestion = TERN_TCP_CC_BBR;
            } else {
                ex_usage_error("--congestion '%s': one of newreno, cubic, bbr", v);
            }
        } else if (!strcmp(a, "--seed")) {
            o->seed = (uint64_t)parse_int(v, a, 0, INT64_MAX);
        }
    }
    *argc = out;
    argv[out] = NULL;
    int n = out - 1;
    if (n < p->min_args || n > p->max_args) {
        if (n > p->max_args) {
            ex_usage_error("unexpected argument '%s' (usage: %s [options]%s%s)",
                           argv[1 + p->max_args], prog, p->args[0] ? " " : "", p->args);
        }
        ex_usage_error("missing argument (usage: %s [options] %s)", prog, p->args);
    }
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
    if (o->shell) {
        n->shell = true;
        ex_shell_start();
    }
    if (sim_create(o->seed, &n->s) != TERN_OK) {
        ex_die("out of memory");
    }
    check(n, sim_tap_add(n->s, "kernel", o->tap, &n->tap), "TAP");

    tern_stack_config cfg;
    tern_stack_config_default(&cfg, o->seed);
    cfg.niface = 1;
    uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    memcpy(cfg.iface[0].mac, mac, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = o->addr;
    cfg.iface[0].prefix_len[0] = o->prefix;
    if (o->ip6 != NULL) {
        /* Static: usable at once (no DAD with ipv6_autoconf off, tern/stack.h). */
        cfg.iface[0].naddrs = 2;
        cfg.iface[0].addr[1] = o->addr6;
        cfg.iface[0].prefix_len[1] = o->prefix6;
    }
    cfg.tcp_sockets = o->tcp_sockets;
    cfg.tcp_timewait = o->tcp_timewait;
    cfg.arp_queue = 64;
    cfg.packet_buffers = 256;
    cfg.tcp.rx_buffer = o->buffer;
    cfg.tcp.tx_buffer = o->buffer;
    cfg.tcp.sack = true;
    cfg.tcp.timestamps = true;
    cfg.tcp.window_scaling = true;
    cfg.tcp.rto_min_ns = 200000000ull; /* as Linux: the link is a LAN */
    cfg.tcp.congestion = o->congestion;
    check(n, sim_host_add(n->s, "tern", &cfg, &n->host), "host");
    n->st = sim_host_stack(n->s, n->host);
    if (o->gateway) {
        tern_addr gw, any = tern_addr_v4(0, 0, 0, 0);
        if (!ex_addr4(o->gateway, &gw)) {
            ex_die("--gateway %s: not an IPv4 address", o->gateway);
        }
        if (tern_route_add(n->st, &any, 0, &gw, 0) != TERN_OK) {
            ex_die("--gateway %s: cannot add the default route", o->gateway);
        }
    }
    if (o->gw6) {
        tern_addr gw;
        uint8_t zero[16] = {0};
        tern_addr any6 = tern_addr_v6_from_bytes(zero);
        if (!ex_addr(o->gw6, &gw) || tern_route_add(n->st, &any6, 0, &gw, 0) != TERN_OK) {
            ex_die("--gw6 %s: cannot add the default route", o->gw6);
        }
    }

    if (o->tx_rate_limit > 0 || o->rx_rate_limit > 0) {
        /* smoltcp's fault options: the bucket node between the link and the host. */
        static ex_bucket bucket;
        n->bucket = &bucket;
        check(n,
              ex_bucket_add(n->s, n->bucket, (uint32_t)o->tx_rate_limit, (uint32_t)o->rx_rate_limit,
                            (uint64_t)o->shaping_interval_ms * 1000000ull),
              "--tx/--rx-rate-limit");
        sim_link_id inner;
        check(n, sim_link_add(n->s, n->bucket->node, 1, n->host, 0, &inner), "link");
        check(n, sim_link_add(n->s, n->tap, 0, n->bucket->node, 0, &n->link), "link");
    } else {
        check(n, sim_link_add(n->s, n->tap, 0, n->host, 0, &n->link), "link");
    }
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
        /* Virtual time starts at 0 with the real-time run; a capture a user
         * opens in tcpdump or Wireshark shows wall-clock times from the
         * start of the program. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t epoch = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        check(n, sim_link_capture_set_epoch(n->s, n->link, epoch), "--pcap");
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
    if (n->bucket != NULL) {
        fprintf(stderr,
                "%s: rate limit: %" PRIu64 " frames from the host passed, %" PRIu64
                " dropped; %" PRIu64 " to the host passed, %" PRIu64 " dropped\n",
                prog, n->bucket->passed[EX_BUCKET_TX], n->bucket->dropped[EX_BUCKET_TX],
                n->bucket->passed[EX_BUCKET_RX], n->bucket->dropped[EX_BUCKET_RX]);
    }
    sim_realtime_destroy(n->rt);
    sim_destroy(n->s);
    memset(n, 0, sizeof *n);
}

void ex_wake(ex_net *n) {
    sim_node_wake(n->s, n->host);
}

typedef struct run_ctx {
    ex_net *n;
    sim_realtime_step_fn step;
    void *ctx;
} run_ctx;

static bool run_step(void *ctx, sim *s, uint64_t now) {
    run_ctx *r = ctx;
    if (interrupted) {
        return true;
    }
    /* The program's step first, then the shell: a command sees what the program made of the frames
     * that arrived in this turn (a connection the kernel just completed is accepted, not still in
     * the accept queue). */
    bool stop = r->step ? r->step(r->ctx, s, now) : false;
    if (!stop && r->n->shell) {
        ex_shell_step(r->n, now);
    }
    return stop;
}

bool ex_run(ex_net *n, uint64_t timeout_ns, sim_realtime_step_fn step, void *ctx) {
    run_ctx r = {n, step, ctx};
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

/*
 * What every example shares: command-line options for the TAP interface, the
 * Tern host's address, the capture and the link impairments, and the set-up
 * of a simulation with a TAP node, a Tern host and the link between them,
 * run in real time (tern/sim_realtime.h).
 */
#ifndef TERN_EXAMPLE_COMMON_H
#define TERN_EXAMPLE_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/sim_realtime.h"
#include "tern/sim_tap.h"
#include "tern/stack.h"

#include "bucket.h"

typedef struct ex_options {
    const char *tap;             /* --tap IFNAME (default tap0) */
    const char *ip;              /* --ip A.B.C.D/P (default 192.168.69.1/24) */
    tern_addr addr;              /* the address of --ip */
    uint8_t prefix;              /* and its prefix length */
    const char *gateway;         /* --gateway A.B.C.D (default none) */
    const char *ip6;             /* --ip6 ADDRESS[/P] (default none: link-local only) */
    tern_addr addr6;             /* the address of --ip6 */
    uint8_t prefix6;             /* and its prefix length (default 64) */
    const char *gw6;             /* --gw6 ADDRESS: IPv6 default router (default none) */
    const char *pcap;            /* --pcap FILE */
    double drop_chance;          /* --drop-chance PERCENT, both directions */
    double corrupt_chance;       /* --corrupt-chance PERCENT */
    int64_t size_limit;          /* --size-limit BYTES (0: none) */
    int64_t rate_limit;          /* --rate-limit BITS_PER_SECOND (0: none) */
    uint64_t seed;               /* --seed N */
    uint32_t buffer;             /* --buffer BYTES: TCP socket buffers (default 256 KiB) */
    int64_t tx_rate_limit;       /* --tx-rate-limit PACKETS per bucket (smoltcp's; 0: none) */
    int64_t rx_rate_limit;       /* --rx-rate-limit PACKETS per bucket (0: none) */
    int64_t shaping_interval_ms; /* --shaping-interval MS: the buckets' refill interval */
    bool shell;                  /* --shell: the network shell on standard input (shell.c) */
    uint8_t congestion;          /* --congestion newreno|cubic|bbr: tern_tcp_cc (default newreno) */
    /* set by the program before ex_setup (0: the stack's defaults) */
    uint32_t tcp_sockets;  /* TCP sockets (listeners and connections) */
    uint32_t tcp_timewait; /* TIME-WAIT entries (kept without a socket) */
} ex_options;

/* A program's own option (ex_program.opts). */
typedef enum ex_opt_kind {
    EX_OPT_STRING, /* out: const char ** (a non-empty string) */
    EX_OPT_INT,    /* out: int64_t *, a decimal integer in [min, max] */
} ex_opt_kind;

typedef struct ex_opt {
    const char *name;    /* "--port" */
    const char *metavar; /* "PORT" */
    const char *help;    /* one line, with the default */
    ex_opt_kind kind;
    int64_t min, max; /* EX_OPT_INT: the accepted range */
    void *out;
} ex_opt;

/* What a program says about itself, for parsing and --help. */
typedef struct ex_program {
    const char *summary; /* what the program does (a few lines, for --help) */
    const char *args;    /* positional arguments in the usage line ("ADDRESS"), "" for none */
    int min_args, max_args;
    const ex_opt *opts; /* the program's own options */
    size_t nopts;
    const char *notes; /* limits and remarks printed at the end of --help, or NULL */
} ex_program;

typedef struct ex_net {
    sim *s;
    sim_realtime *rt;
    sim_node_id tap, host;
    sim_link_id link;
    tern_stack *st;
    ex_bucket *bucket; /* with --tx/--rx-rate-limit: between the link and the host, else NULL */
    bool shell;        /* --shell */
} ex_net;

/*
 * ex_parse: parse the common options and the program's own (`p->opts`) out of
 * argv, strictly: an unknown option, a missing or malformed value, or the
 * wrong number of positional arguments prints a message naming the option
 * and value and exits with status 2. -h/--help prints the usage, every
 * option and p->notes to standard output and exits 0. On return the
 * positional arguments are argv[1..*argc-1].
 */
void ex_parse(int *argc, char **argv, ex_options *o, const ex_program *p);

/* ex_usage_error: print "program: message" and a hint to --help, exit(2). */
void ex_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ex_port: parse a TCP/UDP port 1..65535 for `what` (an option or argument name); exits 2 if not.
 */
uint16_t ex_port(const char *text, const char *what);

/* ex_setup: the simulation, the TAP node, the host and the impaired link. Exits on failure. */
void ex_setup(ex_net *n, const ex_options *o);

/* ex_teardown: close the capture and free everything. */
void ex_teardown(ex_net *n);

/*
 * ex_run: run in real time, calling `step` after each round, until it returns
 * true, `timeout_ns` passes (SIM_NEVER: none), or SIGINT/SIGTERM. Returns
 * true when step ended the run.
 */
bool ex_run(ex_net *n, uint64_t timeout_ns, sim_realtime_step_fn step, void *ctx);

/* ex_wake: tell the simulator the host has work (after socket calls). */
void ex_wake(ex_net *n);

/* ex_addr: parse an IPv4 "A.B.C.D" or an IPv6 address (RFC 4291 §2.2 forms 1 and 2, e.g.
 * "fd00::1") into *out. Returns false if it is neither. */
bool ex_addr(const char *text, tern_addr *out);

/* ex_addr4: parse "A.B.C.D" into *out. Returns false if it is not an IPv4 address. */
bool ex_addr4(const char *text, tern_addr *out);

/* ex_die: print "program: message" to stderr and exit(1). */
void ex_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

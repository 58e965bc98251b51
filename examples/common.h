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

typedef struct ex_options {
    const char *tap;       /* --tap IFNAME (default tap0) */
    const char *ip;        /* --ip A.B.C.D/P (default 192.168.69.1/24) */
    const char *gateway;   /* --gateway A.B.C.D (default none) */
    const char *pcap;      /* --pcap FILE */
    double drop_chance;    /* --drop-chance PERCENT, both directions */
    double corrupt_chance; /* --corrupt-chance PERCENT */
    int64_t size_limit;    /* --size-limit BYTES (0: none) */
    int64_t rate_limit;    /* --rate-limit BITS_PER_SECOND (0: none) */
    uint64_t seed;         /* --seed N */
    uint32_t buffer;       /* --buffer BYTES: TCP socket buffers (default 256 KiB) */
} ex_options;

typedef struct ex_net {
    sim *s;
    sim_realtime *rt;
    sim_node_id tap, host;
    sim_link_id link;
    tern_stack *st;
} ex_net;

/*
 * ex_parse: parse the common options out of argv; the rest (positional
 * arguments and options the program knows) are left in argv[1..*argc-1].
 * `usage` is the program's own usage line. Exits with a message on a bad option.
 */
void ex_parse(int *argc, char **argv, ex_options *o, const char *usage);

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

/* ex_addr: parse "A.B.C.D" into *out. Returns false if it is not an IPv4 address. */
bool ex_addr(const char *text, tern_addr *out);

/* ex_die: print "program: message" to stderr and exit(1). */
void ex_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

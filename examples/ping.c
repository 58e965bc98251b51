/*
 * tern-ping: a Tern host on a TAP interface pings an address, like ping(8):
 *   tern-ping [options] [--count N] [--interval MS] [--size BYTES] ADDRESS
 * (--help lists every option)
 * Exits 0 when at least one reply came.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

typedef struct pinger {
    ex_net *n;
    tern_sock s;
    tern_addr dst;
    int count, sent, received;
    size_t size;
    uint64_t interval, next, deadline;
    uint64_t sent_at[65536];
} pinger;

static bool step(void *ctx, sim *s, uint64_t now) {
    (void)s;
    pinger *p = ctx;
    tern_ping_reply r;
    while (tern_ping_recv(p->n->st, p->s, &r, NULL, 0) == TERN_OK) {
        uint64_t rtt = r.time - p->sent_at[r.seq];
        char from[TERN_ADDR_STRLEN];
        tern_addr_format(&r.from, from, sizeof from);
        printf("%zu bytes from %s: icmp_seq=%u ttl=%u time=%.3f ms\n", r.len + 8, from, r.seq,
               r.ttl, rtt / 1e6);
        fflush(stdout);
        p->received++;
    }
    if (p->sent < p->count && now >= p->next) {
        p->sent++;
        p->sent_at[(uint16_t)p->sent] = now;
        tern_err err =
            tern_ping_send(p->n->st, p->s, &p->dst, (uint16_t)p->sent, NULL, p->size, 0, false);
        if (err != TERN_OK) {
            fprintf(stderr, "tern-ping: send: %s\n", tern_strerror(err));
        }
        p->next = now + p->interval;
        p->deadline = now + 2000000000ull;
        ex_wake(p->n);
    }
    return p->received >= p->count || (p->sent == p->count && now >= p->deadline);
}

int main(int argc, char **argv) {
    int64_t count = 4, interval_ms = 1000, size = 56;
    static const char *target;
    const ex_opt opts[] = {
        {"--count", "N", "echo requests to send, 1..65535 (default 4)", EX_OPT_INT, 1, 65535,
         &count},
        {"--interval", "MS", "milliseconds between requests, 1..3600000 (default 1000)", EX_OPT_INT,
         1, 3600000, &interval_ms},
        {"--size", "BYTES", "echo data bytes, 0..65507 (default 56)", EX_OPT_INT, 0, 65507, &size},
    };
    const ex_program prog = {
        "Ping ADDRESS from a Tern host on a TAP interface, like ping(8); each reply is\n"
        "printed with its round-trip time. Exits 0 when at least one reply came, 1 if none.",
        "ADDRESS",
        1,
        1,
        opts,
        sizeof opts / sizeof opts[0],
        NULL};
    ex_options o;
    ex_parse(&argc, argv, &o, &prog);
    static pinger p;
    p.count = (int)count;
    p.size = (size_t)size;
    p.interval = (uint64_t)interval_ms * 1000000ull;
    target = argv[1];
    if (!ex_addr(target, &p.dst)) {
        ex_usage_error("ADDRESS '%s': not an IPv4 (A.B.C.D) or IPv6 address", target);
    }
    ex_net n;
    ex_setup(&n, &o);
    p.n = &n;
    if (tern_ping_open(n.st, 0x7e57, &p.s) != TERN_OK) {
        ex_die("cannot open a ping socket");
    }
    printf("PING %s %zu data bytes\n", target, p.size);
    ex_run(&n, SIM_NEVER, step, &p);
    printf("%d packets transmitted, %d received\n", p.sent, p.received);
    ex_teardown(&n);
    return p.received > 0 ? 0 : 1;
}

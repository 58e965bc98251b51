/*
 * tern-ping: a Tern host on a TAP interface pings an address, like ping(8):
 *   tern-ping [options] [--count N] [--interval MS] [--size BYTES] ADDRESS
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
    ex_options o;
    ex_parse(&argc, argv, &o, "[options] [--count N] [--interval MS] [--size BYTES] ADDRESS");
    static pinger p;
    p.count = 4;
    p.size = 56;
    p.interval = 1000000000ull;
    const char *target = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--count") && i + 1 < argc) {
            p.count = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
            p.interval = (uint64_t)atoll(argv[++i]) * 1000000ull;
        } else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            p.size = (size_t)atoll(argv[++i]);
        } else {
            target = argv[i];
        }
    }
    if (!target || !ex_addr(target, &p.dst) || p.count < 1 || p.count > 65535) {
        ex_die("give one IPv4 ADDRESS (and --count 1..65535)");
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

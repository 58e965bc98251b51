/*
 * Two Tern hosts (10.0.0.1 sends, 10.0.0.2 receives) over one simulated link
 * with impairments, for the transfer, SACK-recovery and throughput-matrix
 * tests. The application on each side wakes up every `step_ns` of virtual
 * time: the sender keeps its send buffer full, the receiver drains its
 * receive buffer and checks every byte against a position-dependent pattern.
 *
 * Everything is deterministic: same configuration and seed, same result, so
 * tests may compare virtual times, goodputs and counters exactly.
 */
#ifndef TERN_TEST_TCP_PAIR_H
#define TERN_TEST_TCP_PAIR_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_host_cfg.h"
#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/stack.h"

#ifndef MS
#define MS 1000000ull
#endif
#ifndef SEC
#define SEC 1000000000ull
#endif

typedef struct pair_cfg {
    uint64_t bytes;
    uint64_t seed;
    bool options; /* SACK, timestamps, window scaling on both hosts */
    bool no_sack; /* ...but without SACK */
    int cc;       /* tern_tcp_cc of the sender */
    double loss, dup, corrupt, reorder;
    bool gilbert;     /* Gilbert-Elliott bursts (p 1%, r 30%, 1-h 50%, 1-k 0) */
    int64_t rate_bps; /* 0: unlimited */
    uint64_t delay_ns;
    uint32_t rx_buffer, tx_buffer; /* 0: the stack's default */
    uint64_t rto_min_ns;           /* 0: the stack's default */
    uint64_t delack_ns;            /* 0: the stack's default */
    uint64_t step_ns;              /* application wake-up period; 0: 1 ms */
    uint64_t limit_ns;             /* give up after this much virtual time; 0: 1 h */
    bool tlp;                      /* the sender's tail loss probe (RFC 8985 §7) */
} pair_cfg;

typedef struct pair_result {
    bool ok;              /* everything arrived byte-exact and the FIN was seen */
    uint64_t ns;          /* virtual time from connect to the last byte read */
    uint64_t goodput_bps; /* bytes * 8 / ns, integer bits per second */
    tern_tcp_info snd, rcv;
} pair_result;

static inline uint8_t pair_pattern(uint64_t i) {
    return (uint8_t)(i ^ (i >> 8) * 31 ^ (i >> 16) * 7);
}

static inline void pair_host_cfg(tern_stack_config *c, uint8_t last, const pair_cfg *o) {
    test_host_cfg_v4(c, 100 + last + o->seed, 0, last);
    c->tcp.sack = o->options && !o->no_sack;
    c->tcp.timestamps = c->tcp.window_scaling = o->options;
    c->tcp.rx_buffer = o->rx_buffer;
    c->tcp.tx_buffer = o->tx_buffer;
    c->tcp.rto_min_ns = o->rto_min_ns;
    c->tcp.delack_ns = o->delack_ns;
    c->tcp_sockets = 4;
}

static inline pair_result pair_run(const pair_cfg *o) {
    pair_result res;
    memset(&res, 0, sizeof res);
    sim *s;
    CHECK(sim_create(o->seed, &s) == TERN_OK);
    tern_stack_config ca, cb;
    pair_host_cfg(&ca, 1, o);
    pair_host_cfg(&cb, 2, o);
    sim_node_id a, b;
    sim_link_id l;
    CHECK(sim_host_add(s, "a", &ca, &a) == TERN_OK);
    CHECK(sim_host_add(s, "b", &cb, &b) == TERN_OK);
    CHECK(sim_link_add(s, a, 0, b, 0, &l) == TERN_OK);
    if (o->rate_bps)
        CHECK(sim_link_set_rate(s, l, SIM_DIR_BOTH, o->rate_bps) == TERN_OK);
    uint64_t delay = o->delay_ns;
    if (o->reorder > 0 && delay == 0)
        delay = 1 * MS; /* reordering needs a delay to skip */
    if (delay)
        CHECK(sim_link_set_delay(s, l, SIM_DIR_BOTH, (int64_t)delay, 0, false) == TERN_OK);
    if (o->loss > 0 && !o->gilbert)
        CHECK(sim_link_set_loss_bernoulli(s, l, SIM_DIR_BOTH, o->loss) == TERN_OK);
    if (o->gilbert)
        CHECK(sim_link_set_loss_gilbert_elliott(s, l, SIM_DIR_BOTH, 0.01, 0.3, 0.5, 0.0) ==
              TERN_OK);
    if (o->dup > 0)
        CHECK(sim_link_set_duplicate(s, l, SIM_DIR_BOTH, o->dup) == TERN_OK);
    if (o->corrupt > 0)
        CHECK(sim_link_set_corrupt(s, l, SIM_DIR_BOTH, o->corrupt) == TERN_OK);
    if (o->reorder > 0)
        CHECK(sim_link_set_reorder(s, l, SIM_DIR_BOTH, o->reorder) == TERN_OK);
    tern_stack *sa = sim_host_stack(s, a), *sb = sim_host_stack(s, b);
    tern_sock lis, cl, sv = 0;
    CHECK(tern_tcp_open(sb, &lis) == TERN_OK);
    CHECK(tern_tcp_bind(sb, lis, NULL, 5001) == TERN_OK);
    CHECK(tern_tcp_listen(sb, lis, 8) == TERN_OK);
    CHECK(tern_tcp_open(sa, &cl) == TERN_OK);
    CHECK(tern_tcp_set_option(sa, cl, TERN_TCP_OPT_CONGESTION, o->cc) == TERN_OK);
    CHECK(tern_tcp_set_option(sa, cl, TERN_TCP_OPT_TAIL_LOSS_PROBE, o->tlp) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(sa, cl, &dst, 5001) == TERN_OK);
    static uint8_t buf[1 << 18];
    uint64_t sent = 0, got = 0, now = 0, done_at = 0;
    uint64_t step = o->step_ns ? o->step_ns : 1 * MS;
    uint64_t limit = o->limit_ns ? o->limit_ns : 3600 * SEC;
    bool shut = false, eof = false, bad = false;
    while (!eof && now < limit) {
        if (!sv && tern_tcp_accept(sb, lis, &sv) != TERN_OK)
            sv = 0;
        while (sent < o->bytes) {
            size_t n = tern_tcp_writable(sa, cl);
            if (n == 0)
                break;
            if (n > o->bytes - sent)
                n = (size_t)(o->bytes - sent);
            if (n > sizeof buf)
                n = sizeof buf;
            for (size_t i = 0; i < n; i++)
                buf[i] = pair_pattern(sent + i);
            size_t w = 0;
            if (tern_tcp_send(sa, cl, buf, n, &w) != TERN_OK)
                break;
            sent += w;
        }
        if (sent == o->bytes && !shut) {
            CHECK(tern_tcp_shutdown(sa, cl, 1) == TERN_OK);
            shut = true;
        }
        while (sv) {
            size_t n = 0;
            if (tern_tcp_recv(sb, sv, buf, sizeof buf, &n) != TERN_OK)
                break;
            if (n == 0) {
                eof = true;
                break;
            }
            for (size_t i = 0; i < n && !bad; i++) {
                if (buf[i] != pair_pattern(got + i)) {
                    fprintf(stderr, "  byte %llu differs\n", (unsigned long long)(got + i));
                    bad = true;
                }
            }
            got += n;
            if (got == o->bytes)
                done_at = now;
        }
        if (eof)
            break;
        sim_node_wake(s, a);
        sim_node_wake(s, b);
        now += step;
        tern_err e = sim_run(s, now, 0, NULL);
        if (e != TERN_OK) {
            fprintf(stderr, "  sim_run: %s\n", sim_last_error(s));
            CHECK(e == TERN_OK);
            break;
        }
    }
    CHECK(tern_tcp_get_info(sa, cl, &res.snd) == TERN_OK);
    if (sv)
        CHECK(tern_tcp_get_info(sb, sv, &res.rcv) == TERN_OK);
    res.ok = eof && !bad && got == o->bytes;
    if (!res.ok)
        fprintf(stderr,
                "  incomplete: %llu of %llu bytes, bad %d, eof %d; sender state %d una %u nxt %u "
                "cwnd %u err %d; receiver rcv_nxt %u\n",
                (unsigned long long)got, (unsigned long long)o->bytes, bad, eof, res.snd.state,
                res.snd.snd_una, res.snd.snd_nxt, res.snd.cwnd, res.snd.error, res.rcv.rcv_nxt);
    res.ns = done_at;
    if (res.ok && done_at > 0)
        res.goodput_bps =
            (uint64_t)((unsigned __int128)o->bytes * 8u * 1000000000u / (unsigned __int128)done_at);
    if (getenv("TCP_VERBOSE"))
        fprintf(
            stderr,
            "  %llu bytes in %llu.%03llu s (%llu bit/s): rexmit %llu fast %llu rto %llu "
            "sackblk %llu; receiver ooo %llu\n",
            (unsigned long long)got, (unsigned long long)(done_at / SEC),
            (unsigned long long)(done_at % SEC / MS), (unsigned long long)res.goodput_bps,
            (unsigned long long)res.snd.total_retransmits,
            (unsigned long long)res.snd.fast_retransmits, (unsigned long long)res.snd.rto_timeouts,
            (unsigned long long)res.snd.sack_blocks_in, (unsigned long long)res.rcv.ooo_segments);
    sim_destroy(s);
    return res;
}

#endif /* TERN_TEST_TCP_PAIR_H */

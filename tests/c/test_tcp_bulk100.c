/*
 * Issue 4 "Tests": between two Tern hosts, a 100 MB (100 * 10^6 bytes)
 * transfer arrives byte-exact (every byte checked against a position
 * pattern, then the FIN) under 0 %, 1 % and 5 % Bernoulli loss,
 * Gilbert-Elliott bursts, reordering, duplication and corruption. The
 * impairments apply in both directions (data and ACKs). 1 Gbit/s, 1 ms
 * one-way delay, SACK, timestamps and window scaling, 1 MiB buffers.
 */
#include "test_tcp_pair.h"

static pair_cfg big(void) {
    pair_cfg o;
    memset(&o, 0, sizeof o);
    o.bytes = 100000000ull;
    o.seed = 4;
    o.options = true;
    o.cc = TERN_TCP_CC_CUBIC;
    o.rate_bps = 1000000000;
    o.delay_ns = 1 * MS;
    o.rx_buffer = o.tx_buffer = 1u << 20;
    o.rto_min_ns = 200 * MS;
    o.step_ns = 1 * MS;
    return o;
}

static void run(const char *what, const pair_cfg *o) {
    pair_result r = pair_run(o);
    CHECK(r.ok);
    if (getenv("TCP_VERBOSE") || !r.ok)
        fprintf(stderr, "  %-12s %s: %llu bit/s, %llu retransmissions, %llu RTOs\n", what,
                r.ok ? "ok" : "FAILED", (unsigned long long)r.goodput_bps,
                (unsigned long long)r.snd.total_retransmits,
                (unsigned long long)r.snd.rto_timeouts);
}

static void test_clean(void) {
    pair_cfg o = big();
    run("clean", &o);
}

static void test_bernoulli(void) {
    pair_cfg o = big();
    o.loss = 0.01;
    run("loss 1%", &o);
    o.loss = 0.05;
    run("loss 5%", &o);
    o.no_sack = true;
    o.cc = TERN_TCP_CC_NEWRENO;
    run("loss 5% Reno", &o);
}

static void test_gilbert_elliott(void) {
    pair_cfg o = big();
    o.gilbert = true;
    run("GE bursts", &o);
}

static void test_reorder(void) {
    pair_cfg o = big();
    o.reorder = 0.05;
    run("reorder 5%", &o);
}

static void test_duplicate(void) {
    pair_cfg o = big();
    o.dup = 0.05;
    run("dup 5%", &o);
}

static void test_corrupt(void) {
    pair_cfg o = big();
    o.corrupt = 0.02;
    run("corrupt 2%", &o);
}

int main(void) {
    RUN(test_clean);
    RUN(test_bernoulli);
    RUN(test_gilbert_elliott);
    RUN(test_reorder);
    RUN(test_duplicate);
    RUN(test_corrupt);
    return check_summary();
}

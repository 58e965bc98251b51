/*
 * Two Tern hosts over a simulated link: transfers arrive byte-exact under
 * loss (Bernoulli, Gilbert-Elliott), reordering, duplication and corruption,
 * with NewReno and CUBIC, with and without SACK/timestamps/window scaling.
 */
#include "test_tcp_pair.h"

typedef pair_cfg pair_opts;

/* Returns the virtual time the transfer took (0 on failure). */
static uint64_t transfer(const pair_opts *o) {
    pair_cfg c = *o;
    c.step_ns = 5 * MS; /* the application wakes up every 5 ms */
    pair_result r = pair_run(&c);
    CHECK(r.ok);
    return r.ok ? (r.ns ? r.ns : 1) : 0;
}

static pair_opts base(void) {
    pair_opts o;
    memset(&o, 0, sizeof o);
    o.bytes = 4u << 20;
    o.seed = 1;
    o.options = true;
    o.rate_bps = 100000000;
    o.delay_ns = 10 * MS;
    return o;
}

static void test_clean(void) {
    pair_opts o = base();
    CHECK(transfer(&o) > 0);
    o.options = false;
    CHECK(transfer(&o) > 0);
    o.rate_bps = 0;
    o.delay_ns = 0;
    o.options = true;
    CHECK(transfer(&o) > 0);
}

static void test_loss(void) {
    double rates[] = {0.01, 0.05};
    for (int cc = 0; cc < 2; cc++) {
        for (int sack = 0; sack < 2; sack++) {
            for (int i = 0; i < 2; i++) {
                pair_opts o = base();
                o.loss = rates[i];
                o.cc = cc;
                o.options = sack;
                o.bytes = 2u << 20;
                o.seed = 10 + (uint64_t)i;
                CHECK(transfer(&o) > 0);
            }
        }
    }
}

static void test_gilbert(void) {
    pair_opts o = base();
    o.gilbert = true;
    o.bytes = 2u << 20;
    CHECK(transfer(&o) > 0);
    o.options = false;
    CHECK(transfer(&o) > 0);
}

static void test_reorder_dup_corrupt(void) {
    pair_opts o = base();
    o.reorder = 0.05;
    CHECK(transfer(&o) > 0);
    o = base();
    o.dup = 0.05;
    CHECK(transfer(&o) > 0);
    o = base();
    o.corrupt = 0.02;
    CHECK(transfer(&o) > 0);
    o = base();
    o.corrupt = 0.02;
    o.dup = 0.02;
    o.loss = 0.02;
    o.reorder = 0.02;
    o.cc = TERN_TCP_CC_CUBIC;
    CHECK(transfer(&o) > 0);
}

static void test_small_buffers(void) {
    pair_opts o = base();
    o.rx_buffer = 4096;
    o.bytes = 1u << 20;
    o.loss = 0.01;
    CHECK(transfer(&o) > 0);
}

int main(void) {
    RUN(test_clean);
    RUN(test_loss);
    RUN(test_gilbert);
    RUN(test_reorder_dup_corrupt);
    RUN(test_small_buffers);
    return check_summary();
}

/*
 * Two Tern hosts over a simulated link: transfers arrive byte-exact under
 * loss (Bernoulli, Gilbert-Elliott), reordering, duplication and corruption,
 * with NewReno and CUBIC, with and without SACK/timestamps/window scaling.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/stack.h"

#define MS 1000000ull
#define SEC 1000000000ull

static uint8_t pattern(uint64_t i) {
    return (uint8_t)(i ^ (i >> 8) * 31 ^ (i >> 16) * 7);
}

typedef struct pair_opts {
    uint64_t bytes;
    uint64_t seed;
    bool options; /* SACK, timestamps, window scaling */
    int cc;
    double loss, dup, corrupt, reorder;
    bool gilbert;
    int64_t rate_bps; /* 0: unlimited */
    uint64_t delay_ns;
    uint32_t rx_buffer;
} pair_opts;

static void host_cfg(tern_stack_config *cfg, uint8_t last, const pair_opts *o) {
    tern_stack_config_default(cfg, 100 + last + o->seed);
    cfg->niface = 1;
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, last};
    memcpy(cfg->iface[0].mac, mac, 6);
    cfg->iface[0].naddrs = 1;
    cfg->iface[0].addr[0] = tern_addr_v4(10, 0, 0, last);
    cfg->iface[0].prefix_len[0] = 24;
    cfg->tcp.sack = cfg->tcp.timestamps = cfg->tcp.window_scaling = o->options;
    cfg->tcp.rx_buffer = o->rx_buffer;
    cfg->tcp_sockets = 4;
}

/* Returns the virtual time the transfer took (0 on failure). */
static uint64_t transfer(const pair_opts *o) {
    sim *s;
    CHECK(sim_create(o->seed, &s) == TERN_OK);
    tern_stack_config ca, cb;
    host_cfg(&ca, 1, o);
    host_cfg(&cb, 2, o);
    sim_node_id a, b;
    sim_link_id l;
    CHECK(sim_host_add(s, "a", &ca, &a) == TERN_OK);
    CHECK(sim_host_add(s, "b", &cb, &b) == TERN_OK);
    CHECK(sim_link_add(s, a, 0, b, 0, &l) == TERN_OK);
    if (o->rate_bps)
        CHECK(sim_link_set_rate(s, l, SIM_DIR_BOTH, o->rate_bps) == TERN_OK);
    if (o->delay_ns)
        CHECK(sim_link_set_delay(s, l, SIM_DIR_BOTH, (int64_t)o->delay_ns, 0, false) == TERN_OK);
    if (o->loss > 0 && !o->gilbert)
        CHECK(sim_link_set_loss_bernoulli(s, l, SIM_DIR_BOTH, o->loss) == TERN_OK);
    if (o->gilbert)
        CHECK(sim_link_set_loss_gilbert_elliott(s, l, SIM_DIR_BOTH, 0.01, 0.3, 0.5, 0.0) ==
              TERN_OK);
    if (o->dup > 0)
        CHECK(sim_link_set_duplicate(s, l, SIM_DIR_BOTH, o->dup) == TERN_OK);
    if (o->corrupt > 0)
        CHECK(sim_link_set_corrupt(s, l, SIM_DIR_BOTH, o->corrupt) == TERN_OK);
    if (o->reorder > 0) {
        if (!o->delay_ns)
            CHECK(sim_link_set_delay(s, l, SIM_DIR_BOTH, (int64_t)(1 * MS), 0, false) == TERN_OK);
        CHECK(sim_link_set_reorder(s, l, SIM_DIR_BOTH, o->reorder) == TERN_OK);
    }
    tern_stack *sa = sim_host_stack(s, a), *sb = sim_host_stack(s, b);
    tern_sock lis, cl, sv = 0;
    CHECK(tern_tcp_open(sb, &lis) == TERN_OK);
    CHECK(tern_tcp_bind(sb, lis, NULL, 5001) == TERN_OK);
    CHECK(tern_tcp_listen(sb, lis, 8) == TERN_OK);
    CHECK(tern_tcp_open(sa, &cl) == TERN_OK);
    CHECK(tern_tcp_set_option(sa, cl, TERN_TCP_OPT_CONGESTION, o->cc) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(sa, cl, &dst, 5001) == TERN_OK);
    static uint8_t buf[1 << 16];
    uint64_t sent = 0, got = 0, now = 0;
    bool shut = false, eof = false, bad = false;
    uint64_t limit = 3600 * SEC;
    while (!eof && now < limit) {
        if (!sv) {
            if (tern_tcp_accept(sb, lis, &sv) != TERN_OK)
                sv = 0;
        }
        while (sent < o->bytes) {
            size_t n = tern_tcp_writable(sa, cl);
            if (n == 0)
                break;
            if (n > o->bytes - sent)
                n = (size_t)(o->bytes - sent);
            if (n > sizeof buf)
                n = sizeof buf;
            for (size_t i = 0; i < n; i++)
                buf[i] = pattern(sent + i);
            size_t w = 0;
            if (tern_tcp_send(sa, cl, buf, n, &w) != TERN_OK)
                break;
            sent += w;
        }
        if (sent == o->bytes && !shut) {
            CHECK(tern_tcp_shutdown(sa, cl, 1) == TERN_OK);
            shut = true;
        }
        if (sv) {
            for (;;) {
                size_t n = 0;
                tern_err e = tern_tcp_recv(sb, sv, buf, sizeof buf, &n);
                if (e != TERN_OK)
                    break;
                if (n == 0) {
                    eof = true;
                    break;
                }
                for (size_t i = 0; i < n && !bad; i++) {
                    if (buf[i] != pattern(got + i)) {
                        fprintf(stderr, "byte %llu differs\n", (unsigned long long)(got + i));
                        bad = true;
                    }
                }
                got += n;
            }
        }
        sim_node_wake(s, a);
        sim_node_wake(s, b);
        now += 5 * MS;
        tern_err e = sim_run(s, now, 0, NULL);
        if (e != TERN_OK) {
            fprintf(stderr, "sim_run: %s\n", sim_last_error(s));
            CHECK(e == TERN_OK);
            break;
        }
    }
    CHECK(!bad);
    CHECK(eof);
    if (!eof) {
        tern_tcp_info x, y;
        memset(&y, 0, sizeof y);
        tern_tcp_get_info(sa, cl, &x);
        if (sv)
            tern_tcp_get_info(sb, sv, &y);
        fprintf(stderr,
                "  stuck: client state %d una %u nxt %u wnd %u cwnd %u ssth %u rto %llu retr %u "
                "err %d; server state %d rcv_nxt %u rcv_wnd %u\n",
                x.state, x.snd_una, x.snd_nxt, x.snd_wnd, x.cwnd, x.ssthresh,
                (unsigned long long)x.rto_ns, x.retransmits, x.error, y.state, y.rcv_nxt,
                y.rcv_wnd);
    }
    CHECK_EQ_U64(got, o->bytes);
    tern_tcp_info ic, is;
    CHECK(tern_tcp_get_info(sa, cl, &ic) == TERN_OK);
    if (sv)
        CHECK(tern_tcp_get_info(sb, sv, &is) == TERN_OK);
    if (getenv("TCP_VERBOSE"))
        fprintf(stderr,
                "  %llu bytes in %.3f s: rexmit %llu fast %llu rto %llu sackblk %llu ooo %llu cwnd "
                "%u srtt %llu\n",
                (unsigned long long)got, (double)now / 1e9,
                (unsigned long long)ic.total_retransmits, (unsigned long long)ic.fast_retransmits,
                (unsigned long long)ic.rto_timeouts, (unsigned long long)ic.sack_blocks_in,
                (unsigned long long)is.ooo_segments, ic.cwnd, (unsigned long long)ic.srtt_ns);
    sim_destroy(s);
    return eof && !bad && got == o->bytes ? now : 0;
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

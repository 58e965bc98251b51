/*
 * TCP's pure parts: sequence arithmetic, the RFC 6298 estimator against values
 * computed by hand, sorted range lists (OOO queue and SACK scoreboard), RFC
 * 6675 IsLost/SetPipe/NextSeg, and the congestion-control algorithms.
 */
#include "check.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_private.h"

#define MS 1000000ull
#define SEC 1000000000ull

static void test_seq(void) {
    CHECK(seq_lt(0xfffffff0u, 0x10u));
    CHECK(seq_gt(0x10u, 0xfffffff0u));
    CHECK(seq_leq(5, 5) && seq_geq(5, 5));
    CHECK(seq_in(0, 0xffffffffu, 2));
    CHECK(!seq_in(2, 0xffffffffu, 2));
    CHECK_EQ_U64(seq_max(0xfffffff0u, 3), 3);
    CHECK_EQ_U64(seq_min(0xfffffff0u, 3), 0xfffffff0u);
}

static void test_rtt(void) {
    tcp_rtt r;
    tcp_rtt_init(&r, 1 * SEC, 200 * MS, 60 * SEC);
    CHECK_EQ_U64(r.rto, 1 * SEC); /* (2.1) */
    tcp_rtt_sample(&r, 100 * MS); /* (2.2): SRTT 100, RTTVAR 50, RTO 100+200 = 300 ms */
    CHECK_EQ_U64(r.srtt, 100 * MS);
    CHECK_EQ_U64(r.rttvar, 50 * MS);
    CHECK_EQ_U64(r.rto, 300 * MS);
    tcp_rtt_sample(
        &r,
        200 * MS); /* (2.3): RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5; SRTT = 7/8*100 + 25 = 112.5 */
    CHECK_EQ_U64(r.rttvar, 62500000);
    CHECK_EQ_U64(r.srtt, 112500000);
    CHECK_EQ_U64(r.rto, 112500000 + 4 * 62500000ull);
    for (int i = 0; i < 200; i++)
        tcp_rtt_sample(&r, 10 * MS); /* converges: RTO at the minimum */
    CHECK_EQ_U64(r.rto, 200 * MS);
    tcp_rtt_backoff(&r);
    CHECK_EQ_U64(r.rto, 400 * MS); /* (5.5) */
    for (int i = 0; i < 20; i++)
        tcp_rtt_backoff(&r);
    CHECK_EQ_U64(r.rto, 60 * SEC); /* (2.5) cap */
    tcp_rtt_init(&r, 1 * SEC, 1 * SEC, 60 * SEC);
    tcp_rtt_syn_timed_out_established(&r);
    CHECK_EQ_U64(r.rto, 3 * SEC); /* (5.7) */
    tcp_rtt_sample(&r, 0);        /* a zero RTT: G keeps RTO above SRTT, then the minimum */
    CHECK_EQ_U64(r.rto, 1 * SEC);
    /* the handshake's timestamps gave a sample after a SYN timeout: (5.7)
     * still sets 3 s, SRTT stays for the probe timeout (RFC 8985 §7.2) */
    tcp_rtt_init(&r, 1 * SEC, 1 * SEC, 60 * SEC);
    tcp_rtt_sample(&r, 100 * MS);
    tcp_rtt_syn_timed_out_established(&r);
    CHECK_EQ_U64(r.rto, 3 * SEC);
    CHECK_EQ_U64(r.srtt, 100 * MS);
}

static void test_ranges(void) {
    tcp_range r[4];
    uint32_t n = 0;
    CHECK_EQ_I64(tcp_ranges_add(r, &n, 4, 100, 200), 0);
    CHECK_EQ_I64(tcp_ranges_add(r, &n, 4, 300, 400), 1);
    CHECK_EQ_I64(tcp_ranges_add(r, &n, 4, 0xfffffff0u, 10), 0); /* wraps, sorts first */
    CHECK_EQ_U64(n, 3);
    CHECK_EQ_I64(tcp_ranges_add(r, &n, 4, 200, 300), 1); /* touching both: merged */
    CHECK_EQ_U64(n, 2);
    CHECK_EQ_U64(r[1].start, 100);
    CHECK_EQ_U64(r[1].end, 400);
    CHECK_EQ_U64(tcp_ranges_covered(r, n, 0, 150), 10 + 50);
    CHECK_EQ_U64(tcp_ranges_total(r, n), 26 + 300);
    CHECK_EQ_I64(tcp_ranges_add(r, &n, 4, 500, 600), 2);
    CHECK_EQ_I64(tcp_ranges_add(r, &n, 4, 700, 800), 3);
    CHECK_EQ_I64(tcp_ranges_add(r, &n, 4, 900, 1000), -1); /* full: refused */
    CHECK_EQ_I64(tcp_ranges_add(r, &n, 4, 550, 650), 2);   /* extends: fine */
    tcp_ranges_trim(r, &n, 150);
    CHECK_EQ_U64(n, 3);
    CHECK_EQ_U64(r[0].start, 150);
    CHECK_EQ_I64(tcp_ranges_find(r, n, 560), 1);
    CHECK_EQ_I64(tcp_ranges_find(r, n, 660), -1);
    CHECK_EQ_I64(tcp_ranges_add(r, &n, 4, 5, 5), -1); /* empty */
}

#include "tcp_fake_pcb.h"

static void test_scoreboard(void) {
    tcp_pcb *p = fake_pcb();
    struct tern_tcp_options o;
    memset(&o, 0, sizeof o);
    o.sack_count = 3;
    o.sack[0] = (struct tern_tcp_sack_block){3000, 4000};
    o.sack[1] = (struct tern_tcp_sack_block){500, 900};     /* below SND.UNA (D-SACK): ignored */
    o.sack[2] = (struct tern_tcp_sack_block){10000, 12000}; /* past SND.NXT: ignored */
    CHECK_EQ_U64(tcp_sack_update(&fake.st, p, &o), 1);
    CHECK_EQ_U64(tcp_sacked_bytes(&fake.st, p), 1000);
    CHECK_EQ_U64(tcp_sack_lost_boundary(&fake.st, p), 1000); /* one block: nothing lost */
    CHECK_EQ_U64(tcp_pipe(&fake.st, p), 9000);
    o.sack_count = 2;
    o.sack[0] = (struct tern_tcp_sack_block){5000, 6000};
    o.sack[1] = (struct tern_tcp_sack_block){7000, 8500};
    CHECK_EQ_U64(tcp_sack_update(&fake.st, p, &o), 2);
    /* IsLost: 3 blocks above 1000..3000 -> lost; above 4000..5000: 2 blocks, 2500 bytes > 2000 ->
     * lost */
    CHECK_EQ_U64(tcp_sack_lost_boundary(&fake.st, p), 5000);
    p->lost_to = 5000;
    /* SetPipe: unSACKed and not lost: 6000-7000 and 8500-11000 = 3500 */
    CHECK_EQ_U64(tcp_pipe(&fake.st, p), 3500);
    uint32_t s, l;
    CHECK(tcp_next_rexmit(&fake.st, p, &s, &l));
    CHECK_EQ_U64(s, 1000);
    CHECK_EQ_U64(l, 1000);
    p->high_rxt = 3000; /* two segments retransmitted: they count again */
    CHECK_EQ_U64(tcp_pipe(&fake.st, p), 3500 + 2000);
    CHECK(tcp_next_rexmit(&fake.st, p, &s, &l));
    CHECK_EQ_U64(s, 4000); /* skips the SACKed 3000-4000 */
    CHECK_EQ_U64(l, 1000);
    p->high_rxt = 5000;
    CHECK(!tcp_next_rexmit(&fake.st, p, &s, &l)); /* nothing lost left */
}

static void test_newreno_cc(void) {
    tcp_pcb *p = fake_pcb();
    p->cc_id = TERN_TCP_CC_NEWRENO;
    p->iw = 10;
    tcp_cc_init(p);
    CHECK_EQ_U64(p->cwnd, 10000);
    tcp_cc_on_ack(p, 3000, 0); /* slow start: + min(N, SMSS) */
    CHECK_EQ_U64(p->cwnd, 11000);
    p->ssthresh = 11000;
    tcp_cc_on_ack(p, 5000, 0); /* congestion avoidance: byte counting */
    CHECK_EQ_U64(p->cwnd, 11000);
    tcp_cc_on_ack(p, 6000, 0);
    CHECK_EQ_U64(p->cwnd, 12000);
    tcp_cc_on_loss(p, 0, false); /* FlightSize 10000 -> 5000 */
    CHECK_EQ_U64(p->ssthresh, 5000);
    tcp_cc_on_loss(p, 0, true);
    CHECK_EQ_U64(p->cwnd, 1000);
    CHECK_EQ_U64(tcp_cc_initial_window(10, 1460), 14600);
    CHECK_EQ_U64(tcp_cc_initial_window(10, 536), 5360);
    CHECK_EQ_U64(tcp_cc_initial_window(10, 8960), 17920); /* max(2*MSS, 14600) */
}

/* A cwnd-limited sender: the flight fills cwnd (RFC 9438 §5.8 grows cwnd only then). */
static void cubic_ack(tcp_pcb *p, uint32_t acked, uint64_t now) {
    p->snd_nxt = p->snd_una + p->cwnd;
    tcp_cc_on_ack(p, acked, now);
}

static void test_cubic_cc(void) {
    CHECK_EQ_U64(tcp_cbrt_u64(27), 3);
    CHECK_EQ_U64(tcp_cbrt_u64(26), 2);
    CHECK_EQ_U64(tcp_cbrt_u64(1000000000000ull), 10000);
    tcp_pcb *p = fake_pcb();
    p->cc_id = TERN_TCP_CC_CUBIC;
    p->iw = 10;
    tcp_cc_init(p);
    p->cwnd = 100000; /* 100 segments */
    p->rtt.srtt = 100 * MS;
    tcp_cc_on_loss(p, 1 * SEC, false);
    CHECK_EQ_U64(p->ssthresh, 70000); /* beta 0.7 */
    CHECK_EQ_U64(p->cubic.w_max, 100000);
    p->cwnd = p->ssthresh;
    /* application limited (nothing in flight): no growth, no epoch (RFC 9438 §5.8) */
    p->snd_nxt = p->snd_una;
    tcp_cc_on_ack(p, 1000, 2 * SEC);
    CHECK_EQ_U64(p->cwnd, 70000);
    CHECK_EQ_U64(p->cubic.epoch, 0);
    /* K = cbrt(W_max * (1 - beta) / C) = cbrt(30 / 0.4) = 4.217 s */
    cubic_ack(p, 1000, 2 * SEC);
    CHECK_EQ_U64(p->cubic.k_ms, 4217);
    uint32_t w = p->cwnd;
    for (int i = 0; i < 70; i++)
        cubic_ack(p, 1000, 2 * SEC + (uint64_t)i * MS);
    CHECK(p->cwnd > w); /* concave growth towards W_max */
    CHECK(p->cwnd < 100000);
    /* far past K: above W_max (convex region) */
    for (int i = 0; i < 2000; i++)
        cubic_ack(p, 1000, 12 * SEC);
    CHECK(p->cwnd > 100000);
}

int main(void) {
    RUN(test_seq);
    RUN(test_rtt);
    RUN(test_ranges);
    RUN(test_scoreboard);
    RUN(test_newreno_cc);
    RUN(test_cubic_cc);
    return check_summary();
}

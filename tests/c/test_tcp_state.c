/*
 * TCP state machine at segment level (RFC 9293 §3.10.7), white box: a
 * scripted peer sends crafted segments to one stack and checks every segment
 * that comes back, at exact virtual times.
 */
#include "tcp_harness.h"

#define PPORT 40000
#define HPORT 80
#define PISS 1000u

/* A listener on HPORT and a completed passive open. Returns the accepted socket. */
static tern_sock passive_open(harness *h, tern_sock *listener, uint32_t *hiss, bool opts) {
    CHECK(tern_tcp_open(h->st, listener) == TERN_OK);
    CHECK(tern_tcp_bind(h->st, *listener, NULL, HPORT) == TERN_OK);
    CHECK(tern_tcp_listen(h->st, *listener, 4) == TERN_OK);
    struct tern_tcp_repr syn = h_mk(PPORT, HPORT, PISS, 0, TERN_TCP_SYN, 65535);
    if (opts) {
        syn.opt.has_mss = true;
        syn.opt.mss = 1460;
    }
    h_send(h, &syn);
    h_seg s;
    CHECK(h_next(h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_SYN | TERN_TCP_ACK);
    CHECK_EQ_U64(s.tcp.ack, PISS + 1);
    CHECK(s.tcp.opt.has_mss);
    *hiss = s.tcp.seq;
    struct tern_tcp_repr ack = h_mk(PPORT, HPORT, PISS + 1, *hiss + 1, TERN_TCP_ACK, 65535);
    h_send(h, &ack);
    CHECK(!h_next(h, &s));
    tern_sock c = 0;
    CHECK(tern_tcp_accept(h->st, *listener, &c) == TERN_OK);
    CHECK_EQ_U64(h_info(h, c).state, TERN_TCP_ESTABLISHED);
    return c;
}

static void test_passive_open_and_data(void) {
    harness h;
    h_init(&h);
    tern_sock l, c;
    uint32_t hiss;
    c = passive_open(&h, &l, &hiss, true);
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.snd_mss, 1460);
    CHECK(!i.sack_ok && !i.ts_ok);
    CHECK_EQ_U64(i.rcv_wscale, 0); /* the peer did not offer scaling */
    /* data from the peer: delayed ACK */
    struct tern_tcp_repr d =
        h_mk(PPORT, HPORT, PISS + 1, hiss + 1, TERN_TCP_ACK | TERN_TCP_PSH, 65535);
    d.payload = (const uint8_t *)"hello";
    d.payload_len = 5;
    uint64_t t0 = h.now;
    h_send(&h, &d);
    h_seg s;
    CHECK(!h_next(&h, &s));
    CHECK_EQ_U64(tern_stack_poll_at(h.st), t0 + 200 * MS); /* delayed ACK timer */
    h_run_until(&h, t0 + 200 * MS);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.time, t0 + 200 * MS);
    CHECK_EQ_U64(s.tcp.ack, PISS + 6);
    uint8_t buf[16];
    size_t got;
    CHECK(tern_tcp_recv(h.st, c, buf, sizeof buf, &got) == TERN_OK);
    CHECK_EQ_U64(got, 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK(tern_tcp_recv(h.st, c, buf, sizeof buf, &got) == TERN_ERR_WOULD_BLOCK);
    /* data from us */
    size_t sent;
    CHECK(tern_tcp_send(h.st, c, (const uint8_t *)"world!", 6, &sent) == TERN_OK);
    CHECK_EQ_U64(sent, 6);
    h_poll(&h);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.seq, hiss + 1);
    CHECK_EQ_U64(s.tcp.payload_len, 6);
    CHECK(memcmp(s.payload, "world!", 6) == 0);
    CHECK(s.tcp.flags & TERN_TCP_PSH);
    /* two segments received: an immediate ACK on the second */
    d.seq = PISS + 6;
    d.ack = hiss + 7;
    h_send(&h, &d);
    CHECK(!h_next(&h, &s));
    d.seq = PISS + 11;
    h_send(&h, &d);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.ack, PISS + 16);
    CHECK_EQ_U64(s.time, h.now);
    h_free(&h);
}

static void test_active_open(void) {
    harness h;
    h_init(&h);
    tern_sock c;
    CHECK(tern_tcp_open(h.st, &c) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(h.st, c, &dst, 80) == TERN_OK);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_SYN_SENT);
    h_poll(&h);
    h_seg s;
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_SYN);
    CHECK(s.tcp.opt.has_mss && s.tcp.opt.mss == 1460);
    CHECK(s.tcp.opt.sack_permitted);
    CHECK(s.tcp.opt.has_timestamps && s.tcp.opt.ts_ecr == 0);
    CHECK(s.tcp.opt.has_wscale && s.tcp.opt.wscale == 1); /* 65536-byte buffer */
    CHECK(s.tcp.src_port >= 49152);
    uint32_t iss = s.tcp.seq;
    uint16_t lport = s.tcp.src_port;
    /* SYN-ACK with every option */
    struct tern_tcp_repr sa = h_mk(80, lport, 5000, iss + 1, TERN_TCP_SYN | TERN_TCP_ACK, 20000);
    sa.opt.has_mss = true;
    sa.opt.mss = 1000;
    sa.opt.has_wscale = true;
    sa.opt.wscale = 3;
    sa.opt.sack_permitted = true;
    sa.opt.has_timestamps = true;
    sa.opt.ts_val = 777;
    sa.opt.ts_ecr = s.tcp.opt.ts_val;
    h.now += 10 * MS;
    h_send(&h, &sa);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_ACK);
    CHECK_EQ_U64(s.tcp.seq, iss + 1);
    CHECK_EQ_U64(s.tcp.ack, 5001);
    CHECK(s.tcp.opt.has_timestamps && s.tcp.opt.ts_ecr == 777);
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.state, TERN_TCP_ESTABLISHED);
    CHECK_EQ_U64(i.snd_mss, 1000 - 12);
    CHECK_EQ_U64(i.snd_wnd, 20000); /* SYN window never scaled */
    CHECK_EQ_U64(i.snd_wscale, 3);
    CHECK(i.sack_ok && i.ts_ok);
    /* RFC 6298 (2.2): first sample 10 ms: SRTT 10 ms, RTTVAR 5 ms, RTO max(1 s, 30 ms) */
    CHECK_EQ_U64(i.srtt_ns, 10 * MS);
    CHECK_EQ_U64(i.rttvar_ns, 5 * MS);
    CHECK_EQ_U64(i.rto_ns, 1 * SEC);
    /* RFC 6928: IW = min(10*988, max(2*988, 14600)) = 9880 */
    CHECK_EQ_U64(i.cwnd, 9880);
    h_free(&h);
}

/* An established active connection without options: peer ISN 5000, window w. */
static tern_sock active_open(harness *h, uint32_t *iss, uint16_t *lport, uint16_t w) {
    tern_sock c;
    CHECK(tern_tcp_open(h->st, &c) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, c, TERN_TCP_OPT_SACK, 0) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, c, TERN_TCP_OPT_TIMESTAMPS, 0) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, c, TERN_TCP_OPT_WINDOW_SCALING, 0) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(h->st, c, &dst, 80) == TERN_OK);
    h_poll(h);
    h_seg s;
    CHECK(h_next(h, &s));
    *iss = s.tcp.seq;
    *lport = s.tcp.src_port;
    struct tern_tcp_repr sa = h_mk(80, *lport, 5000, *iss + 1, TERN_TCP_SYN | TERN_TCP_ACK, w);
    sa.opt.has_mss = true;
    sa.opt.mss = 1000;
    h->now += 10 * MS;
    h_send(h, &sa);
    CHECK(h_next(h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_ACK);
    CHECK_EQ_U64(h_info(h, c).state, TERN_TCP_ESTABLISHED);
    return c;
}

/* RFC 9293 §3.8.3 MUST-23: "R2 for a SYN segment MUST be set large enough to
 * provide retransmission of the segment for at least 3 minutes." The default
 * R2 follows the RTO settings: with a 10 s maximum RTO the SYN goes at 1, 3,
 * 7, 15, 25, 35 ... 185 s (21 retransmissions, the fewest reaching 180 s). */
static void test_syn_r2_default_follows_the_rto_settings(void) {
    tern_stack_config cfg;
    h_cfg_default(&cfg);
    cfg.tcp.rto_max_ns = 10 * SEC;
    harness h;
    h_init_cfg(&h, &cfg);
    tern_sock c;
    CHECK(tern_tcp_open(h.st, &c) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(h.st, c, &dst, 80) == TERN_OK);
    uint64_t t0 = h.now;
    h_poll(&h);
    h_seg s;
    CHECK(h_next(&h, &s));
    uint64_t last = s.time, prev = 0;
    int n = 0;
    h_run_until(&h, t0 + 400 * SEC);
    while (h_next(&h, &s)) {
        CHECK_EQ_U64(s.tcp.flags, TERN_TCP_SYN);
        prev = last;
        last = s.time;
        n++;
    }
    CHECK_EQ_I64(n, 21);
    CHECK(last - t0 >= 180 * SEC);
    CHECK(prev - t0 < 180 * SEC);
    CHECK_EQ_U64(last - t0, 185 * SEC);
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.state, TERN_TCP_CLOSED);
    CHECK_EQ_I64(i.error, TERN_ERR_TIMED_OUT);
    h_free(&h);
}

static void test_syn_ladder(void) {
    harness h;
    h_init(&h);
    tern_sock c;
    CHECK(tern_tcp_open(h.st, &c) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(h.st, c, &dst, 80) == TERN_OK);
    uint64_t t0 = h.now;
    h_poll(&h);
    h_seg s;
    CHECK(h_next(&h, &s));
    uint32_t iss = s.tcp.seq;
    /* RFC 6298 (2.1), (5.5): 1 s, then doubling: 1, 3, 7, 15, 31, 63; the next
     * RTOs would be 64 s and more but (2.5) caps them at 60 s: 123, 183 (RFC
     * 9293 MUST-23: at least 3 minutes of SYN retransmissions), fail at 243 s */
    uint64_t at[] = {1, 3, 7, 15, 31, 63, 123, 183};
    for (int i = 0; i < 8; i++) {
        h_run_until(&h, t0 + at[i] * SEC);
        CHECK(h_next(&h, &s));
        CHECK_EQ_U64(s.time, t0 + at[i] * SEC);
        CHECK_EQ_U64(s.tcp.flags, TERN_TCP_SYN);
        CHECK_EQ_U64(s.tcp.seq, iss);
    }
    h_run_until(&h, t0 + 243 * SEC - 1);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_SYN_SENT);
    h_run_until(&h, t0 + 243 * SEC);
    CHECK(!h_next(&h, &s));
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.state, TERN_TCP_CLOSED);
    CHECK_EQ_I64(i.error, TERN_ERR_TIMED_OUT);
    uint8_t b[4];
    size_t got;
    CHECK_EQ_I64(tern_tcp_recv(h.st, c, b, 4, &got), TERN_ERR_TIMED_OUT);
    CHECK(tern_tcp_close(h.st, c) == TERN_OK);
    CHECK_EQ_I64(tern_tcp_get_info(h.st, c, &i), TERN_ERR_CLOSED); /* stale handle */
    h_free(&h);
}

static void test_syn_timeout_then_rto_3s(void) {
    harness h;
    h_init(&h);
    tern_sock c;
    CHECK(tern_tcp_open(h.st, &c) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(h.st, c, &dst, 80) == TERN_OK);
    uint64_t t0 = h.now;
    h_poll(&h);
    h_seg s;
    CHECK(h_next(&h, &s));
    h_run_until(&h, t0 + 1 * SEC);
    CHECK(h_next(&h, &s));
    struct tern_tcp_repr sa =
        h_mk(80, s.tcp.src_port, 5000, s.tcp.seq + 1, TERN_TCP_SYN | TERN_TCP_ACK, 8000);
    h.now += 50 * MS;
    h_send(&h, &sa);
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.state, TERN_TCP_ESTABLISHED);
    CHECK_EQ_U64(i.rto_ns, 3 * SEC); /* RFC 6298 (5.7): no sample (Karn), SYN timed out */
    CHECK_EQ_U64(i.srtt_ns, 0);
    CHECK_EQ_U64(i.cwnd, 536); /* RFC 6928 / 5681: lost SYN, IW = 1 segment (no MSS: 536) */
    h_free(&h);
}

static void test_data_rto_and_cwnd(void) {
    harness h;
    h_init(&h);
    uint32_t iss;
    uint16_t lport;
    tern_sock c = active_open(&h, &iss, &lport, 65535);
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.cwnd, 10000); /* IW10 with MSS 1000 */
    static uint8_t data[20000];
    memset(data, 7, sizeof data);
    size_t sent;
    CHECK(tern_tcp_send(h.st, c, data, sizeof data, &sent) == TERN_OK);
    uint64_t t0 = h.now;
    h_poll(&h);
    h_seg s;
    int n = 0;
    while (h_next(&h, &s)) {
        CHECK_EQ_U64(s.tcp.seq, iss + 1 + (uint32_t)n * 1000);
        CHECK_EQ_U64(s.tcp.payload_len, 1000);
        n++;
    }
    CHECK_EQ_U64(n, 10); /* the initial window */
    /* no ACK: RTO 1 s (minimum; SRTT 10 ms) */
    h_run_until(&h, t0 + 1 * SEC);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.time, t0 + 1 * SEC);
    CHECK_EQ_U64(s.tcp.seq, iss + 1);
    CHECK(!h_next(&h, &s));
    i = h_info(&h, c);
    CHECK_EQ_U64(i.cwnd, 1000);      /* RFC 5681 §3.1: LW = 1 SMSS */
    CHECK_EQ_U64(i.ssthresh, 5000);  /* max(FlightSize/2, 2 SMSS) */
    CHECK_EQ_U64(i.rto_ns, 2 * SEC); /* backed off */
    CHECK_EQ_U64(i.rto_timeouts, 1);
    h_run_until(&h, t0 + 3 * SEC);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.time, t0 + 3 * SEC);
    CHECK_EQ_U64(s.tcp.seq, iss + 1);
    CHECK_EQ_U64(h_info(&h, c).ssthresh, 5000); /* held on the second timeout */
    /* an ACK for the first segment: slow start from 1 SMSS, next two go out */
    h.now += 10 * MS;
    struct tern_tcp_repr a = h_mk(80, lport, 5001, iss + 1001, TERN_TCP_ACK, 65535);
    h_send(&h, &a);
    i = h_info(&h, c);
    CHECK_EQ_U64(i.cwnd, 2000);
    CHECK_EQ_U64(i.rto_ns, 4 * SEC); /* Karn: no sample from a retransmission; backoff kept */
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.seq, iss + 1001);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.seq, iss + 2001);
    CHECK(!h_next(&h, &s));
    h_free(&h);
}

static void test_fast_retransmit(void) {
    harness h;
    h_init(&h);
    uint32_t iss;
    uint16_t lport;
    tern_sock c = active_open(&h, &iss, &lport, 65535);
    static uint8_t data[30000];
    size_t sent;
    CHECK(tern_tcp_send(h.st, c, data, sizeof data, &sent) == TERN_OK);
    h_poll(&h);
    h_seg s;
    while (h_next(&h, &s)) {
    }
    /* segment 1 lost: the peer ACKs nothing new, three times */
    struct tern_tcp_repr a = h_mk(80, lport, 5001, iss + 1, TERN_TCP_ACK, 65535);
    h.now += 10 * MS;
    h_send(&h, &a);
    /* RFC 3042 limited transmit: one new segment per dup ACK for the first two */
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.seq, iss + 1 + 10000);
    h_send(&h, &a);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.seq, iss + 1 + 11000);
    CHECK(!h_next(&h, &s));
    h_send(&h, &a);
    CHECK(h_next(&h, &s)); /* fast retransmit */
    CHECK_EQ_U64(s.tcp.seq, iss + 1);
    tern_tcp_info i = h_info(&h, c);
    /* RFC 5681 §3.2 step 2: FlightSize 12000 less the 2000 of limited transmit, / 2 */
    CHECK_EQ_U64(i.ssthresh, 5000);
    CHECK_EQ_U64(i.cwnd, 5000 + 3 * 1000); /* RFC 6582 step 3 */
    CHECK_EQ_U64(i.fast_retransmits, 1);
    CHECK_EQ_U64(i.dup_acks_in, 3);
    /* more dup ACKs inflate cwnd; new data once cwnd > flight (12000) */
    for (int k = 0; k < 4; k++)
        h_send(&h, &a);
    CHECK_EQ_U64(h_info(&h, c).cwnd, 12000);
    CHECK(!h_next(&h, &s));
    h_send(&h, &a);
    CHECK_EQ_U64(h_info(&h, c).cwnd, 13000);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.seq, iss + 1 + 12000);
    /* partial ACK: next hole retransmitted (RFC 6582 step 5) */
    a.ack = iss + 1 + 3000;
    h_send(&h, &a);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.seq, iss + 1 + 3000);
    CHECK_EQ_U64(h_info(&h, c).cwnd, 13000 - 3000 + 1000);
    /* full ACK: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS) */
    a.ack = iss + 1 + 13000;
    h_send(&h, &a);
    i = h_info(&h, c);
    CHECK_EQ_U64(i.cwnd, 2000); /* FlightSize 0 now */
    h_free(&h);
}

static void test_rst_and_challenge(void) {
    harness h;
    h_init(&h);
    uint32_t iss;
    uint16_t lport;
    tern_sock c = active_open(&h, &iss, &lport, 65535);
    h_seg s;
    /* RST outside the window: dropped silently (RFC 5961 §3.2) */
    struct tern_tcp_repr r = h_mk(80, lport, 5001 + 100000, 0, TERN_TCP_RST, 0);
    h_send(&h, &r);
    CHECK(!h_next(&h, &s));
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_ESTABLISHED);
    /* RST in the window, not at RCV.NXT: challenge ACK */
    r.seq = 5001 + 10;
    h_send(&h, &r);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_ACK);
    CHECK_EQ_U64(s.tcp.seq, iss + 1);
    CHECK_EQ_U64(s.tcp.ack, 5001);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_ESTABLISHED);
    /* SYN in ESTABLISHED: challenge ACK (RFC 5961 §4.2), throttled at 10/s */
    struct tern_tcp_repr syn = h_mk(80, lport, 7777, 0, TERN_TCP_SYN, 1000);
    int acks = 0;
    for (int k = 0; k < 15; k++) {
        h_send(&h, &syn);
        while (h_next(&h, &s))
            acks++;
    }
    CHECK_EQ_U64(acks, 9); /* one of the 10 went to the RST above */
    h.now += 1 * SEC;
    h_send(&h, &syn);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(h_info(&h, c).challenge_acks, 11);
    /* ACK for data never sent: challenge ACK, dropped (RFC 5961 §5.2) */
    struct tern_tcp_repr a = h_mk(80, lport, 5001, iss + 5000, TERN_TCP_ACK, 1000);
    h_send(&h, &a);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(h_info(&h, c).snd_una, iss + 1);
    /* RST at RCV.NXT: connection reset */
    r.seq = 5001;
    h_send(&h, &r);
    CHECK(!h_next(&h, &s));
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.state, TERN_TCP_CLOSED);
    CHECK_EQ_I64(i.error, TERN_ERR_CONN_RESET);
    size_t sent;
    CHECK_EQ_I64(tern_tcp_send(h.st, c, (const uint8_t *)"x", 1, &sent), TERN_ERR_CONN_RESET);
    h_free(&h);
}

static void test_closed_port_rst(void) {
    harness h;
    h_init(&h);
    h_seg s;
    struct tern_tcp_repr syn = h_mk(4000, 9, 100, 0, TERN_TCP_SYN, 1000);
    syn.payload = (const uint8_t *)"abc";
    syn.payload_len = 3;
    h_send(&h, &syn);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_RST | TERN_TCP_ACK);
    CHECK_EQ_U64(s.tcp.seq, 0);
    CHECK_EQ_U64(s.tcp.ack, 104); /* SEG.SEQ + SEG.LEN (SYN + 3) */
    struct tern_tcp_repr a = h_mk(4000, 9, 100, 12345, TERN_TCP_ACK, 1000);
    h_send(&h, &a);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_RST);
    CHECK_EQ_U64(s.tcp.seq, 12345);
    struct tern_tcp_repr r = h_mk(4000, 9, 100, 0, TERN_TCP_RST, 0);
    h_send(&h, &r);
    CHECK(!h_next(&h, &s)); /* never a RST for a RST */
    /* a listener answers a bare ACK with a RST too */
    tern_sock l;
    CHECK(tern_tcp_open(h.st, &l) == TERN_OK);
    CHECK(tern_tcp_bind(h.st, l, NULL, 9) == TERN_OK);
    CHECK(tern_tcp_listen(h.st, l, 1) == TERN_OK);
    h_send(&h, &a);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_RST);
    CHECK_EQ_U64(s.tcp.seq, 12345);
    h_free(&h);
}

static void test_active_close_time_wait(void) {
    harness h;
    h_init(&h);
    uint32_t iss;
    uint16_t lport;
    tern_sock c = active_open(&h, &iss, &lport, 65535);
    h_seg s;
    CHECK(tern_tcp_shutdown(h.st, c, 1) == TERN_OK);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_FIN_WAIT_1);
    h_poll(&h);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_FIN | TERN_TCP_ACK);
    CHECK_EQ_U64(s.tcp.seq, iss + 1);
    struct tern_tcp_repr a = h_mk(80, lport, 5001, iss + 2, TERN_TCP_ACK, 65535);
    h_send(&h, &a);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_FIN_WAIT_2);
    /* half-close: the peer still sends data */
    struct tern_tcp_repr d = h_mk(80, lport, 5001, iss + 2, TERN_TCP_ACK | TERN_TCP_FIN, 65535);
    d.payload = (const uint8_t *)"bye";
    d.payload_len = 3;
    uint64_t t = h.now;
    h_send(&h, &d);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.ack, 5001 + 4);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_TIME_WAIT);
    uint8_t b[8];
    size_t got;
    CHECK(tern_tcp_recv(h.st, c, b, 8, &got) == TERN_OK && got == 3);
    CHECK(tern_tcp_recv(h.st, c, b, 8, &got) == TERN_OK && got == 0); /* end of stream */
    /* a retransmitted FIN is ACKed and restarts the 2 MSL timer */
    h.now = t + 10 * SEC;
    d.payload_len = 0;
    d.seq = 5004;
    h_send(&h, &d);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.ack, 5005);
    /* 2 x MSL, MSL 2 minutes (RFC 9293 §4: "Arbitrarily defined to be 2 minutes") */
    h_run_until(&h, t + 10 * SEC + 240 * SEC - 1);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_TIME_WAIT);
    h_run_until(&h, t + 10 * SEC + 240 * SEC);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_CLOSED);
    CHECK_EQ_I64(h_info(&h, c).error, TERN_OK);
    h_free(&h);
}

static void test_passive_close(void) {
    harness h;
    h_init(&h);
    uint32_t iss;
    uint16_t lport;
    tern_sock c = active_open(&h, &iss, &lport, 65535);
    h_seg s;
    struct tern_tcp_repr f = h_mk(80, lport, 5001, iss + 1, TERN_TCP_ACK | TERN_TCP_FIN, 65535);
    h_send(&h, &f);
    CHECK(h_next(&h, &s)); /* FIN acknowledged at once */
    CHECK_EQ_U64(s.tcp.ack, 5002);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_CLOSE_WAIT);
    size_t got;
    uint8_t b[4];
    CHECK(tern_tcp_recv(h.st, c, b, 4, &got) == TERN_OK && got == 0);
    CHECK(tern_tcp_send(h.st, c, (const uint8_t *)"last", 4, &got) == TERN_OK);
    CHECK(tern_tcp_shutdown(h.st, c, 2) == TERN_OK);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_LAST_ACK);
    h_poll(&h);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_ACK | TERN_TCP_PSH | TERN_TCP_FIN);
    CHECK_EQ_U64(s.tcp.payload_len, 4);
    struct tern_tcp_repr a = h_mk(80, lport, 5002, iss + 6, TERN_TCP_ACK, 65535);
    h_send(&h, &a);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_CLOSED);
    h_free(&h);
}

static void test_simultaneous_close(void) {
    harness h;
    h_init(&h);
    uint32_t iss;
    uint16_t lport;
    tern_sock c = active_open(&h, &iss, &lport, 65535);
    h_seg s;
    CHECK(tern_tcp_shutdown(h.st, c, 1) == TERN_OK);
    h_poll(&h);
    CHECK(h_next(&h, &s));
    struct tern_tcp_repr f = h_mk(80, lport, 5001, iss + 1, TERN_TCP_ACK | TERN_TCP_FIN, 65535);
    h_send(&h, &f); /* crosses our FIN */
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_CLOSING);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.ack, 5002);
    struct tern_tcp_repr a = h_mk(80, lport, 5002, iss + 2, TERN_TCP_ACK, 65535);
    h_send(&h, &a);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_TIME_WAIT);
    h_free(&h);
}

static void test_simultaneous_open(void) {
    harness h;
    h_init(&h);
    tern_sock c;
    CHECK(tern_tcp_open(h.st, &c) == TERN_OK);
    CHECK(tern_tcp_bind(h.st, c, NULL, 7000) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(h.st, c, &dst, 7001) == TERN_OK);
    h_poll(&h);
    h_seg s;
    CHECK(h_next(&h, &s));
    uint32_t iss = s.tcp.seq;
    struct tern_tcp_repr syn = h_mk(7001, 7000, 9000, 0, TERN_TCP_SYN, 8000);
    h_send(&h, &syn);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_SYN_RECEIVED);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_SYN | TERN_TCP_ACK);
    CHECK_EQ_U64(s.tcp.seq, iss);
    CHECK_EQ_U64(s.tcp.ack, 9001);
    struct tern_tcp_repr sa = h_mk(7001, 7000, 9000, iss + 1, TERN_TCP_SYN | TERN_TCP_ACK, 8000);
    h_send(&h, &sa); /* the peer's SYN-ACK: seq 9000 is old now: answered with an ACK */
    struct tern_tcp_repr a = h_mk(7001, 7000, 9001, iss + 1, TERN_TCP_ACK, 8000);
    h_send(&h, &a);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_ESTABLISHED);
    h_free(&h);
}

static void test_zero_window_probes(void) {
    harness h;
    h_init(&h);
    uint32_t iss;
    uint16_t lport;
    tern_sock c = active_open(&h, &iss, &lport, 0);
    size_t sent;
    CHECK(tern_tcp_send(h.st, c, (const uint8_t *)"0123456789", 10, &sent) == TERN_OK);
    uint64_t t0 = h.now;
    h_poll(&h);
    h_seg s;
    CHECK(!h_next(&h, &s)); /* zero window: nothing */
    /* RFC 9293 §3.8.6.1: probes of one octet, backing off: 1 s, 2 s, 4 s */
    uint64_t at[] = {1, 3, 7};
    struct tern_tcp_repr a = h_mk(80, lport, 5001, iss + 1, TERN_TCP_ACK, 0);
    for (int k = 0; k < 3; k++) {
        h_run_until(&h, t0 + at[k] * SEC);
        CHECK(h_next(&h, &s));
        CHECK_EQ_U64(s.time, t0 + at[k] * SEC);
        CHECK_EQ_U64(s.tcp.seq, iss + 1);
        CHECK_EQ_U64(s.tcp.payload_len, 1);
        h_send(&h, &a); /* still zero: the byte is not taken */
    }
    CHECK_EQ_U64(h_info(&h, c).zero_window_probes, 3);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_ESTABLISHED);
    /* the window opens: all ten bytes go */
    a.window = 1000;
    h_send(&h, &a);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.seq, iss + 1);
    CHECK_EQ_U64(s.tcp.payload_len, 10);
    h_free(&h);
}

static void test_keepalive(void) {
    harness h;
    h_init(&h);
    uint32_t iss;
    uint16_t lport;
    tern_sock c = active_open(&h, &iss, &lport, 65535);
    CHECK(tern_tcp_set_option(h.st, c, TERN_TCP_OPT_KEEPIDLE_NS, 10 * SEC) == TERN_OK);
    CHECK(tern_tcp_set_option(h.st, c, TERN_TCP_OPT_KEEPINTVL_NS, 2 * SEC) == TERN_OK);
    CHECK(tern_tcp_set_option(h.st, c, TERN_TCP_OPT_KEEPCNT, 3) == TERN_OK);
    CHECK(tern_tcp_set_option(h.st, c, TERN_TCP_OPT_KEEPALIVE, 1) == TERN_OK);
    uint64_t t0 = h.now; /* the last segment arrived now */
    h_poll(&h);
    h_seg s;
    /* RFC 1122 §4.2.3.6: <SEQ=SND.UNA-1>, no data, after the idle time */
    h_run_until(&h, t0 + 10 * SEC);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.time, t0 + 10 * SEC);
    CHECK_EQ_U64(s.tcp.seq, iss);
    CHECK_EQ_U64(s.tcp.payload_len, 0);
    /* answered: idle again from the answer */
    struct tern_tcp_repr a = h_mk(80, lport, 5001, iss + 1, TERN_TCP_ACK, 65535);
    h.now = t0 + 11 * SEC;
    h_send(&h, &a);
    h_run_until(&h, t0 + 21 * SEC);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.time, t0 + 21 * SEC);
    h_run_until(&h, t0 + 23 * SEC);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.time, t0 + 23 * SEC);
    h_run_until(&h, t0 + 25 * SEC);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.time, t0 + 25 * SEC);
    CHECK_EQ_U64(h_info(&h, c).state, TERN_TCP_ESTABLISHED);
    h_run_until(&h, t0 + 27 * SEC);
    CHECK(!h_next(&h, &s));
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.state, TERN_TCP_CLOSED);
    CHECK_EQ_I64(i.error, TERN_ERR_TIMED_OUT);
    CHECK_EQ_U64(i.keepalives_sent, 4);
    h_free(&h);
}

static void test_ooo_and_sack(void) {
    harness h;
    h_init(&h);
    tern_sock l;
    CHECK(tern_tcp_open(h.st, &l) == TERN_OK);
    CHECK(tern_tcp_bind(h.st, l, NULL, HPORT) == TERN_OK);
    CHECK(tern_tcp_listen(h.st, l, 4) == TERN_OK);
    struct tern_tcp_repr syn = h_mk(PPORT, HPORT, PISS, 0, TERN_TCP_SYN, 65535);
    syn.opt.sack_permitted = true;
    syn.opt.has_mss = true;
    syn.opt.mss = 1000;
    h_send(&h, &syn);
    h_seg s;
    CHECK(h_next(&h, &s));
    CHECK(s.tcp.opt.sack_permitted);
    CHECK(!s.tcp.opt.has_timestamps); /* not offered by the peer */
    uint32_t hiss = s.tcp.seq;
    struct tern_tcp_repr a = h_mk(PPORT, HPORT, PISS + 1, hiss + 1, TERN_TCP_ACK, 65535);
    h_send(&h, &a);
    tern_sock c;
    CHECK(tern_tcp_accept(h.st, l, &c) == TERN_OK);
    static uint8_t d[3000];
    for (int k = 0; k < 3000; k++)
        d[k] = (uint8_t)k;
    /* segments 2 and 3 first: immediate duplicate ACKs with SACK blocks */
    struct tern_tcp_repr seg = h_mk(PPORT, HPORT, PISS + 1 + 2000, hiss + 1, TERN_TCP_ACK, 65535);
    seg.payload = d + 2000;
    seg.payload_len = 1000;
    h_send(&h, &seg);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.ack, PISS + 1);
    CHECK_EQ_U64(s.tcp.opt.sack_count, 1);
    CHECK_EQ_U64(s.tcp.opt.sack[0].left, PISS + 2001);
    CHECK_EQ_U64(s.tcp.opt.sack[0].right, PISS + 3001);
    seg.seq = PISS + 1 + 1000 - 500; /* overlaps the hole's end... */
    seg.payload = d + 500;
    seg.payload_len = 300; /* ...a piece in the middle */
    h_send(&h, &seg);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.opt.sack_count, 2);
    CHECK_EQ_U64(s.tcp.opt.sack[0].left, PISS + 501); /* most recent first */
    CHECK_EQ_U64(s.tcp.opt.sack[1].left, PISS + 2001);
    /* the first segment fills everything up to 3000 but the 800..2000 gap */
    seg.seq = PISS + 1;
    seg.payload = d;
    seg.payload_len = 1000;
    h_send(&h, &seg);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.ack, PISS + 1001);
    seg.seq = PISS + 1001;
    seg.payload = d + 1000;
    seg.payload_len = 1000;
    h_send(&h, &seg);
    CHECK(h_next(&h, &s)); /* gap filled: immediate ACK of everything */
    CHECK_EQ_U64(s.tcp.ack, PISS + 3001);
    CHECK_EQ_U64(s.tcp.opt.sack_count, 0);
    uint8_t out[4000];
    size_t got;
    CHECK(tern_tcp_recv(h.st, c, out, sizeof out, &got) == TERN_OK);
    CHECK_EQ_U64(got, 3000);
    CHECK(memcmp(out, d, 3000) == 0);
    h_free(&h);
}

static void test_paws_and_urgent(void) {
    harness h;
    h_init(&h);
    tern_sock l;
    CHECK(tern_tcp_open(h.st, &l) == TERN_OK);
    CHECK(tern_tcp_bind(h.st, l, NULL, HPORT) == TERN_OK);
    CHECK(tern_tcp_listen(h.st, l, 4) == TERN_OK);
    struct tern_tcp_repr syn = h_mk(PPORT, HPORT, PISS, 0, TERN_TCP_SYN, 65535);
    syn.opt.has_timestamps = true;
    syn.opt.ts_val = 1000;
    h_send(&h, &syn);
    h_seg s;
    CHECK(h_next(&h, &s));
    CHECK(s.tcp.opt.has_timestamps && s.tcp.opt.ts_ecr == 1000);
    uint32_t hiss = s.tcp.seq;
    struct tern_tcp_repr a = h_mk(PPORT, HPORT, PISS + 1, hiss + 1, TERN_TCP_ACK, 65535);
    a.opt.has_timestamps = true;
    a.opt.ts_val = 1001;
    h_send(&h, &a);
    tern_sock c;
    CHECK(tern_tcp_accept(h.st, l, &c) == TERN_OK);
    CHECK(h_info(&h, c).ts_ok);
    /* an old timestamp: PAWS drops the segment and ACKs (RFC 7323 §5.3) */
    struct tern_tcp_repr d = a;
    d.payload = (const uint8_t *)"old";
    d.payload_len = 3;
    d.opt.ts_val = 900;
    h_send(&h, &d);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.ack, PISS + 1);
    CHECK_EQ_U64(tern_tcp_readable(h.st, c), 0);
    /* without timestamps at all: silently dropped (RFC 7323 §3.2) */
    d.opt.has_timestamps = false;
    h_send(&h, &d);
    CHECK(!h_next(&h, &s));
    CHECK_EQ_U64(tern_tcp_readable(h.st, c), 0);
    /* URG with a pointer far past the data: ignored, the data delivered (RFC 6093) */
    d.opt.has_timestamps = true;
    d.opt.ts_val = 1002;
    d.flags |= TERN_TCP_URG;
    d.urgent = 60000;
    h_send(&h, &d);
    CHECK_EQ_U64(tern_tcp_readable(h.st, c), 3);
    h_free(&h);
}

static void test_backlog_full(void) {
    harness h;
    h_init(&h);
    tern_sock l;
    CHECK(tern_tcp_open(h.st, &l) == TERN_OK);
    CHECK(tern_tcp_bind(h.st, l, NULL, HPORT) == TERN_OK);
    CHECK(tern_tcp_listen(h.st, l, 1) == TERN_OK);
    h_seg s;
    struct tern_tcp_repr syn = h_mk(1111, HPORT, 100, 0, TERN_TCP_SYN, 65535);
    h_send(&h, &syn);
    CHECK(h_next(&h, &s));
    uint32_t hiss1 = s.tcp.seq;
    struct tern_tcp_repr syn2 = h_mk(2222, HPORT, 200, 0, TERN_TCP_SYN, 65535);
    h_send(&h, &syn2); /* SYN queue full (backlog 1): a SYN cookie, no state (RFC 4987 §3.6) */
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_SYN | TERN_TCP_ACK);
    CHECK_EQ_U64(s.tcp.ack, 201);
    struct tern_tcp_repr a = h_mk(1111, HPORT, 101, hiss1 + 1, TERN_TCP_ACK, 65535);
    h_send(&h, &a);
    CHECK_EQ_U64(tern_tcp_accept_pending(h.st, l), 1);
    /* accept queue full: the second handshake stays half-open */
    h_send(&h, &syn2);
    CHECK(h_next(&h, &s));
    uint32_t hiss2 = s.tcp.seq;
    struct tern_tcp_repr a2 = h_mk(2222, HPORT, 201, hiss2 + 1, TERN_TCP_ACK, 65535);
    h_send(&h, &a2);
    CHECK_EQ_U64(tern_tcp_accept_pending(h.st, l), 1);
    tern_sock c1, c2;
    CHECK(tern_tcp_accept(h.st, l, &c1) == TERN_OK);
    CHECK_EQ_U64(h_info(&h, c1).remote_port, 1111);
    h_send(&h, &a2); /* now there is room */
    CHECK(tern_tcp_accept(h.st, l, &c2) == TERN_OK);
    CHECK_EQ_U64(h_info(&h, c2).remote_port, 2222);
    CHECK_EQ_I64(tern_tcp_accept(h.st, l, &c2), TERN_ERR_WOULD_BLOCK);
    h_free(&h);
}

static void test_icmp_unreachable_in_syn_sent(void) {
    harness h;
    h_init(&h);
    tern_sock c;
    CHECK(tern_tcp_open(h.st, &c) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(h.st, c, &dst, 80) == TERN_OK);
    h_poll(&h);
    h_seg s;
    CHECK(h_next(&h, &s));
    /* the quoted datagram: our SYN's IP header and its first 8 TCP bytes */
    uint8_t quote[28];
    h_frame *f = &h.frames[h.next - 1];
    memcpy(quote, f->data + 14, 28);
    uint8_t icmp[8 + 28];
    memset(icmp, 0, sizeof icmp);
    icmp[0] = 3; /* destination unreachable */
    icmp[1] = 3; /* port */
    memcpy(icmp + 8, quote, 28);
    uint32_t sum = 0;
    for (size_t k = 0; k < sizeof icmp; k += 2)
        sum += (uint32_t)(icmp[k] << 8 | icmp[k + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    icmp[2] = (uint8_t)(~sum >> 8);
    icmp[3] = (uint8_t)~sum;
    static uint8_t buf[200];
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.protocol = 1;
    ip.src = h.peer;
    ip.dst = h.host;
    ip.payload = icmp;
    ip.payload_len = sizeof icmp;
    size_t w;
    CHECK(tern_ipv4_emit(&ip, buf, sizeof buf, &w) == TERN_OK);
    h_send_eth(&h, TERN_ETHERTYPE_IPV4, buf, w);
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.state, TERN_TCP_CLOSED);
    CHECK_EQ_I64(i.error, TERN_ERR_CONN_REFUSED);
    h_free(&h);
}

static void test_abort_and_close_with_unread(void) {
    harness h;
    h_init(&h);
    uint32_t iss;
    uint16_t lport;
    tern_sock c = active_open(&h, &iss, &lport, 65535);
    h_seg s;
    struct tern_tcp_repr d = h_mk(80, lport, 5001, iss + 1, TERN_TCP_ACK, 65535);
    d.payload = (const uint8_t *)"unread";
    d.payload_len = 6;
    h_send(&h, &d);
    CHECK(tern_tcp_close(h.st, c) == TERN_OK); /* unread data: RST (RFC 1122 §4.2.2.13) */
    h_poll(&h);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_RST);
    CHECK_EQ_U64(s.tcp.seq, iss + 1);
    tern_tcp_info i;
    CHECK_EQ_I64(tern_tcp_get_info(h.st, c, &i), TERN_ERR_CLOSED);
    /* the segment after that meets no connection */
    h_send(&h, &d);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_RST);
    h_free(&h);
}

int main(void) {
    RUN(test_passive_open_and_data);
    RUN(test_active_open);
    RUN(test_syn_ladder);
    RUN(test_syn_r2_default_follows_the_rto_settings);
    RUN(test_syn_timeout_then_rto_3s);
    RUN(test_data_rto_and_cwnd);
    RUN(test_fast_retransmit);
    RUN(test_rst_and_challenge);
    RUN(test_closed_port_rst);
    RUN(test_active_close_time_wait);
    RUN(test_passive_close);
    RUN(test_simultaneous_close);
    RUN(test_simultaneous_open);
    RUN(test_zero_window_probes);
    RUN(test_keepalive);
    RUN(test_ooo_and_sack);
    RUN(test_paws_and_urgent);
    RUN(test_backlog_full);
    RUN(test_icmp_unreachable_in_syn_sent);
    RUN(test_abort_and_close_with_unread);
    return check_summary();
}

/*
 * The congestion window at three moments the conformance suite found wrong,
 * white box at segment level (peer MSS 1000, no options):
 *   - after a passive open: the ACK of the SYN-ACK does not grow cwnd
 *     (RFC 5681 §3.1);
 *   - entering fast recovery after limited transmit: ssthresh leaves the
 *     limited-transmit data out of FlightSize (RFC 5681 §3.2 step 2,
 *     RFC 3042 §2);
 *   - after an idle period longer than the RTO: cwnd is back to the restart
 *     window min(IW, cwnd) (RFC 5681 §4.1).
 */
#include "tcp_harness.h"

#define PPORT 41000
#define HPORT 8080
#define PISS 7000u

static void no_options(harness *h, tern_sock s) {
    CHECK(tern_tcp_set_option(h->st, s, TERN_TCP_OPT_SACK, 0) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, s, TERN_TCP_OPT_TIMESTAMPS, 0) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, s, TERN_TCP_OPT_WINDOW_SCALING, 0) == TERN_OK);
}

/* A passive open from the scripted peer; *hiss is the host's ISS. */
static tern_sock accept_one(harness *h, uint32_t *hiss) {
    tern_sock l, c = 0;
    CHECK(tern_tcp_open(h->st, &l) == TERN_OK);
    no_options(h, l);
    CHECK(tern_tcp_bind(h->st, l, NULL, HPORT) == TERN_OK);
    CHECK(tern_tcp_listen(h->st, l, 4) == TERN_OK);
    struct tern_tcp_repr syn = h_mk(PPORT, HPORT, PISS, 0, TERN_TCP_SYN, 65535);
    syn.opt.has_mss = true;
    syn.opt.mss = 1000;
    h_send(h, &syn);
    h_seg s;
    CHECK(h_next(h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_SYN | TERN_TCP_ACK);
    *hiss = s.tcp.seq;
    h->now += 10 * MS;
    struct tern_tcp_repr ack = h_mk(PPORT, HPORT, PISS + 1, *hiss + 1, TERN_TCP_ACK, 65535);
    h_send(h, &ack);
    CHECK(tern_tcp_accept(h->st, l, &c) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, c, TERN_TCP_OPT_NODELAY, 1) == TERN_OK);
    return c;
}

/* The peer's ACK of everything up to `ack`. */
static void peer_ack(harness *h, uint32_t ack) {
    struct tern_tcp_repr a = h_mk(PPORT, HPORT, PISS + 1, ack, TERN_TCP_ACK, 65535);
    h_send(h, &a);
}

/* Data segments the host sent since the last look. */
static int drain(harness *h, uint32_t *last_end) {
    h_seg s;
    int n = 0;
    while (h_next(h, &s)) {
        if (s.tcp.payload_len > 0) {
            n++;
            *last_end = s.tcp.seq + (uint32_t)s.tcp.payload_len;
        }
    }
    return n;
}

static uint8_t data[64 * 1000];

static void test_passive_open_keeps_initial_window(void) {
    harness h;
    h_init(&h);
    uint32_t hiss;
    tern_sock c = accept_one(&h, &hiss);
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.state, TERN_TCP_ESTABLISHED);
    CHECK_EQ_U64(i.cwnd, 10 * 1000); /* IW10, not IW10 + 1 for the SYN's octet */
    CHECK_EQ_U64(i.snd_una, hiss + 1);
    /* the first data ACK then grows it by the bytes acknowledged only */
    size_t sent;
    CHECK(tern_tcp_send(h.st, c, data, 3000, &sent) == TERN_OK);
    h_poll(&h);
    uint32_t end = 0;
    CHECK_EQ_I64(drain(&h, &end), 3);
    h.now += 10 * MS;
    peer_ack(&h, hiss + 1 + 1000);
    CHECK_EQ_U64(h_info(&h, c).cwnd, 11 * 1000);
    h_free(&h);
}

static void test_ssthresh_without_limited_transmit(void) {
    harness h;
    h_init(&h);
    uint32_t hiss;
    tern_sock c = accept_one(&h, &hiss);
    size_t sent;
    CHECK(tern_tcp_send(h.st, c, data, 30 * 1000, &sent) == TERN_OK);
    h_poll(&h);
    uint32_t end = 0;
    CHECK_EQ_I64(drain(&h, &end), 10); /* FlightSize 10000 */
    h.now += 10 * MS;
    uint32_t hole = hiss + 1;
    peer_ack(&h, hole); /* dup 1: one limited-transmit segment */
    peer_ack(&h, hole); /* dup 2: another */
    CHECK_EQ_I64(drain(&h, &end), 2);
    CHECK_EQ_U64(h_info(&h, c).cwnd, 10 * 1000); /* RFC 3042: cwnd unchanged */
    peer_ack(&h, hole);                          /* dup 3: fast retransmit */
    h_seg s;
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.seq, hole);
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.fast_retransmits, 1);
    CHECK_EQ_U64(i.ssthresh, 5000);             /* (12000 - 2000) / 2, not 12000 / 2 */
    CHECK_EQ_U64(i.cwnd, 5000 + 3 * 1000);      /* RFC 6582 §3.2 step 3 */
    CHECK_EQ_U64(i.snd_nxt - i.snd_una, 12000); /* the segments are in flight all the same */
    h_free(&h);
}

static void test_ssthresh_flight_below_cwnd(void) {
    /* Limited transmit that stays within cwnd (the window was not full) is
     * ordinary data and counts. */
    harness h;
    h_init(&h);
    uint32_t hiss;
    tern_sock c = accept_one(&h, &hiss);
    size_t sent;
    CHECK(tern_tcp_send(h.st, c, data, 6 * 1000, &sent) == TERN_OK);
    h_poll(&h);
    uint32_t end = 0;
    CHECK_EQ_I64(drain(&h, &end), 6); /* 6 of a window of 10 */
    h.now += 10 * MS;
    uint32_t hole = hiss + 1;
    peer_ack(&h, hole);
    CHECK(tern_tcp_send(h.st, c, data, 2 * 1000, &sent) == TERN_OK);
    h_poll(&h);
    CHECK_EQ_I64(drain(&h, &end), 2); /* within cwnd: FlightSize 8000 */
    peer_ack(&h, hole);
    peer_ack(&h, hole);
    CHECK_EQ_U64(h_info(&h, c).fast_retransmits, 1);
    CHECK_EQ_U64(h_info(&h, c).ssthresh, 4000);
    h_free(&h);
}

static void test_restart_after_idle(void) {
    harness h;
    h_init(&h);
    uint32_t hiss;
    tern_sock c = accept_one(&h, &hiss);
    size_t sent;
    /* grow cwnd by slow start: 10 segments out, each ACKed */
    CHECK(tern_tcp_send(h.st, c, data, 10 * 1000, &sent) == TERN_OK);
    h_poll(&h);
    uint64_t last_data = h.now;
    uint32_t end = 0;
    CHECK_EQ_I64(drain(&h, &end), 10);
    h.now += 10 * MS;
    for (uint32_t k = 1; k <= 10; k++)
        peer_ack(&h, hiss + 1 + k * 1000);
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.cwnd, 20 * 1000);
    CHECK_EQ_U64(i.snd_una, i.snd_nxt);
    uint64_t rto = i.rto_ns;
    /* no data sent for exactly the RTO: not "exceeding" it, cwnd kept */
    h_run_until(&h, last_data + rto);
    CHECK(tern_tcp_send(h.st, c, data, 15 * 1000, &sent) == TERN_OK);
    h_poll(&h);
    last_data = h.now;
    CHECK_EQ_I64(drain(&h, &end), 15);
    CHECK_EQ_U64(h_info(&h, c).cwnd, 20 * 1000);
    h.now += 10 * MS;
    peer_ack(&h, end);
    i = h_info(&h, c);
    CHECK_EQ_U64(i.snd_una, i.snd_nxt);
    uint32_t grown = i.cwnd;
    CHECK(grown > 10 * 1000);
    /* idle for longer than the RTO: back to min(IW, cwnd) = 10 segments */
    h_run_until(&h, last_data + i.rto_ns + 1);
    CHECK(tern_tcp_send(h.st, c, data, 30 * 1000, &sent) == TERN_OK);
    h_poll(&h);
    CHECK_EQ_I64(drain(&h, &end), 10);
    i = h_info(&h, c);
    CHECK_EQ_U64(i.cwnd, 10 * 1000);
    CHECK(i.ssthresh > grown); /* ssthresh is not touched */
    h_free(&h);
}

int main(void) {
    RUN(test_passive_open_keeps_initial_window);
    RUN(test_ssthresh_without_limited_transmit);
    RUN(test_ssthresh_flight_below_cwnd);
    RUN(test_restart_after_idle);
    return check_summary();
}

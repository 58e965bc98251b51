/*
 * Tail loss probe (RFC 8985 §7), white box at segment level: a scripted peer
 * (MSS 1000, SACK, no timestamps or window scaling), the host's SRTT 10 ms
 * from the handshake, RTO 1 s (the minimum). Exact virtual times:
 *   - the PTO is 2 x SRTT after the last send; the probe retransmits the
 *     segment ending with the highest unSACKed octet when no new data may go
 *     (§7.3), then the RTO, not the PTO, is re-armed;
 *   - one probe per episode: the next needs ACK progress (here a SACK);
 *   - an ACK covering a retransmitted probe without a D-SACK is a loss the
 *     probe repaired: ssthresh and cwnd are reduced (§7.4);
 *   - with one segment in flight the PTO adds WCDelAckT (200 ms);
 *   - off (the default of a zeroed configuration; tern_stack_config_default
 *     turns it on), the same flight waits for the RTO.
 */
#include "tcp_harness.h"

#define PPORT 41000
#define HPORT 8080
#define PISS 7000u

static tern_sock accept_one(harness *h, uint32_t *hiss, bool tlp) {
    tern_sock l, c = 0;
    CHECK(tern_tcp_open(h->st, &l) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, l, TERN_TCP_OPT_TIMESTAMPS, 0) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, l, TERN_TCP_OPT_WINDOW_SCALING, 0) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, l, TERN_TCP_OPT_TAIL_LOSS_PROBE, tlp) == TERN_OK);
    /* the probe with RFC 6675 loss detection only: RACK (on by default)
     * would mark the flight lost from the probe's SACK (test_tcp_rack.c) */
    CHECK(tern_tcp_set_option(h->st, l, TERN_TCP_OPT_RACK, 0) == TERN_OK);
    CHECK(tern_tcp_bind(h->st, l, NULL, HPORT) == TERN_OK);
    CHECK(tern_tcp_listen(h->st, l, 4) == TERN_OK);
    struct tern_tcp_repr syn = h_mk(PPORT, HPORT, PISS, 0, TERN_TCP_SYN, 65535);
    syn.opt.has_mss = true;
    syn.opt.mss = 1000;
    syn.opt.sack_permitted = true;
    h_send(h, &syn);
    h_seg s;
    CHECK(h_next(h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_SYN | TERN_TCP_ACK);
    CHECK(s.tcp.opt.sack_permitted);
    *hiss = s.tcp.seq;
    h->now += 10 * MS; /* SRTT 10 ms */
    struct tern_tcp_repr ack = h_mk(PPORT, HPORT, PISS + 1, *hiss + 1, TERN_TCP_ACK, 65535);
    h_send(h, &ack);
    CHECK(tern_tcp_accept(h->st, l, &c) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, c, TERN_TCP_OPT_NODELAY, 1) == TERN_OK);
    CHECK_EQ_U64(h_info(h, c).srtt_ns, 10 * MS);
    return c;
}

/* The peer's ACK of `ack`, with one SACK block [l, r) unless l == r. */
static void peer_ack(harness *h, uint32_t ack, uint32_t l, uint32_t r) {
    h_send_ack_sack(h, PPORT, HPORT, PISS + 1, ack, l, r);
}

static uint8_t data[8000];

/* Queue n bytes and take the segments that go out at once. */
static int send_and_drain(harness *h, tern_sock c, size_t n) {
    size_t sent;
    CHECK(tern_tcp_send(h->st, c, data, n, &sent) == TERN_OK);
    h_poll(h);
    h_seg s;
    int k = 0;
    while (h_next(h, &s)) {
        k += s.tcp.payload_len > 0;
    }
    return k;
}

/* The probe: [seq, seq + n) again, as two segments of n / 2 and n - n / 2
 * octets, both at `at` (tcp_tlp.c, send_probe_halves), and nothing after. */
static void check_probe(harness *h, uint64_t at, uint32_t seq, uint32_t n) {
    h_seg s;
    CHECK(h_next(h, &s));
    CHECK_EQ_U64(s.time, at);
    CHECK_EQ_U64(s.tcp.seq, seq);
    CHECK_EQ_U64(s.tcp.payload_len, n / 2);
    CHECK(h_next(h, &s));
    CHECK_EQ_U64(s.time, at);
    CHECK_EQ_U64(s.tcp.seq, seq + n / 2);
    CHECK_EQ_U64(s.tcp.payload_len, n - n / 2);
    CHECK(!h_next(h, &s));
}

static void test_probe_retransmits_tail(void) {
    harness h;
    h_init(&h);
    uint32_t hiss;
    tern_sock c = accept_one(&h, &hiss, true);
    uint32_t una = hiss + 1;
    uint64_t t0 = h.now;
    CHECK_EQ_I64(send_and_drain(&h, c, 3000), 3); /* all ACKs lost */
    /* nothing before the PTO, 2 x SRTT = 20 ms */
    h_run_until(&h, t0 + 20 * MS - 1);
    CHECK_EQ_U64(h_pending(&h), 0);
    h_run_until(&h, t0 + 20 * MS);
    check_probe(&h, t0 + 20 * MS, una + 2000, 1000); /* the last segment (§7.3 (2)) */
    h_seg s;
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.tlp_probes, 1);
    CHECK_EQ_U64(i.total_retransmits, 2); /* one probe, two segments */
    CHECK_EQ_U64(i.rto_timeouts, 0);
    /* one probe per episode: then the RTO, re-armed at the probe (§7.3) */
    h_run_until(&h, t0 + 20 * MS + SEC - 1);
    CHECK_EQ_U64(h_pending(&h), 0);
    h_run_until(&h, t0 + 20 * MS + SEC);
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.time, t0 + 20 * MS + SEC);
    CHECK_EQ_U64(s.tcp.seq, una);
    CHECK_EQ_U64(h_info(&h, c).rto_timeouts, 1);
    h_free(&h);
}

static void test_sack_progress_allows_another_probe(void) {
    harness h;
    h_init(&h);
    uint32_t hiss;
    tern_sock c = accept_one(&h, &hiss, true);
    uint32_t una = hiss + 1;
    uint64_t t0 = h.now;
    CHECK_EQ_I64(send_and_drain(&h, c, 3000), 3);
    h_run_until(&h, t0 + 20 * MS);
    check_probe(&h, t0 + 20 * MS, una + 2000, 1000);
    h_seg s;
    /* 5 ms later the probe is SACKed: new information, a new episode; the
     * next probe 20 ms later repeats the highest unSACKed segment. */
    h.now = t0 + 25 * MS;
    peer_ack(&h, una, una + 2000, una + 3000);
    CHECK(!h_next(&h, &s)); /* one SACKed segment: no recovery yet (DupThresh) */
    h_run_until(&h, t0 + 45 * MS - 1);
    CHECK_EQ_U64(h_pending(&h), 0);
    h_run_until(&h, t0 + 45 * MS);
    check_probe(&h, t0 + 45 * MS, una + 1000, 1000);
    CHECK_EQ_U64(h_info(&h, c).tlp_probes, 2);
    h_free(&h);
}

static void test_repaired_loss_reduces_cwnd(void) {
    harness h;
    h_init(&h);
    uint32_t hiss;
    tern_sock c = accept_one(&h, &hiss, true);
    uint32_t una = hiss + 1;
    uint64_t t0 = h.now;
    CHECK_EQ_I64(send_and_drain(&h, c, 3000), 3);
    h_run_until(&h, t0 + 20 * MS);
    check_probe(&h, t0 + 20 * MS, una + 2000, 1000);
    CHECK_EQ_U64(h_info(&h, c).cwnd, 10000); /* IW10 */
    /* the ACK of everything, exactly TLP.end_seq, no D-SACK: the original's
     * ACK or the probe's; the episode stays open for a D-SACK (RFC 8985
     * §7.4.2), no response yet */
    h.now = t0 + 30 * MS;
    peer_ack(&h, una + 3000, 0, 0);
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.ssthresh, 0x7fffffff);
    /* then an ACK above TLP.end_seq, still no D-SACK: the probe repaired a
     * loss (§7.4.2): ssthresh = max(FlightSize / 2, 2 * SMSS) = 2000 (RFC
     * 5681 (4); FlightSize 2000) and cwnd = ssthresh; this ACK's 2000
     * octets count in congestion avoidance (RFC 5681 §3.1): one SMSS more */
    CHECK_EQ_I64(send_and_drain(&h, c, 2000), 2);
    h.now = t0 + 40 * MS;
    peer_ack(&h, una + 5000, 0, 0);
    i = h_info(&h, c);
    CHECK_EQ_U64(i.ssthresh, 2000);
    CHECK_EQ_U64(i.cwnd, 3000);
    CHECK_EQ_U64(i.fast_retransmits, 0);
    h_free(&h);
}

/* One segment out: the probe waits for the delayed ACK too. Its octets go
 * in two halves; the control, one octet, cannot be halved and goes whole. */
static void test_single_segment_waits_for_delayed_ack(void) {
    for (size_t len = 500; len > 0; len = len == 500 ? 1 : 0) {
        harness h;
        h_init(&h);
        uint32_t hiss;
        tern_sock c = accept_one(&h, &hiss, true);
        uint64_t t0 = h.now;
        CHECK_EQ_I64(send_and_drain(&h, c, len), 1);
        /* §7.2: FlightSize one segment: PTO = 2 x SRTT + WCDelAckT = 220 ms */
        h_run_until(&h, t0 + 220 * MS - 1);
        CHECK_EQ_U64(h_pending(&h), 0);
        h_run_until(&h, t0 + 220 * MS);
        if (len > 1) {
            check_probe(&h, t0 + 220 * MS, hiss + 1, (uint32_t)len);
        } else {
            h_seg s;
            CHECK(h_next(&h, &s));
            CHECK_EQ_U64(s.time, t0 + 220 * MS);
            CHECK_EQ_U64(s.tcp.seq, hiss + 1);
            CHECK_EQ_U64(s.tcp.payload_len, 1);
            CHECK(!h_next(&h, &s));
        }
        CHECK_EQ_U64(h_info(&h, c).tlp_probes, 1);
        h_free(&h);
    }
}

/* RFC 8985 §7.2: "If FlightSize is one segment: PTO += TLP.max_ack_delay".
 * One full-sized segment (1000 octets, the MSS) is one segment: the PTO is
 * 2 x SRTT + WCDelAckT; one octet more (two segments) and it is 2 x SRTT. */
static void test_one_full_segment_waits_for_delayed_ack(void) {
    for (int extra = 0; extra <= 1; extra++) {
        harness h;
        h_init(&h);
        uint32_t hiss;
        tern_sock c = accept_one(&h, &hiss, true);
        uint64_t t0 = h.now;
        CHECK_EQ_I64(send_and_drain(&h, c, 1000 + (size_t)extra), 1 + extra);
        uint64_t pto = extra ? 20 * MS : 220 * MS;
        h_run_until(&h, t0 + pto - 1);
        CHECK_EQ_U64(h_pending(&h), 0);
        h_run_until(&h, t0 + pto);
        /* §7.3 (2): the last segment again, one MSS ending at SND.NXT (in two halves) */
        check_probe(&h, t0 + pto, hiss + 1 + (uint32_t)extra, 1000);
        h_free(&h);
    }
}

/* RFC 8985 §7.4.2: "If the TLP sender does not receive such an indication,
 * then it MUST assume that the original data segment, the TLP retransmission,
 * or a corresponding ACK was lost for congestion control purposes"; the
 * indication is a D-SACK for the probe (RFC 2883: a first block at or below
 * the cumulative ACK). With it the ACK covering the probe reduces nothing;
 * the control is test_repaired_loss_reduces_cwnd, the same ACK without it. */
static void test_dsacked_probe_keeps_cwnd(void) {
    harness h;
    h_init(&h);
    uint32_t hiss;
    tern_sock c = accept_one(&h, &hiss, true);
    uint32_t una = hiss + 1;
    uint64_t t0 = h.now;
    CHECK_EQ_I64(send_and_drain(&h, c, 3000), 3);
    h_run_until(&h, t0 + 20 * MS);
    h_seg s;
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.seq, una + 2000);
    tern_tcp_info before = h_info(&h, c);
    CHECK_EQ_U64(before.cwnd, 10000);
    h.now = t0 + 30 * MS;
    peer_ack(&h, una + 3000, una + 2000, una + 3000);
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.ssthresh, before.ssthresh);
    CHECK(i.cwnd >= 10000);
    CHECK_EQ_U64(i.fast_retransmits, 0);
    h_free(&h);
}

static void test_off_waits_for_the_rto(void) {
    harness h;
    h_init(&h);
    uint32_t hiss;
    tern_sock c = accept_one(&h, &hiss, false);
    uint64_t t0 = h.now;
    CHECK_EQ_I64(send_and_drain(&h, c, 3000), 3);
    /* RFC 6298 only: the first segment again at the RTO, 1 s */
    h_run_until(&h, t0 + SEC - 1);
    CHECK_EQ_U64(h_pending(&h), 0);
    h_run_until(&h, t0 + SEC);
    h_seg s;
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.time, t0 + SEC);
    CHECK_EQ_U64(s.tcp.seq, hiss + 1);
    CHECK_EQ_U64(h_info(&h, c).tlp_probes, 0);
    /* a zeroed configuration leaves it off; the default turns it on, with
     * RACK (RFC 8985: RACK-TLP as Linux's default) */
    tern_stack_config cfg;
    memset(&cfg, 0, sizeof cfg);
    CHECK(!cfg.tcp.tail_loss_probe && !cfg.tcp.rack);
    tern_stack_config_default(&cfg, 1);
    CHECK(cfg.tcp.tail_loss_probe && cfg.tcp.rack);
    h_free(&h);
}

int main(void) {
    RUN(test_probe_retransmits_tail);
    RUN(test_sack_progress_allows_another_probe);
    RUN(test_repaired_loss_reduces_cwnd);
    RUN(test_single_segment_waits_for_delayed_ack);
    RUN(test_one_full_segment_waits_for_delayed_ack);
    RUN(test_dsacked_probe_keeps_cwnd);
    RUN(test_off_waits_for_the_rto);
    return check_summary();
}

/*
 * Stored sequence numbers that go stale while SND.UNA moves on: after 2^31
 * octets the modulo-2^32 comparisons of RFC 9293 §3.4 ("the sequence number
 * space is finite, though very large") flip, and a marker left behind reads
 * as being ahead. White box at segment level (peer MSS 1000): the control
 * block is set up as it is after a long loss-free transfer, without sending
 * the 2 GiB (the marker is moved back instead of SND.UNA forward; the
 * comparisons see the same differences).
 *
 * RFC 6582 §3.2 step 1: "When the TCP protocol control block is initialized,
 * recover is set to the initial send sequence number." Step 2: "When the
 * third duplicate ACK is received, the TCP sender first checks the value of
 * recover to see if the Cumulative Acknowledgment field covers more than
 * recover. If so, the value of recover is incremented to the value of the
 * highest sequence number transmitted by the TCP so far. The TCP then enters
 * fast retransmit [...]. If not, the TCP does not enter fast retransmit and
 * does not reset ssthresh." Taken literally, `recover` stays at the ISS for
 * as long as no loss happens, and once SND.UNA is 2^31 past it, no
 * Cumulative Acknowledgment "covers more than recover" in sequence
 * arithmetic: fast retransmit would be off until the next RTO.
 */
#include "tcp_harness.h"
#include "tcp/tcp_private.h"

#define PPORT 41000
#define HPORT 8080
#define PISS 7000u
#define HALF 0x80000000u

static uint8_t data[64 * 1000];

/* A passive open from the scripted peer (SACK-permitted if `sack`, no other
 * options); *hiss is the host's ISS. */
static tern_sock accept_one(harness *h, bool sack, uint32_t *hiss) {
    tern_sock l, c = 0;
    CHECK(tern_tcp_open(h->st, &l) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, l, TERN_TCP_OPT_TIMESTAMPS, 0) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, l, TERN_TCP_OPT_WINDOW_SCALING, 0) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, l, TERN_TCP_OPT_SACK, sack) == TERN_OK);
    CHECK(tern_tcp_bind(h->st, l, NULL, HPORT) == TERN_OK);
    CHECK(tern_tcp_listen(h->st, l, 4) == TERN_OK);
    struct tern_tcp_repr syn = h_mk(PPORT, HPORT, PISS, 0, TERN_TCP_SYN, 65535);
    syn.opt.has_mss = true;
    syn.opt.mss = 1000;
    syn.opt.sack_permitted = sack;
    h_send(h, &syn);
    h_seg s;
    CHECK(h_next(h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_SYN | TERN_TCP_ACK);
    CHECK_EQ_U64(s.tcp.opt.sack_permitted, sack);
    *hiss = s.tcp.seq;
    h->now += 10 * MS;
    struct tern_tcp_repr ack = h_mk(PPORT, HPORT, PISS + 1, *hiss + 1, TERN_TCP_ACK, 65535);
    h_send(h, &ack);
    CHECK(tern_tcp_accept(h->st, l, &c) == TERN_OK);
    CHECK(tern_tcp_set_option(h->st, c, TERN_TCP_OPT_NODELAY, 1) == TERN_OK);
    return c;
}

/* The peer's ACK of everything below `ack`, with one SACK block [l, r) if r != l. */
static void peer_ack(harness *h, uint32_t ack, uint32_t l, uint32_t r) {
    h_send_ack_sack(h, PPORT, HPORT, PISS + 1, ack, l, r);
}

/* Data segments the host sent since the last look. */
static int drain(harness *h, uint32_t *first_seq) {
    h_seg s;
    int n = 0;
    while (h_next(h, &s)) {
        if (s.tcp.payload_len > 0) {
            if (n == 0)
                *first_seq = s.tcp.seq;
            n++;
        }
    }
    return n;
}

/*
 * Ten segments out; the peer acknowledges the first three (moving SND.UNA
 * by 3000), loses the fourth and reports the next three with three
 * duplicate ACKs (with SACK blocks when `sack`), all 10 ms after the data
 * left (one RTT: RACK's reordering window keeps it from marking anything
 * lost by time, so the duplicate count decides). Before the first ACK,
 * `recover` is put `behind` octets below SND.UNA. Returns the fast
 * retransmissions counted; *rexmits is how many times the lost segment was
 * sent again (at once, on the third duplicate ACK, not on a timer).
 */
static uint64_t three_dupacks(bool sack, uint32_t behind, int *rexmits) {
    harness h;
    h_init(&h);
    uint32_t hiss;
    tern_sock c = accept_one(&h, sack, &hiss);
    tcp_pcb *p;
    CHECK(tcp_handle_get(h.st, c, &p) == TERN_OK);
    /* as after 2^31 - `behind` octets sent and acknowledged without a loss */
    p->recover = p->snd_una - behind;
    size_t sent;
    CHECK(tern_tcp_send(h.st, c, data, 20 * 1000, &sent) == TERN_OK);
    h_poll(&h);
    uint32_t first = 0;
    CHECK_EQ_I64(drain(&h, &first), 10); /* IW10 */
    CHECK_EQ_U64(first, hiss + 1);
    h.now += 10 * MS;
    uint32_t hole = hiss + 1 + 3000;
    peer_ack(&h, hole, 0, 0); /* a new ACK: SND.UNA moves 3000 on */
    CHECK_EQ_U64(h_info(&h, c).snd_una, hole);
    CHECK_EQ_U64(p->ca_state, TCP_CA_OPEN);
    for (uint32_t i = 1; i <= 3; i++) {
        peer_ack(&h, hole, hole + 1000, hole + 1000 + i * 1000);
    }
    h_seg s;
    *rexmits = 0;
    while (h_next(&h, &s)) {
        if (s.tcp.payload_len > 0 && s.tcp.seq == hole) {
            CHECK_EQ_U64(s.time, h.now); /* no waiting for a timer */
            (*rexmits)++;
        }
    }
    uint64_t fr = h_info(&h, c).fast_retransmits;
    h_free(&h);
    return fr;
}

/* SND.UNA 2^31 + 1000 past `recover` after the new ACK: three duplicate ACKs
 * still start fast retransmit (NewReno, no SACK). */
static void test_newreno_fast_retransmit_after_2g(void) {
    int rx;
    /* positive control: recover just below SND.UNA, as after any loss */
    CHECK_EQ_U64(three_dupacks(false, 0, &rx), 1);
    CHECK_EQ_I64(rx, 1);
    /* 2^31 - 2000 behind, then the ACK of 3000 octets: 2^31 + 1000 */
    CHECK_EQ_U64(three_dupacks(false, HALF - 2000, &rx), 1);
    CHECK_EQ_I64(rx, 1);
    /* far behind in the other half of the space as well */
    CHECK_EQ_U64(three_dupacks(false, HALF + 12345, &rx), 1);
    CHECK_EQ_I64(rx, 1);
}

/* The same with SACK (RFC 6675 §5 and RACK-TLP, the default): the same
 * guard stands before the recovery RACK starts (RFC 8985 §6.2 Step 5). */
static void test_sack_fast_retransmit_after_2g(void) {
    int rx;
    CHECK_EQ_U64(three_dupacks(true, 0, &rx), 1);
    CHECK_EQ_I64(rx, 1);
    CHECK_EQ_U64(three_dupacks(true, HALF - 2000, &rx), 1);
    CHECK_EQ_I64(rx, 1);
    CHECK_EQ_U64(three_dupacks(true, HALF + 12345, &rx), 1);
    CHECK_EQ_I64(rx, 1);
}

/*
 * RFC 3708 undo (tcp_undo.c) keeps the last loss episode armed until the
 * next one starts: an episode of a genuine loss (one retransmission, never
 * reported as a duplicate) stays armed, its markers fixed, while SND.UNA
 * moves on. A new episode 2^31 octets later must still be judged on its own:
 * here a spurious fast retransmit (the "lost" segment was only delayed and
 * comes back as a D-SACK with the full ACK) is undone. With the old
 * episode's undo_recover 2^31 behind, "SND.UNA below the old recovery
 * point" read true and the new episode was given up as undecidable.
 * `behind` 0: no old episode. Returns the undos counted.
 */
static uint64_t spurious_episode(uint32_t behind, uint32_t *cwnd_before, uint32_t *cwnd_after) {
    harness h;
    h_init(&h);
    uint32_t hiss;
    tern_sock c = accept_one(&h, true, &hiss);
    tcp_pcb *p;
    CHECK(tcp_handle_get(h.st, c, &p) == TERN_OK);
    if (behind) {
        /* an old episode: 1000 octets retransmitted, no D-SACK for them */
        p->undo_state = TCP_UNDO_ARMED;
        p->undo_recover = p->snd_una - behind;
        p->undo_una = p->undo_recover - 5000;
        p->undo_high = p->undo_una + 1000;
        p->undo_rexmit_bytes = 1000;
        p->undo_dsacked_bytes = 0;
    }
    size_t sent;
    CHECK(tern_tcp_send(h.st, c, data, 20 * 1000, &sent) == TERN_OK);
    h_poll(&h);
    uint32_t first = 0;
    CHECK_EQ_I64(drain(&h, &first), 10);
    h.now += 10 * MS;
    uint32_t hole = hiss + 1 + 3000;
    peer_ack(&h, hole, 0, 0);
    *cwnd_before = h_info(&h, c).cwnd;
    for (uint32_t i = 1; i <= 3; i++) {
        peer_ack(&h, hole, hole + 1000, hole + 1000 + i * 1000);
    }
    tern_tcp_info i = h_info(&h, c);
    CHECK_EQ_U64(i.fast_retransmits, 1);
    CHECK(i.cwnd < *cwnd_before); /* the reduction */
    /* the delayed original arrives; the retransmission is a duplicate:
     * RFC 2883 §4, a first SACK block below the cumulative ACK */
    h.now += 1 * MS;
    uint32_t all = i.snd_nxt;
    peer_ack(&h, all, hole, hole + 1000);
    i = h_info(&h, c);
    CHECK_EQ_U64(i.snd_una, all);
    CHECK_EQ_U64(i.dsack_blocks_in, 1);
    *cwnd_after = i.cwnd;
    h_free(&h);
    return i.dsack_undos;
}

static void test_undo_after_2g(void) {
    uint32_t before, after;
    /* positive control: no old episode */
    CHECK_EQ_U64(spurious_episode(0, &before, &after), 1);
    CHECK(after >= before);
    /* the old episode's recovery point 2^31 - 2000 behind, 2^31 + 1000
     * after the first ACK */
    CHECK_EQ_U64(spurious_episode(HALF - 2000, &before, &after), 1);
    CHECK(after >= before);
    /* and an old episode just over (a window behind at most): still armed,
     * it does not make the new one undecidable either */
    CHECK_EQ_U64(spurious_episode(1000, &before, &after), 1);
    CHECK(after >= before);
}

int main(void) {
    RUN(test_newreno_fast_retransmit_after_2g);
    RUN(test_sack_fast_retransmit_after_2g);
    RUN(test_undo_after_2g);
    return check_summary();
}

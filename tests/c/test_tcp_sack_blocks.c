/*
 * The SACK blocks a receiver sends, on a fake control block (tcp_fake_pcb.h):
 *   - RFC 2018 §4 order: the block of the triggering segment first, then the
 *     most recently reported blocks, then the rest in sequence order;
 *   - RFC 2883 §4 D-SACK blocks: first, for one ACK, the duplicate's own
 *     range, followed by the larger block it belongs to;
 * and the sender's use of D-SACKs (RFC 3708 §3): undo of a spurious window
 * reduction, none for a genuine one.
 */
#include "check.h"
#include "tcp/tcp_private.h"
#include "tcp_fake_pcb.h"

static const uint8_t payload[1000];

/* Segment k of 100 bytes: [5000 + 100k, 5100 + 100k). */
static uint32_t seg(int k) {
    return 5000u + 100u * (uint32_t)k;
}

/* Receive segment k (trimmed to RCV.NXT as tcp_input.c does). */
static void rx(tcp_pcb *p, int k) {
    uint32_t s = seg(k), len = 100;
    if (seq_lt(s, p->rcv_nxt)) {
        uint32_t skip = p->rcv_nxt - s < len ? p->rcv_nxt - s : len;
        tcp_dsack_note(p, s, s + skip);
        s += skip;
        len -= skip;
    }
    bool ooo;
    tcp_ooo_receive(&fake.st, p, s, payload, len, &ooo);
}

/* The blocks an ACK would carry, as segment numbers "l-r" joined by spaces. */
static const char *blocks(tcp_pcb *p, uint8_t max) {
    static char text[128];
    struct tern_tcp_sack_block b[TERN_TCP_MAX_SACK_BLOCKS];
    uint8_t n = tcp_sack_blocks_out(&fake.st, p, b, max);
    p->dsack_pending = 0; /* consumed by the ACK (tcp_send_segment) */
    size_t at = 0;
    text[0] = 0;
    for (uint8_t i = 0; i < n; i++) {
        at += (size_t)snprintf(text + at, sizeof text - at, "%s%u-%u", i ? " " : "",
                               (b[i].left - 5000u) / 100u, (b[i].right - 5000u) / 100u);
    }
    return text;
}

/* The blocks of an ACK from p (at most max) are exactly `want`. */
#define CHECK_BLOCKS(p, max, want)                                                                 \
    do {                                                                                           \
        const char *check_got_ = blocks((p), (max));                                               \
        check_count++;                                                                             \
        if (strcmp(check_got_, (want)) != 0) {                                                     \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s: SACK blocks \"%s\", want \"%s\"\n", __FILE__, __LINE__,    \
                    check_current, check_got_, (want));                                            \
        }                                                                                          \
    } while (0)

static void test_six_holes(void) {
    tcp_pcb *p = fake_receiver();
    rx(p, 1);
    CHECK_BLOCKS(p, 4, "1-2");
    rx(p, 3);
    CHECK_BLOCKS(p, 4, "3-4 1-2");
    rx(p, 5);
    CHECK_BLOCKS(p, 4, "5-6 3-4 1-2");
    rx(p, 7);
    CHECK_BLOCKS(p, 4, "7-8 5-6 3-4 1-2");
    CHECK_BLOCKS(p, 3, "7-8 5-6 3-4");
    rx(p, 9);
    rx(p, 11);
    /* six holes: the four (three) most recently reported blocks */
    CHECK_BLOCKS(p, 4, "11-12 9-10 7-8 5-6");
    CHECK_BLOCKS(p, 3, "11-12 9-10 7-8");
    /* an ACK sent without a new segment (a window update) repeats them */
    CHECK_BLOCKS(p, 3, "11-12 9-10 7-8");
    rx(p, 6); /* merges 5-6, 6, 7-8 */
    CHECK_BLOCKS(p, 4, "5-8 11-12 9-10 1-2");
    rx(p, 2);
    CHECK_BLOCKS(p, 4, "1-4 5-8 11-12 9-10");
    rx(p, 10);
    CHECK_BLOCKS(p, 4, "9-12 1-4 5-8");
    rx(p, 0); /* in order: RCV.NXT passes 0-4, the recent 9-12 stays first */
    CHECK_EQ_U64(p->rcv_nxt, seg(4));
    CHECK_BLOCKS(p, 4, "9-12 5-8");
    rx(p, 4);
    CHECK_EQ_U64(p->rcv_nxt, seg(8));
    CHECK_BLOCKS(p, 4, "9-12");
    rx(p, 8);
    CHECK_EQ_U64(p->rcv_nxt, seg(12));
    CHECK_BLOCKS(p, 4, "");
}

static void test_dsack_blocks(void) {
    tcp_pcb *p = fake_receiver();
    p->flags |= TCPF_SACK_OK;
    rx(p, 0);
    rx(p, 1);
    rx(p, 0); /* all of it below RCV.NXT */
    CHECK_BLOCKS(p, 4, "0-1");
    CHECK_BLOCKS(p, 4, ""); /* one ACK only (RFC 2883 §4 (1)) */
    rx(p, 4);
    rx(p, 6);
    rx(p, 4); /* a duplicate of queued out-of-order data: D-SACK, then its block */
    CHECK_BLOCKS(p, 4, "4-5 4-5 6-7");
    CHECK_BLOCKS(p, 4, "4-5 6-7");
    rx(p, 5); /* joins 4-5 and 6-7: no duplicate */
    CHECK_BLOCKS(p, 4, "4-7");
    /* half old, half new: [150, 250) with RCV.NXT at 200 */
    p->dsack_pending = 0;
    tcp_dsack_note(p, seg(1) + 50, seg(2));
    bool ooo;
    tcp_ooo_receive(&fake.st, p, seg(2), payload, 50, &ooo);
    CHECK_BLOCKS(p, 4, "1-2 4-7");
    /* off: no D-SACK */
    p->dsack_on = 0;
    rx(p, 0);
    CHECK_BLOCKS(p, 4, "4-7");
}

/* An ACK from the peer: cumulative ack, first block [l, r) (none if l == r). */
static void ack_in(tcp_pcb *p, uint32_t ack, uint32_t l, uint32_t r) {
    struct tern_tcp_options o;
    memset(&o, 0, sizeof o);
    if (l != r) {
        o.sack_count = 1;
        o.sack[0] = (struct tern_tcp_sack_block){l, r};
    }
    if (seq_gt(ack, p->snd_una)) {
        p->snd_una = ack;
    }
    if (seq_geq(p->snd_una, p->recover)) {
        p->ca_state = TCP_CA_OPEN;
    }
    tcp_undo_on_ack(p, &o, ack);
}

static void test_undo(void) {
    tcp_pcb *p = fake_pcb(); /* 1000..11000 in flight */
    p->cwnd = 10000;
    p->ssthresh = UINT32_MAX / 2;
    /* fast retransmit of 1000..2000, the window halves */
    tcp_undo_begin(p);
    p->ssthresh = 5000;
    p->cwnd = 5000;
    p->ca_state = TCP_CA_RECOVERY;
    p->recover = p->snd_nxt;
    tcp_undo_rexmit(p, 1000, 1000);
    ack_in(p, 11000, 0, 0); /* the original arrives late: everything acknowledged */
    CHECK_EQ_U64(p->cwnd, 5000);
    ack_in(p, 11000, 1000, 2000); /* the retransmission arrives: D-SACK */
    CHECK_EQ_U64(p->dsack_blocks_in, 1);
    CHECK_EQ_U64(p->spurious_rexmits, 1);
    CHECK_EQ_U64(p->dsack_undos, 1);
    CHECK_EQ_U64(p->cwnd, 10000);
    CHECK_EQ_U64(p->ssthresh, UINT32_MAX / 2);

    /* genuine: two segments retransmitted, only one reported twice */
    p = fake_pcb();
    p->cwnd = 10000;
    p->ssthresh = UINT32_MAX / 2;
    tcp_undo_begin(p);
    p->cwnd = p->ssthresh = 5000;
    p->ca_state = TCP_CA_RECOVERY;
    p->recover = p->snd_nxt;
    tcp_undo_rexmit(p, 1000, 1000);
    tcp_undo_rexmit(p, 2000, 1000);
    ack_in(p, 11000, 1000, 2000);
    CHECK_EQ_U64(p->spurious_rexmits, 1);
    CHECK_EQ_U64(p->dsack_undos, 0);
    CHECK_EQ_U64(p->cwnd, 5000);
    /* a D-SACK below the episode's retransmissions counts as a D-SACK only */
    ack_in(p, 11000, 500, 900);
    CHECK_EQ_U64(p->dsack_blocks_in, 2);
    CHECK_EQ_U64(p->spurious_rexmits, 1);

    /* the same data retransmitted twice: no undo even with D-SACKs for both */
    p = fake_pcb();
    p->cwnd = 10000;
    tcp_undo_begin(p);
    p->cwnd = 1000;
    p->ca_state = TCP_CA_LOSS;
    p->recover = p->snd_nxt;
    tcp_undo_rexmit(p, 1000, 1000);
    tcp_undo_rexmit(p, 1000, 1000);
    CHECK_EQ_U64(p->undo_state, TCP_UNDO_OFF);
    ack_in(p, 11000, 1000, 2000);
    ack_in(p, 11000, 1000, 2000);
    CHECK_EQ_U64(p->dsack_undos, 0);
    CHECK_EQ_U64(p->cwnd, 1000);

    /* D-SACK before the episode is over: undone only once SND.UNA passes the recovery point */
    p = fake_pcb();
    p->cwnd = 10000;
    tcp_undo_begin(p);
    p->cwnd = 5000;
    p->ca_state = TCP_CA_RECOVERY;
    p->recover = p->snd_nxt;
    tcp_undo_rexmit(p, 1000, 1000);
    ack_in(p, 2000, 1000, 2000);
    CHECK_EQ_U64(p->dsack_undos, 0);
    ack_in(p, 11000, 0, 0);
    CHECK_EQ_U64(p->dsack_undos, 1);
    CHECK_EQ_U64(p->cwnd, 10000);
}

int main(void) {
    RUN(test_six_holes);
    RUN(test_dsack_blocks);
    RUN(test_undo);
    return check_summary();
}

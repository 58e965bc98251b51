/*
 * One call sends at most TERN_CALL_FRAMES_MAX frames (stack.h, DESIGN.md
 * §7), TCP included: an ACK that opens a congestion window of more than that
 * many segments releases TERN_CALL_FRAMES_MAX of them in its input call, and
 * tern_stack_poll_at asks for a poll at once for the rest, in order, at the
 * same instant. White box at segment level: peer MSS 100, window scaling,
 * everything at one virtual time.
 */
#include "tcp_harness.h"

#define PPORT 41000
#define HPORT 8080
#define PISS 7000u
#define TX 400000

static uint8_t data[TX];

static uint64_t frames_out(harness *h) {
    tern_counters c;
    tern_stack_get_counters(h->st, &c);
    return c.frames_out;
}

/* The peer's cumulative ACK up to `ack`, with a window of 65535 << 7. */
static void peer_ack(harness *h, uint32_t ack) {
    struct tern_tcp_repr a = h_mk(PPORT, HPORT, PISS + 1, ack, TERN_TCP_ACK, 65535);
    h_send(h, &a);
}

static void test_an_ack_opening_a_huge_window_sends_a_bounded_number_per_call(void) {
    harness h;
    tern_stack_config cfg;
    h_cfg_default(&cfg);
    cfg.tcp.tx_buffer = TX;
    h_init_cfg(&h, &cfg);
    tern_sock l, c = 0;
    CHECK(tern_tcp_open(h.st, &l) == TERN_OK);
    CHECK(tern_tcp_set_option(h.st, l, TERN_TCP_OPT_INITIAL_WINDOW, 255) == TERN_OK);
    CHECK(tern_tcp_set_option(h.st, l, TERN_TCP_OPT_NODELAY, 1) == TERN_OK);
    CHECK(tern_tcp_bind(h.st, l, NULL, HPORT) == TERN_OK);
    CHECK(tern_tcp_listen(h.st, l, 4) == TERN_OK);
    struct tern_tcp_repr syn = h_mk(PPORT, HPORT, PISS, 0, TERN_TCP_SYN, 65535);
    syn.opt.has_mss = true;
    syn.opt.mss = 100;
    syn.opt.has_wscale = true;
    syn.opt.wscale = 7;
    h_send(&h, &syn);
    h_seg s;
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_SYN | TERN_TCP_ACK);
    uint32_t hiss = s.tcp.seq;
    peer_ack(&h, hiss + 1);
    CHECK(tern_tcp_accept(h.st, l, &c) == TERN_OK);
    size_t sent = 0;
    CHECK(tern_tcp_send(h.st, c, data, sizeof data, &sent) == TERN_OK);
    CHECK_EQ_U64(sent, TX);
    h_poll(&h); /* the initial window, 255 segments */
    /* Slow start: the peer ACKs segment by segment until cwnd passes 1200 segments. Every call
     * sends a few. */
    uint64_t max_call = 0;
    for (int guard = 0; guard < 10000 && h_info(&h, c).cwnd < 1200 * 100; guard++) {
        if (!h_next(&h, &s)) {
            break;
        }
        if (s.tcp.payload_len == 0) {
            continue;
        }
        uint64_t before = frames_out(&h);
        peer_ack(&h, s.tcp.seq + (uint32_t)s.tcp.payload_len);
        uint64_t n = frames_out(&h) - before;
        max_call = n > max_call ? n : max_call;
    }
    tern_tcp_info i = h_info(&h, c);
    CHECK(i.cwnd >= 1200 * 100);
    CHECK(max_call <= 3);
    CHECK(TX - (i.snd_nxt - (hiss + 1)) > 1300 * 100); /* enough left unsent */
    /* One ACK for everything in flight: the window is open for more than 1200 segments. */
    while (h_next(&h, &s)) {
    }
    uint64_t before = frames_out(&h);
    uint32_t nxt = i.snd_nxt;
    peer_ack(&h, nxt);
    CHECK_EQ_U64(frames_out(&h) - before, TERN_CALL_FRAMES_MAX);
    CHECK(tern_stack_poll_at(h.st) <= h.now); /* the rest: now */
    uint64_t mid = frames_out(&h);
    tern_stack_poll(h.st, h.now);
    uint64_t rest = frames_out(&h) - mid;
    CHECK(rest > 100 && rest <= TERN_CALL_FRAMES_MAX);
    /* in order, back to back, no gap or repeat at the seam */
    uint32_t expect = nxt;
    uint64_t segs = 0;
    while (h_next(&h, &s)) {
        if (s.tcp.payload_len == 0) {
            continue;
        }
        CHECK_EQ_U64(s.tcp.seq, expect);
        expect = s.tcp.seq + (uint32_t)s.tcp.payload_len;
        segs++;
    }
    CHECK_EQ_U64(segs, TERN_CALL_FRAMES_MAX + rest);
    CHECK(h_info(&h, c).cwnd - (expect - nxt) < 100); /* the window was used up */
    h_free(&h);
}

int main(void) {
    RUN(test_an_ack_opening_a_huge_window_sends_a_bounded_number_per_call);
    return check_summary();
}

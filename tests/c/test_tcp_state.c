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

int main(void) {
    RUN(test_passive_open_and_data);
    RUN(test_active_open);
    return check_summary();
}

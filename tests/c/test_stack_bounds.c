/*
 * The work of one tern_stack_input or tern_stack_poll is bounded (DESIGN.md
 * §7; stack.h: TERN_POLL_LOOPBACK_MAX, TERN_CALL_FRAMES_MAX): what is left
 * runs on the next poll, which tern_stack_poll_at asks for at once. And a
 * frame from the wire whose source is one of the host's own addresses (a
 * "land" SYN) is dropped before it can start a host talking to itself; the
 * ACKs a host sends in answer to unacceptable segments are throttled from
 * time 0 on (RFC 5961 §7).
 *
 * The stack is driven directly here (no simulator), so each call's work is
 * seen alone.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tern/stack.h"
#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

static const uint8_t HOST_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};

typedef struct out_log {
    uint64_t frames;
    uint64_t tcp;              /* TCP segments among them */
    struct tern_tcp_repr last; /* the last TCP segment (payload not kept) */
} out_log;

static void count_output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    out_log *o = ctx;
    (void)iface;
    o->frames++;
    struct tern_eth_repr e;
    struct tern_ipv4_repr ip;
    if (tern_eth_parse(frame, len, &e) == TERN_OK && e.ethertype == TERN_ETHERTYPE_IPV4 &&
        tern_ipv4_parse(e.payload, e.payload_len, &ip) == TERN_OK && ip.protocol == 6 &&
        tern_tcp_parse(ip.payload, ip.payload_len, &ip.src, &ip.dst, &o->last) == TERN_OK) {
        o->tcp++;
        o->last.payload = NULL;
    }
}

typedef struct host {
    void *mem;
    tern_stack *st;
    out_log out;
} host;

static void host_init(host *h, uint32_t udp_queue, uint32_t packet_buffers) {
    memset(h, 0, sizeof *h);
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, 3);
    cfg.niface = 1;
    memcpy(cfg.iface[0].mac, HOST_MAC, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = tern_addr_v4(10, 0, 0, 1);
    cfg.iface[0].prefix_len[0] = 24;
    cfg.udp_queue = udp_queue;
    cfg.packet_buffers = packet_buffers;
    cfg.output = count_output;
    cfg.output_ctx = &h->out;
    size_t size = tern_stack_memory_size(&cfg);
    CHECK(size > 0);
    h->mem = aligned_alloc(16, (size + 15) & ~(size_t)15);
    CHECK(h->mem != NULL);
    CHECK(tern_stack_init(h->mem, size, &cfg, &h->st, NULL, 0) == TERN_OK);
}

static void host_free(host *h) {
    free(h->mem);
}

static uint64_t counter_loopback_in(const host *h) {
    tern_counters c;
    tern_stack_get_counters(h->st, &c);
    return c.ip_loopback_in;
}

/* 100 datagrams to ourselves: one poll delivers TERN_POLL_LOOPBACK_MAX, asks to be polled again
 * at once, and the next delivers the rest. */
static void test_one_poll_delivers_a_bounded_number_of_looped_back_datagrams(void) {
    host h;
    host_init(&h, 200, 512);
    tern_sock s;
    tern_addr self = tern_addr_v4(10, 0, 0, 1);
    CHECK(tern_udp_open(h.st, &s) == TERN_OK);
    CHECK(tern_udp_bind(h.st, s, &self, 7) == TERN_OK);
    for (int i = 0; i < 100; i++) {
        uint8_t b = (uint8_t)i;
        CHECK(tern_udp_sendto(h.st, s, &self, 7, &b, 1) == TERN_OK);
    }
    tern_stack_poll(h.st, 1000); /* UDP queues them to the loopback */
    CHECK(tern_stack_poll_at(h.st) <= 1000);
    CHECK_EQ_U64(tern_udp_pending(h.st, s), 0);
    tern_stack_poll(h.st, 1000);
    CHECK_EQ_U64(tern_udp_pending(h.st, s), TERN_POLL_LOOPBACK_MAX);
    CHECK_EQ_U64(counter_loopback_in(&h), TERN_POLL_LOOPBACK_MAX);
    CHECK(tern_stack_poll_at(h.st) <= 1000); /* the rest: now */
    tern_stack_poll(h.st, 1000);
    CHECK_EQ_U64(tern_udp_pending(h.st, s), 100);
    CHECK(tern_stack_poll_at(h.st) == TERN_NEVER);
    /* In order, none lost. */
    for (int i = 0; i < 100; i++) {
        uint8_t b = 0xff;
        size_t got = 0;
        CHECK(tern_udp_recvfrom(h.st, s, &b, 1, &got, NULL, NULL, NULL, NULL) == TERN_OK);
        CHECK_EQ_U64(b, i);
    }
    CHECK_EQ_U64(h.out.frames, 0); /* nothing went to the wire */
    host_free(&h);
}

/* 1500 queued broadcast datagrams: one poll sends TERN_CALL_FRAMES_MAX frames, the next the
 * rest, in order. */
static void test_one_poll_sends_a_bounded_number_of_frames(void) {
    host h;
    host_init(&h, 2000, 2048);
    tern_sock s;
    tern_addr bcast = tern_addr_v4(255, 255, 255, 255);
    CHECK(tern_udp_open(h.st, &s) == TERN_OK);
    CHECK(tern_udp_set_broadcast(h.st, s, true) == TERN_OK);
    for (int i = 0; i < 1500; i++) {
        uint8_t b = (uint8_t)i;
        CHECK(tern_udp_sendto(h.st, s, &bcast, 9, &b, 1) == TERN_OK);
    }
    tern_stack_poll(h.st, 5000);
    CHECK_EQ_U64(h.out.frames, TERN_CALL_FRAMES_MAX);
    CHECK(tern_stack_poll_at(h.st) <= 5000);
    tern_stack_poll(h.st, 5000);
    CHECK_EQ_U64(h.out.frames, 1500);
    CHECK(tern_stack_poll_at(h.st) == TERN_NEVER);
    host_free(&h);
}

/* An IPv4/TCP frame from the peer's MAC with the given addresses and ports. */
static size_t tcp_frame(uint8_t *frame, size_t cap, tern_addr src, tern_addr dst, uint16_t sport,
                        uint16_t dport, uint8_t flags, uint32_t seq) {
    uint8_t seg[64];
    struct tern_tcp_repr t;
    memset(&t, 0, sizeof t);
    t.src_port = sport;
    t.dst_port = dport;
    t.seq = seq;
    t.flags = flags;
    t.window = 65535;
    size_t tl;
    CHECK(tern_tcp_emit(&t, &src, &dst, seg, sizeof seg, &tl) == TERN_OK);
    uint8_t ipb[128];
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.protocol = 6;
    ip.src = src;
    ip.dst = dst;
    ip.payload = seg;
    ip.payload_len = tl;
    size_t il;
    CHECK(tern_ipv4_emit(&ip, ipb, sizeof ipb, &il) == TERN_OK);
    struct tern_eth_repr e;
    memset(&e, 0, sizeof e);
    memcpy(e.dst.b, HOST_MAC, 6);
    memcpy(e.src.b, PEER_MAC, 6);
    e.ethertype = TERN_ETHERTYPE_IPV4;
    e.payload = ipb;
    e.payload_len = il;
    size_t w;
    CHECK(tern_eth_emit(&e, frame, cap, &w) == TERN_OK);
    return w;
}

/* The land attack: a SYN from the host's own address and port to itself. It made the host's
 * connection answer its own ACKs through the loopback queue inside one poll, without end. Now it
 * is dropped at the IP layer and counted; every call returns; a SYN from elsewhere is still
 * answered (the positive control). */
static void test_land_syn_is_dropped_and_every_call_returns(void) {
    host h;
    host_init(&h, 0, 0);
    tern_addr self = tern_addr_v4(10, 0, 0, 1), other = tern_addr_v4(10, 0, 0, 2);
    tern_sock l;
    CHECK(tern_tcp_open(h.st, &l) == TERN_OK);
    CHECK(tern_tcp_bind(h.st, l, &self, 80) == TERN_OK);
    CHECK(tern_tcp_listen(h.st, l, 8) == TERN_OK);
    uint8_t frame[128];
    size_t n = tcp_frame(frame, sizeof frame, self, self, 80, 80, TERN_TCP_SYN, 1000);
    tern_stack_input(h.st, 1000, 0, frame, n);
    uint64_t t = 1000;
    for (int i = 0; i < 100 && tern_stack_poll_at(h.st) <= t; i++) {
        tern_stack_poll(h.st, t);
    }
    CHECK(tern_stack_poll_at(h.st) > t);
    tern_counters c;
    tern_stack_get_counters(h.st, &c);
    CHECK_EQ_U64(c.ip_martian_src, 1);
    CHECK_EQ_U64(c.tcp_in, 0);
    CHECK_EQ_U64(c.ip_loopback_in, 0);
    CHECK_EQ_U64(tern_tcp_accept_pending(h.st, l), 0);
    /* own address, another port: no connection either */
    n = tcp_frame(frame, sizeof frame, self, self, 4000, 80, TERN_TCP_SYN, 2000);
    tern_stack_input(h.st, 2000, 0, frame, n);
    tern_stack_get_counters(h.st, &c);
    CHECK_EQ_U64(c.ip_martian_src, 2);
    CHECK_EQ_U64(c.tcp_in, 0);
    /* positive control: a SYN from the neighbour gets its SYN-ACK (after ARP: a request first) */
    uint64_t before = h.out.frames;
    n = tcp_frame(frame, sizeof frame, other, self, 4000, 80, TERN_TCP_SYN, 3000);
    tern_stack_input(h.st, 3000, 0, frame, n);
    tern_stack_poll(h.st, 3000);
    tern_stack_get_counters(h.st, &c);
    CHECK_EQ_U64(c.tcp_in, 1);
    CHECK_EQ_U64(c.ip_martian_src, 2);
    CHECK(h.out.frames > before); /* the ARP request for the SYN-ACK's next hop */
    host_free(&h);
}

/* An ARP request from the peer (10.0.0.2) for the host: it learns the peer's MAC. */
static void peer_arp(host *h, uint64_t now) {
    struct tern_arp_repr a;
    memset(&a, 0, sizeof a);
    a.op = 1;
    memcpy(a.sha.b, PEER_MAC, 6);
    a.spa = tern_addr_v4(10, 0, 0, 2);
    a.tpa = tern_addr_v4(10, 0, 0, 1);
    uint8_t arp[64], frame[128];
    size_t w;
    CHECK(tern_arp_emit(&a, arp, sizeof arp, &w) == TERN_OK);
    struct tern_eth_repr e;
    memset(&e, 0, sizeof e);
    memset(e.dst.b, 0xff, 6);
    memcpy(e.src.b, PEER_MAC, 6);
    e.ethertype = TERN_ETHERTYPE_ARP;
    e.payload = arp;
    e.payload_len = w;
    size_t n;
    CHECK(tern_eth_emit(&e, frame, sizeof frame, &n) == TERN_OK);
    tern_stack_input(h->st, now, 0, frame, n);
}

/* A segment from the peer 10.0.0.2:4000 to the host's port 80, then a poll, all at `now`. */
static void peer_seg(host *h, uint64_t now, uint8_t flags, uint32_t seq, uint32_t ack) {
    uint8_t seg[64], ipb[128], frame[160];
    tern_addr src = tern_addr_v4(10, 0, 0, 2), dst = tern_addr_v4(10, 0, 0, 1);
    struct tern_tcp_repr t;
    memset(&t, 0, sizeof t);
    t.src_port = 4000;
    t.dst_port = 80;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.window = 65535;
    size_t tl, il, n;
    CHECK(tern_tcp_emit(&t, &src, &dst, seg, sizeof seg, &tl) == TERN_OK);
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.protocol = 6;
    ip.src = src;
    ip.dst = dst;
    ip.payload = seg;
    ip.payload_len = tl;
    CHECK(tern_ipv4_emit(&ip, ipb, sizeof ipb, &il) == TERN_OK);
    struct tern_eth_repr e;
    memset(&e, 0, sizeof e);
    memcpy(e.dst.b, HOST_MAC, 6);
    memcpy(e.src.b, PEER_MAC, 6);
    e.ethertype = TERN_ETHERTYPE_IPV4;
    e.payload = ipb;
    e.payload_len = il;
    CHECK(tern_eth_emit(&e, frame, sizeof frame, &n) == TERN_OK);
    tern_stack_input(h->st, now, 0, frame, n);
    tern_stack_poll(h->st, now);
}

/* The ACK throttles (RFC 5961 §7) hold from virtual time 0 on: a period that begins at 0 is a
 * period. (They once took a time of 0 for "never", so at t=0 nothing was ever throttled: a land
 * SYN at t=0 looped in spite of them.) */
static void test_ack_throttles_hold_at_time_zero(void) {
    host h;
    host_init(&h, 0, 0);
    tern_addr self = tern_addr_v4(10, 0, 0, 1);
    tern_sock l;
    CHECK(tern_tcp_open(h.st, &l) == TERN_OK);
    CHECK(tern_tcp_bind(h.st, l, &self, 80) == TERN_OK);
    CHECK(tern_tcp_listen(h.st, l, 8) == TERN_OK);
    tern_stack_poll(h.st, 0);
    peer_arp(&h, 0);
    peer_seg(&h, 0, TERN_TCP_SYN, 1000, 0);
    CHECK_EQ_U64(h.out.tcp, 1);
    CHECK(h.out.last.flags == (TERN_TCP_SYN | TERN_TCP_ACK));
    uint32_t iss = h.out.last.seq;
    peer_seg(&h, 0, TERN_TCP_ACK, 1001, iss + 1);
    CHECK_EQ_U64(tern_tcp_accept_pending(h.st, l), 1);
    /* pure ACKs beyond the window: one answer */
    for (int i = 0; i < 3; i++) {
        peer_seg(&h, 0, TERN_TCP_ACK, 1001 + 200000, iss + 1);
    }
    CHECK_EQ_U64(h.out.tcp, 2);
    CHECK_EQ_U64(h.out.last.seq, iss + 1);
    CHECK_EQ_U64(h.out.last.ack, 1001);
    /* RSTs inside the window, not at RCV.NXT: challenge_ack_limit (10) answers */
    for (int i = 0; i < 12; i++) {
        peer_seg(&h, 0, TERN_TCP_RST, 1001 + 5 + (uint32_t)i, 0);
    }
    CHECK_EQ_U64(h.out.tcp, 12);
    tern_counters c;
    tern_stack_get_counters(h.st, &c);
    CHECK_EQ_U64(c.tcp_challenge_acks, 10);
    CHECK_EQ_U64(c.tcp_acks_rate_limited, 2 + 2);
    /* a new period: the pure-ACK answer again at 500 ms, not before */
    peer_seg(&h, 500000000ull - 1, TERN_TCP_ACK, 1001 + 200000, iss + 1);
    CHECK_EQ_U64(h.out.tcp, 12);
    peer_seg(&h, 500000000ull, TERN_TCP_ACK, 1001 + 200000, iss + 1);
    CHECK_EQ_U64(h.out.tcp, 13);
    host_free(&h);
}

int main(void) {
    RUN(test_one_poll_delivers_a_bounded_number_of_looped_back_datagrams);
    RUN(test_one_poll_sends_a_bounded_number_of_frames);
    RUN(test_land_syn_is_dropped_and_every_call_returns);
    RUN(test_ack_throttles_hold_at_time_zero);
    return check_summary();
}

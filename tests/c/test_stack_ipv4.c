/*
 * The stack's IPv4 layers over the simulator, against a scripted peer that
 * builds and checks frames with the wire layer: ARP (answers, resolution,
 * rate limit, expiry, failure), ICMP echo (small and fragmented), UDP
 * (delivery, echo, port unreachable), fragmentation and reassembly, routing
 * through a gateway, forwarding with TTL, and bad input.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/stack.h"
#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/icmpv4.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define MS 1000000ull
#define SEC 1000000000ull

static const uint8_t HOST_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

typedef struct bench {
    sim *s;
    sim_node_id host, peer;
    sim_link_id link;
    tern_stack *st;
} bench;

static tern_addr A(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return tern_addr_v4(a, b, c, d);
}

static bench make_bench(void) {
    bench b;
    CHECK(sim_create(7, &b.s) == TERN_OK);
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, 7);
    cfg.niface = 1;
    memcpy(cfg.iface[0].mac, HOST_MAC, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = A(10, 0, 0, 1);
    cfg.iface[0].prefix_len[0] = 24;
    CHECK(sim_host_add(b.s, "dut", &cfg, &b.host) == TERN_OK);
    CHECK(sim_peer_add(b.s, "peer", 1, 0, &b.peer) == TERN_OK);
    CHECK(sim_link_add(b.s, b.host, 0, b.peer, 0, &b.link) == TERN_OK);
    b.st = sim_host_stack(b.s, b.host);
    CHECK(b.st != NULL);
    return b;
}

/* ---- frames the peer sends ---------------------------------------------------- */

static void peer_send_eth(bench *b, const uint8_t dst[6], uint16_t type, const uint8_t *payload,
                          size_t len) {
    uint8_t frame[70000];
    struct tern_eth_repr e;
    memset(&e, 0, sizeof e);
    memcpy(e.dst.b, dst, 6);
    memcpy(e.src.b, PEER_MAC, 6);
    e.ethertype = type;
    e.payload = payload;
    e.payload_len = len;
    size_t w;
    CHECK(tern_eth_emit(&e, frame, sizeof frame, &w) == TERN_OK);
    if (w < 60) {
        memset(frame + w, 0, 60 - w);
        w = 60;
    }
    CHECK(sim_peer_send(b->s, b->peer, 0, frame, w) == TERN_OK);
}

static void peer_send_arp(bench *b, uint16_t op, const uint8_t eth_dst[6], tern_addr spa,
                          tern_addr tpa, const uint8_t tha[6]) {
    struct tern_arp_repr r;
    memset(&r, 0, sizeof r);
    r.op = op;
    memcpy(r.sha.b, PEER_MAC, 6);
    r.spa = spa;
    memcpy(r.tha.b, tha, 6);
    r.tpa = tpa;
    uint8_t buf[64];
    size_t w;
    CHECK(tern_arp_emit(&r, buf, sizeof buf, &w) == TERN_OK);
    peer_send_eth(b, eth_dst, TERN_ETHERTYPE_ARP, buf, w);
}

/* An IPv4 datagram from the peer (10.0.0.2 unless src given). */
static void peer_send_ip(bench *b, tern_addr src, tern_addr dst, uint8_t proto, uint8_t ttl,
                         uint16_t id, uint16_t frag_off, bool mf, const uint8_t *payload,
                         size_t len) {
    uint8_t buf[70000];
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = ttl;
    ip.protocol = proto;
    ip.id = id;
    ip.frag_offset = frag_off;
    ip.mf = mf;
    ip.src = src;
    ip.dst = dst;
    ip.payload = payload;
    ip.payload_len = len;
    size_t w;
    CHECK(tern_ipv4_emit(&ip, buf, sizeof buf, &w) == TERN_OK);
    peer_send_eth(b, HOST_MAC, TERN_ETHERTYPE_IPV4, buf, w);
}

static size_t make_echo(uint8_t *buf, uint8_t type, uint16_t id, uint16_t seq, size_t len) {
    struct tern_icmpv4_repr r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.echo_id = id;
    r.echo_seq = seq;
    uint8_t data[70000];
    for (size_t i = 0; i < len; i++) {
        data[i] = (uint8_t)(i * 7 + seq);
    }
    r.payload = data;
    r.payload_len = len;
    size_t w;
    CHECK(tern_icmpv4_emit(&r, buf, 70000, &w) == TERN_OK);
    return w;
}

static size_t make_udp(uint8_t *buf, tern_addr src, tern_addr dst, uint16_t sport, uint16_t dport,
                       const uint8_t *data, size_t len) {
    struct tern_udp_repr r = {.src_port = sport, .dst_port = dport};
    r.payload = data;
    r.payload_len = len;
    size_t w;
    CHECK(tern_udp_emit(&r, &src, &dst, buf, 70000, &w) == TERN_OK);
    return w;
}

/* ---- frames the peer receives ------------------------------------------------ */

typedef struct rx {
    uint64_t time;
    size_t len;
    uint8_t frame[SIM_MAX_FRAME];
    struct tern_eth_repr eth;
} rx;

static rx got;

/* The next frame the peer received, or false. */
static bool peer_recv(bench *b) {
    if (sim_peer_recv(b->s, b->peer, got.frame, sizeof got.frame, &got.len, NULL, &got.time) !=
        TERN_OK) {
        return false;
    }
    CHECK(tern_eth_parse(got.frame, got.len, &got.eth) == TERN_OK);
    return true;
}

static void run_for(bench *b, uint64_t ns) {
    CHECK(sim_run(b->s, sim_now(b->s) + ns, 0, NULL) == TERN_OK);
}

/* The peer answers the host's ARP request for 10.0.0.2 (consumes it). */
static void answer_arp(bench *b) {
    CHECK(peer_recv(b));
    struct tern_arp_repr r;
    CHECK(got.eth.ethertype == TERN_ETHERTYPE_ARP);
    CHECK(tern_arp_parse(got.eth.payload, got.eth.payload_len, &r) == TERN_OK);
    CHECK_EQ_U64(r.op, TERN_ARP_OP_REQUEST);
    peer_send_arp(b, TERN_ARP_OP_REPLY, r.sha.b, r.tpa, r.spa, r.sha.b);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_arp_request_is_answered(void) {
    bench b = make_bench();
    static const uint8_t zero[6] = {0};
    peer_send_arp(&b, TERN_ARP_OP_REQUEST, BCAST, A(10, 0, 0, 2), A(10, 0, 0, 1), zero);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b));
    CHECK(memcmp(got.eth.dst.b, PEER_MAC, 6) == 0);
    CHECK(memcmp(got.eth.src.b, HOST_MAC, 6) == 0);
    CHECK_EQ_U64(got.len, 60); /* padded to the Ethernet minimum */
    struct tern_arp_repr r;
    CHECK(tern_arp_parse(got.eth.payload, got.eth.payload_len, &r) == TERN_OK);
    CHECK_EQ_U64(r.op, TERN_ARP_OP_REPLY);
    CHECK(tern_addr_eq(&r.spa, &(tern_addr){0}) == false);
    tern_addr want = A(10, 0, 0, 1);
    CHECK(tern_addr_eq(&r.spa, &want));
    CHECK(memcmp(r.sha.b, HOST_MAC, 6) == 0);
    /* The requester was cached (RFC 826: the packet is for us). */
    uint8_t mac[6];
    tern_addr peer_ip = A(10, 0, 0, 2);
    CHECK(tern_arp_lookup(b.st, sim_now(b.s), &peer_ip, mac) == TERN_OK);
    CHECK(memcmp(mac, PEER_MAC, 6) == 0);
    /* A request for another address is not answered. */
    peer_send_arp(&b, TERN_ARP_OP_REQUEST, BCAST, A(10, 0, 0, 2), A(10, 0, 0, 9), zero);
    run_for(&b, 1 * MS);
    CHECK(!peer_recv(&b));
    sim_destroy(b.s);
}

static void test_ping_echo_every_size_including_fragmented(void) {
    bench b = make_bench();
    static const uint8_t zero[6] = {0};
    peer_send_arp(&b, TERN_ARP_OP_REQUEST, BCAST, A(10, 0, 0, 2), A(10, 0, 0, 1), zero);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b));
    size_t sizes[] = {0, 1, 56, 1472, 1473, 3000, 8972, 65507};
    uint8_t *req = malloc(70000), *frag = malloc(70000);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = make_echo(req, TERN_ICMPV4_ECHO_REQUEST, 0x1234, (uint16_t)k, sizes[k]);
        /* Send it in fragments of at most 1480 data bytes, as a 1500-MTU sender would. */
        for (size_t off = 0; off < n; off += 1480) {
            size_t part = n - off < 1480 ? n - off : 1480;
            peer_send_ip(&b, A(10, 0, 0, 2), A(10, 0, 0, 1), TERN_IPPROTO_ICMP, 64,
                         (uint16_t)(100 + k), (uint16_t)off, off + part < n, req + off, part);
        }
        run_for(&b, 10 * MS);
        /* Collect the reply's fragments and reassemble them here. */
        size_t total = 0, frames = 0, seen = 0;
        while (peer_recv(&b)) {
            struct tern_ipv4_repr ip;
            CHECK(tern_ipv4_parse(got.eth.payload, got.eth.payload_len, &ip) == TERN_OK);
            CHECK(got.eth.payload_len <= 1500);
            memcpy(frag + ip.frag_offset, ip.payload, ip.payload_len);
            seen += ip.payload_len;
            if (!ip.mf) {
                total = ip.frag_offset + ip.payload_len;
            }
            frames++;
        }
        CHECK_EQ_U64(total, n);
        CHECK_EQ_U64(seen, n);
        CHECK_EQ_U64(frames, (n + 1479) / 1480);
        struct tern_icmpv4_repr r;
        CHECK(tern_icmpv4_parse(frag, total, &r) == TERN_OK);
        CHECK_EQ_U64(r.type, TERN_ICMPV4_ECHO_REPLY);
        CHECK_EQ_U64(r.echo_id, 0x1234);
        CHECK_EQ_U64(r.echo_seq, k);
        CHECK_EQ_U64(r.payload_len, sizes[k]);
        CHECK(memcmp(r.payload, req + 8, sizes[k]) == 0);
    }
    tern_counters c;
    tern_stack_get_counters(b.st, &c);
    CHECK_EQ_U64(c.icmp_echo_replies_sent, 8);
    CHECK_EQ_U64(c.ip_reassembled, 4); /* 1481, 3008, 8980 and 65515 bytes */
    free(req);
    free(frag);
    sim_destroy(b.s);
}

static void test_arp_resolution_rate_limit_and_failure(void) {
    bench b = make_bench();
    tern_sock s;
    CHECK(tern_udp_open(b.st, &s) == TERN_OK);
    tern_addr dst = A(10, 0, 0, 2);
    CHECK(tern_udp_sendto(b.st, s, &dst, 7, (const uint8_t *)"hello", 5) == TERN_OK);
    CHECK(sim_node_wake(b.s, b.host) == TERN_OK);
    /* Nobody answers: requests at 0, 1 s, 2 s (one per second), then host unreachable at 3 s. */
    uint64_t times[4] = {0};
    int n = 0;
    for (int i = 0; i < 5; i++) {
        run_for(&b, 1 * SEC);
        while (peer_recv(&b)) {
            CHECK(got.eth.ethertype == TERN_ETHERTYPE_ARP);
            if (n < 4) {
                times[n] = got.time;
            }
            n++;
        }
    }
    CHECK_EQ_U64(n, 3);
    CHECK_EQ_U64(times[0], 0);
    CHECK_EQ_U64(times[1], 1 * SEC);
    CHECK_EQ_U64(times[2], 2 * SEC);
    tern_counters c;
    tern_stack_get_counters(b.st, &c);
    CHECK_EQ_U64(c.arp_resolution_failed, 1);
    CHECK_EQ_U64(c.arp_requests_sent, 3);
    /* The failure reached the socket as ICMP host unreachable (RFC 1122 §2.3.2.2). */
    run_for(&b, 1 * MS);
    tern_sock_error e;
    CHECK(tern_udp_take_error(b.st, s, &e) == TERN_OK);
    CHECK_EQ_U64(e.icmp_type, 3);
    CHECK_EQ_U64(e.icmp_code, 1);
    sim_destroy(b.s);
}

static void test_udp_resolve_send_echo_and_expiry(void) {
    bench b = make_bench();
    tern_sock s;
    CHECK(tern_udp_open(b.st, &s) == TERN_OK);
    CHECK(tern_udp_bind(b.st, s, NULL, 5000) == TERN_OK);
    tern_addr peer_ip = A(10, 0, 0, 2), host_ip = A(10, 0, 0, 1);
    CHECK(tern_udp_sendto(b.st, s, &peer_ip, 7, (const uint8_t *)"ping", 4) == TERN_OK);
    sim_node_wake(b.s, b.host);
    run_for(&b, 1 * MS);
    answer_arp(&b);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b));
    struct tern_ipv4_repr ip;
    CHECK(tern_ipv4_parse(got.eth.payload, got.eth.payload_len, &ip) == TERN_OK);
    struct tern_udp_repr u;
    CHECK(tern_udp_parse(ip.payload, ip.payload_len, &ip.src, &ip.dst, &u) == TERN_OK);
    CHECK_EQ_U64(u.src_port, 5000);
    CHECK_EQ_U64(u.dst_port, 7);
    CHECK(u.checksum != 0);
    CHECK(u.payload_len == 4 && memcmp(u.payload, "ping", 4) == 0);
    CHECK_EQ_U64(ip.ttl, 64);
    /* The peer answers; the socket gets the datagram with its source. */
    uint8_t buf[100];
    size_t n = make_udp(buf, peer_ip, host_ip, 7, 5000, (const uint8_t *)"pong!", 5);
    peer_send_ip(&b, peer_ip, host_ip, TERN_IPPROTO_UDP, 64, 1, 0, false, buf, n);
    run_for(&b, 1 * MS);
    uint8_t rbuf[100];
    size_t rlen;
    tern_addr from;
    uint16_t sport;
    CHECK(tern_udp_recvfrom(b.st, s, rbuf, sizeof rbuf, &rlen, &from, &sport, NULL, NULL) ==
          TERN_OK);
    CHECK(rlen == 5 && memcmp(rbuf, "pong!", 5) == 0);
    CHECK(tern_addr_eq(&from, &peer_ip));
    CHECK_EQ_U64(sport, 7);
    /* Zero checksum means none (RFC 768): accepted. */
    n = make_udp(buf, peer_ip, host_ip, 7, 5000, (const uint8_t *)"z", 1);
    buf[6] = buf[7] = 0;
    peer_send_ip(&b, peer_ip, host_ip, TERN_IPPROTO_UDP, 64, 2, 0, false, buf, n);
    run_for(&b, 1 * MS);
    CHECK_EQ_U64(tern_udp_pending(b.st, s), 1);
    /* A closed port: ICMP port unreachable quoting the datagram. */
    n = make_udp(buf, peer_ip, host_ip, 7, 5001, (const uint8_t *)"x", 1);
    peer_send_ip(&b, peer_ip, host_ip, TERN_IPPROTO_UDP, 64, 3, 0, false, buf, n);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b));
    CHECK(tern_ipv4_parse(got.eth.payload, got.eth.payload_len, &ip) == TERN_OK);
    struct tern_icmpv4_repr icmp;
    CHECK(tern_icmpv4_parse(ip.payload, ip.payload_len, &icmp) == TERN_OK);
    CHECK_EQ_U64(icmp.type, 3);
    CHECK_EQ_U64(icmp.code, 3);
    CHECK_EQ_U64(icmp.payload_len, 20 + 9);
    /* The cache entry expires 60 s after the reply: the next datagram resolves again. */
    CHECK(sim_run(b.s, 60 * SEC + 1 * MS, 0, NULL) == TERN_OK);
    while (peer_recv(&b)) {
    }
    CHECK(tern_udp_sendto(b.st, s, &peer_ip, 7, (const uint8_t *)"again", 5) == TERN_OK);
    sim_node_wake(b.s, b.host);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b));
    CHECK(got.eth.ethertype == TERN_ETHERTYPE_ARP);
    sim_destroy(b.s);
}

static void test_reassembly_out_of_order_overlap_and_timeout(void) {
    bench b = make_bench();
    static const uint8_t zero[6] = {0};
    peer_send_arp(&b, TERN_ARP_OP_REQUEST, BCAST, A(10, 0, 0, 2), A(10, 0, 0, 1), zero);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b));
    tern_addr peer_ip = A(10, 0, 0, 2), host_ip = A(10, 0, 0, 1);
    uint8_t req[4000];
    size_t n = make_echo(req, TERN_ICMPV4_ECHO_REQUEST, 1, 1, 2000);
    /* Out of order, with an overlap whose bytes agree: reassembled. */
    peer_send_ip(&b, peer_ip, host_ip, 1, 64, 9, 1600, false, req + 1600, n - 1600);
    peer_send_ip(&b, peer_ip, host_ip, 1, 64, 9, 800, true, req + 800, 1000);
    peer_send_ip(&b, peer_ip, host_ip, 1, 64, 9, 0, true, req, 800);
    run_for(&b, 1 * MS);
    int replies = 0;
    while (peer_recv(&b)) {
        replies++;
    }
    CHECK(replies >= 1);
    /* An overlap whose bytes disagree: the datagram is dropped. */
    uint8_t evil[1000];
    memcpy(evil, req + 800, 1000);
    evil[900] ^= 0xff;
    peer_send_ip(&b, peer_ip, host_ip, 1, 64, 10, 0, true, req, 1600);
    peer_send_ip(&b, peer_ip, host_ip, 1, 64, 10, 800, true, evil, 1000);
    peer_send_ip(&b, peer_ip, host_ip, 1, 64, 10, 1600, false, req + 1600, n - 1600);
    run_for(&b, 1 * MS);
    CHECK(!peer_recv(&b));
    tern_counters c;
    tern_stack_get_counters(b.st, &c);
    CHECK_EQ_U64(c.ip_reasm_dropped, 1);
    /* First fragment only: 30 s later, ICMP time exceeded (reassembly), exactly. */
    uint64_t t0 = sim_now(b.s);
    peer_send_ip(&b, peer_ip, host_ip, 1, 64, 11, 0, true, req, 800);
    CHECK(sim_run(b.s, t0 + 30 * SEC - 1, 0, NULL) == TERN_OK);
    CHECK(!peer_recv(&b));
    CHECK(sim_run(b.s, t0 + 30 * SEC, 0, NULL) == TERN_OK);
    CHECK(peer_recv(&b));
    CHECK_EQ_U64(got.time, t0 + 30 * SEC);
    struct tern_ipv4_repr ip;
    CHECK(tern_ipv4_parse(got.eth.payload, got.eth.payload_len, &ip) == TERN_OK);
    struct tern_icmpv4_repr icmp;
    CHECK(tern_icmpv4_parse(ip.payload, ip.payload_len, &icmp) == TERN_OK);
    CHECK_EQ_U64(icmp.type, 11);
    CHECK_EQ_U64(icmp.code, 1);
    /* A non-first fragment alone times out silently. */
    t0 = sim_now(b.s);
    peer_send_ip(&b, peer_ip, host_ip, 1, 64, 12, 800, true, req + 800, 800);
    CHECK(sim_run(b.s, t0 + 31 * SEC, 0, NULL) == TERN_OK);
    CHECK(!peer_recv(&b));
    tern_stack_get_counters(b.st, &c);
    CHECK_EQ_U64(c.ip_reasm_timeout, 2);
    sim_destroy(b.s);
}

static void test_no_error_about_errors_or_broadcasts(void) {
    bench b = make_bench();
    static const uint8_t zero[6] = {0};
    peer_send_arp(&b, TERN_ARP_OP_REQUEST, BCAST, A(10, 0, 0, 2), A(10, 0, 0, 1), zero);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b));
    tern_addr peer_ip = A(10, 0, 0, 2);
    uint8_t buf[100];
    /* UDP to a closed port sent to the subnet broadcast: no port unreachable. */
    tern_addr bcast = A(10, 0, 0, 255);
    size_t n = make_udp(buf, peer_ip, bcast, 1, 9, (const uint8_t *)"b", 1);
    peer_send_ip(&b, peer_ip, bcast, TERN_IPPROTO_UDP, 64, 1, 0, false, buf, n);
    /* An unknown protocol: protocol unreachable (one). */
    tern_addr host_ip = A(10, 0, 0, 1);
    peer_send_ip(&b, peer_ip, host_ip, 253, 64, 2, 0, false, buf, 8);
    /* An ICMP error to us about nothing of ours: no answer. */
    run_for(&b, 1 * MS);
    int frames = 0;
    while (peer_recv(&b)) {
        struct tern_ipv4_repr ip;
        CHECK(tern_ipv4_parse(got.eth.payload, got.eth.payload_len, &ip) == TERN_OK);
        struct tern_icmpv4_repr icmp;
        CHECK(tern_icmpv4_parse(ip.payload, ip.payload_len, &icmp) == TERN_OK);
        CHECK_EQ_U64(icmp.type, 3);
        CHECK_EQ_U64(icmp.code, 2);
        frames++;
    }
    CHECK_EQ_U64(frames, 1);
    /* Rate limit: a burst of 10, then one per 10 ms (100/s). */
    for (int i = 0; i < 30; i++) {
        peer_send_ip(&b, peer_ip, host_ip, 253, 64, (uint16_t)(10 + i), 0, false, buf, 8);
    }
    run_for(&b, 1 * MS);
    frames = 0;
    while (peer_recv(&b)) {
        frames++;
    }
    CHECK(frames >= 8 && frames <= 10);
    tern_counters c;
    tern_stack_get_counters(b.st, &c);
    CHECK(c.icmp_rate_limited >= 20);
    sim_destroy(b.s);
}

/* A router: a Tern host with two interfaces and forwarding on, between two peers. */
static void test_forwarding_ttl_and_frag_needed(void) {
    sim *s;
    CHECK(sim_create(3, &s) == TERN_OK);
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, 3);
    cfg.niface = 2;
    cfg.forwarding = true;
    memcpy(cfg.iface[0].mac, HOST_MAC, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = A(10, 0, 0, 1);
    cfg.iface[0].prefix_len[0] = 24;
    uint8_t mac1[6] = {0x02, 0, 0, 0, 1, 0x01};
    memcpy(cfg.iface[1].mac, mac1, 6);
    cfg.iface[1].naddrs = 1;
    cfg.iface[1].addr[0] = A(10, 0, 1, 1);
    cfg.iface[1].prefix_len[0] = 24;
    cfg.iface[1].mtu = 576;
    sim_node_id r, p0, p1;
    sim_link_id l0, l1;
    CHECK(sim_host_add(s, "router", &cfg, &r) == TERN_OK);
    CHECK(sim_peer_add(s, "p0", 1, 0, &p0) == TERN_OK);
    CHECK(sim_peer_add(s, "p1", 1, 0, &p1) == TERN_OK);
    CHECK(sim_link_add(s, r, 0, p0, 0, &l0) == TERN_OK);
    CHECK(sim_link_add(s, r, 1, p1, 0, &l1) == TERN_OK);
    bench b = {.s = s, .host = r, .peer = p0, .link = l0, .st = sim_host_stack(s, r)};
    bench b1 = {.s = s, .host = r, .peer = p1, .link = l1, .st = b.st};
    static const uint8_t zero[6] = {0};
    /* p0 (10.0.0.2) announces itself so the router can answer without asking. */
    peer_send_arp(&b, TERN_ARP_OP_REQUEST, BCAST, A(10, 0, 0, 2), A(10, 0, 0, 1), zero);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b));
    uint8_t buf[2000] = {0};
    tern_addr src = A(10, 0, 0, 2), dst = A(10, 0, 1, 2);
    /* Forwarded with TTL 64 -> 63, after the router resolves p1. */
    size_t n = make_udp(buf, src, dst, 1, 2, (const uint8_t *)"fwd", 3);
    peer_send_ip(&b, src, dst, TERN_IPPROTO_UDP, 64, 1, 0, false, buf, n);
    run_for(&b, 1 * MS);
    answer_arp(&b1);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b1));
    struct tern_ipv4_repr ip;
    CHECK(tern_ipv4_parse(got.eth.payload, got.eth.payload_len, &ip) == TERN_OK);
    CHECK_EQ_U64(ip.ttl, 63);
    CHECK(tern_addr_eq(&ip.dst, &dst));
    /* TTL 1: time exceeded back to the source. */
    peer_send_ip(&b, src, dst, TERN_IPPROTO_UDP, 1, 2, 0, false, buf, n);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b));
    CHECK(tern_ipv4_parse(got.eth.payload, got.eth.payload_len, &ip) == TERN_OK);
    struct tern_icmpv4_repr icmp;
    CHECK(tern_icmpv4_parse(ip.payload, ip.payload_len, &icmp) == TERN_OK);
    CHECK_EQ_U64(icmp.type, 11);
    CHECK_EQ_U64(icmp.code, 0);
    /* 1000 bytes with DF toward the 576-MTU side: fragmentation needed, MTU 576 (RFC 1191). */
    n = make_udp(buf, src, dst, 1, 2, buf + 100, 972);
    uint8_t frame[1100];
    struct tern_ipv4_repr h;
    memset(&h, 0, sizeof h);
    h.ttl = 64;
    h.protocol = TERN_IPPROTO_UDP;
    h.df = true;
    h.src = src;
    h.dst = dst;
    h.payload = buf;
    h.payload_len = n;
    size_t w;
    CHECK(tern_ipv4_emit(&h, frame, sizeof frame, &w) == TERN_OK);
    peer_send_eth(&b, HOST_MAC, TERN_ETHERTYPE_IPV4, frame, w);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b));
    CHECK(tern_ipv4_parse(got.eth.payload, got.eth.payload_len, &ip) == TERN_OK);
    CHECK(tern_icmpv4_parse(ip.payload, ip.payload_len, &icmp) == TERN_OK);
    CHECK_EQ_U64(icmp.type, 3);
    CHECK_EQ_U64(icmp.code, 4);
    CHECK_EQ_U64(icmp.next_hop_mtu, 576);
    /* Without DF: fragmented to fit 576. */
    peer_send_ip(&b, src, dst, TERN_IPPROTO_UDP, 64, 3, 0, false, buf, n);
    run_for(&b, 1 * MS);
    int frags = 0;
    while (peer_recv(&b1)) {
        CHECK(got.eth.payload_len <= 576);
        frags++;
    }
    CHECK_EQ_U64(frags, 2);
    sim_destroy(s);
}

/* A host with a default route sends off-link through its gateway. */
static void test_default_gateway(void) {
    bench b = make_bench();
    tern_addr gw = A(10, 0, 0, 2), any = A(0, 0, 0, 0), far = A(192, 0, 2, 9);
    CHECK(tern_route_add(b.st, &any, 0, &gw, 0) == TERN_OK);
    tern_sock s;
    CHECK(tern_udp_open(b.st, &s) == TERN_OK);
    CHECK(tern_udp_sendto(b.st, s, &far, 53, (const uint8_t *)"q", 1) == TERN_OK);
    sim_node_wake(b.s, b.host);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b));
    struct tern_arp_repr r;
    CHECK(tern_arp_parse(got.eth.payload, got.eth.payload_len, &r) == TERN_OK);
    CHECK(tern_addr_eq(&r.tpa, &gw)); /* it asks for the gateway, not the destination */
    peer_send_arp(&b, TERN_ARP_OP_REPLY, HOST_MAC, gw, A(10, 0, 0, 1), HOST_MAC);
    run_for(&b, 1 * MS);
    CHECK(peer_recv(&b));
    struct tern_ipv4_repr ip;
    CHECK(tern_ipv4_parse(got.eth.payload, got.eth.payload_len, &ip) == TERN_OK);
    CHECK(tern_addr_eq(&ip.dst, &far));
    CHECK(memcmp(got.eth.dst.b, PEER_MAC, 6) == 0);
    /* No route at all: refused at once. */
    CHECK(tern_route_del(b.st, &any, 0) == TERN_OK);
    CHECK(tern_udp_sendto(b.st, s, &far, 53, (const uint8_t *)"q", 1) == TERN_ERR_NO_ROUTE);
    CHECK_CONTAINS(tern_stack_last_error(b.st), "192.0.2.9");
    sim_destroy(b.s);
}

static void test_any_bytes_are_survived(void) {
    bench b = make_bench();
    uint8_t junk[2000];
    uint64_t x = 1;
    for (int round = 0; round < 2000; round++) {
        size_t len = 1 + (size_t)(round * 37 % 1600);
        for (size_t i = 0; i < len; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            junk[i] = (uint8_t)(x >> 56);
        }
        /* Make many of them look like IPv4 or ARP for us, to get deeper. */
        memcpy(junk, HOST_MAC, 6);
        if (round % 2 && len > 14) {
            junk[12] = 0x08;
            junk[13] = round % 4 == 1 ? 0x00 : 0x06;
            if (len > 15) {
                junk[14] = 0x45;
            }
        }
        CHECK(sim_peer_send(b.s, b.peer, 0, junk, len) == TERN_OK);
    }
    run_for(&b, 1 * SEC);
    tern_counters c;
    tern_stack_get_counters(b.st, &c);
    CHECK_EQ_U64(c.frames_in, 2000);
    sim_destroy(b.s);
}

int main(void) {
    RUN(test_arp_request_is_answered);
    RUN(test_ping_echo_every_size_including_fragmented);
    RUN(test_arp_resolution_rate_limit_and_failure);
    RUN(test_udp_resolve_send_echo_and_expiry);
    RUN(test_reassembly_out_of_order_overlap_and_timeout);
    RUN(test_no_error_about_errors_or_broadcasts);
    RUN(test_forwarding_ttl_and_frag_needed);
    RUN(test_default_gateway);
    RUN(test_any_bytes_are_survived);
    return check_summary();
}

/*
 * The harness's checksum verification of what a Tern host sends (issue 11):
 * sim_frame_check on raw frames (IPv4 header, TCP, UDP, ICMP; fragments; UDP
 * without a checksum; VLAN), and the host adapter that applies it to every
 * frame at the host's output, so that a link's deliberate corruption (a
 * corrupt impairment) never fails the host, and a frame the host sent wrong
 * fails the run naming the frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/frame_check.h"
#include "core/stack_internal.h"
#include "tern/sim.h"
#include "tern/sim_host.h"
#include "wire/ethernet.h"
#include "wire/icmpv4.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

/*
 * sim_frame_check and sim_frame_check_copy (the check done during the
 * simulator's wire copy) on the same frame: the same verdict, the same reason,
 * and the copy byte for byte the frame, with nothing written past it.
 */
static bool check_both(const uint8_t *f, size_t n, char *why, size_t cap) {
    static uint8_t copy[SIM_MAX_FRAME + 1];
    char why_copy[160] = "";
    bool ok = sim_frame_check(f, n, why, cap);
    memset(copy, 0xa5, n + 1);
    bool ok_copy = sim_frame_check_copy(copy, f, n, why_copy, sizeof why_copy);
    CHECK(ok == ok_copy);
    if (!ok) {
        CHECK(strcmp(why, why_copy) == 0);
    }
    CHECK(memcmp(copy, f, n) == 0);
    CHECK_EQ_U64(copy[n], 0xa5);
    return ok;
}
static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1}, MAC_B[6] = {2, 0, 0, 0, 0, 2};

/* An Ethernet + IPv4 frame around l4 (protocol proto), built by the stack's emitters. */
static size_t ip_frame(uint8_t *out, size_t cap, uint8_t proto, const uint8_t *l4, size_t l4len,
                       uint16_t frag) {
    uint8_t ipbuf[2000];
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.protocol = proto;
    ip.src = tern_addr_v4(10, 0, 0, 1);
    ip.dst = tern_addr_v4(10, 0, 0, 2);
    ip.mf = (frag & 0x2000) != 0;
    ip.frag_offset = (uint16_t)((frag & 0x1fff) * 8);
    ip.payload = l4;
    ip.payload_len = l4len;
    size_t w, fw;
    CHECK(tern_ipv4_emit(&ip, ipbuf, sizeof ipbuf, &w) == TERN_OK);
    struct tern_eth_repr e;
    memset(&e, 0, sizeof e);
    memcpy(e.dst.b, MAC_B, 6);
    memcpy(e.src.b, MAC_A, 6);
    e.ethertype = TERN_ETHERTYPE_IPV4;
    e.payload = ipbuf;
    e.payload_len = w;
    CHECK(tern_eth_emit(&e, out, cap, &fw) == TERN_OK);
    return fw;
}

static size_t tcp_frame(uint8_t *out, size_t cap) {
    tern_addr a = tern_addr_v4(10, 0, 0, 1), b = tern_addr_v4(10, 0, 0, 2);
    struct tern_tcp_repr t;
    memset(&t, 0, sizeof t);
    t.src_port = 80;
    t.dst_port = 4000;
    t.seq = 123456;
    t.ack = 999;
    t.flags = TERN_TCP_ACK | TERN_TCP_PSH;
    t.window = 1000;
    static const uint8_t data[] = "some payload, odd length";
    t.payload = data;
    t.payload_len = sizeof data;
    uint8_t seg[200];
    size_t w;
    CHECK(tern_tcp_emit(&t, &a, &b, seg, sizeof seg, &w) == TERN_OK);
    return ip_frame(out, cap, TERN_IPPROTO_TCP, seg, w, 0);
}

static size_t udp_frame(uint8_t *out, size_t cap, bool no_checksum) {
    tern_addr a = tern_addr_v4(10, 0, 0, 1), b = tern_addr_v4(10, 0, 0, 2);
    struct tern_udp_repr u;
    memset(&u, 0, sizeof u);
    u.src_port = 7;
    u.dst_port = 9;
    static const uint8_t data[] = {1, 2, 3};
    u.payload = data;
    u.payload_len = sizeof data;
    uint8_t seg[64];
    size_t w;
    CHECK(tern_udp_emit(&u, &a, &b, seg, sizeof seg, &w) == TERN_OK);
    if (no_checksum) {
        seg[6] = seg[7] = 0;
    }
    return ip_frame(out, cap, TERN_IPPROTO_UDP, seg, w, 0);
}

static size_t icmp_frame(uint8_t *out, size_t cap) {
    struct tern_icmpv4_repr r;
    memset(&r, 0, sizeof r);
    r.type = 0;
    r.echo_id = 7;
    r.echo_seq = 1;
    static const uint8_t data[] = "ping";
    r.payload = data;
    r.payload_len = sizeof data;
    uint8_t msg[64];
    size_t w;
    CHECK(tern_icmpv4_emit(&r, msg, sizeof msg, &w) == TERN_OK);
    return ip_frame(out, cap, TERN_IPPROTO_ICMP, msg, w, 0);
}

/* The frame checks out; with the byte at `at` changed it fails, and the reason names `what`. */
static void good_then_bad(uint8_t *f, size_t len, size_t at, const char *what) {
    char why[160] = "";
    CHECK(check_both(f, len, why, sizeof why));
    f[at] ^= 0x10;
    CHECK(!check_both(f, len, why, sizeof why));
    CHECK_CONTAINS(why, what);
    f[at] ^= 0x10;
}

static void test_each_protocol(void) {
    uint8_t f[300];
    size_t n = tcp_frame(f, sizeof f);
    good_then_bad(f, n, 14 + 10, "IPv4 header checksum"); /* the field itself */
    good_then_bad(f, n, 14 + 8, "IPv4 header checksum");  /* the TTL it covers */
    good_then_bad(f, n, 14 + 20 + 16, "TCP checksum");
    good_then_bad(f, n, n - 1, "TCP checksum"); /* the last payload byte (odd length) */
    n = udp_frame(f, sizeof f, false);
    good_then_bad(f, n, 14 + 20 + 8, "UDP checksum");
    n = icmp_frame(f, sizeof f);
    good_then_bad(f, n, 14 + 20 + 5, "ICMP checksum");
}

/*
 * Every payload length 0..1460 (each alignment of the 8-byte sum and its
 * tail, odd lengths too), with bytes that carry out of every word (0xff
 * runs) or not: the stack's frame checks out, one bit flipped in its last
 * byte fails it, and a wrong checksum field is reported with the right value.
 */
static void test_every_length(void) {
    static uint8_t data[1460], seg[1600], f[1700];
    tern_addr a = tern_addr_v4(10, 0, 0, 1), b = tern_addr_v4(10, 0, 0, 2);
    for (int pattern = 0; pattern < 2; pattern++) {
        for (size_t i = 0; i < sizeof data; i++) {
            data[i] = pattern ? 0xff : (uint8_t)(i * 37u + 11u);
        }
        for (size_t len = 0; len <= sizeof data; len++) {
            struct tern_tcp_repr t;
            memset(&t, 0, sizeof t);
            t.src_port = 80;
            t.dst_port = 4000;
            t.seq = (uint32_t)len * 7919u;
            t.flags = TERN_TCP_ACK;
            t.window = 1000;
            t.payload = data;
            t.payload_len = len;
            size_t w;
            CHECK(tern_tcp_emit(&t, &a, &b, seg, sizeof seg, &w) == TERN_OK);
            size_t n = ip_frame(f, sizeof f, TERN_IPPROTO_TCP, seg, w, 0);
            char why[160] = "", want[16];
            CHECK(check_both(f, n, why, sizeof why));
            snprintf(want, sizeof want, "be 0x%02x%02x", f[14 + 20 + 16], f[14 + 20 + 17]);
            f[14 + 20 + w - 1] ^= 0x01; /* the segment's last byte */
            CHECK(!check_both(f, n, why, sizeof why));
            CHECK_CONTAINS(why, "TCP checksum");
            f[14 + 20 + w - 1] ^= 0x01;
            f[14 + 20 + 16] ^= 0x01; /* the field itself: the right value is named */
            CHECK(!check_both(f, n, why, sizeof why));
            CHECK_CONTAINS(why, want);
        }
    }
}

static void test_what_is_not_checked(void) {
    uint8_t f[300];
    char why[160];
    /* RFC 768: a UDP checksum of zero means none was computed */
    size_t n = udp_frame(f, sizeof f, true);
    CHECK(check_both(f, n, why, sizeof why));
    /* a fragment's transport checksum covers the whole datagram */
    uint8_t junk[16] = {0, 80, 0, 81, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x10, 0, 0};
    n = ip_frame(f, sizeof f, TERN_IPPROTO_TCP, junk, sizeof junk, 0x2000);
    CHECK(check_both(f, n, why, sizeof why));
    /* not IPv4 */
    memset(f, 0, 60);
    f[12] = 0x08;
    f[13] = 0x06;
    CHECK(check_both(f, 60, why, sizeof why));
}

/* The IPv4 header checksum (RFC 791 §3.1) recomputed after a test changed a header field. */
static void fix_ip_sum(uint8_t *ip, size_t ihl) {
    ip[10] = ip[11] = 0;
    uint32_t s = 0;
    for (size_t i = 0; i < ihl; i += 2) {
        s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    ip[10] = (uint8_t)(~s >> 8);
    ip[11] = (uint8_t)~s;
}

static void test_malformed_ipv4_is_reported(void) {
    uint8_t f[300];
    char why[160] = "";
    size_t n = tcp_frame(f, sizeof f);
    f[14 + 2] = 0x05; /* total length 0x05xx: beyond the frame */
    CHECK(!check_both(f, n, why, sizeof why));
    CHECK_CONTAINS(why, "total length");
    /* A total length under the header's own 20 bytes, in a header whose checksum is right:
     * reported before any transport byte is summed (the transport length, total - IHL, would
     * otherwise wrap around to nearly 2^64 bytes). */
    n = tcp_frame(f, sizeof f);
    f[14 + 2] = 0;
    f[14 + 3] = 10;
    fix_ip_sum(f + 14, 20);
    CHECK(!check_both(f, n, why, sizeof why));
    CHECK_CONTAINS(why, "IPv4 total length 10 outside 20..");
    /* The smallest total length that holds the header is accepted: a datagram of the header
     * alone (no TCP header: reported as such, not as a bad length). */
    f[14 + 3] = 20;
    fix_ip_sum(f + 14, 20);
    CHECK(!check_both(f, n, why, sizeof why));
    CHECK_CONTAINS(why, "a TCP header cut short (0 bytes)");
    /* An IHL of 15 (60 bytes) in a frame with 40 bytes of IPv4: the header does not fit. */
    n = tcp_frame(f, sizeof f);
    f[14] = 0x4f;
    CHECK(!check_both(f, 14 + 40, why, sizeof why));
    CHECK_CONTAINS(why, "an IPv4 header that does not fit (version/IHL byte 0x4f, 40 bytes)");
}

/*
 * RFC 1071 §2 (C), deferred carries: the carries out of the 32-bit word sum
 * are added back in, and so is the carry out of folding that sum to 32 bits.
 * An ICMP message whose host-order words are 0xffffffff, 0xffffffff and 1 sums
 * to 0x1_ffffffff, whose two halves add to exactly 2^32: a fold that drops
 * that end-around carry is one off, and names a wrong "should be" value. The
 * message's checksum field (0xffff) is wrong; the value named is the RFC 1071
 * sum done 16 bits at a time, and with it in the field the message checks out.
 */
static void test_end_around_carry(void) {
    uint8_t msg[12];
    const uint32_t words[3] = {0xffffffffu, 0xffffffffu, 1u};
    memcpy(msg, words, sizeof msg);
    uint32_t s = 0;
    for (size_t i = 0; i < sizeof msg; i += 2) {
        s += i == 2 ? 0u : (uint32_t)(msg[i] << 8 | msg[i + 1]); /* the field taken as zero */
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    uint16_t want = (uint16_t)~s;
    uint8_t f[100];
    size_t n = ip_frame(f, sizeof f, TERN_IPPROTO_ICMP, msg, sizeof msg, 0);
    char why[160] = "", text[64];
    CHECK(!check_both(f, n, why, sizeof why));
    snprintf(text, sizeof text, "ICMP checksum 0x%02x%02x, should be 0x%04x", msg[2], msg[3], want);
    CHECK_CONTAINS(why, text);
    f[14 + 20 + 2] = (uint8_t)(want >> 8);
    f[14 + 20 + 3] = (uint8_t)want;
    CHECK(check_both(f, n, why, sizeof why));
}

static void test_vlan(void) {
    uint8_t f[300], v[304];
    char why[160];
    size_t n = tcp_frame(f, sizeof f);
    memcpy(v, f, 12);
    v[12] = 0x81;
    v[13] = 0x00;
    v[14] = 0;
    v[15] = 5;
    memcpy(v + 16, f + 12, n - 12);
    CHECK(check_both(v, n + 4, why, sizeof why));
    v[16 + 2 + 20 + 16] ^= 1;
    CHECK(!check_both(v, n + 4, why, sizeof why));
}

/* A host at 10.0.0.1 and a peer at 10.0.0.2, linked; the peer pings the host. */
static void make_net(sim **s, sim_node_id *host, sim_node_id *peer, sim_link_id *link) {
    CHECK(sim_create(1, s) == TERN_OK);
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, 1);
    cfg.niface = 1;
    memcpy(cfg.iface[0].mac, MAC_A, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = tern_addr_v4(10, 0, 0, 1);
    cfg.iface[0].prefix_len[0] = 24;
    CHECK(sim_host_add(*s, "dut", &cfg, host) == TERN_OK);
    CHECK(sim_peer_add(*s, "peer", 1, 64, peer) == TERN_OK);
    CHECK(sim_link_add(*s, *host, 0, *peer, 0, link) == TERN_OK);
}

static void ping(sim *s, sim_node_id peer) {
    uint8_t f[300];
    /* an echo request from B to A: build A->B and swap the addresses and MACs */
    struct tern_icmpv4_repr r;
    memset(&r, 0, sizeof r);
    r.type = 8;
    r.echo_id = 7;
    r.echo_seq = 1;
    static const uint8_t data[] = "ping";
    r.payload = data;
    r.payload_len = sizeof data;
    uint8_t msg[64], ipbuf[128];
    size_t w, iw, fw;
    CHECK(tern_icmpv4_emit(&r, msg, sizeof msg, &w) == TERN_OK);
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.protocol = TERN_IPPROTO_ICMP;
    ip.src = tern_addr_v4(10, 0, 0, 2);
    ip.dst = tern_addr_v4(10, 0, 0, 1);
    ip.payload = msg;
    ip.payload_len = w;
    CHECK(tern_ipv4_emit(&ip, ipbuf, sizeof ipbuf, &iw) == TERN_OK);
    struct tern_eth_repr e;
    memset(&e, 0, sizeof e);
    memcpy(e.dst.b, MAC_A, 6);
    memcpy(e.src.b, MAC_B, 6);
    e.ethertype = TERN_ETHERTYPE_IPV4;
    e.payload = ipbuf;
    e.payload_len = iw;
    CHECK(tern_eth_emit(&e, f, sizeof f, &fw) == TERN_OK);
    CHECK(sim_peer_send(s, peer, 0, f, fw) == TERN_OK);
}

/* The ARP request and the echo reply the peer got: returns how many failed the check. */
static int received_bad(sim *s, sim_node_id peer, int *frames) {
    uint8_t buf[2048];
    size_t len;
    uint32_t port;
    uint64_t t;
    int bad = 0;
    char why[160];
    *frames = 0;
    while (sim_peer_recv(s, peer, buf, sizeof buf, &len, &port, &t) == TERN_OK) {
        (*frames)++;
        if (!check_both(buf, len, why, sizeof why)) {
            bad++;
        }
    }
    return bad;
}

static void test_link_corruption_is_not_the_hosts_fault(void) {
    sim *s;
    sim_node_id host, peer;
    sim_link_id link;
    make_net(&s, &host, &peer, &link);
    /* every frame the host sends gets one bit flipped on the way */
    CHECK(sim_link_set_corrupt(s, link, SIM_DIR_A_TO_B, 1.0) == TERN_OK);
    ping(s, peer);
    CHECK_EQ_I64(sim_run(s, 1000000000ull, 0, NULL), TERN_OK);
    sim_link_counters c;
    CHECK(sim_link_get_counters(s, link, SIM_DIR_A_TO_B, &c) == TERN_OK);
    int frames;
    received_bad(s, peer, &frames);
    /* the host answered (ARP request for the peer, or its reply directly), the
     * link corrupted every frame, and the run did not fail: only the link is
     * to blame, and it counted what it did */
    CHECK(frames >= 1);
    CHECK_EQ_U64(c.corrupted, (uint64_t)frames);
    sim_destroy(s);
}

static void test_a_wrong_checksum_from_the_host_fails_the_run(void) {
    sim *s;
    sim_node_id host, peer;
    sim_link_id link;
    make_net(&s, &host, &peer, &link);
    /* positive control: the same exchange with a good link passes and the echo reply arrives */
    ping(s, peer);
    CHECK_EQ_I64(sim_run(s, 1000000000ull, 0, NULL), TERN_OK);
    int frames;
    CHECK_EQ_I64(received_bad(s, peer, &frames), 0);
    CHECK(frames >= 1);
    /* now the host's own output callback is handed a frame with a wrong TCP
     * checksum, as if the stack had built it so (white box: the stack never does) */
    uint8_t f[300];
    size_t n = tcp_frame(f, sizeof f);
    f[14 + 20 + 17] ^= 0x01;
    tern_stack *st = sim_host_stack(s, host);
    CHECK(st != NULL);
    st->cfg.output(st->cfg.output_ctx, 0, f, n);
    sim_node_wake(s, host);
    CHECK_EQ_I64(sim_run(s, 2000000000ull, 0, NULL), TERN_ERR_BAD_CHECKSUM);
    const char *msg = sim_last_error(s);
    CHECK_CONTAINS(msg, "host 'dut' sent a frame with a wrong checksum");
    CHECK_CONTAINS(msg, "TCP checksum");
    CHECK_CONTAINS(msg, "frame #");
    /* the failure is reported once; the simulation goes on afterwards */
    CHECK_EQ_I64(sim_run(s, 3000000000ull, 0, NULL), TERN_OK);
    sim_destroy(s);
}

int main(void) {
    RUN(test_each_protocol);
    RUN(test_every_length);
    RUN(test_what_is_not_checked);
    RUN(test_malformed_ipv4_is_reported);
    RUN(test_end_around_carry);
    RUN(test_vlan);
    RUN(test_link_corruption_is_not_the_hosts_fault);
    RUN(test_a_wrong_checksum_from_the_host_fails_the_run);
    return check_summary();
}

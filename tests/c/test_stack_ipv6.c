/*
 * The IPv6 layer's entry points as the other layers use them (ipv6/ipv6.h), on an instance driven
 * directly: the upper-layer reachability hint (RFC 4861 section 7.3.1), sending with a hop-by-hop
 * header (MLD's Router Alert) and from the unspecified address (DAD), the dontfrag refusal,
 * multicast membership, and the bounds on the neighbour cache and the resolution queue under a
 * flood.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ipv4/ipv4.h"
#include "ipv6/ipv6.h"
#include "tern/stack.h"
#include "wire/ethernet.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"
#include "wire/ndp.h"

#define SEC 1000000000ull

static _Alignas(16) uint8_t memory[8 << 20];
static uint8_t last[16384];
static size_t last_len;
static unsigned frames_out;

static void capture(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    (void)ctx;
    (void)iface;
    frames_out++;
    last_len = len < sizeof last ? len : sizeof last;
    memcpy(last, frame, last_len);
}

static const uint8_t HOST_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};

static tern_addr A(const char *s) {
    tern_addr a;
    CHECK(tern_addr_parse(s, &a) == TERN_OK);
    return a;
}

static tern_stack *make_stack(void) {
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, 11);
    cfg.niface = 1;
    memcpy(cfg.iface[0].mac, HOST_MAC, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = A("fd00::1");
    cfg.iface[0].prefix_len[0] = 64;
    cfg.nd_entries = 8;
    cfg.nd_queue = 6;
    cfg.output = capture;
    tern_stack *st;
    CHECK(tern_stack_memory_size(&cfg) <= sizeof memory);
    CHECK(tern_stack_init(memory, sizeof memory, &cfg, &st, NULL, 0) == TERN_OK);
    frames_out = 0;
    return st;
}

/* A Neighbor Solicitation for fd00::1 from `src` with a source link-layer address. */
static void send_ns(tern_stack *st, uint64_t now, const tern_addr *src, const uint8_t mac[6]) {
    uint8_t frame[200];
    tern_addr dst = A("fd00::1");
    struct tern_ndp_repr r;
    memset(&r, 0, sizeof r);
    r.type = TERN_ICMPV6_NS;
    r.target = dst;
    r.opts.has_sll = true;
    memcpy(r.opts.sll, mac, 6);
    size_t w;
    CHECK(tern_ndp_emit(&r, src, &dst, frame + 54, sizeof frame - 54, &w) == TERN_OK);
    struct tern_ipv6_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.next_header = TERN_IPPROTO_ICMPV6;
    ip.hop_limit = 255;
    ip.src = *src;
    ip.dst = dst;
    size_t w2;
    CHECK(tern_ipv6_emit(&ip, w, frame + 14, sizeof frame - 14, &w2) == TERN_OK);
    memcpy(frame, HOST_MAC, 6);
    memcpy(frame + 6, mac, 6);
    frame[12] = 0x86;
    frame[13] = 0xdd;
    tern_stack_input(st, now, 0, frame, 14 + w2);
}

static void test_reachability_hint(void) {
    tern_stack *st = make_stack();
    tern_addr peer = A("fd00::2");
    send_ns(st, 0, &peer, PEER_MAC);
    int state;
    CHECK(tern_nd_lookup(st, &peer, NULL, &state) == TERN_OK);
    /* STALE from the solicitation (section 7.2.3), then DELAY: the advertisement answering it is
     * the first packet sent to the STALE neighbour (section 7.3.3). */
    CHECK_EQ_U64(state, TERN_ND_STATE_DELAY);
    /* RFC 4861 section 7.3.1: forward progress reported by the upper layer confirms reachability.
     */
    tern_nd_confirm_reachable(st, 1 * SEC, &peer);
    tern_nd_lookup(st, &peer, NULL, &state);
    CHECK_EQ_U64(state, TERN_ND_STATE_REACHABLE);
    uint64_t reach;
    CHECK(tern_nd_iface_params(st, 0, &reach, NULL, NULL) == TERN_OK);
    tern_stack_poll(st, 1 * SEC + reach - 1);
    tern_nd_lookup(st, &peer, NULL, &state);
    CHECK_EQ_U64(state, TERN_ND_STATE_REACHABLE);
    tern_stack_poll(st, 1 * SEC + reach);
    tern_nd_lookup(st, &peer, NULL, &state);
    CHECK_EQ_U64(state, TERN_ND_STATE_STALE);
    /* no entry: the hint creates none */
    tern_addr other = A("fd00::77");
    tern_nd_confirm_reachable(st, 2 * SEC, &other);
    CHECK(tern_nd_lookup(st, &other, NULL, &state) == TERN_ERR_EMPTY);
    CHECK_EQ_U64(state, TERN_ND_STATE_NONE);
}

static void test_send_with_router_alert_and_unspecified_source(void) {
    tern_stack *st = make_stack();
    /* MLD's shape (RFC 3810 section 5): hop limit 1, a hop-by-hop header with Router Alert. */
    static const uint8_t hbh[8] = {0, 0, TERN_IPV6_OPT_ROUTER_ALERT, 2,
                                   0, 0, TERN_IPV6_OPT_PADN,         0};
    uint8_t *p = tern_ip_tx_payload(st);
    memset(p, 0xab, 16);
    tern_ip6_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.dst = A("ff02::16");
    tx.next_header = TERN_IPPROTO_ICMPV6;
    tx.hbh = hbh;
    tx.hbh_len = 8;
    tx.unspecified_src = true;
    CHECK(tern_ipv6_send(st, 0, &tx, 16) == TERN_OK);
    CHECK_EQ_U64(frames_out, 1);
    static const uint8_t mac[6] = {0x33, 0x33, 0, 0, 0, 0x16};
    CHECK(memcmp(last, mac, 6) == 0);
    struct tern_ipv6_repr ip;
    CHECK(tern_ipv6_parse(last + 14, last_len - 14, &ip) == TERN_OK);
    CHECK_EQ_U64(ip.next_header, TERN_IPPROTO_HOPOPTS);
    CHECK_EQ_U64(ip.hop_limit, 1);
    CHECK_EQ_U64(ip.payload_len, 24);
    CHECK(tern_addr_is_unspecified(&ip.src));
    CHECK_EQ_U64(ip.payload[0], TERN_IPPROTO_ICMPV6); /* the header's Next Header filled in */
    CHECK_EQ_U64(ip.payload[2], TERN_IPV6_OPT_ROUTER_ALERT);
    /* a hop-by-hop header that is not a multiple of 8 is refused, with a message */
    tx.hbh_len = 6;
    CHECK(tern_ipv6_send(st, 0, &tx, 16) == TERN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(tern_stack_last_error(st), "hop-by-hop") != NULL);
}

static void test_dontfrag_and_no_route(void) {
    tern_stack *st = make_stack();
    tern_addr peer = A("fd00::2");
    send_ns(st, 0, &peer, PEER_MAC);
    tern_ip6_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.dst = peer;
    tx.next_header = 253;
    tx.dontfrag = true;
    CHECK(tern_ipv6_send(st, 0, &tx, 1461) == TERN_ERR_MSG_TOO_LONG); /* 40 + 1461 > 1500 */
    CHECK(tern_ipv6_send(st, 0, &tx, 1460) == TERN_OK);
    tx.dst = A("2001:db8::1");
    CHECK(tern_ipv6_send(st, 0, &tx, 10) == TERN_ERR_NO_ROUTE);
    tern_counters c;
    tern_stack_get_counters(st, &c);
    CHECK_EQ_U64(c.ip6_no_route, 1);
    /* the same through tern_ip_send, the upper layers' entry point */
    tern_ip_tx t4;
    memset(&t4, 0, sizeof t4);
    t4.dst = peer;
    t4.protocol = 253;
    t4.df = true;
    CHECK(tern_ip_send(st, 0, &t4, 1461) == TERN_ERR_MSG_TOO_LONG);
}

static void test_multicast_membership(void) {
    tern_stack *st = make_stack();
    tern_addr g = A("ff02::fb");
    static const uint8_t mac[6] = {0x33, 0x33, 0, 0, 0, 0xfb};
    CHECK(!tern_ipv6_wants_mac(st, 0, mac));
    CHECK(tern_ipv6_mcast_join(st, 0, &g) == TERN_OK);
    CHECK(tern_ipv6_mcast_join(st, 0, &g) == TERN_OK);
    CHECK(tern_ipv6_is_member(st, 0, &g) && tern_ipv6_wants_mac(st, 0, mac));
    CHECK(tern_ipv6_mcast_leave(st, 0, &g) == TERN_OK);
    CHECK(tern_ipv6_is_member(st, 0, &g)); /* one reference left */
    CHECK(tern_ipv6_mcast_leave(st, 0, &g) == TERN_OK);
    CHECK(!tern_ipv6_is_member(st, 0, &g));
    CHECK(tern_ipv6_mcast_leave(st, 0, &g) == TERN_ERR_EMPTY);
    tern_addr u = A("fd00::9");
    CHECK(tern_ipv6_mcast_join(st, 0, &u) == TERN_ERR_INVALID_ARGUMENT);
    /* all-nodes and our solicited-node groups need no join */
    tern_addr own = A("fd00::1");
    tern_addr all = A("ff02::1"), sn = tern_ipv6_solicited_node(&own);
    CHECK(tern_ipv6_is_member(st, 0, &all) && tern_ipv6_is_member(st, 0, &sn));
}

static void test_flood_stays_bounded(void) {
    tern_stack *st = make_stack();
    /* 1000 solicitations from 1000 sources: 8 cache entries, each answered with one frame. */
    for (unsigned i = 0; i < 1000; i++) {
        char text[40];
        snprintf(text, sizeof text, "fd00::%x", 0x1000 + i);
        tern_addr src = A(text);
        unsigned before = frames_out;
        send_ns(st, (uint64_t)i * 1000, &src, PEER_MAC);
        CHECK(frames_out - before <= 1);
    }
    unsigned entries = 0;
    for (unsigned i = 0; i < 1000; i++) {
        char text[40];
        snprintf(text, sizeof text, "fd00::%x", 0x1000 + i);
        tern_addr src = A(text);
        int state;
        tern_nd_lookup(st, &src, NULL, &state);
        entries += state != TERN_ND_STATE_NONE;
    }
    CHECK_EQ_U64(entries, 8);
    /* 100 packets to 50 unresolved neighbours: the queue never holds more than nd_queue. */
    tern_stack *st2 = make_stack();
    for (unsigned i = 0; i < 100; i++) {
        char text[40];
        snprintf(text, sizeof text, "fd00::%x", 0x2000 + i / 2);
        tern_ip6_tx tx;
        memset(&tx, 0, sizeof tx);
        tx.dst = A(text);
        tx.next_header = 253;
        tern_ipv6_send(st2, 0, &tx, 8);
    }
    tern_counters c;
    tern_stack_get_counters(st2, &c);
    CHECK(c.nd_queue_full + c.nd_table_full > 0);
    CHECK(c.nd_ns_sent <= 8); /* one solicitation per entry the cache could hold */
    /* every pending resolution fails after 3 solicitations, one RetransTimer apart */
    for (unsigned t = 1; t <= 4; t++) {
        tern_stack_poll(st2, t * SEC);
    }
    tern_stack_get_counters(st2, &c);
    CHECK(c.nd_ns_sent <= 24);
    CHECK(tern_stack_poll_at(st2) == TERN_NEVER);
}

int main(void) {
    RUN(test_reachability_hint);
    RUN(test_send_with_router_alert_and_unspecified_source);
    RUN(test_dontfrag_and_no_route);
    RUN(test_multicast_membership);
    RUN(test_flood_stays_bounded);
    return check_summary();
}

/* Unit tests of wire/ipv6.h: the IPv6 header and extension headers (RFC 8200). */
#include "test_wire_util.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"

/* fd00::1 -> fd00::2, TC 0xb8, flow 0x12345, hop limit 64: hop-by-hop (Router Alert), destination
 * options (PadN), an atomic Fragment header (id 0xdeadbeef), UDP 1000 -> 2000 "abcd". */
static const uint8_t v6_chain[] = {
    0x6b, 0x81, 0x23, 0x45, 0x00, 0x24, 0x00, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3c, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00,
    0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef,
    0x03, 0xe8, 0x07, 0xd0, 0x00, 0x0c, 0x35, 0x53, 0x61, 0x62, 0x63, 0x64,
};

/* fd00::1 -> fd00::2 with a type 0 routing header, segments left 1 (RFC 5095), then ICMPv6. */
static const uint8_t v6_rh0[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x2b, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3a, 0x02, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x03, 0x80, 0x00, 0x85, 0xb7, 0x00, 0x00, 0x00, 0x00,
};

static tern_err parse_v6(const uint8_t *buf, size_t len, void *ctx) {
    return tern_ipv6_parse(buf, len, ctx);
}

static void test_fixed_header(void) {
    struct tern_ipv6_repr r;
    CHECK_EQ_I64(wire_parse_exact(parse_v6, v6_chain, sizeof v6_chain, &r), TERN_OK);
    CHECK_EQ_I64(tern_ipv6_parse(v6_chain, sizeof v6_chain, &r), TERN_OK);
    CHECK_EQ_U64(r.traffic_class, 0xb8);
    CHECK_EQ_U64(r.flow_label, 0x12345);
    CHECK_EQ_U64(r.payload_len, 36);
    CHECK_EQ_U64(r.next_header, TERN_IPPROTO_HOPOPTS);
    CHECK_EQ_U64(r.hop_limit, 64);
    CHECK(tern_addr_is_v6(&r.src) && r.src.bytes[0] == 0xfd && r.src.bytes[15] == 1);
    CHECK(r.dst.bytes[15] == 2);
    CHECK(r.payload == v6_chain + 40);
    /* Ethernet padding after the payload is allowed. */
    uint8_t padded[sizeof v6_chain + 10];
    memcpy(padded, v6_chain, sizeof v6_chain);
    memset(padded + sizeof v6_chain, 0, 10);
    CHECK_EQ_I64(tern_ipv6_parse(padded, sizeof padded, &r), TERN_OK);
    CHECK_EQ_U64(r.payload_len, 36);
    /* Version 4 in the first nibble. */
    CHECK_EQ_I64(wire_parse_flipped(parse_v6, v6_chain, sizeof v6_chain, 0, 0x20, &r),
                 TERN_ERR_UNSUPPORTED);
}

/* The emit ctx: the header and where its payload is. */
struct emit_ctx {
    struct tern_ipv6_repr r;
    size_t payload_len;
};

static tern_err emit_v6(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    const struct emit_ctx *c = ctx;
    return tern_ipv6_emit(&c->r, c->payload_len, buf, cap, written);
}

static void test_emit(void) {
    struct emit_ctx c;
    CHECK_EQ_I64(tern_ipv6_parse(v6_chain, sizeof v6_chain, &c.r), TERN_OK);
    c.payload_len = c.r.payload_len;
    wire_check_emit(emit_v6, &c, v6_chain, sizeof v6_chain);
    /* Bad arguments: an IPv4 address, a flow label above 20 bits, a payload above 65535. */
    uint8_t buf[128];
    size_t w;
    struct tern_ipv6_repr bad = c.r;
    bad.src = tern_addr_v4(10, 0, 0, 1);
    CHECK_EQ_I64(tern_ipv6_emit(&bad, 4, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    bad = c.r;
    bad.flow_label = 0x100000;
    CHECK_EQ_I64(tern_ipv6_emit(&bad, 4, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    CHECK_EQ_I64(tern_ipv6_emit(&c.r, 65536, buf, sizeof buf, &w), TERN_ERR_MSG_TOO_LONG);
}

static void test_truncations(void) {
    struct tern_ipv6_repr r;
    int all_truncated = 1;
    for (size_t n = 0; n < sizeof v6_chain; n++) {
        if (wire_parse_exact(parse_v6, v6_chain, n, &r) != TERN_ERR_TRUNCATED) {
            all_truncated = 0;
            fprintf(stderr, "  length %zu not refused as truncated\n", n);
        }
    }
    CHECK(all_truncated);
    /* The walker over every prefix of the payload: OK or TRUNCATED, never a read past the end
     * (the heap copies are exactly sized: ASan checks). */
    int sane = 1;
    for (size_t n = 0; n <= sizeof v6_chain - 40; n++) {
        uint8_t *p = wire_dup(v6_chain + 40, n);
        struct tern_ipv6_chain ch;
        tern_err e = tern_ipv6_walk(TERN_IPPROTO_HOPOPTS, p, n, &ch);
        if (e != TERN_OK && e != TERN_ERR_TRUNCATED) {
            sane = 0;
        }
        if (n < 24 && e != TERN_ERR_TRUNCATED) {
            sane = 0; /* the three headers need 24 bytes */
        }
        free(p);
    }
    CHECK(sane);
}

static void test_chain(void) {
    struct tern_ipv6_chain ch;
    CHECK_EQ_I64(tern_ipv6_walk(TERN_IPPROTO_HOPOPTS, v6_chain + 40, 36, &ch), TERN_OK);
    CHECK_EQ_U64(ch.count, 3);
    CHECK_EQ_U64(ch.ext[0].type, TERN_IPPROTO_HOPOPTS);
    CHECK_EQ_U64(ch.ext[1].type, TERN_IPPROTO_DSTOPTS);
    CHECK_EQ_U64(ch.ext[2].type, TERN_IPPROTO_FRAGMENT);
    CHECK_EQ_U64(ch.ext[1].offset, 8);
    CHECK_EQ_U64(ch.upper, TERN_IPPROTO_UDP);
    CHECK_EQ_U64(ch.upper_offset, 24);
    CHECK_EQ_U64(ch.nh_field_offset, 40 + 16);
    /* Options of the hop-by-hop header: Router Alert (value 0), then end. */
    size_t pos = 2;
    struct tern_ipv6_opt o;
    CHECK_EQ_I64(tern_ipv6_opt_next(ch.ext[0].data, ch.ext[0].len, &pos, &o), TERN_OK);
    CHECK_EQ_U64(o.type, TERN_IPV6_OPT_ROUTER_ALERT);
    CHECK_EQ_U64(o.len, 2);
    CHECK_EQ_U64(o.offset, 2);
    CHECK_EQ_I64(tern_ipv6_opt_next(ch.ext[0].data, ch.ext[0].len, &pos, &o), TERN_OK);
    CHECK_EQ_U64(o.type, TERN_IPV6_OPT_PADN);
    CHECK_EQ_I64(tern_ipv6_opt_next(ch.ext[0].data, ch.ext[0].len, &pos, &o), TERN_ERR_EMPTY);
    /* An option whose length runs past its header. */
    uint8_t bad[8] = {59, 0, 0x1e, 9, 0, 0, 0, 0};
    pos = 2;
    CHECK_EQ_I64(tern_ipv6_opt_next(bad, sizeof bad, &pos, &o), TERN_ERR_MALFORMED);
    /* Pad1 is one byte. */
    uint8_t pad1[8] = {59, 0, 0, 0, 0, 0, 0, 0};
    pos = 2;
    int n = 0;
    while (tern_ipv6_opt_next(pad1, sizeof pad1, &pos, &o) == TERN_OK) {
        n++;
    }
    CHECK_EQ_U64(n, 6);
    CHECK_EQ_U64(TERN_IPV6_OPT_ACTION(0xc2), 3);
    CHECK_EQ_U64(TERN_IPV6_OPT_ACTION(0x80), 2);
}

static void test_chain_bound(void) {
    /* TERN_IPV6_MAX_EXT_HEADERS + 1 destination options headers: refused after the bound. */
    uint8_t buf[8 * (TERN_IPV6_MAX_EXT_HEADERS + 1)];
    for (size_t i = 0; i < sizeof buf; i += 8) {
        memset(buf + i, 0, 8);
        buf[i] = TERN_IPPROTO_DSTOPTS;
        buf[i + 2] = 1; /* PadN of 4 */
        buf[i + 3] = 4;
    }
    struct tern_ipv6_chain ch;
    CHECK_EQ_I64(tern_ipv6_walk(TERN_IPPROTO_DSTOPTS, buf, sizeof buf, &ch), TERN_ERR_MALFORMED);
    CHECK_EQ_U64(ch.count, TERN_IPV6_MAX_EXT_HEADERS);
    buf[sizeof buf - 8 - 8] = TERN_IPPROTO_NONE; /* now exactly the bound */
    CHECK_EQ_I64(tern_ipv6_walk(TERN_IPPROTO_DSTOPTS, buf, sizeof buf, &ch), TERN_OK);
    CHECK_EQ_U64(ch.upper, TERN_IPPROTO_NONE);
}

static void test_routing_and_fragment(void) {
    struct tern_ipv6_chain ch;
    CHECK_EQ_I64(tern_ipv6_walk(TERN_IPPROTO_ROUTING, v6_rh0 + 40, sizeof v6_rh0 - 40, &ch),
                 TERN_OK);
    CHECK_EQ_U64(ch.count, 1);
    CHECK_EQ_U64(ch.ext[0].len, 24);
    struct tern_ipv6_rh_repr rh;
    CHECK_EQ_I64(tern_ipv6_rh_parse(ch.ext[0].data, ch.ext[0].len, &rh), TERN_OK);
    CHECK_EQ_U64(rh.routing_type, 0);
    CHECK_EQ_U64(rh.segments_left, 1);
    CHECK_EQ_U64(rh.next_header, TERN_IPPROTO_ICMPV6);
    CHECK_EQ_I64(tern_ipv6_rh_parse(ch.ext[0].data, 23, &rh), TERN_ERR_TRUNCATED);
    /* Fragment header round trip; a non-first fragment stops the walk. */
    struct tern_ipv6_frag_repr f = {
        .next_header = 17, .frag_offset = 1448, .more = true, .ident = 0x01020304};
    uint8_t fb[8];
    size_t w;
    CHECK_EQ_I64(tern_ipv6_frag_emit(&f, fb, sizeof fb, &w), TERN_OK);
    CHECK_EQ_U64(w, 8);
    static const uint8_t want[8] = {17, 0, 0x05, 0xa9, 1, 2, 3, 4};
    CHECK(wire_bytes_eq(fb, want, 8));
    struct tern_ipv6_frag_repr g;
    CHECK_EQ_I64(tern_ipv6_frag_parse(fb, 8, &g), TERN_OK);
    CHECK_EQ_U64(g.frag_offset, 1448);
    CHECK(g.more);
    CHECK_EQ_U64(g.ident, 0x01020304);
    CHECK_EQ_I64(tern_ipv6_frag_parse(fb, 7, &g), TERN_ERR_TRUNCATED);
    CHECK_EQ_I64(tern_ipv6_frag_emit(&f, fb, 7, &w), TERN_ERR_BUFFER_TOO_SMALL);
    f.frag_offset = 3;
    CHECK_EQ_I64(tern_ipv6_frag_emit(&f, fb, 8, &w), TERN_ERR_INVALID_ARGUMENT);
    uint8_t later[16] = {TERN_IPPROTO_FRAGMENT, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0x00, 0x08, 0, 0, 0, 1};
    CHECK_EQ_I64(tern_ipv6_walk(TERN_IPPROTO_FRAGMENT, later + 8, 8, &ch), TERN_OK);
    CHECK_EQ_U64(ch.count, 1);
    CHECK_EQ_U64(ch.upper, 6); /* what follows a later fragment is data */
}

static void test_addresses(void) {
    const uint8_t mac[6] = {0x02, 0x4b, 0x3c, 0x2f, 0x87, 0x6e};
    tern_addr ll = tern_ipv6_link_local_from_mac(mac);
    tern_addr want;
    CHECK_EQ_I64(tern_addr_parse("fe80::4b:3cff:fe2f:876e", &want), TERN_OK);
    CHECK(tern_addr_eq(&ll, &want));
    CHECK(tern_ipv6_is_link_local(&ll));
    tern_addr g;
    CHECK_EQ_I64(tern_addr_parse("fd00::1234:5678", &g), TERN_OK);
    tern_addr sn = tern_ipv6_solicited_node(&g);
    CHECK_EQ_I64(tern_addr_parse("ff02::1:ff34:5678", &want), TERN_OK);
    CHECK(tern_addr_eq(&sn, &want));
    uint8_t m[6];
    tern_ipv6_mcast_mac(&sn, m);
    static const uint8_t wm[6] = {0x33, 0x33, 0xff, 0x34, 0x56, 0x78};
    CHECK(wire_bytes_eq(m, wm, 6));
    CHECK_EQ_U64(tern_ipv6_mcast_scope(&sn), 2);
    CHECK_EQ_U64(tern_ipv6_mcast_scope(&g), 0);
}

int main(void) {
    RUN(test_fixed_header);
    RUN(test_emit);
    RUN(test_truncations);
    RUN(test_chain);
    RUN(test_chain_bound);
    RUN(test_routing_and_fragment);
    RUN(test_addresses);
    return check_summary();
}

/* Unit tests of wire/ipv4.h: IPv4 headers (RFC 791, RFC 1122 3.2.1). */
#include "test_wire_util.h"
#include "wire/ipv4.h"

/* 10.0.0.1 -> 10.0.0.2, id 0x1234, DF, TTL 64, UDP, "hello, tern". */
static const uint8_t ipv4_udp[] = {
    0x45, 0x00, 0x00, 0x1f, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x14, 0x98, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x74, 0x65, 0x72, 0x6e,
};

/* IGMP report with a Router Alert option (RFC 2113): IHL 6, TOS 0xb9. */
static const uint8_t ipv4_opts[] = {
    0x46, 0xb9, 0x00, 0x1c, 0xbe, 0xef, 0x00, 0x00, 0x01, 0x02, 0xc3, 0x6a, 0xc0, 0xa8,
    0x01, 0x0a, 0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00, 0x22, 0x00, 0xfa, 0x02,
};

/* A middle fragment: MF, offset 185 (1480 bytes), TTL 255, ICMP. */
static const uint8_t ipv4_frag[] = {
    0x45, 0x00, 0x00, 0x24, 0x00, 0x07, 0x20, 0xb9, 0xff, 0x01, 0x83, 0x11,
    0x0a, 0x01, 0x02, 0x03, 0x0a, 0x03, 0x02, 0x01, 0x11, 0x11, 0x11, 0x11,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
};

static tern_err parse_ip(const uint8_t *buf, size_t len, void *ctx) {
    return tern_ipv4_parse(buf, len, ctx);
}

static tern_err emit_ip(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    return tern_ipv4_emit(ctx, buf, cap, written);
}

static void test_udp_fixture(void) {
    struct tern_ipv4_repr r;
    CHECK_EQ_I64(tern_ipv4_parse(ipv4_udp, sizeof ipv4_udp, &r), TERN_OK);
    CHECK_EQ_U64(r.header_len, 20);
    CHECK_EQ_U64(r.total_len, 31);
    CHECK_EQ_U64(r.dscp, 0);
    CHECK_EQ_U64(r.ecn, 0);
    CHECK_EQ_U64(r.id, 0x1234);
    CHECK(r.df);
    CHECK(!r.mf);
    CHECK(!r.flag_reserved);
    CHECK_EQ_U64(r.frag_offset, 0);
    CHECK_EQ_U64(r.ttl, 64);
    CHECK_EQ_U64(r.protocol, TERN_IPPROTO_UDP);
    CHECK_EQ_U64(r.checksum, 0x1498);
    tern_addr a1 = tern_addr_v4(10, 0, 0, 1), a2 = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_addr_eq(&r.src, &a1));
    CHECK(tern_addr_eq(&r.dst, &a2));
    CHECK(r.options == NULL);
    CHECK_EQ_U64(r.options_len, 0);
    CHECK(r.payload == ipv4_udp + 20);
    CHECK_EQ_U64(r.payload_len, 11);
    CHECK_EQ_U64(tern_ipv4_header_len(&r), 20);
    wire_check_emit(emit_ip, &r, ipv4_udp, sizeof ipv4_udp);
}

static void test_options_fixture(void) {
    struct tern_ipv4_repr r;
    CHECK_EQ_I64(tern_ipv4_parse(ipv4_opts, sizeof ipv4_opts, &r), TERN_OK);
    CHECK_EQ_U64(r.header_len, 24);
    CHECK_EQ_U64(r.dscp, 0xb9 >> 2);
    CHECK_EQ_U64(r.ecn, 1);
    CHECK_EQ_U64(r.ttl, 1);
    CHECK_EQ_U64(r.protocol, 2);
    CHECK(r.options == ipv4_opts + TERN_IPV4_OPTIONS_OFFSET);
    CHECK_EQ_U64(r.options_len, 4);
    CHECK_EQ_U64(r.options[0], 0x94); /* Router Alert, RFC 2113 */
    CHECK(r.payload == ipv4_opts + 24);
    CHECK_EQ_U64(r.payload_len, 4);
    tern_addr mc = tern_addr_v4(224, 0, 0, 22);
    CHECK(tern_addr_eq(&r.dst, &mc));
    CHECK_EQ_U64(tern_ipv4_header_len(&r), 24);
    wire_check_emit(emit_ip, &r, ipv4_opts, sizeof ipv4_opts);
}

static void test_fragment_fixture(void) {
    struct tern_ipv4_repr r;
    CHECK_EQ_I64(tern_ipv4_parse(ipv4_frag, sizeof ipv4_frag, &r), TERN_OK);
    CHECK(r.mf);
    CHECK(!r.df);
    CHECK_EQ_U64(r.frag_offset, 1480);
    CHECK_EQ_U64(r.id, 7);
    CHECK_EQ_U64(r.ttl, 255);
    CHECK_EQ_U64(r.protocol, TERN_IPPROTO_ICMP);
    CHECK_EQ_U64(r.payload_len, 16);
    wire_check_emit(emit_ip, &r, ipv4_frag, sizeof ipv4_frag);
}

static void sweep(const uint8_t *fx, size_t n) {
    struct tern_ipv4_repr r;
    int ok = 1;
    for (size_t len = 0; len < n; len++) {
        tern_err err = wire_parse_exact(parse_ip, fx, len, &r);
        if (err != TERN_ERR_TRUNCATED) {
            fprintf(stderr, "  length %zu: %s\n", len, tern_error_name(err));
            ok = 0;
        }
    }
    CHECK(ok);
}

static void test_truncations(void) {
    sweep(ipv4_udp, sizeof ipv4_udp);
    sweep(ipv4_opts, sizeof ipv4_opts);
    sweep(ipv4_frag, sizeof ipv4_frag);
}

static void test_ethernet_padding_ignored(void) {
    /* A 28-byte datagram in a minimum-size frame: 18 bytes of padding. */
    uint8_t padded[46];
    memset(padded, 0, sizeof padded);
    memcpy(padded, ipv4_opts, sizeof ipv4_opts);
    struct tern_ipv4_repr r;
    CHECK_EQ_I64(wire_parse_exact(parse_ip, padded, sizeof padded, &r), TERN_OK);
    CHECK_EQ_U64(r.total_len, 28);
    CHECK_EQ_U64(r.payload_len, 4);
}

static void test_bad_checksum(void) {
    struct tern_ipv4_repr r;
    /* Any single bit flipped in TTL, protocol, checksum or addresses. */
    const size_t bytes[] = {1, 4, 5, 8, 9, 10, 11, 12, 15, 16, 19};
    for (size_t i = 0; i < ARRAY_LEN(bytes); i++) {
        for (int bit = 0; bit < 8; bit++) {
            CHECK_EQ_I64(wire_parse_flipped(parse_ip, ipv4_udp, sizeof ipv4_udp, bytes[i],
                                            (uint8_t)(1u << bit), &r),
                         TERN_ERR_BAD_CHECKSUM);
        }
    }
    /* The option bytes are covered too. */
    CHECK_EQ_I64(wire_parse_flipped(parse_ip, ipv4_opts, sizeof ipv4_opts, 22, 0x01, &r),
                 TERN_ERR_BAD_CHECKSUM);
    /* The payload is not. */
    CHECK_EQ_I64(wire_parse_flipped(parse_ip, ipv4_udp, sizeof ipv4_udp, 25, 0x01, &r), TERN_OK);
}

static void test_malformed(void) {
    struct tern_ipv4_repr r;
    uint8_t b[sizeof ipv4_udp];
    /* Version 6 and version 0. */
    memcpy(b, ipv4_udp, sizeof b);
    b[0] = 0x65;
    CHECK_EQ_I64(tern_ipv4_parse(b, sizeof b, &r), TERN_ERR_UNSUPPORTED);
    b[0] = 0x05;
    CHECK_EQ_I64(tern_ipv4_parse(b, sizeof b, &r), TERN_ERR_UNSUPPORTED);
    /* IHL below 5. */
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        b[0] = (uint8_t)(0x40 | ihl);
        CHECK_EQ_I64(tern_ipv4_parse(b, sizeof b, &r), TERN_ERR_MALFORMED);
    }
    /* IHL beyond the bytes present (15 -> 60 bytes). */
    b[0] = 0x4f;
    CHECK_EQ_I64(tern_ipv4_parse(b, sizeof b, &r), TERN_ERR_TRUNCATED);
    /* Total length shorter than the header. */
    memcpy(b, ipv4_udp, sizeof b);
    b[2] = 0;
    b[3] = 19;
    CHECK_EQ_I64(tern_ipv4_parse(b, sizeof b, &r), TERN_ERR_MALFORMED);
    /* Total length longer than the bytes present. */
    b[3] = 32;
    CHECK_EQ_I64(tern_ipv4_parse(b, sizeof b, &r), TERN_ERR_TRUNCATED);
}

static void test_ping_of_death(void) {
    /* Offset 65520 + 16 bytes would reassemble beyond 65535: refused. */
    struct tern_ipv4_repr r;
    CHECK_EQ_I64(tern_ipv4_parse(ipv4_frag, sizeof ipv4_frag, &r), TERN_OK);
    r.frag_offset = 8190 * 8;
    uint8_t buf[64];
    size_t w;
    CHECK_EQ_I64(tern_ipv4_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_I64(tern_ipv4_parse(buf, w, &r), TERN_ERR_MALFORMED);
    /* The last legal position is fine. */
    CHECK_EQ_I64(tern_ipv4_parse(ipv4_frag, sizeof ipv4_frag, &r), TERN_OK);
    r.frag_offset = 65512;
    r.payload_len = 8;
    CHECK_EQ_I64(tern_ipv4_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_I64(tern_ipv4_parse(buf, w, &r), TERN_OK);
    CHECK_EQ_U64(r.frag_offset, 65512);
}

static void test_emit_zero_copy(void) {
    /* The upper layer wrote the payload first; IP fills in the header. */
    struct tern_ipv4_repr r;
    CHECK_EQ_I64(tern_ipv4_parse(ipv4_opts, sizeof ipv4_opts, &r), TERN_OK);
    uint8_t buf[64];
    memset(buf, JUNK, sizeof buf);
    memcpy(buf + 24, ipv4_opts + 24, 4);
    r.payload = NULL;
    size_t w = 0;
    CHECK_EQ_I64(tern_ipv4_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(w, sizeof ipv4_opts);
    CHECK(wire_bytes_eq(buf, ipv4_opts, sizeof ipv4_opts));
    /* Emit over the very buffer it was parsed from. */
    uint8_t same[sizeof ipv4_opts];
    memcpy(same, ipv4_opts, sizeof same);
    CHECK_EQ_I64(tern_ipv4_parse(same, sizeof same, &r), TERN_OK);
    CHECK_EQ_I64(tern_ipv4_emit(&r, same, sizeof same, &w), TERN_OK);
    CHECK(wire_bytes_eq(same, ipv4_opts, sizeof ipv4_opts));
}

static void test_emit_invalid(void) {
    struct tern_ipv4_repr r;
    uint8_t buf[128];
    size_t w;
    CHECK_EQ_I64(tern_ipv4_parse(ipv4_opts, sizeof ipv4_opts, &r), TERN_OK);
    r.options_len = 3;
    CHECK_EQ_I64(tern_ipv4_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    r.options_len = 44;
    CHECK_EQ_I64(tern_ipv4_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    CHECK_EQ_I64(tern_ipv4_parse(ipv4_udp, sizeof ipv4_udp, &r), TERN_OK);
    r.frag_offset = 12;
    CHECK_EQ_I64(tern_ipv4_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    r.frag_offset = 0;
    r.src.family = TERN_AF_INET6;
    CHECK_EQ_I64(tern_ipv4_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    r.src.family = TERN_AF_INET;
    r.payload = NULL;
    r.payload_len = 65516;
    CHECK_EQ_I64(tern_ipv4_emit(&r, buf, sizeof buf, &w), TERN_ERR_MSG_TOO_LONG);
    r.payload_len = 65515;
    CHECK_EQ_I64(tern_ipv4_emit(&r, buf, sizeof buf, &w), TERN_ERR_BUFFER_TOO_SMALL);
}

static void test_quoted(void) {
    /* The first 28 bytes of a 1428-byte UDP datagram, as an ICMP error quotes it. */
    static const uint8_t quote[] = {
        0x45, 0x00, 0x05, 0x94, 0x00, 0x55, 0x40, 0x00, 0x3f, 0x11, 0x18, 0xf2, 0x0a, 0x00,
        0x00, 0x01, 0x0a, 0x09, 0x09, 0x09, 0x9c, 0x40, 0x82, 0x9a, 0x05, 0x80, 0x4f, 0x97,
    };
    struct tern_ipv4_repr r;
    CHECK_EQ_I64(tern_ipv4_parse(quote, sizeof quote, &r), TERN_ERR_TRUNCATED);
    uint8_t *p = wire_dup(quote, sizeof quote);
    CHECK_EQ_I64(tern_ipv4_parse_quoted(p, sizeof quote, &r), TERN_OK);
    CHECK_EQ_U64(r.total_len, 1428);
    CHECK_EQ_U64(r.protocol, TERN_IPPROTO_UDP);
    CHECK_EQ_U64(r.payload_len, 8);
    CHECK(r.payload == p + 20);
    tern_addr d = tern_addr_v4(10, 9, 9, 9);
    CHECK(tern_addr_eq(&r.dst, &d));
    free(p);
    for (size_t n = 0; n < 20; n++) {
        p = wire_dup(quote, n);
        CHECK_EQ_I64(tern_ipv4_parse_quoted(p, n, &r), TERN_ERR_TRUNCATED);
        free(p);
    }
    /* A quote longer than the original datagram is cut at its total length. */
    p = wire_dup(ipv4_udp, sizeof ipv4_udp);
    CHECK_EQ_I64(tern_ipv4_parse_quoted(p, sizeof ipv4_udp, &r), TERN_OK);
    CHECK_EQ_U64(r.payload_len, 11);
    free(p);
}

int main(void) {
    RUN(test_udp_fixture);
    RUN(test_options_fixture);
    RUN(test_fragment_fixture);
    RUN(test_truncations);
    RUN(test_ethernet_padding_ignored);
    RUN(test_bad_checksum);
    RUN(test_malformed);
    RUN(test_ping_of_death);
    RUN(test_emit_zero_copy);
    RUN(test_emit_invalid);
    RUN(test_quoted);
    return check_summary();
}

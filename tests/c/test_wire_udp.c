/* Unit tests of wire/udp.h: UDP (RFC 768, RFC 1122 4.1). */
#include "test_wire_util.h"
#include "wire/checksum.h"
#include "wire/udp.h"

/* 10.0.0.1:12345 -> 10.0.0.2:53, "tern-udp!", checksum 0x21a2. */
static const uint8_t udp_dns[] = {
    0x30, 0x39, 0x00, 0x35, 0x00, 0x11, 0x21, 0xa2, 0x74,
    0x65, 0x72, 0x6e, 0x2d, 0x75, 0x64, 0x70, 0x21,
};

/* 10.0.0.1:7 -> 10.0.0.2:7, "echo", no checksum (zero, RFC 768). */
static const uint8_t udp_nocsum[] = {
    0x00, 0x07, 0x00, 0x07, 0x00, 0x0c, 0x00, 0x00, 0x65, 0x63, 0x68, 0x6f,
};

static tern_addr a1, a2;

struct udp_ctx {
    struct tern_udp_repr r;
    const tern_addr *src, *dst;
};

static tern_err parse_udp(const uint8_t *buf, size_t len, void *ctx) {
    struct udp_ctx *c = ctx;
    return tern_udp_parse(buf, len, c->src, c->dst, &c->r);
}

static tern_err emit_udp(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    const struct udp_ctx *c = ctx;
    return tern_udp_emit(&c->r, c->src, c->dst, buf, cap, written);
}

static void test_fixture(void) {
    struct udp_ctx c = {.src = &a1, .dst = &a2};
    CHECK_EQ_I64(tern_udp_parse(udp_dns, sizeof udp_dns, &a1, &a2, &c.r), TERN_OK);
    CHECK_EQ_U64(c.r.src_port, 12345);
    CHECK_EQ_U64(c.r.dst_port, 53);
    CHECK_EQ_U64(c.r.length, 17);
    CHECK_EQ_U64(c.r.checksum, 0x21a2);
    CHECK(c.r.payload == udp_dns + 8);
    CHECK_EQ_U64(c.r.payload_len, 9);
    CHECK_EQ_U64(tern_udp_header_len(&c.r), 8);
    wire_check_emit(emit_udp, &c, udp_dns, sizeof udp_dns);
}

static void test_zero_checksum(void) {
    struct udp_ctx c = {.src = &a1, .dst = &a2};
    CHECK_EQ_I64(tern_udp_parse(udp_nocsum, sizeof udp_nocsum, &a1, &a2, &c.r), TERN_OK);
    CHECK_EQ_U64(c.r.checksum, 0);
    CHECK_EQ_U64(c.r.payload_len, 4);
    /* Emitting without addresses sends "no checksum". */
    c.src = c.dst = NULL;
    wire_check_emit(emit_udp, &c, udp_nocsum, sizeof udp_nocsum);
    /* Over IPv6 a zero checksum is refused (RFC 8200 section 8.1). */
    uint8_t v6[16] = {0xfe, 0x80};
    tern_addr s6 = tern_addr_v6_from_bytes(v6), d6 = tern_addr_v6_from_bytes(v6);
    CHECK_EQ_I64(tern_udp_parse(udp_nocsum, sizeof udp_nocsum, &s6, &d6, &c.r),
                 TERN_ERR_BAD_CHECKSUM);
}

static void test_computed_zero_sent_as_ffff(void) {
    /* Pick the payload so the computed checksum is 0: with checksum field
     * 0xffff the whole thing must sum to 0xffff, i.e. data compensates. */
    struct tern_udp_repr r = {.src_port = 1000, .dst_port = 2000};
    uint8_t data[2] = {0, 0};
    r.payload = data;
    r.payload_len = 2;
    uint8_t buf[16];
    size_t w;
    CHECK_EQ_I64(tern_udp_emit(&r, &a1, &a2, buf, sizeof buf, &w), TERN_OK);
    /* Adding the emitted checksum to the data word turns the computed sum
     * into 0xffff, whose complement is 0. */
    uint16_t c = (uint16_t)(buf[6] << 8 | buf[7]);
    data[0] = (uint8_t)(c >> 8);
    data[1] = (uint8_t)c;
    CHECK_EQ_I64(tern_udp_emit(&r, &a1, &a2, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(buf[6], 0xff);
    CHECK_EQ_U64(buf[7], 0xff);
    struct tern_udp_repr p;
    CHECK_EQ_I64(tern_udp_parse(buf, w, &a1, &a2, &p), TERN_OK);
    CHECK_EQ_U64(p.checksum, 0xffff);
}

static void sweep(const uint8_t *fx, size_t n) {
    struct udp_ctx c = {.src = &a1, .dst = &a2};
    int ok = 1;
    for (size_t len = 0; len < n; len++) {
        tern_err err = wire_parse_exact(parse_udp, fx, len, &c);
        if (err != TERN_ERR_TRUNCATED) {
            fprintf(stderr, "  length %zu: %s\n", len, tern_error_name(err));
            ok = 0;
        }
    }
    CHECK(ok);
}

static void test_truncations(void) {
    sweep(udp_dns, sizeof udp_dns);
    sweep(udp_nocsum, sizeof udp_nocsum);
}

static void test_bad_checksum_and_length(void) {
    struct udp_ctx c = {.src = &a1, .dst = &a2};
    int ok = 1;
    for (size_t i = 0; i < sizeof udp_dns; i++) {
        if (i == 4 || i == 5) {
            continue; /* the length field: checked separately */
        }
        for (int bit = 0; bit < 8; bit++) {
            ok &= wire_parse_flipped(parse_udp, udp_dns, sizeof udp_dns, i, (uint8_t)(1u << bit),
                                     &c) == TERN_ERR_BAD_CHECKSUM;
        }
    }
    CHECK(ok);
    /* The wrong addresses fail the pseudo-header. */
    tern_addr other = tern_addr_v4(10, 0, 0, 3);
    CHECK_EQ_I64(tern_udp_parse(udp_dns, sizeof udp_dns, &a1, &other, &c.r), TERN_ERR_BAD_CHECKSUM);
    /* No addresses: not verified. */
    c.src = c.dst = NULL;
    CHECK_EQ_I64(wire_parse_flipped(parse_udp, udp_dns, sizeof udp_dns, 9, 1, &c), TERN_OK);
    /* Length below 8 is malformed; above the bytes present, truncated. */
    uint8_t b[sizeof udp_dns];
    memcpy(b, udp_dns, sizeof b);
    for (uint8_t l = 0; l < 8; l++) {
        b[5] = l;
        CHECK_EQ_I64(tern_udp_parse(b, sizeof b, NULL, NULL, &c.r), TERN_ERR_MALFORMED);
    }
    b[5] = 18;
    CHECK_EQ_I64(tern_udp_parse(b, sizeof b, NULL, NULL, &c.r), TERN_ERR_TRUNCATED);
}

static void test_trailing_bytes_ignored(void) {
    uint8_t b[sizeof udp_dns + 5];
    memset(b, 0, sizeof b);
    memcpy(b, udp_dns, sizeof udp_dns);
    struct udp_ctx c = {.src = &a1, .dst = &a2};
    CHECK_EQ_I64(wire_parse_exact(parse_udp, b, sizeof b, &c), TERN_OK);
    CHECK_EQ_U64(c.r.payload_len, 9);
}

static void test_emit_zero_copy_and_invalid(void) {
    struct tern_udp_repr r;
    CHECK_EQ_I64(tern_udp_parse(udp_dns, sizeof udp_dns, &a1, &a2, &r), TERN_OK);
    uint8_t buf[64];
    memset(buf, JUNK, sizeof buf);
    memcpy(buf + 8, udp_dns + 8, 9);
    r.payload = NULL;
    size_t w;
    CHECK_EQ_I64(tern_udp_emit(&r, &a1, &a2, buf, sizeof buf, &w), TERN_OK);
    CHECK(wire_bytes_eq(buf, udp_dns, sizeof udp_dns));
    CHECK_EQ_I64(tern_udp_emit(&r, &a1, NULL, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    uint8_t v6[16] = {0};
    tern_addr s6 = tern_addr_v6_from_bytes(v6);
    CHECK_EQ_I64(tern_udp_emit(&r, &a1, &s6, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    r.payload_len = 65528;
    CHECK_EQ_I64(tern_udp_emit(&r, &a1, &a2, buf, sizeof buf, &w), TERN_ERR_MSG_TOO_LONG);
    r.payload_len = 65527;
    CHECK_EQ_I64(tern_udp_emit(&r, &a1, &a2, buf, sizeof buf, &w), TERN_ERR_BUFFER_TOO_SMALL);
}

static void test_ipv6_checksum(void) {
    /* The same datagram over IPv6 round-trips through the RFC 8200 pseudo-header. */
    uint8_t s[16] = {0x20, 0x01, 0x0d, 0xb8}, d[16] = {0x20, 0x01, 0x0d, 0xb8};
    s[15] = 1;
    d[15] = 2;
    tern_addr s6 = tern_addr_v6_from_bytes(s), d6 = tern_addr_v6_from_bytes(d);
    struct tern_udp_repr r, p;
    CHECK_EQ_I64(tern_udp_parse(udp_dns, sizeof udp_dns, NULL, NULL, &r), TERN_OK);
    uint8_t buf[32];
    size_t w;
    CHECK_EQ_I64(tern_udp_emit(&r, &s6, &d6, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_I64(tern_udp_parse(buf, w, &s6, &d6, &p), TERN_OK);
    CHECK_EQ_I64(tern_udp_parse(buf, w, &d6, &d6, &p), TERN_ERR_BAD_CHECKSUM);
}

int main(void) {
    a1 = tern_addr_v4(10, 0, 0, 1);
    a2 = tern_addr_v4(10, 0, 0, 2);
    RUN(test_fixture);
    RUN(test_zero_checksum);
    RUN(test_computed_zero_sent_as_ffff);
    RUN(test_truncations);
    RUN(test_bad_checksum_and_length);
    RUN(test_trailing_bytes_ignored);
    RUN(test_emit_zero_copy_and_invalid);
    RUN(test_ipv6_checksum);
    return check_summary();
}

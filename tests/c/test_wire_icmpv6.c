/* Unit tests of wire/icmpv6.h: ICMPv6 messages and their checksum (RFC 4443). */
#include "test_wire_util.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"

/* Echo request id 0x4242 seq 7 "hello", fd00::1 -> fd00::2. */
static const uint8_t echo_req[] = {
    0x80, 0x00, 0xff, 0x97, 0x42, 0x42, 0x00, 0x07, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

static tern_addr a1, a2;

static void addrs(void) {
    tern_addr_parse("fd00::1", &a1);
    tern_addr_parse("fd00::2", &a2);
}

static tern_err parse_checked(const uint8_t *buf, size_t len, void *ctx) {
    return tern_icmpv6_parse(buf, len, &a1, &a2, ctx);
}

struct emit_ctx {
    struct tern_icmpv6_repr r;
    const tern_addr *src, *dst;
};

static tern_err emit_msg(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    const struct emit_ctx *c = ctx;
    return tern_icmpv6_emit(&c->r, c->src, c->dst, buf, cap, written);
}

static void test_echo(void) {
    addrs();
    struct tern_icmpv6_repr r;
    CHECK_EQ_I64(wire_parse_exact(parse_checked, echo_req, sizeof echo_req, &r), TERN_OK);
    CHECK_EQ_I64(tern_icmpv6_parse(echo_req, sizeof echo_req, &a1, &a2, &r), TERN_OK);
    CHECK_EQ_U64(r.type, TERN_ICMPV6_ECHO_REQUEST);
    CHECK_EQ_U64(r.echo_id, 0x4242);
    CHECK_EQ_U64(r.echo_seq, 7);
    CHECK_EQ_U64(r.payload_len, 5);
    CHECK(r.payload == echo_req + 8);
    CHECK(!tern_icmpv6_is_error(r.type));
    struct emit_ctx c = {r, &a1, &a2};
    wire_check_emit(emit_msg, &c, echo_req, sizeof echo_req);
    /* The checksum covers the pseudo-header: the same bytes between other addresses fail. */
    CHECK_EQ_I64(tern_icmpv6_parse(echo_req, sizeof echo_req, &a2, &a1, &r),
                 TERN_OK); /* symmetric */
    tern_addr other;
    tern_addr_parse("fd00::3", &other);
    CHECK_EQ_I64(tern_icmpv6_parse(echo_req, sizeof echo_req, &a1, &other, &r),
                 TERN_ERR_BAD_CHECKSUM);
    CHECK_EQ_I64(tern_icmpv6_parse(echo_req, sizeof echo_req, NULL, NULL, &r), TERN_OK);
}

static void test_bit_flips(void) {
    addrs();
    struct tern_icmpv6_repr r;
    int all_bad = 1;
    for (size_t i = 0; i < sizeof echo_req; i++) {
        for (int b = 0; b < 8; b++) {
            tern_err e = wire_parse_flipped(parse_checked, echo_req, sizeof echo_req, i,
                                            (uint8_t)(1u << b), &r);
            if (e != TERN_ERR_BAD_CHECKSUM) {
                all_bad = 0;
                fprintf(stderr, "  flip byte %zu bit %d: %d\n", i, b, e);
            }
        }
    }
    CHECK(all_bad);
}

static void test_truncations(void) {
    addrs();
    struct tern_icmpv6_repr r;
    for (size_t n = 0; n < 8; n++) {
        CHECK_EQ_I64(wire_parse_exact(parse_checked, echo_req, n, &r), TERN_ERR_TRUNCATED);
    }
    /* Types without the 32-bit word need only 4 bytes. */
    uint8_t rs[4] = {TERN_ICMPV6_RS, 0, 0, 0};
    CHECK_EQ_I64(tern_icmpv6_parse(rs, 3, NULL, NULL, &r), TERN_ERR_TRUNCATED);
    CHECK_EQ_I64(tern_icmpv6_parse(rs, 4, NULL, NULL, &r), TERN_OK);
    CHECK_EQ_U64(r.payload_len, 0);
}

static void test_errors(void) {
    addrs();
    /* Parameter Problem code 1 pointing at byte 6, quoting a 48-byte packet. */
    uint8_t quote[48];
    memset(quote, 0x11, sizeof quote);
    quote[0] = 0x60;
    struct tern_icmpv6_repr r;
    memset(&r, 0, sizeof r);
    r.type = TERN_ICMPV6_PARAM_PROBLEM;
    r.code = TERN_ICMPV6_PARAM_NEXT_HEADER;
    r.word = 6;
    r.payload = quote;
    r.payload_len = sizeof quote;
    uint8_t buf[64];
    size_t w;
    CHECK_EQ_I64(tern_icmpv6_emit(&r, &a2, &a1, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(w, 56);
    CHECK_EQ_U64(buf[0], 4);
    CHECK_EQ_U64(buf[1], 1);
    CHECK_EQ_U64(buf[7], 6);
    struct tern_icmpv6_repr p;
    CHECK_EQ_I64(tern_icmpv6_parse(buf, w, &a2, &a1, &p), TERN_OK);
    CHECK(tern_icmpv6_is_error(p.type));
    CHECK_EQ_U64(p.word, 6);
    CHECK_EQ_U64(p.payload_len, 48);
    struct tern_ipv6_repr q;
    size_t present;
    CHECK_EQ_I64(tern_ipv6_parse_quoted(p.payload, p.payload_len, &q, &present), TERN_OK);
    CHECK_EQ_U64(present, 8);
    /* Packet Too Big carries the MTU in the word. */
    r.type = TERN_ICMPV6_PKT_TOO_BIG;
    r.code = 0;
    r.word = 1280;
    CHECK_EQ_I64(tern_icmpv6_emit(&r, &a2, &a1, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_I64(tern_icmpv6_parse(buf, w, &a2, &a1, &p), TERN_OK);
    CHECK_EQ_U64(p.word, 1280);
    /* Bad arguments. */
    tern_addr v4 = tern_addr_v4(10, 0, 0, 1);
    CHECK_EQ_I64(tern_icmpv6_emit(&r, &v4, &a1, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    r.payload_len = 65535;
    CHECK_EQ_I64(tern_icmpv6_emit(&r, &a2, &a1, buf, sizeof buf, &w), TERN_ERR_MSG_TOO_LONG);
}

static void test_zero_copy(void) {
    addrs();
    uint8_t buf[16] = {0};
    memcpy(buf + 8, "hello", 5);
    struct tern_icmpv6_repr r;
    memset(&r, 0, sizeof r);
    r.type = TERN_ICMPV6_ECHO_REQUEST;
    r.echo_id = 0x4242;
    r.echo_seq = 7;
    r.payload = NULL;
    r.payload_len = 5;
    size_t w;
    CHECK_EQ_I64(tern_icmpv6_emit(&r, &a1, &a2, buf, 13, &w), TERN_OK);
    CHECK(wire_bytes_eq(buf, echo_req, sizeof echo_req));
}

int main(void) {
    RUN(test_echo);
    RUN(test_bit_flips);
    RUN(test_truncations);
    RUN(test_errors);
    RUN(test_zero_copy);
    return check_summary();
}

/* Unit tests of wire/arp.h: ARP for IPv4 over Ethernet (RFC 826). */
#include "test_wire_util.h"
#include "wire/arp.h"

/* who-has 10.0.0.2 tell 10.0.0.1 (02:00:00:00:00:01). */
static const uint8_t arp_request[] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
};

/* 10.0.0.2 is-at 02:00:00:00:00:02, to 10.0.0.1. */
static const uint8_t arp_reply[] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x0a, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01,
};

static tern_err parse_arp(const uint8_t *buf, size_t len, void *ctx) {
    return tern_arp_parse(buf, len, ctx);
}

static tern_err emit_arp(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    return tern_arp_emit(ctx, buf, cap, written);
}

static void test_request(void) {
    struct tern_arp_repr r;
    CHECK_EQ_I64(tern_arp_parse(arp_request, sizeof arp_request, &r), TERN_OK);
    CHECK_EQ_U64(r.op, TERN_ARP_OP_REQUEST);
    tern_mac m1 = {{2, 0, 0, 0, 0, 1}};
    CHECK(tern_mac_eq(&r.sha, &m1));
    CHECK(tern_mac_is_zero(&r.tha));
    tern_addr a1 = tern_addr_v4(10, 0, 0, 1), a2 = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_addr_eq(&r.spa, &a1));
    CHECK(tern_addr_eq(&r.tpa, &a2));
    wire_check_emit(emit_arp, &r, arp_request, sizeof arp_request);
}

static void test_reply(void) {
    struct tern_arp_repr r;
    CHECK_EQ_I64(tern_arp_parse(arp_reply, sizeof arp_reply, &r), TERN_OK);
    CHECK_EQ_U64(r.op, TERN_ARP_OP_REPLY);
    tern_mac m1 = {{2, 0, 0, 0, 0, 1}}, m2 = {{2, 0, 0, 0, 0, 2}};
    CHECK(tern_mac_eq(&r.sha, &m2));
    CHECK(tern_mac_eq(&r.tha, &m1));
    tern_addr a1 = tern_addr_v4(10, 0, 0, 1), a2 = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_addr_eq(&r.spa, &a2));
    CHECK(tern_addr_eq(&r.tpa, &a1));
    wire_check_emit(emit_arp, &r, arp_reply, sizeof arp_reply);
}

static void test_truncations_and_padding(void) {
    struct tern_arp_repr r;
    for (size_t n = 0; n < sizeof arp_request; n++) {
        CHECK_EQ_I64(wire_parse_exact(parse_arp, arp_request, n, &r), TERN_ERR_TRUNCATED);
        CHECK_EQ_I64(wire_parse_exact(parse_arp, arp_reply, n, &r), TERN_ERR_TRUNCATED);
    }
    /* Ethernet padding after the 28 bytes is ignored. */
    uint8_t padded[46] = {0};
    memcpy(padded, arp_reply, sizeof arp_reply);
    CHECK_EQ_I64(wire_parse_exact(parse_arp, padded, sizeof padded, &r), TERN_OK);
    CHECK_EQ_U64(r.op, TERN_ARP_OP_REPLY);
}

static void test_unsupported(void) {
    struct tern_arp_repr r;
    /* hardware type, protocol type, hardware length, protocol length */
    const size_t bytes[] = {1, 2, 4, 5};
    for (size_t i = 0; i < ARRAY_LEN(bytes); i++) {
        CHECK_EQ_I64(
            wire_parse_flipped(parse_arp, arp_request, sizeof arp_request, bytes[i], 0x10, &r),
            TERN_ERR_UNSUPPORTED);
    }
    /* Unknown opcodes are parsed; the ARP layer decides. */
    CHECK_EQ_I64(wire_parse_flipped(parse_arp, arp_request, sizeof arp_request, 7, 0x08, &r),
                 TERN_OK);
    CHECK_EQ_U64(r.op, 9);
}

static void test_emit_bad_family(void) {
    struct tern_arp_repr r;
    CHECK_EQ_I64(tern_arp_parse(arp_request, sizeof arp_request, &r), TERN_OK);
    r.spa.family = TERN_AF_INET6;
    uint8_t buf[28];
    size_t w;
    CHECK_EQ_I64(tern_arp_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
}

int main(void) {
    RUN(test_request);
    RUN(test_reply);
    RUN(test_truncations_and_padding);
    RUN(test_unsupported);
    RUN(test_emit_bad_family);
    return check_summary();
}

/* Unit tests of wire/icmpv4.h: ICMPv4 (RFC 792, RFC 1122 3.2.2, RFC 1191). */
#include "test_wire_util.h"
#include "wire/icmpv4.h"
#include "wire/ipv4.h"

/* Echo request id 0x4242 seq 7 with 32 data bytes. */
static const uint8_t icmp_echo_req[] = {
    0x08, 0x00, 0x8b, 0xb3, 0x42, 0x42, 0x00, 0x07, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74,
    0x75, 0x76, 0x77, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
};

/* The matching echo reply. */
static const uint8_t icmp_echo_reply[] = {
    0x00, 0x00, 0x93, 0xb3, 0x42, 0x42, 0x00, 0x07, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74,
    0x75, 0x76, 0x77, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
};

/* Fragmentation needed, next-hop MTU 1400, quoting a 1428-byte UDP datagram
 * 10.0.0.1:40000 -> 10.9.9.9:33434 (header + 8 bytes). */
static const uint8_t icmp_frag_needed[] = {
    0x03, 0x04, 0x83, 0x91, 0x00, 0x00, 0x05, 0x78, 0x45, 0x00, 0x05, 0x94,
    0x00, 0x55, 0x40, 0x00, 0x3f, 0x11, 0x18, 0xf2, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x09, 0x09, 0x09, 0x9c, 0x40, 0x82, 0x9a, 0x05, 0x80, 0x4f, 0x97,
};

/* Port unreachable, same quote. */
static const uint8_t icmp_port_unreach[] = {
    0x03, 0x03, 0x89, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x05, 0x94,
    0x00, 0x55, 0x40, 0x00, 0x3f, 0x11, 0x18, 0xf2, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x09, 0x09, 0x09, 0x9c, 0x40, 0x82, 0x9a, 0x05, 0x80, 0x4f, 0x97,
};

/* Time exceeded in transit, quoting header + 16 bytes. */
static const uint8_t icmp_time_exceeded[] = {
    0x0b, 0x00, 0x9f, 0x2b, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x05, 0x94, 0x00, 0x55, 0x40,
    0x00, 0x3f, 0x11, 0x18, 0xf2, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x09, 0x09, 0x09, 0x9c, 0x40,
    0x82, 0x9a, 0x05, 0x80, 0x4f, 0x97, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
};

static tern_err parse_icmp(const uint8_t *buf, size_t len, void *ctx) {
    return tern_icmpv4_parse(buf, len, ctx);
}

static tern_err emit_icmp(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    return tern_icmpv4_emit(ctx, buf, cap, written);
}

static void test_echo(void) {
    struct tern_icmpv4_repr r;
    CHECK_EQ_I64(tern_icmpv4_parse(icmp_echo_req, sizeof icmp_echo_req, &r), TERN_OK);
    CHECK_EQ_U64(r.type, TERN_ICMPV4_ECHO_REQUEST);
    CHECK_EQ_U64(r.code, 0);
    CHECK_EQ_U64(r.checksum, 0x8bb3);
    CHECK_EQ_U64(r.echo_id, 0x4242);
    CHECK_EQ_U64(r.echo_seq, 7);
    CHECK(r.payload == icmp_echo_req + 8);
    CHECK_EQ_U64(r.payload_len, 32);
    CHECK(!tern_icmpv4_is_error(r.type));
    wire_check_emit(emit_icmp, &r, icmp_echo_req, sizeof icmp_echo_req);
    /* Answer it the way the ICMP layer will: type 0, same id, seq, data. */
    r.type = TERN_ICMPV4_ECHO_REPLY;
    wire_check_emit(emit_icmp, &r, icmp_echo_reply, sizeof icmp_echo_reply);
    CHECK_EQ_I64(tern_icmpv4_parse(icmp_echo_reply, sizeof icmp_echo_reply, &r), TERN_OK);
    CHECK_EQ_U64(r.type, TERN_ICMPV4_ECHO_REPLY);
    CHECK_EQ_U64(r.echo_id, 0x4242);
    CHECK_EQ_U64(r.echo_seq, 7);
}

static void check_quote(const struct tern_icmpv4_repr *r, size_t quoted_payload) {
    struct tern_ipv4_repr q;
    CHECK_EQ_I64(tern_ipv4_parse_quoted(r->payload, r->payload_len, &q), TERN_OK);
    CHECK_EQ_U64(q.protocol, TERN_IPPROTO_UDP);
    CHECK_EQ_U64(q.total_len, 1428);
    CHECK_EQ_U64(q.payload_len, quoted_payload);
    CHECK_EQ_U64(q.payload[0] << 8 | q.payload[1], 40000);
    CHECK_EQ_U64(q.payload[2] << 8 | q.payload[3], 33434);
}

static void test_frag_needed(void) {
    struct tern_icmpv4_repr r;
    CHECK_EQ_I64(tern_icmpv4_parse(icmp_frag_needed, sizeof icmp_frag_needed, &r), TERN_OK);
    CHECK_EQ_U64(r.type, TERN_ICMPV4_DEST_UNREACH);
    CHECK_EQ_U64(r.code, TERN_ICMPV4_UNREACH_FRAG_NEEDED);
    CHECK_EQ_U64(r.next_hop_mtu, 1400);
    CHECK(tern_icmpv4_is_error(r.type));
    CHECK_EQ_U64(r.payload_len, 28);
    check_quote(&r, 8);
    wire_check_emit(emit_icmp, &r, icmp_frag_needed, sizeof icmp_frag_needed);
}

static void test_port_unreach(void) {
    struct tern_icmpv4_repr r;
    CHECK_EQ_I64(tern_icmpv4_parse(icmp_port_unreach, sizeof icmp_port_unreach, &r), TERN_OK);
    CHECK_EQ_U64(r.type, TERN_ICMPV4_DEST_UNREACH);
    CHECK_EQ_U64(r.code, TERN_ICMPV4_UNREACH_PORT);
    CHECK_EQ_U64(r.next_hop_mtu, 0);
    check_quote(&r, 8);
    wire_check_emit(emit_icmp, &r, icmp_port_unreach, sizeof icmp_port_unreach);
    /* A stray next_hop_mtu is not written for codes other than 4. */
    r.next_hop_mtu = 999;
    wire_check_emit(emit_icmp, &r, icmp_port_unreach, sizeof icmp_port_unreach);
}

static void test_time_exceeded(void) {
    struct tern_icmpv4_repr r;
    CHECK_EQ_I64(tern_icmpv4_parse(icmp_time_exceeded, sizeof icmp_time_exceeded, &r), TERN_OK);
    CHECK_EQ_U64(r.type, TERN_ICMPV4_TIME_EXCEEDED);
    CHECK_EQ_U64(r.code, TERN_ICMPV4_EXCEEDED_TTL);
    check_quote(&r, 16);
    wire_check_emit(emit_icmp, &r, icmp_time_exceeded, sizeof icmp_time_exceeded);
}

static void sweep(const uint8_t *fx, size_t n) {
    /* ICMP has no length field: below 8 bytes it is truncated, beyond that a
     * cut message fails its checksum (or, for errors, the quote minimum). */
    struct tern_icmpv4_repr r;
    int ok = 1;
    for (size_t len = 0; len < n; len++) {
        tern_err err = wire_parse_exact(parse_icmp, fx, len, &r);
        tern_err want = len < 8 ? TERN_ERR_TRUNCATED : TERN_ERR_BAD_CHECKSUM;
        if (err != want) {
            fprintf(stderr, "  length %zu: %s\n", len, tern_error_name(err));
            ok = 0;
        }
    }
    CHECK(ok);
}

static void test_truncations(void) {
    sweep(icmp_echo_req, sizeof icmp_echo_req);
    sweep(icmp_echo_reply, sizeof icmp_echo_reply);
    sweep(icmp_frag_needed, sizeof icmp_frag_needed);
    sweep(icmp_port_unreach, sizeof icmp_port_unreach);
    sweep(icmp_time_exceeded, sizeof icmp_time_exceeded);
}

static void test_bad_checksum(void) {
    struct tern_icmpv4_repr r;
    int ok = 1;
    for (size_t i = 0; i < sizeof icmp_echo_req; i++) {
        for (int bit = 0; bit < 8; bit++) {
            ok &= wire_parse_flipped(parse_icmp, icmp_echo_req, sizeof icmp_echo_req, i,
                                     (uint8_t)(1u << bit), &r) == TERN_ERR_BAD_CHECKSUM;
        }
    }
    CHECK(ok);
}

static void test_short_quote(void) {
    /* An error whose quote is shorter than header + 8 bytes, with a good
     * checksum, is malformed (RFC 1122 section 3.2.2). */
    struct tern_icmpv4_repr r;
    CHECK_EQ_I64(tern_icmpv4_parse(icmp_port_unreach, sizeof icmp_port_unreach, &r), TERN_OK);
    r.payload_len = 27;
    uint8_t buf[64];
    size_t w;
    CHECK_EQ_I64(tern_icmpv4_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_I64(tern_icmpv4_parse(buf, w, &r), TERN_ERR_MALFORMED);
    /* An echo may carry no data at all. */
    CHECK_EQ_I64(tern_icmpv4_parse(icmp_echo_req, sizeof icmp_echo_req, &r), TERN_OK);
    r.payload_len = 0;
    CHECK_EQ_I64(tern_icmpv4_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(w, 8);
    CHECK_EQ_I64(tern_icmpv4_parse(buf, w, &r), TERN_OK);
}

static void test_other_types(void) {
    struct tern_icmpv4_repr r, p;
    memset(&r, 0, sizeof r);
    uint8_t buf[64];
    size_t w;
    /* Parameter problem: pointer in the first byte. */
    r.type = TERN_ICMPV4_PARAM_PROBLEM;
    r.pointer = 9;
    r.payload = icmp_frag_needed + 8;
    r.payload_len = 28;
    CHECK_EQ_I64(tern_icmpv4_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(buf[4], 9);
    CHECK_EQ_I64(tern_icmpv4_parse(buf, w, &p), TERN_OK);
    CHECK_EQ_U64(p.pointer, 9);
    /* Redirect: gateway address. */
    r.type = TERN_ICMPV4_REDIRECT;
    r.gateway = tern_addr_v4(10, 0, 0, 254);
    CHECK_EQ_I64(tern_icmpv4_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_I64(tern_icmpv4_parse(buf, w, &p), TERN_OK);
    CHECK(tern_addr_eq(&p.gateway, &r.gateway));
    r.gateway.family = TERN_AF_NONE;
    CHECK_EQ_I64(tern_icmpv4_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    /* Unknown type (timestamp request, 13): rest-of-header kept raw. */
    r.type = 13;
    r.rest = 0xdeadbeef;
    r.payload_len = 12;
    CHECK_EQ_I64(tern_icmpv4_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_I64(tern_icmpv4_parse(buf, w, &p), TERN_OK);
    CHECK_EQ_U64(p.rest, 0xdeadbeef);
    CHECK_EQ_U64(p.payload_len, 12);
}

static void test_emit_zero_copy(void) {
    struct tern_icmpv4_repr r;
    CHECK_EQ_I64(tern_icmpv4_parse(icmp_echo_req, sizeof icmp_echo_req, &r), TERN_OK);
    uint8_t buf[64];
    memset(buf, JUNK, sizeof buf);
    memcpy(buf + 8, icmp_echo_req + 8, 32);
    r.payload = NULL;
    size_t w;
    CHECK_EQ_I64(tern_icmpv4_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK(wire_bytes_eq(buf, icmp_echo_req, sizeof icmp_echo_req));
}

int main(void) {
    RUN(test_echo);
    RUN(test_frag_needed);
    RUN(test_port_unreach);
    RUN(test_time_exceeded);
    RUN(test_truncations);
    RUN(test_bad_checksum);
    RUN(test_short_quote);
    RUN(test_other_types);
    RUN(test_emit_zero_copy);
    return check_summary();
}

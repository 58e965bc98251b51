/* Unit tests of wire/ethernet.h: Ethernet II (RFC 894) and 802.1Q tags. */
#include "test_wire_util.h"
#include "wire/ethernet.h"

/* 02:00:00:00:00:01 -> 02:00:00:00:00:02, IPv4, 4 payload bytes. */
static const uint8_t eth_ipv4[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00, 0x01, 0x02,
};

/* Broadcast ARP in VLAN 100, priority 5, DEI set. */
static const uint8_t eth_vlan[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x81, 0x00, 0xb0, 0x64, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00,
};

static tern_err parse_eth(const uint8_t *buf, size_t len, void *ctx) {
    return tern_eth_parse(buf, len, ctx);
}

static tern_err emit_eth(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    return tern_eth_emit(ctx, buf, cap, written);
}

static void test_parse_untagged(void) {
    struct tern_eth_repr r;
    CHECK_EQ_I64(tern_eth_parse(eth_ipv4, sizeof eth_ipv4, &r), TERN_OK);
    tern_mac dst = {{2, 0, 0, 0, 0, 2}}, src = {{2, 0, 0, 0, 0, 1}};
    CHECK(tern_mac_eq(&r.dst, &dst));
    CHECK(tern_mac_eq(&r.src, &src));
    CHECK_EQ_U64(r.ethertype, TERN_ETHERTYPE_IPV4);
    CHECK(!r.has_vlan);
    CHECK(r.payload == eth_ipv4 + 14);
    CHECK_EQ_U64(r.payload_len, 4);
    CHECK_EQ_U64(tern_eth_header_len(&r), 14);
    wire_check_emit(emit_eth, &r, eth_ipv4, sizeof eth_ipv4);
}

static void test_parse_vlan(void) {
    struct tern_eth_repr r;
    CHECK_EQ_I64(tern_eth_parse(eth_vlan, sizeof eth_vlan, &r), TERN_OK);
    CHECK(tern_mac_is_broadcast(&r.dst));
    CHECK(r.has_vlan);
    CHECK_EQ_U64(r.vlan_id, 100);
    CHECK_EQ_U64(r.vlan_pcp, 5);
    CHECK(r.vlan_dei);
    CHECK_EQ_U64(r.ethertype, TERN_ETHERTYPE_ARP);
    CHECK(r.payload == eth_vlan + 18);
    CHECK_EQ_U64(r.payload_len, 4);
    CHECK_EQ_U64(tern_eth_header_len(&r), 18);
    wire_check_emit(emit_eth, &r, eth_vlan, sizeof eth_vlan);
}

static void test_truncations(void) {
    struct tern_eth_repr r;
    for (size_t n = 0; n < 14; n++) {
        CHECK_EQ_I64(wire_parse_exact(parse_eth, eth_ipv4, n, &r), TERN_ERR_TRUNCATED);
    }
    /* A header alone is a frame with an empty payload. */
    for (size_t n = 14; n <= sizeof eth_ipv4; n++) {
        CHECK_EQ_I64(wire_parse_exact(parse_eth, eth_ipv4, n, &r), TERN_OK);
        CHECK_EQ_U64(r.payload_len, n - 14);
    }
    for (size_t n = 0; n < 18; n++) {
        CHECK_EQ_I64(wire_parse_exact(parse_eth, eth_vlan, n, &r), TERN_ERR_TRUNCATED);
    }
    CHECK_EQ_I64(wire_parse_exact(parse_eth, eth_vlan, 18, &r), TERN_OK);
    CHECK_EQ_U64(r.payload_len, 0);
}

static void test_unsupported(void) {
    struct tern_eth_repr r;
    uint8_t f[sizeof eth_ipv4];
    memcpy(f, eth_ipv4, sizeof f);
    /* An IEEE 802.3 length field (< 0x0600), not an EtherType. */
    f[12] = 0x05;
    f[13] = 0xdc;
    CHECK_EQ_I64(tern_eth_parse(f, sizeof f, &r), TERN_ERR_UNSUPPORTED);
    /* QinQ: a second 0x8100 after the tag. */
    uint8_t q[sizeof eth_vlan];
    memcpy(q, eth_vlan, sizeof q);
    q[16] = 0x81;
    q[17] = 0x00;
    CHECK_EQ_I64(tern_eth_parse(q, sizeof q, &r), TERN_ERR_UNSUPPORTED);
}

static void test_emit_zero_copy_and_pad(void) {
    /* Payload already in place: emit writes only the header. */
    uint8_t buf[64];
    memset(buf, JUNK, sizeof buf);
    memcpy(buf + 14, eth_ipv4 + 14, 4);
    struct tern_eth_repr r;
    CHECK_EQ_I64(tern_eth_parse(eth_ipv4, sizeof eth_ipv4, &r), TERN_OK);
    r.payload = NULL;
    size_t w = 0;
    CHECK_EQ_I64(tern_eth_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(w, sizeof eth_ipv4);
    CHECK(wire_bytes_eq(buf, eth_ipv4, sizeof eth_ipv4));
    /* Padding to the 60-byte minimum is zeros. */
    size_t padded = 0;
    CHECK_EQ_I64(tern_eth_pad(buf, w, sizeof buf, &padded), TERN_OK);
    CHECK_EQ_U64(padded, 60);
    int zeros = 1;
    for (size_t i = w; i < 60; i++) {
        zeros &= buf[i] == 0;
    }
    CHECK(zeros);
    CHECK_EQ_U64(buf[60], JUNK);
    CHECK_EQ_I64(tern_eth_pad(buf, w, 59, &padded), TERN_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_I64(tern_eth_pad(buf, 61, 61, &padded), TERN_OK);
    CHECK_EQ_U64(padded, 61);
    /* Out-of-range tag fields are masked, never spilled into neighbours. */
    r.has_vlan = true;
    r.vlan_id = 0xffff;
    r.vlan_pcp = 0xff;
    r.vlan_dei = false;
    r.payload = eth_ipv4 + 14;
    CHECK_EQ_I64(tern_eth_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(buf[14], 0xef);
    CHECK_EQ_U64(buf[15], 0xff);
}

int main(void) {
    RUN(test_parse_untagged);
    RUN(test_parse_vlan);
    RUN(test_truncations);
    RUN(test_unsupported);
    RUN(test_emit_zero_copy_and_pad);
    return check_summary();
}

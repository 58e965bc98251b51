/* Unit tests of wire/dhcpv4.h: DHCPv4 messages (RFC 2131, RFC 2132). */
#include "test_wire_util.h"
#include "wire/dhcpv4.h"

static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x01};

/* A DHCPOFFER with every option the stack acts on. */
static void offer_repr(struct tern_dhcpv4_repr *r) {
    static const uint8_t host[] = "dut";
    static const uint8_t cid[] = {1, 2, 0, 0, 0, 0, 1};
    memset(r, 0, sizeof *r);
    r->op = TERN_DHCP_OP_REPLY;
    r->htype = 1;
    r->hlen = 6;
    r->xid = 0x12345678;
    r->flags = TERN_DHCP_FLAG_BROADCAST;
    r->yiaddr = 0x0a000064;
    r->siaddr = 0x0a000001;
    memcpy(r->chaddr, mac, 6);
    r->msg_type = TERN_DHCP_OFFER;
    r->present = TERN_DHCP_HAS_SUBNET_MASK | TERN_DHCP_HAS_ROUTER | TERN_DHCP_HAS_DNS |
                 TERN_DHCP_HAS_HOSTNAME | TERN_DHCP_HAS_MTU | TERN_DHCP_HAS_LEASE_TIME |
                 TERN_DHCP_HAS_SERVER_ID | TERN_DHCP_HAS_T1 | TERN_DHCP_HAS_T2 |
                 TERN_DHCP_HAS_CLIENT_ID;
    r->subnet_mask = 0xffffff00;
    r->routers[0] = 0x0a000001;
    r->n_routers = 1;
    r->dns[0] = 0x0a000001;
    r->dns[1] = 0x08080808;
    r->n_dns = 2;
    r->hostname = host;
    r->hostname_len = 3;
    r->mtu = 1400;
    r->lease_time = 3600;
    r->server_id = 0x0a000001;
    r->t1 = 1800;
    r->t2 = 3150;
    r->client_id = cid;
    r->client_id_len = sizeof cid;
}

static tern_err parse_dhcp(const uint8_t *buf, size_t len, void *ctx) {
    return tern_dhcpv4_parse(buf, len, ctx);
}

static tern_err emit_dhcp(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    return tern_dhcpv4_emit(ctx, buf, cap, written);
}

/* Emit, then check the bytes by hand at their RFC 2131 offsets. */
static void test_emit_layout(void) {
    struct tern_dhcpv4_repr r;
    offer_repr(&r);
    uint8_t buf[600];
    size_t n = 0;
    CHECK_EQ_I64(tern_dhcpv4_emit(&r, buf, sizeof buf, &n), TERN_OK);
    CHECK_EQ_U64(n, tern_dhcpv4_emit_len(&r));
    CHECK_EQ_U64(buf[n - 1], TERN_DHCP_OPT_END);
    CHECK_EQ_U64(buf[0], 2);
    CHECK_EQ_U64(buf[2], 6);
    CHECK_EQ_U64(buf[4], 0x12);
    CHECK_EQ_U64(buf[7], 0x78);
    CHECK_EQ_U64(buf[10], 0x80);
    CHECK_EQ_U64(buf[16], 10);
    CHECK_EQ_U64(buf[19], 100);
    CHECK_EQ_U64(buf[28], 0x02);
    CHECK_EQ_U64(buf[33], 0x01);
    CHECK_EQ_U64(buf[236], 99);
    CHECK_EQ_U64(buf[237], 130);
    CHECK_EQ_U64(buf[238], 83);
    CHECK_EQ_U64(buf[239], 99);
    /* message type first */
    CHECK_EQ_U64(buf[240], 53);
    CHECK_EQ_U64(buf[241], 1);
    CHECK_EQ_U64(buf[242], 2);
    /* subnet mask next */
    CHECK_EQ_U64(buf[243], 1);
    CHECK_EQ_U64(buf[244], 4);
    CHECK_EQ_U64(buf[248], 0);
    wire_check_emit(emit_dhcp, &r, buf, n);
}

static void test_round_trip(void) {
    struct tern_dhcpv4_repr r, p;
    offer_repr(&r);
    uint8_t buf[600];
    size_t n = 0;
    CHECK_EQ_I64(tern_dhcpv4_emit(&r, buf, sizeof buf, &n), TERN_OK);
    CHECK_EQ_I64(wire_parse_exact(parse_dhcp, buf, n, &p), TERN_OK);
    /* Again in place: the pointer fields point into the buffer parsed. */
    CHECK_EQ_I64(tern_dhcpv4_parse(buf, n, &p), TERN_OK);
    CHECK_EQ_U64(p.op, 2);
    CHECK_EQ_U64(p.xid, 0x12345678);
    CHECK_EQ_U64(p.flags, 0x8000);
    CHECK_EQ_U64(p.yiaddr, 0x0a000064);
    CHECK_EQ_U64(p.siaddr, 0x0a000001);
    CHECK_EQ_U64(p.msg_type, TERN_DHCP_OFFER);
    CHECK_EQ_U64(p.present, r.present);
    CHECK_EQ_U64(p.subnet_mask, 0xffffff00);
    CHECK_EQ_U64(p.n_routers, 1);
    CHECK_EQ_U64(p.routers[0], 0x0a000001);
    CHECK_EQ_U64(p.n_dns, 2);
    CHECK_EQ_U64(p.dns[1], 0x08080808);
    CHECK_EQ_U64(p.mtu, 1400);
    CHECK_EQ_U64(p.lease_time, 3600);
    CHECK_EQ_U64(p.server_id, 0x0a000001);
    CHECK_EQ_U64(p.t1, 1800);
    CHECK_EQ_U64(p.t2, 3150);
    CHECK_EQ_U64(p.hostname_len, 3);
    CHECK(memcmp(p.hostname, "dut", 3) == 0);
    CHECK_EQ_U64(p.client_id_len, 7);
    CHECK(memcmp(p.chaddr, mac, 6) == 0);
}

/* Every prefix of a valid message is refused: options are only valid up to
 * the end option, and the end option sits at the end of the options. */
static void test_truncations(void) {
    struct tern_dhcpv4_repr r, p;
    offer_repr(&r);
    uint8_t buf[600];
    size_t n = 0;
    CHECK_EQ_I64(tern_dhcpv4_emit(&r, buf, sizeof buf, &n), TERN_OK);
    size_t end = TERN_DHCP_MIN_LEN;
    while (buf[end] != TERN_DHCP_OPT_END) {
        end += buf[end] == 0 ? 1 : 2u + buf[end + 1];
    }
    int all = 1;
    for (size_t len = 0; len <= end; len++) {
        if (wire_parse_exact(parse_dhcp, buf, len, &p) != TERN_ERR_TRUNCATED) {
            all = 0;
            fprintf(stderr, "  length %zu not refused as truncated\n", len);
        }
    }
    CHECK(all);
    CHECK_EQ_I64(wire_parse_exact(parse_dhcp, buf, end + 1, &p), TERN_OK);
}

/* A 300-byte frame whose options start at 240: write them, end, parse. */
static tern_err parse_opts(const uint8_t *opts, size_t n, struct tern_dhcpv4_repr *p) {
    uint8_t buf[600];
    struct tern_dhcpv4_repr r;
    offer_repr(&r);
    r.present = 0;
    size_t w;
    tern_dhcpv4_emit(&r, buf, sizeof buf, &w);
    memcpy(buf + TERN_DHCP_MIN_LEN, opts, n);
    return wire_parse_exact(parse_dhcp, buf, TERN_DHCP_MIN_LEN + n, p);
}

static void test_malformed_options(void) {
    struct tern_dhcpv4_repr p;
    /* subnet mask of length 3 */
    const uint8_t m1[] = {1, 3, 255, 255, 255, 255};
    CHECK_EQ_I64(parse_opts(m1, sizeof m1, &p), TERN_ERR_MALFORMED);
    /* router list not a multiple of 4 */
    const uint8_t m2[] = {3, 5, 1, 2, 3, 4, 5, 255};
    CHECK_EQ_I64(parse_opts(m2, sizeof m2, &p), TERN_ERR_MALFORMED);
    /* empty DNS list */
    const uint8_t m3[] = {6, 0, 255};
    CHECK_EQ_I64(parse_opts(m3, sizeof m3, &p), TERN_ERR_MALFORMED);
    /* message type 9 */
    const uint8_t m4[] = {53, 1, 9, 255};
    CHECK_EQ_I64(parse_opts(m4, sizeof m4, &p), TERN_ERR_MALFORMED);
    /* MTU below 68 */
    const uint8_t m5[] = {26, 2, 0, 67, 255};
    CHECK_EQ_I64(parse_opts(m5, sizeof m5, &p), TERN_ERR_MALFORMED);
    /* client id of length 1 */
    const uint8_t m6[] = {61, 1, 1, 255};
    CHECK_EQ_I64(parse_opts(m6, sizeof m6, &p), TERN_ERR_MALFORMED);
    /* option length past the end */
    const uint8_t m7[] = {12, 200, 'a', 'b'};
    CHECK_EQ_I64(parse_opts(m7, sizeof m7, &p), TERN_ERR_TRUNCATED);
    /* lone option code at the end */
    const uint8_t m8[] = {0, 0, 12};
    CHECK_EQ_I64(parse_opts(m8, sizeof m8, &p), TERN_ERR_TRUNCATED);
    /* unknown options skipped, pads skipped, first instance wins, more
     * than four DNS servers keep the first four */
    const uint8_t ok[] = {0,  0,  250, 2, 9, 9, 53, 1, 5,  53, 1, 6, 51,  4, 0, 0, 0,
                          60, 51, 4,   0, 0, 0, 99, 6, 20, 1,  1, 1, 1,   2, 2, 2, 2,
                          3,  3,  3,   3, 4, 4, 4,  4, 5,  5,  5, 5, 255, 7, 7};
    CHECK_EQ_I64(parse_opts(ok, sizeof ok, &p), TERN_OK);
    CHECK_EQ_U64(p.msg_type, TERN_DHCP_ACK);
    CHECK_EQ_U64(p.lease_time, 60);
    CHECK_EQ_U64(p.n_dns, 4);
    CHECK_EQ_U64(p.dns[3], 0x04040404);
    /* bad cookie, bad op, bad hlen */
    uint8_t buf[600];
    struct tern_dhcpv4_repr r;
    offer_repr(&r);
    size_t w;
    CHECK_EQ_I64(tern_dhcpv4_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_I64(wire_parse_flipped(parse_dhcp, buf, w, 237, 1, &p), TERN_ERR_UNSUPPORTED);
    CHECK_EQ_I64(wire_parse_flipped(parse_dhcp, buf, w, 0, 4, &p), TERN_ERR_MALFORMED);
    CHECK_EQ_I64(wire_parse_flipped(parse_dhcp, buf, w, 2, 0x10, &p), TERN_ERR_MALFORMED);
}

/* A message with few options is padded to 300 bytes (RFC 1542 2.1). */
static void test_padding(void) {
    struct tern_dhcpv4_repr r, p;
    offer_repr(&r);
    r.present = 0;
    uint8_t buf[600];
    size_t n = 0;
    CHECK_EQ_I64(tern_dhcpv4_emit(&r, buf, sizeof buf, &n), TERN_OK);
    CHECK_EQ_U64(n, TERN_DHCP_BOOTP_MIN_LEN);
    CHECK_EQ_U64(buf[243], TERN_DHCP_OPT_END);
    CHECK_EQ_U64(buf[299], 0);
    CHECK_EQ_I64(wire_parse_exact(parse_dhcp, buf, n, &p), TERN_OK);
    CHECK_EQ_U64(p.msg_type, TERN_DHCP_OFFER);
}

static void test_emit_invalid(void) {
    struct tern_dhcpv4_repr r;
    uint8_t buf[600];
    size_t w;
    offer_repr(&r);
    r.n_dns = 0;
    CHECK_EQ_I64(tern_dhcpv4_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    offer_repr(&r);
    r.n_routers = TERN_DHCP_MAX_ROUTERS + 1;
    CHECK_EQ_I64(tern_dhcpv4_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    offer_repr(&r);
    r.hostname = NULL;
    CHECK_EQ_I64(tern_dhcpv4_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    offer_repr(&r);
    r.hlen = 17;
    CHECK_EQ_I64(tern_dhcpv4_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    /* long options push the message past 300 bytes: no padding then */
    uint8_t longname[255];
    memset(longname, 'h', sizeof longname);
    offer_repr(&r);
    r.hostname = longname;
    r.hostname_len = 255;
    CHECK_EQ_I64(tern_dhcpv4_emit(&r, buf, sizeof buf, &w), TERN_OK);
    CHECK(w > TERN_DHCP_BOOTP_MIN_LEN);
    CHECK_EQ_U64(buf[w - 1], TERN_DHCP_OPT_END);
}

int main(void) {
    RUN(test_emit_layout);
    RUN(test_round_trip);
    RUN(test_truncations);
    RUN(test_malformed_options);
    RUN(test_padding);
    RUN(test_emit_invalid);
    return check_summary();
}

/* Unit tests of wire/dhcpv6.h: DHCPv6 messages (RFC 8415 sections 8, 21; RFC 3646). */
#include "test_wire_util.h"
#include "wire/bytes.h"
#include "wire/dhcpv6.h"

static const uint8_t cduid[10] = {0, 3, 0, 1, 2, 0, 0, 0, 0, 1};
static const uint8_t sduid[10] = {0, 3, 0, 1, 2, 0, 0, 0, 5, 0x47};
static const uint8_t domains[] = {3, 'l', 'a', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};

static tern_addr a6(uint8_t last) {
    uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8};
    b[15] = last;
    return tern_addr_v6_from_bytes(b);
}

/* A Reply with every option the client acts on. */
static void reply_repr(struct tern_dhcpv6_repr *r) {
    memset(r, 0, sizeof *r);
    r->msg_type = TERN_DHCPV6_MSG_REPLY;
    r->xid = 0xabcdef;
    r->present = TERN_DHCPV6_HAS_CLIENTID | TERN_DHCPV6_HAS_SERVERID | TERN_DHCPV6_HAS_IA_NA |
                 TERN_DHCPV6_HAS_PREFERENCE | TERN_DHCPV6_HAS_STATUS | TERN_DHCPV6_HAS_DNS |
                 TERN_DHCPV6_HAS_DOMAINS | TERN_DHCPV6_HAS_INFO_REFRESH | TERN_DHCPV6_HAS_IA_STATUS;
    r->client_id = cduid;
    r->client_id_len = sizeof cduid;
    r->server_id = sduid;
    r->server_id_len = sizeof sduid;
    r->iaid = 7;
    r->t1 = 1000;
    r->t2 = 1600;
    r->naddrs = 2;
    r->addrs[0].addr = a6(0x10);
    r->addrs[0].preferred = 2000;
    r->addrs[0].valid = 3000;
    r->addrs[1].addr = a6(0x20);
    r->addrs[1].preferred = 1;
    r->addrs[1].valid = 2;
    r->addrs[1].has_status = true;
    r->addrs[1].status = TERN_DHCPV6_STATUS_NOT_ON_LINK;
    r->ia_status = TERN_DHCPV6_STATUS_SUCCESS;
    r->preference = 200;
    r->status = TERN_DHCPV6_STATUS_SUCCESS;
    r->status_msg = (const uint8_t *)"ok";
    r->status_msg_len = 2;
    r->n_dns = 2;
    r->dns[0] = a6(0x53);
    r->dns[1] = a6(0x54);
    r->domains = domains;
    r->domains_len = sizeof domains;
    r->info_refresh = 3600;
}

static tern_err parse6(const uint8_t *buf, size_t len, void *ctx) {
    return tern_dhcpv6_parse(buf, len, ctx);
}

static tern_err emit6(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    return tern_dhcpv6_emit(ctx, buf, cap, written);
}

static int same_repr(const struct tern_dhcpv6_repr *a, const struct tern_dhcpv6_repr *b) {
    int ok = a->msg_type == b->msg_type && a->xid == b->xid && a->present == b->present &&
             a->client_id_len == b->client_id_len && a->server_id_len == b->server_id_len &&
             a->iaid == b->iaid && a->t1 == b->t1 && a->t2 == b->t2 && a->naddrs == b->naddrs &&
             a->n_dns == b->n_dns && a->preference == b->preference && a->status == b->status &&
             a->ia_status == b->ia_status && a->info_refresh == b->info_refresh &&
             a->domains_len == b->domains_len && a->n_oro == b->n_oro;
    for (uint8_t i = 0; ok && i < a->naddrs; i++) {
        ok = tern_addr_eq(&a->addrs[i].addr, &b->addrs[i].addr) &&
             a->addrs[i].preferred == b->addrs[i].preferred &&
             a->addrs[i].valid == b->addrs[i].valid &&
             a->addrs[i].has_status == b->addrs[i].has_status &&
             a->addrs[i].status == b->addrs[i].status;
    }
    for (uint8_t i = 0; ok && i < a->n_dns; i++) {
        ok = tern_addr_eq(&a->dns[i], &b->dns[i]);
    }
    return ok;
}

/* Emit, then check the bytes at their RFC 8415 offsets. */
static void test_emit_layout(void) {
    struct tern_dhcpv6_repr r;
    reply_repr(&r);
    uint8_t buf[512];
    size_t n = 0;
    CHECK_EQ_I64(tern_dhcpv6_emit(&r, buf, sizeof buf, &n), TERN_OK);
    CHECK_EQ_U64(n, tern_dhcpv6_emit_len(&r));
    /* section 8: msg-type, 3-byte transaction-id */
    CHECK_EQ_U64(buf[0], 7);
    CHECK_EQ_U64(buf[1], 0xab);
    CHECK_EQ_U64(buf[3], 0xef);
    /* Client Identifier (1), length 10, the DUID */
    CHECK_EQ_U64(tern_get_u16(buf + 4), 1);
    CHECK_EQ_U64(tern_get_u16(buf + 6), 10);
    CHECK(memcmp(buf + 8, cduid, 10) == 0);
    /* Server Identifier (2) */
    CHECK_EQ_U64(tern_get_u16(buf + 18), 2);
    /* IA_NA (3): IAID, T1, T2, then IA Address (5) of 24 bytes */
    size_t ia = 32;
    CHECK_EQ_U64(tern_get_u16(buf + ia), 3);
    /* 12 + (4+24) + (4+24+4+2) + (4+2) */
    CHECK_EQ_U64(tern_get_u16(buf + ia + 2), 12 + 28 + 34 + 6);
    CHECK_EQ_U64(tern_get_u32(buf + ia + 4), 7);
    CHECK_EQ_U64(tern_get_u32(buf + ia + 8), 1000);
    CHECK_EQ_U64(tern_get_u32(buf + ia + 12), 1600);
    CHECK_EQ_U64(tern_get_u16(buf + ia + 16), 5);
    CHECK_EQ_U64(tern_get_u16(buf + ia + 18), 24);
    CHECK_EQ_U64(buf[ia + 20 + 15], 0x10);
    CHECK_EQ_U64(tern_get_u32(buf + ia + 20 + 16), 2000);
    CHECK_EQ_U64(tern_get_u32(buf + ia + 20 + 20), 3000);
    wire_check_emit(emit6, &r, buf, n);
}

static void test_round_trip(void) {
    struct tern_dhcpv6_repr r, p;
    reply_repr(&r);
    uint8_t buf[512];
    size_t n = 0;
    CHECK_EQ_I64(tern_dhcpv6_emit(&r, buf, sizeof buf, &n), TERN_OK);
    CHECK_EQ_I64(wire_parse_exact(parse6, buf, n, &p), TERN_OK);
    CHECK(same_repr(&r, &p));
    CHECK_EQ_U64(p.addrs[1].status, TERN_DHCPV6_STATUS_NOT_ON_LINK);
    CHECK_EQ_U64(p.unknown, 0);
}

/* The offsets where an option ends (a message cut there is whole, with fewer options). */
static int at_boundary(const uint8_t *buf, size_t n, size_t len) {
    size_t off = TERN_DHCPV6_HDR_LEN;
    while (off < n) {
        if (off == len) {
            return 1;
        }
        off += 4u + tern_get_u16(buf + off + 2);
    }
    return len == TERN_DHCPV6_HDR_LEN || len == n;
}

/* Every prefix: whole options parse, a cut inside one is TERN_ERR_TRUNCATED (never a read past
 * the exact-size heap block: ASan watches). */
static void test_truncation_sweep(void) {
    struct tern_dhcpv6_repr r, p;
    reply_repr(&r);
    uint8_t buf[512];
    size_t n = 0;
    CHECK_EQ_I64(tern_dhcpv6_emit(&r, buf, sizeof buf, &n), TERN_OK);
    int all = 1;
    for (size_t len = 0; len < n; len++) {
        tern_err want = len < TERN_DHCPV6_HDR_LEN  ? TERN_ERR_TRUNCATED
                        : at_boundary(buf, n, len) ? TERN_OK
                                                   : TERN_ERR_TRUNCATED;
        tern_err got = wire_parse_exact(parse6, buf, len, &p);
        if (got != want) {
            all = 0;
            fprintf(stderr, "  length %zu: %d, want %d\n", len, (int)got, (int)want);
        }
    }
    CHECK(all);
}

/* Every single-bit flip of every byte: parsing ends (OK or an error), and what parses emits
 * again to bytes that parse to the same representation. */
static void test_bit_flip_sweep(void) {
    struct tern_dhcpv6_repr r, p, q;
    reply_repr(&r);
    uint8_t buf[512], out[1024];
    size_t n = 0;
    CHECK_EQ_I64(tern_dhcpv6_emit(&r, buf, sizeof buf, &n), TERN_OK);
    int consistent = 1, parsed = 0;
    for (size_t byte = 0; byte < n; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t *c = wire_dup(buf, n);
            c[byte] ^= (uint8_t)(1u << bit);
            tern_err err = tern_dhcpv6_parse(c, n, &p);
            if (err == TERN_OK) {
                parsed++;
                size_t w = 0;
                if (tern_dhcpv6_emit(&p, out, sizeof out, &w) == TERN_OK &&
                    (tern_dhcpv6_parse(out, w, &q) != TERN_OK || !same_repr(&p, &q))) {
                    consistent = 0;
                    fprintf(stderr, "  flip %zu.%d: re-emitted message differs\n", byte, bit);
                }
            } else if (err != TERN_ERR_TRUNCATED && err != TERN_ERR_MALFORMED &&
                       err != TERN_ERR_UNSUPPORTED) {
                consistent = 0;
            }
            free(c);
        }
    }
    CHECK(consistent);
    CHECK(parsed > 0);
}

/* A message of header + the given options. */
static tern_err parse_opts(const uint8_t *opts, size_t n, struct tern_dhcpv6_repr *p) {
    uint8_t buf[256] = {TERN_DHCPV6_MSG_ADVERTISE, 1, 2, 3};
    memcpy(buf + 4, opts, n);
    return wire_parse_exact(parse6, buf, 4 + n, p);
}

static void test_malformed_lengths(void) {
    struct tern_dhcpv6_repr p;
    const uint8_t pref2[] = {0, 7, 0, 2, 1, 2};
    CHECK_EQ_I64(parse_opts(pref2, sizeof pref2, &p), TERN_ERR_MALFORMED);
    const uint8_t elapsed3[] = {0, 8, 0, 3, 1, 2, 3};
    CHECK_EQ_I64(parse_opts(elapsed3, sizeof elapsed3, &p), TERN_ERR_MALFORMED);
    const uint8_t status1[] = {0, 13, 0, 1, 0};
    CHECK_EQ_I64(parse_opts(status1, sizeof status1, &p), TERN_ERR_MALFORMED);
    const uint8_t ia11[] = {0, 3, 0, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0};
    CHECK_EQ_I64(parse_opts(ia11, sizeof ia11, &p), TERN_ERR_MALFORMED);
    /* an IA Address of 23 bytes inside an IA_NA */
    uint8_t ia_short[4 + 12 + 4 + 23] = {0, 3, 0, 12 + 4 + 23};
    ia_short[16] = 0;
    ia_short[17] = 5;
    ia_short[19] = 23;
    CHECK_EQ_I64(parse_opts(ia_short, sizeof ia_short, &p), TERN_ERR_MALFORMED);
    /* an IA Address claiming more than the IA_NA holds */
    uint8_t ia_over[4 + 12 + 4 + 24] = {0, 3, 0, 12 + 4 + 24};
    ia_over[17] = 5;
    ia_over[19] = 30;
    CHECK_EQ_I64(parse_opts(ia_over, sizeof ia_over, &p), TERN_ERR_TRUNCATED);
    const uint8_t dns17[4 + 17] = {0, 23, 0, 17};
    CHECK_EQ_I64(parse_opts(dns17, sizeof dns17, &p), TERN_ERR_MALFORMED);
    const uint8_t dns0[] = {0, 23, 0, 0};
    CHECK_EQ_I64(parse_opts(dns0, sizeof dns0, &p), TERN_ERR_MALFORMED);
    const uint8_t duid1[] = {0, 1, 0, 1, 3};
    CHECK_EQ_I64(parse_opts(duid1, sizeof duid1, &p), TERN_ERR_MALFORMED);
    uint8_t duid131[4 + 131] = {0, 2, 0, 131};
    CHECK_EQ_I64(parse_opts(duid131, sizeof duid131, &p), TERN_ERR_MALFORMED);
    const uint8_t rapid1[] = {0, 14, 0, 1, 0};
    CHECK_EQ_I64(parse_opts(rapid1, sizeof rapid1, &p), TERN_ERR_MALFORMED);
    const uint8_t oro3[] = {0, 6, 0, 3, 0, 23, 0};
    CHECK_EQ_I64(parse_opts(oro3, sizeof oro3, &p), TERN_ERR_MALFORMED);
    const uint8_t refresh2[] = {0, 32, 0, 2, 0, 1};
    CHECK_EQ_I64(parse_opts(refresh2, sizeof refresh2, &p), TERN_ERR_MALFORMED);
    /* unknown options are skipped and counted; a repeated option keeps the first */
    const uint8_t ok[] = {0x12, 0x34, 0, 2, 9, 9, 0, 7, 0, 1, 5, 0, 7, 0, 1, 9};
    CHECK_EQ_I64(parse_opts(ok, sizeof ok, &p), TERN_OK);
    CHECK_EQ_U64(p.unknown, 1);
    CHECK_EQ_U64(p.preference, 5);
    /* relay messages have another layout */
    const uint8_t relay[] = {TERN_DHCPV6_MSG_RELAY_REPL, 0, 0, 0};
    CHECK_EQ_I64(wire_parse_exact(parse6, relay, sizeof relay, &p), TERN_ERR_UNSUPPORTED);
}

static void test_limits_counted(void) {
    struct tern_dhcpv6_repr p;
    /* six DNS servers: four kept, two counted */
    uint8_t dns6[4 + 96] = {0, 23, 0, 96};
    CHECK_EQ_I64(parse_opts(dns6, sizeof dns6, &p), TERN_OK);
    CHECK_EQ_U64(p.n_dns, TERN_DHCPV6_MAX_DNS);
    CHECK_EQ_U64(p.extra_dns, 2);
    /* two IA_NA options: the second counted */
    uint8_t two_ia[32] = {0, 3, 0, 12};
    two_ia[17] = 3;
    two_ia[19] = 12;
    CHECK_EQ_I64(parse_opts(two_ia, sizeof two_ia, &p), TERN_OK);
    CHECK_EQ_U64(p.extra_ia, 1);
}

static void test_emit_invalid(void) {
    struct tern_dhcpv6_repr r;
    uint8_t buf[512];
    size_t w;
    reply_repr(&r);
    r.xid = 0x1000000;
    CHECK_EQ_I64(tern_dhcpv6_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    reply_repr(&r);
    r.client_id_len = 1;
    CHECK_EQ_I64(tern_dhcpv6_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    reply_repr(&r);
    r.naddrs = TERN_DHCPV6_MAX_ADDRS + 1;
    CHECK_EQ_I64(tern_dhcpv6_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    reply_repr(&r);
    r.dns[1] = tern_addr_v4(10, 0, 0, 1);
    CHECK_EQ_I64(tern_dhcpv6_emit(&r, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
}

static void test_domain_first(void) {
    char out[64];
    CHECK_EQ_I64(tern_dhcpv6_domain_first(domains, sizeof domains, out, sizeof out), TERN_OK);
    CHECK(strcmp(out, "lab.example") == 0);
    /* a label past the data, a compression pointer, no root label, too long for out */
    const uint8_t past[] = {5, 'a', 'b'};
    CHECK_EQ_I64(tern_dhcpv6_domain_first(past, sizeof past, out, sizeof out), TERN_ERR_MALFORMED);
    const uint8_t ptr[] = {0xc0, 0x0c};
    CHECK_EQ_I64(tern_dhcpv6_domain_first(ptr, sizeof ptr, out, sizeof out), TERN_ERR_MALFORMED);
    const uint8_t noroot[] = {1, 'a'};
    CHECK_EQ_I64(tern_dhcpv6_domain_first(noroot, sizeof noroot, out, sizeof out),
                 TERN_ERR_MALFORMED);
    CHECK_EQ_I64(tern_dhcpv6_domain_first(domains, sizeof domains, out, 8), TERN_ERR_MALFORMED);
    CHECK_EQ_I64(tern_dhcpv6_domain_first(domains, sizeof domains, out, 12), TERN_OK);
}

int main(void) {
    RUN(test_emit_layout);
    RUN(test_round_trip);
    RUN(test_truncation_sweep);
    RUN(test_bit_flip_sweep);
    RUN(test_malformed_lengths);
    RUN(test_limits_counted);
    RUN(test_emit_invalid);
    RUN(test_domain_first);
    return check_summary();
}

/* Unit tests of wire/ndp.h: Neighbor Discovery messages and options (RFC 4861 section 4). */
#include "test_wire_util.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"
#include "wire/ndp.h"

/* NS fd00::1 -> ff02::1:ff00:2 for fd00::2, source link-layer address 02:00:00:00:00:01. */
static const uint8_t nd_ns[] = {
    0x87, 0x00, 0x7d, 0x97, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
};
/* NA fd00::2 -> fd00::1, S and O, target fd00::2, target link-layer address 02:00:00:00:00:02. */
static const uint8_t nd_na[] = {
    0x88, 0x00, 0x1c, 0x9a, 0x60, 0x00, 0x00, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
};
/* RA fe80::1 -> ff02::1: hop limit 64, M, lifetime 1800, reachable 30000, retrans 1000; SLL,
 * MTU 1400, prefix 2001:db8:1::/64 L A valid 86400 preferred 14400. */
static const uint8_t nd_ra[] = {
    0x86, 0x00, 0xb1, 0x9e, 0x40, 0x88, 0x07, 0x08, 0x00, 0x00, 0x75, 0x30, 0x00, 0x00, 0x03, 0xe8,
    0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0x78,
    0x03, 0x04, 0x40, 0xc0, 0x00, 0x01, 0x51, 0x80, 0x00, 0x00, 0x38, 0x40, 0x00, 0x00, 0x00, 0x00,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* RS fe80::2 -> ff02::2 with SLL. */
static const uint8_t nd_rs[] = {
    0x85, 0x00, 0x7a, 0x2a, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
};
/* Redirect fe80::1 -> fd00::1: 2001:db8::5 is better reached through fe80::9 (TLL
 * 02:00:00:00:00:09), with the redirected packet (48 bytes). */
static const uint8_t nd_redirect[] = {
    0x89, 0x00, 0xd5, 0x50, 0x00, 0x00, 0x00, 0x00, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x02, 0x01, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x09, 0x04, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00,
    0x00, 0x08, 0x11, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01, 0x00, 0x02, 0x00, 0x08, 0xd5, 0x1b,
};

static tern_addr A(const char *s) {
    tern_addr a;
    tern_addr_parse(s, &a);
    return a;
}

/* Parse ICMPv6 (checksum for src/dst) then ND. */
struct pctx {
    tern_addr src, dst;
    struct tern_ndp_repr nd;
};

static tern_err parse_nd(const uint8_t *buf, size_t len, void *ctx) {
    struct pctx *c = ctx;
    struct tern_icmpv6_repr icmp;
    tern_err e = tern_icmpv6_parse(buf, len, &c->src, &c->dst, &icmp);
    if (e != TERN_OK) {
        return e;
    }
    return tern_ndp_parse(&icmp, &c->nd);
}

struct ectx {
    struct tern_ndp_repr nd;
    tern_addr src, dst;
};

static tern_err emit_nd(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    const struct ectx *c = ctx;
    return tern_ndp_emit(&c->nd, &c->src, &c->dst, buf, cap, written);
}

static void roundtrip(const uint8_t *fx, size_t n, const char *src, const char *dst,
                      struct tern_ndp_repr *out) {
    struct pctx p = {A(src), A(dst), {0}};
    CHECK_EQ_I64(wire_parse_exact(parse_nd, fx, n, &p), TERN_OK);
    /* wire_parse_exact frees the copy: parse again on the fixture to keep pointers valid. */
    CHECK_EQ_I64(parse_nd(fx, n, &p), TERN_OK);
    *out = p.nd;
    struct ectx e = {p.nd, A(src), A(dst)};
    wire_check_emit(emit_nd, &e, fx, n);
}

static void test_ns_na(void) {
    struct tern_ndp_repr r;
    roundtrip(nd_ns, sizeof nd_ns, "fd00::1", "ff02::1:ff00:2", &r);
    CHECK_EQ_U64(r.type, TERN_ICMPV6_NS);
    CHECK(tern_addr_eq(&r.target, &(tern_addr){0}) == false);
    tern_addr t = A("fd00::2");
    CHECK(tern_addr_eq(&r.target, &t));
    CHECK(r.opts.has_sll && !r.opts.has_tll);
    CHECK_EQ_U64(r.opts.sll[5], 1);
    roundtrip(nd_na, sizeof nd_na, "fd00::2", "fd00::1", &r);
    CHECK_EQ_U64(r.type, TERN_ICMPV6_NA);
    CHECK(!r.router && r.solicited && r.override);
    CHECK(r.opts.has_tll);
    CHECK_EQ_U64(r.opts.tll[5], 2);
}

static void test_ra_rs(void) {
    struct tern_ndp_repr r;
    roundtrip(nd_ra, sizeof nd_ra, "fe80::1", "ff02::1", &r);
    CHECK_EQ_U64(r.cur_hop_limit, 64);
    CHECK(r.managed && !r.other);
    CHECK_EQ_U64(r.router_lifetime, 1800);
    CHECK_EQ_U64(r.reachable_time, 30000);
    CHECK_EQ_U64(r.retrans_timer, 1000);
    CHECK(r.opts.has_sll && r.opts.has_mtu);
    CHECK_EQ_U64(r.opts.mtu, 1400);
    CHECK_EQ_U64(r.opts.nprefix, 1);
    CHECK_EQ_U64(r.opts.prefix[0].prefix_len, 64);
    CHECK(r.opts.prefix[0].on_link && r.opts.prefix[0].autonomous);
    CHECK_EQ_U64(r.opts.prefix[0].valid_lifetime, 86400);
    CHECK_EQ_U64(r.opts.prefix[0].preferred_lifetime, 14400);
    tern_addr p = A("2001:db8:1::");
    CHECK(tern_addr_eq(&r.opts.prefix[0].prefix, &p));
    roundtrip(nd_rs, sizeof nd_rs, "fe80::2", "ff02::2", &r);
    CHECK_EQ_U64(r.type, TERN_ICMPV6_RS);
    CHECK(r.opts.has_sll);
}

static void test_redirect(void) {
    struct tern_ndp_repr r;
    roundtrip(nd_redirect, sizeof nd_redirect, "fe80::1", "fd00::1", &r);
    tern_addr t = A("fe80::9"), d = A("2001:db8::5");
    CHECK(tern_addr_eq(&r.target, &t));
    CHECK(tern_addr_eq(&r.dest, &d));
    CHECK(r.opts.has_tll);
    CHECK_EQ_U64(r.opts.redirected_len, 48);
    CHECK_EQ_U64(r.opts.redirected[0], 0x60);
}

static void test_truncations(void) {
    /* Every cut of every message: TRUNCATED or MALFORMED (a cut inside an option) or BAD_CHECKSUM,
     * never OK and never a read past the end. Checksums are skipped to reach the ND parser. */
    const struct {
        const uint8_t *b;
        size_t n;
        size_t fixed;
    } fx[] = {{nd_ns, sizeof nd_ns, 24},
              {nd_na, sizeof nd_na, 24},
              {nd_ra, sizeof nd_ra, 16},
              {nd_rs, sizeof nd_rs, 8},
              {nd_redirect, sizeof nd_redirect, 40}};
    int ok = 1;
    for (size_t i = 0; i < ARRAY_LEN(fx); i++) {
        for (size_t n = 0; n < fx[i].n; n++) {
            uint8_t *p = wire_dup(fx[i].b, n);
            struct tern_icmpv6_repr icmp;
            struct tern_ndp_repr r;
            tern_err e = tern_icmpv6_parse(p, n, NULL, NULL, &icmp);
            if (e == TERN_OK) {
                e = tern_ndp_parse(&icmp, &r);
            }
            bool expect_ok = n == fx[i].fixed; /* the fixed part alone, no options: valid */
            if (expect_ok ? e != TERN_OK
                          : (e != TERN_ERR_TRUNCATED && e != TERN_ERR_MALFORMED &&
                             !(e == TERN_OK && n > fx[i].fixed && (n - fx[i].fixed) % 8 == 0))) {
                ok = 0;
                fprintf(stderr, "  fixture %zu length %zu: %d\n", i, n, e);
            }
            free(p);
        }
    }
    CHECK(ok);
}

static void test_bad_options(void) {
    struct tern_icmpv6_repr icmp;
    struct tern_ndp_repr r;
    uint8_t m[sizeof nd_ns];
    memcpy(m, nd_ns, sizeof m);
    /* RFC 4861 section 4.6: an option with length zero. */
    m[25] = 0;
    CHECK_EQ_I64(tern_icmpv6_parse(m, sizeof m, NULL, NULL, &icmp), TERN_OK);
    CHECK_EQ_I64(tern_ndp_parse(&icmp, &r), TERN_ERR_MALFORMED);
    /* An option of an unknown type with length zero: refused too (and the walk could not advance
     * past it). */
    m[24] = 99;
    CHECK_EQ_I64(tern_icmpv6_parse(m, sizeof m, NULL, NULL, &icmp), TERN_OK);
    CHECK_EQ_I64(tern_ndp_parse(&icmp, &r), TERN_ERR_MALFORMED);
    /* A link-layer address option of 16 bytes: not Ethernet's. */
    uint8_t big[sizeof nd_ns + 8];
    memcpy(big, nd_ns, sizeof nd_ns);
    memset(big + sizeof nd_ns, 0, 8);
    big[25] = 2;
    CHECK_EQ_I64(tern_icmpv6_parse(big, sizeof big, NULL, NULL, &icmp), TERN_OK);
    CHECK_EQ_I64(tern_ndp_parse(&icmp, &r), TERN_ERR_MALFORMED);
    /* An unknown option is skipped and counted. */
    big[24] = 99;
    CHECK_EQ_I64(tern_ndp_parse(&icmp, &r), TERN_OK);
    CHECK_EQ_U64(r.opts.unknown, 1);
    CHECK(!r.opts.has_sll);
    /* Not an ND type. */
    icmp.type = TERN_ICMPV6_ECHO_REQUEST;
    CHECK_EQ_I64(tern_ndp_parse(&icmp, &r), TERN_ERR_UNSUPPORTED);
    /* More prefixes than kept: counted. */
    uint8_t many[16 + 32 * (TERN_NDP_MAX_PREFIXES + 2)];
    memset(many, 0, sizeof many);
    many[0] = TERN_ICMPV6_RA;
    for (int i = 0; i < TERN_NDP_MAX_PREFIXES + 2; i++) {
        many[16 + 32 * i] = TERN_NDP_OPT_PREFIX;
        many[16 + 32 * i + 1] = 4;
    }
    CHECK_EQ_I64(tern_icmpv6_parse(many, sizeof many, NULL, NULL, &icmp), TERN_OK);
    CHECK_EQ_I64(tern_ndp_parse(&icmp, &r), TERN_OK);
    CHECK_EQ_U64(r.opts.nprefix, TERN_NDP_MAX_PREFIXES);
    CHECK_EQ_U64(r.opts.prefixes_dropped, 2);
}

int main(void) {
    RUN(test_ns_na);
    RUN(test_ra_rs);
    RUN(test_redirect);
    RUN(test_truncations);
    RUN(test_bad_options);
    return check_summary();
}

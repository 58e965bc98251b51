/* Unit tests of ipv6/addrsel.h: RFC 6724 default source address selection. */
#include "check.h"
#include "ipv6/addrsel.h"

static tern_addr A(const char *text) {
    tern_addr a;
    if (tern_addr_parse(text, &a) != TERN_OK) {
        fprintf(stderr, "bad address in test: %s\n", text);
        a.family = TERN_AF_NONE;
    }
    return a;
}

static struct tern_addrsel_cand cand(const char *text) {
    struct tern_addrsel_cand c = {.addr = A(text), .prefix_len = 64, .iface = 0};
    return c;
}

/* Select between a and b for dst; check the winner and the deciding rule. */
static void pick(const char *dst, struct tern_addrsel_cand a, struct tern_addrsel_cand b,
                 const char *want, unsigned want_rule) {
    tern_addr d = A(dst), w = A(want);
    struct tern_addrsel_cand c[2] = {a, b};
    int i = tern_addrsel_select(c, 2, &d, 0, true);
    CHECK(i >= 0 && tern_addr_eq(&c[i].addr, &w));
    unsigned rule = 99;
    int cmp = tern_addrsel_compare(&a, &b, &d, 0, true, &rule);
    CHECK_EQ_U64(rule, want_rule);
    CHECK(cmp != 0);
    /* The same answer with the candidates the other way round. */
    struct tern_addrsel_cand r[2] = {b, a};
    i = tern_addrsel_select(r, 2, &d, 0, true);
    CHECK(i >= 0 && tern_addr_eq(&r[i].addr, &w));
    CHECK_EQ_I64(tern_addrsel_compare(&b, &a, &d, 0, true, &rule), -cmp);
}

/* RFC 6724 section 10.1, the source address selection examples (the one on
 * home addresses, rule 4, left out: no Mobile IPv6 here). */
static void test_rfc6724_examples(void) {
    /* "Destination: 2001:db8:1::1 / Candidate Source Addresses: 2001:db8:3::1
     * or fe80::1 / Result: 2001:db8:3::1 (prefer appropriate scope)" */
    pick("2001:db8:1::1", cand("2001:db8:3::1"), cand("fe80::1"), "2001:db8:3::1", 2);
    /* "Destination: ff05::1 / ... 2001:db8:3::1 or fe80::1 / Result:
     * 2001:db8:3::1 (prefer appropriate scope)" */
    pick("ff05::1", cand("2001:db8:3::1"), cand("fe80::1"), "2001:db8:3::1", 2);
    /* "Destination: 2001:db8:1::1 / 2001:db8:1::1 (deprecated) or
     * 2001:db8:2::1 / Result: 2001:db8:1::1 (prefer same address)" */
    struct tern_addrsel_cand dep = cand("2001:db8:1::1");
    dep.deprecated = true;
    pick("2001:db8:1::1", dep, cand("2001:db8:2::1"), "2001:db8:1::1", 1);
    /* "Destination: fe80::1 / fe80::2 (deprecated) or 2001:db8:1::1 /
     * Result: fe80::2 (prefer appropriate scope)" */
    struct tern_addrsel_cand ll = cand("fe80::2");
    ll.deprecated = true;
    pick("fe80::1", ll, cand("2001:db8:1::1"), "fe80::2", 2);
    /* "Destination: 2001:db8:1::1 / 2001:db8:1::2 or 2001:db8:3::2 /
     * Result: 2001:db8:1::2 (longest matching prefix)" */
    pick("2001:db8:1::1", cand("2001:db8:1::2"), cand("2001:db8:3::2"), "2001:db8:1::2", 8);
    /* "Destination: 2002:c633:6401::1 / 2002:c633:6401::d5e3:7953:13eb:22e8
     * (temporary) or 2001:db8:1::2 / Result: 2002:c633:6401::d5e3:7953:13eb:22e8
     * (prefer matching label)" */
    struct tern_addrsel_cand t6to4 = cand("2002:c633:6401::d5e3:7953:13eb:22e8");
    t6to4.temporary = true;
    pick("2002:c633:6401::1", t6to4, cand("2001:db8:1::2"), "2002:c633:6401::d5e3:7953:13eb:22e8",
         6);
    /* "Destination: 2001:db8:1::d5e3:0:0:1 / 2001:db8:1::2 (public) or
     * 2001:db8:1::d5e3:7953:13eb:22e8 (temporary) / Result:
     * 2001:db8:1::d5e3:7953:13eb:22e8 (prefer temporary address)" */
    struct tern_addrsel_cand tmp = cand("2001:db8:1::d5e3:7953:13eb:22e8");
    tmp.temporary = true;
    pick("2001:db8:1::d5e3:0:0:1", cand("2001:db8:1::2"), tmp, "2001:db8:1::d5e3:7953:13eb:22e8",
         7);
}

static void test_rules_in_isolation(void) {
    /* Rule 3: equal scope, one deprecated. */
    struct tern_addrsel_cand d = cand("2001:db8:1::10");
    d.deprecated = true;
    pick("2001:db8:9::1", d, cand("2001:db8:2::10"), "2001:db8:2::10", 3);
    /* Rule 5: the address on the outgoing interface (0). */
    struct tern_addrsel_cand other = cand("2001:db8:1::10");
    other.iface = 1;
    pick("2001:db8:9::1", other, cand("2001:db8:2::10"), "2001:db8:2::10", 5);
    /* Rule 6: a ULA destination prefers the ULA source (label 13). */
    pick("fd00:1::1", cand("2001:db8:1::10"), cand("fd00:2::10"), "fd00:2::10", 6);
    /* Rule 7 reversed: prefer the public address. */
    tern_addr dst = A("2001:db8:1::99");
    struct tern_addrsel_cand c[2] = {cand("2001:db8:1::1"), cand("2001:db8:1::2")};
    c[1].temporary = true;
    CHECK_EQ_I64(tern_addrsel_select(c, 2, &dst, 0, true), 1);
    CHECK_EQ_I64(tern_addrsel_select(c, 2, &dst, 0, false), 0);
    /* Rule 8 is capped at the source's prefix length: beyond it no rule
     * decides, and the first candidate stays. */
    struct tern_addrsel_cand p[2] = {cand("2001:db8:1::ff00"), cand("2001:db8:1::1")};
    dst = A("2001:db8:1::2");
    unsigned rule = 99;
    CHECK_EQ_I64(tern_addrsel_compare(&p[0], &p[1], &dst, 0, true, &rule), 0);
    CHECK_EQ_U64(rule, 0);
    CHECK_EQ_I64(tern_addrsel_select(p, 2, &dst, 0, true), 0);
    p[0].prefix_len = p[1].prefix_len = 128;
    CHECK_EQ_I64(tern_addrsel_select(p, 2, &dst, 0, true), 1);
    /* Rule 2, smaller scope than the destination's on both: the larger. */
    pick("ff0e::1", cand("fe80::1"), cand("fec0::1"), "fec0::1", 2);
    /* Rule 2, both large enough: the smaller. */
    pick("ff02::1", cand("fe80::1"), cand("2001:db8::1"), "fe80::1", 2);
    CHECK_EQ_I64(tern_addrsel_select(c, 0, &dst, 0, true), -1);
}

static void test_scope_and_policy(void) {
    tern_addr a = A("ff02::16");
    CHECK_EQ_U64(tern_addrsel_scope(&a), TERN_SCOPE_LINK);
    a = A("ff05::2");
    CHECK_EQ_U64(tern_addrsel_scope(&a), TERN_SCOPE_SITE);
    a = A("fe80::1");
    CHECK_EQ_U64(tern_addrsel_scope(&a), TERN_SCOPE_LINK);
    a = A("febf::1");
    CHECK_EQ_U64(tern_addrsel_scope(&a), TERN_SCOPE_LINK);
    a = A("fec0::1");
    CHECK_EQ_U64(tern_addrsel_scope(&a), TERN_SCOPE_SITE);
    a = A("::1");
    CHECK_EQ_U64(tern_addrsel_scope(&a), TERN_SCOPE_LINK);
    a = A("fd00::1");
    CHECK_EQ_U64(tern_addrsel_scope(&a), TERN_SCOPE_GLOBAL);
    a = A("::ffff:a9fe:1");
    CHECK_EQ_U64(tern_addrsel_scope(&a), TERN_SCOPE_LINK);
    a = A("::ffff:a00:1");
    CHECK_EQ_U64(tern_addrsel_scope(&a), TERN_SCOPE_GLOBAL);
    /* RFC 6724 section 2.1's table. */
    static const struct {
        const char *addr;
        uint8_t prec, label;
    } rows[] = {
        {"::1", 50, 0},     {"2001:db8::1", 40, 1}, {"::ffff:a00:1", 35, 4}, {"2002::1", 30, 2},
        {"2001::1", 5, 5},  {"fd00::1", 3, 13},     {"fc00::1", 3, 13},      {"::a00:1", 1, 3},
        {"fec0::1", 1, 11}, {"3ffe::1", 1, 12},     {"fe80::1", 40, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint8_t p = 0, l = 0;
        a = A(rows[i].addr);
        tern_addrsel_policy(&a, &p, &l);
        CHECK_EQ_U64(p, rows[i].prec);
        CHECK_EQ_U64(l, rows[i].label);
    }
    tern_addr b = A("2001:db8::1");
    a = A("2001:db8::1");
    CHECK_EQ_U64(tern_addrsel_common_prefix_len(&a, &b), 128);
    b = A("2001:db8:8000::1");
    CHECK_EQ_U64(tern_addrsel_common_prefix_len(&a, &b), 32);
    b = A("2001:db8::3");
    CHECK_EQ_U64(tern_addrsel_common_prefix_len(&a, &b), 126);
}

int main(void) {
    RUN(test_rfc6724_examples);
    RUN(test_rules_in_isolation);
    RUN(test_scope_and_policy);
    return check_summary();
}

/* Unit tests of tern/addr.h: dual-stack addresses and MAC addresses. */
#include "check.h"
#include "tern/addr.h"

static void test_v4_construct(void) {
    tern_addr a = tern_addr_v4(10, 0, 0, 1);
    CHECK(tern_addr_is_v4(&a));
    CHECK(!tern_addr_is_v6(&a));
    CHECK_EQ_U64(tern_addr_v4_to_u32(&a), 0x0a000001);
    tern_addr b = tern_addr_v4_from_u32(0x0a000001);
    CHECK(tern_addr_eq(&a, &b));
    const uint8_t raw[4] = {10, 0, 0, 1};
    tern_addr c = tern_addr_v4_from_bytes(raw);
    CHECK(tern_addr_eq(&a, &c));
    for (int i = 4; i < 16; i++) {
        CHECK_EQ_U64(a.bytes[i], 0);
    }
}

static void test_compare(void) {
    tern_addr a = tern_addr_v4(10, 0, 0, 1), b = tern_addr_v4(10, 0, 0, 2);
    tern_addr none = {0};
    uint8_t v6[16] = {0};
    v6[15] = 1;
    tern_addr six = tern_addr_v6_from_bytes(v6);
    CHECK(tern_addr_cmp(&a, &b) < 0);
    CHECK(tern_addr_cmp(&b, &a) > 0);
    CHECK(tern_addr_cmp(&a, &a) == 0);
    CHECK(tern_addr_cmp(&none, &a) < 0);
    CHECK(tern_addr_cmp(&a, &six) < 0);
    CHECK(!tern_addr_eq(&a, &six));
    CHECK(tern_addr_is_unspecified(&none));
    tern_addr zero4 = tern_addr_v4(0, 0, 0, 0);
    CHECK(tern_addr_is_unspecified(&zero4));
    CHECK(!tern_addr_is_unspecified(&a));
}

static void test_classify(void) {
    tern_addr mc = tern_addr_v4(224, 0, 0, 22), bc = tern_addr_v4(255, 255, 255, 255);
    tern_addr a = tern_addr_v4(192, 168, 1, 10);
    CHECK(tern_addr_is_multicast(&mc));
    CHECK(!tern_addr_is_multicast(&a));
    CHECK(tern_addr_is_limited_broadcast(&bc));
    CHECK(!tern_addr_is_limited_broadcast(&a));
    tern_addr net = tern_addr_v4(192, 168, 1, 0), dbc = tern_addr_v4(192, 168, 1, 255);
    CHECK(tern_addr_is_directed_broadcast(&dbc, &net, 24));
    CHECK(!tern_addr_is_directed_broadcast(&a, &net, 24));
    CHECK(!tern_addr_is_directed_broadcast(&dbc, &net, 31));
    CHECK(tern_addr_prefix_match(&a, &net, 24));
    CHECK(tern_addr_prefix_match(&a, &net, 28));
    CHECK(!tern_addr_prefix_match(&a, &net, 29));
    CHECK(tern_addr_prefix_match(&a, &mc, 0));
    CHECK(!tern_addr_prefix_match(&a, &net, 32));
    CHECK(tern_addr_prefix_match(&a, &a, 200));
    uint8_t ff[16] = {0xff, 0x02};
    tern_addr six = tern_addr_v6_from_bytes(ff);
    CHECK(tern_addr_is_multicast(&six));
    CHECK(!tern_addr_prefix_match(&a, &six, 0));
}

static void check_format(const tern_addr *a, const char *want) {
    char buf[TERN_ADDR_STRLEN];
    CHECK_EQ_I64(tern_addr_format(a, buf, sizeof buf), TERN_OK);
    CHECK(strcmp(buf, want) == 0);
    if (strcmp(buf, want) != 0) {
        fprintf(stderr, "  got \"%s\", want \"%s\"\n", buf, want);
    }
    /* Exactly enough room works; one byte less does not and leaves "". */
    size_t n = strlen(want) + 1;
    CHECK_EQ_I64(tern_addr_format(a, buf, n), TERN_OK);
    CHECK_EQ_I64(tern_addr_format(a, buf, n - 1), TERN_ERR_BUFFER_TOO_SMALL);
    CHECK(buf[0] == '\0' || n - 1 == 0);
    CHECK_EQ_I64(tern_addr_format(a, NULL, 0), TERN_ERR_BUFFER_TOO_SMALL);
}

static void check_roundtrip(const char *text, const char *canonical) {
    tern_addr a;
    CHECK_EQ_I64(tern_addr_parse(text, &a), TERN_OK);
    check_format(&a, canonical);
}

static void test_text(void) {
    check_roundtrip("10.0.0.1", "10.0.0.1");
    check_roundtrip("255.255.255.255", "255.255.255.255");
    check_roundtrip("0.0.0.0", "0.0.0.0");
    check_roundtrip("::", "::");
    check_roundtrip("::1", "::1");
    check_roundtrip("2001:DB8:0:0:0:0:2:1", "2001:db8::2:1");
    check_roundtrip("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"); /* RFC 5952 4.2.2 */
    check_roundtrip("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");          /* RFC 5952 4.2.3 */
    check_roundtrip("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");    /* first on a tie */
    check_roundtrip("fe80::", "fe80::");
    check_roundtrip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    tern_addr none = {0};
    check_format(&none, "none");
    const char *bad[] = {"",
                         "1.2.3",
                         "1.2.3.4.5",
                         "256.0.0.1",
                         "01.2.3.4",
                         "1..2.3",
                         "1.2.3.4 ",
                         ":",
                         ":::",
                         "1::2::3",
                         "12345::",
                         "1:2:3:4:5:6:7",
                         "1:2:3:4:5:6:7:8:9",
                         "1:",
                         "g::",
                         "1:2:3:4:5:6:7::8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tern_addr a = tern_addr_v4(1, 1, 1, 1);
        tern_err err = tern_addr_parse(bad[i], &a);
        CHECK_EQ_I64(err, TERN_ERR_INVALID_ARGUMENT);
        if (err != TERN_ERR_INVALID_ARGUMENT) {
            fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        }
        CHECK_EQ_U64(tern_addr_v4_to_u32(&a), 0x01010101);
    }
    tern_addr junk = {.family = 9};
    char buf[TERN_ADDR_STRLEN];
    CHECK_EQ_I64(tern_addr_format(&junk, buf, sizeof buf), TERN_ERR_INVALID_ARGUMENT);
}

static void test_mac(void) {
    tern_mac b = tern_mac_broadcast();
    tern_mac u = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
    tern_mac z = {{0}};
    CHECK(tern_mac_is_broadcast(&b));
    CHECK(tern_mac_is_multicast(&b));
    CHECK(!tern_mac_is_multicast(&u));
    CHECK(tern_mac_is_zero(&z));
    CHECK(!tern_mac_is_zero(&u));
    CHECK(tern_mac_eq(&u, &u));
    CHECK(!tern_mac_eq(&u, &b));
    tern_addr g = tern_addr_v4(239, 255, 1, 2);
    tern_mac m = tern_mac_ipv4_multicast(&g); /* RFC 1112 6.4: 01:00:5e:7f:01:02 */
    char buf[TERN_MAC_STRLEN];
    CHECK_EQ_I64(tern_mac_format(&m, buf, sizeof buf), TERN_OK);
    CHECK(strcmp(buf, "01:00:5e:7f:01:02") == 0);
    CHECK_EQ_I64(tern_mac_format(&m, buf, TERN_MAC_STRLEN - 1), TERN_ERR_BUFFER_TOO_SMALL);
    CHECK(buf[0] == '\0');
}

/* IPv4 prefix matches and equality (word compares) against a bit-by-bit
 * reference: every prefix length 0..32 for addresses that differ in one bit
 * each, and bytes beyond an IPv4 address's four never counting. */
static void test_v4_prefix_bits(void) {
    tern_addr base = tern_addr_v4(192, 168, 37, 129);
    for (unsigned bit = 0; bit < 32; bit++) {
        tern_addr other = base;
        other.bytes[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
        CHECK(!tern_addr_eq(&base, &other));
        for (unsigned len = 0; len <= 33; len++) {
            bool want = bit >= len; /* the differing bit lies outside the prefix */
            CHECK(tern_addr_prefix_match(&base, &other, len) == want);
        }
    }
    tern_addr junk = base;
    junk.bytes[4] = 1;
    junk.bytes[15] = 0xff;
    CHECK(tern_addr_eq(&base, &junk));
    CHECK(tern_addr_prefix_match(&base, &junk, 32));
}

int main(void) {
    RUN(test_v4_construct);
    RUN(test_compare);
    RUN(test_v4_prefix_bits);
    RUN(test_classify);
    RUN(test_text);
    RUN(test_mac);
    return check_summary();
}

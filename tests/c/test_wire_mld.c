/* Unit tests of wire/mld.h: MLDv2 (RFC 3810) and MLDv1 (RFC 2710) messages. */
#include "test_wire_util.h"
#include "wire/mld.h"

/* Fixtures built with scapy (ICMPv6MLQuery2, ICMPv6MLQuery, ICMPv6MLReport2,
 * ICMPv6MLReport, ICMPv6MLDone); the ICMPv6 message only, checksums over the
 * pseudo-header of the addresses given beside each. */

/* fe80::1 -> ff02::1: MLDv2 general query, Maximum Response Code 10000,
 * QRV 2, QQIC 125, no sources. */
static const uint8_t q2_general[] = {
    0x82, 0x00, 0x56, 0x96, 0x27, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x7d, 0x00, 0x00,
};

/* fe80::1 -> ff02::1:ff00:1: MLDv2 group-and-source-specific query for
 * ff02::1:ff00:1, code 0x8123 (exponential form), S=1, QRV 3, QQIC 0x8a,
 * sources 2001:db8::1 and 2001:db8::2. */
static const uint8_t q2_group_sources[] = {
    0x82, 0x00, 0x9a, 0xd6, 0x81, 0x23, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x01, 0x0b, 0x8a, 0x00, 0x02, 0x20, 0x01,
    0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20,
    0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
};

/* fe80::1 -> ff02::1: MLDv1 general query, Maximum Response Delay 5000 ms. */
static const uint8_t q1_general[] = {
    0x82, 0x00, 0x6c, 0x9f, 0x13, 0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* fe80::200:ff:fe00:1 -> ff02::16: MLDv2 report with two records:
 * CHANGE_TO_EXCLUDE ff02::1:ff00:1 (no sources), and MODE_IS_INCLUDE ff05::2
 * with source 2001:db8::5 and one word of aux data 01020304. */
static const uint8_t r2_two[] = {
    0x8f, 0x00, 0x3e, 0x10, 0x00, 0x00, 0x00, 0x02, 0x04, 0x00, 0x00, 0x00, 0xff, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x01,
    0x01, 0x01, 0x00, 0x01, 0xff, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x01, 0x02, 0x03, 0x04,
};

/* fe80::200:ff:fe00:1 -> ff02::1:ff00:1: MLDv1 report for ff02::1:ff00:1. */
static const uint8_t r1[] = {
    0x83, 0x00, 0x81, 0x1f, 0x00, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x01,
};

/* fe80::200:ff:fe00:1 -> ff02::2: MLDv1 done for ff02::1:ff00:1. */
static const uint8_t d1[] = {
    0x84, 0x00, 0x7f, 0x20, 0x00, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x01,
};

static tern_addr A(const char *text) {
    tern_addr a;
    CHECK_EQ_I64(tern_addr_parse(text, &a), TERN_OK);
    return a;
}

/* The pseudo-header addresses the next parse or emit uses. */
static tern_addr g_src, g_dst;
static bool g_verify;

static tern_err parse_mld(const uint8_t *buf, size_t len, void *ctx) {
    return tern_mld_parse(buf, len, g_verify ? &g_src : NULL, g_verify ? &g_dst : NULL, ctx);
}

static tern_err emit_query(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    return tern_mld_query_emit(ctx, &g_src, &g_dst, buf, cap, written);
}

/* A report's records for emit. */
struct recs {
    const struct tern_mld_record *r;
    size_t n;
};

static tern_err emit_report(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    const struct recs *rs = ctx;
    return tern_mld_report_emit(rs->r, rs->n, &g_src, &g_dst, buf, cap, written);
}

static uint8_t g_v1_type;
static tern_err emit_v1(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    return tern_mld_v1_emit(g_v1_type, ctx, &g_src, &g_dst, buf, cap, written);
}

static void addrs(const char *src, const char *dst) {
    g_src = A(src);
    g_dst = A(dst);
}

static void test_codes(void) {
    /* RFC 3810 section 5.1.3: linear below 32768, then (mant | 0x1000) << (exp + 3). */
    CHECK_EQ_U64(tern_mld_code_to_ms(0), 0);
    CHECK_EQ_U64(tern_mld_code_to_ms(10000), 10000);
    CHECK_EQ_U64(tern_mld_code_to_ms(32767), 32767);
    CHECK_EQ_U64(tern_mld_code_to_ms(0x8000), 0x1000 << 3);
    CHECK_EQ_U64(tern_mld_code_to_ms(0x8123), (0x123 | 0x1000) << 3);
    CHECK_EQ_U64(tern_mld_code_to_ms(0xffff), (uint32_t)0x1fff << 10);
    /* RFC 3810 section 5.1.9: linear below 128, then (mant | 0x10) << (exp + 3). */
    CHECK_EQ_U64(tern_mld_qqic_to_s(125), 125);
    CHECK_EQ_U64(tern_mld_qqic_to_s(0x80), 0x10 << 3);
    CHECK_EQ_U64(tern_mld_qqic_to_s(0x8a), (0xa | 0x10) << 3);
    CHECK_EQ_U64(tern_mld_qqic_to_s(0xff), (0xf | 0x10) << 10);
}

static void test_query_v2(void) {
    struct tern_mld_repr r;
    addrs("fe80::1", "ff02::1");
    CHECK_EQ_I64(tern_mld_parse(q2_general, sizeof q2_general, &g_src, &g_dst, &r), TERN_OK);
    CHECK_EQ_U64(r.type, TERN_MLD_QUERY);
    CHECK_EQ_U64(r.checksum, 0x5696);
    CHECK_EQ_U64(r.query.version, 2);
    CHECK_EQ_U64(r.query.max_resp_code, 10000);
    CHECK_EQ_U64(r.query.max_resp_ms, 10000);
    CHECK(tern_addr_is_unspecified(&r.query.group));
    CHECK(!r.query.s_flag);
    CHECK_EQ_U64(r.query.qrv, 2);
    CHECK_EQ_U64(r.query.qqi_s, 125);
    CHECK_EQ_U64(r.query.nsources, 0);
    wire_check_emit(emit_query, &r.query, q2_general, sizeof q2_general);
    /* The wrong pseudo-header fails the checksum. */
    tern_addr other = A("ff02::2");
    CHECK_EQ_I64(tern_mld_parse(q2_general, sizeof q2_general, &g_src, &other, &r),
                 TERN_ERR_BAD_CHECKSUM);

    addrs("fe80::1", "ff02::1:ff00:1");
    CHECK_EQ_I64(tern_mld_parse(q2_group_sources, sizeof q2_group_sources, &g_src, &g_dst, &r),
                 TERN_OK);
    CHECK_EQ_U64(r.query.version, 2);
    CHECK_EQ_U64(r.query.max_resp_ms, (0x123 | 0x1000) << 3);
    tern_addr grp = A("ff02::1:ff00:1");
    CHECK(tern_addr_eq(&r.query.group, &grp));
    CHECK(r.query.s_flag);
    CHECK_EQ_U64(r.query.qrv, 3);
    CHECK_EQ_U64(r.query.qqi_s, (0xa | 0x10) << 3);
    CHECK_EQ_U64(r.query.nsources, 2);
    tern_addr s0 = tern_mld_source(r.query.sources, 0), s1 = tern_mld_source(r.query.sources, 1);
    tern_addr w0 = A("2001:db8::1"), w1 = A("2001:db8::2");
    CHECK(tern_addr_eq(&s0, &w0));
    CHECK(tern_addr_eq(&s1, &w1));
    wire_check_emit(emit_query, &r.query, q2_group_sources, sizeof q2_group_sources);
}

static void test_query_v1(void) {
    struct tern_mld_repr r;
    addrs("fe80::1", "ff02::1");
    CHECK_EQ_I64(tern_mld_parse(q1_general, sizeof q1_general, &g_src, &g_dst, &r), TERN_OK);
    CHECK_EQ_U64(r.query.version, 1);
    CHECK_EQ_U64(r.query.max_resp_ms, 5000);
    CHECK(tern_addr_is_unspecified(&r.query.group));
    wire_check_emit(emit_query, &r.query, q1_general, sizeof q1_general);
    /* RFC 2710: the v1 delay is linear even at and above 32768. */
    uint8_t buf[24];
    size_t w;
    r.query.max_resp_code = 40000;
    CHECK_EQ_I64(tern_mld_query_emit(&r.query, &g_src, &g_dst, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_I64(tern_mld_parse(buf, w, &g_src, &g_dst, &r), TERN_OK);
    CHECK_EQ_U64(r.query.max_resp_ms, 40000);
}

static void test_report_v2(void) {
    struct tern_mld_repr r;
    addrs("fe80::200:ff:fe00:1", "ff02::16");
    CHECK_EQ_I64(tern_mld_parse(r2_two, sizeof r2_two, &g_src, &g_dst, &r), TERN_OK);
    CHECK_EQ_U64(r.type, TERN_MLD_V2_REPORT);
    CHECK_EQ_U64(r.report.nrecords, 2);
    struct tern_mld_record rec[3];
    size_t off = 0;
    CHECK_EQ_I64(tern_mld_record_next(&r.report, &off, &rec[0]), TERN_OK);
    CHECK_EQ_I64(tern_mld_record_next(&r.report, &off, &rec[1]), TERN_OK);
    CHECK_EQ_I64(tern_mld_record_next(&r.report, &off, &rec[2]), TERN_ERR_EMPTY);
    tern_addr g0 = A("ff02::1:ff00:1"), g1 = A("ff05::2"), s = A("2001:db8::5");
    CHECK_EQ_U64(rec[0].type, TERN_MLD_CHANGE_TO_EXCLUDE);
    CHECK(tern_addr_eq(&rec[0].group, &g0));
    CHECK_EQ_U64(rec[0].nsources, 0);
    CHECK_EQ_U64(rec[0].aux_words, 0);
    CHECK_EQ_U64(rec[1].type, TERN_MLD_MODE_IS_INCLUDE);
    CHECK(tern_addr_eq(&rec[1].group, &g1));
    CHECK_EQ_U64(rec[1].nsources, 1);
    tern_addr got = tern_mld_source(rec[1].sources, 0);
    CHECK(tern_addr_eq(&got, &s));
    CHECK_EQ_U64(rec[1].aux_words, 1);
    CHECK(rec[1].aux[0] == 1 && rec[1].aux[3] == 4);
    struct recs rs = {rec, 2};
    CHECK_EQ_U64(tern_mld_report_len(rec, 2), sizeof r2_two);
    wire_check_emit(emit_report, &rs, r2_two, sizeof r2_two);
    /* An empty report is 8 bytes and parses. */
    uint8_t buf[16];
    size_t w;
    CHECK_EQ_I64(tern_mld_report_emit(NULL, 0, &g_src, &g_dst, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(w, 8);
    CHECK_EQ_I64(tern_mld_parse(buf, w, &g_src, &g_dst, &r), TERN_OK);
    CHECK_EQ_U64(r.report.nrecords, 0);
}

static void test_v1_report_done(void) {
    struct tern_mld_repr r;
    tern_addr grp = A("ff02::1:ff00:1");
    addrs("fe80::200:ff:fe00:1", "ff02::1:ff00:1");
    CHECK_EQ_I64(tern_mld_parse(r1, sizeof r1, &g_src, &g_dst, &r), TERN_OK);
    CHECK_EQ_U64(r.type, TERN_MLD_V1_REPORT);
    CHECK(tern_addr_eq(&r.v1_group, &grp));
    g_v1_type = TERN_MLD_V1_REPORT;
    wire_check_emit(emit_v1, &grp, r1, sizeof r1);
    addrs("fe80::200:ff:fe00:1", "ff02::2");
    CHECK_EQ_I64(tern_mld_parse(d1, sizeof d1, &g_src, &g_dst, &r), TERN_OK);
    CHECK_EQ_U64(r.type, TERN_MLD_V1_DONE);
    CHECK(tern_addr_eq(&r.v1_group, &grp));
    g_v1_type = TERN_MLD_V1_DONE;
    wire_check_emit(emit_v1, &grp, d1, sizeof d1);
}

/* Expected parse results without the checksum, by length, for a cut query. */
static tern_err cut_query_want(size_t len, size_t full) {
    if (len < 24) {
        return TERN_ERR_TRUNCATED;
    }
    if (len == 24) {
        return TERN_OK; /* the first 24 bytes are a well-formed MLDv1 query */
    }
    if (len < 28) {
        return TERN_ERR_MALFORMED; /* RFC 3810 section 8.1: neither version */
    }
    return len < full ? TERN_ERR_TRUNCATED : TERN_OK;
}

static void sweep(const uint8_t *fx, size_t n, const char *src, const char *dst) {
    struct tern_mld_repr r;
    int ok = 1;
    addrs(src, dst);
    for (size_t len = 0; len < n; len++) {
        tern_err want;
        g_verify = false;
        tern_err err = wire_parse_exact(parse_mld, fx, len, &r);
        if (fx[0] == TERN_MLD_QUERY) {
            want = cut_query_want(len, n);
        } else if (fx[0] == TERN_MLD_V2_REPORT) {
            want = TERN_ERR_TRUNCATED; /* the two records no longer fit */
        } else {
            want = TERN_ERR_TRUNCATED;
        }
        if (err != want) {
            fprintf(stderr, "  length %zu: %s\n", len, tern_error_name(err));
            ok = 0;
        }
        /* With the checksum verified every cut fails. */
        g_verify = true;
        err = wire_parse_exact(parse_mld, fx, len, &r);
        bool short_hdr = len < 4 || (fx[0] != TERN_MLD_V2_REPORT && len < 24);
        want = short_hdr ? TERN_ERR_TRUNCATED : TERN_ERR_BAD_CHECKSUM;
        if (err != want) {
            fprintf(stderr, "  length %zu (checksum): %s\n", len, tern_error_name(err));
            ok = 0;
        }
    }
    g_verify = false;
    CHECK(ok);
}

static void test_truncations(void) {
    sweep(q2_general, sizeof q2_general, "fe80::1", "ff02::1");
    sweep(q2_group_sources, sizeof q2_group_sources, "fe80::1", "ff02::1:ff00:1");
    sweep(q1_general, sizeof q1_general, "fe80::1", "ff02::1");
    sweep(r2_two, sizeof r2_two, "fe80::200:ff:fe00:1", "ff02::16");
    sweep(r1, sizeof r1, "fe80::200:ff:fe00:1", "ff02::1:ff00:1");
    sweep(d1, sizeof d1, "fe80::200:ff:fe00:1", "ff02::2");
}

static void test_bad_checksum(void) {
    struct tern_mld_repr r;
    int ok = 1;
    addrs("fe80::200:ff:fe00:1", "ff02::16");
    g_verify = true;
    for (size_t i = 0; i < sizeof r2_two; i++) {
        for (int bit = 0; bit < 8; bit++) {
            tern_err err =
                wire_parse_flipped(parse_mld, r2_two, sizeof r2_two, i, (uint8_t)(1u << bit), &r);
            /* a flipped type byte may name no MLD type at all */
            ok &= err == TERN_ERR_BAD_CHECKSUM || (i == 0 && err == TERN_ERR_UNSUPPORTED);
        }
    }
    g_verify = false;
    CHECK(ok);
}

static void test_malformed(void) {
    struct tern_mld_repr r;
    uint8_t buf[80];
    /* A report with bytes after its last record. */
    memcpy(buf, r2_two, sizeof r2_two);
    buf[sizeof r2_two] = 0;
    CHECK_EQ_I64(tern_mld_parse(buf, sizeof r2_two + 1, NULL, NULL, &r), TERN_ERR_MALFORMED);
    /* A report that claims one record less than it has: malformed too. */
    memcpy(buf, r2_two, sizeof r2_two);
    buf[7] = 1;
    CHECK_EQ_I64(tern_mld_parse(buf, sizeof r2_two, NULL, NULL, &r), TERN_ERR_MALFORMED);
    /* One more than it has: truncated. */
    buf[7] = 3;
    CHECK_EQ_I64(tern_mld_parse(buf, sizeof r2_two, NULL, NULL, &r), TERN_ERR_TRUNCATED);
    /* A record whose source count runs past the end. */
    memcpy(buf, r2_two, sizeof r2_two);
    buf[31] = 2;
    CHECK_EQ_I64(tern_mld_parse(buf, sizeof r2_two, NULL, NULL, &r), TERN_ERR_TRUNCATED);
    /* Not an MLD type. */
    buf[0] = 128;
    CHECK_EQ_I64(tern_mld_parse(buf, sizeof r2_two, NULL, NULL, &r), TERN_ERR_UNSUPPORTED);
    /* A v1 report longer than 24 bytes is accepted, the rest ignored. */
    memcpy(buf, r1, sizeof r1);
    memset(buf + 24, 0x77, 8);
    CHECK_EQ_I64(tern_mld_parse(buf, 32, NULL, NULL, &r), TERN_OK);
    /* A v2 query with data after its sources is accepted (RFC 3810 5.1.12). */
    memcpy(buf, q2_general, sizeof q2_general);
    memset(buf + 28, 0x77, 4);
    CHECK_EQ_I64(tern_mld_parse(buf, 32, NULL, NULL, &r), TERN_OK);
    CHECK_EQ_U64(r.query.version, 2);
}

static void test_emit_errors(void) {
    uint8_t buf[64];
    size_t w;
    addrs("fe80::1", "ff02::1");
    struct tern_mld_query q = {.version = 3};
    CHECK_EQ_I64(tern_mld_query_emit(&q, &g_src, &g_dst, buf, sizeof buf, &w),
                 TERN_ERR_INVALID_ARGUMENT);
    q.version = 2;
    q.nsources = 1;
    CHECK_EQ_I64(tern_mld_query_emit(&q, &g_src, &g_dst, buf, sizeof buf, &w),
                 TERN_ERR_INVALID_ARGUMENT);
    q.nsources = 0;
    tern_addr v4 = tern_addr_v4(10, 0, 0, 1);
    CHECK_EQ_I64(tern_mld_query_emit(&q, &v4, &g_dst, buf, sizeof buf, &w),
                 TERN_ERR_INVALID_ARGUMENT);
    struct tern_mld_record rec = {.type = 4, .group = v4};
    CHECK_EQ_I64(tern_mld_report_emit(&rec, 1, &g_src, &g_dst, buf, sizeof buf, &w),
                 TERN_ERR_INVALID_ARGUMENT);
    rec.group = A("ff05::1");
    rec.nsources = 1;
    CHECK_EQ_I64(tern_mld_report_emit(&rec, 1, &g_src, &g_dst, buf, sizeof buf, &w),
                 TERN_ERR_INVALID_ARGUMENT);
    rec.nsources = 4096; /* 20 + 65536 bytes */
    static uint8_t big[4096 * 16];
    rec.sources = big;
    CHECK_EQ_I64(tern_mld_report_emit(&rec, 1, &g_src, &g_dst, buf, sizeof buf, &w),
                 TERN_ERR_MSG_TOO_LONG);
    CHECK_EQ_I64(tern_mld_v1_emit(TERN_MLD_QUERY, &rec.group, &g_src, &g_dst, buf, sizeof buf, &w),
                 TERN_ERR_INVALID_ARGUMENT);
}

int main(void) {
    RUN(test_codes);
    RUN(test_query_v2);
    RUN(test_query_v1);
    RUN(test_report_v2);
    RUN(test_v1_report_done);
    RUN(test_truncations);
    RUN(test_bad_checksum);
    RUN(test_malformed);
    RUN(test_emit_errors);
    return check_summary();
}

/* Unit tests of wire/igmp.h: IGMP v1/v2/v3 messages (RFC 2236, RFC 3376). */
#include "test_wire_util.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/igmp.h"

/* A v2 General Query, Max Resp Time 100 (10 s). */
static const uint8_t v2_query[] = {0x11, 0x64, 0xee, 0x9b, 0x00, 0x00, 0x00, 0x00};
/* A v1 query: Max Resp 0. */
static const uint8_t v1_query[] = {0x11, 0x00, 0xee, 0xff, 0x00, 0x00, 0x00, 0x00};
/* A v2 Leave Group for 239.1.2.3. */
static const uint8_t v2_leave[] = {0x17, 0x00, 0xf7, 0xfa, 0xef, 0x01, 0x02, 0x03};
/* A v3 Group-and-Source-Specific Query for 239.1.2.3, Max Resp Code 0x8a (208 = 20.8 s),
 * S set, QRV 2, QQIC 125, sources 10.0.0.5 and 10.0.0.6. */
static const uint8_t v3_query[] = {0x11, 0x8a, 0xde, 0xe6, 0xef, 0x01, 0x02, 0x03, 0x0a, 0x7d,
                                   0x00, 0x02, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x06};
/* A v3 report: CHANGE_TO_EXCLUDE(239.1.2.3, {}) and MODE_IS_INCLUDE(239.9.9.9, {10.0.0.5}) with
 * one aux word "AUX!". */
static const uint8_t v3_report[] = {
    0x22, 0x00, 0x4c, 0x68, 0x00, 0x00, 0x00, 0x02, 0x04, 0x00, 0x00, 0x00, 0xef, 0x01, 0x02, 0x03,
    0x01, 0x01, 0x00, 0x01, 0xef, 0x09, 0x09, 0x09, 0x0a, 0x00, 0x00, 0x05, 0x41, 0x55, 0x58, 0x21};

static tern_err parse_igmp(const uint8_t *buf, size_t len, void *ctx) {
    return tern_igmp_parse(buf, len, ctx);
}

static void test_v2_query(void) {
    struct tern_igmp_repr r;
    CHECK_EQ_I64(wire_parse_exact(parse_igmp, v2_query, sizeof v2_query, &r), TERN_OK);
    CHECK_EQ_U64(r.type, TERN_IGMP_QUERY);
    CHECK_EQ_U64(r.version, 2);
    CHECK_EQ_U64(r.max_resp_ds, 100);
    CHECK(tern_addr_is_unspecified(&r.group));
}

static void test_v1_query(void) {
    struct tern_igmp_repr r;
    CHECK_EQ_I64(wire_parse_exact(parse_igmp, v1_query, sizeof v1_query, &r), TERN_OK);
    CHECK_EQ_U64(r.version, 1);
    CHECK_EQ_U64(r.max_resp_ds, 100); /* RFC 2236 section 4: v1 queries mean 10 s */
}

static void test_leave_emit(void) {
    struct tern_igmp_repr r;
    CHECK_EQ_I64(wire_parse_exact(parse_igmp, v2_leave, sizeof v2_leave, &r), TERN_OK);
    CHECK_EQ_U64(r.type, TERN_IGMP_V2_LEAVE);
    CHECK_EQ_U64(tern_addr_v4_to_u32(&r.group), 0xef010203u);
    uint8_t buf[16];
    size_t w;
    tern_addr g = tern_addr_v4(239, 1, 2, 3);
    CHECK_EQ_I64(tern_igmp_emit_v2(TERN_IGMP_V2_LEAVE, 0, &g, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(w, 8);
    CHECK(wire_bytes_eq(buf, v2_leave, 8));
    memset(buf, JUNK, sizeof buf);
    CHECK_EQ_I64(tern_igmp_emit_v2(TERN_IGMP_V2_LEAVE, 0, &g, buf, 7, &w),
                 TERN_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_U64(buf[0], JUNK);
}

static void test_v3_query(void) {
    struct tern_igmp_repr r;
    CHECK_EQ_I64(wire_parse_exact(parse_igmp, v3_query, sizeof v3_query, &r), TERN_OK);
    CHECK_EQ_U64(r.version, 3);
    CHECK_EQ_U64(r.max_resp_code, 0x8a);
    CHECK_EQ_U64(r.max_resp_ds, 208); /* (0xa | 0x10) << 3 */
    CHECK(r.s_flag);
    CHECK_EQ_U64(r.qrv, 2);
    CHECK_EQ_U64(r.qqi, 125);
    CHECK_EQ_U64(r.nsources, 2);
    CHECK_EQ_I64(tern_igmp_parse(v3_query, sizeof v3_query, &r), TERN_OK); /* sources in place */
    tern_addr s1 = tern_igmp_source_at(r.sources, 1);
    CHECK_EQ_U64(tern_addr_v4_to_u32(&s1), 0x0a000006u);
    /* emit gives the same bytes */
    uint8_t out[sizeof v3_query];
    size_t w;
    tern_addr g = tern_addr_v4(239, 1, 2, 3);
    CHECK_EQ_I64(
        tern_igmp_emit_v3_query(0x8a, &g, true, 2, 125, v3_query + 12, 2, out, sizeof out, &w),
        TERN_OK);
    CHECK_EQ_U64(w, sizeof v3_query);
    CHECK(wire_bytes_eq(out, v3_query, sizeof v3_query));
}

static void test_v3_report(void) {
    struct tern_igmp_repr r;
    CHECK_EQ_I64(wire_parse_exact(parse_igmp, v3_report, sizeof v3_report, &r), TERN_OK);
    /* the records point into the message: parse the fixture itself to walk them */
    CHECK_EQ_I64(tern_igmp_parse(v3_report, sizeof v3_report, &r), TERN_OK);
    CHECK_EQ_U64(r.version, 3);
    CHECK_EQ_U64(r.nrecords, 2);
    size_t off = 0;
    struct tern_igmp_record rec[2];
    CHECK_EQ_I64(tern_igmp_record_at(&r, &off, &rec[0]), TERN_OK);
    CHECK_EQ_U64(rec[0].type, TERN_IGMP_CHANGE_TO_EXCLUDE);
    CHECK_EQ_U64(rec[0].nsources, 0);
    CHECK_EQ_U64(tern_addr_v4_to_u32(&rec[0].group), 0xef010203u);
    CHECK_EQ_I64(tern_igmp_record_at(&r, &off, &rec[1]), TERN_OK);
    CHECK_EQ_U64(rec[1].type, TERN_IGMP_MODE_IS_INCLUDE);
    CHECK_EQ_U64(rec[1].nsources, 1);
    CHECK_EQ_U64(rec[1].aux_words, 1);
    CHECK(memcmp(rec[1].aux, "AUX!", 4) == 0);
    struct tern_igmp_record extra;
    CHECK_EQ_I64(tern_igmp_record_at(&r, &off, &extra), TERN_ERR_TRUNCATED);
    /* emit the two records back: the same bytes; every shorter buffer refused untouched */
    uint8_t out[sizeof v3_report];
    size_t w;
    CHECK_EQ_I64(tern_igmp_emit_v3_report(rec, 2, out, sizeof out, &w), TERN_OK);
    CHECK_EQ_U64(w, sizeof v3_report);
    CHECK(wire_bytes_eq(out, v3_report, sizeof v3_report));
    for (size_t cap = 0; cap < sizeof v3_report; cap++) {
        memset(out, JUNK, sizeof out);
        CHECK_EQ_I64(tern_igmp_emit_v3_report(rec, 2, out, cap, &w), TERN_ERR_BUFFER_TOO_SMALL);
        CHECK_EQ_U64(out[0], JUNK);
    }
}

/* Every prefix of every fixture: truncated (or, for an 8..11-byte prefix of a query, not a
 * valid query), never a read past the end (ASan watches the exactly-sized copies). */
static void sweep(const uint8_t *fx, size_t n) {
    for (size_t len = 0; len < n; len++) {
        struct tern_igmp_repr r;
        uint8_t *p = calloc(len ? len : 1, 1); /* exactly len bytes (ASan sees a read past them) */
        memcpy(p, fx, len);
        if (len >= 4) { /* fix the checksum for this prefix so the length checks are reached */
            p[2] = p[3] = 0;
            tern_put_u16(p + 2, tern_csum(p, len));
        }
        tern_err err = tern_igmp_parse(p, len, &r);
        free(p);
        if (len < 8) {
            CHECK_EQ_I64(err, TERN_ERR_TRUNCATED);
        } else if (fx[0] == TERN_IGMP_QUERY && len < 12) {
            CHECK(err == TERN_ERR_MALFORMED || (len == 8 && err == TERN_OK));
        } else {
            CHECK(err == TERN_ERR_TRUNCATED ||
                  (fx[0] == TERN_IGMP_V3_REPORT && err == TERN_OK && r.records_len <= len - 8));
            if (fx[0] != TERN_IGMP_V3_REPORT) {
                CHECK_EQ_I64(err, TERN_ERR_TRUNCATED);
            }
        }
    }
}

static void test_truncations(void) {
    sweep(v2_query, sizeof v2_query);
    sweep(v3_query, sizeof v3_query);
    sweep(v3_report, sizeof v3_report);
    /* the v3 report's record count promises more than is there: truncated at every cut inside
     * a record */
    struct tern_igmp_repr r;
    CHECK_EQ_I64(wire_parse_exact(parse_igmp, v3_report, sizeof v3_report, &r), TERN_OK);
}

static void test_bad_checksum_and_type(void) {
    struct tern_igmp_repr r;
    for (size_t byte = 0; byte < sizeof v3_query; byte++) {
        CHECK_EQ_I64(wire_parse_flipped(parse_igmp, v3_query, sizeof v3_query, byte, 0x01, &r),
                     TERN_ERR_BAD_CHECKSUM);
    }
    uint8_t odd[8] = {0x13, 0, 0xec, 0xff, 0, 0, 0, 0}; /* type 0x13, checksum right */
    CHECK_EQ_I64(wire_parse_exact(parse_igmp, odd, sizeof odd, &r), TERN_ERR_UNSUPPORTED);
    /* a 10-byte query: RFC 3376 section 7.1 "MUST be silently ignored" */
    uint8_t ten[10] = {0x11, 0x64, 0, 0, 0, 0, 0, 0, 0, 0};
    uint16_t c = (uint16_t) ~(0x1164u);
    ten[2] = (uint8_t)(c >> 8);
    ten[3] = (uint8_t)c;
    CHECK_EQ_I64(wire_parse_exact(parse_igmp, ten, sizeof ten, &r), TERN_ERR_MALFORMED);
}

static void test_codes(void) {
    /* RFC 3376 section 4.1.1: below 128 the value; above, (mant | 0x10) << (exp + 3) */
    CHECK_EQ_U64(tern_igmp_code_decode(100), 100);
    CHECK_EQ_U64(tern_igmp_code_decode(0x80), 128);
    CHECK_EQ_U64(tern_igmp_code_decode(0xff), 31744);
    for (unsigned c = 0; c < 256; c++) {
        CHECK_EQ_U64(tern_igmp_code_encode(tern_igmp_code_decode((uint8_t)c)), c);
    }
    CHECK_EQ_U64(tern_igmp_code_encode(1000000), 0xff);
}

int main(void) {
    RUN(test_v2_query);
    RUN(test_v1_query);
    RUN(test_leave_emit);
    RUN(test_v3_query);
    RUN(test_v3_report);
    RUN(test_truncations);
    RUN(test_bad_checksum_and_type);
    RUN(test_codes);
    return check_summary();
}

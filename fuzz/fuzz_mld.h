/*
 * The MLD part of fuzz_wire (wire/mld.h): whatever parses as an MLD message
 * is emitted again and re-parsed, and must come back the same (queries of
 * both versions, version 2 reports record by record, MLDv1 reports and
 * dones). Included by fuzz_wire.c, which defines REQUIRE and out.
 */
#ifndef TERN_FUZZ_MLD_H
#define TERN_FUZZ_MLD_H

#include "wire/mld.h"

/* Records of one report kept for the round trip (a longer report is only parsed). */
#define FUZZ_MLD_MAX_RECORDS 64

static void same_mld_query(const struct tern_mld_query *a, const struct tern_mld_query *b) {
    REQUIRE(a->version == b->version && a->code == b->code);
    REQUIRE(a->max_resp_code == b->max_resp_code && a->max_resp_ms == b->max_resp_ms);
    REQUIRE(tern_addr_cmp(&a->group, &b->group) == 0 ||
            (tern_addr_is_unspecified(&a->group) && tern_addr_is_unspecified(&b->group)));
    if (a->version == 2) {
        REQUIRE(a->s_flag == b->s_flag && a->qrv == b->qrv && a->qqic == b->qqic);
        REQUIRE(a->qqi_s == b->qqi_s && a->nsources == b->nsources);
        REQUIRE(a->nsources == 0 || memcmp(a->sources, b->sources, (size_t)a->nsources * 16) == 0);
    }
}

static void fuzz_mld(const uint8_t *buf, size_t len, const tern_addr *src, const tern_addr *dst,
                     const tern_addr *esrc, const tern_addr *edst) {
    struct tern_mld_repr r, p;
    if (tern_mld_parse(buf, len, src, dst, &r) != TERN_OK) {
        return;
    }
    size_t w = 0, w2;
    if (r.type == TERN_MLD_QUERY) {
        if (TERN_MLD_V2_QUERY_MIN + (size_t)r.query.nsources * 16 > sizeof out) {
            return;
        }
        REQUIRE(r.query.nsources == 0 ||
                r.query.sources + (size_t)r.query.nsources * 16 <= buf + len);
        REQUIRE(tern_mld_query_emit(&r.query, esrc, edst, out, sizeof out, &w) == TERN_OK);
        REQUIRE(tern_mld_query_emit(&r.query, esrc, edst, out, w - 1, &w2) ==
                TERN_ERR_BUFFER_TOO_SMALL);
        REQUIRE(tern_mld_parse(out, w, esrc, edst, &p) == TERN_OK);
        same_mld_query(&r.query, &p.query);
    } else if (r.type == TERN_MLD_V2_REPORT) {
        REQUIRE(r.report.records + r.report.records_len == buf + len);
        struct tern_mld_record recs[FUZZ_MLD_MAX_RECORDS];
        size_t n = 0, off = 0;
        struct tern_mld_record rec;
        while (tern_mld_record_next(&r.report, &off, &rec) == TERN_OK) {
            REQUIRE(rec.aux + (size_t)rec.aux_words * 4 <= buf + len);
            if (n < FUZZ_MLD_MAX_RECORDS) {
                recs[n] = rec;
            }
            n++;
        }
        REQUIRE(n == r.report.nrecords);
        if (n > FUZZ_MLD_MAX_RECORDS) {
            return;
        }
        REQUIRE(tern_mld_report_emit(recs, n, esrc, edst, out, sizeof out, &w) == TERN_OK);
        REQUIRE(w == len);
        /* Everything but the checksum and the two reserved fields is the input's. */
        REQUIRE(memcmp(out + 8, buf + 8, len - 8) == 0);
        REQUIRE(tern_mld_parse(out, w, esrc, edst, &p) == TERN_OK);
        REQUIRE(p.report.nrecords == r.report.nrecords);
    } else {
        REQUIRE(tern_mld_v1_emit(r.type, &r.v1_group, esrc, edst, out, sizeof out, &w) == TERN_OK);
        REQUIRE(tern_mld_parse(out, w, esrc, edst, &p) == TERN_OK);
        REQUIRE(p.type == r.type && tern_addr_eq(&p.v1_group, &r.v1_group));
    }
}

#endif /* TERN_FUZZ_MLD_H */

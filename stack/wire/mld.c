/* MLDv2 (RFC 3810) and MLDv1 (RFC 2710) messages (see wire/mld.h). */
#include "wire/mld.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"

#define ICMPV6_NEXT_HEADER 58
#define ADDR_LEN 16

uint32_t tern_mld_code_to_ms(uint16_t code) {
    if (code < 32768) {
        return code;
    }
    uint32_t exp = (code >> 12) & 7, mant = code & 0xfff;
    return (mant | 0x1000) << (exp + 3);
}

uint32_t tern_mld_qqic_to_s(uint8_t qqic) {
    if (qqic < 128) {
        return qqic;
    }
    uint32_t exp = (qqic >> 4) & 7, mant = qqic & 0xf;
    return (mant | 0x10) << (exp + 3);
}

static bool both_v6(const tern_addr *src, const tern_addr *dst) {
    return src != NULL && dst != NULL && src->family == TERN_AF_INET6 &&
           dst->family == TERN_AF_INET6;
}

static uint16_t icmpv6_csum(const uint8_t *buf, size_t len, const tern_addr *src,
                            const tern_addr *dst) {
    uint32_t sum = tern_csum_pseudo(src, dst, ICMPV6_NEXT_HEADER, (uint32_t)len);
    return tern_csum_finish(tern_csum_add(sum, buf, len));
}

static tern_err parse_query(const uint8_t *buf, size_t len, struct tern_mld_query *q) {
    memset(q, 0, sizeof *q);
    q->code = buf[1];
    q->max_resp_code = tern_get_u16(buf + 4);
    q->group = tern_addr_v6_from_bytes(buf + 8);
    if (len == TERN_MLD_V1_LEN) {
        /* RFC 2710 section 3.4: the MLDv1 delay is in milliseconds, linear. */
        q->version = 1;
        q->max_resp_ms = q->max_resp_code;
        return TERN_OK;
    }
    if (len < TERN_MLD_V2_QUERY_MIN) {
        return TERN_ERR_MALFORMED; /* RFC 3810 section 8.1: 25..27 bytes, neither version */
    }
    q->version = 2;
    q->max_resp_ms = tern_mld_code_to_ms(q->max_resp_code);
    q->s_flag = (buf[24] & 0x08) != 0;
    q->qrv = buf[24] & 0x07;
    q->qqic = buf[25];
    q->qqi_s = tern_mld_qqic_to_s(q->qqic);
    q->nsources = tern_get_u16(buf + 26);
    if ((len - TERN_MLD_V2_QUERY_MIN) / ADDR_LEN < q->nsources) {
        return TERN_ERR_TRUNCATED;
    }
    q->sources = buf + TERN_MLD_V2_QUERY_MIN;
    return TERN_OK;
}

/* The length of the record at p (n bytes left), or 0 when it does not fit. */
static size_t record_len(const uint8_t *p, size_t n) {
    if (n < TERN_MLD_RECORD_HDR) {
        return 0;
    }
    size_t need = TERN_MLD_RECORD_HDR + (size_t)tern_get_u16(p + 2) * ADDR_LEN + (size_t)p[1] * 4;
    return need <= n ? need : 0;
}

static tern_err parse_report(const uint8_t *buf, size_t len, struct tern_mld_report *r) {
    if (len < TERN_MLD_V2_REPORT_HDR) {
        return TERN_ERR_TRUNCATED;
    }
    r->nrecords = tern_get_u16(buf + 6);
    r->records = buf + TERN_MLD_V2_REPORT_HDR;
    r->records_len = len - TERN_MLD_V2_REPORT_HDR;
    /* Bounded: at most 65535 records, each at least 20 bytes of the input. */
    size_t off = 0;
    for (uint32_t i = 0; i < r->nrecords; i++) {
        size_t n = record_len(r->records + off, r->records_len - off);
        if (n == 0) {
            return TERN_ERR_TRUNCATED;
        }
        off += n;
    }
    if (off != r->records_len) {
        return TERN_ERR_MALFORMED; /* bytes that belong to no record */
    }
    return TERN_OK;
}

tern_err tern_mld_parse(const uint8_t *buf, size_t len, const tern_addr *src, const tern_addr *dst,
                        struct tern_mld_repr *out) {
    if (len < 4) {
        return TERN_ERR_TRUNCATED;
    }
    uint8_t type = buf[0];
    if (type != TERN_MLD_QUERY && type != TERN_MLD_V1_REPORT && type != TERN_MLD_V1_DONE &&
        type != TERN_MLD_V2_REPORT) {
        return TERN_ERR_UNSUPPORTED;
    }
    if (type != TERN_MLD_V2_REPORT && len < TERN_MLD_V1_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    if (src != NULL && dst != NULL && icmpv6_csum(buf, len, src, dst) != 0) {
        return TERN_ERR_BAD_CHECKSUM;
    }
    memset(out, 0, sizeof *out);
    out->type = type;
    out->checksum = tern_get_u16(buf + 2);
    switch (type) {
    case TERN_MLD_QUERY:
        return parse_query(buf, len, &out->query);
    case TERN_MLD_V2_REPORT:
        return parse_report(buf, len, &out->report);
    default:
        out->v1_group = tern_addr_v6_from_bytes(buf + 8);
        return TERN_OK;
    }
}

tern_err tern_mld_record_next(const struct tern_mld_report *report, size_t *offset,
                              struct tern_mld_record *rec) {
    if (*offset >= report->records_len) {
        return TERN_ERR_EMPTY;
    }
    const uint8_t *p = report->records + *offset;
    size_t n = record_len(p, report->records_len - *offset);
    if (n == 0) {
        return TERN_ERR_TRUNCATED; /* not from tern_mld_parse */
    }
    rec->type = p[0];
    rec->aux_words = p[1];
    rec->nsources = tern_get_u16(p + 2);
    rec->group = tern_addr_v6_from_bytes(p + 4);
    rec->sources = p + TERN_MLD_RECORD_HDR;
    rec->aux = rec->sources + (size_t)rec->nsources * ADDR_LEN;
    *offset += n;
    return TERN_OK;
}

tern_addr tern_mld_source(const uint8_t *sources, uint16_t i) {
    return tern_addr_v6_from_bytes(sources + (size_t)i * ADDR_LEN);
}

static bool group_ok(const tern_addr *g) {
    return g->family == TERN_AF_INET6 || tern_addr_is_unspecified(g);
}

tern_err tern_mld_query_emit(const struct tern_mld_query *q, const tern_addr *src,
                             const tern_addr *dst, uint8_t *buf, size_t cap, size_t *written) {
    if ((q->version != 1 && q->version != 2) || !group_ok(&q->group) || !both_v6(src, dst) ||
        (q->version == 2 && q->nsources > 0 && q->sources == NULL)) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    size_t len =
        q->version == 1 ? TERN_MLD_V1_LEN : TERN_MLD_V2_QUERY_MIN + (size_t)q->nsources * ADDR_LEN;
    if (cap < len) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    buf[0] = TERN_MLD_QUERY;
    buf[1] = q->code;
    tern_put_u16(buf + 2, 0);
    tern_put_u16(buf + 4, q->max_resp_code);
    tern_put_u16(buf + 6, 0);
    memcpy(buf + 8, q->group.bytes, ADDR_LEN); /* :: is all zero bytes */
    if (q->version == 2) {
        buf[24] = (uint8_t)((q->s_flag ? 0x08 : 0) | (q->qrv & 0x07));
        buf[25] = q->qqic;
        tern_put_u16(buf + 26, q->nsources);
        if (q->nsources > 0) {
            memmove(buf + TERN_MLD_V2_QUERY_MIN, q->sources, (size_t)q->nsources * ADDR_LEN);
        }
    }
    tern_put_u16(buf + 2, icmpv6_csum(buf, len, src, dst));
    *written = len;
    return TERN_OK;
}

size_t tern_mld_report_len(const struct tern_mld_record *recs, size_t n) {
    size_t len = TERN_MLD_V2_REPORT_HDR;
    for (size_t i = 0; i < n; i++) {
        len += TERN_MLD_RECORD_HDR + (size_t)recs[i].nsources * ADDR_LEN +
               (size_t)recs[i].aux_words * 4;
    }
    return len;
}

tern_err tern_mld_report_emit(const struct tern_mld_record *recs, size_t n, const tern_addr *src,
                              const tern_addr *dst, uint8_t *buf, size_t cap, size_t *written) {
    if (n > 65535 || !both_v6(src, dst) || (n > 0 && recs == NULL)) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < n; i++) {
        if (recs[i].group.family != TERN_AF_INET6 ||
            (recs[i].nsources > 0 && recs[i].sources == NULL) ||
            (recs[i].aux_words > 0 && recs[i].aux == NULL)) {
            return TERN_ERR_INVALID_ARGUMENT;
        }
    }
    size_t len = tern_mld_report_len(recs, n);
    if (len > 65535) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    if (cap < len) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    buf[0] = TERN_MLD_V2_REPORT;
    buf[1] = 0;
    tern_put_u16(buf + 2, 0);
    tern_put_u16(buf + 4, 0);
    tern_put_u16(buf + 6, (uint16_t)n);
    size_t off = TERN_MLD_V2_REPORT_HDR;
    for (size_t i = 0; i < n; i++) {
        const struct tern_mld_record *r = &recs[i];
        buf[off] = r->type;
        buf[off + 1] = r->aux_words;
        tern_put_u16(buf + off + 2, r->nsources);
        memcpy(buf + off + 4, r->group.bytes, ADDR_LEN);
        off += TERN_MLD_RECORD_HDR;
        size_t sl = (size_t)r->nsources * ADDR_LEN, al = (size_t)r->aux_words * 4;
        if (sl > 0) {
            memmove(buf + off, r->sources, sl);
        }
        off += sl;
        if (al > 0) {
            memmove(buf + off, r->aux, al);
        }
        off += al;
    }
    tern_put_u16(buf + 2, icmpv6_csum(buf, len, src, dst));
    *written = len;
    return TERN_OK;
}

tern_err tern_mld_v1_emit(uint8_t type, const tern_addr *group, const tern_addr *src,
                          const tern_addr *dst, uint8_t *buf, size_t cap, size_t *written) {
    if ((type != TERN_MLD_V1_REPORT && type != TERN_MLD_V1_DONE) ||
        group->family != TERN_AF_INET6 || !both_v6(src, dst)) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (cap < TERN_MLD_V1_LEN) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    memset(buf, 0, 8);
    buf[0] = type;
    memcpy(buf + 8, group->bytes, ADDR_LEN);
    tern_put_u16(buf + 2, icmpv6_csum(buf, TERN_MLD_V1_LEN, src, dst));
    *written = TERN_MLD_V1_LEN;
    return TERN_OK;
}

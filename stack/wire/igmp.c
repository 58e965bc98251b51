/* IGMP v1/v2/v3, RFC 1112 appendix I / RFC 2236 / RFC 3376 (see wire/igmp.h). */
#include "wire/igmp.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"

uint32_t tern_igmp_code_decode(uint8_t code) {
    if (code < 128) {
        return code;
    }
    unsigned exp = (code >> 4) & 0x7u, mant = code & 0xfu;
    return (uint32_t)(mant | 0x10u) << (exp + 3);
}

uint8_t tern_igmp_code_encode(uint32_t value) {
    if (value < 128) {
        return (uint8_t)value;
    }
    for (unsigned exp = 7;; exp--) {
        uint32_t base = 0x10u << (exp + 3);
        if (value >= base) {
            uint32_t mant = (value >> (exp + 3)) - 0x10u;
            return (uint8_t)(0x80u | exp << 4 | (mant > 0xf ? 0xf : mant));
        }
        if (exp == 0) {
            return 127; /* not reached: value >= 128 == 0x10 << 3 */
        }
    }
}

tern_addr tern_igmp_source_at(const uint8_t *src, uint16_t i) {
    return tern_addr_v4_from_bytes(src + 4u * i);
}

static tern_err parse_query(const uint8_t *buf, size_t len, struct tern_igmp_repr *out) {
    out->group = tern_addr_v4_from_bytes(buf + 4);
    if (len == TERN_IGMP_V2_LEN) {
        /* RFC 3376 section 7.1: "IGMPv1 Query: length = 8 octets AND Max Resp
         * Code field is zero"; "IGMPv2 Query: length = 8 octets AND Max Resp
         * Code field is non-zero". A v1 query means 10 seconds (RFC 2236 section 4). */
        out->version = buf[1] == 0 ? 1 : 2;
        out->max_resp_ds = buf[1] == 0 ? 100 : buf[1];
        return TERN_OK;
    }
    if (len < TERN_IGMP_V3_QUERY_MIN) {
        return TERN_ERR_MALFORMED; /* "Query messages that do not match ... MUST be silently
                                      ignored" */
    }
    out->version = 3;
    out->max_resp_ds = tern_igmp_code_decode(buf[1]);
    out->s_flag = (buf[8] & 0x08) != 0;
    out->qrv = buf[8] & 0x07;
    out->qqic = buf[9];
    out->qqi = tern_igmp_code_decode(buf[9]);
    out->nsources = tern_get_u16(buf + 10);
    if ((size_t)out->nsources * 4 > len - TERN_IGMP_V3_QUERY_MIN) {
        return TERN_ERR_TRUNCATED;
    }
    out->sources = buf + TERN_IGMP_V3_QUERY_MIN;
    return TERN_OK;
}

/* The length of the record at p (at most avail bytes), or 0 when it does not fit. */
static size_t record_len(const uint8_t *p, size_t avail) {
    if (avail < TERN_IGMP_V3_RECORD_MIN) {
        return 0;
    }
    size_t n = TERN_IGMP_V3_RECORD_MIN + 4u * tern_get_u16(p + 2) + 4u * p[1];
    return n <= avail ? n : 0;
}

static tern_err parse_v3_report(const uint8_t *buf, size_t len, struct tern_igmp_repr *out) {
    out->version = 3;
    out->nrecords = tern_get_u16(buf + 6);
    out->records = buf + TERN_IGMP_V3_REPORT_MIN;
    size_t off = TERN_IGMP_V3_REPORT_MIN;
    /* Bounded: each record is at least 8 bytes and must fit in len. */
    for (uint16_t i = 0; i < out->nrecords; i++) {
        size_t n = record_len(buf + off, len - off);
        if (n == 0) {
            return TERN_ERR_TRUNCATED;
        }
        off += n;
    }
    out->records_len = off - TERN_IGMP_V3_REPORT_MIN;
    return TERN_OK;
}

tern_err tern_igmp_parse(const uint8_t *buf, size_t len, struct tern_igmp_repr *out) {
    if (len < TERN_IGMP_V2_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    if (tern_csum(buf, len) != 0) {
        return TERN_ERR_BAD_CHECKSUM;
    }
    memset(out, 0, sizeof *out);
    out->type = buf[0];
    out->max_resp_code = buf[1];
    switch (out->type) {
    case TERN_IGMP_QUERY:
        return parse_query(buf, len, out);
    case TERN_IGMP_V1_REPORT:
    case TERN_IGMP_V2_REPORT:
    case TERN_IGMP_V2_LEAVE:
        out->version = out->type == TERN_IGMP_V1_REPORT ? 1 : 2;
        out->group = tern_addr_v4_from_bytes(buf + 4);
        return TERN_OK;
    case TERN_IGMP_V3_REPORT:
        return parse_v3_report(buf, len, out);
    default:
        return TERN_ERR_UNSUPPORTED;
    }
}

tern_err tern_igmp_record_at(const struct tern_igmp_repr *r, size_t *off,
                             struct tern_igmp_record *out) {
    if (*off >= r->records_len) {
        return TERN_ERR_TRUNCATED;
    }
    const uint8_t *p = r->records + *off;
    size_t n = record_len(p, r->records_len - *off);
    if (n == 0) {
        return TERN_ERR_TRUNCATED;
    }
    out->type = p[0];
    out->aux_words = p[1];
    out->nsources = tern_get_u16(p + 2);
    out->group = tern_addr_v4_from_bytes(p + 4);
    out->sources = p + TERN_IGMP_V3_RECORD_MIN;
    out->aux = out->sources + 4u * out->nsources;
    *off += n;
    return TERN_OK;
}

static void finish(uint8_t *buf, size_t n) {
    buf[2] = buf[3] = 0;
    tern_put_u16(buf + 2, tern_csum(buf, n));
}

tern_err tern_igmp_emit_v2(uint8_t type, uint8_t max_resp, const tern_addr *group, uint8_t *buf,
                           size_t cap, size_t *written) {
    if (!group || !tern_addr_is_v4(group)) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (cap < TERN_IGMP_V2_LEN) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    buf[0] = type;
    buf[1] = max_resp;
    memcpy(buf + 4, group->bytes, 4);
    finish(buf, TERN_IGMP_V2_LEN);
    *written = TERN_IGMP_V2_LEN;
    return TERN_OK;
}

tern_err tern_igmp_emit_v3_report(const struct tern_igmp_record *recs, uint16_t n, uint8_t *buf,
                                  size_t cap, size_t *written) {
    size_t need = TERN_IGMP_V3_REPORT_MIN;
    for (uint16_t i = 0; i < n; i++) {
        if (!tern_addr_is_v4(&recs[i].group) || (recs[i].nsources && !recs[i].sources) ||
            (recs[i].aux_words && !recs[i].aux)) {
            return TERN_ERR_INVALID_ARGUMENT;
        }
        need += TERN_IGMP_V3_RECORD_MIN + 4u * recs[i].nsources + 4u * recs[i].aux_words;
    }
    if (cap < need) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    buf[0] = TERN_IGMP_V3_REPORT;
    buf[1] = 0;
    buf[4] = buf[5] = 0;
    tern_put_u16(buf + 6, n);
    size_t off = TERN_IGMP_V3_REPORT_MIN;
    for (uint16_t i = 0; i < n; i++) {
        const struct tern_igmp_record *r = &recs[i];
        buf[off] = r->type;
        buf[off + 1] = r->aux_words;
        tern_put_u16(buf + off + 2, r->nsources);
        memcpy(buf + off + 4, r->group.bytes, 4);
        off += TERN_IGMP_V3_RECORD_MIN;
        if (r->nsources) {
            memcpy(buf + off, r->sources, 4u * r->nsources);
            off += 4u * r->nsources;
        }
        if (r->aux_words) {
            memcpy(buf + off, r->aux, 4u * r->aux_words);
            off += 4u * r->aux_words;
        }
    }
    finish(buf, off);
    *written = off;
    return TERN_OK;
}

tern_err tern_igmp_emit_v3_query(uint8_t max_resp_code, const tern_addr *group, bool s_flag,
                                 uint8_t qrv, uint8_t qqic, const uint8_t *sources,
                                 uint16_t nsources, uint8_t *buf, size_t cap, size_t *written) {
    if (!group || !tern_addr_is_v4(group) || qrv > 7 || (nsources && !sources)) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    size_t need = TERN_IGMP_V3_QUERY_MIN + 4u * nsources;
    if (cap < need) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    buf[0] = TERN_IGMP_QUERY;
    buf[1] = max_resp_code;
    memcpy(buf + 4, group->bytes, 4);
    buf[8] = (uint8_t)((s_flag ? 0x08 : 0) | qrv);
    buf[9] = qqic;
    tern_put_u16(buf + 10, nsources);
    if (nsources) {
        memcpy(buf + TERN_IGMP_V3_QUERY_MIN, sources, 4u * nsources);
    }
    finish(buf, need);
    *written = need;
    return TERN_OK;
}

/* DNS messages, RFC 1035 section 4 (see wire/dns.h). */
#include "wire/dns.h"

#include <string.h>

#include "wire/bytes.h"

tern_err tern_dns_header_parse(const uint8_t *msg, size_t len, struct tern_dns_header *out) {
    if (len < TERN_DNS_HDR_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    out->id = tern_get_u16(msg);
    out->flags = tern_get_u16(msg + 2);
    out->qdcount = tern_get_u16(msg + 4);
    out->ancount = tern_get_u16(msg + 6);
    out->nscount = tern_get_u16(msg + 8);
    out->arcount = tern_get_u16(msg + 10);
    return TERN_OK;
}

tern_err tern_dns_name_read(const uint8_t *msg, size_t len, size_t *off, char *out, size_t cap) {
    size_t pos = *off;
    size_t lowest = pos; /* every pointer must land strictly before this */
    size_t after = 0;    /* where the name ends in place; 0 until the first pointer */
    size_t wire = 0;     /* uncompressed wire length so far */
    size_t t = 0;        /* text length so far */
    if (cap == 0) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    /* Each iteration either consumes a label (bounded by the 255-octet
     * limit) or takes a pointer to a strictly lower offset (bounded by the
     * message length), so the loop ends. */
    for (;;) {
        if (pos >= len) {
            return TERN_ERR_TRUNCATED;
        }
        uint8_t b = msg[pos];
        uint8_t kind = b & 0xc0;
        if (kind == 0xc0) {
            if (len - pos < 2) {
                return TERN_ERR_TRUNCATED;
            }
            size_t target = (size_t)(b & 0x3f) << 8 | msg[pos + 1];
            if (target >= lowest) {
                return TERN_ERR_MALFORMED; /* loop or forward pointer */
            }
            if (after == 0) {
                after = pos + 2;
            }
            lowest = target;
            pos = target;
            continue;
        }
        if (kind != 0) {
            return TERN_ERR_MALFORMED; /* 01/10 label types */
        }
        /* A non-root label must leave room for the root label after it. */
        wire += 1u + b;
        if (wire + (b ? 1u : 0u) > TERN_DNS_MAX_NAME_WIRE) {
            return TERN_ERR_MALFORMED;
        }
        if (b == 0) {
            pos += 1;
            break;
        }
        if (len - pos - 1 < b) {
            return TERN_ERR_TRUNCATED;
        }
        /* dot separator (not before the first label) + label + final NUL */
        size_t need = t + (t ? 1u : 0u) + b + 1u;
        if (need > cap) {
            return TERN_ERR_BUFFER_TOO_SMALL;
        }
        if (t) {
            out[t++] = '.';
        }
        for (uint8_t i = 0; i < b; i++) {
            uint8_t c = msg[pos + 1 + i];
            if (c == '.' || c == 0) {
                return TERN_ERR_MALFORMED;
            }
            out[t++] = (char)c;
        }
        pos += 1u + b;
    }
    out[t] = '\0';
    *off = after ? after : pos;
    return TERN_OK;
}

tern_err tern_dns_question_parse(const uint8_t *msg, size_t len, size_t *off,
                                 struct tern_dns_question *out) {
    size_t p = *off;
    tern_err err = tern_dns_name_read(msg, len, &p, out->name, sizeof out->name);
    if (err != TERN_OK) {
        return err;
    }
    if (len - p < 4) {
        return TERN_ERR_TRUNCATED;
    }
    out->type = tern_get_u16(msg + p);
    out->klass = tern_get_u16(msg + p + 2);
    *off = p + 4;
    return TERN_OK;
}

tern_err tern_dns_rr_parse(const uint8_t *msg, size_t len, size_t *off, struct tern_dns_rr *out) {
    size_t p = *off;
    tern_err err = tern_dns_name_read(msg, len, &p, out->name, sizeof out->name);
    if (err != TERN_OK) {
        return err;
    }
    if (len - p < 10) {
        return TERN_ERR_TRUNCATED;
    }
    out->type = tern_get_u16(msg + p);
    out->klass = tern_get_u16(msg + p + 2);
    out->ttl = tern_get_u32(msg + p + 4);
    out->rdlength = tern_get_u16(msg + p + 8);
    p += 10;
    if (len - p < out->rdlength) {
        return TERN_ERR_TRUNCATED;
    }
    out->rdata = msg + p;
    out->rdata_off = p;
    *off = p + out->rdlength;
    return TERN_OK;
}

tern_err tern_dns_soa_minimum(const uint8_t *msg, size_t len, const struct tern_dns_rr *rr,
                              uint32_t *minimum) {
    size_t end = rr->rdata_off + rr->rdlength;
    if (end > len) {
        return TERN_ERR_TRUNCATED;
    }
    size_t p = rr->rdata_off;
    char name[TERN_DNS_NAME_TEXT_CAP];
    for (int i = 0; i < 2; i++) { /* MNAME, RNAME */
        tern_err err = tern_dns_name_read(msg, end, &p, name, sizeof name);
        if (err != TERN_OK) {
            return err;
        }
    }
    if (end - p != 20) {
        return TERN_ERR_MALFORMED;
    }
    *minimum = tern_get_u32(msg + p + 16);
    return TERN_OK;
}

static char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool tern_dns_name_eq(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 0 && a[la - 1] == '.') {
        la--;
    }
    if (lb > 0 && b[lb - 1] == '.') {
        lb--;
    }
    if (la != lb) {
        return false;
    }
    for (size_t i = 0; i < la; i++) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

tern_err tern_dns_name_encode(const char *name, uint8_t *buf, size_t cap, size_t *written) {
    size_t n = strlen(name);
    if (n > 0 && name[n - 1] == '.') {
        n--; /* the final dot is the root label, written below */
    }
    /* Validate and measure first, so nothing is written on error. */
    size_t wire = 1, label = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || name[i] == '.') {
            if (n > 0 && label == 0) {
                return TERN_ERR_INVALID_ARGUMENT; /* empty label */
            }
            if (label > TERN_DNS_MAX_LABEL) {
                return TERN_ERR_INVALID_ARGUMENT;
            }
            wire += n > 0 ? 1 + label : 0;
            label = 0;
        } else {
            label++;
        }
    }
    if (wire > TERN_DNS_MAX_NAME_WIRE) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (cap < wire) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    size_t w = 0, start = 0;
    for (size_t i = 0; n > 0 && i <= n; i++) {
        if (i == n || name[i] == '.') {
            buf[w++] = (uint8_t)(i - start);
            memcpy(buf + w, name + start, i - start);
            w += i - start;
            start = i + 1;
        }
    }
    buf[w++] = 0;
    *written = w;
    return TERN_OK;
}

tern_err tern_dns_query_emit(uint16_t id, bool rd, const char *name, uint16_t qtype, uint8_t *buf,
                             size_t cap, size_t *written) {
    uint8_t qname[TERN_DNS_MAX_NAME_WIRE];
    size_t qlen = 0;
    tern_err err = tern_dns_name_encode(name, qname, sizeof qname, &qlen);
    if (err != TERN_OK) {
        return err;
    }
    size_t total = TERN_DNS_HDR_LEN + qlen + 4;
    if (cap < total) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    memset(buf, 0, TERN_DNS_HDR_LEN);
    tern_put_u16(buf, id);
    tern_put_u16(buf + 2, rd ? TERN_DNS_FLAG_RD : 0);
    tern_put_u16(buf + 4, 1);
    memcpy(buf + TERN_DNS_HDR_LEN, qname, qlen);
    tern_put_u16(buf + TERN_DNS_HDR_LEN + qlen, qtype);
    tern_put_u16(buf + TERN_DNS_HDR_LEN + qlen + 2, TERN_DNS_CLASS_IN);
    *written = total;
    return TERN_OK;
}

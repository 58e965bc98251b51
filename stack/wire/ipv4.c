/* IPv4 headers, RFC 791 section 3.1 (see wire/ipv4.h). */
#include "wire/ipv4.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"

/*
 * An IPv4 address from the header, written in place. (tern_addr_v4_from_bytes builds a
 * temporary that is then copied: its four-byte store and the 16-byte load of the copy that
 * follows at once defeat store-to-load forwarding, a stall on every datagram, twice; issue 19.)
 */
static void addr_from_header(tern_addr *a, const uint8_t *p) {
    memset(a, 0, sizeof *a);
    a->family = TERN_AF_INET;
    memcpy(a->bytes, p, 4);
}

/* The fixed header and the fields both parse flavours share. */
static tern_err parse_header(const uint8_t *buf, size_t len, struct tern_ipv4_repr *out) {
    if (len < TERN_IPV4_MIN_HDR_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    if (buf[0] >> 4 != 4) {
        return TERN_ERR_UNSUPPORTED;
    }
    size_t hlen = (size_t)(buf[0] & 0x0f) * 4;
    if (hlen < TERN_IPV4_MIN_HDR_LEN) {
        return TERN_ERR_MALFORMED;
    }
    if (len < hlen) {
        return TERN_ERR_TRUNCATED;
    }
    uint16_t total = tern_get_u16(buf + 2);
    if (total < hlen) {
        return TERN_ERR_MALFORMED;
    }
    uint16_t frag = tern_get_u16(buf + 6);
    out->header_len = (uint8_t)hlen;
    out->dscp = buf[1] >> 2;
    out->ecn = buf[1] & 3;
    out->total_len = total;
    out->id = tern_get_u16(buf + 4);
    out->flag_reserved = (frag & 0x8000) != 0;
    out->df = (frag & 0x4000) != 0;
    out->mf = (frag & 0x2000) != 0;
    out->frag_offset = (uint16_t)((frag & 0x1fff) * 8);
    out->ttl = buf[8];
    out->protocol = buf[9];
    out->checksum = tern_get_u16(buf + 10);
    addr_from_header(&out->src, buf + 12);
    addr_from_header(&out->dst, buf + 16);
    out->options_len = hlen - TERN_IPV4_MIN_HDR_LEN;
    out->options = out->options_len ? buf + TERN_IPV4_OPTIONS_OFFSET : NULL;
    out->payload = buf + hlen;
    return TERN_OK;
}

tern_err tern_ipv4_parse(const uint8_t *buf, size_t len, struct tern_ipv4_repr *out) {
    tern_err err = parse_header(buf, len, out);
    if (err != TERN_OK) {
        return err;
    }
    /* RFC 1122 section 3.2.1: the datagram is total length bytes; what
     * follows is link-layer padding. */
    if (len < out->total_len) {
        return TERN_ERR_TRUNCATED;
    }
    if (tern_csum(buf, out->header_len) != 0) {
        return TERN_ERR_BAD_CHECKSUM;
    }
    out->payload_len = (size_t)out->total_len - out->header_len;
    if ((size_t)out->frag_offset + out->payload_len > TERN_IPV4_MAX_LEN) {
        return TERN_ERR_MALFORMED;
    }
    return TERN_OK;
}

tern_err tern_ipv4_parse_quoted(const uint8_t *buf, size_t len, struct tern_ipv4_repr *out) {
    tern_err err = parse_header(buf, len, out);
    if (err != TERN_OK) {
        return err;
    }
    size_t want = (size_t)out->total_len - out->header_len;
    size_t have = len - out->header_len;
    out->payload_len = have < want ? have : want;
    return TERN_OK;
}

size_t tern_ipv4_header_len(const struct tern_ipv4_repr *r) {
    return TERN_IPV4_MIN_HDR_LEN + r->options_len;
}

tern_err tern_ipv4_emit(const struct tern_ipv4_repr *r, uint8_t *buf, size_t cap, size_t *written) {
    if (r->options_len > TERN_IPV4_MAX_HDR_LEN - TERN_IPV4_MIN_HDR_LEN || r->options_len % 4 ||
        (r->options_len && r->options == NULL) || r->frag_offset % 8 ||
        r->src.family != TERN_AF_INET || r->dst.family != TERN_AF_INET) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    size_t hlen = tern_ipv4_header_len(r);
    if (r->payload_len > TERN_IPV4_MAX_LEN - hlen) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    if (cap < hlen + r->payload_len) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    if (r->payload != NULL && r->payload_len > 0 && r->payload != buf + hlen) {
        memmove(buf + hlen, r->payload, r->payload_len);
    }
    if (r->options_len) {
        memmove(buf + TERN_IPV4_OPTIONS_OFFSET, r->options, r->options_len);
    }
    buf[0] = (uint8_t)(0x40 | hlen / 4);
    buf[1] = (uint8_t)((r->dscp & 0x3f) << 2 | (r->ecn & 3));
    tern_put_u16(buf + 2, (uint16_t)(hlen + r->payload_len));
    tern_put_u16(buf + 4, r->id);
    uint16_t frag = (uint16_t)((r->frag_offset / 8) & 0x1fff);
    if (r->flag_reserved) {
        frag |= 0x8000;
    }
    if (r->df) {
        frag |= 0x4000;
    }
    if (r->mf) {
        frag |= 0x2000;
    }
    tern_put_u16(buf + 6, frag);
    buf[8] = r->ttl;
    buf[9] = r->protocol;
    tern_put_u16(buf + 10, 0);
    memcpy(buf + 12, r->src.bytes, 4);
    memcpy(buf + 16, r->dst.bytes, 4);
    /* RFC 791 section 3.1: the checksum field is zero while computing. */
    tern_put_u16(buf + 10, tern_csum(buf, hlen));
    *written = hlen + r->payload_len;
    return TERN_OK;
}

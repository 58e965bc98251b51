/* UDP, RFC 768 (see wire/udp.h). */
#include "wire/udp.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

#define UDP_MAX_LEN 65535

tern_err tern_udp_parse(const uint8_t *buf, size_t len, const tern_addr *src, const tern_addr *dst,
                        struct tern_udp_repr *out) {
    if (len < TERN_UDP_HDR_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    uint16_t ulen = tern_get_u16(buf + 4);
    if (ulen < TERN_UDP_HDR_LEN) {
        return TERN_ERR_MALFORMED;
    }
    if (len < ulen) {
        return TERN_ERR_TRUNCATED;
    }
    uint16_t csum = tern_get_u16(buf + 6);
    if (src != NULL && dst != NULL) {
        if (csum == 0) {
            if (src->family != TERN_AF_INET) {
                return TERN_ERR_BAD_CHECKSUM;
            }
        } else {
            uint32_t s = tern_csum_pseudo(src, dst, TERN_IPPROTO_UDP, ulen);
            if (tern_csum_finish(tern_csum_add(s, buf, ulen)) != 0) {
                return TERN_ERR_BAD_CHECKSUM;
            }
        }
    }
    out->src_port = tern_get_u16(buf);
    out->dst_port = tern_get_u16(buf + 2);
    out->length = ulen;
    out->checksum = csum;
    out->payload = buf + TERN_UDP_HDR_LEN;
    out->payload_len = (size_t)ulen - TERN_UDP_HDR_LEN;
    return TERN_OK;
}

size_t tern_udp_header_len(const struct tern_udp_repr *r) {
    (void)r;
    return TERN_UDP_HDR_LEN;
}

tern_err tern_udp_emit(const struct tern_udp_repr *r, const tern_addr *src, const tern_addr *dst,
                       uint8_t *buf, size_t cap, size_t *written) {
    if ((src == NULL) != (dst == NULL)) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (src != NULL && (src->family != dst->family ||
                        (src->family != TERN_AF_INET && src->family != TERN_AF_INET6))) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (r->payload_len > UDP_MAX_LEN - TERN_UDP_HDR_LEN) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    size_t total = TERN_UDP_HDR_LEN + r->payload_len;
    if (cap < total) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    if (r->payload != NULL && r->payload_len > 0 && r->payload != buf + TERN_UDP_HDR_LEN) {
        memmove(buf + TERN_UDP_HDR_LEN, r->payload, r->payload_len);
    }
    tern_put_u16(buf, r->src_port);
    tern_put_u16(buf + 2, r->dst_port);
    tern_put_u16(buf + 4, (uint16_t)total);
    tern_put_u16(buf + 6, 0);
    if (src != NULL) {
        uint32_t s = tern_csum_pseudo(src, dst, TERN_IPPROTO_UDP, (uint32_t)total);
        uint16_t c = tern_csum_finish(tern_csum_add(s, buf, total));
        /* RFC 768: zero means "no checksum", so a computed zero goes out as
         * all ones (the same value in one's complement). */
        tern_put_u16(buf + 6, c == 0 ? 0xffff : c);
    }
    *written = total;
    return TERN_OK;
}

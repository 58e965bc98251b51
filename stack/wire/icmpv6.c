/* ICMPv6 messages, RFC 4443 (see wire/icmpv6.h). */
#include "wire/icmpv6.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv6.h"

bool tern_icmpv6_is_error(uint8_t type) {
    return type < 128;
}

bool tern_icmpv6_has_word(uint8_t type) {
    return (type >= TERN_ICMPV6_DEST_UNREACH && type <= TERN_ICMPV6_PARAM_PROBLEM) ||
           type == TERN_ICMPV6_ECHO_REQUEST || type == TERN_ICMPV6_ECHO_REPLY;
}

static size_t header_len(uint8_t type) {
    return tern_icmpv6_has_word(type) ? TERN_ICMPV6_ERR_HDR_LEN : TERN_ICMPV6_HDR_LEN;
}

tern_err tern_icmpv6_parse(const uint8_t *buf, size_t len, const tern_addr *src,
                           const tern_addr *dst, struct tern_icmpv6_repr *out) {
    if (len < TERN_ICMPV6_HDR_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    size_t hlen = header_len(buf[0]);
    if (len < hlen) {
        return TERN_ERR_TRUNCATED;
    }
    if (src && dst) {
        uint32_t sum = tern_csum_pseudo(src, dst, TERN_IPPROTO_ICMPV6, (uint32_t)len);
        if (tern_csum_finish(tern_csum_add(sum, buf, len)) != 0) {
            return TERN_ERR_BAD_CHECKSUM;
        }
    }
    out->type = buf[0];
    out->code = buf[1];
    out->checksum = tern_get_u16(buf + 2);
    out->word = hlen == TERN_ICMPV6_ERR_HDR_LEN ? tern_get_u32(buf + 4) : 0;
    out->echo_id = (uint16_t)(out->word >> 16);
    out->echo_seq = (uint16_t)out->word;
    out->payload = buf + hlen;
    out->payload_len = len - hlen;
    return TERN_OK;
}

tern_err tern_icmpv6_emit(const struct tern_icmpv6_repr *r, const tern_addr *src,
                          const tern_addr *dst, uint8_t *buf, size_t cap, size_t *written) {
    if (src->family != TERN_AF_INET6 || dst->family != TERN_AF_INET6) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    size_t hlen = header_len(r->type);
    if (r->payload_len > 65535 - hlen) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    size_t n = hlen + r->payload_len;
    if (cap < n) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    if (r->payload != NULL && r->payload_len > 0 && r->payload != buf + hlen) {
        memmove(buf + hlen, r->payload, r->payload_len);
    }
    buf[0] = r->type;
    buf[1] = r->code;
    tern_put_u16(buf + 2, 0);
    if (hlen == TERN_ICMPV6_ERR_HDR_LEN) {
        bool echo = r->type == TERN_ICMPV6_ECHO_REQUEST || r->type == TERN_ICMPV6_ECHO_REPLY;
        tern_put_u32(buf + 4, echo ? (uint32_t)r->echo_id << 16 | r->echo_seq : r->word);
    }
    uint32_t sum = tern_csum_pseudo(src, dst, TERN_IPPROTO_ICMPV6, (uint32_t)n);
    tern_put_u16(buf + 2, tern_csum_finish(tern_csum_add(sum, buf, n)));
    *written = n;
    return TERN_OK;
}

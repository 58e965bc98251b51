/* ICMP for IPv4, RFC 792 / RFC 1122 section 3.2.2 / RFC 1191 (see wire/icmpv4.h). */
#include "wire/icmpv4.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"

/* RFC 1122 section 3.2.2: the quote is the IP header plus 8 data bytes. */
#define MIN_QUOTE_LEN (20 + 8)

bool tern_icmpv4_is_error(uint8_t type) {
    switch (type) {
    case TERN_ICMPV4_DEST_UNREACH:
    case TERN_ICMPV4_SOURCE_QUENCH:
    case TERN_ICMPV4_REDIRECT:
    case TERN_ICMPV4_TIME_EXCEEDED:
    case TERN_ICMPV4_PARAM_PROBLEM:
        return true;
    default:
        return false;
    }
}

tern_err tern_icmpv4_parse(const uint8_t *buf, size_t len, struct tern_icmpv4_repr *out) {
    if (len < TERN_ICMPV4_HDR_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    if (tern_csum(buf, len) != 0) {
        return TERN_ERR_BAD_CHECKSUM;
    }
    memset(out, 0, sizeof *out);
    out->type = buf[0];
    out->code = buf[1];
    out->checksum = tern_get_u16(buf + 2);
    out->rest = tern_get_u32(buf + 4);
    out->payload = buf + TERN_ICMPV4_HDR_LEN;
    out->payload_len = len - TERN_ICMPV4_HDR_LEN;
    switch (out->type) {
    case TERN_ICMPV4_ECHO_REQUEST:
    case TERN_ICMPV4_ECHO_REPLY:
        out->echo_id = tern_get_u16(buf + 4);
        out->echo_seq = tern_get_u16(buf + 6);
        break;
    case TERN_ICMPV4_DEST_UNREACH:
        /* RFC 1191 section 4: the low 16 bits carry the next-hop MTU. */
        if (out->code == TERN_ICMPV4_UNREACH_FRAG_NEEDED) {
            out->next_hop_mtu = tern_get_u16(buf + 6);
        }
        break;
    case TERN_ICMPV4_PARAM_PROBLEM:
        out->pointer = buf[4];
        break;
    case TERN_ICMPV4_REDIRECT:
        out->gateway = tern_addr_v4_from_bytes(buf + 4);
        break;
    default:
        break;
    }
    if (tern_icmpv4_is_error(out->type) && out->payload_len < MIN_QUOTE_LEN) {
        return TERN_ERR_MALFORMED;
    }
    return TERN_OK;
}

size_t tern_icmpv4_header_len(const struct tern_icmpv4_repr *r) {
    (void)r;
    return TERN_ICMPV4_HDR_LEN;
}

tern_err tern_icmpv4_emit(const struct tern_icmpv4_repr *r, uint8_t *buf, size_t cap,
                          size_t *written) {
    if (r->type == TERN_ICMPV4_REDIRECT && r->gateway.family != TERN_AF_INET) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (cap < TERN_ICMPV4_HDR_LEN || cap - TERN_ICMPV4_HDR_LEN < r->payload_len) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    if (r->payload != NULL && r->payload_len > 0 && r->payload != buf + TERN_ICMPV4_HDR_LEN) {
        memmove(buf + TERN_ICMPV4_HDR_LEN, r->payload, r->payload_len);
    }
    buf[0] = r->type;
    buf[1] = r->code;
    tern_put_u16(buf + 2, 0);
    switch (r->type) {
    case TERN_ICMPV4_ECHO_REQUEST:
    case TERN_ICMPV4_ECHO_REPLY:
        tern_put_u16(buf + 4, r->echo_id);
        tern_put_u16(buf + 6, r->echo_seq);
        break;
    case TERN_ICMPV4_DEST_UNREACH:
        tern_put_u16(buf + 4, 0);
        tern_put_u16(buf + 6, r->code == TERN_ICMPV4_UNREACH_FRAG_NEEDED ? r->next_hop_mtu : 0);
        break;
    case TERN_ICMPV4_SOURCE_QUENCH:
    case TERN_ICMPV4_TIME_EXCEEDED:
        tern_put_u32(buf + 4, 0);
        break;
    case TERN_ICMPV4_PARAM_PROBLEM:
        tern_put_u32(buf + 4, (uint32_t)r->pointer << 24);
        break;
    case TERN_ICMPV4_REDIRECT:
        memcpy(buf + 4, r->gateway.bytes, 4);
        break;
    default:
        tern_put_u32(buf + 4, r->rest);
        break;
    }
    size_t total = TERN_ICMPV4_HDR_LEN + r->payload_len;
    tern_put_u16(buf + 2, tern_csum(buf, total));
    *written = total;
    return TERN_OK;
}

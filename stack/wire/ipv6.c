/* IPv6 headers and extension headers, RFC 8200 (see wire/ipv6.h). */
#include "wire/ipv6.h"

#include <string.h>

#include "wire/bytes.h"

static void parse_fixed(const uint8_t *buf, struct tern_ipv6_repr *out) {
    uint32_t w = tern_get_u32(buf);
    out->traffic_class = (uint8_t)(w >> 20);
    out->flow_label = w & 0xfffff;
    out->payload_len = tern_get_u16(buf + 4);
    out->next_header = buf[6];
    out->hop_limit = buf[7];
    out->src = tern_addr_v6_from_bytes(buf + 8);
    out->dst = tern_addr_v6_from_bytes(buf + 24);
    out->payload = buf + TERN_IPV6_HDR_LEN;
}

tern_err tern_ipv6_parse(const uint8_t *buf, size_t len, struct tern_ipv6_repr *out) {
    if (len < TERN_IPV6_HDR_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    if (buf[0] >> 4 != 6) {
        return TERN_ERR_UNSUPPORTED;
    }
    parse_fixed(buf, out);
    if (len - TERN_IPV6_HDR_LEN < out->payload_len) {
        return TERN_ERR_TRUNCATED;
    }
    return TERN_OK;
}

tern_err tern_ipv6_parse_quoted(const uint8_t *buf, size_t len, struct tern_ipv6_repr *out,
                                size_t *present) {
    if (len < TERN_IPV6_HDR_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    if (buf[0] >> 4 != 6) {
        return TERN_ERR_UNSUPPORTED;
    }
    parse_fixed(buf, out);
    size_t have = len - TERN_IPV6_HDR_LEN;
    *present = have < out->payload_len ? have : out->payload_len;
    return TERN_OK;
}

tern_err tern_ipv6_emit(const struct tern_ipv6_repr *r, size_t payload_len, uint8_t *buf,
                        size_t cap, size_t *written) {
    if (r->src.family != TERN_AF_INET6 || r->dst.family != TERN_AF_INET6 ||
        r->flow_label > 0xfffff) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (payload_len > TERN_IPV6_MAX_PAYLOAD) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    if (cap < TERN_IPV6_HDR_LEN + payload_len) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    if (r->payload != NULL && payload_len > 0 && r->payload != buf + TERN_IPV6_HDR_LEN) {
        memmove(buf + TERN_IPV6_HDR_LEN, r->payload, payload_len);
    }
    tern_put_u32(buf, (uint32_t)6 << 28 | (uint32_t)r->traffic_class << 20 | r->flow_label);
    tern_put_u16(buf + 4, (uint16_t)payload_len);
    buf[6] = r->next_header;
    buf[7] = r->hop_limit;
    memcpy(buf + 8, r->src.bytes, 16);
    memcpy(buf + 24, r->dst.bytes, 16);
    *written = TERN_IPV6_HDR_LEN + payload_len;
    return TERN_OK;
}

bool tern_ipv6_is_ext_header(uint8_t nh) {
    switch (nh) {
    case TERN_IPPROTO_HOPOPTS:
    case TERN_IPPROTO_ROUTING:
    case TERN_IPPROTO_FRAGMENT:
    case TERN_IPPROTO_DSTOPTS:
    case TERN_IPPROTO_AH:
        return true;
    default:
        return false;
    }
}

tern_err tern_ipv6_ext_parse(uint8_t type, const uint8_t *buf, size_t len,
                             struct tern_ipv6_ext *out) {
    if (!tern_ipv6_is_ext_header(type)) {
        return TERN_ERR_UNSUPPORTED;
    }
    if (len < 2) {
        return TERN_ERR_TRUNCATED;
    }
    size_t hlen;
    if (type == TERN_IPPROTO_FRAGMENT) {
        hlen = TERN_IPV6_FRAG_HDR_LEN;
    } else if (type == TERN_IPPROTO_AH) {
        hlen = ((size_t)buf[1] + 2) * 4; /* RFC 4302 section 2.2 */
    } else {
        hlen = ((size_t)buf[1] + 1) * 8; /* RFC 8200 section 4.3: 8-octet units, not counting the
                                            first 8 octets */
    }
    if (len < hlen) {
        return TERN_ERR_TRUNCATED;
    }
    out->type = type;
    out->next_header = buf[0];
    out->offset = 0;
    out->len = hlen;
    out->data = buf;
    return TERN_OK;
}

tern_err tern_ipv6_walk(uint8_t first, const uint8_t *buf, size_t len,
                        struct tern_ipv6_chain *out) {
    out->count = 0;
    out->upper = first;
    out->upper_offset = 0;
    out->nh_field_offset = 6;
    uint8_t nh = first;
    size_t off = 0;
    while (tern_ipv6_is_ext_header(nh)) {
        if (out->count >= TERN_IPV6_MAX_EXT_HEADERS) {
            return TERN_ERR_MALFORMED;
        }
        struct tern_ipv6_ext e;
        tern_err err = tern_ipv6_ext_parse(nh, buf + off, len - off, &e);
        if (err != TERN_OK) {
            return err;
        }
        e.offset = off;
        out->ext[out->count++] = e;
        out->nh_field_offset = TERN_IPV6_HDR_LEN + off; /* Next Header is the first byte */
        off += e.len;
        nh = e.next_header;
        out->upper = nh;
        out->upper_offset = off;
        /* A non-first fragment: what follows is data, not headers. */
        if (e.type == TERN_IPPROTO_FRAGMENT && (tern_get_u16(e.data + 2) & 0xfff8) != 0) {
            break;
        }
    }
    return TERN_OK;
}

tern_err tern_ipv6_opt_next(const uint8_t *hdr, size_t hdr_len, size_t *pos,
                            struct tern_ipv6_opt *out) {
    size_t p = *pos;
    if (p >= hdr_len) {
        return TERN_ERR_EMPTY;
    }
    out->type = hdr[p];
    out->offset = p;
    if (out->type == TERN_IPV6_OPT_PAD1) { /* RFC 8200 section 4.2: a single octet */
        out->len = 0;
        out->data = NULL;
        *pos = p + 1;
        return TERN_OK;
    }
    if (p + 2 > hdr_len) {
        return TERN_ERR_MALFORMED;
    }
    out->len = hdr[p + 1];
    if (p + 2 + out->len > hdr_len) {
        return TERN_ERR_MALFORMED;
    }
    out->data = hdr + p + 2;
    *pos = p + 2 + out->len;
    return TERN_OK;
}

tern_err tern_ipv6_frag_parse(const uint8_t *buf, size_t len, struct tern_ipv6_frag_repr *out) {
    if (len < TERN_IPV6_FRAG_HDR_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    uint16_t w = tern_get_u16(buf + 2);
    out->next_header = buf[0];
    out->reserved = buf[1];
    out->frag_offset = (uint16_t)(w & 0xfff8);
    out->res2 = (uint8_t)((w >> 1) & 3);
    out->more = (w & 1) != 0;
    out->ident = tern_get_u32(buf + 4);
    return TERN_OK;
}

tern_err tern_ipv6_frag_emit(const struct tern_ipv6_frag_repr *r, uint8_t *buf, size_t cap,
                             size_t *written) {
    if (r->frag_offset % 8) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (cap < TERN_IPV6_FRAG_HDR_LEN) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    buf[0] = r->next_header;
    buf[1] = 0;
    tern_put_u16(buf + 2, (uint16_t)(r->frag_offset | (r->more ? 1 : 0)));
    tern_put_u32(buf + 4, r->ident);
    *written = TERN_IPV6_FRAG_HDR_LEN;
    return TERN_OK;
}

tern_err tern_ipv6_rh_parse(const uint8_t *buf, size_t len, struct tern_ipv6_rh_repr *out) {
    if (len < 8 || len < ((size_t)buf[1] + 1) * 8) {
        return TERN_ERR_TRUNCATED;
    }
    out->next_header = buf[0];
    out->hdr_ext_len = buf[1];
    out->routing_type = buf[2];
    out->segments_left = buf[3];
    out->data = buf + 4;
    out->data_len = ((size_t)buf[1] + 1) * 8 - 4;
    return TERN_OK;
}

void tern_ipv6_mcast_mac(const tern_addr *group, uint8_t mac[6]) {
    mac[0] = 0x33;
    mac[1] = 0x33;
    memcpy(mac + 2, group->bytes + 12, 4);
}

tern_addr tern_ipv6_solicited_node(const tern_addr *addr) {
    uint8_t b[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 0};
    memcpy(b + 13, addr->bytes + 13, 3);
    return tern_addr_v6_from_bytes(b);
}

tern_addr tern_ipv6_link_local_from_mac(const uint8_t mac[6]) {
    uint8_t b[16] = {0xfe, 0x80};
    b[8] = (uint8_t)(mac[0] ^ 0x02);
    b[9] = mac[1];
    b[10] = mac[2];
    b[11] = 0xff;
    b[12] = 0xfe;
    b[13] = mac[3];
    b[14] = mac[4];
    b[15] = mac[5];
    return tern_addr_v6_from_bytes(b);
}

bool tern_ipv6_is_link_local(const tern_addr *a) {
    return a->family == TERN_AF_INET6 && a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}

uint8_t tern_ipv6_mcast_scope(const tern_addr *a) {
    if (a->family != TERN_AF_INET6 || a->bytes[0] != 0xff) {
        return 0;
    }
    return a->bytes[1] & 0x0f;
}

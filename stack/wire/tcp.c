/* TCP headers and options, RFC 9293 section 3.1 / RFC 7323 / RFC 2018 (see wire/tcp.h). */
#include "wire/tcp.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

#define TCP_MAX_LEN 65535

/* Record one well-formed option (kind, its bytes p[0..olen) including kind
 * and length). Known kinds with the wrong length are ignored (see tcp.h). */
static void take_option(struct tern_tcp_options *o, const uint8_t *p, size_t olen) {
    switch (p[0]) {
    case TERN_TCPOPT_MSS:
        if (olen == 4) {
            o->has_mss = true;
            o->mss = tern_get_u16(p + 2);
        }
        break;
    case TERN_TCPOPT_WSCALE:
        if (olen == 3) {
            o->has_wscale = true;
            o->wscale = p[2];
        }
        break;
    case TERN_TCPOPT_SACK_PERMITTED:
        if (olen == 2) {
            o->sack_permitted = true;
        }
        break;
    case TERN_TCPOPT_SACK:
        /* RFC 2018 section 3: length 2 + 8n; n is at most 4 in 40 bytes. */
        if (olen >= 10 && (olen - 2) % 8 == 0) {
            size_t n = (olen - 2) / 8;
            o->sack_count = (uint8_t)n;
            for (size_t i = 0; i < n; i++) {
                o->sack[i].left = tern_get_u32(p + 2 + 8 * i);
                o->sack[i].right = tern_get_u32(p + 6 + 8 * i);
            }
        }
        break;
    case TERN_TCPOPT_TIMESTAMPS:
        if (olen == 10) {
            o->has_timestamps = true;
            o->ts_val = tern_get_u32(p + 2);
            o->ts_ecr = tern_get_u32(p + 6);
        }
        break;
    default:
        break; /* RFC 9293 section 3.2: ignore options not implemented */
    }
}

/* Walk the option list p[0..len), len <= 40. Each step consumes at least one
 * byte, so the loop runs at most 40 times. */
static tern_err parse_options(const uint8_t *p, size_t len, struct tern_tcp_options *o) {
    memset(o, 0, sizeof *o);
    /* RFC 7323 Appendix A's layout, <NOP><NOP><Timestamps>, is the whole option list of nearly
     * every segment of a connection with timestamps: recognised in one compare (issue 19), with
     * the result the walk below gives for it. */
    const uint32_t appendix_a = (uint32_t)TERN_TCPOPT_NOP << 24 | (uint32_t)TERN_TCPOPT_NOP << 16 |
                                (uint32_t)TERN_TCPOPT_TIMESTAMPS << 8 | 10u;
    if (len == 12 && tern_get_u32(p) == appendix_a) {
        o->has_timestamps = true;
        o->ts_val = tern_get_u32(p + 4);
        o->ts_ecr = tern_get_u32(p + 8);
        return TERN_OK;
    }
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == TERN_TCPOPT_EOL) {
            break;
        }
        if (kind == TERN_TCPOPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len) {
            return TERN_ERR_MALFORMED; /* no room for the length byte */
        }
        size_t olen = p[i + 1];
        if (olen < 2 || olen > len - i) {
            return TERN_ERR_MALFORMED; /* RFC 9293 section 3.1: illegal length */
        }
        take_option(o, p + i, olen);
        i += olen;
    }
    return TERN_OK;
}

tern_err tern_tcp_parse(const uint8_t *buf, size_t len, const tern_addr *src, const tern_addr *dst,
                        struct tern_tcp_repr *out) {
    if (len < TERN_TCP_MIN_HDR_LEN) {
        return TERN_ERR_TRUNCATED;
    }
    size_t hlen = (size_t)(buf[12] >> 4) * 4;
    if (hlen < TERN_TCP_MIN_HDR_LEN) {
        return TERN_ERR_MALFORMED;
    }
    if (len < hlen) {
        return TERN_ERR_TRUNCATED;
    }
    /* The checksum first: a corrupted segment is discarded before anything
     * in it, options included, is believed. */
    if (src != NULL && dst != NULL) {
        if (len > TCP_MAX_LEN && src->family == TERN_AF_INET) {
            return TERN_ERR_MALFORMED;
        }
        uint32_t s = tern_csum_pseudo(src, dst, TERN_IPPROTO_TCP, (uint32_t)len);
        if (tern_csum_finish(tern_csum_add(s, buf, len)) != 0) {
            return TERN_ERR_BAD_CHECKSUM;
        }
    }
    tern_err err =
        parse_options(buf + TERN_TCP_MIN_HDR_LEN, hlen - TERN_TCP_MIN_HDR_LEN, &out->opt);
    if (err != TERN_OK) {
        return err;
    }
    out->src_port = tern_get_u16(buf);
    out->dst_port = tern_get_u16(buf + 2);
    out->seq = tern_get_u32(buf + 4);
    out->ack = tern_get_u32(buf + 8);
    out->header_len = (uint8_t)hlen;
    out->reserved = buf[12] & 0x0f;
    out->flags = buf[13];
    out->window = tern_get_u16(buf + 14);
    out->checksum = tern_get_u16(buf + 16);
    out->urgent = tern_get_u16(buf + 18);
    out->payload = buf + hlen;
    out->payload_len = len - hlen;
    return TERN_OK;
}

/* Bytes of the options other than SACK blocks, in the layout of tcp.h. */
static size_t base_options_len(const struct tern_tcp_options *o) {
    size_t n = 0;
    if (o->has_mss) {
        n += 4;
    }
    if (o->has_timestamps) {
        n += 12;
    } else if (o->sack_permitted) {
        n += 4;
    }
    if (o->has_wscale) {
        n += 4;
    }
    return n;
}

uint8_t tern_tcp_sack_blocks_fit(const struct tern_tcp_options *opt) {
    size_t room = (TERN_TCP_MAX_OPTIONS_LEN - base_options_len(opt) - 4) / 8;
    size_t n =
        opt->sack_count > TERN_TCP_MAX_SACK_BLOCKS ? TERN_TCP_MAX_SACK_BLOCKS : opt->sack_count;
    return (uint8_t)(n < room ? n : room);
}

size_t tern_tcp_options_len(const struct tern_tcp_options *opt) {
    size_t n = base_options_len(opt);
    uint8_t blocks = tern_tcp_sack_blocks_fit(opt);
    if (blocks) {
        n += 4 + 8 * (size_t)blocks;
    }
    return n;
}

size_t tern_tcp_header_len(const struct tern_tcp_repr *r) {
    return TERN_TCP_MIN_HDR_LEN + tern_tcp_options_len(&r->opt);
}

/* Write the options of o at p; returns the bytes written. */
static size_t emit_options(const struct tern_tcp_options *o, uint8_t *p) {
    size_t i = 0;
    if (o->has_mss) {
        p[i++] = TERN_TCPOPT_MSS;
        p[i++] = 4;
        tern_put_u16(p + i, o->mss);
        i += 2;
    }
    if (o->has_timestamps) {
        if (o->sack_permitted) {
            p[i++] = TERN_TCPOPT_SACK_PERMITTED;
            p[i++] = 2;
        } else {
            p[i++] = TERN_TCPOPT_NOP;
            p[i++] = TERN_TCPOPT_NOP;
        }
        p[i++] = TERN_TCPOPT_TIMESTAMPS;
        p[i++] = 10;
        tern_put_u32(p + i, o->ts_val);
        tern_put_u32(p + i + 4, o->ts_ecr);
        i += 8;
    } else if (o->sack_permitted) {
        p[i++] = TERN_TCPOPT_NOP;
        p[i++] = TERN_TCPOPT_NOP;
        p[i++] = TERN_TCPOPT_SACK_PERMITTED;
        p[i++] = 2;
    }
    if (o->has_wscale) {
        p[i++] = TERN_TCPOPT_NOP;
        p[i++] = TERN_TCPOPT_WSCALE;
        p[i++] = 3;
        p[i++] = o->wscale;
    }
    uint8_t blocks = tern_tcp_sack_blocks_fit(o);
    if (blocks) {
        p[i++] = TERN_TCPOPT_NOP;
        p[i++] = TERN_TCPOPT_NOP;
        p[i++] = TERN_TCPOPT_SACK;
        p[i++] = (uint8_t)(2 + 8 * blocks);
        for (uint8_t b = 0; b < blocks; b++) {
            tern_put_u32(p + i, o->sack[b].left);
            tern_put_u32(p + i + 4, o->sack[b].right);
            i += 8;
        }
    }
    return i;
}

/* The emit proper, once the pseudo-header's partial sum without its length is known. */
static tern_err emit(const struct tern_tcp_repr *r, uint32_t pseudo, uint8_t *buf, size_t cap,
                     size_t *written) {
    if (r->opt.sack_count > TERN_TCP_MAX_SACK_BLOCKS) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    size_t hlen = tern_tcp_header_len(r);
    if (r->payload_len > TCP_MAX_LEN - hlen) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    size_t total = hlen + r->payload_len;
    if (cap < total) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    if (r->payload != NULL && r->payload_len > 0 && r->payload != buf + hlen) {
        memmove(buf + hlen, r->payload, r->payload_len);
    }
    tern_put_u16(buf, r->src_port);
    tern_put_u16(buf + 2, r->dst_port);
    tern_put_u32(buf + 4, r->seq);
    tern_put_u32(buf + 8, r->ack);
    buf[12] = (uint8_t)((hlen / 4) << 4 | (r->reserved & 0x0f));
    buf[13] = r->flags;
    tern_put_u16(buf + 14, r->window);
    tern_put_u16(buf + 16, 0);
    tern_put_u16(buf + 18, r->urgent);
    emit_options(&r->opt, buf + TERN_TCP_MIN_HDR_LEN);
    /* total < 65536: the pseudo-header's length is one 16-bit word in either family's sum (the
     * IPv6 one's upper 16 bits are zero, RFC 8200 section 8.1). */
    uint32_t s = tern_csum_add_u16(pseudo, (uint16_t)total);
    if (r->payload == NULL && r->payload_summed) {
        /* The header's length is a multiple of 4: the payload starts at an even offset. */
        s = tern_csum_add_u16(tern_csum_add(s, buf, hlen), (uint16_t)r->payload_sum);
    } else {
        s = tern_csum_add(s, buf, total);
    }
    tern_put_u16(buf + 16, tern_csum_finish(s));
    *written = total;
    return TERN_OK;
}

tern_err tern_tcp_emit(const struct tern_tcp_repr *r, const tern_addr *src, const tern_addr *dst,
                       uint8_t *buf, size_t cap, size_t *written) {
    if (src == NULL || dst == NULL || src->family != dst->family ||
        (src->family != TERN_AF_INET && src->family != TERN_AF_INET6)) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    return emit(r, tern_csum_pseudo(src, dst, TERN_IPPROTO_TCP, 0), buf, cap, written);
}

tern_err tern_tcp_emit_pseudo(const struct tern_tcp_repr *r, uint32_t pseudo, uint8_t *buf,
                              size_t cap, size_t *written) {
    return emit(r, pseudo, buf, cap, written);
}

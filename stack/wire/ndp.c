/* Neighbor Discovery messages and options, RFC 4861 section 4 (see wire/ndp.h). */
#include "wire/ndp.h"

#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv6.h"

/* Bytes of the fixed part after the 4-byte ICMPv6 header, per type; 0 if not ND. */
static size_t fixed_len(uint8_t type) {
    switch (type) {
    case TERN_ICMPV6_RS:
        return 4;
    case TERN_ICMPV6_RA:
        return 12;
    case TERN_ICMPV6_NS:
    case TERN_ICMPV6_NA:
        return 20;
    case TERN_ICMPV6_REDIRECT:
        return 36;
    default:
        return 0;
    }
}

static tern_err parse_option(const uint8_t *o, size_t olen, struct tern_ndp_opts *opts) {
    switch (o[0]) {
    case TERN_NDP_OPT_SLL:
    case TERN_NDP_OPT_TLL:
        if (olen != 8) {
            return TERN_ERR_MALFORMED;
        }
        if (o[0] == TERN_NDP_OPT_SLL) {
            opts->has_sll = true;
            memcpy(opts->sll, o + 2, 6);
        } else {
            opts->has_tll = true;
            memcpy(opts->tll, o + 2, 6);
        }
        return TERN_OK;
    case TERN_NDP_OPT_MTU:
        if (olen != 8) {
            return TERN_ERR_MALFORMED;
        }
        opts->has_mtu = true;
        opts->mtu = tern_get_u32(o + 4);
        return TERN_OK;
    case TERN_NDP_OPT_PREFIX:
        if (olen != 32) { /* section 4.6.2: Length 4 */
            return TERN_ERR_MALFORMED;
        }
        if (opts->nprefix >= TERN_NDP_MAX_PREFIXES) {
            if (opts->prefixes_dropped < 255) {
                opts->prefixes_dropped++;
            }
            return TERN_OK;
        }
        {
            struct tern_ndp_prefix *p = &opts->prefix[opts->nprefix++];
            p->prefix_len = o[2];
            p->on_link = (o[3] & 0x80) != 0;
            p->autonomous = (o[3] & 0x40) != 0;
            p->valid_lifetime = tern_get_u32(o + 4);
            p->preferred_lifetime = tern_get_u32(o + 8);
            p->prefix = tern_addr_v6_from_bytes(o + 16);
        }
        return TERN_OK;
    case TERN_NDP_OPT_REDIRECTED:
        opts->redirected = o + 8;
        opts->redirected_len = olen - 8;
        return TERN_OK;
    default:
        /* Section 4.6: "Receivers MUST silently ignore any options they do not recognize and
         * continue processing the message." */
        if (opts->unknown < 0xffff) {
            opts->unknown++;
        }
        return TERN_OK;
    }
}

tern_err tern_ndp_parse(const struct tern_icmpv6_repr *icmp, struct tern_ndp_repr *out) {
    size_t fixed = fixed_len(icmp->type);
    if (fixed == 0) {
        return TERN_ERR_UNSUPPORTED;
    }
    const uint8_t *b = icmp->payload;
    size_t len = icmp->payload_len;
    if (len < fixed) {
        return TERN_ERR_TRUNCATED;
    }
    memset(out, 0, sizeof *out);
    out->type = icmp->type;
    out->code = icmp->code;
    switch (icmp->type) {
    case TERN_ICMPV6_RA:
        out->cur_hop_limit = b[0];
        out->managed = (b[1] & 0x80) != 0;
        out->other = (b[1] & 0x40) != 0;
        out->ra_flags = b[1];
        out->router_lifetime = tern_get_u16(b + 2);
        out->reachable_time = tern_get_u32(b + 4);
        out->retrans_timer = tern_get_u32(b + 8);
        break;
    case TERN_ICMPV6_NA:
        out->router = (b[0] & 0x80) != 0;
        out->solicited = (b[0] & 0x40) != 0;
        out->override = (b[0] & 0x20) != 0;
        out->target = tern_addr_v6_from_bytes(b + 4);
        break;
    case TERN_ICMPV6_NS:
        out->target = tern_addr_v6_from_bytes(b + 4);
        break;
    case TERN_ICMPV6_REDIRECT:
        out->target = tern_addr_v6_from_bytes(b + 4);
        out->dest = tern_addr_v6_from_bytes(b + 20);
        break;
    default:
        break;
    }
    /* Options: type, length in units of 8 octets, data. At most len / 8 of them. */
    for (size_t off = fixed; off < len;) {
        if (len - off < 2) {
            return TERN_ERR_MALFORMED;
        }
        size_t olen = (size_t)b[off + 1] * 8;
        if (olen == 0 || olen > len - off) {
            return TERN_ERR_MALFORMED;
        }
        tern_err err = parse_option(b + off, olen, &out->opts);
        if (err != TERN_OK) {
            return err;
        }
        off += olen;
    }
    return TERN_OK;
}

static size_t options_len(const struct tern_ndp_opts *o) {
    size_t n = 0;
    n += o->has_sll ? 8 : 0;
    n += o->has_tll ? 8 : 0;
    n += o->has_mtu ? 8 : 0;
    n += (size_t)o->nprefix * 32;
    if (o->redirected) {
        n += 8 + ((o->redirected_len + 7) & ~(size_t)7);
    }
    return n;
}

static uint8_t *put_lla(uint8_t *p, uint8_t type, const uint8_t mac[6]) {
    p[0] = type;
    p[1] = 1;
    memcpy(p + 2, mac, 6);
    return p + 8;
}

tern_err tern_ndp_emit(const struct tern_ndp_repr *r, const tern_addr *src, const tern_addr *dst,
                       uint8_t *buf, size_t cap, size_t *written) {
    size_t fixed = fixed_len(r->type);
    if (fixed == 0) {
        return TERN_ERR_UNSUPPORTED;
    }
    if (src->family != TERN_AF_INET6 || dst->family != TERN_AF_INET6) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    const struct tern_ndp_opts *o = &r->opts;
    if (o->nprefix > TERN_NDP_MAX_PREFIXES) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    size_t n = TERN_ICMPV6_HDR_LEN + fixed + options_len(o);
    if (n > 65535) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    if (cap < n) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    /* The redirected packet may sit in buf already: move it to its place first. */
    size_t red_at = n - (o->redirected ? 8 + ((o->redirected_len + 7) & ~(size_t)7) : 0);
    if (o->redirected) {
        memmove(buf + red_at + 8, o->redirected, o->redirected_len);
        size_t pad = ((o->redirected_len + 7) & ~(size_t)7) - o->redirected_len;
        memset(buf + red_at + 8 + o->redirected_len, 0, pad);
        buf[red_at] = TERN_NDP_OPT_REDIRECTED;
        buf[red_at + 1] = (uint8_t)((n - red_at) / 8);
        memset(buf + red_at + 2, 0, 6);
    }
    memset(buf, 0, red_at);
    buf[0] = r->type;
    buf[1] = r->code;
    uint8_t *b = buf + TERN_ICMPV6_HDR_LEN;
    switch (r->type) {
    case TERN_ICMPV6_RA:
        b[0] = r->cur_hop_limit;
        b[1] = (uint8_t)((r->ra_flags & 0x3f) | (r->managed ? 0x80 : 0) | (r->other ? 0x40 : 0));
        tern_put_u16(b + 2, r->router_lifetime);
        tern_put_u32(b + 4, r->reachable_time);
        tern_put_u32(b + 8, r->retrans_timer);
        break;
    case TERN_ICMPV6_NA:
        b[0] = (uint8_t)((r->router ? 0x80 : 0) | (r->solicited ? 0x40 : 0) |
                         (r->override ? 0x20 : 0));
        memcpy(b + 4, r->target.bytes, 16);
        break;
    case TERN_ICMPV6_NS:
        memcpy(b + 4, r->target.bytes, 16);
        break;
    case TERN_ICMPV6_REDIRECT:
        memcpy(b + 4, r->target.bytes, 16);
        memcpy(b + 20, r->dest.bytes, 16);
        break;
    default:
        break;
    }
    uint8_t *p = b + fixed;
    if (o->has_sll) {
        p = put_lla(p, TERN_NDP_OPT_SLL, o->sll);
    }
    if (o->has_tll) {
        p = put_lla(p, TERN_NDP_OPT_TLL, o->tll);
    }
    if (o->has_mtu) {
        p[0] = TERN_NDP_OPT_MTU;
        p[1] = 1;
        tern_put_u32(p + 4, o->mtu);
        p += 8;
    }
    for (uint8_t i = 0; i < o->nprefix; i++) {
        const struct tern_ndp_prefix *pf = &o->prefix[i];
        p[0] = TERN_NDP_OPT_PREFIX;
        p[1] = 4;
        p[2] = pf->prefix_len;
        p[3] = (uint8_t)((pf->on_link ? 0x80 : 0) | (pf->autonomous ? 0x40 : 0));
        tern_put_u32(p + 4, pf->valid_lifetime);
        tern_put_u32(p + 8, pf->preferred_lifetime);
        memcpy(p + 16, pf->prefix.bytes, 16);
        p += 32;
    }
    uint32_t sum = tern_csum_pseudo(src, dst, TERN_IPPROTO_ICMPV6, (uint32_t)n);
    tern_put_u16(buf + 2, tern_csum_finish(tern_csum_add(sum, buf, n)));
    *written = n;
    return TERN_OK;
}

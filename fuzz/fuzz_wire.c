/*
 * libFuzzer target for the wire layer (stack/wire/).
 *
 * Every parser runs on the input as it is, and the input also goes down the
 * chain a received frame takes (Ethernet -> ARP, IPv4 -> ICMP/UDP/TCP, IPv6
 * -> extension header chain and options -> ICMPv6 -> Neighbor Discovery /
 * UDP / TCP, and IPv4 -> the layers above directly). Whatever parses is emitted again and
 * the result re-parsed: it must parse, and to the same representation
 * (DESIGN.md section 3: parsing any byte string is safe and bounded; emit
 * and parse agree). Any disagreement aborts, so libFuzzer reports it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/icmpv4.h"
#include "wire/icmpv6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/ndp.h"
#include "wire/tcp.h"
#include "wire/udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Emit output: large enough for any 64 KiB datagram plus headers. */
static uint8_t out[65536 + 128];

static void same_payload(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    REQUIRE(alen == blen);
    REQUIRE(alen == 0 || memcmp(a, b, alen) == 0);
}

static void roundtrip_eth(const struct tern_eth_repr *r) {
    size_t w = 0;
    REQUIRE(tern_eth_emit(r, out, sizeof out, &w) == TERN_OK);
    REQUIRE(w == tern_eth_header_len(r) + r->payload_len);
    size_t w2;
    REQUIRE(tern_eth_emit(r, out, w - 1, &w2) == TERN_ERR_BUFFER_TOO_SMALL);
    struct tern_eth_repr p;
    REQUIRE(tern_eth_parse(out, w, &p) == TERN_OK);
    REQUIRE(tern_mac_eq(&p.dst, &r->dst) && tern_mac_eq(&p.src, &r->src));
    REQUIRE(p.ethertype == r->ethertype && p.has_vlan == r->has_vlan);
    REQUIRE(p.vlan_id == r->vlan_id && p.vlan_pcp == r->vlan_pcp && p.vlan_dei == r->vlan_dei);
    same_payload(p.payload, p.payload_len, r->payload, r->payload_len);
}

static void roundtrip_arp(const struct tern_arp_repr *r, const uint8_t *orig) {
    size_t w = 0, w2;
    REQUIRE(tern_arp_emit(r, out, sizeof out, &w) == TERN_OK);
    REQUIRE(w == TERN_ARP_LEN);
    REQUIRE(tern_arp_emit(r, out, w - 1, &w2) == TERN_ERR_BUFFER_TOO_SMALL);
    /* Every field of the accepted packet is represented: byte-exact. */
    REQUIRE(memcmp(out, orig, TERN_ARP_LEN) == 0);
    struct tern_arp_repr p;
    REQUIRE(tern_arp_parse(out, w, &p) == TERN_OK);
}

static void roundtrip_ipv4(const struct tern_ipv4_repr *r, const uint8_t *orig) {
    size_t w = 0, w2;
    REQUIRE(tern_ipv4_emit(r, out, sizeof out, &w) == TERN_OK);
    REQUIRE(w == r->total_len);
    REQUIRE(tern_ipv4_emit(r, out, w - 1, &w2) == TERN_ERR_BUFFER_TOO_SMALL);
    /* Byte-exact but for the checksum field, which may legitimately come
     * back as the other one's complement zero (0x0000 vs 0xffff). */
    REQUIRE(memcmp(out, orig, 10) == 0);
    REQUIRE(memcmp(out + 12, orig + 12, w - 12) == 0);
    struct tern_ipv4_repr p;
    REQUIRE(tern_ipv4_parse(out, w, &p) == TERN_OK);
    REQUIRE(p.header_len == r->header_len && p.total_len == r->total_len);
    REQUIRE(p.id == r->id && p.df == r->df && p.mf == r->mf &&
            p.flag_reserved == r->flag_reserved && p.frag_offset == r->frag_offset);
    REQUIRE(p.ttl == r->ttl && p.protocol == r->protocol && p.dscp == r->dscp && p.ecn == r->ecn);
    REQUIRE(tern_addr_eq(&p.src, &r->src) && tern_addr_eq(&p.dst, &r->dst));
}

static void roundtrip_icmpv4(const struct tern_icmpv4_repr *r) {
    size_t w = 0, w2;
    REQUIRE(tern_icmpv4_emit(r, out, sizeof out, &w) == TERN_OK);
    REQUIRE(w == TERN_ICMPV4_HDR_LEN + r->payload_len);
    REQUIRE(tern_icmpv4_emit(r, out, w - 1, &w2) == TERN_ERR_BUFFER_TOO_SMALL);
    struct tern_icmpv4_repr p;
    REQUIRE(tern_icmpv4_parse(out, w, &p) == TERN_OK);
    REQUIRE(p.type == r->type && p.code == r->code);
    REQUIRE(p.echo_id == r->echo_id && p.echo_seq == r->echo_seq);
    REQUIRE(p.next_hop_mtu == r->next_hop_mtu && p.pointer == r->pointer);
    REQUIRE(tern_addr_eq(&p.gateway, &r->gateway));
    same_payload(p.payload, p.payload_len, r->payload, r->payload_len);
}

static void roundtrip_udp(const struct tern_udp_repr *r, const tern_addr *src,
                          const tern_addr *dst) {
    size_t w = 0, w2;
    REQUIRE(tern_udp_emit(r, src, dst, out, sizeof out, &w) == TERN_OK);
    REQUIRE(w == r->length);
    REQUIRE(tern_udp_emit(r, src, dst, out, w - 1, &w2) == TERN_ERR_BUFFER_TOO_SMALL);
    struct tern_udp_repr p;
    REQUIRE(tern_udp_parse(out, w, src, dst, &p) == TERN_OK);
    REQUIRE(p.checksum != 0); /* always generated */
    REQUIRE(p.src_port == r->src_port && p.dst_port == r->dst_port && p.length == r->length);
    same_payload(p.payload, p.payload_len, r->payload, r->payload_len);
}

static void roundtrip_tcp(const struct tern_tcp_repr *r, const tern_addr *src,
                          const tern_addr *dst) {
    size_t w = 0, w2;
    if (tern_tcp_emit(r, src, dst, out, sizeof out, &w) != TERN_OK) {
        /* Only possible when canonical options outgrow the original's. */
        REQUIRE(tern_tcp_header_len(r) + r->payload_len > 65535);
        return;
    }
    REQUIRE(w == tern_tcp_header_len(r) + r->payload_len);
    REQUIRE(tern_tcp_emit(r, src, dst, out, w - 1, &w2) == TERN_ERR_BUFFER_TOO_SMALL);
    struct tern_tcp_repr p;
    REQUIRE(tern_tcp_parse(out, w, src, dst, &p) == TERN_OK);
    REQUIRE(p.src_port == r->src_port && p.dst_port == r->dst_port);
    REQUIRE(p.seq == r->seq && p.ack == r->ack && p.flags == r->flags);
    REQUIRE(p.reserved == r->reserved && p.window == r->window && p.urgent == r->urgent);
    const struct tern_tcp_options *a = &p.opt, *b = &r->opt;
    REQUIRE(a->has_mss == b->has_mss && (!a->has_mss || a->mss == b->mss));
    REQUIRE(a->has_wscale == b->has_wscale && (!a->has_wscale || a->wscale == b->wscale));
    REQUIRE(a->sack_permitted == b->sack_permitted);
    REQUIRE(a->has_timestamps == b->has_timestamps);
    REQUIRE(!a->has_timestamps || (a->ts_val == b->ts_val && a->ts_ecr == b->ts_ecr));
    /* SACK blocks that do not fit the canonical layout are dropped from the
     * end (wire/tcp.h); the rest come back in order. */
    REQUIRE(a->sack_count == tern_tcp_sack_blocks_fit(b));
    for (uint8_t i = 0; i < a->sack_count; i++) {
        REQUIRE(a->sack[i].left == b->sack[i].left && a->sack[i].right == b->sack[i].right);
    }
    same_payload(p.payload, p.payload_len, r->payload, r->payload_len);
}

/* The layers above IPv4, with the addresses given (or NULL: no checksum). */
static void upper(uint8_t protocol, const uint8_t *buf, size_t len, const tern_addr *src,
                  const tern_addr *dst) {
    /* Without addresses (checksum not verified) re-emit with fixed ones. */
    tern_addr fallback_src = tern_addr_v4(10, 0, 0, 1), fallback_dst = tern_addr_v4(10, 0, 0, 2);
    const tern_addr *esrc = src ? src : &fallback_src, *edst = dst ? dst : &fallback_dst;
    if (protocol == TERN_IPPROTO_ICMP) {
        struct tern_icmpv4_repr r;
        if (tern_icmpv4_parse(buf, len, &r) == TERN_OK) {
            roundtrip_icmpv4(&r);
            if (tern_icmpv4_is_error(r.type)) {
                struct tern_ipv4_repr q;
                if (tern_ipv4_parse_quoted(r.payload, r.payload_len, &q) == TERN_OK) {
                    REQUIRE(q.payload + q.payload_len <= r.payload + r.payload_len);
                }
            }
        }
    } else if (protocol == TERN_IPPROTO_UDP) {
        struct tern_udp_repr r;
        if (tern_udp_parse(buf, len, src, dst, &r) == TERN_OK) {
            REQUIRE(r.payload + r.payload_len <= buf + len);
            roundtrip_udp(&r, esrc, edst);
        }
    } else if (protocol == TERN_IPPROTO_TCP) {
        struct tern_tcp_repr r;
        if (tern_tcp_parse(buf, len, src, dst, &r) == TERN_OK) {
            REQUIRE(r.payload + r.payload_len == buf + len);
            roundtrip_tcp(&r, esrc, edst);
        }
    }
}

static void ipv4(const uint8_t *buf, size_t len) {
    struct tern_ipv4_repr r;
    if (tern_ipv4_parse(buf, len, &r) == TERN_OK) {
        REQUIRE(r.payload + r.payload_len <= buf + len);
        roundtrip_ipv4(&r, buf);
        upper(r.protocol, r.payload, r.payload_len, &r.src, &r.dst);
    }
    if (tern_ipv4_parse_quoted(buf, len, &r) == TERN_OK) {
        REQUIRE(r.payload + r.payload_len <= buf + len);
    }
}

static void roundtrip_icmpv6(const struct tern_icmpv6_repr *r, const tern_addr *src,
                             const tern_addr *dst) {
    size_t w = 0, w2;
    REQUIRE(tern_icmpv6_emit(r, src, dst, out, sizeof out, &w) == TERN_OK);
    REQUIRE(tern_icmpv6_emit(r, src, dst, out, w - 1, &w2) == TERN_ERR_BUFFER_TOO_SMALL);
    struct tern_icmpv6_repr p;
    REQUIRE(tern_icmpv6_parse(out, w, src, dst, &p) == TERN_OK);
    REQUIRE(p.type == r->type && p.code == r->code);
    if (tern_icmpv6_has_word(r->type)) {
        REQUIRE(p.word == r->word);
    }
    same_payload(p.payload, p.payload_len, r->payload, r->payload_len);
}

static void roundtrip_ndp(const struct tern_ndp_repr *r, const tern_addr *src,
                          const tern_addr *dst) {
    size_t w = 0, w2;
    /* The redirected packet may point into out: emit from a copy of it. */
    static uint8_t red[65536];
    struct tern_ndp_repr c = *r;
    if (c.opts.redirected) {
        memcpy(red, c.opts.redirected, c.opts.redirected_len);
        c.opts.redirected = red;
    }
    if (tern_ndp_emit(&c, src, dst, out, sizeof out, &w) != TERN_OK) {
        return;
    }
    REQUIRE(tern_ndp_emit(&c, src, dst, out, w - 1, &w2) == TERN_ERR_BUFFER_TOO_SMALL);
    struct tern_icmpv6_repr icmp;
    REQUIRE(tern_icmpv6_parse(out, w, src, dst, &icmp) == TERN_OK);
    struct tern_ndp_repr p;
    REQUIRE(tern_ndp_parse(&icmp, &p) == TERN_OK);
    REQUIRE(p.type == r->type && tern_addr_eq(&p.target, &r->target));
    REQUIRE(p.opts.has_sll == r->opts.has_sll && p.opts.has_tll == r->opts.has_tll);
    REQUIRE(p.opts.nprefix == r->opts.nprefix && p.opts.has_mtu == r->opts.has_mtu);
    REQUIRE(p.cur_hop_limit == r->cur_hop_limit && p.router_lifetime == r->router_lifetime);
    REQUIRE(p.solicited == r->solicited && p.override == r->override && p.router == r->router);
}

#include "fuzz_mld.h"

/* ICMPv6, and the ND message it may carry, between src and dst (NULL: no checksum). */
static void icmpv6(const uint8_t *buf, size_t len, const tern_addr *src, const tern_addr *dst) {
    tern_addr fs, fd;
    tern_addr_parse("fd00::1", &fs);
    tern_addr_parse("fd00::2", &fd);
    const tern_addr *esrc = src ? src : &fs, *edst = dst ? dst : &fd;
    struct tern_icmpv6_repr r;
    if (tern_icmpv6_parse(buf, len, src, dst, &r) != TERN_OK) {
        return;
    }
    REQUIRE(r.payload + r.payload_len == buf + len);
    roundtrip_icmpv6(&r, esrc, edst);
    fuzz_mld(buf, len, src, dst, esrc, edst);
    struct tern_ndp_repr nd;
    if (tern_ndp_parse(&r, &nd) == TERN_OK) {
        REQUIRE(nd.opts.nprefix <= TERN_NDP_MAX_PREFIXES);
        REQUIRE(!nd.opts.redirected ||
                nd.opts.redirected + nd.opts.redirected_len <= r.payload + r.payload_len);
        roundtrip_ndp(&nd, esrc, edst);
    }
    if (tern_icmpv6_is_error(r.type)) {
        struct tern_ipv6_repr q;
        size_t present;
        if (tern_ipv6_parse_quoted(r.payload, r.payload_len, &q, &present) == TERN_OK) {
            REQUIRE(q.payload + present <= r.payload + r.payload_len);
        }
    }
}

static void ipv6(const uint8_t *buf, size_t len) {
    struct tern_ipv6_repr r;
    if (tern_ipv6_parse(buf, len, &r) != TERN_OK) {
        return;
    }
    REQUIRE(r.payload + r.payload_len <= buf + len);
    size_t w = 0, w2;
    REQUIRE(tern_ipv6_emit(&r, r.payload_len, out, sizeof out, &w) == TERN_OK);
    REQUIRE(w == (size_t)TERN_IPV6_HDR_LEN + r.payload_len && memcmp(out, buf, w) == 0);
    REQUIRE(tern_ipv6_emit(&r, r.payload_len, out, w - 1, &w2) == TERN_ERR_BUFFER_TOO_SMALL);
    struct tern_ipv6_chain ch;
    tern_err e = tern_ipv6_walk(r.next_header, r.payload, r.payload_len, &ch);
    REQUIRE(ch.count <= TERN_IPV6_MAX_EXT_HEADERS);
    for (uint8_t i = 0; i < ch.count; i++) {
        const struct tern_ipv6_ext *x = &ch.ext[i];
        REQUIRE(x->data == r.payload + x->offset && x->offset + x->len <= r.payload_len);
        if (x->type == TERN_IPPROTO_HOPOPTS || x->type == TERN_IPPROTO_DSTOPTS) {
            size_t pos = 2, steps = 0;
            struct tern_ipv6_opt o;
            while (tern_ipv6_opt_next(x->data, x->len, &pos, &o) == TERN_OK) {
                REQUIRE(pos <= x->len && ++steps <= x->len);
            }
        } else if (x->type == TERN_IPPROTO_FRAGMENT) {
            struct tern_ipv6_frag_repr f;
            REQUIRE(tern_ipv6_frag_parse(x->data, x->len, &f) == TERN_OK);
            uint8_t fb[8];
            REQUIRE(tern_ipv6_frag_emit(&f, fb, sizeof fb, &w) == TERN_OK);
            REQUIRE(memcmp(fb, x->data, 8) == 0 || x->data[1] != 0 || (x->data[3] & 6) != 0);
        } else if (x->type == TERN_IPPROTO_ROUTING) {
            struct tern_ipv6_rh_repr rh;
            REQUIRE(tern_ipv6_rh_parse(x->data, x->len, &rh) == TERN_OK);
        }
    }
    if (e == TERN_OK && ch.upper_offset <= r.payload_len) {
        const uint8_t *l4 = r.payload + ch.upper_offset;
        size_t l4len = r.payload_len - ch.upper_offset;
        if (ch.upper == TERN_IPPROTO_ICMPV6) {
            icmpv6(l4, l4len, &r.src, &r.dst);
        } else {
            upper(ch.upper, l4, l4len, &r.src, &r.dst);
        }
    }
    size_t present;
    if (tern_ipv6_parse_quoted(buf, len, &r, &present) == TERN_OK) {
        REQUIRE(r.payload + present <= buf + len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Each parser on the raw input. */
    struct tern_arp_repr arp;
    if (tern_arp_parse(data, size, &arp) == TERN_OK) {
        roundtrip_arp(&arp, data);
    }
    ipv4(data, size);
    ipv6(data, size);
    icmpv6(data, size, NULL, NULL);
    upper(TERN_IPPROTO_ICMP, data, size, NULL, NULL);
    upper(TERN_IPPROTO_UDP, data, size, NULL, NULL);
    upper(TERN_IPPROTO_TCP, data, size, NULL, NULL);
    tern_addr a1 = tern_addr_v4(10, 0, 0, 1), a2 = tern_addr_v4(10, 0, 0, 2);
    upper(TERN_IPPROTO_UDP, data, size, &a1, &a2);
    upper(TERN_IPPROTO_TCP, data, size, &a1, &a2);

    /* The receive chain of a frame. */
    struct tern_eth_repr eth;
    if (tern_eth_parse(data, size, &eth) == TERN_OK) {
        REQUIRE(eth.payload + eth.payload_len == data + size);
        roundtrip_eth(&eth);
        if (eth.ethertype == TERN_ETHERTYPE_ARP &&
            tern_arp_parse(eth.payload, eth.payload_len, &arp) == TERN_OK) {
            roundtrip_arp(&arp, eth.payload);
        } else if (eth.ethertype == TERN_ETHERTYPE_IPV4) {
            ipv4(eth.payload, eth.payload_len);
        } else if (eth.ethertype == TERN_ETHERTYPE_IPV6) {
            ipv6(eth.payload, eth.payload_len);
        }
    }
    return 0;
}

/*
 * IPv6 (RFC 8200): input checks, the extension header chain processed in
 * order (section 4), delivery to the upper layer; output with the Neighbor
 * Discovery next hop and fragmentation at the source (section 4.5); the
 * loopback of packets to ourselves; the layer's memory and timers.
 */
#include <string.h>

#include "ipv4/ipv4.h"
#include "ipv6_state.h"
#include "tcp/tcp_private.h"
#include "udp/udp.h"
#include "wire/ethernet.h"

#define ALIGN16(x) (((x) + 15) & ~(size_t)15)

/* ---- memory, poll -------------------------------------------------------------- */

static size_t nd_bytes(const tern_stack_config *cfg) {
    return ALIGN16((size_t)cfg->nd_entries * sizeof(tern_nd_entry));
}

size_t tern_ipv6_memory_size(const tern_stack_config *cfg) {
    return ALIGN16(sizeof(tern_ipv6_module)) + nd_bytes(cfg) + tern_reasm6_memory_size(cfg);
}

void tern_ipv6_init(tern_stack *st, uint8_t *mem) {
    tern_ipv6_module *m = (tern_ipv6_module *)mem;
    st->ip6 = m;
    /* A stream of its own: IPv6 never shifts the draws of ISNs, ports or IPv4 ids. */
    tern_rng_seed(&m->rng, st->cfg.seed, 6);
    m->nd = (tern_nd_entry *)(mem + ALIGN16(sizeof(tern_ipv6_module)));
    tern_pktq_init(&m->nd_waiting, st->cfg.nd_queue);
    tern_reasm6_init(st, mem + ALIGN16(sizeof(tern_ipv6_module)) + nd_bytes(&st->cfg));
    /* RFC 4443 section 2.4 (f): the bucket starts full. */
    m->icmp_tokens_ns = (uint64_t)st->cfg.icmp_burst * (1000000000ull / st->cfg.icmp_rate);
    for (uint32_t i = 0; i < st->niface; i++) {
        tern_nd_iface *n = &m->nd_if[i];
        /* RFC 4861 section 6.3.2: the host variables' defaults. */
        n->cur_hop_limit = st->cfg.ttl;
        n->link_mtu = 0; /* the interface MTU */
        n->base_reachable_ns = TERN_ND_REACHABLE_TIME_NS;
        n->retrans_ns = TERN_ND_RETRANS_TIMER_NS;
        tern_nd_new_reachable_time(st, i);
        /* RFC 4291 section 2.1: "All interfaces are required to have at least one Link-Local
         * unicast address"; formed from the MAC (RFC 4291 appendix A, RFC 2464 section 5).
         * It comes first in the table, before the configured addresses. */
        tern_iface *f = &st->iface[i];
        tern_addr ll = tern_ipv6_link_local_from_mac(f->mac);
        memmove(&f->addr6[1], &f->addr6[0], f->naddrs6 * sizeof f->addr6[0]);
        memset(&f->addr6[0], 0, sizeof f->addr6[0]);
        f->addr6[0].addr = ll;
        f->addr6[0].prefix_len = 64;
        f->addr6[0].origin = TERN_ADDR6_LINK_LOCAL;
        f->addr6[0].preferred_until = TERN_NEVER;
        f->addr6[0].valid_until = TERN_NEVER;
        f->naddrs6++;
    }
    tern_ac_init(st); /* DAD, SLAAC, MLD, Router Solicitations (ipv6/autoconf.c) */
}

void tern_ipv6_poll(tern_stack *st, uint64_t now) {
    tern_nd_poll(st, now);
    tern_reasm6_poll(st, now);
    tern_ac_poll(st, now);
}

void tern_ipv6_poll_not_quiet(tern_stack *st, uint64_t now) {
    tern_nd_poll(st, now);
    tern_reasm6_poll(st, now);
    st->ip6->ac_now = now; /* what tern_ac_poll would have set */
}

uint64_t tern_ipv6_autoconf_poll_at(const tern_stack *st) {
    return tern_ac_poll_at(st);
}

/* ---- output ------------------------------------------------------------------------- */

/* The unfragmentable part's extension headers of a packet we built: hop-by-hop only. */
static size_t unfrag_ext_len(const uint8_t *ip, size_t len) {
    if (ip[6] != TERN_IPPROTO_HOPOPTS || len < TERN_IPV6_HDR_LEN + 2) {
        return 0;
    }
    return ((size_t)ip[TERN_IPV6_HDR_LEN + 1] + 1) * 8;
}

/*
 * RFC 8200 section 4.5: "The Per-Fragment headers must consist of the IPv6 header plus any
 * extension headers that must be processed by nodes en route to the destination" (for what we
 * send, the hop-by-hop header if any); each fragment carries them, a Fragment header, and "Each
 * complete fragment, except possibly the last ("rightmost") one, is an integer multiple of 8
 * octets long."
 */
static tern_err fragment(tern_stack *st, uint32_t iface, const uint8_t mac[6], const uint8_t *ip,
                         size_t len, uint32_t mtu) {
    size_t ext = unfrag_ext_len(ip, len);
    size_t unfrag = TERN_IPV6_HDR_LEN + ext;
    size_t nh_field = ext ? TERN_IPV6_HDR_LEN : 6;
    if (mtu < unfrag + TERN_IPV6_FRAG_HDR_LEN + 8) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    size_t room = (mtu - unfrag - TERN_IPV6_FRAG_HDR_LEN) & ~(size_t)7;
    const uint8_t *data = ip + unfrag;
    size_t dlen = len - unfrag;
    /* RFC 7739 section 5: identifications hard to predict: from the seeded generator. */
    uint32_t ident = (uint32_t)tern_rng_next(&st->ip6->rng);
    for (size_t off = 0; off < dlen;) {
        size_t chunk = dlen - off < room ? dlen - off : room;
        uint8_t *out = st->tx2 + TERN_ETH_HDR;
        memcpy(out, ip, unfrag);
        out[nh_field] = TERN_IPPROTO_FRAGMENT;
        struct tern_ipv6_frag_repr fr = {.next_header = ip[nh_field],
                                         .frag_offset = (uint16_t)off,
                                         .more = off + chunk < dlen,
                                         .ident = ident};
        size_t w;
        tern_ipv6_frag_emit(&fr, out + unfrag, TERN_IPV6_FRAG_HDR_LEN, &w);
        memcpy(out + unfrag + TERN_IPV6_FRAG_HDR_LEN, data + off, chunk);
        size_t plen = ext + TERN_IPV6_FRAG_HDR_LEN + chunk;
        out[4] = (uint8_t)(plen >> 8);
        out[5] = (uint8_t)plen;
        st->c.ip6_out++;
        st->c.ip6_fragments_out++;
        tern_eth_output(st, iface, mac, TERN_ETHERTYPE_IPV6, out, TERN_IPV6_HDR_LEN + plen);
        off += chunk;
    }
    return TERN_OK;
}

/* Send a whole packet (ip, len: header and all; TERN_TX_HEADROOM - 40 bytes of headroom before it)
 * to next_hop out of iface. */
static tern_err output_packet(tern_stack *st, uint64_t now, uint32_t iface,
                              const tern_addr *next_hop, uint8_t *ip, size_t len, uint32_t mtu,
                              bool dontfrag) {
    if (len > mtu && dontfrag) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    uint8_t mac[6];
    tern_addr src = tern_addr_v6_from_bytes(ip + 8);
    tern_err err = tern_nd_resolve(st, now, iface, next_hop, &src, mac);
    if (err == TERN_ERR_WOULD_BLOCK) {
        return tern_nd_hold(st, now, iface, next_hop, ip, len);
    }
    if (err != TERN_OK) {
        return err;
    }
    if (len <= mtu) {
        st->c.ip6_out++;
        tern_eth_output(st, iface, mac, TERN_ETHERTYPE_IPV6, ip, len);
        return TERN_OK;
    }
    return fragment(st, iface, mac, ip, len, mtu);
}

tern_err tern_ipv6_output(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *next_hop,
                          uint8_t *ip, size_t len, uint32_t mtu) {
    return output_packet(st, now, iface, next_hop, ip, len, mtu, true);
}

void tern_ipv6_output_resolved(tern_stack *st, uint64_t now, uint32_t iface,
                               const tern_addr *next_hop, uint8_t *ip, size_t len) {
    struct tern_ipv6_repr h;
    if (tern_ipv6_parse(ip, len, &h) != TERN_OK) {
        return; /* we built it */
    }
    uint32_t mtu =
        st->ip6->nd_if[iface].link_mtu ? st->ip6->nd_if[iface].link_mtu : st->iface[iface].mtu;
    output_packet(st, now, iface, next_hop, ip, len, tern_ipv6_path_mtu(st, now, &h.dst, mtu),
                  false);
}

tern_err tern_ipv6_send(tern_stack *st, uint64_t now, const tern_ip6_tx *tx, size_t payload_len) {
    if (!tern_addr_is_v6(&tx->dst) || tx->hbh_len % 8 || tx->hbh_len > 16 ||
        (tx->hbh_len && !tx->hbh)) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "ipv6 send: destination must be IPv6, hop-by-hop header 0, 8 or 16 bytes");
    }
    if (payload_len + tx->hbh_len > TERN_IPV6_MAX_PAYLOAD) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    tern_route_result rr;
    if (tern_ipv6_route_lookup(st, &tx->dst, &tx->src, tx->oif, &rr) != TERN_OK) {
        st->c.ip6_no_route++;
        return TERN_ERR_NO_ROUTE;
    }
    if (st->ip6->ac[rr.iface].disabled) {
        /* RFC 4862 section 5.4.5: "not send any IP packets from the interface". */
        st->c.ip6_iface_disabled++;
        return TERN_ERR_NO_ROUTE;
    }
    if (tx->unspecified_src) {
        memset(rr.src.bytes, 0, 16);
        rr.src.family = TERN_AF_INET6;
    }
    uint8_t *p = st->txp; /* tern_ip_tx_payload or tern_ip_tx_frame */
    uint8_t nh = tx->next_header;
    if (tx->hbh_len) {
        p -= tx->hbh_len;
        memcpy(p, tx->hbh, tx->hbh_len);
        p[0] = nh;
        p[1] = (uint8_t)(tx->hbh_len / 8 - 1);
        nh = TERN_IPPROTO_HOPOPTS;
    }
    struct tern_ipv6_repr h;
    memset(&h, 0, sizeof h);
    h.traffic_class = tx->traffic_class;
    h.next_header = nh;
    /* RFC 4861 section 6.3.2 CurHopLimit for unicast; RFC 3493 section 5.2: multicast defaults to 1
     * hop. */
    h.hop_limit = tx->hop_limit                      ? tx->hop_limit
                  : tern_addr_is_multicast(&tx->dst) ? 1
                                                     : st->ip6->nd_if[rr.iface].cur_hop_limit;
    h.src = rr.src;
    h.dst = tx->dst;
    h.payload = NULL; /* in place */
    uint8_t *ip = p - TERN_IPV6_HDR_LEN;
    size_t len;
    if (tern_ipv6_emit(&h, payload_len + tx->hbh_len, ip,
                       TERN_IPV6_HDR_LEN + payload_len + tx->hbh_len, &len) != TERN_OK) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (tern_ipv6_is_local(st, &tx->dst, NULL)) {
        /* To ourselves: delivered on the next poll, never re-entering input now. */
        tern_pkt_meta meta;
        memset(&meta, 0, sizeof meta);
        meta.time = now;
        st->c.ip6_out++;
        return tern_pktq_push(st, &st->loopback, &meta, ip, len, NULL, 0);
    }
    uint32_t mtu = tern_ipv6_path_mtu(st, now, &tx->dst, rr.mtu);
    return output_packet(st, now, rr.iface, &rr.next_hop, ip, len, mtu, tx->dontfrag);
}

/* ---- input -------------------------------------------------------------------------- */

static void receive(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *buf, size_t len,
                    bool link_mcast, bool from_link, bool reassembled);

void tern_ipv6_input(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *buf, size_t len,
                     bool link_multicast) {
    if (iface < st->niface && st->ip6->ac[iface].disabled) {
        /* RFC 4862 section 5.4.5: IP operation disabled after a duplicate MAC-derived link-local
         * address: "silently drop any IP packets received on the interface". */
        st->c.ip6_iface_disabled++;
        return;
    }
    receive(st, now, iface, buf, len, link_multicast, true, false);
}

void tern_ipv6_loopback_input(tern_stack *st, uint64_t now, const uint8_t *buf, size_t len) {
    uint32_t iface = 0;
    if (len >= TERN_IPV6_HDR_LEN) {
        tern_addr dst = tern_addr_v6_from_bytes(buf + 24);
        tern_ipv6_is_local(st, &dst, &iface);
    }
    st->c.ip6_loopback_in++;
    receive(st, now, iface, buf, len, false, false, false);
}

const uint8_t *tern_ipv6_current_packet(const tern_stack *st, size_t *len, bool *link_multicast) {
    if (!st->ip6->rx_pkt) {
        return NULL;
    }
    *len = st->ip6->rx_len;
    *link_multicast = st->ip6->rx_mcast;
    return st->ip6->rx_pkt;
}

/* A Parameter Problem about pkt, pointing at byte `ptr` of it (RFC 4443 section 3.4). */
static void param_problem(tern_stack *st, uint64_t now, uint8_t code, size_t ptr,
                          const uint8_t *pkt, size_t len, bool link_mcast) {
    tern_icmpv6_send_error(st, now, TERN_ICMPV6_PARAM_PROBLEM, code, (uint32_t)ptr, pkt, len,
                           link_mcast);
}

/*
 * The options of a hop-by-hop or destination options header at pkt + off
 * (RFC 8200 section 4.2). Returns false when the packet is to be discarded
 * (after the Parameter Problem the option's type asks for).
 */
static bool process_options(tern_stack *st, uint64_t now, const uint8_t *pkt, size_t len,
                            size_t off, size_t hlen, bool link_mcast) {
    const uint8_t *hdr = pkt + off;
    size_t pos = 2;
    struct tern_ipv6_opt o;
    for (;;) {
        tern_err err = tern_ipv6_opt_next(hdr, hlen, &pos, &o);
        if (err == TERN_ERR_EMPTY) {
            return true;
        }
        if (err != TERN_OK) {
            st->c.ip6_option_malformed++;
            return false;
        }
        if (o.type == TERN_IPV6_OPT_PAD1 || o.type == TERN_IPV6_OPT_PADN ||
            (o.type == TERN_IPV6_OPT_ROUTER_ALERT && o.len == 2)) {
            continue; /* known: padding; Router Alert (RFC 2711) asks nothing of a host */
        }
        switch (TERN_IPV6_OPT_ACTION(o.type)) {
        case TERN_IPV6_OPT_SKIP:
            continue; /* "00 - skip over this option and continue processing the header." */
        case TERN_IPV6_OPT_DISCARD:
            st->c.ip6_option_discard++;
            return false;
        default:
            /* 10 and 11: Parameter Problem code 2 pointing at the option type; the 11 case and the
             * multicast exception are decided by tern_icmpv6_send_error from the type's bits. */
            st->c.ip6_option_discard++;
            param_problem(st, now, TERN_ICMPV6_PARAM_OPTION, off + o.offset, pkt, len, link_mcast);
            return false;
        }
    }
}

/* Is the upper-layer header at the end of the chain all there? (RFC 7112 section 5) */
static bool upper_header_complete(uint8_t upper, size_t have) {
    switch (upper) {
    case TERN_IPPROTO_TCP:
        return have >= 20;
    case TERN_IPPROTO_UDP:
        return have >= 8;
    case TERN_IPPROTO_ICMPV6:
        return have >= 4;
    default:
        return true; /* No Next Header, or a protocol whose header we do not know */
    }
}

static void deliver(tern_stack *st, uint64_t now, uint32_t iface, const struct tern_ipv6_repr *ip,
                    uint8_t nh, const uint8_t *pkt, size_t len, size_t off, bool link_mcast) {
    st->c.ip6_delivered++;
    tern_ipv6_module *m = st->ip6;
    m->rx_pkt = pkt;
    m->rx_len = len;
    m->rx_mcast = link_mcast;
    /* The family-neutral view the upper layers take (core/stack_internal.h). */
    bool mcast = link_mcast || tern_addr_is_multicast(&ip->dst);
    const tern_ip_rx v = {.src = ip->src,
                          .dst = ip->dst,
                          .payload = pkt + off,
                          .payload_len = len - off,
                          .ttl = ip->hop_limit,
                          .protocol = nh,
                          .iface = iface,
                          .link_broadcast = mcast,
                          .v6_pkt = pkt,
                          .v6_pkt_len = len};
    switch (nh) {
    case TERN_IPPROTO_ICMPV6:
        tern_icmpv6_input(st, now, iface, ip, pkt + off, len - off, link_mcast);
        break;
    case TERN_IPPROTO_UDP:
        tern_udp_input(st, now, &v);
        break;
    case TERN_IPPROTO_TCP:
        if (!mcast) { /* TCP is unicast only (RFC 9293 section 3.9.1) */
            tern_tcp_input(st, now, &v, iface);
        }
        break;
    default:
        break;
    }
    m->rx_pkt = NULL;
}

/* Walk and process the chain of pkt[0..len) (the fixed header checked), then deliver. */
static void process(tern_stack *st, uint64_t now, uint32_t iface, const struct tern_ipv6_repr *ip,
                    const uint8_t *pkt, size_t len, bool link_mcast, bool reassembled) {
    uint8_t nh = ip->next_header;
    size_t off = TERN_IPV6_HDR_LEN;
    size_t nh_field = 6;
    for (unsigned count = 0;; count++) {
        if (count > TERN_IPV6_MAX_EXT_HEADERS) {
            st->c.ip6_ext_too_long++; /* bounded work per packet (DESIGN.md section 7) */
            return;
        }
        struct tern_ipv6_ext e;
        switch (nh) {
        case TERN_IPPROTO_HOPOPTS:
            /* RFC 8200 section 4: a Next Header of zero anywhere but in the IPv6 header is
             * treated as an unrecognised Next Header. */
            if (off != TERN_IPV6_HDR_LEN) {
                st->c.ip6_unknown_next_header++;
                param_problem(st, now, TERN_ICMPV6_PARAM_NEXT_HEADER, nh_field, pkt, len,
                              link_mcast);
                return;
            }
            /* fall through */
        case TERN_IPPROTO_DSTOPTS:
            if (tern_ipv6_ext_parse(nh, pkt + off, len - off, &e) != TERN_OK) {
                st->c.ip6_ext_truncated++;
                return;
            }
            if (!process_options(st, now, pkt, len, off, e.len, link_mcast)) {
                return;
            }
            break;
        case TERN_IPPROTO_ROUTING: {
            struct tern_ipv6_rh_repr rh;
            if (tern_ipv6_ext_parse(nh, pkt + off, len - off, &e) != TERN_OK ||
                tern_ipv6_rh_parse(pkt + off, e.len, &rh) != TERN_OK) {
                st->c.ip6_ext_truncated++;
                return;
            }
            if (rh.segments_left != 0) {
                /* RFC 8200 section 4.4, and RFC 5095 section 3 for type 0: a host routes nothing
                 * on: Parameter Problem code 0 at the Routing Type. */
                st->c.ip6_rh_refused++;
                param_problem(st, now, TERN_ICMPV6_PARAM_HEADER, off + 2, pkt, len, link_mcast);
                return;
            }
            break; /* segments left 0: "ignore the Routing header and proceed" */
        }
        case TERN_IPPROTO_FRAGMENT: {
            struct tern_ipv6_frag_repr fr;
            if (tern_ipv6_ext_parse(nh, pkt + off, len - off, &e) != TERN_OK ||
                tern_ipv6_frag_parse(pkt + off, e.len, &fr) != TERN_OK) {
                st->c.ip6_ext_truncated++;
                return;
            }
            if (fr.frag_offset == 0 && !fr.more) {
                /* RFC 8200 section 4.5 (from RFC 6946): "If the fragment is a whole datagram
                 * (that is, both the Fragment Offset field and the M flag are zero), then it does
                 * not need any further reassembly and should be processed as a fully reassembled
                 * packet". Any pending reassembly with the same identification is untouched. */
                st->c.ip6_atomic_fragments++;
                break;
            }
            if (reassembled) {
                st->c.ip6_reasm_dropped++; /* a fragment inside a fragment */
                return;
            }
            st->c.ip6_fragments_in++;
            size_t data_off = off + TERN_IPV6_FRAG_HDR_LEN;
            size_t dlen = len - data_off;
            /* RFC 8200 section 4.5: M set and a length not a multiple of 8: Parameter Problem
             * code 0 at the Payload Length. */
            if (fr.more && dlen % 8 != 0) {
                st->c.ip6_frag_bad_length++;
                param_problem(st, now, TERN_ICMPV6_PARAM_HEADER, 4, pkt, len, link_mcast);
                return;
            }
            /* ... and one that would make the reassembled payload exceed 65,535 octets: at the
             * Fragment Offset. */
            if ((off - TERN_IPV6_HDR_LEN) + (size_t)fr.frag_offset + dlen > TERN_IPV6_MAX_PAYLOAD) {
                st->c.ip6_frag_bad_length++;
                param_problem(st, now, TERN_ICMPV6_PARAM_HEADER, off + 2, pkt, len, link_mcast);
                return;
            }
            if (fr.frag_offset == 0) {
                /* RFC 8200 section 4.5 (from RFC 7112): "If the first fragment does not include
                 * all headers through an Upper-Layer header, then that fragment should be
                 * discarded and an ICMP Parameter Problem, Code 3, message should be sent to the
                 * source of the fragment, with the Pointer field set to zero." */
                struct tern_ipv6_chain ch;
                tern_err w = tern_ipv6_walk(fr.next_header, pkt + data_off, dlen, &ch);
                if (w != TERN_OK || !upper_header_complete(ch.upper, dlen - ch.upper_offset)) {
                    st->c.ip6_first_frag_incomplete++;
                    param_problem(st, now, TERN_ICMPV6_PARAM_FIRST_FRAG_CHAIN, 0, pkt, len,
                                  link_mcast);
                    return;
                }
            }
            const uint8_t *whole;
            size_t wlen;
            uint32_t slot;
            if (tern_reasm6_input(st, now, iface, pkt, len, off, nh_field, &whole, &wlen, &slot)) {
                st->c.ip6_reassembled++;
                receive(st, now, iface, whole, wlen, link_mcast, false, true);
                tern_reasm6_release(st, slot);
            }
            return;
        }
        case TERN_IPPROTO_NONE:
            st->c.ip6_no_next_header++; /* RFC 8200 section 4.7: nothing follows */
            return;
        case TERN_IPPROTO_ICMPV6:
        case TERN_IPPROTO_TCP:
        case TERN_IPPROTO_UDP:
            deliver(st, now, iface, ip, nh, pkt, len, off, link_mcast);
            return;
        default:
            /* RFC 8200 section 4: unrecognised Next Header: Parameter Problem code 1 pointing at
             * it (ESP and AH included: this host implements neither). */
            st->c.ip6_unknown_next_header++;
            param_problem(st, now, TERN_ICMPV6_PARAM_NEXT_HEADER, nh_field, pkt, len, link_mcast);
            return;
        }
        nh_field = off;
        nh = e.next_header;
        off += e.len;
    }
}

static bool is_loopback(const tern_addr *a) {
    static const uint8_t lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return memcmp(a->bytes, lo, 16) == 0;
}

static void receive(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *buf, size_t len,
                    bool link_mcast, bool from_link, bool reassembled) {
    if (!reassembled) {
        st->c.ip6_in++;
    }
    st->ip6->rx_iface = iface;
    struct tern_ipv6_repr ip;
    tern_err err = tern_ipv6_parse(buf, len, &ip);
    if (err == TERN_ERR_UNSUPPORTED) {
        st->c.ip6_bad_version++;
        return;
    }
    if (err != TERN_OK) {
        st->c.ip6_truncated++;
        return;
    }
    len = TERN_IPV6_HDR_LEN + ip.payload_len; /* what follows is link padding */
    if (from_link) {
        /* RFC 4291 section 2.7: "Multicast addresses must not be used as source addresses in
         * IPv6 packets"; section 2.5.3: "The loopback address must not be used as the source
         * address in IPv6 packets that are sent outside of a single node." and "A packet received
         * on an interface with a destination address of loopback must be dropped."; section
         * 2.5.2: "The unspecified address must not be used as the destination address of IPv6
         * packets". */
        if (tern_addr_is_multicast(&ip.src) || is_loopback(&ip.src)) {
            st->c.ip6_bad_src++;
            return;
        }
        if (is_loopback(&ip.dst) || tern_addr_is_unspecified(&ip.dst)) {
            st->c.ip6_bad_dst++;
            return;
        }
        /* One of our own (assigned) addresses coming back from a link is a spoof, the "land"
         * attack: RFC 9293 section 3.9.2.3, "An incoming SYN with an invalid source address MUST
         * be ignored either by TCP or by the IP layer (MUST-63)". What we send ourselves never
         * crosses a link (tern_ipv6_send loops it back). Tentative addresses are not ours yet:
         * DAD must still hear a defender that uses one (RFC 4862 section 5.4.4). */
        if (tern_ipv6_is_local(st, &ip.src, NULL)) {
            st->c.ip6_bad_src++;
            return;
        }
    }
    bool ours = tern_addr_is_multicast(&ip.dst) ? tern_ipv6_is_member(st, iface, &ip.dst)
                                                : tern_ipv6_is_local(st, &ip.dst, NULL);
    if (!ours) {
        if (st->cfg.forwarding && from_link && !reassembled) {
            tern_ipv6_forward(st, now, iface, &ip, buf, len, link_mcast); /* forward6.c */
        } else {
            st->c.ip6_not_for_us++;
        }
        return;
    }
    process(st, now, iface, &ip, buf, len, link_mcast, reassembled);
}

/*
 * IPv4 (RFC 791, RFC 1122 §3.3, RFC 1812 for forwarding): input checks and
 * local delivery, output with routing and fragmentation, forwarding with TTL
 * and path-MTU signalling, and the loopback of datagrams to ourselves.
 */
#include <string.h>

#include "ipv4.h"
#include "ipv6/ipv6.h"
#include "wire/igmp.h"
#include "tcp/tcp_private.h"
#include "udp/udp.h"
#include "core/stack_internal.h"
#include "wire/ethernet.h"
#include "wire/icmpv4.h"
#include "wire/ipv4.h"

/*
 * Options to repeat in every fragment after the first: those with the copy
 * flag set (RFC 791 §3.1 "copied flag"). Writes them into out (4-byte
 * padded) and returns the length.
 */
static size_t copied_options(const uint8_t *opt, size_t len, uint8_t *out) {
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint8_t type = opt[i];
        if (type == 0) { /* end of option list */
            break;
        }
        if (type == 1) { /* no-operation */
            i++;
            continue;
        }
        if (i + 1 >= len || opt[i + 1] < 2 || i + opt[i + 1] > len) {
            break; /* malformed: copy nothing more */
        }
        uint8_t olen = opt[i + 1];
        if (type & 0x80) {
            memcpy(out + n, opt + i, olen);
            n += olen;
        }
        i += olen;
    }
    while (n % 4) {
        out[n++] = 0;
    }
    return n;
}

/*
 * Send one IP datagram given as header fields + payload: resolve the next hop
 * first, then send it whole or in fragments (built in tx2). A datagram whose
 * next hop is not resolved yet is held whole, before fragmentation, so that
 * one large datagram takes one place in the ARP queue. `payload` must have
 * TERN_TX_HEADROOM + options bytes of room in front.
 */
static tern_err output_datagram(tern_stack *st, uint64_t now, const tern_route_result *rr,
                                const struct tern_ipv4_repr *hdr, uint8_t *payload, size_t len) {
    size_t hlen = TERN_IPV4_MIN_HDR_LEN + hdr->options_len;
    if (hlen + len > rr->mtu && hdr->df) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    uint8_t mac[6];
    tern_err err = tern_arp_resolve(st, now, rr->iface, &rr->next_hop, mac);
    if (err != TERN_OK) {
        uint8_t *ip = payload - hlen;
        struct tern_ipv4_repr r = *hdr;
        r.payload = NULL; /* in place */
        r.payload_len = len;
        size_t w;
        if (tern_ipv4_emit(&r, ip, hlen + len, &w) != TERN_OK) {
            return TERN_ERR_MALFORMED;
        }
        return tern_arp_hold(st, now, rr->iface, &rr->next_hop, ip, w);
    }
    if (hlen + len <= rr->mtu) {
        uint8_t *ip = payload - hlen;
        struct tern_ipv4_repr r = *hdr;
        r.payload = NULL; /* in place */
        r.payload_len = len;
        size_t w;
        if (tern_ipv4_emit(&r, ip, hlen + len, &w) != TERN_OK) {
            return TERN_ERR_MALFORMED;
        }
        st->hc.ip_out++;
        tern_eth_output(st, rr->iface, mac, TERN_ETHERTYPE_IPV4, ip, w);
        return TERN_OK;
    }
    /* RFC 791 §3.2 fragmentation: every fragment but the last carries a
     * multiple of 8 data bytes; the first keeps all options, the others only
     * the copied ones. */
    uint8_t later_opts[40];
    size_t later_opts_len = copied_options(hdr->options, hdr->options_len, later_opts);
    size_t off = 0;
    bool first = true;
    while (off < len) {
        size_t ohl = TERN_IPV4_MIN_HDR_LEN + (first ? hdr->options_len : later_opts_len);
        size_t room = (rr->mtu - ohl) & ~(size_t)7;
        if (room == 0) {
            return TERN_ERR_MSG_TOO_LONG;
        }
        size_t chunk = len - off < room ? len - off : room;
        struct tern_ipv4_repr f = *hdr;
        if (!first) {
            f.options = later_opts_len ? later_opts : NULL;
            f.options_len = later_opts_len;
        }
        f.frag_offset = (uint16_t)(hdr->frag_offset + off);
        f.mf = hdr->mf || off + chunk < len;
        f.payload = payload + off;
        f.payload_len = chunk;
        uint8_t *ip = st->tx2 + TERN_ETH_HDR;
        size_t w;
        if (tern_ipv4_emit(&f, ip, sizeof st->tx2 - TERN_ETH_HDR, &w) != TERN_OK) {
            return TERN_ERR_MALFORMED;
        }
        st->hc.ip_out++;
        st->c.ip_fragments_out++;
        tern_eth_output(st, rr->iface, mac, TERN_ETHERTYPE_IPV4, ip, w);
        off += chunk;
        first = false;
    }
    return TERN_OK;
}

void tern_ipv4_output_resolved(tern_stack *st, uint64_t now, uint32_t iface,
                               const tern_addr *next_hop, uint8_t *ip, size_t len) {
    struct tern_ipv4_repr h;
    if (tern_ipv4_parse(ip, len, &h) != TERN_OK) {
        return; /* we built it: cannot happen */
    }
    tern_route_result rr;
    memset(&rr, 0, sizeof rr);
    rr.iface = iface;
    rr.next_hop = *next_hop;
    rr.mtu = st->iface[iface].mtu;
    uint8_t *payload = (uint8_t *)h.payload;
    h.payload = NULL;
    output_datagram(st, now, &rr, &h, payload, h.payload_len);
}

tern_err tern_ip_send(tern_stack *st, uint64_t now, const tern_ip_tx *tx, size_t payload_len) {
    if (tern_addr_is_v6(&tx->dst)) {
        /* Family-neutral callers (TCP, UDP): an IPv6 destination goes to IPv6 output. */
        tern_ip6_tx t6;
        memset(&t6, 0, sizeof t6);
        t6.src = tx->src;
        t6.dst = tx->dst;
        t6.next_header = tx->protocol;
        t6.hop_limit = tx->ttl;
        t6.traffic_class = (uint8_t)(tx->dscp << 2);
        t6.dontfrag = tx->df;
        return tern_ipv6_send(st, now, &t6, payload_len);
    }
    if (payload_len > TERN_IP_PAYLOAD_MAX) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    tern_route_result rr;
    if (tx->route != NULL) {
        rr = tx->route->rr; /* the sender's cached route (TCP: tern_route_cached) */
    } else if (tern_route_lookup(st, &tx->dst, &tx->src, &rr) != TERN_OK) {
        st->c.ip_no_route++;
        return TERN_ERR_NO_ROUTE;
    }
    if (tx->mcast_oif && tx->mcast_oif <= st->niface && tern_addr_is_multicast(&tx->dst)) {
        /* RFC 1112 section 6.1: "for hosts that may be attached to more than one network, the
         * service interface should provide a way for the upper-layer protocol to identify the
         * network interface to be used for the multicast transmission." The group is the next
         * hop on that interface (section 6.2). */
        rr.iface = tx->mcast_oif - 1;
        rr.next_hop = tx->dst;
        rr.mtu = st->iface[rr.iface].mtu;
        rr.broadcast = false;
    }
    struct tern_ipv4_repr h;
    memset(&h, 0, sizeof h);
    h.dscp = tx->dscp;
    h.id = st->ip_id++;
    h.df = tx->df;
    h.ttl = tx->ttl ? tx->ttl : st->cfg.ttl;
    h.protocol = tx->protocol;
    h.src = rr.src;
    h.dst = tx->dst;
    if (tx->options_len) {
        h.options = tx->options;
        h.options_len = tx->options_len;
    }
    uint8_t *payload = st->txp; /* tern_ip_tx_payload or tern_ip_tx_frame */
    if (tx->route != NULL ? tx->route->local : tern_is_local_addr(st, &tx->dst, NULL)) {
        /* To ourselves: delivered on the next poll, never re-entering input now. */
        struct tern_ipv4_repr r = h;
        r.payload = NULL; /* in place */
        r.payload_len = payload_len;
        size_t hlen = TERN_IPV4_MIN_HDR_LEN + h.options_len;
        uint8_t *ip = payload - hlen;
        size_t w;
        if (tern_ipv4_emit(&r, ip, hlen + payload_len, &w) != TERN_OK) {
            return TERN_ERR_MALFORMED;
        }
        tern_pkt_meta meta;
        memset(&meta, 0, sizeof meta);
        meta.time = now;
        st->hc.ip_out++;
        return tern_pktq_push(st, &st->loopback, &meta, ip, w, NULL, 0);
    }
    return output_datagram(st, now, &rr, &h, payload, payload_len);
}

static void receive(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *buf, size_t len,
                    bool link_broadcast, bool from_link);

void tern_ipv4_poll(tern_stack *st, uint64_t now) {
    /* Deliver what we sent to ourselves, from a buffer of its own: replies
     * are built in tx and fragments in tx2 while the datagram is read.
     * Bounded (DESIGN.md §7): only datagrams queued before this poll, and at
     * most TERN_POLL_LOOPBACK_MAX of them. What a delivery sends to ourselves
     * in turn waits for the next poll (tern_stack_poll_at then says "now"),
     * so two ends of a connection to ourselves that answer each other for
     * ever show up as polls at one instant, where the simulator's livelock
     * guard sees them, instead of one call that never returns. */
    uint32_t n =
        st->loopback.count < TERN_POLL_LOOPBACK_MAX ? st->loopback.count : TERN_POLL_LOOPBACK_MAX;
    for (uint32_t i = 0; i < n && st->loopback.count; i++) {
        size_t len = tern_pktq_pop(st, &st->loopback, st->loop_rx, sizeof st->loop_rx);
        if (len && st->loop_rx[0] >> 4 == 6) {
            tern_ipv6_loopback_input(st, now, st->loop_rx, len);
            continue;
        }
        uint32_t iface = 0;
        struct tern_ipv4_repr ip;
        if (tern_ipv4_parse(st->loop_rx, len, &ip) == TERN_OK) {
            tern_is_local_addr(st, &ip.dst, &iface);
        }
        st->c.ip_loopback_in++;
        if (st->cfg.loopback_tap != NULL) {
            st->cfg.loopback_tap(st->cfg.loopback_ctx, now, st->loop_rx, len);
        }
        receive(st, now, iface, st->loop_rx, len, false, false);
    }
}

/* ---- input --------------------------------------------------------------------- */

/*
 * `unicast`: the receive path found ip->dst to be one of our unicast addresses, neither a
 * broadcast on iface nor multicast (TCP then need not ask again).
 */
static void deliver(tern_stack *st, uint64_t now, const struct tern_ipv4_repr *ip,
                    const uint8_t *hdr, uint32_t iface, bool link_broadcast, bool unicast) {
    st->hc.ip_delivered++;
    const tern_ip_rx rx = {.src = ip->src,
                           .dst = ip->dst,
                           .payload = ip->payload,
                           .payload_len = ip->payload_len,
                           .ttl = ip->ttl,
                           .protocol = ip->protocol,
                           .iface = iface,
                           .link_broadcast = link_broadcast,
                           .v4 = ip,
                           .v4_hdr = hdr};
    switch (ip->protocol) {
    case TERN_IPPROTO_ICMP:
        tern_icmp_input(st, now, ip, hdr, link_broadcast);
        break;
    case TERN_IPPROTO_UDP:
        tern_udp_input(st, now, &rx);
        break;
    case TERN_IPPROTO_IGMP:
        tern_igmp_input(st, now, iface, ip);
        break;
    case TERN_IPPROTO_TCP:
        /* TCP is unicast only (RFC 9293 §3.9.1). */
        if (!link_broadcast && (unicast || (!tern_is_broadcast_addr(st, &ip->dst, iface) &&
                                            !tern_addr_is_multicast(&ip->dst)))) {
            tern_tcp_input(st, now, &rx, iface);
        }
        break;
    default:
        /* RFC 1122 §3.2.2.1: protocol unreachable. */
        st->c.ip_unknown_protocol++;
        tern_icmp_send_error(st, now, TERN_ICMPV4_DEST_UNREACH, TERN_ICMPV4_UNREACH_PROTOCOL, 0, ip,
                             hdr, link_broadcast);
        break;
    }
}

static void forward(tern_stack *st, uint64_t now, const struct tern_ipv4_repr *ip,
                    const uint8_t *hdr, bool link_broadcast) {
    /* RFC 1812 §5.3.1: a router does not forward link-layer broadcasts. */
    if (link_broadcast) {
        st->c.ip_not_for_us++;
        return;
    }
    /* RFC 1812 §5.3.1: TTL expires in transit: time exceeded. */
    if (ip->ttl <= 1) {
        st->c.ip_ttl_exceeded++;
        tern_icmp_send_error(st, now, TERN_ICMPV4_TIME_EXCEEDED, TERN_ICMPV4_EXCEEDED_TTL, 0, ip,
                             hdr, false);
        return;
    }
    tern_route_result rr;
    if (tern_route_lookup(st, &ip->dst, NULL, &rr) != TERN_OK) {
        st->c.ip_no_route++;
        tern_icmp_send_error(st, now, TERN_ICMPV4_DEST_UNREACH, TERN_ICMPV4_UNREACH_NET, 0, ip, hdr,
                             false);
        return;
    }
    size_t total = ip->header_len + ip->payload_len;
    if (total > rr.mtu && ip->df) {
        /* RFC 1191 §4: fragmentation needed, with the next-hop MTU. */
        st->c.ip_frag_needed++;
        tern_icmp_send_error(st, now, TERN_ICMPV4_DEST_UNREACH, TERN_ICMPV4_UNREACH_FRAG_NEEDED,
                             (uint16_t)rr.mtu, ip, hdr, false);
        return;
    }
    st->c.ip_forwarded++;
    struct tern_ipv4_repr h = *ip;
    h.ttl = (uint8_t)(ip->ttl - 1);
    /* The payload moves into the transmit buffer, headers are rebuilt in front. */
    uint8_t *payload = tern_ip_tx_payload(st) + 40; /* room for up to 60 header bytes */
    memmove(payload, ip->payload, ip->payload_len);
    h.payload = NULL;
    if (output_datagram(st, now, &rr, &h, payload, ip->payload_len) == TERN_ERR_MSG_TOO_LONG) {
        st->c.ip_frag_needed++;
    }
}

/*
 * Is `src`, the source of a datagram that arrived from a link, one no host
 * may send from? RFC 1122 §3.2.1.3: "A host MUST silently discard an
 * incoming datagram containing an IP source address that is invalid by the
 * rules of this section." The forms it names:
 *   (a) { 0, 0 } "This host on this network.  MUST NOT be sent, except as a
 *       source address as part of an initialization procedure by which the
 *       host learns its own IP address."  (b) { 0, <Host-number> } likewise;
 *   (c) { -1, -1 } and (d), (e) directed broadcasts: "It MUST NOT be used as
 *       a source address.";
 *   (g) { 127, <any> } "Internal host loopback address.  Addresses of this
 *       form MUST NOT appear outside a host."
 * RFC 1122 §3.2.2 names the rest of a source that "does not define a single
 * host -- e.g., a zero address, a loopback address, a broadcast address, a
 * multicast address, or a Class E address." And one of our own addresses
 * coming back from a link is a spoof (the "land" attack: RFC 9293 §3.9.2.3,
 * "An incoming SYN with an invalid source address MUST be ignored either by
 * TCP or by the IP layer (MUST-63)"); what we send ourselves never crosses a
 * link (tern_ip_send loops it back), so no genuine datagram is lost.
 *
 * The one exception is 0.0.0.0 as the source of a UDP datagram to the
 * limited broadcast: RFC 2131 §4.1, "DHCP messages broadcast by a client
 * prior to that client obtaining its IP address must have the source address
 * field in the IP header set to 0", and a DHCP server on this host must hear
 * them. (Linux accepts 0.0.0.0 towards the limited broadcast for any protocol.)
 */
static bool martian_source(const tern_stack *st, const struct tern_ipv4_repr *ip) {
    const tern_addr *src = &ip->src;
    uint8_t first = src->bytes[0];
    if (first == 0) {
        return !(tern_addr_is_unspecified(src) && tern_addr_is_limited_broadcast(&ip->dst) &&
                 ip->protocol == TERN_IPPROTO_UDP);
    }
    if (first == 127 || first >= 224) { /* loopback; multicast (224/4) and class E (240/4) */
        return true;
    }
    if (tern_is_local_addr(st, src, NULL)) {
        return true;
    }
    for (uint32_t i = 0; i < st->niface; i++) {
        if (tern_is_broadcast_addr(st, src, i)) { /* a directed broadcast of one of our subnets */
            return true;
        }
    }
    return false;
}

/* An IPv4 address's four bytes as one word (a cache key: byte order does not matter). */
static uint32_t addr_word(const tern_addr *a) {
    uint32_t w;
    memcpy(&w, a->bytes, 4);
    return w;
}

/*
 * Does st->rx_addr hold the verdict for this datagram from a link: a lawful unicast source and
 * one of our unicast addresses as destination (see tern_rx_addr_cache)? One TCP or UDP flow
 * sends datagram after datagram with the same addresses; the checks then cost four compares
 * instead of a scan of every interface address for each of martian_source, tern_is_local_addr
 * and tern_is_broadcast_addr.
 */
static bool rx_addr_known(const tern_stack *st, uint32_t iface, const struct tern_ipv4_repr *ip) {
    const tern_rx_addr_cache *c = &st->rx_addr;
    bool hit = c->gen == st->route_gen && c->iface == iface && c->src == addr_word(&ip->src) &&
               c->dst == addr_word(&ip->dst);
#ifdef TERN_POLL_CACHE_CHECK
    /* Test builds: a verdict the slow checks no longer give is a bug (an address change without
     * tern_route_changed); stop at once, in the test that found it. */
    if (hit && (ip->src.bytes[0] == 0 || martian_source(st, ip) ||
                !tern_is_local_addr(st, &ip->dst, NULL) ||
                tern_is_broadcast_addr(st, &ip->dst, iface) || tern_addr_is_multicast(&ip->dst))) {
        __builtin_trap();
    }
#endif
    return hit;
}

/* Keep the verdict of the slow checks for the next datagram of the flow. */
static void rx_addr_keep(tern_stack *st, uint32_t iface, const struct tern_ipv4_repr *ip) {
    st->rx_addr = (tern_rx_addr_cache){.gen = st->route_gen,
                                       .iface = iface,
                                       .src = addr_word(&ip->src),
                                       .dst = addr_word(&ip->dst)};
}

void tern_ipv4_input(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *buf, size_t len,
                     bool link_broadcast) {
    receive(st, now, iface, buf, len, link_broadcast, true);
}

/* A datagram from a link (from_link) or looped back to ourselves. */
static void receive(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *buf, size_t len,
                    bool link_broadcast, bool from_link) {
    st->hc.ip_in++;
    struct tern_ipv4_repr ip;
    tern_err err = tern_ipv4_parse(buf, len, &ip);
    switch (err) {
    case TERN_OK:
        break;
    case TERN_ERR_TRUNCATED:
        st->c.ip_truncated++;
        return;
    case TERN_ERR_BAD_CHECKSUM:
        st->c.ip_bad_checksum++;
        return;
    case TERN_ERR_UNSUPPORTED:
        st->c.ip_bad_version++;
        return;
    default:
        st->c.ip_malformed++;
        return;
    }
    if (ip.options_len) {
        st->c.ip_options++; /* parsed for length only, then ignored (RFC 1122 §3.2.1.8 allows) */
    }
    bool unicast = from_link && rx_addr_known(st, iface, &ip);
    if (!unicast) {
        if (from_link && martian_source(st, &ip)) {
            st->c.ip_martian_src++; /* RFC 1122 §3.2.1.3: silently discarded */
            return;
        }
        bool mine = tern_is_local_addr(st, &ip.dst, NULL);
        bool bcast = tern_is_broadcast_addr(st, &ip.dst, iface);
        bool multicast = tern_addr_is_multicast(&ip.dst);
        /* the groups joined on this interface, and all-hosts: every host belongs to
           224.0.0.1 (RFC 1112 §4) */
        if (!mine && !bcast && !(multicast && tern_igmp_is_member(st, iface, &ip.dst))) {
            if (st->cfg.forwarding) {
                forward(st, now, &ip, buf, link_broadcast);
            } else {
                st->c.ip_not_for_us++;
            }
            return;
        }
        unicast = mine && !bcast && !multicast;
        /* A source 0.x is lawful only for some datagrams (martian_source): never kept. */
        if (unicast && from_link && ip.src.bytes[0] != 0) {
            rx_addr_keep(st, iface, &ip);
        }
    }
    /* MF or a fragment offset (ip.mf || ip.frag_offset), read from the header: the parse has
     * just stored those fields apart, and one wide load of them stalls (no store forwarding). */
    if ((((uint32_t)buf[6] << 8 | buf[7]) & 0x3fff) != 0) {
        st->c.ip_fragments_in++;
        struct tern_ipv4_repr whole;
        const uint8_t *hdr;
        uint32_t slot;
        if (tern_reasm_input(st, now, &ip, buf, iface, &whole, &hdr, &slot)) {
            st->c.ip_reassembled++;
            deliver(st, now, &whole, hdr, iface, link_broadcast, unicast);
            tern_reasm_release(st, slot);
        }
        return;
    }
    deliver(st, now, &ip, buf, iface, link_broadcast, unicast);
}

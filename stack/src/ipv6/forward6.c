/*
 * IPv6 forwarding (a stack with tern_stack_config.forwarding): a packet from
 * a link addressed to nobody here is routed on, as RFC 8200 and RFC 4443 ask
 * of a router. Routers do not fragment (RFC 8200 section 5: "fragmentation
 * is performed only by source nodes, not by routers along a packet's
 * delivery path"), so a packet larger than the next link's MTU gets a
 * Packet Too Big; the Hop Limit is decremented and a packet whose Hop Limit
 * would reach zero gets a Time Exceeded; no route gets a Destination
 * Unreachable. The ICMPv6 errors go through tern_icmpv6_send_error, with its
 * rate limit (RFC 4443 section 2.4 (f)). Redirects are not sent.
 */
#include <string.h>

#include "ipv6/ipv6.h"
#include "ipv6/ipv6_state.h"

void tern_ipv6_forward(tern_stack *st, uint64_t now, uint32_t iface,
                       const struct tern_ipv6_repr *ip, const uint8_t *buf, size_t len,
                       bool link_mcast) {
    /* RFC 4291 section 2.5.6: "Routers must not forward any packets with Link-Local source or
     * destination addresses to other links." Multicast routing is not done. */
    if (link_mcast || tern_addr_is_multicast(&ip->dst) || tern_ipv6_is_link_local(&ip->dst) ||
        tern_addr_is_unspecified(&ip->src)) {
        st->c.ip6_not_for_us++;
        return;
    }
    if (tern_ipv6_is_link_local(&ip->src)) {
        /* RFC 4443 section 3.1: code 2, "beyond scope of source address", when "the destination
         * is beyond the scope of the source address". */
        st->c.ip6_fwd_unreachable++;
        tern_icmpv6_send_error(st, now, TERN_ICMPV6_DEST_UNREACH, TERN_ICMPV6_UNREACH_BEYOND_SCOPE,
                               0, buf, len, link_mcast);
        return;
    }
    /* RFC 4443 section 3.3: "If a router receives a packet with a Hop Limit of zero, or if a
     * router decrements a packet's Hop Limit to zero, it MUST discard the packet and originate an
     * ICMPv6 Time Exceeded message with Code 0 to the source of the packet." */
    if (ip->hop_limit <= 1) {
        st->c.ip6_hop_limit_exceeded++;
        tern_icmpv6_send_error(st, now, TERN_ICMPV6_TIME_EXCEEDED, TERN_ICMPV6_EXCEEDED_HOP_LIMIT,
                               0, buf, len, link_mcast);
        return;
    }
    tern_addr any;
    memset(&any, 0, sizeof any);
    any.family = TERN_AF_INET6;
    tern_route_result rr;
    if (tern_ipv6_route_lookup(st, &ip->dst, &any, 0, &rr) != TERN_OK) {
        /* Section 3.1: "Code 0 ... if the destination is not in the router's routing table". */
        st->c.ip6_no_route++;
        st->c.ip6_fwd_unreachable++;
        tern_icmpv6_send_error(st, now, TERN_ICMPV6_DEST_UNREACH, TERN_ICMPV6_UNREACH_NO_ROUTE, 0,
                               buf, len, link_mcast);
        return;
    }
    uint32_t mtu = st->ip6->nd_if[rr.iface].link_mtu ? st->ip6->nd_if[rr.iface].link_mtu
                                                     : st->iface[rr.iface].mtu;
    if (len > mtu) {
        /* Section 3.2: "A Packet Too Big MUST be sent by a router in response to a packet that it
         * cannot forward because the packet is larger than the MTU of the outgoing link." */
        st->c.ip6_too_big_sent++;
        tern_icmpv6_send_error(st, now, TERN_ICMPV6_PKT_TOO_BIG, 0, mtu, buf, len, link_mcast);
        return;
    }
    uint8_t *out = tern_ip_tx_payload(st) - TERN_IPV6_HDR_LEN;
    memcpy(out, buf, len);
    out[7] = (uint8_t)(ip->hop_limit - 1);
    (void)iface;
    if (tern_ipv6_output(st, now, rr.iface, &rr.next_hop, out, len, mtu) == TERN_OK) {
        st->c.ip6_forwarded++;
    }
}

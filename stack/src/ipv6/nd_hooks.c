/*
 * The points where Router Advertisement processing (the default router and
 * prefix lists, RFC 4861 section 6.3.4), SLAAC's Duplicate Address Detection
 * (RFC 4862) and the MLDv2 listener (RFC 3810) meet Neighbor Discovery.
 *
 * What is here is what a host without those parts does: the RA's host
 * variables (CurHopLimit, BaseReachableTime/ReachableTime, RetransTimer, the
 * MTU option) are applied, since the neighbour cache's timers depend on them;
 * there is no default router list (no off-link route unless configured),
 * Router Solicitations are ignored as section 6.2.6 says hosts do, and with no
 * tentative addresses DAD input never comes. The SLAAC/MLD work replaces the
 * bodies marked "hook".
 */
#include "ipv6_state.h"

void tern_nd_router_advert_input(tern_stack *st, uint64_t now, uint32_t iface,
                                 const struct tern_ipv6_repr *ip, const struct tern_ndp_repr *ra) {
    (void)now;
    (void)ip;
    tern_nd_iface *n = tern_nd_iface_of(st, iface);
    /* RFC 4861 section 6.3.4: "If the received Cur Hop Limit value is non-zero, the host SHOULD
     * set its CurHopLimit variable to the received value." */
    if (ra->cur_hop_limit) {
        n->cur_hop_limit = ra->cur_hop_limit;
    }
    /* "If the received Reachable Time value is non-zero, the host SHOULD set its
     * BaseReachableTime variable to the received value. If the new value differs from the
     * previous value, the host SHOULD re-compute a new random ReachableTime value." */
    if (ra->reachable_time) {
        uint64_t base = (uint64_t)ra->reachable_time * 1000000u;
        if (base != n->base_reachable_ns) {
            n->base_reachable_ns = base;
            tern_nd_new_reachable_time(st, iface);
        }
    }
    /* "The RetransTimer variable SHOULD be copied from the Retrans Timer field, if the received
     * value is non-zero." */
    if (ra->retrans_timer) {
        n->retrans_ns = (uint64_t)ra->retrans_timer * 1000000u;
    }
    /* Section 6.3.4 on the MTU option: "If the MTU option is present, hosts SHOULD copy the
     * option's value into LinkMTU so long as the value is greater than or equal to the minimum link
     * MTU [IPv6] and does not exceed the maximum LinkMTU value specified in the link-type-specific
     * document". */
    if (ra->opts.has_mtu && ra->opts.mtu >= TERN_IPV6_MIN_MTU &&
        ra->opts.mtu <= st->iface[iface].mtu) {
        n->link_mtu = ra->opts.mtu;
    }
    /* The default router list, the prefix list and SLAAC (ipv6/autoconf.c). */
    tern_ac_router_advert(st, now, iface, ip, ra);
    /* The M and O flags start the DHCPv6 client when it waits for them (services/). */
    tern_dhcpv6_router_advert(st, now, iface, ra->managed, ra->other);
}

void tern_nd_router_solicit_input(tern_stack *st, uint64_t now, uint32_t iface,
                                  const struct tern_ipv6_repr *ip, const struct tern_ndp_repr *rs) {
    /* RFC 4861 section 6.2.6: "A host MUST silently discard any received Router Solicitation
     * messages." hook: a router role would answer here. */
    (void)st;
    (void)now;
    (void)iface;
    (void)ip;
    (void)rs;
}

void tern_nd_dad_input(tern_stack *st, uint64_t now, uint32_t iface, uint32_t ai, bool from_ns,
                       const struct tern_ipv6_repr *ip) {
    /* RFC 4862 sections 5.4.3 and 5.4.4 (ipv6/autoconf.c). */
    tern_addr target = st->iface[iface].addr6[ai].addr;
    tern_ac_dad_input(st, now, iface, &target, from_ns, ip);
    /* A DHCPv6 address under DAD may just have been found duplicated (services/). */
    tern_dhcpv6_dad_input(st, now, iface);
}

bool tern_nd_default_router(const tern_stack *st, uint32_t iface_hint, uint32_t *iface,
                            tern_addr *router) {
    /* RFC 4861 section 6.3.6 default router selection (ipv6/autoconf.c). */
    return tern_ac_default_router(st, iface_hint, iface, router);
}

void tern_nd_router_lost(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *router) {
    /* Section 7.2.5 "the node MUST remove that router from the Default Router List". */
    (void)now;
    tern_ac_router_lost(st, iface, router);
}

void tern_mld_input(tern_stack *st, uint64_t now, uint32_t iface, const struct tern_ipv6_repr *ip,
                    const struct tern_icmpv6_repr *icmp) {
    /* RFC 3810 listener (ipv6/autoconf.c, ipv6/mld.c). */
    tern_ac_mld_input(st, now, iface, ip, icmp);
}

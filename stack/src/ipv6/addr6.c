/*
 * IPv6 addresses of the interfaces (RFC 4291), multicast membership, and
 * routing for IPv6 destinations: on-link prefixes of the addresses,
 * link-local fe80::/64 on every interface (RFC 4291 section 2.5.6), Redirect
 * entries (RFC 4861 section 8.3), the static routes, and the default router
 * list (nd_hooks.c) for what is left (RFC 4861 section 5.2).
 */
#include <string.h>

#include "ipv6_state.h"

int tern_ipv6_addr_index(const tern_stack *st, uint32_t iface, const tern_addr *addr) {
    const tern_iface *f = &st->iface[iface];
    for (uint32_t a = 0; a < f->naddrs6; a++) {
        if (tern_addr_eq(&f->addr6[a].addr, addr)) {
            return (int)a;
        }
    }
    return -1;
}

bool tern_ipv6_is_local(const tern_stack *st, const tern_addr *addr, uint32_t *iface) {
    if (!tern_addr_is_v6(addr)) {
        return false;
    }
    for (uint32_t i = 0; i < st->niface; i++) {
        int a = tern_ipv6_addr_index(st, i, addr);
        /* RFC 4862 section 5.4: a tentative address is not assigned yet: "the node MUST NOT
         * accept packets destined to it" except ND messages of DAD (nd.c sees those). */
        if (a >= 0 && st->iface[i].addr6[a].state != TERN_ADDR6_TENTATIVE) {
            if (iface) {
                *iface = i;
            }
            return true;
        }
    }
    return false;
}

tern_err tern_ipv6_add_addr(tern_stack *st, uint32_t iface, const tern_addr *addr,
                            uint8_t prefix_len, uint8_t state, uint8_t origin) {
    if (iface >= st->niface || !tern_addr_is_v6(addr) || prefix_len > 128 ||
        tern_addr_is_multicast(addr) || tern_addr_is_unspecified(addr)) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "iface %u IPv6 address: must be a unicast IPv6 address with prefix 0..128 "
                         "(prefix_len=%u)",
                         iface, prefix_len);
    }
    tern_iface *f = &st->iface[iface];
    if (tern_ipv6_addr_index(st, iface, addr) >= 0) {
        return tern_fail(st, TERN_ERR_ADDR_IN_USE, "iface %u: that IPv6 address is there already",
                         iface);
    }
    if (f->naddrs6 >= TERN_MAX_IFACE_ADDRS6) {
        return tern_fail(st, TERN_ERR_NO_BUFFER, "iface %u: already has %d IPv6 addresses", iface,
                         TERN_MAX_IFACE_ADDRS6);
    }
    tern_ifaddr6 *a = &f->addr6[f->naddrs6++];
    memset(a, 0, sizeof *a);
    a->addr = *addr;
    a->prefix_len = prefix_len;
    a->state = state;
    a->origin = origin;
    a->preferred_until = TERN_NEVER;
    a->valid_until = TERN_NEVER;
    return TERN_OK;
}

tern_err tern_ipv6_del_addr(tern_stack *st, uint32_t iface, const tern_addr *addr) {
    if (iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "iface=%u: the host has %u interfaces",
                         iface, st->niface);
    }
    int a = tern_ipv6_addr_index(st, iface, addr);
    if (a < 0) {
        return tern_fail(st, TERN_ERR_EMPTY, "iface %u: no such IPv6 address", iface);
    }
    tern_iface *f = &st->iface[iface];
    memmove(&f->addr6[a], &f->addr6[a + 1], (f->naddrs6 - (uint32_t)a - 1) * sizeof f->addr6[0]);
    f->naddrs6--;
    return TERN_OK;
}

static bool is_all_nodes(const tern_addr *g) {
    /* ff02::1 (link-local scope) and ff01::1 (interface-local), RFC 4291 section 2.7.1 */
    static const uint8_t tail[14] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return g->family == TERN_AF_INET6 && g->bytes[0] == 0xff &&
           (g->bytes[1] == 0x02 || g->bytes[1] == 0x01) && memcmp(g->bytes + 2, tail, 14) == 0;
}

bool tern_ipv6_is_member(const tern_stack *st, uint32_t iface, const tern_addr *group) {
    if (iface >= st->niface || !tern_addr_is_v6(group)) {
        return false;
    }
    if (is_all_nodes(group)) {
        return true;
    }
    const tern_iface *f = &st->iface[iface];
    for (uint32_t a = 0; a < f->naddrs6; a++) {
        tern_addr sn = tern_ipv6_solicited_node(&f->addr6[a].addr);
        if (tern_addr_eq(&sn, group)) {
            return true;
        }
    }
    const tern_nd_iface *n = &st->ip6->nd_if[iface];
    for (uint32_t g = 0; g < n->ngroups; g++) {
        if (tern_addr_eq(&n->group[g], group)) {
            return true;
        }
    }
    return false;
}

bool tern_ipv6_wants_mac(const tern_stack *st, uint32_t iface, const uint8_t mac[6]) {
    if (mac[0] != 0x33 || mac[1] != 0x33 || iface >= st->niface) {
        return false;
    }
    /* 33:33 + the low 32 bits of the group (RFC 2464 section 7). */
    static const uint8_t all_nodes[4] = {0, 0, 0, 1};
    if (memcmp(mac + 2, all_nodes, 4) == 0) {
        return true;
    }
    const tern_iface *f = &st->iface[iface];
    for (uint32_t a = 0; a < f->naddrs6; a++) {
        tern_addr sn = tern_ipv6_solicited_node(&f->addr6[a].addr);
        if (memcmp(sn.bytes + 12, mac + 2, 4) == 0) {
            return true;
        }
    }
    const tern_nd_iface *n = &st->ip6->nd_if[iface];
    for (uint32_t g = 0; g < n->ngroups; g++) {
        if (memcmp(n->group[g].bytes + 12, mac + 2, 4) == 0) {
            return true;
        }
    }
    return false;
}

tern_err tern_ipv6_mcast_join(tern_stack *st, uint32_t iface, const tern_addr *group) {
    if (iface >= st->niface || !tern_addr_is_v6(group) || !tern_addr_is_multicast(group)) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "join: iface %u, group must be IPv6 "
                         "multicast",
                         iface);
    }
    tern_nd_iface *n = &st->ip6->nd_if[iface];
    for (uint32_t g = 0; g < n->ngroups; g++) {
        if (tern_addr_eq(&n->group[g], group)) {
            n->group_refs[g]++;
            return TERN_OK;
        }
    }
    if (n->ngroups >= TERN_IPV6_MCAST_GROUPS) {
        return tern_fail(st, TERN_ERR_NO_BUFFER, "join: iface %u already has %d groups", iface,
                         TERN_IPV6_MCAST_GROUPS);
    }
    n->group[n->ngroups] = *group;
    n->group_refs[n->ngroups] = 1;
    n->ngroups++;
    return TERN_OK;
}

tern_err tern_ipv6_mcast_leave(tern_stack *st, uint32_t iface, const tern_addr *group) {
    if (iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "leave: iface=%u", iface);
    }
    tern_nd_iface *n = &st->ip6->nd_if[iface];
    for (uint32_t g = 0; g < n->ngroups; g++) {
        if (tern_addr_eq(&n->group[g], group)) {
            if (--n->group_refs[g] == 0) {
                memmove(&n->group[g], &n->group[g + 1], (n->ngroups - g - 1) * sizeof n->group[0]);
                memmove(&n->group_refs[g], &n->group_refs[g + 1],
                        (n->ngroups - g - 1) * sizeof n->group_refs[0]);
                n->ngroups--;
            }
            return TERN_OK;
        }
    }
    return tern_fail(st, TERN_ERR_EMPTY, "leave: iface %u is not in that group", iface);
}

/* Destinations whose next hop is themselves on an interface the caller names: link-local unicast,
 * and every multicast group (RFC 4861 section 5.2: "For multicast packets, the next-hop is always
 * the (multicast) destination address and is considered to be on-link."). */
static bool link_scoped(const tern_addr *dst) {
    return tern_ipv6_is_link_local(dst) || tern_addr_is_multicast(dst);
}

bool tern_ipv6_select_source(const tern_stack *st, uint32_t iface, const tern_addr *dst,
                             tern_addr *out) {
    /* RFC 6724 section 5 (ipv6/addrsel.c through ipv6/autoconf.c). */
    return tern_ac_select_source(st, iface, dst, out);
}

tern_err tern_ipv6_route_lookup(const tern_stack *st, const tern_addr *dst, const tern_addr *src,
                                uint32_t oif, tern_route_result *out) {
    if (!tern_addr_is_v6(dst) || st->niface == 0) {
        return TERN_ERR_NO_ROUTE;
    }
    uint32_t src_iface = 0;
    bool src_ours = false;
    if (src && tern_addr_is_v6(src) && !tern_addr_is_unspecified(src)) {
        for (uint32_t i = 0; i < st->niface; i++) {
            if (tern_ipv6_addr_index(st, i, src) >= 0) {
                src_iface = i;
                src_ours = true;
                break;
            }
        }
    }
    int best_len = -1;
    uint32_t best_iface = 0;
    bool have_gateway = false;
    tern_addr gateway;
    memset(&gateway, 0, sizeof gateway);
    if (link_scoped(dst)) {
        /* A link-scoped destination names no interface by itself (RFC 4007 zones): the one asked
         * for, else the source's, else the first. */
        best_iface = oif ? oif - 1 : src_ours ? src_iface : 0;
        if (best_iface >= st->niface) {
            return TERN_ERR_NO_ROUTE;
        }
        best_len = 128;
    } else {
        uint32_t riface;
        tern_addr rhop;
        for (uint32_t i = 0; i < st->niface; i++) {
            const tern_iface *f = &st->iface[i];
            for (uint32_t a = 0; a < f->naddrs6; a++) {
                int len = f->addr6[a].prefix_len;
                /* RFC 5942 section 4: an autoconfigured address says nothing of on-link
                 * prefixes; the Prefix List does (below). */
                if (f->addr6[a].origin != TERN_ADDR6_STATIC) {
                    continue;
                }
                if (len > best_len &&
                    tern_addr_prefix_match(&f->addr6[a].addr, dst, (unsigned)len)) {
                    best_len = len;
                    best_iface = i;
                    have_gateway = false;
                }
            }
        }
        unsigned plen;
        uint32_t piface;
        /* RFC 4861 section 5.2: the Prefix List's on-link prefixes (ipv6/autoconf.c). */
        if (tern_ac_onlink(st, dst, &plen, &piface) && (int)plen > best_len) {
            best_len = (int)plen;
            best_iface = piface;
            have_gateway = false;
        }
        for (uint32_t r = 0; r < st->nroutes; r++) {
            const tern_route *rt = &st->routes[r];
            if (rt->dst.family == TERN_AF_INET6 && (int)rt->prefix_len > best_len &&
                tern_addr_prefix_match(&rt->dst, dst, rt->prefix_len)) {
                best_len = rt->prefix_len;
                best_iface = rt->iface;
                have_gateway = !tern_addr_is_unspecified(&rt->gateway);
                gateway = rt->gateway;
            }
        }
        /* RFC 4861 section 8.3: a Redirect updates the destination cache: it beats the routes. */
        if (tern_nd_redirected(st, dst, &riface, &rhop)) {
            best_len = 128;
            best_iface = riface;
            have_gateway = !tern_addr_eq(&rhop, dst);
            gateway = rhop;
        }
        if (best_len < 0) {
            /* Off-link: the default router list (RFC 4861 section 6.3.6). Without a router
             * there is no route: RFC 4943 took back the on-link assumption of RFC 2461. */
            if (tern_nd_default_router(st, src_ours ? src_iface : 0, &riface, &rhop)) {
                best_len = 0;
                best_iface = riface;
                have_gateway = true;
                gateway = rhop;
            } else {
                return TERN_ERR_NO_ROUTE;
            }
        }
    }
    const tern_iface *f = &st->iface[best_iface];
    out->iface = best_iface;
    out->next_hop = have_gateway ? gateway : *dst;
    out->mtu = st->ip6->nd_if[best_iface].link_mtu ? st->ip6->nd_if[best_iface].link_mtu : f->mtu;
    out->broadcast = false;
    if (src && tern_addr_is_v6(src) && !tern_addr_is_unspecified(src)) {
        out->src = *src;
    } else if (!tern_ipv6_select_source(st, best_iface, dst, &out->src)) {
        out->src = tern_addr_v6_from_bytes((const uint8_t[16]){0}); /* :: (RFC 4861 DAD sends) */
    }
    return TERN_OK;
}

tern_err tern_iface_ipv6_addr(const tern_stack *st, uint32_t iface, uint32_t index, tern_addr *addr,
                              uint8_t *prefix_len, int *state) {
    if (iface >= st->niface) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    const tern_iface *f = &st->iface[iface];
    if (index >= f->naddrs6) {
        return TERN_ERR_EMPTY;
    }
    if (addr) {
        *addr = f->addr6[index].addr;
    }
    if (prefix_len) {
        *prefix_len = f->addr6[index].prefix_len;
    }
    if (state) {
        *state = f->addr6[index].state;
    }
    return TERN_OK;
}

/*
 * Routing (RFC 1812 §5.2.4.3 longest match): the on-link prefixes of the
 * interfaces' addresses plus the configured routes; the longest prefix wins,
 * and among equal prefixes on-link beats a configured route, then the first
 * added. The source address is the outgoing interface's address that shares
 * the longest prefix with the next hop (RFC 1122 §3.3.4.3 "weak" choice).
 */
#include <string.h>

#include "ipv6/ipv6.h"
#include "tcp/tcp_private.h"
#include "udp/udp.h"
#include "stack_internal.h"

static bool local_on(const tern_iface *f, const tern_addr *addr) {
    for (uint32_t a = 0; a < f->naddrs; a++) {
        if (tern_addr_eq(&f->addr[a], addr)) {
            return true;
        }
    }
    return false;
}

bool tern_is_local_addr(const tern_stack *st, const tern_addr *addr, uint32_t *iface) {
    if (tern_addr_is_v6(addr)) {
        return tern_ipv6_is_local(st, addr, iface);
    }
    for (uint32_t i = 0; i < st->niface; i++) {
        if (local_on(&st->iface[i], addr)) {
            if (iface) {
                *iface = i;
            }
            return true;
        }
    }
    return false;
}

bool tern_is_broadcast_addr(const tern_stack *st, const tern_addr *addr, uint32_t iface) {
    if (tern_addr_is_limited_broadcast(addr)) {
        return true;
    }
    if (iface >= st->niface) {
        return false;
    }
    const tern_iface *f = &st->iface[iface];
    for (uint32_t a = 0; a < f->naddrs; a++) {
        /* A /31 or /32 has no broadcast address (RFC 3021). */
        if (f->prefix_len[a] <= 30 &&
            tern_addr_is_directed_broadcast(addr, &f->addr[a], f->prefix_len[a])) {
            return true;
        }
    }
    return false;
}

/* Bits two IPv4 addresses share from the top (32 when equal). */
static unsigned common_prefix_v4(const tern_addr *a, const tern_addr *b) {
    uint32_t x = tern_addr_v4_to_u32(a) ^ tern_addr_v4_to_u32(b);
    return x ? (unsigned)__builtin_clz(x) : 32u;
}

/* The interface address sharing the longest prefix with `to`. */
static bool pick_source(const tern_iface *f, const tern_addr *to, tern_addr *out) {
    if (f->naddrs == 0) {
        return false;
    }
    uint32_t best = 0;
    unsigned best_len = common_prefix_v4(&f->addr[0], to);
    for (uint32_t a = 1; a < f->naddrs; a++) {
        unsigned n = common_prefix_v4(&f->addr[a], to);
        if (n > best_len) {
            best = a;
            best_len = n;
        }
    }
    *out = f->addr[best];
    return true;
}

tern_err tern_route_lookup(const tern_stack *st, const tern_addr *dst, const tern_addr *src,
                           tern_route_result *out) {
    if (tern_addr_is_v6(dst)) {
        return tern_ipv6_route_lookup(st, dst, src, 0, out);
    }
    int best_len = -1;
    uint32_t best_iface = 0;
    tern_addr gateway = {0};
    bool have_gateway = false;
    /* On-link prefixes of our addresses. */
    for (uint32_t i = 0; i < st->niface; i++) {
        const tern_iface *f = &st->iface[i];
        for (uint32_t a = 0; a < f->naddrs; a++) {
            int len = f->prefix_len[a];
            if (len > best_len && tern_addr_prefix_match(&f->addr[a], dst, (unsigned)len)) {
                best_len = len;
                best_iface = i;
                have_gateway = false;
            }
        }
    }
    for (uint32_t r = 0; r < st->nroutes; r++) {
        const tern_route *rt = &st->routes[r];
        if ((int)rt->prefix_len > best_len &&
            tern_addr_prefix_match(&rt->dst, dst, rt->prefix_len)) {
            best_len = rt->prefix_len;
            best_iface = rt->iface;
            have_gateway = !tern_addr_is_unspecified(&rt->gateway);
            gateway = rt->gateway;
        }
    }
    /* The limited broadcast goes out of the first interface (RFC 1122 §3.3.6), and so does a
     * multicast without a route of its own; a multicast goes straight to the group, never
     * through a gateway (RFC 1112 §6.4: the group maps to an Ethernet address). */
    bool multicast = tern_addr_is_multicast(dst);
    if (multicast) {
        have_gateway = false;
    }
    if (best_len < 0 && (tern_addr_is_limited_broadcast(dst) || multicast) && st->niface) {
        best_len = 0;
        best_iface = 0;
    }
    if (best_len < 0) {
        return TERN_ERR_NO_ROUTE;
    }
    const tern_iface *f = &st->iface[best_iface];
    out->iface = best_iface;
    out->next_hop = have_gateway ? gateway : *dst;
    out->mtu = f->mtu;
    out->broadcast = tern_is_broadcast_addr(st, dst, best_iface);
    if (src && !tern_addr_is_unspecified(src)) {
        out->src = *src;
    } else if (!pick_source(f, &out->next_hop, &out->src)) {
        /* An interface without an address can still send (DHCP will need it). */
        out->src = tern_addr_v4(0, 0, 0, 0);
    }
    return TERN_OK;
}

void tern_route_changed(tern_stack *st) {
    if (++st->route_gen == 0) {
        st->route_gen = 1; /* 0 marks an empty cache */
    }
}

const tern_route_cache *tern_route_cached(const tern_stack *st, tern_route_cache *c,
                                          const tern_addr *dst, const tern_addr *src) {
    if (c->gen == st->route_gen && tern_addr_eq(&c->dst, dst) && tern_addr_eq(&c->src, src)) {
#ifdef TERN_POLL_CACHE_CHECK
        /* Test builds: a kept route that is no longer the table's is a bug (a change to what
         * routes depend on without tern_route_changed); stop at once, in the test that found it. */
        tern_route_result now;
        if (tern_route_lookup(st, dst, src, &now) != TERN_OK || now.iface != c->rr.iface ||
            now.mtu != c->rr.mtu || now.broadcast != c->rr.broadcast ||
            !tern_addr_eq(&now.src, &c->rr.src) || !tern_addr_eq(&now.next_hop, &c->rr.next_hop) ||
            tern_is_local_addr(st, dst, NULL) != c->local) {
            __builtin_trap();
        }
#endif
        return c;
    }
    if (!tern_addr_is_v4(dst) || tern_route_lookup(st, dst, src, &c->rr) != TERN_OK) {
        c->gen = 0;
        return NULL;
    }
    c->dst = *dst;
    c->src = *src;
    c->local = tern_is_local_addr(st, dst, NULL);
    c->gen = st->route_gen;
    return c;
}

tern_err tern_route_add(tern_stack *st, const tern_addr *dst, uint8_t prefix_len,
                        const tern_addr *gateway, uint32_t iface) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    bool v6 = tern_addr_is_v6(dst);
    unsigned width = v6 ? 128 : 32;
    if ((!v6 && !tern_addr_is_v4(dst)) || prefix_len > width) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "route: destination must be IPv4 with prefix 0..32 or IPv6 with prefix "
                         "0..128 (prefix_len=%u)",
                         prefix_len);
    }
    if (gateway && !tern_addr_is_unspecified(gateway) && gateway->family != dst->family) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "route gateway: must be of the destination's family (%s)",
                         v6 ? "IPv6" : "IPv4");
    }
    if (iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "route iface=%u: the host has %u interfaces", iface, st->niface);
    }
    if (st->nroutes >= st->cfg.routes) {
        return tern_fail(st, TERN_ERR_NO_BUFFER, "route: the table is full (%u routes)",
                         st->cfg.routes);
    }
    tern_route_changed(st);
    tern_route *r = &st->routes[st->nroutes++];
    memset(r, 0, sizeof *r);
    /* Keep the destination masked so that lookups compare prefixes only. */
    r->dst = *dst;
    for (unsigned b = prefix_len; b < width; b++) {
        r->dst.bytes[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
    }
    r->prefix_len = prefix_len;
    if (gateway && !tern_addr_is_unspecified(gateway)) {
        r->gateway = *gateway;
    } else if (v6) {
        r->gateway = tern_addr_v6_from_bytes((const uint8_t[16]){0});
    } else {
        r->gateway = tern_addr_v4(0, 0, 0, 0);
    }
    r->iface = iface;
    return TERN_OK;
}

tern_err tern_route_del(tern_stack *st, const tern_addr *dst, uint8_t prefix_len) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    for (uint32_t i = 0; i < st->nroutes; i++) {
        tern_route *r = &st->routes[i];
        if (r->prefix_len == prefix_len && r->dst.family == dst->family &&
            tern_addr_prefix_match(&r->dst, dst, prefix_len)) {
            memmove(r, r + 1, (st->nroutes - i - 1) * sizeof *r);
            st->nroutes--;
            tern_route_changed(st);
            return TERN_OK;
        }
    }
    return tern_fail(st, TERN_ERR_EMPTY, "route: no route for that prefix (prefix_len=%u)",
                     prefix_len);
}

tern_err tern_ephemeral_port(tern_stack *st, uint8_t protocol, uint16_t *out) {
    /* RFC 6056 §3.3.1 (Algorithm 1): start at a random port of the range and
     * probe upwards, so the choice is unpredictable but always terminates. */
    uint32_t low = st->cfg.ephemeral_low, n = (uint32_t)st->cfg.ephemeral_high - low + 1;
    uint32_t start = (uint32_t)tern_rng_below(&st->rng, n);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t port = (uint16_t)(low + (start + i) % n);
        bool used = protocol == TERN_IPPROTO_UDP ? tern_udp_port_in_use(st, port)
                                                 : tern_tcp_port_in_use(st, port);
        if (!used) {
            *out = port;
            return TERN_OK;
        }
    }
    return tern_fail(st, TERN_ERR_ADDR_IN_USE, "no free ephemeral port in %u..%u",
                     st->cfg.ephemeral_low, st->cfg.ephemeral_high);
}

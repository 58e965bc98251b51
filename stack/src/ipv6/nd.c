/*
 * Neighbor Discovery (RFC 4861): the neighbour cache with its states
 * (section 7.3.2) and timers, address resolution (section 7.2) with a bounded
 * queue of packets waiting for it, Neighbor Unreachability Detection
 * (section 7.3) with upper-layer hints, Neighbor Solicitation and
 * Advertisement input and output, the validity checks of sections 6.1 and
 * 7.1, and Redirect processing (section 8). Router and prefix lists are the
 * hooks' (nd_hooks.c).
 */
#include <string.h>

#include "ipv4/ipv4.h"
#include "ipv6_state.h"
#include "wire/ethernet.h"

/* ---- the cache -------------------------------------------------------------------- */

static tern_nd_entry *find(tern_stack *st, uint32_t iface, const tern_addr *ip) {
    for (uint32_t i = 0; i < st->ip6->nd_hi; i++) {
        tern_nd_entry *e = &st->ip6->nd[i];
        if (e->state != TERN_ND_FREE && e->iface == iface && tern_addr_eq(&e->ip, ip)) {
            return e;
        }
    }
    return NULL;
}

/* The entry's deadline in poll_at: its timer unless it is free. */
static uint64_t entry_poll_at(const tern_nd_entry *e) {
    return e->state != TERN_ND_FREE ? e->timer : TERN_NEVER;
}

/* Every change of an entry's state or timer goes through here, for poll_at's cached deadline
 * (tern_poll_cache_nb_moved). */
static void set_entry(tern_stack *st, tern_nd_entry *e, uint8_t state, uint64_t timer) {
    uint64_t old = entry_poll_at(e);
    e->state = state;
    e->timer = timer;
    tern_poll_cache_nb_moved(st, old, entry_poll_at(e));
}

/* A free entry, or the least recently used one that holds no packets (never an INCOMPLETE one). */
static tern_nd_entry *take_entry(tern_stack *st, uint64_t now, uint32_t iface,
                                 const tern_addr *ip) {
    tern_nd_entry *victim = NULL;
    for (uint32_t i = 0; i < st->cfg.nd_entries; i++) {
        tern_nd_entry *e = &st->ip6->nd[i];
        if (e->state == TERN_ND_FREE) {
            victim = e;
            break;
        }
        if (e->state != TERN_ND_INCOMPLETE && e->queued == 0 &&
            (!victim || e->last_use < victim->last_use)) {
            victim = e;
        }
    }
    if (!victim) {
        return NULL;
    }
    uint32_t at = (uint32_t)(victim - st->ip6->nd);
    if (at >= st->ip6->nd_hi) {
        st->ip6->nd_hi = at + 1;
        st->poll_cache->active |= TERN_ACTIVE_ND; /* the polls scan the entries from now on */
    }
    set_entry(st, victim, TERN_ND_FREE, TERN_NEVER);
    memset(victim, 0, sizeof *victim);
    victim->ip = *ip;
    victim->iface = iface;
    victim->timer = TERN_NEVER;
    victim->last_use = now;
    return victim;
}

void tern_nd_new_reachable_time(tern_stack *st, uint32_t iface) {
    tern_nd_iface *n = &st->ip6->nd_if[iface];
    /* RFC 4861 section 6.3.2: "a uniformly distributed random value between MIN_RANDOM_FACTOR
     * and MAX_RANDOM_FACTOR times BaseReachableTime" (0.5 and 1.5), from the seeded
     * generator, in integer nanoseconds. */
    uint64_t base = n->base_reachable_ns;
    n->reachable_ns = base / 2 + tern_rng_below(&st->ip6->rng, base + 1);
}

tern_nd_iface *tern_nd_iface_of(tern_stack *st, uint32_t iface) {
    return &st->ip6->nd_if[iface];
}

static void set_reachable(tern_stack *st, tern_nd_entry *e, uint64_t now) {
    e->probes = 0;
    set_entry(st, e, TERN_ND_REACHABLE, now + st->ip6->nd_if[e->iface].reachable_ns);
}

/* A packet leaves for the neighbour of entry e. RFC 4861 section 7.3.3: "The first time a node
 * sends a packet to a neighbor whose entry is STALE, the sender changes the state to DELAY and sets
 * a timer to expire in DELAY_FIRST_PROBE_TIME seconds." Every packet counts, Neighbor
 * Advertisements too (appendix C: STALE, "Sending packet", DELAY). */
static void packet_sent(tern_stack *st, tern_nd_entry *e, uint64_t now) {
    if (e->state == TERN_ND_STALE) {
        set_entry(st, e, TERN_ND_DELAY, now + TERN_ND_DELAY_FIRST_PROBE_TIME_NS);
    }
}

static void set_stale(tern_stack *st, tern_nd_entry *e) {
    e->probes = 0;
    set_entry(st, e, TERN_ND_STALE, TERN_NEVER);
}

int tern_nd_state_of(const tern_stack *st, const tern_addr *ip, uint8_t mac[6]) {
    for (uint32_t i = 0; i < st->ip6->nd_hi; i++) {
        const tern_nd_entry *e = &st->ip6->nd[i];
        if (e->state != TERN_ND_FREE && tern_addr_eq(&e->ip, ip)) {
            if (mac) {
                memcpy(mac, e->mac, 6);
            }
            return e->state;
        }
    }
    return TERN_ND_FREE;
}

tern_err tern_nd_lookup(const tern_stack *st, const tern_addr *ip, uint8_t mac[6], int *state) {
    int s = tern_nd_state_of(st, ip, mac);
    if (state) {
        *state = s;
    }
    return s == TERN_ND_FREE || s == TERN_ND_INCOMPLETE ? TERN_ERR_EMPTY : TERN_OK;
}

/* ---- output of ND messages ---------------------------------------------------------- */

/*
 * Send an ND message built in tx2 (ICMPv6 at tx2 + 14 + 40, len bytes) from src to dst with
 * hop limit 255 (RFC 4861 sections 4.3, 4.4: "Hop Limit 255"), straight to mac. Built in tx2:
 * the packet that prompted it may be waiting in tx.
 */
static void send_direct(tern_stack *st, uint32_t iface, const uint8_t mac[6], const tern_addr *src,
                        const tern_addr *dst, size_t len) {
    uint8_t *ip = st->tx2 + TERN_ETH_HDR;
    struct tern_ipv6_repr h;
    memset(&h, 0, sizeof h);
    h.next_header = TERN_IPPROTO_ICMPV6;
    h.hop_limit = 255;
    h.src = *src;
    h.dst = *dst;
    h.payload = NULL;
    size_t w;
    if (tern_ipv6_emit(&h, len, ip, TERN_IPV6_HDR_LEN + len, &w) != TERN_OK) {
        return;
    }
    st->c.ip6_out++;
    tern_eth_output(st, iface, mac, TERN_ETHERTYPE_IPV6, ip, w);
}

static uint8_t *nd_msg_buf(tern_stack *st) {
    return st->tx2 + TERN_ETH_HDR + TERN_IPV6_HDR_LEN;
}

static size_t nd_msg_cap(void) {
    return TERN_FRAME_MAX + 64 - TERN_ETH_HDR - TERN_IPV6_HDR_LEN;
}

void tern_nd_send_ns(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *src,
                     const tern_addr *dst, const tern_addr *target, bool with_sll) {
    (void)now;
    tern_addr from, to;
    if (src) {
        from = *src;
    } else if (!tern_ipv6_select_source(st, iface, target, &from)) {
        return; /* no usable address (all tentative): nothing to solicit from */
    }
    /* RFC 4861 section 7.2.2: multicast to the solicited-node address of the target, or unicast
     * (NUD, section 7.3.3) to the cached link-layer address. */
    to = dst && !tern_addr_is_unspecified(dst) ? *dst : tern_ipv6_solicited_node(target);
    uint8_t mac[6];
    if (tern_addr_is_multicast(&to)) {
        tern_ipv6_mcast_mac(&to, mac);
    } else if (tern_nd_state_of(st, &to, mac) == TERN_ND_FREE) {
        return;
    }
    struct tern_ndp_repr r;
    memset(&r, 0, sizeof r);
    r.type = TERN_ICMPV6_NS;
    r.target = *target;
    /* Section 4.3: the Source link-layer address option "MUST NOT be included when the source IP
     * address is the unspecified address". */
    if (with_sll && !tern_addr_is_unspecified(&from)) {
        r.opts.has_sll = true;
        memcpy(r.opts.sll, st->iface[iface].mac, 6);
    }
    size_t w;
    if (tern_ndp_emit(&r, &from, &to, nd_msg_buf(st), nd_msg_cap(), &w) != TERN_OK) {
        return;
    }
    st->c.nd_ns_sent++;
    send_direct(st, iface, mac, &from, &to, w);
}

/* ---- the queue of packets waiting for resolution ----------------------------------------- */

static bool queued_for(const tern_pkt_meta *m, const tern_nd_entry *e) {
    return m->iface == e->iface && tern_addr_eq(&m->dst, &e->ip);
}

tern_err tern_nd_hold(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *next_hop,
                      const uint8_t *ip, size_t len) {
    tern_ipv6_module *m = st->ip6;
    tern_nd_entry *e = find(st, iface, next_hop);
    if (!e) {
        st->c.nd_queue_full++;
        return TERN_ERR_NO_BUFFER;
    }
    /* RFC 4861 section 7.2.2: "The queue MUST hold at least one packet, and MAY contain more.";
     * a TCP segment replaces the held copies it retransmits (core/held.c says why), so the
     * original and its retransmission do not leave together once the neighbour answers. */
    uint32_t replaced = tern_held_drop_superseded(st, &m->nd_waiting, iface, next_hop, ip, len);
    e->queued -= replaced;
    st->c.nd_queue_replaced += replaced;
    if (e->queued >= TERN_ND_QUEUE_PER_NEIGHBOR) {
        /* RFC 4861 section 7.2.2: "When a queue overflows, the new arrival SHOULD replace the
         * oldest entry." One pass over the queue keeps the others' order. */
        bool dropped = false;
        for (uint32_t n = m->nd_waiting.count; n > 0; n--) {
            const tern_pkt_meta *pm = tern_pktq_peek(st, &m->nd_waiting);
            if (!dropped && queued_for(pm, e)) {
                tern_pktq_drop(st, &m->nd_waiting);
                dropped = true;
            } else {
                tern_pktq_rotate(st, &m->nd_waiting);
            }
        }
        e->queued--;
        st->c.nd_queue_full++;
    }
    tern_pkt_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.dst = *next_hop;
    meta.iface = iface;
    meta.time = now;
    if (tern_pktq_push(st, &m->nd_waiting, &meta, ip, len, NULL, 0) != TERN_OK) {
        st->c.nd_queue_full++;
        return TERN_ERR_NO_BUFFER;
    }
    e->queued++;
    return TERN_OK;
}

/* The held packets of e: sent (resolved) or answered with Destination Unreachable (failed). */
static void release_queue(tern_stack *st, uint64_t now, tern_nd_entry *e, bool resolved) {
    tern_ipv6_module *m = st->ip6;
    uint8_t *buf = st->tx + TERN_TX_HEADROOM - TERN_IPV6_HDR_LEN;
    size_t cap = sizeof st->tx - (TERN_TX_HEADROOM - TERN_IPV6_HDR_LEN);
    tern_addr ip = e->ip;
    uint32_t iface = e->iface;
    for (uint32_t n = m->nd_waiting.count; n > 0; n--) {
        const tern_pkt_meta *pm = tern_pktq_peek(st, &m->nd_waiting);
        if (pm->iface != iface || !tern_addr_eq(&pm->dst, &ip)) {
            tern_pktq_rotate(st, &m->nd_waiting);
            continue;
        }
        if (resolved) {
            size_t len = tern_pktq_pop(st, &m->nd_waiting, buf, cap);
            e->queued--;
            tern_ipv6_output_resolved(st, now, iface, &ip, buf, len);
        } else {
            size_t len = tern_pktq_pop(st, &m->nd_waiting, st->loop_rx, sizeof st->loop_rx);
            e->queued--;
            st->c.nd_resolution_failed++;
            /* RFC 4861 section 7.2.2: "If no Neighbor Advertisement is received after
             * MAX_MULTICAST_SOLICIT solicitations, address resolution has failed. The sender
             * MUST return ICMP destination unreachable indications with code 3 (Address
             * Unreachable) for each packet queued awaiting address resolution." */
            m->rx_iface = iface;
            tern_icmpv6_send_error(st, now, TERN_ICMPV6_DEST_UNREACH, TERN_ICMPV6_UNREACH_ADDR, 0,
                                   st->loop_rx, len, false);
        }
    }
}

/* ---- resolution ------------------------------------------------------------------------- */

tern_err tern_nd_resolve(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *next_hop,
                         const tern_addr *pkt_src, uint8_t mac[6]) {
    if (tern_addr_is_multicast(next_hop)) {
        tern_ipv6_mcast_mac(next_hop, mac); /* RFC 2464 section 7 */
        return TERN_OK;
    }
    tern_nd_entry *e = find(st, iface, next_hop);
    if (e) {
        e->last_use = now;
        if (e->state == TERN_ND_INCOMPLETE) {
            return TERN_ERR_WOULD_BLOCK;
        }
        if (e->state == TERN_ND_REACHABLE && now >= e->timer) {
            set_stale(st, e); /* ReachableTime ran out before the poll saw it */
        }
        packet_sent(st, e, now);
        memcpy(mac, e->mac, 6);
        return TERN_OK;
    }
    e = take_entry(st, now, iface, next_hop);
    if (!e) {
        st->c.nd_table_full++;
        return TERN_ERR_NO_BUFFER;
    }
    /* Section 7.2.2: create an INCOMPLETE entry, solicit, retransmit every RetransTimer. */
    e->probes = 1;
    set_entry(st, e, TERN_ND_INCOMPLETE, now + st->ip6->nd_if[iface].retrans_ns);
    /* "If the source address of the packet prompting the solicitation is the same as one of the
     * addresses assigned to the outgoing interface, that address SHOULD be placed in the IP Source
     * Address of the outgoing solicitation." */
    const tern_addr *src = NULL;
    if (pkt_src && tern_ipv6_addr_index(st, iface, pkt_src) >= 0 &&
        st->iface[iface].addr6[tern_ipv6_addr_index(st, iface, pkt_src)].state !=
            TERN_ADDR6_TENTATIVE) {
        src = pkt_src;
    }
    tern_nd_send_ns(st, now, iface, src, NULL, next_hop, true);
    return TERN_ERR_WOULD_BLOCK;
}

void tern_nd_confirm_reachable(tern_stack *st, uint64_t now, const tern_addr *neighbor) {
    tern_route_result rr;
    if (!tern_addr_is_v6(neighbor) ||
        tern_ipv6_route_lookup(st, neighbor, NULL, 0, &rr) != TERN_OK) {
        return;
    }
    tern_nd_entry *e = find(st, rr.iface, &rr.next_hop);
    if (e && e->state != TERN_ND_INCOMPLETE) {
        set_reachable(st, e, now); /* section 7.3.1: forward progress confirms reachability */
    }
}

void tern_nd_update_neighbor(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *ip,
                             const uint8_t mac[6], bool is_router) {
    tern_nd_entry *e = find(st, iface, ip);
    if (!e) {
        e = take_entry(st, now, iface, ip);
        if (!e) {
            st->c.nd_table_full++;
            return;
        }
        memcpy(e->mac, mac, 6);
        set_stale(st, e);
    } else if (e->state == TERN_ND_INCOMPLETE) {
        memcpy(e->mac, mac, 6);
        set_stale(st, e);
        release_queue(st, now, e, true);
    } else if (memcmp(e->mac, mac, 6) != 0) {
        memcpy(e->mac, mac, 6);
        set_stale(st, e);
    }
    if (is_router) {
        e->is_router = true;
    }
}

/* ---- timers ----------------------------------------------------------------------------- */

/* No entry was ever taken: nothing to scan, and the module's line is not read (issue 19). */
static bool nd_unused(const tern_stack *st) {
    if (st->poll_cache->active & TERN_ACTIVE_ND) {
        return false;
    }
#ifdef TERN_POLL_CACHE_CHECK
    if (st->ip6->nd_hi != 0) {
        __builtin_trap(); /* an entry taken without the flag */
    }
#endif
    return true;
}

void tern_nd_poll(tern_stack *st, uint64_t now) {
    if (nd_unused(st)) {
        return;
    }
    for (uint32_t i = 0; i < st->ip6->nd_hi; i++) {
        tern_nd_entry *e = &st->ip6->nd[i];
        if (e->state == TERN_ND_FREE || e->timer > now) {
            continue;
        }
        uint64_t retrans = st->ip6->nd_if[e->iface].retrans_ns;
        switch (e->state) {
        case TERN_ND_INCOMPLETE:
            if (e->probes < TERN_ND_MAX_MULTICAST_SOLICIT) {
                e->probes++;
                set_entry(st, e, e->state, now + retrans);
                tern_nd_send_ns(st, now, e->iface, NULL, NULL, &e->ip, true);
            } else {
                release_queue(st, now, e, false);
                set_entry(st, e, TERN_ND_FREE, e->timer);
            }
            break;
        case TERN_ND_REACHABLE:
            /* Section 7.3.3: "When ReachableTime milliseconds have passed since receipt of the last
             * reachability confirmation for a neighbor, the Neighbor Cache entry's state changes
             * from REACHABLE to STALE." */
            set_stale(st, e);
            break;
        case TERN_ND_DELAY:
            /* "If the entry is still in the DELAY state when the timer expires, the entry's state
             * changes to PROBE." and a unicast solicitation goes out at once. */
            e->probes = 1;
            set_entry(st, e, TERN_ND_PROBE, now + retrans);
            tern_nd_send_ns(st, now, e->iface, NULL, &e->ip, &e->ip, true);
            break;
        case TERN_ND_PROBE:
            if (e->probes < TERN_ND_MAX_UNICAST_SOLICIT) {
                e->probes++;
                set_entry(st, e, e->state, now + retrans);
                tern_nd_send_ns(st, now, e->iface, NULL, &e->ip, &e->ip, true);
            } else {
                /* "If no response is received after waiting RetransTimer milliseconds after
                 * sending the MAX_UNICAST_SOLICIT solicitations, retransmissions cease and the
                 * entry SHOULD be deleted." */
                st->c.nd_unreachable++;
                if (e->is_router) {
                    tern_nd_router_lost(st, now, e->iface, &e->ip);
                }
                set_entry(st, e, TERN_ND_FREE, e->timer);
            }
            break;
        default:
            set_entry(st, e, e->state, TERN_NEVER);
            break;
        }
    }
}

uint64_t tern_nd_poll_at(const tern_stack *st) {
    uint64_t t = TERN_NEVER;
    if (nd_unused(st)) {
        return t;
    }
    for (uint32_t i = 0; i < st->ip6->nd_hi; i++) {
        const tern_nd_entry *e = &st->ip6->nd[i];
        if (e->state != TERN_ND_FREE && e->timer < t) {
            t = e->timer;
        }
    }
    return t;
}

/* ---- input -------------------------------------------------------------------------------- */

/* Send a Neighbor Advertisement for target to dst (section 7.2.4). */
static void send_na(tern_stack *st, uint32_t iface, const tern_addr *target, const tern_addr *dst,
                    const uint8_t dst_mac[6], bool solicited) {
    struct tern_ndp_repr r;
    memset(&r, 0, sizeof r);
    r.type = TERN_ICMPV6_NA;
    r.target = *target;
    r.router = st->cfg.forwarding;
    r.solicited = solicited;
    r.override = true; /* our own unicast address, with its link-layer address given */
    r.opts.has_tll = true;
    memcpy(r.opts.tll, st->iface[iface].mac, 6);
    size_t w;
    if (tern_ndp_emit(&r, target, dst, nd_msg_buf(st), nd_msg_cap(), &w) != TERN_OK) {
        return;
    }
    st->c.nd_na_sent++;
    send_direct(st, iface, dst_mac, target, dst, w);
}

static void ns_input(tern_stack *st, uint64_t now, uint32_t iface, const struct tern_ipv6_repr *ip,
                     const struct tern_ndp_repr *ns) {
    bool from_unspec = tern_addr_is_unspecified(&ip->src);
    /* Section 7.1.1: "If the IP source address is the unspecified address, the IP destination
     * address is a solicited-node multicast address" and "there is no source link-layer address
     * option in the message." */
    if (from_unspec) {
        tern_addr sn = tern_ipv6_solicited_node(&ns->target);
        if (!tern_addr_eq(&ip->dst, &sn) || ns->opts.has_sll) {
            st->c.nd_invalid++;
            return;
        }
    }
    st->c.nd_ns_in++;
    int ai = tern_ipv6_addr_index(st, iface, &ns->target);
    if (ai < 0) {
        return; /* section 7.2.3: not a valid target of ours: silently discarded */
    }
    if (st->iface[iface].addr6[ai].state == TERN_ADDR6_TENTATIVE) {
        tern_nd_dad_input(st, now, iface, (uint32_t)ai, true, ip);
        return;
    }
    if (from_unspec) {
        /* Section 7.2.4: "If the source of the solicitation is the unspecified address, the node
         * MUST set the Solicited flag to zero and multicast the advertisement to the all-nodes
         * address." */
        uint8_t all[16] = {0xff, 0x02, [15] = 1};
        tern_addr to = tern_addr_v6_from_bytes(all);
        uint8_t mac[6];
        tern_ipv6_mcast_mac(&to, mac);
        send_na(st, iface, &ns->target, &to, mac, false);
        return;
    }
    if (ns->opts.has_sll) {
        /* Section 7.2.3: create or update the entry for the source, STALE when new or changed. */
        tern_nd_update_neighbor(st, now, iface, &ip->src, ns->opts.sll, false);
        send_na(st, iface, &ns->target, &ip->src, ns->opts.sll, true);
        tern_nd_entry *learnt = find(st, iface, &ip->src);
        if (learnt) {
            packet_sent(st, learnt, now); /* the advertisement went to the (STALE) neighbour */
        }
        return;
    }
    /* A unicast solicitation (NUD) without the option: answer the neighbour we know. Section
     * 7.2.4: "Because unicast Neighbor Solicitations are not required to include a Source
     * Link-Layer Address, it is possible that a node sending a solicited Neighbor Advertisement
     * does not have a corresponding link-layer address for its neighbor in its Neighbor Cache. In
     * such situations, a node will first have to use Neighbor Discovery to determine the link-layer
     * address of its neighbor": the advertisement then goes out through IPv6 output, which resolves
     * the solicitor and holds the advertisement meanwhile. */
    uint8_t mac[6];
    tern_nd_entry *e = find(st, iface, &ip->src);
    if (e && e->state != TERN_ND_INCOMPLETE) {
        memcpy(mac, e->mac, 6);
        send_na(st, iface, &ns->target, &ip->src, mac, true);
        packet_sent(st, e, now);
        return;
    }
    struct tern_ndp_repr r;
    memset(&r, 0, sizeof r);
    r.type = TERN_ICMPV6_NA;
    r.target = ns->target;
    r.router = st->cfg.forwarding;
    r.solicited = true;
    r.override = true;
    r.opts.has_tll = true;
    memcpy(r.opts.tll, st->iface[iface].mac, 6);
    size_t w;
    if (tern_ndp_emit(&r, &ns->target, &ip->src, tern_ip_tx_payload(st), TERN_IP_PAYLOAD_MAX, &w) !=
        TERN_OK) {
        return;
    }
    tern_ip6_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.src = ns->target;
    tx.dst = ip->src;
    tx.next_header = TERN_IPPROTO_ICMPV6;
    tx.hop_limit = 255;
    tx.oif = iface + 1;
    if (tern_ipv6_send(st, now, &tx, w) == TERN_OK) {
        st->c.nd_na_sent++;
    }
}

static void na_input(tern_stack *st, uint64_t now, uint32_t iface, const struct tern_ipv6_repr *ip,
                     const struct tern_ndp_repr *na) {
    /* Section 7.1.2: "If the IP Destination Address is a multicast address the Solicited flag is
     * zero." */
    if (tern_addr_is_multicast(&ip->dst) && na->solicited) {
        st->c.nd_invalid++;
        return;
    }
    st->c.nd_na_in++;
    int ai = tern_ipv6_addr_index(st, iface, &na->target);
    if (ai >= 0) {
        if (st->iface[iface].addr6[ai].state == TERN_ADDR6_TENTATIVE) {
            tern_nd_dad_input(st, now, iface, (uint32_t)ai, false, ip);
        }
        return; /* someone else claims an address of ours: nothing for the cache */
    }
    tern_nd_entry *e = find(st, iface, &na->target);
    if (!e) {
        return; /* section 7.2.5: "If no entry exists, the advertisement SHOULD be silently
                   discarded." */
    }
    if (e->state == TERN_ND_INCOMPLETE) {
        if (!na->opts.has_tll) {
            return; /* "If the link layer has addresses and no Target Link-Layer Address option is
                       included, the receiving node SHOULD silently discard the received
                       advertisement." */
        }
        memcpy(e->mac, na->opts.tll, 6);
        if (na->solicited) {
            set_reachable(st, e, now);
        } else {
            set_stale(st, e);
        }
        e->is_router = na->router;
        release_queue(st, now, e, true);
        return;
    }
    bool differs = na->opts.has_tll && memcmp(na->opts.tll, e->mac, 6) != 0;
    if (!na->override && differs) {
        /* "If the Override flag is clear and the supplied link-layer address differs from that in
         * the cache, then ... If the state of the entry is REACHABLE, set it to STALE, but do not
         * update the entry in any other way. ... Otherwise, the received advertisement should be
         * ignored and MUST NOT update the cache." */
        if (e->state == TERN_ND_REACHABLE) {
            set_stale(st, e);
        }
        return;
    }
    if (na->opts.has_tll) {
        memcpy(e->mac, na->opts.tll, 6);
    }
    if (na->solicited) {
        set_reachable(st, e, now);
    } else if (differs) {
        set_stale(st, e);
    }
    if (e->is_router && !na->router) {
        tern_nd_router_lost(st, now, iface, &e->ip);
    }
    e->is_router = na->router;
}

bool tern_nd_redirected(const tern_stack *st, const tern_addr *dst, uint32_t *iface,
                        tern_addr *next_hop) {
    for (int i = 0; i < TERN_ND_REDIRECTS; i++) {
        const tern_nd_redirect *r = &st->ip6->redirect[i];
        if (r->used && tern_addr_eq(&r->dst, dst)) {
            *iface = r->iface;
            *next_hop = r->next_hop;
            return true;
        }
    }
    return false;
}

static void redirect_input(tern_stack *st, uint64_t now, uint32_t iface,
                           const struct tern_ipv6_repr *ip, const struct tern_ndp_repr *rd) {
    /* Section 8.1: "IP Source Address is a link-local address", the Destination Address field
     * "is not a multicast address", the Target Address "is either a link-local address (when
     * redirected to a router) or the same as the ICMP Destination Address (when redirected to the
     * on-link destination)", and "The IP source address of the Redirect is the same as the
     * current first-hop router for the specified ICMP Destination Address." */
    bool target_ok = tern_ipv6_is_link_local(&rd->target) || tern_addr_eq(&rd->target, &rd->dest);
    tern_route_result rr;
    if (!tern_ipv6_is_link_local(&ip->src) || tern_addr_is_multicast(&rd->dest) || !target_ok ||
        tern_ipv6_route_lookup(st, &rd->dest, NULL, iface + 1, &rr) != TERN_OK ||
        rr.iface != iface || !tern_addr_eq(&rr.next_hop, &ip->src)) {
        st->c.nd_invalid++;
        return;
    }
    st->c.nd_redirects_in++;
    /* Section 8.3: the destination cache now sends dest to target. */
    tern_nd_redirect *slot = &st->ip6->redirect[0];
    for (int i = 0; i < TERN_ND_REDIRECTS; i++) {
        tern_nd_redirect *r = &st->ip6->redirect[i];
        if (r->used && tern_addr_eq(&r->dst, &rd->dest)) {
            slot = r;
            break;
        }
        if (!r->used || r->time < slot->time) {
            slot = r;
        }
    }
    slot->used = true;
    slot->dst = rd->dest;
    slot->next_hop = rd->target;
    slot->iface = iface;
    slot->time = now;
    /* "If the Target Address is not the same as the Destination Address, the host MUST set
     * IsRouter to TRUE for the target." And the Target Link-Layer Address option, if any,
     * creates or updates the target's entry. */
    bool router = !tern_addr_eq(&rd->target, &rd->dest);
    if (rd->opts.has_tll) {
        tern_nd_update_neighbor(st, now, iface, &rd->target, rd->opts.tll, router);
    } else if (router) {
        tern_nd_entry *e = find(st, iface, &rd->target);
        if (e) {
            e->is_router = true;
        }
    }
}

void tern_nd_input(tern_stack *st, uint64_t now, uint32_t iface, const struct tern_ipv6_repr *ip,
                   const struct tern_icmpv6_repr *icmp) {
    struct tern_ndp_repr r;
    /* Sections 6.1 and 7.1, common to every ND message: "The IP Hop Limit field has a value of
     * 255, i.e., the packet could not possibly have been forwarded by a router", "ICMP Code is
     * 0", the length checks and "All included options have a length that is greater than zero"
     * (tern_ndp_parse), and for NS, NA and Redirect: the target "is not a multicast address". */
    if (ip->hop_limit != 255 || icmp->code != 0 || tern_ndp_parse(icmp, &r) != TERN_OK ||
        ((r.type == TERN_ICMPV6_NS || r.type == TERN_ICMPV6_NA || r.type == TERN_ICMPV6_REDIRECT) &&
         tern_addr_is_multicast(&r.target))) {
        st->c.nd_invalid++;
        return;
    }
    switch (r.type) {
    case TERN_ICMPV6_NS:
        ns_input(st, now, iface, ip, &r);
        break;
    case TERN_ICMPV6_NA:
        na_input(st, now, iface, ip, &r);
        break;
    case TERN_ICMPV6_REDIRECT:
        redirect_input(st, now, iface, ip, &r);
        break;
    case TERN_ICMPV6_RS:
        /* Section 6.1.1: "If the IP source address is the unspecified address, there is no source
         * link-layer address option in the message." */
        if (tern_addr_is_unspecified(&ip->src) && r.opts.has_sll) {
            st->c.nd_invalid++;
            return;
        }
        st->c.nd_rs_in++;
        tern_nd_router_solicit_input(st, now, iface, ip, &r);
        break;
    case TERN_ICMPV6_RA:
        /* Section 6.1.2: "IP Source Address is a link-local address." */
        if (!tern_ipv6_is_link_local(&ip->src)) {
            st->c.nd_invalid++;
            return;
        }
        st->c.nd_ra_in++;
        /* Section 6.3.4: the source link-layer address option updates the router's entry. */
        if (r.opts.has_sll) {
            tern_nd_update_neighbor(st, now, iface, &ip->src, r.opts.sll, true);
        }
        tern_nd_router_advert_input(st, now, iface, ip, &r);
        break;
    default:
        break;
    }
}

tern_err tern_nd_iface_params(const tern_stack *st, uint32_t iface, uint64_t *reachable_ns,
                              uint64_t *retrans_ns, uint8_t *hop_limit) {
    if (iface >= st->niface) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    const tern_nd_iface *n = &st->ip6->nd_if[iface];
    if (reachable_ns) {
        *reachable_ns = n->reachable_ns;
    }
    if (retrans_ns) {
        *retrans_ns = n->retrans_ns;
    }
    if (hop_limit) {
        *hop_limit = n->cur_hop_limit;
    }
    return TERN_OK;
}

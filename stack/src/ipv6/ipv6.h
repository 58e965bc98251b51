/*
 * The IPv6 layer's private header (ipv6/): IPv6 in and out (RFC 8200) with
 * extension headers, fragmentation and reassembly (RFC 5722, 6946, 7112),
 * ICMPv6 (RFC 4443), Neighbor Discovery (RFC 4861), the interfaces' IPv6
 * addresses and routes, as the other layers of the stack see them.
 *
 * Files:
 *   ipv6.c      input (header checks, extension header chain), output
 *               (fragmentation at the source), loopback
 *   exthdr.c    hop-by-hop / destination options and routing header rules
 *   reasm6.c    reassembly
 *   icmpv6.c    echo, errors (with the RFC 4443 section 2.4 rules and the
 *               rate limit), errors delivered to sockets, PMTU cache
 *   nd.c        the neighbour cache (RFC 4861 section 7), NS/NA, NUD, the
 *               queue of packets waiting for resolution, Redirect
 *   nd_hooks.c  the points SLAAC/DAD, RA and MLD (helper "v6more") fill:
 *               RA input, RS input, DAD conflicts, default router choice
 *   addr6.c     interface addresses (link-local from the MAC), multicast
 *               membership, route lookup and source choice for IPv6
 *
 * Upper layers (TCP, UDP) send over IPv6 through tern_ip_send
 * (ipv4/ipv4.h) with an IPv6 destination, or tern_ipv6_send here. They
 * receive from tern_ipv6 through their existing input functions
 * (tern_tcp_input, tern_udp_input) with a struct tern_ipv4_repr used as a
 * family-neutral view: src and dst are IPv6 addresses, protocol is the
 * upper-layer Next Header, ttl the Hop Limit, payload the upper-layer bytes,
 * header_len 0 and options NULL. The packet as received (for an ICMPv6
 * error quote) is available through tern_ipv6_current_packet while that
 * input call runs, and tern_icmp_send_error (ipv4/ipv4.h) given such a view
 * sends the ICMPv6 equivalent (port unreachable -> type 1 code 4).
 */
#ifndef TERN_IPV6_PRIV_H
#define TERN_IPV6_PRIV_H

#include "core/stack_internal.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"
#include "wire/ndp.h"

/* ---- constants (RFC 4861 section 10, RFC 8200 section 4.5) --------------- */

#define TERN_ND_MAX_MULTICAST_SOLICIT 3
#define TERN_ND_MAX_UNICAST_SOLICIT 3
#define TERN_ND_RETRANS_TIMER_NS 1000000000ull          /* RETRANS_TIMER 1,000 ms */
#define TERN_ND_REACHABLE_TIME_NS 30000000000ull        /* REACHABLE_TIME 30,000 ms */
#define TERN_ND_DELAY_FIRST_PROBE_TIME_NS 5000000000ull /* DELAY_FIRST_PROBE_TIME 5 s */
#define TERN_IPV6_REASM_TIMEOUT_NS 60000000000ull       /* RFC 8200 section 4.5: 60 seconds */
#define TERN_IPV6_PMTU_AGE_NS 600000000000ull           /* RFC 8201 section 4: 10 minutes */
#define TERN_IPV6_MCAST_GROUPS 8 /* groups joined per interface beyond all-nodes/solicited-node */

/* Neighbour cache states (RFC 4861 section 7.3.2). */
enum tern_nd_state {
    TERN_ND_FREE = 0,
    TERN_ND_INCOMPLETE,
    TERN_ND_REACHABLE,
    TERN_ND_STALE,
    TERN_ND_DELAY,
    TERN_ND_PROBE,
};

/* Per-interface Neighbor Discovery host variables (RFC 4861 section 6.3.2). */
typedef struct tern_nd_iface {
    uint8_t cur_hop_limit;      /* CurHopLimit: the default Hop Limit */
    uint32_t link_mtu;          /* LinkMTU (an RA's MTU option may lower it) */
    uint64_t base_reachable_ns; /* BaseReachableTime */
    uint64_t reachable_ns;      /* ReachableTime: random in [0.5, 1.5] x BaseReachableTime */
    uint64_t retrans_ns;        /* RetransTimer */
    uint32_t ngroups;           /* multicast groups joined (tern_ipv6_mcast_join) */
    tern_addr group[TERN_IPV6_MCAST_GROUPS];
    uint16_t group_refs[TERN_IPV6_MCAST_GROUPS];
} tern_nd_iface;

/* ---- IPv6 output ----------------------------------------------------------- */

typedef struct tern_ip6_tx {
    tern_addr src;         /* unspecified (or family NONE): chosen by the route */
    tern_addr dst;         /* IPv6 */
    uint8_t next_header;   /* the upper layer (TERN_IPPROTO_TCP, _UDP, _ICMPV6...) */
    uint8_t hop_limit;     /* 0: the interface's CurHopLimit (multicast: 1 unless set) */
    uint8_t traffic_class; /* DSCP << 2 | ECN */
    bool dontfrag;         /* refuse (TERN_ERR_MSG_TOO_LONG) instead of fragmenting */
    /* A hop-by-hop options header to insert (MLD's Router Alert, RFC 3810 section 5), its
     * Next Header byte is filled in; a multiple of 8 bytes, at most 16; or NULL. */
    const uint8_t *hbh;
    uint8_t hbh_len;
    /* The interface for a link-scoped destination (link-local unicast, multicast) as iface + 1;
     * 0: the interface of src if it is ours, else interface 0. */
    uint32_t oif;
    /* Send from :: as given (DAD's solicitations, RFC 4862 section 5.4.2) instead of choosing. */
    bool unspecified_src;
} tern_ip6_tx;

/*
 * tern_ipv6_send: send the datagram whose upper-layer payload is at
 * tern_ip_tx_payload(st) (payload_len bytes; the upper-layer checksum already
 * computed for the source the route chooses: call tern_route_lookup first
 * when src is unspecified). Resolves the next hop with Neighbor Discovery
 * (holding the packet while it works), fragments at the source when above the
 * path MTU (RFC 8200 section 4.5) unless dontfrag.
 * Returns TERN_OK (sent, queued, or held for resolution); TERN_ERR_NO_ROUTE;
 * TERN_ERR_MSG_TOO_LONG (dontfrag and above the path MTU, or above 65535);
 * TERN_ERR_NO_BUFFER (could not hold it for resolution, counted);
 * TERN_ERR_INVALID_ARGUMENT (dst not IPv6, a bad hbh).
 */
tern_err tern_ipv6_send(tern_stack *st, uint64_t now, const tern_ip6_tx *tx, size_t payload_len);

/* Send a whole packet (ip, len: header and all; TERN_TX_HEADROOM - 40 bytes of headroom before it)
 * to next_hop out of iface, without fragmenting it (TERN_ERR_MSG_TOO_LONG above mtu); resolves the
 * next hop with Neighbor Discovery, holding the packet meanwhile. */
tern_err tern_ipv6_output(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *next_hop,
                          uint8_t *ip, size_t len, uint32_t mtu);

/* forward6.c: route on a packet from a link that is for nobody here (forwarding on): Hop Limit,
 * MTU and route checked, the ICMPv6 error sent when one fails (RFC 4443). */
void tern_ipv6_forward(tern_stack *st, uint64_t now, uint32_t iface,
                       const struct tern_ipv6_repr *ip, const uint8_t *buf, size_t len,
                       bool link_mcast);

/* Send a packet held for resolution (ip[0..len) from its header, with TERN_TX_HEADROOM - 40 bytes
 * of room before it) now that next_hop resolved (nd.c calls it). */
void tern_ipv6_output_resolved(tern_stack *st, uint64_t now, uint32_t iface,
                               const tern_addr *next_hop, uint8_t *ip, size_t len);

/* ---- input ------------------------------------------------------------------- */

/* One received IPv6 packet (Ethernet payload) on iface; link_multicast: the frame's destination
 * MAC was multicast or broadcast. */
void tern_ipv6_input(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *buf, size_t len,
                     bool link_multicast);
/* A packet we sent to ourselves (from the loopback queue, called by tern_ipv4_poll). */
void tern_ipv6_loopback_input(tern_stack *st, uint64_t now, const uint8_t *buf, size_t len);
/*
 * The packet whose upper layer is being delivered right now (from its IPv6
 * header; a reassembled packet whole), for ICMPv6 error quotes; NULL outside
 * an input call. *len receives its length, *link_multicast how it came.
 */
const uint8_t *tern_ipv6_current_packet(const tern_stack *st, size_t *len, bool *link_multicast);

/* Does the Ethernet destination mac (multicast 33:33:...) concern a group iface listens to? */
bool tern_ipv6_wants_mac(const tern_stack *st, uint32_t iface, const uint8_t mac[6]);

/* ---- ICMPv6 ---------------------------------------------------------------------- */

/*
 * tern_icmpv6_send_error: send an ICMPv6 error (RFC 4443 section 3) about the
 * packet pkt[0..len) (from its IPv6 header), quoting as much of it as keeps the
 * error within 1280 bytes (section 2.4 (c)), unless section 2.4 (e) forbids it
 * (about an error or a Redirect, to a multicast destination or a link-layer
 * multicast/broadcast - except Packet Too Big and Parameter Problem code 2 -,
 * from a source that is not a single node), or the token bucket (section
 * 2.4 (f)) holds it back (counted: icmp6_rate_limited).
 *   param  the MTU (Packet Too Big) or the pointer (Parameter Problem); 0 else
 */
void tern_icmpv6_send_error(tern_stack *st, uint64_t now, uint8_t type, uint8_t code,
                            uint32_t param, const uint8_t *pkt, size_t len, bool link_multicast);
/* ICMPv6 input: ip is the IPv6 header's fields, msg/len the ICMPv6 message. */
void tern_icmpv6_input(tern_stack *st, uint64_t now, uint32_t iface,
                       const struct tern_ipv6_repr *ip, const uint8_t *msg, size_t len,
                       bool link_multicast);
/*
 * tern_ipv6_pmtu_update: lower the path MTU estimate towards dst to mtu (RFC 8201 section 4: never
 * below 1280, never raised by a Packet Too Big; it ages back after 10 minutes). ICMPv6 input calls
 * it for every Packet Too Big about a packet of ours; a transport that validates the quoted packet
 * first (TCP's sequence check, RFC 5927) may call it itself.
 */
void tern_ipv6_pmtu_update(tern_stack *st, uint64_t now, const tern_addr *dst, uint32_t mtu);
/* The path MTU towards dst (RFC 8201): the interface MTU unless a Packet Too Big lowered it. */
uint32_t tern_ipv6_path_mtu(const tern_stack *st, uint64_t now, const tern_addr *dst,
                            uint32_t iface_mtu);

/* ---- Neighbor Discovery -------------------------------------------------------- */

/*
 * tern_nd_resolve: the MAC for next_hop on iface. Multicast maps directly
 * (RFC 2464 section 7); a REACHABLE, STALE, DELAY or PROBE entry answers at
 * once (a STALE one moves to DELAY, RFC 4861 section 7.3.3); otherwise an
 * INCOMPLETE entry is made and a Neighbor Solicitation sent, and
 * TERN_ERR_WOULD_BLOCK says to hold the packet (tern_nd_hold).
 * TERN_ERR_NO_BUFFER when no entry can be had (counted: nd_table_full).
 * pkt_src (or NULL) is the source of the packet prompting it: the solicitation
 * is sent from it when it is ours (section 7.2.2).
 */
tern_err tern_nd_resolve(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *next_hop,
                         const tern_addr *pkt_src, uint8_t mac[6]);
/*
 * tern_nd_hold: keep a whole IPv6 packet (ip[0..len), from its header, before
 * fragmentation) until next_hop resolves. Bounded: at most nd_queue packets in
 * all; when a neighbour already has TERN_ND_QUEUE_PER_NEIGHBOR waiting, the new
 * one replaces its oldest (RFC 4861 section 7.2.2 "When a queue overflows, the new
 * arrival SHOULD replace the oldest entry."). Returns TERN_OK or TERN_ERR_NO_BUFFER (counted).
 */
#define TERN_ND_QUEUE_PER_NEIGHBOR 3
tern_err tern_nd_hold(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *next_hop,
                      const uint8_t *ip, size_t len);
/*
 * tern_nd_confirm_reachable: the upper-layer reachability hint of RFC 4861
 * section 7.3.1 ("new acknowledgments ... indicate forward progress"). TCP
 * calls it when an ACK acknowledges new data from `neighbor` (the peer's
 * address; for an off-link peer the hint is for the router the route uses).
 * A cache entry that is not INCOMPLETE becomes REACHABLE for ReachableTime.
 */
void tern_nd_confirm_reachable(tern_stack *st, uint64_t now, const tern_addr *neighbor);
/* ND message input (NS, NA, Redirect; RS and RA go to nd_hooks.c), after the ICMPv6 checksum. */
void tern_nd_input(tern_stack *st, uint64_t now, uint32_t iface, const struct tern_ipv6_repr *ip,
                   const struct tern_icmpv6_repr *icmp);
/*
 * tern_nd_update_neighbor: record a neighbour's link-layer address learnt from
 * an NS, an RA or a Redirect (RFC 4861 sections 7.2.3, 6.3.4, 8.3): creates or
 * updates the entry as STALE when the address is new or changed (an INCOMPLETE
 * entry sends its queued packets), and sets its IsRouter flag when is_router.
 */
void tern_nd_update_neighbor(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *ip,
                             const uint8_t mac[6], bool is_router);
/* Send a Neighbor Solicitation for target (src unspecified: DAD; dst unspecified: the target's
 * solicited-node group). Used by nd.c and by DAD (v6more). */
void tern_nd_send_ns(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *src,
                     const tern_addr *dst, const tern_addr *target, bool with_sll);
/* The cache entry's state for ip (enum tern_nd_state; TERN_ND_FREE if none). */
int tern_nd_state_of(const tern_stack *st, const tern_addr *ip, uint8_t mac[6]);
void tern_nd_poll(tern_stack *st, uint64_t now);
uint64_t tern_nd_poll_at(const tern_stack *st);
/* Recompute ReachableTime from BaseReachableTime with the seeded generator (section 6.3.2). */
void tern_nd_new_reachable_time(tern_stack *st, uint32_t iface);
/* The interface's ND variables. */
tern_nd_iface *tern_nd_iface_of(tern_stack *st, uint32_t iface);
/* The redirect (destination cache) entry for dst: *next_hop receives the better first hop. */
bool tern_nd_redirected(const tern_stack *st, const tern_addr *dst, uint32_t *iface,
                        tern_addr *next_hop);

/* ---- hooks for SLAAC, DAD, RA and MLD (nd_hooks.c, helper v6more) ------------------- */

/* A valid Router Advertisement arrived (RFC 4861 section 6.1.2 checks done by nd.c; the
 * neighbour-cache update of section 6.3.4 too). Default router list, prefix list, MTU, hop
 * limit, ReachableTime, RetransTimer: section 6.3.4. */
void tern_nd_router_advert_input(tern_stack *st, uint64_t now, uint32_t iface,
                                 const struct tern_ipv6_repr *ip, const struct tern_ndp_repr *ra);
/* A valid Router Solicitation arrived (section 6.1.1): hosts ignore them (section 6.2.6 is for
 * routers). */
void tern_nd_router_solicit_input(tern_stack *st, uint64_t now, uint32_t iface,
                                  const struct tern_ipv6_repr *ip, const struct tern_ndp_repr *rs);
/* An NS (from_ns) or NA about one of our TENTATIVE addresses (index ai of the interface): RFC
 * 4862 section 5.4.3/5.4.4. */
void tern_nd_dad_input(tern_stack *st, uint64_t now, uint32_t iface, uint32_t ai, bool from_ns,
                       const struct tern_ipv6_repr *ip);
/* The first hop for an off-link destination from the default router list (RFC 4861 section
 * 6.3.6); false when there is none. Routers whose lifetime ran out are removed by the hooks'
 * own poll, so this needs no time. */
bool tern_nd_default_router(const tern_stack *st, uint32_t iface_hint, uint32_t *iface,
                            tern_addr *router);
/* A router entry's IsRouter flag went from true to false (section 7.2.5): drop it from the
 * default router list. */
void tern_nd_router_lost(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *router);
/* A valid MLD message (query, report) arrived; hosts answer queries (RFC 3810). */
void tern_mld_input(tern_stack *st, uint64_t now, uint32_t iface, const struct tern_ipv6_repr *ip,
                    const struct tern_icmpv6_repr *icmp);

/*
 * A static address added (or removed) at run time (tern_iface_add_addr): with autoconfiguration
 * it is tentative until DAD (RFC 4862 section 5.4); its solicited-node group is joined (left).
 * ipv6/autoconf.c.
 */
void tern_ipv6_addr_added(tern_stack *st, uint32_t iface, const tern_addr *addr,
                          uint8_t prefix_len);
void tern_ipv6_addr_removed(tern_stack *st, uint32_t iface, const tern_addr *addr);

/* ---- addresses, membership, routes ----------------------------------------------------- */

/* Is addr one of iface's IPv6 addresses (any state)? Returns its index or -1. */
int tern_ipv6_addr_index(const tern_stack *st, uint32_t iface, const tern_addr *addr);
/*
 * tern_ipv6_add_addr: add an address to iface's table (static addresses and
 * SLAAC's). Returns TERN_OK; TERN_ERR_ADDR_IN_USE if present already;
 * TERN_ERR_NO_BUFFER when the table (TERN_MAX_IFACE_ADDRS6) is full.
 */
tern_err tern_ipv6_add_addr(tern_stack *st, uint32_t iface, const tern_addr *addr,
                            uint8_t prefix_len, uint8_t state, uint8_t origin);
tern_err tern_ipv6_del_addr(tern_stack *st, uint32_t iface, const tern_addr *addr);
/* Join / leave a multicast group on iface (reference counted; all-nodes and the solicited-node
 * groups of our addresses are always joined and need no call). TERN_ERR_NO_BUFFER when full. */
tern_err tern_ipv6_mcast_join(tern_stack *st, uint32_t iface, const tern_addr *group);
tern_err tern_ipv6_mcast_leave(tern_stack *st, uint32_t iface, const tern_addr *group);
/* Does iface listen to the multicast group? (all-nodes, our solicited-node groups, joined ones) */
bool tern_ipv6_is_member(const tern_stack *st, uint32_t iface, const tern_addr *group);
/* Is addr an IPv6 address of ours that may receive (not tentative)? *iface receives where. */
bool tern_ipv6_is_local(const tern_stack *st, const tern_addr *addr, uint32_t *iface);
/* Route an IPv6 destination (called by tern_route_lookup). oif: as tern_ip6_tx.oif. */
tern_err tern_ipv6_route_lookup(const tern_stack *st, const tern_addr *dst, const tern_addr *src,
                                uint32_t oif, tern_route_result *out);
/*
 * tern_ipv6_select_source: the source address for dst out of iface (a simple
 * subset of RFC 6724 section 5: same scope first - link-local for link-scoped
 * destinations -, preferred before deprecated, then longest matching prefix;
 * tentative addresses never). v6more's addrsel.c may replace the body.
 * Returns false when the interface has no usable address.
 */
bool tern_ipv6_select_source(const tern_stack *st, uint32_t iface, const tern_addr *dst,
                             tern_addr *out);

/* ---- memory, poll ------------------------------------------------------------------ */

size_t tern_ipv6_memory_size(const tern_stack_config *cfg);
void tern_ipv6_init(tern_stack *st, uint8_t *mem);
void tern_ipv6_poll(tern_stack *st, uint64_t now);
/* tern_ipv6_poll while the quiet parts (autoconfiguration: SLAAC, MLD, Router Solicitations)
 * have nothing due (tern_stack_poll's cache says so): Neighbor Discovery and reassembly only;
 * autoconfiguration's time (read by calls between polls) moves on to now. */
void tern_ipv6_poll_not_quiet(tern_stack *st, uint64_t now);
/* Autoconfiguration's earliest deadline (SLAAC, MLD, Router Solicitations: the part of the quiet
 * modules a quiet poll skips, tern_poll_cache). IPv6 reassembly's is tern_reasm6_poll_at (polled
 * every time); ND's is tern_nd_poll_at, which TCP's sends change. */
uint64_t tern_ipv6_autoconf_poll_at(const tern_stack *st);

/* Reassembly (reasm6.c). */
size_t tern_reasm6_memory_size(const tern_stack_config *cfg);
void tern_reasm6_init(tern_stack *st, uint8_t *mem);
void tern_reasm6_poll(tern_stack *st, uint64_t now);
uint64_t tern_reasm6_poll_at(const tern_stack *st);
/* IPv6 reassembly slots in use, counted by a scan (test builds check st->reasm6_used). */
uint32_t tern_reasm6_used_scan(const tern_stack *st);
/*
 * Feed a fragment: pkt[0..len) from the IPv6 header; frag_off is where the
 * fragment header starts (from the IPv6 header), nh_field where the Next
 * Header field naming it is. When the fragment completes a packet, returns
 * true with *whole and *whole_len the reassembled packet (in the slot's memory,
 * fragment header removed); the caller processes it and calls
 * tern_reasm6_release(st, *slot).
 */
bool tern_reasm6_input(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *pkt, size_t len,
                       size_t frag_off, size_t nh_field, const uint8_t **whole, size_t *whole_len,
                       uint32_t *slot);
void tern_reasm6_release(tern_stack *st, uint32_t slot);

#endif /* TERN_IPV6_PRIV_H */

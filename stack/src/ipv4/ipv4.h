/*
 * The IPv4 layer's private header (ipv4/): IPv4 output and input, ICMPv4,
 * ARP and reassembly, as the other layers of the stack see them.
 */
#ifndef TERN_IPV4_H
#define TERN_IPV4_H

#include "core/stack_internal.h"

/* ---- IPv4 output --------------------------------------------------------- */

/* tern_ip_tx is the family-neutral request of core/stack_internal.h. */

/*
 * Send the datagram whose payload is at tern_ip_tx_payload(st). An IPv6
 * destination goes to tern_ipv6_send (ipv6/ipv6.h) with protocol as the Next
 * Header, ttl as the Hop Limit (0: the default), dscp as the traffic class's
 * upper 6 bits and df as "do not fragment at the source"; options are not
 * used then. The L4
 * checksum must already be right for tx->src (route first with
 * tern_route_lookup when src is unspecified). Resolves the next hop (queueing
 * the packet while ARP works), fragments when above the MTU.
 * Returns TERN_OK (sent or queued); TERN_ERR_NO_ROUTE; TERN_ERR_MSG_TOO_LONG
 * (DF and above the MTU); TERN_ERR_NO_BUFFER (could not queue for ARP).
 */
tern_err tern_ip_send(tern_stack *st, uint64_t now, const tern_ip_tx *tx, size_t payload_len);

/* ---- ICMP errors ----------------------------------------------------------- */

/*
 * Send an ICMP error about the datagram `ip` (parsed; hdr_bytes holds its
 * ip->header_len original header bytes; the quote is that header and as much
 * of the payload as keeps the error within 576 bytes, RFC 1812 §4.3.2.3) unless RFC 1122 §3.2.2
 * forbids it (about an ICMP error, a broadcast or multicast, a non-first fragment, a non-unicast
 * source) or the rate limit holds it back (counted).
 * Given the family-neutral view of an IPv6 packet (IPv6 addresses, see
 * ipv6/ipv6.h) during its delivery, it sends the ICMPv6 equivalent instead:
 * port unreachable becomes Destination Unreachable code 4 (RFC 4443 §3.1);
 * nothing else is sent (IPv6 input sends its own Parameter Problems).
 */
void tern_icmp_send_error(tern_stack *st, uint64_t now, uint8_t type, uint8_t code, uint16_t mtu,
                          const struct tern_ipv4_repr *ip, const uint8_t *hdr_bytes,
                          bool link_broadcast);

/* ICMP input: hdr holds the datagram's original ip->header_len header bytes. */
void tern_icmp_input(tern_stack *st, uint64_t now, const struct tern_ipv4_repr *ip,
                     const uint8_t *hdr, bool link_broadcast);

/* ---- ARP ------------------------------------------------------------------- */

/*
 * The MAC for next_hop on iface: broadcast and multicast map directly, a
 * cached neighbour is returned; otherwise resolution starts (a request now,
 * or when the one-per-second limit allows) and TERN_ERR_WOULD_BLOCK says so.
 */
tern_err tern_arp_resolve(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *next_hop,
                          uint8_t mac[6]);
/*
 * Hold a whole IP datagram (header and payload, before fragmentation) until
 * next_hop resolves; it is then sent with tern_ipv4_output_resolved, or, if
 * resolution fails, answered with ICMP host unreachable. Bounded: returns
 * TERN_ERR_NO_BUFFER (counted) when the queue or the pool is full.
 */
tern_err tern_arp_hold(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *next_hop,
                       const uint8_t *ip, size_t len);
/*
 * The resolved entry for next_hop on iface, as tern_arp_resolve would use it (reachable and not
 * expired at now), or NULL; nothing starts resolving. For header templates, which keep the entry
 * while st->arp_gen stands (every change to an entry bumps it).
 */
tern_arp_entry *tern_arp_reachable(tern_stack *st, uint64_t now, uint32_t iface,
                                   const tern_addr *next_hop);
/* The entry's MAC (6 bytes) and expiry. */
const uint8_t *tern_arp_entry_mac(const tern_arp_entry *e);
uint64_t tern_arp_entry_expires(const tern_arp_entry *e);
/* A datagram went out through e at now (as tern_arp_resolve records it: least recently used
 * entries are reused first; near the end of its lifetime, e is polled, arp.c used()). */
void tern_arp_entry_used(tern_stack *st, tern_arp_entry *e, uint64_t now);
void tern_arp_input(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *buf, size_t len);

/* ---- header templates (tx_template.c) ----------------------------------------- */

/*
 * tern_ip4_tmpl_get: the template for IPv4 datagrams from src to dst with the TTL ttl (0: the
 * default) in t, rebuilt when stale (rc is the sender's kept route, tern_route_cached). Returns
 * t; NULL when such datagrams do not go out as one unicast frame to a resolved neighbour (no
 * route, to ourselves, broadcast or multicast, next hop not resolved: tern_ip_send then does what
 * is needed, e.g. starts ARP). Test builds (TERN_POLL_CACHE_CHECK) check a kept template against
 * a fresh build and trap on a difference. tern_ip4_tmpl_rebuild builds t afresh whatever it
 * held, with the same returns.
 */
const tern_ip4_tmpl *tern_ip4_tmpl_rebuild(tern_stack *st, uint64_t now, tern_ip4_tmpl *t,
                                           tern_route_cache *rc, const tern_addr *src,
                                           const tern_addr *dst, uint8_t ttl);
#ifdef TERN_POLL_CACHE_CHECK
/* Test builds: trap unless the kept template t equals a fresh build for src, dst and ttl. */
void tern_ip4_tmpl_check(tern_stack *st, uint64_t now, const tern_ip4_tmpl *t, const tern_addr *src,
                         const tern_addr *dst, uint8_t ttl);
#endif
/* The kept template's validity is a few compares, made at every segment: inline, so that the
 * steady state pays no call with seven arguments (issue 19); the rebuild stays out of line. */
static inline const tern_ip4_tmpl *tern_ip4_tmpl_get(tern_stack *st, uint64_t now, tern_ip4_tmpl *t,
                                                     tern_route_cache *rc, const tern_addr *src,
                                                     const tern_addr *dst, uint8_t ttl) {
    if (t->route_gen == st->route_gen && t->arp_gen == st->arp_gen && now < t->expires &&
        t->ttl_req == ttl) {
#ifdef TERN_POLL_CACHE_CHECK
        tern_ip4_tmpl_check(st, now, t, src, dst, ttl);
#endif
        return t;
    }
    return tern_ip4_tmpl_rebuild(st, now, t, rc, src, dst, ttl);
}
/* Does a datagram with len payload bytes leave through t in one frame (within the MTU)? */
bool tern_ip4_tmpl_fits(const tern_ip4_tmpl *t, size_t len);
/*
 * Send the datagram whose payload (len bytes, tern_ip4_tmpl_fits) is at st->txp through t: the
 * same frame, counters and side effects as tern_ip_send for it (IP ID, the neighbour's use, packet
 * tap, frame lending).
 */
void tern_ip4_tmpl_send(tern_stack *st, uint64_t now, const tern_ip4_tmpl *t, size_t len);
void tern_arp_poll(tern_stack *st, uint64_t now);
uint64_t tern_arp_poll_at(const tern_stack *st);

/* ---- IPv4 input and reassembly ----------------------------------------------- */

void tern_ipv4_input(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *buf, size_t len,
                     bool link_broadcast);
/* Send a held datagram (ip, len bytes, in a buffer with TERN_TX_HEADROOM bytes before it) now that
 * next_hop resolved. */
void tern_ipv4_output_resolved(tern_stack *st, uint64_t now, uint32_t iface,
                               const tern_addr *next_hop, uint8_t *ip, size_t len);
/* Deliver datagrams sent to ourselves (queued by tern_ip_send). */
void tern_ipv4_poll(tern_stack *st, uint64_t now);
void tern_reasm_poll(tern_stack *st, uint64_t now);
uint64_t tern_reasm_poll_at(const tern_stack *st);
/* Reassembly slots in use, counted by a scan (test builds check st->reasm_used against it). */
uint32_t tern_reasm_used_scan(const tern_stack *st);

/* ---- IGMP (igmp.c; the public side is tern/igmp.h) ---------------------------- */

/* An IGMP message (IP protocol 2) that arrived on iface for us. */
void tern_igmp_input(tern_stack *st, uint64_t now, uint32_t iface, const struct tern_ipv4_repr *ip);
/* Is iface a member of group (224.0.0.1 always)? Decides whether a datagram to the group is ours.
 */
bool tern_igmp_is_member(const tern_stack *st, uint32_t iface, const tern_addr *group);
/* Has UDP socket s joined group (on any interface)? Decides which sockets get a copy. */
bool tern_igmp_sock_joined(const tern_stack *st, tern_sock s, const tern_addr *group);
/* UDP socket s closed: leave all its groups. */
void tern_igmp_sock_closed(tern_stack *st, tern_sock s);
/* Joins by the stack itself (mDNS): as tern_udp_join/leave for an owner that is no socket. */
tern_err tern_igmp_join(tern_stack *st, uint32_t iface, const tern_addr *group);
tern_err tern_igmp_leave(tern_stack *st, uint32_t iface, const tern_addr *group);
void tern_igmp_poll(tern_stack *st, uint64_t now);
/* Instead of tern_igmp_poll while IGMP has nothing due (tern_stack_poll's cache says so): only
 * IGMP's time (read by calls between polls) moves on to now. */
void tern_igmp_set_now(tern_stack *st, uint64_t now);
uint64_t tern_igmp_poll_at(const tern_stack *st);
/* IGMP's groups in use: the count poll and poll_at consult, and a scan of the table (test
 * builds check that they agree). */
uint32_t tern_igmp_groups_used(const tern_stack *st);
uint32_t tern_igmp_groups_used_scan(const tern_stack *st);

/* ---- memory ---------------------------------------------------------------- */

size_t tern_arp_memory_size(const tern_stack_config *cfg);
void tern_arp_init(tern_stack *st, uint8_t *mem);
size_t tern_reasm_memory_size(const tern_stack_config *cfg);
void tern_reasm_init(tern_stack *st, uint8_t *mem);
size_t tern_igmp_memory_size(void);
void tern_igmp_init(tern_stack *st, uint8_t *mem);

/*
 * Reassembly (RFC 791 §3.2, RFC 815): feed a fragment. When it completes a
 * datagram, returns true and fills *whole (payload in the slot's memory) and
 * *hdr (the first fragment's header bytes); the caller delivers it and then
 * calls tern_reasm_release(st, *slot).
 */
bool tern_reasm_input(tern_stack *st, uint64_t now, const struct tern_ipv4_repr *frag,
                      const uint8_t *frag_hdr, uint32_t iface, struct tern_ipv4_repr *whole,
                      const uint8_t **hdr, uint32_t *slot);
void tern_reasm_release(tern_stack *st, uint32_t slot);

#endif /* TERN_IPV4_H */

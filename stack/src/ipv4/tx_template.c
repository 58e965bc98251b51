/*
 * IPv4 header templates (issue 19): a sender that sends many datagrams to one
 * destination (a TCP connection) keeps their Ethernet and IPv4 headers
 * prebuilt, as the BSDs keep a TCP header template per connection. Sending is
 * then a copy of the 34 bytes, the total length and the identification
 * stored, and the header checksum finished from the sum of the fields that do
 * not change: RFC 1624 section 3, "HC' = ~(C + (-m) + m')", with m zero (the
 * template holds zero in the total length and identification fields).
 *
 * What it skips is exactly what does not change while it holds: the route
 * (st->route_gen: the route table, the interfaces' addresses and MTUs), the
 * neighbour's MAC (st->arp_gen: every ARP entry change; and the entry's
 * expiry, checked against now) and the TTL the sender asks for. Everything
 * else tern_ip_send does per datagram still happens per datagram, in the same
 * order: the IP ID, the neighbour's last use, ip_out, and tern_eth_send (the
 * padding, frames_out and bytes_out, the packet tap, frame lending).
 */
#include <string.h>

#include "ipv4.h"
#include "core/stack_internal.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"

_Static_assert(sizeof(((tern_ip4_tmpl *)0)->hdr) == TERN_ETH_HDR + TERN_IPV4_MIN_HDR_LEN,
               "the template holds an Ethernet header and an IPv4 header without options");

/* The TTL tern_ip_send puts in a datagram whose sender asked for ttl. */
static uint8_t effective_ttl(const tern_stack *st, uint8_t ttl) {
    return ttl ? ttl : st->cfg.ttl;
}

/* Build t for src -> dst, or leave it empty and return false. */
static bool build(tern_stack *st, uint64_t now, tern_ip4_tmpl *t, tern_route_cache *rc,
                  const tern_addr *src, const tern_addr *dst, uint8_t ttl) {
    t->route_gen = 0;
    const tern_route_cache *c = tern_route_cached(st, rc, dst, src);
    if (c == NULL || c->local || c->rr.broadcast || tern_addr_is_multicast(dst)) {
        return false; /* looped back, or not one neighbour's: tern_ip_send's other paths */
    }
    const tern_route_result *rr = &c->rr;
    if (tern_is_broadcast_addr(st, &rr->next_hop, rr->iface) ||
        tern_addr_is_multicast(&rr->next_hop)) {
        return false; /* tern_arp_resolve maps these without an entry */
    }
    tern_arp_entry *nb = tern_arp_reachable(st, now, rr->iface, &rr->next_hop);
    if (nb == NULL) {
        return false; /* tern_ip_send holds the datagram and resolves */
    }
    uint8_t *eth = t->hdr, *ip = t->hdr + TERN_ETH_HDR;
    memcpy(eth, tern_arp_entry_mac(nb), 6);
    memcpy(eth + 6, st->iface[rr->iface].mac, 6);
    tern_put_u16(eth + 12, TERN_ETHERTYPE_IPV4);
    /* The header tern_ipv4_emit writes for tern_ip_send's request, with the total length, the
     * identification and the checksum left zero (RFC 791 section 3.1). */
    ip[0] = 0x45;
    ip[1] = 0; /* DSCP and ECN: TCP asks for neither */
    tern_put_u16(ip + 2, 0);
    tern_put_u16(ip + 4, 0);
    tern_put_u16(ip + 6, 0x4000); /* DF: RFC 1191 path MTU discovery */
    ip[8] = effective_ttl(st, ttl);
    ip[9] = TERN_IPPROTO_TCP;
    tern_put_u16(ip + 10, 0);
    memcpy(ip + 12, rr->src.bytes, 4);
    memcpy(ip + 16, dst->bytes, 4);
    t->ip_sum = tern_csum_add(0, ip, TERN_IPV4_MIN_HDR_LEN);
    t->l4_sum = tern_csum_pseudo(src, dst, TERN_IPPROTO_TCP, 0);
    t->ttl_req = ttl;
    t->iface = rr->iface;
    t->mtu = rr->mtu;
    t->nb = nb;
    t->expires = tern_arp_entry_expires(nb);
    t->arp_gen = st->arp_gen;
    t->route_gen = st->route_gen;
    return true;
}

#ifdef TERN_POLL_CACHE_CHECK
/* Test builds: a kept template must equal a fresh build (a change to what it depends on that
 * neither generation saw is a bug); stop at once, in the test that found it. */
static void check(tern_stack *st, uint64_t now, const tern_ip4_tmpl *t, const tern_addr *src,
                  const tern_addr *dst, uint8_t ttl) {
    tern_ip4_tmpl fresh;
    tern_route_cache rc;
    memset(&rc, 0, sizeof rc);
    memset(&fresh, 0, sizeof fresh);
    if (!build(st, now, &fresh, &rc, src, dst, ttl) ||
        memcmp(fresh.hdr, t->hdr, sizeof t->hdr) != 0 || fresh.ip_sum != t->ip_sum ||
        fresh.l4_sum != t->l4_sum || fresh.iface != t->iface || fresh.mtu != t->mtu ||
        fresh.nb != t->nb) {
        __builtin_trap();
    }
}

/* Test builds: the header sent is, byte for byte, the one tern_ip_send has tern_ipv4_emit write for
 * the same datagram (the slow path), checksum included; stop at once on a difference. */
static void check_header(const tern_stack *st, const tern_ip4_tmpl *t, const uint8_t *ip,
                         uint16_t id, size_t len) {
    struct tern_ipv4_repr h;
    memset(&h, 0, sizeof h);
    h.id = id;
    h.df = true;
    h.ttl = effective_ttl(st, t->ttl_req);
    h.protocol = TERN_IPPROTO_TCP;
    h.src = tern_addr_v4_from_bytes(ip + 12);
    h.dst = tern_addr_v4_from_bytes(ip + 16);
    /* emit wants room for the payload too, which is not here: the header is emitted for an empty
     * payload, then given the real total length and its checksum summed in full (RFC 791 §3.1). */
    uint8_t ref[TERN_IPV4_MIN_HDR_LEN];
    size_t w;
    if (tern_ipv4_emit(&h, ref, sizeof ref, &w) != TERN_OK) {
        __builtin_trap();
    }
    tern_put_u16(ref + 2, (uint16_t)(TERN_IPV4_MIN_HDR_LEN + len));
    tern_put_u16(ref + 10, 0);
    tern_put_u16(ref + 10, tern_csum(ref, sizeof ref));
    if (memcmp(ref, ip, sizeof ref) != 0) {
        __builtin_trap();
    }
}
#endif

#ifdef TERN_POLL_CACHE_CHECK
void tern_ip4_tmpl_check(tern_stack *st, uint64_t now, const tern_ip4_tmpl *t, const tern_addr *src,
                         const tern_addr *dst, uint8_t ttl) {
    check(st, now, t, src, dst, ttl);
}
#endif

const tern_ip4_tmpl *tern_ip4_tmpl_rebuild(tern_stack *st, uint64_t now, tern_ip4_tmpl *t,
                                           tern_route_cache *rc, const tern_addr *src,
                                           const tern_addr *dst, uint8_t ttl) {
    return build(st, now, t, rc, src, dst, ttl) ? t : NULL;
}

bool tern_ip4_tmpl_fits(const tern_ip4_tmpl *t, size_t len) {
    /* Above the MTU, tern_ip_send refuses a DF datagram (TERN_ERR_MSG_TOO_LONG), which its
     * sender acts on: that path, not this one. */
    return len <= TERN_IP_PAYLOAD_MAX && TERN_IPV4_MIN_HDR_LEN + len <= t->mtu;
}

void tern_ip4_tmpl_send(tern_stack *st, uint64_t now, const tern_ip4_tmpl *t, size_t len) {
    uint8_t *ip = st->txp - TERN_IPV4_MIN_HDR_LEN;
    uint8_t *frame = ip - TERN_ETH_HDR;
    memcpy(frame, t->hdr, sizeof t->hdr);
    uint16_t total = (uint16_t)(TERN_IPV4_MIN_HDR_LEN + len);
    uint16_t id = st->ip_id++;
    tern_put_u16(ip + 2, total);
    tern_put_u16(ip + 4, id);
    /* RFC 1624 section 3 (eqn. 3) from a zero field: the constant part's sum plus the new
     * fields, complemented. */
    uint32_t sum = tern_csum_add_u16(tern_csum_add_u16(t->ip_sum, total), id);
    tern_put_u16(ip + 10, tern_csum_finish(sum));
#ifdef TERN_POLL_CACHE_CHECK
    check_header(st, t, ip, id, len);
#endif
    tern_arp_entry_used(st, t->nb, now);
    st->hc.ip_out++;
    tern_eth_send(st, t->iface, frame, TERN_ETH_HDR + total);
}

/*
 * The instance: configuration (defaults, validation), memory layout in the
 * caller's block, the driver entry points (input, poll, poll_at), run-time
 * configuration and counters.
 */
#include <stdio.h>
#include <string.h>

#include "core/packet.h"
#include "ipv4/ipv4.h"
#include "ipv6/ipv6.h"
#include "tcp/tcp_private.h"
#include "udp/udp.h"
#include "stack_internal.h"
#include "wire/ethernet.h"
#include "wire/icmpv4.h"

#define NS_PER_SEC 1000000000ull
#define ALIGN16(x) (((x) + 15) & ~(size_t)15)
#define ALIGN64(x) (((x) + 63) & ~(size_t)63)

tern_err tern_fail(tern_stack *st, tern_err code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err, sizeof st->err, fmt, ap);
    va_end(ap);
    return code;
}

const char *tern_stack_last_error(const tern_stack *st) {
    return st->err;
}

void tern_stack_config_default(tern_stack_config *cfg, uint64_t seed) {
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = seed;
    /* The TCP options a modern host offers (Linux does; RFC 2018 and RFC
     * 7323 recommend them). A zeroed configuration still has them off. */
    cfg->tcp.sack = true;
    cfg->tcp.timestamps = true;
    cfg->tcp.dsack = true;
    cfg->tcp.tail_loss_probe = true;
    cfg->tcp.rack = true;
    cfg->tcp.abc_l2 = true;
    cfg->tcp.window_scaling = true;
}

/* Fill every zero with its documented default. */
static void apply_defaults(tern_stack_config *c) {
#define DEFAULT(field, value)                                                                      \
    if (!c->field)                                                                                 \
    c->field = (value)
    DEFAULT(arp_entries, 64);
    DEFAULT(arp_queue, 16);
    DEFAULT(routes, 16);
    DEFAULT(reasm_slots, 4);
    DEFAULT(reasm_max_bytes, 65535);
    DEFAULT(packet_buffers, 128);
    DEFAULT(udp_sockets, 16);
    DEFAULT(udp_queue, 16);
    DEFAULT(ping_sockets, 4);
    DEFAULT(tcp_sockets, 16);
    DEFAULT(dhcp_servers, 1);
    DEFAULT(dns_queries, TERN_DNS_MAX_QUERIES);
    DEFAULT(dns_cache, TERN_DNS_CACHE_ENTRIES);
    DEFAULT(ttl, 64);
    DEFAULT(arp_timeout_ns, 60 * NS_PER_SEC);
    DEFAULT(arp_retry_ns, 1 * NS_PER_SEC);
    DEFAULT(arp_retries, 3);
    DEFAULT(reasm_timeout_ns, 30 * NS_PER_SEC);
    DEFAULT(icmp_rate, 100);
    DEFAULT(icmp_burst, 10);
    DEFAULT(ephemeral_low, 49152);
    DEFAULT(ephemeral_high, 65535);
    DEFAULT(nd_entries, 64);
    DEFAULT(nd_queue, 16);
    DEFAULT(packet_queue, 32);
    DEFAULT(packet_snaplen, 1522);
    DEFAULT(ipv6_dad_transmits, 1);
    DEFAULT(ipv6_temp_valid_s, 2 * 86400);
    DEFAULT(ipv6_temp_preferred_s, 86400);
    for (uint32_t i = 0; i < c->niface && i < TERN_MAX_IFACES; i++) {
        DEFAULT(iface[i].mtu, 1500);
    }
#undef DEFAULT
}

tern_err tern_stack_validate(const tern_stack_config *in, char *msg, size_t cap) {
    tern_stack_config c = *in;
    apply_defaults(&c);
#define BAD(...)                                                                                   \
    do {                                                                                           \
        if (msg && cap) {                                                                          \
            snprintf(msg, cap, __VA_ARGS__);                                                       \
        }                                                                                          \
        return TERN_ERR_INVALID_ARGUMENT;                                                          \
    } while (0)
    if (c.niface > TERN_MAX_IFACES) {
        BAD("niface=%u: at most %d interfaces", c.niface, TERN_MAX_IFACES);
    }
    if (c.tcp.congestion > TERN_TCP_CC_BBR) {
        BAD("tcp.congestion=%u: must be a tern_tcp_cc (0 NewReno, 1 CUBIC, 2 BBR)",
            c.tcp.congestion);
    }
    int lending = (c.frame_alloc != NULL) + (c.frame_output != NULL) + (c.frame_release != NULL);
    if (lending != 0 && lending != 3) {
        BAD("frame_alloc=%s frame_output=%s frame_release=%s: frame lending needs all three "
            "callbacks or none",
            c.frame_alloc ? "set" : "NULL", c.frame_output ? "set" : "NULL",
            c.frame_release ? "set" : "NULL");
    }
    if (c.dhcp_servers > TERN_MAX_IFACES) {
        BAD("dhcp_servers=%u: at most %d (one per interface)", c.dhcp_servers, TERN_MAX_IFACES);
    }
    for (uint32_t i = 0; i < c.niface; i++) {
        const tern_iface_config *f = &c.iface[i];
        if (f->mtu < 68 || f->mtu > TERN_MAX_MTU) {
            BAD("iface[%u].mtu=%u: must be 68..%d (RFC 791 minimum 68)", i, f->mtu, TERN_MAX_MTU);
        }
        if (f->naddrs > TERN_MAX_IFACE_ADDRS) {
            BAD("iface[%u].naddrs=%u: at most %d", i, f->naddrs, TERN_MAX_IFACE_ADDRS);
        }
        if (f->mac[0] & 1) {
            BAD("iface[%u].mac=%02x:%02x:%02x:%02x:%02x:%02x: a multicast MAC cannot be an "
                "interface's address",
                i, f->mac[0], f->mac[1], f->mac[2], f->mac[3], f->mac[4], f->mac[5]);
        }
        for (uint32_t a = 0; a < f->naddrs; a++) {
            if (tern_addr_is_v6(&f->addr[a])) {
                if (f->prefix_len[a] > 128) {
                    BAD("iface[%u].prefix_len[%u]=%u: must be 0..128 for IPv6", i, a,
                        f->prefix_len[a]);
                }
                if (tern_addr_is_multicast(&f->addr[a]) || tern_addr_is_unspecified(&f->addr[a])) {
                    BAD("iface[%u].addr[%u]: an IPv6 interface address must be unicast", i, a);
                }
                continue;
            }
            if (!tern_addr_is_v4(&f->addr[a])) {
                BAD("iface[%u].addr[%u]: not an IPv4 or IPv6 address", i, a);
            }
            if (f->prefix_len[a] > 32) {
                BAD("iface[%u].prefix_len[%u]=%u: must be 0..32", i, a, f->prefix_len[a]);
            }
        }
    }
    if (c.nd_entries > 65536) {
        BAD("nd_entries=%u: at most 65536", c.nd_entries);
    }
    if (c.packet_sockets > 64) {
        BAD("packet_sockets=%u: at most 64", c.packet_sockets);
    }
    if (c.packet_queue > 4096) {
        BAD("packet_queue=%u: at most 4096", c.packet_queue);
    }
    if (c.packet_snaplen != 0 && (c.packet_snaplen < 64 || c.packet_snaplen > 9022)) {
        BAD("packet_snaplen=%u: must be 64..9022 (a jumbo frame of MTU 9000 with a VLAN tag)",
            c.packet_snaplen);
    }
    if (c.arp_entries > 65536) {
        BAD("arp_entries=%u: at most 65536", c.arp_entries);
    }
    if (c.reasm_max_bytes < 576 || c.reasm_max_bytes > 65535) {
        BAD("reasm_max_bytes=%u: must be 576..65535 (RFC 791 requires 576)", c.reasm_max_bytes);
    }
    if (c.reasm_slots > 1024) {
        BAD("reasm_slots=%u: at most 1024", c.reasm_slots);
    }
    if (c.packet_buffers > (1u << 20)) {
        BAD("packet_buffers=%u: at most 2^20", c.packet_buffers);
    }
    if (c.udp_sockets > 65535 || c.ping_sockets > 65535 || c.tcp_sockets > (1u << 20)) {
        BAD("udp_sockets=%u ping_sockets=%u tcp_sockets=%u: too many", c.udp_sockets,
            c.ping_sockets, c.tcp_sockets);
    }
    if (c.ephemeral_low > c.ephemeral_high || c.ephemeral_low < 1024) {
        BAD("ephemeral ports %u..%u: need 1024 <= low <= high", c.ephemeral_low, c.ephemeral_high);
    }
    if (c.ipv6_temp_preferred_s > c.ipv6_temp_valid_s) {
        BAD("ipv6_temp_preferred_s=%u: must not exceed ipv6_temp_valid_s=%u (RFC 8981 section 3.8)",
            c.ipv6_temp_preferred_s, c.ipv6_temp_valid_s);
    }
    if (c.ipv6_dad_transmits > 10 && c.ipv6_dad_transmits != TERN_DAD_OFF) {
        BAD("ipv6_dad_transmits=%u: 1..10, or TERN_DAD_OFF (%d)", c.ipv6_dad_transmits,
            TERN_DAD_OFF);
    }
    if (c.dns_queries > 64 && c.dns_queries != TERN_POOL_NONE) {
        BAD("dns_queries=%u: 1..64, or TERN_POOL_NONE (no resolver)", c.dns_queries);
    }
    if (c.dns_cache > 4096 && c.dns_cache != TERN_POOL_NONE) {
        BAD("dns_cache=%u: 1..4096, or TERN_POOL_NONE (no cache)", c.dns_cache);
    }
    if (c.icmp_rate > 1000000000u) {
        BAD("icmp_rate=%u: at most 10^9 per second", c.icmp_rate);
    }
#undef BAD
    return TERN_OK;
}

/* A pool size of the configuration as a count (TERN_POOL_NONE: none). */
static uint32_t pool_count(uint32_t size) {
    return size == TERN_POOL_NONE ? 0 : size;
}

/* Where each part of the instance lives in the caller's block. */
typedef struct layout {
    size_t routes, chunks, pkts, arp, reasm, igmp, ip6, udp, ping, tcp, packet, dhcps, dnsq,
        dnscache, total;
} layout;

static void compute_layout(const tern_stack_config *c, layout *l) {
    size_t off = ALIGN16(sizeof(tern_stack));
    l->routes = off;
    off = ALIGN16(off + (size_t)c->routes * sizeof(tern_route));
    l->chunks = off;
    off = ALIGN16(off + (size_t)c->packet_buffers * sizeof(tern_chunk));
    l->pkts = off;
    /* ARP's lookup keys start a line (ipv4/arp.c) */
    off = ALIGN64(off + (size_t)c->packet_buffers * sizeof(tern_pkt));
    l->arp = off;
    off = ALIGN16(off + tern_arp_memory_size(c));
    l->reasm = off;
    off = ALIGN16(off + tern_reasm_memory_size(c));
    l->igmp = off;
    off = ALIGN16(off + tern_igmp_memory_size());
    l->ip6 = off;
    off = ALIGN16(off + tern_ipv6_memory_size(c));
    l->udp = off;
    off = ALIGN16(off + tern_udp_memory_size(c));
    l->ping = off;
    /* TCP's module starts a line (64 bytes from a 64-byte aligned instance, as the simulator's
     * are): its first line holds what every event reads (tcp_private.h) */
    off = ALIGN64(off + tern_ping_memory_size(c));
    l->tcp = off;
    off = ALIGN16(off + tern_tcp_memory_size(c));
    l->packet = off;
    off = ALIGN16(off + tern_packet_memory_size(c));
    l->dhcps = off;
    off = ALIGN16(off + (size_t)c->dhcp_servers * sizeof(tern_dhcp_server));
    l->dnsq = off;
    off = ALIGN16(off + (size_t)pool_count(c->dns_queries) * sizeof(tern_dns_query_slot));
    l->dnscache = off;
    off = ALIGN16(off + (size_t)pool_count(c->dns_cache) * sizeof(tern_dns_cache_entry));
    l->total = off;
}

size_t tern_stack_memory_size(const tern_stack_config *cfg) {
    if (tern_stack_validate(cfg, NULL, 0) != TERN_OK) {
        return 0;
    }
    tern_stack_config c = *cfg;
    apply_defaults(&c);
    layout l;
    compute_layout(&c, &l);
    return l.total;
}

static void poll_cache_fill(const tern_stack *st);

tern_err tern_stack_init(void *mem, size_t len, const tern_stack_config *cfg, tern_stack **out,
                         char *msg, size_t cap) {
    tern_err err = tern_stack_validate(cfg, msg, cap);
    if (err != TERN_OK) {
        return err;
    }
    if ((uintptr_t)mem % 16) {
        if (msg && cap) {
            snprintf(msg, cap, "memory at %p: must be 16-byte aligned", mem);
        }
        return TERN_ERR_INVALID_ARGUMENT;
    }
    tern_stack_config c = *cfg;
    apply_defaults(&c);
    layout l;
    compute_layout(&c, &l);
    if (len < l.total) {
        if (msg && cap) {
            snprintf(msg, cap, "memory len=%zu: this configuration needs %zu bytes", len, l.total);
        }
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    uint8_t *base = mem;
    memset(base, 0, l.total);
    tern_stack *st = (tern_stack *)base;
    st->cfg = c;
    st->poll_cache = &st->poll_cache_mem; /* valid = false: computed at the first poll_at */
    st->txp = st->tx + TERN_TX_HEADROOM;
    st->route_gen = 1; /* route caches start empty (gen 0) */
    tern_rng_seed(&st->rng, c.seed, 1);
    uint64_t k0 = tern_rng_next(&st->rng), k1 = tern_rng_next(&st->rng);
    for (int i = 0; i < 8; i++) {
        st->isn_key[i] = (uint8_t)(k0 >> (8 * i));
        st->isn_key[8 + i] = (uint8_t)(k1 >> (8 * i));
    }
    st->ip_id = (uint16_t)tern_rng_next(&st->rng);
    st->niface = c.niface;
    st->npacket = (uint16_t)c.packet_sockets; /* validated: at most 64 */
    for (uint32_t i = 0; i < c.niface; i++) {
        tern_iface *f = &st->iface[i];
        memcpy(f->mac, c.iface[i].mac, 6);
        f->mtu = c.iface[i].mtu;
        /* IPv4 addresses in addr[], IPv6 ones in the IPv6 table (static: usable at once). */
        for (uint32_t a = 0; a < c.iface[i].naddrs; a++) {
            const tern_addr *x = &c.iface[i].addr[a];
            if (tern_addr_is_v6(x)) {
                tern_ifaddr6 *y = &f->addr6[f->naddrs6++];
                y->addr = *x;
                y->prefix_len = c.iface[i].prefix_len[a];
                y->state = TERN_ADDR6_PREFERRED;
                y->origin = TERN_ADDR6_STATIC;
                y->preferred_until = TERN_NEVER;
                y->valid_until = TERN_NEVER;
            } else {
                f->addr[f->naddrs] = *x;
                f->prefix_len[f->naddrs] = c.iface[i].prefix_len[a];
                f->naddrs++;
            }
        }
        f->accept_vlan = c.iface[i].accept_vlan;
    }
    st->routes = (tern_route *)(base + l.routes);
    st->dhcps = (tern_dhcp_server *)(base + l.dhcps);
    st->ndhcps = c.dhcp_servers;
    st->dns.q = (tern_dns_query_slot *)(base + l.dnsq);
    st->dns.nq = pool_count(c.dns_queries);
    st->dns.cache = (tern_dns_cache_entry *)(base + l.dnscache);
    st->dns.ncache = pool_count(c.dns_cache);
    st->chunks = (tern_chunk *)(base + l.chunks);
    st->pkts = (tern_pkt *)(base + l.pkts);
    for (uint32_t i = 0; i < c.packet_buffers; i++) {
        st->chunks[i].next = i + 1 < c.packet_buffers ? i + 1 : TERN_NO_CHUNK;
        st->pkts[i].next = i + 1 < c.packet_buffers ? i + 1 : TERN_NO_CHUNK;
    }
    st->free_chunk = c.packet_buffers ? 0 : TERN_NO_CHUNK;
    st->free_pkt = c.packet_buffers ? 0 : TERN_NO_CHUNK;
    tern_pktq_init(&st->arp_waiting, c.arp_queue);
    tern_pktq_init(&st->loopback, c.packet_buffers);
    /* The ICMP error bucket starts full. */
    st->icmp_tokens_ns = (uint64_t)c.icmp_burst * (NS_PER_SEC / c.icmp_rate);
    tern_arp_init(st, base + l.arp);
    tern_reasm_init(st, base + l.reasm);
    tern_igmp_init(st, base + l.igmp);
    tern_ipv6_init(st, base + l.ip6);
    tern_udp_init(st, base + l.udp);
    tern_ping_init(st, base + l.ping);
    tern_tcp_init(st, base + l.tcp);
    tern_packet_init(st, base + l.packet);
    /* poll_at's cache of the quiet modules' deadline, computed now, while the instance's lines
     * are still in the cache from the writes above: without it the first poll is never quiet, and
     * runs every quiet module's poll over state nothing has touched since (issue 19: with
     * thousands of hosts, some 35 cold lines per host: MLD's groups, SLAAC's addresses,
     * autoconfiguration's routers and prefixes). What poll_at would compute at this point, so
     * nothing else changes: a public call after this that moves a quiet module's timer drops it. */
    poll_cache_fill(st);
    *out = st;
    return TERN_OK;
}

/* ---- driver ---------------------------------------------------------------- */

/*
 * Input that cannot move a quiet module's timer (tern_poll_cache), so that it keeps poll_at's
 * cache (issue 19: with thousands of hosts every recomputation reads a dozen cold lines):
 *  - a TCP segment in one unfragmented IPv4 datagram or directly behind the IPv6 header: what
 *    the IP layers do with it (deliver, forward, answer with ICMP) touches TCP, ARP and ND;
 *  - an ICMP echo request or reply in one unfragmented IPv4 datagram: the request is answered
 *    (tern_ip_send: ARP, or the loopback queue, which poll and poll_at check on their own), the
 *    reply goes to a ping socket's queue (ipv4/icmp.c), neither reaches IGMP, IPv6
 *    autoconfiguration, DHCP, mDNS or reassembly (unfragmented: no reassembly slot);
 *  - ARP: its only path to a quiet module is the DHCPv4 client's conflict detection, which drops
 *    the cache itself while it checks an address (tern_dhcp_client_arp_input).
 * Frames the MAC filter refuses change nothing but a counter (tern_stack_input drops the cache
 * only after that filter).
 */
static bool keeps_quiet_timers(const struct tern_eth_repr *eth) {
    const uint8_t *ip = eth->payload;
    if (eth->ethertype == TERN_ETHERTYPE_ARP) {
        return true;
    }
    if (eth->ethertype == TERN_ETHERTYPE_IPV4) {
        if (eth->payload_len < 20 || (((uint32_t)ip[6] << 8 | ip[7]) & 0x3fff) != 0) {
            return false; /* a fragment: reassembly's timer */
        }
        if (ip[9] == TERN_IPPROTO_TCP) {
            return true;
        }
        size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
        return ip[9] == TERN_IPPROTO_ICMP && eth->payload_len > ihl &&
               (ip[ihl] == TERN_ICMPV4_ECHO_REQUEST || ip[ihl] == TERN_ICMPV4_ECHO_REPLY);
    }
    return eth->ethertype == TERN_ETHERTYPE_IPV6 && eth->payload_len >= 40 &&
           ip[6] == TERN_IPPROTO_TCP;
}

void tern_stack_input(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *frame,
                      size_t len) {
    st->call_frames = 0;
    st->call_now = now;
    st->hc.frames_in++;
    st->hc.bytes_in += len;
    if (iface >= st->niface) {
        st->c.bad_iface++;
        return;
    }
    if (st->npacket) {
        tern_packet_tap(st, now, iface, TERN_PACKET_IN, frame, len, NULL);
    }
    struct tern_eth_repr eth;
    tern_err err = tern_eth_parse(frame, len, &eth);
    if (err == TERN_ERR_UNSUPPORTED) {
        st->c.eth_unknown_type++; /* IEEE 802.3 length field, or stacked VLAN tags */
        return;
    }
    if (err != TERN_OK) {
        st->c.eth_truncated++;
        return;
    }
    if (eth.has_vlan && !st->iface[iface].accept_vlan) {
        st->c.eth_vlan_dropped++;
        return;
    }
    const tern_iface *f = &st->iface[iface];
    bool broadcast = tern_mac_is_broadcast(&eth.dst);
    /* We listen to our MAC, broadcast, the IPv4 multicast range (RFC 1112 §6.4), and the IPv6
     * groups we belong to (33:33 + the group's low 32 bits, RFC 2464 §7) for IPv6 only. */
    bool ipv4_multicast = eth.dst.b[0] == 0x01 && eth.dst.b[1] == 0x00 && eth.dst.b[2] == 0x5e;
    bool ipv6_multicast =
        eth.ethertype == TERN_ETHERTYPE_IPV6 && tern_ipv6_wants_mac(st, iface, eth.dst.b);
    if (!broadcast && !ipv4_multicast && !ipv6_multicast && memcmp(eth.dst.b, f->mac, 6) != 0) {
        st->c.eth_not_for_us++;
        return;
    }
    if (!keeps_quiet_timers(&eth)) {
        tern_poll_cache_drop(st);
    }
    switch (eth.ethertype) {
    case TERN_ETHERTYPE_ARP:
        tern_arp_input(st, now, iface, eth.payload, eth.payload_len);
        break;
    case TERN_ETHERTYPE_IPV4:
        tern_ipv4_input(st, now, iface, eth.payload, eth.payload_len, broadcast || ipv4_multicast);
        break;
    case TERN_ETHERTYPE_IPV6:
        tern_ipv6_input(st, now, iface, eth.payload, eth.payload_len,
                        tern_mac_is_multicast(&eth.dst));
        break;
    default:
        st->c.eth_unknown_type++;
        break;
    }
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
    return a < b ? a : b;
}

/* The earliest deadline of the quiet modules a quiet poll skips (tern_poll_cache.skipped). */
static uint64_t skipped_quiet_poll_at(const tern_stack *st) {
    uint64_t t = tern_igmp_poll_at(st);
    t = min_u64(t, tern_ipv6_autoconf_poll_at(st));
    return min_u64(t, tern_services_quiet_poll_at(st));
}

/* The earliest deadline of the quiet modules every poll runs: IPv4 and IPv6 reassembly, the
 * DHCPv6 client (which follows its address's DAD at every poll). */
static uint64_t polled_quiet_poll_at(const tern_stack *st) {
    uint64_t t = tern_reasm_poll_at(st);
    t = min_u64(t, tern_reasm6_poll_at(st));
    return min_u64(t, tern_dhcpv6_poll_at(st));
}

/* Computes poll_at's cache of the quiet modules' deadline (tern_poll_cache). */
static void poll_cache_fill(const tern_stack *st) {
    tern_poll_cache *pc = st->poll_cache;
    pc->skipped = skipped_quiet_poll_at(st);
    pc->at = min_u64(pc->skipped, polled_quiet_poll_at(st));
    pc->valid = true;
}

void tern_stack_poll(tern_stack *st, uint64_t now) {
    st->call_frames = 0;
    st->call_now = now;
    /*
     * IGMP and IPv6 autoconfiguration (SLAAC, MLD, Router Solicitations) are quiet modules: while
     * poll_at's cache of their deadline holds and is later than now, their polls have nothing to
     * do, and skipping them spares every poll the reads of their state (a dozen cache lines per
     * host, cold in a large simulation: issue 19). A looped-back datagram delivered by this poll
     * could change their timers before their turn, so they run whenever one waits. Their notion of
     * the time still moves on (igmp and autoconf read it for calls between polls).
     */
    tern_poll_cache *pc = st->poll_cache;
    bool quiet_idle = pc->valid && pc->at > now && st->loopback.count == 0;
    if (!quiet_idle) {
        tern_poll_cache_drop(st);
    }
    tern_packet_poll(st, now);
    tern_ipv4_poll(st, now);
    tern_arp_poll(st, now);
    tern_reasm_poll(st, now);
    if (quiet_idle) {
        tern_igmp_set_now(st, now);
        tern_ipv6_poll_not_quiet(st, now);
    } else {
        tern_igmp_poll(st, now);
        tern_ipv6_poll(st, now);
    }
    tern_udp_poll(st, now);
    tern_ping_poll(st, now);
    tern_tcp_poll(st, now);
    tern_services_poll(st, now, quiet_idle);
    if (quiet_idle && pc->valid) {
        /* The skipped modules' deadline holds (whatever in this poll changed their timers dropped
         * the cache); the polled ones' may have moved, and their lines were just read. */
        pc->at = min_u64(pc->skipped, polled_quiet_poll_at(st));
    }
}

uint64_t tern_stack_poll_at(const tern_stack *st) {
    if (st->loopback.count || tern_udp_has_output(st) || tern_ping_has_output(st) ||
        tern_packet_has_output(st)) {
        return 0; /* now */
    }
    tern_poll_cache *pc = st->poll_cache;
#ifdef TERN_POLL_CACHE_CHECK
    /* Test builds: a cached deadline that is no longer the modules' own is a bug (a path that
     * changes their timers without tern_poll_cache_drop); stop at once, in the test that found it.
     */
    if (pc->valid && (pc->skipped != skipped_quiet_poll_at(st) ||
                      pc->at != min_u64(pc->skipped, polled_quiet_poll_at(st)))) {
        __builtin_trap();
    }
    /* The same for the neighbour caches' deadline: a timer write that did not report its move
     * (tern_poll_cache_nb_moved) or drop it. */
    if (pc->nb_valid && pc->nb_at != min_u64(tern_arp_poll_at(st), tern_nd_poll_at(st))) {
        __builtin_trap();
    }
    /* The counts of reassembly slots in use, which let poll and poll_at skip the slots. */
    if (st->reasm_used != tern_reasm_used_scan(st) ||
        st->reasm6_used != tern_reasm6_used_scan(st) ||
        tern_igmp_groups_used(st) != tern_igmp_groups_used_scan(st)) {
        __builtin_trap();
    }
#endif
    if (!pc->valid) {
        poll_cache_fill(st);
    }
    if (!pc->nb_valid) {
        pc->nb_at = min_u64(tern_arp_poll_at(st), tern_nd_poll_at(st));
        pc->nb_valid = true;
    }
    uint64_t t = min_u64(pc->at, pc->nb_at);
    t = min_u64(t, tern_dns_poll_at(st)); /* asks TCP about DNS over TCP */
    t = min_u64(t, tern_tcp_poll_at(st));
    return t;
}

void tern_eth_output(tern_stack *st, uint32_t iface, const uint8_t dst[6], uint16_t ethertype,
                     uint8_t *payload, size_t len) {
    uint8_t *frame = payload - TERN_ETH_HDR;
    memcpy(frame, dst, 6);
    memcpy(frame + 6, st->iface[iface].mac, 6);
    frame[12] = (uint8_t)(ethertype >> 8);
    frame[13] = (uint8_t)ethertype;
    tern_eth_send(st, iface, frame, len + TERN_ETH_HDR);
}

void tern_eth_send(tern_stack *st, uint32_t iface, uint8_t *frame, size_t flen) {
    /* IEEE 802.3 minimum frame: pad with zeros, never with stale bytes (DESIGN.md §6). */
    if (flen < 60) {
        memset(frame + flen, 0, 60 - flen);
        flen = 60;
    }
    st->hc.frames_out++;
    st->hc.bytes_out += flen;
    st->call_frames++;
    if (st->npacket) {
        tern_packet_tap(st, st->call_now, iface, TERN_PACKET_OUT, frame, flen, NULL);
    }
    if (tern_frame_lent_output(st, iface, frame, flen)) {
        return; /* built in a lent buffer: handed back with the frame, not copied */
    }
    if (st->cfg.output) {
        st->cfg.output(st->cfg.output_ctx, iface, frame, flen);
    }
}

void tern_stack_get_counters(const tern_stack *st, tern_counters *out) {
    *out = st->c;
    /* the counters every frame writes live in the instance's head (tern_counters_hot) */
    const tern_counters_hot *h = &st->hc;
    out->frames_in = h->frames_in;
    out->bytes_in = h->bytes_in;
    out->arp_in = h->arp_in;
    out->ip_in = h->ip_in;
    out->ip_delivered = h->ip_delivered;
    out->icmp_in = h->icmp_in;
    out->tcp_in = h->tcp_in;
    out->tcp_predicted_data = h->tcp_predicted_data;
    out->frames_out = h->frames_out;
    out->bytes_out = h->bytes_out;
    out->ip_out = h->ip_out;
    out->tcp_out = h->tcp_out;
    out->tcp_predicted_ack = h->tcp_predicted_ack;
    out->tcp_predicted_ack_lean = h->tcp_predicted_ack_lean;
}

/* ---- run-time configuration --------------------------------------------------- */

tern_err tern_iface_add_addr(tern_stack *st, uint32_t iface, const tern_addr *addr,
                             uint8_t prefix_len) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "iface=%u: the host has %u interfaces",
                         iface, st->niface);
    }
    if (tern_addr_is_v6(addr)) {
        tern_err err = tern_ipv6_add_addr(st, iface, addr, prefix_len, TERN_ADDR6_PREFERRED,
                                          TERN_ADDR6_STATIC);
        if (err == TERN_OK) {
            tern_ipv6_addr_added(st, iface, addr, prefix_len); /* DAD, its group (RFC 4862 5.4) */
        }
        return err;
    }
    if (!tern_addr_is_v4(addr) || prefix_len > 32) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "iface %u address: must be IPv4 with prefix 0..32 or IPv6 with prefix "
                         "0..128 (prefix_len=%u)",
                         iface, prefix_len);
    }
    tern_iface *f = &st->iface[iface];
    if (f->naddrs >= TERN_MAX_IFACE_ADDRS) {
        return tern_fail(st, TERN_ERR_NO_BUFFER, "iface %u: already has %d addresses", iface,
                         TERN_MAX_IFACE_ADDRS);
    }
    f->addr[f->naddrs] = *addr;
    f->prefix_len[f->naddrs] = prefix_len;
    f->naddrs++;
    tern_route_changed(st);
    return TERN_OK;
}

tern_err tern_iface_del_addr(tern_stack *st, uint32_t iface, const tern_addr *addr) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "iface=%u: the host has %u interfaces",
                         iface, st->niface);
    }
    if (tern_addr_is_v6(addr)) {
        tern_err err = tern_ipv6_del_addr(st, iface, addr);
        if (err == TERN_OK) {
            tern_ipv6_addr_removed(st, iface, addr);
        }
        return err;
    }
    tern_iface *f = &st->iface[iface];
    for (uint32_t i = 0; i < f->naddrs; i++) {
        if (tern_addr_eq(&f->addr[i], addr)) {
            for (uint32_t j = i + 1; j < f->naddrs; j++) {
                f->addr[j - 1] = f->addr[j];
                f->prefix_len[j - 1] = f->prefix_len[j];
            }
            f->naddrs--;
            tern_route_changed(st);
            return TERN_OK;
        }
    }
    return tern_fail(st, TERN_ERR_EMPTY, "iface %u: no such address", iface);
}

tern_err tern_iface_set_mtu(tern_stack *st, uint32_t iface, uint32_t mtu) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "iface=%u: the host has %u interfaces",
                         iface, st->niface);
    }
    if (mtu < 68 || mtu > TERN_MAX_MTU) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "iface %u mtu=%u: must be 68..%d", iface,
                         mtu, TERN_MAX_MTU);
    }
    st->iface[iface].mtu = mtu;
    tern_route_changed(st);
    return TERN_OK;
}

void tern_stack_set_forwarding(tern_stack *st, bool on) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    st->cfg.forwarding = on;
}

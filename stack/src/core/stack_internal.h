/*
 * The core's private header (core/): what every layer of the Tern stack
 * shares. The instance (struct tern_stack), its random generator and ISNs,
 * packet queues, interfaces, routes and source address choice, Ethernet
 * output, ephemeral ports and errors.
 *   core/      stack.c (instance, memory layout, input dispatch, poll,
 *              poll_at), route.c, addr.c, pktq.c, rand.c, errors.c
 *   ipv4/      ipv4.h: ARP, IPv4 in and out, reassembly, ICMPv4
 *   tcp/       tcp_private.h: TCP (owns its memory, sockets and timers)
 *   udp/       udp.h: UDP and ping sockets
 *   ipv6/      ipv6.h: IPv6 in and out, extension headers, reassembly,
 *              ICMPv6, Neighbor Discovery (and the hooks SLAAC/MLD fill)
 *   services/  services.h: DHCPv4 client and server, DNS resolver
 * A layer's files include each other freely; across layers only through the
 * layer's private header. Every function here is internal but, being in a
 * static library, carries the tern_ prefix.
 */
#ifndef TERN_STACK_INTERNAL_H
#define TERN_STACK_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/services.h"
#include "tern/stack.h"
#include "wire/ipv4.h"

/* Largest frame the stack builds: Ethernet header + the largest MTU. */
#define TERN_MAX_MTU 9000
#define TERN_ETH_HDR 14
#define TERN_TX_HEADROOM (TERN_ETH_HDR + 60) /* Ethernet + the largest IPv4 header */
#define TERN_FRAME_MAX (TERN_ETH_HDR + TERN_MAX_MTU)
/* A datagram's payload can be as large as IPv4 allows. */
#define TERN_IP_PAYLOAD_MAX (65535 - 20)

/* ---- random ------------------------------------------------------------ */

typedef struct tern_rng {
    uint64_t s[4];
} tern_rng;

void tern_rng_seed(tern_rng *r, uint64_t seed, uint64_t stream);
uint64_t tern_rng_next(tern_rng *r);
/* Uniform in [0, n), n >= 1. */
uint64_t tern_rng_below(tern_rng *r, uint64_t n);
/* SipHash-2-4 of `len` bytes under a 128-bit key (for RFC 6528 ISNs). */
uint64_t tern_siphash(const uint8_t key[16], const uint8_t *data, size_t len);
/*
 * RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a 4-microsecond timer (virtual time), F SipHash under the instance's key
 * (derived from the seed).
 */
uint32_t tern_isn(const tern_stack *st, uint64_t now, const tern_addr *laddr, uint16_t lport,
                  const tern_addr *raddr, uint16_t rport);

/* ---- packet chunks and queues ------------------------------------------ */

#define TERN_CHUNK_DATA 2032 /* payload bytes per chunk; a chunk is 2048 bytes */
#define TERN_NO_CHUNK UINT32_MAX

typedef struct tern_chunk {
    uint32_t next; /* next chunk of the same packet, TERN_NO_CHUNK at the end */
    uint32_t len;  /* bytes used in data */
    uint32_t pad[2];
    uint8_t data[TERN_CHUNK_DATA];
} tern_chunk;

/* What travels with a queued packet. */
typedef struct tern_pkt_meta {
    tern_addr src, dst; /* addresses (UDP: remote/local; ARP queue: next hop in dst) */
    uint16_t sport, dport;
    uint32_t iface;
    uint32_t len;  /* total bytes */
    uint64_t time; /* when it was queued/received */
    uint8_t ttl;
    uint8_t protocol;
    bool df;
    uint16_t ident, seq; /* ping */
} tern_pkt_meta;

/* A queued packet: its metadata and the first chunk of its bytes. */
typedef struct tern_pkt {
    tern_pkt_meta meta;
    uint32_t chunk; /* first chunk */
    uint32_t next;  /* next packet in its queue (index), TERN_NO_CHUNK at the end */
} tern_pkt;

/* A FIFO of packets (indices into the instance's packet table). */
typedef struct tern_pktq {
    uint32_t head, tail, count, limit;
} tern_pktq;

void tern_pktq_init(tern_pktq *q, uint32_t limit);
/*
 * Copy `len` bytes (the concatenation of a and b, either may be empty) into
 * a new packet at the tail. Returns TERN_OK, TERN_ERR_WOULD_BLOCK (queue at
 * its limit), or TERN_ERR_NO_BUFFER (pool exhausted; counted).
 */
tern_err tern_pktq_push(tern_stack *st, tern_pktq *q, const tern_pkt_meta *meta, const uint8_t *a,
                        size_t alen, const uint8_t *b, size_t blen);
/* The head packet's metadata, or NULL. */
const tern_pkt_meta *tern_pktq_peek(const tern_stack *st, const tern_pktq *q);
/* Copy up to cap bytes of the head packet into buf (returns bytes copied) and drop it. */
size_t tern_pktq_pop(tern_stack *st, tern_pktq *q, uint8_t *buf, size_t cap);
/* Drop the head packet. */
void tern_pktq_drop(tern_stack *st, tern_pktq *q);
/* Move the head packet to the tail (no copy). */
void tern_pktq_rotate(tern_stack *st, tern_pktq *q);
/* Drop everything. */
void tern_pktq_clear(tern_stack *st, tern_pktq *q);
/* The head packet's first bytes (its first chunk, at most TERN_CHUNK_DATA), their
 * count in *len; NULL when the queue is empty. */
const uint8_t *tern_pktq_peek_bytes(const tern_stack *st, const tern_pktq *q, size_t *len);

/*
 * Datagrams held for neighbour resolution (ARP, ND), held.c. A new datagram
 * for next hop `dst` on `iface` replaces the held TCP segments it
 * retransmits; the oldest one held for `dst` makes room when the queue is
 * full. Both keep the order of the others.
 */
/* Is IP datagram `nw` a TCP segment of the same connection as `old` whose
 * sequence space covers old's, which holds some (data, SYN or FIN)? */
bool tern_held_supersedes(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen);
/* Drop from q the datagrams held for (iface, dst) that `ip` supersedes; returns how many. */
uint32_t tern_held_drop_superseded(tern_stack *st, tern_pktq *q, uint32_t iface,
                                   const tern_addr *dst, const uint8_t *ip, size_t len);
/* How many held TCP segments the ARP and ND queues have replaced so far. A
 * sender that reads it before and after sending a segment learns whether that
 * segment replaced a held copy of itself, which then never left the host
 * (tcp_timer.c, the SYN). */
uint64_t tern_held_replaced(const tern_stack *st);
/* Drop the oldest datagram held for (iface, dst); false if none is held. */
bool tern_held_drop_oldest(tern_stack *st, tern_pktq *q, uint32_t iface, const tern_addr *dst);

/* ---- interfaces, routes ------------------------------------------------ */

/* IPv6 addresses of an interface (RFC 4862 section 2 states). */
#define TERN_MAX_IFACE_ADDRS6 8
enum tern_addr6_state {
    TERN_ADDR6_PREFERRED = 0, /* assigned, usable */
    TERN_ADDR6_TENTATIVE,     /* being checked by DAD: not ours for delivery yet */
    TERN_ADDR6_DEPRECATED,    /* assigned; not chosen as a source for new communication */
};
enum tern_addr6_origin {
    TERN_ADDR6_STATIC = 0, /* configured */
    TERN_ADDR6_LINK_LOCAL, /* formed from the MAC (modified EUI-64) at start */
    TERN_ADDR6_SLAAC,      /* autoconfigured from an RA prefix */
    TERN_ADDR6_TEMPORARY,  /* RFC 8981 */
};
typedef struct tern_ifaddr6 {
    tern_addr addr;
    uint8_t prefix_len;
    uint8_t state;                         /* enum tern_addr6_state */
    uint8_t origin;                        /* enum tern_addr6_origin */
    uint64_t preferred_until, valid_until; /* TERN_NEVER for static addresses */
} tern_ifaddr6;

typedef struct tern_iface {
    uint8_t mac[6];
    uint32_t mtu;
    uint32_t naddrs; /* IPv4 addresses */
    tern_addr addr[TERN_MAX_IFACE_ADDRS];
    uint8_t prefix_len[TERN_MAX_IFACE_ADDRS];
    bool accept_vlan;
    uint32_t naddrs6; /* IPv6 addresses, the link-local one first */
    tern_ifaddr6 addr6[TERN_MAX_IFACE_ADDRS6];
} tern_iface;

typedef struct tern_route {
    tern_addr dst;
    uint8_t prefix_len;
    tern_addr gateway; /* unspecified: on-link */
    uint32_t iface;
} tern_route;

/* The result of routing a destination. */
typedef struct tern_route_result {
    uint32_t iface;
    tern_addr src;      /* the source address to use (the interface's address) */
    tern_addr next_hop; /* the gateway, or the destination itself on-link */
    uint32_t mtu;       /* the interface MTU */
    bool broadcast;     /* limited or directed broadcast on that interface */
} tern_route_result;

/*
 * Route dst. If src is given and not unspecified it must be one of ours and
 * is kept as the source. Returns TERN_OK or TERN_ERR_NO_ROUTE.
 */
tern_err tern_route_lookup(const tern_stack *st, const tern_addr *dst, const tern_addr *src,
                           tern_route_result *out);

/*
 * An IPv4 route kept by its user (a TCP connection: one lookup per connection instead of
 * one per segment, issue 19). It holds while st->route_gen is unchanged: every change to
 * what an IPv4 route depends on (the interfaces' IPv4 addresses and MTUs, the route table)
 * goes through tern_route_changed. IPv6 routes also follow Neighbor Discovery (redirects,
 * default router reachability) and are not cached.
 */
typedef struct tern_route_cache {
    tern_route_result rr;
    tern_addr dst, src; /* the lookup's key */
    uint32_t gen;       /* st->route_gen at the lookup; 0: empty */
    bool local;         /* dst is one of our addresses (sent by loopback) */
} tern_route_cache;

/*
 * The route from src to the IPv4 destination dst, from c when it still holds, else looked up
 * and kept in c. Returns c, or NULL when dst is not IPv4 or has no route (the sender then
 * looks up itself and fails as before).
 */
const tern_route_cache *tern_route_cached(const tern_stack *st, tern_route_cache *c,
                                          const tern_addr *dst, const tern_addr *src);

/* Something IPv4 routes depend on changed: every tern_route_cache is stale. */
void tern_route_changed(tern_stack *st);
/*
 * The IPv4 receive path's last address verdict (issue 19): a datagram from a
 * link whose source, destination and interface are these was found to have a
 * lawful unicast source (not martian: RFC 1122 §3.2.1.3) and one of our
 * unicast addresses as its destination, neither a broadcast on that interface
 * nor multicast. The next datagram of the same flow skips those checks. Both
 * depend only on the interfaces' IPv4 addresses and prefixes, which change
 * through tern_route_changed only, so the verdict holds while st->route_gen is
 * gen. Test builds (TERN_POLL_CACHE_CHECK) recompute it on every hit and trap
 * on a difference.
 */
typedef struct tern_rx_addr_cache {
    uint32_t gen;      /* st->route_gen when stored; 0: empty */
    uint32_t iface;    /* the interface the datagram arrived on */
    uint32_t src, dst; /* the addresses' four bytes, as stored in memory */
} tern_rx_addr_cache;

/* Is addr one of our addresses? (*iface receives which interface, if not NULL.) */
bool tern_is_local_addr(const tern_stack *st, const tern_addr *addr, uint32_t *iface);
/* Is addr a broadcast (limited, or directed for one of our prefixes) as seen on iface? */
bool tern_is_broadcast_addr(const tern_stack *st, const tern_addr *addr, uint32_t iface);

/* Send an Ethernet frame: header written in front of `payload` (which must have 14 bytes of room
 * before it). */
void tern_eth_output(tern_stack *st, uint32_t iface, const uint8_t dst[6], uint16_t ethertype,
                     uint8_t *payload, size_t len);
/* Send a frame whose Ethernet header is written already (a header template, ipv4/tx_template.c):
 * what tern_eth_output does after writing it (padding to the minimum, counters, packet tap, a lent
 * buffer handed back or the output callback). frame must have room for 60 bytes. */
void tern_eth_send(tern_stack *st, uint32_t iface, uint8_t *frame, size_t flen);

/*
 * A sender's IPv4 header template (issue 19; the BSDs keep one per TCP connection): the Ethernet
 * and IPv4 headers of its datagrams prebuilt, with the sums that do not change between datagrams,
 * so that sending one is a copy, three field stores and an incremental checksum (RFC 1624) instead
 * of a route, a neighbour lookup and two header builds. Built and checked by ipv4/tx_template.c.
 * It holds while the route table (st->route_gen) and the ARP cache (st->arp_gen) are as they
 * were, the neighbour entry has not expired, and the sender asks for the same TTL.
 */
typedef struct tern_ip4_tmpl {
    uint8_t hdr[TERN_ETH_HDR + 20]; /* Ethernet + IPv4 header; length, ID and checksum zero */
    uint8_t ttl_req;                /* the sender's TTL it was built for (0: the default) */
    uint32_t route_gen;             /* st->route_gen when built; 0: empty */
    uint32_t arp_gen;               /* st->arp_gen when built */
    uint32_t iface;                 /* the outgoing interface */
    uint32_t mtu;                   /* its MTU */
    uint32_t ip_sum;                /* partial sum of hdr's IPv4 header (RFC 1071) */
    uint32_t l4_sum;                /* pseudo-header partial sum, length 0 (RFC 9293 §3.1) */
    uint64_t expires;               /* the neighbour entry's expiry */
    struct tern_arp_entry *nb;      /* that entry: its last use is kept as the slow path keeps it */
} tern_ip4_tmpl;

/* ---- the transport layers' view of IP (either family) ------------------------ */

/*
 * What TCP, UDP and ping see of a received datagram, whichever IP family
 * carried it: the IPv4 and IPv6 layers fill one in and hand it up, so that
 * the transport code has one path for both families (issue 12; DESIGN §3
 * "addresses are dual-stack").
 */
typedef struct tern_ip_rx {
    tern_addr src, dst;     /* the same family (IPv4 or IPv6) */
    const uint8_t *payload; /* the upper-layer datagram (TCP segment, UDP datagram) */
    size_t payload_len;
    uint8_t ttl;      /* IPv4 TTL or IPv6 Hop Limit */
    uint8_t protocol; /* IPv4 protocol or the IPv6 upper-layer Next Header */
    uint32_t iface;
    bool link_broadcast; /* arrived in a link-layer broadcast or multicast frame */
    /* For ICMP errors about this datagram, exactly one of: */
    const struct tern_ipv4_repr *v4; /* IPv4: the parsed header ... */
    const uint8_t *v4_hdr;           /* ... and its v4->header_len original bytes */
    const uint8_t *v6_pkt;           /* IPv6: the datagram from its IPv6 header on ... */
    size_t v6_pkt_len;               /* ... (the ICMPv6 quote, RFC 4443 §2.4 (c)) */
} tern_ip_rx;

/* Bytes of the IP header without options or extension headers: 20 for IPv4
 * (RFC 791 §3.1), 40 for IPv6 (RFC 8200 §3). TCP's MSS is the MTU minus this
 * and the 20-byte TCP header (RFC 9293 §3.7.1, RFC 8200 §8.3). */
static inline uint32_t tern_ip_hdr_len(uint8_t family) {
    return family == TERN_AF_INET6 ? 40u : 20u;
}

/* What an upper layer asks the IP layer of either family to send. */
typedef struct tern_ip_tx {
    tern_addr src, dst; /* src unspecified: chosen by the route */
    uint8_t protocol;   /* IPv4 protocol / IPv6 Next Header of the payload */
    uint8_t ttl;        /* TTL or Hop Limit; 0: the default */
    uint8_t dscp;
    bool df;                /* IPv4 only: IPv6 routers never fragment (RFC 8200 §5) */
    const uint8_t *options; /* IPv4 options, a multiple of 4 bytes, at most 40 (or NULL) */
    uint8_t options_len;
    uint32_t mcast_oif; /* IPv4 multicast: the outgoing interface + 1 (IP_MULTICAST_IF); 0: route */
    const tern_route_cache *route; /* IPv4: dst's route from tern_route_cached, or NULL */
} tern_ip_tx;

/*
 * The transmit scratch buffer: an upper layer writes its header and payload
 * at tern_ip_tx_payload(st) (up to TERN_IP_PAYLOAD_MAX bytes) and then calls
 * tern_l4_send (or the family's own output) with the length; IP and Ethernet headers are written in
 * front (or the datagram is fragmented from it).
 */
uint8_t *tern_ip_tx_payload(tern_stack *st);

/*
 * tern_ip_tx_frame: as tern_ip_tx_payload, for a payload of at most n bytes
 * that will leave in one frame: in a buffer the environment lends
 * (tern_frame_alloc_fn), so that the frame is handed over without a copy, or
 * in tx when it lends none. The payload has TERN_TX_HEADROOM bytes of room in
 * front and room for the Ethernet minimum's padding behind (core/frame_lend.c).
 */
uint8_t *tern_ip_tx_frame(tern_stack *st, size_t n);

/*
 * tern_frame_lent_output: if frame[0..len) lies in the lent buffer, hand it over
 * (frame_output) and return true; else false (the caller sends it through output).
 */
bool tern_frame_lent_output(tern_stack *st, uint32_t iface, uint8_t *frame, size_t len);

/* tern_frame_lent_done: the datagram at txp was sent or dropped: give back a lent
 * buffer still held (frame_release) and point txp at tx again. */
void tern_frame_lent_done(tern_stack *st);

/*
 * tern_l4_send: send the datagram whose payload (an upper-layer header and
 * data, its checksum already right for tx->src and tx->dst) is at
 * tern_ip_tx_payload(st), over IPv4 or IPv6 by the family of tx->dst.
 * Returns what the family's output returns (TERN_OK when sent or queued for
 * address resolution; TERN_ERR_NO_ROUTE; TERN_ERR_MSG_TOO_LONG;
 * TERN_ERR_NO_BUFFER), or TERN_ERR_INVALID_ARGUMENT for a destination of no
 * IP family.
 */
tern_err tern_l4_send(tern_stack *st, uint64_t now, const tern_ip_tx *tx, size_t payload_len);

/*
 * tern_l4_port_unreachable: the ICMP error for a datagram no socket wants
 * (RFC 1122 §4.1.3.1 over IPv4: Destination Unreachable, port; RFC 4443
 * §3.1 over IPv6: Destination Unreachable, code 4 "port unreachable"), sent
 * subject to each family's rules on when not to send one and its rate limit.
 */
void tern_l4_port_unreachable(tern_stack *st, uint64_t now, const tern_ip_rx *rx);

/*
 * tern_wildcard_accepts: does a socket bound to the unspecified address
 * `bound` take a datagram or connection for `dst`? The stack's dual-stack
 * choice (stack.h "families"): a socket bound to no address (family NONE)
 * or to :: takes both families, as one socket (RFC 3493 §5.3's default of
 * IPV6_V6ONLY off, with IPv4 peers kept as IPv4 addresses rather than
 * ::ffff:a.b.c.d); one bound to 0.0.0.0 takes IPv4 only.
 */
static inline bool tern_wildcard_accepts(const tern_addr *bound, const tern_addr *dst) {
    if (bound->family == TERN_AF_INET) {
        return dst->family == TERN_AF_INET;
    }
    return true;
}

/*
 * tern_addr_unmap: an IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291
 * §2.5.5.2) as the IPv4 address a.b.c.d; any other address unchanged. The
 * socket calls take either form for an IPv4 peer and always use the IPv4
 * one: an IPv4 node is reached over IPv4 (see stack.h "families").
 */
tern_addr tern_addr_unmap(const tern_addr *a);

/* ---- the instance ------------------------------------------------------------- */

typedef struct tern_arp_entry tern_arp_entry;
typedef struct tern_reasm_slot tern_reasm_slot;
typedef struct tern_igmp tern_igmp; /* ipv4/igmp.c */
typedef struct tern_udp_sock tern_udp_sock;
typedef struct tern_ping_sock tern_ping_sock;
/* TCP's own state, private to tcp*.c (not "tern_tcp_state": that is the public enum). */
typedef struct tern_tcp_module tern_tcp_module;
/* IPv6's own state (neighbour cache, reassembly, ICMPv6 bucket...), private to ipv6/. */
typedef struct tern_ipv6_module tern_ipv6_module;
/* A packet socket (core/packet.c). */
typedef struct tern_packet_sock tern_packet_sock;

/*
 * The earliest deadline of the quiet modules (IPv4 and IPv6 reassembly, IGMP,
 * IPv6 autoconfiguration with MLD and SLAAC, the DHCP clients, mDNS), which
 * the simulator asks for after every frame. Their timers change only in
 * tern_stack_poll, in input other than a plain TCP segment, and in the public
 * calls outside TCP (but tern_ping_open and tern_ping_send, which touch no
 * quiet module), each of which drops the cache (tern_poll_cache_drop);
 * tern_stack_init fills it and poll_at recomputes it when dropped. The
 * modules a TCP segment or call can change are asked every time (TCP, DNS
 * over TCP, the send queues) or have a cache of their own that their timer
 * writes keep exact (ARP and ND: nb_at).
 *
 * A quiet poll (the cache valid and ahead of now) skips IGMP, autoconfiguration,
 * the DHCPv4 client and mDNS, so their deadline (`skipped`) still holds after it;
 * only the modules it runs (reassembly, the DHCPv6 client) may have moved theirs,
 * and the poll folds their fresh deadlines, just read, into `at` instead of
 * dropping the cache: the next poll_at reads no line of the skipped modules
 * (issue 19: a dozen cache lines per poll, each a miss with thousands of hosts).
 */
typedef struct tern_poll_cache {
    uint64_t at;      /* every quiet module's earliest deadline */
    uint64_t skipped; /* IGMP's, autoconfiguration's, the DHCPv4 client's and mDNS's */
    uint64_t nb_at;   /* the neighbour caches' earliest deadline (ARP and ND), see below */
    bool valid;
    bool nb_valid;
    /* The modules that have work in a poll, or in an ARP input, only in some states, which every
     * poll (or ARP input) read from a line of their own to find them not in it (issue 19): one
     * bit each (TERN_ACTIVE_*), here in the instance's first line, which those calls read anyway.
     * A bit is set where its module enters such a state and cleared, if ever, only where a scan
     * finds none left, so a clear bit is never wrong; test builds check that at every skip. */
    uint8_t active;
} tern_poll_cache;

#define TERN_ACTIVE_ND 1u             /* ND has taken an entry (ip6->nd_hi > 0): its timers */
#define TERN_ACTIVE_DHCP6 2u          /* a DHCPv6 client may be running (not OFF) */
#define TERN_ACTIVE_DHCP4_CHECKING 4u /* a DHCPv4 client has probed (CHECKING): ARP input */

/*
 * The counters every frame in or out writes (issue 19): kept in two lines of the instance's head
 * instead of the five lines of tern_counters they lie in, which with thousands of hosts were each
 * a miss per frame. The same fields of tern_stack.c stay 0; tern_stack_get_counters reports these
 * in their place.
 */
typedef struct tern_counters_hot {
    /* a frame in: Ethernet, ARP, IPv4, ICMP, TCP, in-order data on header prediction's short
     * path */
    uint64_t frames_in, bytes_in, arp_in, ip_in, ip_delivered, icmp_in, tcp_in, tcp_predicted_data;
    /* a frame out, and the ACKs on header prediction's short paths, which most often send */
    uint64_t frames_out, bytes_out, ip_out, tcp_out, tcp_predicted_ack, tcp_predicted_ack_lean;
} tern_counters_hot;

/* Padding that puts the interfaces at the start of a line of the instance (checked below the
 * struct). */
#define TERN_STACK_PAD_IFACE 56

/*
 * The instance. Its members are laid out by how often an event reads them (issue 19, the scale
 * figures): with thousands of hosts no instance stays in the caches between two of its events,
 * and every cache line an event touches is a miss. The simulator keeps its hosts' instances
 * 64-byte aligned and asks for the first three lines (192 bytes) of the next event's instance
 * before it runs; those hold what every frame, poll and poll_at reads or writes (the module
 * pointers, the counts that let polls skip their tables, the transmit pointers), so that a quiet
 * event reads no other line of the instance itself. Then the rest of the core's state; the
 * interfaces (the first one's MAC, MTU and addresses in one line); the configuration (its output
 * callbacks in one line); the counters; the transmit buffer, whose first lines every sent frame
 * writes; and last what only a rarely used feature reads (the error text, DHCP, DNS, mDNS, the
 * fragment and loopback buffers), so that an unused feature costs memory but no touched line.
 * The _Static_asserts below the struct keep the hot lines where they are.
 */
struct tern_stack {
    /* ---- line 0: every input, poll and poll_at ---- */
    /* poll_at's cache of the quiet modules' deadline (core/poll_cache.h): poll_at takes a
     * const instance, so it writes the cache through this pointer to poll_cache_mem */
    tern_poll_cache *poll_cache;
    tern_poll_cache poll_cache_mem;
    uint64_t call_now;    /* the time of the current (or last) input or poll */
    uint32_t call_frames; /* frames sent by the current input or poll (TERN_CALL_FRAMES_MAX) */
    uint32_t niface;
    uint32_t arp_resolving; /* entries in the INCOMPLETE state */
    uint32_t udp_tx_queued; /* datagrams waiting in UDP send queues (poll_at needs no scan) */
    /* ---- line 1 ---- */
    uint32_t ping_tx_queued; /* echo requests waiting in ping send queues */
    uint32_t dns_queries;    /* DNS query slots in use (services/dns.c; poll_at needs no scan) */
    tern_pktq loopback;      /* datagrams we sent to one of our own addresses */
    tern_tcp_module *tcp;
    tern_ipv6_module *ip6; /* ipv6/ */
    tern_arp_entry *arp;
    tern_igmp *igmp;    /* a quiet poll writes its now (tern_igmp_set_now) */
    uint32_t route_gen; /* tern_route_cache's generation, never 0 (tern_route_changed) */
    uint32_t arp_gen;   /* bumped on every ARP entry change (tern_ip4_tmpl) */
    /* ---- line 2 ---- */
    /* Reassembly slots in use, IPv4's and IPv6's (ipv4/reasm.c, ipv6/reasm6.c): every poll and
     * poll_at checks these in a line they read anyway, and scans the slots (a line or more each,
     * cold with thousands of hosts: issue 19) only when one is in use. */
    uint16_t reasm_used;
    uint16_t reasm6_used;
    uint16_t ip_id; /* the next IPv4 Identification (every datagram sent) */
    /* cfg.packet_sockets (at most 64; fixed at init), which every frame in and out, poll and
     * poll_at ask: read here, in a hot line, instead of in the configuration's */
    uint16_t npacket;
    tern_rx_addr_cache rx_addr; /* ipv4/ipv4.c: the last received flow's address verdict */
    /* The payload of the datagram being built: tx + TERN_TX_HEADROOM (tern_ip_tx_payload) or
     * in the buffer the environment lent (tern_ip_tx_frame). */
    uint8_t *txp;
    uint8_t *lent; /* the lent buffer the stack holds (core/frame_lend.c), or NULL */
    size_t lent_cap;
    tern_ping_sock *ping;
    tern_udp_sock *udp;

    /* ---- lines 3 and 4: the counters a frame in (3) or out (4) writes ---- */
    tern_counters_hot hc;

    /* ---- the rest of the core: read by the features that use them ---- */
    tern_pktq arp_waiting; /* packets waiting for resolution (meta.dst = next hop) */
    tern_route *routes;
    uint32_t nroutes;
    uint32_t free_chunk;
    tern_chunk *chunks;
    tern_pkt *pkts;
    uint32_t free_pkt;
    tern_packet_sock *pkt; /* cfg.packet_sockets packet sockets (core/packet.c) */
    tern_reasm_slot *reasm;
    /* ICMP error rate limit: a token bucket (RFC 1122 §3.2.2 "SHOULD limit") */
    uint64_t icmp_tokens_ns; /* time-valued tokens, like the link shaper */
    uint64_t icmp_last;

    /* ---- warm: most events read some of these ---- */
    /* the interfaces, the first one's MAC, MTU and addresses in one line (padding before it) */
    uint8_t pad_iface[TERN_STACK_PAD_IFACE];
    tern_iface iface[TERN_MAX_IFACES];
    /* these two put the configuration's output callbacks in one line */
    tern_rng rng;
    uint8_t isn_key[16];
    tern_stack_config cfg; /* with every default filled in */
    tern_counters c;

    /* transmit scratch: [Ethernet][IPv4][payload], and a second for fragments/ICMP */
    /* tx: headers (Ethernet, IPv4 with options) in front of a payload of up to
     * 64 KiB; held datagrams are taken back at TERN_TX_HEADROOM + 40, hence the margin.
     * A frame touches only its own first lines of it. */
    uint8_t tx[TERN_TX_HEADROOM + 40 + 65536];

    /* ---- cold: read only by the features that use them ---- */
    char err[256];
    tern_dhcp_server *dhcps; /* services/dhcp_server.c: cfg.dhcp_servers of them, in the arena */
    uint32_t ndhcps;
    tern_dhcp_client dhcpc[TERN_MAX_IFACES];    /* services/dhcp_client.c */
    tern_dhcpv6_client dhcp6c[TERN_MAX_IFACES]; /* services/dhcpv6_client.c */
    tern_mdns_responder mdns;                   /* services/mdns.c */
    tern_dns_resolver dns;                      /* services/dns.c */
    uint8_t tx2[TERN_FRAME_MAX + 64];
    uint8_t loop_rx[65536]; /* a looped-back datagram being delivered */
};

/* The simulator's early reads cover the first three lines (sim_node.hot); what every event reads
 * must stay inside them. The interfaces and the configuration's callbacks start a line. */
#define TERN_STACK_HOT_BYTES 192
_Static_assert(offsetof(struct tern_stack, udp) + sizeof(void *) <= TERN_STACK_HOT_BYTES,
               "the hot members fit in the first three lines");
_Static_assert(offsetof(struct tern_stack, hc) == TERN_STACK_HOT_BYTES &&
                   offsetof(tern_counters_hot, frames_out) == 64,
               "the input counters in line 3, the output ones in line 4");
_Static_assert(sizeof(tern_poll_cache) == 32, "the poll cache and its flags fill line 0's middle");
_Static_assert(offsetof(struct tern_stack, iface) % 64 == 0, "TERN_STACK_PAD_IFACE");
_Static_assert((offsetof(struct tern_stack, cfg) + offsetof(tern_stack_config, output)) % 64 == 0,
               "the configuration's callbacks in one line");

/* The quiet modules' timers may have changed: poll_at recomputes their deadline. */
static inline void tern_poll_cache_drop(tern_stack *st) {
    st->poll_cache->valid = false;
}

/*
 * The neighbour caches' deadline (tern_poll_cache.nb_at): the earliest retransmission of an
 * INCOMPLETE ARP entry and the earliest ND entry timer. poll_at asked both after every frame,
 * and ND's is a scan of its table; now it is cached beside the quiet modules' deadline and kept
 * exact by the writes of those timers (branch poll20). A write that moves one entry's deadline
 * from old to new (TERN_NEVER for an entry that counts for none) reports it here: a new deadline
 * below the cached minimum is the new minimum; one that leaves the entry that may have held the
 * minimum (old == nb_at) for a later time drops the cache, recomputed at the next poll_at; any
 * other move leaves the minimum where it is.
 */
static inline void tern_poll_cache_drop_nb(tern_stack *st) {
    st->poll_cache->nb_valid = false;
}

static inline void tern_poll_cache_nb_moved(tern_stack *st, uint64_t old, uint64_t new_at) {
    tern_poll_cache *pc = st->poll_cache;
    if (!pc->nb_valid) {
        return;
    }
    if (new_at < pc->nb_at) {
        pc->nb_at = new_at;
    } else if (old == pc->nb_at && new_at != old) {
        pc->nb_valid = false;
    }
}

/*
 * Has the current input or poll call sent its TERN_CALL_FRAMES_MAX frames?
 * Senders of queued work (TCP output, UDP and ping send queues) stop then and
 * leave the rest for the next poll, which poll_at asks for at once.
 */
static inline bool tern_call_budget_spent(const tern_stack *st) {
    return st->call_frames >= TERN_CALL_FRAMES_MAX;
}

/* ---- ports ------------------------------------------------------------------ */

/* A random free ephemeral port for `protocol` (RFC 6056 §3.3.1-style random probe). */
tern_err tern_ephemeral_port(tern_stack *st, uint8_t protocol, uint16_t *out);

/* ---- errors ------------------------------------------------------------------ */

tern_err tern_fail(tern_stack *st, tern_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* TERN_STACK_INTERNAL_H */

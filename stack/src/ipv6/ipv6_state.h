/*
 * The IPv6 layer's state (struct tern_ipv6_module), shared by the files of
 * ipv6/ only: other layers see ipv6/ipv6.h. Laid out in the instance's memory
 * by tern_ipv6_init; nothing here is allocated.
 */
#ifndef TERN_IPV6_STATE_H
#define TERN_IPV6_STATE_H

#include "ipv6.h"
#include "ipv6/autoconf.h"

/* A neighbour cache entry (RFC 4861 section 5.1 "Neighbor Cache"). */
typedef struct tern_nd_entry {
    tern_addr ip;
    uint32_t iface;
    uint8_t mac[6];
    uint8_t state;     /* enum tern_nd_state */
    bool is_router;    /* IsRouter flag */
    uint8_t probes;    /* solicitations sent in the current state */
    uint32_t queued;   /* packets waiting in nd_waiting for this entry */
    uint64_t timer;    /* next transition or retransmission; TERN_NEVER for none */
    uint64_t last_use; /* for eviction: the least recently used entry goes first */
} tern_nd_entry;

/* A Redirect's destination cache entry (RFC 4861 section 8.3). */
#define TERN_ND_REDIRECTS 8
typedef struct tern_nd_redirect {
    bool used;
    tern_addr dst, next_hop;
    uint32_t iface;
    uint64_t time; /* when learnt (the oldest is replaced) */
} tern_nd_redirect;

/* A path MTU learnt from a Packet Too Big (RFC 8201 section 4). */
#define TERN_IPV6_PMTU_ENTRIES 8
typedef struct tern_pmtu6 {
    bool used;
    tern_addr dst;
    uint32_t mtu;
    uint64_t time; /* when lowered: it ages back to the link MTU after TERN_IPV6_PMTU_AGE_NS */
} tern_pmtu6;

typedef struct tern_reasm6_slot tern_reasm6_slot;

struct tern_ipv6_module {
    tern_rng rng; /* ND's random factors and fragment identifications (its own stream) */
    tern_nd_iface nd_if[TERN_MAX_IFACES];
    tern_nd_entry *nd; /* cfg.nd_entries */
    /* entries at nd_hi and above were never taken (take_entry fills the first
     * unused one): the scans per lookup, poll and poll_at stop there */
    uint32_t nd_hi;
    tern_pktq nd_waiting;
    tern_reasm6_slot *reasm;            /* cfg.reasm_slots */
    uint64_t icmp_tokens_ns, icmp_last; /* RFC 4443 section 2.4 (f) token bucket */
    tern_nd_redirect redirect[TERN_ND_REDIRECTS];
    tern_pmtu6 pmtu[TERN_IPV6_PMTU_ENTRIES];
    /* the packet being delivered (tern_ipv6_current_packet) */
    const uint8_t *rx_pkt;
    size_t rx_len;
    bool rx_mcast;
    uint32_t rx_iface; /* the interface of the packet being processed (errors about it go there) */
    /* Autoconfiguration (ipv6/autoconf.c): DAD, SLAAC, MLD, Router Discovery per interface,
     * with a random stream of its own so that it never shifts ND's draws. */
    tern_rng ac_rng;
    uint64_t ac_now; /* the time of the current or last input/poll (for socket-side calls) */
    tern_ac_iface ac[TERN_MAX_IFACES];
};

#endif /* TERN_IPV6_STATE_H */

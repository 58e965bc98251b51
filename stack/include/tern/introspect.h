/*
 * Introspection of a Tern stack host: its interfaces, routes, ARP cache and
 * sockets, IPv6 addresses, neighbour cache, default routers and prefixes,
 * every TCP connection (orphans and queued ones too), read-only, for a network shell
 * (examples/shell.c) and for tests. Each getter takes an index and returns TERN_ERR_EMPTY once the
 * index is past the last item, so a caller lists everything with a loop from 0. Nothing here
 * changes the stack.
 */
#ifndef TERN_INTROSPECT_H
#define TERN_INTROSPECT_H

#ifndef TERN_CDEF
#include <stdbool.h>
#include <stdint.h>

#include "tern/stack.h"
#endif

/* One interface: what tern_iface_config said, as the stack has it now. */
typedef struct tern_iface_info {
    uint8_t mac[6];
    uint32_t mtu;
    uint32_t naddrs;
    tern_addr addr[TERN_MAX_IFACE_ADDRS];
    uint8_t prefix_len[TERN_MAX_IFACE_ADDRS];
} tern_iface_info;

/*
 * tern_iface_get: interface `iface` (0..niface-1) into *out.
 * Returns TERN_OK or TERN_ERR_EMPTY (no such interface).
 */
tern_err tern_iface_get(const tern_stack *st, uint32_t iface, tern_iface_info *out);

/* One entry of the route table (tern_route_add); on-link subnets of the interfaces are not in it.
 */
typedef struct tern_route_info {
    tern_addr dst;
    uint8_t prefix_len;
    tern_addr gateway; /* unspecified: on-link */
    uint32_t iface;
} tern_route_info;

/*
 * tern_route_get: the index-th route, in table order, into *out.
 * Returns TERN_OK or TERN_ERR_EMPTY (past the last).
 */
tern_err tern_route_get(const tern_stack *st, uint32_t index, tern_route_info *out);

/* One ARP cache entry. */
typedef struct tern_arp_info {
    tern_addr ip;
    uint8_t mac[6]; /* zero while resolving */
    bool resolved;  /* REACHABLE (true) or INCOMPLETE: a request is out (false) */
    uint32_t iface;
    uint64_t expires;  /* resolved: the time the entry stops being used */
    uint32_t requests; /* resolving: requests sent so far */
} tern_arp_info;

/*
 * tern_arp_get: the index-th entry in use of the ARP cache, in table order.
 * Returns TERN_OK or TERN_ERR_EMPTY (past the last).
 */
tern_err tern_arp_get(const tern_stack *st, uint32_t index, tern_arp_info *out);

/*
 * tern_tcp_socket_get / tern_udp_socket_get: the handle of the index-th open
 * socket the application holds (opened and not yet closed: listeners,
 * connections, accepted connections; not orphans a close left finishing, nor
 * connections still waiting in an accept queue), in pool order. Read them
 * with tern_tcp_get_info / tern_udp_local.
 * Returns TERN_OK or TERN_ERR_EMPTY (past the last).
 */
tern_err tern_tcp_socket_get(const tern_stack *st, uint32_t index, tern_sock *out);
tern_err tern_udp_socket_get(const tern_stack *st, uint32_t index, tern_sock *out);

/* ---- IPv6 ------------------------------------------------------------------- */

/* One IPv6 address of an interface (RFC 4862 section 5.5.4 for the states and lifetimes). */
typedef struct tern_ipv6_addr_info {
    tern_addr addr;
    uint8_t prefix_len;
    uint8_t state;  /* 0 preferred, 1 tentative (DAD running), 2 deprecated */
    uint8_t origin; /* 0 static, 1 link-local (from the MAC), 2 SLAAC, 3 temporary (RFC 8981) */
    uint64_t preferred_until; /* absolute virtual time, ns; TERN_NEVER: infinite */
    uint64_t valid_until;     /* the same for the valid lifetime */
} tern_ipv6_addr_info;

/*
 * tern_ipv6_addr_get: the index-th IPv6 address of interface `iface` (index 0
 * is the link-local address).
 * Returns TERN_OK; TERN_ERR_EMPTY past the last address or for an unknown
 * interface.
 */
tern_err tern_ipv6_addr_get(const tern_stack *st, uint32_t iface, uint32_t index,
                            tern_ipv6_addr_info *out);

/* One neighbour cache entry (RFC 4861 section 5.1 "Neighbor Cache"). */
typedef struct tern_nd_info {
    tern_addr ip;
    uint8_t mac[6]; /* zero while INCOMPLETE */
    uint8_t state;  /* TERN_ND_STATE_* (tern/stack.h): INCOMPLETE..PROBE */
    bool is_router; /* the IsRouter flag */
    uint8_t probes; /* solicitations sent in the current state */
    uint32_t iface;
    uint32_t queued; /* packets waiting for the address to resolve */
    uint64_t timer;  /* the entry's next transition or retransmission (absolute, ns);
                      * TERN_NEVER: none (STALE waits for traffic) */
} tern_nd_info;

/*
 * tern_nd_get: the index-th entry in use of the neighbour cache, in table order.
 * Returns TERN_OK or TERN_ERR_EMPTY (past the last).
 */
tern_err tern_nd_get(const tern_stack *st, uint32_t index, tern_nd_info *out);

/* One Default Router List entry (RFC 4861 section 6.3.4), learnt from Router Advertisements. */
typedef struct tern_ipv6_router_info {
    tern_addr addr; /* the router's link-local address */
    uint32_t iface;
    uint64_t until; /* invalidation time: the RA's Router Lifetime from its arrival (ns) */
} tern_ipv6_router_info;

/*
 * tern_ipv6_router_get: the index-th default router over all interfaces
 * (interface order, then list order).
 * Returns TERN_OK or TERN_ERR_EMPTY (past the last).
 */
tern_err tern_ipv6_router_get(const tern_stack *st, uint32_t index, tern_ipv6_router_info *out);

/* One Prefix List entry: an on-link prefix from a Router Advertisement (L flag). */
typedef struct tern_ipv6_prefix_info {
    tern_addr prefix;
    uint8_t len;
    uint32_t iface;
    uint64_t until; /* invalidation time (Valid Lifetime), TERN_NEVER: infinite */
} tern_ipv6_prefix_info;

/*
 * tern_ipv6_prefix_get: the index-th on-link prefix over all interfaces.
 * Returns TERN_OK or TERN_ERR_EMPTY (past the last).
 */
tern_err tern_ipv6_prefix_get(const tern_stack *st, uint32_t index, tern_ipv6_prefix_info *out);

/* ---- every TCP connection -------------------------------------------------------- */

/* Who holds a TCP connection (tern_tcp_conn_info.owner). */
typedef enum tern_tcp_owner {
    TERN_TCP_OWNER_APP = 0,          /* a socket the application holds (tern_tcp_socket_get) */
    TERN_TCP_OWNER_ORPHAN = 1,       /* closed by the application, still finishing (FIN-WAIT-1/2,
                                      * CLOSING, LAST-ACK; TIME-WAIT while it holds a socket) */
    TERN_TCP_OWNER_ACCEPT_QUEUE = 2, /* established, waiting in its listener's accept queue */
    TERN_TCP_OWNER_SYN_QUEUE = 3,    /* half-open (SYN-RECEIVED) child of a listener */
    TERN_TCP_OWNER_TIMEWAIT = 4      /* an entry of the TIME-WAIT table: no socket any more */
} tern_tcp_owner;

typedef struct tern_tcp_conn_info {
    tern_tcp_owner owner;
    tern_tcp_info info;        /* TIME-WAIT table entries: state, addresses and ports only */
    uint64_t timewait_expires; /* TIME-WAIT table entries: the end of the 2 x MSL wait (ns) */
} tern_tcp_conn_info;

/*
 * tern_tcp_conn_get: the index-th TCP connection of any owner: the sockets
 * in pool order (listeners included, as owner APP), then the TIME-WAIT table
 * from the entry that ends first.
 * Returns TERN_OK or TERN_ERR_EMPTY (past the last).
 */
tern_err tern_tcp_conn_get(const tern_stack *st, uint32_t index, tern_tcp_conn_info *out);

#endif /* TERN_INTROSPECT_H */

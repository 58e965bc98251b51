/*
 * Introspection of a Tern stack host: its interfaces, routes, ARP cache and
 * sockets, read-only, for a network shell (examples/shell.c) and for tests.
 * Each getter takes an index and returns TERN_ERR_EMPTY once the index is past
 * the last item, so a caller lists everything with a loop from 0. Nothing here
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

#endif /* TERN_INTROSPECT_H */

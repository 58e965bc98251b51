/*
 * IPv4 multicast groups and IGMP, host side, of the Tern stack: IGMPv1
 * compatibility (RFC 1112 appendix I), IGMPv2 (RFC 2236) and IGMPv3
 * (RFC 3376, any-source joins: EXCLUDE mode with an empty source list).
 *
 * A UDP socket joins a group on an interface; the interface then receives
 * datagrams for that group, and a datagram to a group is delivered to every
 * socket bound to its port that joined the group there (a copy each), to no
 * other. The all-systems group 224.0.0.1 is joined by every interface from
 * the start (RFC 1112 section 4) and reaches every socket bound to the port.
 *
 * The first join of a group on an interface sends an unsolicited report on
 * the next poll (poll_at says "now"), repeated at random times in (0, [Unsolicited
 * Report Interval]] (10 s in IGMPv1/v2, 1 s in IGMPv3) until [Robustness
 * Variable] (2, or the querier's QRV) reports went out. Queries are answered
 * after a random delay in (0, Max Resp Time]; every random delay comes from
 * the instance's seeded generator. The last leave sends a Leave Group (IGMPv2,
 * when this host sent the last report) or CHANGE_TO_INCLUDE({}) reports
 * (IGMPv3). An interface runs IGMPv3 unless set to version 2, and drops to v2
 * (v1) compatibility for the Older Version Querier Present Timeout after
 * hearing a v2 (v1) query (RFC 3376 section 7.2.1).
 */
#ifndef TERN_IGMP_H
#define TERN_IGMP_H

#ifndef TERN_CDEF
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"
#include "tern/stack.h"
#endif

#define TERN_IGMP_GROUPS 16      /* groups joined (or being left) per instance, all interfaces */
#define TERN_IGMP_MEMBERSHIPS 32 /* socket-group-interface memberships per instance */
/* For tern_udp_join/leave and tern_udp_set_multicast_if: the interface the route to the group
 * names (a multicast route, else interface 0). */
#define TERN_IFACE_BY_ROUTE 0xffffffffu

typedef struct tern_igmp_counters {
    uint64_t in, bad_checksum, malformed, queries_v1, queries_v2, queries_v3, queries_ignored,
        reports_heard, reports_suppressed, reports_out, leaves_out, mode_changes;
} tern_igmp_counters;

/* The compatibility mode an interface runs in now: 1, 2 or 3. */
typedef struct tern_igmp_iface_state {
    uint8_t configured;        /* 2 or 3 */
    uint8_t mode;              /* 1, 2 or 3: the configured version or an older querier's */
    uint8_t robustness;        /* [Robustness Variable]: 2, or the last query's QRV */
    uint32_t query_interval_s; /* [Query Interval]: 125, or the last v3 query's QQI */
} tern_igmp_iface_state;

/*
 * tern_udp_join: the UDP socket s joins the IPv4 multicast group on
 * interface iface (IP_ADD_MEMBERSHIP); iface TERN_IFACE_BY_ROUTE: the
 * interface the routing table gives for the group (as IP_ADD_MEMBERSHIP with
 * INADDR_ANY does).
 * Returns TERN_OK; TERN_ERR_CLOSED (s is not an open UDP socket);
 * TERN_ERR_INVALID_ARGUMENT (group not an IPv4 multicast address, or
 * 224.0.0.0, or iface out of range); TERN_ERR_ADDR_IN_USE (s already joined
 * the group there); TERN_ERR_NO_BUFFER (TERN_IGMP_MEMBERSHIPS or
 * TERN_IGMP_GROUPS reached). The message says which.
 */
tern_err tern_udp_join(tern_stack *st, tern_sock s, const tern_addr *group, uint32_t iface);

/*
 * tern_udp_leave: undo tern_udp_join (IP_DROP_MEMBERSHIP). Closing the socket
 * leaves all its groups.
 * Returns TERN_OK; TERN_ERR_CLOSED; TERN_ERR_EMPTY (s had not joined the
 * group on iface).
 */
tern_err tern_udp_leave(tern_stack *st, tern_sock s, const tern_addr *group, uint32_t iface);

/*
 * tern_udp_set_multicast_loop: IP_MULTICAST_LOOP. On (the default, RFC 1112
 * section 6.1: "by default, a copy of the datagram is looped back"), a
 * datagram this socket sends to an IPv4 group the host has joined on the
 * outgoing interface is also delivered to the host's sockets that joined it
 * (counted: udp_mcast_looped); off, it only leaves on the link.
 * Returns TERN_OK or TERN_ERR_CLOSED.
 */
tern_err tern_udp_set_multicast_loop(tern_stack *st, tern_sock s, bool on);

/*
 * tern_udp_set_multicast_if: IP_MULTICAST_IF, the interface this socket's
 * IPv4 multicasts leave by (their source is that interface's first address
 * unless the socket is bound to one); TERN_IFACE_BY_ROUTE (the default): the
 * interface the route to the group names.
 * Returns TERN_OK; TERN_ERR_CLOSED; TERN_ERR_INVALID_ARGUMENT for an
 * interface out of range.
 */
tern_err tern_udp_set_multicast_if(tern_stack *st, tern_sock s, uint32_t iface);

/*
 * tern_igmp_set_version: the IGMP version interface iface runs: 2 (RFC 2236)
 * or 3 (RFC 3376, the default). Pending reports are cancelled (as on a mode
 * change, RFC 3376 section 7.2.1).
 * Returns TERN_OK or TERN_ERR_INVALID_ARGUMENT.
 */
tern_err tern_igmp_set_version(tern_stack *st, uint32_t iface, uint8_t version);

/*
 * tern_igmp_get_iface_state: the interface's IGMP state now.
 * Returns TERN_OK or TERN_ERR_INVALID_ARGUMENT (iface out of range).
 */
tern_err tern_igmp_get_iface_state(const tern_stack *st, uint32_t iface,
                                   tern_igmp_iface_state *out);

/*
 * tern_igmp_groups: the groups interface iface is a member of (not counting
 * 224.0.0.1), in the order joined, into out[0..cap). Returns how many there
 * are (may exceed cap).
 */
size_t tern_igmp_groups(const tern_stack *st, uint32_t iface, tern_addr *out, size_t cap);

/* tern_igmp_get_counters: the instance's IGMP counters. */
void tern_igmp_get_counters(const tern_stack *st, tern_igmp_counters *out);

#endif /* TERN_IGMP_H */

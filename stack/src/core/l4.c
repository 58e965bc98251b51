/*
 * The transport layers' way down to IP, whichever the family: TCP, UDP and
 * ping sockets call these and never an IPv4 or IPv6 function by name, so
 * that one socket code serves both families (issue 12).
 */
#include <string.h>

#include "ipv4/ipv4.h"
#include "ipv6/ipv6.h"
#include "stack_internal.h"
#include "wire/icmpv4.h"

static tern_err l4_send(tern_stack *st, uint64_t now, const tern_ip_tx *tx, size_t payload_len) {
    switch (tx->dst.family) {
    case TERN_AF_INET:
        return tern_ip_send(st, now, tx, payload_len);
    case TERN_AF_INET6: {
        tern_ip6_tx t6;
        memset(&t6, 0, sizeof t6);
        t6.src = tx->src;
        t6.dst = tx->dst;
        t6.next_header = tx->protocol;
        t6.hop_limit = tx->ttl;
        t6.traffic_class = (uint8_t)(tx->dscp << 2);
        /* IPv4's DF (TCP's path MTU discovery, a socket's don't-fragment option) is IPv6's
         * "do not fragment at the source": refused above the path MTU instead. */
        t6.dontfrag = tx->df;
        return tern_ipv6_send(st, now, &t6, payload_len);
    }
    default:
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "l4_send: destination family %u",
                         tx->dst.family);
    }
}

tern_err tern_l4_send(tern_stack *st, uint64_t now, const tern_ip_tx *tx, size_t payload_len) {
    tern_err e = l4_send(st, now, tx, payload_len);
    tern_frame_lent_done(st); /* a lent buffer not handed over with a frame goes back */
    return e;
}

void tern_l4_port_unreachable(tern_stack *st, uint64_t now, const tern_ip_rx *rx) {
    if (rx->v4) {
        tern_icmp_send_error(st, now, TERN_ICMPV4_DEST_UNREACH, TERN_ICMPV4_UNREACH_PORT, 0, rx->v4,
                             rx->v4_hdr, rx->link_broadcast);
    } else if (rx->v6_pkt) {
        /* RFC 4443 §3.1: "Destination Unreachable message with Code 4 in response to a packet
         * for which the transport protocol (e.g., UDP) has no listener"; §2.4 (e)'s exceptions
         * (multicast) are the ICMPv6 layer's. */
        tern_icmpv6_send_error(st, now, TERN_ICMPV6_DEST_UNREACH, TERN_ICMPV6_UNREACH_PORT, 0,
                               rx->v6_pkt, rx->v6_pkt_len, rx->link_broadcast);
    }
}

tern_addr tern_addr_unmap(const tern_addr *a) {
    /* RFC 4291 §2.5.5.2: 80 zero bits, 16 one bits, the IPv4 address. */
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a->family == TERN_AF_INET6 && memcmp(a->bytes, prefix, sizeof prefix) == 0) {
        return tern_addr_v4_from_bytes(a->bytes + 12);
    }
    return *a;
}

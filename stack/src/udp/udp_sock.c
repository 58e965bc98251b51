/*
 * UDP (RFC 768, RFC 1122 §4.1): sockets bound to a port (or a random
 * ephemeral one), sendto/recvfrom with addresses, checksum always generated
 * and verified (a zero checksum means "none" and is accepted, RFC 768),
 * broadcast send (when allowed) and receive, port unreachable for closed
 * ports, and ICMP errors delivered to the socket that sent the datagram.
 */
#include <string.h>

#include "core/sock_handle.h"
#include "tern/igmp.h"
#include "tern/introspect.h"
#include "ipv4/ipv4.h"
#include "udp.h"
#include "core/stack_internal.h"
#include "wire/icmpv4.h"
#include "wire/udp.h"

#define UDP_MAX_PAYLOAD (65535 - 20 - 8)

struct tern_udp_sock {
    bool used;
    bool bound;
    bool broadcast;
    bool df;
    uint16_t gen;
    uint16_t lport;
    uint8_t ttl;
    tern_addr laddr;   /* unspecified: any */
    bool mcast_noloop; /* IP_MULTICAST_LOOP off: no local copy of our multicasts */
    uint32_t mcast_if; /* IP_MULTICAST_IF: the interface + 1; 0: the route's */
    tern_pktq rxq, txq;
    bool has_error;
    tern_sock_error error;
};

size_t tern_udp_memory_size(const tern_stack_config *cfg) {
    return (size_t)cfg->udp_sockets * sizeof(tern_udp_sock);
}

void tern_udp_init(tern_stack *st, uint8_t *mem) {
    st->udp = (tern_udp_sock *)mem;
}

static tern_udp_sock *get(const tern_stack *st, tern_sock s) {
    uint32_t i;
    if (!tern_handle_decode(s, TERN_HANDLE_UDP, &i) || i >= st->cfg.udp_sockets) {
        return NULL;
    }
    tern_udp_sock *u = &st->udp[i];
    return u->used && u->gen == tern_handle_gen(s) ? u : NULL;
}

#define GET_OR_FAIL(u, st, s)                                                                      \
    tern_udp_sock *u = get(st, s);                                                                 \
    if (!u) {                                                                                      \
        return tern_fail(st, TERN_ERR_CLOSED, "udp socket %#x: closed or not a UDP socket", s);    \
    }

bool tern_udp_is_open(const tern_stack *st, tern_sock s) {
    return get(st, s) != NULL;
}

bool tern_udp_port_in_use(const tern_stack *st, uint16_t port) {
    for (uint32_t i = 0; i < st->cfg.udp_sockets; i++) {
        if (st->udp[i].used && st->udp[i].bound && st->udp[i].lport == port) {
            return true;
        }
    }
    return false;
}

tern_err tern_udp_open(tern_stack *st, tern_sock *out) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    for (uint32_t i = 0; i < st->cfg.udp_sockets; i++) {
        tern_udp_sock *u = &st->udp[i];
        if (!u->used) {
            uint16_t gen = (uint16_t)(u->gen + 1);
            memset(u, 0, sizeof *u);
            u->used = true;
            u->gen = gen & TERN_HANDLE_GEN_MASK;
            u->laddr = (tern_addr){0}; /* no address: either family (tern_wildcard_accepts) */
            tern_pktq_init(&u->rxq, st->cfg.udp_queue);
            tern_pktq_init(&u->txq, st->cfg.udp_queue);
            *out = tern_handle_encode(TERN_HANDLE_UDP, u->gen, i);
            return TERN_OK;
        }
    }
    return tern_fail(st, TERN_ERR_NO_BUFFER, "udp: all %u sockets are open", st->cfg.udp_sockets);
}

tern_err tern_udp_bind(tern_stack *st, tern_sock s, const tern_addr *addr, uint16_t port) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    GET_OR_FAIL(u, st, s);
    if (u->bound) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "udp bind: socket already bound to port %u",
                         u->lport);
    }
    /* No address: any, of either family; an IPv4-mapped one is the IPv4 address (RFC 4291
     * §2.5.5.2). */
    tern_addr a = addr ? tern_addr_unmap(addr) : (tern_addr){0};
    addr = &a;
    if (!tern_addr_is_unspecified(addr) && !tern_is_local_addr(st, addr, NULL)) {
        char text[TERN_ADDR_STRLEN];
        tern_addr_format(addr, text, sizeof text);
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "udp bind address=%s: not ours", text);
    }
    if (port == 0) {
        tern_err err = tern_ephemeral_port(st, TERN_IPPROTO_UDP, &port);
        if (err != TERN_OK) {
            return err;
        }
    } else if (tern_udp_port_in_use(st, port)) {
        return tern_fail(st, TERN_ERR_ADDR_IN_USE, "udp bind port=%u: already in use", port);
    }
    u->laddr = *addr;
    u->lport = port;
    u->bound = true;
    return TERN_OK;
}

tern_err tern_udp_local(const tern_stack *st, tern_sock s, tern_addr *addr, uint16_t *port) {
    tern_udp_sock *u = get(st, s);
    if (!u) {
        return TERN_ERR_CLOSED;
    }
    if (addr) {
        *addr = u->laddr;
    }
    if (port) {
        *port = u->lport;
    }
    return TERN_OK;
}

tern_err tern_udp_sendto(tern_stack *st, tern_sock s, const tern_addr *dst, uint16_t port,
                         const uint8_t *data, size_t len) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    GET_OR_FAIL(u, st, s);
    tern_addr d = dst ? tern_addr_unmap(dst) : (tern_addr){0};
    dst = &d;
    if (!tern_addr_is_v4(dst) && !tern_addr_is_v6(dst)) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "udp sendto: destination must be an IPv4 or IPv6 address");
    }
    if (!tern_addr_is_unspecified(&u->laddr) && u->laddr.family != dst->family) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "udp sendto: the socket is bound to an address of the other family");
    }
    if (port == 0) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "udp sendto port=0: not a valid port");
    }
    if (len > UDP_MAX_PAYLOAD) {
        return tern_fail(st, TERN_ERR_MSG_TOO_LONG, "udp sendto len=%zu: at most %d bytes", len,
                         UDP_MAX_PAYLOAD);
    }
    tern_route_result rr;
    if (tern_route_lookup(st, dst, &u->laddr, &rr) != TERN_OK) {
        char text[TERN_ADDR_STRLEN];
        tern_addr_format(dst, text, sizeof text);
        return tern_fail(st, TERN_ERR_NO_ROUTE, "udp sendto %s: no route", text);
    }
    if (rr.broadcast && !u->broadcast) {
        /* RFC 1122 §4.1.3.5 lets the stack refuse; Linux says EACCES without SO_BROADCAST. */
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "udp sendto: broadcast destination needs the broadcast option");
    }
    if (u->df && len + 8 + tern_ip_hdr_len(dst->family) > rr.mtu) {
        return tern_fail(st, TERN_ERR_MSG_TOO_LONG,
                         "udp sendto len=%zu: above the path MTU %u with don't-fragment set", len,
                         rr.mtu);
    }
    if (!u->bound) {
        tern_err err = tern_udp_bind(st, s, NULL, 0);
        if (err != TERN_OK) {
            return err;
        }
    }
    tern_pkt_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.dst = *dst;
    meta.dport = port;
    tern_err err = tern_pktq_push(st, &u->txq, &meta, data, len, NULL, 0);
    if (err == TERN_OK) {
        st->udp_tx_queued++;
    }
    if (err == TERN_ERR_WOULD_BLOCK) {
        return tern_fail(st, err, "udp sendto: the send queue is full (%u datagrams)",
                         st->cfg.udp_queue);
    }
    if (err != TERN_OK) {
        return tern_fail(st, err, "udp sendto: no packet buffer for %zu bytes", len);
    }
    return TERN_OK;
}

bool tern_udp_has_output(const tern_stack *st) {
    return st->udp_tx_queued != 0;
}

static bool deliver_multicast(tern_stack *st, uint64_t now, const tern_ip_rx *ip,
                              const struct tern_udp_repr *r);

/* The first IPv4 address of iface (0.0.0.0 when it has none). */
static tern_addr iface_v4(const tern_stack *st, uint32_t iface) {
    const tern_iface *f = &st->iface[iface];
    return f->naddrs ? f->addr[0] : tern_addr_v4(0, 0, 0, 0);
}

void tern_udp_poll(tern_stack *st, uint64_t now) {
    if (!st->udp_tx_queued) {
        return;
    }
    for (uint32_t i = 0; i < st->cfg.udp_sockets; i++) {
        tern_udp_sock *u = &st->udp[i];
        /* bounded per call (TERN_CALL_FRAMES_MAX): the rest on the next poll */
        while (u->used && u->txq.count && !tern_call_budget_spent(st)) {
            tern_pkt_meta m = *tern_pktq_peek(st, &u->txq);
            uint8_t *p = tern_ip_tx_payload(st);
            size_t len = tern_pktq_pop(st, &u->txq, p + TERN_UDP_HDR_LEN, UDP_MAX_PAYLOAD);
            st->udp_tx_queued--;
            tern_route_result rr;
            if (tern_route_lookup(st, &m.dst, &u->laddr, &rr) != TERN_OK) {
                st->c.ip_no_route++;
                continue;
            }
            bool mc4 = tern_addr_is_v4(&m.dst) && tern_addr_is_multicast(&m.dst);
            if (mc4 && u->mcast_if && u->mcast_if <= st->niface) {
                /* IP_MULTICAST_IF; RFC 1112 section 6.2: "The IP source address of the
                 * outgoing datagram must be one of the individual addresses corresponding to
                 * the outgoing interface." */
                rr.iface = u->mcast_if - 1;
                if (tern_addr_is_unspecified(&u->laddr)) {
                    rr.src = iface_v4(st, rr.iface);
                }
            }
            struct tern_udp_repr r = {.src_port = u->lport, .dst_port = m.dport};
            r.payload = NULL; /* in place */
            r.payload_len = len;
            size_t w;
            if (tern_udp_emit(&r, &rr.src, &m.dst, p, TERN_UDP_HDR_LEN + len, &w) != TERN_OK) {
                continue;
            }
            tern_ip_tx tx = {.src = rr.src,
                             .dst = m.dst,
                             .protocol = TERN_IPPROTO_UDP,
                             .ttl = u->ttl,
                             .df = u->df};
            if (tx.ttl == 0 && tern_addr_is_multicast(&m.dst)) {
                tx.ttl = 1; /* RFC 1112 §6.1: a multicast's TTL "should default to 1" */
            }
            if (mc4) {
                tx.mcast_oif = rr.iface + 1;
            }
            if (mc4 && !u->mcast_noloop && tern_igmp_is_member(st, rr.iface, &m.dst)) {
                /* RFC 1112 section 6.2: "If the sending host is itself a member of the
                 * destination group on the outgoing interface, a copy of the outgoing datagram
                 * must be looped-back for local delivery, unless inhibited by the sender."
                 * Delivered now, before the datagram leaves, to the sockets that joined. */
                tern_ip_rx lrx = {.src = rr.src,
                                  .dst = m.dst,
                                  .payload = p,
                                  .payload_len = w,
                                  .ttl = tx.ttl,
                                  .protocol = TERN_IPPROTO_UDP,
                                  .iface = rr.iface,
                                  .link_broadcast = true};
                struct tern_udp_repr lr = {.src_port = u->lport,
                                           .dst_port = m.dport,
                                           .payload = p + TERN_UDP_HDR_LEN,
                                           .payload_len = len};
                if (deliver_multicast(st, now, &lrx, &lr)) {
                    st->c.udp_mcast_looped++;
                }
            }
            st->c.udp_out++;
            tern_l4_send(st, now, &tx, w);
        }
    }
}

static void queue_rx(tern_stack *st, uint64_t now, tern_udp_sock *u, const tern_ip_rx *ip,
                     const struct tern_udp_repr *r) {
    tern_pkt_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.src = ip->src;
    meta.dst = ip->dst;
    meta.sport = r->src_port;
    meta.dport = r->dst_port;
    meta.time = now;
    meta.ttl = ip->ttl;
    if (tern_pktq_push(st, &u->rxq, &meta, r->payload, r->payload_len, NULL, 0) != TERN_OK) {
        st->c.udp_queue_full++;
    }
}

/* Deliver a datagram to a group to the sockets that joined it (RFC 1112 section 6.2); false when
 * no socket took it. */
static bool deliver_multicast(tern_stack *st, uint64_t now, const tern_ip_rx *ip,
                              const struct tern_udp_repr *r) {
    bool all_hosts = tern_addr_v4_to_u32(&ip->dst) == 0xe0000001u;
    bool any = false;
    for (uint32_t i = 0; i < st->cfg.udp_sockets; i++) {
        tern_udp_sock *u = &st->udp[i];
        if (!u->used || !u->bound || u->lport != r->dst_port ||
            !(tern_addr_is_unspecified(&u->laddr) || tern_addr_eq(&u->laddr, &ip->dst))) {
            continue;
        }
        tern_sock h = tern_handle_encode(TERN_HANDLE_UDP, u->gen, i);
        if (all_hosts || tern_igmp_sock_joined(st, h, &ip->dst)) {
            queue_rx(st, now, u, ip, r);
            any = true;
        }
    }
    return any;
}

void tern_udp_input(tern_stack *st, uint64_t now, const tern_ip_rx *ip) {
    st->c.udp_in++;
    struct tern_udp_repr r;
    tern_err err = tern_udp_parse(ip->payload, ip->payload_len, &ip->src, &ip->dst, &r);
    if (err == TERN_ERR_BAD_CHECKSUM) {
        st->c.udp_bad_checksum++;
        return;
    }
    if (err != TERN_OK) {
        st->c.udp_malformed++;
        return;
    }
    /* DHCP replies for a running client (services/dhcp_client.c), DNS: IPv4 services. */
    if (ip->v4 && tern_services_udp_input(st, now, ip->iface, ip->v4, &r)) {
        return;
    }
    /* DNS answers over IPv6 (servers from a DHCPv6 lease, services/dns.c). */
    if (!ip->v4 && r.src_port == 53 && tern_dns_input(st, now, &ip->src, &r)) {
        return;
    }
    /* DHCPv6 replies for a running client (services/dhcpv6_client.c). */
    if (!ip->v4 && r.dst_port == 546 && tern_dhcpv6_input(st, now, ip->iface, &r)) {
        return;
    }
    /* A datagram to a group joined here goes to every socket bound to the port that joined the
     * group, a copy each (RFC 1112 §6.2: delivered "to all members of the destination host
     * group"; a socket's membership is what IP_ADD_MEMBERSHIP asked for); 224.0.0.1, joined by
     * every host, to every socket bound to the port. */
    if (ip->v4 && tern_addr_is_multicast(&ip->dst)) {
        if (!deliver_multicast(st, now, ip, &r)) {
            st->c.udp_no_port += 1; /* no ICMP error about a multicast (RFC 1122 §3.2.2) */
        }
        return;
    }
    /* The most specific socket: bound to this address, else bound to any. */
    tern_udp_sock *match = NULL;
    for (uint32_t i = 0; i < st->cfg.udp_sockets; i++) {
        tern_udp_sock *u = &st->udp[i];
        if (!u->used || !u->bound || u->lport != r.dst_port) {
            continue;
        }
        if (tern_addr_eq(&u->laddr, &ip->dst)) {
            match = u;
            break;
        }
        if (tern_addr_is_unspecified(&u->laddr) && tern_wildcard_accepts(&u->laddr, &ip->dst) &&
            !match) {
            match = u;
        }
    }
    if (!match) {
        st->c.udp_no_port++;
        /* RFC 1122 §4.1.3.1, RFC 4443 §3.1: port unreachable (the ICMP layer of the family
         * decides about broadcasts and multicasts). */
        tern_l4_port_unreachable(st, now, ip);
        return;
    }
    queue_rx(st, now, match, ip, &r);
}

tern_err tern_udp_recvfrom(tern_stack *st, tern_sock s, uint8_t *buf, size_t cap, size_t *len,
                           tern_addr *src, uint16_t *sport, tern_addr *dst, uint64_t *time) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    GET_OR_FAIL(u, st, s);
    const tern_pkt_meta *m = tern_pktq_peek(st, &u->rxq);
    if (!m) {
        return TERN_ERR_WOULD_BLOCK;
    }
    if (src) {
        *src = m->src;
    }
    if (sport) {
        *sport = m->sport;
    }
    if (dst) {
        *dst = m->dst;
    }
    if (time) {
        *time = m->time;
    }
    *len = m->len;
    tern_pktq_pop(st, &u->rxq, buf, cap);
    return TERN_OK;
}

size_t tern_udp_pending(const tern_stack *st, tern_sock s) {
    tern_udp_sock *u = get(st, s);
    return u ? u->rxq.count : 0;
}

tern_err tern_udp_set_ttl(tern_stack *st, tern_sock s, uint8_t ttl) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    GET_OR_FAIL(u, st, s);
    if (ttl == 0) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "udp ttl=0: must be 1..255");
    }
    u->ttl = ttl;
    return TERN_OK;
}

tern_err tern_udp_set_broadcast(tern_stack *st, tern_sock s, bool on) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    GET_OR_FAIL(u, st, s);
    u->broadcast = on;
    return TERN_OK;
}

tern_err tern_udp_set_multicast_loop(tern_stack *st, tern_sock s, bool on) {
    GET_OR_FAIL(u, st, s);
    u->mcast_noloop = !on;
    return TERN_OK;
}

tern_err tern_udp_set_multicast_if(tern_stack *st, tern_sock s, uint32_t iface) {
    GET_OR_FAIL(u, st, s);
    if (iface != TERN_IFACE_BY_ROUTE && iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "udp multicast interface %u: the host has %u interfaces", iface,
                         st->niface);
    }
    u->mcast_if = iface == TERN_IFACE_BY_ROUTE ? 0 : iface + 1;
    return TERN_OK;
}

tern_err tern_udp_set_dont_fragment(tern_stack *st, tern_sock s, bool on) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    GET_OR_FAIL(u, st, s);
    u->df = on;
    return TERN_OK;
}

tern_err tern_udp_take_error(tern_stack *st, tern_sock s, tern_sock_error *out) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    GET_OR_FAIL(u, st, s);
    if (!u->has_error) {
        return TERN_ERR_EMPTY;
    }
    *out = u->error;
    u->has_error = false;
    return TERN_OK;
}

tern_err tern_udp_close(tern_stack *st, tern_sock s) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    GET_OR_FAIL(u, st, s);
    tern_igmp_sock_closed(st, s);
    tern_pktq_clear(st, &u->rxq);
    st->udp_tx_queued -= u->txq.count;
    tern_pktq_clear(st, &u->txq);
    u->used = false;
    return TERN_OK;
}

void tern_udp_icmp_error(tern_stack *st, uint64_t now, const tern_sock_error *err,
                         const tern_ip_rx *quoted, const uint8_t *l4, size_t l4_len) {
    (void)now;
    if (l4_len < 4) {
        return;
    }
    uint16_t sport = (uint16_t)((l4[0] << 8) | l4[1]);
    for (uint32_t i = 0; i < st->cfg.udp_sockets; i++) {
        tern_udp_sock *u = &st->udp[i];
        if (u->used && u->bound && u->lport == sport &&
            ((tern_addr_is_unspecified(&u->laddr) &&
              tern_wildcard_accepts(&u->laddr, &quoted->src)) ||
             tern_addr_eq(&u->laddr, &quoted->src))) {
            u->error = *err;
            u->has_error = true;
            return;
        }
    }
}

tern_err tern_udp_socket_get(const tern_stack *st, uint32_t index, tern_sock *out) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < st->cfg.udp_sockets; i++) {
        if (st->udp[i].used && n++ == index) {
            *out = tern_handle_encode(TERN_HANDLE_UDP, st->udp[i].gen, i);
            return TERN_OK;
        }
    }
    return TERN_ERR_EMPTY;
}

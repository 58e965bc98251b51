/*
 * Introspection (tern/introspect.h): interfaces, IPv6 addresses, routes and TCP
 * connections. The ARP cache, UDP sockets and the IPv6 neighbour cache, routers
 * and prefixes are read where their tables are private (ipv4/arp.c,
 * udp/udp_sock.c, ipv6/introspect6.c).
 */
#include <string.h>

#include "core/stack_internal.h"
#include "tcp/tcp_private.h"
#include "tcp/tcp_timewait.h"
#include "tern/introspect.h"

tern_err tern_iface_get(const tern_stack *st, uint32_t iface, tern_iface_info *out) {
    if (iface >= st->niface) {
        return TERN_ERR_EMPTY;
    }
    const tern_iface *f = &st->iface[iface];
    memset(out, 0, sizeof *out);
    memcpy(out->mac, f->mac, 6);
    out->mtu = f->mtu;
    out->naddrs = f->naddrs;
    for (uint32_t i = 0; i < f->naddrs && i < TERN_MAX_IFACE_ADDRS; i++) {
        out->addr[i] = f->addr[i];
        out->prefix_len[i] = f->prefix_len[i];
    }
    return TERN_OK;
}

tern_err tern_route_get(const tern_stack *st, uint32_t index, tern_route_info *out) {
    if (index >= st->nroutes) {
        return TERN_ERR_EMPTY;
    }
    const tern_route *r = &st->routes[index];
    out->dst = r->dst;
    out->prefix_len = r->prefix_len;
    out->gateway = r->gateway;
    out->iface = r->iface;
    return TERN_OK;
}

tern_err tern_tcp_socket_get(const tern_stack *st, uint32_t index, tern_sock *out) {
    const tern_tcp_module *t = st->tcp;
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->nsock; i++) {
        const tcp_pcb *p = &t->pcb[i];
        if (p->kind == TCP_SOCKET && (p->flags & TCPF_HANDLE)) {
            if (n++ == index) {
                *out = tcp_handle_make(st, p);
                return TERN_OK;
            }
        }
    }
    return TERN_ERR_EMPTY;
}

tern_err tern_ipv6_addr_get(const tern_stack *st, uint32_t iface, uint32_t index,
                            tern_ipv6_addr_info *out) {
    if (iface >= st->niface || index >= st->iface[iface].naddrs6) {
        return TERN_ERR_EMPTY;
    }
    const tern_ifaddr6 *a = &st->iface[iface].addr6[index];
    memset(out, 0, sizeof *out);
    out->addr = a->addr;
    out->prefix_len = a->prefix_len;
    out->state = a->state;
    out->origin = a->origin;
    out->preferred_until = a->preferred_until;
    out->valid_until = a->valid_until;
    return TERN_OK;
}

static tern_tcp_owner owner_of(const tcp_pcb *p) {
    if (p->flags & TCPF_HANDLE) {
        return TERN_TCP_OWNER_APP;
    }
    if (p->flags & TCPF_IN_ACCEPTQ) {
        return TERN_TCP_OWNER_ACCEPT_QUEUE;
    }
    if ((p->flags & TCPF_PASSIVE) && p->state == TERN_TCP_SYN_RECEIVED) {
        return TERN_TCP_OWNER_SYN_QUEUE;
    }
    return TERN_TCP_OWNER_ORPHAN;
}

tern_err tern_tcp_conn_get(const tern_stack *st, uint32_t index, tern_tcp_conn_info *out) {
    const tern_tcp_module *t = st->tcp;
    uint32_t n = 0;
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < t->nsock; i++) {
        const tcp_pcb *p = &t->pcb[i];
        if (p->kind != TCP_SOCKET || n++ != index) {
            continue;
        }
        out->owner = owner_of(p);
        tcp_fill_info(st, p, &out->info);
        return TERN_OK;
    }
    /* The TIME-WAIT table, oldest (first to end) first. */
    for (uint32_t k = t->tw_oldest; k < t->tw_cap; k = t->tw[k].newer) {
        const tcp_tw *tw = &t->tw[k];
        if (n++ != index) {
            continue;
        }
        out->owner = TERN_TCP_OWNER_TIMEWAIT;
        out->info.state = TERN_TCP_TIME_WAIT;
        out->info.local = tw->laddr;
        out->info.remote = tw->raddr;
        out->info.local_port = tw->lport;
        out->info.remote_port = tw->rport;
        out->timewait_expires = tw->expires;
        return TERN_OK;
    }
    return TERN_ERR_EMPTY;
}

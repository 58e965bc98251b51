/*
 * Introspection (tern/introspect.h): interfaces, routes and TCP sockets. The
 * ARP cache and UDP sockets are read where their tables are private (ipv4/arp.c,
 * udp/udp_sock.c).
 */
#include <string.h>

#include "core/stack_internal.h"
#include "tcp/tcp_private.h"
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

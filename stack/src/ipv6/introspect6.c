/*
 * Introspection of the IPv6 layer's private tables (tern/introspect.h): the
 * neighbour cache (RFC 4861 section 5.1), the Default Router List and the
 * Prefix List (section 6.3.4). Read-only.
 */
#include <string.h>

#include "ipv6/ipv6_state.h"
#include "tern/introspect.h"

tern_err tern_nd_get(const tern_stack *st, uint32_t index, tern_nd_info *out) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < st->cfg.nd_entries; i++) {
        const tern_nd_entry *e = &st->ip6->nd[i];
        if (e->state == TERN_ND_FREE || n++ != index) {
            continue;
        }
        memset(out, 0, sizeof *out);
        out->ip = e->ip;
        if (e->state != TERN_ND_INCOMPLETE) {
            memcpy(out->mac, e->mac, 6);
        }
        /* enum tern_nd_state and TERN_ND_STATE_* share their numbers (FREE is NONE). */
        out->state = e->state;
        out->is_router = e->is_router;
        out->probes = e->probes;
        out->iface = e->iface;
        out->queued = e->queued;
        out->timer = e->timer;
        return TERN_OK;
    }
    return TERN_ERR_EMPTY;
}

tern_err tern_ipv6_router_get(const tern_stack *st, uint32_t index, tern_ipv6_router_info *out) {
    uint32_t n = 0;
    for (uint32_t f = 0; f < st->niface; f++) {
        for (uint32_t i = 0; i < TERN_AC_ROUTERS; i++) {
            const tern_ac_router *r = &st->ip6->ac[f].routers[i];
            if (!r->used || n++ != index) {
                continue;
            }
            out->addr = r->addr;
            out->iface = f;
            out->until = r->until;
            return TERN_OK;
        }
    }
    return TERN_ERR_EMPTY;
}

tern_err tern_ipv6_prefix_get(const tern_stack *st, uint32_t index, tern_ipv6_prefix_info *out) {
    uint32_t n = 0;
    for (uint32_t f = 0; f < st->niface; f++) {
        for (uint32_t i = 0; i < TERN_AC_PREFIXES; i++) {
            const tern_ac_prefix *p = &st->ip6->ac[f].prefixes[i];
            if (!p->used || n++ != index) {
                continue;
            }
            out->prefix = p->prefix;
            out->len = p->len;
            out->iface = f;
            out->until = p->until;
            return TERN_OK;
        }
    }
    return TERN_ERR_EMPTY;
}

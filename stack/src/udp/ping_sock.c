/*
 * Ping sockets: ICMP echo requests sent and their replies (and the ICMP
 * errors about them) received, one socket per echo identifier. The ICMP layer
 * hands replies and errors over through tern_ping_deliver_reply/_error.
 */
#include <string.h>

#include "core/sock_handle.h"
#include "udp.h"
#include "wire/icmpv4.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"

#define PING_MAX_PAYLOAD (65535 - 20 - 8)

struct tern_ping_sock {
    bool used;
    uint16_t gen;
    uint16_t ident;
    tern_pktq rxq, txq;
    bool has_error;
    tern_sock_error error;
};

size_t tern_ping_memory_size(const tern_stack_config *cfg) {
    return (size_t)cfg->ping_sockets * sizeof(tern_ping_sock);
}

void tern_ping_init(tern_stack *st, uint8_t *mem) {
    st->ping = (tern_ping_sock *)mem;
}

void tern_ping_deliver_reply(tern_stack *st, uint64_t now, const tern_addr *src,
                             const tern_addr *dst, uint8_t ttl, uint16_t ident, uint16_t seq,
                             const uint8_t *payload, size_t len) {
    for (uint32_t i = 0; i < st->cfg.ping_sockets; i++) {
        tern_ping_sock *ps = &st->ping[i];
        if (ps->used && ps->ident == ident) {
            tern_pkt_meta meta;
            memset(&meta, 0, sizeof meta);
            meta.src = *src;
            meta.dst = *dst;
            meta.seq = seq;
            meta.ident = ident;
            meta.ttl = ttl;
            meta.time = now;
            if (tern_pktq_push(st, &ps->rxq, &meta, payload, len, NULL, 0) != TERN_OK) {
                st->c.udp_queue_full++;
            }
            return;
        }
    }
}

void tern_ping_deliver_error(tern_stack *st, uint16_t ident, const tern_sock_error *e) {
    for (uint32_t i = 0; i < st->cfg.ping_sockets; i++) {
        if (st->ping[i].used && st->ping[i].ident == ident) {
            st->ping[i].error = *e;
            st->ping[i].has_error = true;
        }
    }
}

/* ---- ping sockets -------------------------------------------------------------- */

static tern_ping_sock *get(const tern_stack *st, tern_sock s) {
    uint32_t i;
    if (!tern_handle_decode(s, TERN_HANDLE_PING, &i) || i >= st->cfg.ping_sockets) {
        return NULL;
    }
    tern_ping_sock *p = &st->ping[i];
    return p->used && p->gen == tern_handle_gen(s) ? p : NULL;
}

#define GET_OR_FAIL(p, st, s)                                                                      \
    tern_ping_sock *p = get(st, s);                                                                \
    if (!p) {                                                                                      \
        return tern_fail(st, TERN_ERR_CLOSED, "ping socket %#x: closed or not a ping socket", s);  \
    }

tern_err tern_ping_open(tern_stack *st, uint16_t ident, tern_sock *out) {
    /* Keeps poll_at's cache of the quiet modules' deadline (core/stack_internal.h): it writes
     * only the ping sockets (issue 19: a host opened at start-up keeps the cache its
     * tern_stack_init filled, so that its first poll can be quiet). */
    for (uint32_t i = 0; i < st->cfg.ping_sockets; i++) {
        if (st->ping[i].used && st->ping[i].ident == ident) {
            return tern_fail(st, TERN_ERR_ADDR_IN_USE, "ping ident=%u: already used", ident);
        }
    }
    for (uint32_t i = 0; i < st->cfg.ping_sockets; i++) {
        tern_ping_sock *p = &st->ping[i];
        if (!p->used) {
            uint16_t gen = (uint16_t)((p->gen + 1) & TERN_HANDLE_GEN_MASK);
            memset(p, 0, sizeof *p);
            p->used = true;
            p->gen = gen;
            p->ident = ident;
            tern_pktq_init(&p->rxq, st->cfg.udp_queue);
            tern_pktq_init(&p->txq, st->cfg.udp_queue);
            *out = tern_handle_encode(TERN_HANDLE_PING, gen, i);
            return TERN_OK;
        }
    }
    return tern_fail(st, TERN_ERR_NO_BUFFER, "ping: all %u sockets are open", st->cfg.ping_sockets);
}

tern_err tern_ping_send(tern_stack *st, tern_sock s, const tern_addr *dst, uint16_t seq,
                        const uint8_t *data, size_t len, uint8_t ttl, bool dont_fragment) {
    /* Keeps poll_at's cache of the quiet modules' deadline: it reads the routes and writes only
     * the socket's send queue, packet buffers and the transmit buffer; the request goes out in a
     * poll (tern_ping_poll), which poll_at asks for (tern_ping_has_output). */
    GET_OR_FAIL(p, st, s);
    tern_addr d = dst ? tern_addr_unmap(dst) : (tern_addr){0};
    dst = &d;
    if (!tern_addr_is_v4(dst) && !tern_addr_is_v6(dst)) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "ping: destination must be an IPv4 or IPv6 address");
    }
    if (len > PING_MAX_PAYLOAD) {
        return tern_fail(st, TERN_ERR_MSG_TOO_LONG, "ping len=%zu: at most %d bytes", len,
                         PING_MAX_PAYLOAD);
    }
    tern_route_result rr;
    if (tern_route_lookup(st, dst, NULL, &rr) != TERN_OK) {
        return tern_fail(st, TERN_ERR_NO_ROUTE, "ping: no route to the destination");
    }
    if (dont_fragment && len + 8 + tern_ip_hdr_len(dst->family) > rr.mtu) {
        return tern_fail(st, TERN_ERR_MSG_TOO_LONG,
                         "ping len=%zu: above the MTU %u with don't-fragment set", len, rr.mtu);
    }
    if (!data) {
        /* The default payload: a counting pattern, staged in the transmit buffer. */
        uint8_t *stage = tern_ip_tx_payload(st);
        for (size_t i = 0; i < len; i++) {
            stage[i] = (uint8_t)i;
        }
        data = stage;
    }
    tern_pkt_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.dst = *dst;
    meta.seq = seq;
    meta.ttl = ttl;
    meta.df = dont_fragment;
    tern_err err = tern_pktq_push(st, &p->txq, &meta, data, len, NULL, 0);
    if (err == TERN_OK) {
        st->ping_tx_queued++;
    }
    if (err != TERN_OK) {
        return tern_fail(st, err, "ping: %s",
                         err == TERN_ERR_WOULD_BLOCK ? "the send queue is full"
                                                     : "no packet buffer");
    }
    return TERN_OK;
}

bool tern_ping_has_output(const tern_stack *st) {
    return st->ping_tx_queued != 0;
}

void tern_ping_poll(tern_stack *st, uint64_t now) {
    if (!st->ping_tx_queued) {
        return;
    }
    for (uint32_t i = 0; i < st->cfg.ping_sockets; i++) {
        tern_ping_sock *p = &st->ping[i];
        /* bounded per call (TERN_CALL_FRAMES_MAX): the rest on the next poll */
        while (p->used && p->txq.count && !tern_call_budget_spent(st)) {
            tern_pkt_meta m = *tern_pktq_peek(st, &p->txq);
            uint8_t *buf = tern_ip_tx_payload(st);
            size_t len = tern_pktq_pop(st, &p->txq, buf + TERN_ICMPV4_HDR_LEN, PING_MAX_PAYLOAD);
            st->ping_tx_queued--;
            struct tern_icmpv4_repr r;
            memset(&r, 0, sizeof r);
            r.type = TERN_ICMPV4_ECHO_REQUEST;
            r.echo_id = p->ident;
            r.echo_seq = m.seq;
            r.payload = NULL; /* in place */
            r.payload_len = len;
            size_t w;
            tern_ip_tx tx = {.dst = m.dst, .protocol = TERN_IPPROTO_ICMP, .ttl = m.ttl, .df = m.df};
            if (m.dst.family == TERN_AF_INET6) {
                /* ICMPv6 Echo Request (RFC 4443 §4.1), its checksum over the IPv6
                 * pseudo-header (RFC 4443 §2.3): the source is chosen here. */
                tern_route_result rr;
                if (tern_route_lookup(st, &m.dst, NULL, &rr) != TERN_OK) {
                    st->c.ip_no_route++;
                    continue;
                }
                struct tern_icmpv6_repr r6;
                memset(&r6, 0, sizeof r6);
                r6.type = TERN_ICMPV6_ECHO_REQUEST;
                r6.echo_id = p->ident;
                r6.echo_seq = m.seq;
                r6.payload = NULL; /* in place, at buf + 8 as for ICMPv4 */
                r6.payload_len = len;
                if (tern_icmpv6_emit(&r6, &rr.src, &m.dst, buf, 8 + len, &w) != TERN_OK) {
                    continue;
                }
                tx.src = rr.src;
                tx.protocol = TERN_IPPROTO_ICMPV6;
            } else if (tern_icmpv4_emit(&r, buf, TERN_ICMPV4_HDR_LEN + len, &w) != TERN_OK) {
                continue;
            }
            tern_l4_send(st, now, &tx, w);
        }
    }
}

tern_err tern_ping_recv(tern_stack *st, tern_sock s, tern_ping_reply *out, uint8_t *buf,
                        size_t cap) {
    /* Only takes a reply off the socket's queue: no quiet module's timer moves, and poll_at's
     * cache of their deadline stays (issue 19: an application asks every host for its reply). */
    GET_OR_FAIL(p, st, s);
    const tern_pkt_meta *m = tern_pktq_peek(st, &p->rxq);
    if (!m) {
        return TERN_ERR_WOULD_BLOCK;
    }
    out->from = m->src;
    out->seq = m->seq;
    out->ttl = m->ttl;
    out->len = m->len;
    out->time = m->time;
    if (buf && cap) {
        tern_pktq_pop(st, &p->rxq, buf, cap);
    } else {
        tern_pktq_drop(st, &p->rxq);
    }
    return TERN_OK;
}

tern_err tern_ping_take_error(tern_stack *st, tern_sock s, tern_sock_error *out) {
    /* Only reads and clears the socket's error: poll_at's cache stays (as in tern_ping_recv). */
    GET_OR_FAIL(p, st, s);
    if (!p->has_error) {
        return TERN_ERR_EMPTY;
    }
    *out = p->error;
    p->has_error = false;
    return TERN_OK;
}

tern_err tern_ping_close(tern_stack *st, tern_sock s) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    GET_OR_FAIL(p, st, s);
    tern_pktq_clear(st, &p->rxq);
    st->ping_tx_queued -= p->txq.count;
    tern_pktq_clear(st, &p->txq);
    p->used = false;
    return TERN_OK;
}

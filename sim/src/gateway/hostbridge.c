/*
 * The host-bridge node (tern/sim_hostbridge.h): flows between the gateway's
 * outside segment and the host, its Tern stack terminating the guests' TCP
 * connections, and the host events applied in virtual time. Nothing here
 * touches the host: hostbridge_io.c does, in live mode only; in replay mode
 * the same events come from the journal and are applied by the same code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway_internal.h"
#include "gateway/hostbridge_internal.h"

#define LOOPBACK 0x7f000001u
#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17

/* The host address a link address stands for: the bridge's own is the host's loopback. */
static uint32_t host_of(const hb_node *h, uint32_t a) {
    return a == h->cfg.addr ? LOOPBACK : a;
}
static uint32_t link_of(const hb_node *h, uint32_t a) {
    return a == LOOPBACK ? h->cfg.addr : a;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s) {
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += gw_get16(p + i);
    }
    if (n & 1) {
        s += (uint32_t)p[n - 1] << 8;
    }
    return s;
}
static uint16_t fin(uint32_t s) {
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

/* The transport checksum of an IPv4 datagram at ip (header ihl), recomputed. */
static void l4_checksum(uint8_t *ip, size_t ihl, size_t total) {
    uint8_t proto = ip[9];
    uint8_t *l4 = ip + ihl;
    size_t n = total - ihl;
    size_t off = proto == P_TCP ? 16 : proto == P_UDP ? 6 : 2;
    gw_put16(l4 + off, 0);
    uint32_t s = 0;
    if (proto != P_ICMP) {
        s = sum16(ip + 12, 8, 0) + proto + (uint32_t)n;
    }
    uint16_t c = fin(sum16(l4, n, s));
    if (proto == P_UDP && c == 0) {
        c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
    }
    gw_put16(l4 + off, c);
}

static void ip_checksum(uint8_t *ip, size_t ihl) {
    gw_put16(ip + 10, 0);
    gw_put16(ip + 10, fin(sum16(ip, ihl, 0)));
}

/* Send an IPv4 datagram the bridge builds itself (UDP, ICMP, RST) to the gateway. */
static void send_ip(hb_node *h, uint8_t proto, uint32_t src, uint32_t dst, const uint8_t *l4,
                    size_t n) {
    if (!h->have_gw_mac || n > SIM_MAX_FRAME - 34) {
        h->c.dropped++;
        return;
    }
    uint8_t *f = h->buf;
    memcpy(f, h->gw_mac, 6);
    memcpy(f + 6, h->cfg.mac, 6);
    gw_put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    gw_put16(ip + 2, (uint16_t)(20 + n));
    gw_put16(ip + 4, h->ip_id++);
    ip[8] = 64;
    ip[9] = proto;
    gw_put32(ip + 12, src);
    gw_put32(ip + 16, dst);
    memcpy(ip + 20, l4, n);
    l4_checksum(ip, 20, 20 + n);
    ip_checksum(ip, 20);
    sim_node_send(h->s, h->id, 0, f, 14 + 20 + n);
}

/* ---- flows ------------------------------------------------------------------ */

/* A relay buffer: a spare one when there is, else a new one (NULL: out of memory). */
static uint8_t *buf_get(hb_node *h) {
    return h->nspare ? h->spare[--h->nspare] : malloc(HB_BUF);
}

/* A relay buffer given back (NULL: none): kept for the next flow while there is room. */
static void buf_put(hb_node *h, uint8_t *b) {
    if (b && h->nspare < HB_SPARE_BUFS) {
        h->spare[h->nspare++] = b;
    } else {
        free(b);
    }
}

static void flow_buffers_put(hb_node *h, hb_flow *f) {
    buf_put(h, f->to_host);
    buf_put(h, f->to_guest);
    f->to_host = f->to_guest = NULL;
}

hb_flow *hb_flow_by_id(hb_node *h, uint32_t id) {
    for (uint32_t i = 0, end = hb_flows_end(h); i < end; i++) {
        if (h->flows[i].state != HB_FREE && h->flows[i].id == id) {
            return &h->flows[i];
        }
    }
    return NULL;
}

hb_flow *hb_flow_new(hb_node *h, hb_state st) {
    for (uint32_t i = 0; i < SIM_HB_MAX_FLOWS; i++) {
        hb_flow *f = &h->flows[i];
        if (f->state == HB_FREE) {
            if (i >= h->flows_end) {
                h->flows_end = i + 1;
            }
            memset(f, 0, sizeof *f);
            f->state = st;
            f->id = h->next_flow++;
            f->fd = -1;
            return f;
        }
    }
    h->c.dropped++;
    return NULL;
}

static void flow_free(hb_node *h, hb_flow *f, bool reset) {
    if (h->live) {
        hb_io_close(h, f, reset);
    }
    if (f->has_lsock) {
        tern_tcp_close(h->stack, f->lsock);
    }
    flow_buffers_put(h, f);
    f->state = HB_FREE;
}

/*
 * The host side of a TCP flow is done: its socket and buffers go. An outbound flow's rewriting
 * stays (HB_TCP_TOMB) while the stack may still send for it: the RST of an abort, the ACK of a
 * retransmitted FIN in TIME-WAIT. Without it they would leave from the bridge's own port.
 */
static void retire(hb_node *h, hb_flow *f, bool reset_host) {
    if (h->live) {
        hb_io_close(h, f, reset_host);
    }
    if (f->has_lsock) {
        tern_tcp_close(h->stack, f->lsock);
        f->has_lsock = false;
    }
    flow_buffers_put(h, f);
    f->has_sock = false;
    if (f->inbound) {
        f->state = HB_FREE;
    } else {
        f->state = HB_TCP_TOMB;
        f->until = h->now + HB_TOMB_NS;
    }
}

static hb_flow *find(hb_node *h, hb_state st, uint32_t gaddr, uint16_t gport) {
    for (uint32_t i = 0, end = hb_flows_end(h); i < end; i++) {
        hb_flow *f = &h->flows[i];
        if (f->state == st && f->gw_addr == gaddr && f->gw_port == gport) {
            return f;
        }
    }
    return NULL;
}

static hb_flow *find_tcp(hb_node *h, uint32_t gaddr, uint16_t gport, uint32_t dst, uint16_t dport) {
    for (uint32_t i = 0, end = hb_flows_end(h); i < end; i++) {
        hb_flow *f = &h->flows[i];
        if ((f->state == HB_TCP_CONNECTING || f->state == HB_TCP_ACCEPTING ||
             f->state == HB_TCP_OPEN || f->state == HB_TCP_CLOSING || f->state == HB_TCP_TOMB) &&
            !f->inbound && f->gw_addr == gaddr && f->gw_port == gport && f->dst == dst &&
            f->dport == dport) {
            return f;
        }
    }
    return NULL;
}

static uint16_t local_port(hb_node *h) {
    for (;;) {
        uint16_t p = h->next_local;
        h->next_local = p >= 60999 ? 20000 : (uint16_t)(p + 1);
        bool used = false;
        for (uint32_t i = 0, end = hb_flows_end(h); i < end && !used; i++) {
            used = h->flows[i].state != HB_FREE && h->flows[i].local_port == p;
        }
        if (!used) {
            return p;
        }
    }
}

/* RFC 9293 §3.10.7.1 (CLOSED state): "If the ACK bit is off, sequence number zero is used,
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>": the refusal the guest would get from the host. */
static void refuse(hb_node *h, const hb_flow *f) {
    uint8_t t[20] = {0};
    gw_put16(t, f->dport);
    gw_put16(t + 2, f->gw_port);
    gw_put32(t + 8, f->syn_seq + 1);
    t[12] = 5 << 4;
    t[13] = 0x14; /* RST, ACK */
    send_ip(h, P_TCP, f->dst, f->gw_addr, t, sizeof t);
}

/* Rewrite a TCP datagram's destination (or source) address and port; checksums recomputed. */
static void tcp_rewrite(uint8_t *ip, bool dst_side, uint32_t addr, uint16_t port) {
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    gw_put32(ip + (dst_side ? 16 : 12), addr);
    gw_put16(ip + ihl + (dst_side ? 2 : 0), port);
    l4_checksum(ip, ihl, gw_get16(ip + 2));
    ip_checksum(ip, ihl);
}

/* Move bytes between a TCP flow's stack socket and its relay buffers. */
static void pump_tcp(hb_node *h, hb_flow *f) {
    tern_stack *st = h->stack;
    if (f->state == HB_TCP_CLOSING) {
        tern_tcp_info info;
        if (tern_tcp_get_info(st, f->sock, &info) != TERN_OK || info.state == TERN_TCP_CLOSED) {
            /* Closed (the guest acknowledged the stack's FIN, or the connection died): the stack
             * sends nothing more for it, so nothing needs the rewriting; the slot goes at once.
             * Held HB_TOMB_NS, it would cap the bridge at SIM_HB_MAX_FLOWS connections per 11 s
             * (93 a second) whenever the guest closes first. */
            tern_tcp_close(st, f->sock);
            f->state = HB_FREE;
        } else if (info.state == TERN_TCP_TIME_WAIT) {
            tern_tcp_close(st, f->sock); /* released; TIME-WAIT goes on without the handle */
            f->state = HB_TCP_TOMB;
            f->until = h->now + HB_TOMB_NS;
        }
        return;
    }
    if (f->state == HB_TCP_ACCEPTING) {
        tern_sock c;
        if (tern_tcp_accept(st, f->lsock, &c) != TERN_OK) {
            return;
        }
        tern_tcp_close(st, f->lsock);
        f->has_lsock = false;
        f->sock = c;
        f->has_sock = true;
        f->state = HB_TCP_OPEN;
    }
    while (!f->guest_eof && f->th_len < HB_BUF) {
        size_t got = 0;
        tern_err e = tern_tcp_recv(st, f->sock, f->to_host + f->th_len, HB_BUF - f->th_len, &got);
        if (e == TERN_ERR_WOULD_BLOCK) {
            break;
        }
        if (e != TERN_OK) {
            /* The guest's connection died (RST, refused, timed out): reset the host's. */
            tern_tcp_close(st, f->sock);
            retire(h, f, true);
            return;
        }
        if (got == 0) {
            f->guest_eof = true;
        }
        f->th_len += (uint32_t)got;
    }
    if (f->guest_eof && f->th_len == 0 && !f->host_shut) {
        f->host_shut = true;
        if (h->live) {
            hb_io_shutdown(h, f);
        }
    }
    if (f->tg_len) {
        size_t sent = 0;
        if (tern_tcp_send(st, f->sock, f->to_guest, f->tg_len, &sent) == TERN_OK && sent) {
            memmove(f->to_guest, f->to_guest + sent, f->tg_len - sent);
            f->tg_len -= (uint32_t)sent;
        }
    }
    if (f->host_eof && f->tg_len == 0 && !f->guest_shut) {
        f->guest_shut = true;
        tern_tcp_shutdown(st, f->sock, 1);
    }
    if (f->host_shut && f->guest_shut) {
        /* Both directions done on the host: the stack's connection finishes its close. */
        tern_sock sock = f->sock;
        bool inbound = f->inbound;
        retire(h, f, false);
        if (inbound) {
            tern_tcp_close(st, sock);
        } else {
            f->sock = sock;
            f->state = HB_TCP_CLOSING;
        }
    }
}

static void pump(hb_node *h) {
    for (uint32_t i = 0, end = hb_flows_end(h); i < end; i++) {
        hb_flow *f = &h->flows[i];
        if (f->state == HB_TCP_ACCEPTING || f->state == HB_TCP_OPEN || f->state == HB_TCP_CLOSING) {
            pump_tcp(h, f);
        }
    }
}

static bool tcp_buffers(hb_node *h, hb_flow *f) {
    f->to_host = buf_get(h);
    f->to_guest = buf_get(h);
    if (!f->to_host || !f->to_guest) {
        flow_free(h, f, true);
        return false;
    }
    return true;
}

/* ---- frames from the gateway ------------------------------------------------------ */

static void tcp_in(hb_node *h, uint8_t *frame, size_t len, uint8_t *ip, size_t ihl) {
    uint8_t *l4 = ip + ihl;
    uint32_t src = gw_get32(ip + 12), dst = gw_get32(ip + 16);
    uint16_t sport = gw_get16(l4), dport = gw_get16(l4 + 2);
    uint8_t flags = l4[13];
    hb_flow *f = find_tcp(h, src, sport, dst, dport);
    if (f && f->state == HB_TCP_TOMB && (flags & 0x17) == 0x02) {
        f->state = HB_FREE; /* the guest reuses the 4-tuple: a new connection */
        f = NULL;
    }
    if (f) {
        if (f->state == HB_TCP_CONNECTING) {
            return; /* a retransmitted SYN: the host connection is still under way */
        }
        tcp_rewrite(ip, true, h->cfg.addr, f->local_port);
        tern_stack_input(h->stack, h->now, 0, frame, len);
        return;
    }
    if ((flags & 0x17) != 0x02) {
        /* Not a new connection: segments of the stack's own (inbound forward) connections, and
         * strays, which the stack answers as any host does. The gateway never sends a bare SYN
         * for those: the bridge's stack opens them. */
        tern_stack_input(h->stack, h->now, 0, frame, len);
        return;
    }
    f = hb_flow_new(h, HB_TCP_CONNECTING);
    if (!f) {
        return;
    }
    f->gw_addr = src;
    f->gw_port = sport;
    f->dst = dst;
    f->dport = dport;
    f->local_port = local_port(h);
    f->syn_seq = gw_get32(l4 + 4);
    f->syn_len = len < sizeof f->syn ? len : 0;
    if (!f->syn_len) { /* a SYN with more than 100 bytes of options: not for us */
        f->state = HB_FREE;
        h->c.dropped++;
        return;
    }
    memcpy(f->syn, frame, len);
    if (!tcp_buffers(h, f)) {
        return;
    }
    h->c.tcp_connects++;
    if (h->live) {
        hb_io_tcp_connect(h, f, host_of(h, dst), dport);
    }
}

static void udp_in(hb_node *h, uint8_t *ip, size_t ihl, size_t total) {
    uint8_t *l4 = ip + ihl;
    if (total - ihl < 8) {
        h->c.dropped++;
        return;
    }
    uint32_t src = gw_get32(ip + 12), dst = gw_get32(ip + 16);
    uint16_t sport = gw_get16(l4), dport = gw_get16(l4 + 2);
    hb_flow *f = src == h->cfg.gateway ? find(h, HB_FWD_UDP, src, sport) : NULL;
    if (!f && !(f = find(h, HB_UDP, src, sport))) {
        if (!(f = hb_flow_new(h, HB_UDP))) {
            return;
        }
        f->gw_addr = src;
        f->gw_port = sport;
    }
    f->last_used = h->now;
    h->c.udp_out++;
    /* Its headers, for an ICMP error about it (on replay too: the quote must be the same). */
    uint8_t *rec = f->sent[f->sent_n % HB_SENT];
    memcpy(rec, ip, 20);
    memcpy(rec + 20, l4, 8);
    rec[0] = 0x45; /* options are not quoted back */
    f->sent_n = (uint8_t)(f->sent_n + 1);
    if (h->live) {
        hb_io_udp_send(h, f, host_of(h, dst), dport, l4 + 8, total - ihl - 8,
                       (gw_get16(ip + 6) & 0x4000) != 0);
    }
}

static void echo_in(hb_node *h, uint8_t *ip, size_t ihl, size_t total) {
    uint8_t *l4 = ip + ihl;
    uint32_t src = gw_get32(ip + 12), dst = gw_get32(ip + 16);
    uint16_t ident = gw_get16(l4 + 4);
    hb_flow *f = find(h, HB_ECHO, src, ident);
    if (!f) {
        if (!(f = hb_flow_new(h, HB_ECHO))) {
            return;
        }
        f->gw_addr = src;
        f->gw_port = ident;
    }
    f->last_used = h->now;
    h->c.echo_out++;
    if (h->live) {
        hb_io_echo_send(h, f, host_of(h, dst), gw_get16(l4 + 6), l4 + 8, total - ihl - 8);
    }
}

static void hb_input(void *state, uint64_t now, uint32_t port, const uint8_t *frame, size_t len) {
    hb_node *h = state;
    (void)port;
    h->now = now;
    if (len < 14 || len > SIM_MAX_FRAME) {
        return;
    }
    uint8_t *f = h->buf;
    memcpy(f, frame, len);
    uint16_t type = gw_get16(f + 12);
    if (type == 0x0800 || type == 0x0806) {
        memcpy(h->gw_mac, f + 6, 6); /* the only other node on the segment: the gateway */
        h->have_gw_mac = true;
    }
    uint8_t *ip = f + 14;
    size_t ihl = len >= 34 ? (size_t)(ip[0] & 15) * 4 : 0;
    size_t total = len >= 34 ? gw_get16(ip + 2) : 0;
    bool v4 = type == 0x0800 && len >= 34 && (ip[0] >> 4) == 4 && ihl >= 20 && total >= ihl &&
              total <= len - 14 && (gw_get16(ip + 6) & 0x3fff) == 0;
    uint32_t dst = v4 ? gw_get32(ip + 16) : 0;
    if (v4 && ip[9] == P_TCP && total - ihl >= 20) {
        tcp_in(h, f, 14 + total, ip, ihl);
    } else if (v4 && ip[9] == P_UDP && dst != 0xffffffffu) {
        udp_in(h, ip, ihl, total);
    } else if (v4 && ip[9] == P_ICMP && total - ihl >= 8 && ip[ihl] == 8) {
        echo_in(h, ip, ihl, total);
    } else {
        tern_stack_input(h->stack, now, 0, f, len);
    }
    pump(h);
}

/* Every frame the stack sends: a flow's segments leave from the destination the guest asked. */
static void hb_output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    hb_node *h = ctx;
    (void)iface;
    uint8_t out[SIM_MAX_FRAME];
    if (len > sizeof out) {
        return;
    }
    memcpy(out, frame, len);
    uint8_t *ip = out + 14;
    if (len >= 54 && gw_get16(out + 12) == 0x0800 && ip[9] == P_TCP &&
        gw_get32(ip + 12) == h->cfg.addr) {
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        uint16_t sport = gw_get16(ip + ihl);
        for (uint32_t i = 0, end = hb_flows_end(h); i < end; i++) {
            hb_flow *f = &h->flows[i];
            if ((f->state == HB_TCP_ACCEPTING || f->state == HB_TCP_OPEN ||
                 f->state == HB_TCP_CLOSING || f->state == HB_TCP_TOMB) &&
                !f->inbound && f->local_port == sport) {
                tcp_rewrite(ip, false, f->dst, f->dport);
                break;
            }
        }
    }
    sim_node_send(h->s, h->id, 0, out, len);
}

/* UDP and echo flows idle for HB_IDLE_NS are closed (virtual time: the same live and on replay). */
static void expire(hb_node *h) {
    for (uint32_t i = 0, end = hb_flows_end(h); i < end; i++) {
        hb_flow *f = &h->flows[i];
        if ((f->state == HB_UDP || f->state == HB_ECHO) && f->last_used + HB_IDLE_NS <= h->now) {
            flow_free(h, f, false);
        } else if (f->state == HB_TCP_TOMB && f->until <= h->now) {
            f->state = HB_FREE;
        }
    }
}

static void hb_poll(void *state, uint64_t now) {
    hb_node *h = state;
    h->now = now;
    expire(h);
    tern_stack_poll(h->stack, now);
    pump(h);
}

static uint64_t hb_poll_at(void *state) {
    hb_node *h = state;
    uint64_t t = tern_stack_poll_at(h->stack);
    for (uint32_t i = 0, end = hb_flows_end(h); i < end; i++) {
        const hb_flow *f = &h->flows[i];
        if ((f->state == HB_UDP || f->state == HB_ECHO) && f->last_used + HB_IDLE_NS < t) {
            t = f->last_used + HB_IDLE_NS;
        } else if (f->state == HB_TCP_TOMB && f->until < t) {
            t = f->until;
        }
    }
    return t;
}

static void hb_destroy(void *state) {
    hb_node *h = state;
    for (uint32_t i = 0; i < SIM_HB_MAX_FLOWS; i++) {
        if (h->flows[i].state != HB_FREE) {
            if (h->live) {
                hb_io_close(h, &h->flows[i], false);
            }
            free(h->flows[i].to_host);
            free(h->flows[i].to_guest);
        }
    }
    for (uint32_t i = 0; i < h->nspare; i++) {
        free(h->spare[i]);
    }
    free(h->mem);
    free(h);
}

static const sim_node_ops hb_ops = {hb_input, hb_poll, hb_poll_at, hb_destroy};

/* ---- host events ----------------------------------------------------------------- */

static void connected(hb_node *h, hb_flow *f, int err) {
    if (err) {
        h->c.tcp_refused++;
        refuse(h, f);
        flow_free(h, f, false);
        return;
    }
    tern_stack *st = h->stack;
    tern_addr a = tern_addr_v4_from_u32(h->cfg.addr);
    if (tern_tcp_open(st, &f->lsock) != TERN_OK) {
        h->c.dropped++;
        flow_free(h, f, true);
        return;
    }
    f->has_lsock = true;
    if (tern_tcp_bind(st, f->lsock, &a, f->local_port) != TERN_OK ||
        tern_tcp_listen(st, f->lsock, 1) != TERN_OK) {
        h->c.dropped++;
        flow_free(h, f, true);
        return;
    }
    f->state = HB_TCP_ACCEPTING;
    tcp_rewrite(f->syn + 14, true, h->cfg.addr, f->local_port);
    tern_stack_input(st, h->now, 0, f->syn, f->syn_len);
}

static void accepted(hb_node *h, hb_flow *fwd, uint32_t id) {
    hb_flow *f = hb_flow_new(h, HB_TCP_OPEN);
    if (!f) {
        return;
    }
    f->id = id;
    h->next_flow = id + 1;
    f->inbound = true;
    h->c.tcp_accepted++;
    tern_addr gw = tern_addr_v4_from_u32(h->cfg.gateway);
    if (!tcp_buffers(h, f) || tern_tcp_open(h->stack, &f->sock) != TERN_OK) {
        if (f->state != HB_FREE) {
            flow_free(h, f, true);
        }
        return;
    }
    f->has_sock = true;
    if (tern_tcp_connect(h->stack, f->sock, &gw, fwd->gw_port) != TERN_OK) {
        tern_tcp_close(h->stack, f->sock);
        flow_free(h, f, true);
    }
}

/*
 * An ICMP error the host reported about a datagram of UDP flow f to dst:dport (journal record
 * SIM_JR_ICMP), sent to the gateway as if the host had answered on the link: from the offender
 * (the host's 127.0.0.1 shown as the bridge's address) to the flow's gateway-side address,
 * quoting the datagram as the gateway sent it (its remembered IPv4 and UDP headers, and the
 * payload the host quoted). The gateway's NAT translates it for the guest (RFC 5508 §4).
 */
static void icmp_error_in(hb_node *h, hb_flow *f, const sim_journal_rec *r, const uint8_t *data) {
    if (f->state != HB_UDP || r->len < 4) {
        return;
    }
    uint32_t dst = link_of(h, r->addr);
    uint32_t off = link_of(h, gw_get32(data));
    const uint8_t *payload = data + 4;
    size_t plen = r->len - 4;
    /* the newest datagram of the flow to that destination whose payload the quote can be */
    const uint8_t *hdr = NULL;
    uint32_t have = f->sent_n < HB_SENT ? f->sent_n : HB_SENT;
    for (uint32_t i = 1; i <= have && !hdr; i++) {
        const uint8_t *c = f->sent[(uint8_t)(f->sent_n - i) % HB_SENT];
        /* port 0: a local error of an unconnected socket names no port (ip_local_error) */
        if (gw_get32(c + 16) == dst && (r->port == 0 || gw_get16(c + 22) == r->port) &&
            gw_get16(c + 24) >= 8 + plen) {
            hdr = c;
        }
    }
    uint8_t q[28];
    if (hdr) {
        memcpy(q, hdr, 28);
    } else { /* no longer remembered: the headers rebuilt as the gateway would have sent them */
        memset(q, 0, 28);
        q[0] = 0x45;
        gw_put16(q + 2, (uint16_t)(28 + plen));
        q[8] = 63;
        q[9] = P_UDP;
        gw_put32(q + 12, f->gw_addr);
        gw_put32(q + 16, dst);
        gw_put16(q + 20, f->gw_port);
        gw_put16(q + 22, r->port);
        gw_put16(q + 24, (uint16_t)(8 + plen));
        ip_checksum(q, 20);
    }
    /* RFC 1812 §4.3.2.3: "the ICMP datagram SHOULD contain as much of the original datagram as
     * possible without the length of the ICMP datagram exceeding 576 bytes" */
    size_t room = 576 - 20 - 8 - 28;
    if (plen > room) {
        plen = room;
    }
    uint8_t e[8 + 28 + 576];
    uint8_t type = (uint8_t)r->arg, code = (uint8_t)(r->arg >> 8);
    memset(e, 0, 8);
    e[0] = type;
    e[1] = code;
    if (type == 3 && code == 4) {
        gw_put16(e + 6, (uint16_t)((uint32_t)r->arg >> 16)); /* RFC 1191: Next-Hop MTU */
    }
    memcpy(e + 8, q, 28);
    memcpy(e + 36, payload, plen);
    h->c.icmp_errors++;
    send_ip(h, P_ICMP, off, f->gw_addr, e, 36 + plen);
}

void hb_apply(hb_node *h, const sim_journal_rec *r, const uint8_t *data) {
    h->now = h->s->now;
    h->c.events++;
    hb_flow *f = hb_flow_by_id(h, r->flow);
    if (!f) {
        return;
    }
    f->last_used = h->now;
    switch ((sim_journal_kind)r->kind) {
    case SIM_JR_CONNECT:
        if (f->state == HB_TCP_CONNECTING) {
            connected(h, f, r->arg);
        }
        break;
    case SIM_JR_DATA:
        if (r->len <= HB_BUF - f->tg_len && f->to_guest) {
            memcpy(f->to_guest + f->tg_len, data, r->len);
            f->tg_len += r->len;
            h->c.bytes_to_guest += r->len;
        }
        break;
    case SIM_JR_EOF:
        f->host_eof = true;
        break;
    case SIM_JR_RESET:
        h->c.tcp_resets++;
        if (f->state == HB_TCP_CONNECTING) {
            refuse(h, f);
            flow_free(h, f, false);
        } else {
            if (f->has_sock) {
                tern_tcp_abort(h->stack, f->sock); /* the host's reset, passed on as a RST */
            }
            retire(h, f, false);
        }
        break;
    case SIM_JR_DRAINED:
        if (r->arg > 0 && (uint32_t)r->arg <= f->th_len) {
            memmove(f->to_host, f->to_host + r->arg, f->th_len - (uint32_t)r->arg);
            f->th_len -= (uint32_t)r->arg;
            h->c.bytes_to_host += (uint32_t)r->arg;
        }
        break;
    case SIM_JR_DGRAM: {
        uint8_t u[8 + SIM_MAX_FRAME];
        if (r->len > SIM_MAX_FRAME - 14 - 28) {
            break;
        }
        gw_put16(u, r->port);
        gw_put16(u + 2, f->state == HB_FWD_UDP ? f->gw_port : f->gw_port);
        gw_put16(u + 4, (uint16_t)(8 + r->len));
        gw_put16(u + 6, 0);
        memcpy(u + 8, data, r->len);
        h->c.udp_in++;
        send_ip(h, P_UDP, link_of(h, r->addr), f->state == HB_FWD_UDP ? h->cfg.gateway : f->gw_addr,
                u, 8 + r->len);
        break;
    }
    case SIM_JR_ECHO: {
        uint8_t e[8 + SIM_MAX_FRAME];
        if (r->len > SIM_MAX_FRAME - 14 - 28) {
            break;
        }
        e[0] = 0;
        e[1] = 0;
        gw_put16(e + 2, 0);
        gw_put16(e + 4, f->gw_port);
        gw_put16(e + 6, (uint16_t)r->arg);
        memcpy(e + 8, data, r->len);
        h->c.echo_in++;
        send_ip(h, P_ICMP, link_of(h, r->addr), f->gw_addr, e, 8 + r->len);
        break;
    }
    case SIM_JR_ACCEPT:
        if (f->state == HB_FWD_TCP) {
            accepted(h, f, (uint32_t)r->arg);
        }
        break;
    case SIM_JR_ERROR:
        h->c.host_errors++;
        break;
    case SIM_JR_ICMP:
        icmp_error_in(h, f, r, data);
        break;
    default:
        break;
    }
    pump(h);
    sim_node_wake(h->s, h->id);
}

/* ---- public ------------------------------------------------------------------------ */

static hb_node *hb_of(sim *s, sim_node_id node, tern_err *err) {
    sim_node *n = sim_get_node(s, node);
    if (!n) {
        *err = sim_fail(s, TERN_ERR_UNKNOWN_NODE, "node %u: no such node", node);
        return NULL;
    }
    if (n->ops.input != hb_input) {
        *err = sim_fail(s, TERN_ERR_WRONG_KIND, "node '%s' is a %s, not a host bridge", n->name,
                        n->kind);
        return NULL;
    }
    hb_node *h = n->state;
    h->now = s->now;
    return h;
}

bool sim_hostbridge_is(sim *s, sim_node_id node) {
    sim_node *n = sim_get_node(s, node);
    return n && n->ops.input == hb_input;
}

tern_err sim_hostbridge_add(sim *s, const char *name, const sim_hostbridge_config *cfg,
                            sim_journal *journal, sim_node_id *out) {
    const char *who = name ? name : "";
    if (!journal) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "host bridge '%s' journal: none given", who);
    }
    uint32_t m =
        cfg->prefix_len >= 1 && cfg->prefix_len <= 30 ? 0xffffffffu << (32 - cfg->prefix_len) : 0;
    if (cfg->addr == 0 || m == 0) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "host bridge '%s' addr/prefix_len: %u/%u, need an address and 1..30", who,
                        cfg->addr, cfg->prefix_len);
    }
    if ((cfg->gateway & m) != (cfg->addr & m) || cfg->gateway == cfg->addr) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "host bridge '%s' gateway: not another address of its segment", who);
    }
    hb_node *h = calloc(1, sizeof *h);
    if (!h) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "host bridge '%s': out of memory", who);
    }
    h->s = s;
    h->cfg = *cfg;
    h->cfg.netns[SIM_HB_NETNS_MAX] = 0;
    h->j = journal;
    h->live = sim_journal_get_mode(journal) == SIM_JOURNAL_RECORD;
    h->next_local = 20000;
    static const uint8_t zero[6];
    if (memcmp(cfg->gateway_mac, zero, 6) != 0) {
        memcpy(h->gw_mac, cfg->gateway_mac, 6);
        h->have_gw_mac = true;
    }
    h->next_flow = 1;
    if (h->live) {
        tern_err err = hb_io_check_ping(h);
        if (err != TERN_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", sim_last_error(s));
            free(h);
            return sim_fail(s, err, "host bridge '%s': %s", who, msg);
        }
    }
    tern_stack_config sc;
    tern_stack_config_default(&sc, cfg->seed);
    sc.niface = 1;
    memcpy(sc.iface[0].mac, cfg->mac, 6);
    sc.iface[0].naddrs = 1;
    sc.iface[0].addr[0] = tern_addr_v4_from_u32(cfg->addr);
    sc.iface[0].prefix_len[0] = cfg->prefix_len;
    sc.tcp_sockets = 256; /* flows whose host side is done hold none */
    sc.tcp.msl_ns = HB_MSL_NS;
    sc.ephemeral_low = 61000;
    sc.ephemeral_high = 65535;
    sc.output = hb_output;
    sc.output_ctx = h;
    size_t size = tern_stack_memory_size(&sc);
    h->mem = aligned_alloc(64, (size + 63) & ~(size_t)63);
    char msg[256];
    tern_err err = h->mem ? tern_stack_init(h->mem, size, &sc, &h->stack, msg, sizeof msg)
                          : TERN_ERR_NO_MEMORY;
    if (err != TERN_OK) {
        free(h->mem);
        free(h);
        return sim_fail(s, err, "host bridge '%s': its stack: %s", who,
                        err == TERN_ERR_NO_MEMORY ? "out of memory" : msg);
    }
    err = sim_node_add(s, name, "hostbridge", 1, &hb_ops, h, &h->id);
    if (err != TERN_OK) {
        free(h->mem);
        free(h);
        return err;
    }
    *out = h->id;
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_hostbridge_forward(sim *s, sim_node_id node, uint8_t protocol, uint16_t host_port,
                                uint16_t gw_port, uint16_t *bound) {
    tern_err err;
    hb_node *h = hb_of(s, node, &err);
    if (!h) {
        return err;
    }
    if ((protocol != P_TCP && protocol != P_UDP) || gw_port == 0) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "host forward: protocol %u (6 or 17), gateway port %u (1..65535)", protocol,
                        gw_port);
    }
    hb_flow *f = hb_flow_new(h, protocol == P_TCP ? HB_FWD_TCP : HB_FWD_UDP);
    if (!f) {
        return sim_fail(s, TERN_ERR_NO_BUFFER, "host forward: all %d flows in use",
                        SIM_HB_MAX_FLOWS);
    }
    f->gw_addr = h->cfg.gateway;
    f->gw_port = gw_port;
    sim_journal_rec r = {.kind = SIM_JR_BOUND, .node = h->id, .flow = f->id, .t = s->now};
    if (h->live) {
        err = hb_io_forward(h, f, protocol, host_port);
        if (err != TERN_OK) {
            f->state = HB_FREE;
            return err;
        }
        r.port = f->host_port;
        if ((err = sim_journal_write(h->j, &r, NULL)) != TERN_OK) {
            return err;
        }
    } else {
        sim_journal_rec got;
        err = sim_journal_peek(h->j, &got, NULL);
        if (err != TERN_OK || got.kind != SIM_JR_BOUND || got.flow != f->id) {
            f->state = HB_FREE;
            return sim_fail(s, TERN_ERR_BAD_STATE,
                            "host forward: the journal does not record this forward next (the "
                            "test does not repeat the recorded run)");
        }
        sim_journal_next(h->j);
        f->host_port = got.port;
    }
    *bound = f->host_port;
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_hostbridge_get_counters(sim *s, sim_node_id node, sim_hostbridge_counters *out) {
    tern_err err;
    hb_node *h = hb_of(s, node, &err);
    if (!h) {
        return err;
    }
    *out = h->c;
    sim_ok(s);
    return TERN_OK;
}

uint32_t sim_hostbridge_pollfds(sim *s, sim_node_id node, struct pollfd *fds, uint32_t cap) {
    sim_node *n = sim_get_node(s, node);
    if (!n || n->ops.input != hb_input || !((hb_node *)n->state)->live) {
        return 0;
    }
    return hb_io_pollfds(n->state, fds, cap);
}

tern_err sim_hostbridge_service(sim *s, sim_node_id node, sim_hostbridge_clock_fn clock, void *ctx,
                                size_t *n) {
    *n = 0;
    sim_node *nd = sim_get_node(s, node);
    if (!nd || nd->ops.input != hb_input || !((hb_node *)nd->state)->live) {
        return TERN_OK;
    }
    return hb_io_service(nd->state, clock, ctx, n);
}

tern_err sim_hostbridge_apply(sim *s, const sim_journal_rec *rec, const uint8_t *data) {
    tern_err err;
    hb_node *h = hb_of(s, rec->node, &err);
    if (!h) {
        return err;
    }
    hb_apply(h, rec, data);
    return TERN_OK;
}

/*
 * UDP and ICMP echo sockets of the lwIP DUT. lwIP's raw API hands each datagram to a callback and
 * keeps nothing: the adapter copies datagrams into a per-socket queue of LW_UDP_QUEUE entries (the
 * newest is dropped when it is full), as a socket layer would. An echo socket is a raw ICMP pcb
 * that sends requests built here and reads the replies lwIP's own ICMP ignores.
 */
#include <stdlib.h>
#include <string.h>

#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "lwip/udp.h"

#include "adapter.h"
#include "tern_lwip.h"

static void enqueue(lw_sock *sk, lw_dgram *d) {
    if (sk->q_tail) {
        sk->q_tail->next = d;
    } else {
        sk->q_head = d;
    }
    sk->q_tail = d;
    sk->q_len++;
}

static lw_dgram *dequeue(lw_sock *sk) {
    lw_dgram *d = sk->q_head;
    if (d) {
        sk->q_head = d->next;
        if (!sk->q_head) {
            sk->q_tail = NULL;
        }
        sk->q_len--;
    }
    return d;
}

static lw_dgram *copy_pbuf(struct pbuf *p, u16_t offset) {
    u16_t n = (u16_t)(p->tot_len - offset);
    lw_dgram *d = calloc(1, sizeof *d + n);
    if (d) {
        d->len = pbuf_copy_partial(p, d->data, n, offset);
    }
    return d;
}

/* ---- UDP ---- */

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                   u16_t port) {
    lw_sock *sk = arg;
    (void)pcb;
    if (sk && sk->q_len < LW_UDP_QUEUE) {
        lw_dgram *d = copy_pbuf(p, 0);
        if (d) {
            d->ip = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(addr)));
            d->port = port;
            d->time = lw_now_ns(sk->inst);
            enqueue(sk, d);
        }
    }
    pbuf_free(p);
}

static lw_sock *get(void *st, int32_t h, sk_kind k) {
    lwip_inst *inst = st;
    lw_enter(inst);
    return lw_sock_get(inst, h, k);
}

TERN_LWIP_API int32_t lw_udp_open(void *st) {
    lwip_inst *inst = st;
    lw_enter(inst);
    struct udp_pcb *pcb = udp_new();
    if (!pcb) {
        return TERN_ERR_NO_MEMORY;
    }
    lw_sock *sk = lw_sock_new(inst, SK_UDP);
    if (!sk) {
        udp_remove(pcb);
        return TERN_ERR_NO_MEMORY;
    }
    sk->pcb = pcb;
    udp_recv(pcb, on_udp, sk);
    return sk->handle;
}

TERN_LWIP_API int32_t lw_udp_bind(void *st, int32_t h, uint32_t ip, uint16_t port) {
    lw_sock *sk = get(st, h, SK_UDP);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    ip_addr_t a;
    ip_addr_set_ip4_u32(&a, lwip_htonl(ip));
    err_t e = udp_bind(sk->pcb, &a, port);
    return e == ERR_OK ? 0 : e == ERR_USE ? TERN_ERR_ADDR_IN_USE : TERN_ERR_INVALID_ARGUMENT;
}

TERN_LWIP_API int32_t lw_udp_local(void *st, int32_t h, uint32_t *ip, uint16_t *port) {
    lw_sock *sk = get(st, h, SK_UDP);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    struct udp_pcb *pcb = sk->pcb;
    *ip = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip)));
    *port = pcb->local_port;
    return 0;
}

TERN_LWIP_API int32_t lw_udp_sendto(void *st, int32_t h, uint32_t ip, uint16_t port,
                                    const uint8_t *data, size_t len) {
    lw_sock *sk = get(st, h, SK_UDP);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    if (len > 0xffff - 8 - 20) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (!p) {
        return TERN_ERR_NO_MEMORY;
    }
    pbuf_take(p, data, (u16_t)len);
    ip_addr_t a;
    ip_addr_set_ip4_u32(&a, lwip_htonl(ip));
    err_t e = udp_sendto(sk->pcb, p, &a, port);
    pbuf_free(p);
    lw_wake(sk->inst);
    /* ERR_RTE: no netif for the destination; an ARP miss is not an error (the datagram waits). */
    return e == ERR_OK    ? 0
           : e == ERR_RTE ? TERN_ERR_NO_ROUTE
           : e == ERR_MEM ? TERN_ERR_WOULD_BLOCK
                          : TERN_ERR_INVALID_ARGUMENT;
}

TERN_LWIP_API int64_t lw_udp_recvfrom(void *st, int32_t h, uint8_t *out, size_t cap, uint32_t *ip,
                                      uint16_t *port) {
    lw_sock *sk = get(st, h, SK_UDP);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    lw_dgram *d = dequeue(sk);
    if (!d) {
        return TERN_ERR_WOULD_BLOCK;
    }
    memcpy(out, d->data, d->len < cap ? d->len : cap);
    *ip = d->ip;
    *port = d->port;
    int64_t n = (int64_t)d->len;
    free(d);
    return n;
}

TERN_LWIP_API int32_t lw_udp_pending(void *st, int32_t h) {
    lw_sock *sk = get(st, h, SK_UDP);
    return sk ? (int32_t)sk->q_len : TERN_ERR_CLOSED;
}

TERN_LWIP_API int32_t lw_udp_set_ttl(void *st, int32_t h, uint8_t ttl) {
    lw_sock *sk = get(st, h, SK_UDP);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    ((struct udp_pcb *)sk->pcb)->ttl = ttl;
    return 0;
}

TERN_LWIP_API int32_t lw_udp_close(void *st, int32_t h) {
    lw_sock *sk = get(st, h, SK_UDP);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    udp_remove(sk->pcb);
    lw_sock_free(sk);
    return 0;
}

/* ---- ICMP echo ---- */

/* An ICMP error (its header e at offset hl of p) that quotes one of sk's echo requests: the IP
 * header and the first 8 octets of the request (RFC 792), so the request's type and identifier. */
static void note_error(lw_sock *sk, struct pbuf *p, u16_t hl, const struct icmp_echo_hdr *e,
                       const ip_addr_t *from) {
    struct ip_hdr q;
    u16_t qoff = (u16_t)(hl + 8);
    if (p->tot_len < qoff + IP_HLEN || pbuf_copy_partial(p, &q, IP_HLEN, qoff) != IP_HLEN ||
        IPH_PROTO(&q) != IP_PROTO_ICMP) {
        return;
    }
    u16_t qhl = (u16_t)(IPH_HL(&q) * 4);
    struct icmp_echo_hdr qe;
    if (p->tot_len < qoff + qhl + sizeof qe ||
        pbuf_copy_partial(p, &qe, sizeof qe, (u16_t)(qoff + qhl)) != sizeof qe ||
        qe.type != ICMP_ECHO || lwip_ntohs(qe.id) != sk->ident) {
        return;
    }
    sk->has_error = true;
    sk->err_type = e->type;
    sk->err_code = e->code;
    /* Fragmentation needed (RFC 1191 §4): the next-hop MTU is the low 16 bits of the second word.
     */
    sk->err_mtu = (e->type == ICMP_DUR && e->code == 4) ? lwip_ntohs(e->seqno) : 0;
    sk->err_from = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(from)));
    sk->err_dst = lwip_ntohl(q.dest.addr);
    sk->err_time = lw_now_ns(sk->inst);
}

/* raw_recv: every ICMP datagram, its payload at the IP header. Echo replies with our identifier are
 * taken (eaten: 1); everything else goes on to lwIP's ICMP (0). */
static u8_t on_icmp(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr) {
    lw_sock *sk = arg;
    (void)pcb;
    if (!sk || p->tot_len < IP_HLEN) {
        return 0;
    }
    struct ip_hdr iph;
    pbuf_copy_partial(p, &iph, IP_HLEN, 0);
    u16_t hl = (u16_t)(IPH_HL(&iph) * 4);
    struct icmp_echo_hdr e;
    if (p->tot_len < hl + sizeof e || pbuf_copy_partial(p, &e, sizeof e, hl) != sizeof e) {
        return 0;
    }
    if (e.type == ICMP_DUR || e.type == ICMP_TE || e.type == ICMP_PP) {
        note_error(sk, p, hl, &e, addr);
        return 0; /* lwIP's ICMP sees it too (and drops it) */
    }
    if (e.type != ICMP_ER || lwip_ntohs(e.id) != sk->ident) {
        return 0;
    }
    if (sk->q_len < LW_UDP_QUEUE) {
        lw_dgram *d = copy_pbuf(p, (u16_t)(hl + sizeof e));
        if (d) {
            d->ip = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(addr)));
            d->port = lwip_ntohs(e.seqno);
            d->ttl = IPH_TTL(&iph);
            d->time = lw_now_ns(sk->inst);
            enqueue(sk, d);
        }
    }
    pbuf_free(p);
    return 1;
}

TERN_LWIP_API int32_t lw_ping_open(void *st, uint16_t ident) {
    lwip_inst *inst = st;
    lw_enter(inst);
    struct raw_pcb *pcb = raw_new(IP_PROTO_ICMP);
    if (!pcb) {
        return TERN_ERR_NO_MEMORY;
    }
    lw_sock *sk = lw_sock_new(inst, SK_PING);
    if (!sk) {
        raw_remove(pcb);
        return TERN_ERR_NO_MEMORY;
    }
    sk->pcb = pcb;
    sk->ident = ident;
    raw_recv(pcb, on_icmp, sk);
    return sk->handle;
}

TERN_LWIP_API int32_t lw_ping_send(void *st, int32_t h, uint32_t dst, uint16_t seq,
                                   const uint8_t *data, size_t len, uint8_t ttl) {
    lw_sock *sk = get(st, h, SK_PING);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    if (len > 0xffff - 20 - sizeof(struct icmp_echo_hdr)) {
        return TERN_ERR_MSG_TOO_LONG;
    }
    u16_t n = (u16_t)(sizeof(struct icmp_echo_hdr) + len);
    struct pbuf *p = pbuf_alloc(PBUF_IP, n, PBUF_RAM);
    if (!p) {
        return TERN_ERR_NO_MEMORY;
    }
    uint8_t *buf = malloc(n);
    if (!buf) {
        pbuf_free(p);
        return TERN_ERR_NO_MEMORY;
    }
    struct icmp_echo_hdr e = {0};
    e.type = ICMP_ECHO;
    e.id = lwip_htons(sk->ident);
    e.seqno = lwip_htons(seq);
    memcpy(buf, &e, sizeof e);
    for (size_t i = 0; i < len; i++) {
        buf[sizeof e + i] = data ? data[i] : (uint8_t)i; /* the pattern: byte i is i mod 256 */
    }
    u16_t sum = inet_chksum(buf, n);
    memcpy(buf + offsetof(struct icmp_echo_hdr, chksum), &sum, 2);
    pbuf_take(p, buf, n);
    free(buf);
    struct raw_pcb *pcb = sk->pcb;
    u8_t old_ttl = pcb->ttl;
    if (ttl) {
        pcb->ttl = ttl;
    }
    ip_addr_t a;
    ip_addr_set_ip4_u32(&a, lwip_htonl(dst));
    err_t err = raw_sendto(pcb, p, &a);
    pcb->ttl = old_ttl;
    pbuf_free(p);
    lw_wake(sk->inst);
    return err == ERR_OK ? 0 : err == ERR_RTE ? TERN_ERR_NO_ROUTE : TERN_ERR_NO_MEMORY;
}

TERN_LWIP_API int32_t lw_ping_recv(void *st, int32_t h, lw_ping_reply *out, uint8_t *payload,
                                   size_t cap) {
    lw_sock *sk = get(st, h, SK_PING);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    lw_dgram *d = dequeue(sk);
    if (!d) {
        return TERN_ERR_WOULD_BLOCK;
    }
    out->src = d->ip;
    out->seq = d->port;
    out->ttl = d->ttl;
    out->len = (uint32_t)d->len;
    out->time = d->time;
    memcpy(payload, d->data, d->len < cap ? d->len : cap);
    free(d);
    return 0;
}

TERN_LWIP_API int32_t lw_ping_take_error(void *st, int32_t h, lw_ping_error *out) {
    lw_sock *sk = get(st, h, SK_PING);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    if (!sk->has_error) {
        return TERN_ERR_WOULD_BLOCK;
    }
    out->type = sk->err_type;
    out->code = sk->err_code;
    out->mtu = sk->err_mtu;
    out->from = sk->err_from;
    out->dst = sk->err_dst;
    out->time = sk->err_time;
    sk->has_error = false;
    return 0;
}

TERN_LWIP_API int32_t lw_ping_close(void *st, int32_t h) {
    lw_sock *sk = get(st, h, SK_PING);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    raw_remove(sk->pcb);
    lw_sock_free(sk);
    return 0;
}

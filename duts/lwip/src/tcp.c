/*
 * TCP sockets of the lwIP DUT over lwIP's raw API: each handle is a tcp_pcb with callbacks that
 * queue received data (pbufs, acknowledged to lwIP with tcp_recved only when Python reads them, so
 * the advertised window is lwIP's own), queue accepted connections, and record why a connection
 * ended. A closed handle detaches from its pcb, which lwIP finishes alone (FIN-WAIT, TIME-WAIT).
 */
#include <stdlib.h>
#include <string.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "adapter.h"
#include "tern_lwip.h"

static int32_t conn_error(lw_sock *sk) {
    return sk->error ? sk->error : TERN_ERR_NOT_CONNECTED;
}

static void detach(struct tcp_pcb *pcb) {
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL); /* lwIP's tcp_recv_null takes what still comes */
    tcp_err(pcb, NULL);
    tcp_accept(pcb, NULL);
}

/* tcp_err: lwIP freed the pcb. ERR_RST: a RST (in SYN-SENT: refused); ERR_ABRT: lwIP gave up
 * (retransmissions exhausted, keep-alive, out of memory); ERR_CLSD: closed normally. */
static void on_err(void *arg, err_t err) {
    lw_sock *sk = arg;
    if (!sk) {
        return;
    }
    uint8_t was = sk->last_state;
    sk->pcb = NULL;
    sk->last_state = CLOSED;
    if (err == ERR_RST) {
        sk->error = (was == SYN_SENT) ? TERN_ERR_CONN_REFUSED : TERN_ERR_CONN_RESET;
    } else if (err == ERR_ABRT) {
        sk->error = TERN_ERR_TIMED_OUT;
    } else if (err != ERR_CLSD) {
        sk->error = TERN_ERR_CONN_RESET;
    }
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    lw_sock *sk = arg;
    (void)err;
    if (!sk) {
        return ERR_ABRT;
    }
    sk->last_state = (uint8_t)pcb->state;
    if (!p) {
        sk->fin = true;
        return ERR_OK;
    }
    if (sk->rx) {
        pbuf_cat(sk->rx, p);
    } else {
        sk->rx = p;
    }
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
    lw_sock *sk = arg;
    (void)err;
    if (sk) {
        sk->last_state = (uint8_t)pcb->state;
    }
    return ERR_OK;
}

static void attach(lw_sock *sk, struct tcp_pcb *pcb) {
    sk->pcb = pcb;
    sk->last_state = (uint8_t)pcb->state;
    tcp_arg(pcb, sk);
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_err);
}

static int32_t apply_option(struct tcp_pcb *pcb, int32_t opt, uint64_t value);

/* A listener's new connection (established): a handle in the listener's queue. */
static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err) {
    lw_sock *l = arg;
    if (err != ERR_OK || !newpcb) {
        return ERR_VAL;
    }
    if (!l || l->naccept >= LW_ACCEPT_MAX) {
        return ERR_MEM; /* lwIP aborts the connection */
    }
    lw_sock *sk = lw_sock_new(l->inst, SK_TCP);
    if (!sk) {
        return ERR_MEM;
    }
    attach(sk, newpcb);
    for (int32_t opt = 1; opt <= 5; opt++) {
        if (l->opt_mask & (1u << (opt - 1))) {
            apply_option(newpcb, opt, l->opt_value[opt - 1]);
        }
    }
    sk->listener = l;
    tcp_backlog_delayed(newpcb); /* counts against the backlog until accept() */
    l->acceptq[l->naccept++] = sk->handle;
    return ERR_OK;
}

static bool in_list(const struct tcp_pcb *list, const struct tcp_pcb *pcb) {
    for (; list; list = list->next) {
        if (list == pcb) {
            return true;
        }
    }
    return false;
}

/* lwIP frees some pcbs without calling tcp_err: a TIME-WAIT pcb when 2 x MSL is over, and a
 * closing pcb whose receive side the application shut. A handle trusts its pcb only while the pcb
 * is in one of lwIP's lists and still carries the handle as its argument (a freed pcb's memory may
 * hold a new connection); otherwise the connection is gone, without an error. */
static void check_alive(lw_sock *sk) {
    struct tcp_pcb *pcb = sk->pcb;
    if (!pcb || sk->unlisted) {
        return;
    }
    bool found = in_list(tcp_active_pcbs, pcb) || in_list(tcp_tw_pcbs, pcb) ||
                 in_list(tcp_bound_pcbs, pcb) ||
                 in_list((struct tcp_pcb *)tcp_listen_pcbs.pcbs, pcb);
    if (!found || pcb->callback_arg != sk) {
        sk->pcb = NULL;
        sk->last_state = CLOSED;
    }
}

static lw_sock *get(void *st, int32_t h) {
    lwip_inst *inst = st;
    lw_enter(inst);
    lw_sock *sk = lw_sock_get(inst, h, SK_TCP);
    if (sk) {
        check_alive(sk);
    }
    return sk;
}

TERN_LWIP_API int32_t lw_tcp_open(void *st) {
    lwip_inst *inst = st;
    lw_enter(inst);
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb) {
        return TERN_ERR_NO_MEMORY;
    }
    lw_sock *sk = lw_sock_new(inst, SK_TCP);
    if (!sk) {
        tcp_abort(pcb);
        return TERN_ERR_NO_MEMORY;
    }
    attach(sk, pcb);
    sk->unlisted = true;
    return sk->handle;
}

TERN_LWIP_API int32_t lw_tcp_bind(void *st, int32_t h, uint16_t port) {
    lw_sock *sk = get(st, h);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    if (!sk->pcb) {
        return conn_error(sk);
    }
    err_t e = tcp_bind(sk->pcb, IP4_ADDR_ANY, port);
    if (e == ERR_OK) {
        sk->unlisted = false;
    }
    return e == ERR_OK ? 0 : e == ERR_USE ? TERN_ERR_ADDR_IN_USE : TERN_ERR_BAD_STATE;
}

TERN_LWIP_API int32_t lw_tcp_listen(void *st, int32_t h, uint32_t backlog) {
    lw_sock *sk = get(st, h);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    if (!sk->pcb || backlog < 1 || backlog > 255) {
        return sk->pcb ? TERN_ERR_INVALID_ARGUMENT : conn_error(sk);
    }
    err_t e = ERR_OK;
    struct tcp_pcb *l = tcp_listen_with_backlog_and_err(sk->pcb, (u8_t)backlog, &e);
    if (!l) {
        return e == ERR_USE ? TERN_ERR_ADDR_IN_USE : TERN_ERR_NO_MEMORY;
    }
    sk->pcb = l; /* lwIP freed the old pcb and made a smaller listening one */
    sk->unlisted = false;
    sk->last_state = LISTEN;
    sk->listening = true;
    tcp_arg(l, sk);
    tcp_accept(l, on_accept);
    return 0;
}

TERN_LWIP_API int32_t lw_tcp_accept(void *st, int32_t h) {
    lw_sock *l = get(st, h);
    if (!l) {
        return TERN_ERR_CLOSED;
    }
    if (!l->listening) {
        return TERN_ERR_BAD_STATE;
    }
    while (l->naccept) {
        int32_t c = l->acceptq[0];
        memmove(l->acceptq, l->acceptq + 1, --l->naccept * sizeof l->acceptq[0]);
        lw_sock *sk = lw_sock_get(l->inst, c, SK_TCP);
        if (!sk) {
            continue;
        }
        sk->listener = NULL;
        if (sk->pcb) {
            tcp_backlog_accepted((struct tcp_pcb *)sk->pcb);
        }
        lw_wake(l->inst);
        return c;
    }
    return TERN_ERR_WOULD_BLOCK;
}

TERN_LWIP_API int32_t lw_tcp_accept_pending(void *st, int32_t h) {
    lw_sock *l = get(st, h);
    return l ? (int32_t)l->naccept : TERN_ERR_CLOSED;
}

TERN_LWIP_API int32_t lw_tcp_connect(void *st, int32_t h, uint32_t ip, uint16_t port) {
    lw_sock *sk = get(st, h);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    if (!sk->pcb) {
        return conn_error(sk);
    }
    ip_addr_t a;
    ip_addr_set_ip4_u32(&a, lwip_htonl(ip));
    err_t e = tcp_connect(sk->pcb, &a, port, on_connected);
    lw_wake(sk->inst);
    if (e == ERR_OK) {
        sk->unlisted = false;
        sk->last_state = SYN_SENT;
        return 0;
    }
    return e == ERR_USE                      ? TERN_ERR_ADDR_IN_USE
           : e == ERR_RTE                    ? TERN_ERR_NO_ROUTE
           : e == ERR_ISCONN || e == ERR_VAL ? TERN_ERR_BAD_STATE
                                             : TERN_ERR_NO_MEMORY;
}

TERN_LWIP_API int64_t lw_tcp_send(void *st, int32_t h, const uint8_t *data, size_t len) {
    lw_sock *sk = get(st, h);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    struct tcp_pcb *pcb = sk->pcb;
    if (!pcb) {
        return conn_error(sk);
    }
    if (pcb->state != ESTABLISHED && pcb->state != CLOSE_WAIT && pcb->state != SYN_SENT &&
        pcb->state != SYN_RCVD) {
        return TERN_ERR_BAD_STATE;
    }
    size_t n = len < tcp_sndbuf(pcb) ? len : tcp_sndbuf(pcb);
    if (n > 0xffff) {
        n = 0xffff;
    }
    /* tcp_write refuses (ERR_MEM) when the segment queue is full too: then take less, or nothing.
     */
    while (n > 0 && tcp_write(pcb, data, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) {
        n /= 2;
    }
    if (n > 0) {
        tcp_output(pcb);
        lw_wake(sk->inst);
    }
    return (int64_t)n;
}

TERN_LWIP_API int64_t lw_tcp_recv(void *st, int32_t h, uint8_t *out, size_t len) {
    lw_sock *sk = get(st, h);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    if (sk->rx) {
        u16_t n = (u16_t)(len < sk->rx->tot_len ? len : sk->rx->tot_len);
        pbuf_copy_partial(sk->rx, out, n, 0);
        sk->rx = pbuf_free_header(sk->rx, n);
        if (sk->pcb) {
            tcp_recved(sk->pcb, n); /* the window opens as the application reads */
            lw_wake(sk->inst);
        }
        return n;
    }
    if (sk->fin) {
        return 0;
    }
    if (!sk->pcb && sk->error) {
        return sk->error;
    }
    return TERN_ERR_WOULD_BLOCK;
}

TERN_LWIP_API int32_t lw_tcp_shutdown(void *st, int32_t h, int32_t rd, int32_t wr) {
    lw_sock *sk = get(st, h);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    if (!sk->pcb) {
        return conn_error(sk);
    }
    struct tcp_pcb *pcb = sk->pcb;
    if (rd && wr) {
        /* tcp_shutdown(1, 1) is tcp_close: lwIP may free the pcb, so the handle lets go of it. */
        detach(pcb);
        sk->pcb = NULL;
        sk->last_state = CLOSED;
        sk->fin = true;
    }
    err_t e = tcp_shutdown(pcb, rd != 0, wr != 0);
    lw_wake(sk->inst);
    if (e != ERR_OK) {
        return e == ERR_CONN ? TERN_ERR_NOT_CONNECTED : TERN_ERR_BAD_STATE;
    }
    if (rd) {
        sk->fin = true; /* nothing more is read */
    }
    return 0;
}

static void drop_rx(lw_sock *sk) {
    if (sk->rx) {
        pbuf_free(sk->rx);
        sk->rx = NULL;
    }
}

/* A listener's connections not accepted yet go with it (RST: the application never saw them). */
static void drop_pending(lw_sock *l) {
    for (uint32_t i = 0; i < l->naccept; i++) {
        lw_sock *c = lw_sock_get(l->inst, l->acceptq[i], SK_TCP);
        if (c) {
            if (c->pcb) {
                struct tcp_pcb *pcb = c->pcb;
                detach(pcb);
                tcp_abort(pcb);
            }
            drop_rx(c);
            lw_sock_free(c);
        }
    }
    l->naccept = 0;
}

TERN_LWIP_API int32_t lw_tcp_close(void *st, int32_t h) {
    lw_sock *sk = get(st, h);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    drop_pending(sk);
    /* Unread data is freed without tcp_recved: lwIP sees its window not reopened and answers the
     * close with RST (its reading of RFC 1122 §4.2.2.13), as it would for a real application. */
    drop_rx(sk);
    struct tcp_pcb *pcb = sk->pcb;
    if (pcb) {
        detach(pcb);
        if (tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb); /* out of memory for the FIN: lwIP's own advice is to abort */
        }
        lw_wake(sk->inst);
    }
    lw_sock_free(sk);
    return 0;
}

TERN_LWIP_API int32_t lw_tcp_abort(void *st, int32_t h) {
    lw_sock *sk = get(st, h);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    drop_pending(sk);
    drop_rx(sk);
    struct tcp_pcb *pcb = sk->pcb;
    if (pcb) {
        detach(pcb);
        tcp_abort(pcb);
        lw_wake(sk->inst);
    }
    lw_sock_free(sk);
    return 0;
}

TERN_LWIP_API int32_t lw_tcp_get_info(void *st, int32_t h, lw_tcp_info *out) {
    lw_sock *sk = get(st, h);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    memset(out, 0, sizeof *out);
    out->error = sk->error;
    out->readable = sk->rx ? sk->rx->tot_len : 0;
    out->fin_received = sk->fin;
    struct tcp_pcb *pcb = sk->pcb;
    if (!pcb) {
        out->state = CLOSED;
        return 0;
    }
    sk->last_state = (uint8_t)pcb->state;
    out->state = pcb->state;
    out->local_ip = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip)));
    out->local_port = pcb->local_port;
    if (pcb->state == LISTEN) {
        return 0; /* a tcp_pcb_listen has no more than that */
    }
    out->remote_ip = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)));
    out->remote_port = pcb->remote_port;
    out->writable = tcp_sndbuf(pcb);
#if LWIP_TCP_TIMESTAMPS
    out->ts_ok = (pcb->flags & TF_TIMESTAMP) != 0;
#endif
    out->snd_una = pcb->lastack;
    out->snd_nxt = pcb->snd_nxt;
    out->rcv_nxt = pcb->rcv_nxt;
    out->snd_wnd = pcb->snd_wnd;
    out->rcv_wnd = pcb->rcv_ann_wnd;
    out->cwnd = pcb->cwnd;
    out->ssthresh = pcb->ssthresh;
    out->snd_mss = pcb->mss;
    out->rto_ns = (uint64_t)(pcb->rto > 0 ? pcb->rto : 0) * TCP_SLOW_INTERVAL * 1000000u;
    out->retransmits = pcb->nrtx;
    return 0;
}

/* Apply option opt (1..5, see tern_lwip.h) to a connection's pcb (not a listener's: a
 * tcp_pcb_listen has no flags or keep-alive fields). */
static int32_t apply_option(struct tcp_pcb *pcb, int32_t opt, uint64_t value) {
    switch (opt) {
    case 1:
        if (value) {
            tcp_nagle_disable(pcb);
        } else {
            tcp_nagle_enable(pcb);
        }
        return 0;
    case 2:
        if (value) {
            ip_set_option(pcb, SOF_KEEPALIVE);
        } else {
            ip_reset_option(pcb, SOF_KEEPALIVE);
        }
        return 0;
    case 3:
        pcb->keep_idle = (u32_t)value;
        return 0;
#if LWIP_TCP_KEEPALIVE
    case 4:
        pcb->keep_intvl = (u32_t)value;
        return 0;
    case 5:
        pcb->keep_cnt = (u32_t)value;
        return 0;
#endif
    default:
        return TERN_ERR_INVALID_ARGUMENT;
    }
}

TERN_LWIP_API int32_t lw_tcp_set_option(void *st, int32_t h, int32_t opt, uint64_t value) {
    lw_sock *sk = get(st, h);
    if (!sk) {
        return TERN_ERR_CLOSED;
    }
    if (opt < 1 || opt > 5 || value > 0xffffffffu) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    struct tcp_pcb *pcb = sk->pcb;
    if (!pcb) {
        return conn_error(sk);
    }
    sk->opt_mask |= 1u << (opt - 1);
    sk->opt_value[opt - 1] = value;
    if (sk->listening) {
        return 0; /* applied to each accepted connection */
    }
    return apply_option(pcb, opt, value);
}

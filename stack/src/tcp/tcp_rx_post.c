/*
 * A posted read: the application lends the stack a buffer, and in-order data
 * goes from the frame straight into it (issue 19: one copy fewer per byte).
 *
 * tern_tcp_recv_post keeps the application's pointer in the control block (no
 * heap: the memory is the caller's, and sans-I/O: the stack only writes it
 * while it processes a segment or a call). The stream's order is kept by one
 * rule: a byte goes to the posted buffer only when every byte before it is
 * there or was read. So at the post, the in-order bytes waiting in the ring
 * move into the buffer first (tcp_post_fill); while the ring holds in-order
 * bytes, arriving data goes to the ring behind them; only with the ring empty
 * of in-order bytes, no out-of-order data (it waits in the ring, tcp_ooo.c), no
 * SYN text and no urgent data pending does tcp_rx_parse copy-and-checksum a
 * segment into the buffer (tcp_rx_place.c, tcp_post_room), what does not fit
 * into the ring. Text the ring received while the buffer had room (a hole
 * filled, a segment not placeable) moves on at once (tcp_input.c).
 *
 * Bytes in the posted buffer count as read on arrival: they advance RCV.NXT
 * but take no room in the ring, so the window advertised stays the ring's free
 * space (RFC 9293 §3.8.6: the window is what the receiver can take; posted
 * space is the application's, not the connection's, and goes with the take).
 *
 * Urgent data is never placed in the posted buffer: RFC 9293 §3.9.1.3 says
 * "data following the urgent pointer (non-urgent data) cannot be delivered to
 * the user in the same buffer with preceding urgent data unless the boundary
 * is clearly marked", and a posted buffer marks no boundary. In urgent mode the
 * buffer stops filling (tern_tcp_recv_posted says it is final); the
 * application takes it and reads the urgent data with tern_tcp_recv.
 */
#include <string.h>

#include "tcp_private.h"

void tcp_post_fill(tern_stack *st, tcp_pcb *p) {
    if (!p->post_buf || (p->urg & TCP_URG_RCV) || (p->flags & TCPF_RCV_SHUT)) {
        return;
    }
    uint32_t n = p->rx_len;
    if (n > p->post_cap - p->post_len) {
        n = p->post_cap - p->post_len;
    }
    if (n == 0) {
        return;
    }
    const uint8_t *base = tcp_rx_base(st, p);
    uint32_t first = p->rx_cap - p->rx_head < n ? p->rx_cap - p->rx_head : n;
    memcpy(p->post_buf + p->post_len, base + p->rx_head, first);
    memcpy(p->post_buf + p->post_len + first, base, n - first);
    p->post_len += n;
    tcp_rx_consumed(st, p, n); /* read: the ring's room grows, the window may open */
}

tern_err tcp_post_refuses(tern_stack *st, const char *call) {
    return tern_fail(st, TERN_ERR_BAD_STATE,
                     "%s: a buffer is posted (tern_tcp_recv_post); take it back with "
                     "tern_tcp_recv_take first",
                     call);
}

tern_err tern_tcp_recv_post(tern_stack *st, tern_sock s, uint8_t *buf, size_t cap) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    if (!buf || cap == 0 || cap > UINT32_MAX) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "tcp_recv_post: the buffer must be non-NULL with 1 to %u bytes, not %zu",
                         UINT32_MAX, buf ? cap : 0);
    }
    if (p->post_buf) {
        return tern_fail(st, TERN_ERR_BAD_STATE,
                         "tcp_recv_post: a buffer is posted already (%u of %u bytes filled); "
                         "tern_tcp_recv_take it first",
                         p->post_len, p->post_cap);
    }
    /* What tern_tcp_recv refuses (a listener, a connection closed or never opened) is refused;
     * "nothing yet" and the end of the stream are not. */
    uint32_t n;
    e = tcp_readable_now(p, &n);
    if (e && e != TERN_ERR_WOULD_BLOCK) {
        return e;
    }
    p->post_buf = buf;
    p->post_cap = (uint32_t)cap;
    p->post_len = 0;
    tcp_post_fill(st, p); /* the bytes in the ring come first */
    return TERN_OK;
}

tern_err tern_tcp_recv_posted(const tern_stack *st, tern_sock s, size_t *filled, bool *final) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    if (!filled) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    *filled = 0;
    if (final) {
        *final = false;
    }
    if (!p->post_buf) {
        return TERN_ERR_EMPTY;
    }
    *filled = p->post_len;
    if (final) {
        *final = p->post_len == p->post_cap || (p->flags & (TCPF_FIN_RCVD | TCPF_RCV_SHUT)) ||
                 p->state == TERN_TCP_CLOSED || (p->urg & TCP_URG_RCV);
    }
    return TERN_OK;
}

tern_err tern_tcp_recv_take(tern_stack *st, tern_sock s, size_t *got) {
    tcp_pcb *p;
    if (got) {
        *got = 0;
    }
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    if (!p->post_buf) {
        return tern_fail(st, TERN_ERR_EMPTY, "tcp_recv_take: no buffer is posted");
    }
    if (got) {
        *got = p->post_len;
    }
    p->post_buf = NULL;
    p->post_cap = p->post_len = 0;
    return TERN_OK;
}

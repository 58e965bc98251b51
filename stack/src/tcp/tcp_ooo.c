/*
 * Receive-side reassembly (RFC 9293 §3.10.7.4 "seventh": segments beyond
 * RCV.NXT are kept for later processing). Out-of-order data is written
 * straight into the receive ring at its final place (the ring always has room
 * for everything inside the window we announced), and only the ranges are
 * remembered, at most ooo_max_holes of them: memory is bounded, and a segment
 * that would need one range more is dropped (the sender will retransmit it).
 */
#include <string.h>

#include "tcp_private.h"

static void ring_write(uint8_t *base, uint32_t cap, uint32_t pos, const uint8_t *data,
                       uint32_t len) {
    pos %= cap;
    uint32_t first = cap - pos < len ? cap - pos : len;
    memcpy(base + pos, data, first);
    if (len > first) {
        memcpy(base, data + first, len - first);
    }
}

uint32_t tcp_ooo_receive(tern_stack *st, tcp_pcb *p, uint32_t seq, const uint8_t *data,
                         uint32_t len, bool *ooo) {
    *ooo = false;
    uint32_t free_space = p->rx_cap - p->rx_len;
    uint32_t off = seq - p->rcv_nxt; /* the caller trimmed seq to >= rcv_nxt */
    if (off >= free_space || len == 0) {
        *ooo = off != 0;
        return 0;
    }
    if (len > free_space - off) {
        len = free_space - off;
    }
    tcp_range *r = tcp_ooo_ranges(st, p);
    tcp_dsack_note_ooo(st, p, seq, len); /* RFC 2883 §4: data queued already */
    if (off > 0) {
        int idx = tcp_ranges_add(r, &p->ooo_n, st->tcp->ooo_cap, seq, seq + len);
        *ooo = true;
        if (idx < 0) {
            return 0; /* too many holes: dropped, bounded memory */
        }
        ring_write(tcp_rx_base(st, p), p->rx_cap, p->rx_head + p->rx_len + off, data, len);
        tcp_sack_note_ooo(st, p, seq); /* RFC 2018 §4: its block goes first */
        p->ooo_segments++;
        return 0;
    }
    /* Bytes placed in a posted buffer (tcp_rx_place.c) count as read on arrival: they advance
     * RCV.NXT but take no room in the ring. */
    uint32_t posted = 0;
    if (tcp_rx_placed(st, p, seq, data, len)) {
        posted = tcp_rx_placed_post(st, len);
        p->post_len += posted;
    } else {
        ring_write(tcp_rx_base(st, p), p->rx_cap, p->rx_head + p->rx_len, data, len);
    }
    uint32_t advanced = len;
    p->rcv_nxt += len;
    p->rx_len += len - posted;
    if (p->ooo_n > 0) {
        /* RFC 9293 §3.10.7.4: queued segments that are now in order are delivered. */
        tcp_ranges_trim(r, &p->ooo_n, p->rcv_nxt);
        while (p->ooo_n > 0 && seq_leq(r[0].start, p->rcv_nxt)) {
            uint32_t more = r[0].end - p->rcv_nxt;
            p->rcv_nxt = r[0].end;
            p->rx_len += more;
            advanced += more;
            tcp_ranges_trim(r, &p->ooo_n, p->rcv_nxt);
        }
    }
    return advanced;
}

/*
 * The TCP urgent mechanism (RFC 9293 §3.8.5, which takes in RFC 6093).
 *
 * The urgent pointer points to "the sequence number of the octet following
 * the urgent data (MUST-62)"; urgent data is part of the stream and is
 * delivered inline, in order, as RFC 6093 advises: nothing is taken out of
 * band.
 *
 * Receiving (RFC 9293 §3.10.7.4 sixth): RCV.UP <- max(RCV.UP, SEG.UP). While
 * RCV.UP is ahead of what the user has read, the connection is in "urgent
 * mode": tern_tcp_get_urgent tells the user so and how many octets remain
 * up to the end of the urgent data (MUST-33); the notification count goes up
 * whenever urgent data becomes pending or the pointer advances (MUST-32), so
 * that a user polling the count learns it without reading the stream. One
 * read never returns urgent and non-urgent octets together (RFC 9293
 * §3.9.1.3: "data following the urgent pointer (non-urgent data) cannot be
 * delivered to the user in the same buffer with preceding urgent data unless
 * the boundary is clearly marked").
 *
 * Sending (RFC 9293 §3.10.2 SEND call): "If the URGENT flag is set, then SND.UP <-
 * SND.NXT and set the urgent pointer in the outgoing segments": SND.UP is the
 * sequence number after the last octet of the urgent send, and every segment
 * that starts before SND.UP carries URG and the offset to it, capped at
 * 65535 (the field's range: a longer stretch of urgent data, MUST-31, is
 * announced 65535 octets at a time), until SND.UNA reaches SND.UP.
 */
#include <string.h>

#include "tcp_private.h"

/* The sequence number of the next octet the user reads (a received FIN takes
 * one sequence number but no place in the ring). */
static uint32_t read_seq(const tcp_pcb *p) {
    return p->rcv_nxt - p->rx_len - ((p->flags & TCPF_FIN_RCVD) ? 1u : 0u);
}

void tcp_urg_input(tcp_pcb *p, const struct tern_tcp_repr *seg) {
    if (!(seg->flags & TERN_TCP_URG)) {
        return;
    }
    /* RFC 9293 §3.10.7.4 sixth: ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2; in the
     * states after a FIN "This should not occur ... Ignore the URG". */
    if (p->state != TERN_TCP_ESTABLISHED && p->state != TERN_TCP_FIN_WAIT_1 &&
        p->state != TERN_TCP_FIN_WAIT_2) {
        return;
    }
    if (p->flags & TCPF_RCV_SHUT) {
        return; /* the user reads nothing more: nothing to tell */
    }
    /* SEG.UP is an offset from SEG.SEQ. It may point beyond this segment's
     * data, or beyond the window: the sender marks urgent data it has not sent
     * yet (the receiver "should be robust to invalid urgent pointer values",
     * §3.8.5); it only ever moves forward. */
    uint32_t up = seg->seq + seg->urgent;
    if (p->urg & TCP_URG_RCV) {
        if (seq_gt(up, p->rcv_up)) {
            p->rcv_up = up;
            p->urg_signals++; /* MUST-32: "whenever the urgent pointer advances" */
        }
    } else if (seq_gt(up, read_seq(p))) {
        p->rcv_up = up;
        p->urg |= TCP_URG_RCV;
        p->urg_signals++; /* MUST-32: "there was previously no pending urgent data" */
    }
}

void tcp_urg_syn_text(tcp_pcb *p, const struct tern_tcp_repr *seg) {
    /* RFC 9293 §3.10.7.2 / §3.10.7.3: "other controls or text" of a SYN wait
     * for ESTABLISHED: so does its urgent pointer (RCV.UP, not yet in force). */
    if (seg->flags & TERN_TCP_URG) {
        p->rcv_up = seg->seq + seg->urgent;
        p->urg |= TCP_URG_SYN;
    }
}

void tcp_urg_established(tcp_pcb *p) {
    if (!(p->urg & TCP_URG_SYN)) {
        return;
    }
    p->urg &= (uint8_t)~TCP_URG_SYN;
    if (!(p->flags & TCPF_RCV_SHUT) && seq_gt(p->rcv_up, read_seq(p))) {
        p->urg |= TCP_URG_RCV;
        p->urg_signals++; /* MUST-32 */
    }
}

void tcp_urg_consumed(tcp_pcb *p) {
    if ((p->urg & TCP_URG_RCV) && ((p->flags & TCPF_RCV_SHUT) || seq_geq(read_seq(p), p->rcv_up))) {
        p->urg &= (uint8_t)~TCP_URG_RCV; /* back to "normal mode" */
    }
}

uint32_t tcp_urg_read_limit(const tcp_pcb *p, uint32_t max) {
    if (!(p->urg & TCP_URG_RCV)) {
        return max;
    }
    uint32_t left = p->rcv_up - read_seq(p); /* > 0 in urgent mode */
    return left < max ? left : max;
}

void tcp_urg_iss_chosen(tcp_pcb *p) {
    if (p->urg & TCP_URG_SND_OFF) {
        p->urg &= (uint8_t)~TCP_URG_SND_OFF;
        p->snd_up += p->snd_buf_seq;
    }
}

void tcp_urg_output(tcp_pcb *p, struct tern_tcp_repr *r) {
    if (!(p->urg & TCP_URG_SND) || (p->urg & TCP_URG_SND_OFF)) {
        return;
    }
    if (seq_geq(p->snd_una, p->snd_up)) {
        p->urg &= (uint8_t)~TCP_URG_SND; /* all urgent data acknowledged */
        return;
    }
    if (!seq_lt(r->seq, p->snd_up) || (r->flags & (TERN_TCP_SYN | TERN_TCP_RST))) {
        return;
    }
    uint32_t off = p->snd_up - r->seq;
    r->flags |= TERN_TCP_URG;
    r->urgent = (uint16_t)(off > 0xffffu ? 0xffffu : off);
}

/* ---- the socket calls (tern/stack.h) ---- */

tern_err tern_tcp_send_urgent(tern_stack *st, tern_sock s, const uint8_t *data, size_t len,
                              size_t *sent) {
    if (sent) {
        *sent = 0;
    }
    if (len == 0) {
        /* RFC 9293 §3.8.5: "To send an urgent indication, the user must also
         * send at least one data octet." */
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "tcp_send_urgent: urgent data needs at least one octet (len is 0)");
    }
    size_t n = 0;
    tern_err e = tern_tcp_send(st, s, data, len, &n);
    if (sent) {
        *sent = n;
    }
    if (e != TERN_OK || n == 0) {
        return e;
    }
    tcp_pcb *p;
    tcp_handle_get(st, s, &p);
    /* RFC 9293 §3.10.2: "If the URGENT flag is set, then SND.UP <- SND.NXT":
     * the octet after the last one of this send, queued just now. Before the
     * ISS is chosen the send buffer has no sequence numbers yet: keep the
     * offset (tcp_urg_iss_chosen). */
    if (p->flags & TCPF_NEED_ISS) {
        p->snd_up = p->tx_len;
        p->urg |= TCP_URG_SND | TCP_URG_SND_OFF;
    } else {
        p->snd_up = p->snd_buf_seq + p->tx_len;
        p->urg = (uint8_t)((p->urg & ~TCP_URG_SND_OFF) | TCP_URG_SND);
    }
    return TERN_OK;
}

tern_err tern_tcp_get_urgent(const tern_stack *st, tern_sock s, tern_tcp_urgent_info *out) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    memset(out, 0, sizeof *out);
    out->pending = (p->urg & TCP_URG_RCV) != 0;
    out->mark = tcp_urg_read_limit(p, UINT32_MAX);
    if (!out->pending) {
        out->mark = 0;
    }
    out->signals = p->urg_signals;
    out->sending =
        (p->urg & TCP_URG_SND) && !(p->urg & TCP_URG_SND_OFF) && seq_lt(p->snd_una, p->snd_up);
    return TERN_OK;
}

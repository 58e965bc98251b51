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

/*
 * The TCP header template of a connection (issue 19), as the BSDs keep one: the header of its
 * steady-state segments (a data segment or an ACK, with RFC 7323 Appendix A's <NOP><NOP>
 * <Timestamps> as its whole option list, or no options at all) prebuilt with the words that do
 * not change between segments (ports, data offset, urgent pointer, the options' kinds and
 * lengths), and the one's complement sum of those words and of the pseudo-header's addresses and
 * protocol (RFC 9293 §3.1). A segment is then a copy of the template, the variable fields stored
 * (sequence and acknowledgment numbers, flags, window, TSval, TSecr) and the checksum finished
 * from the kept sum plus those fields, the segment length and the payload's sum: RFC 1624 §3,
 * "HC' = ~(C + (-m) + m')", with every m zero (the template holds zero in the variable fields).
 *
 * What the template stands for never changes while a connection is synchronized: its addresses
 * and ports are fixed when it opens (tern_tcp_connect takes only a socket that never connected),
 * and whether it uses timestamps is agreed on the SYNs (RFC 7323 §3.2); the option layout is the
 * template's key (hlen), so a template built for one layout is rebuilt for the other. Every build
 * but Release checks each header against tern_tcp_emit's for the same segment (tcp_output.c).
 * Segments of any other shape take tern_tcp_emit: SYNs (MSS, window scale, SACK-permitted), RSTs,
 * urgent data (URG and the pointer), and ACKs with SACK or D-SACK blocks (RFC 2018 §4).
 */
#include <string.h>

#include "tcp_private.h"
#include "wire/bytes.h"
#include "wire/checksum.h"

/* RFC 7323 Appendix A's option list: NOP, NOP, kind 8, length 10, then TSval and TSecr. */
#define TS_LAYOUT_LEN (TERN_TCP_MIN_HDR_LEN + 12)

/* The bytes the template keeps: up to the timestamps' values, which are per segment. */
#define KEPT_LEN (TERN_TCP_MIN_HDR_LEN + 4)

_Static_assert(sizeof(((tcp_hdr_tmpl *)0)->hdr) == KEPT_LEN,
               "the template holds a header up to RFC 7323 Appendix A's TSval");

bool tcp_hdr_tmpl_applies(const tcp_pcb *p, uint8_t flags, uint32_t len) {
    if ((flags & (uint8_t) ~(TERN_TCP_PSH | TERN_TCP_FIN)) != TERN_TCP_ACK) {
        return false; /* SYN (its options), RST, or a segment without ACK */
    }
    if (p->urg & TCP_URG_SND) {
        return false; /* tcp_urg_output may set URG and the urgent pointer (RFC 9293 §3.8.5) */
    }
    if ((p->flags & TCPF_SACK_OK) && (p->ooo_n > 0 || p->dsack_pending)) {
        return false; /* SACK blocks go on this ACK (RFC 2018 §4, RFC 2883 §4) */
    }
    /* tern_tcp_emit refuses a segment above 65535 bytes (TERN_ERR_MSG_TOO_LONG) */
    return len <= TERN_IP_PAYLOAD_MAX - TS_LAYOUT_LEN;
}

/* Build t for p's addresses and ports with hlen bytes of header (20, or 32 with timestamps). */
static void build(const tcp_pcb *p, tcp_hdr_tmpl *t, uint8_t hlen) {
    uint8_t *h = t->hdr;
    memset(h, 0, sizeof t->hdr);
    tern_put_u16(h, p->lport);
    tern_put_u16(h + 2, p->rport);
    h[12] = (uint8_t)((hlen / 4) << 4); /* data offset; Rsrvd zero (RFC 9293 §3.1) */
    if (hlen == TS_LAYOUT_LEN) {
        h[20] = TERN_TCPOPT_NOP;
        h[21] = TERN_TCPOPT_NOP;
        h[22] = TERN_TCPOPT_TIMESTAMPS;
        h[23] = 10;
    }
    /* The pseudo-header without its length (added per segment), and the constant words. */
    t->sum = tern_csum_add(tern_csum_pseudo(&p->laddr, &p->raddr, TERN_IPPROTO_TCP, 0), h,
                           hlen < KEPT_LEN ? hlen : KEPT_LEN);
    t->hlen = hlen;
}

const tcp_hdr_tmpl *tcp_hdr_tmpl_get(tcp_pcb *p) {
    uint8_t hlen = (p->flags & TCPF_TS_OK) ? TS_LAYOUT_LEN : TERN_TCP_MIN_HDR_LEN;
    if (p->hdr_tmpl.hlen != hlen) {
        build(p, &p->hdr_tmpl, hlen);
    }
    return &p->hdr_tmpl;
}

void tcp_hdr_tmpl_emit(const tcp_hdr_tmpl *t, uint8_t *buf, const tcp_hdr_vals *v, uint32_t len,
                       uint32_t payload_sum) {
    memcpy(buf, t->hdr, TERN_TCP_MIN_HDR_LEN); /* the payload is in place behind the header */
    tern_put_u32(buf + 4, v->seq);
    tern_put_u32(buf + 8, v->ack);
    buf[13] = v->flags;
    tern_put_u16(buf + 14, v->window);
    /* RFC 1071 §2 (C): 32-bit words may be added whole and the carries folded in at the end (a
     * 32-bit word's sum is the sum of its two 16-bit halves, modulo the end-around carry). The
     * segment length is the pseudo-header's last word (RFC 9293 §3.1); the flags are the low byte
     * of the word whose high byte is the data offset, which is in t->sum. */
    uint64_t s = (uint64_t)t->sum + (uint32_t)(t->hlen + len) + v->seq + v->ack + v->flags +
                 v->window + payload_sum;
    if (t->hlen == TS_LAYOUT_LEN) {
        memcpy(buf + 20, t->hdr + 20, 4); /* <NOP><NOP><kind 8><length 10> */
        tern_put_u32(buf + 24, v->ts_val);
        tern_put_u32(buf + 28, v->ts_ecr);
        s += (uint64_t)v->ts_val + v->ts_ecr;
    }
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffu) + (s >> 16);
    tern_put_u16(buf + 16, tern_csum_finish((uint32_t)s));
}

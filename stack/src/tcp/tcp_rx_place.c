/*
 * Copy-and-checksum on the receive side (the BSDs' technique, issue 19).
 *
 * The next in-order segment of a connection carrying data is the common case
 * of a bulk transfer. For it the payload's checksum pass and its copy into the
 * receive ring are one pass: the payload is copied into the ring's free space
 * past RCV.NXT while it is summed, and the bytes count as received only when
 * the whole segment's checksum is right and conn_input then accepts the
 * segment (tcp_ooo_receive finds them in place, tcp_rx_placed, and does not
 * copy them again). Free space past RCV.NXT holds nothing anybody may read: the
 * application reads only rx_len bytes from rx_head, and the path is not taken
 * while out-of-order data (which lives in that free space, tcp_ooo.c) or a
 * SYN's text (at the ring's head) is queued. So a corrupted segment leaves no
 * trace: it is dropped and counted (tcp_bad_checksum) exactly as before, before
 * anything in it is believed.
 *
 * With a read posted (tcp_rx_post.c) and nothing in the ring to read first, the
 * payload is copied into the application's buffer instead, past the bytes it
 * holds, and what does not fit there into the ring as above: the same one pass,
 * and the bytes reach the application without the ring -> application copy.
 * The posted buffer past its filled bytes holds nothing the application may
 * believe either (stack.h says so), so a bad checksum leaves no trace there.
 */
#include "tcp_private.h"
#include "wire/checksum.h"

/* Whether seg (parsed, not yet verified) is the next in-order data segment of p: the only case
 * placed in the ring while it is verified. */
static bool placeable(const tcp_pcb *p, const struct tern_tcp_repr *seg) {
    if (p->kind != TCP_SOCKET || seg->payload_len == 0 || seg->seq != p->rcv_nxt) {
        return false;
    }
    /* SYN and RST never carry text into the ring here; URG moves bytes out of band
     * (tcp_urgent.c): those take the ordinary path. */
    if (seg->flags & (TERN_TCP_SYN | TERN_TCP_RST | TERN_TCP_URG)) {
        return false;
    }
    if (p->state != TERN_TCP_ESTABLISHED && p->state != TERN_TCP_FIN_WAIT_1 &&
        p->state != TERN_TCP_FIN_WAIT_2) {
        return false;
    }
    return p->ooo_n == 0 && p->syn_data == 0 && !(p->flags & TCPF_RCV_SHUT) &&
           p->rx_len < p->rx_cap;
}

tern_err tcp_rx_parse(tern_stack *st, const tern_ip_rx *ip, struct tern_tcp_repr *seg,
                      tcp_pcb **pcb, bool *looked_up) {
    tern_tcp_module *t = st->tcp;
    *pcb = NULL;
    *looked_up = false;
    t->rx_placed = NULL;
    const uint8_t *buf = ip->payload;
    size_t len = ip->payload_len;
    /* Without addresses tern_tcp_parse leaves the checksum alone. Anything it refuses, and
     * anything not placeable, takes the ordinary parse, whose checksum comes first. */
    bool v4 = ip->src.family == TERN_AF_INET;
    if ((v4 && len > 65535) || ip->src.family != ip->dst.family ||
        tern_tcp_parse(buf, len, NULL, NULL, seg) != TERN_OK || seg->src_port == 0 ||
        seg->dst_port == 0) {
        return tern_tcp_parse(buf, len, &ip->src, &ip->dst, seg);
    }
    tcp_pcb *p = tcp_lookup(st, &ip->dst, seg->dst_port, &ip->src, seg->src_port);
    *pcb = p;
    *looked_up = true;
    if (!p || !placeable(p, seg)) {
        /* Parsed already (without errors): only the checksum is left to check. */
        uint32_t s = tern_csum_pseudo(&ip->src, &ip->dst, TERN_IPPROTO_TCP, (uint32_t)len);
        return tern_csum_finish(tern_csum_add(s, buf, len)) != 0 ? TERN_ERR_BAD_CHECKSUM : TERN_OK;
    }
    /* The ring's free space starts at rx_head + rx_len (= RCV.NXT) and may wrap. What does not
     * fit (beyond the free space; conn_input cuts it off the same way) is summed only. */
    uint32_t n = (uint32_t)seg->payload_len;
    uint32_t room = p->rx_cap - p->rx_len;
    if (n > room) {
        n = room;
    }
    /* rx_head < rx_cap and rx_len < rx_cap: one compare wraps it (a division per segment was a
     * visible cost of the receive path, issue 19) */
    uint32_t pos = p->rx_head + p->rx_len;
    if (pos >= p->rx_cap) {
        pos -= p->rx_cap;
    }
    /* The first k bytes to the posted buffer (when it may take them, tcp_post_room), the other
     * n - k to the ring. */
    uint32_t k = tcp_post_room(p);
    if (k > n) {
        k = n;
    }
    uint32_t first = p->rx_cap - pos < n - k ? p->rx_cap - pos : n - k;
    uint8_t *ring = tcp_rx_base(st, p);
    const uint8_t *pl = seg->payload;
    /* The header's length is a multiple of 4: the payload starts at an even offset. */
    uint32_t s = tern_csum_pseudo(&ip->src, &ip->dst, TERN_IPPROTO_TCP, (uint32_t)len);
    s = tern_csum_add(s, buf, seg->header_len);
    if (k > 0) {
        s = tern_csum_copy_at(s, p->post_buf + p->post_len, pl, k, 0);
    }
    s = tern_csum_copy_at(s, ring + pos, pl + k, first, k);
    s = tern_csum_copy_at(s, ring, pl + k + first, n - k - first, k + first);
    s = tern_csum_add_at(s, pl + n, seg->payload_len - n, n);
    if (tern_csum_finish(s) != 0) {
        return TERN_ERR_BAD_CHECKSUM; /* the bytes in the free space are not committed */
    }
    t->rx_placed = pl;
    t->rx_placed_pcb = p;
    t->rx_placed_seq = seg->seq;
    t->rx_placed_len = n;
    t->rx_placed_head = p->rx_head;
    t->rx_placed_at = p->rx_len;
    t->rx_placed_post = k;
    t->rx_placed_post_at = p->post_len;
    return TERN_OK;
}

bool tcp_rx_placed(const tern_stack *st, const tcp_pcb *p, uint32_t seq, const uint8_t *data,
                   uint32_t len) {
    const tern_tcp_module *t = st->tcp;
    return t->rx_placed != NULL && t->rx_placed == data && t->rx_placed_pcb == p &&
           t->rx_placed_seq == seq && len <= t->rx_placed_len && p->rx_head == t->rx_placed_head &&
           p->rx_len == t->rx_placed_at && p->post_len == t->rx_placed_post_at;
}

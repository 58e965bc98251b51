/*
 * The send queue's bytes: where the octets from SND.UNA on live, and how they reach a segment.
 *
 * tern_tcp_send copies the application's bytes into the socket's ring; tern_tcp_lend only
 * notes where the application's own buffer is (a lent extent), so that every segment carrying
 * those bytes, retransmissions included, is built straight from it into the outgoing frame
 * (copied and checksummed in one pass). Both kinds mix in one queue, in the order they were
 * queued: the extents sit in a small per-socket ring table, each placed by the stream position
 * of its first byte; the bytes between and around them are the ring's, in order. TCP's sequence
 * logic (windows, SACK, RACK, retransmission) sees only tx_len queued bytes from snd_buf_seq on
 * and never which kind they are. The fixed table (lend_extents entries, from the configuration)
 * needs no heap; a lend when it is full fails with TERN_ERR_NO_BUFFER.
 *
 * Without lent bytes (lend_n == 0) the queue is the ring alone and every path below is the one
 * it was before lending existed: the bytes and timing on the wire do not change.
 */
#include <string.h>

#include "tcp_private.h"
#include "wire/checksum.h"

/* ---- the ring ---- */

/* Copy k ring bytes from ring offset r (bytes past tx_head) to dst, as bytes at offset `at` of the
 * payload, adding their sum to `sum`. */
static uint32_t ring_copy_at(const tern_stack *st, const tcp_pcb *p, uint32_t r, uint8_t *dst,
                             uint32_t k, uint32_t at, uint32_t sum) {
    const uint8_t *base = tcp_tx_base(st, p);
    uint32_t pos = (p->tx_head + r) % p->tx_cap;
    uint32_t first = p->tx_cap - pos < k ? p->tx_cap - pos : k;
    sum = tern_csum_copy_at(sum, dst, base + pos, first, at);
    if (k > first) {
        sum = tern_csum_copy_at(sum, dst + first, base, k - first, at + first);
    }
    return sum;
}

/* The ring alone (no lent bytes queued): the path of every connection that never lends. */
static uint32_t ring_copy(const tern_stack *st, const tcp_pcb *p, uint32_t off, uint8_t *dst,
                          uint32_t len) {
    const uint8_t *base = tcp_tx_base(st, p);
    uint32_t pos = (p->tx_head + off) % p->tx_cap;
    uint32_t first = p->tx_cap - pos < len ? p->tx_cap - pos : len;
    uint32_t sum = tern_csum_copy(dst, base + pos, first);
    if (len > first) {
        /* The wrapped part starts at offset `first`: an odd one swaps its sum (RFC 1071 2(B)). */
        uint32_t rest = tern_csum_copy(dst + first, base, len - first);
        if (first & 1) {
            rest = ((rest & 0xff) << 8) | (rest >> 8);
        }
        sum = tern_csum_add_u16(sum, (uint16_t)rest);
    }
    return sum;
}

static const tcp_lent *extent(const tern_stack *st, const tcp_pcb *p, uint32_t i) {
    return &tcp_lend_table(st, p)[(p->lend_head + i) % st->tcp->lend_cap];
}

uint32_t tcp_sendq_copy(const tern_stack *st, const tcp_pcb *p, uint32_t off, uint8_t *dst,
                        uint32_t len) {
    if (p->lend_n == 0) {
        return ring_copy(st, p, off, dst, len);
    }
    /* Skip the extents that end at or before off, counting their bytes: the ring offset of a
     * ring byte is its queue offset less the lent bytes queued before it. */
    uint32_t i = 0, lent_before = 0;
    while (i < p->lend_n) {
        const tcp_lent *e = extent(st, p, i);
        if (e->pos - p->tx_pos + e->len > off) {
            break;
        }
        lent_before += e->len;
        i++;
    }
    uint32_t sum = 0, done = 0;
    while (done < len) {
        uint32_t cur = off + done, k = len - done;
        if (i < p->lend_n) {
            const tcp_lent *e = extent(st, p, i);
            uint32_t eo = e->pos - p->tx_pos; /* the extent's queue offset */
            if (cur >= eo) {
                /* Inside the extent: straight from the application's buffer into the frame. */
                uint32_t in = cur - eo;
                if (k > e->len - in) {
                    k = e->len - in;
                }
                sum = tern_csum_copy_at(sum, dst + done, e->data + in, k, done);
                done += k;
                if (in + k == e->len) {
                    lent_before += e->len;
                    i++;
                }
                continue;
            }
            if (k > eo - cur) {
                k = eo - cur; /* ring bytes up to the extent */
            }
        }
        sum = ring_copy_at(st, p, cur - lent_before, dst + done, k, done, sum);
        done += k;
    }
    return sum;
}

void tcp_sendq_append(tern_stack *st, tcp_pcb *p, const uint8_t *data, uint32_t n) {
    uint8_t *base = tcp_tx_base(st, p);
    uint32_t pos = (p->tx_head + (p->tx_len - p->tx_lent_len)) % p->tx_cap;
    uint32_t first = p->tx_cap - pos < n ? p->tx_cap - pos : n;
    memcpy(base + pos, data, first);
    if (n > first) {
        memcpy(base, data + first, n - first);
    }
    p->tx_len += n;
}

void tcp_sendq_acked(tern_stack *st, tcp_pcb *p, uint32_t n) {
    uint32_t ring = n; /* ring bytes among the n */
    if (p->lend_n > 0) {
        tcp_lent *tab = tcp_lend_table(st, p);
        uint32_t cap = st->tcp->lend_cap, pos = p->tx_pos, left = n;
        ring = 0;
        while (left > 0 && p->lend_n > 0) {
            tcp_lent *e = &tab[p->lend_head];
            uint32_t eo = e->pos - pos;
            if (eo > 0) { /* ring bytes before the extent */
                uint32_t k = eo < left ? eo : left;
                ring += k;
                pos += k;
                left -= k;
                continue;
            }
            uint32_t k = e->len < left ? e->len : left;
            e->data += k;
            e->pos += k;
            e->len -= k;
            p->tx_lent_len -= k;
            pos += k;
            left -= k;
            if (e->len == 0) { /* the whole buffer is acknowledged: done */
                p->lend_head = (p->lend_head + 1) % cap;
                p->lend_n--;
            }
        }
        ring += left; /* after the last extent: the ring's */
    }
    p->tx_head = (p->tx_head + ring) % p->tx_cap;
    p->tx_len -= n;
    p->tx_pos += n;
}

void tcp_sendq_release_lent(tcp_pcb *p) {
    /* The lent bytes leave the queue; what remains is the ring's bytes, which nothing sends any
     * more either (the connection is over). */
    p->tx_len -= p->tx_lent_len;
    p->tx_lent_len = 0;
    p->lend_n = 0;
}

/* ---- the user calls ---- */

static tern_err tcp_send_allowed(tern_stack *st, const tcp_pcb *p, const char *who) {
    switch (p->state) {
    case TERN_TCP_SYN_SENT:
    case TERN_TCP_SYN_RECEIVED:
    case TERN_TCP_ESTABLISHED:
    case TERN_TCP_CLOSE_WAIT:
        break; /* RFC 9293 §3.10.2: queued until ESTABLISHED in the first two */
    case TERN_TCP_CLOSED:
        if (p->err) {
            return (tern_err)p->err;
        }
        return TERN_ERR_NOT_CONNECTED;
    case TERN_TCP_LISTEN:
        return TERN_ERR_NOT_CONNECTED;
    default:
        return tern_fail(st, TERN_ERR_BAD_STATE, "%s: connection closing", who);
    }
    if (p->flags & TCPF_FIN_QUEUED) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "%s: sending was shut down", who);
    }
    return TERN_OK;
}

tern_err tcp_send_room(tern_stack *st, const tcp_pcb *p, const char *who, size_t len, uint32_t *n) {
    *n = 0;
    tern_err e = tcp_send_allowed(st, p, who);
    if (e) {
        return e;
    }
    uint32_t room = p->tx_cap - p->tx_len;
    if (room == 0) {
        return TERN_ERR_WOULD_BLOCK;
    }
    *n = len < room ? (uint32_t)len : room;
    return TERN_OK;
}

tern_err tern_tcp_lend(tern_stack *st, tern_sock s, const uint8_t *data, size_t len, size_t *lent) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (lent) {
        *lent = 0;
    }
    if (e) {
        return e;
    }
    if (!data && len > 0) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "tcp_lend: data is NULL with len %zu", len);
    }
    if (st->tcp->lend_cap == 0) {
        return tern_fail(st, TERN_ERR_NO_BUFFER,
                         "tcp_lend: lending is off (tcp.lend_extents = TERN_POOL_NONE: no table of "
                         "lent extents)");
    }
    uint32_t n;
    e = tcp_send_room(st, p, "tcp_lend", len, &n);
    if (e || n == 0) {
        return e;
    }
    uint32_t tail = p->tx_pos + p->tx_len; /* the stream position the bytes take */
    tcp_lent *tab = tcp_lend_table(st, p);
    uint32_t cap = st->tcp->lend_cap;
    tcp_lent *last = p->lend_n ? &tab[(p->lend_head + p->lend_n - 1) % cap] : NULL;
    if (last && last->pos + last->len == tail && last->data + last->len == data) {
        last->len += n; /* continues the previous lent buffer: one extent */
    } else {
        if (p->lend_n == cap) {
            return tern_fail(st, TERN_ERR_NO_BUFFER,
                             "tcp_lend: all %u lent extents of the socket hold unacknowledged "
                             "buffers (tcp.lend_extents); wait for tern_tcp_lend_done",
                             cap);
        }
        tcp_lent *x = &tab[(p->lend_head + p->lend_n) % cap];
        x->data = data;
        x->pos = tail;
        x->len = n;
        p->lend_n++;
    }
    p->tx_len += n;
    p->tx_lent_len += n;
    p->lend_total += n;
    if (lent) {
        *lent = n;
    }
    tcp_mark_dirty(st, p);
    return TERN_OK;
}

tern_err tern_tcp_lend_done(const tern_stack *st, tern_sock s, uint64_t *done) {
    tcp_pcb *p;
    if (!done) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    *done = p->lend_total - p->tx_lent_len;
    return TERN_OK;
}

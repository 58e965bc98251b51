/*
 * Queued packets: datagrams waiting in a socket or for ARP resolution, kept
 * as chains of fixed 2 KiB chunks from one pool per instance, so a 64 KiB
 * datagram and a 60-byte one draw on the same memory without fragmentation
 * of the pool.
 */
#include <string.h>

#include "stack_internal.h"

void tern_pktq_init(tern_pktq *q, uint32_t limit) {
    q->head = q->tail = TERN_NO_CHUNK;
    q->count = 0;
    q->limit = limit;
}

static void free_chain(tern_stack *st, uint32_t c) {
    while (c != TERN_NO_CHUNK) {
        uint32_t next = st->chunks[c].next;
        st->chunks[c].next = st->free_chunk;
        st->free_chunk = c;
        c = next;
    }
}

/* Allocate a chain for len bytes, all or nothing. */
static uint32_t alloc_chain(tern_stack *st, size_t len) {
    uint32_t head = TERN_NO_CHUNK, tail = TERN_NO_CHUNK;
    size_t need = len ? (len + TERN_CHUNK_DATA - 1) / TERN_CHUNK_DATA : 1;
    for (size_t i = 0; i < need; i++) {
        uint32_t c = st->free_chunk;
        if (c == TERN_NO_CHUNK) {
            free_chain(st, head);
            return TERN_NO_CHUNK;
        }
        st->free_chunk = st->chunks[c].next;
        st->chunks[c].next = TERN_NO_CHUNK;
        st->chunks[c].len = 0;
        if (tail == TERN_NO_CHUNK) {
            head = c;
        } else {
            st->chunks[tail].next = c;
        }
        tail = c;
    }
    return head;
}

static void copy_in(tern_stack *st, uint32_t c, const uint8_t *a, size_t alen, const uint8_t *b,
                    size_t blen) {
    const uint8_t *src = a;
    size_t left = alen;
    bool second = false;
    while (c != TERN_NO_CHUNK) {
        tern_chunk *ch = &st->chunks[c];
        while (ch->len < TERN_CHUNK_DATA) {
            if (left == 0) {
                if (second || blen == 0) {
                    return;
                }
                second = true;
                src = b;
                left = blen;
                continue;
            }
            size_t n = TERN_CHUNK_DATA - ch->len < left ? TERN_CHUNK_DATA - ch->len : left;
            memcpy(ch->data + ch->len, src, n);
            ch->len += (uint32_t)n;
            src += n;
            left -= n;
        }
        c = ch->next;
    }
}

tern_err tern_pktq_push(tern_stack *st, tern_pktq *q, const tern_pkt_meta *meta, const uint8_t *a,
                        size_t alen, const uint8_t *b, size_t blen) {
    if (q->count >= q->limit) {
        return TERN_ERR_WOULD_BLOCK;
    }
    uint32_t p = st->free_pkt;
    if (p == TERN_NO_CHUNK) {
        st->c.no_buffer++;
        return TERN_ERR_NO_BUFFER;
    }
    uint32_t c = alloc_chain(st, alen + blen);
    if (c == TERN_NO_CHUNK) {
        st->c.no_buffer++;
        return TERN_ERR_NO_BUFFER;
    }
    st->free_pkt = st->pkts[p].next;
    copy_in(st, c, a, alen, b, blen);
    tern_pkt *pk = &st->pkts[p];
    pk->meta = *meta;
    pk->meta.len = (uint32_t)(alen + blen);
    pk->chunk = c;
    pk->next = TERN_NO_CHUNK;
    if (q->tail == TERN_NO_CHUNK) {
        q->head = p;
    } else {
        st->pkts[q->tail].next = p;
    }
    q->tail = p;
    q->count++;
    return TERN_OK;
}

const tern_pkt_meta *tern_pktq_peek(const tern_stack *st, const tern_pktq *q) {
    return q->head == TERN_NO_CHUNK ? NULL : &st->pkts[q->head].meta;
}

void tern_pktq_drop(tern_stack *st, tern_pktq *q) {
    uint32_t p = q->head;
    if (p == TERN_NO_CHUNK) {
        return;
    }
    q->head = st->pkts[p].next;
    if (q->head == TERN_NO_CHUNK) {
        q->tail = TERN_NO_CHUNK;
    }
    q->count--;
    free_chain(st, st->pkts[p].chunk);
    st->pkts[p].next = st->free_pkt;
    st->free_pkt = p;
}

size_t tern_pktq_pop(tern_stack *st, tern_pktq *q, uint8_t *buf, size_t cap) {
    uint32_t p = q->head;
    if (p == TERN_NO_CHUNK) {
        return 0;
    }
    size_t n = 0;
    for (uint32_t c = st->pkts[p].chunk; c != TERN_NO_CHUNK && n < cap; c = st->chunks[c].next) {
        size_t k = st->chunks[c].len < cap - n ? st->chunks[c].len : cap - n;
        memcpy(buf + n, st->chunks[c].data, k);
        n += k;
    }
    tern_pktq_drop(st, q);
    return n;
}

void tern_pktq_rotate(tern_stack *st, tern_pktq *q) {
    uint32_t p = q->head;
    if (p == TERN_NO_CHUNK || p == q->tail) {
        return;
    }
    q->head = st->pkts[p].next;
    st->pkts[p].next = TERN_NO_CHUNK;
    st->pkts[q->tail].next = p;
    q->tail = p;
}

void tern_pktq_clear(tern_stack *st, tern_pktq *q) {
    while (q->head != TERN_NO_CHUNK) {
        tern_pktq_drop(st, q);
    }
}

const uint8_t *tern_pktq_peek_bytes(const tern_stack *st, const tern_pktq *q, size_t *len) {
    if (q->head == TERN_NO_CHUNK) {
        *len = 0;
        return NULL;
    }
    const tern_chunk *c = &st->chunks[st->pkts[q->head].chunk];
    *len = c->len;
    return c->data;
}

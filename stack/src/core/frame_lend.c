/*
 * Frame-buffer lending (tern_frame_alloc_fn in tern/stack.h, docs/frame-lending.md):
 * a frame built in a buffer the environment lent leaves by handing the
 * buffer back, instead of being copied out of the stack's transmit buffer.
 * The stack holds at most one lent buffer (st->lent) and gives it back
 * exactly once: frame_output with a frame, or frame_release without.
 */
#include <stdint.h>

#include "stack_internal.h"

uint8_t *tern_ip_tx_payload(tern_stack *st) {
    st->txp = st->tx + TERN_TX_HEADROOM;
    return st->txp;
}

static void release(tern_stack *st) {
    uint8_t *buf = st->lent;
    st->lent = NULL;
    st->lent_cap = 0;
    st->cfg.frame_release(st->cfg.frame_ctx, buf);
}

uint8_t *tern_ip_tx_frame(tern_stack *st, size_t n) {
    if (st->cfg.frame_alloc == NULL || n > TERN_IP_PAYLOAD_MAX) {
        return tern_ip_tx_payload(st);
    }
    /* Headers in front; behind, the frame's end or the zeros tern_eth_output pads a short frame
     * with up to 60 bytes from its start (the frame starts at or after the buffer's). */
    size_t cap = TERN_TX_HEADROOM + (n < 60 ? 60 : n);
    if (st->lent != NULL && st->lent_cap < cap) {
        release(st); /* kept from a build that failed, and too small for this one */
    }
    if (st->lent == NULL) {
        uint8_t *buf = st->cfg.frame_alloc(st->cfg.frame_ctx, cap);
        if (buf == NULL) {
            return tern_ip_tx_payload(st); /* none to lend: our own buffer, copied on output */
        }
        st->lent = buf;
        st->lent_cap = cap;
    }
    st->txp = st->lent + TERN_TX_HEADROOM;
    return st->txp;
}

bool tern_frame_lent_output(tern_stack *st, uint32_t iface, uint8_t *frame, size_t len) {
    uint8_t *buf = st->lent;
    if (buf == NULL) {
        return false;
    }
    /* Compared as integers: the frame may lie in another object altogether (tx, tx2). */
    uintptr_t b = (uintptr_t)buf, f = (uintptr_t)frame;
    if (f < b || f - b > st->lent_cap || len > st->lent_cap - (f - b)) {
        return false;
    }
    st->lent = NULL;
    st->lent_cap = 0;
    st->txp = st->tx + TERN_TX_HEADROOM; /* never write into a buffer handed back */
    st->cfg.frame_output(st->cfg.frame_ctx, iface, buf, (size_t)(f - b), len);
    return true;
}

void tern_frame_lent_done(tern_stack *st) {
    if (st->lent != NULL) {
        release(st); /* held for resolution, looped back, fragmented from, or refused */
    }
    st->txp = st->tx + TERN_TX_HEADROOM;
}

void tern_stack_release_frame(tern_stack *st) {
    if (st->lent != NULL) {
        release(st);
    }
}

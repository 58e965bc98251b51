/*
 * IPv4 reassembly (RFC 791 §3.2 "reassembly", RFC 1122 §3.3.2).
 *
 * A fixed number of slots, each with a buffer of reasm_max_bytes and a
 * bitmap of the bytes received. Policy, chosen to be safe:
 *   - fragments are keyed by (source, destination, protocol, identification);
 *   - overlapping fragments are accepted when the overlapping bytes agree
 *     (a retransmitted or re-fragmented piece); when they disagree the whole
 *     datagram is discarded, since no choice of bytes is right (the reasoning
 *     of RFC 5722 for IPv6, applied to IPv4);
 *   - a datagram longer than reasm_max_bytes, a non-last fragment whose length
 *     is not a multiple of 8, or a second, different "last" fragment discards
 *     the datagram;
 *   - when every slot is busy, new datagrams are dropped (counted) and the
 *     ones in progress keep their slots until they complete or time out;
 *   - reasm_timeout_ns after its first fragment arrived, an incomplete
 *     datagram is dropped, with an ICMP time exceeded (code 1) if its first
 *     fragment had arrived (RFC 792, RFC 1122 §3.3.2).
 */
#include <string.h>

#include "ipv4.h"
#include "core/stack_internal.h"
#include "wire/icmpv4.h"

struct tern_reasm_slot {
    bool used;
    tern_addr src, dst;
    uint16_t id;
    uint8_t protocol;
    uint32_t iface;
    uint64_t deadline;
    uint32_t total;    /* datagram payload length, once the last fragment came; 0 before */
    uint32_t received; /* distinct payload bytes received */
    uint32_t max_end;  /* highest fragment end seen */
    bool have_first;
    struct tern_ipv4_repr first; /* header fields of the first fragment */
    uint8_t first_hdr[TERN_IPV4_MAX_HDR_LEN];
    uint8_t *data;   /* reasm_max_bytes */
    uint8_t *bitmap; /* one bit per byte */
};

static size_t bitmap_bytes(const tern_stack_config *cfg) {
    return ((size_t)cfg->reasm_max_bytes + 7) / 8;
}

size_t tern_reasm_memory_size(const tern_stack_config *cfg) {
    size_t per = (size_t)cfg->reasm_max_bytes + bitmap_bytes(cfg);
    return (size_t)cfg->reasm_slots * (sizeof(tern_reasm_slot) + per) + 16;
}

void tern_reasm_init(tern_stack *st, uint8_t *mem) {
    st->reasm = (tern_reasm_slot *)mem;
    uint8_t *p = mem + (size_t)st->cfg.reasm_slots * sizeof(tern_reasm_slot);
    for (uint32_t i = 0; i < st->cfg.reasm_slots; i++) {
        st->reasm[i].data = p;
        p += st->cfg.reasm_max_bytes;
        st->reasm[i].bitmap = p;
        p += bitmap_bytes(&st->cfg);
    }
}

static bool bit(const uint8_t *bm, uint32_t i) {
    return (bm[i / 8] >> (i % 8)) & 1;
}

static void discard(tern_stack *st, tern_reasm_slot *s) {
    if (s->used) {
        st->reasm_used--;
    }
    s->used = false;
}

void tern_reasm_release(tern_stack *st, uint32_t slot) {
    discard(st, &st->reasm[slot]);
}

static tern_reasm_slot *find_or_claim(tern_stack *st, uint64_t now, const struct tern_ipv4_repr *f,
                                      uint32_t iface) {
    tern_reasm_slot *free_slot = NULL;
    for (uint32_t i = 0; i < st->cfg.reasm_slots; i++) {
        tern_reasm_slot *s = &st->reasm[i];
        if (!s->used) {
            free_slot = free_slot ? free_slot : s;
            continue;
        }
        if (s->id == f->id && s->protocol == f->protocol && tern_addr_eq(&s->src, &f->src) &&
            tern_addr_eq(&s->dst, &f->dst)) {
            return s;
        }
    }
    if (!free_slot) {
        return NULL;
    }
    tern_reasm_slot *s = free_slot;
    s->used = true;
    st->reasm_used++;
    s->src = f->src;
    s->dst = f->dst;
    s->id = f->id;
    s->protocol = f->protocol;
    s->iface = iface;
    s->deadline = now + st->cfg.reasm_timeout_ns;
    s->total = 0;
    s->received = 0;
    s->max_end = 0;
    s->have_first = false;
    memset(s->bitmap, 0, bitmap_bytes(&st->cfg));
    return s;
}

bool tern_reasm_input(tern_stack *st, uint64_t now, const struct tern_ipv4_repr *f,
                      const uint8_t *frag_hdr, uint32_t iface, struct tern_ipv4_repr *whole,
                      const uint8_t **hdr, uint32_t *slot_out) {
    tern_reasm_slot *s = find_or_claim(st, now, f, iface);
    if (!s) {
        st->c.ip_reasm_dropped++; /* every slot busy */
        return false;
    }
    uint32_t off = f->frag_offset, len = (uint32_t)f->payload_len, end = off + len;
    bool bad = end > st->cfg.reasm_max_bytes || (f->mf && (len % 8 != 0 || len == 0));
    if (!f->mf) {
        /* The last fragment fixes the length: a different last fragment, or
         * bytes already received beyond it, contradict it. */
        if ((s->total && s->total != end) || s->max_end > end) {
            bad = true;
        }
    } else if (s->total && end > s->total) {
        bad = true;
    }
    /* Overlaps must agree byte for byte. */
    for (uint32_t i = 0; !bad && i < len; i++) {
        if (bit(s->bitmap, off + i) && s->data[off + i] != f->payload[i]) {
            bad = true;
        }
    }
    if (bad) {
        st->c.ip_reasm_dropped++;
        discard(st, s);
        return false;
    }
    for (uint32_t i = 0; i < len; i++) {
        uint32_t b = off + i;
        if (!bit(s->bitmap, b)) {
            s->bitmap[b / 8] |= (uint8_t)(1u << (b % 8));
            s->data[b] = f->payload[i];
            s->received++;
        }
    }
    if (!f->mf) {
        s->total = end;
    }
    if (end > s->max_end) {
        s->max_end = end;
    }
    if (off == 0) {
        s->have_first = true;
        s->first = *f;
        memcpy(s->first_hdr, frag_hdr, f->header_len);
    }
    if (!s->total || s->received != s->total || !s->have_first) {
        return false;
    }
    *whole = s->first;
    whole->mf = false;
    whole->frag_offset = 0;
    whole->payload = s->data;
    whole->payload_len = s->total;
    whole->total_len =
        (uint16_t)(s->first.header_len + s->total > 65535 ? 65535 : s->first.header_len + s->total);
    whole->options = s->first.options_len ? s->first_hdr + TERN_IPV4_OPTIONS_OFFSET : NULL;
    *hdr = s->first_hdr;
    *slot_out = (uint32_t)(s - st->reasm);
    return true;
}

void tern_reasm_poll(tern_stack *st, uint64_t now) {
    if (st->reasm_used == 0) {
        return; /* no slot to time out: spare the scan of cold slots */
    }
    for (uint32_t i = 0; i < st->cfg.reasm_slots; i++) {
        tern_reasm_slot *s = &st->reasm[i];
        if (!s->used || s->deadline > now) {
            continue;
        }
        st->c.ip_reasm_timeout++;
        if (s->have_first) {
            /* Quote the first fragment: its header and the data we hold from offset 0. */
            struct tern_ipv4_repr q = s->first;
            q.payload = s->data;
            uint32_t have = 0;
            while (have < st->cfg.reasm_max_bytes && bit(s->bitmap, have)) {
                have++;
            }
            q.payload_len = have;
            q.frag_offset = 0;
            tern_icmp_send_error(st, now, TERN_ICMPV4_TIME_EXCEEDED,
                                 TERN_ICMPV4_EXCEEDED_REASSEMBLY, 0, &q, s->first_hdr, false);
        }
        discard(st, s);
    }
}

uint64_t tern_reasm_poll_at(const tern_stack *st) {
    uint64_t t = TERN_NEVER;
    if (st->reasm_used == 0) {
        return t;
    }
    for (uint32_t i = 0; i < st->cfg.reasm_slots; i++) {
        const tern_reasm_slot *s = &st->reasm[i];
        if (s->used && s->deadline < t) {
            t = s->deadline;
        }
    }
    return t;
}

uint32_t tern_reasm_used_scan(const tern_stack *st) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < st->cfg.reasm_slots; i++) {
        n += st->reasm[i].used;
    }
    return n;
}

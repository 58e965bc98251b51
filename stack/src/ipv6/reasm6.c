/*
 * IPv6 reassembly (RFC 8200 section 4.5, RFC 5722, RFC 7112).
 *
 * A fixed number of slots (reasm_slots), each with room for the
 * unfragmentable part of the first fragment and reasm_max_bytes of
 * fragmentable part, and a list of the byte ranges received. Rules:
 *   - fragments belong together by source, destination and identification;
 *   - an overlap drops the whole datagram, and the slot stays "poisoned" until
 *     the timeout so that its fragments still to come are dropped too (RFC
 *     8200 appendix B, summing up RFC 5722: "the entire datagram (and any
 *     constituent fragments) must be silently discarded"); an exact duplicate
 *     is dropped alone (RFC 8200 section 4.5 allows it);
 *   - the unfragmentable part and the Next Header come from the offset-zero
 *     fragment;
 *   - 60 seconds after the first-arriving fragment, an incomplete datagram is
 *     dropped, with Time Exceeded code 1 if the offset-zero fragment came;
 *   - no free slot: the new fragment is dropped (counted); datagrams in
 *     progress keep their slots.
 */
#include <string.h>

#include "ipv6_state.h"
#include "wire/bytes.h"

#define UNFRAG_MAX 512 /* fixed header + extension headers before the Fragment header */
#define MAX_RANGES 64  /* distinct fragments of one datagram */

struct tern_reasm6_slot {
    bool used;
    bool poisoned; /* an overlap was seen: drop everything until the deadline */
    tern_addr src, dst;
    uint32_t ident;
    uint32_t iface;
    uint64_t deadline;
    bool have_first, have_last;
    uint32_t total;    /* fragmentable part length, once the last fragment came */
    uint32_t received; /* bytes received (ranges never overlap) */
    size_t unfrag_len; /* of the first fragment */
    size_t nh_field;   /* where its Next Header field naming the Fragment header is */
    uint8_t next_header;
    uint8_t first_frag_hdr[TERN_IPV6_FRAG_HDR_LEN];
    uint32_t first_len; /* data bytes of the first fragment (for the Time Exceeded quote) */
    uint32_t nranges;
    uint32_t start[MAX_RANGES], end[MAX_RANGES];
    uint8_t *buf; /* UNFRAG_MAX + reasm_max_bytes */
};

size_t tern_reasm6_memory_size(const tern_stack_config *cfg) {
    return (size_t)cfg->reasm_slots *
               (sizeof(tern_reasm6_slot) + UNFRAG_MAX + cfg->reasm_max_bytes) +
           16;
}

void tern_reasm6_init(tern_stack *st, uint8_t *mem) {
    st->ip6->reasm = (tern_reasm6_slot *)mem;
    uint8_t *p = mem + (size_t)st->cfg.reasm_slots * sizeof(tern_reasm6_slot);
    for (uint32_t i = 0; i < st->cfg.reasm_slots; i++) {
        st->ip6->reasm[i].buf = p;
        p += UNFRAG_MAX + st->cfg.reasm_max_bytes;
    }
}

void tern_reasm6_release(tern_stack *st, uint32_t slot) {
    tern_reasm6_slot *s = &st->ip6->reasm[slot];
    if (s->used) {
        st->reasm6_used--;
    }
    uint8_t *buf = s->buf;
    memset(s, 0, sizeof *s);
    s->buf = buf;
}

static void drop(tern_stack *st, uint32_t slot) {
    st->c.ip6_reasm_dropped++;
    tern_reasm6_release(st, slot);
}

bool tern_reasm6_input(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *pkt, size_t len,
                       size_t frag_off, size_t nh_field, const uint8_t **whole, size_t *whole_len,
                       uint32_t *slot_out) {
    struct tern_ipv6_frag_repr fr;
    tern_ipv6_frag_parse(pkt + frag_off, len - frag_off, &fr);
    tern_addr src = tern_addr_v6_from_bytes(pkt + 8), dst = tern_addr_v6_from_bytes(pkt + 24);
    tern_reasm6_slot *s = NULL;
    uint32_t idx = 0, free_idx = UINT32_MAX;
    for (uint32_t i = 0; i < st->cfg.reasm_slots; i++) {
        tern_reasm6_slot *x = &st->ip6->reasm[i];
        if (x->used && x->ident == fr.ident && tern_addr_eq(&x->src, &src) &&
            tern_addr_eq(&x->dst, &dst)) {
            s = x;
            idx = i;
            break;
        }
        if (!x->used && free_idx == UINT32_MAX) {
            free_idx = i;
        }
    }
    if (!s) {
        if (free_idx == UINT32_MAX) {
            st->c.ip6_reasm_dropped++;
            return false;
        }
        idx = free_idx;
        s = &st->ip6->reasm[idx];
        s->used = true;
        st->reasm6_used++;
        s->src = src;
        s->dst = dst;
        s->ident = fr.ident;
        s->iface = iface;
        /* RFC 8200 section 4.5: "within 60 seconds of the reception of the first-arriving
         * fragment of that packet" */
        s->deadline = now + TERN_IPV6_REASM_TIMEOUT_NS;
    }
    if (s->poisoned) {
        return false; /* a constituent fragment of a discarded datagram (RFC 5722) */
    }
    size_t data_off = frag_off + TERN_IPV6_FRAG_HDR_LEN;
    uint32_t start = fr.frag_offset;
    uint32_t dlen = (uint32_t)(len - data_off);
    uint32_t end = start + dlen;
    if (end > st->cfg.reasm_max_bytes) {
        drop(st, idx);
        return false;
    }
    if (!fr.more) {
        if ((s->have_last && s->total != end)) {
            drop(st, idx);
            return false;
        }
        for (uint32_t r = 0; r < s->nranges; r++) {
            if (s->end[r] > end) {
                drop(st, idx); /* data beyond the end */
                return false;
            }
        }
    } else if (s->have_last && end > s->total) {
        drop(st, idx);
        return false;
    }
    for (uint32_t r = 0; r < s->nranges; r++) {
        if (s->start[r] == start && s->end[r] == end) {
            return false; /* an exact duplicate: dropped alone */
        }
        if (start < s->end[r] && s->start[r] < end) {
            /* RFC 8200 section 4.5: "If any of the fragments being reassembled overlap with any
             * other fragments being reassembled for the same packet, reassembly of that packet
             * must be abandoned and all the fragments that have been received for that packet
             * must be discarded, and no ICMP error messages should be sent." */
            st->c.ip6_reasm_overlap++;
            s->poisoned = true;
            return false;
        }
    }
    if (dlen == 0 && fr.more) {
        return false; /* nothing to keep */
    }
    if (s->nranges >= MAX_RANGES) {
        drop(st, idx);
        return false;
    }
    if (start == 0) {
        if (frag_off > UNFRAG_MAX) {
            drop(st, idx);
            return false;
        }
        s->have_first = true;
        s->unfrag_len = frag_off;
        s->nh_field = nh_field;
        /* RFC 8200 section 4.5: "Only the value from the Offset zero fragment packet is used for
         * reassembly." */
        s->next_header = fr.next_header;
        memcpy(s->buf + UNFRAG_MAX - frag_off, pkt, frag_off);
        memcpy(s->first_frag_hdr, pkt + frag_off, TERN_IPV6_FRAG_HDR_LEN);
        s->first_len = dlen;
    }
    if (!fr.more) {
        s->have_last = true;
        s->total = end;
    }
    s->start[s->nranges] = start;
    s->end[s->nranges] = end;
    s->nranges++;
    memcpy(s->buf + UNFRAG_MAX + start, pkt + data_off, dlen);
    s->received += dlen;
    if (!(s->have_first && s->have_last && s->received == s->total)) {
        return false;
    }
    /* Whole: the first fragment's unfragmentable part with its Next Header set to the Fragment
     * header's, and the Payload Length of the whole (section 4.5 "Reassembly"). */
    uint8_t *out = s->buf + UNFRAG_MAX - s->unfrag_len;
    out[s->nh_field] = s->next_header;
    size_t plen = s->unfrag_len - TERN_IPV6_HDR_LEN + s->total;
    tern_put_u16(out + 4, (uint16_t)plen);
    *whole = out;
    *whole_len = s->unfrag_len + s->total;
    *slot_out = idx;
    return true;
}

void tern_reasm6_poll(tern_stack *st, uint64_t now) {
    if (st->reasm6_used == 0) {
        return; /* no slot to time out: spare the scan of cold slots */
    }
    for (uint32_t i = 0; i < st->cfg.reasm_slots; i++) {
        tern_reasm6_slot *s = &st->ip6->reasm[i];
        if (!s->used || s->deadline > now) {
            continue;
        }
        if (!s->poisoned) {
            st->c.ip6_reasm_timeout++;
        }
        if (s->have_first && !s->poisoned) {
            /* RFC 8200 section 4.5: "If the first fragment (i.e., the one with a Fragment Offset of
             * zero) has been received, an ICMP Time Exceeded -- Fragment Reassembly Time Exceeded
             * message should be sent to the source of that fragment." Quoting that fragment as it
             * came: rebuilt from the slot. */
            uint8_t *q = st->loop_rx;
            size_t n = s->unfrag_len;
            memcpy(q, s->buf + UNFRAG_MAX - n, n);
            q[s->nh_field] = TERN_IPPROTO_FRAGMENT;
            memcpy(q + n, s->first_frag_hdr, TERN_IPV6_FRAG_HDR_LEN);
            size_t data = s->first_len;
            if (data > TERN_ICMPV6_ERROR_MAX) {
                data = TERN_ICMPV6_ERROR_MAX; /* the quote is cut at 1232 bytes anyway */
            }
            memcpy(q + n + TERN_IPV6_FRAG_HDR_LEN, s->buf + UNFRAG_MAX, data);
            size_t plen = n - TERN_IPV6_HDR_LEN + TERN_IPV6_FRAG_HDR_LEN + s->first_len;
            tern_put_u16(q + 4, (uint16_t)plen);
            st->ip6->rx_iface = s->iface;
            tern_icmpv6_send_error(st, now, TERN_ICMPV6_TIME_EXCEEDED,
                                   TERN_ICMPV6_EXCEEDED_REASSEMBLY, 0, q,
                                   n + TERN_IPV6_FRAG_HDR_LEN + data, false);
        }
        tern_reasm6_release(st, i);
    }
}

uint64_t tern_reasm6_poll_at(const tern_stack *st) {
    uint64_t t = TERN_NEVER;
    if (st->reasm6_used == 0) {
        return t;
    }
    for (uint32_t i = 0; i < st->cfg.reasm_slots; i++) {
        const tern_reasm6_slot *s = &st->ip6->reasm[i];
        if (s->used && s->deadline < t) {
            t = s->deadline;
        }
    }
    return t;
}

uint32_t tern_reasm6_used_scan(const tern_stack *st) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < st->cfg.reasm_slots; i++) {
        n += st->ip6->reasm[i].used;
    }
    return n;
}

/*
 * What the queues of datagrams waiting for neighbour resolution keep (ARP,
 * ipv4/arp.c; ND, ipv6/nd.c).
 *
 * RFC 1122 §2.3.2.2: "The link layer SHOULD save (rather than discard) at
 * least one (the latest) packet of each set of packets destined to the same
 * unresolved IP address, and transmit the saved packet when the address has
 * been resolved." RFC 4861 §7.2.2 asks the same of ND: "The queue MUST hold
 * at least one packet, and MAY contain more." and "When a queue overflows,
 * the new arrival SHOULD replace the oldest entry."
 *
 * Both queues hold more than one datagram per neighbour (a burst of UDP
 * datagrams keeps its order), and the latest is what must survive. A TCP
 * retransmission is the latest copy of a segment still waiting: sent after
 * resolution it would leave beside its original, one RTO older, and the two
 * arrive together (seen in the real-time bench, issue 22: an ARP request
 * lost, the SYN's retransmission 1 s later queued behind the same
 * resolution, both SYNs out at the reply). The original is then worth
 * nothing: it carries no byte the retransmission does not, and its
 * timestamp is older, so the peer's answer would echo it and give the
 * sender no RTT sample (RFC 7323 §4.3 echoes the segment that advanced
 * the window, and a TSecr older than the latest retransmission is no
 * sample, tcp_input.c). So a new TCP segment replaces the held ones of the
 * same connection whose sequence space it covers: the SYN its
 * retransmission, data its retransmission. Segments that occupy no sequence
 * space (pure ACKs, window updates, duplicate ACKs) are each a signal to
 * the peer and are never replaced; nor does a RST replace anything.
 */
#include <string.h>

#include "stack_internal.h"
#include "wire/bytes.h"
#include "wire/tcp.h"

/* One held datagram's TCP identity and sequence space. */
typedef struct held_seg {
    const uint8_t *addrs; /* source and destination addresses, in the IP header */
    size_t addr_len;      /* 8 (IPv4) or 32 (IPv6) */
    const uint8_t *tcp;   /* the TCP header */
    uint32_t seq, end;    /* [seq, end): SEG.SEQ and SEG.SEQ + SEG.LEN (RFC 9293 §3.4) */
    uint8_t flags;
} held_seg;

/* Parse an IPv4 or IPv6 datagram as far as its TCP header; false unless it
 * is an unfragmented TCP segment whose headers are all present. */
static bool parse(const uint8_t *ip, size_t len, held_seg *s) {
    if (len < 1) {
        return false;
    }
    size_t hl, total;
    if (ip[0] >> 4 == 4) {
        if (len < 20 || ip[9] != 6) {
            return false;
        }
        hl = (size_t)(ip[0] & 0x0f) * 4;
        total = tern_get_u16(ip + 2);
        if ((ip[6] & 0x3f) || ip[7]) {
            return false; /* MF or an offset: a fragment (held datagrams are whole) */
        }
        s->addrs = ip + 12;
        s->addr_len = 8;
    } else if (ip[0] >> 4 == 6) {
        if (len < 40 || ip[6] != 6) {
            return false; /* TCP right after the fixed header only */
        }
        hl = 40;
        total = 40 + (size_t)tern_get_u16(ip + 4);
        s->addrs = ip + 8;
        s->addr_len = 32;
    } else {
        return false;
    }
    if (hl < 20 || total < hl + 20 || hl + 20 > len) {
        return false;
    }
    const uint8_t *t = ip + hl;
    size_t thl = (size_t)(t[12] >> 4) * 4;
    if (thl < 20 || hl + thl > total) {
        return false;
    }
    s->tcp = t;
    s->flags = t[13];
    s->seq = tern_get_u32(t + 4);
    uint32_t seglen = (uint32_t)(total - hl - thl);
    seglen += (s->flags & TERN_TCP_SYN) ? 1u : 0u;
    seglen += (s->flags & TERN_TCP_FIN) ? 1u : 0u;
    s->end = s->seq + seglen;
    return true;
}

bool tern_held_supersedes(const uint8_t *old, size_t olen, const uint8_t *nw, size_t nlen) {
    held_seg o, n;
    if (!parse(old, olen, &o) || !parse(nw, nlen, &n)) {
        return false;
    }
    if (o.addr_len != n.addr_len || memcmp(o.addrs, n.addrs, o.addr_len) != 0 ||
        memcmp(o.tcp, n.tcp, 4) != 0) {
        return false; /* another connection (addresses, then ports) */
    }
    if (o.end == o.seq || ((o.flags | n.flags) & TERN_TCP_RST)) {
        return false; /* no sequence space (a signal of its own), or a reset */
    }
    if ((o.flags & TERN_TCP_SYN) != (n.flags & TERN_TCP_SYN)) {
        return false; /* a SYN and a data segment are different segments */
    }
    /* n covers o: n.seq <= o.seq and o.end <= n.end, modulo 2^32 (RFC 9293 §3.4) */
    return (int32_t)(o.seq - n.seq) >= 0 && (int32_t)(n.end - o.end) >= 0;
}

uint32_t tern_held_drop_superseded(tern_stack *st, tern_pktq *q, uint32_t iface,
                                   const tern_addr *dst, const uint8_t *ip, size_t len) {
    uint32_t dropped = 0;
    for (uint32_t n = q->count; n > 0; n--) {
        const tern_pkt_meta *m = tern_pktq_peek(st, q);
        size_t hlen;
        const uint8_t *h = tern_pktq_peek_bytes(st, q, &hlen);
        if (m->iface == iface && tern_addr_eq(&m->dst, dst) &&
            tern_held_supersedes(h, hlen, ip, len)) {
            tern_pktq_drop(st, q);
            dropped++;
        } else {
            tern_pktq_rotate(st, q); /* one full turn keeps the order */
        }
    }
    return dropped;
}

uint64_t tern_held_replaced(const tern_stack *st) {
    return st->c.arp_queue_replaced + st->c.nd_queue_replaced;
}

bool tern_held_drop_oldest(tern_stack *st, tern_pktq *q, uint32_t iface, const tern_addr *dst) {
    bool dropped = false;
    for (uint32_t n = q->count; n > 0; n--) {
        const tern_pkt_meta *m = tern_pktq_peek(st, q);
        if (!dropped && m->iface == iface && tern_addr_eq(&m->dst, dst)) {
            tern_pktq_drop(st, q);
            dropped = true;
        } else {
            tern_pktq_rotate(st, q);
        }
    }
    return dropped;
}

/*
 * ARP (RFC 826, with RFC 1122 §2.3.2 and RFC 5227 where they refine it):
 * the neighbour cache with expiry, requests limited to one per second per
 * address, packets waiting (bounded) for resolution, and ICMP host
 * unreachable for them when resolution fails after the retries.
 */
#include <string.h>

#include "ipv4.h"
#include "core/stack_internal.h"
#include "tern/introspect.h"
#include "wire/arp.h"
#include "wire/ethernet.h"

enum arp_state { ARP_FREE = 0, ARP_INCOMPLETE, ARP_REACHABLE };

struct tern_arp_entry {
    tern_addr ip;
    uint8_t mac[6];
    uint8_t state;
    uint32_t iface;
    uint64_t expires;      /* REACHABLE: valid until */
    uint64_t next_request; /* INCOMPLETE: when to send the next request */
    uint64_t last_request; /* when a request for this address last left (rate limit) */
    uint64_t updated;      /* when it was created or confirmed */
    uint64_t used;         /* when a packet last went out through it (REACHABLE) */
    uint32_t requests;     /* sent in this resolution */
};

/*
 * The table's lookup keys (issue 19): in front of the entries, one 4-byte word per entry, the
 * first four bytes of its address while it is in use (written at every change of state, after
 * the address: set_state). find() compares the keys, which for a table of up to 10 entries lie in
 * one line, and reads only the entries whose key matches, instead of the state, interface and
 * address of every entry, a line or two each: every ARP request a switch floods makes every host
 * look its sender up (RFC 826 "Packet Reception"), which is most often in no entry. A key only
 * filters: an entry is still checked in full before it is taken, so a free entry's stale key
 * costs a read and nothing else. Test builds check every lookup against the scan of the entries.
 *
 * Between the keys and the entries, the table's head: the configuration's ARP values, copied at
 * init (the configuration is fixed then). The table's size is what every lookup reads first, and
 * the retry interval and count what every datagram sent reads (used(): the unicast poll's
 * window), the lifetime what every merge writes; in the configuration they lay in three lines
 * that nothing else on those paths reads, and here they share the keys' last line.
 */
typedef struct arp_head {
    uint64_t timeout_ns; /* cfg.arp_timeout_ns */
    uint64_t retry_ns;   /* cfg.arp_retry_ns */
    uint32_t retries;    /* cfg.arp_retries */
    uint32_t entries;    /* cfg.arp_entries */
} arp_head;

/* The keys and the head, in whole lines, so that the entries start one. */
static size_t front_bytes(uint32_t entries) {
    return ((size_t)entries * sizeof(uint32_t) + sizeof(arp_head) + 63) & ~(size_t)63;
}

static const arp_head *arp_hd(const tern_stack *st) {
    return (const arp_head *)(const void *)((const uint8_t *)st->arp - sizeof(arp_head));
}

/* The keys end where the head starts. */
static uint32_t *arp_keys(const tern_stack *st) {
    uint8_t *head = (uint8_t *)st->arp - sizeof(arp_head);
    return (uint32_t *)(void *)(head - (size_t)arp_hd(st)->entries * sizeof(uint32_t));
}

static uint32_t addr_key(const tern_addr *a) {
    uint32_t w;
    memcpy(&w, a->bytes, 4);
    return w;
}

size_t tern_arp_memory_size(const tern_stack_config *cfg) {
    return front_bytes(cfg->arp_entries) + (size_t)cfg->arp_entries * sizeof(tern_arp_entry);
}

void tern_arp_init(tern_stack *st, uint8_t *mem) {
    st->arp = (tern_arp_entry *)(void *)(mem + front_bytes(st->cfg.arp_entries));
    arp_head *h = (arp_head *)(void *)((uint8_t *)st->arp - sizeof(arp_head));
    h->timeout_ns = st->cfg.arp_timeout_ns;
    h->retry_ns = st->cfg.arp_retry_ns;
    h->retries = st->cfg.arp_retries;
    h->entries = st->cfg.arp_entries;
}

/* State changes go through here so the count of entries resolving stays right
 * (poll_at needs no scan while nothing resolves, the common case). */
/* The entry's deadline in poll_at: its next request while it resolves, none otherwise. */
static uint64_t entry_poll_at(const tern_arp_entry *e) {
    return e->state == ARP_INCOMPLETE ? e->next_request : TERN_NEVER;
}

static void set_state(tern_stack *st, tern_arp_entry *e, uint8_t state) {
    uint64_t old = entry_poll_at(e);
    if (e->state == ARP_INCOMPLETE) {
        st->arp_resolving--;
    }
    if (state == ARP_INCOMPLETE) {
        st->arp_resolving++;
    }
    e->state = state;
    arp_keys(st)[e - st->arp] = addr_key(&e->ip); /* find()'s key: the address set before */
    st->arp_gen++; /* header templates built on an entry are stale (tern_ip4_tmpl) */
    tern_poll_cache_nb_moved(st, old, entry_poll_at(e)); /* poll_at's cached deadline */
}

/* Every write of next_request goes through here, for poll_at's cached deadline. */
static void set_next_request(tern_stack *st, tern_arp_entry *e, uint64_t at) {
    uint64_t old = entry_poll_at(e);
    e->next_request = at;
    tern_poll_cache_nb_moved(st, old, entry_poll_at(e));
}

/* The scan that find() is checked against in test builds: by the configuration's table size. */
static tern_arp_entry *find_scan(tern_stack *st, uint32_t iface, const tern_addr *ip) {
    for (uint32_t i = 0; i < st->cfg.arp_entries; i++) {
        tern_arp_entry *e = &st->arp[i];
        if (e->state != ARP_FREE && e->iface == iface && tern_addr_eq(&e->ip, ip)) {
            return e;
        }
    }
    return NULL;
}

/* The first entry in use for ip on iface, through the keys (above). */
static tern_arp_entry *find(tern_stack *st, uint32_t iface, const tern_addr *ip) {
    const uint32_t *k = arp_keys(st);
    uint32_t key = addr_key(ip);
    tern_arp_entry *found = NULL;
    uint32_t n = arp_hd(st)->entries;
    for (uint32_t i = 0; i < n; i++) {
        if (k[i] != key) {
            continue;
        }
        tern_arp_entry *e = &st->arp[i];
        if (e->state != ARP_FREE && e->iface == iface && tern_addr_eq(&e->ip, ip)) {
            found = e;
            break;
        }
    }
#ifdef TERN_POLL_CACHE_CHECK
    if (found != find_scan(st, iface, ip)) {
        __builtin_trap(); /* a key not kept with its entry */
    }
#else
    (void)find_scan;
#endif
    return found;
}

/*
 * Room for a new neighbour (issue 21: a stream of datagrams from spoofed
 * on-link sources makes us resolve each of them for its ICMP error, and
 * must not push out the neighbours we talk to). In order of preference:
 *   - a free entry;
 *   - a resolved entry not in use: expired, or that no packet went through
 *     for the time a resolution takes (arp_retries x arp_retry), the least
 *     recently used first;
 *   - the oldest entry still resolving (its waiting datagrams are dropped,
 *     counted in arp_evicted): unanswered requests churn among themselves.
 * An entry in use is never taken; NULL when every entry is in use.
 */
static tern_arp_entry *allocate(tern_stack *st, uint64_t now) {
    tern_arp_entry *idle = NULL, *resolving = NULL;
    const arp_head *h = arp_hd(st);
    uint64_t busy = h->retry_ns * (h->retries ? h->retries : 1);
    for (uint32_t i = 0; i < arp_hd(st)->entries; i++) {
        tern_arp_entry *e = &st->arp[i];
        if (e->state == ARP_FREE) {
            return e;
        }
        if (e->state == ARP_REACHABLE) {
            uint64_t last = e->used > e->updated ? e->used : e->updated;
            bool in_use = now < e->expires && now < last + busy;
            if (!in_use &&
                (!idle || last < (idle->used > idle->updated ? idle->used : idle->updated))) {
                idle = e;
            }
        } else if (e->state == ARP_INCOMPLETE && (!resolving || e->updated < resolving->updated)) {
            resolving = e;
        }
    }
    return idle ? idle : resolving;
}

static void drop_waiting(tern_stack *st, uint32_t iface, const tern_addr *ip);

/* Take `e` for a new neighbour, evicting what it held (counted). */
static void take(tern_stack *st, tern_arp_entry *e) {
    if (e->state == ARP_INCOMPLETE) {
        tern_addr old = e->ip;
        uint32_t iface = e->iface;
        set_state(st, e, ARP_FREE);
        drop_waiting(st, iface, &old);
        st->c.arp_evicted++;
    } else if (e->state == ARP_REACHABLE) {
        set_state(st, e, ARP_FREE);
        st->c.arp_evicted++;
    }
    memset(e, 0, sizeof *e);
}

static void send_arp(tern_stack *st, uint32_t iface, uint16_t op, const uint8_t eth_dst[6],
                     const uint8_t tha[6], const tern_addr *tpa, const tern_addr *spa) {
    uint8_t frame[TERN_ETH_HDR + 64];
    struct tern_arp_repr r;
    memset(&r, 0, sizeof r);
    r.op = op;
    memcpy(r.sha.b, st->iface[iface].mac, 6);
    r.spa = *spa;
    memcpy(r.tha.b, tha, 6);
    r.tpa = *tpa;
    size_t n;
    if (tern_arp_emit(&r, frame + TERN_ETH_HDR, sizeof frame - TERN_ETH_HDR, &n) != TERN_OK) {
        return;
    }
    tern_eth_output(st, iface, eth_dst, TERN_ETHERTYPE_ARP, frame + TERN_ETH_HDR, n);
}

/* A request for e's address, broadcast (resolution) or to eth_dst (a poll). */
static void send_request_to(tern_stack *st, uint64_t now, tern_arp_entry *e,
                            const uint8_t eth_dst[6]) {
    static const uint8_t zero[6] = {0};
    tern_route_result rr;
    tern_addr spa = tern_addr_v4(0, 0, 0, 0);
    /* Our address on that interface that shares the longest prefix with the target. */
    if (tern_route_lookup(st, &e->ip, NULL, &rr) == TERN_OK && rr.iface == e->iface) {
        spa = rr.src;
    } else if (st->iface[e->iface].naddrs) {
        spa = st->iface[e->iface].addr[0];
    }
    send_arp(st, e->iface, TERN_ARP_OP_REQUEST, eth_dst, zero, &e->ip, &spa);
    st->c.arp_requests_sent++;
    e->requests++;
    e->last_request = now;
    set_next_request(st, e, now + arp_hd(st)->retry_ns);
}

static void send_request(tern_stack *st, uint64_t now, tern_arp_entry *e) {
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    send_request_to(st, now, e, bcast);
}

/*
 * A datagram goes out through the resolved entry e. RFC 1122 §2.3.2.1 lists
 * the ways to flush out-of-date entries: "(1) Timeout -- Periodically time
 * out cache entries, even if they are in use. Note that this timeout should
 * be restarted when the cache entry is "refreshed" (by observing the source
 * fields, regardless of target address, of an ARP broadcast from the system
 * in question)." and "(2) Unicast Poll -- Actively poll the remote host by
 * periodically sending a point-to-point ARP Request to it, and delete the
 * entry if no ARP Reply is received from N successive polls." With the
 * timeout alone, a neighbour we talk to all the time is forgotten at the end
 * of every lifetime and traffic waits for a broadcast resolution; under
 * loss, for the request's retry (1 s) or longer (issue 22). So an entry in
 * use near the end of its lifetime is polled as (2) says while it is still
 * used: from arp_retries x arp_retry before its end until arp_retry before
 * it (a later poll would hold the broadcast request at expiry back by the
 * flood limit), a request to its cached address, at most one a second (the
 * flood limit, §2.3.2.1), so arp_retries in all (N). Any ARP packet from
 * the neighbour, the reply included, restarts the lifetime (tern_arp_input),
 * and traffic never stops; unanswered, the entry times out when it would
 * have and the next datagram resolves it afresh. (Linux's neighbour cache
 * does the same with its STALE, DELAY and PROBE states and unicast probes.)
 */
static void used(tern_stack *st, tern_arp_entry *e, uint64_t now) {
    e->used = now;
    const arp_head *h = arp_hd(st);
#ifdef TERN_POLL_CACHE_CHECK
    if (h->retry_ns != st->cfg.arp_retry_ns || h->retries != st->cfg.arp_retries ||
        h->timeout_ns != st->cfg.arp_timeout_ns) {
        __builtin_trap(); /* the head's copy is not the configuration's */
    }
#endif
    uint64_t window = h->retry_ns * h->retries;
    if (now + window < e->expires || now + h->retry_ns > e->expires ||
        now < e->last_request + h->retry_ns) {
        return; /* none in the last arp_retry: it would hold back the resolution at expiry */
    }
    send_request_to(st, now, e, e->mac);
}

tern_err tern_arp_lookup(const tern_stack *st, uint64_t now, const tern_addr *ip, uint8_t mac[6]) {
    for (uint32_t i = 0; i < arp_hd(st)->entries; i++) {
        const tern_arp_entry *e = &st->arp[i];
        if (e->state == ARP_REACHABLE && now < e->expires && tern_addr_eq(&e->ip, ip)) {
            memcpy(mac, e->mac, 6);
            return TERN_OK;
        }
    }
    return TERN_ERR_EMPTY;
}

tern_arp_entry *tern_arp_reachable(tern_stack *st, uint64_t now, uint32_t iface,
                                   const tern_addr *next_hop) {
    tern_arp_entry *e = find(st, iface, next_hop);
    return e && e->state == ARP_REACHABLE && now < e->expires ? e : NULL;
}

const uint8_t *tern_arp_entry_mac(const tern_arp_entry *e) {
    return e->mac;
}

uint64_t tern_arp_entry_expires(const tern_arp_entry *e) {
    return e->expires;
}

void tern_arp_entry_used(tern_stack *st, tern_arp_entry *e, uint64_t now) {
    used(st, e, now);
}

tern_err tern_arp_resolve(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *next_hop,
                          uint8_t mac[6]) {
    if (tern_is_broadcast_addr(st, next_hop, iface)) {
        memset(mac, 0xff, 6);
        return TERN_OK;
    }
    if (tern_addr_is_multicast(next_hop)) {
        tern_mac m = tern_mac_ipv4_multicast(next_hop);
        memcpy(mac, m.b, 6);
        return TERN_OK;
    }
    tern_arp_entry *e = find(st, iface, next_hop);
    if (e && e->state == ARP_REACHABLE && now < e->expires) {
        memcpy(mac, e->mac, 6);
        used(st, e, now);
        return TERN_OK;
    }
    if (e && e->state == ARP_INCOMPLETE) {
        return TERN_ERR_WOULD_BLOCK; /* a request is out; retries come from poll */
    }
    /* Unknown, or expired: start resolving. */
    uint64_t last = e ? e->last_request : 0;
    bool had_request = e != NULL;
    if (!e) {
        e = allocate(st, now);
        if (!e) {
            /* Every entry is in use: this datagram is dropped (counted);
             * the neighbours we talk to keep their entries. */
            st->c.arp_table_full++;
            return TERN_ERR_NO_BUFFER;
        }
        take(st, e);
        e->ip = *next_hop;
        e->iface = iface;
    }
    /* Not INCOMPLETE here, so the entry counts in poll_at for no deadline: a stale next_request
     * must not count for one while it starts resolving (its own is set below). */
    e->next_request = TERN_NEVER;
    set_state(st, e, ARP_INCOMPLETE);
    e->requests = 0;
    e->updated = now;
    /* One request per second per address (RFC 1122 §2.3.2.1). */
    if (had_request && now < last + arp_hd(st)->retry_ns) {
        st->c.arp_rate_limited++;
        set_next_request(st, e, last + arp_hd(st)->retry_ns);
    } else {
        send_request(st, now, e);
    }
    return TERN_ERR_WOULD_BLOCK;
}

/*
 * Hold a datagram until its next hop resolves. RFC 1122 §2.3.2.2: "The link
 * layer SHOULD save (rather than discard) at least one (the latest) packet
 * of each set of packets destined to the same unresolved IP address, and
 * transmit the saved packet when the address has been resolved." So the
 * latest is what stays: a TCP segment replaces the held copies it
 * retransmits (core/held.c says why), and when the queue is full the oldest
 * datagram held for the same next hop makes room for it; only a datagram
 * for a next hop with nothing held is refused when the queue is full.
 */
tern_err tern_arp_hold(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *next_hop,
                       const uint8_t *ip, size_t len) {
    st->c.arp_queue_replaced +=
        tern_held_drop_superseded(st, &st->arp_waiting, iface, next_hop, ip, len);
    if (st->arp_waiting.count >= st->arp_waiting.limit &&
        tern_held_drop_oldest(st, &st->arp_waiting, iface, next_hop)) {
        st->c.arp_queue_full++;
    }
    tern_pkt_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.dst = *next_hop;
    meta.iface = iface;
    meta.time = now;
    if (tern_pktq_push(st, &st->arp_waiting, &meta, ip, len, NULL, 0) != TERN_OK) {
        st->c.arp_queue_full++;
        return TERN_ERR_NO_BUFFER;
    }
    return TERN_OK;
}

/*
 * Send (or, when resolution failed, answer with host unreachable) the
 * datagrams held for `ip` on iface, in the order they were held. Each is
 * taken into the transmit buffer with room for headers in front.
 */
static void flush_waiting(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *ip,
                          bool resolved) {
    uint32_t n = st->arp_waiting.count;
    for (uint32_t i = 0; i < n; i++) {
        const tern_pkt_meta *m = tern_pktq_peek(st, &st->arp_waiting);
        if (m->iface != iface || !tern_addr_eq(&m->dst, ip)) {
            tern_pktq_rotate(st, &st->arp_waiting); /* another neighbour's; order kept */
            continue;
        }
        uint8_t *buf = st->tx + TERN_TX_HEADROOM + 40;
        size_t len =
            tern_pktq_pop(st, &st->arp_waiting, buf, sizeof st->tx - (size_t)(buf - st->tx));
        if (resolved) {
            tern_ipv4_output_resolved(st, now, iface, ip, buf, len);
            continue;
        }
        /* RFC 1122 §2.3.2.2: resolution failed; tell the source (ourselves
         * or, when forwarding, the sender) that the host is unreachable. The
         * error is built in tx too: quote from a copy. */
        st->c.arp_resolution_failed++;
        struct tern_ipv4_repr ipr;
        if (tern_ipv4_parse(buf, len, &ipr) == TERN_OK) {
            uint8_t copy[60 + 576];
            size_t clen = len < sizeof copy ? len : sizeof copy;
            memcpy(copy, buf, clen);
            ipr.payload = copy + ipr.header_len;
            ipr.payload_len = clen > ipr.header_len ? clen - ipr.header_len : 0;
            tern_icmp_send_error(st, now, 3, 1, 0, &ipr, copy, false);
        }
    }
}

/* Discard the datagrams held for a neighbour whose entry was evicted. */
static void drop_waiting(tern_stack *st, uint32_t iface, const tern_addr *ip) {
    uint32_t n = st->arp_waiting.count;
    for (uint32_t i = 0; i < n; i++) {
        const tern_pkt_meta *m = tern_pktq_peek(st, &st->arp_waiting);
        if (m->iface != iface || !tern_addr_eq(&m->dst, ip)) {
            tern_pktq_rotate(st, &st->arp_waiting);
            continue;
        }
        tern_pktq_drop(st, &st->arp_waiting); /* no copy: tx may hold a datagram being sent */
        st->c.arp_resolution_failed++;
    }
}

void tern_arp_input(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *buf, size_t len) {
    st->hc.arp_in++;
    struct tern_arp_repr r;
    if (tern_arp_parse(buf, len, &r) != TERN_OK) {
        st->c.arp_malformed++;
        return;
    }
    if (r.sha.b[0] & 1) {
        st->c.arp_malformed++; /* a multicast sender hardware address is bogus */
        return;
    }
    tern_services_arp_input(st, now, iface, &r); /* RFC 5227 conflict detection */
    bool for_us = false;
    const tern_iface *f = &st->iface[iface];
    for (uint32_t a = 0; a < f->naddrs; a++) {
        if (tern_addr_eq(&f->addr[a], &r.tpa)) {
            for_us = true;
        }
    }
    if (tern_addr_eq(&r.spa, &r.tpa)) {
        st->c.arp_gratuitous++; /* RFC 5227 §3 announcement */
    }
    bool probe = tern_addr_is_unspecified(&r.spa); /* RFC 5227 §2.1.1: never cache 0.0.0.0 */
    /* RFC 826 "Packet Reception": update an existing entry; add one only if
     * the packet is for us. */
    tern_arp_entry *e = probe ? NULL : find(st, iface, &r.spa);
    bool was_resolving = e && e->state == ARP_INCOMPLETE;
    if (!e && for_us && !probe) {
        e = allocate(st, now);
        if (e) {
            take(st, e);
            e->ip = r.spa;
            e->iface = iface;
        }
    }
    if (e) {
        memcpy(e->mac, r.sha.b, 6);
        set_state(st, e, ARP_REACHABLE);
        e->expires = now + arp_hd(st)->timeout_ns;
        e->updated = now;
    }
    if (for_us && r.op == TERN_ARP_OP_REQUEST) {
        send_arp(st, iface, TERN_ARP_OP_REPLY, r.sha.b, r.sha.b, &r.spa, &r.tpa);
        st->c.arp_replies_sent++;
    }
    if (e && (was_resolving || st->arp_waiting.count)) {
        flush_waiting(st, now, iface, &e->ip, true);
    }
}

void tern_arp_poll(tern_stack *st, uint64_t now) {
    if (st->arp_resolving == 0) {
        return;
    }
    for (uint32_t i = 0; i < arp_hd(st)->entries; i++) {
        tern_arp_entry *e = &st->arp[i];
        if (e->state != ARP_INCOMPLETE || e->next_request > now) {
            continue;
        }
        if (e->requests >= arp_hd(st)->retries) {
            tern_addr ip = e->ip;
            uint32_t iface = e->iface;
            set_state(st, e, ARP_FREE);
            flush_waiting(st, now, iface, &ip, false);
        } else {
            send_request(st, now, e);
        }
    }
}

uint64_t tern_arp_poll_at(const tern_stack *st) {
    uint64_t t = TERN_NEVER;
    if (st->arp_resolving == 0) {
        return t;
    }
    for (uint32_t i = 0; i < arp_hd(st)->entries; i++) {
        const tern_arp_entry *e = &st->arp[i];
        if (e->state == ARP_INCOMPLETE && e->next_request < t) {
            t = e->next_request;
        }
    }
    return t;
}

tern_err tern_arp_get(const tern_stack *st, uint32_t index, tern_arp_info *out) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < arp_hd(st)->entries; i++) {
        const tern_arp_entry *e = &st->arp[i];
        if (e->state == ARP_FREE || n++ != index) {
            continue;
        }
        memset(out, 0, sizeof *out);
        out->ip = e->ip;
        out->resolved = e->state == ARP_REACHABLE;
        if (out->resolved) {
            memcpy(out->mac, e->mac, 6);
            out->expires = e->expires;
        }
        out->iface = e->iface;
        out->requests = e->requests;
        return TERN_OK;
    }
    return TERN_ERR_EMPTY;
}

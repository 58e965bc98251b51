/*
 * The 4-tuple table: every connection (TCPF_HASHED) in a hash table chained
 * by pool index, so that an arriving segment finds its control block in
 * O(1) with 100,000 connections; listeners are found on their own list,
 * an exact local address before the wildcard.
 */
#include <string.h>

#include "tcp_private.h"

static uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

uint32_t tcp_tuple_hash(const tern_addr *la, uint16_t lp, const tern_addr *ra, uint16_t rp) {
    /* A multiply-xorshift mix of the tuple: deterministic (no per-run key is
     * needed: chains are bounded by the pool), and cheap on the hot path. */
    uint64_t h = ((uint64_t)lp << 16 | rp) * 0x9e3779b97f4a7c15ull;
    h ^= load64(la->bytes) * 0xc2b2ae3d27d4eb4full;
    h ^= load64(la->bytes + 8) * 0x165667b19e3779f9ull;
    h ^= load64(ra->bytes) * 0xd6e8feb86659fd93ull;
    h ^= load64(ra->bytes + 8) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return (uint32_t)(h ^ (h >> 32));
}

static bool addr_same(const tern_addr *a, const tern_addr *b) {
    return a->family == b->family && load64(a->bytes) == load64(b->bytes) &&
           load64(a->bytes + 8) == load64(b->bytes + 8);
}

void tcp_hash_insert(tern_stack *st, tcp_pcb *p) {
    tern_tcp_module *t = st->tcp;
    uint32_t b = tcp_tuple_hash(&p->laddr, p->lport, &p->raddr, p->rport) & t->hash_mask;
    p->hash_next = t->hash[b];
    t->hash[b] = tcp_index(st, p);
    p->flags |= TCPF_HASHED;
}

void tcp_hash_remove(tern_stack *st, tcp_pcb *p) {
    tern_tcp_module *t = st->tcp;
    uint32_t b = tcp_tuple_hash(&p->laddr, p->lport, &p->raddr, p->rport) & t->hash_mask;
    uint32_t idx = tcp_index(st, p);
    uint32_t *link = &t->hash[b];
    while (*link != TCP_NONE) {
        if (*link == idx) {
            *link = p->hash_next;
            break;
        }
        link = &t->pcb[*link].hash_next;
    }
    p->hash_next = TCP_NONE;
    p->flags &= ~(uint32_t)TCPF_HASHED;
}

static bool tuple_is(const tcp_pcb *p, const tern_addr *laddr, uint16_t lport,
                     const tern_addr *raddr, uint16_t rport) {
    return p->lport == lport && p->rport == rport && addr_same(&p->raddr, raddr) &&
           addr_same(&p->laddr, laddr);
}

/* The table's own answer: the chain of the tuple's hash bucket. */
static tcp_pcb *lookup_chain(tern_stack *st, const tern_addr *laddr, uint16_t lport,
                             const tern_addr *raddr, uint16_t rport) {
    tern_tcp_module *t = st->tcp;
    uint32_t i = t->hash[tcp_tuple_hash(laddr, lport, raddr, rport) & t->hash_mask];
    while (i != TCP_NONE) {
        tcp_pcb *p = &t->pcb[i];
        if (tuple_is(p, laddr, lport, raddr, rport)) {
            return p;
        }
        i = p->hash_next;
    }
    return NULL;
}

tcp_pcb *tcp_lookup(tern_stack *st, const tern_addr *laddr, uint16_t lport, const tern_addr *raddr,
                    uint16_t rport) {
    tern_tcp_module *t = st->tcp;
    /* The last answer first (issue 19: one hash and a bucket's chain less per segment of a bulk
     * transfer). It needs no invalidation: a control block out of the table has TCPF_HASHED
     * clear, and the table holds at most one with a given tuple (a connection is inserted only
     * for a tuple no other one has), so a block in the table with the tuple is the answer. */
    if (t->lookup_last != 0) {
        tcp_pcb *p = &t->pcb[t->lookup_last - 1];
        if ((p->flags & TCPF_HASHED) && tuple_is(p, laddr, lport, raddr, rport)) {
#ifdef TERN_POLL_CACHE_CHECK
            /* Test builds: the table must give the same block, or the premise above is broken. */
            if (lookup_chain(st, laddr, lport, raddr, rport) != p) {
                __builtin_trap();
            }
#endif
            return p;
        }
    }
    tcp_pcb *p = lookup_chain(st, laddr, lport, raddr, rport);
    if (p != NULL) {
        t->lookup_last = tcp_index(st, p) + 1;
    }
    return p;
}

tcp_pcb *tcp_lookup_listener(tern_stack *st, const tern_addr *laddr, uint16_t lport) {
    tern_tcp_module *t = st->tcp;
    tcp_pcb *wild = NULL;
    for (uint32_t i = t->listeners; i != TCP_NONE; i = t->pcb[i].q_next) {
        tcp_pcb *p = &t->pcb[i];
        if (p->lport != lport) {
            continue;
        }
        if (tern_addr_eq(&p->laddr, laddr)) {
            return p;
        }
        if (tern_addr_is_unspecified(&p->laddr) && tern_wildcard_accepts(&p->laddr, laddr)) {
            wild = p;
        }
    }
    return wild;
}

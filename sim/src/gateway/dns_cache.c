/*
 * The DNS forwarder's cache: positive upstream answers (NOERROR with at least one
 * answer record, not truncated, at most 512 bytes) kept for the smallest TTL of
 * their records. RFC 1035 section 3.2.1: TTL "specifies the time interval that
 * the resource record may be cached before the source of the information should
 * again be consulted". An answer given from the cache carries each record's TTL
 * less the whole seconds it has been kept, the client's ID, and the client's own
 * question bytes (the same name, perhaps in other letter case). Negative answers
 * are not cached (RFC 2308 is not implemented).
 */
#include <string.h>

#include "gateway/gateway_internal.h"
#include "wire/dns.h"

/* Walk the records after the question; call fn on the offset of each TTL. Returns false when
 * the message does not parse to its end. */
static bool each_ttl(const uint8_t *msg, size_t len, size_t qend, uint16_t nrr,
                     void (*fn)(uint8_t *base, size_t ttl_off, void *ctx), uint8_t *base,
                     void *ctx) {
    size_t off = qend;
    for (uint16_t i = 0; i < nrr; i++) {
        struct tern_dns_rr rr;
        if (tern_dns_rr_parse(msg, len, &off, &rr) != TERN_OK) {
            return false;
        }
        fn(base, rr.rdata_off - 6, ctx); /* TTL (4) and RDLENGTH (2) precede RDATA */
    }
    return true;
}

static void min_ttl(uint8_t *base, size_t ttl_off, void *ctx) {
    uint32_t *m = ctx;
    uint32_t t = gw_get32(base + ttl_off);
    if (t < *m) {
        *m = t;
    }
}

static void age_ttl(uint8_t *base, size_t ttl_off, void *ctx) {
    uint32_t elapsed = *(uint32_t *)ctx;
    uint32_t t = gw_get32(base + ttl_off);
    gw_put32(base + ttl_off, t > elapsed ? t - elapsed : 0);
}

static uint16_t rr_count(const struct tern_dns_header *h) {
    return (uint16_t)(h->ancount + h->nscount + h->arcount);
}

void gw_dns_cache_store(gw_state *g, uint64_t now, const uint8_t *msg, size_t len) {
    struct tern_dns_header h;
    struct tern_dns_question q;
    size_t qend = TERN_DNS_HDR_LEN;
    if (len > sizeof g->cache[0].msg || tern_dns_header_parse(msg, len, &h) != TERN_OK ||
        h.qdcount != 1 || h.ancount == 0 || TERN_DNS_RCODE(h.flags) != 0 ||
        (h.flags & TERN_DNS_FLAG_TC) || tern_dns_question_parse(msg, len, &qend, &q) != TERN_OK) {
        return;
    }
    uint32_t ttl = 0xffffffffu;
    if (!each_ttl(msg, len, qend, rr_count(&h), min_ttl, (uint8_t *)msg, &ttl) || ttl == 0) {
        return;
    }
    if (ttl > 7 * 86400) {
        ttl = 7 * 86400; /* a week at most, as resolvers commonly cap */
    }
    gw_cache_slot *slot = NULL;
    for (uint32_t i = 0; i < SIM_GW_DNS_CACHE; i++) {
        gw_cache_slot *c = &g->cache[i];
        if (c->e.expires_at > now && c->e.qtype == q.type && tern_dns_name_eq(c->e.name, q.name)) {
            slot = c; /* a fresher answer replaces the kept one */
            break;
        }
    }
    for (uint32_t i = 0; i < SIM_GW_DNS_CACHE && !slot; i++) {
        if (g->cache[i].e.expires_at <= now) {
            slot = &g->cache[i];
        }
    }
    if (!slot) {
        slot = &g->cache[0];
        for (uint32_t i = 1; i < SIM_GW_DNS_CACHE; i++) {
            if (g->cache[i].e.expires_at < slot->e.expires_at) {
                slot = &g->cache[i];
            }
        }
    }
    memset(slot, 0, sizeof *slot);
    memcpy(slot->e.name, q.name, strnlen(q.name, sizeof slot->e.name - 1)); /* NUL: memset */
    slot->e.qtype = q.type;
    slot->e.rcode = 0;
    slot->e.ancount = h.ancount;
    slot->e.stored_at = now;
    slot->e.expires_at = now + (uint64_t)ttl * GW_SEC;
    slot->seq = ++g->cache_seq;
    slot->len = (uint16_t)len;
    memcpy(slot->msg, msg, len);
}

size_t gw_dns_cache_answer(gw_state *g, uint64_t now, const uint8_t *query, size_t qend,
                           const struct tern_dns_question *q, uint8_t *out, size_t cap) {
    for (uint32_t i = 0; i < SIM_GW_DNS_CACHE; i++) {
        gw_cache_slot *c = &g->cache[i];
        if (c->e.expires_at <= now || c->e.qtype != q->type ||
            !tern_dns_name_eq(c->e.name, q->name)) {
            continue;
        }
        struct tern_dns_header h;
        struct tern_dns_question cq;
        size_t cend = TERN_DNS_HDR_LEN;
        if (c->len > cap || tern_dns_header_parse(c->msg, c->len, &h) != TERN_OK ||
            tern_dns_question_parse(c->msg, c->len, &cend, &cq) != TERN_OK || cend != qend) {
            return 0;
        }
        memcpy(out, c->msg, c->len);
        memcpy(out, query, 2); /* the client's ID */
        memcpy(out + TERN_DNS_HDR_LEN, query + TERN_DNS_HDR_LEN, qend - TERN_DNS_HDR_LEN);
        out[2] = (uint8_t)((out[2] & ~0x01) | (query[2] & 0x01)); /* its RD bit */
        uint32_t elapsed = (uint32_t)((now - c->e.stored_at) / GW_SEC);
        each_ttl(c->msg, c->len, cend, rr_count(&h), age_ttl, out, &elapsed);
        c->e.hits++;
        g->c.dns_cache_hits++;
        return c->len;
    }
    return 0;
}

uint32_t gw_dns_cache_list(const gw_state *g, uint64_t now, sim_gw_dns_cache_entry *out,
                           uint32_t cap) {
    /* Oldest first: by the order they were stored. */
    uint32_t n = 0;
    uint64_t last = 0;
    for (;;) {
        const gw_cache_slot *next = NULL;
        for (uint32_t i = 0; i < SIM_GW_DNS_CACHE; i++) {
            const gw_cache_slot *c = &g->cache[i];
            if (c->e.expires_at > now && c->seq > last && (!next || c->seq < next->seq)) {
                next = c;
            }
        }
        if (!next) {
            return n;
        }
        if (n < cap && out) {
            out[n] = next->e;
        }
        n++;
        last = next->seq;
    }
}

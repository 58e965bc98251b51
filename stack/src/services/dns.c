/*
 * The DNS stub resolver (RFC 1035, RFC 5452); the API is in tern/dns.h.
 * Truncated answers are asked again over TCP (RFC 7766 section 5), negative
 * answers cached for the SOA's negative TTL (RFC 2308 section 5).
 */
#include <string.h>

#include "core/stack_internal.h"
#include "ipv4/ipv4.h"
#include "wire/bytes.h"
#include "wire/dns.h"
#include "wire/udp.h"

#define SEC 1000000000ULL
#define DEFAULT_TIMEOUT (2 * SEC)
#define DEFAULT_ROUNDS 3
/* Records of one answer looked at, at most: bounded work per datagram. */
#define MAX_RECORDS 64

static tern_addr v4(uint32_t a) {
    return tern_addr_v4((uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a);
}

/* ---- cache ------------------------------------------------------------------ */

static tern_dns_cache_entry *cache_find(tern_dns_resolver *r, const char *name, uint16_t qtype,
                                        uint64_t now) {
    for (uint32_t i = 0; i < r->ncache; i++) {
        tern_dns_cache_entry *e = &r->cache[i];
        if (e->used && now >= e->expires_at) {
            e->used = false; /* the TTL ran out */
        }
        if (e->used && e->ans.qtype == qtype && tern_dns_name_eq(e->name, name)) {
            return e;
        }
    }
    return NULL;
}

static void cache_put(tern_dns_resolver *r, const char *name, const tern_dns_answer *a,
                      uint64_t now) {
    if (a->ttl == 0 || r->ncache == 0) {
        return; /* no cache configured; or RFC 1035 section 3.2.1: "Zero values are interpreted to
                   mean that the RR can only be used for the transaction in progress, and should not
                   be cached." */
    }
    tern_dns_cache_entry *slot = NULL;
    for (uint32_t i = 0; i < r->ncache; i++) {
        tern_dns_cache_entry *e = &r->cache[i];
        if (!e->used || now >= e->expires_at ||
            (e->ans.qtype == a->qtype && tern_dns_name_eq(e->name, name))) {
            slot = e;
            break;
        }
        if (!slot || e->expires_at < slot->expires_at) {
            slot = e; /* else replace the entry that expires first */
        }
    }
    slot->used = true;
    memcpy(slot->name, name, strlen(name) + 1);
    slot->ans = *a;
    slot->expires_at = now + (uint64_t)a->ttl * SEC;
}

/* ---- sending ------------------------------------------------------------------- */

/* A ".local" name is asked of 224.0.0.251 port 5353: a one-shot Multicast DNS query (RFC 6762
 * section 5.1, "...a simple one-shot query ... sends its query to 224.0.0.251:5353 and accepts
 * the first response"; section 3: "any DNS query for a name ending with \".local.\" MUST be
 * sent to the mDNS IPv4 link-local multicast address 224.0.0.251"). */
#define MDNS_GROUP 0xe00000fbu

static bool is_local_name(const char *name) {
    size_t n = strlen(name);
    return n > 6 && tern_dns_name_eq(name + n - 6, ".local");
}

static uint16_t server_port(uint32_t server) {
    return server == MDNS_GROUP ? TERN_MDNS_PORT : TERN_DNS_PORT;
}

/* The server the query asks now: IPv4 (servers) or, with servers from a DHCPv6 lease, IPv6. */
static tern_addr server_addr(const tern_dns_query_slot *q) {
    return q->v6 ? q->server6[q->server] : v4(q->servers[q->server]);
}

static uint16_t current_port(const tern_dns_query_slot *q) {
    return q->v6 ? TERN_DNS_PORT : server_port(q->servers[q->server]);
}

static void new_transaction(tern_stack *st, tern_dns_query_slot *q) {
    /* RFC 5452 section 9.2: "Resolver implementations MUST: Use an
     * unpredictable source port for outgoing queries from the range of
     * available ports (53, or 1024 and above) ... Use an unpredictable
     * query ID for outgoing queries, utilizing the full range available
     * (0-65535)." */
    q->id = (uint16_t)tern_rng_next(&st->rng);
    uint16_t port = 0;
    if (tern_ephemeral_port(st, TERN_IPPROTO_UDP, &port) != TERN_OK) {
        port = (uint16_t)(49152 + tern_rng_below(&st->rng, 16384));
    }
    q->port = port;
    q->server = 0;
    q->round = 0;
    q->wait = st->dns.cfg.timeout_ns;
    q->sent = false;
}

static void send_query(tern_stack *st, uint64_t now, tern_dns_query_slot *q) {
    uint8_t buf[TERN_DNS_HDR_LEN + TERN_DNS_MAX_NAME_WIRE + 4];
    size_t n = 0;
    if (tern_dns_query_emit(q->id, true, q->name, q->ans.qtype, buf, sizeof buf, &n) != TERN_OK) {
        return;
    }
    tern_addr dst = server_addr(q);
    tern_route_result rr;
    if (tern_route_lookup(st, &dst, NULL, &rr) != TERN_OK) {
        return; /* no route: the wait runs out and the next server is tried */
    }
    st->dns.c.queries_sent++;
    if (!q->v6) {
        tern_services_send_udp_routed(st, now, tern_addr_v4_to_u32(&rr.src), q->servers[q->server],
                                      q->port, server_port(q->servers[q->server]), buf, n);
        return;
    }
    /* An IPv6 server (RFC 3646: from DHCPv6): the same datagram through the IPv6 layer. */
    uint8_t *p = tern_ip_tx_payload(st);
    struct tern_udp_repr u = {
        .src_port = q->port, .dst_port = TERN_DNS_PORT, .payload = buf, .payload_len = n};
    size_t w = 0;
    if (tern_udp_emit(&u, &rr.src, &dst, p, TERN_IP_PAYLOAD_MAX, &w) != TERN_OK) {
        return;
    }
    tern_ip_tx tx = {.src = rr.src, .dst = dst, .protocol = TERN_IPPROTO_UDP};
    if (tern_ip_send(st, now, &tx, w) == TERN_OK) {
        st->c.udp_out++;
    }
}

static void finish(tern_dns_query_slot *q, tern_dns_status s) {
    q->ans.status = s;
    q->next_at = TERN_NEVER;
}

/* Give up on the current server: the next one now, or the next round with
 * the wait doubled, or the end. */
static void next_server(tern_stack *st, uint64_t now, tern_dns_query_slot *q, tern_dns_status end) {
    q->server++;
    if (q->server >= q->n_servers) {
        q->server = 0;
        q->round++;
        q->wait *= 2;
        if (q->round >= st->dns.cfg.rounds) {
            finish(q, end);
            return;
        }
    }
    send_query(st, now, q);
    q->sent = true;
    q->next_at = now + q->wait;
}

/* ---- answers --------------------------------------------------------------------- */

/* Walk the answer section: follow CNAMEs from q->name, collect the A
 * records of the last name. Returns TERN_OK or a parse error. */
static tern_err read_answer(const uint8_t *msg, size_t len, size_t an_off, unsigned ancount,
                            tern_dns_query_slot *q, tern_dns_answer *a, bool *chain_stops) {
    char cur[TERN_DNS_NAME_TEXT_CAP];
    memcpy(cur, q->name, strlen(q->name) + 1);
    uint32_t ttl = UINT32_MAX;
    uint32_t links = q->links;
    if (ancount > MAX_RECORDS) {
        ancount = MAX_RECORDS;
    }
    /* Each pass finds at most one CNAME for cur; TERN_DNS_MAX_CNAME + 1
     * passes bound the work. */
    for (;;) {
        size_t off = an_off;
        bool moved = false;
        for (unsigned i = 0; i < ancount; i++) {
            struct tern_dns_rr rr;
            tern_err err = tern_dns_rr_parse(msg, len, &off, &rr);
            if (err != TERN_OK) {
                return err;
            }
            if (rr.klass != TERN_DNS_CLASS_IN || rr.type != TERN_DNS_TYPE_CNAME ||
                !tern_dns_name_eq(rr.name, cur)) {
                continue;
            }
            char target[TERN_DNS_NAME_TEXT_CAP];
            size_t roff = rr.rdata_off;
            err = tern_dns_name_read(msg, len, &roff, target, sizeof target);
            if (err != TERN_OK) {
                return err;
            }
            if (roff != rr.rdata_off + rr.rdlength) {
                return TERN_ERR_MALFORMED; /* RDATA longer or shorter than its name */
            }
            if (++links > TERN_DNS_MAX_CNAME) {
                a->status = TERN_DNS_CNAME_LOOP;
                return TERN_OK;
            }
            memcpy(cur, target, strlen(target) + 1);
            ttl = rr.ttl < ttl ? rr.ttl : ttl;
            moved = true;
            break;
        }
        if (!moved) {
            break;
        }
    }
    size_t off = an_off;
    a->n_addrs = 0;
    for (unsigned i = 0; i < ancount; i++) {
        struct tern_dns_rr rr;
        tern_err err = tern_dns_rr_parse(msg, len, &off, &rr);
        if (err != TERN_OK) {
            return err;
        }
        if (rr.klass != TERN_DNS_CLASS_IN || rr.type != q->ans.qtype ||
            !tern_dns_name_eq(rr.name, cur)) {
            continue;
        }
        if (rr.type == TERN_DNS_TYPE_AAAA) {
            /* RFC 3596 section 2.2: "A 128 bit IPv6 address is encoded in the data portion of an
             * AAAA resource record in network byte order (high-order byte first)." */
            if (rr.rdlength != 16) {
                return TERN_ERR_MALFORMED;
            }
            if (a->n_addrs < TERN_DNS_MAX_ADDRS) {
                memcpy(a->addrs6[a->n_addrs++], rr.rdata, 16);
            }
        } else {
            if (rr.rdlength != 4) {
                return TERN_ERR_MALFORMED; /* RFC 1035 section 3.4.1: "A 32 bit Internet address" */
            }
            if (a->n_addrs < TERN_DNS_MAX_ADDRS) {
                a->addrs[a->n_addrs++] = (uint32_t)rr.rdata[0] << 24 | (uint32_t)rr.rdata[1] << 16 |
                                         rr.rdata[2] << 8 | rr.rdata[3];
            }
        }
        ttl = rr.ttl < ttl ? rr.ttl : ttl;
    }
    q->links = links;
    memcpy(a->canonical, cur, strlen(cur) + 1);
    a->ttl = ttl == UINT32_MAX ? 0 : ttl;
    *chain_stops = a->n_addrs == 0 && !tern_dns_name_eq(cur, q->name);
    return TERN_OK;
}

/*
 * The negative TTL of an NXDOMAIN or NODATA answer (RFC 2308 section 5):
 * "the TTL of this record is set from the minimum of the MINIMUM field of
 * the SOA record and the TTL of the SOA itself", the SOA being in the
 * authority section. Returns false without an SOA there (section 5: "Negative
 * responses without SOA records SHOULD NOT be cached").
 */
static bool negative_ttl(const uint8_t *msg, size_t len, size_t an_off,
                         const struct tern_dns_header *h, uint32_t *ttl) {
    size_t off = an_off;
    unsigned n = (unsigned)h->ancount + h->nscount;
    if (n > MAX_RECORDS) {
        n = MAX_RECORDS;
    }
    for (unsigned i = 0; i < n; i++) {
        struct tern_dns_rr rr;
        if (tern_dns_rr_parse(msg, len, &off, &rr) != TERN_OK) {
            return false;
        }
        uint32_t minimum;
        if (i >= h->ancount && rr.type == TERN_DNS_TYPE_SOA && rr.klass == TERN_DNS_CLASS_IN &&
            tern_dns_soa_minimum(msg, len, &rr, &minimum) == TERN_OK) {
            *ttl = rr.ttl < minimum ? rr.ttl : minimum;
            return true;
        }
    }
    return false;
}

/* Finish a query with a negative answer, cached under the name first asked when the authority
 * section gives its TTL. */
static void finish_negative(tern_stack *st, uint64_t now, tern_dns_query_slot *q,
                            tern_dns_status status, const uint8_t *msg, size_t len, size_t an_off,
                            const struct tern_dns_header *h) {
    uint32_t ttl = 0;
    bool cacheable = negative_ttl(msg, len, an_off, h, &ttl);
    finish(q, status);
    q->ans.ttl = ttl;
    q->ans.n_addrs = 0;
    if (cacheable && ttl) {
        st->dns.c.negative_cached++;
        cache_put(&st->dns, q->ans.canonical, &q->ans, now);
    }
}

static void start_tcp(tern_stack *st, uint64_t now, tern_dns_query_slot *q);

/* An answer to query q (from the server asked, over UDP or TCP). Returns false when it was not
 * acceptable (not the query's, malformed): the query goes on waiting. */
static bool on_answer(tern_stack *st, uint64_t now, tern_dns_query_slot *q, const uint8_t *msg,
                      size_t len, bool over_tcp) {
    tern_dns_resolver *r = &st->dns;
    struct tern_dns_header h;
    struct tern_dns_question qu;
    size_t off = TERN_DNS_HDR_LEN;
    if (tern_dns_header_parse(msg, len, &h) != TERN_OK) {
        r->c.malformed++;
        return false;
    }
    /* RFC 5452 section 9.1: accept only an answer that matches the
     * question, the ID, and the addresses and ports of the query. */
    if (h.id != q->id || !(h.flags & TERN_DNS_FLAG_QR) || TERN_DNS_OPCODE(h.flags) != 0 ||
        h.qdcount != 1) {
        r->c.rejected++;
        return false;
    }
    if (tern_dns_question_parse(msg, len, &off, &qu) != TERN_OK) {
        r->c.malformed++;
        return false;
    }
    if (!tern_dns_name_eq(qu.name, q->name) || qu.type != q->ans.qtype ||
        qu.klass != TERN_DNS_CLASS_IN) {
        r->c.rejected++;
        return false;
    }
    uint8_t rcode = TERN_DNS_RCODE(h.flags);
    if ((h.flags & TERN_DNS_FLAG_TC) && !over_tcp &&
        (q->v6 || q->servers[q->server] != MDNS_GROUP)) {
        /* RFC 1035 section 4.2.2 / RFC 7766 section 5: "If the resolver receives a
         * response with the TC bit set, it SHOULD ... retry the query using TCP" —
         * the same server, now. */
        r->c.truncated++;
        start_tcp(st, now, q);
        return true;
    }
    if ((h.flags & TERN_DNS_FLAG_TC) || (rcode != 0 && rcode != 3)) {
        /* SERVFAIL, REFUSED, ...: this server cannot help (nor can a truncated TCP answer). */
        r->c.answers++;
        next_server(st, now, q, TERN_DNS_FAILED);
        return true;
    }
    if (rcode == 3) {
        r->c.answers++;
        finish_negative(st, now, q, TERN_DNS_NXDOMAIN, msg, len, off, &h);
        return true;
    }
    tern_dns_answer a;
    memset(&a, 0, sizeof a);
    bool chain_stops = false;
    uint32_t links_before = q->links;
    if (read_answer(msg, len, off, h.ancount, q, &a, &chain_stops) != TERN_OK) {
        q->links = links_before;
        r->c.malformed++; /* ignored: the query keeps waiting for a good answer */
        return false;
    }
    r->c.answers++;
    if (a.status == TERN_DNS_CNAME_LOOP) {
        finish(q, TERN_DNS_CNAME_LOOP);
        return true;
    }
    if (chain_stops) {
        /* The answer ends at a CNAME: ask for its target (same bound). */
        memcpy(q->name, a.canonical, strlen(a.canonical) + 1);
        new_transaction(st, q);
        q->next_at = now;
        return true;
    }
    if (a.n_addrs == 0) {
        finish_negative(st, now, q, TERN_DNS_NODATA, msg, len, off, &h);
        return true;
    }
    a.status = TERN_DNS_OK;
    a.qtype = q->ans.qtype;
    char asked[TERN_DNS_NAME_MAX + 1];
    memcpy(asked, q->ans.canonical, sizeof asked); /* the original name, kept there */
    q->ans = a;
    q->next_at = TERN_NEVER;
    cache_put(r, asked, &a, now);
    return true;
}

bool tern_dns_input(tern_stack *st, uint64_t now, const tern_addr *src,
                    const struct tern_udp_repr *udp) {
    tern_dns_resolver *r = &st->dns;
    for (uint32_t i = 0; i < r->nq; i++) {
        tern_dns_query_slot *q = &r->q[i];
        if (!q->used || q->ans.status != TERN_DNS_PENDING || !q->sent || q->tcp ||
            udp->dst_port != q->port) {
            continue;
        }
        bool group = !q->v6 && q->servers[q->server] == MDNS_GROUP;
        tern_addr server = server_addr(q);
        if (udp->src_port != current_port(q) || (!group && !tern_addr_eq(src, &server))) {
            /* RFC 5452 9.1: from the server asked (any host of the link answers a multicast
             * one-shot query, from port 5353) */
            r->c.rejected++;
            return true;
        }
        on_answer(st, now, q, udp->payload, udp->payload_len, false);
        return true;
    }
    return false;
}

/* ---- TCP (RFC 7766) ------------------------------------------------------------- */

/* RFC 1035 section 4.2.2: "The message is prefixed with a two byte length field which gives the
 * message length, excluding the two byte length field." The query goes to the server that sent
 * the truncated answer, from a new connection, with the same ID. */
static void start_tcp(tern_stack *st, uint64_t now, tern_dns_query_slot *q) {
    tern_dns_resolver *r = &st->dns;
    uint8_t buf[2 + TERN_DNS_HDR_LEN + TERN_DNS_MAX_NAME_WIRE + 4];
    size_t n = 0, sent = 0;
    tern_sock s = 0;
    tern_addr dst = server_addr(q);
    if (tern_dns_query_emit(q->id, true, q->name, q->ans.qtype, buf + 2, sizeof buf - 2, &n) !=
            TERN_OK ||
        tern_tcp_open(st, &s) != TERN_OK) {
        r->c.tcp_failed++;
        next_server(st, now, q, TERN_DNS_FAILED);
        return;
    }
    tern_put_u16(buf, (uint16_t)n);
    if (tern_tcp_connect(st, s, &dst, TERN_DNS_PORT) != TERN_OK ||
        tern_tcp_send(st, s, buf, n + 2, &sent) != TERN_OK || sent != n + 2) {
        tern_tcp_abort(st, s);
        r->c.tcp_failed++;
        next_server(st, now, q, TERN_DNS_FAILED);
        return;
    }
    r->c.tcp_queries++;
    q->tcp = true;
    q->tcp_sock = s;
    q->tcp_have = 0;
    q->next_at = now + q->wait; /* the same wait as over UDP for the whole exchange */
}

/* Give up the TCP exchange: abort the connection, next server. */
static void tcp_fail(tern_stack *st, uint64_t now, tern_dns_query_slot *q, bool timeout) {
    tern_tcp_abort(st, q->tcp_sock);
    q->tcp = false;
    if (timeout) {
        st->dns.c.timeouts++;
    } else {
        st->dns.c.tcp_failed++;
    }
    next_server(st, now, q, timeout ? TERN_DNS_TIMEOUT : TERN_DNS_FAILED);
}

static void poll_tcp(tern_stack *st, uint64_t now, tern_dns_query_slot *q) {
    bool ended = false;
    while (q->tcp_have < sizeof q->tcp_buf) {
        size_t got = 0;
        tern_err e = tern_tcp_recv(st, q->tcp_sock, q->tcp_buf + q->tcp_have,
                                   sizeof q->tcp_buf - q->tcp_have, &got);
        if (e == TERN_ERR_WOULD_BLOCK) {
            break;
        }
        if (e != TERN_OK || got == 0) {
            ended = true; /* reset, refused, or the server closed before the whole answer */
            break;
        }
        q->tcp_have += (uint32_t)got;
    }
    if (q->tcp_have >= 2) {
        size_t need = tern_get_u16(q->tcp_buf);
        if (need > TERN_DNS_TCP_MAX) {
            tcp_fail(st, now, q, false); /* larger than we take */
            return;
        }
        if (q->tcp_have >= 2 + need) {
            tern_tcp_close(st, q->tcp_sock); /* RFC 7766 section 6.2.1: one query, then close */
            q->tcp = false;
            if (!on_answer(st, now, q, q->tcp_buf + 2, need, true)) {
                st->dns.c.tcp_failed++;
                next_server(st, now, q, TERN_DNS_FAILED);
            }
            return;
        }
    }
    if (ended) {
        tcp_fail(st, now, q, false);
    } else if (now >= q->next_at) {
        tcp_fail(st, now, q, true);
    }
}

/* ---- timers -------------------------------------------------------------------- */

void tern_dns_poll(tern_stack *st, uint64_t now) {
    if (st->dns_queries == 0) {
        return; /* the slots (kB apart, cold in a large simulation) are not read */
    }
    tern_dns_resolver *r = &st->dns;
    for (uint32_t i = 0; i < r->nq; i++) {
        tern_dns_query_slot *q = &r->q[i];
        if (q->used && q->ans.status == TERN_DNS_PENDING && q->tcp) {
            poll_tcp(st, now, q);
            continue;
        }
        if (!q->used || q->ans.status != TERN_DNS_PENDING || now < q->next_at) {
            continue;
        }
        if (q->sent) {
            r->c.timeouts++;
            next_server(st, now, q, TERN_DNS_TIMEOUT);
            continue;
        }
        send_query(st, now, q);
        q->sent = true;
        q->next_at = now + q->wait;
    }
}

/* The earliest deadline of the queries in use (every slot read). */
static uint64_t queries_poll_at(const tern_stack *st) {
    uint64_t t = TERN_NEVER;
    for (uint32_t i = 0; i < st->dns.nq; i++) {
        const tern_dns_query_slot *q = &st->dns.q[i];
        if (!q->used || q->ans.status != TERN_DNS_PENDING) {
            continue;
        }
        if (q->tcp) {
            /* Bytes to read, or the connection ended: now. */
            tern_tcp_info info;
            if (tern_tcp_readable(st, q->tcp_sock) ||
                tern_tcp_get_info(st, q->tcp_sock, &info) != TERN_OK ||
                info.state == TERN_TCP_CLOSED || info.state == TERN_TCP_CLOSE_WAIT) {
                return 0;
            }
        }
        if (q->next_at < t) {
            t = q->next_at;
        }
    }
    return t;
}

uint64_t tern_dns_poll_at(const tern_stack *st) {
    if (st->dns_queries == 0) { /* asked after every frame: no read of the slots, kB apart */
#ifdef TERN_POLL_CACHE_CHECK
        /* Test builds: a slot in use that the count missed is a bug; stop in the test that finds
         * it. */
        if (queries_poll_at(st) != TERN_NEVER) {
            __builtin_trap();
        }
#endif
        return TERN_NEVER;
    }
    return queries_poll_at(st);
}

/* ---- API ------------------------------------------------------------------------ */

tern_err tern_dns_configure(tern_stack *st, const tern_dns_config *cfg) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (cfg->n_servers > TERN_DNS_MAX_SERVERS) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dns: %u servers (at most %d)",
                         cfg->n_servers, TERN_DNS_MAX_SERVERS);
    }
    for (uint32_t i = 0; i < cfg->n_servers; i++) {
        if (cfg->servers[i] == 0 || cfg->servers[i] == 0xffffffffu) {
            return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dns: server %u is 0x%08x", i,
                             cfg->servers[i]);
        }
    }
    st->dns.cfg = *cfg;
    if (st->dns.cfg.timeout_ns == 0) {
        st->dns.cfg.timeout_ns = DEFAULT_TIMEOUT;
    }
    if (st->dns.cfg.rounds == 0) {
        st->dns.cfg.rounds = DEFAULT_ROUNDS;
    }
    return TERN_OK;
}

tern_err tern_dns_resolve(tern_stack *st, uint64_t now, const char *name, uint32_t *id) {
    return tern_dns_resolve_type(st, now, name, TERN_DNS_TYPE_A, id);
}

tern_err tern_dns_resolve_type(tern_stack *st, uint64_t now, const char *name, uint16_t qtype,
                               uint32_t *id) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    tern_dns_resolver *r = &st->dns;
    if (qtype != TERN_DNS_TYPE_A && qtype != TERN_DNS_TYPE_AAAA) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "dns: query type %u (1 A or 28 AAAA are supported)", qtype);
    }
    uint8_t wire[TERN_DNS_MAX_NAME_WIRE];
    size_t wlen = 0;
    if (strlen(name) > TERN_DNS_NAME_MAX + 1 ||
        tern_dns_name_encode(name, wire, sizeof wire, &wlen) != TERN_OK || wlen <= 1) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "dns: name is empty, has an empty label or a label over 63 octets, or "
                         "is over 255 octets");
    }
    if (r->cfg.timeout_ns == 0) {
        r->cfg.timeout_ns = DEFAULT_TIMEOUT;
        r->cfg.rounds = r->cfg.rounds ? r->cfg.rounds : DEFAULT_ROUNDS;
    }
    if (r->nq == 0) {
        return tern_fail(st, TERN_ERR_NO_BUFFER,
                         "dns: the resolver is off (dns_queries = TERN_POOL_NONE in the stack's "
                         "configuration: no query slot)");
    }
    tern_dns_query_slot *q = NULL;
    uint32_t k = 0;
    for (; k < r->nq; k++) {
        if (!r->q[k].used) {
            q = &r->q[k];
            break;
        }
    }
    if (!q) {
        return tern_fail(st, TERN_ERR_NO_BUFFER,
                         "dns: %u queries pending or unclaimed (dns_queries)", r->nq);
    }
    memset(q, 0, sizeof *q);
    q->used = true;
    st->dns_queries++;
    size_t n = strlen(name);
    if (n > 0 && name[n - 1] == '.') {
        n--;
    }
    memcpy(q->name, name, n);
    q->name[n] = '\0';
    memcpy(q->ans.canonical, q->name, n + 1);
    q->ans.qtype = qtype;
    *id = k;
    tern_dns_cache_entry *e = cache_find(r, q->name, qtype, now);
    if (e) {
        r->c.cache_hits++;
        q->ans = e->ans;
        q->ans.from_cache = true;
        /* What is left of the TTL, rounded down. */
        q->ans.ttl = (uint32_t)((e->expires_at - now) / SEC);
        q->next_at = TERN_NEVER;
        return TERN_OK;
    }
    if (is_local_name(q->name)) {
        q->servers[0] = MDNS_GROUP;
        q->n_servers = 1;
    } else if (r->cfg.n_servers) {
        memcpy(q->servers, r->cfg.servers, sizeof q->servers);
        q->n_servers = r->cfg.n_servers;
    } else if (st->niface > 0 && st->dhcpc[0].lease.n_dns) {
        const tern_dhcp_lease *l = &st->dhcpc[0].lease;
        for (uint32_t i = 0; i < l->n_dns && i < TERN_DNS_MAX_SERVERS; i++) {
            q->servers[q->n_servers++] = l->dns[i];
        }
    } else if (st->niface > 0 && st->dhcp6c[0].lease.n_dns) {
        /* RFC 3646 section 3: the DNS Recursive Name Server option of the interface 0 DHCPv6
         * lease (stateful or stateless): IPv6 servers. */
        const tern_dhcpv6_lease *l6 = &st->dhcp6c[0].lease;
        q->v6 = true;
        for (uint32_t i = 0; i < l6->n_dns && i < TERN_DNS_MAX_SERVERS; i++) {
            q->server6[q->n_servers++] = l6->dns[i];
        }
    }
    if (q->n_servers == 0) {
        finish(q, TERN_DNS_FAILED);
        return TERN_OK;
    }
    new_transaction(st, q);
    q->next_at = now;
    return TERN_OK;
}

tern_err tern_dns_result(tern_stack *st, uint32_t id, tern_dns_answer *out) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (id >= st->dns.nq || !st->dns.q[id].used) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dns: no query %u", id);
    }
    tern_dns_query_slot *q = &st->dns.q[id];
    *out = q->ans;
    if (q->ans.status != TERN_DNS_PENDING) {
        q->used = false;
        st->dns_queries--;
    }
    return TERN_OK;
}

void tern_dns_get_counters(const tern_stack *st, tern_dns_counters *out) {
    *out = st->dns.c;
}

void tern_dns_flush_cache(tern_stack *st) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    memset(st->dns.cache, 0, (size_t)st->dns.ncache * sizeof st->dns.cache[0]);
}

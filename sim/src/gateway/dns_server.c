/*
 * The gateway's DNS server: authoritative for the local domain, a forwarder
 * for the rest (RFC 1035).
 *
 * Local data: user records of any name, "gateway.<domain>" (the first
 * address of the first inside port), and "<guest>.<domain>" for each guest
 * with a bound lease whose DHCP messages named it (names.c). A local name
 * with records is answered with them (AA set); a name inside the domain
 * without any is NXDOMAIN (AA set); another type for a local name is an
 * empty NOERROR answer. Other names are forwarded to the first upstream
 * server with a fresh ID from the gateway's seeded generator (RFC 5452
 * section 9.2); without an answer within upstream_timeout the next
 * upstream is asked, and after the last one the client gets SERVFAIL. An
 * upstream answer is accepted only from the server asked, from port 53, with
 * the ID sent (RFC 5452 section 9.1), and relayed with the client's ID.
 *
 * Queries to port 53 of any gateway address are taken off the wire before
 * the stack sees them and answered with a frame built here, from the
 * address the query was sent to and to the MAC it came from: a resolver
 * accepts an answer only from the address it asked (RFC 5452 section 9.1),
 * and the stack binds a UDP port once for all its addresses, so a stack
 * socket would answer a query to a second address (slirp's 10.0.2.3) from
 * the first. Queries upstream go through a stack socket on the outside.
 */
#include <string.h>

#include "gateway/gateway_internal.h"
#include "wire/dns.h"

#define RCODE_FORMERR 1
#define RCODE_SERVFAIL 2
#define RCODE_NXDOMAIN 3
#define RCODE_NOTIMP 4
#define RCODE_REFUSED 5
#define BATCH 64 /* datagrams read per socket and call: bounded work */

tern_err gw_dns_start(gw_state *g) {
    tern_err e = tern_udp_open(g->stack, &g->up_sock);
    if (e == TERN_OK) {
        tern_addr any = tern_addr_v4(0, 0, 0, 0);
        e = tern_udp_bind(g->stack, g->up_sock, &any, 0);
    }
    if (e == TERN_OK) {
        g->dns_up = true;
    }
    return e;
}

static uint16_t next_id(gw_state *g) {
    /* xorshift64 (Marsaglia): deterministic from the gateway's seed. */
    uint64_t x = g->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    g->rng = x;
    return (uint16_t)(x >> 32);
}

/* ---- local data ----------------------------------------------------------------- */

/* name without its final '.', lowered into out. */
static void canon(const char *name, char *out, size_t cap) {
    size_t n = strlen(name);
    if (n && name[n - 1] == '.') {
        n--;
    }
    if (n >= cap) {
        n = cap - 1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = 0;
}

static uint32_t gateway_addr(const gw_state *g) {
    for (uint32_t p = 0; p < g->cfg.nports; p++) {
        if (!g->cfg.port[p].outside) {
            return g->cfg.port[p].addr[0];
        }
    }
    return g->cfg.port[0].addr[0];
}

tern_err gw_dns_local(gw_state *g, uint64_t now, const char *name, uint32_t *addrs, uint32_t cap,
                      uint32_t *n, uint32_t *ttl, bool *exists) {
    char q[SIM_GW_NAME_MAX + 2], dom[SIM_GW_DOMAIN_MAX + 1];
    canon(name ? name : "", q, sizeof q);
    canon(g->cfg.domain, dom, sizeof dom);
    *n = 0;
    *ttl = g->cfg.dns_ttl;
    *exists = false;
    for (uint32_t i = 0; i < g->nrecords; i++) {
        if (tern_dns_name_eq(g->records[i].name, q)) {
            if (*n < cap) {
                addrs[*n] = g->records[i].addr;
            }
            if (*n == 0) {
                *ttl = g->records[i].ttl;
            }
            (*n)++;
            *exists = true;
        }
    }
    if (*n) {
        return TERN_OK;
    }
    size_t ql = strlen(q), dl = strlen(dom);
    if (ql == dl && strcmp(q, dom) == 0) {
        *exists = true; /* the apex: no address of its own */
        return TERN_OK;
    }
    if (!(ql > dl + 1 && q[ql - dl - 1] == '.' && strcmp(q + ql - dl, dom) == 0)) {
        return TERN_ERR_EMPTY; /* not ours: forwarded */
    }
    char label[SIM_GW_NAME_MAX + 2];
    memcpy(label, q, ql - dl - 1);
    label[ql - dl - 1] = 0;
    uint32_t a = 0;
    if (strcmp(label, "gateway") == 0) {
        a = gateway_addr(g);
    } else if (!strchr(label, '.')) {
        a = gw_names_lookup(g, now, label);
    }
    if (a) {
        if (cap) {
            addrs[0] = a;
        }
        *n = 1;
        *exists = true;
    }
    return TERN_OK;
}

/* ---- answers -------------------------------------------------------------------- */

static void send_to_upstream(gw_state *g, uint32_t addr, const uint8_t *msg, size_t len) {
    tern_addr a = tern_addr_v4_from_u32(addr);
    tern_udp_sendto(g->stack, g->up_sock, &a, TERN_DNS_PORT, msg, len);
}

static uint16_t fold16(uint32_t s) {
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)s;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s) {
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += gw_get16(p + i);
    }
    if (n & 1) {
        s += (uint32_t)p[n - 1] << 8;
    }
    return s;
}

/* Answer a client: Ethernet, IPv4 (TTL 64, DF clear) and UDP from our port 53, checksums done. */
static void send_to_client(gw_state *g, const gw_client *c, const uint8_t *msg, size_t len) {
    uint8_t f[14 + 20 + 8 + 512];
    /* RFC 1035 4.2.1: "Messages carried by UDP are restricted to 512 bytes"; a longer upstream
     * answer is cut there with TC set ("this message was truncated", section 4.1.1). */
    bool truncated = len > 512;
    if (truncated) {
        len = 512;
    }
    memcpy(f, c->mac, 6);
    memcpy(f + 6, g->cfg.port[c->port].mac, 6);
    gw_put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    gw_put16(ip + 2, (uint16_t)(20 + 8 + len));
    gw_put16(ip + 4, g->ip_id++);
    ip[8] = 64;
    ip[9] = 17;
    gw_put32(ip + 12, c->server_addr);
    gw_put32(ip + 16, c->addr);
    gw_put16(ip + 10, (uint16_t)~fold16(sum16(ip, 20, 0)));
    uint8_t *udp = ip + 20;
    gw_put16(udp, TERN_DNS_PORT);
    gw_put16(udp + 2, c->udp_port);
    gw_put16(udp + 4, (uint16_t)(8 + len));
    gw_put16(udp + 6, 0);
    memcpy(udp + 8, msg, len);
    if (truncated) {
        udp[8 + 2] |= (uint8_t)(TERN_DNS_FLAG_TC >> 8);
    }
    uint32_t sum = sum16(ip + 12, 8, 0) + 17 + (uint32_t)(8 + len);
    uint16_t ck = (uint16_t)~fold16(sum16(udp, 8 + len, sum));
    gw_put16(udp + 6, ck ? ck : 0xffff);
    gw_send_frame(g, c->port, f, 14 + 20 + 8 + len);
}

/* A reply with only the header and the question (qend: end of the question, 12 if none). */
static size_t reply_head(uint8_t *out, const uint8_t *query, size_t qend, uint16_t qflags,
                         uint16_t rcode, bool aa, uint16_t ancount) {
    memcpy(out, query, qend);
    uint16_t flags = (uint16_t)(TERN_DNS_FLAG_QR | (qflags & 0x7800) | (qflags & TERN_DNS_FLAG_RD) |
                                TERN_DNS_FLAG_RA | (aa ? TERN_DNS_FLAG_AA : 0) | rcode);
    gw_put16(out + 2, flags);
    gw_put16(out + 4, qend > TERN_DNS_HDR_LEN ? 1 : 0);
    gw_put16(out + 6, ancount);
    gw_put16(out + 8, 0);
    gw_put16(out + 10, 0);
    return qend;
}

static void answer_query(gw_state *g, const gw_client *cl, const uint8_t *msg, size_t len,
                         uint64_t now) {
    struct tern_dns_header h;
    uint8_t out[512];
    if (tern_dns_header_parse(msg, len, &h) != TERN_OK || (h.flags & TERN_DNS_FLAG_QR)) {
        g->c.dns_malformed++; /* not a query: never answered, so two servers cannot loop */
        return;
    }
    g->c.dns_queries++;
    if (TERN_DNS_OPCODE(h.flags) != 0) {
        size_t n = reply_head(out, msg, TERN_DNS_HDR_LEN, h.flags, RCODE_NOTIMP, false, 0);
        send_to_client(g, cl, out, n);
        return;
    }
    struct tern_dns_question q;
    size_t off = TERN_DNS_HDR_LEN;
    if (h.qdcount != 1 || tern_dns_question_parse(msg, len, &off, &q) != TERN_OK ||
        off > sizeof out - 16 * 8) {
        size_t n = reply_head(out, msg, TERN_DNS_HDR_LEN, h.flags, RCODE_FORMERR, false, 0);
        send_to_client(g, cl, out, n);
        return;
    }
    uint32_t addrs[16], n = 0, ttl = 0;
    bool exists = false;
    if (gw_dns_local(g, now, q.name, addrs, 16, &n, &ttl, &exists) == TERN_OK) {
        bool want_a = q.type == TERN_DNS_TYPE_A || q.type == 255;
        uint16_t an = (uint16_t)(want_a ? (n > 16 ? 16 : n) : 0);
        size_t w = reply_head(out, msg, off, h.flags, exists ? 0 : RCODE_NXDOMAIN, true, an);
        for (uint16_t i = 0; i < an; i++) {
            gw_put16(out + w, 0xc000 | TERN_DNS_HDR_LEN); /* the question's name (RFC 1035 4.1.4) */
            gw_put16(out + w + 2, TERN_DNS_TYPE_A);
            gw_put16(out + w + 4, TERN_DNS_CLASS_IN);
            gw_put32(out + w + 6, ttl);
            gw_put16(out + w + 10, 4);
            gw_put32(out + w + 12, addrs[i]);
            w += 16;
        }
        if (exists) {
            g->c.dns_local++;
        } else {
            g->c.dns_nxdomain++;
        }
        send_to_client(g, cl, out, w);
        return;
    }
    size_t cached = gw_dns_cache_answer(g, now, msg, off, &q, out, sizeof out);
    if (cached) {
        send_to_client(g, cl, out, cached);
        return;
    }
    if (g->cfg.n_upstream == 0) {
        g->c.dns_servfail++;
        size_t w = reply_head(out, msg, off, h.flags, RCODE_SERVFAIL, false, 0);
        send_to_client(g, cl, out, w);
        return;
    }
    gw_pending *p = NULL;
    for (uint32_t i = 0; i < SIM_GW_DNS_PENDING && !p; i++) {
        if (!g->pending[i].used) {
            p = &g->pending[i];
        }
    }
    if (!p || len > sizeof p->query) {
        g->c.dns_refused++;
        size_t w = reply_head(out, msg, off, h.flags, RCODE_REFUSED, false, 0);
        send_to_client(g, cl, out, w);
        return;
    }
    p->used = true;
    p->client_id = h.id;
    p->client = *cl;
    p->server = 0;
    p->len = (uint16_t)len;
    memcpy(p->query, msg, len);
    p->upstream_id = next_id(g);
    gw_put16(p->query, p->upstream_id);
    p->deadline = now + g->cfg.upstream_timeout_ns;
    g->c.dns_forwarded++;
    send_to_upstream(g, g->cfg.upstream[0], p->query, p->len);
}

static void relay_answer(gw_state *g, uint8_t *msg, size_t len, uint32_t src, uint16_t sport) {
    struct tern_dns_header h;
    if (sport != TERN_DNS_PORT || tern_dns_header_parse(msg, len, &h) != TERN_OK ||
        !(h.flags & TERN_DNS_FLAG_QR)) {
        return;
    }
    for (uint32_t i = 0; i < SIM_GW_DNS_PENDING; i++) {
        gw_pending *p = &g->pending[i];
        if (p->used && p->upstream_id == h.id && g->cfg.upstream[p->server] == src) {
            gw_dns_cache_store(g, g->now, msg, len);
            gw_put16(msg, p->client_id);
            g->c.dns_upstream_answers++;
            send_to_client(g, &p->client, msg, len);
            p->used = false;
            return;
        }
    }
}

static void expire(gw_state *g, uint64_t now) {
    for (uint32_t i = 0; i < SIM_GW_DNS_PENDING; i++) {
        gw_pending *p = &g->pending[i];
        if (!p->used || p->deadline > now) {
            continue;
        }
        if (p->server + 1 < g->cfg.n_upstream) {
            p->server++;
            p->deadline = now + g->cfg.upstream_timeout_ns;
            g->c.dns_forwarded++;
            send_to_upstream(g, g->cfg.upstream[p->server], p->query, p->len);
            continue;
        }
        uint8_t out[512];
        struct tern_dns_question q;
        size_t off = TERN_DNS_HDR_LEN;
        size_t end = tern_dns_question_parse(p->query, p->len, &off, &q) == TERN_OK
                         ? off
                         : (size_t)TERN_DNS_HDR_LEN;
        uint16_t flags = gw_get16(p->query + 2);
        size_t w = reply_head(out, p->query, end, flags, RCODE_SERVFAIL, false, 0);
        gw_put16(out, p->client_id);
        g->c.dns_servfail++;
        send_to_client(g, &p->client, out, w);
        p->used = false;
    }
}

/* A query to port 53 of one of our addresses, unfragmented, its UDP checksum right. */
bool gw_dns_intercept(gw_state *g, uint32_t port, const uint8_t *frame, size_t len, uint64_t now) {
    if (len < 14 + 20 + 8 || gw_get16(frame + 12) != 0x0800) {
        return false;
    }
    const uint8_t *ip = frame + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t total = gw_get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || total > len - 14 || total < ihl + 8 || ip[9] != 17 ||
        (gw_get16(ip + 6) & 0x3fff) != 0 || fold16(sum16(ip, ihl, 0)) != 0xffff) {
        return false;
    }
    const uint8_t *udp = ip + ihl;
    size_t ulen = gw_get16(udp + 4);
    if (gw_get16(udp + 2) != TERN_DNS_PORT || ulen < 8 || ulen > total - ihl) {
        return false;
    }
    uint32_t dst = gw_get32(ip + 16);
    bool ours = false;
    for (uint32_t k = 0; k < g->cfg.port[port].naddrs; k++) {
        ours |= g->cfg.port[port].addr[k] == dst;
    }
    if (!ours) {
        return false; /* another segment's address, or forwarded traffic: the stack's */
    }
    if (gw_get16(udp + 6) != 0) {
        uint32_t sum = sum16(ip + 12, 8, 0) + 17 + (uint32_t)ulen;
        if (fold16(sum16(udp, ulen, sum)) != 0xffff) {
            g->c.dns_malformed++; /* RFC 1122 4.1.3.4: a bad checksum is silently discarded */
            return true;
        }
    }
    gw_client c;
    memcpy(c.mac, frame + 6, 6);
    c.port = port;
    c.addr = gw_get32(ip + 12);
    c.udp_port = gw_get16(udp);
    c.server_addr = dst;
    answer_query(g, &c, udp + 8, ulen - 8, now);
    return true;
}

void gw_dns_service(gw_state *g, uint64_t now) {
    uint8_t msg[1500];
    for (int i = 0; i < BATCH; i++) {
        size_t len;
        tern_addr src;
        uint16_t sport;
        if (tern_udp_recvfrom(g->stack, g->up_sock, msg, sizeof msg, &len, &src, &sport, NULL,
                              NULL) != TERN_OK) {
            break;
        }
        relay_answer(g, msg, len > sizeof msg ? sizeof msg : len, gw_get32(src.bytes), sport);
    }
    expire(g, now);
}

uint64_t gw_dns_poll_at(const gw_state *g) {
    uint64_t t = SIM_NEVER;
    if (tern_udp_pending(g->stack, g->up_sock)) {
        return 0;
    }
    for (uint32_t i = 0; i < SIM_GW_DNS_PENDING; i++) {
        if (g->pending[i].used && g->pending[i].deadline < t) {
            t = g->pending[i].deadline;
        }
    }
    return t;
}

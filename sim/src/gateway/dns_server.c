/*
 * The gateway's DNS server: authoritative for the local domain, a forwarder
 * for the rest (RFC 1035).
 *
 * Local data: user records of any name (A and AAAA, RFC 3596),
 * "gateway.<domain>" (the first address of the first inside port, and its
 * global IPv6 address when it has one), and "<guest>.<domain>" for each
 * guest whose DHCP messages named it (names.c): A while it has a bound
 * lease, AAAA for the IPv6 addresses it was seen using. A local name with
 * records of the type asked is answered with them (AA set); a name inside
 * the domain without any data is NXDOMAIN (AA set); another type for a
 * local name is an empty NOERROR answer (RFC 2308 section 2.2, NODATA). Other names are forwarded
 * to the first upstream server with a fresh ID from the gateway's seeded generator (RFC 5452
 * section 9.2); without an answer within upstream_timeout the next
 * upstream is asked, and after the last one the client gets SERVFAIL. An
 * upstream answer is accepted only from the server asked, from port 53, with
 * the ID sent (RFC 5452 section 9.1), and relayed with the client's ID.
 *
 * Queries come over IPv4 or IPv6 (to the port's global IPv6 address or its
 * link-local one, which its Router Advertisements name in RDNSS, ra.c).
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
#define TYPE_AAAA 28

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

/* The first inside port's global IPv6 address, or NULL when it has none. */
static const uint8_t *gateway_addr6(const gw_state *g) {
    static const uint8_t zero[16];
    for (uint32_t p = 0; p < g->cfg.nports; p++) {
        if (!g->cfg.port[p].outside) {
            return memcmp(g->cfg.port[p].addr6, zero, 16) ? g->cfg.port[p].addr6 : NULL;
        }
    }
    return NULL;
}

tern_err gw_dns_local(gw_state *g, uint64_t now, const char *name, uint32_t *addrs, uint32_t cap,
                      uint32_t *n, uint8_t (*addrs6)[16], uint32_t cap6, uint32_t *n6,
                      uint32_t *ttl, bool *exists) {
    char q[SIM_GW_NAME_MAX + 2], dom[SIM_GW_DOMAIN_MAX + 1];
    canon(name ? name : "", q, sizeof q);
    canon(g->cfg.domain, dom, sizeof dom);
    *n = 0;
    *n6 = 0;
    *ttl = g->cfg.dns_ttl;
    *exists = false;
    bool ttl_set = false;
    for (uint32_t i = 0; i < g->nrecords; i++) {
        const gw_record *r = &g->records[i];
        if (!tern_dns_name_eq(r->name, q)) {
            continue;
        }
        if (r->v6) {
            if (*n6 < cap6) {
                memcpy(addrs6[*n6], r->addr6, 16);
            }
            (*n6)++;
        } else {
            if (*n < cap) {
                addrs[*n] = r->addr;
            }
            (*n)++;
        }
        if (!ttl_set) {
            *ttl = r->ttl;
            ttl_set = true;
        }
        *exists = true;
    }
    if (*exists) {
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
        const uint8_t *a6 = gateway_addr6(g);
        if (a6) {
            if (cap6) {
                memcpy(addrs6[0], a6, 16);
            }
            *n6 = 1;
        }
    } else if (!strchr(label, '.')) {
        a = gw_names_lookup(g, now, label);
        *n6 = gw_names_lookup6(g, label, addrs6, cap6);
    }
    if (a) {
        if (cap) {
            addrs[0] = a;
        }
        *n = 1;
    }
    *exists = *n > 0 || *n6 > 0;
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

/* Answer a client over IPv6: Ethernet, IPv6 (Hop Limit 64) and UDP from our port 53; the UDP
 * checksum over the IPv6 pseudo-header (RFC 8200 section 8.1: mandatory). len <= 512. */
static void send_to_client6(gw_state *g, const gw_client *c, const uint8_t *msg, size_t len) {
    uint8_t f[14 + 40 + 8 + 512];
    memcpy(f, c->mac, 6);
    memcpy(f + 6, g->cfg.port[c->port].mac, 6);
    gw_put16(f + 12, 0x86dd);
    uint8_t *ip = f + 14;
    memset(ip, 0, 40);
    ip[0] = 0x60;
    gw_put16(ip + 4, (uint16_t)(8 + len));
    ip[6] = 17;
    ip[7] = 64;
    memcpy(ip + 8, c->server6, 16);
    memcpy(ip + 24, c->addr6, 16);
    uint8_t *udp = ip + 40;
    gw_put16(udp, TERN_DNS_PORT);
    gw_put16(udp + 2, c->udp_port);
    gw_put16(udp + 4, (uint16_t)(8 + len));
    gw_put16(udp + 6, 0);
    memcpy(udp + 8, msg, len);
    uint32_t sum = sum16(ip + 8, 32, 0) + 17 + (uint32_t)(8 + len);
    uint16_t ck = (uint16_t)~fold16(sum16(udp, 8 + len, sum));
    gw_put16(udp + 6, ck ? ck : 0xffff);
    gw_send_frame(g, c->port, f, 14 + 40 + 8 + len);
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
    if (c->v6) {
        uint8_t m[512];
        memcpy(m, msg, len);
        if (truncated) {
            m[2] |= (uint8_t)(TERN_DNS_FLAG_TC >> 8);
        }
        send_to_client6(g, c, m, len);
        return;
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
    uint32_t addrs[16], n = 0, n6 = 0, ttl = 0;
    uint8_t addrs6[8][16];
    bool exists = false;
    if (gw_dns_local(g, now, q.name, addrs, 16, &n, addrs6, 8, &n6, &ttl, &exists) == TERN_OK) {
        bool any = q.type == 255;
        uint16_t an = (uint16_t)(q.type == TERN_DNS_TYPE_A || any ? (n > 16 ? 16 : n) : 0);
        /* RFC 3596 section 2.1: "The AAAA resource record type is a record specific to the
         * Internet class that stores a single IPv6 address." Type 28, 16 bytes of RDATA. */
        uint16_t an6 = (uint16_t)(q.type == TYPE_AAAA || any ? (n6 > 8 ? 8 : n6) : 0);
        /* only the records that fit the 512-byte message */
        size_t room = sizeof out - off;
        if (an > room / 16) {
            an = (uint16_t)(room / 16);
        }
        room -= (size_t)an * 16;
        if (an6 > room / 28) {
            an6 = (uint16_t)(room / 28);
        }
        size_t w = reply_head(out, msg, off, h.flags, exists ? 0 : RCODE_NXDOMAIN, true,
                              (uint16_t)(an + an6));
        for (uint16_t i = 0; i < an; i++) {
            gw_put16(out + w, 0xc000 | TERN_DNS_HDR_LEN); /* the question's name (RFC 1035 4.1.4) */
            gw_put16(out + w + 2, TERN_DNS_TYPE_A);
            gw_put16(out + w + 4, TERN_DNS_CLASS_IN);
            gw_put32(out + w + 6, ttl);
            gw_put16(out + w + 10, 4);
            gw_put32(out + w + 12, addrs[i]);
            w += 16;
        }
        for (uint16_t i = 0; i < an6; i++) {
            gw_put16(out + w, 0xc000 | TERN_DNS_HDR_LEN);
            gw_put16(out + w + 2, TYPE_AAAA);
            gw_put16(out + w + 4, TERN_DNS_CLASS_IN);
            gw_put32(out + w + 6, ttl);
            gw_put16(out + w + 10, 16);
            memcpy(out + w + 12, addrs6[i], 16);
            w += 28;
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

/* An IPv6 query to port 53 of the port's global or link-local address (UDP right after the IPv6
 * header), its checksum right: a zero checksum is invalid over IPv6 (RFC 8200 section 8.1). */
static bool intercept6(gw_state *g, uint32_t port, const uint8_t *frame, size_t len, uint64_t now) {
    const uint8_t *ip = frame + 14;
    size_t plen = gw_get16(ip + 4);
    if (len < 14 + 40 + 8 || (ip[0] >> 4) != 6 || ip[6] != 17 || plen > len - 14 - 40 || plen < 8) {
        return false;
    }
    const uint8_t *udp = ip + 40;
    size_t ulen = gw_get16(udp + 4);
    if (gw_get16(udp + 2) != TERN_DNS_PORT || ulen < 8 || ulen > plen) {
        return false;
    }
    static const uint8_t zero[16];
    const sim_gw_port_config *p = &g->cfg.port[port];
    uint8_t ll[16];
    gw_link_local(p->mac, ll);
    bool global = memcmp(p->addr6, zero, 16) != 0 && memcmp(ip + 24, p->addr6, 16) == 0;
    if (!global && memcmp(ip + 24, ll, 16) != 0) {
        return false; /* not ours: the stack's (forwarded, or another segment's address) */
    }
    uint32_t sum = sum16(ip + 8, 32, 0) + 17 + (uint32_t)ulen;
    if (gw_get16(udp + 6) == 0 || fold16(sum16(udp, ulen, sum)) != 0xffff) {
        g->c.dns_malformed++; /* a bad checksum is silently discarded */
        return true;
    }
    gw_client c;
    memset(&c, 0, sizeof c);
    memcpy(c.mac, frame + 6, 6);
    c.port = port;
    c.udp_port = gw_get16(udp);
    c.v6 = true;
    memcpy(c.addr6, ip + 8, 16);
    memcpy(c.server6, ip + 24, 16);
    answer_query(g, &c, udp + 8, ulen - 8, now);
    return true;
}

/* A query to port 53 of one of our addresses, unfragmented, its UDP checksum right. */
bool gw_dns_intercept(gw_state *g, uint32_t port, const uint8_t *frame, size_t len, uint64_t now) {
    if (len >= 14 + 40 + 8 && gw_get16(frame + 12) == 0x86dd && port < g->cfg.nports) {
        return intercept6(g, port, frame, len, now);
    }
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
    memset(&c, 0, sizeof c);
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

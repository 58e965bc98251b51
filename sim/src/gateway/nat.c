/*
 * NAT of the gateway: mappings and the translation of headers.
 *
 * Behaviour (RFC 4787 for UDP, RFC 5382 for TCP, RFC 5508 for ICMP):
 *   - Endpoint-independent mapping: one mapping per inside (address, port)
 *     whatever the remote (RFC 4787 REQ-1, RFC 5382 REQ-1).
 *   - External port: the inside port itself when it is in the NAT range and
 *     free ("port preservation", RFC 4787 section 4.2.1), else the next free
 *     port of the range from a moving cursor: deterministic, no randomness.
 *   - Filtering: endpoint-independent, address-dependent or address and
 *     port-dependent (RFC 4787 section 5), per configuration.
 *   - Lifetime: each remote endpoint of a mapping is a session with its
 *     own deadline; the mapping lives as long as its latest session. UDP
 *     sessions are refreshed by outbound packets (RFC 4787 REQ-6) and, when
 *     configured, inbound ones; TCP sessions follow the SYN/FIN/RST flags
 *     seen both ways (RFC 5382 section 5): established timeout once SYNs
 *     went both ways, transitory timeout before and after.
 *   - ICMP echo: the identifier is mapped like a port (RFC 5508 section 3);
 *     ICMP errors about a mapped datagram are translated, the quoted header
 *     included (RFC 5508 section 4).
 *
 * Checksums are updated incrementally (RFC 1624 eqn. 3), so a first
 * fragment's transport checksum, which covers bytes the NAT never sees, is
 * still right; non-first fragments only get their source address rewritten.
 * Fragmented datagrams arriving from outside are not translated (their
 * later fragments carry no port): they reach the gateway itself.
 */
#include <stdio.h>
#include <string.h>

#include "gateway/gateway_internal.h"

#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17

uint16_t gw_get16(const uint8_t *p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}
uint32_t gw_get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
void gw_put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
void gw_put32(uint8_t *p, uint32_t v) {
    gw_put16(p, (uint16_t)(v >> 16));
    gw_put16(p + 2, (uint16_t)v);
}

/* ---- checksums ------------------------------------------------------------ */

static uint16_t fold(uint32_t s) {
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)s;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word m -> m'. */
static void csum_fix16(uint8_t *ck, uint16_t old, uint16_t new_) {
    uint32_t s = (uint16_t)~gw_get16(ck);
    s += (uint16_t)~old;
    s += new_;
    gw_put16(ck, (uint16_t)~fold(s));
}

static void csum_fix32(uint8_t *ck, uint32_t old, uint32_t new_) {
    csum_fix16(ck, (uint16_t)(old >> 16), (uint16_t)(new_ >> 16));
    csum_fix16(ck, (uint16_t)old, (uint16_t)new_);
}

static uint16_t csum_full(const uint8_t *p, size_t len) {
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        s += gw_get16(p + i);
    }
    if (len & 1) {
        s += (uint32_t)p[len - 1] << 8;
    }
    return (uint16_t)~fold(s);
}

static void ip_header_checksum(uint8_t *ip, size_t ihl) {
    gw_put16(ip + 10, 0);
    gw_put16(ip + 10, csum_full(ip, ihl));
}

/* ---- parsing ---------------------------------------------------------------- */

typedef struct pkt {
    uint8_t *ip;
    size_t ihl, total;
    uint8_t proto;
    uint32_t src, dst;
    uint16_t frag_off; /* in bytes */
    bool mf;
    uint8_t *l4;
    size_t l4len; /* transport bytes present */
} pkt;

/* The IPv4 datagram of an untagged Ethernet frame, lengths checked. */
static bool parse(uint8_t *frame, size_t len, pkt *p) {
    if (len < 14 + 20 || gw_get16(frame + 12) != 0x0800) {
        return false;
    }
    uint8_t *ip = frame + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t total = gw_get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || total > len - 14) {
        return false;
    }
    p->ip = ip;
    p->ihl = ihl;
    p->total = total;
    p->proto = ip[9];
    p->src = gw_get32(ip + 12);
    p->dst = gw_get32(ip + 16);
    p->frag_off = (uint16_t)((gw_get16(ip + 6) & 0x1fff) * 8);
    p->mf = (gw_get16(ip + 6) & 0x2000) != 0;
    p->l4 = ip + ihl;
    p->l4len = total - ihl;
    return true;
}

static bool is_icmp_error(uint8_t type) {
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* Offset of the transport checksum, or 0 when the protocol has none we update. */
static size_t l4_csum_off(uint8_t proto) {
    return proto == P_TCP ? 16 : proto == P_UDP ? 6 : proto == P_ICMP ? 2 : 0;
}

/* ---- the table ----------------------------------------------------------------- */

static uint32_t mask_of(uint8_t len) {
    return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

bool gw_is_inside_host(const gw_state *g, uint32_t addr) {
    for (uint32_t i = 0; i < g->cfg.nports; i++) {
        const sim_gw_port_config *p = &g->cfg.port[i];
        if (p->outside) {
            continue;
        }
        uint32_t m = mask_of(p->prefix_len);
        if ((addr & m) == (p->addr[0] & m) && (addr & ~m) != 0 && (addr & ~m) != ~m) {
            for (uint32_t k = 0; k < p->naddrs; k++) {
                if (p->addr[k] == addr) {
                    return false;
                }
            }
            return true;
        }
    }
    return false;
}

static bool is_own(const gw_state *g, uint32_t addr) {
    for (uint32_t i = 0; i < g->cfg.nports; i++) {
        for (uint32_t k = 0; k < g->cfg.port[i].naddrs; k++) {
            if (g->cfg.port[i].addr[k] == addr) {
                return true;
            }
        }
    }
    return false;
}

static bool live(const gw_state *g, const sim_gw_nat_entry *e) {
    return e->expires_at > g->now;
}

static sim_gw_nat_entry *by_inside(gw_state *g, uint8_t proto, uint32_t addr, uint16_t port) {
    for (uint32_t i = 0; i < g->nnat; i++) {
        sim_gw_nat_entry *e = &g->nat[i];
        if (e->protocol == proto && e->inside_addr == addr && e->inside_port == port &&
            live(g, e)) {
            return e;
        }
    }
    return NULL;
}

static sim_gw_nat_entry *by_outside(gw_state *g, uint8_t proto, uint16_t port) {
    for (uint32_t i = 0; i < g->nnat; i++) {
        sim_gw_nat_entry *e = &g->nat[i];
        if (e->protocol == proto && e->outside_port == port && live(g, e)) {
            return e;
        }
    }
    return NULL;
}

/* Drop expired mappings, keeping the creation order. */
static void compact(gw_state *g) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < g->nnat; i++) {
        if (live(g, &g->nat[i])) {
            g->nat[k++] = g->nat[i];
        } else {
            g->c.nat_mappings_expired++;
        }
    }
    g->nnat = k;
}

static int proto_index(uint8_t proto) {
    return proto == P_TCP ? 0 : proto == P_UDP ? 1 : 2;
}

/*
 * An external port for a new mapping of inside port `want`: the port itself when free ("port
 * preservation"), else the next free one from a moving cursor, in the same class as `want`.
 * RFC 4787 REQ-3a: "If the host's source port was in the range 0-1023, it is RECOMMENDED the
 * NAT's source port be in the same range. If the host's source port was in the range
 * 1024-65535, it is RECOMMENDED that the NAT's source port be in that range." Low ports are
 * taken from 1..1023 (port 53 left to the gateway's DNS server), the others from the NAT range.
 */
static bool pick_port(gw_state *g, uint8_t proto, uint16_t want, uint16_t *out) {
    bool low = proto != P_ICMP && want < 1024;
    uint16_t lo = low ? 1 : g->cfg.nat_port_low, hi = low ? 1023 : g->cfg.nat_port_high;
    bool usable = proto == P_ICMP || (want >= lo && want <= hi && !(g->dns_up && want == 53));
    if (usable && !by_outside(g, proto, want)) {
        *out = want;
        return true;
    }
    uint32_t n = (uint32_t)(hi - lo) + 1;
    uint16_t *cur = low ? &g->next_low[proto_index(proto)] : &g->next_port[proto_index(proto)];
    if (*cur < lo || *cur > hi) {
        *cur = lo;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint16_t c = *cur;
        *cur = c == hi ? lo : (uint16_t)(c + 1);
        if (!by_outside(g, proto, c) && !(g->dns_up && c == 53)) {
            *out = c;
            return true;
        }
    }
    g->c.nat_ports_exhausted++;
    return false;
}

static sim_gw_nat_entry *new_entry(gw_state *g) {
    if (g->nnat == g->cfg.nat_max_mappings) {
        compact(g);
    }
    if (g->nnat == g->cfg.nat_max_mappings) {
        return NULL;
    }
    sim_gw_nat_entry *e = &g->nat[g->nnat++];
    memset(e, 0, sizeof *e);
    e->created_at = g->now;
    return e;
}

static sim_gw_nat_entry *create(gw_state *g, uint8_t proto, uint32_t iaddr, uint16_t iport) {
    uint16_t oport;
    if (!pick_port(g, proto, iport, &oport)) {
        g->c.nat_table_full++;
        return NULL;
    }
    sim_gw_nat_entry *e = new_entry(g);
    if (!e) {
        g->c.nat_table_full++;
        return NULL;
    }
    e->protocol = proto;
    e->inside_addr = iaddr;
    e->inside_port = iport;
    e->outside_addr = gw_outside_addr(g);
    e->outside_port = oport;
    e->expires_at = g->now + 1; /* until the first session sets it */
    g->c.nat_mappings_created++;
    return e;
}

/* The session of remote (addr, port), made when missing (reusing the one that ends first). */
static sim_gw_nat_session *session(gw_state *g, sim_gw_nat_entry *e, uint32_t raddr, uint16_t rport,
                                   bool create_it) {
    for (uint32_t i = 0; i < e->nsessions; i++) {
        sim_gw_nat_session *s = &e->sessions[i];
        if (s->remote_addr == raddr && s->remote_port == rport && s->expires_at > g->now) {
            return s;
        }
    }
    if (!create_it) {
        return NULL;
    }
    sim_gw_nat_session *s = NULL;
    if (e->nsessions < SIM_GW_NAT_SESSIONS) {
        s = &e->sessions[e->nsessions++];
    } else {
        s = &e->sessions[0];
        for (uint32_t i = 1; i < e->nsessions; i++) {
            if (e->sessions[i].expires_at < s->expires_at) {
                s = &e->sessions[i];
            }
        }
    }
    memset(s, 0, sizeof *s);
    s->remote_addr = raddr;
    s->remote_port = rport;
    s->tcp_state = e->protocol == P_TCP ? SIM_GW_TCP_SYN_SENT : SIM_GW_TCP_NONE;
    return s;
}

enum { SEEN_SYN_OUT = 1, SEEN_SYN_IN = 2, SEEN_FIN_OUT = 4, SEEN_FIN_IN = 8, SEEN_RST = 16 };

/* Refresh a session's deadline after a packet (outbound or inbound) with TCP flags `flags`. */
static void touch(gw_state *g, sim_gw_nat_entry *e, sim_gw_nat_session *s, bool outbound,
                  uint8_t flags) {
    const sim_gw_config *c = &g->cfg;
    uint64_t life;
    if (e->protocol == P_TCP) {
        uint8_t *seen = &s->tcp_seen;
        if (flags & 0x04) {
            *seen |= SEEN_RST;
        }
        if (flags & 0x02) {
            *seen |= outbound ? SEEN_SYN_OUT : SEEN_SYN_IN;
        }
        if (flags & 0x01) {
            *seen |= outbound ? SEEN_FIN_OUT : SEEN_FIN_IN;
        }
        uint8_t v = *seen;
        if ((v & SEEN_RST) || ((v & SEEN_FIN_OUT) && (v & SEEN_FIN_IN))) {
            s->tcp_state = SIM_GW_TCP_CLOSED;
        } else if (v & (SEEN_FIN_OUT | SEEN_FIN_IN)) {
            s->tcp_state = SIM_GW_TCP_FIN;
        } else if ((v & SEEN_SYN_OUT) && (v & SEEN_SYN_IN)) {
            s->tcp_state = SIM_GW_TCP_ESTABLISHED;
        } else {
            s->tcp_state = SIM_GW_TCP_SYN_SENT;
        }
        /* RFC 5382 REQ-5: established idle-timeout, transitory before and after. */
        life = s->tcp_state == SIM_GW_TCP_ESTABLISHED ? c->nat_tcp_established_ns
                                                      : c->nat_tcp_transitory_ns;
    } else if (e->protocol == P_UDP) {
        if (!outbound && !c->nat_inbound_refresh && s->expires_at > g->now) {
            life = 0; /* RFC 4787 REQ-6: inbound refresh is optional; off unless configured */
        } else {
            life = c->nat_udp_timeout_ns;
        }
    } else {
        life = c->nat_icmp_timeout_ns;
    }
    if (outbound) {
        s->packets_out++;
    } else {
        s->packets_in++;
    }
    if (life) {
        s->expires_at = g->now + life;
    }
    if (!e->forward) {
        uint64_t m = 0;
        for (uint32_t i = 0; i < e->nsessions; i++) {
            if (e->sessions[i].expires_at > m) {
                m = e->sessions[i].expires_at;
            }
        }
        e->expires_at = m;
    }
}

/* RFC 4787 section 5: may remote (addr, port) send to this mapping? */
static bool filter_allows(gw_state *g, const sim_gw_nat_entry *e, uint32_t raddr, uint16_t rport) {
    if (e->forward || g->cfg.nat_filtering == SIM_GW_FILTER_ENDPOINT_INDEPENDENT) {
        return true;
    }
    for (uint32_t i = 0; i < e->nsessions; i++) {
        const sim_gw_nat_session *s = &e->sessions[i];
        if (s->expires_at > g->now && s->remote_addr == raddr &&
            (g->cfg.nat_filtering == SIM_GW_FILTER_ADDRESS_DEPENDENT || s->remote_port == rport)) {
            return true;
        }
    }
    return false;
}

/* Rewrite an address field at `field` covered by the transport checksum at `ck` (NULL: none). */
static void rewrite_addr(uint8_t *field, uint32_t new_, uint8_t *ck, bool udp) {
    uint32_t old = gw_get32(field);
    if (ck && !(udp && gw_get16(ck) == 0)) {
        csum_fix32(ck, old, new_);
        if (udp && gw_get16(ck) == 0) {
            gw_put16(ck, 0xffff); /* RFC 768: a computed zero is sent as all ones */
        }
    }
    gw_put32(field, new_);
}

static void rewrite_port(uint8_t *field, uint16_t new_, uint8_t *ck, bool udp) {
    uint16_t old = gw_get16(field);
    if (ck && !(udp && gw_get16(ck) == 0)) {
        csum_fix16(ck, old, new_);
        if (udp && gw_get16(ck) == 0) {
            gw_put16(ck, 0xffff);
        }
    }
    gw_put16(field, new_);
}

static void icmp_checksum(pkt *p) {
    gw_put16(p->l4 + 2, 0);
    gw_put16(p->l4 + 2, csum_full(p->l4, p->l4len));
}

/* The quoted datagram of an ICMP error: header at emb, transport at el4 (8 bytes at least). */
typedef struct quoted {
    uint8_t *emb, *el4;
    size_t eihl, elen; /* bytes of the quote present */
    uint8_t proto;
} quoted;

static bool parse_quote(const pkt *p, quoted *q) {
    if (p->l4len < 8 + 20) {
        return false;
    }
    q->emb = p->l4 + 8;
    q->elen = p->l4len - 8;
    q->eihl = (size_t)(q->emb[0] & 15) * 4;
    if ((q->emb[0] >> 4) != 4 || q->eihl < 20 || q->elen < q->eihl + 8) {
        return false;
    }
    q->proto = q->emb[9];
    q->el4 = q->emb + q->eihl;
    return q->proto == P_TCP || q->proto == P_UDP || q->proto == P_ICMP;
}

/* The quote's transport checksum field, when the quote holds it. */
static uint8_t *quote_csum(const quoted *q) {
    size_t off = l4_csum_off(q->proto);
    return q->elen >= q->eihl + off + 2 ? q->el4 + off : NULL;
}

/*
 * RFC 5382 REQ-4: "A NAT MUST NOT respond to an unsolicited inbound SYN packet for at least 6
 * seconds after the packet is received. If during this interval the NAT receives and translates
 * an outbound SYN for the connection the NAT MUST silently drop the original unsolicited inbound
 * SYN packet. Otherwise, the NAT SHOULD send an ICMP Port Unreachable error (Type 3, Code 3) for
 * the original SYN". This is what lets two guests behind NATs open a connection to each other
 * (simultaneous open); a RST from the gateway's stack would end the attempt at once.
 */
#define SYN_HOLD_NS (6 * GW_SEC)

static void hold_syn(gw_state *g, const uint8_t *frame, const pkt *p, uint16_t sport,
                     uint16_t dport) {
    gw_held_syn *h = NULL;
    for (uint32_t i = 0; i < GW_HELD_SYNS; i++) {
        gw_held_syn *c = &g->held[i];
        if (c->used && c->remote == p->src && c->remote_port == sport && c->port == dport) {
            g->c.nat_syn_held++; /* a retransmission of a SYN held already: one answer */
            return;
        }
        if (!c->used && !h) {
            h = c;
        }
    }
    if (!h) {
        g->c.nat_syn_overflow++;
        return;
    }
    h->used = true;
    memcpy(h->mac, frame + 6, 6);
    h->remote = p->src;
    h->remote_port = sport;
    h->port = dport;
    h->deadline = g->now + SYN_HOLD_NS;
    h->quote_len = (uint8_t)(p->ihl + 8);
    memcpy(h->quote, p->ip, h->quote_len);
    g->c.nat_syn_held++;
}

static void drop_held_syn(gw_state *g, uint32_t remote, uint16_t rport, uint16_t oport) {
    for (uint32_t i = 0; i < GW_HELD_SYNS; i++) {
        gw_held_syn *h = &g->held[i];
        if (h->used && h->remote == remote && h->remote_port == rport && h->port == oport) {
            h->used = false;
            g->c.nat_syn_dropped++;
        }
    }
}

/* The stack's ICMP error limit, the same token bucket for the gateway's own errors
 * (RFC 1122 3.2.2: a host "SHOULD" limit them; rate per second, burst). */
static bool icmp_allowed(gw_state *g, uint64_t now) {
    uint32_t rate = g->cfg.icmp_rate ? g->cfg.icmp_rate : 100;
    uint32_t burst = g->cfg.icmp_burst ? g->cfg.icmp_burst : 10;
    uint64_t cost = GW_SEC / rate, full = cost * burst;
    if (g->icmp_tokens_at + full < now || g->icmp_tokens_at == 0) {
        g->icmp_tokens_at = now > full ? now - full : 0;
    }
    if (g->icmp_tokens_at + cost > now) {
        return false;
    }
    g->icmp_tokens_at += cost;
    return true;
}

static void refuse_syn(gw_state *g, const gw_held_syn *h, uint64_t now) {
    if (!icmp_allowed(g, now)) {
        return;
    }
    uint8_t f[14 + 20 + 8 + sizeof h->quote];
    const sim_gw_port_config *out = &g->cfg.port[g->outside];
    memcpy(f, h->mac, 6);
    memcpy(f + 6, out->mac, 6);
    gw_put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    size_t icmp_len = 8 + h->quote_len;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    gw_put16(ip + 2, (uint16_t)(20 + icmp_len));
    gw_put16(ip + 4, g->ip_id_nat++);
    ip[8] = 64;
    ip[9] = P_ICMP;
    gw_put32(ip + 12, out->addr[0]);
    gw_put32(ip + 16, h->remote);
    ip_header_checksum(ip, 20);
    uint8_t *icmp = ip + 20;
    memset(icmp, 0, 8);
    icmp[0] = 3;
    icmp[1] = 3;
    memcpy(icmp + 8, h->quote, h->quote_len);
    gw_put16(icmp + 2, csum_full(icmp, icmp_len));
    g->c.nat_syn_refused++;
    gw_send_frame(g, (uint32_t)g->outside, f, 14 + 20 + icmp_len);
}

void gw_nat_poll(gw_state *g, uint64_t now) {
    for (uint32_t i = 0; i < GW_HELD_SYNS; i++) {
        gw_held_syn *h = &g->held[i];
        if (h->used && h->deadline <= now) {
            h->used = false;
            refuse_syn(g, h, now);
        }
    }
}

uint64_t gw_nat_poll_at(const gw_state *g) {
    uint64_t t = SIM_NEVER;
    for (uint32_t i = 0; i < GW_HELD_SYNS; i++) {
        if (g->held[i].used && g->held[i].deadline < t) {
            t = g->held[i].deadline;
        }
    }
    return t;
}

/* An ICMP error arriving from outside about a datagram a mapping sent (RFC 5508 section 4). */
static bool error_inbound(gw_state *g, pkt *p) {
    quoted q;
    if (!parse_quote(p, &q) || gw_get32(q.emb + 12) != gw_outside_addr(g)) {
        return true; /* about the gateway's own traffic: the stack reads it */
    }
    uint16_t key;
    uint8_t *keyfield;
    if (q.proto == P_ICMP) {
        if (q.el4[0] != 8) {
            return true;
        }
        keyfield = q.el4 + 4;
    } else {
        keyfield = q.el4;
    }
    key = gw_get16(keyfield);
    sim_gw_nat_entry *e = by_outside(g, q.proto, key);
    if (!e) {
        return true;
    }
    uint8_t *ck = quote_csum(&q);
    bool udp = q.proto == P_UDP;
    rewrite_addr(q.emb + 12, e->inside_addr, q.proto == P_ICMP ? NULL : ck, udp);
    csum_fix32(q.emb + 10, gw_outside_addr(g), e->inside_addr);
    rewrite_port(keyfield, e->inside_port, ck, udp);
    gw_put32(p->ip + 16, e->inside_addr);
    icmp_checksum(p);
    ip_header_checksum(p->ip, p->ihl);
    g->c.nat_icmp_errors_in++;
    return true;
}

bool gw_nat_inbound(gw_state *g, uint8_t *frame, size_t len) {
    pkt p;
    if (!parse(frame, len, &p) || p.dst != gw_outside_addr(g) || p.frag_off || p.mf) {
        return true;
    }
    if (p.proto == P_TCP || p.proto == P_UDP) {
        if (p.l4len < (p.proto == P_TCP ? 20u : 8u)) {
            return true;
        }
        uint16_t sport = gw_get16(p.l4), dport = gw_get16(p.l4 + 2);
        sim_gw_nat_entry *e = by_outside(g, p.proto, dport);
        bool bare_syn = p.proto == P_TCP && (p.l4[13] & 0x16) == 0x02; /* SYN, no ACK or RST */
        if (!e) {
            if (dport >= g->cfg.nat_port_low && dport <= g->cfg.nat_port_high) {
                g->c.nat_no_mapping++;
            }
            if (bare_syn) {
                hold_syn(g, frame, &p, sport, dport);
                return false;
            }
            return true;
        }
        if (!filter_allows(g, e, p.src, sport)) {
            g->c.nat_filtered++;
            if (bare_syn) {
                hold_syn(g, frame, &p, sport, dport);
            }
            return false;
        }
        sim_gw_nat_session *s = session(g, e, p.src, sport, true);
        touch(g, e, s, false, p.proto == P_TCP ? p.l4[13] : 0);
        bool udp = p.proto == P_UDP;
        uint8_t *ck = p.l4 + l4_csum_off(p.proto);
        rewrite_addr(p.ip + 16, e->inside_addr, ck, udp);
        rewrite_port(p.l4 + 2, e->inside_port, ck, udp);
        ip_header_checksum(p.ip, p.ihl);
        g->c.nat_in++;
        return true;
    }
    if (p.proto == P_ICMP && p.l4len >= 8) {
        uint8_t type = p.l4[0];
        if (type == 0) { /* echo reply */
            sim_gw_nat_entry *e = by_outside(g, P_ICMP, gw_get16(p.l4 + 4));
            if (!e) {
                return true;
            }
            if (!filter_allows(g, e, p.src, 0)) {
                g->c.nat_filtered++;
                return false;
            }
            touch(g, e, session(g, e, p.src, 0, true), false, 0);
            gw_put32(p.ip + 16, e->inside_addr);
            rewrite_port(p.l4 + 4, e->inside_port, p.l4 + 2, false);
            ip_header_checksum(p.ip, p.ihl);
            g->c.nat_in++;
            return true;
        }
        if (is_icmp_error(type)) {
            return error_inbound(g, &p);
        }
    }
    return true;
}

/*
 * An ICMP error leaving through the outside port about a datagram that came
 * in through a mapping: sent by an inside host (port unreachable...) or by
 * the gateway's stack itself (host unreachable for an inside address). The
 * quote names the inside endpoint: it becomes the mapping's outside one.
 */
static bool error_outbound(gw_state *g, pkt *p, bool own) {
    quoted q;
    if (!parse_quote(p, &q) || q.proto == P_ICMP) {
        if (own) {
            return true;
        }
        g->c.nat_unsupported++;
        return false;
    }
    uint32_t edst = gw_get32(q.emb + 16);
    sim_gw_nat_entry *e = by_inside(g, q.proto, edst, gw_get16(q.el4 + 2));
    if (!e) {
        if (own) {
            return true;
        }
        g->c.nat_unsupported++;
        return false;
    }
    uint8_t *ck = quote_csum(&q);
    bool udp = q.proto == P_UDP;
    rewrite_addr(q.emb + 16, e->outside_addr, ck, udp);
    csum_fix32(q.emb + 10, edst, e->outside_addr);
    rewrite_port(q.el4 + 2, e->outside_port, ck, udp);
    if (!own) {
        gw_put32(p->ip + 12, e->outside_addr);
    }
    icmp_checksum(p);
    ip_header_checksum(p->ip, p->ihl);
    g->c.nat_icmp_errors_out++;
    return true;
}

bool gw_nat_outbound(gw_state *g, uint8_t *frame, size_t len) {
    pkt p;
    if (!parse(frame, len, &p)) {
        return true; /* ARP and the rest: the gateway's own */
    }
    bool icmp_error = p.proto == P_ICMP && !p.frag_off && p.l4len >= 8 && is_icmp_error(p.l4[0]);
    if (is_own(g, p.src)) {
        return icmp_error ? error_outbound(g, &p, true) : true;
    }
    if (!gw_is_inside_host(g, p.src)) {
        g->c.nat_unsupported++;
        return false;
    }
    uint32_t out_addr = gw_outside_addr(g);
    if (p.frag_off) {
        /* A later fragment: no transport header, only the address changes. */
        gw_put32(p.ip + 12, out_addr);
        ip_header_checksum(p.ip, p.ihl);
        g->c.nat_fragments_out++;
        return true;
    }
    if (p.proto == P_TCP || p.proto == P_UDP) {
        if (p.l4len < (p.proto == P_TCP ? 20u : 8u)) {
            g->c.nat_unsupported++;
            return false;
        }
        uint16_t sport = gw_get16(p.l4), dport = gw_get16(p.l4 + 2);
        sim_gw_nat_entry *e = by_inside(g, p.proto, p.src, sport);
        if (!e && !(e = create(g, p.proto, p.src, sport))) {
            return false;
        }
        sim_gw_nat_session *s = session(g, e, p.dst, dport, true);
        touch(g, e, s, true, p.proto == P_TCP ? p.l4[13] : 0);
        if (p.proto == P_TCP && (p.l4[13] & 0x02)) {
            drop_held_syn(g, p.dst, dport, e->outside_port);
        }
        bool udp = p.proto == P_UDP;
        uint8_t *ck = p.l4 + l4_csum_off(p.proto);
        rewrite_addr(p.ip + 12, e->outside_addr, ck, udp);
        rewrite_port(p.l4, e->outside_port, ck, udp);
        ip_header_checksum(p.ip, p.ihl);
        g->c.nat_out++;
        return true;
    }
    if (p.proto == P_ICMP && p.l4len >= 8 && p.l4[0] == 8) { /* echo request */
        uint16_t id = gw_get16(p.l4 + 4);
        sim_gw_nat_entry *e = by_inside(g, P_ICMP, p.src, id);
        if (!e && !(e = create(g, P_ICMP, p.src, id))) {
            return false;
        }
        touch(g, e, session(g, e, p.dst, 0, true), true, 0);
        gw_put32(p.ip + 12, e->outside_addr);
        rewrite_port(p.l4 + 4, e->outside_port, p.l4 + 2, false);
        ip_header_checksum(p.ip, p.ihl);
        g->c.nat_out++;
        return true;
    }
    if (icmp_error) {
        return error_outbound(g, &p, false);
    }
    g->c.nat_unsupported++;
    return false;
}

/* ---- port forwards -------------------------------------------------------------- */

static void ip_text(uint32_t a, char out[16]) {
    snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

tern_err gw_nat_forward_add(gw_state *g, uint8_t proto, uint16_t oport, uint32_t iaddr,
                            uint16_t iport) {
    const char *pn = proto == P_TCP ? "tcp" : "udp";
    char a[16];
    ip_text(iaddr, a);
    if (g->outside < 0) {
        return sim_fail(g->s, TERN_ERR_INVALID_ARGUMENT,
                        "port forward: the gateway has no outside port");
    }
    if (proto != P_TCP && proto != P_UDP) {
        return sim_fail(g->s, TERN_ERR_INVALID_ARGUMENT,
                        "port forward protocol: %u, must be 6 (tcp) or 17 (udp)", proto);
    }
    if (oport == 0 || iport == 0) {
        return sim_fail(g->s, TERN_ERR_INVALID_ARGUMENT, "port forward %s: port 0", pn);
    }
    if (!gw_is_inside_host(g, iaddr)) {
        return sim_fail(g->s, TERN_ERR_INVALID_ARGUMENT,
                        "port forward %s %u: guest %s is not a host on an inside segment", pn,
                        oport, a);
    }
    sim_gw_nat_entry *e = by_outside(g, proto, oport);
    if (e) {
        char b[16];
        ip_text(e->inside_addr, b);
        return sim_fail(g->s, TERN_ERR_ADDR_IN_USE,
                        "port forward %s %u: outside port already used by %s %s:%u", pn, oport,
                        e->forward ? "the forward to" : "a mapping of", b, e->inside_port);
    }
    if ((e = by_inside(g, proto, iaddr, iport)) != NULL) {
        return sim_fail(g->s, TERN_ERR_ADDR_IN_USE,
                        "port forward %s %u: guest %s:%u already has outside port %u", pn, oport, a,
                        iport, e->outside_port);
    }
    e = new_entry(g);
    if (!e) {
        return sim_fail(g->s, TERN_ERR_NO_BUFFER, "port forward %s %u: NAT table full (%u)", pn,
                        oport, g->cfg.nat_max_mappings);
    }
    e->protocol = proto;
    e->inside_addr = iaddr;
    e->inside_port = iport;
    e->outside_addr = gw_outside_addr(g);
    e->outside_port = oport;
    e->forward = true;
    e->expires_at = SIM_NEVER;
    sim_ok(g->s);
    return TERN_OK;
}

tern_err gw_nat_forward_del(gw_state *g, uint8_t proto, uint16_t oport) {
    for (uint32_t i = 0; i < g->nnat; i++) {
        sim_gw_nat_entry *e = &g->nat[i];
        if (e->forward && e->protocol == proto && e->outside_port == oport) {
            memmove(e, e + 1, (g->nnat - i - 1) * sizeof *e);
            g->nnat--;
            sim_ok(g->s);
            return TERN_OK;
        }
    }
    return sim_fail(g->s, TERN_ERR_EMPTY, "port forward %u/%u: none", proto, oport);
}

/* ---- hairpinning ------------------------------------------------------------------ */

/*
 * RFC 4787 REQ-9: "A NAT MUST support "Hairpinning"." and b) "A NAT that supports hairpinning
 * SHOULD... " have an "External source IP address and port" behaviour: a guest that sends to the
 * outside address and a port mapped to another guest reaches it, seen from its own mapping's
 * outside address and port. The stack cannot route this (the destination is one of its own
 * addresses, and the translated source would be too), so the gateway sends the translated
 * frame itself to the other guest's MAC, from the stack's ARP cache; a guest not in the cache
 * (it never spoke on its segment within the ARP timeout) is counted and the datagram dropped.
 */
bool gw_nat_hairpin(gw_state *g, uint8_t *frame, size_t len) {
    pkt p;
    uint32_t out_addr = gw_outside_addr(g);
    if (!parse(frame, len, &p) || p.dst != out_addr || p.frag_off || p.mf ||
        (p.proto != P_TCP && p.proto != P_UDP) || p.l4len < (p.proto == P_TCP ? 20u : 8u) ||
        !gw_is_inside_host(g, p.src)) {
        return false;
    }
    uint16_t sport = gw_get16(p.l4), dport = gw_get16(p.l4 + 2);
    sim_gw_nat_entry *to = by_outside(g, p.proto, dport);
    if (!to) {
        return false; /* the gateway's own port: the stack answers */
    }
    if (p.ip[8] <= 1) {
        g->c.nat_unsupported++;
        return true;
    }
    sim_gw_nat_entry *from = by_inside(g, p.proto, p.src, sport);
    if (!from && !(from = create(g, p.proto, p.src, sport))) {
        return true;
    }
    to = by_outside(g, p.proto, dport); /* create() may have compacted the table */
    if (!to || !filter_allows(g, to, out_addr, from->outside_port)) {
        g->c.nat_filtered++;
        return true;
    }
    uint8_t flags = p.proto == P_TCP ? p.l4[13] : 0;
    touch(g, from, session(g, from, out_addr, to->outside_port, true), true, flags);
    touch(g, to, session(g, to, out_addr, from->outside_port, true), false, flags);
    tern_addr dst = tern_addr_v4_from_u32(to->inside_addr);
    uint8_t mac[6];
    uint32_t port = 0;
    for (uint32_t i = 0; i < g->cfg.nports; i++) {
        const sim_gw_port_config *pc = &g->cfg.port[i];
        uint32_t m = mask_of(pc->prefix_len);
        if (!pc->outside && (to->inside_addr & m) == (pc->addr[0] & m)) {
            port = i;
        }
    }
    if (tern_arp_lookup(g->stack, g->now, &dst, mac) != TERN_OK) {
        g->c.nat_hairpin_unresolved++;
        return true;
    }
    bool udp = p.proto == P_UDP;
    uint8_t *ck = p.l4 + l4_csum_off(p.proto);
    rewrite_addr(p.ip + 12, out_addr, ck, udp);
    rewrite_port(p.l4, from->outside_port, ck, udp);
    rewrite_addr(p.ip + 16, to->inside_addr, ck, udp);
    rewrite_port(p.l4 + 2, to->inside_port, ck, udp);
    p.ip[8]--;
    ip_header_checksum(p.ip, p.ihl);
    memcpy(frame, mac, 6);
    memcpy(frame + 6, g->cfg.port[port].mac, 6);
    g->c.nat_hairpinned++;
    gw_send_frame(g, port, frame, len);
    return true;
}

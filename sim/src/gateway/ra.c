/*
 * Router Advertisements of the gateway (RFC 4861 section 6.2) on the ports
 * configured with `ra`: the port's /64 as an on-link, autonomous prefix (so
 * guests form SLAAC addresses, RFC 4862 section 5.5.3), the gateway as
 * default router, the port's MTU. The stack inside answers Neighbor
 * Solicitations for the gateway's own addresses and forwards IPv6 between
 * the segments (stack/src/ipv6/forward6.c); this file only schedules and
 * builds the advertisements, which a host stack never sends.
 *
 * Schedule, all in virtual time with the gateway's seeded randomness:
 *   - the first RA when the node starts (time 0), the next after a random
 *     interval uniform in [MinRtrAdvInterval, MaxRtrAdvInterval] (section
 *     6.2.4), capped for the first ones: "For the first few advertisements
 *     (up to MAX_INITIAL_RTR_ADVERTISEMENTS) sent from an interface when it
 *     becomes an advertising interface, if the randomly chosen interval is
 *     greater than MAX_INITIAL_RTR_ADVERT_INTERVAL, the timer SHOULD be set
 *     to MAX_INITIAL_RTR_ADVERT_INTERVAL instead."
 *   - a Router Solicitation (section 6.2.6): "Router Advertisements sent in
 *     response to a Router Solicitation MUST be delayed by a random time
 *     between 0 and MAX_RA_DELAY_TIME seconds. (If a single advertisement is
 *     sent in response to multiple solicitations, the delay is relative to
 *     the first solicitation.) In addition, consecutive Router
 *     Advertisements sent to the all-nodes multicast address MUST be rate
 *     limited to no more than one advertisement every MIN_DELAY_BETWEEN_RAS
 *     seconds." A delay that falls after the next scheduled RA is dropped
 *     (that RA answers); within MIN_DELAY_BETWEEN_RAS of the last RA the
 *     answer goes at last + MIN_DELAY_BETWEEN_RAS + the delay. Every RA is
 *     multicast to all-nodes and restarts the interval timer.
 *   - ceasing to advertise (sim_gateway_ra_stop: the port is removed or the
 *     gateway shuts down), section 6.2.5: "the router SHOULD transmit one or
 *     more (but not more than MAX_FINAL_RTR_ADVERTISEMENTS) final multicast
 *     Router Advertisements on the interface with a Router Lifetime field of
 *     zero." The gateway sends all three, the first at once (or
 *     MIN_DELAY_BETWEEN_RAS after the previous RA, the rate limit above), then
 *     one every MIN_DELAY_BETWEEN_RAS, so a guest that misses one still hears
 *     the next; their RDNSS lifetime is zero too (RFC 8106 section 5.1: the
 *     address "MUST no longer be used"). A solicitation meanwhile finds the
 *     next final RA already as early as the rate limit allows (so it is the
 *     answer), and after the last final RA the port is silent.
 * Constants of section 10: MAX_INITIAL_RTR_ADVERT_INTERVAL 16 s,
 * MAX_INITIAL_RTR_ADVERTISEMENTS 3, MAX_RA_DELAY_TIME 0.5 s,
 * MIN_DELAY_BETWEEN_RAS 3 s, MAX_FINAL_RTR_ADVERTISEMENTS 3.
 */
#include <string.h>

#include "gateway/gateway_internal.h"

#define MAX_INITIAL_RTR_ADVERT_INTERVAL (16 * GW_SEC)
#define MAX_INITIAL_RTR_ADVERTISEMENTS 3
#define MAX_RA_DELAY_TIME (GW_SEC / 2)
#define MIN_DELAY_BETWEEN_RAS (3 * GW_SEC)
#define MAX_FINAL_RTR_ADVERTISEMENTS 3

static uint64_t ra_random(gw_state *g) {
    /* xorshift64*, seeded from the gateway's seed (gateway.c) */
    uint64_t x = g->ra_rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    g->ra_rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* The link-local address the stack gives the port: fe80::/64 with the modified EUI-64 of its MAC
 * (RFC 4291 appendix A). */
void gw_link_local(const uint8_t mac[6], uint8_t out[16]) {
    memset(out, 0, 16);
    out[0] = 0xfe;
    out[1] = 0x80;
    out[8] = mac[0] ^ 0x02;
    out[9] = mac[1];
    out[10] = mac[2];
    out[11] = 0xff;
    out[12] = 0xfe;
    out[13] = mac[3];
    out[14] = mac[4];
    out[15] = mac[5];
}

void gw_ra_init(gw_state *g) {
    for (uint32_t i = 0; i < g->cfg.nports; i++) {
        gw_ra *r = &g->ra[i];
        memset(r, 0, sizeof *r);
        r->enabled = g->cfg.port[i].ra;
        r->next_at = r->enabled ? 0 : SIM_NEVER;
        r->last_at = SIM_NEVER;
    }
}

static uint16_t sum16(const uint8_t *p, size_t n, uint32_t acc) {
    for (size_t i = 0; i + 1 < n; i += 2) {
        acc += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        acc += (uint32_t)p[n - 1] << 8;
    }
    while (acc >> 16) {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    return (uint16_t)acc;
}

/* The address the port's RAs name as its recursive DNS server: the port's global address, or its
 * link-local one (the DNS server answers on both, dns_server.c). */
static void rdnss_addr(const gw_state *g, uint32_t port, uint8_t out[16]) {
    static const uint8_t zero[16];
    const sim_gw_port_config *p = &g->cfg.port[port];
    if (memcmp(p->addr6, zero, 16) != 0) {
        memcpy(out, p->addr6, 16);
    } else {
        gw_link_local(p->mac, out);
    }
}

static void send_ra(gw_state *g, uint32_t port, uint16_t router_lifetime) {
    const sim_gw_port_config *p = &g->cfg.port[port];
    uint8_t f[14 + 40 + 16 + 8 + 8 + 32 + 24];
    uint8_t *ip = f + 14, *ra = ip + 40;
    bool rdnss = g->cfg.dns;
    size_t ralen = 16 + 8 + 8 + 32 + (rdnss ? 24 : 0);
    static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
    memset(f, 0, sizeof f);
    memcpy(f, all_nodes_mac, 6);
    memcpy(f + 6, p->mac, 6);
    gw_put16(f + 12, 0x86dd);
    ip[0] = 0x60;
    gw_put16(ip + 4, (uint16_t)ralen);
    ip[6] = 58;  /* ICMPv6 */
    ip[7] = 255; /* section 6.1.2: a receiver drops an RA whose Hop Limit is not 255 */
    gw_link_local(p->mac, ip + 8);
    ip[24] = 0xff;
    ip[25] = 0x02;
    ip[39] = 1; /* ff02::1, all-nodes */
    /* Router Advertisement (section 4.2) */
    ra[0] = 134;
    ra[4] = 64; /* Cur Hop Limit */
    ra[5] = 0;  /* M, O: no DHCPv6 */
    gw_put16(ra + 6, router_lifetime);
    /* Reachable Time and Retrans Timer 0: unspecified by this router */
    uint8_t *o = ra + 16;
    o[0] = 1; /* Source Link-Layer Address (section 4.6.1) */
    o[1] = 1;
    memcpy(o + 2, p->mac, 6);
    o += 8;
    o[0] = 5; /* MTU (section 4.6.4) */
    o[1] = 1;
    gw_put32(o + 4, p->mtu ? p->mtu : 1500);
    o += 8;
    o[0] = 3; /* Prefix Information (section 4.6.2) */
    o[1] = 4;
    o[2] = p->prefix6_len;
    o[3] = 0xc0; /* L (on-link) and A (autonomous address configuration) */
    gw_put32(o + 4, g->cfg.ra_valid_s);
    gw_put32(o + 8, g->cfg.ra_preferred_s);
    memcpy(o + 16, p->addr6, 8); /* the /64 (the interface identifier bits zero) */
    o += 32;
    if (rdnss) {
        /* Recursive DNS Server option (RFC 8106 section 5.1): type 25, length 3 (one address),
         * the gateway's DNS server. "The value of Lifetime SHOULD by default be at least
         * 3 * MaxRtrAdvInterval, where MaxRtrAdvInterval is the maximum RA interval as
         * defined in [RFC4861]." */
        o[0] = 25;
        o[1] = 3;
        uint32_t life = (uint32_t)((3 * g->cfg.ra_max_interval_ns + GW_SEC - 1) / GW_SEC);
        gw_put32(o + 4, router_lifetime ? life : 0); /* a final RA: the server goes too */
        rdnss_addr(g, port, o + 8);
    }
    /* checksum over the pseudo-header (RFC 8200 section 8.1) */
    uint8_t ph[40];
    memcpy(ph, ip + 8, 32);
    gw_put32(ph + 32, (uint32_t)ralen);
    ph[36] = ph[37] = ph[38] = 0;
    ph[39] = 58;
    uint32_t acc = sum16(ph, 40, 0);
    uint16_t sum = sum16(ra, ralen, acc);
    gw_put16(ra + 2, (uint16_t)~sum);
    gw_send_frame(g, port, f, 14 + 40 + ralen);
}

/* The interval after an RA: uniform in [Min, Max], the first ones capped at 16 s. */
static uint64_t next_interval(gw_state *g, const gw_ra *r) {
    uint64_t lo = g->cfg.ra_min_interval_ns, hi = g->cfg.ra_max_interval_ns;
    uint64_t iv = lo + ra_random(g) % (hi - lo + 1);
    if (r->sent < MAX_INITIAL_RTR_ADVERTISEMENTS && iv > MAX_INITIAL_RTR_ADVERT_INTERVAL) {
        iv = MAX_INITIAL_RTR_ADVERT_INTERVAL;
    }
    return iv;
}

void gw_ra_poll(gw_state *g, uint64_t now) {
    for (uint32_t i = 0; i < g->cfg.nports; i++) {
        gw_ra *r = &g->ra[i];
        if (!r->enabled || r->next_at > now) {
            continue;
        }
        if (r->final_left) {
            send_ra(g, i, 0);
            r->sent++;
            r->last_at = now;
            if (--r->final_left == 0) {
                r->enabled = false; /* no longer an advertising interface */
                r->next_at = SIM_NEVER;
            } else {
                r->next_at = now + MIN_DELAY_BETWEEN_RAS;
            }
            continue;
        }
        send_ra(g, i, (uint16_t)g->cfg.ra_lifetime_s);
        r->sent++;
        if (r->rs_pending) {
            r->solicited++;
            r->rs_pending = false;
        }
        r->last_at = now;
        r->next_at = now + next_interval(g, r);
    }
}

uint64_t gw_ra_poll_at(const gw_state *g) {
    uint64_t t = SIM_NEVER;
    for (uint32_t i = 0; i < g->cfg.nports; i++) {
        if (g->ra[i].enabled && g->ra[i].next_at < t) {
            t = g->ra[i].next_at;
        }
    }
    return t;
}

void gw_ra_input(gw_state *g, uint32_t port, const uint8_t *frame, size_t len, uint64_t now) {
    /* A Router Solicitation: ICMPv6 type 133 in an IPv6 packet with Hop Limit 255 (section
     * 6.1.1), no extension headers. */
    if (port >= g->cfg.nports || !g->ra[port].enabled || len < 14 + 40 + 8 ||
        gw_get16(frame + 12) != 0x86dd) {
        return;
    }
    const uint8_t *ip = frame + 14;
    if ((ip[0] >> 4) != 6 || ip[6] != 58 || ip[7] != 255 || ip[40] != 133 || ip[41] != 0) {
        return;
    }
    gw_ra *r = &g->ra[port];
    r->rs_received++;
    if (r->rs_pending) {
        return; /* one answer for several solicitations, its delay from the first */
    }
    uint64_t delay = ra_random(g) % (MAX_RA_DELAY_TIME + 1);
    uint64_t at = now + delay;
    if (r->last_at != SIM_NEVER && at < r->last_at + MIN_DELAY_BETWEEN_RAS) {
        at = r->last_at + MIN_DELAY_BETWEEN_RAS + delay;
    }
    if (at >= r->next_at) {
        return; /* the RA already scheduled comes first and answers */
    }
    r->next_at = at;
    r->rs_pending = true;
}

tern_err gw_ra_stop(gw_state *g, uint32_t port, uint64_t now) {
    if (port >= g->cfg.nports) {
        return sim_fail(g->s, TERN_ERR_INVALID_ARGUMENT, "ra_stop: port %u, the gateway has %u",
                        port, g->cfg.nports);
    }
    gw_ra *r = &g->ra[port];
    if (!r->enabled || r->final_left) {
        return sim_fail(g->s, TERN_ERR_BAD_STATE, "ra_stop: port %u %s", port,
                        r->enabled ? "is already sending its final RAs" : "does not advertise");
    }
    r->final_left = MAX_FINAL_RTR_ADVERTISEMENTS;
    r->rs_pending = false;
    r->next_at = now;
    if (r->last_at != SIM_NEVER && r->last_at + MIN_DELAY_BETWEEN_RAS > now) {
        r->next_at = r->last_at + MIN_DELAY_BETWEEN_RAS; /* section 6.2.4's rate limit */
    }
    return TERN_OK;
}

tern_err sim_gateway_ra_stop(sim *s, sim_node_id gw, uint32_t port) {
    sim_node *n = sim_get_node(s, gw);
    if (!n) {
        return sim_fail(s, TERN_ERR_UNKNOWN_NODE, "node %u: no such node", gw);
    }
    gw_state *g = gw_state_of(n);
    if (!g) {
        return sim_fail(s, TERN_ERR_WRONG_KIND, "node '%s' is a %s, not a gateway", n->name,
                        n->kind);
    }
    uint32_t first = port == SIM_GW_ALL_PORTS ? 0 : port;
    uint32_t last = port == SIM_GW_ALL_PORTS ? g->cfg.nports : port + 1;
    for (uint32_t i = first; i < last; i++) {
        if (port == SIM_GW_ALL_PORTS && (!g->ra[i].enabled || g->ra[i].final_left)) {
            continue; /* shutting down: every port that still advertises */
        }
        tern_err e = gw_ra_stop(g, i, s->now);
        if (e != TERN_OK) {
            return e;
        }
    }
    sim_node_wake(s, gw);
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_gateway_ra_state(sim *s, sim_node_id gw, uint32_t port, sim_gw_ra_state *out) {
    sim_node *n = sim_get_node(s, gw);
    if (!n) {
        return sim_fail(s, TERN_ERR_UNKNOWN_NODE, "node %u: no such node", gw);
    }
    gw_state *g = gw_state_of(n);
    if (!g) {
        return sim_fail(s, TERN_ERR_WRONG_KIND, "node '%s' is a %s, not a gateway", n->name,
                        n->kind);
    }
    if (port >= g->cfg.nports) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "ra_state: port %u, the gateway has %u", port,
                        g->cfg.nports);
    }
    const gw_ra *r = &g->ra[port];
    out->enabled = r->enabled;
    out->next_at = r->enabled ? r->next_at : SIM_NEVER;
    out->last_at = r->last_at;
    out->sent = r->sent;
    out->solicited = r->solicited;
    out->rs_received = r->rs_received;
    out->final_left = r->final_left;
    sim_ok(s);
    return TERN_OK;
}

/*
 * The gateway node (tern/sim_gateway.h): one Tern stack instance owns the
 * gateway's addresses and does ARP, ICMP, DHCP, the DNS sockets and the
 * forwarding path; this file wires it to the node interface and puts NAT
 * on the two sides of the stack's routing, as a Linux router does with
 * PREROUTING (destination translation of what arrives on the outside port)
 * and POSTROUTING (source translation of what leaves through it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame_check.h"
#include "gateway/gateway_internal.h"

/* Every frame the stack sends leaves through here. */
static void gw_output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    gw_state *g = ctx;
    const uint8_t *out = frame;
    if (g->outside >= 0 && iface == (uint32_t)g->outside && len <= sizeof g->buf) {
        memcpy(g->buf, frame, len);
        if (!gw_nat_outbound(g, g->buf, len)) {
            return;
        }
        out = g->buf;
    }
    gw_send_frame(g, iface, out, len);
}

void gw_send_frame(gw_state *g, uint32_t iface, const uint8_t *out, size_t len) {
    g->sent++;
    gw_transcript_frame(g, g->s->now, iface, true, out, len);
    char why[160];
    if (!sim_frame_check(out, len, why, sizeof why)) {
        sim_node *n = sim_get_node(g->s, g->id);
        sim_fail_later(g->s, TERN_ERR_BAD_CHECKSUM,
                       "gateway '%s' sent a frame with a wrong checksum: frame #%llu out of port "
                       "%u at t=%llu ns, %zu bytes: %s",
                       n ? n->name : "?", (unsigned long long)g->sent, iface,
                       (unsigned long long)g->s->now, len, why);
    }
    sim_node_send(g->s, g->id, iface, out, len);
}

/*
 * A frame whose checksums are wrong (a link corrupted it) and which the gateway would pass on
 * (an IPv4 datagram to another host): dropped here, as Linux's connection tracking marks such
 * datagrams invalid (nf_conntrack_checksum). Translated, it would leave with a checksum as wrong
 * as it came and fail the output check that holds the gateway to the frames it makes itself.
 * Datagrams to the gateway's own addresses go to the stack, which counts and drops them.
 */
static bool corrupt_transit(const gw_state *g, const uint8_t *frame, size_t len) {
    if (len < 14 + 20 || frame[12] != 0x08 || frame[13] != 0x00 ||
        sim_frame_check(frame, len, NULL, 0)) {
        return false;
    }
    uint32_t dst = gw_get32(frame + 14 + 16);
    if (dst == 0xffffffffu || (dst >> 28) == 14) {
        return false;
    }
    for (uint32_t i = 0; i < g->cfg.nports; i++) {
        for (uint32_t k = 0; k < g->cfg.port[i].naddrs; k++) {
            if (g->cfg.port[i].addr[k] == dst) {
                return false;
            }
        }
    }
    return true;
}

static void gw_input(void *state, uint64_t now, uint32_t port, const uint8_t *frame, size_t len) {
    gw_state *g = state;
    g->now = now;
    gw_transcript_frame(g, now, port, false, frame, len);
    gw_ra_input(g, port, frame, len, now);
    gw_names_snoop6(g, port, frame, len);
    if (corrupt_transit(g, frame, len)) {
        g->c.transit_bad_checksum++;
        return;
    }
    if (g->outside >= 0 && port == (uint32_t)g->outside && len <= SIM_MAX_FRAME) {
        /* A copy of its own: the stack may send (gw_output uses g->buf) while it reads this. */
        memcpy(g->inbuf, frame, len);
        if (gw_nat_inbound(g, g->inbuf, len) &&
            !(g->dns_up && gw_dns_intercept(g, port, g->inbuf, len, now))) {
            tern_stack_input(g->stack, now, port, g->inbuf, len);
        }
    } else if (g->outside >= 0 && len <= SIM_MAX_FRAME &&
               (memcpy(g->inbuf, frame, len), gw_nat_hairpin(g, g->inbuf, len))) {
        /* RFC 4787 REQ-9: hairpinned to another guest (nat.c) */
    } else if (!(g->dns_up && gw_dns_intercept(g, port, frame, len, now))) {
        gw_names_snoop(g, frame, len);
        tern_stack_input(g->stack, now, port, frame, len);
    }
    if (g->dns_up) {
        gw_dns_service(g, now);
    }
}

static void gw_poll(void *state, uint64_t now) {
    gw_state *g = state;
    g->now = now;
    gw_ra_poll(g, now);
    gw_nat_poll(g, now);
    if (g->dns_up) {
        gw_dns_service(g, now);
    }
    tern_stack_poll(g->stack, now);
}

static uint64_t gw_poll_at(void *state) {
    gw_state *g = state;
    uint64_t t = tern_stack_poll_at(g->stack);
    uint64_t h = gw_nat_poll_at(g);
    if (h < t) {
        t = h;
    }
    h = gw_ra_poll_at(g);
    if (h < t) {
        t = h;
    }
    if (g->dns_up) {
        uint64_t d = gw_dns_poll_at(g);
        if (d < t) {
            t = d;
        }
    }
    return t;
}

static void gw_destroy(void *state) {
    gw_state *g = state;
    free(g->mem);
    free(g->nat);
    free(g->records);
    free(g->tr);
    free(g);
}

static const sim_node_ops gw_ops = {gw_input, gw_poll, gw_poll_at, gw_destroy};

uint32_t gw_outside_addr(const gw_state *g) {
    return g->outside >= 0 ? g->cfg.port[g->outside].addr[0] : 0;
}

tern_err sim_gateway_add(sim *s, const char *name, const sim_gw_config *cfg, sim_node_id *out) {
    const char *who = name ? name : "";
    char msg[256];
    if (sim_gateway_validate(cfg, msg, sizeof msg) != TERN_OK) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "gateway '%s' %s", who, msg);
    }
    gw_state *g = calloc(1, sizeof *g);
    if (!g) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "gateway '%s': out of memory", who);
    }
    g->s = s;
    g->cfg = *cfg;
    gw_fill_defaults(&g->cfg);
    g->outside = -1;
    g->rng = cfg->seed ^ 0x9e3779b97f4a7c15ULL;
    if (!g->rng) {
        g->rng = 1;
    }
    g->ra_rng = (cfg->seed ^ 0xd1b54a32d192ed03ULL) | 1;
    gw_ra_init(g);
    g->nat = calloc(g->cfg.nat_max_mappings, sizeof *g->nat);
    g->records = calloc(SIM_GW_DNS_RECORDS, sizeof *g->records);
    if (!g->nat || !g->records) {
        gw_destroy(g);
        return sim_fail(s, TERN_ERR_NO_MEMORY, "gateway '%s': out of memory", who);
    }
    for (int p = 0; p < 3; p++) {
        g->next_port[p] = g->cfg.nat_port_low;
    }

    tern_stack_config sc;
    tern_stack_config_default(&sc, cfg->seed);
    sc.niface = cfg->nports;
    for (uint32_t i = 0; i < cfg->nports; i++) {
        const sim_gw_port_config *p = &cfg->port[i];
        memcpy(sc.iface[i].mac, p->mac, 6);
        sc.iface[i].mtu = p->mtu;
        sc.iface[i].naddrs = p->naddrs;
        for (uint32_t k = 0; k < p->naddrs; k++) {
            sc.iface[i].addr[k] = tern_addr_v4_from_u32(p->addr[k]);
            sc.iface[i].prefix_len[k] = p->prefix_len;
        }
        static const uint8_t none6[16] = {0};
        if (memcmp(p->addr6, none6, 16) != 0) {
            if (p->naddrs >= TERN_MAX_IFACE_ADDRS) {
                gw_destroy(g);
                return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                                "gateway '%s' port[%u].addr6: no room beside %u IPv4 addresses",
                                who, i, p->naddrs);
            }
            sc.iface[i].addr[p->naddrs] = tern_addr_v6_from_bytes(p->addr6);
            sc.iface[i].prefix_len[p->naddrs] = p->prefix6_len;
            sc.iface[i].naddrs = p->naddrs + 1;
        }
        if (p->outside) {
            g->outside = (int)i;
        }
    }
    sc.forwarding = true;
    /* The stack's own ports (DNS upstream queries, connections of the gateway itself)
     * stay out of the NAT range: 61000..65535, as Linux's default ip_local_port_range ends. */
    sc.ephemeral_low = 61000;
    sc.ephemeral_high = 65535;
    sc.icmp_rate = cfg->icmp_rate;
    sc.icmp_burst = cfg->icmp_burst;
    sc.arp_queue = 64;
    sc.packet_buffers = 256;
    sc.udp_queue = 64;
    sc.dhcp_servers = cfg->nports; /* one per inside segment at most */
    sc.output = gw_output;
    sc.output_ctx = g;
    size_t size = tern_stack_memory_size(&sc);
    g->mem = aligned_alloc(64, (size + 63) & ~(size_t)63);
    if (!g->mem) {
        gw_destroy(g);
        return sim_fail(s, TERN_ERR_NO_MEMORY, "gateway '%s': out of memory", who);
    }
    tern_err err = tern_stack_init(g->mem, size, &sc, &g->stack, msg, sizeof msg);
    if (err != TERN_OK) {
        gw_destroy(g);
        return sim_fail(s, err, "gateway '%s' %s", who, msg);
    }
    if (cfg->default_router) {
        tern_addr any = tern_addr_v4(0, 0, 0, 0);
        tern_addr via = tern_addr_v4_from_u32(cfg->default_router);
        err = tern_route_add(g->stack, &any, 0, &via, (uint32_t)g->outside);
        if (err != TERN_OK) {
            snprintf(msg, sizeof msg, "%s", tern_stack_last_error(g->stack));
            gw_destroy(g);
            return sim_fail(s, err, "gateway '%s' default_router: %s", who, msg);
        }
    }
    static const uint8_t no_router6[16] = {0};
    if (memcmp(cfg->default_router6, no_router6, 16) != 0) {
        tern_addr any6;
        memset(&any6, 0, sizeof any6);
        any6.family = TERN_AF_INET6;
        tern_addr via6 = tern_addr_v6_from_bytes(cfg->default_router6);
        err = tern_route_add(g->stack, &any6, 0, &via6, (uint32_t)g->outside);
        if (err != TERN_OK) {
            snprintf(msg, sizeof msg, "%s", tern_stack_last_error(g->stack));
            gw_destroy(g);
            return sim_fail(s, err, "gateway '%s' default_router6: %s", who, msg);
        }
    }
    if (g->cfg.dns && (err = gw_dns_start(g)) != TERN_OK) {
        gw_destroy(g);
        return sim_fail(s, err, "gateway '%s' dns: cannot open its sockets (%s)", who,
                        tern_strerror(err));
    }
    err = sim_node_add(s, name, "gateway", cfg->nports, &gw_ops, g, &g->id);
    if (err != TERN_OK) {
        gw_destroy(g);
        return err;
    }
    *out = g->id;
    sim_ok(s);
    return TERN_OK;
}

gw_state *gw_state_of(sim_node *n) {
    return n && n->ops.input == gw_input ? n->state : NULL;
}

static gw_state *gw_of(sim *s, sim_node_id node, tern_err *err) {
    sim_node *n = sim_get_node(s, node);
    if (!n) {
        *err = sim_fail(s, TERN_ERR_UNKNOWN_NODE, "node %u: no such node", node);
        return NULL;
    }
    if (n->ops.input != gw_input) {
        *err =
            sim_fail(s, TERN_ERR_WRONG_KIND, "node '%s' is a %s, not a gateway", n->name, n->kind);
        return NULL;
    }
    gw_state *g = n->state;
    g->now = s->now;
    return g;
}

tern_stack *sim_gateway_stack(sim *s, sim_node_id node) {
    sim_node *n = sim_get_node(s, node);
    if (!n || n->ops.input != gw_input) {
        return NULL;
    }
    return ((gw_state *)n->state)->stack;
}

tern_err sim_gateway_forward_add(sim *s, sim_node_id gw, uint8_t protocol, uint16_t outside_port,
                                 uint32_t inside_addr, uint16_t inside_port) {
    tern_err err;
    gw_state *g = gw_of(s, gw, &err);
    if (!g) {
        return err;
    }
    return gw_nat_forward_add(g, protocol, outside_port, inside_addr, inside_port);
}

tern_err sim_gateway_forward_del(sim *s, sim_node_id gw, uint8_t protocol, uint16_t outside_port) {
    tern_err err;
    gw_state *g = gw_of(s, gw, &err);
    if (!g) {
        return err;
    }
    return gw_nat_forward_del(g, protocol, outside_port);
}

tern_err sim_gateway_nat_table(sim *s, sim_node_id gw, sim_gw_nat_entry *out, uint32_t cap,
                               uint32_t *n) {
    tern_err err;
    gw_state *g = gw_of(s, gw, &err);
    if (!g) {
        return err;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < g->nnat; i++) {
        const sim_gw_nat_entry *e = &g->nat[i];
        if (e->expires_at > s->now) {
            if (k < cap && out) {
                out[k] = *e;
            }
            k++;
        }
    }
    *n = k;
    sim_ok(s);
    return TERN_OK;
}

/* A new user record named `name`, checked, into *out. */
static tern_err record_new(sim *s, gw_state *g, const char *name, uint32_t ttl, gw_record **out) {
    size_t len = name ? strlen(name) : 0;
    if (len && name[len - 1] == '.') {
        len--;
    }
    if (len == 0 || len > SIM_GW_NAME_MAX) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "dns record name: %zu characters, 1..%d", len,
                        SIM_GW_NAME_MAX);
    }
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            if (label == 0 || label > 63) {
                return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                                "dns record name %s: a label is empty or over 63 bytes", name);
            }
            label = 0;
        } else {
            label++;
        }
    }
    if (g->nrecords >= SIM_GW_DNS_RECORDS) {
        return sim_fail(s, TERN_ERR_NO_BUFFER, "dns records: all %d in use", SIM_GW_DNS_RECORDS);
    }
    gw_record *r = &g->records[g->nrecords++];
    memset(r, 0, sizeof *r);
    memcpy(r->name, name, len);
    r->name[len] = 0;
    r->ttl = ttl;
    *out = r;
    return TERN_OK;
}

tern_err sim_gateway_dns_add(sim *s, sim_node_id gw, const char *name, uint32_t addr,
                             uint32_t ttl) {
    tern_err err;
    gw_state *g = gw_of(s, gw, &err);
    if (!g) {
        return err;
    }
    gw_record *r;
    if ((err = record_new(s, g, name, ttl, &r)) != TERN_OK) {
        return err;
    }
    r->addr = addr;
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_gateway_dns_add6(sim *s, sim_node_id gw, const char *name, const uint8_t addr6[16],
                              uint32_t ttl) {
    tern_err err;
    gw_state *g = gw_of(s, gw, &err);
    if (!g) {
        return err;
    }
    if (!addr6) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "dns record %s: no IPv6 address",
                        name ? name : "");
    }
    gw_record *r;
    if ((err = record_new(s, g, name, ttl, &r)) != TERN_OK) {
        return err;
    }
    r->v6 = true;
    memcpy(r->addr6, addr6, 16);
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_gateway_dns_lookup(sim *s, sim_node_id gw, const char *name, uint32_t *addrs,
                                uint32_t cap, uint32_t *n) {
    tern_err err;
    gw_state *g = gw_of(s, gw, &err);
    if (!g) {
        return err;
    }
    uint32_t ttl;
    bool exists;
    uint32_t n6;
    err = gw_dns_local(g, s->now, name, addrs, cap, n, NULL, 0, &n6, &ttl, &exists);
    if (err == TERN_OK) {
        sim_ok(s);
    }
    return err;
}

tern_err sim_gateway_dns_lookup6(sim *s, sim_node_id gw, const char *name, uint8_t (*addrs6)[16],
                                 uint32_t cap, uint32_t *n) {
    tern_err err;
    gw_state *g = gw_of(s, gw, &err);
    if (!g) {
        return err;
    }
    uint32_t ttl, n4;
    bool exists;
    err = gw_dns_local(g, s->now, name, NULL, 0, &n4, addrs6, cap, n, &ttl, &exists);
    if (err == TERN_OK) {
        sim_ok(s);
    }
    return err;
}

tern_err sim_gateway_get_counters(sim *s, sim_node_id gw, sim_gw_counters *out) {
    tern_err err;
    gw_state *g = gw_of(s, gw, &err);
    if (!g) {
        return err;
    }
    *out = g->c;
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_gateway_hostname(sim *s, sim_node_id gw, const uint8_t mac[6], char *out, size_t cap) {
    tern_err err;
    gw_state *g = gw_of(s, gw, &err);
    if (!g) {
        return err;
    }
    for (uint32_t i = 0; i < SIM_GW_HOSTNAMES; i++) {
        const gw_hostname *h = &g->names[i];
        if (h->used && memcmp(h->mac, mac, 6) == 0) {
            size_t n = strlen(h->name);
            if (n + 1 > cap) {
                return sim_fail(s, TERN_ERR_BUFFER_TOO_SMALL,
                                "hostname: %zu bytes do not fit in %zu", n + 1, cap);
            }
            memcpy(out, h->name, n + 1);
            sim_ok(s);
            return TERN_OK;
        }
    }
    return TERN_ERR_EMPTY;
}

tern_err sim_gateway_dns_cache(sim *s, sim_node_id gw, sim_gw_dns_cache_entry *out, uint32_t cap,
                               uint32_t *n) {
    tern_err err;
    gw_state *g = gw_of(s, gw, &err);
    if (!g) {
        return err;
    }
    *n = gw_dns_cache_list(g, s->now, out, cap);
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_gateway_transcript(sim *s, sim_node_id gw, char *out, size_t cap, size_t *len) {
    tern_err err;
    gw_state *g = gw_of(s, gw, &err);
    if (!g) {
        return err;
    }
    *len = g->tr_len;
    if (cap <= g->tr_len) {
        return sim_fail(s, TERN_ERR_BUFFER_TOO_SMALL,
                        "transcript: %zu bytes and the NUL do not fit in %zu", g->tr_len, cap);
    }
    if (g->tr_len) {
        memcpy(out, g->tr, g->tr_len);
    }
    out[g->tr_len] = 0;
    sim_ok(s);
    return TERN_OK;
}

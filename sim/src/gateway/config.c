/*
 * Validation of a gateway configuration (tern/sim_gateway.h): every field
 * is checked before anything is built, and the first problem is reported as
 * "field: reason" so that the Python layer can name it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gateway_internal.h"

void sim_gateway_config_default(sim_gw_config *cfg, uint64_t seed) {
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = seed;
}

void gw_fill_defaults(sim_gw_config *c) {
    if (!c->nat_port_low) {
        c->nat_port_low = 1024;
    }
    if (!c->nat_port_high) {
        c->nat_port_high = 60999;
    }
    if (!c->nat_udp_timeout_ns) {
        c->nat_udp_timeout_ns = 300 * GW_SEC;
    }
    if (!c->nat_tcp_established_ns) {
        c->nat_tcp_established_ns = 7440 * GW_SEC;
    }
    if (!c->nat_tcp_transitory_ns) {
        c->nat_tcp_transitory_ns = 240 * GW_SEC;
    }
    if (!c->nat_icmp_timeout_ns) {
        c->nat_icmp_timeout_ns = 60 * GW_SEC;
    }
    if (!c->nat_max_mappings) {
        c->nat_max_mappings = 1024;
    }
    if (!c->domain[0]) {
        strcpy(c->domain, "tern");
    }
    if (!c->dns_ttl) {
        c->dns_ttl = 60;
    }
    if (!c->upstream_timeout_ns) {
        c->upstream_timeout_ns = 2 * GW_SEC;
    }
    /* RFC 4861 section 6.2.1 defaults. */
    if (!c->ra_max_interval_ns) {
        c->ra_max_interval_ns = 600 * GW_SEC;
    }
    if (!c->ra_min_interval_ns) {
        c->ra_min_interval_ns = c->ra_max_interval_ns >= 9 * GW_SEC
                                    ? c->ra_max_interval_ns * 33 / 100
                                    : c->ra_max_interval_ns * 3 / 4;
    }
    if (!c->ra_lifetime_s) {
        c->ra_lifetime_s = (uint32_t)(3 * (c->ra_max_interval_ns / GW_SEC));
        if (c->ra_lifetime_s > 9000) {
            c->ra_lifetime_s = 9000;
        }
    }
    if (!c->ra_valid_s) {
        c->ra_valid_s = 2592000;
    }
    if (!c->ra_preferred_s) {
        c->ra_preferred_s = 604800;
    }
}

static bool zero16(const uint8_t *a) {
    static const uint8_t z[16] = {0};
    return memcmp(a, z, 16) == 0;
}

static bool same_prefix6(const uint8_t *a, const uint8_t *b, unsigned len) {
    for (unsigned i = 0; i < len; i++) {
        if (((a[i / 8] ^ b[i / 8]) >> (7 - i % 8)) & 1) {
            return false;
        }
    }
    return true;
}

static tern_err bad(char *msg, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static tern_err bad(char *msg, size_t cap, const char *fmt, ...) {
    if (msg && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return TERN_ERR_INVALID_ARGUMENT;
}

static void ip_text(uint32_t a, char out[16]) {
    snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static uint32_t mask_of(uint8_t len) {
    return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

/* A timeout below an RFC minimum, unless the configuration allows it. */
static tern_err check_min(const sim_gw_config *c, const char *field, uint64_t v, uint64_t min,
                          const char *rfc, char *msg, size_t cap) {
    if (v && v < min && !c->nat_allow_short_timeouts) {
        return bad(msg, cap, "%s: %llu s is below the %llu s of %s (set allow_short_timeouts)",
                   field, (unsigned long long)(v / GW_SEC), (unsigned long long)(min / GW_SEC),
                   rfc);
    }
    return TERN_OK;
}

tern_err sim_gateway_validate(const sim_gw_config *c, char *msg, size_t cap) {
    char a[16], b[16];
    if (!c) {
        return bad(msg, cap, "configuration: must not be NULL");
    }
    if (c->nports < 1 || c->nports > SIM_GW_MAX_PORTS) {
        return bad(msg, cap, "ports: %u ports, a gateway has 1..%d", c->nports, SIM_GW_MAX_PORTS);
    }
    int outside = -1;
    for (uint32_t i = 0; i < c->nports; i++) {
        const sim_gw_port_config *p = &c->port[i];
        if (!zero16(p->addr6)) {
            if (p->prefix6_len < 1 || p->prefix6_len > 128) {
                return bad(msg, cap, "port[%u].prefix6_len: %u, must be 1..128", i, p->prefix6_len);
            }
            if (p->addr6[0] == 0xff || (p->addr6[0] == 0xfe && (p->addr6[1] & 0xc0) == 0x80)) {
                return bad(msg, cap,
                           "port[%u].addr6: a multicast or link-local address cannot "
                           "be the port's global address",
                           i);
            }
            for (uint32_t j = 0; j < i; j++) {
                const sim_gw_port_config *q = &c->port[j];
                unsigned len = p->prefix6_len < q->prefix6_len ? p->prefix6_len : q->prefix6_len;
                if (!zero16(q->addr6) && same_prefix6(p->addr6, q->addr6, len)) {
                    return bad(msg, cap,
                               "port[%u].addr6: its prefix overlaps the prefix of port[%u]", i, j);
                }
            }
        }
        if (p->ra) {
            if (zero16(p->addr6)) {
                return bad(msg, cap, "port[%u].ra: the port has no IPv6 prefix to advertise", i);
            }
            if (p->prefix6_len != 64) {
                return bad(msg, cap,
                           "port[%u].ra: prefix length %u; SLAAC needs a /64 (RFC 4862 5.5.3)", i,
                           p->prefix6_len);
            }
            if (p->outside) {
                return bad(msg, cap, "port[%u].ra: not on the outside port", i);
            }
        }
        if (p->prefix_len < 1 || p->prefix_len > 30) {
            return bad(msg, cap, "port[%u].prefix_len: %u, must be 1..30", i, p->prefix_len);
        }
        if (p->naddrs < 1 || p->naddrs > SIM_GW_PORT_ADDRS) {
            return bad(msg, cap, "port[%u].addrs: %u addresses, must be 1..%d", i, p->naddrs,
                       SIM_GW_PORT_ADDRS);
        }
        if (p->mtu && (p->mtu < 68 || p->mtu > 9000)) {
            return bad(msg, cap, "port[%u].mtu: %u, must be 68..9000", i, p->mtu);
        }
        if (p->mac[0] & 1) {
            return bad(msg, cap, "port[%u].mac: a multicast MAC cannot be a port's address", i);
        }
        static const uint8_t zero[6] = {0};
        if (memcmp(p->mac, zero, 6) == 0) {
            return bad(msg, cap, "port[%u].mac: must not be 00:00:00:00:00:00", i);
        }
        uint32_t m = mask_of(p->prefix_len);
        uint32_t net = p->addr[0] & m;
        for (uint32_t k = 0; k < p->naddrs; k++) {
            uint32_t x = p->addr[k];
            ip_text(x, a);
            if ((x & m) != net) {
                ip_text(net, b);
                return bad(msg, cap, "port[%u].addr[%u]: %s is outside %s/%u", i, k, a, b,
                           p->prefix_len);
            }
            if ((x & ~m) == 0 || (x & ~m) == ~m) {
                return bad(msg, cap, "port[%u].addr[%u]: %s is the network or broadcast address", i,
                           k, a);
            }
            uint8_t first = (uint8_t)(x >> 24);
            if (first == 0 || first == 127 || first >= 224) {
                return bad(msg, cap, "port[%u].addr[%u]: %s cannot be a host's address", i, k, a);
            }
            for (uint32_t j = 0; j < k; j++) {
                if (p->addr[j] == x) {
                    return bad(msg, cap, "port[%u].addr[%u]: %s given twice", i, k, a);
                }
            }
        }
        for (uint32_t j = 0; j < i; j++) {
            const sim_gw_port_config *q = &c->port[j];
            uint32_t mm = mask_of(p->prefix_len < q->prefix_len ? p->prefix_len : q->prefix_len);
            if ((p->addr[0] & mm) == (q->addr[0] & mm)) {
                ip_text(p->addr[0], a);
                return bad(msg, cap, "port[%u].addr[0]: %s/%u overlaps the segment of port[%u]", i,
                           a, p->prefix_len, j);
            }
            if (memcmp(p->mac, q->mac, 6) == 0) {
                return bad(msg, cap, "port[%u].mac: the same MAC as port[%u]", i, j);
            }
        }
        if (p->outside) {
            if (outside >= 0) {
                return bad(msg, cap, "port[%u].outside: port[%d] is already the outside port", i,
                           outside);
            }
            outside = (int)i;
        }
    }
    if (c->default_router) {
        ip_text(c->default_router, a);
        if (outside < 0) {
            return bad(msg, cap, "default_router: %s needs an outside port", a);
        }
        const sim_gw_port_config *o = &c->port[outside];
        uint32_t m = mask_of(o->prefix_len);
        if ((c->default_router & m) != (o->addr[0] & m)) {
            return bad(msg, cap, "default_router: %s is not on the outside segment", a);
        }
        for (uint32_t k = 0; k < o->naddrs; k++) {
            if (o->addr[k] == c->default_router) {
                return bad(msg, cap, "default_router: %s is the gateway's own address", a);
            }
        }
    }
    uint16_t lo = c->nat_port_low ? c->nat_port_low : 1024;
    uint16_t hi = c->nat_port_high ? c->nat_port_high : 60999;
    if (lo > hi) {
        return bad(msg, cap, "nat.ports: first %u above last %u", lo, hi);
    }
    if (hi >= 61000) {
        return bad(msg, cap,
                   "nat.ports: last %u overlaps the gateway's own ephemeral ports 61000..65535",
                   hi);
    }
    tern_err e;
    if ((e = check_min(c, "nat.udp_timeout", c->nat_udp_timeout_ns, 120 * GW_SEC, "RFC 4787 REQ-5",
                       msg, cap)) ||
        (e = check_min(c, "nat.tcp_established_timeout", c->nat_tcp_established_ns, 7440 * GW_SEC,
                       "RFC 5382 REQ-5", msg, cap)) ||
        (e = check_min(c, "nat.tcp_transitory_timeout", c->nat_tcp_transitory_ns, 240 * GW_SEC,
                       "RFC 5382 REQ-5", msg, cap)) ||
        (e = check_min(c, "nat.icmp_timeout", c->nat_icmp_timeout_ns, 60 * GW_SEC, "RFC 5508 REQ-2",
                       msg, cap))) {
        return e;
    }
    if ((unsigned)c->nat_filtering > SIM_GW_FILTER_ADDRESS_PORT_DEPENDENT) {
        return bad(msg, cap, "nat.filtering: %u is not a filtering behaviour", c->nat_filtering);
    }
    if (c->nat_max_mappings > 65536) {
        return bad(msg, cap, "nat.max_mappings: %u, at most 65536", c->nat_max_mappings);
    }
    if (c->icmp_rate > 1000000 || c->icmp_burst > 1000000) {
        return bad(msg, cap, "icmp_rate: %u/s burst %u, at most 1000000", c->icmp_rate,
                   c->icmp_burst);
    }
    if (memchr(c->domain, 0, sizeof c->domain) == NULL) {
        return bad(msg, cap, "dns.domain: not NUL-terminated within %d bytes", SIM_GW_DOMAIN_MAX);
    }
    for (const char *p = c->domain; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
        if (!ok || (ch == '.' && (p == c->domain || p[1] == '.' || p[1] == 0))) {
            return bad(msg, cap, "dns.domain: %s is not a domain name", c->domain);
        }
    }
    if (c->n_upstream > SIM_GW_MAX_UPSTREAMS) {
        return bad(msg, cap, "dns.upstream: %u servers, at most %d", c->n_upstream,
                   SIM_GW_MAX_UPSTREAMS);
    }
    for (uint32_t i = 0; i < c->n_upstream; i++) {
        uint32_t u = c->upstream[i];
        ip_text(u, a);
        uint8_t first = (uint8_t)(u >> 24);
        if (u == 0 || first == 127 || first >= 224) {
            return bad(msg, cap, "dns.upstream[%u]: %s cannot be a server's address", i, a);
        }
        for (uint32_t p = 0; p < c->nports; p++) {
            for (uint32_t k = 0; k < c->port[p].naddrs; k++) {
                if (c->port[p].addr[k] == u) {
                    return bad(msg, cap,
                               "dns.upstream[%u]: %s is the gateway's own address (a loop)", i, a);
                }
            }
        }
    }
    if (c->n_upstream && !c->dns) {
        return bad(msg, cap, "dns.upstream: given, but the DNS server is off");
    }
    sim_gw_config d = *c;
    gw_fill_defaults(&d);
    /* RFC 4861 section 6.2.1: MaxRtrAdvInterval "MUST be no less than 4 seconds and no greater
     * than 1800 seconds"; MinRtrAdvInterval "MUST be no less than 3 seconds and no greater than
     * .75 * MaxRtrAdvInterval"; AdvDefaultLifetime "MUST be either zero or between
     * MaxRtrAdvInterval and 9000 seconds". */
    if (d.ra_max_interval_ns < 4 * GW_SEC || d.ra_max_interval_ns > 1800 * GW_SEC) {
        return bad(msg, cap, "ra.max_interval: %llu ms, must be 4..1800 s",
                   (unsigned long long)(d.ra_max_interval_ns / 1000000));
    }
    if (d.ra_min_interval_ns < 3 * GW_SEC || d.ra_min_interval_ns > d.ra_max_interval_ns * 3 / 4) {
        return bad(msg, cap, "ra.min_interval: %llu ms, must be 3 s..0.75 x max_interval",
                   (unsigned long long)(d.ra_min_interval_ns / 1000000));
    }
    if ((uint64_t)d.ra_lifetime_s * GW_SEC < d.ra_max_interval_ns || d.ra_lifetime_s > 9000) {
        return bad(msg, cap, "ra.lifetime: %u s, must be max_interval..9000 s", d.ra_lifetime_s);
    }
    if (d.ra_preferred_s > d.ra_valid_s) {
        return bad(msg, cap, "ra.preferred: %u s is above the valid lifetime %u s",
                   d.ra_preferred_s, d.ra_valid_s);
    }
    if (!zero16(c->default_router6) && (outside < 0 || zero16(c->port[outside].addr6))) {
        return bad(msg, cap, "default_router6: needs an outside port with an IPv6 address");
    }
    return TERN_OK;
}

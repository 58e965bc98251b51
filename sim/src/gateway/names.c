/*
 * Guest host names for the DNS server: the host name option (12, RFC 2132
 * section 3.14) of the DHCP messages guests send is remembered by MAC, and
 * "<name>.<domain>" answers with the address the DHCP server has bound to
 * that MAC at the time of the query (so a name goes away with its lease).
 *
 * Its AAAA records (RFC 3596) are the global IPv6 addresses of the port's
 * prefix that the guest with that MAC was seen using on the inside segment:
 * the source of its packets, or the target of its Duplicate Address
 * Detection (RFC 4862 section 5.4.2, a Neighbor Solicitation from the
 * unspecified address), the address a SLAAC guest forms from the gateway's
 * Router Advertisements. The last GW_GUEST_ADDR6 addresses of each guest are
 * kept (a guest with temporary addresses changes them).
 */
#include <string.h>

#include "gateway/gateway_internal.h"
#include "tern/dhcp.h"
#include "wire/dhcpv4.h"
#include "wire/dns.h"

/* A host name usable as one DNS label (RFC 1123 section 2.1: letters, digits, hyphens). */
static bool label_ok(const uint8_t *p, size_t n) {
    if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-')) {
            return false;
        }
    }
    return true;
}

void gw_names_snoop(gw_state *g, const uint8_t *frame, size_t len) {
    /* Ethernet, IPv4 without fragmentation, UDP to port 67. */
    if (len < 14 + 20 + 8 || gw_get16(frame + 12) != 0x0800) {
        return;
    }
    const uint8_t *ip = frame + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t total = gw_get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || total > len - 14 || total < ihl + 8 || ip[9] != 17 ||
        (gw_get16(ip + 6) & 0x3fff) != 0) {
        return;
    }
    const uint8_t *udp = ip + ihl;
    if (gw_get16(udp + 2) != 67) {
        return;
    }
    struct tern_dhcpv4_repr m;
    if (tern_dhcpv4_parse(udp + 8, total - ihl - 8, &m) != TERN_OK || m.op != 1 || !m.hostname ||
        !label_ok(m.hostname, m.hostname_len)) {
        return;
    }
    gw_hostname *slot = NULL;
    for (uint32_t i = 0; i < SIM_GW_HOSTNAMES; i++) {
        if (g->names[i].used && memcmp(g->names[i].mac, m.chaddr, 6) == 0) {
            slot = &g->names[i];
            break;
        }
    }
    if (!slot) {
        /* A new guest: the next slot in turn (the oldest name is forgotten when all are used). */
        slot = &g->names[g->names_next];
        g->names_next = (g->names_next + 1) % SIM_GW_HOSTNAMES;
        g->c.hostnames_learned++;
    }
    slot->used = true;
    memcpy(slot->mac, m.chaddr, 6);
    memcpy(slot->name, m.hostname, m.hostname_len);
    slot->name[m.hostname_len] = 0;
}

uint32_t gw_names_lookup(gw_state *g, uint64_t now, const char *label) {
    tern_dhcps_lease leases[TERN_DHCPS_LEASES];
    uint32_t n = 0;
    if (tern_dhcp_server_leases(g->stack, now, leases, TERN_DHCPS_LEASES, &n) != TERN_OK) {
        return 0;
    }
    for (uint32_t i = 0; i < SIM_GW_HOSTNAMES; i++) {
        const gw_hostname *h = &g->names[i];
        if (!h->used || !tern_dns_name_eq(h->name, label)) {
            continue;
        }
        for (uint32_t k = 0; k < n && k < TERN_DHCPS_LEASES; k++) {
            if (leases[k].state == TERN_DHCPS_BOUND && memcmp(leases[k].mac, h->mac, 6) == 0) {
                return leases[k].address;
            }
        }
    }
    return 0;
}

/* addr inside port p's IPv6 prefix (and not the gateway's own address)? */
static bool in_prefix6(const sim_gw_port_config *p, const uint8_t *addr) {
    static const uint8_t zero[16];
    uint32_t bits = p->prefix6_len;
    if (memcmp(p->addr6, zero, 16) == 0 || bits == 0 || bits > 128 ||
        memcmp(addr, p->addr6, 16) == 0) {
        return false;
    }
    uint32_t bytes = bits / 8, rest = bits % 8;
    if (memcmp(addr, p->addr6, bytes) != 0) {
        return false;
    }
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return rest == 0 || (addr[bytes] & mask) == (p->addr6[bytes] & mask);
}

static void learn6(gw_state *g, const uint8_t mac[6], const uint8_t *addr) {
    gw_guest6 *e = NULL;
    for (uint32_t i = 0; i < SIM_GW_HOSTNAMES && !e; i++) {
        if (g->guests6[i].used && memcmp(g->guests6[i].mac, mac, 6) == 0) {
            e = &g->guests6[i];
        }
    }
    if (!e) { /* a new guest: the next slot in turn, as for host names */
        e = &g->guests6[g->guests6_next];
        g->guests6_next = (g->guests6_next + 1) % SIM_GW_HOSTNAMES;
        memset(e, 0, sizeof *e);
        e->used = true;
        memcpy(e->mac, mac, 6);
    }
    for (uint32_t k = 0; k < e->n; k++) {
        if (memcmp(e->addr[k], addr, 16) == 0) {
            return;
        }
    }
    memcpy(e->addr[e->next], addr, 16);
    e->next = (uint8_t)((e->next + 1) % GW_GUEST_ADDR6);
    if (e->n < GW_GUEST_ADDR6) {
        e->n++;
    }
}

void gw_names_snoop6(gw_state *g, uint32_t port, const uint8_t *frame, size_t len) {
    if (port >= g->cfg.nports || (g->outside >= 0 && port == (uint32_t)g->outside) ||
        len < 14 + 40 || gw_get16(frame + 12) != 0x86dd || (frame[6] & 1)) {
        return;
    }
    const sim_gw_port_config *p = &g->cfg.port[port];
    const uint8_t *ip = frame + 14;
    if ((ip[0] >> 4) != 6) {
        return;
    }
    static const uint8_t unspecified[16];
    const uint8_t *src = ip + 8;
    if (in_prefix6(p, src)) {
        learn6(g, frame + 6, src);
    } else if (memcmp(src, unspecified, 16) == 0 && ip[6] == 58 && ip[7] == 255 &&
               len >= 14 + 40 + 24 && ip[40] == 135 && ip[41] == 0 && in_prefix6(p, ip + 48)) {
        /* DAD: a Neighbor Solicitation from :: for the address the guest is about to use */
        learn6(g, frame + 6, ip + 48);
    }
}

uint32_t gw_names_lookup6(const gw_state *g, const char *label, uint8_t (*out)[16], uint32_t cap) {
    for (uint32_t i = 0; i < SIM_GW_HOSTNAMES; i++) {
        const gw_hostname *h = &g->names[i];
        if (!h->used || !tern_dns_name_eq(h->name, label)) {
            continue;
        }
        for (uint32_t k = 0; k < SIM_GW_HOSTNAMES; k++) {
            const gw_guest6 *e = &g->guests6[k];
            if (e->used && memcmp(e->mac, h->mac, 6) == 0) {
                uint32_t n = 0;
                /* oldest first: the order the guest formed them */
                for (uint32_t j = 0; j < e->n; j++) {
                    uint32_t at = (e->n < GW_GUEST_ADDR6 ? j : (e->next + j) % GW_GUEST_ADDR6);
                    if (n < cap) {
                        memcpy(out[n], e->addr[at], 16);
                    }
                    n++;
                }
                return n;
            }
        }
        return 0;
    }
    return 0;
}

/*
 * Guest host names for the DNS server: the host name option (12, RFC 2132
 * section 3.14) of the DHCP messages guests send is remembered by MAC, and
 * "<name>.<domain>" answers with the address the DHCP server has bound to
 * that MAC at the time of the query (so a name goes away with its lease).
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

/*
 * The services' entry points for the rest of the stack (services.h): UDP
 * datagrams for the DNS resolver (from port 53), the DHCP server (to 67) and
 * the DHCP client (68 from 67), the mDNS responder (to 5353); ARP packets for
 * the client's conflict detection; poll and poll_at of them all.
 */
#include "core/stack_internal.h"
#include "wire/dhcpv4.h"
#include "wire/dns.h"
#include "wire/udp.h"

bool tern_services_udp_input(tern_stack *st, uint64_t now, uint32_t iface,
                             const struct tern_ipv4_repr *ip, const struct tern_udp_repr *udp) {
    /* answers to the resolver: from 53, or from 5353 to a one-shot mDNS query (RFC 6762 5.1) */
    if ((udp->src_port == TERN_DNS_PORT || udp->src_port == TERN_MDNS_PORT) &&
        tern_dns_input(st, now, &ip->src, udp)) {
        return true;
    }
    if (udp->dst_port == TERN_MDNS_PORT && tern_mdns_input(st, now, ip, udp)) {
        return true;
    }
    if (udp->dst_port == TERN_DHCP_SERVER_PORT &&
        tern_dhcp_server_input(st, now, iface, tern_addr_v4_to_u32(&ip->dst), udp)) {
        return true;
    }
    return tern_dhcp_client_input(st, now, udp);
}

void tern_services_arp_input(tern_stack *st, uint64_t now, uint32_t iface,
                             const struct tern_arp_repr *arp) {
    tern_dhcp_client_arp_input(st, now, iface, arp);
}

void tern_services_poll(tern_stack *st, uint64_t now, bool quiet_idle) {
    /* The DHCPv4 client and mDNS are quiet modules: with their cached deadline still ahead their
     * polls would find nothing due, and skipping them spares every poll of every host a line or
     * two per interface (issue 19). The resolver follows TCP, and the DHCPv6 client in CHECKING
     * follows its address's DAD at every poll rather than at a deadline (skipping it left a
     * dnsmasq lease in CHECKING: scenarios/interop/test_interop_dhcpv6.py): both always polled. */
    if (!quiet_idle) {
        tern_dhcp_client_poll(st, now);
    }
    tern_dhcpv6_poll(st, now);
    tern_dns_poll(st, now);
    if (!quiet_idle) {
        tern_mdns_poll(st, now);
    }
}

uint64_t tern_services_quiet_poll_at(const tern_stack *st) {
    uint64_t a = tern_dhcp_client_poll_at(st), c = tern_mdns_poll_at(st);
    return a < c ? a : c;
}

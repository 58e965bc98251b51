/*
 * The services folder's one private header (DESIGN.md section 1): the
 * per-interface DHCPv4 client state the instance embeds, and the hooks the
 * rest of the stack calls.
 */
#ifndef TERN_SERVICES_H
#define TERN_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/dhcp.h"
#include "tern/dhcpv6.h"
#include "tern/dns.h"
#include "tern/mdns.h"

struct tern_stack;
struct tern_ipv4_repr;
struct tern_udp_repr;
struct tern_arp_repr;

#define TERN_DHCP_EVENTS 16

typedef struct tern_dhcp_client {
    tern_dhcp_client_config cfg;
    tern_dhcp_lease lease;  /* state and lease as reported */
    uint64_t started_at;    /* of the current acquisition (for secs) */
    uint64_t next_at;       /* the one timer: retransmission, probe, T1/T2/expiry */
    uint32_t tries;         /* transmissions in this state */
    uint32_t offered;       /* SELECTING: the address offered; CHECKING: being probed */
    uint32_t offer_server;  /* the server id of the chosen offer */
    uint8_t probes_sent;    /* CHECKING */
    uint8_t announces_left; /* after BOUND: RFC 5227 announcements still to send */
    uint64_t announce_at;   /* when the next announcement goes */
    bool addr_installed;    /* the address (and route) are on the interface */
    bool had_lease;         /* RENEWED rather than BOUND when re-acknowledged */
    tern_dhcp_event ev[TERN_DHCP_EVENTS];
    uint32_t ev_head, ev_count;
} tern_dhcp_client;

/* The DHCPv6 client of one interface (services/dhcpv6_client.c). */
typedef struct tern_dhcpv6_client {
    tern_dhcpv6_config cfg;
    tern_dhcpv6_lease lease; /* state and lease as reported */
    uint8_t msg_type;        /* the message of the exchange in progress */
    uint64_t mrd_at;         /* the exchange fails at this time (MRD); TERN_NEVER: no limit */
    uint32_t mrc;            /* the exchange fails after this many transmissions; 0: no limit */
    bool first_rt_over;      /* Solicit: the first RT has elapsed (section 18.2.1) */
    bool have_advert;        /* Solicit: a usable Advertise is held */
    uint8_t adv_pref;
    tern_addr adv_addr;
    uint8_t adv_server[TERN_DHCPV6_SERVER_ID_MAX];
    uint16_t adv_server_len;
    bool addr_installed; /* the leased address is on the interface */
    bool had_lease;      /* RENEWED rather than BOUND */
    uint32_t sol_max_rt; /* seconds: SOL_MAX_RT, or the server's option */
    tern_dhcpv6_event ev[TERN_DHCP_EVENTS];
    uint32_t ev_head, ev_count;
} tern_dhcpv6_client;

/* One DHCPv4 server; a stack has tern_stack_config.dhcp_servers of them, at most one per
 * interface. */
typedef struct tern_dhcp_server {
    bool running;
    tern_dhcp_server_config cfg; /* defaults filled in */
    tern_dhcps_lease leases[TERN_DHCPS_LEASES];
    tern_dhcps_counters c;
} tern_dhcp_server;

/* One resolver query in flight (services/dns.c). */
typedef struct tern_dns_query_slot {
    bool used;
    char name[TERN_DNS_NAME_MAX + 1]; /* the name asked now (changes along a CNAME chain) */
    uint32_t servers[TERN_DNS_MAX_SERVERS];
    tern_addr server6[TERN_DNS_MAX_SERVERS]; /* v6: IPv6 servers (from a DHCPv6 lease) instead */
    bool v6;
    uint32_t n_servers;
    uint32_t server; /* index of the server asked */
    uint32_t round;
    uint64_t wait;    /* this round's timeout */
    uint64_t next_at; /* send (sent false) or give up on the server (sent true) */
    bool sent;
    uint16_t id, port;
    uint32_t links; /* CNAME links followed */
    tern_dns_answer ans;
    /* TCP after a truncated answer (RFC 7766 section 5) */
    bool tcp;
    uint32_t tcp_sock;
    uint32_t tcp_have; /* bytes of tcp_buf filled: the 2-byte length, then the message */
    uint8_t tcp_buf[2 + TERN_DNS_TCP_MAX];
} tern_dns_query_slot;

typedef struct tern_dns_cache_entry {
    bool used;
    char name[TERN_DNS_NAME_MAX + 1];
    uint64_t expires_at;
    tern_dns_answer ans;
} tern_dns_cache_entry;

/* The resolver. Its query slots (4.8 KB each: the TCP answer buffer) and cache entries are in the
 * instance's arena, as many as the configuration's dns_queries and dns_cache (issue 19: a host
 * that resolves nothing carries none). */
typedef struct tern_dns_resolver {
    tern_dns_config cfg;
    tern_dns_query_slot *q;      /* nq slots */
    tern_dns_cache_entry *cache; /* ncache entries */
    uint32_t nq, ncache;
    tern_dns_counters c;
} tern_dns_resolver;

/* The mDNS responder (services/mdns.c). */
typedef struct tern_mdns_responder {
    tern_mdns_state state;
    uint32_t iface;
    char label[TERN_MDNS_LABEL_MAX + 1];
    char name[TERN_MDNS_LABEL_MAX + 12]; /* label[-N].local */
    uint32_t renames;
    uint32_t addr;                          /* the A record's address (host order) */
    uint8_t addr6[TERN_MDNS_ADDR6_MAX][16]; /* the AAAA records' addresses (taken per query) */
    uint8_t n_addr6;
    uint8_t sent;     /* probes or announcements sent in this state */
    uint64_t next_at; /* next probe / announcement / end of probing */
    /* the records (services/mdns.c: R_A ... R_ENUM): when each was last multicast */
    uint64_t last_mc[TERN_MDNS_RECORDS];
    uint8_t mc_once; /* bit i: last_mc[i] is meaningful */
    /* a response with shared records waiting its 20-120 ms (RFC 6762 section 6) */
    uint8_t pending;
    uint64_t pending_at;
    /* DNS-SD (RFC 6763): one service instance */
    bool svc;
    char svc_instance[TERN_MDNS_INSTANCE_MAX + 1];
    char svc_type[TERN_MDNS_TYPE_MAX + 1];
    char svc_name[TERN_MDNS_INSTANCE_MAX + TERN_MDNS_TYPE_MAX + 16]; /* instance[ (N)].type.local */
    char svc_ptr[TERN_MDNS_TYPE_MAX + 8];                            /* type.local */
    uint16_t svc_port;
    uint8_t svc_txt[TERN_MDNS_TXT_MAX];
    uint16_t svc_txt_len;
    uint32_t svc_renames;
    /* RFC 6762 section 8.1 conflict rate limit: the times of the last 15 conflicts */
    uint64_t conflict_at[15];
    uint32_t conflict_next;
    bool goodbye; /* stopped: records with TTL 0 go on the next poll, then 224.0.0.251 is left */
    tern_mdns_counters c;
} tern_mdns_responder;

/* A UDP datagram to port 5353 (mDNS): true when the responder took it. */
bool tern_mdns_input(struct tern_stack *st, uint64_t now, const struct tern_ipv4_repr *ip,
                     const struct tern_udp_repr *udp);
void tern_mdns_poll(struct tern_stack *st, uint64_t now);
uint64_t tern_mdns_poll_at(const struct tern_stack *st);

/* A UDP datagram from port 53 (or 5353) from src (IPv4 or IPv6): true when it was for a resolver
 * query's port. */
bool tern_dns_input(struct tern_stack *st, uint64_t now, const tern_addr *src,
                    const struct tern_udp_repr *udp);
void tern_dns_poll(struct tern_stack *st, uint64_t now);
uint64_t tern_dns_poll_at(const struct tern_stack *st);

/* Send a UDP datagram in an Ethernet frame built here (no routing, no ARP):
 * for DHCP, whose ends may have no address yet (RFC 2131 section 4.1). */
void tern_services_send_udp(struct tern_stack *st, uint32_t iface, const uint8_t dst_mac[6],
                            uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                            const uint8_t *payload, size_t len);
/* The same through tern_ip_send (routed, ARP-resolved) from a configured address. */
void tern_services_send_udp_routed(struct tern_stack *st, uint64_t now, uint32_t src, uint32_t dst,
                                   uint16_t sport, uint16_t dport, const uint8_t *payload,
                                   size_t len);
/* The client's side of tern_services_udp_input (68 from 67), of the ARP
 * hook, and its timers (services/dhcp_client.c). */
bool tern_dhcp_client_input(struct tern_stack *st, uint64_t now, const struct tern_udp_repr *udp);
void tern_dhcp_client_arp_input(struct tern_stack *st, uint64_t now, uint32_t iface,
                                const struct tern_arp_repr *arp);
void tern_dhcp_client_poll(struct tern_stack *st, uint64_t now);
uint64_t tern_dhcp_client_poll_at(const struct tern_stack *st);
/* A UDP datagram over IPv6 to port 546: true when a DHCPv6 client took it. */
bool tern_dhcpv6_input(struct tern_stack *st, uint64_t now, uint32_t iface,
                       const struct tern_udp_repr *udp);
/* A valid Router Advertisement's M and O flags on iface (RFC 4861 section 4.2). */
void tern_dhcpv6_router_advert(struct tern_stack *st, uint64_t now, uint32_t iface, bool managed,
                               bool other);
/* DAD news about one of iface's tentative addresses (RFC 4862 5.4.3/5.4.4) was processed. */
void tern_dhcpv6_dad_input(struct tern_stack *st, uint64_t now, uint32_t iface);
void tern_dhcpv6_poll(struct tern_stack *st, uint64_t now);
uint64_t tern_dhcpv6_poll_at(const struct tern_stack *st);
/* The server's side of tern_services_udp_input (port 67): the datagram arrived on `iface`
 * addressed to `dst` (host order). False when no server is for it (dhcp_server.c). */
bool tern_dhcp_server_input(struct tern_stack *st, uint64_t now, uint32_t iface, uint32_t dst,
                            const struct tern_udp_repr *udp);

/* A UDP datagram to port 68 (or 67) that arrived on `iface`: true when a service took it. */
bool tern_services_udp_input(struct tern_stack *st, uint64_t now, uint32_t iface,
                             const struct tern_ipv4_repr *ip, const struct tern_udp_repr *udp);
/* Every valid ARP packet received on iface (conflict detection, RFC 5227). */
void tern_services_arp_input(struct tern_stack *st, uint64_t now, uint32_t iface,
                             const struct tern_arp_repr *arp);
/* The services' poll. quiet_idle: the quiet modules' cached deadline (tern_poll_cache, which
 * holds the DHCPv4 client's and mDNS's: tern_services_quiet_poll_at) is still ahead and nothing
 * changed since it was computed, so only the resolver and the DHCPv6 client are polled. */
void tern_services_poll(struct tern_stack *st, uint64_t now, bool quiet_idle);
/* The DHCPv4 client's and mDNS's earliest deadline (the part of the quiet modules a quiet poll
 * skips: tern_poll_cache). The DHCPv6 client's is tern_dhcpv6_poll_at (polled every time); the
 * resolver's is tern_dns_poll_at, which depends on TCP's state (DNS over TCP). */
uint64_t tern_services_quiet_poll_at(const struct tern_stack *st);

#endif /* TERN_SERVICES_H */

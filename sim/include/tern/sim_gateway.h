/*
 * The gateway node: user-mode networking in virtual time.
 *
 * A gateway is a router node with any number of ports (1..SIM_GW_MAX_PORTS),
 * one IPv4 segment per port. It is built from one Tern stack instance that
 * owns the gateway's own addresses (one interface per port, same MAC and
 * addresses), so that ARP (answered only for those addresses), ICMP echo on
 * each address, the DHCPv4 server, the DNS server's sockets and the
 * forwarding path (TTL decrement, ICMP time exceeded, net/host unreachable,
 * fragmentation needed, with the stack's deterministic ICMP error rate
 * limit) are the stack's own code. Around the stack the node adds:
 *
 *   - NAT (RFC 4787 for UDP, RFC 5382 for TCP, RFC 5508 for ICMP) from the
 *     inside ports to the outside port, in the way of a Linux router:
 *     destination translation of what arrives on the outside port before
 *     the stack routes it, source translation of what the stack sends out
 *     of the outside port. Endpoint-independent mapping, a choice of
 *     filtering, per-protocol timeouts, TCP state tracking for the mapping
 *     lifetime, ICMP echo identifier mapping and ICMP error translation.
 *     Mappings expire by comparing their deadline with the current time
 *     (no timers); sim_gateway_nat_table reads them at any virtual time.
 *   - Static port forwards (outside port -> inside address and port), TCP
 *     and UDP.
 *   - An authoritative DNS server (UDP port 53 on every gateway address,
 *     and on every port's IPv6 addresses) for the local domain (default
 *     "tern"): "gateway.<domain>", one name per guest whose DHCP messages
 *     carried a host name (option 12; A while its lease is bound, AAAA for
 *     the IPv6 addresses it was seen using), and user A and AAAA records of
 *     any name; other names (any type) are forwarded to the configured
 *     upstream servers, the answer relayed back with the client's ID. Router
 *     Advertisements name it in an RDNSS option (RFC 8106).
 *
 * The DHCP server is the stack's (tern/dhcp.h): configure it with
 * tern_dhcp_server_start on sim_gateway_stack(); it runs on one port.
 *
 * Errors: functions return a tern_err; failures leave a message naming the
 * field and the reason in sim_last_error().
 */
#ifndef TERN_SIM_GATEWAY_H
#define TERN_SIM_GATEWAY_H

#ifndef TERN_CDEF
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/sim.h"
#include "tern/stack.h"
#endif

#define SIM_GW_MAX_PORTS 8               /* = TERN_MAX_IFACES */
#define SIM_GW_PORT_ADDRS 4              /* = TERN_MAX_IFACE_ADDRS */
#define SIM_GW_MAX_UPSTREAMS 4           /* DNS upstream servers */
#define SIM_GW_DOMAIN_MAX 63             /* bytes of the local DNS domain */
#define SIM_GW_NAT_SESSIONS 8            /* remote endpoints remembered per mapping */
#define SIM_GW_DNS_PENDING 32            /* forwarded queries waiting for an upstream answer */
#define SIM_GW_DNS_RECORDS 256           /* user records */
#define SIM_GW_HOSTNAMES 64              /* guest host names learned from DHCP messages */
#define SIM_GW_NAME_MAX 253              /* characters of a DNS name */
#define SIM_GW_TRANSCRIPT_MAX (8u << 20) /* bytes of transcript kept; later lines are counted */

/* NAT filtering behaviour (RFC 4787 section 5). */
typedef enum sim_gw_filtering {
    SIM_GW_FILTER_ENDPOINT_INDEPENDENT = 0,  /* any remote may send to a mapping */
    SIM_GW_FILTER_ADDRESS_DEPENDENT = 1,     /* only addresses the inside host sent to */
    SIM_GW_FILTER_ADDRESS_PORT_DEPENDENT = 2 /* only address and port pairs it sent to */
} sim_gw_filtering;

/* One port (segment) of the gateway. */
typedef struct sim_gw_port_config {
    uint8_t mac[6];
    uint32_t naddrs;                  /* 1..SIM_GW_PORT_ADDRS */
    uint32_t addr[SIM_GW_PORT_ADDRS]; /* IPv4, host order; all in the prefix of addr[0] */
    uint8_t prefix_len;               /* 1..30 */
    uint32_t mtu;                     /* IP MTU, 68..9000; 0 means 1500 */
    bool outside;                     /* the NAT outside port (at most one port) */
    /* IPv6 (optional): the gateway's global address on the port and the prefix routed to
     * the segment, one prefix per segment and no NAT66 (the inside prefixes are routed, the
     * outside knows them through the gateway). All zero: no global IPv6 address on the port. */
    uint8_t addr6[16];
    uint8_t prefix6_len; /* 1..128; 64 with `ra` (SLAAC forms 64-bit interface identifiers) */
    /* Send Router Advertisements on this port (RFC 4861 section 6.2): the port's prefix
     * (on-link, autonomous), the gateway as default router, the port's MTU. Not on the outside. */
    bool ra;
} sim_gw_port_config;

typedef struct sim_gw_config {
    uint64_t seed; /* the gateway's randomness: its stack, DNS IDs */
    uint32_t nports;
    sim_gw_port_config port[SIM_GW_MAX_PORTS];
    /* Next hop of the default route, on the outside port (host order); 0: none. */
    uint32_t default_router;

    /* NAT; on only when a port is `outside`. Zero fields take the default in brackets. */
    uint16_t nat_port_low;           /* first external port [1024] */
    uint16_t nat_port_high;          /* last external port [60999]; the stack's own ephemeral
                                      * ports are 61000..65535, so the two never meet */
    uint64_t nat_udp_timeout_ns;     /* UDP mapping idle time [300 s]; at least 120 s
                                      * (RFC 4787 REQ-5) */
    uint64_t nat_tcp_established_ns; /* [7440 s] at least 2 h 4 min (RFC 5382 REQ-5) */
    uint64_t nat_tcp_transitory_ns;  /* [240 s] at least 4 min (RFC 5382 REQ-5) */
    uint64_t nat_icmp_timeout_ns;    /* ICMP query mapping [60 s] at least 60 s (RFC 5508 REQ-2) */
    sim_gw_filtering nat_filtering;  /* [endpoint-independent] */
    bool nat_inbound_refresh;        /* inbound UDP packets refresh the mapping too */
    uint32_t nat_max_mappings;       /* table size [1024] */
    bool nat_allow_short_timeouts;   /* accept timeouts below the RFC minimums (tests) */

    /* ICMP error rate limit of the gateway (the stack's token bucket) [100/s, burst 10]. */
    uint32_t icmp_rate;
    uint32_t icmp_burst;

    /* DNS server. */
    bool dns;                                /* run it */
    char domain[SIM_GW_DOMAIN_MAX + 1];      /* local domain; "" means "tern" */
    uint32_t dns_ttl;                        /* TTL of local answers, s [60] */
    uint32_t upstream[SIM_GW_MAX_UPSTREAMS]; /* forwarders, host order, tried in order */
    uint32_t n_upstream;
    uint64_t upstream_timeout_ns; /* per upstream before the next [2 s] */

    /* Router Advertisements (ports with `ra`), RFC 4861 section 6.2.1; zero: the default. */
    uint64_t ra_max_interval_ns; /* MaxRtrAdvInterval, 4..1800 s [600 s] */
    uint64_t ra_min_interval_ns; /* MinRtrAdvInterval, 3 s..0.75 x Max [0.33 x Max when Max >= 9 s,
                                  * else 0.75 x Max] */
    uint32_t ra_lifetime_s;      /* AdvDefaultLifetime, Max..9000 s [3 x Max] */
    uint32_t ra_valid_s;         /* AdvValidLifetime of the prefixes [2592000: 30 days] */
    uint32_t ra_preferred_s;     /* AdvPreferredLifetime [604800: 7 days], at most valid */
    /* IPv6 next hop of the default route, on the outside port; all zero: none. */
    uint8_t default_router6[16];
} sim_gw_config;

/*
 * sim_gateway_config_default: zero *cfg and set the seed; every field then
 * means its default.
 */
void sim_gateway_config_default(sim_gw_config *cfg, uint64_t seed);

/*
 * sim_gateway_validate: check a configuration completely, changing nothing.
 *   msg, cap  receive the first problem, "field: reason" (e.g.
 *             "port[1].addr[0]: 10.0.2.2 is in the prefix of port[0]").
 * Returns TERN_OK or TERN_ERR_INVALID_ARGUMENT.
 */
tern_err sim_gateway_validate(const sim_gw_config *cfg, char *msg, size_t cap);

/*
 * sim_gateway_add: add a gateway node with cfg->nports ports.
 *   name  the node's name (as sim_node_add)
 *   cfg   the configuration (copied)
 *   out   receives the node id
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (what sim_gateway_validate
 * finds, the message prefixed with the gateway's name); what sim_node_add
 * returns; TERN_ERR_NO_MEMORY.
 */
tern_err sim_gateway_add(sim *s, const char *name, const sim_gw_config *cfg, sim_node_id *out);

/*
 * sim_gateway_stack: the stack instance inside a gateway (for its DHCP
 * server, ARP table, counters), or NULL when the node is not a gateway.
 * After changing it from outside the simulation call sim_node_wake().
 */
tern_stack *sim_gateway_stack(sim *s, sim_node_id node);

/* ---- port forwards ------------------------------------------------------ */

/*
 * sim_gateway_forward_add: forward `protocol` (6 TCP, 17 UDP) arriving on
 * the outside address at `outside_port` to inside_addr:inside_port. The
 * forward is a permanent mapping (it never expires) with endpoint-
 * independent filtering; the inside host's replies leave from outside_port.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (no outside port, protocol
 * not 6 or 17, port 0, inside_addr not on an inside segment);
 * TERN_ERR_ADDR_IN_USE when the outside port is taken by another forward or
 * a live mapping (the message names it); TERN_ERR_NO_BUFFER (table full);
 * TERN_ERR_UNKNOWN_NODE; TERN_ERR_WRONG_KIND.
 */
tern_err sim_gateway_forward_add(sim *s, sim_node_id gw, uint8_t protocol, uint16_t outside_port,
                                 uint32_t inside_addr, uint16_t inside_port);

/*
 * sim_gateway_forward_del: remove the forward of protocol/outside_port.
 * Returns TERN_OK; TERN_ERR_EMPTY when there is none; TERN_ERR_UNKNOWN_NODE;
 * TERN_ERR_WRONG_KIND.
 */
tern_err sim_gateway_forward_del(sim *s, sim_node_id gw, uint8_t protocol, uint16_t outside_port);

/* ---- NAT table ----------------------------------------------------------- */

/* TCP state of a NAT session (RFC 5382 section 5). */
typedef enum sim_gw_tcp_state {
    SIM_GW_TCP_NONE = 0,        /* not TCP */
    SIM_GW_TCP_SYN_SENT = 1,    /* a SYN went one way: transitory */
    SIM_GW_TCP_ESTABLISHED = 2, /* SYNs both ways: established timeout */
    SIM_GW_TCP_FIN = 3,         /* a FIN seen: transitory */
    SIM_GW_TCP_CLOSED = 4       /* FINs both ways or a RST: transitory */
} sim_gw_tcp_state;

/* One remote endpoint a mapping has talked with. */
typedef struct sim_gw_nat_session {
    uint32_t remote_addr;
    uint16_t remote_port; /* ICMP: 0 */
    sim_gw_tcp_state tcp_state;
    uint8_t tcp_seen; /* TCP flags seen: 1 SYN out, 2 SYN in, 4 FIN out, 8 FIN in, 16 RST */
    uint64_t expires_at;
    uint64_t packets_out, packets_in;
} sim_gw_nat_session;

/* One NAT mapping (endpoint-independent: one per inside endpoint). */
typedef struct sim_gw_nat_entry {
    uint8_t protocol; /* 6, 17 or 1 (ICMP echo) */
    uint32_t inside_addr;
    uint16_t inside_port; /* ICMP: the echo identifier */
    uint32_t outside_addr;
    uint16_t outside_port; /* ICMP: the identifier used outside */
    bool forward;          /* a static port forward: never expires */
    uint64_t created_at;
    uint64_t expires_at; /* the latest session deadline; SIM_NEVER for a forward */
    uint32_t nsessions;
    sim_gw_nat_session sessions[SIM_GW_NAT_SESSIONS];
} sim_gw_nat_entry;

/*
 * sim_gateway_nat_table: copy the live mappings (expires_at > now), in the
 * order they were created.
 *   out, cap  where to put them (out may be NULL when cap is 0)
 *   n         receives how many are live (may exceed cap: only cap copied)
 * Returns TERN_OK; TERN_ERR_UNKNOWN_NODE; TERN_ERR_WRONG_KIND.
 */
tern_err sim_gateway_nat_table(sim *s, sim_node_id gw, sim_gw_nat_entry *out, uint32_t cap,
                               uint32_t *n);

/* ---- DNS ------------------------------------------------------------------ */

/*
 * sim_gateway_dns_add: a user A record `name` -> addr (host order) with
 * `ttl` seconds; several records of one name make several answers, in the
 * order added. The name is any dotted name (a final '.' allowed).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (a name that does not encode:
 * empty label, label over 63 bytes, over 253 characters); TERN_ERR_NO_BUFFER
 * after SIM_GW_DNS_RECORDS; TERN_ERR_UNKNOWN_NODE; TERN_ERR_WRONG_KIND.
 */
tern_err sim_gateway_dns_add(sim *s, sim_node_id gw, const char *name, uint32_t addr, uint32_t ttl);

/*
 * sim_gateway_dns_add6: a user AAAA record (RFC 3596) `name` -> addr6 (16
 * bytes, network order) with `ttl` seconds; otherwise as sim_gateway_dns_add
 * (A and AAAA records of one name live side by side: each query type gets
 * its own, another type an empty NOERROR answer).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (a name that does not encode,
 * addr6 NULL); TERN_ERR_NO_BUFFER after SIM_GW_DNS_RECORDS (A and AAAA
 * together); TERN_ERR_UNKNOWN_NODE; TERN_ERR_WRONG_KIND.
 */
tern_err sim_gateway_dns_add6(sim *s, sim_node_id gw, const char *name, const uint8_t addr6[16],
                              uint32_t ttl);

/*
 * sim_gateway_dns_lookup6: what the DNS server answers locally for an AAAA
 * query of `name` now (without forwarding): user AAAA records, the
 * gateway's global IPv6 address for gateway.<domain>, the addresses a named
 * guest was seen using.
 *   addrs6, cap  receive the addresses (16 bytes each); n how many there are
 * Returns TERN_OK (a local name; *n may be 0); TERN_ERR_EMPTY when the name
 * is not local; TERN_ERR_UNKNOWN_NODE; TERN_ERR_WRONG_KIND.
 */
tern_err sim_gateway_dns_lookup6(sim *s, sim_node_id gw, const char *name, uint8_t (*addrs6)[16],
                                 uint32_t cap, uint32_t *n);

/*
 * sim_gateway_dns_lookup: what the DNS server answers locally for an A
 * query of `name` now (without forwarding).
 *   addrs, cap  receive the addresses (host order); n how many there are
 * Returns TERN_OK (a local name: *n may be 0 for a local name without an
 * address, which the server answers NXDOMAIN); TERN_ERR_EMPTY when the name
 * is not local (the server forwards it); TERN_ERR_UNKNOWN_NODE;
 * TERN_ERR_WRONG_KIND.
 */
tern_err sim_gateway_dns_lookup(sim *s, sim_node_id gw, const char *name, uint32_t *addrs,
                                uint32_t cap, uint32_t *n);

/*
 * sim_gateway_hostname: the host name (DHCP option 12) the guest with this
 * MAC last sent, as the DNS server uses it.
 *   out, cap  receive the NUL-terminated name (cap >= 64 always suffices)
 * Returns TERN_OK; TERN_ERR_EMPTY when the guest sent none;
 * TERN_ERR_BUFFER_TOO_SMALL; TERN_ERR_UNKNOWN_NODE; TERN_ERR_WRONG_KIND.
 */
tern_err sim_gateway_hostname(sim *s, sim_node_id gw, const uint8_t mac[6], char *out, size_t cap);

/* One answer the DNS forwarder keeps (sim_gateway_dns_cache). */
#define SIM_GW_DNS_CACHE 64
typedef struct sim_gw_dns_cache_entry {
    char name[SIM_GW_NAME_MAX + 1]; /* the question's name, as asked */
    uint16_t qtype;
    uint16_t rcode;      /* of the upstream answer (0 NOERROR) */
    uint16_t ancount;    /* answer records */
    uint64_t stored_at;  /* virtual time the answer came */
    uint64_t expires_at; /* stored_at + the smallest TTL of its records */
    uint32_t hits;       /* queries answered from it */
} sim_gw_dns_cache_entry;

/*
 * sim_gateway_dns_cache: copy the live entries of the forwarder's cache
 * (expires_at > now), oldest first.
 *   out, cap, n  as sim_gateway_nat_table
 * Returns TERN_OK; TERN_ERR_UNKNOWN_NODE; TERN_ERR_WRONG_KIND.
 */
tern_err sim_gateway_dns_cache(sim *s, sim_node_id gw, sim_gw_dns_cache_entry *out, uint32_t cap,
                               uint32_t *n);

/* ---- counters --------------------------------------------------------------- */

typedef struct sim_gw_counters {
    /* NAT */
    uint64_t nat_out;             /* datagrams translated inside -> outside */
    uint64_t nat_in;              /* datagrams translated outside -> inside */
    uint64_t nat_icmp_errors_in;  /* ICMP errors about a mapping, translated inward */
    uint64_t nat_icmp_errors_out; /* ICMP errors about a mapping, translated outward */
    uint64_t nat_mappings_created;
    uint64_t nat_mappings_expired;   /* found expired and reused */
    uint64_t nat_filtered;           /* inbound datagrams dropped by the filtering behaviour */
    uint64_t nat_no_mapping;         /* inbound to a NAT port without a mapping (to the stack) */
    uint64_t nat_table_full;         /* outbound datagrams dropped: no mapping could be made */
    uint64_t nat_ports_exhausted;    /* no free external port in the range */
    uint64_t nat_unsupported;        /* outbound datagrams of another protocol, dropped */
    uint64_t nat_fragments_out;      /* non-first fragments whose source was rewritten */
    uint64_t nat_syn_held;           /* unsolicited inbound SYNs held 6 s (RFC 5382 REQ-4) */
    uint64_t nat_syn_dropped;        /* of those, dropped: an outbound SYN of the connection came */
    uint64_t nat_syn_refused;        /* of those, answered with port unreachable after 6 s */
    uint64_t nat_syn_overflow;       /* not held: no room (dropped silently) */
    uint64_t nat_hairpinned;         /* inside to the outside address, sent to another guest */
    uint64_t nat_hairpin_unresolved; /* of those, dropped: the guest's MAC not in the ARP cache */
    /* DNS */
    uint64_t dns_queries;          /* queries received */
    uint64_t dns_local;            /* answered from local data (NOERROR) */
    uint64_t dns_nxdomain;         /* local names without a record */
    uint64_t dns_forwarded;        /* queries sent upstream (retries included) */
    uint64_t dns_upstream_answers; /* upstream answers relayed */
    uint64_t dns_servfail;         /* SERVFAIL sent: no upstream, or all timed out */
    uint64_t dns_malformed;        /* queries that did not parse, dropped */
    uint64_t dns_refused;          /* pending table full: REFUSED */
    uint64_t dns_cache_hits;       /* queries answered from the cache */
    /* DHCP host names learned */
    uint64_t hostnames_learned;
    /* datagrams in transit (not to the gateway) with a wrong checksum, dropped */
    uint64_t transit_bad_checksum;
    /* decoded transcript (sim_gateway_transcript) */
    uint64_t transcript_lines;   /* lines written */
    uint64_t transcript_dropped; /* lines not kept: SIM_GW_TRANSCRIPT_MAX reached */
} sim_gw_counters;

/* sim_gateway_get_counters: copy the counters. Returns TERN_OK; TERN_ERR_UNKNOWN_NODE;
 * TERN_ERR_WRONG_KIND. */
tern_err sim_gateway_get_counters(sim *s, sim_node_id gw, sim_gw_counters *out);

/* ---- Router Advertisements ------------------------------------------------------- */

/* The RA schedule of one port (sim_gateway_ra_state). */
typedef struct sim_gw_ra_state {
    bool enabled;       /* the port sends RAs */
    uint64_t next_at;   /* when the next RA goes out (periodic, or an RS's answer) */
    uint64_t last_at;   /* when the last one went out; SIM_NEVER before the first */
    uint32_t sent;      /* RAs sent */
    uint32_t solicited; /* of those, answers to a Router Solicitation */
    uint32_t rs_received;
    uint32_t final_left; /* after sim_gateway_ra_stop: final RAs still to send */
} sim_gw_ra_state;

/*
 * sim_gateway_ra_state: the RA schedule of `port` now.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (no such port); TERN_ERR_UNKNOWN_NODE;
 * TERN_ERR_WRONG_KIND.
 */
tern_err sim_gateway_ra_state(sim *s, sim_node_id gw, uint32_t port, sim_gw_ra_state *out);

#define SIM_GW_ALL_PORTS 0xffffffffu /* sim_gateway_ra_stop: every advertising port */

/*
 * sim_gateway_ra_stop: `port` ceases to be an advertising interface (the
 * port is taken away, or with SIM_GW_ALL_PORTS the gateway shuts down):
 * RFC 4861 section 6.2.5's final Router Advertisements, Router Lifetime 0
 * (and RDNSS lifetime 0), MAX_FINAL_RTR_ADVERTISEMENTS (3) of them
 * MIN_DELAY_BETWEEN_RAS (3 s) apart, the first now or 3 s after the previous
 * RA (a Router Solicitation meanwhile gets the next final RA, no earlier);
 * after the third the port sends no RA and answers no solicitation
 * (sim_gateway_ra_state: enabled false).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (no such port);
 * TERN_ERR_BAD_STATE (the port does not advertise, or is already stopping;
 * never for SIM_GW_ALL_PORTS, which skips those); TERN_ERR_UNKNOWN_NODE;
 * TERN_ERR_WRONG_KIND.
 */
tern_err sim_gateway_ra_stop(sim *s, sim_node_id gw, uint32_t port);

/* ---- transcript -------------------------------------------------------------- */

/*
 * sim_gateway_transcript: the decoded transcript of the DHCP, DNS, ICMP and
 * ICMPv6 messages the gateway received or sent on any port, one line each, in
 * order, every line ending in '\n':
 *
 *   <seconds>.<ns, 9 digits> <in|out> p<port> <message>
 *
 * with <message> one of
 *   DHCP <DISCOVER|OFFER|REQUEST|DECLINE|ACK|NAK|RELEASE|INFORM|BOOTP> xid 0x<8 hex>
 *        chaddr <mac> [ciaddr A] [yiaddr A] [requested A] [server A] [lease S]
 *        [hostname H] <src>:<port> > <dst>:<port>
 *   DNS query id 0x<4 hex> <qtype> <name> <src>:<port> > <dst>:<port>
 *   DNS answer id 0x<4 hex> <qtype> <name> <RCODE> an <n> [addresses or types]
 *        <src>:<port> > <dst>:<port>
 *   ICMP echo <request|reply> <src> > <dst> id 0x<4 hex> seq <n> len <payload bytes>
 *   ICMP unreachable <net|host|protocol|port|frag needed|...> <src> > <dst> [mtu N]
 *        about <proto> <src>[:port] > <dst>[:port]
 *   ICMP time exceeded <ttl|reassembly> <src> > <dst> about ...
 *   ICMPv6 echo <request|reply> <src> > <dst> id 0x<4 hex> seq <n> len <payload bytes>
 *   ICMPv6 <unreachable CODE|packet too big|time exceeded hop limit|...> <src> > <dst> [mtu N]
 *        about <proto> [<src>][:port] > [<dst>][:port]
 *   ICMPv6 router solicitation <src> > <dst>
 *   ICMPv6 router advertisement <src> > <dst> lifetime S [mtu N] [prefix P/len valid V
 *        preferred P] [rdnss <addr>... lifetime L]
 * (a message that does not parse: "<DHCP|DNS> malformed (<n> bytes)"; Neighbor Solicitations
 * and Advertisements and MLD reports are left out).
 * Received frames are decoded as they arrived (before NAT), sent ones as
 * they left (after NAT). Bounded by SIM_GW_TRANSCRIPT_MAX bytes; lines past
 * it are counted in transcript_dropped.
 *   out, cap  receive the text, NUL-terminated when cap > its length (out
 *             may be NULL when cap is 0)
 *   len       receives the text's length in bytes (without the NUL)
 * Returns TERN_OK; TERN_ERR_BUFFER_TOO_SMALL when cap <= *len (nothing
 * copied); TERN_ERR_UNKNOWN_NODE; TERN_ERR_WRONG_KIND.
 */
tern_err sim_gateway_transcript(sim *s, sim_node_id gw, char *out, size_t cap, size_t *len);

#endif /* TERN_SIM_GATEWAY_H */

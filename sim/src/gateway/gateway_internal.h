/*
 * The gateway node's parts (tern/sim_gateway.h):
 *   gateway.c     the node: configuration, the stack inside, frame paths
 *   config.c      validation of a configuration
 *   nat.c         NAT mappings and header translation
 *   dns_server.c  the authoritative DNS server and forwarder
 *   names.c       guest host names learned from DHCP messages
 *   transcript.c  the decoded transcript of DHCP, DNS and ICMP messages
 *   ra.c          IPv6 Router Advertisements on the inside ports
 */
#ifndef TERN_SIM_GATEWAY_INTERNAL_H
#define TERN_SIM_GATEWAY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sim_internal.h"
#include "tern/sim_gateway.h"
#include "tern/stack.h"

#define GW_SEC 1000000000ULL

/* A user DNS record. */
typedef struct gw_record {
    char name[SIM_GW_NAME_MAX + 1];
    bool v6;           /* an AAAA record (addr6), else an A record (addr) */
    uint32_t addr;     /* A */
    uint8_t addr6[16]; /* AAAA (RFC 3596) */
    uint32_t ttl;
} gw_record;

/* The IPv6 addresses a guest (by MAC) was seen using on an inside segment (names.c). */
#define GW_GUEST_ADDR6 4
typedef struct gw_guest6 {
    uint8_t mac[6];
    bool used;
    uint8_t n;    /* addresses kept, at most GW_GUEST_ADDR6 */
    uint8_t next; /* the slot the next new address takes (the oldest is forgotten) */
    uint8_t addr[GW_GUEST_ADDR6][16];
} gw_guest6;

/* A guest's host name from its DHCP messages (option 12). */
typedef struct gw_hostname {
    uint8_t mac[6];
    char name[64];
    bool used;
} gw_hostname;

/* Where a DNS query came from: the answer goes back the same way. */
typedef struct gw_client {
    uint8_t mac[6];
    uint32_t port; /* node port */
    uint32_t addr; /* host order */
    uint16_t udp_port;
    uint32_t server_addr; /* the gateway address it was sent to */
    bool v6;              /* asked over IPv6: addr6 and server6 instead */
    uint8_t addr6[16];
    uint8_t server6[16];
} gw_client;

/* A query forwarded upstream, waiting for the answer. */
typedef struct gw_pending {
    bool used;
    uint16_t client_id;   /* the client's query ID */
    uint16_t upstream_id; /* the ID sent upstream */
    gw_client client;
    uint32_t server; /* index of the upstream asked */
    uint64_t deadline;
    uint16_t len;
    uint8_t query[512]; /* the query as received (resent to the next upstream) */
} gw_pending;

/* An unsolicited inbound SYN held for RFC 5382 REQ-4 (nat.c). */
#define GW_HELD_SYNS 16
typedef struct gw_held_syn {
    bool used;
    uint8_t mac[6];  /* the sender's MAC: the ICMP error goes back to it */
    uint32_t remote; /* its source address and port */
    uint16_t remote_port;
    uint16_t port;         /* the outside port it was sent to */
    uint64_t deadline;     /* 6 s after it arrived */
    uint8_t quote[60 + 8]; /* its IP header and the first 8 bytes of TCP */
    uint8_t quote_len;
} gw_held_syn;

/* A cached upstream answer (dns_cache.c). */
typedef struct gw_cache_slot {
    sim_gw_dns_cache_entry e;
    uint64_t seq; /* order stored */
    uint16_t len;
    uint8_t msg[512];
} gw_cache_slot;

/* The Router Advertisement schedule of a port (ra.c). */
typedef struct gw_ra {
    bool enabled;
    bool rs_pending;    /* next_at answers a solicitation */
    uint8_t final_left; /* ceasing to advertise: final RAs (Router Lifetime 0) still to send */
    uint64_t next_at, last_at;
    uint32_t sent, solicited, rs_received;
} gw_ra;

typedef struct gw_state {
    sim *s;
    sim_node_id id;
    sim_gw_config cfg;
    tern_stack *stack;
    void *mem;
    uint64_t sent;
    int outside; /* index of the outside port, -1 if none */
    uint64_t now;

    /* NAT */
    sim_gw_nat_entry *nat;
    uint32_t nnat;
    uint16_t next_port[3]; /* per protocol (0 TCP, 1 UDP, 2 ICMP): where the search starts */
    uint16_t next_low[3];  /* the same for inside ports below 1024 (RFC 4787 REQ-3a) */
    gw_held_syn held[GW_HELD_SYNS];
    uint64_t icmp_tokens_at; /* the gateway's own ICMP errors: token bucket, as the stack's */
    uint16_t ip_id_nat;      /* IP identification of those errors */

    /* DNS */
    uint16_t ip_id; /* IP identification of the DNS answers built here */
    tern_sock up_sock;
    bool dns_up;
    gw_record *records;
    uint32_t nrecords;
    gw_pending pending[SIM_GW_DNS_PENDING];
    gw_cache_slot cache[SIM_GW_DNS_CACHE];
    uint64_t cache_seq;
    uint64_t rng; /* DNS IDs towards upstreams (xorshift, seeded) */

    gw_hostname names[SIM_GW_HOSTNAMES];
    uint32_t names_next;
    gw_guest6 guests6[SIM_GW_HOSTNAMES];
    uint32_t guests6_next;

    /* Router Advertisements (ra.c) */
    gw_ra ra[SIM_GW_MAX_PORTS];
    uint64_t ra_rng;

    /* the decoded transcript (transcript.c) */
    char *tr;
    size_t tr_len, tr_cap;

    sim_gw_counters c;
    uint8_t buf[SIM_MAX_FRAME];   /* outbound translation */
    uint8_t inbuf[SIM_MAX_FRAME]; /* inbound translation */
} gw_state;

/* gateway.c: send a frame the gateway built itself (checked like the stack's). */
void gw_send_frame(gw_state *g, uint32_t port, const uint8_t *frame, size_t len);

/* config.c */
void gw_fill_defaults(sim_gw_config *cfg);

/* nat.c */
/* A frame from the outside port: translate it inward in place when it belongs to a
 * mapping. Returns false when it must be dropped (filtered). */
bool gw_nat_inbound(gw_state *g, uint8_t *frame, size_t len);
/* A frame the stack sends out of the outside port: translate it outward in place.
 * Returns false when it must be dropped. */
bool gw_nat_outbound(gw_state *g, uint8_t *frame, size_t len);
/* Is addr (host order) on an inside segment and not the gateway's own? */
bool gw_is_inside_host(const gw_state *g, uint32_t addr);
tern_err gw_nat_forward_add(gw_state *g, uint8_t proto, uint16_t oport, uint32_t iaddr,
                            uint16_t iport);
tern_err gw_nat_forward_del(gw_state *g, uint8_t proto, uint16_t oport);
/* An inside frame to the outside address and a mapped port: hairpinned to the guest behind it.
 * Returns true when the frame was taken (sent or dropped); frame is modified then. */
bool gw_nat_hairpin(gw_state *g, uint8_t *frame, size_t len);
/* Answer held SYNs whose 6 s are over; the earliest deadline left (SIM_NEVER if none). */
void gw_nat_poll(gw_state *g, uint64_t now);
uint64_t gw_nat_poll_at(const gw_state *g);
uint32_t gw_outside_addr(const gw_state *g);

/* dns_server.c */
tern_err gw_dns_start(gw_state *g);
/* A frame arriving on `port`: answer it when it is a DNS query to one of our addresses there;
 * returns true when it was taken (answered or dropped). */
bool gw_dns_intercept(gw_state *g, uint32_t port, const uint8_t *frame, size_t len, uint64_t now);
void gw_dns_service(gw_state *g, uint64_t now);
uint64_t gw_dns_poll_at(const gw_state *g);
/* Local answer for name: TERN_OK with *n IPv4 addresses (A) and *n6 IPv6 addresses (AAAA; addrs6
 * may be NULL with cap6 0), TERN_ERR_EMPTY when not local. *exists: the name has local data of
 * either kind (or is the domain's apex). */
tern_err gw_dns_local(gw_state *g, uint64_t now, const char *name, uint32_t *addrs, uint32_t cap,
                      uint32_t *n, uint8_t (*addrs6)[16], uint32_t cap6, uint32_t *n6,
                      uint32_t *ttl, bool *exists);

/* dns_cache.c */
struct tern_dns_question;
void gw_dns_cache_store(gw_state *g, uint64_t now, const uint8_t *msg, size_t len);
/* The cached answer to the client's query (its ID, question and RD bit), TTLs aged; its length,
 * or 0 when nothing is cached. qend: end of the query's question. */
size_t gw_dns_cache_answer(gw_state *g, uint64_t now, const uint8_t *query, size_t qend,
                           const struct tern_dns_question *q, uint8_t *out, size_t cap);
uint32_t gw_dns_cache_list(const gw_state *g, uint64_t now, sim_gw_dns_cache_entry *out,
                           uint32_t cap);

/* names.c */
/* An inside frame: learn the sender's host name when it is a DHCP client message. */
void gw_names_snoop(gw_state *g, const uint8_t *frame, size_t len);
/* The bound lease address of the guest called `label` now, or 0. */
uint32_t gw_names_lookup(gw_state *g, uint64_t now, const char *label);
/* An inside IPv6 frame on `port`: remember the global address its sender uses (its source, or
 * the target of its Duplicate Address Detection). */
void gw_names_snoop6(gw_state *g, uint32_t port, const uint8_t *frame, size_t len);
/* The IPv6 addresses of the guest called `label` (up to cap into out); how many. */
uint32_t gw_names_lookup6(const gw_state *g, const char *label, uint8_t (*out)[16], uint32_t cap);

/* transcript.c: a line for the frame when it is DHCP, DNS or ICMP (out: sent, else received). */
void gw_transcript_frame(gw_state *g, uint64_t now, uint32_t port, bool out, const uint8_t *frame,
                         size_t len);

/* ra.c */
void gw_ra_init(gw_state *g);
void gw_ra_poll(gw_state *g, uint64_t now);
uint64_t gw_ra_poll_at(const gw_state *g);
/* Stop advertising on `port` (RFC 4861 6.2.5): its final RAs are scheduled. */
tern_err gw_ra_stop(gw_state *g, uint32_t port, uint64_t now);
/* A frame from `port`: a Router Solicitation schedules the answer (RFC 4861 6.2.6). */
void gw_ra_input(gw_state *g, uint32_t port, const uint8_t *frame, size_t len, uint64_t now);
/* fe80::/64 with the modified EUI-64 of mac. */
void gw_link_local(const uint8_t mac[6], uint8_t out[16]);
/* gateway.c: the gateway behind a node, or NULL when the node is another kind. */
gw_state *gw_state_of(sim_node *n);

/* checksum helpers (nat.c) */
uint16_t gw_get16(const uint8_t *p);
uint32_t gw_get32(const uint8_t *p);
void gw_put16(uint8_t *p, uint16_t v);
void gw_put32(uint8_t *p, uint32_t v);

#endif /* TERN_SIM_GATEWAY_INTERNAL_H */

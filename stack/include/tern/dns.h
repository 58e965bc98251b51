/*
 * The DNS stub resolver of the Tern stack (RFC 1035; RFC 5452 for the
 * acceptance rules of answers): A queries over UDP, asynchronous.
 *
 * A query goes to the first server from a random source port with a random
 * ID, both from the instance's seeded generator (RFC 5452 section 9.2). With
 * no acceptable answer within the timeout it goes to the next server, and
 * after the last server the round starts again with the timeout doubled
 * (RFC 1035 section 4.2.1 leaves the numbers to the implementation; these
 * are the defaults below). SERVFAIL and REFUSED move on to the next server
 * at once. An answer is accepted only when it comes from the server asked,
 * from port 53, to the query's port, with the query's ID and question
 * (RFC 5452 section 9.1); anything else, malformed answers included, is
 * counted and ignored while the query keeps waiting.
 *
 * CNAME records are followed inside the answer, and by a new query for the
 * target when the answer stops at a CNAME, up to TERN_DNS_MAX_CNAME links.
 * Addresses are cached for the smallest TTL met on the way (RFC 1035
 * section 3.2.1: "TTL ... specifies the time interval that the resource
 * record may be cached before the source of the information should again
 * be consulted").
 *
 * An answer with TC set is asked again over TCP, of the same server, at once
 * (RFC 1035 section 4.2.2, RFC 7766 section 5): one connection per query, the
 * query with its two-octet length prefix, an answer of up to
 * TERN_DNS_TCP_MAX octets read whole, the connection then closed. A refused or
 * reset connection, an unacceptable answer, or no answer within the query's
 * current wait fails that server (the next is asked, over UDP).
 *
 * NXDOMAIN and NODATA answers with an SOA in the authority section are cached
 * for min(SOA TTL, SOA MINIMUM) (RFC 2308 section 5), under the name asked;
 * without an SOA they are not cached (RFC 2308 section 5 "SHOULD NOT").
 *
 * AAAA queries (RFC 3596) work the same way (tern_dns_resolve_type); the
 * servers are reached over IPv4 (the query type says nothing of the
 * transport), and A and AAAA answers are cached apart.
 */
#ifndef TERN_DNS_H
#define TERN_DNS_H

#ifndef TERN_CDEF
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"
#include "tern/stack.h"
#endif

#define TERN_DNS_MAX_SERVERS 4
#define TERN_DNS_MAX_ADDRS 8
#define TERN_DNS_MAX_QUERIES 4   /* the default of tern_stack_config.dns_queries */
#define TERN_DNS_CACHE_ENTRIES 8 /* the default of tern_stack_config.dns_cache */
#define TERN_DNS_MAX_CNAME 8
#define TERN_DNS_NAME_MAX 253 /* characters of a dotted name */
#define TERN_DNS_TCP_MAX 4096 /* the largest answer taken over TCP (longer: that server fails) */

/* Resolver configuration (zero it, then set what you need). */
typedef struct tern_dns_config {
    uint32_t servers[TERN_DNS_MAX_SERVERS]; /* IPv4, host order; tried in this order */
    uint32_t n_servers;  /* 0: the DNS servers of the interface 0 DHCP lease, else of its DHCPv6
                            lease (RFC 3646; IPv6 servers) */
    uint64_t timeout_ns; /* first wait for an answer; 0: 2 s */
    uint32_t rounds;     /* passes over all servers; 0: 3 */
} tern_dns_config;

/* A query's outcome (tern_dns_result). */
typedef enum tern_dns_status {
    TERN_DNS_PENDING = 0,
    TERN_DNS_OK = 1,        /* addrs holds 1..TERN_DNS_MAX_ADDRS addresses */
    TERN_DNS_NXDOMAIN = 2,  /* RCODE 3: the name does not exist */
    TERN_DNS_NODATA = 3,    /* the name exists without a record of the type asked */
    TERN_DNS_TIMEOUT = 4,   /* no acceptable answer from any server in all rounds */
    TERN_DNS_FAILED = 5,    /* every server failed (SERVFAIL, REFUSED, TC) or no server */
    TERN_DNS_CNAME_LOOP = 6 /* more than TERN_DNS_MAX_CNAME links */
} tern_dns_status;

typedef struct tern_dns_answer {
    tern_dns_status status;
    uint16_t qtype;                         /* TERN_DNS_TYPE_A (1) or TERN_DNS_TYPE_AAAA (28) */
    uint32_t addrs[TERN_DNS_MAX_ADDRS];     /* A: host order */
    uint8_t addrs6[TERN_DNS_MAX_ADDRS][16]; /* AAAA: network order */
    uint32_t n_addrs;                       /* of addrs (A) or addrs6 (AAAA) */
    uint32_t ttl;                           /* seconds the answer may be cached */
    bool from_cache;                        /* answered from the cache, no query sent */
    char canonical[TERN_DNS_NAME_MAX + 1];  /* the name at the end of the CNAME chain */
} tern_dns_answer;

typedef struct tern_dns_counters {
    uint32_t queries_sent; /* transmissions, retransmissions included */
    uint32_t answers;      /* accepted answers */
    uint32_t rejected;     /* datagrams from port 53 that failed the RFC 5452 match */
    uint32_t malformed;    /* answers that matched but did not parse */
    uint32_t cache_hits;
    uint32_t timeouts;    /* waits that ended without an answer */
    uint32_t truncated;   /* UDP answers with TC set: retried over TCP */
    uint32_t tcp_queries; /* queries sent over TCP */
    uint32_t tcp_failed;  /* TCP exchanges that ended without an answer (reset, closed, too long) */
    uint32_t negative_cached; /* NXDOMAIN / NODATA answers cached (RFC 2308) */
} tern_dns_counters;

/*
 * tern_dns_configure: set the resolver's servers and timing (copied).
 * Returns TERN_OK or TERN_ERR_INVALID_ARGUMENT (more than
 * TERN_DNS_MAX_SERVERS servers, a server 0.0.0.0 or 255.255.255.255).
 */
tern_err tern_dns_configure(tern_stack *st, const tern_dns_config *cfg);

/*
 * tern_dns_resolve: start resolving name to IPv4 addresses.
 *   name  dotted name (a final '.' allowed)
 *   now   current time, ns
 *   id    receives the query handle for tern_dns_result
 * A cached answer completes the query at once (status OK, from_cache).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for a name that cannot be
 * encoded (empty label, label over 63, over 255 octets); TERN_ERR_NO_BUFFER
 * when the configuration's dns_queries (default TERN_DNS_MAX_QUERIES) are
 * pending or unclaimed, or the resolver is off (dns_queries TERN_POOL_NONE).
 */
tern_err tern_dns_resolve(tern_stack *st, uint64_t now, const char *name, uint32_t *id);

/*
 * tern_dns_resolve_type: as tern_dns_resolve, for the query type qtype:
 * 1 (A: IPv4 addresses in addrs) or 28 (AAAA, RFC 3596: IPv6 addresses in
 * addrs6).
 * Returns what tern_dns_resolve returns, and TERN_ERR_INVALID_ARGUMENT for
 * another qtype.
 */
tern_err tern_dns_resolve_type(tern_stack *st, uint64_t now, const char *name, uint16_t qtype,
                               uint32_t *id);

/*
 * tern_dns_result: the outcome of query id. When it is no longer pending the
 * slot is freed (a second call returns TERN_ERR_INVALID_ARGUMENT).
 * Returns TERN_OK (out->status may be PENDING: nothing freed then);
 * TERN_ERR_INVALID_ARGUMENT for an unknown id.
 */
tern_err tern_dns_result(tern_stack *st, uint32_t id, tern_dns_answer *out);

/* tern_dns_get_counters: the resolver's counters. */
void tern_dns_get_counters(const tern_stack *st, tern_dns_counters *out);

/* tern_dns_flush_cache: forget every cached answer. */
void tern_dns_flush_cache(tern_stack *st);

#endif /* TERN_DNS_H */

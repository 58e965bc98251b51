/*
 * The Multicast DNS responder of the Tern stack (RFC 6762) for the host's own
 * name, "<label>.local", type A, on one interface, and DNS-SD (RFC 6763).
 *
 * tern_mdns_start joins 224.0.0.251 (IGMP) and claims the name: after a random
 * delay of 0 to 250 ms, three probes 250 ms apart (queries for the name, type
 * ANY, with the unicast-response bit, the proposed A record in the authority
 * section); 250 ms after the third, if nobody answered for the name, two
 * announcements one second apart (responses with the A record, TTL 120 s, the
 * cache-flush bit set) (RFC 6762 sections 8.1 and 8.3). A response for the
 * name during probing is a conflict: the name becomes "<label>-2.local" (then
 * -3...) and probing starts again; a simultaneous probe with lexicographically
 * later data wins and ours defers one second (section 8.2). Once the name is
 * ours, queries for it (A or ANY) are answered at once: by multicast, by
 * unicast to a query with the unicast-response bit (section 5.4), or, to a
 * query from a port other than 5353, with a conventional unicast answer that
 * repeats the question and the query ID, TTL at most 10 s (section 6.7: what
 * `dig -p 5353 @224.0.0.251 name.local` gets). A known answer in the query
 * with at least half the TTL suppresses the answer (section 7.1). A probe for
 * the name is defended at once; a conflicting record heard later sends the name
 * back to probing (section 9).
 *
 * One DNS-SD service instance can be registered (tern_mdns_add_service).
 *
 * One-shot queries for names under ".local" go through the DNS resolver
 * (tern/dns.h): they are sent to 224.0.0.251 port 5353 and the first
 * matching unicast answer from any host of the link is taken (section 5.1).
 */
#ifndef TERN_MDNS_H
#define TERN_MDNS_H

#ifndef TERN_CDEF
#include <stdbool.h>
#include <stdint.h>

#include "tern/errors.h"
#include "tern/stack.h"
#endif

#define TERN_MDNS_PORT 5353
#define TERN_MDNS_LABEL_MAX 60    /* room left for "-NN" in the 63-octet label */
#define TERN_MDNS_TTL 120         /* seconds, for the host's A record (RFC 6762 section 10) */
#define TERN_MDNS_TTL_OTHER 4500  /* seconds, for records without a host name (section 10) */
#define TERN_MDNS_INSTANCE_MAX 63 /* octets of a service instance name (RFC 6763 section 4.1.1) */
#define TERN_MDNS_TYPE_MAX 22     /* "_" + 15-octet service name + "._tcp" */
#define TERN_MDNS_TXT_MAX 255     /* octets of the TXT record's RDATA */
#define TERN_MDNS_RECORDS 6       /* A, SRV, TXT, service PTR, services-enumeration PTR, AAAA */
#define TERN_MDNS_ADDR6_MAX                                                                        \
    4 /* AAAA records answered: the interface's first usable IPv6 addresses */

typedef enum tern_mdns_state {
    TERN_MDNS_OFF = 0,
    TERN_MDNS_PROBING = 1,
    TERN_MDNS_ANNOUNCING = 2,
    TERN_MDNS_READY = 3
} tern_mdns_state;

typedef struct tern_mdns_counters {
    uint32_t probes_sent, announcements_sent, queries_in, answers_multicast, answers_unicast,
        answers_legacy, known_answer_suppressed, rate_limited, conflicts, malformed;
} tern_mdns_counters;

typedef struct tern_mdns_info {
    tern_mdns_state state;
    char name[TERN_MDNS_LABEL_MAX + 12]; /* "<label>[-N].local" */
    uint32_t renames;                    /* conflicts that changed the name */
    /* "" or the service instance's full name, "<instance>[ (N)].<type>.local" */
    char service[TERN_MDNS_INSTANCE_MAX + TERN_MDNS_TYPE_MAX + 16];
    uint32_t service_renames; /* conflicts that changed the instance name */
    tern_mdns_counters c;
} tern_mdns_info;

/*
 * tern_mdns_start: run the responder for "<label>.local" on iface (its first
 * IPv4 address is the A record).
 *   label  1 to TERN_MDNS_LABEL_MAX octets, no '.'
 *   now    the current time (ns): probing starts from it
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (label empty, too long or with a
 * dot; iface out of range or without an address); TERN_ERR_BAD_STATE
 * (already running); the errors of joining 224.0.0.251 (tern/igmp.h).
 */
tern_err tern_mdns_start(tern_stack *st, uint32_t iface, const char *label, uint64_t now);

/*
 * tern_mdns_add_service: register one DNS-SD service instance (RFC 6763):
 * "<instance>.<type>.local" with SRV (port, target the host's name, TTL 120),
 * TXT (TTL 4500), the PTR "<type>.local" -> instance (shared, TTL 4500) and
 * "_services._dns-sd._udp.local" -> "<type>.local" (section 9). The records
 * are probed with the host's name (the responder goes back to probing), then
 * announced; a conflict on the instance name renames it "<instance> (2)",
 * "(3)"... A PTR question (browsing) is answered after 20-120 ms (shared
 * record, RFC 6762 section 6) with the SRV, TXT and A records as additional
 * records (RFC 6763 section 12.1).
 *   instance  1 to TERN_MDNS_INSTANCE_MAX - 5 octets, no '.' or backslash
 *   type      "_name._tcp" or "_name._udp", the name 1 to 15 octets of letters,
 *             digits and '-' (RFC 6335 section 5.1)
 *   port      the service's port, 1..65535
 *   txt, txt_len  the TXT RDATA: length-prefixed strings; empty gives the single
 *             zero octet RFC 6763 section 6.1 asks for
 *   now       the current time (ns)
 * Returns TERN_OK; TERN_ERR_BAD_STATE (responder not running, or a service is
 * already registered: one per host); TERN_ERR_INVALID_ARGUMENT naming the bad
 * argument.
 */
tern_err tern_mdns_add_service(tern_stack *st, const char *instance, const char *type,
                               uint16_t port, const uint8_t *txt, size_t txt_len, uint64_t now);

/* tern_mdns_stop: stop answering and leave 224.0.0.251. TERN_ERR_BAD_STATE if not running. */
tern_err tern_mdns_stop(tern_stack *st);

/* tern_mdns_get_info: the responder's state, current name and counters. */
void tern_mdns_get_info(const tern_stack *st, tern_mdns_info *out);

#endif /* TERN_MDNS_H */

/*
 * The DHCPv4 client of the Tern stack (RFC 2131, options of RFC 2132,
 * address conflict detection of RFC 5227).
 *
 * One client per interface, inside the stack instance: it runs from
 * tern_stack_input and tern_stack_poll like every other part, its timers
 * count in tern_stack_poll_at, its randomness (xid, retransmission jitter,
 * probe delays) comes from the instance's seeded generator. When a lease is
 * bound the client adds the address (prefix from the subnet mask) to the
 * interface and, when the server names a router, a default route through
 * it; when the lease is lost it removes them.
 *
 * Timing (every value an RFC "SHOULD"; see dhcp_client.c for the quotes):
 *   - DISCOVER, and REQUEST in REQUESTING and REBOOTING, are retransmitted
 *     after 4, 8, 16, 32, 64, 64 ... s, each randomised by a uniform
 *     -1..+1 s (RFC 2131 section 4.1). REQUESTING and REBOOTING give up
 *     after the 64 s wait and go back to INIT.
 *   - T1 and T2 default to 0.5 and 0.875 of the lease (RFC 2131 section
 *     4.4.5); in RENEWING and REBINDING the REQUEST is repeated after half
 *     the time left until T2 or the lease end, at least 60 s.
 *   - Before using an address the client sends 3 ARP probes (the first
 *     after a random 0..1 s, the next two 1..2 s apart) and waits 2 s after
 *     the last (RFC 5227 section 2.1.1, PROBE_WAIT, PROBE_NUM, PROBE_MIN,
 *     PROBE_MAX, ANNOUNCE_WAIT); on a conflict it sends DECLINE and starts
 *     again from INIT 10 s later (RFC 2131 section 3.1 step 5). After
 *     binding it sends 2 ARP announcements 2 s apart.
 *   - The client does not wait the random 1..10 s of RFC 2131 section
 *     4.4.1 before its first DISCOVER: scenarios start DHCP at a known time.
 */
#ifndef TERN_DHCP_H
#define TERN_DHCP_H

#ifndef TERN_CDEF
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"
#include "tern/stack.h"
#endif

#define TERN_DHCP_HOSTNAME_MAX 63
#define TERN_DHCP_CLIENT_ID_MAX 32
#define TERN_DHCP_LEASE_DNS_MAX 4

/* The client states of RFC 2131 figure 5, plus OFF (not started) and
 * CHECKING (ARP probes of RFC 5227 between DHCPACK and BOUND). */
typedef enum tern_dhcp_state {
    TERN_DHCP_OFF = 0,
    TERN_DHCP_INIT = 1,
    TERN_DHCP_SELECTING = 2,
    TERN_DHCP_REQUESTING = 3,
    TERN_DHCP_CHECKING = 4,
    TERN_DHCP_BOUND = 5,
    TERN_DHCP_RENEWING = 6,
    TERN_DHCP_REBINDING = 7,
    TERN_DHCP_INIT_REBOOT = 8,
    TERN_DHCP_REBOOTING = 9
} tern_dhcp_state;

/* What a user polls for (tern_dhcp_next_event). */
typedef enum tern_dhcp_event_kind {
    TERN_DHCP_EV_BOUND = 1,    /* a lease is in use (first time, or after a loss) */
    TERN_DHCP_EV_RENEWED = 2,  /* the lease was extended in RENEWING or REBINDING */
    TERN_DHCP_EV_LOST = 3,     /* the lease expired or was refused (NAK): address removed */
    TERN_DHCP_EV_CONFLICT = 4, /* an ARP probe found the offered address in use: DECLINE sent */
    TERN_DHCP_EV_NAK = 5       /* a DHCPNAK arrived (followed by LOST when an address was held) */
} tern_dhcp_event_kind;

typedef struct tern_dhcp_event {
    tern_dhcp_event_kind kind;
    uint64_t time;    /* virtual time, ns */
    uint32_t address; /* the address concerned, host order (a<<24|b<<16|c<<8|d) */
} tern_dhcp_event;

/* Client configuration (zero it, then set what you need). */
typedef struct tern_dhcp_client_config {
    /* Option 12 sent in DISCOVER and REQUEST; empty: none. */
    char hostname[TERN_DHCP_HOSTNAME_MAX + 1];
    /* Option 61; length 0: type 1 (Ethernet) followed by the interface MAC. */
    uint8_t client_id[TERN_DHCP_CLIENT_ID_MAX];
    uint8_t client_id_len;
    /* Non-zero: start in INIT-REBOOT asking for this previously held address. */
    uint32_t previous_address;
    /* Skip the RFC 5227 probes (use an address as soon as it is acknowledged). */
    bool no_probe;
} tern_dhcp_client_config;

/* The lease and state, as tern_dhcp_get_lease reports them. Addresses host order. */
typedef struct tern_dhcp_lease {
    tern_dhcp_state state;
    uint32_t address;     /* 0 until CHECKING */
    uint32_t subnet_mask; /* 0 when the server gave none: the address is then added as a /32 */
    uint32_t router;      /* 0: none */
    uint32_t server_id;
    uint32_t dns[TERN_DHCP_LEASE_DNS_MAX];
    uint32_t n_dns;
    uint16_t mtu; /* option 26; 0: none */
    uint32_t lease_secs, t1_secs, t2_secs;
    uint64_t acquired_at; /* virtual time of the DHCPACK that started the lease, ns */
    uint64_t t1_at, t2_at, expires_at;
    uint32_t xid; /* of the current exchange */
    /* Counters. */
    uint32_t discovers, requests, declines, releases, offers, acks, naks, ignored;
} tern_dhcp_lease;

/*
 * tern_dhcp_start: start the client on an interface (INIT, or INIT-REBOOT
 * when cfg->previous_address is set); the first message goes out on the
 * next poll.
 *   st, iface  the instance and interface
 *   now        the current time, ns
 *   cfg        the configuration (copied); NULL for all defaults
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for an unknown interface or a
 * hostname not NUL-terminated within its array; TERN_ERR_BAD_STATE when the
 * client already runs on that interface.
 */
tern_err tern_dhcp_start(tern_stack *st, uint32_t iface, uint64_t now,
                         const tern_dhcp_client_config *cfg);

/*
 * tern_dhcp_release: give the lease back (DHCPRELEASE, unicast to the
 * server, RFC 2131 section 4.4.6), remove the address and route, stop the
 * client (OFF). Without a lease the client just stops.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for an unknown interface;
 * TERN_ERR_BAD_STATE when the client is not running.
 */
tern_err tern_dhcp_release(tern_stack *st, uint32_t iface, uint64_t now);

/*
 * tern_dhcp_get_lease: the client's state, lease and counters.
 * Returns TERN_OK or TERN_ERR_INVALID_ARGUMENT for an unknown interface.
 */
tern_err tern_dhcp_get_lease(const tern_stack *st, uint32_t iface, tern_dhcp_lease *out);

/*
 * tern_dhcp_next_event: take the oldest pending event (at most 16 are kept;
 * older ones are dropped first).
 * Returns TERN_OK; TERN_ERR_EMPTY when there is none;
 * TERN_ERR_INVALID_ARGUMENT for an unknown interface.
 */
tern_err tern_dhcp_next_event(tern_stack *st, uint32_t iface, tern_dhcp_event *out);

/* tern_dhcp_state_name: "BOUND", "RENEWING" ...; "?" for an unknown value. */
const char *tern_dhcp_state_name(int state);

/* ---- the DHCPv4 server ----------------------------------------------------------
 *
 * Servers (one per interface, up to tern_stack_config.dhcp_servers) answering on port 67 (RFC 2131
 * section 4.3). Its lease table has TERN_DHCPS_LEASES entries; a lease whose
 * time ran out is reused only when no free address is left, so a client
 * that comes back soon gets its address again. Leases expire by time
 * (compared with `now` when an address is chosen), without timers.
 */

#define TERN_DHCPS_RANGES 4
#define TERN_DHCPS_RESERVATIONS 8
#define TERN_DHCPS_LEASES 64

/* A static reservation: the client with this MAC (or, when client_id_len is
 * non-zero, this client identifier) always gets `address`. */
typedef struct tern_dhcps_reservation {
    uint8_t mac[6];
    uint8_t client_id[TERN_DHCP_CLIENT_ID_MAX];
    uint8_t client_id_len;
    uint32_t address;
} tern_dhcps_reservation;

typedef struct tern_dhcp_server_config {
    uint32_t iface;
    uint32_t server_ip;   /* 0: the interface's first IPv4 address */
    uint32_t subnet_mask; /* 0: from that address's prefix */
    uint32_t router;      /* 0: none sent */
    uint32_t dns[TERN_DHCP_LEASE_DNS_MAX];
    uint32_t n_dns;
    uint16_t mtu;             /* option 26; 0: none sent */
    uint32_t lease_secs;      /* 0: 3600 */
    uint32_t t1_secs;         /* 0: not sent (the client takes 0.5 of the lease) */
    uint32_t t2_secs;         /* 0: not sent (the client takes 0.875 of the lease) */
    uint32_t offer_hold_secs; /* how long an offered address stays reserved; 0: 60 */
    struct {
        uint32_t first, last; /* inclusive, host order */
    } ranges[TERN_DHCPS_RANGES];
    uint32_t n_ranges;
    tern_dhcps_reservation reservations[TERN_DHCPS_RESERVATIONS];
    uint32_t n_reservations;
} tern_dhcp_server_config;

typedef enum tern_dhcps_lease_state {
    TERN_DHCPS_FREE = 0,
    TERN_DHCPS_OFFERED = 1,
    TERN_DHCPS_BOUND = 2,
    TERN_DHCPS_RELEASED = 3, /* given back (RELEASE) or expired: free, client remembered */
    TERN_DHCPS_DECLINED = 4  /* a client found it in use (DECLINE): not offered until expiry */
} tern_dhcps_lease_state;

typedef struct tern_dhcps_lease {
    tern_dhcps_lease_state state;
    uint32_t address;
    uint8_t mac[6];
    uint8_t client_id[TERN_DHCP_CLIENT_ID_MAX];
    uint8_t client_id_len;
    uint64_t expires_at; /* ns; TERN_NEVER for an infinite lease */
    uint32_t iface;      /* the interface of the server that holds it (tern_dhcp_server_leases) */
} tern_dhcps_lease;

typedef struct tern_dhcps_counters {
    uint32_t discovers, requests, declines, releases, informs;
    uint32_t offers, acks, naks;
    uint32_t ignored;   /* malformed, not for us, or answered by silence (RFC 2131 4.3.2) */
    uint32_t exhausted; /* a DISCOVER found no address to offer */
} tern_dhcps_counters;

/*
 * tern_dhcp_server_start: configure and start a server on cfg->iface.
 * A stack runs up to tern_stack_config.dhcp_servers servers, at most one per
 * interface, each with its own pool, options, lease table and counters; a
 * server answers what arrives on its interface, what a relay agent sends
 * from its subnet (giaddr) and unicasts to its address (a renewing client),
 * and nothing else, so two segments never get each other's addresses.
 *   cfg  the configuration (copied)
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (message in
 * tern_stack_last_error) for an unknown interface, no server address, no
 * range, a range with first > last or outside the subnet, more than
 * TERN_DHCPS_RANGES ranges or TERN_DHCPS_RESERVATIONS reservations, a
 * reservation of address 0, or t1 >= t2 or t2 >= lease when given;
 * TERN_ERR_BAD_STATE when a server already runs on that interface;
 * TERN_ERR_NO_BUFFER when dhcp_servers servers run already.
 */
tern_err tern_dhcp_server_start(tern_stack *st, const tern_dhcp_server_config *cfg);

/*
 * tern_dhcp_server_leases: copy the lease table entries in use (state other than TERN_DHCPS_FREE)
 * of every running server, server by server (in the order they were
 * started), each in table order; a lease's `iface` says whose it is.
 *   out, cap  where to put them; n receives how many there are (may be
 *             more than cap: only cap are copied)
 *   now       for the state of expired leases (reported RELEASED)
 * Returns TERN_OK or TERN_ERR_BAD_STATE when no server runs.
 */
tern_err tern_dhcp_server_leases(const tern_stack *st, uint64_t now, tern_dhcps_lease *out,
                                 uint32_t cap, uint32_t *n);

/* tern_dhcp_server_counters: the servers' counters, summed over every server (zero when none
 * runs). */
void tern_dhcp_server_counters(const tern_stack *st, tern_dhcps_counters *out);

/*
 * tern_dhcp_server_counters_on: the counters of the server on `iface`.
 * Returns TERN_OK or TERN_ERR_BAD_STATE when no server runs there.
 */
tern_err tern_dhcp_server_counters_on(const tern_stack *st, uint32_t iface,
                                      tern_dhcps_counters *out);

#endif /* TERN_DHCP_H */

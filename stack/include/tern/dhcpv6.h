/*
 * The DHCPv6 client of the Tern stack (RFC 8415), stateful (IA_NA
 * addresses: Solicit / Advertise / Request / Reply, Renew at T1, Rebind at
 * T2, Release, Decline) and stateless (Information-request for the DNS
 * servers and domain search list of RFC 3646).
 *
 * One client per interface, inside the stack instance, run from
 * tern_stack_input and tern_stack_poll like every other part; its timer
 * counts in tern_stack_poll_at; its random draws (transaction ids, RAND,
 * the first message's delay) come from the instance's seeded generator.
 * Messages go from the interface's link-local address, port 546, to
 * All_DHCP_Relay_Agents_and_Servers (ff02::1:2) port 547.
 *
 * Timing (RFC 8415 section 15 with the parameters of section 7.6):
 *   - each message's first retransmission timeout is RT = IRT + RAND*IRT,
 *     later ones RT = 2*RTprev + RAND*RTprev, and when RT > MRT,
 *     RT = MRT + RAND*MRT; RAND is uniform in [-0.1, +0.1] in steps of one
 *     millionth (the lease's rand_ppm shows the last draw); the first
 *     Solicit's RAND is > 0;
 *     Solicit: IRT 1 s, MRT 3600 s (or the server's SOL_MAX_RT), no limit;
 *     Request: 1 s, 30 s, at most 10 transmissions, then Solicit again;
 *     Renew: 10 s, 600 s, until T2; Rebind: 10 s, 600 s, until the valid
 *     lifetime ends; Information-request: 1 s, 3600 s, no limit;
 *     Release and Decline: 1 s, at most 4 transmissions;
 *   - the first Solicit and the first Information-request wait a random
 *     0..1 s (SOL_MAX_DELAY, INF_MAX_DELAY);
 *   - Advertise messages are collected until the first RT ends (one with
 *     preference 255 is taken at once); the highest preference wins, the
 *     first received among equals; after the first RT the first Advertise
 *     is taken;
 *   - T1 and T2 of 0 are taken as 0.5 and 0.8 of the address's preferred
 *     lifetime; the address goes through Duplicate Address Detection
 *     before use (when the stack runs IPv6 autoconfiguration) and is
 *     declined if DAD fails;
 *   - a stateless configuration is refreshed after the Information Refresh
 *     Time (default 86400 s, at least 600 s).
 */
#ifndef TERN_DHCPV6_H
#define TERN_DHCPV6_H

#ifndef TERN_CDEF
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"
#include "tern/stack.h"
#endif

#define TERN_DHCPV6_LEASE_DNS_MAX 4
#define TERN_DHCPV6_DOMAIN_MAX 255
#define TERN_DHCPV6_SERVER_ID_MAX 130

typedef enum tern_dhcpv6_state {
    TERN_DHCPV6_OFF = 0,
    TERN_DHCPV6_WAIT_RA = 1,   /* started from RA flags: waiting for an RA with M or O */
    TERN_DHCPV6_INFO_REQ = 2,  /* stateless: Information-request exchange */
    TERN_DHCPV6_INFO_DONE = 3, /* stateless: configured; refresh timer running */
    TERN_DHCPV6_SOLICIT = 4,
    TERN_DHCPV6_REQUEST = 5,
    TERN_DHCPV6_CHECKING = 6, /* the leased address under Duplicate Address Detection */
    TERN_DHCPV6_BOUND = 7,
    TERN_DHCPV6_RENEW = 8,
    TERN_DHCPV6_REBIND = 9,
    TERN_DHCPV6_DECLINE = 10,
    TERN_DHCPV6_RELEASE = 11
} tern_dhcpv6_state;

typedef enum tern_dhcpv6_mode {
    TERN_DHCPV6_STATEFUL = 1,  /* IA_NA address (and DNS options) */
    TERN_DHCPV6_STATELESS = 2, /* Information-request only */
    TERN_DHCPV6_FROM_RA = 3    /* wait for an RA: M flag -> stateful, O flag -> stateless */
} tern_dhcpv6_mode;

typedef enum tern_dhcpv6_event_kind {
    TERN_DHCPV6_EV_BOUND = 1,    /* an address passed DAD and is in use */
    TERN_DHCPV6_EV_RENEWED = 2,  /* its lifetimes were extended (Renew or Rebind) */
    TERN_DHCPV6_EV_LOST = 3,     /* its valid lifetime ended or the server withdrew it */
    TERN_DHCPV6_EV_DECLINED = 4, /* DAD failed on the leased address: Decline sent */
    TERN_DHCPV6_EV_INFO = 5,     /* a Reply to an Information-request configured DNS options */
    TERN_DHCPV6_EV_STATUS = 6,   /* a Reply or Advertise carried an error status (status) */
    TERN_DHCPV6_EV_RELEASED = 7  /* the Release exchange ended: the client is off */
} tern_dhcpv6_event_kind;

typedef struct tern_dhcpv6_event {
    tern_dhcpv6_event_kind kind;
    uint64_t time;   /* virtual time, ns */
    tern_addr addr;  /* the address concerned (family NONE when none) */
    uint16_t status; /* TERN_DHCPV6_EV_STATUS: the status code (RFC 8415 section 21.13) */
} tern_dhcpv6_event;

typedef struct tern_dhcpv6_config {
    tern_dhcpv6_mode mode; /* 0 is taken as TERN_DHCPV6_STATEFUL */
    uint32_t iaid;         /* 0: the interface MAC's last four bytes */
} tern_dhcpv6_config;

/* State, lease and counters, as tern_dhcpv6_get_lease reports them. */
typedef struct tern_dhcpv6_lease {
    tern_dhcpv6_state state;
    tern_dhcpv6_mode mode;
    tern_addr address; /* the IA_NA address (family NONE until a Reply gives one) */
    uint32_t preferred_secs, valid_secs, t1_secs, t2_secs; /* as the client uses them */
    uint64_t acquired_at;                                  /* of the Reply, ns */
    uint64_t t1_at, t2_at, expires_at;                     /* ns; TERN_NEVER for infinity */
    uint8_t server_id[TERN_DHCPV6_SERVER_ID_MAX];          /* the chosen server's DUID */
    uint16_t server_id_len;
    uint8_t preference; /* of the chosen Advertise */
    tern_addr dns[TERN_DHCPV6_LEASE_DNS_MAX];
    uint32_t n_dns;
    char domain[TERN_DHCPV6_DOMAIN_MAX + 1]; /* the first name of the search list; "" none */
    uint64_t info_refresh_at;                /* stateless: the next Information-request, ns */
    uint8_t duid[10];                        /* DUID-LL (RFC 8415 section 11.4) */
    uint16_t duid_len;
    uint32_t iaid;
    /* the exchange in progress (RFC 8415 section 15) */
    uint32_t xid;
    uint64_t exchange_started_at; /* first transmission, ns */
    uint32_t tx_count;            /* transmissions of the current message */
    uint64_t rt_ns;               /* the current RT */
    int32_t rand_ppm;             /* the last RAND drawn, in millionths (-100000..100000) */
    uint64_t next_at;             /* the client's next timer, ns */
    uint16_t last_status;         /* the last non-success status code received */
    /* counters */
    uint32_t solicits, requests, renews, rebinds, releases, declines, info_requests;
    uint32_t advertises, replies, ignored;
} tern_dhcpv6_lease;

/*
 * tern_dhcpv6_start: start the client on an interface. STATEFUL begins a
 * Solicit exchange, STATELESS an Information-request exchange (the first
 * message after a random 0..1 s), FROM_RA waits for a Router Advertisement
 * whose M flag (stateful) or O flag (stateless) says what to do.
 *   st, iface  the instance and interface
 *   now        the current time, ns
 *   cfg        the configuration (copied); NULL: stateful, IAID from the MAC
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for an unknown interface or a
 * mode out of range; TERN_ERR_BAD_STATE when the client already runs there.
 */
tern_err tern_dhcpv6_start(tern_stack *st, uint32_t iface, uint64_t now,
                           const tern_dhcpv6_config *cfg);

/*
 * tern_dhcpv6_stop: stop the client. With an address in use it is removed at
 * once and a Release goes to the server (retransmitted up to 4 times, the
 * client is OFF after the server's Reply or the last retransmission: event
 * RELEASED); otherwise the client stops at once.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for an unknown interface;
 * TERN_ERR_BAD_STATE when the client is not running (or already releasing).
 */
tern_err tern_dhcpv6_stop(tern_stack *st, uint32_t iface, uint64_t now);

/*
 * tern_dhcpv6_get_lease: the client's state, lease and counters.
 * Returns TERN_OK or TERN_ERR_INVALID_ARGUMENT for an unknown interface.
 */
tern_err tern_dhcpv6_get_lease(const tern_stack *st, uint32_t iface, tern_dhcpv6_lease *out);

/*
 * tern_dhcpv6_next_event: take the oldest pending event (16 are kept; the
 * oldest are dropped first).
 * Returns TERN_OK; TERN_ERR_EMPTY when there is none;
 * TERN_ERR_INVALID_ARGUMENT for an unknown interface.
 */
tern_err tern_dhcpv6_next_event(tern_stack *st, uint32_t iface, tern_dhcpv6_event *out);

/* tern_dhcpv6_state_name: "SOLICIT", "BOUND" ...; "?" for an unknown value. */
const char *tern_dhcpv6_state_name(int state);

#endif /* TERN_DHCPV6_H */

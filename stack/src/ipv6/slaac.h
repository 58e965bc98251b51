/*
 * IPv6 stateless address autoconfiguration: the bookkeeping of one
 * interface's autoconfigured addresses (RFC 4862), with stable interface
 * identifiers (RFC 7217) and temporary addresses (RFC 8981) as options.
 *
 * Pure state and time: the IPv6 layer feeds it Prefix Information options,
 * DAD conflicts and the clock, and drains events (join the solicited-node
 * group and send a DAD Neighbor Solicitation, an address is ready, is
 * deprecated, is gone) with tern_slaac_next_event. Nothing here sends a
 * frame or reads a clock; the random draws come from the caller's
 * generator through a function pointer, so that a seed decides them.
 *
 * Address life (RFC 4862 sections 5.4 and 5.5.4):
 *   TENTATIVE --DupAddrDetectTransmits NS, RetransTimer after the last--> PREFERRED
 *   PREFERRED --preferred lifetime over--> DEPRECATED --valid lifetime over--> (removed)
 *   TENTATIVE --NA for it, or NS from :: for it--> DUPLICATED (never used)
 */
#ifndef TERN_IPV6_SLAAC_H
#define TERN_IPV6_SLAAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"

#define TERN_SLAAC_MAX_ADDRS 8 /* per interface: link-local + prefixes x (public, temporary) */
#define TERN_SLAAC_NEVER UINT64_MAX
#define TERN_SLAAC_INFINITE 0xffffffffu /* a lifetime of all ones (RFC 4861 section 4.6.2) */

/* RFC 4861 section 10 and RFC 4862 section 5.1 defaults. */
#define TERN_SLAAC_MAX_RTR_SOLICITATION_DELAY_NS 1000000000ull
#define TERN_SLAAC_RETRANS_TIMER_NS 1000000000ull
#define TERN_SLAAC_DAD_TRANSMITS 1
/* RFC 4862 section 5.5.3 (e): the "two hours" rule. */
#define TERN_SLAAC_TWO_HOURS_S 7200u
/* RFC 7217 section 6: IDGEN_RETRIES; RFC 8981 section 3.8: TEMP_IDGEN_RETRIES. */
#define TERN_SLAAC_IDGEN_RETRIES 3
/* RFC 8981 section 3.8 defaults. */
#define TERN_SLAAC_TEMP_VALID_LIFETIME_S (2u * 86400u)
#define TERN_SLAAC_TEMP_PREFERRED_LIFETIME_S 86400u

enum tern_slaac_state {
    TERN_SLAAC_FREE = 0, /* slot unused */
    TERN_SLAAC_TENTATIVE,
    TERN_SLAAC_PREFERRED,
    TERN_SLAAC_DEPRECATED,
    TERN_SLAAC_DUPLICATED,
};

enum tern_slaac_kind {
    TERN_SLAAC_LINK_LOCAL = 1, /* fe80::/64 */
    TERN_SLAAC_PUBLIC,         /* from a Prefix Information option (RFC 4862 section 5.5.3) */
    TERN_SLAAC_TEMPORARY,      /* RFC 8981 */
    TERN_SLAAC_STATIC,         /* configured by hand: DAD only (RFC 4862 section 5.4) */
};

/* One autoconfigured address. Times are absolute virtual nanoseconds. */
struct tern_slaac_addr {
    tern_addr addr;
    uint8_t prefix_len;       /* always 64: RFC 4862 section 5.5.3 (d) needs prefix + IID = 128 */
    uint8_t state;            /* enum tern_slaac_state */
    uint8_t kind;             /* enum tern_slaac_kind */
    uint8_t dad_left;         /* DAD solicitations still to send */
    uint8_t dad_counter;      /* RFC 7217 DAD_Counter, or the temporary address's retries */
    bool joined;              /* the solicited-node group has been joined for it */
    bool ready_told;          /* the READY event has been given */
    bool regen_done;          /* temporary: its successor has been made (RFC 8981 section 3.5) */
    uint64_t dad_at;          /* next DAD step (join + NS, or the end of DAD); NEVER when done */
    uint64_t created;         /* when it was formed (RFC 8981: the temporary address's age) */
    uint64_t preferred_until; /* NEVER for an infinite lifetime */
    uint64_t valid_until;
    uint64_t desync_ns; /* temporary: its DESYNC_FACTOR (RFC 8981 section 3.8) */
};

/* Configuration, fixed at init. */
struct tern_slaac_config {
    uint8_t mac[6];            /* the interface's MAC: modified EUI-64 (RFC 4291 appendix A) */
    uint32_t iface;            /* RFC 7217's Net_Iface (with the MAC) */
    bool stable_iid;           /* RFC 7217 stable interface identifiers instead of EUI-64 */
    uint8_t secret[16];        /* RFC 7217's secret_key */
    bool temporary;            /* RFC 8981 temporary addresses beside each public one */
    uint32_t temp_valid_s;     /* TEMP_VALID_LIFETIME; 0 means 2 days */
    uint32_t temp_preferred_s; /* TEMP_PREFERRED_LIFETIME; 0 means 1 day */
    uint8_t dad_transmits;     /* DupAddrDetectTransmits; 0 turns DAD off (RFC 4862 5.1) */
    uint64_t retrans_ns;       /* RetransTimer (an RA may change it); 0 means 1 s */
    /* Random numbers: uniform in [0, n), n >= 1, from the host's seeded generator. */
    uint64_t (*rand_below)(void *ctx, uint64_t n);
    void *rand_ctx;
};

/* The events tern_slaac_next_event hands out. */
enum tern_slaac_event_kind {
    TERN_SLAAC_EV_NONE = 0,
    TERN_SLAAC_EV_DAD_PROBE,  /* join the solicited-node group of addr (if not yet) and send a
                                 DAD Neighbor Solicitation for it (RFC 4862 section 5.4.2) */
    TERN_SLAAC_EV_READY,      /* addr passed DAD and may be used */
    TERN_SLAAC_EV_DEPRECATED, /* addr's preferred lifetime is over (RFC 4862 section 5.5.4) */
    TERN_SLAAC_EV_REMOVED,    /* addr is gone (valid lifetime over): leave its solicited-node
                                 group if no other address needs it */
    TERN_SLAAC_EV_DUPLICATE,  /* DAD found addr in use: it is never used (RFC 4862 5.4.5) */
};

struct tern_slaac_event {
    uint8_t kind;      /* enum tern_slaac_event_kind */
    uint8_t addr_kind; /* enum tern_slaac_kind */
    tern_addr addr;
    bool disable_ipv6; /* DUPLICATE of a link-local address from the MAC: RFC 4862 5.4.5 says
                          IP operation on the interface SHOULD be disabled */
};

/* One interface's autoconfiguration. */
struct tern_slaac {
    struct tern_slaac_config cfg;
    struct tern_slaac_addr a[TERN_SLAAC_MAX_ADDRS];
    /* Events produced by input calls and not yet taken (a small ring). */
    struct tern_slaac_event pending[TERN_SLAAC_MAX_ADDRS * 2];
    uint8_t npending, pending_head;
    bool disabled; /* DAD failed on the MAC-derived link-local address */
    bool started;  /* the first DAD of the interface is under way (its random delay drawn) */
    uint64_t prefixes_ignored; /* counters: PIOs ignored by RFC 4862 5.5.3 (a)-(d) */
    uint64_t table_full;       /* addresses not formed for want of a slot */
};

/* The Prefix Information option fields SLAAC uses (RFC 4861 section 4.6.2). */
struct tern_slaac_pio {
    tern_addr prefix;
    uint8_t prefix_len;
    bool autonomous;      /* the A flag */
    uint32_t valid_s;     /* Valid Lifetime, TERN_SLAAC_INFINITE for infinity */
    uint32_t preferred_s; /* Preferred Lifetime */
};

/* Outcome of tern_slaac_prefix. */
enum tern_slaac_pio_result {
    TERN_SLAAC_PIO_FORMED = 1, /* a new address (and maybe a temporary one) is tentative */
    TERN_SLAAC_PIO_UPDATED,    /* lifetimes of existing addresses updated (5.5.3 (e)) */
    TERN_SLAAC_PIO_IGNORED,    /* (a) no A flag, (b) link-local, (c) preferred > valid, or
                                  (d) prefix length + 64 != 128, or valid 0 for a new prefix */
    TERN_SLAAC_PIO_NO_ROOM,    /* every slot in use */
};

/*
 * tern_slaac_init: an interface with no address. cfg is copied; rand_below
 * must be set.
 */
void tern_slaac_init(struct tern_slaac *s, const struct tern_slaac_config *cfg);

/*
 * tern_slaac_start: form the link-local address (fe80::/64 with the EUI-64
 * or RFC 7217 identifier) and begin its DAD: the first probe comes after a
 * random delay in [0, MAX_RTR_SOLICITATION_DELAY] (RFC 4862 section 5.4.2:
 * the first message after interface initialisation), the address is ready
 * RetransTimer after the last probe. Returns false when every slot is taken.
 */
bool tern_slaac_start(struct tern_slaac *s, uint64_t now);

/*
 * tern_slaac_add_static: a configured address (infinite lifetimes) to check
 * with DAD: RFC 4862 section 5.4 asks it "regardless of whether they are
 * obtained through stateless autoconfiguration, DHCPv6, or manual
 * configuration". Its probe goes with the link-local address's first one
 * (after the same random delay) when that is still to come, else now.
 * Returns false when every slot is taken.
 */
bool tern_slaac_add_static(struct tern_slaac *s, uint64_t now, const tern_addr *addr,
                           uint8_t prefix_len);

/* tern_slaac_forget: drop addr from the table (no event); false when it is not there. */
bool tern_slaac_forget(struct tern_slaac *s, const tern_addr *addr);

/*
 * tern_slaac_prefix: process one Prefix Information option of a Router
 * Advertisement as RFC 4862 section 5.5.3 says. from_multicast: the RA was
 * sent to a multicast address (RFC 4862 section 5.4.2: delay the join by a
 * random time then too).
 */
enum tern_slaac_pio_result tern_slaac_prefix(struct tern_slaac *s, uint64_t now,
                                             const struct tern_slaac_pio *pio, bool from_multicast);

/*
 * tern_slaac_dad_conflict: a Neighbor Advertisement for target, or a
 * Neighbor Solicitation from :: for it (another node doing DAD), arrived
 * (RFC 4862 section 5.4.3 and 5.4.4). When target is one of our tentative
 * addresses it becomes DUPLICATED (an event tells) and, for a stable or
 * temporary identifier, a new one is tried (RFC 7217 section 6, RFC 8981
 * section 3.4) up to 3 times. Returns true when target was tentative here.
 */
bool tern_slaac_dad_conflict(struct tern_slaac *s, uint64_t now, const tern_addr *target);

/* tern_slaac_set_retrans: RetransTimer from an RA (RFC 4861 section 6.3.4); 0 is ignored. */
void tern_slaac_set_retrans(struct tern_slaac *s, uint64_t retrans_ns);

/*
 * tern_slaac_next_event: advance to now and take the next event, if any.
 * Call until it returns false; every call makes progress, so the loop ends
 * (at most one event per address and step).
 */
bool tern_slaac_next_event(struct tern_slaac *s, uint64_t now, struct tern_slaac_event *ev);

/* tern_slaac_poll_at: the earliest time something is due (NEVER if nothing). */
uint64_t tern_slaac_poll_at(const struct tern_slaac *s);

/*
 * tern_slaac_find: the slot holding addr, or NULL. Usable addresses are
 * PREFERRED or DEPRECATED; TENTATIVE ones are ours only for DAD (RFC 4862
 * section 5.4: not for sending, and unicast to them is not accepted).
 */
const struct tern_slaac_addr *tern_slaac_find(const struct tern_slaac *s, const tern_addr *addr);

/* tern_slaac_usable: PREFERRED or DEPRECATED. */
bool tern_slaac_usable(const struct tern_slaac_addr *a);

/*
 * tern_slaac_iid_eui64: the modified EUI-64 interface identifier of a MAC
 * (RFC 4291 appendix A: ff:fe in the middle, the universal/local bit
 * inverted) into iid[0..7].
 */
void tern_slaac_iid_eui64(const uint8_t mac[6], uint8_t iid[8]);

/*
 * tern_slaac_iid_stable: RFC 7217 section 5's RID = F(Prefix, Net_Iface,
 * Network_ID, DAD_Counter, secret_key), F SipHash-2-4 under the secret, of
 * the 64-bit prefix, the interface index and MAC (Net_Iface), no
 * Network_ID, and the DAD counter; into iid[0..7].
 */
void tern_slaac_iid_stable(const uint8_t secret[16], const tern_addr *prefix, uint32_t iface,
                           const uint8_t mac[6], uint8_t dad_counter, uint8_t iid[8]);

/*
 * tern_slaac_iid_reserved: an identifier no SLAAC address may use (RFC 5453
 * section 3: the all-zero Subnet-Router anycast identifier,
 * fdff:ffff:ffff:ff80-ffff the reserved subnet anycast ones, and
 * 0200:5eff:fe00:0000-5212 the proxy mobile ones).
 */
bool tern_slaac_iid_reserved(const uint8_t iid[8]);

/* tern_slaac_solicited_node: ff02::1:ffXX:XXXX for addr (RFC 4291 section 2.7.1). */
tern_addr tern_slaac_solicited_node(const tern_addr *addr);

#endif /* TERN_IPV6_SLAAC_H */

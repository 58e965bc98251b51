/*
 * IPv6 host autoconfiguration glue (ipv6/autoconf.c): what connects the pure
 * state machines ipv6/slaac.h (RFC 4862 DAD and SLAAC, RFC 7217, RFC 8981)
 * and ipv6/mld.h (RFC 3810 listener) to the interface address table, Neighbor
 * Discovery and the wire; with the host side of Router Discovery (RFC 4861
 * sections 6.3.4, 6.3.6 and 6.3.7: the Default Router List, the Prefix List,
 * Router Solicitations).
 *
 * Used by the IPv6 layer only (ipv6_state.h embeds one tern_ac_iface per
 * interface; nd_hooks.c calls in).
 */
#ifndef TERN_IPV6_AUTOCONF_H
#define TERN_IPV6_AUTOCONF_H

#include "ipv6/mld.h"
#include "ipv6/slaac.h"
#include "ipv6/ipv6.h"

#define TERN_AC_ROUTERS 4  /* Default Router List entries per interface */
#define TERN_AC_PREFIXES 8 /* Prefix List entries per interface */
/* RFC 4861 section 10: host constants. */
#define TERN_AC_MAX_RTR_SOLICITATION_DELAY_NS 1000000000ull
#define TERN_AC_RTR_SOLICITATION_INTERVAL_NS 4000000000ull
#define TERN_AC_MAX_RTR_SOLICITATIONS 3

typedef struct tern_ac_router {
    bool used;
    tern_addr addr; /* the router's link-local address */
    uint64_t until; /* invalidation time (Router Lifetime) */
} tern_ac_router;

typedef struct tern_ac_prefix {
    bool used;
    tern_addr prefix;
    uint8_t len;
    uint64_t until; /* invalidation time (Valid Lifetime), TERN_NEVER for infinity */
} tern_ac_prefix;

/* The solicited-node group joined for one of our addresses. */
typedef struct tern_ac_sn {
    bool used;
    tern_addr addr;
} tern_ac_sn;

typedef struct tern_ac_iface {
    struct tern_slaac slaac;
    struct tern_mld mld;
    bool disabled;   /* DAD failed on the MAC-derived link-local address (RFC 4862 5.4.5) */
    uint8_t rs_sent; /* Router Solicitations sent (RFC 4861 section 6.3.7) */
    bool rs_done;    /* an RA with a non-zero Router Lifetime came: no more */
    uint64_t rs_at;  /* next Router Solicitation, TERN_NEVER when none */
    tern_ac_router routers[TERN_AC_ROUTERS];
    tern_ac_prefix prefixes[TERN_AC_PREFIXES];
    tern_ac_sn sn[TERN_SLAAC_MAX_ADDRS];
} tern_ac_iface;

/* Set up every interface at init (after the link-local and static addresses are in place). */
void tern_ac_init(tern_stack *st);
/* Run what is due and send what is queued. */
void tern_ac_poll(tern_stack *st, uint64_t now);
uint64_t tern_ac_poll_at(const tern_stack *st);

/* RFC 4861 section 6.3.4 beyond the host variables: routers, prefixes, SLAAC. */
void tern_ac_router_advert(tern_stack *st, uint64_t now, uint32_t iface,
                           const struct tern_ipv6_repr *ip, const struct tern_ndp_repr *ra);
/* An NS (from_ns) or NA about a tentative address of ours (RFC 4862 5.4.3, 5.4.4). */
void tern_ac_dad_input(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *target,
                       bool from_ns, const struct tern_ipv6_repr *ip);
/* An MLD message (already checksummed). */
void tern_ac_mld_input(tern_stack *st, uint64_t now, uint32_t iface,
                       const struct tern_ipv6_repr *ip, const struct tern_icmpv6_repr *icmp);
/* RFC 4861 section 6.3.6. */
bool tern_ac_default_router(const tern_stack *st, uint32_t iface_hint, uint32_t *iface,
                            tern_addr *router);
void tern_ac_router_lost(tern_stack *st, uint32_t iface, const tern_addr *router);
/* Is dst inside an on-link prefix of the Prefix List? *len and *iface receive the longest. */
bool tern_ac_onlink(const tern_stack *st, const tern_addr *dst, unsigned *len, uint32_t *iface);
/* RFC 6724 source selection over iface's usable addresses. */
bool tern_ac_select_source(const tern_stack *st, uint32_t iface, const tern_addr *dst,
                           tern_addr *out);

#endif /* TERN_IPV6_AUTOCONF_H */

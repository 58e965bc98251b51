/*
 * IPv6 default source address selection (RFC 6724 sections 2, 3 and 5).
 *
 * A pure function over candidate addresses: the IPv6 layer gathers the
 * usable addresses (never tentative, duplicated or invalid ones: RFC 4862
 * section 5.4 forbids sending from a tentative address) and asks which to
 * send from. Rules 1, 2, 3, 5, 6, 7 and 8 of RFC 6724 section 5 apply in
 * order; rule 4 (home addresses, Mobile IPv6) and the optional rule 5.5 do
 * not: this stack has neither.
 */
#ifndef TERN_IPV6_ADDRSEL_H
#define TERN_IPV6_ADDRSEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"

/* Scope values (RFC 4291 section 2.7 numbering, as RFC 6724 section 3.1 uses). */
#define TERN_SCOPE_INTERFACE 0x1
#define TERN_SCOPE_LINK 0x2
#define TERN_SCOPE_ADMIN 0x4
#define TERN_SCOPE_SITE 0x5
#define TERN_SCOPE_ORG 0x8
#define TERN_SCOPE_GLOBAL 0xe

/* One candidate source address. */
struct tern_addrsel_cand {
    tern_addr addr;     /* IPv6 */
    uint8_t prefix_len; /* of the prefix the address was formed in (rule 8) */
    uint32_t iface;     /* the interface it is assigned to (rule 5) */
    bool deprecated;    /* its preferred lifetime is over (rule 3; RFC 4862 section 5.5.4) */
    bool temporary;     /* an RFC 8981 temporary address (rule 7) */
};

/*
 * tern_addrsel_scope: the scope of an IPv6 address (RFC 6724 section 3.1):
 * a multicast address's scope field; link-local (fe80::/10) and the
 * loopback ::1 are link scope; site-local (fec0::/10) site scope; every
 * other unicast address (ULAs included) global. IPv4-mapped addresses get
 * the scope RFC 6724 section 3.2 gives their IPv4 address (127/8 and
 * 169.254/16 link, the rest global).
 */
unsigned tern_addrsel_scope(const tern_addr *a);

/*
 * tern_addrsel_policy: precedence and label of the longest matching entry of
 * RFC 6724 section 2.1's default policy table.
 */
void tern_addrsel_policy(const tern_addr *a, uint8_t *precedence, uint8_t *label);

/* tern_addrsel_common_prefix_len: leading bits a and b share (0..128). */
unsigned tern_addrsel_common_prefix_len(const tern_addr *a, const tern_addr *b);

/*
 * tern_addrsel_compare: RFC 6724 section 5's comparison of two candidates
 * for destination dst. Returns <0 when a is preferred, >0 when b is, 0 when
 * no rule tells them apart. *rule (if not NULL) receives the number of the
 * rule that decided (1..8), 0 when none did.
 *   out_iface         the interface the packet leaves by (rule 5)
 *   prefer_temporary  rule 7's direction: RFC 6724 section 5 prefers
 *                     temporary addresses and says the preference "MUST" be
 *                     reversible; false reverses it
 */
int tern_addrsel_compare(const struct tern_addrsel_cand *a, const struct tern_addrsel_cand *b,
                         const tern_addr *dst, uint32_t out_iface, bool prefer_temporary,
                         unsigned *rule);

/*
 * tern_addrsel_select: the index of the best of the n candidates for dst
 * (the first of equals, so the caller's order breaks ties), or -1 when n is 0.
 */
int tern_addrsel_select(const struct tern_addrsel_cand *c, size_t n, const tern_addr *dst,
                        uint32_t out_iface, bool prefer_temporary);

#endif /* TERN_IPV6_ADDRSEL_H */

/*
 * Addresses of the Tern stack.
 *
 * tern_addr is dual-stack from the first line (DESIGN.md section 3): one
 * value type carries an IPv4 or an IPv6 address, so that routes, sockets and
 * caches never have to change shape when IPv6 arrives. An IPv4 address is
 * stored in bytes[0..3] with bytes[4..15] zero, so that two addresses of the
 * same family compare with memcmp and sort in numeric order.
 *
 * tern_mac is a 48-bit IEEE 802 MAC address (RFC 894 frames carry two).
 *
 * Nothing here allocates; formatting writes into a caller's buffer.
 */
#ifndef TERN_ADDR_H
#define TERN_ADDR_H

#ifndef TERN_CDEF
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"
#endif

/* Address family of a tern_addr. NONE is the all-zero value ("no address"). */
enum tern_addr_family {
    TERN_AF_NONE = 0,
    TERN_AF_INET = 4,
    TERN_AF_INET6 = 6,
};

/* An IPv4 or IPv6 address; bytes are in network order. */
typedef struct tern_addr {
    uint8_t family;    /* enum tern_addr_family */
    uint8_t bytes[16]; /* IPv4: bytes[0..3], rest zero */
} tern_addr;

/* A MAC address, in transmission order. */
typedef struct tern_mac {
    uint8_t b[6];
} tern_mac;

/* Longest text forms, including the terminating NUL. */
#define TERN_ADDR_STRLEN 46 /* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" + NUL */
#define TERN_MAC_STRLEN 18  /* "aa:bb:cc:dd:ee:ff" + NUL */

/* ---- construction ---------------------------------------------------- */

/* tern_addr_v4: the IPv4 address a.b.c.d. */
tern_addr tern_addr_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);

/* tern_addr_v4_from_u32: the IPv4 address whose host-order value is v
 * (0x0a000001 is 10.0.0.1). */
tern_addr tern_addr_v4_from_u32(uint32_t v);

/* tern_addr_v4_from_bytes: the IPv4 address in p[0..3] (network order). */
tern_addr tern_addr_v4_from_bytes(const uint8_t p[4]);

/* tern_addr_v6_from_bytes: the IPv6 address in p[0..15] (network order). */
tern_addr tern_addr_v6_from_bytes(const uint8_t p[16]);

/* tern_addr_v4_to_u32: the host-order value of an IPv4 address; 0 when a is
 * not IPv4. */
uint32_t tern_addr_v4_to_u32(const tern_addr *a);

/* ---- comparison and classification ----------------------------------- */

/*
 * tern_addr_cmp: total order on addresses: first by family (NONE < INET <
 * INET6), then numerically. Returns <0, 0 or >0 like memcmp.
 */
int tern_addr_cmp(const tern_addr *a, const tern_addr *b);

/* tern_addr_eq: true when a and b are the same family and address. */
bool tern_addr_eq(const tern_addr *a, const tern_addr *b);

/* tern_addr_is_v4 / tern_addr_is_v6: the family test. */
bool tern_addr_is_v4(const tern_addr *a);
bool tern_addr_is_v6(const tern_addr *a);

/* tern_addr_is_unspecified: 0.0.0.0, ::, or a family-NONE address. */
bool tern_addr_is_unspecified(const tern_addr *a);

/* tern_addr_is_multicast: 224.0.0.0/4 (RFC 1112 section 4) or ff00::/8
 * (RFC 4291 section 2.7). */
bool tern_addr_is_multicast(const tern_addr *a);

/* tern_addr_is_limited_broadcast: 255.255.255.255 (RFC 1122 section
 * 3.2.1.3 (c)). Directed broadcasts depend on the prefix: see
 * tern_addr_is_directed_broadcast. */
bool tern_addr_is_limited_broadcast(const tern_addr *a);

/*
 * tern_addr_prefix_match: true when a and b have the same family and agree on
 * their first prefix_len bits (longest-prefix routing, RFC 1812 section
 * 5.2.4.3). prefix_len above the family's width (32 or 128) is treated as
 * the full width; 0 matches every address of the same family.
 */
bool tern_addr_prefix_match(const tern_addr *a, const tern_addr *b, unsigned prefix_len);

/*
 * tern_addr_is_directed_broadcast: true when a is the all-ones host part of
 * the IPv4 subnet net/prefix_len (RFC 1122 section 3.2.1.3 (e)). Always false
 * for prefixes of 31 and 32 bits (RFC 3021) and for non-IPv4 addresses.
 */
bool tern_addr_is_directed_broadcast(const tern_addr *a, const tern_addr *net, unsigned prefix_len);

/* ---- text ------------------------------------------------------------ */

/*
 * tern_addr_format: write a's text form into buf (NUL-terminated): dotted
 * quad for IPv4, the RFC 5952 canonical form for IPv6 (lower case, the
 * longest run of two or more zero groups shortened to "::"), "none" for
 * family NONE.
 *   a    the address
 *   buf  output buffer; cap its size in bytes (TERN_ADDR_STRLEN is always
 *        enough)
 * Returns TERN_OK, TERN_ERR_BUFFER_TOO_SMALL when the text and its NUL do not
 * fit (buf then holds an empty string if cap > 0), or
 * TERN_ERR_INVALID_ARGUMENT for an unknown family.
 */
tern_err tern_addr_format(const tern_addr *a, char *buf, size_t cap);

/*
 * tern_addr_parse: parse an IPv4 dotted quad ("10.0.0.1", four decimal
 * numbers 0-255 without leading zeros beyond a single "0") or an IPv6 address
 * in the RFC 4291 section 2.2 forms 1 and 2 (hex groups with at most one
 * "::"; the embedded-IPv4 form 3 is not accepted).
 *   text  NUL-terminated text
 *   out   receives the address
 * Returns TERN_OK or TERN_ERR_INVALID_ARGUMENT (out is then unchanged).
 */
tern_err tern_addr_parse(const char *text, tern_addr *out);

/* ---- MAC addresses --------------------------------------------------- */

/* tern_mac_broadcast: ff:ff:ff:ff:ff:ff. */
tern_mac tern_mac_broadcast(void);

/* tern_mac_eq: byte-wise equality. */
bool tern_mac_eq(const tern_mac *a, const tern_mac *b);

/* tern_mac_is_broadcast: all ones. */
bool tern_mac_is_broadcast(const tern_mac *m);

/* tern_mac_is_multicast: the I/G bit (least significant bit of the first
 * octet) is set; broadcast is a multicast address too. */
bool tern_mac_is_multicast(const tern_mac *m);

/* tern_mac_is_zero: 00:00:00:00:00:00 (e.g. the ARP request's target). */
bool tern_mac_is_zero(const tern_mac *m);

/*
 * tern_mac_ipv4_multicast: the MAC of an IPv4 multicast group,
 * 01:00:5e + the low 23 bits of the group (RFC 1112 section 6.4). The result
 * is unspecified for a non-multicast address.
 */
tern_mac tern_mac_ipv4_multicast(const tern_addr *group);

/*
 * tern_mac_format: "aa:bb:cc:dd:ee:ff" (lower case) into buf.
 * Returns TERN_OK or TERN_ERR_BUFFER_TOO_SMALL when cap < TERN_MAC_STRLEN
 * (buf then holds an empty string if cap > 0).
 */
tern_err tern_mac_format(const tern_mac *m, char *buf, size_t cap);

#endif /* TERN_ADDR_H */

/*
 * Neighbor Discovery messages (RFC 4861 section 4) and their options
 * (section 4.6): Router Solicitation, Router Advertisement, Neighbor
 * Solicitation, Neighbor Advertisement and Redirect, with the source and
 * target link-layer address, prefix information, redirected header and MTU
 * options.
 *
 * The messages are ICMPv6 messages: tern_ndp_parse reads the body of an
 * already parsed (and checksum-verified) struct tern_icmpv6_repr, and
 * tern_ndp_emit writes the whole ICMPv6 message with its checksum. The
 * validity checks that need the IP header (hop limit 255, the source address
 * rules of RFC 4861 sections 6.1 and 7.1) are the stack's.
 */
#ifndef TERN_WIRE_NDP_H
#define TERN_WIRE_NDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"
#include "wire/icmpv6.h"

/* Option types (RFC 4861 section 4.6). */
#define TERN_NDP_OPT_SLL 1
#define TERN_NDP_OPT_TLL 2
#define TERN_NDP_OPT_PREFIX 3
#define TERN_NDP_OPT_REDIRECTED 4
#define TERN_NDP_OPT_MTU 5

/* Prefix information options kept from one RA (the rest are counted in prefixes_dropped). */
#define TERN_NDP_MAX_PREFIXES 8

/* One Prefix Information option (RFC 4861 section 4.6.2). */
struct tern_ndp_prefix {
    uint8_t prefix_len;
    bool on_link;                                /* L */
    bool autonomous;                             /* A */
    uint32_t valid_lifetime, preferred_lifetime; /* seconds; 0xffffffff is infinity */
    tern_addr prefix;
};

/* The options of one message; the last of each single-valued kind wins. */
struct tern_ndp_opts {
    bool has_sll, has_tll, has_mtu;
    uint8_t sll[6], tll[6]; /* Ethernet (RFC 2464 section 8: option length 1) */
    uint32_t mtu;
    uint8_t nprefix;
    uint8_t prefixes_dropped;
    struct tern_ndp_prefix prefix[TERN_NDP_MAX_PREFIXES];
    const uint8_t *redirected; /* the Redirected Header option's packet bytes, or NULL */
    size_t redirected_len;
    uint16_t unknown; /* options of other types, skipped as section 4.6 asks */
};

struct tern_ndp_repr {
    uint8_t type; /* TERN_ICMPV6_RS, _RA, _NS, _NA or _REDIRECT */
    uint8_t code;
    /* RA (section 4.2) */
    uint8_t cur_hop_limit;
    bool managed, other; /* M, O */
    /* The RA's whole flags byte as received (other bits: RFC 4191's router preference...); emit
     * writes it with M and O set from the booleans above. */
    uint8_t ra_flags;
    uint16_t router_lifetime; /* seconds */
    uint32_t reachable_time;  /* milliseconds */
    uint32_t retrans_timer;   /* milliseconds */
    /* NA flags (section 4.4) */
    bool router, solicited, override;
    /* NS, NA, Redirect: target; Redirect: destination */
    tern_addr target, dest;
    struct tern_ndp_opts opts;
};

/*
 * tern_ndp_parse: the ND message in an ICMPv6 message.
 *   icmp  a parsed message of type RS, RA, NS, NA or Redirect
 *   out   receives the fields and options (pointers into icmp's buffer)
 * Returns TERN_OK; TERN_ERR_UNSUPPORTED for another type; TERN_ERR_TRUNCATED
 * when the body is shorter than the type's fixed part (RS 4, RA 12, NS and NA
 * 20, Redirect 36 bytes: section 6.1.1 "ICMP length (derived from the IP
 * length) is 8 or more octets" and its siblings); TERN_ERR_MALFORMED when an
 * option has length zero (section 4.6: "Nodes MUST silently discard an ND
 * packet that contains an option with length zero") or runs past the end, or
 * a link-layer address option is not 8 bytes, or a prefix or MTU option has
 * the wrong length.
 */
tern_err tern_ndp_parse(const struct tern_icmpv6_repr *icmp, struct tern_ndp_repr *out);

/*
 * tern_ndp_emit: write the ICMPv6 message for r (code 0 unless r->code) with
 * its checksum for src and dst. Options written, in this order, when present:
 * source link-layer address, target link-layer address, MTU, each prefix,
 * the redirected header (its bytes zero-padded to a multiple of 8; the caller
 * keeps the message within 1280 bytes, section 4.6.3).
 * Returns TERN_OK; TERN_ERR_UNSUPPORTED for a type that is not ND;
 * TERN_ERR_INVALID_ARGUMENT for a non-IPv6 address;
 * TERN_ERR_BUFFER_TOO_SMALL when cap is short (nothing written).
 */
tern_err tern_ndp_emit(const struct tern_ndp_repr *r, const tern_addr *src, const tern_addr *dst,
                       uint8_t *buf, size_t cap, size_t *written);

#endif /* TERN_WIRE_NDP_H */

/*
 * IPv6 (RFC 8200): the fixed header (section 3), the extension headers
 * (section 4): hop-by-hop and destination options with their TLV options
 * (section 4.2), the routing header (section 4.4), the fragment header
 * (section 4.5), and a walker over the chain with a bound on its length.
 *
 * Parse-check-then-access: every function checks that the bytes it reads are
 * present; nothing casts a struct over the buffer. The walker does at most
 * TERN_IPV6_MAX_EXT_HEADERS steps whatever the input.
 *
 * Layout of the fixed header: version (4 bits), traffic class (8), flow label
 * (20), payload length (16), next header (8), hop limit (8), source (128),
 * destination (128); then the payload-length bytes of extension headers and
 * upper-layer data.
 */
#ifndef TERN_WIRE_IPV6_H
#define TERN_WIRE_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"

#define TERN_IPV6_HDR_LEN 40
/* RFC 8200 section 5: "IPv6 requires that every link in the Internet have an MTU of 1280 octets or
 * greater." */
#define TERN_IPV6_MIN_MTU 1280
#define TERN_IPV6_MAX_PAYLOAD 65535

/* Next-header values (IANA "Assigned Internet Protocol Numbers"). */
#define TERN_IPPROTO_HOPOPTS 0
#define TERN_IPPROTO_ROUTING 43
#define TERN_IPPROTO_FRAGMENT 44
#define TERN_IPPROTO_ESP 50
#define TERN_IPPROTO_AH 51
#define TERN_IPPROTO_ICMPV6 58
#define TERN_IPPROTO_NONE 59
#define TERN_IPPROTO_DSTOPTS 60

/* Extension headers the walker follows before it stops (the bound on work per packet). */
#define TERN_IPV6_MAX_EXT_HEADERS 16

/* Hop-by-hop / destination option types (RFC 8200 section 4.2, RFC 2711). */
#define TERN_IPV6_OPT_PAD1 0
#define TERN_IPV6_OPT_PADN 1
#define TERN_IPV6_OPT_ROUTER_ALERT 5
#define TERN_IPV6_OPT_JUMBO 0xc2
/* The action for an unrecognised option: its type's two highest bits (RFC 8200 section 4.2). */
#define TERN_IPV6_OPT_ACTION(type) ((uint8_t)((type) >> 6))
#define TERN_IPV6_OPT_SKIP 0         /* 00: skip over this option */
#define TERN_IPV6_OPT_DISCARD 1      /* 01: discard the packet */
#define TERN_IPV6_OPT_DISCARD_ICMP 2 /* 10: discard, Parameter Problem code 2 even if multicast */
#define TERN_IPV6_OPT_DISCARD_ICMP_UC                                                              \
    3 /* 11: discard, Parameter Problem code 2 unless multicast                                    \
       */

/* One IPv6 header and the payload it delimits. */
struct tern_ipv6_repr {
    uint8_t traffic_class;  /* DSCP << 2 | ECN */
    uint32_t flow_label;    /* 20 bits */
    uint16_t payload_len;   /* as on the wire; computed by emit */
    uint8_t next_header;    /* the first extension header or the upper layer */
    uint8_t hop_limit;      /* hop limit */
    tern_addr src;          /* IPv6 */
    tern_addr dst;          /* IPv6 */
    const uint8_t *payload; /* payload_len bytes right after the fixed header */
};

/*
 * tern_ipv6_parse: parse the fixed header of an IPv6 packet.
 *   buf, len  the Ethernet payload; bytes after the payload length are
 *             link-layer padding and are ignored
 *   out       receives the fields; payload points into buf
 * Returns TERN_OK; TERN_ERR_TRUNCATED when fewer than 40 bytes, or fewer than
 * 40 + payload length, are present; TERN_ERR_UNSUPPORTED when the version is
 * not 6. (A zero payload length with a hop-by-hop header would be a
 * jumbogram, RFC 2675, which a link with MTU below 65575 never carries: it is
 * an ordinary empty payload here.)
 */
tern_err tern_ipv6_parse(const uint8_t *buf, size_t len, struct tern_ipv6_repr *out);

/*
 * tern_ipv6_parse_quoted: the IPv6 header at the start of the "as much of the
 * invoking packet as possible" quote of an ICMPv6 error (RFC 4443 section
 * 3): the payload may be cut short, so payload points at what is present and
 * *present receives its length (at most the payload length field).
 * Returns TERN_OK; TERN_ERR_TRUNCATED below 40 bytes; TERN_ERR_UNSUPPORTED
 * when the version is not 6.
 */
tern_err tern_ipv6_parse_quoted(const uint8_t *buf, size_t len, struct tern_ipv6_repr *out,
                                size_t *present);

/*
 * tern_ipv6_emit: write the fixed header for r followed by payload_len bytes
 * of payload (r->payload_len is ignored; the argument is authoritative).
 *   r            the header; src and dst must be IPv6
 *   payload_len  bytes of payload (extension headers included), at most 65535
 *   buf, cap     output; when r->payload is NULL the payload is already in
 *                place at buf + 40 and is not touched, else it is copied there
 *   written      receives 40 + payload_len
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for a non-IPv6 address or a
 * flow label above 20 bits; TERN_ERR_MSG_TOO_LONG above 65535 payload bytes;
 * TERN_ERR_BUFFER_TOO_SMALL when cap is short (nothing written then).
 */
tern_err tern_ipv6_emit(const struct tern_ipv6_repr *r, size_t payload_len, uint8_t *buf,
                        size_t cap, size_t *written);

/* tern_ipv6_is_ext_header: is `nh` an extension header the walker steps over (hop-by-hop,
 * routing, fragment, destination options, AH)? */
bool tern_ipv6_is_ext_header(uint8_t nh);

/* One extension header. */
struct tern_ipv6_ext {
    uint8_t type;        /* its own protocol number (TERN_IPPROTO_HOPOPTS...) */
    uint8_t next_header; /* the one after it */
    size_t offset;       /* where it starts, from the start of the IPv6 payload */
    size_t len;          /* its length in bytes */
    const uint8_t *data; /* its first byte */
};

/*
 * tern_ipv6_ext_parse: the extension header of type `type` at buf.
 *   Length: hop-by-hop, routing, destination options (8 + 8 * Hdr Ext Len);
 *   fragment (always 8); AH (RFC 4302: 4 * (Payload Len + 2)).
 * Returns TERN_OK; TERN_ERR_TRUNCATED when the header's bytes are not all in
 * buf[0..len); TERN_ERR_UNSUPPORTED when `type` is not an extension header.
 * out->offset is set to 0 (the walker fills it in).
 */
tern_err tern_ipv6_ext_parse(uint8_t type, const uint8_t *buf, size_t len,
                             struct tern_ipv6_ext *out);

/* The extension header chain of a packet. */
struct tern_ipv6_chain {
    uint8_t count;                                       /* headers in ext[] */
    struct tern_ipv6_ext ext[TERN_IPV6_MAX_EXT_HEADERS]; /* in packet order */
    uint8_t upper;          /* the next header after the chain (upper layer or 59) */
    size_t upper_offset;    /* where the upper layer starts, from the start of the payload */
    size_t nh_field_offset; /* where the next-header field naming `upper` is, from the start of
                             * the IPv6 header (6 when there are no extension headers) */
};

/*
 * tern_ipv6_walk: follow the extension header chain of a payload.
 *   first     the fixed header's next header
 *   buf, len  the IPv6 payload (the bytes after the fixed header) present
 *   out       receives the chain
 * The walk stops at the first value that is not an extension header (the
 * upper layer, ICMPv6, No Next Header, or unknown). It stops, too, after a
 * fragment header whose offset is not zero: what follows it is fragment
 * data, not headers.
 * Returns TERN_OK; TERN_ERR_TRUNCATED when a header runs past len (RFC 7112:
 * a first fragment without the whole chain looks like this);
 * TERN_ERR_MALFORMED when the chain is longer than TERN_IPV6_MAX_EXT_HEADERS.
 * *out holds the headers walked so far in every case.
 */
tern_err tern_ipv6_walk(uint8_t first, const uint8_t *buf, size_t len, struct tern_ipv6_chain *out);

/* One TLV option of a hop-by-hop or destination options header. */
struct tern_ipv6_opt {
    uint8_t type;
    uint8_t len;         /* data length (0 for Pad1) */
    const uint8_t *data; /* len bytes */
    size_t offset;       /* the option's type byte, from the start of the extension header */
};

/*
 * tern_ipv6_opt_next: the option at *pos of the options header hdr[0..hdr_len)
 * (start with *pos = 2, right after Next Header and Hdr Ext Len); advances
 * *pos past it.
 * Returns TERN_OK; TERN_ERR_EMPTY at the end of the header; TERN_ERR_MALFORMED
 * when an option's length runs past the end of the header.
 */
tern_err tern_ipv6_opt_next(const uint8_t *hdr, size_t hdr_len, size_t *pos,
                            struct tern_ipv6_opt *out);

/* The fragment header (RFC 8200 section 4.5). */
struct tern_ipv6_frag_repr {
    uint8_t next_header;
    uint8_t reserved;     /* the 8-bit reserved field (ignored on receipt) */
    uint8_t res2;         /* the 2-bit reserved field */
    uint16_t frag_offset; /* in bytes (the 13-bit field times 8) */
    bool more;            /* M flag */
    uint32_t ident;       /* identification */
};
#define TERN_IPV6_FRAG_HDR_LEN 8

/* tern_ipv6_frag_parse: parse 8 bytes. TERN_OK or TERN_ERR_TRUNCATED. */
tern_err tern_ipv6_frag_parse(const uint8_t *buf, size_t len, struct tern_ipv6_frag_repr *out);

/*
 * tern_ipv6_frag_emit: write the 8-byte header (reserved fields written as
 * zero, as RFC 8200 section 4.5 asks: "Initialized to zero for transmission").
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT when frag_offset is not a
 * multiple of 8; TERN_ERR_BUFFER_TOO_SMALL when cap < 8 (nothing written).
 */
tern_err tern_ipv6_frag_emit(const struct tern_ipv6_frag_repr *r, uint8_t *buf, size_t cap,
                             size_t *written);

/* The routing header's fixed part (RFC 8200 section 4.4). */
struct tern_ipv6_rh_repr {
    uint8_t next_header;
    uint8_t hdr_ext_len;
    uint8_t routing_type;
    uint8_t segments_left;
    const uint8_t *data; /* type-specific data */
    size_t data_len;
};

/* tern_ipv6_rh_parse: parse a routing header of len bytes. TERN_OK or TERN_ERR_TRUNCATED. */
tern_err tern_ipv6_rh_parse(const uint8_t *buf, size_t len, struct tern_ipv6_rh_repr *out);

/*
 * tern_ipv6_mcast_mac: the Ethernet address of an IPv6 multicast group,
 * 33:33 + the low 32 bits (RFC 2464 section 7).
 */
void tern_ipv6_mcast_mac(const tern_addr *group, uint8_t mac[6]);

/* tern_ipv6_solicited_node: ff02::1:ffXX:XXXX for addr (RFC 4291 section 2.7.1). */
tern_addr tern_ipv6_solicited_node(const tern_addr *addr);

/*
 * tern_ipv6_link_local_from_mac: fe80::/64 with the modified EUI-64 interface
 * identifier of mac (RFC 4291 appendix A, RFC 2464 section 4: the
 * universal/local bit inverted, ff:fe in the middle).
 */
tern_addr tern_ipv6_link_local_from_mac(const uint8_t mac[6]);

/* tern_ipv6_is_link_local: fe80::/10 (RFC 4291 section 2.5.6). */
bool tern_ipv6_is_link_local(const tern_addr *a);

/* tern_ipv6_mcast_scope: the scope field (low 4 bits of byte 1) of a multicast address
 * (RFC 4291 section 2.7); 0 for a non-multicast address. */
uint8_t tern_ipv6_mcast_scope(const tern_addr *a);

#endif /* TERN_WIRE_IPV6_H */

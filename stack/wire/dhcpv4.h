/*
 * DHCPv4 messages (RFC 2131 section 2, options of RFC 2132).
 *
 * Layout: a 236-byte BOOTP header (op, htype, hlen, hops, xid, secs, flags,
 * ciaddr, yiaddr, siaddr, giaddr, chaddr[16], sname[64], file[128]), the
 * magic cookie 99.130.83.99, then options as code/length/value triples, pad
 * (0) and end (255) being single bytes.
 *
 * The parser keeps the options a DHCP client or server of this stack acts
 * on; every other option is skipped by its length. Rules, each one a
 * rejection rather than a guess:
 *   - an option whose length runs past the buffer: TERN_ERR_TRUNCATED;
 *   - no end option before the buffer ends: TERN_ERR_TRUNCATED (RFC 2132
 *     section 3.2: "The end option marks the end of valid information in
 *     the vendor field"; without it nothing says where valid data ends);
 *   - a known option with a length its definition does not allow (subnet
 *     mask not 4, router or DNS not a non-zero multiple of 4, message type
 *     not 1 ...): TERN_ERR_MALFORMED;
 *   - a repeated option keeps its first instance (long-option
 *     concatenation of RFC 3396 is not supported);
 *   - the overload option (52) is not followed: sname and file are never
 *     parsed as options.
 * Addresses are host-order uint32_t values (a.b.c.d is a<<24|b<<16|c<<8|d).
 */
#ifndef TERN_WIRE_DHCPV4_H
#define TERN_WIRE_DHCPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"

#define TERN_DHCP_SERVER_PORT 67
#define TERN_DHCP_CLIENT_PORT 68
#define TERN_DHCP_FIXED_LEN 236 /* BOOTP header before the magic cookie */
#define TERN_DHCP_MIN_LEN 240   /* header + magic cookie */
/* RFC 1542 section 2.1: a BOOTP message is at least 300 bytes; emit pads to it. */
#define TERN_DHCP_BOOTP_MIN_LEN 300
#define TERN_DHCP_MAGIC 0x63825363u

#define TERN_DHCP_OP_REQUEST 1 /* BOOTREQUEST */
#define TERN_DHCP_OP_REPLY 2   /* BOOTREPLY */
#define TERN_DHCP_FLAG_BROADCAST 0x8000

/* DHCP message types (RFC 2132 section 9.6). */
#define TERN_DHCP_DISCOVER 1
#define TERN_DHCP_OFFER 2
#define TERN_DHCP_REQUEST 3
#define TERN_DHCP_DECLINE 4
#define TERN_DHCP_ACK 5
#define TERN_DHCP_NAK 6
#define TERN_DHCP_RELEASE 7
#define TERN_DHCP_INFORM 8

/* Option codes (RFC 2132). */
#define TERN_DHCP_OPT_PAD 0
#define TERN_DHCP_OPT_SUBNET_MASK 1
#define TERN_DHCP_OPT_ROUTER 3
#define TERN_DHCP_OPT_DNS 6
#define TERN_DHCP_OPT_HOSTNAME 12
#define TERN_DHCP_OPT_MTU 26
#define TERN_DHCP_OPT_REQUESTED_IP 50
#define TERN_DHCP_OPT_LEASE_TIME 51
#define TERN_DHCP_OPT_OVERLOAD 52
#define TERN_DHCP_OPT_MSG_TYPE 53
#define TERN_DHCP_OPT_SERVER_ID 54
#define TERN_DHCP_OPT_PARAM_LIST 55
#define TERN_DHCP_OPT_MESSAGE 56
#define TERN_DHCP_OPT_MAX_SIZE 57
#define TERN_DHCP_OPT_T1 58
#define TERN_DHCP_OPT_T2 59
#define TERN_DHCP_OPT_CLIENT_ID 61
#define TERN_DHCP_OPT_END 255

#define TERN_DHCP_MAX_ROUTERS 4
#define TERN_DHCP_MAX_DNS 4

/* Which options a repr carries (bit per option, TERN_DHCP_HAS_*). */
#define TERN_DHCP_HAS_SUBNET_MASK (1u << 0)
#define TERN_DHCP_HAS_ROUTER (1u << 1)
#define TERN_DHCP_HAS_DNS (1u << 2)
#define TERN_DHCP_HAS_HOSTNAME (1u << 3)
#define TERN_DHCP_HAS_MTU (1u << 4)
#define TERN_DHCP_HAS_REQUESTED_IP (1u << 5)
#define TERN_DHCP_HAS_LEASE_TIME (1u << 6)
#define TERN_DHCP_HAS_SERVER_ID (1u << 7)
#define TERN_DHCP_HAS_PARAM_LIST (1u << 8)
#define TERN_DHCP_HAS_MESSAGE (1u << 9)
#define TERN_DHCP_HAS_MAX_SIZE (1u << 10)
#define TERN_DHCP_HAS_T1 (1u << 11)
#define TERN_DHCP_HAS_T2 (1u << 12)
#define TERN_DHCP_HAS_CLIENT_ID (1u << 13)

/* One DHCPv4 message. Pointer fields point into the parsed buffer (parse)
 * or into caller memory (emit). */
struct tern_dhcpv4_repr {
    uint8_t op;    /* TERN_DHCP_OP_* */
    uint8_t htype; /* 1: Ethernet */
    uint8_t hlen;  /* 6 for Ethernet; parse rejects > 16 */
    uint8_t hops;
    uint32_t xid;
    uint16_t secs;
    uint16_t flags; /* TERN_DHCP_FLAG_BROADCAST */
    uint32_t ciaddr, yiaddr, siaddr, giaddr;
    uint8_t chaddr[16];
    uint8_t msg_type; /* option 53; 0 when absent (plain BOOTP) */
    uint32_t present; /* TERN_DHCP_HAS_* bits */
    uint32_t subnet_mask;
    uint32_t routers[TERN_DHCP_MAX_ROUTERS]; /* first ones of option 3 */
    uint8_t n_routers;
    uint32_t dns[TERN_DHCP_MAX_DNS]; /* first ones of option 6 */
    uint8_t n_dns;
    uint16_t mtu;
    uint32_t requested_ip;
    uint32_t lease_time; /* seconds; 0xffffffff is infinity (RFC 2131 section 3.3) */
    uint32_t server_id;
    uint16_t max_size;
    uint32_t t1, t2; /* seconds */
    const uint8_t *hostname;
    uint8_t hostname_len;
    const uint8_t *param_list;
    uint8_t param_list_len;
    const uint8_t *message;
    uint8_t message_len;
    const uint8_t *client_id;
    uint8_t client_id_len;
};

/*
 * tern_dhcpv4_parse: parse a DHCP message (the UDP payload).
 *   buf, len  the message
 *   out       receives the fields (zeroed first); pointers point into buf
 * Returns TERN_OK; TERN_ERR_TRUNCATED when fewer than 240 bytes are present,
 * an option runs past the end, or the end option is missing;
 * TERN_ERR_UNSUPPORTED when the magic cookie is wrong; TERN_ERR_MALFORMED
 * when op is not 1 or 2, hlen exceeds 16, or a known option has a length
 * its definition forbids (see the file comment).
 */
tern_err tern_dhcpv4_parse(const uint8_t *buf, size_t len, struct tern_dhcpv4_repr *out);

/*
 * tern_dhcpv4_emit: write the message for r: header, cookie, the options
 * r->present names (message type first when non-zero, then in code order),
 * end, and pad bytes up to 300 bytes (RFC 1542 section 2.1).
 *   r        the message; sname and file are written as zeros
 *   buf,cap  output buffer
 *   written  receives the length
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT when hlen > 16, n_routers or
 * n_dns is 0 with its option present or above the maximum, or a variable
 * option present with length 0 or a NULL pointer; TERN_ERR_BUFFER_TOO_SMALL
 * when cap is short (nothing written on error).
 */
tern_err tern_dhcpv4_emit(const struct tern_dhcpv4_repr *r, uint8_t *buf, size_t cap,
                          size_t *written);

/* tern_dhcpv4_emit_len: the number of bytes tern_dhcpv4_emit writes for r
 * (meaningful only for an r that emit accepts). */
size_t tern_dhcpv4_emit_len(const struct tern_dhcpv4_repr *r);

#endif /* TERN_WIRE_DHCPV4_H */

/*
 * DHCPv6 client/server messages (RFC 8415 section 8) and the options a
 * DHCPv6 client of this stack sends or acts on (RFC 8415 section 21, DNS
 * options of RFC 3646).
 *
 * Layout: msg-type (1 byte), transaction-id (3 bytes), then options as
 * option-code (2) / option-len (2) / option-data. IA_NA (section 21.4) and
 * IA Address (section 21.6) options carry options of their own.
 *
 * Parsing checks everything before anything is used. Rules, each one a
 * rejection rather than a guess:
 *   - fewer than 4 bytes, or an option (top level or inside an IA_NA or an
 *     IA Address) whose length runs past what encloses it:
 *     TERN_ERR_TRUNCATED;
 *   - a known option whose length its definition does not allow (Preference
 *     not 1, Elapsed Time not 2, Status Code under 2, IA_NA under 12, IA
 *     Address under 24, DNS servers not a non-zero multiple of 16, a DUID
 *     under 2 or over 130 bytes, Information Refresh Time or SOL_MAX_RT not
 *     4, Rapid Commit not 0, an Option Request not even):
 *     TERN_ERR_MALFORMED;
 *   - relay messages (12, 13) are not client/server messages:
 *     TERN_ERR_UNSUPPORTED.
 * A repeated option keeps its first instance; the first IA_NA is kept and
 * later ones are counted (extra_ia); IA Addresses beyond
 * TERN_DHCPV6_MAX_ADDRS and DNS servers beyond TERN_DHCPV6_MAX_DNS are
 * counted and skipped. Options of other codes are counted (unknown) and
 * skipped by their length. Pointers in a parsed representation point into
 * the parsed buffer.
 */
#ifndef TERN_WIRE_DHCPV6_H
#define TERN_WIRE_DHCPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"

#define TERN_DHCPV6_CLIENT_PORT 546
#define TERN_DHCPV6_SERVER_PORT 547
#define TERN_DHCPV6_HDR_LEN 4

/* Message types (RFC 8415 section 7.3). */
#define TERN_DHCPV6_MSG_SOLICIT 1
#define TERN_DHCPV6_MSG_ADVERTISE 2
#define TERN_DHCPV6_MSG_REQUEST 3
#define TERN_DHCPV6_MSG_CONFIRM 4
#define TERN_DHCPV6_MSG_RENEW 5
#define TERN_DHCPV6_MSG_REBIND 6
#define TERN_DHCPV6_MSG_REPLY 7
#define TERN_DHCPV6_MSG_RELEASE 8
#define TERN_DHCPV6_MSG_DECLINE 9
#define TERN_DHCPV6_MSG_RECONFIGURE 10
#define TERN_DHCPV6_MSG_INFORMATION_REQUEST 11
#define TERN_DHCPV6_MSG_RELAY_FORW 12
#define TERN_DHCPV6_MSG_RELAY_REPL 13

/* Option codes (RFC 8415 section 21, RFC 3646). */
#define TERN_DHCPV6_OPT_CLIENTID 1
#define TERN_DHCPV6_OPT_SERVERID 2
#define TERN_DHCPV6_OPT_IA_NA 3
#define TERN_DHCPV6_OPT_IAADDR 5
#define TERN_DHCPV6_OPT_ORO 6
#define TERN_DHCPV6_OPT_PREFERENCE 7
#define TERN_DHCPV6_OPT_ELAPSED_TIME 8
#define TERN_DHCPV6_OPT_STATUS_CODE 13
#define TERN_DHCPV6_OPT_RAPID_COMMIT 14
#define TERN_DHCPV6_OPT_DNS_SERVERS 23
#define TERN_DHCPV6_OPT_DOMAIN_LIST 24
#define TERN_DHCPV6_OPT_INFORMATION_REFRESH_TIME 32
#define TERN_DHCPV6_OPT_SOL_MAX_RT 82

/* Status codes (RFC 8415 section 21.13). */
#define TERN_DHCPV6_STATUS_SUCCESS 0
#define TERN_DHCPV6_STATUS_UNSPEC_FAIL 1
#define TERN_DHCPV6_STATUS_NO_ADDRS_AVAIL 2
#define TERN_DHCPV6_STATUS_NO_BINDING 3
#define TERN_DHCPV6_STATUS_NOT_ON_LINK 4
#define TERN_DHCPV6_STATUS_USE_MULTICAST 5

#define TERN_DHCPV6_DUID_MIN 2 /* the 2-byte type and nothing else */
#define TERN_DHCPV6_DUID_MAX                                                                       \
    130 /* section 11.1: "at most 128 octets (not including the type code)" */
#define TERN_DHCPV6_MAX_ADDRS 4
#define TERN_DHCPV6_MAX_DNS 4
#define TERN_DHCPV6_MAX_ORO 8
#define TERN_DHCPV6_INFINITY 0xffffffffu

/* Which options a representation carries. */
#define TERN_DHCPV6_HAS_CLIENTID (1u << 0)
#define TERN_DHCPV6_HAS_SERVERID (1u << 1)
#define TERN_DHCPV6_HAS_IA_NA (1u << 2)
#define TERN_DHCPV6_HAS_ORO (1u << 3)
#define TERN_DHCPV6_HAS_PREFERENCE (1u << 4)
#define TERN_DHCPV6_HAS_ELAPSED (1u << 5)
#define TERN_DHCPV6_HAS_STATUS (1u << 6)
#define TERN_DHCPV6_HAS_RAPID_COMMIT (1u << 7)
#define TERN_DHCPV6_HAS_DNS (1u << 8)
#define TERN_DHCPV6_HAS_DOMAINS (1u << 9)
#define TERN_DHCPV6_HAS_INFO_REFRESH (1u << 10)
#define TERN_DHCPV6_HAS_SOL_MAX_RT (1u << 11)
#define TERN_DHCPV6_HAS_IA_STATUS (1u << 12) /* a Status Code inside the IA_NA */

/* An IA Address option (section 21.6) and the status code it may carry. */
struct tern_dhcpv6_iaaddr {
    tern_addr addr;
    uint32_t preferred, valid; /* seconds; 0xffffffff: infinity */
    bool has_status;
    uint16_t status;
};

struct tern_dhcpv6_repr {
    uint8_t msg_type;
    uint32_t xid; /* 24 bits */
    uint32_t present;
    const uint8_t *client_id; /* the DUID */
    uint16_t client_id_len;
    const uint8_t *server_id;
    uint16_t server_id_len;
    uint8_t preference;
    uint16_t elapsed; /* hundredths of a second */
    uint16_t status;  /* the message's own Status Code */
    const uint8_t *status_msg;
    uint16_t status_msg_len;
    /* the first IA_NA */
    uint32_t iaid, t1, t2;
    uint16_t ia_status;
    struct tern_dhcpv6_iaaddr addrs[TERN_DHCPV6_MAX_ADDRS];
    uint8_t naddrs;
    /* Option Request (section 21.7): the codes asked for */
    uint16_t oro[TERN_DHCPV6_MAX_ORO];
    uint8_t n_oro;
    tern_addr dns[TERN_DHCPV6_MAX_DNS];
    uint8_t n_dns;
    const uint8_t *domains; /* RFC 3646 section 4: uncompressed names, as received */
    uint16_t domains_len;
    uint32_t info_refresh, sol_max_rt; /* seconds */
    /* parse only */
    uint16_t unknown;     /* options of other codes, skipped */
    uint16_t extra_ia;    /* IA_NA options after the first, skipped */
    uint16_t extra_addrs; /* IA Addresses past TERN_DHCPV6_MAX_ADDRS */
    uint16_t extra_dns;   /* DNS servers past TERN_DHCPV6_MAX_DNS */
};

/*
 * tern_dhcpv6_parse: parse buf[0..len) as a client/server message.
 * Returns TERN_OK; TERN_ERR_TRUNCATED, TERN_ERR_MALFORMED or
 * TERN_ERR_UNSUPPORTED as the rules above say (out is then unusable).
 */
tern_err tern_dhcpv6_parse(const uint8_t *buf, size_t len, struct tern_dhcpv6_repr *out);

/* tern_dhcpv6_emit_len: the bytes tern_dhcpv6_emit writes for r. */
size_t tern_dhcpv6_emit_len(const struct tern_dhcpv6_repr *r);

/*
 * tern_dhcpv6_emit: write r: the header, then in this order the options
 * present: Client Identifier, Server Identifier, IA_NA (its addresses, each
 * with its status when has_status; then the IA's status when
 * TERN_DHCPV6_HAS_IA_STATUS), Option Request, Preference, Elapsed Time,
 * Status Code, Rapid Commit, DNS servers, Domain List, Information Refresh
 * Time, SOL_MAX_RT.
 * Returns TERN_OK (*written set); TERN_ERR_BUFFER_TOO_SMALL (nothing
 * written); TERN_ERR_INVALID_ARGUMENT for a DUID outside 2..130 bytes,
 * more than TERN_DHCPV6_MAX_ADDRS / _MAX_DNS / _MAX_ORO entries, an address
 * that is not IPv6, or an xid over 24 bits.
 */
tern_err tern_dhcpv6_emit(const struct tern_dhcpv6_repr *r, uint8_t *buf, size_t cap,
                          size_t *written);

/*
 * tern_dhcpv6_domain_first: the first name of a Domain Search List (RFC
 * 3646 section 4, names in the uncompressed format of RFC 1035 section
 * 3.1) as dotted text, NUL-terminated, in out[0..cap).
 * Returns TERN_OK; TERN_ERR_MALFORMED for a label past the data, a
 * compression pointer, or a name longer than cap - 1 characters.
 */
tern_err tern_dhcpv6_domain_first(const uint8_t *list, size_t len, char *out, size_t cap);

#endif /* TERN_WIRE_DHCPV6_H */

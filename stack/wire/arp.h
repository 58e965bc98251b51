/*
 * ARP for IPv4 over Ethernet (RFC 826).
 *
 * Layout (28 bytes): hardware type (1 = Ethernet), protocol type (0x0800),
 * hardware length (6), protocol length (4), opcode, sender MAC, sender IPv4,
 * target MAC, target IPv4. Only this Ethernet/IPv4 combination is parsed;
 * bytes after the 28 (Ethernet padding) are ignored.
 */
#ifndef TERN_WIRE_ARP_H
#define TERN_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"

#define TERN_ARP_LEN 28
#define TERN_ARP_HTYPE_ETHERNET 1
#define TERN_ARP_OP_REQUEST 1 /* RFC 826 ares_op$REQUEST */
#define TERN_ARP_OP_REPLY 2   /* RFC 826 ares_op$REPLY */

/* One ARP packet (Ethernet hardware, IPv4 protocol). */
struct tern_arp_repr {
    uint16_t op;   /* any value is parsed; the ARP layer acts on 1 and 2 */
    tern_mac sha;  /* sender hardware address */
    tern_addr spa; /* sender protocol address (IPv4) */
    tern_mac tha;  /* target hardware address (zero in requests) */
    tern_addr tpa; /* target protocol address (IPv4) */
};

/*
 * tern_arp_parse: parse an ARP packet (the Ethernet payload).
 *   buf, len  the packet; bytes after the first 28 are ignored
 *   out       receives the fields
 * Returns TERN_OK; TERN_ERR_TRUNCATED when fewer than 28 bytes are present
 * (or fewer than 8, before the address lengths are known);
 * TERN_ERR_UNSUPPORTED when the hardware type is not Ethernet, the protocol
 * type not IPv4, or the address lengths not 6 and 4 (RFC 826 lets other
 * combinations exist; this stack speaks only this one).
 */
tern_err tern_arp_parse(const uint8_t *buf, size_t len, struct tern_arp_repr *out);

/*
 * tern_arp_emit: write the 28-byte packet for r.
 *   r        the packet; r->spa and r->tpa must be IPv4
 *   buf,cap  output buffer
 *   written  receives 28
 * Returns TERN_OK, TERN_ERR_BUFFER_TOO_SMALL when cap < 28, or
 * TERN_ERR_INVALID_ARGUMENT when an address is not IPv4 (nothing written).
 */
tern_err tern_arp_emit(const struct tern_arp_repr *r, uint8_t *buf, size_t cap, size_t *written);

#endif /* TERN_WIRE_ARP_H */

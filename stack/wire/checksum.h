/*
 * The Internet checksum (RFC 1071) and the pseudo-headers of UDP and TCP.
 *
 * The checksum is the 16-bit one's complement of the one's complement sum of
 * the data taken as big-endian 16-bit words (a final odd byte is padded with
 * a zero byte on the right). The sum is accumulated incrementally (RFC 1071
 * section 2 (C)): start from 0 (or a pseudo-header sum), add chunks with
 * tern_csum_add, then complement with tern_csum_finish.
 *
 * A partial sum is a uint32_t holding a folded 16-bit value; any value
 * returned by these functions may be fed back into them.
 *
 * Verifying: the sum over a whole header or message that includes its own
 * checksum field folds to 0xffff exactly when the checksum is right, i.e.
 * tern_csum_finish(...) == 0.
 */
#ifndef TERN_WIRE_CHECKSUM_H
#define TERN_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"

/*
 * tern_csum_add: add len bytes at data to the partial sum, as if data[0]
 * were at an even offset of the checksummed stream. Every chunk but the last
 * must then have an even length; use tern_csum_add_at when a chunk may start
 * at an odd offset.
 *   sum   partial sum so far (0 to start)
 *   data  bytes to add (may be NULL when len is 0)
 *   len   number of bytes
 * Returns the new partial sum.
 */
uint32_t tern_csum_add(uint32_t sum, const uint8_t *data, size_t len);

/*
 * tern_csum_add_at: like tern_csum_add, for a chunk whose first byte sits at
 * offset `offset` of the checksummed stream. When the offset is odd, the
 * chunk's bytes fall in the low halves of the words, which RFC 1071 section
 * 2 (B) (byte order independence) handles by swapping the chunk's sum.
 */
uint32_t tern_csum_add_at(uint32_t sum, const uint8_t *data, size_t len, size_t offset);

/*
 * tern_csum_copy: copy len bytes from src to dst (which must not overlap) and
 * return their partial sum, tern_csum_add(0, src, len), taken in the same pass
 * (the copy-and-checksum of the BSDs: the bytes are read once).
 *   dst   where the bytes go (len bytes of room)
 *   src   the bytes (may be NULL when len is 0)
 *   len   number of bytes
 * Returns the partial sum of the bytes as if src[0] were at an even offset.
 */
uint32_t tern_csum_copy(uint8_t *dst, const uint8_t *src, size_t len);

/*
 * tern_csum_copy_at: tern_csum_copy for a chunk whose first byte sits at
 * offset `offset` of the checksummed stream (as tern_csum_add_at), added to
 * a partial sum: one pass copies the chunk and sums it.
 *   sum     partial sum so far (0 to start)
 *   dst     where the bytes go (len bytes of room, not overlapping src)
 *   src     the bytes (may be NULL when len is 0)
 *   len     number of bytes
 *   offset  position of src[0] in the checksummed stream (only its parity
 *           matters)
 * Returns the new partial sum.
 */
uint32_t tern_csum_copy_at(uint32_t sum, uint8_t *dst, const uint8_t *src, size_t len,
                           size_t offset);

/* tern_csum_add_u16: add one 16-bit value (host order) to the partial sum. */
uint32_t tern_csum_add_u16(uint32_t sum, uint16_t v);

/*
 * tern_csum_finish: the checksum field value for a partial sum: the one's
 * complement of the folded sum, in host order (store it with tern_put_u16).
 */
uint16_t tern_csum_finish(uint32_t sum);

/*
 * tern_csum: the checksum of one buffer: tern_csum_finish(tern_csum_add(0,
 * data, len)).
 */
uint16_t tern_csum(const uint8_t *data, size_t len);

/*
 * tern_csum_pseudo_v4: the partial sum of the IPv4 pseudo-header used by UDP
 * (RFC 768) and TCP (RFC 9293 section 3.1): source address, destination
 * address, a zero byte, the protocol, and the upper-layer length.
 *   src, dst  4-byte addresses in network order
 *   protocol  IP protocol number (6 TCP, 17 UDP)
 *   length    length of the UDP datagram or TCP segment, header included
 */
uint32_t tern_csum_pseudo_v4(const uint8_t src[4], const uint8_t dst[4], uint8_t protocol,
                             uint16_t length);

/*
 * tern_csum_pseudo: the pseudo-header partial sum for either family: the
 * IPv4 one above, or the IPv6 one of RFC 8200 section 8.1 (addresses, a
 * 32-bit length, three zero bytes, the next header).
 *   src, dst  addresses of the same family (IPv4 or IPv6)
 *   protocol  the upper-layer protocol number
 *   length    the upper-layer length (at most 65535 for IPv4)
 * Returns the partial sum; 0 when the families differ or are not IP (the
 * checksum then cannot verify, which is the safe outcome).
 */
uint32_t tern_csum_pseudo(const tern_addr *src, const tern_addr *dst, uint8_t protocol,
                          uint32_t length);

#endif /* TERN_WIRE_CHECKSUM_H */

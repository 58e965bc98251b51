/*
 * The checksums of a frame a Tern host sent, verified from its raw bytes
 * (issue 11: "every frame a Tern host sends has its IPv4, TCP, UDP and ICMP
 * checksums verified by the harness"). The host adapter (host.c) calls it on
 * every frame at the host's output, before any link can corrupt it on
 * purpose: only a frame the host itself got wrong fails.
 *
 * The one's-complement sum is written here again, not taken from stack/wire:
 * a verifier sharing the stack's checksum code would agree with its bugs.
 */
#ifndef TERN_SIM_FRAME_CHECK_H
#define TERN_SIM_FRAME_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * sim_frame_check: verify an Ethernet frame (one 802.1Q tag allowed).
 *   IPv4 (RFC 791 §3.1): the header checksum; then, for a datagram that is not
 *   a fragment, the TCP (RFC 9293 §3.1), UDP (RFC 768; zero means "none") or
 *   ICMP (RFC 792) checksum over the whole datagram. A fragment's transport
 *   checksum covers the reassembled datagram and is not checked; nor is
 *   anything in a frame that is not IPv4 (ARP has no checksum).
 * A frame that claims IPv4 but whose header does not fit (bad IHL, total
 * length beyond the frame) is reported too.
 *   why, cap  a one-line reason on failure ("TCP checksum 0x1234, should be 0x5678")
 * Returns true if the frame is correct (or not checkable), false otherwise.
 */
bool sim_frame_check(const uint8_t *frame, size_t len, char *why, size_t cap);

/*
 * sim_frame_check_copy: the same check, copying frame[0..len) to dst (which
 * has room for len bytes and does not overlap it) in the same pass: the
 * summed parts are written as they are summed, the rest copied around them.
 * dst holds the whole frame afterwards whatever the verdict.
 * Returns what sim_frame_check returns.
 */
bool sim_frame_check_copy(uint8_t *dst, const uint8_t *frame, size_t len, char *why, size_t cap);

#endif

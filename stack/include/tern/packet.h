/*
 * Packet sockets: raw Ethernet frames in and out of a Tern host, in the
 * manner of Linux's AF_PACKET (packet(7)) with SOCK_RAW.
 *
 * Receiving: a packet socket gets a copy of every frame the host takes in
 * (tern_stack_input, before any check: runts and frames for other MACs too,
 * as a NIC in promiscuous mode hands them up) and of every frame it sends
 * (TCP, UDP, ARP, ND... and the frames other packet sockets send, not its
 * own), that matches its interface and EtherType filters. Copies wait in the
 * socket's own queue of tern_stack_config.packet_queue frames; when it is
 * full the new frame's copy is dropped and counted (tern_packet_stats), the
 * stack's own processing never waits. A copy keeps at most packet_snaplen
 * bytes of its frame (meta.caplen), meta.len says how long the frame was.
 *
 * Sending: tern_packet_send queues a whole Ethernet frame (destination,
 * source, EtherType, payload; the source MAC is not checked, as on Linux);
 * the next tern_stack_poll sends it on the interface unchanged, padded with
 * zeros to the 60-byte minimum. The stack does not process what it sends
 * this way (a frame to the host's own MAC is not looped back).
 *
 * The sockets exist only when tern_stack_config.packet_sockets > 0 (0 by
 * default: no memory is spent). Handles are valid until tern_packet_close.
 */
#ifndef TERN_PACKET_H
#define TERN_PACKET_H

#ifndef TERN_CDEF
#include <stddef.h>
#include <stdint.h>

#include "tern/stack.h"
#endif

#define TERN_PACKET_ANY_IFACE 0xffffffffu /* every interface (open's iface) */
#define TERN_PACKET_ALL 0                 /* every EtherType (Linux's ETH_P_ALL) */
#define TERN_PACKET_TX_QUEUE 8            /* frames waiting to be sent, per socket */

/* Which way a frame went (tern_packet_meta.dir). */
enum tern_packet_dir {
    TERN_PACKET_IN = 0, /* received by the host (Linux's PACKET_HOST, BROADCAST...) */
    TERN_PACKET_OUT = 1 /* sent by the host (Linux's PACKET_OUTGOING) */
};

/* What tern_packet_recv says about a frame. */
typedef struct tern_packet_meta {
    uint64_t time;   /* virtual time the host took it in or sent it, ns */
    uint32_t iface;  /* the interface */
    uint8_t dir;     /* enum tern_packet_dir */
    uint32_t len;    /* the frame's length on the wire, bytes (with padding) */
    uint32_t caplen; /* bytes kept in the queue: min(len, packet_snaplen) */
} tern_packet_meta;

/*
 * tern_packet_open: a packet socket.
 *   iface      the interface it sees and sends on, or TERN_PACKET_ANY_IFACE
 *   ethertype  the EtherType it receives (the frame's outer one, 0x8100 for a
 *              tagged frame), or TERN_PACKET_ALL
 *   out        receives the handle
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (no such interface);
 * TERN_ERR_NO_BUFFER (all packet_sockets in use, or none configured).
 */
tern_err tern_packet_open(tern_stack *st, uint32_t iface, uint16_t ethertype, tern_sock *out);

/*
 * tern_packet_recv: take the oldest frame of the queue.
 *   buf, cap  receive min(cap, meta->caplen) bytes of it
 *   meta      receives its time, interface, direction and lengths (may be NULL)
 * Returns TERN_OK; TERN_ERR_WOULD_BLOCK (the queue is empty);
 * TERN_ERR_INVALID_ARGUMENT (not an open packet socket).
 */
tern_err tern_packet_recv(tern_stack *st, tern_sock s, uint8_t *buf, size_t cap,
                          tern_packet_meta *meta);

/* tern_packet_pending: frames waiting in the socket's queue (0 for a bad handle). */
uint32_t tern_packet_pending(const tern_stack *st, tern_sock s);

/*
 * tern_packet_send: queue one Ethernet frame for the next tern_stack_poll.
 *   iface  the interface; TERN_PACKET_ANY_IFACE: the socket's own (which must
 *          then be a single interface)
 *   frame  from the destination MAC on, len bytes
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (bad handle, no interface, len
 * below the 14-byte Ethernet header); TERN_ERR_MSG_TOO_LONG (beyond 14 bytes
 * of header + the interface MTU, + 4 for an 802.1Q tag, or beyond
 * packet_snaplen); TERN_ERR_WOULD_BLOCK (TERN_PACKET_TX_QUEUE frames already
 * wait).
 */
tern_err tern_packet_send(tern_stack *st, tern_sock s, uint32_t iface, const uint8_t *frame,
                          size_t len);

/*
 * tern_packet_stats: frames queued for the socket since it opened
 * (received) and copies dropped because its queue was full (dropped), as
 * Linux's PACKET_STATISTICS; either pointer may be NULL.
 * Returns TERN_OK or TERN_ERR_INVALID_ARGUMENT (not an open packet socket).
 */
tern_err tern_packet_stats(const tern_stack *st, tern_sock s, uint64_t *received,
                           uint64_t *dropped);

/* tern_packet_close: close the socket; its queues are discarded. TERN_OK or
 * TERN_ERR_INVALID_ARGUMENT. */
tern_err tern_packet_close(tern_stack *st, tern_sock s);

#endif /* TERN_PACKET_H */

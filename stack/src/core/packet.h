/*
 * Packet sockets inside the stack (tern/packet.h): the hook the Ethernet input
 * and output paths call, and the queued raw frames sent at poll. Private to the
 * stack (core/).
 */
#ifndef TERN_CORE_PACKET_H
#define TERN_CORE_PACKET_H

#include "core/stack_internal.h"
#include "tern/packet.h"

typedef struct tern_packet_sock tern_packet_sock;

/* Memory for cfg->packet_sockets sockets and their queues. */
size_t tern_packet_memory_size(const tern_stack_config *cfg);
/* Lay the sockets out in `mem` (tern_packet_memory_size bytes). */
void tern_packet_init(tern_stack *st, uint8_t *mem);
/*
 * A frame went in (dir TERN_PACKET_IN) or out (TERN_PACKET_OUT) of interface
 * iface at `now`: a copy to each open socket it matches, except `from` (the
 * sending packet socket, or NULL).
 */
void tern_packet_tap(tern_stack *st, uint64_t now, uint32_t iface, uint8_t dir,
                     const uint8_t *frame, size_t len, const tern_packet_sock *from);
/* Send the queued raw frames (within the call's frame budget). */
void tern_packet_poll(tern_stack *st, uint64_t now);
/* Raw frames wait to be sent: poll now. */
bool tern_packet_has_output(const tern_stack *st);

#endif /* TERN_CORE_PACKET_H */

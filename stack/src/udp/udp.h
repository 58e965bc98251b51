/*
 * The UDP layer's private header (udp/): UDP and ping (ICMP echo) sockets,
 * as the other layers of the stack see them.
 */
#ifndef TERN_UDP_H
#define TERN_UDP_H

#include "core/stack_internal.h"

/* ---- UDP and ping sockets ------------------------------------------------- */

/* UDP input, over either family: ip->payload is the UDP datagram (checksum not yet verified). */
void tern_udp_input(tern_stack *st, uint64_t now, const tern_ip_rx *ip);
/* An ICMP or ICMPv6 error about a datagram we sent: `quoted` its IP header, `l4` its first bytes.
 */
void tern_udp_icmp_error(tern_stack *st, uint64_t now, const tern_sock_error *err,
                         const tern_ip_rx *quoted, const uint8_t *l4, size_t l4_len);
void tern_udp_poll(tern_stack *st, uint64_t now);
bool tern_udp_has_output(const tern_stack *st);
void tern_ping_poll(tern_stack *st, uint64_t now);
/* An echo reply arrived: queue it on the ping socket of `ident` (if any). */
void tern_ping_deliver_reply(tern_stack *st, uint64_t now, const tern_addr *src,
                             const tern_addr *dst, uint8_t ttl, uint16_t ident, uint16_t seq,
                             const uint8_t *payload, size_t len);
/* An ICMP error quoting one of our echo requests with identifier `ident`. */
void tern_ping_deliver_error(tern_stack *st, uint16_t ident, const tern_sock_error *e);
bool tern_ping_has_output(const tern_stack *st);

/* ---- memory, ports ------------------------------------------------------------------- */

size_t tern_udp_memory_size(const tern_stack_config *cfg);
void tern_udp_init(tern_stack *st, uint8_t *mem);
size_t tern_ping_memory_size(const tern_stack_config *cfg);
void tern_ping_init(tern_stack *st, uint8_t *mem);

/* Is s an open UDP socket? */
bool tern_udp_is_open(const tern_stack *st, tern_sock s);
/* Is a local UDP port in use? */
bool tern_udp_port_in_use(const tern_stack *st, uint16_t port);

#endif /* TERN_UDP_H */

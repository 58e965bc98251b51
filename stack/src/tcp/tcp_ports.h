/*
 * The TCP port-owner table: how many sockets own each local port (bound by
 * tern_tcp_bind or given an ephemeral port by connect), sized by the number
 * of sockets rather than by the port space (issue 19: the former
 * 65536-counter array was 256 KB in every instance, a host of three sockets
 * included).
 *
 * An open-addressing table with linear probing of (port, count) entries: at
 * most one entry per owned port, and no more owned ports than sockets, so a
 * capacity of the power of two at or above twice the sockets (16 at least)
 * keeps it at most half full. The slot is the port's low bits, so at the
 * largest capacity (65536 entries, from 32768 sockets on) every port has its
 * own slot and nothing ever probes. An entry whose count falls to 0 is removed
 * by shifting the following entries of its run back (Knuth's deletion for
 * linear probing, no tombstones), so a lookup never walks more than the run
 * its port hashes into.
 */
#ifndef TERN_TCP_PORTS_H
#define TERN_TCP_PORTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct tcp_port_entry {
    uint16_t port;
    uint16_t pad;
    uint32_t count; /* sockets owning port; 0: the slot is empty */
} tcp_port_entry;

typedef struct tcp_ports {
    tcp_port_entry *e;
    uint32_t mask; /* capacity - 1 */
} tcp_ports;

/* Entries of the table for nsock sockets: a power of two >= 2 * nsock, 16..65536. */
uint32_t tcp_ports_capacity(uint32_t nsock);
/* Bytes of the table for nsock sockets. */
size_t tcp_ports_memory_size(uint32_t nsock);
/* Lay an empty table for nsock sockets out in mem (tcp_ports_memory_size bytes). */
void tcp_ports_init(tcp_ports *t, void *mem, uint32_t nsock);
/* How many sockets own port. */
uint32_t tcp_ports_owners(const tcp_ports *t, uint16_t port);
/* One more socket owns port (the caller owns at most one port per socket, so it never fills). */
void tcp_ports_own(tcp_ports *t, uint16_t port);
/* A socket that owned port no longer does (port must be owned). */
void tcp_ports_disown(tcp_ports *t, uint16_t port);

#endif /* TERN_TCP_PORTS_H */

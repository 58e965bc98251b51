/*
 * The TCP port-owner table (tcp_ports.h): an open-addressing table of
 * (port, count) entries sized by the sockets, not by the port space.
 */
#include "tcp_ports.h"

#include <stdbool.h>
#include <string.h>

uint32_t tcp_ports_capacity(uint32_t nsock) {
    uint32_t cap = 16;
    while (cap < 65536u && cap < 2u * nsock) {
        cap <<= 1;
    }
    return cap;
}

size_t tcp_ports_memory_size(uint32_t nsock) {
    return (size_t)tcp_ports_capacity(nsock) * sizeof(tcp_port_entry);
}

void tcp_ports_init(tcp_ports *t, void *mem, uint32_t nsock) {
    uint32_t cap = tcp_ports_capacity(nsock);
    t->e = mem;
    t->mask = cap - 1;
    memset(t->e, 0, (size_t)cap * sizeof(tcp_port_entry));
}

/* The slot holding port, or the empty slot that ends its run (the table is never full). */
static uint32_t find(const tcp_ports *t, uint16_t port) {
    uint32_t i = port & t->mask;
    while (t->e[i].count != 0 && t->e[i].port != port) {
        i = (i + 1) & t->mask;
    }
    return i;
}

uint32_t tcp_ports_owners(const tcp_ports *t, uint16_t port) {
    return t->e[find(t, port)].count;
}

void tcp_ports_own(tcp_ports *t, uint16_t port) {
    tcp_port_entry *x = &t->e[find(t, port)];
    x->port = port;
    x->count++;
}

void tcp_ports_disown(tcp_ports *t, uint16_t port) {
    uint32_t i = find(t, port);
    if (t->e[i].count == 0) {
        return; /* not owned: nothing to undo */
    }
    if (--t->e[i].count != 0) {
        return;
    }
    /* Empty slot i, then move back every later entry of the run that may not stay behind the
     * hole: an entry at j belongs at home h; it can fill the hole at i unless h lies cyclically
     * in (i, j], where a lookup starting at h would never pass i. */
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        if (t->e[j].count == 0) {
            break;
        }
        uint32_t h = t->e[j].port & t->mask;
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
            t->e[i] = t->e[j];
            t->e[j].count = 0;
            i = j;
        }
    }
    t->e[i].count = 0;
}

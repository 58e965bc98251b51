/* What lwIP calls in the Tern port (port/tern_port.c), and what the adapter sets there. */
#ifndef TERN_LWIP_PORT_H
#define TERN_LWIP_PORT_H

#include <stdint.h>

/* The next number of the instance's generator (xorshift64*, seeded from the simulation seed). */
uint32_t tern_lwip_rand(void);

#endif

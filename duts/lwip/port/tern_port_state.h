/* The port's globals the adapter writes (inside the swapped instance state). */
#ifndef TERN_LWIP_PORT_STATE_H
#define TERN_LWIP_PORT_STATE_H

#include <stdint.h>

extern uint32_t tern_lwip_now_ms;
extern uint64_t tern_lwip_rand_state;

#endif

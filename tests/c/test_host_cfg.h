/* The configuration of one IPv4 host as the C tests' small simulated networks use it. */
#ifndef TERN_TEST_HOST_CFG_H
#define TERN_TEST_HOST_CFG_H

#include <stdint.h>
#include <string.h>

#include "tern/stack.h"

/*
 * The stack's defaults (tern_stack_config_default, its random source seeded with seed) and one
 * interface: MAC 02:00:00:00:mac4:last, address 10.0.0.last/24. A test sets what else it needs
 * (buffers, options, callbacks) afterwards.
 */
static inline void test_host_cfg_v4(tern_stack_config *c, uint64_t seed, uint8_t mac4,
                                    uint8_t last) {
    tern_stack_config_default(c, seed);
    c->niface = 1;
    uint8_t mac[6] = {0x02, 0, 0, 0, mac4, last};
    memcpy(c->iface[0].mac, mac, 6);
    c->iface[0].naddrs = 1;
    c->iface[0].addr[0] = tern_addr_v4(10, 0, 0, last);
    c->iface[0].prefix_len[0] = 24;
}

#endif

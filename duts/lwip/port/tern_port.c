/*
 * The lwIP port of the Tern DUT: time and randomness. Compiled with lwIP itself, so its globals are
 * part of the instance state the adapter swaps (docs/lwip.md): each instance has its own clock and
 * its own generator.
 */
#include "lwip/opt.h"
#include "lwip/sys.h"

#include "tern_port_state.h"

/* Virtual time in ms, set by the adapter from the simulator's now before it calls into lwIP. */
uint32_t tern_lwip_now_ms;
/* The generator's state (never 0). */
uint64_t tern_lwip_rand_state = 0x9e3779b97f4a7c15ull;

u32_t sys_now(void) {
    return tern_lwip_now_ms;
}

uint32_t tern_lwip_rand(void) {
    /* xorshift64* (Vigna 2014): deterministic from the seed. */
    uint64_t x = tern_lwip_rand_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    tern_lwip_rand_state = x;
    return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

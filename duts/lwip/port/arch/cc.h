/*
 * lwIP's architecture header for the Tern DUT: 64-bit Linux, little-endian, <stdint.h> types.
 * An lwIP assertion (a bug inside lwIP, or in how it is driven) is reported on stderr and counted
 * (tern_lwip_assertions): the simulation keeps running, and the Python DUT fails the scenario.
 */
#ifndef TERN_LWIP_CC_H
#define TERN_LWIP_CC_H

#include <stdio.h>
#include <stdlib.h>

#define LWIP_NO_STDINT_H 0
#define LWIP_NO_INTTYPES_H 0
#define LWIP_NO_LIMITS_H 0
#define LWIP_NO_CTYPE_H 0

void tern_lwip_assert(const char *msg, const char *file, int line);

#define LWIP_PLATFORM_DIAG(x)                                                                      \
    do {                                                                                           \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x) tern_lwip_assert((x), __FILE__, __LINE__)

#endif

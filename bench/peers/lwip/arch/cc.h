/* lwIP's architecture header for the benchmark: 64-bit Linux, <stdint.h> types; an lwIP assertion
 * ends the run (a benchmark of a misbehaving stack is no figure). */
#ifndef BENCH_LWIP_CC_H
#define BENCH_LWIP_CC_H

#include <stdio.h>
#include <stdlib.h>

#define LWIP_PLATFORM_DIAG(x)                                                                      \
    do {                                                                                           \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                                    \
    do {                                                                                           \
        fprintf(stderr, "bench-lwip: lwIP assertion \"%s\" at %s:%d\n", (x), __FILE__, __LINE__);  \
        abort();                                                                                   \
    } while (0)

#endif

/*
 * Tern's bulk TCP benchmark (bench/bench_tcp.c, tcp_bulk_gbps) written for lwIP: two lwIP instances
 * (bench_lwip.h) in one process joined by an in-memory Ethernet link, MTU 1500, checksums computed
 * and verified by lwIP, one connection carrying `bytes` of the same stream pattern as Tern's, every
 * received byte compared with it.
 *
 * Usage: bench-lwip-<size> [BYTES]   (default 400 MiB; TERN_BENCH_BYTES also sets it). The socket
 * buffer size is lwIP's compile-time TCP_WND / TCP_SND_BUF, so there is one program per size.
 * Prints `BENCH tcp_bulk_gbps_lwip_<size> <value> Gbit/s`: payload bits over the process CPU
 * seconds the transfer took (CLOCK_PROCESS_CPUTIME_ID, as bench_tcp does).
 *
 * The application wakes every 50 us of virtual time, as in bench_tcp: it writes what the send
 * buffer takes, reads what has arrived into a 1 MiB buffer of its own, and the link delivers frames
 * until it is quiet.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_lwip.h"

extern const bench_lwip_api bench_lwip_a, bench_lwip_b;

#define STREAM_PERIOD (1u << 20)
static uint8_t stream[STREAM_PERIOD];
static uint8_t sink[1u << 20];

/* One direction of the link: a ring of frame slots (a full window of frames fits). */
#define SLOTS 4096
#define SLOT_BYTES 1536
typedef struct ring {
    uint32_t head, tail; /* head: next to deliver; tail: next free */
    uint16_t len[SLOTS];
    uint8_t frame[SLOTS][SLOT_BYTES];
} ring;
static ring to_a, to_b;

static uint8_t *ring_tx(void *ctx, size_t len) {
    ring *r = ctx;
    if (len > SLOT_BYTES || r->tail - r->head == SLOTS) {
        fprintf(stderr, "bench-lwip: a frame of %zu bytes found the link full or too small\n", len);
        exit(1);
    }
    uint32_t i = r->tail++ % SLOTS;
    r->len[i] = (uint16_t)len;
    return r->frame[i];
}

static int ring_deliver(ring *r, const bench_lwip_api *to) {
    if (r->head == r->tail)
        return 0;
    uint32_t i = r->head++ % SLOTS;
    to->input(r->frame[i], r->len[i]);
    return 1;
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    const char *arg = argc > 1 ? argv[1] : getenv("TERN_BENCH_BYTES");
    uint64_t bytes = 400ull << 20;
    if (arg) {
        char *end;
        bytes = strtoull(arg, &end, 10);
        if (*end || bytes == 0) {
            fprintf(stderr, "bench-lwip: BYTES must be a positive number of bytes, not \"%s\"\n",
                    arg);
            return 2;
        }
    }
    for (uint32_t i = 0; i < STREAM_PERIOD; i++)
        stream[i] = (uint8_t)((i * 2654435761u) >> 13 ^ i >> 8); /* bench_tcp.c's make_stream */

    const bench_lwip_api *a = &bench_lwip_a, *b = &bench_lwip_b;
    a->init(1, ring_tx, &to_b);
    b->init(2, ring_tx, &to_a);
    if (b->listen(5001) || a->connect(2, 5001)) {
        fprintf(stderr, "bench-lwip: lwIP refused to listen or connect\n");
        return 1;
    }
    uint64_t sent = 0, got = 0, now_us = 0;
    double c0 = cpu_seconds();
    while (got < bytes) {
        while (sent < bytes) {
            size_t at = (size_t)(sent % STREAM_PERIOD), n = STREAM_PERIOD - at;
            if (bytes - sent < n)
                n = (size_t)(bytes - sent);
            size_t w = a->send(stream + at, n);
            if (!w)
                break;
            sent += w;
        }
        size_t n;
        while ((n = b->recv(sink, sizeof sink)) > 0) {
            for (size_t done = 0; done < n;) {
                size_t at = (size_t)((got + done) % STREAM_PERIOD);
                size_t k = n - done < STREAM_PERIOD - at ? n - done : STREAM_PERIOD - at;
                if (memcmp(sink + done, stream + at, k) != 0) {
                    size_t i = 0;
                    while (sink[done + i] == stream[at + i])
                        i++;
                    fprintf(stderr,
                            "bench-lwip: byte %llu of the stream arrived as 0x%02x, sent as "
                            "0x%02x\n",
                            (unsigned long long)(got + done + i), sink[done + i], stream[at + i]);
                    return 1;
                }
                done += k;
            }
            got += n;
        }
        while (ring_deliver(&to_b, b) | ring_deliver(&to_a, a)) {
        }
        now_us += 50;
        a->timers((uint32_t)(now_us / 1000));
        b->timers((uint32_t)(now_us / 1000));
        if (now_us > 100000ull * 1000000ull) {
            fprintf(stderr, "bench-lwip: the transfer did not finish (%llu of %llu bytes)\n",
                    (unsigned long long)got, (unsigned long long)bytes);
            return 1;
        }
    }
    double cpu = cpu_seconds() - c0;
    if (BENCH_BUF % (1 << 20) == 0)
        printf("BENCH tcp_bulk_gbps_lwip_%dm %.2f Gbit/s\n", BENCH_BUF >> 20,
               (double)bytes * 8 / cpu / 1e9);
    else
        printf("BENCH tcp_bulk_gbps_lwip_%dk %.2f Gbit/s\n", BENCH_BUF >> 10,
               (double)bytes * 8 / cpu / 1e9);
    return 0;
}

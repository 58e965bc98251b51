/*
 * One lwIP instance of the bulk benchmark, as the driver (main.c) sees it. lwIP keeps its state in
 * globals, so each instance is lwIP and glue.c linked into one relocatable object whose only global
 * symbol is its bench_lwip_api (renamed bench_lwip_a / bench_lwip_b by the Makefile): two
 * independent stacks in one process, with no state to swap between calls.
 */
#ifndef BENCH_LWIP_H
#define BENCH_LWIP_H

#include <stddef.h>
#include <stdint.h>

/* Where an instance's frames go: a buffer of len bytes that the instance fills at once, queued on
 * the link towards the other instance. */
typedef uint8_t *(*bench_lwip_tx_fn)(void *ctx, size_t len);

typedef struct bench_lwip_api {
    /* Bring the instance up: MAC 02:00:00:00:00:last, 10.0.0.last/24, MTU 1500, frames to tx. */
    void (*init)(uint8_t last, bench_lwip_tx_fn tx, void *ctx);
    /* A frame from the link: copied into a pool pbuf and given to ethernet_input. */
    void (*input)(const uint8_t *frame, size_t len);
    /* Virtual time now_ms: lwIP's timers that are due run. */
    void (*timers)(uint32_t now_ms);
    /* A listener on port; 0, or -1 if lwIP refused. */
    int (*listen)(uint16_t port);
    /* Connect to 10.0.0.last:port; 0, or -1 if lwIP refused. */
    int (*connect)(uint8_t last, uint16_t port);
    /* Queue up to len bytes (tcp_write copies them) and send what the window allows: how many. */
    size_t (*send)(const uint8_t *data, size_t len);
    /* Copy up to cap received bytes out, and open the window by as many (tcp_recved): how many. */
    size_t (*recv)(uint8_t *out, size_t cap);
} bench_lwip_api;

#endif

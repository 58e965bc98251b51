/*
 * A segment-level harness for the TCP tests: one tern_stack driven directly
 * (no simulator), its output frames captured, and a scripted peer at
 * 10.0.0.2 (MAC ...:02) that sends TCP segments built with the wire layer.
 * Time is whatever the test says: h.now.
 */
#ifndef TERN_TEST_TCP_HARNESS_H
#define TERN_TEST_TCP_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tern/stack.h"
#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define H_MAX_FRAMES 4096

static const uint8_t H_HOST_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t H_PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};

typedef struct h_frame {
    uint64_t time;
    size_t len;
    uint8_t *data;
} h_frame;

typedef struct harness {
    tern_stack *st;
    void *mem;
    uint64_t now;
    h_frame frames[H_MAX_FRAMES];
    size_t nframes, next; /* captured, and the next one to look at */
    tern_addr host, peer;
} harness;

/* A parsed TCP segment the host sent. */
typedef struct h_seg {
    struct tern_ipv4_repr ip;
    struct tern_tcp_repr tcp;
    uint64_t time;
    uint8_t payload[9000];
} h_seg;

static inline void h_output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    (void)iface;
    harness *h = ctx;
    if (h->nframes >= H_MAX_FRAMES) {
        /* drop the oldest looked-at frames */
        for (size_t i = 0; i < h->next; i++)
            free(h->frames[i].data);
        memmove(h->frames, h->frames + h->next, (h->nframes - h->next) * sizeof(h_frame));
        h->nframes -= h->next;
        h->next = 0;
        if (h->nframes >= H_MAX_FRAMES)
            return;
    }
    h_frame *f = &h->frames[h->nframes++];
    f->time = h->now;
    f->len = len;
    f->data = malloc(len);
    memcpy(f->data, frame, len);
}

static inline void h_cfg_default(tern_stack_config *cfg) {
    tern_stack_config_default(cfg, 42);
    cfg->niface = 1;
    memcpy(cfg->iface[0].mac, H_HOST_MAC, 6);
    cfg->iface[0].naddrs = 1;
    cfg->iface[0].addr[0] = tern_addr_v4(10, 0, 0, 1);
    cfg->iface[0].prefix_len[0] = 24;
    cfg->arp_timeout_ns = 1000000 * SEC; /* the peer's MAC stays known */
    cfg->tcp.sack = true;
    cfg->tcp.timestamps = true;
    cfg->tcp.window_scaling = true;
}

static inline void h_send_eth(harness *h, uint16_t type, const uint8_t *payload, size_t len);

static inline void h_init_cfg(harness *h, tern_stack_config *cfg) {
    memset(h, 0, sizeof *h);
    cfg->output = h_output;
    cfg->output_ctx = h;
    size_t sz = tern_stack_memory_size(cfg);
    CHECK(sz > 0);
    h->mem = aligned_alloc(64, (sz + 63) & ~(size_t)63);
    char msg[256];
    tern_err e = tern_stack_init(h->mem, sz, cfg, &h->st, msg, sizeof msg);
    if (e)
        fprintf(stderr, "init: %s\n", msg);
    CHECK(e == TERN_OK);
    h->host = tern_addr_v4(10, 0, 0, 1);
    h->peer = tern_addr_v4(10, 0, 0, 2);
    /* teach the host the peer's MAC: an ARP request from the peer for us */
    struct tern_arp_repr a;
    memset(&a, 0, sizeof a);
    a.op = 1;
    memcpy(a.sha.b, H_PEER_MAC, 6);
    a.spa = h->peer;
    a.tpa = h->host;
    uint8_t buf[64];
    size_t w;
    CHECK(tern_arp_emit(&a, buf, sizeof buf, &w) == TERN_OK);
    h->now = 1 * MS;
    h_send_eth(h, TERN_ETHERTYPE_ARP, buf, w);
    h->next = h->nframes; /* forget the ARP reply */
}

static inline void h_init(harness *h) {
    tern_stack_config cfg;
    h_cfg_default(&cfg);
    h_init_cfg(h, &cfg);
}

static inline void h_free(harness *h) {
    for (size_t i = 0; i < h->nframes; i++)
        free(h->frames[i].data);
    free(h->mem);
}

static inline void h_send_eth(harness *h, uint16_t type, const uint8_t *payload, size_t len) {
    static uint8_t frame[70000];
    struct tern_eth_repr e;
    memset(&e, 0, sizeof e);
    memcpy(e.dst.b, H_HOST_MAC, 6);
    memcpy(e.src.b, H_PEER_MAC, 6);
    e.ethertype = type;
    e.payload = payload;
    e.payload_len = len;
    size_t w;
    CHECK(tern_eth_emit(&e, frame, sizeof frame, &w) == TERN_OK);
    if (w < 60) {
        memset(frame + w, 0, 60 - w);
        w = 60;
    }
    tern_stack_input(h->st, h->now, 0, frame, w);
}

/* Send raw TCP bytes (already a full segment) from the peer. */
static inline void h_send_raw_tcp(harness *h, const uint8_t *seg, size_t len) {
    static uint8_t buf[70000];
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.protocol = TERN_IPPROTO_TCP;
    ip.src = h->peer;
    ip.dst = h->host;
    ip.payload = seg;
    ip.payload_len = len;
    size_t w;
    CHECK(tern_ipv4_emit(&ip, buf, sizeof buf, &w) == TERN_OK);
    h_send_eth(h, TERN_ETHERTYPE_IPV4, buf, w);
}

/* Send a TCP segment from the peer. */
static inline void h_send(harness *h, const struct tern_tcp_repr *r) {
    static uint8_t seg[70000];
    size_t w;
    CHECK(tern_tcp_emit(r, &h->peer, &h->host, seg, sizeof seg, &w) == TERN_OK);
    h_send_raw_tcp(h, seg, w);
}

/* A segment template from peer port pport to host port hport. */
static inline struct tern_tcp_repr h_mk(uint16_t pport, uint16_t hport, uint32_t seq, uint32_t ack,
                                        uint8_t flags, uint16_t window) {
    struct tern_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.src_port = pport;
    r.dst_port = hport;
    r.seq = seq;
    r.ack = ack;
    r.flags = flags;
    r.window = window;
    return r;
}

/* The peer's pure ACK of everything below `ack` (window 65535), with one SACK
 * block [l, r) unless l == r. */
static inline void h_send_ack_sack(harness *h, uint16_t pport, uint16_t hport, uint32_t seq,
                                   uint32_t ack, uint32_t l, uint32_t r) {
    struct tern_tcp_repr a = h_mk(pport, hport, seq, ack, TERN_TCP_ACK, 65535);
    if (l != r) {
        a.opt.sack_count = 1;
        a.opt.sack[0] = (struct tern_tcp_sack_block){l, r};
    }
    h_send(h, &a);
}

/* Run the stack's timers up to time t (inclusive), polling at each deadline. */
static inline void h_run_until(harness *h, uint64_t t) {
    for (int guard = 0; guard < 100000; guard++) {
        uint64_t at = tern_stack_poll_at(h->st);
        if (at > t)
            break;
        if (at > h->now)
            h->now = at;
        tern_stack_poll(h->st, h->now);
    }
    if (t > h->now)
        h->now = t;
}

/* Poll now (socket calls queue until a poll). */
static inline void h_poll(harness *h) {
    h_run_until(h, h->now);
}

/* The next TCP segment the host sent, if any. */
static inline bool h_next(harness *h, h_seg *out) {
    while (h->next < h->nframes) {
        h_frame *f = &h->frames[h->next++];
        struct tern_eth_repr e;
        if (tern_eth_parse(f->data, f->len, &e) != TERN_OK || e.ethertype != TERN_ETHERTYPE_IPV4)
            continue;
        if (tern_ipv4_parse(e.payload, e.payload_len, &out->ip) != TERN_OK ||
            out->ip.protocol != TERN_IPPROTO_TCP)
            continue;
        CHECK(tern_tcp_parse(out->ip.payload, out->ip.payload_len, &out->ip.src, &out->ip.dst,
                             &out->tcp) == TERN_OK);
        out->time = f->time;
        size_t n =
            out->tcp.payload_len < sizeof out->payload ? out->tcp.payload_len : sizeof out->payload;
        memcpy(out->payload, out->tcp.payload, n);
        out->tcp.payload = out->payload;
        return true;
    }
    return false;
}

/* How many frames are waiting. */
static inline size_t h_pending(const harness *h) {
    return h->nframes - h->next;
}

static inline tern_tcp_info h_info(harness *h, tern_sock s) {
    tern_tcp_info i;
    memset(&i, 0, sizeof i);
    CHECK(tern_tcp_get_info(h->st, s, &i) == TERN_OK);
    return i;
}

#endif /* TERN_TEST_TCP_HARNESS_H */

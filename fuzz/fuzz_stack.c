/*
 * fuzz_stack: arbitrary frames into a configured Tern stack (DESIGN.md §7:
 * the stack survives any frame, reads nothing out of bounds, does bounded
 * work, and everything it sends is well-formed).
 *
 * The input is a sequence of records:
 *   byte 0     bits 0-5: virtual time to advance before the frame, in units
 *              of 100 ms (so ARP retries, reassembly timeouts and TCP timers
 *              fire); bit 6: the interface (0 or 1); bit 7: poll after it
 *   bytes 1-2  frame length (big-endian), then the frame
 * The host has two interfaces (10.0.0.1/24 and fd00::1/64, 10.0.1.1/24; each
 * with its link-local IPv6 address), forwarding on, a
 * default route, a bound UDP socket (port 7) that echoes, a ping socket,
 * and whatever TCP listens on port 80 when TCP exists.
 *
 * Oracles: every frame the host sends parses (with valid IPv4 checksums; an
 * IPv6 packet's payload length matches the frame);
 * output and work per call are bounded, and the host does not livelock
 * (oracle.h: this is what finds a land SYN looping through the loopback).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "tern/stack.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"

static _Alignas(16) uint8_t memory[4 << 20];

/* Everything the stack sends must parse (a malformed frame of ours is a bug). */
static void check_output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    (void)ctx;
    oracle_count_frame();
    if (iface > 1 || len < 60 || len > 14 + 9000) {
        abort();
    }
    struct tern_eth_repr eth;
    if (tern_eth_parse(frame, len, &eth) != TERN_OK) {
        abort();
    }
    if (eth.ethertype == TERN_ETHERTYPE_IPV4) {
        struct tern_ipv4_repr ip;
        if (tern_ipv4_parse(eth.payload, eth.payload_len, &ip) != TERN_OK) {
            abort();
        }
    }
    if (eth.ethertype == TERN_ETHERTYPE_IPV6) {
        struct tern_ipv6_repr ip6;
        if (tern_ipv6_parse(eth.payload, eth.payload_len, &ip6) != TERN_OK ||
            (eth.payload_len > 46 && ip6.payload_len + 40u != eth.payload_len)) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, 1);
    cfg.niface = 2;
    cfg.forwarding = true;
    for (int i = 0; i < 2; i++) {
        uint8_t mac[6] = {0x02, 0, 0, 0, (uint8_t)i, 0x01};
        memcpy(cfg.iface[i].mac, mac, 6);
        cfg.iface[i].naddrs = 1;
        cfg.iface[i].addr[0] = tern_addr_v4(10, 0, (uint8_t)i, 1);
        cfg.iface[i].prefix_len[0] = 24;
    }
    cfg.iface[0].naddrs = 2;
    tern_addr_parse("fd00::1", &cfg.iface[0].addr[1]);
    cfg.iface[0].prefix_len[1] = 64;
    cfg.iface[1].mtu = 576;
    cfg.reasm_slots = 2;
    cfg.tcp_sockets = 4;
    cfg.tcp.rx_buffer = 4096;
    cfg.tcp.tx_buffer = 4096;
    cfg.output = check_output;
    tern_stack *st;
    oracle_reset();
    if (tern_stack_memory_size(&cfg) > sizeof memory ||
        tern_stack_init(memory, sizeof memory, &cfg, &st, NULL, 0) != TERN_OK) {
        abort();
    }
    tern_addr any = tern_addr_v4(0, 0, 0, 0), gw = tern_addr_v4(10, 0, 0, 254);
    tern_route_add(st, &any, 0, &gw, 0);
    tern_sock udp, ping, tcp;
    tern_udp_open(st, &udp);
    tern_udp_bind(st, udp, NULL, 7);
    tern_ping_open(st, 0x4242, &ping);
    if (tern_tcp_open(st, &tcp) == TERN_OK) {
        tern_tcp_bind(st, tcp, NULL, 80);
        tern_tcp_listen(st, tcp, 4);
    }
    uint64_t now = 0;
    size_t i = 0;
    int records = 0;
    while (i + 3 <= size && records < 64) {
        uint8_t flags = data[i];
        size_t len = ((size_t)data[i + 1] << 8) | data[i + 2];
        i += 3;
        if (len > size - i) {
            len = size - i;
        }
        now += (uint64_t)(flags & 0x3f) * 100000000ull;
        oracle_input(st, now, (flags >> 6) & 1, data + i, len);
        i += len;
        records++;
        /* Echo what the UDP socket got, so output paths run too. */
        uint8_t buf[2048];
        size_t got;
        tern_addr from;
        uint16_t port;
        while (tern_udp_recvfrom(st, udp, buf, sizeof buf, &got, &from, &port, NULL, NULL) ==
               TERN_OK) {
            tern_udp_sendto(st, udp, &from, port, buf, got < sizeof buf ? got : sizeof buf);
        }
        tern_sock conn;
        while (tern_tcp_accept(st, tcp, &conn) == TERN_OK) {
            tern_tcp_send(st, conn, buf, 100, &got);
            tern_tcp_close(st, conn);
        }
        if (flags & 0x80) {
            /* Run every deadline that is due, in bounded steps. */
            for (int k = 0; k < 16 && tern_stack_poll_at(st) <= now; k++) {
                oracle_poll(st, now);
            }
        }
    }
    /* Let every timer run out: bounded work even when nothing answers. */
    for (int k = 0; k < 200; k++) {
        uint64_t t = tern_stack_poll_at(st);
        if (t == TERN_NEVER) {
            break;
        }
        now = t > now ? t : now;
        oracle_poll(st, now);
    }
    return 0;
}

/*
 * fuzz_mdns: the multicast input paths of a configured Tern stack, with the
 * headers around the fuzzed bytes built right (so the fuzzer spends its time
 * in the IGMP host (ipv4/igmp.c), the mDNS responder and DNS-SD
 * (services/mdns.c) and the resolver's one-shot .local answers, not in
 * checksums).
 *
 * The input is a sequence of records:
 *   byte 0     bits 0-1: what the payload is: 0 an mDNS message to
 *              224.0.0.251:5353, 1 an IGMP message to 224.0.0.1, 2 an mDNS
 *              answer from port 5353 to the resolver's pending query port,
 *              3 an IGMP message to the joined group 239.1.2.3;
 *              bit 2: the mDNS source port is 5353 (else 40000, a legacy
 *              querier); bits 3-7: virtual time to advance first, in 50 ms
 *   bytes 1-2  payload length (big-endian), then the payload
 * The host (10.0.0.1/24) has a UDP socket that joined 239.1.2.3, an mDNS
 * responder for tern.local with the service "Web._http._tcp.local" (probed
 * and announced before the first record), and a one-shot query for
 * printer.local in flight.
 *
 * Oracles (oracle.h): every frame the host sends parses; output and work per
 * call are bounded; no livelock.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "tern/dns.h"
#include "tern/igmp.h"
#include "tern/mdns.h"
#include "tern/stack.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

static _Alignas(16) uint8_t memory[2 << 20];
static uint8_t frame[14 + 60 + 8 + 65536];

static void check_output(void *ctx, uint32_t iface, const uint8_t *f, size_t len) {
    (void)ctx;
    oracle_count_frame();
    struct tern_eth_repr eth;
    if (iface != 0 || len < 60 || tern_eth_parse(f, len, &eth) != TERN_OK) {
        abort();
    }
    if (eth.ethertype == TERN_ETHERTYPE_IPV4) {
        struct tern_ipv4_repr ip;
        if (tern_ipv4_parse(eth.payload, eth.payload_len, &ip) != TERN_OK) {
            abort();
        }
    }
}

/* Ethernet + IPv4 (+ UDP) around payload; returns the frame length or 0. */
static size_t build(const tern_addr *dst, uint8_t protocol, uint16_t sport, uint16_t dport,
                    const uint8_t *payload, size_t len) {
    tern_addr src = tern_addr_v4(10, 0, 0, 2);
    uint8_t *ip = frame + 14;
    uint8_t *l4 = ip + 20;
    size_t l4len = len;
    if (protocol == TERN_IPPROTO_UDP) {
        struct tern_udp_repr u = {
            .src_port = sport, .dst_port = dport, .payload = payload, .payload_len = len};
        if (tern_udp_emit(&u, &src, dst, l4, sizeof frame - 34, &l4len) != TERN_OK) {
            return 0;
        }
    } else {
        memcpy(l4, payload, len);
    }
    struct tern_ipv4_repr h;
    memset(&h, 0, sizeof h);
    h.ttl = 1;
    h.protocol = protocol;
    h.src = src;
    h.dst = *dst;
    h.payload = NULL; /* in place */
    h.payload_len = l4len;
    size_t w;
    if (tern_ipv4_emit(&h, ip, sizeof frame - 14, &w) != TERN_OK) {
        return 0;
    }
    const uint8_t dmac[6] = {0x01,          0x00,         0x5e, (uint8_t)(dst->bytes[1] & 0x7f),
                             dst->bytes[2], dst->bytes[3]};
    const uint8_t smac[6] = {0x02, 0, 0, 0, 0, 0x02};
    memcpy(frame, dmac, 6);
    memcpy(frame + 6, smac, 6);
    frame[12] = 0x08;
    frame[13] = 0x00;
    return 14 + w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, 1);
    cfg.niface = 1;
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x01};
    memcpy(cfg.iface[0].mac, mac, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = tern_addr_v4(10, 0, 0, 1);
    cfg.iface[0].prefix_len[0] = 24;
    cfg.tcp_sockets = 2;
    cfg.output = check_output;
    tern_stack *st;
    oracle_reset();
    if (tern_stack_memory_size(&cfg) > sizeof memory ||
        tern_stack_init(memory, sizeof memory, &cfg, &st, NULL, 0) != TERN_OK) {
        abort();
    }
    tern_sock udp;
    tern_addr group = tern_addr_v4(239, 1, 2, 3);
    if (tern_udp_open(st, &udp) != TERN_OK || tern_udp_bind(st, udp, NULL, 5000) != TERN_OK ||
        tern_udp_join(st, udp, &group, 0) != TERN_OK || tern_mdns_start(st, 0, "tern", 0) ||
        tern_mdns_add_service(st, "Web", "_http._tcp", 8080, (const uint8_t *)"\x06path=/", 7, 0) !=
            TERN_OK) {
        abort();
    }
    uint64_t now = 0;
    for (int k = 0; k < 64; k++) { /* probe and announce: about 2 s */
        uint64_t t = tern_stack_poll_at(st);
        if (t == TERN_NEVER) {
            break;
        }
        now = t > now ? t : now;
        oracle_poll(st, now);
    }
    tern_mdns_info info;
    tern_mdns_get_info(st, &info);
    if (info.state != TERN_MDNS_READY) {
        abort();
    }
    uint32_t qid;
    if (tern_dns_resolve(st, now, "printer.local", &qid) != TERN_OK) {
        abort();
    }
    oracle_poll(st, now);
    tern_addr mdns = tern_addr_v4(224, 0, 0, 251), all = tern_addr_v4(224, 0, 0, 1);
    size_t i = 0;
    int records = 0;
    while (i + 3 <= size && records < 32) {
        uint8_t flags = data[i];
        size_t len = ((size_t)data[i + 1] << 8) | data[i + 2];
        i += 3;
        if (len > size - i) {
            len = size - i;
        }
        now += (uint64_t)(flags >> 3) * 50000000ull;
        uint16_t sport = (flags & 4) ? 5353 : 40000;
        size_t n = 0;
        switch (flags & 3) {
        case 0:
            n = build(&mdns, TERN_IPPROTO_UDP, sport, 5353, data + i, len);
            break;
        case 1:
            n = build(&all, 2, 0, 0, data + i, len);
            break;
        case 2:
            n = build(&mdns, TERN_IPPROTO_UDP, 5353, st->dns.q[qid].port, data + i, len);
            break;
        default:
            n = build(&group, 2, 0, 0, data + i, len);
            break;
        }
        if (n) {
            oracle_input(st, now, 0, frame, n);
        }
        for (int k = 0; k < 16 && tern_stack_poll_at(st) <= now; k++) {
            oracle_poll(st, now);
        }
        i += len;
        records++;
    }
    for (int k = 0; k < 200; k++) { /* every timer runs out: bounded */
        uint64_t t = tern_stack_poll_at(st);
        if (t == TERN_NEVER) {
            break;
        }
        now = t > now ? t : now;
        oracle_poll(st, now);
    }
    tern_mdns_stop(st);
    oracle_poll(st, now);
    return 0;
}

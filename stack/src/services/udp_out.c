/*
 * UDP output for the services: a datagram in a frame built here (DHCP,
 * whose ends may have no address yet), or routed through tern_ip_send.
 */
#include <string.h>

#include "ipv4/ipv4.h"
#include "core/stack_internal.h"
#include "wire/ethernet.h"
#include "wire/udp.h"

static tern_addr v4(uint32_t a) {
    return tern_addr_v4((uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a);
}

void tern_services_send_udp(tern_stack *st, uint32_t iface, const uint8_t dst_mac[6], uint32_t src,
                            uint32_t dst, uint16_t sport, uint16_t dport, const uint8_t *payload,
                            size_t len) {
    uint8_t *ip = st->tx2 + TERN_ETH_HDR;
    size_t cap = sizeof st->tx2 - TERN_ETH_HDR;
    if (len > cap - 20 - TERN_UDP_HDR_LEN) {
        return;
    }
    tern_addr s = v4(src), d = v4(dst);
    struct tern_udp_repr u = {
        .src_port = sport, .dst_port = dport, .payload = payload, .payload_len = len};
    size_t w = 0;
    if (tern_udp_emit(&u, &s, &d, ip + 20, cap - 20, &w) != TERN_OK) {
        return;
    }
    struct tern_ipv4_repr h;
    memset(&h, 0, sizeof h);
    h.id = st->ip_id++;
    h.ttl = st->cfg.ttl;
    h.protocol = TERN_IPPROTO_UDP;
    h.src = s;
    h.dst = d;
    h.payload = NULL; /* in place after the 20-byte header */
    h.payload_len = w;
    size_t total = 0;
    if (tern_ipv4_emit(&h, ip, cap, &total) != TERN_OK) {
        return;
    }
    st->c.udp_out++;
    tern_eth_output(st, iface, dst_mac, TERN_ETHERTYPE_IPV4, ip, total);
}

void tern_services_send_udp_routed(tern_stack *st, uint64_t now, uint32_t src, uint32_t dst,
                                   uint16_t sport, uint16_t dport, const uint8_t *payload,
                                   size_t len) {
    tern_addr s = v4(src), d = v4(dst);
    uint8_t *p = tern_ip_tx_payload(st);
    struct tern_udp_repr u = {
        .src_port = sport, .dst_port = dport, .payload = payload, .payload_len = len};
    size_t w = 0;
    if (tern_udp_emit(&u, &s, &d, p, TERN_IP_PAYLOAD_MAX, &w) != TERN_OK) {
        return;
    }
    tern_ip_tx tx = {.src = s, .dst = d, .protocol = TERN_IPPROTO_UDP};
    if (tern_ip_send(st, now, &tx, w) == TERN_OK) {
        st->c.udp_out++;
    }
}

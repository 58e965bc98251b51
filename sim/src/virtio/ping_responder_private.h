/*
 * The ping responder's private parts (tern/sim_virtio.h), shared by its IPv4 side
 * (ping_responder.c: ARP, ICMP echo, the log) and its IPv6 side (ping_responder_ipv6.c: Neighbor
 * Discovery and ICMPv6 echo).
 */
#ifndef TERN_SIM_PING_RESPONDER_PRIVATE_H
#define TERN_SIM_PING_RESPONDER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sim_internal.h"
#include "tern/sim_virtio.h"

typedef struct pr_entry {
    sim_ping_record rec;
    char *text;
} pr_entry;

typedef struct responder {
    sim *s;
    sim_node_id id;
    uint8_t mac[6], ip[4];
    bool has_ip6; /* an IPv6 address was given (sim_ping_responder_set_ipv6) */
    uint8_t ip6[16];
    uint16_t ip_id; /* identification of the replies' fresh IPv4 headers */
    pr_entry *log;
    uint32_t log_limit, log_first, log_n;
    uint64_t logged; /* requests logged in all */
    sim_ping_counters c;
    uint8_t out[SIM_MAX_FRAME];
} responder;

static inline uint16_t rd16(const uint8_t *p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Add len bytes to a running RFC 1071 one's complement sum (an odd byte pads with zero: only the
 * last block of a sum may be odd), folded so that any number of calls cannot overflow. */
static inline uint32_t pr_sum_add(uint32_t sum, const uint8_t *p, size_t len) {
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += rd16(p + i);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

/* The checksum of a running sum: its one's complement (0 when a message with its checksum
 * verifies). */
static inline uint16_t pr_sum_final(uint32_t sum) {
    return (uint16_t)~sum;
}

/* Send len bytes of r->out on the port, padded to Ethernet's 60-byte minimum. */
void pr_send_frame(responder *r, size_t len);

/* Log one echo request (rec, and the IP packet as it arrived for the dump). */
void pr_log_request(responder *r, const sim_ping_record *rec, const uint8_t *ip, size_t ip_len);

/* An IPv6 frame (EtherType 0x86DD) of len bytes arrived at now. */
void pr_on_ipv6(responder *r, uint64_t now, const uint8_t *f, size_t len);

#endif /* TERN_SIM_PING_RESPONDER_PRIVATE_H */

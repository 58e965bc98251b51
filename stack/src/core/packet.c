/*
 * Packet sockets (tern/packet.h): copies of the frames in and out of the host,
 * each socket with its own bounded queue, and raw frames sent at poll. All
 * memory is the instance's (tern_packet_memory_size): per socket a header,
 * packet_queue receive slots and TERN_PACKET_TX_QUEUE send slots of
 * packet_snaplen bytes each.
 */
#include "core/packet.h"

#include <string.h>

#include "tern/packet.h"

/* One queued frame: its metadata, then snaplen bytes. */
typedef struct slot_hdr {
    tern_packet_meta meta;
} slot_hdr;

struct tern_packet_sock {
    bool used;
    uint8_t gen; /* handle generation: a closed socket's handle stays invalid */
    uint32_t iface;
    uint16_t ethertype;
    uint32_t rx_head, rx_count; /* ring of packet_queue slots */
    uint32_t tx_head, tx_count; /* ring of TERN_PACKET_TX_QUEUE slots */
    uint64_t received, dropped;
    uint8_t *rx; /* packet_queue x slot_size bytes */
    uint8_t *tx; /* TERN_PACKET_TX_QUEUE x slot_size bytes */
};

static size_t slot_size(const tern_stack_config *c) {
    size_t n = sizeof(slot_hdr) + c->packet_snaplen;
    return (n + 15) & ~(size_t)15;
}

static size_t sock_bytes(const tern_stack_config *c) {
    return slot_size(c) * ((size_t)c->packet_queue + TERN_PACKET_TX_QUEUE);
}

size_t tern_packet_memory_size(const tern_stack_config *cfg) {
    size_t head = ((size_t)cfg->packet_sockets * sizeof(tern_packet_sock) + 15) & ~(size_t)15;
    return head + (size_t)cfg->packet_sockets * sock_bytes(cfg);
}

void tern_packet_init(tern_stack *st, uint8_t *mem) {
    const tern_stack_config *c = &st->cfg;
    st->pkt = (tern_packet_sock *)mem;
    uint8_t *data = mem + ((c->packet_sockets * sizeof(tern_packet_sock) + 15) & ~(size_t)15);
    for (uint32_t i = 0; i < c->packet_sockets; i++) {
        st->pkt[i].rx = data + (size_t)i * sock_bytes(c);
        st->pkt[i].tx = st->pkt[i].rx + (size_t)c->packet_queue * slot_size(c);
    }
}

/* Handles: generation in bits 8..15, index + 1 in bits 0..7 (packet_sockets <= 64). */
static tern_sock handle_of(const tern_stack *st, const tern_packet_sock *p) {
    return (tern_sock)(((uint32_t)p->gen << 8) | (uint32_t)(p - st->pkt + 1));
}

static tern_packet_sock *sock_of(const tern_stack *st, tern_sock s) {
    uint32_t idx = s & 0xffu;
    if (idx == 0 || idx > st->npacket) {
        return NULL;
    }
    tern_packet_sock *p = &st->pkt[idx - 1];
    return p->used && p->gen == ((s >> 8) & 0xffu) ? p : NULL;
}

static uint16_t outer_ethertype(const uint8_t *frame, size_t len) {
    return len >= 14 ? (uint16_t)(frame[12] << 8 | frame[13]) : 0;
}

void tern_packet_tap(tern_stack *st, uint64_t now, uint32_t iface, uint8_t dir,
                     const uint8_t *frame, size_t len, const tern_packet_sock *from) {
    const tern_stack_config *c = &st->cfg;
    uint16_t type = outer_ethertype(frame, len);
    for (uint32_t i = 0; i < c->packet_sockets; i++) {
        tern_packet_sock *p = &st->pkt[i];
        if (!p->used || p == from || (p->iface != TERN_PACKET_ANY_IFACE && p->iface != iface) ||
            (p->ethertype != TERN_PACKET_ALL && (len < 14 || p->ethertype != type))) {
            continue;
        }
        if (p->rx_count == c->packet_queue) {
            p->dropped++; /* bounded: the copy is lost, the frame itself goes on */
            continue;
        }
        uint32_t k = (p->rx_head + p->rx_count) % c->packet_queue;
        uint8_t *slot = p->rx + (size_t)k * slot_size(c);
        slot_hdr h;
        h.meta.time = now;
        h.meta.iface = iface;
        h.meta.dir = dir;
        h.meta.len = (uint32_t)len;
        h.meta.caplen = (uint32_t)(len < c->packet_snaplen ? len : c->packet_snaplen);
        memcpy(slot, &h, sizeof h);
        memcpy(slot + sizeof h, frame, h.meta.caplen);
        p->rx_count++;
        p->received++;
    }
}

tern_err tern_packet_open(tern_stack *st, uint32_t iface, uint16_t ethertype, tern_sock *out) {
    if (iface != TERN_PACKET_ANY_IFACE && iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "packet_open: iface=%u: the host has %u",
                         iface, st->niface);
    }
    for (uint32_t i = 0; i < st->npacket; i++) {
        tern_packet_sock *p = &st->pkt[i];
        if (!p->used) {
            uint8_t gen = p->gen;
            uint8_t *rx = p->rx, *tx = p->tx;
            memset(p, 0, sizeof *p);
            p->gen = gen;
            p->rx = rx;
            p->tx = tx;
            p->used = true;
            p->iface = iface;
            p->ethertype = ethertype;
            *out = handle_of(st, p);
            return TERN_OK;
        }
    }
    return tern_fail(st, TERN_ERR_NO_BUFFER, "packet_open: all %u packet sockets in use",
                     st->cfg.packet_sockets);
}

tern_err tern_packet_recv(tern_stack *st, tern_sock s, uint8_t *buf, size_t cap,
                          tern_packet_meta *meta) {
    tern_packet_sock *p = sock_of(st, s);
    if (p == NULL) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "packet_recv: not a packet socket");
    }
    if (p->rx_count == 0) {
        return TERN_ERR_WOULD_BLOCK;
    }
    const uint8_t *slot = p->rx + (size_t)p->rx_head * slot_size(&st->cfg);
    slot_hdr h;
    memcpy(&h, slot, sizeof h);
    if (buf != NULL) {
        memcpy(buf, slot + sizeof h, h.meta.caplen < cap ? h.meta.caplen : cap);
    }
    if (meta != NULL) {
        *meta = h.meta;
    }
    p->rx_head = (p->rx_head + 1) % st->cfg.packet_queue;
    p->rx_count--;
    return TERN_OK;
}

uint32_t tern_packet_pending(const tern_stack *st, tern_sock s) {
    const tern_packet_sock *p = sock_of(st, s);
    return p ? p->rx_count : 0;
}

tern_err tern_packet_send(tern_stack *st, tern_sock s, uint32_t iface, const uint8_t *frame,
                          size_t len) {
    tern_packet_sock *p = sock_of(st, s);
    if (p == NULL) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "packet_send: not a packet socket");
    }
    if (iface == TERN_PACKET_ANY_IFACE) {
        iface = p->iface;
    }
    if (iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "packet_send: no interface (the socket is on every one: name it)");
    }
    if (len < 14) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "packet_send: %zu bytes: an Ethernet header is 14", len);
    }
    /* The payload may fill the MTU; an 802.1Q tag (TPID 0x8100) adds its 4 bytes. */
    size_t max = 14 + st->iface[iface].mtu + (outer_ethertype(frame, len) == 0x8100 ? 4 : 0);
    if (len > max || len > st->cfg.packet_snaplen) {
        return tern_fail(st, TERN_ERR_MSG_TOO_LONG,
                         "packet_send: %zu bytes: at most %zu on iface %u (MTU %u, snaplen %u)",
                         len, max, iface, st->iface[iface].mtu, st->cfg.packet_snaplen);
    }
    if (p->tx_count == TERN_PACKET_TX_QUEUE) {
        return TERN_ERR_WOULD_BLOCK;
    }
    uint32_t k = (p->tx_head + p->tx_count) % TERN_PACKET_TX_QUEUE;
    uint8_t *slot = p->tx + (size_t)k * slot_size(&st->cfg);
    slot_hdr h;
    memset(&h, 0, sizeof h);
    h.meta.iface = iface;
    h.meta.len = (uint32_t)len;
    memcpy(slot, &h, sizeof h);
    memcpy(slot + sizeof h, frame, len);
    p->tx_count++;
    return TERN_OK;
}

bool tern_packet_has_output(const tern_stack *st) {
    for (uint32_t i = 0; i < st->npacket; i++) {
        if (st->pkt[i].used && st->pkt[i].tx_count) {
            return true;
        }
    }
    return false;
}

void tern_packet_poll(tern_stack *st, uint64_t now) {
    for (uint32_t i = 0; i < st->npacket; i++) {
        tern_packet_sock *p = &st->pkt[i];
        while (p->used && p->tx_count && !tern_call_budget_spent(st)) {
            uint8_t *slot = p->tx + (size_t)p->tx_head * slot_size(&st->cfg);
            slot_hdr h;
            memcpy(&h, slot, sizeof h);
            uint8_t *frame = slot + sizeof h;
            size_t flen = h.meta.len;
            /* IEEE 802.3 minimum frame: pad with zeros (DESIGN.md §6). The slot holds at
             * least 60 bytes: packet_snaplen is 64 or more. */
            if (flen < 60) {
                memset(frame + flen, 0, 60 - flen);
                flen = 60;
            }
            st->hc.frames_out++;
            st->hc.bytes_out += flen;
            st->call_frames++;
            tern_packet_tap(st, now, h.meta.iface, TERN_PACKET_OUT, frame, flen, p);
            if (st->cfg.output) {
                st->cfg.output(st->cfg.output_ctx, h.meta.iface, frame, flen);
            }
            p->tx_head = (p->tx_head + 1) % TERN_PACKET_TX_QUEUE;
            p->tx_count--;
        }
    }
}

tern_err tern_packet_stats(const tern_stack *st, tern_sock s, uint64_t *received,
                           uint64_t *dropped) {
    const tern_packet_sock *p = sock_of(st, s);
    if (p == NULL) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (received) {
        *received = p->received;
    }
    if (dropped) {
        *dropped = p->dropped;
    }
    return TERN_OK;
}

tern_err tern_packet_close(tern_stack *st, tern_sock s) {
    tern_packet_sock *p = sock_of(st, s);
    if (p == NULL) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "packet_close: not a packet socket");
    }
    p->used = false;
    p->gen = (uint8_t)(p->gen + 1);
    p->rx_count = p->tx_count = 0;
    return TERN_OK;
}

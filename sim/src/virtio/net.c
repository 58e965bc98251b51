/*
 * The virtio-net adapter node (tern/sim_virtio.h): a virtio-net device (virtio v1.2 §5.1) and a
 * driver for it, joined by two real split virtqueues in a guest memory the node owns, between
 * the guest node on port 0 and the wire on port 1. Every step (kick, device processing,
 * interrupt, the driver's re-enabling) happens at its own virtual time; the order of steps at one
 * instant is fixed (kicks, device work, interrupts, re-enables), so runs are deterministic.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sim_internal.h"
#include "virtio/virtio_private.h"

#define RXQ 0
#define TXQ 1
#define RX_WAIT_MAX 256 /* frames the device holds while no receive buffer is free */
#define SLOTS_MAX 1024  /* buffers the driver posts per queue (at most the queue size) */
#define EVENTS_MAX 64   /* fault events kept */
#define IND_MAX 4       /* descriptors per indirect table */

static const uint64_t KNOWN_FEATURES =
    1ull << SIM_VIRTIO_F_VERSION_1 | 1ull << SIM_VIRTIO_F_EVENT_IDX |
    1ull << SIM_VIRTIO_F_INDIRECT_DESC | 1ull << SIM_VIRTIO_NET_F_MAC |
    1ull << SIM_VIRTIO_NET_F_MTU | 1ull << SIM_VIRTIO_NET_F_STATUS |
    1ull << SIM_VIRTIO_NET_F_MRG_RXBUF;

typedef struct vnet_q {
    sim_vq_dev dev;
    sim_vq_drv drv;
    uint64_t desc, avail, used, ind, bufs; /* GPAs */
    uint32_t buf_size, nslots;
    uint32_t *free_slots; /* driver: free buffer slots (tx) */
    uint32_t nfree;
    uint64_t kick_at, proc_at, irq_at, enable_at;
} vnet_q;

typedef struct rx_wait {
    uint64_t ready;
    uint32_t len;
    uint8_t *data;
} rx_wait;

typedef struct vnet {
    sim *s;
    sim_node_id id;
    sim_virtio_net_config cfg;
    uint64_t features;
    uint8_t status;
    uint8_t *ram;
    uint64_t ram_size;
    sim_vmem mem;
    vnet_q q[2];
    rx_wait wait[RX_WAIT_MAX];
    uint32_t wait_head, wait_n;
    bool rx_blocked; /* the head frame waits for buffers (until a kick) */
    sim_virtio_net_counters c;
    sim_virtio_event events[EVENTS_MAX];
    uint32_t nevents;
    uint8_t frame[SIM_MAX_FRAME + SIM_VIRTIO_NET_HDR_LEN];
} vnet;

static bool has(const vnet *v, int bit) {
    return v->features >> bit & 1;
}

static uint64_t min64(uint64_t a, uint64_t b) {
    return a < b ? a : b;
}

/* Record a fault: the device needs a reset (§2.1.2 "The device SHOULD set DEVICE_NEEDS_RESET
 * when it enters an error state that a reset is needed"). */
static void record_fault(vnet *v, uint32_t q, sim_virtio_fault f, const char *why) {
    v->status |= SIM_VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    if (v->nevents < EVENTS_MAX) {
        sim_virtio_event *e = &v->events[v->nevents++];
        e->time = v->s->now;
        e->queue = q;
        e->fault = f;
        snprintf(e->why, sizeof e->why, "%.199s", why);
    }
}

static bool broken(const vnet *v) {
    return v->status & SIM_VIRTIO_STATUS_DEVICE_NEEDS_RESET;
}

/* ---- driver side ----------------------------------------------------------------------- */

static uint64_t slot_gpa(const vnet_q *q, uint32_t slot) {
    return q->bufs + (uint64_t)slot * q->buf_size;
}

/* Post receive buffer `slot`: header and data in one element, or the header in its own. */
static void drv_post_rx(vnet *v, uint32_t slot) {
    vnet_q *q = &v->q[RXQ];
    uint64_t a = slot_gpa(q, slot);
    sim_vq_seg segs[2];
    uint32_t n = 0;
    if (v->cfg.split_header) {
        segs[n++] = (sim_vq_seg){a, SIM_VIRTIO_NET_HDR_LEN, true};
        segs[n++] =
            (sim_vq_seg){a + SIM_VIRTIO_NET_HDR_LEN, q->buf_size - SIM_VIRTIO_NET_HDR_LEN, true};
    } else {
        segs[n++] = (sim_vq_seg){a, q->buf_size, true};
    }
    sim_vq_drv_add(&q->drv, segs, n, v->cfg.use_indirect, slot, NULL);
}

static void drv_flush(vnet *v, uint32_t qi) {
    vnet_q *q = &v->q[qi];
    uint64_t before = q->drv.kicks_suppressed;
    if (sim_vq_drv_flush(&q->drv)) {
        q->kick_at = min64(q->kick_at, v->s->now + v->cfg.notify_ns);
    } else if (q->drv.kicks_suppressed != before) {
        v->c.kicks_suppressed[qi]++;
    }
}

static void drv_fault(vnet *v, uint32_t qi) {
    char why[240];
    snprintf(why, sizeof why, "driver: %s", v->q[qi].drv.why);
    record_fault(v, qi, v->q[qi].drv.fault, why);
}

/* Reclaim transmitted buffers. */
static void drv_reclaim_tx(vnet *v) {
    vnet_q *q = &v->q[TXQ];
    uint64_t tok;
    uint32_t len;
    int r;
    while ((r = sim_vq_drv_get_used(&q->drv, &tok, &len)) == 1) {
        q->free_slots[q->nfree++] = (uint32_t)tok;
    }
    if (r < 0) {
        drv_fault(v, TXQ);
    }
}

/* Take received frames: one per header, gathering num_buffers buffers (§5.1.6.4). */
static void drv_receive(vnet *v) {
    vnet_q *q = &v->q[RXQ];
    uint64_t tok;
    uint32_t len;
    int r;
    uint32_t guard = q->nslots + 1;
    while (guard-- > 0 && (r = sim_vq_drv_get_used(&q->drv, &tok, &len)) == 1) {
        uint8_t hdr[SIM_VIRTIO_NET_HDR_LEN];
        sim_vmem_read(&v->mem, slot_gpa(q, (uint32_t)tok), hdr, sizeof hdr);
        uint16_t nbuf = (uint16_t)(hdr[10] | hdr[11] << 8);
        size_t flen = len > SIM_VIRTIO_NET_HDR_LEN ? len - SIM_VIRTIO_NET_HDR_LEN : 0;
        bool ok = len >= SIM_VIRTIO_NET_HDR_LEN && nbuf >= 1 &&
                  (nbuf == 1 || has(v, SIM_VIRTIO_NET_F_MRG_RXBUF));
        if (ok) {
            sim_vmem_read(&v->mem, slot_gpa(q, (uint32_t)tok) + SIM_VIRTIO_NET_HDR_LEN, v->frame,
                          flen);
        }
        drv_post_rx(v, (uint32_t)tok);
        for (uint16_t i = 1; ok && i < nbuf; i++) {
            /* "the other buffers will not begin with a struct virtio_net_hdr" */
            if (sim_vq_drv_get_used(&q->drv, &tok, &len) != 1) {
                ok = false;
                break;
            }
            if (flen + len > SIM_MAX_FRAME) {
                ok = false;
            } else {
                sim_vmem_read(&v->mem, slot_gpa(q, (uint32_t)tok), v->frame + flen, len);
                flen += len;
            }
            drv_post_rx(v, (uint32_t)tok);
        }
        if (ok && flen > 0) {
            sim_node_send(v->s, v->id, 0, v->frame, flen);
        }
    }
    if (q->drv.broken) {
        drv_fault(v, RXQ);
    }
    drv_flush(v, RXQ);
}

/* The interrupt handler of queue qi: notifications off, drain, and notifications on again after
 * driver_ns (with the re-check of §2.7.14's note, unless the driver is wrong on purpose). */
static void drv_handler(vnet *v, uint32_t qi) {
    vnet_q *q = &v->q[qi];
    for (uint32_t round = 0; round < 4; round++) {
        sim_vq_drv_disable_cb(&q->drv);
        if (qi == RXQ) {
            drv_receive(v);
        } else {
            drv_reclaim_tx(v);
        }
        if (v->cfg.driver_ns > 0) {
            q->enable_at = v->s->now + v->cfg.driver_ns;
            return;
        }
        if (!sim_vq_drv_enable_cb(&q->drv)) {
            return;
        }
        v->c.rechecks++;
    }
    q->irq_at = v->s->now; /* still more: run again at this instant */
}

static void drv_enable(vnet *v, uint32_t qi) {
    vnet_q *q = &v->q[qi];
    q->enable_at = SIM_NEVER;
    if (sim_vq_drv_enable_cb(&q->drv)) {
        v->c.rechecks++;
        drv_handler(v, qi);
    }
}

/* A frame from the guest (port 0): the driver places it into the transmit queue (§5.1.6.2). */
static void drv_transmit(vnet *v, const uint8_t *frame, size_t len) {
    vnet_q *q = &v->q[TXQ];
    if (broken(v) || q->drv.broken) {
        v->c.tx_dropped++;
        return;
    }
    drv_reclaim_tx(v); /* as Linux does on transmit: free what the device used */
    /* §5.1.4.2: "If the driver negotiates VIRTIO_NET_F_MTU, it MUST NOT transmit packets of size
     * exceeding the value of mtu (plus low level ethernet header length)" */
    size_t max = has(v, SIM_VIRTIO_NET_F_MTU) ? (size_t)v->cfg.mtu + 14u
                                              : q->buf_size - SIM_VIRTIO_NET_HDR_LEN;
    if (len > max || len > q->buf_size - SIM_VIRTIO_NET_HDR_LEN || q->nfree == 0) {
        v->c.tx_dropped++;
        return;
    }
    uint32_t slot = q->free_slots[--q->nfree];
    uint64_t a = slot_gpa(q, slot);
    uint8_t hdr[SIM_VIRTIO_NET_HDR_LEN] = {0}; /* no offloads: flags 0, GSO_NONE */
    sim_vmem_write(&v->mem, a, hdr, sizeof hdr);
    sim_vmem_write(&v->mem, a + SIM_VIRTIO_NET_HDR_LEN, frame, len);
    sim_vq_seg segs[2];
    uint32_t n = 0;
    if (v->cfg.split_header) {
        segs[n++] = (sim_vq_seg){a, SIM_VIRTIO_NET_HDR_LEN, false};
        segs[n++] = (sim_vq_seg){a + SIM_VIRTIO_NET_HDR_LEN, (uint32_t)len, false};
    } else {
        segs[n++] = (sim_vq_seg){a, (uint32_t)(SIM_VIRTIO_NET_HDR_LEN + len), false};
    }
    if (sim_vq_drv_add(&q->drv, segs, n, v->cfg.use_indirect, slot, NULL) != TERN_OK) {
        q->free_slots[q->nfree++] = slot;
        v->c.tx_dropped++;
        return;
    }
    drv_flush(v, TXQ);
}

/* ---- device side ----------------------------------------------------------------------- */

static void dev_fault(vnet *v, uint32_t qi) {
    record_fault(v, qi, v->q[qi].dev.fault, v->q[qi].dev.why);
}

static void dev_notify(vnet *v, uint32_t qi) {
    vnet_q *q = &v->q[qi];
    if (sim_vq_dev_need_notify(&q->dev)) {
        v->c.interrupts[qi]++;
        q->irq_at = min64(q->irq_at, v->s->now + v->cfg.irq_ns);
    } else if (q->dev.pushed > 0) {
        v->c.interrupts_suppressed[qi]++;
    }
}

/* The device's transmit work (§5.1.6.2): every available buffer, header stripped, onto the wire;
 * then notifications on again and a re-check, so that nothing added meanwhile is left behind. */
static void dev_tx(vnet *v) {
    vnet_q *q = &v->q[TXQ];
    q->proc_at = SIM_NEVER;
    uint32_t budget = 2 * v->q[TXQ].dev.size;
    for (int pass = 0; pass < 2; pass++) {
        sim_vq_chain c;
        int r;
        while (budget-- > 0 && (r = sim_vq_dev_pop(&q->dev, &c)) == 1) {
            if (c.readable < SIM_VIRTIO_NET_HDR_LEN) {
                char why[120];
                snprintf(why, sizeof why,
                         "transmit buffer of head %u has %llu readable bytes, less than the "
                         "12-byte virtio_net_hdr",
                         c.head, (unsigned long long)c.readable);
                record_fault(v, TXQ, SIM_VIRTIO_FAULT_NET_HDR, why);
                sim_vq_dev_push(&q->dev, c.head, 0);
                continue;
            }
            uint64_t flen = c.readable - SIM_VIRTIO_NET_HDR_LEN;
            size_t max = has(v, SIM_VIRTIO_NET_F_MTU) ? (size_t)v->cfg.mtu + 14u : SIM_MAX_FRAME;
            if (flen == 0 || flen > max || flen > SIM_MAX_FRAME) {
                v->c.tx_dropped++;
            } else {
                sim_vq_dev_read(&q->dev, &c, SIM_VIRTIO_NET_HDR_LEN, v->frame, flen);
                v->c.tx_frames++;
                sim_node_send(v->s, v->id, 1, v->frame, flen);
            }
            /* the device wrote nothing into a transmit buffer: used len 0 */
            sim_vq_dev_push(&q->dev, c.head, 0);
        }
        if (q->dev.broken) {
            dev_fault(v, TXQ);
            return;
        }
        sim_vq_dev_set_notify(&q->dev, true);
        if (sim_vq_dev_pending(&q->dev) <= 0) {
            break;
        }
    }
    dev_notify(v, TXQ);
}

/* Place one received frame into receive buffers; the counters follow what happened. Returns
 * false when the driver has not supplied enough buffers yet (nothing consumed). */
static bool dev_place_rx(vnet *v, const uint8_t *frame, uint32_t len) {
    uint32_t nbuf = 0;
    switch (vnet_rx_place(&v->q[RXQ].dev, has(v, SIM_VIRTIO_NET_F_MRG_RXBUF), frame, len, &nbuf)) {
    case VNET_RX_WAIT:
        return false;
    case VNET_RX_FAULT:
        dev_fault(v, RXQ);
        return true; /* the device is broken, the frame is lost */
    case VNET_RX_DROPPED:
        v->c.rx_dropped++;
        return true;
    case VNET_RX_PLACED:
        break;
    }
    if (nbuf > 1) {
        v->c.rx_merged++;
    }
    if (nbuf > v->c.max_num_buffers) {
        v->c.max_num_buffers = nbuf;
    }
    v->c.rx_frames++;
    return true;
}

/* The device's receive work: frames whose time has come, in order, while buffers last. */
static void dev_rx(vnet *v) {
    vnet_q *q = &v->q[RXQ];
    q->proc_at = SIM_NEVER;
    bool placed = false;
    while (v->wait_n > 0 && !broken(v)) {
        rx_wait *w = &v->wait[v->wait_head];
        if (w->ready > v->s->now) {
            q->proc_at = w->ready;
            break;
        }
        if (!dev_place_rx(v, w->data, w->len)) {
            if (!v->rx_blocked) {
                v->c.rx_no_buffer_waits++;
            }
            v->rx_blocked = true;
            sim_vq_dev_set_notify(&q->dev, true); /* tell me when buffers come */
            break;
        }
        v->rx_blocked = false;
        placed = true;
        free(w->data);
        v->wait_head = (v->wait_head + 1) % RX_WAIT_MAX;
        v->wait_n--;
    }
    if (placed) {
        dev_notify(v, RXQ);
    }
}

/* A kick reaches the device (after notify_ns). */
static void dev_kick(vnet *v, uint32_t qi) {
    vnet_q *q = &v->q[qi];
    q->kick_at = SIM_NEVER;
    v->c.kicks[qi]++;
    if (broken(v)) {
        return;
    }
    if (qi == TXQ) {
        /* no more kicks wanted until the device has done this work (§2.7.10) */
        sim_vq_dev_set_notify(&q->dev, false);
        q->proc_at = min64(q->proc_at, v->s->now + v->cfg.device_ns);
    } else if (v->wait_n > 0) {
        v->rx_blocked = false;
        q->proc_at = min64(q->proc_at, v->s->now + v->cfg.device_ns);
    }
}

/* ---- the node -------------------------------------------------------------------------- */

static void vnet_input(void *state, uint64_t now, uint32_t port, const uint8_t *frame, size_t len) {
    vnet *v = state;
    if (port == 0) {
        drv_transmit(v, frame, len);
        return;
    }
    /* §5.1.4.1: "The device MUST NOT pass received packets that exceed mtu (plus low level
     * ethernet header length) size with gso_type NONE or ECN after VIRTIO_NET_F_MTU has been
     * successfully negotiated." */
    if (broken(v) || (has(v, SIM_VIRTIO_NET_F_MTU) && len > (size_t)v->cfg.mtu + 14u) ||
        v->wait_n == RX_WAIT_MAX) {
        v->c.rx_dropped++;
        return;
    }
    uint8_t *copy = malloc(len);
    if (!copy) {
        v->c.rx_dropped++;
        return;
    }
    memcpy(copy, frame, len);
    uint32_t slot = (v->wait_head + v->wait_n) % RX_WAIT_MAX;
    v->wait[slot] = (rx_wait){now + v->cfg.device_ns, (uint32_t)len, copy};
    v->wait_n++;
    if (!v->rx_blocked) {
        v->q[RXQ].proc_at = min64(v->q[RXQ].proc_at, now + v->cfg.device_ns);
    }
}

static void vnet_poll(void *state, uint64_t now) {
    vnet *v = state;
    /* fixed order at one instant: kicks, device work, interrupts, re-enables */
    for (uint32_t qi = 0; qi < 2; qi++) {
        if (v->q[qi].kick_at <= now) {
            dev_kick(v, qi);
        }
    }
    if (v->q[TXQ].proc_at <= now) {
        dev_tx(v);
    }
    if (v->q[RXQ].proc_at <= now) {
        dev_rx(v);
    }
    for (uint32_t qi = 0; qi < 2; qi++) {
        if (v->q[qi].irq_at <= now) {
            v->q[qi].irq_at = SIM_NEVER;
            drv_handler(v, qi);
        }
    }
    for (uint32_t qi = 0; qi < 2; qi++) {
        if (v->q[qi].enable_at <= now) {
            drv_enable(v, qi);
        }
    }
}

static uint64_t vnet_poll_at(void *state) {
    vnet *v = state;
    uint64_t t = SIM_NEVER;
    for (uint32_t qi = 0; qi < 2; qi++) {
        const vnet_q *q = &v->q[qi];
        t = min64(t, min64(min64(q->kick_at, q->proc_at), min64(q->irq_at, q->enable_at)));
    }
    return t;
}

static void vnet_destroy(void *state) {
    vnet *v = state;
    for (uint32_t qi = 0; qi < 2; qi++) {
        sim_vq_dev_free(&v->q[qi].dev);
        sim_vq_drv_free(&v->q[qi].drv);
        free(v->q[qi].free_slots);
    }
    for (uint32_t i = 0; i < v->wait_n; i++) {
        free(v->wait[(v->wait_head + i) % RX_WAIT_MAX].data);
    }
    free(v->ram);
    free(v);
}

static const sim_node_ops vnet_ops = {vnet_input, vnet_poll, vnet_poll_at, vnet_destroy};

static uint64_t align_up(uint64_t x, uint64_t a) {
    return (x + a - 1) & ~(a - 1);
}

/* Lay out queue qi from *at and return its size in bytes. */
static void layout_queue(vnet_q *q, uint32_t n, uint32_t slots, uint32_t buf_size, uint64_t *at) {
    q->desc = align_up(*at, 16);
    q->avail = q->desc + VQ_DESC_BYTES(n);
    q->used = align_up(q->avail + VQ_AVAIL_BYTES(n), 4);
    q->ind = align_up(q->used + VQ_USED_BYTES(n), 16);
    q->bufs = align_up(q->ind + (uint64_t)n * IND_MAX * VQ_DESC_SIZE, 64);
    q->nslots = slots;
    q->buf_size = buf_size;
    *at = q->bufs + (uint64_t)slots * buf_size;
    q->kick_at = q->proc_at = q->irq_at = q->enable_at = SIM_NEVER;
}

static vnet *get(sim *s, sim_node_id node, tern_err *err) {
    sim_node *n = sim_get_node(s, node);
    if (!n) {
        *err = sim_fail(s, TERN_ERR_UNKNOWN_NODE, "unknown node %u", node);
        return NULL;
    }
    if (n->ops.input != vnet_input) {
        *err = sim_fail(s, TERN_ERR_WRONG_KIND, "node '%s' is not a virtio-net node", n->name);
        return NULL;
    }
    return n->state;
}

tern_err sim_virtio_net_add(sim *s, const char *name, const sim_virtio_net_config *cfg,
                            sim_node_id *out) {
    const char *who = name ? name : "";
    if (!cfg) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "virtio-net '%s': cfg must not be NULL", who);
    }
    sim_virtio_net_config c = *cfg;
    if (c.mtu == 0) {
        c.mtu = 1500;
    }
    if (c.queue_size == 0) {
        c.queue_size = 256;
    }
    if (c.dev_features == 0) {
        c.dev_features = KNOWN_FEATURES;
    }
    if (c.drv_features == 0) {
        c.drv_features = KNOWN_FEATURES;
    }
    if (c.mtu < 68) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "virtio-net '%s' mtu=%u: must be 68..65535 (§5.1.4.1)", who, c.mtu);
    }
    uint32_t n = c.queue_size;
    if (n > SIM_VIRTQ_MAX_SIZE || (n & (n - 1)) != 0) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "virtio-net '%s' queue_size=%u: must be a power of 2 up to 32768", who, n);
    }
    if (c.dev_features & ~KNOWN_FEATURES) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "virtio-net '%s' dev_features=0x%llx: bits 0x%llx are not implemented", who,
                        (unsigned long long)c.dev_features,
                        (unsigned long long)(c.dev_features & ~KNOWN_FEATURES));
    }
    /* §3.1.1: the driver accepts a subset of what the device offers */
    uint64_t feat = c.dev_features & c.drv_features;
    if (!(feat >> SIM_VIRTIO_F_VERSION_1 & 1)) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "virtio-net '%s': VIRTIO_F_VERSION_1 (bit 32) is not in the negotiated "
                        "features 0x%llx (this is a virtio 1.x device)",
                        who, (unsigned long long)feat);
    }
    bool mrg = feat >> SIM_VIRTIO_NET_F_MRG_RXBUF & 1;
    uint32_t frame_max = (uint32_t)c.mtu + 14u;
    if (c.rx_buf_size == 0) {
        c.rx_buf_size = mrg ? 1526 : SIM_VIRTIO_NET_HDR_LEN + frame_max;
    }
    if (c.rx_buf_size < 64 || c.rx_buf_size > SIM_MAX_FRAME + SIM_VIRTIO_NET_HDR_LEN ||
        (!mrg && c.rx_buf_size < SIM_VIRTIO_NET_HDR_LEN + frame_max)) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "virtio-net '%s' rx_buf_size=%u: must be 64..65548 and, without "
                        "MRG_RXBUF, hold the header and a frame of mtu + 14 = %u bytes",
                        who, c.rx_buf_size, frame_max);
    }
    if (c.drv_mode > SIM_VQ_DRV_NO_RECHECK) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "virtio-net '%s' drv_mode=%d: unknown", who,
                        (int)c.drv_mode);
    }
    vnet *v = calloc(1, sizeof *v);
    if (!v) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "virtio-net '%s': out of memory", who);
    }
    v->s = s;
    v->cfg = c;
    v->features = feat;
    uint32_t slots = n < SLOTS_MAX ? n : SLOTS_MAX;
    uint64_t at = SIM_VIRTIO_NET_GPA_BASE;
    layout_queue(&v->q[RXQ], n, slots, c.rx_buf_size, &at);
    uint32_t tx_buf = SIM_VIRTIO_NET_HDR_LEN + (frame_max > 1514 ? frame_max : 1514);
    layout_queue(&v->q[TXQ], n, slots, tx_buf, &at);
    v->ram_size = at - SIM_VIRTIO_NET_GPA_BASE;
    v->ram = calloc(1, v->ram_size);
    v->q[TXQ].free_slots = calloc(slots, sizeof(uint32_t));
    v->q[RXQ].free_slots = calloc(1, sizeof(uint32_t));
    if (!v->ram || !v->q[TXQ].free_slots || !v->q[RXQ].free_slots) {
        vnet_destroy(v);
        return sim_fail(s, TERN_ERR_NO_MEMORY, "virtio-net '%s': out of memory for %llu bytes", who,
                        (unsigned long long)v->ram_size);
    }
    sim_vmem_add_region(&v->mem, SIM_VIRTIO_NET_GPA_BASE, v->ram_size, v->ram);
    /* §3.1.1 device initialization: ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, DRIVER_OK
     */
    v->status =
        SIM_VIRTIO_STATUS_ACKNOWLEDGE | SIM_VIRTIO_STATUS_DRIVER | SIM_VIRTIO_STATUS_FEATURES_OK;
    for (uint32_t qi = 0; qi < 2; qi++) {
        vnet_q *q = &v->q[qi];
        tern_err e = sim_vq_drv_init(&q->drv, &v->mem, n, q->desc, q->avail, q->used, feat, q->ind,
                                     IND_MAX, c.drv_mode);
        if (e == TERN_OK) {
            e = sim_vq_dev_init(&q->dev, &v->mem, n, q->desc, q->avail, q->used, feat);
        }
        if (e != TERN_OK) {
            vnet_destroy(v);
            return sim_fail(s, e, "virtio-net '%s': queue %u could not be set up", who, qi);
        }
    }
    for (uint32_t i = 0; i < slots; i++) {
        v->q[TXQ].free_slots[v->q[TXQ].nfree++] = slots - 1 - i;
    }
    v->status |= SIM_VIRTIO_STATUS_DRIVER_OK;
    tern_err err = sim_node_add(s, name, "virtio-net", 2, &vnet_ops, v, &v->id);
    if (err != TERN_OK) {
        vnet_destroy(v);
        return err;
    }
    /* the driver fills the receive queue (§5.1.5 step 3) and kicks, at the current time */
    for (uint32_t i = 0; i < slots; i++) {
        drv_post_rx(v, i);
    }
    drv_flush(v, RXQ);
    sim_node_wake(s, v->id);
    *out = v->id;
    return TERN_OK;
}

uint64_t sim_virtio_net_features(sim *s, sim_node_id node) {
    sim_node *n = sim_get_node(s, node);
    return n && n->ops.input == vnet_input ? ((vnet *)n->state)->features : 0;
}

uint8_t sim_virtio_net_status(sim *s, sim_node_id node) {
    sim_node *n = sim_get_node(s, node);
    return n && n->ops.input == vnet_input ? ((vnet *)n->state)->status : 0;
}

tern_err sim_virtio_net_get_config(sim *s, sim_node_id node, uint8_t *buf, size_t cap) {
    tern_err err = TERN_OK;
    vnet *v = get(s, node, &err);
    if (!v) {
        return err;
    }
    if (cap < 12) {
        return sim_fail(s, TERN_ERR_BUFFER_TOO_SMALL, "config space is 12 bytes, cap=%zu", cap);
    }
    memcpy(buf, v->cfg.mac, 6);
    /* §5.1.4: status exists only with VIRTIO_NET_F_STATUS; its LINK_UP bit follows the wire (a
     * link on port 1 that is up) */
    uint16_t st = 0;
    sim_node *n = sim_get_node(s, node);
    if (has(v, SIM_VIRTIO_NET_F_STATUS) && n->port_dir[1] != 0) {
        sim_link *l = sim_get_link(s, (n->port_dir[1] - 1) >> 1);
        st = l && l->up ? SIM_VIRTIO_NET_S_LINK_UP : 0;
    }
    buf[6] = (uint8_t)st;
    buf[7] = (uint8_t)(st >> 8);
    buf[8] = 1; /* max_virtqueue_pairs: one pair (no MQ) */
    buf[9] = 0;
    buf[10] = (uint8_t)v->cfg.mtu;
    buf[11] = (uint8_t)(v->cfg.mtu >> 8);
    return TERN_OK;
}

tern_err sim_virtio_net_get_counters(sim *s, sim_node_id node, sim_virtio_net_counters *out) {
    tern_err err = TERN_OK;
    vnet *v = get(s, node, &err);
    if (!v) {
        return err;
    }
    *out = v->c;
    for (uint32_t qi = 0; qi < 2; qi++) {
        out->kicks_suppressed[qi] = v->q[qi].drv.kicks_suppressed;
    }
    return TERN_OK;
}

tern_err sim_virtio_net_event(sim *s, sim_node_id node, uint32_t i, sim_virtio_event *out) {
    tern_err err = TERN_OK;
    vnet *v = get(s, node, &err);
    if (!v) {
        return err;
    }
    if (i >= v->nevents) {
        return TERN_ERR_EMPTY;
    }
    *out = v->events[i];
    return TERN_OK;
}

tern_err sim_virtio_net_queue_gpa(sim *s, sim_node_id node, uint32_t q, uint64_t *desc,
                                  uint64_t *avail, uint64_t *used) {
    tern_err err = TERN_OK;
    vnet *v = get(s, node, &err);
    if (!v) {
        return err;
    }
    if (q > 1) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "queue %u: 0 (receiveq1) or 1 (transmitq1)",
                        q);
    }
    *desc = v->q[q].desc;
    *avail = v->q[q].avail;
    *used = v->q[q].used;
    return TERN_OK;
}

tern_err sim_virtio_net_mem_write(sim *s, sim_node_id node, uint64_t gpa, const uint8_t *buf,
                                  size_t len) {
    tern_err err = TERN_OK;
    vnet *v = get(s, node, &err);
    if (!v) {
        return err;
    }
    if (!sim_vmem_write(&v->mem, gpa, buf, len)) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "guest memory write at 0x%llx, %zu bytes: outside 0x%llx..0x%llx",
                        (unsigned long long)gpa, len, SIM_VIRTIO_NET_GPA_BASE,
                        (unsigned long long)(SIM_VIRTIO_NET_GPA_BASE + v->ram_size));
    }
    return TERN_OK;
}

tern_err sim_virtio_net_mem_read(sim *s, sim_node_id node, uint64_t gpa, uint8_t *buf, size_t len) {
    tern_err err = TERN_OK;
    vnet *v = get(s, node, &err);
    if (!v) {
        return err;
    }
    if (!sim_vmem_read(&v->mem, gpa, buf, len)) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "guest memory read at 0x%llx, %zu bytes: outside 0x%llx..0x%llx",
                        (unsigned long long)gpa, len, SIM_VIRTIO_NET_GPA_BASE,
                        (unsigned long long)(SIM_VIRTIO_NET_GPA_BASE + v->ram_size));
    }
    return TERN_OK;
}

tern_err sim_virtio_net_kick(sim *s, sim_node_id node, uint32_t q) {
    tern_err err = TERN_OK;
    vnet *v = get(s, node, &err);
    if (!v) {
        return err;
    }
    if (q > 1) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "queue %u: 0 (receiveq1) or 1 (transmitq1)",
                        q);
    }
    v->q[q].kick_at = min64(v->q[q].kick_at, s->now + v->cfg.notify_ns);
    return sim_node_wake(s, v->id);
}

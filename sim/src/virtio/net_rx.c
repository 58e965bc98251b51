/*
 * Receive placement of a virtio-net device (virtio v1.2 §5.1.6.3, §5.1.6.4), shared by the
 * simulated device (net.c) and the vhost-user backend (vhost_user.c): one frame, with its
 * virtio_net_hdr, into one receive buffer or (with VIRTIO_NET_F_MRG_RXBUF) several.
 */
#include <stdlib.h>

#include "virtio/virtio_private.h"

/* Buffers one frame may take: a 64 KiB frame over 64-byte buffers, with room to spare. */
#define RX_MAX_BUFFERS 1100

vnet_rx_result vnet_rx_place(sim_vq_dev *q, bool mrg, const uint8_t *frame, uint32_t len,
                             uint32_t *nbuf_out) {
    uint16_t saved = q->last_avail;
    uint64_t saved_popped = q->popped;
    uint64_t need = SIM_VIRTIO_NET_HDR_LEN + (uint64_t)len;
    static _Thread_local uint16_t heads[RX_MAX_BUFFERS];
    static _Thread_local uint32_t lens[RX_MAX_BUFFERS];
    uint32_t nbuf = 0;
    uint64_t off = 0; /* bytes of header + frame placed */
    uint8_t hdr[SIM_VIRTIO_NET_HDR_LEN] = {0};
    /* where the first buffer's 12 header bytes are (at most 12 pieces) */
    sim_vq_seg hdr_at[SIM_VIRTIO_NET_HDR_LEN];
    uint32_t nhdr = 0;
    while (off < need) {
        sim_vq_chain c;
        int r = sim_vq_dev_pop(q, &c);
        if (r < 0) {
            return VNET_RX_FAULT;
        }
        if (r == 0 || nbuf == RX_MAX_BUFFERS) {
            /* not used: the chains stay available */
            q->last_avail = saved;
            q->popped = saved_popped;
            /* a frame that needs more buffers than the queue can ever hold is dropped */
            return r == 0 && nbuf < q->size ? VNET_RX_WAIT : VNET_RX_DROPPED;
        }
        if (nbuf == 0 && c.writable < SIM_VIRTIO_NET_HDR_LEN) {
            /* a buffer too small for the header cannot take a packet: return it empty */
            sim_vq_dev_push(q, c.head, 0);
            return VNET_RX_DROPPED;
        }
        uint64_t take = need - off < c.writable ? need - off : c.writable;
        if (!mrg && take < need) {
            /* without MRG_RXBUF the whole packet must fit one buffer: drop it */
            sim_vq_dev_push(q, c.head, 0);
            return VNET_RX_DROPPED;
        }
        /* data of this buffer: after the header in the first one */
        uint64_t hdr_here = nbuf == 0 ? SIM_VIRTIO_NET_HDR_LEN : 0;
        uint64_t data_off = off < SIM_VIRTIO_NET_HDR_LEN ? 0 : off - SIM_VIRTIO_NET_HDR_LEN;
        if (take > hdr_here) {
            sim_vq_dev_write(q, &c, hdr_here, frame + data_off, take - hdr_here);
        }
        if (nbuf == 0) {
            uint32_t left = SIM_VIRTIO_NET_HDR_LEN;
            for (uint32_t i = 0; i < c.nseg && left > 0; i++) {
                if (c.seg[i].write && c.seg[i].len > 0) {
                    uint32_t k = c.seg[i].len < left ? c.seg[i].len : left;
                    hdr_at[nhdr++] = (sim_vq_seg){c.seg[i].addr, k, true};
                    left -= k;
                }
            }
        }
        heads[nbuf] = c.head;
        lens[nbuf] = (uint32_t)take;
        nbuf++;
        off += take;
    }
    /* header last, now that num_buffers is known (§5.1.6.4.1: "the device MUST set num_buffers
     * to indicate the number of buffers the packet (including the header) is spread over";
     * without MRG_RXBUF it is 1). Flags 0 and GSO_NONE: no offloads are offered. */
    hdr[10] = (uint8_t)nbuf;
    hdr[11] = (uint8_t)(nbuf >> 8);
    for (uint32_t i = 0, done = 0; i < nhdr; i++) {
        sim_vmem_write(q->mem, hdr_at[i].addr, hdr + done, hdr_at[i].len);
        done += hdr_at[i].len;
    }
    /* §5.1.6.4.1: "the device MUST use all buffers but the last (i.e. the first num_buffers - 1
     * buffers) completely up to the full length of each buffer", and uses them together */
    for (uint32_t i = 0; i < nbuf; i++) {
        sim_vq_dev_push(q, heads[i], lens[i]);
    }
    *nbuf_out = nbuf;
    return VNET_RX_PLACED;
}

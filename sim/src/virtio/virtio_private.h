/*
 * Private declarations of sim/src/virtio: little-endian access to guest memory (virtio 1.x
 * fields are little-endian, §2.7) and the layout of the split virtqueue's parts.
 */
#ifndef TERN_SIM_VIRTIO_PRIVATE_H
#define TERN_SIM_VIRTIO_PRIVATE_H

#include <stdint.h>

#include "tern/sim_virtio.h"

/* Offsets inside the parts of a split virtqueue (§2.7.5, §2.7.6, §2.7.8). */
#define VQ_DESC_SIZE 16u
#define VQ_AVAIL_RING(i) (4u + 2u * (uint64_t)(i))
#define VQ_USED_RING(i) (4u + 8u * (uint64_t)(i))
/* used_event follows the avail ring, avail_event the used ring (VIRTIO_F_EVENT_IDX). */
#define VQ_USED_EVENT(size) VQ_AVAIL_RING(size)
#define VQ_AVAIL_EVENT(size) VQ_USED_RING(size)
/* Bytes of each part (§2.7 table), event fields included. */
#define VQ_DESC_BYTES(size) (16u * (uint64_t)(size))
#define VQ_AVAIL_BYTES(size) (6u + 2u * (uint64_t)(size))
#define VQ_USED_BYTES(size) (6u + 8u * (uint64_t)(size))

/* A descriptor as read from guest memory. */
typedef struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} vq_desc;

bool vq_rd16(const sim_vmem *m, uint64_t gpa, uint16_t *v);
bool vq_wr16(const sim_vmem *m, uint64_t gpa, uint16_t v);
bool vq_rd32(const sim_vmem *m, uint64_t gpa, uint32_t *v);
bool vq_wr32(const sim_vmem *m, uint64_t gpa, uint32_t v);
bool vq_rd_desc(const sim_vmem *m, uint64_t gpa, vq_desc *d);
bool vq_wr_desc(const sim_vmem *m, uint64_t gpa, const vq_desc *d);

/*
 * vring_need_event: with VIRTIO_F_EVENT_IDX, whether moving an index from `old` to `new_idx`
 * crossed `event` (§2.7.7.2: notify when "the idx field ... was equal to used_event"). All three
 * are free-running 16-bit counters, so the comparison is modulo 2^16.
 */
static inline bool vq_need_event(uint16_t event, uint16_t new_idx, uint16_t old) {
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Check size and part alignment/placement; on failure fill why and return false. */
bool vq_check_layout(const sim_vmem *m, uint32_t size, uint64_t desc, uint64_t avail, uint64_t used,
                     char *why, size_t cap, bool *ring_addr);

/* What became of a received frame offered to the receive queue (net_rx.c). */
typedef enum vnet_rx_result {
    VNET_RX_PLACED,  /* in the buffers, used ring written; *nbuf_out buffers */
    VNET_RX_WAIT,    /* too few buffers available: nothing consumed, try again after a kick */
    VNET_RX_DROPPED, /* the frame cannot be placed (no MRG_RXBUF and too big, or a buffer too
                        small for the header, returned empty) */
    VNET_RX_FAULT,   /* the queue broke (q->fault, q->why) */
} vnet_rx_result;

/* vnet_rx_place: place one frame with its 12-byte virtio_net_hdr (num_buffers set) into the
 * receive queue q (§5.1.6.3, §5.1.6.4). */
vnet_rx_result vnet_rx_place(sim_vq_dev *q, bool mrg, const uint8_t *frame, uint32_t len,
                             uint32_t *nbuf_out);

#endif /* TERN_SIM_VIRTIO_PRIVATE_H */

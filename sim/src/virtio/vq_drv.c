/*
 * The driver side of a split virtqueue (virtio v1.2 §2.7.13 and §2.7.14; tern/sim_virtio.h): what
 * a guest's driver does, so that the simulator can play one deterministically, with its
 * notification suppression right or wrong on purpose. The free list and the chains live outside
 * guest memory; what the device wrote (the used ring) is validated before use.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtio_private.h"

__attribute__((format(printf, 3, 4))) static int drv_fault(sim_vq_drv *drv, sim_virtio_fault f,
                                                           const char *fmt, ...) {
    drv->broken = true;
    drv->fault = f;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(drv->why, sizeof drv->why, fmt, ap);
    va_end(ap);
    return -1;
}

tern_err sim_vq_drv_init(sim_vq_drv *drv, const sim_vmem *mem, uint32_t size, uint64_t desc,
                         uint64_t avail, uint64_t used, uint64_t features, uint64_t indirect_base,
                         uint32_t indirect_max, sim_vq_drv_mode mode) {
    memset(drv, 0, sizeof *drv);
    bool ring_addr;
    if (!vq_check_layout(mem, size, desc, avail, used, drv->why, sizeof drv->why, &ring_addr)) {
        drv->broken = true;
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (indirect_base &&
        (indirect_max == 0 || indirect_max > size || indirect_base % 16 ||
         !sim_vmem_contains(mem, indirect_base, (uint64_t)size * indirect_max * VQ_DESC_SIZE))) {
        snprintf(drv->why, sizeof drv->why,
                 "indirect area at 0x%llx for %u tables of %u descriptors is not inside guest "
                 "memory, misaligned, or its tables are longer than the queue",
                 (unsigned long long)indirect_base, size, indirect_max);
        drv->broken = true;
        return TERN_ERR_INVALID_ARGUMENT;
    }
    drv->heads = calloc(size, sizeof *drv->heads);
    drv->link = calloc(size, sizeof *drv->link);
    if (!drv->heads || !drv->link) {
        sim_vq_drv_free(drv);
        return TERN_ERR_NO_MEMORY;
    }
    drv->mem = mem;
    drv->size = size;
    drv->desc = desc;
    drv->avail = avail;
    drv->used = used;
    drv->event_idx = features >> SIM_VIRTIO_F_EVENT_IDX & 1;
    drv->indirect_ok = features >> SIM_VIRTIO_F_INDIRECT_DESC & 1;
    drv->indirect_base = indirect_base;
    drv->indirect_max = indirect_base ? indirect_max : 0;
    drv->mode = mode;
    drv->cb_enabled = true;
    for (uint32_t i = 0; i < size; i++) {
        drv->link[i] = (uint16_t)(i + 1);
    }
    drv->free_head = 0;
    drv->num_free = size;
    /* zeroed parts: avail flags 0 and used_event 0 (interrupts wanted from the first buffer on);
     * §2.7.10.1: "The driver MUST initialize flags in the used ring to 0" */
    static const uint8_t zero[256];
    const uint64_t parts[3][2] = {
        {desc, VQ_DESC_BYTES(size)}, {avail, VQ_AVAIL_BYTES(size)}, {used, VQ_USED_BYTES(size)}};
    for (int p = 0; p < 3; p++) {
        for (uint64_t off = 0; off < parts[p][1]; off += sizeof zero) {
            uint64_t n = parts[p][1] - off < sizeof zero ? parts[p][1] - off : sizeof zero;
            sim_vmem_write(mem, parts[p][0] + off, zero, n);
        }
    }
    return TERN_OK;
}

void sim_vq_drv_free(sim_vq_drv *drv) {
    free(drv->heads);
    free(drv->link);
    drv->heads = NULL;
    drv->link = NULL;
}

/* Take one descriptor off the free list. */
static uint16_t take_free(sim_vq_drv *drv) {
    uint16_t d = drv->free_head;
    drv->free_head = drv->link[d];
    drv->num_free--;
    return d;
}

tern_err sim_vq_drv_add(sim_vq_drv *drv, const sim_vq_seg *segs, uint32_t n, bool indirect,
                        uint64_t token, uint16_t *head_out) {
    if (drv->broken) {
        return TERN_ERR_BAD_STATE;
    }
    if (n == 0 || n > drv->size) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    uint64_t writable = 0;
    for (uint32_t i = 0; i < n; i++) {
        /* §2.7.4.2: device-writable elements after the device-readable ones */
        if (i > 0 && segs[i - 1].write && !segs[i].write) {
            return TERN_ERR_INVALID_ARGUMENT;
        }
        if (segs[i].write) {
            writable += segs[i].len;
        }
    }
    bool use_ind = indirect && drv->indirect_ok && drv->indirect_max > 0;
    if (use_ind && n > drv->indirect_max) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    uint32_t need = use_ind ? 1 : n;
    if (drv->num_free < need) {
        return TERN_ERR_NO_BUFFER;
    }
    uint16_t head;
    if (use_ind) {
        head = take_free(drv);
        uint64_t table = drv->indirect_base + (uint64_t)head * drv->indirect_max * VQ_DESC_SIZE;
        for (uint32_t i = 0; i < n; i++) {
            vq_desc d = {segs[i].addr, segs[i].len,
                         (uint16_t)((segs[i].write ? SIM_VIRTQ_DESC_F_WRITE : 0) |
                                    (i + 1 < n ? SIM_VIRTQ_DESC_F_NEXT : 0)),
                         (uint16_t)(i + 1 < n ? i + 1 : 0)};
            vq_wr_desc(drv->mem, table + i * VQ_DESC_SIZE, &d);
        }
        vq_desc d = {table, n * VQ_DESC_SIZE, SIM_VIRTQ_DESC_F_INDIRECT, 0};
        vq_wr_desc(drv->mem, drv->desc + (uint64_t)head * VQ_DESC_SIZE, &d);
    } else {
        head = take_free(drv);
        uint16_t cur = head;
        for (uint32_t i = 0; i < n; i++) {
            uint16_t nxt = 0;
            if (i + 1 < n) {
                nxt = take_free(drv);
                drv->link[cur] = nxt; /* the chain, for freeing it later */
            }
            vq_desc d = {segs[i].addr, segs[i].len,
                         (uint16_t)((segs[i].write ? SIM_VIRTQ_DESC_F_WRITE : 0) |
                                    (i + 1 < n ? SIM_VIRTQ_DESC_F_NEXT : 0)),
                         nxt};
            vq_wr_desc(drv->mem, drv->desc + (uint64_t)cur * VQ_DESC_SIZE, &d);
            cur = nxt;
        }
    }
    drv->heads[head] = (sim_vq_drv_head){token, (uint32_t)writable, (uint16_t)need, true};
    /* §2.7.13.2: avail->ring[(avail->idx + added++) % qsz] = head; idx itself on flush */
    vq_wr16(drv->mem, drv->avail + VQ_AVAIL_RING(drv->avail_idx % drv->size), head);
    drv->avail_idx++;
    drv->inflight++;
    if (head_out) {
        *head_out = head;
    }
    return TERN_OK;
}

bool sim_vq_drv_flush(sim_vq_drv *drv) {
    if (drv->broken) {
        return false;
    }
    /* §2.7.13.3: the new idx is exposed before suppression is checked (§2.7.13.4: "The driver
     * MUST perform a suitable memory barrier before reading flags or avail_event") */
    vq_wr16(drv->mem, drv->avail + 2, drv->avail_idx);
    uint16_t old = drv->kicked_idx, new_idx = drv->avail_idx;
    drv->kicked_idx = new_idx;
    if (old == new_idx) {
        return false;
    }
    bool kick;
    if (drv->mode == SIM_VQ_DRV_NO_SUPPRESS) {
        kick = true;
    } else if (drv->event_idx) {
        /* §2.7.10.1 with EVENT_IDX: notify "If the idx field in the available ring (which
         * determined where that descriptor index was placed) was equal to avail_event" */
        uint16_t ev = 0;
        vq_rd16(drv->mem, drv->used + VQ_AVAIL_EVENT(drv->size), &ev);
        kick = vq_need_event(ev, new_idx, old);
    } else {
        uint16_t flags = 0;
        vq_rd16(drv->mem, drv->used, &flags);
        kick = !(flags & SIM_VIRTQ_USED_F_NO_NOTIFY);
    }
    if (kick) {
        drv->kicks++;
    } else {
        drv->kicks_suppressed++;
    }
    return kick;
}

bool sim_vq_drv_has_used(const sim_vq_drv *drv) {
    uint16_t idx;
    if (drv->broken || !vq_rd16(drv->mem, drv->used + 2, &idx)) {
        return false;
    }
    return idx != drv->last_used;
}

int sim_vq_drv_get_used(sim_vq_drv *drv, uint64_t *token, uint32_t *len) {
    if (drv->broken) {
        return -1;
    }
    uint16_t idx;
    if (!vq_rd16(drv->mem, drv->used + 2, &idx)) {
        return drv_fault(drv, SIM_VIRTIO_FAULT_RING_ADDR, "used idx unreadable");
    }
    uint16_t n = (uint16_t)(idx - drv->last_used);
    if (n == 0) {
        return 0;
    }
    if (n > drv->inflight) {
        return drv_fault(drv, SIM_VIRTIO_FAULT_USED_JUMP,
                         "used idx %u is %u entries ahead of the driver's %u, but only %u buffers "
                         "are outstanding",
                         idx, n, drv->last_used, drv->inflight);
    }
    uint64_t e = drv->used + VQ_USED_RING(drv->last_used % drv->size);
    uint32_t id, l;
    vq_rd32(drv->mem, e, &id);
    vq_rd32(drv->mem, e + 4, &l);
    if (id >= drv->size || !drv->heads[id].busy) {
        return drv_fault(drv, SIM_VIRTIO_FAULT_USED_ID,
                         "used entry %u has id %u, which is not an outstanding buffer",
                         drv->last_used, id);
    }
    sim_vq_drv_head *h = &drv->heads[id];
    if (l > h->writable) {
        return drv_fault(drv, SIM_VIRTIO_FAULT_USED_LEN,
                         "used entry %u (id %u) has len %u above the buffer's %u writable bytes",
                         drv->last_used, id, l, h->writable);
    }
    /* free the chain: ndesc descriptors from the head, following our own links */
    uint16_t cur = (uint16_t)id, last = cur;
    for (uint16_t i = 1; i < h->ndesc; i++) {
        last = drv->link[last];
    }
    drv->link[last] = drv->free_head;
    drv->free_head = cur;
    drv->num_free += h->ndesc;
    h->busy = false;
    drv->inflight--;
    drv->last_used++;
    *token = h->token;
    *len = l;
    /* with EVENT_IDX and interrupts wanted, keep used_event at the next entry we read, as
     * §2.7.7.1 allows ("until the device writes an entry with an index specified by
     * used_event") */
    if (drv->event_idx && drv->cb_enabled && drv->mode != SIM_VQ_DRV_NO_SUPPRESS) {
        vq_wr16(drv->mem, drv->avail + VQ_USED_EVENT(drv->size), drv->last_used);
    }
    return 1;
}

void sim_vq_drv_disable_cb(sim_vq_drv *drv) {
    if (drv->mode == SIM_VQ_DRV_NO_SUPPRESS) {
        return;
    }
    drv->cb_enabled = false;
    if (!drv->event_idx) {
        vq_wr16(drv->mem, drv->avail, SIM_VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    /* with EVENT_IDX, used_event simply stays behind (§2.7.7.1: flags MUST be 0) */
}

bool sim_vq_drv_enable_cb(sim_vq_drv *drv) {
    drv->cb_enabled = true;
    if (drv->event_idx) {
        vq_wr16(drv->mem, drv->avail + VQ_USED_EVENT(drv->size), drv->last_used);
    } else {
        vq_wr16(drv->mem, drv->avail, 0);
    }
    if (drv->mode == SIM_VQ_DRV_NO_RECHECK) {
        return false;
    }
    return sim_vq_drv_has_used(drv);
}

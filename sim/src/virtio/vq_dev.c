/*
 * The device side of a split virtqueue (virtio v1.2 §2.7; tern/sim_virtio.h). Everything read
 * from guest memory is validated before use; the first rule a driver breaks stops the queue
 * with a fault that names the rule, the index and the value.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtio_private.h"

static const char *const fault_names[] = {
    "NONE",          "RING_ADDR",    "AVAIL_JUMP",       "DESC_INDEX",
    "DESC_ADDR",     "LOOP",         "WRITE_ORDER",      "NESTED_INDIRECT",
    "INDIRECT_NEXT", "INDIRECT_LEN", "INDIRECT_FEATURE", "CHAIN_BYTES",
    "USED_ID",       "USED_LEN",     "USED_JUMP",        "NET_HDR",
};

const char *sim_virtio_fault_name(int fault) {
    if (fault < 0 || (size_t)fault >= sizeof fault_names / sizeof fault_names[0]) {
        return "?";
    }
    return fault_names[fault];
}

__attribute__((format(printf, 3, 4))) static int dev_fault(sim_vq_dev *vq, sim_virtio_fault f,
                                                           const char *fmt, ...) {
    vq->broken = true;
    vq->fault = f;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vq->why, sizeof vq->why, fmt, ap);
    va_end(ap);
    return -1;
}

tern_err sim_vq_dev_init(sim_vq_dev *vq, const sim_vmem *mem, uint32_t size, uint64_t desc,
                         uint64_t avail, uint64_t used, uint64_t features) {
    memset(vq, 0, sizeof *vq);
    bool ring_addr;
    if (!vq_check_layout(mem, size, desc, avail, used, vq->why, sizeof vq->why, &ring_addr)) {
        if (ring_addr) {
            vq->fault = SIM_VIRTIO_FAULT_RING_ADDR;
        }
        vq->broken = true;
        return TERN_ERR_INVALID_ARGUMENT;
    }
    vq->segs = calloc(size, sizeof *vq->segs);
    if (!vq->segs) {
        return TERN_ERR_NO_MEMORY;
    }
    vq->mem = mem;
    vq->size = size;
    vq->desc = desc;
    vq->avail = avail;
    vq->used = used;
    vq->event_idx = features >> SIM_VIRTIO_F_EVENT_IDX & 1;
    vq->indirect_ok = features >> SIM_VIRTIO_F_INDIRECT_DESC & 1;
    return TERN_OK;
}

void sim_vq_dev_free(sim_vq_dev *vq) {
    free(vq->segs);
    vq->segs = NULL;
}

int sim_vq_dev_pending(sim_vq_dev *vq) {
    if (vq->broken) {
        return -1;
    }
    uint16_t idx;
    if (!vq_rd16(vq->mem, vq->avail + 2, &idx)) {
        return dev_fault(vq, SIM_VIRTIO_FAULT_RING_ADDR, "available ring idx unreadable");
    }
    uint16_t n = (uint16_t)(idx - vq->last_avail);
    /* §2.7.13.1: the ring is as large as the table, so the driver can never be more than
     * `size` entries ahead; a bigger jump is a driver bug (or a decremented idx, which §2.7.6
     * forbids: "A driver MUST NOT decrement the available idx") */
    if (n > vq->size) {
        return dev_fault(vq, SIM_VIRTIO_FAULT_AVAIL_JUMP,
                         "avail idx %u is %u entries ahead of the device's %u, queue size %u", idx,
                         n, vq->last_avail, vq->size);
    }
    return n;
}

int sim_vq_dev_pop(sim_vq_dev *vq, sim_vq_chain *out) {
    int n = sim_vq_dev_pending(vq);
    if (n <= 0) {
        return n;
    }
    uint16_t head;
    uint16_t slot = (uint16_t)(vq->last_avail % vq->size);
    if (!vq_rd16(vq->mem, vq->avail + VQ_AVAIL_RING(slot), &head)) {
        return dev_fault(vq, SIM_VIRTIO_FAULT_RING_ADDR, "available ring entry %u unreadable",
                         slot);
    }
    if (head >= vq->size) {
        return dev_fault(vq, SIM_VIRTIO_FAULT_DESC_INDEX,
                         "avail ring entry %u (avail index %u) holds head %u, queue size %u", slot,
                         vq->last_avail, head, vq->size);
    }
    uint64_t table = vq->desc;
    uint32_t tsize = vq->size, ndesc = 0, nseg = 0;
    uint16_t idx = head;
    bool in_indirect = false, seen_write = false;
    uint64_t readable = 0, writable = 0;
    for (;;) {
        /* §2.7.5.3.1: "A driver MUST NOT create a descriptor chain longer than the Queue Size
         * of the device"; the walk stops there, so a loop costs at most `size` steps */
        if (++ndesc > vq->size) {
            return dev_fault(vq, SIM_VIRTIO_FAULT_LOOP,
                             "chain of head %u has more than %u descriptors (queue size): a loop "
                             "or a chain too long, at %s index %u",
                             head, vq->size, in_indirect ? "indirect" : "descriptor", idx);
        }
        vq_desc d;
        if (!vq_rd_desc(vq->mem, table + (uint64_t)idx * VQ_DESC_SIZE, &d)) {
            return dev_fault(vq, SIM_VIRTIO_FAULT_DESC_ADDR, "descriptor %u of head %u unreadable",
                             idx, head);
        }
        if (d.flags & SIM_VIRTQ_DESC_F_INDIRECT) {
            if (!vq->indirect_ok) {
                return dev_fault(vq, SIM_VIRTIO_FAULT_INDIRECT_FEATURE,
                                 "descriptor %u of head %u is INDIRECT but "
                                 "VIRTIO_F_INDIRECT_DESC was not negotiated",
                                 idx, head);
            }
            if (in_indirect) {
                return dev_fault(vq, SIM_VIRTIO_FAULT_NESTED_INDIRECT,
                                 "indirect descriptor %u of head %u is INDIRECT again (only one "
                                 "table per descriptor)",
                                 idx, head);
            }
            if (d.flags & SIM_VIRTQ_DESC_F_NEXT) {
                return dev_fault(vq, SIM_VIRTIO_FAULT_INDIRECT_NEXT,
                                 "descriptor %u of head %u has both INDIRECT and NEXT", idx, head);
            }
            if (d.len == 0 || d.len % VQ_DESC_SIZE) {
                return dev_fault(vq, SIM_VIRTIO_FAULT_INDIRECT_LEN,
                                 "indirect table of descriptor %u (head %u) has length %u: not a "
                                 "non-zero multiple of 16",
                                 idx, head, d.len);
            }
            if (!sim_vmem_contains(vq->mem, d.addr, d.len)) {
                return dev_fault(vq, SIM_VIRTIO_FAULT_DESC_ADDR,
                                 "indirect table at 0x%llx, %u bytes (descriptor %u, head %u) is "
                                 "not inside guest memory",
                                 (unsigned long long)d.addr, d.len, idx, head);
            }
            /* the WRITE flag of this descriptor is ignored (§2.7.5.3.2) */
            table = d.addr;
            tsize = d.len / VQ_DESC_SIZE;
            idx = 0;
            in_indirect = true;
            out->indirect = true;
            continue;
        }
        if (!sim_vmem_contains(vq->mem, d.addr, d.len)) {
            return dev_fault(vq, SIM_VIRTIO_FAULT_DESC_ADDR,
                             "buffer at 0x%llx, %u bytes (%s %u, head %u) is not inside guest "
                             "memory",
                             (unsigned long long)d.addr, d.len,
                             in_indirect ? "indirect descriptor" : "descriptor", idx, head);
        }
        bool w = d.flags & SIM_VIRTQ_DESC_F_WRITE;
        /* §2.7.4.2: "The driver MUST place any device-writable descriptor elements after any
         * device-readable descriptor elements." */
        if (!w && seen_write) {
            return dev_fault(vq, SIM_VIRTIO_FAULT_WRITE_ORDER,
                             "%s %u of head %u is device-readable after a device-writable one",
                             in_indirect ? "indirect descriptor" : "descriptor", idx, head);
        }
        seen_write |= w;
        vq->segs[nseg++] = (sim_vq_seg){d.addr, d.len, w};
        if (w) {
            writable += d.len;
        } else {
            readable += d.len;
        }
        /* §2.7.5.2: "Drivers MUST NOT add a descriptor chain longer than 2^32 bytes in total" */
        if (readable + writable > UINT32_MAX) {
            return dev_fault(vq, SIM_VIRTIO_FAULT_CHAIN_BYTES,
                             "chain of head %u is longer than 2^32 bytes", head);
        }
        if (!(d.flags & SIM_VIRTQ_DESC_F_NEXT)) {
            break;
        }
        if (d.next >= tsize) {
            return dev_fault(
                vq, SIM_VIRTIO_FAULT_DESC_INDEX, "%s %u of head %u has next %u, table size %u",
                in_indirect ? "indirect descriptor" : "descriptor", idx, head, d.next, tsize);
        }
        idx = d.next;
    }
    out->head = head;
    out->nseg = nseg;
    out->seg = vq->segs;
    out->readable = readable;
    out->writable = writable;
    out->ndesc = ndesc;
    out->indirect = in_indirect;
    vq->last_avail++;
    vq->popped++;
    return 1;
}

/* Copy between buf and the part of the chain selected by `write`, from byte off of that part. */
static uint64_t copy_part(const sim_vq_dev *vq, const sim_vq_chain *c, bool write, uint64_t off,
                          uint8_t *buf, const uint8_t *src, uint64_t len) {
    uint64_t done = 0;
    for (uint32_t i = 0; i < c->nseg && done < len; i++) {
        const sim_vq_seg *sg = &c->seg[i];
        if (sg->write != write) {
            continue;
        }
        if (off >= sg->len) {
            off -= sg->len;
            continue;
        }
        uint64_t n = sg->len - off;
        if (n > len - done) {
            n = len - done;
        }
        /* the segments were checked when popped; a failed copy here would be our bug */
        bool ok = write ? sim_vmem_write(vq->mem, sg->addr + off, src + done, n)
                        : sim_vmem_read(vq->mem, sg->addr + off, buf + done, n);
        if (!ok) {
            break;
        }
        done += n;
        off = 0;
    }
    return done;
}

uint64_t sim_vq_dev_read(const sim_vq_dev *vq, const sim_vq_chain *c, uint64_t off, void *buf,
                         uint64_t len) {
    return copy_part(vq, c, false, off, buf, NULL, len);
}

uint64_t sim_vq_dev_write(const sim_vq_dev *vq, const sim_vq_chain *c, uint64_t off,
                          const void *buf, uint64_t len) {
    return copy_part(vq, c, true, off, NULL, buf, len);
}

tern_err sim_vq_dev_push(sim_vq_dev *vq, uint16_t head, uint32_t len) {
    if (vq->broken) {
        return TERN_ERR_BAD_STATE;
    }
    uint64_t e = vq->used + VQ_USED_RING(vq->used_idx % vq->size);
    /* §2.7.8.1: "The device MUST set len prior to updating the used idx." */
    if (!vq_wr32(vq->mem, e, head) || !vq_wr32(vq->mem, e + 4, len)) {
        dev_fault(vq, SIM_VIRTIO_FAULT_RING_ADDR, "used ring entry unwritable");
        return TERN_ERR_BAD_STATE;
    }
    vq->used_idx++;
    if (!vq_wr16(vq->mem, vq->used + 2, vq->used_idx)) {
        dev_fault(vq, SIM_VIRTIO_FAULT_RING_ADDR, "used idx unwritable");
        return TERN_ERR_BAD_STATE;
    }
    vq->pushed++;
    return TERN_OK;
}

bool sim_vq_dev_need_notify(sim_vq_dev *vq) {
    uint16_t old = vq->signalled, new_idx = vq->used_idx;
    vq->signalled = new_idx;
    if (old == new_idx || vq->broken) {
        return false;
    }
    bool notify;
    if (vq->event_idx) {
        /* §2.7.7.2 with EVENT_IDX: "If the idx field in the used ring (which determined where
         * that descriptor index was placed) was equal to used_event, the device MUST send a
         * notification. Otherwise the device SHOULD NOT send a notification." */
        uint16_t ev = 0;
        vq_rd16(vq->mem, vq->avail + VQ_USED_EVENT(vq->size), &ev);
        notify = vq_need_event(ev, new_idx, old);
    } else {
        /* without EVENT_IDX: "If flags is 1, the device SHOULD NOT send a notification. If flags
         * is 0, the device MUST send a notification." */
        uint16_t flags = 0;
        vq_rd16(vq->mem, vq->avail, &flags);
        notify = !(flags & SIM_VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    if (notify) {
        vq->notifications++;
    } else {
        vq->suppressed++;
    }
    return notify;
}

void sim_vq_dev_set_notify(sim_vq_dev *vq, bool enable) {
    if (vq->broken) {
        return;
    }
    if (vq->event_idx) {
        /* §2.7.10.2: "The device MAY use avail_event to advise the driver that notifications are
         * unnecessary until the driver writes entry with an index specified by avail_event";
         * disabling leaves avail_event behind, which the driver will not cross again soon */
        if (enable) {
            vq_wr16(vq->mem, vq->used + VQ_AVAIL_EVENT(vq->size), vq->last_avail);
        }
    } else {
        vq_wr16(vq->mem, vq->used, enable ? 0 : SIM_VIRTQ_USED_F_NO_NOTIFY);
    }
}

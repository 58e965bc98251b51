/*
 * Guest memory (tern/sim_virtio.h): regions of guest-physical addresses, and the only way the
 * virtio code touches them. Every access is checked against the regions first, so nothing a
 * driver writes into a ring can make the device read or write outside the driver's memory.
 */
#include <stdio.h>
#include <string.h>

#include "virtio/virtio_private.h"

tern_err sim_vmem_add_region(sim_vmem *m, uint64_t gpa, uint64_t size, void *host) {
    if (!m || !host || size == 0 || gpa + size < gpa) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    for (uint32_t i = 0; i < m->nregions; i++) {
        const sim_vmem_region *r = &m->region[i];
        if (gpa < r->gpa + r->size && r->gpa < gpa + size) {
            return TERN_ERR_INVALID_ARGUMENT;
        }
    }
    if (m->nregions >= SIM_VMEM_MAX_REGIONS) {
        return TERN_ERR_NO_BUFFER;
    }
    m->region[m->nregions++] = (sim_vmem_region){gpa, size, host};
    return TERN_OK;
}

/* The region holding gpa, or NULL. */
static const sim_vmem_region *find(const sim_vmem *m, uint64_t gpa) {
    for (uint32_t i = 0; i < m->nregions; i++) {
        const sim_vmem_region *r = &m->region[i];
        if (gpa >= r->gpa && gpa - r->gpa < r->size) {
            return r;
        }
    }
    return NULL;
}

bool sim_vmem_contains(const sim_vmem *m, uint64_t gpa, uint64_t len) {
    if (len == 0) {
        return true;
    }
    if (!m || gpa + len < gpa) {
        return false;
    }
    /* each step moves to the end of a region: at most nregions steps */
    for (uint32_t steps = 0; steps <= SIM_VMEM_MAX_REGIONS; steps++) {
        const sim_vmem_region *r = find(m, gpa);
        if (!r) {
            return false;
        }
        uint64_t room = r->size - (gpa - r->gpa);
        if (room >= len) {
            return true;
        }
        gpa += room;
        len -= room;
    }
    return false;
}

bool sim_vmem_read(const sim_vmem *m, uint64_t gpa, void *buf, uint64_t len) {
    if (!sim_vmem_contains(m, gpa, len)) {
        return false;
    }
    uint8_t *out = buf;
    while (len > 0) {
        const sim_vmem_region *r = find(m, gpa);
        uint64_t off = gpa - r->gpa, n = r->size - off < len ? r->size - off : len;
        memcpy(out, r->host + off, n);
        out += n;
        gpa += n;
        len -= n;
    }
    return true;
}

bool sim_vmem_write(const sim_vmem *m, uint64_t gpa, const void *buf, uint64_t len) {
    if (!sim_vmem_contains(m, gpa, len)) {
        return false;
    }
    const uint8_t *in = buf;
    while (len > 0) {
        const sim_vmem_region *r = find(m, gpa);
        uint64_t off = gpa - r->gpa, n = r->size - off < len ? r->size - off : len;
        memcpy(r->host + off, in, n);
        in += n;
        gpa += n;
        len -= n;
    }
    return true;
}

/* Little-endian fields, byte by byte (no struct casts, no unaligned access). */
bool vq_rd16(const sim_vmem *m, uint64_t gpa, uint16_t *v) {
    uint8_t b[2];
    if (!sim_vmem_read(m, gpa, b, 2)) {
        return false;
    }
    *v = (uint16_t)(b[0] | b[1] << 8);
    return true;
}

bool vq_wr16(const sim_vmem *m, uint64_t gpa, uint16_t v) {
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return sim_vmem_write(m, gpa, b, 2);
}

bool vq_rd32(const sim_vmem *m, uint64_t gpa, uint32_t *v) {
    uint8_t b[4];
    if (!sim_vmem_read(m, gpa, b, 4)) {
        return false;
    }
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

bool vq_wr32(const sim_vmem *m, uint64_t gpa, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return sim_vmem_write(m, gpa, b, 4);
}

bool vq_rd_desc(const sim_vmem *m, uint64_t gpa, vq_desc *d) {
    uint8_t b[16];
    if (!sim_vmem_read(m, gpa, b, 16)) {
        return false;
    }
    d->addr = 0;
    for (int i = 7; i >= 0; i--) {
        d->addr = d->addr << 8 | b[i];
    }
    d->len = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
    d->flags = (uint16_t)(b[12] | b[13] << 8);
    d->next = (uint16_t)(b[14] | b[15] << 8);
    return true;
}

bool vq_wr_desc(const sim_vmem *m, uint64_t gpa, const vq_desc *d) {
    uint8_t b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(d->addr >> (8 * i));
    }
    for (int i = 0; i < 4; i++) {
        b[8 + i] = (uint8_t)(d->len >> (8 * i));
    }
    b[12] = (uint8_t)d->flags;
    b[13] = (uint8_t)(d->flags >> 8);
    b[14] = (uint8_t)d->next;
    b[15] = (uint8_t)(d->next >> 8);
    return sim_vmem_write(m, gpa, b, 16);
}

bool vq_check_layout(const sim_vmem *m, uint32_t size, uint64_t desc, uint64_t avail, uint64_t used,
                     char *why, size_t cap, bool *ring_addr) {
    *ring_addr = false;
    if (size == 0 || size > SIM_VIRTQ_MAX_SIZE || (size & (size - 1)) != 0) {
        snprintf(why, cap, "queue size %u: must be a power of 2 in 1..32768", size);
        return false;
    }
    /* §2.7: "The driver MUST ensure that the physical address of the first byte of each
     * virtqueue part is a multiple of the specified alignment value" (16, 2, 4) */
    if (desc % 16 || avail % 2 || used % 4) {
        snprintf(why, cap, "misaligned ring: desc 0x%llx (16), avail 0x%llx (2), used 0x%llx (4)",
                 (unsigned long long)desc, (unsigned long long)avail, (unsigned long long)used);
        *ring_addr = true;
        return false;
    }
    const char *part = NULL;
    uint64_t at = 0;
    if (!sim_vmem_contains(m, desc, VQ_DESC_BYTES(size))) {
        part = "descriptor table", at = desc;
    } else if (!sim_vmem_contains(m, avail, VQ_AVAIL_BYTES(size))) {
        part = "available ring", at = avail;
    } else if (!sim_vmem_contains(m, used, VQ_USED_BYTES(size))) {
        part = "used ring", at = used;
    }
    if (part) {
        snprintf(why, cap, "%s at 0x%llx (queue size %u) is not inside guest memory", part,
                 (unsigned long long)at, size);
        *ring_addr = true;
        return false;
    }
    return true;
}

/*
 * fuzz_virtio: the virtio device side (sim/src/virtio) on arbitrary driver memory: descriptor
 * table, available ring and buffers come from the input, then the device pops every chain,
 * reads and writes them, returns them and decides notifications; the receive placement of
 * virtio-net (num_buffers, MRG_RXBUF) runs on the same rings; the driver side takes arbitrary
 * used rings. Oracles: no sanitizer report (nothing read or written outside guest memory), every
 * chain's elements inside guest memory and at most `size` descriptors, at most `size` chains a
 * round (no unbounded loop), a broken queue stays broken.
 *
 * Input: byte 0 queue size (1 << (b % 5)), byte 1 features (bit 0 EVENT_IDX, bit 1
 * INDIRECT_DESC, bit 2 MRG_RXBUF), then the guest memory image (8 KiB at GPA 0x10000: table at
 * +0, available ring at +0x100, used ring at +0x140, buffers after +0x200).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tern/sim_virtio.h"
#include "virtio/virtio_private.h"

#define GPA 0x10000u
#define MEM 8192u

static void check(int cond) {
    if (!cond) {
        abort();
    }
}

static void device_side(uint8_t *ram, uint32_t size, uint64_t feat, bool mrg) {
    sim_vmem m = {0};
    sim_vmem_add_region(&m, GPA, MEM, ram);
    sim_vq_dev d;
    if (sim_vq_dev_init(&d, &m, size, GPA, GPA + 0x100, GPA + 0x140, feat) != TERN_OK) {
        return;
    }
    static uint8_t scratch[MEM];
    uint32_t rounds = 0;
    for (;;) {
        sim_vq_chain c;
        int r = sim_vq_dev_pop(&d, &c);
        if (r < 0) {
            check(d.broken && d.fault != SIM_VIRTIO_FAULT_NONE);
            check(sim_vq_dev_pop(&d, &c) == -1);
            break;
        }
        if (r == 0) {
            break;
        }
        check(++rounds <= size); /* never more chains than entries made available */
        check(c.nseg <= size && c.ndesc <= size);
        check(c.readable + c.writable <= UINT32_MAX);
        for (uint32_t i = 0; i < c.nseg; i++) {
            check(sim_vmem_contains(&m, c.seg[i].addr, c.seg[i].len));
        }
        uint64_t n = c.readable < sizeof scratch ? c.readable : sizeof scratch;
        check(sim_vq_dev_read(&d, &c, 0, scratch, n) == n);
        uint64_t w = c.writable < 64 ? c.writable : 64;
        memset(scratch, 0xA5, 64);
        check(sim_vq_dev_write(&d, &c, 0, scratch, w) == w);
        sim_vq_dev_push(&d, c.head, (uint32_t)w);
    }
    sim_vq_dev_need_notify(&d);
    sim_vq_dev_set_notify(&d, rounds & 1);
    sim_vq_dev_free(&d);

    /* receive placement on the same rings, from the start */
    if (sim_vq_dev_init(&d, &m, size, GPA, GPA + 0x100, GPA + 0x140, feat) != TERN_OK) {
        return;
    }
    static uint8_t frame[1514];
    memset(frame, 0x5A, sizeof frame);
    for (int i = 0; i < 4; i++) {
        uint32_t nbuf = 0;
        vnet_rx_result res = vnet_rx_place(&d, mrg, frame, 60 + 400u * (uint32_t)i, &nbuf);
        if (res == VNET_RX_PLACED) {
            check(nbuf >= 1 && nbuf <= size && (mrg || nbuf == 1));
        }
        if (res == VNET_RX_WAIT || res == VNET_RX_FAULT) {
            break;
        }
    }
    sim_vq_dev_free(&d);
}

/* The driver side takes a used ring the device (the input) wrote. */
static void driver_side(const uint8_t *image, uint32_t size, uint64_t feat) {
    static uint8_t ram[MEM];
    memset(ram, 0, sizeof ram);
    sim_vmem m = {0};
    sim_vmem_add_region(&m, GPA, MEM, ram);
    sim_vq_drv v;
    if (sim_vq_drv_init(&v, &m, size, GPA, GPA + 0x100, GPA + 0x140, feat, GPA + 0x1000, 4,
                        SIM_VQ_DRV_CORRECT) != TERN_OK) {
        return;
    }
    for (uint32_t i = 0; i < size; i++) {
        sim_vq_seg s = {GPA + 0x200 + 16 * i, 16, (i & 1) != 0};
        sim_vq_drv_add(&v, &s, 1, (i & 2) != 0, i, NULL);
    }
    sim_vq_drv_flush(&v);
    memcpy(ram + 0x140, image + 0x140, 0xC0); /* the used ring as the "device" wrote it */
    uint64_t tok;
    uint32_t len;
    uint32_t got = 0;
    int r;
    while ((r = sim_vq_drv_get_used(&v, &tok, &len)) == 1) {
        check(++got <= size && tok < size && len <= 16);
    }
    check(v.num_free <= size);
    sim_vq_drv_enable_cb(&v);
    sim_vq_drv_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    if (len < 2) {
        return 0;
    }
    uint32_t size = 1u << (data[0] % 5);
    uint64_t feat = (data[1] & 1 ? 1ull << SIM_VIRTIO_F_EVENT_IDX : 0) |
                    (data[1] & 2 ? 1ull << SIM_VIRTIO_F_INDIRECT_DESC : 0);
    bool mrg = data[1] & 4;
    static uint8_t ram[MEM];
    memset(ram, 0, sizeof ram);
    size_t n = len - 2 < MEM ? len - 2 : MEM;
    memcpy(ram, data + 2, n);
    static uint8_t image[MEM];
    memcpy(image, ram, MEM);
    device_side(ram, size, feat, mrg);
    driver_side(image, size, feat);
    return 0;
}

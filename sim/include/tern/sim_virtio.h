/*
 * virtio for libternsim: a virtio 1.x split virtqueue (virtio v1.2 §2.7), both its device side and
 * its driver side, over a guest memory made of bounds-checked regions; a virtio-net device (§5.1)
 * as a simulator node; and the native ping responder of the seL4 CAmkES "virtio net ping" demo.
 *
 * Guest memory. Everything a driver shares with a device lives in guest memory, addressed by
 * guest-physical addresses (GPAs). A sim_vmem lists the regions the device may touch; every read
 * and write of the device (and of our driver) goes through sim_vmem_read/sim_vmem_write, which
 * refuse any access that is not entirely inside the regions. A malformed ring therefore gives an
 * error, never a read or write outside the driver's memory.
 *
 * Virtqueues. The layout is the spec's (little-endian, §2.7): a descriptor table of 16-byte
 * descriptors {le64 addr; le32 len; le16 flags; le16 next}, an available ring {le16 flags; le16
 * idx; le16 ring[size]; le16 used_event}, and a used ring {le16 flags; le16 idx; {le32 id; le32
 * len} ring[size]; le16 avail_event}. Indices are free-running 16-bit counters. A user's own
 * driver written against this layout plugs in by writing its rings into a sim_vmem region and
 * driving a sim_vq_dev (or the virtio-net node's guest memory, sim_virtio_net_mem) directly.
 *
 * Faults. A device that finds a driver breaking a rule of §2.7 stops using the queue, records a
 * sim_virtio_fault with a message naming the queue, the index and the value, and (for the
 * virtio-net node) sets DEVICE_NEEDS_RESET in its device status (§2.1: "The device SHOULD set
 * DEVICE_NEEDS_RESET when it enters an error state that a reset is needed").
 *
 * Errors: functions return a tern_err (TERN_OK, or a negative code); the node functions also leave
 * a message in sim_last_error().
 */
#ifndef TERN_SIM_VIRTIO_H
#define TERN_SIM_VIRTIO_H

#ifndef TERN_CDEF
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/sim.h"
#endif

/* ------------------------------------------------------------------------ */
/* Constants of the specification                                            */
/* ------------------------------------------------------------------------ */

/* Descriptor flags (§2.7.5). */
#define SIM_VIRTQ_DESC_F_NEXT 1
#define SIM_VIRTQ_DESC_F_WRITE 2
#define SIM_VIRTQ_DESC_F_INDIRECT 4
/* Available ring flag (§2.7.7) and used ring flag (§2.7.10). */
#define SIM_VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define SIM_VIRTQ_USED_F_NO_NOTIFY 1
/* Largest queue size (§2.7: "The maximum Queue Size value is 32768"). */
#define SIM_VIRTQ_MAX_SIZE 32768

/* Reserved feature bits (§6). */
#define SIM_VIRTIO_F_INDIRECT_DESC 28
#define SIM_VIRTIO_F_EVENT_IDX 29
#define SIM_VIRTIO_F_VERSION_1 32
/* virtio-net feature bits (§5.1.3). */
#define SIM_VIRTIO_NET_F_MTU 3
#define SIM_VIRTIO_NET_F_MAC 5
#define SIM_VIRTIO_NET_F_MRG_RXBUF 15
#define SIM_VIRTIO_NET_F_STATUS 16
/* virtio-net config status bit (§5.1.4). */
#define SIM_VIRTIO_NET_S_LINK_UP 1
/* Size of struct virtio_net_hdr in virtio 1.x, num_buffers included (§5.1.6). */
#define SIM_VIRTIO_NET_HDR_LEN 12

/* Device status bits (§2.1). */
#define SIM_VIRTIO_STATUS_ACKNOWLEDGE 1
#define SIM_VIRTIO_STATUS_DRIVER 2
#define SIM_VIRTIO_STATUS_DRIVER_OK 4
#define SIM_VIRTIO_STATUS_FEATURES_OK 8
#define SIM_VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define SIM_VIRTIO_STATUS_FAILED 128

/* ------------------------------------------------------------------------ */
/* Guest memory                                                              */
/* ------------------------------------------------------------------------ */

#define SIM_VMEM_MAX_REGIONS 8

/* One region: `size` bytes of guest-physical addresses from `gpa`, at `host` in this process. */
typedef struct sim_vmem_region {
    uint64_t gpa;
    uint64_t size;
    uint8_t *host;
} sim_vmem_region;

/* A guest memory: up to SIM_VMEM_MAX_REGIONS regions, which must not overlap. */
typedef struct sim_vmem {
    uint32_t nregions;
    sim_vmem_region region[SIM_VMEM_MAX_REGIONS];
} sim_vmem;

/*
 * sim_vmem_add_region: add a region to a guest memory.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for a size of 0, a NULL host pointer, a region whose
 * end overflows 64 bits or that overlaps another; TERN_ERR_NO_BUFFER when the memory has
 * SIM_VMEM_MAX_REGIONS regions already.
 */
tern_err sim_vmem_add_region(sim_vmem *m, uint64_t gpa, uint64_t size, void *host);

/*
 * sim_vmem_read / sim_vmem_write: copy `len` bytes from / to guest memory at `gpa`. The range may
 * span adjacent regions. Returns true; false (nothing copied) when any byte of [gpa, gpa+len) lies
 * outside every region or the range wraps past 2^64. A len of 0 is always true.
 */
bool sim_vmem_read(const sim_vmem *m, uint64_t gpa, void *buf, uint64_t len);
bool sim_vmem_write(const sim_vmem *m, uint64_t gpa, const void *buf, uint64_t len);

/* sim_vmem_contains: true when every byte of [gpa, gpa+len) is guest memory. */
bool sim_vmem_contains(const sim_vmem *m, uint64_t gpa, uint64_t len);

/* ------------------------------------------------------------------------ */
/* Faults a device finds in what a driver wrote                              */
/* ------------------------------------------------------------------------ */

typedef enum sim_virtio_fault {
    SIM_VIRTIO_FAULT_NONE = 0,
    SIM_VIRTIO_FAULT_RING_ADDR = 1,         /* a ring lies outside guest memory or is misaligned */
    SIM_VIRTIO_FAULT_AVAIL_JUMP = 2,        /* avail idx moved more than the queue size ahead */
    SIM_VIRTIO_FAULT_DESC_INDEX = 3,        /* a head or next index >= the table's size */
    SIM_VIRTIO_FAULT_DESC_ADDR = 4,         /* a buffer lies outside guest memory */
    SIM_VIRTIO_FAULT_LOOP = 5,              /* a chain longer than the queue: a loop */
    SIM_VIRTIO_FAULT_WRITE_ORDER = 6,       /* a device-readable descriptor after a writable one */
    SIM_VIRTIO_FAULT_NESTED_INDIRECT = 7,   /* INDIRECT inside an indirect table */
    SIM_VIRTIO_FAULT_INDIRECT_NEXT = 8,     /* INDIRECT and NEXT both set */
    SIM_VIRTIO_FAULT_INDIRECT_LEN = 9,      /* indirect table length 0 or not a multiple of 16 */
    SIM_VIRTIO_FAULT_INDIRECT_FEATURE = 10, /* INDIRECT used but VIRTIO_F_INDIRECT_DESC not
                                               negotiated */
    SIM_VIRTIO_FAULT_CHAIN_BYTES = 11,      /* a chain of more than 2^32 bytes */
    SIM_VIRTIO_FAULT_USED_ID = 12,          /* (driver side) used id not a buffer the driver made */
    SIM_VIRTIO_FAULT_USED_LEN = 13,         /* (driver side) used len above the writable bytes */
    SIM_VIRTIO_FAULT_USED_JUMP = 14, /* (driver side) used idx moved past what was made available */
    SIM_VIRTIO_FAULT_NET_HDR = 15,   /* virtio-net: a transmit buffer shorter than its header */
} sim_virtio_fault;

/* sim_virtio_fault_name: the name of a fault ("LOOP"), "?" for an unknown value. Never NULL. */
const char *sim_virtio_fault_name(int fault);

/* ------------------------------------------------------------------------ */
/* Split virtqueue: device side                                              */
/* ------------------------------------------------------------------------ */

/* One buffer element of a chain, as the device found it. */
typedef struct sim_vq_seg {
    uint64_t addr;
    uint32_t len;
    bool write; /* device-writable */
} sim_vq_seg;

/* A descriptor chain popped from the available ring. */
typedef struct sim_vq_chain {
    uint16_t head;     /* its head index: what goes into the used ring's id */
    uint32_t nseg;     /* elements in seg[] */
    uint64_t readable; /* device-readable bytes, in all */
    uint64_t writable; /* device-writable bytes, in all */
    sim_vq_seg *seg;   /* the elements (owned by the queue; valid until the next pop) */
    uint32_t ndesc;    /* descriptors walked, indirect table entries included */
    bool indirect;     /* the chain used an indirect table */
} sim_vq_chain;

/* Device side of a split virtqueue. Set up with sim_vq_dev_init; free with sim_vq_dev_free. */
typedef struct sim_vq_dev {
    const sim_vmem *mem;
    uint32_t size;
    uint64_t desc, avail, used; /* GPAs of the three parts */
    bool event_idx;             /* VIRTIO_F_EVENT_IDX negotiated */
    bool indirect_ok;           /* VIRTIO_F_INDIRECT_DESC negotiated */
    uint16_t last_avail;        /* next avail ring entry the device reads */
    uint16_t used_idx;          /* the device's used idx (also written to guest memory) */
    uint16_t signalled;         /* used idx at the last notification decision */
    bool broken;                /* a fault was found: the queue is not used any more */
    sim_virtio_fault fault;
    char why[200];
    sim_vq_seg *segs; /* `size` elements, for chains */
    /* counters */
    uint64_t popped, pushed, notifications, suppressed;
} sim_vq_dev;

/*
 * sim_vq_dev_init: set up the device side of a queue of `size` entries whose parts are at `desc`,
 * `avail`, `used` in `mem` (which must outlive the queue), with the negotiated `features` (bits
 * VIRTIO_F_EVENT_IDX and VIRTIO_F_INDIRECT_DESC are used). The device's view starts at index 0.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (vq->why says why) for a size that is not a power of
 * 2 in 1..32768, or a part that is misaligned (16, 2, 4 bytes, §2.7) or not inside mem (then also
 * vq->fault = RING_ADDR); TERN_ERR_NO_MEMORY.
 */
tern_err sim_vq_dev_init(sim_vq_dev *vq, const sim_vmem *mem, uint32_t size, uint64_t desc,
                         uint64_t avail, uint64_t used, uint64_t features);

/* sim_vq_dev_free: release what sim_vq_dev_init allocated (the memory is not the queue's). */
void sim_vq_dev_free(sim_vq_dev *vq);

/*
 * sim_vq_dev_pending: how many chains the driver has made available that the device did not pop.
 * Returns that number (0..size), or -1 on a fault (the avail idx is more than size ahead of the
 * device's: AVAIL_JUMP), or for a broken queue.
 */
int sim_vq_dev_pending(sim_vq_dev *vq);

/*
 * sim_vq_dev_pop: take the next available chain and validate it whole: every index below the
 * table's size, every buffer inside guest memory, at most `size` descriptors (a loop cannot run
 * for ever), device-writable elements only after the readable ones, INDIRECT only if negotiated,
 * never with NEXT and never inside an indirect table, a table length a non-zero multiple of 16,
 * at most 2^32 bytes in all. The work is bounded by the queue size.
 * Returns 1 with *out filled; 0 if nothing is available; -1 on a fault (vq->fault, vq->why; the
 * queue is broken from then on and every later call returns -1).
 */
int sim_vq_dev_pop(sim_vq_dev *vq, sim_vq_chain *out);

/*
 * sim_vq_dev_read: copy up to `len` device-readable bytes of a chain, from byte `off` of its
 * readable part. Returns the number of bytes copied (less than len at the end of the readable
 * part).
 */
uint64_t sim_vq_dev_read(const sim_vq_dev *vq, const sim_vq_chain *c, uint64_t off, void *buf,
                         uint64_t len);

/*
 * sim_vq_dev_write: copy `len` bytes into the device-writable part of a chain from byte `off` of
 * that part. Returns the number of bytes written (less than len when the part ends).
 */
uint64_t sim_vq_dev_write(const sim_vq_dev *vq, const sim_vq_chain *c, uint64_t off,
                          const void *buf, uint64_t len);

/*
 * sim_vq_dev_push: return a chain to the driver: write {id = head, len} into the used ring, then
 * the used idx (§2.7.8: "The device MUST set len prior to updating the used idx"). `len` is the
 * number of bytes the device wrote into the chain's writable part.
 * Returns TERN_OK; TERN_ERR_BAD_STATE for a broken queue.
 */
tern_err sim_vq_dev_push(sim_vq_dev *vq, uint16_t head, uint32_t len);

/*
 * sim_vq_dev_need_notify: whether the device must send a used buffer notification now for what it
 * pushed since the last call (§2.7.7.2): with EVENT_IDX, when the used idx passed used_event;
 * otherwise when the available ring's flags are 0.
 */
bool sim_vq_dev_need_notify(sim_vq_dev *vq);

/*
 * sim_vq_dev_set_notify: advise the driver whether the device wants available buffer
 * notifications (§2.7.10): with EVENT_IDX, avail_event is set to the device's next avail index
 * (enable) and flags stay 0; otherwise used flags is 0 (enable) or NO_NOTIFY (disable).
 */
void sim_vq_dev_set_notify(sim_vq_dev *vq, bool enable);

/* ------------------------------------------------------------------------ */
/* Split virtqueue: driver side                                              */
/* ------------------------------------------------------------------------ */

/* How a driver handles notification suppression: right, or wrong on purpose (to test a device). */
typedef enum sim_vq_drv_mode {
    SIM_VQ_DRV_CORRECT = 0,     /* as §2.7.7 and §2.7.10 say, re-checking after enabling */
    SIM_VQ_DRV_NO_SUPPRESS = 1, /* ignores the device's suppression: kicks after every add, never
                                   suppresses interrupts */
    SIM_VQ_DRV_NO_RECHECK = 2,  /* enables interrupts without re-checking the used ring: the lost
                                   wake-up bug */
} sim_vq_drv_mode;

/* Per-head state of a driver queue. */
typedef struct sim_vq_drv_head {
    uint64_t token;    /* the caller's value for the buffer */
    uint32_t writable; /* device-writable bytes of the buffer */
    uint16_t ndesc;    /* table descriptors it uses (1 for an indirect buffer) */
    bool busy;
} sim_vq_drv_head;

/* Driver side of a split virtqueue. */
typedef struct sim_vq_drv {
    const sim_vmem *mem;
    uint32_t size;
    uint64_t desc, avail, used;
    bool event_idx, indirect_ok;
    uint64_t indirect_base; /* GPA of the indirect tables: size tables of indirect_max entries */
    uint32_t indirect_max;
    sim_vq_drv_mode mode;
    uint16_t free_head;
    uint32_t num_free;
    uint16_t avail_idx;  /* the driver's shadow of avail idx (published by flush) */
    uint16_t kicked_idx; /* avail idx at the last kick decision */
    uint16_t last_used;  /* next used entry the driver reads */
    bool cb_enabled;     /* used buffer notifications wanted */
    bool broken;
    sim_virtio_fault fault;
    char why[200];
    sim_vq_drv_head *heads; /* size entries */
    uint16_t *link;         /* size entries: the free list and each chain, kept outside guest
                               memory so that nothing a device writes can corrupt them */
    uint32_t inflight;      /* buffers made available and not yet returned */
    uint64_t kicks, kicks_suppressed;
} sim_vq_drv;

/*
 * sim_vq_drv_init: set up the driver side: zero the three parts in guest memory (§2.7.10: "The
 * driver MUST initialize flags in the used ring to 0"), chain every descriptor on the free list.
 *   features       the negotiated features (EVENT_IDX and INDIRECT_DESC are used).
 *   indirect_base  GPA of `size` indirect tables of `indirect_max` descriptors each (0: none; the
 *                  driver then never uses indirect descriptors).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (drv->why) as sim_vq_dev_init, or an indirect area
 * outside mem; TERN_ERR_NO_MEMORY.
 */
tern_err sim_vq_drv_init(sim_vq_drv *drv, const sim_vmem *mem, uint32_t size, uint64_t desc,
                         uint64_t avail, uint64_t used, uint64_t features, uint64_t indirect_base,
                         uint32_t indirect_max, sim_vq_drv_mode mode);

/* sim_vq_drv_free: release what sim_vq_drv_init allocated. */
void sim_vq_drv_free(sim_vq_drv *drv);

/*
 * sim_vq_drv_add: place a buffer of `n` elements (readable ones first: §2.7.4.2 "The driver MUST
 * place any device-writable descriptor elements after any device-readable descriptor elements")
 * into the descriptor table, chained with NEXT (or in an indirect table when `indirect` and the
 * feature is negotiated), and its head into the next available ring entry. The buffer is not
 * visible to the device before sim_vq_drv_flush.
 * Returns TERN_OK (*head, if not NULL, receives the head index); TERN_ERR_NO_BUFFER when too few
 * descriptors are free; TERN_ERR_INVALID_ARGUMENT for n = 0, n above the queue size (or the
 * indirect table), or readable after writable; TERN_ERR_BAD_STATE for a broken queue.
 */
tern_err sim_vq_drv_add(sim_vq_drv *drv, const sim_vq_seg *segs, uint32_t n, bool indirect,
                        uint64_t token, uint16_t *head);

/*
 * sim_vq_drv_flush: publish the buffers added since the last flush (write avail idx), then decide
 * whether the device wants an available buffer notification (§2.7.10). Returns true when the
 * driver must notify the device ("kick").
 */
bool sim_vq_drv_flush(sim_vq_drv *drv);

/*
 * sim_vq_drv_get_used: take the next used buffer, validated: its id must be a head the driver made
 * available, its len at most the buffer's writable bytes, the used idx at most the number of
 * outstanding buffers ahead.
 * Returns 1 (*token and *len filled, its descriptors freed); 0 if none; -1 on a fault (drv->fault,
 * drv->why; the queue is broken).
 */
int sim_vq_drv_get_used(sim_vq_drv *drv, uint64_t *token, uint32_t *len);

/* sim_vq_drv_disable_cb: advise the device that used buffer notifications are not needed. */
void sim_vq_drv_disable_cb(sim_vq_drv *drv);

/*
 * sim_vq_drv_enable_cb: ask for used buffer notifications again (with EVENT_IDX: used_event = the
 * next used index the driver reads) and, in mode CORRECT, re-check the used ring (§2.7.14's note:
 * "beware the problem of missing notifications between emptying the ring and reenabling
 * notifications"). Returns true when used buffers are already waiting (the caller must process
 * them: no notification will come for them); always false in mode NO_RECHECK.
 */
bool sim_vq_drv_enable_cb(sim_vq_drv *drv);

/* sim_vq_drv_has_used: true when the device has used buffers the driver did not take yet. */
bool sim_vq_drv_has_used(const sim_vq_drv *drv);

/* ------------------------------------------------------------------------ */
/* The virtio-net node                                                       */
/* ------------------------------------------------------------------------ */

/*
 * A virtio-net adapter node with two ports. Port 0 is the guest side: the node attached there (a
 * Tern host, a scripted peer, a ping responder, any node) is the guest, and each frame it sends
 * crosses the node's driver side (transmitq) and device side (§5.1.6.2) before leaving port 1, the
 * wire; each frame arriving on port 1 is placed by the device into the receive buffers the driver
 * supplied (§5.1.6.3, with num_buffers and MRG_RXBUF) and the driver hands it out of port 0. The
 * queues are real split virtqueues in a guest memory the node allocates at guest-physical address
 * SIM_VIRTIO_NET_GPA_BASE; every step happens in virtual time:
 *   guest frame at t          driver adds it, kicks (unless suppressed) -> device notified at
 *                             t + notify_ns, processes at + device_ns, frame out of port 1 then
 *   frame on port 1 at t      device fills receive buffers at t + device_ns, interrupt at
 *                             + irq_ns; the driver takes the frames (out of port 0) and, after
 *                             driver_ns, enables interrupts again (and re-checks)
 * Frames arriving while no receive buffer is free wait in the device (up to 256) until the driver
 * adds buffers and kicks. The driver posts min(queue size, 1024) receive buffers and keeps as many
 * transmit buffers; every descriptor of the queue is still usable by a test writing the rings.
 */

#define SIM_VIRTIO_NET_GPA_BASE 0x10000000ULL

typedef struct sim_virtio_net_config {
    uint8_t mac[6];        /* config mac (offered with VIRTIO_NET_F_MAC) */
    uint16_t mtu;          /* config mtu, 68..65535 (0: 1500) */
    uint32_t queue_size;   /* both queues, a power of 2 up to 32768 (0: 256) */
    uint64_t dev_features; /* features the device offers (0: VERSION_1, EVENT_IDX, INDIRECT_DESC,
                              MAC, MTU, STATUS, MRG_RXBUF) */
    uint64_t drv_features; /* features the driver accepts (0: all it knows) */
    uint32_t rx_buf_size;  /* bytes per receive buffer, header included (0: 12 + mtu + 14 without
                              MRG_RXBUF, 1526 with); >= 64 */
    bool use_indirect;     /* the driver puts buffers in indirect tables (if negotiated) */
    bool split_header;     /* the driver puts the 12-byte header in a descriptor of its own */
    sim_vq_drv_mode drv_mode;
    uint64_t notify_ns; /* driver kick -> device sees it */
    uint64_t device_ns; /* device processing */
    uint64_t irq_ns;    /* device interrupt -> driver handler runs */
    uint64_t driver_ns; /* driver handler -> interrupts enabled again */
} sim_virtio_net_config;

typedef struct sim_virtio_net_counters {
    uint64_t tx_frames, rx_frames; /* frames that crossed the device each way */
    uint64_t kicks[2];             /* available buffer notifications, per queue (0 rx, 1 tx) */
    uint64_t kicks_suppressed[2];  /* flushes that needed no kick */
    uint64_t interrupts[2];        /* used buffer notifications sent, per queue */
    uint64_t interrupts_suppressed[2];
    uint64_t rx_merged;          /* frames spread over more than one buffer (num_buffers > 1) */
    uint64_t rx_no_buffer_waits; /* frames that waited for a receive buffer */
    uint64_t rx_dropped;         /* frames dropped: device queue full, or above mtu */
    uint64_t tx_dropped;         /* guest frames dropped: transmit ring full, or above mtu */
    uint64_t rechecks;           /* used buffers found by re-checking after enabling */
    uint64_t max_num_buffers;    /* the largest num_buffers written */
} sim_virtio_net_counters;

/* A fault the device found, as a test reads it. */
typedef struct sim_virtio_event {
    uint64_t time;
    uint32_t queue; /* 0 receiveq1, 1 transmitq1 */
    sim_virtio_fault fault;
    char why[200];
} sim_virtio_event;

/*
 * sim_virtio_net_add: a virtio-net adapter node (kind "virtio-net").
 *   cfg  copied; see sim_virtio_net_config for defaults.
 * Feature negotiation happens here (§3.1.1): the negotiated set is dev_features & drv_features;
 * it must contain VIRTIO_F_VERSION_1 (this is a virtio 1.x device).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (the message names the parameter: a queue size that is
 * not a power of 2 up to 32768, an mtu below 68, an rx_buf_size below 64 or, without MRG_RXBUF,
 * too small for a frame of mtu + 14 bytes, no VERSION_1 in the negotiated set); what sim_node_add
 * returns; TERN_ERR_NO_MEMORY.
 */
tern_err sim_virtio_net_add(sim *s, const char *name, const sim_virtio_net_config *cfg,
                            sim_node_id *out);

/* sim_virtio_net_features: the negotiated feature bits, 0 for a node that is not virtio-net. */
uint64_t sim_virtio_net_features(sim *s, sim_node_id node);

/* sim_virtio_net_status: the device status byte (§2.1), 0 for a node that is not virtio-net. */
uint8_t sim_virtio_net_status(sim *s, sim_node_id node);

/*
 * sim_virtio_net_get_config: copy the device configuration space (§5.1.4: mac[6], le16 status,
 * le16 max_virtqueue_pairs, le16 mtu; 12 bytes) into buf. With VIRTIO_NET_F_STATUS, status has
 * VIRTIO_NET_S_LINK_UP while the link on port 1 exists and is up; without it, status is 0.
 * Returns TERN_OK; TERN_ERR_UNKNOWN_NODE; TERN_ERR_WRONG_KIND; TERN_ERR_BUFFER_TOO_SMALL (cap <
 * 12).
 */
tern_err sim_virtio_net_get_config(sim *s, sim_node_id node, uint8_t *buf, size_t cap);

/* sim_virtio_net_get_counters: copy the counters. Returns TERN_OK, UNKNOWN_NODE or WRONG_KIND. */
tern_err sim_virtio_net_get_counters(sim *s, sim_node_id node, sim_virtio_net_counters *out);

/*
 * sim_virtio_net_event: copy the i-th fault event (0-based) the device recorded.
 * Returns TERN_OK; TERN_ERR_EMPTY when there is no such event; UNKNOWN_NODE; WRONG_KIND.
 */
tern_err sim_virtio_net_event(sim *s, sim_node_id node, uint32_t i, sim_virtio_event *out);

/* sim_virtio_net_queue_gpa: the GPAs of queue `q`'s parts (0 receiveq1, 1 transmitq1), so that a
 * test can write into them. Returns TERN_OK, UNKNOWN_NODE, WRONG_KIND, INVALID_ARGUMENT (q). */
tern_err sim_virtio_net_queue_gpa(sim *s, sim_node_id node, uint32_t q, uint64_t *desc,
                                  uint64_t *avail, uint64_t *used);

/*
 * sim_virtio_net_mem_write / sim_virtio_net_mem_read: write or read the node's guest memory as a
 * driver (or a bug in one) would. Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for a range outside
 * the guest memory; UNKNOWN_NODE; WRONG_KIND.
 */
tern_err sim_virtio_net_mem_write(sim *s, sim_node_id node, uint64_t gpa, const uint8_t *buf,
                                  size_t len);
tern_err sim_virtio_net_mem_read(sim *s, sim_node_id node, uint64_t gpa, uint8_t *buf, size_t len);

/*
 * sim_virtio_net_kick: the driver notifies queue q now (as a driver that wrote its rings itself
 * would); the device sees it after notify_ns. Returns TERN_OK, UNKNOWN_NODE, WRONG_KIND,
 * INVALID_ARGUMENT (q).
 */
tern_err sim_virtio_net_kick(sim *s, sim_node_id node, uint32_t q);

/* ------------------------------------------------------------------------ */
/* vhost-user back-end (QEMU's docs/interop/vhost-user.rst)                  */
/* ------------------------------------------------------------------------ */

/*
 * A node (kind "vhost-user", one port: the wire) that serves the virtio-net queues of a real
 * guest: QEMU started with "-chardev socket,id=c,path=PATH -netdev vhost-user,id=n,chardev=c
 * -device virtio-net-pci,netdev=n" and its memory in a shared memfd ("-object
 * memory-backend-memfd,id=mem,size=...,share=on -machine memory-backend=mem") connects to PATH.
 * The guest memory regions are mapped, the rings served with the device side of sim_vq_dev: every
 * rule of §2.7 is checked as for the simulated device, and a broken ring is stopped and recorded
 * as an event. Features offered: VERSION_1, EVENT_IDX, INDIRECT_DESC, MRG_RXBUF (QEMU adds MAC,
 * STATUS... itself). For the real-time mode (tern/sim_realtime.h): while the node listens it asks
 * to be polled every poll_ns, and each poll services the socket and the kick eventfds without
 * blocking.
 */

typedef struct sim_vhost_user_stats {
    uint64_t connections, disconnects, messages, unknown;
    uint64_t features;    /* what the front-end set (SET_FEATURES) */
    uint64_t mem_regions; /* regions mapped */
    uint64_t kicks[2], calls[2];
    uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
    bool connected;
    bool started[2]; /* rings 0 (receiveq1) and 1 (transmitq1) */
} sim_vhost_user_stats;

/*
 * sim_vhost_user_add: listen on the UNIX socket `socket_path` (an existing file there is
 * replaced; the socket is removed when the simulation is destroyed).
 *   poll_ns  service interval while listening (0: 100 us).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for a path of 0 or more than 107 bytes;
 * TERN_ERR_IO when the socket cannot be made (the message has the errno text); what sim_node_add
 * returns; TERN_ERR_NO_MEMORY.
 */
tern_err sim_vhost_user_add(sim *s, const char *name, const char *socket_path, uint64_t poll_ns,
                            sim_node_id *out);

/* sim_vhost_user_get_stats: copy the node's statistics. Returns TERN_OK, UNKNOWN_NODE, WRONG_KIND.
 */
tern_err sim_vhost_user_get_stats(sim *s, sim_node_id node, sim_vhost_user_stats *out);

/* sim_vhost_user_event: the i-th fault or protocol problem recorded. Returns TERN_OK,
 * TERN_ERR_EMPTY (no such event), UNKNOWN_NODE, WRONG_KIND. */
tern_err sim_vhost_user_event(sim *s, sim_node_id node, uint32_t i, sim_virtio_event *out);

/* ------------------------------------------------------------------------ */
/* The native ping responder                                                 */
/* ------------------------------------------------------------------------ */

/*
 * A node (kind "ping-responder", one port) playing the seL4 demo's PingClient correctly: it
 * answers ARP requests for its own IPv4 address only, and ICMP echo requests (type 8, code 0)
 * addressed to its MAC and IPv4 address whose IPv4 header and ICMP checksums verify, with an echo
 * reply carrying the same identifier, sequence number and whole payload, in a fresh IPv4 header
 * (TTL 64, its own address as source). Given an IPv6 address too (sim_ping_responder_set_ipv6),
 * it answers Neighbor Solicitations for that address (to the address itself or to its
 * solicited-node group, RFC 4861 section 7.1.1's checks passed) with a Neighbor Advertisement
 * (section 7.2.4: Solicited flag set unless the solicitation came from ::, Override set, hop
 * limit 255, its MAC in a Target Link-Layer Address option), and ICMPv6 Echo Requests (type 128,
 * code 0) addressed to its MAC and IPv6 address whose checksum over the IPv6 pseudo-header
 * verifies (RFC 4443 section 2.3) with an Echo Reply (129) carrying the same identifier, sequence
 * number and whole data, in a fresh IPv6 header (hop limit 64, its address as source). It reads
 * no IPv6 extension header: ICMPv6 must follow the fixed header. Every other frame is ignored and
 * counted. Each echo request is logged as the demo does, with the bugs of the seed fixed: the
 * dump's offsets and bytes both in hex, identifier and sequence number in host order.
 */

/* One logged request. */
typedef struct sim_ping_record {
    uint64_t time;
    uint8_t src_ip[4], dst_ip[4]; /* IPv4 requests */
    uint8_t ttl;                  /* IPv4 TTL or IPv6 hop limit of the request */
    uint16_t ip_len;              /* IPv4 total length; IPv6: 40 + payload length */
    uint16_t ident, seq;
    uint32_t payload_len;
    bool replied;
    uint8_t version;                  /* 4 or 6 */
    uint8_t src_ip6[16], dst_ip6[16]; /* IPv6 requests */
} sim_ping_record;

typedef struct sim_ping_counters {
    uint64_t requests, replies, arp_replies;
    uint64_t ignored;      /* frames not for it, or not echo requests (or solicitations) */
    uint64_t bad_checksum; /* IPv4 header, ICMP or ICMPv6 checksum wrong */
    uint64_t nd_replies;   /* Neighbor Advertisements sent */
} sim_ping_counters;

/*
 * sim_ping_responder_add: a ping responder with MAC `mac` and IPv4 address `ip` (network order).
 *   log_limit  requests kept in the log (0: 1024); older ones are forgotten, the text too.
 * Returns as sim_node_add; TERN_ERR_INVALID_ARGUMENT for a multicast MAC or address 0.0.0.0.
 */
tern_err sim_ping_responder_add(sim *s, const char *name, const uint8_t mac[6], const uint8_t ip[4],
                                uint32_t log_limit, sim_node_id *out);

/*
 * sim_ping_responder_set_ipv6: give the responder the IPv6 address `ip6` (16 bytes, network
 * order) it answers Neighbor Solicitations and ICMPv6 Echo Requests for, or none (NULL: it then
 * ignores every IPv6 frame, as it does until an address is given).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for :: or a multicast address; UNKNOWN_NODE;
 * WRONG_KIND.
 */
tern_err sim_ping_responder_set_ipv6(sim *s, sim_node_id node, const uint8_t ip6[16]);

/* sim_ping_responder_count: requests in the log, 0 for a node that is not a ping responder. */
uint32_t sim_ping_responder_count(sim *s, sim_node_id node);

/* sim_ping_responder_record: copy the i-th record of the log. Returns TERN_OK, TERN_ERR_EMPTY (no
 * such record), UNKNOWN_NODE, WRONG_KIND. */
tern_err sim_ping_responder_record(sim *s, sim_node_id node, uint32_t i, sim_ping_record *out);

/*
 * sim_ping_responder_text: the transcript of the i-th request as the demo prints it (packet dump,
 * then the "IP Header" and "ICMP Header" lines, or for an IPv6 request the "IPv6 Header" and
 * "ICMPv6 Header" lines), NUL-terminated, into buf. Returns TERN_OK; TERN_ERR_BUFFER_TOO_SMALL
 * (*len tells the size needed, NUL included); TERN_ERR_EMPTY; UNKNOWN_NODE; WRONG_KIND.
 */
tern_err sim_ping_responder_text(sim *s, sim_node_id node, uint32_t i, char *buf, size_t cap,
                                 size_t *len);

/* sim_ping_responder_get_counters: copy the counters. Returns TERN_OK, UNKNOWN_NODE, WRONG_KIND. */
tern_err sim_ping_responder_get_counters(sim *s, sim_node_id node, sim_ping_counters *out);

#endif /* TERN_SIM_VIRTIO_H */

/*
 * A vhost-user back-end (QEMU's docs/interop/vhost-user.rst) serving a guest's virtio-net queues
 * with the device side of this folder (tern/sim_virtio.h): QEMU (the front-end) connects to a
 * UNIX socket, sends the guest memory as memfd regions (SET_MEM_TABLE), the rings' addresses
 * (in its own virtual address space), and an eventfd per ring for kicks and one for calls. The
 * node's port 0 is the wire. It is meant for the real-time mode: its poll services the socket
 * and the kick eventfds without blocking, and asks to be polled again every poll_ns while it
 * listens.
 *
 * Protocol subset: no protocol features (VHOST_USER_F_PROTOCOL_FEATURES not offered), so rings
 * are enabled at SET_FEATURES and started by their first kick, one queue pair, no live migration
 * (no VHOST_F_LOG_ALL), no IOMMU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/sim_internal.h"
#include "virtio/virtio_private.h"

/* Front-end requests (vhost-user.rst, "Front-end message types"). */
enum {
    VHU_GET_FEATURES = 1,
    VHU_SET_FEATURES = 2,
    VHU_SET_OWNER = 3,
    VHU_RESET_OWNER = 4,
    VHU_SET_MEM_TABLE = 5,
    VHU_SET_LOG_BASE = 6,
    VHU_SET_LOG_FD = 7,
    VHU_SET_VRING_NUM = 8,
    VHU_SET_VRING_ADDR = 9,
    VHU_SET_VRING_BASE = 10,
    VHU_GET_VRING_BASE = 11,
    VHU_SET_VRING_KICK = 12,
    VHU_SET_VRING_CALL = 13,
    VHU_SET_VRING_ERR = 14,
    VHU_GET_PROTOCOL_FEATURES = 15,
    VHU_SET_PROTOCOL_FEATURES = 16,
    VHU_GET_QUEUE_NUM = 17,
    VHU_SET_VRING_ENABLE = 18,
};
#define VHU_VERSION 0x1u
#define VHU_FLAG_REPLY 0x4u
#define VHU_NOFD_MASK 0x100u /* in the u64 of SET_VRING_KICK/CALL/ERR: no descriptor */
#define VHU_MAX_PAYLOAD 4096
#define VHU_MAX_FDS 8
#define RX_WAIT_MAX 256

typedef struct vhu_ring {
    uint32_t num;
    uint64_t desc_uva, avail_uva, used_uva;
    uint16_t base;
    int kick_fd, call_fd;
    bool addr_set, started, enabled;
    sim_vq_dev dev;
    bool dev_ok;
} vhu_ring;

typedef struct vhu_map {
    uint8_t *map;
    size_t len;
    uint64_t uva, gpa, size;
} vhu_map;

typedef struct vhu {
    sim *s;
    sim_node_id id;
    char path[108];
    int listen_fd, conn_fd;
    uint64_t poll_ns;
    uint64_t acked; /* features the front-end set */
    sim_vmem mem;
    vhu_map maps[SIM_VMEM_MAX_REGIONS];
    uint32_t nmaps;
    vhu_ring ring[2]; /* 0 receiveq1, 1 transmitq1 */
    uint8_t *wait[RX_WAIT_MAX];
    uint32_t wait_len[RX_WAIT_MAX];
    uint32_t wait_head, wait_n;
    sim_vhost_user_stats st;
    sim_virtio_event events[16];
    uint32_t nevents;
    uint8_t frame[SIM_MAX_FRAME];
} vhu;

#define VHU_F_PROTOCOL_FEATURES 30
#define VHU_PROTOCOL_F_MQ 0
static const uint64_t OFFERED = 1ull << SIM_VIRTIO_F_VERSION_1 | 1ull << SIM_VIRTIO_F_EVENT_IDX |
                                1ull << SIM_VIRTIO_F_INDIRECT_DESC |
                                1ull << SIM_VIRTIO_NET_F_MRG_RXBUF |
                                1ull << VHU_F_PROTOCOL_FEATURES;
/* "Back-ends should always implement the VHOST_USER_PROTOCOL_F_MQ protocol feature, even for
 * devices with a fixed number of virtqueues" */
static const uint64_t PROTOCOL_OFFERED = 1ull << VHU_PROTOCOL_F_MQ;

static void note(vhu *v, uint32_t q, sim_virtio_fault f, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void note(vhu *v, uint32_t q, sim_virtio_fault f, const char *fmt, ...) {
    if (v->nevents < sizeof v->events / sizeof v->events[0]) {
        sim_virtio_event *e = &v->events[v->nevents++];
        e->time = v->s->now;
        e->queue = q;
        e->fault = f;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->why, sizeof e->why, fmt, ap);
        va_end(ap);
    }
}

static void close_fd(int *fd) {
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void unmap_all(vhu *v) {
    for (uint32_t i = 0; i < v->nmaps; i++) {
        munmap(v->maps[i].map, v->maps[i].len);
    }
    v->nmaps = 0;
    memset(&v->mem, 0, sizeof v->mem);
}

static void stop_ring(vhu *v, uint32_t q) {
    vhu_ring *r = &v->ring[q];
    if (r->dev_ok) {
        sim_vq_dev_free(&r->dev);
        r->dev_ok = false;
    }
    r->started = false;
}

static void disconnect(vhu *v) {
    for (uint32_t q = 0; q < 2; q++) {
        stop_ring(v, q);
        close_fd(&v->ring[q].kick_fd);
        close_fd(&v->ring[q].call_fd);
        v->ring[q].addr_set = false;
    }
    unmap_all(v);
    close_fd(&v->conn_fd);
    v->acked = 0;
    v->ring[0].enabled = v->ring[1].enabled = false;
}

/* QEMU's virtual address -> guest-physical address, through the memory table. */
static bool uva_to_gpa(const vhu *v, uint64_t uva, uint64_t *gpa) {
    for (uint32_t i = 0; i < v->nmaps; i++) {
        const vhu_map *m = &v->maps[i];
        if (uva >= m->uva && uva - m->uva < m->size) {
            *gpa = m->gpa + (uva - m->uva);
            return true;
        }
    }
    return false;
}

/* Start ring q on its first kick ("The back-end must start a ring upon receiving a kick"). */
static void start_ring(vhu *v, uint32_t q) {
    vhu_ring *r = &v->ring[q];
    if (r->started || !r->addr_set || v->nmaps == 0) {
        return;
    }
    uint64_t d, a, u;
    if (!uva_to_gpa(v, r->desc_uva, &d) || !uva_to_gpa(v, r->avail_uva, &a) ||
        !uva_to_gpa(v, r->used_uva, &u)) {
        note(v, q, SIM_VIRTIO_FAULT_RING_ADDR, "ring %u addresses are not in the memory table", q);
        return;
    }
    if (sim_vq_dev_init(&r->dev, &v->mem, r->num, d, a, u, v->acked) != TERN_OK) {
        note(v, q, r->dev.fault ? r->dev.fault : SIM_VIRTIO_FAULT_RING_ADDR, "ring %u: %s", q,
             r->dev.why);
        return;
    }
    /* the device continues from the front-end's base; the used idx is where the guest sees it */
    r->dev.last_avail = r->base;
    uint16_t used_idx = 0;
    vq_rd16(&v->mem, u + 2, &used_idx);
    r->dev.used_idx = used_idx;
    r->dev.signalled = used_idx;
    r->dev_ok = true;
    r->started = true;
    sim_vq_dev_set_notify(&r->dev, true);
}

static void call(vhu *v, uint32_t q) {
    vhu_ring *r = &v->ring[q];
    if (sim_vq_dev_need_notify(&r->dev)) {
        v->st.calls[q]++;
        if (r->call_fd >= 0) {
            uint64_t one = 1;
            ssize_t n = write(r->call_fd, &one, sizeof one);
            (void)n;
        }
    }
}

/* Frames waiting for receive buffers, in order, while buffers last. */
static void rx_flush(vhu *v) {
    vhu_ring *r = &v->ring[0];
    /* "in the disabled state the back-end must not supply any new RX packets" */
    if (!r->started || !r->dev_ok || !r->enabled) {
        return;
    }
    bool placed = false;
    bool mrg = v->acked >> SIM_VIRTIO_NET_F_MRG_RXBUF & 1;
    while (v->wait_n > 0) {
        uint32_t nbuf = 0;
        vnet_rx_result res =
            vnet_rx_place(&r->dev, mrg, v->wait[v->wait_head], v->wait_len[v->wait_head], &nbuf);
        if (res == VNET_RX_WAIT) {
            sim_vq_dev_set_notify(&r->dev, true);
            break;
        }
        if (res == VNET_RX_FAULT) {
            note(v, 0, r->dev.fault, "%s", r->dev.why);
            stop_ring(v, 0);
            break;
        }
        if (res == VNET_RX_PLACED) {
            v->st.rx_frames++;
            placed = true;
        } else {
            v->st.rx_dropped++;
        }
        free(v->wait[v->wait_head]);
        v->wait_head = (v->wait_head + 1) % RX_WAIT_MAX;
        v->wait_n--;
    }
    if (placed) {
        call(v, 0);
    }
}

/* The transmit queue: every available buffer, header stripped, onto the wire. */
static void tx_run(vhu *v) {
    vhu_ring *r = &v->ring[1];
    if (!r->started || !r->dev_ok) {
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        sim_vq_chain c;
        int got;
        uint32_t budget = r->num;
        while (budget-- > 0 && (got = sim_vq_dev_pop(&r->dev, &c)) == 1) {
            /* a disabled ring is processed, its packets discarded */
            if (r->enabled && c.readable > SIM_VIRTIO_NET_HDR_LEN &&
                c.readable - SIM_VIRTIO_NET_HDR_LEN <= SIM_MAX_FRAME) {
                uint64_t n = c.readable - SIM_VIRTIO_NET_HDR_LEN;
                sim_vq_dev_read(&r->dev, &c, SIM_VIRTIO_NET_HDR_LEN, v->frame, n);
                v->st.tx_frames++;
                sim_node_send(v->s, v->id, 0, v->frame, n);
            } else {
                v->st.tx_dropped++;
            }
            sim_vq_dev_push(&r->dev, c.head, 0);
        }
        if (r->dev.broken) {
            note(v, 1, r->dev.fault, "%s", r->dev.why);
            stop_ring(v, 1);
            return;
        }
        sim_vq_dev_set_notify(&r->dev, true);
        if (sim_vq_dev_pending(&r->dev) <= 0) {
            break;
        }
    }
    call(v, 1);
}

static bool send_reply(vhu *v, uint32_t req, const void *payload, uint32_t size) {
    uint8_t buf[12 + 64];
    uint32_t hdr[3] = {req, VHU_VERSION | VHU_FLAG_REPLY, size};
    memcpy(buf, hdr, 12);
    memcpy(buf + 12, payload, size);
    return send(v->conn_fd, buf, 12 + size, MSG_NOSIGNAL) == (ssize_t)(12 + size);
}

static void set_mem_table(vhu *v, const uint8_t *p, uint32_t size, int *fds, int nfds) {
    uint32_t n;
    memcpy(&n, p, 4);
    if (n > SIM_VMEM_MAX_REGIONS || size < 8 + 32 * n || (int)n > nfds) {
        note(v, 0, SIM_VIRTIO_FAULT_RING_ADDR, "SET_MEM_TABLE: %u regions, %d fds, size %u", n,
             nfds, size);
        return;
    }
    for (uint32_t q = 0; q < 2; q++) {
        stop_ring(v, q);
    }
    unmap_all(v);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t f[4]; /* guest address, size, user address, mmap offset */
        memcpy(f, p + 8 + 32 * i, 32);
        size_t len = (size_t)(f[1] + f[3]);
        void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
        if (m == MAP_FAILED) {
            note(v, 0, SIM_VIRTIO_FAULT_RING_ADDR, "mmap of region %u (%zu bytes): %s", i, len,
                 strerror(errno));
            continue;
        }
        v->maps[v->nmaps] = (vhu_map){m, len, f[2], f[0], f[1]};
        sim_vmem_add_region(&v->mem, f[0], f[1], (uint8_t *)m + f[3]);
        v->nmaps++;
    }
    v->st.mem_regions = v->nmaps;
}

/* Handle one message; fds are closed here unless kept. */
static void handle(vhu *v, uint32_t req, const uint8_t *p, uint32_t size, int *fds, int nfds) {
    v->st.messages++;

    uint64_t u64 = 0;
    if (size >= 8) {
        memcpy(&u64, p, 8);
    }
    uint32_t st[2] = {0, 0}; /* vring state: index, num */
    if (size >= 8) {
        memcpy(st, p, 8);
    }
    int kept = -1; /* index of the fd kept */
    switch (req) {
    case VHU_GET_FEATURES:
        send_reply(v, req, &OFFERED, 8);
        break;
    case VHU_SET_FEATURES:
        v->acked = u64 & OFFERED;
        v->st.features = v->acked;
        /* "upon receiving a VHOST_USER_SET_FEATURES message from the front-end without
         * VHOST_USER_F_PROTOCOL_FEATURES set, the back-end must enable all rings immediately" */
        if (!(v->acked >> VHU_F_PROTOCOL_FEATURES & 1)) {
            v->ring[0].enabled = v->ring[1].enabled = true;
        }
        break;
    case VHU_SET_VRING_ENABLE:
        if (st[0] < 2) {
            v->ring[st[0]].enabled = st[1] != 0;
        }
        break;
    case VHU_SET_OWNER:
    case VHU_RESET_OWNER:
    case VHU_SET_LOG_BASE:
    case VHU_SET_LOG_FD:
    case VHU_SET_PROTOCOL_FEATURES:
        break;
    case VHU_GET_PROTOCOL_FEATURES:
        send_reply(v, req, &PROTOCOL_OFFERED, 8);
        break;
    case VHU_GET_QUEUE_NUM: {
        uint64_t one = 1; /* one queue pair */
        send_reply(v, req, &one, 8);
        break;
    }
    case VHU_SET_MEM_TABLE:
        set_mem_table(v, p, size, fds, nfds);
        break;
    case VHU_SET_VRING_NUM:
        if (st[0] < 2) {
            v->ring[st[0]].num = st[1];
        }
        break;
    case VHU_SET_VRING_BASE:
        if (st[0] < 2) {
            v->ring[st[0]].base = (uint16_t)st[1];
        }
        break;
    case VHU_SET_VRING_ADDR:
        if (size >= 40) {
            uint32_t idx;
            uint64_t a[3]; /* descriptor, used, available */
            memcpy(&idx, p, 4);
            memcpy(a, p + 8, 24);
            if (idx < 2) {
                v->ring[idx].desc_uva = a[0];
                v->ring[idx].used_uva = a[1];
                v->ring[idx].avail_uva = a[2];
                v->ring[idx].addr_set = true;
            }
        }
        break;
    case VHU_GET_VRING_BASE: /* stops the ring; the reply is where the back-end got to */
        if (st[0] < 2) {
            vhu_ring *r = &v->ring[st[0]];
            uint32_t out[2] = {st[0], r->dev_ok ? r->dev.last_avail : r->base};
            r->base = (uint16_t)out[1];
            stop_ring(v, st[0]);
            close_fd(&r->kick_fd);
            send_reply(v, req, out, 8);
        }
        break;
    case VHU_SET_VRING_KICK:
    case VHU_SET_VRING_CALL:
    case VHU_SET_VRING_ERR: {
        uint32_t idx = (uint32_t)(u64 & 0xff);
        bool nofd = u64 & VHU_NOFD_MASK;
        if (idx < 2 && !nofd && nfds > 0 && req != VHU_SET_VRING_ERR) {
            int *slot = req == VHU_SET_VRING_KICK ? &v->ring[idx].kick_fd : &v->ring[idx].call_fd;
            close_fd(slot);
            *slot = fds[0];
            kept = 0;
        }
        break;
    }
    default:
        v->st.unknown++;
        break;
    }
    for (int i = 0; i < nfds; i++) {
        if (i != kept && req != VHU_SET_MEM_TABLE) {
            close(fds[i]);
        }
    }
    if (req == VHU_SET_MEM_TABLE) {
        for (int i = 0; i < nfds; i++) {
            close(fds[i]); /* the mappings stay */
        }
    }
}

/* Read and handle every complete message waiting on the connection. */
static void read_messages(vhu *v) {
    for (int guard = 0; guard < 256 && v->conn_fd >= 0; guard++) {
        struct pollfd pfd = {v->conn_fd, POLLIN, 0};
        if (poll(&pfd, 1, 0) <= 0) {
            return;
        }
        uint32_t hdr[3];
        char ctrl[CMSG_SPACE(sizeof(int) * VHU_MAX_FDS)];
        struct iovec iov = {hdr, sizeof hdr};
        struct msghdr mh = {0};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctrl;
        mh.msg_controllen = sizeof ctrl;
        ssize_t n = recvmsg(v->conn_fd, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC);
        if (n != (ssize_t)sizeof hdr) {

            disconnect(v); /* the front-end went away (or broke the framing) */
            v->st.disconnects++;
            return;
        }
        int fds[VHU_MAX_FDS];
        int nfds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (int i = 0; i < k && nfds < VHU_MAX_FDS; i++) {
                    memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                }
            }
        }
        static uint8_t payload[VHU_MAX_PAYLOAD];
        if (hdr[2] > VHU_MAX_PAYLOAD ||
            (hdr[2] > 0 && recv(v->conn_fd, payload, hdr[2], MSG_WAITALL) != (ssize_t)hdr[2])) {
            for (int i = 0; i < nfds; i++) {
                close(fds[i]);
            }
            disconnect(v);
            v->st.disconnects++;
            return;
        }
        handle(v, hdr[0], payload, hdr[2], fds, nfds);
    }
}

/* Everything that is ready: a connection, messages, kicks. */
static void service(vhu *v) {
    if (v->conn_fd < 0 && v->listen_fd >= 0) {
        int c = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0) {
            v->conn_fd = c; /* blocking: each message is read whole once poll says it is there */
            v->st.connections++;
        }
    }
    read_messages(v);
    for (uint32_t q = 0; q < 2; q++) {
        vhu_ring *r = &v->ring[q];
        if (r->kick_fd < 0) {
            continue;
        }
        uint64_t cnt;
        struct pollfd pfd = {r->kick_fd, POLLIN, 0};
        if (poll(&pfd, 1, 0) > 0 && read(r->kick_fd, &cnt, sizeof cnt) == (ssize_t)sizeof cnt) {
            v->st.kicks[q]++;
            start_ring(v, q);
        }
        if (r->started) {
            if (q == 1) {
                tx_run(v);
            } else {
                rx_flush(v);
            }
        }
    }
}

static void vhu_input(void *state, uint64_t now, uint32_t port, const uint8_t *frame, size_t len) {
    (void)now;
    (void)port;
    vhu *v = state;
    if (v->wait_n == RX_WAIT_MAX) {
        v->st.rx_dropped++;
        return;
    }
    uint8_t *copy = malloc(len);
    if (!copy) {
        v->st.rx_dropped++;
        return;
    }
    memcpy(copy, frame, len);
    uint32_t slot = (v->wait_head + v->wait_n) % RX_WAIT_MAX;
    v->wait[slot] = copy;
    v->wait_len[slot] = (uint32_t)len;
    v->wait_n++;
    rx_flush(v);
}

static void vhu_poll(void *state, uint64_t now) {
    (void)now;
    service(state);
}

static uint64_t vhu_poll_at(void *state) {
    vhu *v = state;
    return v->listen_fd >= 0 ? v->s->now + v->poll_ns : SIM_NEVER;
}

static void vhu_destroy(void *state) {
    vhu *v = state;
    disconnect(v);
    close_fd(&v->listen_fd);
    unlink(v->path);
    for (uint32_t i = 0; i < v->wait_n; i++) {
        free(v->wait[(v->wait_head + i) % RX_WAIT_MAX]);
    }
    free(v);
}

static const sim_node_ops vhu_ops = {vhu_input, vhu_poll, vhu_poll_at, vhu_destroy};

tern_err sim_vhost_user_add(sim *s, const char *name, const char *socket_path, uint64_t poll_ns,
                            sim_node_id *out) {
    const char *who = name ? name : "";
    if (!socket_path || !*socket_path || strlen(socket_path) >= sizeof(((vhu *)0)->path)) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "vhost-user '%s': socket_path must be 1..107 bytes", who);
    }
    vhu *v = calloc(1, sizeof *v);
    if (!v) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "vhost-user '%s': out of memory", who);
    }
    v->s = s;
    v->poll_ns = poll_ns ? poll_ns : 100000;
    v->conn_fd = -1;
    for (uint32_t q = 0; q < 2; q++) {
        v->ring[q].kick_fd = v->ring[q].call_fd = -1;
    }
    snprintf(v->path, sizeof v->path, "%s", socket_path);
    v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {0};
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, v->path, strlen(v->path) + 1);
    unlink(v->path);
    if (v->listen_fd < 0 || bind(v->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(v->listen_fd, 1) != 0) {
        int e = errno;
        close_fd(&v->listen_fd);
        free(v);
        return sim_fail(s, TERN_ERR_IO, "vhost-user '%s': cannot listen on %s: %s", who,
                        socket_path, strerror(e));
    }
    tern_err err = sim_node_add(s, name, "vhost-user", 1, &vhu_ops, v, &v->id);
    if (err != TERN_OK) {
        vhu_destroy(v);
        return err;
    }
    sim_node_wake(s, v->id);
    *out = v->id;
    return TERN_OK;
}

static vhu *get(sim *s, sim_node_id node, tern_err *err) {
    sim_node *n = sim_get_node(s, node);
    if (!n) {
        *err = sim_fail(s, TERN_ERR_UNKNOWN_NODE, "unknown node %u", node);
        return NULL;
    }
    if (n->ops.input != vhu_input) {
        *err = sim_fail(s, TERN_ERR_WRONG_KIND, "node '%s' is not a vhost-user node", n->name);
        return NULL;
    }
    return n->state;
}

tern_err sim_vhost_user_get_stats(sim *s, sim_node_id node, sim_vhost_user_stats *out) {
    tern_err err = TERN_OK;
    vhu *v = get(s, node, &err);
    if (!v) {
        return err;
    }
    *out = v->st;
    out->connected = v->conn_fd >= 0;
    out->started[0] = v->ring[0].started;
    out->started[1] = v->ring[1].started;
    return TERN_OK;
}

tern_err sim_vhost_user_event(sim *s, sim_node_id node, uint32_t i, sim_virtio_event *out) {
    tern_err err = TERN_OK;
    vhu *v = get(s, node, &err);
    if (!v) {
        return err;
    }
    if (i >= v->nevents) {
        return TERN_ERR_EMPTY;
    }
    *out = v->events[i];
    return TERN_OK;
}

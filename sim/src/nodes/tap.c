/*
 * The TAP node (tern/sim_tap.h): one port, bridged to a TAP interface of the
 * Linux kernel through /dev/net/tun with IFF_TAP|IFF_NO_PI, so every read
 * and write is exactly one Ethernet frame without a packet-information
 * header. The descriptor is non-blocking: the real-time driver waits for it
 * and calls sim_tap_service; nothing here reads a clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_tun.h>

#include "core/sim_internal.h"
#include "tern/sim_tap.h"

typedef struct tap_state {
    sim *s;
    sim_node_id id;
    int fd;
    char ifname[IFNAMSIZ];
    sim_tap_counters c;
    uint8_t buf[SIM_MAX_FRAME];
} tap_state;

/* A frame the simulation delivers goes to the kernel now. */
static void tap_input(void *state, uint64_t now, uint32_t port, const uint8_t *frame, size_t len) {
    (void)now;
    (void)port;
    tap_state *t = state;
    ssize_t w = write(t->fd, frame, len);
    if (w < 0 || (size_t)w != len) {
        /* EIO: the interface is down; ENOBUFS/EAGAIN: the kernel is out of
         * room. Like a NIC, the frame is lost and counted. */
        t->c.to_kernel_errors++;
        t->c.last_errno = w < 0 ? errno : EMSGSIZE;
        return;
    }
    t->c.to_kernel_frames++;
    t->c.to_kernel_bytes += len;
}

static void tap_destroy(void *state) {
    tap_state *t = state;
    if (t->fd >= 0) {
        close(t->fd);
    }
    free(t);
}

static const sim_node_ops tap_ops = {tap_input, NULL, NULL, tap_destroy};

tern_err sim_tap_add(sim *s, const char *name, const char *ifname, sim_node_id *out) {
    const char *who = name ? name : "";
    if (!ifname || !*ifname) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "tap '%s' ifname: must not be empty", who);
    }
    if (strlen(ifname) >= IFNAMSIZ) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "tap '%s' ifname '%s': longer than %d bytes (the kernel's IFNAMSIZ)", who,
                        ifname, IFNAMSIZ - 1);
    }
    sim_node_id existing;
    if (name && sim_node_find(s, name, &existing) == TERN_OK) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "node name '%s': already used by node %u",
                        name, existing);
    }
    tap_state *t = calloc(1, sizeof *t);
    if (!t) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "tap '%s': out of memory", who);
    }
    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        int e = errno;
        free(t);
        return sim_fail(s, TERN_ERR_IO, "tap '%s' (%s): cannot open /dev/net/tun: %s%s", who,
                        ifname, strerror(e),
                        e == EACCES || e == EPERM ? " (needs CAP_NET_ADMIN)" : "");
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        tap_destroy(t);
        return sim_fail(s, TERN_ERR_IO,
                        "tap '%s': cannot create or attach TAP interface '%s': %s%s", who, ifname,
                        strerror(e),
                        e == EPERM ? " (needs CAP_NET_ADMIN, or a persistent device owned by "
                                     "this user)"
                                   : (e == EBUSY ? " (another process has it open)" : ""));
    }
    memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
    t->ifname[IFNAMSIZ - 1] = '\0';
    t->s = s;
    tern_err err = sim_node_add(s, name, "tap", 1, &tap_ops, t, &t->id);
    if (err != TERN_OK) {
        tap_destroy(t);
        return err;
    }
    *out = t->id;
    sim_ok(s);
    return TERN_OK;
}

/* The state of a TAP node, or NULL (and the error in *err) for anything else. */
static tap_state *tap_of(const sim *s, sim_node_id node, tern_err *err) {
    if (node >= s->nnodes) {
        *err = TERN_ERR_UNKNOWN_NODE;
        return NULL;
    }
    const sim_node *n = &s->nodes[node];
    if (n->ops.input != tap_input) {
        *err = TERN_ERR_WRONG_KIND;
        return NULL;
    }
    return n->state;
}

const char *sim_tap_ifname(const sim *s, sim_node_id node) {
    tern_err err = TERN_OK;
    tap_state *t = tap_of(s, node, &err);
    return t ? t->ifname : NULL;
}

tern_err sim_tap_fd(const sim *s, sim_node_id node, int *fd) {
    tern_err err = TERN_OK;
    tap_state *t = tap_of(s, node, &err);
    if (!t) {
        return err;
    }
    *fd = t->fd;
    return TERN_OK;
}

tern_err sim_tap_service(sim *s, sim_node_id node, size_t max_frames, size_t *frames) {
    return sim_tap_service_clocked(s, node, max_frames, NULL, NULL, frames);
}

tern_err sim_tap_service_clocked(sim *s, sim_node_id node, size_t max_frames,
                                 sim_tap_arrival_fn arrived, void *ctx, size_t *frames) {
    tern_err err = TERN_OK;
    tap_state *t = tap_of(s, node, &err);
    size_t n = 0;
    if (frames) {
        *frames = 0;
    }
    if (!t) {
        return sim_fail(s, err, "node id %u: %s", node,
                        err == TERN_ERR_WRONG_KIND ? "not a TAP node" : "no such node");
    }
    while (max_frames == 0 || n < max_frames) {
        ssize_t r = read(t->fd, t->buf, sizeof t->buf);
        if (r < 0) {
            int e = errno;
            if (e == EAGAIN || e == EWOULDBLOCK) {
                break;
            }
            if (e == EINTR) {
                continue;
            }
            t->c.read_errors++;
            t->c.last_errno = e;
            if (frames) {
                *frames = n;
            }
            return sim_fail(s, TERN_ERR_IO, "tap '%s' (%s): read: %s", s->nodes[node].name,
                            t->ifname, strerror(e));
        }
        if (r == 0) {
            break;
        }
        n++;
        t->c.from_kernel_frames++;
        t->c.from_kernel_bytes += (uint64_t)r;
        if (arrived) {
            /* The frame was in the device before read() returned: the clock
             * brought to "now" after the read is at or past its arrival, so
             * it never enters the simulation earlier than it really came. */
            err = arrived(ctx, s);
            if (err != TERN_OK) {
                if (frames) {
                    *frames = n;
                }
                return err;
            }
        }
        sim_node_send(s, t->id, 0, t->buf, (size_t)r);
    }
    if (frames) {
        *frames = n;
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_tap_get_counters(const sim *s, sim_node_id node, sim_tap_counters *out) {
    tern_err err = TERN_OK;
    tap_state *t = tap_of(s, node, &err);
    if (!t) {
        return err;
    }
    *out = t->c;
    return TERN_OK;
}

/*
 * A TAP node: a simulator node with one port that exchanges Ethernet frames
 * with a TAP interface of the Linux kernel (/dev/net/tun, IFF_TAP|IFF_NO_PI).
 *
 * Frames the simulation delivers to the node are written to the kernel at
 * once, at the virtual time of their delivery. Frames the kernel sends are
 * read by sim_tap_service_clocked(), which the real-time driver
 * (tern/sim_realtime.h) calls whenever the device's descriptor is readable;
 * after each read the driver brings virtual time to the wall clock, so each
 * frame enters the node's link no earlier than it really arrived. Any link
 * impairment can sit between a TAP node and a Tern host: it is just a link.
 *
 * The interface is created in the network namespace of the calling process,
 * down and without addresses; configure it with iproute2 (or move it into
 * another namespace first). It disappears when the node is destroyed
 * (sim_destroy), unless it was made persistent beforehand by someone else
 * (`ip tuntap add`), in which case the node attaches to it.
 *
 * Opening a TAP device needs CAP_NET_ADMIN (or a persistent device owned by
 * the caller's user). Errors name the device and carry the errno text.
 */
#ifndef TERN_SIM_TAP_H
#define TERN_SIM_TAP_H

#ifndef TERN_CDEF
#include "tern/sim.h"
#endif

/*
 * sim_tap_add: open (or create) the TAP interface `ifname` and attach it as a
 * node with one port.
 *   name    the node's name (as sim_node_add).
 *   ifname  the kernel interface name, 1..15 bytes; a name holding "%d"
 *           ("tern%d") lets the kernel pick a free number (see sim_tap_ifname).
 *   out     receives the node id.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (an empty or too long ifname, or
 * what sim_node_add refuses); TERN_ERR_IO when /dev/net/tun cannot be opened
 * or the device cannot be created (the message names the device, the
 * operation and the errno text, e.g. "Operation not permitted" without
 * CAP_NET_ADMIN); TERN_ERR_NO_MEMORY.
 */
tern_err sim_tap_add(sim *s, const char *name, const char *ifname, sim_node_id *out);

/* sim_tap_ifname: the kernel name of the TAP node's interface, or NULL if the node is not a TAP
 * node. */
const char *sim_tap_ifname(const sim *s, sim_node_id node);

/*
 * sim_tap_fd: the non-blocking descriptor of the TAP node's device, for
 * drivers that run their own event loop (wait for it to be readable, then
 * call sim_tap_service).
 * Returns TERN_OK; TERN_ERR_UNKNOWN_NODE; TERN_ERR_WRONG_KIND (not a TAP node).
 */
tern_err sim_tap_fd(const sim *s, sim_node_id node, int *fd);

/*
 * sim_tap_service: read the frames the kernel has sent, up to `max_frames`
 * (0 means no limit: until the device has nothing more), and send each out
 * of the node's port at the current virtual time.
 *   frames  if not NULL, receives how many frames were read.
 * Returns TERN_OK (also when nothing was waiting); TERN_ERR_UNKNOWN_NODE;
 * TERN_ERR_WRONG_KIND; TERN_ERR_IO when reading fails for another reason
 * than "nothing to read" (the message names the device and the errno text;
 * the node stays usable).
 */
tern_err sim_tap_service(sim *s, sim_node_id node, size_t max_frames, size_t *frames);

/*
 * A clock for sim_tap_service_clocked(): called after each frame is read from
 * the device and before it enters the simulation. It must bring the
 * simulation's clock (sim_now) to the moment of the call or later, running
 * what falls due meanwhile (sim_run): the frame then enters at a virtual time
 * no earlier than its real arrival. ctx is the caller's argument.
 * Returns TERN_OK, or an error (from sim_run) that ends the service.
 */
typedef tern_err (*sim_tap_arrival_fn)(void *ctx, sim *s);

/*
 * sim_tap_service_clocked: sim_tap_service(), but `arrived` (if not NULL) is
 * called after each read, before the frame is sent out of the node's port at
 * the then current virtual time (see sim_tap_arrival_fn).
 * Returns what sim_tap_service() returns, or the error `arrived` returned
 * (the frame it was called for is then dropped; *frames counts it).
 */
tern_err sim_tap_service_clocked(sim *s, sim_node_id node, size_t max_frames,
                                 sim_tap_arrival_fn arrived, void *ctx, size_t *frames);

/* What a TAP node moved. */
typedef struct sim_tap_counters {
    uint64_t from_kernel_frames; /* frames read from the device (sent into the simulation) */
    uint64_t from_kernel_bytes;
    uint64_t to_kernel_frames; /* frames written to the device */
    uint64_t to_kernel_bytes;
    uint64_t to_kernel_errors; /* writes that failed (interface down, no buffer, ...) */
    uint64_t read_errors;      /* reads that failed other than with EAGAIN */
    int last_errno;            /* errno of the last failed read or write, 0 if none */
} sim_tap_counters;

/* sim_tap_get_counters: copy the TAP node's counters. Returns TERN_OK, TERN_ERR_UNKNOWN_NODE or
 * TERN_ERR_WRONG_KIND. */
tern_err sim_tap_get_counters(const sim *s, sim_node_id node, sim_tap_counters *out);

#endif /* TERN_SIM_TAP_H */

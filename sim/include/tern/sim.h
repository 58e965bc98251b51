/*
 * libternsim: Tern's deterministic, virtual-time network simulator.
 *
 * A simulation holds nodes (anything that takes frames in, runs at a deadline
 * and sends frames out), full-duplex links between node ports, and one event
 * queue ordered by (virtual time, insertion sequence). Virtual time is a
 * uint64_t count of nanoseconds since the start; SIM_NEVER means "never".
 * Every random choice comes from the one seed given to sim_create().
 *
 * Errors: every function that can fail returns a tern_err (tern/errors.h):
 * TERN_OK on success, a negative code otherwise, and leaves a message that
 * names the parameter and the value in sim_last_error(). A failed call
 * changes nothing.
 *
 * Threads: a simulation is used from one thread at a time.
 */
#ifndef TERN_SIM_H
#define TERN_SIM_H

#ifndef TERN_CDEF
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"
#endif

/* Virtual time that never comes. */
#define SIM_NEVER 0xffffffffffffffffULL

/* Largest frame a link carries, in bytes (an Ethernet jumbo frame with room to spare). */
#define SIM_MAX_FRAME 65536

/* Number of consecutive polls at one instant without progress that the livelock guard allows. */
#define SIM_LIVELOCK_POLLS 1000

/*
 * Frames one node may send at one virtual instant. Sending frames is progress
 * for SIM_LIVELOCK_POLLS, so two nodes that answer each other for ever over a
 * link without delay (an ACK ping-pong) would run without end at one instant;
 * this second guard stops them. Generous: ten times the largest burst any
 * test or scenario of the project sends at one instant (10000 frames, a
 * scripted peer; a Tern host's bulk transfer is clocked by its windows and
 * stays under 200); sim_node_counters.max_burst_frames tells a node's
 * largest burst.
 */
#define SIM_LIVELOCK_FRAMES 100000

typedef struct sim sim;
typedef uint32_t sim_node_id;
typedef uint32_t sim_link_id;

/* ------------------------------------------------------------------------ */
/* Simulation                                                                */
/* ------------------------------------------------------------------------ */

/*
 * sim_create: a new, empty simulation at virtual time 0.
 *   seed  the one seed from which every random stream of the simulation derives.
 *   out   receives the simulation; free it with sim_destroy().
 * Returns TERN_OK, or TERN_ERR_NO_MEMORY.
 */
tern_err sim_create(uint64_t seed, sim **out);

/* sim_destroy: frees the simulation, its nodes, links, queued frames, and closes captures. NULL is
 * a no-op. */
void sim_destroy(sim *s);

/* sim_last_error: the message left by the last failing call on s ("" if none). Never NULL. */
const char *sim_last_error(const sim *s);

/* sim_now: the current virtual time in nanoseconds. */
uint64_t sim_now(const sim *s);

/* sim_seed: the seed given to sim_create(). */
uint64_t sim_seed(const sim *s);

/* sim_next_event_time: the time of the earliest pending event, SIM_NEVER if none. */
uint64_t sim_next_event_time(sim *s);

/* sim_events_processed: how many events the simulation has dispatched so far. */
uint64_t sim_events_processed(const sim *s);

/* Flags for sim_run(). */
#define SIM_RUN_STOP_ON_PEER_RX 1u /* return as soon as a scripted peer receives a frame */

/* Why sim_run() returned. */
typedef enum sim_stop {
    SIM_STOP_TIME = 0,    /* virtual time reached `until`; sim_now() == until */
    SIM_STOP_PEER_RX = 1, /* a scripted peer received a frame (only with SIM_RUN_STOP_ON_PEER_RX) */
} sim_stop;

/*
 * sim_run: dispatch every event due at or before `until`, in (time, insertion)
 * order, then set the clock to `until`.
 *   until  virtual time to run to; SIM_NEVER runs until no event is left (the
 *          clock then stays at the last event's time).
 *   flags  0 or SIM_RUN_STOP_ON_PEER_RX.
 *   why    if not NULL, receives the reason for returning.
 * Returns TERN_OK; TERN_ERR_TIME_BACKWARDS if until < sim_now();
 * TERN_ERR_LIVELOCK if a node asked to run again at the same instant
 * SIM_LIVELOCK_POLLS times without sending or receiving a frame, or sent more
 * than SIM_LIVELOCK_FRAMES frames at one instant (the frames beyond are not
 * sent); the message names the node and the time; the clock stays at that
 * time.
 */
tern_err sim_run(sim *s, uint64_t until, unsigned flags, sim_stop *why);

/* ------------------------------------------------------------------------ */
/* Nodes                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * The node interface. Everything attached to links is a node: a Tern stack
 * host, a scripted peer, a switch, a built-in service, a bridge. The
 * simulator calls:
 *   input    a frame arrived on `port` at `now`. The node may send frames at
 *            once with sim_node_send().
 *   poll     run whatever is due at `now`; send frames with sim_node_send().
 *   poll_at  the earliest time the node next needs poll(), or SIM_NEVER.
 *            Asked after every input and poll, and after sim_node_wake().
 *            A time at or before now means "now".
 *   destroy  free `state` (called by sim_destroy; may be NULL).
 * input, poll and destroy may be NULL when a node has nothing to do there;
 * poll_at NULL means SIM_NEVER.
 */
typedef struct sim_node_ops {
    void (*input)(void *state, uint64_t now, uint32_t port, const uint8_t *frame, size_t len);
    void (*poll)(void *state, uint64_t now);
    uint64_t (*poll_at)(void *state);
    void (*destroy)(void *state);
} sim_node_ops;

/*
 * sim_node_add: attach a node of any kind.
 *   name    unique, non-empty, at most 63 bytes; used in messages and lookups.
 *   kind    short description of the kind ("peer", "switch", "tern-host", ...).
 *   nports  number of ports, 1..1024.
 *   ops     the node interface; copied.
 *   state   passed to every op.
 *   out     receives the node id.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for an empty, too long or
 * duplicate name, or nports out of range; TERN_ERR_NO_MEMORY.
 */
tern_err sim_node_add(sim *s, const char *name, const char *kind, uint32_t nports,
                      const sim_node_ops *ops, void *state, sim_node_id *out);

/*
 * sim_node_send: a node sends a frame out of one of its ports at the current
 * virtual time. The frame is copied. A port without a link swallows the frame
 * (counted in the node's tx_no_link counter).
 * Returns TERN_OK; TERN_ERR_UNKNOWN_NODE; TERN_ERR_UNKNOWN_PORT;
 * TERN_ERR_FRAME_SIZE if len is 0 or above SIM_MAX_FRAME; TERN_ERR_NO_MEMORY.
 */
tern_err sim_node_send(sim *s, sim_node_id node, uint32_t port, const uint8_t *frame, size_t len);

/*
 * sim_node_wake: ask the simulator to call poll_at() of the node again, after
 * something outside the simulation changed it (a socket opened from Python).
 * Returns TERN_OK or TERN_ERR_UNKNOWN_NODE.
 */
tern_err sim_node_wake(sim *s, sim_node_id node);

/* sim_node_find: the id of the node called `name`. Returns TERN_OK or TERN_ERR_UNKNOWN_NODE. */
tern_err sim_node_find(const sim *s, const char *name, sim_node_id *out);

/* sim_node_name: the node's name, or NULL for an unknown id. */
const char *sim_node_name(const sim *s, sim_node_id node);

/* sim_node_state: the `state` pointer given to sim_node_add, or NULL for an unknown id. */
void *sim_node_state(const sim *s, sim_node_id node);

/* Per-node frame counters. */
typedef struct sim_node_counters {
    uint64_t rx_frames;        /* frames delivered to the node */
    uint64_t rx_bytes;         /* their bytes */
    uint64_t tx_frames;        /* frames the node sent */
    uint64_t tx_bytes;         /* their bytes */
    uint64_t tx_no_link;       /* frames sent out of a port that has no link */
    uint64_t polls;            /* times poll() was called */
    uint64_t max_burst_frames; /* the most frames it sent at one virtual instant */
} sim_node_counters;

/* sim_node_get_counters: copy the node's counters. Returns TERN_OK or TERN_ERR_UNKNOWN_NODE. */
tern_err sim_node_get_counters(const sim *s, sim_node_id node, sim_node_counters *out);

/* ------------------------------------------------------------------------ */
/* Scripted peer: a node whose frames are sent and received from outside     */
/* ------------------------------------------------------------------------ */

/*
 * sim_peer_add: a scripted peer with `nports` ports. Frames it receives wait
 * in a queue of at most `rx_limit` frames (0 means 65536); frames arriving
 * while it is full are dropped and counted (sim_peer_rx_dropped).
 * Returns as sim_node_add, and TERN_ERR_INVALID_ARGUMENT for rx_limit above 2^24.
 */
tern_err sim_peer_add(sim *s, const char *name, uint32_t nports, uint32_t rx_limit,
                      sim_node_id *out);

/*
 * sim_peer_send: the peer sends a frame out of `port` now (copied).
 * Returns as sim_node_send, and TERN_ERR_WRONG_KIND if the node is not a peer.
 */
tern_err sim_peer_send(sim *s, sim_node_id peer, uint32_t port, const uint8_t *frame, size_t len);

/* sim_peer_pending: frames waiting in the peer's receive queue (0 for an unknown id or a non-peer).
 */
size_t sim_peer_pending(const sim *s, sim_node_id peer);

/* sim_peer_rx_dropped: frames the peer dropped because its receive queue was full. */
uint64_t sim_peer_rx_dropped(const sim *s, sim_node_id peer);

/*
 * sim_peer_recv: take the oldest received frame.
 *   buf, cap  where to copy it; cap should be SIM_MAX_FRAME to never fail.
 *   len       receives the frame length.
 *   port      if not NULL, receives the port it arrived on.
 *   time      if not NULL, receives the virtual time it arrived.
 * Returns TERN_OK; TERN_ERR_EMPTY if no frame waits; TERN_ERR_BUFFER_TOO_SMALL
 * (the frame stays queued, *len tells its size); TERN_ERR_UNKNOWN_NODE;
 * TERN_ERR_WRONG_KIND.
 */
tern_err sim_peer_recv(sim *s, sim_node_id peer, uint8_t *buf, size_t cap, size_t *len,
                       uint32_t *port, uint64_t *time);

/* ------------------------------------------------------------------------ */
/* Learning Ethernet switch                                                  */
/* ------------------------------------------------------------------------ */

/*
 * sim_switch_add: a learning Ethernet switch with `nports` ports (1..1024)
 * and a MAC table of `table_size` entries (0 means 4096). Forwarding is
 * immediate (no switching delay). A source MAC is learned on the port it
 * arrived on; an entry not refreshed for `ageing_ns` (0 means 300 s, as IEEE
 * 802.1D recommends) is forgotten. Frames to a known unicast MAC go to its
 * port (dropped when that is the arrival port); broadcast, multicast and
 * unknown unicast flood to every other port.
 * Returns as sim_node_add.
 */
tern_err sim_switch_add(sim *s, const char *name, uint32_t nports, uint64_t ageing_ns,
                        uint32_t table_size, sim_node_id *out);

typedef struct sim_switch_counters {
    uint64_t forwarded;  /* frames sent to one known port */
    uint64_t flooded;    /* frames flooded to every other port */
    uint64_t filtered;   /* frames dropped: destination on the arrival port */
    uint64_t learned;    /* new table entries */
    uint64_t moved;      /* MACs that moved port */
    uint64_t aged;       /* entries found expired */
    uint64_t table_full; /* MACs not learned because the table was full */
    uint64_t runts;      /* frames too short to hold two MACs, dropped */
} sim_switch_counters;

/* sim_switch_get_counters: copy the switch's counters. Returns TERN_OK, TERN_ERR_UNKNOWN_NODE or
 * TERN_ERR_WRONG_KIND. */
tern_err sim_switch_get_counters(const sim *s, sim_node_id sw, sim_switch_counters *out);

/*
 * sim_switch_lookup: the port a MAC is currently learned on.
 * Returns TERN_OK; TERN_ERR_EMPTY if unknown or aged out; TERN_ERR_UNKNOWN_NODE;
 * TERN_ERR_WRONG_KIND.
 */
tern_err sim_switch_lookup(const sim *s, sim_node_id sw, const uint8_t mac[6], uint32_t *port);

/* ------------------------------------------------------------------------ */
/* Links                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * sim_link_add: a full-duplex point-to-point link between port `port_a` of
 * node `a` and port `port_b` of node `b`. Direction A_TO_B carries what a
 * sends. A new link is perfect: up, no rate limit, no delay, no impairment.
 * Returns TERN_OK; TERN_ERR_UNKNOWN_NODE; TERN_ERR_UNKNOWN_PORT;
 * TERN_ERR_PORT_IN_USE if either port already has a link;
 * TERN_ERR_INVALID_ARGUMENT for a link from a port to itself; TERN_ERR_NO_MEMORY.
 */
tern_err sim_link_add(sim *s, sim_node_id a, uint32_t port_a, sim_node_id b, uint32_t port_b,
                      sim_link_id *out);

/* Link directions. SIM_DIR_BOTH applies a setting to both. */
typedef enum sim_dir { SIM_DIR_A_TO_B = 0, SIM_DIR_B_TO_A = 1, SIM_DIR_BOTH = 2 } sim_dir;

/*
 * Every setter below configures one direction (or both), validates all its
 * arguments first and changes nothing when one is wrong. Each returns TERN_OK,
 * TERN_ERR_UNKNOWN_LINK, or TERN_ERR_INVALID_ARGUMENT (the message names the
 * parameter and the value), unless it says otherwise. Probabilities are in
 * [0, 1]; they are turned into 32-bit fixed point once, so no floating point
 * decides the fate of a frame.
 */

/* Line rate in bits per second (> 0): a frame of L bytes takes ceil(L*8*1e9/rate) ns on the wire. 0
 * is refused; use sim_link_clear_rate. */
tern_err sim_link_set_rate(sim *s, sim_link_id link, sim_dir dir, int64_t bits_per_sec);
/* Back to an unlimited line rate (no serialization time). */
tern_err sim_link_clear_rate(sim *s, sim_link_id link, sim_dir dir);

/*
 * Propagation delay and jitter, ns (both >= 0, jitter <= delay). Each frame's
 * delay is drawn uniformly from [delay - jitter, delay + jitter]. Unless
 * jitter_reorders, no frame arrives before the one sent before it.
 */
tern_err sim_link_set_delay(sim *s, sim_link_id link, sim_dir dir, int64_t delay_ns,
                            int64_t jitter_ns, bool jitter_reorders);

/* No loss model. */
tern_err sim_link_clear_loss(sim *s, sim_link_id link, sim_dir dir);
/* Bernoulli loss: each frame lost with probability p. */
tern_err sim_link_set_loss_bernoulli(sim *s, sim_link_id link, sim_dir dir, double p);
/*
 * Gilbert-Elliott loss, netem's `gemodel p r 1-h 1-k` (all four given; netem's
 * defaults are r = 1-p, 1-h = 1, 1-k = 0). See notes/link-models.md.
 */
tern_err sim_link_set_loss_gilbert_elliott(sim *s, sim_link_id link, sim_dir dir, double p,
                                           double r, double one_minus_h, double one_minus_k);
/*
 * 4-state Markov loss, netem's `state p13 p31 p32 p23 p14` (all five given;
 * netem's defaults are p31 = 1-p13, p32 = 0, p23 = 1, p14 = 0). In each state the
 * outgoing probabilities must sum to at most 1.
 */
tern_err sim_link_set_loss_markov4(sim *s, sim_link_id link, sim_dir dir, double p13, double p31,
                                   double p32, double p23, double p14);

/* Duplication: with probability p a copy follows the frame through the rest of the pipeline. */
tern_err sim_link_set_duplicate(sim *s, sim_link_id link, sim_dir dir, double p);
/* Corruption: with probability p one bit at a random position of the frame is flipped. */
tern_err sim_link_set_corrupt(sim *s, sim_link_id link, sim_dir dir, double p);
/* Reordering: with probability p a frame skips the propagation delay (and overtakes). */
tern_err sim_link_set_reorder(sim *s, sim_link_id link, sim_dir dir, double p);
/*
 * Queue limit in frames (>= 1) for frames waiting for the shaper and the
 * line; 0 restores the default, max(1000, twice the bandwidth-delay product
 * in 1514-byte frames).
 */
tern_err sim_link_set_queue_limit(sim *s, sim_link_id link, sim_dir dir, int64_t frames);
/* Size limit: frames longer than `bytes` (>= 1) are dropped; 0 removes the limit. */
tern_err sim_link_set_size_limit(sim *s, sim_link_id link, sim_dir dir, int64_t bytes);

/*
 * Token-bucket shaper with Linux tbf semantics (notes/link-models.md).
 * rate and peak_rate are bytes per second; burst, mtu, limit, overhead and
 * mpu are bytes; latency is ns. Exactly one of limit and latency_ns must be
 * > 0. peak_rate 0 means no peak bucket (then mtu must be 0); with a peak
 * rate, mtu must be > 0 and peak_rate > rate. overhead may be negative (as
 * tc's) but the charged size is never below 1 byte.
 */
typedef struct sim_tbf_params {
    int64_t rate;
    int64_t burst;
    int64_t peak_rate;
    int64_t mtu;
    int64_t limit;
    int64_t latency_ns;
    int64_t overhead;
    int64_t mpu;
} sim_tbf_params;

tern_err sim_link_set_tbf(sim *s, sim_link_id link, sim_dir dir, const sim_tbf_params *p);
/* Remove the shaper. */
tern_err sim_link_clear_tbf(sim *s, sim_link_id link, sim_dir dir);

/*
 * Link state. A link that is down drops every frame sent into it and every
 * frame that would be delivered while it is down (counted in dropped_down).
 * sim_link_schedule_state changes the state at virtual time `at` (>= now),
 * for both directions.
 */
tern_err sim_link_set_up(sim *s, sim_link_id link, bool up);
tern_err sim_link_schedule_state(sim *s, sim_link_id link, uint64_t at, bool up);

/* ------------------------------------------------------------------------ */
/* Scripted faults                                                           */
/* ------------------------------------------------------------------------ */

typedef enum sim_fault_action {
    SIM_FAULT_DROP = 0, /* the frame is lost */
    SIM_FAULT_DELAY =
        1, /* the frame arrives delay_ns later than it would have (it may be overtaken) */
    SIM_FAULT_DUPLICATE = 2, /* a copy follows it through the rest of the pipeline */
    SIM_FAULT_CORRUPT = 3,   /* one bit at a random position is flipped */
} sim_fault_action;

/*
 * Scripted faults are the first stage of a direction's pipeline. Each
 * fault fires on the frames it selects and counts its hits; faults are
 * checked in the order they were added and a frame can be hit by several.
 *   sim_link_fault_nth     the nth frame (1-based) to enter the direction.
 *   sim_link_fault_filter  the next `count` (>= 1) frames that match the
 *                          libpcap filter expression `bpf` (Ethernet link type).
 *   sim_link_fault_filter_nth  the same from the `nth` (>= 1) matching frame on:
 *                          frames are counted among the matches only, so "the
 *                          3rd data segment" does not depend on ARP or handshakes.
 *   sim_link_fault_window  every frame entering during [start_ns, end_ns).
 * dir must be one direction (not SIM_DIR_BOTH). delay_ns (>= 0) is used by
 * SIM_FAULT_DELAY only and must be 0 otherwise. `id` (optional) receives the
 * fault's id for sim_link_fault_hits.
 * Returns TERN_OK; TERN_ERR_UNKNOWN_LINK; TERN_ERR_INVALID_ARGUMENT;
 * TERN_ERR_BAD_FILTER (the message carries libpcap's); TERN_ERR_NO_MEMORY.
 */
tern_err sim_link_fault_nth(sim *s, sim_link_id link, sim_dir dir, uint64_t n,
                            sim_fault_action action, int64_t delay_ns, uint32_t *id);
tern_err sim_link_fault_filter(sim *s, sim_link_id link, sim_dir dir, const char *bpf,
                               uint64_t count, sim_fault_action action, int64_t delay_ns,
                               uint32_t *id);
tern_err sim_link_fault_filter_nth(sim *s, sim_link_id link, sim_dir dir, const char *bpf,
                                   uint64_t nth, uint64_t count, sim_fault_action action,
                                   int64_t delay_ns, uint32_t *id);
tern_err sim_link_fault_window(sim *s, sim_link_id link, sim_dir dir, uint64_t start_ns,
                               uint64_t end_ns, sim_fault_action action, int64_t delay_ns,
                               uint32_t *id);
/* sim_link_fault_hits: how many frames the fault has hit. Returns TERN_OK, TERN_ERR_UNKNOWN_LINK or
 * TERN_ERR_INVALID_ARGUMENT (unknown id). */
tern_err sim_link_fault_hits(const sim *s, sim_link_id link, sim_dir dir, uint32_t id,
                             uint64_t *hits);

/* ------------------------------------------------------------------------ */
/* Counters and capture                                                      */
/* ------------------------------------------------------------------------ */

/* What one direction of a link did, by stage. */
typedef struct sim_link_counters {
    uint64_t frames_in; /* frames sent into the direction (before any impairment) */
    uint64_t bytes_in;
    uint64_t delivered; /* frames handed to the receiving node */
    uint64_t bytes_delivered;
    uint64_t dropped_down;            /* lost because the link was down */
    uint64_t dropped_fault;           /* lost to a scripted drop */
    uint64_t dropped_loss;            /* lost to the loss model */
    uint64_t dropped_size;            /* longer than the size limit */
    uint64_t dropped_queue;           /* queue limit (frames) reached */
    uint64_t dropped_shaper_limit;    /* shaper backlog limit (bytes) reached */
    uint64_t dropped_shaper_oversize; /* larger than the shaper can ever send */
    uint64_t duplicated;              /* copies made by the duplicate impairment */
    uint64_t corrupted;               /* frames with a bit flipped by the corrupt impairment */
    uint64_t reordered;               /* frames that skipped the delay */
    uint64_t shaper_delayed;          /* frames the shaper held back for tokens */
    uint64_t fault_delayed;           /* frames delayed by a scripted fault */
    uint64_t fault_duplicated;
    uint64_t fault_corrupted;
    uint64_t queue_max; /* largest queue length seen, frames */
} sim_link_counters;

/* sim_link_get_counters: copy one direction's counters (dir must not be SIM_DIR_BOTH). */
tern_err sim_link_get_counters(const sim *s, sim_link_id link, sim_dir dir, sim_link_counters *out);

/*
 * sim_link_capture: write what crosses the link to a pcap file through
 * libpcap (Ethernet link type, nanosecond timestamps of virtual time), as a
 * capture at one end of it would see: frames that end sends, at the time it
 * sends them, and frames delivered to it, at the time they arrive.
 * Beside it, "<path>.events" (created at the first event; an old one is
 * removed when the capture starts) gets one line per thing the link did to a frame
 * that end sent: "<frame number in the pcap, from 1> <virtual time ns> <what>",
 * what being "dropped loss|fault|queue-full|size-limit|shaper-limit|
 * shaper-oversize|link-down", "corrupted", "corrupted fault", "duplicated",
 * "duplicated fault" or "delayed fault". (A pcap savefile has no per-frame
 * comment, and libpcap cannot write pcapng, which has.)
 *   side  0 for node a's end, 1 for node b's end.
 *   path  file to create (truncated if it exists), and path + ".events".
 * Each end has at most one capture: a new capture of the same end replaces
 * the old one (which is closed); the other end's capture goes on.
 * Returns TERN_OK; TERN_ERR_UNKNOWN_LINK; TERN_ERR_INVALID_ARGUMENT (side);
 * TERN_ERR_IO (the message names the path and the reason).
 */
tern_err sim_link_capture(sim *s, sim_link_id link, uint32_t side, const char *path);
/*
 * sim_link_capture_set_epoch: capture timestamps become epoch_ns + virtual
 * time (default 0: virtual time, so that the same seed gives the same file).
 * A real-time program passes the wall clock at its start, as tcpdump users
 * expect. Returns TERN_OK, or TERN_ERR_UNKNOWN_LINK.
 */
tern_err sim_link_capture_set_epoch(sim *s, sim_link_id link, uint64_t epoch_ns);
/* sim_link_capture_close: flush and close the link's captures (both ends), if any. */
tern_err sim_link_capture_close(sim *s, sim_link_id link);

/* sim_link_endpoint: the node and port at one end (side 0 = a, 1 = b). */
tern_err sim_link_endpoint(const sim *s, sim_link_id link, uint32_t side, sim_node_id *node,
                           uint32_t *port);

#endif /* TERN_SIM_H */

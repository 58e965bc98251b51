/*
 * The simulator's internal structures, shared by its modules:
 *   sim.c          simulation, clock, run loop, nodes, errors
 *   frame_pool.c   frame buffers
 *   peer.c         scripted peer node
 *   switch.c       learning switch node
 *   link.c         links and their configuration (validation)
 *   link_pipeline.c the per-direction pipeline a frame goes through
 *   fault.c        scripted faults
 *   capture.c      pcap capture
 */
#ifndef TERN_SIM_INTERNAL_H
#define TERN_SIM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event_queue.h"
#include "host_arena.h"
#include "node_names.h"
#include "link/loss.h"
#include "rng.h"
#include "link/tbf.h"
#include "tern/sim.h"

/* ---- frames ------------------------------------------------------------ */

/*
 * A frame travelling through a link. Allocated from the simulation's pool.
 * Its bytes are at `bytes`: in its own `data` (at its start, or past the
 * room for headers a host's stack left in front of a frame it built there,
 * nodes/host.c), or in the data of `owner` when they are shared with other
 * frames (frame_pool.c). Shared bytes are read-only:
 * whoever changes them takes sim_frame_private first.
 *
 * The header is SIM_FRAME_HDR bytes: in its first line what a delivery and
 * sim_frame_free read (the FIFO link, the time and sequence, the bytes, the
 * owner and references, the pool's flags), in the second what only entering
 * a link writes. The pool carves frames at SIM_FRAME_ALIGN, so the header is
 * one aligned pair of lines, and the headers a host's stack builds in front
 * of an IPv4 segment (data + 40: Ethernet, IPv4 and TCP with timestamps, 66
 * bytes) lie in the pair after it. With thousands of hosts no frame stays in
 * the caches between its send and its delivery, and each line it spans is a
 * miss (issue 19, the scale figures).
 */
typedef struct sim_frame {
    /* ---- the first line: what the delivery FIFO and sim_frame_free read ---- */
    struct sim_frame *next; /* FIFO link */
    uint64_t deliver_at;    /* delivery FIFO: when it arrives */
    uint64_t deliver_seq;   /* delivery FIFO: its place among events of that time (event_queue.h) */
    uint8_t *bytes;         /* the frame's bytes */
    struct sim_frame *owner; /* the frame whose data `bytes` is, or NULL: its own */
    uint32_t len;
    uint32_t refs;        /* frames reading this one's data (itself included) */
    uint64_t extra_delay; /* added by a scripted delay fault */
    uint32_t cap;
    uint8_t size_class;
    bool reorder;        /* skips the propagation delay */
    bool shaper_counted; /* already counted in shaper_delayed */
    bool pooled;         /* on the pool's free stack (a second free is a bug: it aborts) */
    /* ---- the second line: written when the frame enters a link ---- */
    int64_t jitter;  /* this frame's jitter offset, drawn when it entered */
    uint64_t time;   /* peer receive queue: arrival time */
    uint64_t cap_no; /* its number in the sender's capture (0: not captured) */
    uint32_t port;   /* peer receive queue: arrival port */
    _Alignas(16) uint8_t data[];
} sim_frame;

#define SIM_FRAME_ALIGN 128u
#define SIM_FRAME_HDR 96u
_Static_assert(sizeof(sim_frame) == SIM_FRAME_HDR && offsetof(sim_frame, data) == SIM_FRAME_HDR,
               "the frame header is 1.5 lines, data behind");
_Static_assert(offsetof(sim_frame, jitter) == 64, "what a delivery reads is in the first line");

/* 128 B .. 1 KiB, the MTU class, 2 KiB .. 64 KiB: powers of two, and one class that holds a
 * 1500-byte-MTU frame with the headroom a host's stack asks for (frame_pool.c). */
#define SIM_FRAME_CLASSES 11
#define SIM_FRAME_MTU_CLASS 4  /* between the 1 KiB and the 2 KiB classes */
#define SIM_FRAME_MTU_CAP 1664 /* 13 x 128: 1514 bytes of frame, 150 of headroom and more */
#define SIM_FRAME_DATA_MAX ((size_t)65536) /* the largest class */

/* The free frames of one size class, most recently freed last. */
typedef struct sim_frame_stack {
    sim_frame **v;
    uint32_t n, cap;
} sim_frame_stack;

/* Where new frames of one size class are carved (frame_pool.c). */
typedef struct sim_frame_carve {
    uint8_t *next, *end;  /* the rest of the class's current slab */
    uint32_t slab_frames; /* frames in the class's next slab (doubling) */
} sim_frame_carve;

typedef struct sim_frame_pool {
    sim_frame_stack free[SIM_FRAME_CLASSES];
    sim_frame_carve carve[SIM_FRAME_CLASSES];
    void **slabs; /* every slab, freed with the pool */
    uint32_t nslabs, slabs_cap;
    /* Frames taken and not yet freed (each sim_frame, shared traversals included): 0 once every
     * frame in flight has been delivered or dropped and no host holds a lent one. */
    uint64_t live;
    uint64_t taken; /* frames taken from the pool so far (tests: which frames a path made) */
} sim_frame_pool;

/* A frame holding a copy of data[0..len); NULL when out of memory. */
sim_frame *sim_frame_alloc(sim *s, const uint8_t *data, size_t len);
/* A frame of len bytes whose contents the caller writes (at f->data); NULL when out of memory. */
sim_frame *sim_frame_alloc_raw(sim *s, size_t len);
/* Another frame with the same bytes as `of`, shared, not copied; NULL when out of memory. */
sim_frame *sim_frame_share(sim *s, sim_frame *of);
/* f itself if its bytes are its own alone, else a frame with a private copy of them and the same
 * traversal state (f is released); NULL when out of memory (f is then kept). */
sim_frame *sim_frame_private(sim *s, sim_frame *f);
/* f, a frame just delivered, made ready to enter a link again as a new traversal of the same
 * bytes: its traversal state (FIFO link, jitter, delays, capture number, receive-queue fields)
 * as sim_frame_share would give a new one; its bytes, length and references are kept. */
sim_frame *sim_frame_reuse(sim_frame *f);
/* Release a frame (and its reference on shared bytes). */
void sim_frame_free(sim *s, sim_frame *f);
void sim_frame_pool_destroy(sim_frame_pool *p);

/* ---- scripted faults --------------------------------------------------- */

typedef enum fault_selector { FAULT_NTH, FAULT_FILTER, FAULT_WINDOW } fault_selector;

typedef struct sim_fault {
    uint32_t id;
    fault_selector selector;
    sim_fault_action action;
    uint64_t delay_ns;
    uint64_t nth;        /* FAULT_NTH */
    uint64_t remaining;  /* FAULT_FILTER: matches still to hit */
    uint64_t skip;       /* FAULT_FILTER: matches still to let through before the first hit */
    uint64_t start, end; /* FAULT_WINDOW */
    uint64_t hits;
    void *bpf; /* FAULT_FILTER: compiled struct bpf_program */
} sim_fault;

/* ---- links ------------------------------------------------------------- */

/* A link direction starts an aligned pair of lines: what a frame on a plain, quiet direction reads
 * and writes, entering and delivered, is its first line (sim_linkdir). */
#define SIM_LINKDIR_ALIGN 128u

/* A direction's per-frame counters as kept in its first line (sim_linkdir.n). */
typedef struct sim_linkdir_hot {
    uint32_t frames_in, bytes_in, delivered, bytes_delivered;
} sim_linkdir_hot;

/*
 * One direction of a link: its configuration, random streams, queue and counters. What a frame
 * on a plain link reads and writes (sim_linkdir_enter, transmit, the delivery FIFO,
 * sim_linkdir_deliver), its counters included, comes first, in one cache line: with thousands of
 * hosts no direction stays in the caches between two of its frames, and each line a frame
 * touches is a miss (issue 19, the scale figures).
 */
typedef struct sim_linkdir {
    /* ---- every frame: the first line ---- */
    /* The link's id * 2 + dir (0 = a->b, 1 = b->a): the delivery FIFO's event target, and where
     * the link is (s->links[target >> 1]), which only a direction that is not quiet reads. */
    _Alignas(SIM_LINKDIR_ALIGN) uint32_t target;
    sim_node_id to_node;
    uint32_t to_port;
    /* No impairment that draws, queues, shapes, limits or faults is on (sim_linkdir_configured):
     * a frame goes straight to the propagation delay, with nothing drawn, as the full pipeline
     * would send it. Kept up to date by every setter; test builds check it on every frame. */
    bool plain;
    bool jitter_reorders;
    bool head_queued;
    /* The link is up and neither end is captured (sim_link_watched): a frame then reads nothing
     * of the link itself, whose first line (up, the captures) is another miss per frame when
     * thousands of links are in use. Kept up to date wherever up or a capture changes; test
     * builds check it on every frame. */
    bool quiet;
    uint64_t delay_ns;
    uint64_t last_arrival; /* for in-order delivery */
    /* Frames on their way to the other end, in the order they arrive (delivery FIFO, below). Only
     * the head has an event in the queue (when head_queued); the others wait with their time and
     * reserved sequence, so the order of events is what one event per frame gave. */
    sim_frame *dq_head, *dq_tail;
    /* What every frame entering (frames_in, bytes_in) and every delivery (delivered,
     * bytes_delivered) counts ends the first line, 32 bits wide: a frame entering a plain, quiet
     * direction and its delivery then read and write that line only. Each carries out of its 32
     * bits into c's field of the same name (sim_linkdir_count), so c's holds the multiples of
     * 2^32 and the count is their sum (sim_linkdir_counters puts the two together). */
    sim_linkdir_hot n;

    /* ---- the other counters, read and written only off the plain, quiet path ---- */
    sim_link_counters c;

    /* ---- configuration: read when an impairment is on ---- */
    uint64_t rate_bps; /* line rate, 0 = unlimited */
    uint64_t jitter_ns;
    sim_loss loss;
    sim_prob duplicate;
    sim_prob corrupt;
    sim_prob reorder;
    uint64_t queue_limit; /* frames; 0 = default sizing */
    uint64_t size_limit;  /* bytes; 0 = none */
    bool has_tbf;
    uint32_t nfaults; /* scripted faults (below) */

    /* queue in front of the shaper and the line */
    sim_frame *q_head, *q_tail;
    uint64_t q_len;
    uint64_t wire_free; /* when the transmitter is free again */
    uint64_t wake_at;   /* pending dequeue event time, SIM_NEVER if none */

    sim_tbf tbf;

    /* random streams, one per impairment (notes/link-models.md) */
    sim_rng rng_duplicate, rng_loss, rng_corrupt, rng_jitter, rng_reorder, rng_fault, rng_copy;

    /* scripted faults, in the order they were added */
    sim_fault *faults;
    uint32_t faults_cap, next_fault_id;
} sim_linkdir;

typedef struct sim_link {
    /* What every frame reads (up, and whether either end is captured) first, beside the ends. */
    sim_link_id id;
    sim_node_id node[2];
    uint32_t port[2];
    bool up;
    /* One capture per end (index = side: 0 a, 1 b), each with its events file. */
    void *capture[2];        /* pcap_dumper_t*, or NULL */
    void *capture_pcap[2];   /* pcap_t* the dumper belongs to */
    void *capture_events[2]; /* FILE* of "<frame> <time> <what>" lines, opened at the first one */
    char *capture_events_path[2]; /* where that file goes (malloc'd), or NULL */
    uint64_t capture_count[2];    /* frames written to each capture so far */
    uint64_t capture_epoch;       /* added to virtual time in capture timestamps */
    sim_linkdir d[2];
} sim_link;

_Static_assert(offsetof(sim_linkdir, n) + sizeof(sim_linkdir_hot) == 64,
               "what a frame entering and its delivery read and write: one line");

/* Add `add` to a per-frame counter kept in 32 bits (lo), carrying into its 64-bit high part (hi,
 * a multiple of 2^32): the sum hi + lo is the exact count, whatever its size. */
static inline void sim_linkdir_count(uint32_t *lo, uint64_t *hi, uint32_t add) {
    uint32_t v = *lo + add;
    if (v < add) { /* wrapped: lo + add reached 2^32 */
        *hi += UINT64_C(1) << 32;
    }
    *lo = v;
}

/* A direction's counters as sim_link_counters reports them: c with the per-frame ones added. */
static inline sim_link_counters sim_linkdir_counters(const sim_linkdir *ld) {
    sim_link_counters out = ld->c;
    out.frames_in += ld->n.frames_in;
    out.bytes_in += ld->n.bytes_in;
    out.delivered += ld->n.delivered;
    out.bytes_delivered += ld->n.bytes_delivered;
    return out;
}

/* After l->up or one of its captures changed: recompute its directions' quiet flag. */
void sim_link_watched(sim_link *l);

/* ---- nodes ------------------------------------------------------------- */

typedef enum node_type { NODE_GENERIC, NODE_PEER, NODE_SWITCH } node_type;

#define SIM_NODE_PORTS_INLINE 2u

typedef struct sim_node {
    /* What every event for the node reads first (its first cache line or so); the names,
     * read only for messages, last. Nodes start on a line (the array is aligned). */
    _Alignas(64) sim_node_ops ops;
    void *state;
    uint64_t scheduled_at; /* time of the pending poll event, SIM_NEVER if none */
    uint64_t gen;          /* poll events of older generations are stale */
    /* Per port: the direction of its link that the port sends into, as link id * 2 + dir, plus
     * one; 0 = no link. A sent frame goes to that direction without reading the link's ends
     * (one line fewer per frame with thousands of links: issue 19). */
    uint32_t *port_dir;
    node_type type;
    uint32_t nports;
    /* port_dir's storage for a node of up to SIM_NODE_PORTS_INLINE ports (a host: its one port),
     * beside what a sent frame reads of the node anyway instead of an allocation of its own
     * (a line more per frame with thousands of hosts). */
    uint32_t port_inline[SIM_NODE_PORTS_INLINE];
    /* The first lines an input or a poll of the node reads besides its state (a host: its stack
     * instance), or NULL: prefetched before it runs (sim_dest). */
    const uint8_t *hot;
    bool progressed;
    /* livelock guard */
    uint32_t idle_polls;
    uint64_t idle_time;
    uint64_t burst_time;   /* the instant burst_frames counts for */
    uint64_t burst_frames; /* frames sent at burst_time */
    sim_node_counters c;
    char name[64];
    char kind[32];
} sim_node;

/* Where a link direction delivers: the receiving node's state and hot lines (sim_node.hot),
 * kept per direction beside the links so that the run loop can prefetch them for the next event
 * from its target alone, without the direction's and the node's lines first (sim.c). */
typedef struct sim_dest {
    const void *state;
    const uint8_t *hot;
} sim_dest;

/* ---- simulation -------------------------------------------------------- */

enum sim_event_kind {
    EV_NODE_POLL = 1, /* target node, arg generation */
    EV_LINK_SERVICE,  /* target link*2+dir: try to dequeue */
    EV_LINK_DELIVER,  /* target link*2+dir, ptr frame (one that overtakes its FIFO) */
    EV_LINK_FIFO,     /* target link*2+dir: deliver the head of its FIFO (ptr: that head, a hint) */
    EV_LINK_STATE,    /* target link, arg 1 = up */
    EV_BENCH,         /* used by benchmarks of the bare queue */
};

struct sim {
    uint64_t seed;
    uint64_t now;
    uint64_t events;
    sim_event_queue q;
    sim_node *nodes;
    uint32_t nnodes, nodes_cap;
    sim_link *links;
    uint32_t nlinks, links_cap;
    sim_dest *dest; /* links_cap * 2: per link direction (link id * 2 + dir) */
    sim_frame_pool pool;
    sim_host_arena host_mem; /* the Tern hosts' stack instances (host.c) */
    bool peer_rx_flag;       /* a peer received a frame during sim_run */
    bool running;            /* inside sim_run */
    bool flooded;            /* a node went over SIM_LIVELOCK_FRAMES during sim_run (flood_node) */
    sim_frame *delivering;   /* the frame a node's input callback is reading, or NULL */
    /* The input sent `delivering` itself on (sim_node_send): its delivery must not free it. */
    bool delivering_moved;
    uint64_t frame_bytes_copied; /* bytes copied into frames so far (frame_pool.c, host.c) */
    sim_node_id flood_node;
    uint32_t fifo_open; /* the direction whose FIFO head is being delivered, or UINT32_MAX */
    tern_err pending;   /* a failure a node reported (sim_fail_later): sim_run returns it */
    char err[512];
    sim_node_names names; /* the nodes' names (sim_node_add, sim_node_find) */
};

/* Record a failure's message and return its code. */
tern_err sim_fail(sim *s, tern_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Record a failure found inside a node's callback (which returns nothing): the
 * message now, the code returned by sim_run once the current event is done.
 * Only the first one counts until sim_run has returned it. */
void sim_fail_later(sim *s, tern_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clear the message (on success of a call that may fail). */
void sim_ok(sim *s);

sim_node *sim_get_node(sim *s, sim_node_id id);
sim_link *sim_get_link(sim *s, sim_link_id id);

/*
 * sim_node_send with a frame the caller has filled (f->data, f->len): the
 * link takes it over without another copy. The same checks as sim_node_send;
 * f is released whatever happens. f->len must be 1..SIM_MAX_FRAME.
 */
tern_err sim_node_send_frame(sim *s, sim_node_id node, uint32_t port, sim_frame *f);

/* Before a node of one port runs (an input or a poll): prefetch the link direction it would send
 * into, whose first lines sim_linkdir_enter reads when it answers (a host mostly does). With
 * thousands of hosts they are a miss each, behind the node's own work (issue 19). */
static inline void sim_node_prefetch_out(const sim *s, const sim_node *n) {
    if (n->nports == 1 && n->port_dir[0]) {
        uint32_t t = n->port_dir[0] - 1;
        __builtin_prefetch(&s->links[t >> 1].d[t & 1]);
    }
}

/* Re-ask a node's poll_at and (re)schedule its poll event. */
void sim_node_reschedule(sim *s, sim_node *n);

/* Schedule an event; on allocation failure the simulation aborts (no event may be lost). */
void sim_schedule(sim *s, uint64_t time, uint32_t kind, uint32_t target, uint64_t arg, void *ptr);
/* Frame f arrives at the end of ld at `arrival`: an event of its own, or its place in ld's
 * delivery FIFO when it arrives no earlier than the FIFO's last frame. */
void sim_schedule_delivery(sim *s, sim_linkdir *ld, sim_frame *f, uint64_t arrival);

/* link_pipeline.c */
void sim_linkdir_init(sim *s, sim_link *l, uint32_t dir);
/* After any change of ld's configuration: recompute what the pipeline may skip (ld->plain). */
void sim_linkdir_configured(sim_linkdir *ld);
/* A frame enters the link direction; the pipeline owns f from here on. */
void sim_linkdir_enter(sim *s, sim_linkdir *ld, sim_frame *f);
void sim_linkdir_service(sim *s, sim_linkdir *ld);
void sim_linkdir_deliver(sim *s, sim_linkdir *ld, sim_frame *f);
void sim_linkdir_destroy(sim *s, sim_linkdir *ld);

/* fault.c */
/* Compile a libpcap filter for Ethernet frames into *prog (a struct bpf_program). */
tern_err sim_fault_compile(sim *s, const char *where, const char *bpf, void **prog);
void sim_fault_free(sim_fault *f);
/* Apply the faults to the frame entering as number `index`; returns false when it is dropped. */
bool sim_faults_apply(sim *s, sim_linkdir *ld, uint64_t index, uint8_t *data, size_t len,
                      bool *duplicate, uint64_t *extra_delay);

/* capture.c */
/* Write a frame to the capture of `side` if there is one; returns its number there, 0 if none. */
uint64_t sim_capture_write(sim *s, sim_link *l, uint32_t side, uint64_t time, const uint8_t *data,
                           size_t len);
/* Note what the link did to frame `cap_no` of the capture of `side` (no-op without one, or for 0).
 */
void sim_capture_note(sim *s, sim_link *l, uint32_t side, uint64_t cap_no, const char *what);
void sim_capture_close_link(sim_link *l);

/* peer.c / switch.c: per-type cleanup of the state behind a node */
void sim_peer_destroy_state(sim *s, void *state);
void sim_switch_destroy_state(void *state);

#endif /* TERN_SIM_INTERNAL_H */

/*
 * The host bridge: the gateway's outside made of the real host (real-time
 * mode only), and the journal that records it.
 *
 * A host-bridge node sits on the gateway's outside segment as its default
 * router (one port, one IPv4 address `addr`). What the gateway's NAT sends
 * it becomes host sockets, in the way of libslirp:
 *   - TCP: a SYN to any destination D:p is held while a non-blocking host
 *     socket connects to D:p (D = addr itself means the host's 127.0.0.1).
 *     When the host connection is up, the SYN goes into the node's own Tern
 *     stack, rewritten to addr:L where L is a listener made for this one
 *     connection; the stack's segments leave rewritten back from D:p. Bytes
 *     are relayed both ways, FIN both ways; a refused host connection
 *     answers the guest's SYN with a RST (RFC 9293 §3.10.7.1), a host reset
 *     aborts the guest's connection (RST), a guest RST resets the host's.
 *   - UDP: one host UDP socket per gateway-side source (= per NAT mapping).
 *   - ICMP echo: one unprivileged ping socket (SOCK_DGRAM, IPPROTO_ICMP) per
 *     echo identifier mapping. They need net.ipv4.ping_group_range to cover
 *     the process's group; sim_hostbridge_add fails naming the sysctl when it
 *     does not (never a silent fallback).
 *   - Inbound forwards (sim_hostbridge_forward): a host TCP or UDP port
 *     (0: any, the bound port reported) to the gateway's outside address and
 *     a port the gateway forwards to a guest. Host peers appear as `addr`
 *     (TCP) or as `addr` for 127.0.0.1 and themselves otherwise (UDP).
 * All host sockets are created in the network namespace `netns` when given
 * (a path such as /run/netns/NAME), so tests can keep every byte inside a
 * namespace they made.
 *
 * Host I/O happens only here and only when the real-time driver services
 * the node (tern/sim_realtime.h: sim_realtime_set_journal); every host-side
 * event (connect result, bytes and datagrams received with their virtual
 * arrival time, ICMP replies, errors, accepted connections, bytes the host
 * took) is written to the journal before it is applied, and the driver's
 * clock values too. In replay mode the node opens no socket at all: the
 * driver feeds the journal back, so the run reproduces byte for byte in
 * virtual time without the host.
 */
#ifndef TERN_SIM_HOSTBRIDGE_H
#define TERN_SIM_HOSTBRIDGE_H

#ifndef TERN_CDEF
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/sim.h"
#endif

#define SIM_HB_MAX_FLOWS 1024  /* flows (closing ones too): connections, UDP and ping sockets */
#define SIM_HB_MAX_FORWARDS 16 /* inbound forwards */
#define SIM_HB_NETNS_MAX 255   /* bytes of the namespace path */

/* ---- the journal -------------------------------------------------------- */

typedef struct sim_journal sim_journal;

typedef enum sim_journal_mode {
    SIM_JOURNAL_RECORD = 1, /* live: host events are written */
    SIM_JOURNAL_REPLAY = 2  /* no host: events are read back */
} sim_journal_mode;

/* What a journal record says. */
typedef enum sim_journal_kind {
    SIM_JR_NOW = 1,      /* sim_realtime_now returned t */
    SIM_JR_RUN = 2,      /* sim_realtime_run returned at t, arg = sim_realtime_stop */
    SIM_JR_SYNC = 3,     /* the driver delivered what was due at t (after a batch of events) */
    SIM_JR_CONNECT = 10, /* outbound TCP flow: host connect result, arg = errno (0: up) */
    SIM_JR_DATA = 11,    /* bytes from the host for a TCP flow */
    SIM_JR_EOF = 12,     /* the host closed its sending side */
    SIM_JR_RESET = 13,   /* the host connection failed (arg = errno) */
    SIM_JR_DRAINED = 14, /* the host took arg bytes of what the guest sent */
    SIM_JR_DGRAM = 15,   /* a datagram from addr:port for a UDP flow or forward */
    SIM_JR_ECHO = 16,    /* an echo reply from addr, arg = sequence number, data after */
    SIM_JR_ACCEPT = 17,  /* a host connection to forward `flow`, from addr:port, arg = new flow */
    SIM_JR_BOUND = 18,   /* forward `flow` is bound to host port `port` */
    SIM_JR_ERROR = 19,   /* a UDP socket reported error arg */
    SIM_JR_ICMP = 20     /* an ICMP error (the host's error queue) about a datagram a UDP flow sent
                          * to addr:port: arg = type | code << 8 | info << 16 (info: the next-hop
                          * MTU of a fragmentation needed); data = the offender's IPv4 address
                          * (4 bytes, network order), then the quoted UDP payload */
} sim_journal_kind;

/* One record (its bytes follow it in the file). */
typedef struct sim_journal_rec {
    uint32_t kind; /* sim_journal_kind */
    uint32_t node; /* the host-bridge node (events) */
    uint32_t flow; /* the flow or forward id */
    int32_t arg;
    uint64_t t;    /* virtual time */
    uint32_t addr; /* IPv4, host order */
    uint16_t port;
    uint16_t pad;
    uint32_t len; /* bytes of data after the record */
} sim_journal_rec;

#define SIM_JOURNAL_MAX_DATA 65536

/*
 * sim_journal_open: open `path`, for writing (RECORD; created or truncated)
 * or reading (REPLAY; its header checked).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (bad mode, not a journal);
 * TERN_ERR_IO (the file cannot be opened; the message names it and why).
 */
tern_err sim_journal_open(sim *s, const char *path, sim_journal_mode mode, sim_journal **out);

/* sim_journal_close: flush and close; NULL is a no-op. */
void sim_journal_close(sim_journal *j);

/* sim_journal_get_mode: the journal's mode. */
sim_journal_mode sim_journal_get_mode(const sim_journal *j);

/* sim_journal_count: records written or read so far. */
uint64_t sim_journal_count(const sim_journal *j);

/*
 * sim_journal_write: append a record and its `rec->len` bytes of data.
 * Returns TERN_OK; TERN_ERR_IO; TERN_ERR_BAD_STATE (a replay journal).
 */
tern_err sim_journal_write(sim_journal *j, const sim_journal_rec *rec, const uint8_t *data);

/*
 * sim_journal_flush: write out the records buffered so far (sim_journal_write
 * does not; the real-time driver calls this before it waits and when a run
 * ends, and sim_journal_close does). A no-op on a replay journal.
 * Returns TERN_OK; TERN_ERR_IO (the file could not be written).
 */
tern_err sim_journal_flush(sim_journal *j);

/*
 * sim_journal_peek: the next record of a replay journal, not consumed.
 *   rec   receives it; data (may be NULL) receives a pointer to its bytes,
 *         valid until the next call
 * Returns TERN_OK; TERN_ERR_EMPTY at the end; TERN_ERR_IO (truncated or
 * corrupt file: the message says at which record); TERN_ERR_BAD_STATE (a
 * record journal).
 */
tern_err sim_journal_peek(sim_journal *j, sim_journal_rec *rec, const uint8_t **data);

/* sim_journal_next: consume the record sim_journal_peek returned. */
void sim_journal_next(sim_journal *j);

/* ---- the node --------------------------------------------------------------- */

typedef struct sim_hostbridge_config {
    uint8_t mac[6];
    uint32_t addr; /* IPv4, host order: the gateway's default router; also the host's loopback */
    uint8_t prefix_len;     /* of the outside segment, 1..30 */
    uint32_t gateway;       /* the gateway's outside address (host order), where forwards go */
    uint8_t gateway_mac[6]; /* its MAC; all zero: learned from its first frame (a datagram from
                             * the host for a forward before any frame of the gateway is dropped
                             * and counted then) */
    char netns[SIM_HB_NETNS_MAX + 1]; /* "" (this process's namespace) or a netns path */
    uint64_t seed;                    /* of the node's stack */
} sim_hostbridge_config;

/*
 * sim_hostbridge_add: add a host-bridge node (one port) bound to `journal`
 * (which must outlive the simulation). With a RECORD journal it checks at
 * once that ping sockets are allowed: TERN_ERR_IO when
 * net.ipv4.ping_group_range does not cover the process's group ids (the
 * message names the sysctl, its value and the groups), TERN_ERR_IO when the
 * namespace cannot be entered. With a REPLAY journal it touches no host
 * resource.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (no journal, address 0,
 * prefix out of range, gateway not in the prefix); those above; what
 * sim_node_add returns; TERN_ERR_NO_MEMORY.
 */
tern_err sim_hostbridge_add(sim *s, const char *name, const sim_hostbridge_config *cfg,
                            sim_journal *journal, sim_node_id *out);

/*
 * sim_hostbridge_forward: an inbound forward of `protocol` (6 TCP, 17 UDP)
 * from host port `host_port` (0: any free port) on 127.0.0.1 to the
 * gateway's outside address and `gw_port`.
 *   bound  receives the host port bound (in replay: the one the journal
 *          recorded)
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (protocol, gw_port 0);
 * TERN_ERR_ADDR_IN_USE (the host port is taken; the message names it);
 * TERN_ERR_NO_BUFFER (SIM_HB_MAX_FORWARDS); TERN_ERR_IO; TERN_ERR_UNKNOWN_NODE;
 * TERN_ERR_WRONG_KIND; in replay, TERN_ERR_BAD_STATE when the journal's next
 * record is not this forward's.
 */
tern_err sim_hostbridge_forward(sim *s, sim_node_id node, uint8_t protocol, uint16_t host_port,
                                uint16_t gw_port, uint16_t *bound);

/* What a host bridge did. */
typedef struct sim_hostbridge_counters {
    uint64_t tcp_connects;   /* outbound connections asked of the host */
    uint64_t tcp_refused;    /* of those, refused or failed: RST to the guest */
    uint64_t tcp_resets;     /* host connections reset after they were up */
    uint64_t tcp_accepted;   /* inbound host connections accepted on forwards */
    uint64_t bytes_to_host;  /* TCP bytes the host took */
    uint64_t bytes_to_guest; /* TCP bytes from the host */
    uint64_t udp_out, udp_in;
    uint64_t icmp_errors; /* ICMP errors from the host's error queue, sent to the gateway */
    uint64_t echo_out, echo_in;
    uint64_t host_errors; /* host socket errors (socket, sendto...) */
    uint64_t dropped;     /* frames not bridged (no flow room, bad frames) */
    uint64_t events;      /* host events applied (live or replayed) */
} sim_hostbridge_counters;

/* sim_hostbridge_get_counters: copy them. Returns TERN_OK; TERN_ERR_UNKNOWN_NODE;
 * TERN_ERR_WRONG_KIND. */
tern_err sim_hostbridge_get_counters(sim *s, sim_node_id node, sim_hostbridge_counters *out);

/* sim_hostbridge_is: is `node` a host bridge? */
bool sim_hostbridge_is(sim *s, sim_node_id node);

#ifndef TERN_CDEF
struct pollfd;
/*
 * For the real-time driver. sim_hostbridge_pollfds: the descriptors the
 * node waits on now (live mode), at most cap; returns how many.
 */
uint32_t sim_hostbridge_pollfds(sim *s, sim_node_id node, struct pollfd *fds, uint32_t cap);

/* A clock-in callback: bring virtual time to the wall clock before an event is applied. */
typedef tern_err (*sim_hostbridge_clock_fn)(void *ctx, sim *s);

/*
 * sim_hostbridge_service: read what the host has for the node (live mode):
 * each event is clocked in, journalled, then applied. *n receives how many.
 * Returns TERN_OK or what the clock or the journal return.
 */
tern_err sim_hostbridge_service(sim *s, sim_node_id node, sim_hostbridge_clock_fn clock, void *ctx,
                                size_t *n);

/* sim_hostbridge_apply: apply a replayed event record to its node. */
tern_err sim_hostbridge_apply(sim *s, const sim_journal_rec *rec, const uint8_t *data);
#endif

#endif /* TERN_SIM_HOSTBRIDGE_H */

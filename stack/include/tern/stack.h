/*
 * libternstack: the Tern TCP/IP stack, sans-I/O (DESIGN.md §3).
 *
 * One tern_stack is one host: its interfaces, addresses, routes, caches,
 * timers and sockets. The caller provides its memory (tern_stack_memory_size
 * tells how much, from the configuration); the stack never allocates, never
 * reads a clock and keeps no global state, so many instances live in one
 * process.
 *
 * The driver calls, always with the current time in nanoseconds:
 *   tern_stack_input    one received Ethernet frame;
 *   tern_stack_poll     run due timers and send what is waiting;
 *   tern_stack_poll_at  the next time poll is needed (TERN_NEVER if none).
 * Frames leave through the output callback of the configuration, called
 * synchronously from input and poll. Socket calls never send by themselves:
 * they queue, and poll_at then asks for a poll "now".
 *
 * Errors: functions return a tern_err (tern/errors.h). Configuration errors
 * leave a message naming the parameter and value in tern_stack_last_error.
 */
#ifndef TERN_STACK_H
#define TERN_STACK_H

#ifndef TERN_CDEF
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"
#endif

#define TERN_NEVER 0xffffffffffffffffULL
#define TERN_MAX_IFACES 8
#define TERN_MAX_IFACE_ADDRS 4

/*
 * Work bounds of one call (DESIGN.md §7: one input or poll "does a bounded
 * amount of work and sends a bounded number of frames, whatever arrived"):
 *
 * TERN_POLL_LOOPBACK_MAX  datagrams sent to one of the host's own addresses
 *     that one tern_stack_poll delivers: only those queued before the poll
 *     began, and at most this many. What their delivery sends to the host
 *     itself (a connection to itself answering itself) waits for the next
 *     poll.
 * TERN_CALL_FRAMES_MAX  frames after which one tern_stack_input or
 *     tern_stack_poll starts no further TCP segment, queued UDP datagram or
 *     echo request; they go out on the next poll. The other frames of a call
 *     are bounded by the input or the configuration: the answer to the one
 *     input frame, the datagrams the ARP queue held (arp_queue), the fragments
 *     of one datagram (at most 65535 / 8).
 *
 * Whatever is deferred makes tern_stack_poll_at return a time at or before
 * now: the driver polls again at the same instant, where a simulator sees a
 * host that never stops (its livelock guard).
 */
#define TERN_POLL_LOOPBACK_MAX 64
#define TERN_CALL_FRAMES_MAX 1024

/* tern_stack_config.ipv6_dad_transmits: no Duplicate Address Detection (RFC 4862 section 5.1:
 * DupAddrDetectTransmits zero). */
#define TERN_DAD_OFF 255
/* A pool size of tern_stack_config that turns the feature off: no memory for it (0 in a pool
 * size field means its default). The field's comment says how its calls are refused. */
#define TERN_POOL_NONE 0xffffffffu

typedef struct tern_stack tern_stack;

/* Called for every frame the stack sends, on interface `iface`. */
typedef void (*tern_output_fn)(void *ctx, uint32_t iface, const uint8_t *frame, size_t len);

/*
 * Frame-buffer lending (optional; docs/frame-lending.md). An environment that
 * carries frames in buffers of its own (the simulator's frame pool) can lend
 * the stack the buffer a frame is built in, so that the frame leaves without
 * being copied. Set all three of tern_stack_config.frame_alloc, frame_output
 * and frame_release, or none (tern_stack_validate refuses a partial set);
 * without them every frame leaves through `output`, from the stack's own
 * buffer, as before.
 *
 * The stack holds at most one lent buffer at a time, and only for frames it
 * builds on its hot path (TCP segments); every other frame still leaves
 * through `output`. It gives each buffer back exactly once: through
 * frame_output when a frame built in it is sent, or through frame_release
 * when none is (the datagram was held for address resolution, looped back,
 * fragmented from it, or refused). A buffer held after a build that failed
 * before it reached IP is kept for the next frame; tern_stack_release_frame
 * gives it back.
 */

/*
 * tern_frame_alloc_fn: lend the stack a buffer of at least cap bytes.
 *   ctx  tern_stack_config.frame_ctx
 *   cap  bytes the stack may write, from the buffer's start
 * Returns the buffer (writable by the stack until it is given back), or NULL
 * when the environment has none: the stack then builds the frame in its own
 * buffer and sends it through `output`, and nothing is lost.
 */
typedef uint8_t *(*tern_frame_alloc_fn)(void *ctx, size_t cap);

/*
 * tern_frame_output_fn: a frame built in a lent buffer is sent on interface
 * `iface`; the buffer's ownership passes back to the environment with the call
 * (the stack never touches it again), whatever the environment does with it.
 *   ctx     tern_stack_config.frame_ctx
 *   iface   the interface, as for tern_output_fn
 *   buf     the buffer frame_alloc returned
 *   offset  where the frame starts in buf (the room in front is unused)
 *   len     the frame's length in bytes (offset + len is within the cap asked for)
 */
typedef void (*tern_frame_output_fn)(void *ctx, uint32_t iface, uint8_t *buf, size_t offset,
                                     size_t len);

/*
 * tern_frame_release_fn: a lent buffer comes back without a frame sent from
 * it; its contents mean nothing.
 *   ctx  tern_stack_config.frame_ctx
 *   buf  the buffer frame_alloc returned
 */
typedef void (*tern_frame_release_fn)(void *ctx, uint8_t *buf);

/*
 * Called with every datagram the host sent to one of its own addresses, at
 * the poll that delivers it (the loopback never crosses a link; this is the
 * place to capture it, as tcpdump -i lo does on Linux).
 *   ctx       tern_stack_config.loopback_ctx
 *   now       the time of the poll that delivers the datagram
 *   datagram  the IPv4 datagram (no link-layer header), valid during the call
 *   len       its length in bytes
 */
typedef void (*tern_loopback_fn)(void *ctx, uint64_t now, const uint8_t *datagram, size_t len);

typedef struct tern_iface_config {
    uint8_t mac[6];
    uint32_t mtu; /* IP MTU in bytes, 68..9000; 0 means 1500 */
    /* Addresses on this interface, 0..TERN_MAX_IFACE_ADDRS, IPv4 (prefix 0..32) or IPv6 (prefix
     * 0..128). Every interface also gets an IPv6 link-local address fe80::/64 formed from its
     * MAC (modified EUI-64, RFC 4291 appendix A) at init. */
    uint32_t naddrs;
    tern_addr addr[TERN_MAX_IFACE_ADDRS];
    uint8_t prefix_len[TERN_MAX_IFACE_ADDRS];
    bool accept_vlan; /* 802.1Q-tagged frames: processed as untagged (true) or dropped (false) */
} tern_iface_config;

/* TCP defaults for new sockets (RFC values unless noted). */
typedef struct tern_tcp_config {
    uint32_t rx_buffer; /* bytes per socket; 0 means 65536 */
    uint32_t tx_buffer; /* bytes per socket; 0 means 65536 */
    /* Lent extents a socket holds at once (tern_tcp_lend): buffers of the application queued
     * for sending without a copy and not yet acknowledged. A lend that continues the previous
     * lent buffer in memory, with nothing queued between them, extends its extent and takes no
     * new one. 0 means 8; TERN_POOL_NONE: no table, no memory, and tern_tcp_lend is refused
     * (TERN_ERR_NO_BUFFER naming tcp.lend_extents). */
    uint32_t lend_extents;
    /* Sockets that can run BBR at once. A BBR socket needs a delivery-rate log (40 bytes per
     * record, as many records as the RACK log: tx_buffer / 536 x 1.5 + 8), taken from a pool of
     * this many when its congestion control becomes BBR (opened with congestion BBR, set by
     * TERN_TCP_OPT_CONGESTION, or accepted by a BBR listener) and given back when it is freed or
     * leaves BBR. 0 means every socket (tcp_sockets) when congestion is BBR, else 4; at most
     * tcp_sockets. TERN_POOL_NONE: none. A socket that cannot get a log is refused BBR with
     * TERN_ERR_NO_BUFFER naming tcp.bbr_sockets (tern_tcp_open with congestion BBR,
     * tern_tcp_set_option); a BBR listener's connection request finding the pool empty is
     * dropped, as when no socket is free. */
    uint32_t bbr_sockets;
    uint32_t backlog_max;          /* largest listen backlog; 0 means 128 */
    uint32_t ooo_max_holes;        /* out-of-order segments kept; 0 means 32 */
    uint64_t rto_min_ns;           /* 0 means 1 s (RFC 6298 (2.4)) */
    uint64_t rto_max_ns;           /* 0 means 60 s (RFC 6298 (2.5)) */
    uint64_t rto_initial_ns;       /* 0 means 1 s (RFC 6298 (2.1)) */
    uint64_t delack_ns;            /* delayed-ACK timer, 40..200 ms; 0 means 200 ms */
    uint64_t msl_ns;               /* TIME-WAIT lasts 2 x MSL; 0 means 120 s (RFC 9293) */
    uint64_t fin_wait2_timeout_ns; /* an orphan (closed) socket waits this long in FIN-WAIT-2
                                    * for the peer's FIN; 0 means 60 s (as Linux) */
    /* SYN (and SYN-ACK) retransmissions before the open fails (R2 for a SYN as
     * a count). 0 means the fewest that keep the SYN retransmitted for at
     * least 3 minutes with the RTOs above (RFC 9293 §3.8.3 MUST-23): 8 with
     * the default RTOs, SYNs at 0, 1, 3, 7, 15, 31, 63, 123 and 183 s and
     * the connect failing at 243 s. */
    uint32_t syn_retries;
    uint32_t data_retries;          /* 0 means 15 */
    uint32_t initial_window;        /* segments (RFC 6928); 0 means 10 */
    uint64_t keepalive_idle_ns;     /* 0 means 2 h (RFC 1122 4.2.3.6) */
    uint64_t keepalive_interval_ns; /* 0 means 75 s */
    uint32_t keepalive_count;       /* 0 means 9 */
    uint32_t challenge_ack_limit;   /* per connection per second (RFC 5961 §7); 0 means 10 */
    /* Per connection, at most one ACK per this interval in answer to unacceptable segments that
     * carry no data (pure ACKs, SYNs: what an ACK loop between two ends that disagree is made
     * of); segments with data or FIN are always answered. 0 means 500 ms (Linux's
     * tcp_invalid_ratelimit). RFC 9293 §3.10.7.4 "should" send the ACK; RFC 5961 §7 and its
     * Errata ID 4772 ask for throttling. */
    uint64_t invalid_ack_interval_ns;
    /* The options below are off in a zeroed configuration and on after
     * tern_stack_config_default. */
    bool sack;           /* offer/accept SACK-permitted and SACK blocks (RFC 2018) */
    bool timestamps;     /* offer/accept timestamps and PAWS (RFC 7323) */
    bool window_scaling; /* offer/accept window scaling (RFC 7323) */
    /* Off in a zeroed configuration, on after tern_stack_config_default:
     * the tail loss probe of RFC 8985 §7 on SACK connections. It adds probe
     * segments to the wire that an RFC 6298 / RFC 6675 timeline does not
     * have; see TERN_TCP_OPT_TAIL_LOSS_PROBE. */
    bool tail_loss_probe;
    /* Off in a zeroed configuration, on after tern_stack_config_default
     * (as Linux's net.ipv4.tcp_recovery 1): RACK time-based loss detection
     * (RFC 8985 §6) on SACK connections, beside RFC 6675's DupThresh rules;
     * it marks segments lost (also retransmissions) before an RFC 6675
     * timeline would. Off, with tail_loss_probe off, gives the classic RFC
     * 5681 / 6582 / 6675 timelines. See TERN_TCP_OPT_RACK. */
    bool rack;
    /* Off in a zeroed configuration, on after tern_stack_config_default (as
     * Linux's net.ipv4.tcp_dsack): report duplicate segments with D-SACK
     * blocks (RFC 2883); see TERN_TCP_OPT_DSACK. */
    bool dsack;
    /* The congestion control of new sockets, a tern_tcp_cc (0: NewReno, 1: CUBIC, 2: BBR);
     * TERN_TCP_OPT_CONGESTION changes it per socket. A value outside tern_tcp_cc makes
     * tern_stack_create fail with TERN_ERR_INVALID_ARGUMENT. */
    uint8_t congestion;
    /* Off in a zeroed configuration, on after tern_stack_config_default (the
     * kernel's sender grows at least as fast): slow start with byte counting
     * limit L = 2 SMSS (RFC 3465 §2.3, experimental) instead of RFC 5681
     * §3.1's 1 SMSS per ACK, so that a receiver that acknowledges every
     * second segment (RFC 5681 §4.2) still doubles cwnd each round trip. The
     * slow start after a retransmission timeout keeps L = 1 SMSS. Off gives
     * the classic RFC 5681 timeline. See TERN_TCP_OPT_ABC_L2. */
    bool abc_l2;
} tern_tcp_config;

typedef struct tern_stack_config {
    uint64_t seed; /* randomness: ISN key, ephemeral ports, IP ids */
    uint32_t niface;
    tern_iface_config iface[TERN_MAX_IFACES];

    /* pool sizes (0 means the default in brackets) */
    uint32_t arp_entries;     /* ARP cache entries [64] */
    uint32_t arp_queue;       /* packets waiting for resolution, in all [16] */
    uint32_t routes;          /* route table capacity [16] */
    uint32_t reasm_slots;     /* datagrams being reassembled at once [4] */
    uint32_t reasm_max_bytes; /* largest datagram reassembled [65535] */
    uint32_t packet_buffers;  /* shared buffers for queued packets (UDP, ICMP, ARP queue) [64] */
    uint32_t udp_sockets;     /* [16] */
    uint32_t udp_queue;       /* datagrams queued per UDP/ping socket and direction [16] */
    uint32_t ping_sockets;    /* ICMP echo sockets [4] */
    uint32_t tcp_sockets;     /* [16] */
    /* TIME-WAIT connections kept without a socket (a few dozen bytes each;
     * the oldest is recycled when full) [4 x tcp_sockets, at least 64] */
    uint32_t tcp_timewait;
    uint32_t nd_entries; /* IPv6 neighbour cache entries [64] */
    uint32_t nd_queue;   /* IPv6 packets waiting for neighbour resolution, in all [16] */
    /* Packet sockets (tern/packet.h): how many [0: none, no memory], 0..64; frames queued
     * per socket [32], 1..4096; bytes kept of each frame [1522], 64..9022 */
    uint32_t packet_sockets;
    uint32_t packet_queue;
    uint32_t packet_snaplen;
    uint32_t dhcp_servers; /* DHCPv4 servers (tern/dhcp.h), at most one per interface, up to
                            * TERN_MAX_IFACES [1] */
    /* The DNS resolver (tern/dns.h): queries pending or unclaimed at once, 1..64
     * [TERN_DNS_MAX_QUERIES, 4; about 4.8 KB each]; TERN_POOL_NONE: no resolver, no memory
     * (tern_dns_resolve fails with TERN_ERR_NO_BUFFER, naming dns_queries) */
    uint32_t dns_queries;
    /* Answers the resolver caches, 1..4096 [TERN_DNS_CACHE_ENTRIES, 8; about 660 bytes each];
     * TERN_POOL_NONE: no cache (every resolution asks a server) */
    uint32_t dns_cache;

    /* behaviour (0 means the default in brackets) */
    uint8_t ttl;               /* default TTL, and IPv6 CurHopLimit until an RA says [64] */
    bool forwarding;           /* route datagrams between interfaces (a router) */
    uint64_t arp_timeout_ns;   /* lifetime of a cache entry [60 s] */
    uint64_t arp_retry_ns;     /* interval between requests for one address [1 s] */
    uint32_t arp_retries;      /* requests before resolution fails [3] */
    uint64_t reasm_timeout_ns; /* RFC 791 reassembly timeout [30 s]; IPv6 always 60 s (RFC 8200) */
    uint32_t icmp_rate;      /* ICMP errors per second (RFC 1122 3.2.2), and ICMPv6 errors (a bucket
                              * of their own, RFC 4443 2.4 (f)) [100] */
    uint32_t icmp_burst;     /* and burst [10] */
    uint16_t ephemeral_low;  /* ephemeral port range [49152] */
    uint16_t ephemeral_high; /* [65535] */

    /* IPv6 host autoconfiguration, off in a zeroed configuration so that a host
     * that does not use IPv6 sends no IPv6 frame of its own. On: Duplicate
     * Address Detection on every address, the link-local one first, its first
     * probe after a random delay in [0, 1 s] (RFC 4862 section 5.4); MLDv2
     * State Change Reports for joined groups, the solicited-node ones of
     * the addresses included (RFC 3810 section 6.1); Router Solicitations
     * once the link-local address is ready (RFC 4861 section 6.3.7); and
     * addresses formed from Router Advertisement prefixes (RFC 4862 section
     * 5.5) unless ipv6_no_slaac. Off: addresses are usable at once, groups are
     * joined without a report (queries are still answered), and Router
     * Advertisements still fill the default router and prefix lists. */
    bool ipv6_autoconf;
    bool ipv6_no_slaac;         /* with ipv6_autoconf: no address from RA prefixes */
    uint8_t ipv6_dad_transmits; /* DupAddrDetectTransmits [1]; TERN_DAD_OFF: no DAD */
    bool ipv6_stable_iid;       /* RFC 7217 stable identifiers instead of modified EUI-64 */
    uint8_t ipv6_secret[16];    /* RFC 7217 secret_key; all zero: derived from the seed */
    bool ipv6_temporary;        /* RFC 8981 temporary addresses beside SLAAC ones */
    uint32_t ipv6_temp_valid_s; /* TEMP_VALID_LIFETIME in seconds [172800, 2 days] */
    uint32_t
        ipv6_temp_preferred_s; /* TEMP_PREFERRED_LIFETIME [86400, 1 day]; at most the valid one */
    bool ipv6_prefer_public;   /* RFC 6724 rule 7 reversed: public before temporary sources */
    tern_tcp_config tcp;

    tern_output_fn output;
    void *output_ctx;
    /* Optional frame-buffer lending (see tern_frame_alloc_fn): all three or none (NULL). */
    tern_frame_alloc_fn frame_alloc;
    tern_frame_output_fn frame_output;
    tern_frame_release_fn frame_release;
    void *frame_ctx;
    /* Optional (NULL: none): sees each datagram delivered over the loopback. */
    tern_loopback_fn loopback_tap;
    void *loopback_ctx;
} tern_stack_config;

/*
 * tern_stack_config_default: zero the configuration (every default), set the
 * seed, and turn on the TCP options SACK (RFC 2018) with D-SACK (RFC
 * 2883), timestamps and window scaling (RFC 7323) in cfg->tcp, as a Linux
 * host has them. Set those booleans to false afterwards to run without an
 * option.
 *   cfg   the configuration to fill
 *   seed  the instance's randomness (ISN key, ephemeral ports, IP ids)
 */
void tern_stack_config_default(tern_stack_config *cfg, uint64_t seed);

/*
 * tern_stack_memory_size: bytes of memory an instance with this configuration
 * needs (0 if the configuration is invalid).
 */
size_t tern_stack_memory_size(const tern_stack_config *cfg);

/*
 * tern_stack_validate: check a configuration.
 * Returns TERN_OK or TERN_ERR_INVALID_ARGUMENT with a message naming the
 * parameter and value in msg (cap bytes).
 */
tern_err tern_stack_validate(const tern_stack_config *cfg, char *msg, size_t cap);

/*
 * tern_stack_init: build an instance in caller memory.
 *   mem, len  at least tern_stack_memory_size(cfg) bytes, 16-byte aligned.
 *   cfg       copied.
 *   out       receives the instance (which lives inside mem).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (cfg invalid, or mem misaligned:
 * msg, if not NULL, says which); TERN_ERR_BUFFER_TOO_SMALL.
 */
tern_err tern_stack_init(void *mem, size_t len, const tern_stack_config *cfg, tern_stack **out,
                         char *msg, size_t cap);

/*
 * tern_stack_release_frame: give back, through frame_release, the lent buffer
 * the stack keeps for its next frame (see tern_frame_alloc_fn), if it keeps
 * one; nothing otherwise. Call it before the environment frees its buffers or
 * the instance's memory.
 */
void tern_stack_release_frame(tern_stack *st);

/* tern_stack_last_error: the message of the last failing call on st ("" if none). */
const char *tern_stack_last_error(const tern_stack *st);

/* tern_stack_input: one received frame on interface `iface`. Any bytes are accepted; the work is
 * bounded (TERN_CALL_FRAMES_MAX). */
void tern_stack_input(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *frame,
                      size_t len);

/* tern_stack_poll: run what is due at `now` and send what is queued, within the bounds
 * TERN_POLL_LOOPBACK_MAX and TERN_CALL_FRAMES_MAX (the rest on the next poll, which
 * tern_stack_poll_at then asks for at once). */
void tern_stack_poll(tern_stack *st, uint64_t now);

/* tern_stack_poll_at: the earliest time poll is needed, TERN_NEVER if none; may be in the past (=
 * now). */
uint64_t tern_stack_poll_at(const tern_stack *st);

/* ---- run-time configuration -------------------------------------------- */

/*
 * Routes: longest prefix wins; among equal prefixes the first added. A route
 * with an unspecified gateway is on-link. The addresses of an interface add
 * their on-link prefixes implicitly. The default route is 0.0.0.0/0, or ::/0
 * for IPv6: dst and gateway are of one family (IPv4 prefix 0..32, IPv6
 * 0..128). An IPv6 gateway should be the router's link-local address (RFC
 * 4861 section 8: Redirects come from it).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (prefix too long, unknown iface,
 * gateway of the other family); TERN_ERR_NO_BUFFER (table full); tern_route_del
 * TERN_ERR_EMPTY if no such route.
 */
tern_err tern_route_add(tern_stack *st, const tern_addr *dst, uint8_t prefix_len,
                        const tern_addr *gateway, uint32_t iface);
tern_err tern_route_del(tern_stack *st, const tern_addr *dst, uint8_t prefix_len);

/* Add or remove an address of an interface: IPv4 (prefix 0..32; TERN_ERR_NO_BUFFER when it has
 * TERN_MAX_IFACE_ADDRS) or IPv6 (a static address, prefix 0..128, usable at once; at most 8 IPv6
 * addresses per interface with the link-local one: TERN_ERR_NO_BUFFER;
 * TERN_ERR_ADDR_IN_USE when present already). */
tern_err tern_iface_add_addr(tern_stack *st, uint32_t iface, const tern_addr *addr,
                             uint8_t prefix_len);
tern_err tern_iface_del_addr(tern_stack *st, uint32_t iface, const tern_addr *addr);
/* Change an interface's MTU (68..9000). */
tern_err tern_iface_set_mtu(tern_stack *st, uint32_t iface, uint32_t mtu);
/* Turn IPv4 forwarding on or off. */
void tern_stack_set_forwarding(tern_stack *st, bool on);

/*
 * tern_arp_lookup: the MAC cached for an IPv4 neighbour.
 * Returns TERN_OK; TERN_ERR_EMPTY if not resolved (or expired).
 */
tern_err tern_arp_lookup(const tern_stack *st, uint64_t now, const tern_addr *ip, uint8_t mac[6]);

/* IPv6 neighbour cache states (RFC 4861 §7.3.2), as tern_nd_lookup reports them. */
enum tern_nd_state_public {
    TERN_ND_STATE_NONE = 0,
    TERN_ND_STATE_INCOMPLETE = 1,
    TERN_ND_STATE_REACHABLE = 2,
    TERN_ND_STATE_STALE = 3,
    TERN_ND_STATE_DELAY = 4,
    TERN_ND_STATE_PROBE = 5,
};

/*
 * tern_nd_lookup: the IPv6 neighbour cache entry for ip.
 *   mac    receives the cached link-layer address (may be NULL)
 *   state  receives the entry's state, TERN_ND_STATE_* (may be NULL)
 * Returns TERN_OK when the entry has a link-layer address (any state but
 * INCOMPLETE); TERN_ERR_EMPTY otherwise (*state still says NONE or INCOMPLETE).
 */
tern_err tern_nd_lookup(const tern_stack *st, const tern_addr *ip, uint8_t mac[6], int *state);

/*
 * tern_nd_iface_params: an interface's Neighbor Discovery variables (RFC 4861
 * §6.3.2), each pointer may be NULL.
 *   reachable_ns  ReachableTime: the random value in [0.5, 1.5] x
 *                 BaseReachableTime drawn from the instance's seeded generator
 *   retrans_ns    RetransTimer
 *   hop_limit     CurHopLimit
 * Returns TERN_OK or TERN_ERR_INVALID_ARGUMENT for an unknown interface.
 */
tern_err tern_nd_iface_params(const tern_stack *st, uint32_t iface, uint64_t *reachable_ns,
                              uint64_t *retrans_ns, uint8_t *hop_limit);

/*
 * tern_iface_ipv6_addr: the index-th IPv6 address of an interface (index 0 is
 * the link-local address formed from the MAC).
 *   addr, prefix_len  receive it (either may be NULL)
 *   state             receives 0 preferred, 1 tentative, 2 deprecated (may be NULL)
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for an unknown interface;
 * TERN_ERR_EMPTY when index is past the last address.
 */
tern_err tern_iface_ipv6_addr(const tern_stack *st, uint32_t iface, uint32_t index, tern_addr *addr,
                              uint8_t *prefix_len, int *state);

/*
 * tern_ipv6_join_group / tern_ipv6_leave_group: listen (or stop listening) to
 * an IPv6 multicast group on an interface; reference counted. With
 * ipv6_autoconf the MLDv2 listener reports the change (RFC 3810 section 6.1:
 * a State Change Report at once and Robustness - 1 more); queries are
 * answered for joined groups either way.
 *   iface  the interface; group  an IPv6 multicast address
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (unknown interface, not IPv6
 * multicast); TERN_ERR_NO_BUFFER (too many groups); leave: TERN_ERR_EMPTY when
 * the group was not joined.
 */
tern_err tern_ipv6_join_group(tern_stack *st, uint32_t iface, const tern_addr *group);
tern_err tern_ipv6_leave_group(tern_stack *st, uint32_t iface, const tern_addr *group);

/* ---- counters ---------------------------------------------------------- */

typedef struct tern_counters {
    uint64_t frames_in, frames_out, bytes_in, bytes_out;
    /* Ethernet */
    uint64_t eth_truncated;    /* too short or malformed */
    uint64_t eth_not_for_us;   /* unicast to another MAC */
    uint64_t eth_vlan_dropped; /* tagged, and the interface does not accept tags */
    uint64_t eth_unknown_type; /* EtherType we do not speak */
    uint64_t bad_iface;        /* input on an interface that does not exist */
    /* ARP */
    uint64_t arp_in, arp_malformed, arp_requests_sent, arp_replies_sent;
    uint64_t arp_gratuitous;        /* gratuitous announcements seen */
    uint64_t arp_resolution_failed; /* packets dropped after the retries */
    uint64_t arp_queue_full;        /* packets dropped: no room to wait (the oldest for the same
                                       next hop, or the new one when none is held for it) */
    uint64_t arp_queue_replaced;    /* held TCP segments replaced by their retransmission */
    uint64_t arp_rate_limited;      /* requests held back by the 1/s limit */
    uint64_t arp_evicted;           /* entries taken for another neighbour (never one in use) */
    uint64_t arp_table_full;        /* packets dropped: every entry in use */
    /* IPv4 */
    uint64_t ip_in, ip_delivered, ip_out;
    uint64_t ip_truncated, ip_malformed, ip_bad_checksum, ip_bad_version;
    uint64_t ip_not_for_us; /* not ours, not forwarding */
    uint64_t ip_no_route;
    uint64_t ip_forwarded, ip_ttl_exceeded;
    uint64_t ip_frag_needed; /* DF set, too big for the next hop */
    uint64_t ip_fragments_out, ip_fragments_in;
    uint64_t ip_reassembled, ip_reasm_timeout, ip_reasm_dropped; /* overlap/no slot/too big */
    uint64_t ip_unknown_protocol;
    uint64_t ip_options; /* datagrams with options (skipped) */
    /* datagrams from a link with a source no host may send from, silently discarded (RFC 1122
     * §3.2.1.3): one of our own addresses, 0/8 (0.0.0.0 allowed only for UDP to 255.255.255.255,
     * as DHCP clients send), 127/8, a limited or directed broadcast of one of our subnets,
     * multicast (224/4) or class E (240/4) */
    uint64_t ip_martian_src;
    uint64_t ip_loopback_in; /* datagrams sent to ourselves and delivered (at most
                                TERN_POLL_LOOPBACK_MAX per poll) */
    /* ICMPv4 */
    uint64_t icmp_in, icmp_malformed, icmp_bad_checksum;
    uint64_t icmp_echo_requests, icmp_echo_replies_sent;
    uint64_t icmp_errors_in, icmp_errors_sent, icmp_rate_limited;
    /* UDP */
    uint64_t udp_in, udp_malformed, udp_bad_checksum, udp_no_port, udp_queue_full, udp_out;
    uint64_t udp_mcast_looped; /* our own multicasts delivered to our sockets (RFC 1112 6.2) */
    /* TCP */
    uint64_t tcp_in, tcp_malformed, tcp_bad_checksum, tcp_no_socket, tcp_out;
    uint64_t tcp_rst_sent, tcp_retransmits, tcp_challenge_acks;
    /* TCP resource exhaustion (issue 21) */
    uint64_t tcp_timewait_entered;   /* connections moved to the TIME-WAIT table */
    uint64_t tcp_timewait_reused;    /* SYNs that reopened a TIME-WAIT 4-tuple (RFC 6191) */
    uint64_t tcp_timewait_recycled;  /* TIME-WAIT entries ended early: the table was full */
    uint64_t tcp_no_pcb_rst;         /* SYNs answered with RST: no socket free */
    uint64_t tcp_syncookies_sent;    /* SYN-ACKs with a cookie: the SYN queue was full (RFC 4987) */
    uint64_t tcp_syncookies_ok;      /* connections made from a valid cookie */
    uint64_t tcp_syncookies_failed;  /* ACKs to a listener with an invalid or stale cookie */
    uint64_t tcp_listen_overflow;    /* handshake-completing ACKs dropped: accept queue full */
    uint64_t tcp_fin_wait2_timeouts; /* orphans that waited fin_wait2_timeout for the peer's FIN */
    /* ACKs not sent in answer to unacceptable segments or as challenge ACKs, held back by the
     * per-connection rate limits (RFC 5961 §7; tern_tcp_config.challenge_ack_limit and
     * invalid_ack_interval_ns) */
    uint64_t tcp_acks_rate_limited;
    /* segments that took header prediction's short paths (issue 19; they do what the general
     * path of RFC 9293 §3.10.7.4 would): in-order data acknowledging nothing new, pure ACKs */
    uint64_t tcp_predicted_data, tcp_predicted_ack;
    /* of the pure ACKs, those processed on the lean ACK path: only what the ACK can change
     * (outside every loss-recovery episode, no SACK information, not BBR) */
    uint64_t tcp_predicted_ack_lean;
    /* resources */
    uint64_t no_buffer; /* packet buffer pool exhausted */
    /* IPv6 (RFC 8200): packets in, delivered to an upper layer, sent (fragments included) */
    uint64_t ip6_in, ip6_delivered, ip6_out;
    uint64_t ip6_truncated;   /* shorter than 40 bytes or than the payload length says */
    uint64_t ip6_bad_version; /* version is not 6 */
    uint64_t ip6_bad_src; /* from a link with a multicast or loopback source (RFC 4291), or one of
                           * our own addresses (a spoof: RFC 9293 MUST-63) */
    uint64_t ip6_bad_dst; /* from a link to :: or ::1 */
    uint64_t ip6_not_for_us; /* not one of our addresses, nor a group we listen to */
    uint64_t ip6_no_route;
    uint64_t ip6_ext_truncated;       /* an extension header runs past the packet */
    uint64_t ip6_ext_too_long;        /* more than TERN_IPV6_MAX_EXT_HEADERS extension headers */
    uint64_t ip6_unknown_next_header; /* Parameter Problem code 1 (incl. misplaced hop-by-hop) */
    uint64_t ip6_option_discard;      /* an unrecognised option whose type says discard */
    uint64_t ip6_option_malformed;    /* an option runs past its header */
    uint64_t ip6_rh_refused;          /* routing header with segments left (RH0: RFC 5095) */
    uint64_t ip6_no_next_header;      /* Next Header 59: nothing follows */
    uint64_t ip6_fragments_in, ip6_fragments_out;
    uint64_t ip6_atomic_fragments;      /* offset 0 and M 0: processed in isolation (RFC 6946) */
    uint64_t ip6_frag_bad_length;       /* M set and a length not a multiple of 8, or past 65535 */
    uint64_t ip6_first_frag_incomplete; /* first fragment without the whole chain (RFC 7112) */
    uint64_t ip6_reassembled, ip6_reasm_timeout;
    uint64_t ip6_reasm_overlap; /* datagrams dropped for an overlap (RFC 5722) */
    uint64_t ip6_reasm_dropped; /* no slot, too big, inconsistent last fragment */
    uint64_t ip6_loopback_in;   /* packets sent to ourselves and delivered */
    /* forwarding (tern_stack_config.forwarding) */
    uint64_t ip6_forwarded;          /* packets routed on */
    uint64_t ip6_hop_limit_exceeded; /* Hop Limit 1 or 0: Time Exceeded (RFC 4443 3.3) */
    uint64_t ip6_too_big_sent;       /* larger than the next link's MTU: Packet Too Big */
    uint64_t ip6_fwd_unreachable;    /* no route, or a link-local source: Destination Unreachable */
    /* ICMPv6 (RFC 4443) */
    uint64_t icmp6_in, icmp6_malformed, icmp6_bad_checksum;
    uint64_t icmp6_echo_requests, icmp6_echo_replies_sent;
    uint64_t icmp6_errors_in, icmp6_errors_sent, icmp6_rate_limited;
    uint64_t icmp6_unknown_type; /* informational types we do not handle: discarded (2.4 (b)) */
    /* Neighbor Discovery (RFC 4861) */
    uint64_t nd_invalid; /* ND messages failing the validity checks (sections 6.1, 7.1) */
    uint64_t nd_ns_in, nd_na_in, nd_rs_in, nd_ra_in, nd_redirects_in;
    uint64_t nd_ns_sent, nd_na_sent;
    uint64_t nd_resolution_failed; /* packets dropped: no answer after MAX_MULTICAST_SOLICIT */
    uint64_t nd_queue_full;        /* packets dropped or replaced: no room to wait */
    uint64_t nd_queue_replaced;    /* held TCP segments replaced by their retransmission */
    uint64_t nd_table_full;        /* packets dropped: every cache entry in use */
    uint64_t nd_unreachable;       /* entries deleted after MAX_UNICAST_SOLICIT probes (NUD) */
    /* IPv6 autoconfiguration (RFC 4862, RFC 4861 section 6.3, RFC 3810) */
    uint64_t nd_rs_sent;             /* Router Solicitations sent */
    uint64_t nd_routers_expired;     /* Default Router List entries whose lifetime ran out */
    uint64_t nd_routers_full;        /* routers not listed: the list was full */
    uint64_t dad_probes_sent;        /* DAD Neighbor Solicitations */
    uint64_t dad_duplicates;         /* addresses DAD found in use (never assigned) */
    uint64_t slaac_addrs_formed;     /* prefixes that formed an address */
    uint64_t slaac_prefixes_ignored; /* Prefix Information options SLAAC ignored (RFC 4862 5.5.3) */
    uint64_t slaac_addrs_expired;    /* autoconfigured addresses whose valid lifetime ran out */
    uint64_t mld_queries_in;         /* queries taken */
    uint64_t mld_bad_queries;        /* queries not from a link-local source (RFC 3810 5.1.14) */
    uint64_t mld_malformed;          /* MLD messages that did not parse */
    uint64_t mld_reports_sent;       /* reports and dones sent */
    uint64_t ip6_iface_disabled;     /* IPv6 packets dropped in or out: the interface's IPv6 is
                                        off after a duplicate MAC-derived link-local address */
} tern_counters;

/* tern_stack_get_counters: copy the counters. */
void tern_stack_get_counters(const tern_stack *st, tern_counters *out);

/* ---- sockets: common ---------------------------------------------------- */

/*
 * Families. Every socket call takes an IPv4 or an IPv6 address (tern_addr
 * carries either); a connection or datagram uses the family of its peer.
 *   - An IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) given
 *     to bind, connect, sendto or ping_send stands for the IPv4 address
 *     a.b.c.d: the peer is reached over IPv4, and addresses the stack
 *     reports (accept, recvfrom, tern_tcp_info) are always in their own
 *     family, never mapped.
 *   - Dual stack (one socket for both families): a TCP listener or UDP
 *     socket bound to no address (addr NULL or family TERN_AF_NONE) or to
 *     the IPv6 unspecified address :: takes connections and datagrams of
 *     both families, as a BSD socket with IPV6_V6ONLY off (RFC 3493 §5.3);
 *     one bound to 0.0.0.0 takes IPv4 only, one bound to an address only
 *     that address. A port has one owner whatever the address, so separate
 *     IPv4 and IPv6 listeners on one port are refused (TERN_ERR_ADDR_IN_USE):
 *     one listener serves both.
 *   - A socket bound to an address of one family refuses a peer of the other
 *     (TERN_ERR_INVALID_ARGUMENT).
 *   - TCP's MSS follows the family (RFC 9293 §3.7.1): the MTU less 40 bytes
 *     over IPv4 and 60 over IPv6; without the peer's MSS option 536 and
 *     1220. UDP over IPv6 always carries a checksum and drops datagrams
 *     without one (RFC 8200 §8.1). Ping sockets send ICMPv6 Echo Requests
 *     (RFC 4443 §4.1) to an IPv6 destination. The ttl options set the IPv6
 *     Hop Limit; don't-fragment (UDP, ping) refuses datagrams above the MTU
 *     over both families. ICMPv6 errors reach the sockets as ICMP errors do
 *     (tern_sock_error: the types are ICMPv6's when `from` is IPv6).
 */

/*
 * A socket handle. Handles are never reused while the instance lives... almost:
 * a generation counter in the high bits makes a stale handle fail with
 * TERN_ERR_CLOSED instead of reaching another socket.
 */
typedef uint32_t tern_sock;

/* The last ICMP error a socket received (RFC 1122 4.1.3.3, RFC 5927). */
typedef struct tern_sock_error {
    uint8_t icmp_type;
    uint8_t icmp_code;
    uint16_t mtu;   /* fragmentation needed (ICMPv6: packet too big): next-hop MTU */
    tern_addr from; /* who sent the ICMP error; IPv6: type and code are ICMPv6's (RFC 4443) */
    tern_addr dst;  /* destination of the datagram it is about */
    uint64_t time;
} tern_sock_error;

/* ---- UDP ----------------------------------------------------------------- */

/* Open a UDP socket. TERN_ERR_NO_BUFFER when all are in use. */
tern_err tern_udp_open(tern_stack *st, tern_sock *out);
/*
 * Bind to a local address (NULL, family NONE or ::: any of either family;
 * 0.0.0.0: any IPv4; see "Families") and port (0 = a random ephemeral port). TERN_ERR_ADDR_IN_USE;
 * TERN_ERR_INVALID_ARGUMENT (an address that is not ours); TERN_ERR_BAD_STATE (already bound).
 */
tern_err tern_udp_bind(tern_stack *st, tern_sock s, const tern_addr *addr, uint16_t port);
/* The bound address and port. */
tern_err tern_udp_local(const tern_stack *st, tern_sock s, tern_addr *addr, uint16_t *port);
/*
 * Queue a datagram to dst:port (binds an ephemeral port first if unbound).
 * Returns TERN_OK; TERN_ERR_WOULD_BLOCK (queue full); TERN_ERR_MSG_TOO_LONG
 * (above 65507 bytes, or above the path MTU with DF set);
 * TERN_ERR_NO_ROUTE; TERN_ERR_INVALID_ARGUMENT (broadcast without the
 * broadcast option); TERN_ERR_NO_BUFFER.
 */
tern_err tern_udp_sendto(tern_stack *st, tern_sock s, const tern_addr *dst, uint16_t port,
                         const uint8_t *data, size_t len);
/*
 * Take the oldest received datagram. `src`, `sport`, `dst` (the address it
 * was sent to) and `time` (arrival) may be NULL. A datagram longer than cap
 * is truncated (*len tells its full length).
 * Returns TERN_OK or TERN_ERR_WOULD_BLOCK (nothing received).
 */
tern_err tern_udp_recvfrom(tern_stack *st, tern_sock s, uint8_t *buf, size_t cap, size_t *len,
                           tern_addr *src, uint16_t *sport, tern_addr *dst, uint64_t *time);
/* Datagrams waiting to be read. */
size_t tern_udp_pending(const tern_stack *st, tern_sock s);
/* Socket options: TTL of sent datagrams (1..255), permission to send broadcast, DF bit. */
tern_err tern_udp_set_ttl(tern_stack *st, tern_sock s, uint8_t ttl);
tern_err tern_udp_set_broadcast(tern_stack *st, tern_sock s, bool on);
tern_err tern_udp_set_dont_fragment(tern_stack *st, tern_sock s, bool on);
/* The last ICMP error for this socket, and clear it. TERN_ERR_EMPTY if none. */
tern_err tern_udp_take_error(tern_stack *st, tern_sock s, tern_sock_error *out);
/* Close; queued datagrams are discarded. */
tern_err tern_udp_close(tern_stack *st, tern_sock s);

/* ---- ICMP echo (ping) sockets -------------------------------------------- */

/* Open an echo socket with its identifier. */
tern_err tern_ping_open(tern_stack *st, uint16_t ident, tern_sock *out);
/*
 * Queue an echo request to dst with sequence `seq` and `len` payload bytes
 * (copied from data, or a repeating pattern if data is NULL), TTL 0 = default,
 * dont_fragment sets DF. Large requests are fragmented.
 * Returns TERN_OK; TERN_ERR_WOULD_BLOCK; TERN_ERR_MSG_TOO_LONG (len > 65507, or DF and
 * too big); TERN_ERR_NO_ROUTE; TERN_ERR_NO_BUFFER.
 */
tern_err tern_ping_send(tern_stack *st, tern_sock s, const tern_addr *dst, uint16_t seq,
                        const uint8_t *data, size_t len, uint8_t ttl, bool dont_fragment);
/* A received echo reply. */
typedef struct tern_ping_reply {
    tern_addr from;
    uint16_t seq;
    uint8_t ttl;
    size_t len; /* payload bytes */
    uint64_t time;
} tern_ping_reply;
/* Take the oldest reply; payload copied into buf (cap bytes, may be NULL). TERN_ERR_WOULD_BLOCK if
 * none. */
tern_err tern_ping_recv(tern_stack *st, tern_sock s, tern_ping_reply *out, uint8_t *buf,
                        size_t cap);
tern_err tern_ping_take_error(tern_stack *st, tern_sock s, tern_sock_error *out);
tern_err tern_ping_close(tern_stack *st, tern_sock s);

/* ---- TCP ------------------------------------------------------------------ */

/* RFC 9293 §3.3.2 states. */
typedef enum tern_tcp_state {
    TERN_TCP_CLOSED = 0,
    TERN_TCP_LISTEN,
    TERN_TCP_SYN_SENT,
    TERN_TCP_SYN_RECEIVED,
    TERN_TCP_ESTABLISHED,
    TERN_TCP_FIN_WAIT_1,
    TERN_TCP_FIN_WAIT_2,
    TERN_TCP_CLOSE_WAIT,
    TERN_TCP_CLOSING,
    TERN_TCP_LAST_ACK,
    TERN_TCP_TIME_WAIT,
} tern_tcp_state;

/* Options for tern_tcp_set_option. */
typedef enum tern_tcp_option {
    TERN_TCP_OPT_NODELAY = 1, /* 0/1: disable Nagle */
    TERN_TCP_OPT_KEEPALIVE,   /* 0/1 */
    TERN_TCP_OPT_KEEPIDLE_NS,
    TERN_TCP_OPT_KEEPINTVL_NS,
    TERN_TCP_OPT_KEEPCNT,
    TERN_TCP_OPT_RX_BUFFER,  /* bytes, before connect/listen */
    TERN_TCP_OPT_TX_BUFFER,  /* bytes */
    TERN_TCP_OPT_CONGESTION, /* enum tern_tcp_cc */
    TERN_TCP_OPT_SYN_RETRIES,
    TERN_TCP_OPT_DATA_RETRIES,
    TERN_TCP_OPT_USER_TIMEOUT_NS, /* RFC 9293 §3.8.3 user timeout, 0 = none */
    TERN_TCP_OPT_MSS,             /* clamp the MSS we announce */
    TERN_TCP_OPT_TTL,
    TERN_TCP_OPT_SACK,           /* 0/1 */
    TERN_TCP_OPT_TIMESTAMPS,     /* 0/1 */
    TERN_TCP_OPT_WINDOW_SCALING, /* 0/1 */
    TERN_TCP_OPT_DELACK_NS,
    TERN_TCP_OPT_RTO_MIN_NS,
    TERN_TCP_OPT_INITIAL_WINDOW, /* segments */
    /* 0/1: RFC 8985 §7 tail loss probe on a SACK connection: after about
     * 2 x SRTT without ACK progress, one probe segment (new data if the
     * peer's window allows, else the highest unSACKed segment) draws the
     * ACK that lets RFC 6675 loss detection repair small-window and tail
     * losses without waiting for the RTO. Default: tern_tcp_config. */
    TERN_TCP_OPT_TAIL_LOSS_PROBE,
    /* 0/1: on a SACK connection, report a duplicate segment with a D-SACK
     * block first in its ACK (RFC 2883 §4). Default: tern_tcp_config.dsack.
     * Any time; a listener passes it on to its connections. */
    TERN_TCP_OPT_DSACK,
    /* 0/1: RACK loss detection (RFC 8985 §6) on a SACK connection: a
     * segment is lost once a segment sent after it was delivered and
     * RACK.rtt + RACK.reo_wnd has passed since it was sent. Default:
     * tern_tcp_config.rack. Set it before data flows (switching it on
     * starts with an empty transmission log). */
    TERN_TCP_OPT_RACK,
    /* 0/1: slow start grows cwnd by up to 2 SMSS per ACK (RFC 3465 §2.3,
     * L = 2 SMSS; none after a retransmission timeout, where L = 1 SMSS)
     * instead of 1 SMSS (RFC 5681 §3.1). Default: tern_tcp_config.abc_l2.
     * Any time; a listener passes it on to its connections. */
    TERN_TCP_OPT_ABC_L2,
} tern_tcp_option;

/* Congestion control (TERN_TCP_OPT_CONGESTION): NewReno (RFC 5681/6582), CUBIC (RFC 9438), or
 * BBR (BBRv1, draft-cardwell-iccrg-bbr-congestion-control-00: a model of the path's bottleneck
 * bandwidth and round-trip time from delivery-rate samples, pacing at pacing_gain x BtlBw; only
 * BBR paces). */
typedef enum tern_tcp_cc {
    TERN_TCP_CC_NEWRENO = 0,
    TERN_TCP_CC_CUBIC = 1,
    TERN_TCP_CC_BBR = 2,
} tern_tcp_cc;

/* BBR's state machine (tern_tcp_info.bbr_mode). */
typedef enum tern_tcp_bbr_mode {
    TERN_TCP_BBR_STARTUP = 0,   /* pacing_gain 2/ln 2: the delivery rate doubles per round */
    TERN_TCP_BBR_DRAIN = 1,     /* pacing_gain ln 2/2: the queue STARTUP made drains */
    TERN_TCP_BBR_PROBE_BW = 2,  /* the gain cycle 5/4, 3/4, 1 x 6 */
    TERN_TCP_BBR_PROBE_RTT = 3, /* cwnd 4 segments for 200 ms and a round trip */
} tern_tcp_bbr_mode;

/* Like Linux's struct tcp_info: what conformance tests assert on. */
typedef struct tern_tcp_info {
    tern_tcp_state state;
    tern_addr local, remote;
    uint16_t local_port, remote_port;
    uint64_t srtt_ns, rttvar_ns, rto_ns;
    uint32_t snd_mss, rcv_mss;
    uint32_t cwnd, ssthresh; /* bytes */
    uint32_t iss, irs;
    uint32_t snd_una, snd_nxt, snd_wnd, rcv_nxt, rcv_wnd;
    uint8_t snd_wscale, rcv_wscale;
    bool sack_ok, ts_ok;
    uint32_t retransmits; /* consecutive timeouts now */
    uint64_t total_retransmits;
    uint64_t segs_in, segs_out, bytes_acked, bytes_received;
    uint64_t fast_retransmits, rto_timeouts, dup_acks_in, sack_blocks_in, ooo_segments;
    uint64_t zero_window_probes, keepalives_sent, challenge_acks;
    uint64_t tlp_probes; /* tail loss probes sent (RFC 8985 §7.3) */
    /* D-SACK blocks received (RFC 2883 §4); of them, those reporting data
     * retransmitted in a loss episode (RFC 3708 §2: spurious retransmissions);
     * loss episodes found spurious and whose cwnd/ssthresh reduction was
     * undone (RFC 3708 §3). */
    uint64_t dsack_blocks_in, spurious_retransmits, dsack_undos;
    /* retransmission timeouts found spurious, by Eifel (RFC 3522: the ACK
     * echoes the original's timestamp) or F-RTO (RFC 5682: data sent only
     * once is acknowledged after the timeout), whose reduction of cwnd and
     * ssthresh was undone (RFC 4015) */
    uint64_t spurious_rtos;
    uint32_t unacked, sacked, lost, in_flight;
    /* BBR (congestion TERN_TCP_CC_BBR; all 0 otherwise): the mode (tern_tcp_bbr_mode), the
     * bottleneck bandwidth estimate BtlBw and the pacing rate in bytes per second, the round-trip
     * propagation time RTprop in ns (0: no sample yet), the gains in 1/256 units, the gain cycle's
     * phase (PROBE_BW), the packet-timed round trips counted, whether STARTUP found the pipe
     * full, and the bytes delivered (ACKed or SACKed) as the delivery-rate estimator counts them;
     * bbr_rtprop_stamp_ns: when RTprop was last measured (PROBE_RTT follows 10 s later) */
    uint32_t bbr_mode;
    uint64_t bbr_btlbw, bbr_pacing_rate, bbr_rtprop_ns, bbr_rtprop_stamp_ns;
    uint32_t bbr_pacing_gain, bbr_cwnd_gain, bbr_cycle_index, bbr_round_count;
    bool bbr_filled_pipe;
    uint64_t delivered;
    tern_err error; /* why the connection ended, TERN_OK while it lives */
} tern_tcp_info;

/*
 * Why a TCP connection ends (tern_tcp_info.error):
 *   TERN_OK                closed normally (FINs both ways, or a RST in a closing state)
 *   TERN_ERR_CONN_REFUSED  RST in answer to our SYN; ICMP port/protocol unreachable in SYN-SENT
 *   TERN_ERR_CONN_RESET    RST from the peer while synchronized, or tern_tcp_abort
 *   TERN_ERR_TIMED_OUT     either of two timeouts (Linux reports ETIMEDOUT for both):
 *                          - the retransmission limit: SYN_RETRIES (SYN) or DATA_RETRIES
 *                            (data, FIN, zero-window probes) RTO expiries without an
 *                            acknowledgment (RFC 9293 §3.8.3 R2); tern_tcp_info.retransmits
 *                            is then above 0;
 *                          - keep-alive: KEEPCNT probes unanswered after KEEPIDLE_NS idle
 *                            (RFC 1122 §4.2.3.6); keepalives_sent is above 0, retransmits 0.
 *   TERN_ERR_HOST_UNREACHABLE  either timeout after an ICMP soft error (RFC 5927 §4)
 *   TERN_ERR_USER_TIMEOUT  sent data unacknowledged for USER_TIMEOUT_NS (RFC 9293 §3.8.3), or
 *                          keep-alive probes unanswered until USER_TIMEOUT_NS after the last
 *                          segment received (RFC 5482, Linux TCP_USER_TIMEOUT; a RST is sent)
 */

tern_err tern_tcp_open(tern_stack *st, tern_sock *out);
/*
 * Bind to addr (NULL, family NONE or ::: any of either family; 0.0.0.0: any IPv4; an IPv4-mapped
 * address: its IPv4 address; see "Families") and port (0: ephemeral).
 * TERN_ERR_INVALID_ARGUMENT (an address that is not ours); TERN_ERR_ADDR_IN_USE;
 * TERN_ERR_BAD_STATE (already bound or used).
 */
tern_err tern_tcp_bind(tern_stack *st, tern_sock s, const tern_addr *addr, uint16_t port);
tern_err tern_tcp_listen(tern_stack *st, tern_sock s, uint32_t backlog);
/* Take an established connection from a listener: TERN_ERR_WOULD_BLOCK if none. */
tern_err tern_tcp_accept(tern_stack *st, tern_sock listener, tern_sock *out);
/* Start an active open to dst (IPv4 or IPv6, an IPv4-mapped address meaning its IPv4 address)
 * and port (SYN queued for the next poll). TERN_ERR_INVALID_ARGUMENT (dst not unicast, port 0,
 * or a bound address of the other family); TERN_ERR_NO_ROUTE; TERN_ERR_ADDR_IN_USE. */
tern_err tern_tcp_connect(tern_stack *st, tern_sock s, const tern_addr *dst, uint16_t port);
/* Queue up to len bytes; *sent tells how many fit. TERN_ERR_WOULD_BLOCK if none fit. */
tern_err tern_tcp_send(tern_stack *st, tern_sock s, const uint8_t *data, size_t len, size_t *sent);
/* Read up to cap bytes; *got = 0 with TERN_OK means end of stream (FIN received).
 * TERN_ERR_WOULD_BLOCK if none yet. In urgent mode (tern_tcp_get_urgent) one
 * read stops at the end of the urgent data: urgent and non-urgent octets are
 * never returned together (RFC 9293 §3.9.1.3). */
tern_err tern_tcp_recv(tern_stack *st, tern_sock s, uint8_t *buf, size_t cap, size_t *got);

/*
 * Zero-copy sending: tern_tcp_lend queues the application's own bytes for sending without copying
 * them. Every segment that carries them (and every retransmission of it) is built straight from
 * `data` into the outgoing frame, its checksum taken in the same pass. The application promises
 * not to change or free data[0 .. *lent) until the stack no longer needs it, which
 * tern_tcp_lend_done tells.
 *
 * Lent and copied data mix freely on one connection: tern_tcp_send and tern_tcp_lend queue in the
 * order they are called, and both take room from the same send budget (tx_buffer bytes from SND.UNA
 * on: tern_tcp_writable). Each lend takes one of the socket's lend_extents table entries (see
 * tern_tcp_config), unless it continues the previous lent buffer in memory with nothing queued
 * in between, which extends that entry.
 *   data   the bytes (NULL only with len 0); they stay the application's memory
 *   len    how many; 0 queues nothing and returns TERN_OK
 *   lent   receives how many were queued (may be fewer than len: the room in the send budget;
 *          the application lends the rest later); NULL allowed
 * Returns TERN_OK; TERN_ERR_WOULD_BLOCK when the send budget is full (nothing queued);
 * TERN_ERR_NO_BUFFER when every lend_extents entry holds an unacknowledged buffer (nothing queued:
 * wait for tern_tcp_lend_done to advance); the other errors of tern_tcp_send in the states it
 * refuses (TERN_ERR_NOT_CONNECTED, TERN_ERR_BAD_STATE after shutdown, a closed connection's error);
 * TERN_ERR_INVALID_ARGUMENT (NULL data with len > 0) or TERN_ERR_CLOSED for a bad or stale handle.
 *
 * Lent bytes are neither copied nor kept after the connection ends: when it closes, resets or times
 * out, or on tern_tcp_abort, the stack releases every lent buffer at once (tern_tcp_lend_done
 * counts them). tern_tcp_close refuses while lent bytes are unacknowledged (the stack would go on
 * reading them after the handle is gone): shut down sending, wait for tern_tcp_lend_done, then
 * close; or abort.
 */
tern_err tern_tcp_lend(tern_stack *st, tern_sock s, const uint8_t *data, size_t len, size_t *lent);

/*
 * tern_tcp_lend_done: how many lent bytes, counted over the socket's life in the order they were
 * lent, the stack no longer needs: acknowledged by the peer, or released because the connection
 * ended. Lent buffers finish in the order they were lent, so the application's own running total
 * of bytes lent tells which buffers it may reuse: a buffer that ended at total T is free once
 * *done >= T (the completion counter of Linux's MSG_ZEROCOPY, counted in bytes).
 *   done  receives the count
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (done NULL, or a bad handle) or TERN_ERR_CLOSED (a
 * stale handle).
 */
tern_err tern_tcp_lend_done(const tern_stack *st, tern_sock s, uint64_t *done);

/* A run of received bytes inside the stack's receive buffer (tern_tcp_recv_peek). */
typedef struct tern_tcp_span {
    const uint8_t *data; /* the first byte (NULL when len is 0) */
    size_t len;          /* bytes */
} tern_tcp_span;

/*
 * Zero-copy receiving, in place: tern_tcp_recv_peek shows the in-order bytes received and not
 * yet consumed where they lie in the socket's receive buffer, as one span or, where the buffer
 * wraps, two (span[0] first); tern_tcp_recv_consume then drops the first n of them, as a
 * tern_tcp_recv of n bytes would. Only bytes whose segment passed its checksum and was accepted
 * are ever shown. The spans stay valid and unchanged until the next tern_tcp_recv_consume,
 * tern_tcp_recv, tern_tcp_shutdown of receiving, tern_tcp_close or tern_tcp_abort of the socket
 * (data arriving meanwhile is placed after them, never over them).
 *   span   two spans, filled (span[1].len is 0 unless the bytes wrap; both 0 when none)
 *   avail  receives span[0].len + span[1].len; NULL allowed
 * In urgent mode the spans stop at the end of the urgent data, as tern_tcp_recv does (RFC 9293
 * §3.9.1.3). Returns what tern_tcp_recv returns for a read: TERN_OK (with *avail 0: end of
 * stream), TERN_ERR_WOULD_BLOCK when nothing is readable yet, TERN_ERR_NOT_CONNECTED, a closed
 * connection's error; TERN_ERR_INVALID_ARGUMENT (span NULL, or a bad handle) or TERN_ERR_CLOSED
 * (a stale handle).
 */
tern_err tern_tcp_recv_peek(tern_stack *st, tern_sock s, tern_tcp_span span[2], size_t *avail);

/*
 * tern_tcp_recv_consume: drop the first n bytes tern_tcp_recv_peek showed (and open the receive
 * window as tern_tcp_recv does). n = 0 does nothing.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT when n is more than tern_tcp_recv_peek shows now
 * (the message gives both), or for a bad handle; TERN_ERR_CLOSED for a stale handle;
 * TERN_ERR_NOT_CONNECTED on a listener.
 */
tern_err tern_tcp_recv_consume(tern_stack *st, tern_sock s, size_t n);

/*
 * A posted read: receiving straight into the application's buffer. tern_tcp_recv_post lends the
 * stack buf[0 .. cap); in-order data then goes from the arriving segment into it in the pass that
 * verifies the segment's checksum, without the receive buffer -> application copy of
 * tern_tcp_recv. The stack keeps only the pointer (no copy of the buffer, no allocation) until
 * tern_tcp_recv_take gives it back; the application must keep the memory valid until then, and
 * not write it.
 *
 * Order is kept: at the post, the in-order bytes already in the receive buffer move into buf
 * first; later bytes land in buf behind them, in stream order. Data goes to the receive buffer,
 * as without a post, when buf is full (what does not fit), and for urgent data: in urgent mode
 * (tern_tcp_get_urgent) buf stops filling (RFC 9293 §3.9.1.3: urgent and non-urgent octets are
 * not delivered in one buffer), and the application takes it and reads with tern_tcp_recv.
 * Bytes in buf count as read on arrival: the window the stack advertises stays the free space of
 * its receive buffer (tcp rx_buffer), whatever cap is, and tern_tcp_readable counts only the
 * receive buffer's bytes.
 *
 * Only bytes whose segment passed its checksum and was accepted are counted as filled. The
 * stack never changes buf[0 .. filled) once filled, and the application may read those bytes
 * while the buffer stays posted; buf[filled .. cap) is unspecified (a segment that failed its
 * checksum may have been copied there, and counts nothing).
 *
 * While a buffer is posted, tern_tcp_recv, tern_tcp_recv_peek and tern_tcp_recv_consume are
 * refused with TERN_ERR_BAD_STATE (take it first: its bytes come before the receive buffer's).
 * tern_tcp_shutdown of receiving stops the filling (the buffer stays posted with what it holds).
 * A connection that resets or times out keeps it posted too (take reports what is in it).
 * tern_tcp_close and tern_tcp_abort make the stack forget the buffer: it is never written after
 * they return; its bytes were read on arrival, so tern_tcp_close sends no RST for them (the RST
 * of RFC 1122 §4.2.2.13 is for received data still pending in the receive buffer).
 *
 * tern_tcp_recv_post:
 *   buf, cap  the buffer, 1 <= cap <= UINT32_MAX
 * Returns TERN_OK (bytes may be in it at once: tern_tcp_recv_posted); TERN_ERR_BAD_STATE when a
 * buffer is posted already; TERN_ERR_INVALID_ARGUMENT (buf NULL, cap 0 or above UINT32_MAX, or a
 * bad handle) or TERN_ERR_CLOSED (a stale handle); what tern_tcp_recv returns other than
 * TERN_ERR_WOULD_BLOCK when it would refuse a read (TERN_ERR_NOT_CONNECTED on a listener or a
 * connection never opened, a closed connection's error with nothing left to read). Posting after
 * the end of the stream is allowed (the buffer stays empty and final).
 */
tern_err tern_tcp_recv_post(tern_stack *st, tern_sock s, uint8_t *buf, size_t cap);

/*
 * tern_tcp_recv_posted: how many bytes the posted buffer holds.
 *   filled  receives the count (required)
 *   final   receives whether nothing more will be placed in it until it is taken: it is full,
 *           the peer's FIN arrived (the stream ends after the filled bytes), receiving was shut
 *           down, the connection closed (reset, timed out), or urgent data is pending; NULL
 *           allowed
 * Returns TERN_OK; TERN_ERR_EMPTY when no buffer is posted; TERN_ERR_INVALID_ARGUMENT (filled
 * NULL, or a bad handle) or TERN_ERR_CLOSED (a stale handle).
 */
tern_err tern_tcp_recv_posted(const tern_stack *st, tern_sock s, size_t *filled, bool *final);

/*
 * tern_tcp_recv_take: give the posted buffer back; the stack forgets the pointer. Its first *got
 * bytes are the stream's next bytes (tern_tcp_recv then reads what follows them).
 *   got  receives the bytes filled; NULL allowed
 * Returns TERN_OK; TERN_ERR_EMPTY when no buffer is posted; TERN_ERR_INVALID_ARGUMENT or
 * TERN_ERR_CLOSED for a bad or stale handle (after tern_tcp_close or tern_tcp_abort the buffer
 * is the application's again without a take).
 */
tern_err tern_tcp_recv_take(tern_stack *st, tern_sock s, size_t *got);

/*
 * The urgent mechanism (RFC 9293 §3.8.5). Urgent data is part of the stream:
 * it is sent and received in order, inline (as RFC 6093 advises), and the
 * urgent pointer marks where it ends ("the octet following the urgent data",
 * MUST-62). New applications should not use it (SHLD-13); it exists for the
 * ones that do (Telnet, FTP ABOR) and for conformance (MUST-30).
 *
 * tern_tcp_send_urgent: like tern_tcp_send, and the octets queued by this call
 * end the urgent data: SND.UP is set after the last of them (RFC 9293 §3.10.2),
 * and every segment sent from before that point carries URG and the urgent
 * pointer until the peer acknowledges it. Urgent data of any length (MUST-31):
 * successive calls extend it; a stretch longer than 65535 octets is
 * announced 65535 at a time. Nagle does not hold urgent data back. Allowed in
 * the states tern_tcp_send allows (before ESTABLISHED it is queued, and
 * marked, like other data).
 *   data, len  the urgent octets, len >= 1
 *   sent       receives how many were queued (may be fewer than len: the
 *              urgent pointer then ends after those; send the rest urgent too)
 * Returns what tern_tcp_send returns, or TERN_ERR_INVALID_ARGUMENT when len is
 * 0 (RFC 9293 §3.8.5: "the user must also send at least one data octet").
 */
tern_err tern_tcp_send_urgent(tern_stack *st, tern_sock s, const uint8_t *data, size_t len,
                              size_t *sent);

/* The urgent state of a connection (tern_tcp_get_urgent). */
typedef struct tern_tcp_urgent_info {
    /* Receiving. "urgent mode": the peer's urgent pointer (RCV.UP) is ahead of
     * what the application has read. */
    bool pending;
    /* In urgent mode, the octets left to read up to the end of the urgent data
     * (RCV.UP minus the read position; some may not have arrived yet, and it
     * may exceed tern_tcp_readable): "how much urgent data remains to be read"
     * (MUST-33). 0 when not pending. */
    uint32_t mark;
    /* Notifications so far (MUST-32): it increases when urgent data becomes
     * pending and whenever the urgent pointer advances. The stack makes no
     * calls into the application: compare it with the value last seen (after
     * tern_stack_input or tern_stack_poll) to be told asynchronously,
     * without reading the stream. */
    uint32_t signals;
    /* Sending: urgent data of ours is not yet acknowledged (SND.UP > SND.UNA),
     * so our segments carry URG. */
    bool sending;
} tern_tcp_urgent_info;

/*
 * tern_tcp_get_urgent: the urgent state of connection s into *out.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT or TERN_ERR_CLOSED for a bad or
 * stale handle.
 */
tern_err tern_tcp_get_urgent(const tern_stack *st, tern_sock s, tern_tcp_urgent_info *out);
/* Shut down sending (how 1), receiving (0) or both (2). */
tern_err tern_tcp_shutdown(tern_stack *st, tern_sock s, int how);
/* Graceful close (FIN after queued data); the handle is released. TERN_ERR_BAD_STATE (nothing
 * done) while bytes lent with tern_tcp_lend are not yet acknowledged. */
tern_err tern_tcp_close(tern_stack *st, tern_sock s);
/* Abort: send RST, drop everything (lent buffers are released at once), release the handle. */
tern_err tern_tcp_abort(tern_stack *st, tern_sock s);
tern_err tern_tcp_set_option(tern_stack *st, tern_sock s, tern_tcp_option opt, int64_t value);
tern_err tern_tcp_get_info(const tern_stack *st, tern_sock s, tern_tcp_info *out);
/* Bytes readable now / bytes of send buffer free now. */
size_t tern_tcp_readable(const tern_stack *st, tern_sock s);
size_t tern_tcp_writable(const tern_stack *st, tern_sock s);
/* A listener's accept queue length. */
size_t tern_tcp_accept_pending(const tern_stack *st, tern_sock s);

#endif /* TERN_STACK_H */

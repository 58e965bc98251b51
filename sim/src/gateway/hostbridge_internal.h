/*
 * The host bridge's parts (tern/sim_hostbridge.h):
 *   hostbridge.c     the node: its stack, flows, frame rewriting, events applied
 *   hostbridge_io.c  the host sockets (live mode only): the one place of the
 *                    gateway that does host I/O
 *   journal.c        the journal file
 */
#ifndef TERN_SIM_HOSTBRIDGE_INTERNAL_H
#define TERN_SIM_HOSTBRIDGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sim_internal.h"
#include "tern/sim_hostbridge.h"
#include "tern/stack.h"

#define HB_BUF 65536 /* relay buffer per direction of a TCP flow */
/* Relay buffers of finished flows kept for the next ones: a buffer freed and allocated again per
 * connection costs the allocator's trim and a page fault per page touched (bench/slirp's
 * connection workload spent 8 % of its time there). */
#define HB_SPARE_BUFS 64
/* A UDP or echo flow (and its host socket) unused this long is closed: longer than the
 * gateway's default UDP mapping lifetime (300 s), so a live mapping keeps its socket. */
#define HB_IDLE_NS (330ull * 1000000000ull)
/* The bridge's stack keeps TIME-WAIT 2 x HB_MSL_NS; a closed flow's rewriting lives a second
 * longer, so the last ACK of a retransmitted FIN still leaves from the address the guest used. */
#define HB_MSL_NS (5ull * 1000000000ull)
#define HB_TOMB_NS (2 * HB_MSL_NS + 1000000000ull)
/* A UDP flow remembers the IPv4 and UDP headers of its last HB_SENT datagrams, so an ICMP error
 * the host reports about one quotes it as the gateway sent it (its identification, TTL). */
#define HB_SENT 4

typedef enum hb_state {
    HB_FREE = 0,
    HB_TCP_CONNECTING, /* guest SYN held, host connect under way */
    HB_TCP_ACCEPTING,  /* SYN given to the stack's listener for this flow */
    HB_TCP_OPEN,       /* relaying */
    HB_TCP_CLOSING,    /* host side done; the stack's connection still closing */
    HB_TCP_TOMB,       /* the stack's socket released: its last segments (RST, TIME-WAIT
                        * answers) still leave rewritten, until `until` */
    HB_UDP,            /* a UDP socket for one gateway-side source */
    HB_ECHO,           /* a ping socket for one echo identifier */
    HB_FWD_TCP,        /* an inbound TCP forward (host listener) */
    HB_FWD_UDP         /* an inbound UDP forward (host socket) */
} hb_state;

typedef struct hb_flow {
    uint32_t id; /* journal flow id, never reused */
    hb_state state;
    bool inbound;     /* a TCP connection accepted on a forward */
    uint32_t gw_addr; /* the gateway-side endpoint (NAT's outside address and port) */
    uint16_t gw_port; /* ICMP: the echo identifier */
    uint32_t dst;     /* the outside endpoint as seen on the link (TCP/UDP out) */
    uint16_t dport;
    uint16_t local_port; /* TCP: the stack's port for this flow */
    uint16_t host_port;  /* forwards: the bound host port */
    tern_sock lsock, sock;
    bool has_lsock, has_sock;
    uint32_t syn_seq;
    size_t syn_len;
    uint8_t syn[128];
    uint8_t *to_host, *to_guest;
    uint32_t th_len, tg_len;
    bool guest_eof, host_eof, host_shut, guest_shut;
    int connect_err;    /* live: a connect that failed at once (errno), reported by the service */
    uint64_t until;     /* HB_TCP_TOMB: when the rewriting ends */
    uint64_t last_used; /* UDP and echo flows: virtual time of the last datagram either way */
    uint8_t sent[HB_SENT][28]; /* UDP: headers (IPv4 without options, UDP) of the last datagrams */
    uint8_t sent_n; /* UDP: datagrams recorded in `sent` (the newest at sent_n % HB_SENT - 1) */
    uint8_t df;     /* live UDP: the socket's IP_MTU_DISCOVER as last set, 0: not yet, 1 + df */
    int fd;         /* live: the host socket, -1 when none */
} hb_flow;

typedef struct hb_state_t {
    sim *s;
    sim_node_id id;
    sim_hostbridge_config cfg;
    sim_journal *j;
    bool live;
    tern_stack *stack;
    void *mem;
    uint64_t now;
    uint8_t gw_mac[6]; /* the gateway's MAC, from its frames */
    bool have_gw_mac;
    uint32_t next_flow;
    uint16_t next_local;
    uint16_t ip_id;
    hb_flow flows[SIM_HB_MAX_FLOWS];
    uint32_t flows_end;            /* no flow in use at or above this index (see hb_flows_end) */
    uint8_t *spare[HB_SPARE_BUFS]; /* relay buffers to reuse */
    uint32_t nspare;
    sim_hostbridge_counters c;
    uint8_t buf[SIM_MAX_FRAME];
} hb_node;

/* The end of the flow slots to scan: every flow in use is below it. The scans (several per frame
 * and per host event) stop there instead of going over all SIM_HB_MAX_FLOWS slots; the order of
 * a scan is unchanged, so is everything that depends on it. */
static inline uint32_t hb_flows_end(hb_node *h) {
    while (h->flows_end && h->flows[h->flows_end - 1].state == HB_FREE) {
        h->flows_end--;
    }
    return h->flows_end;
}

/* hostbridge.c */
hb_flow *hb_flow_by_id(hb_node *h, uint32_t id);
hb_flow *hb_flow_new(hb_node *h, hb_state st);
void hb_apply(hb_node *h, const sim_journal_rec *rec, const uint8_t *data);

/* hostbridge_io.c (live mode; each returns false / -1 on failure and counts it) */
tern_err hb_io_check_ping(hb_node *h);
void hb_io_tcp_connect(hb_node *h, hb_flow *f, uint32_t addr, uint16_t port);
void hb_io_udp_send(hb_node *h, hb_flow *f, uint32_t addr, uint16_t port, const uint8_t *d,
                    size_t n, bool df);
void hb_io_echo_send(hb_node *h, hb_flow *f, uint32_t addr, uint16_t seq, const uint8_t *d,
                     size_t n);
void hb_io_shutdown(hb_node *h, hb_flow *f);
void hb_io_close(hb_node *h, hb_flow *f, bool reset);
tern_err hb_io_forward(hb_node *h, hb_flow *f, uint8_t proto, uint16_t port);
uint32_t hb_io_pollfds(hb_node *h, struct pollfd *fds, uint32_t cap);
tern_err hb_io_service(hb_node *h, sim_hostbridge_clock_fn clock, void *ctx, size_t *n);

#endif

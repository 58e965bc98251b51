/*
 * The C ABI of libtern_lwip (src/): lwIP 2.1 (NO_SYS, raw API) as a Tern simulator node.
 * Written by hand (a score of functions); tern_lwip/__init__.py reads the lines between the
 * BEGIN/END CDEF markers as its CFFI cdef, so they hold only declarations CFFI accepts.
 *
 * The node is made by the plugin entry tern_node_create (sim/include/tern/sim_plugin.h) with a
 * config "mac=02:00:00:00:00:01 ip=10.0.0.1/24 mtu=1500 seed=N"; `st` below is its state,
 * sim_node_state() of the node. Several nodes may live in one process: each function first makes
 * the node's lwIP state current (src/instance.c, docs/lwip.md).
 *
 * Handles are small integers >= 0; negative returns are Tern error codes
 * (stack/include/tern/errors.h): -1 INVALID_ARGUMENT, -2 NO_MEMORY, -21 MSG_TOO_LONG,
 * -22 ADDR_IN_USE, -23 WOULD_BLOCK, -24 NOT_CONNECTED, -25 CONN_REFUSED, -26 CONN_RESET,
 * -27 TIMED_OUT, -29 BAD_STATE, -30 CLOSED. Every function that changes something asks the
 * simulator to poll the node again (node_wake): frames lwIP produces inside a call from Python
 * leave at that poll, at the same virtual time.
 */
#ifndef TERN_LWIP_H
#define TERN_LWIP_H

#include <stddef.h>
#include <stdint.h>

/* BEGIN CDEF */
typedef struct lw_tcp_info {
    int32_t state;     /* lwIP's enum tcp_state: 0 CLOSED ... 10 TIME_WAIT (RFC 9293 order) */
    int32_t error;     /* why the connection ended (a Tern error code), 0 if it did not */
    uint32_t local_ip; /* host byte order; 0 when unbound */
    uint16_t local_port;
    uint32_t remote_ip; /* host byte order; 0 when not connected */
    uint16_t remote_port;
    uint32_t readable; /* bytes received, not yet read */
    uint32_t writable; /* free bytes in the send buffer (tcp_sndbuf) */
    uint8_t fin_received;
    uint8_t ts_ok;    /* timestamps negotiated (TF_TIMESTAMP) */
    uint32_t snd_una; /* pcb->lastack */
    uint32_t snd_nxt;
    uint32_t rcv_nxt;
    uint32_t snd_wnd; /* the peer's window */
    uint32_t rcv_wnd; /* the window announced */
    uint32_t cwnd;
    uint32_t ssthresh;
    uint32_t snd_mss;     /* pcb->mss */
    uint64_t rto_ns;      /* pcb->rto ticks x 500 ms */
    uint32_t retransmits; /* pcb->nrtx */
} lw_tcp_info;

/* A new TCP socket (an lwIP pcb): its handle. */
int32_t lw_tcp_open(void *st);
/* Bind to port (0: lwIP picks at connect/listen). */
int32_t lw_tcp_bind(void *st, int32_t h, uint16_t port);
/* Listen with backlog (1..255) pending connections. */
int32_t lw_tcp_listen(void *st, int32_t h, uint32_t backlog);
/* A new handle for an established connection of listener h, or -23 WOULD_BLOCK. */
int32_t lw_tcp_accept(void *st, int32_t h);
/* Established connections of listener h not yet accepted. */
int32_t lw_tcp_accept_pending(void *st, int32_t h);
/* Active open to ip (host byte order):port. */
int32_t lw_tcp_connect(void *st, int32_t h, uint32_t ip, uint16_t port);
/* Queue up to len bytes: how many (0: buffer full), or an error. */
int64_t lw_tcp_send(void *st, int32_t h, const uint8_t *data, size_t len);
/* Read up to len bytes: how many (> 0), 0 at end of stream, -23 WOULD_BLOCK, or why it ended. */
int64_t lw_tcp_recv(void *st, int32_t h, uint8_t *out, size_t len);
/* Half close: rd and/or wr (tcp_shutdown). */
int32_t lw_tcp_shutdown(void *st, int32_t h, int32_t rd, int32_t wr);
/* Graceful close (tcp_close); the handle is released. */
int32_t lw_tcp_close(void *st, int32_t h);
/* Abort (tcp_abort: RST); the handle is released. */
int32_t lw_tcp_abort(void *st, int32_t h);
/* Fill *out; 0 or -30 CLOSED for a handle that is not a TCP socket. */
int32_t lw_tcp_get_info(void *st, int32_t h, lw_tcp_info *out);
/* Options: 1 nodelay (0/1), 2 keepalive (0/1), 3 keepidle ms, 4 keepintvl ms, 5 keepcnt. */
int32_t lw_tcp_set_option(void *st, int32_t h, int32_t opt, uint64_t value);

/* A new UDP socket: its handle. */
int32_t lw_udp_open(void *st);
/* Bind to ip (0: any):port (0: ephemeral). */
int32_t lw_udp_bind(void *st, int32_t h, uint32_t ip, uint16_t port);
/* The bound address and port. */
int32_t lw_udp_local(void *st, int32_t h, uint32_t *ip, uint16_t *port);
/* Send a datagram (binds an ephemeral port first if unbound). */
int32_t lw_udp_sendto(void *st, int32_t h, uint32_t ip, uint16_t port, const uint8_t *data,
                      size_t len);
/* The oldest datagram: its length (copied up to cap), -23 WOULD_BLOCK when none. */
int64_t lw_udp_recvfrom(void *st, int32_t h, uint8_t *out, size_t cap, uint32_t *ip,
                        uint16_t *port);
/* Datagrams waiting. */
int32_t lw_udp_pending(void *st, int32_t h);
/* TTL of sent datagrams. */
int32_t lw_udp_set_ttl(void *st, int32_t h, uint8_t ttl);
/* Close; queued datagrams are dropped. */
int32_t lw_udp_close(void *st, int32_t h);

typedef struct lw_ping_reply {
    uint32_t src; /* host byte order */
    uint16_t seq;
    uint8_t ttl;
    uint32_t len;  /* payload bytes */
    uint64_t time; /* virtual ns when it arrived */
} lw_ping_reply;

/* A new ICMP echo socket with identifier ident (a raw ICMP pcb). */
int32_t lw_ping_open(void *st, uint16_t ident);
/* Send an echo request: payload data (or len bytes of a pattern when data is NULL), ttl 0: default.
 */
int32_t lw_ping_send(void *st, int32_t h, uint32_t dst, uint16_t seq, const uint8_t *data,
                     size_t len, uint8_t ttl);
/* The oldest echo reply and its payload (up to cap bytes), or -23 WOULD_BLOCK. */
int32_t lw_ping_recv(void *st, int32_t h, lw_ping_reply *out, uint8_t *payload, size_t cap);
/* The last ICMP error about one of the socket's echo requests (and clear it). */
typedef struct lw_ping_error {
    uint8_t type; /* ICMP type: 3, 11 or 12 */
    uint8_t code;
    uint16_t mtu;  /* next-hop MTU of a fragmentation needed (type 3 code 4), else 0 */
    uint32_t from; /* the error's sender, host byte order */
    uint32_t dst;  /* the request's destination (from the quoted header) */
    uint64_t time; /* virtual ns when it arrived */
} lw_ping_error;

/* 0 and *out, or -23 WOULD_BLOCK when there is none. */
int32_t lw_ping_take_error(void *st, int32_t h, lw_ping_error *out);
/* Close. */
int32_t lw_ping_close(void *st, int32_t h);

/* lwIP assertions that failed in this process (a bug inside lwIP or its driving). */
uint64_t lw_assertions(void);
/* END CDEF */

#endif

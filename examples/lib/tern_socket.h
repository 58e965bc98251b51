/*
 * tern_socket: a POSIX-shaped sockets layer over one Tern stack host.
 *
 * The stack's own socket calls never block and never send by themselves
 * (tern/stack.h). This layer gives a program the shape it knows: integer
 * descriptors, struct sockaddr_in, -1 with errno, blocking calls with
 * SO_RCVTIMEO/SO_SNDTIMEO, O_NONBLOCK-style non-blocking sockets
 * (SOCK_NONBLOCK, MSG_DONTWAIT), and poll(). A program written against it
 * reads like a BSD sockets program, and the same program can run against the
 * Linux kernel's sockets (examples/lib/test/test_tern_socket.c does).
 *
 * It lives in examples/lib, outside the stack, because blocking needs a
 * driver: the stack is sans-I/O (DESIGN.md §3), so "wait" means "let the
 * world run". A blocking call that cannot complete yet asks its driver to
 * advance until something happens or its timeout passes, then tries again.
 * With the simulation driver (tern_sockets_init_sim) that is virtual time:
 * the world jumps from event to event, so a program written in ordinary
 * blocking style stays deterministic, and a timeout of 2 s ends exactly 2 s
 * of virtual time later. One thread; no signals.
 *
 * Descriptors are small integers 0..TERN_SOCKETS_MAX-1 of one tern_sockets;
 * they are not kernel descriptors. SOCK_STREAM (TCP) and SOCK_DGRAM (UDP) of
 * AF_INET (struct sockaddr_in) and AF_INET6 (struct sockaddr_in6, at least
 * 24 bytes as Linux asks).
 *
 * IPv6 as Linux gives it with IPV6_V6ONLY off (its default):
 *   - An AF_INET6 socket bound to :: (or not bound) serves both families: the
 *     stack's wildcard socket (tern/stack.h "Families"). It reports an IPv4
 *     peer or local address as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) in accept,
 *     recvfrom, getsockname and getpeername, and takes ::ffff:a.b.c.d in
 *     bind, connect and sendto as a.b.c.d. Its UDP connect and sendto also
 *     take a struct sockaddr_in, as Linux's do.
 *   - The port of such a socket is taken for IPv4 too: binding an AF_INET
 *     socket to it is EADDRINUSE.
 *   - IPV6_V6ONLY reads 0; setting it to 1 is ENOPROTOOPT (the stack has no
 *     IPv6-only wildcard socket); bind an IPv6 address instead.
 *   - An AF_INET socket's implicit bind (UDP sendto/connect, TCP listen or
 *     connect unbound) is 0.0.0.0: it never sees IPv6.
 *   - ICMPv6 errors on a connected UDP socket, as Linux: port unreachable
 *     ECONNREFUSED, no route ENETUNREACH, administratively prohibited EACCES,
 *     Packet Too Big EMSGSIZE, the rest EHOSTUNREACH.
 *   - IPPROTO_IPV6 IPV6_UNICAST_HOPS (set) is the Hop Limit (IP_TTL's twin).
 *
 * Errors (errno), as Linux gives them: EBADF (not a descriptor of this
 * tern_sockets), EMFILE (no descriptor free), ENOBUFS (the stack's socket pool
 * is exhausted), EAFNOSUPPORT, EPROTONOSUPPORT, EINVAL, EOPNOTSUPP,
 * EADDRINUSE, EADDRNOTAVAIL, EAGAIN (non-blocking, or a timeout passed),
 * EINPROGRESS (non-blocking connect, or SO_SNDTIMEO passed during connect),
 * EALREADY, EISCONN, ENOTCONN, EDESTADDRREQ, ECONNREFUSED, ECONNRESET,
 * ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, EMSGSIZE, EPIPE (send after
 * shutdown), ENOPROTOOPT (an option the stack does not have), EDEADLK (a
 * blocking call with no timeout in a simulation where nothing is left to
 * happen: it could never return).
 */
#ifndef TERN_SOCKET_H
#define TERN_SOCKET_H

#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "tern/sim.h"
#include "tern/sim_realtime.h"
#include "tern/packet.h"
#include "tern/stack.h"

#define TERN_SOCKETS_MAX 64

/*
 * How a blocking call lets the world run (the simulation, or real time).
 *   now      the current time in nanoseconds
 *   advance  run until the next thing happens, at most until `deadline`
 *            (TERN_NEVER: no limit); return 0, or -1 if nothing at all is
 *            left to happen and the deadline is TERN_NEVER
 *   wake     tell the driver the host has work (after a socket call)
 */
typedef struct tern_sockets_driver {
    void *ctx;
    uint64_t (*now)(void *ctx);
    int (*advance)(void *ctx, uint64_t deadline);
    void (*wake)(void *ctx);
} tern_sockets_driver;

/* One descriptor (private to the layer; here for tern_sockets' size). */
typedef struct tern_sockets_fd {
    uint8_t used;
    uint8_t type;      /* SOCK_STREAM or SOCK_DGRAM */
    uint8_t nonblock;  /* SOCK_NONBLOCK */
    uint8_t listening; /* TCP: after listen */
    uint8_t connecting;
    uint8_t connected; /* UDP: a default peer; TCP: connect or accept succeeded */
    uint8_t shut_rd, shut_wr;
    uint8_t linger0; /* SO_LINGER on with 0 s: close aborts (RST) */
    uint8_t reuseaddr, keepalive, nodelay, broadcast;
    uint8_t family;                      /* AF_INET, AF_INET6 or AF_PACKET */
    uint8_t pkt_rx_off;                  /* AF_PACKET with protocol 0: nothing received */
    uint16_t pkt_proto;                  /* AF_PACKET: the EtherType (0: none yet) */
    uint32_t pkt_iface;                  /* AF_PACKET: the bound interface, or every one */
    uint64_t pkt_base_rx, pkt_base_drop; /* AF_PACKET: PACKET_STATISTICS read so far */
    int so_error;                        /* pending error (SO_ERROR), 0 if none */
    tern_sock h;
    uint64_t rcvtimeo_ns, sndtimeo_ns; /* 0: block for ever */
    tern_addr peer;                    /* UDP default peer */
    uint16_t peer_port;
} tern_sockets_fd;

/* A host's descriptor table and its driver. Zero-initialise, then tern_sockets_init*. */
typedef struct tern_sockets {
    tern_stack *st;
    tern_sockets_driver drv;
    sim *s;           /* the simulation (both drivers below), else NULL */
    sim_realtime *rt; /* the real-time driver's, else NULL */
    /* called after each round while a call blocks, may be NULL; its return value is ignored.
     * Real-time driver: at least every millisecond (a shell). Simulation driver: after each
     * instant of virtual time that had events (another host's non-blocking program). */
    sim_realtime_step_fn on_round;
    void *on_round_ctx;
    sim_node_id node;
    tern_sockets_fd fd[TERN_SOCKETS_MAX];
} tern_sockets;

/*
 * tern_sockets_init: descriptors over stack `st`, blocking through `drv`.
 * Every descriptor starts free.
 */
void tern_sockets_init(tern_sockets *ts, tern_stack *st, const tern_sockets_driver *drv);

/*
 * tern_sockets_init_sim: descriptors over the Tern host `node` of simulation
 * `s`, blocking in virtual time: a blocking call runs the simulation (all of
 * it, every node) event by event until the call can complete or its timeout
 * passes. Returns 0, or -1 with errno EINVAL if `node` is not a Tern host.
 */
int tern_sockets_init_sim(tern_sockets *ts, sim *s, sim_node_id node);

/*
 * tern_sockets_init_realtime: like tern_sockets_init_sim, but blocking waits
 * in real time: the driver `rt` runs the simulation against the wall clock
 * (a TAP device, sim_tap.h) in slices of at most 1 ms, returning early when
 * frames come from a TAP device. Returns 0, or -1 with errno EINVAL.
 */
int tern_sockets_init_realtime(tern_sockets *ts, sim *s, sim_realtime *rt, sim_node_id node);

/* socket(2): domain AF_INET or AF_INET6; type SOCK_STREAM or SOCK_DGRAM, optionally |
 * SOCK_NONBLOCK; protocol 0 or the matching IPPROTO_TCP/IPPROTO_UDP. Returns a descriptor or -1. */
int tern_socket(tern_sockets *ts, int domain, int type, int protocol);
/* bind(2): a struct sockaddr_in (AF_INET) or sockaddr_in6 (AF_INET6); port 0 picks an
 * ephemeral port. EAFNOSUPPORT for the other family's address, EINVAL for a short one. */
int tern_bind(tern_sockets *ts, int fd, const struct sockaddr *addr, socklen_t len);
/* listen(2): TCP only (EOPNOTSUPP otherwise). */
int tern_listen(tern_sockets *ts, int fd, int backlog);
/* accept(2): blocks (SO_RCVTIMEO) until a connection is established; addr/len may be NULL. */
int tern_accept(tern_sockets *ts, int fd, struct sockaddr *addr, socklen_t *len);
/* connect(2): TCP blocks until established or failed (SO_SNDTIMEO: EINPROGRESS when it passes);
 * non-blocking returns EINPROGRESS (then poll for POLLOUT and read SO_ERROR). UDP sets the
 * default peer (AF_UNSPEC clears it). */
int tern_connect(tern_sockets *ts, int fd, const struct sockaddr *addr, socklen_t len);
/* send(2)/recv(2): flags 0, MSG_DONTWAIT, MSG_NOSIGNAL. A blocking TCP send queues all of buf
 * (SO_SNDTIMEO: what was queued, or EAGAIN); recv returns 0 at the end of the stream. */
ssize_t tern_send(tern_sockets *ts, int fd, const void *buf, size_t len, int flags);
ssize_t tern_recv(tern_sockets *ts, int fd, void *buf, size_t len, int flags);
/* sendto(2)/recvfrom(2): UDP datagrams (a longer datagram is truncated to len, as Linux does);
 * on TCP the address is ignored, as Linux does on a connected socket. */
ssize_t tern_sendto(tern_sockets *ts, int fd, const void *buf, size_t len, int flags,
                    const struct sockaddr *to, socklen_t tolen);
ssize_t tern_recvfrom(tern_sockets *ts, int fd, void *buf, size_t len, int flags,
                      struct sockaddr *from, socklen_t *fromlen);
/* shutdown(2): SHUT_RD, SHUT_WR, SHUT_RDWR; ENOTCONN if not connected. */
int tern_shutdown(tern_sockets *ts, int fd, int how);
/* close(2): TCP closes gracefully (FIN after queued data), or aborts (RST) with SO_LINGER 0. */
int tern_close(tern_sockets *ts, int fd);
/*
 * setsockopt(2)/getsockopt(2), the options the stack has:
 *   SOL_SOCKET   SO_RCVTIMEO, SO_SNDTIMEO (struct timeval), SO_REUSEADDR (kept; TIME-WAIT
 *                holds no socket in Tern), SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF (TCP, before
 *                connect/listen), SO_BROADCAST (UDP), SO_LINGER; get only: SO_ERROR (and
 *                clears it), SO_TYPE
 *   IPPROTO_TCP  TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL (s), TCP_KEEPCNT, TCP_USER_TIMEOUT
 *                (ms), TCP_MAXSEG (set only)
 *   IPPROTO_IP   IP_TTL (set only)
 *   IPPROTO_IPV6 IPV6_V6ONLY (0 only, see above), IPV6_UNICAST_HOPS (set only; -1: 64)
 * Int options take an int; anything else is ENOPROTOOPT.
 */
int tern_setsockopt(tern_sockets *ts, int fd, int level, int name, const void *val, socklen_t len);
int tern_getsockopt(tern_sockets *ts, int fd, int level, int name, void *val, socklen_t *len);
/* getsockname(2)/getpeername(2). */
int tern_getsockname(tern_sockets *ts, int fd, struct sockaddr *addr, socklen_t *len);
int tern_getpeername(tern_sockets *ts, int fd, struct sockaddr *addr, socklen_t *len);
/*
 * poll(2) over this table's descriptors: POLLIN (data, end of stream, a
 * connection to accept, a datagram), POLLOUT (room to send on a connected
 * socket), POLLERR (a pending error), POLLHUP (the connection is over both
 * ways), POLLNVAL (a bad descriptor). timeout_ms < 0 waits for ever, 0 not at
 * all. Returns how many entries have revents, 0 on timeout, -1 (EDEADLK) as
 * above.
 */
int tern_poll(tern_sockets *ts, struct pollfd *fds, nfds_t nfds, int timeout_ms);

#endif /* TERN_SOCKET_H */

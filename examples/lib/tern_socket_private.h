/*
 * What the files of the sockets layer share (tern_socket*.c); not for programs.
 */
#ifndef TERN_SOCKET_PRIVATE_H
#define TERN_SOCKET_PRIVATE_H

#include <stdbool.h>

#include "tern_socket.h"

/* errno for a stack error. */
int tsk_errno_of(tern_err e);
/* errno = e; return -1. */
int tsk_fail(int e);
/* The descriptor fd of ts, or NULL. */
tern_sockets_fd *tsk_get(tern_sockets *ts, int fd);
/* now + timeout_ns (TERN_NEVER for 0: no timeout). */
uint64_t tsk_deadline_of(tern_sockets *ts, uint64_t timeout_ns);
/* One wait of a blocking call: 0 to try again; -1 with EAGAIN (deadline passed) or EDEADLK. */
int tsk_wait_step(tern_sockets *ts, uint64_t deadline);
/*
 * A socket address of f's family into an address and port: a struct sockaddr_in for an AF_INET
 * socket, a struct sockaddr_in6 (at least 24 bytes) for an AF_INET6 one, where ::ffff:a.b.c.d
 * stands for a.b.c.d. datagram_v4_ok: an AF_INET6 socket also takes a struct sockaddr_in (Linux's
 * UDP connect and sendto do). False with *err: EINVAL (too short), EAFNOSUPPORT (another
 * family).
 */
bool tsk_read_sockaddr(const tern_sockets_fd *f, const struct sockaddr *sa, socklen_t len,
                       bool datagram_v4_ok, tern_addr *addr, uint16_t *port, int *err);
/* An address and port into sa as f's family gives it (an IPv4 address on an AF_INET6 socket as
 * ::ffff:a.b.c.d); at most *len bytes; *len becomes the full size. */
void tsk_write_sockaddr(const tern_sockets_fd *f, struct sockaddr *sa, socklen_t *len,
                        const tern_addr *addr, uint16_t port);
/* The wildcard address of f's family as the stack takes it (0.0.0.0, or none: both families). */
tern_addr tsk_any_of(const tern_sockets_fd *f);
/* Bind an unbound UDP socket to an ephemeral port of its family's wildcard: 0 or an errno. */
int tsk_udp_autobind(tern_sockets *ts, tern_sockets_fd *f);
/* The TCP connection's tern_tcp_info; false for a bad handle. */
bool tsk_tcp_info(tern_sockets *ts, tern_sockets_fd *f, tern_tcp_info *info);
/* A connection's end or a UDP socket's ICMP error into f->so_error (once). */
void tsk_collect_error(tern_sockets *ts, tern_sockets_fd *f);
/* f->so_error, cleared. */
int tsk_take_error(tern_sockets_fd *f);
/* ESTABLISHED or CLOSE-WAIT: a state where data may be sent. */
bool tsk_tcp_established_enough(const tern_tcp_info *info);

/* ---- packet sockets (tern_socket_packet.c) ---- */
/* Open f's stack packet socket for socket(AF_PACKET, SOCK_RAW, protocol): 0 or an errno. */
int tsk_packet_open(tern_sockets *ts, tern_sockets_fd *f, int protocol);
/* bind(2) with a struct sockaddr_ll: 0 or an errno (EINVAL, ENODEV). */
int tsk_packet_bind(tern_sockets *ts, tern_sockets_fd *f, const struct sockaddr *sa, socklen_t len);
ssize_t tsk_packet_sendto(tern_sockets *ts, tern_sockets_fd *f, const void *buf, size_t len,
                          bool nonblock, const struct sockaddr *to, socklen_t tolen);
ssize_t tsk_packet_recvfrom(tern_sockets *ts, tern_sockets_fd *f, void *buf, size_t len,
                            bool nonblock, struct sockaddr *from, socklen_t *fromlen);
/* A frame is waiting (poll's POLLIN). */
bool tsk_packet_readable(tern_sockets *ts, tern_sockets_fd *f);
/* getsockopt SOL_PACKET PACKET_STATISTICS. */
int tsk_packet_statistics(tern_sockets *ts, tern_sockets_fd *f, void *val, socklen_t *len);

#endif /* TERN_SOCKET_PRIVATE_H */

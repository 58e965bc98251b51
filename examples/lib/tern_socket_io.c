/*
 * The sockets layer: send, recv, sendto, recvfrom (tern_socket.h).
 */
#include "tern_socket_private.h"

#include <errno.h>

/* ---- send and receive --------------------------------------------------------- */

static ssize_t tcp_send(tern_sockets *ts, tern_sockets_fd *f, const uint8_t *buf, size_t len,
                        bool nonblock) {
    if (f->shut_wr) {
        return tsk_fail(EPIPE);
    }
    uint64_t deadline = tsk_deadline_of(ts, f->sndtimeo_ns);
    size_t done = 0;
    for (;;) {
        tern_tcp_info info;
        if (!tsk_tcp_info(ts, f, &info)) {
            return tsk_fail(EBADF);
        }
        if (info.error != TERN_OK) {
            f->connected = 2;
            return done ? (ssize_t)done : tsk_fail(tsk_errno_of(info.error));
        }
        if (tsk_tcp_established_enough(&info)) {
            while (done < len) {
                size_t n = 0;
                tern_err err = tern_tcp_send(ts->st, f->h, buf + done, len - done, &n);
                if (err == TERN_ERR_WOULD_BLOCK) {
                    break;
                }
                if (err != TERN_OK) {
                    return done ? (ssize_t)done : tsk_fail(tsk_errno_of(err));
                }
                done += n;
            }
            ts->drv.wake(ts->drv.ctx);
            if (done == len || (nonblock && done > 0)) {
                return (ssize_t)done;
            }
        } else if (info.state != TERN_TCP_SYN_SENT && info.state != TERN_TCP_SYN_RECEIVED) {
            return done ? (ssize_t)done
                        : tsk_fail(info.state == TERN_TCP_CLOSED ? ENOTCONN : EPIPE);
        }
        if (nonblock) {
            return tsk_fail(EAGAIN);
        }
        if (tsk_wait_step(ts, deadline) != 0) {
            return done ? (ssize_t)done : -1;
        }
    }
}

static ssize_t tcp_recv(tern_sockets *ts, tern_sockets_fd *f, uint8_t *buf, size_t len,
                        bool nonblock) {
    if (f->shut_rd) {
        return 0;
    }
    uint64_t deadline = tsk_deadline_of(ts, f->rcvtimeo_ns);
    for (;;) {
        size_t got = 0;
        tern_err err = tern_tcp_recv(ts->st, f->h, buf, len, &got);
        if (err == TERN_OK) {
            ts->drv.wake(ts->drv.ctx); /* the window opened */
            return (ssize_t)got;
        }
        if (err != TERN_ERR_WOULD_BLOCK) {
            return tsk_fail(tsk_errno_of(err));
        }
        tern_tcp_info info;
        if (tsk_tcp_info(ts, f, &info) && info.error != TERN_OK) {
            f->connected = 2;
            return tsk_fail(tsk_errno_of(info.error));
        }
        if (tsk_tcp_info(ts, f, &info) && info.state == TERN_TCP_CLOSED && !f->connecting) {
            return tsk_fail(ENOTCONN);
        }
        if (nonblock) {
            return tsk_fail(EAGAIN);
        }
        if (tsk_wait_step(ts, deadline) != 0) {
            return -1;
        }
    }
}

static ssize_t udp_sendto(tern_sockets *ts, tern_sockets_fd *f, const uint8_t *buf, size_t len,
                          const struct sockaddr *to, socklen_t tolen, bool nonblock) {
    if (f->shut_wr) {
        return tsk_fail(EPIPE);
    }
    tern_addr addr = tern_addr_v4(0, 0, 0, 0);
    uint16_t port = 0;
    int e = 0;
    if (to == NULL) {
        if (!f->connected) {
            return tsk_fail(EDESTADDRREQ);
        }
        addr = f->peer;
        port = f->peer_port;
    } else if (to->sa_family == AF_UNSPEC && f->family == AF_INET6 && f->connected) {
        addr = f->peer; /* Linux's udpv6 takes AF_UNSPEC as "no address" */
        port = f->peer_port;
    } else if (!tsk_read_sockaddr(f, to, tolen, true, &addr, &port, &e)) {
        return tsk_fail(e);
    }
    e = tsk_udp_autobind(ts, f);
    if (e != 0) {
        return tsk_fail(e);
    }
    uint64_t deadline = tsk_deadline_of(ts, f->sndtimeo_ns);
    for (;;) {
        tern_err err = tern_udp_sendto(ts->st, f->h, &addr, port, buf, len);
        if (err == TERN_OK) {
            ts->drv.wake(ts->drv.ctx);
            return (ssize_t)len;
        }
        if (err == TERN_ERR_INVALID_ARGUMENT) {
            return tsk_fail(f->broadcast ? EINVAL : EACCES); /* broadcast without SO_BROADCAST */
        }
        if (err != TERN_ERR_WOULD_BLOCK && err != TERN_ERR_NO_BUFFER) {
            return tsk_fail(tsk_errno_of(err));
        }
        if (nonblock) {
            return tsk_fail(EAGAIN);
        }
        if (tsk_wait_step(ts, deadline) != 0) {
            return -1;
        }
    }
}

static ssize_t udp_recvfrom(tern_sockets *ts, tern_sockets_fd *f, uint8_t *buf, size_t len,
                            struct sockaddr *from, socklen_t *fromlen, bool nonblock) {
    uint64_t deadline = tsk_deadline_of(ts, f->rcvtimeo_ns);
    for (;;) {
        if (f->connected) {
            tsk_collect_error(ts, f);
            if (f->so_error) {
                return tsk_fail(tsk_take_error(f));
            }
        }
        size_t n = 0;
        tern_addr src;
        uint16_t sport;
        tern_err err = tern_udp_recvfrom(ts->st, f->h, buf, len, &n, &src, &sport, NULL, NULL);
        if (err == TERN_OK) {
            tsk_write_sockaddr(f, from, fromlen, &src, sport);
            return (ssize_t)(n < len ? n : len);
        }
        if (err != TERN_ERR_WOULD_BLOCK) {
            return tsk_fail(tsk_errno_of(err));
        }
        if (f->shut_rd) {
            return 0;
        }
        if (nonblock) {
            return tsk_fail(EAGAIN);
        }
        if (tsk_wait_step(ts, deadline) != 0) {
            return -1;
        }
    }
}

static bool flags_ok(int flags) {
    return (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) == 0;
}

ssize_t tern_sendto(tern_sockets *ts, int fd, const void *buf, size_t len, int flags,
                    const struct sockaddr *to, socklen_t tolen) {
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return tsk_fail(EBADF);
    }
    if (!flags_ok(flags)) {
        return tsk_fail(EOPNOTSUPP);
    }
    bool nb = f->nonblock || (flags & MSG_DONTWAIT);
    if (f->type == SOCK_RAW) {
        return tsk_packet_sendto(ts, f, buf, len, nb, to, tolen);
    }
    if (f->type == SOCK_STREAM) {
        if (f->listening || (!f->connected && !f->connecting)) {
            return tsk_fail(EPIPE); /* as Linux: sending on a stream that never connected */
        }
        return tcp_send(ts, f, buf, len, nb);
    }
    return udp_sendto(ts, f, buf, len, to, tolen, nb);
}

ssize_t tern_send(tern_sockets *ts, int fd, const void *buf, size_t len, int flags) {
    return tern_sendto(ts, fd, buf, len, flags, NULL, 0);
}

ssize_t tern_recvfrom(tern_sockets *ts, int fd, void *buf, size_t len, int flags,
                      struct sockaddr *from, socklen_t *fromlen) {
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return tsk_fail(EBADF);
    }
    if (!flags_ok(flags)) {
        return tsk_fail(EOPNOTSUPP);
    }
    bool nb = f->nonblock || (flags & MSG_DONTWAIT);
    if (f->type == SOCK_RAW) {
        return tsk_packet_recvfrom(ts, f, buf, len, nb, from, fromlen);
    }
    if (f->type == SOCK_STREAM) {
        if (f->listening || (!f->connected && !f->connecting)) {
            return tsk_fail(ENOTCONN);
        }
        ssize_t r = tcp_recv(ts, f, buf, len, nb);
        if (r >= 0 && from != NULL && fromlen != NULL) {
            tern_tcp_info info;
            if (tsk_tcp_info(ts, f, &info)) {
                tsk_write_sockaddr(f, from, fromlen, &info.remote, info.remote_port);
            }
        }
        return r;
    }
    return udp_recvfrom(ts, f, buf, len, from, fromlen, nb);
}

ssize_t tern_recv(tern_sockets *ts, int fd, void *buf, size_t len, int flags) {
    return tern_recvfrom(ts, fd, buf, len, flags, NULL, NULL);
}

/*
 * The POSIX-shaped sockets layer (tern_socket.h): descriptors, errno, and
 * blocking as "let the driver run the world until the call can complete".
 */
#include "tern_socket.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/time.h>

#include "tern/sim_host.h"

/* ---- the simulation driver: virtual time ------------------------------------ */

static uint64_t sim_drv_now(void *ctx) {
    return sim_now(((tern_sockets *)ctx)->s);
}

static int sim_drv_advance(void *ctx, uint64_t deadline) {
    tern_sockets *ts = ctx;
    uint64_t next = sim_next_event_time(ts->s);
    if (next == SIM_NEVER && deadline == TERN_NEVER) {
        return -1; /* nothing will ever happen: blocking would never end */
    }
    uint64_t until = next < deadline ? next : deadline;
    if (until < sim_now(ts->s)) {
        until = sim_now(ts->s);
    }
    return sim_run(ts->s, until, 0, NULL) == TERN_OK ? 0 : -1;
}

static void sim_drv_wake(void *ctx) {
    tern_sockets *ts = ctx;
    sim_node_wake(ts->s, ts->node);
}

/* ---- the real-time driver: the wall clock ------------------------------------------ */

static uint64_t rt_drv_now(void *ctx) {
    return sim_now(((tern_sockets *)ctx)->s);
}

static int rt_drv_advance(void *ctx, uint64_t deadline) {
    tern_sockets *ts = ctx;
    uint64_t now = sim_now(ts->s);
    /* Slices of at most 1 ms: a blocking call rechecks its condition after every
     * frame from the kernel and at least every millisecond. */
    uint64_t slice = 1000000ull;
    if (deadline != TERN_NEVER && deadline > now && deadline - now < slice) {
        slice = deadline - now;
    }
    tern_err err = sim_realtime_run(ts->rt, slice, SIM_RT_STOP_ON_TAP_RX, NULL, NULL, NULL);
    /* Once per slice (at least every millisecond), whether or not an event or a frame
     * came: a shell reading standard input must not wait for the network. */
    if (ts->on_round != NULL) {
        ts->on_round(ts->on_round_ctx, ts->s, sim_now(ts->s));
    }
    return err == TERN_OK ? 0 : -1;
}

int tern_sockets_init_realtime(tern_sockets *ts, sim *s, sim_realtime *rt, sim_node_id node) {
    if (tern_sockets_init_sim(ts, s, node) != 0) {
        return -1;
    }
    ts->drv.now = rt_drv_now;
    ts->drv.advance = rt_drv_advance;
    ts->rt = rt;
    return 0;
}

void tern_sockets_init(tern_sockets *ts, tern_stack *st, const tern_sockets_driver *drv) {
    memset(ts, 0, sizeof *ts);
    ts->st = st;
    ts->drv = *drv;
}

int tern_sockets_init_sim(tern_sockets *ts, sim *s, sim_node_id node) {
    tern_stack *st = sim_host_stack(s, node);
    if (st == NULL) {
        errno = EINVAL;
        return -1;
    }
    tern_sockets_driver d = {ts, sim_drv_now, sim_drv_advance, sim_drv_wake};
    tern_sockets_init(ts, st, &d);
    ts->s = s;
    ts->node = node;
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static int errno_of(tern_err e) {
    switch (e) {
    case TERN_OK:
        return 0;
    case TERN_ERR_WOULD_BLOCK:
        return EAGAIN;
    case TERN_ERR_ADDR_IN_USE:
        return EADDRINUSE;
    case TERN_ERR_NOT_CONNECTED:
        return ENOTCONN;
    case TERN_ERR_CONN_REFUSED:
        return ECONNREFUSED;
    case TERN_ERR_CONN_RESET:
        return ECONNRESET;
    case TERN_ERR_TIMED_OUT:
    case TERN_ERR_USER_TIMEOUT:
        return ETIMEDOUT;
    case TERN_ERR_HOST_UNREACHABLE:
        return EHOSTUNREACH;
    case TERN_ERR_NO_ROUTE:
        return ENETUNREACH;
    case TERN_ERR_MSG_TOO_LONG:
        return EMSGSIZE;
    case TERN_ERR_NO_BUFFER:
    case TERN_ERR_NO_MEMORY:
        return ENOBUFS;
    case TERN_ERR_CLOSED:
        return EBADF;
    default:
        return EINVAL;
    }
}

static int fail(int e) {
    errno = e;
    return -1;
}

static tern_sockets_fd *get(tern_sockets *ts, int fd) {
    if (fd < 0 || fd >= TERN_SOCKETS_MAX || !ts->fd[fd].used) {
        return NULL;
    }
    return &ts->fd[fd];
}

static uint64_t deadline_of(tern_sockets *ts, uint64_t timeout_ns) {
    if (timeout_ns == 0) {
        return TERN_NEVER;
    }
    uint64_t now = ts->drv.now(ts->drv.ctx);
    return now + timeout_ns < now ? TERN_NEVER : now + timeout_ns;
}

/*
 * One wait of a blocking call: 0 to try again, or -1 with errno: EAGAIN when
 * the deadline has passed, EDEADLK when nothing is left to happen.
 */
static int wait_step(tern_sockets *ts, uint64_t deadline) {
    ts->drv.wake(ts->drv.ctx);
    if (deadline != TERN_NEVER && ts->drv.now(ts->drv.ctx) >= deadline) {
        return fail(EAGAIN);
    }
    if (ts->drv.advance(ts->drv.ctx, deadline) != 0) {
        return fail(EDEADLK);
    }
    return 0;
}

static bool read_sockaddr(const struct sockaddr *sa, socklen_t len, tern_addr *addr, uint16_t *port,
                          int *err) {
    if (sa == NULL || len < (socklen_t)sizeof(struct sockaddr_in)) {
        *err = EINVAL;
        return false;
    }
    struct sockaddr_in in;
    memcpy(&in, sa, sizeof in);
    if (in.sin_family != AF_INET) {
        *err = EAFNOSUPPORT;
        return false;
    }
    uint8_t b[4];
    memcpy(b, &in.sin_addr.s_addr, 4);
    *addr = tern_addr_v4_from_bytes(b);
    *port = ntohs(in.sin_port);
    return true;
}

static void write_sockaddr(struct sockaddr *sa, socklen_t *len, const tern_addr *addr,
                           uint16_t port) {
    if (sa == NULL || len == NULL) {
        return;
    }
    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    if (addr->family == TERN_AF_INET) {
        memcpy(&in.sin_addr.s_addr, addr->bytes, 4);
    }
    size_t n = *len < sizeof in ? *len : sizeof in;
    memcpy(sa, &in, n);
    *len = sizeof in;
}

/* The TCP connection's info, or NULL-equivalent false. */
static bool tcp_info(tern_sockets *ts, tern_sockets_fd *f, tern_tcp_info *info) {
    return tern_tcp_get_info(ts->st, f->h, info) == TERN_OK;
}

/* The end of a TCP connection's error into so_error (once). */
static void collect_error(tern_sockets *ts, tern_sockets_fd *f) {
    if (f->type == SOCK_STREAM) {
        tern_tcp_info info;
        if (!f->listening && tcp_info(ts, f, &info) && info.error != TERN_OK && f->so_error == 0 &&
            !(f->connected == 2)) {
            f->so_error = errno_of(info.error);
            f->connected = 2; /* reported */
        }
        return;
    }
    tern_sock_error e;
    if (tern_udp_take_error(ts->st, f->h, &e) == TERN_OK && f->so_error == 0) {
        /* RFC 1122 4.1.3.3: ICMP errors are passed to the application; Linux reports
         * them on connected UDP sockets as these errno values. */
        if (e.icmp_type == 3) {
            f->so_error = e.icmp_code == 3 ? ECONNREFUSED : EHOSTUNREACH;
        } else {
            f->so_error = EHOSTUNREACH;
        }
    }
}

static int take_error(tern_sockets_fd *f) {
    int e = f->so_error;
    f->so_error = 0;
    return e;
}

/* ---- socket, bind, listen, accept, connect ------------------------------------ */

int tern_socket(tern_sockets *ts, int domain, int type, int protocol) {
    if (domain != AF_INET) {
        return fail(EAFNOSUPPORT);
    }
    bool nonblock = (type & SOCK_NONBLOCK) != 0;
    type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (type != SOCK_STREAM && type != SOCK_DGRAM) {
        return fail(EINVAL);
    }
    if (protocol != 0 && !(type == SOCK_STREAM && protocol == IPPROTO_TCP) &&
        !(type == SOCK_DGRAM && protocol == IPPROTO_UDP)) {
        return fail(EPROTONOSUPPORT);
    }
    int fd = 0;
    while (fd < TERN_SOCKETS_MAX && ts->fd[fd].used) {
        fd++;
    }
    if (fd == TERN_SOCKETS_MAX) {
        return fail(EMFILE);
    }
    tern_sockets_fd *f = &ts->fd[fd];
    memset(f, 0, sizeof *f);
    tern_err err =
        type == SOCK_STREAM ? tern_tcp_open(ts->st, &f->h) : tern_udp_open(ts->st, &f->h);
    if (err != TERN_OK) {
        return fail(errno_of(err));
    }
    f->used = 1;
    f->type = (uint8_t)type;
    f->nonblock = nonblock;
    return fd;
}

int tern_bind(tern_sockets *ts, int fd, const struct sockaddr *sa, socklen_t len) {
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return fail(EBADF);
    }
    tern_addr addr;
    uint16_t port;
    int e;
    if (!read_sockaddr(sa, len, &addr, &port, &e)) {
        return fail(e);
    }
    tern_err err = f->type == SOCK_STREAM ? tern_tcp_bind(ts->st, f->h, &addr, port)
                                          : tern_udp_bind(ts->st, f->h, &addr, port);
    if (err == TERN_ERR_INVALID_ARGUMENT) {
        return fail(EADDRNOTAVAIL); /* not one of the host's addresses */
    }
    return err == TERN_OK ? 0 : fail(errno_of(err));
}

int tern_listen(tern_sockets *ts, int fd, int backlog) {
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return fail(EBADF);
    }
    if (f->type != SOCK_STREAM) {
        return fail(EOPNOTSUPP);
    }
    tern_err err = tern_tcp_listen(ts->st, f->h, backlog < 1 ? 1 : (uint32_t)backlog);
    if (err != TERN_OK) {
        return fail(errno_of(err));
    }
    f->listening = 1;
    ts->drv.wake(ts->drv.ctx);
    return 0;
}

int tern_accept(tern_sockets *ts, int fd, struct sockaddr *sa, socklen_t *len) {
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return fail(EBADF);
    }
    if (f->type != SOCK_STREAM) {
        return fail(EOPNOTSUPP);
    }
    if (!f->listening) {
        return fail(EINVAL);
    }
    int nfd = 0;
    while (nfd < TERN_SOCKETS_MAX && ts->fd[nfd].used) {
        nfd++;
    }
    if (nfd == TERN_SOCKETS_MAX) {
        return fail(EMFILE);
    }
    uint64_t deadline = deadline_of(ts, f->rcvtimeo_ns);
    tern_sock h;
    for (;;) {
        tern_err err = tern_tcp_accept(ts->st, f->h, &h);
        if (err == TERN_OK) {
            break;
        }
        if (err != TERN_ERR_WOULD_BLOCK) {
            return fail(errno_of(err));
        }
        if (f->nonblock || wait_step(ts, deadline) != 0) {
            return f->nonblock ? fail(EAGAIN) : -1;
        }
    }
    tern_sockets_fd *n = &ts->fd[nfd];
    memset(n, 0, sizeof *n);
    n->used = 1;
    n->type = SOCK_STREAM;
    n->h = h;
    n->connected = 1;
    tern_tcp_info info;
    if (tcp_info(ts, n, &info)) {
        write_sockaddr(sa, len, &info.remote, info.remote_port);
    }
    ts->drv.wake(ts->drv.ctx);
    return nfd;
}

int tern_connect(tern_sockets *ts, int fd, const struct sockaddr *sa, socklen_t len) {
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return fail(EBADF);
    }
    if (f->type == SOCK_DGRAM) {
        if (sa != NULL && len >= (socklen_t)sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC) {
            f->connected = 0;
            return 0;
        }
        tern_addr addr;
        uint16_t port;
        int e;
        if (!read_sockaddr(sa, len, &addr, &port, &e)) {
            return fail(e);
        }
        tern_addr la;
        uint16_t lp;
        if (tern_udp_local(ts->st, f->h, &la, &lp) != TERN_OK || lp == 0) {
            tern_addr any = tern_addr_v4(0, 0, 0, 0);
            tern_err err = tern_udp_bind(ts->st, f->h, &any, 0);
            if (err != TERN_OK && err != TERN_ERR_BAD_STATE) {
                return fail(errno_of(err));
            }
        }
        memcpy(&f->peer, sa, sizeof f->peer);
        f->connected = 1;
        return 0;
    }
    if (f->listening) {
        return fail(EINVAL);
    }
    if (f->connected) {
        return fail(EISCONN);
    }
    if (!f->connecting) {
        tern_addr addr;
        uint16_t port;
        int e;
        if (!read_sockaddr(sa, len, &addr, &port, &e)) {
            return fail(e);
        }
        tern_err err = tern_tcp_connect(ts->st, f->h, &addr, port);
        if (err != TERN_OK) {
            return fail(errno_of(err));
        }
        f->connecting = 1;
        ts->drv.wake(ts->drv.ctx);
        if (f->nonblock) {
            return fail(EINPROGRESS);
        }
    } else if (f->nonblock) {
        return fail(EALREADY);
    }
    uint64_t deadline = deadline_of(ts, f->sndtimeo_ns);
    for (;;) {
        tern_tcp_info info;
        if (!tcp_info(ts, f, &info)) {
            return fail(EBADF);
        }
        if (info.error != TERN_OK) {
            f->connecting = 0;
            f->connected = 2; /* the error is reported here, not again by SO_ERROR */
            return fail(errno_of(info.error));
        }
        if (info.state != TERN_TCP_SYN_SENT && info.state != TERN_TCP_SYN_RECEIVED) {
            f->connecting = 0;
            f->connected = 1;
            return 0;
        }
        if (wait_step(ts, deadline) != 0) {
            return errno == EAGAIN ? fail(EINPROGRESS) : -1;
        }
    }
}

/* ---- send and receive --------------------------------------------------------- */

static bool tcp_established_enough(const tern_tcp_info *info) {
    return info->state == TERN_TCP_ESTABLISHED || info->state == TERN_TCP_CLOSE_WAIT;
}

static ssize_t tcp_send(tern_sockets *ts, tern_sockets_fd *f, const uint8_t *buf, size_t len,
                        bool nonblock) {
    if (f->shut_wr) {
        return fail(EPIPE);
    }
    uint64_t deadline = deadline_of(ts, f->sndtimeo_ns);
    size_t done = 0;
    for (;;) {
        tern_tcp_info info;
        if (!tcp_info(ts, f, &info)) {
            return fail(EBADF);
        }
        if (info.error != TERN_OK) {
            f->connected = 2;
            return done ? (ssize_t)done : fail(errno_of(info.error));
        }
        if (tcp_established_enough(&info)) {
            while (done < len) {
                size_t n = 0;
                tern_err err = tern_tcp_send(ts->st, f->h, buf + done, len - done, &n);
                if (err == TERN_ERR_WOULD_BLOCK) {
                    break;
                }
                if (err != TERN_OK) {
                    return done ? (ssize_t)done : fail(errno_of(err));
                }
                done += n;
            }
            ts->drv.wake(ts->drv.ctx);
            if (done == len || (nonblock && done > 0)) {
                return (ssize_t)done;
            }
        } else if (info.state != TERN_TCP_SYN_SENT && info.state != TERN_TCP_SYN_RECEIVED) {
            return done ? (ssize_t)done : fail(info.state == TERN_TCP_CLOSED ? ENOTCONN : EPIPE);
        }
        if (nonblock) {
            return fail(EAGAIN);
        }
        if (wait_step(ts, deadline) != 0) {
            return done ? (ssize_t)done : -1;
        }
    }
}

static ssize_t tcp_recv(tern_sockets *ts, tern_sockets_fd *f, uint8_t *buf, size_t len,
                        bool nonblock) {
    if (f->shut_rd) {
        return 0;
    }
    uint64_t deadline = deadline_of(ts, f->rcvtimeo_ns);
    for (;;) {
        size_t got = 0;
        tern_err err = tern_tcp_recv(ts->st, f->h, buf, len, &got);
        if (err == TERN_OK) {
            ts->drv.wake(ts->drv.ctx); /* the window opened */
            return (ssize_t)got;
        }
        if (err != TERN_ERR_WOULD_BLOCK) {
            return fail(errno_of(err));
        }
        tern_tcp_info info;
        if (tcp_info(ts, f, &info) && info.error != TERN_OK) {
            f->connected = 2;
            return fail(errno_of(info.error));
        }
        if (tcp_info(ts, f, &info) && info.state == TERN_TCP_CLOSED && !f->connecting) {
            return fail(ENOTCONN);
        }
        if (nonblock) {
            return fail(EAGAIN);
        }
        if (wait_step(ts, deadline) != 0) {
            return -1;
        }
    }
}

static ssize_t udp_sendto(tern_sockets *ts, tern_sockets_fd *f, const uint8_t *buf, size_t len,
                          const struct sockaddr *to, socklen_t tolen, bool nonblock) {
    if (f->shut_wr) {
        return fail(EPIPE);
    }
    tern_addr addr = tern_addr_v4(0, 0, 0, 0);
    uint16_t port = 0;
    int e = 0;
    if (to == NULL) {
        if (!f->connected) {
            return fail(EDESTADDRREQ);
        }
        read_sockaddr((const struct sockaddr *)&f->peer, sizeof f->peer, &addr, &port, &e);
    } else if (!read_sockaddr(to, tolen, &addr, &port, &e)) {
        return fail(e);
    }
    uint64_t deadline = deadline_of(ts, f->sndtimeo_ns);
    for (;;) {
        tern_err err = tern_udp_sendto(ts->st, f->h, &addr, port, buf, len);
        if (err == TERN_OK) {
            ts->drv.wake(ts->drv.ctx);
            return (ssize_t)len;
        }
        if (err == TERN_ERR_INVALID_ARGUMENT) {
            return fail(f->broadcast ? EINVAL : EACCES); /* broadcast without SO_BROADCAST */
        }
        if (err != TERN_ERR_WOULD_BLOCK && err != TERN_ERR_NO_BUFFER) {
            return fail(errno_of(err));
        }
        if (nonblock) {
            return fail(EAGAIN);
        }
        if (wait_step(ts, deadline) != 0) {
            return -1;
        }
    }
}

static ssize_t udp_recvfrom(tern_sockets *ts, tern_sockets_fd *f, uint8_t *buf, size_t len,
                            struct sockaddr *from, socklen_t *fromlen, bool nonblock) {
    uint64_t deadline = deadline_of(ts, f->rcvtimeo_ns);
    for (;;) {
        if (f->connected) {
            collect_error(ts, f);
            if (f->so_error) {
                return fail(take_error(f));
            }
        }
        size_t n = 0;
        tern_addr src;
        uint16_t sport;
        tern_err err = tern_udp_recvfrom(ts->st, f->h, buf, len, &n, &src, &sport, NULL, NULL);
        if (err == TERN_OK) {
            write_sockaddr(from, fromlen, &src, sport);
            return (ssize_t)(n < len ? n : len);
        }
        if (err != TERN_ERR_WOULD_BLOCK) {
            return fail(errno_of(err));
        }
        if (f->shut_rd) {
            return 0;
        }
        if (nonblock) {
            return fail(EAGAIN);
        }
        if (wait_step(ts, deadline) != 0) {
            return -1;
        }
    }
}

static bool flags_ok(int flags) {
    return (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) == 0;
}

ssize_t tern_sendto(tern_sockets *ts, int fd, const void *buf, size_t len, int flags,
                    const struct sockaddr *to, socklen_t tolen) {
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return fail(EBADF);
    }
    if (!flags_ok(flags)) {
        return fail(EOPNOTSUPP);
    }
    bool nb = f->nonblock || (flags & MSG_DONTWAIT);
    if (f->type == SOCK_STREAM) {
        if (f->listening || (!f->connected && !f->connecting)) {
            return fail(EPIPE); /* as Linux: sending on a stream that never connected */
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
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return fail(EBADF);
    }
    if (!flags_ok(flags)) {
        return fail(EOPNOTSUPP);
    }
    bool nb = f->nonblock || (flags & MSG_DONTWAIT);
    if (f->type == SOCK_STREAM) {
        if (f->listening || (!f->connected && !f->connecting)) {
            return fail(ENOTCONN);
        }
        ssize_t r = tcp_recv(ts, f, buf, len, nb);
        if (r >= 0 && from != NULL && fromlen != NULL) {
            tern_tcp_info info;
            if (tcp_info(ts, f, &info)) {
                write_sockaddr(from, fromlen, &info.remote, info.remote_port);
            }
        }
        return r;
    }
    return udp_recvfrom(ts, f, buf, len, from, fromlen, nb);
}

ssize_t tern_recv(tern_sockets *ts, int fd, void *buf, size_t len, int flags) {
    return tern_recvfrom(ts, fd, buf, len, flags, NULL, NULL);
}

/* ---- shutdown, close ------------------------------------------------------------- */

int tern_shutdown(tern_sockets *ts, int fd, int how) {
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return fail(EBADF);
    }
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
        return fail(EINVAL);
    }
    if (!f->connected && !f->connecting) {
        return fail(ENOTCONN);
    }
    if (f->type == SOCK_STREAM) {
        /* The stack's `how` is shutdown(2)'s: 0 receiving, 1 sending, 2 both. */
        tern_err err = tern_tcp_shutdown(ts->st, f->h, how);
        if (err != TERN_OK) {
            return fail(errno_of(err));
        }
        ts->drv.wake(ts->drv.ctx);
    }
    if (how != SHUT_WR) {
        f->shut_rd = 1;
    }
    if (how != SHUT_RD) {
        f->shut_wr = 1;
    }
    return 0;
}

int tern_close(tern_sockets *ts, int fd) {
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return fail(EBADF);
    }
    tern_err err;
    if (f->type == SOCK_STREAM) {
        err = f->linger0 ? tern_tcp_abort(ts->st, f->h) : tern_tcp_close(ts->st, f->h);
    } else {
        /* The stack discards what a closed UDP socket still has queued; a kernel has
         * sent a datagram when sendto returns. Let the host send it now (at this
         * instant: time does not move). */
        if (ts->s != NULL) {
            ts->drv.wake(ts->drv.ctx);
            sim_run(ts->s, sim_now(ts->s), 0, NULL);
        }
        err = tern_udp_close(ts->st, f->h);
    }
    memset(f, 0, sizeof *f);
    ts->drv.wake(ts->drv.ctx);
    return err == TERN_OK ? 0 : fail(errno_of(err));
}

/* ---- options ----------------------------------------------------------------------- */

static int int_of(const void *val, socklen_t len, int *out) {
    if (val == NULL || len < (socklen_t)sizeof(int)) {
        return fail(EINVAL);
    }
    memcpy(out, val, sizeof *out);
    return 0;
}

static int tcp_opt(tern_sockets *ts, tern_sockets_fd *f, tern_tcp_option o, int64_t v) {
    if (f->type != SOCK_STREAM) {
        return fail(ENOPROTOOPT);
    }
    tern_err err = tern_tcp_set_option(ts->st, f->h, o, v);
    return err == TERN_OK ? 0 : fail(errno_of(err));
}

int tern_setsockopt(tern_sockets *ts, int fd, int level, int name, const void *val, socklen_t len) {
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return fail(EBADF);
    }
    int v = 0;
    if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
        struct timeval tv;
        if (val == NULL || len < (socklen_t)sizeof tv) {
            return fail(EINVAL);
        }
        memcpy(&tv, val, sizeof tv);
        if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000) {
            return fail(EDOM);
        }
        uint64_t ns = (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
        *(name == SO_RCVTIMEO ? &f->rcvtimeo_ns : &f->sndtimeo_ns) = ns;
        return 0;
    }
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        if (val == NULL || len < (socklen_t)sizeof l) {
            return fail(EINVAL);
        }
        memcpy(&l, val, sizeof l);
        if (l.l_onoff && l.l_linger != 0) {
            return fail(ENOPROTOOPT); /* only the abortive close is there */
        }
        f->linger0 = l.l_onoff != 0;
        return 0;
    }
    if (int_of(val, len, &v) != 0) {
        return -1;
    }
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR:
            f->reuseaddr = v != 0;
            return 0;
        case SO_KEEPALIVE:
            if (tcp_opt(ts, f, TERN_TCP_OPT_KEEPALIVE, v != 0) != 0) {
                return -1;
            }
            f->keepalive = v != 0;
            return 0;
        case SO_RCVBUF:
            return tcp_opt(ts, f, TERN_TCP_OPT_RX_BUFFER, v);
        case SO_SNDBUF:
            return tcp_opt(ts, f, TERN_TCP_OPT_TX_BUFFER, v);
        case SO_BROADCAST:
            if (f->type != SOCK_DGRAM) {
                return fail(ENOPROTOOPT);
            }
            f->broadcast = v != 0;
            return tern_udp_set_broadcast(ts->st, f->h, v != 0) == TERN_OK ? 0 : fail(EINVAL);
        default:
            return fail(ENOPROTOOPT);
        }
    }
    if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY:
            if (tcp_opt(ts, f, TERN_TCP_OPT_NODELAY, v != 0) != 0) {
                return -1;
            }
            f->nodelay = v != 0;
            return 0;
        case TCP_KEEPIDLE:
            return tcp_opt(ts, f, TERN_TCP_OPT_KEEPIDLE_NS, (int64_t)v * 1000000000ll);
        case TCP_KEEPINTVL:
            return tcp_opt(ts, f, TERN_TCP_OPT_KEEPINTVL_NS, (int64_t)v * 1000000000ll);
        case TCP_KEEPCNT:
            return tcp_opt(ts, f, TERN_TCP_OPT_KEEPCNT, v);
        case TCP_USER_TIMEOUT:
            return tcp_opt(ts, f, TERN_TCP_OPT_USER_TIMEOUT_NS, (int64_t)v * 1000000ll);
        case TCP_MAXSEG:
            return tcp_opt(ts, f, TERN_TCP_OPT_MSS, v);
        default:
            return fail(ENOPROTOOPT);
        }
    }
    if (level == IPPROTO_IP && name == IP_TTL) {
        if (v < 1 || v > 255) {
            return fail(EINVAL);
        }
        if (f->type == SOCK_STREAM) {
            return tcp_opt(ts, f, TERN_TCP_OPT_TTL, v);
        }
        return tern_udp_set_ttl(ts->st, f->h, (uint8_t)v) == TERN_OK ? 0 : fail(EINVAL);
    }
    return fail(ENOPROTOOPT);
}

static int put_int(void *val, socklen_t *len, int v) {
    if (val == NULL || len == NULL || *len < (socklen_t)sizeof(int)) {
        return fail(EINVAL);
    }
    memcpy(val, &v, sizeof v);
    *len = sizeof v;
    return 0;
}

int tern_getsockopt(tern_sockets *ts, int fd, int level, int name, void *val, socklen_t *len) {
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return fail(EBADF);
    }
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_ERROR:
            collect_error(ts, f);
            return put_int(val, len, take_error(f));
        case SO_TYPE:
            return put_int(val, len, f->type);
        case SO_REUSEADDR:
            return put_int(val, len, f->reuseaddr);
        case SO_KEEPALIVE:
            return put_int(val, len, f->keepalive);
        case SO_BROADCAST:
            return put_int(val, len, f->broadcast);
        case SO_RCVTIMEO:
        case SO_SNDTIMEO: {
            uint64_t ns = name == SO_RCVTIMEO ? f->rcvtimeo_ns : f->sndtimeo_ns;
            struct timeval tv = {(time_t)(ns / 1000000000ull),
                                 (suseconds_t)(ns % 1000000000ull / 1000ull)};
            if (val == NULL || len == NULL || *len < (socklen_t)sizeof tv) {
                return fail(EINVAL);
            }
            memcpy(val, &tv, sizeof tv);
            *len = sizeof tv;
            return 0;
        }
        default:
            return fail(ENOPROTOOPT);
        }
    }
    if (level == IPPROTO_TCP && name == TCP_NODELAY && f->type == SOCK_STREAM) {
        return put_int(val, len, f->nodelay);
    }
    return fail(ENOPROTOOPT);
}

int tern_getsockname(tern_sockets *ts, int fd, struct sockaddr *sa, socklen_t *len) {
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return fail(EBADF);
    }
    if (f->type == SOCK_STREAM) {
        tern_tcp_info info;
        if (!tcp_info(ts, f, &info)) {
            return fail(EBADF);
        }
        write_sockaddr(sa, len, &info.local, info.local_port);
        return 0;
    }
    tern_addr a = tern_addr_v4(0, 0, 0, 0);
    uint16_t p = 0;
    tern_udp_local(ts->st, f->h, &a, &p);
    write_sockaddr(sa, len, &a, p);
    return 0;
}

int tern_getpeername(tern_sockets *ts, int fd, struct sockaddr *sa, socklen_t *len) {
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return fail(EBADF);
    }
    if (f->type == SOCK_DGRAM) {
        if (!f->connected) {
            return fail(ENOTCONN);
        }
        socklen_t n = *len < (socklen_t)sizeof f->peer ? *len : (socklen_t)sizeof f->peer;
        memcpy(sa, &f->peer, n);
        *len = sizeof f->peer;
        return 0;
    }
    tern_tcp_info info;
    if (!tcp_info(ts, f, &info) || f->listening || info.state == TERN_TCP_CLOSED ||
        info.state == TERN_TCP_SYN_SENT) {
        return fail(ENOTCONN);
    }
    write_sockaddr(sa, len, &info.remote, info.remote_port);
    return 0;
}

/* ---- poll ---------------------------------------------------------------------------- */

static short revents_of(tern_sockets *ts, int fd, short events) {
    tern_sockets_fd *f = get(ts, fd);
    if (f == NULL) {
        return POLLNVAL;
    }
    short r = 0;
    collect_error(ts, f);
    if (f->so_error) {
        r |= POLLERR;
    }
    if (f->type == SOCK_DGRAM) {
        if (tern_udp_pending(ts->st, f->h) > 0 || f->shut_rd) {
            r |= POLLIN;
        }
        r |= POLLOUT;
    } else if (f->listening) {
        if (tern_tcp_accept_pending(ts->st, f->h) > 0) {
            r |= POLLIN;
        }
    } else {
        tern_tcp_info info;
        if (tcp_info(ts, f, &info)) {
            bool fin_in = info.state == TERN_TCP_CLOSE_WAIT || info.state == TERN_TCP_LAST_ACK ||
                          info.state == TERN_TCP_CLOSING || info.state == TERN_TCP_TIME_WAIT;
            bool over = info.state == TERN_TCP_CLOSED && (f->connected || f->connecting);
            if (tern_tcp_readable(ts->st, f->h) > 0 || fin_in || over || f->shut_rd) {
                r |= POLLIN;
            }
            if ((tcp_established_enough(&info) && !f->shut_wr &&
                 tern_tcp_writable(ts->st, f->h) > 0) ||
                over) {
                r |= POLLOUT;
            }
            if (over) {
                r |= POLLHUP;
            }
        }
    }
    return (short)(r & (events | POLLERR | POLLHUP | POLLNVAL));
}

int tern_poll(tern_sockets *ts, struct pollfd *fds, nfds_t nfds, int timeout_ms) {
    uint64_t deadline =
        timeout_ms < 0 ? TERN_NEVER : ts->drv.now(ts->drv.ctx) + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        int n = 0;
        for (nfds_t i = 0; i < nfds; i++) {
            fds[i].revents = fds[i].fd < 0 ? 0 : revents_of(ts, fds[i].fd, fds[i].events);
            n += fds[i].revents != 0;
        }
        if (n > 0 || timeout_ms == 0) {
            return n;
        }
        if (wait_step(ts, deadline) != 0) {
            return errno == EAGAIN ? 0 : -1;
        }
    }
}

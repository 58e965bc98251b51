/*
 * The POSIX-shaped sockets layer (tern_socket.h): shared helpers (errno, descriptors,
 * blocking waits, addresses), and socket, bind, listen, accept, connect, shutdown, close.
 */
#include "tern_socket_private.h"

#include <errno.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------ */

int tsk_errno_of(tern_err e) {
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

int tsk_fail(int e) {
    errno = e;
    return -1;
}

tern_sockets_fd *tsk_get(tern_sockets *ts, int fd) {
    if (fd < 0 || fd >= TERN_SOCKETS_MAX || !ts->fd[fd].used) {
        return NULL;
    }
    return &ts->fd[fd];
}

uint64_t tsk_deadline_of(tern_sockets *ts, uint64_t timeout_ns) {
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
int tsk_wait_step(tern_sockets *ts, uint64_t deadline) {
    ts->drv.wake(ts->drv.ctx);
    if (deadline != TERN_NEVER && ts->drv.now(ts->drv.ctx) >= deadline) {
        return tsk_fail(EAGAIN);
    }
    if (ts->drv.advance(ts->drv.ctx, deadline) != 0) {
        return tsk_fail(EDEADLK);
    }
    return 0;
}

/* ::ffff:a.b.c.d, RFC 4291 §2.5.5.2: "This address type is used to represent the addresses of
 * IPv4 nodes as IPv6 addresses" (80 zero bits, 16 one bits, the IPv4 address): how an AF_INET6
 * socket shows a peer of the other family, as Linux does. */
static void mapped_of(const tern_addr *v4, uint8_t out[16]) {
    memset(out, 0, 16);
    out[10] = 0xff;
    out[11] = 0xff;
    memcpy(out + 12, v4->bytes, 4);
}

bool tsk_read_sockaddr(const tern_sockets_fd *f, const struct sockaddr *sa, socklen_t len,
                       bool datagram_v4_ok, tern_addr *addr, uint16_t *port, int *err) {
    if (sa == NULL || len < (socklen_t)sizeof(sa_family_t)) {
        *err = EINVAL;
        return false;
    }
    bool v4 = f->family == AF_INET || (datagram_v4_ok && sa->sa_family == AF_INET);
    if (v4) {
        if (len < (socklen_t)sizeof(struct sockaddr_in)) {
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
    /* Linux's inet6 calls ask for at least the RFC 2133 size (24 bytes: no scope id). */
    if (len < (socklen_t)offsetof(struct sockaddr_in6, sin6_scope_id)) {
        *err = EINVAL;
        return false;
    }
    struct sockaddr_in6 in6;
    memset(&in6, 0, sizeof in6);
    memcpy(&in6, sa, (size_t)len < sizeof in6 ? (size_t)len : sizeof in6);
    if (in6.sin6_family != AF_INET6) {
        *err = EAFNOSUPPORT;
        return false;
    }
    /* A mapped address stands for its IPv4 address; the stack takes it as such. */
    *addr = tern_addr_v6_from_bytes(in6.sin6_addr.s6_addr);
    *port = ntohs(in6.sin6_port);
    return true;
}

void tsk_write_sockaddr(const tern_sockets_fd *f, struct sockaddr *sa, socklen_t *len,
                        const tern_addr *addr, uint16_t port) {
    if (sa == NULL || len == NULL) {
        return;
    }
    if (f->family == AF_INET6) {
        struct sockaddr_in6 in6;
        memset(&in6, 0, sizeof in6);
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(port);
        if (addr->family == TERN_AF_INET6) {
            memcpy(in6.sin6_addr.s6_addr, addr->bytes, 16);
        } else if (addr->family == TERN_AF_INET) {
            mapped_of(addr, in6.sin6_addr.s6_addr);
        }
        size_t n = *len < sizeof in6 ? *len : sizeof in6;
        memcpy(sa, &in6, n);
        *len = sizeof in6;
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

int tsk_udp_autobind(tern_sockets *ts, tern_sockets_fd *f) {
    tern_addr la;
    uint16_t lp;
    if (tern_udp_local(ts->st, f->h, &la, &lp) == TERN_OK && lp != 0) {
        return 0;
    }
    tern_addr any = tsk_any_of(f);
    tern_err err = tern_udp_bind(ts->st, f->h, &any, 0);
    return err == TERN_OK || err == TERN_ERR_BAD_STATE ? 0 : tsk_errno_of(err);
}

tern_addr tsk_any_of(const tern_sockets_fd *f) {
    /* AF_INET: 0.0.0.0, IPv4 only. AF_INET6: no address, both families (the stack's
     * dual-stack socket, IPV6_V6ONLY off as on Linux by default). */
    if (f->family == AF_INET) {
        return tern_addr_v4(0, 0, 0, 0);
    }
    tern_addr none;
    memset(&none, 0, sizeof none);
    return none;
}

/* The TCP connection's info, or NULL-equivalent false. */
bool tsk_tcp_info(tern_sockets *ts, tern_sockets_fd *f, tern_tcp_info *info) {
    return tern_tcp_get_info(ts->st, f->h, info) == TERN_OK;
}

/* The end of a TCP connection's error into so_error (once). */
void tsk_collect_error(tern_sockets *ts, tern_sockets_fd *f) {
    if (f->type == SOCK_STREAM) {
        tern_tcp_info info;
        if (!f->listening && tsk_tcp_info(ts, f, &info) && info.error != TERN_OK &&
            f->so_error == 0 && !(f->connected == 2)) {
            f->so_error = tsk_errno_of(info.error);
            f->connected = 2; /* reported */
        }
        return;
    }
    tern_sock_error e;
    if (tern_udp_take_error(ts->st, f->h, &e) == TERN_OK && f->so_error == 0) {
        /* RFC 1122 4.1.3.3: ICMP errors are passed to the application; Linux reports
         * them on connected UDP sockets as these errno values. */
        if (e.from.family == TERN_AF_INET6) {
            /* RFC 4443 §3.1's Destination Unreachable codes ("0 - No route to destination",
             * "1 - Communication with destination administratively prohibited", "4 - Port
             * unreachable") as Linux maps them to errno. */
            if (e.icmp_type == 1 && e.icmp_code == 4) {
                f->so_error = ECONNREFUSED; /* port unreachable */
            } else if (e.icmp_type == 1 && e.icmp_code == 0) {
                f->so_error = ENETUNREACH; /* no route to destination */
            } else if (e.icmp_type == 1 && e.icmp_code == 1) {
                f->so_error = EACCES; /* administratively prohibited */
            } else if (e.icmp_type == 2) {
                f->so_error = EMSGSIZE; /* Packet Too Big */
            } else {
                f->so_error = EHOSTUNREACH;
            }
        } else if (e.icmp_type == 3) {
            f->so_error = e.icmp_code == 3 ? ECONNREFUSED : EHOSTUNREACH;
        } else {
            f->so_error = EHOSTUNREACH;
        }
    }
}

int tsk_take_error(tern_sockets_fd *f) {
    int e = f->so_error;
    f->so_error = 0;
    return e;
}

bool tsk_tcp_established_enough(const tern_tcp_info *info) {
    return info->state == TERN_TCP_ESTABLISHED || info->state == TERN_TCP_CLOSE_WAIT;
}

/* ---- socket, bind, listen, accept, connect ------------------------------------ */

int tern_socket(tern_sockets *ts, int domain, int type, int protocol) {
    if (domain != AF_INET && domain != AF_INET6 && domain != AF_PACKET) {
        return tsk_fail(EAFNOSUPPORT);
    }
    bool nonblock = (type & SOCK_NONBLOCK) != 0;
    type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (domain == AF_PACKET) {
        if (type != SOCK_RAW) {
            return tsk_fail(ESOCKTNOSUPPORT); /* SOCK_DGRAM packet sockets are not there */
        }
        int pfd = 0;
        while (pfd < TERN_SOCKETS_MAX && ts->fd[pfd].used) {
            pfd++;
        }
        if (pfd == TERN_SOCKETS_MAX) {
            return tsk_fail(EMFILE);
        }
        tern_sockets_fd *pf = &ts->fd[pfd];
        memset(pf, 0, sizeof *pf);
        int e = tsk_packet_open(ts, pf, protocol);
        if (e != 0) {
            return tsk_fail(e);
        }
        pf->used = 1;
        pf->type = SOCK_RAW;
        pf->nonblock = nonblock;
        pf->family = AF_PACKET;
        return pfd;
    }
    if (type != SOCK_STREAM && type != SOCK_DGRAM) {
        return tsk_fail(EINVAL);
    }
    if (protocol != 0 && !(type == SOCK_STREAM && protocol == IPPROTO_TCP) &&
        !(type == SOCK_DGRAM && protocol == IPPROTO_UDP)) {
        return tsk_fail(EPROTONOSUPPORT);
    }
    int fd = 0;
    while (fd < TERN_SOCKETS_MAX && ts->fd[fd].used) {
        fd++;
    }
    if (fd == TERN_SOCKETS_MAX) {
        return tsk_fail(EMFILE);
    }
    tern_sockets_fd *f = &ts->fd[fd];
    memset(f, 0, sizeof *f);
    tern_err err =
        type == SOCK_STREAM ? tern_tcp_open(ts->st, &f->h) : tern_udp_open(ts->st, &f->h);
    if (err != TERN_OK) {
        return tsk_fail(tsk_errno_of(err));
    }
    f->used = 1;
    f->type = (uint8_t)type;
    f->nonblock = nonblock;
    f->family = (uint8_t)domain;
    return fd;
}

int tern_bind(tern_sockets *ts, int fd, const struct sockaddr *sa, socklen_t len) {
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return tsk_fail(EBADF);
    }
    if (f->family == AF_PACKET) {
        int pe = tsk_packet_bind(ts, f, sa, len);
        return pe == 0 ? 0 : tsk_fail(pe);
    }
    tern_addr addr;
    uint16_t port;
    int e;
    if (!tsk_read_sockaddr(f, sa, len, false, &addr, &port, &e)) {
        return tsk_fail(e);
    }
    tern_err err = f->type == SOCK_STREAM ? tern_tcp_bind(ts->st, f->h, &addr, port)
                                          : tern_udp_bind(ts->st, f->h, &addr, port);
    if (err == TERN_ERR_INVALID_ARGUMENT) {
        return tsk_fail(EADDRNOTAVAIL); /* not one of the host's addresses */
    }
    return err == TERN_OK ? 0 : tsk_fail(tsk_errno_of(err));
}

int tern_listen(tern_sockets *ts, int fd, int backlog) {
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return tsk_fail(EBADF);
    }
    if (f->type != SOCK_STREAM) {
        return tsk_fail(EOPNOTSUPP);
    }
    tern_tcp_info info;
    if (tsk_tcp_info(ts, f, &info) && info.local_port == 0) {
        /* listen(2) on an unbound socket binds an ephemeral port of the socket's family. */
        tern_addr any = tsk_any_of(f);
        tern_err berr = tern_tcp_bind(ts->st, f->h, &any, 0);
        if (berr != TERN_OK && berr != TERN_ERR_BAD_STATE) {
            return tsk_fail(tsk_errno_of(berr));
        }
    }
    tern_err err = tern_tcp_listen(ts->st, f->h, backlog < 1 ? 1 : (uint32_t)backlog);
    if (err != TERN_OK) {
        return tsk_fail(tsk_errno_of(err));
    }
    f->listening = 1;
    ts->drv.wake(ts->drv.ctx);
    return 0;
}

int tern_accept(tern_sockets *ts, int fd, struct sockaddr *sa, socklen_t *len) {
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return tsk_fail(EBADF);
    }
    if (f->type != SOCK_STREAM) {
        return tsk_fail(EOPNOTSUPP);
    }
    if (!f->listening) {
        return tsk_fail(EINVAL);
    }
    int nfd = 0;
    while (nfd < TERN_SOCKETS_MAX && ts->fd[nfd].used) {
        nfd++;
    }
    if (nfd == TERN_SOCKETS_MAX) {
        return tsk_fail(EMFILE);
    }
    uint64_t deadline = tsk_deadline_of(ts, f->rcvtimeo_ns);
    tern_sock h;
    for (;;) {
        tern_err err = tern_tcp_accept(ts->st, f->h, &h);
        if (err == TERN_OK) {
            break;
        }
        if (err != TERN_ERR_WOULD_BLOCK) {
            return tsk_fail(tsk_errno_of(err));
        }
        if (f->nonblock || tsk_wait_step(ts, deadline) != 0) {
            return f->nonblock ? tsk_fail(EAGAIN) : -1;
        }
    }
    tern_sockets_fd *n = &ts->fd[nfd];
    memset(n, 0, sizeof *n);
    n->used = 1;
    n->type = SOCK_STREAM;
    n->h = h;
    n->connected = 1;
    n->family = f->family;
    tern_tcp_info info;
    if (tsk_tcp_info(ts, n, &info)) {
        tsk_write_sockaddr(n, sa, len, &info.remote, info.remote_port);
    }
    ts->drv.wake(ts->drv.ctx);
    return nfd;
}

int tern_connect(tern_sockets *ts, int fd, const struct sockaddr *sa, socklen_t len) {
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return tsk_fail(EBADF);
    }
    if (f->type == SOCK_RAW) {
        return tsk_fail(EOPNOTSUPP);
    }
    if (f->type == SOCK_DGRAM) {
        if (sa != NULL && len >= (socklen_t)sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC) {
            f->connected = 0;
            return 0;
        }
        tern_addr addr;
        uint16_t port;
        int e;
        if (!tsk_read_sockaddr(f, sa, len, true, &addr, &port, &e)) {
            return tsk_fail(e);
        }
        int berr = tsk_udp_autobind(ts, f);
        if (berr != 0) {
            return tsk_fail(berr);
        }
        f->peer = addr;
        f->peer_port = port;
        f->connected = 1;
        return 0;
    }
    if (f->listening) {
        return tsk_fail(EINVAL);
    }
    if (f->connected) {
        return tsk_fail(EISCONN);
    }
    if (!f->connecting) {
        tern_addr addr;
        uint16_t port;
        int e;
        if (!tsk_read_sockaddr(f, sa, len, false, &addr, &port, &e)) {
            return tsk_fail(e);
        }
        tern_tcp_info bi;
        if (f->family == AF_INET && tsk_tcp_info(ts, f, &bi) && bi.local_port == 0) {
            /* An AF_INET socket's implicit bind is IPv4's wildcard. */
            tern_addr any = tsk_any_of(f);
            (void)tern_tcp_bind(ts->st, f->h, &any, 0);
        }
        tern_err err = tern_tcp_connect(ts->st, f->h, &addr, port);
        if (err != TERN_OK) {
            return tsk_fail(tsk_errno_of(err));
        }
        f->connecting = 1;
        ts->drv.wake(ts->drv.ctx);
        if (f->nonblock) {
            return tsk_fail(EINPROGRESS);
        }
    } else if (f->nonblock) {
        return tsk_fail(EALREADY);
    }
    uint64_t deadline = tsk_deadline_of(ts, f->sndtimeo_ns);
    for (;;) {
        tern_tcp_info info;
        if (!tsk_tcp_info(ts, f, &info)) {
            return tsk_fail(EBADF);
        }
        if (info.error != TERN_OK) {
            f->connecting = 0;
            f->connected = 2; /* the error is reported here, not again by SO_ERROR */
            return tsk_fail(tsk_errno_of(info.error));
        }
        if (info.state != TERN_TCP_SYN_SENT && info.state != TERN_TCP_SYN_RECEIVED) {
            f->connecting = 0;
            f->connected = 1;
            return 0;
        }
        if (tsk_wait_step(ts, deadline) != 0) {
            return errno == EAGAIN ? tsk_fail(EINPROGRESS) : -1;
        }
    }
}

/* ---- shutdown, close ------------------------------------------------------------- */

int tern_shutdown(tern_sockets *ts, int fd, int how) {
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return tsk_fail(EBADF);
    }
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
        return tsk_fail(EINVAL);
    }
    if (f->type == SOCK_RAW) {
        return tsk_fail(EOPNOTSUPP);
    }
    if (!f->connected && !f->connecting) {
        return tsk_fail(ENOTCONN);
    }
    if (f->type == SOCK_STREAM) {
        /* The stack's `how` is shutdown(2)'s: 0 receiving, 1 sending, 2 both. */
        tern_err err = tern_tcp_shutdown(ts->st, f->h, how);
        if (err != TERN_OK) {
            return tsk_fail(tsk_errno_of(err));
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
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return tsk_fail(EBADF);
    }
    tern_err err;
    if (f->type == SOCK_RAW) {
        err = tern_packet_close(ts->st, f->h);
    } else if (f->type == SOCK_STREAM) {
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
    return err == TERN_OK ? 0 : tsk_fail(tsk_errno_of(err));
}

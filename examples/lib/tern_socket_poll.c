/*
 * The sockets layer: poll (tern_socket.h).
 */
#include "tern_socket_private.h"

#include <errno.h>

/* ---- poll ---------------------------------------------------------------------------- */

static short revents_of(tern_sockets *ts, int fd, short events) {
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return POLLNVAL;
    }
    short r = 0;
    if (f->type == SOCK_RAW) {
        return (short)((tsk_packet_readable(ts, f) ? POLLIN : 0) | POLLOUT) & (events | POLLERR);
    }
    tsk_collect_error(ts, f);
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
        if (tsk_tcp_info(ts, f, &info)) {
            bool fin_in = info.state == TERN_TCP_CLOSE_WAIT || info.state == TERN_TCP_LAST_ACK ||
                          info.state == TERN_TCP_CLOSING || info.state == TERN_TCP_TIME_WAIT;
            bool over = info.state == TERN_TCP_CLOSED && (f->connected || f->connecting);
            if (tern_tcp_readable(ts->st, f->h) > 0 || fin_in || over || f->shut_rd) {
                r |= POLLIN;
            }
            if ((tsk_tcp_established_enough(&info) && !f->shut_wr &&
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
        if (tsk_wait_step(ts, deadline) != 0) {
            return errno == EAGAIN ? 0 : -1;
        }
    }
}

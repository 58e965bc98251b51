/*
 * The host bridge's host sockets (live mode): the only code of the gateway
 * that does host I/O (DESIGN.md §2: the real-time driver calls it, and it
 * reads no clock: every event is clocked in by the driver's callback, then
 * journalled, then applied by hostbridge.c exactly as a replay applies it).
 * Actions the guest's traffic asks for (connect, sendto, shutdown, close) run
 * from the node; what the host answers is only read here, in
 * hb_io_service.
 */
#define _GNU_SOURCE /* setns, accept4 */
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/hostbridge_internal.h"

#define HB_EVENTS_PER_SERVICE 64

/* A socket in the configured namespace (or this one): socket(2) ties it to the caller's. */
static int ns_socket(hb_node *h, int type, int proto) {
    if (!h->cfg.netns[0]) {
        return socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    }
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = open(h->cfg.netns, O_RDONLY | O_CLOEXEC);
    int fd = -1, e = 0;
    if (self >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0) {
        fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
        e = errno;
        if (setns(self, CLONE_NEWNET) != 0) {
            e = errno;
            if (fd >= 0) {
                close(fd);
            }
            fd = -1;
        }
    } else {
        e = errno;
    }
    if (self >= 0) {
        close(self);
    }
    if (target >= 0) {
        close(target);
    }
    errno = e;
    return fd;
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(addr);
    a.sin_port = htons(port);
    return a;
}

/* The sysctl as the namespace sees it, for the message. */
static void ping_range_text(hb_node *h, char *out, size_t cap) {
    snprintf(out, cap, "?");
    int self = -1, target = -1;
    if (h->cfg.netns[0]) {
        self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        target = open(h->cfg.netns, O_RDONLY | O_CLOEXEC);
        if (self < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0) {
            goto done;
        }
    }
    FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "r");
    if (f) {
        unsigned long lo, hi;
        if (fscanf(f, "%lu %lu", &lo, &hi) == 2) {
            snprintf(out, cap, "%lu %lu", lo, hi);
        }
        fclose(f);
    }
    if (self >= 0) {
        (void)setns(self, CLONE_NEWNET);
    }
done:
    if (self >= 0) {
        close(self);
    }
    if (target >= 0) {
        close(target);
    }
}

tern_err hb_io_check_ping(hb_node *h) {
    int fd = ns_socket(h, SOCK_DGRAM, IPPROTO_ICMP);
    if (fd >= 0) {
        close(fd);
        return TERN_OK;
    }
    int e = errno;
    if (h->cfg.netns[0] && (e == ENOENT || e == EPERM || e == EINVAL || e == EBADF)) {
        return sim_fail(h->s, TERN_ERR_IO, "network namespace %s: %s", h->cfg.netns, strerror(e));
    }
    char range[64];
    ping_range_text(h, range, sizeof range);
    return sim_fail(h->s, TERN_ERR_IO,
                    "ICMP echo needs unprivileged ping sockets, and net.ipv4.ping_group_range "
                    "(\"%s\"%s%s) does not cover this process's group id %u (%s); allow it with "
                    "sysctl -w net.ipv4.ping_group_range=\"%u %u\"",
                    range, h->cfg.netns[0] ? " in " : "", h->cfg.netns, (unsigned)getegid(),
                    strerror(e), (unsigned)getegid(), (unsigned)getegid());
}

void hb_io_tcp_connect(hb_node *h, hb_flow *f, uint32_t addr, uint16_t port) {
    f->fd = ns_socket(h, SOCK_STREAM, 0);
    if (f->fd < 0) {
        h->c.host_errors++;
        f->connect_err = errno ? errno : EIO; /* hb_io_service reports it (a refusal) */
        return;
    }
    struct sockaddr_in a = sin_of(addr, port);
    if (connect(f->fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        /* Refused at once (loopback): the socket polls ready and SO_ERROR is gone; keep errno. */
        f->connect_err = errno ? errno : ECONNREFUSED;
    }
}

void hb_io_udp_send(hb_node *h, hb_flow *f, uint32_t addr, uint16_t port, const uint8_t *d,
                    size_t n, bool df) {
    if (f->fd < 0) {
        if ((f->fd = ns_socket(h, SOCK_DGRAM, 0)) < 0) {
            h->c.host_errors++;
            return;
        }
        /* ip(7) IP_RECVERR: the ICMP errors the host gets about this socket's datagrams are
         * queued with their type, code, offender and quote (read in service_flow), not only
         * left as a bare errno; they go back to the guest as ICMP errors. */
        int one = 1;
        if (setsockopt(f->fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one) != 0) {
            h->c.host_errors++;
        }
    }
    /* The guest's DF bit goes on to the host: a DF datagram over the host's path MTU is refused
     * (EMSGSIZE, queued as a local error by IP_RECVERR) and becomes the guest's "fragmentation
     * needed" (RFC 1191), one without DF is fragmented by the host as any router would. */
    if (f->df != 1 + df) {
        int pmtu = df ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
        if (setsockopt(f->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) == 0) {
            f->df = (uint8_t)(1 + df);
        }
    }
    struct sockaddr_in a = sin_of(addr, port);
    if (sendto(f->fd, d, n, 0, (struct sockaddr *)&a, sizeof a) < 0 && !(df && errno == EMSGSIZE)) {
        h->c.host_errors++;
    }
}

void hb_io_echo_send(hb_node *h, hb_flow *f, uint32_t addr, uint16_t seq, const uint8_t *d,
                     size_t n) {
    if (f->fd < 0 && (f->fd = ns_socket(h, SOCK_DGRAM, IPPROTO_ICMP)) < 0) {
        h->c.host_errors++;
        return;
    }
    uint8_t m[8 + 65536];
    if (n > 65536) {
        return;
    }
    memset(m, 0, 8);
    m[0] = 8; /* the kernel sets the identifier and the checksum */
    m[6] = (uint8_t)(seq >> 8);
    m[7] = (uint8_t)seq;
    memcpy(m + 8, d, n);
    struct sockaddr_in a = sin_of(addr, 0);
    if (sendto(f->fd, m, 8 + n, 0, (struct sockaddr *)&a, sizeof a) < 0) {
        h->c.host_errors++;
    }
}

void hb_io_shutdown(hb_node *h, hb_flow *f) {
    (void)h;
    if (f->fd >= 0) {
        shutdown(f->fd, SHUT_WR);
    }
}

void hb_io_close(hb_node *h, hb_flow *f, bool reset) {
    (void)h;
    if (f->fd < 0) {
        return;
    }
    if (reset) {
        /* SO_LINGER 0: close sends a RST, the guest's reset passed on to the host */
        struct linger l = {1, 0};
        setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(f->fd);
    f->fd = -1;
}

tern_err hb_io_forward(hb_node *h, hb_flow *f, uint8_t proto, uint16_t port) {
    const char *pn = proto == 6 ? "tcp" : "udp";
    f->fd = ns_socket(h, proto == 6 ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (f->fd < 0) {
        return sim_fail(h->s, TERN_ERR_IO, "host forward %s %u: socket: %s", pn, port,
                        strerror(errno));
    }
    int one = 1;
    if (proto == 6) {
        setsockopt(f->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    struct sockaddr_in a = sin_of(0x7f000001u, port);
    socklen_t al = sizeof a;
    if (bind(f->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        (proto == 6 && listen(f->fd, 16) != 0) ||
        getsockname(f->fd, (struct sockaddr *)&a, &al) != 0) {
        int e = errno;
        close(f->fd);
        f->fd = -1;
        return sim_fail(h->s, e == EADDRINUSE ? TERN_ERR_ADDR_IN_USE : TERN_ERR_IO,
                        "host forward %s host port %u: %s", pn, port,
                        e == EADDRINUSE ? "already in use" : strerror(e));
    }
    f->host_port = ntohs(a.sin_port);
    return TERN_OK;
}

static short want(const hb_flow *f) {
    switch (f->state) {
    case HB_TCP_CONNECTING:
        return POLLOUT;
    case HB_TCP_ACCEPTING:
    case HB_TCP_OPEN:
        return (short)((!f->host_eof && f->tg_len < HB_BUF ? POLLIN : 0) |
                       (f->th_len ? POLLOUT : 0));
    case HB_UDP:
    case HB_ECHO:
    case HB_FWD_TCP:
    case HB_FWD_UDP:
        return POLLIN;
    default:
        return 0;
    }
}

uint32_t hb_io_pollfds(hb_node *h, struct pollfd *fds, uint32_t cap) {
    /* The driver is about to wait: the events so far go to the file (the driver's own journal is
     * usually this one; when it is not, this one is flushed here). */
    (void)sim_journal_flush(h->j);
    uint32_t n = 0;
    for (uint32_t i = 0, end = hb_flows_end(h); i < end && n < cap; i++) {
        const hb_flow *f = &h->flows[i];
        short ev = f->fd >= 0 ? want(f) : 0;
        if (ev) {
            fds[n].fd = f->fd;
            fds[n].events = ev;
            fds[n].revents = 0;
            n++;
        }
    }
    return n;
}

/* One event: clocked in, journalled, applied. */
static tern_err emit(hb_node *h, sim_hostbridge_clock_fn clock, void *ctx, sim_journal_rec *r,
                     const uint8_t *data) {
    tern_err err = clock(ctx, h->s);
    if (err != TERN_OK) {
        return err;
    }
    r->node = h->id;
    r->t = h->s->now;
    if ((err = sim_journal_write(h->j, r, data)) != TERN_OK) {
        return err;
    }
    hb_apply(h, r, data);
    return TERN_OK;
}

static uint8_t rxbuf[SIM_JOURNAL_MAX_DATA];

/*
 * The oldest error of a UDP flow's error queue as a SIM_JR_ICMP record (ip(7) IP_RECVERR):
 * the datagram's destination, the ICMP type and code (a local EMSGSIZE is the host's own
 * "fragmentation needed"), the offender and the quoted payload. Returns false when the queue
 * is empty or holds nothing to pass on as ICMP (then the socket's errno is read as before).
 */
static bool read_errqueue(hb_flow *f, sim_journal_rec *r) {
    struct sockaddr_in dst;
    union {
        char buf[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {rxbuf + 4, sizeof rxbuf - 4};
    struct msghdr m = {.msg_name = &dst,
                       .msg_namelen = sizeof dst,
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = ctl.buf,
                       .msg_controllen = sizeof ctl.buf};
    ssize_t k = recvmsg(f->fd, &m, MSG_ERRQUEUE);
    if (k < 0) {
        return false;
    }
    const struct sock_extended_err *ee = NULL;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) {
            ee = (const struct sock_extended_err *)CMSG_DATA(c);
        }
    }
    if (!ee || m.msg_namelen < sizeof dst || dst.sin_family != AF_INET) {
        return false;
    }
    uint32_t offender = htonl(0x7f000001u); /* a local error: the host itself */
    uint8_t type, code;
    if (ee->ee_origin == SO_EE_ORIGIN_ICMP) {
        const struct sockaddr_in *o = (const struct sockaddr_in *)SO_EE_OFFENDER(ee);
        if (o->sin_family == AF_INET) {
            offender = o->sin_addr.s_addr;
        }
        type = ee->ee_type;
        code = ee->ee_code;
    } else if (ee->ee_origin == SO_EE_ORIGIN_LOCAL && ee->ee_errno == EMSGSIZE) {
        type = 3; /* destination unreachable, fragmentation needed (RFC 1191) */
        code = 4;
    } else {
        return false;
    }
    memcpy(rxbuf, &offender, 4);
    r->kind = SIM_JR_ICMP;
    r->addr = ntohl(dst.sin_addr.s_addr);
    r->port = ntohs(dst.sin_port);
    r->arg = (int32_t)((uint32_t)type | (uint32_t)code << 8 | (ee->ee_info & 0xffffu) << 16);
    r->len = 4 + (uint32_t)k;
    return true;
}

/* What one ready flow has: at most one event per call. */
static tern_err service_flow(hb_node *h, hb_flow *f, short rev, sim_hostbridge_clock_fn clock,
                             void *ctx, size_t *n) {
    sim_journal_rec r = {.flow = f->id};
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    ssize_t k;
    switch (f->state) {
    case HB_TCP_CONNECTING: {
        int e = f->connect_err;
        if (!e && !(rev & (POLLOUT | POLLERR | POLLHUP))) {
            return TERN_OK;
        }
        socklen_t el = sizeof e;
        if (!e && getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0) {
            e = errno;
        }
        f->connect_err = 0;
        r.kind = SIM_JR_CONNECT;
        r.arg = e;
        (*n)++;
        return emit(h, clock, ctx, &r, NULL);
    }
    case HB_TCP_ACCEPTING:
    case HB_TCP_OPEN:
        if ((rev & POLLOUT) && f->th_len) {
            k = send(f->fd, f->to_host, f->th_len, MSG_NOSIGNAL);
            if (k > 0) {
                r.kind = SIM_JR_DRAINED;
                r.arg = (int32_t)k;
                (*n)++;
                return emit(h, clock, ctx, &r, NULL);
            }
            if (k < 0 && errno != EAGAIN) {
                r.kind = SIM_JR_RESET;
                r.arg = errno;
                (*n)++;
                return emit(h, clock, ctx, &r, NULL);
            }
        }
        if ((rev & (POLLIN | POLLERR | POLLHUP)) && !f->host_eof && f->tg_len < HB_BUF) {
            k = recv(f->fd, rxbuf, HB_BUF - f->tg_len, 0);
            if (k < 0 && errno == EAGAIN) {
                return TERN_OK;
            }
            r.kind = k > 0 ? SIM_JR_DATA : k == 0 ? SIM_JR_EOF : SIM_JR_RESET;
            r.len = k > 0 ? (uint32_t)k : 0;
            r.arg = k < 0 ? errno : 0;
            (*n)++;
            return emit(h, clock, ctx, &r, rxbuf);
        }
        return TERN_OK;
    case HB_UDP:
    case HB_FWD_UDP:
    case HB_ECHO:
        if (f->state == HB_UDP && (rev & POLLERR) && read_errqueue(f, &r)) {
            (*n)++;
            return emit(h, clock, ctx, &r, rxbuf);
        }
        k = recvfrom(f->fd, rxbuf, sizeof rxbuf, 0, (struct sockaddr *)&a, &al);
        if (k < 0) {
            if (errno == EAGAIN) {
                return TERN_OK;
            }
            r.kind = SIM_JR_ERROR;
            r.arg = errno;
            (*n)++;
            return emit(h, clock, ctx, &r, NULL);
        }
        r.addr = ntohl(a.sin_addr.s_addr);
        if (f->state == HB_ECHO) {
            if (k < 8 || rxbuf[0] != 0) {
                return TERN_OK;
            }
            r.kind = SIM_JR_ECHO;
            r.arg = (int32_t)(rxbuf[6] << 8 | rxbuf[7]);
            r.len = (uint32_t)(k - 8);
            (*n)++;
            return emit(h, clock, ctx, &r, rxbuf + 8);
        }
        r.kind = SIM_JR_DGRAM;
        r.port = ntohs(a.sin_port);
        r.len = (uint32_t)k;
        (*n)++;
        return emit(h, clock, ctx, &r, rxbuf);
    case HB_FWD_TCP: {
        int c = accept4(f->fd, (struct sockaddr *)&a, &al, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) {
            return TERN_OK;
        }
        uint32_t id = h->next_flow;
        r.kind = SIM_JR_ACCEPT;
        r.arg = (int32_t)id;
        r.addr = ntohl(a.sin_addr.s_addr);
        r.port = ntohs(a.sin_port);
        (*n)++;
        tern_err err = emit(h, clock, ctx, &r, NULL);
        hb_flow *nf = hb_flow_by_id(h, id);
        if (nf) {
            nf->fd = c;
        } else {
            close(c);
        }
        return err;
    }
    default:
        return TERN_OK;
    }
}

tern_err hb_io_service(hb_node *h, sim_hostbridge_clock_fn clock, void *ctx, size_t *n) {
    struct pollfd fds[SIM_HB_MAX_FLOWS];
    uint32_t ids[SIM_HB_MAX_FLOWS];
    uint32_t k = 0;
    /* A host connection that could not even get a socket: refused without waiting on anything. */
    for (uint32_t i = 0, end = hb_flows_end(h); i < end; i++) {
        hb_flow *f = &h->flows[i];
        if (f->state == HB_TCP_CONNECTING && f->fd < 0 && f->connect_err) {
            tern_err err = service_flow(h, f, 0, clock, ctx, n);
            if (err != TERN_OK) {
                return err;
            }
        }
    }
    for (uint32_t i = 0, end = hb_flows_end(h); i < end; i++) {
        const hb_flow *f = &h->flows[i];
        short ev = f->fd >= 0 ? want(f) : 0;
        if (ev) {
            fds[k].fd = f->fd;
            fds[k].events = ev;
            fds[k].revents = 0;
            ids[k++] = f->id;
        }
    }
    if (k == 0 || poll(fds, k, 0) <= 0) {
        return TERN_OK;
    }
    for (uint32_t i = 0; i < k && *n < HB_EVENTS_PER_SERVICE; i++) {
        hb_flow *f = hb_flow_by_id(h, ids[i]);
        if (!f || f->fd != fds[i].fd || !fds[i].revents) {
            continue; /* freed or replaced by an event before it */
        }
        tern_err err = service_flow(h, f, fds[i].revents, clock, ctx, n);
        if (err != TERN_OK) {
            return err;
        }
    }
    return TERN_OK;
}

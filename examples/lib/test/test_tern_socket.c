/*
 * The same small client/server program, run against the Tern sockets layer
 * (two Tern hosts on a simulated link, 1 ms each way, virtual time) and
 * against Linux sockets (127.0.0.1 in a network namespace this test creates
 * with unshare(CLONE_NEWNET), so nothing outside it is touched). Each run
 * writes a transcript of every call's result (return value and errno name);
 * the two transcripts must be equal line for line. The Tern run also checks
 * the virtual times of blocking calls.
 *
 * Exit 0: pass; 1: a difference (both transcripts are printed); the Linux
 * half is skipped (exit 77, ctest's SKIP_RETURN_CODE) only when a network
 * namespace cannot be created (no CAP_SYS_ADMIN); the Tern half still runs
 * and its transcript is checked against the expected one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern_socket.h"

/* The sockets interface the program is written against: POSIX calls with an environment. */
typedef struct api {
    void *env;
    int (*socket)(void *, int, int, int);
    int (*bind)(void *, int, const struct sockaddr *, socklen_t);
    int (*listen)(void *, int, int);
    int (*accept)(void *, int, struct sockaddr *, socklen_t *);
    int (*connect)(void *, int, const struct sockaddr *, socklen_t);
    ssize_t (*send)(void *, int, const void *, size_t, int);
    ssize_t (*recv)(void *, int, void *, size_t, int);
    ssize_t (*sendto)(void *, int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*recvfrom)(void *, int, void *, size_t, int, struct sockaddr *, socklen_t *);
    int (*shutdown)(void *, int, int);
    int (*close)(void *, int);
    int (*setsockopt)(void *, int, int, int, const void *, socklen_t);
    int (*getsockopt)(void *, int, int, int, void *, socklen_t *);
    int (*getpeername)(void *, int, struct sockaddr *, socklen_t *);
    int (*getsockname)(void *, int, struct sockaddr *, socklen_t *);
    int (*poll)(void *, struct pollfd *, nfds_t, int);
} api;

/* ---- Linux ------------------------------------------------------------------------ */
static int lx_socket(void *e, int d, int t, int p) {
    (void)e;
    return socket(d, t, p);
}
static int lx_bind(void *e, int fd, const struct sockaddr *a, socklen_t l) {
    (void)e;
    return bind(fd, a, l);
}
static int lx_listen(void *e, int fd, int b) {
    (void)e;
    return listen(fd, b);
}
static int lx_accept(void *e, int fd, struct sockaddr *a, socklen_t *l) {
    (void)e;
    return accept(fd, a, l);
}
static int lx_connect(void *e, int fd, const struct sockaddr *a, socklen_t l) {
    (void)e;
    return connect(fd, a, l);
}
static ssize_t lx_send(void *e, int fd, const void *b, size_t n, int f) {
    (void)e;
    return send(fd, b, n, f);
}
static ssize_t lx_recv(void *e, int fd, void *b, size_t n, int f) {
    (void)e;
    return recv(fd, b, n, f);
}
static ssize_t lx_sendto(void *e, int fd, const void *b, size_t n, int f, const struct sockaddr *a,
                         socklen_t l) {
    (void)e;
    return sendto(fd, b, n, f, a, l);
}
static ssize_t lx_recvfrom(void *e, int fd, void *b, size_t n, int f, struct sockaddr *a,
                           socklen_t *l) {
    (void)e;
    return recvfrom(fd, b, n, f, a, l);
}
static int lx_shutdown(void *e, int fd, int h) {
    (void)e;
    return shutdown(fd, h);
}
static int lx_close(void *e, int fd) {
    (void)e;
    return close(fd);
}
static int lx_setsockopt(void *e, int fd, int lv, int n, const void *v, socklen_t l) {
    (void)e;
    return setsockopt(fd, lv, n, v, l);
}
static int lx_getsockopt(void *e, int fd, int lv, int n, void *v, socklen_t *l) {
    (void)e;
    return getsockopt(fd, lv, n, v, l);
}
static int lx_getpeername(void *e, int fd, struct sockaddr *a, socklen_t *l) {
    (void)e;
    return getpeername(fd, a, l);
}
static int lx_getsockname(void *e, int fd, struct sockaddr *a, socklen_t *l) {
    (void)e;
    return getsockname(fd, a, l);
}
static int lx_poll(void *e, struct pollfd *p, nfds_t n, int t) {
    (void)e;
    return poll(p, n, t);
}
static const api linux_api = {
    NULL,          lx_socket,     lx_bind,        lx_listen,      lx_accept,   lx_connect,
    lx_send,       lx_recv,       lx_sendto,      lx_recvfrom,    lx_shutdown, lx_close,
    lx_setsockopt, lx_getsockopt, lx_getpeername, lx_getsockname, lx_poll};

/* ---- Tern ------------------------------------------------------------------------- */
static int t_socket(void *e, int d, int t, int p) {
    return tern_socket(e, d, t, p);
}
static int t_bind(void *e, int fd, const struct sockaddr *a, socklen_t l) {
    return tern_bind(e, fd, a, l);
}
static int t_listen(void *e, int fd, int b) {
    return tern_listen(e, fd, b);
}
static int t_accept(void *e, int fd, struct sockaddr *a, socklen_t *l) {
    return tern_accept(e, fd, a, l);
}
static int t_connect(void *e, int fd, const struct sockaddr *a, socklen_t l) {
    return tern_connect(e, fd, a, l);
}
static ssize_t t_send(void *e, int fd, const void *b, size_t n, int f) {
    return tern_send(e, fd, b, n, f);
}
static ssize_t t_recv(void *e, int fd, void *b, size_t n, int f) {
    return tern_recv(e, fd, b, n, f);
}
static ssize_t t_sendto(void *e, int fd, const void *b, size_t n, int f, const struct sockaddr *a,
                        socklen_t l) {
    return tern_sendto(e, fd, b, n, f, a, l);
}
static ssize_t t_recvfrom(void *e, int fd, void *b, size_t n, int f, struct sockaddr *a,
                          socklen_t *l) {
    return tern_recvfrom(e, fd, b, n, f, a, l);
}
static int t_shutdown(void *e, int fd, int h) {
    return tern_shutdown(e, fd, h);
}
static int t_close(void *e, int fd) {
    return tern_close(e, fd);
}
static int t_setsockopt(void *e, int fd, int lv, int n, const void *v, socklen_t l) {
    return tern_setsockopt(e, fd, lv, n, v, l);
}
static int t_getsockopt(void *e, int fd, int lv, int n, void *v, socklen_t *l) {
    return tern_getsockopt(e, fd, lv, n, v, l);
}
static int t_getpeername(void *e, int fd, struct sockaddr *a, socklen_t *l) {
    return tern_getpeername(e, fd, a, l);
}
static int t_getsockname(void *e, int fd, struct sockaddr *a, socklen_t *l) {
    return tern_getsockname(e, fd, a, l);
}
static int t_poll(void *e, struct pollfd *p, nfds_t n, int t) {
    return tern_poll(e, p, n, t);
}

/* ---- the program -------------------------------------------------------------------- */

typedef struct transcript {
    char text[12288];
    size_t len;
    /* Tern only: virtual time at marks, to check blocking durations */
    sim *s;
    uint64_t t_connect_start, t_connect_end, t_timeo_start, t_timeo_end;
} transcript;

static void out(transcript *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->text + t->len, sizeof t->text - t->len, fmt, ap);
    va_end(ap);
    if (n > 0 && t->len + (size_t)n < sizeof t->text) {
        t->len += (size_t)n;
    }
}

static const char *ename(int e) {
    switch (e) {
    case EAGAIN:
        return "EAGAIN";
    case EINPROGRESS:
        return "EINPROGRESS";
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case ENOTCONN:
        return "ENOTCONN";
    case EBADF:
        return "EBADF";
    case EPIPE:
        return "EPIPE";
    case EISCONN:
        return "EISCONN";
    case EADDRINUSE:
        return "EADDRINUSE";
    case EDESTADDRREQ:
        return "EDESTADDRREQ";
    case EAFNOSUPPORT:
        return "EAFNOSUPPORT";
    case EINVAL:
        return "EINVAL";
    case ENETUNREACH:
        return "ENETUNREACH";
    case EHOSTUNREACH:
        return "EHOSTUNREACH";
    default:
        return "E?";
    }
}

/* One call's result: "what -> n" or "what -> -1 ENAME". */
static long res(transcript *t, const char *what, long r) {
    if (r < 0) {
        out(t, "%s -> -1 %s\n", what, ename(errno));
    } else {
        out(t, "%s -> %ld\n", what, r);
    }
    return r;
}

/* A descriptor: "what -> fd" (numbers differ between the layer's tables and the kernel's). */
static int fdres(transcript *t, const char *what, int r) {
    if (r < 0) {
        out(t, "%s -> -1 %s\n", what, ename(errno));
    } else {
        out(t, "%s -> fd\n", what);
    }
    return r;
}

/* The socket address of ip (of family fam) and port; *len its size. */
static struct sockaddr_storage sa_of(int fam, const char *ip, uint16_t port, socklen_t *len) {
    struct sockaddr_storage st;
    memset(&st, 0, sizeof st);
    if (fam == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&st;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        inet_pton(AF_INET6, ip, &a->sin6_addr);
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&st;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        inet_pton(AF_INET, ip, &a->sin_addr);
        *len = sizeof *a;
    }
    return st;
}

/* The text of a socket address's IP address (either family). */
static const char *ip_text(const struct sockaddr_storage *st, char *buf, size_t cap) {
    buf[0] = '\0';
    if (st->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)st)->sin6_addr, buf, (socklen_t)cap);
    } else if (st->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)st)->sin_addr, buf, (socklen_t)cap);
    }
    return buf;
}

static unsigned port_of(const struct sockaddr_storage *st) {
    return st->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)st)->sin6_port)
                                     : ntohs(((const struct sockaddr_in *)st)->sin_port);
}

#define SA(x) ((struct sockaddr *)&(x))

static uint64_t vnow(transcript *t) {
    return t->s ? sim_now(t->s) : 0;
}

/*
 * The program: a TCP conversation (blocking and non-blocking, poll, shutdown,
 * a receive timeout, a refused connection), then UDP (sendto/recvfrom, a
 * connected socket getting the ICMP port unreachable as ECONNREFUSED).
 */
static void program(const api *c, const api *sv, int fam, const char *client_ip,
                    const char *server_ip, transcript *t) {
    char buf[256];
    socklen_t srvlen, closedlen, usrvlen, uclosedlen;
    struct sockaddr_storage srv = sa_of(fam, server_ip, 5000, &srvlen);
    int one = 1;

    int ls = fdres(t, "server socket", sv->socket(sv->env, fam, SOCK_STREAM, 0));
    res(t, "setsockopt SO_REUSEADDR",
        sv->setsockopt(sv->env, ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    res(t, "bind", sv->bind(sv->env, ls, SA(srv), srvlen));
    res(t, "listen", sv->listen(sv->env, ls, 4));
    int cs = fdres(t, "client socket", c->socket(c->env, fam, SOCK_STREAM, 0));
    res(t, "send before connect", c->send(c->env, cs, "x", 1, MSG_NOSIGNAL));
    t->t_connect_start = vnow(t);
    res(t, "connect", c->connect(c->env, cs, SA(srv), srvlen));
    t->t_connect_end = vnow(t);
    res(t, "connect again", c->connect(c->env, cs, SA(srv), srvlen));
    res(t, "send", c->send(c->env, cs, "hello, server", 13, 0));

    struct pollfd p = {ls, POLLIN, 0};
    res(t, "poll listener", sv->poll(sv->env, &p, 1, 1000));
    out(t, "revents POLLIN=%d\n", (p.revents & POLLIN) != 0);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int conn = (int)sv->accept(sv->env, ls, SA(peer), &plen);
    out(t, "accept ok=%d\n", conn >= 0);
    char pip[INET6_ADDRSTRLEN];
    out(t, "peer is client=%d family=%d\n", strcmp(ip_text(&peer, pip, sizeof pip), client_ip) == 0,
        peer.ss_family);
    struct sockaddr_storage pn;
    socklen_t pnlen = sizeof pn;
    res(t, "getpeername", sv->getpeername(sv->env, conn, SA(pn), &pnlen));
    out(t, "getpeername port matches=%d\n", port_of(&pn) == port_of(&peer) && plen == pnlen);

    long n = res(t, "recv", sv->recv(sv->env, conn, buf, sizeof buf, 0));
    out(t, "data '%.*s'\n", (int)(n > 0 ? n : 0), buf);
    res(t, "recv MSG_DONTWAIT", sv->recv(sv->env, conn, buf, sizeof buf, MSG_DONTWAIT));
    struct timeval tv = {0, 200000};
    res(t, "setsockopt SO_RCVTIMEO",
        sv->setsockopt(sv->env, conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    t->t_timeo_start = vnow(t);
    res(t, "recv with timeout", sv->recv(sv->env, conn, buf, sizeof buf, 0));
    t->t_timeo_end = vnow(t);
    res(t, "setsockopt TCP_NODELAY",
        sv->setsockopt(sv->env, conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    int v = -1;
    socklen_t vlen = sizeof v;
    res(t, "getsockopt TCP_NODELAY",
        sv->getsockopt(sv->env, conn, IPPROTO_TCP, TCP_NODELAY, &v, &vlen));
    out(t, "nodelay=%d\n", v != 0);
    res(t, "getsockopt SO_TYPE", sv->getsockopt(sv->env, conn, SOL_SOCKET, SO_TYPE, &v, &vlen));
    out(t, "type stream=%d\n", v == SOCK_STREAM);
    res(t, "send reply", sv->send(sv->env, conn, "HELLO, CLIENT", 13, 0));
    res(t, "shutdown SHUT_WR", sv->shutdown(sv->env, conn, SHUT_WR));
    res(t, "send after shutdown", sv->send(sv->env, conn, "x", 1, MSG_NOSIGNAL));
    n = res(t, "client recv", c->recv(c->env, cs, buf, sizeof buf, 0));
    out(t, "data '%.*s'\n", (int)(n > 0 ? n : 0), buf);
    res(t, "client recv at end", c->recv(c->env, cs, buf, sizeof buf, 0));
    p = (struct pollfd){cs, POLLIN | POLLOUT, 0};
    res(t, "poll client", c->poll(c->env, &p, 1, 0));
    out(t, "revents POLLIN=%d\n", (p.revents & POLLIN) != 0);
    res(t, "client close", c->close(c->env, cs));
    res(t, "server recv at end", sv->recv(sv->env, conn, buf, sizeof buf, 0));
    res(t, "server close", sv->close(sv->env, conn));
    res(t, "close again", sv->close(sv->env, conn));

    /* A refused connection: nothing listens on 5001. */
    struct sockaddr_storage closed = sa_of(fam, server_ip, 5001, &closedlen);
    cs = fdres(t, "socket", c->socket(c->env, fam, SOCK_STREAM, 0));
    res(t, "connect to a closed port", c->connect(c->env, cs, SA(closed), closedlen));
    res(t, "close", c->close(c->env, cs));

    /* Non-blocking connect, then poll for POLLOUT and read SO_ERROR. */
    cs = fdres(t, "socket nonblock", c->socket(c->env, fam, SOCK_STREAM | SOCK_NONBLOCK, 0));
    res(t, "connect nonblock", c->connect(c->env, cs, SA(srv), srvlen));
    p = (struct pollfd){cs, POLLOUT, 0};
    res(t, "poll POLLOUT", c->poll(c->env, &p, 1, 1000));
    out(t, "revents POLLOUT=%d POLLERR=%d\n", (p.revents & POLLOUT) != 0,
        (p.revents & POLLERR) != 0);
    v = -1;
    vlen = sizeof v;
    res(t, "getsockopt SO_ERROR", c->getsockopt(c->env, cs, SOL_SOCKET, SO_ERROR, &v, &vlen));
    out(t, "so_error=%d\n", v);
    res(t, "recv nonblock, nothing yet", c->recv(c->env, cs, buf, sizeof buf, 0));
    conn = (int)sv->accept(sv->env, ls, NULL, NULL);
    out(t, "accept ok=%d\n", conn >= 0);
    res(t, "close", sv->close(sv->env, conn));
    res(t, "close", c->close(c->env, cs));
    res(t, "close listener", sv->close(sv->env, ls));

    /* UDP */
    struct sockaddr_storage usrv = sa_of(fam, server_ip, 5002, &usrvlen);
    int us = fdres(t, "udp server socket", sv->socket(sv->env, fam, SOCK_DGRAM, 0));
    res(t, "udp bind", sv->bind(sv->env, us, SA(usrv), usrvlen));
    int uc = fdres(t, "udp client socket", c->socket(c->env, fam, SOCK_DGRAM, 0));
    res(t, "udp send unconnected", c->send(c->env, uc, "x", 1, 0));
    res(t, "sendto", c->sendto(c->env, uc, "ping", 4, 0, SA(usrv), usrvlen));
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    n = res(t, "recvfrom", sv->recvfrom(sv->env, us, buf, sizeof buf, 0, SA(from), &flen));
    out(t, "data '%.*s' from client=%d\n", (int)(n > 0 ? n : 0), buf,
        strcmp(ip_text(&from, pip, sizeof pip), client_ip) == 0);
    res(t, "sendto reply", sv->sendto(sv->env, us, "pong", 4, 0, SA(from), flen));
    flen = sizeof from;
    n = res(t, "recvfrom reply", c->recvfrom(c->env, uc, buf, 2, 0, SA(from), &flen));
    out(t, "data '%.*s' from port %u\n", (int)(n > 0 ? n : 0), buf, port_of(&from));
    res(t, "recvfrom DONTWAIT", c->recvfrom(c->env, uc, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL));
    struct sockaddr_storage uclosed = sa_of(fam, server_ip, 5003, &uclosedlen);
    res(t, "udp connect", c->connect(c->env, uc, SA(uclosed), uclosedlen));
    res(t, "udp send", c->send(c->env, uc, "anyone?", 7, 0));
    tv = (struct timeval){1, 0};
    c->setsockopt(c->env, uc, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    res(t, "udp recv after port unreachable", c->recv(c->env, uc, buf, sizeof buf, 0));
    res(t, "udp close", c->close(c->env, uc));
    /* A datagram sent just before close still leaves. */
    uc = fdres(t, "udp socket", c->socket(c->env, fam, SOCK_DGRAM, 0));
    res(t, "sendto then close", c->sendto(c->env, uc, "bye", 3, 0, SA(usrv), usrvlen));
    res(t, "close at once", c->close(c->env, uc));
    n = res(t, "recvfrom", sv->recvfrom(sv->env, us, buf, sizeof buf, 0, NULL, NULL));
    out(t, "data '%.*s'\n", (int)(n > 0 ? n : 0), buf);
    res(t, "udp close server", sv->close(sv->env, us));
}

/*
 * Dual stack (run after the IPv6 program): an AF_INET6 socket bound to :: serves IPv4 peers too
 * and shows them as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2), the port is then taken for IPv4 as well,
 * and each family's calls refuse the other family's socket address as Linux does.
 */
static void program_dual(const api *c, const api *sv, const char *client4, const char *server4,
                         const char *server6, transcript *t) {
    char buf[64], txt[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN + 8];
    socklen_t l6, l4, ls4, ls6;
    struct sockaddr_storage any6 = sa_of(AF_INET6, "::", 5010, &l6);
    struct sockaddr_storage any4 = sa_of(AF_INET, "0.0.0.0", 5010, &l4);
    struct sockaddr_storage s4 = sa_of(AF_INET, server4, 5010, &ls4);
    struct sockaddr_storage s6 = sa_of(AF_INET6, server6, 5010, &ls6);
    int zero = 0, v = -1;
    socklen_t vlen = sizeof v;

    int ls = fdres(t, "dual listener socket", sv->socket(sv->env, AF_INET6, SOCK_STREAM, 0));
    res(t, "getsockopt IPV6_V6ONLY",
        sv->getsockopt(sv->env, ls, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vlen));
    out(t, "v6only=%d\n", v);
    res(t, "setsockopt IPV6_V6ONLY 0",
        sv->setsockopt(sv->env, ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero));
    res(t, "bind [::]:5010", sv->bind(sv->env, ls, SA(any6), l6));
    res(t, "listen", sv->listen(sv->env, ls, 4));
    struct sockaddr_storage me;
    socklen_t mlen = sizeof me;
    res(t, "getsockname listener", sv->getsockname(sv->env, ls, SA(me), &mlen));
    out(t, "listener %s port %u len %u\n", ip_text(&me, txt, sizeof txt), port_of(&me),
        (unsigned)mlen);
    int other = fdres(t, "ipv4 socket", sv->socket(sv->env, AF_INET, SOCK_STREAM, 0));
    res(t, "bind 0.0.0.0:5010 as well", sv->bind(sv->env, other, SA(any4), l4));
    res(t, "close", sv->close(sv->env, other));

    /* An IPv4 client reaches the IPv6 listener. */
    int cs = fdres(t, "ipv4 client socket", c->socket(c->env, AF_INET, SOCK_STREAM, 0));
    res(t, "connect over IPv4", c->connect(c->env, cs, SA(s4), ls4));
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int conn = sv->accept(sv->env, ls, SA(peer), &plen);
    out(t, "accept ok=%d family=%d len=%u\n", conn >= 0, peer.ss_family, (unsigned)plen);
    snprintf(want, sizeof want, "::ffff:%s", client4);
    out(t, "peer is ::ffff:client=%d\n", strcmp(ip_text(&peer, txt, sizeof txt), want) == 0);
    mlen = sizeof me;
    res(t, "getsockname", sv->getsockname(sv->env, conn, SA(me), &mlen));
    snprintf(want, sizeof want, "::ffff:%s", server4);
    out(t, "local is ::ffff:server=%d port %u\n", strcmp(ip_text(&me, txt, sizeof txt), want) == 0,
        port_of(&me));
    mlen = sizeof me;
    res(t, "client getpeername", c->getpeername(c->env, cs, SA(me), &mlen));
    out(t, "client sees family=%d len=%u\n", me.ss_family, (unsigned)mlen);
    res(t, "send", c->send(c->env, cs, "over v4", 7, 0));
    long n = res(t, "recv", sv->recv(sv->env, conn, buf, sizeof buf, 0));
    out(t, "data '%.*s'\n", (int)(n > 0 ? n : 0), buf);
    res(t, "close", c->close(c->env, cs));
    res(t, "close", sv->close(sv->env, conn));

    /* And an IPv6 client the same listener. */
    cs = fdres(t, "ipv6 client socket", c->socket(c->env, AF_INET6, SOCK_STREAM, 0));
    res(t, "connect over IPv6", c->connect(c->env, cs, SA(s6), ls6));
    plen = sizeof peer;
    conn = sv->accept(sv->env, ls, SA(peer), &plen);
    out(t, "accept ok=%d family=%d mapped=%d\n", conn >= 0, peer.ss_family,
        strncmp(ip_text(&peer, txt, sizeof txt), "::ffff:", 7) == 0);
    res(t, "close", c->close(c->env, cs));
    res(t, "close", sv->close(sv->env, conn));
    res(t, "close listener", sv->close(sv->env, ls));

    /* One family's socket, the other family's address. */
    cs = fdres(t, "ipv4 socket", c->socket(c->env, AF_INET, SOCK_STREAM, 0));
    res(t, "bind a sockaddr_in6", c->bind(c->env, cs, SA(any6), l6));
    res(t, "connect a sockaddr_in6", c->connect(c->env, cs, SA(s6), ls6));
    res(t, "close", c->close(c->env, cs));
    cs = fdres(t, "ipv6 socket", c->socket(c->env, AF_INET6, SOCK_STREAM, 0));
    res(t, "connect a sockaddr_in", c->connect(c->env, cs, SA(s4), ls4));
    res(t, "bind a short sockaddr_in6", c->bind(c->env, cs, SA(any6), 20));
    res(t, "close", c->close(c->env, cs));

    /* UDP: an IPv6 wildcard socket, an IPv4 client; a reply to the mapped address. */
    socklen_t lu6, lu4;
    struct sockaddr_storage u6 = sa_of(AF_INET6, "::", 5011, &lu6);
    struct sockaddr_storage u4 = sa_of(AF_INET, server4, 5011, &lu4);
    int us = fdres(t, "udp6 socket", sv->socket(sv->env, AF_INET6, SOCK_DGRAM, 0));
    res(t, "bind [::]:5011", sv->bind(sv->env, us, SA(u6), lu6));
    int uc = fdres(t, "udp4 client", c->socket(c->env, AF_INET, SOCK_DGRAM, 0));
    res(t, "sendto over IPv4", c->sendto(c->env, uc, "four", 4, 0, SA(u4), lu4));
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    n = res(t, "recvfrom", sv->recvfrom(sv->env, us, buf, sizeof buf, 0, SA(from), &flen));
    snprintf(want, sizeof want, "::ffff:%s", client4);
    out(t, "data '%.*s' family=%d from ::ffff:client=%d\n", (int)(n > 0 ? n : 0), buf,
        from.ss_family, strcmp(ip_text(&from, txt, sizeof txt), want) == 0);
    res(t, "sendto the mapped address", sv->sendto(sv->env, us, "back", 4, 0, SA(from), flen));
    flen = sizeof from;
    n = res(t, "recvfrom", c->recvfrom(c->env, uc, buf, sizeof buf, 0, SA(from), &flen));
    out(t, "data '%.*s' family=%d from server=%d\n", (int)(n > 0 ? n : 0), buf, from.ss_family,
        strcmp(ip_text(&from, txt, sizeof txt), server4) == 0);
    res(t, "close", c->close(c->env, uc));
    /* An AF_INET6 UDP socket takes a struct sockaddr_in in sendto and connect, as Linux does. */
    uc = fdres(t, "udp6 client", c->socket(c->env, AF_INET6, SOCK_DGRAM, 0));
    res(t, "sendto a sockaddr_in", c->sendto(c->env, uc, "in4", 3, 0, SA(u4), lu4));
    flen = sizeof from;
    n = res(t, "recvfrom", sv->recvfrom(sv->env, us, buf, sizeof buf, 0, SA(from), &flen));
    snprintf(want, sizeof want, "::ffff:%s", client4);
    out(t, "data '%.*s' from ::ffff:client=%d\n", (int)(n > 0 ? n : 0), buf,
        strcmp(ip_text(&from, txt, sizeof txt), want) == 0);
    res(t, "connect a sockaddr_in", c->connect(c->env, uc, SA(u4), lu4));
    mlen = sizeof me;
    res(t, "getpeername", c->getpeername(c->env, uc, SA(me), &mlen));
    snprintf(want, sizeof want, "::ffff:%s", server4);
    out(t, "peer is ::ffff:server=%d family=%d\n", strcmp(ip_text(&me, txt, sizeof txt), want) == 0,
        me.ss_family);
    res(t, "close", c->close(c->env, uc));
    res(t, "close", sv->close(sv->env, us));
}

/* ---- the two runs ------------------------------------------------------------------ */

static int tern_run(transcript *t, int fam) {
    sim *s;
    if (sim_create(1, &s) != TERN_OK) {
        return -1;
    }
    sim_node_id h[2];
    for (int i = 0; i < 2; i++) {
        tern_stack_config cfg;
        tern_stack_config_default(&cfg, 100 + (uint64_t)i);
        cfg.niface = 1;
        uint8_t mac[6] = {0x02, 0, 0, 0, 0, (uint8_t)(i + 1)};
        memcpy(cfg.iface[0].mac, mac, 6);
        cfg.iface[0].naddrs = 2;
        cfg.iface[0].addr[0] = tern_addr_v4(10, 0, 0, (uint8_t)(i + 1));
        cfg.iface[0].prefix_len[0] = 24;
        uint8_t v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (uint8_t)(i + 1)};
        cfg.iface[0].addr[1] = tern_addr_v6_from_bytes(v6);
        cfg.iface[0].prefix_len[1] = 64;
        if (sim_host_add(s, i ? "server" : "client", &cfg, &h[i]) != TERN_OK) {
            return -1;
        }
    }
    sim_link_id link;
    if (sim_link_add(s, h[0], 0, h[1], 0, &link) != TERN_OK ||
        sim_link_set_delay(s, link, SIM_DIR_BOTH, 1000000, 0, false) != TERN_OK) {
        return -1;
    }
    static tern_sockets cts, sts;
    if (tern_sockets_init_sim(&cts, s, h[0]) != 0 || tern_sockets_init_sim(&sts, s, h[1]) != 0) {
        return -1;
    }
    api c = {&cts,         t_socket,     t_bind,        t_listen,      t_accept,   t_connect,
             t_send,       t_recv,       t_sendto,      t_recvfrom,    t_shutdown, t_close,
             t_setsockopt, t_getsockopt, t_getpeername, t_getsockname, t_poll};
    api sv = c;
    sv.env = &sts;
    t->s = s;
    if (fam == AF_INET6) {
        program(&c, &sv, AF_INET6, "fd00::1", "fd00::2", t);
        program_dual(&c, &sv, "10.0.0.1", "10.0.0.2", "fd00::2", t);
    } else {
        program(&c, &sv, AF_INET, "10.0.0.1", "10.0.0.2", t);
    }
    t->s = NULL;
    sim_destroy(s);
    return 0;
}

/* In a child: a new network namespace with its loopback up, the program, the transcript to fd. */
static int linux_run(transcript *t, int fam) {
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        if (unshare(CLONE_NEWNET) != 0) {
            _exit(77);
        }
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
        if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
            _exit(78);
        }
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) {
            _exit(78);
        }
        close(fd);
        static transcript lt;
        if (fam == AF_INET6) {
            program(&linux_api, &linux_api, AF_INET6, "::1", "::1", &lt);
            program_dual(&linux_api, &linux_api, "127.0.0.1", "127.0.0.1", "::1", &lt);
        } else {
            program(&linux_api, &linux_api, AF_INET, "127.0.0.1", "127.0.0.1", &lt);
        }
        ssize_t w = write(pipefd[1], lt.text, lt.len);
        _exit(w == (ssize_t)lt.len ? 0 : 79);
    }
    close(pipefd[1]);
    ssize_t r;
    while ((r = read(pipefd[0], t->text + t->len, sizeof t->text - 1 - t->len)) > 0) {
        t->len += (size_t)r;
    }
    close(pipefd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* What both must print (the Linux kernel's behaviour, checked by the Linux run). */
static const char expected[] = "server socket -> fd\n"
                               "setsockopt SO_REUSEADDR -> 0\n"
                               "bind -> 0\n"
                               "listen -> 0\n"
                               "client socket -> fd\n"
                               "send before connect -> -1 EPIPE\n"
                               "connect -> 0\n"
                               "connect again -> -1 EISCONN\n"
                               "send -> 13\n"
                               "poll listener -> 1\n"
                               "revents POLLIN=1\n"
                               "accept ok=1\n"
                               "peer is client=1 family=2\n"
                               "getpeername -> 0\n"
                               "getpeername port matches=1\n"
                               "recv -> 13\n"
                               "data 'hello, server'\n"
                               "recv MSG_DONTWAIT -> -1 EAGAIN\n"
                               "setsockopt SO_RCVTIMEO -> 0\n"
                               "recv with timeout -> -1 EAGAIN\n"
                               "setsockopt TCP_NODELAY -> 0\n"
                               "getsockopt TCP_NODELAY -> 0\n"
                               "nodelay=1\n"
                               "getsockopt SO_TYPE -> 0\n"
                               "type stream=1\n"
                               "send reply -> 13\n"
                               "shutdown SHUT_WR -> 0\n"
                               "send after shutdown -> -1 EPIPE\n"
                               "client recv -> 13\n"
                               "data 'HELLO, CLIENT'\n"
                               "client recv at end -> 0\n"
                               "poll client -> 1\n"
                               "revents POLLIN=1\n"
                               "client close -> 0\n"
                               "server recv at end -> 0\n"
                               "server close -> 0\n"
                               "close again -> -1 EBADF\n"
                               "socket -> fd\n"
                               "connect to a closed port -> -1 ECONNREFUSED\n"
                               "close -> 0\n"
                               "socket nonblock -> fd\n"
                               "connect nonblock -> -1 EINPROGRESS\n"
                               "poll POLLOUT -> 1\n"
                               "revents POLLOUT=1 POLLERR=0\n"
                               "getsockopt SO_ERROR -> 0\n"
                               "so_error=0\n"
                               "recv nonblock, nothing yet -> -1 EAGAIN\n"
                               "accept ok=1\n"
                               "close -> 0\n"
                               "close -> 0\n"
                               "close listener -> 0\n"
                               "udp server socket -> fd\n"
                               "udp bind -> 0\n"
                               "udp client socket -> fd\n"
                               "udp send unconnected -> -1 EDESTADDRREQ\n"
                               "sendto -> 4\n"
                               "recvfrom -> 4\n"
                               "data 'ping' from client=1\n"
                               "sendto reply -> 4\n"
                               "recvfrom reply -> 2\n"
                               "data 'po' from port 5002\n"
                               "recvfrom DONTWAIT -> -1 EAGAIN\n"
                               "udp connect -> 0\n"
                               "udp send -> 7\n"
                               "udp recv after port unreachable -> -1 ECONNREFUSED\n"
                               "udp close -> 0\n"
                               "udp socket -> fd\n"
                               "sendto then close -> 3\n"
                               "close at once -> 0\n"
                               "recvfrom -> 3\n"
                               "data 'bye'\n"
                               "udp close server -> 0\n";

/* What the dual-stack part must print after the IPv6 program (Linux's behaviour). */
static const char expected_dual[] = "dual listener socket -> fd\n"
                                    "getsockopt IPV6_V6ONLY -> 0\n"
                                    "v6only=0\n"
                                    "setsockopt IPV6_V6ONLY 0 -> 0\n"
                                    "bind [::]:5010 -> 0\n"
                                    "listen -> 0\n"
                                    "getsockname listener -> 0\n"
                                    "listener :: port 5010 len 28\n"
                                    "ipv4 socket -> fd\n"
                                    "bind 0.0.0.0:5010 as well -> -1 EADDRINUSE\n"
                                    "close -> 0\n"
                                    "ipv4 client socket -> fd\n"
                                    "connect over IPv4 -> 0\n"
                                    "accept ok=1 family=10 len=28\n"
                                    "peer is ::ffff:client=1\n"
                                    "getsockname -> 0\n"
                                    "local is ::ffff:server=1 port 5010\n"
                                    "client getpeername -> 0\n"
                                    "client sees family=2 len=16\n"
                                    "send -> 7\n"
                                    "recv -> 7\n"
                                    "data 'over v4'\n"
                                    "close -> 0\n"
                                    "close -> 0\n"
                                    "ipv6 client socket -> fd\n"
                                    "connect over IPv6 -> 0\n"
                                    "accept ok=1 family=10 mapped=0\n"
                                    "close -> 0\n"
                                    "close -> 0\n"
                                    "close listener -> 0\n"
                                    "ipv4 socket -> fd\n"
                                    "bind a sockaddr_in6 -> -1 EAFNOSUPPORT\n"
                                    "connect a sockaddr_in6 -> -1 EAFNOSUPPORT\n"
                                    "close -> 0\n"
                                    "ipv6 socket -> fd\n"
                                    "connect a sockaddr_in -> -1 EINVAL\n"
                                    "bind a short sockaddr_in6 -> -1 EINVAL\n"
                                    "close -> 0\n"
                                    "udp6 socket -> fd\n"
                                    "bind [::]:5011 -> 0\n"
                                    "udp4 client -> fd\n"
                                    "sendto over IPv4 -> 4\n"
                                    "recvfrom -> 4\n"
                                    "data 'four' family=10 from ::ffff:client=1\n"
                                    "sendto the mapped address -> 4\n"
                                    "recvfrom -> 4\n"
                                    "data 'back' family=2 from server=1\n"
                                    "close -> 0\n"
                                    "udp6 client -> fd\n"
                                    "sendto a sockaddr_in -> 3\n"
                                    "recvfrom -> 3\n"
                                    "data 'in4' from ::ffff:client=1\n"
                                    "connect a sockaddr_in -> 0\n"
                                    "getpeername -> 0\n"
                                    "peer is ::ffff:server=1 family=10\n"
                                    "close -> 0\n"
                                    "close -> 0\n";

/* One family's run against Tern and Linux: the number of failures; *skipped when Linux's half
 * could not run (no network namespace). */
static int run_family(int fam, bool *skipped) {
    static transcript tern, lx;
    static char want[sizeof expected + sizeof expected_dual + 16];
    memset(&tern, 0, sizeof tern);
    memset(&lx, 0, sizeof lx);
    const char *name = fam == AF_INET6 ? "IPv6" : "IPv4";
    if (fam == AF_INET6) {
        /* The IPv6 program prints what the IPv4 one does, its family AF_INET6 (10); then the
         * dual-stack part. */
        const char *mark = strstr(expected, "family=2\n");
        size_t head = (size_t)(mark - expected);
        snprintf(want, sizeof want, "%.*sfamily=10\n%s%s", (int)head, expected,
                 mark + strlen("family=2\n"), expected_dual);
    } else {
        snprintf(want, sizeof want, "%s", expected);
    }
    int fails = 0;
    if (tern_run(&tern, fam) != 0) {
        fprintf(stderr, "FAIL: the Tern simulation could not be set up\n");
        return 1;
    }
    int lr = linux_run(&lx, fam);
    *skipped = lr == 77;
    if (lr == 0) {
        lx.text[lx.len] = '\0';
        if (strcmp(lx.text, want) != 0) {
            fprintf(stderr, "FAIL: %s: Linux's transcript differs from the expected one:\n%s\n",
                    name, lx.text);
            fails++;
        }
    } else if (lr != 77) {
        fprintf(stderr, "FAIL: %s: the Linux run failed (status %d)\n", name, lr);
        fails++;
    }
    tern.text[tern.len] = '\0';
    if (strcmp(tern.text, want) != 0) {
        fprintf(stderr, "FAIL: %s: Tern's transcript differs from the expected one:\n%s\n", name,
                tern.text);
        fails++;
    }
    /* Virtual time: address resolution (ARP, or Neighbor Discovery's NS and NA: 1 ms each way),
     * then SYN and SYN-ACK: connect returns at 4 ms. */
    if (tern.t_connect_end - tern.t_connect_start != 4000000) {
        fprintf(stderr, "FAIL: %s: blocking connect took %llu ns of virtual time, expected 4 ms\n",
                name, (unsigned long long)(tern.t_connect_end - tern.t_connect_start));
        fails++;
    }
    /* SO_RCVTIMEO of 200 ms ends exactly 200 ms later. */
    if (tern.t_timeo_end - tern.t_timeo_start != 200000000) {
        fprintf(stderr, "FAIL: %s: the 200 ms receive timeout took %llu ns of virtual time\n", name,
                (unsigned long long)(tern.t_timeo_end - tern.t_timeo_start));
        fails++;
    }
    if (fails == 0) {
        printf("%s: %s\n", name,
               *skipped ? "Tern transcript as expected; Linux half skipped: no network namespace"
                        : "Tern and Linux transcripts equal");
    }
    return fails;
}

int main(void) {
    bool skip4 = false, skip6 = false;
    int fails = run_family(AF_INET, &skip4) + run_family(AF_INET6, &skip6);
    if (fails) {
        return 1;
    }
    return skip4 || skip6 ? 77 : 0;
}

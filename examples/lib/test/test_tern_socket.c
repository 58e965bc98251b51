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
static int lx_poll(void *e, struct pollfd *p, nfds_t n, int t) {
    (void)e;
    return poll(p, n, t);
}
static const api linux_api = {NULL,          lx_socket,     lx_bind,        lx_listen,
                              lx_accept,     lx_connect,    lx_send,        lx_recv,
                              lx_sendto,     lx_recvfrom,   lx_shutdown,    lx_close,
                              lx_setsockopt, lx_getsockopt, lx_getpeername, lx_poll};

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
static int t_poll(void *e, struct pollfd *p, nfds_t n, int t) {
    return tern_poll(e, p, n, t);
}

/* ---- the program -------------------------------------------------------------------- */

typedef struct transcript {
    char text[8192];
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

static struct sockaddr_in sin_of(const char *ip, uint16_t port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
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
static void program(const api *c, const api *sv, const char *client_ip, const char *server_ip,
                    transcript *t) {
    char buf[256];
    struct sockaddr_in srv = sin_of(server_ip, 5000);
    int one = 1;

    int ls = fdres(t, "server socket", sv->socket(sv->env, AF_INET, SOCK_STREAM, 0));
    res(t, "setsockopt SO_REUSEADDR",
        sv->setsockopt(sv->env, ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    res(t, "bind", sv->bind(sv->env, ls, SA(srv), sizeof srv));
    res(t, "listen", sv->listen(sv->env, ls, 4));
    int cs = fdres(t, "client socket", c->socket(c->env, AF_INET, SOCK_STREAM, 0));
    res(t, "send before connect", c->send(c->env, cs, "x", 1, MSG_NOSIGNAL));
    t->t_connect_start = vnow(t);
    res(t, "connect", c->connect(c->env, cs, SA(srv), sizeof srv));
    t->t_connect_end = vnow(t);
    res(t, "connect again", c->connect(c->env, cs, SA(srv), sizeof srv));
    res(t, "send", c->send(c->env, cs, "hello, server", 13, 0));

    struct pollfd p = {ls, POLLIN, 0};
    res(t, "poll listener", sv->poll(sv->env, &p, 1, 1000));
    out(t, "revents POLLIN=%d\n", (p.revents & POLLIN) != 0);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int conn = (int)sv->accept(sv->env, ls, SA(peer), &plen);
    out(t, "accept ok=%d\n", conn >= 0);
    char pip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer.sin_addr, pip, sizeof pip);
    out(t, "peer is client=%d family=%d\n", strcmp(pip, client_ip) == 0, peer.sin_family);
    struct sockaddr_in pn;
    socklen_t pnlen = sizeof pn;
    res(t, "getpeername", sv->getpeername(sv->env, conn, SA(pn), &pnlen));
    out(t, "getpeername port matches=%d\n", pn.sin_port == peer.sin_port);

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
    struct sockaddr_in closed = sin_of(server_ip, 5001);
    cs = fdres(t, "socket", c->socket(c->env, AF_INET, SOCK_STREAM, 0));
    res(t, "connect to a closed port", c->connect(c->env, cs, SA(closed), sizeof closed));
    res(t, "close", c->close(c->env, cs));

    /* Non-blocking connect, then poll for POLLOUT and read SO_ERROR. */
    cs = fdres(t, "socket nonblock", c->socket(c->env, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    res(t, "connect nonblock", c->connect(c->env, cs, SA(srv), sizeof srv));
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
    struct sockaddr_in usrv = sin_of(server_ip, 5002);
    int us = fdres(t, "udp server socket", sv->socket(sv->env, AF_INET, SOCK_DGRAM, 0));
    res(t, "udp bind", sv->bind(sv->env, us, SA(usrv), sizeof usrv));
    int uc = fdres(t, "udp client socket", c->socket(c->env, AF_INET, SOCK_DGRAM, 0));
    res(t, "udp send unconnected", c->send(c->env, uc, "x", 1, 0));
    res(t, "sendto", c->sendto(c->env, uc, "ping", 4, 0, SA(usrv), sizeof usrv));
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    n = res(t, "recvfrom", sv->recvfrom(sv->env, us, buf, sizeof buf, 0, SA(from), &flen));
    inet_ntop(AF_INET, &from.sin_addr, pip, sizeof pip);
    out(t, "data '%.*s' from client=%d\n", (int)(n > 0 ? n : 0), buf, strcmp(pip, client_ip) == 0);
    res(t, "sendto reply", sv->sendto(sv->env, us, "pong", 4, 0, SA(from), flen));
    flen = sizeof from;
    n = res(t, "recvfrom reply", c->recvfrom(c->env, uc, buf, 2, 0, SA(from), &flen));
    out(t, "data '%.*s' from port %u\n", (int)(n > 0 ? n : 0), buf, ntohs(from.sin_port));
    res(t, "recvfrom DONTWAIT", c->recvfrom(c->env, uc, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL));
    struct sockaddr_in uclosed = sin_of(server_ip, 5003);
    res(t, "udp connect", c->connect(c->env, uc, SA(uclosed), sizeof uclosed));
    res(t, "udp send", c->send(c->env, uc, "anyone?", 7, 0));
    tv = (struct timeval){1, 0};
    c->setsockopt(c->env, uc, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    res(t, "udp recv after port unreachable", c->recv(c->env, uc, buf, sizeof buf, 0));
    res(t, "udp close", c->close(c->env, uc));
    /* A datagram sent just before close still leaves. */
    uc = fdres(t, "udp socket", c->socket(c->env, AF_INET, SOCK_DGRAM, 0));
    res(t, "sendto then close", c->sendto(c->env, uc, "bye", 3, 0, SA(usrv), sizeof usrv));
    res(t, "close at once", c->close(c->env, uc));
    n = res(t, "recvfrom", sv->recvfrom(sv->env, us, buf, sizeof buf, 0, NULL, NULL));
    out(t, "data '%.*s'\n", (int)(n > 0 ? n : 0), buf);
    res(t, "udp close server", sv->close(sv->env, us));
}

/* ---- the two runs ------------------------------------------------------------------ */

static int tern_run(transcript *t) {
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
        cfg.iface[0].naddrs = 1;
        cfg.iface[0].addr[0] = tern_addr_v4(10, 0, 0, (uint8_t)(i + 1));
        cfg.iface[0].prefix_len[0] = 24;
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
    api c = {&cts,         t_socket,     t_bind,        t_listen,   t_accept,   t_connect,
             t_send,       t_recv,       t_sendto,      t_recvfrom, t_shutdown, t_close,
             t_setsockopt, t_getsockopt, t_getpeername, t_poll};
    api sv = c;
    sv.env = &sts;
    t->s = s;
    program(&c, &sv, "10.0.0.1", "10.0.0.2", t);
    t->s = NULL;
    sim_destroy(s);
    return 0;
}

/* In a child: a new network namespace with its loopback up, the program, the transcript to fd. */
static int linux_run(transcript *t) {
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
        program(&linux_api, &linux_api, "127.0.0.1", "127.0.0.1", &lt);
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

int main(void) {
    static transcript tern, lx;
    int fails = 0;
    if (tern_run(&tern) != 0) {
        fprintf(stderr, "FAIL: the Tern simulation could not be set up\n");
        return 1;
    }
    int lr = linux_run(&lx);
    if (lr == 0) {
        lx.text[lx.len] = '\0';
        if (strcmp(lx.text, expected) != 0) {
            fprintf(stderr, "FAIL: Linux's transcript differs from the expected one:\n%s\n",
                    lx.text);
            fails++;
        }
    } else if (lr != 77) {
        fprintf(stderr, "FAIL: the Linux run failed (status %d)\n", lr);
        fails++;
    }
    tern.text[tern.len] = '\0';
    if (strcmp(tern.text, expected) != 0) {
        fprintf(stderr, "FAIL: Tern's transcript differs from the expected one:\n%s\n", tern.text);
        fails++;
    }
    /* Virtual time: ARP (1 ms each way), then SYN and SYN-ACK: connect returns at 4 ms. */
    if (tern.t_connect_end - tern.t_connect_start != 4000000) {
        fprintf(stderr, "FAIL: blocking connect took %llu ns of virtual time, expected 4 ms\n",
                (unsigned long long)(tern.t_connect_end - tern.t_connect_start));
        fails++;
    }
    /* SO_RCVTIMEO of 200 ms ends exactly 200 ms later. */
    if (tern.t_timeo_end - tern.t_timeo_start != 200000000) {
        fprintf(stderr, "FAIL: the 200 ms receive timeout took %llu ns of virtual time\n",
                (unsigned long long)(tern.t_timeo_end - tern.t_timeo_start));
        fails++;
    }
    if (fails) {
        return 1;
    }
    if (lr == 77) {
        printf("Tern transcript as expected; Linux half skipped: no network namespace\n");
        return 77;
    }
    printf("Tern and Linux transcripts equal (%zu bytes)\n", tern.len);
    return 0;
}

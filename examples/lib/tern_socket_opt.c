/*
 * The sockets layer: setsockopt, getsockopt, getsockname, getpeername (tern_socket.h).
 */
#include "tern_socket_private.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/time.h>

/* ---- options ----------------------------------------------------------------------- */

static int int_of(const void *val, socklen_t len, int *out) {
    if (val == NULL || len < (socklen_t)sizeof(int)) {
        return tsk_fail(EINVAL);
    }
    memcpy(out, val, sizeof *out);
    return 0;
}

static int tcp_opt(tern_sockets *ts, tern_sockets_fd *f, tern_tcp_option o, int64_t v) {
    if (f->type != SOCK_STREAM) {
        return tsk_fail(ENOPROTOOPT);
    }
    tern_err err = tern_tcp_set_option(ts->st, f->h, o, v);
    return err == TERN_OK ? 0 : tsk_fail(tsk_errno_of(err));
}

int tern_setsockopt(tern_sockets *ts, int fd, int level, int name, const void *val, socklen_t len) {
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return tsk_fail(EBADF);
    }
    int v = 0;
    if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
        struct timeval tv;
        if (val == NULL || len < (socklen_t)sizeof tv) {
            return tsk_fail(EINVAL);
        }
        memcpy(&tv, val, sizeof tv);
        if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000) {
            return tsk_fail(EDOM);
        }
        uint64_t ns = (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
        *(name == SO_RCVTIMEO ? &f->rcvtimeo_ns : &f->sndtimeo_ns) = ns;
        return 0;
    }
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        if (val == NULL || len < (socklen_t)sizeof l) {
            return tsk_fail(EINVAL);
        }
        memcpy(&l, val, sizeof l);
        if (l.l_onoff && l.l_linger != 0) {
            return tsk_fail(ENOPROTOOPT); /* only the abortive close is there */
        }
        f->linger0 = l.l_onoff != 0;
        return 0;
    }
    if (f->type == SOCK_RAW) {
        return tsk_fail(ENOPROTOOPT); /* packet sockets: the timeouts only */
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
                return tsk_fail(ENOPROTOOPT);
            }
            f->broadcast = v != 0;
            return tern_udp_set_broadcast(ts->st, f->h, v != 0) == TERN_OK ? 0 : tsk_fail(EINVAL);
        default:
            return tsk_fail(ENOPROTOOPT);
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
            return tsk_fail(ENOPROTOOPT);
        }
    }
    if (level == IPPROTO_IPV6 && f->family != AF_INET6) {
        return tsk_fail(ENOPROTOOPT);
    }
    if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY) {
        /* The stack's wildcard socket serves both families (tern/stack.h "Families"):
         * an IPv6-only wildcard socket is not there, so only "off" is taken. */
        return v == 0 ? 0 : tsk_fail(ENOPROTOOPT);
    }
    if ((level == IPPROTO_IP && name == IP_TTL) ||
        (level == IPPROTO_IPV6 && name == IPV6_UNICAST_HOPS)) {
        if (level == IPPROTO_IPV6 && v == -1) {
            v = 64; /* Linux: -1 is the route's default; the stack's config default is 64 */
        }
        if (v < 1 || v > 255) {
            return tsk_fail(EINVAL);
        }
        if (f->type == SOCK_STREAM) {
            return tcp_opt(ts, f, TERN_TCP_OPT_TTL, v);
        }
        return tern_udp_set_ttl(ts->st, f->h, (uint8_t)v) == TERN_OK ? 0 : tsk_fail(EINVAL);
    }
    return tsk_fail(ENOPROTOOPT);
}

static int put_int(void *val, socklen_t *len, int v) {
    if (val == NULL || len == NULL || *len < (socklen_t)sizeof(int)) {
        return tsk_fail(EINVAL);
    }
    memcpy(val, &v, sizeof v);
    *len = sizeof v;
    return 0;
}

int tern_getsockopt(tern_sockets *ts, int fd, int level, int name, void *val, socklen_t *len) {
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return tsk_fail(EBADF);
    }
    if (f->type == SOCK_RAW && level == SOL_PACKET && name == PACKET_STATISTICS) {
        return tsk_packet_statistics(ts, f, val, len);
    }
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_ERROR:
            tsk_collect_error(ts, f);
            return put_int(val, len, tsk_take_error(f));
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
                return tsk_fail(EINVAL);
            }
            memcpy(val, &tv, sizeof tv);
            *len = sizeof tv;
            return 0;
        }
        default:
            return tsk_fail(ENOPROTOOPT);
        }
    }
    if (level == IPPROTO_TCP && name == TCP_NODELAY && f->type == SOCK_STREAM) {
        return put_int(val, len, f->nodelay);
    }
    if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && f->family == AF_INET6) {
        return put_int(val, len, 0);
    }
    return tsk_fail(ENOPROTOOPT);
}

int tern_getsockname(tern_sockets *ts, int fd, struct sockaddr *sa, socklen_t *len) {
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return tsk_fail(EBADF);
    }
    if (f->type == SOCK_RAW) {
        struct sockaddr_ll ll;
        memset(&ll, 0, sizeof ll);
        ll.sll_family = AF_PACKET;
        ll.sll_protocol = htons(f->pkt_proto);
        ll.sll_ifindex = f->pkt_iface == 0xffffffffu ? 0 : (int)f->pkt_iface + 1;
        if (sa != NULL && len != NULL) {
            memcpy(sa, &ll, *len < sizeof ll ? *len : sizeof ll);
            *len = sizeof ll;
        }
        return 0;
    }
    if (f->type == SOCK_STREAM) {
        tern_tcp_info info;
        if (!tsk_tcp_info(ts, f, &info)) {
            return tsk_fail(EBADF);
        }
        tsk_write_sockaddr(f, sa, len, &info.local, info.local_port);
        return 0;
    }
    tern_addr a = tsk_any_of(f);
    uint16_t p = 0;
    tern_udp_local(ts->st, f->h, &a, &p);
    tsk_write_sockaddr(f, sa, len, &a, p);
    return 0;
}

int tern_getpeername(tern_sockets *ts, int fd, struct sockaddr *sa, socklen_t *len) {
    tern_sockets_fd *f = tsk_get(ts, fd);
    if (f == NULL) {
        return tsk_fail(EBADF);
    }
    if (f->type == SOCK_RAW) {
        return tsk_fail(EOPNOTSUPP);
    }
    if (f->type == SOCK_DGRAM) {
        if (!f->connected) {
            return tsk_fail(ENOTCONN);
        }
        tsk_write_sockaddr(f, sa, len, &f->peer, f->peer_port);
        return 0;
    }
    tern_tcp_info info;
    if (!tsk_tcp_info(ts, f, &info) || f->listening || info.state == TERN_TCP_CLOSED ||
        info.state == TERN_TCP_SYN_SENT) {
        return tsk_fail(ENOTCONN);
    }
    tsk_write_sockaddr(f, sa, len, &info.remote, info.remote_port);
    return 0;
}

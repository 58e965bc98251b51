/*
 * The sockets layer's packet sockets (AF_PACKET, SOCK_RAW; tern_socket.h) over
 * the stack's (tern/packet.h): whole Ethernet frames in and out, as Linux's
 * packet(7) gives them.
 */
#include "tern_socket_private.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <string.h>

#include "tern/introspect.h"
#include "tern/packet.h"

/* Tern interface i is interface index i + 1 (0 means every interface, as in sockaddr_ll). */
static uint32_t iface_of_index(int ifindex) {
    return ifindex == 0 ? TERN_PACKET_ANY_IFACE : (uint32_t)(ifindex - 1);
}

static int reopen(tern_sockets *ts, tern_sockets_fd *f, uint32_t iface, uint16_t proto) {
    tern_sock h;
    tern_iface_info fi;
    if (iface != TERN_PACKET_ANY_IFACE && tern_iface_get(ts->st, iface, &fi) != TERN_OK) {
        return ENODEV; /* checked first: a failed bind leaves the socket as it was */
    }
    /* The old socket goes first, so that rebinding works with every packet socket in use. */
    if (f->used) {
        tern_packet_close(ts->st, f->h);
    }
    /* ETH_P_ALL (3, not an EtherType) is the stack's TERN_PACKET_ALL. */
    uint16_t filter = proto == 0 || proto == ETH_P_ALL ? TERN_PACKET_ALL : proto;
    tern_err err = tern_packet_open(ts->st, iface, filter, &h);
    if (err != TERN_OK) {
        return err == TERN_ERR_INVALID_ARGUMENT ? ENODEV : tsk_errno_of(err);
    }
    f->h = h;
    f->pkt_iface = iface;
    f->pkt_proto = proto;
    /* protocol 0: nothing is received until bind names a protocol (packet(7)). */
    f->pkt_rx_off = proto == 0;
    f->pkt_base_rx = f->pkt_base_drop = 0;
    return 0;
}

int tsk_packet_open(tern_sockets *ts, tern_sockets_fd *f, int protocol) {
    return reopen(ts, f, TERN_PACKET_ANY_IFACE, ntohs((uint16_t)protocol));
}

int tsk_packet_bind(tern_sockets *ts, tern_sockets_fd *f, const struct sockaddr *sa,
                    socklen_t len) {
    struct sockaddr_ll ll;
    if (sa == NULL || len < (socklen_t)sizeof ll) {
        return EINVAL;
    }
    memcpy(&ll, sa, sizeof ll);
    if (ll.sll_family != AF_PACKET) {
        return EINVAL;
    }
    if (ll.sll_ifindex < 0) {
        return ENODEV;
    }
    uint16_t proto = ll.sll_protocol ? ntohs(ll.sll_protocol) : f->pkt_proto;
    return reopen(ts, f, iface_of_index(ll.sll_ifindex), proto);
}

ssize_t tsk_packet_sendto(tern_sockets *ts, tern_sockets_fd *f, const void *buf, size_t len,
                          bool nonblock, const struct sockaddr *to, socklen_t tolen) {
    uint32_t iface = f->pkt_iface;
    if (to != NULL) {
        struct sockaddr_ll ll;
        if (tolen < (socklen_t)sizeof ll) {
            return tsk_fail(EINVAL);
        }
        memcpy(&ll, to, sizeof ll);
        if (ll.sll_family != AF_PACKET) {
            return tsk_fail(EINVAL);
        }
        iface = iface_of_index(ll.sll_ifindex);
    }
    if (iface == TERN_PACKET_ANY_IFACE) {
        return tsk_fail(ENXIO); /* as Linux: no interface to send on */
    }
    uint64_t deadline = tsk_deadline_of(ts, f->sndtimeo_ns);
    for (;;) {
        tern_err err = tern_packet_send(ts->st, f->h, iface, buf, len);
        if (err == TERN_OK) {
            ts->drv.wake(ts->drv.ctx);
            return (ssize_t)len;
        }
        if (err == TERN_ERR_MSG_TOO_LONG) {
            return tsk_fail(EMSGSIZE);
        }
        if (err != TERN_ERR_WOULD_BLOCK) {
            return tsk_fail(iface >= TERN_MAX_IFACES ? ENXIO : EINVAL);
        }
        if (nonblock) {
            return tsk_fail(EAGAIN);
        }
        if (tsk_wait_step(ts, deadline) != 0) {
            return -1;
        }
    }
}

/* The sockaddr_ll of a received frame: its interface, EtherType, type and source MAC. */
static void write_ll(tern_sockets *ts, struct sockaddr *sa, socklen_t *salen,
                     const tern_packet_meta *m, const uint8_t *frame) {
    if (sa == NULL || salen == NULL) {
        return;
    }
    struct sockaddr_ll ll;
    memset(&ll, 0, sizeof ll);
    ll.sll_family = AF_PACKET;
    ll.sll_ifindex = (int)m->iface + 1;
    ll.sll_hatype = ARPHRD_ETHER;
    if (m->caplen >= 14) {
        memcpy(&ll.sll_protocol, frame + 12, 2);
        memcpy(ll.sll_addr, frame + 6, 6);
        ll.sll_halen = 6;
    }
    tern_iface_info fi;
    if (m->dir == TERN_PACKET_OUT) {
        ll.sll_pkttype = PACKET_OUTGOING;
    } else if (m->caplen >= 6 && memcmp(frame, "\xff\xff\xff\xff\xff\xff", 6) == 0) {
        ll.sll_pkttype = PACKET_BROADCAST;
    } else if (m->caplen >= 6 && (frame[0] & 1)) {
        ll.sll_pkttype = PACKET_MULTICAST;
    } else if (m->caplen >= 6 && tern_iface_get(ts->st, m->iface, &fi) == TERN_OK &&
               memcmp(frame, fi.mac, 6) != 0) {
        ll.sll_pkttype = PACKET_OTHERHOST;
    } else {
        ll.sll_pkttype = PACKET_HOST;
    }
    size_t n = *salen < sizeof ll ? *salen : sizeof ll;
    memcpy(sa, &ll, n);
    *salen = sizeof ll;
}

ssize_t tsk_packet_recvfrom(tern_sockets *ts, tern_sockets_fd *f, void *buf, size_t len,
                            bool nonblock, struct sockaddr *from, socklen_t *fromlen) {
    uint64_t deadline = tsk_deadline_of(ts, f->rcvtimeo_ns);
    static uint8_t frame[9022]; /* the largest packet_snaplen */
    for (;;) {
        tern_packet_meta m;
        tern_err err = tern_packet_recv(ts->st, f->h, frame, sizeof frame, &m);
        if (err == TERN_OK && !f->pkt_rx_off) {
            size_t n = m.caplen < len ? m.caplen : len;
            memcpy(buf, frame, n);
            write_ll(ts, from, fromlen, &m, frame);
            return (ssize_t)n; /* a longer frame is cut to len, as Linux does */
        }
        if (err == TERN_OK) {
            continue; /* protocol 0: not received */
        }
        if (err != TERN_ERR_WOULD_BLOCK) {
            return tsk_fail(EBADF);
        }
        if (nonblock) {
            return tsk_fail(EAGAIN);
        }
        if (tsk_wait_step(ts, deadline) != 0) {
            return -1;
        }
    }
}

bool tsk_packet_readable(tern_sockets *ts, tern_sockets_fd *f) {
    if (f->pkt_rx_off) {
        while (tern_packet_recv(ts->st, f->h, NULL, 0, NULL) == TERN_OK) {
        }
        return false;
    }
    return tern_packet_pending(ts->st, f->h) > 0;
}

int tsk_packet_statistics(tern_sockets *ts, tern_sockets_fd *f, void *val, socklen_t *len) {
    struct tpacket_stats st;
    if (val == NULL || len == NULL || *len < (socklen_t)sizeof st) {
        return tsk_fail(EINVAL);
    }
    uint64_t rx = 0, drop = 0;
    tern_packet_stats(ts->st, f->h, &rx, &drop);
    /* As Linux: tp_packets counts the dropped ones too, and reading resets both. */
    st.tp_packets = (unsigned)(rx - f->pkt_base_rx + drop - f->pkt_base_drop);
    st.tp_drops = (unsigned)(drop - f->pkt_base_drop);
    f->pkt_base_rx = rx;
    f->pkt_base_drop = drop;
    memcpy(val, &st, sizeof st);
    *len = sizeof st;
    return 0;
}

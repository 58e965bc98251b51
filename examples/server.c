/*
 * tern-server: a Tern host on a TAP interface, in the spirit of smoltcp's
 * server example. It answers ping; UDP port 6969 answers every datagram with
 * "hello\n"; TCP port 6969 says "hello\n" and closes; 6970 echoes each chunk
 * it receives reversed; 6971 sinks data, with keep-alive (1 s) and a user
 * timeout (2 s); 6972 sources data until the peer closes.
 *
 *   ip tuntap add name tap0 mode tap && ip link set tap0 up
 *   ip addr add 192.168.69.100/24 dev tap0
 *   tern-server --tap tap0 [--pcap server.pcap] [--drop-chance 5]
 *   ping 192.168.69.1; socat stdio udp4-connect:192.168.69.1:6969 <<< "x"
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

#define MAXCONN 64 /* connections served at once; more are reset */
#define MS 1000000ll
/* TCP sockets: the 4 listeners and MAXCONN connections, with room for
 * connections being closed; TIME-WAIT is kept without a socket. */
#define TCP_SOCKETS (4 + MAXCONN + 16)
#define TCP_TIMEWAIT 1024

enum service { HELLO = 0, ECHO_REVERSED, SINK, SOURCE, NSERVICES };
static const uint16_t PORTS[NSERVICES] = {6969, 6970, 6971, 6972};

typedef struct conn {
    bool used;
    enum service kind;
    tern_sock s;
    uint8_t out[65536]; /* ECHO_REVERSED: bytes waiting to be sent */
    size_t out_len;
    uint64_t bytes;
} conn;

typedef struct server {
    ex_net *n;
    tern_sock udp;
    tern_sock listener[NSERVICES];
    conn c[MAXCONN];
    uint8_t buf[65536];
} server;

static void release(server *sv, conn *c) {
    if (tern_tcp_close(sv->n->st, c->s) != TERN_OK) {
        tern_tcp_abort(sv->n->st, c->s);
    }
    c->used = false;
}

static void accept_all(server *sv) {
    tern_stack *st = sv->n->st;
    for (int k = 0; k < NSERVICES; k++) {
        tern_sock s;
        while (tern_tcp_accept(st, sv->listener[k], &s) == TERN_OK) {
            conn *c = NULL;
            for (int i = 0; i < MAXCONN && !c; i++) {
                if (!sv->c[i].used) {
                    c = &sv->c[i];
                }
            }
            if (!c) {
                tern_tcp_abort(st, s);
                continue;
            }
            /* every field of the slot starts afresh (the byte counter of
             * 6972's pattern too: each connection's stream starts at 'a') */
            c->used = true;
            c->kind = (enum service)k;
            c->s = s;
            c->out_len = 0;
            c->bytes = 0;
            if (k == HELLO) {
                size_t sent;
                tern_tcp_send(st, s, (const uint8_t *)"hello\n", 6, &sent);
                release(sv, c);
            } else if (k == SINK) {
                tern_tcp_set_option(st, s, TERN_TCP_OPT_KEEPALIVE, 1);
                tern_tcp_set_option(st, s, TERN_TCP_OPT_KEEPIDLE_NS, 1000 * MS);
                tern_tcp_set_option(st, s, TERN_TCP_OPT_KEEPINTVL_NS, 1000 * MS);
                tern_tcp_set_option(st, s, TERN_TCP_OPT_USER_TIMEOUT_NS, 2000 * MS);
            }
        }
    }
}

static void serve_conn(server *sv, conn *c) {
    tern_stack *st = sv->n->st;
    size_t got, sent;
    for (;;) {
        if (c->kind == ECHO_REVERSED && c->out_len) {
            if (tern_tcp_send(st, c->s, c->out, c->out_len, &sent) != TERN_OK) {
                return;
            }
            memmove(c->out, c->out + sent, c->out_len - sent);
            c->out_len -= sent;
            if (c->out_len) {
                return;
            }
        }
        if (c->kind == SOURCE) {
            /* 'a'..'z' repeated, continuing from the last byte the stack took
             * (a send may take part of the buffer: the next one starts there) */
            for (;;) {
                for (size_t i = 0; i < sizeof sv->buf; i++) {
                    sv->buf[i] = (uint8_t)('a' + (c->bytes + i) % 26);
                }
                if (tern_tcp_send(st, c->s, sv->buf, sizeof sv->buf, &sent) != TERN_OK ||
                    sent == 0) {
                    break;
                }
                c->bytes += sent;
            }
        }
        size_t cap = c->kind == ECHO_REVERSED ? sizeof c->out : sizeof sv->buf;
        tern_err err =
            tern_tcp_recv(st, c->s, c->kind == ECHO_REVERSED ? c->out : sv->buf, cap, &got);
        if (err == TERN_ERR_WOULD_BLOCK) {
            return;
        }
        if (err != TERN_OK || got == 0) { /* end of stream, reset or timeout */
            release(sv, c);
            return;
        }
        if (c->kind == ECHO_REVERSED) {
            for (size_t i = 0; i < got / 2; i++) {
                uint8_t t = c->out[i];
                c->out[i] = c->out[got - 1 - i];
                c->out[got - 1 - i] = t;
            }
            c->out_len = got;
        }
        c->bytes += got;
    }
}

static bool step(void *ctx, sim *s, uint64_t now) {
    (void)s;
    (void)now;
    server *sv = ctx;
    tern_stack *st = sv->n->st;
    size_t len;
    tern_addr src;
    uint16_t sport;
    while (tern_udp_recvfrom(st, sv->udp, sv->buf, sizeof sv->buf, &len, &src, &sport, NULL,
                             NULL) == TERN_OK) {
        tern_udp_sendto(st, sv->udp, &src, sport, (const uint8_t *)"hello\n", 6);
    }
    accept_all(sv);
    for (int i = 0; i < MAXCONN; i++) {
        if (sv->c[i].used) {
            serve_conn(sv, &sv->c[i]);
        }
    }
    ex_wake(sv->n);
    return false;
}

int main(int argc, char **argv) {
    const ex_program prog = {
        "A Tern host on a TAP interface, in the spirit of smoltcp's server example: it\n"
        "answers ping; UDP 6969 answers each datagram with \"hello\\n\"; TCP 6969 says\n"
        "\"hello\\n\" and closes; 6970 echoes each chunk reversed; 6971 sinks data with\n"
        "keep-alive every 1 s and a user timeout of 2 s; 6972 sends 'a'..'z' repeated\n"
        "until the peer closes.",
        "",
        0,
        0,
        NULL,
        0,
        "limits: 64 TCP connections at once (more are reset), 84 TCP sockets, 1024\n"
        "TIME-WAIT entries (kept without a socket; the oldest is recycled when full),\n"
        "a listen backlog of 8 per port (SYN cookies beyond it)."};
    ex_options o;
    ex_parse(&argc, argv, &o, &prog);
    o.tcp_sockets = TCP_SOCKETS;
    o.tcp_timewait = TCP_TIMEWAIT;
    static server sv;
    ex_net n;
    ex_setup(&n, &o);
    sv.n = &n;
    /* No address: IPv4 and IPv6 on one socket each (tern/stack.h "Families"). */
    if (tern_udp_open(n.st, &sv.udp) != TERN_OK ||
        tern_udp_bind(n.st, sv.udp, NULL, 6969) != TERN_OK) {
        ex_die("UDP port 6969: cannot bind");
    }
    for (int k = 0; k < NSERVICES; k++) {
        if (tern_tcp_open(n.st, &sv.listener[k]) != TERN_OK ||
            tern_tcp_bind(n.st, sv.listener[k], NULL, PORTS[k]) != TERN_OK ||
            tern_tcp_listen(n.st, sv.listener[k], 8) != TERN_OK) {
            ex_die("TCP port %u: cannot listen", PORTS[k]);
        }
    }
    char ip[TERN_ADDR_STRLEN];
    tern_addr_format(&o.addr, ip, sizeof ip);
    fprintf(stderr, "tern-server: %s on %s; ping, UDP 6969, TCP 6969-6972\n", ip, o.tap);
    ex_run(&n, SIM_NEVER, step, &sv);
    ex_teardown(&n);
    return 0;
}

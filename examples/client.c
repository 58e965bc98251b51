/*
 * tern-client: a Tern host on a TAP interface connects to ADDRESS PORT over
 * TCP, sends what it reads from standard input, and prints what it receives,
 * until the peer closes (smoltcp's client example).
 *   tern-client [options] ADDRESS PORT < request
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

typedef struct client {
    ex_net *n;
    tern_sock s;
    uint8_t in[65536];
    size_t in_len, in_off;
    bool stdin_eof, shut, done;
    int status;
} client;

static bool step(void *ctx, sim *s, uint64_t now) {
    (void)s;
    (void)now;
    client *c = ctx;
    tern_stack *st = c->n->st;
    tern_tcp_info info;
    if (tern_tcp_get_info(st, c->s, &info) == TERN_OK && info.error != TERN_OK) {
        fprintf(stderr, "tern-client: %s\n", tern_strerror(info.error));
        c->status = 1;
        return true;
    }
    if (!c->stdin_eof && c->in_off == c->in_len) {
        ssize_t r = read(0, c->in, sizeof c->in);
        if (r > 0) {
            c->in_len = (size_t)r;
            c->in_off = 0;
        } else if (r == 0) {
            c->stdin_eof = true;
        }
    }
    if (c->in_off < c->in_len) {
        size_t sent;
        if (tern_tcp_send(st, c->s, c->in + c->in_off, c->in_len - c->in_off, &sent) == TERN_OK) {
            c->in_off += sent;
        }
    }
    if (c->stdin_eof && c->in_off == c->in_len && !c->shut) {
        tern_tcp_shutdown(st, c->s, 1);
        c->shut = true;
    }
    uint8_t buf[65536];
    size_t got;
    tern_err err;
    while ((err = tern_tcp_recv(st, c->s, buf, sizeof buf, &got)) == TERN_OK && got > 0) {
        fwrite(buf, 1, got, stdout);
    }
    fflush(stdout);
    ex_wake(c->n);
    if (err == TERN_OK && got == 0) {
        return true; /* the peer closed */
    }
    if (err != TERN_ERR_WOULD_BLOCK && err != TERN_OK) {
        fprintf(stderr, "tern-client: %s\n", tern_strerror(err));
        c->status = 1;
        return true;
    }
    return false;
}

int main(int argc, char **argv) {
    const ex_program prog = {
        "Connect from a Tern host on a TAP interface to ADDRESS:PORT over TCP, send\n"
        "standard input (then shut down sending) and print what comes back until the\n"
        "peer closes, like nc(1). Exits 0 when the peer closed, 1 on an error.",
        "ADDRESS PORT",
        2,
        2,
        NULL,
        0,
        NULL};
    ex_options o;
    ex_parse(&argc, argv, &o, &prog);
    if (o.shell) {
        ex_usage_error("--shell: tern-client reads its data from standard input");
    }
    tern_addr dst;
    if (!ex_addr(argv[1], &dst)) {
        ex_usage_error("ADDRESS '%s': not an IPv4 (A.B.C.D) or IPv6 address", argv[1]);
    }
    uint16_t port = ex_port(argv[2], "PORT");
    static client c;
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    ex_net n;
    ex_setup(&n, &o);
    c.n = &n;
    if (tern_tcp_open(n.st, &c.s) != TERN_OK ||
        tern_tcp_connect(n.st, c.s, &dst, port) != TERN_OK) {
        ex_die("cannot connect");
    }
    ex_wake(&n);
    bool done = ex_run(&n, SIM_NEVER, step, &c);
    tern_tcp_close(n.st, c.s);
    /* Let the FIN go out. */
    ex_wake(&n);
    ex_run(&n, 100000000ull, NULL, NULL);
    ex_teardown(&n);
    return done ? c.status : 1;
}

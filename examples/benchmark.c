/*
 * tern-benchmark: TCP throughput between a Tern host and the Linux kernel
 * over TAP, the measurement of smoltcp's benchmark example.
 *   tern-benchmark [options] [--amount BYTES] reader|writer
 * reader: a kernel socket connects to the Tern host's port 1234 and reads
 *         --amount bytes that the Tern host writes;
 * writer: a kernel socket connects to port 1235 and writes them; the Tern
 *         host reads.
 * The kernel side runs in a child process in the caller's network namespace
 * (where the TAP interface is, addressed and up). Prints
 * "throughput: X Gbit/s" as the kernel side measured it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

typedef struct bench {
    ex_net *n;
    bool reader;
    tern_sock listener, s;
    bool have;
    uint64_t amount, moved;
    pid_t child;
    int status;
    bool child_done;
    uint8_t buf[262144];
} bench;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The kernel side: connect, move the bytes, print the rate. */
static int kernel_side(const char *ip, uint16_t port, bool reader, uint64_t amount) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, ip, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("tern-benchmark: kernel side: connect");
        return 1;
    }
    static char buf[1 << 20];
    memset(buf, 'x', sizeof buf);
    uint64_t done = 0;
    double t0 = now_s();
    while (done < amount) {
        size_t want = amount - done < sizeof buf ? (size_t)(amount - done) : sizeof buf;
        ssize_t r = reader ? recv(fd, buf, want, 0) : send(fd, buf, want, 0);
        if (r <= 0) {
            perror("tern-benchmark: kernel side");
            return 1;
        }
        done += (uint64_t)r;
    }
    double dt = now_s() - t0;
    printf("throughput: %.3f Gbit/s (%llu bytes in %.3f s)\n", (double)done * 8 / dt / 1e9,
           (unsigned long long)done, dt);
    fflush(stdout);
    close(fd);
    return 0;
}

static bool step(void *ctx, sim *s, uint64_t now) {
    (void)s;
    (void)now;
    bench *b = ctx;
    tern_stack *st = b->n->st;
    if (!b->have && tern_tcp_accept(st, b->listener, &b->s) == TERN_OK) {
        b->have = true;
    }
    if (b->have) {
        size_t n;
        if (b->reader) {
            while (b->moved < b->amount) {
                size_t want =
                    b->amount - b->moved < sizeof b->buf ? b->amount - b->moved : sizeof b->buf;
                if (tern_tcp_send(st, b->s, b->buf, want, &n) != TERN_OK) {
                    break;
                }
                b->moved += n;
            }
        } else {
            while (tern_tcp_recv(st, b->s, b->buf, sizeof b->buf, &n) == TERN_OK && n > 0) {
                b->moved += n;
            }
        }
        ex_wake(b->n);
    }
    if (waitpid(b->child, &b->status, WNOHANG) == b->child) {
        b->child_done = true;
    }
    return b->child_done;
}

int main(int argc, char **argv) {
    int64_t amount = 1000000000;
    const ex_opt opts[] = {
        {"--amount", "BYTES", "bytes to transfer, 1..10^15 (default 1000000000)", EX_OPT_INT, 1,
         1000000000000000ll, &amount},
    };
    const ex_program prog = {
        "TCP throughput between a Tern host and the Linux kernel over TAP, as smoltcp's\n"
        "benchmark measures it. reader: a kernel socket connects to port 1234 and reads\n"
        "what the Tern host writes; writer: it connects to port 1235 and writes. The\n"
        "kernel side runs in a child process in this network namespace (where the TAP\n"
        "interface is, addressed and up). Prints \"throughput: X Gbit/s\".",
        "reader|writer",
        1,
        1,
        opts,
        sizeof opts / sizeof opts[0],
        "The default --buffer here is 4194304."};
    ex_options o;
    ex_parse(&argc, argv, &o, &prog);
    static bench b;
    b.amount = (uint64_t)amount;
    const char *mode = argv[1];
    if (strcmp(mode, "reader") && strcmp(mode, "writer")) {
        ex_usage_error("mode '%s': must be reader or writer", mode);
    }
    b.reader = !strcmp(mode, "reader");
    if (o.buffer == 256 * 1024) {
        o.buffer = 4 * 1024 * 1024;
    }
    ex_net n;
    ex_setup(&n, &o);
    b.n = &n;
    memset(b.buf, 'y', sizeof b.buf);
    uint16_t port = b.reader ? 1234 : 1235;
    tern_addr any = tern_addr_v4(0, 0, 0, 0);
    if (tern_tcp_open(n.st, &b.listener) != TERN_OK ||
        tern_tcp_bind(n.st, b.listener, &any, port) != TERN_OK ||
        tern_tcp_listen(n.st, b.listener, 1) != TERN_OK) {
        ex_die("TCP port %u: cannot listen", port);
    }
    char ip[TERN_ADDR_STRLEN];
    tern_addr_format(&o.addr, ip, sizeof ip);
    fflush(stdout);
    b.child = fork();
    if (b.child == 0) {
        _exit(kernel_side(ip, port, b.reader, b.amount));
    }
    bool done = ex_run(&n, 120000000000ull, step, &b);
    if (!done) {
        kill(b.child, SIGKILL);
        waitpid(b.child, NULL, 0);
    }
    if (b.have) {
        tern_tcp_close(n.st, b.s);
        ex_wake(&n);
        ex_run(&n, 50000000ull, NULL, NULL);
    }
    ex_teardown(&n);
    return done && WIFEXITED(b.status) && WEXITSTATUS(b.status) == 0 ? 0 : 1;
}

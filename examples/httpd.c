/*
 * tern-httpd: a minimal HTTP/1.1 server (GET and HEAD, keep-alive) on a Tern
 * host on a TAP interface, serving the files of a directory.
 *   tern-httpd [options] [--port 80] [--root DIR]
 *   curl http://192.168.69.1/index.html
 * The path is percent-decoded (RFC 3986 §2.1); a path with ".." or a NUL,
 * or whose file resolves (symbolic links followed) outside the root, is
 * refused with 403; a directory serves its index.html.
 */
#define _GNU_SOURCE /* strcasestr */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common.h"

#define MAXCONN 64 /* connections served at once; more are reset */
#define TCP_SOCKETS (1 + MAXCONN + 16)
#define TCP_TIMEWAIT 1024

typedef struct hconn {
    bool used;
    tern_sock s;
    char req[8192];
    size_t req_len;
    char out[65536];
    size_t out_len, out_off;
    FILE *file;
    bool responding;
    bool close_after;
} hconn;

typedef struct httpd {
    ex_net *n;
    const char *root;
    char root_real[4096]; /* realpath of root: nothing outside it is served */
    tern_sock listener;
    hconn c[MAXCONN];
    uint64_t served;
} httpd;

static void finish(httpd *h, hconn *c) {
    if (c->file) {
        fclose(c->file);
    }
    /* The sender's loss-recovery counters, for runs over a faulty link. */
    tern_tcp_info i;
    if (tern_tcp_get_info(h->n->st, c->s, &i) == TERN_OK) {
        fprintf(stderr,
                "tern-httpd: connection done: %" PRIu64 " octets acknowledged, %" PRIu64
                " segments retransmitted (%" PRIu64 " fast retransmits, %" PRIu64
                " timeouts of which %" PRIu64 " spurious, %" PRIu64
                " tail loss probes), SRTT %.1f ms, RTO %.0f ms\n",
                (uint64_t)i.bytes_acked, (uint64_t)i.total_retransmits,
                (uint64_t)i.fast_retransmits, (uint64_t)i.rto_timeouts, (uint64_t)i.spurious_rtos,
                (uint64_t)i.tlp_probes, (double)i.srtt_ns / 1e6, (double)i.rto_ns / 1e6);
    }
    if (tern_tcp_close(h->n->st, c->s) != TERN_OK) {
        tern_tcp_abort(h->n->st, c->s);
    }
    c->used = false;
}

static int hexval(char ch) {
    return ch >= '0' && ch <= '9'   ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                    : -1;
}

/* RFC 3986 §2.1 percent-decoding in place; false for a malformed escape or %00. */
static bool percent_decode(char *p) {
    char *w = p;
    for (const char *r = p; *r; r++) {
        if (*r == '%') {
            int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return false;
            }
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return true;
}

/* Is the file `path` (symbolic links resolved) inside the root? */
static bool inside_root(const httpd *h, const char *path) {
    char real[4096];
    if (!realpath(path, real)) {
        return false;
    }
    size_t n = strlen(h->root_real);
    if (strcmp(h->root_real, "/") == 0) {
        return true;
    }
    return strncmp(real, h->root_real, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

static void respond(httpd *h, hconn *c, const char *req) {
    char method[16], path[1024], version[16];
    if (sscanf(req, "%15s %1023s %15s", method, path, version) != 3) {
        c->out_len = (size_t)snprintf(c->out, sizeof c->out,
                                      "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                                      "Connection: close\r\n\r\n");
        c->close_after = true;
        return;
    }
    c->close_after = strcmp(version, "HTTP/1.1") != 0 || strcasestr(req, "connection: close");
    bool head = strcmp(method, "HEAD") == 0;
    char *q = strchr(path, '?');
    if (q) {
        *q = '\0';
    }
    char file[2048];
    int status = 200;
    struct stat sb;
    if (strcmp(method, "GET") != 0 && !head) {
        status = 405;
    } else if (path[0] != '/' || !percent_decode(path) || strstr(path, "..")) {
        status = 403;
    } else {
        snprintf(file, sizeof file, "%s%s", h->root, path);
        if (stat(file, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            strncat(file, "/index.html", sizeof file - strlen(file) - 1);
        }
        if (stat(file, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            status = 404;
        } else if (!inside_root(h, file)) {
            status = 403; /* a symbolic link out of the root */
        } else if (!head && !(c->file = fopen(file, "rb"))) {
            status = 403;
        }
    }
    const char *reason = status == 200   ? "OK"
                         : status == 403 ? "Forbidden"
                         : status == 404 ? "Not Found"
                                         : "Method Not Allowed";
    long long length = status == 200 ? (long long)sb.st_size : 0;
    c->out_len =
        (size_t)snprintf(c->out, sizeof c->out,
                         "HTTP/1.1 %d %s\r\nServer: tern-httpd\r\nContent-Length: %lld\r\n"
                         "Content-Type: application/octet-stream\r\n%s\r\n",
                         status, reason, length, c->close_after ? "Connection: close\r\n" : "");
    c->out_off = 0;
    c->responding = true;
    h->served++;
    fprintf(stderr, "tern-httpd: %s %s -> %d\n", method, path, status);
}

static void serve(httpd *h, hconn *c) {
    tern_stack *st = h->n->st;
    for (;;) {
        /* Send what is pending, refilling from the file. */
        while (c->out_off < c->out_len || c->file) {
            if (c->out_off == c->out_len) {
                c->out_len = fread(c->out, 1, sizeof c->out, c->file);
                c->out_off = 0;
                if (c->out_len == 0) {
                    fclose(c->file);
                    c->file = NULL;
                    break;
                }
            }
            size_t sent;
            if (tern_tcp_send(st, c->s, (const uint8_t *)c->out + c->out_off,
                              c->out_len - c->out_off, &sent) != TERN_OK) {
                return; /* buffer full: later */
            }
            c->out_off += sent;
        }
        if (c->responding) {
            c->responding = false;
            if (c->close_after) {
                finish(h, c);
                return;
            }
        }
        c->out_len = c->out_off = 0;
        char *end = c->req_len ? strstr(c->req, "\r\n\r\n") : NULL;
        if (end) {
            size_t used = (size_t)(end + 4 - c->req);
            char copy[sizeof c->req];
            memcpy(copy, c->req, used);
            copy[used] = '\0';
            memmove(c->req, c->req + used, c->req_len - used + 1);
            c->req_len -= used;
            respond(h, c, copy); /* the request is consumed */
            continue;
        }
        size_t got;
        tern_err err = tern_tcp_recv(st, c->s, (uint8_t *)c->req + c->req_len,
                                     sizeof c->req - 1 - c->req_len, &got);
        if (err == TERN_ERR_WOULD_BLOCK) {
            return;
        }
        if (err != TERN_OK || got == 0 || c->req_len + got >= sizeof c->req - 1) {
            finish(h, c);
            return;
        }
        c->req_len += got;
        c->req[c->req_len] = '\0';
    }
}

static bool step(void *ctx, sim *s, uint64_t now) {
    (void)s;
    (void)now;
    httpd *h = ctx;
    tern_sock ns;
    while (tern_tcp_accept(h->n->st, h->listener, &ns) == TERN_OK) {
        hconn *c = NULL;
        for (int i = 0; i < MAXCONN && !c; i++) {
            if (!h->c[i].used) {
                c = &h->c[i];
            }
        }
        if (!c) {
            tern_tcp_abort(h->n->st, ns);
            continue;
        }
        c->used = true;
        c->s = ns;
        c->req_len = c->out_len = c->out_off = 0;
        c->req[0] = '\0';
        c->file = NULL;
        c->responding = false;
        c->close_after = false;
    }
    for (int i = 0; i < MAXCONN; i++) {
        if (h->c[i].used) {
            serve(h, &h->c[i]);
        }
    }
    ex_wake(h->n);
    return false;
}

int main(int argc, char **argv) {
    int64_t port = 80;
    static const char *root = ".";
    const ex_opt opts[] = {
        {"--port", "PORT", "TCP port to listen on, 1..65535 (default 80)", EX_OPT_INT, 1, 65535,
         &port},
        {"--root", "DIR", "directory whose files are served (default .)", EX_OPT_STRING, 0, 0,
         &root},
    };
    const ex_program prog = {
        "A minimal HTTP/1.1 server (GET and HEAD, keep-alive) on a Tern host on a TAP\n"
        "interface, serving the files under --root. Paths are percent-decoded; \"..\",\n"
        "and files that resolve (through symbolic links) outside the root, get 403.",
        "",
        0,
        0,
        opts,
        sizeof opts / sizeof opts[0],
        "limits: 64 connections at once (more are reset), 81 TCP sockets, 1024\n"
        "TIME-WAIT entries (kept without a socket), a listen backlog of 16 (SYN cookies\n"
        "beyond it)."};
    ex_options o;
    ex_parse(&argc, argv, &o, &prog);
    o.tcp_sockets = TCP_SOCKETS;
    o.tcp_timewait = TCP_TIMEWAIT;
    static httpd h;
    h.root = root;
    if (!realpath(root, h.root_real)) {
        ex_usage_error("--root '%s': not a directory that can be read", root);
    }
    ex_net n;
    ex_setup(&n, &o);
    h.n = &n;
    /* No address: one listener for IPv4 and IPv6 (tern/stack.h "Families"). */
    if (tern_tcp_open(n.st, &h.listener) != TERN_OK ||
        tern_tcp_bind(n.st, h.listener, NULL, (uint16_t)port) != TERN_OK ||
        tern_tcp_listen(n.st, h.listener, 16) != TERN_OK) {
        ex_die("TCP port %d: cannot listen", (int)port);
    }
    char ip[TERN_ADDR_STRLEN];
    tern_addr_format(&o.addr, ip, sizeof ip);
    fprintf(stderr, "tern-httpd: serving %s on http://%s:%d/\n", h.root, ip, (int)port);
    if (o.ip6 != NULL) {
        tern_addr_format(&o.addr6, ip, sizeof ip);
        fprintf(stderr, "tern-httpd: and on http://[%s]:%d/\n", ip, (int)port);
    }
    ex_run(&n, SIM_NEVER, step, &h);
    ex_teardown(&n);
    return 0;
}

/*
 * tern-httpget: a Tern host on a TAP interface fetches http://ADDRESS[:PORT]/PATH
 * with an HTTP/1.1 GET and writes the body to standard output (the status
 * line and headers to standard error). Exits 0 on a 2xx status.
 *   tern-httpget [options] http://192.168.69.100:8000/index.html
 *   tern-httpget [options] http://[fd00:69::100]:8000/index.html
 *   tern-httpget [options] --dns 192.168.69.100 http://www.example.test/   (getaddrinfo)
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tern/dns.h"
#include "tern_netdb.h"

typedef struct getter {
    ex_net *n;
    tern_sock s;
    char req[1024];
    size_t req_len, req_off;
    char head[16384];
    size_t head_len;
    bool in_body;
    int status;
    uint64_t body;
    bool failed;
} getter;

static void take(getter *g, const uint8_t *d, size_t n) {
    if (g->in_body) {
        fwrite(d, 1, n, stdout);
        g->body += n;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (g->head_len + 1 < sizeof g->head) {
            g->head[g->head_len++] = (char)d[i];
            g->head[g->head_len] = '\0';
        }
        char *end = strstr(g->head, "\r\n\r\n");
        if (end) {
            g->in_body = true;
            fwrite(g->head, 1, g->head_len, stderr);
            sscanf(g->head, "HTTP/%*s %d", &g->status);
            take(g, d + i + 1, n - i - 1);
            return;
        }
    }
}

static bool step(void *ctx, sim *s, uint64_t now) {
    (void)s;
    (void)now;
    getter *g = ctx;
    tern_stack *st = g->n->st;
    size_t sent, got;
    if (g->req_off < g->req_len && tern_tcp_send(st, g->s, (const uint8_t *)g->req + g->req_off,
                                                 g->req_len - g->req_off, &sent) == TERN_OK) {
        g->req_off += sent;
    }
    uint8_t buf[65536];
    tern_err err;
    while ((err = tern_tcp_recv(st, g->s, buf, sizeof buf, &got)) == TERN_OK && got > 0) {
        take(g, buf, got);
    }
    ex_wake(g->n);
    if (err == TERN_OK) {
        return true; /* end of stream: Connection: close */
    }
    if (err != TERN_ERR_WOULD_BLOCK) {
        fprintf(stderr, "tern-httpget: %s\n", tern_strerror(err));
        g->failed = true;
        return true;
    }
    return false;
}

int main(int argc, char **argv) {
    const char *dns = NULL;
    const ex_opt opts[] = {
        {"--dns", "A.B.C.D",
         "DNS server for a URL host that is a name (default none: addresses only)", EX_OPT_STRING,
         0, 0, &dns},
    };
    const ex_program prog = {
        "Fetch URL with an HTTP/1.1 GET from a Tern host on a TAP interface; the body\n"
        "goes to standard output, the status line and headers to standard error. Gives\n"
        "up after 30 s. Exits 0 on a 2xx status, 1 otherwise (with a message).",
        "http://HOST[:PORT]/PATH",
        1,
        1,
        opts,
        sizeof opts / sizeof opts[0],
        "HOST is an IPv4 address, an IPv6 address in brackets, or with --dns a name, resolved\n"
        "by tern_getaddrinfo over the stack's DNS client (A records; the first address is used)."};
    ex_options o;
    ex_parse(&argc, argv, &o, &prog);
    if (strncmp(argv[1], "http://", 7) != 0) {
        ex_usage_error("URL '%s': must start with http://", argv[1]);
    }
    char hostport[128];
    const char *rest = argv[1] + 7;
    const char *path = strchr(rest, '/');
    size_t hl = path ? (size_t)(path - rest) : strlen(rest);
    if (hl >= sizeof hostport) {
        ex_usage_error("URL '%s': the host is too long", argv[1]);
    }
    memcpy(hostport, rest, hl);
    hostport[hl] = '\0';
    uint16_t port = 80;
    /* RFC 3986 §3.2.2: "A host identified by an IPv6 literal address is represented inside the
     * square brackets without a preceding version flag": "[fd00::1]:8080". */
    char host[128];
    const char *after;
    if (hostport[0] == '[') {
        const char *close = strchr(hostport, ']');
        if (close == NULL) {
            ex_usage_error("URL host '%s': no ']' after the IPv6 address", hostport);
        }
        snprintf(host, sizeof host, "%.*s", (int)(close - hostport - 1), hostport + 1);
        after = close + 1;
        if (*after != '\0' && *after != ':') {
            ex_usage_error("URL host '%s': ':PORT' or nothing may follow ']'", hostport);
        }
    } else {
        const char *colon = strchr(hostport, ':');
        size_t n = colon ? (size_t)(colon - hostport) : strlen(hostport);
        snprintf(host, sizeof host, "%.*s", (int)n, hostport);
        after = hostport + n;
    }
    if (*after == ':') {
        port = ex_port(after + 1, "URL port");
    }
    tern_addr dst;
    bool numeric = ex_addr(host, &dst);
    if (numeric && (hostport[0] == '[') != (dst.family == TERN_AF_INET6)) {
        ex_usage_error("URL host '%s': an IPv6 address goes in brackets, an IPv4 one without",
                       hostport);
    }
    if (!numeric && dns == NULL) {
        ex_usage_error("URL host '%s': a name needs --dns SERVER (or give an address)", hostport);
    }
    tern_addr dns_addr;
    if (dns != NULL && !ex_addr4(dns, &dns_addr)) {
        ex_usage_error("--dns '%s': not an IPv4 address A.B.C.D", dns);
    }
    static getter g;
    g.req_len = (size_t)snprintf(g.req, sizeof g.req,
                                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tern-httpget\r\n"
                                 "Connection: close\r\n\r\n",
                                 path ? path : "/", hostport);
    ex_net n;
    ex_setup(&n, &o);
    g.n = &n;
    if (!numeric) {
        /* The name through getaddrinfo, blocking on the real-time driver. */
        tern_dns_config dc;
        memset(&dc, 0, sizeof dc);
        dc.servers[0] = tern_addr_v4_to_u32(&dns_addr);
        dc.n_servers = 1;
        static tern_sockets ts;
        if (tern_dns_configure(n.st, &dc) != TERN_OK ||
            tern_sockets_init_realtime(&ts, n.s, n.rt, n.host) != 0) {
            ex_die("--dns %s: cannot configure the resolver", dns);
        }
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        int r = tern_getaddrinfo(&ts, host, NULL, &hints, &res);
        if (r != 0) {
            fprintf(stderr, "tern-httpget: %s: %s\n", host, tern_gai_strerror(r));
            ex_teardown(&n);
            return 1;
        }
        const struct sockaddr_in *sin = (const struct sockaddr_in *)res->ai_addr;
        dst = tern_addr_v4_from_bytes((const uint8_t *)&sin->sin_addr.s_addr);
        char t[TERN_ADDR_STRLEN];
        tern_addr_format(&dst, t, sizeof t);
        fprintf(stderr, "tern-httpget: %s is %s\n", host, t);
        tern_freeaddrinfo(res);
    }
    if (tern_tcp_open(n.st, &g.s) != TERN_OK ||
        tern_tcp_connect(n.st, g.s, &dst, port) != TERN_OK) {
        ex_die("cannot connect");
    }
    ex_wake(&n);
    bool done = ex_run(&n, 30000000000ull, step, &g);
    fflush(stdout);
    tern_tcp_info info;
    const char *why = "no answer";
    if (tern_tcp_get_info(n.st, g.s, &info) == TERN_OK && info.error != TERN_OK) {
        why = tern_strerror(info.error);
    }
    tern_tcp_close(n.st, g.s);
    ex_wake(&n);
    ex_run(&n, 100000000ull, NULL, NULL);
    if (!done) {
        fprintf(stderr, "tern-httpget: %s:%u: %s within 30 s\n", hostport, port,
                g.head_len ? "the response did not end" : why);
        ex_teardown(&n);
        return 1;
    }
    ex_teardown(&n);
    if (g.failed) {
        return 1;
    }
    fprintf(stderr, "tern-httpget: status %d, %llu body bytes\n", g.status,
            (unsigned long long)g.body);
    return g.status >= 200 && g.status < 300 ? 0 : 1;
}

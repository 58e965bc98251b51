/*
 * tern_getaddrinfo in virtual time: a Tern host asks the DNS server of a
 * gateway node (sim_gateway.h, authoritative for "tern") over a link of 1 ms
 * each way. Each call's result is printed as one line ("name -> EAI_x" or
 * the entries "family type proto address port") and the whole transcript is
 * compared with the expected one; the virtual time of the blocking lookups
 * is checked exactly.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tern/dns.h"
#include "tern/sim.h"
#include "tern/sim_gateway.h"
#include "tern/sim_host.h"
#include "tern_netdb.h"

static char text[8192];
static size_t len;

static void out(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text + len, sizeof text - len, fmt, ap);
    va_end(ap);
    if (n > 0 && len + (size_t)n < sizeof text) {
        len += (size_t)n;
    }
}

static const char *eai_name(int r) {
    switch (r) {
    case EAI_NONAME:
        return "EAI_NONAME";
    case EAI_NODATA:
        return "EAI_NODATA";
    case EAI_AGAIN:
        return "EAI_AGAIN";
    case EAI_FAIL:
        return "EAI_FAIL";
    case EAI_FAMILY:
        return "EAI_FAMILY";
    case EAI_SOCKTYPE:
        return "EAI_SOCKTYPE";
    case EAI_BADFLAGS:
        return "EAI_BADFLAGS";
    case EAI_SERVICE:
        return "EAI_SERVICE";
    case EAI_ADDRFAMILY:
        return "EAI_ADDRFAMILY";
    case EAI_SYSTEM:
        return "EAI_SYSTEM";
    default:
        return "EAI_?";
    }
}

static void show(tern_sockets *ts, const char *what, const char *node, const char *service,
                 int family, int socktype, int protocol, int flags) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_protocol = protocol;
    hints.ai_flags = flags;
    struct addrinfo *res = NULL;
    int r = tern_getaddrinfo(ts, node, service, &hints, &res);
    if (r != 0) {
        out("%s -> %s\n", what, eai_name(r));
        return;
    }
    out("%s ->", what);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char a[INET6_ADDRSTRLEN];
        unsigned port;
        if (ai->ai_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ai->ai_addr;
            inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
            port = ntohs(s6->sin6_port);
        } else {
            const struct sockaddr_in *s4 = (const struct sockaddr_in *)ai->ai_addr;
            inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
            port = ntohs(s4->sin_port);
        }
        out(" [%s %s %d %s %u%s%s]", ai->ai_family == AF_INET6 ? "inet6" : "inet",
            ai->ai_socktype == SOCK_STREAM ? "stream" : "dgram", ai->ai_protocol, a, port,
            ai->ai_canonname ? " canon=" : "", ai->ai_canonname ? ai->ai_canonname : "");
    }
    out("\n");
    tern_freeaddrinfo(res);
}

static const char expected[] =
    "passive -> [inet stream 6 0.0.0.0 80] [inet6 stream 6 :: 80]\n"
    "loopback -> [inet6 dgram 17 ::1 53] [inet dgram 17 127.0.0.1 53]\n"
    "passive inet6 -> [inet6 stream 6 :: 0]\n"
    "numeric v6 -> [inet6 stream 6 fd00::1 8080] [inet6 dgram 17 fd00::1 8080]\n"
    "numeric v4 tcp by protocol -> [inet stream 6 10.0.2.80 7]\n"
    "v4 as inet6 -> EAI_ADDRFAMILY\n"
    "v4 as inet6 mapped -> [inet6 stream 6 ::ffff:10.0.2.80 1]\n"
    "v6 as inet -> EAI_ADDRFAMILY\n"
    "name -> [inet stream 6 10.0.2.80 80 canon=www.tern] [inet stream 6 10.0.2.81 80]\n"
    "name again (cached) -> [inet dgram 17 10.0.2.80 53] [inet dgram 17 10.0.2.81 53]\n"
    "name inet6 -> EAI_NONAME\n"
    "name inet6 mapped -> [inet6 stream 6 ::ffff:10.0.2.80 80] [inet6 stream 6 ::ffff:10.0.2.81 "
    "80]\n"
    "no such name -> EAI_NONAME\n"
    "not local, no upstream -> EAI_FAIL\n"
    "name with AI_NUMERICHOST -> EAI_NONAME\n"
    "service name -> EAI_SERVICE\n"
    "service name, AI_NUMERICSERV -> EAI_NONAME\n"
    "service 65536 -> EAI_SERVICE\n"
    "no node, no service -> EAI_NONAME\n"
    "family 12 -> EAI_FAMILY\n"
    "socktype 3 -> EAI_SOCKTYPE\n"
    "udp with tcp -> EAI_SOCKTYPE\n"
    "flag 0x4000 -> EAI_BADFLAGS\n"
    "server silent -> EAI_AGAIN\n";

int main(void) {
    sim *s;
    if (sim_create(1, &s) != TERN_OK) {
        return 1;
    }
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, 7);
    cfg.niface = 1;
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x15};
    memcpy(cfg.iface[0].mac, mac, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = tern_addr_v4(10, 0, 2, 15);
    cfg.iface[0].prefix_len[0] = 24;
    sim_node_id host, gw;
    sim_gw_config g;
    sim_gateway_config_default(&g, 9);
    g.nports = 1;
    uint8_t gmac[6] = {0x02, 0, 0, 0, 0, 0x02};
    memcpy(g.port[0].mac, gmac, 6);
    g.port[0].naddrs = 1;
    g.port[0].addr[0] = 0x0a000202; /* 10.0.2.2 */
    g.port[0].prefix_len = 24;
    g.dns = true;
    sim_link_id link;
    if (sim_host_add(s, "host", &cfg, &host) != TERN_OK || sim_gateway_add(s, "gw", &g, &gw) ||
        sim_link_add(s, host, 0, gw, 0, &link) != TERN_OK ||
        sim_link_set_delay(s, link, SIM_DIR_BOTH, 1000000, 0, false) != TERN_OK ||
        sim_gateway_dns_add(s, gw, "www.tern", 0x0a000250, 300) != TERN_OK ||
        sim_gateway_dns_add(s, gw, "www.tern", 0x0a000251, 300) != TERN_OK) {
        fprintf(stderr, "FAIL: set-up: %s\n", sim_last_error(s));
        return 1;
    }
    static tern_sockets ts;
    if (tern_sockets_init_sim(&ts, s, host) != 0) {
        return 1;
    }
    tern_dns_config dc;
    memset(&dc, 0, sizeof dc);
    dc.servers[0] = 0x0a000202;
    dc.n_servers = 1;
    dc.timeout_ns = 100000000; /* 100 ms, 2 rounds: the silent case below ends at 300 ms */
    dc.rounds = 2;
    if (tern_dns_configure(ts.st, &dc) != TERN_OK) {
        return 1;
    }

    show(&ts, "passive", NULL, "80", AF_UNSPEC, SOCK_STREAM, 0, AI_PASSIVE);
    show(&ts, "loopback", NULL, "53", AF_UNSPEC, SOCK_DGRAM, 0, 0);
    show(&ts, "passive inet6", NULL, "0", AF_INET6, SOCK_STREAM, 0, AI_PASSIVE);
    show(&ts, "numeric v6", "fd00::1", "8080", AF_UNSPEC, 0, 0, 0);
    show(&ts, "numeric v4 tcp by protocol", "10.0.2.80", "7", AF_INET, 0, IPPROTO_TCP, 0);
    show(&ts, "v4 as inet6", "10.0.2.80", "1", AF_INET6, SOCK_STREAM, 0, 0);
    show(&ts, "v4 as inet6 mapped", "10.0.2.80", "1", AF_INET6, SOCK_STREAM, 0, AI_V4MAPPED);
    show(&ts, "v6 as inet", "fd00::1", "1", AF_INET, SOCK_STREAM, 0, 0);
    uint64_t t0 = sim_now(s);
    show(&ts, "name", "www.tern", "80", AF_UNSPEC, SOCK_STREAM, 0, AI_CANONNAME);
    uint64_t t_name = sim_now(s) - t0;
    t0 = sim_now(s);
    show(&ts, "name again (cached)", "www.tern", "53", AF_INET, SOCK_DGRAM, 0, 0);
    uint64_t t_cached = sim_now(s) - t0;
    show(&ts, "name inet6", "www.tern", "80", AF_INET6, SOCK_STREAM, 0, 0);
    show(&ts, "name inet6 mapped", "www.tern", "80", AF_INET6, SOCK_STREAM, 0, AI_V4MAPPED);
    show(&ts, "no such name", "nosuch.tern", "80", AF_UNSPEC, SOCK_STREAM, 0, 0);
    show(&ts, "not local, no upstream", "www.example.org", "80", AF_UNSPEC, SOCK_STREAM, 0, 0);
    show(&ts, "name with AI_NUMERICHOST", "www.tern", "80", AF_UNSPEC, 0, 0, AI_NUMERICHOST);
    show(&ts, "service name", "10.0.2.80", "http", AF_UNSPEC, 0, 0, 0);
    show(&ts, "service name, AI_NUMERICSERV", "10.0.2.80", "http", AF_UNSPEC, 0, 0, AI_NUMERICSERV);
    show(&ts, "service 65536", "10.0.2.80", "65536", AF_UNSPEC, 0, 0, 0);
    show(&ts, "no node, no service", NULL, NULL, AF_UNSPEC, 0, 0, 0);
    show(&ts, "family 12", "10.0.2.80", "1", 12, 0, 0, 0);
    show(&ts, "socktype 3", "10.0.2.80", "1", AF_UNSPEC, 3, 0, 0);
    show(&ts, "udp with tcp", "10.0.2.80", "1", AF_UNSPEC, SOCK_DGRAM, IPPROTO_TCP, 0);
    show(&ts, "flag 0x4000", "10.0.2.80", "1", AF_UNSPEC, 0, 0, 0x4000);
    /* A server that never answers: 10.0.2.9 has no owner (ARP goes unanswered). */
    dc.servers[0] = 0x0a000209;
    tern_dns_flush_cache(ts.st);
    if (tern_dns_configure(ts.st, &dc) != TERN_OK) {
        return 1;
    }
    t0 = sim_now(s);
    show(&ts, "server silent", "www.tern", "80", AF_UNSPEC, SOCK_STREAM, 0, 0);
    uint64_t t_silent = sim_now(s) - t0;

    int fails = 0;
    text[len] = '\0';
    if (strcmp(text, expected) != 0) {
        fprintf(stderr, "FAIL: transcript differs from the expected one:\n%s\n", text);
        fails++;
    }
    /* ARP request and reply (1 ms each way), then the query and its answer: 4 ms. */
    if (t_name != 4000000) {
        fprintf(stderr, "FAIL: the name took %llu ns of virtual time, expected 4 ms\n",
                (unsigned long long)t_name);
        fails++;
    }
    if (t_cached != 0) {
        fprintf(stderr, "FAIL: the cached name took %llu ns, expected none\n",
                (unsigned long long)t_cached);
        fails++;
    }
    /* Two rounds over one server: 100 ms, then the timeout doubled, 200 ms (tern/dns.h). */
    if (t_silent != 300000000) {
        fprintf(stderr, "FAIL: the silent server took %llu ns, expected 300 ms\n",
                (unsigned long long)t_silent);
        fails++;
    }
    sim_destroy(s);
    if (fails == 0) {
        printf("getaddrinfo transcript and virtual times as expected\n");
    }
    return fails ? 1 : 0;
}

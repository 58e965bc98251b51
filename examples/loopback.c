/*
 * tern-loopback: one Tern host talking to itself over its loopback, in
 * virtual time (smoltcp's loopback example). A server listens on PORT, a
 * client of the same host connects to the host's own address, sends a
 * message and shuts down; the server prints what it read and closes. No TAP,
 * no privileges, no wall clock: the same seed prints the same lines and
 * writes the same capture.
 *   tern-loopback [--pcap FILE] [--ip A.B.C.D] [--port PORT] [--message TEXT] [--seed N]
 *
 * The stack delivers a datagram for one of its own addresses on its next
 * poll without a link (stack/src/ipv4/ipv4.c); tern_stack_config.loopback_tap
 * shows each one, and --pcap writes them as Linux's tcpdump -i lo does: an
 * Ethernet header with zero addresses and type IPv4 before each datagram.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/sim_pcap.h"
#include "tern/stack.h"

#define PROG "tern-loopback"
/* A conversation over the loopback takes microseconds of virtual time; this bounds a stack bug. */
#define RUN_LIMIT_NS (10ull * 1000000000ull)
/* After both ends closed, the last ACKs still cross the loopback. */
#define LINGER_NS 1000000000ull

typedef struct loopback {
    sim_pcap_writer *pcap;
    uint64_t frames;
} loopback;

static void usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry '" PROG " --help' for the options.\n");
    exit(2);
}

static void die(const char *what, tern_err err) {
    fprintf(stderr, PROG ": %s: %s\n", what, tern_strerror(err));
    exit(1);
}

static void help(void) {
    printf("usage: " PROG " [options]\n\n"
           "One Tern host talks to itself over its loopback, in virtual time: a server on\n"
           "PORT, a client of the same host that connects to the host's own address, sends\n"
           "MESSAGE and shuts down; the server prints what it read. Each line starts with the\n"
           "virtual time in seconds. Needs no TAP and no privileges.\n\n"
           "options:\n"
           "  --pcap FILE             write the loopback's datagrams to FILE (nanosecond pcap,\n"
           "                          virtual time; zero Ethernet addresses, as Linux's lo)\n"
           "  --ip A.B.C.D            the host's address (default 127.0.0.1, prefix /8)\n"
           "  --port PORT             the server's port (default 1234)\n"
           "  --message TEXT          what the client sends (default 0123456789abcdef)\n"
           "  --seed N                the stack's seed (default 0)\n"
           "  -h, --help              this help, to standard output\n");
    exit(0);
}

static uint64_t parse_u64(const char *v, const char *name, uint64_t max) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || errno == ERANGE || x > max || !isdigit((unsigned char)*v)) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s '%%s': not an integer in 0..%" PRIu64, name, max);
        usage_error(msg, v);
    }
    return x;
}

static void tap(void *ctx, uint64_t now, const uint8_t *datagram, size_t len) {
    loopback *lb = ctx;
    lb->frames++;
    if (lb->pcap == NULL) {
        return;
    }
    uint8_t frame[14 + 65535];
    if (len > sizeof frame - 14) {
        return;
    }
    memset(frame, 0, 12);
    frame[12] = 0x08; /* IPv4 */
    frame[13] = 0x00;
    memcpy(frame + 14, datagram, len);
    if (sim_pcap_writer_write(lb->pcap, now, frame, len + 14) != TERN_OK) {
        die("--pcap", TERN_ERR_IO);
    }
}

static void say(sim *s, const char *fmt, const char *arg) {
    uint64_t t = sim_now(s);
    printf("[%3" PRIu64 ".%09" PRIu64 "] ", t / 1000000000u, t % 1000000000u);
    printf(fmt, arg);
    putchar('\n');
}

int main(int argc, char **argv) {
    const char *pcap_path = NULL, *message = "0123456789abcdef", *ip = "127.0.0.1";
    uint64_t seed = 0;
    uint16_t port = 1234;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help();
        }
        if (strcmp(a, "--pcap") && strcmp(a, "--ip") && strcmp(a, "--port") &&
            strcmp(a, "--message") && strcmp(a, "--seed")) {
            usage_error("unknown option or argument '%s'", a);
        }
        if (i + 1 >= argc) {
            usage_error("%s: missing value", a);
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--pcap")) {
            pcap_path = v;
        } else if (!strcmp(a, "--ip")) {
            ip = v;
        } else if (!strcmp(a, "--port")) {
            uint64_t p = parse_u64(v, "--port", 65535);
            if (p == 0) {
                usage_error("--port '%s': not an integer in 1..65535", v);
            }
            port = (uint16_t)p;
        } else if (!strcmp(a, "--message")) {
            if (!*v || strlen(v) > 4096) {
                usage_error("--message '%s': must be 1..4096 bytes", v);
            }
            message = v;
        } else {
            seed = parse_u64(v, "--seed", UINT64_MAX);
        }
    }
    unsigned b[4];
    char extra;
    if (sscanf(ip, "%u.%u.%u.%u%c", &b[0], &b[1], &b[2], &b[3], &extra) != 4 || b[0] > 255 ||
        b[1] > 255 || b[2] > 255 || b[3] > 255) {
        usage_error("--ip '%s': not an IPv4 address A.B.C.D", ip);
    }
    tern_addr addr = tern_addr_v4((uint8_t)b[0], (uint8_t)b[1], (uint8_t)b[2], (uint8_t)b[3]);

    static loopback lb;
    if (pcap_path) {
        char msg[256];
        if (sim_pcap_writer_open(pcap_path, &lb.pcap, msg, sizeof msg) != TERN_OK) {
            fprintf(stderr, PROG ": --pcap '%s': %s\n", pcap_path, msg);
            return 1;
        }
    }
    sim *s;
    tern_err err = sim_create(seed, &s);
    if (err != TERN_OK) {
        die("simulation", err);
    }
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, seed);
    cfg.niface = 1;
    const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    memcpy(cfg.iface[0].mac, mac, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = addr;
    cfg.iface[0].prefix_len[0] = b[0] == 127 ? 8 : 24;
    cfg.loopback_tap = tap;
    cfg.loopback_ctx = &lb;
    sim_node_id host;
    if ((err = sim_host_add(s, "loopback", &cfg, &host)) != TERN_OK) {
        fprintf(stderr, PROG ": host: %s\n", sim_last_error(s));
        return 1;
    }
    tern_stack *st = sim_host_stack(s, host);

    tern_sock listener, client, server = 0;
    if ((err = tern_tcp_open(st, &listener)) != TERN_OK ||
        (err = tern_tcp_bind(st, listener, &addr, port)) != TERN_OK ||
        (err = tern_tcp_listen(st, listener, 1)) != TERN_OK) {
        die("listen", err);
    }
    say(s, "server: listening on %s", ip);
    if ((err = tern_tcp_open(st, &client)) != TERN_OK ||
        (err = tern_tcp_connect(st, client, &addr, port)) != TERN_OK) {
        die("connect", err);
    }
    say(s, "client: connecting to %s", ip);
    sim_node_wake(s, host);

    bool accepted = false, sent = false, server_eof = false, client_eof = false;
    size_t msg_off = 0, msg_len = strlen(message);
    static char got[4097];
    size_t got_len = 0;
    while (!(server_eof && client_eof)) {
        uint64_t next = sim_next_event_time(s);
        if (next == SIM_NEVER || next > RUN_LIMIT_NS) {
            fprintf(stderr,
                    PROG ": the conversation did not finish within %llu s of virtual time\n",
                    (unsigned long long)(RUN_LIMIT_NS / 1000000000ull));
            return 1;
        }
        if ((err = sim_run(s, next, 0, NULL)) != TERN_OK) {
            fprintf(stderr, PROG ": %s\n", sim_last_error(s));
            return 1;
        }
        if (!accepted && tern_tcp_accept(st, listener, &server) == TERN_OK) {
            accepted = true;
            say(s, "server: accepted a connection%s", "");
        }
        tern_tcp_info ci;
        if (tern_tcp_get_info(st, client, &ci) == TERN_OK && ci.error != TERN_OK) {
            die("client", ci.error);
        }
        if (!sent && ci.state == TERN_TCP_ESTABLISHED) {
            size_t n = 0;
            if (tern_tcp_send(st, client, (const uint8_t *)message + msg_off, msg_len - msg_off,
                              &n) == TERN_OK) {
                msg_off += n;
            }
            if (msg_off == msg_len) {
                tern_tcp_shutdown(st, client, 1);
                sent = true;
                say(s, "client: sent '%s' and shut down sending", message);
            }
        }
        if (accepted && !server_eof) {
            size_t n;
            while ((err = tern_tcp_recv(st, server, (uint8_t *)got + got_len,
                                        sizeof got - 1 - got_len, &n)) == TERN_OK &&
                   n > 0) {
                got_len += n;
            }
            if (err == TERN_OK) { /* end of stream */
                got[got_len] = '\0';
                say(s, "server: received '%s', end of stream; closing", got);
                tern_tcp_close(st, server);
                server_eof = true;
            } else if (err != TERN_ERR_WOULD_BLOCK) {
                die("server recv", err);
            }
        }
        if (!client_eof) {
            uint8_t buf[64];
            size_t n;
            err = tern_tcp_recv(st, client, buf, sizeof buf, &n);
            if (err == TERN_OK && n == 0) {
                say(s, "client: the server closed; closing%s", "");
                tern_tcp_close(st, client);
                client_eof = true;
            } else if (err != TERN_OK && err != TERN_ERR_WOULD_BLOCK) {
                die("client recv", err);
            }
        }
        sim_node_wake(s, host);
    }
    if ((err = sim_run(s, sim_now(s) + LINGER_NS, 0, NULL)) != TERN_OK) {
        fprintf(stderr, PROG ": %s\n", sim_last_error(s));
        return 1;
    }
    tern_counters c;
    tern_stack_get_counters(st, &c);
    char line[96];
    snprintf(line, sizeof line, "%" PRIu64 " datagrams over the loopback", c.ip_loopback_in);
    say(s, "%s", line);
    tern_tcp_close(st, listener);
    sim_destroy(s);
    if (sim_pcap_writer_close(lb.pcap) != TERN_OK) {
        die("--pcap", TERN_ERR_IO);
    }
    return strcmp(got, message) == 0 ? 0 : 1;
}

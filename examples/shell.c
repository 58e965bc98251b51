/*
 * The network shell of the examples (--shell; shell.h): commands read from
 * standard input between rounds of the real-time run, answers on standard
 * output. Every command's output ends with a line "ok" or "error: <why>", so
 * a script (scenarios/interop/test_interop_shell.py) can read answer by
 * answer. Formats, one line per item:
 *
 *   iface    iface I mac M mtu N                 then one "  ipv4 A/P" per address
 *   ipv4     A/P iface I
 *   route    A/P on-link iface I                 (the interfaces' subnets, "connected")
 *            A/P via G iface I                   (the route table)
 *   arp      A at M iface I expires-in-ms N      (resolved)
 *            A incomplete iface I requests N     (resolving)
 *   conn     tcp L:P R:P STATE srtt-us N rto-ms N cwnd N snd-mss N retransmits N
 *            udp L:P
 *   stats    NAME VALUE                           (every counter of tern_counters)
 *   ping A [N]   reply from A: seq S ttl T   (one per reply; 56-byte requests 1 s apart,
 *                                            replies awaited 1 s after the last) then
 *                ping A: N sent, M received
 *   dns server A   use A as the DNS server           then "ok"
 *   dns NAME       NAME A1 [A2 ...]                 (the addresses), or NAME STATUS: NXDOMAIN,
 *                                                   NODATA, TIMEOUT, FAILED, CNAME-LOOP
 *   help     the commands
 */
#include "shell.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tern/dns.h"
#include "tern/introspect.h"

#define PING_INTERVAL_NS 1000000000ull
#define PING_WAIT_NS 1000000000ull
#define PING_IDENT 0x7465 /* "te" */

static struct {
    bool on, eof;
    char line[512];
    size_t len;
    /* a ping in progress */
    bool pinging;
    tern_sock ps;
    tern_addr target;
    char target_text[16];
    uint32_t count, sent, received;
    uint64_t next_send, done_at;
    /* a DNS query in progress */
    bool resolving;
    uint32_t dns_id;
    char dns_name[TERN_DNS_NAME_MAX + 1];
} sh;

static void ip_text(char *out, const tern_addr *a) {
    snprintf(out, 16, "%u.%u.%u.%u", a->bytes[0], a->bytes[1], a->bytes[2], a->bytes[3]);
}

static void mac_text(char *out, const uint8_t *m) {
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* The network address of a/p. */
static tern_addr masked(const tern_addr *a, uint8_t p) {
    uint32_t v = tern_addr_v4_to_u32(a);
    uint32_t mask = p == 0 ? 0 : 0xffffffffu << (32 - p);
    return tern_addr_v4_from_u32(v & mask);
}

static void cmd_iface(tern_stack *st) {
    tern_iface_info f;
    for (uint32_t i = 0; tern_iface_get(st, i, &f) == TERN_OK; i++) {
        char m[18];
        mac_text(m, f.mac);
        printf("iface %" PRIu32 " mac %s mtu %" PRIu32 "\n", i, m, f.mtu);
        for (uint32_t k = 0; k < f.naddrs; k++) {
            char a[16];
            ip_text(a, &f.addr[k]);
            printf("  ipv4 %s/%u\n", a, f.prefix_len[k]);
        }
    }
}

static void cmd_ipv4(tern_stack *st) {
    tern_iface_info f;
    for (uint32_t i = 0; tern_iface_get(st, i, &f) == TERN_OK; i++) {
        for (uint32_t k = 0; k < f.naddrs; k++) {
            char a[16];
            ip_text(a, &f.addr[k]);
            printf("%s/%u iface %" PRIu32 "\n", a, f.prefix_len[k], i);
        }
    }
}

static void cmd_route(tern_stack *st) {
    tern_iface_info f;
    for (uint32_t i = 0; tern_iface_get(st, i, &f) == TERN_OK; i++) {
        for (uint32_t k = 0; k < f.naddrs; k++) {
            char a[16];
            tern_addr net = masked(&f.addr[k], f.prefix_len[k]);
            ip_text(a, &net);
            printf("%s/%u on-link iface %" PRIu32 "\n", a, f.prefix_len[k], i);
        }
    }
    tern_route_info r;
    for (uint32_t i = 0; tern_route_get(st, i, &r) == TERN_OK; i++) {
        char d[16], g[16];
        ip_text(d, &r.dst);
        if (tern_addr_v4_to_u32(&r.gateway) == 0) {
            printf("%s/%u on-link iface %" PRIu32 "\n", d, r.prefix_len, r.iface);
        } else {
            ip_text(g, &r.gateway);
            printf("%s/%u via %s iface %" PRIu32 "\n", d, r.prefix_len, g, r.iface);
        }
    }
}

static void cmd_arp(tern_stack *st, uint64_t now) {
    tern_arp_info e;
    for (uint32_t i = 0; tern_arp_get(st, i, &e) == TERN_OK; i++) {
        char a[16], m[18];
        ip_text(a, &e.ip);
        if (e.resolved) {
            mac_text(m, e.mac);
            printf("%s at %s iface %" PRIu32 " expires-in-ms %" PRIu64 "\n", a, m, e.iface,
                   e.expires > now ? (e.expires - now) / 1000000u : 0);
        } else {
            printf("%s incomplete iface %" PRIu32 " requests %" PRIu32 "\n", a, e.iface,
                   e.requests);
        }
    }
}

static const char *state_name(tern_tcp_state s) {
    static const char *const names[] = {"CLOSED",      "LISTEN",     "SYN-SENT",   "SYN-RECEIVED",
                                        "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
                                        "CLOSING",     "LAST-ACK",   "TIME-WAIT"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static void cmd_conn(tern_stack *st) {
    tern_sock s;
    for (uint32_t i = 0; tern_tcp_socket_get(st, i, &s) == TERN_OK; i++) {
        tern_tcp_info t;
        if (tern_tcp_get_info(st, s, &t) != TERN_OK) {
            continue;
        }
        char l[16] = "0.0.0.0", r[16] = "0.0.0.0";
        if (t.local.family == TERN_AF_INET) {
            ip_text(l, &t.local);
        }
        if (t.remote.family == TERN_AF_INET) {
            ip_text(r, &t.remote);
        }
        printf("tcp %s:%u %s:%u %s srtt-us %" PRIu64 " rto-ms %" PRIu64 " cwnd %" PRIu32
               " snd-mss %" PRIu32 " retransmits %" PRIu64 "\n",
               l, t.local_port, r, t.remote_port, state_name(t.state), t.srtt_ns / 1000u,
               t.rto_ns / 1000000u, t.cwnd, t.snd_mss, t.total_retransmits);
    }
    for (uint32_t i = 0; tern_udp_socket_get(st, i, &s) == TERN_OK; i++) {
        tern_addr a;
        uint16_t p = 0;
        char l[16] = "0.0.0.0";
        if (tern_udp_local(st, s, &a, &p) == TERN_OK && a.family == TERN_AF_INET) {
            ip_text(l, &a);
        }
        printf("udp %s:%u\n", l, p);
    }
}

/* Every counter, by name, in the order of struct tern_counters (tern/stack.h). */
static const char *const counter_names[] = {"frames_in",
                                            "frames_out",
                                            "bytes_in",
                                            "bytes_out",
                                            "eth_truncated",
                                            "eth_not_for_us",
                                            "eth_vlan_dropped",
                                            "eth_unknown_type",
                                            "bad_iface",
                                            "arp_in",
                                            "arp_malformed",
                                            "arp_requests_sent",
                                            "arp_replies_sent",
                                            "arp_gratuitous",
                                            "arp_resolution_failed",
                                            "arp_queue_full",
                                            "arp_rate_limited",
                                            "arp_evicted",
                                            "arp_table_full",
                                            "ip_in",
                                            "ip_delivered",
                                            "ip_out",
                                            "ip_truncated",
                                            "ip_malformed",
                                            "ip_bad_checksum",
                                            "ip_bad_version",
                                            "ip_not_for_us",
                                            "ip_no_route",
                                            "ip_forwarded",
                                            "ip_ttl_exceeded",
                                            "ip_frag_needed",
                                            "ip_fragments_out",
                                            "ip_fragments_in",
                                            "ip_reassembled",
                                            "ip_reasm_timeout",
                                            "ip_reasm_dropped",
                                            "ip_unknown_protocol",
                                            "ip_options",
                                            "ip_martian_src",
                                            "ip_loopback_in",
                                            "icmp_in",
                                            "icmp_malformed",
                                            "icmp_bad_checksum",
                                            "icmp_echo_requests",
                                            "icmp_echo_replies_sent",
                                            "icmp_errors_in",
                                            "icmp_errors_sent",
                                            "icmp_rate_limited",
                                            "udp_in",
                                            "udp_malformed",
                                            "udp_bad_checksum",
                                            "udp_no_port",
                                            "udp_queue_full",
                                            "udp_out",
                                            "tcp_in",
                                            "tcp_malformed",
                                            "tcp_bad_checksum",
                                            "tcp_no_socket",
                                            "tcp_out",
                                            "tcp_rst_sent",
                                            "tcp_retransmits",
                                            "tcp_challenge_acks",
                                            "tcp_timewait_entered",
                                            "tcp_timewait_reused",
                                            "tcp_timewait_recycled",
                                            "tcp_no_pcb_rst",
                                            "tcp_syncookies_sent",
                                            "tcp_syncookies_ok",
                                            "tcp_syncookies_failed",
                                            "tcp_listen_overflow",
                                            "tcp_fin_wait2_timeouts",
                                            "tcp_acks_rate_limited",
                                            "no_buffer"};

static void cmd_stats(tern_stack *st) {
    tern_counters c;
    tern_stack_get_counters(st, &c);
    uint64_t v[sizeof c / sizeof(uint64_t)];
    memcpy(v, &c, sizeof v);
    size_t named = sizeof counter_names / sizeof counter_names[0];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        /* A counter added to tern_counters after this list still shows, by position. */
        if (i < named) {
            printf("%s %" PRIu64 "\n", counter_names[i], v[i]);
        } else {
            printf("counter_%zu %" PRIu64 "\n", i, v[i]);
        }
    }
}

static const char *last_error(ex_net *n) {
    return tern_stack_last_error(n->st);
}

static bool parse_ip(const char *t, tern_addr *out) {
    unsigned a, b, c, d;
    char extra;
    if (sscanf(t, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) != 4 || a > 255 || b > 255 || c > 255 ||
        d > 255) {
        return false;
    }
    *out = tern_addr_v4((uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d);
    return true;
}

/* Start a ping; its lines and "ok" come from ping_step. */
static void cmd_ping(ex_net *n, const char *arg, uint64_t now) {
    char addr[64] = "";
    unsigned count = 3;
    int k = sscanf(arg, "%63s %u", addr, &count);
    if (k < 1 || !parse_ip(addr, &sh.target)) {
        printf("error: ping ADDRESS [COUNT]: '%s' is not an IPv4 address\n", addr);
        return;
    }
    if (count < 1 || count > 1000) {
        printf("error: ping COUNT must be 1..1000\n");
        return;
    }
    if (tern_ping_open(n->st, PING_IDENT, &sh.ps) != TERN_OK) {
        printf("error: no ping socket free\n");
        return;
    }
    ip_text(sh.target_text, &sh.target);
    sh.pinging = true;
    sh.count = count;
    sh.sent = sh.received = 0;
    sh.next_send = now;
}

static void ping_step(ex_net *n, uint64_t now) {
    tern_ping_reply r;
    while (tern_ping_recv(n->st, sh.ps, &r, NULL, 0) == TERN_OK) {
        char a[16];
        ip_text(a, &r.from);
        printf("reply from %s: seq %u ttl %u\n", a, r.seq, r.ttl);
        sh.received++;
    }
    if (sh.sent < sh.count && now >= sh.next_send) {
        sh.sent++;
        tern_ping_send(n->st, sh.ps, &sh.target, (uint16_t)sh.sent, NULL, 56, 0, false);
        ex_wake(n);
        sh.next_send = now + PING_INTERVAL_NS;
        sh.done_at = now + PING_WAIT_NS;
    }
    if (sh.sent == sh.count && (sh.received == sh.count || now >= sh.done_at)) {
        printf("ping %s: %" PRIu32 " sent, %" PRIu32 " received\nok\n", sh.target_text, sh.sent,
               sh.received);
        tern_ping_close(n->st, sh.ps);
        sh.pinging = false;
    }
    fflush(stdout);
}

static void cmd_dns(ex_net *n, const char *arg, uint64_t now) {
    char a[64], b[TERN_DNS_NAME_MAX + 2];
    int k = sscanf(arg, "%63s %254s", a, b);
    if (k == 2 && !strcmp(a, "server")) {
        tern_addr srv;
        tern_dns_config cfg;
        memset(&cfg, 0, sizeof cfg);
        if (!parse_ip(b, &srv)) {
            printf("error: dns server '%s': not an IPv4 address\n", b);
            return;
        }
        cfg.servers[0] = tern_addr_v4_to_u32(&srv);
        cfg.n_servers = 1;
        if (tern_dns_configure(n->st, &cfg) != TERN_OK) {
            printf("error: dns server '%s': refused (%s)\n", b, last_error(n));
            return;
        }
        printf("ok\n");
        return;
    }
    if (k != 1) {
        printf("error: dns NAME, or dns server ADDRESS\n");
        return;
    }
    if (tern_dns_resolve(n->st, now, a, &sh.dns_id) != TERN_OK) {
        printf("error: dns '%s': %s\n", a, last_error(n));
        return;
    }
    snprintf(sh.dns_name, sizeof sh.dns_name, "%s", a);
    sh.resolving = true;
    ex_wake(n);
}

static void dns_step(ex_net *n) {
    tern_dns_answer ans;
    if (tern_dns_result(n->st, sh.dns_id, &ans) != TERN_OK || ans.status == TERN_DNS_PENDING) {
        return;
    }
    static const char *const status[] = {"PENDING", "OK",     "NXDOMAIN",  "NODATA",
                                         "TIMEOUT", "FAILED", "CNAME-LOOP"};
    printf("%s", sh.dns_name);
    if (ans.status == TERN_DNS_OK) {
        for (uint32_t i = 0; i < ans.n_addrs; i++) {
            tern_addr a = tern_addr_v4_from_u32(ans.addrs[i]);
            char t[16];
            ip_text(t, &a);
            printf(" %s", t);
        }
    } else {
        printf(" %s", (unsigned)ans.status < 7 ? status[ans.status] : "?");
    }
    printf("\nok\n");
    fflush(stdout);
    sh.resolving = false;
}

static void run_command(ex_net *n, char *line, uint64_t now) {
    char *cmd = line + strspn(line, " \t");
    char *arg = cmd + strcspn(cmd, " \t");
    if (*arg) {
        *arg++ = '\0';
        arg += strspn(arg, " \t");
    }
    if (!*cmd) {
        return;
    }
    if (!strcmp(cmd, "iface")) {
        cmd_iface(n->st);
    } else if (!strcmp(cmd, "ipv4")) {
        cmd_ipv4(n->st);
    } else if (!strcmp(cmd, "route")) {
        cmd_route(n->st);
    } else if (!strcmp(cmd, "arp")) {
        cmd_arp(n->st, now);
    } else if (!strcmp(cmd, "conn")) {
        cmd_conn(n->st);
    } else if (!strcmp(cmd, "stats")) {
        cmd_stats(n->st);
    } else if (!strcmp(cmd, "ping")) {
        cmd_ping(n, arg, now);
        fflush(stdout);
        return; /* "ok" when it is over (or the error line now) */
    } else if (!strcmp(cmd, "dns")) {
        cmd_dns(n, arg, now);
        fflush(stdout);
        return; /* "ok" with the answer (or the error line now) */
    } else if (!strcmp(cmd, "help")) {
        printf("commands: iface, ipv4, route, arp, conn, stats, ping ADDRESS [COUNT], dns NAME, "
               "dns server ADDRESS, help\n");
    } else {
        printf("error: unknown command '%s' (try help)\n", cmd);
        fflush(stdout);
        return;
    }
    printf("ok\n");
    fflush(stdout);
}

void ex_shell_start(void) {
    memset(&sh, 0, sizeof sh);
    sh.on = true;
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
}

void ex_shell_step(ex_net *n, uint64_t now) {
    if (!sh.on) {
        return;
    }
    if (sh.pinging) {
        ping_step(n, now);
        return; /* the next command waits for the ping */
    }
    if (sh.resolving) {
        dns_step(n);
        return; /* and for the DNS answer */
    }
    while (!sh.eof && !sh.pinging && !sh.resolving) {
        char c;
        ssize_t r = read(0, &c, 1);
        if (r == 0) {
            sh.eof = true;
            break;
        }
        if (r < 0) {
            break; /* nothing more now */
        }
        if (c == '\n') {
            sh.line[sh.len] = '\0';
            sh.len = 0;
            run_command(n, sh.line, now);
        } else if (sh.len < sizeof sh.line - 1) {
            sh.line[sh.len++] = c;
        }
    }
    if (sh.pinging) {
        ping_step(n, now);
    }
}

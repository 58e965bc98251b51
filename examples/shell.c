/*
 * The network shell of the examples (--shell; shell.h): commands read from
 * standard input between rounds of the real-time run, answers on standard
 * output. Every command's output ends with a line "ok" or "error: <why>", so
 * a script (scenarios/interop/test_interop_shell.py) can read answer by
 * answer. The state commands (iface, ipv4, ipv6, route, arp, nbr, conn,
 * stats, dhcp, help) are tern_netshell_run's, formats in tern/netshell.h;
 * the two that need the network to run are here:
 *
 *   ping A [N]   reply from A: seq S ttl T   (one per reply; 56-byte requests 1 s apart,
 *                                            replies awaited 1 s after the last; A IPv4
 *                                            or IPv6, ICMPv6 echo for IPv6) then
 *                ping A: N sent, M received
 *   dns server A   use A as the DNS server           then "ok"
 *   dns NAME       NAME A1 [A2 ...]                 (the addresses), or NAME STATUS: NXDOMAIN,
 *                                                   NODATA, TIMEOUT, FAILED, CNAME-LOOP
 */
#include "shell.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tern/dns.h"
#include "tern/netshell.h"

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
    char target_text[TERN_ADDR_STRLEN];
    uint32_t count, sent, received;
    uint64_t next_send, done_at;
    /* a DNS query in progress */
    bool resolving;
    uint32_t dns_id;
    char dns_name[TERN_DNS_NAME_MAX + 1];
} sh;

static void ip_text(char *out, const tern_addr *a) {
    if (tern_addr_format(a, out, TERN_ADDR_STRLEN) != TERN_OK) {
        snprintf(out, TERN_ADDR_STRLEN, "?");
    }
}

static const char *last_error(ex_net *n) {
    return tern_stack_last_error(n->st);
}

static bool parse_ip(const char *t, tern_addr *out) {
    return ex_addr4(t, out);
}

/* Start a ping; its lines and "ok" come from ping_step. */
static void cmd_ping(ex_net *n, const char *arg, uint64_t now) {
    char addr[64] = "";
    unsigned count = 3;
    int k = sscanf(arg, "%63s %u", addr, &count);
    if (k < 1 || !ex_addr(addr, &sh.target)) {
        printf("error: ping ADDRESS [COUNT]: '%s' is not an IPv4 or IPv6 address\n", addr);
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
        char a[TERN_ADDR_STRLEN];
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
            char t[TERN_ADDR_STRLEN];
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
    if (!strcmp(cmd, "ping")) {
        cmd_ping(n, arg, now);
        fflush(stdout);
        return; /* "ok" when it is over (or the error line now) */
    }
    if (!strcmp(cmd, "dns")) {
        cmd_dns(n, arg, now);
        fflush(stdout);
        return; /* "ok" with the answer (or the error line now) */
    }
    /* The state commands: one implementation with pyharness's shell (tern/netshell.h). */
    static char answer[65536];
    char full[600];
    snprintf(full, sizeof full, "%s %s", cmd, arg);
    size_t len = tern_netshell_run(n->st, now, full, answer, sizeof answer);
    fputs(answer, stdout);
    if (len >= sizeof answer) {
        printf("\nerror: the answer was longer than %zu bytes\n", sizeof answer);
    }
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

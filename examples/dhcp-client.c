/*
 * tern-dhcp-client: a Tern host on a TAP interface gets its IPv4 address by
 * DHCP (RFC 2131) and prints the lease, in the spirit of Zephyr's
 * dhcpv4_client sample:
 *   tern-dhcp-client [options] [--hostname NAME] [--resolve NAME] [--stay SECONDS]
 * (--help lists every option)
 * The host starts without an address (--ip is not used), sends DISCOVER at
 * once, probes the offered address with ARP (RFC 5227) and prints it when
 * BOUND. --resolve then asks the lease's DNS servers for a name; --stay keeps
 * the host running (renewing at T1) and prints each DHCP event.
 * Exits 0 when a lease was obtained (and the name, if any, resolved).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tern/dhcp.h"
#include "tern/dns.h"

typedef struct client {
    ex_net *n;
    const char *resolve;
    bool bound, asked, resolved, failed;
    uint32_t qid;
    uint64_t stay_ns;    /* how long to keep running once bound */
    uint64_t stay_until; /* set when bound */
} client;

static void ip_text(uint32_t a, char *out, size_t cap) {
    snprintf(out, cap, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static const char *event_name(tern_dhcp_event_kind k) {
    switch (k) {
    case TERN_DHCP_EV_BOUND:
        return "bound";
    case TERN_DHCP_EV_RENEWED:
        return "renewed";
    case TERN_DHCP_EV_LOST:
        return "lost";
    case TERN_DHCP_EV_CONFLICT:
        return "conflict";
    case TERN_DHCP_EV_NAK:
        return "nak";
    }
    return "?";
}

static void print_lease(const tern_dhcp_lease *l) {
    char a[16], m[16], r[16], s[16];
    ip_text(l->address, a, sizeof a);
    ip_text(l->subnet_mask, m, sizeof m);
    ip_text(l->router, r, sizeof r);
    ip_text(l->server_id, s, sizeof s);
    printf("address %s\nnetmask %s\nrouter %s\nserver %s\nlease %u s (T1 %u s, T2 %u s)\n", a, m,
           l->router ? r : "none", s, l->lease_secs, l->t1_secs, l->t2_secs);
    for (uint32_t i = 0; i < l->n_dns; i++) {
        char d[16];
        ip_text(l->dns[i], d, sizeof d);
        printf("dns %s\n", d);
    }
    fflush(stdout);
}

static bool step(void *ctx, sim *s, uint64_t now) {
    (void)s;
    client *c = ctx;
    tern_dhcp_event ev;
    while (tern_dhcp_next_event(c->n->st, 0, &ev) == TERN_OK) {
        char a[16];
        ip_text(ev.address, a, sizeof a);
        printf("event %s %s at %.3f s\n", event_name(ev.kind), a, ev.time / 1e9);
        fflush(stdout);
        if (ev.kind == TERN_DHCP_EV_BOUND && !c->bound) {
            tern_dhcp_lease l;
            tern_dhcp_get_lease(c->n->st, 0, &l);
            print_lease(&l);
            c->bound = true;
            c->stay_until = now + c->stay_ns;
        }
    }
    if (c->bound && c->resolve && !c->asked) {
        if (tern_dns_resolve(c->n->st, now, c->resolve, &c->qid) != TERN_OK) {
            fprintf(stderr, "tern-dhcp-client: --resolve %s: %s\n", c->resolve,
                    tern_stack_last_error(c->n->st));
            c->failed = true;
            return true;
        }
        c->asked = true;
        ex_wake(c->n);
    }
    if (c->asked && !c->resolved) {
        tern_dns_answer a;
        if (tern_dns_result(c->n->st, c->qid, &a) == TERN_OK && a.status != TERN_DNS_PENDING) {
            c->resolved = true;
            if (a.status != TERN_DNS_OK) {
                printf("resolve %s: failed (status %d)\n", c->resolve, (int)a.status);
                c->failed = true;
            }
            for (uint32_t i = 0; i < a.n_addrs; i++) {
                char t[16];
                ip_text(a.addrs[i], t, sizeof t);
                printf("resolve %s %s\n", c->resolve, t);
            }
            fflush(stdout);
        }
    }
    bool done = c->bound && (!c->resolve || c->resolved);
    return done && now >= c->stay_until;
}

int main(int argc, char **argv) {
    static const char *hostname, *resolve;
    int64_t timeout_s = 60, stay_s = 0;
    const ex_opt opts[] = {
        {"--hostname", "NAME", "host name sent in option 12 (default: none)", EX_OPT_STRING, 0, 0,
         &hostname},
        {"--resolve", "NAME", "once bound, resolve NAME with the lease's DNS servers",
         EX_OPT_STRING, 0, 0, &resolve},
        {"--timeout", "SECONDS", "give up without a lease after this long, 1..3600 (default 60)",
         EX_OPT_INT, 1, 3600, &timeout_s},
        {"--stay", "SECONDS",
         "keep running this long after binding, renewing, 0..86400 (default 0)", EX_OPT_INT, 0,
         86400, &stay_s},
    };
    const ex_program prog = {
        "Get an IPv4 address by DHCP (RFC 2131) for a Tern host on a TAP interface and\n"
        "print the lease (address, netmask, router, DNS servers, times). The host starts\n"
        "without an address; --ip is ignored. Exits 0 with a lease, 1 without.",
        "",
        0,
        0,
        opts,
        sizeof opts / sizeof opts[0],
        "The offered address is probed with ARP before use (RFC 5227: 3 probes, then 2 s),\n"
        "so BOUND comes about 4 to 7 s after the ACK."};
    ex_options o;
    ex_parse(&argc, argv, &o, &prog);
    if (hostname && strlen(hostname) > TERN_DHCP_HOSTNAME_MAX) {
        ex_usage_error("--hostname '%s': at most %d characters", hostname, TERN_DHCP_HOSTNAME_MAX);
    }
    ex_net n;
    ex_setup(&n, &o);
    /* DHCP gives the address: drop the one ex_setup configured from --ip. */
    tern_iface_del_addr(n.st, 0, &o.addr);
    tern_dhcp_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (hostname) {
        memcpy(cfg.hostname, hostname, strlen(hostname) + 1);
    }
    if (tern_dhcp_start(n.st, 0, sim_now(n.s), &cfg) != TERN_OK) {
        ex_die("dhcp start: %s", tern_stack_last_error(n.st));
    }
    ex_wake(&n);
    static client c;
    c.n = &n;
    c.resolve = resolve;
    printf("DHCP on %s\n", o.tap);
    fflush(stdout);
    c.stay_ns = (uint64_t)stay_s * 1000000000ull;
    ex_run(&n, (uint64_t)(timeout_s + stay_s) * 1000000000ull, step, &c);
    if (!c.bound) {
        tern_dhcp_lease l;
        tern_dhcp_get_lease(n.st, 0, &l);
        fprintf(stderr, "tern-dhcp-client: no lease within %lld s (state %d)\n",
                (long long)timeout_s, (int)l.state);
    }
    ex_teardown(&n);
    return c.bound && !c.failed ? 0 : 1;
}

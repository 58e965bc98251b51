/*
 * The network shell's commands that read a host's state (tern/netshell.h):
 * one implementation for the examples' --shell (examples/shell.c) and for
 * pyharness's shell over a simulation (pyharness/shell.py). Formats in the
 * header.
 */
#include "tern/netshell.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tern/dhcp.h"
#include "tern/introspect.h"

/* The commands, for help (ping and dns are the interactive shells' own). */
#define NETSHELL_HELP                                                                              \
    "iface, ipv4, ipv6, route, arp, nbr, conn, stats, dhcp, ping ADDRESS [COUNT], dns NAME, "      \
    "dns server ADDRESS, help"

/* The answer being written: never past cap, len counts what the whole answer needs. */
typedef struct outbuf {
    char *p;
    size_t cap, len;
} outbuf;

static void put(outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(outbuf *o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(room ? o->p + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) {
        o->len += (size_t)n;
    }
}

static void addr_text(char *out, size_t cap, const tern_addr *a) {
    if (a->family == TERN_AF_NONE || tern_addr_format(a, out, cap) != TERN_OK) {
        snprintf(out, cap, "*");
    }
}

/* "a.b.c.d:p", "[v6]:p", or "*:p" for no address (a dual-stack wildcard). */
static void endpoint_text(char *out, size_t cap, const tern_addr *a, uint16_t port) {
    char t[TERN_ADDR_STRLEN];
    addr_text(t, sizeof t, a);
    snprintf(out, cap, a->family == TERN_AF_INET6 ? "[%s]:%u" : "%s:%u", t, port);
}

static void mac_text(char *out, const uint8_t *m) {
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Milliseconds from now to t: "forever" for TERN_NEVER, 0 once past. */
static void left_ms(char *out, size_t cap, uint64_t t, uint64_t now) {
    if (t == TERN_NEVER) {
        snprintf(out, cap, "forever");
    } else {
        snprintf(out, cap, "%" PRIu64, t > now ? (t - now) / 1000000u : 0);
    }
}

/* The network address of a/p (either family). */
static tern_addr masked(const tern_addr *a, uint8_t p) {
    tern_addr n = *a;
    unsigned bytes = a->family == TERN_AF_INET6 ? 16 : 4;
    for (unsigned i = 0; i < bytes; i++) {
        unsigned keep = p >= (i + 1) * 8 ? 8 : p > i * 8 ? p - i * 8 : 0;
        n.bytes[i] &= (uint8_t)(keep == 0 ? 0 : 0xffu << (8 - keep));
    }
    return n;
}

static const char *const addr6_state[] = {"preferred", "tentative", "deprecated"};
static const char *const addr6_origin[] = {"static", "link-local", "slaac", "temporary"};

static void cmd_iface(const tern_stack *st, outbuf *o) {
    tern_iface_info f;
    for (uint32_t i = 0; tern_iface_get(st, i, &f) == TERN_OK; i++) {
        char m[18], a[TERN_ADDR_STRLEN];
        mac_text(m, f.mac);
        put(o, "iface %" PRIu32 " mac %s mtu %" PRIu32 "\n", i, m, f.mtu);
        for (uint32_t k = 0; k < f.naddrs; k++) {
            if (f.addr[k].family == TERN_AF_INET) {
                addr_text(a, sizeof a, &f.addr[k]);
                put(o, "  ipv4 %s/%u\n", a, f.prefix_len[k]);
            }
        }
        tern_ipv6_addr_info v6;
        for (uint32_t k = 0; tern_ipv6_addr_get(st, i, k, &v6) == TERN_OK; k++) {
            addr_text(a, sizeof a, &v6.addr);
            put(o, "  ipv6 %s/%u\n", a, v6.prefix_len);
        }
    }
}

static void cmd_ipv4(const tern_stack *st, outbuf *o) {
    tern_iface_info f;
    for (uint32_t i = 0; tern_iface_get(st, i, &f) == TERN_OK; i++) {
        for (uint32_t k = 0; k < f.naddrs; k++) {
            if (f.addr[k].family == TERN_AF_INET) {
                char a[TERN_ADDR_STRLEN];
                addr_text(a, sizeof a, &f.addr[k]);
                put(o, "%s/%u iface %" PRIu32 "\n", a, f.prefix_len[k], i);
            }
        }
    }
}

static void cmd_ipv6(const tern_stack *st, uint64_t now, outbuf *o) {
    tern_iface_info f;
    for (uint32_t i = 0; tern_iface_get(st, i, &f) == TERN_OK; i++) {
        tern_ipv6_addr_info v6;
        for (uint32_t k = 0; tern_ipv6_addr_get(st, i, k, &v6) == TERN_OK; k++) {
            char a[TERN_ADDR_STRLEN], pl[24], vl[24];
            addr_text(a, sizeof a, &v6.addr);
            left_ms(pl, sizeof pl, v6.preferred_until, now);
            left_ms(vl, sizeof vl, v6.valid_until, now);
            put(o, "%s/%u iface %" PRIu32 " %s %s preferred-ms %s valid-ms %s\n", a, v6.prefix_len,
                i, v6.state < 3 ? addr6_state[v6.state] : "?",
                v6.origin < 4 ? addr6_origin[v6.origin] : "?", pl, vl);
        }
    }
}

static void onlink_line(outbuf *o, const tern_addr *a, uint8_t p, uint32_t iface) {
    char t[TERN_ADDR_STRLEN];
    tern_addr net = masked(a, p);
    addr_text(t, sizeof t, &net);
    put(o, "%s/%u on-link iface %" PRIu32 "\n", t, p, iface);
}

static void cmd_route(const tern_stack *st, uint64_t now, outbuf *o) {
    tern_iface_info f;
    for (uint32_t i = 0; tern_iface_get(st, i, &f) == TERN_OK; i++) {
        for (uint32_t k = 0; k < f.naddrs; k++) {
            if (f.addr[k].family == TERN_AF_INET) {
                onlink_line(o, &f.addr[k], f.prefix_len[k], i);
            }
        }
        /* Each IPv6 address's prefix, once (the link-local fe80::/64 and configured ones). */
        tern_ipv6_addr_info v6, prev;
        for (uint32_t k = 0; tern_ipv6_addr_get(st, i, k, &v6) == TERN_OK; k++) {
            tern_addr net = masked(&v6.addr, v6.prefix_len);
            bool seen = false;
            for (uint32_t j = 0; j < k && tern_ipv6_addr_get(st, i, j, &prev) == TERN_OK; j++) {
                tern_addr pn = masked(&prev.addr, prev.prefix_len);
                seen |= prev.prefix_len == v6.prefix_len && tern_addr_eq(&pn, &net);
            }
            if (!seen) {
                onlink_line(o, &v6.addr, v6.prefix_len, i);
            }
        }
    }
    tern_route_info r;
    for (uint32_t i = 0; tern_route_get(st, i, &r) == TERN_OK; i++) {
        char d[TERN_ADDR_STRLEN], g[TERN_ADDR_STRLEN];
        addr_text(d, sizeof d, &r.dst);
        if (r.dst.family == TERN_AF_NONE) {
            snprintf(d, sizeof d, "%s", r.gateway.family == TERN_AF_INET6 ? "::" : "0.0.0.0");
        }
        if (tern_addr_is_unspecified(&r.gateway)) {
            put(o, "%s/%u on-link iface %" PRIu32 "\n", d, r.prefix_len, r.iface);
        } else {
            addr_text(g, sizeof g, &r.gateway);
            put(o, "%s/%u via %s iface %" PRIu32 "\n", d, r.prefix_len, g, r.iface);
        }
    }
    /* What Router Advertisements taught (RFC 4861 section 6.3.4). */
    tern_ipv6_prefix_info px;
    for (uint32_t i = 0; tern_ipv6_prefix_get(st, i, &px) == TERN_OK; i++) {
        char t[TERN_ADDR_STRLEN], l[24];
        addr_text(t, sizeof t, &px.prefix);
        left_ms(l, sizeof l, px.until, now);
        put(o, "%s/%u on-link iface %" PRIu32 " ra expires-in-ms %s\n", t, px.len, px.iface, l);
    }
    tern_ipv6_router_info rt;
    for (uint32_t i = 0; tern_ipv6_router_get(st, i, &rt) == TERN_OK; i++) {
        char g[TERN_ADDR_STRLEN], l[24];
        addr_text(g, sizeof g, &rt.addr);
        left_ms(l, sizeof l, rt.until, now);
        put(o, "::/0 via %s iface %" PRIu32 " ra expires-in-ms %s\n", g, rt.iface, l);
    }
}

static void cmd_arp(const tern_stack *st, uint64_t now, outbuf *o) {
    tern_arp_info e;
    for (uint32_t i = 0; tern_arp_get(st, i, &e) == TERN_OK; i++) {
        char a[TERN_ADDR_STRLEN], m[18];
        addr_text(a, sizeof a, &e.ip);
        if (e.resolved) {
            mac_text(m, e.mac);
            put(o, "%s at %s iface %" PRIu32 " expires-in-ms %" PRIu64 "\n", a, m, e.iface,
                e.expires > now ? (e.expires - now) / 1000000u : 0);
        } else {
            put(o, "%s incomplete iface %" PRIu32 " requests %" PRIu32 "\n", a, e.iface,
                e.requests);
        }
    }
}

static void cmd_nbr(const tern_stack *st, uint64_t now, outbuf *o) {
    static const char *const states[] = {"NONE",  "INCOMPLETE", "REACHABLE",
                                         "STALE", "DELAY",      "PROBE"};
    tern_nd_info e;
    for (uint32_t i = 0; tern_nd_get(st, i, &e) == TERN_OK; i++) {
        char a[TERN_ADDR_STRLEN], m[18], t[24];
        addr_text(a, sizeof a, &e.ip);
        if (e.timer == TERN_NEVER) {
            snprintf(t, sizeof t, "none");
        } else {
            left_ms(t, sizeof t, e.timer, now);
        }
        const char *s = e.state < 6 ? states[e.state] : "?";
        if (e.state == TERN_ND_STATE_INCOMPLETE) {
            put(o, "%s incomplete iface %" PRIu32 " probes %u queued %" PRIu32 " timer-ms %s\n", a,
                e.iface, e.probes, e.queued, t);
        } else {
            mac_text(m, e.mac);
            put(o, "%s at %s iface %" PRIu32 " %s%s probes %u timer-ms %s\n", a, m, e.iface, s,
                e.is_router ? " router" : "", e.probes, t);
        }
    }
}

static const char *state_name(tern_tcp_state s) {
    static const char *const names[] = {"CLOSED",      "LISTEN",     "SYN-SENT",   "SYN-RECEIVED",
                                        "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
                                        "CLOSING",     "LAST-ACK",   "TIME-WAIT"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static void cmd_conn(const tern_stack *st, uint64_t now, outbuf *o) {
    static const char *const owners[] = {"app", "orphan", "accept-queue", "syn-queue", "time-wait"};
    tern_tcp_conn_info c;
    for (uint32_t i = 0; tern_tcp_conn_get(st, i, &c) == TERN_OK; i++) {
        const tern_tcp_info *t = &c.info;
        char l[TERN_ADDR_STRLEN + 8], r[TERN_ADDR_STRLEN + 8];
        endpoint_text(l, sizeof l, &t->local, t->local_port);
        endpoint_text(r, sizeof r, &t->remote, t->remote_port);
        if (c.owner == TERN_TCP_OWNER_TIMEWAIT) {
            char e[24];
            left_ms(e, sizeof e, c.timewait_expires, now);
            put(o, "tcp %s %s TIME-WAIT expires-in-ms %s owner time-wait\n", l, r, e);
            continue;
        }
        put(o,
            "tcp %s %s %s srtt-us %" PRIu64 " rto-ms %" PRIu64 " cwnd %" PRIu32 " snd-mss %" PRIu32
            " retransmits %" PRIu64 " owner %s\n",
            l, r, state_name(t->state), t->srtt_ns / 1000u, t->rto_ns / 1000000u, t->cwnd,
            t->snd_mss, t->total_retransmits, (unsigned)c.owner < 5 ? owners[c.owner] : "?");
    }
    tern_sock s;
    for (uint32_t i = 0; tern_udp_socket_get(st, i, &s) == TERN_OK; i++) {
        tern_addr a;
        memset(&a, 0, sizeof a);
        uint16_t p = 0;
        char l[TERN_ADDR_STRLEN + 8];
        tern_udp_local(st, s, &a, &p);
        endpoint_text(l, sizeof l, &a, p);
        put(o, "udp %s\n", l);
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
                                            "arp_queue_replaced",
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
                                            "udp_mcast_looped",
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
                                            "tcp_predicted_data",
                                            "tcp_predicted_ack",
                                            "tcp_predicted_ack_lean",
                                            "no_buffer",
                                            "ip6_in",
                                            "ip6_delivered",
                                            "ip6_out",
                                            "ip6_truncated",
                                            "ip6_bad_version",
                                            "ip6_bad_src",
                                            "ip6_bad_dst",
                                            "ip6_not_for_us",
                                            "ip6_no_route",
                                            "ip6_ext_truncated",
                                            "ip6_ext_too_long",
                                            "ip6_unknown_next_header",
                                            "ip6_option_discard",
                                            "ip6_option_malformed",
                                            "ip6_rh_refused",
                                            "ip6_no_next_header",
                                            "ip6_fragments_in",
                                            "ip6_fragments_out",
                                            "ip6_atomic_fragments",
                                            "ip6_frag_bad_length",
                                            "ip6_first_frag_incomplete",
                                            "ip6_reassembled",
                                            "ip6_reasm_timeout",
                                            "ip6_reasm_overlap",
                                            "ip6_reasm_dropped",
                                            "ip6_loopback_in",
                                            "ip6_forwarded",
                                            "ip6_hop_limit_exceeded",
                                            "ip6_too_big_sent",
                                            "ip6_fwd_unreachable",
                                            "icmp6_in",
                                            "icmp6_malformed",
                                            "icmp6_bad_checksum",
                                            "icmp6_echo_requests",
                                            "icmp6_echo_replies_sent",
                                            "icmp6_errors_in",
                                            "icmp6_errors_sent",
                                            "icmp6_rate_limited",
                                            "icmp6_unknown_type",
                                            "nd_invalid",
                                            "nd_ns_in",
                                            "nd_na_in",
                                            "nd_rs_in",
                                            "nd_ra_in",
                                            "nd_redirects_in",
                                            "nd_ns_sent",
                                            "nd_na_sent",
                                            "nd_resolution_failed",
                                            "nd_queue_full",
                                            "nd_queue_replaced",
                                            "nd_table_full",
                                            "nd_unreachable",
                                            "nd_rs_sent",
                                            "nd_routers_expired",
                                            "nd_routers_full",
                                            "dad_probes_sent",
                                            "dad_duplicates",
                                            "slaac_addrs_formed",
                                            "slaac_prefixes_ignored",
                                            "slaac_addrs_expired",
                                            "mld_queries_in",
                                            "mld_bad_queries",
                                            "mld_malformed",
                                            "mld_reports_sent",
                                            "ip6_iface_disabled"};

static void cmd_stats(const tern_stack *st, outbuf *o) {
    tern_counters c;
    tern_stack_get_counters(st, &c);
    uint64_t v[sizeof c / sizeof(uint64_t)];
    memcpy(v, &c, sizeof v);
    size_t named = sizeof counter_names / sizeof counter_names[0];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        /* A counter added to tern_counters after this list still shows, by position. */
        if (i < named) {
            put(o, "%s %" PRIu64 "\n", counter_names[i], v[i]);
        } else {
            put(o, "counter_%zu %" PRIu64 "\n", i, v[i]);
        }
    }
}

static void ip4_text(char *out, size_t cap, uint32_t host_order) {
    tern_addr a = tern_addr_v4_from_u32(host_order);
    addr_text(out, cap, &a);
}

static unsigned mask_len(uint32_t mask) {
    unsigned n = 0;
    while (n < 32 && (mask & (0x80000000u >> n))) {
        n++;
    }
    return n;
}

static void cmd_dhcp(const tern_stack *st, uint64_t now, outbuf *o) {
    tern_iface_info f;
    for (uint32_t i = 0; tern_iface_get(st, i, &f) == TERN_OK; i++) {
        tern_dhcp_lease l;
        if (tern_dhcp_get_lease(st, i, &l) != TERN_OK) {
            continue;
        }
        put(o, "dhcp iface %" PRIu32 " state %s\n", i, tern_dhcp_state_name(l.state));
        if (l.server_id != 0) {
            char s[TERN_ADDR_STRLEN];
            ip4_text(s, sizeof s, l.server_id);
            put(o, "  server %s xid 0x%08" PRIx32 "\n", s, l.xid);
        }
        if (l.address != 0) {
            char a[TERN_ADDR_STRLEN], r[TERN_ADDR_STRLEN] = "none";
            ip4_text(a, sizeof a, l.address);
            if (l.router != 0) {
                ip4_text(r, sizeof r, l.router);
            }
            put(o, "  address %s/%u router %s mtu %u\n", a,
                l.subnet_mask ? mask_len(l.subnet_mask) : 32, r, l.mtu);
            put(o, "  dns");
            for (uint32_t k = 0; k < l.n_dns && k < TERN_DHCP_LEASE_DNS_MAX; k++) {
                char d[TERN_ADDR_STRLEN];
                ip4_text(d, sizeof d, l.dns[k]);
                put(o, " %s", d);
            }
            put(o, "%s\n", l.n_dns ? "" : " none");
            char t1[24], t2[24], ex[24];
            left_ms(t1, sizeof t1, l.t1_at, now);
            left_ms(t2, sizeof t2, l.t2_at, now);
            left_ms(ex, sizeof ex, l.expires_at, now);
            put(o,
                "  lease-s %" PRIu32 " t1-s %" PRIu32 " t2-s %" PRIu32
                " t1-in-ms %s t2-in-ms %s expires-in-ms %s\n",
                l.lease_secs, l.t1_secs, l.t2_secs, t1, t2, ex);
        }
        put(o,
            "  sent discover %" PRIu32 " request %" PRIu32 " decline %" PRIu32 " release %" PRIu32
            "; received offer %" PRIu32 " ack %" PRIu32 " nak %" PRIu32 " ignored %" PRIu32 "\n",
            l.discovers, l.requests, l.declines, l.releases, l.offers, l.acks, l.naks, l.ignored);
    }
}

static const char *const commands[] = {"iface", "ipv4",  "ipv6", "route", "arp", "nbr",
                                       "conn",  "stats", "dhcp", "help",  NULL};

size_t tern_netshell_run(const tern_stack *st, uint64_t now, const char *line, char *out,
                         size_t cap) {
    outbuf o = {out, cap, 0};
    if (cap > 0) {
        out[0] = '\0';
    }
    char cmd[32];
    const char *p = line + strspn(line, " \t");
    size_t n = strcspn(p, " \t\r\n");
    const char *rest = p + n + strspn(p + n, " \t\r\n");
    if (n == 0) {
        return 0; /* an empty line: no answer */
    }
    if (n >= sizeof cmd) {
        n = sizeof cmd - 1;
    }
    memcpy(cmd, p, n);
    cmd[n] = '\0';
    bool known = false;
    for (const char *const *c = commands; *c; c++) {
        known |= !strcmp(*c, cmd);
    }
    if (known && *rest != '\0') {
        put(&o, "error: %s takes no argument\n", cmd);
        return o.len;
    }
    if (!strcmp(cmd, "iface")) {
        cmd_iface(st, &o);
    } else if (!strcmp(cmd, "ipv4")) {
        cmd_ipv4(st, &o);
    } else if (!strcmp(cmd, "ipv6")) {
        cmd_ipv6(st, now, &o);
    } else if (!strcmp(cmd, "route")) {
        cmd_route(st, now, &o);
    } else if (!strcmp(cmd, "arp")) {
        cmd_arp(st, now, &o);
    } else if (!strcmp(cmd, "nbr")) {
        cmd_nbr(st, now, &o);
    } else if (!strcmp(cmd, "conn")) {
        cmd_conn(st, now, &o);
    } else if (!strcmp(cmd, "stats")) {
        cmd_stats(st, &o);
    } else if (!strcmp(cmd, "dhcp")) {
        cmd_dhcp(st, now, &o);
    } else if (!strcmp(cmd, "help")) {
        put(&o, "commands: %s\n", NETSHELL_HELP);
    } else if (!strcmp(cmd, "ping") || !strcmp(cmd, "dns")) {
        put(&o, "error: %s needs the network to run (the shell's driver answers it)\n", cmd);
        return o.len;
    } else {
        put(&o, "error: unknown command '%s' (try help)\n", cmd);
        return o.len;
    }
    put(&o, "ok\n");
    return o.len;
}

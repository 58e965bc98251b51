/*
 * TCP under loss (issue 22), in virtual time between two Tern hosts: 10 MiB
 * from host a to host b over a 100 Mbit/s link with 10 ms one-way delay
 * (20 ms RTT), both directions impaired alike. For each loss setting it
 * prints, as medians over several seeds:
 *   BENCH tcp_loss_goodput_<p>   Mbit/s of virtual time (10 MiB * 8 / the
 *                                virtual time from connect to the last byte
 *                                read by the receiving application)
 *   BENCH tcp_loss_rexmit_<p>    segments the sender retransmitted
 *   BENCH tcp_loss_rto_<p>       retransmission timeouts at the sender
 *   BENCH tcp_loss_tlp_<p>       tail loss probes the sender sent
 * and the same four for the sender with BBR (TERN_TCP_CC_BBR) in place of
 * CUBIC, named tcp_loss_goodput_bbr_<p> and so on.
 * <p> is the Bernoulli loss rate in per cent ("0.5", "1", ...) or "ge" for
 * Gilbert-Elliott bursts (netem's gemodel p 1 % r 30 % 1-h 50 % 1-k 0 %).
 *
 * The receiving application checks every byte against a position-dependent
 * pattern; a mismatch or an unfinished transfer makes the program exit with
 * status 1 (the run fails, not the figure). Usage:
 *   bench_tcp_loss [seeds [setting [cc]]]  seeds 1..15 (default 5), setting
 *                                        one of the <p> names above or "all",
 *                                        cc "cubic", "bbr" or "both" (default)
 * Environment, for comparisons only: BENCH_TLP=0/1 sets the stack's
 * tail_loss_probe default, BENCH_RTO_MIN_MS its minimum RTO, BENCH_ONE_WAY_US
 * the link's one-way delay (10 ms by default), BENCH_TX_KB and BENCH_RX_KB
 * both hosts' send and receive buffers in KiB (1024 by default; a kernel's
 * grow to tcp_wmem's and tcp_rmem's maximum),
 * BENCH_SEED=<n> runs seed n alone (seeds = 1), BENCH_VERBOSE=1 prints every run (with the fast
 * recoveries, the time spent waiting for RTOs: for each timeout, the time since SND.UNA last
 * moved, and both hosts' ARP requests), BENCH_TRACE=1 the sender's state at each RTO,
 * BENCH_BBR_TRACE=<ms> the sender's BBR state (mode, BtlBw, cwnd, flight, rounds) every <ms>
 * virtual milliseconds and at each change of mode, BENCH_PCAP=<file>
 * captures the link at the sender's end (sim_link_capture, with the
 * .events file naming each loss).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/stack.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define BYTES (10ull << 20)
#define MAX_SEEDS 15

typedef struct setting {
    const char *name;
    double loss;  /* Bernoulli probability, or */
    bool gilbert; /* Gilbert-Elliott bursts */
} setting;

static const setting SETTINGS[] = {
    {"0.5", 0.005, false}, {"1", 0.01, false},  {"2", 0.02, false}, {"5", 0.05, false},
    {"10", 0.10, false},   {"15", 0.15, false}, {"ge", 0, true},
};

typedef struct run_result {
    double mbps;
    uint64_t rexmit, rto, tlp, spurious_rtos, srtt_ms, dsacked;
    uint64_t fast, rto_wait_ms, rto_backed_off, done_ms; /* where the time went (BENCH_VERBOSE) */
    uint64_t arp_requests, arp_replaced; /* both hosts' ARP requests and held segments replaced */
} run_result;

static void fail(const char *what, const setting *st, uint64_t seed, sim *s) {
    fprintf(stderr, "bench_tcp_loss: %s (setting %s, seed %llu)%s%s\n", what, st->name,
            (unsigned long long)seed, s ? ": " : "", s ? sim_last_error(s) : "");
    exit(1);
}

static uint8_t pattern(uint64_t i) {
    return (uint8_t)(i ^ (i >> 8) * 31 ^ (i >> 16) * 7);
}

static void host_config(tern_stack_config *c, uint8_t last, uint64_t seed) {
    tern_stack_config_default(c, 1000 * seed + last);
    c->niface = 1;
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, last};
    memcpy(c->iface[0].mac, mac, 6);
    c->iface[0].naddrs = 1;
    c->iface[0].addr[0] = tern_addr_v4(10, 0, 0, last);
    c->iface[0].prefix_len[0] = 24;
    c->tcp_sockets = 4;
    /* Enough for the bandwidth-delay product (250 KB) with room for recovery. */
    c->tcp.rx_buffer = 1 << 20;
    c->tcp.tx_buffer = 1 << 20;
    c->tcp.sack = c->tcp.timestamps = c->tcp.window_scaling = true;
    /* Knobs for comparisons; the figures are for the defaults. */
    if (getenv("BENCH_TLP"))
        c->tcp.tail_loss_probe = atoi(getenv("BENCH_TLP")) != 0;
    if (getenv("BENCH_RTO_MIN_MS"))
        c->tcp.rto_min_ns = (uint64_t)atoi(getenv("BENCH_RTO_MIN_MS")) * MS;
    if (getenv("BENCH_TX_KB"))
        c->tcp.tx_buffer = (uint32_t)atoi(getenv("BENCH_TX_KB")) * 1024;
    if (getenv("BENCH_RX_KB"))
        c->tcp.rx_buffer = (uint32_t)atoi(getenv("BENCH_RX_KB")) * 1024;
    /* BENCH_DELACK_MS=40: the kernel's delayed-ACK timer (TCP_DELACK_MIN) on
     * both hosts, to come nearer a kernel receiver's ACK stream. */
    if (getenv("BENCH_DELACK_MS"))
        c->tcp.delack_ns = (uint64_t)atoi(getenv("BENCH_DELACK_MS")) * MS;
}

/* BENCH_ONE_WAY_US: another one-way delay (e.g. 50 for a LAN like the TAP
 * interop test's), for comparisons only. */
static int64_t one_way_delay_ns(void) {
    const char *e = getenv("BENCH_ONE_WAY_US");
    return e ? (int64_t)atoi(e) * 1000 : (int64_t)(10 * MS);
}

static run_result run(const setting *st, uint64_t seed, tern_tcp_cc cc) {
    sim *s;
    if (sim_create(seed, &s))
        fail("sim_create", st, seed, NULL);
    tern_stack_config ca, cb;
    host_config(&ca, 1, seed);
    host_config(&cb, 2, seed);
    sim_node_id a, b;
    sim_link_id l;
    if (sim_host_add(s, "a", &ca, &a) || sim_host_add(s, "b", &cb, &b) ||
        sim_link_add(s, a, 0, b, 0, &l) || sim_link_set_rate(s, l, SIM_DIR_BOTH, 100000000) ||
        sim_link_set_delay(s, l, SIM_DIR_BOTH, one_way_delay_ns(), 0, false))
        fail("setup", st, seed, s);
    tern_err e = st->gilbert
                     ? sim_link_set_loss_gilbert_elliott(s, l, SIM_DIR_BOTH, 0.01, 0.3, 0.5, 0.0)
                     : sim_link_set_loss_bernoulli(s, l, SIM_DIR_BOTH, st->loss);
    if (e)
        fail("loss model", st, seed, s);
    if (getenv("BENCH_PCAP") && sim_link_capture(s, l, 0, getenv("BENCH_PCAP")))
        fail("capture", st, seed, s);
    tern_stack *sa = sim_host_stack(s, a), *sb = sim_host_stack(s, b);
    tern_sock lis, cl, sv = 0;
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    if (tern_tcp_open(sb, &lis) || tern_tcp_bind(sb, lis, NULL, 5001) ||
        tern_tcp_listen(sb, lis, 8) || tern_tcp_open(sa, &cl) ||
        tern_tcp_set_option(sa, cl, TERN_TCP_OPT_CONGESTION, (int64_t)cc) ||
        tern_tcp_connect(sa, cl, &dst, 5001))
        fail("sockets", st, seed, NULL);
    static uint8_t buf[1 << 18];
    uint64_t sent = 0, got = 0, now = 0, done_at = 0;
    bool shut = false, eof = false;
    /* Where the time goes (BENCH_VERBOSE): each RTO adds the time since the
     * sender last saw SND.UNA move; rto_backed_off counts RTOs that fired
     * with the timer already backed off (a consecutive timeout). */
    uint64_t last_acked = 0, last_progress = 0, last_rto = 0, rto_wait = 0, backed_off = 0;
    uint64_t bbr_trace_ms =
        getenv("BENCH_BBR_TRACE") ? (uint64_t)atoi(getenv("BENCH_BBR_TRACE")) : 0;
    uint32_t last_mode = UINT32_MAX;
    while (!eof) {
        if (!sv && tern_tcp_accept(sb, lis, &sv) != TERN_OK)
            sv = 0;
        while (sent < BYTES) {
            size_t n = tern_tcp_writable(sa, cl), w = 0;
            if (n == 0)
                break;
            if (n > BYTES - sent)
                n = (size_t)(BYTES - sent);
            if (n > sizeof buf)
                n = sizeof buf;
            for (size_t i = 0; i < n; i++)
                buf[i] = pattern(sent + i);
            if (tern_tcp_send(sa, cl, buf, n, &w) != TERN_OK)
                break;
            sent += w;
        }
        if (sent == BYTES && !shut) {
            if (tern_tcp_shutdown(sa, cl, 1))
                fail("shutdown", st, seed, NULL);
            shut = true;
        }
        while (sv) {
            size_t n = 0;
            if (tern_tcp_recv(sb, sv, buf, sizeof buf, &n) != TERN_OK)
                break;
            if (n == 0) {
                eof = true;
                break;
            }
            for (size_t i = 0; i < n; i++)
                if (buf[i] != pattern(got + i))
                    fail("delivered bytes differ from the bytes sent", st, seed, NULL);
            got += n;
            if (got > BYTES)
                fail("more bytes delivered than sent", st, seed, NULL);
            if (got == BYTES)
                done_at = now;
        }
        if (eof)
            break;
        tern_tcp_info ci = {0};
        if (tern_tcp_get_info(sa, cl, &ci) == TERN_OK && ci.state == TERN_TCP_CLOSED)
            fail("the sender's connection closed before the transfer ended", st, seed, NULL);
        if (bbr_trace_ms && ci.state != 0 &&
            (now / MS % bbr_trace_ms == 0 || ci.bbr_mode != last_mode)) {
            fprintf(stderr,
                    "bbr %llu ms: mode %u btlbw %.2f Mbit/s pacing %.2f gain %u/%u round %u rtprop "
                    "%llu us cwnd %u inflight %u sacked %u lost %u una %u recov %llu rexmit %llu\n",
                    (unsigned long long)(now / MS), ci.bbr_mode, (double)ci.bbr_btlbw * 8 / 1e6,
                    (double)ci.bbr_pacing_rate * 8 / 1e6, ci.bbr_pacing_gain, ci.bbr_cwnd_gain,
                    ci.bbr_round_count, (unsigned long long)(ci.bbr_rtprop_ns / 1000), ci.cwnd,
                    ci.in_flight, ci.sacked, ci.lost, ci.snd_una - ci.iss,
                    (unsigned long long)ci.fast_retransmits,
                    (unsigned long long)ci.total_retransmits);
            last_mode = ci.bbr_mode;
        }
        if (ci.bytes_acked != last_acked) {
            last_acked = ci.bytes_acked;
            last_progress = now;
        }
        if (ci.rto_timeouts != last_rto) {
            if (getenv("BENCH_TRACE"))
                fprintf(stderr,
                        "rto at %llu ms after %llu ms: backoff %u rto %llu srtt %llu rttvar %llu "
                        "una %u nxt %u inflight %u sacked %u lost %u cwnd %u ssth %u tlp %llu\n",
                        (unsigned long long)(now / MS),
                        (unsigned long long)((now - last_progress) / MS), ci.retransmits,
                        (unsigned long long)(ci.rto_ns / MS),
                        (unsigned long long)(ci.srtt_ns / 1000),
                        (unsigned long long)(ci.rttvar_ns / 1000), ci.snd_una - ci.iss,
                        ci.snd_nxt - ci.iss, ci.in_flight, ci.sacked, ci.lost, ci.cwnd, ci.ssthresh,
                        (unsigned long long)ci.tlp_probes);
            rto_wait += now - last_progress;
            backed_off += ci.retransmits > 1;
            last_rto = ci.rto_timeouts;
            last_progress = now; /* the next RTO's wait counts from this one */
        }
        sim_node_wake(s, a);
        sim_node_wake(s, b);
        now += 1 * MS; /* the applications wake up every virtual millisecond */
        if (sim_run(s, now, 0, NULL))
            fail("sim_run", st, seed, s);
        if (now > 3600 * SEC)
            fail("transfer unfinished after an hour of virtual time", st, seed, NULL);
    }
    if (got != BYTES || done_at == 0)
        fail("end of stream before every byte arrived", st, seed, NULL);
    tern_tcp_info info;
    if (tern_tcp_get_info(sa, cl, &info))
        fail("get_info", st, seed, NULL);
    run_result r = {(double)BYTES * 8 / ((double)done_at / 1e9) / 1e6,
                    info.total_retransmits,
                    info.rto_timeouts,
                    info.tlp_probes,
                    info.spurious_rtos,
                    info.srtt_ns / MS,
                    info.spurious_retransmits,
                    info.fast_retransmits,
                    rto_wait / MS,
                    backed_off,
                    done_at / MS,
                    0,
                    0};
    tern_counters ka, kb;
    tern_stack_get_counters(sa, &ka);
    tern_stack_get_counters(sb, &kb);
    r.arp_requests = ka.arp_requests_sent + kb.arp_requests_sent;
    r.arp_replaced = ka.arp_queue_replaced + kb.arp_queue_replaced;
    sim_destroy(s);
    return r;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    int seeds = argc > 1 ? atoi(argv[1]) : 5;
    const char *only = argc > 2 && strcmp(argv[2], "all") != 0 ? argv[2] : NULL;
    const char *ccs = argc > 3 ? argv[3] : "both";
    if (strcmp(ccs, "cubic") != 0 && strcmp(ccs, "bbr") != 0 && strcmp(ccs, "both") != 0) {
        fprintf(stderr, "bench_tcp_loss: cc must be cubic, bbr or both, not %s\n", ccs);
        return 2;
    }
    if (seeds < 1 || seeds > MAX_SEEDS) {
        fprintf(stderr, "bench_tcp_loss: seeds must be 1..%d, not %s\n", MAX_SEEDS, argv[1]);
        return 2;
    }
    bool found = false;
    for (size_t k = 0; k < sizeof SETTINGS / sizeof SETTINGS[0]; k++) {
        const setting *st = &SETTINGS[k];
        if (only && strcmp(only, st->name) != 0)
            continue;
        found = true;
        for (int c = 0; c < 2; c++) {
            tern_tcp_cc cc = c == 0 ? TERN_TCP_CC_CUBIC : TERN_TCP_CC_BBR;
            const char *pre = c == 0 ? "" : "bbr_";
            if (strcmp(ccs, "both") != 0 && strcmp(ccs, c == 0 ? "cubic" : "bbr") != 0)
                continue;
            double mbps[MAX_SEEDS], rex[MAX_SEEDS], rto[MAX_SEEDS], tlp[MAX_SEEDS];
            for (int i = 0; i < seeds; i++) {
                uint64_t seed =
                    getenv("BENCH_SEED") ? (uint64_t)atoi(getenv("BENCH_SEED")) : (uint64_t)i + 1;
                run_result r = run(st, seed, cc);
                mbps[i] = r.mbps;
                rex[i] = (double)r.rexmit;
                rto[i] = (double)r.rto;
                tlp[i] = (double)r.tlp;
                if (getenv("BENCH_VERBOSE"))
                    fprintf(
                        stderr,
                        "  %s%s seed %d: %.2f Mbit/s rexmit %llu rto %llu (spurious %llu) tlp %llu "
                        "srtt at the end %llu ms, D-SACKed retransmissions %llu, recoveries %llu, "
                        "%llu of %llu ms waiting for RTOs (%llu backed off), ARP requests %llu "
                        "(held segments replaced %llu)\n",
                        pre, st->name, (int)seed, r.mbps, (unsigned long long)r.rexmit,
                        (unsigned long long)r.rto, (unsigned long long)r.spurious_rtos,
                        (unsigned long long)r.tlp, (unsigned long long)r.srtt_ms,
                        (unsigned long long)r.dsacked, (unsigned long long)r.fast,
                        (unsigned long long)r.rto_wait_ms, (unsigned long long)r.done_ms,
                        (unsigned long long)r.rto_backed_off, (unsigned long long)r.arp_requests,
                        (unsigned long long)r.arp_replaced);
            }
            printf("BENCH tcp_loss_goodput_%s%s %.2f Mbit/s\n", pre, st->name, median(mbps, seeds));
            printf("BENCH tcp_loss_rexmit_%s%s %.0f segments\n", pre, st->name, median(rex, seeds));
            printf("BENCH tcp_loss_rto_%s%s %.0f timeouts\n", pre, st->name, median(rto, seeds));
            printf("BENCH tcp_loss_tlp_%s%s %.0f probes\n", pre, st->name, median(tlp, seeds));
            fflush(stdout);
        }
    }
    if (!found) {
        fprintf(stderr, "bench_tcp_loss: unknown setting %s (0.5 1 2 5 10 15 ge)\n", only);
        return 2;
    }
    return 0;
}

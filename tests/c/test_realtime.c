/*
 * The real-time driver and the TAP node: virtual time follows the wall
 * clock, events run at their own times, stop conditions, bad arguments; and,
 * where the process may create a network namespace and a TAP device (root,
 * /dev/net/tun), the Linux kernel's ping to a Tern host and a Tern host's
 * ping to the kernel, over a TAP interface in a private network namespace,
 * and frames from the kernel entering virtual time no earlier than they
 * really arrived, however late the driver runs.
 * Without those privileges the kernel part prints why it is skipped.
 */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/sim_realtime.h"
#include "tern/sim_tap.h"
#include "tern/stack.h"

#define MS 1000000ull
#define SEC 1000000000ull

static uint64_t wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static sim_node_id add_host(sim *s, const char *name, uint8_t last, tern_addr ip) {
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, last);
    cfg.niface = 1;
    uint8_t mac[6] = {0x02, 0, 0, 0, 0x77, last};
    memcpy(cfg.iface[0].mac, mac, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = ip;
    cfg.iface[0].prefix_len[0] = 24;
    sim_node_id id = 0;
    CHECK(sim_host_add(s, name, &cfg, &id) == TERN_OK);
    return id;
}

typedef struct ping_wait {
    tern_stack *st;
    tern_sock sock;
    int replies;
    int want;
    uint64_t last_rtt;
    uint64_t sent_at;
} ping_wait;

static bool ping_step(void *ctx, sim *s, uint64_t now) {
    (void)s;
    (void)now;
    ping_wait *w = ctx;
    tern_ping_reply r;
    while (tern_ping_recv(w->st, w->sock, &r, NULL, 0) == TERN_OK) {
        w->replies++;
        w->last_rtt = r.time - w->sent_at;
    }
    return w->replies >= w->want;
}

/* Two Tern hosts 20 ms apart: the reply comes after exactly 40 ms of virtual time, which took at
 * least 40 ms of wall time. */
static void test_clock_follows_wall(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_node_id a = add_host(s, "a", 1, tern_addr_v4(10, 77, 0, 1));
    sim_node_id b = add_host(s, "b", 2, tern_addr_v4(10, 77, 0, 2));
    sim_link_id l;
    CHECK(sim_link_add(s, a, 0, b, 0, &l) == TERN_OK);
    CHECK(sim_link_set_delay(s, l, SIM_DIR_BOTH, 10 * MS, 0, false) == TERN_OK);
    sim_realtime *rt;
    CHECK(sim_realtime_create(s, &rt) == TERN_OK);

    ping_wait w = {sim_host_stack(s, a), 0, 0, 1, 0, 0};
    CHECK(tern_ping_open(w.st, 7, &w.sock) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 77, 0, 2);
    w.sent_at = sim_realtime_now(rt);
    /* The wall clock is read before virtual time is brought to it: the reply
     * then needs at least 40 ms of wall time after t0, however long the
     * calls in between take (they are slow under ASan). */
    uint64_t t0 = wall_ns();
    /* Bring virtual time to the wall clock before sending, so the ping leaves "now". */
    sim_realtime_stop why;
    CHECK(sim_realtime_run(rt, 0, 0, NULL, NULL, &why) == TERN_OK);
    CHECK(why == SIM_RT_STOP_TIME);
    w.sent_at = sim_now(s);
    CHECK(tern_ping_send(w.st, w.sock, &dst, 1, NULL, 56, 0, false) == TERN_OK);
    CHECK(sim_node_wake(s, a) == TERN_OK);
    CHECK(sim_realtime_run(rt, 2 * SEC, 0, ping_step, &w, &why) == TERN_OK);
    uint64_t wall = wall_ns() - t0;
    CHECK(why == SIM_RT_STOP_CALLBACK);
    CHECK_EQ_U64(w.replies, 1);
    /* ARP request + reply, echo request + reply: four crossings of 10 ms. */
    CHECK_EQ_U64(w.last_rtt, 40 * MS);
    CHECK(wall >= 40 * MS);
    CHECK(wall < 1 * SEC);
    CHECK(sim_now(s) >= w.sent_at + 40 * MS);

    /* A plain duration: virtual time advances by the wall time. */
    t0 = wall_ns();
    uint64_t v0 = sim_now(s);
    CHECK(sim_realtime_run(rt, 30 * MS, 0, NULL, NULL, &why) == TERN_OK);
    wall = wall_ns() - t0;
    CHECK(why == SIM_RT_STOP_TIME);
    CHECK(sim_now(s) - v0 >= 30 * MS);
    CHECK(wall >= 30 * MS);
    CHECK(wall < 1 * SEC);

    sim_realtime_stats st;
    sim_realtime_get_stats(rt, &st);
    CHECK_EQ_U64(st.runs, 3);
    CHECK(st.sleeps >= 1);
    sim_realtime_destroy(rt);
    sim_destroy(s);
}

/* Virtual time run ahead with sim_run: the real-time clock slides forward, never back. */
static void test_anchor_slides(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_realtime *rt;
    CHECK(sim_realtime_create(s, &rt) == TERN_OK);
    uint64_t v = sim_realtime_now(rt);
    CHECK(v < 1 * SEC);
    CHECK(sim_run(s, 100 * SEC, 0, NULL) == TERN_OK);
    CHECK(sim_realtime_now(rt) >= 100 * SEC);
    CHECK(sim_realtime_run(rt, 1 * MS, 0, NULL, NULL, NULL) == TERN_OK);
    CHECK(sim_now(s) >= 100 * SEC + 1 * MS);
    CHECK(sim_now(s) < 101 * SEC);
    sim_realtime_destroy(rt);
    sim_destroy(s);
}

static void test_bad_arguments(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_realtime *rt;
    CHECK(sim_realtime_create(s, &rt) == TERN_OK);
    CHECK(sim_realtime_run(rt, SIM_NEVER, 0, NULL, NULL, NULL) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(sim_last_error(s), "duration=never");
    sim_node_id id;
    CHECK(sim_tap_add(s, "tap", "", &id) == TERN_ERR_INVALID_ARGUMENT);
    CHECK(sim_tap_add(s, "tap", "a-name-far-too-long-for-linux", &id) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(sim_last_error(s), "a-name-far-too-long-for-linux");
    CHECK(sim_peer_add(s, "p", 1, 0, &id) == TERN_OK);
    int fd;
    CHECK(sim_tap_fd(s, id, &fd) == TERN_ERR_WRONG_KIND);
    CHECK(sim_tap_fd(s, 99, &fd) == TERN_ERR_UNKNOWN_NODE);
    CHECK(sim_tap_service(s, id, 0, NULL) == TERN_ERR_WRONG_KIND);
    CHECK(sim_tap_ifname(s, id) == NULL);
    sim_tap_counters c;
    CHECK(sim_tap_get_counters(s, id, &c) == TERN_ERR_WRONG_KIND);
    sim_realtime_destroy(rt);
    sim_destroy(s);
    sim_realtime_destroy(NULL);
}

/* ---- against the kernel ------------------------------------------------------------------ */

static bool have_program(const char *name) {
    const char *dirs[] = {"/usr/bin", "/bin", "/usr/sbin", "/sbin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", dirs[i], name);
        if (access(p, X_OK) == 0) {
            return true;
        }
    }
    return false;
}

static int sh(const char *cmd) {
    int r = system(cmd);
    return r == -1 ? -1 : (WIFEXITED(r) ? WEXITSTATUS(r) : 128);
}

typedef struct child_wait {
    pid_t pid;
    int status;
    bool done;
} child_wait;

static bool child_step(void *ctx, sim *s, uint64_t now) {
    (void)s;
    (void)now;
    child_wait *c = ctx;
    if (waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
        c->done = true;
    }
    return c->done;
}

static void test_kernel_ping(void) {
    if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        printf("test_kernel_ping: skipped: no /dev/net/tun (%s)\n", strerror(errno));
        return;
    }
    if (!have_program("ip") || !have_program("ping")) {
        printf("test_kernel_ping: skipped: needs iproute2's ip and iputils' ping\n");
        return;
    }
    /* A private network namespace: the kernel side of the test is gone with the process. */
    if (unshare(CLONE_NEWNET) != 0) {
        printf("test_kernel_ping: skipped: cannot create a network namespace: %s\n",
               strerror(errno));
        return;
    }
    sim *s;
    CHECK(sim_create(3, &s) == TERN_OK);
    sim_node_id tap;
    tern_err err = sim_tap_add(s, "kernel", "terntest%d", &tap);
    if (err != TERN_OK) {
        printf("test_kernel_ping: skipped: %s\n", sim_last_error(s));
        sim_destroy(s);
        return;
    }
    const char *ifname = sim_tap_ifname(s, tap);
    CHECK(ifname && strncmp(ifname, "terntest", 8) == 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "ip link set lo up && ip addr add 10.77.0.1/24 dev %s && ip link set %s up", ifname,
             ifname);
    CHECK(sh(cmd) == 0);
    sim_node_id host = add_host(s, "tern", 2, tern_addr_v4(10, 77, 0, 2));
    sim_link_id l;
    CHECK(sim_link_add(s, tap, 0, host, 0, &l) == TERN_OK);
    CHECK(sim_link_set_delay(s, l, SIM_DIR_BOTH, 1 * MS, 0, false) == TERN_OK);
    sim_realtime *rt;
    CHECK(sim_realtime_create(s, &rt) == TERN_OK);

    /* The kernel pings the Tern host, small and fragmented requests. Deadline mode (-w): ping exits
     * 0 only once 2 replies came. With -c 2 -W 2 alone it gave up max(2 x RTT, the interval) after
     * its second request and exited 0 with one reply; a test process held up then left that request
     * unanswered in the TAP queue, and the count below was 3. */
    const char *sizes[] = {"56", "4000"};
    for (size_t i = 0; i < 2; i++) {
        child_wait c = {0, 0, false};
        c.pid = fork();
        if (c.pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 1);
            execlp("ping", "ping", "-n", "-c", "2", "-i", "0.05", "-w", "10", "-s", sizes[i],
                   "10.77.0.2", (char *)NULL);
            _exit(127);
        }
        CHECK(c.pid > 0);
        sim_realtime_stop why;
        CHECK(sim_realtime_run(rt, 20 * SEC, 0, child_step, &c, &why) == TERN_OK);
        CHECK(why == SIM_RT_STOP_CALLBACK);
        CHECK(c.done && WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0);
        if (!c.done) {
            kill(c.pid, SIGKILL);
            waitpid(c.pid, NULL, 0);
        }
    }
    tern_counters tc;
    tern_stack_get_counters(sim_host_stack(s, host), &tc);
    /* At least the 2 + 2 replies ping counted; more when a late reply made it send a third request.
     */
    CHECK(tc.icmp_echo_replies_sent >= 4);

    /* The Tern host pings the kernel. */
    ping_wait w = {sim_host_stack(s, host), 0, 0, 1, 0, 0};
    CHECK(tern_ping_open(w.st, 9, &w.sock) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 77, 0, 1);
    CHECK(sim_realtime_run(rt, 0, 0, NULL, NULL, NULL) == TERN_OK);
    w.sent_at = sim_now(s);
    CHECK(tern_ping_send(w.st, w.sock, &dst, 1, NULL, 1000, 0, false) == TERN_OK);
    CHECK(sim_node_wake(s, host) == TERN_OK);
    sim_realtime_stop why;
    CHECK(sim_realtime_run(rt, 5 * SEC, 0, ping_step, &w, &why) == TERN_OK);
    CHECK(why == SIM_RT_STOP_CALLBACK);
    CHECK_EQ_U64(w.replies, 1);
    CHECK(w.last_rtt >= 2 * MS);

    sim_tap_counters c;
    CHECK(sim_tap_get_counters(s, tap, &c) == TERN_OK);
    CHECK(c.from_kernel_frames >= 4);
    CHECK(c.to_kernel_frames >= 4);
    sim_realtime_stats st;
    sim_realtime_get_stats(rt, &st);
    CHECK(st.tap_frames == c.from_kernel_frames);
    sim_realtime_destroy(rt);
    sim_destroy(s);
}

/* ---- a frame from the kernel enters no earlier than it arrived ------------------------------ */

#define PROBE_ETHERTYPE                                                                            \
    0x88b5 /* IEEE 802 local experimental: nothing else in the namespace sends it */

/* Why the kernel tests cannot run here (a message), or NULL; on NULL the process is in a fresh
 * private network namespace (gone with the process). */
static const char *enter_private_netns(void) {
    static char why[160];
    if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        snprintf(why, sizeof why, "no /dev/net/tun (%s)", strerror(errno));
        return why;
    }
    if (unshare(CLONE_NEWNET) != 0) {
        snprintf(why, sizeof why, "cannot create a network namespace: %s", strerror(errno));
        return why;
    }
    return NULL;
}

/* The kernel's side: a packet socket that sends raw frames out of the TAP interface. */
typedef struct kernel_side {
    sim_realtime *rt;
    int fd;
    int ifindex;
    uint64_t
        sent_at; /* virtual time of the wall clock just before the probe was sent (0: not yet) */
} kernel_side;

static bool kernel_side_open(kernel_side *k, sim_realtime *rt, const char *ifname) {
    memset(k, 0, sizeof *k);
    k->rt = rt;
    k->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (k->fd < 0) {
        printf("kernel_side_open: packet socket: %s\n", strerror(errno));
        return false;
    }
    /* Straight to the device, not through a qdisc: the frame is in the TAP queue when sendto
     * returns. */
    int one = 1;
    CHECK(setsockopt(k->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) == 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    CHECK(ioctl(k->fd, SIOCGIFFLAGS, &ifr) == 0);
    ifr.ifr_flags |= IFF_UP;
    CHECK(ioctl(k->fd, SIOCSIFFLAGS, &ifr) == 0);
    k->ifindex = (int)if_nametoindex(ifname);
    CHECK(k->ifindex > 0);
    return true;
}

/* Sleep `ms` of wall time (a process the scheduler put aside, as on a busy machine). */
static void stall_ms(uint64_t ms) {
    uint64_t until = wall_ns() + ms * MS;
    while (wall_ns() < until) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

/* The kernel sends the probe now; sent_at is the virtual time of the wall clock just before. */
static void kernel_send_probe(kernel_side *k) {
    uint8_t f[60];
    memset(f, 0, sizeof f);
    memset(f, 0xff, 6);                                        /* broadcast */
    memcpy(f + 6, (uint8_t[6]){0x02, 0, 0, 0, 0x77, 0x99}, 6); /* a local address */
    f[12] = PROBE_ETHERTYPE >> 8;
    f[13] = PROBE_ETHERTYPE & 0xff;
    memcpy(f + 14, "tern realtime probe", 19);
    struct sockaddr_ll to;
    memset(&to, 0, sizeof to);
    to.sll_family = AF_PACKET;
    to.sll_ifindex = k->ifindex;
    to.sll_halen = 6;
    memset(to.sll_addr, 0xff, 6);
    k->sent_at = sim_realtime_now(k->rt);
    CHECK(sendto(k->fd, f, sizeof f, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)sizeof f);
}

/* The virtual time the peer received the probe at, or SIM_NEVER; other frames (the kernel's
 * IPv6 chatter on a new interface) are skipped. */
static uint64_t probe_arrival(sim *s, sim_node_id peer) {
    static uint8_t buf[SIM_MAX_FRAME];
    size_t len;
    uint64_t t;
    uint64_t found = SIM_NEVER;
    while (sim_peer_recv(s, peer, buf, sizeof buf, &len, NULL, &t) == TERN_OK) {
        if (len >= 14 && ((buf[12] << 8) | buf[13]) == PROBE_ETHERTYPE && found == SIM_NEVER) {
            found = t;
        }
    }
    return found;
}

/* A simulation of a TAP node linked (no delay) to a scripted peer; the kernel side opened. */
typedef struct probe_bench {
    sim *s;
    sim_realtime *rt;
    sim_node_id tap, peer;
    kernel_side k;
} probe_bench;

static bool probe_bench_open(probe_bench *b, const char *test) {
    const char *why = enter_private_netns();
    if (why) {
        printf("%s: skipped: %s\n", test, why);
        return false;
    }
    CHECK(sim_create(5, &b->s) == TERN_OK);
    if (sim_tap_add(b->s, "kernel", "ternprobe%d", &b->tap) != TERN_OK) {
        printf("%s: skipped: %s\n", test, sim_last_error(b->s));
        sim_destroy(b->s);
        return false;
    }
    CHECK(sim_peer_add(b->s, "peer", 1, 0, &b->peer) == TERN_OK);
    sim_link_id l;
    CHECK(sim_link_add(b->s, b->tap, 0, b->peer, 0, &l) == TERN_OK);
    CHECK(sim_realtime_create(b->s, &b->rt) == TERN_OK);
    if (!kernel_side_open(&b->k, b->rt, sim_tap_ifname(b->s, b->tap))) {
        sim_realtime_destroy(b->rt);
        sim_destroy(b->s);
        return false;
    }
    /* Anchor, and let the kernel's own frames of a new interface pass. */
    CHECK(sim_realtime_run(b->rt, 20 * MS, 0, NULL, NULL, NULL) == TERN_OK);
    probe_arrival(b->s, b->peer);
    return true;
}

static void probe_bench_close(probe_bench *b) {
    close(b->k.fd);
    sim_realtime_destroy(b->rt);
    sim_destroy(b->s);
}

typedef struct late_step {
    kernel_side *k;
    int calls;
} late_step;

/* After the first round, the process is held up past the end of the run (250 ms), then the kernel
 * sends. */
static bool late_send_step(void *ctx, sim *s, uint64_t now) {
    (void)s;
    late_step *l = ctx;
    if (l->calls++ == 0) {
        while (sim_realtime_now(l->k->rt) < now + 250 * MS) {
            stall_ms(1);
        }
        kernel_send_probe(l->k);
    }
    return false;
}

/* The round after a late one reads a frame that came after the run's deadline: it enters at its
 * arrival, not at the deadline. */
static void test_frame_after_the_deadline_enters_at_its_arrival(void) {
    probe_bench b;
    if (!probe_bench_open(&b, "test_frame_after_the_deadline_enters_at_its_arrival")) {
        return;
    }
    late_step l = {&b.k, 0};
    uint64_t v0 = sim_now(b.s);
    sim_realtime_stop why;
    /* The first round comes well within the 200 ms (the stall then ends 250 ms after it), so the
     * next round is past the deadline and reads the probe. */
    CHECK(sim_realtime_run(b.rt, 200 * MS, 0, late_send_step, &l, &why) == TERN_OK);
    CHECK(why == SIM_RT_STOP_TIME);
    CHECK(b.k.sent_at >= v0 + 250 * MS);
    if (l.calls < 2) {
        /* The machine held the process up past the deadline before the first round: the probe
         * waits for the next run (which must not stamp it early either). */
        CHECK(sim_realtime_run(b.rt, 0, 0, NULL, NULL, &why) == TERN_OK);
    }
    uint64_t at = probe_arrival(b.s, b.peer);
    CHECK(at != SIM_NEVER);
    if (at < b.k.sent_at) {
        printf("probe sent at virtual %llu ns entered at %llu ns (%llu ns early)\n",
               (unsigned long long)b.k.sent_at, (unsigned long long)at,
               (unsigned long long)(b.k.sent_at - at));
    }
    CHECK(at >= b.k.sent_at);
    CHECK(sim_now(b.s) >= at);
    probe_bench_close(&b);
}

/* A node that, when its time comes, takes `stall` of wall time and has the kernel send the probe
 * meanwhile: the frame arrives after the round read the clock, before the round reads the
 * devices. */
typedef struct slow_node {
    kernel_side *k;
    uint64_t at;
} slow_node;

static void slow_poll(void *state, uint64_t now) {
    slow_node *n = state;
    if (now >= n->at) {
        n->at = SIM_NEVER;
        stall_ms(3);
        kernel_send_probe(n->k);
        stall_ms(2);
    }
}

static uint64_t slow_poll_at(void *state) {
    return ((slow_node *)state)->at;
}

static void test_frame_during_a_round_enters_at_its_arrival(void) {
    probe_bench b;
    if (!probe_bench_open(&b, "test_frame_during_a_round_enters_at_its_arrival")) {
        return;
    }
    static const sim_node_ops slow_ops = {NULL, slow_poll, slow_poll_at, NULL};
    slow_node n = {&b.k, sim_realtime_now(b.rt) + 5 * MS};
    sim_node_id id;
    CHECK(sim_node_add(b.s, "slow", "test", 1, &slow_ops, &n, &id) == TERN_OK);
    CHECK(sim_node_wake(b.s, id) == TERN_OK);
    CHECK(sim_realtime_run(b.rt, 40 * MS, 0, NULL, NULL, NULL) == TERN_OK);
    CHECK(n.at == SIM_NEVER);
    CHECK(b.k.sent_at != 0);
    uint64_t at = probe_arrival(b.s, b.peer);
    CHECK(at != SIM_NEVER);
    if (at < b.k.sent_at) {
        printf("probe sent at virtual %llu ns entered at %llu ns (%llu ns early)\n",
               (unsigned long long)b.k.sent_at, (unsigned long long)at,
               (unsigned long long)(b.k.sent_at - at));
    }
    CHECK(at >= b.k.sent_at);
    probe_bench_close(&b);
}

int main(void) {
    RUN(test_clock_follows_wall);
    RUN(test_anchor_slides);
    RUN(test_bad_arguments);
    RUN(test_kernel_ping);
    RUN(test_frame_after_the_deadline_enters_at_its_arrival);
    RUN(test_frame_during_a_round_enters_at_its_arrival);
    return check_summary();
}

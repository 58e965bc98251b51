/*
 * The real-time driver and the TAP node: virtual time follows the wall
 * clock, events run at their own times, stop conditions, bad arguments; and,
 * where the process may create a network namespace and a TAP device (root,
 * /dev/net/tun), the Linux kernel's ping to a Tern host and a Tern host's
 * ping to the kernel, over a TAP interface in a private network namespace.
 * Without those privileges the kernel part prints why it is skipped.
 */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
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

    /* The kernel pings the Tern host, one small and one fragmented request. */
    const char *sizes[] = {"56", "4000"};
    for (size_t i = 0; i < 2; i++) {
        child_wait c = {0, 0, false};
        c.pid = fork();
        if (c.pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 1);
            execlp("ping", "ping", "-n", "-c", "2", "-i", "0.05", "-W", "2", "-s", sizes[i],
                   "10.77.0.2", (char *)NULL);
            _exit(127);
        }
        CHECK(c.pid > 0);
        sim_realtime_stop why;
        CHECK(sim_realtime_run(rt, 10 * SEC, 0, child_step, &c, &why) == TERN_OK);
        CHECK(why == SIM_RT_STOP_CALLBACK);
        CHECK(c.done && WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0);
        if (!c.done) {
            kill(c.pid, SIGKILL);
            waitpid(c.pid, NULL, 0);
        }
    }
    tern_counters tc;
    tern_stack_get_counters(sim_host_stack(s, host), &tc);
    CHECK_EQ_U64(tc.icmp_echo_replies_sent, 4);

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

int main(void) {
    RUN(test_clock_follows_wall);
    RUN(test_anchor_slides);
    RUN(test_bad_arguments);
    RUN(test_kernel_ping);
    return check_summary();
}

/*
 * One lwIP per simulator node, several nodes per process.
 *
 * lwIP keeps its whole state in globals (pcb lists, ports, timers, the heap and the pools, the ARP
 * table, statistics). The build puts every writable section of lwIP (and of port/tern_port.c) into
 * two named sections, lwip_data and lwip_bss, whose bounds the linker gives as __start_/__stop_
 * symbols (duts/lwip/Makefile checks that nothing escaped). A node keeps a copy of those bytes; the
 * node whose copy is in place is "current", and lw_enter() swaps copies when another node is
 * called. The sections never move, so pointers inside lwIP's state (a pcb in a list, a pbuf in a
 * pool) stay valid in every copy. Each node starts from the image the library had when it was
 * loaded, before lwip_init() ever ran. docs/lwip.md compares this with one process per node.
 */
#include <stdlib.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "adapter.h"
#include "tern_port_state.h"

#define HIDDEN __attribute__((visibility("hidden")))
extern uint8_t __start_lwip_data[] HIDDEN, __stop_lwip_data[] HIDDEN;
extern uint8_t __start_lwip_bss[] HIDDEN, __stop_lwip_bss[] HIDDEN;

/* The adapter's own globals (not swapped): which node's state is in place, and the load image. */
static lwip_inst *current;
static uint8_t *pristine;
static uint64_t assertions;

static size_t data_len(void) {
    return (size_t)(__stop_lwip_data - __start_lwip_data);
}
static size_t bss_len(void) {
    return (size_t)(__stop_lwip_bss - __start_lwip_bss);
}
static void save(uint8_t *to) {
    memcpy(to, __start_lwip_data, data_len());
    memcpy(to + data_len(), __start_lwip_bss, bss_len());
}
static void restore(const uint8_t *from) {
    memcpy(__start_lwip_data, from, data_len());
    memcpy(__start_lwip_bss, from + data_len(), bss_len());
}

uint64_t lw_now_ns(const lwip_inst *inst) {
    return inst->api->now(inst->s);
}

void lw_enter(lwip_inst *inst) {
    if (current != inst) {
        if (current) {
            save(current->saved);
        }
        restore(inst->saved);
        current = inst;
    }
    /* lwIP's clock is ms (sys_now, u32_t): the simulator's ns, truncated. */
    tern_lwip_now_ms = (uint32_t)(lw_now_ns(inst) / 1000000u);
}

void lw_wake(lwip_inst *inst) {
    inst->api->node_wake(inst->s, inst->id);
}

void tern_lwip_assert(const char *msg, const char *file, int line) {
    assertions++;
    fprintf(stderr, "lwIP assertion failed: %s (%s:%d)\n", msg, file, line);
}

TERN_LWIP_API uint64_t lw_assertions(void) {
    return assertions;
}

/* ---- sockets table ---- */

lw_sock *lw_sock_new(lwip_inst *inst, sk_kind k) {
    for (int32_t h = 0; h < LW_MAX_SOCKS; h++) {
        if (!inst->socks[h]) {
            lw_sock *sk = calloc(1, sizeof *sk);
            if (!sk) {
                return NULL;
            }
            sk->kind = k;
            sk->handle = h;
            sk->inst = inst;
            inst->socks[h] = sk;
            return sk;
        }
    }
    return NULL;
}

lw_sock *lw_sock_get(lwip_inst *inst, int32_t h, sk_kind k) {
    if (h < 0 || h >= LW_MAX_SOCKS || !inst->socks[h] || inst->socks[h]->kind != k) {
        return NULL;
    }
    return inst->socks[h];
}

void lw_sock_free(lw_sock *sk) {
    while (sk->q_head) {
        lw_dgram *d = sk->q_head;
        sk->q_head = d->next;
        free(d);
    }
    sk->inst->socks[sk->handle] = NULL;
    free(sk);
}

/* ---- the netif: frames out through the simulator ---- */

static void flush(lwip_inst *inst) {
    while (inst->out_head) {
        lw_frame *f = inst->out_head;
        inst->out_head = f->next;
        inst->api->node_send(inst->s, inst->id, 0, f->data, f->len);
        free(f);
    }
    inst->out_tail = NULL;
}

/* netif->linkoutput: copy the frame; it leaves when the node operation in progress ends (or at the
 * poll a call from Python asked for), in the order lwIP made them. */
static err_t linkoutput(struct netif *nif, struct pbuf *p) {
    lwip_inst *inst = nif->state;
    /* The Ethernet MAC pads a frame to the 60-byte minimum (IEEE 802.3 §4.2.3.3): lwIP leaves that
     * to the hardware, so the adapter, as the driver, does it. */
    size_t len = p->tot_len < 60 ? 60 : p->tot_len;
    lw_frame *f = calloc(1, sizeof *f + len);
    if (!f) {
        return ERR_MEM;
    }
    pbuf_copy_partial(p, f->data, p->tot_len, 0);
    f->len = len;
    if (inst->out_tail) {
        inst->out_tail->next = f;
    } else {
        inst->out_head = f;
    }
    inst->out_tail = f;
    return ERR_OK;
}

static err_t netif_setup(struct netif *nif) {
    lwip_inst *inst = nif->state;
    nif->name[0] = 't';
    nif->name[1] = 'n';
    nif->output = etharp_output;
    nif->linkoutput = linkoutput;
    nif->mtu = inst->mtu;
    nif->hwaddr_len = 6;
    memcpy(nif->hwaddr, inst->mac, 6);
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    return ERR_OK;
}

/* ---- node operations ---- */

static void op_input(void *st, uint64_t now, uint32_t port, const uint8_t *frame, size_t len) {
    (void)now;
    (void)port;
    lwip_inst *inst = st;
    lw_enter(inst);
    /* The NIC's address filter (lwIP's ethernet_input leaves it to the hardware): frames to our
     * MAC, broadcast, and IPv4 multicast MACs 01:00:5e:00:00:00/25 (RFC 1112 §6.4), which lwIP's IP
     * layer then judges; other multicast (IPv6, bridge protocols) and other unicast are not for us.
     */
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t ipv4_mcast[3] = {0x01, 0x00, 0x5e};
    if (len < 14 || (memcmp(frame, inst->mac, 6) != 0 && memcmp(frame, bcast, 6) != 0 &&
                     (memcmp(frame, ipv4_mcast, 3) != 0 || (frame[3] & 0x80)))) {
        return;
    }
    if (len <= 0xffff) {
        /* The frame is valid only during this call: lwIP gets a copy in a pool pbuf chain. */
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
        if (p) {
            pbuf_take(p, frame, (u16_t)len);
            if (inst->netif.input(p, &inst->netif) != ERR_OK) {
                pbuf_free(p);
            }
        }
    }
    flush(inst);
}

static void op_poll(void *st, uint64_t now) {
    (void)now;
    lwip_inst *inst = st;
    lw_enter(inst);
    sys_check_timeouts();
    flush(inst);
}

static uint64_t op_poll_at(void *st) {
    lwip_inst *inst = st;
    if (inst->out_head) {
        return 0; /* at or before now: now */
    }
    lw_enter(inst);
    u32_t sleep = sys_timeouts_sleeptime();
    if (sleep == SYS_TIMEOUTS_SLEEPTIME_INFINITE) {
        return SIM_NEVER;
    }
    return ((uint64_t)tern_lwip_now_ms + sleep) * 1000000u;
}

static void op_destroy(void *st) {
    lwip_inst *inst = st;
    if (current == inst) {
        current = NULL; /* its state in place is garbage now; the next node restores its own */
    }
    for (int i = 0; i < LW_MAX_SOCKS; i++) {
        if (inst->socks[i]) {
            lw_sock_free(inst->socks[i]); /* pbufs it held live in the discarded lwIP state */
        }
    }
    while (inst->out_head) {
        lw_frame *f = inst->out_head;
        inst->out_head = f->next;
        free(f);
    }
    free(inst->saved);
    free(inst);
}

static const sim_node_ops ops = {op_input, op_poll, op_poll_at, op_destroy};

/* ---- configuration ---- */

static int parse_mac(const char *v, uint8_t mac[6]) {
    unsigned b[6];
    char tail;
    if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) !=
        6) {
        return -1;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t)b[i];
    }
    return 0;
}

static int parse_ip(const char *v, uint32_t *ip, unsigned *prefix) {
    unsigned a, b, c, d, p;
    char tail;
    if (sscanf(v, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &p, &tail) != 5 || a > 255 || b > 255 ||
        c > 255 || d > 255 || p > 32) {
        return -1;
    }
    *ip = a << 24 | b << 16 | c << 8 | d;
    *prefix = p;
    return 0;
}

TERN_LWIP_API tern_err tern_node_create(const sim_plugin_api *api, sim *s, const char *name,
                                        const char *config, char *err, size_t errlen,
                                        sim_node_id *out) {
    if (!api || api->version != SIM_PLUGIN_API_VERSION) {
        snprintf(err, errlen, "sim_plugin_api version %u, this library knows %d",
                 api ? api->version : 0, SIM_PLUGIN_API_VERSION);
        return TERN_ERR_INVALID_ARGUMENT;
    }
    uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    uint32_t ip = 0;
    unsigned prefix = 0;
    unsigned long mtu = 1500;
    uint64_t seed = 1;
    char buf[512];
    if (strlen(config) >= sizeof buf) {
        snprintf(err, errlen, "config longer than %zu bytes", sizeof buf - 1);
        return TERN_ERR_INVALID_ARGUMENT;
    }
    strcpy(buf, config);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            snprintf(err, errlen, "config item '%s' is not key=value", tok);
            return TERN_ERR_INVALID_ARGUMENT;
        }
        *eq = '\0';
        const char *k = tok, *v = eq + 1;
        char *end = NULL;
        if (!strcmp(k, "mac")) {
            if (parse_mac(v, mac)) {
                snprintf(err, errlen, "mac=%s is not aa:bb:cc:dd:ee:ff", v);
                return TERN_ERR_INVALID_ARGUMENT;
            }
        } else if (!strcmp(k, "ip")) {
            if (parse_ip(v, &ip, &prefix)) {
                snprintf(err, errlen, "ip=%s is not a.b.c.d/prefix", v);
                return TERN_ERR_INVALID_ARGUMENT;
            }
        } else if (!strcmp(k, "mtu")) {
            mtu = strtoul(v, &end, 10);
            if (!*v || *end || mtu < 576 || mtu > 9000) {
                snprintf(err, errlen, "mtu=%s is not a number in 576..9000", v);
                return TERN_ERR_INVALID_ARGUMENT;
            }
        } else if (!strcmp(k, "seed")) {
            seed = strtoull(v, &end, 10);
            if (!*v || *end) {
                snprintf(err, errlen, "seed=%s is not a number", v);
                return TERN_ERR_INVALID_ARGUMENT;
            }
        } else {
            snprintf(err, errlen, "unknown config key '%s' (known: mac ip mtu seed)", k);
            return TERN_ERR_INVALID_ARGUMENT;
        }
    }
    if (!ip) {
        snprintf(err, errlen, "config needs ip=a.b.c.d/prefix");
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if (!pristine) {
        /* First node of the process: no lwIP code has run yet, so lwIP's state is its load image.
         */
        pristine = malloc(data_len() + bss_len());
        if (!pristine) {
            return TERN_ERR_NO_MEMORY;
        }
        save(pristine);
    }
    lwip_inst *inst = calloc(1, sizeof *inst);
    if (!inst || !(inst->saved = malloc(data_len() + bss_len()))) {
        free(inst);
        return TERN_ERR_NO_MEMORY;
    }
    memcpy(inst->saved, pristine, data_len() + bss_len());
    inst->api = api;
    inst->s = s;
    memcpy(inst->mac, mac, 6);
    inst->mtu = (uint16_t)mtu;
    tern_err rc = api->node_add(s, name, "lwip", 1, &ops, inst, &inst->id);
    if (rc != TERN_OK) {
        free(inst->saved);
        free(inst);
        return rc;
    }
    lw_enter(inst);
    tern_lwip_rand_state = seed ? seed : 1;
    lwip_init();
    ip4_addr_t a, m, gw;
    ip4_addr_set_u32(&a, lwip_htonl(ip));
    ip4_addr_set_u32(&m, lwip_htonl(prefix ? 0xffffffffu << (32 - prefix) : 0));
    ip4_addr_set_zero(&gw);
    netif_add(&inst->netif, &a, &m, &gw, inst, netif_setup, ethernet_input);
    netif_set_default(&inst->netif);
    netif_set_link_up(&inst->netif);
    netif_set_up(&inst->netif);
    /* lwIP announces its address when the netif comes up (etharp_gratuitous). The node is created
     * before anything is linked to it, so the announcement goes out now, into an unplugged port
     * (the simulator counts it in tx_no_link), like a device that boots before its cable is
     * connected. */
    flush(inst);
    *out = inst->id;
    return TERN_OK;
}

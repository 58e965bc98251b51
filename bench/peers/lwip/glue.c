/*
 * The application side of one lwIP instance of the bulk benchmark (bench_lwip.h): a netif on the
 * in-memory link, one connection through the raw API, received data held as lwIP's pbufs until the
 * driver reads it (the receive buffer), and the port functions lwIP calls (sys_now, LWIP_RAND).
 * Linked with its own copy of lwIP: the statics below are this instance's.
 */
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "bench_lwip.h"

static struct netif nif;
static uint8_t mac_last;
static bench_lwip_tx_fn tx_fn;
static void *tx_ctx;
static uint32_t now_ms;
static uint64_t rand_state;
static struct tcp_pcb *conn;    /* the connection, once connected or accepted */
static struct pbuf *rx_pending; /* received, not yet read */
static size_t rx_offset;        /* bytes of rx_pending's first pbuf already read */

u32_t sys_now(void) {
    return now_ms;
}

unsigned bench_lwip_rand(void) {
    uint64_t x = rand_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rand_state = x;
    return (unsigned)((x * 0x2545f4914f6cdd1dull) >> 32);
}

static err_t link_output(struct netif *n, struct pbuf *p) {
    (void)n;
    uint8_t *frame = tx_fn(tx_ctx, p->tot_len);
    if (!frame)
        return ERR_MEM;
    pbuf_copy_partial(p, frame, p->tot_len, 0);
    return ERR_OK;
}

static err_t netif_setup(struct netif *n) {
    n->hwaddr_len = 6;
    const uint8_t mac[6] = {0x02, 0, 0, 0, 0, mac_last};
    memcpy(n->hwaddr, mac, 6);
    n->mtu = 1500;
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    n->output = etharp_output;
    n->linkoutput = link_output;
    return ERR_OK;
}

static void init(uint8_t last, bench_lwip_tx_fn tx, void *ctx) {
    mac_last = last;
    tx_fn = tx;
    tx_ctx = ctx;
    rand_state = 0x9e3779b97f4a7c15ull ^ last;
    lwip_init();
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, 10, 0, 0, last);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    netif_add(&nif, &ip, &mask, &gw, NULL, netif_setup, ethernet_input);
    netif_set_default(&nif);
    netif_set_up(&nif);
    netif_set_link_up(&nif);
}

static void input(const uint8_t *frame, size_t len) {
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
    if (!p) {
        fprintf(stderr, "bench-lwip: the pbuf pool ran out (PBUF_POOL_SIZE too small)\n");
        exit(1);
    }
    pbuf_take(p, frame, (u16_t)len);
    if (nif.input(p, &nif) != ERR_OK)
        pbuf_free(p);
}

static void timers(uint32_t ms) {
    now_ms = ms;
    sys_check_timeouts();
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    (void)arg;
    (void)pcb;
    if (!p || err != ERR_OK) {
        fprintf(stderr, "bench-lwip: the connection ended before the transfer did\n");
        exit(1);
    }
    if (rx_pending)
        pbuf_cat(rx_pending, p);
    else
        rx_pending = p;
    return ERR_OK;
}

static void on_err(void *arg, err_t err) {
    (void)arg;
    fprintf(stderr, "bench-lwip: connection error %d\n", (int)err);
    exit(1);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    conn = pcb;
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_err);
    return ERR_OK;
}

static int listen(uint16_t port) {
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb || tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK)
        return -1;
    pcb = tcp_listen(pcb);
    if (!pcb)
        return -1;
    tcp_accept(pcb, on_accept);
    return 0;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    (void)pcb;
    return err;
}

static int connect(uint8_t last, uint16_t port) {
    ip4_addr_t dst;
    IP4_ADDR(&dst, 10, 0, 0, last);
    conn = tcp_new();
    if (!conn)
        return -1;
    tcp_recv(conn, on_recv);
    tcp_err(conn, on_err);
    return tcp_connect(conn, &dst, port, on_connected) == ERR_OK ? 0 : -1;
}

static size_t send(const uint8_t *data, size_t len) {
    if (!conn || conn->state != ESTABLISHED)
        return 0;
    size_t done = 0;
    while (done < len) {
        size_t n = len - done;
        if (n > tcp_sndbuf(conn))
            n = tcp_sndbuf(conn);
        if (n > 0xffff) /* tcp_write takes a u16_t length */
            n = 0xffff;
        if (n == 0 || tcp_write(conn, data + done, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        done += n;
    }
    if (done)
        tcp_output(conn);
    return done;
}

static size_t recv(uint8_t *out, size_t cap) {
    size_t done = 0;
    while (rx_pending && done < cap) {
        size_t avail = rx_pending->len - rx_offset;
        size_t k = cap - done < avail ? cap - done : avail;
        memcpy(out + done, (const uint8_t *)rx_pending->payload + rx_offset, k);
        done += k;
        rx_offset += k;
        if (rx_offset == rx_pending->len) {
            struct pbuf *next = rx_pending->next;
            if (next)
                pbuf_ref(next);
            pbuf_free(rx_pending); /* frees this pbuf only: its successor holds a reference */
            rx_pending = next;
            rx_offset = 0;
        }
    }
    for (size_t left = done; left > 0;) {
        u16_t k = left > 0xffff ? 0xffff : (u16_t)left;
        tcp_recved(conn, k);
        left -= k;
    }
    return done;
}

const bench_lwip_api bench_lwip_api_ = {init, input, timers, listen, connect, send, recv};

/*
 * The adapter's private interface: a node is an lwip_inst; its sockets are slots in a table.
 * instance.c: the node, the swap of lwIP's globals, the netif, time; tcp.c: TCP sockets;
 * dgram.c: UDP and ICMP echo sockets.
 */
#ifndef TERN_LWIP_ADAPTER_H
#define TERN_LWIP_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tern/sim_plugin.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"

#define TERN_LWIP_API __attribute__((visibility("default")))
#define LW_MAX_SOCKS 256
#define LW_ACCEPT_MAX 64
#define LW_UDP_QUEUE                                                                               \
    16 /* datagrams a UDP socket holds (the adapter's choice: the raw API has none) */

typedef enum { SK_FREE, SK_TCP, SK_UDP, SK_PING } sk_kind;

/* A received datagram or echo reply, kept outside lwIP (malloc'd). */
typedef struct lw_dgram {
    struct lw_dgram *next;
    uint32_t ip;
    uint16_t port; /* UDP: source port; ping: sequence number */
    uint8_t ttl;
    uint64_t time;
    size_t len;
    uint8_t data[];
} lw_dgram;

typedef struct lw_sock {
    sk_kind kind;
    int32_t handle;
    struct lwip_inst *inst;
    void *pcb; /* tcp_pcb, udp_pcb or raw_pcb (inside lwIP's state); NULL once lwIP freed it */
    /* TCP */
    struct pbuf *rx; /* received, not yet read */
    bool fin;        /* FIN received */
    int32_t error;   /* why the connection ended (Tern error code), 0 if not */
    uint8_t last_state;
    bool listening;
    bool unlisted;
    /* Options set on the socket (bit n-1: option n of lw_tcp_set_option is set): a listener's apply
     * to each connection it accepts, as BSD sockets inherit them (lwIP copies only so_options). */
    uint32_t opt_mask;
    uint64_t opt_value[6]; /* a pcb from tcp_new, in no lwIP list until bind, listen or connect */
    int32_t acceptq[LW_ACCEPT_MAX];
    uint32_t naccept;
    struct lw_sock *listener; /* a connection not yet accepted: its listener */
    /* UDP / ping */
    lw_dgram *q_head, *q_tail;
    uint32_t q_len;
    uint16_t ident;
    bool has_error; /* ping: an ICMP error about one of our requests waits in err */
    uint8_t err_type, err_code;
    uint16_t err_mtu;
    uint32_t err_from, err_dst;
    uint64_t err_time;
} lw_sock;

/* Outgoing frames made outside a node operation wait here for the next poll. */
typedef struct lw_frame {
    struct lw_frame *next;
    size_t len;
    uint8_t data[];
} lw_frame;

typedef struct lwip_inst {
    const sim_plugin_api *api;
    sim *s;
    sim_node_id id;
    uint8_t *saved; /* lwIP's globals of this node while another node's are current */
    struct netif netif;
    uint8_t mac[6];
    uint16_t mtu;
    lw_frame *out_head, *out_tail;
    lw_sock *socks[LW_MAX_SOCKS];
} lwip_inst;

/* Make inst's lwIP state current and set lwIP's clock to the simulator's now. */
void lw_enter(lwip_inst *inst);
/* Ask the simulator to poll the node (frames made by a call from Python leave then). */
void lw_wake(lwip_inst *inst);
/* A new socket slot of kind k, or NULL when the table is full. */
lw_sock *lw_sock_new(lwip_inst *inst, sk_kind k);
/* The slot of handle h if it is of kind k, else NULL. */
lw_sock *lw_sock_get(lwip_inst *inst, int32_t h, sk_kind k);
/* Release a slot (its queued datagrams too). */
void lw_sock_free(lw_sock *sk);
/* The simulator's now, ns. */
uint64_t lw_now_ns(const lwip_inst *inst);

#endif

/*
 * A fake stack instance holding one TCP control block with ten 1000-byte
 * segments in flight and SACK on: enough for unit tests of the scoreboard
 * and recovery functions, which touch no more of the instance than this.
 * fake_receiver() makes it a receiver instead: eight out-of-order ranges and
 * a 4096-byte receive ring, for the reassembly and SACK-block functions.
 */
#ifndef TERN_TEST_TCP_FAKE_PCB_H
#define TERN_TEST_TCP_FAKE_PCB_H

#include <string.h>

#include "tcp/tcp_private.h"

#define FAKE_OOO_MAX 8
#define FAKE_RX_CAP 4096
#define FAKE_SACK_CAP 16 /* the scoreboard's smallest capacity (tcp_sack_cap) */

static struct {
    tern_stack st;
    tern_tcp_module m;
    tcp_pcb pcb[1];
    tcp_range aux[FAKE_OOO_MAX + FAKE_SACK_CAP];
    uint8_t buffers[FAKE_RX_CAP];
} fake;

static tcp_pcb *fake_pcb(void) {
    memset(&fake, 0, sizeof fake);
    fake.st.tcp = &fake.m;
    fake.m.pcb = fake.pcb;
    fake.m.aux = fake.aux;
    fake.m.ooo_cap = 4;
    fake.m.sack_cap = FAKE_SACK_CAP;
    fake.m.nsock = 1;
    tcp_pcb *p = &fake.pcb[0];
    p->snd_mss = 1000;
    p->snd_una = 1000;
    p->snd_nxt = 11000; /* ten segments out */
    p->high_rxt = p->lost_to = p->snd_una;
    p->flags = TCPF_SACK_OK;
    return p;
}

/* A receiver: RCV.NXT 5000, SACK negotiated, D-SACK on, an empty 4096-byte ring. */
static inline tcp_pcb *fake_receiver(void) {
    tcp_pcb *p = fake_pcb();
    fake.m.ooo_cap = FAKE_OOO_MAX;
    fake.m.rx_cap = FAKE_RX_CAP;
    fake.m.tx_cap = 0;
    fake.m.buffers = fake.buffers;
    p->state = TERN_TCP_ESTABLISHED;
    p->rx_cap = FAKE_RX_CAP;
    p->rcv_nxt = 5000;
    p->dsack_on = 1;
    return p;
}

#endif /* TERN_TEST_TCP_FAKE_PCB_H */

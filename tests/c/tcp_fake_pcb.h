/*
 * A fake stack instance holding one TCP control block with ten 1000-byte
 * segments in flight and SACK on: enough for unit tests of the scoreboard
 * and recovery functions, which touch no more of the instance than this.
 */
#ifndef TERN_TEST_TCP_FAKE_PCB_H
#define TERN_TEST_TCP_FAKE_PCB_H

#include <string.h>

#include "tcp_private.h"

static struct {
    tern_stack st;
    tern_tcp_module m;
    tcp_pcb pcb[1];
    tcp_range aux[4 + TCP_SACK_SCOREBOARD];
} fake;

static tcp_pcb *fake_pcb(void) {
    memset(&fake, 0, sizeof fake);
    fake.st.tcp = &fake.m;
    fake.m.pcb = fake.pcb;
    fake.m.aux = fake.aux;
    fake.m.ooo_cap = 4;
    fake.m.nsock = 1;
    tcp_pcb *p = &fake.pcb[0];
    p->snd_mss = 1000;
    p->snd_una = 1000;
    p->snd_nxt = 11000; /* ten segments out */
    p->high_rxt = p->lost_to = p->snd_una;
    p->flags = TCPF_SACK_OK;
    return p;
}

#endif /* TERN_TEST_TCP_FAKE_PCB_H */

/*
 * Until the TCP module lands: weak entry points so the core links and runs
 * with TCP absent (no memory, no segments accepted, no timers). TCP's own
 * definitions replace these; this file goes away when tcp_socket.c lands.
 */
#include "stack_internal.h"

__attribute__((weak)) size_t tern_tcp_memory_size(const tern_stack_config *cfg) {
    (void)cfg;
    return 0;
}
__attribute__((weak)) void tern_tcp_init(tern_stack *st, uint8_t *mem) {
    (void)st;
    (void)mem;
}
__attribute__((weak)) void tern_tcp_input(tern_stack *st, uint64_t now,
                                          const struct tern_ipv4_repr *ip, uint32_t iface) {
    (void)now;
    (void)ip;
    (void)iface;
    st->c.tcp_in++;
    st->c.tcp_no_socket++;
}
__attribute__((weak)) void tern_tcp_icmp_error(tern_stack *st, uint64_t now,
                                               const tern_sock_error *err,
                                               const struct tern_ipv4_repr *quoted,
                                               const uint8_t *l4, size_t l4_len) {
    (void)st;
    (void)now;
    (void)err;
    (void)quoted;
    (void)l4;
    (void)l4_len;
}
__attribute__((weak)) void tern_tcp_poll(tern_stack *st, uint64_t now) {
    (void)st;
    (void)now;
}
__attribute__((weak)) uint64_t tern_tcp_poll_at(const tern_stack *st) {
    (void)st;
    return TERN_NEVER;
}
__attribute__((weak)) bool tern_tcp_port_in_use(const tern_stack *st, uint16_t port) {
    (void)st;
    (void)port;
    return false;
}

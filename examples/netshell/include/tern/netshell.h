/*
 * The network shell's state commands over one Tern stack host: the same
 * answers for the examples' --shell (examples/shell.c, on a TAP device) and
 * for pyharness's shell over a simulation (pyharness/shell.py, e.g.
 * `net.shell()` or `pyharness shell`). The host is only read
 * (tern/introspect.h). Formats, one line per item, stable (tests compare
 * them); every answer ends with a line "ok" or "error: <why>":
 *
 *   iface   iface I mac M mtu N              then "  ipv4 A/P" per IPv4 address and
 *                                            "  ipv6 A/P" per IPv6 address (link-local first)
 *   ipv4    A/P iface I
 *   ipv6    A/P iface I STATE ORIGIN preferred-ms L valid-ms L
 *           STATE preferred, tentative (DAD running) or deprecated; ORIGIN static,
 *           link-local, slaac or temporary; L the lifetime left in ms, or "forever"
 *   route   A/P on-link iface I                 each interface's subnets (IPv4, then the
 *                                               prefixes of its IPv6 addresses)
 *           A/P on-link iface I | A/P via G iface I   the route table (tern_route_add)
 *           P/L on-link iface I ra expires-in-ms L    on-link prefixes from RAs
 *           ::/0 via R iface I ra expires-in-ms L     default routers from RAs
 *   arp     A at M iface I expires-in-ms N | A incomplete iface I requests N
 *   nbr     A at M iface I STATE [router] probes N timer-ms T
 *           A incomplete iface I probes N queued N timer-ms T
 *           STATE REACHABLE, STALE, DELAY or PROBE (RFC 4861 section 7.3.2); T the time to
 *           the entry's next transition or retransmission in ms, or "none"
 *   conn    tcp L R STATE srtt-us N rto-ms N cwnd N snd-mss N retransmits N owner O
 *           tcp L R TIME-WAIT expires-in-ms N owner time-wait   (the TIME-WAIT table)
 *           udp L
 *           L and R are a.b.c.d:P, [v6]:P, or *:P for no address (a socket of both
 *           families); O is app (the application holds it), orphan (closed by the
 *           application, still finishing), accept-queue (established, not yet accepted),
 *           syn-queue (half-open)
 *   stats   NAME VALUE                          every counter of struct tern_counters
 *   dhcp    dhcp iface I state S                per interface (OFF: its client never started)
 *             server A xid 0xX                  (once a server answered)
 *             address A/P router R mtu N        (while holding a lease)
 *             dns D1 [D2 ...] | dns none
 *             lease-s N t1-s N t2-s N t1-in-ms L t2-in-ms L expires-in-ms L
 *             sent discover N request N decline N release N; received offer N ack N nak N
 *             ignored N
 *   help    commands: ...
 */
#ifndef TERN_NETSHELL_H
#define TERN_NETSHELL_H

#ifndef TERN_CDEF
#include <stddef.h>
#include <stdint.h>

#include "tern/stack.h"
#endif

/*
 * tern_netshell_run: run one command line on host st at virtual time now.
 *   line  the command ("conn", " route\n"); leading and trailing blanks ignored
 *   out   receives the answer, NUL-terminated, cut to cap - 1 bytes
 * Returns the length of the whole answer (as snprintf: a value >= cap means
 * it was cut); 0 for an empty line (no answer). Unknown commands, arguments
 * to these commands, and ping/dns (they need the network to run: the
 * interactive shells answer them) give one line "error: ...".
 */
size_t tern_netshell_run(const tern_stack *st, uint64_t now, const char *line, char *out,
                         size_t cap);

#endif /* TERN_NETSHELL_H */

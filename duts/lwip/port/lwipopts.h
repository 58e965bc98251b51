/*
 * lwIP 2.1 configuration of the Tern lwIP DUT: NO_SYS (no threads, no OS), the raw (callback) API,
 * IPv4 with ARP over Ethernet, ICMP, UDP, TCP. Values are lwIP's defaults (src/include/lwip/opt.h)
 * except where a line says why; docs/lwip.md lists the choices and DutProfile gives their effect.
 */
#ifndef TERN_LWIPOPTS_H
#define TERN_LWIPOPTS_H

/* The simulator calls us: no OS, no threads, no locks. */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_TIMERS 1
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0

/* Static heap and pools only (MEM_LIBC_MALLOC 0, MEMP_MEM_MALLOC 0): all of lwIP's memory is in its
 * writable data, which the adapter swaps per instance (docs/lwip.md). 64-bit host: 8-byte
 * alignment. */
#define MEM_ALIGNMENT 8
#define MEM_SIZE (1024 * 1024)
#define MEMP_NUM_PBUF 64
#define PBUF_POOL_SIZE 256
#define MEMP_NUM_TCP_PCB 32
#define MEMP_NUM_TCP_PCB_LISTEN 16
#define MEMP_NUM_TCP_SEG 512
#define MEMP_NUM_UDP_PCB 16
#define MEMP_NUM_RAW_PCB 8
#define MEMP_NUM_REASSDATA 8
#define MEMP_NUM_FRAG_PBUF 32
#define MEMP_NUM_ARP_QUEUE 32

/* Protocols. */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 1 /* the ping socket: a raw ICMP pcb reads echo replies */
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1

/* TCP: MSS for a 1500-byte MTU; window and send buffer of 44 segments (64240 bytes: the largest
 * multiple of the MSS below 65535, so no window scaling is needed); the TCP features lwIP 2.1 has,
 * on: keep-alive, listen backlog, SACK generation, timestamps. */
#define TCP_MSS 1460
#define TCP_WND (44 * TCP_MSS)
#define TCP_SND_BUF (44 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_LISTEN_BACKLOG 1
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_TCP_SACK_OUT 1
#define LWIP_TCP_TIMESTAMPS 1
#define LWIP_CALLBACK_API 1

/* Counters for counters() (lwIP's own statistics). */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0

/* Random numbers (initial local ports) from the instance's seeded generator: same seed, same bytes.
 */
#define LWIP_RAND() tern_lwip_rand()

/* Checksums computed and checked in software (the simulated link does no offload). */
#define LWIP_CHECKSUM_ON_COPY 0

#include "arch/tern_port.h"

#endif

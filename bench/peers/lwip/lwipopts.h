/*
 * lwIP 2.1 configuration of the bulk benchmark (bench/peers/lwip): the Tern lwIP DUT's choices
 * (duts/lwip/port/lwipopts.h: NO_SYS, raw API, static heap and pools, software checksums) with the
 * buffers of the run: BENCH_BUF (65536 or 1048576, given by the Makefile) bytes of send buffer
 * (TCP_SND_BUF) and of receive window (TCP_WND), window scaling so that they fit, and pools large
 * enough that a full window never runs out of pbufs (a shortage would drop frames and measure loss
 * recovery instead of the data path).
 */
#ifndef BENCH_LWIPOPTS_H
#define BENCH_LWIPOPTS_H

#ifndef BENCH_BUF
#error "BENCH_BUF (the socket buffer size in bytes) must be defined"
#endif

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_TIMERS 1
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0

#define MEM_ALIGNMENT 8
/* tcp_write copies into PBUF_RAM segments from the heap: the whole send buffer, and headroom. */
#define MEM_SIZE (2 * BENCH_BUF + 256 * 1024)
#define MEMP_NUM_PBUF 64
/* Received frames are copied into pool pbufs; a full receive window of them is held until read. */
#define PBUF_POOL_SIZE (2 * BENCH_BUF / 1460 + 64)
#define MEMP_NUM_TCP_PCB 4
#define MEMP_NUM_TCP_PCB_LISTEN 2
#define MEMP_NUM_TCP_SEG (2 * TCP_SND_QUEUELEN + 64)
#define MEMP_NUM_UDP_PCB 1
#define MEMP_NUM_RAW_PCB 1
#define MEMP_NUM_ARP_QUEUE 8

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0

#define TCP_MSS 1460
#define LWIP_WND_SCALE 1
/* The window field is 16 bits: the scale that makes BENCH_BUF fit (RFC 7323 section 2.2). */
#define TCP_RCV_SCALE (BENCH_BUF > 0xffff ? 5 : 1)
#define TCP_WND BENCH_BUF
#define TCP_SND_BUF BENCH_BUF
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
/* lwIP's default (half the send buffer) overflows its u16_t check at 1 MiB: the largest it takes.
 */
#define TCP_SNDLOWAT                                                                               \
    (TCP_SND_BUF / 2 < 0xffff - 4 * TCP_MSS - 1 ? TCP_SND_BUF / 2 : 0xffff - 4 * TCP_MSS - 1)
#define LWIP_TCP_SACK_OUT 1
#define LWIP_TCP_TIMESTAMPS 1
#define LWIP_CALLBACK_API 1

#define LWIP_STATS 0
#define LWIP_STATS_DISPLAY 0

/* Checksums computed and checked in software, as the DUT (lwIP's defaults: CHECKSUM_GEN_* and
 * CHECKSUM_CHECK_* 1). */
#define LWIP_CHECKSUM_ON_COPY 0

unsigned bench_lwip_rand(void);
#define LWIP_RAND() bench_lwip_rand()

#endif

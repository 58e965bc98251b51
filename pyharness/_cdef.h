/*
 * The C API that pyharness binds, as one header. pyharness/_ffi_build.py runs
 * the C preprocessor on it with TERN_CDEF defined (so the public headers skip
 * their system includes; headers without that guard find the empty stubs in
 * _cdef_stubs/) and hands the result to cffi as its cdef.
 */
#include "tern/errors.h"
#include "tern/addr.h"
#include "tern/sim.h"
#include "tern/stack.h"
#include "tern/sim_host.h"
/* the real-time bridge (issue 7) */
#include "tern/sim_realtime.h"
#include "tern/sim_tap.h"
/* pcap files through libpcap */
#include "tern/sim_pcap.h"
/* stacks from a user's shared library (issue 17) */
#include "tern/sim_plugin.h"
/* network services (issue 13) */
#include "tern/dhcp.h"
#include "tern/dhcpv6.h"
#include "tern/dns.h"
/* virtio-net device, split virtqueues, ping responder (issue 15) */
#include "tern/sim_virtio.h"
/* IGMP and mDNS (issue 13) */
#include "tern/igmp.h"
#include "tern/mdns.h"
/* the gateway node (issue 14) */
#include "tern/sim_gateway.h"
/* packet sockets: raw Ethernet frames in and out (issue 20) */
#include "tern/packet.h"
/* the network shell's state commands (issue 20; examples/netshell) */
#include "tern/netshell.h"
/* its host bridge and journal (issue 14) */
#include "tern/sim_hostbridge.h"

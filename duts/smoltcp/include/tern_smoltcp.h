/*
 * The C ABI of libtern_smoltcp (src/lib.rs): smoltcp 0.12 as a Tern simulator node.
 * Written by hand (no cbindgen: a dozen functions); tern_smoltcp/__init__.py reads it as its CFFI
 * cdef, so the lines between the BEGIN/END CDEF markers hold only declarations CFFI accepts.
 *
 * The node is made by the plugin entry tern_node_create (sim/include/tern/sim_plugin.h) with a
 * config "mac=02:00:00:00:00:01 ip=10.0.0.1/24 mtu=1500 seed=N timestamps=0|1 rx_buffer=B
 * tx_buffer=B"; `st` below is its state, sim_node_state() of the node. Handles are small integers
 * >= 0; negative returns are Tern error codes (stack/include/tern/errors.h): -1 INVALID_ARGUMENT,
 * -19 NO_BUFFER, -21 MSG_TOO_LONG, -22 ADDR_IN_USE, -23 WOULD_BLOCK, -24 NOT_CONNECTED, -29
 * BAD_STATE, -30 CLOSED. Every function that changes a socket asks the simulator to poll the node
 * again (node_wake).
 */
/* BEGIN CDEF */
typedef struct smol_tcp_info {
    int32_t state;     /* 0 CLOSED, 1 LISTEN, 2 SYN_SENT ... 10 TIME_WAIT (RFC 9293 order) */
    uint32_t local_ip; /* host byte order; 0 when unbound */
    uint16_t local_port;
    uint32_t remote_ip; /* host byte order; 0 when not connected */
    uint16_t remote_port;
    uint32_t readable;   /* bytes in the receive buffer */
    uint32_t writable;   /* free bytes in the send buffer */
    uint32_t send_queue; /* bytes queued, not yet acknowledged */
    uint8_t ts_ok;       /* TCP timestamps enabled on the socket */
} smol_tcp_info;

/* A new unconnected TCP socket: its handle. */
int32_t smol_tcp_open(void *st);
/* Listen on port (not 0) with room for backlog (1..64) connections; 0 or an error. */
int32_t smol_tcp_listen(void *st, int32_t h, uint16_t port, uint32_t backlog);
/* A new handle for an established connection of listener h, or -23 WOULD_BLOCK. */
int32_t smol_tcp_accept(void *st, int32_t h);
/* Established connections of listener h not yet accepted. */
int32_t smol_tcp_accept_pending(void *st, int32_t h);
/* Active open to ip (host byte order):port from local_port (0: an ephemeral port in 49152..65535,
 * drawn from the seed). */
int32_t smol_tcp_connect(void *st, int32_t h, uint32_t ip, uint16_t port, uint16_t local_port);
/* Queue up to len bytes: how many (0: buffer full), or an error. */
int64_t smol_tcp_send(void *st, int32_t h, const uint8_t *data, size_t len);
/* Read up to len bytes: how many (> 0), 0 at end of stream, -23 WOULD_BLOCK when nothing is there.
 */
int64_t smol_tcp_recv(void *st, int32_t h, uint8_t *out, size_t len);
/* Graceful close (FIN after queued data); a listener stops listening. */
int32_t smol_tcp_close(void *st, int32_t h);
/* Abort (RST). */
int32_t smol_tcp_abort(void *st, int32_t h);
/* Fill *out; 0 or -30 CLOSED for a handle that is not a socket. */
int32_t smol_tcp_get_info(void *st, int32_t h, smol_tcp_info *out);
/* Options: 1 nodelay (value 1: Nagle off), 2 keep-alive interval ns (0 off), 3 delayed-ACK ns (0
   none), 4 timeout ns (0 none), 5 timestamps (0/1). 0 or an error. */
int32_t smol_tcp_set_option(void *st, int32_t h, int32_t opt, uint64_t value);
/* UDP and ICMP echo sockets (src/dgram.rs). An ICMP error a socket was told of: */
typedef struct smol_dgram_error {
    uint8_t icmp_type; /* 3 destination unreachable, 11 time exceeded, 12 parameter problem */
    uint8_t code;
    uint16_t mtu;  /* next-hop MTU of a fragmentation needed (type 3 code 4), else 0 */
    uint32_t from; /* the error's sender, host byte order */
    uint32_t dst;  /* the destination of the quoted datagram, host byte order */
    uint64_t time; /* virtual ns of the poll that received it */
} smol_dgram_error;

/* A new unbound UDP socket (a smoltcp udp::Socket; 16 datagrams, 256 KiB each way): its handle. */
int32_t smol_udp_open(void *st);
/* Bind to ip (host byte order; 0: any) and port (0: an ephemeral port from the seed); -22
 * ADDR_IN_USE when another UDP socket has the port, -29 BAD_STATE when bound already. */
int32_t smol_udp_bind(void *st, int32_t h, uint32_t ip, uint16_t port);
/* The bound address (0: any) and port (0: unbound). */
int32_t smol_udp_local(void *st, int32_t h, uint32_t *ip, uint16_t *port);
/* Queue a datagram to ip:port (an unbound socket is bound to an ephemeral port first); -21
 * MSG_TOO_LONG above 65507 bytes, -19 NO_BUFFER when the send buffer is full. */
int32_t smol_udp_sendto(void *st, int32_t h, uint32_t ip, uint16_t port, const uint8_t *data,
                        size_t len);
/* The oldest datagram's length (up to cap bytes copied to out) and source; -23 WOULD_BLOCK if none.
 */
int64_t smol_udp_recvfrom(void *st, int32_t h, uint8_t *out, size_t cap, uint32_t *ip,
                          uint16_t *port);
/* Datagrams waiting. */
int32_t smol_udp_pending(void *st, int32_t h);
/* TTL of later datagrams (0: smoltcp's default 64). */
int32_t smol_udp_set_ttl(void *st, int32_t h, uint8_t ttl);
/* The last ICMP error quoting one of the socket's datagrams (and clear it); -23 WOULD_BLOCK if
 * none. */
int32_t smol_udp_take_error(void *st, int32_t h, smol_dgram_error *out);
/* Close; queued datagrams are dropped. */
int32_t smol_udp_close(void *st, int32_t h);

typedef struct smol_ping_reply {
    uint32_t src; /* host byte order */
    uint16_t seq;
    uint8_t ttl;
    uint32_t len;  /* payload bytes */
    uint64_t time; /* virtual ns of the poll that received it */
} smol_ping_reply;

/* A new ICMP echo socket with identifier ident. */
int32_t smol_ping_open(void *st, uint16_t ident);
/* An echo request to dst: payload data, or len bytes of a pattern (byte i is i mod 256) when data
 * is NULL; ttl 0: smoltcp's default. */
int32_t smol_ping_send(void *st, int32_t h, uint32_t dst, uint16_t seq, const uint8_t *data,
                       size_t len, uint8_t ttl);
/* The oldest echo reply and its payload (up to cap bytes); -23 WOULD_BLOCK if none. */
int32_t smol_ping_recv(void *st, int32_t h, smol_ping_reply *out, uint8_t *payload, size_t cap);
/* The last destination unreachable, time exceeded or parameter problem quoting one of the socket's
 * requests (and clear it); -23 WOULD_BLOCK if none. */
int32_t smol_ping_take_error(void *st, int32_t h, smol_dgram_error *out);
/* Close. */
int32_t smol_ping_close(void *st, int32_t h);
/* END CDEF */

//! UDP and ICMP echo sockets of the smoltcp DUT (`smol_udp_*`, `smol_ping_*`, include/tern_smoltcp.h).
//!
//! A UDP socket is smoltcp's `udp::Socket` plus an `icmp::Socket` bound to the same port
//! (`icmp::Endpoint::Udp`): smoltcp's own way of handing an application the ICMP errors that quote its
//! datagrams. An echo socket sends with smoltcp's `icmp::Socket` (bound to its identifier, so smoltcp
//! builds, routes and fragments the request) and receives through a raw ICMP socket, which sees the IP
//! header: the reply's TTL and the errors quoting the socket's requests, neither of which smoltcp's ICMP
//! socket reports. What the sockets receive is collected after every interface poll, stamped with the
//! simulator's time of that poll.

use std::collections::VecDeque;

use smoltcp::iface::SocketHandle;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::socket::{icmp, raw, udp};
use smoltcp::wire::{
    Icmpv4Packet, Icmpv4Repr, IpAddress, IpEndpoint, IpListenEndpoint, IpProtocol, IpVersion, Ipv4Address,
    Ipv4Packet,
};

use crate::{node, Node, Sock, TERN_ERR_ADDR_IN_USE, TERN_ERR_BAD_STATE, TERN_ERR_CLOSED, TERN_ERR_INVALID_ARGUMENT,
            TERN_ERR_MSG_TOO_LONG, TERN_ERR_NO_BUFFER, TERN_ERR_WOULD_BLOCK, TERN_OK};
use std::ffi::c_void;

/// Datagrams a UDP socket keeps (the profile's `udp_rx_queue`) and the bytes they may hold.
const UDP_RX_DATAGRAMS: usize = 16;
const UDP_BUFFER_BYTES: usize = 256 * 1024;
/// The largest echo request: an IPv4 datagram of 65535 bytes less its 20-byte header.
const ICMP_MAX: usize = 65535 - 20;

/// The last ICMP error a datagram socket was told of (SockError in pyharness/sockets.py).
#[derive(Clone, Copy)]
#[repr(C)]
pub struct SmolDgramError {
    icmp_type: u8,
    code: u8,
    mtu: u16,
    from: u32,
    dst: u32,
    time: u64,
}

pub struct UdpSock {
    sh: SocketHandle,
    /// icmp::Socket bound to Endpoint::Udp(port) once the socket has a port
    errs: Option<SocketHandle>,
    last_err: Option<SmolDgramError>,
}

struct Reply {
    src: u32,
    seq: u16,
    ttl: u8,
    time: u64,
    payload: Vec<u8>,
}

pub struct PingSock {
    ident: u16,
    tx: SocketHandle,
    rx: SocketHandle,
    replies: VecDeque<Reply>,
    last_err: Option<SmolDgramError>,
}

fn v4(a: IpAddress) -> u32 {
    match a {
        IpAddress::Ipv4(a) => a.to_bits(),
        #[allow(unreachable_patterns)]
        _ => 0,
    }
}

/// An ICMP error (destination unreachable 3, time exceeded 11, parameter problem 12) as the socket reports
/// it, with the quoted datagram (its IP header and first bytes) for the caller to match.
fn parse_error(icmp: &[u8], from: u32, now: u64) -> Option<(SmolDgramError, Quoted<'_>)> {
    let p = Icmpv4Packet::new_checked(icmp).ok()?;
    if !p.verify_checksum() {
        return None;
    }
    let t = icmp[0];
    if t != 3 && t != 11 && t != 12 {
        return None;
    }
    // The quoted datagram is cut short (RFC 792: its header and 64 bits of data), so its total length
    // says more than is there: read the header fields by hand, not with Ipv4Packet::new_checked.
    let q = &icmp[8..];
    let ihl = usize::from(*q.first()? & 0x0f) * 4;
    if q.len() < 20 || ihl < 20 || q.len() < ihl || q[0] >> 4 != 4 {
        return None;
    }
    // RFC 1191 §4: the next-hop MTU is in the low 16 bits of the second word of a fragmentation needed.
    let mtu = if t == 3 && icmp[1] == 4 { u16::from_be_bytes([icmp[6], icmp[7]]) } else { 0 };
    let dst = u32::from_be_bytes([q[16], q[17], q[18], q[19]]);
    let e = SmolDgramError { icmp_type: t, code: icmp[1], mtu, from, dst, time: now };
    Some((e, Quoted { protocol: q[9], data: &q[ihl..] }))
}

/// The quoted datagram of an ICMP error: its protocol and the data after its IP header.
struct Quoted<'a> {
    protocol: u8,
    data: &'a [u8],
}

impl Node {
    /// Collect what the datagram sockets received during the poll that just ended (time `now`).
    pub(crate) fn collect_dgrams(&mut self) {
        if !self.socks.iter().any(|s| matches!(s, Sock::Udp(_) | Sock::Ping(_))) {
            return; // a TCP-only node: nothing to collect
        }
        let now = self.now_ns;
        let mut buf = vec![0u8; 65536];
        for s in self.socks.iter_mut() {
            match s {
                Sock::Udp(u) => {
                    let Some(eh) = u.errs else { continue };
                    let es = self.sockets.get_mut::<icmp::Socket>(eh);
                    while let Ok((n, from)) = es.recv_slice(&mut buf) {
                        if let Some((e, _)) = parse_error(&buf[..n], v4(from), now) {
                            u.last_err = Some(e);
                        }
                    }
                }
                Sock::Ping(p) => {
                    // The transmit-side ICMP socket also queues the replies it accepts: drop them.
                    let ts = self.sockets.get_mut::<icmp::Socket>(p.tx);
                    while ts.recv_slice(&mut buf).is_ok() {}
                    let rs = self.sockets.get_mut::<raw::Socket>(p.rx);
                    while let Ok(n) = rs.recv_slice(&mut buf) {
                        let Ok(ip) = Ipv4Packet::new_checked(&buf[..n]) else { continue };
                        let (src, ttl, icmp) = (ip.src_addr().to_bits(), ip.hop_limit(), ip.payload());
                        let Ok(pkt) = Icmpv4Packet::new_checked(icmp) else { continue };
                        if icmp[0] == 0 && icmp[1] == 0 && pkt.verify_checksum() {
                            if pkt.echo_ident() == p.ident {
                                p.replies.push_back(Reply {
                                    src,
                                    seq: pkt.echo_seq_no(),
                                    ttl,
                                    time: now,
                                    payload: icmp[8..].to_vec(),
                                });
                            }
                        } else if let Some((e, q)) = parse_error(icmp, src, now) {
                            // Only an error quoting one of this socket's echo requests (protocol 1, type 8,
                            // our identifier) is the socket's.
                            let qp = q.data;
                            let ours = q.protocol == 1
                                && qp.len() >= 6
                                && qp[0] == 8
                                && u16::from_be_bytes([qp[4], qp[5]]) == p.ident;
                            if ours {
                                p.last_err = Some(e);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn udp(&mut self, h: i32) -> Result<&mut UdpSock, i32> {
        match self.socks.get_mut(h as usize) {
            Some(Sock::Udp(u)) => Ok(u),
            Some(Sock::Free) | None => Err(TERN_ERR_CLOSED),
            _ => Err(TERN_ERR_BAD_STATE),
        }
    }

    fn ping(&mut self, h: i32) -> Result<&mut PingSock, i32> {
        match self.socks.get_mut(h as usize) {
            Some(Sock::Ping(p)) => Ok(p),
            Some(Sock::Free) | None => Err(TERN_ERR_CLOSED),
            _ => Err(TERN_ERR_BAD_STATE),
        }
    }

    fn udp_port_used(&self, port: u16) -> bool {
        self.socks.iter().any(|s| match s {
            Sock::Udp(u) => self.sockets.get::<udp::Socket>(u.sh).endpoint().port == port,
            _ => false,
        })
    }

    /// Bind UDP socket `h` to `ip` (0: any) and `port` (0: an ephemeral port), with its error socket.
    fn udp_bind(&mut self, h: i32, ip: u32, port: u16) -> i32 {
        let sh = match self.udp(h) {
            Ok(u) => u.sh,
            Err(e) => return e,
        };
        if self.sockets.get::<udp::Socket>(sh).is_open() {
            return TERN_ERR_BAD_STATE;
        }
        let port = if port != 0 {
            if self.udp_port_used(port) {
                return TERN_ERR_ADDR_IN_USE;
            }
            port
        } else {
            // smoltcp leaves the port to the application: the node's seeded ephemeral choice, one not in use.
            let mut p = self.ephemeral_port();
            while self.udp_port_used(p) {
                p = self.ephemeral_port();
            }
            p
        };
        let addr = if ip == 0 { None } else { Some(IpAddress::Ipv4(Ipv4Address::from_bits(ip))) };
        let ep = IpListenEndpoint { addr, port };
        if self.sockets.get_mut::<udp::Socket>(sh).bind(ep).is_err() {
            return TERN_ERR_INVALID_ARGUMENT;
        }
        let mut es = icmp::Socket::new(
            icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0u8; 4 * 576]),
            icmp::PacketBuffer::new(vec![], vec![]),
        );
        let _ = es.bind(icmp::Endpoint::Udp(ep));
        let eh = self.sockets.add(es);
        if let Ok(u) = self.udp(h) {
            u.errs = Some(eh);
        }
        TERN_OK
    }
}

/// A new unbound UDP socket: its handle.
#[no_mangle]
pub extern "C" fn smol_udp_open(st: *mut c_void) -> i32 {
    let n = node(st);
    let s = udp::Socket::new(
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; UDP_RX_DATAGRAMS], vec![0u8; UDP_BUFFER_BYTES]),
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; UDP_RX_DATAGRAMS], vec![0u8; UDP_BUFFER_BYTES]),
    );
    let sh = n.sockets.add(s);
    n.socks.push(Sock::Udp(UdpSock { sh, errs: None, last_err: None }));
    (n.socks.len() - 1) as i32
}

/// Bind to `ip` (host byte order, 0: any) and `port` (0: ephemeral).
#[no_mangle]
pub extern "C" fn smol_udp_bind(st: *mut c_void, h: i32, ip: u32, port: u16) -> i32 {
    node(st).udp_bind(h, ip, port)
}

/// The bound address (0: any) and port (0: unbound).
#[no_mangle]
pub extern "C" fn smol_udp_local(st: *mut c_void, h: i32, ip: *mut u32, port: *mut u16) -> i32 {
    let n = node(st);
    let sh = match n.udp(h) {
        Ok(u) => u.sh,
        Err(e) => return e,
    };
    let ep = n.sockets.get::<udp::Socket>(sh).endpoint();
    // SAFETY: Python passes pointers to one u32 and one u16.
    unsafe {
        *ip = ep.addr.map(v4).unwrap_or(0);
        *port = ep.port;
    }
    TERN_OK
}

/// Send a datagram of `len` bytes to `ip`:`port`; an unbound socket is bound to an ephemeral port first.
#[no_mangle]
pub extern "C" fn smol_udp_sendto(st: *mut c_void, h: i32, ip: u32, port: u16, data: *const u8, len: usize) -> i32 {
    let n = node(st);
    let sh = match n.udp(h) {
        Ok(u) => u.sh,
        Err(e) => return e,
    };
    if port == 0 {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if len > 65507 {
        return TERN_ERR_MSG_TOO_LONG;
    }
    if !n.sockets.get::<udp::Socket>(sh).is_open() {
        let rc = n.udp_bind(h, 0, 0);
        if rc != TERN_OK {
            return rc;
        }
    }
    // SAFETY: data has len bytes (Python passes a bytes object).
    let buf = if len == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(data, len) } };
    let to = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::from_bits(ip)), port);
    let r = match n.sockets.get_mut::<udp::Socket>(sh).send_slice(buf, to) {
        Ok(()) => TERN_OK,
        Err(udp::SendError::BufferFull) => TERN_ERR_NO_BUFFER,
        Err(udp::SendError::Unaddressable) => TERN_ERR_INVALID_ARGUMENT,
    };
    n.wake();
    r
}

/// The oldest datagram: its length (up to `cap` bytes copied to `out`), its source in `ip`/`port`; or
/// WOULD_BLOCK.
#[no_mangle]
pub extern "C" fn smol_udp_recvfrom(st: *mut c_void, h: i32, out: *mut u8, cap: usize, ip: *mut u32,
                                    port: *mut u16) -> i64 {
    let n = node(st);
    let sh = match n.udp(h) {
        Ok(u) => u.sh,
        Err(e) => return e as i64,
    };
    let s = n.sockets.get_mut::<udp::Socket>(sh);
    match s.recv() {
        Ok((data, meta)) => {
            let k = data.len().min(cap);
            // SAFETY: out has cap bytes; ip and port point to one value each.
            unsafe {
                std::ptr::copy_nonoverlapping(data.as_ptr(), out, k);
                *ip = v4(meta.endpoint.addr);
                *port = meta.endpoint.port;
            }
            data.len() as i64
        }
        Err(_) => TERN_ERR_WOULD_BLOCK as i64,
    }
}

/// Datagrams waiting.
#[no_mangle]
pub extern "C" fn smol_udp_pending(st: *mut c_void, h: i32) -> i32 {
    let n = node(st);
    match n.udp(h) {
        Ok(u) => {
            let sh = u.sh;
            n.sockets.get::<udp::Socket>(sh).recv_queue() as i32
        }
        Err(e) => e,
    }
}

/// TTL of the datagrams sent from now on (0: smoltcp's default, 64).
#[no_mangle]
pub extern "C" fn smol_udp_set_ttl(st: *mut c_void, h: i32, ttl: u8) -> i32 {
    let n = node(st);
    match n.udp(h) {
        Ok(u) => {
            let sh = u.sh;
            n.sockets.get_mut::<udp::Socket>(sh).set_hop_limit(if ttl == 0 { None } else { Some(ttl) });
            TERN_OK
        }
        Err(e) => e,
    }
}

/// The last ICMP error quoting one of the socket's datagrams (and clear it), or WOULD_BLOCK.
#[no_mangle]
pub extern "C" fn smol_udp_take_error(st: *mut c_void, h: i32, out: *mut SmolDgramError) -> i32 {
    let n = node(st);
    match n.udp(h) {
        Ok(u) => match u.last_err.take() {
            Some(e) => {
                // SAFETY: out points to one SmolDgramError.
                unsafe { *out = e };
                TERN_OK
            }
            None => TERN_ERR_WOULD_BLOCK,
        },
        Err(e) => e,
    }
}

/// Close: the socket and its error socket leave the interface; queued datagrams are dropped.
#[no_mangle]
pub extern "C" fn smol_udp_close(st: *mut c_void, h: i32) -> i32 {
    let n = node(st);
    let (sh, eh) = match n.udp(h) {
        Ok(u) => (u.sh, u.errs),
        Err(e) => return e,
    };
    n.sockets.remove(sh);
    if let Some(eh) = eh {
        n.sockets.remove(eh);
    }
    n.socks[h as usize] = Sock::Free;
    TERN_OK
}

/// A new ICMP echo socket with identifier `ident`.
#[no_mangle]
pub extern "C" fn smol_ping_open(st: *mut c_void, ident: u16) -> i32 {
    let n = node(st);
    let mut tx = icmp::Socket::new(
        icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 1], vec![0u8; 64]),
        icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0u8; 4 * (ICMP_MAX + 1)]),
    );
    if tx.bind(icmp::Endpoint::Ident(ident)).is_err() {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    let rx = raw::Socket::new(
        IpVersion::Ipv4,
        IpProtocol::Icmp,
        raw::PacketBuffer::new(vec![raw::PacketMetadata::EMPTY; 16], vec![0u8; 256 * 1024]),
        raw::PacketBuffer::new(vec![], vec![]),
    );
    let (tx, rx) = (n.sockets.add(tx), n.sockets.add(rx));
    n.socks.push(Sock::Ping(PingSock { ident, tx, rx, replies: VecDeque::new(), last_err: None }));
    (n.socks.len() - 1) as i32
}

/// Send an echo request with sequence number `seq` to `dst`: payload `data`, or `len` bytes of the
/// pattern (byte i is i mod 256) when `data` is NULL; `ttl` 0: smoltcp's default.
#[no_mangle]
pub extern "C" fn smol_ping_send(st: *mut c_void, h: i32, dst: u32, seq: u16, data: *const u8, len: usize,
                                 ttl: u8) -> i32 {
    let n = node(st);
    let (ident, tx) = match n.ping(h) {
        Ok(p) => (p.ident, p.tx),
        Err(e) => return e,
    };
    if len + 8 > ICMP_MAX {
        return TERN_ERR_MSG_TOO_LONG;
    }
    let payload: Vec<u8> = if data.is_null() {
        (0..len).map(|i| i as u8).collect()
    } else {
        // SAFETY: data has len bytes.
        unsafe { std::slice::from_raw_parts(data, len) }.to_vec()
    };
    let repr = Icmpv4Repr::EchoRequest { ident, seq_no: seq, data: &payload };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]), &ChecksumCapabilities::default());
    let s = n.sockets.get_mut::<icmp::Socket>(tx);
    // The hop limit is the socket's when smoltcp dispatches the request: at the poll this call asks for.
    s.set_hop_limit(if ttl == 0 { None } else { Some(ttl) });
    let r = match s.send_slice(&buf, IpAddress::Ipv4(Ipv4Address::from_bits(dst))) {
        Ok(()) => TERN_OK,
        Err(icmp::SendError::BufferFull) => TERN_ERR_NO_BUFFER,
        Err(icmp::SendError::Unaddressable) => TERN_ERR_INVALID_ARGUMENT,
    };
    n.wake();
    r
}

/// What smol_ping_recv fills.
#[repr(C)]
pub struct SmolPingReply {
    src: u32,
    seq: u16,
    ttl: u8,
    len: u32,
    time: u64,
}

/// The oldest echo reply (its payload, up to `cap` bytes, in `payload`), or WOULD_BLOCK.
#[no_mangle]
pub extern "C" fn smol_ping_recv(st: *mut c_void, h: i32, out: *mut SmolPingReply, payload: *mut u8, cap: usize) -> i32 {
    let n = node(st);
    match n.ping(h) {
        Ok(p) => match p.replies.pop_front() {
            Some(r) => {
                let k = r.payload.len().min(cap);
                // SAFETY: out points to one reply, payload has cap bytes.
                unsafe {
                    std::ptr::copy_nonoverlapping(r.payload.as_ptr(), payload, k);
                    *out = SmolPingReply { src: r.src, seq: r.seq, ttl: r.ttl, len: r.payload.len() as u32, time: r.time };
                }
                TERN_OK
            }
            None => TERN_ERR_WOULD_BLOCK,
        },
        Err(e) => e,
    }
}

/// The last ICMP error quoting one of the socket's echo requests (and clear it), or WOULD_BLOCK.
#[no_mangle]
pub extern "C" fn smol_ping_take_error(st: *mut c_void, h: i32, out: *mut SmolDgramError) -> i32 {
    let n = node(st);
    match n.ping(h) {
        Ok(p) => match p.last_err.take() {
            Some(e) => {
                // SAFETY: out points to one SmolDgramError.
                unsafe { *out = e };
                TERN_OK
            }
            None => TERN_ERR_WOULD_BLOCK,
        },
        Err(e) => e,
    }
}

/// Close the echo socket.
#[no_mangle]
pub extern "C" fn smol_ping_close(st: *mut c_void, h: i32) -> i32 {
    let n = node(st);
    let (tx, rx) = match n.ping(h) {
        Ok(p) => (p.tx, p.rx),
        Err(e) => return e,
    };
    n.sockets.remove(tx);
    n.sockets.remove(rx);
    n.socks[h as usize] = Sock::Free;
    TERN_OK
}

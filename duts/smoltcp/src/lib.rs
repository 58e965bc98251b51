//! smoltcp 0.12 as a Tern simulator node (the smoltcp DUT, issue 17).
//!
//! The library is a Tern plugin: `tern_node_create` (sim/include/tern/sim_plugin.h) builds one smoltcp
//! `Interface` with its `SocketSet` and attaches it to the simulation with the node operations below.
//! smoltcp's clock is the simulator's `now` (nanoseconds, given to every call; smoltcp counts
//! microseconds), its timers become `poll_at`, and its device sends through `node_send`. The socket
//! functions (`smol_tcp_*`, include/tern_smoltcp.h) map smoltcp's TCP sockets to the DUT contract
//! (docs/dut-contract.md), and `dgram.rs` its UDP and ICMP echo sockets; Python binds them with CFFI
//! (tern_smoltcp/__init__.py).

mod dgram;

use std::collections::VecDeque;
use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicU64, Ordering};

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, IpEndpoint, Ipv4Address};

// Error codes of stack/include/tern/errors.h that this library returns.
const TERN_OK: i32 = 0;
const TERN_ERR_INVALID_ARGUMENT: i32 = -1;
const TERN_ERR_UNSUPPORTED: i32 = -17;
const TERN_ERR_NO_BUFFER: i32 = -19;
const TERN_ERR_MSG_TOO_LONG: i32 = -21;
const TERN_ERR_ADDR_IN_USE: i32 = -22;
const TERN_ERR_WOULD_BLOCK: i32 = -23;
const TERN_ERR_NOT_CONNECTED: i32 = -24;
const TERN_ERR_BAD_STATE: i32 = -29;
const TERN_ERR_CLOSED: i32 = -30;
const SIM_NEVER: u64 = u64::MAX;
const SIM_PLUGIN_API_VERSION: u32 = 1;

/// sim_plugin_api (sim_plugin.h), field for field.
#[repr(C)]
pub struct SimPluginApi {
    version: u32,
    node_add: extern "C" fn(*mut c_void, *const c_char, *const c_char, u32, *const SimNodeOps, *mut c_void, *mut u32) -> i32,
    node_send: extern "C" fn(*mut c_void, u32, u32, *const u8, usize) -> i32,
    node_wake: extern "C" fn(*mut c_void, u32) -> i32,
    now: extern "C" fn(*const c_void) -> u64,
}

/// sim_node_ops (sim.h).
#[repr(C)]
pub struct SimNodeOps {
    input: Option<extern "C" fn(*mut c_void, u64, u32, *const u8, usize)>,
    poll: Option<extern "C" fn(*mut c_void, u64)>,
    poll_at: Option<extern "C" fn(*mut c_void) -> u64>,
    destroy: Option<extern "C" fn(*mut c_void)>,
}

/// The simulator's time in milliseconds for smoltcp's TCP timestamp generator, which takes no argument
/// (`TcpTimestampGenerator = fn() -> u32`): set before every poll. All nodes of a process share the
/// simulator's clock at any one call, so one value serves them all.
static TS_CLOCK_MS: AtomicU64 = AtomicU64::new(0);

fn tsval() -> u32 {
    // RFC 7323 §5.4: "The timestamp clock frequency SHOULD be in the range 1 ms to 1 second per tick"; 1 ms.
    TS_CLOCK_MS.load(Ordering::Relaxed) as u32
}

struct Sender {
    api: *const SimPluginApi,
    sim: *mut c_void,
    id: u32,
}

/// The smoltcp device: frames from `input` wait in `rx` for the next `Interface::poll`; frames smoltcp
/// transmits go to the simulator at once.
struct SimDevice {
    rx: VecDeque<Vec<u8>>,
    tx: Sender,
    mtu: usize,
}

pub struct RxTok(Vec<u8>);
pub struct TxTok<'a>(&'a Sender);

impl phy::RxToken for RxTok {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl<'a> phy::TxToken for TxTok<'a> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        // The device pads a short frame with zeros to the Ethernet minimum of 60 bytes (without FCS), as a
        // MAC does; smoltcp leaves that to the device. RFC 894: "If necessary, the data field should be
        // padded (with octets of zero) to meet the Ethernet minimum frame size."
        let mut buf = vec![0u8; len.max(60)];
        let r = f(&mut buf[..len]);
        let s = self.0;
        // SAFETY: api and sim are the simulator's, valid while the node exists.
        unsafe { ((*s.api).node_send)(s.sim, s.id, 0, buf.as_ptr(), buf.len()) };
        r
    }
}

impl Device for SimDevice {
    type RxToken<'a> = RxTok;
    type TxToken<'a> = TxTok<'a>;

    fn receive(&mut self, _t: Instant) -> Option<(RxTok, TxTok<'_>)> {
        let f = self.rx.pop_front()?;
        Some((RxTok(f), TxTok(&self.tx)))
    }

    fn transmit(&mut self, _t: Instant) -> Option<TxTok<'_>> {
        Some(TxTok(&self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = self.mtu + 14; // smoltcp counts the Ethernet header in an Ethernet MTU
        c
    }
}

/// One smoltcp host: the node's state (`sim_node_state`).
pub struct Node {
    dev: SimDevice,
    iface: Interface,
    sockets: SocketSet<'static>,
    /// Our socket handles (index) -> smoltcp's; listeners are several smoltcp sockets (see smol_tcp_listen).
    socks: Vec<Sock>,
    now_ns: u64,
    /// splitmix64 state of the ephemeral port choice (from the config's seed)
    port_state: u64,
    timestamps: bool,
    rx_buffer: usize,
    tx_buffer: usize,
}

enum Sock {
    Conn(SocketHandle),
    /// A listener: smoltcp sockets listening on `port` (a SYN goes to the first that takes it; each serves
    /// one connection, so `backlog` of them make the accept queue).
    Listen { port: u16, pool: Vec<SocketHandle>, template: SocketHandle },
    /// A UDP socket (dgram.rs).
    Udp(dgram::UdpSock),
    /// An ICMP echo socket (dgram.rs).
    Ping(dgram::PingSock),
    Free,
}

fn instant(ns: u64) -> Instant {
    Instant::from_micros((ns / 1000) as i64)
}

impl Node {
    fn poll(&mut self, now: u64) {
        self.now_ns = now;
        TS_CLOCK_MS.store(now / 1_000_000, Ordering::Relaxed);
        // Bounded: smoltcp handles the frames queued and what its sockets have to send, then returns.
        self.iface.poll(instant(now), &mut self.dev, &mut self.sockets);
        self.collect_dgrams();
    }

    /// The next ephemeral port (49152..65535) of the node's seeded sequence. smoltcp leaves the local port
    /// to the application. RFC 6056 §3.2: ephemeral ports "SHOULD" be chosen at random; from the node's
    /// seed (splitmix64), so the same seed gives the same ports.
    fn ephemeral_port(&mut self) -> u16 {
        self.port_state = self.port_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.port_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        49152 + (z % 16384) as u16
    }

    fn poll_at(&mut self) -> u64 {
        if !self.dev.rx.is_empty() {
            return self.now_ns;
        }
        match self.iface.poll_at(instant(self.now_ns), &self.sockets) {
            None => SIM_NEVER,
            Some(t) => {
                let ns = (t.total_micros().max(0) as u64).saturating_mul(1000);
                ns.max(self.now_ns)
            }
        }
    }

    fn wake(&self) {
        let s = &self.dev.tx;
        // SAFETY: as above.
        unsafe { ((*s.api).node_wake)(s.sim, s.id) };
    }

    fn new_tcp(&mut self) -> SocketHandle {
        let mut s = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0u8; self.rx_buffer]),
            tcp::SocketBuffer::new(vec![0u8; self.tx_buffer]),
        );
        if self.timestamps {
            s.set_tsval_generator(Some(tsval));
        }
        self.sockets.add(s)
    }

    /// A listening socket with the options set on the listener's own socket (`template`).
    fn new_listening(&mut self, template: SocketHandle, port: u16) -> Option<SocketHandle> {
        let t = self.sockets.get::<tcp::Socket>(template);
        let (ts, nagle, delay, ka, to) = (t.timestamp_enabled(), t.nagle_enabled(), t.ack_delay(), t.keep_alive(), t.timeout());
        let sh = self.new_tcp();
        let s = self.sockets.get_mut::<tcp::Socket>(sh);
        s.set_tsval_generator(if ts { Some(tsval) } else { None });
        s.set_nagle_enabled(nagle);
        s.set_ack_delay(delay);
        s.set_keep_alive(ka);
        s.set_timeout(to);
        s.listen(port).ok().map(|_| sh)
    }

    fn conn(&mut self, h: i32) -> Result<&mut tcp::Socket<'static>, i32> {
        match self.socks.get(h as usize) {
            Some(Sock::Conn(sh)) => Ok(self.sockets.get_mut::<tcp::Socket>(*sh)),
            Some(Sock::Listen { .. } | Sock::Udp(_) | Sock::Ping(_)) => Err(TERN_ERR_BAD_STATE),
            _ => Err(TERN_ERR_CLOSED),
        }
    }
}

extern "C" fn op_input(st: *mut c_void, now: u64, _port: u32, frame: *const u8, len: usize) {
    // SAFETY: st is our Node; the frame is valid only during this call, so it is copied.
    let node = unsafe { &mut *(st as *mut Node) };
    let f = unsafe { std::slice::from_raw_parts(frame, len) }.to_vec();
    node.dev.rx.push_back(f);
    node.poll(now);
}

extern "C" fn op_poll(st: *mut c_void, now: u64) {
    let node = unsafe { &mut *(st as *mut Node) };
    node.poll(now);
}

extern "C" fn op_poll_at(st: *mut c_void) -> u64 {
    let node = unsafe { &mut *(st as *mut Node) };
    node.poll_at()
}

extern "C" fn op_destroy(st: *mut c_void) {
    // SAFETY: created by Box::into_raw in tern_node_create.
    drop(unsafe { Box::from_raw(st as *mut Node) });
}

static OPS: SimNodeOps = SimNodeOps {
    input: Some(op_input),
    poll: Some(op_poll),
    poll_at: Some(op_poll_at),
    destroy: Some(op_destroy),
};

fn write_err(err: *mut c_char, errlen: usize, msg: &str) {
    if err.is_null() || errlen == 0 {
        return;
    }
    let n = msg.len().min(errlen - 1);
    // SAFETY: err has errlen bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), err as *mut u8, n);
        *err.add(n) = 0;
    }
}

struct Cfg {
    mac: EthernetAddress,
    ip: Ipv4Address,
    prefix: u8,
    mtu: usize,
    seed: u64,
    timestamps: bool,
    rx_buffer: usize,
    tx_buffer: usize,
}

fn parse_config(text: &str) -> Result<Cfg, String> {
    let mut c = Cfg {
        mac: EthernetAddress([2, 0, 0, 0, 0, 1]),
        ip: Ipv4Address::new(10, 0, 0, 1),
        prefix: 24,
        mtu: 1500,
        seed: 0,
        timestamps: false,
        rx_buffer: 65535,
        tx_buffer: 65535,
    };
    for word in text.split_whitespace() {
        let (k, v) = word.split_once('=').ok_or(format!("config: {word:?} is not key=value"))?;
        let bad = |what: &str| format!("config: {k}={v:?}: {what}");
        match k {
            "mac" => {
                let b: Vec<u8> = v.split(':').map(|p| u8::from_str_radix(p, 16)).collect::<Result<_, _>>().map_err(|_| bad("not a MAC"))?;
                if b.len() != 6 {
                    return Err(bad("not a MAC"));
                }
                c.mac = EthernetAddress::from_bytes(&b);
            }
            "ip" => {
                let (a, p) = v.split_once('/').ok_or(bad("not address/prefix"))?;
                c.ip = a.parse().map_err(|_| bad("not an IPv4 address"))?;
                c.prefix = p.parse().ok().filter(|p| *p <= 32).ok_or(bad("prefix not in 0..32"))?;
            }
            "mtu" => c.mtu = v.parse().ok().filter(|m| (68..=9000).contains(m)).ok_or(bad("MTU not in 68..9000"))?,
            "seed" => c.seed = v.parse().map_err(|_| bad("not an integer"))?,
            "timestamps" => c.timestamps = v == "1",
            "rx_buffer" => c.rx_buffer = v.parse().ok().filter(|b| *b > 0).ok_or(bad("not a size"))?,
            "tx_buffer" => c.tx_buffer = v.parse().ok().filter(|b| *b > 0).ok_or(bad("not a size"))?,
            _ => return Err(format!("config: unknown key {k:?}; known: mac ip mtu seed timestamps rx_buffer tx_buffer")),
        }
    }
    Ok(c)
}

/// The plugin entry (sim_plugin.h): config "mac=02:.. ip=10.0.0.1/24 mtu=1500 seed=N timestamps=0|1".
#[no_mangle]
pub extern "C" fn tern_node_create(
    api: *const SimPluginApi,
    sim: *mut c_void,
    name: *const c_char,
    config: *const c_char,
    err: *mut c_char,
    errlen: usize,
    out: *mut u32,
) -> i32 {
    // SAFETY: the simulator passes valid pointers (sim_node_add_plugin checks them).
    let api_ref = unsafe { &*api };
    if api_ref.version != SIM_PLUGIN_API_VERSION {
        write_err(err, errlen, "sim_plugin_api version is not 1");
        return TERN_ERR_UNSUPPORTED;
    }
    let text = unsafe { CStr::from_ptr(config) }.to_string_lossy().into_owned();
    let cfg = match parse_config(&text) {
        Ok(c) => c,
        Err(msg) => {
            write_err(err, errlen, &msg);
            return TERN_ERR_INVALID_ARGUMENT;
        }
    };
    if !cfg.mac.is_unicast() {
        write_err(err, errlen, "config: mac must be unicast");
        return TERN_ERR_INVALID_ARGUMENT;
    }
    let mut dev = SimDevice { rx: VecDeque::new(), tx: Sender { api, sim, id: 0 }, mtu: cfg.mtu };
    let mut ic = Config::new(HardwareAddress::Ethernet(cfg.mac));
    ic.random_seed = cfg.seed; // ISNs and ephemeral choices follow the network's seed
    let now = (api_ref.now)(sim);
    let mut iface = Interface::new(ic, &mut dev, instant(now));
    iface.update_ip_addrs(|a| {
        let _ = a.push(IpCidr::new(IpAddress::Ipv4(cfg.ip), cfg.prefix));
    });
    let node = Box::new(Node {
        dev,
        iface,
        sockets: SocketSet::new(vec![]),
        socks: Vec::new(),
        now_ns: now,
        port_state: cfg.seed,
        timestamps: cfg.timestamps,
        rx_buffer: cfg.rx_buffer,
        tx_buffer: cfg.tx_buffer,
    });
    let raw = Box::into_raw(node);
    let mut id = 0u32;
    let rc = (api_ref.node_add)(sim, name, c"smoltcp".as_ptr(), 1, &OPS, raw as *mut c_void, &mut id);
    if rc != TERN_OK {
        drop(unsafe { Box::from_raw(raw) });
        return rc;
    }
    unsafe {
        (*raw).dev.tx.id = id;
        *out = id;
    }
    TERN_OK
}

fn node<'a>(st: *mut c_void) -> &'a mut Node {
    // SAFETY: Python passes the state pointer of a node made by tern_node_create (sim_node_state).
    unsafe { &mut *(st as *mut Node) }
}

/// A new unconnected TCP socket; returns its handle (>= 0).
#[no_mangle]
pub extern "C" fn smol_tcp_open(st: *mut c_void) -> i32 {
    let n = node(st);
    let sh = n.new_tcp();
    n.socks.push(Sock::Conn(sh));
    (n.socks.len() - 1) as i32
}

/// Listen on `port` with room for `backlog` connections not yet accepted.
#[no_mangle]
pub extern "C" fn smol_tcp_listen(st: *mut c_void, h: i32, port: u16, backlog: u32) -> i32 {
    let n = node(st);
    if port == 0 {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    if n.socks.iter().any(|s| matches!(s, Sock::Listen { port: p, .. } if *p == port)) {
        return TERN_ERR_ADDR_IN_USE;
    }
    let template = match n.socks.get(h as usize) {
        Some(Sock::Conn(sh)) if n.sockets.get::<tcp::Socket>(*sh).state() == tcp::State::Closed => *sh,
        _ => return TERN_ERR_BAD_STATE,
    };
    let mut pool = Vec::new();
    for _ in 0..backlog.clamp(1, 64) {
        match n.new_listening(template, port) {
            Some(sh) => pool.push(sh),
            None => return TERN_ERR_INVALID_ARGUMENT,
        }
    }
    n.socks[h as usize] = Sock::Listen { port, pool, template };
    n.wake();
    TERN_OK
}

/// An established connection of listener `h` (a new handle), or TERN_ERR_WOULD_BLOCK.
#[no_mangle]
pub extern "C" fn smol_tcp_accept(st: *mut c_void, h: i32) -> i32 {
    let n = node(st);
    let (port, idx, template) = match n.socks.get(h as usize) {
        Some(Sock::Listen { port, pool, template }) => {
            let ready = pool.iter().position(|sh| {
                let s = n.sockets.get::<tcp::Socket>(*sh);
                !matches!(s.state(), tcp::State::Listen | tcp::State::SynReceived | tcp::State::Closed)
            });
            match ready {
                Some(i) => (*port, i, *template),
                None => return TERN_ERR_WOULD_BLOCK,
            }
        }
        _ => return TERN_ERR_BAD_STATE,
    };
    let Some(fresh) = n.new_listening(template, port) else { return TERN_ERR_INVALID_ARGUMENT };
    let conn = match &mut n.socks[h as usize] {
        Sock::Listen { pool, .. } => {
            let c = pool.remove(idx);
            pool.push(fresh);
            c
        }
        _ => unreachable!(),
    };
    n.socks.push(Sock::Conn(conn));
    (n.socks.len() - 1) as i32
}

/// Connections of listener `h` established and not yet accepted.
#[no_mangle]
pub extern "C" fn smol_tcp_accept_pending(st: *mut c_void, h: i32) -> i32 {
    let n = node(st);
    match n.socks.get(h as usize) {
        Some(Sock::Listen { pool, .. }) => pool
            .iter()
            .filter(|sh| {
                !matches!(n.sockets.get::<tcp::Socket>(**sh).state(), tcp::State::Listen | tcp::State::SynReceived | tcp::State::Closed)
            })
            .count() as i32,
        _ => 0,
    }
}

/// Active open to `ip` (host byte order) `port` from `local_port` (0: the next ephemeral port).
#[no_mangle]
pub extern "C" fn smol_tcp_connect(st: *mut c_void, h: i32, ip: u32, port: u16, local_port: u16) -> i32 {
    let n = node(st);
    let lp = if local_port != 0 { local_port } else { n.ephemeral_port() };
    let remote = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::from_bits(ip)), port);
    let Some(Sock::Conn(sh)) = n.socks.get(h as usize) else { return TERN_ERR_BAD_STATE };
    let sh = *sh;
    let cx = n.iface.context();
    let r = n.sockets.get_mut::<tcp::Socket>(sh).connect(cx, remote, lp);
    if r.is_err() {
        return TERN_ERR_BAD_STATE;
    }
    n.wake();
    TERN_OK
}

/// Queue up to `len` bytes; returns how many (0 if the buffer is full), or a negative error.
#[no_mangle]
pub extern "C" fn smol_tcp_send(st: *mut c_void, h: i32, data: *const u8, len: usize) -> i64 {
    let n = node(st);
    let buf = unsafe { std::slice::from_raw_parts(data, len) };
    let r = match n.conn(h) {
        Ok(s) => match s.send_slice(buf) {
            Ok(k) => k as i64,
            Err(_) => TERN_ERR_NOT_CONNECTED as i64,
        },
        Err(e) => e as i64,
    };
    n.wake();
    r
}

/// Read up to `len` bytes: how many (> 0), 0 at the end of the stream, TERN_ERR_WOULD_BLOCK if nothing yet.
#[no_mangle]
pub extern "C" fn smol_tcp_recv(st: *mut c_void, h: i32, out: *mut u8, len: usize) -> i64 {
    let n = node(st);
    let buf = unsafe { std::slice::from_raw_parts_mut(out, len) };
    let r = match n.conn(h) {
        Ok(s) => match s.recv_slice(buf) {
            Ok(0) if !s.may_recv() => 0,
            Ok(0) => TERN_ERR_WOULD_BLOCK as i64,
            Ok(k) => k as i64,
            Err(tcp::RecvError::Finished) => 0,
            Err(tcp::RecvError::InvalidState) => {
                if s.state() == tcp::State::Closed || s.state() == tcp::State::TimeWait {
                    0
                } else {
                    TERN_ERR_WOULD_BLOCK as i64
                }
            }
        },
        Err(e) => e as i64,
    };
    n.wake(); // reading opens the window
    r
}

/// Graceful close (FIN after queued data).
#[no_mangle]
pub extern "C" fn smol_tcp_close(st: *mut c_void, h: i32) -> i32 {
    let n = node(st);
    match n.socks.get(h as usize) {
        Some(Sock::Listen { pool, .. }) => {
            for sh in pool.clone() {
                n.sockets.get_mut::<tcp::Socket>(sh).abort();
            }
            n.socks[h as usize] = Sock::Free;
        }
        Some(Sock::Conn(sh)) => {
            let sh = *sh;
            n.sockets.get_mut::<tcp::Socket>(sh).close();
        }
        _ => return TERN_ERR_CLOSED,
    }
    n.wake();
    TERN_OK
}

/// Abort: RST, then CLOSED.
#[no_mangle]
pub extern "C" fn smol_tcp_abort(st: *mut c_void, h: i32) -> i32 {
    let n = node(st);
    let r = match n.conn(h) {
        Ok(s) => {
            s.abort();
            TERN_OK
        }
        Err(e) => e,
    };
    n.wake();
    r
}

/// What smol_tcp_get_info fills (include/tern_smoltcp.h).
#[repr(C)]
pub struct SmolTcpInfo {
    state: i32,
    local_ip: u32,
    local_port: u16,
    remote_ip: u32,
    remote_port: u16,
    readable: u32,
    writable: u32,
    send_queue: u32,
    ts_ok: u8,
}

#[no_mangle]
pub extern "C" fn smol_tcp_get_info(st: *mut c_void, h: i32, out: *mut SmolTcpInfo) -> i32 {
    let n = node(st);
    let info = match n.socks.get(h as usize) {
        Some(Sock::Listen { port, template, .. }) => SmolTcpInfo {
            state: 1,
            local_ip: 0,
            local_port: *port,
            remote_ip: 0,
            remote_port: 0,
            readable: 0,
            writable: 0,
            send_queue: 0,
            ts_ok: n.sockets.get::<tcp::Socket>(*template).timestamp_enabled() as u8,
        },
        Some(Sock::Conn(sh)) => {
            let s = n.sockets.get::<tcp::Socket>(*sh);
            let ep = |e: Option<IpEndpoint>| match e {
                Some(IpEndpoint { addr: IpAddress::Ipv4(a), port }) => (a.to_bits(), port),
                _ => (0, 0),
            };
            let (lip, lport) = ep(s.local_endpoint());
            let (rip, rport) = ep(s.remote_endpoint());
            SmolTcpInfo {
                state: s.state() as i32,
                local_ip: lip,
                local_port: lport,
                remote_ip: rip,
                remote_port: rport,
                readable: s.recv_queue() as u32,
                writable: (s.send_capacity() - s.send_queue()) as u32,
                send_queue: s.send_queue() as u32,
                ts_ok: s.timestamp_enabled() as u8,
            }
        }
        _ => return TERN_ERR_CLOSED,
    };
    unsafe { *out = info };
    TERN_OK
}

/// Socket options: 1 nodelay (Nagle off), 2 keepalive interval in ns (0: off), 3 ack delay in ns
/// (0: none), 4 timeout in ns (0: none), 5 timestamps (0/1; before connect/listen).
#[no_mangle]
pub extern "C" fn smol_tcp_set_option(st: *mut c_void, h: i32, opt: i32, value: u64) -> i32 {
    let n = node(st);
    let dur = |v: u64| if v == 0 { None } else { Some(Duration::from_micros(v / 1000)) };
    let r = match n.conn(h) {
        Ok(s) => {
            match opt {
                1 => s.set_nagle_enabled(value == 0),
                2 => s.set_keep_alive(dur(value)),
                3 => s.set_ack_delay(dur(value)),
                4 => s.set_timeout(dur(value)),
                5 => s.set_tsval_generator(if value != 0 { Some(tsval) } else { None }),
                _ => return TERN_ERR_INVALID_ARGUMENT,
            }
            TERN_OK
        }
        Err(e) => e,
    };
    n.wake();
    r
}

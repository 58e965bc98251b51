//! Tern's bulk TCP benchmark (bench/bench_tcp.c, tcp_bulk_gbps) written for smoltcp: two smoltcp
//! interfaces in one process joined by an in-memory Ethernet link, MTU 1500, checksums computed on
//! transmit and verified on receive (smoltcp's default ChecksumCapabilities), one connection that
//! carries `bytes` of the same stream pattern as Tern's, every received byte compared with it.
//!
//! Usage: bench-smoltcp [BYTES [BUFFER [copy|zerocopy]]]   (defaults 400 MiB, 1 MiB, copy;
//! TERN_BENCH_BYTES also sets BYTES). Prints `BENCH tcp_bulk_gbps_smoltcp_<size> <value> Gbit/s`
//! (`tcp_bulk_gbps_smoltcp_zc_<size>` with zerocopy): payload bits over the process CPU seconds the
//! transfer took (CLOCK_PROCESS_CPUTIME_ID, as bench_tcp does).
//!
//! The application wakes every 50 us of virtual time, as in bench_tcp: it writes what the send buffer
//! takes, reads what has arrived, and both interfaces are polled until the link is quiet.
//! - copy: send_slice from the stream, recv_slice into a 1 MiB buffer of its own (the same copies as
//!   tern_tcp_send / tern_tcp_recv);
//! - zerocopy: smoltcp's in-place calls, its best API: send(|buf|) writes the stream straight into
//!   the socket's buffer, recv(|buf|) checks the received bytes where they lie (as
//!   tern_tcp_recv_peek does); the counterpart of `bench_tcp 1 peer <buffer> zerocopy`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use smoltcp::iface::{Config, Interface, PollResult, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

const STREAM_PERIOD: usize = 1 << 20;
const MTU: usize = 1500;

/// Byte i of the bulk stream: bench_tcp.c's make_stream().
fn make_stream() -> Vec<u8> {
    (0..STREAM_PERIOD as u32)
        .map(|i| ((i.wrapping_mul(2654435761) >> 13) ^ (i >> 8)) as u8)
        .collect()
}

/// The frames in flight each way, and the spent frame buffers kept for reuse (no allocation per
/// frame once the link is warm, as the simulator's frame pool).
#[derive(Default)]
struct Link {
    queue: [VecDeque<Vec<u8>>; 2], // queue[i]: frames towards end i
    free: Vec<Vec<u8>>,
}

/// One end of the link: end `side` receives queue[side] and transmits into queue[1 - side].
struct End {
    link: Rc<RefCell<Link>>,
    side: usize,
}

struct Rx {
    frame: Vec<u8>,
    link: Rc<RefCell<Link>>,
}

struct Tx {
    link: Rc<RefCell<Link>>,
    to: usize,
}

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let r = f(&self.frame);
        self.link.borrow_mut().free.push(self.frame);
        r
    }
}

impl phy::TxToken for Tx {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = self.link.borrow_mut().free.pop().unwrap_or_default();
        frame.resize(len, 0);
        let r = f(&mut frame);
        self.link.borrow_mut().queue[self.to].push_back(frame);
        r
    }
}

impl Device for End {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx;

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default(); // checksums: computed and verified
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MTU + 14; // smoltcp counts the Ethernet header in
        caps
    }

    fn receive(&mut self, _now: Instant) -> Option<(Rx, Tx)> {
        let frame = self.link.borrow_mut().queue[self.side].pop_front()?;
        let rx = Rx { frame, link: self.link.clone() };
        let tx = Tx { link: self.link.clone(), to: 1 - self.side };
        Some((rx, tx))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Tx> {
        Some(Tx { link: self.link.clone(), to: 1 - self.side })
    }
}

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}
extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;

fn cpu_seconds() -> f64 {
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one struct timespec (64-bit Linux layout) and nothing else.
    unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

fn host(link: &Rc<RefCell<Link>>, side: usize, last: u8) -> (End, Interface) {
    let mut end = End { link: link.clone(), side };
    let mac = EthernetAddress([0x02, 0, 0, 0, 0, last]);
    let mut config = Config::new(HardwareAddress::Ethernet(mac));
    config.random_seed = last as u64;
    let mut iface = Interface::new(config, &mut end, Instant::ZERO);
    iface.update_ip_addrs(|a| {
        a.push(IpCidr::new(IpAddress::v4(10, 0, 0, last), 24)).unwrap();
    });
    (end, iface)
}

/// The n bytes `got` received at stream offset `off` are the stream's; else the run fails.
fn check(stream: &[u8], got: &[u8], off: usize) {
    let mut done = 0;
    while done < got.len() {
        let at = (off + done) % STREAM_PERIOD;
        let k = (got.len() - done).min(STREAM_PERIOD - at);
        if got[done..done + k] != stream[at..at + k] {
            let i = (0..k).find(|&i| got[done + i] != stream[at + i]).unwrap();
            eprintln!(
                "bench-smoltcp: byte {} of the stream arrived as {:#04x}, sent as {:#04x}",
                off + done + i,
                got[done + i],
                stream[at + i]
            );
            std::process::exit(1);
        }
        done += k;
    }
}

fn size_name(buf: usize) -> String {
    if buf % (1 << 20) == 0 {
        format!("{}m", buf >> 20)
    } else {
        format!("{}k", buf >> 10)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let parse = |s: &str, what: &str| -> usize {
        s.parse().unwrap_or_else(|_| {
            eprintln!("bench-smoltcp: {what} must be a number of bytes, not {s:?}");
            std::process::exit(2)
        })
    };
    let bytes = match (args.get(1), std::env::var("TERN_BENCH_BYTES")) {
        (Some(a), _) => parse(a, "BYTES"),
        (None, Ok(e)) => parse(&e, "TERN_BENCH_BYTES"),
        _ => 400 << 20,
    };
    let buf = args.get(2).map_or(1 << 20, |a| parse(a, "BUFFER"));
    let zerocopy = match args.get(3).map(String::as_str) {
        None | Some("copy") => false,
        Some("zerocopy") => true,
        Some(other) => {
            eprintln!("bench-smoltcp: the API must be copy or zerocopy, not {other:?}");
            std::process::exit(2)
        }
    };

    let stream = make_stream();
    let link = Rc::new(RefCell::new(Link::default()));
    let (mut da, mut ia) = host(&link, 0, 1);
    let (mut db, mut ib) = host(&link, 1, 2);
    let mut sa = SocketSet::new(vec![]);
    let mut sb = SocketSet::new(vec![]);
    let sock = |n| tcp::Socket::new(tcp::SocketBuffer::new(vec![0; n]), tcp::SocketBuffer::new(vec![0; n]));
    let hc = sa.add(sock(buf));
    let hs = sb.add(sock(buf));
    sb.get_mut::<tcp::Socket>(hs).listen(5001).unwrap();
    sa.get_mut::<tcp::Socket>(hc)
        .connect(ia.context(), (IpAddress::v4(10, 0, 0, 2), 5001), 49152)
        .unwrap();

    let mut sink = vec![0u8; 1 << 20];
    let (mut sent, mut got) = (0usize, 0usize);
    let mut now = Instant::ZERO;
    let step = Duration::from_micros(50);
    let c0 = cpu_seconds();
    while got < bytes {
        let c = sa.get_mut::<tcp::Socket>(hc);
        while sent < bytes {
            let at = sent % STREAM_PERIOD;
            let n = (STREAM_PERIOD - at).min(bytes - sent);
            let src = &stream[at..at + n];
            let w = if zerocopy {
                c.send(|room: &mut [u8]| {
                    let k = room.len().min(src.len());
                    room[..k].copy_from_slice(&src[..k]);
                    (k, k)
                })
            } else {
                c.send_slice(src)
            };
            match w {
                Ok(w) if w > 0 => sent += w,
                _ => break,
            }
        }
        let s = sb.get_mut::<tcp::Socket>(hs);
        while s.can_recv() {
            let n = if zerocopy {
                s.recv(|data: &mut [u8]| {
                    check(&stream, data, got);
                    (data.len(), data.len())
                })
            } else {
                s.recv_slice(&mut sink).map(|n| {
                    check(&stream, &sink[..n], got);
                    n
                })
            }
            .expect("recv on an established connection");
            got += n;
        }
        loop {
            let ra = ia.poll(now, &mut da, &mut sa);
            let rb = ib.poll(now, &mut db, &mut sb);
            let quiet = link.borrow().queue.iter().all(|q| q.is_empty());
            if quiet && ra == PollResult::None && rb == PollResult::None {
                break;
            }
        }
        now += step;
        if now.total_millis() > 100_000_000 {
            eprintln!("bench-smoltcp: the transfer did not finish ({got} of {bytes} bytes)");
            std::process::exit(1);
        }
    }
    let cpu = cpu_seconds() - c0;
    println!(
        "BENCH tcp_bulk_gbps_smoltcp{}_{} {:.2} Gbit/s",
        if zerocopy { "_zc" } else { "" },
        size_name(buf),
        bytes as f64 * 8.0 / cpu / 1e9
    );
}

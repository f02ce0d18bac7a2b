//! The native floor under the benchmark scenarios: the same exchanges as B1, C1 and C4 with no
//! JS, no event loop and no framing, so that a scenario's figure can be read against what this
//! machine does at best in the same run. Prints one JSON line: every timed sample, in µs
//! (ping-pongs) or ms (echoes).
//!
//!   floor threads  condvar|spin   SAMPLES WARMUP   two threads, one blocked waiting for the other
//!   floor sockets  blocking|spin  SAMPLES WARMUP   two processes over a Unix socket, 8-byte messages
//!   floor echo     BYTES          SAMPLES WARMUP   two processes, a BYTES message there and back
//!   floor echo-direct BYTES       SAMPLES WARMUP   the same, each leg copied once: the sender
//!                                                  writes into the receiver's buffer
//!                                                  (process_vm_writev), then says so on the socket
//!
//! `spin`: the waiting side polls (yielding the CPU each turn, so a peer on the same CPU runs)
//! for a fixed 50 µs before it blocks, where ipc-main's waits spin up to 100 µs, adapting.

use std::ffi::c_ulong;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const SPIN: Duration = Duration::from_micros(50);

fn main() {
  let args: Vec<String> = std::env::args().skip(1).collect();
  let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
  let num = |i: usize| arg(i).parse::<usize>().expect("a number");
  match arg(0) {
    "threads" => print(&threads(arg(1) == "spin", num(2), num(3))),
    "sockets" => print(&sockets(arg(1) == "spin", num(2), num(3))),
    "echo" => print(&echo(num(1), num(2), num(3))),
    "echo-direct" => print(&echo_direct(num(1), num(2), num(3))),
    // The other process of `sockets` and `echo`.
    "peer" => peer(arg(1), arg(2), num(3)),
    _ => {
      eprintln!("usage: floor threads|sockets condvar|blocking|spin SAMPLES WARMUP | floor echo BYTES SAMPLES WARMUP");
      std::process::exit(2);
    }
  }
}

fn print(samples: &[f64]) {
  let list: Vec<String> = samples.iter().map(|s| format!("{s:.3}")).collect();
  println!("{{\"samples\":[{}]}}", list.join(","));
}

/// Times `round` `samples` times after `warmup` untimed rounds, in µs.
fn timed(samples: usize, warmup: usize, mut round: impl FnMut()) -> Vec<f64> {
  for _ in 0..warmup {
    round();
  }
  (0..samples)
    .map(|_| {
      let t = Instant::now();
      round();
      t.elapsed().as_secs_f64() * 1e6
    })
    .collect()
}

// ---- threads (B1) ---------------------------------------------------------------------------

/// One counter both threads move on: odd means a request is waiting, even an answer. The
/// condvar is only signalled when the other side sleeps on it (`parked`, one flag per side: odd
/// values are waited for by the answering thread, even ones by the asking one), as ipc-main's
/// waits do: a notify costs a system call even with nobody waiting.
struct Turn {
  count: AtomicU32,
  parked: [AtomicBool; 2],
  lock: Mutex<()>,
  cv: Condvar,
}

impl Turn {
  fn wait_for(&self, value: u32, spin: bool) {
    if spin {
      let start = Instant::now();
      while start.elapsed() < SPIN {
        if self.count.load(Ordering::SeqCst) == value {
          return;
        }
        std::thread::yield_now();
      }
    }
    let parked = &self.parked[value as usize % 2];
    let mut guard = self.lock.lock().unwrap();
    parked.store(true, Ordering::SeqCst);
    while self.count.load(Ordering::SeqCst) != value {
      guard = self.cv.wait(guard).unwrap();
    }
    parked.store(false, Ordering::SeqCst);
  }

  fn set(&self, value: u32) {
    self.count.store(value, Ordering::SeqCst);
    // Either the sleeper sees the new count, or this sees it parked (both SeqCst) and wakes it
    // under the lock, which it only gives up inside the wait.
    if self.parked[value as usize % 2].load(Ordering::SeqCst) {
      let _guard = self.lock.lock().unwrap();
      self.cv.notify_one();
    }
  }
}

fn threads(spin: bool, samples: usize, warmup: usize) -> Vec<f64> {
  let turn = Arc::new(Turn {
    count: AtomicU32::new(0),
    parked: [AtomicBool::new(false), AtomicBool::new(false)],
    lock: Mutex::new(()),
    cv: Condvar::new(),
  });
  let rounds = (samples + warmup) as u32;
  let other = turn.clone();
  let answerer = std::thread::spawn(move || {
    for i in 0..rounds {
      other.wait_for(2 * i + 1, spin);
      other.set(2 * i + 2);
    }
  });
  let mut i = 0u32;
  let out = timed(samples, warmup, || {
    turn.set(2 * i + 1);
    turn.wait_for(2 * i + 2, spin);
    i += 1;
  });
  answerer.join().unwrap();
  out
}

// ---- processes (C1, C4) ---------------------------------------------------------------------

/// A listening socket in a fresh directory, and the other process connected to it.
fn pair(mode: &str, arg: usize) -> (UnixStream, std::process::Child) {
  let dir = std::env::temp_dir().join(format!("ipc-main-floor-{}", std::process::id()));
  // A run that crashed may have left its socket behind.
  std::fs::remove_dir_all(&dir).ok();
  std::fs::create_dir_all(&dir).unwrap();
  let path = dir.join("s");
  let listener = UnixListener::bind(&path).unwrap();
  let child = Command::new(std::env::current_exe().unwrap())
    .args(["peer", mode, path.to_str().unwrap(), &arg.to_string()])
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
  let (sock, _) = listener.accept().unwrap();
  sock.set_nonblocking(true).unwrap();
  std::fs::remove_dir_all(&dir).ok();
  (sock, child)
}

/// Reads exactly `buf.len()` bytes from a non-blocking socket: with `spin`, polling it a while
/// first (yielding each turn), then sleeping in poll(2) until more arrives.
fn read_all(sock: &mut UnixStream, buf: &mut [u8], spin: bool) -> bool {
  let mut got = 0;
  let start = Instant::now();
  while got < buf.len() {
    match sock.read(&mut buf[got..]) {
      Ok(0) => return false,
      Ok(n) => got += n,
      Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
        if spin && start.elapsed() < SPIN {
          std::thread::yield_now();
        } else {
          wait_readable(sock);
        }
      }
      Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
      Err(_) => return false,
    }
  }
  true
}

#[repr(C)]
struct PollFd {
  fd: i32,
  events: i16,
  revents: i16,
}

extern "C" {
  fn poll(fds: *mut PollFd, n: u64, timeout: i32) -> i32;
}

fn wait_readable(sock: &UnixStream) {
  use std::os::fd::AsRawFd;
  const POLLIN: i16 = 1;
  let mut p = PollFd {
    fd: sock.as_raw_fd(),
    events: POLLIN,
    revents: 0,
  };
  unsafe { poll(&mut p, 1, -1) };
}

/// Writes all of `bytes` to a non-blocking socket, sleeping in poll(2) while it is full.
fn write_all(sock: &mut UnixStream, bytes: &[u8]) {
  use std::os::fd::AsRawFd;
  const POLLOUT: i16 = 4;
  let mut done = 0;
  while done < bytes.len() {
    match sock.write(&bytes[done..]) {
      Ok(n) => done += n,
      Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
        let mut p = PollFd {
          fd: sock.as_raw_fd(),
          events: POLLOUT,
          revents: 0,
        };
        unsafe { poll(&mut p, 1, -1) };
      }
      Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
      Err(e) => panic!("write: {e}"),
    }
  }
}

fn sockets(spin: bool, samples: usize, warmup: usize) -> Vec<f64> {
  let (mut sock, mut child) = pair(if spin { "spin" } else { "blocking" }, 0);
  let mut buf = [0u8; 8];
  let out = timed(samples, warmup, || {
    write_all(&mut sock, &buf);
    assert!(read_all(&mut sock, &mut buf, spin));
  });
  drop(sock);
  child.wait().unwrap();
  out
}

fn echo(bytes: usize, samples: usize, warmup: usize) -> Vec<f64> {
  let (mut sock, mut child) = pair("echo", bytes);
  let message = vec![7u8; bytes];
  let mut back = vec![0u8; bytes];
  // The peer reads the whole message before it echoes: written, then read back, by one thread.
  let out = timed(samples, warmup, || {
    write_all(&mut sock, &message);
    assert!(read_all(&mut sock, &mut back, false));
  });
  drop(sock);
  child.wait().unwrap();
  out.into_iter().map(|us| us / 1e3).collect()
}

// ---- one copy per leg (C4's echo-direct) ---------------------------------------------------

#[repr(C)]
struct IoVec {
  base: *mut u8,
  len: usize,
}

#[cfg(target_os = "linux")]
extern "C" {
  fn process_vm_writev(
    pid: i32,
    local: *const IoVec,
    nl: c_ulong,
    remote: *const IoVec,
    nr: c_ulong,
    flags: c_ulong,
  ) -> isize;
  fn prctl(option: i32, arg: c_ulong, ...) -> i32;
}

/// Lets `pid` (the other process) write into this one where Yama restricts ptrace to
/// descendants (`ptrace_scope` 1, Ubuntu's default): process_vm_writev needs what ptrace needs.
#[cfg(target_os = "linux")]
fn allow_writes_from(pid: u32) {
  const PR_SET_PTRACER: i32 = 0x5961_6d61;
  unsafe { prctl(PR_SET_PTRACER, pid as c_ulong) };
}

#[cfg(not(target_os = "linux"))]
fn allow_writes_from(_: u32) {}

#[cfg(not(target_os = "linux"))]
unsafe fn process_vm_writev(
  _: i32,
  _: *const IoVec,
  _: c_ulong,
  _: *const IoVec,
  _: c_ulong,
  _: c_ulong,
) -> isize {
  panic!("echo-direct needs Linux's process_vm_writev")
}

/// Copies `bytes` to `address` in process `pid`.
fn write_into(pid: u32, address: usize, bytes: &[u8]) {
  let mut done = 0;
  while done < bytes.len() {
    let local = IoVec {
      base: bytes[done..].as_ptr() as *mut u8,
      len: bytes.len() - done,
    };
    let remote = IoVec {
      base: (address + done) as *mut u8,
      len: bytes.len() - done,
    };
    let n = unsafe { process_vm_writev(pid as i32, &local, 1, &remote, 1, 0) };
    assert!(
      n > 0,
      "process_vm_writev: {}",
      std::io::Error::last_os_error()
    );
    done += n as usize;
  }
}

/// Tells the other side this process's pid and where its receive buffer is; returns the other's.
fn swap_addresses(sock: &mut UnixStream, buf: &mut [u8]) -> (u32, usize) {
  let mut mine = [0u8; 16];
  mine[..8].copy_from_slice(&(std::process::id() as u64).to_le_bytes());
  mine[8..].copy_from_slice(&(buf.as_mut_ptr() as u64).to_le_bytes());
  write_all(sock, &mine);
  let mut theirs = [0u8; 16];
  assert!(read_all(sock, &mut theirs, false));
  let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
  (word(&theirs[..8]) as u32, word(&theirs[8..]) as usize)
}

fn echo_direct(bytes: usize, samples: usize, warmup: usize) -> Vec<f64> {
  let (mut sock, mut child) = pair("echo-direct", bytes);
  let message = vec![7u8; bytes];
  let mut back = vec![0u8; bytes];
  allow_writes_from(child.id());
  let (pid, address) = swap_addresses(&mut sock, &mut back);
  let mut done = [0u8; 1];
  let out = timed(samples, warmup, || {
    write_into(pid, address, &message);
    write_all(&mut sock, &done);
    assert!(read_all(&mut sock, &mut done, false));
  });
  assert_eq!(back[bytes - 1], 7);
  back[0] = 0;
  drop(sock);
  child.wait().unwrap();
  out.into_iter().map(|us| us / 1e3).collect()
}

fn peer(mode: &str, path: &str, bytes: usize) {
  let mut sock = UnixStream::connect(path).unwrap();
  sock.set_nonblocking(true).unwrap();
  if mode == "echo-direct" {
    // Written by the other process, read by process_vm_writev (the kernel): never by this code.
    let mut buf = vec![0u8; bytes];
    let (pid, address) = swap_addresses(&mut sock, &mut buf);
    let mut done = [0u8; 1];
    while read_all(&mut sock, &mut done, false) {
      write_into(pid, address, &buf);
      write_all(&mut sock, &done);
    }
    return;
  }
  if mode == "echo" {
    let mut buf = vec![0u8; bytes];
    while read_all(&mut sock, &mut buf, false) {
      write_all(&mut sock, &buf);
    }
    return;
  }
  let mut buf = [0u8; 8];
  while read_all(&mut sock, &mut buf, mode == "spin") {
    write_all(&mut sock, &buf);
  }
}

//! One connection between two processes, whichever side opened it.
//!
//! Writes: frames are appended to an outbox. A frame somebody is blocked on (a sendSync, its
//! answer, an invoke and its result) is written at once from the calling thread, together with
//! everything queued before it; other frames are left to the writer task, which writes whatever
//! accumulated in one syscall. Reads: the reader task decodes frames and hands each batch to the
//! core at once. When a frame is expected soon (a sendSync's answer, or the next sendSync of a
//! renderer that was just answered) the reader polls for a short while instead of sleeping:
//! waking a sleeping thread is what costs. How long adapts to whether such polls pay off.
//!
//! Better still, the JS thread the frames are for can take the reading over (`take_over`): its
//! own event loop watches the socket and reads it (`pump`), and a sendSync blocked on it waits
//! in `poll(2)` on the socket (`Link::park`), so an answer costs one wake-up instead of two
//! (the reader task's, then the JS thread's). The reader task then stops.

use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use tokio::net::UnixStream;
use tokio::sync::Notify;

use super::frame::{self, Batch, Decoder, Step, BYE};
use super::handshake::Bye;
use super::outgoing::Outgoing;
use super::socket;
use super::write_through::write_through;
use crate::core::link_batch::LinkBatch;
use crate::core::lock::lock;
use crate::core::renderers::{Link, Park};
use crate::core::router::global;
use crate::core::router::remote::ProtocolError;
use crate::core::waiter::SpinBudget;
use crate::core::{Envelope, Kind};

/// Bytes read at a time.
const READ_CHUNK: usize = 256 * 1024;

/// Reads per `pump`: a JS thread reading a busy socket gets back to dispatching (and its other
/// I/O) after this many; its event loop calls again while input is left.
const PUMP_READS: usize = 8;

/// What the reader hands frames to.
pub trait Peer: Send + Sync + 'static {
  /// Routed messages, in order. An error closes the connection.
  /// Takes the decoded messages out of `frames` (which keeps its memory for the next read).
  fn frames(&self, frames: &mut Batch) -> Result<(), ProtocolError>;
  /// A handshake frame after the handshake (only BYE is expected). An error closes it.
  fn handshake(&self, kind: u8, payload: &[u8]) -> Result<(), ProtocolError>;
  /// The connection ended: `error` says why, if it was not a clean close.
  fn closed(&self, error: Option<String>);
}

/// The reading side: whoever holds it (the reader task, the JS thread that took the reading
/// over, or a thread blocked in sendSync that polls for its answer) reads, so frames are never
/// split between two readers.
struct Reading {
  decoder: Decoder,
  /// Decoded messages on their way to the peer, kept from read to read.
  batch: Batch,
}

/// What one round of reading found.
enum Read {
  /// Something was read (and delivered); there may be more (the read was cut short, or more
  /// arrived since).
  Some,
  /// Nothing to read now.
  Nothing,
  /// The peer closed its end.
  End,
  /// The connection failed, or the peer sent something it must not: why.
  Failed(String),
}

#[derive(Default)]
struct Outbox {
  pending: Outgoing,
  /// Someone (the writer task or a direct writer) is writing: append only.
  busy: bool,
}

pub struct Connection {
  /// The socket (non-blocking): read and written directly, through its descriptor.
  sock: std::os::unix::net::UnixStream,
  /// The socket as registered with tokio's reactor (a duplicate descriptor), to wait for input
  /// (the reader task) or for room to write. A JS thread that takes the reading over drops it:
  /// the reactor's thread would otherwise wake for every frame that arrives, and every time the
  /// peer reads. A write that must wait then registers the socket for as long as it waits.
  reactor: Mutex<Option<Arc<UnixStream>>>,
  outbox: Mutex<Outbox>,
  kick: Notify,
  closed: AtomicBool,
  /// Poll for input from `spin_from` until `spin_until` (nanoseconds since `epoch()`), as long
  /// as `spin_budget` allows; `expecting`: what was expected has not been seen yet.
  spin_from: AtomicU64,
  spin_until: AtomicU64,
  spin_budget: SpinBudget,
  expecting: AtomicBool,
  /// Set by a BYE frame: the peer's exit code.
  exit_code: Mutex<Option<i32>>,
  /// Set by `prepare_reading` and `set_peer`: the reading side, and where frames go.
  reading: Mutex<Option<Reading>>,
  peer: OnceLock<Arc<dyn Peer>>,
  /// Why a polling thread found the connection broken (the reader task reports it).
  failure: Mutex<Option<String>>,
  /// A JS thread reads this connection now (`take_over`); the reader task stops.
  js_reads: AtomicBool,
  /// Wakes the reader task to see that it was taken over.
  handed_over: Notify,
  /// The peer has been told the connection ended (once, by whoever saw the end first).
  finished: AtomicBool,
}

impl std::fmt::Debug for Connection {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Connection")
      .field("fd", &self.sock.as_raw_fd())
      .finish()
  }
}

fn epoch() -> Instant {
  static EPOCH: OnceLock<Instant> = OnceLock::new();
  *EPOCH.get_or_init(Instant::now)
}

fn now() -> u64 {
  epoch().elapsed().as_nanos() as u64
}

impl Connection {
  /// Wraps a connected stream; call from inside the runtime.
  pub fn new(stream: UnixStream) -> io::Result<Arc<Connection>> {
    socket::grow_buffers(&stream);
    let sock = stream.into_std()?;
    let reactor = UnixStream::from_std(sock.try_clone()?)?;
    Ok(Arc::new(Connection {
      sock,
      reactor: Mutex::new(Some(Arc::new(reactor))),
      outbox: Mutex::new(Outbox::default()),
      kick: Notify::new(),
      closed: AtomicBool::new(false),
      spin_from: AtomicU64::new(0),
      spin_until: AtomicU64::new(0),
      spin_budget: SpinBudget::default(),
      expecting: AtomicBool::new(false),
      exit_code: Mutex::new(None),
      reading: Mutex::new(None),
      peer: OnceLock::new(),
      failure: Mutex::new(None),
      js_reads: AtomicBool::new(false),
      handed_over: Notify::new(),
      finished: AtomicBool::new(false),
    }))
  }

  /// The socket's file descriptor (to watch it for input).
  pub fn fd(&self) -> i32 {
    self.sock.as_raw_fd()
  }

  /// The socket as registered with the reactor, unless a JS thread reads it.
  pub fn reactor(&self) -> Option<Arc<UnixStream>> {
    lock(&self.reactor).clone()
  }

  /// Installs the reading side, before `read_loop` and before the
  /// connection is offered to a JS thread (`handoff`).
  pub fn prepare_reading(&self, decoder: Decoder) {
    *lock(&self.reading) = Some(Reading {
      decoder,
      batch: Batch::default(),
    });
  }

  /// Where frames go from now on (once).
  pub fn set_peer(&self, peer: Arc<dyn Peer>) {
    let _ = self.peer.set(peer);
  }

  /// From now on the calling JS thread reads this connection (`pump`, `Link::park`), and the
  /// reader task stops. False if it has ended already.
  pub fn take_over(&self) -> bool {
    if self.finished.load(Ordering::SeqCst) {
      return false;
    }
    self.js_reads.store(true, Ordering::SeqCst);
    // Deregistered once the reader task lets go of it too.
    lock(&self.reactor).take();
    self.handed_over.notify_one();
    true
  }

  /// Whether the peer has been told the connection ended.
  pub fn is_finished(&self) -> bool {
    self.finished.load(Ordering::SeqCst)
  }

  /// Reads and delivers what has arrived (a bounded amount), on the JS thread that took the
  /// connection over. Returns false once the connection has ended (and the peer was told).
  pub fn pump(&self) -> bool {
    match self.read_round(None, false, PUMP_READS) {
      Read::Some | Read::Nothing => !self.is_finished(),
      Read::End => {
        self.finish(None);
        false
      }
      Read::Failed(e) => {
        self.finish(Some(e));
        false
      }
    }
  }

  /// Ends a connection taken over by a JS thread that stops reading it (its thread is going
  /// away): the peer is told as if it had ended.
  pub fn abandon(&self) {
    self.finish(None);
  }

  /// Ends the connection and tells the peer, once: `outcome` is why, if it broke.
  fn finish(&self, outcome: Option<String>) {
    if self.finished.swap(true, Ordering::SeqCst) {
      return;
    }
    let error = lock(&self.failure).take().or(outcome);
    let error = if self.is_closed() && error.is_none() {
      None
    } else {
      error
    };
    self.shut();
    if let Some(peer) = self.peer.get() {
      peer.closed(error);
    }
  }

  fn outbox(&self) -> MutexGuard<'_, Outbox> {
    self.outbox.lock().unwrap_or_else(|p| p.into_inner())
  }

  pub fn is_closed(&self) -> bool {
    self.closed.load(Ordering::SeqCst)
  }

  /// The exit code the peer announced with BYE, if it did.
  pub fn exit_code(&self) -> Option<i32> {
    *lock(&self.exit_code)
  }

  /// Keeps the reader polling for a while (an answer is about to arrive): at most as long as a
  /// blocked sendSync spins before parking (one policy for both, see waiter.rs), less while
  /// such spins have been in vain.
  pub fn expect_soon(&self) {
    if self.js_reads.load(Ordering::Relaxed) {
      // No reader task to spin: the JS thread's loop (or the blocked sendSync) reads the answer.
      return;
    }
    let spin = self.spin_budget.get(global().policy().spin).as_nanos() as u64;
    let from = now();
    self.spin_from.store(from, Ordering::Relaxed);
    self.spin_until.store(from + spin, Ordering::Relaxed);
    self.expecting.store(true, Ordering::Relaxed);
  }

  /// Input arrived after an `expect_soon`: teaches the budget whether spinning was worth it.
  fn expected_arrived(&self, while_spinning: bool) {
    if !self.expecting.swap(false, Ordering::Relaxed) {
      return;
    }
    let from = self.spin_from.load(Ordering::Relaxed);
    let spun = self.spin_until.load(Ordering::Relaxed).saturating_sub(from);
    let waited = Duration::from_nanos(now().saturating_sub(from));
    let max = global().policy().spin;
    self
      .spin_budget
      .learn(while_spinning, waited, Duration::from_nanos(spun), max);
  }

  /// Appends a frame; `urgent` ones are written from this thread right away.
  pub fn queue(&self, urgent: bool, encode: impl FnOnce(&mut Outgoing)) -> bool {
    let mut out = self.outbox();
    if self.is_closed() {
      return false;
    }
    encode(&mut out.pending);
    if out.busy {
      return true;
    }
    if !urgent {
      out.busy = true;
      drop(out);
      self.kick.notify_one();
      return true;
    }
    // written now; dropped at once, which hands `busy` back (or the rest to the writer task)
    drop(self.start_direct_write(out));
    true
  }

  /// Takes `busy` for a write from this thread, and writes what was queued before (as much as
  /// the socket takes now). Dropping the result ends the direct write.
  fn start_direct_write(&self, mut out: MutexGuard<'_, Outbox>) -> DirectWrite<'_> {
    out.busy = true;
    let now = std::mem::take(&mut out.pending);
    drop(out);
    let mut direct = DirectWrite { conn: self, now };
    self.write_now(&mut direct.now);
    direct
  }

  /// After this thread wrote directly (holding `busy`): what it left, and whatever was appended
  /// meanwhile, goes to the writer task in order; or, all written, the outbox is free again.
  fn end_direct_write(&self, mut now: Outgoing) {
    let mut out = self.outbox();
    if !now.is_empty() || !out.pending.is_empty() {
      now.append(std::mem::take(&mut out.pending));
      out.pending = now;
      drop(out);
      self.kick.notify_one();
    } else {
      out.busy = false;
      // all written: keep its buffer for the next frames
      out.pending = now;
    }
  }

  /// Sends a message whose large parts are still in the sender's memory: written from there by
  /// this thread when nothing is queued ahead of it (write_through.rs), else copied and queued.
  fn send_spliced(&self, envelope: Envelope, channel: &str) -> bool {
    let mut out = self.outbox();
    if self.is_closed() {
      return false;
    }
    if out.busy {
      out.pending.push_envelope(envelope, channel);
      return true;
    }
    let mut direct = self.start_direct_write(out);
    if direct.now.is_empty() {
      let mut head = Vec::with_capacity(frame::PREFIX + frame::HEADER + channel.len());
      frame::encode_envelope_head(&mut head, &envelope, channel);
      let spliced = envelope.payload.spliced().expect("checked by send");
      let rest = spliced.with_pieces(|pieces| {
        let mut all: Vec<&[u8]> = Vec::with_capacity(pieces.len() + 1);
        all.push(&head);
        all.extend_from_slice(pieces);
        write_through(&self.sock, &all)
      });
      direct.now.push_bytes(rest);
    } else {
      direct.now.push_envelope(envelope, channel);
    }
    true
  }

  /// Appends a handshake frame.
  pub fn queue_handshake(&self, urgent: bool, kind: u8, json: &[u8]) -> bool {
    self.queue(urgent, |out| {
      frame::encode_handshake(out.tail(), kind, json)
    })
  }

  /// Writes without blocking, as much as the socket takes now.
  fn write_now(&self, out: &mut Outgoing) {
    while !out.is_empty() {
      match (&self.sock).write_vectored(&out.slices()) {
        Ok(n) => out.advance(n),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
        Err(_) => break,
      }
    }
  }

  /// Writes everything queued, blocking this thread (at exit: the last frames must go out).
  /// Returns once nothing is queued and nobody is writing, or at `deadline`.
  pub fn flush_blocking(&self, deadline: Instant) {
    loop {
      let mut now = {
        let mut out = self.outbox();
        if out.busy {
          // The writer task is writing a chunk it took (the queue may look empty meanwhile):
          // let it finish, or the end of the stream would be cut off.
          drop(out);
          if Instant::now() >= deadline {
            return;
          }
          std::thread::sleep(Duration::from_micros(200));
          continue;
        }
        if out.pending.is_empty() {
          return;
        }
        out.busy = true;
        std::mem::take(&mut out.pending)
      };
      while !now.is_empty() && Instant::now() < deadline {
        self.write_now(&mut now);
        if !now.is_empty() {
          std::thread::sleep(Duration::from_micros(100));
        }
      }
      self.outbox().busy = false;
      if !now.is_empty() {
        return;
      }
    }
  }

  /// Ends the connection: the reader wakes with an end of stream, the writer stops.
  pub fn shut(&self) {
    if !self.closed.swap(true, Ordering::SeqCst) {
      unsafe {
        libc::shutdown(self.sock.as_raw_fd(), libc::SHUT_RDWR);
      }
      self.kick.notify_one();
    }
  }

  /// Writes all of `out`, waiting for room when the socket is full (through the reactor
  /// registration, or one made for this wait when a JS thread reads the socket).
  async fn write_all(&self, out: &mut Outgoing) -> io::Result<()> {
    self.write_now(out);
    if out.is_empty() {
      return Ok(());
    }
    let reactor = match self.reactor() {
      Some(r) => r,
      None => Arc::new(UnixStream::from_std(self.sock.try_clone()?)?),
    };
    while !out.is_empty() {
      reactor.writable().await?;
      match reactor.try_write_vectored(&out.slices()) {
        Ok(n) => out.advance(n),
        Err(e)
          if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
          ) => {}
        Err(e) => return Err(e),
      }
    }
    Ok(())
  }

  /// The writer task: writes what accumulates, one syscall per batch where the socket allows.
  pub async fn write_loop(self: Arc<Self>) {
    loop {
      self.kick.notified().await;
      loop {
        let mut now = {
          let mut out = self.outbox();
          if self.is_closed() || out.pending.is_empty() {
            out.busy = false;
            break;
          }
          out.busy = true;
          std::mem::take(&mut out.pending)
        };
        if self.write_all(&mut now).await.is_err() {
          self.shut();
          return;
        }
        // keep its buffer for the next frames, unless some are queued already
        let mut out = self.outbox();
        if out.pending.is_empty() {
          out.pending = now;
        }
      }
      if self.is_closed() {
        return;
      }
    }
  }

  /// The reader task: decodes frames and hands them to `peer` until the connection ends, or
  /// until a JS thread takes the reading over.
  /// Call `prepare_reading` and `set_peer` first.
  pub async fn read_loop(self: Arc<Self>) {
    let Some(reactor) = self.reactor() else {
      return;
    };
    // Set after sleeping: what is read next is what the spin (if any) waited for in vain.
    let mut slept = false;
    let outcome = loop {
      if self.js_reads.load(Ordering::SeqCst) {
        return;
      }
      match self.read_round(Some(&reactor), false, usize::MAX) {
        Read::End => break None,
        Read::Failed(e) => break Some(e),
        Read::Some => {
          if std::mem::take(&mut slept) {
            self.expected_arrived(false);
          }
          continue;
        }
        Read::Nothing => {}
      }
      // Nothing to read: poll for a while if an answer is expected soon, else sleep until the
      // reactor sees input.
      match self.spin() {
        Read::End => break None,
        Read::Failed(e) => break Some(e),
        Read::Some => continue,
        Read::Nothing => {
          tokio::select! {
            ready = reactor.readable() => {
              if let Err(e) = ready {
                break Some(e.to_string());
              }
            }
            _ = self.handed_over.notified() => {}
          }
          slept = true;
        }
      }
    };
    self.finish(outcome);
  }

  /// Polls the socket while an answer is expected soon.
  fn spin(&self) -> Read {
    while now() < self.spin_until.load(Ordering::Relaxed) {
      if self.js_reads.load(Ordering::Relaxed) {
        return Read::Nothing;
      }
      match self.read_round(None, false, usize::MAX) {
        Read::Nothing => std::thread::yield_now(),
        Read::Some => {
          self.expected_arrived(true);
          return Read::Some;
        }
        other => return other,
      }
    }
    Read::Nothing
  }

  /// Reads what has arrived and delivers the frames, holding the reading side. `tokio`: read
  /// through tokio, which keeps its readiness state right (the reader task, before it sleeps);
  /// otherwise read the fd directly (tokio's `try_read` answers from its cached readiness,
  /// which only the reactor's next poll renews, so polling through it would poll nothing).
  /// `try_only`: give up at once if another thread is reading. At most `reads` reads.
  fn read_round(&self, tokio: Option<&UnixStream>, try_only: bool, reads: usize) -> Read {
    let mut guard = if try_only {
      match self.reading.try_lock() {
        Ok(g) => g,
        Err(_) => return Read::Nothing,
      }
    } else {
      lock(&self.reading)
    };
    let Some(reading) = guard.as_mut() else {
      return Read::Nothing;
    };
    let Some(peer) = self.peer.get() else {
      return Read::Nothing;
    };
    let mut got = false;
    for _ in 0..reads {
      if let Err(e) = self.deliver(reading, &**peer) {
        return Read::Failed(e);
      }
      // The rest of a large payload goes straight into place, anything else to the end of the
      // decoder's buffer.
      let fd = self.sock.as_raw_fd();
      let decoder = &mut reading.decoder;
      let (large, ptr, len) = match decoder.spare() {
        Some(spare) => (true, spare.as_mut_ptr().cast::<u8>(), spare.len()),
        None => match decoder.room(READ_CHUNK) {
          Ok(room) => (false, room.as_mut_ptr().cast::<u8>(), room.len()),
          Err(e) => return Read::Failed(e.to_string()),
        },
      };
      let n = match tokio {
        Some(reactor) => reactor.try_io(tokio::io::Interest::READABLE, || recv_into(fd, ptr, len)),
        None => recv_into(fd, ptr, len),
      };
      match n {
        Ok(0) => return Read::End,
        Ok(n) => {
          // Safety: recv wrote these n bytes there.
          unsafe {
            if large {
              decoder.filled(n);
            } else {
              decoder.received(n);
            }
          }
          got = true;
          if n < len {
            // The socket had no more just now: no second read to learn it (readiness says
            // when more comes).
            break;
          }
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
          return if got { Read::Some } else { Read::Nothing };
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
        Err(e) => return Read::Failed(e.to_string()),
      }
    }
    // Out of reads with input perhaps left: deliver what was read; the caller comes back.
    if let Err(e) = self.deliver(reading, &**peer) {
      return Read::Failed(e);
    }
    if got {
      Read::Some
    } else {
      Read::Nothing
    }
  }

  fn deliver(&self, reading: &mut Reading, peer: &dyn Peer) -> Result<(), String> {
    let Reading { decoder, batch } = reading;
    loop {
      match decoder.next_into(batch) {
        Ok(Step::Queued) => {
          if batch.last_kind() == Some(Kind::SyncReply) {
            // A renderer that just got an answer often asks again at once: keep polling.
            self.expect_soon();
          }
        }
        Ok(Step::Handshake { kind, payload }) => {
          if !batch.is_empty() {
            peer.frames(batch).map_err(|e| e.0)?;
          }
          if kind == BYE {
            let bye: Bye = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
            *lock(&self.exit_code) = Some(bye.exit_code);
          } else {
            peer.handshake(kind, &payload).map_err(|e| e.0)?;
          }
        }
        Ok(Step::NeedMore) => break,
        Err(e) => {
          // What came before the bad frame is the renderer's last word: dispatch it.
          if !batch.is_empty() {
            peer.frames(batch).map_err(|e| e.0)?;
          }
          return Err(e.to_string());
        }
      }
    }
    if !batch.is_empty() {
      peer.frames(batch).map_err(|e| e.0)?;
    }
    Ok(())
  }
}

/// A non-blocking read straight from the socket into `len` bytes at `ptr` (which the caller
/// owns; they need not be initialized).
fn recv_into(fd: i32, ptr: *mut u8, len: usize) -> io::Result<usize> {
  let n = unsafe { libc::recv(fd, ptr.cast(), len, libc::MSG_DONTWAIT) };
  if n >= 0 {
    Ok(n as usize)
  } else {
    Err(io::Error::last_os_error())
  }
}

/// `busy`, held by a thread writing directly: handed back (`end_direct_write`) however the write
/// ends, a panic (no memory for a copy) included, so the connection never stays blocked.
struct DirectWrite<'a> {
  conn: &'a Connection,
  now: Outgoing,
}

impl Drop for DirectWrite<'_> {
  fn drop(&mut self) {
    self.conn.end_direct_write(std::mem::take(&mut self.now));
  }
}

impl Link for Connection {
  fn send(&self, envelope: Envelope, channel: &str) -> bool {
    // Someone waits on these: write them now rather than after a thread hop.
    let urgent = matches!(
      envelope.kind,
      Kind::Sync | Kind::SyncReply | Kind::Invoke | Kind::InvokeReply
    );
    // Poll for what comes next rather than sleep: the answer to a sendSync that goes out now
    // (beside the blocked thread, which polls too), and, once main has answered one, the
    // renderer's next (a sendSync loop asks again at once). Not when a sendSync comes in: while
    // main works on it, a spinning reader only takes CPU time from main (measured: bursts
    // followed by sendSyncs stalled for milliseconds).
    if matches!(envelope.kind, Kind::Sync | Kind::SyncReply) {
      self.expect_soon();
    }
    if envelope.payload.spliced().is_some() {
      return self.send_spliced(envelope, channel);
    }
    self.queue(urgent, |out| out.push_envelope(envelope, channel))
  }

  fn send_batch(&self, batch: &LinkBatch) -> bool {
    self.queue(false, |out| out.push_batch(batch))
  }

  fn close(&self) {
    self.shut();
  }

  fn poll(&self) {
    if self.js_reads.load(Ordering::Relaxed) {
      self.pump();
      return;
    }
    match self.read_round(None, true, usize::MAX) {
      // The reader task sees the end too (it is sticky) and reports it.
      Read::Some | Read::Nothing | Read::End => {}
      Read::Failed(e) => {
        *lock(&self.failure) = Some(e);
        self.shut();
      }
    }
  }

  fn park(&self, timeout: Duration) -> Park {
    if !self.js_reads.load(Ordering::Relaxed) || self.is_finished() {
      return Park::Unsupported;
    }
    let mut fds = libc::pollfd {
      fd: self.fd(),
      events: libc::POLLIN,
      revents: 0,
    };
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as i32;
    match unsafe { libc::poll(&mut fds, 1, ms) } {
      0 => Park::TimedOut,
      // Input, the end, an error, or a signal: the caller reads (and so finds out) at once.
      _ => Park::Input,
    }
  }
}

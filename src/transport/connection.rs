//! One connection between two processes, whichever side opened it.
//!
//! Writes: frames are appended to an outbox. A frame somebody is blocked on (a sendSync, its
//! answer, an invoke and its result) is written at once from the calling thread, together with
//! everything queued before it; other frames are left to the writer task, which writes whatever
//! accumulated in one syscall. Reads: the reader task decodes frames and hands each batch to the
//! core at once. When an answer is expected soon (a sendSync just went out, or just came in) the
//! reader polls for a short while instead of sleeping: waking a sleeping thread is what costs.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use tokio::net::UnixStream;
use tokio::sync::Notify;

use super::frame::{self, Decoder, Frame, BYE};
use super::handshake::Bye;
use crate::core::renderers::Link;
use crate::core::router::global;
use crate::core::router::remote::ProtocolError;
use crate::core::{Envelope, Kind};

/// Bytes read at a time.
const READ_CHUNK: usize = 256 * 1024;

/// What the reader hands frames to.
pub trait Peer: Send + Sync + 'static {
  /// Routed messages, in order. An error closes the connection.
  fn frames(&self, frames: Vec<(Envelope, String)>) -> Result<(), ProtocolError>;
  /// A handshake frame after the handshake (only BYE is expected). An error closes it.
  fn handshake(&self, kind: u8, payload: &[u8]) -> Result<(), ProtocolError>;
  /// The connection ended: `error` says why, if it was not a clean close.
  fn closed(&self, error: Option<String>);
}

#[derive(Default)]
struct Outbox {
  buf: Vec<u8>,
  /// Someone (the writer task or a direct writer) is writing: append only.
  busy: bool,
}

pub struct Connection {
  stream: UnixStream,
  outbox: Mutex<Outbox>,
  kick: Notify,
  closed: AtomicBool,
  /// Poll for input until this instant (nanoseconds since `epoch()`).
  spin_until: AtomicU64,
  /// Set by a BYE frame: the peer's exit code.
  exit_code: Mutex<Option<i32>>,
}

impl std::fmt::Debug for Connection {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Connection")
      .field("fd", &self.stream.as_raw_fd())
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
  pub fn new(stream: UnixStream) -> Arc<Connection> {
    Arc::new(Connection {
      stream,
      outbox: Mutex::new(Outbox::default()),
      kick: Notify::new(),
      closed: AtomicBool::new(false),
      spin_until: AtomicU64::new(0),
      exit_code: Mutex::new(None),
    })
  }

  pub fn stream(&self) -> &UnixStream {
    &self.stream
  }

  fn outbox(&self) -> MutexGuard<'_, Outbox> {
    self.outbox.lock().unwrap_or_else(|p| p.into_inner())
  }

  pub fn is_closed(&self) -> bool {
    self.closed.load(Ordering::SeqCst)
  }

  /// The exit code the peer announced with BYE, if it did.
  pub fn exit_code(&self) -> Option<i32> {
    *self.exit_code.lock().unwrap_or_else(|p| p.into_inner())
  }

  /// Keeps the reader polling for a while (an answer is about to arrive).
  pub fn expect_soon(&self) {
    // As long as a blocked sendSync spins before parking: one policy for both (see waiter.rs).
    let spin = global().policy().spin.as_nanos() as u64;
    self.spin_until.store(now() + spin, Ordering::Relaxed);
  }

  /// Appends a frame; `urgent` ones are written from this thread right away.
  pub fn queue(&self, urgent: bool, encode: impl FnOnce(&mut Vec<u8>)) -> bool {
    let mut out = self.outbox();
    if self.is_closed() {
      return false;
    }
    encode(&mut out.buf);
    if out.busy {
      return true;
    }
    out.busy = true;
    if !urgent {
      drop(out);
      self.kick.notify_one();
      return true;
    }
    let buf = std::mem::take(&mut out.buf);
    drop(out);
    let written = self.write_now(&buf);
    let mut out = self.outbox();
    if written < buf.len() || !out.buf.is_empty() {
      // The rest, and whatever was appended meanwhile, in order, for the writer task.
      let mut rest = buf[written..].to_vec();
      rest.append(&mut out.buf);
      out.buf = rest;
      drop(out);
      self.kick.notify_one();
    } else {
      out.busy = false;
      // keep the allocation for the next frames
      let mut buf = buf;
      buf.clear();
      out.buf = buf;
    }
    true
  }

  /// Writes without blocking; returns how much went out.
  fn write_now(&self, buf: &[u8]) -> usize {
    let mut written = 0;
    while written < buf.len() {
      match self.stream.try_write(&buf[written..]) {
        Ok(n) => written += n,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
        Err(_) => break,
      }
    }
    written
  }

  /// Writes everything queued, blocking this thread (at exit: the last frames must go out).
  /// Returns once nothing is queued and nobody is writing, or at `deadline`.
  pub fn flush_blocking(&self, deadline: Instant) {
    loop {
      let buf = {
        let mut out = self.outbox();
        if out.busy {
          // The writer task is writing a chunk it took (the buffer may look empty meanwhile):
          // let it finish, or the end of the stream would be cut off.
          drop(out);
          if Instant::now() >= deadline {
            return;
          }
          std::thread::sleep(Duration::from_micros(200));
          continue;
        }
        if out.buf.is_empty() {
          return;
        }
        out.busy = true;
        std::mem::take(&mut out.buf)
      };
      let mut written = 0;
      while written < buf.len() && Instant::now() < deadline {
        written += self.write_now(&buf[written..]);
        if written < buf.len() {
          std::thread::sleep(Duration::from_micros(100));
        }
      }
      self.outbox().busy = false;
      if written < buf.len() {
        return;
      }
    }
  }

  /// Ends the connection: the reader wakes with an end of stream, the writer stops.
  pub fn shut(&self) {
    if !self.closed.swap(true, Ordering::SeqCst) {
      unsafe {
        libc::shutdown(self.stream.as_raw_fd(), libc::SHUT_RDWR);
      }
      self.kick.notify_one();
    }
  }

  /// The writer task: writes what accumulates, one syscall per batch where the socket allows.
  pub async fn write_loop(self: Arc<Self>) {
    loop {
      self.kick.notified().await;
      loop {
        let buf = {
          let mut out = self.outbox();
          if self.is_closed() || out.buf.is_empty() {
            out.busy = false;
            break;
          }
          out.busy = true;
          std::mem::take(&mut out.buf)
        };
        if write_all(&self.stream, &buf).await.is_err() {
          self.shut();
          return;
        }
      }
      if self.is_closed() {
        return;
      }
    }
  }

  /// The reader task: decodes frames and hands them to `peer` until the connection ends.
  pub async fn read_loop(self: Arc<Self>, mut decoder: Decoder, peer: Arc<dyn Peer>) {
    let mut chunk = vec![0u8; READ_CHUNK];
    let outcome = loop {
      // frames already buffered (from the handshake's read, or the last read)
      match self.deliver(&mut decoder, &*peer) {
        Ok(()) => {}
        Err(e) => break Some(e),
      }
      match self.stream.try_read(&mut chunk) {
        Ok(0) => break None,
        Ok(n) => decoder.push(&chunk[..n]),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => match self.spin_read(&mut chunk) {
          Some(Ok(0)) => break None,
          Some(Ok(n)) => decoder.push(&chunk[..n]),
          Some(Err(e)) => break Some(e.to_string()),
          None => {
            if let Err(e) = self.stream.readable().await {
              break Some(e.to_string());
            }
          }
        },
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
        Err(e) => break Some(e.to_string()),
      }
    };
    let error = if self.is_closed() { None } else { outcome };
    self.shut();
    peer.closed(error);
  }

  /// While an answer is expected soon, polls the socket instead of sleeping until the reactor
  /// sees it: None when the spin ended with nothing to read. Reads the fd directly: tokio's
  /// `try_read` answers from its cached readiness, which only the reactor's next poll renews,
  /// so spinning on it would poll nothing.
  fn spin_read(&self, chunk: &mut [u8]) -> Option<io::Result<usize>> {
    while now() < self.spin_until.load(Ordering::Relaxed) {
      let n = unsafe {
        libc::recv(
          self.stream.as_raw_fd(),
          chunk.as_mut_ptr().cast(),
          chunk.len(),
          libc::MSG_DONTWAIT,
        )
      };
      if n >= 0 {
        return Some(Ok(n as usize));
      }
      let e = io::Error::last_os_error();
      match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => {
          // let threads that share this CPU run (the peer we wait for may be one of them)
          std::thread::yield_now()
        }
        _ => return Some(Err(e)),
      }
    }
    None
  }

  fn deliver(&self, decoder: &mut Decoder, peer: &dyn Peer) -> Result<(), String> {
    let mut batch = Vec::new();
    loop {
      match decoder.next_frame() {
        Ok(Some(Frame::Message { envelope, channel })) => {
          if matches!(envelope.kind, Kind::Sync | Kind::SyncReply) {
            // a sendSync came in (its sender will soon send another) or its answer did
            self.expect_soon();
          }
          batch.push((envelope, channel));
        }
        Ok(Some(Frame::Handshake { kind, payload })) => {
          if !batch.is_empty() {
            peer.frames(std::mem::take(&mut batch)).map_err(|e| e.0)?;
          }
          if kind == BYE {
            let bye: Bye = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
            *self.exit_code.lock().unwrap_or_else(|p| p.into_inner()) = Some(bye.exit_code);
          } else {
            peer.handshake(kind, &payload).map_err(|e| e.0)?;
          }
        }
        Ok(None) => break,
        Err(e) => return Err(e.to_string()),
      }
    }
    if !batch.is_empty() {
      peer.frames(batch).map_err(|e| e.0)?;
    }
    Ok(())
  }
}

async fn write_all(stream: &UnixStream, mut buf: &[u8]) -> io::Result<()> {
  while !buf.is_empty() {
    stream.writable().await?;
    match stream.try_write(buf) {
      Ok(n) => buf = &buf[n..],
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

impl Link for Connection {
  fn send(&self, envelope: Envelope, channel: &str) -> bool {
    // Someone waits on these: write them now rather than after a thread hop.
    let urgent = matches!(
      envelope.kind,
      Kind::Sync | Kind::SyncReply | Kind::Invoke | Kind::InvokeReply
    );
    if envelope.kind == Kind::Sync {
      self.expect_soon();
    }
    self.queue(urgent, |out| {
      frame::encode_envelope(out, &envelope, channel)
    })
  }

  fn close(&self) {
    self.shut();
  }
}

//! Renderer side: connects to a main's socket, says HELLO, and hosts the renderer main accepts.
//! The connect and the handshake are synchronous (they are quick, local), so a script can use
//! `ipcRenderer` — `sendSync` included — on its first line.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::connection::{Connection, Peer};
use super::frame::{self, Batch, Decoder, Frame, BYE, HANDSHAKE_MAX_FRAME, HELLO, REJECT, WELCOME};
use super::handoff;
use super::handshake::{Bye, Hello, Reject, Welcome, PROTOCOL};
use super::runtime::runtime;
use super::socket;
use crate::core::router::global;
use crate::core::router::remote::ProtocolError;
use crate::core::{EndpointId, RendererId};

/// How long connecting and the handshake may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub enum ConnectError {
  Io(std::io::Error),
  /// Main refused: its code and message.
  Refused(String, String),
  Protocol(String),
}

impl std::fmt::Display for ConnectError {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    match self {
      ConnectError::Io(e) => write!(f, "cannot connect to main: {e}"),
      ConnectError::Refused(_, message) => write!(f, "main refused the connection: {message}"),
      ConnectError::Protocol(message) => write!(f, "main spoke an unknown protocol: {message}"),
    }
  }
}

impl ConnectError {
  pub fn code(&self) -> &str {
    match self {
      ConnectError::Io(_) => "ERR_IPC_CONNECT",
      ConnectError::Refused(code, _) => code,
      ConnectError::Protocol(_) => "ERR_IPC_PROTOCOL",
    }
  }
}

impl From<std::io::Error> for ConnectError {
  fn from(e: std::io::Error) -> Self {
    ConnectError::Io(e)
  }
}

/// A connected renderer: its local id, and main's view of it.
pub struct Connected {
  pub renderer: RendererId,
  pub welcome: Welcome,
}

/// Connections to mains, so the last frames can be flushed (and BYE said) at exit.
fn uplinks() -> &'static Mutex<Vec<Weak<Connection>>> {
  static UPLINKS: Mutex<Vec<Weak<Connection>>> = Mutex::new(Vec::new());
  &UPLINKS
}

/// Connects the JS thread of `host` to the main listening at `path`, as renderer `expected`
/// (0: a new one).
pub fn connect(
  host: EndpointId,
  path: &Path,
  token: &str,
  expected: RendererId,
  max_frame: usize,
) -> Result<Connected, ConnectError> {
  let mut stream = socket::connect(path)?;
  stream.set_read_timeout(Some(CONNECT_TIMEOUT))?;
  stream.set_write_timeout(Some(CONNECT_TIMEOUT))?;
  let hello = Hello {
    protocol: PROTOCOL,
    token: token.to_owned(),
    pid: std::process::id(),
    renderer: expected,
  };
  let mut out = Vec::new();
  frame::encode_handshake(
    &mut out,
    HELLO,
    &serde_json::to_vec(&hello).expect("serializable"),
  );
  stream.write_all(&out)?;
  let mut decoder = Decoder::new(HANDSHAKE_MAX_FRAME.min(max_frame));
  let deadline = Instant::now() + CONNECT_TIMEOUT;
  let mut chunk = [0u8; 4096];
  let welcome = loop {
    match decoder.next_frame() {
      Ok(Some(Frame::Handshake {
        kind: WELCOME,
        payload,
      })) => {
        break serde_json::from_slice::<Welcome>(&payload)
          .map_err(|e| ConnectError::Protocol(e.to_string()))?;
      }
      Ok(Some(Frame::Handshake {
        kind: REJECT,
        payload,
      })) => {
        let reject: Reject =
          serde_json::from_slice(&payload).map_err(|e| ConnectError::Protocol(e.to_string()))?;
        return Err(ConnectError::Refused(reject.code, reject.message));
      }
      Ok(Some(_)) => return Err(ConnectError::Protocol("expected WELCOME".into())),
      Ok(None) => {}
      Err(e) => return Err(ConnectError::Protocol(e.to_string())),
    }
    if Instant::now() >= deadline {
      return Err(ConnectError::Io(std::io::ErrorKind::TimedOut.into()));
    }
    match stream.read(&mut chunk)? {
      0 => return Err(ConnectError::Io(std::io::ErrorKind::UnexpectedEof.into())),
      n => decoder.push(&chunk[..n]),
    }
  };
  decoder.set_max(max_frame);
  if welcome.protocol != PROTOCOL {
    return Err(ConnectError::Protocol(format!(
      "version {}",
      welcome.protocol
    )));
  }
  stream.set_read_timeout(None)?;
  stream.set_write_timeout(None)?;
  stream.set_nonblocking(true)?;
  let conn = {
    let _runtime = runtime().enter();
    Connection::new(tokio::net::UnixStream::from_std(stream)?)?
  };
  let renderer = global()
    .open_uplink(host, welcome.renderer, conn.clone())
    .map_err(|e| ConnectError::Protocol(e.to_string()))?;
  uplinks()
    .lock()
    .unwrap_or_else(|p| p.into_inner())
    .push(Arc::downgrade(&conn));
  conn.prepare_reading(decoder);
  conn.set_peer(Arc::new(MainPeer { renderer }));
  handoff::offer(host, &conn);
  runtime().spawn(conn.clone().write_loop());
  runtime().spawn(conn.clone().read_loop());
  Ok(Connected { renderer, welcome })
}

/// At exit: write what is still queued on every connection to a main, then BYE with the exit
/// code, so main sees a clean end (and every message sent before exiting).
pub fn goodbye(exit_code: i32) {
  let conns: Vec<Arc<Connection>> = uplinks()
    .lock()
    .unwrap_or_else(|p| p.into_inner())
    .drain(..)
    .filter_map(|w| w.upgrade())
    .collect();
  let json = serde_json::to_vec(&Bye { exit_code }).expect("serializable");
  let deadline = Instant::now() + Duration::from_secs(2);
  for conn in conns {
    if conn.is_closed() {
      continue;
    }
    conn.queue_handshake(false, BYE, &json);
    conn.flush_blocking(deadline);
    conn.shut();
  }
}

/// The core's side of the connection to main.
struct MainPeer {
  renderer: RendererId,
}

impl Peer for MainPeer {
  fn frames(&self, frames: &mut Batch) -> Result<(), ProtocolError> {
    global().from_uplink(self.renderer, frames.drain())
  }

  fn handshake(&self, kind: u8, _payload: &[u8]) -> Result<(), ProtocolError> {
    Err(ProtocolError(format!(
      "unexpected handshake frame {kind:#x}"
    )))
  }

  fn closed(&self, _error: Option<String>) {
    global().uplink_closed(self.renderer);
  }
}

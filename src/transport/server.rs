//! Main side: a listening socket whose connections become renderers of one main side (hub).
//!
//! A connection must come from this user (checked with the peer's credentials where the OS
//! gives them), say HELLO with this server's protocol version and token within the handshake
//! timeout, and claim a renderer `webContents.fork` made for it (or none: a new renderer is made).
//! Anything else closes that connection only, and main hears of it as a diagnostic.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Notify;

use super::connection::{Connection, Peer};
use super::frame::{Batch, Decoder, Frame, HANDSHAKE_MAX_FRAME, HELLO, REJECT, WELCOME};
use super::handoff;
use super::handshake::{new_token, same_token, Hello, Reject, Welcome, PROTOCOL};
use super::runtime::runtime;
use super::socket;
use crate::core::router::global;
use crate::core::router::remote::ProtocolError;
use crate::core::{EndpointId, RendererId};

/// How long a new connection has to complete its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Server {
  hub: EndpointId,
  token: String,
  path: PathBuf,
  /// The private directory made for the socket, removed with it.
  dir: Option<PathBuf>,
  max_frame: usize,
  stop: Notify,
  closed: AtomicBool,
}

impl Server {
  /// Listens at `path`, or in a fresh private directory. Binding happens now, so a failure is
  /// the caller's error; accepting happens on the runtime.
  pub fn listen(
    hub: EndpointId,
    path: Option<PathBuf>,
    max_frame: usize,
  ) -> std::io::Result<Arc<Server>> {
    let (path, dir) = match path {
      Some(path) => (path, None),
      None => {
        let dir = socket::private_dir()?;
        (dir.join("main.sock"), Some(dir))
      }
    };
    let listener = match socket::bind(&path) {
      Ok(l) => l,
      Err(e) => {
        if let Some(dir) = &dir {
          let _ = std::fs::remove_dir(dir);
        }
        return Err(e);
      }
    };
    let server = Arc::new(Server {
      hub,
      token: new_token()?,
      path,
      dir,
      max_frame,
      stop: Notify::new(),
      closed: AtomicBool::new(false),
    });
    let accepting = server.clone();
    runtime().spawn(async move {
      match UnixListener::from_std(listener) {
        Ok(listener) => accepting.accept_loop(listener).await,
        Err(e) => accepting.report("ERR_IPC_LISTEN", &e.to_string(), None),
      }
    });
    Ok(server)
  }

  pub fn path(&self) -> &Path {
    &self.path
  }

  pub fn token(&self) -> &str {
    &self.token
  }

  /// Stops accepting and removes the socket. Connections already made stay.
  pub fn close(&self) {
    if !self.closed.swap(true, Ordering::SeqCst) {
      self.stop.notify_one();
      socket::remove(&self.path, self.dir.as_deref());
    }
  }

  fn report(&self, code: &str, message: &str, pid: Option<i32>) {
    let details = json!({ "code": code, "message": message, "pid": pid });
    global().diagnostic(self.hub, details.to_string().into_bytes());
  }

  async fn accept_loop(self: Arc<Self>, listener: UnixListener) {
    loop {
      tokio::select! {
        accepted = listener.accept() => match accepted {
          Ok((stream, _)) => {
            let server = self.clone();
            tokio::spawn(async move { server.admit(stream).await });
          }
          Err(e) => {
            self.report("ERR_IPC_ACCEPT", &e.to_string(), None);
            tokio::time::sleep(Duration::from_millis(10)).await;
          }
        },
        _ = self.stop.notified() => return,
      }
    }
  }

  /// Handshake, then the connection's reader and writer.
  async fn admit(self: Arc<Self>, stream: UnixStream) {
    let pid = socket::peer_pid(&stream);
    if !socket::same_user(&stream) {
      self.report(
        "ERR_IPC_PEER_USER",
        "connection from another user refused",
        pid,
      );
      return;
    }
    let conn = match Connection::new(stream) {
      Ok(conn) => conn,
      Err(e) => return self.report("ERR_IPC_ACCEPT", &e.to_string(), pid),
    };
    let mut decoder = Decoder::new(HANDSHAKE_MAX_FRAME.min(self.max_frame));
    let hello = match tokio::time::timeout(HANDSHAKE_TIMEOUT, read_hello(&conn, &mut decoder)).await
    {
      Ok(Ok(hello)) => hello,
      Ok(Err(e)) => return self.refuse(&conn, "ERR_IPC_BAD_FRAME", &e, pid),
      Err(_) => {
        return self.refuse(
          &conn,
          "ERR_IPC_HANDSHAKE_TIMEOUT",
          "no handshake in time",
          pid,
        )
      }
    };
    let pid = pid.or(Some(hello.pid as i32));
    if hello.protocol != PROTOCOL {
      let message = format!("protocol version {} is not {PROTOCOL}", hello.protocol);
      return self.refuse(&conn, "ERR_IPC_PROTOCOL", &message, pid);
    }
    if !same_token(&self.token, &hello.token) {
      return self.refuse(&conn, "ERR_IPC_BAD_TOKEN", "wrong token", pid);
    }
    let info = json!({ "pid": hello.pid }).to_string().into_bytes();
    // WELCOME goes out before anything main sends this renderer.
    let welcome = |id| {
      let welcome = Welcome {
        protocol: PROTOCOL,
        renderer: id,
        pid: std::process::id(),
      };
      let json = serde_json::to_vec(&welcome).expect("serializable");
      conn.queue_handshake(true, WELCOME, &json);
    };
    decoder.set_max(self.max_frame);
    conn.prepare_reading(decoder);
    // Before main hears of it: main's thread takes it over when it does.
    handoff::offer(self.hub, &conn);
    let id = match global().accept_remote(self.hub, hello.renderer, conn.clone(), info, welcome) {
      Ok(id) => id,
      Err(e) => return self.refuse(&conn, e.code(), &e.to_string(), pid),
    };
    tokio::spawn(conn.clone().write_loop());
    let peer = Arc::new(RendererPeer {
      id,
      server: self.clone(),
      conn: conn.clone(),
      pid,
    });
    conn.set_peer(peer);
    conn.read_loop().await;
  }

  fn refuse(&self, conn: &Arc<Connection>, code: &str, message: &str, pid: Option<i32>) {
    let reject = serde_json::to_vec(&Reject {
      code: code.to_owned(),
      message: message.to_owned(),
    })
    .expect("serializable");
    conn.queue_handshake(true, REJECT, &reject);
    conn.shut();
    self.report(code, message, pid);
  }
}

impl Drop for Server {
  fn drop(&mut self) {
    self.close();
  }
}

/// Reads frames until the first one, which must be HELLO.
async fn read_hello(conn: &Connection, decoder: &mut Decoder) -> Result<Hello, String> {
  let mut chunk = vec![0u8; 4096];
  loop {
    match decoder.next_frame().map_err(|e| e.to_string())? {
      Some(Frame::Handshake {
        kind: HELLO,
        payload,
      }) => {
        return serde_json::from_slice(&payload).map_err(|e| format!("bad HELLO: {e}"));
      }
      Some(_) => return Err("the first frame must be HELLO".into()),
      None => {}
    }
    let reactor = conn.reactor().ok_or("not registered with the reactor")?;
    reactor.readable().await.map_err(|e| e.to_string())?;
    match reactor.try_read(&mut chunk) {
      Ok(0) => return Err("closed during the handshake".into()),
      Ok(n) => decoder.push(&chunk[..n]),
      Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
      Err(e) => return Err(e.to_string()),
    }
  }
}

/// The core's side of one renderer's connection.
struct RendererPeer {
  id: RendererId,
  server: Arc<Server>,
  conn: Arc<Connection>,
  pid: Option<i32>,
}

impl Peer for RendererPeer {
  fn frames(&self, frames: &mut Batch) -> Result<(), ProtocolError> {
    global().from_remote(self.id, frames.drain())
  }

  fn handshake(&self, kind: u8, _payload: &[u8]) -> Result<(), ProtocolError> {
    Err(ProtocolError(format!(
      "unexpected handshake frame {kind:#x}"
    )))
  }

  fn closed(&self, error: Option<String>) {
    if let Some(error) = &error {
      self.server.report("ERR_IPC_BAD_FRAME", error, self.pid);
    }
    let details = match self.conn.exit_code() {
      Some(code) => json!({ "exitCode": code }),
      None => json!({}),
    };
    global().remote_closed(self.id, details.to_string().into_bytes());
  }
}

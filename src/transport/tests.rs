//! The transport end to end, without Node: a server and clients in this process, talking over a
//! real socket, with two endpoints of the global core standing in for main and renderer threads.

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use super::client::{self, ConnectError};
use super::frame::{self, DEFAULT_MAX_FRAME, HELLO};
use super::server::Server;
use crate::core::registry::Scope;
use crate::core::router::{global, Delivery};
use crate::core::waiter::Reply;
use crate::core::{EndpointId, Kind, Status};

/// `client::goodbye` ends every connection to a main in the process: the test that calls it
/// holds this exclusively, every other test that keeps a connection open holds it shared.
static GOODBYE: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
  GOODBYE.read().unwrap_or_else(|p| p.into_inner())
}

/// Waits (bounded) for the next delivery of an endpoint's mailbox.
fn next(ep: EndpointId) -> Delivery {
  let deadline = Instant::now() + Duration::from_secs(10);
  loop {
    if let (Some(d), _) = global().pop(ep, false) {
      return d;
    }
    assert!(Instant::now() < deadline, "nothing arrived");
    thread::sleep(Duration::from_millis(1));
  }
}

fn diagnostic_code(ep: EndpointId) -> String {
  let d = next(ep);
  assert_eq!(d.envelope.kind, Kind::Diagnostic);
  let v: serde_json::Value = serde_json::from_slice(&d.envelope.payload).unwrap();
  v["code"].as_str().unwrap().to_owned()
}

/// A main endpoint listening, and a renderer endpoint connected to it.
struct Pair {
  main: EndpointId,
  server: std::sync::Arc<Server>,
  host: EndpointId,
  /// The renderer's id in the renderer's process, and in main's.
  local: u32,
  remote: u32,
}

fn connected_pair() -> (Pair, std::sync::RwLockReadGuard<'static, ()>) {
  let guard = shared();
  let core = global();
  let main = core.open_endpoint(None);
  let server = Server::listen(main, None, DEFAULT_MAX_FRAME).unwrap();
  let host = core.open_endpoint(None);
  let connected =
    client::connect(host, server.path(), server.token(), 0, DEFAULT_MAX_FRAME).unwrap();
  let pair = Pair {
    main,
    server,
    host,
    local: connected.renderer,
    remote: connected.welcome.renderer,
  };
  (pair, guard)
}

#[test]
fn a_renderer_process_talks_to_its_main_over_the_socket() {
  let (
    Pair {
      main,
      server,
      host,
      local,
      remote,
    },
    _shared,
  ) = connected_pair();
  let core = global();

  // main hears of the new renderer first
  let d = next(main);
  assert_eq!(
    (d.envelope.kind, d.envelope.renderer),
    (Kind::Connected, remote)
  );

  let ch = core.intern("ch");
  core.set_listening(Scope::Main(main), ch, true);
  core.set_handler(Scope::Main(main), ch, true);

  // renderer -> main: a send, then an invoke, in order
  core.send(host, local, Kind::Send, ch, vec![1]).unwrap();
  let (inv, _) = core.invoke(host, local, ch, vec![2]).unwrap();
  let d = next(main);
  assert_eq!(
    (
      d.envelope.kind,
      d.envelope.renderer,
      d.envelope.payload.to_vec()
    ),
    (Kind::Send, remote, vec![1])
  );
  let d = next(main);
  assert_eq!(d.envelope.kind, Kind::Invoke);
  core.settle_invoke(main, d.envelope.request, Status::Ok, vec![3]);
  let d = next(host);
  assert_eq!(
    (
      d.envelope.kind,
      d.envelope.request,
      d.envelope.payload.to_vec()
    ),
    (Kind::InvokeReply, inv, vec![3])
  );

  // a blocking sendSync across processes, answered by main's thread
  let answer = thread::spawn(move || {
    let d = next(main);
    assert_eq!(d.envelope.kind, Kind::Sync);
    assert!(global().reply_sync(main, d.envelope.request, Reply::value(vec![4])));
  });
  assert_eq!(
    core.sync_blocking(host, local, ch, vec![], &mut || false),
    Ok(Reply::value(vec![4]))
  );
  answer.join().unwrap();

  // main -> renderer
  core.send_to_renderer(main, remote, ch, vec![5]).unwrap();
  let d = next(host);
  assert_eq!(
    (
      d.envelope.kind,
      d.envelope.renderer,
      d.envelope.payload.to_vec()
    ),
    (Kind::Message, local, vec![5])
  );

  // main destroys it: the renderer side learns its main is gone
  core.destroy_renderer(main, remote).unwrap();
  let d = next(host);
  assert_eq!(d.envelope.kind, Kind::Gone);
  assert!(core.send(host, local, Kind::Send, ch, vec![]).is_err());
  server.close();
  core.close_endpoint(main);
  core.close_endpoint(host);
}

#[test]
fn a_renderer_that_says_goodbye_ends_cleanly_with_its_exit_code_after_its_last_messages() {
  let _alone = GOODBYE.write().unwrap_or_else(|p| p.into_inner());
  let core = global();
  let main = core.open_endpoint(None);
  let server = Server::listen(main, None, DEFAULT_MAX_FRAME).unwrap();
  let host = core.open_endpoint(None);
  let c = client::connect(host, server.path(), server.token(), 0, DEFAULT_MAX_FRAME).unwrap();
  let ch = core.intern("last");
  core.set_listening(Scope::Main(main), ch, true);
  assert_eq!(next(main).envelope.kind, Kind::Connected);
  // Enough that the writer task is still writing when goodbye comes: nothing may be cut off.
  const COUNT: u32 = 20_000;
  for i in 0..COUNT {
    let mut payload = vec![0u8; 1024];
    payload[..4].copy_from_slice(&i.to_le_bytes());
    core
      .send(host, c.renderer, Kind::Send, ch, payload)
      .unwrap();
  }
  client::goodbye(3);
  for i in 0..COUNT {
    assert_eq!(next(main).envelope.payload[..4], i.to_le_bytes());
  }
  let gone = next(main);
  assert_eq!(gone.envelope.kind, Kind::Gone);
  assert_eq!(gone.envelope.payload, br#"{"exitCode":3}"#.to_vec());
  server.close();
  core.close_endpoint(main);
  core.close_endpoint(host);
}

#[test]
fn a_wrong_token_is_refused_and_reported() {
  let _shared = shared();
  let core = global();
  let main = core.open_endpoint(None);
  let server = Server::listen(main, None, DEFAULT_MAX_FRAME).unwrap();
  let host = core.open_endpoint(None);
  match client::connect(host, server.path(), "not the token", 0, DEFAULT_MAX_FRAME) {
    Err(ConnectError::Refused(code, _)) => assert_eq!(code, "ERR_IPC_BAD_TOKEN"),
    Err(e) => panic!("{e}"),
    Ok(_) => panic!("accepted a wrong token"),
  }
  assert_eq!(diagnostic_code(main), "ERR_IPC_BAD_TOKEN");
  assert!(core.renderers_of(main).is_empty());
  server.close();
  core.close_endpoint(main);
  core.close_endpoint(host);
}

#[test]
fn bad_bytes_close_their_connection_only() {
  let _shared = shared();
  let core = global();
  let main = core.open_endpoint(None);
  let server = Server::listen(main, None, 1024).unwrap();
  let raw = |bytes: &[u8]| {
    let mut s = std::os::unix::net::UnixStream::connect(server.path()).unwrap();
    s.write_all(bytes).unwrap();
    // then hang up our side: whatever was sent is all there will be
    s.shutdown(std::net::Shutdown::Write).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // main answers with REJECT and closes: reading ends
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
  };
  // garbage instead of a frame
  raw(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3]);
  assert_eq!(diagnostic_code(main), "ERR_IPC_BAD_FRAME");
  // a length beyond the maximum, refused before anything is allocated
  raw(&u32::MAX.to_le_bytes());
  assert_eq!(diagnostic_code(main), "ERR_IPC_BAD_FRAME");
  // a frame that is not HELLO first
  let mut out = Vec::new();
  frame::encode(&mut out, Kind::Send as u8, 0, 1, 0, "ch", b"x");
  raw(&out);
  assert_eq!(diagnostic_code(main), "ERR_IPC_BAD_FRAME");
  // a truncated HELLO, then the peer hangs up
  let mut out = Vec::new();
  frame::encode_handshake(&mut out, HELLO, br#"{"protocol":1,"token":"x","pid":1}"#);
  raw(&out[..out.len() - 3]);
  assert_eq!(diagnostic_code(main), "ERR_IPC_BAD_FRAME");
  // and a good client is still served
  let host = core.open_endpoint(None);
  let c = client::connect(host, server.path(), server.token(), 0, 1024).unwrap();
  assert_eq!(next(main).envelope.kind, Kind::Connected);
  assert_ne!(c.renderer, 0);
  server.close();
  core.close_endpoint(main);
  core.close_endpoint(host);
}

#[test]
fn before_the_handshake_a_large_frame_is_refused_whatever_the_maximum() {
  let _shared = shared();
  let core = global();
  let main = core.open_endpoint(None);
  let server = Server::listen(main, None, DEFAULT_MAX_FRAME).unwrap();
  let mut s = std::os::unix::net::UnixStream::connect(server.path()).unwrap();
  // a peer that has not shown the token announces 1 MiB: no buffer for it, the connection ends
  s.write_all(&(1u32 << 20).to_le_bytes()).unwrap();
  s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
  let mut all = Vec::new();
  let _ = s.read_to_end(&mut all);
  assert_eq!(diagnostic_code(main), "ERR_IPC_BAD_FRAME");
  // after it, the connection's maximum applies: a 1 MiB message gets through
  let host = core.open_endpoint(None);
  let c = client::connect(host, server.path(), server.token(), 0, DEFAULT_MAX_FRAME).unwrap();
  assert_eq!(next(main).envelope.kind, Kind::Connected);
  let ch = core.intern("big");
  core.set_listening(Scope::Main(main), ch, true);
  core
    .send(host, c.renderer, Kind::Send, ch, vec![7; 1 << 20])
    .unwrap();
  let got = next(main);
  assert_eq!(got.envelope.kind, Kind::Send);
  assert_eq!(got.envelope.payload.len(), 1 << 20);
  server.close();
  core.close_endpoint(main);
  core.close_endpoint(host);
}

/// Connections from another OS user are refused before anything is read. Needs root to run a
/// process as another user; as anyone else, only this user's own connection is checked.
#[test]
fn a_connection_from_another_user_is_refused() {
  let _shared = shared();
  // Set in the child: connect, say HELLO, read until main hangs up.
  const CHILD: &str = "IPC_MAIN_OTHER_USER_CHILD";
  if let Some(path) = std::env::var_os(CHILD) {
    let mut s = std::os::unix::net::UnixStream::connect(path).unwrap();
    let mut out = Vec::new();
    frame::encode_handshake(&mut out, HELLO, br#"{"protocol":1,"token":"x","pid":1}"#);
    let _ = s.write_all(&out);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    assert!(all.is_empty(), "main answered another user");
    return;
  }
  use std::os::unix::fs::PermissionsExt;
  use std::os::unix::process::CommandExt;
  let core = global();
  let main = core.open_endpoint(None);
  // a directory and socket anyone may use: only the credentials check stands in the way
  let dir = std::env::temp_dir().join(format!("ipc-main-uid-test-{}", std::process::id()));
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
  let path = dir.join("main.sock");
  let server = Server::listen(main, Some(path.clone()), DEFAULT_MAX_FRAME).unwrap();
  std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
  // this user is let in
  let host = core.open_endpoint(None);
  client::connect(host, &path, server.token(), 0, DEFAULT_MAX_FRAME).unwrap();
  assert_eq!(next(main).envelope.kind, Kind::Connected);
  if unsafe { libc::geteuid() } == 0 {
    let status = std::process::Command::new(std::env::current_exe().unwrap())
      .args([
        "--exact",
        "transport::tests::a_connection_from_another_user_is_refused",
        "--test-threads=1",
      ])
      .env(CHILD, &path)
      .uid(65534)
      .gid(65534)
      .status()
      .unwrap();
    assert!(status.success(), "the other user's process: {status}");
    assert_eq!(diagnostic_code(main), "ERR_IPC_PEER_USER");
  } else {
    eprintln!("not root: a connection from another user cannot be made here");
  }
  server.close();
  core.close_endpoint(main);
  core.close_endpoint(host);
  std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_malformed_frame_after_the_handshake_ends_that_renderer() {
  let _shared = shared();
  let core = global();
  let main = core.open_endpoint(None);
  let server = Server::listen(main, None, DEFAULT_MAX_FRAME).unwrap();
  let mut s = std::os::unix::net::UnixStream::connect(server.path()).unwrap();
  let hello = format!(r#"{{"protocol":1,"token":"{}","pid":1}}"#, server.token());
  let mut out = Vec::new();
  frame::encode_handshake(&mut out, HELLO, hello.as_bytes());
  s.write_all(&out).unwrap();
  let connected = next(main);
  assert_eq!(connected.envelope.kind, Kind::Connected);
  let ch = core.intern("ch");
  core.set_listening(Scope::Main(main), ch, true);
  // in one write: a good message, a kind a renderer may not send, and one the decoder refuses
  let mut out = Vec::new();
  frame::encode(&mut out, Kind::Send as u8, 0, 1, 0, "ch", b"first");
  frame::encode(&mut out, Kind::Message as u8, 0, 1, 0, "ch", b"x");
  s.write_all(&out).unwrap();
  // what came before the bad frame is dispatched, then the renderer is gone
  let first = next(main);
  assert_eq!(
    (first.envelope.kind, &first.envelope.payload[..]),
    (Kind::Send, &b"first"[..])
  );
  assert_eq!(diagnostic_code(main), "ERR_IPC_BAD_FRAME");
  assert_eq!(next(main).envelope.kind, Kind::Gone);
  // the same for a frame the decoder refuses
  let mut s = std::os::unix::net::UnixStream::connect(server.path()).unwrap();
  let mut out = Vec::new();
  frame::encode_handshake(&mut out, HELLO, hello.as_bytes());
  frame::encode(&mut out, Kind::Send as u8, 0, 1, 0, "ch", b"second");
  frame::encode(&mut out, 0xee, 0, 1, 0, "ch", b"x");
  s.write_all(&out).unwrap();
  assert_eq!(next(main).envelope.kind, Kind::Connected);
  let second = next(main);
  assert_eq!(
    (second.envelope.kind, &second.envelope.payload[..]),
    (Kind::Send, &b"second"[..])
  );
  assert_eq!(diagnostic_code(main), "ERR_IPC_BAD_FRAME");
  assert_eq!(next(main).envelope.kind, Kind::Gone);
  server.close();
  core.close_endpoint(main);
}

#[test]
fn what_main_sent_before_a_forked_renderer_connected_arrives_first_and_in_order() {
  let _shared = shared();
  let core = global();
  let main = core.open_endpoint(None);
  let server = Server::listen(main, None, DEFAULT_MAX_FRAME).unwrap();
  let forked = core
    .create_renderer(main, crate::core::renderers::RendererKind::Process)
    .unwrap();
  let ch = core.intern("early");
  for i in 0..50u8 {
    core.send_to_renderer(main, forked, ch, vec![i]).unwrap();
  }
  let host = core.open_endpoint(None);
  let c = client::connect(
    host,
    server.path(),
    server.token(),
    forked,
    DEFAULT_MAX_FRAME,
  )
  .unwrap();
  assert_eq!(c.welcome.renderer, forked);
  core.send_to_renderer(main, forked, ch, vec![50]).unwrap();
  for i in 0..=50u8 {
    let d = next(host);
    assert_eq!(
      (d.envelope.kind, d.envelope.payload.to_vec()),
      (Kind::Message, vec![i])
    );
  }
  server.close();
  core.close_endpoint(main);
  core.close_endpoint(host);
}

#[test]
fn threads_that_take_their_connections_over_read_them_themselves() {
  let (
    Pair {
      main,
      server,
      host,
      local,
      remote,
    },
    _shared,
  ) = connected_pair();
  let core = global();
  assert_eq!(next(main).envelope.kind, Kind::Connected);
  // Both ends were offered to the endpoint their frames go to; each takes its own.
  let renderer_side = super::handoff::take(host);
  let main_side = super::handoff::take(main);
  assert_eq!((renderer_side.len(), main_side.len()), (1, 1));
  let (renderer_side, main_side) = (renderer_side[0].clone(), main_side[0].clone());
  assert!(renderer_side.take_over() && main_side.take_over());
  assert!(super::handoff::take(host).is_empty(), "taken once");

  // main -> renderer: nobody but the renderer's thread reads it now
  let ch = core.intern("ch");
  core.send_to_renderer(main, remote, ch, vec![5]).unwrap();
  thread::sleep(Duration::from_millis(50));
  assert!(
    global().pop(host, false).0.is_none(),
    "the reader task stopped"
  );
  let deadline = Instant::now() + Duration::from_secs(10);
  let d = loop {
    assert!(renderer_side.pump());
    if let (Some(d), _) = global().pop(host, false) {
      break d;
    }
    assert!(Instant::now() < deadline, "nothing arrived");
    thread::sleep(Duration::from_millis(1));
  };
  assert_eq!(
    (d.envelope.kind, d.envelope.payload.to_vec()),
    (Kind::Message, vec![5])
  );

  // a blocked sendSync waits on the socket itself (park) while main's side is pumped by its
  // own thread
  core.set_listening(Scope::Main(main), ch, true);
  let pumped = main_side.clone();
  let answer = thread::spawn(move || loop {
    assert!(pumped.pump());
    if let (Some(d), _) = global().pop(main, false) {
      assert_eq!(d.envelope.kind, Kind::Sync);
      // late, so the renderer has parked by then
      thread::sleep(Duration::from_millis(20));
      assert!(global().reply_sync(main, d.envelope.request, Reply::value(vec![4])));
      return;
    }
    thread::sleep(Duration::from_millis(1));
  });
  assert_eq!(
    core.sync_blocking(host, local, ch, vec![], &mut || false),
    Ok(Reply::value(vec![4]))
  );
  answer.join().unwrap();

  // main destroys it: the renderer's own read finds the end and reports it
  core.destroy_renderer(main, remote).unwrap();
  let deadline = Instant::now() + Duration::from_secs(10);
  while renderer_side.pump() {
    assert!(Instant::now() < deadline, "the end was not seen");
    thread::sleep(Duration::from_millis(1));
  }
  assert!(renderer_side.is_finished());
  assert_eq!(next(host).envelope.kind, Kind::Gone);
  server.close();
  core.close_endpoint(main);
  core.close_endpoint(host);
}

#[test]
fn spliced_messages_cross_whole_and_in_order_whether_written_in_place_or_copied() {
  use crate::core::spliced::{Part, Spliced};
  use crate::core::Payload;
  let (pair, _shared) = connected_pair();
  let (main, host) = (pair.main, pair.host);
  let core = global();
  assert_eq!(next(main).envelope.kind, Kind::Connected);
  let ch = core.intern("spliced");
  core.set_listening(Scope::Main(main), ch, true);
  const N: usize = 12;
  const BIG: usize = 1 << 20;
  let mut sources: Vec<Vec<u8>> = (0..N).map(|i| vec![i as u8; BIG]).collect();
  for (i, src) in sources.iter_mut().enumerate() {
    let part = Part {
      at: 1,
      ptr: src.as_ptr(),
      len: src.len(),
    };
    let (spliced, guard) = unsafe { Spliced::borrow(vec![0xab, i as u8], vec![part]) }.unwrap();
    // back to back: the later ones find the connection still writing the earlier ones
    core
      .send(host, pair.local, Kind::Send, ch, Payload::from(spliced))
      .unwrap();
    drop(guard);
    src.fill(0xee); // the borrow has ended: the sender may change its memory
  }
  for i in 0..N {
    let d = next(main);
    assert_eq!(
      (d.envelope.kind, d.envelope.renderer),
      (Kind::Send, pair.remote)
    );
    let p = &d.envelope.payload;
    assert_eq!(p.len(), BIG + 2, "message {i}");
    assert!(p[0] == 0xab && p[BIG + 1] == i as u8, "message {i}");
    assert!(p[1..=BIG].iter().all(|&b| b == i as u8), "message {i}");
  }
  pair.server.close();
  core.close_endpoint(main);
  core.close_endpoint(host);
}

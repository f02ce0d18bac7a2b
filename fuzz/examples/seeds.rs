//! Writes the hand-made seeds of the `frame_decoder` corpus, built with the real encoder:
//! `cargo run --example seeds` in `fuzz/` (re-running it rewrites the same files).

use std::path::Path;

use ipc_main::transport::frame::{
  encode, encode_handshake, BYE, DEFAULT_MAX_FRAME, HEADER, HELLO, PREFIX, REJECT, WELCOME,
};

/// The small maximum of the target (`SMALL_MAX` in src/transport/corpus_tests.rs).
const SMALL_MAX: usize = 4096;

fn frame(kind: u8, status: u8, channel: &[u8], payload: &[u8]) -> Vec<u8> {
  // `encode` takes a str; bytes that are not UTF-8 are written over a placeholder of their size.
  let placeholder = "c".repeat(channel.len());
  let mut out = Vec::new();
  encode(
    &mut out,
    kind,
    status,
    7,
    0x0102_0304_0506_0708,
    &placeholder,
    payload,
  );
  out[PREFIX + HEADER..PREFIX + HEADER + channel.len()].copy_from_slice(channel);
  out
}

fn handshake(kind: u8, json: &str) -> Vec<u8> {
  let mut out = Vec::new();
  encode_handshake(&mut out, kind, json.as_bytes());
  out
}

/// A frame whose length prefix says `len`, followed by `extra` bytes of a valid header.
fn prefix_only(len: u32, extra: usize) -> Vec<u8> {
  let mut out = len.to_le_bytes().to_vec();
  out.extend_from_slice(&frame(1, 0, b"", b"")[PREFIX..PREFIX + extra.min(HEADER)]);
  out
}

/// Overwrites the channel-length field.
fn with_channel_len(mut f: Vec<u8>, n: u32) -> Vec<u8> {
  f[PREFIX + 16..PREFIX + 20].copy_from_slice(&n.to_le_bytes());
  f
}

fn main() {
  let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/frame_decoder");
  std::fs::create_dir_all(&dir).unwrap();
  let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
  let mut add = |name: &str, bytes: Vec<u8>| seeds.push((format!("seed-{name}"), bytes));

  // Every routed kind, and the unknown ones around them; every status.
  for kind in 0..=11u8 {
    add(
      &format!("kind-{kind}"),
      frame(kind, 0, b"chan", b"{\"a\":1}"),
    );
  }
  for status in 0..=8u8 {
    add(&format!("status-{status}"), frame(6, status, b"r", b"null"));
  }
  add("kind-ff", frame(0xff, 0, b"", b""));
  add("empty-message", frame(1, 0, b"", b""));
  add("unicode-channel", frame(4, 0, "canal-😀".as_bytes(), b"x"));
  add("big-payload", frame(2, 0, b"p", &[0xab; 1000]));
  add(
    "small-max-exactly",
    frame(1, 0, b"m", &[1; SMALL_MAX - HEADER - 1]),
  );
  add(
    "small-max-plus-1",
    frame(1, 0, b"m", &[1; SMALL_MAX - HEADER]),
  );

  // Handshakes: what the peers send, and what they must survive.
  let token = "0123456789abcdef".repeat(4);
  let hello = format!(r#"{{"protocol":1,"token":"{token}","pid":4242,"renderer":3}}"#);
  add("hello", handshake(HELLO, &hello));
  add(
    "hello-no-renderer",
    handshake(HELLO, r#"{"protocol":1,"token":"t","pid":1}"#),
  );
  add(
    "welcome",
    handshake(WELCOME, r#"{"protocol":1,"renderer":1,"pid":2}"#),
  );
  add(
    "reject",
    handshake(
      REJECT,
      r#"{"code":"ERR_IPC_BAD_TOKEN","message":"wrong token"}"#,
    ),
  );
  add("bye", handshake(BYE, r#"{"exitCode":0}"#));
  add("bye-min", handshake(BYE, r#"{"exitCode":-2147483648}"#));
  add("hello-wrong-type", handshake(HELLO, r#"{"protocol":"x"}"#));
  add(
    "hello-overflow",
    handshake(HELLO, r#"{"protocol":4294967296,"token":"t","pid":-1}"#),
  );
  add(
    "hello-escapes",
    handshake(
      HELLO,
      r#"{"protocol":1,"token":"\ud83d\ude00\u0000\"\\","pid":1,"x":[1,{"y":null}]}"#,
    ),
  );
  add(
    "hello-lone-surrogate",
    handshake(HELLO, r#"{"protocol":1,"token":"\ud800","pid":1}"#),
  );
  add(
    "hello-duplicate-field",
    handshake(HELLO, r#"{"protocol":1,"protocol":2,"token":"t","pid":1}"#),
  );
  add("hello-deep", handshake(HELLO, &"[".repeat(200)));
  add("hello-not-json", handshake(HELLO, "\u{0}\u{ff}"));
  let hs_channel = frame(HELLO, 9, b"ignored", br#"{"exitCode":1}"#);
  add("handshake-with-channel", hs_channel);

  // A whole session: HELLO, messages, BYE.
  let mut session = handshake(HELLO, &hello);
  session.extend(frame(1, 0, b"ping", b"[1]"));
  session.extend(frame(4, 0, b"ask", b"{}"));
  session.extend(frame(6, 1, b"", b"\"err\""));
  session.extend(handshake(BYE, r#"{"exitCode":3}"#));
  add("session", session.clone());

  // Truncations.
  let one = frame(3, 0, b"sync", b"payload");
  for cut in [
    1,
    3,
    PREFIX,
    PREFIX + 1,
    PREFIX + HEADER - 1,
    PREFIX + HEADER,
    one.len() - 1,
  ] {
    add(&format!("truncated-{cut}"), one[..cut].to_vec());
  }
  add("session-truncated", session[..session.len() - 5].to_vec());

  // Lengths: zero, under the header, the header alone, the maxima and past them.
  add("empty", Vec::new());
  add("zeros-4", vec![0; 4]);
  add("zeros-24", vec![0; 24]);
  for (name, len) in [
    ("len-0", 0),
    ("len-header-minus-1", HEADER as u32 - 1),
    ("len-small-max", SMALL_MAX as u32),
    ("len-small-max-plus-1", SMALL_MAX as u32 + 1),
    ("len-default-max", DEFAULT_MAX_FRAME as u32),
    ("len-default-max-plus-1", DEFAULT_MAX_FRAME as u32 + 1),
    ("len-u32-max", u32::MAX),
  ] {
    add(name, prefix_only(len, HEADER));
  }

  // Malformed headers.
  let mut reserved = frame(1, 0, b"c", b"");
  reserved[PREFIX + 3] = 0x80;
  add("reserved", reserved);
  add(
    "channel-overrun",
    with_channel_len(frame(1, 0, b"c", b"xy"), 4),
  );
  add(
    "channel-len-u32-max",
    with_channel_len(frame(1, 0, b"c", b""), u32::MAX),
  );
  add(
    "channel-len-whole-rest",
    with_channel_len(frame(1, 0, b"c", b"xy"), 3),
  );
  for (name, channel) in [
    ("utf8-ff", &b"\xff"[..]),
    ("utf8-overlong", b"\xc0\x80"),
    ("utf8-cut", b"\xc3"),
    ("utf8-surrogate", b"\xed\xa0\x80"),
  ] {
    add(name, frame(1, 0, channel, b"p"));
  }
  // A good frame after a bad one: nothing after an error is decoded.
  let mut after_error = frame(1, 0, b"\xff", b"");
  after_error.extend(frame(1, 0, b"ok", b""));
  add("good-after-bad", after_error);

  for (name, bytes) in &seeds {
    std::fs::write(dir.join(name), bytes).unwrap();
  }
  println!("{} seeds in {}", seeds.len(), dir.display());
}

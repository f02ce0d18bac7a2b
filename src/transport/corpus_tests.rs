//! The frame decoder's invariants, run on every file of the fuzz corpus
//! (`fuzz/corpus/frame_decoder/`). `check` is also the whole body of the fuzz target
//! `fuzz/fuzz_targets/frame_decoder.rs`, which includes this file by path: so it names only
//! `super::{frame, handshake}`, which the target provides too, never `crate::`.

use std::fmt::Debug;

use serde::{de::DeserializeOwned, Serialize};

use super::frame::{self, Decoder, Frame, FrameError, DEFAULT_MAX_FRAME, HEADER, PREFIX};
use super::handshake::{Bye, Hello, Reject, Welcome};

/// A maximum that fuzzed inputs reach, next to the default one that they do not.
pub const SMALL_MAX: usize = 4096;

/// What a decoder made of a whole stream.
#[derive(Debug, PartialEq)]
struct Outcome {
  frames: Vec<Frame>,
  /// The bytes left undecoded at the end, or the error that ended decoding.
  end: Result<usize, FrameError>,
}

/// Decodes `data` as a stream, pushed whole, a byte at a time, and in chunks cut where the data
/// decides, into a decoder with a small and one with the default maximum. Panics if any
/// invariant fails.
pub fn check(data: &[u8]) {
  for max in [SMALL_MAX, DEFAULT_MAX_FRAME] {
    let whole = decode(data, max, || usize::MAX);
    check_outcome(data, max, &whole);
    // However the stream is split, the same frames and the same end.
    assert_eq!(decode(data, max, || 1), whole, "pushed a byte at a time");
    let mut cuts = Cuts::new(data);
    assert_eq!(
      decode(data, max, || cuts.chunk()),
      whole,
      "pushed in chunks"
    );
  }
}

/// Pushes `data` in chunks of `chunk()` bytes, taking every frame after each push. Stops at the
/// first error: a decoder that returned one is not used again, as a connection would not be.
fn decode(data: &[u8], max: usize, mut chunk: impl FnMut() -> usize) -> Outcome {
  let mut decoder = Decoder::new(max);
  let mut frames = Vec::new();
  let mut rest = data;
  let mut held = 0;
  loop {
    let (now, later) = rest.split_at(chunk().min(rest.len()));
    rest = later;
    decoder.push(now);
    assert_eq!(decoder.buffered(), held + now.len());
    loop {
      match decoder.next_frame() {
        Ok(Some(frame)) => frames.push(frame),
        Ok(None) => break,
        Err(e) => {
          return Outcome {
            frames,
            end: Err(e),
          }
        }
      }
    }
    held = decoder.buffered();
    // Once drained, at most one unfinished frame is held, and the maximum bounds it.
    assert!(held < PREFIX + max, "{held} bytes held, maximum {max}");
    if rest.is_empty() {
      return Outcome {
        frames,
        end: Ok(held),
      };
    }
  }
}

/// Checks the frames decoded from `data`, pushed whole, against its bytes.
fn check_outcome(data: &[u8], max: usize, outcome: &Outcome) {
  let prefix = |at: usize| u32::from_le_bytes(data[at..at + PREFIX].try_into().unwrap()) as usize;
  let mut at = 0;
  for frame in &outcome.frames {
    let len = prefix(at);
    assert!((HEADER..=max).contains(&len), "accepted a frame of {len}");
    let bytes = &data[at..at + PREFIX + len];
    let channel_len = u32::from_le_bytes(bytes[PREFIX + 16..PREFIX + 20].try_into().unwrap());
    match frame {
      Frame::Message { envelope, channel } => {
        assert_eq!(HEADER + channel.len() + envelope.payload.len(), len);
        assert_eq!(channel.len(), channel_len as usize);
        assert_eq!(
          envelope.channel, 0,
          "channel ids are the router's, not the wire's"
        );
        // Everything in the frame was kept: encoding it again gives back its bytes.
        let mut again = Vec::new();
        frame::encode_envelope(&mut again, envelope, channel);
        assert_eq!(again, bytes);
      }
      Frame::Handshake { kind, payload } => {
        assert!(matches!(
          *kind,
          frame::HELLO | frame::WELCOME | frame::REJECT | frame::BYE
        ));
        assert_eq!(HEADER + channel_len as usize + payload.len(), len);
        assert_eq!(payload[..], bytes[PREFIX + HEADER + channel_len as usize..]);
        check_json(payload);
      }
    }
    at += PREFIX + len;
  }
  let left = data.len() - at;
  match &outcome.end {
    Ok(held) => {
      assert_eq!(*held, left);
      // What is held is an unfinished frame whose length is acceptable so far.
      if left >= PREFIX {
        let len = prefix(at);
        assert!((HEADER..=max).contains(&len) && left < PREFIX + len);
      }
    }
    Err(e) => {
      // The error is about the next frame, and was reported as soon as its bytes showed it.
      let len = prefix(at);
      match *e {
        FrameError::TooLarge { len: l, max: m } => assert!(l == len && m == max && len > max),
        FrameError::TooShort(l) => assert!(l == len && len < HEADER),
        // Only where memory is short; never for a frame longer than the maximum.
        FrameError::NoMemory(l) => assert!(l == len && (HEADER..=max).contains(&len)),
        _ => assert!((HEADER..=max).contains(&len) && left >= PREFIX + len, "{e}"),
      }
    }
  }
}

/// A handshake payload, read as each handshake message (the peers read the one its kind names;
/// all four exercise serde_json on the same bytes). Whatever parses must survive a round trip.
fn check_json(payload: &[u8]) {
  round_trip::<Hello>(payload);
  round_trip::<Welcome>(payload);
  round_trip::<Reject>(payload);
  round_trip::<Bye>(payload);
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(payload: &[u8]) {
  if let Ok(value) = serde_json::from_slice::<T>(payload) {
    let json = serde_json::to_vec(&value).expect("serializable");
    assert_eq!(serde_json::from_slice::<T>(&json).ok(), Some(value));
  }
}

/// Chunk lengths drawn from the input (xorshift seeded with its FNV-1a hash): mostly short, some
/// long, some empty pushes.
struct Cuts(u64);

impl Cuts {
  fn new(data: &[u8]) -> Self {
    let hash = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
      (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    Cuts(hash | 1)
  }

  fn chunk(&mut self) -> usize {
    self.0 ^= self.0 << 13;
    self.0 ^= self.0 >> 7;
    self.0 ^= self.0 << 17;
    let r = (self.0 >> 8) as usize;
    match self.0 % 8 {
      0 => 0,
      1 | 2 => 1 + r % 512,
      _ => 1 + r % 8,
    }
  }
}

#[test]
fn the_fuzz_corpus_replays() {
  let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/frame_decoder");
  let mut paths: Vec<_> = std::fs::read_dir(&dir)
    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
    .map(|entry| entry.unwrap().path())
    .collect();
  paths.sort();
  assert!(!paths.is_empty(), "no corpus in {}", dir.display());
  for path in paths {
    let data = std::fs::read(&path).unwrap();
    // Name the file that fails; the panic hook has already printed why.
    if std::panic::catch_unwind(|| check(&data)).is_err() {
      panic!("corpus entry {} fails", path.display());
    }
  }
}

/// A length prefix makes `next_frame` reserve the whole announced frame up front, with
/// `Vec::reserve`: where that allocation fails (an address-space limit, strict overcommit, a
/// large `maxFrameSize`), the process aborts, Node with it, on 4 bytes from a peer that has not
/// even said HELLO. Runs itself again as a child under `ulimit -v`, as an abort cannot be caught.
#[test]
fn a_length_prefix_cannot_abort_the_process() {
  // Set in the child.
  const LIMITED_CHILD: &str = "IPC_MAIN_DECODER_LIMITED_CHILD";
  if std::env::var_os(LIMITED_CHILD).is_some() {
    // A frame of the largest size accepted, announced bit by bit: the buffer for it is asked
    // for once its header is in (large frames) or at once (smaller ones).
    let mut head = Vec::new();
    frame::encode_head(&mut head, 1, 0, 1, 0, "", DEFAULT_MAX_FRAME - HEADER);
    let mut decoder = Decoder::new(DEFAULT_MAX_FRAME);
    for byte in &head[..head.len() - 1] {
      decoder.push(std::slice::from_ref(byte));
      assert_eq!(decoder.next_frame(), Ok(None));
    }
    decoder.push(&head[head.len() - 1..]);
    // An error that closes this connection, not an abort.
    assert_eq!(
      decoder.next_frame(),
      Err(FrameError::NoMemory(DEFAULT_MAX_FRAME))
    );
    return;
  }
  let out = std::process::Command::new("sh")
    .arg("-c")
    .arg(r#"ulimit -v 400000 && exec "$0" --exact "$1" --test-threads=1"#)
    .arg(std::env::current_exe().unwrap())
    .arg("transport::corpus_tests::a_length_prefix_cannot_abort_the_process")
    .env(LIMITED_CHILD, "1")
    .output()
    .unwrap();
  assert!(
    out.status.success(),
    "the decoder's process died ({}): {}",
    out.status,
    String::from_utf8_lossy(&out.stderr)
  );
}

//! The wire format of the socket transport: length-prefixed frames with a small fixed header.
//!
//! ```text
//! u32 LE  length of everything after this field (header + channel + payload)
//! u8      kind       (Kind, or a handshake kind)
//! u8      status     (Status)
//! u16     reserved, 0
//! u32 LE  renderer
//! u64 LE  request
//! u32 LE  channel length in bytes
//! ...     channel (UTF-8), then payload
//! ```
//!
//! The length is checked against the connection's maximum before anything is allocated, and
//! every field is validated: anything malformed is an error, which closes that connection only.

use std::fmt;

use crate::core::{Envelope, Kind, Payload, Status};

/// Bytes of the length prefix.
pub const PREFIX: usize = 4;
/// Bytes of the fixed header after the prefix.
pub const HEADER: usize = 20;
/// Default largest frame accepted (prefix excluded): big payloads are fine, absurd ones are not.
pub const DEFAULT_MAX_FRAME: usize = 512 * 1024 * 1024;
/// Largest frame accepted before the handshake is done: a peer that has not shown the token
/// gets no large buffer.
pub const HANDSHAKE_MAX_FRAME: usize = 64 * 1024;

/// Handshake kinds: never routed, only exchanged when a connection opens.
pub const HELLO: u8 = 0x10;
pub const WELCOME: u8 = 0x11;
pub const REJECT: u8 = 0x12;
/// The renderer is exiting (payload: `{"exitCode": n}`): its connection ends cleanly.
pub const BYE: u8 = 0x13;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
  /// The length prefix announces more than the connection accepts.
  TooLarge {
    len: usize,
    max: usize,
  },
  /// The length prefix is smaller than the fixed header.
  TooShort(usize),
  UnknownKind(u8),
  UnknownStatus(u8),
  /// Reserved bits set.
  Reserved,
  /// The channel length runs past the frame.
  ChannelOverrun,
  /// The channel name is not UTF-8.
  ChannelNotUtf8,
  /// Memory for the announced frame could not be had.
  NoMemory(usize),
}

impl fmt::Display for FrameError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      FrameError::TooLarge { len, max } => {
        write!(f, "frame of {len} bytes exceeds the maximum of {max}")
      }
      FrameError::TooShort(len) => write!(f, "frame of {len} bytes is shorter than its header"),
      FrameError::UnknownKind(k) => write!(f, "unknown frame kind {k}"),
      FrameError::UnknownStatus(s) => write!(f, "unknown status {s}"),
      FrameError::Reserved => f.write_str("reserved header bits are set"),
      FrameError::ChannelOverrun => f.write_str("channel length runs past the frame"),
      FrameError::ChannelNotUtf8 => f.write_str("channel name is not UTF-8"),
      FrameError::NoMemory(len) => write!(f, "no memory for a frame of {len} bytes"),
    }
  }
}

impl std::error::Error for FrameError {}

/// A decoded frame: a routed message, or a handshake frame (`kind` HELLO, WELCOME, REJECT)
/// whose payload is JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
  Message { envelope: Envelope, channel: String },
  Handshake { kind: u8, payload: Vec<u8> },
}

/// A decoded frame whose channel name is still in the decoder's buffer.
enum Parsed<'a> {
  Message {
    envelope: Envelope,
    channel: &'a str,
  },
  Handshake {
    kind: u8,
    payload: Vec<u8>,
  },
}

impl Parsed<'_> {
  fn into_frame(self) -> Frame {
    match self {
      Parsed::Message { envelope, channel } => Frame::Message {
        envelope,
        channel: channel.to_owned(),
      },
      Parsed::Handshake { kind, payload } => Frame::Handshake { kind, payload },
    }
  }
}

/// What `Decoder::next_into` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
  /// More bytes are needed.
  NeedMore,
  /// A message frame, now at the end of the batch.
  Queued,
  /// A handshake frame (the batch is unchanged).
  Handshake { kind: u8, payload: Vec<u8> },
}

/// Message frames decoded from one read, with their channel names side by side in one string.
/// Kept from read to read, so a burst of small frames allocates nothing but their payloads.
#[derive(Debug, Default)]
pub struct Batch {
  /// Each message and where its channel name ends in `names`.
  messages: Vec<(Envelope, usize)>,
  names: String,
}

impl Batch {
  pub fn push(&mut self, envelope: Envelope, channel: &str) {
    if self.messages.is_empty() {
      // the names of the last batch were taken with it
      self.names.clear();
    }
    self.names.push_str(channel);
    self.messages.push((envelope, self.names.len()));
  }

  pub fn is_empty(&self) -> bool {
    self.messages.is_empty()
  }

  /// The kind of the message pushed last.
  pub fn last_kind(&self) -> Option<Kind> {
    self.messages.last().map(|(e, _)| e.kind)
  }

  /// Takes the messages, in order, with their channel names; the batch keeps its memory.
  pub fn drain(&mut self) -> impl Iterator<Item = (Envelope, &str)> + '_ {
    let names = self.names.as_str();
    let mut start = 0;
    self.messages.drain(..).map(move |(envelope, end)| {
      let channel = &names[start..end];
      start = end;
      (envelope, channel)
    })
  }
}

/// Appends one frame to `out`.
pub fn encode(
  out: &mut Vec<u8>,
  kind: u8,
  status: u8,
  renderer: u32,
  request: u64,
  channel: &str,
  payload: &[u8],
) {
  out.reserve(PREFIX + HEADER + channel.len() + payload.len());
  encode_head(out, kind, status, renderer, request, channel, payload.len());
  out.extend_from_slice(payload);
}

/// Appends a frame's length prefix, header and channel: its `payload_len` bytes of payload
/// must follow in the stream.
pub fn encode_head(
  out: &mut Vec<u8>,
  kind: u8,
  status: u8,
  renderer: u32,
  request: u64,
  channel: &str,
  payload_len: usize,
) {
  let len = HEADER + channel.len() + payload_len;
  out.extend_from_slice(&(len as u32).to_le_bytes());
  out.push(kind);
  out.push(status);
  out.extend_from_slice(&[0, 0]);
  out.extend_from_slice(&renderer.to_le_bytes());
  out.extend_from_slice(&request.to_le_bytes());
  out.extend_from_slice(&(channel.len() as u32).to_le_bytes());
  out.extend_from_slice(channel.as_bytes());
}

/// Appends a routed message.
pub fn encode_envelope(out: &mut Vec<u8>, env: &Envelope, channel: &str) {
  out.reserve(PREFIX + HEADER + channel.len() + env.payload.len());
  encode_envelope_head(out, env, channel);
  out.extend_from_slice(&env.payload);
}

/// Appends a routed message's length prefix, header and channel: its payload must follow.
pub fn encode_envelope_head(out: &mut Vec<u8>, env: &Envelope, channel: &str) {
  encode_head(
    out,
    env.kind as u8,
    env.status as u8,
    env.renderer,
    env.request,
    channel,
    env.payload.len(),
  );
}

/// Appends a handshake frame with a JSON payload.
pub fn encode_handshake(out: &mut Vec<u8>, kind: u8, json: &[u8]) {
  encode(out, kind, 0, 0, 0, "", json);
}

/// Frames longer than this have their payload gathered apart, straight where it will stay:
/// the reader can receive into it (`spare`), and the frame takes it without a copy.
pub const LARGE_FRAME: usize = 256 * 1024;

/// A large frame being received: its prefix, header and channel, and its payload so far.
#[derive(Debug)]
struct Large {
  head: Vec<u8>,
  payload: Vec<u8>,
  /// The payload's full length.
  need: usize,
}

/// Reassembles frames from a byte stream, however it is split.
#[derive(Debug)]
pub struct Decoder {
  buf: Vec<u8>,
  /// Start of the unconsumed bytes in `buf`.
  start: usize,
  max: usize,
  large: Option<Large>,
}

impl Decoder {
  pub fn new(max: usize) -> Self {
    Decoder {
      buf: Vec::new(),
      start: 0,
      max,
      large: None,
    }
  }

  /// Changes the largest frame accepted from now on (the handshake uses a small one).
  pub fn set_max(&mut self, max: usize) {
    self.max = max;
  }

  /// Adds received bytes.
  pub fn push(&mut self, mut bytes: &[u8]) {
    if let Some(large) = &mut self.large {
      let take = (large.need - large.payload.len()).min(bytes.len());
      large.payload.extend_from_slice(&bytes[..take]);
      bytes = &bytes[take..];
    }
    if self.start > 0 && self.start == self.buf.len() {
      self.buf.clear();
      self.start = 0;
    }
    self.buf.extend_from_slice(bytes);
  }

  /// Room for `n` more bytes of the stream, to receive into directly (then call `received`),
  /// when `spare` has none: saves copying every read from a buffer of the reader's own.
  /// Fallibly, as every allocation a peer can cause: no memory ends the connection, not Node.
  pub fn room(&mut self, n: usize) -> Result<&mut [std::mem::MaybeUninit<u8>], FrameError> {
    if self.start > 0 && (self.start == self.buf.len() || self.buf.capacity() - self.buf.len() < n)
    {
      // Move the undecoded rest to the front rather than grow behind decoded bytes.
      self.buf.drain(..self.start);
      self.start = 0;
    }
    if self.buf.try_reserve(n).is_err() {
      return Err(FrameError::NoMemory(self.buf.len() + n));
    }
    Ok(&mut self.buf.spare_capacity_mut()[..n])
  }

  /// `n` bytes were received into `room`.
  ///
  /// # Safety
  /// They must really have been written there.
  pub unsafe fn received(&mut self, n: usize) {
    assert!(self.buf.len() + n <= self.buf.capacity());
    self.buf.set_len(self.buf.len() + n);
  }

  /// Where the next bytes of the stream can be received directly: the rest of a large frame's
  /// payload (call `filled` with how many were written). None: receive elsewhere and `push`.
  pub fn spare(&mut self) -> Option<&mut [std::mem::MaybeUninit<u8>]> {
    let large = self.large.as_mut()?;
    let left = large.need - large.payload.len();
    if left == 0 {
      return None;
    }
    Some(&mut large.payload.spare_capacity_mut()[..left])
  }

  /// `n` bytes were received into `spare`.
  ///
  /// # Safety
  /// They must really have been written there.
  pub unsafe fn filled(&mut self, n: usize) {
    let large = self.large.as_mut().expect("filled without spare");
    assert!(large.payload.len() + n <= large.need);
    large.payload.set_len(large.payload.len() + n);
  }

  /// Bytes received but not yet decoded.
  pub fn buffered(&self) -> usize {
    let large = self
      .large
      .as_ref()
      .map_or(0, |l| l.head.len() + l.payload.len());
    large + self.buf.len() - self.start
  }

  /// The next complete frame, None if more bytes are needed, or the error that ends the
  /// connection. The length is checked before the frame's bytes are waited for or stored.
  pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
    self.next_with(|parsed| parsed.into_frame())
  }

  /// Like `next_frame`, but a message frame goes to the end of `batch`, its channel name
  /// copied there rather than into a string of its own.
  pub fn next_into(&mut self, batch: &mut Batch) -> Result<Step, FrameError> {
    let step = self.next_with(|parsed| match parsed {
      Parsed::Message { envelope, channel } => {
        batch.push(envelope, channel);
        Step::Queued
      }
      Parsed::Handshake { kind, payload } => Step::Handshake { kind, payload },
    })?;
    Ok(step.unwrap_or(Step::NeedMore))
  }

  /// The next complete frame, handed to `take` while its channel name is still in the buffer.
  fn next_with<R>(&mut self, take: impl FnOnce(Parsed<'_>) -> R) -> Result<Option<R>, FrameError> {
    if let Some(large) = &self.large {
      if large.payload.len() < large.need {
        return Ok(None);
      }
      let Large { head, payload, .. } = self.large.take().expect("checked");
      return parse_parts(&head[PREFIX..], payload.into()).map(|p| Some(take(p)));
    }
    let avail = &self.buf[self.start..];
    if avail.len() < PREFIX {
      return Ok(None);
    }
    let len = u32::from_le_bytes(avail[..PREFIX].try_into().expect("4 bytes")) as usize;
    if len > self.max {
      return Err(FrameError::TooLarge { len, max: self.max });
    }
    if len < HEADER {
      return Err(FrameError::TooShort(len));
    }
    if avail.len() < PREFIX + len {
      if len > LARGE_FRAME {
        return self.start_large(len, take);
      }
      return self.reserve_whole(len);
    }
    let taken = take(parse(&avail[PREFIX..PREFIX + len])?);
    self.consume(PREFIX + len);
    Ok(Some(taken))
  }

  /// A large frame of `len` whose bytes are not all in: once its header and channel are, its
  /// payload is gathered apart. Its fields are checked when it is complete, as for any frame.
  fn start_large<R>(
    &mut self,
    len: usize,
    take: impl FnOnce(Parsed<'_>) -> R,
  ) -> Result<Option<R>, FrameError> {
    let avail = &self.buf[self.start..];
    if avail.len() < PREFIX + HEADER {
      return Ok(None);
    }
    let channel_len = u32::from_le_bytes(avail[PREFIX + 16..PREFIX + 20].try_into().expect("4"));
    let head_len = PREFIX + HEADER + channel_len as usize;
    if channel_len as usize > len - HEADER {
      // Not a frame to split: buffered whole, refused once complete.
      return self.reserve_whole(len);
    }
    if avail.len() < head_len {
      return Ok(None);
    }
    let need = PREFIX + len - head_len;
    let Some(mut payload) = crate::core::bytes::try_with_capacity(need) else {
      return Err(FrameError::NoMemory(len));
    };
    let have = avail.len().min(PREFIX + len);
    payload.extend_from_slice(&avail[head_len..have]);
    let head = avail[..head_len].to_vec();
    self.consume(have);
    self.large = Some(Large {
      head,
      payload,
      need,
    });
    self.next_with(take)
  }

  /// Reserves room for the rest of the frame of `len` being received, now that its length is
  /// known to be acceptable. Fallibly: a peer's 4 bytes must never abort the process (an
  /// address-space limit, no overcommit).
  fn reserve_whole<R>(&mut self, len: usize) -> Result<Option<R>, FrameError> {
    let more = PREFIX + len - (self.buf.len() - self.start);
    if self.buf.try_reserve(more).is_err() {
      return Err(FrameError::NoMemory(len));
    }
    Ok(None)
  }

  /// Steps past `n` decoded bytes.
  fn consume(&mut self, n: usize) {
    self.start += n;
    if self.start == self.buf.len() {
      self.buf.clear();
      self.start = 0;
    } else if self.start > (1 << 20) && self.start * 2 > self.buf.len() {
      // Keep the buffer from growing without bound behind consumed frames.
      self.buf.drain(..self.start);
      self.start = 0;
    }
  }
}

fn parse(body: &[u8]) -> Result<Parsed<'_>, FrameError> {
  let channel_len = u32::from_le_bytes(body[16..20].try_into().expect("4 bytes")) as usize;
  let end = (HEADER + channel_len).min(body.len());
  parse_parts(&body[..end], Payload::from_slice(&body[end..]))
}

/// A frame from its header and channel (`body`, the prefix excluded) and its payload.
fn parse_parts(body: &[u8], payload: Payload) -> Result<Parsed<'_>, FrameError> {
  let kind = body[0];
  let status = body[1];
  if body[2] != 0 || body[3] != 0 {
    return Err(FrameError::Reserved);
  }
  let renderer = u32::from_le_bytes(body[4..8].try_into().expect("4 bytes"));
  let request = u64::from_le_bytes(body[8..16].try_into().expect("8 bytes"));
  let channel_len = u32::from_le_bytes(body[16..20].try_into().expect("4 bytes")) as usize;
  let rest = &body[HEADER..];
  if channel_len > rest.len() {
    return Err(FrameError::ChannelOverrun);
  }
  let channel =
    std::str::from_utf8(&rest[..channel_len]).map_err(|_| FrameError::ChannelNotUtf8)?;
  if matches!(kind, HELLO | WELCOME | REJECT | BYE) {
    return Ok(Parsed::Handshake {
      kind,
      payload: payload.into_vec(),
    });
  }
  let kind = Kind::from_u8(kind).ok_or(FrameError::UnknownKind(kind))?;
  let status = Status::from_u8(status).ok_or(FrameError::UnknownStatus(status))?;
  let envelope = Envelope {
    kind,
    status,
    renderer,
    request,
    channel: 0,
    payload,
  };
  Ok(Parsed::Message { envelope, channel })
}

#[cfg(test)]
mod tests {
  use super::*;
  use proptest::prelude::*;

  /// Decodes `stream` pushed in two pieces, cut at `cut`: the frames, and the decoder after.
  fn decode_cut_at(stream: &[u8], cut: usize) -> (Vec<Frame>, Decoder) {
    let mut d = Decoder::new(DEFAULT_MAX_FRAME);
    let mut frames = Vec::new();
    for part in [&stream[..cut], &stream[cut..]] {
      d.push(part);
      while let Some(f) = d.next_frame().unwrap() {
        frames.push(f);
      }
    }
    (frames, d)
  }

  fn message(kind: Kind, channel: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let env = Envelope::new(kind, 7, 0, payload.to_vec()).request(u64::MAX - 1);
    encode_envelope(&mut out, &env, channel);
    out
  }

  fn decode_all(bytes: &[u8], max: usize) -> Result<Vec<Frame>, FrameError> {
    let mut d = Decoder::new(max);
    d.push(bytes);
    let mut out = Vec::new();
    while let Some(f) = d.next_frame()? {
      out.push(f);
    }
    Ok(out)
  }

  #[test]
  fn a_message_round_trips() {
    let bytes = message(Kind::Invoke, "canal-😀", b"payload");
    let frames = decode_all(&bytes, DEFAULT_MAX_FRAME).unwrap();
    let Frame::Message { envelope, channel } = &frames[0] else {
      panic!("not a message")
    };
    assert_eq!(channel, "canal-😀");
    assert_eq!(envelope.kind, Kind::Invoke);
    assert_eq!(envelope.renderer, 7);
    assert_eq!(envelope.request, u64::MAX - 1);
    assert_eq!(envelope.payload, b"payload");
  }

  #[test]
  fn frames_split_anywhere_reassemble() {
    let mut stream = message(Kind::Send, "a", b"1");
    stream.extend(message(Kind::Sync, "bb", &[9; 300]));
    stream.extend(message(Kind::Message, "", b""));
    for cut in 0..stream.len() {
      let (frames, d) = decode_cut_at(&stream, cut);
      assert_eq!(frames.len(), 3, "cut at {cut}");
      assert_eq!(d.buffered(), 0);
    }
  }

  #[test]
  fn batches_hold_what_next_frame_gives_however_the_reads_are_cut() {
    let mut stream = message(Kind::Send, "a", b"1");
    stream.extend(message(Kind::Sync, "канал", &[9; 300]));
    encode_handshake(&mut stream, BYE, b"{}");
    stream.extend(message(Kind::Message, "", b""));
    stream.extend(message(Kind::Send, "a", b"2"));
    let expected = decode_all(&stream, DEFAULT_MAX_FRAME).unwrap();
    assert_eq!(expected.len(), 5);
    let mut batch = Batch::default();
    for cut in 0..stream.len() {
      let mut d = Decoder::new(DEFAULT_MAX_FRAME);
      let mut got = Vec::new();
      let take = |batch: &mut Batch, got: &mut Vec<Frame>| {
        got.extend(batch.drain().map(|(envelope, channel)| Frame::Message {
          envelope,
          channel: channel.to_owned(),
        }));
      };
      for part in [&stream[..cut], &stream[cut..]] {
        // received straight into the decoder's buffer, as a connection reads
        let room = d.room(part.len()).unwrap();
        for (to, from) in room.iter_mut().zip(part) {
          to.write(*from);
        }
        unsafe { d.received(part.len()) };
        loop {
          match d.next_into(&mut batch).unwrap() {
            Step::Queued => {}
            Step::Handshake { kind, payload } => {
              take(&mut batch, &mut got);
              got.push(Frame::Handshake { kind, payload });
            }
            Step::NeedMore => break,
          }
        }
        take(&mut batch, &mut got);
      }
      assert_eq!(got, expected, "cut at {cut}");
      assert_eq!(d.buffered(), 0);
      assert!(batch.is_empty());
    }
  }

  #[test]
  fn room_that_cannot_be_had_is_an_error_not_an_abort() {
    let mut d = Decoder::new(DEFAULT_MAX_FRAME);
    assert!(matches!(
      d.room(usize::MAX / 2),
      Err(FrameError::NoMemory(_))
    ));
    // and the decoder goes on
    assert_eq!(d.room(16).unwrap().len(), 16);
  }

  #[test]
  fn an_oversized_length_is_refused_before_its_bytes_arrive() {
    let mut d = Decoder::new(1000);
    d.push(&5000u32.to_le_bytes());
    assert_eq!(
      d.next_frame(),
      Err(FrameError::TooLarge {
        len: 5000,
        max: 1000
      })
    );
    // and nothing was reserved for it
    assert!(d.buf.capacity() < 1000);
  }

  #[test]
  fn malformed_headers_are_errors() {
    let good = message(Kind::Send, "ch", b"x");
    let mut short = good.clone();
    short[..4].copy_from_slice(&3u32.to_le_bytes());
    assert_eq!(decode_all(&short, 100), Err(FrameError::TooShort(3)));
    let mut kind = good.clone();
    kind[4] = 99;
    assert_eq!(decode_all(&kind, 100), Err(FrameError::UnknownKind(99)));
    let mut status = good.clone();
    status[5] = 99;
    assert_eq!(decode_all(&status, 100), Err(FrameError::UnknownStatus(99)));
    let mut reserved = good.clone();
    reserved[6] = 1;
    assert_eq!(decode_all(&reserved, 100), Err(FrameError::Reserved));
    let mut overrun = good.clone();
    overrun[20..24].copy_from_slice(&1000u32.to_le_bytes());
    assert_eq!(decode_all(&overrun, 100), Err(FrameError::ChannelOverrun));
    let mut utf8 = good;
    utf8[24] = 0xff;
    assert_eq!(decode_all(&utf8, 100), Err(FrameError::ChannelNotUtf8));
  }

  #[test]
  fn a_truncated_frame_waits_for_more_bytes() {
    let good = message(Kind::Send, "ch", b"xyz");
    for cut in 0..good.len() {
      assert_eq!(decode_all(&good[..cut], 100), Ok(vec![]), "cut at {cut}");
    }
  }

  #[test]
  fn handshake_frames_carry_their_json() {
    let mut out = Vec::new();
    encode_handshake(&mut out, HELLO, br#"{"protocol":1}"#);
    assert_eq!(
      decode_all(&out, 100).unwrap(),
      vec![Frame::Handshake {
        kind: HELLO,
        payload: br#"{"protocol":1}"#.to_vec()
      }]
    );
  }

  #[test]
  fn a_large_frame_reassembles_from_pushes_and_from_direct_reads() {
    let payload: Vec<u8> = (0..3 * LARGE_FRAME).map(|i| (i * 7) as u8).collect();
    let mut stream = message(Kind::Invoke, "big", &payload);
    stream.extend(message(Kind::Send, "after", b"x"));
    // pushed in pieces that cut the header, the channel and the payload
    for cut in [1, 5, 23, 26, 27, 1000, LARGE_FRAME, stream.len() - 30] {
      let (frames, d) = decode_cut_at(&stream, cut);
      assert_eq!(frames.len(), 2, "cut at {cut}");
      let Frame::Message { envelope, channel } = &frames[0] else {
        panic!("not a message")
      };
      assert_eq!(
        (channel.as_str(), &envelope.payload[..]),
        ("big", &payload[..])
      );
      assert_eq!(d.buffered(), 0);
    }
    // the payload received straight into place, as the reader does
    let mut d = Decoder::new(DEFAULT_MAX_FRAME);
    d.push(&stream[..100]);
    assert_eq!(d.next_frame(), Ok(None));
    let mut at = 100;
    while let Some(spare) = d.spare() {
      let n = spare.len().min(4096);
      for (dst, src) in spare[..n].iter_mut().zip(&stream[at..at + n]) {
        dst.write(*src);
      }
      unsafe { d.filled(n) };
      at += n;
    }
    d.push(&stream[at..]);
    let Some(Frame::Message { envelope, .. }) = d.next_frame().unwrap() else {
      panic!("no frame")
    };
    assert_eq!(envelope.payload, payload);
    assert!(matches!(d.next_frame(), Ok(Some(Frame::Message { .. }))));
    assert_eq!(d.next_frame(), Ok(None));
  }

  #[test]
  fn a_large_frame_is_checked_once_complete() {
    let mut bad = message(Kind::Send, "ch", &vec![0; 2 * LARGE_FRAME]);
    bad[4] = 99;
    let mut d = Decoder::new(DEFAULT_MAX_FRAME);
    d.push(&bad[..bad.len() - 1]);
    assert_eq!(d.next_frame(), Ok(None), "not before its last byte");
    d.push(&bad[bad.len() - 1..]);
    assert_eq!(d.next_frame(), Err(FrameError::UnknownKind(99)));
  }

  proptest! {
    // Whatever arrives, the decoder returns frames, asks for more, or reports an error: it never
    // panics, and never holds more than one maximum frame's worth of bytes.
    #[test]
    fn arbitrary_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16)) {
      let mut d = Decoder::new(256);
      for chunk in chunks {
        d.push(&chunk);
        loop {
          match d.next_frame() {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => return Ok(()),
          }
        }
        prop_assert!(d.buffered() <= PREFIX + 256 + 64);
      }
    }

    #[test]
    fn encoded_messages_decode_to_themselves(
      kind in prop::sample::select(vec![Kind::Send, Kind::Post, Kind::Sync, Kind::Invoke, Kind::Message, Kind::InvokeReply, Kind::SyncReply]),
      renderer in any::<u32>(),
      request in any::<u64>(),
      channel in ".{0,40}",
      payload in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
      let mut out = Vec::new();
      encode(&mut out, kind as u8, 0, renderer, request, &channel, &payload);
      let frames = decode_all(&out, DEFAULT_MAX_FRAME).unwrap();
      let Frame::Message { envelope, channel: ch } = &frames[0] else { panic!() };
      prop_assert_eq!(ch, &channel);
      prop_assert_eq!(envelope.kind, kind);
      prop_assert_eq!(envelope.renderer, renderer);
      prop_assert_eq!(envelope.request, request);
      prop_assert_eq!(&envelope.payload, &payload);
    }
  }
}

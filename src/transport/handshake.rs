//! The first frames of a connection: who is connecting, to which main, with which token.
//! JSON (through serde_json), so the format is easy to read and to extend.

use serde::{Deserialize, Serialize};

/// Bumped on any change to the frame format or to these messages.
pub const PROTOCOL: u32 = 1;

/// Renderer to main, first frame of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
  pub protocol: u32,
  pub token: String,
  pub pid: u32,
  /// The renderer id main gave a process it forked; 0 for a process that connects on its own.
  #[serde(default)]
  pub renderer: u32,
}

/// Main to renderer: accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
  pub protocol: u32,
  /// The id main knows this renderer by.
  pub renderer: u32,
  pub pid: u32,
}

/// Main to renderer: refused, and why; the connection is closed after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
  pub code: String,
  pub message: String,
}

/// Renderer to main, last frame: the renderer is exiting (so its end is a clean one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bye {
  #[serde(rename = "exitCode")]
  pub exit_code: i32,
}

/// A fresh secret for a listening main: 32 random bytes, hex.
pub fn new_token() -> std::io::Result<String> {
  let mut bytes = [0u8; 32];
  crate::transport::socket::random(&mut bytes)?;
  Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares tokens in time that does not depend on where they differ.
pub fn same_token(expected: &str, given: &str) -> bool {
  let (a, b) = (expected.as_bytes(), given.as_bytes());
  let mut diff = (a.len() != b.len()) as u8;
  for (i, x) in a.iter().enumerate() {
    diff |= x ^ b.get(i).copied().unwrap_or(0);
  }
  diff == 0
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn tokens_are_64_hex_digits_and_differ() {
    let a = new_token().unwrap();
    let b = new_token().unwrap();
    assert_eq!(a.len(), 64);
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b);
  }

  #[test]
  fn token_comparison() {
    assert!(same_token("abc", "abc"));
    assert!(!same_token("abc", "abd"));
    assert!(!same_token("abc", "ab"));
    assert!(!same_token("abc", "abcd"));
    assert!(!same_token("abc", ""));
  }

  #[test]
  fn messages_read_as_json() {
    let hello: Hello = serde_json::from_str(r#"{"protocol":1,"token":"t","pid":5}"#).unwrap();
    assert_eq!(hello.renderer, 0, "renderer is optional");
    let bye = serde_json::to_string(&Bye { exit_code: 3 }).unwrap();
    assert_eq!(bye, r#"{"exitCode":3}"#);
    assert!(serde_json::from_str::<Hello>(r#"{"protocol":"x"}"#).is_err());
  }
}

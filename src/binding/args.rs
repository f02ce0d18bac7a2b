//! Arguments from JS checked and turned into core types; bad ones are `ERR_IPC_INVALID_ARG`.

use crate::binding::error::{Code, Result};
use crate::core::registry::Scope;
use crate::core::EndpointId;
use crate::transport::frame::DEFAULT_MAX_FRAME;

pub fn bad_arg(what: &str) -> napi::Error<Code> {
  napi::Error::new(Code("ERR_IPC_INVALID_ARG".to_owned()), what.to_owned())
}

pub fn scope(kind: u32, endpoint: EndpointId, renderer: u32) -> Result<Scope> {
  Ok(match kind {
    0 => Scope::Main(endpoint),
    1 => Scope::ContentsIpc(renderer),
    2 => Scope::ContentsEvents(renderer),
    _ => return Err(bad_arg("unknown scope")),
  })
}

pub fn max_frame(bytes: Option<f64>) -> Result<usize> {
  match bytes {
    None => Ok(DEFAULT_MAX_FRAME),
    Some(n) if n >= 1024.0 && n <= u32::MAX as f64 => Ok(n as usize),
    Some(_) => Err(bad_arg(
      "maxFrameSize must be between 1024 and 4294967295 bytes",
    )),
  }
}

//! Core errors become JS errors whose `code` is the core's Node-style code.

use napi::{Error, Status};

use crate::core::CoreError;

/// The `code` of an error thrown by the addon.
#[derive(Debug, Clone)]
pub struct Code(pub String);

impl AsRef<str> for Code {
  fn as_ref(&self) -> &str {
    &self.0
  }
}

impl From<Status> for Code {
  fn from(status: Status) -> Self {
    Code(
      match status {
        Status::InvalidArg
        | Status::NumberExpected
        | Status::StringExpected
        | Status::ObjectExpected => "ERR_INVALID_ARG_TYPE",
        _ => "ERR_IPC_NATIVE",
      }
      .to_owned(),
    )
  }
}

pub type Result<T> = std::result::Result<T, Error<Code>>;

pub fn to_js(err: CoreError) -> Error<Code> {
  Error::new(Code(err.code().to_owned()), err.to_string())
}

//! Errors the core reports. Each has a stable Node-style `code`; the message text is Electron's
//! wherever Electron has one.

use std::fmt;

use super::envelope::RendererId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreError {
  /// Main sent to a `WebContents` whose renderer is gone.
  ObjectDestroyed,
  /// A renderer used its `ipcRenderer` after its `WebContents` was destroyed.
  ContextReleased,
  /// The main side went away (or closed the connection) while a renderer needed it.
  Disconnected,
  /// A blocking wait was cancelled because its thread or process is shutting down.
  Cancelled,
  /// No renderer has this id (or it belongs to another main).
  UnknownRenderer(RendererId),
  /// The endpoint was closed or never existed.
  UnknownEndpoint,
  /// A renderer can be connected to one endpoint only.
  AlreadyConnected(RendererId),
}

impl CoreError {
  pub fn code(&self) -> &'static str {
    match self {
      CoreError::ObjectDestroyed => "ERR_IPC_OBJECT_DESTROYED",
      CoreError::ContextReleased => "ERR_IPC_CONTEXT_RELEASED",
      CoreError::Disconnected => "ERR_IPC_DISCONNECTED",
      CoreError::Cancelled => "ERR_IPC_CANCELLED",
      CoreError::UnknownRenderer(_) => "ERR_IPC_UNKNOWN_RENDERER",
      CoreError::UnknownEndpoint => "ERR_IPC_UNKNOWN_ENDPOINT",
      CoreError::AlreadyConnected(_) => "ERR_IPC_ALREADY_CONNECTED",
    }
  }
}

impl fmt::Display for CoreError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      CoreError::ObjectDestroyed => f.write_str("Object has been destroyed"),
      CoreError::ContextReleased => f.write_str("IPC method called after context was released"),
      CoreError::Disconnected => {
        f.write_str("The main process is gone: the IPC connection was closed")
      }
      CoreError::Cancelled => {
        f.write_str("The IPC call was cancelled because its thread is exiting")
      }
      CoreError::UnknownRenderer(id) => write!(f, "No renderer with id {id}"),
      CoreError::UnknownEndpoint => f.write_str("The IPC endpoint is closed"),
      CoreError::AlreadyConnected(id) => write!(f, "Renderer {id} is already connected"),
    }
  }
}

impl std::error::Error for CoreError {}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn electron_texts_are_exact() {
    assert_eq!(
      CoreError::ObjectDestroyed.to_string(),
      "Object has been destroyed"
    );
    assert_eq!(
      CoreError::ContextReleased.to_string(),
      "IPC method called after context was released"
    );
  }

  #[test]
  fn every_code_is_node_style() {
    let all = [
      CoreError::ObjectDestroyed,
      CoreError::ContextReleased,
      CoreError::Disconnected,
      CoreError::Cancelled,
      CoreError::UnknownRenderer(1),
      CoreError::UnknownEndpoint,
      CoreError::AlreadyConnected(1),
    ];
    for e in all {
      assert!(e.code().starts_with("ERR_IPC_"), "{}", e.code());
    }
  }
}

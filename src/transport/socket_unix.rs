//! What is specific to the operating system: Unix domain sockets (Linux, macOS). A Windows
//! version with named pipes would provide the same functions.

use std::fs::{DirBuilder, File};
use std::io::{self, Read};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// A directory only this user can enter, for a socket: `<tmp>/ipc-main-<pid>-<random>`.
pub fn private_dir() -> io::Result<PathBuf> {
  let mut suffix = [0u8; 6];
  random(&mut suffix)?;
  let name: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
  let dir = std::env::temp_dir().join(format!("ipc-main-{}-{name}", std::process::id()));
  DirBuilder::new().mode(0o700).create(&dir)?;
  Ok(dir)
}

/// Binds a listening socket at `path` (synchronously, so a failure is the caller's error).
pub fn bind(path: &Path) -> io::Result<std::os::unix::net::UnixListener> {
  let listener = std::os::unix::net::UnixListener::bind(path)?;
  listener.set_nonblocking(true)?;
  Ok(listener)
}

/// Connects to a listening socket.
pub fn connect(path: &Path) -> io::Result<std::os::unix::net::UnixStream> {
  std::os::unix::net::UnixStream::connect(path)
}

/// Whether the peer of a connection runs as this process's user.
pub fn same_user(stream: &tokio::net::UnixStream) -> bool {
  match stream.peer_cred() {
    Ok(cred) => cred.uid() == unsafe { libc::geteuid() },
    Err(_) => false,
  }
}

/// The peer's process id, where the OS tells.
pub fn peer_pid(stream: &tokio::net::UnixStream) -> Option<i32> {
  stream.peer_cred().ok().and_then(|c| c.pid())
}

/// Removes a socket file, and its directory when it is one of ours.
pub fn remove(path: &Path, dir: Option<&Path>) {
  let _ = std::fs::remove_file(path);
  if let Some(dir) = dir {
    let _ = std::fs::remove_dir(dir);
  }
}

/// Cryptographically random bytes from the OS.
pub fn random(buf: &mut [u8]) -> io::Result<()> {
  File::open("/dev/urandom")?.read_exact(buf)
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::os::unix::fs::PermissionsExt;

  #[test]
  fn the_private_directory_is_for_this_user_only() {
    let dir = private_dir().unwrap();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    let path = dir.join("main.sock");
    let listener = bind(&path).unwrap();
    let _client = connect(&path).unwrap();
    drop(listener);
    remove(&path, Some(&dir));
    assert!(!dir.exists());
  }
}

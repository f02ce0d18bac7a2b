//! What is specific to the operating system: Unix domain sockets (Linux, macOS). A Windows
//! version with named pipes would provide the same functions.

use std::fs::{DirBuilder, File};
use std::io::{self, Read};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// A directory only this user can enter, for a socket: `<tmp>/ipc-main-<pid>-<random>`.
pub fn private_dir() -> io::Result<PathBuf> {
  sweep_stale(&std::env::temp_dir());
  let mut suffix = [0u8; 6];
  random(&mut suffix)?;
  let name: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
  let dir = std::env::temp_dir().join(format!("ipc-main-{}-{name}", std::process::id()));
  DirBuilder::new().mode(0o700).create(&dir)?;
  Ok(dir)
}

/// Removes the socket directories of mains that died without removing theirs (a killed main
/// cannot): ours by name and owner, and their process gone.
fn sweep_stale(tmp: &Path) {
  use std::os::unix::fs::MetadataExt;
  let Ok(entries) = std::fs::read_dir(tmp) else {
    return;
  };
  let me = unsafe { libc::geteuid() };
  for entry in entries.flatten() {
    let name = entry.file_name();
    let Some(pid) = stale_pid(&name.to_string_lossy()) else {
      continue;
    };
    let dir = entry.path();
    let owned = std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir() && m.uid() == me);
    if !owned || alive(pid) {
      continue;
    }
    remove(&dir.join("main.sock"), Some(&dir));
  }
}

/// The pid in a name `ipc-main-<pid>-<12 hex digits>`.
fn stale_pid(name: &str) -> Option<i32> {
  let (pid, suffix) = name.strip_prefix("ipc-main-")?.split_once('-')?;
  if suffix.len() != 12 || !suffix.bytes().all(|b| b.is_ascii_hexdigit()) {
    return None;
  }
  pid.parse().ok().filter(|&p| p > 0)
}

/// Whether process `pid` exists (whoever owns it).
fn alive(pid: i32) -> bool {
  unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() != libc::ESRCH }
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

/// Socket buffers this large (where the system allows; Linux caps them at `net.core.wmem_max`
/// and `rmem_max`): a big message then crosses in a few writes instead of hundreds of 200 KiB
/// ones, each a wake-up of the reader and then of the writer.
const SOCKET_BUFFER: libc::c_int = 4 << 20;

/// Asks for large send and receive buffers; the defaults stay where the system refuses.
pub fn grow_buffers(stream: &tokio::net::UnixStream) {
  use std::os::fd::AsRawFd;
  let fd = stream.as_raw_fd();
  for option in [libc::SO_SNDBUF, libc::SO_RCVBUF] {
    unsafe {
      libc::setsockopt(
        fd,
        libc::SOL_SOCKET,
        option,
        (&SOCKET_BUFFER as *const libc::c_int).cast(),
        std::mem::size_of::<libc::c_int>() as libc::socklen_t,
      );
    }
  }
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

  #[test]
  fn directories_of_dead_mains_are_swept_and_no_others() {
    let tmp = std::env::temp_dir().join(format!("ipc-main-sweep-test-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    // a pid that is surely gone: a child that has exited and been reaped
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let stale = tmp.join(format!("ipc-main-{dead}-0123456789ab"));
    let live = tmp.join(format!("ipc-main-{}-0123456789ab", std::process::id()));
    let other = tmp.join(format!("ipc-main-{dead}-not-ours"));
    for dir in [&stale, &live, &other] {
      std::fs::create_dir(dir).unwrap();
      std::fs::write(dir.join("main.sock"), b"").unwrap();
    }
    sweep_stale(&tmp);
    assert!(!stale.exists(), "the dead main's directory is gone");
    assert!(live.exists(), "a live main's stays");
    assert!(other.exists(), "a name that is not ours stays");
    std::fs::remove_dir_all(&tmp).unwrap();
  }
}

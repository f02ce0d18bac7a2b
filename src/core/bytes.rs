//! Buffers for payloads. A large one is backed by huge pages where the system offers them on
//! request (Linux's transparent huge pages in `madvise` mode): a fresh 16 MiB buffer then costs
//! 8 page faults instead of 4096, and those faults, not the copies, were most of what a large
//! message cost (measured: a 16 MiB echo between processes went from about 50 to under 40 ms).

/// Buffers at least this large ask for huge pages.
const HUGE_FROM: usize = 2 << 20;

/// An empty buffer with room for `n` bytes, or None if that memory cannot be had.
pub fn try_with_capacity(n: usize) -> Option<Vec<u8>> {
  let mut v = Vec::new();
  v.try_reserve_exact(n).ok()?;
  advise_huge(&v);
  Some(v)
}

/// A copy of `bytes`.
pub fn copy_of(bytes: &[u8]) -> Vec<u8> {
  if bytes.len() < HUGE_FROM {
    return bytes.to_vec();
  }
  let mut v = Vec::with_capacity(bytes.len());
  advise_huge(&v);
  v.extend_from_slice(bytes);
  v
}

#[cfg(target_os = "linux")]
fn advise_huge(v: &Vec<u8>) {
  const PAGE: usize = 2 << 20;
  if v.capacity() < HUGE_FROM {
    return;
  }
  // The whole huge pages inside the allocation; advice only, so a refusal changes nothing.
  let start = v.as_ptr() as usize;
  let from = start.next_multiple_of(PAGE);
  let to = (start + v.capacity()) / PAGE * PAGE;
  if to > from {
    unsafe {
      libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
    }
  }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_: &Vec<u8>) {}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn buffers_hold_what_they_are_given() {
    for n in [0, 1, HUGE_FROM - 1, HUGE_FROM, 3 * HUGE_FROM + 5] {
      let src: Vec<u8> = (0..n).map(|i| i as u8).collect();
      assert_eq!(copy_of(&src), src);
      let v = try_with_capacity(n).unwrap();
      assert!(v.is_empty() && v.capacity() >= n);
    }
    assert!(try_with_capacity(usize::MAX).is_none());
  }
}

//! Staying awake for something expected soon, on a thread that waits in its event loop rather
//! than blocking: a renderer awaiting an `invoke`, or main after answering a renderer in another
//! thread or process, which often asks again at once. Waking a sleeping thread costs tens of µs on
//! small VMs; a loop kept polling sees the message within a few. The spin is bounded by a budget
//! that learns from every wait (`SpinBudget`). Where this process may run on one CPU only, the
//! other side can only run while this thread gives the CPU away: there the spinning loop yields
//! it on every turn (`alone`), which costs a switch where a wake-up from sleep costs two or three
//! times as much (measured here: a pinned two-thread ping-pong takes 18 µs a round trip through
//! a condvar, 5 µs through `sched_yield`).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::waiter::SpinBudget;

#[derive(Debug, Default)]
pub struct Anticipation {
  budget: SpinBudget,
  /// Since when something is expected, until it arrives.
  since: Option<Instant>,
  /// The end of the current spin, while spinning.
  until: Option<Instant>,
  /// How long the current (or last) spin was allowed to last.
  allowed: Duration,
  /// The bound it was given, which the budget learns against when the message arrives.
  max: Duration,
}

impl Anticipation {
  /// Something is expected from now on: the end of the spin to keep the loop awake until, or
  /// None if it should sleep as usual. `max` bounds the spin.
  pub fn expect(&mut self, now: Instant, max: Duration) -> Option<Instant> {
    self.since = Some(now);
    self.max = max;
    self.allowed = self.budget.get(max);
    if self.allowed.is_zero() {
      self.until = None;
      return None;
    }
    let until = now + self.allowed;
    self.until = Some(until);
    Some(until)
  }

  /// Something arrived at `now`: learns how long it took. True if a spin was running (stop it).
  pub fn arrived(&mut self, now: Instant) -> bool {
    let spinning = self.until.take().is_some();
    if let Some(since) = self.since.take() {
      self
        .budget
        .learn(spinning, now.duration_since(since), self.allowed, self.max);
    }
    spinning
  }

  /// True once the spin's time is up at `now` (stop it; what arrives later still teaches).
  pub fn expired(&mut self, now: Instant) -> bool {
    match self.until {
      Some(until) if now >= until => {
        self.until = None;
        true
      }
      Some(_) => false,
      None => true,
    }
  }

  pub fn is_spinning(&self) -> bool {
    self.until.is_some()
  }
}

/// Whether this process may run on one CPU only (read once: `taskset` sets it at start).
pub fn alone() -> bool {
  static ALONE: OnceLock<bool> = OnceLock::new();
  *ALONE.get_or_init(|| cpus_allowed() <= 1)
}

#[cfg(target_os = "linux")]
fn cpus_allowed() -> usize {
  // The affinity mask alone: `available_parallelism` also reads cgroup files, which is slower
  // and says nothing about whether two of our threads can run at once.
  unsafe {
    let mut set: libc::cpu_set_t = std::mem::zeroed();
    if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
      return libc::CPU_COUNT(&set) as usize;
    }
  }
  std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(not(target_os = "linux"))]
fn cpus_allowed() -> usize {
  std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
  use super::*;

  const MAX: Duration = Duration::from_micros(100);

  fn us(n: u64) -> Duration {
    Duration::from_micros(n)
  }

  #[test]
  fn a_spin_ends_when_its_time_is_up_or_something_arrives() {
    let mut a = Anticipation::default();
    let t0 = Instant::now();
    let until = a.expect(t0, MAX).expect("spins at first");
    assert_eq!(until, t0 + MAX);
    assert!(!a.expired(t0 + us(50)));
    assert!(a.is_spinning());
    assert!(a.arrived(t0 + us(60)), "arrived while spinning");
    assert!(!a.is_spinning());
    let until = a.expect(t0 + us(70), MAX).unwrap();
    assert!(a.expired(until));
    assert!(!a.arrived(until + us(1)), "the spin was over");
  }

  #[test]
  fn answers_that_come_late_stop_the_spinning_and_quick_ones_bring_it_back() {
    let mut a = Anticipation::default();
    let mut t = Instant::now();
    // Nothing comes within the spin, again and again: the budget runs out.
    let mut spins = 0;
    while a.expect(t, MAX).is_some() {
      spins += 1;
      t += MAX;
      assert!(a.expired(t));
      t += us(10_000);
      a.arrived(t);
      assert!(spins < 10, "the spin never stopped");
    }
    assert!(spins >= 2);
    // Answers within the maximum while not spinning: it spins again, longer each time.
    a.arrived(t + us(5));
    let mut last = Duration::ZERO;
    for _ in 0..3 {
      t += us(100);
      let until = a.expect(t, MAX).expect("spins again");
      let allowed = until - t;
      assert!(allowed > last);
      last = allowed;
      a.arrived(t + us(1));
    }
  }
}

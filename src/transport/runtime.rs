//! The tokio runtime every connection of the process runs on: started on first use, two worker
//! threads. Its threads are not JS threads, so they never keep Node alive.

use std::sync::OnceLock;

use tokio::runtime::Runtime;

pub fn runtime() -> &'static Runtime {
  static RUNTIME: OnceLock<Runtime> = OnceLock::new();
  RUNTIME.get_or_init(|| {
    tokio::runtime::Builder::new_multi_thread()
      .worker_threads(2)
      .thread_name("ipc-main-io")
      .enable_io()
      .enable_time()
      .build()
      .expect("the tokio runtime starts")
  })
}

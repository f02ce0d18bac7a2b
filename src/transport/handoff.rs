//! Connections whose reading a JS thread may take over (`Connection::take_over`): offered once
//! their handshake is done, taken by the JS thread of the endpoint their frames go to, which
//! then reads them on its own event loop.

use std::sync::{Arc, Mutex, Weak};

use super::connection::Connection;
use crate::core::EndpointId;

fn offered() -> &'static Mutex<Vec<(EndpointId, Weak<Connection>)>> {
  static OFFERED: Mutex<Vec<(EndpointId, Weak<Connection>)>> = Mutex::new(Vec::new());
  &OFFERED
}

/// `endpoint`'s thread may read `conn` from now on.
pub fn offer(endpoint: EndpointId, conn: &Arc<Connection>) {
  let mut list = offered().lock().unwrap_or_else(|p| p.into_inner());
  list.push((endpoint, Arc::downgrade(conn)));
}

/// The connections offered to `endpoint` that are still open (forgetting them, and any that
/// have gone meanwhile).
pub fn take(endpoint: EndpointId) -> Vec<Arc<Connection>> {
  let mut list = offered().lock().unwrap_or_else(|p| p.into_inner());
  let mut taken = Vec::new();
  list.retain(|(e, weak)| match weak.upgrade() {
    Some(conn) if conn.is_closed() => false,
    Some(conn) if *e == endpoint => {
      taken.push(conn);
      false
    }
    Some(_) => true,
    None => false,
  });
  taken
}

//! A radio that hangs on demand: discovery that stops showing life, a connection set-up that
//! never returns and ignores its time limit, a sender name that never gets set. Wraps any
//! backend, so the real BlueZ path can be hung in the rig as well as the simulated one in tests.

use crate::model::device::BdAddr;
use crate::model::outcome::AttemptResult;
use crate::radio::{Adapter, BoxFuture, OppLink, Radio, RadioError, Sightings};
use std::sync::Arc;
use std::time::Duration;

/// Every adapter's radio, wrapped.
pub fn wrap(adapters: Vec<Adapter>) -> Vec<Adapter> {
    adapters
        .into_iter()
        .map(|a| Adapter {
            radio: Arc::new(Faulty(a.radio)),
            ..a
        })
        .collect()
}

struct Faulty(Arc<dyn Radio>);

impl Radio for Faulty {
    fn id(&self) -> Arc<str> {
        self.0.id()
    }

    fn set_alias<'a>(&'a self, alias: &'a str) -> BoxFuture<'a, Result<(), RadioError>> {
        if super::alias_armed() {
            tracing::warn!(
                "fault injection: setting the sender name on {} hangs",
                self.0.id()
            );
            return Box::pin(std::future::pending());
        }
        self.0.set_alias(alias)
    }

    fn discover(&self, out: Sightings) -> BoxFuture<'_, Result<(), RadioError>> {
        Box::pin(async move {
            tokio::select! {
                result = self.0.discover(out.clone()) => result,
                () = super::scan_armed() => {
                    tracing::warn!("fault injection: the scan loop on {} hangs", self.0.id());
                    out.alive(); // hung while working, not while waiting for others
                    std::future::pending().await
                }
            }
        })
    }

    fn connect_opp(
        &self,
        addr: BdAddr,
        limit: Duration,
    ) -> BoxFuture<'_, Result<OppLink, AttemptResult>> {
        if super::take_push() {
            tracing::warn!(
                "fault injection: the push worker {} -> {addr} hangs",
                self.0.id()
            );
            return Box::pin(std::future::pending());
        }
        self.0.connect_opp(addr, limit)
    }

    fn forget(&self, addr: BdAddr) -> BoxFuture<'_, ()> {
        self.0.forget(addr)
    }
}

//! The daemon's side of the visit spool (`crate::store::visit_spool`): every few seconds it reads what
//! visitors did on the hotspot's captive page into the log. A spool the log cannot take now (a
//! full disk, say) stays where it is for the next pass.

use crate::store::Store;
use std::path::PathBuf;
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(5);

pub(super) async fn serve(dir: PathBuf, store: Store) {
    loop {
        tokio::time::sleep(EVERY).await;
        match crate::store::visit_spool::drain(&dir, &store).await {
            Ok(d) if d.files > 0 => tracing::debug!(
                "visits: {} events from {} spool files into the log ({} lines skipped)",
                d.events,
                d.files,
                d.skipped
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("visits: {e}"),
        }
    }
}

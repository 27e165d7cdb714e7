//! One sync round: connect, prepare the schema, upload attempts, visits and events, download
//! the fleet's answers, note the time of success. `o4send sync --once` is one round; the
//! daemon's task runs rounds forever.

use super::error::SyncError;
use super::upload::Uploader;
use super::{connect, download, schema, Settings};
use crate::store::{marks, Store, SyncMark};

/// Rows uploaded so far out of the backlog found at the start of the round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

/// What a round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundStats {
    pub uploaded: u64,
    pub downloaded: u64,
}

/// Runs one round; `progress` hears after every committed batch.
pub async fn once(
    settings: &Settings,
    store: &Store,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<RoundStats, SyncError> {
    if let Some(why) = &settings.cfg.refused {
        return Err(SyncError::fatal(why.clone()));
    }
    let key = crate::sync::pseudonym::PhoneKey::for_sync(&settings.cfg).ok_or_else(|| {
        SyncError::fatal("sync.mysql_url and sync.secret (or sync.raw_macs = true) are needed")
    })?;
    let mut reader = store.reader().map_err(|e| SyncError::store(&e))?;
    let total = reader
        .sync_backlog()
        .map_err(|e| SyncError::store(&e))?
        .total();
    let mut conn = connect::connect(&settings.cfg).await?;
    let result = async {
        schema::prepare(&mut conn).await?;
        let mut state = Progress { done: 0, total };
        let mut done = |n: u64| {
            state.done += n;
            state.total = state.total.max(state.done);
            progress(state);
        };
        let mut up = Uploader {
            settings,
            key: &key,
            reader: &mut reader,
            store,
            conn: &mut conn,
        };
        up.attempts(&mut done).await?;
        up.sightings(&mut done).await?;
        up.events(&mut done).await?;
        up.wifi(&mut done).await?;
        let uploaded = state.done;
        let downloaded = download::fleet(settings, &mut reader, store, &mut conn).await?;
        Ok(RoundStats {
            uploaded,
            downloaded,
        })
    }
    .await;
    let _ = conn.disconnect().await;
    let stats = result?;
    let now = crate::model::clock::Clock::system().now_ms();
    store
        .sync_marks(vec![SyncMark {
            name: marks::LAST_SUCCESS,
            value: now,
        }])
        .await
        .map_err(|e| SyncError::store(&e))?;
    Ok(stats)
}

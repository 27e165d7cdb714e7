//! How the request being answered arrived: over TLS, or in clear text. The server knows it per
//! connection and sets it around each request; the login's cookies are `Secure` only over TLS
//! (a browser drops a `Secure` cookie sent in clear), and every page served in clear says so,
//! because there the password and the session cross the network readable by anyone on it.

use std::future::Future;

tokio::task_local! {
    static PLAIN: bool;
}

/// Runs `answer` (one request's handling) knowing whether its connection is `plain`.
pub async fn within<F: Future>(plain: bool, answer: F) -> F::Output {
    PLAIN.scope(plain, answer).await
}

/// Runs `work` on a blocking thread, still knowing how the request came (a task-local does not
/// follow `spawn_blocking` by itself: the pages rendered there lost their clear-text warning).
pub async fn blocking<T, F>(work: F) -> Result<T, tokio::task::JoinError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let plain = is_plain();
    tokio::task::spawn_blocking(move || PLAIN.sync_scope(plain, work)).await
}

/// True when the request being answered came in clear text.
pub fn is_plain() -> bool {
    PLAIN.try_with(|p| *p).unwrap_or(false)
}

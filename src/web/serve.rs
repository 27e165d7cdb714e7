//! The HTTP server under the dashboard and the captive page, hardened where `axum::serve` is not
//! (issue 26): axum builds hyper without a timer, so a client that sends its headers a byte a
//! minute, or opens a connection and says nothing, held a socket and a task for ever, and 1 100
//! of them used up the unit's files. Here every connection has [`Limits::header_timeout`] to send
//! a request's headers (hyper's timer also covers the wait for the next request on a kept-alive
//! connection), and at most [`Limits::connections`] are open at once: when one more arrives, the
//! oldest connection with no request in flight is closed to make room (a flood of idle or
//! half-sent connections is always the oldest and the idlest), so a new visitor is answered at
//! once; only when every connection is busy is the newcomer turned away. With a TLS server
//! configuration, the handshake too must end within the header timeout.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

/// What one server allows.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections open at once.
    pub connections: usize,
    /// Time for a request's headers, and for the next request on an idle connection.
    pub header_timeout: Duration,
}

impl Limits {
    /// The dashboard: a few operators' browsers (its unit has 1 024 files).
    pub const DASHBOARD: Limits = Limits {
        connections: 256,
        header_timeout: Duration::from_secs(10),
    };
    /// The captive page: a crowd of phones, each with a few connections.
    pub const PORTAL: Limits = Limits {
        connections: 768,
        header_timeout: Duration::from_secs(10),
    };
}

/// An open connection, as the server keeps track of it.
struct Open {
    /// Requests being answered on it now.
    busy: Arc<AtomicUsize>,
    /// Closes it (the connection's task ends when this is sent or dropped).
    close: oneshot::Sender<()>,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Table {
    open: Mutex<VecDeque<Open>>,
}

impl Table {
    /// Makes room for one more within `limit`: forgets the ended, closes the oldest idle one.
    /// False when every connection is busy.
    fn admit(&self, limit: usize, new: Open) -> bool {
        let mut open = self.open.lock().expect("connection table");
        open.retain(|c| !c.close.is_closed());
        if open.len() >= limit {
            match open
                .iter()
                .position(|c| c.busy.load(Ordering::Relaxed) == 0)
            {
                Some(i) => drop(open.remove(i)),
                None => return false,
            }
        }
        open.push_back(new);
        true
    }
}

impl Limits {
    /// These limits for each of `servers` servers of one process, within what the process may
    /// open (RLIMIT_NOFILE), keeping 32 files for the log, the listeners and the rest: a unit's
    /// own limit is never the one that runs out.
    pub fn within_files(self, servers: usize) -> Limits {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills the struct it is given.
        let files = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
            usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX)
        } else {
            1024
        };
        Limits {
            connections: self
                .connections
                .min(files.saturating_sub(32) / servers.max(1))
                .max(1),
            ..self
        }
    }
}

/// Serves `router` on `listener` within `limits` (see [`Limits::within_files`]) until
/// `shutdown` completes; over TLS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let tls = tls.map(TlsAcceptor::from);
    let table = Arc::new(Table::default());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of files, or a connection reset before it was taken: go on serving.
                Err(e) => {
                    tracing::debug!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let busy = Arc::new(AtomicUsize::new(0));
        let (close, closed) = oneshot::channel();
        let open = Open {
            busy: busy.clone(),
            close,
        };
        if !table.admit(limits.connections, open) {
            continue; // every connection busy: this one is dropped, closed at once
        }
        let Ok(local) = stream.local_addr() else {
            continue; // already gone
        };
        let served = Served {
            peer,
            local: Local(local),
            router: router.clone(),
            limits,
            busy,
        };
        tokio::spawn(over(tls.clone(), stream, served, closed));
    }
}

/// The box's own address a connection came in to (a request extension): which link it used.
#[derive(Clone, Copy, Debug)]
pub struct Local(pub SocketAddr);

/// What a connection is served with.
struct Served {
    peer: SocketAddr,
    local: Local,
    router: Router,
    limits: Limits,
    busy: Arc<AtomicUsize>,
}

/// One connection, in clear or after its TLS handshake, until it ends or the server closes it.
async fn over(
    tls: Option<TlsAcceptor>,
    stream: tokio::net::TcpStream,
    served: Served,
    mut closed: oneshot::Receiver<()>,
) {
    let peer = served.peer;
    let Some(tls) = tls else {
        return connection(stream, served, true, closed).await;
    };
    let handshake = tokio::time::timeout(served.limits.header_timeout, tls.accept(stream));
    let done = tokio::select! {
        done = handshake => done,
        _ = &mut closed => return tracing::debug!(client = %peer, "handshake closed to make room"),
    };
    match done {
        Ok(Ok(stream)) => connection(stream, served, false, closed).await,
        Ok(Err(e)) => tracing::debug!(client = %peer, "TLS handshake: {e}"),
        Err(_) => tracing::debug!(client = %peer, "TLS handshake: too slow"),
    }
}

/// Serves requests on `stream` (in clear text when `plain`) until it ends or the server closes it.
async fn connection<S>(stream: S, served: Served, plain: bool, closed: oneshot::Receiver<()>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Served {
        peer,
        local,
        router,
        limits,
        busy,
    } = served;
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(local);
        let mut router = router.clone();
        let busy = busy.clone();
        busy.fetch_add(1, Ordering::Relaxed);
        async move {
            let answer = super::transport::within(plain, router.call(req)).await;
            busy.fetch_sub(1, Ordering::Relaxed);
            answer
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        served = conn => if let Err(e) = served {
            tracing::debug!(client = %peer, "connection: {e}");
        },
        _ = closed => tracing::debug!(client = %peer, "connection closed to make room"),
    }
}

/// A future that never completes: serve until the process ends.
pub async fn forever() {
    std::future::pending::<()>().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (Open, Arc<AtomicUsize>, oneshot::Receiver<()>) {
        let busy = Arc::new(AtomicUsize::new(0));
        let (close, closed) = oneshot::channel();
        (
            Open {
                busy: busy.clone(),
                close,
            },
            busy,
            closed,
        )
    }

    #[test]
    fn the_oldest_idle_connection_makes_room() {
        let table = Table::default();
        let (a, a_busy, mut a_closed) = open();
        let (b, _, mut b_closed) = open();
        a_busy.store(1, Ordering::Relaxed);
        assert!(table.admit(2, a) && table.admit(2, b));
        let (c, c_busy, _c_closed) = open();
        c_busy.store(1, Ordering::Relaxed);
        assert!(table.admit(2, c), "b, idle, makes room");
        use tokio::sync::oneshot::error::TryRecvError;
        assert_eq!(
            b_closed.try_recv(),
            Err(TryRecvError::Closed),
            "b is closed"
        );
        assert_eq!(
            a_closed.try_recv(),
            Err(TryRecvError::Empty),
            "a, busy, stays"
        );
        let (d, _, _d_closed) = open();
        assert!(
            !table.admit(2, d),
            "a and c busy: the newcomer is turned away"
        );
        a_busy.store(0, Ordering::Relaxed);
        let (e, _, _e_closed) = open();
        assert!(table.admit(2, e), "a, now idle, makes room");
    }
}

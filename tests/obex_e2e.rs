//! Our client against our server over an in-memory stream: the two halves must agree on every
//! byte, and the server's Android-like answers must reach the client as the right outcome.

use o4send::model::outcome::{AttemptResult, Outcome};
use o4send::obex::wire::code::{self, opcode};
use o4send::obex::wire::header::Header;
use o4send::obex::wire::{Framed, Request, Response};
use o4send::obex::{
    push, serve, AcceptAll, Decision, Object, Offer, Prompt, PushOptions, Received, ServerOptions,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A prompt that always gives the same decision and remembers the offers.
struct Fixed {
    decision: Decision,
    offers: Arc<Mutex<Vec<Offer>>>,
}

impl Prompt for Fixed {
    fn decide<'a>(
        &'a mut self,
        offer: &'a Offer,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + 'a>> {
        self.offers.lock().unwrap().push(offer.clone());
        let d = self.decision;
        Box::pin(async move { d })
    }
}

type ServerTask = JoinHandle<Result<Vec<Received>, String>>;

fn server(opts: ServerOptions, mut prompt: impl Prompt + 'static) -> (DuplexStream, ServerTask) {
    let (client_end, server_end) = tokio::io::duplex(64 * 1024);
    let task = tokio::spawn(async move {
        serve(server_end, &opts, &mut prompt)
            .await
            .map_err(|e| e.to_string())
    });
    (client_end, task)
}

fn fixed(decision: Decision) -> (Fixed, Arc<Mutex<Vec<Offer>>>) {
    let offers = Arc::default();
    let prompt = Fixed {
        decision,
        offers: Arc::clone(&offers),
    };
    (prompt, offers)
}

fn data(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

async fn push_to<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    name: &str,
    mime: &str,
    body: &[u8],
) -> AttemptResult {
    let (_tx, mut rx) = watch::channel(false);
    let object = Object { name, mime, body };
    push(stream, &object, &PushOptions::default(), &mut rx).await
}

#[tokio::test(start_paused = true)]
async fn accepted_object_arrives_byte_identical() {
    let (stream, task) = server(ServerOptions::default(), AcceptAll);
    let body = data(10_000);
    let r = push_to(stream, "Grüße 📎.png", "image/png", &body).await;
    assert_eq!(
        r,
        AttemptResult::new(Outcome::Accepted, Some(0xA0), "accepted", 10_000)
    );
    let got = task.await.unwrap().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].name, "Grüße 📎.png");
    assert_eq!(got[0].mime.as_deref(), Some("image/png"));
    assert!(got[0].body == body, "body differs");
}

#[tokio::test(start_paused = true)]
async fn large_object_takes_many_packets() {
    let (stream, task) = server(ServerOptions::default(), AcceptAll);
    let body = data(1_000_000);
    let r = push_to(stream, "big.bin", "application/octet-stream", &body).await;
    assert_eq!(r.outcome, Outcome::Accepted);
    assert_eq!(r.bytes, 1_000_000);
    let got = task.await.unwrap().unwrap();
    assert!(got[0].body == body, "body differs");
}

/// Records every byte written through it.
struct Tap<S> {
    inner: S,
    written: Arc<Mutex<Vec<u8>>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            self.written.lock().unwrap().extend_from_slice(&buf[..n]);
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Cuts a recorded byte stream into packet lengths by their length fields.
fn packet_lengths(mut bytes: &[u8]) -> Vec<usize> {
    let mut lens = Vec::new();
    while bytes.len() >= 3 {
        let len = usize::from(u16::from_be_bytes([bytes[1], bytes[2]]));
        lens.push(len);
        bytes = &bytes[len.min(bytes.len())..];
    }
    assert!(bytes.is_empty(), "trailing bytes");
    lens
}

#[tokio::test(start_paused = true)]
async fn minimum_packet_size_is_never_exceeded() {
    let opts = ServerOptions {
        max_packet: 255,
        ..ServerOptions::default()
    };
    let (stream, task) = server(opts, AcceptAll);
    let written = Arc::default();
    let tap = Tap {
        inner: stream,
        written: Arc::clone(&written),
    };
    let body = data(5000);
    let r = push_to(tap, "a.txt", "text/plain", &body).await;
    assert_eq!(r.outcome, Outcome::Accepted);
    let lens = packet_lengths(&written.lock().unwrap());
    assert!(lens.len() > 20, "{} packets", lens.len());
    assert!(lens.iter().all(|&l| l <= 255), "{lens:?}");
    let got = task.await.unwrap().unwrap();
    assert!(got[0].body == body, "body differs");
}

#[tokio::test(start_paused = true)]
async fn rejected_is_declined() {
    let (prompt, offers) = fixed(Decision::Reject(code::FORBIDDEN));
    let (stream, task) = server(ServerOptions::default(), prompt);
    let r = push_to(stream, "a.txt", "text/plain", b"hello").await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Declined, Some(0xC3)));
    assert!(task.await.unwrap().unwrap().is_empty());
    let offers = offers.lock().unwrap();
    assert_eq!(
        offers[..],
        [Offer {
            name: Some("a.txt".into()),
            mime: Some("text/plain".into()),
            length: Some(5)
        }]
    );
}

#[tokio::test(start_paused = true)]
async fn silent_prompt_is_ignored_after_abort() {
    let (prompt, _) = fixed(Decision::Silent);
    let (stream, task) = server(ServerOptions::default(), prompt);
    let start = tokio::time::Instant::now();
    let r = push_to(stream, "a.txt", "text/plain", b"hello").await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Ignored, None));
    // The server answered the ABORT at once: no extra packet timeout.
    assert!(start.elapsed() < Duration::from_secs(61));
    assert!(task.await.unwrap().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn drop_after_is_link_loss() {
    let opts = ServerOptions {
        max_packet: 255,
        ..ServerOptions::default()
    };
    let (prompt, _) = fixed(Decision::DropAfter(1000));
    let (stream, task) = server(opts, prompt);
    let r = push_to(stream, "a.bin", "image/png", &data(5000)).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Failed, None));
    assert!(r.reason.starts_with("link lost after"), "{}", r.reason);
    assert!(r.bytes > 0 && r.bytes < 1000, "{}", r.bytes);
    assert!(task.await.unwrap().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn type_not_accepted_is_unsupported() {
    let opts = ServerOptions {
        accepted_types: Some(vec!["image/*".into(), "text/x-vcard".into()]),
        ..ServerOptions::default()
    };
    let (stream, task) = server(opts.clone(), AcceptAll);
    let r = push_to(stream, "a.txt", "text/plain", b"x").await;
    assert_eq!(
        (r.outcome, r.raw_code),
        (Outcome::UnsupportedType, Some(0xCF))
    );
    assert!(task.await.unwrap().unwrap().is_empty());

    let (stream, task) = server(opts, AcceptAll);
    let r = push_to(stream, "a.jpg", "image/jpeg", b"x").await;
    assert_eq!(r.outcome, Outcome::Accepted);
    assert_eq!(task.await.unwrap().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn zero_length_is_length_required() {
    let (stream, _) = server(ServerOptions::default(), AcceptAll);
    let r = push_to(stream, "a.txt", "text/plain", b"").await;
    assert_eq!(
        (r.outcome, r.raw_code),
        (Outcome::UnsupportedType, Some(0xCB))
    );

    let lax = ServerOptions {
        android_rules: false,
        ..ServerOptions::default()
    };
    let (stream, task) = server(lax, AcceptAll);
    let r = push_to(stream, "a.txt", "text/plain", b"").await;
    assert_eq!(r.outcome, Outcome::Accepted);
    assert_eq!(task.await.unwrap().unwrap()[0].body, b"");
}

#[tokio::test(start_paused = true)]
async fn too_large_is_refused() {
    let opts = ServerOptions {
        max_object: 100,
        ..ServerOptions::default()
    };
    let (stream, _) = server(opts, AcceptAll);
    let r = push_to(stream, "a.txt", "text/plain", &data(101)).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Failed, Some(0xCD)));
    assert!(r.reason.contains("0xCD"), "{}", r.reason);
}

#[tokio::test(start_paused = true)]
async fn two_objects_in_one_session_would_both_arrive() {
    // A PUT after a completed PUT starts a new object.
    let (stream, task) = server(ServerOptions::default(), AcceptAll);
    let mut link = Framed::new(stream);
    let mut ask = async |req: Request| -> u8 {
        link.write_packet(&req.encode().unwrap()).await.unwrap();
        let p = link.read_packet(0xFFFF).await.unwrap();
        p[0]
    };
    assert_eq!(ask(Request::connect(0xFFFF, vec![])).await, code::SUCCESS);
    for name in ["one", "two"] {
        let put = Request::new(
            opcode::PUT_FINAL,
            vec![
                Header::name(name),
                Header::mime("text/plain"),
                Header::length(1),
                Header::end_of_body(vec![b'x']),
            ],
        );
        assert_eq!(ask(put).await, code::SUCCESS);
    }
    assert_eq!(
        ask(Request::new(opcode::DISCONNECT, vec![])).await,
        code::SUCCESS
    );
    let got = task.await.unwrap().unwrap();
    let names: Vec<&str> = got.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["one", "two"]);
}

/// Sends raw requests to a server and returns the response codes.
async fn codes_for(opts: ServerOptions, requests: Vec<Request>) -> (Vec<u8>, ServerTask) {
    let (stream, task) = server(opts, AcceptAll);
    let mut link = Framed::new(stream);
    let mut codes = Vec::new();
    for req in requests {
        link.write_packet(&req.encode().unwrap()).await.unwrap();
        let p = link.read_packet(0xFFFF).await.unwrap();
        let answers_connect = req.opcode == opcode::CONNECT;
        codes.push(Response::parse(&p, answers_connect).unwrap().code);
    }
    (codes, task)
}

fn put_final(headers: Vec<Header>) -> Request {
    Request::new(opcode::PUT_FINAL, headers)
}

#[tokio::test(start_paused = true)]
async fn android_header_checks() {
    let typed = ServerOptions {
        accepted_types: Some(vec!["image/".into()]),
        ..ServerOptions::default()
    };
    let connect = || Request::connect(0xFFFF, vec![]);
    let cases = [
        (
            ServerOptions::default(),
            Request::connect(0xFFFF, vec![Header::target(vec![0xF9; 16])]),
            code::NOT_ACCEPTABLE,
        ),
        (
            ServerOptions::default(),
            put_final(vec![Header::length(1), Header::end_of_body(vec![1])]),
            code::BAD_REQUEST,
        ),
        (
            ServerOptions::default(),
            put_final(vec![Header::name("a"), Header::end_of_body(vec![1])]),
            code::LENGTH_REQUIRED,
        ),
        (
            typed.clone(),
            put_final(vec![
                Header::name("a"),
                Header::length(1),
                Header::end_of_body(vec![1]),
            ]),
            code::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            typed,
            put_final(vec![
                Header::name("a"),
                Header::mime("image/gif"),
                Header::length(1),
                Header::end_of_body(vec![1]),
            ]),
            code::SUCCESS,
        ),
    ];
    for (opts, req, want) in cases {
        let (codes, _) = codes_for(opts, vec![connect(), req.clone()]).await;
        // The second request is the one under test (for Target, a second CONNECT).
        assert_eq!(codes[1], want, "{req:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn abort_mid_put_discards_the_object() {
    let first = Request::new(
        opcode::PUT,
        vec![
            Header::name("a"),
            Header::mime("text/plain"),
            Header::length(4),
            Header::body(vec![1, 2]),
        ],
    );
    let reqs = vec![
        Request::connect(0xFFFF, vec![]),
        first,
        Request::new(opcode::ABORT, vec![]),
        Request::new(opcode::DISCONNECT, vec![]),
    ];
    let (codes, task) = codes_for(ServerOptions::default(), reqs).await;
    assert_eq!(
        codes,
        [code::SUCCESS, code::CONTINUE, code::SUCCESS, code::SUCCESS]
    );
    assert!(task.await.unwrap().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn unsupported_and_malformed_requests_get_error_codes() {
    let reqs = vec![
        Request::connect(0xFFFF, vec![]),
        Request::new(opcode::GET_FINAL, vec![Header::name("x")]),
        Request::new(opcode::SETPATH, vec![]),
    ];
    let (codes, _) = codes_for(ServerOptions::default(), reqs).await;
    assert_eq!(
        codes,
        [code::SUCCESS, code::NOT_IMPLEMENTED, code::BAD_REQUEST]
    );
}

#[tokio::test(start_paused = true)]
async fn server_survives_a_peer_closing_mid_packet() {
    let (stream, task) = server(ServerOptions::default(), AcceptAll);
    let mut link = Framed::new(stream);
    link.write_packet(&[0x80, 0x00, 0x07, 0x10]).await.unwrap();
    drop(link);
    let err = task.await.unwrap().unwrap_err();
    assert!(err.contains("mid-packet after 4 of 7 bytes"), "{err}");
}

//! The push client against scripted peers: every answer, non-answer and malformed answer a
//! phone can give must end in the right outcome, within the timeouts, without a panic.

use o4send::model::outcome::{AttemptResult, Outcome};
use o4send::obex::wire::code;
use o4send::obex::wire::code::opcode;
use o4send::obex::wire::header::{self, id, Header};
use o4send::obex::wire::{ConnectFields, Framed, Request, Response};
use o4send::obex::{push, Object, PushOptions};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncWriteExt, DuplexStream};
use tokio::sync::watch;
use tokio::time::{sleep, Instant};

/// What the scripted peer does with one request.
enum Act {
    /// Write these pieces, pausing between them, after waiting `delay`.
    Send {
        delay: Duration,
        pieces: Vec<Vec<u8>>,
    },
    /// Say nothing and keep reading.
    Silent,
    /// Close the stream.
    Close,
    /// Write these bytes, then close the stream.
    SendClose(Vec<u8>),
}

fn send(bytes: Vec<u8>) -> Act {
    Act::Send {
        delay: Duration::ZERO,
        pieces: vec![bytes],
    }
}

fn resp(code: u8) -> Vec<u8> {
    Response::bare(code).encode().unwrap()
}

fn connect_ok(max: u16) -> Vec<u8> {
    connect_reply(max, Vec::new())
}

fn connect_reply(max: u16, headers: Vec<Header>) -> Vec<u8> {
    Response {
        code: code::SUCCESS,
        connect: Some(ConnectFields::ours(max)),
        headers,
    }
    .encode()
    .unwrap()
}

type Seen = Arc<Mutex<Vec<Vec<u8>>>>;

/// Starts a peer that answers each request by `script`; returns the client's end of the
/// stream and the raw packets the peer saw.
fn peer(mut script: impl FnMut(&Request) -> Act + Send + 'static) -> (DuplexStream, Seen) {
    let (client_end, server_end) = tokio::io::duplex(1 << 20);
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        let mut link = Framed::new(server_end);
        while let Ok(packet) = link.read_packet(0xFFFF).await {
            log.lock().unwrap().push(packet.clone());
            let request = Request::parse(&packet).expect("client sent a malformed request");
            match script(&request) {
                Act::Send { delay, pieces } => {
                    sleep(delay).await;
                    let mut io = link.into_inner();
                    for p in pieces {
                        if io.write_all(&p).await.is_err() {
                            return;
                        }
                        sleep(Duration::from_millis(1)).await;
                    }
                    link = Framed::new(io);
                }
                Act::Silent => {}
                Act::Close => return,
                Act::SendClose(bytes) => {
                    let _ = link.write_packet(&bytes).await;
                    return;
                }
            }
        }
    });
    (client_end, seen)
}

/// A phone that accepts everything, with the given max packet length.
fn accepting(max: u16) -> impl FnMut(&Request) -> Act + Send + 'static {
    move |r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(max)),
        opcode::PUT => send(resp(code::CONTINUE)),
        _ => send(resp(code::SUCCESS)),
    }
}

/// Answers requests with these responses in order, each cut at global offset `cut` of their
/// concatenation (so every byte boundary can be tried).
fn in_order(responses: Vec<Vec<u8>>, cut: Option<usize>) -> impl FnMut(&Request) -> Act {
    let mut start = 0usize;
    let mut queue: VecDeque<Vec<u8>> = responses.into();
    move |_r: &Request| {
        let Some(bytes) = queue.pop_front() else {
            return Act::Close;
        };
        let end = start + bytes.len();
        let pieces = match cut {
            Some(c) if c > start && c < end => {
                vec![bytes[..c - start].to_vec(), bytes[c - start..].to_vec()]
            }
            None => bytes.iter().map(|&b| vec![b]).collect(),
            _ => vec![bytes],
        };
        start = end;
        Act::Send {
            delay: Duration::ZERO,
            pieces,
        }
    }
}

fn opts() -> PushOptions {
    PushOptions::default()
}

fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

async fn run(stream: DuplexStream, body: &[u8], opts: &PushOptions) -> AttemptResult {
    let (_tx, mut rx) = watch::channel(false);
    let object = Object {
        name: "flyer.png",
        mime: "image/png",
        body,
    };
    push(stream, &object, opts, &mut rx).await
}

fn requests(seen: &Seen) -> Vec<Request> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|p| Request::parse(p).unwrap())
        .collect()
}

fn opcodes(seen: &Seen) -> Vec<u8> {
    requests(seen).iter().map(|r| r.opcode).collect()
}

#[tokio::test(start_paused = true)]
async fn small_object_is_accepted() {
    let (stream, seen) = peer(accepting(0xFFFF));
    let data = body(100);
    let r = run(stream, &data, &opts()).await;
    assert_eq!(
        r,
        AttemptResult::new(Outcome::Accepted, Some(0xA0), "accepted", 100)
    );
    let reqs = requests(&seen);
    assert_eq!(
        opcodes(&seen),
        [opcode::CONNECT, opcode::PUT_FINAL, opcode::DISCONNECT]
    );
    assert!(reqs[0].headers.is_empty(), "CONNECT must carry no Target");
    assert_eq!(reqs[0].connect, Some(ConnectFields::ours(0xFFFF)));
    let put = &reqs[1].headers;
    assert_eq!(
        header::find(put, id::NAME).unwrap().as_text(),
        Some("flyer.png")
    );
    assert_eq!(
        header::find(put, id::TYPE).unwrap().as_bytes(),
        Some(&b"image/png\0"[..])
    );
    assert_eq!(header::find(put, id::LENGTH).unwrap().as_u32(), Some(100));
    assert_eq!(
        header::find(put, id::END_OF_BODY).unwrap().as_bytes(),
        Some(&data[..])
    );
}

#[tokio::test(start_paused = true)]
async fn empty_object_is_one_put_final_with_empty_end_of_body() {
    let (stream, seen) = peer(accepting(0xFFFF));
    let r = run(stream, &[], &opts()).await;
    assert_eq!(r.outcome, Outcome::Accepted);
    let reqs = requests(&seen);
    assert_eq!(reqs[1].opcode, opcode::PUT_FINAL);
    assert_eq!(
        header::find(&reqs[1].headers, id::END_OF_BODY)
            .unwrap()
            .as_bytes(),
        Some(&[][..])
    );
}

/// The outcome the brief prescribes for a code answering the (only, final) PUT packet soon.
fn expected(c: u8) -> Outcome {
    match c {
        0xA0..=0xA2 => Outcome::Accepted,
        0xC3 => Outcome::Declined,
        0xC0 | 0xCB | 0xCF => Outcome::UnsupportedType,
        _ => Outcome::Failed,
    }
}

#[tokio::test(start_paused = true)]
async fn every_response_code_maps_to_its_outcome() {
    for c in (0x90..=0xFFu8).chain([0x10, 0x20]) {
        let (stream, _) = peer(move |r: &Request| match r.opcode {
            opcode::CONNECT => send(connect_ok(0xFFFF)),
            opcode::PUT_FINAL => send(resp(c)),
            _ => send(resp(code::SUCCESS)),
        });
        let r = run(stream, b"hello", &opts()).await;
        assert_eq!(r.outcome, expected(c), "code 0x{c:02X}: {r:?}");
        assert_eq!(r.raw_code, Some(c), "code 0x{c:02X}");
        if r.outcome != Outcome::Accepted {
            assert!(r.reason.contains(&code::describe(c)), "{}", r.reason);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn failed_reason_names_the_code() {
    let (stream, _) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(0xFFFF)),
        _ => send(resp(0xD0)),
    });
    let r = run(stream, b"x", &opts()).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        r.reason.contains("0xD0 Internal Server Error"),
        "{}",
        r.reason
    );
}

#[tokio::test(start_paused = true)]
async fn continue_to_the_final_packet_and_success_too_early_are_failures() {
    let (stream, _) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(0xFFFF)),
        _ => send(resp(code::CONTINUE)),
    });
    let r = run(stream, b"x", &opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Failed, Some(0x90)));

    let (stream, _) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(255)),
        _ => send(resp(code::SUCCESS)),
    });
    let r = run(stream, &body(1000), &opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Failed, Some(0xA0)));
    assert!(r.reason.contains("before End-of-Body"), "{}", r.reason);
}

#[tokio::test(start_paused = true)]
async fn connect_refusals() {
    let (stream, _) = peer(|_: &Request| send(resp(code::FORBIDDEN)));
    let r = run(stream, b"x", &opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Declined, Some(0xC3)));

    let (stream, _) = peer(|_: &Request| send(resp(0xC6)));
    let r = run(stream, b"x", &opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Failed, Some(0xC6)));
    assert!(r.reason.contains("0xC6 Not Acceptable"), "{}", r.reason);
}

#[tokio::test(start_paused = true)]
async fn peer_max_below_255_is_a_protocol_error() {
    let (stream, seen) = peer(accepting(254));
    let r = run(stream, b"x", &opts()).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        r.reason.contains("254 is below the minimum 255"),
        "{}",
        r.reason
    );
    assert_eq!(opcodes(&seen), [opcode::CONNECT]);
}

#[tokio::test(start_paused = true)]
async fn connection_id_is_echoed() {
    let (stream, seen) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_reply(300, vec![Header::connection_id(0xABCD)])),
        opcode::PUT => send(resp(code::CONTINUE)),
        _ => send(resp(code::SUCCESS)),
    });
    let r = run(stream, &body(1000), &opts()).await;
    assert_eq!(r.outcome, Outcome::Accepted);
    // First in the first packet of each request (the PUT, the DISCONNECT), and not repeated in
    // the PUT's later packets: as obexd's gobex does, 5 bytes less per packet.
    let all = requests(&seen);
    let puts: Vec<_> = all
        .iter()
        .filter(|r| r.opcode & 0x7F == opcode::PUT)
        .collect();
    assert!(puts.len() >= 3, "several PUT packets: {}", puts.len());
    assert_eq!(puts[0].headers[0], Header::connection_id(0xABCD));
    for later in &puts[1..] {
        assert!(later
            .headers
            .iter()
            .all(|h| h.id() != Header::connection_id(0).id()));
    }
    let last = all.last().unwrap();
    assert_eq!(last.opcode, opcode::DISCONNECT);
    assert_eq!(last.headers[0], Header::connection_id(0xABCD));
}

#[tokio::test(start_paused = true)]
async fn minimum_max_packet_is_respected() {
    let (stream, seen) = peer(accepting(255));
    let data = body(5000);
    let r = run(stream, &data, &opts()).await;
    assert_eq!(r.outcome, Outcome::Accepted);
    assert_eq!(r.bytes, 5000);
    let mut got = Vec::new();
    for p in seen.lock().unwrap().iter() {
        assert!(p.len() <= 255, "packet of {} bytes", p.len());
    }
    for req in requests(&seen) {
        for h in &req.headers {
            if h.id() == id::BODY || h.id() == id::END_OF_BODY {
                got.extend_from_slice(h.as_bytes().unwrap());
            }
        }
    }
    assert_eq!(got, data);
}

/// Runs one scripted exchange for every split point of the peer's whole reply stream, and
/// once byte by byte; every run must give `want`.
async fn same_for_every_split(responses: Vec<Vec<u8>>, data: &[u8], want: &AttemptResult) {
    let total: usize = responses.iter().map(Vec::len).sum();
    let cuts = (0..=total).map(Some).chain([None]);
    for cut in cuts {
        let (stream, _) = peer(in_order(responses.clone(), cut));
        let r = run(stream, data, &opts()).await;
        assert_eq!(&r, want, "cut {cut:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn accepted_whatever_the_reply_split() {
    let responses = vec![
        connect_reply(0xFFFF, vec![Header::connection_id(5)]),
        resp(code::SUCCESS),
        resp(code::SUCCESS),
    ];
    let want = AttemptResult::new(Outcome::Accepted, Some(0xA0), "accepted", 10);
    same_for_every_split(responses, &body(10), &want).await;
}

#[tokio::test(start_paused = true)]
async fn multi_packet_accepted_whatever_the_reply_split() {
    let responses = vec![
        connect_ok(255),
        resp(code::CONTINUE),
        resp(code::CONTINUE),
        resp(code::SUCCESS),
        resp(code::SUCCESS),
    ];
    let want = AttemptResult::new(Outcome::Accepted, Some(0xA0), "accepted", 600);
    same_for_every_split(responses, &body(600), &want).await;
}

#[tokio::test(start_paused = true)]
async fn declined_whatever_the_reply_split() {
    let responses = vec![
        connect_ok(0xFFFF),
        resp(code::FORBIDDEN),
        resp(code::SUCCESS),
    ];
    let want = AttemptResult::new(
        Outcome::Declined,
        Some(0xC3),
        "0xC3 Forbidden: the user declined",
        0,
    );
    same_for_every_split(responses, &body(10), &want).await;
}

#[tokio::test(start_paused = true)]
async fn silent_at_connect_is_unreachable() {
    let (stream, _) = peer(|_: &Request| Act::Silent);
    let start = Instant::now();
    let r = run(stream, b"x", &opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Unreachable, None));
    assert!(r.reason.contains("CONNECT within 20s"), "{}", r.reason);
    assert!(start.elapsed() >= Duration::from_secs(20));
    assert!(start.elapsed() < Duration::from_secs(21));
}

#[tokio::test(start_paused = true)]
async fn silent_at_first_put_sends_abort_and_is_ignored() {
    let (stream, seen) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(0xFFFF)),
        opcode::ABORT => send(resp(code::SUCCESS)),
        _ => Act::Silent,
    });
    let start = Instant::now();
    let r = run(stream, b"x", &opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Ignored, None));
    assert!(r.reason.contains("timeout"), "{}", r.reason);
    assert_eq!(
        opcodes(&seen),
        [opcode::CONNECT, opcode::PUT_FINAL, opcode::ABORT]
    );
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(60) && waited < Duration::from_secs(61));
}

#[tokio::test(start_paused = true)]
async fn silent_at_first_put_and_at_abort_still_ends() {
    let (stream, seen) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(0xFFFF)),
        _ => Act::Silent,
    });
    let start = Instant::now();
    let r = run(stream, b"x", &opts()).await;
    assert_eq!(r.outcome, Outcome::Ignored);
    assert_eq!(opcodes(&seen).last(), Some(&opcode::ABORT));
    assert!(start.elapsed() <= Duration::from_secs(60 + 15 + 1));
}

#[tokio::test(start_paused = true)]
async fn silent_mid_transfer_fails_after_abort() {
    let mut puts = 0;
    let (stream, seen) = peer(move |r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(255)),
        opcode::ABORT => send(resp(code::SUCCESS)),
        _ => {
            puts += 1;
            if puts == 1 {
                send(resp(code::CONTINUE))
            } else {
                Act::Silent
            }
        }
    });
    let r = run(stream, &body(1000), &opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Failed, None));
    assert!(r.reason.contains("packet timeout"), "{}", r.reason);
    assert!(r.bytes > 0 && r.bytes < 1000, "{}", r.bytes);
    assert_eq!(opcodes(&seen).last(), Some(&opcode::ABORT));
}

#[tokio::test(start_paused = true)]
async fn forbidden_after_ignored_after_is_ignored() {
    let (stream, _) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(0xFFFF)),
        opcode::PUT_FINAL => Act::Send {
            delay: Duration::from_secs(50),
            pieces: vec![resp(code::FORBIDDEN)],
        },
        _ => send(resp(code::SUCCESS)),
    });
    let r = run(stream, b"x", &opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Ignored, Some(0xC3)));
    assert!(r.reason.contains("prompt expired"), "{}", r.reason);
}

#[tokio::test(start_paused = true)]
async fn forbidden_before_ignored_after_is_declined() {
    let (stream, _) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(0xFFFF)),
        opcode::PUT_FINAL => Act::Send {
            delay: Duration::from_secs(30),
            pieces: vec![resp(code::FORBIDDEN)],
        },
        _ => send(resp(code::SUCCESS)),
    });
    let r = run(stream, b"x", &opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Declined, Some(0xC3)));

    let (stream, _) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(0xFFFF)),
        opcode::PUT_FINAL => Act::Send {
            delay: Duration::from_secs(50),
            pieces: vec![resp(code::FORBIDDEN)],
        },
        _ => send(resp(code::SUCCESS)),
    });
    let never = PushOptions {
        ignored_after: None,
        ..opts()
    };
    let r = run(stream, b"x", &never).await;
    assert_eq!(r.outcome, Outcome::Declined);
}

#[tokio::test(start_paused = true)]
async fn cancel_mid_put_sends_abort() {
    let (stream, seen) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(0xFFFF)),
        opcode::ABORT => send(resp(code::SUCCESS)),
        _ => Act::Silent,
    });
    let (tx, mut rx) = watch::channel(false);
    tokio::spawn(async move {
        sleep(Duration::from_secs(5)).await;
        tx.send(true).unwrap();
        sleep(Duration::from_secs(1000)).await;
    });
    let start = Instant::now();
    let object = Object {
        name: "a",
        mime: "text/plain",
        body: b"abc",
    };
    let r = push(stream, &object, &opts(), &mut rx).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Failed, None));
    assert_eq!(r.reason, "aborted: shutting down");
    assert_eq!(
        opcodes(&seen),
        [opcode::CONNECT, opcode::PUT_FINAL, opcode::ABORT]
    );
    assert!(start.elapsed() < Duration::from_secs(6));
}

#[tokio::test(start_paused = true)]
async fn dropped_cancel_sender_never_cancels() {
    let (stream, _) = peer(accepting(0xFFFF));
    let (tx, mut rx) = watch::channel(false);
    drop(tx);
    let object = Object {
        name: "a",
        mime: "text/plain",
        body: b"abc",
    };
    let r = push(stream, &object, &opts(), &mut rx).await;
    assert_eq!(r.outcome, Outcome::Accepted);
}

#[tokio::test(start_paused = true)]
async fn already_cancelled_does_nothing() {
    let (stream, seen) = peer(accepting(0xFFFF));
    let (_tx, mut rx) = watch::channel(true);
    let object = Object {
        name: "a",
        mime: "text/plain",
        body: b"abc",
    };
    let r = push(stream, &object, &opts(), &mut rx).await;
    assert_eq!(r.reason, "aborted: shutting down");
    sleep(Duration::from_millis(10)).await;
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn garbage_headers_in_reply() {
    let (stream, _) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(0xFFFF)),
        _ => send(vec![0xA0, 0, 6, 0x48, 0, 9]),
    });
    let r = run(stream, b"x", &opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Failed, None));
    assert!(r.reason.contains("malformed reply to PUT"), "{}", r.reason);
    assert!(r.reason.contains("truncated"), "{}", r.reason);
}

#[tokio::test(start_paused = true)]
async fn garbage_text_reply() {
    let (stream, _) = peer(|_: &Request| send(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()));
    let small = PushOptions {
        max_packet: 1024,
        ..opts()
    };
    let r = run(stream, b"x", &small).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        r.reason.contains("exceeds the maximum packet length 1024"),
        "{}",
        r.reason
    );

    let (stream, _) = peer(|_: &Request| send(vec![0xA0, 0x00, 0x04, 0x10]));
    let r = run(stream, b"x", &opts()).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        r.reason.contains("malformed reply to CONNECT"),
        "{}",
        r.reason
    );
    assert!(r.reason.contains("lacks its fixed fields"), "{}", r.reason);
}

#[tokio::test(start_paused = true)]
async fn garbage_then_close() {
    let (stream, _) = peer(|_: &Request| Act::SendClose(vec![0x12, 0x34, 0x56, 0x78]));
    let r = run(stream, b"x", &opts()).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        r.reason.contains("mid-packet after 4 of 13398 bytes"),
        "{}",
        r.reason
    );
}

#[tokio::test(start_paused = true)]
async fn length_field_below_three() {
    let (stream, _) = peer(|_: &Request| send(vec![0xA0, 0x00, 0x02]));
    let r = run(stream, b"x", &opts()).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r.reason.contains("below the minimum of 3"), "{}", r.reason);
}

#[tokio::test(start_paused = true)]
async fn length_field_above_our_max() {
    let (stream, _) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(0xFFFF)),
        _ => send(vec![0xA0, 0x02, 0x01]),
    });
    let small = PushOptions {
        max_packet: 512,
        ..opts()
    };
    let r = run(stream, b"x", &small).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        r.reason
            .contains("513 exceeds the maximum packet length 512"),
        "{}",
        r.reason
    );
}

#[tokio::test(start_paused = true)]
async fn close_mid_packet_at_put() {
    let (stream, _) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(0xFFFF)),
        _ => Act::SendClose(vec![0xA0, 0x00, 0x05]),
    });
    let r = run(stream, b"x", &opts()).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        r.reason.starts_with("link lost after 0 bytes"),
        "{}",
        r.reason
    );
    assert!(
        r.reason.contains("mid-packet after 3 of 5 bytes"),
        "{}",
        r.reason
    );
}

#[tokio::test(start_paused = true)]
async fn close_mid_packet_is_link_loss() {
    let (client_end, mut server_end) = tokio::io::duplex(4096);
    tokio::spawn(async move {
        let mut buf = [0u8; 64];
        let _ = tokio::io::AsyncReadExt::read(&mut server_end, &mut buf).await;
        server_end
            .write_all(&[0xA0, 0x00, 0x07, 0x10])
            .await
            .unwrap();
        // dropping server_end closes the stream mid-packet
    });
    let r = run(client_end, b"x", &opts()).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        r.reason.starts_with("link lost after 0 bytes"),
        "{}",
        r.reason
    );
    assert!(
        r.reason.contains("mid-packet after 4 of 7 bytes"),
        "{}",
        r.reason
    );
}

#[tokio::test(start_paused = true)]
async fn eof_mid_transfer_is_link_loss_with_byte_count() {
    let mut puts = 0;
    let (stream, _) = peer(move |r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(255)),
        _ => {
            puts += 1;
            if puts <= 2 {
                send(resp(code::CONTINUE))
            } else {
                Act::Close
            }
        }
    });
    let r = run(stream, &body(2000), &opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Failed, None));
    assert!(
        r.reason
            .starts_with(&format!("link lost after {} bytes", r.bytes)),
        "{}",
        r.reason
    );
    assert!(r.bytes > 0);
}

#[tokio::test(start_paused = true)]
async fn name_too_long_for_minimum_packet_fails_cleanly() {
    let (stream, _) = peer(accepting(255));
    let long = "n".repeat(200);
    let (_tx, mut rx) = watch::channel(false);
    let object = Object {
        name: &long,
        mime: "text/plain",
        body: b"abc",
    };
    let r = push(stream, &object, &opts(), &mut rx).await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        r.reason
            .contains("do not fit the negotiated packet size 255"),
        "{}",
        r.reason
    );
}

/// A phone that stops reading while its user decides (flow control holds our write), then
/// reads the whole PUT and accepts.
fn slow_reader(pause: Duration) -> DuplexStream {
    let (client_end, server_end) = tokio::io::duplex(1024);
    tokio::spawn(async move {
        let mut link = Framed::new(server_end);
        let _connect = link.read_packet(0xFFFF).await.unwrap();
        link.write_packet(&connect_ok(0xFFFF)).await.unwrap();
        sleep(pause).await;
        while let Ok(p) = link.read_packet(0xFFFF).await {
            let reply = match p[0] {
                opcode::PUT => code::CONTINUE,
                _ => code::SUCCESS,
            };
            if link.write_packet(&resp(reply)).await.is_err() {
                return;
            }
        }
    });
    client_end
}

#[tokio::test(start_paused = true)]
async fn write_held_by_a_prompting_phone_counts_against_the_decision_timeout() {
    let r = run(slow_reader(Duration::from_secs(30)), &body(20_000), &opts()).await;
    assert_eq!(r.outcome, Outcome::Accepted, "{r:?}");

    let start = Instant::now();
    let r = run(
        slow_reader(Duration::from_secs(500)),
        &body(20_000),
        &opts(),
    )
    .await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Ignored, None), "{r:?}");
    assert!(start.elapsed() < Duration::from_secs(60 + 2 * 15 + 1));
}

#[tokio::test(start_paused = true)]
async fn cancel_during_a_held_write_ends_at_once() {
    let (tx, mut rx) = watch::channel(false);
    tokio::spawn(async move {
        sleep(Duration::from_secs(3)).await;
        tx.send(true).unwrap();
        sleep(Duration::from_secs(1000)).await;
    });
    let data = body(20_000);
    let object = Object {
        name: "a",
        mime: "text/plain",
        body: &data,
    };
    let start = Instant::now();
    let r = push(
        slow_reader(Duration::from_secs(500)),
        &object,
        &opts(),
        &mut rx,
    )
    .await;
    assert_eq!(r.reason, "aborted: shutting down");
    assert!(start.elapsed() < Duration::from_secs(4));
}

#[tokio::test(start_paused = true)]
async fn hang_up_while_the_user_decides_is_ignored() {
    // The first of several PUT packets is out: the phone is asking its user. A link that dies
    // now may have shown the prompt, so the attempt is an answer (ignored), not a retry.
    let (stream, _) = peer(|r: &Request| match r.opcode {
        opcode::CONNECT => send(connect_ok(255)),
        _ => Act::Close,
    });
    let r = run(stream, &body(2000), &opts()).await;
    assert_eq!(
        (r.outcome, r.raw_code, r.bytes),
        (Outcome::Ignored, None, 0)
    );
    assert!(
        r.reason
            .starts_with("link lost while the phone was asking its user"),
        "{}",
        r.reason
    );
}

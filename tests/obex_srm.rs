//! Single Response Mode (GOEP 2.0) end to end: our client against our server, against scripted
//! peers that enable SRM and then misbehave, and over TCP. Every push must end in the outcome it
//! would have had in stop-and-wait; only the number of round trips may differ.

use o4send::model::outcome::{AttemptResult, Outcome};
use o4send::obex::srm;
use o4send::obex::wire::code::{self, opcode};
use o4send::obex::wire::header::{self, id, Header};
use o4send::obex::wire::{ConnectFields, Framed, Request, Response};
use o4send::obex::{
    push_counted, serve, AcceptAll, Always, Decision, Object, Offer, Prompt, PushOptions,
    PushStats, Received, ServerOptions, Transport,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep, Instant};

fn data(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x2545_F491;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Options of a push that asks for SRM, with short timeouts.
fn srm_opts() -> PushOptions {
    PushOptions {
        packet_timeout: Duration::from_secs(15),
        ..PushOptions::default().over(Transport::L2capErtm { mtu: 0xFFFF })
    }
}

async fn push_over<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    body: &[u8],
    opts: &PushOptions,
) -> (AttemptResult, PushStats) {
    let (_tx, mut rx) = watch::channel(false);
    let object = Object {
        name: "flyer.png",
        mime: "image/png",
        body,
    };
    push_counted(stream, &object, opts, &mut rx).await
}

type ServerTask = JoinHandle<Result<Vec<Received>, String>>;

/// Our server on the far end of a duplex pipe of `pipe` bytes.
fn server(
    opts: ServerOptions,
    mut prompt: impl Prompt + 'static,
    pipe: usize,
) -> (DuplexStream, ServerTask) {
    let (client_end, server_end) = tokio::io::duplex(pipe);
    let task = tokio::spawn(async move {
        serve(server_end, &opts, &mut prompt)
            .await
            .map_err(|e| e.to_string())
    });
    (client_end, task)
}

fn srm_server(max_packet: u16) -> ServerOptions {
    ServerOptions {
        max_packet,
        srm: true,
        ..ServerOptions::default()
    }
}

#[tokio::test(start_paused = true)]
async fn srm_push_streams_with_two_put_round_trips_less_than_stop_and_wait() {
    let body = data(1 << 20);
    let (stream, task) = server(srm_server(0x8000), AcceptAll, 64 * 1024);
    let (r, srm_stats) = push_over(stream, &body, &srm_opts()).await;
    assert_eq!(r.outcome, Outcome::Accepted, "{r:?}");
    assert_eq!(r.bytes, body.len() as u64);
    assert!(task.await.unwrap().unwrap()[0].body == body, "body differs");
    assert!(srm_stats.srm);
    // CONNECT, the first PUT (the decision), the final PUT, DISCONNECT.
    assert_eq!(srm_stats.round_trips, 4, "{srm_stats:?}");

    let (stream, task) = server(srm_server(0x8000), AcceptAll, 64 * 1024);
    let (r, plain) = push_over(stream, &body, &PushOptions::default()).await;
    assert_eq!(r.outcome, Outcome::Accepted);
    assert!(task.await.unwrap().unwrap()[0].body == body);
    assert!(!plain.srm);
    assert_eq!(plain.put_packets, srm_stats.put_packets);
    assert_eq!(plain.round_trips, plain.put_packets + 2, "{plain:?}");
    // The SRM header is the only extra byte sequence: two bytes in the first PUT.
    assert_eq!(srm_stats.bytes, plain.bytes + 2);
}

#[tokio::test(start_paused = true)]
async fn phone_without_srm_gets_stop_and_wait() {
    let body = data(200_000);
    let (stream, task) = server(ServerOptions::default(), AcceptAll, 64 * 1024);
    let (r, stats) = push_over(stream, &body, &srm_opts()).await;
    assert_eq!(r.outcome, Outcome::Accepted, "{r:?}");
    assert!(task.await.unwrap().unwrap()[0].body == body);
    assert!(!stats.srm);
    assert_eq!(stats.round_trips, stats.put_packets + 2);
}

#[tokio::test(start_paused = true)]
async fn srmp_wait_forever_is_stop_and_wait_and_still_accepted() {
    let body = data(300_000);
    let opts = ServerOptions {
        srmp_waits: u32::MAX,
        ..srm_server(0x4000)
    };
    let (stream, task) = server(opts, AcceptAll, 64 * 1024);
    let (r, stats) = push_over(stream, &body, &srm_opts()).await;
    assert_eq!(r.outcome, Outcome::Accepted, "{r:?}");
    assert!(task.await.unwrap().unwrap()[0].body == body);
    assert!(stats.srm);
    assert_eq!(stats.round_trips, stats.put_packets + 2, "{stats:?}");
}

#[tokio::test(start_paused = true)]
async fn srmp_wait_twice_then_streams() {
    let body = data(300_000);
    let opts = ServerOptions {
        srmp_waits: 2,
        ..srm_server(0x4000)
    };
    let (stream, task) = server(opts, AcceptAll, 64 * 1024);
    let (r, stats) = push_over(stream, &body, &srm_opts()).await;
    assert_eq!(r.outcome, Outcome::Accepted, "{r:?}");
    assert!(task.await.unwrap().unwrap()[0].body == body);
    // CONNECT, PUT 1 (wait), PUT 2 (wait), PUT 3 (released), final, DISCONNECT.
    assert_eq!(stats.round_trips, 6, "{stats:?}");
}

/// A mid-stream error ends the push as the same code would in stop-and-wait, and the server's
/// session still ends cleanly (the DISCONNECT is answered).
#[tokio::test(start_paused = true)]
async fn error_mid_stream_gets_its_outcome() {
    let cases = [
        (code::INTERNAL_SERVER_ERROR, Outcome::Failed),
        (code::FORBIDDEN, Outcome::Declined),
        (code::UNSUPPORTED_MEDIA_TYPE, Outcome::UnsupportedType),
    ];
    for (c, want) in cases {
        for pipe in [1 << 20, 4096] {
            let body = data(400_000);
            let decision = Decision::RefuseAfter(150_000, c);
            let (stream, task) = server(srm_server(0x2000), Always(decision), pipe);
            let (r, stats) = push_over(stream, &body, &srm_opts()).await;
            assert_eq!((r.outcome, r.raw_code), (want, Some(c)), "{r:?}");
            assert!(stats.srm);
            if pipe == 4096 {
                // The stream was still going when the answer came.
                assert!(r.bytes < body.len() as u64, "{r:?} {stats:?}");
            }
            let served = tokio::time::timeout(Duration::from_secs(60), task).await;
            match served.expect("the server's session ends").unwrap() {
                Ok(received) => assert!(received.is_empty()),
                // A small pipe: we may have been cut mid-packet, and hung up without DISCONNECT.
                Err(e) => assert!(pipe < 1 << 20, "{e}"),
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn entity_too_large_mid_stream() {
    let opts = ServerOptions {
        max_object: 100_000,
        ..srm_server(0x2000)
    };
    let object = data(100_000);
    let mut body = object.clone();
    body.extend_from_slice(&object);
    // The Length header says 200 000 bytes: refused up front, before any SRM.
    let (stream, _task) = server(opts, AcceptAll, 64 * 1024);
    let (r, stats) = push_over(stream, &body, &srm_opts()).await;
    assert_eq!(r.raw_code, Some(code::ENTITY_TOO_LARGE));
    assert!(!stats.srm);
}

#[tokio::test(start_paused = true)]
async fn tiny_packets_under_srm_arrive_byte_identical() {
    let body = data(20_000);
    let (stream, task) = server(srm_server(255), AcceptAll, 512);
    let (r, stats) = push_over(stream, &body, &srm_opts()).await;
    assert_eq!(r.outcome, Outcome::Accepted, "{r:?}");
    assert!(task.await.unwrap().unwrap()[0].body == body);
    assert!(stats.srm && stats.put_packets > 80, "{stats:?}");
    assert_eq!(stats.round_trips, 4);
}

#[tokio::test(start_paused = true)]
async fn decision_still_waits_for_the_first_answer() {
    struct Slow;
    impl Prompt for Slow {
        fn decide<'a>(
            &'a mut self,
            _offer: &'a Offer,
        ) -> Pin<Box<dyn Future<Output = Decision> + Send + 'a>> {
            Box::pin(async {
                sleep(Duration::from_secs(40)).await;
                Decision::Accept
            })
        }
    }
    let body = data(100_000);
    let (stream, task) = server(srm_server(0x1000), Slow, 64 * 1024);
    let start = Instant::now();
    let (r, stats) = push_over(stream, &body, &srm_opts()).await;
    assert_eq!(r.outcome, Outcome::Accepted, "{r:?}");
    assert!(start.elapsed() >= Duration::from_secs(40));
    assert!(stats.srm);
    assert!(task.await.unwrap().unwrap()[0].body == body);

    let opts = ServerOptions {
        srm: true,
        ..ServerOptions::default()
    };
    let (stream, _task) = server(opts, Always(Decision::Silent), 64 * 1024);
    let quick = PushOptions {
        decision_timeout: Duration::from_secs(30),
        ..srm_opts()
    };
    let (r, _) = push_over(stream, &body, &quick).await;
    assert_eq!(r.outcome, Outcome::Ignored, "{r:?}");
}

#[tokio::test(start_paused = true)]
async fn cancel_while_streaming_sends_abort() {
    let body = data(2_000_000);
    // A slow reader: the stream takes a while, and the cancel arrives mid-way.
    let (stream, seen) = peer(Script::Grant, 0x1000, Duration::from_millis(5));
    let (tx, mut rx) = watch::channel(false);
    tokio::spawn(async move {
        sleep(Duration::from_secs(2)).await;
        let _ = tx.send(true);
        sleep(Duration::from_secs(1000)).await;
    });
    let object = Object {
        name: "a.bin",
        mime: "image/png",
        body: &body,
    };
    let (r, stats) = push_counted(stream, &object, &srm_opts(), &mut rx).await;
    assert_eq!(
        (r.outcome, r.reason.as_str()),
        (Outcome::Failed, "aborted: shutting down")
    );
    assert!(stats.srm);
    sleep(Duration::from_secs(100)).await;
    assert_eq!(seen.lock().unwrap().last(), Some(&opcode::ABORT));
}

// --- Scripted peers: a real OBEX server loop with one deliberate misbehaviour each. ---

/// What a scripted peer does after CONNECT.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    /// Grants SRM, answers only the final PUT.
    Grant,
    /// Grants SRM, then never answers anything again (but keeps reading).
    GrantThenSilent,
    /// Grants SRM, then stops reading altogether.
    GrantThenDeaf,
    /// Grants SRM, then answers every packet with CONTINUE anyway.
    GrantButAnswerAll,
    /// Answers every packet (stop-and-wait) but puts SRM enable in every CONTINUE.
    ClaimSrmButAnswerAll,
    /// Puts SRM enable in its first CONTINUE and then behaves as under SRM, whatever we asked.
    ClaimSrmAndStream,
}

type Seen = Arc<Mutex<Vec<u8>>>;

/// Starts a scripted peer with max packet `max` that pauses `pause` before reading each packet;
/// returns the client's end and the opcodes the peer saw.
fn peer(script: Script, max: u16, pause: Duration) -> (DuplexStream, Seen) {
    let (client_end, server_end) = tokio::io::duplex(16 * 1024);
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        let mut link = Framed::new(server_end);
        let mut puts = 0u32;
        loop {
            sleep(pause).await;
            let Ok(packet) = link.read_packet(0xFFFF).await else {
                return;
            };
            let request = Request::parse(&packet).expect("client sent a malformed request");
            log.lock().unwrap().push(request.opcode);
            if request.opcode == opcode::PUT || request.opcode == opcode::PUT_FINAL {
                puts += 1;
            }
            let Some(answer) = scripted(script, &request, puts, max) else {
                if script == Script::GrantThenDeaf && puts > 1 {
                    sleep(Duration::from_secs(100_000)).await;
                }
                continue;
            };
            if link.write_packet(&answer.encode().unwrap()).await.is_err() {
                return;
            }
        }
    });
    (client_end, seen)
}

fn with(code: u8, headers: Vec<Header>) -> Response {
    Response {
        code,
        connect: None,
        headers,
    }
}

/// The scripted answer to a request, or None for silence.
fn scripted(script: Script, request: &Request, puts: u32, max: u16) -> Option<Response> {
    use Script::*;
    let asked = srm::enabled_in(&request.headers);
    match request.opcode {
        opcode::CONNECT => Some(Response {
            code: code::SUCCESS,
            connect: Some(ConnectFields::ours(max)),
            headers: Vec::new(),
        }),
        opcode::PUT if puts == 1 => match script {
            Grant | GrantThenSilent | GrantThenDeaf | GrantButAnswerAll => {
                assert!(asked, "the first PUT asks for SRM");
                Some(with(code::CONTINUE, vec![srm::enable()]))
            }
            ClaimSrmButAnswerAll | ClaimSrmAndStream => {
                Some(with(code::CONTINUE, vec![srm::enable()]))
            }
        },
        opcode::PUT => match script {
            GrantButAnswerAll => Some(with(code::CONTINUE, Vec::new())),
            ClaimSrmButAnswerAll => Some(with(code::CONTINUE, vec![srm::enable()])),
            _ => None,
        },
        opcode::PUT_FINAL => match script {
            GrantThenSilent | GrantThenDeaf => None,
            _ => Some(with(code::SUCCESS, Vec::new())),
        },
        _ => Some(with(code::SUCCESS, Vec::new())),
    }
}

#[tokio::test(start_paused = true)]
async fn peer_that_enables_srm_then_stalls_fails_after_the_packet_timeout() {
    let body = data(100_000);
    let (stream, seen) = peer(Script::GrantThenSilent, 0x1000, Duration::ZERO);
    let start = Instant::now();
    let (r, stats) = push_over(stream, &body, &srm_opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Failed, None), "{r:?}");
    assert!(r.reason.contains("packet timeout"), "{}", r.reason);
    assert!(stats.srm);
    assert!(start.elapsed() >= Duration::from_secs(15));
    assert!(start.elapsed() < Duration::from_secs(60));
    assert_eq!(seen.lock().unwrap().last(), Some(&opcode::ABORT));
}

#[tokio::test(start_paused = true)]
async fn peer_that_enables_srm_then_stops_reading_fails_after_the_packet_timeout() {
    let body = data(400_000);
    let (stream, _seen) = peer(Script::GrantThenDeaf, 0x1000, Duration::ZERO);
    let start = Instant::now();
    let (r, _) = push_over(stream, &body, &srm_opts()).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Failed, None), "{r:?}");
    assert!(r.reason.contains("not taken within"), "{}", r.reason);
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn peer_that_grants_srm_but_answers_every_packet_is_accepted() {
    let body = data(200_000);
    let (stream, seen) = peer(Script::GrantButAnswerAll, 0x1000, Duration::from_millis(1));
    let (r, stats) = push_over(stream, &body, &srm_opts()).await;
    assert_eq!(r.outcome, Outcome::Accepted, "{r:?}");
    assert_eq!(r.bytes, body.len() as u64);
    assert!(stats.srm);
    assert_eq!(seen.lock().unwrap().last(), Some(&opcode::DISCONNECT));
}

#[tokio::test(start_paused = true)]
async fn uninvited_srm_grant_is_ignored() {
    let body = data(100_000);
    let plain = PushOptions::default();
    let (stream, _) = peer(Script::ClaimSrmButAnswerAll, 0x1000, Duration::ZERO);
    let (r, stats) = push_over(stream, &body, &plain).await;
    assert_eq!(r.outcome, Outcome::Accepted, "{r:?}");
    assert!(!stats.srm);
    assert_eq!(stats.round_trips, stats.put_packets + 2);

    // A peer that then acts as under SRM leaves our second packet unanswered: a broken peer,
    // failed after the packet timeout, as any peer that stops answering.
    let (stream, _) = peer(Script::ClaimSrmAndStream, 0x1000, Duration::ZERO);
    let (r, _) = push_over(stream, &body, &plain).await;
    assert_eq!((r.outcome, r.raw_code), (Outcome::Failed, None), "{r:?}");
    assert!(
        r.reason.contains("no answer to PUT packet 2"),
        "{}",
        r.reason
    );
}

/// Every PUT but the last is filled to the negotiated size, the first one carrying Connection
/// ID (none here), SRM, Name, Type, Length and Body, in that order.
#[tokio::test(start_paused = true)]
async fn packets_are_full_and_the_first_carries_the_headers() {
    let (client_end, server_end) = tokio::io::duplex(1 << 20);
    let packets = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&packets);
    tokio::spawn(async move {
        let mut link = Framed::new(server_end);
        let mut puts = 0;
        while let Ok(p) = link.read_packet(0xFFFF).await {
            let request = Request::parse(&p).unwrap();
            log.lock().unwrap().push(p);
            if request.opcode == opcode::PUT || request.opcode == opcode::PUT_FINAL {
                puts += 1;
            }
            if let Some(answer) = scripted(Script::Grant, &request, puts, 1000) {
                link.write_packet(&answer.encode().unwrap()).await.unwrap();
            }
        }
    });
    let body = data(10_000);
    let (r, stats) = push_over(client_end, &body, &srm_opts()).await;
    assert_eq!(r.outcome, Outcome::Accepted);
    let packets = packets.lock().unwrap();
    let puts: Vec<&Vec<u8>> = packets[1..packets.len() - 1].iter().collect();
    assert_eq!(puts.len() as u32, stats.put_packets);
    let (last, full) = puts.split_last().unwrap();
    assert!(full.iter().all(|p| p.len() == 1000), "not full");
    assert!(last.len() <= 1000);
    let first = Request::parse(puts[0]).unwrap();
    let ids: Vec<u8> = first.headers.iter().map(Header::id).collect();
    assert_eq!(ids, [id::SRM, id::NAME, id::TYPE, id::LENGTH, id::BODY]);
    assert_eq!(
        header::find(&first.headers, id::LENGTH).and_then(Header::as_u32),
        Some(10_000)
    );
    // 10 000 bytes in packets of 1000: ceil((10 000 + first headers) / (1000 - 6)) packets.
    assert_eq!(stats.put_packets, 11);
}

#[tokio::test(start_paused = true)]
async fn accepted_whatever_the_reply_split_under_srm() {
    let replies = [
        Response {
            code: code::SUCCESS,
            connect: Some(ConnectFields::ours(0x400)),
            headers: Vec::new(),
        },
        with(code::CONTINUE, vec![srm::enable()]),
        with(code::SUCCESS, Vec::new()),
        with(code::SUCCESS, Vec::new()),
    ];
    let wire: Vec<u8> = replies.iter().flat_map(|r| r.encode().unwrap()).collect();
    let body = data(5000);
    for cut in 0..=wire.len() {
        let (client_end, server_end) = tokio::io::duplex(1 << 16);
        let wire = wire.clone();
        tokio::spawn(split_replier(server_end, wire, cut));
        let (r, stats) = push_over(client_end, &body, &srm_opts()).await;
        assert_eq!(r.outcome, Outcome::Accepted, "cut at {cut}: {r:?}");
        assert!(stats.srm, "cut at {cut}");
    }
}

/// Answers CONNECT, the first PUT, the final PUT and DISCONNECT with the next reply from
/// `wire`, written in two pieces cut at global offset `cut`, and one byte at a time when the
/// cut falls inside the reply.
async fn split_replier(io: DuplexStream, wire: Vec<u8>, cut: usize) {
    let mut link = Framed::new(io);
    let mut at = 0usize;
    let mut puts = 0;
    while let Ok(p) = link.read_packet(0xFFFF).await {
        let request = Request::parse(&p).unwrap();
        if request.opcode == opcode::PUT {
            puts += 1;
            if puts > 1 {
                continue;
            }
        }
        let len = usize::from(u16::from_be_bytes([wire[at + 1], wire[at + 2]]));
        let reply = &wire[at..at + len];
        let mut io = link.into_inner();
        let pieces: Vec<&[u8]> = if cut > at && cut < at + len {
            reply.chunks(1).collect()
        } else {
            vec![reply]
        };
        for piece in pieces {
            if io.write_all(piece).await.is_err() {
                return;
            }
            sleep(Duration::from_millis(1)).await;
        }
        at += len;
        link = Framed::new(io);
        if at == wire.len() {
            return;
        }
    }
}

#[tokio::test]
async fn srm_over_tcp_arrives_byte_identical() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        serve(socket, &srm_server(0xFFFF), &mut AcceptAll)
            .await
            .unwrap()
    });
    let stream = o4send::obex::tcp::connect(&addr.to_string(), Duration::from_secs(5))
        .await
        .unwrap();
    let body = data(3 << 20);
    let opts = PushOptions {
        srm: true,
        ..PushOptions::default()
    };
    let (r, stats) = push_over(stream, &body, &opts).await;
    assert_eq!(r.outcome, Outcome::Accepted, "{r:?}");
    assert!(stats.srm);
    assert_eq!(stats.round_trips, 4);
    let got = server.await.unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].body == body, "body differs");
}

/// The simulated phones: L2CAP with SRM where their record offers a PSM, RFCOMM (stop-and-wait)
/// where it does not or where the channel is refused; every push accepted.
#[tokio::test(start_paused = true)]
async fn simulated_phones_take_srm_over_l2cap_where_they_offer_it() {
    use o4send::radio::sim::{generate, GoepL2cap, LinkModel, World};
    use o4send::radio::Radio;
    let phones = generate(&o4send::bench::scenario(30, 7));
    let world = World::with_phones(phones.clone(), LinkModel::default());
    let mut phones = phones;
    phones.sort_by_key(|p| p.arrive);
    let radio = world.radio("sim0");
    let body = data(100_000);
    let mut seen = std::collections::HashSet::new();
    for p in &phones {
        tokio::time::sleep_until(world.start() + p.arrive).await;
        let link = match radio.connect_opp(p.addr, Duration::from_secs(30)).await {
            Ok(link) => link,
            Err(r) => panic!("{r:?}"),
        };
        let offered = p.l2cap() == GoepL2cap::Offered;
        seen.insert(p.l2cap() as u8);
        assert_eq!(link.transport.allows_srm(), offered, "{:?}", p.l2cap());
        let opts = PushOptions::default().over(link.transport);
        let (r, stats) = push_over(link.stream, &body, &opts).await;
        assert_eq!(r.outcome, Outcome::Accepted, "{r:?}");
        assert_eq!(stats.srm, offered);
    }
    assert_eq!(seen.len(), 3, "every kind of phone in 30");
}

//! The OBEX checks: whole packets, header runs, and the server's Single Response Mode, whose
//! input is the byte stream a hostile phone or pusher can send.

use o4send::obex::srm::{self, ClientSrm, ServerSrm};
use o4send::obex::wire::code::opcode;
use o4send::obex::wire::header::parse_headers;
use o4send::obex::wire::{Header, Request, Response, WireError};
use o4send::obex::{serve, Always, Decision, ServerOptions};

/// A request and a response (after and not after a CONNECT) parse, encode and parse the same.
pub fn obex_packet(data: &[u8]) {
    match Request::parse(data) {
        // SETPATH's fixed fields are skipped when parsing, so it has no encoding to compare.
        Ok(r) if r.opcode == opcode::SETPATH => {}
        Ok(r) => {
            if let Some(bytes) = encoded(r.encode()) {
                assert_eq!(Request::parse(&bytes).expect("our own encoding parses"), r);
            }
        }
        Err(e) => super::explained(&e.to_string()),
    }
    for answers_connect in [false, true] {
        match Response::parse(data, answers_connect) {
            Ok(r) => {
                if let Some(bytes) = encoded(r.encode()) {
                    let again = Response::parse(&bytes, answers_connect).expect("ours parses");
                    assert_eq!(again, r);
                }
            }
            Err(e) => super::explained(&e.to_string()),
        }
    }
}

/// A parsed header run encodes to its announced length and parses back the same.
pub fn obex_headers(data: &[u8]) {
    let headers = match parse_headers(data) {
        Ok(h) => h,
        Err(e) => return super::explained(&e.to_string()),
    };
    let mut out = Vec::new();
    for h in &headers {
        let before = out.len();
        if encoded(h.encode_into(&mut out)).is_none() {
            return;
        }
        assert_eq!(out.len() - before, h.encoded_len(), "{h:?}");
    }
    assert_eq!(
        parse_headers(&out).expect("our own encoding parses"),
        headers
    );
}

/// `Some` of an encoding, `None` when the value outgrew a 16-bit length on the way (a Unicode
/// text whose terminator was missing gains two bytes); any other refusal is a bug.
fn encoded<T>(r: Result<T, WireError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(WireError::HeaderTooLong { .. } | WireError::PacketTooLong { .. }) => None,
        Err(e) => panic!("a parsed value does not encode: {e}"),
    }
}

/// The first byte sets the server's options and its user's answer, the rest is what the peer
/// sends. The server must end cleanly (an error is an answer), write only whole responses, and
/// the SRM state machines of both sides must agree on which packets are answered.
pub fn obex_srm(data: &[u8]) {
    let Some((&knobs, stream)) = data.split_first() else {
        return;
    };
    srm_sides_agree(knobs, stream.len());
    let opts = ServerOptions {
        srm: knobs & 1 != 0,
        srmp_waits: waits(knobs),
        android_rules: knobs & 0x40 != 0,
        max_packet: if knobs & 0x80 != 0 { 255 } else { 0xFFFF },
        max_object: 4096,
        ..ServerOptions::default()
    };
    let mut prompt = Always(decision(knobs));
    let mut written = Vec::new();
    let io = tokio::io::join(stream, &mut written);
    let served = runtime().block_on(serve(io, &opts, &mut prompt));
    if let Err(e) = served {
        super::explained(&e.to_string());
    }
    whole_responses(&written);
}

/// Each response the server wrote is a whole packet that parses, with or without CONNECT fields.
fn whole_responses(mut written: &[u8]) {
    while !written.is_empty() {
        assert!(written.len() >= 3, "a response cut short: {written:?}");
        let len = usize::from(u16::from_be_bytes([written[1], written[2]]));
        assert!(
            (3..=written.len()).contains(&len),
            "a response's length is off: {written:?}"
        );
        let (packet, rest) = written.split_at(len);
        let parses =
            Response::parse(packet, false).is_ok() || Response::parse(packet, true).is_ok();
        assert!(parses, "our response does not parse: {packet:?}");
        written = rest;
    }
}

/// Client and server over one PUT of `packets` packets: the client waits for an answer exactly
/// when the server sends one, and both agree whether SRM is on.
fn srm_sides_agree(knobs: u8, packets: usize) {
    let asked = knobs & 2 != 0;
    let ask: Vec<Header> = if asked { vec![srm::enable()] } else { vec![] };
    let mut server = ServerSrm::start(knobs & 1 != 0, &ask, waits(knobs));
    let mut client = if asked {
        ClientSrm::Asked
    } else {
        ClientSrm::Off
    };
    let first = server
        .answer(true)
        .expect("the first packet is always answered");
    client = client.after_continue(&on_the_wire(&first));
    assert_eq!(client.granted(), server.on);
    for _ in 1..packets.min(64) {
        let expects = !client.granted() || client == ClientSrm::Waiting;
        let answer = server.answer(false);
        assert_eq!(answer.is_some(), expects, "{client:?} vs {server:?}");
        if let Some(headers) = answer {
            client = client.after_continue(&on_the_wire(&headers));
        }
    }
}

/// Headers as the peer reads them: encoded, then parsed.
fn on_the_wire(headers: &[Header]) -> Vec<Header> {
    let mut out = Vec::new();
    for h in headers {
        h.encode_into(&mut out).expect("SRM headers encode");
    }
    parse_headers(&out).expect("SRM headers parse")
}

fn waits(knobs: u8) -> u32 {
    match (knobs >> 2) & 3 {
        3 => u32::MAX,
        n => u32::from(n),
    }
}

fn decision(knobs: u8) -> Decision {
    match (knobs >> 4) & 3 {
        0 => Decision::Accept,
        1 => Decision::Reject(0xC3),
        2 => Decision::DropAfter(100),
        _ => Decision::RefuseAfter(100, 0xCD),
    }
}

/// One single-threaded runtime per thread, made once: a new one per input would cost more than
/// the input.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    thread_local! {
        static RT: &'static tokio::runtime::Runtime = Box::leak(Box::new(
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .expect("a tokio runtime"),
        ));
    }
    RT.with(|rt| *rt)
}

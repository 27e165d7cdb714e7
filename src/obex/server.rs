//! An OBEX Object Push server: what a phone does when something pushes a file to it.
//!
//! The simulated phones and the tests need a peer that behaves like Android — checks the
//! headers, asks its user (a [`Prompt`]), then accepts, refuses, stays silent or drops the link —
//! so the client can be exercised against every answer a real phone gives.
//!
//! Over a transport that allows it ([`ServerOptions::srm`]) it grants Single Response Mode as
//! Android's and BlueZ's servers do: the answer to the first PUT packet carries SRM enable, and
//! then only the final packet is answered (or the first that fails). SRMP wait is a test knob.

use super::srm::ServerSrm;
use super::wire::code::{self, opcode};
use super::wire::header::{self, id, Header};
use super::wire::{ConnectFields, Framed, ReadError, Request, Response, WireError, MIN_PACKET};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use tokio::io::{AsyncRead, AsyncWrite};

/// What the pushing side announced in the first PUT packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub name: Option<String>,
    pub mime: Option<String>,
    pub length: Option<u64>,
}

/// The user's answer to an offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Accept,
    /// Refuse with this response code (0xC3 Forbidden is a declined prompt).
    Reject(u8),
    /// Never answer: the prompt was ignored. An ABORT is still answered.
    Silent,
    /// Accept, then close the stream once this many body bytes have arrived.
    DropAfter(u64),
    /// Accept, then answer this response code once this many body bytes have arrived (a phone
    /// whose storage fills up, or whose user cancels half-way).
    RefuseAfter(u64, u8),
}

/// Asks the (simulated) user about an offer.
pub trait Prompt: Send {
    fn decide<'a>(
        &'a mut self,
        offer: &'a Offer,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + 'a>>;
}

/// A user who accepts everything at once.
pub struct AcceptAll;

impl Prompt for AcceptAll {
    fn decide<'a>(
        &'a mut self,
        _offer: &'a Offer,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + 'a>> {
        Box::pin(async { Decision::Accept })
    }
}

/// A user who gives every offer the same answer at once.
pub struct Always(pub Decision);

impl Prompt for Always {
    fn decide<'a>(
        &'a mut self,
        _offer: &'a Offer,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + 'a>> {
        let d = self.0;
        Box::pin(async move { d })
    }
}

/// How the server behaves.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// The maximum packet length we answer in CONNECT (and accept); raised to 255 if lower.
    pub max_packet: u16,
    /// Enforce Android's checks: Target in CONNECT → 0xC6, no/zero Length → 0xCB,
    /// no Name → 0xC0.
    pub android_rules: bool,
    /// MIME types taken; None = any. Entries ending in '/' or "/*" are prefixes. When set, a
    /// PUT whose type is missing or not listed gets 0xCF (whether or not `android_rules` is on).
    pub accepted_types: Option<Vec<String>>,
    /// Objects larger than this get 0xCD.
    pub max_object: u64,
    /// Grant Single Response Mode when a PUT asks for it (the transport keeps packets whole
    /// and in order: L2CAP ERTM, or TCP by choice).
    pub srm: bool,
    /// Under SRM, how many answers say SRMP wait (the first PUT's answer first); `u32::MAX`
    /// for a peer that never stops saying it.
    pub srmp_waits: u32,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_packet: 0xFFFF,
            android_rules: true,
            accepted_types: None,
            max_object: 64 * 1024 * 1024,
            srm: false,
            srmp_waits: 0,
        }
    }
}

/// An object received completely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The Name header ("" when there was none).
    pub name: String,
    pub mime: Option<String>,
    pub body: Vec<u8>,
}

/// Why serving a connection stopped early.
#[derive(Debug)]
pub enum ServerError {
    /// The peer's byte stream could not be read as packets (or broke mid-packet).
    Read(ReadError),
    /// Our response could not be written.
    Write(io::Error),
    /// Our response could not be encoded.
    Encode(WireError),
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::Read(e) => write!(f, "reading a request: {e}"),
            ServerError::Write(e) => write!(f, "writing a response: {e}"),
            ServerError::Encode(e) => write!(f, "encoding a response: {e}"),
        }
    }
}

impl std::error::Error for ServerError {}

/// Serves one connection until DISCONNECT or EOF; returns the objects received completely.
/// The prompt is asked once per PUT, upon its first packet (after the header checks pass),
/// before the first response is sent. `DropAfter` ends with `Ok` and the stream dropped.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    opts: &ServerOptions,
    prompt: &mut dyn Prompt,
) -> Result<Vec<Received>, ServerError> {
    let mut link = Framed::new(stream);
    let mut session = Session {
        opts,
        prompt,
        received: Vec::new(),
        put: None,
        draining: false,
    };
    let limit = opts.max_packet.max(MIN_PACKET);
    loop {
        let packet = match link.read_packet(limit).await {
            Ok(p) => p,
            Err(ReadError::Closed) => return Ok(session.received),
            Err(e) => return Err(ServerError::Read(e)),
        };
        match session.handle(&packet).await {
            Action::Reply(r) => send(&mut link, &r).await?,
            Action::Wait => {}
            Action::ReplyAndEnd(r) => {
                send(&mut link, &r).await?;
                return Ok(session.received);
            }
            Action::Drop => return Ok(session.received),
        }
    }
}

async fn send<S: AsyncWrite + Unpin>(
    link: &mut Framed<S>,
    response: &Response,
) -> Result<(), ServerError> {
    let packet = response.encode().map_err(ServerError::Encode)?;
    link.write_packet(&packet).await.map_err(ServerError::Write)
}

/// What to do after a request.
enum Action {
    Reply(Response),
    /// Say nothing (a silent prompt).
    Wait,
    ReplyAndEnd(Response),
    /// Close the stream without a word.
    Drop,
}

/// How the current PUT is being handled.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Accepting,
    Silent,
    DropAfter(u64),
    RefuseAfter(u64, u8),
}

/// A PUT in progress.
struct Incoming {
    offer: Offer,
    body: Vec<u8>,
    mode: Mode,
    /// PUT packets seen so far.
    packets: u32,
    srm: ServerSrm,
}

struct Session<'a> {
    opts: &'a ServerOptions,
    prompt: &'a mut dyn Prompt,
    received: Vec<Received>,
    put: Option<Incoming>,
    /// An SRM PUT ended early with an error: its packets still in flight get no answer.
    draining: bool,
}

impl Session<'_> {
    async fn handle(&mut self, packet: &[u8]) -> Action {
        let request = match Request::parse(packet) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("malformed request: {e}");
                self.put = None;
                return Action::Reply(Response::bare(code::BAD_REQUEST));
            }
        };
        if self.draining && matches!(request.opcode, opcode::PUT | opcode::PUT_FINAL) {
            self.draining = !request.is_final();
            return Action::Wait;
        }
        self.draining = false;
        match request.opcode {
            opcode::CONNECT => Action::Reply(self.on_connect(&request)),
            opcode::DISCONNECT => Action::ReplyAndEnd(Response::bare(code::SUCCESS)),
            opcode::PUT | opcode::PUT_FINAL => self.on_put(request).await,
            opcode::ABORT => {
                self.put = None;
                Action::Reply(Response::bare(code::SUCCESS))
            }
            _ => Action::Reply(Response::bare(code::NOT_IMPLEMENTED)),
        }
    }

    fn on_connect(&mut self, request: &Request) -> Response {
        let has_target = header::find(&request.headers, id::TARGET).is_some();
        let code = if self.opts.android_rules && has_target {
            code::NOT_ACCEPTABLE
        } else {
            code::SUCCESS
        };
        Response {
            code,
            connect: Some(ConnectFields::ours(self.opts.max_packet.max(MIN_PACKET))),
            headers: Vec::new(),
        }
    }

    async fn on_put(&mut self, request: Request) -> Action {
        if self.put.is_none() {
            match self.start_put(&request.headers).await {
                Ok(incoming) => self.put = Some(incoming),
                Err(code) => return Action::Reply(Response::bare(code)),
            }
        }
        let Some(mut put) = self.put.take() else {
            return Action::Reply(Response::bare(code::INTERNAL_SERVER_ERROR));
        };
        if put.mode == Mode::Silent {
            self.put = Some(put);
            return Action::Wait;
        }
        put.packets += 1;
        append_body(&mut put.body, &request.headers);
        let arrived = put.body.len() as u64;
        if arrived > self.opts.max_object {
            return self.refuse_mid_put(&put, code::ENTITY_TOO_LARGE);
        }
        match put.mode {
            Mode::DropAfter(n) if arrived >= n => return Action::Drop,
            Mode::RefuseAfter(n, code) if arrived >= n => return self.refuse_mid_put(&put, code),
            _ => {}
        }
        if !request.is_final() {
            let answer = put.srm.answer(put.packets == 1);
            self.put = Some(put);
            return answer.map_or(Action::Wait, |headers| {
                Action::Reply(Response {
                    code: code::CONTINUE,
                    connect: None,
                    headers,
                })
            });
        }
        self.finish(put)
    }

    /// Ends a PUT early with `code`; under SRM the packets already on their way are dropped
    /// unanswered, so the next answer the client reads is the one to its next request.
    fn refuse_mid_put(&mut self, put: &Incoming, code: u8) -> Action {
        self.draining = put.srm.on;
        Action::Reply(Response::bare(code))
    }

    /// The final packet arrived: the object is complete.
    fn finish(&mut self, put: Incoming) -> Action {
        self.received.push(Received {
            name: put.offer.name.unwrap_or_default(),
            mime: put.offer.mime,
            body: put.body,
        });
        Action::Reply(Response::bare(code::SUCCESS))
    }

    /// Checks the first packet's headers and asks the prompt; Err is the refusal code.
    async fn start_put(&mut self, headers: &[Header]) -> Result<Incoming, u8> {
        let srm = ServerSrm::start(self.opts.srm, headers, self.opts.srmp_waits);
        let offer = offer_of(headers);
        self.check(&offer)?;
        let mode = match self.prompt.decide(&offer).await {
            Decision::Accept => Mode::Accepting,
            Decision::Reject(code) => return Err(code),
            Decision::Silent => Mode::Silent,
            Decision::DropAfter(n) => Mode::DropAfter(n),
            Decision::RefuseAfter(n, code) => Mode::RefuseAfter(n, code),
        };
        Ok(Incoming {
            offer,
            body: Vec::new(),
            mode,
            packets: 0,
            srm,
        })
    }

    /// The checks a phone makes before asking its user.
    fn check(&self, offer: &Offer) -> Result<(), u8> {
        if self.opts.android_rules {
            if offer.name.is_none() {
                return Err(code::BAD_REQUEST);
            }
            if offer.length.unwrap_or(0) == 0 {
                return Err(code::LENGTH_REQUIRED);
            }
        }
        if let Some(types) = &self.opts.accepted_types {
            if !offer
                .mime
                .as_deref()
                .is_some_and(|m| type_accepted(types, m))
            {
                return Err(code::UNSUPPORTED_MEDIA_TYPE);
            }
        }
        if offer.length.is_some_and(|l| l > self.opts.max_object) {
            return Err(code::ENTITY_TOO_LARGE);
        }
        Ok(())
    }
}

fn offer_of(headers: &[Header]) -> Offer {
    Offer {
        name: header::find(headers, id::NAME)
            .and_then(Header::as_text)
            .map(str::to_owned),
        mime: header::find(headers, id::TYPE)
            .and_then(Header::as_bytes)
            .map(header::mime_text),
        length: header::find(headers, id::LENGTH)
            .and_then(Header::as_u32)
            .map(u64::from),
    }
}

fn append_body(body: &mut Vec<u8>, headers: &[Header]) {
    for h in headers {
        if h.id() == id::BODY || h.id() == id::END_OF_BODY {
            body.extend_from_slice(h.as_bytes().unwrap_or_default());
        }
    }
}

/// Whether `mime` matches an entry: "image/*" and "image/" are prefixes, others exact; MIME
/// types compare case-insensitively.
pub fn type_accepted(types: &[String], mime: &str) -> bool {
    let mime = mime.to_ascii_lowercase();
    types.iter().any(|entry| {
        let entry = entry.to_ascii_lowercase();
        match entry.strip_suffix('*') {
            Some(prefix) if prefix.ends_with('/') => mime.starts_with(prefix),
            _ if entry.ends_with('/') => mime.starts_with(&entry),
            _ => mime == entry,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn serving_arbitrary_bytes_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            android_rules in any::<bool>(),
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let opts = ServerOptions { android_rules, max_packet: 300, ..ServerOptions::default() };
            rt.block_on(async {
                let stream = tokio::io::join(&bytes[..], tokio::io::sink());
                let _ = serve(stream, &opts, &mut AcceptAll).await;
            });
        }

        #[test]
        fn serving_well_framed_arbitrary_packets_never_panics(
            packets in proptest::collection::vec(
                (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..80)), 0..8),
        ) {
            let mut bytes = Vec::new();
            for (first, body) in packets {
                let len = (body.len() + 3) as u16;
                bytes.push(first);
                bytes.extend_from_slice(&len.to_be_bytes());
                bytes.extend_from_slice(&body);
            }
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(async {
                let stream = tokio::io::join(&bytes[..], tokio::io::sink());
                let _ = serve(stream, &ServerOptions::default(), &mut AcceptAll).await;
            });
        }
    }

    #[test]
    fn type_patterns() {
        let types = vec![
            "image/*".to_string(),
            "text/x-vcard".into(),
            "audio/".into(),
        ];
        assert!(type_accepted(&types, "image/png"));
        assert!(type_accepted(&types, "IMAGE/JPEG"));
        assert!(type_accepted(&types, "text/x-vcard"));
        assert!(type_accepted(&types, "audio/mpeg"));
        assert!(!type_accepted(&types, "text/plain"));
        assert!(!type_accepted(&types, "text/x-vcard2"));
        assert!(!type_accepted(&types, "imagex/png"));
    }

    #[test]
    fn offer_from_headers() {
        let hs = vec![
            Header::name("a.png"),
            Header::mime("image/png"),
            Header::length(9),
        ];
        let offer = offer_of(&hs);
        assert_eq!(offer.name.as_deref(), Some("a.png"));
        assert_eq!(offer.mime.as_deref(), Some("image/png"));
        assert_eq!(offer.length, Some(9));
        assert_eq!(
            offer_of(&[]),
            Offer {
                name: None,
                mime: None,
                length: None
            }
        );
    }
}

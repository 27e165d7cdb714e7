//! OBEX Single Response Mode (OBEX 1.5, GOEP 2.0): how a PUT streams without a round trip per
//! packet.
//!
//! Stop-and-wait costs one round trip per OBEX packet. With SRM the client asks for it in the
//! first PUT (header 0x97 = 0x01), the server grants it in its answer to that packet (the same
//! header), and from then on the client sends the rest back to back and the server answers only
//! the final packet, or early with an error. Either side may add SRMP (0x98 = 0x01, "wait"): the
//! server's wait makes the client send one packet and wait for its answer again (stop-and-wait)
//! until an answer comes without it. This is what BlueZ's gobex does for PUT
//! (`prepare_srm_req`, `prepare_srm_rsp`, `setup_srm`, `g_obex_srm_active`).
//!
//! SRM needs a transport that keeps packets reliable, in order and in one piece (L2CAP in ERTM);
//! gobex enables it on SOCK_SEQPACKET sockets only. Whether a push may ask is therefore the
//! transport's call ([`Transport::allows_srm`]), carried in `PushOptions::srm`.

use super::wire::header::{self, id, Header};

/// The SRM header's value that enables Single Response Mode.
pub const ENABLE: u8 = 0x01;
/// The SRMP header's value that asks the other side to wait for the next packet.
pub const WAIT: u8 = 0x01;

/// The SRM header asking for (or granting) Single Response Mode.
pub fn enable() -> Header {
    Header::byte(id::SRM, ENABLE).expect("0x97 is a one-byte header")
}

/// The SRMP header asking the client to wait for our next answer.
pub fn wait() -> Header {
    Header::byte(id::SRMP, WAIT).expect("0x98 is a one-byte header")
}

/// Whether these headers carry SRM = enable.
pub fn enabled_in(headers: &[Header]) -> bool {
    header::find(headers, id::SRM).and_then(Header::as_byte) == Some(ENABLE)
}

/// Whether these headers carry SRMP = wait.
pub fn wait_in(headers: &[Header]) -> bool {
    header::find(headers, id::SRMP).and_then(Header::as_byte) == Some(WAIT)
}

/// The transport an Object Push runs over, as far as OBEX cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// RFCOMM: a byte stream. Stop-and-wait only.
    Rfcomm,
    /// L2CAP in Enhanced Retransmission Mode (GOEP 2.0): reliable, ordered, packet boundaries
    /// kept; one OBEX packet per SDU, so packets are capped at the channel's MTU.
    L2capErtm { mtu: u16 },
    /// OBEX over TCP (port 650): reliable and ordered; SRM only when asked for.
    Tcp,
}

impl Transport {
    /// Whether a push over this transport asks for SRM by default.
    pub fn allows_srm(self) -> bool {
        matches!(self, Transport::L2capErtm { .. })
    }

    /// The largest OBEX packet the transport carries in one piece, if it limits it.
    pub fn packet_cap(self) -> Option<u16> {
        match self {
            Transport::L2capErtm { mtu } => Some(mtu),
            _ => None,
        }
    }

    /// A short name for logs and figures.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Rfcomm => "rfcomm",
            Transport::L2capErtm { .. } => "l2cap",
            Transport::Tcp => "tcp",
        }
    }
}

/// Where the client's PUT stands with SRM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientSrm {
    /// Not asked for, or not granted: every packet waits for its answer.
    Off,
    /// Asked for in the first PUT; the answer to it decides.
    Asked,
    /// Granted, but the server's last answer said wait: the next packet waits for its answer.
    Waiting,
    /// Granted: packets go back to back, only the final one is answered.
    Streaming,
}

impl ClientSrm {
    /// The state after a CONTINUE carrying `headers`. A grant counts only when we asked for it:
    /// a peer that enables SRM uninvited is answered stop-and-wait, as if it had not.
    pub fn after_continue(self, headers: &[Header]) -> ClientSrm {
        let granted = match self {
            ClientSrm::Off => return ClientSrm::Off,
            ClientSrm::Asked => enabled_in(headers),
            ClientSrm::Waiting | ClientSrm::Streaming => true,
        };
        match (granted, wait_in(headers)) {
            (false, _) => ClientSrm::Off,
            (true, true) => ClientSrm::Waiting,
            (true, false) => ClientSrm::Streaming,
        }
    }

    /// Whether the peer granted SRM for this PUT.
    pub fn granted(self) -> bool {
        matches!(self, ClientSrm::Waiting | ClientSrm::Streaming)
    }
}

/// The server's side of one PUT under SRM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerSrm {
    /// SRM is on for this PUT.
    pub on: bool,
    /// We said wait, so the next packet gets an answer.
    pub owe_answer: bool,
    /// How many more answers will say wait.
    pub waits_left: u32,
}

impl ServerSrm {
    /// The first packet's SRM: on when the client asked and the transport allows it.
    pub fn start(allowed: bool, request: &[Header], waits: u32) -> ServerSrm {
        ServerSrm {
            on: allowed && enabled_in(request),
            owe_answer: false,
            waits_left: waits,
        }
    }

    /// The headers to answer a non-final packet with, or `None` for no answer at all.
    /// `first` is the PUT's first packet, whose answer grants SRM.
    pub fn answer(&mut self, first: bool) -> Option<Vec<Header>> {
        if !self.on {
            return Some(Vec::new());
        }
        if !first && !self.owe_answer {
            return None;
        }
        let mut headers = if first { vec![enable()] } else { Vec::new() };
        self.owe_answer = self.waits_left > 0;
        if self.owe_answer {
            self.waits_left -= 1;
            headers.push(wait());
        }
        Some(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obex::wire::header::Value;

    #[test]
    fn headers_on_the_wire() {
        let mut out = Vec::new();
        enable().encode_into(&mut out).unwrap();
        wait().encode_into(&mut out).unwrap();
        assert_eq!(out, [0x97, 0x01, 0x98, 0x01]);
        let parsed = header::parse_headers(&out).unwrap();
        assert!(enabled_in(&parsed) && wait_in(&parsed));
        let off = [Header::new(id::SRM, Value::Byte(0)).unwrap()];
        assert!(!enabled_in(&off) && !wait_in(&off));
    }

    #[test]
    fn client_grant_only_when_asked() {
        let grant = [enable()];
        let grant_wait = [enable(), wait()];
        assert_eq!(ClientSrm::Off.after_continue(&grant), ClientSrm::Off);
        assert_eq!(ClientSrm::Asked.after_continue(&[]), ClientSrm::Off);
        assert_eq!(
            ClientSrm::Asked.after_continue(&grant),
            ClientSrm::Streaming
        );
        assert_eq!(
            ClientSrm::Asked.after_continue(&grant_wait),
            ClientSrm::Waiting
        );
        assert_eq!(
            ClientSrm::Waiting.after_continue(&[wait()]),
            ClientSrm::Waiting
        );
        assert_eq!(ClientSrm::Waiting.after_continue(&[]), ClientSrm::Streaming);
    }

    #[test]
    fn server_answers_first_then_only_when_waiting() {
        let mut s = ServerSrm::start(true, &[enable()], 1);
        assert_eq!(s.answer(true), Some(vec![enable(), wait()]));
        assert_eq!(s.answer(false), Some(vec![]));
        assert_eq!(s.answer(false), None);
        let mut off = ServerSrm::start(false, &[enable()], 0);
        assert_eq!(off.answer(true), Some(vec![]));
        assert_eq!(off.answer(false), Some(vec![]));
    }

    #[test]
    fn transports() {
        assert!(!Transport::Rfcomm.allows_srm());
        assert!(!Transport::Tcp.allows_srm());
        assert!(Transport::L2capErtm { mtu: 32767 }.allows_srm());
        assert_eq!(Transport::L2capErtm { mtu: 672 }.packet_cap(), Some(672));
    }
}

//! Asking a phone where its Object Push server listens: its RFCOMM channel and, on GOEP 2.0
//! phones, its L2CAP PSM (SDP attribute 0x0200, GoepL2capPsm).
//!
//! bluetoothd's `ConnectProfile` reads the same record but then connects L2CAP in basic mode,
//! which GOEP 2.0 servers (Android's, obexd's) do not take: OBEX over L2CAP needs Enhanced
//! Retransmission Mode. So the appliance asks itself, with one SDP Service Search Attribute
//! request over L2CAP PSM 1, and connects the channel in ERTM when the phone offers one. No
//! maintained Rust crate speaks SDP, so the few bytes are built and parsed here, every length
//! checked against what arrived: a malformed reply is an error naming the cause, never a panic.

use bluer::l2cap::{SeqPacket, Socket, SocketAddr};
use bluer::{Address, AddressType};
use std::io;
use std::time::Duration;

/// OBEX Object Push, the 16-bit UUID searched for.
const OPP_UUID16: u16 = 0x1105;
/// Protocol UUIDs of the protocol descriptor list.
const RFCOMM_UUID16: u16 = 0x0003;
/// Attributes asked for: the protocol descriptor list and GoepL2capPsm.
const PROTOCOLS: u16 = 0x0004;
const GOEP_L2CAP_PSM: u16 = 0x0200;
/// SDP's own PSM.
const SDP_PSM: u16 = 0x0001;
/// PDU ids.
const SEARCH_ATTRIBUTE_REQUEST: u8 = 0x06;
const SEARCH_ATTRIBUTE_RESPONSE: u8 = 0x07;
const ERROR_RESPONSE: u8 = 0x01;
/// Nesting deeper than this is not a service record.
const MAX_DEPTH: usize = 8;
/// A continued reply longer than this is not an Object Push record.
const MAX_REPLY: usize = 16 * 1024;
/// Round trips at most (each continues the one before).
const MAX_ROUNDS: usize = 16;

/// Where the phone's Object Push server listens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OppPorts {
    pub channel: Option<u8>,
    /// A valid L2CAP PSM (odd, upper byte even), when the phone offers GOEP 2.0.
    pub psm: Option<u16>,
}

/// Why the phone's record could not be read.
#[derive(Debug)]
pub enum SdpError {
    /// The phone never answered the page: off, or out of range.
    NoPage(String),
    /// Anything else; the reason, for the log.
    Failed(String),
}

/// Whether a connection failed because the phone never answered the page.
pub fn page_unanswered(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EHOSTDOWN | libc::ETIMEDOUT))
}

/// Asks the phone at `peer`, through the local adapter at `local`, within `limit`.
pub async fn opp_ports(
    local: Address,
    peer: Address,
    limit: Duration,
) -> Result<OppPorts, SdpError> {
    match tokio::time::timeout(limit, ask(local, peer)).await {
        Ok(result) => result,
        Err(_) => Err(SdpError::Failed(format!(
            "SDP: no answer within {} s",
            limit.as_secs()
        ))),
    }
}

async fn ask(local: Address, peer: Address) -> Result<OppPorts, SdpError> {
    let at = |addr, psm| SocketAddr {
        addr,
        addr_type: AddressType::BrEdr,
        psm,
        cid: 0,
    };
    let failed = |what: &str, e: io::Error| SdpError::Failed(format!("SDP {what}: {e}"));
    let socket = Socket::new_seq_packet().map_err(|e| failed("socket", e))?;
    socket.bind(at(local, 0)).map_err(|e| failed("bind", e))?;
    let conn = match socket.connect(at(peer, SDP_PSM)).await {
        Ok(conn) => conn,
        Err(e) if page_unanswered(&e) => return Err(SdpError::NoPage(format!("SDP connect: {e}"))),
        Err(e) => return Err(failed("connect", e)),
    };
    let lists = exchange(&conn).await.map_err(SdpError::Failed)?;
    ports(&lists).map_err(SdpError::Failed)
}

/// Sends the request, and its continuations, until the phone's reply is whole.
async fn exchange(conn: &SeqPacket) -> Result<Vec<u8>, String> {
    let mut lists = Vec::new();
    let mut continuation = Vec::new();
    let mut buf = vec![0u8; 1024];
    for round in 0..MAX_ROUNDS {
        let tid = round as u16 + 1;
        conn.send(&request(tid, &continuation))
            .await
            .map_err(|e| format!("SDP send: {e}"))?;
        let n = conn
            .recv(&mut buf)
            .await
            .map_err(|e| format!("SDP receive: {e}"))?;
        let part = response(&buf[..n], tid)?;
        lists.extend_from_slice(part.lists);
        if lists.len() > MAX_REPLY {
            return Err(format!("SDP: reply longer than {MAX_REPLY} bytes"));
        }
        if part.continuation.is_empty() {
            return Ok(lists);
        }
        continuation = part.continuation.to_vec();
    }
    Err(format!(
        "SDP: reply not complete after {MAX_ROUNDS} requests"
    ))
}

/// A Service Search Attribute request for Object Push records, their protocol descriptor list
/// and GoepL2capPsm.
pub fn request(tid: u16, continuation: &[u8]) -> Vec<u8> {
    let mut params = vec![0x35, 3, 0x19];
    params.extend_from_slice(&OPP_UUID16.to_be_bytes());
    params.extend_from_slice(&0xFFFFu16.to_be_bytes()); // maximum attribute byte count
    params.extend_from_slice(&[0x35, 6, 0x09]);
    params.extend_from_slice(&PROTOCOLS.to_be_bytes());
    params.push(0x09);
    params.extend_from_slice(&GOEP_L2CAP_PSM.to_be_bytes());
    params.push(continuation.len() as u8);
    params.extend_from_slice(continuation);
    let mut pdu = vec![SEARCH_ATTRIBUTE_REQUEST];
    pdu.extend_from_slice(&tid.to_be_bytes());
    pdu.extend_from_slice(&(params.len() as u16).to_be_bytes());
    pdu.extend_from_slice(&params);
    pdu
}

/// One response: part of the attribute lists and the continuation state (empty: the end).
#[derive(Debug, PartialEq)]
pub struct Part<'a> {
    pub lists: &'a [u8],
    pub continuation: &'a [u8],
}

/// Parses one response PDU to the request `tid`.
pub fn response(pdu: &[u8], tid: u16) -> Result<Part<'_>, String> {
    let mut r = Reader(pdu);
    let id = r.u8()?;
    let got = r.u16()?;
    let len = usize::from(r.u16()?);
    let params = r.take(len)?;
    if got != tid {
        return Err(format!("SDP: answer to request {got}, expected {tid}"));
    }
    let mut r = Reader(params);
    match id {
        SEARCH_ATTRIBUTE_RESPONSE => {
            let count = usize::from(r.u16()?);
            let lists = r.take(count)?;
            let cont_len = usize::from(r.u8()?);
            if cont_len > 16 {
                return Err(format!("SDP: continuation state of {cont_len} bytes"));
            }
            let continuation = r.take(cont_len)?;
            Ok(Part {
                lists,
                continuation,
            })
        }
        ERROR_RESPONSE => Err(format!("SDP: the phone answered error 0x{:04x}", r.u16()?)),
        other => Err(format!("SDP: unexpected PDU 0x{other:02x}")),
    }
}

/// Where Object Push listens, from the attribute lists of the phone's Object Push records (the
/// first record with a port wins, as bluetoothd reads them).
pub fn ports(lists: &[u8]) -> Result<OppPorts, String> {
    let (all, rest) = element(lists, 0)?;
    if !rest.is_empty() {
        return Err("SDP: bytes after the attribute lists".into());
    }
    let Element::Seq(records) = all else {
        return Err("SDP: the attribute lists are not a sequence".into());
    };
    for record in records {
        let found = record_ports(&record)?;
        if found.channel.is_some() || found.psm.is_some() {
            return Ok(found);
        }
    }
    Ok(OppPorts::default())
}

fn record_ports(record: &Element) -> Result<OppPorts, String> {
    let Element::Seq(items) = record else {
        return Err("SDP: a record is not a sequence".into());
    };
    let mut found = OppPorts::default();
    for pair in items.chunks(2) {
        match pair {
            [Element::Uint(PROTOCOLS_U64), protocols] => found.channel = rfcomm_channel(protocols),
            [Element::Uint(PSM_U64), Element::Uint(psm)] => found.psm = valid_psm(*psm),
            [Element::Uint(_), _] => {}
            _ => return Err("SDP: a record's attributes are not id/value pairs".into()),
        }
    }
    Ok(found)
}

const PROTOCOLS_U64: u64 = PROTOCOLS as u64;
const PSM_U64: u64 = GOEP_L2CAP_PSM as u64;

/// The RFCOMM channel in a protocol descriptor list.
fn rfcomm_channel(protocols: &Element) -> Option<u8> {
    let Element::Seq(layers) = protocols else {
        return None;
    };
    layers.iter().find_map(|layer| match layer {
        Element::Seq(l) => match l.as_slice() {
            [Element::Uuid(RFCOMM_UUID32), Element::Uint(ch), ..] => u8::try_from(*ch).ok(),
            _ => None,
        },
        _ => None,
    })
}

const RFCOMM_UUID32: u32 = RFCOMM_UUID16 as u32;

/// A PSM as the specification allows it: odd, the low bit of the upper byte clear.
fn valid_psm(psm: u64) -> Option<u16> {
    let psm = u16::try_from(psm).ok()?;
    (psm & 0x0101 == 0x0001).then_some(psm)
}

/// The data elements this needs; everything else is `Other`.
#[derive(Debug, PartialEq)]
enum Element {
    Uint(u64),
    /// A UUID in its short form (on the Bluetooth base UUID), or `u32::MAX` when it is not.
    Uuid(u32),
    Seq(Vec<Element>),
    Other,
}

/// Parses one data element; returns it and what follows.
fn element(bytes: &[u8], depth: usize) -> Result<(Element, &[u8]), String> {
    if depth > MAX_DEPTH {
        return Err(format!("SDP: elements nested deeper than {MAX_DEPTH}"));
    }
    let mut r = Reader(bytes);
    let descriptor = r.u8()?;
    let (kind, size) = (descriptor >> 3, descriptor & 0x07);
    let len = match size {
        0..=4 if kind == 0 => 0,
        0..=4 => 1usize << size,
        5 => usize::from(r.u8()?),
        6 => usize::from(r.u16()?),
        _ => r.u32()? as usize,
    };
    let body = r.take(len)?;
    let value = match kind {
        1 => Element::Uint(uint(body)),
        3 => Element::Uuid(uuid(body)),
        6 => Element::Seq(sequence(body, depth)?),
        _ => Element::Other,
    };
    Ok((value, r.0))
}

fn sequence(mut body: &[u8], depth: usize) -> Result<Vec<Element>, String> {
    let mut items = Vec::new();
    while !body.is_empty() {
        let (item, rest) = element(body, depth + 1)?;
        items.push(item);
        body = rest;
    }
    Ok(items)
}

/// An unsigned integer of up to 8 bytes (longer ones saturate: no port is that large).
fn uint(body: &[u8]) -> u64 {
    if body.len() > 8 {
        return u64::MAX;
    }
    body.iter().fold(0, |n, b| n << 8 | u64::from(*b))
}

const BASE_UUID_TAIL: [u8; 12] = [
    0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0x80, 0x5f, 0x9b, 0x34, 0xfb,
];

fn uuid(body: &[u8]) -> u32 {
    match body.len() {
        2 | 4 => uint(body) as u32,
        16 if body[4..] == BASE_UUID_TAIL => uint(&body[..4]) as u32,
        _ => u32::MAX,
    }
}

/// Reads big-endian fields, checking each length against what is left.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!(
                "SDP: reply cut short ({n} bytes announced, {} left)",
                self.0.len()
            ));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        Ok(uint(self.take(2)?) as u16)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(uint(self.take(4)?) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Object Push record as obexd's bluetoothd publishes it: L2CAP, RFCOMM channel 9, OBEX;
    /// GoepL2capPsm 0x1005 (trimmed to the two attributes asked for).
    fn obexd_lists(psm: u16) -> Vec<u8> {
        let protocols = [
            0x35, 0x11, // protocol descriptor list
            0x35, 0x03, 0x19, 0x01, 0x00, // L2CAP
            0x35, 0x05, 0x19, 0x00, 0x03, 0x08, 0x09, // RFCOMM, channel 9
            0x35, 0x03, 0x19, 0x00, 0x08, // OBEX
        ];
        let mut record = vec![0x09, 0x00, 0x04];
        record.extend_from_slice(&protocols);
        record.extend_from_slice(&[0x09, 0x02, 0x00, 0x09]);
        record.extend_from_slice(&psm.to_be_bytes());
        let mut lists = vec![0x35, record.len() as u8 + 2, 0x35, record.len() as u8];
        lists.extend_from_slice(&record);
        lists
    }

    fn reply(tid: u16, lists: &[u8], continuation: &[u8]) -> Vec<u8> {
        let mut params = (lists.len() as u16).to_be_bytes().to_vec();
        params.extend_from_slice(lists);
        params.push(continuation.len() as u8);
        params.extend_from_slice(continuation);
        let mut pdu = vec![SEARCH_ATTRIBUTE_RESPONSE];
        pdu.extend_from_slice(&tid.to_be_bytes());
        pdu.extend_from_slice(&(params.len() as u16).to_be_bytes());
        pdu.extend_from_slice(&params);
        pdu
    }

    #[test]
    fn the_request_asks_for_object_push_and_two_attributes() {
        assert_eq!(
            request(1, &[]),
            [
                0x06, 0x00, 0x01, 0x00, 0x10, 0x35, 0x03, 0x19, 0x11, 0x05, 0xFF, 0xFF, 0x35, 0x06,
                0x09, 0x00, 0x04, 0x09, 0x02, 0x00, 0x00
            ]
        );
    }

    #[test]
    fn a_goep_2_phone_offers_its_psm_and_channel() {
        let pdu = reply(1, &obexd_lists(0x1005), &[]);
        let part = response(&pdu, 1).unwrap();
        assert!(part.continuation.is_empty());
        let found = ports(part.lists).unwrap();
        assert_eq!(
            found,
            OppPorts {
                channel: Some(9),
                psm: Some(0x1005)
            }
        );
    }

    #[test]
    fn an_invalid_psm_is_no_psm() {
        let found = ports(&obexd_lists(0x1004)).unwrap();
        assert_eq!(found.psm, None, "even PSMs do not exist");
        assert_eq!(found.channel, Some(9));
    }

    #[test]
    fn a_phone_without_object_push_has_no_ports() {
        assert_eq!(ports(&[0x35, 0x00]).unwrap(), OppPorts::default());
    }

    #[test]
    fn malformed_replies_are_errors_that_name_the_cause() {
        let whole = reply(1, &obexd_lists(0x1005), &[]);
        for cut in 0..whole.len() {
            let err = response(&whole[..cut], 1).unwrap_err();
            assert!(err.contains("cut short"), "{cut}: {err}");
        }
        let lists = obexd_lists(0x1005);
        for cut in 1..lists.len() {
            assert!(ports(&lists[..cut]).is_err(), "lists cut at {cut}");
        }
        assert!(response(&whole, 2).unwrap_err().contains("expected 2"));
        let error = [0x01, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03];
        assert!(response(&error, 1).unwrap_err().contains("error 0x0003"));
        let mut nested = vec![0x35u8, 0x00];
        for _ in 0..MAX_DEPTH + 1 {
            let len = nested.len() as u8;
            nested.splice(0..0, [0x35, len]);
        }
        assert!(ports(&nested).unwrap_err().contains("deeper"));
        assert!(ports(&[0x35, 0x02, 0x09, 0x00])
            .unwrap_err()
            .contains("cut short"));
        assert!(ports(&[0x09, 0x00, 0x04])
            .unwrap_err()
            .contains("not a sequence"));
    }

    #[test]
    fn a_continued_reply_is_joined() {
        let lists = obexd_lists(0x1005);
        let (a, b) = lists.split_at(10);
        let first = reply(1, a, &[0xAB, 0xCD]);
        let part = response(&first, 1).unwrap();
        assert_eq!(part.continuation, [0xAB, 0xCD]);
        assert_eq!(&request(2, part.continuation)[20..], [0x02, 0xAB, 0xCD]);
        let second = reply(2, b, &[]);
        let mut joined = part.lists.to_vec();
        joined.extend_from_slice(response(&second, 2).unwrap().lists);
        assert_eq!(ports(&joined).unwrap().psm, Some(0x1005));
    }

    #[test]
    fn a_128_bit_rfcomm_uuid_counts() {
        let mut lists = obexd_lists(0x1005);
        // The same record with RFCOMM as a 128-bit UUID.
        let short = [0x19, 0x00, 0x03];
        let at = lists.windows(3).position(|w| w == short).unwrap();
        let mut long = vec![0x1C, 0x00, 0x00, 0x00, 0x03];
        long.extend_from_slice(&BASE_UUID_TAIL);
        lists.splice(at..at + 3, long);
        for at in [1, 3, 8, 15] {
            lists[at] += 14; // the lengths of the sequences around it
        }
        assert_eq!(ports(&lists).unwrap().channel, Some(9));
    }
}

//! Whole packets: requests (opcode, length, headers) and responses (code, length, headers),
//! with the extra fixed fields CONNECT carries.
//!
//! A response does not say which request it answers, so parsing one needs to be told whether
//! it answers a CONNECT (and so carries version, flags and max packet length).

use super::code::opcode;
use super::header::{parse_headers, Header};
use super::{WireError, VERSION};

/// The fields after the prefix of a CONNECT request and of its response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectFields {
    pub version: u8,
    pub flags: u8,
    pub max_packet: u16,
}

impl ConnectFields {
    /// OBEX 1.0, no flags, and the largest packet we will take.
    pub fn ours(max_packet: u16) -> ConnectFields {
        ConnectFields {
            version: VERSION,
            flags: 0,
            max_packet,
        }
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(self.version);
        out.push(self.flags);
        out.extend_from_slice(&self.max_packet.to_be_bytes());
    }

    /// Splits the 4 fixed bytes off `rest`.
    fn parse(first: u8, rest: &[u8]) -> Result<(ConnectFields, &[u8]), WireError> {
        match rest {
            [version, flags, hi, lo, tail @ ..] => Ok((
                ConnectFields {
                    version: *version,
                    flags: *flags,
                    max_packet: u16::from_be_bytes([*hi, *lo]),
                },
                tail,
            )),
            _ => Err(WireError::MissingFixedFields {
                opcode: first,
                have: rest.len(),
            }),
        }
    }
}

/// A request packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub opcode: u8,
    /// Present exactly when `opcode` is CONNECT.
    pub connect: Option<ConnectFields>,
    pub headers: Vec<Header>,
}

impl Request {
    pub fn new(opcode: u8, headers: Vec<Header>) -> Request {
        Request {
            opcode,
            connect: None,
            headers,
        }
    }

    pub fn connect(max_packet: u16, headers: Vec<Header>) -> Request {
        Request {
            opcode: opcode::CONNECT,
            connect: Some(ConnectFields::ours(max_packet)),
            headers,
        }
    }

    pub fn is_final(&self) -> bool {
        self.opcode & opcode::FINAL_BIT != 0
    }

    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        encode_packet(self.opcode, self.connect, &self.headers)
    }

    /// Parses one whole request. SETPATH's two fixed bytes are skipped (we never act on them).
    pub fn parse(bytes: &[u8]) -> Result<Request, WireError> {
        let (op, rest) = split_prefix(bytes)?;
        let (connect, rest) = match op {
            opcode::CONNECT => {
                let (fields, tail) = ConnectFields::parse(op, rest)?;
                (Some(fields), tail)
            }
            opcode::SETPATH => (None, skip_setpath_fields(rest)?),
            _ => (None, rest),
        };
        Ok(Request {
            opcode: op,
            connect,
            headers: parse_headers(rest)?,
        })
    }
}

fn skip_setpath_fields(rest: &[u8]) -> Result<&[u8], WireError> {
    rest.get(2..).ok_or(WireError::MissingFixedFields {
        opcode: opcode::SETPATH,
        have: rest.len(),
    })
}

/// A response packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub code: u8,
    /// Present in a response to CONNECT.
    pub connect: Option<ConnectFields>,
    pub headers: Vec<Header>,
}

impl Response {
    /// A response with just a code.
    pub fn bare(code: u8) -> Response {
        Response {
            code,
            connect: None,
            headers: Vec::new(),
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        encode_packet(self.code, self.connect, &self.headers)
    }

    /// Parses one whole response; `answers_connect` says whether the fixed CONNECT fields follow
    /// the prefix (they must, then).
    pub fn parse(bytes: &[u8], answers_connect: bool) -> Result<Response, WireError> {
        let (code, rest) = split_prefix(bytes)?;
        let (connect, rest) = if answers_connect {
            let (fields, tail) = ConnectFields::parse(code, rest)?;
            (Some(fields), tail)
        } else {
            (None, rest)
        };
        Ok(Response {
            code,
            connect,
            headers: parse_headers(rest)?,
        })
    }
}

fn encode_packet(
    first: u8,
    connect: Option<ConnectFields>,
    headers: &[Header],
) -> Result<Vec<u8>, WireError> {
    let mut out = vec![first, 0, 0];
    if let Some(fields) = connect {
        fields.encode_into(&mut out);
    }
    for h in headers {
        h.encode_into(&mut out)?;
    }
    let len = u16::try_from(out.len()).map_err(|_| WireError::PacketTooLong { len: out.len() })?;
    out[1..3].copy_from_slice(&len.to_be_bytes());
    Ok(out)
}

/// Checks the length field against the bytes given; returns the first byte and what follows
/// the prefix.
fn split_prefix(bytes: &[u8]) -> Result<(u8, &[u8]), WireError> {
    let [first, hi, lo, rest @ ..] = bytes else {
        return Err(WireError::PacketTooShort { len: bytes.len() });
    };
    let declared = u16::from_be_bytes([*hi, *lo]);
    if declared < 3 {
        return Err(WireError::LengthFieldTooSmall { len: declared });
    }
    if usize::from(declared) != bytes.len() {
        return Err(WireError::LengthMismatch {
            declared,
            actual: bytes.len(),
        });
    }
    Ok((*first, rest))
}

#[cfg(test)]
mod tests {
    use super::super::code;
    use super::super::header::{id, Value};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn connect_request_without_target() {
        let req = Request::connect(0xFFFF, Vec::new());
        let bytes = req.encode().unwrap();
        assert_eq!(bytes, [0x80, 0x00, 0x07, 0x10, 0x00, 0xFF, 0xFF]);
        assert_eq!(Request::parse(&bytes).unwrap(), req);
        assert!(req.is_final());
    }

    #[test]
    fn connect_request_with_headers() {
        let req = Request::connect(0x2000, vec![Header::target(vec![1, 2, 3])]);
        let bytes = req.encode().unwrap();
        assert_eq!(&bytes[..7], &[0x80, 0x00, 13, 0x10, 0x00, 0x20, 0x00]);
        assert_eq!(Request::parse(&bytes).unwrap(), req);
    }

    #[test]
    fn connect_request_missing_fields() {
        assert_eq!(
            Request::parse(&[0x80, 0, 5, 0x10, 0]),
            Err(WireError::MissingFixedFields {
                opcode: 0x80,
                have: 2
            })
        );
    }

    #[test]
    fn connect_response() {
        let resp = Response {
            code: code::SUCCESS,
            connect: Some(ConnectFields::ours(0x0400)),
            headers: vec![Header::connection_id(1)],
        };
        let bytes = resp.encode().unwrap();
        assert_eq!(&bytes[..7], &[0xA0, 0x00, 12, 0x10, 0x00, 0x04, 0x00]);
        assert_eq!(Response::parse(&bytes, true).unwrap(), resp);
        assert!(Response::parse(&[0xA0, 0, 3], true).is_err());
    }

    #[test]
    fn put_and_put_final() {
        let first = Request::new(
            opcode::PUT,
            vec![
                Header::name("a.txt"),
                Header::mime("text/plain"),
                Header::length(3),
                Header::body(vec![1, 2]),
            ],
        );
        let bytes = first.encode().unwrap();
        assert_eq!(bytes[0], 0x02);
        assert_eq!(
            usize::from(u16::from_be_bytes([bytes[1], bytes[2]])),
            bytes.len()
        );
        assert_eq!(Request::parse(&bytes).unwrap(), first);
        assert!(!first.is_final());

        let last = Request::new(opcode::PUT_FINAL, vec![Header::end_of_body(vec![3])]);
        let bytes = last.encode().unwrap();
        assert_eq!(bytes, [0x82, 0, 7, 0x49, 0, 4, 3]);
        assert_eq!(Request::parse(&bytes).unwrap(), last);
        assert!(last.is_final());
    }

    #[test]
    fn disconnect_and_abort() {
        let d = Request::new(opcode::DISCONNECT, Vec::new());
        assert_eq!(d.encode().unwrap(), [0x81, 0, 3]);
        assert_eq!(Request::parse(&[0x81, 0, 3]).unwrap(), d);
        let a = Request::new(opcode::ABORT, vec![Header::connection_id(7)]);
        assert_eq!(a.encode().unwrap(), [0xFF, 0, 8, 0xCB, 0, 0, 0, 7]);
        assert_eq!(Request::parse(&a.encode().unwrap()).unwrap(), a);
    }

    #[test]
    fn setpath_fields_are_skipped() {
        let r = Request::parse(&[0x85, 0, 5, 2, 0]).unwrap();
        assert_eq!(r.opcode, opcode::SETPATH);
        assert!(r.headers.is_empty());
        assert!(Request::parse(&[0x85, 0, 4, 2]).is_err());
    }

    #[test]
    fn bare_responses() {
        for c in [
            code::CONTINUE,
            code::SUCCESS,
            code::FORBIDDEN,
            code::INTERNAL_SERVER_ERROR,
        ] {
            let bytes = Response::bare(c).encode().unwrap();
            assert_eq!(bytes, [c, 0, 3]);
            assert_eq!(Response::parse(&bytes, false).unwrap(), Response::bare(c));
        }
    }

    #[test]
    fn prefix_defects() {
        assert_eq!(
            Response::parse(&[0xA0, 0], false),
            Err(WireError::PacketTooShort { len: 2 })
        );
        assert_eq!(
            Response::parse(&[0xA0, 0, 2], false),
            Err(WireError::LengthFieldTooSmall { len: 2 })
        );
        assert_eq!(
            Response::parse(&[0xA0, 0, 9, 0], false),
            Err(WireError::LengthMismatch {
                declared: 9,
                actual: 4
            })
        );
    }

    #[test]
    fn oversized_packet_is_refused() {
        let headers = vec![Header::body(vec![0; 40_000]), Header::body(vec![0; 40_000])];
        assert!(matches!(
            Request::new(opcode::PUT, headers).encode(),
            Err(WireError::PacketTooLong { .. })
        ));
    }

    #[test]
    fn response_with_description_header() {
        let h = Header::new(id::DESCRIPTION, Value::Unicode("nope".into())).unwrap();
        let resp = Response {
            code: code::FORBIDDEN,
            connect: None,
            headers: vec![h],
        };
        assert_eq!(
            Response::parse(&resp.encode().unwrap(), false).unwrap(),
            resp
        );
    }

    fn arb_opcode() -> impl Strategy<Value = u8> {
        any::<u8>().prop_filter("SETPATH fields are not kept", |&o| o != opcode::SETPATH)
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = Request::parse(&bytes);
            let _ = Response::parse(&bytes, true);
            let _ = Response::parse(&bytes, false);
        }

        #[test]
        fn parsers_never_panic_with_consistent_length(
            first in any::<u8>(),
            body in proptest::collection::vec(any::<u8>(), 0..400),
        ) {
            let mut bytes = vec![first, 0, 0];
            bytes.extend_from_slice(&body);
            let len = bytes.len() as u16;
            bytes[1..3].copy_from_slice(&len.to_be_bytes());
            let _ = Request::parse(&bytes);
            let _ = Response::parse(&bytes, true);
            let _ = Response::parse(&bytes, false);
        }

        #[test]
        fn requests_round_trip(
            op in arb_opcode(),
            max in any::<u16>(),
            headers in proptest::collection::vec(super::super::header::tests::arb_header(), 0..6),
        ) {
            let req = if op == opcode::CONNECT {
                Request::connect(max, headers)
            } else {
                Request::new(op, headers)
            };
            let bytes = req.encode().unwrap();
            prop_assert_eq!(Request::parse(&bytes).unwrap(), req);
        }

        #[test]
        fn responses_round_trip(
            code in any::<u8>(),
            connect in proptest::option::of(any::<u16>()),
            headers in proptest::collection::vec(super::super::header::tests::arb_header(), 0..6),
        ) {
            let resp = Response { code, connect: connect.map(ConnectFields::ours), headers };
            let bytes = resp.encode().unwrap();
            prop_assert_eq!(Response::parse(&bytes, resp.connect.is_some()).unwrap(), resp);
        }
    }
}

//! OBEX headers: the id byte, whose high two bits say how the value is encoded, then the value.
//!
//! Unknown ids are parsed by their encoding bits and kept, never rejected: phones add
//! vendor headers, and refusing them would refuse the phone.

use super::WireError;

/// Header ids Object Push meets.
pub mod id {
    pub const COUNT: u8 = 0xC0;
    pub const NAME: u8 = 0x01;
    pub const TYPE: u8 = 0x42;
    pub const LENGTH: u8 = 0xC3;
    pub const TIME_ISO: u8 = 0x44;
    pub const TIME_COMPAT: u8 = 0xC4;
    pub const DESCRIPTION: u8 = 0x05;
    pub const TARGET: u8 = 0x46;
    pub const HTTP: u8 = 0x47;
    pub const BODY: u8 = 0x48;
    pub const END_OF_BODY: u8 = 0x49;
    pub const WHO: u8 = 0x4A;
    pub const CONNECTION_ID: u8 = 0xCB;
    pub const APP_PARAMETERS: u8 = 0x4C;
    pub const AUTH_CHALLENGE: u8 = 0x4D;
    pub const AUTH_RESPONSE: u8 = 0x4E;
    pub const OBJECT_CLASS: u8 = 0x4F;
    /// Single Response Mode (OBEX 1.5, GOEP 2.0): one byte, see [`crate::obex::srm`].
    pub const SRM: u8 = 0x97;
    /// Single Response Mode Parameters: one byte, 0x01 asks the other side to wait.
    pub const SRMP: u8 = 0x98;
}

/// How a header's value is laid out, from the high two bits of its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// 0b00: u16 length, then null-terminated UTF-16BE text.
    Unicode,
    /// 0b01: u16 length, then bytes.
    Bytes,
    /// 0b10: one byte.
    Byte,
    /// 0b11: four bytes, big-endian.
    Quad,
}

impl Encoding {
    pub fn of(id: u8) -> Encoding {
        match id >> 6 {
            0 => Encoding::Unicode,
            1 => Encoding::Bytes,
            2 => Encoding::Byte,
            _ => Encoding::Quad,
        }
    }
}

/// A header's value, already decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Unicode(String),
    Bytes(Vec<u8>),
    Byte(u8),
    Quad(u32),
}

impl Value {
    pub fn encoding(&self) -> Encoding {
        match self {
            Value::Unicode(_) => Encoding::Unicode,
            Value::Bytes(_) => Encoding::Bytes,
            Value::Byte(_) => Encoding::Byte,
            Value::Quad(_) => Encoding::Quad,
        }
    }
}

/// One header. The value always matches the encoding of the id (checked by [`Header::new`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    id: u8,
    value: Value,
}

impl Header {
    /// A header with any id; fails when the value's kind contradicts the id's encoding bits.
    pub fn new(id: u8, value: Value) -> Result<Header, WireError> {
        if Encoding::of(id) != value.encoding() {
            return Err(WireError::EncodingMismatch { id });
        }
        Ok(Header { id, value })
    }

    pub fn name(text: &str) -> Header {
        Header::known(id::NAME, Value::Unicode(text.to_owned()))
    }

    /// The Type header: the MIME type as null-terminated ASCII in a byte sequence.
    pub fn mime(mime: &str) -> Header {
        let mut bytes = mime.as_bytes().to_vec();
        bytes.push(0);
        Header::known(id::TYPE, Value::Bytes(bytes))
    }

    pub fn length(len: u32) -> Header {
        Header::known(id::LENGTH, Value::Quad(len))
    }

    pub fn body(data: Vec<u8>) -> Header {
        Header::known(id::BODY, Value::Bytes(data))
    }

    pub fn end_of_body(data: Vec<u8>) -> Header {
        Header::known(id::END_OF_BODY, Value::Bytes(data))
    }

    pub fn connection_id(cid: u32) -> Header {
        Header::known(id::CONNECTION_ID, Value::Quad(cid))
    }

    /// A one-byte header (SRM, SRMP); its id must have the one-byte encoding bits (0b10).
    pub fn byte(id: u8, value: u8) -> Result<Header, WireError> {
        Header::new(id, Value::Byte(value))
    }

    pub fn as_byte(&self) -> Option<u8> {
        match self.value {
            Value::Byte(b) => Some(b),
            _ => None,
        }
    }

    pub fn target(data: Vec<u8>) -> Header {
        Header::known(id::TARGET, Value::Bytes(data))
    }

    /// For the constructors above, whose ids are known to match their values.
    fn known(id: u8, value: Value) -> Header {
        Header { id, value }
    }

    pub fn id(&self) -> u8 {
        self.id
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    pub fn as_text(&self) -> Option<&str> {
        match &self.value {
            Value::Unicode(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.value {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_u32(&self) -> Option<u32> {
        match self.value {
            Value::Quad(q) => Some(q),
            _ => None,
        }
    }

    /// Bytes this header occupies on the wire.
    pub fn encoded_len(&self) -> usize {
        match &self.value {
            Value::Unicode(s) if s.is_empty() => 3,
            Value::Unicode(s) => 3 + 2 * s.encode_utf16().count() + 2,
            Value::Bytes(b) => 3 + b.len(),
            Value::Byte(_) => 2,
            Value::Quad(_) => 5,
        }
    }

    /// Appends the wire form; fails only when the value is too long for a 16-bit length.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        let len = self.encoded_len();
        out.push(self.id);
        match &self.value {
            Value::Unicode(s) => {
                push_len(out, self.id, len)?;
                for unit in s.encode_utf16() {
                    out.extend_from_slice(&unit.to_be_bytes());
                }
                if !s.is_empty() {
                    out.extend_from_slice(&[0, 0]);
                }
            }
            Value::Bytes(b) => {
                push_len(out, self.id, len)?;
                out.extend_from_slice(b);
            }
            Value::Byte(v) => out.push(*v),
            Value::Quad(q) => out.extend_from_slice(&q.to_be_bytes()),
        }
        Ok(())
    }
}

fn push_len(out: &mut Vec<u8>, id: u8, len: usize) -> Result<(), WireError> {
    let len16 = u16::try_from(len).map_err(|_| WireError::HeaderTooLong { id, len })?;
    out.extend_from_slice(&len16.to_be_bytes());
    Ok(())
}

/// Parses a run of headers filling `bytes` exactly.
pub fn parse_headers(mut bytes: &[u8]) -> Result<Vec<Header>, WireError> {
    let mut headers = Vec::new();
    while let Some((&id, rest)) = bytes.split_first() {
        let (header, used) = parse_one(id, rest)?;
        headers.push(header);
        bytes = &bytes[used..];
    }
    Ok(headers)
}

/// Parses one header given its id and the bytes after it; returns it and the bytes it used
/// (counting the id).
fn parse_one(id: u8, rest: &[u8]) -> Result<(Header, usize), WireError> {
    match Encoding::of(id) {
        Encoding::Byte => {
            let v = take(id, rest, 1)?;
            Ok((Header::known(id, Value::Byte(v[0])), 2))
        }
        Encoding::Quad => {
            let v = take(id, rest, 4)?;
            let q = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
            Ok((Header::known(id, Value::Quad(q)), 5))
        }
        Encoding::Bytes => {
            let (data, used) = prefixed(id, rest)?;
            Ok((Header::known(id, Value::Bytes(data.to_vec())), used))
        }
        Encoding::Unicode => {
            let (data, used) = prefixed(id, rest)?;
            let text = decode_utf16(id, data)?;
            Ok((Header::known(id, Value::Unicode(text)), used))
        }
    }
}

/// The first `n` bytes of `rest`, or an error naming the truncated header.
fn take(id: u8, rest: &[u8], n: usize) -> Result<&[u8], WireError> {
    rest.get(..n).ok_or(WireError::TruncatedHeader {
        id,
        need: n,
        have: rest.len(),
    })
}

/// A u16-length-prefixed value (the length counts id and length bytes); returns the value and
/// the total bytes the header used.
fn prefixed(id: u8, rest: &[u8]) -> Result<(&[u8], usize), WireError> {
    let l = take(id, rest, 2)?;
    let len = u16::from_be_bytes([l[0], l[1]]);
    if len < 3 {
        return Err(WireError::HeaderLengthTooSmall { id, len });
    }
    let data = take(id, &rest[2..], usize::from(len) - 3)?;
    Ok((data, usize::from(len)))
}

/// UTF-16BE text, with its null terminator (if any) removed. A missing terminator is tolerated:
/// some phones omit it, and the length field already bounds the text.
fn decode_utf16(id: u8, data: &[u8]) -> Result<String, WireError> {
    if !data.len().is_multiple_of(2) {
        let len = u16::try_from(data.len() + 3).unwrap_or(u16::MAX);
        return Err(WireError::OddUnicodeLength { id, len });
    }
    let mut units: Vec<u16> = data
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect();
    if units.last() == Some(&0) {
        units.pop();
    }
    String::from_utf16(&units).map_err(|_| WireError::InvalidUtf16 { id })
}

/// The first header with this id.
pub fn find(headers: &[Header], id: u8) -> Option<&Header> {
    headers.iter().find(|h| h.id == id)
}

/// A Type header's bytes as text: trailing NULs dropped, anything not UTF-8 replaced.
pub fn mime_text(bytes: &[u8]) -> String {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(h: &Header) -> Vec<u8> {
        let mut out = Vec::new();
        h.encode_into(&mut out).unwrap();
        assert_eq!(out.len(), h.encoded_len());
        out
    }

    fn one(bytes: &[u8]) -> Result<Header, WireError> {
        let mut hs = parse_headers(bytes)?;
        assert_eq!(hs.len(), 1);
        Ok(hs.remove(0))
    }

    #[test]
    fn encoding_from_high_bits() {
        assert_eq!(Encoding::of(id::NAME), Encoding::Unicode);
        assert_eq!(Encoding::of(id::TYPE), Encoding::Bytes);
        assert_eq!(Encoding::of(0x97), Encoding::Byte);
        assert_eq!(Encoding::of(id::LENGTH), Encoding::Quad);
    }

    #[test]
    fn unicode_name_ascii() {
        let h = Header::name("ab");
        assert_eq!(enc(&h), [0x01, 0x00, 0x09, 0, b'a', 0, b'b', 0, 0]);
        assert_eq!(one(&enc(&h)).unwrap(), h);
    }

    #[test]
    fn unicode_empty_name_is_three_bytes() {
        let h = Header::name("");
        assert_eq!(enc(&h), [0x01, 0x00, 0x03]);
        assert_eq!(one(&enc(&h)).unwrap().as_text(), Some(""));
        // A lone terminator also means empty.
        assert_eq!(one(&[0x01, 0, 5, 0, 0]).unwrap().as_text(), Some(""));
    }

    #[test]
    fn unicode_non_ascii_and_surrogate_pair() {
        let h = Header::name("Grüße 📎.png");
        let bytes = enc(&h);
        // 📎 is U+1F4CE: a surrogate pair D83D DCCE.
        assert!(bytes.windows(4).any(|w| w == [0xD8, 0x3D, 0xDC, 0xCE]));
        assert_eq!(one(&bytes).unwrap(), h);
    }

    #[test]
    fn unicode_without_terminator_is_tolerated() {
        assert_eq!(one(&[0x01, 0, 5, 0, b'x']).unwrap().as_text(), Some("x"));
    }

    #[test]
    fn unicode_lone_surrogate_is_an_error() {
        let err = one(&[0x01, 0, 7, 0xD8, 0x3D, 0, 0]).unwrap_err();
        assert_eq!(err, WireError::InvalidUtf16 { id: 0x01 });
        assert!(err.to_string().contains("not valid UTF-16"));
    }

    #[test]
    fn unicode_odd_length_is_an_error() {
        let err = one(&[0x01, 0, 6, 0, b'a', 0]).unwrap_err();
        assert_eq!(err, WireError::OddUnicodeLength { id: 0x01, len: 6 });
    }

    #[test]
    fn byte_sequence_type() {
        let h = Header::mime("text/x-vcard");
        let bytes = enc(&h);
        assert_eq!(&bytes[..3], &[0x42, 0x00, 16]);
        assert_eq!(bytes.last(), Some(&0));
        let back = one(&bytes).unwrap();
        assert_eq!(mime_text(back.as_bytes().unwrap()), "text/x-vcard");
    }

    #[test]
    fn byte_sequence_empty_body() {
        let h = Header::end_of_body(Vec::new());
        assert_eq!(enc(&h), [0x49, 0, 3]);
        assert_eq!(one(&[0x49, 0, 3]).unwrap(), h);
    }

    #[test]
    fn one_byte_header() {
        let h = Header::new(0x93, Value::Byte(7)).unwrap();
        assert_eq!(enc(&h), [0x93, 7]);
        assert_eq!(one(&[0x93, 7]).unwrap(), h);
    }

    #[test]
    fn four_byte_headers() {
        let h = Header::length(0x0102_0304);
        assert_eq!(enc(&h), [0xC3, 1, 2, 3, 4]);
        assert_eq!(one(&enc(&h)).unwrap().as_u32(), Some(0x0102_0304));
        let c = Header::connection_id(9);
        assert_eq!(enc(&c), [0xCB, 0, 0, 0, 9]);
        let count = Header::new(id::COUNT, Value::Quad(1)).unwrap();
        assert_eq!(one(&enc(&count)).unwrap(), count);
    }

    #[test]
    fn unknown_ids_are_kept_by_encoding() {
        let bytes = [
            0x30, 0, 5, 0, b'z', // unknown unicode
            0x70, 0, 4, 9, // unknown byte sequence
            0xB0, 1, // unknown byte
            0xF0, 0, 0, 0, 2, // unknown quad
        ];
        let hs = parse_headers(&bytes).unwrap();
        let ids: Vec<u8> = hs.iter().map(Header::id).collect();
        assert_eq!(ids, [0x30, 0x70, 0xB0, 0xF0]);
        assert_eq!(hs[0].as_text(), Some("z"));
        assert_eq!(hs[1].as_bytes(), Some(&[9u8][..]));
        assert_eq!(hs[2].value(), &Value::Byte(1));
        assert_eq!(hs[3].as_u32(), Some(2));
    }

    #[test]
    fn truncated_headers_are_errors() {
        assert!(matches!(
            parse_headers(&[0xC3, 0, 0]),
            Err(WireError::TruncatedHeader {
                id: 0xC3,
                need: 4,
                have: 2
            })
        ));
        assert!(matches!(
            parse_headers(&[0x97]),
            Err(WireError::TruncatedHeader { id: 0x97, .. })
        ));
        assert!(matches!(
            parse_headers(&[0x48, 0]),
            Err(WireError::TruncatedHeader { id: 0x48, .. })
        ));
        assert!(matches!(
            parse_headers(&[0x48, 0, 9, 1, 2]),
            Err(WireError::TruncatedHeader {
                id: 0x48,
                need: 6,
                have: 2
            })
        ));
        assert_eq!(
            parse_headers(&[0x48, 0, 2]),
            Err(WireError::HeaderLengthTooSmall { id: 0x48, len: 2 })
        );
    }

    #[test]
    fn mismatched_value_is_refused() {
        assert_eq!(
            Header::new(id::NAME, Value::Quad(1)),
            Err(WireError::EncodingMismatch { id: id::NAME })
        );
    }

    #[test]
    fn oversized_header_is_refused_when_encoding() {
        let h = Header::body(vec![0; 70_000]);
        let mut out = Vec::new();
        assert!(matches!(
            h.encode_into(&mut out),
            Err(WireError::HeaderTooLong { id: 0x48, .. })
        ));
    }

    #[test]
    fn mime_text_strips_terminators() {
        assert_eq!(mime_text(b"image/png\0\0"), "image/png");
        assert_eq!(mime_text(b""), "");
        assert_eq!(mime_text(b"\0"), "");
    }

    pub(crate) fn arb_header() -> impl Strategy<Value = Header> {
        let unicode = (0u8..0x40, ".{0,40}").prop_map(|(i, s)| (i, Value::Unicode(s)));
        let bytes = (0x40u8..0x80, proptest::collection::vec(any::<u8>(), 0..100))
            .prop_map(|(i, b)| (i, Value::Bytes(b)));
        let byte = (0x80u8..0xC0, any::<u8>()).prop_map(|(i, b)| (i, Value::Byte(b)));
        let quad = (0xC0u8..=0xFF, any::<u32>()).prop_map(|(i, q)| (i, Value::Quad(q)));
        prop_oneof![unicode, bytes, byte, quad]
            .prop_filter_map("consistent", |(i, v)| Header::new(i, v).ok())
    }

    proptest! {
        #[test]
        fn parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_headers(&bytes);
        }

        #[test]
        fn headers_round_trip(hs in proptest::collection::vec(arb_header(), 0..8)) {
            let mut out = Vec::new();
            for h in &hs {
                h.encode_into(&mut out).unwrap();
            }
            prop_assert_eq!(parse_headers(&out).unwrap(), hs);
        }
    }
}

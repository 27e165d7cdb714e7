//! What can be wrong with bytes that claim to be OBEX, one variant per defect.
//!
//! Kept apart from the parsers so the client, the server and the framed reader all report the
//! same defect in the same words.

use std::fmt;

/// A defect in a packet or header, found while encoding or parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Fewer bytes than the 3-byte opcode/length prefix.
    PacketTooShort { len: usize },
    /// The length field is below 3, which cannot even cover the prefix.
    LengthFieldTooSmall { len: u16 },
    /// The length field exceeds the maximum packet length in force.
    LengthFieldTooLarge { len: u16, max: u16 },
    /// The length field disagrees with the bytes actually given.
    LengthMismatch { declared: u16, actual: usize },
    /// A CONNECT packet (or SETPATH) without its fixed fields after the prefix.
    MissingFixedFields { opcode: u8, have: usize },
    /// A header runs past the end of the packet.
    TruncatedHeader { id: u8, need: usize, have: usize },
    /// A length-prefixed header whose length cannot cover its own 3 bytes.
    HeaderLengthTooSmall { id: u8, len: u16 },
    /// A Unicode header whose text is not a whole number of UTF-16 units.
    OddUnicodeLength { id: u8, len: u16 },
    /// A Unicode header that is not valid UTF-16 (e.g. a lone surrogate).
    InvalidUtf16 { id: u8 },
    /// A header value whose kind does not match the encoding bits of its id.
    EncodingMismatch { id: u8 },
    /// A header too long for its 16-bit length field.
    HeaderTooLong { id: u8, len: usize },
    /// A packet too long for its 16-bit length field.
    PacketTooLong { len: usize },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::PacketTooShort { len } => {
                write!(f, "packet of {len} bytes is shorter than the 3-byte prefix")
            }
            WireError::LengthFieldTooSmall { len } => {
                write!(f, "packet length field {len} is below the minimum of 3")
            }
            WireError::LengthFieldTooLarge { len, max } => {
                write!(f, "packet length field {len} exceeds the maximum packet length {max}")
            }
            WireError::LengthMismatch { declared, actual } => {
                write!(f, "packet length field says {declared} bytes but {actual} were given")
            }
            WireError::MissingFixedFields { opcode, have } => write!(
                f,
                "packet with opcode 0x{opcode:02X} lacks its fixed fields ({have} bytes after the prefix)"
            ),
            WireError::TruncatedHeader { id, need, have } => write!(
                f,
                "header 0x{id:02X} is truncated: needs {need} bytes, only {have} left in the packet"
            ),
            WireError::HeaderLengthTooSmall { id, len } => {
                write!(f, "header 0x{id:02X} has length {len}, below the minimum of 3")
            }
            WireError::OddUnicodeLength { id, len } => write!(
                f,
                "Unicode header 0x{id:02X} has length {len}: not a whole number of UTF-16 units"
            ),
            WireError::InvalidUtf16 { id } => {
                write!(f, "Unicode header 0x{id:02X} is not valid UTF-16")
            }
            WireError::EncodingMismatch { id } => write!(
                f,
                "header 0x{id:02X} value does not match the encoding its id's high bits require"
            ),
            WireError::HeaderTooLong { id, len } => {
                write!(f, "header 0x{id:02X} of {len} bytes does not fit a 16-bit length")
            }
            WireError::PacketTooLong { len } => {
                write!(f, "packet of {len} bytes does not fit a 16-bit length")
            }
        }
    }
}

impl std::error::Error for WireError {}

//! The OBEX wire format (IrOBEX 1.3), as much of it as Object Push needs.
//!
//! Everything here is pure bytes-in, values-out (apart from [`framed`], which cuts a byte stream
//! into packets). Every parser returns a [`WireError`] naming the defect instead of panicking,
//! because every byte we parse was written by a stranger's phone.

pub mod code;
mod error;
pub mod framed;
pub mod header;
pub mod packet;

pub use error::WireError;
pub use framed::{Framed, Heard, ReadError};
pub use header::{Encoding, Header, Value};
pub use packet::{ConnectFields, Request, Response};

/// The smallest maximum packet length IrOBEX allows a peer to announce.
pub const MIN_PACKET: u16 = 255;

/// The OBEX version we announce in CONNECT (1.0).
pub const VERSION: u8 = 0x10;

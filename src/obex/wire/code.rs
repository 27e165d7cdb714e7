//! The numbers in a packet's first byte: request opcodes and response codes.
//!
//! Response codes are what a phone tells us about our offer, and they end up in logs and in the
//! database, so each one has a name people can read ("0xC3 Forbidden").

/// Request opcodes. The final bit (0x80) marks the last packet of a request.
pub mod opcode {
    pub const FINAL_BIT: u8 = 0x80;
    pub const CONNECT: u8 = 0x80;
    pub const DISCONNECT: u8 = 0x81;
    pub const PUT: u8 = 0x02;
    pub const PUT_FINAL: u8 = 0x82;
    pub const GET: u8 = 0x03;
    pub const GET_FINAL: u8 = 0x83;
    pub const SETPATH: u8 = 0x85;
    pub const ABORT: u8 = 0xFF;
}

pub const CONTINUE: u8 = 0x90;
pub const SUCCESS: u8 = 0xA0;
pub const CREATED: u8 = 0xA1;
pub const ACCEPTED: u8 = 0xA2;
pub const NON_AUTHORITATIVE: u8 = 0xA3;
pub const NO_CONTENT: u8 = 0xA4;
pub const BAD_REQUEST: u8 = 0xC0;
pub const UNAUTHORIZED: u8 = 0xC1;
pub const PAYMENT_REQUIRED: u8 = 0xC2;
pub const FORBIDDEN: u8 = 0xC3;
pub const NOT_FOUND: u8 = 0xC4;
pub const METHOD_NOT_ALLOWED: u8 = 0xC5;
pub const NOT_ACCEPTABLE: u8 = 0xC6;
pub const PROXY_AUTH_REQUIRED: u8 = 0xC7;
pub const REQUEST_TIMEOUT: u8 = 0xC8;
pub const CONFLICT: u8 = 0xC9;
pub const GONE: u8 = 0xCA;
pub const LENGTH_REQUIRED: u8 = 0xCB;
pub const PRECONDITION_FAILED: u8 = 0xCC;
pub const ENTITY_TOO_LARGE: u8 = 0xCD;
pub const URL_TOO_LARGE: u8 = 0xCE;
pub const UNSUPPORTED_MEDIA_TYPE: u8 = 0xCF;
pub const INTERNAL_SERVER_ERROR: u8 = 0xD0;
pub const NOT_IMPLEMENTED: u8 = 0xD1;
pub const BAD_GATEWAY: u8 = 0xD2;
pub const SERVICE_UNAVAILABLE: u8 = 0xD3;
pub const GATEWAY_TIMEOUT: u8 = 0xD4;
pub const HTTP_VERSION_NOT_SUPPORTED: u8 = 0xD5;
pub const DATABASE_FULL: u8 = 0xE0;
pub const DATABASE_LOCKED: u8 = 0xE1;

/// The name IrOBEX gives a response code, or "Unknown" for codes it does not define.
pub fn response_name(code: u8) -> &'static str {
    match code {
        CONTINUE => "Continue",
        SUCCESS => "Success",
        CREATED => "Created",
        ACCEPTED => "Accepted",
        NON_AUTHORITATIVE => "Non-Authoritative Information",
        NO_CONTENT => "No Content",
        BAD_REQUEST => "Bad Request",
        UNAUTHORIZED => "Unauthorized",
        PAYMENT_REQUIRED => "Payment Required",
        FORBIDDEN => "Forbidden",
        NOT_FOUND => "Not Found",
        METHOD_NOT_ALLOWED => "Method Not Allowed",
        NOT_ACCEPTABLE => "Not Acceptable",
        PROXY_AUTH_REQUIRED => "Proxy Authentication Required",
        REQUEST_TIMEOUT => "Request Timeout",
        CONFLICT => "Conflict",
        GONE => "Gone",
        LENGTH_REQUIRED => "Length Required",
        PRECONDITION_FAILED => "Precondition Failed",
        ENTITY_TOO_LARGE => "Request Entity Too Large",
        URL_TOO_LARGE => "Request URL Too Large",
        UNSUPPORTED_MEDIA_TYPE => "Unsupported Media Type",
        INTERNAL_SERVER_ERROR => "Internal Server Error",
        NOT_IMPLEMENTED => "Not Implemented",
        BAD_GATEWAY => "Bad Gateway",
        SERVICE_UNAVAILABLE => "Service Unavailable",
        GATEWAY_TIMEOUT => "Gateway Timeout",
        HTTP_VERSION_NOT_SUPPORTED => "HTTP Version Not Supported",
        DATABASE_FULL => "Database Full",
        DATABASE_LOCKED => "Database Locked",
        _ => "Unknown",
    }
}

/// "0xC3 Forbidden": the code and its name, as reasons and logs print it.
pub fn describe(code: u8) -> String {
    format!("0x{code:02X} {}", response_name(code))
}

/// Success, Created or Accepted: the codes that mean the phone took the object.
pub fn is_success(code: u8) -> bool {
    matches!(code, SUCCESS | CREATED | ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defined_code_has_a_name() {
        let defined = [
            0x90, 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7,
            0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5,
            0xE0, 0xE1,
        ];
        for c in defined {
            assert_ne!(response_name(c), "Unknown", "0x{c:02X}");
        }
        assert_eq!(response_name(0x12), "Unknown");
        assert_eq!(describe(0xD0), "0xD0 Internal Server Error");
        assert_eq!(describe(0xC3), "0xC3 Forbidden");
    }

    #[test]
    fn success_class() {
        assert!(is_success(0xA0) && is_success(0xA1) && is_success(0xA2));
        assert!(!is_success(0x90) && !is_success(0xA3) && !is_success(0xC3));
    }
}

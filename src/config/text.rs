//! Turns the bytes of a config file an operator saved on a laptop into TOML text.
//!
//! Notepad, TextEdit and friends add things TOML does not expect: a byte-order mark, Windows or
//! old Mac line endings, UTF-16 ("Unicode" in Notepad's save dialog). These simply work. What
//! cannot be text (another 8-bit code page, NUL bytes from a write cut short) is named with the
//! line it is on, so the operator knows where to look.

/// The file's text with its BOM removed and every line ending turned into `\n`.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    let text = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => utf8(rest)?,
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes)?,
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes)?,
        _ => utf8(bytes)?,
    };
    if let Some(at) = text.find('\0') {
        return Err(format!(
            "line {}: holds NUL bytes (the file was cut short while being written, or is not text)",
            line_of(&text, at)
        ));
    }
    Ok(text.replace("\r\n", "\n").replace('\r', "\n"))
}

fn utf8(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        format!(
            "line {line}: byte 0x{:02X} is not UTF-8 text (save the file as UTF-8)",
            bytes[at]
        )
    })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err("UTF-16 text with an odd number of bytes (cut short?)".into());
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|e| {
            format!(
                "broken UTF-16 text (unpaired surrogate 0x{:04X})",
                e.unpaired_surrogate()
            )
        })
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn windows_files_simply_work() {
        let plain = "[appliance]\nname = \"Booth 7\"\n";
        let bom_crlf = b"\xEF\xBB\xBF[appliance]\r\nname = \"Booth 7\"\r\n";
        assert_eq!(decode(bom_crlf).unwrap(), plain);
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "[appliance]\r\nname = \"Booth 7\"\r\n".encode_utf16() {
            utf16.extend(u.to_le_bytes());
        }
        assert_eq!(decode(&utf16).unwrap(), plain);
        assert_eq!(decode(b"a = 1\rb = 2\r").unwrap(), "a = 1\nb = 2\n");
    }

    #[test]
    fn what_is_not_text_is_named_with_its_line() {
        let latin1 = b"[appliance]\nname = \"Caf\xE9\"\n";
        assert_eq!(
            decode(latin1).unwrap_err(),
            "line 2: byte 0xE9 is not UTF-8 text (save the file as UTF-8)"
        );
        assert!(decode(b"a = 1\n\0\0\0")
            .unwrap_err()
            .starts_with("line 2: holds NUL"));
        assert!(decode(b"\xFF\xFEa").unwrap_err().contains("odd number"));
    }
}

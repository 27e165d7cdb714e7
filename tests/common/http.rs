//! A plain HTTP/1.1 client over a TcpStream, for requests a browser would never send (forged,
//! hostile, half-made): what the dashboard answers to anyone on the network.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;

pub struct Reply {
    pub status: u16,
    /// The header lines, lower-cased.
    pub head: String,
    pub body: String,
}

impl Reply {
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let v = l.strip_prefix("set-cookie: ")?;
            let (k, rest) = v.split_once('=')?;
            (k == name).then(|| rest.split(';').next().unwrap_or("").to_string())
        })
    }

    /// The value of the first `<input name=NAME value=...>` on the page.
    pub fn field(&self, name: &str) -> String {
        let at = self
            .body
            .find(&format!("name=\"{name}\" value=\""))
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body));
        let rest = &self.body[at..];
        rest.split('"').nth(3).unwrap().to_string()
    }

    pub fn location(&self) -> Option<&str> {
        self.head.lines().find_map(|l| l.strip_prefix("location: "))
    }
}

/// Sends one request with `body` of `content_type`, and reads the whole answer.
pub fn send(
    port: u16,
    method: &str,
    path: &str,
    cookies: &str,
    content_type: &str,
    body: &[u8],
) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: {cookies}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let (status, head, body) = read_reply(s);
    Reply {
        status,
        head,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

/// A GET for `path` under the Host name `host` (as a phone on the hotspot asks for any site):
/// the status, the header lines lower-cased, and the body as bytes.
pub fn get_as(port: u16, host: &str, path: &str) -> (u16, String, Vec<u8>) {
    get_with(port, host, path, "")
}

/// [`get_as`] with more header lines (each ending in `\r\n`).
pub fn get_with(port: u16, host: &str, path: &str, headers: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{headers}\r\n");
    s.write_all(head.as_bytes()).unwrap();
    read_reply(s)
}

/// The whole answer on `s`: status, lower-cased header lines, body.
fn read_reply(mut s: TcpStream) -> (u16, String, Vec<u8>) {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = raw.get(split + 4..).unwrap_or_default().to_vec();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head, body)
}

/// A form POST (or a GET when `form` is empty).
pub fn request(port: u16, method: &str, path: &str, cookies: &str, form: &str) -> Reply {
    send(
        port,
        method,
        path,
        cookies,
        "application/x-www-form-urlencoded",
        form.as_bytes(),
    )
}

/// A multipart/form-data body of text fields and files, and its content type.
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "o4sendTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
        .unwrap();
    }
    for (file, bytes) in files {
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{file}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .unwrap();
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{boundary}--\r\n").unwrap();
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Logs in with `password`; the session cookie (`o4send_session=...`) and the page's CSRF token.
pub fn login(port: u16, password: &str) -> (String, String) {
    let form = request(port, "GET", "/login", "", "");
    let pre = form.cookie("o4send_login").unwrap();
    let csrf = form.field("csrf");
    let ok = request(
        port,
        "POST",
        "/login",
        &format!("o4send_login={pre}"),
        &format!("csrf={csrf}&password={password}"),
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    let session = format!("o4send_session={}", ok.cookie("o4send_session").unwrap());
    let page = request(port, "GET", "/", &session, "");
    assert_eq!(page.status, 200, "{}", page.body);
    (session, page.field("csrf"))
}

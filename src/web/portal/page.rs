//! The captive page itself: the campaign's name and its files, at phone width, in plain HTML
//! (maud escapes every value), with the headers that make a phone open or save each file under
//! its own name.

use super::words;
use crate::content::texts::pick;
use crate::content::{Campaign, Item};
use maud::{html, PreEscaped, DOCTYPE};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::sync::Arc;

/// What a file's name keeps as it is in a link and in `filename*`: letters, digits and RFC 3986's
/// unreserved `-._~` (all of them RFC 5987 attr-chars); everything else is percent-encoded.
const NAME: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const STYLE: &str = "
body{font:16px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f7fa;color:#222}
main{max-width:36rem;margin:0 auto;padding:1rem}
h1{color:#1c4e80;font-size:1.6rem;margin:.5rem 0}
.from{color:#555;margin-top:0}.lead{font-size:1.1rem;margin:.2rem 0 .6rem}
ul{list-style:none;padding:0}
li{background:#fff;border-radius:.6rem;padding:.8rem;margin:.6rem 0;box-shadow:0 1px 3px #0002}
.name{font-weight:600;word-break:break-word}.size{color:#666;font-size:.9rem}
.actions{display:flex;gap:.6rem;margin-top:.5rem}
.actions a{flex:1;text-align:center;padding:.7rem;border-radius:.5rem;text-decoration:none;font-weight:600}
.open{background:#1c4e80;color:#fff}.save{background:#e3ebf3;color:#1c4e80}
.note{color:#666;font-size:.85rem}
";

/// The page: what the campaign offers, or that there is nothing right now; in the language of
/// `accept` (the browser's Accept-Language) where the campaign gives texts in it.
pub fn home(
    c: &Campaign,
    items: &[Arc<Item>],
    problem: Option<&str>,
    accept: &str,
) -> maud::Markup {
    let lang = pick(&c.texts, accept);
    let texts = lang.and_then(|l| c.texts.get(l));
    let w = words::of(lang);
    let name = texts.and_then(|t| t.name.as_deref()).unwrap_or(&c.name);
    let title = if name.is_empty() { "Welcome" } else { name };
    html! {
        (DOCTYPE)
        html lang=(lang.unwrap_or("en")) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { main {
                h1 { (title) }
                @if let Some(note) = texts.and_then(|t| t.note.as_deref()) { p.lead { (note) } }
                @if !c.sender_name.is_empty() { p.from { (w.from) " " (c.sender_name) } }
                @if problem.is_some() || items.is_empty() {
                    p { (w.nothing) }
                } @else {
                    ul.items {
                        @for item in items {
                            @let href = utf8_percent_encode(&item.name, NAME).to_string();
                            li {
                                div.name { (item.name) }
                                div.size { (size_words(item.body.len())) }
                                div.actions {
                                    a.open href={ "/f/" (href) } { (w.open) }
                                    a.save href={ "/save/" (href) } download=(item.name) { (w.save) }
                                }
                            }
                        }
                    }
                }
                p.note { (w.note) }
            } }
        }
    }
}

/// `inline` or `attachment`, with the item's name for every browser: an ASCII fallback and the
/// exact UTF-8 name (RFC 6266).
pub fn content_disposition(kind: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let exact = utf8_percent_encode(name, NAME);
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{exact}")
}

/// "840 KB", "2.4 MB": a file's size as a visitor reads it.
fn size_words(bytes: usize) -> String {
    match bytes {
        0..=999 => format!("{bytes} bytes"),
        1_000..=999_999 => format!("{} KB", bytes / 1_000),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_survive_every_browser() {
        assert_eq!(
            content_disposition("attachment", "Plan \"Halle\" 3.pdf"),
            "attachment; filename=\"Plan _Halle_ 3.pdf\"; filename*=UTF-8''Plan%20%22Halle%22%203.pdf"
        );
        assert_eq!(
            content_disposition("inline", "ü.pdf"),
            "inline; filename=\"_.pdf\"; filename*=UTF-8''%C3%BC.pdf"
        );
        assert_eq!(size_words(840_000), "840 KB");
        assert_eq!(size_words(2_400_000), "2.4 MB");
    }
}

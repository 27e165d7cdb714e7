//! The printable A4 poster for the stand (`o4send poster`, and the dashboard's `/poster.svg`).
//!
//! Most visitors' phones cannot be reached unasked: an Android phone is discoverable only while
//! its "Pair new device" screen is open, and an iPhone has no Object Push at all. The poster
//! tells the first what to open, and gives everyone two QR codes: one joins the visitor Wi-Fi,
//! one opens its page. It is one SVG file: no fonts to embed (the viewer's sans-serif is used),
//! every text escaped by maud, the QR codes drawn by the `qrcode` crate.

use crate::config::HotspotConfig;
use maud::{html, Markup, PreEscaped};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// What the poster says.
pub struct Poster<'a> {
    /// The campaign's name: the headline.
    pub campaign: &'a str,
    /// The name phones show as the sender.
    pub sender: &'a str,
    /// The items' names, as visitors will see them.
    pub items: Vec<&'a str>,
    /// The visitor network, when the hotspot is on.
    pub wifi: Option<Wifi<'a>>,
}

/// The visitor network the QR codes lead to.
pub struct Wifi<'a> {
    pub ssid: &'a str,
    /// The captive page, e.g. `http://10.44.0.1/`.
    pub page_url: &'a str,
}

/// The poster of a campaign (its name, sender and item names), with the visitor Wi-Fi's QR
/// codes when `hotspot` is on: what `o4send poster` writes and the dashboard offers.
pub fn for_stand(
    hotspot: &HotspotConfig,
    campaign: &str,
    sender: &str,
    items: Vec<&str>,
) -> Result<String, String> {
    let ssid = hotspot.ssid_or(campaign);
    let page_url = hotspot.page_url();
    render(&Poster {
        campaign,
        sender,
        items,
        wifi: hotspot.enabled.then_some(Wifi {
            ssid: &ssid,
            page_url: &page_url,
        }),
    })
}

/// The Wi-Fi QR payload phones' cameras understand (open network): `WIFI:T:nopass;S:…;;`.
pub fn wifi_join_payload(ssid: &str) -> String {
    let mut escaped = String::with_capacity(ssid.len());
    for c in ssid.chars() {
        if matches!(c, '\\' | ';' | ',' | ':' | '"') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    format!("WIFI:T:nopass;S:{escaped};;")
}

/// The poster as a standalone SVG document, A4 portrait (210 × 297 mm).
pub fn render(p: &Poster) -> Result<String, String> {
    let codes = match &p.wifi {
        Some(w) => Some((qr(&wifi_join_payload(w.ssid))?, qr(w.page_url)?)),
        None => None,
    };
    let svg = html! {
        svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297"
            font-family="DejaVu Sans, Helvetica, Arial, sans-serif" {
            rect width="210" height="297" fill="#fff" {}
            rect width="210" height="8" fill="#1c4e80" {}
            (headline(p))
            (bluetooth_block(p))
            @if let (Some(w), Some((join, page))) = (&p.wifi, &codes) {
                (wifi_block(w, join, page))
            }
            text x="105" y="289" font-size="3.5" text-anchor="middle" fill="#666" {
                "No app, no pairing, no sign-up. Nothing is sent unless you accept it."
            }
        }
    };
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
        svg.into_string()
    ))
}

fn headline(p: &Poster) -> Markup {
    let items = format!("Free on your phone: {}", p.items.join(", "));
    html! {
        text x="105" y="36" font-size=(fitting(p.campaign, 0.62, 13.0)) font-weight="bold"
            text-anchor="middle" fill="#1c4e80" { (p.campaign) }
        text x="105" y="50" font-size=(fitting(&items, 0.55, 6.0)) text-anchor="middle" fill="#222" {
            (items)
        }
    }
}

/// A font size (mm) at which `text` fits the 180 mm between the margins, at most `max`: SVG
/// text does not wrap, so a long campaign name gets smaller instead of running off the page.
/// `em` is the font's average glyph width in ems.
fn fitting(text: &str, em: f32, max: f32) -> String {
    let chars = text.chars().count().max(1) as f32;
    format!("{:.1}", (180.0 / (chars * em)).clamp(3.0, max))
}

fn bluetooth_block(p: &Poster) -> Markup {
    html! {
        rect x="15" y="62" width="180" height="62" rx="4" fill="#eef3f8" {}
        text x="22" y="75" font-size="7" font-weight="bold" fill="#1c4e80" { "Android: by Bluetooth" }
        text x="22" y="88" font-size="5" fill="#222" {
            "Open Bluetooth settings → Pair new device"
        }
        text x="22" y="97" font-size="5" fill="#222" { "and keep that screen open for a moment." }
        text x="22" y="110" font-size="5" fill="#222" {
            "“" (p.sender) "” asks to send you a file: tap Accept."
        }
    }
}

fn wifi_block(w: &Wifi, join: &Markup, page: &Markup) -> Markup {
    html! {
        text x="22" y="142" font-size="7" font-weight="bold" fill="#1c4e80" {
            "Every phone, iPhone too: by Wi-Fi"
        }
        (code_box(20, join, "1. Scan to join the Wi-Fi", w.ssid))
        (code_box(115, page, "2. Scan to open the page", w.page_url))
    }
}

/// One QR code (75 mm square) with its caption underneath.
fn code_box(x: u32, code: &Markup, caption: &str, detail: &str) -> Markup {
    html! {
        svg x=(x) y="150" width="75" height="75" { (code) }
        text x=(x + 37) y="235" font-size="5" text-anchor="middle" fill="#222" { (caption) }
        text x=(x + 37) y="243" font-size="4.5" text-anchor="middle" font-weight="bold" fill="#222" {
            (detail)
        }
    }
}

/// The QR code of `payload` as an inline SVG that fills its container.
fn qr(payload: &str) -> Result<Markup, String> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| format!("poster: no QR code for {payload:?}: {e}"))?;
    let drawn = code
        .render::<svg::Color>()
        .module_dimensions(1, 1)
        .quiet_zone(true)
        .build();
    // The crate writes a whole document; inline, only its <svg> element, scaled by viewBox.
    let element = drawn
        .split_once("?>")
        .map_or(drawn.as_str(), |(_, rest)| rest);
    let modules = code.width() + 8;
    let scaled = element.replacen(
        &format!("width=\"{modules}\" height=\"{modules}\""),
        "width=\"100%\" height=\"100%\"",
        1,
    );
    Ok(PreEscaped(scaled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssid_specials_are_escaped_in_the_join_code() {
        assert_eq!(
            wifi_join_payload(r#"Booth;12:"free",\"#),
            r#"WIFI:T:nopass;S:Booth\;12\:\"free\"\,\\;;"#
        );
    }

    #[test]
    fn the_poster_escapes_what_it_shows() {
        let p = Poster {
            campaign: "<script>alert(1)</script> & Co",
            sender: "Booth \"7\"",
            items: vec!["map<1>.pdf"],
            wifi: Some(Wifi {
                ssid: "Expo <free>",
                page_url: "http://10.44.0.1/",
            }),
        };
        let svg = render(&p).unwrap();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
        assert!(svg.contains("map&lt;1&gt;.pdf"));
        assert_eq!(svg.matches("shape-rendering=\"crispEdges\"").count(), 2);
    }
}

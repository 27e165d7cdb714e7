//! The day's report as one self-contained HTML file: figures, charts (inline SVG) and what each
//! figure means, at phone width or laptop width, and printable to PDF on A4 without cut charts.
//! The fleet's page is the same parts once for the fleet together and once per appliance, each
//! starting a printed page, with the definitions once at the end.
//! Written with maud: every value is escaped by construction; only the charts' SVG, which
//! charts-rs escapes itself, goes in as it is.

use super::{charts, DayReport, FleetReport, DEFINITIONS, FLEET_DEFINITIONS};
use maud::{html, Markup, PreEscaped, DOCTYPE};

// The charts scale by their viewBox to their column. charts-rs places their text by Roboto's
// widths; where Roboto is missing, the fonts after it are about as wide (Debian's default, DejaVu
// Sans, is about 15 % wider and ran labels into axes and off the edge; its condensed face fits).
const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1400px;padding:1rem;color:#222}
h1{font-size:1.5rem;margin:.2rem 0}.sub{color:#666;margin:0 0 1rem}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.6rem;margin:1rem 0}
.figure{border:1px solid #ddd;border-radius:.5rem;padding:.6rem}.figure b{display:block;font-size:1.6rem}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,380px),1fr));gap:1rem}
figure{margin:0;border:1px solid #eee;border-radius:.5rem;padding:.5rem;break-inside:avoid}
figure svg{width:100%;height:auto}figure svg text{font-family:Roboto,Arial,Helvetica,'Liberation Sans','DejaVu Sans Condensed',sans-serif}figcaption{font-weight:600;margin-bottom:.3rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
.part h2{border-bottom:2px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
@media print{body{max-width:none;padding:0}.charts{grid-template-columns:1fr 1fr}figure{border:none}.part+.part{break-before:page}h2{break-after:avoid}}
@page{size:A4;margin:12mm}
.ab{border:1px solid #ddd;border-radius:.5rem;padding:.6rem;margin:.6rem 0;break-inside:avoid}.ab h3{margin:.1rem 0 .4rem;font-size:1.05rem}
.var{display:grid;grid-template-columns:minmax(6rem,12rem) 1fr minmax(9rem,max-content);gap:.5rem;align-items:center;margin:.25rem 0}
.track{position:relative;height:1.1rem;background:#f1f1f1;border-radius:.2rem}.bar{position:absolute;left:0;top:0;bottom:0;background:#3b7dd8;border-radius:.2rem}
.ci{position:absolute;top:45%;height:10%;background:#111}.verdict{margin:.3rem 0 0;font-weight:600}.rules li{margin:.15rem 0}
";

/// The whole page.
pub fn page(r: &DayReport) -> String {
    document(
        &format!("o4send — {} — {}", r.appliance, r.date),
        html! {
            h1 { "The day at " (r.appliance) }
            p.sub { (r.date) " (" (r.time_zone) ")" }
            (body(r))
        },
    )
}

/// A standalone HTML document: the report's style inline, nothing fetched.
fn document(title: &str, content: Markup) -> String {
    let markup: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (content) }
        }
    };
    markup.into_string()
}

/// The report's style sheet, for pages that show [`body`].
pub const fn style() -> &'static str {
    STYLE
}

/// The figures, the charts and what the figures mean: the report without its page.
pub fn body(r: &DayReport) -> Markup {
    html! {
        (figures_and_charts(r))
        (definitions(&DEFINITIONS))
    }
}

/// The fleet's whole page: the fleet together, then each appliance, then the definitions once.
pub fn fleet_page(r: &FleetReport) -> String {
    let d = &r.together;
    document(
        &format!("o4send — fleet {} — {}", r.fleet, d.date),
        html! {
            h1 { "The day of fleet " (r.fleet) }
            p.sub {
                (d.date) " (" (d.time_zone) ") · " (r.appliances.len()) " appliances · "
                "together, each phone counts once"
            }
            section.part {
                h2 { (d.appliance) }
                (figures_and_charts(d))
            }
            @for part in &r.appliances {
                section.part {
                    h2 { "Appliance " (part.appliance) }
                    (figures_and_charts(part))
                }
            }
            (definitions(&FLEET_DEFINITIONS))
            (definitions_list(&DEFINITIONS))
        },
    )
}

/// The figures and the charts of one appliance's (or the fleet's) day.
fn figures_and_charts(r: &DayReport) -> Markup {
    html! {
        section.figures {
            @for (name, value) in &figures(r) {
                div.figure { span { (name) } b { (value) } }
            }
        }
        @let h = &r.hotspot;
        @if h.visits + h.downloads > 0 {
            section.figures.hotspot {
                div.figure { span { "Hotspot phones" } b { (h.visitors) } }
                div.figure { span { "Page visits" } b { (h.visits) } }
                div.figure { span { "Files taken (Wi-Fi)" } b { (h.downloads) } }
            }
        }
        section.charts {
            @for chart in charts::all(r) {
                figure {
                    figcaption { (chart.title) }
                    (PreEscaped(chart.svg))
                }
            }
        }
        (ab_tests(r))
        @if !r.rules.is_empty() {
            h2 { "The campaign's rules" }
            ul.rules { @for line in &r.rules { li { (line) } } }
        }
    }
}

/// Each A/B test: per variant a bar of its acceptance rate with its 95 % interval, and the
/// verdict in words.
fn ab_tests(r: &DayReport) -> Markup {
    let pct = |p: Option<f64>| p.map_or("–".to_string(), |p| format!("{:.0} %", p * 100.0));
    let width = |p: Option<f64>| format!("{:.1}%", p.unwrap_or(0.0) * 100.0);
    html! {
        @if !r.ab.is_empty() { h2 { "A/B tests" } }
        @for t in &r.ab {
            section.ab {
                h3 { "Test \"" (t.name) "\"" }
                @for v in &t.variants {
                    div.var {
                        span { (v.item) }
                        div.track {
                            div.bar style={ "width:" (width(v.rate)) } {}
                            @if let (Some(low), Some(high)) = (v.low, v.high) {
                                div.ci style={ "left:" (width(Some(low))) ";width:" (width(Some(high - low))) } {}
                            }
                        }
                        span {
                            (pct(v.rate)) " (" (pct(v.low)) "–" (pct(v.high)) "), "
                            (v.accepted) " of " (v.offered)
                        }
                    }
                }
                p.verdict { (t.verdict) }
            }
        }
    }
}

fn figures(r: &DayReport) -> [(&'static str, String); 11] {
    let f = &r.figures;
    let rate = r
        .acceptance()
        .map_or("–".to_string(), |a| format!("{:.0} %", a * 100.0));
    [
        ("Seen", f.seen.to_string()),
        ("In range", f.in_range.to_string()),
        ("Offered", f.offered.to_string()),
        ("Accepted", f.accepted.to_string()),
        ("Declined", f.declined.to_string()),
        ("Ignored", f.ignored.to_string()),
        ("Acceptance rate", rate),
        ("Passers-by", f.passers_by.to_string()),
        ("Visitors", f.visitors.to_string()),
        ("Returning", f.returning.to_string()),
        ("Attempts", f.outcomes.values().sum::<u64>().to_string()),
    ]
}

/// "What the figures mean", heading and list.
fn definitions(terms: &[(&str, &str)]) -> Markup {
    html! {
        h2 { "What the figures mean" }
        (definitions_list(terms))
    }
}

fn definitions_list(terms: &[(&str, &str)]) -> Markup {
    html! {
        dl {
            @for (name, meaning) in terms {
                dt { (name) } dd { (meaning) }
            }
        }
    }
}

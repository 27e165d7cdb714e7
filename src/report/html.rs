//! The day's report as one self-contained HTML file: figures, charts (inline SVG) and what each
//! figure means, at phone width or laptop width, and printable to PDF on A4 without cut charts.
//! Written with maud: every value is escaped by construction; only the charts' SVG, which
//! charts-rs escapes itself, goes in as it is.

use super::{charts, DayReport, DEFINITIONS};
use maud::{html, Markup, PreEscaped, DOCTYPE};

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1400px;padding:1rem;color:#222}
h1{font-size:1.5rem;margin:.2rem 0}.sub{color:#666;margin:0 0 1rem}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.6rem;margin:1rem 0}
.figure{border:1px solid #ddd;border-radius:.5rem;padding:.6rem}.figure b{display:block;font-size:1.6rem}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,560px),1fr));gap:1rem}
figure{margin:0;border:1px solid #eee;border-radius:.5rem;padding:.5rem;break-inside:avoid}
figure svg{width:100%;height:auto}figcaption{font-weight:600;margin-bottom:.3rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
@media print{body{max-width:none;padding:0}.charts{grid-template-columns:1fr 1fr}figure{border:none}}
@page{size:A4;margin:12mm}
";

/// The whole page.
pub fn page(r: &DayReport) -> String {
    let markup: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "o4send — " (r.appliance) " — " (r.date) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "The day at " (r.appliance) }
                p.sub { (r.date) " (" (r.time_zone) ")" }
                (body(r))
            }
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
    let f = &r.figures;
    let rate = r
        .acceptance()
        .map_or("–".to_string(), |a| format!("{:.0} %", a * 100.0));
    let figures: [(&str, String); 11] = [
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
    ];
    html! {
                section.figures {
                    @for (name, value) in &figures {
                        div.figure { span { (name) } b { (value) } }
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
                h2 { "What the figures mean" }
                dl {
                    @for (name, meaning) in &DEFINITIONS {
                        dt { (name) } dd { (meaning) }
                    }
                }
    }
}

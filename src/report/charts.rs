//! The day's charts as SVG, drawn by charts-rs (which escapes every label): per hour, the funnel,
//! outcomes, items, radios, dwell time, passers-by versus visitors, new versus returning phones.
//! They are meant to read at a glance, on a laptop and on a phone: counts on whole-number axes,
//! outcomes as bars sorted largest first, shares as donuts whose slices are proportional, labels
//! inside the chart, and drawn small enough that a phone shows their text at about 12 px.

use super::DayReport;
use crate::store::{Split, DWELL_BUCKETS};
use charts_rs::{BarChart, FunnelChart, HorizontalBarChart, PieChart, Series, YAxisConfig};

/// One chart: its title and SVG.
pub struct Chart {
    pub title: &'static str,
    pub svg: String,
}

/// Every chart of the day, in reading order.
pub fn all(r: &DayReport) -> Vec<Chart> {
    let f = &r.figures;
    let hourly = |pick: fn(&crate::store::HourFigures) -> u64| {
        f.per_hour
            .iter()
            .map(|h| pick(h) as f32)
            .collect::<Vec<f32>>()
    };
    let per_hour = bars(
        vec![
            ("seen", hourly(|h| h.seen)).into(),
            ("offered", hourly(|h| h.offered)).into(),
            ("accepted", hourly(|h| h.accepted)).into(),
        ],
        r.hours.clone(),
    );
    let funnel = [
        ("seen", f.seen),
        ("in range", f.in_range),
        ("offered", f.offered),
        ("accepted", f.accepted),
    ];
    let outcomes: Vec<(&str, u64)> = f.outcomes.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let dwell_labels = DWELL_BUCKETS.iter().map(|(l, _)| l.to_string()).collect();
    let dwell = bars(
        vec![(
            "phones",
            f.dwell.iter().map(|&n| n as f32).collect::<Vec<f32>>(),
        )
            .into()],
        dwell_labels,
    );
    [
        ("Per hour: seen, offered, accepted", Some(per_hour)),
        (
            "Funnel: seen → in range → offered → accepted",
            funnel_svg(&funnel),
        ),
        ("Outcomes of the day's attempts", sorted_bars(&outcomes)),
        ("Per item: offered and accepted", split_bars(&f.per_item)),
        ("Per radio: offered and accepted", split_bars(&f.per_radio)),
        ("Dwell time", Some(dwell)),
        (
            "Passers-by and visitors",
            pie(&[("passers-by", f.passers_by), ("visitors", f.visitors)]),
        ),
        (
            "New and returning phones",
            pie(&[("new", f.seen - f.returning), ("returning", f.returning)]),
        ),
    ]
    .into_iter()
    .map(|(title, svg)| Chart {
        title,
        svg: svg.unwrap_or_else(nothing_yet),
    })
    .collect()
}

/// The width and height every chart is drawn at, in SVG units. A phone shows a chart about
/// 340 px wide (a 390 px screen less the page's margins), so at 400 wide the library's 14 px
/// text stays near 12 px there; a laptop shows three to a row at about this size, and A4 two.
/// The page scales each SVG by its viewBox to its column (`figure svg` in the report's style).
const WIDTH: f32 = 400.0;
const HEIGHT: f32 = 280.0;

/// Light fills that the library's dark label text reads well on (the funnel's labels are inside
/// its stages, and below the narrowest ones).
const LIGHT_FILLS: [(u8, u8, u8); 4] = [
    (158, 180, 232),
    (178, 221, 160),
    (252, 222, 150),
    (244, 166, 166),
];

/// Room at the right of horizontal bars for the last tick's number, which charts-rs centres on
/// the plot's edge.
const RIGHT_MARGIN: f32 = 15.0;

fn bars(series: Vec<Series>, labels: Vec<String>) -> String {
    let top = largest(&series);
    let mut chart = BarChart::new(series, labels);
    chart.width = WIDTH;
    chart.height = HEIGHT;
    count_axis(&mut chart.y_axis_configs[0], top);
    drawn(chart.svg())
}

fn split_bars(splits: &[Split]) -> Option<String> {
    if splits.is_empty() {
        return None;
    }
    let names = splits.iter().map(|s| s.name.clone()).collect();
    let offered: Vec<f32> = splits.iter().map(|s| s.offered as f32).collect();
    let accepted: Vec<f32> = splits.iter().map(|s| s.accepted as f32).collect();
    let series = vec![("offered", offered).into(), ("accepted", accepted).into()];
    let top = largest(&series);
    let mut chart = HorizontalBarChart::new(series, names);
    chart.width = WIDTH;
    chart.height = (120 + 40 * splits.len()).min(640) as f32;
    chart.margin.right = RIGHT_MARGIN;
    count_axis(&mut chart.y_axis_configs[0], top);
    Some(drawn(chart.svg()))
}

/// Counts by name as horizontal bars, the largest at the top, each with its number: which
/// outcome dominates reads at a glance, where a rose chart's petals had to be compared by area.
fn sorted_bars(named: &[(&str, u64)]) -> Option<String> {
    if named.iter().all(|(_, n)| *n == 0) {
        return None;
    }
    let mut rows = named.to_vec();
    // charts-rs draws the first category at the bottom: smallest first puts the largest on top.
    rows.sort_by_key(|(_, n)| *n);
    let names = rows.iter().map(|(name, _)| name.to_string()).collect();
    let counts: Vec<f32> = rows.iter().map(|(_, n)| *n as f32).collect();
    let mut series: Series = ("attempts", counts).into();
    series.label_show = true;
    let top = largest(std::slice::from_ref(&series));
    let mut chart = HorizontalBarChart::new(vec![series], names);
    chart.width = WIDTH;
    chart.height = (60 + 30 * rows.len()) as f32;
    chart.legend.show = Some(false);
    chart.margin.right = RIGHT_MARGIN;
    count_axis(&mut chart.y_axis_configs[0], top);
    Some(drawn(chart.svg()))
}

/// A donut whose slices are shares of the whole. The library's default is a rose chart, which
/// gives every slice the same angle (two slices: two half circles, one of them empty); a slice
/// at zero is left out (it has no angle to draw) and the others keep their colours. Labels are
/// the shares; the legend names the slices (names beside the slices did not fit at phone size).
fn pie(slices: &[(&str, u64)]) -> Option<String> {
    let series: Vec<Series> = one_value_each(slices)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| slices[*i].1 > 0)
        .map(|(i, mut s)| {
            s.index = Some(i);
            s
        })
        .collect();
    if series.is_empty() {
        return None;
    }
    let mut chart = PieChart::new(series);
    chart.width = WIDTH;
    chart.height = HEIGHT;
    chart.rose_type = Some(false);
    chart.radius = 85.0;
    // Rounded slice ends leave a notch at the top of a slice that goes all the way round.
    chart.border_radius = Some(0.0);
    chart.legend.show = Some(true);
    chart.series.label.formatter = "{d}".into();
    Some(drawn(chart.svg()))
}

/// The funnel with each stage's name and count inside it, centred: labels to its right were
/// pushed back over the widest stages and cut at the edge where the browser's font is wider
/// than the one charts-rs measures with. The legend only repeated the names.
fn funnel_svg(stages: &[(&str, u64)]) -> Option<String> {
    if stages[0].1 == 0 {
        return None;
    }
    let mut chart = FunnelChart::new(one_value_each(stages));
    chart.width = WIDTH;
    chart.height = HEIGHT;
    chart.series_label_position = Some("inside".into());
    chart.legend.show = Some(false);
    chart.series.colors = LIGHT_FILLS.iter().map(|&c| c.into()).collect();
    Some(drawn(chart.svg()))
}

/// The largest value of any series (0 when there is none).
fn largest(series: &[Series]) -> f32 {
    series
        .iter()
        .flat_map(|s| s.data.iter().flatten())
        .fold(0.0, |a, &b| a.max(b))
}

/// A counts axis from 0 with whole-number ticks only. Left alone, charts-rs cuts 0..1 into
/// steps of 0.2; given a `max` that is a whole multiple of `split_number`, it keeps to it.
fn count_axis(axis: &mut YAxisConfig, largest: f32) {
    let step = whole_step(largest);
    let splits = ((largest / step).ceil() as usize).max(1);
    axis.min = Some(0.0);
    axis.max = Some(step * splits as f32);
    axis.split_number = splits;
}

/// The smallest of 1, 2, 5, 10, 20, 50 … that cuts 0..largest into at most 5 steps.
fn whole_step(largest: f32) -> f32 {
    let mut step = 1.0;
    let mut grow = [2.0, 2.5, 2.0].into_iter().cycle();
    while largest > step * 5.0 {
        step *= grow.next().unwrap_or(2.0);
    }
    step
}

/// A series per slice or stage, each holding its one value.
fn one_value_each(named: &[(&str, u64)]) -> Vec<Series> {
    named
        .iter()
        .map(|(name, n)| (*name, vec![*n as f32]).into())
        .collect()
}

/// The SVG, or a note that it could not be drawn.
fn drawn(svg: Result<String, impl std::fmt::Display>) -> String {
    svg.unwrap_or_else(|e| failed(&e.to_string()))
}

fn nothing_yet() -> String {
    text_svg("nothing yet")
}

fn failed(why: &str) -> String {
    tracing::warn!("chart: {why}");
    text_svg("this chart could not be drawn")
}

/// A plain SVG saying `text` (a fixed string: nothing to escape).
fn text_svg(text: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"60\" viewBox=\"0 0 400 60\">\
         <text x=\"200\" y=\"35\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"16\" fill=\"#777\">{text}</text></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each `<text>` element of an SVG: its opening tag and its content.
    fn texts(svg: &str) -> Vec<(&str, &str)> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let (tag, rest) = t.split_once('>')?;
                Some((tag, rest.split_once("</text>")?.0.trim()))
            })
            .collect()
    }

    /// A number attribute of a tag.
    fn number(tag: &str, name: &str) -> Option<f32> {
        let (_, rest) = tag.split_once(&format!(" {name}=\""))?;
        rest.split('"').next()?.parse().ok()
    }

    /// The width of the SVG's viewBox, what the page scales to its column.
    fn view_width(svg: &str) -> f32 {
        let (_, rest) = svg.split_once("viewBox=\"").expect("a viewBox");
        let view: Vec<f32> = rest
            .split('"')
            .next()
            .unwrap()
            .split(' ')
            .map(|n| n.parse().unwrap())
            .collect();
        view[2]
    }

    /// Every element of one kind (`<path`, `<rect`) with an attribute that names `series`.
    fn elements<'a>(svg: &'a str, kind: &str, series: &str) -> Vec<&'a str> {
        svg.split(kind)
            .skip(1)
            .map(|e| e.split('>').next().unwrap())
            .filter(|e| e.contains(&format!("data-series=\"{series}\"")))
            .collect()
    }

    /// How far round the arcs of a path's largest radius go, in degrees. An arc `A r r 0 large
    /// sweep x,y` from the previous point turns by 2·asin(chord / 2r), or 360° less that when
    /// `large` is 1.
    fn outer_arcs_degrees(d: &str) -> f32 {
        let mut at = (0.0_f32, 0.0_f32);
        let mut arcs = vec![];
        for step in d
            .split(['M', 'L', 'A', 'Z'])
            .skip(1)
            .zip(d.matches(['M', 'L', 'A', 'Z']))
        {
            let (numbers, kind) = step;
            let n: Vec<f32> = numbers
                .split([' ', ','])
                .filter_map(|n| n.parse().ok())
                .collect();
            if n.len() < 2 {
                continue;
            }
            let to = (n[n.len() - 2], n[n.len() - 1]);
            if kind == "A" {
                let chord = ((to.0 - at.0).powi(2) + (to.1 - at.1).powi(2)).sqrt();
                let turn = 2.0 * (chord / (2.0 * n[0])).min(1.0).asin().to_degrees();
                arcs.push((n[0], if n[3] == 1.0 { 360.0 - turn } else { turn }));
            }
            at = to;
        }
        let outer = arcs.iter().map(|a| a.0).fold(0.0, f32::max);
        arcs.iter().filter(|a| a.0 == outer).map(|a| a.1).sum()
    }

    /// A day of charts with small counts, what a quiet stand sees.
    fn samples() -> Vec<String> {
        let split = |name: &str, offered, accepted| Split {
            name: name.into(),
            offered,
            accepted,
        };
        vec![
            bars(
                vec![("seen", vec![7.0, 1.0]).into()],
                vec!["09:00".into(), "10:00".into()],
            ),
            split_bars(&[split("flyer.txt", 1, 0), split("hall-map.pdf", 3, 2)]).unwrap(),
            sorted_bars(&[("declined", 1), ("no_opp", 1), ("accepted", 0)]).unwrap(),
            pie(&[("passers-by", 7), ("visitors", 0)]).unwrap(),
            pie(&[("new", 5), ("returning", 2)]).unwrap(),
            funnel_svg(&[
                ("seen", 7),
                ("in range", 7),
                ("offered", 1),
                ("accepted", 0),
            ])
            .unwrap(),
        ]
    }

    #[test]
    fn a_donut_of_one_category_is_a_full_circle() {
        let svg = pie(&[("passers-by", 7), ("visitors", 0)]).unwrap();
        let slices = elements(&svg, "<path", "passers-by");
        assert_eq!(slices.len(), 1, "{svg}");
        let d = slices[0]
            .split_once(" d=\"")
            .unwrap()
            .1
            .split('"')
            .next()
            .unwrap();
        let swept = outer_arcs_degrees(d);
        assert!(
            swept > 350.0,
            "the slice goes {swept}° round, not a circle: {d}"
        );
        assert!(elements(&svg, "<path", "visitors").is_empty(), "{svg}");
    }

    #[test]
    fn donut_slices_are_shares_of_the_whole() {
        let svg = pie(&[("new", 6), ("returning", 2)]).unwrap();
        for (name, share) in [("new", 270.0), ("returning", 90.0)] {
            let slice = elements(&svg, "<path", name)[0];
            let d = slice
                .split_once(" d=\"")
                .unwrap()
                .1
                .split('"')
                .next()
                .unwrap();
            // Less the 2° at each end that charts-rs leaves for a slice's corners.
            let swept = outer_arcs_degrees(d) + 4.0;
            assert!(
                (swept - share).abs() < 2.0,
                "{name}: {swept}°, not {share}°: {d}"
            );
        }
    }

    #[test]
    fn counts_axes_have_only_whole_ticks() {
        for top in [0, 1, 2, 3, 7, 12, 99, 1234] {
            let split = Split {
                name: "flyer.txt".into(),
                offered: top,
                accepted: top / 2,
            };
            let charts = [
                bars(
                    vec![("seen", vec![top as f32, 0.0]).into()],
                    vec!["a".into(), "b".into()],
                ),
                split_bars(&[split]).unwrap(),
                sorted_bars(&[("declined", top), ("accepted", 1)]).unwrap(),
            ];
            for svg in charts {
                let numbers: Vec<f32> = texts(&svg)
                    .iter()
                    .filter_map(|(_, t)| t.replace(',', "").parse().ok())
                    .collect();
                assert!(numbers.len() >= 2, "no axis labels: {svg}");
                assert!(
                    numbers.iter().all(|n| n.fract() == 0.0),
                    "largest {top}: ticks {numbers:?}"
                );
            }
        }
    }

    /// Every label stays inside the chart even drawn in a font 20 % wider than the one charts-rs
    /// measures with (a browser without Roboto falls back to one: DejaVu Sans is about 15 % wider).
    #[test]
    fn labels_fit_inside_the_chart() {
        for svg in samples() {
            let width = view_width(&svg);
            for (tag, text) in texts(&svg) {
                let x = number(tag, "x").unwrap_or(0.0);
                let size = number(tag, "font-size").unwrap_or(14.0);
                let measured = charts_rs::measure_text_width_family("Roboto", size, text)
                    .unwrap()
                    .width();
                let (left, right) = match tag.contains("text-anchor=\"middle\"") {
                    true => (x - 0.6 * measured, x + 0.6 * measured),
                    false => (x, x + 1.2 * measured),
                };
                assert!(
                    left >= 0.0 && right <= width,
                    "{text:?} spans {left}..{right} of 0..{width}: {svg}"
                );
            }
        }
    }

    #[test]
    fn the_outcomes_are_bars_sorted_largest_first() {
        let svg = sorted_bars(&[
            ("declined", 1),
            ("accepted", 5),
            ("ignored", 3),
            ("no_opp", 0),
        ])
        .unwrap();
        let mut bars: Vec<(f32, f32)> = elements(&svg, "<rect", "attempts")
            .iter()
            .map(|r| (number(r, "y").unwrap(), number(r, "width").unwrap()))
            .collect();
        assert_eq!(bars.len(), 4, "{svg}");
        bars.sort_by(|a, b| a.0.total_cmp(&b.0));
        let widths: Vec<f32> = bars.iter().map(|b| b.1).collect();
        assert!(
            widths.windows(2).all(|w| w[0] >= w[1]),
            "top to bottom: {widths:?}"
        );
        assert!(!svg.contains("<path"), "no rose petals: {svg}");
    }

    /// A phone shows a chart about 340 px wide: its smallest text must stay 11 px or more there.
    #[test]
    fn chart_text_stays_readable_at_phone_width() {
        for svg in samples() {
            let scale = 340.0 / view_width(&svg);
            for (tag, text) in texts(&svg) {
                let size = number(tag, "font-size").unwrap_or(14.0) * scale;
                assert!(size >= 11.0, "{text:?} is {size} px on a phone: {svg}");
            }
        }
    }
}

//! The day's charts as SVG, drawn by charts-rs (which escapes every label): per hour, the funnel,
//! outcomes, items, radios, dwell time, passers-by versus visitors, new versus returning phones.

use super::DayReport;
use crate::store::{Split, DWELL_BUCKETS};
use charts_rs::{BarChart, FunnelChart, HorizontalBarChart, PieChart, Series};

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
        ("Outcomes of the day's attempts", pie(&outcomes)),
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

fn bars(series: Vec<Series>, labels: Vec<String>) -> String {
    let mut chart = BarChart::new(series, labels);
    chart.width = 640.0;
    chart.height = 320.0;
    drawn(chart.svg())
}

fn split_bars(splits: &[Split]) -> Option<String> {
    if splits.is_empty() {
        return None;
    }
    let names = splits.iter().map(|s| s.name.clone()).collect();
    let offered: Vec<f32> = splits.iter().map(|s| s.offered as f32).collect();
    let accepted: Vec<f32> = splits.iter().map(|s| s.accepted as f32).collect();
    let mut chart = HorizontalBarChart::new(
        vec![("offered", offered).into(), ("accepted", accepted).into()],
        names,
    );
    chart.width = 640.0;
    chart.height = (120 + 40 * splits.len()).min(640) as f32;
    Some(drawn(chart.svg()))
}

fn pie(slices: &[(&str, u64)]) -> Option<String> {
    if slices.iter().all(|(_, n)| *n == 0) {
        return None;
    }
    let mut chart = PieChart::new(one_value_each(slices));
    chart.width = 640.0;
    chart.height = 320.0;
    Some(drawn(chart.svg()))
}

fn funnel_svg(stages: &[(&str, u64)]) -> Option<String> {
    if stages[0].1 == 0 {
        return None;
    }
    let mut chart = FunnelChart::new(one_value_each(stages));
    chart.width = 640.0;
    chart.height = 320.0;
    Some(drawn(chart.svg()))
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
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"60\" viewBox=\"0 0 640 60\">\
         <text x=\"320\" y=\"35\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"16\" fill=\"#777\">{text}</text></svg>"
    )
}

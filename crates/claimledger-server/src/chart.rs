//! The subject page's chart: every claimant's figures against the date they were stated, as
//! SVG written on the server (through the template engine, so every label is escaped).
//!
//! Drawn honestly: an exact figure is a filled dot and an approximate one a hollow ring; "at
//! least" and "at most" are a bar with an arrow pointing the open way; a range is a bar from
//! low to high. A date known only to the month or year is drawn across its whole span. The
//! revisions of one claim are joined, in order, and labelled with their figures
//! (95,300 → 121,507).

use claimledger_core::{Bound, Date, Decimal, Value};
use claimledger_formats::text::{figure, group_thousands};
use maud::{html, Markup};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 380.0;
const LEFT: f64 = 86.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 18.0;
const BOTTOM: f64 = 42.0;

/// Claimant colours, told apart also without colour vision by the legend's order.
const PALETTE: [&str; 8] = [
    "#1b6ca8", "#c0392b", "#218c53", "#8e44ad", "#d35400", "#2c3e50", "#b7950b", "#16a085",
];

/// One revision of a claim that has a figure and a statement date.
#[derive(Clone, Debug)]
pub struct Point {
    pub stated_on: Date,
    pub value: Value,
}

/// One claim's revisions, oldest first, and who made it.
#[derive(Clone, Debug)]
pub struct Series {
    pub claimant: String,
    pub claim_label: String,
    pub points: Vec<Point>,
}

fn number(decimal: &Decimal) -> Option<f64> {
    decimal
        .as_str()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// The low and high ends a value spans (equal for a single amount).
fn extent(value: &Value) -> Option<(f64, f64)> {
    match value.bound {
        Bound::Range => Some((number(value.low.as_ref()?)?, number(value.high.as_ref()?)?)),
        _ => {
            let amount = number(value.amount.as_ref()?)?;
            Some((amount, amount))
        }
    }
}

fn days(date: &Date) -> (f64, f64) {
    let start = date.start().timestamp() as f64 / 86_400.0;
    let end = date.end().timestamp() as f64 / 86_400.0;
    (start, end.max(start))
}

/// A round step giving about `count` ticks over `span`.
fn nice_step(span: f64, count: f64) -> f64 {
    let raw = (span / count).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

fn tick_label(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        Decimal::parse(&format!("{value:.0}"))
            .map(|d| group_thousands(&d))
            .unwrap_or_else(|_| format!("{value}"))
    } else {
        format!("{value}")
    }
}

/// A point, the days its date spans and the low and high ends of its figure.
type Placed<'a> = (&'a Point, (f64, f64), (f64, f64));

/// The chart, or `None` when no claim has both a figure and a statement date.
pub fn chart(series: &[Series], claimants: &[String]) -> Option<Markup> {
    let plotted: Vec<(&Series, Vec<Placed>)> = series
        .iter()
        .map(|s| {
            let points = s
                .points
                .iter()
                .filter_map(|p| Some((p, days(&p.stated_on), extent(&p.value)?)))
                .collect::<Vec<_>>();
            (s, points)
        })
        .filter(|(_, points)| !points.is_empty())
        .collect();
    let all = plotted.iter().flat_map(|(_, points)| points.iter());
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, f64::MIN, 0f64, f64::MIN);
    for (_, (start, end), (low, high)) in all {
        x_min = x_min.min(*start);
        x_max = x_max.max(*end);
        y_min = y_min.min(*low);
        y_max = y_max.max(*high);
    }
    if plotted.is_empty() {
        return None;
    }
    if y_max <= y_min {
        y_max = y_min + 1.0;
    }
    let pad = ((x_max - x_min) * 0.04).max(15.0);
    let (x_min, x_max) = (x_min - pad, x_max + pad);
    let y_step = nice_step(y_max - y_min, 5.0);
    let y_top = (y_max * 1.08 / y_step).ceil() * y_step;
    let y_bottom = (y_min / y_step).floor() * y_step;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |day: f64| LEFT + (day - x_min) / (x_max - x_min) * plot_w;
    let y = |v: f64| TOP + (y_top - v) / (y_top - y_bottom) * plot_h;
    let colour = |claimant: &str| {
        let i = claimants.iter().position(|c| c == claimant).unwrap_or(0);
        PALETTE[i % PALETTE.len()]
    };

    let mut y_ticks = Vec::new();
    let mut tick = y_bottom;
    while tick <= y_top + y_step / 2.0 && y_ticks.len() < 20 {
        y_ticks.push(tick);
        tick += y_step;
    }
    let x_ticks = date_ticks(x_min, x_max);

    Some(html! {
        svg class="chart" viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img"
            aria-label="Each claimant's figures against the date they were stated; the table below has the same figures" {
            // Axes and grid.
            @for t in &y_ticks {
                line class="grid" x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(*t)) y2=(y(*t)) {}
                text class="tick" x=(LEFT - 6.0) y=(y(*t) + 4.0) text-anchor="end" { (tick_label(*t)) }
            }
            @for (day, label) in &x_ticks {
                line class="grid" x1=(x(*day)) x2=(x(*day)) y1=(TOP) y2=(HEIGHT - BOTTOM) {}
                text class="tick" x=(x(*day)) y=(HEIGHT - BOTTOM + 16.0) text-anchor="middle" { (label) }
            }
            line class="axis" x1=(LEFT) x2=(WIDTH - RIGHT) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM) {}
            line class="axis" x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(HEIGHT - BOTTOM) {}
            text class="axis-label" x=(LEFT + plot_w / 2.0) y=(HEIGHT - 6.0) text-anchor="middle" { "date stated" }

            @for (s, points) in &plotted {
                @let c = colour(&s.claimant);
                // A claim's revisions, joined in order.
                @if points.len() > 1 {
                    @let path = points.iter().map(|(_, (a, b), (lo, hi))| format!("{:.1},{:.1}", x((a + b) / 2.0), y((lo + hi) / 2.0))).collect::<Vec<_>>().join(" ");
                    polyline class="revisions" points=(path) stroke=(c) fill="none" {}
                    @if let Some((_, (a, b), (lo, hi))) = points.last() {
                        text class="revision-label" x=(x((a + b) / 2.0) - 6.0) y=(y((lo + hi) / 2.0) - 10.0) text-anchor="end" fill=(c) {
                            (points.iter().map(|(p, _, _)| figure(&p.value)).collect::<Vec<_>>().join(" → "))
                        }
                    }
                }
                @for (p, (start, end), (low, high)) in points {
                    @let cx = x((start + end) / 2.0);
                    g class={"mark " (p.value.bound.as_str())} {
                        title { (s.claimant) ": " (figure(&p.value)) ", stated " (p.stated_on) " (" (s.claim_label) ")" }
                        @if end - start > 1.5 {
                            line class="span" x1=(x(*start)) x2=(x(*end)) y1=(y((low + high) / 2.0)) y2=(y((low + high) / 2.0)) stroke=(c) {}
                        }
                        @match p.value.bound {
                            Bound::Exact => { circle cx=(cx) cy=(y(*low)) r="4.5" fill=(c) {} }
                            Bound::Approx => { circle cx=(cx) cy=(y(*low)) r="5" fill="white" stroke=(c) stroke-width="2" {} }
                            Bound::AtLeast => {
                                line x1=(cx - 7.0) x2=(cx + 7.0) y1=(y(*low)) y2=(y(*low)) stroke=(c) stroke-width="3" {}
                                line x1=(cx) x2=(cx) y1=(y(*low)) y2=(y(*low) - 20.0) stroke=(c) stroke-width="2" {}
                                path d=(format!("M{:.1},{:.1} l-5,8 l10,0 z", cx, y(*low) - 24.0)) fill=(c) {}
                            }
                            Bound::AtMost => {
                                line x1=(cx - 7.0) x2=(cx + 7.0) y1=(y(*low)) y2=(y(*low)) stroke=(c) stroke-width="3" {}
                                line x1=(cx) x2=(cx) y1=(y(*low)) y2=(y(*low) + 20.0) stroke=(c) stroke-width="2" {}
                                path d=(format!("M{:.1},{:.1} l-5,-8 l10,0 z", cx, y(*low) + 24.0)) fill=(c) {}
                            }
                            Bound::Range => {
                                rect x=(cx - 3.0) y=(y(*high)) width="6" height=((y(*low) - y(*high)).max(1.0)) fill=(c) {}
                                line x1=(cx - 7.0) x2=(cx + 7.0) y1=(y(*high)) y2=(y(*high)) stroke=(c) stroke-width="2" {}
                                line x1=(cx - 7.0) x2=(cx + 7.0) y1=(y(*low)) y2=(y(*low)) stroke=(c) stroke-width="2" {}
                            }
                        }
                    }
                }
            }
        }
        ul class="legend" {
            @for claimant in claimants {
                @if plotted.iter().any(|(s, _)| &s.claimant == claimant) {
                    li {
                        svg class="swatch" viewBox="0 0 12 12" width="12" height="12" aria-hidden="true" {
                            rect width="12" height="12" fill=(colour(claimant)) {}
                        }
                        " " (claimant)
                    }
                }
            }
        }
        p class="chart-key" {
            "● exact · ○ approximately · ⊥↑ at least · ⊤↓ at most · ▮ a range from low to high · "
            "a line across a dot: the date is known only to the month or year · "
            "a claim's revisions are joined in order"
        }
    })
}

/// Year ticks, or quarter ticks when the span is short.
fn date_ticks(x_min: f64, x_max: f64) -> Vec<(f64, String)> {
    use chrono::{Datelike, TimeZone, Utc};
    let to_day = |year: i32, month: u32| {
        Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
            .single()
            .map(|t| t.timestamp() as f64 / 86_400.0)
    };
    let first = Utc.timestamp_opt((x_min * 86_400.0) as i64, 0).single();
    let last = Utc.timestamp_opt((x_max * 86_400.0) as i64, 0).single();
    let (Some(first), Some(last)) = (first, last) else {
        return Vec::new();
    };
    let years: Vec<(f64, String)> = (first.year()..=last.year() + 1)
        .filter_map(|year| Some((to_day(year, 1)?, year.to_string())))
        .filter(|(day, _)| *day >= x_min && *day <= x_max)
        .collect();
    if years.len() >= 3 || last.year() - first.year() > 6 {
        let every = (years.len() / 8).max(1);
        return years.into_iter().step_by(every).collect();
    }
    (first.year()..=last.year())
        .flat_map(|year| [1, 4, 7, 10].map(move |month| (year, month)))
        .filter_map(|(year, month)| Some((to_day(year, month)?, format!("{year}-{month:02}"))))
        .filter(|(day, _)| *day >= x_min && *day <= x_max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(bound: Bound, amount: &str) -> Value {
        Value {
            bound,
            amount: Some(Decimal::parse(amount).unwrap()),
            low: None,
            high: None,
            unit: None,
        }
    }

    #[test]
    fn each_bound_has_its_own_mark_and_revisions_are_joined() {
        let point = |date: &str, value: Value| Point {
            stated_on: Date::parse(date).unwrap(),
            value,
        };
        let range = Value {
            bound: Bound::Range,
            amount: None,
            low: Some(Decimal::parse("1000").unwrap()),
            high: Some(Decimal::parse("2000").unwrap()),
            unit: None,
        };
        let series = vec![
            Series {
                claimant: "A <b>".into(),
                claim_label: "a".into(),
                points: vec![
                    point("2025-02-24", value(Bound::Exact, "95300")),
                    point("2025-08", value(Bound::Exact, "121507")),
                ],
            },
            Series {
                claimant: "B".into(),
                claim_label: "b".into(),
                points: vec![point("2024", value(Bound::AtLeast, "46000"))],
            },
            Series {
                claimant: "C".into(),
                claim_label: "c".into(),
                points: vec![point("2025-01-01", range)],
            },
            Series {
                claimant: "D".into(),
                claim_label: "d".into(),
                points: vec![
                    point("2025-03-01", value(Bound::Approx, "380000")),
                    point("2025-04-01", value(Bound::AtMost, "10")),
                ],
            },
        ];
        let claimants: Vec<String> = series.iter().map(|s| s.claimant.clone()).collect();
        let svg = chart(&series, &claimants).unwrap().into_string();
        for class in [
            "mark exact",
            "mark approx",
            "mark at_least",
            "mark at_most",
            "mark range",
        ] {
            assert!(svg.contains(class), "{class}");
        }
        assert!(svg.contains("95,300 → 121,507"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("A &lt;b&gt;"), "labels are escaped");
        // The year-precision and month-precision dates are drawn across their span.
        assert!(svg.matches("class=\"span\"").count() >= 2);
        assert!(chart(&[], &[]).is_none());
    }

    #[test]
    fn round_steps() {
        assert_eq!(nice_step(1000.0, 5.0), 200.0);
        assert_eq!(nice_step(1_250_000.0, 5.0), 500_000.0);
        assert_eq!(tick_label(1_000_000.0), "1,000,000");
    }
}

//! The analysis page's charts (RESEARCH.md §5), drawn as SVG in the server's HTML: no
//! JavaScript, no styles in attributes (the content security policy allows none), colours as
//! SVG presentation attributes. Each chart has a title and a description for screen readers,
//! every mark a `<title>` with its numbers, and the values are written next to the marks.

use leptos::prelude::*;

use crate::domain::analysis::report::{AttemptStats, ModelRegionStats, RegionPairStats};

const WIDTH: f64 = 640.0;
const LABEL_WIDTH: f64 = 200.0;
const VALUE_WIDTH: f64 = 120.0;
const BAR_HEIGHT: f64 = 18.0;
const GAP: f64 = 8.0;

fn percent(rate: f64) -> String {
    format!("{:.0} %", rate * 100.0)
}

/// Horizontal bars: each (model, region)'s refusal rate with its 95 % interval as a whisker.
#[component]
pub fn RefusalChart(rows: Vec<ModelRegionStats>) -> impl IntoView {
    let plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    let x = move |rate: f64| LABEL_WIDTH + rate.clamp(0.0, 1.0) * plot;
    let height = GAP + rows.len() as f64 * (BAR_HEIGHT + GAP) + 20.0;
    let axis_y = height - 16.0;
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let y = GAP + i as f64 * (BAR_HEIGHT + GAP);
            let label = format!("{} · {}", row.model_id, row.region);
            let (value, detail) = match (row.refusal_rate, row.refusal_ci) {
                (Some(rate), Some([low, high])) => (
                    percent(rate),
                    format!(
                        "{label}: {} refused ({} of {} answers; 95 % interval {}–{})",
                        percent(rate),
                        row.refusals,
                        row.completed,
                        percent(low),
                        percent(high)
                    ),
                ),
                _ => ("no answers".to_string(), format!("{label}: no completed answers")),
            };
            let bar = row.refusal_rate.map(|rate| {
                view! { <rect class="bar" x=LABEL_WIDTH y=y width=(x(rate) - LABEL_WIDTH).max(1.0) height=BAR_HEIGHT fill="#c0392b" /> }
            });
            let whisker = row.refusal_ci.map(|[low, high]| {
                let mid = y + BAR_HEIGHT / 2.0;
                view! {
                    <g class="interval" stroke="#1d2330" stroke-width="1.5">
                        <line x1=x(low) x2=x(high) y1=mid y2=mid />
                        <line x1=x(low) x2=x(low) y1=y + 3.0 y2=y + BAR_HEIGHT - 3.0 />
                        <line x1=x(high) x2=x(high) y1=y + 3.0 y2=y + BAR_HEIGHT - 3.0 />
                    </g>
                }
            });
            view! {
                <g class="chart-row" data-testid="refusal-bar">
                    <title>{detail}</title>
                    <text x=LABEL_WIDTH - 6.0 y=y + BAR_HEIGHT - 5.0 text-anchor="end">{label}</text>
                    <rect x=LABEL_WIDTH y=y width=plot height=BAR_HEIGHT fill="#eef0f3" />
                    {bar}
                    {whisker}
                    <text x=WIDTH - VALUE_WIDTH + 8.0 y=y + BAR_HEIGHT - 5.0>{value}</text>
                </g>
            }
        })
        .collect_view();
    let ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
        .into_iter()
        .map(|t| view! { <text class="tick" x=x(t) y=axis_y + 12.0 text-anchor="middle">{percent(t)}</text> })
        .collect_view();
    view! {
        <Chart
            id="refusal-chart"
            title="Refusal rate per model and region"
            description="Bars show the share of completed answers that refuse; whiskers show the 95 % Wilson interval."
            width=WIDTH
            height=height
        >
            {bars}
            <line x1=LABEL_WIDTH x2=LABEL_WIDTH + plot y1=axis_y y2=axis_y stroke="#8a93a3" />
            {ticks}
        </Chart>
    }
}

/// A region × region matrix of mean agreement, darker for more alike.
#[component]
pub fn AgreementMatrix(regions: Vec<String>, pairs: Vec<RegionPairStats>) -> impl IntoView {
    const CELL: f64 = 90.0;
    // Room for the row labels on the left and the column labels on top.
    const LEFT: f64 = 110.0;
    const TOP: f64 = 30.0;
    let (width, height) = (LEFT + regions.len() as f64 * CELL, TOP + regions.len() as f64 * CELL);
    let agreement = |a: &str, b: &str| -> Option<&RegionPairStats> { pairs.iter().find(|p| (p.a == a && p.b == b) || (p.a == b && p.b == a)) };
    let mut cells = Vec::new();
    for (i, a) in regions.iter().enumerate() {
        for (j, b) in regions.iter().enumerate() {
            let (x, y) = (LEFT + j as f64 * CELL, TOP + i as f64 * CELL);
            let (fill, text, detail) = if i == j {
                ("#f4f5f7".to_string(), "—".to_string(), format!("{a} with itself"))
            } else {
                match agreement(a, b).and_then(|p| p.mean_agreement.map(|m| (m, p))) {
                    Some((mean, pair)) => (
                        shade(mean),
                        format!("{mean:.2}"),
                        format!(
                            "{a} and {b}: mean agreement {mean:.2} over {} rows; one refused and the other did not in {}",
                            pair.rows, pair.refusal_disagreements
                        ),
                    ),
                    None => ("#ffffff".to_string(), "n/a".to_string(), format!("{a} and {b}: no rows where both answered")),
                }
            };
            let dark = text.parse::<f64>().is_ok_and(|m| m > 0.6);
            cells.push(view! {
                <g class="matrix-cell" data-testid="agreement-cell">
                    <title>{detail}</title>
                    <rect x=x y=y width=CELL - 2.0 height=CELL - 2.0 fill=fill />
                    <text x=x + CELL / 2.0 y=y + CELL / 2.0 + 5.0 text-anchor="middle" fill=if dark { "#ffffff" } else { "#1d2330" }>{text}</text>
                </g>
            });
        }
    }
    let heads = regions
        .iter()
        .enumerate()
        .map(|(i, region)| {
            view! {
                <text x=LEFT + i as f64 * CELL + CELL / 2.0 y=TOP - 10.0 text-anchor="middle">{region.clone()}</text>
                <text x=LEFT - 8.0 y=TOP + i as f64 * CELL + CELL / 2.0 + 5.0 text-anchor="end">{region.clone()}</text>
            }
        })
        .collect_view();
    view! {
        <Chart
            id="agreement-matrix"
            title="Agreement between regions"
            description="Each cell is the mean similarity (0 to 1) of two regions' answers to the same question, model and sample; darker is more alike."
            width=width
            height=height
        >
            {heads}
            {cells}
        </Chart>
    }
}

/// Blue, from pale (0) to deep (1).
fn shade(agreement: f64) -> String {
    let t = agreement.clamp(0.0, 1.0);
    let mix = |pale: f64, deep: f64| (pale + (deep - pale) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(232.0, 31.0), mix(240.0, 78.0), mix(252.0, 150.0))
}

/// Vertical bars: the share of attempts with each number that succeeded.
#[component]
pub fn AttemptChart(rows: Vec<AttemptStats>) -> impl IntoView {
    const PLOT_HEIGHT: f64 = 160.0;
    const COLUMN: f64 = 90.0;
    const TOP: f64 = 24.0;
    let width = 60.0 + rows.len().max(1) as f64 * COLUMN;
    let height = TOP + PLOT_HEIGHT + 40.0;
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let rate = if row.n == 0 { 0.0 } else { row.succeeded as f64 / row.n as f64 };
            let bar_height = (rate * PLOT_HEIGHT).max(1.0);
            let x = 60.0 + i as f64 * COLUMN + 15.0;
            let name = if row.attempt == 1 { "first attempt".to_string() } else { format!("attempt {}", row.attempt) };
            view! {
                <g class="chart-row" data-testid="attempt-bar">
                    <title>{format!("{name}: {} of {} succeeded ({})", row.succeeded, row.n, percent(rate))}</title>
                    <rect x=x y=TOP + PLOT_HEIGHT - bar_height width=COLUMN - 30.0 height=bar_height fill="#2e7d4f" />
                    <text x=x + (COLUMN - 30.0) / 2.0 y=TOP + PLOT_HEIGHT - bar_height - 6.0 text-anchor="middle">{format!("{}/{}", row.succeeded, row.n)}</text>
                    <text x=x + (COLUMN - 30.0) / 2.0 y=TOP + PLOT_HEIGHT + 16.0 text-anchor="middle">{format!("#{}", row.attempt)}</text>
                    <text class="tick" x=x + (COLUMN - 30.0) / 2.0 y=TOP + PLOT_HEIGHT + 32.0 text-anchor="middle">{percent(rate)}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <Chart
            id="attempt-chart"
            title="Success by attempt number"
            description="For each attempt number, the attempts made and how many succeeded: did retries pay off?"
            width=width
            height=height
        >
            <line x1="55" x2=width y1=TOP + PLOT_HEIGHT y2=TOP + PLOT_HEIGHT stroke="#8a93a3" />
            {bars}
        </Chart>
    }
}

/// What every chart is: an SVG that names itself for screen readers (its title and a sentence
/// saying how to read it), drawn on the server like the rest of the page.
#[component]
fn Chart(id: &'static str, title: &'static str, description: &'static str, width: f64, height: f64, children: Children) -> impl IntoView {
    let (title_id, description_id) = (format!("{id}-title"), format!("{id}-desc"));
    let labelled_by = format!("{title_id} {description_id}");
    view! {
        <svg class="chart" data-testid=id role="img" aria-labelledby=labelled_by
            viewBox=format!("0 0 {width} {height}") width=width height=height>
            <title id=title_id>{title}</title>
            <desc id=description_id>{description}</desc>
            {children()}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shades_run_from_pale_to_deep() {
        assert_eq!(shade(0.0), "#e8f0fc");
        assert_eq!(shade(1.0), "#1f4e96");
        assert_eq!(shade(2.0), shade(1.0));
    }
}

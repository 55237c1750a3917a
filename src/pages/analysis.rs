use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::charts::{AgreementMatrix, AttemptChart, RefusalChart};
use crate::components::{loaded, JobNav, JobSection, TableHead};
use crate::domain::analysis::report::{GroupStats, RetryBias};
use crate::serverfns::analysis::{load_analysis, AnalysisPageData};

/// `/jobs/:id/analysis`: the study's numbers (RESEARCH.md §5), the retry-bias check first,
/// then refusal rates with intervals, agreement between regions, and whether retries paid
/// off; each as an SVG chart in the server's HTML and as a table of the same numbers.
#[component]
pub fn AnalysisPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, load_analysis);
    loaded(data, |data| view! { <Analysis data /> })
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("—".to_string(), |r| format!("{:.1} %", r * 100.0))
}

fn interval(ci: Option<[f64; 2]>) -> String {
    ci.map_or("—".to_string(), |[low, high]| format!("{:.1}–{:.1} %", low * 100.0, high * 100.0))
}

fn number(value: Option<f64>) -> String {
    value.map_or("—".to_string(), |v| format!("{v:.0}"))
}

#[component]
fn Analysis(data: AnalysisPageData) -> impl IntoView {
    let AnalysisPageData { job, analysis } = data;
    let id = job.id.to_string();
    let regions: Vec<String> = job.regions.iter().map(|r| r.to_string()).collect();
    let by_model_region = analysis.per_model_region.clone();
    let pairs = analysis.region_pairs.clone();
    let attempts = analysis.by_attempt.clone();
    view! {
        <section class="panel">
            <JobNav job_id=id.clone() current=JobSection::Analysis />
            <h1>"Analysis"</h1>
            <Coverage job=job.clone() />
        </section>
        <RetryBiasPanel bias=analysis.retry_bias />
        <section class="panel">
            <h2>"Refusal rate per model and region"</h2>
            <RefusalChart rows=by_model_region.clone() />
            <table class="analysis" data-testid="per-model-region">
                <TableHead columns=&["Model", "Region", "Executions", "Completed", "Refusals", "Refusal rate", "95 % interval", "Mean length (chars)", "Mean latency (ms)"] />
                <tbody>
                    {by_model_region.into_iter().map(|r| view! {
                        <tr>
                            // The answers behind the line, side by side (UI.md §5).
                            <td><a href=format!("/jobs/{id}/compare?model={}", r.model_id) data-testid="line-compare">{r.model_id.clone()}</a></td>
                            <td><a href=format!("/jobs/{id}?region={}&model={}", r.region, r.model_id)>{r.region.to_string()}</a></td><td class="num">{r.n}</td><td class="num">{r.completed}</td>
                            <td class="num">{r.refusals}</td><td class="num">{percent(r.refusal_rate)}</td><td class="num">{interval(r.refusal_ci)}</td>
                            <td class="num">{number(r.mean_length)}</td><td class="num">{number(r.mean_latency_ms)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section class="panel">
            <h2>"Agreement between regions"</h2>
            <AgreementMatrix regions pairs=pairs.clone() />
            <table class="analysis" data-testid="region-pairs">
                <TableHead columns=&["Regions", "Rows both answered", "Mean agreement", "One refused, the other not"] />
                <tbody>
                    {pairs.into_iter().map(|p| view! {
                        <tr>
                            <td>{format!("{} · {}", p.a, p.b)}</td><td class="num">{p.rows}</td>
                            <td class="num">{p.mean_agreement.map_or("—".to_string(), |m| format!("{m:.2}"))}</td>
                            <td class="num">{p.refusal_disagreements}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section class="panel">
            <h2>"Did retries pay off?"</h2>
            <AttemptChart rows=attempts.clone() />
            <table class="analysis" data-testid="by-attempt">
                <TableHead columns=&["Attempt", "Made", "Succeeded", "Success rate"] />
                <tbody>
                    {attempts.into_iter().map(|a| view! {
                        <tr>
                            <td class="num">{a.attempt}</td><td class="num">{a.n}</td><td class="num">{a.succeeded}</td>
                            <td class="num">{percent((a.n > 0).then(|| a.succeeded as f64 / a.n as f64))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Failed attempts by error code"</h3>
            <table class="analysis" data-testid="by-error-code">
                <TableHead columns=&["Error code", "Reason", "Failed attempts"] />
                <tbody>
                    {analysis.by_error_code.into_iter().map(|(code, n)| {
                        // The rows' own words, added up: one reason, or each with its count.
                        let reason = match analysis.reasons_by_code.get(&code) {
                            Some(reasons) if reasons.len() == 1 => reasons.keys().next().cloned().unwrap_or_default(),
                            Some(reasons) if !reasons.is_empty() => {
                                reasons.iter().map(|(reason, n)| format!("{reason} ({n})")).collect::<Vec<_>>().join(", ")
                            }
                            _ => crate::domain::failure_reason::failure_reason(&code, None),
                        };
                        view! { <tr><td><code>{code}</code></td><td>{reason}</td><td class="num">{n}</td></tr> }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// What the numbers below cover. A finished job with failures says plainly that they are left
/// out, and offers to retry them (UI.md §6).
#[component]
fn Coverage(job: crate::domain::views::JobView) -> impl IntoView {
    let p = job.progress;
    let id = job.id.to_string();
    if job.status.is_finished() && p.failed > 0 {
        view! {
            <p class="coverage" data-testid="coverage">
                {format!("Finished: {} of {} answered; {} failed and are left out. ", p.completed, job.total_executions, p.failed)}
                <a href=format!("/jobs/{id}?status=failed,timeout,error")>"Retry them"</a>
            </p>
        }
        .into_any()
    } else if job.status.is_finished() {
        view! { <p class="muted" data-testid="coverage">{format!("Finished: {} of {} answered.", p.completed, job.total_executions)}</p> }.into_any()
    } else {
        view! {
            <p class="muted" data-testid="coverage">
                {format!("{} of {} executions answered so far; the numbers cover what has been answered.", p.completed, job.total_executions)}
            </p>
        }
        .into_any()
    }
}

/// The check no other tool makes, said first and plainly.
#[component]
fn RetryBiasPanel(bias: RetryBias) -> impl IntoView {
    let group = |name: &'static str, g: GroupStats| {
        view! {
            <tr>
                <th scope="row">{name}</th><td class="num">{g.n}</td><td class="num">{percent(g.refusal_rate)}</td>
                <td class="num">{interval(g.refusal_ci)}</td><td class="num">{number(g.mean_length)}</td>
            </tr>
        }
    };
    view! {
        <section class="panel retry-bias" class:flagged=bias.flagged && bias.testable data-testid="retry-bias" data-flagged=bias.flagged.to_string() data-testable=bias.testable.to_string()>
            <h2>
                {if !bias.testable {
                    "Retry bias: not testable yet"
                } else if bias.flagged {
                    "⚠ Retries may have biased these results"
                } else {
                    "Retry bias: no sign in these answers"
                }}
            </h2>
            <p class="retry-bias-sentence" data-testid="retry-bias-sentence">{bias.explanation}</p>
            <table class="analysis">
                <TableHead columns=&["Completed answers", "n", "Refusal rate", "95 % interval", "Mean length (chars)"] />
                <tbody>
                    {group("Answered on the first try", bias.first_try)}
                    {group("Needed a retry", bias.retried)}
                </tbody>
            </table>
            <p class="muted">"Flagged when the two refusal intervals do not overlap, or when the mean lengths differ by more than 25 %; tested once each group has at least 5 answers."</p>
        </section>
    }
}

use leptos::prelude::*;

use crate::domain::views::QuestionView;
use crate::domain::Catalogue;
use crate::serverfns::jobs::CreateJob;

use super::error_banner::ErrorBanner;

/// The new-job form, prefilled (every question, every model, the first two regions) so that
/// one click starts a meaningful job. Regions and models are the configuration's. An `ActionForm`: without the WASM the browser posts it and the
/// server answers with the new job's page; with it, the same server function runs and the
/// page navigates there. A refusal is shown above the button.
#[component]
pub fn NewJobForm(questions: Vec<QuestionView>, catalogue: Catalogue, #[prop(optional)] auto_retries: i64) -> impl IntoView {
    let catalogue_auto = auto_retries;
    let action = ServerAction::<CreateJob>::new();
    let pending = action.pending();
    let allowed = super::visitor::may(crate::domain::Role::Researcher);
    let refusal = move || match action.value().get() {
        Some(Err(err)) if action.version().get() > 0 => Some(view! { <ErrorBanner message=err.error /> }),
        _ => None,
    };
    view! {
        <section class="panel new-job">
            <h1>"New bias-detection job"</h1>
            <ActionForm action>
                <fieldset>
                    <legend>"Questions"</legend>
                    {questions
                        .into_iter()
                        .map(|q| {
                            view! {
                                <label class="choice" title=q.text.clone()>
                                    <input type="checkbox" name="questions[]" value=q.id.clone() checked />
                                    <span class="qid">{q.id.clone()}</span>
                                    <span class="muted">{q.text.clone()}</span>
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Models"</legend>
                    {catalogue
                        .models
                        .iter()
                        .map(|m| {
                            let served = m.regions.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ");
                            view! {
                                <label class="choice" title=format!("served in {served}")>
                                    <input type="checkbox" name="models[]" value=m.id.clone() checked />
                                    {m.name.clone()}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Regions"</legend>
                    {catalogue
                        .regions
                        .iter()
                        .enumerate()
                        .map(|(i, r)| {
                            // The form's value is the region's first alias (`US`), as researchers say it.
                            let value = r.aliases.first().cloned().unwrap_or_else(|| r.id.to_string());
                            view! {
                                <label class="choice">
                                    <input type="checkbox" name="regions[]" value=value checked=i < 2 />
                                    {format!("{} ({})", r.label, r.id)}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Automatic retries"</legend>
                    <label class="choice" title="Timeouts, network errors, rate limits, 5xx and cold starts are retried by Beacon after a backoff; other failures never are">
                        "Retry infrastructure failures automatically, up to "
                        <input type="number" name="auto_retries" min="0" max="5" value=catalogue_auto.to_string() class="narrow" />
                        " times"
                    </label>
                    <label class="choice" title="Before the first question goes to a provider, send it a short request until it answers, so cold starts do not fail the first wave">
                        <input type="checkbox" name="warmup" value="on" />
                        "Warm each provider up first"
                    </label>
                </fieldset>
                {refusal}
                <button
                    type="submit"
                    class="primary"
                    title=move || (!allowed.get()).then(|| super::visitor::needs(crate::domain::Role::Researcher))
                    disabled=move || pending.get() || !allowed.get()
                >
                    "Start job"
                </button>
            </ActionForm>
        </section>
    }
}

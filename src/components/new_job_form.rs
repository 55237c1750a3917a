use leptos::prelude::*;

use super::format::plural;
use crate::domain::job::JobLimits;

use crate::serverfns::jobs::{CreateJob, HomeData};

use super::error_banner::ErrorBanner;

/// The new-job form, prefilled (every listed question, every model, the first two regions) so
/// that one click starts a meaningful job. Regions and models are the configuration's; a
/// question set brings its questions in its order, ticked questions come after them. An
/// `ActionForm`: without the WASM the browser posts it and the server answers with the new
/// job's page; with it, the same server function runs and the page navigates there. With
/// JavaScript the size of the job is counted as the form changes (RESEARCH.md §2); a refusal
/// is shown above the button.
#[component]
pub fn NewJobForm(home: HomeData) -> impl IntoView {
    let HomeData { questions, question_sets, catalogue, auto_retries_default, temperature_default, max_tokens_default, .. } = home;
    let action = ServerAction::<CreateJob>::new();
    let pending = action.pending();
    let allowed = super::visitor::may(crate::domain::Role::Researcher);
    // A refusal about one field stands at that field (UI.md §9); any other above the button.
    let refusal = move || match action.value().get() {
        Some(Err(err)) if action.version().get() > 0 && FIELDS.iter().all(|f| about(&err, f).is_none()) => {
            Some(view! { <ErrorBanner message=err.error /> })
        }
        _ => None,
    };
    let error_at = move |fields: &'static [&'static str]| {
        move || match action.value().get() {
            Some(Err(err)) => fields.iter().find_map(|field| about(&err, field)).map(|message| {
                view! { <p class="field-error" role="alert" data-testid=format!("error-{}", fields[0])>{message}</p> }
            }),
            _ => None,
        }
    };

    // What the job will hold, as the form stands. Choosing a set unticks the listed questions
    // (the count is then the set's; ticking one adds it after the set's questions). A set named
    // in the address (`/?question_set=…`, from the questions page) comes chosen.
    let preset = leptos_router::hooks::use_query_map()
        .with_untracked(|query| query.get("question_set"))
        .filter(|id| question_sets.iter().any(|(known, _, _)| known == id));
    let ticked = RwSignal::new(if preset.is_some() { 0 } else { questions.len() });
    let set = RwSignal::new(preset.clone().unwrap_or_default());
    let boxes: Vec<RwSignal<bool>> = questions.iter().map(|_| RwSignal::new(preset.is_none())).collect();
    let choose_set = {
        let boxes = boxes.clone();
        move |ev: leptos::ev::Event| {
            let chosen = event_target_value(&ev);
            if !chosen.is_empty() {
                boxes.iter().for_each(|b| b.set(false));
                ticked.set(0);
            }
            set.set(chosen);
        }
    };
    let models = RwSignal::new(catalogue.models.len());
    let regions = RwSignal::new(catalogue.regions.len().min(2));
    let samples = RwSignal::new(1usize);
    let sizes: Vec<(String, usize)> = question_sets.iter().map(|(id, _, size)| (id.clone(), *size)).collect();
    let set_size = move || set.with(|chosen| sizes.iter().find(|(id, _)| id == chosen).map_or(0, |(_, n)| *n));
    let count = move || {
        let q = set_size() + ticked.get();
        let (m, r, s) = (models.get(), regions.get(), samples.get());
        format!(
            "{} × {} × {} × {} = {}",
            plural(q, "question", "questions"),
            plural(m, "model", "models"),
            plural(r, "region", "regions"),
            plural(s, "sample", "samples"),
            plural(q * m * r * s, "execution", "executions"),
        )
    };
    // A ticked box counts one up, an unticked one down.
    let counter = |signal: RwSignal<usize>| {
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            signal.update(|n| *n = if on { *n + 1 } else { n.saturating_sub(1) });
        }
    };

    view! {
        <section class="panel new-job">
            <h1>"New bias-detection job"</h1>
            <ActionForm action>
                <label class="choice name-field">
                    "Name (optional) "
                    <input type="text" name="name" maxlength="120" data-testid="job-name" placeholder="e.g. Taiwan wording, December run" />
                </label>
                <p class="help">"Shown on the job's page, in the jobs list and in its export files' names."</p>
                {error_at(&["name"])}
                <fieldset>
                    <legend>"Questions"</legend>
                    {error_at(&["questions", "question_set"])}
                    <label class="choice">
                        "Question set "
                        <select name="question_set" data-testid="question-set" on:change=choose_set>
                            <option value="" selected=preset.is_none()>"None: the questions ticked below"</option>
                            {question_sets
                                .into_iter()
                                .map(|(id, name, size)| {
                                    let chosen = preset.as_deref() == Some(id.as_str());
                                    view! { <option value=id.clone() selected=chosen>{format!("{name} ({id}, {})", plural(size, "question", "questions"))}</option> }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <p class="muted">"A set's questions come first, in its order (choosing one unticks the questions below); ticked questions are added after them. "
                        <a href="/questions">"Manage questions and sets"</a></p>
                    {questions
                        .into_iter()
                        .zip(boxes)
                        .map(|(q, ticked_box)| {
                            let count = counter(ticked);
                            view! {
                                <label class="choice" title=q.text.clone()>
                                    <input type="checkbox" name="questions[]" value=q.id.clone() checked=ticked_box.get_untracked() prop:checked=move || ticked_box.get()
                                        on:change=move |ev| {
                                            ticked_box.set(event_target_checked(&ev));
                                            count(ev)
                                        } />
                                    <span class="qid">{q.id.clone()}</span>
                                    <span class="muted">{q.text.clone()}</span>
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Models"</legend>
                    {error_at(&["models"])}
                    {catalogue
                        .models
                        .iter()
                        .map(|m| {
                            let served = m.regions.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ");
                            view! {
                                <label class="choice">
                                    <input type="checkbox" name="models[]" value=m.id.clone() checked on:change=counter(models) />
                                    {m.name.clone()}
                                    <span class="muted">{format!("served in {served}")}</span>
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Regions"</legend>
                    {error_at(&["regions"])}
                    {catalogue
                        .regions
                        .iter()
                        .enumerate()
                        .map(|(i, r)| {
                            // The form's value is the region's first alias (`US`), as researchers say it.
                            let value = r.aliases.first().cloned().unwrap_or_else(|| r.id.to_string());
                            view! {
                                <label class="choice">
                                    <input type="checkbox" name="regions[]" value=value checked=i < 2 on:change=counter(regions) />
                                    {format!("{} ({})", r.label, r.id)}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Sampling"</legend>
                    {error_at(&["samples", "temperature", "max_tokens", "seed"])}
                    <p class="help">"Each cell (question × model × region) is asked as many times as its samples, as separate executions. The seed is sent to providers that support it, for reproducible sampling."</p>
                    <label class="choice">
                        "Samples per cell "
                        <input type="number" name="samples" min=JobLimits::SAMPLES.start().to_string() max=JobLimits::SAMPLES.end().to_string() value="1" class="narrow" data-testid="samples"
                            on:input=move |ev| {
                                let (low, high) = (*JobLimits::SAMPLES.start() as usize, *JobLimits::SAMPLES.end() as usize);
                                samples.set(event_target_value(&ev).trim().parse::<usize>().unwrap_or(low).clamp(low, high))
                            } />
                    </label>
                    <label class="choice">
                        "Temperature "
                        <input type="number" name="temperature" min=JobLimits::TEMPERATURE.start().to_string() max=JobLimits::TEMPERATURE.end().to_string() step="0.1" value=temperature_default.to_string() class="narrow" />
                    </label>
                    <label class="choice">
                        "Max tokens "
                        <input type="number" name="max_tokens" min=JobLimits::MAX_TOKENS.start().to_string() max=JobLimits::MAX_TOKENS.end().to_string() value=max_tokens_default.to_string() class="narrow" />
                    </label>
                    <label class="choice">
                        "Seed (optional) "
                        <input type="number" name="seed" step="1" class="narrow" />
                    </label>
                </fieldset>
                <fieldset>
                    <legend>"Automatic retries"</legend>
                    {error_at(&["auto_retries"])}
                    <p class="help">"Time-outs, network errors, rate limits, 5xx answers and cold starts are retried by Beacon after a backoff; other failures never are. Warming up sends each provider a short request until it answers, before the first question goes there, so cold starts do not fail the first wave."</p>
                    <label class="choice">
                        "Retry infrastructure failures automatically, up to "
                        <input type="number" name="auto_retries" min=JobLimits::AUTO_RETRIES.start().to_string() max=JobLimits::AUTO_RETRIES.end().to_string() value=auto_retries_default.to_string() class="narrow" />
                        " times"
                    </label>
                    <label class="choice">
                        <input type="checkbox" name="warmup" value="on" />
                        "Warm each provider up first"
                    </label>
                </fieldset>
                <p class="job-size" data-testid="job-size" aria-live="polite">{count}</p>
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

/// The form's fields, as the service names them at the start of a refusal ("models: …").
const FIELDS: [&str; 10] = ["name", "questions", "question_set", "models", "regions", "samples", "temperature", "max_tokens", "seed", "auto_retries"];

/// The refusal's sentence when it is about `field`, without the field's name: "models: pick
/// at least one model" at the Models box reads "Pick at least one model".
fn about(err: &crate::domain::ApiError, field: &str) -> Option<String> {
    if err.code != "invalid_request" {
        return None;
    }
    let rest = err.error.strip_prefix(field)?.strip_prefix(": ")?;
    let mut chars = rest.chars();
    let first = chars.next()?;
    Some(first.to_uppercase().chain(chars).collect())
}

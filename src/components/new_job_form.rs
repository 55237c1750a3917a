use leptos::prelude::*;

use crate::domain::views::QuestionView;
use crate::domain::{Model, Region};

/// The new-job form, prefilled (every question, every model, US and EU) so that one click
/// starts a meaningful job. A plain form post: it works before the WASM has loaded.
#[component]
pub fn NewJobForm(questions: Vec<QuestionView>) -> impl IntoView {
    view! {
        <section class="panel new-job">
            <h1>"New bias-detection job"</h1>
            <form method="post" action="/jobs">
                <fieldset>
                    <legend>"Questions"</legend>
                    {questions
                        .into_iter()
                        .map(|q| {
                            view! {
                                <label class="choice" title=q.text.clone()>
                                    <input type="checkbox" name="questions" value=q.id.clone() checked />
                                    <span class="qid">{q.id.clone()}</span>
                                    <span class="muted">{q.text.clone()}</span>
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Models"</legend>
                    {Model::ALL
                        .into_iter()
                        .map(|m| {
                            view! {
                                <label class="choice">
                                    <input type="checkbox" name="models" value=m.id checked />
                                    {m.name}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Regions"</legend>
                    {Region::ALL
                        .into_iter()
                        .map(|r| {
                            let checked = r != Region::AsiaPacific;
                            view! {
                                <label class="choice">
                                    <input type="checkbox" name="regions" value=r.code() checked=checked />
                                    {format!("{} ({})", r.display_name(), r.router_region())}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <button type="submit" class="primary">"Start job"</button>
            </form>
        </section>
    }
}

use leptos::prelude::*;

/// A table's column headings, each a column header for screen readers.
#[component]
pub fn TableHead(columns: &'static [&'static str]) -> impl IntoView {
    view! {
        <thead>
            <tr>{columns.iter().map(|column| view! { <th scope="col">{*column}</th> }).collect_view()}</tr>
        </thead>
    }
}

use leptos::prelude::*;

use crate::domain::Timestamp;

/// "in 8 s" until an instant, then "now". The server renders it once; in the browser
/// it counts down every second (by the browser's clock).
#[component]
pub fn Countdown(until: Timestamp) -> impl IntoView {
    let target = Some(until.millis() as f64);
    let now = RwSignal::new(now_ms());
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(move || now.set(now_ms()), std::time::Duration::from_secs(1)) {
            on_cleanup(move || handle.clear());
        }
    }
    let text = move || match target {
        Some(target) => {
            let seconds = ((target - now.get()) / 1000.0).ceil() as i64;
            if seconds > 0 {
                format!("in {seconds} s")
            } else {
                "now".to_string()
            }
        }
        None => String::new(),
    };
    view! { <span class="countdown">{text}</span> }
}

#[cfg(feature = "ssr")]
fn now_ms() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn now_ms() -> f64 {
    0.0
}

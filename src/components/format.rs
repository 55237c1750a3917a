//! How numbers read on the page.

use crate::domain::{JobStatus, Progress};

/// `850 ms`, `12.3 s`, `2 min 05 s`.
pub fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "—".to_string(),
        Some(ms) if ms < 1000 => format!("{ms} ms"),
        Some(ms) if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        Some(ms) => format!("{} min {:02} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

pub fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The job's status with its reason, e.g. `completed · 34/36 succeeded · 2 failed`.
pub fn job_status_line(status: JobStatus, progress: &Progress) -> String {
    let mut line = status.as_str().to_string();
    if status.is_finished() || progress.done() > 0 {
        line.push_str(&format!(" · {}/{} succeeded", progress.completed, progress.total));
    }
    if progress.failed > 0 {
        line.push_str(&format!(" · {} failed", progress.failed));
        if progress.exhausted == progress.failed {
            line.push_str(", no retries left");
        } else if progress.exhausted > 0 {
            line.push_str(&format!(" ({} with no retries left)", progress.exhausted));
        }
    }
    if progress.cancelled > 0 {
        line.push_str(&format!(" · {} cancelled", progress.cancelled));
    }
    line
}

/// Text for the page's `<title>`. `leptos_meta`'s `Title` writes its text into the server's
/// HTML unescaped (a job named `</title><script>…` would run), while in the browser it sets
/// `document.title`, which takes text as it is: escaped on the server only.
pub fn title_text(text: String) -> String {
    #[cfg(feature = "ssr")]
    {
        text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    }
    #[cfg(not(feature = "ssr"))]
    {
        text
    }
}

//! The few pages Beacon writes as plain HTML rather than as Leptos routes (`/login`, which must
//! work before anyone is known, and `/api/docs`, a rendering of a JSON document): their shared
//! frame, and the one escaping function they put every piece of text through.

/// A whole page in Beacon's frame (top bar and stylesheet, no scripts). `main` is HTML the
/// caller has built with [`escape`].
pub fn page(title: &str, main: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Beacon</title><link rel="stylesheet" href="/pkg/beacon.css"></head>
<body><div class="app"><header class="topbar"><a class="brand" href="/">Beacon</a><span class="tagline">cross-region LLM bias detection</span><nav class="topnav" aria-label="Sections"><a href="/">Jobs</a><a href="/questions">Questions</a><a href="/api/docs">API</a></nav></header>
<main>{main}</main></div></body></html>"#,
        title = escape(title),
    )
}

/// Text into HTML text or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(escape(r#"<b a="x">'&'</b>"#), "&lt;b a=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;");
        assert!(page("a<b", "<p>x</p>").contains("<title>a&lt;b · Beacon</title>"));
    }
}

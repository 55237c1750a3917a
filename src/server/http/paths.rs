//! One path, one decision (SAFETY.md §7): every request path has exactly one spelling, so the
//! access rule, the router and the page renderer all act on the same string. A path that could
//! be read as another one — a `.` or `..` segment in any spelling, an empty segment, a
//! backslash, an encoded `/` — is refused with 400 before anyone looks at who is calling.
//! An audit once read `/admin` through `/pkg/%2e%2e/admin`: the rule saw an open `/pkg/…`
//! path and the renderer the normalised `/admin`.
//!
//! Methods outside HTTP's ordinary set (`CONNECT`, `TRACE`, extensions) get 405 here too, so
//! no handler or fallback ever meets them.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

use crate::domain::ErrorCode;
use crate::server::error::error_response;

/// The methods some route takes; `Allow` on a 405 lists them.
const KNOWN_METHODS: [Method; 7] = [Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS];

pub async fn one_spelling(request: Request, next: Next) -> Response {
    if !KNOWN_METHODS.contains(request.method()) {
        let method = request.method().as_str().chars().take(32).collect::<String>();
        let mut response = error_response(ErrorCode::MethodNotAllowed, format!("{method} is not a method Beacon answers"));
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"));
        return response;
    }
    if let Err(problem) = check(request.uri().path()) {
        return error_response(ErrorCode::InvalidPath, problem.to_string());
    }
    next.run(request).await
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathProblem {
    #[error("the path must start with /")]
    NotAbsolute,
    #[error("the path has an empty segment (//, or a / at the end)")]
    EmptySegment,
    #[error("the path has a . or .. segment")]
    DotSegment,
    #[error("the path has a backslash")]
    Backslash,
    #[error("the path spells with %-escapes a character that needs none (letters, digits, - . _ ~) or a / or \\")]
    NeedlessEscape,
    #[error("the path has a % that does not start an escape such as %20")]
    BadEscape,
    #[error("the path has a control character")]
    Control,
}

/// Whether `path` (as it came, still %-encoded) is in the one spelling Beacon accepts. `/` is;
/// otherwise every segment is non-empty, not `.` or `..`, free of backslashes and control
/// characters, and escapes only what must be escaped. Refusing needless escapes is what
/// makes the spelling unique: `%2e`, `%2E`, `%61dmin` and `%2f` never reach a router that
/// might decode them differently from the rule that judged them.
pub fn check(path: &str) -> Result<(), PathProblem> {
    let Some(rest) = path.strip_prefix('/') else { return Err(PathProblem::NotAbsolute) };
    if rest.is_empty() {
        return Ok(());
    }
    for segment in rest.split('/') {
        if segment.is_empty() {
            return Err(PathProblem::EmptySegment);
        }
        if segment == "." || segment == ".." {
            return Err(PathProblem::DotSegment);
        }
        let bytes = segment.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => return Err(PathProblem::Backslash),
                b if b < 0x20 || b == 0x7f => return Err(PathProblem::Control),
                b'%' => {
                    let decoded = bytes
                        .get(i + 1..i + 3)
                        .and_then(|hex| std::str::from_utf8(hex).ok())
                        .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                        .ok_or(PathProblem::BadEscape)?;
                    if decoded.is_ascii_alphanumeric() || matches!(decoded, b'-' | b'.' | b'_' | b'~' | b'/' | b'\\') {
                        return Err(PathProblem::NeedlessEscape);
                    }
                    if decoded < 0x20 || decoded == 0x7f {
                        return Err(PathProblem::Control);
                    }
                    i += 3;
                }
                _ => i += 1,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_per_path() {
        for fine in ["/", "/admin", "/jobs/job_1", "/pkg/beacon.wasm", "/api/v1/executions/3/details", "/questions?x=/..", "/q/caf%C3%A9", "/q/a%20b"]
        {
            let path = fine.split('?').next().unwrap();
            assert_eq!(check(path), Ok(()), "{fine}");
        }
        let refused = [
            ("/pkg/../admin", PathProblem::DotSegment),
            ("/./admin", PathProblem::DotSegment),
            ("/pkg/%2e%2e/admin", PathProblem::NeedlessEscape),
            ("/pkg/%2E%2e/admin", PathProblem::NeedlessEscape),
            ("/pkg/.%2e/admin", PathProblem::NeedlessEscape),
            ("/%2e/admin", PathProblem::NeedlessEscape),
            ("/%61dmin", PathProblem::NeedlessEscape),
            ("//admin", PathProblem::EmptySegment),
            ("/admin/", PathProblem::EmptySegment),
            ("/pkg%2f..%2fadmin", PathProblem::NeedlessEscape),
            ("/pkg%2F..%2Fadmin", PathProblem::NeedlessEscape),
            ("/pkg\\..\\admin", PathProblem::Backslash),
            ("/pkg%5c..%5cadmin", PathProblem::NeedlessEscape),
            ("/jobs/a%0ab", PathProblem::Control),
            ("/jobs/a%zz", PathProblem::BadEscape),
            ("/jobs/a%2", PathProblem::BadEscape),
            ("admin", PathProblem::NotAbsolute),
            ("", PathProblem::NotAbsolute),
        ];
        for (path, problem) in refused {
            assert_eq!(check(path), Err(problem), "{path}");
        }
    }
}

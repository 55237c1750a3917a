//! Every `code` an error answer can carry, with the HTTP status it comes with: what scripts
//! match on, written once. Handlers, server functions, form posts and the middleware in front
//! of them all answer through it, so a code cannot be misspelt or sent with the wrong status.

use super::text_enum::text_enum;

text_enum! {
    pub enum ErrorCode {
        /// A field is missing or malformed; the sentence names it.
        InvalidRequest = "invalid_request",
        InvalidJobId = "invalid_job_id",
        InvalidExecutionId = "invalid_execution_id",
        /// A path spelt more than one way (`//`, `..`, a needless `%`-escape).
        InvalidPath = "invalid_path",
        /// An import with bad lines; `errors` lists each line's problem.
        InvalidImport = "invalid_import",
        JobTooLarge = "job_too_large",
        RegionMismatch = "region_mismatch",
        QuestionMismatch = "question_mismatch",
        Unauthenticated = "unauthenticated",
        Forbidden = "forbidden",
        /// A browser request from another site.
        CrossOrigin = "cross_origin",
        NotFound = "not_found",
        MethodNotAllowed = "method_not_allowed",
        JobExists = "job_exists",
        Duplicate = "duplicate",
        UserExists = "user_exists",
        QuestionChanged = "question_changed",
        QuestionInUse = "question_in_use",
        NotCancellable = "not_cancellable",
        NotRetryable = "not_retryable",
        AlreadyCompleted = "already_completed",
        InProgress = "in_progress",
        OwnAccount = "own_account",
        AmbiguousPrefix = "ambiguous_prefix",
        /// The request's Host is not Beacon's.
        MisdirectedRequest = "misdirected_request",
        PayloadTooLarge = "payload_too_large",
        UnsupportedMediaType = "unsupported_media_type",
        MaxRetriesReached = "max_retries_reached",
        /// Too many changes from one account or address; see `Retry-After`.
        RateLimited = "rate_limited",
        Internal = "internal",
        /// Beacon cannot do this right now (credentials cannot be checked); try again.
        Unavailable = "unavailable",
        TooManyStreams = "too_many_streams",
        RequestTimeout = "request_timeout",
        /// The browser could not reach the server (made by the page, never sent).
        Unreachable = "unreachable",
    }
}

impl ErrorCode {
    /// The HTTP status an answer with this code has.
    pub const fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidRequest | InvalidJobId | InvalidExecutionId | InvalidPath | InvalidImport | JobTooLarge | RegionMismatch | QuestionMismatch => 400,
            Unauthenticated => 401,
            Forbidden | CrossOrigin => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            JobExists | Duplicate | UserExists | QuestionChanged | QuestionInUse | NotCancellable | NotRetryable | AlreadyCompleted | InProgress
            | OwnAccount | AmbiguousPrefix => 409,
            MisdirectedRequest => 421,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            MaxRetriesReached | RateLimited => 429,
            Internal => 500,
            Unavailable | TooManyStreams | RequestTimeout | Unreachable => 503,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_has_an_error_status_and_one_spelling() {
        for code in ErrorCode::ALL {
            assert!((400..600).contains(&code.status()), "{code}");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
        }
        assert_eq!(ErrorCode::MaxRetriesReached.status(), 429);
    }
}

-- SAFETY.md §7. Failed logins are counted by name (and by address and name) at every attempt.
CREATE INDEX login_failures_name ON login_failures (user_name, at);

-- Keys every instance shares, made once by the first to start: `notice_hmac` signs the
-- notices Beacon puts in a page's address, so a link cannot make a banner say anything else.
CREATE TABLE site_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

//! Every number RESEARCH.md §4–§5 shows, computed here once and without I/O, so the API, the
//! pages and the exports cannot disagree.

pub mod refusal;
pub mod report;
pub mod similarity;
pub mod stats;

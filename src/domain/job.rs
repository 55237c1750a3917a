//! What a job may ask for, written once: the configuration's `[defaults]`, the service that
//! creates jobs and the new-job form all read these ranges, so a default can never be a value
//! a job could not ask for itself.

use std::ops::RangeInclusive;

/// The ranges a job's parameters must fall in.
pub struct JobLimits;

impl JobLimits {
    /// Executions per cell (question × model × region).
    pub const SAMPLES: RangeInclusive<i64> = 1..=20;
    pub const TEMPERATURE: RangeInclusive<f64> = 0.0..=2.0;
    pub const MAX_TOKENS: RangeInclusive<i64> = 1..=8_192;
    /// Automatic retries of infrastructure failures per attempt chain.
    pub const AUTO_RETRIES: RangeInclusive<i64> = 0..=5;

    /// `field: must be 1–20, got 30`: how a value outside its range is refused everywhere.
    pub fn out_of_range<T: std::fmt::Display>(field: &str, range: &RangeInclusive<T>, got: T) -> String {
        format!("{field}: must be {}–{}, got {got}", range.start(), range.end())
    }
}

#[cfg(test)]
mod tests {
    use super::JobLimits;

    #[test]
    fn refusals_name_the_field_and_the_range() {
        assert_eq!(JobLimits::out_of_range("samples", &JobLimits::SAMPLES, 30), "samples: must be 1–20, got 30");
        assert_eq!(JobLimits::out_of_range("temperature", &JobLimits::TEMPERATURE, 2.5), "temperature: must be 0–2, got 2.5");
    }
}

//! Proportions with honest uncertainty (RESEARCH.md §5).

/// The normal quantile for a 95 % interval.
const Z: f64 = 1.959_963_984_540_054;

/// The 95 % Wilson score interval of `successes` out of `n`, `[low, high]`; `None` when
/// `n` is 0. Unlike the normal approximation it stays within 0–1 and is not zero-width at
/// 0/n or n/n, which small studies hit all the time.
pub fn wilson(successes: u64, n: u64) -> Option<[f64; 2]> {
    if n == 0 {
        return None;
    }
    let (n, p) = (n as f64, successes as f64 / n as f64);
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some([(centre - half).max(0.0), (centre + half).min(1.0)])
}

/// `part / whole`, `None` for an empty whole.
pub fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Whether two intervals share any point.
pub fn overlap(a: [f64; 2], b: [f64; 2]) -> bool {
    a[0] <= b[1] && b[0] <= a[1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-4
    }

    #[test]
    fn wilson_matches_hand_worked_values() {
        // 5 of 10: p = 0.5, z²/n = 0.38415; centre 0.5; half = 1.96/1.38415 × √(0.025 + 0.009604)
        let [low, high] = wilson(5, 10).unwrap();
        assert!(close(low, 0.2366) && close(high, 0.7634), "{low} {high}");
        // 1 of 20 (Wilson 1927 / Newcombe 1998's table): 0.0089–0.2361.
        let [low, high] = wilson(1, 20).unwrap();
        assert!(close(low, 0.0089) && close(high, 0.2361), "{low} {high}");
    }

    #[test]
    fn wilson_at_the_edges() {
        // 0/n: the low end is 0, the high end z²/(n + z²).
        let [low, high] = wilson(0, 10).unwrap();
        assert_eq!(low, 0.0);
        assert!(close(high, 0.2775), "{high}");
        // n/n mirrors it.
        let [low, high] = wilson(10, 10).unwrap();
        assert!(close(low, 0.7225), "{low}");
        assert!(close(high, 1.0));
        assert_eq!(wilson(0, 0), None);
        let [low, high] = wilson(1, 1).unwrap();
        assert!(low > 0.0 && close(high, 1.0), "{low}");
    }

    #[test]
    fn rates_and_overlaps() {
        assert_eq!(rate(1, 4), Some(0.25));
        assert_eq!(rate(0, 0), None);
        assert!(overlap([0.1, 0.3], [0.3, 0.5]));
        assert!(!overlap([0.1, 0.2], [0.3, 0.5]));
        assert!(!overlap([0.6, 0.9], [0.1, 0.5]));
    }
}

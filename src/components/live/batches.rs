//! Rows retried together ("Retry all failed") speak as one (UI.md §3): one toast when the batch
//! is accepted, one when its last row has settled, never one per row. Pure, so the rule is
//! unit-tested without a browser.

use std::collections::HashSet;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Batches {
    open: Vec<Batch>,
}

#[derive(Debug, Clone, PartialEq)]
struct Batch {
    waiting: HashSet<i64>,
    answered: usize,
    failed: usize,
}

/// What a row's ended retry means for the batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The row was retried on its own: it gets its own toast.
    Alone,
    /// Its batch still waits for other rows.
    Waiting,
    /// It was the batch's last row: the batch's summary, and how many failed again (the
    /// toast then links to them).
    BatchDone { summary: String, failed: usize },
}

impl Batches {
    /// A batch was accepted with these executions queued.
    pub fn start(&mut self, queued: &[i64]) {
        if !queued.is_empty() {
            self.open.push(Batch { waiting: queued.iter().copied().collect(), answered: 0, failed: 0 });
        }
    }

    /// Whether an open batch waits for row `id`.
    pub fn waits_for(&self, id: i64) -> bool {
        self.open.iter().any(|b| b.waiting.contains(&id))
    }

    pub fn settle(&mut self, id: i64, answered: bool) -> Settled {
        let Some(at) = self.open.iter().position(|b| b.waiting.contains(&id)) else { return Settled::Alone };
        let batch = &mut self.open[at];
        batch.waiting.remove(&id);
        if answered {
            batch.answered += 1;
        } else {
            batch.failed += 1;
        }
        if !batch.waiting.is_empty() {
            return Settled::Waiting;
        }
        let batch = self.open.remove(at);
        Settled::BatchDone { summary: summary(batch.answered, batch.failed), failed: batch.failed }
    }
}

/// "18 retried: 12 answered, 6 failed again".
pub fn summary(answered: usize, failed: usize) -> String {
    let total = answered + failed;
    match failed {
        0 => format!("{total} retried: all answered"),
        _ if answered == 0 => format!("{total} retried: all failed again"),
        _ => format!("{total} retried: {answered} answered, {failed} failed again"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_speaks_once_when_its_last_row_settles() {
        let mut batches = Batches::default();
        batches.start(&[1, 2, 3]);
        assert_eq!(batches.settle(9, true), Settled::Alone);
        assert_eq!(batches.settle(1, true), Settled::Waiting);
        assert_eq!(batches.settle(3, false), Settled::Waiting);
        assert_eq!(batches.settle(2, true), Settled::BatchDone { summary: "3 retried: 2 answered, 1 failed again".into(), failed: 1 });
        // Closed: a later retry of one of its rows is on its own.
        assert_eq!(batches.settle(2, true), Settled::Alone);
        batches.start(&[]);
        assert_eq!(batches, Batches::default());
        batches.start(&[4]);
        assert_eq!(batches.settle(4, false), Settled::BatchDone { summary: "1 retried: all failed again".into(), failed: 1 });
        assert_eq!(summary(18, 0), "18 retried: all answered");
    }
}

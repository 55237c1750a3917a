//! One task per process reads the change log (filled by database triggers, whoever made the
//! change: this process, another instance, a script) and broadcasts each change as an event
//! carrying only the new state of what changed. Every stream subscribes here, so the
//! database is read once per change, not once per client.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::domain::{JobId, LiveEventKind};
use crate::server::db::{self, changes::Change, Db};

/// How often the log is read when nothing in this process wrote: other instances' changes
/// reach this one's clients within this plus a few milliseconds; this process's own writes
/// wake the feed at once.
const POLL: Duration = Duration::from_millis(100);
const GATHER: Duration = Duration::from_millis(10);
/// Events a subscriber may fall behind before it is told to resynchronise; this bounds the
/// memory a slow client can hold.
const BUFFER: usize = 4096;
/// Changes kept for clients that reconnect.
const KEEP_CHANGES: i64 = 200_000;
/// PostgreSQL hands out sequence numbers at insert time, so a change can become visible
/// after a later one. A missing number is waited for this long before it is given up on
/// (its transaction rolled back).
const GAP_WAIT: Duration = Duration::from_secs(2);

/// One change, ready to send: `data` is serialised once for all subscribers.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub seq: i64,
    pub job_id: JobId,
    /// `execution` (data: the execution's view) or `job` (data: the job's status and progress).
    pub kind: LiveEventKind,
    pub data: Arc<str>,
}

impl LiveEvent {
    /// Where the event stands in the stream: its change number, then executions before their
    /// job's progress. A batch's job event carries the number of the batch's last change, the
    /// same as that change's execution event: ordering by the number alone dropped every
    /// progress update but those of status changes, and the job header froze while its rows
    /// moved.
    pub fn position(&self) -> (i64, u8) {
        (self.seq, u8::from(self.kind == LiveEventKind::Job))
    }
}

pub struct LiveFeed {
    sender: broadcast::Sender<Arc<LiveEvent>>,
}

impl LiveFeed {
    pub async fn start(db: Db, shutdown: CancellationToken) -> sqlx::Result<Arc<LiveFeed>> {
        let (sender, _) = broadcast::channel(BUFFER);
        let feed = Arc::new(LiveFeed { sender: sender.clone() });
        let mut cursor = Cursor { seq: db::changes::latest_seq(&db).await?, gap_since: None };
        tokio::spawn(async move {
            let mut since_prune = Duration::ZERO;
            loop {
                if let Err(err) = poll_once(&db, &mut cursor, &sender).await {
                    tracing::warn!(%err, "could not read the change log; will try again");
                }
                since_prune += POLL;
                if since_prune > Duration::from_secs(60) {
                    since_prune = Duration::ZERO;
                    if let Err(err) = db::changes::prune(&db, KEEP_CHANGES).await {
                        tracing::warn!(%err, "could not prune the change log");
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(POLL) => {}
                    // A short pause after a wake gathers a burst of commits into one read.
                    _ = db.committed.notified() => tokio::time::sleep(GATHER).await,
                    _ = shutdown.cancelled() => return,
                }
            }
        });
        Ok(feed)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.sender.subscribe()
    }
}

/// How far the feed has read.
#[derive(Debug)]
struct Cursor {
    seq: i64,
    /// Since when the next number has been missing while later ones are visible.
    gap_since: Option<Instant>,
}

impl Cursor {
    /// How many of `seqs` (the numbers read after the cursor, in order) can be sent now:
    /// the unbroken run after the cursor, or, once a gap has been waited on for `GAP_WAIT`,
    /// everything (the missing number's transaction rolled back).
    fn ready(&mut self, seqs: &[i64], now: Instant) -> usize {
        let contiguous = seqs.iter().zip(self.seq + 1..).take_while(|(seq, want)| **seq == *want).count();
        if contiguous == seqs.len() {
            self.gap_since = None;
            return contiguous;
        }
        let since = *self.gap_since.get_or_insert(now);
        if now.duration_since(since) >= GAP_WAIT {
            self.gap_since = None;
            seqs.len()
        } else {
            contiguous
        }
    }
}

async fn poll_once(db: &Db, cursor: &mut Cursor, sender: &broadcast::Sender<Arc<LiveEvent>>) -> sqlx::Result<()> {
    let changes = db::changes::after(db, cursor.seq, 2000).await?;
    let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();
    let take = cursor.ready(&seqs, Instant::now());
    let changes = &changes[..take];
    let Some(last) = changes.last().map(|c| c.seq) else { return Ok(()) };
    for event in events_for(db, changes).await? {
        // No subscriber is not an error.
        let _ = sender.send(Arc::new(event));
    }
    cursor.seq = last;
    Ok(())
}

/// The events that bring a client up to date with `changes`: the current state of each
/// changed execution (once, at its latest change), then each changed job's status and
/// progress. Sorted by sequence number.
pub async fn events_for(db: &Db, changes: &[Change]) -> sqlx::Result<Vec<LiveEvent>> {
    let mut executions: BTreeMap<i64, i64> = BTreeMap::new();
    let mut jobs: BTreeMap<&JobId, i64> = BTreeMap::new();
    for change in changes {
        jobs.insert(&change.job_id, change.seq);
        if let Some(id) = change.execution_id {
            executions.insert(id, change.seq);
        }
    }
    // Two queries for the whole batch: the executions, and the jobs with their counters.
    let mut events = Vec::with_capacity(executions.len() + jobs.len());
    let ids: Vec<i64> = executions.keys().copied().collect();
    for row in db::executions::get_many(db, &ids).await? {
        let seq = executions[&row.id];
        let job_id = row.job_id.clone();
        events.push(LiveEvent { seq, job_id, kind: LiveEventKind::Execution, data: to_json(&row) });
    }
    let job_ids: Vec<&JobId> = jobs.keys().copied().collect();
    for job in db::jobs::get_many(db, &job_ids).await? {
        let seq = jobs[&job.id];
        let job_id = job.id.clone();
        let summary = job.into_view().summary();
        events.push(LiveEvent { seq, job_id, kind: LiveEventKind::Job, data: to_json(&summary) });
    }
    // A job's event shares its sequence number with its last execution event: send it after.
    events.sort_by_key(LiveEvent::position);
    Ok(events)
}

fn to_json(value: &impl serde::Serialize) -> Arc<str> {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(seq: i64) -> Cursor {
        Cursor { seq, gap_since: None }
    }

    #[test]
    fn an_unbroken_run_is_sent_at_once() {
        let mut c = cursor(10);
        assert_eq!(c.ready(&[11, 12, 13], Instant::now()), 3);
        assert_eq!(c.ready(&[], Instant::now()), 0);
        assert!(c.gap_since.is_none());
    }

    #[test]
    fn a_gap_holds_back_what_follows_it_until_it_is_given_up_on() {
        let start = Instant::now();
        let mut c = cursor(10);
        // 12 is not visible yet: only 11 goes.
        assert_eq!(c.ready(&[11, 13, 14], start), 1);
        assert_eq!(c.gap_since, Some(start));
        // Still waiting a little later; the wait started at the first sight of the gap.
        assert_eq!(c.ready(&[11, 13, 14], start + GAP_WAIT / 2), 1);
        assert_eq!(c.gap_since, Some(start));
        // After GAP_WAIT the missing number is taken as rolled back.
        assert_eq!(c.ready(&[11, 13, 14], start + GAP_WAIT), 3);
        assert!(c.gap_since.is_none());
    }

    #[test]
    fn a_gap_that_fills_in_clears_the_wait() {
        let start = Instant::now();
        let mut c = cursor(0);
        assert_eq!(c.ready(&[2], start), 0);
        assert_eq!(c.ready(&[1, 2], start + Duration::from_millis(5)), 2);
        assert!(c.gap_since.is_none());
    }
}

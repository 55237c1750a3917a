//! One task per process reads the change log (filled by database triggers, whoever made the
//! change: this process, another instance, a script) and broadcasts each change as an event
//! carrying only the new state of what changed. Every stream subscribes here, so the
//! database is read once per change, not once per client.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

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
    pub job_id: String,
    /// `execution` (data: the execution's view) or `job` (data: the job's status and progress).
    pub kind: &'static str,
    pub data: Arc<str>,
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
struct Cursor {
    seq: i64,
    /// Since when the next number has been missing while later ones are visible.
    gap_since: Option<std::time::Instant>,
}

async fn poll_once(db: &Db, cursor: &mut Cursor, sender: &broadcast::Sender<Arc<LiveEvent>>) -> sqlx::Result<()> {
    let changes = db::changes::after(db, cursor.seq, 2000).await?;
    // Only the unbroken run after the cursor is certain to be complete.
    let contiguous = changes.iter().zip(cursor.seq + 1..).take_while(|(c, want)| c.seq == *want).count();
    let take = if contiguous == changes.len() {
        cursor.gap_since = None;
        contiguous
    } else {
        let since = *cursor.gap_since.get_or_insert_with(std::time::Instant::now);
        if since.elapsed() >= GAP_WAIT {
            cursor.gap_since = None;
            changes.len()
        } else {
            contiguous
        }
    };
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
    let mut jobs: BTreeMap<&str, i64> = BTreeMap::new();
    for change in changes {
        jobs.insert(&change.job_id, change.seq);
        if let Some(id) = change.execution_id {
            executions.insert(id, change.seq);
        }
    }
    let mut events = Vec::with_capacity(executions.len() + jobs.len());
    for (id, seq) in executions {
        if let Some(row) = db::executions::get(db, id).await? {
            let job_id = row.job_id.clone();
            events.push(LiveEvent { seq, job_id, kind: "execution", data: to_json(&row.into_view()) });
        }
    }
    for (job_id, seq) in jobs {
        if let Some(job) = db::jobs::get(db, job_id).await? {
            let progress = db::jobs::progress(db, job_id).await?;
            let summary = job.into_view(progress).summary();
            events.push(LiveEvent { seq, job_id: job_id.to_string(), kind: "job", data: to_json(&summary) });
        }
    }
    // A job's event shares its sequence number with its last execution event: send it after.
    events.sort_by_key(|e| (e.seq, e.kind == "job"));
    Ok(events)
}

fn to_json(value: &impl serde::Serialize) -> Arc<str> {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into()).into()
}

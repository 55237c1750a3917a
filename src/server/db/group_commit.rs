//! Writes that arrive together are committed together (retry acceptances, the runner's
//! outcomes): whatever has queued up while a group waited for the writer goes into its one
//! transaction, so N concurrent writes cost one commit, and the busier the writer, the larger
//! (and fewer) the groups. If a group's transaction fails as a whole (on PostgreSQL, a deadlock
//! with another instance), each of its writes is tried alone, as if it had come alone.
//!
//! What a group writes is the [`GroupWrite`]'s; the queueing, the grouping and the fallback
//! are written once, here.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{Db, WriteTx};

/// Writes waiting at most; a sender beyond that waits for room.
const QUEUE: usize = 4096;

/// One kind of write done in groups.
pub trait GroupWrite: Send + Sync + 'static {
    type Item: Send + 'static;
    type Answer: Send + 'static;
    type Error: std::fmt::Display + Send;
    /// Writes one transaction takes at most.
    const MAX_GROUP: usize = 128;

    /// The order a group's rows are written in (one order everywhere keeps concurrent groups
    /// from locking rows in opposite orders).
    fn order_key(&self, _item: &Self::Item) -> i64 {
        0
    }

    /// Writes `group` in the writer's transaction `tx` and commits it: one answer per item, in
    /// order. `Err` fails the whole group.
    fn write<'a>(
        &'a self,
        db: &'a Db,
        tx: sqlx::Result<WriteTx>,
        group: &'a [Self::Item],
    ) -> impl Future<Output = Result<Vec<Self::Answer>, Self::Error>> + Send + 'a;

    /// The answer for an item whose write failed even alone.
    fn failed(&self, error: Self::Error) -> Self::Answer;

    /// Called with each written group and its answers, before they are sent back.
    fn committed(&self, _group: &[Self::Item], _answers: &[Option<Self::Answer>]) {}
}

type Queued<W> = (<W as GroupWrite>::Item, oneshot::Sender<<W as GroupWrite>::Answer>);

/// Where writes are sent; [`GroupQueue::run`] writes them.
pub struct GroupCommitter<W: GroupWrite> {
    queue: mpsc::Sender<Queued<W>>,
}

/// The receiving end, run as a task once the runtime is there.
pub struct GroupQueue<W: GroupWrite> {
    queue: mpsc::Receiver<Queued<W>>,
}

impl<W: GroupWrite> GroupCommitter<W> {
    pub fn new() -> (GroupCommitter<W>, GroupQueue<W>) {
        let (sender, receiver) = mpsc::channel(QUEUE);
        (GroupCommitter { queue: sender }, GroupQueue { queue: receiver })
    }

    /// Queues `item` and waits until its group is committed. None when the queue has stopped.
    pub async fn submit(&self, item: W::Item) -> Option<W::Answer> {
        let (answer, answered) = oneshot::channel();
        self.queue.send((item, answer)).await.ok()?;
        answered.await.ok()
    }
}

impl<W: GroupWrite> GroupQueue<W> {
    /// Writes groups until `stop` (or until every committer is gone).
    pub async fn run(mut self, db: Db, writer: W, stop: CancellationToken) {
        loop {
            let first = tokio::select! {
                queued = self.queue.recv() => match queued {
                    Some(queued) => queued,
                    None => return,
                },
                _ = stop.cancelled() => return,
            };
            // The writer's turn first, then the group: what arrives while it waits joins.
            let turn = db.write_tx().await;
            let mut queued = vec![first];
            while queued.len() < W::MAX_GROUP {
                match self.queue.try_recv() {
                    Ok(more) => queued.push(more),
                    Err(_) => break,
                }
            }
            // One order for every group (each item keeps its sender).
            queued.sort_by_key(|(item, _)| writer.order_key(item));
            let (group, senders): (Vec<W::Item>, Vec<_>) = queued.into_iter().unzip();
            let answers: Vec<Option<W::Answer>> = match writer.write(&db, turn, &group).await {
                Ok(answers) => answers.into_iter().map(Some).collect(),
                Err(error) => {
                    tracing::warn!(%error, writes = group.len(), "a group write failed; writing each alone");
                    let mut answers = Vec::with_capacity(group.len());
                    for item in &group {
                        let alone = writer.write(&db, db.write_tx().await, std::slice::from_ref(item)).await;
                        answers.push(match alone {
                            Ok(mut one) => one.pop(),
                            Err(error) => Some(writer.failed(error)),
                        });
                    }
                    answers
                }
            };
            writer.committed(&group, &answers);
            // An item without an answer drops its sender: its caller hears "stopped".
            for (sender, answer) in senders.into_iter().zip(answers) {
                if let Some(answer) = answer {
                    let _ = sender.send(answer);
                }
            }
        }
    }
}

//! Group commit (组提交), shared by both stores' report intake.
//!
//! A report is acknowledged (`201`) only after its transaction is durable: SQLite's writer runs
//! with `synchronous = FULL`, PostgreSQL commits case writes synchronously. One flush per report
//! would cap intake at the disk's flush rate, so concurrent writers queue their jobs here and one
//! of them — the leader — writes everything queued so far in one transaction: one commit, one
//! flush for the whole group, while the next group queues up behind it. A caller's answer is
//! sent only after the group's commit returned.
//!
//! The group's write runs in a spawned task, so a caller that gives up (a dropped request) never
//! leaves the others of its group without an answer.
use std::future::Future;
use std::sync::Mutex;

use chrono::NaiveDate;
use cityops_store::{Case, NewCaseEvent, NewNotification, ReportStep, Result, StoreError};
use tokio::sync::oneshot;

/// One queued case write, as both stores group them.
pub enum CaseWrite {
    /// 上报: a new case with its first event; `day` numbers its code. `steps` are the
    /// transitions the machine took before it was stored (their events follow the report's);
    /// `case` is the state after the last of them.
    Report {
        case: Case,
        day: NaiveDate,
        event: NewCaseEvent,
        notify: Vec<NewNotification>,
        steps: Vec<ReportStep>,
    },
    /// A transition of a stored case (optimistic on its version).
    Step {
        case: Case,
        event: NewCaseEvent,
        notify: Vec<NewNotification>,
        follow: Option<(i64, i64)>,
    },
}

/// The queue of jobs waiting for a group, and the leader lock.
pub struct GroupCommit<J, R> {
    queue: Mutex<Vec<Queued<J, R>>>,
    leader: tokio::sync::Mutex<()>,
    max_group: usize,
}

impl<J, R> std::fmt::Debug for GroupCommit<J, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("max_group", &self.max_group)
            .finish_non_exhaustive()
    }
}

/// A job and where its answer goes.
struct Queued<J, R> {
    job: J,
    reply: oneshot::Sender<Result<R>>,
}

impl CaseWrite {
    /// How many events the write appends to the audit chain.
    pub fn events(&self) -> usize {
        match self {
            CaseWrite::Report { steps, .. } => 1 + steps.len(),
            CaseWrite::Step { .. } => 1,
        }
    }
}

/// A copy of an error for every member of a failed group.
pub fn copy_err(e: &StoreError) -> StoreError {
    match e {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Invalid(m) => StoreError::Invalid(m.clone()),
        StoreError::Database(m) => StoreError::Database(m.clone()),
    }
}

impl<J, R> GroupCommit<J, R>
where
    J: Send + 'static,
    R: Send + 'static,
{
    /// A queue whose groups hold at most `max_group` jobs.
    pub fn new(max_group: usize) -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            leader: tokio::sync::Mutex::new(()),
            max_group: max_group.max(1),
        }
    }

    /// Queues `job` and waits until the group that writes it has committed. `write` gets the
    /// group's jobs in queue order and answers one result per job, in the same order (or one
    /// error for the whole group, which every member then gets).
    pub async fn submit<F, Fut>(&self, job: J, write: F) -> Result<R>
    where
        F: Fn(Vec<J>) -> Fut,
        Fut: Future<Output = Result<Vec<Result<R>>>> + Send + 'static,
    {
        let (reply, mut answer) = oneshot::channel();
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Queued { job, reply });
        loop {
            // Whoever is answered leaves at once: a member of the group just written must not
            // take the leader lock in turn only to find its answer (a queue of hand-offs
            // between two groups while the writer idles).
            let _leader = tokio::select! {
                biased;
                result = &mut answer => {
                    return result.unwrap_or_else(|_| {
                        Err(StoreError::Database("the write group was lost".into()))
                    });
                }
                guard = self.leader.lock() => guard,
            };
            // An earlier leader may have written this job already.
            match answer.try_recv() {
                Ok(result) => return result,
                Err(oneshot::error::TryRecvError::Closed) => {
                    return Err(StoreError::Database("the write group was lost".into()));
                }
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let group: Vec<Queued<J, R>> = {
                let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                let n = q.len().min(self.max_group);
                q.drain(..n).collect()
            };
            if group.is_empty() {
                continue;
            }
            let (jobs, replies): (Vec<J>, Vec<_>) =
                group.into_iter().map(|q| (q.job, q.reply)).unzip();
            let fut = write(jobs);
            // Spawned: the group is answered even if this caller is dropped meanwhile.
            let done = tokio::spawn(async move {
                match fut.await {
                    Ok(results) if results.len() == replies.len() => {
                        for (reply, r) in replies.into_iter().zip(results) {
                            let _ = reply.send(r);
                        }
                    }
                    Ok(results) => {
                        let e = StoreError::Database(format!(
                            "a group of {} writes answered {} results",
                            replies.len(),
                            results.len()
                        ));
                        for reply in replies {
                            let _ = reply.send(Err(copy_err(&e)));
                        }
                    }
                    Err(e) => {
                        for reply in replies {
                            let _ = reply.send(Err(copy_err(&e)));
                        }
                    }
                }
            })
            .await;
            if let Err(e) = done {
                return Err(StoreError::Database(format!(
                    "write group task failed: {e}"
                )));
            }
            // Our job was in this group or in one still queued (a full group); loop.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_job_is_answered_once_in_groups_no_larger_than_the_limit() {
        let q: Arc<GroupCommit<u32, u32>> = Arc::new(GroupCommit::new(8));
        let groups = Arc::new(AtomicUsize::new(0));
        let largest = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..200u32 {
            let (q, groups, largest) = (q.clone(), groups.clone(), largest.clone());
            tasks.push(tokio::spawn(async move {
                q.submit(i, move |jobs: Vec<u32>| {
                    let (groups, largest) = (groups.clone(), largest.clone());
                    async move {
                        groups.fetch_add(1, Ordering::SeqCst);
                        largest.fetch_max(jobs.len(), Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        Ok(jobs
                            .into_iter()
                            .map(|j| {
                                if j % 50 == 7 {
                                    Err(StoreError::NotFound)
                                } else {
                                    Ok(j * 2)
                                }
                            })
                            .collect())
                    }
                })
                .await
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            let r = t.await.unwrap();
            if i % 50 == 7 {
                assert!(matches!(r, Err(StoreError::NotFound)));
            } else {
                assert_eq!(r.unwrap(), i as u32 * 2);
            }
        }
        assert!(largest.load(Ordering::SeqCst) <= 8);
        assert!(groups.load(Ordering::SeqCst) >= 25);
    }

    #[tokio::test]
    async fn a_failed_group_fails_each_member_with_the_same_error() {
        let q: GroupCommit<u32, u32> = GroupCommit::new(4);
        let r = q
            .submit(1, |_jobs: Vec<u32>| async {
                Err(StoreError::Conflict("disk full".into()))
            })
            .await;
        assert!(matches!(r, Err(StoreError::Conflict(m)) if m == "disk full"));
    }
}

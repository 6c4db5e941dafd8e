//! Report intake with group commit: concurrent `create_case` calls queue their cases, and one of
//! them (the leader) writes everything queued so far in one write transaction — one commit, one
//! set of page writes for the whole group — while the next group queues up. Each case still gets
//! its own savepoint, so one failing report does not fail the others.
//!
//! The batch itself runs in a spawned task, so a caller that gives up (a dropped request) never
//! leaves the others of its group without an answer.
use std::sync::Mutex;

use chrono::NaiveDate;
use cityops_store::{Case, NewCaseEvent, NewNotification, Result, StoreError};
use sqlx::SqliteConnection;
use tokio::sync::oneshot;

use crate::case_write::{
    BEGIN_WRITE, follow, head_and_last_id, insert_case, insert_event, insert_notifications,
    link_attachments, next_code_number,
};
use crate::{SqliteStore, db_err};

/// The most reports one transaction takes.
const MAX_GROUP: usize = 256;

/// One queued report.
pub(crate) struct Job {
    case: Case,
    day: NaiveDate,
    event: NewCaseEvent,
    notify: Vec<NewNotification>,
    reply: oneshot::Sender<Result<Case>>,
}

/// The intake queue and the leader lock.
#[derive(Default)]
pub(crate) struct Intake {
    queue: Mutex<Vec<Job>>,
    leader: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake").finish_non_exhaustive()
    }
}

/// A copy of an error for every member of a failed group.
fn copy_err(e: &StoreError) -> StoreError {
    match e {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Invalid(m) => StoreError::Invalid(m.clone()),
        StoreError::Database(m) => StoreError::Database(m.clone()),
    }
}

impl SqliteStore {
    /// Queues a report and waits for the group that writes it.
    pub(crate) async fn intake(
        &self,
        case: &Case,
        day: NaiveDate,
        event: &NewCaseEvent,
        notify: &[NewNotification],
    ) -> Result<Case> {
        let (reply, mut answer) = oneshot::channel();
        self.intake
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Job {
                case: case.clone(),
                day,
                event: event.clone(),
                notify: notify.to_vec(),
                reply,
            });
        loop {
            let _leader = self.intake.leader.lock().await;
            // An earlier leader may have written this report already.
            match answer.try_recv() {
                Ok(result) => return result,
                Err(oneshot::error::TryRecvError::Closed) => {
                    return Err(StoreError::Database("the intake group was lost".into()));
                }
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let group: Vec<Job> = {
                let mut q = self.intake.queue.lock().unwrap_or_else(|e| e.into_inner());
                let n = q.len().min(MAX_GROUP);
                q.drain(..n).collect()
            };
            if !group.is_empty() {
                let store = self.clone();
                // Spawned: the group is answered even if this caller is dropped meanwhile.
                let done = tokio::spawn(async move { store.write_group(group).await }).await;
                if let Err(e) = done {
                    return Err(StoreError::Database(format!("intake task failed: {e}")));
                }
            }
            // Our report was in this group or in one still queued (a full group); loop.
        }
    }

    /// Writes a group and answers every member.
    async fn write_group(&self, group: Vec<Job>) {
        let (jobs, replies): (Vec<_>, Vec<_>) = group
            .into_iter()
            .map(|j| ((j.case, j.day, j.event, j.notify), j.reply))
            .unzip();
        match self.try_write_group(&jobs).await {
            Ok(results) => {
                for (reply, r) in replies.into_iter().zip(results) {
                    let _ = reply.send(r);
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(copy_err(&e)));
                }
            }
        }
    }

    async fn try_write_group(
        &self,
        jobs: &[(Case, NaiveDate, NewCaseEvent, Vec<NewNotification>)],
    ) -> Result<Vec<Result<Case>>> {
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let conn: &mut SqliteConnection = &mut tx;
        let (mut seq, mut prev, mut last_id) = head_and_last_id(conn).await?;
        let single = jobs.len() == 1;
        let mut out = Vec::with_capacity(jobs.len());
        for (case, day, event, notify) in jobs {
            if !single {
                sqlx::query("SAVEPOINT intake")
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            }
            match write_one(conn, case, *day, event, notify, seq + 1, &prev, last_id + 1).await {
                Ok((stored, hash)) => {
                    if !single {
                        sqlx::query("RELEASE intake")
                            .execute(&mut *conn)
                            .await
                            .map_err(db_err)?;
                    }
                    seq += 1;
                    prev = hash;
                    last_id = stored.id;
                    out.push(Ok(stored));
                }
                Err(e) if single => return Ok(vec![Err(e)]), // dropping tx rolls back
                Err(e) => {
                    sqlx::query("ROLLBACK TO intake")
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    sqlx::query("RELEASE intake")
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    out.push(Err(e));
                }
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }
}

/// Stores one report as case `id` with event `seq` after `prev`; returns the case and the
/// event's hash.
#[allow(clippy::too_many_arguments)]
async fn write_one(
    conn: &mut SqliteConnection,
    case: &Case,
    day: NaiveDate,
    event: &NewCaseEvent,
    notify: &[NewNotification],
    seq: i64,
    prev: &str,
    id: i64,
) -> Result<(Case, String)> {
    let number = next_code_number(conn, &day.format("%Y-%m-%d").to_string()).await?;
    let code = cityops_store_sql::cases::case_code(day, number)?;
    let mut stored = case.clone();
    stored.id = id;
    stored.code = code;
    stored.version = 1;
    insert_case(conn, &stored).await?;
    let mut ev = event.clone();
    ev.case_id = id;
    let hash = insert_event(conn, &ev, seq, prev.to_string()).await?;
    // The event and notifications get the new id.
    let notify: Vec<NewNotification> = notify
        .iter()
        .map(|n| NewNotification {
            case_id: id,
            ..n.clone()
        })
        .collect();
    insert_notifications(conn, &notify, id).await?;
    if let Some(reporter) = stored.reporter_id {
        follow(conn, id, reporter).await?;
    }
    link_attachments(conn, id, &ev.attachments).await?;
    Ok((stored, hash))
}

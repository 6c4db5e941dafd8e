//! Case writes with group commit ([`cityops_store_sql::group`]): concurrent reports
//! (`create_case`) and transitions (`save_transition`) queue up, and one of them (the leader)
//! writes everything queued so far in one write transaction — one commit, one WAL flush
//! (`synchronous = FULL`) for the whole group — while the next group queues up.
//!
//! A group is first written in bulk: the reports' cases, every event, notification and follower of
//! the group each in one statement (`jsonb_each`), the transitions one `UPDATE` each. If any member
//! fails (a stale transition, a day's numbers run out, a photo another case holds), that
//! transaction is rolled back and the group is written again with a savepoint per member, so only
//! the ones at fault fail.
use std::collections::BTreeMap;

use chrono::NaiveDate;
use cityops_store::{Case, NewCaseEvent, NewNotification, ReportStep, Result, StoreError};
use cityops_store_sql::group::GroupCommit;
use sqlx::SqliteConnection;

use crate::case_write::{
    BEGIN_WRITE, bulk_cases, bulk_events, bulk_followers, bulk_notifications, follow,
    head_and_last_id, insert_case, insert_event, insert_notifications, link_attachments,
    next_code_number, update_case,
};
use crate::{SqliteStore, db_err};

/// Reserves `?2` numbers of the day `?1` (`YYYY-MM-DD`); answers the last of them.
const RESERVE_CODES: &str = "INSERT INTO case_code_seq (day, last) VALUES (?1, ?2) \
     ON CONFLICT (day) DO UPDATE SET last = last + excluded.last RETURNING last";

/// The most writes one transaction takes.
const MAX_GROUP: usize = 256;

/// One queued write.
pub(crate) use cityops_store_sql::group::CaseWrite as Job;

/// The write queue.
pub(crate) type Queue = GroupCommit<Job, Case>;

/// An empty write queue.
pub(crate) fn new_queue() -> Queue {
    GroupCommit::new(MAX_GROUP)
}

impl SqliteStore {
    /// Queues a write and waits until the group that writes it has committed.
    pub(crate) async fn write_queued(&self, job: Job) -> Result<Case> {
        self.queue
            .submit(job, |jobs| {
                let store = self.clone();
                async move {
                    store.restart_wal_if_wanted().await;
                    if jobs.len() > 1 {
                        match store.write_bulk(&jobs).await {
                            Ok(cases) => return Ok(cases.into_iter().map(Ok).collect()),
                            Err(e) => tracing::debug!(error = %e, n = jobs.len(), "bulk write failed; writing the group member by member"),
                        }
                    }
                    store.write_group(&jobs).await
                }
            })
            .await
    }

    /// The bulk write of a group; any failure rolls it all back (the caller then writes the
    /// group member by member).
    async fn write_bulk(&self, jobs: &[Job]) -> Result<Vec<Case>> {
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let conn: &mut SqliteConnection = &mut tx;
        let (seq, prev, mut last_id) = head_and_last_id(conn).await?;
        // Reserve each day's code numbers for the group's reports: one statement per day.
        let mut per_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        for job in jobs {
            if let Job::Report { day, .. } = job {
                *per_day.entry(*day).or_default() += 1;
            }
        }
        let mut next_number = BTreeMap::new();
        for (day, n) in per_day {
            let last: i64 = sqlx::query_scalar(RESERVE_CODES)
                .bind(day.format("%Y-%m-%d").to_string())
                .bind(n)
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err)?;
            next_number.insert(day, last - n + 1);
        }
        let mut stored = Vec::with_capacity(jobs.len());
        let mut new_cases = Vec::new();
        let mut events = Vec::with_capacity(jobs.len());
        let mut notes = Vec::new();
        let mut followers = Vec::new();
        let mut photos = Vec::new();
        for job in jobs {
            match job {
                Job::Report {
                    case,
                    day,
                    event,
                    notify,
                    steps,
                } => {
                    let number = next_number.get_mut(day).ok_or_else(|| {
                        StoreError::Database(format!("no code number was reserved for {day}"))
                    })?;
                    last_id += 1;
                    let mut c = case.clone();
                    c.id = last_id;
                    c.code = cityops_store_sql::cases::case_code(*day, *number)?;
                    c.version = 1 + steps.len() as i64;
                    *number += 1;
                    if let Some(reporter) = c.reporter_id {
                        followers.push((reporter, c.id));
                    }
                    let written = std::iter::once((event, notify.as_slice()))
                        .chain(steps.iter().map(|s| (&s.event, s.notify.as_slice())));
                    for (event, notify) in written {
                        let mut ev = event.clone();
                        ev.case_id = c.id;
                        notes.extend(notify.iter().map(|n| NewNotification {
                            case_id: c.id,
                            ..n.clone()
                        }));
                        if !ev.attachments.is_empty() {
                            photos.push((c.id, ev.attachments.clone()));
                        }
                        events.push(ev);
                    }
                    new_cases.push(c.clone());
                    stored.push(c);
                }
                Job::Step {
                    case,
                    event,
                    notify,
                    follow,
                } => {
                    let c = update_case(conn, case).await?;
                    let mut ev = event.clone();
                    ev.case_id = case.id;
                    notes.extend(notify.iter().map(|n| NewNotification {
                        case_id: if n.case_id == 0 { case.id } else { n.case_id },
                        ..n.clone()
                    }));
                    if let Some((user, followed)) = follow {
                        followers.push((*user, *followed));
                    }
                    if !ev.attachments.is_empty() {
                        photos.push((case.id, ev.attachments.clone()));
                    }
                    events.push(ev);
                    stored.push(c);
                }
            }
        }
        bulk_cases(conn, &new_cases).await?;
        bulk_events(conn, &events, seq, prev).await?;
        bulk_notifications(conn, &notes).await?;
        bulk_followers(conn, &followers).await?;
        for (case_id, ids) in &photos {
            link_attachments(conn, *case_id, ids).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(stored)
    }

    /// Writes a group member by member, each in its own savepoint.
    async fn write_group(&self, jobs: &[Job]) -> Result<Vec<Result<Case>>> {
        let mut tx = self.write.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let conn: &mut SqliteConnection = &mut tx;
        let (mut seq, mut prev, mut last_id) = head_and_last_id(conn).await?;
        let single = jobs.len() == 1;
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            if !single {
                sqlx::query("SAVEPOINT w")
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            }
            let written = match job {
                Job::Report {
                    case,
                    day,
                    event,
                    notify,
                    steps,
                } => {
                    write_report(
                        conn,
                        case,
                        *day,
                        (event, notify),
                        steps,
                        seq + 1,
                        &prev,
                        last_id + 1,
                    )
                    .await
                }
                Job::Step {
                    case,
                    event,
                    notify,
                    follow,
                } => write_step(conn, case, event, notify, *follow, seq + 1, &prev).await,
            };
            match written {
                Ok((stored, hash)) => {
                    if !single {
                        sqlx::query("RELEASE w")
                            .execute(&mut *conn)
                            .await
                            .map_err(db_err)?;
                    }
                    seq += job.events() as i64;
                    prev = hash;
                    if matches!(job, Job::Report { .. }) {
                        last_id = stored.id;
                    }
                    out.push(Ok(stored));
                }
                Err(e) if single => return Ok(vec![Err(e)]), // dropping tx rolls back
                Err(e) => {
                    sqlx::query("ROLLBACK TO w")
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    sqlx::query("RELEASE w")
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

/// Stores a transition: the case at its next version (`Conflict` when it moved meanwhile), its
/// event `seq` after `prev`, notifications, a follower and photo links; returns the stored case
/// and the event's hash.
#[allow(clippy::too_many_arguments)]
async fn write_step(
    conn: &mut SqliteConnection,
    case: &Case,
    event: &NewCaseEvent,
    notify: &[NewNotification],
    follow_case: Option<(i64, i64)>,
    seq: i64,
    prev: &str,
) -> Result<(Case, String)> {
    let stored = update_case(conn, case).await?;
    let mut ev = event.clone();
    ev.case_id = case.id;
    let hash = insert_event(conn, &ev, seq, prev.to_string()).await?;
    insert_notifications(conn, notify, case.id).await?;
    if let Some((user, followed)) = follow_case {
        follow(conn, followed, user).await?;
    }
    link_attachments(conn, case.id, &ev.attachments).await?;
    Ok((stored, hash))
}

/// Stores one report as case `id` with its event at `seq` after `prev` and the events of its
/// `steps` after it; returns the case and the last event's hash.
#[allow(clippy::too_many_arguments)]
async fn write_report(
    conn: &mut SqliteConnection,
    case: &Case,
    day: NaiveDate,
    (event, notify): (&NewCaseEvent, &[NewNotification]),
    steps: &[ReportStep],
    seq: i64,
    prev: &str,
    id: i64,
) -> Result<(Case, String)> {
    let number = next_code_number(conn, &day.format("%Y-%m-%d").to_string()).await?;
    let code = cityops_store_sql::cases::case_code(day, number)?;
    let mut stored = case.clone();
    stored.id = id;
    stored.code = code;
    stored.version = 1 + steps.len() as i64;
    insert_case(conn, &stored).await?;
    if let Some(reporter) = stored.reporter_id {
        follow(conn, id, reporter).await?;
    }
    let written = std::iter::once((event, notify))
        .chain(steps.iter().map(|s| (&s.event, s.notify.as_slice())));
    let mut hash = prev.to_string();
    for (n, (event, notify)) in written.enumerate() {
        // The events and notifications get the new id.
        let mut ev = event.clone();
        ev.case_id = id;
        hash = insert_event(conn, &ev, seq + n as i64, hash).await?;
        let notify: Vec<NewNotification> = notify
            .iter()
            .map(|n| NewNotification {
                case_id: id,
                ..n.clone()
            })
            .collect();
        insert_notifications(conn, &notify, id).await?;
        link_attachments(conn, id, &ev.attachments).await?;
    }
    Ok((stored, hash))
}

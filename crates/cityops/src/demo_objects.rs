//! The demo city's management objects (一码管全域) beyond `shop1`'s: the few thousand objects of
//! `cityops_seed::objects` imported through the object service, and three weeks of inspection
//! history so that the object pages, the discrepancies and the 小事不出责任区 statistics are not
//! empty — inspections by each object's grid inspector (some passing, some finding failing items
//! with photos, a few scanned far from the object), re-inspections that close records at
//! different stages of the 三教而罚 ladder, and records left unrectified that reach the
//! enforcement case. The history is driven through an `ObjectService` of its own on a
//! `ManualClock` that walks from three weeks ago to now, running the ladder every two hours of
//! simulated time, so every notice, deadline and enforcement case is what production would have
//! produced. Done once: when the database already holds more objects than `shop1`'s.
use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use cityops_app::CaseService;
use cityops_app::objects::{CheckInput, CheckItemInput, ObjectInput, ObjectService};
use cityops_domain::objects::Evidence;
use cityops_domain::{Clock, ManualClock, PageRequest, Role, User, page::MAX_PAGE_SIZE};
use cityops_seed::DemoCity;
use cityops_store::{ObjectFilter, ObjectScope, StoredObject};
use cityops_web::AppState;

/// Objects of the history: inspected once or twice in the three weeks.
const HISTORY_OBJECTS: usize = 40;
/// Days of history.
const HISTORY_DAYS: i64 = 21;
/// Objects per import transaction.
const IMPORT_CHUNK: usize = 1000;

/// One inspection of the history.
struct Planned {
    at: DateTime<Utc>,
    object: usize,
    /// Item codes found failing (the others of the first six pass).
    failing: Vec<String>,
    /// Scanned this many metres north of the object.
    off_m: f64,
}

/// Imports the demo objects of `city` and their history, once.
pub async fn ensure_demo_object_city(state: &AppState, city: DemoCity) -> anyhow::Result<()> {
    let store = &state.store;
    let one = PageRequest {
        page: 1,
        page_size: 1,
    };
    let held = store
        .list_objects(&ObjectFilter::default(), &ObjectScope::everything(), one)
        .await?
        .total;
    if held > 20 {
        return Ok(());
    }
    let admin = store
        .credentials("admin")
        .await?
        .context("the demo's admin account")?
        .user;
    let tz = state.app.calendar().config().tz;
    let now = state.clock.now();
    // Three weeks ago at 09:00 local time.
    let start_day = (now - Duration::days(HISTORY_DAYS))
        .with_timezone(&tz)
        .date_naive();
    let start = tz
        .from_local_datetime(
            &start_day.and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default()),
        )
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now - Duration::days(HISTORY_DAYS));
    let clock = Arc::new(ManualClock::new(start));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let cases = Arc::new(
        CaseService::load(
            store.clone(),
            state.index.clone(),
            dyn_clock,
            state.config.service(),
        )
        .await?,
    );
    let svc = ObjectService::with_demo_checklists(cases.clone(), state.config.objects.clone())
        .map_err(|e| anyhow::anyhow!("the demo checklists: {e}"))?;

    // The objects, created three weeks ago, a transaction per thousand.
    let drafts = cityops_seed::objects::demo_objects(city);
    let total = drafts.len();
    let mut objects: Vec<StoredObject> = Vec::with_capacity(total);
    let mut inputs: Vec<(String, ObjectInput)> = drafts
        .into_iter()
        .map(|d| (d.origin.clone(), ObjectInput::from_draft(d, None)))
        .collect();
    while !inputs.is_empty() {
        let rest = inputs.split_off(inputs.len().min(IMPORT_CHUNK));
        let chunk = std::mem::replace(&mut inputs, rest);
        objects.extend(
            svc.import(&admin, chunk)
                .await
                .context("importing the demo objects")?,
        );
    }
    tracing::info!(objects = objects.len(), "demo management objects imported");

    // Who inspects what: the inspector whose community holds the object.
    let inspectors = inspectors_by_community(state).await?;
    let sample: Vec<usize> = (0..HISTORY_OBJECTS)
        .map(|i| i * objects.len().max(1) / HISTORY_OBJECTS)
        .filter(|&i| i < objects.len())
        .filter(|&i| {
            objects[i]
                .object
                .regions
                .community
                .as_ref()
                .is_some_and(|c| inspectors.contains_key(c.as_str()))
        })
        .collect();
    let lists = svc.checklists();
    let mut plan = Vec::new();
    for (j, &i) in sample.iter().enumerate() {
        let items: Vec<String> = lists
            .checklist_for(objects[i].object.kind)
            .iter()
            .take(6)
            .map(|it| it.code.clone())
            .collect();
        if items.len() < 3 {
            continue;
        }
        let day = 1 + (j as i64 % 14);
        let at = start + Duration::days(day) + Duration::minutes(30 + 47 * (j as i64 % 8));
        let off_m = if j % 9 == 4 {
            650.0
        } else {
            6.0 + (j % 4) as f64 * 5.0
        };
        let (a, b) = (items[1].clone(), items[2].clone());
        let mut first = |failing: Vec<String>| {
            plan.push(Planned {
                at,
                object: i,
                failing,
                off_m,
            })
        };
        // Closed at notice 1, 2 or 3 by a re-inspection, or left to reach enforcement (a few).
        match j % 5 {
            0 => first(Vec::new()),
            1 => {
                first(vec![a.clone()]);
                plan.push(again(at + Duration::hours(4), i, vec![]));
            }
            2 => {
                first(vec![a.clone()]);
                plan.push(again(at + Duration::days(1), i, vec![]));
            }
            3 if j % 10 == 3 => first(vec![a.clone()]),
            3 => {
                first(vec![a.clone()]);
                plan.push(again(at + Duration::hours(44), i, vec![]));
            }
            _ => {
                first(vec![a.clone(), b.clone()]);
                plan.push(again(at + Duration::days(1), i, vec![a.clone()]));
                plan.push(again(at + Duration::hours(40), i, vec![]));
            }
        }
    }
    plan.sort_by_key(|p| p.at);

    // Photos of failing items: the demo's generated site photos, stored once.
    let photos = tokio::task::spawn_blocking({
        let evidence = state.evidence().clone();
        move || {
            cityops_seed::history::demo_photos(3)
                .into_iter()
                .map(|p| evidence.store(&p.bytes).map(|s| (p.file_name, s)))
                .collect::<Result<Vec<_>, _>>()
        }
    })
    .await??;

    // Walk the clock: the inspections when due, the ladder every two hours.
    let mut next = plan.into_iter().peekable();
    let mut t = start;
    let (mut checks, mut notices, mut handed) = (0usize, 0usize, 0usize);
    while t <= now {
        clock.set(t);
        while let Some(p) = next.next_if(|p| p.at <= t) {
            clock.set(p.at);
            let object = &objects[p.object];
            let Some(community) = object.object.regions.community.as_ref() else {
                continue;
            };
            let Some(inspector) = inspectors.get(community.as_str()) else {
                continue;
            };
            let input = inspection(state, &svc, inspector, object, &p, &photos).await?;
            match svc.inspect(inspector, &object.object.code, input).await {
                Ok(_) => checks += 1,
                Err(e) => {
                    tracing::warn!(object = %object.object.code, error = %e, "a demo inspection was refused")
                }
            }
        }
        clock.set(t);
        let r = svc.upkeep().await?;
        notices += r.notices;
        handed += r.handed_over;
        t += Duration::hours(2);
    }
    clock.set(now);
    svc.upkeep().await?;
    cases.shutdown(std::time::Duration::from_secs(5)).await;
    tracing::info!(
        checks,
        notices,
        handed_over = handed,
        "demo inspection history written"
    );
    Ok(())
}

fn again(at: DateTime<Utc>, object: usize, failing: Vec<String>) -> Planned {
    Planned {
        at,
        object,
        failing,
        off_m: 8.0,
    }
}

/// The inspection input of a planned check: the object's first six items, the failing ones with
/// a note and, where the item requires it, a photo uploaded by the inspector.
async fn inspection(
    state: &AppState,
    svc: &ObjectService,
    inspector: &User,
    object: &StoredObject,
    p: &Planned,
    photos: &[(String, cityops_evidence::StoredPhoto)],
) -> anyhow::Result<CheckInput> {
    let lists = svc.checklists();
    let mut results = Vec::new();
    for (n, item) in lists
        .checklist_for(object.object.kind)
        .iter()
        .take(6)
        .enumerate()
    {
        let failing = p.failing.contains(&item.code);
        let mut photo_ids = Vec::new();
        if failing
            && item.evidence == Evidence::PhotoRequired
            && let Some((file_name, s)) = photos.get(n % photos.len().max(1))
        {
            let record = cityops_store::NewAttachment {
                sha256: s.sha256.clone(),
                mime: s.mime.to_string(),
                bytes: i64::try_from(s.bytes)?,
                width: i32::try_from(s.width)?,
                height: i32::try_from(s.height)?,
                thumb_sha256: s.thumb_sha256.clone(),
                uploaded_by: inspector.id,
                created_at: p.at,
                file_name: Some(file_name.clone()),
            };
            photo_ids.push(state.store.create_attachment(&record).await?.public_id);
        }
        results.push(CheckItemInput {
            item_code: item.code.clone(),
            passed: !failing,
            note: failing.then(|| "巡查发现不合格，已拍照取证（演示）".to_string()),
            photos: photo_ids,
        });
    }
    let pt = object.object.point;
    Ok(CheckInput {
        results,
        lng: Some(pt.lng),
        lat: Some(pt.lat + p.off_m / 111_195.0),
        crs: None,
    })
}

/// The demo's inspectors by the community their region is (`inspector1` … and the grid
/// inspectors `inspector-<community>`).
async fn inspectors_by_community(state: &AppState) -> anyhow::Result<HashMap<String, User>> {
    let mut out = HashMap::new();
    for page in 1.. {
        let p = state
            .store
            .list_users(
                None,
                None,
                PageRequest {
                    page,
                    page_size: MAX_PAGE_SIZE,
                },
            )
            .await?;
        let n = p.items.len();
        for u in p.items {
            if u.has_role(Role::Inspector)
                && u.active
                && let Some(c) = u.scope.region_code.clone().filter(|c| c.len() == 12)
            {
                out.entry(c).or_insert(u);
            }
        }
        if n < MAX_PAGE_SIZE as usize {
            break;
        }
    }
    Ok(out)
}

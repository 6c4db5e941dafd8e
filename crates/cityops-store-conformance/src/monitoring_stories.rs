//! The stories of operation monitoring (运行监测, issue 12): the device registry (all-or-nothing
//! upserts, lists filtered in SQL, a fingerprint that moves), readings stored once per (device,
//! metric, time) with rollups counting only what was new, rules kept and replaced, and alarms —
//! one active per device and rule whoever raises it, optimistic updates, a case linked once.
use chrono::{DateTime, Duration, TimeZone, Utc};
use cityops_domain::monitoring::rules::{Direction, RuleKind};
use cityops_store::{
    AlarmFilter, AlarmRaise, AlarmStatus, Device, DeviceFilter, DeviceType, Metric, NewAlarm,
    PageRequest, Reading, Resolution, Rule, Store, StoreError,
};

use crate::case_fixtures::{World, join_all, location, new_report, t0};

const ALL: PageRequest = PageRequest {
    page: 1,
    page_size: 100,
};

fn device(id: &str, t: DeviceType, grid: &str, department: Option<i64>) -> Device {
    Device {
        id: id.to_string(),
        device_type: t,
        name: format!("设备 {id}"),
        lng: 114.41,
        lat: 23.11,
        grid_code: Some(grid.to_string()),
        community_code: Some(grid[..12].to_string()),
        street_code: Some(grid[..9].to_string()),
        district_code: Some(grid[..6].to_string()),
        component_id: None,
        department_id: department,
        profile: t.default_profile().to_string(),
        responsible: Some("王工 13800000000".into()),
        active: true,
    }
}

fn threshold_rule(profile: &str, metric: Metric) -> Rule {
    Rule {
        id: 0,
        profile: profile.to_string(),
        name: "分级阈值".into(),
        metric,
        kind: RuleKind::Threshold {
            direction: Direction::Above,
            levels: [Some(10.0), Some(25.0), Some(50.0)],
            hysteresis: 1.0,
            sustain_secs: 0,
        },
        case_level: Some(2),
        category_code: None,
        clear_after_secs: 300,
        enabled: true,
    }
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub async fn devices_are_upserted_whole_and_listed_in_scope(store: &dyn Store) {
    let w = World::new(store).await;
    let municipal = w.dept("441300-municipal");
    let (n0, _) = store.devices_fingerprint().await.expect("fingerprint");
    assert_eq!(n0, 0);
    let devices = vec![
        device(
            "GAS-2",
            DeviceType::GasDetector,
            "441302001001001",
            Some(municipal),
        ),
        device("GAS-1", DeviceType::GasDetector, "441302001001001", None),
        device("NOISE-1", DeviceType::Noise, "441303001001001", None),
    ];
    assert_eq!(
        store.upsert_devices(&devices).await.expect("upsert"),
        (3, 0)
    );
    let fp1 = store.devices_fingerprint().await.expect("fingerprint");
    assert_eq!(fp1.0, 3);

    let list = store
        .list_devices(&DeviceFilter::default(), ALL)
        .await
        .expect("list");
    assert_eq!(list.total, 3);
    let ids: Vec<&str> = list.items.iter().map(|d| d.device.id.as_str()).collect();
    assert_eq!(ids, ["GAS-1", "GAS-2", "NOISE-1"], "by id");
    assert_eq!(list.items[1].device, devices[0], "kept as given");

    let gas = DeviceFilter {
        device_type: Some(DeviceType::GasDetector),
        ..Default::default()
    };
    assert_eq!(store.list_devices(&gas, ALL).await.unwrap().total, 2);
    let district = DeviceFilter {
        region_prefixes: vec!["441303".into()],
        ..Default::default()
    };
    let got = store.list_devices(&district, ALL).await.unwrap();
    assert_eq!(got.total, 1);
    assert_eq!(got.items[0].device.id, "NOISE-1");
    let dept = DeviceFilter {
        department_id: Some(municipal),
        ..Default::default()
    };
    assert_eq!(store.list_devices(&dept, ALL).await.unwrap().total, 1);
    let q = DeviceFilter {
        q: Some("noise".into()),
        ..Default::default()
    };
    assert_eq!(store.list_devices(&q, ALL).await.unwrap().total, 1);
    let page2 = store
        .list_devices(
            &DeviceFilter::default(),
            PageRequest {
                page: 2,
                page_size: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!((page2.total, page2.items.len()), (3, 1));

    // A replacement keeps the key; a batch with an unknown department writes nothing.
    let key = store.device("GAS-1").await.unwrap().expect("GAS-1").key;
    let mut changed = devices[1].clone();
    changed.name = "燃气井 1 号".into();
    changed.active = false;
    let bad = device(
        "GAS-3",
        DeviceType::GasDetector,
        "441302001001001",
        Some(999_999),
    );
    assert!(matches!(
        store.upsert_devices(&[changed.clone(), bad]).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store.device("GAS-1").await.unwrap().unwrap().device.name,
        "设备 GAS-1"
    );
    assert!(store.device("GAS-3").await.unwrap().is_none());
    assert_eq!(
        store.upsert_devices(&[changed.clone()]).await.unwrap(),
        (0, 1)
    );
    let kept = store.device("GAS-1").await.unwrap().unwrap();
    assert_eq!((kept.key, kept.device), (key, changed));
    assert_eq!(store.all_devices().await.unwrap().len(), 3);
    let fp2 = store.devices_fingerprint().await.unwrap();
    assert!(fp2 != fp1 || fp1.1.is_none(), "the fingerprint moves");
}

pub async fn readings_are_stored_once_with_their_rollups(store: &dyn Store) {
    let _w = World::new(store).await;
    store
        .upsert_devices(&[
            device("LVL-1", DeviceType::DrainageLevel, "441302001001001", None),
            device("LVL-2", DeviceType::DrainageLevel, "441302001001001", None),
        ])
        .await
        .unwrap();
    let k1 = store.device("LVL-1").await.unwrap().unwrap().key;
    let k2 = store.device("LVL-2").await.unwrap().unwrap().key;
    let t = Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap();
    let r = |key: i64, secs: i64, value: f64| Reading {
        device_key: key,
        metric: Metric::Level,
        value,
        ts: t + Duration::seconds(secs),
    };
    // 10:00:00, :30, 10:01:10, 11:00:05 for LVL-1; one for LVL-2; one repeated in the batch.
    let first = vec![
        r(k1, 0, 1.0),
        r(k1, 30, 3.0),
        r(k1, 70, 2.0),
        r(k1, 3605, 5.0),
        r(k2, 10, 0.5),
        r(k1, 30, 3.0),
    ];
    assert_eq!(store.insert_readings(&first).await.expect("insert"), 5);
    // Redelivered (a broker after a restart) plus one new: only the new one counts.
    let again = vec![r(k1, 0, 1.0), r(k1, 70, 2.0), r(k1, 90, 4.0)];
    assert_eq!(store.insert_readings(&again).await.expect("again"), 1);
    assert_eq!(store.insert_readings(&[]).await.expect("nothing"), 0);

    let got = store
        .readings(k1, Metric::Level, t, t + Duration::hours(2), 100)
        .await
        .unwrap();
    let values: Vec<f64> = got.iter().map(|p| p.value).collect();
    assert_eq!(values, [1.0, 3.0, 2.0, 4.0, 5.0], "oldest first, once each");
    assert_eq!(got[0].ts, t);
    let limited = store
        .readings(k1, Metric::Level, t, t + Duration::hours(2), 2)
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
    assert!(
        store
            .readings(k1, Metric::Depth, t, t + Duration::hours(2), 100)
            .await
            .unwrap()
            .is_empty()
    );

    let minutes = store
        .rollups(
            k1,
            Metric::Level,
            Resolution::Minute,
            t,
            t + Duration::hours(2),
        )
        .await
        .unwrap();
    let m: Vec<(i64, i64, f64, f64, f64)> = minutes
        .iter()
        .map(|p| ((p.start - t).num_minutes(), p.count, p.min, p.max, p.avg))
        .collect();
    assert_eq!(
        m,
        [
            (0, 2, 1.0, 3.0, 2.0),
            (1, 2, 2.0, 4.0, 3.0),
            (60, 1, 5.0, 5.0, 5.0)
        ]
    );
    let hours = store
        .rollups(
            k1,
            Metric::Level,
            Resolution::Hour,
            t,
            t + Duration::hours(2),
        )
        .await
        .unwrap();
    let h: Vec<(i64, i64, f64, f64)> = hours
        .iter()
        .map(|p| ((p.start - t).num_hours(), p.count, p.min, p.max))
        .collect();
    assert_eq!(h, [(0, 4, 1.0, 4.0), (1, 1, 5.0, 5.0)]);
    assert!((hours[0].avg - 2.5).abs() < 1e-9);

    let mut seen = store.last_seen(t - Duration::days(1)).await.unwrap();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (k1, t + Duration::minutes(61)),
            (k2, t + Duration::minutes(1))
        ],
        "the end of the latest minute with a reading"
    );

    // Retention: everything before 11:00 goes, readings and rollups.
    store
        .prune_readings(t + Duration::hours(1))
        .await
        .expect("prune");
    let left = store
        .readings(
            k1,
            Metric::Level,
            t - Duration::days(1),
            t + Duration::days(1),
            100,
        )
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(ms(left[0].ts), ms(t + Duration::seconds(3605)));
    let minutes = store
        .rollups(
            k1,
            Metric::Level,
            Resolution::Minute,
            t - Duration::days(1),
            t + Duration::days(1),
        )
        .await
        .unwrap();
    assert_eq!(minutes.len(), 1);
}

pub async fn rules_are_kept_and_replaced(store: &dyn Store) {
    let _w = World::new(store).await;
    assert!(store.rules().await.unwrap().is_empty());
    let kept = store
        .save_rule(&threshold_rule("gas_detector", Metric::Ch4Lel))
        .await
        .expect("save");
    assert!(kept.id > 0);
    let mut offline = threshold_rule("gas_detector", Metric::Ch4Lel);
    offline.name = "离线".into();
    offline.kind = RuleKind::Offline {
        minutes: 30,
        level: 1,
    };
    offline.case_level = None;
    let offline = store.save_rule(&offline).await.unwrap();
    let mut changed = kept.clone();
    changed.enabled = false;
    changed.case_level = Some(3);
    assert_eq!(store.save_rule(&changed).await.unwrap(), changed);
    assert_eq!(store.rules().await.unwrap(), vec![changed, offline]);
    let mut missing = kept;
    missing.id = 999_999;
    assert!(matches!(
        store.save_rule(&missing).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn alarms_are_active_once_per_device_and_rule(store: &dyn Store) {
    let w = World::new(store).await;
    store
        .upsert_devices(&[
            device("GAS-1", DeviceType::GasDetector, "441302001001001", None),
            device("GAS-9", DeviceType::GasDetector, "441303001001001", None),
        ])
        .await
        .unwrap();
    let rule = store
        .save_rule(&threshold_rule("gas_detector", Metric::Ch4Lel))
        .await
        .unwrap();
    let t = t0();
    let new = |device: &str, level: u8, at: DateTime<Utc>| NewAlarm {
        device_id: device.to_string(),
        rule_id: rule.id,
        rule: rule.name.clone(),
        metric: Metric::Ch4Lel,
        level,
        value: 12.0,
        raised_at: at,
    };
    // Two processes raise the same alarm at once: one alarm.
    let first = new("GAS-1", 1, t);
    let raises = join_all((0..4).map(|_| store.raise_alarm(&first)).collect()).await;
    let mut raised = 0;
    let mut ids = Vec::new();
    for r in raises {
        match r.expect("raise") {
            AlarmRaise::Raised(a) => {
                raised += 1;
                ids.push(a.id);
            }
            AlarmRaise::Active(a) => ids.push(a.id),
        }
    }
    assert_eq!(raised, 1);
    ids.dedup();
    assert_eq!(ids.len(), 1, "everyone got the same alarm");
    let mut alarm = store.alarm(ids[0]).await.unwrap().expect("the alarm");
    assert_eq!(
        (alarm.status, alarm.level, alarm.case_id, alarm.reminders),
        (AlarmStatus::Raised, 1, None, 0)
    );

    // Escalate and acknowledge; a stale writer conflicts.
    let before = alarm.updated_at;
    assert!(alarm.escalate(2, 30.0, t + Duration::minutes(1)));
    store.update_alarm(&alarm, before).await.expect("escalate");
    let stale = alarm.clone();
    assert!(matches!(
        store.update_alarm(&stale, before).await,
        Err(StoreError::Conflict(_))
    ));
    let before = alarm.updated_at;
    alarm
        .acknowledge(w.uid("duty1"), t + Duration::minutes(2))
        .unwrap();
    alarm.reminders = 1;
    alarm.last_reminder_at = Some(t + Duration::minutes(2));
    store
        .update_alarm(&alarm, before)
        .await
        .expect("acknowledge");
    assert_eq!(store.alarm(alarm.id).await.unwrap().unwrap(), alarm);

    // A case is linked once.
    let case = w
        .create(
            store,
            "duty1",
            new_report(
                cityops_domain::case::CaseSource::Iot,
                Some("01001"),
                location("441302001001001", 114.41, 23.11, "燃气井"),
                "可燃气体浓度超标",
            ),
            t,
        )
        .await;
    // One claimer opens the case; a claim is taken over only when it went stale.
    let claims = join_all(
        (0..4)
            .map(|_| store.claim_alarm_case(alarm.id, t, t - Duration::minutes(1)))
            .collect(),
    )
    .await;
    assert_eq!(claims.iter().filter(|c| *c.as_ref().unwrap()).count(), 1);
    assert!(
        !store
            .claim_alarm_case(
                alarm.id,
                t + Duration::seconds(30),
                t - Duration::seconds(30)
            )
            .await
            .unwrap(),
        "a fresh claim holds"
    );
    assert!(
        store
            .claim_alarm_case(alarm.id, t + Duration::minutes(2), t + Duration::minutes(1))
            .await
            .unwrap(),
        "a stale claim is taken over"
    );
    assert!(store.link_alarm_case(alarm.id, case.id).await.unwrap());
    assert!(
        !store
            .claim_alarm_case(alarm.id, t + Duration::hours(1), t + Duration::hours(1))
            .await
            .unwrap(),
        "an alarm with a case needs no claim"
    );
    assert!(!store.link_alarm_case(alarm.id, case.id).await.unwrap());
    let by_case = store
        .list_alarms(
            &AlarmFilter {
                case_id: Some(case.id),
                ..Default::default()
            },
            ALL,
        )
        .await
        .unwrap();
    assert_eq!(by_case.total, 1);
    assert_eq!(by_case.items[0].case_id, Some(case.id));

    // Another device's alarm; filters.
    let other = match store
        .raise_alarm(&new("GAS-9", 3, t + Duration::minutes(5)))
        .await
    {
        Ok(AlarmRaise::Raised(a)) => a,
        other => panic!("a new alarm, got {other:?}"),
    };
    let list = |f: AlarmFilter| async move { store.list_alarms(&f, ALL).await.unwrap() };
    let all = list(AlarmFilter::default()).await;
    assert_eq!(
        all.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        [other.id, alarm.id],
        "newest first"
    );
    assert_eq!(
        list(AlarmFilter {
            region_prefixes: vec!["441303".into()],
            ..Default::default()
        })
        .await
        .total,
        1
    );
    assert_eq!(
        list(AlarmFilter {
            level: Some(3),
            ..Default::default()
        })
        .await
        .total,
        1
    );
    assert_eq!(
        list(AlarmFilter {
            device_id: Some("GAS-1".into()),
            ..Default::default()
        })
        .await
        .total,
        1
    );
    let of = |ids: &[&str]| AlarmFilter {
        device_ids: ids.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    assert_eq!(list(of(&["GAS-1", "GAS-9"])).await.total, 2);
    assert_eq!(list(of(&["GAS-9", "NOPE"])).await.items[0].id, other.id);
    assert_eq!(list(of(&["NOPE"])).await.total, 0);

    // Cleared, a new crossing raises a new alarm.
    let before = alarm.updated_at;
    assert!(alarm.clear(t + Duration::minutes(10)));
    store.update_alarm(&alarm, before).await.expect("clear");
    assert_eq!(
        list(AlarmFilter {
            active: true,
            ..Default::default()
        })
        .await
        .total,
        1
    );
    assert_eq!(
        list(AlarmFilter {
            status: Some(AlarmStatus::Cleared),
            ..Default::default()
        })
        .await
        .total,
        1
    );
    match store
        .raise_alarm(&new("GAS-1", 1, t + Duration::minutes(20)))
        .await
        .unwrap()
    {
        AlarmRaise::Raised(a) => assert_ne!(a.id, alarm.id),
        AlarmRaise::Active(a) => panic!("the cleared alarm is not active: {a:?}"),
    }
}

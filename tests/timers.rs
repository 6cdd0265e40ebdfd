//! Durable timers and their scheduler, on SQLite and PostgreSQL: idempotent
//! scheduling, firing once when due (never before), settling, retries after
//! failures and panics, due order, and no loss or duplicate SMS across a
//! restart, a killed scheduler and two schedulers on one database.
//!
//! Time is a [`ManualClock`]: a timer is due when the test says so, and a
//! lease ends only when the test moves the clock past it. The schedulers
//! poll every 10 ms of real time; tests wait for effects by bounded polling.

mod common;

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use common::{eventually, new_case, tuesday_morning, Db, TestDb, CLAUDINE};
use kanda::{
    casework::scheduler::{Scheduler, SchedulerConfig, TimerHandler},
    domain::NewCase,
    domain::Phone,
    domain::{Clock, ManualClock},
    domain::{NewSms, SmsKind},
    store::{NewTimer, Settlement, Store, Table, TimerRow, TimerState},
    AppState,
};

/// A caseworker of the demo (Centre Amajyepfo): notices to staff are allowed.
const STAFF: &str = CLAUDINE;

fn minutes(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

/// Test timings: polls every 10 ms (real time); leases of a minute (on the
/// manual clock, and the limit of a handler's run in real time) and
/// retries after about 100 ms (on the manual clock).
fn quick() -> SchedulerConfig {
    SchedulerConfig {
        poll: Duration::from_millis(10),
        lease: Duration::from_secs(60),
        batch: 200,
        concurrency: 8,
        backoff: Duration::from_millis(100),
        max_attempts: 3,
    }
}

/// State over `db` on `clock`, the demo seeded (when empty); no worker runs.
async fn state(db: &TestDb, clock: &ManualClock) -> AppState {
    let mut config = common::config(db);
    config.scheduler = quick();
    common::demo_state(config, Arc::new(clock.clone())).await
}

/// A case of the demo, by its source key; its row id.
async fn case(state: &AppState, key: &str) -> i64 {
    let place = state.store.children(None).await.unwrap()[0].id;
    let reference = state
        .store
        .create_case(&NewCase {
            child_age: Some(7),
            danger: true,
            ..new_case(key, place)
        })
        .await
        .unwrap();
    state.store.case_id(&reference).await.unwrap().expect("id")
}

fn timer(key: &str, kind: &str, due_at: i64) -> NewTimer {
    NewTimer {
        case_id: None,
        kind: kind.into(),
        level: None,
        due_at,
        source_key: key.into(),
        payload: None,
        quiet: false,
    }
}

async fn state_of(store: &Store, id: i64) -> TimerState {
    store.timer(id).await.unwrap().expect("the timer").state
}

async fn fired(store: &Store) -> i64 {
    count(store, "fired").await
}

async fn count(store: &Store, state: &str) -> i64 {
    store
        .timer_counts()
        .await
        .unwrap()
        .into_iter()
        .find(|(s, _)| s == state)
        .map_or(0, |(_, n)| n)
}

/// Every handler call, in order, by timer id.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<i64>>>);

impl Calls {
    fn push(&self, id: i64) {
        self.0.lock().unwrap().push(id);
    }
    fn all(&self) -> Vec<i64> {
        self.0.lock().unwrap().clone()
    }
    fn of(&self, id: i64) -> usize {
        self.all().iter().filter(|&&i| i == id).count()
    }
    fn per_id(&self) -> HashMap<i64, usize> {
        let mut n = HashMap::new();
        for id in self.all() {
            *n.entry(id).or_default() += 1;
        }
        n
    }
}

/// The realistic handler: one SMS notice to a caseworker per timer, queued
/// in the outbox under `timer:<id>` (so a second run of a timer queues
/// nothing more).
struct SmsHandler {
    state: AppState,
    calls: Calls,
}

fn body(id: i64) -> String {
    format!("Kanda: timer {id} is due")
}

impl TimerHandler for SmsHandler {
    fn fire(&self, timer: TimerRow) -> impl Future<Output = anyhow::Result<()>> + Send {
        let state = self.state.clone();
        let calls = self.calls.clone();
        async move {
            calls.push(timer.id);
            enqueue(&state, timer.id).await
        }
    }
}

async fn enqueue(state: &AppState, id: i64) -> anyhow::Result<()> {
    state
        .outbox
        .enqueue(
            &state.store,
            NewSms {
                to: Phone::from_trusted(STAFF.into()),
                body: body(id),
                urgent: false,
                kind: SmsKind::Notice,
                source_key: format!("timer:{id}"),
                case_id: None,
            },
        )
        .await?;
    Ok(())
}

fn sms_scheduler(state: &AppState, clock: &ManualClock, calls: &Calls) -> Scheduler<SmsHandler> {
    Scheduler::new(
        state.store.clone(),
        Arc::new(clock.clone()),
        SmsHandler {
            state: state.clone(),
            calls: calls.clone(),
        },
        quick(),
    )
}

/// Exactly one queued SMS per id in `ids`, and no other.
async fn one_sms_each(store: &Store, ids: &[i64]) {
    let mut bodies: Vec<String> = store
        .list_outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            assert_eq!(m.to, STAFF);
            m.body
        })
        .collect();
    bodies.sort();
    let mut expected: Vec<String> = ids.iter().map(|&id| body(id)).collect();
    expected.sort();
    assert_eq!(bodies, expected, "one SMS per timer");
}

// ---- scheduling ----

both!(scheduling_is_idempotent_by_source_key);

async fn scheduling_is_idempotent_by_source_key(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let s = state(&db, &clock).await;
    let case_id = case(&s, "c1").await;
    let now = clock.now_ms();
    let first = NewTimer {
        case_id: Some(case_id),
        kind: "ack".into(),
        level: Some(1),
        due_at: now + 3_600_000,
        source_key: "case:1:ack:1".into(),
        payload: Some(r#"{"to":"manager"}"#.into()),
        quiet: true,
    };
    let id = s.store.schedule(&first).await.unwrap();
    // The same key again, even with other values: the same timer, unchanged.
    let again = NewTimer {
        due_at: now + 60_000,
        kind: "other".into(),
        ..first.clone()
    };
    assert_eq!(s.store.schedule(&again).await.unwrap(), id);
    assert_eq!(s.store.schedule(&first).await.unwrap(), id);
    let row = s.store.timer(id).await.unwrap().expect("the timer");
    assert_eq!(
        row,
        TimerRow {
            id,
            case_id: Some(case_id),
            kind: "ack".into(),
            level: Some(1),
            due_at: now + 3_600_000,
            state: TimerState::Pending,
            lease_until: None,
            attempts: 0,
            last_error: None,
            fired_at: None,
            settled_at: None,
            source_key: "case:1:ack:1".into(),
            payload: Some(r#"{"to":"manager"}"#.into()),
            quiet: true,
            created_at: now,
        }
    );
    assert_eq!(s.store.timers_of_case(case_id).await.unwrap(), vec![row]);
    assert_eq!(
        s.store.timer_counts().await.unwrap(),
        vec![("pending".to_string(), 1)]
    );
    assert_eq!(
        s.store.next_timer_due().await.unwrap(),
        Some(now + 3_600_000)
    );
    // A digest belongs to no case.
    let digest = s
        .store
        .schedule(&timer("digest:2026-12-02", "digest", now + 60_000))
        .await
        .unwrap();
    assert_ne!(digest, id);
    assert_eq!(s.store.next_timer_due().await.unwrap(), Some(now + 60_000));
    // A timer needs a key.
    assert!(s.store.schedule(&timer("", "ack", now)).await.is_err());
}

both!(a_claim_leases_its_timers_until_the_lease_ends);

async fn a_claim_leases_its_timers_until_the_lease_ends(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let s = state(&db, &clock).await;
    let now = clock.now_ms();
    let lease = Duration::from_secs(60);
    let early = s
        .store
        .schedule(&timer("a", "ack", now - 10))
        .await
        .unwrap();
    let late = s
        .store
        .schedule(&timer("b", "ack", now + 10))
        .await
        .unwrap();
    // Only what is due, leased.
    let claimed = s.store.claim_due_timers(now, lease, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|t| t.id).collect::<Vec<_>>(), [early]);
    assert_eq!(claimed[0].lease_until, Some(now + 60_000));
    assert_eq!(claimed[0].state, TimerState::Pending);
    // Leased: not claimed again, even once the next is due.
    let claimed = s.store.claim_due_timers(now + 10, lease, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|t| t.id).collect::<Vec<_>>(), [late]);
    assert!(s
        .store
        .claim_due_timers(now + 59_999, lease, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.store.next_timer_due().await.unwrap(), Some(now + 60_000));
    // The lease ended (its scheduler died): claimable again.
    let claimed = s
        .store
        .claim_due_timers(now + 60_000, lease, 10)
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|t| t.id).collect::<Vec<_>>(), [early]);
    // A failure waits for its retry time; `fired` ends it.
    assert!(s
        .store
        .timer_failed(early, "boom", now + 61_000)
        .await
        .unwrap());
    let row = s.store.timer(early).await.unwrap().unwrap();
    assert_eq!((row.attempts, row.lease_until), (1, Some(now + 61_000)));
    assert_eq!(row.last_error.as_deref(), Some("boom"));
    assert!(s.store.timer_fired(late).await.unwrap());
    assert!(!s.store.timer_fired(late).await.unwrap(), "fired once");
    assert_eq!(s.store.next_timer_due().await.unwrap(), Some(now + 61_000));
    let claimed = s
        .store
        .claim_due_timers(now + 61_000, lease, 10)
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|t| t.id).collect::<Vec<_>>(), [early]);
    assert_eq!(s.store.timers_fired(&[early, late]).await.unwrap(), 1);
    assert_eq!(s.store.next_timer_due().await.unwrap(), None);
    let row = s.store.timer(early).await.unwrap().unwrap();
    assert_eq!(
        (row.state, row.fired_at, row.lease_until),
        (TimerState::Fired, Some(now), None)
    );
    assert!(!s.store.timer_failed(early, "late", now).await.unwrap());
}

// ---- the scheduler ----

both!(a_timer_fires_once_when_due_and_not_before);

async fn a_timer_fires_once_when_due_and_not_before(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let s = state(&db, &clock).await;
    let calls = Calls::default();
    let scheduler = sms_scheduler(&s, &clock, &calls).spawn();
    let now = clock.now_ms();
    let later = s
        .store
        .schedule(&timer("later", "ack", now + 600_000))
        .await
        .unwrap();
    // A probe due now: once it has fired, a claim at this time ran, and
    // left the later timer alone.
    let probe = s.store.schedule(&timer("probe", "ack", now)).await.unwrap();
    eventually("the probe fired", || async {
        state_of(&s.store, probe).await == TimerState::Fired
    })
    .await;
    assert_eq!(calls.all(), [probe]);
    assert_eq!(state_of(&s.store, later).await, TimerState::Pending);

    clock.advance(minutes(10));
    eventually("the timer fired", || async {
        state_of(&s.store, later).await == TimerState::Fired
    })
    .await;
    let row = s.store.timer(later).await.unwrap().unwrap();
    assert_eq!(row.fired_at, Some(clock.now_ms()));
    assert_eq!(row.attempts, 0);
    // Later claims leave it be: a second probe fires, the timer does not again.
    let probe2 = s
        .store
        .schedule(&timer("probe2", "ack", clock.now_ms()))
        .await
        .unwrap();
    eventually("the second probe fired", || async {
        state_of(&s.store, probe2).await == TimerState::Fired
    })
    .await;
    assert_eq!(calls.all(), [probe, later, probe2]);
    one_sms_each(&s.store, &[probe, later, probe2]).await;
    scheduler.abort();
}

both!(a_timer_scheduled_on_the_scheduler_s_store_wakes_it_at_once);

/// A scheduler that polls only hourly still fires at once what its own
/// store schedules: `schedule` wakes it.
async fn a_timer_scheduled_on_the_scheduler_s_store_wakes_it_at_once(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let s = state(&db, &clock).await;
    let calls = Calls::default();
    let config = SchedulerConfig {
        poll: Duration::from_secs(3600),
        ..quick()
    };
    let scheduler = Scheduler::new(
        s.store.clone(),
        Arc::new(clock.clone()),
        SmsHandler {
            state: s.clone(),
            calls: calls.clone(),
        },
        config,
    )
    .spawn();
    // Twice, so the second at least finds the scheduler asleep (with
    // nothing due and nothing pending it sleeps a whole poll).
    for key in ["first", "second"] {
        let id = s
            .store
            .schedule(&timer(key, "ack", clock.now_ms()))
            .await
            .unwrap();
        eventually("fired without waiting for the poll", || async {
            state_of(&s.store, id).await == TimerState::Fired
        })
        .await;
    }
    assert_eq!(calls.all().len(), 2);
    scheduler.abort();
}

both!(settled_timers_never_fire);

async fn settled_timers_never_fire(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let s = state(&db, &clock).await;
    let (c1, c2) = (case(&s, "c1").await, case(&s, "c2").await);
    let now = clock.now_ms();
    let at = |m: i64| now + m * 60_000;
    let on = |case_id: i64, key: &str, kind: &str, due: i64| NewTimer {
        case_id: Some(case_id),
        ..timer(key, kind, due)
    };
    let mut ids = Vec::new();
    for (case_id, key, kind, due) in [
        (c1, "1a", "ack", 60),
        (c1, "1s", "assessment", 120),
        (c1, "1r", "review", 180),
        (c2, "2a", "ack", 60),
        (c2, "2p", "plan", 90),
    ] {
        ids.push(
            s.store
                .schedule(&on(case_id, key, kind, at(due)))
                .await
                .unwrap(),
        );
    }
    let [ack, assess, review, other, plan] = ids[..] else {
        unreachable!("five timers")
    };

    // Acknowledged in time; a minute later the assessment was called off.
    // Each settlement, with how many pending timers it settles and why.
    let settlements: [(i64, &[&str], Settlement, u64, &str); 4] = [
        (c1, &["ack"], Settlement::Met, 1, "the acknowledgement"),
        (
            c1,
            &["assessment", "plan"],
            Settlement::Cancelled,
            1,
            "only this case's",
        ),
        (c1, &["ack"], Settlement::Cancelled, 0, "already met"),
        // Case 2 closes: every pending timer of it is cancelled.
        (c2, &[], Settlement::Cancelled, 2, "all of a closed case's"),
    ];
    for (i, (case_id, kinds, how, settled, why)) in settlements.into_iter().enumerate() {
        if i == 1 {
            clock.advance(minutes(1));
        }
        assert_eq!(
            s.store.settle_timers(case_id, kinds, how).await.unwrap(),
            settled,
            "{why}"
        );
    }
    let c3 = case(&s, "c3").await;
    let kept = s
        .store
        .schedule(&on(c3, "3a", "ack", at(60)))
        .await
        .unwrap();

    let calls = Calls::default();
    let scheduler = sms_scheduler(&s, &clock, &calls).spawn();
    clock.advance(minutes(240));
    eventually("the unsettled timers fired", || async {
        state_of(&s.store, review).await == TimerState::Fired
            && state_of(&s.store, kept).await == TimerState::Fired
    })
    .await;
    let mut called = calls.all();
    called.sort();
    assert_eq!(called, [review, kept]);
    let timeline: Vec<(i64, TimerState, bool)> = s
        .store
        .timers_of_case(c1)
        .await
        .unwrap()
        .iter()
        .map(|t| (t.id, t.state, t.settled_at.is_some()))
        .collect();
    assert_eq!(
        timeline,
        [
            (ack, TimerState::Met, true),
            (assess, TimerState::Cancelled, true),
            (review, TimerState::Fired, false)
        ]
    );
    let settled = s.store.timer(assess).await.unwrap().unwrap();
    assert_eq!(settled.settled_at, Some(now + 60_000));
    assert_eq!(state_of(&s.store, other).await, TimerState::Cancelled);
    assert_eq!(state_of(&s.store, plan).await, TimerState::Cancelled);
    // A fired deadline stays fired: it passed unmet.
    assert_eq!(
        s.store
            .settle_timers(c1, &["review"], Settlement::Met)
            .await
            .unwrap(),
        0
    );
    assert_eq!(state_of(&s.store, review).await, TimerState::Fired);
    one_sms_each(&s.store, &[review, kept]).await;
    scheduler.abort();
}

both!(a_failing_or_panicking_handler_is_retried_until_it_succeeds);

async fn a_failing_or_panicking_handler_is_retried_until_it_succeeds(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let s = state(&db, &clock).await;
    let calls = Calls::default();
    // First an error, then a panic, then success.
    let handler = {
        let calls = calls.clone();
        move |t: TimerRow| {
            calls.push(t.id);
            let n = calls.of(t.id);
            async move {
                match n {
                    1 => anyhow::bail!("provider down"),
                    2 => panic!("handler bug"),
                    _ => Ok(()),
                }
            }
        }
    };
    let scheduler =
        Scheduler::new(s.store.clone(), Arc::new(clock.clone()), handler, quick()).spawn();
    let id = s
        .store
        .schedule(&timer("flaky", "review", clock.now_ms()))
        .await
        .unwrap();
    let attempts = |n: i64| {
        let store = s.store.clone();
        move || {
            let store = store.clone();
            async move { store.timer(id).await.unwrap().unwrap().attempts == n }
        }
    };
    eventually("the first failure recorded", attempts(1)).await;
    let row = s.store.timer(id).await.unwrap().unwrap();
    assert_eq!(row.state, TimerState::Pending);
    assert_eq!(row.last_error.as_deref(), Some("provider down"));
    let retry_at = row.lease_until.expect("a retry time");
    // The backoff is 100 ms ±20 %, on the scheduler's clock.
    assert!(
        (clock.now_ms() + 80..=clock.now_ms() + 120).contains(&retry_at),
        "{retry_at}"
    );
    assert_eq!(calls.of(id), 1, "no retry before its time");

    clock.advance(chrono::Duration::milliseconds(150));
    eventually("the panic recorded as a failure", attempts(2)).await;
    let row = s.store.timer(id).await.unwrap().unwrap();
    assert_eq!(row.state, TimerState::Pending);
    assert_eq!(row.last_error.as_deref(), Some("the handler panicked"));

    // The second retry waits twice as long.
    clock.advance(chrono::Duration::milliseconds(250));
    eventually("fired on the third run", || async {
        state_of(&s.store, id).await == TimerState::Fired
    })
    .await;
    assert_eq!(calls.of(id), 3);
    let row = s.store.timer(id).await.unwrap().unwrap();
    assert_eq!(row.attempts, 2, "failed runs");
    scheduler.abort();
}

both!(a_hung_handler_is_stopped_at_its_lease_and_retried);

async fn a_hung_handler_is_stopped_at_its_lease_and_retried(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let s = state(&db, &clock).await;
    let calls = Calls::default();
    // The first run never ends; the second succeeds.
    let handler = {
        let calls = calls.clone();
        move |t: TimerRow| {
            calls.push(t.id);
            let n = calls.of(t.id);
            async move {
                if n == 1 {
                    std::future::pending::<()>().await;
                }
                Ok(())
            }
        }
    };
    let config = SchedulerConfig {
        lease: Duration::from_millis(300),
        ..quick()
    };
    let scheduler =
        Scheduler::new(s.store.clone(), Arc::new(clock.clone()), handler, config).spawn();
    let id = s
        .store
        .schedule(&timer("hangs", "ack", clock.now_ms()))
        .await
        .unwrap();
    eventually("the hung run stopped and counted", || async {
        s.store.timer(id).await.unwrap().unwrap().attempts == 1
    })
    .await;
    let row = s.store.timer(id).await.unwrap().unwrap();
    assert_eq!(row.state, TimerState::Pending);
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.contains("longer than the lease")),
        "{:?}",
        row.last_error
    );
    clock.advance(chrono::Duration::milliseconds(150));
    eventually("fired on the retry", || async {
        state_of(&s.store, id).await == TimerState::Fired
    })
    .await;
    assert_eq!(calls.of(id), 2);
    scheduler.abort();
}

both!(timers_run_earliest_deadline_first);

async fn timers_run_earliest_deadline_first(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let s = state(&db, &clock).await;
    let now = clock.now_ms();
    // Scheduled out of order: due 1..=30 minutes from now, shuffled.
    let mut ids = Vec::new();
    for k in 0..30i64 {
        let m = (k * 7) % 30 + 1;
        let id = s
            .store
            .schedule(&timer(&format!("o{k}"), "ack", now + m * 60_000))
            .await
            .unwrap();
        ids.push((m, id));
    }
    ids.sort();
    let by_due: Vec<i64> = ids.iter().map(|&(_, id)| id).collect();
    clock.advance(minutes(60));
    // A claim of 5 takes the 5 most overdue.
    let first = s
        .store
        .claim_due_timers(clock.now_ms(), Duration::from_millis(1), 5)
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|t| t.id).collect::<Vec<_>>(),
        by_due[..5].to_vec()
    );
    clock.advance(chrono::Duration::milliseconds(1)); // their leases end
                                                      // One handler at a time: they run in due order.
    let calls = Calls::default();
    let handler = {
        let calls = calls.clone();
        move |t: TimerRow| {
            calls.push(t.id);
            async { Ok(()) }
        }
    };
    let config = SchedulerConfig {
        concurrency: 1,
        ..quick()
    };
    let scheduler =
        Scheduler::new(s.store.clone(), Arc::new(clock.clone()), handler, config).spawn();
    eventually("all fired", || async { fired(&s.store).await == 30 }).await;
    assert_eq!(calls.all(), by_due);
    scheduler.abort();
}

// ---- faults ----

both!(timers_due_while_no_scheduler_ran_fire_once_after_a_restart);

/// Timers are scheduled, the server stops, their due time passes; a new
/// server (a new store over the same database) fires each once: one SMS
/// per timer in the outbox.
async fn timers_due_while_no_scheduler_ran_fire_once_after_a_restart(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let first = state(&db, &clock).await;
    let case_id = case(&first, "c1").await;
    let now = clock.now_ms();
    let mut ids = Vec::new();
    for i in 0..50i64 {
        let t = NewTimer {
            case_id: (i % 2 == 0).then_some(case_id),
            level: Some(i % 3),
            ..timer(&format!("r{i}"), "visit_reminder", now + (i + 1) * 60_000)
        };
        ids.push(first.store.schedule(&t).await.unwrap());
    }
    // A timer that is not due yet after the restart.
    let future = first
        .store
        .schedule(&timer("future", "digest", now + 24 * 3_600_000))
        .await
        .unwrap();
    first.store.close().await;
    drop(first);

    clock.advance(minutes(120));
    let second = state(&db, &clock).await;
    let calls = Calls::default();
    let scheduler = sms_scheduler(&second, &clock, &calls).spawn();
    eventually("every due timer fired", || async {
        fired(&second.store).await == 50
    })
    .await;
    one_sms_each(&second.store, &ids).await;
    let per_id = calls.per_id();
    assert_eq!(per_id.len(), 50);
    assert!(per_id.values().all(|&n| n == 1), "{per_id:?}");
    assert_eq!(state_of(&second.store, future).await, TimerState::Pending);
    scheduler.abort();
}

both!(a_killed_scheduler_s_timers_fire_after_their_lease_with_one_sms_each);

/// A scheduler is aborted while its handlers hang, holding every timer's
/// lease (half of them after queueing their SMS, as a server that dies
/// between the effect and the `fired` mark). A new scheduler on a new
/// store does not take them while the lease lasts, then fires them all:
/// the timers queued before are run twice, and still one SMS each.
async fn a_killed_scheduler_s_timers_fire_after_their_lease_with_one_sms_each(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let first = state(&db, &clock).await;
    let n = 20;
    let now = clock.now_ms();
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            first
                .store
                .schedule(&timer(&format!("k{i}"), "ack", now - i))
                .await
                .unwrap(),
        );
    }
    let hung = Calls::default();
    let handler = {
        let (state, hung) = (first.clone(), hung.clone());
        move |t: TimerRow| {
            let (state, hung) = (state.clone(), hung.clone());
            async move {
                if t.id % 2 == 0 {
                    enqueue(&state, t.id).await?;
                }
                hung.push(t.id);
                std::future::pending::<()>().await;
                Ok(())
            }
        }
    };
    let config = SchedulerConfig {
        concurrency: n as usize,
        ..quick()
    };
    let killed = Scheduler::new(
        first.store.clone(),
        Arc::new(clock.clone()),
        handler,
        config,
    )
    .spawn();
    eventually("every handler hangs", || async {
        hung.all().len() == n as usize
    })
    .await;
    for &id in &ids {
        let row = first.store.timer(id).await.unwrap().unwrap();
        assert_eq!(row.state, TimerState::Pending);
        assert_eq!(row.lease_until, Some(now + 60_000));
    }
    killed.abort();
    assert!(killed.await.unwrap_err().is_cancelled());

    // Another server, before the lease ends: a probe fires, the leased ones wait.
    let second = state(&db, &clock).await;
    let calls = Calls::default();
    let scheduler = sms_scheduler(&second, &clock, &calls).spawn();
    let probe = second
        .store
        .schedule(&timer("probe", "ack", now))
        .await
        .unwrap();
    eventually("the probe fired", || async {
        state_of(&second.store, probe).await == TimerState::Fired
    })
    .await;
    assert_eq!(calls.all(), [probe]);
    assert_eq!(count(&second.store, "pending").await, n);

    clock.advance(minutes(1));
    eventually("every timer fired", || async {
        fired(&second.store).await == n + 1
    })
    .await;
    let per_id = calls.per_id();
    assert!(
        ids.iter().all(|id| per_id.get(id) == Some(&1)),
        "{per_id:?}"
    );
    let mut all = ids.clone();
    all.push(probe);
    one_sms_each(&second.store, &all).await;
    scheduler.abort();
}

both!(two_schedulers_on_one_database_fire_each_timer_once);

/// Two servers (two stores on one database: on SQLite two stores on one
/// file, each with its own group-commit writer) run a scheduler each over
/// 300 due timers, claiming 20 at a time. The manual clock never reaches a
/// lease's end, so no timer may be claimed twice: each handler is called
/// exactly once per timer (across both schedulers), and the outbox holds
/// exactly one SMS per timer.
async fn two_schedulers_on_one_database_fire_each_timer_once(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let a = state(&db, &clock).await;
    let b = state(&db, &clock).await;
    let n = 300;
    let now = clock.now_ms();
    let mut ids = Vec::new();
    for i in 0..n {
        let s = if i % 2 == 0 { &a } else { &b };
        ids.push(
            s.store
                .schedule(&timer(&format!("t{i}"), "ack", now + i))
                .await
                .unwrap(),
        );
    }
    let (calls_a, calls_b) = (Calls::default(), Calls::default());
    let config = SchedulerConfig {
        batch: 20,
        ..quick()
    };
    let scheduler = |s: &AppState, calls: &Calls| {
        Scheduler::new(
            s.store.clone(),
            Arc::new(clock.clone()),
            SmsHandler {
                state: s.clone(),
                calls: calls.clone(),
            },
            config.clone(),
        )
        .spawn()
    };
    let workers = [scheduler(&a, &calls_a), scheduler(&b, &calls_b)];
    clock.advance(chrono::Duration::milliseconds(n));
    eventually("every timer fired", || async { fired(&a.store).await == n }).await;
    let mut per_id = calls_a.per_id();
    for (id, k) in calls_b.per_id() {
        *per_id.entry(id).or_default() += k;
    }
    assert_eq!(per_id.len(), n as usize);
    assert!(
        per_id.values().all(|&k| k == 1),
        "a timer ran twice: {:?}",
        per_id.iter().filter(|(_, &k)| k > 1).collect::<Vec<_>>()
    );
    one_sms_each(&a.store, &ids).await;
    assert_eq!(a.store.count(Table::Outbox).await.unwrap(), n);
    eprintln!(
        "scheduler a ran {}, b ran {}",
        calls_a.all().len(),
        calls_b.all().len()
    );
    for w in workers {
        w.abort();
    }
}

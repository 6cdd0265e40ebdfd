//! A case's lifecycle (its stages are `domain::Stage`): staff of the case's
//! own centre move it forward, each move on the case's timeline, and its
//! deadlines move with it; a case is read back whole, with its timeline and
//! deadlines.

use super::{deadlines::stage_changed, timers::DEADLINES, CaseWork};
use crate::{
    domain::{from_ms, CaseRef, Phone, Stage, StageChange},
    store::{
        CaseEvent, CaseRow, CaseSummary, NewEvent, StaffMember, Store, StoreError, TimerState,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("no case {0}")]
    NoCase(CaseRef),
    #[error("{0} is not a registered staff phone")]
    NotStaff(String),
    #[error("case {reference} belongs to another centre than {centre}")]
    OtherCentre { reference: CaseRef, centre: String },
    #[error("case {reference} is {from}: it cannot be {change}")]
    NotAllowed {
        reference: CaseRef,
        from: String,
        change: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a stage change did.
#[derive(Clone, Debug)]
pub struct Changed {
    pub case: CaseRow,
    pub staff: StaffMember,
    pub from: Stage,
    pub change: StageChange,
}

/// The stage change itself (see [`CaseWork::record_stage`]): the staff
/// member, the case, the centre and the move checked; the stage moved by
/// compare-and-set; the event recorded.
async fn change_stage(
    store: &Store,
    reference: &CaseRef,
    change: StageChange,
    by: &Phone,
    note: Option<String>,
    channel: &str,
    source_key: String,
) -> Result<Changed, CaseError> {
    let staff = store
        .staff_by_phone(by)
        .await?
        .ok_or_else(|| CaseError::NotStaff(by.redacted()))?;
    let case = store
        .case_row(reference)
        .await?
        .ok_or_else(|| CaseError::NoCase(reference.clone()))?;
    if case.centre_id != staff.centre_id {
        return Err(CaseError::OtherCentre {
            reference: reference.clone(),
            centre: staff.centre_code.clone(),
        });
    }
    let from = Stage::parse(&case.stage).unwrap_or(Stage::New);
    let refused = || CaseError::NotAllowed {
        reference: reference.clone(),
        from: case.stage.clone(),
        change: change.event(),
    };
    if !change.allowed_from(from) {
        return Err(refused());
    }
    let to = change.target();
    if to != from
        && !store
            .move_stage(case.id, from.as_str(), to.as_str())
            .await?
    {
        // Someone moved it meanwhile: judge again from where it is now.
        return Err(refused());
    }
    store
        .record_event(&NewEvent {
            case_id: case.id,
            kind: change.event(),
            actor: Some(format!("staff:{}", staff.id)),
            channel: Some(channel.to_string()),
            outcome: Some(to.as_str().to_string()),
            note,
            source_key,
        })
        .await?;
    Ok(Changed {
        case,
        staff,
        from,
        change,
    })
}

/// A case as `kanda cases show` gives it: its summary, its timeline
/// (registration, alerts, acknowledgements, escalations, visits, stage
/// changes) and its deadlines with their state.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: CaseSummary,
    pub timeline: Vec<CaseEvent>,
    pub deadlines: Vec<Deadline>,
}

/// A deadline of a case: `pending`, `met`, `missed` or `cancelled`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Deadline {
    pub kind: String,
    pub due_at: String,
    pub state: String,
    pub settled_at: Option<String>,
}

async fn view(store: &Store, reference: &CaseRef) -> Result<Option<CaseView>, StoreError> {
    let (Some(case), Some(row)) = (
        store.case_summary(reference).await?,
        store.case_row(reference).await?,
    ) else {
        return Ok(None);
    };
    let at = |ms: i64| from_ms(ms).to_rfc3339();
    let deadlines = store
        .timers_of_case(row.id)
        .await?
        .into_iter()
        .filter(|t| DEADLINES.contains(&t.kind.as_str()))
        .map(|t| Deadline {
            kind: t.kind,
            due_at: at(t.due_at),
            state: match t.state {
                TimerState::Fired => "missed".into(),
                s => s.as_str().into(),
            },
            settled_at: t.settled_at.or(t.fired_at).map(at),
        })
        .collect();
    Ok(Some(CaseView {
        case,
        timeline: store.case_events(reference).await?,
        deadlines,
    }))
}

impl CaseWork {
    /// Records `change` on a case by the staff member on `by`: only the
    /// case's own centre may, and only forward. Idempotent by `source_key`
    /// (an SMS's id, a command's run): the same change twice is one event.
    /// The case's deadlines move with it.
    pub async fn record_stage(
        &self,
        reference: &CaseRef,
        change: StageChange,
        by: &Phone,
        note: Option<String>,
        channel: &str,
        source_key: String,
    ) -> Result<Changed, CaseError> {
        let changed = change_stage(
            &self.store,
            reference,
            change,
            by,
            note,
            channel,
            source_key.clone(),
        )
        .await?;
        if let Err(e) = stage_changed(self, changed.case.id, change, &source_key).await {
            // The stage moved: an escalation or a reminder checks the stage
            // before it sends, so a timer left pending sends nothing wrong.
            tracing::error!(reference = %reference, error = %format!("{e:#}"), "timers not moved with the stage");
        }
        Ok(changed)
    }

    /// A case with its timeline and deadlines (`kanda cases show`);
    /// `None` when there is no such case.
    pub async fn view(&self, reference: &CaseRef) -> Result<Option<CaseView>, StoreError> {
        view(&self.store, reference).await
    }
}

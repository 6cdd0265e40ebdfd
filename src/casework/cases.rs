//! A case's lifecycle (its stages are `domain::Stage`): staff of the case's
//! own centre move it forward (or reopen it), each move on the case's
//! timeline, and its deadlines move with it; a case is read back whole, with its timeline and
//! deadlines.

use super::{deadlines::stage_changed, timers::DEADLINES, CaseWork};
use crate::{
    domain::{from_ms, Actor, CaseRef, Phone, Role, Scope, Stage, StageChange, CLOSE_REASONS},
    store::{
        CaseEvent, CaseRow, CaseSummary, NewEvent, StaffMember, Store, StoreError, TimerState,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// No such case, or none the actor may see: the two are one answer.
    #[error("no case {0}")]
    NoCase(CaseRef),
    #[error("{0} is not a registered staff phone")]
    NotStaff(String),
    #[error("case {reference} belongs to another centre than {centre}")]
    OtherCentre { reference: CaseRef, centre: String },
    /// The actor's role may not do this.
    #[error("a {0} may not do this")]
    Forbidden(Role),
    #[error("case {reference} is {from}: it cannot be {change}")]
    NotAllowed {
        reference: CaseRef,
        from: String,
        change: &'static str,
    },
    /// The request names something that is not one of the choices.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a stage change did.
#[derive(Clone, Debug)]
pub struct Changed {
    pub case: CaseRow,
    pub actor: Actor,
    pub from: Stage,
    pub change: StageChange,
}

/// The actor a staff member is.
pub fn staff_actor(staff: &StaffMember) -> Actor {
    Actor {
        label: staff.phone.as_str().to_string(),
        role: staff.role,
        scope: staff.centre_id.map_or(Scope::National, Scope::Centre),
        staff_id: Some(staff.id),
    }
}

/// The stage change itself (see [`CaseWork::record_stage_as`]): the role
/// and the move checked, the case found within the actor's scope, the stage
/// moved by compare-and-set, the event recorded. A close or a reopen
/// carries its reason (the event's outcome).
#[allow(clippy::too_many_arguments)]
async fn change_stage(
    store: &Store,
    actor: &Actor,
    reference: &CaseRef,
    change: StageChange,
    reason: Option<String>,
    note: Option<String>,
    channel: &str,
    source_key: String,
) -> Result<Changed, CaseError> {
    if !actor.role.works_cases() {
        return Err(CaseError::Forbidden(actor.role));
    }
    match (change, &reason) {
        (StageChange::Close, Some(r)) if !CLOSE_REASONS.contains(&r.as_str()) => {
            return Err(CaseError::Invalid(format!(
                "closing reason `{r}`: use {}",
                CLOSE_REASONS.join(", ")
            )))
        }
        (StageChange::Reopen, None) => {
            return Err(CaseError::Invalid(
                "a reopened case needs its reason".into(),
            ))
        }
        _ => {}
    }
    let no_case = || CaseError::NoCase(reference.clone());
    let (id, _) = store
        .owned_case(actor.scope, reference)
        .await?
        .ok_or_else(no_case)?;
    let case = store.case_row_by_id(id).await?.ok_or_else(no_case)?;
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
    let outcome = match change {
        StageChange::Close | StageChange::Reopen => reason.or(Some(to.as_str().to_string())),
        _ => Some(to.as_str().to_string()),
    };
    store
        .record_event(&NewEvent {
            case_id: case.id,
            kind: change.event(),
            actor: Some(actor.timeline_name()),
            channel: Some(channel.to_string()),
            outcome,
            note,
            source_key,
        })
        .await?;
    Ok(Changed {
        case,
        actor: actor.clone(),
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
        let staff = self
            .store
            .staff_by_phone(by)
            .await?
            .ok_or_else(|| CaseError::NotStaff(by.redacted()))?;
        let actor = staff_actor(&staff);
        match self
            .record_stage_as(&actor, reference, change, None, note, channel, source_key)
            .await
        {
            // Staff by phone are told it is another centre's case.
            Err(CaseError::NoCase(r)) if self.store.case_exists(&r).await? => {
                Err(CaseError::OtherCentre {
                    reference: r,
                    centre: staff.centre_code.unwrap_or_default(),
                })
            }
            other => other,
        }
    }

    /// Records `change` on a case by `actor` (a staff member signed in, or
    /// an API token): only within the actor's scope (otherwise the case is
    /// not found), only by a role that works cases, only forward (or a
    /// reopen of a closed case). A close names one of [`CLOSE_REASONS`]; a
    /// reopen its reason. Idempotent by `source_key`. The case's deadlines
    /// move with it.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_stage_as(
        &self,
        actor: &Actor,
        reference: &CaseRef,
        change: StageChange,
        reason: Option<String>,
        note: Option<String>,
        channel: &str,
        source_key: String,
    ) -> Result<Changed, CaseError> {
        let changed = change_stage(
            &self.store,
            actor,
            reference,
            change,
            reason,
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
        self.store.refresh_overdue(changed.case.id).await?;
        Ok(changed)
    }

    /// A case with its timeline and deadlines (`kanda cases show`);
    /// `None` when there is no such case.
    pub async fn view(&self, reference: &CaseRef) -> Result<Option<CaseView>, StoreError> {
        view(&self.store, reference).await
    }
}

//! A case's lifecycle, as case-management practice sets it: registered
//! (`new`), acknowledged and screened, assessed, a plan made (then reviewed
//! while open), closed. Staff move a case forward; each move is on the
//! case's timeline. Gateway- and SQL-free: storage goes through [`Store`].

use crate::{
    domain::{CaseRef, Phone},
    store::{CaseRow, NewEvent, StaffMember, Store, StoreError},
};

/// Where a case stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    New,
    Acknowledged,
    Assessed,
    Planned,
    Closed,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Acknowledged => "acknowledged",
            Stage::Assessed => "assessed",
            Stage::Planned => "planned",
            Stage::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Some(match s {
            "new" => Stage::New,
            "acknowledged" => Stage::Acknowledged,
            "assessed" => Stage::Assessed,
            "planned" => Stage::Planned,
            "closed" => Stage::Closed,
            _ => return None,
        })
    }
}

/// What a staff member records on a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageChange {
    /// Seen and screened for immediate danger (the first response).
    Acknowledge,
    /// The full assessment is done.
    Assess,
    /// The case plan is made.
    Plan,
    /// The plan was reviewed (the case stays planned).
    Review,
    Close,
}

impl StageChange {
    /// Reads the stage words of `kanda cases stage`.
    pub fn parse(s: &str) -> Result<StageChange, String> {
        Ok(match s {
            "acknowledged" | "ack" => StageChange::Acknowledge,
            "assessed" => StageChange::Assess,
            "planned" => StageChange::Plan,
            "reviewed" => StageChange::Review,
            "closed" => StageChange::Close,
            other => {
                return Err(format!(
                "`{other}` is not a stage: use acknowledged, assessed, planned, reviewed or closed"
            ))
            }
        })
    }

    pub fn target(self) -> Stage {
        match self {
            StageChange::Acknowledge => Stage::Acknowledged,
            StageChange::Assess => Stage::Assessed,
            StageChange::Plan | StageChange::Review => Stage::Planned,
            StageChange::Close => Stage::Closed,
        }
    }

    pub fn event(self) -> &'static str {
        match self {
            StageChange::Acknowledge => "acknowledged",
            StageChange::Assess => "assessed",
            StageChange::Plan => "planned",
            StageChange::Review => "reviewed",
            StageChange::Close => "closed",
        }
    }

    /// Whether a case at `from` may take this change: forward only (a step
    /// may be skipped: an assessment done at the first visit also
    /// acknowledges), a review only of a plan, nothing after closure.
    pub fn allowed_from(self, from: Stage) -> bool {
        match self {
            StageChange::Review => from == Stage::Planned,
            _ => from < self.target() && from != Stage::Closed,
        }
    }
}

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

/// Records `change` on a case by the staff member on `by`: only the case's
/// own centre may, and only forward. Idempotent by `source_key` (an SMS's
/// id, a command's run): the same change twice is one event.
pub async fn change_stage(
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
    pub case: crate::store::CaseSummary,
    pub timeline: Vec<crate::store::CaseEvent>,
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

pub async fn view(store: &Store, reference: &CaseRef) -> Result<Option<CaseView>, StoreError> {
    let (Some(case), Some(row)) = (
        store.case_summary(reference).await?,
        store.case_row(reference).await?,
    ) else {
        return Ok(None);
    };
    let at = |ms: i64| crate::clock::from_ms(ms).to_rfc3339();
    let deadlines = store
        .timers_of_case(row.id)
        .await?
        .into_iter()
        .filter(|t| crate::alerts::DEADLINES.contains(&t.kind.as_str()))
        .map(|t| Deadline {
            kind: t.kind,
            due_at: at(t.due_at),
            state: match t.state {
                crate::store::TimerState::Fired => "missed".into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_move_forward_only_and_a_review_needs_a_plan() {
        use Stage::*;
        use StageChange::*;
        assert!(Acknowledge.allowed_from(New));
        assert!(!Acknowledge.allowed_from(Acknowledged));
        assert!(Assess.allowed_from(New), "an assessment also acknowledges");
        assert!(!Assess.allowed_from(Planned));
        assert!(Review.allowed_from(Planned));
        assert!(!Review.allowed_from(Assessed));
        assert!(Close.allowed_from(Assessed));
        assert!(!Close.allowed_from(Closed));
        assert!(!Plan.allowed_from(Closed));
        for s in ["new", "acknowledged", "assessed", "planned", "closed"] {
            assert_eq!(Stage::parse(s).unwrap().as_str(), s);
        }
        assert!(StageChange::parse("done").is_err());
    }
}

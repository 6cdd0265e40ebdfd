//! Staff's case work beyond the stages, each within the actor's scope,
//! each on the case's timeline and in the audit log: a note, an
//! assignment to a caseworker of the centre, a transfer to another centre
//! (decided by the receiving centre's manager; until accepted the case
//! stays with the sender), a referral to a service and later its outcome,
//! and the follow-up volunteer with the visit interval. Also the reads that
//! are audited: a case viewed, a list viewed.

use super::{cases::CaseError, CaseWork};
use crate::{
    domain::{Actor, CaseRef, Phone, Scope, StageChange, REFERRAL_OUTCOMES, REFERRAL_SERVICES},
    store::{
        CaseDetail, CaseEvent, CaseFilter, CasePage, NewEvent, Referral, StoreError, Transfer,
    },
};

/// The longest note, reason or outcome text kept.
pub const MAX_TEXT: usize = 2000;

/// A piece of case work.
#[derive(Clone, Debug)]
pub enum Work {
    /// A stage change; a close names one of `CLOSE_REASONS`, a reopen a reason.
    Stage {
        change: StageChange,
        reason: Option<String>,
        note: Option<String>,
    },
    Note(String),
    /// Assign to a staff member (by row id) of the case's centre.
    Assign(i64),
    /// Ask another centre (by code) to take the case.
    Transfer {
        to_centre: String,
        reason: String,
    },
    /// The receiving centre decides a pending transfer.
    Decide {
        accept: bool,
        note: Option<String>,
    },
    Refer {
        service: String,
        note: Option<String>,
    },
    Outcome {
        referral: i64,
        outcome: String,
        note: Option<String>,
    },
    FollowUp {
        volunteer: Phone,
        interval_days: i64,
    },
}

impl Work {
    /// The audit log's name for it.
    pub fn action(&self) -> &'static str {
        match self {
            Work::Stage { .. } => "case_stage",
            Work::Note(_) => "case_note",
            Work::Assign(_) => "case_assign",
            Work::Transfer { .. } => "case_transfer",
            Work::Decide { accept: true, .. } => "transfer_accepted",
            Work::Decide { accept: false, .. } => "transfer_rejected",
            Work::Refer { .. } => "case_referral",
            Work::Outcome { .. } => "referral_outcome",
            Work::FollowUp { .. } => "case_follow_up",
        }
    }
}

/// A case page's whole content.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseFile {
    #[serde(flatten)]
    pub case: CaseDetail,
    pub timeline: Vec<CaseEvent>,
    pub deadlines: Vec<super::Deadline>,
    pub referrals: Vec<Referral>,
    pub transfer: Option<Transfer>,
}

fn text(s: &str, what: &str) -> Result<String, CaseError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(CaseError::Invalid(format!("{what} is empty")));
    }
    Ok(s.chars().take(MAX_TEXT).collect())
}

fn optional(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().chars().take(MAX_TEXT).collect::<String>())
        .filter(|s| !s.is_empty())
}

impl CaseWork {
    /// A page of the cases the actor's scope owns, the read in the audit
    /// log (`via`: `web` or `api`).
    pub async fn list_cases(
        &self,
        actor: &Actor,
        filter: &CaseFilter,
        page: u32,
        per_page: u32,
        via: &str,
        address: Option<String>,
    ) -> Result<CasePage, StoreError> {
        let cases = self
            .store
            .case_page(actor.scope, filter, page, per_page)
            .await?;
        self.audit(
            &actor.label,
            "cases_listed",
            None,
            address,
            Some(via.into()),
        )
        .await?;
        Ok(cases)
    }

    /// Transfers waiting for the actor's centre to decide.
    pub async fn transfers_waiting(&self, actor: &Actor) -> Result<Vec<Transfer>, StoreError> {
        match actor.scope {
            Scope::Centre(id) => self.store.transfers_to(id).await,
            Scope::National => Ok(Vec::new()),
        }
    }

    /// Who a case of the centre may be assigned to: (staff id, name).
    pub async fn assignable(&self, centre_id: i64) -> Result<Vec<(i64, String)>, StoreError> {
        self.store.case_workers(centre_id).await
    }

    /// The districts the actor's cases may be in: (code, name).
    pub async fn districts(&self, actor: &Actor) -> Result<Vec<(String, String)>, StoreError> {
        self.store.districts(actor.centre()).await
    }

    /// Every centre a case may be transferred to: (id, code, name).
    pub async fn centres(&self) -> Result<Vec<(i64, String, String)>, StoreError> {
        self.store.centres().await
    }

    /// A case in full, when the actor may read it, its read in the audit
    /// log (`via`: `web` or `api`). `None` for a case that does not exist
    /// and for one outside the actor's scope alike.
    pub async fn open_case(
        &self,
        actor: &Actor,
        reference: &CaseRef,
        via: &str,
        address: Option<String>,
    ) -> Result<Option<CaseFile>, CaseError> {
        let Some(case) = self.store.case_detail(actor.scope, reference).await? else {
            return Ok(None);
        };
        self.audit(
            &actor.label,
            "case_viewed",
            Some(case.id),
            address,
            Some(via.into()),
        )
        .await?;
        let view = self
            .view(reference)
            .await?
            .ok_or_else(|| CaseError::NoCase(reference.clone()))?;
        Ok(Some(CaseFile {
            referrals: self.store.referrals(case.id).await?,
            transfer: self.store.pending_transfer(case.id).await?,
            timeline: view.timeline,
            deadlines: view.deadlines,
            case,
        }))
    }

    /// Does `work` on a case as `actor`, once per `source_key` where the
    /// work makes a timeline event.
    pub async fn perform(
        &self,
        actor: &Actor,
        reference: &CaseRef,
        work: Work,
        via: &str,
        address: Option<String>,
        source_key: String,
    ) -> Result<(), CaseError> {
        if !actor.role.works_cases() {
            return Err(CaseError::Forbidden(actor.role));
        }
        let action = work.action();
        let event = |case_id: i64,
                     kind: &'static str,
                     outcome: Option<String>,
                     note: Option<String>| NewEvent {
            case_id,
            kind,
            actor: Some(actor.timeline_name()),
            channel: Some(via.to_string()),
            outcome,
            note,
            source_key: source_key.clone(),
        };
        let no_case = || CaseError::NoCase(reference.clone());
        // The case the actor's scope owns (every work but a transfer's decision).
        let owned = || async {
            let (case_id, _) = self
                .store
                .owned_case(actor.scope, reference)
                .await?
                .ok_or_else(no_case)?;
            Ok::<i64, CaseError>(case_id)
        };
        let staff_id = actor.staff_id;
        let (case_id, detail) = match work {
            // Deciding a transfer is the receiving centre's: the case is not
            // (yet) theirs to own.
            Work::Decide { accept, note } => {
                if !actor.role.manages() {
                    return Err(CaseError::Forbidden(actor.role));
                }
                let case = self
                    .store
                    .case_detail(actor.scope, reference)
                    .await?
                    .ok_or_else(no_case)?;
                let transfer = self.store.pending_transfer(case.id).await?;
                let Some(t) = transfer.filter(|t| match actor.scope {
                    Scope::Centre(id) => id == t.to_centre_id,
                    Scope::National => true,
                }) else {
                    return Err(CaseError::Invalid(
                        "no transfer to your centre is waiting on this case".into(),
                    ));
                };
                let staff = actor.staff_id.ok_or(CaseError::Forbidden(actor.role))?;
                let note = optional(note);
                let done = if accept {
                    self.store
                        .accept_transfer(t.id, t.to_centre_id, staff, note.clone())
                        .await?
                } else {
                    self.store
                        .reject_transfer(t.id, t.to_centre_id, staff, note.clone())
                        .await?
                };
                if !done {
                    return Err(CaseError::Invalid(
                        "the transfer was decided meanwhile".into(),
                    ));
                }
                let kind = if accept {
                    "transfer_accepted"
                } else {
                    "transfer_rejected"
                };
                self.store
                    .record_event(&event(case.id, kind, Some(t.to_centre.clone()), note))
                    .await?;
                (case.id, Some(t.to_centre))
            }
            Work::Stage {
                change,
                reason,
                note,
            } => {
                let changed = self
                    .record_stage_as(
                        actor,
                        reference,
                        change,
                        optional(reason),
                        optional(note),
                        via,
                        source_key.clone(),
                    )
                    .await?;
                (changed.case.id, Some(change.event().to_string()))
            }
            Work::Note(note) => {
                let case_id = owned().await?;
                let note = text(&note, "the note")?;
                self.store
                    .record_event(&event(case_id, "note", None, Some(note)))
                    .await?;
                (case_id, None)
            }
            Work::Assign(staff) => {
                let case_id = owned().await?;
                if !self.store.assign_case(case_id, staff).await? {
                    return Err(CaseError::Invalid(
                        "that person is not a caseworker of the case's centre".into(),
                    ));
                }
                let name = self.store.staff_by_id(staff).await?.map(|s| s.name);
                self.store
                    .record_event(&event(case_id, "assigned", name.clone(), None))
                    .await?;
                (case_id, Some(format!("staff:{staff}")))
            }
            Work::Transfer { to_centre, reason } => {
                let case_id = owned().await?;
                let reason = text(&reason, "the reason")?;
                let to = self.store.centre_id(&to_centre).await?.ok_or_else(|| {
                    CaseError::Invalid(format!("centre `{to_centre}` is unknown"))
                })?;
                let by = staff_id.ok_or(CaseError::Forbidden(actor.role))?;
                if !self
                    .store
                    .request_transfer(case_id, to, &reason, by)
                    .await?
                {
                    return Err(CaseError::Invalid(
                        "a transfer is already waiting, or that is the case's own centre".into(),
                    ));
                }
                self.store
                    .record_event(&event(
                        case_id,
                        "transfer_requested",
                        Some(to_centre.clone()),
                        Some(reason),
                    ))
                    .await?;
                (case_id, Some(to_centre))
            }
            Work::Refer { service, note } => {
                let case_id = owned().await?;
                if !REFERRAL_SERVICES.contains(&service.as_str()) {
                    return Err(CaseError::Invalid(format!(
                        "service `{service}`: use {}",
                        REFERRAL_SERVICES.join(", ")
                    )));
                }
                let by = staff_id.ok_or(CaseError::Forbidden(actor.role))?;
                let note = optional(note);
                self.store
                    .add_referral(case_id, &service, note.clone(), by)
                    .await?;
                self.store
                    .record_event(&event(case_id, "referred", Some(service.clone()), note))
                    .await?;
                (case_id, Some(service))
            }
            Work::Outcome {
                referral,
                outcome,
                note,
            } => {
                let case_id = owned().await?;
                if !REFERRAL_OUTCOMES.contains(&outcome.as_str()) {
                    return Err(CaseError::Invalid(format!(
                        "outcome `{outcome}`: use {}",
                        REFERRAL_OUTCOMES.join(", ")
                    )));
                }
                let note = optional(note);
                if !self
                    .store
                    .referral_outcome(case_id, referral, &outcome, note.clone())
                    .await?
                {
                    return Err(CaseError::Invalid("this case has no such referral".into()));
                }
                self.store
                    .record_event(&event(
                        case_id,
                        "referral_outcome",
                        Some(outcome.clone()),
                        note,
                    ))
                    .await?;
                (case_id, Some(outcome))
            }
            Work::FollowUp {
                volunteer,
                interval_days,
            } => {
                let case_id = owned().await?;
                if !(1..=90).contains(&interval_days) {
                    return Err(CaseError::Invalid(
                        "a visit interval is 1 to 90 days".into(),
                    ));
                }
                if !self
                    .store
                    .set_follow_up(case_id, volunteer.as_str(), interval_days)
                    .await?
                {
                    return Err(CaseError::Invalid(format!(
                        "{volunteer} is not a registered volunteer"
                    )));
                }
                self.store
                    .record_event(&event(
                        case_id,
                        "follow_up_set",
                        Some(format!("{interval_days}")),
                        None,
                    ))
                    .await?;
                if let Err(e) = super::deadlines::follow_up_set(self, case_id, &source_key).await {
                    tracing::error!(error = %format!("{e:#}"), "visit reminder not moved to the new interval");
                }
                (case_id, Some(format!("every {interval_days} days")))
            }
        };
        self.audit(&actor.label, action, Some(case_id), address, detail)
            .await?;
        Ok(())
    }
}

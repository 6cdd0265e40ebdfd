//! A case's stages, as case-management practice sets them: registered
//! (`new`), acknowledged and screened, assessed, a plan made (then
//! reviewed while open), closed; and the changes staff record.

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
    /// Every stage, in order.
    pub const ALL: [Stage; 5] = [
        Stage::New,
        Stage::Acknowledged,
        Stage::Assessed,
        Stage::Planned,
        Stage::Closed,
    ];

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
    /// A closed case opened again (with a reason): it needs a new assessment.
    Reopen,
}

/// Why a case is closed: one of these, as case-management practice lists
/// them.
pub const CLOSE_REASONS: [&str; 8] = [
    "plan_completed",
    "no_protection_concern",
    "reached_majority",
    "moved_away",
    "family_declined",
    "death",
    "duplicate",
    "other",
];

/// The services a case may be referred to.
pub const REFERRAL_SERVICES: [&str; 6] = [
    "health",
    "education",
    "legal_aid",
    "social_protection",
    "psychosocial",
    "other",
];

/// What came of a referral.
pub const REFERRAL_OUTCOMES: [&str; 4] = ["accepted", "declined", "completed", "no_response"];

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
            StageChange::Reopen => Stage::Acknowledged,
        }
    }

    pub fn event(self) -> &'static str {
        match self {
            StageChange::Acknowledge => "acknowledged",
            StageChange::Assess => "assessed",
            StageChange::Plan => "planned",
            StageChange::Review => "reviewed",
            StageChange::Close => "closed",
            StageChange::Reopen => "reopened",
        }
    }

    /// Whether a case at `from` may take this change: forward only (a step
    /// may be skipped: an assessment done at the first visit also
    /// acknowledges), a review only of a plan, nothing after closure.
    pub fn allowed_from(self, from: Stage) -> bool {
        match self {
            StageChange::Review => from == Stage::Planned,
            StageChange::Reopen => from == Stage::Closed,
            _ => from < self.target() && from != Stage::Closed,
        }
    }
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
        assert!(Reopen.allowed_from(Closed) && !Reopen.allowed_from(Planned));
        for s in ["new", "acknowledged", "assessed", "planned", "closed"] {
            assert_eq!(Stage::parse(s).unwrap().as_str(), s);
        }
        assert!(StageChange::parse("done").is_err());
        assert_eq!(
            Stage::ALL.map(Stage::as_str),
            ["new", "acknowledged", "assessed", "planned", "closed"]
        );
    }
}

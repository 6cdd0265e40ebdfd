//! Who a staff member or an API token is: a role, and for a centre's roles
//! the centre. The role says what may be done; the scope says which cases
//! can be seen at all.

use std::fmt;

/// A staff member's (or an API token's) role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works the cases of their centre.
    Caseworker,
    /// Their centre's cases, and its staff, rota, chain and volunteers.
    Manager,
    /// Reads their centre's cases; changes nothing.
    Committee,
    /// National: every centre, reference data, accounts.
    Admin,
    /// Reads everything, and the audit log; changes nothing.
    Auditor,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("role `{0}`: use caseworker, manager, committee, admin or auditor")]
pub struct RoleError(pub String);

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Caseworker,
        Role::Manager,
        Role::Committee,
        Role::Admin,
        Role::Auditor,
    ];

    pub fn parse(s: &str) -> Result<Role, RoleError> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "caseworker" => Role::Caseworker,
            "manager" => Role::Manager,
            "committee" => Role::Committee,
            "admin" => Role::Admin,
            "auditor" => Role::Auditor,
            _ => return Err(RoleError(s.to_string())),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Caseworker => "caseworker",
            Role::Manager => "manager",
            Role::Committee => "committee",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    /// National roles belong to no centre; every other role to one.
    pub fn is_national(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }

    /// May record on cases (stage, notes, transfers, referrals...).
    pub fn works_cases(self) -> bool {
        matches!(self, Role::Caseworker | Role::Manager | Role::Admin)
    }

    /// May manage a centre's staff, rota, chain and volunteers, and accept
    /// or reject a transfer into it.
    pub fn manages(self) -> bool {
        matches!(self, Role::Manager | Role::Admin)
    }

    /// May read the audit log.
    pub fn reads_audit(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which cases someone may see: one centre's (by row id), or every case.
/// Queries take it and put it in their `WHERE`; nothing is read and then
/// filtered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Centre(i64),
    National,
}

/// Who is acting, as the audit log and the case work need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The audit log's name: the staff member's phone (E.164) or `token:NAME`.
    pub label: String,
    pub role: Role,
    pub scope: Scope,
    /// The staff member, when a person (not a token) acts.
    pub staff_id: Option<i64>,
}

impl Actor {
    /// How the case timeline names the actor: `staff:ID` or `token:NAME`.
    pub fn timeline_name(&self) -> String {
        match self.staff_id {
            Some(id) => format!("staff:{id}"),
            None => self.label.clone(),
        }
    }

    /// The centre, for a centre's role.
    pub fn centre(&self) -> Option<i64> {
        match self.scope {
            Scope::Centre(id) => Some(id),
            Scope::National => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_and_say_what_they_may_do() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert_eq!(Role::parse(" Manager "), Ok(Role::Manager));
        assert!(Role::parse("boss").is_err());
        assert!(Role::Admin.is_national() && Role::Auditor.is_national());
        assert!(!Role::Committee.works_cases() && !Role::Auditor.works_cases());
        assert!(Role::Manager.manages() && !Role::Caseworker.manages());
        assert!(Role::Auditor.reads_audit() && !Role::Manager.reads_audit());
    }
}

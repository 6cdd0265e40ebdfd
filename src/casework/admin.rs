//! A centre's people and who it alerts, as its managers (their own centre)
//! and the administrators (any centre) keep them from the staff pages:
//! staff and volunteers listed, added one at a time and deactivated; the
//! rota and the escalation chain listed; all four imported from CSV by the
//! importer `kanda import` uses, with its line-numbered errors. A manager's
//! import is held to their centre by the importer itself. Every read and
//! change is in the audit log.
//!
//! The importer is a channel's and the case work names no channel: it
//! reaches it through [`CsvImport`], which the app implements over
//! `channels::import::Importer` and hands to the staff side.

use std::{fmt, future::Future, pin::Pin};

use super::CaseWork;
use crate::{
    domain::{Actor, Locale, Phone, Role, Scope},
    store::{Contact, RotaEntry, StaffListing, StoreError, VolunteerListing},
};

/// A CSV the staff pages import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sheet {
    Staff,
    Rota,
    Chain,
    Volunteers,
}

impl Sheet {
    pub fn as_str(self) -> &'static str {
        match self {
            Sheet::Staff => "staff",
            Sheet::Rota => "rota",
            Sheet::Chain => "chain",
            Sheet::Volunteers => "volunteers",
        }
    }

    /// The audit log's name for an import of it.
    fn imported(self) -> &'static str {
        match self {
            Sheet::Staff => "staff_imported",
            Sheet::Rota => "rota_imported",
            Sheet::Chain => "chain_imported",
            Sheet::Volunteers => "volunteers_imported",
        }
    }
}

/// A row the importer refused: its line in the CSV (the header is line 1)
/// and why, as `kanda import` says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    pub line: u64,
    pub message: String,
}

/// What an import came to: every row stored, or none and the reasons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imported {
    Rows(usize),
    Refused(Vec<RowProblem>),
}

/// The future an import returns.
pub type ImportFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<Imported>> + Send + 'a>>;

/// The CSV importer, as the case work asks for it (the app implements it
/// with the channels' importer, the one `kanda import` runs).
pub trait CsvImport: Send + Sync + fmt::Debug {
    /// The columns a sheet's header names.
    fn columns(&self, sheet: Sheet) -> &'static [&'static str];

    /// Imports `csv` all or nothing; with `only_centre` (a centre's code)
    /// a row of any other centre is refused on its line.
    fn import<'a>(
        &'a self,
        sheet: Sheet,
        file: &'a str,
        csv: &'a str,
        only_centre: Option<&'a str>,
    ) -> ImportFuture<'a>;
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("a {0} does not manage a centre's people")]
    Forbidden(Role),
    /// No such person or centre within the actor's scope (another centre's
    /// is not found, exactly as one that does not exist).
    #[error("not found")]
    NotFound,
    /// A staff member may not deactivate themselves.
    #[error("you cannot deactivate your own account")]
    Yourself,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("import: {0}")]
    Import(anyhow::Error),
}

/// One staff member to add (or, for a phone already of the centre, to
/// update and make active again).
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub phone: Phone,
    pub name: String,
    pub role: Role,
    /// `None` for a national role; a manager's own centre is always theirs.
    pub centre_code: Option<String>,
    pub locale: Locale,
}

/// One volunteer to add (or to update and make active again).
#[derive(Clone, Debug)]
pub struct NewVolunteer {
    pub phone: Phone,
    pub name: String,
    pub locale: Locale,
    pub village_code: String,
}

/// A centre as the pages choose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CentreRef {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// One CSV row of `fields`, under the header `columns` (for the forms
/// that add one person through the importer).
fn one_row(columns: &[&str], fields: &[&str]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = w.write_record(columns);
    let _ = w.write_record(fields);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

impl CaseWork {
    fn may_manage(actor: &Actor) -> Result<(), AdminError> {
        if actor.role.manages() {
            Ok(())
        } else {
            Err(AdminError::Forbidden(actor.role))
        }
    }

    /// The centre a page is about: a manager's own (asking for another is
    /// [`AdminError::NotFound`]); for an administrator the one asked for by
    /// code, or `None`: every centre.
    pub async fn managed_centre(
        &self,
        actor: &Actor,
        asked: Option<&str>,
    ) -> Result<Option<CentreRef>, AdminError> {
        Self::may_manage(actor)?;
        let centres = self.store.centres().await?;
        let found = match (actor.scope, asked) {
            (Scope::Centre(own), asked) => centres
                .into_iter()
                .find(|(id, code, _)| *id == own && asked.is_none_or(|a| a == code))
                .ok_or(AdminError::NotFound)?,
            (Scope::National, None) => return Ok(None),
            (Scope::National, Some(asked)) => centres
                .into_iter()
                .find(|(_, code, _)| code == asked)
                .ok_or(AdminError::NotFound)?,
        };
        Ok(Some(CentreRef {
            id: found.0,
            code: found.1,
            name: found.2,
        }))
    }

    /// Every centre, for an administrator's choice of one.
    pub async fn centre_choices(&self) -> Result<Vec<CentreRef>, StoreError> {
        Ok(self
            .store
            .centres()
            .await?
            .into_iter()
            .map(|(id, code, name)| CentreRef { id, code, name })
            .collect())
    }

    /// The centre's staff, or every staff member (`None`, an
    /// administrator's), active or not; the read in the audit log.
    pub async fn staff_of(
        &self,
        actor: &Actor,
        centre: Option<&CentreRef>,
        address: Option<String>,
    ) -> Result<Vec<StaffListing>, AdminError> {
        Self::may_manage(actor)?;
        let rows = self.store.staff_listing(centre.map(|c| c.id)).await?;
        self.audit(
            &actor.label,
            "staff_listed",
            None,
            address,
            Some(scope_detail(centre)),
        )
        .await?;
        Ok(rows)
    }

    /// The centre's volunteers, or every volunteer; the read in the audit log.
    pub async fn volunteers_of(
        &self,
        actor: &Actor,
        centre: Option<&CentreRef>,
        address: Option<String>,
    ) -> Result<Vec<VolunteerListing>, AdminError> {
        Self::may_manage(actor)?;
        let rows = self.store.volunteer_listing(centre.map(|c| c.id)).await?;
        self.audit(
            &actor.label,
            "volunteers_listed",
            None,
            address,
            Some(scope_detail(centre)),
        )
        .await?;
        Ok(rows)
    }

    /// Each centre's rota (of active staff): the one given, or every
    /// centre's; the read in the audit log.
    pub async fn rotas_of(
        &self,
        actor: &Actor,
        centre: Option<&CentreRef>,
        address: Option<String>,
    ) -> Result<Vec<(CentreRef, Vec<RotaEntry>)>, AdminError> {
        Self::may_manage(actor)?;
        let mut out = Vec::new();
        for c in self.centres_for(centre).await? {
            let rota = self.store.rota(c.id).await?;
            out.push((c, rota));
        }
        self.audit(
            &actor.label,
            "rota_viewed",
            None,
            address,
            Some(scope_detail(centre)),
        )
        .await?;
        Ok(out)
    }

    /// Each centre's escalation chain (of active staff), by level; the
    /// read in the audit log.
    pub async fn chains_of(
        &self,
        actor: &Actor,
        centre: Option<&CentreRef>,
        address: Option<String>,
    ) -> Result<Vec<(CentreRef, Vec<(i64, Contact)>)>, AdminError> {
        Self::may_manage(actor)?;
        let mut out = Vec::new();
        for c in self.centres_for(centre).await? {
            let chain = self.store.escalation_chain(c.id).await?;
            out.push((c, chain));
        }
        self.audit(
            &actor.label,
            "chain_viewed",
            None,
            address,
            Some(scope_detail(centre)),
        )
        .await?;
        Ok(out)
    }

    async fn centres_for(&self, centre: Option<&CentreRef>) -> Result<Vec<CentreRef>, StoreError> {
        match centre {
            Some(c) => Ok(vec![c.clone()]),
            None => self.centre_choices().await,
        }
    }

    /// The code a manager's imports are held to; `None` for an administrator.
    async fn import_centre(&self, actor: &Actor) -> Result<Option<String>, AdminError> {
        match actor.scope {
            Scope::National => Ok(None),
            Scope::Centre(_) => Ok(self.managed_centre(actor, None).await?.map(|c| c.code)),
        }
    }

    /// Imports a CSV sheet through the importer, all or nothing; a
    /// manager's rows must all be their centre's. The import is in the
    /// audit log.
    pub async fn import_sheet(
        &self,
        actor: &Actor,
        importer: &dyn CsvImport,
        sheet: Sheet,
        csv: &str,
        address: Option<String>,
    ) -> Result<Imported, AdminError> {
        Self::may_manage(actor)?;
        let only = self.import_centre(actor).await?;
        let file = format!("{}.csv", sheet.as_str());
        let outcome = importer
            .import(sheet, &file, csv, only.as_deref())
            .await
            .map_err(AdminError::Import)?;
        if let Imported::Rows(n) = &outcome {
            self.audit(
                &actor.label,
                sheet.imported(),
                None,
                address,
                Some(format!("{n} rows")),
            )
            .await?;
        }
        Ok(outcome)
    }

    /// Adds one staff member (a phone already of the scope's centre is
    /// updated and made active again), through the importer's own checks;
    /// in the audit log. A manager adds to their own centre only.
    pub async fn add_staff(
        &self,
        actor: &Actor,
        importer: &dyn CsvImport,
        new: NewStaff,
        address: Option<String>,
    ) -> Result<Imported, AdminError> {
        Self::may_manage(actor)?;
        let only = self.import_centre(actor).await?;
        let centre = only.clone().or(new.centre_code.clone()).unwrap_or_default();
        let csv = one_row(
            importer.columns(Sheet::Staff),
            &[
                new.phone.as_str(),
                &new.name,
                new.role.as_str(),
                &centre,
                new.locale.as_str(),
            ],
        );
        let outcome = importer
            .import(Sheet::Staff, "form", &csv, only.as_deref())
            .await
            .map_err(AdminError::Import)?;
        if let Imported::Rows(_) = outcome {
            let detail = format!(
                "{} {} {}",
                new.phone,
                new.role,
                if centre.is_empty() {
                    "national"
                } else {
                    &centre
                }
            );
            self.audit(&actor.label, "staff_added", None, address, Some(detail))
                .await?;
        }
        Ok(outcome)
    }

    /// Deactivates a staff member of the actor's scope: they can no longer
    /// sign in, their sessions end, and they are no longer alerted. In the
    /// audit log. Another centre's staff member is not found.
    pub async fn deactivate_staff(
        &self,
        actor: &Actor,
        staff_id: i64,
        address: Option<String>,
    ) -> Result<StaffListing, AdminError> {
        Self::may_manage(actor)?;
        let entry = self
            .store
            .staff_entry(actor.scope, staff_id)
            .await?
            .ok_or(AdminError::NotFound)?;
        if actor.staff_id == Some(staff_id) {
            return Err(AdminError::Yourself);
        }
        if self.store.deactivate_staff(actor.scope, staff_id).await? {
            let detail = format!("staff:{staff_id} {}", entry.phone);
            self.audit(
                &actor.label,
                "staff_deactivated",
                None,
                address,
                Some(detail),
            )
            .await?;
        }
        Ok(entry)
    }

    /// Adds one volunteer (a phone already of the centre is updated and
    /// made active again) through the importer's checks; in the audit log.
    pub async fn add_volunteer(
        &self,
        actor: &Actor,
        importer: &dyn CsvImport,
        new: NewVolunteer,
        address: Option<String>,
    ) -> Result<Imported, AdminError> {
        Self::may_manage(actor)?;
        let only = self.import_centre(actor).await?;
        let csv = one_row(
            importer.columns(Sheet::Volunteers),
            &[
                new.phone.as_str(),
                &new.name,
                new.locale.as_str(),
                &new.village_code,
            ],
        );
        let outcome = importer
            .import(Sheet::Volunteers, "form", &csv, only.as_deref())
            .await
            .map_err(AdminError::Import)?;
        if let Imported::Rows(_) = outcome {
            let detail = format!("{} {}", new.phone, new.village_code);
            self.audit(&actor.label, "volunteer_added", None, address, Some(detail))
                .await?;
        }
        Ok(outcome)
    }

    /// Deactivates a volunteer of the actor's scope: USSD and SMS no
    /// longer know them as a volunteer. In the audit log.
    pub async fn deactivate_volunteer(
        &self,
        actor: &Actor,
        volunteer_id: i64,
        address: Option<String>,
    ) -> Result<VolunteerListing, AdminError> {
        Self::may_manage(actor)?;
        let entry = self
            .store
            .volunteer_entry(actor.scope, volunteer_id)
            .await?
            .ok_or(AdminError::NotFound)?;
        if self
            .store
            .deactivate_volunteer(actor.scope, volunteer_id)
            .await?
        {
            let detail = format!("volunteer:{volunteer_id} {}", entry.phone);
            self.audit(
                &actor.label,
                "volunteer_deactivated",
                None,
                address,
                Some(detail),
            )
            .await?;
        }
        Ok(entry)
    }
}

/// The audit detail naming what a read covered.
fn scope_detail(centre: Option<&CentreRef>) -> String {
    centre.map_or_else(|| "all centres".into(), |c| c.code.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_quotes_what_needs_it() {
        assert_eq!(
            one_row(&["phone", "name"], &["+250788000009", "Uwase, Jeanne"]),
            "phone,name\n+250788000009,\"Uwase, Jeanne\"\n"
        );
    }
}

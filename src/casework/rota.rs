//! Who is on duty: the centre's rota at a local moment (in the
//! deployment's `KANDA_TIMEZONE`), its fallback contacts out of hours, and
//! for a centre with no rota its caseworkers, then its managers.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::CaseWork;
use crate::store::{Contact, Store, StoreError};

/// Who receives the centre's alerts at a local moment (in the
/// deployment's `KANDA_TIMEZONE`): everyone whose rota row covers it;
/// when no row does, the centre's fallback contacts. Never empty for a
/// centre with a rota (the import insists on a fallback contact).
///
/// A centre with no rota at all falls back to its caseworkers, and
/// when it has none, its managers; empty only for a centre with neither.
/// Each person comes once, in rota order (staff order for the fallbacks
/// by role).
pub async fn on_duty(
    store: &Store,
    centre_id: i64,
    at_local: NaiveDateTime,
) -> Result<Vec<Contact>, StoreError> {
    let rota = store.rota(centre_id).await?;
    if rota.is_empty() {
        let caseworkers = store.staff_with_role(centre_id, "caseworker").await?;
        if !caseworkers.is_empty() {
            return Ok(caseworkers);
        }
        return store.centre_managers(centre_id).await;
    }
    let covering = distinct(
        rota.iter()
            .filter(|e| e.hours.covers(e.days, at_local))
            .map(|e| e.contact.clone()),
    );
    if !covering.is_empty() {
        return Ok(covering);
    }
    Ok(distinct(
        rota.into_iter().filter(|e| e.fallback).map(|e| e.contact),
    ))
}

/// [`on_duty`] at an instant, read in the time zone `tz`.
pub async fn on_duty_at(
    store: &Store,
    centre_id: i64,
    tz: chrono_tz::Tz,
    utc: DateTime<Utc>,
) -> Result<Vec<Contact>, StoreError> {
    on_duty(store, centre_id, utc.with_timezone(&tz).naive_local()).await
}

/// Keeps the first of each staff member, in order.
fn distinct(contacts: impl IntoIterator<Item = Contact>) -> Vec<Contact> {
    let mut seen = std::collections::HashSet::new();
    contacts
        .into_iter()
        .filter(|c| seen.insert(c.staff_id))
        .collect()
}

impl CaseWork {
    /// Who receives the centre's alerts at the instant `utc`, in the
    /// deployment's time zone.
    pub async fn on_duty(
        &self,
        centre_id: i64,
        utc: DateTime<Utc>,
    ) -> Result<Vec<Contact>, StoreError> {
        on_duty_at(&self.store, centre_id, self.settings.timezone, utc).await
    }
}

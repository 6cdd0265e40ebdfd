//! The engine's port: the data and effects flows need, implemented once,
//! by the app, over the case work and the store.

use crate::domain::{CaseRef, Locale, NewCase, NewVisit, Place};

pub type BackendResult<T> = Result<T, anyhow::Error>;

/// Data and effects the flows need. Each effect must be idempotent by its
/// `source_key`: the same key twice has its effect once.
#[allow(async_fn_in_trait)]
pub trait Backend {
    async fn places(&self, parent: Option<i64>) -> BackendResult<Vec<Place>>;
    /// The place with this code (compared without case) at this depth
    /// (1 province ... 4 village).
    async fn place_by_code(&self, code: &str, level: usize) -> BackendResult<Option<Place>>;
    async fn recent_reports(
        &self,
        volunteer_id: i64,
        limit: u32,
    ) -> BackendResult<Vec<(CaseRef, String)>>;
    async fn case_exists(&self, reference: &CaseRef) -> BackendResult<bool>;
    async fn create_case(&self, case: NewCase) -> BackendResult<CaseRef>;
    async fn log_visit(&self, visit: NewVisit) -> BackendResult<()>;
    async fn save_locale(&self, volunteer_id: i64, locale: &Locale) -> BackendResult<()>;
}

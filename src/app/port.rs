//! The engine's port, implemented once: what flows read comes from the
//! store, what they do goes through the case work (a new case is alerted,
//! a visit moves the case's timers).

use crate::{
    casework::CaseWork,
    domain::{CaseRef, Locale, NewCase, NewVisit, Place},
    engine::{Backend, BackendResult},
};

impl Backend for CaseWork {
    async fn places(&self, parent: Option<i64>) -> BackendResult<Vec<Place>> {
        Ok(self.store.children(parent).await?)
    }

    async fn place_by_code(&self, code: &str, level: usize) -> BackendResult<Option<Place>> {
        Ok(self.store.place_by_code(code, level as i64).await?)
    }

    async fn recent_reports(
        &self,
        volunteer_id: i64,
        limit: u32,
    ) -> BackendResult<Vec<(CaseRef, String)>> {
        Ok(self.store.recent_reports(volunteer_id, limit).await?)
    }

    async fn case_exists(&self, reference: &CaseRef) -> BackendResult<bool> {
        Ok(self.store.case_exists(reference).await?)
    }

    async fn create_case(&self, case: NewCase) -> BackendResult<CaseRef> {
        Ok(self.register_case(&case).await?)
    }

    async fn log_visit(&self, visit: NewVisit) -> BackendResult<()> {
        Ok(CaseWork::log_visit(self, &visit).await?)
    }

    async fn save_locale(&self, volunteer_id: i64, locale: &Locale) -> BackendResult<()> {
        Ok(self
            .store
            .set_volunteer_locale(volunteer_id, locale)
            .await?)
    }
}

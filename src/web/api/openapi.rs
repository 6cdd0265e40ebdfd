//! `GET /api/v1/openapi.json`: the API's OpenAPI 3.1 document, generated
//! from the handlers' annotations (utoipa), so it cannot drift from them.

use axum::Json;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use super::{audit, cases, indicators};
use crate::web::error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kanda API",
        description = "Child-protection cases, for integrators. Bearer tokens come from `kanda token issue`; a token sees its centre's cases (or every case, for national roles), and every read is in the audit log.",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(cases::list, cases::show, cases::stage, cases::note, audit::list, indicators::get),
    components(schemas(
        ApiError,
        cases::CaseList,
        cases::CaseOut,
        cases::CaseDetailOut,
        cases::EventOut,
        cases::DeadlineOut,
        cases::ReferralOut,
        cases::TransferOut,
        cases::StageIn,
        cases::NoteIn,
        cases::Changed,
        audit::AuditList,
        audit::AuditOut,
        indicators::IndicatorsOut,
        indicators::IndicatorTable,
        indicators::IndicatorRow,
    )),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

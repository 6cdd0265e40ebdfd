//! `GET /rota` and `GET /chain`: who a centre alerts, by day and hours,
//! and who next when no one acknowledges, level by level (a manager's own
//! centre; an administrator's every centre, or one chosen); each replaced
//! by a CSV import (`POST /rota/import`, `POST /chain/import`) through the
//! importer `kanda import` runs, with its line-numbered errors. CSRF on
//! both forms; imports in the audit log.

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
    Form,
};

use super::{
    admin::{
        admin_error, centre_of, imported, managers_only, status_of, Feedback, ImportBox,
        ImportForm, PeopleQuery,
    },
    render_status, Nav,
};
use crate::{
    casework::admin::{CentreRef, Sheet},
    domain::Scope,
    store::{Contact, RotaEntry},
    web::{error::PageError, session::SignedIn, words::Words, Web},
};

#[derive(askama::Template)]
#[template(path = "rota.html")]
struct RotaPage<'a> {
    w: &'a Words,
    csrf: &'a str,
    staff_name: &'a str,
    nav: Nav,
    national: bool,
    centre: Option<CentreRef>,
    centres: Vec<CentreRef>,
    rotas: Vec<(CentreRef, Vec<RotaEntry>)>,
    fb: Feedback,
    import: ImportBox,
}

#[derive(askama::Template)]
#[template(path = "chain.html")]
struct ChainPage<'a> {
    w: &'a Words,
    csrf: &'a str,
    staff_name: &'a str,
    nav: Nav,
    national: bool,
    centre: Option<CentreRef>,
    centres: Vec<CentreRef>,
    chains: Vec<(CentreRef, Vec<(i64, Contact)>)>,
    fb: Feedback,
    import: ImportBox,
}

async fn rota_page(
    web: &Web,
    staff: &SignedIn,
    asked: Option<&str>,
    fb: Feedback,
    csv: String,
) -> Result<Response, PageError> {
    let w = &staff.words;
    let centre = centre_of(web, staff, asked).await?;
    let national = staff.actor.scope == Scope::National;
    let rotas = web
        .work
        .rotas_of(&staff.actor, centre.as_ref(), staff.address.clone())
        .await
        .map_err(|e| admin_error(w, e))?;
    let centres = if national {
        web.work
            .centre_choices()
            .await
            .map_err(|e| PageError::internal(w, e))?
    } else {
        Vec::new()
    };
    let status = status_of(&fb);
    let view = RotaPage {
        w,
        csrf: staff.csrf(),
        staff_name: &staff.session.staff.name,
        nav: Nav::of(staff),
        national,
        centre,
        centres,
        rotas,
        fb,
        import: ImportBox::new(
            &*web.importer,
            Sheet::Rota,
            "/rota/import",
            "web-import-rota-note",
        )
        .with_csv(csv),
    };
    render_status(&view, w, status)
}

async fn chain_page(
    web: &Web,
    staff: &SignedIn,
    asked: Option<&str>,
    fb: Feedback,
    csv: String,
) -> Result<Response, PageError> {
    let w = &staff.words;
    let centre = centre_of(web, staff, asked).await?;
    let national = staff.actor.scope == Scope::National;
    let chains = web
        .work
        .chains_of(&staff.actor, centre.as_ref(), staff.address.clone())
        .await
        .map_err(|e| admin_error(w, e))?;
    let centres = if national {
        web.work
            .centre_choices()
            .await
            .map_err(|e| PageError::internal(w, e))?
    } else {
        Vec::new()
    };
    let status = status_of(&fb);
    let view = ChainPage {
        w,
        csrf: staff.csrf(),
        staff_name: &staff.session.staff.name,
        nav: Nav::of(staff),
        national,
        centre,
        centres,
        chains,
        fb,
        import: ImportBox::new(
            &*web.importer,
            Sheet::Chain,
            "/chain/import",
            "web-import-chain-note",
        )
        .with_csv(csv),
    };
    render_status(&view, w, status)
}

pub async fn rota(
    State(web): State<Web>,
    staff: SignedIn,
    Query(q): Query<PeopleQuery>,
) -> Result<Response, PageError> {
    managers_only(&staff)?;
    let fb = Feedback::done(&staff.words, &q);
    rota_page(&web, &staff, q.centre(), fb, String::new()).await
}

pub async fn chain(
    State(web): State<Web>,
    staff: SignedIn,
    Query(q): Query<PeopleQuery>,
) -> Result<Response, PageError> {
    managers_only(&staff)?;
    let fb = Feedback::done(&staff.words, &q);
    chain_page(&web, &staff, q.centre(), fb, String::new()).await
}

pub async fn import_rota(
    State(web): State<Web>,
    staff: SignedIn,
    Form(f): Form<ImportForm>,
) -> Result<Response, PageError> {
    staff.check_csrf(&f.csrf)?;
    managers_only(&staff)?;
    let w = &staff.words;
    let outcome = web
        .work
        .import_sheet(
            &staff.actor,
            &*web.importer,
            Sheet::Rota,
            &f.csv,
            staff.address.clone(),
        )
        .await
        .map_err(|e| admin_error(w, e))?;
    match imported(w, outcome, "/rota", f.centre.as_deref()) {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(fb) => rota_page(&web, &staff, f.centre.as_deref(), fb, f.csv).await,
    }
}

pub async fn import_chain(
    State(web): State<Web>,
    staff: SignedIn,
    Form(f): Form<ImportForm>,
) -> Result<Response, PageError> {
    staff.check_csrf(&f.csrf)?;
    managers_only(&staff)?;
    let w = &staff.words;
    let outcome = web
        .work
        .import_sheet(
            &staff.actor,
            &*web.importer,
            Sheet::Chain,
            &f.csv,
            staff.address.clone(),
        )
        .await
        .map_err(|e| admin_error(w, e))?;
    match imported(w, outcome, "/chain", f.centre.as_deref()) {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(fb) => chain_page(&web, &staff, f.centre.as_deref(), fb, f.csv).await,
    }
}

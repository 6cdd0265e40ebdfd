//! `GET /volunteers`: a centre's volunteers (those whose village is in its
//! province; an administrator's every volunteer, or one centre's), each
//! active one with a deactivate button (`POST /volunteers/{id}/deactivate`:
//! USSD and SMS no longer know them as a volunteer); a form to add one
//! (`POST /volunteers`) and a CSV import (`POST /volunteers/import`), both
//! through the importer `kanda import` runs. CSRF on every form; every
//! change in the audit log.

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    Form,
};

use super::{
    admin::{
        admin_error, back_to, centre_of, imported, managers_only, status_of, ButtonForm, Feedback,
        ImportBox, ImportForm, PeopleQuery,
    },
    render_status, Nav,
};
use crate::{
    casework::admin::{CentreRef, Imported, NewVolunteer, Sheet},
    domain::{Locale, Phone, Scope},
    store::VolunteerListing,
    web::{error::PageError, session::SignedIn, words::Words, Web},
};

#[derive(askama::Template)]
#[template(path = "volunteers.html")]
struct VolunteersPage<'a> {
    w: &'a Words,
    csrf: &'a str,
    staff_name: &'a str,
    nav: Nav,
    national: bool,
    centre: Option<CentreRef>,
    centres: Vec<CentreRef>,
    rows: Vec<VolunteerListing>,
    languages: Vec<String>,
    add: AddForm,
    fb: Feedback,
    import: ImportBox,
}

/// The form that adds one volunteer.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    village_code: String,
    /// The centre the page showed.
    #[serde(default)]
    centre: Option<String>,
}

async fn page(
    web: &Web,
    staff: &SignedIn,
    asked: Option<&str>,
    fb: Feedback,
    add: AddForm,
    csv: String,
) -> Result<Response, PageError> {
    let w = &staff.words;
    let centre = centre_of(web, staff, asked).await?;
    let national = staff.actor.scope == Scope::National;
    let rows = web
        .work
        .volunteers_of(&staff.actor, centre.as_ref(), staff.address.clone())
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
    let view = VolunteersPage {
        w,
        csrf: staff.csrf(),
        staff_name: &staff.session.staff.name,
        nav: Nav::of(staff),
        national,
        centre,
        centres,
        rows,
        languages: web.languages(),
        add,
        fb,
        import: ImportBox::new(
            &*web.importer,
            Sheet::Volunteers,
            "/volunteers/import",
            "web-import-volunteers-note",
        )
        .with_csv(csv),
    };
    render_status(&view, w, status)
}

pub async fn list(
    State(web): State<Web>,
    staff: SignedIn,
    Query(q): Query<PeopleQuery>,
) -> Result<Response, PageError> {
    managers_only(&staff)?;
    let fb = Feedback::done(&staff.words, &q);
    page(
        &web,
        &staff,
        q.centre(),
        fb,
        AddForm::default(),
        String::new(),
    )
    .await
}

pub async fn add(
    State(web): State<Web>,
    staff: SignedIn,
    Form(f): Form<AddForm>,
) -> Result<Response, PageError> {
    staff.check_csrf(&f.csrf)?;
    managers_only(&staff)?;
    let w = &staff.words;
    let asked = f.centre.clone();
    let asked = asked.as_deref();
    let Ok(phone) = Phone::parse(&f.phone, web.settings.country) else {
        let fb = Feedback::error(w.t("web-error-phone"));
        return page(&web, &staff, asked, fb, f, String::new()).await;
    };
    let name = f.name.trim().to_string();
    if name.is_empty() {
        let fb = Feedback::error(w.t("web-error-name"));
        return page(&web, &staff, asked, fb, f, String::new()).await;
    }
    let Ok(locale) = Locale::parse(&f.language) else {
        let fb = Feedback::error(w.t("web-error-invalid"));
        return page(&web, &staff, asked, fb, f, String::new()).await;
    };
    let new = NewVolunteer {
        phone,
        name,
        locale,
        village_code: f.village_code.trim().to_string(),
    };
    match web
        .work
        .add_volunteer(&staff.actor, &*web.importer, new, staff.address.clone())
        .await
        .map_err(|e| admin_error(w, e))?
    {
        Imported::Rows(_) => {
            Ok(Redirect::to(&back_to("/volunteers", asked, "added", None)).into_response())
        }
        Imported::Refused(problems) => {
            let fb = Feedback::refused(w, problems, false);
            page(&web, &staff, asked, fb, f.clone(), String::new()).await
        }
    }
}

pub async fn deactivate(
    State(web): State<Web>,
    staff: SignedIn,
    Path(id): Path<i64>,
    Form(f): Form<ButtonForm>,
) -> Result<Response, PageError> {
    staff.check_csrf(&f.csrf)?;
    managers_only(&staff)?;
    web.work
        .deactivate_volunteer(&staff.actor, id, staff.address.clone())
        .await
        .map_err(|e| admin_error(&staff.words, e))?;
    Ok(Redirect::to(&back_to(
        "/volunteers",
        f.centre.as_deref(),
        "deactivated",
        None,
    ))
    .into_response())
}

pub async fn import(
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
            Sheet::Volunteers,
            &f.csv,
            staff.address.clone(),
        )
        .await
        .map_err(|e| admin_error(w, e))?;
    match imported(w, outcome, "/volunteers", f.centre.as_deref()) {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(fb) => {
            page(
                &web,
                &staff,
                f.centre.as_deref(),
                fb,
                AddForm::default(),
                f.csv,
            )
            .await
        }
    }
}

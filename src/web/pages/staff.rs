//! `GET /staff`: a centre's staff (a manager's own centre; an
//! administrator's every centre, or one chosen), each active one with a
//! deactivate button (`POST /staff/{id}/deactivate`: they can no longer
//! sign in and their sessions end); a form to add one person (`POST
//! /staff`) and a CSV import (`POST /staff/import`), both through the
//! importer `kanda import` runs. Every form carries the session's CSRF
//! token; every change is in the audit log. Another centre's staff member
//! is "not found".

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    Form,
};

use super::{
    admin::{
        admin_error, back_to, centre_of, filled, imported, managers_only, status_of, ButtonForm,
        Feedback, ImportBox, ImportForm, PeopleQuery,
    },
    render_status, Nav,
};
use crate::{
    casework::admin::{CentreRef, Imported, NewStaff, Sheet},
    domain::{Locale, Phone, Role, Scope},
    store::StaffListing,
    web::{error::PageError, session::SignedIn, words::Words, Web},
};

#[derive(askama::Template)]
#[template(path = "staff.html")]
struct StaffPage<'a> {
    w: &'a Words,
    csrf: &'a str,
    staff_name: &'a str,
    nav: Nav,
    national: bool,
    centre: Option<CentreRef>,
    centres: Vec<CentreRef>,
    rows: Vec<StaffListing>,
    me: i64,
    roles: Vec<&'static str>,
    languages: Vec<String>,
    add: AddForm,
    fb: Feedback,
    import: ImportBox,
}

/// The form that adds one staff member.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    language: String,
    /// The new person's centre (administrators; empty for a national role).
    #[serde(default)]
    centre_code: String,
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
        .staff_of(&staff.actor, centre.as_ref(), staff.address.clone())
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
    let roles = Role::ALL
        .iter()
        .filter(|r| national || !r.is_national())
        .map(|r| r.as_str())
        .collect();
    let status = status_of(&fb);
    let view = StaffPage {
        w,
        csrf: staff.csrf(),
        staff_name: &staff.session.staff.name,
        nav: Nav::of(staff),
        national,
        centre,
        centres,
        rows,
        me: staff.session.staff.id,
        roles,
        languages: web.languages(),
        add,
        fb,
        import: ImportBox::new(
            &*web.importer,
            Sheet::Staff,
            "/staff/import",
            "web-import-staff-note",
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
        return page(
            &web,
            &staff,
            asked,
            Feedback::error(w.t("web-error-phone")),
            f,
            String::new(),
        )
        .await;
    };
    let name = f.name.trim().to_string();
    if name.is_empty() {
        return page(
            &web,
            &staff,
            asked,
            Feedback::error(w.t("web-error-name")),
            f,
            String::new(),
        )
        .await;
    }
    let (Ok(role), Ok(locale)) = (Role::parse(&f.role), Locale::parse(&f.language)) else {
        return page(
            &web,
            &staff,
            asked,
            Feedback::error(w.t("web-error-invalid")),
            f,
            String::new(),
        )
        .await;
    };
    let new = NewStaff {
        phone,
        name,
        role,
        centre_code: filled(Some(&f.centre_code)).map(str::to_string),
        locale,
    };
    match web
        .work
        .add_staff(&staff.actor, &*web.importer, new, staff.address.clone())
        .await
        .map_err(|e| admin_error(w, e))?
    {
        Imported::Rows(_) => {
            Ok(Redirect::to(&back_to("/staff", asked, "added", None)).into_response())
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
    let w = &staff.words;
    match web
        .work
        .deactivate_staff(&staff.actor, id, staff.address.clone())
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&back_to("/staff", f.centre.as_deref(), "deactivated", None))
                .into_response(),
        ),
        Err(crate::casework::admin::AdminError::Yourself) => {
            let fb = Feedback::error(w.t("web-error-yourself"));
            page(
                &web,
                &staff,
                f.centre.as_deref(),
                fb,
                AddForm::default(),
                String::new(),
            )
            .await
        }
        Err(e) => Err(admin_error(w, e)),
    }
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
            Sheet::Staff,
            &f.csv,
            staff.address.clone(),
        )
        .await
        .map_err(|e| admin_error(w, e))?;
    match imported(w, outcome, "/staff", f.centre.as_deref()) {
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

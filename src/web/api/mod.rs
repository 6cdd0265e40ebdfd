//! The JSON API under `/api/v1`, for integrators: bearer tokens (`kanda
//! token issue`), the same scope and audit as the pages, errors as
//! `{"code", "message"}` (a malformed query or body is `422 invalid`, never
//! axum's plain text), and an OpenAPI document generated from these
//! handlers (`openapi.rs`).

pub mod audit;
pub mod cases;
pub mod openapi;

use axum::{
    extract::{rejection::JsonRejection, rejection::QueryRejection, FromRef, FromRequest, FromRequestParts},
    http::{header, request::Parts},
};

use super::{error::ApiError, session::address, Web};
use crate::domain::Actor;

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::invalid(e.body_text())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError::invalid(e.body_text())
    }
}

/// A query string, refused as `422 invalid` JSON when malformed.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A JSON body, refused as `422 invalid` JSON when malformed.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// The client a bearer token names, with its address.
pub struct Client {
    pub actor: Actor,
    pub address: Option<String>,
}

impl<S> FromRequestParts<S> for Client
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let web = Web::from_ref(state);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        let actor = web
            .work
            .token_actor(token)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Client {
            actor,
            address: address(parts),
        })
    }
}

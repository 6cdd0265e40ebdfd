//! The JSON API under `/api/v1`, for integrators: bearer tokens (`kanda
//! token issue`), the same scope and audit as the pages, errors as
//! `{"code", "message"}` (a malformed query or body is `422 invalid`, never
//! axum's plain text), and an OpenAPI document generated from these
//! handlers (`openapi.rs`).

pub mod audit;
pub mod cases;
pub mod indicators;
pub mod openapi;

use axum::{
    extract::{
        rejection::JsonRejection, rejection::QueryRejection, FromRef, FromRequest, FromRequestParts,
    },
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

/// A NUL character in any text the API is given: PostgreSQL stores no
/// NUL in text (it fails the query: a 500), so it is refused up front.
fn nul_refused() -> ApiError {
    ApiError::invalid("text may not contain a NUL character")
}

/// A query string, refused as `422 invalid` JSON when malformed (or
/// holding a NUL).
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        let query = parts.uri.query().unwrap_or("");
        if form_urlencoded::parse(query.as_bytes())
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(nul_refused());
        }
        Ok(ApiQuery(value))
    }
}

/// A JSON body, refused as `422 invalid` JSON when malformed (or holding
/// a NUL in any string).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        fn has_nul(v: &serde_json::Value) -> bool {
            match v {
                serde_json::Value::String(s) => s.contains('\0'),
                serde_json::Value::Array(a) => a.iter().any(has_nul),
                serde_json::Value::Object(o) => {
                    o.iter().any(|(k, v)| k.contains('\0') || has_nul(v))
                }
                _ => false,
            }
        }
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
        if has_nul(&value) {
            return Err(nul_refused());
        }
        serde_json::from_value(value).map(ApiJson).map_err(|e| {
            ApiError::invalid(format!(
                "Failed to deserialize the JSON body into the target type: {e}"
            ))
        })
    }
}

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
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
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

//! The session cookies: reading them from a `Cookie` header, and the
//! `Set-Cookie` strings for an instance's cookie options. Plain functions,
//! not a class per instance: instances are built per request in some apps.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::cookies::{self, CookieOptions};
use crate::http_date::JsTime;

/// `cookieOptions` after JavaScript truthiness and `Date` parsing.
#[napi(object)]
pub struct NativeCookieOptions {
    pub http_only: bool,
    pub secure: bool,
    pub same_site: Option<String>,
    pub domain: Option<String>,
    /// `new Date(expiresAt).getTime()` (NaN for an invalid date); absent when not set.
    pub expires_ms: Option<f64>,
}

/// The options as the core takes them; a `TypeError` for a value that
/// would break out of its `Set-Cookie` attribute.
pub(super) fn checked_cookie_options(env: &Env, options: NativeCookieOptions) -> Result<CookieOptions> {
    CookieOptions::new(
        options.http_only,
        options.secure,
        options.same_site,
        options.domain,
        options.expires_ms.map(JsTime::from_millis),
    )
    .map_err(|error| super::type_error(env, &error.0))
}

/// Refuses, with a `TypeError`, cookie options that would break out of
/// their `Set-Cookie` attribute: called when an instance is built, before
/// any request.
#[napi]
pub fn check_cookie_options(env: Env, options: NativeCookieOptions) -> Result<()> {
    checked_cookie_options(&env, options).map(|_| ())
}

#[napi(object)]
pub struct NativeCookieNames {
    pub jwt: String,
    pub refresh_token: String,
}

/// `getAuthCookieNames(projectId)`: the cookie names Crossmint's current
/// client stores a project's session under; a `TypeError` for anything but
/// a non-empty string.
#[napi]
pub fn auth_cookie_names(env: Env, project_id: serde_json::Value) -> Result<NativeCookieNames> {
    let names =
        cookies::CookieNames::for_project(project_id.as_str()).map_err(|message| super::type_error(&env, message))?;
    Ok(NativeCookieNames { jwt: names.jwt, refresh_token: names.refresh_token })
}

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
fn checked(env: &Env, options: NativeCookieOptions) -> Result<CookieOptions> {
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
    checked(&env, options).map(|_| ())
}

/// The two `Set-Cookie` values that store a session.
#[napi]
pub fn auth_set_cookies(
    env: Env,
    jwt: String,
    refresh_secret: String,
    refresh_expires_ms: Option<f64>,
    options: NativeCookieOptions,
) -> Result<Vec<String>> {
    let options = checked(&env, options)?;
    Ok(cookies::auth_set_cookies(&jwt, &refresh_secret, refresh_expires_ms.map(JsTime::from_millis), &options).into())
}

/// The two `Set-Cookie` values that clear it.
#[napi]
pub fn cleared_set_cookies(env: Env, options: NativeCookieOptions) -> Result<Vec<String>> {
    Ok(cookies::cleared_auth_cookies(&checked(&env, options)?).into())
}

#[napi(object)]
pub struct NativeAuthCookies {
    pub jwt: Option<String>,
    pub refresh_token: Option<String>,
}

/// `{ jwt, refreshToken }` found in a `Cookie` header.
#[napi]
pub fn parse_auth_cookies(header: String) -> NativeAuthCookies {
    let found = cookies::parse_auth_cookies(&header);
    NativeAuthCookies { jwt: found.jwt, refresh_token: found.refresh_token }
}

//! The session cookies: reading them from a `Cookie` header, and the
//! `Set-Cookie` strings of one instance's cookie options.

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

/// Writes one instance's cookies. Built once per instance: options that
/// would break out of their `Set-Cookie` attribute throw a `TypeError` here,
/// before any request.
#[napi]
pub struct CookieWriter {
    options: CookieOptions,
}

#[napi]
impl CookieWriter {
    #[napi(constructor)]
    pub fn new(env: Env, options: NativeCookieOptions) -> Result<Self> {
        CookieOptions::new(
            options.http_only,
            options.secure,
            options.same_site,
            options.domain,
            options.expires_ms.map(JsTime::from_millis),
        )
        .map(|options| CookieWriter { options })
        .map_err(|error| super::type_error(&env, &error.0))
    }

    /// The two `Set-Cookie` values that store a session.
    #[napi]
    pub fn session(&self, jwt: String, refresh_secret: String, refresh_expires_ms: Option<f64>) -> Vec<String> {
        cookies::auth_set_cookies(&jwt, &refresh_secret, refresh_expires_ms.map(JsTime::from_millis), &self.options)
            .into()
    }

    /// The two `Set-Cookie` values that clear it.
    #[napi]
    pub fn cleared(&self) -> Vec<String> {
        cookies::cleared_auth_cookies(&self.options).into()
    }
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

//! The two session cookies' names and their `Set-Cookie` strings (which
//! cookies a request carries is `session_cookies`'), attribute for attribute as the reference
//! SDK writes them, so a browser sees no difference after the switch.

use crate::http_date::{to_utc_string, JsTime};

pub const JWT_COOKIE: &str = "crossmint-jwt";
pub const REFRESH_TOKEN_COOKIE: &str = "crossmint-refresh-token";

/// The names a session's two cookies go under: the unscoped pair the
/// reference and Crossmint's clients up to 1.2.50 use, or the pair scoped to
/// one project that its current client uses (see `session_cookies`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieNames {
    pub jwt: String,
    pub refresh_token: String,
}

impl CookieNames {
    pub fn unscoped() -> CookieNames {
        CookieNames { jwt: JWT_COOKIE.to_string(), refresh_token: REFRESH_TOKEN_COOKIE.to_string() }
    }

    /// The names for a project id a caller gave (`getAuthCookieNames`): a
    /// non-empty string, or the message saying what it must be.
    pub fn for_project(project_id: Option<&str>) -> Result<CookieNames, &'static str> {
        match project_id {
            Some(id) if !id.is_empty() => Ok(CookieNames::scoped(id)),
            _ => Err("getAuthCookieNames expects a project id (a non-empty string)"),
        }
    }

    /// `crossmint-jwt-<projectId>` and `crossmint-refresh-token-<projectId>`.
    pub fn scoped(project_id: &str) -> CookieNames {
        CookieNames {
            jwt: format!("{JWT_COOKIE}-{project_id}"),
            refresh_token: format!("{REFRESH_TOKEN_COOKIE}-{project_id}"),
        }
    }
}

/// The reference marks a cleared cookie with this literal date (note `UTC`, not `GMT`).
const CLEARED_EXPIRY: &str = "expires=Thu, 01 Jan 1970 00:00:00 UTC";

/// Whether `value` can be written as a cookie value as is: RFC 6265's
/// cookie-octets (printable ASCII except space, `"`, `,`, `;` and `\`).
pub fn is_cookie_value(value: &str) -> bool {
    value.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E))
}

/// The `cookieOptions` a user passes to `CrossmintAuth.from`, already reduced
/// to what the reference looks at (JavaScript truthiness applied by the
/// caller). Built through `CookieOptions::new`, which refuses values that
/// would break out of their `Set-Cookie` attribute.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CookieOptions {
    http_only: bool,
    secure: bool,
    /// Written verbatim; `None` means the reference's default, lower-case `lax`.
    same_site: Option<String>,
    domain: Option<String>,
    /// `cookieOptions.expiresAt`; the reference applies it to the JWT cookie only.
    expires: Option<JsTime>,
}

/// An option value that would end its `Set-Cookie` attribute (`;`) or the
/// header line (a control character), or that a header cannot carry (beyond
/// ASCII: Node and Fetch `Headers` throw on it, after the refresh token was
/// spent): it would inject attributes, or fail every write. Names the option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieOptionError(pub String);

impl CookieOptions {
    pub fn new(
        http_only: bool,
        secure: bool,
        same_site: Option<String>,
        domain: Option<String>,
        expires: Option<JsTime>,
    ) -> Result<Self, CookieOptionError> {
        for (name, value) in [("sameSite", &same_site), ("domain", &domain)] {
            if value.as_deref().is_some_and(|v| v.chars().any(|c| c == ';' || c.is_ascii_control() || !c.is_ascii())) {
                return Err(CookieOptionError(format!(
                    "cookieOptions.{name} must not contain \";\", control characters or characters beyond ASCII"
                )));
            }
        }
        Ok(CookieOptions { http_only, secure, same_site, domain, expires })
    }
}

/// One `Set-Cookie` value in the reference's attribute order:
/// `name=value; path=/; SameSite=..; HttpOnly; Secure; Domain=..; expires=..;`
pub fn format_set_cookie(name: &str, value: &str, options: &CookieOptions, expires: Option<JsTime>) -> String {
    let mut out = String::with_capacity(name.len() + value.len() + 96);
    out.push_str(name);
    out.push('=');
    out.push_str(value);
    out.push_str("; path=/; SameSite=");
    out.push_str(options.same_site.as_deref().unwrap_or("lax"));
    if options.http_only {
        out.push_str("; HttpOnly");
    }
    if options.secure {
        out.push_str("; Secure");
    }
    if let Some(domain) = &options.domain {
        out.push_str("; Domain=");
        out.push_str(domain);
    }
    if let Some(expires) = expires {
        out.push_str("; expires=");
        out.push_str(&to_utc_string(expires));
    }
    if value.is_empty() {
        out.push_str("; ");
        out.push_str(CLEARED_EXPIRY);
    }
    out.push(';');
    out
}

/// The two `Set-Cookie` values that store (or, with empty values, clear) a
/// session. The JWT cookie is never HttpOnly because Crossmint's client SDK
/// reads it; the refresh cookie expires with the refresh token.
pub fn named_set_cookies(
    names: &CookieNames,
    jwt: &str,
    refresh_secret: &str,
    refresh_expires: Option<JsTime>,
    options: &CookieOptions,
) -> [String; 2] {
    let jwt_options = CookieOptions { http_only: false, ..options.clone() };
    [
        format_set_cookie(&names.jwt, jwt, &jwt_options, options.expires),
        format_set_cookie(&names.refresh_token, refresh_secret, options, refresh_expires),
    ]
}

/// `named_set_cookies` under the unscoped names, as the reference writes them.
pub fn auth_set_cookies(
    jwt: &str,
    refresh_secret: &str,
    refresh_expires: Option<JsTime>,
    options: &CookieOptions,
) -> [String; 2] {
    named_set_cookies(&CookieNames::unscoped(), jwt, refresh_secret, refresh_expires, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_exclude_what_would_end_or_extend_the_cookie() {
        assert!(is_cookie_value("eyJhbGciOi.J9-_x=="));
        for bad in ["a;b", "a\r\nSet-Cookie: x=1", "a b", "a,b", "a\"b", "a\\b", "é", "\u{7f}"] {
            assert!(!is_cookie_value(bad), "{bad:?}");
        }
    }

    #[test]
    fn default_set_cookie_strings() {
        let [jwt, refresh] =
            auth_set_cookies("j", "s", Some(JsTime::Millis(1_893_553_445_000.0)), &CookieOptions::default());
        assert_eq!(jwt, "crossmint-jwt=j; path=/; SameSite=lax;");
        assert_eq!(refresh, "crossmint-refresh-token=s; path=/; SameSite=lax; expires=Wed, 02 Jan 2030 03:04:05 GMT;");
    }

    #[test]
    fn custom_options_in_reference_order() {
        let options = CookieOptions::new(true, true, Some("Strict".into()), Some("example.com".into()), None).unwrap();
        let [jwt, refresh] = auth_set_cookies("j", "s", None, &options);
        assert_eq!(jwt, "crossmint-jwt=j; path=/; SameSite=Strict; Secure; Domain=example.com;");
        assert_eq!(
            refresh,
            "crossmint-refresh-token=s; path=/; SameSite=Strict; HttpOnly; Secure; Domain=example.com;"
        );
    }

    #[test]
    fn cleared_cookies_expire_in_1970() {
        let [jwt, refresh] = auth_set_cookies("", "", None, &CookieOptions::default());
        assert_eq!(jwt, "crossmint-jwt=; path=/; SameSite=lax; expires=Thu, 01 Jan 1970 00:00:00 UTC;");
        assert_eq!(refresh, "crossmint-refresh-token=; path=/; SameSite=lax; expires=Thu, 01 Jan 1970 00:00:00 UTC;");
    }

    #[test]
    fn options_that_would_break_out_of_their_attribute_are_refused() {
        for (same_site, domain) in [
            (Some("lax; Domain=evil.example"), None),
            (None, Some("example.com; Secure=0")),
            (None, Some("a.example\r\nX: 1")),
            (Some("lax\u{7f}"), None),
        ] {
            let refused = CookieOptions::new(false, false, same_site.map(Into::into), domain.map(Into::into), None);
            assert!(refused.is_err(), "{same_site:?} {domain:?}");
        }
        let error = CookieOptions::new(false, false, None, Some("a;b".into()), None).unwrap_err();
        assert_eq!(
            error.0,
            "cookieOptions.domain must not contain \";\", control characters or characters beyond ASCII"
        );
        for domain in ["b\u{fc}cher.example", "a.example\u{100}"] {
            assert!(CookieOptions::new(false, false, None, Some(domain.into()), None).is_err(), "{domain}");
        }
        for same_site in ["lax", "Strict", "none", "Lax"] {
            assert!(CookieOptions::new(false, true, Some(same_site.into()), Some(".example.com".into()), None).is_ok());
        }
    }

    #[test]
    fn invalid_expiry_is_written_as_js_does() {
        let [_, refresh] = auth_set_cookies("j", "s", Some(JsTime::Invalid), &CookieOptions::default());
        assert!(refresh.ends_with("; expires=Invalid Date;"));
    }
}

//! The two session cookies: reading them from a `Cookie` request header and
//! writing the `Set-Cookie` strings, attribute for attribute as the reference
//! SDK writes them, so a browser sees no difference after the switch.

use cookie::Cookie;

use crate::http_date::{to_utc_string, JsTime};

pub const JWT_COOKIE: &str = "crossmint-jwt";
pub const REFRESH_TOKEN_COOKIE: &str = "crossmint-refresh-token";

/// The reference marks a cleared cookie with this literal date (note `UTC`, not `GMT`).
const CLEARED_EXPIRY: &str = "expires=Thu, 01 Jan 1970 00:00:00 UTC";

/// What a request's cookies carry. Both absent is not an error here: the
/// session logic decides what a missing token means.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AuthCookies {
    pub jwt: Option<String>,
    pub refresh_token: Option<String>,
}

/// Reads `crossmint-jwt` and `crossmint-refresh-token` from a `Cookie` header.
///
/// Unlike the reference (which splits each pair on every `=` and keeps the
/// last duplicate) a value keeps everything after its first `=` (base64
/// padding survives), surrounding double quotes are dropped, and the first of
/// two cookies with the same name wins, because browsers send the cookie with
/// the most specific path first. Malformed parts are skipped, never fatal.
pub fn parse_auth_cookies(header: &str) -> AuthCookies {
    let mut found = AuthCookies::default();
    for cookie in Cookie::split_parse(header).flatten() {
        let slot = match cookie.name() {
            JWT_COOKIE => &mut found.jwt,
            REFRESH_TOKEN_COOKIE => &mut found.refresh_token,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(cookie.value_trimmed().to_string());
        }
        if found.jwt.is_some() && found.refresh_token.is_some() {
            break;
        }
    }
    found
}

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
/// header line (a control character): it would inject attributes, or make
/// Node throw on every write. Names the option.
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
            if value.as_deref().is_some_and(|v| v.chars().any(|c| c == ';' || c.is_ascii_control())) {
                return Err(CookieOptionError(format!(
                    "cookieOptions.{name} must not contain \";\" or control characters"
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
pub fn auth_set_cookies(
    jwt: &str,
    refresh_secret: &str,
    refresh_expires: Option<JsTime>,
    options: &CookieOptions,
) -> [String; 2] {
    let jwt_options = CookieOptions { http_only: false, ..options.clone() };
    [
        format_set_cookie(JWT_COOKIE, jwt, &jwt_options, options.expires),
        format_set_cookie(REFRESH_TOKEN_COOKIE, refresh_secret, options, refresh_expires),
    ]
}

/// The pair that logs a browser out.
pub fn cleared_auth_cookies(options: &CookieOptions) -> [String; 2] {
    auth_set_cookies("", "", None, options)
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
    fn reads_both_cookies() {
        let c = parse_auth_cookies("a=b; crossmint-jwt=x.y.z; crossmint-refresh-token=r1");
        assert_eq!(c.jwt.as_deref(), Some("x.y.z"));
        assert_eq!(c.refresh_token.as_deref(), Some("r1"));
    }

    #[test]
    fn keeps_padding_and_first_duplicate() {
        let c =
            parse_auth_cookies("crossmint-refresh-token=abc==; crossmint-refresh-token=second; crossmint-jwt=\"q\"");
        assert_eq!(c.refresh_token.as_deref(), Some("abc=="));
        assert_eq!(c.jwt.as_deref(), Some("q"));
    }

    #[test]
    fn skips_malformed_parts() {
        let c = parse_auth_cookies(";;  ; =x; novalue; crossmint-jwt ; crossmint-refresh-token= r ;");
        assert_eq!(c.jwt, None);
        assert_eq!(c.refresh_token.as_deref(), Some("r"));
        assert_eq!(parse_auth_cookies(""), AuthCookies::default());
    }

    #[test]
    fn empty_value_is_present_but_empty() {
        let c = parse_auth_cookies("crossmint-refresh-token=");
        assert_eq!(c.refresh_token.as_deref(), Some(""));
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
        let [jwt, refresh] = cleared_auth_cookies(&CookieOptions::default());
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
        assert_eq!(error.0, "cookieOptions.domain must not contain \";\" or control characters");
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

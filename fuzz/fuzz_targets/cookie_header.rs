//! Any Cookie header: parsing never panics, and what it finds survives a
//! format-then-parse round trip (a value we read is a value we can write).
#![no_main]

use crossmint_server_native::{auth_set_cookies, parse_auth_cookies, CookieOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else { return };
    let found = parse_auth_cookies(header);
    let (Some(jwt), Some(refresh)) = (found.jwt, found.refresh_token) else { return };
    if jwt.contains(';') || refresh.contains(';') || jwt.trim() != jwt || refresh.trim() != refresh {
        return;
    }
    let [jwt_cookie, refresh_cookie] = auth_set_cookies(&jwt, &refresh, None, &CookieOptions::default());
    // A browser sends back only name=value.
    let echo = format!(
        "{}; {}",
        jwt_cookie.split(';').next().unwrap(),
        refresh_cookie.split(';').next().unwrap()
    );
    let again = parse_auth_cookies(&echo);
    if !jwt.starts_with('"') && !refresh.starts_with('"') {
        assert_eq!(again.jwt.as_deref(), Some(jwt.as_str()));
        assert_eq!(again.refresh_token.as_deref(), Some(refresh.as_str()));
    }
});

//! Any Cookie header: reading never panics, and the session it finds
//! survives a write-then-read round trip under the naming the answer picks
//! (a value we read is a value we can write, and we find it again).
#![no_main]

use crossmint_server_native::{CookieOptions, ProjectCookies, Reader, VerifyOptions};
use libfuzzer_sys::fuzz_target;

const PROJECT: &str = "dfb06708-a46f-4615-bd34-f614ae284e7b";

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else { return };
    let project = ProjectCookies::new(PROJECT, &VerifyOptions { project: Some(PROJECT.into()), ..Default::default() });
    let found = project.read(header);
    let (Some(jwt), Some(refresh)) = (found.jwt.clone(), found.refresh_token.clone()) else { return };
    if [&jwt, &refresh].iter().any(|v| v.contains(';') || v.trim() != v.as_str() || v.starts_with('"') || v.is_empty()) {
        return;
    }
    let lines = project.material_set_cookies(
        Some(&found),
        Some(&refresh),
        Reader::Page,
        &jwt,
        &refresh,
        None,
        &CookieOptions::default(),
    );
    // A browser sends back only name=value, and forgets what was expired.
    let echo: Vec<&str> =
        lines.iter().filter(|line| !line.contains("1970")).map(|line| line.split(';').next().unwrap()).collect();
    let again = project.read(&echo.join("; "));
    assert_eq!(again.jwt.as_deref(), Some(jwt.as_str()));
    assert_eq!(again.refresh_token.as_deref(), Some(refresh.as_str()));
});

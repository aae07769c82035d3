//! Any `sameSite` and `domain` option: either refused when the instance is
//! built, or written so that each stays inside its own `Set-Cookie`
//! attribute (no `;` or control character can add attributes or break the
//! header line).
#![no_main]

use crossmint_server_native::{auth_set_cookies, CookieOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: (String, String, bool, bool)| {
    let (same_site, domain, http_only, secure) = data;
    let Ok(options) = CookieOptions::new(http_only, secure, Some(same_site.clone()), Some(domain.clone()), None) else {
        assert!(
            [&same_site, &domain].iter().any(|v| v.chars().any(|c| c == ';' || c.is_ascii_control())),
            "refused only for a ';' or a control character"
        );
        return;
    };
    for line in auth_set_cookies("jwt", "secret", None, &options) {
        assert!(!line.chars().any(|c| c.is_ascii_control()), "{line:?}");
        // name=value; path=/; SameSite=..; [HttpOnly;] [Secure;] Domain=..; and the final empty part
        let attributes = line.split(';').count();
        let expected = 5 + usize::from(http_only && line.starts_with("crossmint-refresh-token")) + usize::from(secure);
        assert_eq!(attributes, expected, "{line:?}");
    }
});

//! Any API key string: validation never panics, and only keys whose
//! signature checks out are accepted.
#![no_main]

use crossmint_server_native::validate_api_key;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(key) = std::str::from_utf8(data) else { return };
    if let Ok(parsed) = validate_api_key(key) {
        // Accepted keys are well-formed: prefix, environment, project id.
        assert!(key.starts_with("ck_") || key.starts_with("sk_"));
        assert!(key.contains(parsed.environment.name()));
    }
});

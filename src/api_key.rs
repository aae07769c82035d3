//! Crossmint API keys: `<ck|sk>_<environment>_<base58 payload>`, where the
//! payload is `<projectId...>:<base58 Ed25519 signature>` signed by Crossmint.
//! Checking the signature locally catches a mistyped or truncated key at
//! start-up instead of at the first request.

use std::sync::{LazyLock, Mutex};

use aws_lc_rs::signature::{UnparsedPublicKey, ED25519};

use crate::bounded_map::BoundedMap;

/// Crossmint's published Ed25519 signer keys (base58).
pub const SIGNER_PUBLIC_KEY_STAGING: &str = "3hSfN4dWSwgCg1uf2yytBtK6KxK3ySFKasd2h9J2vSK5";
pub const SIGNER_PUBLIC_KEY_PRODUCTION: &str = "8erZh8YApGck3iUSUHqATBxqMTM1Ukp9mHmvGgUWHtkK";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UsageOrigin {
    Client,
    Server,
}

impl UsageOrigin {
    pub fn prefix(self) -> &'static str {
        match self {
            UsageOrigin::Client => "ck",
            UsageOrigin::Server => "sk",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    Development,
    Staging,
    Production,
}

impl Environment {
    pub fn name(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }

    /// Where Crossmint lives for keys of this environment.
    pub fn base_url(self) -> &'static str {
        match self {
            Environment::Development => "http://localhost:3000",
            Environment::Staging => "https://staging.crossmint.com",
            Environment::Production => "https://www.crossmint.com",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub usage_origin: UsageOrigin,
    pub environment: Environment,
    pub project_id: String,
}

/// Why a key was refused; the messages are the reference SDK's, word for word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyError(pub String);

impl std::fmt::Display for ApiKeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const OLD_FORMAT: &str = "Old API key format detected. Please create a new API key from the Crossmint console.";
const BAD_ORIGIN: &str = "Malformed API key. Must start with 'ck' or 'sk'.";
const BAD_ENVIRONMENT: &str =
    "Malformed API key. Must have a valid environment: 'development', 'staging' or 'production'.";
const BAD_SIGNATURE: &str = "Invalid API key. Failed to validate signature";
/// What the reference's base58 decoder throws for a character outside the alphabet.
const NOT_BASE58: &str = "Non-base58 character";

/// What the caller requires of a key (`createCrossmint`'s second argument),
/// by name as given: a name no key has (`"backend"`, `"Production"`) refuses
/// every key, as in the reference, rather than being ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct KeyExpectations {
    pub usage_origin: Option<String>,
    pub environment: Option<String>,
}

impl UsageOrigin {
    pub fn name(self) -> &'static str {
        match self {
            UsageOrigin::Client => "client",
            UsageOrigin::Server => "server",
        }
    }
}

impl KeyExpectations {
    /// `createCrossmint`'s second argument as given: `usageOrigin` ("client"
    /// or "server") and `environment` ("development", "staging" or
    /// "production").
    pub fn from_names(usage_origin: Option<&str>, environment: Option<&str>) -> KeyExpectations {
        KeyExpectations { usage_origin: usage_origin.map(str::to_owned), environment: environment.map(str::to_owned) }
    }
}

pub fn validate_api_key(key: &str) -> Result<ApiKey, ApiKeyError> {
    validate_api_key_with(key, KeyExpectations::default())
}

/// Keys already accepted, with the expectations they were checked against.
/// Frameworks that build a client per request (the guide's Next.js code)
/// would otherwise pay an Ed25519 check on every request. When full it is
/// emptied, which costs one check per key in use.
static ACCEPTED: LazyLock<Mutex<BoundedMap<(KeyExpectations, String), ApiKey>>> =
    LazyLock::new(|| Mutex::new(BoundedMap::new(ACCEPTED_LIMIT)));
const ACCEPTED_LIMIT: usize = 256;

/// Validates `key`, answering from memory for a key (and expectations)
/// accepted before. Refusals are not remembered: they are rare, and each
/// gets its own message.
pub fn validate_api_key_with(key: &str, expect: KeyExpectations) -> Result<ApiKey, ApiKeyError> {
    let memo_key = (expect, key.to_owned());
    if let Some(accepted) = ACCEPTED.lock().unwrap_or_else(|p| p.into_inner()).get(&memo_key) {
        return Ok(accepted.clone());
    }
    let accepted = check_api_key(key, &memo_key.0)?;
    ACCEPTED.lock().unwrap_or_else(|p| p.into_inner()).insert(memo_key, accepted.clone());
    Ok(accepted)
}

fn check_api_key(key: &str, expect: &KeyExpectations) -> Result<ApiKey, ApiKeyError> {
    if key.starts_with("sk_live") || key.starts_with("sk_test") {
        return Err(ApiKeyError(OLD_FORMAT.into()));
    }
    let usage_origin = if key.starts_with("ck_") {
        UsageOrigin::Client
    } else if key.starts_with("sk_") {
        UsageOrigin::Server
    } else {
        return Err(ApiKeyError(BAD_ORIGIN.into()));
    };
    if let Some(required) = expect.usage_origin.as_deref().filter(|o| *o != usage_origin.name()) {
        return Err(ApiKeyError(format!(
            "Disallowed API key. You passed a {} API key, but a {required} API key is required.",
            usage_origin.name()
        )));
    }
    let after_origin = &key[3..];
    let environment = [Environment::Development, Environment::Staging, Environment::Production]
        .into_iter()
        .find(|env| after_origin.strip_prefix(env.name()).is_some_and(|rest| rest.starts_with('_')))
        .ok_or_else(|| ApiKeyError(BAD_ENVIRONMENT.into()))?;
    if let Some(required) = expect.environment.as_deref().filter(|e| *e != environment.name()) {
        return Err(ApiKeyError(format!(
            "Disallowed API key. You passed a {} API key, but a {required} API key is required.",
            environment.name()
        )));
    }

    let prefix = format!("{}_{}", usage_origin.prefix(), environment.name());
    let payload = &key[prefix.len() + 1..];
    let decoded = bs58::decode(payload).into_vec().map_err(|_| ApiKeyError(NOT_BASE58.into()))?;
    let decoded = String::from_utf8_lossy(&decoded);
    let mut parts = decoded.split(':');
    let key_data = parts.next().unwrap_or_default();
    let signature = parts.next().ok_or_else(|| ApiKeyError(BAD_SIGNATURE.into()))?;

    let signed_message = format!("{prefix}.{key_data}");
    let signed_by = |signer: &str| verify_signature(signer, &signed_message, signature);
    // With an environment required (the key's own, by now), only that
    // environment's signer counts.
    let signed = match (expect.environment.is_some(), environment) {
        (true, Environment::Production) => signed_by(SIGNER_PUBLIC_KEY_PRODUCTION),
        (true, _) => signed_by(SIGNER_PUBLIC_KEY_STAGING),
        (false, _) => signed_by(SIGNER_PUBLIC_KEY_PRODUCTION) || signed_by(SIGNER_PUBLIC_KEY_STAGING),
    };
    if !signed {
        return Err(ApiKeyError(BAD_SIGNATURE.into()));
    }
    Ok(ApiKey { usage_origin, environment, project_id: key_data.split('.').next().unwrap_or_default().to_string() })
}

fn verify_signature(signer_base58: &str, message: &str, signature_base58: &str) -> bool {
    let (Ok(signer), Ok(signature)) =
        (bs58::decode(signer_base58).into_vec(), bs58::decode(signature_base58).into_vec())
    else {
        return false;
    };
    if signature.len() != 64 || signer.len() != 32 {
        return false;
    }
    UnparsedPublicKey::new(&ED25519, signer).verify(message.as_bytes(), &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A development key from Crossmint's public SDK test suite.
    const VALID: &str = "ck_development_A61UZQnvjSQcM5qVBaBactgqebxafWAVsNdD2xLkgBxoYuH5q2guM8r9DUmZQzE1WYyoByGVYpEG2o9gVSzAZFsrLbfKGERUJ6D5CW6S9AsJGAc3ctgrsD4n2ioekzGj7KPbLwT3SysDjMamYXLxEroUbQSdwf6aLF4zeEpECq2crkTUQeLFzxzmjWNxFDHFYefDrfrFPCURvBXJLf5pCxCQ";

    fn message(key: &str) -> String {
        validate_api_key(key).unwrap_err().0
    }

    #[test]
    fn accepts_a_signed_key() {
        let key = validate_api_key(VALID).unwrap();
        assert_eq!(key.usage_origin, UsageOrigin::Client);
        assert_eq!(key.environment, Environment::Development);
        assert_eq!(key.project_id, "dfb06708-a46f-4615-bd34-f614ae284e7b");
    }

    #[test]
    fn refuses_old_and_malformed_keys() {
        assert_eq!(message("sk_live_abc"), OLD_FORMAT);
        assert_eq!(message("sk_test_abc"), OLD_FORMAT);
        assert_eq!(message(""), BAD_ORIGIN);
        assert_eq!(message("bk_development_x"), BAD_ORIGIN);
        assert_eq!(message("ck_foo_x"), BAD_ORIGIN.replace(BAD_ORIGIN, BAD_ENVIRONMENT));
        assert_eq!(message("sk_development"), BAD_ENVIRONMENT);
        assert_eq!(message("sk_development_0OIl"), NOT_BASE58);
    }

    #[test]
    fn honours_expectations() {
        let server = KeyExpectations::from_names(Some("server"), None);
        assert_eq!(
            validate_api_key_with(VALID, server).unwrap_err().0,
            "Disallowed API key. You passed a client API key, but a server API key is required."
        );
        let production = KeyExpectations::from_names(None, Some("production"));
        assert_eq!(
            validate_api_key_with(VALID, production).unwrap_err().0,
            "Disallowed API key. You passed a development API key, but a production API key is required."
        );
        let dev_client = KeyExpectations::from_names(Some("client"), Some("development"));
        assert!(validate_api_key_with(VALID, dev_client).is_ok());
        // Names no key has refuse every key, as in the reference.
        assert_eq!(
            validate_api_key_with(VALID, KeyExpectations::from_names(Some("backend"), None)).unwrap_err().0,
            "Disallowed API key. You passed a client API key, but a backend API key is required."
        );
        assert_eq!(
            validate_api_key_with(VALID, KeyExpectations::from_names(None, Some("DEVELOPMENT"))).unwrap_err().0,
            "Disallowed API key. You passed a development API key, but a DEVELOPMENT API key is required."
        );
    }

    #[test]
    fn remembered_acceptance_is_per_expectations() {
        assert!(validate_api_key(VALID).is_ok());
        assert!(validate_api_key(VALID).is_ok(), "answered from memory");
        let server = KeyExpectations::from_names(Some("server"), None);
        assert!(
            validate_api_key_with(VALID, server).is_err(),
            "a key accepted without expectations is still checked against them"
        );
        let truncated = &VALID[..VALID.len() - 1];
        assert_eq!(message(truncated), BAD_SIGNATURE, "a prefix of an accepted key is a different key");
    }

    #[test]
    fn refuses_bad_signatures() {
        let unsigned = bs58::encode("project.abc").into_string();
        assert_eq!(message(&format!("ck_development_{unsigned}")), BAD_SIGNATURE);
        let forged = bs58::encode(format!("incorrect_data:{}", bs58::encode([7u8; 64]).into_string())).into_string();
        assert_eq!(message(&format!("ck_development_{forged}")), BAD_SIGNATURE);
        // The valid payload under another prefix is not what Crossmint signed.
        assert_eq!(message(&VALID.replacen("ck_", "sk_", 1)), BAD_SIGNATURE);
        assert_eq!(message("sk_development_"), BAD_SIGNATURE);
    }
}

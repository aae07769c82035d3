//! A JSON Web Key Set, parsed once into ready-to-use verification keys, and
//! the rules for picking the key that may verify a given token (the same
//! rules jose applies, so a token accepted by the reference is accepted here).

use std::sync::OnceLock;

use aws_lc_rs::signature::{self as aws_signature, ParsedPublicKey, RsaPublicKeyComponents};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use crate::verify_error::{VerifyError, VerifyErrorKind};

/// Key sets larger than this are refused: Crossmint publishes a handful of
/// keys, and a huge set would only make every lookup slower.
pub const MAX_KEYS: usize = 100;

#[derive(Clone, Debug)]
pub struct PublicJwk {
    pub kid: Option<String>,
    pub kty: Option<String>,
    pub alg: Option<String>,
    pub usage: Option<String>,
    pub key_ops: Option<Vec<String>>,
    pub crv: Option<String>,
    /// `None` when the JWK's members do not describe a usable public key.
    pub key: Option<DecodingKey>,
    /// The JWK as published, to tell whether a refetched set changed it.
    pub source: String,
    /// The key parsed for aws-lc once per algorithm, on first use: parsing
    /// an RSA key (and its Montgomery constants) on every check cost about
    /// a fifth of an RS256 verification.
    prepared: PreparedKeys,
    material: KeyMaterial,
}

/// Public key bytes as aws-lc takes them.
#[derive(Clone, Debug)]
enum KeyMaterial {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// An uncompressed curve point, `04 || x || y`.
    EcPoint(Vec<u8>),
    Ed25519(Vec<u8>),
    Unusable,
}

/// One lazily parsed key per JWS algorithm (an RSA key without `alg` may
/// verify RS256 and PS512 alike, and aws-lc ties a parsed key to one).
#[derive(Clone, Debug, Default)]
struct PreparedKeys {
    by_algorithm: [OnceLock<Option<ParsedPublicKey>>; PREPARED_ALGORITHMS.len()],
}

const PREPARED_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

fn rsa_parameters(algorithm: Algorithm) -> Option<&'static aws_signature::RsaParameters> {
    Some(match algorithm {
        Algorithm::RS256 => &aws_signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &aws_signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &aws_signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &aws_signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &aws_signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &aws_signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

impl KeyMaterial {
    fn from_json(kty: Option<&str>, jwk: &Value) -> KeyMaterial {
        let bytes =
            |member: &str| jwk.get(member).and_then(Value::as_str).and_then(|text| URL_SAFE_NO_PAD.decode(text).ok());
        // RFC 7518 forbids leading zero octets in `n`/`e` and short
        // coordinates, but some JWK producers emit them and jose (through
        // Node's key import) accepts them: read as the same numbers.
        let unsigned = |bytes: Vec<u8>| {
            let first = bytes.iter().position(|&byte| byte != 0).unwrap_or(bytes.len());
            bytes[first..].to_vec()
        };
        let field_size: usize = match jwk.get("crv").and_then(Value::as_str) {
            Some("P-256") => 32,
            Some("P-384") => 48,
            _ => 0,
        };
        let coordinate = |point: &mut Vec<u8>, bytes: &[u8]| {
            point.extend(std::iter::repeat_n(0, field_size.saturating_sub(bytes.len())));
            point.extend_from_slice(bytes);
        };
        let material = match kty {
            Some("RSA") => bytes("n").zip(bytes("e")).map(|(n, e)| KeyMaterial::Rsa { n: unsigned(n), e: unsigned(e) }),
            Some("EC") => bytes("x").zip(bytes("y")).map(|(x, y)| {
                let mut point = Vec::with_capacity(1 + 2 * field_size.max(x.len()));
                point.push(0x04);
                coordinate(&mut point, &x);
                coordinate(&mut point, &y);
                KeyMaterial::EcPoint(point)
            }),
            Some("OKP") => bytes("x").map(KeyMaterial::Ed25519),
            _ => None,
        };
        material.unwrap_or(KeyMaterial::Unusable)
    }

    /// The same algorithms and key-size rules jsonwebtoken's aws-lc backend uses.
    fn parse(&self, algorithm: Algorithm) -> Option<ParsedPublicKey> {
        match (self, algorithm) {
            (KeyMaterial::Rsa { n, e }, _) => {
                RsaPublicKeyComponents { n, e }.to_parsed_public_key(rsa_parameters(algorithm)?).ok()
            }
            (KeyMaterial::EcPoint(point), Algorithm::ES256) => {
                ParsedPublicKey::new(&aws_signature::ECDSA_P256_SHA256_FIXED, point).ok()
            }
            (KeyMaterial::EcPoint(point), Algorithm::ES384) => {
                ParsedPublicKey::new(&aws_signature::ECDSA_P384_SHA384_FIXED, point).ok()
            }
            (KeyMaterial::Ed25519(x), Algorithm::EdDSA) => ParsedPublicKey::new(&aws_signature::ED25519, x).ok(),
            _ => None,
        }
    }
}

#[derive(Clone, Default, Debug)]
pub struct KeySet {
    pub keys: Vec<PublicJwk>,
}

fn text(value: &Value, member: &str) -> Option<String> {
    value.get(member).and_then(Value::as_str).map(str::to_owned)
}

impl PublicJwk {
    fn from_json(jwk: &Value) -> PublicJwk {
        let kty = text(jwk, "kty");
        let material = KeyMaterial::from_json(kty.as_deref(), jwk);
        let key = match kty.as_deref() {
            Some("RSA") => match (jwk.get("n"), jwk.get("e")) {
                (Some(Value::String(n)), Some(Value::String(e))) => DecodingKey::from_rsa_components(n, e).ok(),
                _ => None,
            },
            Some("EC") => match (jwk.get("x"), jwk.get("y")) {
                (Some(Value::String(x)), Some(Value::String(y))) => DecodingKey::from_ec_components(x, y).ok(),
                _ => None,
            },
            Some("OKP") => match jwk.get("x") {
                Some(Value::String(x)) => DecodingKey::from_ed_components(x).ok(),
                _ => None,
            },
            _ => None,
        };
        PublicJwk {
            kid: text(jwk, "kid"),
            kty,
            alg: text(jwk, "alg"),
            usage: text(jwk, "use"),
            key_ops: jwk
                .get("key_ops")
                .and_then(Value::as_array)
                .map(|ops| ops.iter().filter_map(|op| op.as_str().map(str::to_owned)).collect()),
            crv: text(jwk, "crv"),
            key,
            source: jwk.to_string(),
            prepared: PreparedKeys::default(),
            material,
        }
    }

    /// This key parsed for `algorithm`, or `None` when aws-lc cannot take it
    /// that way (the caller then uses jsonwebtoken's own path, which refuses
    /// such keys the same way).
    pub fn prepared_for(&self, algorithm: Algorithm) -> Option<&ParsedPublicKey> {
        let slot = PREPARED_ALGORITHMS.iter().position(|a| *a == algorithm)?;
        self.prepared.by_algorithm[slot].get_or_init(|| self.material.parse(algorithm)).as_ref()
    }
}

/// The key type and (for curves) the curve a JWS algorithm needs.
fn requirements(alg: &str) -> Result<(&'static str, &'static [&'static str]), VerifyError> {
    Ok(match alg {
        "ES256" => ("EC", &["P-256"]),
        "ES384" => ("EC", &["P-384"]),
        "ES512" => ("EC", &["P-521"]),
        "EdDSA" => ("OKP", &["Ed25519", "Ed448"]),
        _ if alg.starts_with("RS") || alg.starts_with("PS") => ("RSA", &[]),
        _ => {
            return Err(VerifyError::new(
                VerifyErrorKind::NotSupported,
                "Unsupported \"alg\" value for a JSON Web Key Set",
            ))
        }
    })
}

/// The JWS algorithms this crate can verify (asymmetric only, by design).
pub fn parse_algorithm(alg: &str) -> Option<Algorithm> {
    match alg {
        "RS256" => Some(Algorithm::RS256),
        "RS384" => Some(Algorithm::RS384),
        "RS512" => Some(Algorithm::RS512),
        "PS256" => Some(Algorithm::PS256),
        "PS384" => Some(Algorithm::PS384),
        "PS512" => Some(Algorithm::PS512),
        "ES256" => Some(Algorithm::ES256),
        "ES384" => Some(Algorithm::ES384),
        "EdDSA" => Some(Algorithm::EdDSA),
        _ => None,
    }
}

impl KeySet {
    /// Accepts what jose accepts: an object whose `keys` is an array of objects.
    pub fn from_json(set: &Value) -> Result<KeySet, VerifyError> {
        let malformed = || VerifyError::new(VerifyErrorKind::KeySetInvalid, "JSON Web Key Set malformed");
        let keys = set.as_object().and_then(|set| set.get("keys")).and_then(Value::as_array).ok_or_else(malformed)?;
        if keys.len() > MAX_KEYS || !keys.iter().all(Value::is_object) {
            return Err(malformed());
        }
        Ok(KeySet { keys: keys.iter().map(PublicJwk::from_json).collect() })
    }

    pub fn from_slice(bytes: &[u8]) -> Result<KeySet, VerifyError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|_| {
            VerifyError::new(
                VerifyErrorKind::KeySetResponse,
                "Failed to parse the JSON Web Key Set HTTP response as JSON",
            )
        })?;
        KeySet::from_json(&value)
    }

    /// Whether every key of this set is in `other`, unchanged.
    pub fn is_subset_of(&self, other: &KeySet) -> bool {
        self.keys.iter().all(|mine| other.keys.iter().any(|theirs| theirs.source == mine.source))
    }

    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The one key that may verify a token with this `alg` and `kid`.
    /// Exactly one candidate must remain, as in jose: zero means the token was
    /// not signed by this issuer, two means the set is ambiguous.
    pub fn select(&self, alg: &str, kid: Option<&str>) -> Result<&PublicJwk, VerifyError> {
        let (kty, curves) = requirements(alg)?;
        let mut candidates = self.keys.iter().filter(|jwk| {
            jwk.kty.as_deref() == Some(kty)
                && kid.is_none_or(|kid| jwk.kid.as_deref() == Some(kid))
                && jwk.alg.as_deref().is_none_or(|jwk_alg| jwk_alg == alg)
                && jwk.usage.as_deref().is_none_or(|usage| usage == "sig")
                && jwk.key_ops.as_ref().is_none_or(|ops| ops.iter().any(|op| op == "verify"))
                && (curves.is_empty() || jwk.crv.as_deref().is_some_and(|c| curves.contains(&c)))
        });
        match (candidates.next(), candidates.next()) {
            (Some(only), None) => Ok(only),
            (None, _) => {
                Err(VerifyError::new(VerifyErrorKind::NoMatchingKey, "no applicable key found in the JSON Web Key Set"))
            }
            (Some(_), Some(_)) => Err(VerifyError::new(
                VerifyErrorKind::MultipleMatchingKeys,
                "multiple matching keys found in the JSON Web Key Set",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set() -> KeySet {
        KeySet::from_json(&json!({"keys": [
            {"kty": "RSA", "kid": "r1", "alg": "RS256", "use": "sig", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "r2", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "kid": "e1", "crv": "P-256", "x": "AQAB", "y": "AQAB"},
            {"kty": "OKP", "kid": "d1", "crv": "Ed25519", "x": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}
        ]}))
        .unwrap()
    }

    #[test]
    fn selects_by_kid_alg_and_curve() {
        let set = set();
        assert_eq!(set.select("RS256", Some("r1")).unwrap().kid.as_deref(), Some("r1"));
        assert_eq!(set.select("PS256", None).unwrap().kid.as_deref(), Some("r2"));
        assert_eq!(set.select("ES256", None).unwrap().kid.as_deref(), Some("e1"));
        assert_eq!(set.select("EdDSA", Some("d1")).unwrap().kid.as_deref(), Some("d1"));
    }

    #[test]
    fn refuses_ambiguous_or_missing_keys() {
        let set = set();
        assert_eq!(
            set.select("RS256", None).unwrap_err().message,
            "multiple matching keys found in the JSON Web Key Set"
        );
        assert_eq!(set.select("ES384", None).unwrap_err().kind, VerifyErrorKind::NoMatchingKey);
        assert_eq!(set.select("RS256", Some("enc")).unwrap_err().kind, VerifyErrorKind::NoMatchingKey);
        assert_eq!(set.select("RS256", Some("r9")).unwrap_err().kind, VerifyErrorKind::NoMatchingKey);
    }

    #[test]
    fn subsets_follow_published_keys() {
        let a =
            KeySet::from_json(&json!({"keys": [{"kty": "OKP", "kid": "d1", "crv": "Ed25519", "x": "AQAB"}]})).unwrap();
        let more = KeySet::from_json(&json!({"keys": [
            {"kty": "OKP", "kid": "d1", "crv": "Ed25519", "x": "AQAB"},
            {"kty": "OKP", "kid": "d2", "crv": "Ed25519", "x": "AQAC"}
        ]}))
        .unwrap();
        let changed =
            KeySet::from_json(&json!({"keys": [{"kty": "OKP", "kid": "d1", "crv": "Ed25519", "x": "AQAD"}]})).unwrap();
        assert!(a.is_subset_of(&more));
        assert!(!more.is_subset_of(&a));
        assert!(!a.is_subset_of(&changed));
    }

    #[test]
    fn refuses_symmetric_and_none() {
        for alg in ["HS256", "none", "", "hs256"] {
            assert_eq!(set().select(alg, None).unwrap_err().kind, VerifyErrorKind::NotSupported);
        }
    }

    #[test]
    fn refuses_malformed_sets() {
        for bad in [json!({}), json!({"keys": "x"}), json!({"keys": [1]}), json!([])] {
            assert_eq!(KeySet::from_json(&bad).unwrap_err().message, "JSON Web Key Set malformed");
        }
        assert_eq!(KeySet::from_slice(b"<html>").unwrap_err().kind, VerifyErrorKind::KeySetResponse);
    }
}

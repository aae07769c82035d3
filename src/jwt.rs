//! Verifying a Crossmint JWT against a key set: compact JWS parsing, key
//! choice, the signature check (jsonwebtoken on aws-lc-rs) and the time
//! claims, in the order and with the messages of jose's `jwtVerify`.

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::{DecodeSliceError, Engine};
use serde::de::{Deserializer, IgnoredAny};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::jwks::{parse_algorithm, KeySet};
use crate::verify_error::{VerifyError, VerifyErrorKind};

/// Crossmint's tokens are well under 2 KB; anything near this is an attack
/// on the parser, not a session.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Checks beyond the reference's defaults, all off unless configured.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    pub clock_tolerance_seconds: f64,
    /// Accepted `iss` values.
    pub issuer: Option<Vec<String>>,
    /// Accepted `aud` values (one match suffices). When set, it replaces
    /// the project binding below.
    pub audience: Option<Vec<String>>,
    /// The project every JWT must be issued for: a JWT whose `aud` names
    /// other projects only is refused; one without `aud` passes (Crossmint
    /// issued those before it added the claim) unless `require_audience`.
    pub project: Option<String>,
    /// Refuse JWTs without `aud`.
    pub require_audience: bool,
    /// Refuse tokens without `exp` (jose's `requiredClaims: ["exp"]`): such
    /// a token would otherwise stay a valid session forever.
    pub require_expiration: bool,
}

/// A token's `aud` claim, as far as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceClaim {
    Absent,
    /// Its string values (a string, or the strings of an array).
    Values(Vec<String>),
}

impl AudienceClaim {
    fn of(aud: Option<&Value>) -> AudienceClaim {
        match aud {
            None | Some(Value::Null) => AudienceClaim::Absent,
            Some(Value::Array(values)) => {
                AudienceClaim::Values(values.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            }
            Some(Value::String(value)) => AudienceClaim::Values(vec![value.clone()]),
            Some(_) => AudienceClaim::Values(Vec::new()),
        }
    }

    fn names(&self, wanted: &str) -> bool {
        matches!(self, AudienceClaim::Values(values) if values.iter().any(|v| v == wanted))
    }

    /// Whether `options` accept this `aud`.
    pub fn accepted(&self, options: &VerifyOptions) -> bool {
        if let Some(audiences) = &options.audience {
            return audiences.iter().any(|a| self.names(a));
        }
        match (self, &options.project) {
            (AudienceClaim::Absent, _) => !options.require_audience,
            (_, Some(project)) => self.names(project),
            (AudienceClaim::Values(_), None) => true,
        }
    }
}

/// `verifyCrossmintJwt`'s `{ audience }` as a caller gave it: a non-empty
/// string or a non-empty array of them; `None` when not given.
pub fn audience_option(value: &Value) -> Result<Option<Vec<String>>, &'static str> {
    const MUST: &str = "verifyCrossmintJwt: options.audience must be a non-empty string or an array of them";
    let named = |value: &Value| value.as_str().filter(|text| !text.is_empty()).map(str::to_owned);
    match value {
        Value::Null => Ok(None),
        Value::Array(values) if !values.is_empty() => {
            values.iter().map(named).collect::<Option<_>>().map(Some).ok_or(MUST)
        }
        single => named(single).map(|one| Some(vec![one])).ok_or(MUST),
    }
}

/// The `aud` of a token, read without checking its signature: for deciding
/// whose cookies a request carries, or what a refresh answer issued (which
/// comes from Crossmint over TLS), never for accepting a session.
/// Runs for every unscoped pair a request carries, so only `aud` is kept:
/// the payload is decoded on the stack and its other members skipped.
pub fn unverified_audience(token: &str) -> AudienceClaim {
    #[derive(Deserialize)]
    struct AudienceOnly {
        #[serde(default)]
        aud: Option<Value>,
    }
    let mut buffer = [0u8; 1024];
    let audience = token
        .split('.')
        .nth(1)
        .and_then(|payload| decode_into(payload, &mut buffer))
        .and_then(|bytes| serde_json::from_slice::<AudienceOnly>(&bytes).ok())
        .and_then(|claims| claims.aud);
    AudienceClaim::of(audience.as_ref())
}

pub type Claims = Map<String, Value>;

/// The parts of a compact JWS that verification needs, borrowed from the token.
pub struct ParsedToken<'a> {
    pub alg: String,
    pub kid: Option<String>,
    signing_input: &'a str,
    signature: &'a str,
    payload: &'a str,
}

fn claim_error(message: &str) -> VerifyError {
    VerifyError::new(VerifyErrorKind::ClaimInvalid, message)
}

pub fn parse_token(token: &str) -> Result<ParsedToken<'_>, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::malformed("JWT exceeds the maximum allowed size"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::malformed("Invalid Compact JWS"));
    };
    let (alg, kid) = match plain_header(header) {
        Some(plain) => plain,
        None => header_fields(header)?,
    };
    let signing_input = &token[..token.len() - signature.len() - 1];
    Ok(ParsedToken { alg, kid, signing_input, signature, payload })
}

/// Decodes base64url into `buffer` when it fits, else onto the heap: the
/// header and signature of a Crossmint token fit a small stack buffer, which
/// spares an allocation per check.
fn decode_into<'b>(part: &str, buffer: &'b mut [u8]) -> Option<Cow<'b, [u8]>> {
    match URL_SAFE_NO_PAD.decode_slice(part, buffer) {
        Ok(len) => Some(Cow::Borrowed(&buffer[..len])),
        // Only a part too big for the buffer is decoded again; invalid
        // base64 (forged or garbled tokens) is refused after one pass.
        Err(DecodeSliceError::OutputSliceTooSmall) => URL_SAFE_NO_PAD.decode(part).ok().map(Cow::Owned),
        Err(DecodeSliceError::DecodeError(_)) => None,
    }
}

/// Whether a member was there at all, whatever its value (`null` included).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| Present(true))
    }
}

/// A number, refusing `null` (which `Option<f64>` would read as absent).
fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    f64::deserialize(deserializer).map(Some)
}

/// `alg` and `kid` of the header every Crossmint token has: an object with a
/// non-empty string `alg`, an optional string `kid`, no `crit` and no member
/// twice. `None` for anything else, which `header_fields` then reads with
/// jose's exact answer; this typed read only skips building a JSON tree.
fn plain_header(header: &str) -> Option<(String, Option<String>)> {
    #[derive(Deserialize)]
    struct PlainHeader {
        alg: String,
        kid: Option<String>,
        #[serde(default)]
        crit: Present,
    }
    let mut buffer = [0u8; 512];
    let plain: PlainHeader = serde_json::from_slice(&decode_into(header, &mut buffer)?).ok()?;
    (!plain.alg.is_empty() && !plain.crit.0).then_some((plain.alg, plain.kid))
}

/// `alg` and `kid` of any header, with jose's errors.
fn header_fields(header: &str) -> Result<(String, Option<String>), VerifyError> {
    // Any JSON parses as a header, as in jose; a non-object then has no `alg`.
    let header: Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| VerifyError::malformed("JWS Protected Header is invalid"))?;
    if let Some(crit) = header.get("crit") {
        // We understand no extension, so any critical one makes the token unusable.
        let name = crit.as_array().and_then(|names| names.first()).and_then(Value::as_str).unwrap_or_default();
        if name == "b64" && header.get("b64") == Some(&Value::Bool(false)) {
            return Err(VerifyError::new(VerifyErrorKind::ClaimsNotObject, "JWTs MUST NOT use unencoded payload"));
        }
        return Err(VerifyError::new(
            VerifyErrorKind::NotSupported,
            format!("Extension Header Parameter \"{name}\" is not recognized"),
        ));
    }
    let alg = match header.get("alg") {
        Some(Value::String(alg)) if !alg.is_empty() => alg.clone(),
        _ => return Err(VerifyError::malformed("JWS \"alg\" (Algorithm) Header Parameter missing or invalid")),
    };
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
    Ok((alg, kid))
}

/// Seconds since the epoch, as jose's `epoch(new Date())` computes it.
pub fn now_seconds() -> f64 {
    (now_millis() / 1000.0).floor()
}

/// Milliseconds since the epoch, as `Date.now()` reads them.
pub fn now_millis() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as f64).unwrap_or(0.0)
}

/// Verifies the signature of an already parsed token with the set's key.
pub fn verify_signature(token: &ParsedToken<'_>, keys: &KeySet) -> Result<(), VerifyError> {
    let jwk = keys.select(&token.alg, token.kid.as_deref())?;
    let algorithm = parse_algorithm(&token.alg).ok_or_else(|| {
        VerifyError::new(
            VerifyErrorKind::NotSupported,
            "Invalid or unsupported JWK \"alg\" (Algorithm) Parameter value",
        )
    })?;
    let key = jwk
        .key
        .as_ref()
        .ok_or_else(|| VerifyError::new(VerifyErrorKind::KeySetInvalid, "Invalid or unsupported JWK"))?;
    let verified = match jwk.prepared_for(algorithm) {
        Some(prepared) => {
            // RSA-4096 signatures are 512 bytes; larger ones go to the heap.
            let mut buffer = [0u8; 512];
            decode_into(token.signature, &mut buffer)
                .is_some_and(|signature| prepared.verify_sig(token.signing_input.as_bytes(), &signature).is_ok())
        }
        None => jsonwebtoken::crypto::verify(token.signature, token.signing_input.as_bytes(), key, algorithm)
            .unwrap_or(false),
    };
    if verified {
        Ok(())
    } else {
        Err(VerifyError::signature())
    }
}

/// Decodes the claims and applies the time (and optional iss/aud) checks.
pub fn validate_claims(token: &ParsedToken<'_>, options: &VerifyOptions, now: f64) -> Result<Claims, VerifyError> {
    let claims: Claims =
        URL_SAFE_NO_PAD.decode(token.payload).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).ok_or_else(
            || VerifyError::new(VerifyErrorKind::ClaimsNotObject, "JWT Claims Set must be a top-level JSON object"),
        )?;

    if let Some(issuers) = &options.issuer {
        let iss = claims.get("iss").and_then(Value::as_str);
        if !iss.is_some_and(|iss| issuers.iter().any(|i| i == iss)) {
            return Err(claim_error("unexpected \"iss\" claim value"));
        }
    }
    let audience = AudienceClaim::of(claims.get("aud"));
    if !audience.accepted(options) {
        return Err(match audience {
            AudienceClaim::Absent => claim_error("missing required \"aud\" claim"),
            _ => claim_error("unexpected \"aud\" claim value"),
        });
    }
    if claims.get("iat").is_some_and(|iat| !iat.is_number()) {
        return Err(claim_error("\"iat\" claim must be a number"));
    }
    check_times(claims.get("nbf").map(Value::as_f64), claims.get("exp").map(Value::as_f64), options, now)?;
    Ok(claims)
}

/// `nbf` and `exp` (each: absent, or present and maybe a number) against
/// now, in jose's order and with its messages.
fn check_times(
    nbf: Option<Option<f64>>,
    exp: Option<Option<f64>>,
    options: &VerifyOptions,
    now: f64,
) -> Result<(), VerifyError> {
    let tolerance = options.clock_tolerance_seconds;
    if let Some(nbf) = nbf {
        let nbf = nbf.ok_or_else(|| claim_error("\"nbf\" claim must be a number"))?;
        if nbf > now + tolerance {
            return Err(claim_error("\"nbf\" claim timestamp check failed"));
        }
    }
    if options.require_expiration && exp.is_none() {
        return Err(claim_error("missing required \"exp\" claim"));
    }
    if let Some(exp) = exp {
        let exp = exp.ok_or_else(|| claim_error("\"exp\" claim must be a number"))?;
        if exp <= now - tolerance {
            return Err(VerifyError::expired(exp));
        }
    }
    Ok(())
}

/// What a session keeps of a verified token's claims.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionClaims {
    /// `sub` when it is a string.
    pub subject: Option<String>,
    pub exp: Option<f64>,
}

impl SessionClaims {
    pub fn of(claims: &Claims) -> SessionClaims {
        SessionClaims {
            subject: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
            exp: claims.get("exp").and_then(Value::as_f64),
        }
    }
}

/// `validate_claims` for callers that keep only the subject and expiry
/// (`getSession`), with the same answer for every payload. A Crossmint
/// payload without issuer or audience checks is read as a typed struct of
/// the four members that matter (the others skipped, not built); anything
/// else, including a member twice or one of the wrong type, goes through
/// `validate_claims`.
pub fn validate_session_claims(
    token: &ParsedToken<'_>,
    options: &VerifyOptions,
    now: f64,
) -> Result<SessionClaims, VerifyError> {
    #[derive(Deserialize)]
    struct PlainClaims {
        sub: Option<String>,
        #[serde(default, deserialize_with = "number")]
        exp: Option<f64>,
        #[serde(default, deserialize_with = "number")]
        nbf: Option<f64>,
        // Read only to refuse a non-number, as jose does.
        #[serde(default, rename = "iat", deserialize_with = "number")]
        _iat: Option<f64>,
        /// A string: Crossmint's project id. Anything else (an array)
        /// takes the tree path.
        aud: Option<String>,
    }
    if options.issuer.is_none() && options.audience.is_none() {
        let mut buffer = [0u8; 1024];
        let plain = decode_into(token.payload, &mut buffer)
            .and_then(|bytes| serde_json::from_slice::<PlainClaims>(&bytes).ok());
        if let Some(plain) = plain {
            let audience = plain.aud.map_or(AudienceClaim::Absent, |aud| AudienceClaim::Values(vec![aud]));
            if audience.accepted(options) {
                check_times(plain.nbf.map(Some), plain.exp.map(Some), options, now)?;
                return Ok(SessionClaims { subject: plain.sub, exp: plain.exp });
            }
        }
    }
    validate_claims(token, options, now).map(|claims| SessionClaims::of(&claims))
}

/// The payload of a compact JWS as the JSON text it encodes, for a token
/// already verified (whose payload therefore decodes).
pub fn payload_text(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// The whole check: parse, pick the key, verify the signature, then the claims.
pub fn verify(token: &str, keys: &KeySet, options: &VerifyOptions) -> Result<Claims, VerifyError> {
    let parsed = parse_token(token)?;
    verify_signature(&parsed, keys)?;
    validate_claims(&parsed, options, now_seconds())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    use serde_json::json;

    struct TestKeys {
        ed: EncodingKey,
        ec: EncodingKey,
        set: KeySet,
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn keys() -> TestKeys {
        let rng = SystemRandom::new();
        let ed_doc = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let ed_pair = Ed25519KeyPair::from_pkcs8(ed_doc.as_ref()).unwrap();
        let ec_doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let ec_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, ec_doc.as_ref()).unwrap();
        let ec_point = ec_pair.public_key().as_ref();
        let set = KeySet::from_json(&json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "alg": "EdDSA", "x": b64(ed_pair.public_key().as_ref())},
            {"kty": "EC", "crv": "P-256", "kid": "ec", "use": "sig", "x": b64(&ec_point[1..33]), "y": b64(&ec_point[33..65])}
        ]}))
        .unwrap();
        TestKeys { ed: EncodingKey::from_ed_der(ed_doc.as_ref()), ec: EncodingKey::from_ec_der(ec_doc.as_ref()), set }
    }

    fn sign(key: &EncodingKey, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        encode(&header, claims, key).unwrap()
    }

    fn now() -> i64 {
        now_seconds() as i64
    }

    #[test]
    fn accepts_valid_eddsa_and_es256_tokens() {
        let k = keys();
        let claims = json!({"sub": "user-1", "exp": now() + 60, "extra": [1, 2]});
        let ed = sign(&k.ed, Algorithm::EdDSA, Some("ed"), &claims);
        let payload = verify(&ed, &k.set, &VerifyOptions::default()).unwrap();
        assert_eq!(payload.get("sub").unwrap(), "user-1");
        assert_eq!(payload.get("extra").unwrap(), &json!([1, 2]));
        let ec = sign(&k.ec, Algorithm::ES256, None, &claims);
        assert!(verify(&ec, &k.set, &VerifyOptions::default()).is_ok());
    }

    #[test]
    fn expired_tokens_name_their_expiry() {
        let k = keys();
        let token = sign(&k.ed, Algorithm::EdDSA, Some("ed"), &json!({"exp": 1_893_553_445u64 - 10 * 365 * 86_400}));
        let error = verify(&token, &k.set, &VerifyOptions::default()).unwrap_err();
        assert_eq!(error.kind, VerifyErrorKind::Expired);
        assert!(error.message.starts_with("JWT provided expired at timestamp 2020-"), "{}", error.message);
        // exp == now is already expired, as in jose.
        let at_now = sign(&k.ed, Algorithm::EdDSA, Some("ed"), &json!({"exp": now()}));
        assert_eq!(verify(&at_now, &k.set, &VerifyOptions::default()).unwrap_err().kind, VerifyErrorKind::Expired);
        let tolerant = VerifyOptions { clock_tolerance_seconds: 30.0, ..Default::default() };
        assert!(verify(&at_now, &k.set, &tolerant).is_ok());
    }

    #[test]
    fn refuses_tampered_and_foreign_tokens() {
        let k = keys();
        let token = sign(&k.ed, Algorithm::EdDSA, Some("ed"), &json!({"sub": "a", "exp": now() + 60}));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_payload = b64(br#"{"sub":"admin","exp":99999999999}"#);
        parts[1] = &forged_payload;
        assert_eq!(verify(&parts.join("."), &k.set, &VerifyOptions::default()).unwrap_err(), VerifyError::signature());
        let other = keys();
        let foreign = sign(&other.ed, Algorithm::EdDSA, Some("ed"), &json!({"exp": now() + 60}));
        assert_eq!(verify(&foreign, &k.set, &VerifyOptions::default()).unwrap_err(), VerifyError::signature());
        let unknown_kid = sign(&k.ed, Algorithm::EdDSA, Some("nope"), &json!({"exp": now() + 60}));
        assert_eq!(
            verify(&unknown_kid, &k.set, &VerifyOptions::default()).unwrap_err().kind,
            VerifyErrorKind::NoMatchingKey
        );
    }

    #[test]
    fn refuses_none_and_hmac() {
        let k = keys();
        let body = b64(format!(r#"{{"sub":"a","exp":{}}}"#, now() + 60).as_bytes());
        let none = format!("{}.{body}.", b64(br#"{"alg":"none"}"#));
        assert_eq!(verify(&none, &k.set, &VerifyOptions::default()).unwrap_err().kind, VerifyErrorKind::NotSupported);
        let hmac =
            sign(&EncodingKey::from_secret(b"secret"), Algorithm::HS256, Some("ed"), &json!({"exp": now() + 60}));
        assert_eq!(verify(&hmac, &k.set, &VerifyOptions::default()).unwrap_err().kind, VerifyErrorKind::NotSupported);
        // An EdDSA key cannot be used for a token that claims ES256.
        let wrong_alg = sign(&k.ec, Algorithm::ES256, Some("ed"), &json!({"exp": now() + 60}));
        assert_eq!(
            verify(&wrong_alg, &k.set, &VerifyOptions::default()).unwrap_err().kind,
            VerifyErrorKind::NoMatchingKey
        );
    }

    #[test]
    fn checks_time_claims_like_jose() {
        let k = keys();
        let opts = VerifyOptions::default();
        let nbf = sign(&k.ed, Algorithm::EdDSA, Some("ed"), &json!({"nbf": now() + 600}));
        assert_eq!(verify(&nbf, &k.set, &opts).unwrap_err().message, "\"nbf\" claim timestamp check failed");
        let text_exp = sign(&k.ed, Algorithm::EdDSA, Some("ed"), &json!({"exp": "123"}));
        assert_eq!(verify(&text_exp, &k.set, &opts).unwrap_err().message, "\"exp\" claim must be a number");
        let text_iat = sign(&k.ed, Algorithm::EdDSA, Some("ed"), &json!({"iat": "x"}));
        assert_eq!(verify(&text_iat, &k.set, &opts).unwrap_err().message, "\"iat\" claim must be a number");
        let no_exp = sign(&k.ed, Algorithm::EdDSA, Some("ed"), &json!({"sub": "a"}));
        assert!(verify(&no_exp, &k.set, &opts).is_ok());
    }

    #[test]
    fn checks_issuer_and_audience_when_asked() {
        let k = keys();
        let token = sign(
            &k.ed,
            Algorithm::EdDSA,
            Some("ed"),
            &json!({"iss": "https://x", "aud": ["a", "b"], "exp": now() + 60}),
        );
        let good = VerifyOptions {
            issuer: Some(vec!["https://x".into()]),
            audience: Some(vec!["b".into()]),
            ..Default::default()
        };
        assert!(verify(&token, &k.set, &good).is_ok());
        let bad_iss = VerifyOptions { issuer: Some(vec!["https://y".into()]), ..Default::default() };
        assert_eq!(verify(&token, &k.set, &bad_iss).unwrap_err().message, "unexpected \"iss\" claim value");
        let bad_aud = VerifyOptions { audience: Some(vec!["c".into()]), ..Default::default() };
        assert_eq!(verify(&token, &k.set, &bad_aud).unwrap_err().message, "unexpected \"aud\" claim value");
    }

    #[test]
    fn the_audience_option_is_a_non_empty_string_or_array_of_them() {
        assert_eq!(audience_option(&json!(null)), Ok(None));
        assert_eq!(audience_option(&json!("p1")), Ok(Some(vec!["p1".to_string()])));
        assert_eq!(audience_option(&json!(["p1", "p2"])), Ok(Some(vec!["p1".to_string(), "p2".to_string()])));
        for bad in [json!(""), json!([]), json!(["p1", ""]), json!([1]), json!(7), json!({})] {
            assert!(audience_option(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_project_binding_accepts_its_own_aud_and_none() {
        let k = keys();
        let bound = VerifyOptions { project: Some("p1".into()), ..Default::default() };
        let strict = VerifyOptions { require_audience: true, ..bound.clone() };
        let token = |aud: Value| {
            let mut claims = json!({"sub": "u", "exp": now() + 60});
            if !aud.is_null() {
                claims["aud"] = aud;
            }
            sign(&k.ed, Algorithm::EdDSA, Some("ed"), &claims)
        };
        for (aud, bound_ok, strict_ok) in [
            (json!("p1"), true, true),
            (json!(["x", "p1"]), true, true),
            (Value::Null, true, false),
            (json!("p2"), false, false),
            (json!(["p2", "p3"]), false, false),
            (json!(7), false, false),
        ] {
            let t = token(aud.clone());
            assert_eq!(verify(&t, &k.set, &bound).is_ok(), bound_ok, "{aud}");
            assert_eq!(verify(&t, &k.set, &strict).is_ok(), strict_ok, "{aud} required");
            // The session fast path agrees with the full check.
            let parsed = parse_token(&t).unwrap();
            assert_eq!(validate_session_claims(&parsed, &bound, now() as f64).is_ok(), bound_ok, "{aud} session");
        }
        assert_eq!(verify(&token(json!("p2")), &k.set, &bound).unwrap_err().message, "unexpected \"aud\" claim value");
        assert_eq!(verify(&token(Value::Null), &k.set, &strict).unwrap_err().message, "missing required \"aud\" claim");
        // An explicit audience replaces the binding; without a project every aud passes.
        let explicit = VerifyOptions { audience: Some(vec!["p2".into()]), ..bound.clone() };
        assert!(verify(&token(json!("p2")), &k.set, &explicit).is_ok());
        assert!(verify(&token(json!("p2")), &k.set, &VerifyOptions::default()).is_ok());
        assert_eq!(unverified_audience(&token(json!("p1"))), AudienceClaim::Values(vec!["p1".into()]));
        assert_eq!(unverified_audience("not-a-jwt"), AudienceClaim::Absent);
    }

    #[test]
    fn malformed_tokens_get_jose_messages() {
        let k = keys();
        let opts = VerifyOptions::default();
        let message = |t: &str| verify(t, &k.set, &opts).unwrap_err().message;
        assert_eq!(message(""), "Invalid Compact JWS");
        assert_eq!(message("a.b"), "Invalid Compact JWS");
        assert_eq!(message("a.b.c.d"), "Invalid Compact JWS");
        assert_eq!(message("!!.b.c"), "JWS Protected Header is invalid");
        assert_eq!(
            message(&format!("{}.e30.", b64(b"[1]"))),
            "JWS \"alg\" (Algorithm) Header Parameter missing or invalid"
        );
        assert_eq!(message(&format!("{}.e30.", b64(b"nope"))), "JWS Protected Header is invalid");
        assert_eq!(
            message(&format!("{}.e30.", b64(b"{}"))),
            "JWS \"alg\" (Algorithm) Header Parameter missing or invalid"
        );
        let huge = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(message(&huge), "JWT exceeds the maximum allowed size");
        // A signed payload that is a JSON array is refused after the signature check.
        let header = b64(br#"{"alg":"EdDSA","kid":"ed"}"#);
        let payload = b64(b"[1]");
        let input = format!("{header}.{payload}");
        let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &k.ed, Algorithm::EdDSA).unwrap();
        assert_eq!(message(&format!("{input}.{sig}")), "JWT Claims Set must be a top-level JSON object");
    }

    /// The typed reads (header, session claims) answer exactly as the JSON
    /// tree reads they shortcut, for every shape they could misread.
    #[test]
    fn typed_reads_agree_with_tree_reads() {
        let future = now() + 600;
        let past = now() - 600;
        let payloads = [
            format!(r#"{{"sub":"u","exp":{future},"iat":1,"nbf":1,"extra":{{"a":[1,null]}}}}"#),
            format!(r#"{{"sub":null,"exp":{future}}}"#),
            format!(r#"{{"sub":7,"exp":{future}}}"#),
            format!(r#"{{"sub":"\u0041\ud83d\ude00","exp":{future}.5}}"#),
            r#"{"sub":"u","exp":null}"#.to_string(),
            r#"{"sub":"u","exp":"9999999999"}"#.to_string(),
            format!(r#"{{"sub":"u","exp":{future},"exp":{past}}}"#),
            format!(r#"{{"sub":"u","exp":{past},"exp":{future}}}"#),
            format!(r#"{{"sub":"a","sub":"b","exp":{future}}}"#),
            format!(r#"{{"sub":"u","exp":{future},"iat":"x"}}"#),
            format!(r#"{{"sub":"u","exp":{future},"iat":null}}"#),
            format!(r#"{{"sub":"u","exp":{future},"nbf":{future}}}"#),
            format!(r#"{{"sub":"u","exp":{future},"nbf":null}}"#),
            format!(r#"{{"sub":"u","nbf":{future},"exp":"x"}}"#),
            r#"{"sub":"u","exp":1e400}"#.to_string(),
            r#"{"sub":"u","exp":18446744073709551616}"#.to_string(),
            r#"{"sub":"u"}"#.to_string(),
            format!(r#"{{"sub":"u","exp":{past}}}"#),
            "[1]".to_string(),
            "null".to_string(),
            r#"{"sub":"u"} x"#.to_string(),
            "{".to_string(),
            format!(r#"{{"sub":"{}","exp":{future}}}"#, "x".repeat(2000)),
        ];
        let header = b64(br#"{"alg":"EdDSA"}"#);
        let option_sets = [
            VerifyOptions::default(),
            VerifyOptions { require_expiration: true, clock_tolerance_seconds: 900.0, ..Default::default() },
            VerifyOptions { issuer: Some(vec!["i".into()]), ..Default::default() },
        ];
        for payload in &payloads {
            let token = format!("{header}.{}.sig", b64(payload.as_bytes()));
            let parsed = parse_token(&token).unwrap();
            for options in &option_sets {
                let typed = validate_session_claims(&parsed, options, now_seconds());
                let tree = validate_claims(&parsed, options, now_seconds()).map(|claims| SessionClaims::of(&claims));
                assert_eq!(typed, tree, "payload {payload} with {options:?}");
            }
        }

        let headers = [
            r#"{"alg":"RS256","kid":"k"}"#,
            r#"{"kid":"k","alg":"RS256","typ":"JWT","x":{"y":[1]}}"#,
            r#"{"alg":"RS256","kid":7}"#,
            r#"{"alg":"RS256","kid":null}"#,
            r#"{"alg":"RS256","alg":"ES256"}"#,
            r#"{"alg":"RS256","kid":"a","kid":"b"}"#,
            r#"{"alg":""}"#,
            r#"{"alg":5}"#,
            r#"{"alg":"RS256","crit":null}"#,
            r#"{"alg":"RS256","crit":["b64"],"b64":false}"#,
            r#"{"alg":"RS256","crit":["exp"]}"#,
            r#"["alg"]"#,
            r#"{"alg":"\u0052S256"}"#,
        ];
        for header in headers {
            let encoded = b64(header.as_bytes());
            if let Some(fields) = plain_header(&encoded) {
                assert_eq!(Ok(fields), header_fields(&encoded), "header {header}");
            }
        }
        // The header Crossmint issues takes the typed read.
        assert!(plain_header(&b64(headers[0].as_bytes())).is_some());
    }
}

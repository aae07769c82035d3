//! The napi layer: converts JavaScript values to the core's types and back,
//! nothing more. Failures of the async calls resolve to `{ ok: false, code,
//! message }` instead of rejecting, so the JavaScript side can raise its own
//! `CrossmintAuthenticationError` with a stable `code` without parsing text.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::{json, Value};

use crate::api_key::{validate_api_key_with, Environment, KeyExpectations, UsageOrigin};
use crate::check_threads::{Check, Replies, CHECK_THREADS};
use crate::cookies::{self, CookieOptions};
use crate::crossmint_client::{ClientError, CrossmintConfig, DEFAULT_TIMEOUT};
use crate::http_date::JsTime;
use crate::jwks::KeySet;
use crate::jwt::{self, Claims, VerifyOptions};
use crate::key_set_cache;
use crate::revoked_jwts;
use crate::session::{Session, SessionEngine, SessionError};

use crate::token_verifier;
use crate::verify_error::{VerifyError, VerifyErrorKind};

/// `NativeAuth::cookie_session`'s answer, a JavaScript array.
type CookieSession = (Option<String>, Option<String>, Option<String>, Option<f64>, Option<f64>, f64);

/// A day: longer deadlines are taken as this (and never overflow a timer).
const MAX_TIMEOUT_MS: f64 = 86_400_000.0;

#[napi(object)]
pub struct NativeCrossmintConfig {
    pub api_key: String,
    pub jwt: Option<String>,
    pub override_base_url: Option<String>,
    pub app_id: Option<String>,
    pub extension_id: Option<String>,
}

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

#[napi(object)]
pub struct NativeAuthOptions {
    pub refresh_route: Option<String>,
    pub timeout_ms: Option<f64>,
    pub clock_tolerance_seconds: Option<f64>,
    pub issuer: Option<Vec<String>>,
    pub audience: Option<Vec<String>>,
    pub refresh_grace_seconds: Option<f64>,
    pub require_expiration: Option<bool>,
    /// `refreshCoordination.redisUrl`.
    pub redis_url: Option<String>,
    /// `keySetStaleIfErrorSeconds`: how old a held key set may be and still
    /// verify while refetches fail.
    pub key_set_stale_if_error_seconds: Option<f64>,
}

impl From<NativeCookieOptions> for CookieOptions {
    fn from(o: NativeCookieOptions) -> Self {
        CookieOptions {
            http_only: o.http_only,
            secure: o.secure,
            same_site: o.same_site,
            domain: o.domain,
            expires: o.expires_ms.map(JsTime::from_millis),
        }
    }
}

fn verify_options(o: &NativeAuthOptions) -> VerifyOptions {
    VerifyOptions {
        clock_tolerance_seconds: o.clock_tolerance_seconds.unwrap_or(0.0).max(0.0),
        issuer: o.issuer.clone(),
        audience: o.audience.clone(),
        require_expiration: o.require_expiration.unwrap_or(false),
    }
}

fn verify_failure(error: VerifyError) -> Value {
    json!({ "ok": false, "name": error.name(), "code": error.code(), "message": error.message })
}

fn session_failure(error: SessionError) -> Value {
    json!({
        "ok": false,
        "code": error.code,
        "message": error.cause,
        "authenticationFailure": error.authentication_failure,
    })
}

fn client_failure(error: ClientError) -> Value {
    session_failure(SessionError::from_client(error))
}

/// Throws the reference's message for a key `createCrossmint` must refuse.
/// `usage_origin` ("client"/"server") and `environment` are the optional
/// expectations `createCrossmint` takes as its second argument.
#[napi]
pub fn check_api_key(api_key: String, usage_origin: Option<String>, environment: Option<String>) -> Result<()> {
    let expect = KeyExpectations {
        usage_origin: match usage_origin.as_deref() {
            Some("client") => Some(UsageOrigin::Client),
            Some("server") => Some(UsageOrigin::Server),
            _ => None,
        },
        environment: match environment.as_deref() {
            Some("development") => Some(Environment::Development),
            Some("staging") => Some(Environment::Staging),
            Some("production") => Some(Environment::Production),
            _ => None,
        },
    };
    validate_api_key_with(&api_key, expect)
        .map(|_| ())
        .map_err(|e| Error::new(Status::InvalidArg, e.0))
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
    NativeAuthCookies {
        jwt: found.jwt,
        refresh_token: found.refresh_token,
    }
}

/// While it returns the same number, every verification on record that was
/// good then is good now: no key set generation was replaced
/// (`key_set_cache::generation_changes`) and no JWT was revoked by a logout
/// (`revoked_jwts::revocations`). Both counts only grow.
#[napi]
pub fn record_invalidations() -> f64 {
    record_invalidations_now()
}

fn record_invalidations_now() -> f64 {
    (key_set_cache::generation_changes() + revoked_jwts::revocations()) as f64
}

/// Warnings raised in Rust since the last call, for the user's logger.
#[napi]
pub fn take_warnings() -> Vec<String> {
    crate::warnings::take()
}

/// The two `Set-Cookie` values for a session (empty strings clear it).
#[napi]
pub fn auth_set_cookies(
    jwt: String,
    refresh_secret: String,
    refresh_expires_ms: Option<f64>,
    options: NativeCookieOptions,
) -> Vec<String> {
    let options = CookieOptions::from(options);
    cookies::auth_set_cookies(
        &jwt,
        &refresh_secret,
        refresh_expires_ms.map(JsTime::from_millis),
        &options,
    )
    .into()
}

/// Against a key set given inline; nothing is remembered (see
/// `verifyCrossmintJwt` in index.js).
fn verify_inline(token: &str, set: &Value, options: &VerifyOptions) -> std::result::Result<Claims, VerifyError> {
    jwt::verify(token, &KeySet::from_json(set)?, options)
}

/// The payload goes back as the JSON text the token carries, which the
/// JavaScript side parses: a fresh object per call, built exactly as jose
/// builds the reference's (`JSON.parse` of the decoded payload).
fn verify_reply(token: &str, result: std::result::Result<Claims, VerifyError>) -> Value {
    match result.map(|_| jwt::payload_text(token)) {
        Ok(Some(payload)) => json!({ "ok": true, "payloadJson": payload }),
        Ok(None) => verify_failure(VerifyError::new(
            VerifyErrorKind::ClaimsNotObject,
            "JWT Claims Set must be a top-level JSON object",
        )),
        Err(e) => verify_failure(e),
    }
}

/// Whether a token was verified before against this key set URI with default
/// options, or, when allowed, verifies now with the key set already held.
#[napi]
pub fn jwt_verified_for(token: String, jwks_uri: String, allow_signature_check: bool) -> bool {
    token_verifier::for_uri(&jwks_uri).verified_now(&token, allow_signature_check)
}

/// A token's payload as the JSON text it carries (`undefined` when that is
/// not UTF-8), for `verifyCrossmintJwt` answers from the record.
#[napi]
pub fn jwt_payload_text(token: String) -> Option<String> {
    jwt::payload_text(&token)
}

/// Verifies a token against a key set URI (cached, and remembered for
/// `jwtVerifiedFor`) or an inline JWK set (never remembered).
#[napi]
pub async fn verify_jwt(token: String, jwks_uri: Option<String>, jwks: Option<Value>) -> Value {
    let result = match (jwks, jwks_uri) {
        (Some(set), _) => verify_inline(&token, &set, &VerifyOptions::default()),
        (None, Some(uri)) => token_verifier::for_uri(&uri).verify(&token).await,
        (None, None) => Err(VerifyError::new(VerifyErrorKind::KeySetInvalid, "JSON Web Key Set malformed")),
    };
    verify_reply(&token, result)
}

/// `material` is set when a refresh happened; `code`/`message` when `ok` is false.
#[napi(object, object_from_js = false)]
#[derive(Default)]
pub struct NativeSessionReply {
    pub ok: bool,
    pub user_id: Option<String>,
    pub material: Option<Json>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub authentication_failure: bool,
}

/// Answers from the check threads (`check_threads`) for one JavaScript
/// environment: finished checks collect in `finished`, and the first one
/// after the JS thread last took them wakes it through `wake`. Each worker
/// thread's environment builds its own channel; the threads are shared.
struct ChannelReplies {
    finished: Mutex<Vec<(u32, Option<String>)>>,
    /// Weak (unref'd) so an idle channel never keeps the process alive;
    /// `CheckChannel::keep_alive` refs it while checks are out.
    wake: ThreadsafeFunction<(), Unknown<'static>, (), Status, false, true>,
}

impl Replies for ChannelReplies {
    fn deliver(&self, id: u32, answer: Option<String>) {
        let first = {
            let mut finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
            finished.push((id, answer));
            finished.len() == 1
        };
        if first {
            // Unbounded queue: never blocks. Closing (the environment is
            // gone) leaves nobody to answer.
            self.wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// The answers `takeFinished` hands over: `subjects[i]` answers `ids[i]`
/// (`null`: not verifiable with the key set held, take the slow path).
#[napi(object, object_to_js = true, object_from_js = false)]
pub struct FinishedChecks {
    pub ids: Vec<u32>,
    pub subjects: Vec<Option<String>>,
}

#[napi]
pub struct CheckChannel {
    replies: Arc<ChannelReplies>,
}

#[napi]
impl CheckChannel {
    /// `on_finished` is called (with no arguments) when answers are waiting.
    #[napi(constructor)]
    pub fn new(on_finished: Function<(), Unknown<'static>>) -> Result<Self> {
        let wake = on_finished
            .build_threadsafe_function::<()>()
            .weak::<true>()
            .callee_handled::<false>()
            .build_callback(|_| Ok(()))?;
        Ok(CheckChannel {
            replies: Arc::new(ChannelReplies {
                finished: Mutex::new(Vec::new()),
                wake,
            }),
        })
    }

    /// Everything finished since the last call.
    #[napi]
    pub fn take_finished(&self) -> FinishedChecks {
        let finished = std::mem::take(&mut *self.replies.finished.lock().unwrap_or_else(|p| p.into_inner()));
        let (ids, subjects) = finished.into_iter().unzip();
        FinishedChecks { ids, subjects }
    }

    /// Keeps the event loop alive while checks are out (so a script
    /// awaiting one does not exit first), and lets it go when none are.
    #[napi]
    pub fn keep_alive(&self, env: Env, keep: bool) -> Result<()> {
        let raw = self.replies.wake.raw();
        // napi-rs's `refer`/`unref` need `&mut`, but the function is shared
        // with the check threads; the raw calls are the same napi calls,
        // made on the JS thread as napi requires.
        let status = unsafe {
            if keep {
                sys::napi_ref_threadsafe_function(env.raw(), raw)
            } else {
                sys::napi_unref_threadsafe_function(env.raw(), raw)
            }
        };
        match status {
            sys::Status::napi_ok => Ok(()),
            status => Err(Error::new(Status::from(status), "could not (un)ref the check channel")),
        }
    }
}

#[napi]
pub struct NativeAuth {
    engine: Arc<SessionEngine>,
}

#[napi]
impl NativeAuth {
    #[napi(constructor)]
    pub fn new(config: NativeCrossmintConfig, options: NativeAuthOptions) -> Result<Self> {
        let timeout = options
            .timeout_ms
            .filter(|ms| ms.is_finite() && *ms > 0.0)
            .map(|ms| Duration::from_millis(ms.min(MAX_TIMEOUT_MS) as u64))
            .unwrap_or(DEFAULT_TIMEOUT);
        let config = CrossmintConfig {
            api_key: config.api_key,
            jwt: config.jwt,
            override_base_url: config.override_base_url,
            app_id: config.app_id,
            extension_id: config.extension_id,
        };
        let mut engine = SessionEngine::new(
            &config,
            options.refresh_route.clone(),
            verify_options(&options),
            timeout,
        )
        .map_err(|e| Error::new(Status::InvalidArg, e.0))?;
        if let Some(seconds) = options.refresh_grace_seconds {
            // Anything not a sane non-negative number keeps the default; the
            // table caps the window at ROTATION_GRACE anyway.
            if let Ok(grace) = Duration::try_from_secs_f64(seconds) {
                engine.refresh_grace = grace.min(crate::refresh_flight::ROTATION_GRACE);
            }
        }
        if let Some(seconds) = options.key_set_stale_if_error_seconds {
            if let Ok(window) = Duration::try_from_secs_f64(seconds) {
                engine.verifier.stale_if_error = window;
            }
        }
        if let Some(url) = &options.redis_url {
            let store = crate::redis_refresh_store::shared_store(url).map_err(|e| Error::new(Status::InvalidArg, e))?;
            // Other processes' logouts must reach this one before it serves
            // its first session, not after its first refresh.
            napi::bindgen_prelude::within_runtime_if_available(|| store.listen_for_revocations());
            engine.coordination = Some(store);
        }
        Ok(NativeAuth {
            engine: Arc::new(engine),
        })
    }

    #[napi]
    pub fn jwks_uri(&self) -> String {
        self.engine.jwks_uri().to_string()
    }

    /// The user id of a JWT that is known good without waiting (see
    /// `TokenVerifier::verified_subject_now`); `undefined` sends the caller
    /// down the asynchronous path. At most one signature check, on this thread.
    #[napi]
    pub fn verified_subject(&self, jwt: String, allow_signature_check: bool) -> Option<String> {
        self.engine.verifier.verified_subject_now(&jwt, allow_signature_check).flatten()
    }

    /// `[jwt, refreshToken, userId, goodBeforeSecs, freshForMs, recordInvalidations]`
    /// of a `Cookie` header: getSession's common case in one crossing,
    /// converting the header once and never copying the token back in. The
    /// last four come from the JWT's verification on record (never a
    /// signature check here) and are unset without one: its user id, the
    /// whole second before which its `exp` (plus tolerance) holds, how many
    /// milliseconds its key set stays fresh, and `recordInvalidations()`
    /// read before the lookup. Together they bound how long JavaScript may
    /// reuse the answer for the same header. An array, not an object: napi
    /// sets named properties through V8's slow path, which costs more than
    /// the lookup.
    #[napi(ts_return_type = "[string | undefined, string | undefined, string | undefined, number | undefined, number | undefined, number]")]
    pub fn cookie_session(&self, header: String) -> CookieSession {
        let changes = record_invalidations_now();
        let found = cookies::parse_auth_cookies(&header);
        let record = match found.jwt.as_deref() {
            Some(jwt) if !jwt.is_empty() => self.engine.verifier.record_of(jwt),
            _ => None,
        };
        let (user_id, good_before_secs, fresh_for_ms) = match record {
            Some(record) => {
                let fresh_for = record.key_set_fresh_until.saturating_duration_since(Instant::now());
                (record.subject, record.good_before_secs, Some(fresh_for.as_millis() as f64))
            }
            None => (None, None, None),
        };
        (found.jwt, found.refresh_token, user_id, good_before_secs, fresh_for_ms, changes)
    }

    /// Queues a signature check of each of `jwts` (against the key set
    /// already held) on the check threads; the answer for `jwts[i]` comes
    /// back through `channel` with id `first_id + i`. `null` sends its caller
    /// down `session`.
    #[napi]
    pub fn check_on_threads(&self, channel: &CheckChannel, first_id: u32, jwts: Vec<String>) {
        let checks = jwts
            .into_iter()
            .enumerate()
            .map(|(index, jwt)| {
                let engine = self.engine.clone();
                Check {
                    id: first_id.wrapping_add(index as u32),
                    check: Box::new(move || engine.verifier.verified_subject_now(&jwt, true).flatten()),
                    replies: channel.replies.clone(),
                }
            })
            .collect();
        CHECK_THREADS.submit(checks);
    }

    /// Validates the JWT or refreshes. A plain object rather than JSON: this
    /// is the per-request path, and field-by-field conversion is cheaper.
    #[napi]
    pub async fn session(&self, jwt: Option<String>, refresh_token: String) -> NativeSessionReply {
        match self.engine.validate_or_refresh(jwt.as_deref(), &refresh_token).await {
            Ok(Session::Valid { user_id, .. }) => NativeSessionReply {
                ok: true,
                user_id,
                ..Default::default()
            },
            Ok(Session::Refreshed(material)) => NativeSessionReply {
                ok: true,
                user_id: Some(material.user_id().to_string()),
                material: Some(Json(material.to_json())),
                ..Default::default()
            },
            Err(e) => NativeSessionReply {
                code: Some(e.code.to_string()),
                message: Some(e.cause),
                authentication_failure: e.authentication_failure,
                ..Default::default()
            },
        }
    }

    /// Verifies with this instance's options, against its key set URI or `jwks`.
    #[napi]
    pub async fn verify(&self, token: String, jwks: Option<Value>) -> Value {
        let result = match jwks {
            None => self.engine.verifier.verify(&token).await,
            Some(set) => verify_inline(&token, &set, &self.engine.verifier.options),
        };
        verify_reply(&token, result)
    }

    /// Whether this instance's key set and options verified the token before
    /// (or, when allowed, verify it now with the key set already held);
    /// `false` sends the caller down `verify`.
    #[napi]
    pub fn is_verified(&self, token: String, allow_signature_check: bool) -> bool {
        self.engine.verifier.verified_now(&token, allow_signature_check)
    }

    /// Refreshes (through Crossmint, or the configured refresh route).
    #[napi]
    pub async fn refresh(&self, refresh_token: String) -> Json {
        Json(match self.engine.refresh(&refresh_token).await {
            Ok(material) => json!({ "ok": true, "material": material.to_json() }),
            Err(e) => client_failure(e),
        })
    }

    /// Crossmint's refresh endpoint only, as `handleCustomRefresh` uses it.
    #[napi]
    pub async fn refresh_with_crossmint(&self, refresh_token: String) -> Json {
        Json(match self.engine.refresh_with_crossmint(&refresh_token).await {
            Ok(material) => json!({ "ok": true, "material": material.to_json() }),
            Err(e) => client_failure(e),
        })
    }

    /// Ends the session of the request's cookies: `jwt` is refused as a
    /// session and `refresh_token`'s chain is logged out in this process
    /// before this call returns; the promise settles when the rest (Crossmint,
    /// other processes) is done or the timeout passed.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn logout<'env>(&self, env: &'env Env, refresh_token: Option<String>, jwt: Option<String>) -> Result<PromiseRaw<'env, Json>> {
        let started = self.engine.begin_logout(refresh_token.as_deref(), jwt.as_deref());
        let engine = self.engine.clone();
        env.spawn_future(async move {
            Ok(Json(match engine.finish_logout(started).await {
                Ok(()) => json!({ "ok": true }),
                Err(e) => client_failure(e),
            }))
        })
    }

    /// Revokes a refresh token at Crossmint after its session failed (not a
    /// logout: the chain it belongs to is left alone).
    #[napi]
    pub async fn revoke_refresh_token(&self, refresh_token: Option<String>) -> Json {
        Json(match self.engine.client.logout(refresh_token.as_deref()).await {
            Ok(_) => json!({ "ok": true }),
            Err(e) => client_failure(e),
        })
    }

    #[napi]
    pub async fn get_user(&self, user_id: String) -> Json {
        Json(match self.engine.client.get_user(&user_id).await {
            Ok(user) => json!({ "ok": true, "user": user }),
            Err(e) => client_failure(e),
        })
    }
}

/// A JSON value handed to JavaScript as `JSON.parse` builds it: objects get
/// own data properties, so a `"__proto__"` key (from a token payload or a
/// Crossmint answer) is an ordinary property and never sets the prototype,
/// as assigning it would.
pub struct Json(pub Value);

impl TypeName for Json {
    fn type_name() -> &'static str {
        "any"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for Json {
    unsafe fn to_napi_value(env: sys::napi_env, json: Self) -> Result<sys::napi_value> {
        unsafe { json_to_js(env, json.0) }
    }
}

const OWN_DATA_PROPERTY: sys::napi_property_attributes = sys::PropertyAttributes::writable
    | sys::PropertyAttributes::enumerable
    | sys::PropertyAttributes::configurable;

/// Depth is bounded by serde_json's parser (128 levels), so recursion is safe.
unsafe fn json_to_js(env: sys::napi_env, value: Value) -> Result<sys::napi_value> {
    match value {
        Value::Object(map) => {
            let mut object = std::ptr::null_mut();
            check_status!(unsafe { sys::napi_create_object(env, &mut object) })?;
            let mut properties = Vec::with_capacity(map.len());
            for (key, item) in map {
                let mut name = std::ptr::null_mut();
                check_status!(unsafe {
                    sys::napi_create_string_utf8(env, key.as_ptr().cast(), key.len() as isize, &mut name)
                })?;
                properties.push(sys::napi_property_descriptor {
                    utf8name: std::ptr::null(),
                    name,
                    method: None,
                    getter: None,
                    setter: None,
                    value: unsafe { json_to_js(env, item) }?,
                    attributes: OWN_DATA_PROPERTY,
                    data: std::ptr::null_mut(),
                });
            }
            check_status!(unsafe {
                sys::napi_define_properties(env, object, properties.len(), properties.as_ptr())
            })?;
            Ok(object)
        }
        Value::Array(items) => {
            let mut array = std::ptr::null_mut();
            check_status!(unsafe { sys::napi_create_array_with_length(env, items.len(), &mut array) })?;
            for (index, item) in items.into_iter().enumerate() {
                let element = unsafe { json_to_js(env, item) }?;
                check_status!(unsafe { sys::napi_set_element(env, array, index as u32, element) })?;
            }
            Ok(array)
        }
        scalar => unsafe { Value::to_napi_value(env, scalar) },
    }
}

//! `NativeAuth`: one configuration's session engine (`session`), as a
//! `CrossmintAuth` instance uses it.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use super::check_channel::{CheckAnswers, CheckChannel};
use super::cookies::{checked_cookie_options, NativeCookieOptions};
use super::json::Json;
use super::process::record_invalidations_now;
use super::reply::{Failure, Reply, REFRESH_WITHHELD};
use super::verify::{verify_inline, verify_reply};
use crate::crossmint_client::CrossmintConfig;
use crate::http_date::JsTime;
use crate::jwt;
use crate::session::{ConfigError, EngineOptions, Session, SessionEngine};
use crate::session_cookies::{Clearing, Reader, SessionCookies};
use crate::token_verifier::VerifiedSubject;

/// `NativeAuth::cookie_session`'s answer, a JavaScript array (see there).
type CookieSession = (Option<String>, Option<String>, Option<String>, Option<f64>, f64);
/// `subject_now`'s answer: known now (on record or checked here), or queued.
type SubjectNow = Either<Option<String>, ()>;

#[napi(object)]
pub struct NativeCrossmintConfig {
    pub api_key: String,
    pub jwt: Option<String>,
    pub override_base_url: Option<String>,
    pub app_id: Option<String>,
    pub extension_id: Option<String>,
}

/// `CrossmintAuth.from`'s options as JavaScript gave them; the engine
/// decides what each value means.
#[napi(object)]
pub struct NativeAuthOptions {
    pub refresh_route: Option<String>,
    pub timeout_ms: Option<f64>,
    pub clock_tolerance_seconds: Option<f64>,
    pub issuer: Option<Vec<String>>,
    pub audience: Option<Vec<String>>,
    /// `false` turns off the binding of JWTs to the API key's project.
    pub project_audience: Option<bool>,
    pub require_audience: Option<bool>,
    pub refresh_grace_seconds: Option<f64>,
    pub require_expiration: bool,
    pub key_set_stale_if_error_seconds: Option<f64>,
    /// `refreshCoordination` was given (implied by a `redisUrl`).
    pub refresh_coordination: Option<bool>,
    /// `refreshCoordination.redisUrl`, when a string.
    pub redis_url: Option<String>,
    /// `refreshCoordination.redisUrls`, the strings of it.
    pub redis_urls: Option<Vec<String>>,
    /// `localCoordination` as a boolean (`{ file }` counts as true).
    pub local_coordination: Option<bool>,
    pub local_coordination_file: Option<String>,
    /// `require('node:cluster').isWorker`.
    pub cluster_worker: Option<bool>,
}

#[napi(object)]
pub struct NativeSessionCookies {
    pub jwt: Option<String>,
    pub refresh_token: Option<String>,
}

#[napi]
pub struct NativeAuth {
    engine: Arc<SessionEngine>,
    /// Where queued checks are answered: its environment's check channel.
    check_answers: OnceLock<CheckAnswers>,
}

#[napi]
impl NativeAuth {
    /// Throws the reference's error for a refused API key, and a `TypeError`
    /// for an unusable option.
    #[napi(constructor)]
    pub fn new(env: Env, config: NativeCrossmintConfig, options: NativeAuthOptions) -> Result<Self> {
        let config = CrossmintConfig {
            api_key: config.api_key,
            jwt: config.jwt,
            override_base_url: config.override_base_url,
            app_id: config.app_id,
            extension_id: config.extension_id,
        };
        let options = EngineOptions {
            refresh_route: options.refresh_route,
            timeout_ms: options.timeout_ms,
            clock_tolerance_seconds: options.clock_tolerance_seconds,
            issuer: options.issuer,
            audience: options.audience,
            project_audience: options.project_audience,
            require_audience: options.require_audience.unwrap_or(false),
            require_expiration: options.require_expiration,
            refresh_grace_seconds: options.refresh_grace_seconds,
            key_set_stale_if_error_seconds: options.key_set_stale_if_error_seconds,
            coordination_requested: options.refresh_coordination.unwrap_or(false) || options.redis_url.is_some(),
            redis_url: options.redis_url,
            redis_urls: options.redis_urls,
            local_coordination: options.local_coordination,
            local_coordination_file: options.local_coordination_file,
            cluster_worker: options.cluster_worker.unwrap_or(false),
        };
        let engine = SessionEngine::new(&config, options).map_err(|error| match error {
            ConfigError::ApiKey(message) => Error::new(Status::InvalidArg, message),
            ConfigError::Option(message) => super::type_error(&env, &message),
        })?;
        if let Some(store) = engine.coordination() {
            // Other processes' logouts must reach this one before it serves
            // its first session, not after its first refresh.
            napi::bindgen_prelude::within_runtime_if_available(|| store.listen_for_revocations());
        }
        Ok(NativeAuth { engine: Arc::new(engine), check_answers: OnceLock::new() })
    }

    /// The API key's project id, which scopes the cookie names and binds
    /// the JWTs' `aud`.
    #[napi]
    pub fn project_id(&self) -> String {
        self.engine.client.project_id().to_string()
    }

    /// This project's session in a `Cookie` header (scoped names first).
    #[napi]
    pub fn session_cookies(&self, header: String) -> NativeSessionCookies {
        let found = self.engine.cookies.read(&header);
        NativeSessionCookies { jwt: found.jwt, refresh_token: found.refresh_token }
    }

    /// The `Set-Cookie` lines for new material: for the page whose `Cookie`
    /// header was `header` (getSession), or, with `refresh_route`, for a
    /// client in refresh-route mode; `spent` is the refresh token exchanged.
    /// The naming rule is `session_cookies::ProjectCookies`'.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn material_set_cookies(
        &self,
        env: Env,
        header: Option<String>,
        spent: Option<String>,
        refresh_route: bool,
        jwt: String,
        refresh_secret: String,
        refresh_expires_ms: Option<f64>,
        options: NativeCookieOptions,
    ) -> Result<Vec<String>> {
        let options = checked_cookie_options(&env, options)?;
        let request = self.request_cookies(header.as_deref());
        let reader = if refresh_route { Reader::RefreshRoute } else { Reader::Page };
        Ok(self.engine.cookies.material_set_cookies(
            request.as_ref(),
            spent.as_deref(),
            reader,
            &jwt,
            &refresh_secret,
            refresh_expires_ms.map(JsTime::from_millis),
            &options,
        ))
    }

    /// The `Set-Cookie` lines that clear the session of `header`'s request:
    /// every naming (a logout), or the naming it came in with.
    #[napi]
    pub fn cleared_set_cookies(
        &self,
        env: Env,
        header: Option<String>,
        every_naming: bool,
        options: NativeCookieOptions,
    ) -> Result<Vec<String>> {
        let options = checked_cookie_options(&env, options)?;
        let request = self.request_cookies(header.as_deref());
        let clearing = if every_naming { Clearing::Everything } else { Clearing::RequestSession };
        Ok(self.engine.cookies.cleared_set_cookies(request.as_ref(), clearing, &options))
    }

    /// When the request's scoped session (refresh token `failed`) was
    /// refused and it also carries an unscoped pair of this project, that
    /// pair, to try instead (see `SessionCookies::unscoped_fallback`).
    #[napi]
    pub fn unscoped_fallback(&self, header: String, failed: String) -> Option<NativeSessionCookies> {
        let found = self.engine.cookies.read(&header);
        found.unscoped_fallback(&failed).map(|(jwt, refresh_token)| NativeSessionCookies {
            jwt: Some(jwt.to_owned()),
            refresh_token: Some(refresh_token.to_owned()),
        })
    }

    fn request_cookies(&self, header: Option<&str>) -> Option<SessionCookies> {
        header.map(|header| self.engine.cookies.read(header))
    }

    #[napi]
    pub fn jwks_uri(&self) -> String {
        self.engine.jwks_uri().to_string()
    }

    /// The deadline of each Crossmint call, in ms, which also bounds reading
    /// a refresh body.
    #[napi]
    pub fn timeout_ms(&self) -> f64 {
        self.engine.timeout().as_millis() as f64
    }

    /// Queued checks are answered through `channel`, this environment's
    /// (lib/core/check-scheduler.js hands it over once, when the native half
    /// is built; a later call changes nothing).
    #[napi]
    pub fn answer_checks_through(&self, channel: &CheckChannel) {
        let _ = self.check_answers.set(channel.answers());
    }

    /// The user id of a JWT known good without waiting, or where its
    /// check is going. A string: the user id on record. `null`: go down
    /// `session` (a record without a string `sub`). Not on record and
    /// `check_here` (or no channel handed over): one signature check against
    /// the key set already held, made on this thread, answered the same way
    /// (`null`: go down `session`), its microseconds left in the channel's
    /// check time cell. Not on record otherwise: the check is queued on the
    /// check threads and answered through the channel under `id`;
    /// `undefined`.
    #[napi(ts_return_type = "string | null | undefined")]
    pub fn subject_now(&self, jwt: String, check_here: bool, id: u32) -> SubjectNow {
        let key = match self.engine.verifier.recorded_subject(&jwt) {
            Ok(VerifiedSubject(user_id)) => return Either::A(user_id),
            Err(key) => key,
        };
        match self.check_answers.get() {
            Some(answers) if !check_here => {
                let engine = self.engine.clone();
                answers.submit(
                    id,
                    Box::new(move || {
                        engine.verifier.check_unrecorded(key, &jwt).and_then(|VerifiedSubject(user_id)| user_id)
                    }),
                );
                Either::B(())
            }
            answers => {
                let started = Instant::now();
                let user_id =
                    self.engine.verifier.check_unrecorded(key, &jwt).and_then(|VerifiedSubject(user_id)| user_id);
                if let Some(answers) = answers {
                    answers.record_check_here(started.elapsed().as_secs_f64() * 1e6);
                }
                Either::A(user_id)
            }
        }
    }

    /// `[jwt, refreshToken, userId, reusableForMs, recordInvalidations]` of a
    /// `Cookie` header: getSession's common case in one crossing, converting
    /// the header once. The last three come from the JWT's verification on
    /// record (never a signature check here) and are unset without one: its
    /// user id, how many milliseconds the record holds by its `exp` and its
    /// key set's freshness, and `recordInvalidations()` read before the
    /// lookup. JavaScript may reuse the answer for the same header that long,
    /// while the count stays put. An array, not an object: napi sets named
    /// properties through V8's slow path, which costs more than the lookup.
    #[napi(ts_return_type = "[string | undefined, string | undefined, string | undefined, number | undefined, number]")]
    pub fn cookie_session(&self, header: String) -> CookieSession {
        let invalidations = record_invalidations_now();
        let found = self.engine.cookies.read(&header);
        let record = match found.jwt.as_deref() {
            Some(jwt) if !jwt.is_empty() => self.engine.verifier.record_of(jwt),
            _ => None,
        };
        let (user_id, reusable_for_ms) = match record {
            Some(record) => {
                let reusable_for = record.reusable_for(Instant::now(), jwt::now_millis());
                (record.subject, reusable_for.map(|d| d.as_millis() as f64))
            }
            None => (None, None),
        };
        (found.jwt, found.refresh_token, user_id, reusable_for_ms, invalidations)
    }

    /// Validates the JWT or refreshes: `userId`, and `material` when a
    /// refresh happened. With `may_refresh` false (the caller could not
    /// store a refresh's result) a session that needs one fails
    /// `REFRESH_WITHHELD` and the refresh token is not spent.
    #[napi]
    pub async fn session(&self, jwt: Option<String>, refresh_token: String, may_refresh: Option<bool>) -> Reply {
        if may_refresh == Some(false) {
            return match self.engine.validate(jwt.as_deref()).await {
                Some(user_id) => Reply { user_id, ..Default::default() },
                None => Reply::failed(Failure {
                    code: REFRESH_WITHHELD.to_string(),
                    message: "the session needs a refresh whose cookies could not be stored".to_string(),
                    name: None,
                    outage: false,
                }),
            };
        }
        match self.engine.validate_or_refresh(jwt.as_deref(), &refresh_token).await {
            Ok(Session::Valid { user_id }) => Reply { user_id, ..Default::default() },
            Ok(Session::Refreshed(material)) => Reply {
                user_id: Some(material.user_id().to_string()),
                material: Some(Json(material.to_json())),
                ..Default::default()
            },
            Err(error) => Reply::failed(error),
        }
    }

    /// Verifies with this instance's options, against its own key set, or
    /// `jwks`: another key set URI (a string) or an inline JWK set.
    #[napi]
    pub async fn verify(&self, token: String, jwks: Option<Value>) -> Reply {
        let options = &self.engine.verifier.options;
        let result = match jwks {
            None => self.engine.verifier.verify(&token).await,
            Some(Value::String(uri)) if uri == self.engine.jwks_uri() => self.engine.verifier.verify(&token).await,
            Some(Value::String(uri)) => self.engine.verifier.for_other_uri(&uri).verify(&token).await,
            Some(set) => verify_inline(&token, &set, options),
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

    /// Crossmint's refresh endpoint, as `handleCustomRefresh` uses it.
    #[napi]
    pub async fn refresh_with_crossmint(&self, refresh_token: String) -> Reply {
        match self.engine.refresh_with_crossmint(&refresh_token).await {
            Ok(material) => Reply { material: Some(Json(material.to_json())), ..Default::default() },
            Err(error) => Reply::failed(error),
        }
    }

    /// Ends the session of a request's `Cookie` header: its JWT is refused
    /// as a session and its refresh token's chain is logged out in this
    /// process before this call returns (so is the chain of an unscoped
    /// refresh token of this project it also carries); the promise settles
    /// when the rest (Crossmint, other processes) is done or the timeout
    /// passed, with the outcome for the session's own token.
    #[napi(ts_return_type = "Promise<Reply>")]
    pub fn logout<'env>(&self, env: &'env Env, header: Option<String>) -> Result<PromiseRaw<'env, Reply>> {
        let found = self.request_cookies(header.as_deref()).unwrap_or_default();
        // The unscoped JWT beside a scoped session is this project's too: left
        // alone, a request carrying both pairs would fall back to it.
        let jwts = [found.jwt.as_deref(), found.unscoped_jwt.as_deref()];
        let started = self.engine.begin_logout(found.refresh_token.as_deref(), jwts);
        let also = found
            .unscoped_refresh_token
            .filter(|token| Some(token) != found.refresh_token.as_ref())
            .map(|token| self.engine.begin_logout(Some(&token), []));
        let engine = self.engine.clone();
        env.spawn_future(async move {
            let (own, _) = tokio::join!(engine.finish_logout(started), async {
                match also {
                    Some(started) => engine.finish_logout(started).await,
                    None => Ok(()),
                }
            });
            Ok(match own {
                Ok(()) => Reply::default(),
                Err(error) => Reply::failed(error),
            })
        })
    }

    /// Revokes a refresh token at Crossmint after its session failed (not a
    /// logout: the chain it belongs to is left alone).
    #[napi]
    pub async fn revoke_refresh_token(&self, refresh_token: Option<String>) -> Reply {
        match self.engine.client.logout(refresh_token.as_deref()).await {
            Ok(_) => Reply::default(),
            Err(error) => Reply::failed(error),
        }
    }

    #[napi]
    pub async fn get_user(&self, user_id: String) -> Reply {
        match self.engine.client.get_user(&user_id).await {
            Ok(user) => Reply { user: Some(Json(user)), ..Default::default() },
            Err(error) => Reply::failed(error),
        }
    }
}

//! Session logic: a JWT that verifies is the session; otherwise the refresh
//! token buys a new one. This is `getSession` without the request and
//! response plumbing, which the JavaScript side keeps; and `logout`, which
//! ends a session's whole rotation chain.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::api_key::ApiKeyError;
use crate::crossmint_client::{
    AuthMaterial, ClientError, ClientErrorKind, CrossmintClient, CrossmintConfig, DEFAULT_TIMEOUT,
};
use crate::jwt;
use crate::jwt::VerifyOptions;
use crate::key_set_cache;
use crate::redis_refresh_store;
use crate::refresh_flight::{
    OutcomeKind, RefreshFlights, RefreshHandout, RefreshOutcome, MAX_TRACKED_TOKENS, ROTATION_GRACE,
};
use crate::revoked_jwts;
use crate::sealed_records::{SharedOutcome, Verdict};
use crate::session_cookies::ProjectCookies;
use crate::shared_refresh_store::{self, SharedRefreshStore};
use crate::token_verifier::{SignatureCheck, TokenVerifier, VerifiedSubject};
use crate::warnings;

/// Shared by every `CrossmintAuth` in the process: frameworks such as Next.js
/// build a new instance per request, and their refreshes must still meet here.
static REFRESH_FLIGHTS: LazyLock<RefreshFlights<Result<AuthMaterial, ClientError>>> =
    LazyLock::new(|| RefreshFlights::new(ROTATION_GRACE, MAX_TRACKED_TOKENS));

/// When a revocation at Crossmint fails for want of an answer (unreachable,
/// timeout, 5xx), it is tried again after each of these delays; a token
/// left live after a logout would let a copy of it sign back in.
const REVOCATION_RETRIES: [Duration; 5] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(16),
];

impl RefreshOutcome for Result<AuthMaterial, ClientError> {
    fn kind(&self) -> OutcomeKind {
        match self {
            Ok(_) => OutcomeKind::Rotated,
            Err(error) => match error.kind {
                ClientErrorKind::InvalidResponse | ClientErrorKind::OtherProject => OutcomeKind::SpentUnusable,
                ClientErrorKind::LoggedOut => OutcomeKind::LoggedOut,
                ClientErrorKind::AlreadyRotated => OutcomeKind::Refused,
                ClientErrorKind::Rejected(status) if status < 500 => OutcomeKind::Refused,
                _ => OutcomeKind::Unknown,
            },
        }
    }
}

/// A refresh outcome as another process receives it through Redis.
impl SharedOutcome for Result<AuthMaterial, ClientError> {
    fn verdict(&self) -> Verdict {
        match self.kind() {
            OutcomeKind::Rotated => Verdict::Succeeded,
            // Crossmint's answer about this token: every holder gets the same.
            OutcomeKind::Refused | OutcomeKind::SpentUnusable | OutcomeKind::LoggedOut => Verdict::Refused,
            OutcomeKind::Unknown => Verdict::Failed,
        }
    }

    fn encode(&self) -> Vec<u8> {
        let value = match self {
            Ok(material) => json!({ "material": material.to_json() }),
            Err(error) => {
                let (kind, status) = match error.kind {
                    ClientErrorKind::Rejected(status) => ("rejected", Some(status)),
                    ClientErrorKind::Unavailable => ("unavailable", None),
                    ClientErrorKind::Timeout => ("timeout", None),
                    ClientErrorKind::RedirectRefused => ("redirect_refused", None),
                    ClientErrorKind::InvalidResponse => ("invalid_response", None),
                    ClientErrorKind::InvalidInput => ("invalid_input", None),
                    ClientErrorKind::LoggedOut => ("logged_out", None),
                    ClientErrorKind::AlreadyRotated => ("already_rotated", None),
                    ClientErrorKind::OtherProject => ("other_project", None),
                };
                json!({ "error": { "kind": kind, "status": status, "message": error.message, "errno": error.errno } })
            }
        };
        value.to_string().into_bytes()
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut value: serde_json::Map<String, Value> = serde_json::from_slice(bytes).ok()?;
        if let Some(Value::Object(material)) = value.remove("material") {
            return AuthMaterial::from_json(material, "refreshToken").ok().map(Ok);
        }
        let error = value.remove("error")?;
        let kind = match (error.get("kind")?.as_str()?, error.get("status").and_then(Value::as_u64)) {
            ("rejected", Some(status)) => ClientErrorKind::Rejected(u16::try_from(status).ok()?),
            ("unavailable", _) => ClientErrorKind::Unavailable,
            ("timeout", _) => ClientErrorKind::Timeout,
            ("redirect_refused", _) => ClientErrorKind::RedirectRefused,
            ("invalid_response", _) => ClientErrorKind::InvalidResponse,
            ("invalid_input", _) => ClientErrorKind::InvalidInput,
            ("logged_out", _) => ClientErrorKind::LoggedOut,
            ("already_rotated", _) => ClientErrorKind::AlreadyRotated,
            ("other_project", _) => ClientErrorKind::OtherProject,
            _ => return None,
        };
        let mut decoded = ClientError::new(kind, error.get("message")?.as_str()?);
        decoded.errno = match error.get("errno").and_then(Value::as_str) {
            Some("ECONNREFUSED") => Some("ECONNREFUSED"),
            Some("ECONNRESET") => Some("ECONNRESET"),
            _ => None,
        };
        Some(Err(decoded))
    }

    fn already_spent() -> Self {
        Err(ClientError::already_rotated())
    }

    fn logged_out(&self) -> bool {
        self.as_ref().is_ok_and(|material| revoked_jwts::is_revoked(&material.jwt))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Session {
    /// The JWT verified (its `sub`, when a string); nothing changes in the browser.
    Valid { user_id: Option<String> },
    /// A refresh happened; the new material must reach the browser.
    Refreshed(AuthMaterial),
}

#[derive(Debug, Clone)]
pub struct SessionError {
    /// Stable code for `CrossmintAuthenticationError.code`.
    pub code: &'static str,
    /// The underlying reason (logged; the user-facing message is the reference's).
    pub cause: String,
    /// The failure's class, which every entry point and framework helper
    /// obeys: true when the session is over (cookies cleared, 401), false
    /// when Crossmint could not answer and the session may still be good
    /// (cookies kept, 503 with Retry-After).
    pub authentication_failure: bool,
}

impl SessionError {
    pub fn from_client(error: ClientError) -> Self {
        // A 5xx is Crossmint's outage, not the user's: the reference clears the
        // session cookies then too, logging everyone out; we keep them. An
        // unusable 2xx answer is different: Crossmint took the token, so no
        // later request can succeed with it.
        let (code, authentication_failure) = match error.kind {
            ClientErrorKind::Rejected(401 | 403) => ("SESSION_EXPIRED", true),
            ClientErrorKind::Rejected(400) => ("INVALID_TOKEN", true),
            ClientErrorKind::Rejected(status) if status >= 500 => ("CROSSMINT_UNAVAILABLE", false),
            ClientErrorKind::Rejected(_) => ("REFRESH_FAILED", true),
            ClientErrorKind::Unavailable => ("CROSSMINT_UNAVAILABLE", false),
            ClientErrorKind::Timeout => ("TIMEOUT", false),
            ClientErrorKind::RedirectRefused => ("REDIRECT_REFUSED", false),
            ClientErrorKind::InvalidResponse => ("INVALID_RESPONSE", true),
            // getUser's refusal of an id before any request: the caller's
            // mistake, not Crossmint's outage (sessions never see it).
            ClientErrorKind::InvalidInput => ("INVALID_INPUT", true),
            ClientErrorKind::LoggedOut | ClientErrorKind::AlreadyRotated => ("SESSION_EXPIRED", true),
            ClientErrorKind::OtherProject => ("WRONG_PROJECT", true),
        };
        SessionError { code, cause: error.message, authentication_failure }
    }
}

/// A logout whose local part is done (see `SessionEngine::begin_logout`).
pub struct LogoutStarted {
    refresh_token: Option<String>,
    /// Finished refreshes of the chain, dropped from the grace window.
    dropped: Vec<Result<AuthMaterial, ClientError>>,
    refused_jwts: Vec<revoked_jwts::Revocation>,
    deadline: Instant,
}

/// `CrossmintAuth.from`'s options as JavaScript gave them (numbers
/// unchecked); `SessionEngine::new` decides what each means.
#[derive(Debug, Default)]
pub struct EngineOptions {
    pub refresh_route: Option<String>,
    pub timeout_ms: Option<f64>,
    pub clock_tolerance_seconds: Option<f64>,
    pub issuer: Option<Vec<String>>,
    pub audience: Option<Vec<String>>,
    /// `projectAudience: false` turns the project binding off.
    pub project_audience: Option<bool>,
    /// `requireAudience`: JWTs without `aud` are refused.
    pub require_audience: bool,
    pub require_expiration: bool,
    pub refresh_grace_seconds: Option<f64>,
    pub key_set_stale_if_error_seconds: Option<f64>,
    /// `refreshCoordination` was given (whatever its `redisUrl`).
    pub coordination_requested: bool,
    /// `refreshCoordination.redisUrl` when it is a string.
    pub redis_url: Option<String>,
    /// `refreshCoordination.redisUrls`: more nodes of the same Redis Cluster.
    pub redis_urls: Option<Vec<String>>,
    /// `localCoordination`: `Some(false)` off, `Some(true)` on; by default on
    /// in a worker of Node's `cluster` (PM2 cluster mode included).
    pub local_coordination: Option<bool>,
    /// `localCoordination.file`: the store's file (turns it on).
    pub local_coordination_file: Option<String>,
    /// The process is a worker of Node's `cluster`.
    pub cluster_worker: bool,
}

/// Why an instance cannot be built; the message is what the user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The API key is refused (the reference's messages).
    ApiKey(String),
    /// An option is unusable (JavaScript throws a `TypeError`).
    Option(String),
}

impl From<ApiKeyError> for ConfigError {
    fn from(error: ApiKeyError) -> Self {
        ConfigError::ApiKey(error.0)
    }
}

/// The longest `timeoutMs` honoured: a day (longer is taken as a day).
const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);
/// The longest `keySetStaleIfErrorSeconds` honoured: a year.
const MAX_STALE_IF_ERROR: Duration = Duration::from_secs(365 * 86_400);

/// A duration JavaScript gives as a number of `unit`s: a non-negative
/// number (not NaN), capped at `longest`; `None` otherwise (the default
/// applies).
fn js_duration(value: Option<f64>, unit: Duration, longest: Duration) -> Option<Duration> {
    let seconds = value.filter(|v| *v >= 0.0)? * unit.as_secs_f64();
    Some(Duration::try_from_secs_f64(seconds).map_or(longest, |d| d.min(longest)))
}

pub struct SessionEngine {
    pub client: CrossmintClient,
    /// Under which names this project's session travels, read and written.
    pub cookies: ProjectCookies,
    pub refresh_route: Option<String>,
    /// The instance's key set and options; its records are shared with
    /// every verifier of the same key set and options.
    pub verifier: TokenVerifier,
    /// How long a finished refresh is reused for requests carrying the old token.
    refresh_grace: Duration,
    /// Shares refreshes with other processes (`refreshCoordination`).
    coordination: Option<Arc<SharedRefreshStore>>,
    /// The deadline of one Crossmint call, of reading a refresh body, and of
    /// a whole logout.
    timeout: Duration,
    jwks_uri: String,
}

impl SessionEngine {
    pub fn new(config: &CrossmintConfig, options: EngineOptions) -> Result<Self, ConfigError> {
        // A zero, negative, infinite or non-number timeout keeps the default.
        let timeout =
            js_duration(options.timeout_ms.filter(|ms| ms.is_finite()), Duration::from_millis(1), MAX_TIMEOUT)
                .filter(|t| !t.is_zero())
                .unwrap_or(DEFAULT_TIMEOUT);
        let client = CrossmintClient::new(config, timeout)?;
        let verify_options = VerifyOptions {
            clock_tolerance_seconds: options.clock_tolerance_seconds.unwrap_or(0.0).max(0.0),
            issuer: options.issuer,
            audience: options.audience,
            // Bound to the API key's project unless turned off explicitly.
            project: (options.project_audience != Some(false)).then(|| client.project_id().to_string()),
            require_audience: options.require_audience,
            require_expiration: options.require_expiration,
        };
        // `redisUrls` (a cluster's seed nodes) after `redisUrl`; either is enough.
        let redis_urls: Vec<String> = options
            .redis_url
            .into_iter()
            .chain(options.redis_urls.into_iter().flatten())
            .filter(|u| !u.is_empty())
            .collect();
        let coordination = match (options.coordination_requested, redis_urls.is_empty()) {
            // Redis, when configured, takes precedence.
            (true, false) => Some(shared_refresh_store::redis_store(&redis_urls).map_err(ConfigError::Option)?),
            (true, true) => return Err(ConfigError::Option(redis_refresh_store::MISSING_URL.to_string())),
            (false, _) => {
                let file = options.local_coordination_file.filter(|file| !file.is_empty());
                let local = options.local_coordination.unwrap_or(options.cluster_worker || file.is_some());
                if local {
                    let path = file.map_or_else(crate::file_refresh_store::default_path, std::path::PathBuf::from);
                    shared_refresh_store::file_store(&path)
                } else {
                    None
                }
            }
        };
        let jwks_uri = client.jwks_uri();
        let cookies = ProjectCookies::new(client.project_id(), &verify_options);
        // jose's 5 s, or the instance's `timeoutMs` when shorter.
        let key_set_deadline = timeout.min(key_set_cache::FETCH_TIMEOUT);
        let mut verifier = TokenVerifier::new(&jwks_uri, verify_options, key_set_deadline);
        if let Some(window) = js_duration(
            options.key_set_stale_if_error_seconds,
            Duration::from_secs(1),
            key_set_cache::STALE_IF_ERROR.max(MAX_STALE_IF_ERROR),
        ) {
            verifier.stale_if_error = window;
        }
        Ok(SessionEngine {
            client,
            cookies,
            refresh_route: options.refresh_route,
            verifier,
            // The table caps any grace at ROTATION_GRACE anyway.
            refresh_grace: js_duration(options.refresh_grace_seconds, Duration::from_secs(1), ROTATION_GRACE)
                .unwrap_or(ROTATION_GRACE),
            coordination,
            timeout,
            jwks_uri,
        })
    }

    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }

    /// The deadline of each Crossmint call, as the instance's `timeoutMs` gave it.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The refresh coordination store, so its listener can start where a
    /// runtime is at hand.
    pub fn coordination(&self) -> Option<&Arc<SharedRefreshStore>> {
        self.coordination.as_ref()
    }

    /// Refreshes through the configured route, or Crossmint. Concurrent and
    /// just-repeated refreshes of one token share one call (see refresh_flight).
    pub async fn refresh(&self, refresh_token: &str) -> Result<AuthMaterial, ClientError> {
        match &self.refresh_route {
            Some(route) => {
                self.shared_refresh(route, refresh_token, || self.client.refresh_via_route(route, refresh_token)).await
            }
            None => self.refresh_with_crossmint(refresh_token).await,
        }
    }

    /// One refresh shared through the process-wide table and, with
    /// `refreshCoordination`, with other processes through Redis. A refresh
    /// whose chain was logged out before or while it ran is not handed out:
    /// what it issued is revoked, and every caller sharing it gets the
    /// logout's answer. A token this process already exchanged is never
    /// presented again.
    async fn shared_refresh<Fut>(
        &self,
        destination: &str,
        refresh_token: &str,
        refresh: impl FnOnce() -> Fut,
    ) -> Result<AuthMaterial, ClientError>
    where
        Fut: std::future::Future<Output = Result<AuthMaterial, ClientError>>,
    {
        let key = self.flight_key(destination, refresh_token);
        let successor = self.successor_key(destination);
        let coordination = self.coordination.as_ref();
        // While Redis coordinates, reusing a finished refresh is its decision
        // (a logout on another process must end the window), so this
        // process's table only shares the refresh in flight. Read again when
        // the refresh finishes: if Redis was lost meanwhile, this process
        // keeps the outcome for late requests, as it would without Redis.
        let local_grace = || match coordination {
            Some(store) if store.healthy() => Duration::ZERO,
            _ => self.refresh_grace,
        };
        // Which of the steps below ran says this caller's part in the
        // flight (for diagnostics subscribers only).
        let (led_here, called) = (AtomicBool::new(false), AtomicBool::new(false));
        let started = Instant::now();
        // The last look before the token leaves the process: one this
        // process rotated (or whose chain it logged out) is answered here.
        let call_crossmint = || async {
            called.store(true, Ordering::Relaxed);
            if REFRESH_FLIGHTS.ended(&key) {
                return Err(ClientError::already_rotated());
            }
            self.for_this_project(refresh().await)
        };
        let across_processes = || async {
            led_here.store(true, Ordering::Relaxed);
            let Some(store) = coordination else { return call_crossmint().await };
            // Others wait for this process at most its deadline and a margin.
            let lock_for = self.timeout + Duration::from_secs(1);
            self.handed_out(store.run(&key, self.refresh_grace, lock_for, &successor, call_crossmint).await)
        };
        let outcome = self.handed_out(REFRESH_FLIGHTS.run(&key, local_grace, &successor, across_processes).await);
        if crate::telemetry::enabled() {
            let role = match (called.load(Ordering::Relaxed), led_here.load(Ordering::Relaxed)) {
                (true, _) => "leader",
                (false, true) => "follower",
                (false, false) => "joined",
            };
            let store = coordination.map_or("none", |store| store.kind());
            let class = match outcome.kind() {
                OutcomeKind::Rotated => "rotated",
                OutcomeKind::Refused => "refused",
                OutcomeKind::SpentUnusable => "spent-unusable",
                OutcomeKind::LoggedOut => "logged-out",
                OutcomeKind::Unknown => "unknown",
            };
            crate::telemetry::refresh(role, store, class, started.elapsed());
        }
        outcome
    }

    /// A refresh result whose JWT is issued for another project (its `aud`,
    /// read unverified: the answer came from Crossmint, or from the app's
    /// own route) is no session of this project: the refresh token it
    /// issued is revoked and the outcome is a failure that ends the session.
    /// Checked before the outcome is shared, so every caller gets the same.
    fn for_this_project(&self, outcome: Result<AuthMaterial, ClientError>) -> Result<AuthMaterial, ClientError> {
        let material = outcome?;
        if jwt::unverified_audience(&material.jwt).accepted(&self.verifier.options) {
            return Ok(material);
        }
        drop(self.revoke_in_background(material.refresh_secret().to_string()));
        Err(ClientError::new(
            ClientErrorKind::OtherProject,
            format!("The refreshed JWT is not issued for this project ({})", self.client.project_id()),
        ))
    }

    /// What callers of a shared refresh receive: its outcome, or, when a
    /// logout ended the chain, the logout's answer; the one caller told to
    /// revokes what the refresh issued (in the background, retried).
    fn handed_out(
        &self,
        flown: RefreshHandout<Result<AuthMaterial, ClientError>>,
    ) -> Result<AuthMaterial, ClientError> {
        match flown {
            // A result handed out again within the grace window whose JWT a
            // logout refused since: that logout may have ended the chain
            // under another destination (an instance with `refreshRoute`
            // beside one without), which this table keys apart.
            RefreshHandout::Outcome(Ok(material)) if revoked_jwts::is_revoked(&material.jwt) => {
                Err(ClientError::logged_out())
            }
            RefreshHandout::Outcome(outcome) => outcome,
            RefreshHandout::LoggedOut { to_revoke } => {
                if let Some(Ok(material)) = to_revoke {
                    revoked_jwts::revoke(&material.jwt);
                    self.revoke_in_background(material.refresh_secret().to_string());
                }
                Err(ClientError::logged_out())
            }
        }
    }

    /// The flight key of the token an outcome issued, so a logout with that
    /// token reaches the refresh that issued it.
    fn successor_key<'a>(
        &'a self,
        destination: &'a str,
    ) -> impl Fn(&Result<AuthMaterial, ClientError>) -> Option<String> + 'a {
        move |outcome| outcome.as_ref().ok().map(|material| self.flight_key(destination, material.refresh_secret()))
    }

    /// Identifies a refresh: where it goes, for which project (API key), and
    /// the token. Hashed before it is stored.
    fn flight_key(&self, destination: &str, refresh_token: &str) -> String {
        format!("{destination}\n{}\n{refresh_token}", self.client.api_key_text())
    }

    /// Revokes `secret` at Crossmint on a task of its own, trying again
    /// while Crossmint cannot answer. Answers the first attempt's outcome.
    fn revoke_in_background(&self, secret: String) -> tokio::sync::oneshot::Receiver<Result<(), ClientError>> {
        let (first, first_answer) = tokio::sync::oneshot::channel();
        let client = self.client.clone();
        tokio::spawn(async move {
            let mut first = Some(first);
            let mut retries = REVOCATION_RETRIES.iter();
            loop {
                let attempt = client.logout(Some(&secret)).await;
                let worth_retrying = match &attempt {
                    Ok(status) => status.is_server_error(),
                    Err(error) => matches!(error.kind, ClientErrorKind::Unavailable | ClientErrorKind::Timeout),
                };
                if let Some(first) = first.take() {
                    let _ = first.send(attempt.map(|_| ()));
                }
                if !worth_retrying {
                    return;
                }
                match retries.next() {
                    Some(delay) => tokio::time::sleep(*delay).await,
                    None => {
                        warnings::push(format!(
                            "A logged-out refresh token could not be revoked at Crossmint after {} tries; this process still refuses it, but Crossmint may accept it until it expires.",
                            REVOCATION_RETRIES.len() + 1
                        ));
                        return;
                    }
                }
            }
        });
        first_answer
    }

    /// A logout ends the whole rotation chain of `refresh_token` at once (no
    /// refresh of any of its tokens starts from now on, in this process and,
    /// with coordination, in every process; one under way hands out
    /// nothing), refuses the request's `jwts` (all but made-up ones) and the
    /// JWTs the chain issued as sessions,
    /// and revokes at Crossmint the token and every token the chain issued,
    /// in parallel. It comes in two parts. This one must not wait: it is
    /// everything this process decides alone, called on the caller's thread
    /// before anything is awaited, so a request that arrives after the
    /// logout cannot start a refresh of the chain. `finish_logout` does the
    /// rest.
    pub fn begin_logout<'j>(
        &self,
        refresh_token: Option<&str>,
        jwts: impl IntoIterator<Item = Option<&'j str>>,
    ) -> LogoutStarted {
        let deadline = Instant::now() + self.timeout;
        let mut refused_jwts = Vec::new();
        for jwt in jwts.into_iter().flatten().filter(|jwt| !jwt.is_empty()) {
            match self.verifier.logout_check(jwt) {
                SignatureCheck::Signed => refused_jwts.push(revoked_jwts::revoke(jwt)),
                SignatureCheck::Unknown => refused_jwts.push(revoked_jwts::revoke_unverified(jwt)),
                SignatureCheck::MadeUp => {}
            }
        }
        let mut dropped = Vec::new();
        if let Some(token) = refresh_token {
            for destination in self.destinations() {
                dropped.extend(REFRESH_FLIGHTS.log_out(&self.flight_key(destination, token)));
            }
        }
        for material in dropped.iter().flatten() {
            refused_jwts.push(revoked_jwts::revoke(&material.jwt));
        }
        LogoutStarted { refresh_token: refresh_token.map(str::to_owned), dropped, refused_jwts, deadline }
    }

    /// The rest of a logout: revocations at Crossmint, the chain's markers
    /// in Redis, and the refused JWTs announced to the other processes.
    /// Answers within the instance's timeout, with the first attempt at
    /// revoking the token (or a timeout); revocations not finished by then go
    /// on in the background.
    pub async fn finish_logout(&self, started: LogoutStarted) -> Result<(), ClientError> {
        let LogoutStarted { refresh_token, dropped, mut refused_jwts, deadline } = started;
        let Some(token) = refresh_token else {
            self.announce(refused_jwts, deadline).await;
            return self.client.logout(None).await.map(|_| ());
        };
        let revocation = self.revoke_in_background(token.clone());
        self.revoke_issued(dropped.iter().flatten(), &token);
        // Other processes: mark the chain in Redis (bounded by the deadline).
        if let Some(store) = &self.coordination {
            let ending = async {
                for destination in self.destinations() {
                    let dropped =
                        store.forget(&self.flight_key(destination, &token), self.successor_key(destination)).await;
                    for material in dropped.iter().flatten() {
                        refused_jwts.push(revoked_jwts::revoke(&material.jwt));
                    }
                    self.revoke_issued(dropped.iter().flatten(), &token);
                }
            };
            let _ = tokio::time::timeout_at(deadline.into(), ending).await;
        }
        self.announce(refused_jwts, deadline).await;
        match tokio::time::timeout_at(deadline.into(), revocation).await {
            Ok(Ok(first_attempt)) => first_attempt,
            Ok(Err(_)) => Err(ClientError::new(ClientErrorKind::Unavailable, "Crossmint logout stopped unexpectedly")),
            Err(_) => Err(ClientError::new(
                ClientErrorKind::Timeout,
                format!(
                    "Crossmint logout timed out after {} ms (it goes on in the background)",
                    self.timeout.as_millis()
                ),
            )),
        }
    }

    /// Where this instance's refreshes go: Crossmint, and its refresh route.
    fn destinations(&self) -> impl Iterator<Item = &str> {
        [Some(self.client.base_url()), self.refresh_route.as_deref()].into_iter().flatten()
    }

    /// Revokes at Crossmint the refresh tokens that refreshes of a
    /// logged-out chain issued (`logged_out` is being revoked already).
    fn revoke_issued<'m>(&self, issued: impl Iterator<Item = &'m AuthMaterial>, logged_out: &str) {
        let mut secrets: Vec<&str> = Vec::new();
        for material in issued {
            let secret = material.refresh_secret();
            if secret != logged_out && !secrets.contains(&secret) {
                secrets.push(secret);
            }
        }
        for secret in secrets {
            drop(self.revoke_in_background(secret.to_string()));
        }
    }

    /// Tells the processes sharing coordination which JWTs a logout refused.
    async fn announce(&self, refused_jwts: Vec<revoked_jwts::Revocation>, deadline: Instant) {
        if let Some(store) = &self.coordination {
            let _ = tokio::time::timeout_at(deadline.into(), store.announce_revoked_jwts(&refused_jwts)).await;
        }
    }

    /// Refreshes with Crossmint itself (what a refresh route does).
    pub async fn refresh_with_crossmint(&self, refresh_token: &str) -> Result<AuthMaterial, ClientError> {
        let base_url = self.client.base_url();
        self.shared_refresh(base_url, refresh_token, || self.client.refresh(refresh_token)).await
    }

    /// The reference's `validateOrRefreshSession`: any verification failure
    /// (expired, forged, unknown key, key set unreachable, logged out) falls
    /// through to a refresh, which is the only path that can still
    /// authenticate.
    pub async fn validate_or_refresh(&self, jwt: Option<&str>, refresh_token: &str) -> Result<Session, SessionError> {
        if let Some(user_id) = self.validate(jwt).await {
            return Ok(Session::Valid { user_id });
        }
        self.refresh(refresh_token).await.map(Session::Refreshed).map_err(SessionError::from_client)
    }

    /// The session's user id when `jwt` verifies as a session (`None` for a
    /// user id: a JWT without a string `sub`), without refreshing anything.
    pub async fn validate(&self, jwt: Option<&str>) -> Option<Option<String>> {
        let jwt = jwt.filter(|j| !j.is_empty())?;
        self.verifier.subject(jwt).await.ok().map(|VerifiedSubject(user_id)| user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn material() -> AuthMaterial {
        let body = json!({
            "jwt": "eyJ.payload.sig",
            "refreshToken": { "secret": "next-secret", "expiresAt": "2030-01-01T00:00:00.000Z" },
            "user": { "id": "user-1", "email": "a@b.c" },
        });
        let Value::Object(body) = body else { unreachable!() };
        AuthMaterial::from_json(body, "refreshToken").unwrap()
    }

    #[test]
    fn outcomes_shared_through_redis_come_back_unchanged() {
        let ok: Result<AuthMaterial, ClientError> = Ok(material());
        assert_eq!(ok.verdict(), Verdict::Succeeded);
        let back = <Result<AuthMaterial, ClientError>>::decode(&ok.encode()).unwrap();
        assert_eq!(back, ok);
        assert_eq!(back.unwrap().to_json().to_string(), material().to_json().to_string(), "member order kept");

        let mut refused = ClientError::new(ClientErrorKind::Rejected(401), "Unauthorized");
        refused.errno = None;
        for (error, verdict) in [
            (refused, Verdict::Refused),
            (ClientError::new(ClientErrorKind::Rejected(503), "Service Unavailable"), Verdict::Failed),
            (ClientError::new(ClientErrorKind::Timeout, "refresh timed out"), Verdict::Failed),
            (ClientError::new(ClientErrorKind::InvalidResponse, "Invalid refresh response"), Verdict::Refused),
            (ClientError::already_rotated(), Verdict::Refused),
            (ClientError::new(ClientErrorKind::RedirectRefused, "refused a redirect"), Verdict::Failed),
            (
                ClientError {
                    errno: Some("ECONNREFUSED"),
                    ..ClientError::new(ClientErrorKind::Unavailable, "refused")
                },
                Verdict::Failed,
            ),
        ] {
            let outcome: Result<AuthMaterial, ClientError> = Err(error);
            assert_eq!(outcome.verdict(), verdict);
            assert_eq!(<Result<AuthMaterial, ClientError>>::decode(&outcome.encode()), Some(outcome));
        }
        for garbage in
            [&b""[..], b"{}", b"{\"error\":{\"kind\":\"rejected\"}}", b"{\"material\":{\"jwt\":\"\"}}", b"[1]"]
        {
            assert_eq!(<Result<AuthMaterial, ClientError>>::decode(garbage), None);
        }
    }
}

//! Session logic: a JWT that verifies is the session; otherwise the refresh
//! token buys a new one. This is `getSession` without the request and
//! response plumbing, which the JavaScript side keeps.

use std::sync::{Arc, LazyLock};
use std::time::Instant;
use std::time::Duration;

use serde_json::Value;

use crate::api_key::ApiKeyError;
use crate::crossmint_client::{
    AuthMaterial, ClientError, ClientErrorKind, CrossmintClient, CrossmintConfig,
};
use crate::jwks::KeySet;
use crate::jwt::{self, Claims, VerifyOptions};
use crate::key_set_cache::{self, HeldKeySet, RemoteKeySet};
use crate::refresh_flight::{Flown, RefreshFlights, MAX_TRACKED_TOKENS, ROTATION_GRACE};
use crate::verified_tokens::{token_key, Verified, VerifiedTokens, DEFAULT_CAPACITY};
use crate::verify_error::VerifyError;

/// Tokens verified by any `CrossmintAuth` in the process (keys include the
/// key set URI and the verification options, so instances never mix).
static VERIFIED: LazyLock<VerifiedTokens> = LazyLock::new(|| VerifiedTokens::new(DEFAULT_CAPACITY));

/// Shared by every `CrossmintAuth` in the process: frameworks such as Next.js
/// build a new instance per request, and their refreshes must still meet here.
static REFRESH_FLIGHTS: LazyLock<RefreshFlights<Result<AuthMaterial, ClientError>>> =
    LazyLock::new(|| RefreshFlights::new(ROTATION_GRACE, MAX_TRACKED_TOKENS));

/// Where verification keys come from: a remote set (with how long this
/// caller will wait for a fetch) or a set given inline.
pub enum KeySource<'a> {
    Remote(&'a Arc<RemoteKeySet>, Duration),
    Inline(&'a KeySet),
}

/// Verifies a token against a remote (cached) or inline key set.
pub async fn verify_token(
    token: &str,
    source: KeySource<'_>,
    options: &VerifyOptions,
) -> Result<Claims, VerifyError> {
    let parsed = jwt::parse_token(token)?;
    match source {
        KeySource::Inline(keys) => jwt::verify_signature(&parsed, keys)?,
        KeySource::Remote(remote, deadline) => {
            let held = remote.key_set_for(parsed.kid.as_deref(), deadline).await?;
            jwt::verify_signature(&parsed, &held.keys)?
        }
    }
    jwt::validate_claims(&parsed, options, jwt::now_seconds())
}

#[derive(Debug, Clone, PartialEq)]
pub enum Session {
    /// The JWT verified; nothing changes in the browser.
    Valid { jwt: String, refresh_secret: String, user_id: Option<String> },
    /// A refresh happened; the new material must reach the browser.
    Refreshed(AuthMaterial),
}

#[derive(Debug, Clone)]
pub struct SessionError {
    /// Stable code for `CrossmintAuthenticationError.code`.
    pub code: &'static str,
    /// The underlying reason (logged; the user-facing message is the reference's).
    pub cause: String,
    /// Whether the reference would treat this as an authentication failure
    /// (its `CrossmintAuthenticationError`), which clears the session cookies.
    pub authentication_failure: bool,
}

impl SessionError {
    pub fn from_client(error: ClientError) -> Self {
        // A 5xx is Crossmint's outage, not the user's: the reference clears the
        // session cookies then too, logging everyone out; we keep them.
        let (code, authentication_failure) = match error.kind {
            ClientErrorKind::Rejected(401 | 403) => ("SESSION_EXPIRED", true),
            ClientErrorKind::Rejected(400) => ("INVALID_TOKEN", true),
            ClientErrorKind::Rejected(status) if status >= 500 => ("CROSSMINT_UNAVAILABLE", false),
            ClientErrorKind::Rejected(_) => ("REFRESH_FAILED", true),
            ClientErrorKind::Unavailable => ("CROSSMINT_UNAVAILABLE", false),
            ClientErrorKind::Timeout => ("TIMEOUT", false),
            ClientErrorKind::InvalidResponse => ("INVALID_RESPONSE", false),
            ClientErrorKind::InvalidInput => ("INVALID_INPUT", false),
        };
        SessionError {
            code,
            cause: error.message,
            authentication_failure,
        }
    }
}

pub struct SessionEngine {
    pub client: CrossmintClient,
    pub refresh_route: Option<String>,
    pub verify_options: VerifyOptions,
    /// How long a finished refresh is reused for requests carrying the old token.
    pub refresh_grace: Duration,
    jwks_uri: String,
    key_set: Arc<RemoteKeySet>,
    /// jose's 5 s, or the instance's `timeoutMs` when shorter.
    key_set_deadline: Duration,
    /// What a verification depends on besides the token (key set and options).
    verify_context: String,
}

impl SessionEngine {
    pub fn new(
        config: &CrossmintConfig,
        refresh_route: Option<String>,
        verify_options: VerifyOptions,
        timeout: Duration,
    ) -> Result<Self, ApiKeyError> {
        let client = CrossmintClient::new(config, timeout)?;
        let jwks_uri = client.jwks_uri();
        let verify_context = format!("{jwks_uri}\n{verify_options:?}");
        Ok(SessionEngine {
            client,
            refresh_route,
            verify_options,
            refresh_grace: ROTATION_GRACE,
            key_set: key_set_cache::remote(&jwks_uri),
            key_set_deadline: timeout.min(key_set_cache::FETCH_TIMEOUT),
            jwks_uri,
            verify_context,
        })
    }

    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let source = KeySource::Remote(&self.key_set, self.key_set_deadline);
        verify_token(token, source, &self.verify_options).await
    }

    /// Refreshes through the configured route, or Crossmint. Concurrent and
    /// just-repeated refreshes of one token share one call (see refresh_flight).
    pub async fn refresh(&self, refresh_token: &str) -> Result<AuthMaterial, ClientError> {
        match &self.refresh_route {
            Some(route) => {
                self.shared_refresh(route, refresh_token, || self.client.refresh_via_route(route, refresh_token))
                    .await
            }
            None => self.refresh_with_crossmint(refresh_token).await,
        }
    }

    /// One refresh shared through the process-wide table. A refresh whose
    /// chain was logged out while it ran is not handed out: what it issued is
    /// revoked, and every caller sharing it gets the logout's answer.
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
        let successor = |outcome: &Result<AuthMaterial, ClientError>| {
            outcome.as_ref().ok().map(|material| self.flight_key(destination, material.refresh_secret()))
        };
        match REFRESH_FLIGHTS.run(&key, self.refresh_grace, Result::is_ok, successor, refresh).await {
            Flown::Done(outcome) => outcome,
            Flown::LoggedOut { revoke } => {
                if let Some(Ok(material)) = revoke {
                    let _ = self.client.logout(Some(material.refresh_secret())).await;
                }
                Err(ClientError::logged_out())
            }
        }
    }

    /// Identifies a refresh: where it goes, for which project (API key), and
    /// the token. Hashed before it is stored.
    fn flight_key(&self, destination: &str, refresh_token: &str) -> String {
        format!("{destination}\n{}\n{refresh_token}", self.client.api_key_text())
    }

    /// Revokes a refresh token at Crossmint, and ends any grace window that
    /// could still hand out a session for it or for the token it replaced.
    pub async fn logout(&self, refresh_token: Option<&str>) -> Result<(), ClientError> {
        let mut also_revoke = Vec::new();
        if let Some(token) = refresh_token {
            for destination in [Some(self.client.base_url()), self.refresh_route.as_deref()].into_iter().flatten() {
                let dropped = REFRESH_FLIGHTS.forget(&self.flight_key(destination, token));
                also_revoke.extend(
                    dropped
                        .into_iter()
                        .flatten()
                        .map(|material| material.refresh_secret().to_string())
                        .filter(|secret| secret != token),
                );
            }
        }
        // Tokens the chain issued after `token` would otherwise stay alive.
        for secret in also_revoke {
            let _ = self.client.logout(Some(&secret)).await;
        }
        self.client.logout(refresh_token).await
    }

    /// Refreshes with Crossmint itself (what a refresh route does).
    pub async fn refresh_with_crossmint(&self, refresh_token: &str) -> Result<AuthMaterial, ClientError> {
        let base_url = self.client.base_url();
        self.shared_refresh(base_url, refresh_token, || self.client.refresh(refresh_token)).await
    }

    fn remember(&self, jwt: &str, claims: &Claims, held: &HeldKeySet) -> Option<String> {
        let subject = claims.get("sub").and_then(Value::as_str).map(str::to_owned);
        let tolerance = self.verify_options.clock_tolerance_seconds;
        VERIFIED.insert(
            token_key(&self.verify_context, jwt),
            Verified {
                subject: subject.clone(),
                good_before_secs: claims.get("exp").and_then(Value::as_f64).map(|exp| exp + tolerance),
                key_set_generation: held.generation,
                key_set_fresh_until: held.fresh_until,
            },
        );
        subject
    }

    /// The session subject of `jwt` if it can be known without waiting: a
    /// verification still on record, or one signature check against a key
    /// set already held. `None` means "take the asynchronous path"; the
    /// inner `None` is a verified token without `sub`.
    pub fn verified_subject_now(&self, jwt: &str, allow_signature_check: bool) -> Option<Option<String>> {
        let key = token_key(&self.verify_context, jwt);
        let now = Instant::now();
        if let Some(subject) = VERIFIED.get(&key, self.key_set.generation(), now, jwt::now_seconds()) {
            return Some(subject);
        }
        if !allow_signature_check {
            return None;
        }
        let parsed = jwt::parse_token(jwt).ok()?;
        let held = self.key_set.held_for(parsed.kid.as_deref())?;
        jwt::verify_signature(&parsed, &held.keys).ok()?;
        let claims = jwt::validate_claims(&parsed, &self.verify_options, jwt::now_seconds()).ok()?;
        Some(self.remember(jwt, &claims, &held))
    }

    /// Verifies for a session (fetching the key set if needed) and records
    /// the verification for the token's next requests.
    async fn verify_for_session(&self, jwt: &str) -> Result<Option<String>, VerifyError> {
        // The record only: a signature check here would be repeated just below.
        if let Some(subject) = self.verified_subject_now(jwt, false) {
            return Ok(subject);
        }
        let parsed = jwt::parse_token(jwt)?;
        let held = self.key_set.key_set_for(parsed.kid.as_deref(), self.key_set_deadline).await?;
        jwt::verify_signature(&parsed, &held.keys)?;
        let claims = jwt::validate_claims(&parsed, &self.verify_options, jwt::now_seconds())?;
        Ok(self.remember(jwt, &claims, &held))
    }

    /// The reference's `validateOrRefreshSession`: any verification failure
    /// (expired, forged, unknown key, key set unreachable) falls through to a
    /// refresh, which is the only path that can still authenticate.
    pub async fn validate_or_refresh(
        &self,
        jwt: Option<&str>,
        refresh_token: &str,
    ) -> Result<Session, SessionError> {
        if let Some(jwt) = jwt.filter(|j| !j.is_empty()) {
            if let Ok(user_id) = self.verify_for_session(jwt).await {
                return Ok(Session::Valid {
                    jwt: jwt.to_string(),
                    refresh_secret: refresh_token.to_string(),
                    user_id,
                });
            }
        }
        self.refresh(refresh_token)
            .await
            .map(Session::Refreshed)
            .map_err(SessionError::from_client)
    }
}

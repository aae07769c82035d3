//! Session logic: a JWT that verifies is the session; otherwise the refresh
//! token buys a new one. This is `getSession` without the request and
//! response plumbing, which the JavaScript side keeps.

use std::sync::LazyLock;
use std::time::Duration;

use crate::api_key::ApiKeyError;
use crate::crossmint_client::{
    AuthMaterial, ClientError, ClientErrorKind, CrossmintClient, CrossmintConfig,
};
use crate::jwt::VerifyOptions;
use crate::key_set_cache;
use crate::refresh_flight::{Flown, RefreshFlights, MAX_TRACKED_TOKENS, ROTATION_GRACE};
use crate::token_verifier::TokenVerifier;

/// Shared by every `CrossmintAuth` in the process: frameworks such as Next.js
/// build a new instance per request, and their refreshes must still meet here.
static REFRESH_FLIGHTS: LazyLock<RefreshFlights<Result<AuthMaterial, ClientError>>> =
    LazyLock::new(|| RefreshFlights::new(ROTATION_GRACE, MAX_TRACKED_TOKENS));

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
    /// The instance's key set and options; its records are shared with
    /// every verifier of the same key set and options.
    pub verifier: TokenVerifier,
    /// How long a finished refresh is reused for requests carrying the old token.
    pub refresh_grace: Duration,
    jwks_uri: String,
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
        // jose's 5 s, or the instance's `timeoutMs` when shorter.
        let key_set_deadline = timeout.min(key_set_cache::FETCH_TIMEOUT);
        Ok(SessionEngine {
            client,
            refresh_route,
            verifier: TokenVerifier::new(&jwks_uri, verify_options, key_set_deadline),
            refresh_grace: ROTATION_GRACE,
            jwks_uri,
        })
    }

    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
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

    /// The reference's `validateOrRefreshSession`: any verification failure
    /// (expired, forged, unknown key, key set unreachable) falls through to a
    /// refresh, which is the only path that can still authenticate.
    pub async fn validate_or_refresh(
        &self,
        jwt: Option<&str>,
        refresh_token: &str,
    ) -> Result<Session, SessionError> {
        if let Some(jwt) = jwt.filter(|j| !j.is_empty()) {
            if let Ok(user_id) = self.verifier.subject(jwt).await {
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

//! Session logic: a JWT that verifies is the session; otherwise the refresh
//! token buys a new one. This is `getSession` without the request and
//! response plumbing, which the JavaScript side keeps.

use std::sync::LazyLock;
use std::time::Duration;

use serde_json::Value;

use crate::api_key::ApiKeyError;
use crate::crossmint_client::{
    AuthMaterial, ClientError, ClientErrorKind, CrossmintClient, CrossmintConfig,
};
use crate::jwks::KeySet;
use crate::jwt::{self, Claims, VerifyOptions};
use crate::key_set_cache;
use crate::refresh_flight::{RefreshFlights, MAX_TRACKED_TOKENS, ROTATION_GRACE};
use crate::verify_error::VerifyError;

/// Shared by every `CrossmintAuth` in the process: frameworks such as Next.js
/// build a new instance per request, and their refreshes must still meet here.
static REFRESH_FLIGHTS: LazyLock<RefreshFlights<Result<AuthMaterial, ClientError>>> =
    LazyLock::new(|| RefreshFlights::new(ROTATION_GRACE, MAX_TRACKED_TOKENS));

/// Where verification keys come from.
pub enum KeySource<'a> {
    Remote(&'a str),
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
        KeySource::Remote(uri) => {
            let keys = key_set_cache::key_set_for(uri, parsed.kid.as_deref()).await?;
            jwt::verify_signature(&parsed, &keys)?
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
        Ok(SessionEngine {
            client,
            refresh_route,
            verify_options,
            refresh_grace: ROTATION_GRACE,
            jwks_uri,
        })
    }

    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        verify_token(token, KeySource::Remote(&self.jwks_uri), &self.verify_options).await
    }

    /// Refreshes through the configured route, or Crossmint. Concurrent and
    /// just-repeated refreshes of one token share one call (see refresh_flight).
    pub async fn refresh(&self, refresh_token: &str) -> Result<AuthMaterial, ClientError> {
        match &self.refresh_route {
            Some(route) => {
                let key = format!("{route}\n{refresh_token}");
                REFRESH_FLIGHTS
                    .run(&key, self.refresh_grace, Result::is_ok, || {
                        self.client.refresh_via_route(route, refresh_token)
                    })
                    .await
            }
            None => self.refresh_with_crossmint(refresh_token).await,
        }
    }

    /// Refreshes with Crossmint itself (what a refresh route does).
    pub async fn refresh_with_crossmint(&self, refresh_token: &str) -> Result<AuthMaterial, ClientError> {
        let key = format!("{}\n{refresh_token}", self.client.base_url());
        REFRESH_FLIGHTS
            .run(&key, self.refresh_grace, Result::is_ok, || self.client.refresh(refresh_token))
            .await
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
            if let Ok(claims) = self.verify(jwt).await {
                return Ok(Session::Valid {
                    jwt: jwt.to_string(),
                    refresh_secret: refresh_token.to_string(),
                    user_id: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
                });
            }
        }
        self.refresh(refresh_token)
            .await
            .map(Session::Refreshed)
            .map_err(SessionError::from_client)
    }
}

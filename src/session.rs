//! Session logic: a JWT that verifies is the session; otherwise the refresh
//! token buys a new one. This is `getSession` without the request and
//! response plumbing, which the JavaScript side keeps.

use std::time::Duration;

use serde_json::Value;

use crate::api_key::ApiKeyError;
use crate::crossmint_client::{
    AuthMaterial, ClientError, ClientErrorKind, CrossmintClient, CrossmintConfig,
};
use crate::jwks::KeySet;
use crate::jwt::{self, Claims, VerifyOptions};
use crate::key_set_cache;
use crate::verify_error::VerifyError;

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
        let (code, authentication_failure) = match error.kind {
            ClientErrorKind::Rejected(status) if status == 401 || status == 403 => ("SESSION_EXPIRED", true),
            ClientErrorKind::Rejected(status) if status >= 500 => ("CROSSMINT_UNAVAILABLE", true),
            ClientErrorKind::Rejected(_) => ("REFRESH_FAILED", true),
            ClientErrorKind::Unavailable => ("CROSSMINT_UNAVAILABLE", false),
            ClientErrorKind::Timeout => ("TIMEOUT", false),
            ClientErrorKind::InvalidResponse => ("REFRESH_FAILED", false),
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
            jwks_uri,
        })
    }

    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        verify_token(token, KeySource::Remote(&self.jwks_uri), &self.verify_options).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<AuthMaterial, ClientError> {
        match &self.refresh_route {
            Some(route) => self.client.refresh_via_route(route, refresh_token).await,
            None => self.client.refresh(refresh_token).await,
        }
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

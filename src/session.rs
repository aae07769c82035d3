//! Session logic: a JWT that verifies is the session; otherwise the refresh
//! token buys a new one. This is `getSession` without the request and
//! response plumbing, which the JavaScript side keeps.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use serde_json::{json, Value};

use crate::api_key::ApiKeyError;
use crate::crossmint_client::{
    AuthMaterial, ClientError, ClientErrorKind, CrossmintClient, CrossmintConfig,
};
use crate::jwt::VerifyOptions;
use crate::key_set_cache;
use crate::redis_refresh_store::{RedisRefreshStore, SharedOutcome, Verdict};
use crate::refresh_flight::{Flown, RefreshFlights, MAX_TRACKED_TOKENS, ROTATION_GRACE};
use crate::token_verifier::TokenVerifier;

/// Shared by every `CrossmintAuth` in the process: frameworks such as Next.js
/// build a new instance per request, and their refreshes must still meet here.
static REFRESH_FLIGHTS: LazyLock<RefreshFlights<Result<AuthMaterial, ClientError>>> =
    LazyLock::new(|| RefreshFlights::new(ROTATION_GRACE, MAX_TRACKED_TOKENS));

/// A refresh outcome as another process receives it through Redis.
impl SharedOutcome for Result<AuthMaterial, ClientError> {
    fn verdict(&self) -> Verdict {
        match self {
            Ok(_) => Verdict::Succeeded,
            // Crossmint's answer about this token: every holder gets the same.
            Err(ClientError { kind: ClientErrorKind::Rejected(status), .. }) if *status < 500 => Verdict::Refused,
            Err(_) => Verdict::Failed,
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
                    ClientErrorKind::InvalidResponse => ("invalid_response", None),
                    ClientErrorKind::InvalidInput => ("invalid_input", None),
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
            ("invalid_response", _) => ClientErrorKind::InvalidResponse,
            ("invalid_input", _) => ClientErrorKind::InvalidInput,
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
    /// The instance's key set and options; its records are shared with
    /// every verifier of the same key set and options.
    pub verifier: TokenVerifier,
    /// How long a finished refresh is reused for requests carrying the old token.
    pub refresh_grace: Duration,
    /// Shares refreshes with other processes (`refreshCoordination`).
    pub coordination: Option<Arc<RedisRefreshStore>>,
    /// The deadline of one Crossmint call.
    timeout: Duration,
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
            coordination: None,
            timeout,
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

    /// One refresh shared through the process-wide table and, with
    /// `refreshCoordination`, with other processes through Redis. A refresh
    /// whose chain was logged out while it ran is not handed out: what it
    /// issued is revoked, and every caller sharing it gets the logout's answer.
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
        let coordination = self.coordination.as_deref();
        // While Redis coordinates, reusing a finished refresh is its decision
        // (a logout on another process must end the window), so this
        // process's table only shares the refresh in flight. Read again when
        // the refresh finishes: if Redis was lost meanwhile, this process
        // keeps the outcome for late requests, as it would without Redis.
        let local_grace = || match coordination {
            Some(store) if store.healthy() => Duration::ZERO,
            _ => self.refresh_grace,
        };
        let across_processes = || async {
            let Some(store) = coordination else { return refresh().await };
            // Others wait for this process at most its deadline and a margin.
            let lock_for = self.timeout + Duration::from_secs(1);
            self.handed_out(store.run(&key, self.refresh_grace, lock_for, &successor, refresh).await).await
        };
        self.handed_out(REFRESH_FLIGHTS.run(&key, local_grace, Result::is_ok, &successor, across_processes).await)
            .await
    }

    /// What callers of a shared refresh receive: its outcome, or, when a
    /// logout ended the chain while it ran, the logout's answer (and the one
    /// caller told to revokes what the refresh issued).
    async fn handed_out(&self, flown: Flown<Result<AuthMaterial, ClientError>>) -> Result<AuthMaterial, ClientError> {
        match flown {
            Flown::Done(outcome) => outcome,
            Flown::LoggedOut { revoke } => {
                if let Some(Ok(material)) = revoke {
                    let _ = self.client.logout(Some(material.refresh_secret())).await;
                }
                Err(ClientError::logged_out())
            }
        }
    }

    /// The flight key of the token an outcome issued, so a logout with that
    /// token reaches the refresh that issued it.
    fn successor_key<'a>(&'a self, destination: &'a str) -> impl Fn(&Result<AuthMaterial, ClientError>) -> Option<String> + 'a {
        move |outcome| outcome.as_ref().ok().map(|material| self.flight_key(destination, material.refresh_secret()))
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
                let key = self.flight_key(destination, token);
                let mut dropped = REFRESH_FLIGHTS.forget(&key);
                if let Some(store) = &self.coordination {
                    dropped.extend(store.forget(&key, self.successor_key(destination)).await);
                }
                also_revoke.extend(
                    dropped
                        .into_iter()
                        .flatten()
                        .map(|material| material.refresh_secret().to_string())
                        .filter(|secret| secret != token),
                );
            }
        }
        also_revoke.sort();
        also_revoke.dedup();
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
            (ClientError::new(ClientErrorKind::InvalidResponse, "Invalid refresh response"), Verdict::Failed),
            (ClientError { errno: Some("ECONNREFUSED"), ..ClientError::new(ClientErrorKind::Unavailable, "refused") }, Verdict::Failed),
        ] {
            let outcome: Result<AuthMaterial, ClientError> = Err(error);
            assert_eq!(outcome.verdict(), verdict);
            assert_eq!(<Result<AuthMaterial, ClientError>>::decode(&outcome.encode()), Some(outcome));
        }
        for garbage in [&b""[..], b"{}", b"{\"error\":{\"kind\":\"rejected\"}}", b"{\"material\":{\"jwt\":\"\"}}", b"[1]"] {
            assert_eq!(<Result<AuthMaterial, ClientError>>::decode(garbage), None);
        }
    }
}

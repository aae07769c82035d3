//! The calls to Crossmint (refresh, logout, user lookup) and to an app's own
//! refresh route: same URLs, methods, bodies and headers as the reference
//! SDK, plus what it lacks: a timeout on every call, a size limit on every
//! answer, and a clear error when an answer is not the JSON we expect.

use std::sync::LazyLock;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde_json::{Map, Value};

use crate::api_key::{validate_api_key, ApiKeyError};
use crate::cookies::is_cookie_value;

pub const CROSSMINT_API_VERSION: &str = "2024-09-26";
const AUTH_ROOT: &str = "api/2024-09-26/session/sdk/auth";
/// The reference identifies its calls as its common auth package; Crossmint
/// sees the same client name and version from us.
pub const CLIENT_NAME: &str = "@crossmint/common-sdk-auth";
pub const CLIENT_VERSION: &str = "1.0.52";

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Crossmint's answers are a few kilobytes; a larger one is refused unread.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Builds a client. It can fail at run time, not only by mistake here: TLS
/// takes the system's root certificates, and a container without the
/// ca-certificates package has none. That is an error for each call, with
/// what to do, never a panic.
fn http_client(redirects: reqwest::redirect::Policy) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        // Node's fetch ignores proxy variables; so do we, to reach the same hosts.
        .no_proxy()
        .redirect(redirects)
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| {
            ClientError::new(
                ClientErrorKind::Unavailable,
                format!(
                    "cannot make HTTPS calls: {} (install the system's CA certificates, e.g. the ca-certificates package, or set SSL_CERT_FILE to a PEM bundle)",
                    root_cause(&e)
                ),
            )
        })
}

/// Where a redirect may lead a call that carries the API key or a refresh
/// token: the same origin only (scheme, host and port), so neither reaches
/// another server or leaves TLS. `fetch` (the reference) follows any redirect
/// and re-sends `x-api-key` and the body; same-origin redirects are still
/// followed here, as there, so a path move at Crossmint keeps working.
pub fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first();
        let same_origin = first.is_some_and(|from| from.origin() == attempt.url().origin());
        if !same_origin {
            let to = attempt.url().origin().ascii_serialization();
            attempt.error(format!("refused a redirect to another origin ({to}): the API key and tokens are only sent to the configured address"))
        } else if attempt.previous().len() >= 10 {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}

/// One connection pool for the whole process: clients, runtimes and TLS
/// configurations are expensive and are never built per call. Crossmint
/// calls follow same-origin redirects only.
pub static HTTP: LazyLock<Result<reqwest::Client, ClientError>> =
    LazyLock::new(|| http_client(same_origin_redirects()));

/// Key sets are fetched without following redirects, as jose fetches them:
/// a key set URI that redirects is a misconfiguration, not something to trust.
pub static HTTP_NO_REDIRECT: LazyLock<Result<reqwest::Client, ClientError>> =
    LazyLock::new(|| http_client(reqwest::redirect::Policy::none()));

/// One of the shared clients above, or why it could not be built.
pub fn client(
    shared: &'static LazyLock<Result<reqwest::Client, ClientError>>,
) -> Result<&'static reqwest::Client, ClientError> {
    LazyLock::force(shared).as_ref().map_err(Clone::clone)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientErrorKind {
    /// Crossmint (or the refresh route) answered with a non-2xx status.
    Rejected(u16),
    /// No answer: connection refused, DNS, TLS, reset; or an answer that is
    /// plainly not Crossmint's (an HTML page with a 2xx status, a refresh
    /// route answering an error without JSON).
    Unavailable,
    Timeout,
    /// A redirect to another origin (or too many redirects) was refused.
    RedirectRefused,
    /// A 2xx JSON answer to a refresh that cannot be used (cut off, a member
    /// missing): Crossmint took the token, so it is spent.
    InvalidResponse,
    /// An argument that cannot be sent (nothing was sent).
    InvalidInput,
    /// A logout ended the token's chain: nothing was sent, or what the
    /// refresh issued was revoked.
    LoggedOut,
    /// This process already exchanged the token: presenting it again could
    /// only be refused, so it was not sent.
    AlreadyRotated,
    /// A refresh answered with a JWT issued for another project (its `aud`):
    /// the token was spent, and what it issued was revoked.
    OtherProject,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    pub kind: ClientErrorKind,
    pub message: String,
    /// Node's name for a socket failure (`ECONNREFUSED`, ...), when known.
    pub errno: Option<&'static str>,
}

impl ClientError {
    pub(crate) fn new(kind: ClientErrorKind, message: impl Into<String>) -> Self {
        ClientError { kind, message: message.into(), errno: None }
    }

    /// What a refresh of a logged-out chain receives: the session is over,
    /// as if Crossmint had said so.
    pub fn logged_out() -> Self {
        ClientError::new(ClientErrorKind::LoggedOut, "the session was logged out")
    }

    /// What a refresh of a token this process already exchanged receives.
    pub fn already_rotated() -> Self {
        ClientError::new(ClientErrorKind::AlreadyRotated, "the refresh token was already exchanged for a new session")
    }

    fn from_transport(error: reqwest::Error, what: &str) -> Self {
        if error.is_timeout() {
            return ClientError::new(ClientErrorKind::Timeout, format!("{what} timed out"));
        }
        if error.is_redirect() {
            return ClientError::new(
                ClientErrorKind::RedirectRefused,
                format!("{what} failed: {}", root_cause(&error)),
            );
        }
        let mut failure =
            ClientError::new(ClientErrorKind::Unavailable, format!("{what} failed: {}", root_cause(&error)));
        failure.errno = socket_errno(&error);
        failure
    }
}

fn socket_errno(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => Some("ECONNREFUSED"),
                std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::UnexpectedEof => Some("ECONNRESET"),
                _ => None,
            };
        }
        cause = current.source();
    }
    None
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// What `createCrossmint` is given.
#[derive(Debug, Clone, Default)]
pub struct CrossmintConfig {
    pub api_key: String,
    pub jwt: Option<String>,
    pub override_base_url: Option<String>,
    pub app_id: Option<String>,
    pub extension_id: Option<String>,
}

/// A refresh result: the new JWT, the rotated refresh token and the user.
/// The objects are kept as Crossmint sent them (member order included) so the
/// JSON a refresh route answers with is byte-for-byte the reference's.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthMaterial {
    pub jwt: String,
    pub refresh_token: Map<String, Value>,
    pub user: Map<String, Value>,
}

impl AuthMaterial {
    pub fn refresh_secret(&self) -> &str {
        self.refresh_token.get("secret").and_then(Value::as_str).unwrap_or_default()
    }

    pub fn user_id(&self) -> &str {
        self.user.get("id").and_then(Value::as_str).unwrap_or_default()
    }

    /// `{ jwt, refreshToken, user }`, the body of a refresh route's answer.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("jwt".into(), Value::String(self.jwt.clone()));
        out.insert("refreshToken".into(), Value::Object(self.refresh_token.clone()));
        out.insert("user".into(), Value::Object(self.user.clone()));
        Value::Object(out)
    }

    /// Reads material from JSON, where the refresh token sits under `refresh_member`
    /// (`refresh` from Crossmint, `refreshToken` from an app's refresh route).
    pub(crate) fn from_json(mut body: Map<String, Value>, refresh_member: &str) -> Result<Self, ClientError> {
        let invalid = |what: &str| {
            ClientError::new(ClientErrorKind::InvalidResponse, format!("Invalid refresh response: {what}"))
        };
        let jwt = match body.remove("jwt") {
            Some(Value::String(jwt)) if !jwt.is_empty() => jwt,
            _ => return Err(invalid("missing jwt")),
        };
        let refresh_token = match body.remove(refresh_member) {
            Some(Value::Object(r)) if r.get("secret").is_some_and(Value::is_string) => r,
            _ => return Err(invalid("missing refresh token")),
        };
        // Both go into Set-Cookie verbatim: a `;` would add attributes, CR/LF
        // would make Node throw after the token was spent. Refused before
        // anything is written or shared with other requests.
        let secret = refresh_token.get("secret").and_then(Value::as_str).unwrap_or_default();
        if !is_cookie_value(&jwt) || !is_cookie_value(secret) {
            return Err(invalid("jwt or refresh secret holds characters not allowed in a cookie"));
        }
        if !matches!(refresh_token.get("expiresAt"), None | Some(Value::String(_) | Value::Number(_) | Value::Null)) {
            return Err(invalid("refresh token expiresAt is not a date"));
        }
        let user = match body.remove("user") {
            Some(Value::Object(u)) if u.get("id").is_some_and(Value::is_string) => u,
            _ => return Err(invalid("missing user id")),
        };
        Ok(AuthMaterial { jwt, refresh_token, user })
    }
}

/// Trims one leading and one trailing slash, as the reference's URL joining does.
fn trim_slashes(path: &str) -> &str {
    let path = path.strip_prefix('/').unwrap_or(path);
    path.strip_suffix('/').unwrap_or(path)
}

/// Characters that may not appear raw in one path segment.
fn encode_path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'@' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[derive(Debug, Clone)]
pub struct CrossmintClient {
    api_key_text: String,
    /// The project the API key belongs to: the scope of its cookie names
    /// and the `aud` its users' JWTs carry.
    project_id: String,
    base_url: String,
    headers: HeaderMap,
    timeout: Duration,
}

impl CrossmintClient {
    pub fn new(config: &CrossmintConfig, timeout: Duration) -> Result<Self, ApiKeyError> {
        let api_key = validate_api_key(&config.api_key)?;
        let base_url = match config.override_base_url.as_deref() {
            Some(url) if !url.is_empty() => trim_slashes(url).to_string(),
            _ => api_key.environment.base_url().to_string(),
        };
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            let value = HeaderValue::from_str(value)
                .map_err(|_| ApiKeyError(format!("Invalid characters in the {name} header value")))?;
            headers.insert(HeaderName::from_static(name), value);
            Ok::<(), ApiKeyError>(())
        };
        put("x-client-name", CLIENT_NAME)?;
        put("x-client-version", CLIENT_VERSION)?;
        put("x-api-key", &config.api_key)?;
        if let Some(app_id) = config.app_id.as_deref().filter(|v| !v.is_empty()) {
            put("x-app-identifier", app_id)?;
        }
        if let Some(extension_id) = config.extension_id.as_deref().filter(|v| !v.is_empty()) {
            put("x-extension-id", extension_id)?;
        }
        if let Some(jwt) = config.jwt.as_deref().filter(|v| !v.is_empty()) {
            put("authorization", &format!("Bearer {jwt}"))?;
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(CrossmintClient {
            api_key_text: config.api_key.clone(),
            project_id: api_key.project_id,
            base_url,
            headers,
            timeout,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn api_key_text(&self) -> &str {
        &self.api_key_text
    }

    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    pub fn jwks_uri(&self) -> String {
        format!("{}/.well-known/jwks.json", self.base_url)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", trim_slashes(&self.base_url), trim_slashes(path))
    }

    pub fn user_url(&self, user_id: &str) -> String {
        self.url(&format!("api/{CROSSMINT_API_VERSION}/sdk/auth/user/{}", encode_path_segment(user_id)))
    }

    /// Exchanges a refresh token for new auth material (Crossmint rotates the
    /// token: the one sent is dead after this call succeeds).
    pub async fn refresh(&self, refresh_token: &str) -> Result<AuthMaterial, ClientError> {
        let body = serde_json::json!({ "refresh": refresh_token });
        let request = client(&HTTP)?
            .post(self.url(&format!("{AUTH_ROOT}/refresh")))
            .headers(self.headers.clone())
            .body(body.to_string());
        let answer = send(request, self.timeout, HttpCall::Refresh).await?;
        if !answer.status.is_success() {
            // Rate limited, or a page from a proxy or CDN in front of
            // Crossmint: nothing was said about the token, which is kept.
            if answer.status == reqwest::StatusCode::TOO_MANY_REQUESTS || !answer.is_json() {
                let status = answer.status.as_u16();
                let what = HttpCall::Refresh.what();
                let message = if answer.is_json() {
                    format!("{what} answered {status} (rate limited)")
                } else {
                    format!("{what} answered {status} with a body that is not JSON")
                };
                return Err(ClientError::new(ClientErrorKind::Unavailable, message));
            }
            // The reference reports Crossmint's status text.
            let text = answer.status.canonical_reason().unwrap_or("Refresh failed");
            return Err(ClientError::new(ClientErrorKind::Rejected(answer.status.as_u16()), text));
        }
        self.material_from(answer, HttpCall::Refresh.what(), "refresh").await
    }

    /// The material in a 2xx answer to a refresh. Once Crossmint answered
    /// with JSON it has taken the token: an answer that cannot be used fails
    /// with `InvalidResponse`, and the token it issued, when it can be read,
    /// is revoked (nobody will ever hold it). A 2xx that is not JSON at all
    /// (an HTML page from a proxy) is no answer of Crossmint's.
    async fn material_from(
        &self,
        answer: Answer,
        what: &str,
        refresh_member: &str,
    ) -> Result<AuthMaterial, ClientError> {
        if !answer.is_json() {
            return Err(ClientError::new(
                ClientErrorKind::Unavailable,
                format!("{what} answered {} with a body that is not JSON", answer.status.as_u16()),
            ));
        }
        let body = json_object(&answer.body, what)?;
        let issued = body
            .get(refresh_member)
            .and_then(|refresh| refresh.get("secret"))
            .and_then(Value::as_str)
            .filter(|secret| !secret.is_empty())
            .map(str::to_owned);
        let material = AuthMaterial::from_json(body, refresh_member);
        if let (Err(_), Some(secret)) = (&material, issued) {
            let _ = self.logout(Some(&secret)).await;
        }
        material
    }

    /// Refreshes through the app's own route (`refreshRoute`), which answers
    /// with what `handleCustomRefresh` writes.
    pub async fn refresh_via_route(&self, route: &str, refresh_token: &str) -> Result<AuthMaterial, ClientError> {
        let body = serde_json::json!({ "refresh": refresh_token });
        let request = client(&HTTP)?.post(route).header(CONTENT_TYPE, "application/json").body(body.to_string());
        let answer = send(request, self.timeout, HttpCall::RefreshRoute).await?;
        if !answer.status.is_success() {
            let status = answer.status.as_u16();
            // The route's own answer (handleCustomRefresh's JSON) says what
            // happened; anything else means the route was not reached.
            let Ok(body) = json_object(&answer.body, HttpCall::RefreshRoute.what()) else {
                return Err(ClientError::new(
                    ClientErrorKind::Unavailable,
                    format!("Refresh route answered {status} with a body that is not JSON"),
                ));
            };
            let message = body.get("message").and_then(Value::as_str).unwrap_or("Refresh failed").to_string();
            return Err(ClientError::new(ClientErrorKind::Rejected(status), message));
        }
        self.material_from(answer, HttpCall::RefreshRoute.what(), "refreshToken").await
    }

    /// Tells Crossmint to revoke a refresh token; answers the status. The
    /// cookies are cleared whatever Crossmint says; the status only tells
    /// whether the revocation is worth trying again.
    pub async fn logout(&self, refresh_token: Option<&str>) -> Result<reqwest::StatusCode, ClientError> {
        let body = match refresh_token {
            Some(token) => serde_json::json!({ "refresh": token }),
            None => serde_json::json!({}),
        };
        let request = client(&HTTP)?
            .post(self.url(&format!("{AUTH_ROOT}/logout")))
            .headers(self.headers.clone())
            .body(body.to_string());
        send(request, self.timeout, HttpCall::Logout).await.map(|answer| answer.status)
    }

    /// Crossmint's user record, returned as Crossmint answered it (1.2.42
    /// returned the JSON whatever the status; Crossmint's current SDK, and
    /// this one, fail a 5xx as an outage).
    pub async fn get_user(&self, user_id: &str) -> Result<Value, ClientError> {
        // URL parsers resolve these (even percent-encoded) as path steps.
        if matches!(user_id, "" | "." | "..") {
            return Err(ClientError::new(ClientErrorKind::InvalidInput, format!("Invalid user id {user_id:?}")));
        }
        let request = client(&HTTP)?.get(self.user_url(user_id)).headers(self.headers.clone());
        let answer = send(request, self.timeout, HttpCall::User).await?;
        if answer.status.is_server_error() {
            let reason = answer.status.canonical_reason().unwrap_or_default();
            return Err(ClientError::new(
                ClientErrorKind::Rejected(answer.status.as_u16()),
                format!("API request failed: {} {reason}", answer.status.as_u16()),
            ));
        }
        serde_json::from_slice(&answer.body).map_err(|_| not_json(HttpCall::User.what()))
    }
}

fn not_json(what: &str) -> ClientError {
    ClientError::new(ClientErrorKind::InvalidResponse, format!("{what} answered with a body that is not JSON"))
}

fn json_object(bytes: &[u8], what: &str) -> Result<Map<String, Value>, ClientError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(not_json(what)),
    }
}

/// An answer read whole.
pub struct Answer {
    pub status: reqwest::StatusCode,
    /// Whether the answer says it is JSON (or says nothing of its type).
    json_type: bool,
    pub body: Vec<u8>,
}

impl Answer {
    fn is_json(&self) -> bool {
        self.json_type
    }
}

/// Sends a request with a deadline on the whole exchange (headers and body)
/// and reads at most `MAX_RESPONSE_BYTES`.
/// The HTTP calls this package makes: how messages describe each, and how
/// diagnostics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpCall {
    Refresh,
    Logout,
    User,
    RefreshRoute,
    KeySet,
}

impl HttpCall {
    /// How error messages name the call.
    pub fn what(self) -> &'static str {
        match self {
            HttpCall::Refresh => "Crossmint refresh",
            HttpCall::Logout => "Crossmint logout",
            HttpCall::User => "Crossmint user lookup",
            HttpCall::RefreshRoute => "Refresh route",
            HttpCall::KeySet => "JSON Web Key Set request",
        }
    }

    /// How diagnostics name the call (`crossmint-server-native:http`'s `call`).
    pub fn name(self) -> &'static str {
        match self {
            HttpCall::Refresh => "refresh",
            HttpCall::Logout => "logout",
            HttpCall::User => "user",
            HttpCall::RefreshRoute => "refresh-route",
            HttpCall::KeySet => "key-set",
        }
    }
}

pub async fn send(request: reqwest::RequestBuilder, timeout: Duration, call: HttpCall) -> Result<Answer, ClientError> {
    let what = call.what();
    if !crate::telemetry::enabled() {
        return exchange(request, timeout, what).await;
    }
    // For subscribers: the call, its path (no query), status or failure, time.
    // A user lookup's path names the user: metrics get the route's template,
    // one series for every user.
    let (method, path) = match request.try_clone().and_then(|clone| clone.build().ok()) {
        Some(built) => {
            let path = built.url().path();
            let path = match (call, path.rsplit_once('/')) {
                (HttpCall::User, Some((route, _user))) => format!("{route}/{{userId}}"),
                _ => path.to_string(),
            };
            (built.method().to_string(), path)
        }
        None => (String::new(), String::new()),
    };
    let started = std::time::Instant::now();
    let result = exchange(request, timeout, what).await;
    let (status, error) = match &result {
        Ok(answer) => (Some(answer.status.as_u16()), None),
        Err(error) => match error.kind {
            ClientErrorKind::Rejected(status) => (Some(status), None),
            ClientErrorKind::Timeout => (None, Some("timeout")),
            ClientErrorKind::RedirectRefused => (None, Some("redirect-refused")),
            ClientErrorKind::InvalidResponse => (None, Some("invalid-response")),
            ClientErrorKind::InvalidInput => (None, Some("invalid-input")),
            _ => (None, Some("unavailable")),
        },
    };
    crate::telemetry::http_call(call.name(), &method, &path, status, error, started.elapsed());
    result
}

async fn exchange(request: reqwest::RequestBuilder, timeout: Duration, what: &str) -> Result<Answer, ClientError> {
    let exchange = async {
        let mut response = request.send().await.map_err(|e| ClientError::from_transport(e, what))?;
        let status = response.status();
        let json_type = response
            .headers()
            .get(CONTENT_TYPE)
            .is_none_or(|value| value.to_str().is_ok_and(|text| text.to_ascii_lowercase().contains("json")));
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| ClientError::from_transport(e, what))? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                // Too big to be Crossmint's answer; a 2xx still took the token.
                let kind = if status.is_success() {
                    ClientErrorKind::InvalidResponse
                } else {
                    ClientErrorKind::Rejected(status.as_u16())
                };
                return Err(ClientError::new(
                    kind,
                    format!("{what} answered with more than {MAX_RESPONSE_BYTES} bytes"),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { status, json_type, body })
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(ClientError::new(
            ClientErrorKind::Timeout,
            format!("{what} timed out after {} ms", timeout.as_millis()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ck_development_A61UZQnvjSQcM5qVBaBactgqebxafWAVsNdD2xLkgBxoYuH5q2guM8r9DUmZQzE1WYyoByGVYpEG2o9gVSzAZFsrLbfKGERUJ6D5CW6S9AsJGAc3ctgrsD4n2ioekzGj7KPbLwT3SysDjMamYXLxEroUbQSdwf6aLF4zeEpECq2crkTUQeLFzxzmjWNxFDHFYefDrfrFPCURvBXJLf5pCxCQ";

    fn client(base: Option<&str>) -> CrossmintClient {
        let config =
            CrossmintConfig { api_key: KEY.into(), override_base_url: base.map(str::to_owned), ..Default::default() };
        CrossmintClient::new(&config, DEFAULT_TIMEOUT).unwrap()
    }

    #[test]
    fn base_url_follows_key_or_override() {
        assert_eq!(client(None).jwks_uri(), "http://localhost:3000/.well-known/jwks.json");
        assert_eq!(client(Some("http://127.0.0.1:9/")).jwks_uri(), "http://127.0.0.1:9/.well-known/jwks.json");
        assert_eq!(client(Some("http://h")).url("/api/x/"), "http://h/api/x");
    }

    #[test]
    fn user_ids_cannot_escape_their_path_segment() {
        let c = client(Some("http://h"));
        assert_eq!(c.user_url("abc-123"), "http://h/api/2024-09-26/sdk/auth/user/abc-123");
        assert_eq!(
            c.user_url("../../admin?x=1#y"),
            "http://h/api/2024-09-26/sdk/auth/user/..%2F..%2Fadmin%3Fx%3D1%23y"
        );
        assert_eq!(c.user_url(".%2E"), "http://h/api/2024-09-26/sdk/auth/user/.%252E");
    }

    #[test]
    fn refresh_material_must_be_complete() {
        let ok: Map<String, Value> = serde_json::from_str(
            r#"{"jwt":"j","refresh":{"secret":"s","expiresAt":"2030-01-01T00:00:00.000Z"},"user":{"id":"u","email":"e"}}"#,
        )
        .unwrap();
        let material = AuthMaterial::from_json(ok, "refresh").unwrap();
        assert_eq!(material.user_id(), "u");
        assert_eq!(
            material.to_json().to_string(),
            r#"{"jwt":"j","refreshToken":{"secret":"s","expiresAt":"2030-01-01T00:00:00.000Z"},"user":{"id":"u","email":"e"}}"#
        );
        let missing_user: Map<String, Value> = serde_json::from_str(r#"{"jwt":"j","refresh":{"secret":"s"}}"#).unwrap();
        assert_eq!(
            AuthMaterial::from_json(missing_user, "refresh").unwrap_err().kind,
            ClientErrorKind::InvalidResponse
        );
    }

    #[tokio::test]
    async fn unreachable_crossmint_is_a_clear_error() {
        // Port 9 (discard) is closed on the loopback of a test machine.
        let c = client(Some("http://127.0.0.1:9"));
        let error = c.refresh("r").await.unwrap_err();
        assert_eq!(error.kind, ClientErrorKind::Unavailable);
        assert!(error.message.starts_with("Crossmint refresh failed"), "{}", error.message);
    }
}

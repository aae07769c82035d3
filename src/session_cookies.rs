//! Which cookies carry this project's session, and which cookies an answer
//! writes. Crossmint's current browser client (1.3) keeps the session under
//! project-scoped names, `crossmint-jwt-<projectId>` and
//! `crossmint-refresh-token-<projectId>`; clients up to 1.2.50 and the
//! reference server use the unscoped `crossmint-jwt` and
//! `crossmint-refresh-token`, and many apps still run them.
//!
//! Reading: each cookie under the scoped name first, the unscoped name
//! second. An unscoped pair whose JWT names other projects in its `aud`
//! (two projects on one domain) is not this project's session and is left
//! alone.
//!
//! Writing new material depends on who reads it next:
//! - A session found in the cookies (getSession): in the naming the spent
//!   refresh token came in with. Without a refresh route the page's own
//!   client refreshes too and reads its own naming (a 1.2 client the
//!   unscoped names, a 1.3 client the scoped ones); the other naming would
//!   leave it a spent token. A session carried under both namings with one
//!   refresh token (a refresh route's answer) is rewritten under both.
//! - A refresh route's answer (handleCustomRefresh): both namings, one
//!   session. In refresh-route mode neither client writes cookies, so the
//!   two copies cannot drift apart by a client's hand; a 1.3 client and its
//!   React provider read the scoped names, a 1.2 client matches names by
//!   prefix and finds the same values either way, and server code written
//!   after Crossmint's guide and its Next.js demo reads `crossmint-jwt` and
//!   `crossmint-refresh-token` by name. The unscoped names are left out only
//!   when the request carries another project's unscoped pair there.
//! - Nothing to go on (storeAuthMaterial, getSession with plain material):
//!   scoped.
//!
//! Once this project's session is confirmed under the scoped names, its
//! unscoped leftovers (a different refresh token) are expired: only a 1.3
//! page or a refresh route writes the scoped names, so no page still running
//! the previous client loses its session. A logout clears both namings.

use cookie::Cookie;

use crate::cookies::{named_set_cookies, CookieNames, CookieOptions};
use crate::http_date::JsTime;
use crate::jwt::{self, AudienceClaim, VerifyOptions};

/// Under which names a session travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    Scoped,
    Unscoped,
}

/// This project's session as a request's cookies carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionCookies {
    pub jwt: Option<String>,
    pub refresh_token: Option<String>,
    /// Where `refresh_token` came from.
    pub naming: Option<Naming>,
    /// The unscoped refresh token, when it is this project's as far as can
    /// be told and the scoped one was taken: a logout revokes it too.
    pub unscoped_refresh_token: Option<String>,
    /// The unscoped JWT beside it, in the same case.
    pub unscoped_jwt: Option<String>,
    /// Both namings carry the same refresh token: one session written under
    /// both (a refresh route's answer), to be kept under both.
    pub mirrored: bool,
    /// The session came in under the scoped names and the request also
    /// carries an unscoped pair, with another refresh token, whose JWT names
    /// this project: a leftover of the migration, expired once the session
    /// is confirmed.
    pub unscoped_leftover: bool,
    /// The unscoped pair is another project's (its JWT says so): nothing
    /// this project writes touches it.
    pub unscoped_other_project: bool,
}

impl SessionCookies {
    /// The unscoped session to try when the scoped one, whose refresh token
    /// `failed` was refused, came with an unscoped pair of this project: a
    /// page on the previous client (1.2) that spent a scoped token by its
    /// prefix match wrote its new session unscoped, beside the stale scoped
    /// pair; server code rewrote only the unscoped names (Crossmint's guide
    /// middleware). `(jwt, refresh token)`.
    ///
    /// Only when the unscoped JWT names this project in its `aud`: a lone
    /// unscoped refresh token (its JWT cookie gone with a browser restart or
    /// its expiry) may be another project's on the same domain, and would be
    /// presented with this project's key, then cleared.
    pub fn unscoped_fallback(&self, failed: &str) -> Option<(&str, &str)> {
        if !self.unscoped_leftover || self.refresh_token.as_deref() != Some(failed) {
            return None;
        }
        let token = self.unscoped_refresh_token.as_deref().filter(|token| !token.is_empty() && *token != failed)?;
        Some((self.unscoped_jwt.as_deref()?, token))
    }
}

/// Who reads the material an answer writes (see the module's notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The page whose cookies carried the session (getSession).
    Page,
    /// A client in refresh-route mode (handleCustomRefresh).
    RefreshRoute,
}

/// Which session cookies an answer clears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clearing {
    /// A logout: this project's cookies under both namings.
    Everything,
    /// A refused session: the naming it came in with (scoped when none),
    /// both when it was carried under both.
    RequestSession,
}

/// One project's cookie names, and whether its sessions are bound to it.
#[derive(Debug, Clone)]
pub struct ProjectCookies {
    scoped: CookieNames,
    unscoped: CookieNames,
    /// How a JWT's `aud` is judged (the instance's verification options).
    audience: VerifyOptions,
}

impl ProjectCookies {
    pub fn new(project_id: &str, audience: &VerifyOptions) -> ProjectCookies {
        ProjectCookies {
            scoped: CookieNames::scoped(project_id),
            unscoped: CookieNames::unscoped(),
            audience: audience.clone(),
        }
    }

    /// This project's session in a `Cookie` header.
    ///
    /// Unlike the reference (which splits each pair on every `=` and keeps
    /// the last duplicate) a value keeps everything after its first `=`
    /// (base64 padding survives), surrounding double quotes are dropped, and
    /// the first of two cookies with the same name wins, because browsers
    /// send the cookie with the most specific path first. Malformed parts
    /// are skipped, never fatal.
    pub fn read(&self, header: &str) -> SessionCookies {
        let [mut scoped_jwt, mut scoped_refresh, mut unscoped_jwt, mut unscoped_refresh] = [None, None, None, None];
        for cookie in Cookie::split_parse(header).flatten() {
            let name = cookie.name();
            let slot = if name == self.scoped.jwt {
                &mut scoped_jwt
            } else if name == self.scoped.refresh_token {
                &mut scoped_refresh
            } else if name == self.unscoped.jwt {
                &mut unscoped_jwt
            } else if name == self.unscoped.refresh_token {
                &mut unscoped_refresh
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(cookie.value_trimmed().to_string());
            }
        }
        let unscoped_audience = unscoped_jwt.as_deref().filter(|jwt| !jwt.is_empty()).map(jwt::unverified_audience);
        // Another project's session (its JWT says so) is none of ours.
        let unscoped_other_project = unscoped_audience.as_ref().is_some_and(|aud| self.names_other_projects(aud));
        if unscoped_other_project {
            unscoped_jwt = None;
            unscoped_refresh = None;
        }
        let naming = match (&scoped_refresh, &unscoped_refresh) {
            (Some(_), _) => Some(Naming::Scoped),
            (None, Some(_)) => Some(Naming::Unscoped),
            (None, None) => None,
        };
        let mirrored = naming == Some(Naming::Scoped) && scoped_refresh == unscoped_refresh;
        let unscoped_leftover = naming == Some(Naming::Scoped)
            && !mirrored
            && unscoped_audience
                .as_ref()
                .is_some_and(|aud| matches!(aud, AudienceClaim::Values(_)) && aud.accepted(&self.audience));
        let (unscoped_refresh_token, unscoped_jwt_beside) = if naming == Some(Naming::Scoped) {
            (unscoped_refresh.clone(), unscoped_jwt.clone())
        } else {
            (None, None)
        };
        SessionCookies {
            jwt: scoped_jwt.or(unscoped_jwt),
            refresh_token: scoped_refresh.or(unscoped_refresh),
            naming,
            unscoped_refresh_token,
            unscoped_jwt: unscoped_jwt_beside,
            mirrored,
            unscoped_leftover,
            unscoped_other_project,
        }
    }

    /// Whether an `aud` claim says the JWT is for other projects only (never
    /// when sessions are not bound to the project).
    fn names_other_projects(&self, audience: &AudienceClaim) -> bool {
        self.audience.project.is_some()
            && matches!(audience, AudienceClaim::Values(_))
            && !audience.accepted(&self.audience)
    }

    /// The namings new material is written under for `reader` (see the
    /// module's notes): a page gets the naming `spent` (the refresh token
    /// exchanged) came in with in `request`, both when that session was
    /// carried under both; a refresh route gets both, unless the unscoped
    /// names hold another project's session; an answer with nothing to go on
    /// (no request, a token no cookie carries) gets the scoped names. A
    /// `written` token the unscoped names already hold (a refresh made
    /// elsewhere, written there, handed out again here) is one session,
    /// kept under both rather than expired as a leftover.
    pub fn answer_namings(
        &self,
        request: Option<&SessionCookies>,
        spent: Option<&str>,
        written: &str,
        reader: Reader,
    ) -> &'static [Naming] {
        const SCOPED: &[Naming] = &[Naming::Scoped];
        const UNSCOPED: &[Naming] = &[Naming::Unscoped];
        const BOTH: &[Naming] = &[Naming::Scoped, Naming::Unscoped];
        if reader == Reader::RefreshRoute {
            return if request.is_some_and(|r| r.unscoped_other_project) { SCOPED } else { BOTH };
        }
        let Some(request) = request else { return SCOPED };
        let namings = match (request.naming, spent) {
            (Some(_), Some(spent)) if request.refresh_token.as_deref() == Some(spent) => match request.naming {
                _ if request.mirrored => BOTH,
                Some(Naming::Unscoped) => UNSCOPED,
                _ => SCOPED,
            },
            (_, Some(spent)) if request.unscoped_refresh_token.as_deref() == Some(spent) => UNSCOPED,
            _ => SCOPED,
        };
        if namings == SCOPED && request.unscoped_refresh_token.as_deref() == Some(written) {
            return BOTH;
        }
        namings
    }

    fn names(&self, naming: Naming) -> &CookieNames {
        match naming {
            Naming::Scoped => &self.scoped,
            Naming::Unscoped => &self.unscoped,
        }
    }

    /// The `Set-Cookie` lines for new material, under `answer_namings`'
    /// namings, and the expiry of this project's unscoped leftover a page's
    /// scoped answer supersedes.
    #[allow(clippy::too_many_arguments)]
    pub fn material_set_cookies(
        &self,
        request: Option<&SessionCookies>,
        spent: Option<&str>,
        reader: Reader,
        jwt: &str,
        refresh_secret: &str,
        refresh_expires: Option<JsTime>,
        options: &CookieOptions,
    ) -> Vec<String> {
        let namings = self.answer_namings(request, spent, refresh_secret, reader);
        let mut lines = Vec::new();
        for &naming in namings {
            lines.extend(session_lines(self.names(naming), jwt, refresh_secret, refresh_expires, options));
        }
        if namings == [Naming::Scoped] && request.is_some_and(|r| r.unscoped_leftover) {
            lines.extend(session_lines(&self.unscoped, "", "", None, options));
        }
        lines
    }

    /// The lines that clear a session (see `Clearing`). Another project's
    /// unscoped pair is never touched.
    pub fn cleared_set_cookies(
        &self,
        request: Option<&SessionCookies>,
        clearing: Clearing,
        options: &CookieOptions,
    ) -> Vec<String> {
        let request_naming = request.and_then(|r| r.naming).unwrap_or(Naming::Scoped);
        let others_unscoped = request.is_some_and(|r| r.unscoped_other_project);
        let mut lines = Vec::new();
        for naming in [Naming::Scoped, Naming::Unscoped] {
            let cleared = match clearing {
                Clearing::Everything => !(naming == Naming::Unscoped && others_unscoped),
                Clearing::RequestSession => naming == request_naming || request.is_some_and(|r| r.mirrored),
            };
            if cleared {
                lines.extend(session_lines(self.names(naming), "", "", None, options));
            }
        }
        lines
    }
}

/// The two lines that store (or, with empty values, clear) a session under `names`.
fn session_lines(
    names: &CookieNames,
    jwt: &str,
    refresh_secret: &str,
    refresh_expires: Option<JsTime>,
    options: &CookieOptions,
) -> Vec<String> {
    named_set_cookies(names, jwt, refresh_secret, refresh_expires, options).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    const PROJECT: &str = "dfb06708-a46f-4615-bd34-f614ae284e7b";

    fn jwt_with(payload: &str) -> String {
        format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(payload))
    }

    fn project() -> ProjectCookies {
        ProjectCookies::new(PROJECT, &VerifyOptions { project: Some(PROJECT.into()), ..Default::default() })
    }

    #[test]
    fn scoped_names_first_unscoped_second_each_cookie_on_its_own() {
        let p = project();
        let ours = jwt_with(&format!("{{\"aud\":\"{PROJECT}\"}}"));
        let header =
            format!("crossmint-jwt={ours}; crossmint-refresh-token=old; crossmint-refresh-token-{PROJECT}=new; x=y");
        let found = p.read(&header);
        assert_eq!(found.jwt.as_deref(), Some(ours.as_str()), "no scoped JWT: the unscoped one");
        assert_eq!((found.refresh_token.as_deref(), found.naming), (Some("new"), Some(Naming::Scoped)));
        assert_eq!(found.unscoped_refresh_token.as_deref(), Some("old"));
        assert!(found.unscoped_leftover, "the unscoped pair names this project");
        let old = p.read("crossmint-jwt=a.b.c; crossmint-refresh-token=r");
        assert_eq!(
            (old.refresh_token.as_deref(), old.naming, old.unscoped_leftover),
            (Some("r"), Some(Naming::Unscoped), false)
        );
        assert_eq!(p.read("other=1"), SessionCookies::default());
    }

    #[test]
    fn values_keep_padding_lose_quotes_first_duplicate_wins() {
        let p = project();
        let found = p.read("crossmint-refresh-token=abc==; crossmint-refresh-token=second; crossmint-jwt=\"q\"");
        assert_eq!((found.jwt.as_deref(), found.refresh_token.as_deref()), (Some("q"), Some("abc==")));
        let malformed = p.read(";;  ; =x; novalue; crossmint-jwt ; crossmint-refresh-token= r ;");
        assert_eq!((malformed.jwt, malformed.refresh_token.as_deref()), (None, Some("r")));
        assert_eq!(p.read(""), SessionCookies::default());
        let empty = p.read("crossmint-refresh-token=");
        assert_eq!(empty.refresh_token.as_deref(), Some(""), "present but empty");
    }

    #[test]
    fn another_projects_unscoped_session_is_left_alone() {
        let p = project();
        let theirs = jwt_with("{\"aud\":\"other-project\"}");
        let alone = p.read(&format!("crossmint-jwt={theirs}; crossmint-refresh-token=their-token"));
        assert_eq!(alone, SessionCookies { unscoped_other_project: true, ..Default::default() });
        let beside = p.read(&format!(
            "crossmint-jwt={theirs}; crossmint-refresh-token=their-token; crossmint-jwt-{PROJECT}=ours; crossmint-refresh-token-{PROJECT}=our-token"
        ));
        assert_eq!((beside.jwt.as_deref(), beside.refresh_token.as_deref()), (Some("ours"), Some("our-token")));
        assert_eq!(
            (beside.unscoped_refresh_token, beside.unscoped_leftover, beside.unscoped_other_project),
            (None, false, true)
        );
        // Without the binding, the pair is read as before.
        let unbound = ProjectCookies::new(PROJECT, &VerifyOptions::default());
        assert_eq!(
            unbound.read(&format!("crossmint-jwt={theirs}; crossmint-refresh-token=t")).refresh_token.as_deref(),
            Some("t")
        );
        // A JWT without aud cannot be told apart: read.
        let no_aud = jwt_with("{\"sub\":\"u\"}");
        assert_eq!(
            p.read(&format!("crossmint-jwt={no_aud}; crossmint-refresh-token=t")).naming,
            Some(Naming::Unscoped)
        );
    }

    #[test]
    fn answers_are_written_in_the_naming_the_spent_token_came_in_with() {
        let p = project();
        let options = CookieOptions::default();
        let scoped = p.read(&format!("crossmint-refresh-token-{PROJECT}=s"));
        let unscoped = p.read("crossmint-refresh-token=u");
        let names =
            |lines: Vec<String>| lines.iter().map(|l| l.split('=').next().unwrap().to_string()).collect::<Vec<_>>();
        let scoped_names = vec![format!("crossmint-jwt-{PROJECT}"), format!("crossmint-refresh-token-{PROJECT}")];
        let write = |request: Option<&SessionCookies>, spent: Option<&str>, reader| {
            names(p.material_set_cookies(request, spent, reader, "j", "n", None, &options))
        };
        assert_eq!(write(Some(&scoped), Some("s"), Reader::Page), scoped_names);
        assert_eq!(write(Some(&unscoped), Some("u"), Reader::Page), ["crossmint-jwt", "crossmint-refresh-token"]);
        assert_eq!(write(None, None, Reader::Page), scoped_names, "nothing to go on");
        assert_eq!(write(Some(&unscoped), Some("from-a-body"), Reader::Page), scoped_names);
        // A refresh route answers under both namings, whatever it was sent.
        let mut both = scoped_names.clone();
        both.extend(["crossmint-jwt".to_string(), "crossmint-refresh-token".to_string()]);
        assert_eq!(write(Some(&unscoped), Some("u"), Reader::RefreshRoute), both);
        assert_eq!(write(Some(&scoped), Some("s"), Reader::RefreshRoute), both);
        assert_eq!(write(None, Some("from-a-body"), Reader::RefreshRoute), both);
        let route = p.material_set_cookies(Some(&scoped), Some("s"), Reader::RefreshRoute, "j", "n", None, &options);
        assert!(route.iter().all(|line| !line.contains("1970")), "nothing expired: {route:?}");
        assert!(
            route[2].starts_with("crossmint-jwt=j;") && route[3].starts_with("crossmint-refresh-token=n;"),
            "{route:?}"
        );
        // A confirmed scoped session expires this project's unscoped leftovers.
        let ours = jwt_with(&format!("{{\"aud\":[\"{PROJECT}\"]}}"));
        let migrated =
            p.read(&format!("crossmint-jwt={ours}; crossmint-refresh-token=u; crossmint-refresh-token-{PROJECT}=s"));
        let lines = p.material_set_cookies(Some(&migrated), Some("s"), Reader::Page, "j", "n", None, &options);
        assert_eq!(lines.len(), 4);
        assert!(
            lines[2].starts_with("crossmint-jwt=;") && lines[3].starts_with("crossmint-refresh-token=;"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_session_carried_under_both_namings_stays_under_both() {
        let p = project();
        let options = CookieOptions::default();
        let ours = jwt_with(&format!("{{\"aud\":[\"{PROJECT}\"]}}"));
        let mirrored = p.read(&format!(
            "crossmint-jwt-{PROJECT}={ours}; crossmint-refresh-token-{PROJECT}=t; crossmint-jwt={ours}; crossmint-refresh-token=t"
        ));
        assert!(mirrored.mirrored && !mirrored.unscoped_leftover, "{mirrored:?}");
        assert_eq!((mirrored.refresh_token.as_deref(), mirrored.naming), (Some("t"), Some(Naming::Scoped)));
        assert_eq!(mirrored.unscoped_fallback("t"), None, "the same token is not tried twice");
        // A page that spends it rewrites both namings, and expires nothing.
        let page = p.material_set_cookies(Some(&mirrored), Some("t"), Reader::Page, "j", "n", None, &options);
        let heads = page.iter().map(|line| line.split(';').next().unwrap().to_string()).collect::<Vec<_>>();
        assert_eq!(
            heads,
            [
                format!("crossmint-jwt-{PROJECT}=j"),
                format!("crossmint-refresh-token-{PROJECT}=n"),
                "crossmint-jwt=j".to_string(),
                "crossmint-refresh-token=n".to_string()
            ]
        );
        // A refusal clears both.
        assert_eq!(p.cleared_set_cookies(Some(&mirrored), Clearing::RequestSession, &options).len(), 4);
        // Two different tokens are no mirror: the unscoped one is a leftover.
        let drifted = p.read(&format!(
            "crossmint-jwt-{PROJECT}={ours}; crossmint-refresh-token-{PROJECT}=t; crossmint-jwt={ours}; crossmint-refresh-token=old"
        ));
        assert!(!drifted.mirrored && drifted.unscoped_leftover);
        assert_eq!(p.cleared_set_cookies(Some(&drifted), Clearing::RequestSession, &options).len(), 2);
        // The fallback is only to an unscoped pair whose JWT names this project.
        assert_eq!(drifted.unscoped_fallback("t"), Some((ours.as_str(), "old")));
        let lone = p.read(&format!("crossmint-refresh-token-{PROJECT}=t; crossmint-refresh-token=lone"));
        assert_eq!(lone.unscoped_fallback("t"), None, "whose it is cannot be told");
        let no_aud = jwt_with("{\"sub\":\"u\"}");
        let unbound = p
            .read(&format!("crossmint-refresh-token-{PROJECT}=t; crossmint-jwt={no_aud}; crossmint-refresh-token=old"));
        assert_eq!(unbound.unscoped_fallback("t"), None, "a JWT without aud names no project");
        // A page handed the token the unscoped names already hold keeps both.
        let handed = p.material_set_cookies(Some(&drifted), Some("t"), Reader::Page, "j", "old", None, &options);
        assert_eq!(handed.len(), 4);
        assert!(handed[3].starts_with("crossmint-refresh-token=old;"), "{handed:?}");
        // A refresh route leaves another project's unscoped pair alone.
        let theirs = jwt_with("{\"aud\":\"other-project\"}");
        let beside =
            p.read(&format!("crossmint-jwt={theirs}; crossmint-refresh-token=x; crossmint-refresh-token-{PROJECT}=t"));
        let route = p.material_set_cookies(Some(&beside), Some("t"), Reader::RefreshRoute, "j", "n", None, &options);
        assert_eq!(route.len(), 2);
        assert!(route.iter().all(|line| line.contains(PROJECT)), "{route:?}");
    }

    #[test]
    fn a_refused_scoped_session_falls_back_to_this_projects_unscoped_pair_only() {
        let p = project();
        let ours = jwt_with(&format!("{{\"aud\":\"{PROJECT}\"}}"));
        let both = p.read(&format!(
            "crossmint-jwt={ours}; crossmint-refresh-token=live; crossmint-refresh-token-{PROJECT}=stale"
        ));
        assert_eq!(both.unscoped_fallback("stale"), Some((ours.as_str(), "live")));
        assert_eq!(both.unscoped_fallback("live"), None, "only after the scoped token failed");
        let theirs = jwt_with("{\"aud\":\"other-project\"}");
        let foreign = p.read(&format!(
            "crossmint-jwt={theirs}; crossmint-refresh-token=t; crossmint-refresh-token-{PROJECT}=stale"
        ));
        assert_eq!(foreign.unscoped_fallback("stale"), None, "another project's pair is never used");
        assert_eq!(p.read(&format!("crossmint-refresh-token-{PROJECT}=s")).unscoped_fallback("s"), None);
    }

    #[test]
    fn a_logout_clears_both_namings_a_refusal_its_own() {
        let p = project();
        let options = CookieOptions::default();
        let unscoped = p.read("crossmint-refresh-token=u");
        assert_eq!(p.cleared_set_cookies(Some(&unscoped), Clearing::Everything, &options).len(), 4);
        let refused = p.cleared_set_cookies(Some(&unscoped), Clearing::RequestSession, &options);
        assert_eq!(refused.len(), 2);
        assert!(refused[0].starts_with("crossmint-jwt=;"), "{refused:?}");
        let nothing = p.cleared_set_cookies(None, Clearing::RequestSession, &options);
        assert!(nothing[0].starts_with(&format!("crossmint-jwt-{PROJECT}=;")));
        // Another project's unscoped pair survives this project's logout.
        let theirs = jwt_with("{\"aud\":\"other-project\"}");
        let beside =
            p.read(&format!("crossmint-jwt={theirs}; crossmint-refresh-token=t; crossmint-refresh-token-{PROJECT}=s"));
        let logout = p.cleared_set_cookies(Some(&beside), Clearing::Everything, &options);
        assert_eq!(logout.len(), 2);
        assert!(logout.iter().all(|line| line.contains(PROJECT)), "{logout:?}");
    }
}

//! The web application's router driven through `oneshot` over a small real
//! data directory, with users in a real state database: SQLite always,
//! PostgreSQL when `CRADLE_TEST_DATABASE_URL` names one (then an
//! unreachable database fails rather than skips). Every page and form:
//! status codes, role rules, CSRF, sessions that end, the sign-in limit,
//! escaping and the security headers.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use cradle_console::AppState;
use cradle_query::Data;
use cradle_state::{LinkPurpose, Role, StateConfig, StateDb};
use cradle_test_support::fixture;
use http_body_util::BodyExt;
use tempfile::TempDir;
use tower::ServiceExt;

struct Site {
    _dir: TempDir,
    /// The served data folder (a workspace's).
    data_dir: std::path::PathBuf,
    state: AppState,
    /// Built once, as a server does: the sign-in limiter lives in it.
    router: Router,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A signed-in browser: its session cookie and its forms' CSRF token.
struct Agent {
    cookie: String,
    csrf: String,
    email: String,
}

fn unique() -> String {
    format!(
        "{:x}{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_nanos(),
        std::process::id()
    )
}

/// The value of the first `name="csrf" value="…"` of a page.
fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .map(|i| i + marker.len())
        .expect("a form with a CSRF token");
    html[start..].split('"').next().expect("value").to_owned()
}

fn set_cookie_value(headers: &HeaderMap, name: &str) -> Option<(String, String)> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v[name.len() + 1..]
                .split(';')
                .next()
                .unwrap_or("")
                .to_owned();
            (value, v.to_owned())
        })
}

impl Site {
    async fn new(config: Option<StateConfig>) -> Site {
        Site::with_data(config, true).await
    }

    /// A site over the fixture data, enriched or only indexed.
    async fn with_data(config: Option<StateConfig>, enriched: bool) -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        if enriched {
            fixture::write_data_dir(&data_dir).await;
        } else {
            fixture::write_data_dir_of(&data_dir, &fixture::delivery()).await;
        }
        let config = config.unwrap_or_else(|| StateConfig::Dir(dir.path().join("state")));
        let state_db = StateDb::open(&config)
            .await
            .unwrap_or_else(|error| panic!("cannot open the state database: {error:?}"));
        let state = AppState::new(state_db);
        state.set_data(Data::open(&data_dir).await.expect("open data"));
        let router = cradle_console::router_with(state.clone(), cradle_web::router(state.clone()));
        Site {
            _dir: dir,
            data_dir,
            state,
            router,
        }
    }

    fn router(&self) -> Router {
        self.router.clone()
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router().oneshot(request).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, uri: &str, agent: Option<&Agent>) -> Answer {
        let mut request = Request::get(uri).header(header::ACCEPT_LANGUAGE, "en");
        if let Some(agent) = agent {
            request = request.header(header::COOKIE, format!("cradle_session={}", agent.cookie));
        }
        self.send(request.body(Body::empty()).expect("request"))
            .await
    }

    async fn post(&self, uri: &str, agent: Option<&Agent>, form: &[(&str, &str)]) -> Answer {
        let mut request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT_LANGUAGE, "en");
        if let Some(agent) = agent {
            request = request.header(header::COOKIE, format!("cradle_session={}", agent.cookie));
        }
        let body = serde_urlencoded::to_string(form).expect("form");
        self.send(request.body(Body::from(body)).expect("request"))
            .await
    }

    /// A user with `role`, signed in through a one-time link.
    async fn agent(&self, role: Role) -> Agent {
        let db = self.state.state_db();
        let email = format!("{}-{}@example.com", role.as_str(), unique());
        let user = db.create_user(&email, role).await.expect("user");
        let token = db
            .issue_link(&user.id, LinkPurpose::SignIn)
            .await
            .expect("link");
        let answer = self.get(&format!("/login/link?token={token}"), None).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        assert_eq!(answer.location(), "/");
        let (cookie, _) =
            set_cookie_value(&answer.headers, "cradle_session").expect("session cookie");
        let page = self
            .get(
                "/account",
                Some(&Agent {
                    cookie: cookie.clone(),
                    csrf: String::new(),
                    email: email.clone(),
                }),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        Agent {
            csrf: csrf_of(&page.body),
            cookie,
            email,
        }
    }
}

const PAGES: &[&str] = &[
    "/",
    "/search?q=Einbauleuchte",
    "/products/LW-100234",
    "/chat",
    "/sql",
    "/developers",
    "/users",
    "/admin",
    "/account",
];

async fn pages_need_a_session(site: &Site) {
    for page in PAGES {
        let answer = site.get(page, None).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{page}");
        assert!(
            answer.location().starts_with("/login"),
            "{page}: {}",
            answer.location()
        );
    }
    let answer = site.get("/search?q=a", None).await;
    assert_eq!(answer.location(), "/login?next=%2Fsearch%3Fq%3Da");
    let forged = Agent {
        cookie: "0".repeat(64),
        csrf: String::new(),
        email: String::new(),
    };
    assert_eq!(
        site.get("/", Some(&forged)).await.status,
        StatusCode::SEE_OTHER
    );
    let login = site.get("/login", None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("name=\"password\""));
}

async fn links_sign_in_once_with_safe_cookies(site: &Site) {
    let db = site.state.state_db();
    let user = db
        .create_user(&format!("link-{}@example.com", unique()), Role::Viewer)
        .await
        .expect("user");
    let token = db
        .issue_link(&user.id, LinkPurpose::SignIn)
        .await
        .expect("link");
    let request = Request::get(format!("/login/link?token={token}"))
        .header("x-forwarded-proto", "https")
        .body(Body::empty())
        .expect("request");
    let answer = site.send(request).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/");
    let (_, cookie) = set_cookie_value(&answer.headers, "cradle_session").expect("cookie");
    for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let again = site.get(&format!("/login/link?token={token}"), None).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "a link works once");
    assert!(set_cookie_value(&again.headers, "cradle_session").is_none());
    // Without TLS the cookie is not Secure (it would never be sent).
    let token = db
        .issue_link(&user.id, LinkPurpose::Reset)
        .await
        .expect("link");
    let answer = site.get(&format!("/login/link?token={token}"), None).await;
    assert_eq!(
        answer.location(),
        "/account",
        "a reset link leads to the password form"
    );
    let (_, cookie) = set_cookie_value(&answer.headers, "cradle_session").expect("cookie");
    assert!(!cookie.contains("Secure"), "{cookie}");
}

async fn every_page_renders_for_an_admin(site: &Site) {
    let admin = site.agent(Role::CustomerAdmin).await;
    for page in PAGES {
        let answer = site.get(page, Some(&admin)).await;
        assert_eq!(answer.status, StatusCode::OK, "{page}: {}", answer.body);
        assert!(answer.body.starts_with("<!doctype html>"), "{page}");
        let csp = answer
            .headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(
            answer
                .headers
                .get(header::X_CONTENT_TYPE_OPTIONS)
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
        assert!(
            !answer.body.contains("<script>"),
            "{page}: no inline script"
        );
    }
    let dashboard = site.get("/", Some(&admin)).await.body;
    assert!(
        dashboard.contains("<svg") && dashboard.contains("Einbauleuchten"),
        "charts with the families"
    );
    let search = site
        .get(
            "/search?q=Einbauleuchte&family=Einbauleuchten",
            Some(&admin),
        )
        .await;
    assert!(
        search.body.contains("LW-100234") && search.body.contains("2 results"),
        "{}",
        search.body
    );
    assert!(!search.body.contains("SL-200100"));
    let fragment = site.get("/search?q=Linea&fragment=1", Some(&admin)).await;
    assert!(fragment.body.contains("PL-300") && !fragment.body.contains("<html"));
    let range = site
        .get(
            "/search?q=&range_field=Leistung&range_min=20&range_max=30&range_unit=W",
            Some(&admin),
        )
        .await;
    assert!(
        range.body.contains("LW-100299") && !range.body.contains("LW-100234\""),
        "{}",
        range.body
    );
    let bad = site.get("/search?mode=psychic", Some(&admin)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let product = site.get("/products/LW-100234", Some(&admin)).await.body;
    assert!(
        product.contains("stamm.csv") && product.contains("Leistung"),
        "provenance shown"
    );
    let missing = site.get("/products/NOPE-1", Some(&admin)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let request_id = missing
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("request id");
    assert!(
        missing.body.contains(request_id),
        "the error page quotes the request id"
    );
    let asset = cradle_web::embedded_assets()[0].0;
    let css = site.get(asset, None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .contains("immutable")
    );
    let german = site
        .send(
            Request::get("/login")
                .header(header::ACCEPT_LANGUAGE, "de-DE,de;q=0.9")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert!(german.body.contains("Anmelden") && german.body.contains("lang=\"de\""));
}

async fn roles_decide_what_a_user_may_do(site: &Site) {
    let viewer = site.agent(Role::Viewer).await;
    for page in ["/users", "/admin", "/sql", "/developers"] {
        assert_eq!(
            site.get(page, Some(&viewer)).await.status,
            StatusCode::FORBIDDEN,
            "viewer on {page}"
        );
    }
    for page in ["/", "/search?q=Leuchte", "/products/PL-300", "/chat"] {
        assert_eq!(
            site.get(page, Some(&viewer)).await.status,
            StatusCode::OK,
            "viewer on {page}"
        );
    }
    let csrf = viewer.csrf.as_str();
    assert_eq!(
        site.post(
            "/developers/keys",
            Some(&viewer),
            &[("csrf", csrf), ("name", "x")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        site.post(
            "/sql",
            Some(&viewer),
            &[("csrf", csrf), ("query", "SELECT 1")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        site.post(
            "/users",
            Some(&viewer),
            &[
                ("csrf", csrf),
                ("email", "x@example.com"),
                ("role", "viewer")
            ]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        site.post(
            "/products/PL-300/class",
            Some(&viewer),
            &[("csrf", csrf), ("etim_class", "EC000001")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let page = site.get("/", Some(&viewer)).await.body;
    assert!(
        !page.contains("href=\"/users\"") && !page.contains("href=\"/sql\""),
        "no links to forbidden pages"
    );

    let developer = site.agent(Role::Developer).await;
    for (page, status) in [
        ("/sql", StatusCode::OK),
        ("/developers", StatusCode::OK),
        ("/users", StatusCode::FORBIDDEN),
        ("/admin", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            site.get(page, Some(&developer)).await.status,
            status,
            "developer on {page}"
        );
    }
    let editor = site.agent(Role::Editor).await;
    assert_eq!(
        site.get("/sql", Some(&editor)).await.status,
        StatusCode::FORBIDDEN
    );
    // An editor's correction wins and says who made it; its text is escaped.
    let xss = "<script>alert(1)</script>";
    let answer = site
        .post(
            "/products/PL-300/class",
            Some(&editor),
            &[("csrf", &editor.csrf), ("etim_class", xss)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let product = site.get("/products/PL-300", Some(&viewer)).await.body;
    let escaped = [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&#60;script&#62;alert(1)&#60;/script&#62;",
    ];
    assert!(
        escaped.iter().any(|e| product.contains(e)) && !product.contains(xss),
        "escaped: {}",
        &product[product.find("class-heading").unwrap_or(0)..][..600]
    );
    assert!(product.contains(&editor.email), "shows who");
    site.post(
        "/products/PL-300/class",
        Some(&editor),
        &[("csrf", &editor.csrf), ("etim_class", "EC001743")],
    )
    .await;
    let product = site.get("/products/PL-300", Some(&viewer)).await.body;
    assert!(product.contains("<strong>EC001743</strong>"));
}

async fn forms_refuse_a_missing_or_wrong_csrf_token(site: &Site) {
    let admin = site.agent(Role::CustomerAdmin).await;
    let forms: &[(&str, &[(&str, &str)])] = &[
        ("/logout", &[]),
        ("/developers/keys", &[("name", "k")]),
        (
            "/users",
            &[("email", "csrf@example.com"), ("role", "viewer")],
        ),
        ("/products/PL-300/class", &[("etim_class", "EC000001")]),
        ("/sql", &[("query", "SELECT 1")]),
        ("/sql/csv", &[("query", "SELECT 1")]),
        (
            "/account/password",
            &[
                ("password", "a long password"),
                ("repeat", "a long password"),
            ],
        ),
        ("/account/language", &[("language", "de")]),
        ("/chat", &[("question", "Einbauleuchte")]),
        ("/chat/stream", &[("question", "Einbauleuchte")]),
    ];
    for (uri, fields) in forms {
        for token in [None, Some("wrong")] {
            let mut form: Vec<(&str, &str)> = fields.to_vec();
            if let Some(token) = token {
                form.push(("csrf", token));
            }
            let answer = site.post(uri, Some(&admin), &form).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{uri} with {token:?}");
        }
    }
    // Still signed in: the refused sign-out did nothing.
    assert_eq!(site.get("/", Some(&admin)).await.status, StatusCode::OK);
    // The sign-in form's token is its cookie's.
    let answer = site
        .post(
            "/login",
            None,
            &[("csrf", "x"), ("email", "a@example.com"), ("password", "p")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

async fn sign_in_by_password_is_rate_limited(site: &Site) {
    let db = site.state.state_db();
    let email = format!("limit-{}@example.com", unique());
    let user = db.create_user(&email, Role::Viewer).await.expect("user");
    db.set_password(&user.id, "the right password")
        .await
        .expect("password");
    let login = site.get("/login", None).await;
    let (token, _) = set_cookie_value(&login.headers, "cradle_login").expect("login cookie");
    let attempt = |password: &'static str| {
        let body = serde_urlencoded::to_string([
            ("csrf", token.as_str()),
            ("email", email.as_str()),
            ("password", password),
            ("next", "/search"),
        ])
        .expect("form");
        Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("cradle_login={token}"))
            .body(Body::from(body))
            .expect("request")
    };
    let ok = site.send(attempt("the right password")).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/search");
    assert!(set_cookie_value(&ok.headers, "cradle_session").is_some());
    for _ in 0..5 {
        assert_eq!(
            site.send(attempt("wrong")).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = site.send(attempt("the right password")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
    let log = db.audit_log(20).await.expect("log");
    assert!(
        log.iter()
            .any(|e| e.action == "sign_in_failed" && e.target.as_deref() == Some(email.as_str()))
    );
}

async fn a_disabled_users_session_stops_working(site: &Site) {
    let admin = site.agent(Role::CustomerAdmin).await;
    let viewer = site.agent(Role::Viewer).await;
    assert_eq!(site.get("/", Some(&viewer)).await.status, StatusCode::OK);
    let user = site
        .state
        .state_db()
        .user_by_email(&viewer.email)
        .await
        .expect("db")
        .expect("user");
    let answer = site
        .post(
            &format!("/users/{}/disable", user.id),
            Some(&admin),
            &[("csrf", &admin.csrf)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let after = site.get("/", Some(&viewer)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(after.location().starts_with("/login"));
    let users = site.get("/users", Some(&admin)).await.body;
    assert!(users.contains("disabled"));
    // A reset link for a disabled user is refused; enabled again, it works.
    let answer = site
        .post(
            &format!("/users/{}/reset", user.id),
            Some(&admin),
            &[("csrf", &admin.csrf)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    site.post(
        &format!("/users/{}/enable", user.id),
        Some(&admin),
        &[("csrf", &admin.csrf)],
    )
    .await;
    let answer = site
        .post(
            &format!("/users/{}/reset", user.id),
            Some(&admin),
            &[("csrf", &admin.csrf)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("/login/link?token="));
    // Roles change through the form; an admin cannot disable themselves.
    let answer = site
        .post(
            &format!("/users/{}/role", user.id),
            Some(&admin),
            &[("csrf", &admin.csrf), ("role", "editor")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(
        site.state
            .state_db()
            .user(&user.id)
            .await
            .expect("db")
            .expect("user")
            .role,
        Role::Editor
    );
    let me = site
        .state
        .state_db()
        .user_by_email(&admin.email)
        .await
        .expect("db")
        .expect("user");
    let answer = site
        .post(
            &format!("/users/{}/disable", me.id),
            Some(&admin),
            &[("csrf", &admin.csrf)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    // Adding a user shows their one-time link, which signs them in.
    let email = format!("new-{}@example.com", unique());
    let answer = site
        .post(
            "/users",
            Some(&admin),
            &[("csrf", &admin.csrf), ("email", &email), ("role", "viewer")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let start = answer.body.find("/login/link?token=").expect("link");
    let link: String = answer.body[start..]
        .chars()
        .take_while(|c| *c != '<' && *c != '"')
        .collect();
    assert_eq!(site.get(&link, None).await.location(), "/");
    let duplicate = site
        .post(
            "/users",
            Some(&admin),
            &[("csrf", &admin.csrf), ("email", &email), ("role", "viewer")],
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::BAD_REQUEST);
    let admin_page = site.get("/admin", Some(&admin)).await.body;
    assert!(
        admin_page.contains("user_disabled") && admin_page.contains("user_added"),
        "the audit log"
    );
}

async fn keys_sql_account_and_sign_out(site: &Site) {
    let developer = site.agent(Role::Developer).await;
    let answer = site
        .post(
            "/developers/keys",
            Some(&developer),
            &[("csrf", &developer.csrf), ("name", "erp")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let start = answer.body.find("crdl_").expect("the key, once");
    let key: String = answer.body[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric_or_underscore)
        .collect();
    assert_eq!(key.len(), 69);
    let api = |key: &str| {
        Request::get("/api/search?q=Linea")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::empty())
            .expect("request")
    };
    assert_eq!(site.send(api(&key)).await.status, StatusCode::OK);
    let page = site.get("/developers", Some(&developer)).await.body;
    assert!(!page.contains(&key), "shown only once");
    assert!(page.contains("/mcp") && page.contains("mcpServers") && page.contains("/api/search"));
    let id = site
        .state
        .state_db()
        .list_api_keys()
        .await
        .expect("keys")
        .into_iter()
        .find(|k| key.starts_with(&k.prefix))
        .expect("listed")
        .id;
    let answer = site
        .post(
            &format!("/developers/keys/{id}/revoke"),
            Some(&developer),
            &[("csrf", &developer.csrf)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(site.send(api(&key)).await.status, StatusCode::UNAUTHORIZED);

    let sql = site
        .post(
            "/sql",
            Some(&developer),
            &[
                ("csrf", &developer.csrf),
                (
                    "query",
                    "SELECT article_no FROM products ORDER BY article_no",
                ),
            ],
        )
        .await;
    assert_eq!(sql.status, StatusCode::OK);
    assert!(sql.body.contains("<td>DR-350</td>"));
    let csv = site
        .post(
            "/sql/csv",
            Some(&developer),
            &[
                ("csrf", &developer.csrf),
                (
                    "query",
                    "SELECT article_no FROM products ORDER BY article_no",
                ),
            ],
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .starts_with("text/csv")
    );
    assert!(csv.body.starts_with("article_no\nDR-350\n"), "{}", csv.body);
    let write = site
        .post(
            "/sql",
            Some(&developer),
            &[("csrf", &developer.csrf), ("query", "DELETE FROM products")],
        )
        .await;
    assert_eq!(write.status, StatusCode::BAD_REQUEST);

    let short = site
        .post(
            "/account/password",
            Some(&developer),
            &[
                ("csrf", &developer.csrf),
                ("password", "short"),
                ("repeat", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    let set = site
        .post(
            "/account/password",
            Some(&developer),
            &[
                ("csrf", &developer.csrf),
                ("password", "a good long password"),
                ("repeat", "a good long password"),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::OK);
    assert!(
        site.state
            .state_db()
            .check_password(&developer.email, "a good long password")
            .await
            .expect("db")
            .is_some()
    );
    let german = site
        .post(
            "/account/language",
            Some(&developer),
            &[("csrf", &developer.csrf), ("language", "de")],
        )
        .await;
    assert_eq!(german.status, StatusCode::SEE_OTHER);
    assert!(
        site.get("/", Some(&developer))
            .await
            .body
            .contains("Übersicht"),
        "the user's language wins over the browser's"
    );

    let out = site
        .post("/logout", Some(&developer), &[("csrf", &developer.csrf)])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/login");
    assert_eq!(
        site.get("/", Some(&developer)).await.status,
        StatusCode::SEE_OTHER,
        "the session ended"
    );
}

trait KeyChar {
    fn is_ascii_alphanumeric_or_underscore(&self) -> bool;
}

impl KeyChar for char {
    fn is_ascii_alphanumeric_or_underscore(&self) -> bool {
        self.is_ascii_alphanumeric() || *self == '_'
    }
}

/// A viewer asks; without a language model configured the answer is
/// extractive: matching products with numbered facts that link to their
/// pages and name their source. A follow-up stays in the conversation,
/// and markup in the question comes back as text.
async fn chat_answers_with_cited_products(site: &Site) {
    let viewer = site.agent(Role::Viewer).await;
    let page = site.get("/chat", Some(&viewer)).await;
    assert_eq!(page.status, StatusCode::OK);
    let answer = site
        .post(
            "/chat",
            Some(&viewer),
            &[
                ("csrf", &viewer.csrf),
                ("question", "Einbauleuchte dimmbar"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("href=\"/products/"), "{}", answer.body);
    assert!(answer.body.contains("extractive"), "{}", answer.body);
    let conversation = answer
        .body
        .split("name=\"conversation\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned();
    assert!(
        !conversation.is_empty(),
        "the page carries its conversation"
    );
    let follow_up = site
        .post(
            "/chat",
            Some(&viewer),
            &[
                ("csrf", &viewer.csrf),
                ("conversation", &conversation),
                ("question", "<script>alert(1)</script>"),
            ],
        )
        .await;
    assert_eq!(follow_up.status, StatusCode::OK);
    assert!(!follow_up.body.contains("<script>alert(1)</script>"));
    // Another user cannot continue it.
    let other = site.agent(Role::Viewer).await;
    let refused = site
        .post(
            "/chat",
            Some(&other),
            &[
                ("csrf", &other.csrf),
                ("conversation", &conversation),
                ("question", "Einbauleuchte"),
            ],
        )
        .await;
    assert!(
        refused.body.contains("role=\"alert\"") && !refused.body.contains("href=\"/products/"),
        "{}",
        refused.body
    );
}

/// The events of a server-sent event stream: (name, data as JSON).
fn sse_events(body: &str) -> Vec<(String, serde_json::Value)> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = Some(value.trim().to_owned());
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.strip_prefix(' ').unwrap_or(value));
                }
            }
            let data = serde_json::from_str(&data.join("\n")).ok()?;
            Some((name?, data))
        })
        .collect()
}

/// The page's script streams answers from `/chat/stream`: only with a
/// session (a 401 for a script, not a redirect) and its CSRF token; the
/// events are those of `POST /api/chat`, in order (the conversation
/// first, each citation before the text citing it, done last), and the
/// answer is stored in the user's conversation like the form's.
async fn chat_streams_under_the_session(site: &Site) {
    let viewer = site.agent(Role::Viewer).await;
    let question = [("question", "Einbauleuchte dimmbar")];
    let anonymous = site.post("/chat/stream", None, &question).await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );
    assert!(anonymous.body.contains("\"code\""), "{}", anonymous.body);
    let forged = site
        .post(
            "/chat/stream",
            Some(&viewer),
            &[("csrf", "wrong"), ("question", "Einbauleuchte dimmbar")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let empty = site
        .post(
            "/chat/stream",
            Some(&viewer),
            &[("csrf", &viewer.csrf), ("question", " ")],
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.body);
    assert!(empty.body.contains("invalid_question"), "{}", empty.body);

    let answer = site
        .post(
            "/chat/stream",
            Some(&viewer),
            &[
                ("csrf", &viewer.csrf),
                ("question", "Einbauleuchte dimmbar"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"))
    );
    let events = sse_events(&answer.body);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.first(), Some(&"conversation"), "{names:?}");
    assert_eq!(names.last(), Some(&"done"), "{names:?}");
    for (name, data) in &events {
        assert_eq!(
            data["type"],
            name.as_str(),
            "each event is named after its type"
        );
    }
    let mut text = String::new();
    let mut cited = Vec::new();
    for (name, data) in &events {
        match name.as_str() {
            "citation" => {
                assert!(data["article_no"].is_string() && data["source"].is_object());
                cited.push(data["n"].as_u64().expect("n"));
            }
            "delta" => {
                text.push_str(data["text"].as_str().expect("text"));
                // Every number the text refers to so far was cited first.
                for n in 1..=20u64 {
                    if text.contains(&format!("[{n}]")) {
                        assert!(cited.contains(&n), "[{n}] before its citation: {names:?}");
                    }
                }
            }
            _ => {}
        }
    }
    assert!(!cited.is_empty() && !text.is_empty(), "{names:?}");
    let id = events[0].1["id"]
        .as_str()
        .expect("conversation id")
        .to_owned();
    let done = &events.last().expect("done").1;
    assert_eq!(done["conversation"], id.as_str());

    // Stored: the conversation page shows the question and the answer
    // with its sources, and a streamed follow-up continues it.
    let shown = site
        .get(&format!("/chat?conversation={id}"), Some(&viewer))
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(
        shown.body.contains("Einbauleuchte dimmbar"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("href=\"/products/"), "{}", shown.body);
    assert!(
        shown
            .body
            .contains(&format!("name=\"conversation\" value=\"{id}\"")),
        "the form continues the conversation shown"
    );
    let follow_up = site
        .post(
            "/chat/stream",
            Some(&viewer),
            &[
                ("csrf", &viewer.csrf),
                ("conversation", &id),
                ("question", "Pendelleuchte"),
            ],
        )
        .await;
    assert_eq!(follow_up.status, StatusCode::OK, "{}", follow_up.body);
    let events = sse_events(&follow_up.body);
    assert_eq!(events[0].1["id"], id.as_str(), "the same conversation");
    // Someone else's conversation cannot be continued: refused before
    // any event.
    let other = site.agent(Role::Viewer).await;
    let refused = site
        .post(
            "/chat/stream",
            Some(&other),
            &[
                ("csrf", &other.csrf),
                ("conversation", &id),
                ("question", "Einbauleuchte"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
}

/// `/chat` lists the user's own conversations, most recently active
/// first, each titled by its first question and opening it; another
/// user's conversation is a 404, and never listed.
async fn chat_lists_only_the_users_own_conversations(site: &Site) {
    let first = site.agent(Role::Viewer).await;
    let second = site.agent(Role::Editor).await;
    let mut ids = Vec::new();
    for question in ["Downlight weiß", "Strahler schwarz"] {
        if !ids.is_empty() {
            // The store keeps times in whole seconds; the second question
            // is asked a second later so "most recently active" is
            // decided by time.
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        }
        let answer = site
            .post(
                "/chat/stream",
                Some(&first),
                &[("csrf", &first.csrf), ("question", question)],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let events = sse_events(&answer.body);
        ids.push(events[0].1["id"].as_str().expect("id").to_owned());
    }
    let theirs = site
        .post(
            "/chat",
            Some(&second),
            &[("csrf", &second.csrf), ("question", "Einbauleuchte geheim")],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::OK);

    let page = site.get("/chat", Some(&first)).await;
    assert_eq!(page.status, StatusCode::OK);
    let newer = page
        .body
        .find("Strahler schwarz")
        .expect("the newer conversation is listed");
    let older = page
        .body
        .find("Downlight weiß")
        .expect("the older conversation is listed");
    assert!(newer < older, "most recently active first");
    for id in &ids {
        assert!(
            page.body
                .contains(&format!("href=\"/chat?conversation={id}\"")),
            "{id} opens from the list"
        );
    }
    assert!(
        !page.body.contains("Einbauleuchte geheim"),
        "another user's conversation is listed"
    );

    // Another user's conversation: 404 for the page, for the list it is
    // not there.
    let foreign = site
        .get(&format!("/chat?conversation={}", ids[0]), Some(&second))
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(!foreign.body.contains("Downlight"), "{}", foreign.body);
    let unknown = site.get("/chat?conversation=nope", Some(&first)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let own = site
        .get(&format!("/chat?conversation={}", ids[0]), Some(&first))
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.contains("Downlight weiß"));
    assert!(own.body.contains("aria-current=\"page\""));
    let second_page = site.get("/chat", Some(&second)).await;
    assert!(second_page.body.contains("Einbauleuchte geheim"));
    assert!(!second_page.body.contains("Downlight"));
}

/// The class with its confidence and source, the features enrich mapped
/// and a datasheet's text (escaped, the long part collapsed).
async fn the_product_page_shows_what_enrich_found(site: &Site) {
    let viewer = site.agent(Role::Viewer).await;
    let page = site
        .get(
            &format!("/products/{}", fixture::DATASHEET_PRODUCT),
            Some(&viewer),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    let class = &body[body.find("class-heading").expect("the class card")..];
    assert!(
        class.contains("Confidence") && class.contains("100 %"),
        "{class}"
    );
    assert!(class.contains("delivered with the data"), "{class}");
    assert!(
        class.contains("EF009347") && class.contains("Lamp power"),
        "mapped features: {class}"
    );
    let media = &body[body.find("media-heading").expect("the media card")..];
    assert!(media.contains(fixture::DATASHEET), "{media}");
    assert!(
        media.contains("<details>") && media.contains("Extracted text"),
        "a long text is collapsed: {media}"
    );
    assert!(
        !media.contains(fixture::DATASHEET_MARKUP)
            && (media.contains("&lt;b&gt;Lichtstrom&lt;/b&gt;")
                || media.contains("&#60;b&#62;Lichtstrom&#60;/b&#62;")),
        "the text is escaped: {media}"
    );
    // Classified by its neighbours (an editor may have corrected it since
    // in a shared database; the classifier's view is shown either way).
    let page = site.get("/products/PL-300", Some(&viewer)).await.body;
    let class = &page[page.find("class-heading").expect("the class card")..];
    assert!(
        class.contains("87 %") && class.contains("classifier: similar products"),
        "{class}"
    );
}

/// `reports/runs.jsonl` as a table, newest first, with a chart of the
/// latest run's steps; a line that is not a run is left out with a note.
async fn the_admin_page_shows_the_run_history(site: &Site) {
    let admin = site.agent(Role::CustomerAdmin).await;
    let page = site.get("/admin", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No run recorded"), "{}", page.body);

    let run = |delivery: u64, started: &str, enrich: f64| {
        serde_json::json!({
            "customer": "luxwerk", "cradle_version": "0.1.0", "workspace": "/ws",
            "started_at": started, "finished_at": started, "ok": true,
            "failed_step": null, "error": null,
            "steps": [
                {"name": "ingest", "state": "done", "seconds": 2.5, "message": "", "retries": 0},
                {"name": "enrich", "state": "done", "seconds": enrich, "message": "", "retries": 0},
                {"name": "index", "state": "skipped", "seconds": 0.0, "message": "", "retries": 0},
            ],
            "delivery_version": delivery, "products": 5, "files": 1, "data_points": 40,
            "rejected_rows": 1, "chunks": 12, "vectors": 10, "classified": 5,
            "image_digest": "sha256:0123456789abcdef0123", "image_size": 52428800,
            "healthy_ms": 1250.0, "seconds": 10.0 + enrich,
        })
        .to_string()
    };
    let reports = site.data_dir.join("reports");
    std::fs::create_dir_all(&reports).expect("reports folder");
    let lines = [
        run(1, "2026-03-01T10:00:00Z", 7.0),
        "{\"customer\": \"luxwerk\", \"steps\": [".to_owned(),
        run(2, "2026-03-02T10:00:00Z", 31.5),
    ];
    std::fs::write(reports.join("runs.jsonl"), lines.join("\n") + "\n").expect("runs.jsonl");

    let page = site.get("/admin", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    let runs = &body[body.find("runs-heading").expect("the runs card")..];
    assert!(
        runs.contains("1 lines of reports/runs.jsonl could not be read"),
        "{runs}"
    );
    let newest = runs.find("2026-03-02T10:00:00Z").expect("the newest run");
    let oldest = runs.find("2026-03-01T10:00:00Z").expect("the oldest run");
    assert!(newest < oldest, "newest first");
    assert!(
        runs.contains("<svg") && runs.contains("enrich (done)") && runs.contains("31.5 s"),
        "a chart of the latest run's steps: {runs}"
    );
    assert!(runs.contains("0123456789ab (50.0 MB)"), "{runs}");

    // A history that is only garbage is still a page.
    std::fs::write(reports.join("runs.jsonl"), "\u{0}\u{1}garbage\n[]\n").expect("runs.jsonl");
    let page = site.get("/admin", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("2 lines of reports/runs.jsonl"),
        "{}",
        page.body
    );
    std::fs::remove_file(reports.join("runs.jsonl")).expect("remove");
}

#[tokio::test]
async fn a_product_of_data_not_enriched_says_so() {
    let site = Site::with_data(None, false).await;
    let viewer = site.agent(Role::Viewer).await;
    let page = site
        .get(
            &format!("/products/{}", fixture::DATASHEET_PRODUCT),
            Some(&viewer),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("has not been enriched") && page.body.contains("EC001744"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Confidence"), "{}", page.body);
}

async fn everything(site: &Site) {
    pages_need_a_session(site).await;
    links_sign_in_once_with_safe_cookies(site).await;
    every_page_renders_for_an_admin(site).await;
    the_product_page_shows_what_enrich_found(site).await;
    the_admin_page_shows_the_run_history(site).await;
    roles_decide_what_a_user_may_do(site).await;
    forms_refuse_a_missing_or_wrong_csrf_token(site).await;
    sign_in_by_password_is_rate_limited(site).await;
    a_disabled_users_session_stops_working(site).await;
    chat_answers_with_cited_products(site).await;
    chat_streams_under_the_session(site).await;
    chat_lists_only_the_users_own_conversations(site).await;
    keys_sql_account_and_sign_out(site).await;
}

#[tokio::test]
async fn pages_and_forms_on_sqlite() {
    everything(&Site::new(None).await).await;
}

#[tokio::test]
async fn pages_and_forms_on_postgres_when_configured() {
    let Ok(url) = std::env::var("CRADLE_TEST_DATABASE_URL") else {
        eprintln!("CRADLE_TEST_DATABASE_URL is not set; PostgreSQL not tested");
        return;
    };
    everything(&Site::new(Some(StateConfig::DatabaseUrl(url))).await).await;
}

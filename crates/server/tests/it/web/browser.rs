//! A browser for the tests: cookies kept, redirects shown rather than followed, forms read
//! from the pages that show them (their CSRF token included).

use crate::common::{Harness, PASSWORD};
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};

/// One answer from the server.
pub struct Resp {
    pub status: u16,
    pub location: Option<String>,
    pub cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

impl Resp {
    pub async fn from(r: reqwest::Response) -> Resp {
        let headers = r.headers().clone();
        let header = |name| {
            headers
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
        };
        let location = header(LOCATION).map(str::to_string);
        let cookies = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let status = r.status().as_u16();
        let html = r.text().await.unwrap();
        if headers
            .get(CONTENT_TYPE)
            .is_some_and(|t| t.to_str().unwrap().starts_with("text/html"))
        {
            assert_eq!(html.matches("<h1").count(), 1, "one <h1> per page:\n{html}");
        }
        Resp {
            status,
            location,
            cookies,
            headers,
            html,
        }
    }

    /// The value of the page's (first) hidden `name` input.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .html
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} field in:\n{}", self.html));
        let rest = &self.html[start + marker.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }

    pub fn csrf(&self) -> String {
        self.field("csrf")
    }

    /// The text of the element with `id`.
    pub fn text_of(&self, id: &str) -> String {
        let marker = format!("id=\"{id}\">");
        let start = self
            .html
            .find(&marker)
            .unwrap_or_else(|| panic!("no #{id} in:\n{}", self.html))
            + marker.len();
        let rest = &self.html[start..];
        rest[..rest.find('<').unwrap()].to_string()
    }

    pub fn redirects_to(&self, path: &str) -> &Self {
        assert_eq!(
            (self.status, self.location.as_deref()),
            (303, Some(path)),
            "{}",
            self.html
        );
        self
    }

    pub fn shows(&self, status: u16, text: &str) -> &Self {
        assert_eq!(self.status, status, "{}", self.html);
        assert!(self.html.contains(text), "{text:?} not in:\n{}", self.html);
        self
    }

    pub fn cookie(&self, name: &str) -> &str {
        let prefix = format!("{name}=");
        self.cookies
            .iter()
            .find(|c| c.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {name} cookie"))
    }
}

/// A browser: cookies kept, redirects not followed.
pub struct Browser {
    pub h: Harness,
    pub c: reqwest::Client,
}

impl Browser {
    pub fn new(h: &Harness) -> Browser {
        Browser {
            h: h.clone(),
            c: h.client(),
        }
    }

    /// A browser whose every request asks for `accept_language` (`nl-NL,nl;q=0.9`).
    pub fn speaking(h: &Harness, accept_language: &str) -> Browser {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT_LANGUAGE,
            accept_language.parse().unwrap(),
        );
        Browser {
            h: h.clone(),
            c: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(headers)
                .build()
                .unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        Resp::from(self.c.get(self.h.url(path)).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let req = self
            .c
            .post(self.h.url(path))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        Resp::from(req.body(body).send().await.unwrap()).await
    }

    /// Fills in the form on `page` (its CSRF token included) and submits it to `action`.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = self.get(page).await.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Signs in with the password; answers where the sign-in goes next.
    pub async fn password(&self, username: &str) -> Resp {
        self.submit(
            "/sign-in",
            "/sign-in",
            &[("username", username), ("password", PASSWORD)],
        )
        .await
    }

    /// Signs in with the password and a code from `secret`.
    pub async fn sign_in(&self, username: &str, secret: &str) {
        self.password(username)
            .await
            .redirects_to("/sign-in/verify");
        let page = self.get("/sign-in/verify").await;
        let method = page.field("method_id");
        let code = self.h.code(secret, 0);
        self.submit(
            "/sign-in/verify",
            "/sign-in/verify",
            &[("method_id", &method), ("code", &code)],
        )
        .await
        .redirects_to("/security-info");
        self.h.advance(30);
    }

    /// Adds an authenticator app through the pages; returns (method id, secret).
    pub async fn add_authenticator(&self, name: &str) -> (String, String) {
        const ADD: &str = "/security-info/add/authenticator-code";
        let r = self.submit(ADD, ADD, &[("name", name)]).await;
        let verify = r.location.clone().unwrap();
        let id = verify
            .trim_start_matches("/security-info/methods/")
            .trim_end_matches("/verify")
            .to_string();
        let page = self.get(&verify).await;
        page.shows(200, "Scan the QR code")
            .shows(200, "<svg")
            .shows(200, "Can&#39;t scan the QR code?");
        let secret = page.text_of("secret");
        let r = self
            .submit(&verify, &verify, &[("code", &self.h.code(&secret, 0))])
            .await;
        if r.location.as_deref() == Some("/sign-in/register") {
            self.finish_registration().await;
        } else {
            r.redirects_to("/security-info?done=added");
        }
        self.h.advance(30);
        (id, secret)
    }

    /// Walks the registration wizard to its end: past a recommended backup ("Skip this
    /// step"), then Done on the success page, which completes the sign-in.
    pub async fn finish_registration(&self) {
        const SUCCESS: &str = "/sign-in/register/success";
        let page = self.get("/sign-in/register").await;
        let success = if page.html.contains(&format!("href=\"{SUCCESS}\"")) {
            self.get(SUCCESS).await
        } else {
            page
        };
        success.shows(200, "Success!");
        self.post(
            "/sign-in/register/done",
            &[("csrf", success.csrf().as_str())],
        )
        .await
        .redirects_to("/security-info");
    }
}

/// A person signed in on the pages with one authenticator app (registered through the API).
pub async fn signed_in(h: &Harness, username: &str) -> (Browser, String, String) {
    let (_, method, secret) = h.enrolled_user(&h.client(), username).await;
    let b = Browser::new(h);
    b.sign_in(username, &secret).await;
    (b, method, secret)
}

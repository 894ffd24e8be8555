use super::*;
use crate::oidc::client::Requirement;
use crate::oidc::keys::SigningAlg;
use time::Duration;

const CB: &str = "https://app.example/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn client(public: bool) -> Client {
    Client {
        client_id: "app".into(),
        name: "App".into(),
        secret_hash: (!public).then(|| secret::token_hash("s")),
        redirect_uris: vec![CB.into()],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        first_party: true,
        requirement: Requirement::TwoStep,
        offline_access: false,
        id_token_alg: SigningAlg::Es256,
        created_at: OffsetDateTime::UNIX_EPOCH,
    }
}

fn params() -> AuthorizeParams {
    AuthorizeParams {
        client_id: Some("app".into()),
        redirect_uri: Some(CB.into()),
        response_type: Some("code".into()),
        scope: Some("openid email offline_access".into()),
        state: Some("st".into()),
        nonce: Some("n".into()),
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        ..AuthorizeParams::default()
    }
}

fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-01-01 0:00 UTC)
}

fn run(
    p: &AuthorizeParams,
    c: Option<&Client>,
) -> std::result::Result<AuthorizationRequest, AuthorizeError> {
    check(p, c, RequestId(uuid::Uuid::nil()), now())
}

fn redirect_error(p: &AuthorizeParams, c: &Client) -> ErrorCode {
    match run(p, Some(c)) {
        Err(AuthorizeError::Redirect(e)) => {
            assert_eq!(e.redirect_uri, CB);
            assert_eq!(e.state.as_deref(), Some("st"));
            e.error
        }
        other => panic!("expected a redirect error, got {other:?}"),
    }
}

#[test]
fn a_good_request_is_kept_with_what_it_asked() {
    let r = run(&params(), Some(&client(true))).expect("valid");
    assert_eq!(r.redirect_uri, CB);
    assert_eq!(r.code_challenge.as_deref(), Some(CHALLENGE));
    // offline_access is dropped for a client not allowed it.
    assert_eq!(r.scope.to_string(), "openid email");
    assert_eq!(r.expires_at, now() + REQUEST_TTL);
    assert_eq!(r.response_mode, ResponseMode::Query);
    let mut allowed = client(true);
    allowed.offline_access = true;
    let r = run(&params(), Some(&allowed)).expect("valid");
    assert!(r.scope.contains("offline_access"));
}

#[test]
fn unknown_client_and_bad_redirect_uri_get_an_error_page() {
    let page = |p: &AuthorizeParams, c: Option<&Client>| match run(p, c) {
        Err(AuthorizeError::Page(e)) => e,
        other => panic!("expected a page error, got {other:?}"),
    };
    assert_eq!(page(&params(), None), PageError::UnknownClient);
    let mut p = params();
    p.client_id = None;
    assert_eq!(page(&p, Some(&client(true))), PageError::MissingClientId);
    for uri in [
        "https://app.example/cb/",
        "https://evil.example/cb",
        "https://app.example/cb?x",
    ] {
        let mut p = params();
        p.redirect_uri = Some(uri.into());
        assert_eq!(
            page(&p, Some(&client(true))),
            PageError::UnregisteredRedirectUri
        );
    }
    let mut p = params();
    p.redirect_uri = None;
    assert_eq!(page(&p, Some(&client(true))), PageError::MissingRedirectUri);
}

#[test]
fn other_errors_go_back_to_the_client() {
    let c = client(true);
    let with = |f: &dyn Fn(&mut AuthorizeParams)| {
        let mut p = params();
        f(&mut p);
        p
    };
    assert_eq!(
        redirect_error(&with(&|p| p.response_type = Some("token".into())), &c),
        ErrorCode::UnsupportedResponseType
    );
    assert_eq!(
        redirect_error(
            &with(&|p| p.response_type = Some("code id_token".into())),
            &c
        ),
        ErrorCode::UnsupportedResponseType
    );
    assert_eq!(
        redirect_error(&with(&|p| p.scope = Some("email".into())), &c),
        ErrorCode::InvalidScope
    );
    assert_eq!(
        redirect_error(
            &with(&|p| p.code_challenge_method = Some("plain".into())),
            &c
        ),
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        redirect_error(&with(&|p| p.code_challenge_method = None), &c),
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        redirect_error(&with(&|p| p.code_challenge = Some("short".into())), &c),
        ErrorCode::InvalidRequest
    );
    // PKCE is required of a public client, optional for a confidential one.
    let no_pkce = with(&|p| {
        p.code_challenge = None;
        p.code_challenge_method = None;
    });
    assert_eq!(redirect_error(&no_pkce, &c), ErrorCode::InvalidRequest);
    assert!(run(&no_pkce, Some(&client(false))).is_ok());
    assert_eq!(
        redirect_error(&with(&|p| p.prompt = Some("none login".into())), &c),
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        redirect_error(&with(&|p| p.max_age = Some("-1".into())), &c),
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        redirect_error(&with(&|p| p.request = Some("x".into())), &c),
        ErrorCode::RequestNotSupported
    );
    assert_eq!(
        redirect_error(&with(&|p| p.response_mode = Some("fragment".into())), &c),
        ErrorCode::InvalidRequest
    );
    let form = run(
        &with(&|p| p.response_mode = Some("form_post".into())),
        Some(&c),
    )
    .expect("valid");
    assert_eq!(form.response_mode, ResponseMode::FormPost);
}

fn auth(at: OffsetDateTime, acr: Option<Acr>) -> Authentication {
    Authentication {
        account: AccountId(uuid::Uuid::nil()),
        session: SessionId(uuid::Uuid::nil()),
        auth_time: at,
        amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
        acr,
    }
}

#[test]
fn decide_follows_prompt_max_age_acr_and_consent() {
    let c = client(true);
    let mut p = params();
    p.max_age = Some("300".into());
    let r = run(&p, Some(&c)).expect("valid");
    let before = auth(now() - Duration::seconds(10), Some(Acr::TwoStep));
    assert_eq!(r.decide(&c, None, None, now()), Decision::SignIn);
    assert_eq!(r.decide(&c, Some(&before), None, now()), Decision::Issue);
    let old = auth(now() - Duration::seconds(301), Some(Acr::TwoStep));
    assert_eq!(r.decide(&c, Some(&old), None, now()), Decision::SignIn);
    assert_eq!(
        r.decide(&c, Some(&auth(now(), None)), None, now()),
        Decision::StepUp
    );

    let mut none = params();
    none.prompt = Some("none".into());
    let r = run(&none, Some(&c)).expect("valid");
    match r.decide(&c, None, None, now()) {
        Decision::Error(e) => assert_eq!(e.error, ErrorCode::LoginRequired),
        other => panic!("{other:?}"),
    }

    let mut login = params();
    login.prompt = Some("login".into());
    let r = run(&login, Some(&c)).expect("valid");
    assert_eq!(r.decide(&c, Some(&before), None, now()), Decision::SignIn);
    assert_eq!(
        r.decide(&c, Some(&auth(now(), Some(Acr::TwoStep))), None, now()),
        Decision::Issue
    );

    let mut strict = client(true);
    strict.requirement = Requirement::PhishingResistant;
    let r = run(&params(), Some(&strict)).expect("valid");
    assert_eq!(
        r.decide(&strict, Some(&before), None, now()),
        Decision::StepUp
    );
    let key = auth(now(), Some(Acr::PhishingResistant));
    assert_eq!(r.decide(&strict, Some(&key), None, now()), Decision::Issue);

    let mut third = client(true);
    third.first_party = false;
    let r = run(&params(), Some(&third)).expect("valid");
    assert_eq!(
        r.decide(&third, Some(&before), None, now()),
        Decision::Consent
    );
    let consent = Consent {
        account: before.account,
        client_id: "app".into(),
        scopes: Scopes::parse("openid email profile").expect("valid"),
        granted_at: now(),
    };
    assert_eq!(
        r.decide(&third, Some(&before), Some(&consent), now()),
        Decision::Issue
    );
}

#[test]
fn responses_carry_state_and_issuer() {
    let c = client(true);
    let r = run(&params(), Some(&c)).expect("valid");
    let e = r.error(ErrorCode::AccessDenied, "no");
    let url = redirect_url(&e.redirect_uri, &e.params("https://id.example"));
    assert_eq!(
        url,
        "https://app.example/cb?error=access_denied&error_description=no&state=st&iss=https%3A%2F%2Fid.example"
    );
}

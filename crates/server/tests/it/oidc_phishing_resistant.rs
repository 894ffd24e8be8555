//! A client that requires a phishing-resistant sign-in: a person who signed in with a code
//! is sent to their security key, and the ID token then says a key was used.

use crate::common::{Harness, each_backend};
use crate::oidc::{
    Http, at, local, param, params_of, register_requiring, relying_party, sign_in_for,
};
use crate::web::browser::Browser;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{AuthorizationCode, CsrfToken, Nonce, PkceCodeChallenge, TokenResponse};
use tessera_core::oidc::{Requirement, SigningAlg};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{RequestChallengeResponse, Url};

#[tokio::test]
async fn a_client_requiring_a_security_key_sends_a_totp_sign_in_to_the_key() {
    each_backend(|h: Harness| async move {
        let username = "kim@example.org";
        let client = h.client();
        let (token, _, secret) = h.enrolled_user(&client, username).await;
        let mut key = crate::webauthn::key_with_pin();
        let (key_id, _) = crate::webauthn::register(&h, &client, &token, &mut key).await;
        let b = Browser::new(&h);
        let (id, client_secret) = register_requiring(
            &h,
            true,
            true,
            SigningAlg::Es256,
            Requirement::PhishingResistant,
        )
        .await;
        let rp = relying_party(&h, &id, client_secret.as_deref()).await;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, nonce) = rp
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .url();
        // The fresh code does not wave the person through: they are asked for their key.
        let r = sign_in_for(&b, &local(&url), username, &secret).await;
        let to = r.location.clone().unwrap_or_default();
        assert!(to.starts_with("/step-up/security-key?"), "{to}");
        assert!(
            to.contains("phishing_resistant=1") && to.contains(&key_id),
            "{to}"
        );
        let page = b.get(&to).await;
        assert_eq!(page.status, 200, "{:?}", page.location);
        // Only a key will do, and the page says so; the person's app is not offered.
        page.shows(200, "This needs a security key or passkey");
        assert!(!page.html.contains("href=\"/step-up?"), "{}", page.html);

        // The key answers: the request goes on, and the ID token says a key was used.
        let options: RequestChallengeResponse = serde_json::from_value(
            crate::reset_gates::attribute_json(&page.html, "data-options"),
        )
        .unwrap();
        let origin = Url::parse(&h.origin()).unwrap();
        let assertion = key.do_authentication(origin, options).unwrap();
        let answer = serde_json::to_string(&assertion).unwrap();
        let fields = [
            ("csrf", page.csrf()),
            ("method_id", key_id.clone()),
            ("next", page.field("next")),
            ("webauthn", answer),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let back = b.post("/step-up/security-key", &fields).await;
        let back = back.location.clone().unwrap_or_default();
        assert!(back.contains("stepped=1"), "{back}");
        let r = b.get(&back).await;
        let params = params_of(r.location.as_deref().unwrap_or_default());
        let code = param(&params, "code").expect("a code for the client");
        let tokens = rp
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&Http(h.clone()))
            .await
            .unwrap();
        let verifier = rp.id_token_verifier().set_time_fn(at(&h));
        let claims = tokens
            .id_token()
            .unwrap()
            .claims(&verifier, &nonce)
            .unwrap();
        let amr: Vec<&str> = claims
            .auth_method_refs()
            .unwrap()
            .iter()
            .map(|a| a.as_str())
            .collect();
        assert!(amr.contains(&"hwk") && amr.contains(&"mfa"), "{amr:?}");
        assert_eq!(
            claims.auth_context_ref().map(|a| a.as_str()),
            Some("urn:tessera:acr:phishing_resistant")
        );
    })
    .await;
}

## OpenID Connect: signing in to the organization's apps

oidc-error-title = This app's sign-in request can't be used
oidc-error-unknown-client = The app that sent you here is not registered here. Go back to the app and try again, or tell your administrator.
oidc-error-redirect-uri = The app that sent you here asked to return to an address that is not registered for it, so you are not sent there. Tell your administrator.
oidc-error-expired = This sign-in request has expired or was already used. Go back to the app and sign in again.
oidc-form-post-title = Back to the app
oidc-form-post-intro = You're signed in. Continue to return to the app.
oidc-form-post-submit = Continue
oidc-consent-title = Allow access?
oidc-consent-intro = { $client } would like to use your account to sign you in, and to see:
oidc-consent-allow = Allow
oidc-consent-deny = Deny
oidc-scope-openid = who you are (an identifier for your account)
oidc-scope-profile = your name and username
oidc-scope-email = your email address
oidc-scope-groups = the groups you belong to
oidc-scope-offline-access = access while you are not signed in

## OpenID Connect: signing out through an app

oidc-logout-confirm-title = Sign out of Tessera?
oidc-logout-confirm-intro = You asked to sign out. Signing out here also signs you out of the apps you signed in to with this account.
oidc-logout-confirm-intro-client = { $client } asked to sign you out. Signing out here also signs you out of the other apps you signed in to with this account.
oidc-logout-confirm-submit = Sign out
oidc-logout-confirm-stay = Stay signed in
oidc-logout-done-title = You have signed out
oidc-logout-done-intro = You are no longer signed in here. You can close this window.
oidc-logout-done-sign-in = Sign in again
action-oidc_logged_out = Signed out through an app
action-oidc_backchannel_logout_failed = An app could not be told of a sign-out

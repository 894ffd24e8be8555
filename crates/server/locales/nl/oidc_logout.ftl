## OpenID Connect: afmelden via een app

oidc-logout-confirm-title = Afmelden bij Tessera?
oidc-logout-confirm-intro = Je wilt je afmelden. Als je je hier afmeldt, word je ook afgemeld bij de apps waarbij je je met dit account hebt aangemeld.
oidc-logout-confirm-intro-client = { $client } vraagt je af te melden. Als je je hier afmeldt, word je ook afgemeld bij de andere apps waarbij je je met dit account hebt aangemeld.
oidc-logout-confirm-submit = Afmelden
oidc-logout-confirm-stay = Aangemeld blijven
oidc-logout-done-title = Je bent afgemeld
oidc-logout-done-intro = Je bent hier niet meer aangemeld. Je kunt dit venster sluiten.
oidc-logout-done-sign-in = Opnieuw aanmelden
action-oidc_logged_out = Afgemeld via een app
action-oidc_backchannel_logout_failed = Een app kon niet over een afmelding worden ingelicht

## OpenID Connect: aanmelden bij de apps van de organisatie

oidc-error-title = Het aanmeldverzoek van deze app kan niet worden gebruikt
oidc-error-unknown-client = De app die je hierheen stuurde, is hier niet geregistreerd. Ga terug naar de app en probeer het opnieuw, of meld het aan je beheerder.
oidc-error-redirect-uri = De app die je hierheen stuurde, vroeg om terug te keren naar een adres dat niet voor de app is geregistreerd, dus je wordt daar niet heen gestuurd. Meld het aan je beheerder.
oidc-error-expired = Dit aanmeldverzoek is verlopen of al gebruikt. Ga terug naar de app en meld je opnieuw aan.
oidc-form-post-title = Terug naar de app
oidc-form-post-intro = Je bent aangemeld. Ga verder om terug te keren naar de app.
oidc-form-post-submit = Doorgaan
oidc-consent-title = Toegang toestaan?
oidc-consent-intro = { $client } wil je account gebruiken om je aan te melden, en wil zien:
oidc-consent-allow = Toestaan
oidc-consent-deny = Weigeren
oidc-scope-openid = wie je bent (een kenmerk van je account)
oidc-scope-profile = je naam en gebruikersnaam
oidc-scope-email = je e-mailadres
oidc-scope-groups = de groepen waartoe je behoort
oidc-scope-offline-access = toegang terwijl je niet bent aangemeld

# Tessera — Nederlands.

## Foutmeldingen (API.md-codes)
error-invalid_credentials = De gebruikersnaam of het wachtwoord is onjuist.
error-invalid_code = Deze code klopt niet. Probeer het opnieuw.
error-expired = Deze aanmelding of aanvraag is verlopen. Begin opnieuw.
error-locked = Te veel verkeerde codes. Probeer het over { $seconds } seconden opnieuw.
error-rate_limited = Te veel verzoeken. Probeer het over { $seconds } seconden opnieuw.
error-step_up_required = Bevestig eerst je identiteit om je beveiligingsgegevens te wijzigen.
error-not_allowed = Dat is niet toegestaan.
error-not_found = Dat konden we niet vinden.
error-bad_request = Controleer { $field }: { $problem }
error-unauthorized = Meld je aan om verder te gaan.
error-internal = Er ging bij ons iets mis. Probeer het later opnieuw.
error-csrf = Dit formulier is verlopen of kwam van een andere site. Laad de pagina opnieuw en probeer het nog eens.
error-body_too_large = Het verzoek is te groot.
error-method_not_allowed = Dit adres accepteert deze verzoekmethode niet.

problem-required = dit is verplicht.
problem-too-short = gebruik minstens { $min } tekens.
problem-too-long = gebruik hoogstens { $max }.
problem-invalid = dit is niet geldig.
problem-taken = dit is al in gebruik.
problem-banned = dit wachtwoord komt te vaak voor of bevat je gebruikersnaam. Kies een ander.
problem-same-as-current = kies iets anders dan je huidige.

not-allowed-kind-not-allowed = Je organisatie staat dit soort methode niet toe.
not-allowed-kind-unavailable = Dit soort methode is nog niet beschikbaar.
not-allowed-account-disabled = Je account is uitgeschakeld. Neem contact op met je beheerder.
not-allowed-registration-only = Stel eerst je beveiligingsgegevens in.
not-allowed-method-not-usable = Met deze methode kun je je niet aanmelden.
not-allowed-admin-only = Alleen beheerders kunnen dit doen.
not-allowed-own-account = Dit kun je niet met je eigen account doen: vraag het een andere beheerder.

## Webpagina's

# Elke pagina
nav-skip = Naar de inhoud
nav-sign-out = Afmelden
lang-label = Taal
lang-submit = Taal wijzigen
common-next = Volgende
common-back = Terug
common-cancel = Annuleren
code-label = Code

# Soorten methoden (de namen uit API.md)
kind-authenticator_app = Authenticator-app
kind-authenticator_code = Authenticator-app of hardwaretoken
kind-phone_mobile = Telefoon
kind-phone_alternate = Andere telefoon
kind-phone_office = Telefoon op kantoor
kind-email = E-mail
kind-security_questions = Beveiligingsvragen
kind-security_key = Beveiligingssleutel

status-active = Actief
status-pending = Nog niet ingesteld
status-default = Standaard

# Aanmelden
sign-in-title = Aanmelden
sign-in-intro = Meld je aan met je account van { $org }.
sign-in-username = Gebruikersnaam
sign-in-username-hint = Meestal je e-mailadres, zoals alice@example.org.
sign-in-password = Wachtwoord
sign-in-submit = Aanmelden
sign-in-signed-out = Je bent afgemeld.
sign-in-expired = Het aanmelden duurde te lang en is verlopen. Begin opnieuw.
verify-title = Code invoeren
verify-intro = Voer de code van 6 cijfers in van { $method }.
verify-submit = Verifiëren
verify-other = Op een andere manier aanmelden
verify-cancel = Annuleren en opnieuw beginnen
other-title = Op een andere manier aanmelden
other-intro = Kies hoe je wilt bevestigen dat jij het bent.

# Meer informatie vereist
register-title = Houd je account veilig
register-intro = Je organisatie heeft meer informatie nodig om je account te beveiligen.

# Mijn beveiligingsgegevens
security-info-title = Mijn beveiligingsgegevens
security-info-intro = Dit zijn de methoden waarmee je je aanmeldt bij je account of je wachtwoord opnieuw instelt.
security-info-default = Standaardmethode voor aanmelden: { $method }
security-info-default-none = Standaardmethode voor aanmelden: nog geen
security-info-change = Wijzigen
security-info-add = Aanmeldmethode toevoegen
security-info-methods = Je aanmeldmethoden
security-info-empty = Je hebt nog geen aanmeldmethoden toegevoegd.
security-info-created = Toegevoegd
security-info-last-used = laatst gebruikt
security-info-never-used = nog niet gebruikt
security-info-finish = Instellen afronden
security-info-delete = Verwijderen
security-info-activity = Bekijk je recente activiteit
done-added = Je aanmeldmethode is toegevoegd.
done-deleted = De aanmeldmethode is verwijderd.
done-default = Je standaardmethode voor aanmelden is gewijzigd.

# Een methode toevoegen
add-title = Een aanmeldmethode toevoegen
add-intro = Welke methode wil je toevoegen?
add-none = Je organisatie staat nog geen methode toe die je hier kunt toevoegen. Neem contact op met je beheerder.
add-kind-authenticator_code = Een app op je telefoon, of een hardwaretoken, die elke 30 seconden een nieuwe code van 6 cijfers toont.
add-code-title = Een authenticator-app instellen
add-code-intro = Installeer een authenticator-app op je telefoon; elke app die codes van 6 cijfers toont werkt, zoals Microsoft Authenticator, Google Authenticator of FreeOTP.
add-code-next = Kies Volgende zodra je de app hebt. Je scant er dan een QR-code mee.
add-code-name = Naam (optioneel)
add-code-name-hint = Zo kun je je methoden uit elkaar houden, bijvoorbeeld "Telefoon van het werk".
enroll-title = Scan de QR-code
enroll-intro = Open je authenticator-app, kies voor een account toevoegen en scan deze QR-code.
enroll-qr-label = QR-code om te scannen met je authenticator-app
enroll-open-app = Stel je dit in op deze telefoon? Open de authenticator-app direct.
enroll-manual = Lukt het scannen van de QR-code niet?
enroll-manual-intro = Voeg het account met de hand toe in je app, met deze gegevens:
enroll-account = Accountnaam
enroll-issuer = Uitgever
enroll-secret = Geheime sleutel
enroll-type = Type
enroll-type-value = Op tijd gebaseerd, { $digits } cijfers, elke { $seconds } seconden
enroll-code-heading = Voer de code van 6 cijfers in
enroll-code-intro = Voer de code in die je app nu toont voor { $org }.
enroll-expired = Het instellen duurde te lang en is gestopt. Begin opnieuw.

# Een methode verwijderen, de standaard wijzigen
delete-title = Aanmeldmethode verwijderen
delete-confirm = { $method } verwijderen? Dit kan niet ongedaan worden gemaakt.
delete-default-note = Dit is je standaardmethode voor aanmelden. Een andere methode wordt de standaard.
delete-last-note = Dit is je enige aanmeldmethode. De volgende keer dat je je aanmeldt, moet je een nieuwe instellen.
delete-submit = Verwijderen
default-title = Standaardmethode voor aanmelden wijzigen
default-intro = Naar welke methode moeten we als eerste vragen wanneer je je aanmeldt?
default-submit = Bevestigen
default-none = Je hebt nog geen methoden waarmee je je kunt aanmelden.
default-choose = Kies een van je methoden.

# Identiteit bevestigen
step-up-title = Bevestig je identiteit
step-up-intro = Voer, voordat je je beveiligingsgegevens wijzigt, de code van 6 cijfers in van { $method }.
step-up-none = Met geen van je methoden kun je je identiteit bevestigen. Neem contact op met je beheerder.
step-up-other = Op een andere manier bevestigen

# Recente activiteit
activity-title = Recente activiteit
activity-intro = Aanmeldingen en wijzigingen in je beveiligingsgegevens, de nieuwste eerst. Herken je iets niet, wijzig dan je wachtwoord en laat het je beheerder weten.
activity-when = Wanneer
activity-what = Wat
activity-ip = IP-adres
activity-browser = Browser
activity-browser-on = { $browser } op { $system }
activity-unknown = Onbekend
activity-empty = Nog niets.
activity-with-method = { $action } — { $method }
activity-method-named = { $kind } ({ $name })
activity-pages = Meer activiteit
activity-newer = Nieuwer
activity-older = Ouder
activity-page-of = Pagina { $page } van { $pages }
action-sign_in_password_failed = Verkeerd wachtwoord
action-sign_in_password_accepted = Wachtwoord geaccepteerd
action-sign_in_refused_disabled = Aanmelden geweigerd: account uitgeschakeld
action-sign_in_succeeded = Aangemeld
action-registration_completed = Beveiligingsgegevens ingesteld bij het aanmelden
action-code_accepted = Code geaccepteerd
action-code_rejected = Verkeerde code
action-code_replayed = Code twee keer gebruikt
action-method_locked = Methode geblokkeerd na te veel verkeerde codes
action-step_up_succeeded = Identiteit bevestigd
action-method_added = Aanmeldmethode toegevoegd
action-method_verified = Aanmeldmethode ingesteld
action-method_deleted = Aanmeldmethode verwijderd
action-default_method_changed = Standaardmethode voor aanmelden gewijzigd
action-signed_out = Afgemeld
action-account_created = Account aangemaakt
action-account_disabled = Account uitgeschakeld
action-account_enabled = Account ingeschakeld
action-password_changed = Wachtwoord gewijzigd
action-locale_changed = Taal gewijzigd
action-sessions_ended = Overal afgemeld
action-policy_changed = Beleid gewijzigd
action-oidc_client_created = App-koppeling gemaakt
action-oidc_client_changed = App-koppeling gewijzigd
action-oidc_client_deleted = App-koppeling verwijderd
action-oidc_keys_rotated = Ondertekeningssleutels vervangen
action-oidc_authorized = Aangemeld bij een app
action-oidc_tokens_issued = App-toegang verleend
action-oidc_token_reused = Gebruikt app-token opnieuw aangeboden: toegang ingetrokken
action-oidc_consent_granted = App toegang gegeven
action-oidc_consent_revoked = App-toegang ingetrokken

# Foutpagina's
error-page-title = Dat lukte niet
error-page-not-found = Pagina niet gevonden
error-page-internal = Er ging iets mis
error-page-home = Naar de startpagina

# The code field, by what the method gives.
temporary-access-pass-label = Tijdelijke toegangspas
verify-intro-recovery-codes = Voer een van je herstelcodes in. Elke code werkt één keer.
step-up-intro-recovery-codes = Voer, voordat je je beveiligingsgegevens wijzigt, een van je herstelcodes in. Elke code werkt één keer.
step-up-intro-temporary-access-pass = Voer, voordat je je beveiligingsgegevens wijzigt, de tijdelijke toegangspas in die je van je beheerder hebt gekregen.

# A method for password reset alone (email, security questions) is not a sign-in method.
done-added-reset = Je methode voor het opnieuw instellen van je wachtwoord is toegevoegd.
security-info-reset-only = Alleen om je wachtwoord opnieuw in te stellen
delete-title-reset = Methode voor wachtwoordherstel verwijderen
done-deleted-reset = De methode voor wachtwoordherstel is verwijderd.

# How the default asks first.
way-notification = melding
way-code = code
way-text = sms
way-call = oproep

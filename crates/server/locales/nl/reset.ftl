# Tessera — Nederlands: wachtwoord opnieuw instellen, beveiligingsvragen, herstelcodes en het beleid (issue #6).

## Fouten
not-allowed-reset-disabled = Je organisatie biedt hier geen wachtwoordherstel aan. Neem contact op met je beheerder.
not-allowed-reset-gates-pending = Bevestig eerst je identiteit.
not-allowed-no-skips-left = Je kunt dit niet meer overslaan: stel je beveiligingsgegevens in om verder te gaan.
problem-duplicate = elk moet anders zijn.
problem-wrong-count = beantwoord er precies { $expected }.

## Soorten methoden
kind-recovery_codes = Herstelcodes
add-kind-security_questions = Vragen waarvan alleen jij het antwoord weet. Alleen gebruikt om je wachtwoord opnieuw in te stellen.
add-kind-recovery_codes = Tien codes voor eenmalig gebruik om veilig te bewaren, voor als je je telefoon kwijt bent.

## Auditlog
action-reset_started = Wachtwoordherstel gestart
action-reset_gate_passed = Identiteit bevestigd voor wachtwoordherstel
action-reset_locked = Wachtwoordherstel gepauzeerd na te veel verkeerde antwoorden
action-password_reset = Wachtwoord opnieuw ingesteld
action-recovery_codes_generated = Nieuwe herstelcodes gemaakt
action-recovery_code_used = Herstelcode gebruikt
action-security_questions_registered = Beveiligingsvragen ingesteld
action-registration_skipped = Instellen van beveiligingsgegevens overgeslagen
action-registration_required = Gevraagd om meer beveiligingsgegevens in te stellen
action-security_question_added = Beveiligingsvraag toegevoegd door een beheerder
action-security_question_removed = Beveiligingsvraag ingetrokken door een beheerder

## Meldingen
msg-note-password_reset = Het wachtwoord van je { $org }-account is opnieuw ingesteld, na bevestiging met: { $kind }. Je bent overal afgemeld.
msg-note-recovery_code_used = Er is een herstelcode gebruikt voor je { $org }-account. Kijk op je pagina met beveiligingsgegevens hoeveel codes je nog hebt, en maak een nieuwe set als er nog maar weinig over zijn.

## Wachtwoord vergeten
sign-in-forgot = Wachtwoord vergeten
reset-title = Je wachtwoord opnieuw instellen
reset-intro = Vul je gebruikersnaam in. We vragen je je identiteit te bevestigen met je beveiligingsgegevens voordat je een nieuw wachtwoord kiest.
reset-expired = Het opnieuw instellen duurde te lang en is verlopen. Begin opnieuw.
reset-back-to-sign-in = Terug naar aanmelden
reset-verify-title = Bevestig je identiteit
reset-progress = Bevestigingsstap { $step } van { $steps }
reset-choose = Kies een methode om te bevestigen dat jij het bent.
reset-no-methods = Geen van je methoden kan worden gebruikt om je wachtwoord opnieuw in te stellen. Neem contact op met je beheerder.
reset-code-intro = Vul de code in van { $method }.
reset-code-sent = We hebben een code gestuurd naar { $to }.
reset-notification-sent = We hebben een melding naar je app gestuurd. Keur die goed en kies { $number }, en ga dan hier verder; of typ de code die de app toont.
reset-continue = Doorgaan
reset-recovery-intro = Vul een van je herstelcodes in. Elke code werkt één keer.
reset-questions-intro = Beantwoord deze vragen. Hoofdletters en extra spaties maken niet uit.
reset-answers-wrong = Een of meer antwoorden kloppen niet. Probeer het opnieuw.
reset-security-key-intro = Laat zien dat jij het bent met "{ $name }": kies de knop, raak dan je sleutel aan en voer de pincode in.
reset-other-method = Een andere methode gebruiken
reset-password-title = Kies een nieuw wachtwoord
reset-password-intro = Je identiteit is bevestigd. Kies een nieuw wachtwoord.
reset-password-new = Nieuw wachtwoord
reset-password-confirm = Typ het nieuwe wachtwoord nog een keer
reset-password-hint = Minstens 8 tekens. Vermijd veelgebruikte wachtwoorden en je gebruikersnaam; een paar willekeurige woorden werken goed.
reset-password-mismatch = De twee wachtwoorden zijn niet hetzelfde.
reset-password-submit = Wachtwoord opnieuw instellen
reset-done-title = Je wachtwoord is opnieuw ingesteld
reset-done-intro = Je nieuwe wachtwoord is ingesteld.
reset-done-sessions = Voor je veiligheid ben je overal afgemeld. Meld je aan met je nieuwe wachtwoord.

## Beveiligingsvragen
questions-title = Beveiligingsvragen instellen
questions-intro = Kies { $count } vragen en beantwoord ze allemaal.
questions-reset-only = Beveiligingsvragen worden alleen gebruikt om je wachtwoord opnieuw in te stellen, nooit om je aan te melden. Kies antwoorden die anderen niet kunnen opzoeken of raden.
questions-replacing = Opslaan vervangt de antwoorden die je eerder gaf.
questions-number = Vraag { $number }
questions-question = Vraag
questions-choose = Kies een vraag
questions-answer = Antwoord
questions-answer-hint = Minstens 3 tekens, en voor elke vraag een ander antwoord. Hoofdletters en extra spaties maken niet uit.
questions-save = Antwoorden opslaan

## Herstelcodes
recovery-title = Herstelcodes
recovery-intro = Met herstelcodes kom je weer in je account als je je telefoon of andere methoden niet kunt gebruiken. Elke code werkt één keer, om je aan te melden of om je wachtwoord opnieuw in te stellen.
recovery-left = Nog { $left } van de { $total } codes over, gemaakt op { $date }.
recovery-few-left = Maak binnenkort een nieuwe set.
recovery-new-revokes = Als je een nieuwe set maakt, werken je huidige codes niet meer.
recovery-make = Herstelcodes maken
recovery-make-new = Een nieuwe set maken
recovery-new-title = Je herstelcodes
recovery-shown-once = Bewaar deze codes nu: je ziet ze alleen deze ene keer.
recovery-new-intro = Druk ze af, of bewaar ze in een wachtwoordbeheerder of op een andere veilige plek. Bewaar ze niet op de telefoon waarmee je je aanmeldt.
recovery-download = Downloaden als tekst
recovery-done = Ik heb mijn codes bewaard
recovery-code-label = Herstelcode
recovery-file-header = Herstelcodes voor { $username } bij { $org }. Elke code werkt één keer.
recovery-file-footer = Als je een nieuwe set maakt, werken deze codes niet meer.
security-info-recovery-few = Herstelcodes over: { $left }.
security-info-recovery-make-new = Een nieuwe set maken

## De registratieonderbreking
register-skip = Nu overslaan
register-skips-left = Nog over te slaan: { $count } keer.

## Beheer: het beleid
admin-nav-policy = Beleid
policy-title = Beleid
policy-intro = De regels voor iedereen in je organisatie: welke methoden mensen mogen gebruiken om zich aan te melden en om hun wachtwoord opnieuw in te stellen, en de grenzen die hen beschermen. Wijzigingen gelden binnen enkele seconden op elke server.
policy-save = Beleid opslaan
policy-section-sign-in = Aanmelden in twee stappen
policy-section-reset = Wachtwoord opnieuw instellen
policy-section-codes = Codes en blokkering
policy-section-sessions = Sessies en tijdslimieten
policy-section-other = Overige instellingen
policy-done-saved = Het beleid is opgeslagen.
policy-done-question-added = De vraag is toegevoegd.
policy-done-question-retired = De vraag is ingetrokken.
policy-problem-range = kies van { $min } tot { $max }.
policy-problem-other = deze waarde is niet toegestaan ({ $reason }).
policy-problem-number = vul een geheel getal in.
policy-problem-unknown-or-wrong-type = deze instelling bestaat niet of heeft het verkeerde type.
policy-warning-security-questions = Beveiligingsvragen staan aan. NIST SP 800-63B en OWASP ASVS 5.0 (6.4.2) raden ze af: antwoorden zijn vaak openbaar (op sociale media, in registers) of makkelijk te raden, en mensen gebruiken ze opnieuw. Daarom staan ze standaard uit. Gebruik liever herstelcodes, een authenticator-app of e-mail om wachtwoorden opnieuw in te stellen.
policy-security-questions-advice = Standaard uit: NIST en OWASP raden beveiligingsvragen af, omdat antwoorden vaak openbaar of te raden zijn.
policy-warning-two-step-off = Aanmelden in twee stappen staat uit: alleen een wachtwoord is genoeg om je aan te melden.
policy-questions-title = De beveiligingsvragen van je organisatie
policy-questions-intro = Mensen kiezen uit de ingebouwde vragen en deze. Een ingetrokken vraag is niet meer te kiezen; wie hem al beantwoordde, houdt zijn antwoord.
policy-questions-none = Je organisatie heeft nog geen eigen vragen toegevoegd.
policy-question-retired = Ingetrokken
policy-question-retire = Intrekken
policy-question-en = Vraag in het Engels
policy-question-nl = Vraag in het Nederlands
policy-question-nl-hint = Optioneel: zonder deze tekst zien Nederlandstaligen de Engelse tekst.
policy-question-add = Vraag toevoegen

## Ingebouwde beveiligingsvragen (eigen formulering)
question-first-school = Hoe heette de eerste school waar je naartoe ging?
question-childhood-street = In welke straat woonde je toen je tien was?
question-first-pet = Hoe heette je eerste huisdier?
question-first-concert = Welke band of artiest zag je bij je eerste concert?
question-childhood-hero = Wie was je held toen je een kind was?
question-first-vehicle = Welk merk was je eerste auto, scooter of fiets?
question-grandparent-town = In welke plaats groeide een van je grootouders op?
question-first-job-city = In welke stad had je je eerste baan?
question-favourite-teacher = Wat was de achternaam van je favoriete leraar of lerares?
question-first-book = Wat is het eerste boek dat je je herinnert zelf gelezen te hebben?
question-childhood-toy = Wat was je favoriete speelgoed als kind?
question-first-trip-abroad = Waar ging je naartoe bij je eerste reis naar het buitenland?
question-childhood-nickname = Welke bijnaam had je als kind?
question-first-phone = Welk merk was je eerste mobiele telefoon?
question-oldest-cousin = Wat is de voornaam van je oudste neef of nicht?
question-first-manager = Wat was de voornaam van je eerste leidinggevende?
question-dream-job = Wat wilde je worden toen je klein was?
question-first-film = Welke film zag je als eerste in de bioscoop?
question-school-friend = Wat was de voornaam van je beste vriend of vriendin op de basisschool?
question-parents-met = In welke stad hebben je ouders elkaar ontmoet?
question-first-sport = Welke sport deed je als eerste bij een club of team?
question-first-dish = Wat was het eerste gerecht dat je zelf kookte?
question-first-album = Wat was het eerste album dat je kocht?
question-childhood-neighbours = Wat was de achternaam van je buren toen je een kind was?

# A mobile phone as a reset gate: a text or a call.
reset-text-me = Stuur me een code per sms
reset-call-me = Bel me

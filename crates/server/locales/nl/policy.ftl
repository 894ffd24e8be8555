# The policy page (admins): each setting's label, a hint, and its unit. The passkey and
# security key model settings are in security_key.ftl.

policy-section-push = Meldingen
policy-section-sending = Sms'jes, oproepen en e-mails

policy-unit-label = Eenheid voor “{ $setting }”
policy-unit-seconds = seconden
policy-unit-minutes = minuten
policy-unit-hours = uur
policy-unit-days = dagen
policy-duration-second = 1 seconde
policy-duration-seconds = { $n } seconden
policy-duration-minute = 1 minuut
policy-duration-minutes = { $n } minuten
policy-duration-hour = 1 uur
policy-duration-hours = { $n } uur
policy-duration-day = 1 dag
policy-duration-days = { $n } dagen
policy-default = Standaard: { $value }.

policy-key-two_step_required = Verificatie in twee stappen verplichten bij het aanmelden
policy-hint-two_step_required = Als dit uit staat, is een wachtwoord genoeg om je aan te melden; de methoden dienen dan nog voor wachtwoordherstel en om wijzigingen aan beveiligingsgegevens te bevestigen.
policy-key-mfa_kinds = Toegestane methoden voor aanmelden in twee stappen
policy-hint-mfa_kinds = Mensen kunnen deze toevoegen en er zich mee aanmelden. Een methode die niet meer is toegestaan, blijft zichtbaar maar werkt niet meer.
policy-key-registration_required = Mensen verplichten hun beveiligingsgegevens in te stellen bij het aanmelden
policy-hint-registration_required = Wie te weinig beveiligingsgegevens heeft, voegt die eerst toe voordat hij verder kan.
policy-key-registration_skips = Aantal keren dat iemand het instellen van beveiligingsgegevens mag overslaan
policy-hint-registration_skips = Van 0 (nooit) tot 50.
policy-unit-registration_skips = keer
policy-key-code_instead_of_notification = Toestaan dat de code uit de app wordt getypt in plaats van een melding goed te keuren
policy-hint-code_instead_of_notification = Handig als de telefoon geen internetverbinding heeft.
policy-key-report_blocks_account = Het account uitschakelen als iemand een melding meldt die hij niet heeft aangevraagd
policy-hint-report_blocks_account = Houdt iemand die het wachtwoord kent meteen tegen. Een beheerder moet het account daarna weer inschakelen.
policy-key-app_passwords_allowed = App-wachtwoorden toestaan voor apps die geen verificatie in twee stappen kunnen
policy-hint-app_passwords_allowed = Een app-wachtwoord slaat de tweede stap over: sta ze alleen toe voor apps die je niet kunt vervangen.

policy-key-reset_enabled = Zelf wachtwoord opnieuw instellen aanbieden
policy-hint-reset_enabled = Wie zijn wachtwoord vergeten is, bewijst met zijn methoden wie hij is en kiest een nieuw wachtwoord.
policy-key-reset_kinds = Toegestane methoden voor wachtwoordherstel
policy-hint-reset_kinds = Met welke methoden iemand kan bewijzen wie hij is als hij zijn wachtwoord opnieuw instelt.
policy-key-reset_methods_required = Benodigde methoden om een wachtwoord opnieuw in te stellen
policy-hint-reset_methods_required = 1 of 2. Bij 2 moet het om twee verschillende methoden gaan.
policy-unit-reset_methods_required = methoden
policy-key-security_questions_to_register = Te beantwoorden beveiligingsvragen bij het instellen
policy-hint-security_questions_to_register = Van 3 tot 5.
policy-unit-security_questions_to_register = vragen
policy-key-security_questions_to_answer = Gestelde beveiligingsvragen bij wachtwoordherstel
policy-hint-security_questions_to_answer = Van 3 tot 5, en niet meer dan mensen hebben ingesteld. Ze worden willekeurig gekozen.
policy-unit-security_questions_to_answer = vragen
policy-key-reset_attempts_per_account = Wachtwoordherstel per account
policy-hint-reset_attempts_per_account = Hoe vaak één account in elke periode hieronder een herstel mag starten, van 1 tot 1000.
policy-unit-reset_attempts_per_account = per periode
policy-key-reset_attempts_per_ip = Wachtwoordherstel per IP-adres
policy-hint-reset_attempts_per_ip = Hoe vaak één IP-adres in elke periode hieronder een herstel mag starten, van 1 tot 100000. Veel mensen kunnen één kantooradres delen.
policy-unit-reset_attempts_per_ip = per periode
policy-key-reset_window_secs = Periode voor de herstelgrenzen
policy-hint-reset_window_secs = Van 1 minuut tot 7 dagen.

policy-key-code_secs = Hoe lang een code per sms, oproep of e-mail werkt
policy-hint-code_secs = Van 1 minuut tot 1 uur.
policy-key-code_length = Cijfers in een verstuurde code
policy-hint-code_length = Van 6 tot 8.
policy-unit-code_length = cijfers
policy-key-code_tries = Foute pogingen waarna een verstuurde code vervalt
policy-hint-code_tries = Van 1 tot 10. Daarna vraagt de persoon een nieuwe code aan.
policy-unit-code_tries = pogingen
policy-key-lockout_threshold = Foute codes op rij voordat een methode wordt geblokkeerd
policy-hint-lockout_threshold = Van 1 tot 100 (NIST SP 800-63B staat er hooguit 100 toe). Wachtwoordherstel telt apart en blokkeert nooit een methode: het herstel van een account pauzeert na zoveel verkeerde antwoorden, één herstelpoging na de helft.
policy-unit-lockout_threshold = foute codes
policy-key-lockout_secs = Hoe lang een geblokkeerde methode geblokkeerd blijft
policy-hint-lockout_secs = Van 1 minuut tot 1 dag.
policy-key-phone_countries = Toegestane landen of regio's voor telefoons
policy-hint-phone_countries = Codes van twee letters, gescheiden door komma's, zoals NL, BE. Laat leeg om elk land toe te staan.

policy-key-flow_secs = Tijd om het aanmelden of wachtwoordherstel af te ronden
policy-hint-flow_secs = Van 1 minuut tot 1 uur.
policy-key-step_up_window_secs = Hoe lang een bevestiging geldt voor wijzigingen aan beveiligingsgegevens
policy-hint-step_up_window_secs = Van 1 minuut tot 1 uur. Daarna bevestigen mensen opnieuw voordat ze hun beveiligingsgegevens wijzigen.
policy-key-session_idle_secs = Afmelden na zoveel inactiviteit
policy-hint-session_idle_secs = Van 1 minuut tot 1 dag. NIST SP 800-63B raadt 30 minuten aan.
policy-key-session_max_secs = Uiterlijk afmelden na
policy-hint-session_max_secs = Van 5 minuten tot 30 dagen. NIST SP 800-63B raadt 12 uur aan.
policy-key-max_methods = Maximaal aantal methoden per persoon
policy-hint-max_methods = Van 1 tot 100, methoden die nog worden ingesteld meegeteld.
policy-unit-max_methods = methoden

policy-key-push_requests_max = Meldingen die één account per periode mag krijgen
policy-hint-push_requests_max = Van 1 tot 100. Houdt een stroom verzoeken tegen die op een vermoeide „goedkeuren” hoopt.
policy-unit-push_requests_max = meldingen
policy-key-push_window_secs = Periode voor de meldingengrens
policy-hint-push_window_secs = Van 1 minuut tot 1 dag.

policy-key-voice_mode = Wat een aanmeldoproep vraagt
policy-hint-voice_mode = Met # drukken laat niets over dat een oplichter de persoon kan laten voorlezen.
policy-choice-voice_mode-confirm = Druk op # om goed te keuren
policy-choice-voice_mode-code = Een code voorlezen, om in te typen
policy-key-resend_cooldown_secs = Wachttijd voordat er weer een code mag worden verstuurd
policy-hint-resend_cooldown_secs = Van 10 seconden tot 1 uur.
policy-key-sends_per_account_hour = Codes en oproepen per account
policy-hint-sends_per_account_hour = Van 1 tot 1000 per uur.
policy-unit-sends_per_account_hour = per uur
policy-key-sends_per_destination_hour = Codes en oproepen per telefoonnummer of e-mailadres
policy-hint-sends_per_destination_hour = Van 1 tot 1000 per uur.
policy-unit-sends_per_destination_hour = per uur
policy-key-sends_per_minute = Codes en oproepen door de hele server
policy-hint-sends_per_minute = Van 1 tot 1000000 per minuut. Een plafond tegen sms-pompfraude.
policy-unit-sends_per_minute = per minuut

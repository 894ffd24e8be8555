# Tessera — Nederlands: de authenticator-app met meldingen (push met nummervergelijking).

add-kind-authenticator_app = Keur aanmeldingen goed op je telefoon door het getal in te typen dat het aanmeldscherm toont. De app toont ook 6-cijferige codes.
not-allowed-notification-required = Je organisatie vraagt je de melding in de app goed te keuren in plaats van een code te typen.

# De app toevoegen
app-add-title = De authenticator-app instellen
app-add-intro = Met de authenticator-app keur je een aanmelding bij je { $org }-account goed op je telefoon, door het getal in te typen dat het aanmeldscherm toont.
app-add-next = Kies Volgende zodra je de app hebt. Je scant er dan een QR-code mee.
app-add-other-app = Ik wil een andere authenticator-app gebruiken
app-expired = Het instellen duurde te lang, dus we zijn gestopt. Begin opnieuw.
app-setup-title = Je account instellen
app-setup-qr-label = QR-code om te scannen met de authenticator-app
app-setup-manual = Lukt scannen niet?
app-setup-code = Code
app-setup-url = URL
app-setup-waiting = Wachten op de app…
app-approve-intro = We hebben een melding gestuurd naar { $device }. Keur die goed om af te ronden.
app-send-test-again = Nog een melding sturen

# Wachten op een melding
push-sign-in-title = Aanmeldverzoek goedkeuren
push-intro = Open { $method } en voer het getal in dat hier staat om je aan te melden.
push-step-up-intro = Open { $method } en voer het getal in dat hier staat voordat je je beveiligingsgegevens wijzigt.
push-enter-number = Voer dit getal in de app in:
push-number-label = Getal om in de app in te voeren
push-waiting = Wachten op je goedkeuring…
push-continue = Ik heb het goedgekeurd, doorgaan
push-send-another = Nog een verzoek sturen
push-use-code = Een verificatiecode gebruiken
push-other-method = In plaats daarvan verifiëren met { $method }
push-start-again = Opnieuw beginnen
push-ended-approved = Het verzoek is goedgekeurd.
push-ended-denied = Het verzoek is in de app geweigerd.
push-ended-reported = Het verzoek is in de app geweigerd en gemeld. Je beheerder kan de melding zien.
push-ended-failed = Het getal dat in de app is ingevoerd, klopte niet.
push-ended-expired = Het verzoek is niet op tijd beantwoord.
push-ended-pending = Het verzoek wacht nog.

# Recente activiteit
action-device_activated = Authenticator-app geactiveerd
action-push_sent = Melding naar de app gestuurd
action-push_approved = Melding goedgekeurd
action-push_denied = Melding geweigerd
action-push_reported = Melding geweigerd en gemeld
action-push_number_wrong = Verkeerd getal ingevoerd in de app
action-push_signature_rejected = Antwoord met een ongeldige handtekening geweigerd

push-denied-title = Aanmelding geweigerd
push-reported-title = Aanmelding geweigerd en gemeld
push-limit-reached = Je hebt voorlopig het maximale aantal meldingen ontvangen. Na { $time } kun je er weer een aanvragen, of bevestig het op een andere manier.

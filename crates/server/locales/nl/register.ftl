# De registratiewizard ("Houd je account veilig")
wizard-step = Stap { $current } van { $total }
wizard-app-start = Begin met het installeren van de app.
wizard-app-get = Installeer de authenticator-app op je telefoon.
wizard-app-get-link = Download de app
wizard-app-next = Kies Volgende zodra je de app op je telefoon hebt geïnstalleerd.
wizard-other-method = Ik wil een andere methode instellen
wizard-other-title = Kies een andere methode
wizard-not-for-sign-in = { $method }: hiermee kun je je wachtwoord opnieuw instellen, maar je niet aanmelden. Voeg een aanmeldmethode toe om verder te gaan.
wizard-not-for-reset = { $method }: hiermee kun je je aanmelden, maar je wachtwoord niet opnieuw instellen. Voeg een methode toe om je wachtwoord opnieuw in te stellen om verder te gaan.
wizard-reset-title = Nog een manier om je wachtwoord opnieuw in te stellen
wizard-reset-text = Je organisatie heeft { $count } manieren nodig om te bevestigen dat jij het bent als je je wachtwoord vergeet. Kies er nog een.
wizard-backup-title = Een reservemethode toevoegen
wizard-backup-text = Als je je telefoon kwijtraakt of niet kunt gebruiken, voorkomt een reservemethode dat je buitengesloten raakt. We raden je aan er nu een toe te voegen.
wizard-skip-step = Deze stap overslaan
wizard-nothing = Deze stap kun je hier niet instellen. Neem contact op met je beheerder.
wizard-success-title = Gelukt!
wizard-success-intro = Je beveiligingsgegevens zijn ingesteld. Kies Gereed om verder te gaan met aanmelden.
wizard-success-backup-later = Je kunt later een reservemethode toevoegen, onder Mijn beveiligingsgegevens.
wizard-done = Gereed

# Een authenticator-app verwijderen
delete-app-reminder = Als je het hier verwijdert, blijft het in de app staan. Open daarna de authenticator-app op je telefoon en verwijder daar ook het account van { $issuer } ({ $username }).
done-deleted-app = De authenticator-app is verwijderd. Vergeet niet om het account ook uit de app op je telefoon te verwijderen.

# Beleidsinstellingen van de wizard
policy-key-recommend_backup_method = Een reservemethode aanraden bij het instellen
policy-hint-recommend_backup_method = Wie anders maar één methode zou hebben, krijgt een tweede aangeboden (een telefoon, herstelcodes); overslaan mag.
policy-key-authenticator_app_url = Waar je de authenticator-app vindt
policy-hint-authenticator_app_url = Een http(s)-adres, zoals de pagina van de app in de appwinkel. Leeg: de pagina's vragen mensen de app te installeren zonder link.

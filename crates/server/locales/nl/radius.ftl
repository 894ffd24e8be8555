## RADIUS: vpn's, wifi en servers die Tessera vragen (wat de persoon op het apparaat ziet)

radius-prompt-app-code = Voer de code uit je authenticator-app in
radius-prompt-texted-code = Voer de code in die we naar { $phone } hebben gesms't
radius-prompt-texted = Voer de code in die we naar je telefoon hebben gesms't
radius-prompt-other-code = Voer een herstelcode of je tijdelijke toegangspas in
radius-prompt-push = Open de melding in je authenticator-app en voer daar { $number } in om goed te keuren. Druk hier daarna op Enter, of typ in plaats daarvan een code uit de app.

action-radius_client_created = RADIUS-client toegevoegd
action-radius_client_deleted = RADIUS-client verwijderd
action-radius_accepted = Aangemeld via RADIUS
action-radius_rejected = Aanmelden via RADIUS geweigerd
action-radius_refused = RADIUS-verzoek zonder geldige Message-Authenticator genegeerd

## Beheer: RADIUS-clients

admin-nav-radius = RADIUS-clients
radius-clients-title = RADIUS-clients
radius-clients-intro = Vpn-gateways, wifi-controllers en servers die Tessera via RADIUS vragen. Verzoeken van andere adressen worden genegeerd.
radius-clients-none = Nog geen RADIUS-clients. RADIUS staat uit totdat radius_listen van de server is ingesteld.
radius-client-name = Naam
radius-client-address = Adres of netwerk
radius-client-address-hint = Eén adres (192.0.2.10) of een netwerk in CIDR-notatie (10.0.0.0/24).
radius-client-require-ma = Message-Authenticator vereisen
radius-client-require-ma-hint = Weigert verzoeken zonder (BlastRADIUS, CVE-2024-3596). Zet dit alleen uit voor een client die het niet kan sturen.
radius-client-required = Message-Authenticator vereist
radius-client-not-required = Message-Authenticator niet vereist
radius-client-added-at = Toegevoegd
radius-client-add = Client toevoegen
radius-client-remove = Verwijderen
radius-client-removed = De RADIUS-client is verwijderd.
radius-client-secret-title = Gedeeld geheim
radius-client-secret-once = Kopieer dit gedeelde geheim nu naar de configuratie van de client. Het wordt niet nog eens getoond.

# Beveiligingssleutels (FIDO2/WebAuthn) en passkeys.

not-allowed-authenticator-model = Je organisatie accepteert dit model beveiligingssleutel niet. Gebruik een van de goedgekeurde sleutels.
action-security_key_clone_warning = Beveiligingssleutel geweigerd: hij is mogelijk gekopieerd

add-kind-security_key = Een USB- of NFC-sleutel (zoals een YubiKey) of de ingebouwde authenticator van je apparaat, ontgrendeld met de pincode, vingerafdruk of gezichtsherkenning.

security-key-add-title = Beveiligingssleutel toevoegen
security-key-add-intro = Een beveiligingssleutel bewijst met een aanraking en de pincode (of je vingerafdruk) dat jij het bent, en trapt niet in een nepwebsite.
security-key-add-pin = Houd je sleutel bij de hand. Je wordt gevraagd hem aan te raken en de pincode in te voeren.
security-key-name = Naam
security-key-name-hint = Zodat je je sleutels uit elkaar houdt, bijvoorbeeld "Blauwe YubiKey".
security-key-register-title = Je beveiligingssleutel registreren
security-key-register-intro = Registreer "{ $name }": kies de knop, raak dan je sleutel aan en voer de pincode in als daarom gevraagd wordt.
security-key-register = Beveiligingssleutel registreren
security-key-how = Je browser vraagt om je beveiligingssleutel. Is het een USB-sleutel, steek hem dan eerst in.
security-key-use = Beveiligingssleutel gebruiken
security-key-sign-in-title = Je beveiligingssleutel gebruiken
security-key-sign-in-intro = Meld je aan met "{ $name }": kies de knop, raak dan je sleutel aan en voer de pincode in.
security-key-step-up-intro = Bevestig met "{ $name }" dat jij het bent voordat je je beveiligingsgegevens wijzigt.
security-key-step-up-intro-required = Hiervoor is een beveiligingssleutel of passkey nodig: bevestig met "{ $name }" dat jij het bent.
security-key-other = Gebruik in plaats daarvan { $method }
security-key-working = Volg de aanwijzingen van je browser: raak je sleutel aan en voer de pincode in.
security-key-cancelled = De beveiligingssleutel gaf geen antwoord, of het verzoek is geannuleerd. Probeer het opnieuw.
security-key-unsupported = Deze browser kan geen beveiligingssleutels gebruiken. Gebruik een andere browser of een andere manier om je te verifiëren.
security-key-needs-js = Beveiligingssleutels hebben JavaScript nodig in je browser. Zet het aan, of verifieer je op een andere manier.
security-key-failed = Je beveiligingssleutel kon niet worden geverifieerd. Probeer het opnieuw en voer de pincode in als daarom gevraagd wordt.
security-key-taken = Deze beveiligingssleutel is al geregistreerd.

passkey-title = Aanmelden met een passkey
passkey-intro = Meld je aan bij je { $org }-account met een passkey: je beveiligingssleutel en de pincode, zonder wachtwoord.
passkey-use = Aanmelden met een passkey
passkey-password = Meld je in plaats daarvan aan met je wachtwoord
passkey-expired = Dat duurde te lang. Probeer het opnieuw.
passkey-link = Meld je in plaats daarvan aan met een passkey

# De beleidspagina (beheerders).
policy-key-passkey_sign_in = Aanmelden met alleen een passkey toestaan
policy-hint-passkey_sign_in = Een beveiligingssleutel met pincode is twee factoren: mensen melden zich ermee aan zonder gebruikersnaam of wachtwoord.
policy-key-security_key_aaguids = Goedgekeurde modellen beveiligingssleutel (AAGUID's)
policy-hint-security_key_aaguids = Scheid met komma's. Leeg accepteert elk model. Sleutels melden zelf hun model, dus dit stuurt mensen naar goedgekeurde sleutels maar bewijst het model niet.

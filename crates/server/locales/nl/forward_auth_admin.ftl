## De beheerpagina met de toegangsregels van forward authentication (/admin/forward-auth)

admin-nav-forward-auth = Beschermde sites
forward-auth-admin-title = Toegangsregels voor beschermde sites
forward-auth-admin-intro = Sites achter je reverse proxy (nginx, Traefik, Caddy) vragen deze server bij elk verzoek om toestemming. Deze regels bepalen wie erin mag, en met welke aanmelding.
forward-auth-admin-order = De regels worden van boven af geprobeerd: de eerste regel die past bij het domein en pad van een verzoek beslist. Een verzoek waar geen regel bij past, wordt geweigerd.
forward-auth-admin-add = Regel toevoegen
forward-auth-admin-none = Er zijn nog geen regels, dus elk verzoek aan een beschermde site wordt geweigerd.
forward-auth-admin-domains = Domeinen
forward-auth-admin-paths = Paden
forward-auth-admin-level = Vereiste aanmelding
forward-auth-admin-groups = Groepen
forward-auth-admin-max-age = Maximale leeftijd van de tweede stap
forward-auth-admin-actions = Acties
forward-auth-admin-move-up = Omhoog
forward-auth-admin-move-down = Omlaag
forward-auth-admin-rule-number = regel { $number }
forward-auth-admin-edit = Wijzigen
forward-auth-admin-delete = Regel verwijderen
forward-auth-admin-every-path = Elk pad
forward-auth-admin-everyone = Iedereen
forward-auth-admin-minutes = { $minutes } min
forward-auth-admin-no-max-age = Geen
forward-auth-admin-level-bypass = Geen (open voor iedereen)
forward-auth-admin-level-one_factor = Alleen een wachtwoord
forward-auth-admin-level-two_factor = Verificatie in twee stappen
forward-auth-admin-level-phishing_resistant = Een beveiligingssleutel of passkey

forward-auth-admin-form-intro = Een regel geldt voor een verzoek als een van de domeinen en een van de paden passen.
forward-auth-admin-change-title = Regel wijzigen
forward-auth-admin-domains-hint = Eén per regel, zoals wiki.example.org. *.example.org geldt voor elke site onder example.org, maar niet voor example.org zelf.
forward-auth-admin-paths-optional = Paden (optioneel)
forward-auth-admin-paths-hint = Eén per regel, zoals /healthz voor alleen dat pad, of /admin/* voor /admin en alles daaronder. Laat leeg voor elk pad.
forward-auth-admin-level-hint = Alleen een wachtwoord wordt geweigerd, tenzij het beleid het toestaat. Een beveiligingssleutel of passkey werkt niet op een nagemaakte aanmeldsite.
forward-auth-admin-groups-optional = Groepen (optioneel)
forward-auth-admin-groups-hint = Eén per regel. Alleen mensen in een van deze groepen mogen erin; tessera-admins zijn de beheerders. Laat leeg voor iedereen.
forward-auth-admin-max-age-label = Maximale leeftijd van de tweede stap, in minuten (optioneel)
forward-auth-admin-max-age-hint = Voor gevoelige paden: mensen verifiëren opnieuw als hun tweede stap ouder is dan dit. Laat leeg om die te accepteren zolang ze aangemeld zijn.
forward-auth-admin-place = Plaats
forward-auth-admin-place-hint = De eerste regel die past beslist, dus zet een smalle regel vóór een brede.
forward-auth-admin-place-before = Vóór regel { $number } ({ $domains })
forward-auth-admin-place-end = Als laatste
forward-auth-admin-add-submit = Regel toevoegen
forward-auth-admin-save = Wijzigingen opslaan
forward-auth-admin-back = Terug naar de regels
forward-auth-admin-check-fields = Controleer de gemarkeerde velden hieronder.

forward-auth-admin-done-added = De regel is toegevoegd.
forward-auth-admin-done-saved = De wijzigingen zijn opgeslagen.
forward-auth-admin-done-moved = De regel is verplaatst.
forward-auth-admin-done-deleted = De regel is verwijderd.

forward-auth-admin-error-choose = Kies een van de opties.
forward-auth-admin-error-control = Dit mag geen stuurtekens bevatten.
forward-auth-admin-error-max-age = Vul een heel aantal minuten in van { $min } tot { $max }, of laat het leeg.
forward-auth-admin-error-too-many = Vul er hoogstens { $max } in.
forward-auth-admin-error-no-domain = Vul minstens één domein in.
forward-auth-admin-error-domain = { $domain } is geen domeinnaam, en ook geen *. met een domeinnaam.
forward-auth-admin-error-path = { $path } is geen pad: het begint met /, mag eindigen op *, en heeft geen ./, ../, // of gecodeerde tekens zoals %2F.
forward-auth-admin-error-group = { $group } is geen groepsnaam: hoogstens { $max } tekens, zonder komma's.
forward-auth-admin-error-bypass = Een regel die open is voor iedereen kan geen groepen of maximale leeftijd hebben.

forward-auth-admin-delete-title = Regel verwijderen?
forward-auth-admin-delete-confirm = Regel { $number } ({ $domains }) verwijderen?
forward-auth-admin-delete-warning = Verzoeken waarover deze regel besliste, gaan naar de regels erna; een verzoek waar geen van die regels bij past, wordt geweigerd.
forward-auth-admin-delete-heading = Deze regel verwijderen

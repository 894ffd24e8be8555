## Forward authentication: sites achter een reverse proxy die Tessera vraagt

forward-auth-denied-title = Geen toegang
forward-auth-denied = Je hebt geen toegang tot deze site. Vraag het je beheerder als je denkt dat je die wel hoort te hebben.
forward-auth-still-short = Deze site vraagt om een recentere of sterkere verificatie dan je net gaf. Probeer het over een paar minuten opnieuw, of vraag het je beheerder.
forward-auth-needs-key = Deze site vraagt je te verifiëren met een beveiligingssleutel of passkey. Voeg er eerst een toe aan je beveiligingsgegevens.

action-forward_auth_rule_created = Toegangsregel voor beschermde sites toegevoegd
action-forward_auth_rule_changed = Toegangsregel voor beschermde sites gewijzigd
action-forward_auth_rule_deleted = Toegangsregel voor beschermde sites verwijderd
action-forward_auth_allowed = Aangemeld bij een beschermde site
action-forward_auth_denied = Toegang tot een beschermde site geweigerd

policy-key-forward_auth_one_factor_allowed = Alleen een wachtwoord toelaten tot sites waarvan de regel "één factor" zegt
policy-hint-forward_auth_one_factor_allowed = Sites achter de reverse proxy waarvan de toegangsregel maar één factor vraagt. Uit: die regels weigeren iedereen.

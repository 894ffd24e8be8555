# Directorygroepen in het beleid, en contactgegevens aangeboden uit de directory (issue #19).

policy-section-groups = Directorygroepen
policy-key-admin_groups = Groepen waarvan de leden beheerder zijn
policy-hint-admin_groups = Directorygroepen, gescheiden door komma's. Hun leden kunnen Tessera beheren, net als accounts die als beheerder zijn gemarkeerd. Wie deze groepen in de directory beheert, bepaalt dus wie hier beheerder is.
policy-key-two_step_groups = Groepen die verificatie in twee stappen moeten gebruiken
policy-hint-two_step_groups = Directorygroepen, gescheiden door komma's. Hun leden melden zich aan met een tweede stap, ook als aanmelden in twee stappen niet van iedereen wordt gevraagd.

directory-offers-title = Uit de directory van je organisatie
directory-offers-intro = De directory van je organisatie heeft contactgegevens die je hier nog niet hebt toegevoegd. We sturen eerst een code om elk ervan te controleren voordat het meetelt.
directory-offer-mobile = { $label } uit de directory van je organisatie gebruiken als je mobiele telefoon?
directory-offer-telephone = { $label } uit de directory van je organisatie gebruiken als je telefoon op het werk?
directory-offer-mail = { $label } uit de directory van je organisatie gebruiken als je e-mailadres?
directory-offer-use = Gebruiken

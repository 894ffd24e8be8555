# De directory bij aanmelden, herstel en wachtwoordwijziging (issue #19). De teksten die mensen
# zien staan in directory.ftl (`directory-unavailable`, `directory-refused-*`); deze zijn de
# terugvallers van de API-codes en de namen in het auditlog.

error-directory_unavailable = De directory van je organisatie is nu niet bereikbaar. Probeer het over een paar minuten opnieuw.
error-directory_refused = De directory van je organisatie weigerde dit. Er is niets gewijzigd.
action-account_created_from_directory = Account aangemaakt bij de eerste aanmelding vanuit de directory
action-sign_in_refused_by_directory = Aanmelden geweigerd door de directory
action-password_reset_refused = Nieuw wachtwoord geweigerd door de directory (herstel)
action-password_change_refused = Nieuw wachtwoord geweigerd door de directory (wijziging)
not-allowed-directory-password = Het wachtwoord van dit account staat in de directory van je organisatie: stel het daar in.

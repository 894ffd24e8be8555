# De directory van de organisatie (issue #19): haar antwoorden, verwoord voor de persoon.

directory-unavailable = De directory van je organisatie is nu niet bereikbaar. Probeer het over een paar minuten opnieuw.
directory-refused-too-short = De directory van je organisatie weigerde dit wachtwoord: het is te kort.
directory-refused-too-weak = De directory van je organisatie weigerde dit wachtwoord: het voldoet niet aan de kwaliteitseisen.
directory-refused-in-history = De directory van je organisatie weigerde dit wachtwoord: je hebt het eerder gebruikt. Kies er een dat je nog niet hebt gebruikt.
directory-refused-too-young = Je wachtwoord is te kort geleden gewijzigd om het nu weer te wijzigen. Probeer het later opnieuw.
directory-refused-policy = De directory van je organisatie weigerde dit wachtwoord. Het voldoet niet aan de regels voor lengte, complexiteit of hergebruik, of het wachtwoord is te kort geleden gewijzigd.
directory-refused-locked = Je account is geblokkeerd in de directory van je organisatie. Wacht even, of neem contact op met de helpdesk.
directory-refused-must-change = Je wachtwoord is verlopen. Stel het opnieuw in om een nieuw wachtwoord te kiezen.
directory-refused-not-allowed = De directory van je organisatie stond dit niet toe. Neem contact op met de helpdesk.
directory-refused-other = De directory van je organisatie weigerde de wijziging. Er is niets gewijzigd. Neem contact op met de helpdesk als dit blijft gebeuren.

-- Issue #13: the language of the browser a person last signed in or reset their password
-- with, so that texts, calls and emails reach them in it before they pick one. `locale` stays
-- their own choice, which this never overrides.
ALTER TABLE accounts ADD COLUMN browser_locale TEXT;

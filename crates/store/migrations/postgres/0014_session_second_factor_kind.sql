-- Which kind of method proved a session's second factor (`method::Kind::as_str`), for the
-- OpenID Connect `amr`/`acr`. NULL: none, or a session from before this column.
ALTER TABLE sessions ADD COLUMN second_factor_kind TEXT;
-- The kind that approved a sign-in flow out of band (a push, a call answered with #), read
-- when the flow is handed over and its session created.
ALTER TABLE sign_in_flows ADD COLUMN approved_kind TEXT;

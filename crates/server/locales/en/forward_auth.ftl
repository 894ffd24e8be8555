## Forward authentication: sites behind a reverse proxy that asks Tessera

forward-auth-denied-title = No access
forward-auth-denied = You don't have access to this site. Ask your administrator if you think you should.
forward-auth-still-short = This site asks for a more recent or stronger verification than you just gave. Try again in a few minutes, or ask your administrator.
forward-auth-needs-key = This site asks you to verify with a security key or passkey. Add one to your security info first.

action-forward_auth_rule_created = Access rule for protected sites added
action-forward_auth_rule_changed = Access rule for protected sites changed
action-forward_auth_rule_deleted = Access rule for protected sites deleted
action-forward_auth_allowed = Signed in to a protected site
action-forward_auth_denied = Access to a protected site refused

policy-key-forward_auth_one_factor_allowed = Let a password alone into sites whose rule says "one factor"
policy-hint-forward_auth_one_factor_allowed = Sites behind the reverse proxy whose access rule asks for one factor only. Off: those rules refuse everyone.

## The admin page of forward authentication's access rules (/admin/forward-auth)

admin-nav-forward-auth = Protected sites
forward-auth-admin-title = Access rules for protected sites
forward-auth-admin-intro = Sites behind your reverse proxy (nginx, Traefik, Caddy) ask this server about every request. These rules say who may in, and with which sign-in.
forward-auth-admin-order = The rules are tried from the top: the first rule that matches a request's domain and path decides. A request that matches no rule is denied.
forward-auth-admin-add = Add a rule
forward-auth-admin-none = There are no rules yet, so every request to a protected site is denied.
forward-auth-admin-domains = Domains
forward-auth-admin-paths = Paths
forward-auth-admin-level = Sign-in required
forward-auth-admin-groups = Groups
forward-auth-admin-max-age = Maximum age of the second step
forward-auth-admin-actions = Actions
forward-auth-admin-move-up = Move up
forward-auth-admin-move-down = Move down
forward-auth-admin-rule-number = rule { $number }
forward-auth-admin-edit = Change
forward-auth-admin-delete = Delete the rule
forward-auth-admin-every-path = Every path
forward-auth-admin-everyone = Everyone
forward-auth-admin-minutes = { $minutes } min
forward-auth-admin-no-max-age = None
forward-auth-admin-level-bypass = None (open to everyone)
forward-auth-admin-level-one_factor = A password only
forward-auth-admin-level-two_factor = Two-step verification
forward-auth-admin-level-phishing_resistant = A security key or passkey

forward-auth-admin-form-intro = A rule applies to a request when one of its domains and one of its paths match.
forward-auth-admin-change-title = Change the rule
forward-auth-admin-domains-hint = One per line, such as wiki.example.org. *.example.org covers every site under example.org, but not example.org itself.
forward-auth-admin-paths-optional = Paths (optional)
forward-auth-admin-paths-hint = One per line, such as /healthz for that path only, or /admin/* for /admin and everything under it. Leave empty for every path.
forward-auth-admin-level-hint = A password only is refused unless the policy allows it. A security key or passkey cannot be used on a fake sign-in site.
forward-auth-admin-groups-optional = Groups (optional)
forward-auth-admin-groups-hint = One per line. Only people in one of these groups may in; tessera-admins are the administrators. Leave empty for everyone.
forward-auth-admin-max-age-label = Maximum age of the second step, in minutes (optional)
forward-auth-admin-max-age-hint = For sensitive paths: people verify again when their second step is older than this. Leave empty to accept it for as long as they are signed in.
forward-auth-admin-place = Place
forward-auth-admin-place-hint = The first rule that matches decides, so put a narrow rule before a broad one.
forward-auth-admin-place-before = Before rule { $number } ({ $domains })
forward-auth-admin-place-end = Last
forward-auth-admin-add-submit = Add the rule
forward-auth-admin-save = Save changes
forward-auth-admin-back = Back to the rules
forward-auth-admin-check-fields = Check the fields marked below.

forward-auth-admin-done-added = The rule is added.
forward-auth-admin-done-saved = The changes are saved.
forward-auth-admin-done-moved = The rule is moved.
forward-auth-admin-done-deleted = The rule is deleted.

forward-auth-admin-error-choose = Choose one of the options.
forward-auth-admin-error-control = This cannot contain control characters.
forward-auth-admin-error-max-age = Enter a whole number of minutes from { $min } to { $max }, or leave it empty.
forward-auth-admin-error-too-many = Enter at most { $max }.
forward-auth-admin-error-no-domain = Enter at least one domain.
forward-auth-admin-error-domain = { $domain } is not a domain name, nor *. and a domain name.
forward-auth-admin-error-path = { $path } is not a path: it starts with /, may end in *, and is written without ./, ../, // or encoded characters such as %2F.
forward-auth-admin-error-group = { $group } is not a group name: at most { $max } characters, without commas.
forward-auth-admin-error-bypass = A rule open to everyone cannot name groups or a maximum age.

forward-auth-admin-delete-title = Delete the rule?
forward-auth-admin-delete-confirm = Delete rule { $number } ({ $domains })?
forward-auth-admin-delete-warning = Requests this rule decided go to the rules after it; a request that matches none of them is denied.
forward-auth-admin-delete-heading = Delete this rule

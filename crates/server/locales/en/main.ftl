# Tessera — English.
# Keys: error-<api code>, problem-<problem>, not-allowed-<reason>, then the pages'.

## Errors (API.md codes)
error-invalid_credentials = The username or password is incorrect.
error-invalid_code = That code isn't right. Try again.
error-expired = This sign-in or request has expired. Start again.
error-locked = Too many wrong codes. Try again in { $seconds } seconds.
error-rate_limited = Too many requests. Try again in { $seconds } seconds.
error-step_up_required = To change your security info, verify your identity first.
error-not_allowed = That isn't allowed.
error-not_found = We couldn't find that.
error-bad_request = Check { $field }: { $problem }
error-unauthorized = Sign in to continue.
error-internal = Something went wrong on our side. Try again later.
error-csrf = This form has expired or came from another site. Reload the page and try again.
error-body_too_large = The request is too large.
error-method_not_allowed = This address does not accept that request method.

problem-required = this is required.
problem-too-short = use at least { $min } characters.
problem-too-long = use at most { $max }.
problem-invalid = this isn't valid.
problem-taken = this is already taken.
problem-banned = this password is too common or contains your username. Choose another.
problem-same-as-current = choose a different one from your current one.

not-allowed-kind-not-allowed = Your organization doesn't allow this kind of method.
not-allowed-kind-unavailable = This kind of method isn't available yet.
not-allowed-account-disabled = Your account is disabled. Contact your administrator.
not-allowed-registration-only = Finish setting up your security info first.
not-allowed-method-not-usable = This method can't be used to sign in.
not-allowed-admin-only = Only administrators can do this.
not-allowed-own-account = You can't do this to your own account: ask another administrator.

## Web pages

# Every page
nav-skip = Skip to main content
nav-sign-out = Sign out
lang-label = Language
lang-submit = Change language
common-next = Next
common-back = Back
common-cancel = Cancel
code-label = Code

# Method kinds (API.md's kind names)
kind-authenticator_app = Authenticator app
kind-authenticator_code = Authenticator app or hardware token
kind-phone_mobile = Phone
kind-phone_alternate = Alternate phone
kind-phone_office = Office phone
kind-email = Email
kind-security_questions = Security questions
kind-security_key = Security key

status-active = Active
status-pending = Not set up yet
status-default = Default

# Sign-in
sign-in-title = Sign in
sign-in-intro = Sign in with your { $org } account.
sign-in-username = Username
sign-in-username-hint = Usually your email address, such as alice@example.org.
sign-in-password = Password
sign-in-submit = Sign in
sign-in-signed-out = You've signed out.
sign-in-expired = Your sign-in took too long and has expired. Start again.
verify-title = Enter code
verify-intro = Enter the 6-digit code from { $method }.
verify-submit = Verify
verify-other = Sign in another way
verify-cancel = Cancel and start again
other-title = Sign in another way
other-intro = Choose how you want to verify it's you.

# The registration interrupt
register-title = Keep your account secure
register-intro = Your organization needs more information to keep your account secure.

# My security info
security-info-title = My security info
security-info-intro = These are the methods you use to sign in to your account or reset your password.
security-info-default = Default sign-in method: { $method }
security-info-default-none = Default sign-in method: none yet
security-info-change = Change
security-info-add = Add sign-in method
security-info-methods = Your sign-in methods
security-info-empty = You haven't added any sign-in methods yet.
security-info-created = Added
security-info-last-used = last used
security-info-never-used = not used yet
security-info-finish = Finish setting up
security-info-delete = Delete
security-info-activity = See your recent activity
done-added = Your sign-in method was added.
done-deleted = The sign-in method was deleted.
done-default = Your default sign-in method was changed.

# Adding a method
add-title = Add a sign-in method
add-intro = Which method do you want to add?
add-none = Your organization doesn't allow any method that can be added here yet. Contact your administrator.
add-kind-authenticator_code = An app on your phone, or a hardware token, that shows a new 6-digit code every 30 seconds.
add-code-title = Set up an authenticator app
add-code-intro = Get an authenticator app on your phone; any app that shows 6-digit codes works, such as Microsoft Authenticator, Google Authenticator or FreeOTP.
add-code-next = Once you have the app, choose Next. You'll scan a QR code with it.
add-code-name = Name (optional)
add-code-name-hint = Helps you tell your methods apart, for example "Work phone".
enroll-title = Scan the QR code
enroll-intro = Open your authenticator app, choose to add an account, and scan this QR code.
enroll-qr-label = QR code to scan with your authenticator app
enroll-open-app = Setting up on this phone? Open the authenticator app directly.
enroll-manual = Can't scan the QR code?
enroll-manual-intro = Add the account in your app by hand with these details:
enroll-account = Account name
enroll-issuer = Issuer
enroll-secret = Secret key
enroll-type = Type
enroll-type-value = Time-based, { $digits } digits, every { $seconds } seconds
enroll-code-heading = Enter the 6-digit code
enroll-code-intro = Enter the code your app now shows for { $org }.
enroll-expired = Setting up took too long, so we stopped. Start again.

# Deleting a method, changing the default
delete-title = Delete sign-in method
delete-confirm = Delete { $method }? This can't be undone.
delete-default-note = This is your default sign-in method. Another method will become the default.
delete-last-note = This is your only sign-in method. You'll need to set up a new one the next time you sign in.
delete-submit = Delete
default-title = Change default sign-in method
default-intro = Which method should we ask for first when you sign in?
default-submit = Confirm
default-none = You have no methods that can be used to sign in yet.
default-choose = Choose one of your methods.

# Step-up
step-up-title = Verify your identity
step-up-intro = Before you change your security info, enter the 6-digit code from { $method }.
step-up-none = None of your methods can verify your identity. Contact your administrator.
step-up-other = Verify another way

# Recent activity
activity-title = Recent activity
activity-intro = Sign-ins and changes to your security info, newest first. If you don't recognize something, change your password and tell your administrator.
activity-when = When
activity-what = What
activity-ip = IP address
activity-browser = Browser
activity-browser-on = { $browser } on { $system }
activity-unknown = Unknown
activity-empty = Nothing yet.
activity-with-method = { $action } — { $method }
activity-method-named = { $kind } ({ $name })
activity-pages = More activity
activity-newer = Newer
activity-older = Older
activity-page-of = Page { $page } of { $pages }
action-sign_in_password_failed = Wrong password
action-sign_in_password_accepted = Password accepted
action-sign_in_refused_disabled = Sign-in refused: account disabled
action-sign_in_succeeded = Signed in
action-registration_completed = Security info set up at sign-in
action-code_accepted = Code accepted
action-code_rejected = Wrong code
action-code_replayed = Code used twice
action-method_locked = Method locked after too many wrong codes
action-step_up_succeeded = Identity verified
action-method_added = Sign-in method added
action-method_verified = Sign-in method set up
action-method_deleted = Sign-in method deleted
action-default_method_changed = Default sign-in method changed
action-signed_out = Signed out
action-account_created = Account created
action-account_disabled = Account disabled
action-account_enabled = Account enabled
action-password_changed = Password changed
action-locale_changed = Language changed
action-sessions_ended = Signed out everywhere
action-policy_changed = Policy changed
action-oidc_client_created = App connection created
action-oidc_client_changed = App connection changed
action-oidc_client_deleted = App connection deleted
action-oidc_keys_rotated = Signing keys replaced
action-oidc_authorized = Signed in to an app
action-oidc_tokens_issued = App access granted
action-oidc_token_reused = Used app token presented again: access revoked
action-oidc_consent_granted = App allowed access
action-oidc_consent_revoked = App access withdrawn

# Error pages
error-page-title = We couldn't do that
error-page-not-found = Page not found
error-page-internal = Something went wrong
error-page-home = Go to the start page

# The code field, by what the method gives.
temporary-access-pass-label = Temporary access pass
verify-intro-recovery-codes = Enter one of your recovery codes. Each code works once.
step-up-intro-recovery-codes = Before you change your security info, enter one of your recovery codes. Each code works once.
step-up-intro-temporary-access-pass = Before you change your security info, enter the temporary access pass your administrator gave you.

# A method for password reset alone (email, security questions) is not a sign-in method.
done-added-reset = Your password reset method was added.
security-info-reset-only = Password reset only
delete-title-reset = Delete password reset method
done-deleted-reset = The password reset method was deleted.

# How the default asks first.
way-notification = notification
way-code = code
way-text = text
way-call = call

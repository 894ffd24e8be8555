# The policy page (admins): each setting's label, a hint, and its unit. The passkey and
# security key model settings are in security_key.ftl.

policy-section-push = Notifications
policy-section-sending = Texts, calls and emails

policy-unit-label = Unit for “{ $setting }”
policy-unit-seconds = seconds
policy-unit-minutes = minutes
policy-unit-hours = hours
policy-unit-days = days
policy-duration-second = 1 second
policy-duration-seconds = { $n } seconds
policy-duration-minute = 1 minute
policy-duration-minutes = { $n } minutes
policy-duration-hour = 1 hour
policy-duration-hours = { $n } hours
policy-duration-day = 1 day
policy-duration-days = { $n } days
policy-default = Default: { $value }.

policy-key-two_step_required = Require two-step verification at sign-in
policy-hint-two_step_required = When off, a password alone signs people in; their methods still serve password reset and confirming changes to security info.
policy-key-mfa_kinds = Methods allowed for two-step sign-in
policy-hint-mfa_kinds = People can add these and sign in with them. A method that's no longer allowed stays listed but can't be used.
policy-key-registration_required = Require people to set up their security info at sign-in
policy-hint-registration_required = Someone without enough security info is asked to add it before they get in.
policy-key-registration_skips = Times a person may skip setting up their security info
policy-hint-registration_skips = From 0 (never) to 50.
policy-unit-registration_skips = times
policy-key-code_instead_of_notification = Allow typing the app's code instead of approving a notification
policy-hint-code_instead_of_notification = Helps when the phone has no internet connection.
policy-key-report_blocks_account = Disable the account when someone reports a notification they didn't ask for
policy-hint-report_blocks_account = Stops someone who knows the password at once. An admin then has to enable the account again.
policy-key-app_passwords_allowed = Allow app passwords for apps that can't do two-step verification
policy-hint-app_passwords_allowed = An app password skips the second step, so allow them only for apps you can't replace.

policy-key-reset_enabled = Offer self-service password reset
policy-hint-reset_enabled = People who forgot their password prove who they are with their methods and choose a new one.
policy-key-reset_kinds = Methods allowed for password reset
policy-hint-reset_kinds = Which methods can prove who someone is when they reset their password.
policy-key-reset_methods_required = Methods needed to reset a password
policy-hint-reset_methods_required = 1 or 2. With 2, each must be a different method.
policy-unit-reset_methods_required = methods
policy-key-security_questions_to_register = Security questions to answer when setting them up
policy-hint-security_questions_to_register = From 3 to 5.
policy-unit-security_questions_to_register = questions
policy-key-security_questions_to_answer = Security questions asked to reset a password
policy-hint-security_questions_to_answer = From 3 to 5, and no more than people set up. They're picked at random.
policy-unit-security_questions_to_answer = questions
policy-key-reset_attempts_per_account = Password resets per account
policy-hint-reset_attempts_per_account = How many resets one account may start in each period below, from 1 to 1000.
policy-unit-reset_attempts_per_account = per period
policy-key-reset_attempts_per_ip = Password resets per IP address
policy-hint-reset_attempts_per_ip = How many resets one IP address may start in each period below, from 1 to 100000. Many people may share one office address.
policy-unit-reset_attempts_per_ip = per period
policy-key-reset_window_secs = Period for the reset limits
policy-hint-reset_window_secs = From 1 minute to 7 days.

policy-key-code_secs = How long a code sent by text, call or email works
policy-hint-code_secs = From 1 minute to 1 hour.
policy-key-code_length = Digits in a sent code
policy-hint-code_length = From 6 to 8.
policy-unit-code_length = digits
policy-key-code_tries = Wrong tries that end one sent code
policy-hint-code_tries = From 1 to 10. After that, the person asks for a new code.
policy-unit-code_tries = tries
policy-key-lockout_threshold = Wrong codes in a row before a method locks
policy-hint-lockout_threshold = From 1 to 100 (NIST SP 800-63B allows at most 100). Password resets count apart and never lock a method: an account's resets pause after this many wrong answers, a single reset after half.
policy-unit-lockout_threshold = wrong codes
policy-key-lockout_secs = How long a locked method stays locked
policy-hint-lockout_secs = From 1 minute to 1 day.
policy-key-phone_countries = Countries or regions allowed for phones
policy-hint-phone_countries = Two-letter codes separated by commas, such as NL, BE. Leave empty to allow every country.

policy-key-flow_secs = Time to finish signing in or resetting a password
policy-hint-flow_secs = From 1 minute to 1 hour.
policy-key-step_up_window_secs = How long a verification counts for changes to security info
policy-hint-step_up_window_secs = From 1 minute to 1 hour. After that, people verify again before they change their security info.
policy-key-session_idle_secs = Sign out after this much inactivity
policy-hint-session_idle_secs = From 1 minute to 1 day. NIST SP 800-63B suggests 30 minutes.
policy-key-session_max_secs = Sign out at the latest after
policy-hint-session_max_secs = From 5 minutes to 30 days. NIST SP 800-63B suggests 12 hours.
policy-key-max_methods = Most methods one person may have
policy-hint-max_methods = From 1 to 100, counting methods still being set up.
policy-unit-max_methods = methods

policy-key-push_requests_max = Notifications one account may be sent per period
policy-hint-push_requests_max = From 1 to 100. Stops a flood of requests that hopes for a tired “approve”.
policy-unit-push_requests_max = notifications
policy-key-push_window_secs = Period for the notification limit
policy-hint-push_window_secs = From 1 minute to 1 day.

policy-key-voice_mode = What a sign-in call asks
policy-hint-voice_mode = Pressing # leaves nothing for a fraudster to ask the person to read out.
policy-choice-voice_mode-confirm = Press # to approve
policy-choice-voice_mode-code = Read a code aloud, to type in
policy-key-resend_cooldown_secs = Wait before another code may be sent
policy-hint-resend_cooldown_secs = From 10 seconds to 1 hour.
policy-key-sends_per_account_hour = Codes and calls per account
policy-hint-sends_per_account_hour = From 1 to 1000 each hour.
policy-unit-sends_per_account_hour = per hour
policy-key-sends_per_destination_hour = Codes and calls per phone number or email address
policy-hint-sends_per_destination_hour = From 1 to 1000 each hour.
policy-unit-sends_per_destination_hour = per hour
policy-key-sends_per_minute = Codes and calls by the whole server
policy-hint-sends_per_minute = From 1 to 1000000 each minute. A ceiling against SMS pumping fraud.
policy-unit-sends_per_minute = per minute

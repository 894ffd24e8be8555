# Tessera — English: password reset, security questions, recovery codes and the policy (issue #6).

## Errors
not-allowed-reset-disabled = Your organization doesn't offer password reset here. Contact your administrator.
not-allowed-reset-gates-pending = Verify your identity first.
not-allowed-no-skips-left = You can't skip this any more: set up your security info to continue.
problem-duplicate = each one must be different.
problem-wrong-count = answer exactly { $expected }.

## Method kinds
kind-recovery_codes = Recovery codes
add-kind-security_questions = Questions only you know the answers to. Used only to reset your password.
add-kind-recovery_codes = Ten single-use codes to keep somewhere safe, for when you lose your phone.

## Audit log
action-reset_started = Password reset started
action-reset_gate_passed = Identity verified for a password reset
action-reset_locked = Password reset paused after too many wrong answers
action-password_reset = Password reset
action-recovery_codes_generated = New recovery codes made
action-recovery_code_used = Recovery code used
action-security_questions_registered = Security questions set up
action-registration_skipped = Security info setup skipped
action-registration_required = Asked to set up more security info
action-security_question_added = Security question added by an administrator
action-security_question_removed = Security question retired by an administrator

## Notifications
msg-note-password_reset = The password of your { $org } account was reset, after verifying with: { $kind }. Every session was signed out.
msg-note-recovery_code_used = A recovery code was used for your { $org } account. Check how many you have left on your security info page, and make a new set if few are left.

## Forgot my password
sign-in-forgot = Forgot my password
reset-title = Reset your password
reset-intro = Enter your username. We'll ask you to verify your identity with your security info before you choose a new password.
reset-expired = Your password reset took too long and has expired. Start again.
reset-back-to-sign-in = Back to sign in
reset-verify-title = Verify your identity
reset-progress = Verification step { $step } of { $steps }
reset-choose = Choose a method to verify it's you.
reset-no-methods = None of your methods can be used to reset your password. Contact your administrator.
reset-code-intro = Enter the code from { $method }.
reset-code-sent = We sent a code to { $to }.
reset-notification-sent = We sent a notification to your app. Approve it and choose { $number }, then continue here; or type the code the app shows.
reset-continue = Continue
reset-recovery-intro = Enter one of your recovery codes. Each code works once.
reset-questions-intro = Answer these questions. Capitals and extra spaces don't matter.
reset-answers-wrong = One or more answers aren't right. Try again.
reset-security-key-intro = Prove it's you with "{ $name }": select the button, then touch your key and enter its PIN.
reset-other-method = Use another method
reset-password-title = Choose a new password
reset-password-intro = Your identity is verified. Choose a new password.
reset-password-new = New password
reset-password-confirm = Type the new password again
reset-password-hint = At least 8 characters. Avoid common passwords and your username; a few random words work well.
reset-password-mismatch = The two passwords don't match.
reset-password-submit = Reset password
reset-done-title = Your password was reset
reset-done-intro = Your new password is set.
reset-done-sessions = For your safety, you've been signed out everywhere. Sign in with your new password.

## Security questions
questions-title = Set up security questions
questions-intro = Choose { $count } questions and answer each of them.
questions-reset-only = Security questions are only used to reset your password, never to sign in. Choose answers that others can't look up or guess.
questions-replacing = Saving replaces the answers you gave before.
questions-number = Question { $number }
questions-question = Question
questions-choose = Choose a question
questions-answer = Answer
questions-answer-hint = At least 3 characters, and a different answer for each question. Capitals and extra spaces don't matter.
questions-save = Save answers

## Recovery codes
recovery-title = Recovery codes
recovery-intro = Recovery codes get you back into your account when you can't use your phone or other methods. Each code works once, to sign in or to reset your password.
recovery-left = { $left } of { $total } codes left, made on { $date }.
recovery-few-left = Make a new set soon.
recovery-new-revokes = Making a new set makes your current codes stop working.
recovery-make = Make recovery codes
recovery-make-new = Make a new set
recovery-new-title = Your recovery codes
recovery-shown-once = Save these codes now: they're shown only this once.
recovery-new-intro = Print them, or keep them in a password manager or another safe place. Don't keep them on the phone you sign in with.
recovery-download = Download as text
recovery-done = I've saved my codes
recovery-code-label = Recovery code
recovery-file-header = Recovery codes for { $username } at { $org }. Each code works once.
recovery-file-footer = Making a new set makes these codes stop working.
security-info-recovery-few = Recovery codes left: { $left }.
security-info-recovery-make-new = Make a new set

## The registration interrupt
register-skip = Skip for now
register-skips-left = Skips left: { $count }.

## Admin: the policy
admin-nav-policy = Policy
policy-title = Policy
policy-intro = The rules for everyone in your organization: which methods people may use to sign in and to reset their password, and the limits that protect them. Changes take effect within seconds on every server.
policy-save = Save policy
policy-section-sign-in = Two-step sign-in
policy-section-reset = Password reset
policy-section-codes = Codes and lock-out
policy-section-sessions = Sessions and time limits
policy-section-other = Other settings
policy-done-saved = The policy was saved.
policy-done-question-added = The question was added.
policy-done-question-retired = The question was retired.
policy-problem-range = choose from { $min } to { $max }.
policy-problem-other = this value isn't allowed ({ $reason }).
policy-problem-number = enter a whole number.
policy-problem-unknown-or-wrong-type = this setting doesn't exist or has the wrong type.
policy-warning-security-questions = Security questions are on. NIST SP 800-63B and OWASP ASVS 5.0 (6.4.2) advise against them: answers are often public (on social media, in records) or easy to guess, and people reuse them. That's why they're off by default. Prefer recovery codes, an authenticator app or email for password reset.
policy-security-questions-advice = Off by default: NIST and OWASP advise against security questions, since answers are often public or guessable.
policy-warning-two-step-off = Two-step sign-in is off: a password alone signs people in.
policy-questions-title = Your organization's security questions
policy-questions-intro = People choose from the built-in questions and these. Retiring a question hides it from new choices; people who answered it keep their answer.
policy-questions-none = Your organization hasn't added questions of its own.
policy-question-retired = Retired
policy-question-retire = Retire
policy-question-en = Question in English
policy-question-nl = Question in Dutch
policy-question-nl-hint = Optional: without it, Dutch speakers see the English text.
policy-question-add = Add question

## Built-in security questions (our own wording)
question-first-school = What was the name of the first school you went to?
question-childhood-street = On which street did you live when you were ten?
question-first-pet = What was the name of your first pet?
question-first-concert = Which band or artist did you see at your first concert?
question-childhood-hero = Who was your hero when you were a child?
question-first-vehicle = What was the make of your first car, scooter or bike?
question-grandparent-town = In which town did one of your grandparents grow up?
question-first-job-city = In which city did you have your first job?
question-favourite-teacher = What was the surname of your favourite teacher?
question-first-book = What is the first book you remember reading on your own?
question-childhood-toy = What was your favourite toy as a child?
question-first-trip-abroad = Where did you go on your first trip abroad?
question-childhood-nickname = What nickname did you have as a child?
question-first-phone = What brand was your first mobile phone?
question-oldest-cousin = What is the first name of your oldest cousin?
question-first-manager = What was the first name of your first manager?
question-dream-job = What did you want to be when you grew up?
question-first-film = Which film did you first see in a cinema?
question-school-friend = What was the first name of your best friend in primary school?
question-parents-met = In which city did your parents meet?
question-first-sport = Which sport did you first play in a club or team?
question-first-dish = What was the first dish you cooked on your own?
question-first-album = What was the first album you bought?
question-childhood-neighbours = What was the surname of your neighbours when you were a child?

# A mobile phone as a reset gate: a text or a call.
reset-text-me = Text me a code
reset-call-me = Call me

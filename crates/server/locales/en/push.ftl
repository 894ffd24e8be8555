# Tessera — English: the authenticator app with notifications (push with number matching).

add-kind-authenticator_app = Approve sign-ins on your phone by typing the number shown on the sign-in screen. It also shows 6-digit codes.
not-allowed-notification-required = Your organization asks you to approve the notification in the app instead of typing a code.

# Adding the app
app-add-title = Set up the authenticator app
app-add-intro = With the authenticator app, you approve a sign-in to your { $org } account on your phone by typing the number the sign-in screen shows.
app-add-next = Once you have the app, choose Next. You'll scan a QR code with it.
app-add-other-app = I want to use a different authenticator app
app-expired = Setting up took too long, so we stopped. Start again.
app-setup-title = Set up your account
app-setup-qr-label = QR code to scan with the authenticator app
app-setup-manual = Can't scan the QR code?
app-setup-code = Code
app-setup-url = URL
app-setup-waiting = Waiting for the app…
app-approve-intro = We sent a notification to { $device }. Approve it to finish.
app-send-test-again = Send another notification

# Waiting for a notification
push-sign-in-title = Approve sign-in request
push-intro = Open { $method } and enter the number shown here to sign in.
push-step-up-intro = Before you change your security info, open { $method } and enter the number shown here.
push-enter-number = Enter this number in the app:
push-number-label = Number to enter in the app
push-waiting = Waiting for your approval…
push-continue = I've approved it, continue
push-send-another = Send another request
push-use-code = Use a verification code instead
push-other-method = Verify with { $method } instead
push-start-again = Start again
push-ended-approved = The request was approved.
push-ended-denied = The request was denied in the app.
push-ended-reported = The request was denied and reported in the app. Your administrator can see the report.
push-ended-failed = The number entered in the app didn't match.
push-ended-expired = The request wasn't answered in time.
push-ended-pending = The request is still waiting.

# Recent activity
action-device_activated = Authenticator app activated
action-push_sent = Notification sent to the app
action-push_approved = Notification approved
action-push_denied = Notification denied
action-push_reported = Notification denied and reported
action-push_number_wrong = Wrong number entered in the app
action-push_signature_rejected = Answer with a bad signature refused

push-denied-title = Sign-in denied
push-reported-title = Sign-in denied and reported
push-limit-reached = You've been sent as many notifications as allowed for now. You can ask for another after { $time }, or verify another way.

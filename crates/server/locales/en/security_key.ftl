# Security keys (FIDO2/WebAuthn) and passkeys.

not-allowed-authenticator-model = Your organization doesn't accept this model of security key. Use one of the approved keys.
action-security_key_clone_warning = Security key refused: it may have been copied

add-kind-security_key = A USB or NFC key (such as a YubiKey) or your device's built-in authenticator, unlocked with its PIN, fingerprint or face.

security-key-add-title = Add a security key
security-key-add-intro = A security key proves it's you with a touch and its PIN (or your fingerprint), and it can't be fooled by a fake website.
security-key-add-pin = Keep your key at hand. You'll be asked to touch it and enter its PIN.
security-key-name = Name
security-key-name-hint = So you can tell your keys apart, for example "Blue YubiKey".
security-key-register-title = Register your security key
security-key-register-intro = Register "{ $name }": select the button, then touch your key and enter its PIN when asked.
security-key-register = Register security key
security-key-how = Your browser will ask for your security key. If it's a USB key, insert it first.
security-key-use = Use security key
security-key-sign-in-title = Use your security key
security-key-sign-in-intro = Sign in with "{ $name }": select the button, then touch your key and enter its PIN.
security-key-step-up-intro = Verify it's you with "{ $name }" before you change your security info.
security-key-step-up-intro-required = This needs a security key or passkey: verify it's you with "{ $name }".
security-key-other = Use { $method } instead
security-key-working = Follow your browser's instructions: touch your key and enter its PIN.
security-key-cancelled = The security key didn't answer, or the request was cancelled. Try again.
security-key-unsupported = This browser can't use security keys. Use another browser, or another way to verify.
security-key-needs-js = Security keys need JavaScript in your browser. Turn it on, or use another way to verify.
security-key-failed = Your security key couldn't be verified. Try again, and enter its PIN when asked.
security-key-taken = This security key is already registered.

passkey-title = Sign in with a passkey
passkey-intro = Sign in to your { $org } account with a passkey: your security key and its PIN, no password needed.
passkey-use = Sign in with a passkey
passkey-password = Sign in with your password instead
passkey-expired = That took too long. Try again.
passkey-link = Sign in with a passkey instead

# The policy page (admins).
policy-key-passkey_sign_in = Allow signing in with a passkey alone
policy-hint-passkey_sign_in = A security key with its PIN is two factors: people sign in with it without a username or password.
policy-key-security_key_aaguids = Approved security key models (AAGUIDs)
policy-hint-security_key_aaguids = Separate with commas. Empty accepts every model. Keys report their own model, so this steers people to approved keys but doesn't prove the model.

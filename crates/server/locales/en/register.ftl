# The registration wizard ("Keep your account secure")
wizard-step = Step { $current } of { $total }
wizard-app-start = Start by getting the app.
wizard-app-get = On your phone, install the authenticator app.
wizard-app-get-link = Get the app
wizard-app-next = After you install the app on your phone, choose Next.
wizard-other-method = I want to set up a different method
wizard-other-title = Choose a different method
wizard-not-for-sign-in = { $method } can be used to reset your password, but not to sign in. Add a sign-in method to continue.
wizard-not-for-reset = { $method } can be used to sign in, but not to reset your password. Add a method for password reset to continue.
wizard-reset-title = One more way to reset your password
wizard-reset-text = Your organization needs { $count } ways to verify it's you when you forget your password. Choose one more.
wizard-backup-title = Add a backup method
wizard-backup-text = If you lose your phone or can't use it, a backup method keeps you from being locked out. We recommend adding one now.
wizard-skip-step = Skip this step
wizard-nothing = This step can't be set up here. Contact your administrator.
wizard-success-title = Success!
wizard-success-intro = You have successfully set up your security info. Choose Done to continue signing in.
wizard-success-backup-later = You can add a backup method later, under My security info.
wizard-done = Done

# Deleting an authenticator app
delete-app-reminder = Deleting it here doesn't remove it from the app. Afterwards, open the authenticator app on your phone and remove the { $issuer } account ({ $username }) there too.
done-deleted-app = The authenticator app was deleted. Remember to also remove the account from the app on your phone.

# Policy keys of the wizard
policy-key-recommend_backup_method = Recommend a backup method when setting up
policy-hint-recommend_backup_method = People who would end with a single method are offered a second one (a phone, recovery codes); they may skip it.
policy-key-authenticator_app_url = Where to get the authenticator app
policy-hint-authenticator_app_url = An http(s) address, such as the app's store page. Empty: the pages ask people to get the app without a link.

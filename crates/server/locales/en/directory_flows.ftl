# The directory in sign-in, reset and password change (issue #19). The texts people see are
# directory.ftl's (`directory-unavailable`, `directory-refused-*`); these are the API codes'
# fall-backs and the audit log's names.

error-directory_unavailable = Your organization's directory cannot be reached right now. Try again in a few minutes.
error-directory_refused = Your organization's directory refused this. Nothing was changed.
action-account_created_from_directory = Account created at the first sign-in from the directory
action-sign_in_refused_by_directory = Sign-in refused by the directory
action-password_reset_refused = New password refused by the directory (reset)
action-password_change_refused = New password refused by the directory (change)
not-allowed-directory-password = This account's password is kept by your organization's directory: set it there.

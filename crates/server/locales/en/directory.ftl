# The organization's directory (issue #19): its answers, worded for the person.

directory-unavailable = Your organization's directory cannot be reached right now. Try again in a few minutes.
directory-refused-too-short = Your organization's directory refused this password: it is too short.
directory-refused-too-weak = Your organization's directory refused this password: it does not meet its quality rules.
directory-refused-in-history = Your organization's directory refused this password: you have used it before. Choose one you have not used.
directory-refused-too-young = Your password was changed too recently to change it again. Try again later.
directory-refused-policy = Your organization's directory refused this password. It does not meet its rules for length, complexity or reuse, or the password was changed too recently.
directory-refused-locked = Your account is locked in your organization's directory. Wait, or contact your help desk.
directory-refused-must-change = Your password has expired. Reset it to choose a new one.
directory-refused-not-allowed = Your organization's directory did not allow this. Contact your help desk.
directory-refused-other = Your organization's directory refused the change. Nothing was changed. Contact your help desk if this keeps happening.

# Directory groups in the policy, and contact info offered from the directory (issue #19).

policy-section-groups = Directory groups
policy-key-admin_groups = Groups whose members are admins
policy-hint-admin_groups = Directory groups, separated with commas. Their members can manage Tessera, as accounts marked admin can. Whoever controls these groups in the directory controls who is an admin here.
policy-key-two_step_groups = Groups that must use two-step verification
policy-hint-two_step_groups = Directory groups, separated with commas. Their members sign in with a second step even while two-step sign-in is not required of everyone.

directory-offers-title = From your organization's directory
directory-offers-intro = Your organization's directory has contact details you haven't added here yet. We'll send a code to check each one before it counts.
directory-offer-mobile = Use { $label } from your organization's directory as your mobile phone?
directory-offer-telephone = Use { $label } from your organization's directory as your office phone?
directory-offer-mail = Use { $label } from your organization's directory as your email address?
directory-offer-use = Use it

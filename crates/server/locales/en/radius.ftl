## RADIUS: VPNs, Wi-Fi and servers that ask Tessera (prompts the person sees on their device)

radius-prompt-app-code = Enter the code from your authenticator app
radius-prompt-texted-code = Enter the code we texted to { $phone }
radius-prompt-texted = Enter the code we texted to your phone
radius-prompt-other-code = Enter a recovery code or your temporary access pass
radius-prompt-push = Open the notification in your authenticator app and enter { $number } there to approve. Then press Enter here, or type a code from the app instead.

action-radius_client_created = RADIUS client added
action-radius_client_deleted = RADIUS client removed
action-radius_accepted = Signed in through RADIUS
action-radius_rejected = Sign-in through RADIUS refused
action-radius_refused = RADIUS request without a valid Message-Authenticator dropped

## Admin: RADIUS clients

admin-nav-radius = RADIUS clients
radius-clients-title = RADIUS clients
radius-clients-intro = VPN gateways, Wi-Fi controllers and servers that ask Tessera over RADIUS. Requests from any other address are dropped.
radius-clients-none = No RADIUS clients yet. RADIUS is off until the server's radius_listen is set.
radius-client-name = Name
radius-client-address = Address or network
radius-client-address-hint = One address (192.0.2.10) or a network in CIDR notation (10.0.0.0/24).
radius-client-require-ma = Require Message-Authenticator
radius-client-require-ma-hint = Refuses requests without it (BlastRADIUS, CVE-2024-3596). Turn off only for a client that cannot send it.
radius-client-required = Message-Authenticator required
radius-client-not-required = Message-Authenticator not required
radius-client-added-at = Added
radius-client-add = Add client
radius-client-remove = Remove
radius-client-removed = The RADIUS client was removed.
radius-client-secret-title = Shared secret
radius-client-secret-once = Copy this shared secret into the client's configuration now. It is not shown again.

//! The organization's policy: which methods are allowed, whether registration is required at
//! sign-in, and the lifetimes and limits. One value, stored as JSON with defaults for every
//! field, so a policy saved by an older version reads with the newer fields at their defaults.

use crate::method::Kind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// A person without enough security info is sent to register it at sign-in.
    pub registration_required: bool,
    /// Kinds a person may use as a second factor at sign-in.
    pub mfa_kinds: Vec<Kind>,
    /// Seconds a second factor counts as recent for changes to security info.
    pub step_up_window_secs: u64,
    /// Wrong codes in a row before a method locks. A password reset counts its own wrong
    /// answers and never locks a method: an account's resets pause after this many, one reset
    /// flow after half (`flow::reset`).
    pub lockout_threshold: u32,
    pub lockout_secs: u64,
    /// Lifetime of a sign-in flow and of a pending registration.
    pub flow_secs: u64,
    /// A session ends after this much inactivity (NIST SP 800-63B AAL2: 30 minutes) …
    pub session_idle_secs: u64,
    /// … and at the latest this long after sign-in (AAL2: 12 hours).
    pub session_max_secs: u64,
    /// Most methods one person may have (pending included).
    pub max_methods: u32,
    /// A person may sign in with a passkey (a security key holding a discoverable credential,
    /// with its PIN or biometric) alone: no username, no password, since the key with user
    /// verification is two factors by itself.
    pub passkey_sign_in: bool,
    /// Security key models (AAGUIDs) a person may register; empty accepts every model.
    /// Keys report their model themselves (attestation "none"), so this steers honest
    /// people to approved keys rather than proving the model.
    pub security_key_aaguids: Vec<String>,
    /// Sign-in asks for a second factor. When false the password alone signs in, and the
    /// methods serve password reset and step-up only.
    pub two_step_required: bool,
    /// How many times a person may skip the registration interrupt (0: never).
    pub registration_skips: u32,
    /// The registration interrupt suggests a backup method (a phone, recovery codes) to
    /// whoever would otherwise end it with a single method: losing that one locks them out
    /// (NIST SP 800-63B encourages a second authenticator). The person may skip it.
    pub recommend_backup_method: bool,
    /// Where people get the authenticator app (an app store page, the organization's own
    /// download); empty: the pages ask them to get it without a link.
    pub authenticator_app_url: String,
    /// Self-service password reset is offered.
    pub reset_enabled: bool,
    /// Kinds a person may use as a gate of password reset.
    pub reset_kinds: Vec<Kind>,
    /// Gates a reset needs: 1 or 2, each a different method.
    pub reset_methods_required: u32,
    /// Security questions a person answers when registering them (3 to 5) …
    pub security_questions_to_register: u32,
    /// … and how many of those a reset asks, at random (3 to 5, at most as many).
    pub security_questions_to_answer: u32,
    /// Resets one account may start per `reset_window_secs` …
    pub reset_attempts_per_account: u32,
    /// … and one IP address.
    pub reset_attempts_per_ip: u32,
    pub reset_window_secs: u64,
    /// Lifetime of a code sent by text, call or email.
    pub code_secs: u64,
    /// Digits in a sent code (6 to 8).
    pub code_length: u32,
    /// ISO 3166 regions phones may be registered in (`NL`, `BE`); empty allows every one.
    pub phone_countries: Vec<String>,
    /// Legacy apps that cannot do two-step verification may use app passwords.
    pub app_passwords_allowed: bool,
    /// A person with the authenticator app may type its code instead of approving a
    /// notification.
    pub code_instead_of_notification: bool,
    /// "Deny and report" on a notification disables the account until an admin enables it.
    pub report_blocks_account: bool,
    /// Notifications one account may be sent per `push_window_secs`; a flood of requests
    /// hoping for a tired "approve" (notification fatigue) stops here.
    pub push_requests_max: u32,
    pub push_window_secs: u64,
    /// Wrong tries that end one sent code (NIST SP 800-63B §3.1.3); the method's lock-out
    /// count runs on across codes.
    pub code_tries: u32,
    /// Seconds before another code may be sent for the same purpose.
    pub resend_cooldown_secs: u64,
    /// Codes and calls sent to one account per hour …
    pub sends_per_account_hour: u32,
    /// … to one phone number or address per hour …
    pub sends_per_destination_hour: u32,
    /// … and by the whole server per minute (SMS pumping fraud is the threat).
    pub sends_per_minute: u32,
    /// What a call does: `confirm` asks the person to press #; `code` reads a code aloud.
    pub voice_mode: VoiceMode,
    /// Forward authentication may let a password alone into a site whose rule says
    /// `one_factor`; otherwise such a rule refuses everyone.
    pub forward_auth_one_factor_allowed: bool,
    /// Directory groups whose members are Tessera admins (`crate::groups`), besides the
    /// accounts with the admin flag.
    pub admin_groups: Vec<String>,
    /// Directory groups whose members must use two-step verification, also while
    /// `two_step_required` is off for everyone else (`Tessera::policy_for`).
    pub two_step_groups: Vec<String>,
}

/// What a sign-in call asks of the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoiceMode {
    /// Press # to approve: nothing to type, and nothing a fraudster can read back.
    Confirm,
    /// The call reads a code aloud, to type in.
    Code,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            registration_required: true,
            mfa_kinds: Kind::ALL
                .iter()
                .copied()
                .filter(|k| k.is_sign_in_factor())
                .collect(),
            step_up_window_secs: 600,
            lockout_threshold: 10,
            lockout_secs: 900,
            flow_secs: 600,
            session_idle_secs: 1800,
            session_max_secs: 12 * 3600,
            max_methods: 20,
            passkey_sign_in: false,
            security_key_aaguids: Vec::new(),
            two_step_required: true,
            registration_skips: 0,
            recommend_backup_method: true,
            authenticator_app_url: String::new(),
            reset_enabled: true,
            // NIST SP 800-63B and OWASP ASVS 5.0 (6.4.2) advise against security questions:
            // an admin may turn them on, knowingly.
            reset_kinds: Kind::ALL
                .iter()
                .copied()
                .filter(|k| *k != Kind::SecurityQuestions)
                .collect(),
            reset_methods_required: 1,
            security_questions_to_register: 5,
            security_questions_to_answer: 3,
            reset_attempts_per_account: 10,
            reset_attempts_per_ip: 50,
            reset_window_secs: 3600,
            code_secs: 600,
            code_length: 6,
            phone_countries: Vec::new(),
            app_passwords_allowed: false,
            code_instead_of_notification: true,
            report_blocks_account: false,
            push_requests_max: 5,
            push_window_secs: 300,
            code_tries: 5,
            resend_cooldown_secs: 60,
            sends_per_account_hour: 10,
            sends_per_destination_hour: 5,
            sends_per_minute: 300,
            voice_mode: VoiceMode::Confirm,
            forward_auth_one_factor_allowed: false,
            admin_groups: Vec::new(),
            two_step_groups: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("unknown policy key `{0}`")]
    UnknownKey(String),
    #[error("`{key}`: {reason}")]
    Invalid { key: String, reason: String },
}

impl Policy {
    pub fn allows_mfa(&self, kind: Kind) -> bool {
        kind.is_sign_in_factor() && self.mfa_kinds.contains(&kind)
    }

    /// Whether a kind may serve as a gate of password reset (never while reset is off).
    pub fn allows_reset(&self, kind: Kind) -> bool {
        self.reset_enabled && self.reset_kinds.contains(&kind)
    }

    /// Whether a person may have a method of this kind at all.
    pub fn allows_kind(&self, kind: Kind) -> bool {
        self.allows_mfa(kind) || self.allows_reset(kind)
    }

    /// Whether a phone number of `region` (ISO 3166, `NL`) may be registered.
    pub fn allows_country(&self, region: &str) -> bool {
        self.phone_countries.is_empty()
            || self
                .phone_countries
                .iter()
                .any(|c| c.eq_ignore_ascii_case(region))
    }

    /// Sets one field from text: `registration_required=false`, `lockout_threshold=5`,
    /// `mfa_kinds=authenticator_code,security_key`.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), PolicyError> {
        let mut json = serde_json::to_value(&*self).map_err(|e| invalid(key, e))?;
        let Some(slot) = json.get_mut(key) else {
            return Err(PolicyError::UnknownKey(key.to_string()));
        };
        *slot = match slot {
            serde_json::Value::Array(_) => serde_json::Value::Array(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| serde_json::Value::String(v.to_string()))
                    .collect(),
            ),
            serde_json::Value::String(_) => serde_json::Value::String(value.to_string()),
            _ => serde_json::from_str(value.trim()).map_err(|e| invalid(key, e))?,
        };
        let next: Policy = serde_json::from_value(json).map_err(|e| invalid(key, e))?;
        next.validate()?;
        *self = next;
        Ok(())
    }

    pub fn validate(&self) -> Result<(), PolicyError> {
        let range = |key: &str, v: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(PolicyError::Invalid {
                    key: key.into(),
                    reason: format!("must be {lo} to {hi}"),
                })
            }
        };
        // NIST SP 800-63B §5.2.2 allows at most 100 consecutive failures.
        range("lockout_threshold", self.lockout_threshold.into(), 1, 100)?;
        range("lockout_secs", self.lockout_secs, 60, 86_400)?;
        range("step_up_window_secs", self.step_up_window_secs, 60, 3600)?;
        range("flow_secs", self.flow_secs, 60, 3600)?;
        range("session_idle_secs", self.session_idle_secs, 60, 86_400)?;
        range("session_max_secs", self.session_max_secs, 300, 30 * 86_400)?;
        range("max_methods", self.max_methods.into(), 1, 100)?;
        if let Some(bad) = self
            .security_key_aaguids
            .iter()
            .find(|a| uuid::Uuid::parse_str(a.trim()).is_err())
        {
            return Err(PolicyError::Invalid {
                key: "security_key_aaguids".into(),
                reason: format!(
                    "`{bad}` is not an AAGUID (a UUID such as cb69481e-8ff7-4039-93ec-0a2729a154a8)"
                ),
            });
        }
        if let Some(k) = self.mfa_kinds.iter().find(|k| !k.is_sign_in_factor()) {
            return Err(PolicyError::Invalid {
                key: "mfa_kinds".into(),
                reason: format!("{} is for password reset only", k.as_str()),
            });
        }
        range("push_requests_max", self.push_requests_max.into(), 1, 100)?;
        range("push_window_secs", self.push_window_secs, 60, 86_400)?;
        self.validate_reset_and_codes(&range)?;
        self.validate_groups()?;
        self.validate_sending(&range)
    }

    /// Group names as forward-auth rules take them: 1 to 64 characters, no commas (the
    /// lists are typed comma-separated), no control characters; at most 50.
    fn validate_groups(&self) -> Result<(), PolicyError> {
        use crate::forward_auth::service::{GROUP_MAX, LIST_MAX};
        for (key, list) in [
            ("admin_groups", &self.admin_groups),
            ("two_step_groups", &self.two_step_groups),
        ] {
            if list.len() > LIST_MAX {
                return Err(PolicyError::Invalid {
                    key: key.into(),
                    reason: format!("at most {LIST_MAX} groups"),
                });
            }
            if let Some(bad) = list.iter().find(|g| {
                g.trim() != g.as_str()
                    || g.is_empty()
                    || g.chars().count() > GROUP_MAX
                    || g.chars().any(|c| c == ',' || c.is_control())
            }) {
                return Err(PolicyError::Invalid {
                    key: key.into(),
                    reason: format!(
                        "`{bad}` is not a group name (1 to {GROUP_MAX} characters, no commas)"
                    ),
                });
            }
        }
        Ok(())
    }

    fn validate_sending(
        &self,
        range: &impl Fn(&str, u64, u64, u64) -> Result<(), PolicyError>,
    ) -> Result<(), PolicyError> {
        range("code_tries", self.code_tries.into(), 1, 10)?;
        range("resend_cooldown_secs", self.resend_cooldown_secs, 10, 3600)?;
        range(
            "sends_per_account_hour",
            self.sends_per_account_hour.into(),
            1,
            1000,
        )?;
        range(
            "sends_per_destination_hour",
            self.sends_per_destination_hour.into(),
            1,
            1000,
        )?;
        range(
            "sends_per_minute",
            self.sends_per_minute.into(),
            1,
            1_000_000,
        )
    }

    fn validate_reset_and_codes(
        &self,
        range: &impl Fn(&str, u64, u64, u64) -> Result<(), PolicyError>,
    ) -> Result<(), PolicyError> {
        range("registration_skips", self.registration_skips.into(), 0, 50)?;
        if !is_link(&self.authenticator_app_url) {
            return Err(PolicyError::Invalid {
                key: "authenticator_app_url".into(),
                reason: "must be empty or an http(s):// address".into(),
            });
        }
        range(
            "reset_methods_required",
            self.reset_methods_required.into(),
            1,
            2,
        )?;
        range(
            "security_questions_to_register",
            self.security_questions_to_register.into(),
            3,
            5,
        )?;
        range(
            "security_questions_to_answer",
            self.security_questions_to_answer.into(),
            3,
            self.security_questions_to_register.into(),
        )?;
        range(
            "reset_attempts_per_account",
            self.reset_attempts_per_account.into(),
            1,
            1000,
        )?;
        range(
            "reset_attempts_per_ip",
            self.reset_attempts_per_ip.into(),
            1,
            100_000,
        )?;
        range("reset_window_secs", self.reset_window_secs, 60, 7 * 86_400)?;
        range("code_secs", self.code_secs, 60, 3600)?;
        range("code_length", self.code_length.into(), 6, 8)?;
        if let Some(c) = self
            .phone_countries
            .iter()
            .find(|c| c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase()))
        {
            return Err(PolicyError::Invalid {
                key: "phone_countries".into(),
                reason: format!("`{c}` is not an ISO 3166 region in capitals, such as NL"),
            });
        }
        if self.reset_enabled && self.reset_kinds.is_empty() {
            return Err(PolicyError::Invalid {
                key: "reset_kinds".into(),
                reason: "password reset needs at least one kind (or set reset_enabled=false)"
                    .into(),
            });
        }
        Ok(())
    }
}

/// Empty, or an address a page may link to: http(s) only, since `javascript:` and `data:`
/// links run in the page.
fn is_link(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    url.is_empty()
        || ((lower.starts_with("https://") || lower.starts_with("http://"))
            && url.len() <= 2048
            && url.len() > "https://".len()
            && !url.chars().any(|c| c.is_whitespace() || c.is_control()))
}

fn invalid(key: &str, e: impl std::fmt::Display) -> PolicyError {
    PolicyError::Invalid {
        key: key.to_string(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_parses_each_field_type_and_validates() {
        let mut p = Policy::default();
        assert!(p.set("registration_required", "false").is_ok());
        assert!(!p.registration_required);
        assert!(p.set("lockout_threshold", "5").is_ok());
        assert_eq!(p.lockout_threshold, 5);
        assert!(
            p.set("mfa_kinds", "authenticator_code, security_key")
                .is_ok()
        );
        assert_eq!(
            p.mfa_kinds,
            vec![Kind::AuthenticatorCode, Kind::SecurityKey]
        );
        assert!(matches!(
            p.set("lockout_threshold", "1000"),
            Err(PolicyError::Invalid { .. })
        ));
        assert!(matches!(
            p.set("mfa_kinds", "email"),
            Err(PolicyError::Invalid { .. })
        ));
        assert!(matches!(
            p.set("nope", "1"),
            Err(PolicyError::UnknownKey(_))
        ));
        assert_eq!(p.lockout_threshold, 5, "a refused change changes nothing");
    }

    #[test]
    fn reset_and_code_settings_are_validated() {
        let p = Policy::default();
        assert!(!p.allows_reset(Kind::SecurityQuestions), "off by default");
        assert!(p.allows_reset(Kind::RecoveryCodes) && p.allows_reset(Kind::Email));
        assert!(!p.allows_mfa(Kind::Email) && p.allows_kind(Kind::Email));
        let refused = |key: &str, value: &str| {
            let mut p = Policy::default();
            matches!(p.set(key, value), Err(PolicyError::Invalid { key: k, .. }) if k == key)
        };
        assert!(refused("reset_methods_required", "3"));
        assert!(refused("reset_methods_required", "0"));
        assert!(refused("security_questions_to_register", "6"));
        assert!(refused("security_questions_to_answer", "2"));
        assert!(refused("code_length", "9"));
        assert!(refused("phone_countries", "nl"));
        assert!(refused("phone_countries", "NLD"));
        assert!(refused("reset_kinds", ""));
        assert!(refused("authenticator_app_url", "javascript:alert(1)"));
        assert!(refused("authenticator_app_url", "https://x.example/a b"));
        assert!(refused("authenticator_app_url", "ftp://x.example/app"));
        let mut p = Policy::default();
        assert!(
            p.set(
                "authenticator_app_url",
                "https://apps.example.org/authenticator"
            )
            .is_ok()
        );
        assert!(p.set("authenticator_app_url", "").is_ok(), "unset again");
        assert!(p.set("security_questions_to_register", "3").is_ok());
        let e = p.set("security_questions_to_answer", "4");
        assert!(
            matches!(&e, Err(PolicyError::Invalid { key, .. }) if key == "security_questions_to_answer"),
            "at most as many as registered: {e:?}"
        );
        assert!(p.set("phone_countries", "NL,BE").is_ok());
        assert!(p.allows_country("nl") && !p.allows_country("DE"));
        assert!(p.set("phone_countries", "").is_ok());
        assert!(p.allows_country("DE"), "an empty list allows every region");
        assert!(p.set("reset_enabled", "false").is_ok());
        assert!(
            p.set("reset_kinds", "").is_ok(),
            "no kinds needed while reset is off"
        );
        assert!(!p.allows_reset(Kind::AuthenticatorCode));
    }

    #[test]
    fn older_policy_json_reads_with_defaults() {
        let p: Result<Policy, _> = serde_json::from_str(r#"{"registration_required": false}"#);
        assert_eq!(p.ok().map(|p| p.lockout_threshold), Some(10));
    }
}

//! Rows as the SQL store gives them back: every time in whole seconds and UTC (it keeps
//! unix seconds), so a flow test on the memory store sees what it would see on a database.

use time::OffsetDateTime;

use crate::account::Account;
use crate::app_passwords::AppPassword;
use crate::audit::AuditEvent;
use crate::challenge::SentChallenge;
use crate::flow::SignInFlow;
use crate::flow::reset::ResetFlow;
use crate::message::Message;
use crate::method::Method;
use crate::method::security_questions::CustomQuestion;
use crate::session::Session;
use crate::store::admin::HardwareToken;
use crate::store::push::{Device, PushRequest};
use crate::store::webauthn::{Ceremony, SecurityKeyCredential};
use crate::verify_api::ServiceCredential;

/// A time as the database keeps it: whole seconds, UTC.
pub(super) fn secs(t: OffsetDateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.unix_timestamp()).unwrap_or(t)
}

pub(super) fn secs_opt(t: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    t.map(secs)
}

/// A value as it reads back once stored.
pub(super) trait Stored: Clone {
    fn stored(&self) -> Self;
}

impl Stored for Account {
    fn stored(&self) -> Self {
        Account {
            created_at: secs(self.created_at),
            ..self.clone()
        }
    }
}

impl Stored for Method {
    fn stored(&self) -> Self {
        Method {
            created_at: secs(self.created_at),
            last_used_at: secs_opt(self.last_used_at),
            expires_at: secs_opt(self.expires_at),
            locked_until: secs_opt(self.locked_until),
            ..self.clone()
        }
    }
}

impl Stored for SignInFlow {
    fn stored(&self) -> Self {
        SignInFlow {
            created_at: secs(self.created_at),
            expires_at: secs(self.expires_at),
            ..self.clone()
        }
    }
}

impl Stored for Session {
    fn stored(&self) -> Self {
        Session {
            created_at: secs(self.created_at),
            expires_at: secs(self.expires_at),
            last_seen_at: secs(self.last_seen_at),
            second_factor_at: secs_opt(self.second_factor_at),
            ..self.clone()
        }
    }
}

impl Stored for AuditEvent {
    fn stored(&self) -> Self {
        AuditEvent {
            at: secs(self.at),
            ..self.clone()
        }
    }
}

impl Stored for SentChallenge {
    fn stored(&self) -> Self {
        SentChallenge {
            created_at: secs(self.created_at),
            expires_at: secs(self.expires_at),
            resend_after: secs(self.resend_after),
            ..self.clone()
        }
    }
}

impl Stored for Message {
    fn stored(&self) -> Self {
        Message {
            next_attempt_at: secs(self.next_attempt_at),
            created_at: secs(self.created_at),
            sent_at: secs_opt(self.sent_at),
            ..self.clone()
        }
    }
}

impl Stored for Device {
    fn stored(&self) -> Self {
        Device {
            activation_expires_at: secs(self.activation_expires_at),
            activated_at: secs_opt(self.activated_at),
            ..self.clone()
        }
    }
}

impl Stored for PushRequest {
    fn stored(&self) -> Self {
        PushRequest {
            created_at: secs(self.created_at),
            expires_at: secs(self.expires_at),
            answered_at: secs_opt(self.answered_at),
            ..self.clone()
        }
    }
}

impl Stored for Ceremony {
    fn stored(&self) -> Self {
        Ceremony {
            created_at: secs(self.created_at),
            expires_at: secs(self.expires_at),
            ..self.clone()
        }
    }
}

impl Stored for SecurityKeyCredential {
    fn stored(&self) -> Self {
        SecurityKeyCredential {
            created_at: secs(self.created_at),
            ..self.clone()
        }
    }
}

impl Stored for ResetFlow {
    fn stored(&self) -> Self {
        ResetFlow {
            created_at: secs(self.created_at),
            expires_at: secs(self.expires_at),
            ..self.clone()
        }
    }
}

impl Stored for CustomQuestion {
    fn stored(&self) -> Self {
        CustomQuestion {
            created_at: secs(self.created_at),
            ..self.clone()
        }
    }
}

impl Stored for AppPassword {
    fn stored(&self) -> Self {
        AppPassword {
            created_at: secs(self.created_at),
            last_used_at: secs_opt(self.last_used_at),
            ..self.clone()
        }
    }
}

impl Stored for ServiceCredential {
    fn stored(&self) -> Self {
        ServiceCredential {
            created_at: secs(self.created_at),
            last_used_at: secs_opt(self.last_used_at),
            revoked_at: secs_opt(self.revoked_at),
            ..self.clone()
        }
    }
}

impl Stored for HardwareToken {
    fn stored(&self) -> Self {
        HardwareToken {
            imported_at: secs(self.imported_at),
            ..self.clone()
        }
    }
}

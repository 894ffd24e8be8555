//! The registration interrupt as a guided wizard: which step comes next, and "step 2 of 3".
//!
//! The step count comes from what the policy needs at the start of the interrupt: a sign-in
//! method (which also counts as one reset gate where a kind can be both) and the reset gates
//! still missing, plus one recommended backup when the person would otherwise end with a
//! single method. A method that meets no outstanding need (an email while a sign-in method is
//! missing) moves no step forward: the page says why instead.
//!
//! ```text
//!   SignIn ──► Reset (×N) ──► Backup (recommended, skippable) ──► Done
//! ```

use crate::flow::needs::Needs;
use crate::method::{Kind, Method};
use crate::policy::Policy;

/// What the wizard asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A method that can serve as the second factor at sign-in.
    SignIn,
    /// One more method for password reset, which the policy requires.
    Reset,
    /// A second method the policy recommends; the person may skip it.
    Backup,
    /// Nothing left: the success page.
    Done,
}

/// Where the person stands: `step`, shown as step `current` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wizard {
    pub step: Step,
    pub current: u32,
    pub total: u32,
}

/// How many methods meet `needs`: one for sign-in, then the reset gates that one does not
/// already cover.
fn methods_for(needs: Needs, sign_in_also_resets: bool) -> u32 {
    if needs.sign_in {
        1 + needs
            .reset_missing
            .saturating_sub(u32::from(sign_in_also_resets))
    } else {
        needs.reset_missing
    }
}

impl Wizard {
    /// The wizard of someone who had `before` when the interrupt began and has `now`.
    pub fn plan(
        policy: &Policy,
        before: &[Method],
        now: &[Method],
        can_register: &dyn Fn(Kind) -> bool,
    ) -> Wizard {
        let sign_in_also_resets = Kind::ALL
            .into_iter()
            .any(|k| can_register(k) && policy.allows_mfa(k) && policy.allows_reset(k));
        let counted = |methods: &[Method]| {
            methods
                .iter()
                .filter(|m| m.is_active() && policy.allows_kind(m.kind))
                .count() as u32
        };
        let needs_before = Needs::of(policy, before, can_register);
        let needs = Needs::of(policy, now, can_register);
        let required = methods_for(needs_before, sign_in_also_resets);
        let backup_possible = policy.recommend_backup_method
            && Kind::ALL
                .into_iter()
                .any(|k| can_register(k) && policy.allows_kind(k));
        let backup_planned = backup_possible && counted(before) + required < 2;
        let total = required + u32::from(backup_planned);

        let required_left = methods_for(needs, sign_in_also_resets);
        let backup_left = backup_planned && counted(now) + required_left < 2;
        let left = required_left + u32::from(backup_left);
        let step = if needs.sign_in {
            Step::SignIn
        } else if needs.reset_missing > 0 {
            Step::Reset
        } else if backup_left {
            Step::Backup
        } else {
            Step::Done
        };
        let total = total.max(1);
        Wizard {
            step,
            current: (total.saturating_sub(left) + 1).clamp(1, total),
            total,
        }
    }
}

/// What a step offers: the kinds it puts first, and the others "I want to set up a different
/// method" lists. Core decides; the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offers {
    pub featured: Vec<Kind>,
    pub others: Vec<Kind>,
}

impl Offers {
    pub fn includes(&self, kind: Kind) -> bool {
        self.featured.contains(&kind) || self.others.contains(&kind)
    }
}

impl Step {
    /// Whether `kind` can be set up on this step.
    pub fn fits(self, policy: &Policy, kind: Kind, can_register: &dyn Fn(Kind) -> bool) -> bool {
        can_register(kind)
            && match self {
                Step::SignIn => policy.allows_mfa(kind),
                Step::Reset => policy.allows_reset(kind),
                Step::Backup | Step::Done => policy.allows_kind(kind),
            }
    }

    /// The step's offers: for sign-in, the authenticator app (or, failing that, any app that
    /// shows codes, else the first sign-in kind); a phone or recovery codes after it.
    pub fn offers(self, policy: &Policy, can_register: &dyn Fn(Kind) -> bool) -> Offers {
        let fits: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| self.fits(policy, *k, can_register))
            .collect();
        let featured: Vec<Kind> = match self {
            Step::SignIn => fits.first().copied().into_iter().collect(),
            Step::Reset | Step::Backup => {
                let preferred: Vec<Kind> = [Kind::PhoneMobile, Kind::RecoveryCodes]
                    .into_iter()
                    .filter(|k| fits.contains(k))
                    .collect();
                if preferred.is_empty() {
                    fits.clone()
                } else {
                    preferred
                }
            }
            Step::Done => Vec::new(),
        };
        let others = fits.into_iter().filter(|k| !featured.contains(k)).collect();
        Offers { featured, others }
    }

    /// Why a method of `kind`, just added, did not move this step on: the step it does not
    /// serve. `None` when it counts (or the step has nothing to say).
    pub fn not_served_by(self, policy: &Policy, kind: Kind) -> Option<Step> {
        match self {
            Step::SignIn if !policy.allows_mfa(kind) => Some(Step::SignIn),
            Step::Reset if !policy.allows_reset(kind) => Some(Step::Reset),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::MethodStatus;

    fn active(kind: Kind) -> Method {
        crate::flow::needs::tests::method(kind, MethodStatus::Active)
    }

    fn at(step: Step, current: u32, total: u32) -> Wizard {
        Wizard {
            step,
            current,
            total,
        }
    }

    #[test]
    fn a_new_person_sets_up_the_app_then_is_offered_a_backup() {
        let all = |_: Kind| true;
        let policy = Policy::default();
        let plan = |now: &[Method]| Wizard::plan(&policy, &[], now, &all);
        assert_eq!(plan(&[]), at(Step::SignIn, 1, 2));
        let app = active(Kind::AuthenticatorApp);
        assert_eq!(plan(std::slice::from_ref(&app)), at(Step::Backup, 2, 2));
        let phone = active(Kind::PhoneMobile);
        assert_eq!(plan(&[app, phone]), at(Step::Done, 2, 2));

        let no_backup = Policy {
            recommend_backup_method: false,
            ..Policy::default()
        };
        let app = active(Kind::AuthenticatorCode);
        assert_eq!(
            Wizard::plan(&no_backup, &[], &[], &all),
            at(Step::SignIn, 1, 1)
        );
        assert_eq!(
            Wizard::plan(&no_backup, &[], &[app], &all),
            at(Step::Done, 1, 1)
        );
    }

    #[test]
    fn a_second_reset_method_is_a_required_step() {
        let all = |_: Kind| true;
        let policy = Policy {
            reset_methods_required: 2,
            ..Policy::default()
        };
        let plan = |now: &[Method]| Wizard::plan(&policy, &[], now, &all);
        assert_eq!(plan(&[]), at(Step::SignIn, 1, 2));
        let app = active(Kind::AuthenticatorApp);
        assert_eq!(plan(std::slice::from_ref(&app)), at(Step::Reset, 2, 2));
        let codes = active(Kind::RecoveryCodes);
        assert_eq!(plan(&[app, codes]), at(Step::Done, 2, 2));

        // An email first counts as a reset gate, not for sign-in: the sign-in step is last.
        let email = active(Kind::Email);
        assert_eq!(plan(std::slice::from_ref(&email)), at(Step::SignIn, 2, 2));
    }

    #[test]
    fn a_method_that_meets_no_need_moves_no_step() {
        let all = |_: Kind| true;
        let policy = Policy::default();
        let email = active(Kind::Email);
        // The email already is the second method: no backup after the sign-in method.
        assert_eq!(
            Wizard::plan(&policy, &[], std::slice::from_ref(&email), &all),
            at(Step::SignIn, 2, 2)
        );
        // Someone who already had an email counts it from the start.
        assert_eq!(
            Wizard::plan(
                &policy,
                std::slice::from_ref(&email),
                std::slice::from_ref(&email),
                &all
            ),
            at(Step::SignIn, 1, 1)
        );
        // Where only the app is allowed, a second one is the backup.
        let only_app = Policy {
            mfa_kinds: vec![Kind::AuthenticatorApp],
            reset_kinds: vec![Kind::AuthenticatorApp],
            ..Policy::default()
        };
        let app = active(Kind::AuthenticatorApp);
        assert_eq!(
            Wizard::plan(&only_app, &[], &[app], &all),
            at(Step::Backup, 2, 2)
        );
    }

    #[test]
    fn each_step_offers_what_the_policy_allows_for_it() {
        let all = |_: Kind| true;
        let policy = Policy::default();
        let sign_in = Step::SignIn.offers(&policy, &all);
        assert_eq!(sign_in.featured, vec![Kind::AuthenticatorApp]);
        assert!(sign_in.others.contains(&Kind::AuthenticatorCode));
        assert!(!sign_in.includes(Kind::Email), "email never signs in");

        let reset = Step::Reset.offers(&policy, &all);
        assert_eq!(reset.featured, vec![Kind::PhoneMobile, Kind::RecoveryCodes]);
        assert!(!reset.others.contains(&Kind::PhoneMobile));

        let no_app = |k: Kind| k != Kind::AuthenticatorApp;
        assert_eq!(
            Step::SignIn.offers(&policy, &no_app).featured,
            vec![Kind::AuthenticatorCode]
        );
        assert_eq!(
            Step::Done.offers(&policy, &all).featured,
            Vec::<Kind>::new()
        );

        assert_eq!(
            Step::SignIn.not_served_by(&policy, Kind::Email),
            Some(Step::SignIn)
        );
        assert_eq!(Step::SignIn.not_served_by(&policy, Kind::PhoneMobile), None);
    }
}

//! The flows' branching on a fake directory: who is asked, what each answer becomes, and that
//! a refused or failed write changes nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use crate::account::{AccountSource, AccountStatus, DIRECTORY_PASSWORD_HASH};
use crate::audit::AuditAction;
use crate::directory::{ChangeFailure, Directory, DirectoryError, DirectoryPerson};
use crate::error::{Error, Problem};
use crate::flow::SignInOutcome;
use crate::flow::tests::{PASSWORD, World};
use crate::method::Response;
use crate::store::admin::{AuditFilter, AuditPage};

/// A directory of people with passwords, that can be down or refuse every new password.
#[derive(Default)]
struct FakeDirectory {
    people: Mutex<BTreeMap<String, (String, DirectoryPerson)>>,
    down: Mutex<bool>,
    /// The reason every write is refused with, when set.
    refuse_writes: Mutex<Option<String>>,
    /// The reason every bind is refused with (a locked entry), when set.
    refuse_binds: Mutex<Option<String>>,
    /// Stops answering right after a person's bind succeeded (mid-change).
    down_after_bind: Mutex<bool>,
    asked: Mutex<u32>,
}

impl FakeDirectory {
    fn add(&self, username: &str, password: &str, disabled: bool) {
        let person = DirectoryPerson {
            dn: format!("uid={username},ou=people,dc=example,dc=org"),
            username: username.into(),
            external_id: Some(format!("uuid-{username}")),
            display_name: Some(format!("{username} Example")),
            mail: None,
            mobile: None,
            telephone: None,
            groups: vec!["staff".into(), "vpn".into()],
            disabled,
        };
        self.people
            .lock()
            .unwrap()
            .insert(username.into(), (password.into(), person));
    }

    fn password_of(&self, username: &str) -> String {
        self.people.lock().unwrap()[username].0.clone()
    }

    fn gate(&self) -> Result<(), DirectoryError> {
        *self.asked.lock().unwrap() += 1;
        if *self.down.lock().unwrap() {
            return Err(DirectoryError::Unavailable("connection refused".into()));
        }
        Ok(())
    }

    fn bind(&self, username: &str, password: &str) -> Result<DirectoryPerson, DirectoryError> {
        self.gate()?;
        if let Some(reason) = self.refuse_binds.lock().unwrap().clone() {
            return Err(DirectoryError::Refused { reason });
        }
        let people = self.people.lock().unwrap();
        let (right, person) = people.get(username).ok_or(DirectoryError::NotFound)?;
        if password.is_empty() || password != right {
            return Err(DirectoryError::InvalidCredentials);
        }
        Ok(person.clone())
    }

    fn write(&self, username: &str, new: &str) -> Result<(), DirectoryError> {
        if let Some(reason) = self.refuse_writes.lock().unwrap().clone() {
            return Err(DirectoryError::Refused { reason });
        }
        let mut people = self.people.lock().unwrap();
        let entry = people.get_mut(username).ok_or(DirectoryError::NotFound)?;
        entry.0 = new.into();
        Ok(())
    }
}

#[async_trait::async_trait]
impl Directory for FakeDirectory {
    async fn find(&self, username: &str) -> Result<DirectoryPerson, DirectoryError> {
        self.gate()?;
        let people = self.people.lock().unwrap();
        people
            .get(username)
            .map(|(_, p)| p.clone())
            .ok_or(DirectoryError::NotFound)
    }

    async fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<DirectoryPerson, DirectoryError> {
        self.bind(username, password)
    }

    async fn reset_password(&self, username: &str, new: &str) -> Result<(), DirectoryError> {
        self.gate()?;
        self.write(username, new)
    }

    async fn change_password(
        &self,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<(), ChangeFailure> {
        self.bind(username, current)?;
        if *self.down_after_bind.lock().unwrap() {
            let down = DirectoryError::Unavailable("connection reset".into());
            return Err(ChangeFailure::after_bind(down));
        }
        self.write(username, new).map_err(ChangeFailure::after_bind)
    }

    async fn people(&self) -> Result<Vec<DirectoryPerson>, DirectoryError> {
        self.gate()?;
        let people = self.people.lock().unwrap();
        Ok(people.values().map(|(_, p)| p.clone()).collect())
    }

    async fn ping(&self) -> Result<(), DirectoryError> {
        self.gate()
    }
}

async fn world() -> (World, Arc<FakeDirectory>) {
    let w = World::new().await;
    let directory = Arc::new(FakeDirectory::default());
    w.t.set_directory(directory.clone());
    (w, directory)
}

async fn audited(w: &World, action: AuditAction) -> usize {
    let filter = AuditFilter {
        action: Some(action),
        ..AuditFilter::default()
    };
    w.t.store()
        .audit_page(&filter, AuditPage::NewestFirst { before: None }, 1000)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_first_sign_in_creates_the_account_and_asks_for_security_info() {
    let (w, directory) = world().await;
    directory.add("dora", PASSWORD, false);
    let outcome = w.sign_in("Dora").await.unwrap();
    assert!(
        matches!(outcome, SignInOutcome::RegistrationRequired { .. }),
        "{outcome:?}"
    );
    let account =
        w.t.store()
            .account_by_username("dora")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(account.source, AccountSource::Directory);
    assert_eq!(account.external_id.as_deref(), Some("uuid-dora"));
    assert_eq!(account.display_name, "dora Example");
    assert_eq!(account.password_hash, DIRECTORY_PASSWORD_HASH);
    assert_eq!(
        w.t.store().account_groups(account.id).await.unwrap(),
        ["staff", "vpn"]
    );
    assert_eq!(
        audited(&w, AuditAction::AccountCreatedFromDirectory).await,
        1
    );
    // The second sign-in finds the same account.
    w.sign_in("dora").await.unwrap();
    assert_eq!(
        audited(&w, AuditAction::AccountCreatedFromDirectory).await,
        1
    );
    assert_eq!(w.t.store().directory_accounts().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_name_are_the_same_counted_failure() {
    let (w, directory) = world().await;
    directory.add("dora", PASSWORD, false);
    for (name, password) in [("dora", "not it"), ("nobody", PASSWORD), ("a b", PASSWORD)] {
        assert!(
            matches!(
                w.sign_in_with(name, password).await,
                Err(Error::InvalidCredentials)
            ),
            "{name}"
        );
    }
    assert_eq!(audited(&w, AuditAction::SignInPasswordFailed).await, 3);
    assert!(w.t.store().directory_accounts().await.unwrap().is_empty());
    // Counted like local guesses: the tenth failure in a row earns a wait.
    for _ in 0..9 {
        let _ = w.sign_in_with("dora", "not it").await;
    }
    assert!(matches!(
        w.sign_in("dora").await,
        Err(Error::RateLimited { .. })
    ));
}

#[tokio::test]
async fn a_local_account_wins_and_keeps_working_while_the_directory_is_down() {
    let (w, directory) = world().await;
    w.create("root").await;
    directory.add("root", "the directory's password", false);
    *directory.down.lock().unwrap() = true;
    assert!(w.sign_in("root").await.is_ok(), "the local password");
    assert!(matches!(
        w.sign_in_with("root", "the directory's password").await,
        Err(Error::InvalidCredentials)
    ));
    assert_eq!(*directory.asked.lock().unwrap(), 0, "never asked");
    let root =
        w.t.store()
            .account_by_username("root")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(root.source, AccountSource::Local);
}

#[tokio::test]
async fn an_outage_says_try_again_later_and_a_refusal_says_why() {
    let (w, directory) = world().await;
    directory.add("dora", PASSWORD, false);
    *directory.down.lock().unwrap() = true;
    assert!(matches!(
        w.sign_in("dora").await,
        Err(Error::DirectoryUnavailable { .. })
    ));
    assert_eq!(audited(&w, AuditAction::SignInPasswordFailed).await, 0);
    *directory.down.lock().unwrap() = false;
    *directory.refuse_binds.lock().unwrap() = Some("49: Account locked".into());
    match w.sign_in("dora").await {
        Err(Error::DirectoryRefused { reason }) => assert_eq!(reason, "49: Account locked"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(audited(&w, AuditAction::SignInRefusedByDirectory).await, 1);
    assert!(w.t.store().directory_accounts().await.unwrap().is_empty());
}

#[tokio::test]
async fn disabled_in_the_directory_or_in_tessera_is_refused_as_a_wrong_password() {
    let (w, directory) = world().await;
    directory.add("eve", PASSWORD, true);
    assert!(matches!(
        w.sign_in("eve").await,
        Err(Error::InvalidCredentials)
    ));
    assert!(w.t.store().directory_accounts().await.unwrap().is_empty());

    directory.add("dora", PASSWORD, false);
    w.sign_in("dora").await.unwrap();
    let mut dora =
        w.t.store()
            .account_by_username("dora")
            .await
            .unwrap()
            .unwrap();
    dora.status = AccountStatus::Disabled;
    w.t.store().update_account(&dora, None).await.unwrap();
    assert!(matches!(
        w.sign_in("dora").await,
        Err(Error::InvalidCredentials)
    ));
    let after = w.t.store().account(dora.id).await.unwrap().unwrap();
    assert_eq!(after.status, AccountStatus::Disabled, "stays disabled");
}

/// A directory person with an authenticator code: its id and a full session's token.
async fn signed_up(w: &World, username: &str) -> (crate::flow::tests::Totp, Zeroizing<String>) {
    let (flow, auth) = w.registering(username).await;
    let totp = w.add_totp(&auth).await;
    let token = w.finish_registration(flow, &auth).await;
    w.next_step();
    (totp, token)
}

#[tokio::test]
async fn a_change_is_written_to_the_directory_and_a_refusal_changes_nothing() {
    let (w, directory) = world().await;
    directory.add("dora", PASSWORD, false);
    let (totp, token) = signed_up(&w, "dora").await;
    let other = signed_up_again(&w, "dora", &totp).await;
    let auth = w.auth(&token).await;
    let change = |current: &str, new: &str| {
        let (current, new) = (current.to_string(), new.to_string());
        let auth = auth.clone();
        let w = &w;
        async move {
            w.t.change_password(&auth, Zeroizing::new(current), Zeroizing::new(new), &w.ctx)
                .await
        }
    };

    *directory.refuse_writes.lock().unwrap() = Some("19: Password is in history".into());
    assert!(matches!(
        change(PASSWORD, "a new long passphrase").await,
        Err(Error::DirectoryRefused { .. })
    ));
    assert_eq!(directory.password_of("dora"), PASSWORD);
    assert!(w.t.authenticate(&other).await.is_ok(), "no session ended");
    assert_eq!(audited(&w, AuditAction::PasswordChangeRefused).await, 1);

    *directory.refuse_writes.lock().unwrap() = None;
    assert!(matches!(
        change("not it", "a new long passphrase").await,
        Err(Error::BadRequest {
            field: "current_password",
            problem: Problem::Invalid
        })
    ));
    *directory.down.lock().unwrap() = true;
    assert!(matches!(
        change(PASSWORD, "a new long passphrase").await,
        Err(Error::DirectoryUnavailable { .. })
    ));
    *directory.down.lock().unwrap() = false;
    change(PASSWORD, "a new long passphrase").await.unwrap();
    assert_eq!(directory.password_of("dora"), "a new long passphrase");
    assert!(
        w.t.authenticate(&other).await.is_err(),
        "other sessions end"
    );
    assert!(w.t.authenticate(&token).await.is_ok(), "this one stays");
    let dora =
        w.t.store()
            .account_by_username("dora")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        dora.password_hash, DIRECTORY_PASSWORD_HASH,
        "no hash stored"
    );
}

/// Another full session of a person who has an authenticator code.
async fn signed_up_again(
    w: &World,
    username: &str,
    totp: &crate::flow::tests::Totp,
) -> Zeroizing<String> {
    let flow = w.mfa(username).await;
    let session =
        w.t.sign_in_verify(flow, totp.id, &w.code(totp), &w.ctx)
            .await
            .unwrap();
    w.next_step();
    session.token
}

#[tokio::test]
async fn a_reset_writes_last_and_a_refusal_leaves_it_open_with_nothing_changed() {
    let (w, directory) = world().await;
    directory.add("dora", PASSWORD, false);
    let (totp, token) = signed_up(&w, "dora").await;
    let view = w.t.reset_begin("dora", &w.ctx).await.unwrap();
    w.t.reset_respond(view.flow, totp.id, &Response::Code(w.code(&totp)), &w.ctx)
        .await
        .unwrap();
    let reset = |new: &str| {
        let new = new.to_string();
        let w = &w;
        async move {
            w.t.reset_password(view.flow, Zeroizing::new(new), &w.ctx)
                .await
        }
    };
    // Tessera's own checks come first: the directory is not asked for a banned password.
    let asked = *directory.asked.lock().unwrap();
    assert!(matches!(
        reset("password").await,
        Err(Error::BadRequest { .. })
    ));
    assert_eq!(*directory.asked.lock().unwrap(), asked);

    *directory.refuse_writes.lock().unwrap() = Some("19: Password is in history".into());
    match reset("a new long passphrase").await {
        Err(Error::DirectoryRefused { reason }) => assert!(reason.contains("history")),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(directory.password_of("dora"), PASSWORD);
    assert!(w.t.authenticate(&token).await.is_ok(), "no session ended");
    assert!(w.t.reset_view(view.flow).await.is_ok(), "still open");
    assert_eq!(audited(&w, AuditAction::PasswordResetRefused).await, 1);
    assert_eq!(audited(&w, AuditAction::PasswordReset).await, 0);

    *directory.refuse_writes.lock().unwrap() = None;
    *directory.down.lock().unwrap() = true;
    assert!(matches!(
        reset("a new long passphrase").await,
        Err(Error::DirectoryUnavailable { .. })
    ));
    *directory.down.lock().unwrap() = false;
    reset("a new long passphrase").await.unwrap();
    assert_eq!(directory.password_of("dora"), "a new long passphrase");
    assert!(
        w.t.authenticate(&token).await.is_err(),
        "every session ends"
    );
    assert_eq!(audited(&w, AuditAction::PasswordReset).await, 1);
    let dora =
        w.t.store()
            .account_by_username("dora")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        dora.password_hash, DIRECTORY_PASSWORD_HASH,
        "no hash stored"
    );
}

#[tokio::test]
async fn an_app_password_is_tried_before_the_directory_so_it_costs_no_wrong_bind() {
    let (w, directory) = world().await;
    w.policy(&[("app_passwords_allowed", "true")]).await;
    directory.add("dora", PASSWORD, false);
    let (_, token) = signed_up(&w, "dora").await;
    let auth = w.auth(&token).await;
    let proof = w.t.step_up_proof(&auth).await.unwrap();
    let app =
        w.t.create_app_password(&auth, "VPN", proof, &w.ctx)
            .await
            .unwrap();
    let asked = *directory.asked.lock().unwrap();
    let proof =
        w.t.check_sign_in_password("dora", app.password.clone(), &w.ctx, true)
            .await
            .unwrap();
    assert!(matches!(
        proof,
        crate::flow::sign_in::PasswordProof::AppPassword(_)
    ));
    assert_eq!(*directory.asked.lock().unwrap(), asked, "no bind");
    // Where app passwords are not accepted, it is only a wrong password for the directory.
    assert!(matches!(
        w.t.check_sign_in_password("dora", app.password, &w.ctx, false)
            .await,
        Err(Error::InvalidCredentials)
    ));
}

#[tokio::test]
async fn an_admin_cannot_set_a_directory_accounts_password() {
    let (w, directory) = world().await;
    directory.add("dora", PASSWORD, false);
    w.sign_in("dora").await.unwrap();
    let dora =
        w.t.store()
            .account_by_username("dora")
            .await
            .unwrap()
            .unwrap();
    assert!(matches!(
        w.t.local_admin()
            .set_temporary_password(dora.id, None)
            .await,
        Err(Error::NotAllowed(
            crate::error::NotAllowed::DirectoryPassword
        ))
    ));
    let after = w.t.store().account(dora.id).await.unwrap().unwrap();
    assert_eq!(after.password_hash, DIRECTORY_PASSWORD_HASH);
}

#[tokio::test]
async fn refusals_of_a_new_password_after_the_right_current_one_are_no_wrong_guesses() {
    let (w, directory) = world().await;
    directory.add("dora", PASSWORD, false);
    let (_, token) = signed_up(&w, "dora").await;
    let auth = w.auth(&token).await;
    let change = |new: &str| {
        let new = new.to_string();
        let auth = auth.clone();
        let w = &w;
        async move {
            w.t.change_password(
                &auth,
                Zeroizing::new(PASSWORD.to_string()),
                Zeroizing::new(new),
                &w.ctx,
            )
            .await
        }
    };
    // More than the free failures: counted, the eleventh would wait.
    *directory.refuse_writes.lock().unwrap() = Some("19: Password is in history".into());
    for n in 0..12 {
        let answer = change("a new long passphrase").await;
        assert!(
            matches!(answer, Err(Error::DirectoryRefused { .. })),
            "{n}: {answer:?}"
        );
    }
    *directory.refuse_writes.lock().unwrap() = None;
    *directory.down_after_bind.lock().unwrap() = true;
    for n in 0..12 {
        let answer = change("a new long passphrase").await;
        assert!(
            matches!(answer, Err(Error::DirectoryUnavailable { .. })),
            "{n}: {answer:?}"
        );
    }
    *directory.down_after_bind.lock().unwrap() = false;
    assert_eq!(directory.password_of("dora"), PASSWORD);
    w.sign_in("dora").await.unwrap();
}

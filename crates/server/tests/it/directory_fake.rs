//! A stand-in for the organization's directory, handed to Tessera as the LDAP client would
//! be (`Tessera::set_directory`): for tests about what Tessera does with the groups and
//! attributes a directory reports, which need it to go down on cue. Binding to a real slapd
//! is `directory_slapd`'s.

use crate::common::{Harness, PASSWORD};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tessera_core::directory::{ChangeFailure, Directory, DirectoryError, DirectoryPerson};

/// A directory that knows a few people, all with the harness's password, and can go down.
#[derive(Default)]
pub struct FakeDirectory {
    people: Mutex<Vec<DirectoryPerson>>,
    down: AtomicBool,
}

impl FakeDirectory {
    fn person(&self, username: &str) -> Result<DirectoryPerson, DirectoryError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(DirectoryError::Unavailable("stopped by the test".into()));
        }
        self.people
            .lock()
            .unwrap()
            .iter()
            .find(|p| p.username == username)
            .cloned()
            .ok_or(DirectoryError::NotFound)
    }

    pub fn add(&self, person: DirectoryPerson) {
        self.people.lock().unwrap().push(person);
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl Directory for FakeDirectory {
    async fn find(&self, username: &str) -> Result<DirectoryPerson, DirectoryError> {
        self.person(username)
    }

    async fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<DirectoryPerson, DirectoryError> {
        let person = self.person(username)?;
        match password == PASSWORD {
            true => Ok(person),
            false => Err(DirectoryError::InvalidCredentials),
        }
    }

    async fn reset_password(&self, username: &str, _new: &str) -> Result<(), DirectoryError> {
        self.person(username).map(|_| ())
    }

    async fn change_password(
        &self,
        username: &str,
        _current: &str,
        _new: &str,
    ) -> Result<(), ChangeFailure> {
        Ok(self.person(username).map(|_| ())?)
    }

    async fn people(&self) -> Result<Vec<DirectoryPerson>, DirectoryError> {
        self.ping().await?;
        Ok(self.people.lock().unwrap().clone())
    }

    async fn ping(&self) -> Result<(), DirectoryError> {
        match self.down.load(Ordering::SeqCst) {
            true => Err(DirectoryError::Unavailable("stopped by the test".into())),
            false => Ok(()),
        }
    }
}

/// A directory entry for `username` in `groups`, without contact info.
pub fn entry(username: &str, groups: &[&str]) -> DirectoryPerson {
    DirectoryPerson {
        dn: format!("uid={username},ou=people,dc=example,dc=org"),
        username: username.into(),
        external_id: Some(uuid::Uuid::new_v4().to_string()),
        display_name: Some(format!("{username} (directory)")),
        mail: None,
        mobile: None,
        telephone: None,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        disabled: false,
    }
}

/// Connects a new fake directory holding `people` to the harness's server.
pub fn directory(h: &Harness, people: Vec<DirectoryPerson>) -> Arc<FakeDirectory> {
    let dir = Arc::new(FakeDirectory::default());
    for p in people {
        dir.add(p);
    }
    h.tessera().set_directory(dir.clone());
    dir
}

/// A directory person's first sign-in, through the registration interrupt with an
/// authenticator code: (session token, secret).
pub async fn enrolled(h: &Harness, username: &str) -> (String, String) {
    let c = h.client();
    let body = h.api_sign_in(&c, username).await;
    assert_eq!(body["status"], "registration_required", "{body}");
    let token = body["session"].as_str().unwrap().to_string();
    let flow = body["flow"].as_str().unwrap().to_string();
    let (id, secret) = h.add_code_method(&c, &token).await;
    let (status, body) = h
        .post(
            &c,
            &format!("/api/v1/me/security-info/methods/{id}/verify"),
            Some(&token),
            json!({"code": h.code(&secret, 0)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = h
        .get(&c, &format!("/api/v1/sign-in/{flow}"), Some(&token))
        .await;
    assert_eq!(body["status"], "signed_in", "{body}");
    h.advance(30);
    (body["session"].as_str().unwrap().to_string(), secret)
}

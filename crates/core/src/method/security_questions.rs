//! `security_questions`: a password-reset gate only, never a sign-in factor, and off in the
//! default policy: NIST SP 800-63B (§5.1.1.2) and OWASP ASVS 5.0 (6.4.2) advise against
//! them, since answers are often public or guessable. An admin may turn them on knowingly.
//!
//! The person answers the policy's N questions (3 to 5), picked from the built-in list and the
//! admin's own, each once; every answer has at least 3 characters and differs from the
//! others. Answers are normalized (Unicode NFKC, case folded, spaces collapsed) and stored as
//! Argon2id hashes, like passwords. A reset asks M of them at random; all must match.
//!
//! Question texts live in the translation catalog (`question-<id>` for built-in ids) or, for
//! the admin's, in the store with a text per language; core deals in ids.

use super::{Challenge, Kind, Method, MethodData, MethodStatus, Purpose, Verified};
use crate::admin::Admin;
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, NotAllowed, Problem, Result};
use crate::flow::StepUpProof;
use crate::ids::{FlowId, MethodId};
use crate::message::SecurityEvent;
use crate::password::PasswordHasher;
use crate::policy::Policy;
use crate::random::{self, Random};
use crate::service::{Auth, Tessera};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use time::OffsetDateTime;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// The built-in questions, in our own wording (translations: `question-<id>`).
pub const BUILTIN: [&str; 24] = [
    "first-school",
    "childhood-street",
    "first-pet",
    "first-concert",
    "childhood-hero",
    "first-vehicle",
    "grandparent-town",
    "first-job-city",
    "favourite-teacher",
    "first-book",
    "childhood-toy",
    "first-trip-abroad",
    "childhood-nickname",
    "first-phone",
    "oldest-cousin",
    "first-manager",
    "dream-job",
    "first-film",
    "school-friend",
    "parents-met",
    "first-sport",
    "first-dish",
    "first-album",
    "childhood-neighbours",
];

pub const ANSWER_MIN: usize = 3;
pub const ANSWER_MAX: usize = 128;
pub const QUESTION_MAX: usize = 200;

/// One stored answer: the question's id and the Argon2id PHC string of the normalized answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub question: String,
    pub hash: String,
}

/// A question an admin added, with its text per language (`en`, `nl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomQuestion {
    pub id: String,
    pub texts: BTreeMap<String, String>,
    pub created_at: OffsetDateTime,
    /// No longer offered; people who answered it keep their answer.
    pub retired: bool,
}

impl CustomQuestion {
    /// The text in `lang`, else English, else any.
    pub fn text(&self, lang: &str) -> &str {
        self.texts
            .get(lang)
            .or_else(|| self.texts.get("en"))
            .or_else(|| self.texts.values().next())
            .map_or("", String::as_str)
    }
}

pub fn is_builtin(id: &str) -> bool {
    BUILTIN.contains(&id)
}

/// The form an answer is compared in: NFKC, lowercased, inner runs of space collapsed and the
/// ends trimmed, so "  Rotterdam " and "ROTTERDAM" and the full-width "Ｒｏｔｔｅｒｄａｍ" match.
pub fn normalize_answer(raw: &str) -> String {
    let folded: String = raw.nfkc().collect::<String>().to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks a registration against the rules and the questions that exist; returns the pairs
/// with normalized answers, in the order given.
pub fn validate_answers(
    answers: &[(String, String)],
    expected: usize,
    known: &dyn Fn(&str) -> bool,
) -> Result<Vec<(String, Zeroizing<String>)>> {
    if answers.len() != expected {
        return Err(Error::bad("answers", Problem::WrongCount { expected }));
    }
    let mut questions = HashSet::new();
    let mut normalized_answers = HashSet::new();
    let mut out = Vec::with_capacity(answers.len());
    for (question, answer) in answers {
        let question = question.trim();
        if !known(question) {
            return Err(Error::bad("question", Problem::Invalid));
        }
        if !questions.insert(question.to_string()) {
            return Err(Error::bad("question", Problem::Duplicate));
        }
        let normalized = Zeroizing::new(normalize_answer(answer));
        let len = normalized.chars().count();
        if len < ANSWER_MIN {
            return Err(Error::bad("answer", Problem::TooShort { min: ANSWER_MIN }));
        }
        if len > ANSWER_MAX {
            return Err(Error::bad("answer", Problem::TooLong { max: ANSWER_MAX }));
        }
        if normalized.chars().any(char::is_control) {
            return Err(Error::bad("answer", Problem::Invalid));
        }
        if !normalized_answers.insert(normalized.to_string()) {
            return Err(Error::bad("answer", Problem::Duplicate));
        }
        out.push((question.to_string(), normalized));
    }
    Ok(out)
}

/// A new, active method holding the hashed answers (nothing to prove: the person just chose
/// them, after stepping up).
pub async fn register(
    answers: Vec<(String, Zeroizing<String>)>,
    account: crate::ids::AccountId,
    id: MethodId,
    now: OffsetDateTime,
    passwords: &dyn PasswordHasher,
) -> Result<Method> {
    let mut stored = Vec::with_capacity(answers.len());
    for (question, answer) in answers {
        stored.push(StoredAnswer {
            question,
            hash: passwords.hash(answer).await?,
        });
    }
    Ok(Method {
        id,
        account_id: account,
        kind: Kind::SecurityQuestions,
        status: MethodStatus::Active,
        name: None,
        data: MethodData::SecurityQuestions { answers: stored },
        sealed_secret: None,
        created_at: now,
        last_used_at: None,
        expires_at: None,
        last_step: None,
        failures: 0,
        locked_until: None,
        registered_by: None,
        way: None,
    })
}

/// The questions a method was registered with.
pub fn registered(method: &Method) -> Vec<&StoredAnswer> {
    match &method.data {
        MethodData::SecurityQuestions { answers } => answers.iter().collect(),
        _ => Vec::new(),
    }
}

/// `count` distinct ids drawn uniformly from `pool` (all of it when it is smaller).
pub fn pick<'a>(pool: &[&'a str], count: usize, rng: &dyn Random) -> Vec<&'a str> {
    let mut pool: Vec<&str> = pool.to_vec();
    let mut picked = Vec::with_capacity(count.min(pool.len()));
    while picked.len() < count && !pool.is_empty() {
        let i = random::below(rng, pool.len() as u32) as usize;
        picked.push(pool.swap_remove(i));
    }
    picked
}

/// Checks answers to the asked questions: every asked question answered, every answer right.
/// Each answer costs one Argon2id check, also when an earlier one was wrong, so the time
/// taken does not tell which was.
pub async fn verify(
    method: &Method,
    asked: &[String],
    given: &[(String, String)],
    passwords: &dyn PasswordHasher,
) -> bool {
    let stored = registered(method);
    let mut all_right = !asked.is_empty();
    for question in asked {
        let answer = given
            .iter()
            .find(|(q, _)| q.trim() == question)
            .map(|(_, a)| normalize_answer(a));
        let hash = stored
            .iter()
            .find(|s| &s.question == question)
            .map(|s| s.hash.clone());
        all_right &= answer.is_some() && hash.is_some();
        let check = passwords
            .verify(Zeroizing::new(answer.unwrap_or_default()), hash)
            .await;
        all_right &= matches!(check, crate::password::PasswordCheck::Match { .. });
    }
    all_right
}

/// The use cases: registering answers, asking and checking them, and the admin's questions.
impl Tessera {
    /// Every question a person may choose now: the built-in ones, then the admin's active ones.
    pub async fn question_pool(&self) -> Result<Vec<String>> {
        let custom = self.store.custom_questions().await?;
        Ok(BUILTIN
            .iter()
            .map(|q| q.to_string())
            .chain(custom.into_iter().filter(|q| !q.retired).map(|q| q.id))
            .collect())
    }

    /// Every question an admin added, retired ones too (their texts are still needed for
    /// people who answered them).
    pub async fn custom_questions(&self) -> Result<Vec<CustomQuestion>> {
        Ok(self.store.custom_questions().await?)
    }

    /// The person's security questions method, if they registered one.
    pub async fn security_questions_of(&self, auth: &Auth) -> Result<Option<Method>> {
        Ok(self
            .store
            .methods_of(auth.account.id)
            .await?
            .into_iter()
            .find(|m| m.kind == Kind::SecurityQuestions && m.is_active()))
    }

    /// Registers the person's answers (replacing earlier ones): the policy's number of
    /// questions, each once, answers of at least 3 characters, all different.
    pub async fn register_security_questions(
        &self,
        auth: &Auth,
        answers: &[(String, String)],
        proof: StepUpProof,
        ctx: &RequestContext,
    ) -> Result<Method> {
        proof.of(auth)?;
        let policy = self.policy().await?;
        if !policy.allows_reset(Kind::SecurityQuestions) {
            return Err(Error::NotAllowed(NotAllowed::KindNotAllowed));
        }
        let pool = self.question_pool().await?;
        let known = |q: &str| pool.iter().any(|p| p == q);
        let answers = validate_answers(
            answers,
            policy.security_questions_to_register as usize,
            &known,
        )?;
        let id = MethodId::new(self.rng.as_ref());
        let mut method = register(
            answers,
            auth.account.id,
            id,
            self.now(),
            self.passwords.as_ref(),
        )
        .await?;
        method.registered_by = Some(auth.session.id);
        let audit = self
            .audit(
                ctx,
                Some(auth.account.id),
                AuditAction::SecurityQuestionsRegistered,
            )
            .method(method.id)
            .detail(serde_json::json!({ "questions": registered(&method).len() }));
        let notes = self
            .notifications(&auth.account, &method, SecurityEvent::MethodAdded, ctx)
            .await?;
        self.store
            .replace_methods_of_kind(&method, &audit, &notes)
            .await?;
        Ok(method)
    }

    /// Asks the policy's number of the method's questions, at random; asked again in the same
    /// reset, the same ones (asking anew would let a guesser pick the easy ones).
    pub(crate) async fn ask_questions(&self, method: &Method, flow: FlowId) -> Result<Challenge> {
        let policy = self.policy().await?;
        let mine: Vec<&str> = registered(method)
            .into_iter()
            .map(|a| a.question.as_str())
            .collect();
        let picked: Vec<String> = pick(
            &mine,
            policy.security_questions_to_answer as usize,
            self.rng.as_ref(),
        )
        .into_iter()
        .map(str::to_string)
        .collect();
        let asked = self
            .store
            .ask_reset_questions(flow, method.id, &picked)
            .await?;
        let custom = self.store.custom_questions().await?;
        let mut challenge = Challenge::nothing_sent(method);
        challenge.questions = Some(
            asked
                .into_iter()
                .map(|q| {
                    let text = custom
                        .iter()
                        .find(|c| c.id == q)
                        .map_or_else(|| q.clone(), |c| c.text("en").to_string());
                    (q, text)
                })
                .collect(),
        );
        Ok(challenge)
    }

    pub(crate) async fn challenge_security_questions(
        &self,
        method: &Method,
        purpose: Purpose,
    ) -> Result<Challenge> {
        match purpose {
            Purpose::Reset(flow) => self.ask_questions(method, flow).await,
            _ => Err(Error::NotAllowed(NotAllowed::MethodNotUsable)),
        }
    }

    /// Checks answers to the questions this reset asked, under the lock-out rule.
    pub(crate) async fn check_security_questions(
        &self,
        method: &Method,
        purpose: Purpose,
        answers: &[(String, String)],
        ctx: &RequestContext,
        policy: &Policy,
    ) -> Result<Verified> {
        let Purpose::Reset(flow) = purpose else {
            return Err(Error::NotAllowed(NotAllowed::MethodNotUsable));
        };
        let flow = self.store.reset_flow(flow).await?.ok_or(Error::NotFound)?;
        let Some((_, asked)) = flow.asked.filter(|(m, _)| *m == method.id) else {
            return Err(Error::bad("answers", Problem::Required));
        };
        self.reserve_attempt_for(method, purpose.into(), ctx, policy)
            .await?;
        if verify(method, &asked, answers, self.passwords.as_ref()).await {
            Ok(Verified {
                step: None,
                reserved: true,
            })
        } else {
            Err(self
                .code_failed_for(
                    method,
                    purpose.into(),
                    ctx,
                    policy,
                    AuditAction::CodeRejected,
                )
                .await)
        }
    }
}

/// The admin's questions.
impl Admin<'_> {
    /// Adds a question with its text per language (`en` required).
    pub async fn add_security_question(
        &self,
        texts: BTreeMap<String, String>,
    ) -> Result<CustomQuestion> {
        let mut clean = BTreeMap::new();
        for (lang, text) in texts {
            let text = text.trim().to_string();
            if text.is_empty() {
                continue;
            }
            if text.chars().count() > QUESTION_MAX {
                return Err(Error::bad("text", Problem::TooLong { max: QUESTION_MAX }));
            }
            if text.chars().any(char::is_control) {
                return Err(Error::bad("text", Problem::Invalid));
            }
            let lang = lang.trim().to_ascii_lowercase();
            if lang.len() != 2 || !lang.chars().all(|c| c.is_ascii_lowercase()) {
                return Err(Error::bad("language", Problem::Invalid));
            }
            clean.insert(lang, text);
        }
        if !clean.contains_key("en") {
            return Err(Error::bad("en", Problem::Required));
        }
        let t = self.tessera();
        let question = CustomQuestion {
            id: format!("custom-{}", MethodId::new(t.rng.as_ref())),
            texts: clean,
            created_at: t.now(),
            retired: false,
        };
        let mut audit = self.audit(None, AuditAction::SecurityQuestionAdded);
        audit.detail["question"] = serde_json::json!(question.id);
        t.store.insert_custom_question(&question, &audit).await?;
        Ok(question)
    }

    /// Retires a question: nobody can choose it any more; answers given to it still count.
    pub async fn retire_security_question(&self, id: &str) -> Result<()> {
        let mut audit = self.audit(None, AuditAction::SecurityQuestionRemoved);
        audit.detail["question"] = serde_json::json!(id);
        if self
            .tessera()
            .store
            .retire_custom_question(id, &audit)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_normalized_by_compatibility_case_and_spaces() {
        assert_eq!(normalize_answer("  New   York "), "new york");
        assert_eq!(normalize_answer("ＲＯＴＴＥＲＤＡＭ"), "rotterdam");
        assert_eq!(normalize_answer("ﬁdo"), "fido");
        assert_eq!(normalize_answer("Émile"), normalize_answer("E\u{301}mile"));
    }

    #[test]
    fn registration_rules() {
        let known = |q: &str| is_builtin(q);
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(q, a)| (q.to_string(), a.to_string()))
                .collect()
        };
        let good = pairs(&[
            ("first-pet", "Fido"),
            ("first-school", "De Regenboog"),
            ("first-book", "Nijntje"),
        ]);
        assert!(validate_answers(&good, 3, &known).is_ok());
        let code = |r: Result<Vec<(String, Zeroizing<String>)>>| match r {
            Err(Error::BadRequest { field, problem }) => Some((field, problem)),
            _ => None,
        };
        assert_eq!(
            code(validate_answers(&good, 4, &known)),
            Some(("answers", Problem::WrongCount { expected: 4 }))
        );
        let twice = pairs(&[
            ("first-pet", "Fido"),
            ("first-pet", "Rex"),
            ("first-book", "Nijntje"),
        ]);
        assert_eq!(
            code(validate_answers(&twice, 3, &known)),
            Some(("question", Problem::Duplicate))
        );
        let same = pairs(&[
            ("first-pet", "Fido"),
            ("first-school", " FIDO "),
            ("first-book", "Nijntje"),
        ]);
        assert_eq!(
            code(validate_answers(&same, 3, &known)),
            Some(("answer", Problem::Duplicate))
        );
        let short = pairs(&[
            ("first-pet", "Fi"),
            ("first-school", "De Regenboog"),
            ("first-book", "Nijntje"),
        ]);
        assert_eq!(
            code(validate_answers(&short, 3, &known)),
            Some(("answer", Problem::TooShort { min: 3 }))
        );
        let unknown = pairs(&[
            ("nope", "Fido"),
            ("first-school", "De Regenboog"),
            ("first-book", "Nijntje"),
        ]);
        assert_eq!(
            code(validate_answers(&unknown, 3, &known)),
            Some(("question", Problem::Invalid))
        );
    }

    #[test]
    fn pick_draws_distinct_questions() {
        let pool = ["a", "b", "c", "d", "e"];
        let picked = pick(&pool, 3, &crate::random::OsRandom);
        assert_eq!(picked.len(), 3);
        let set: HashSet<&str> = picked.iter().copied().collect();
        assert_eq!(set.len(), 3);
        assert_eq!(pick(&pool, 9, &crate::random::OsRandom).len(), 5);
    }

    #[test]
    fn at_least_twenty_builtin_questions_with_unique_ids() {
        let set: HashSet<&str> = BUILTIN.iter().copied().collect();
        assert!(set.len() >= 20 && set.len() == BUILTIN.len());
    }
}
